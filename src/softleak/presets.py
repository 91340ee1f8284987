"""Named presets per notebook: ``smoke`` (seconds, for tests), ``cpu`` (default) and ``paper``.

A preset is a named config of the chapter's config dataclass. The ratios (α, ρ, τ, p/d) stay the
same across presets; sizes, seed counts and step counts change. Each chapter's experiment module
holds its config class and a ``PRESETS`` dict; this module asks :mod:`softleak.chapters` for it by notebook stem
(the chapter must have been imported).
"""

from __future__ import annotations

from . import chapters
from .config import check_choice, parse_override

PRESET_NAMES = ("smoke", "cpu", "paper")

SECTIONS = chapters.SECTIONS  # notebook stem -> chapter module name (declared in softleak.chapters)


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
    chapter = chapters.chapter(section)
    cfg = chapter.presets[preset]
    overrides = {k: parse_override(k, v) for k, v in overrides.items() if v is not None}
    return chapter.apply_overrides(cfg, **overrides) if overrides else cfg
