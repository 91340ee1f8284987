"""Named presets per notebook: ``smoke`` (seconds, for tests), ``cpu`` (default) and ``paper``.

A preset is a named config of the chapter's config dataclass. The ratios (α, ρ, τ, p/d) stay the
same across presets; sizes, seed counts and step counts change. Each chapter's experiment module
holds its config class and a ``PRESETS`` dict; this module finds them by notebook stem.
"""

from __future__ import annotations

import importlib

from .config import check_choice, parse_override

PRESET_NAMES = ("smoke", "cpu", "paper")

#: notebook stem -> module holding ``PRESETS`` and ``apply_overrides``
SECTIONS = {
    "01_toy_2d": "softleak.experiments.toy2d",
    "02_modular_addition": "softleak.experiments.modular",
    "03_logistic_thresholds": "softleak.experiments.logistic",
    "04_multinomial_scaling": "softleak.experiments.multinomial",
    "05_relu_mlp_jumps": "softleak.experiments.relu_mlp",
    "06_gpt2": "softleak.experiments.gpt2",
    "07_workshop": "softleak.experiments.workshop",
    "08_release_safely": "softleak.experiments.release",
}


def resolve(section: str, preset: str, **overrides):
    """The config of ``section`` at ``preset``, with overrides applied.

    Args:
        section: a notebook stem, e.g. ``"01_toy_2d"``.
        preset: ``"smoke"``, ``"cpu"`` or ``"paper"``.
        **overrides: fields to replace; ``None`` values keep the preset's (papermill-friendly). A
            list or tuple given as text, as papermill's ``-p seeds "[1, 2, 3]"`` passes it, is parsed.

    Raises:
        ValueError: for an unknown section, preset or override name, or an invalid value; before
            any compute.
    """
    check_choice("section", section, SECTIONS)
    check_choice("preset", preset, PRESET_NAMES)
    module = importlib.import_module(SECTIONS[section])
    cfg = module.PRESETS[preset]
    overrides = {k: parse_override(k, v) for k, v in overrides.items() if v is not None}
    return module.apply_overrides(cfg, **overrides) if overrides else cfg
