"""Named presets per notebook: ``smoke`` (seconds, for tests), ``cpu`` (default) and ``paper``.

A preset is a named config of the chapter's config dataclass. The ratios (α, ρ, τ, p/d) stay the
same across presets; sizes, seed counts and step counts change. Each chapter's experiment module
holds its config class and a ``PRESETS`` dict; this module finds them by notebook stem.
"""

from __future__ import annotations

import dataclasses
import importlib

from .config import check_choice

PRESET_NAMES = ("smoke", "cpu", "paper")

#: notebook stem -> module holding ``PRESETS`` and ``apply_overrides``
SECTIONS = {
    "01_toy_2d": "softleak.experiments.toy2d",
    "02_modular_addition": "softleak.experiments.modular",
    "03_logistic_thresholds": "softleak.experiments.logistic",
    "04_multinomial_scaling": "softleak.experiments.multinomial",
    "05_relu_mlp_jumps": "softleak.experiments.relu_mlp",
    "06_gpt2": "softleak.experiments.gpt2",
}


def resolve(section: str, preset: str, **overrides):
    """The config of ``section`` at ``preset``, with overrides applied.

    Args:
        section: a notebook stem, e.g. ``"01_toy_2d"``.
        preset: ``"smoke"``, ``"cpu"`` or ``"paper"``.
        **overrides: fields to replace; ``None`` values keep the preset's (papermill-friendly).

    Raises:
        ValueError: for an unknown section, preset or override name, or an invalid value; before
            any compute.
    """
    check_choice("section", section, SECTIONS)
    check_choice("preset", preset, PRESET_NAMES)
    module = importlib.import_module(SECTIONS[section])
    cfg = module.PRESETS[preset]
    overrides = {k: v for k, v in overrides.items() if v is not None}
    return module.apply_overrides(cfg, **overrides) if overrides else cfg


def replace_checked(obj, **changes):
    """``dataclasses.replace`` that names an unknown field and lists the allowed ones."""
    allowed = [f.name for f in dataclasses.fields(obj)]
    for name in changes:
        if name not in allowed:
            raise ValueError(
                f"{name}={changes[name]!r} is not a parameter of {type(obj).__name__}; allowed: {', '.join(allowed)}"
            )
    return dataclasses.replace(obj, **changes)
