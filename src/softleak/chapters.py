"""The book's chapters by notebook stem: which module holds each (declared here, in a low module that imports
none of them) and, once a chapter module is imported, the module itself (each registers itself on import).

Lower modules (:mod:`softleak.presets`, :mod:`softleak.plan`, :mod:`softleak.provenance`) ask this registry for a
chapter instead of importing upward; the top of the package (:mod:`softleak.book`, a notebook, a test) imports the
chapters it needs, or all of them with :func:`softleak.experiments.load_all`.
"""

from __future__ import annotations

from types import ModuleType

from .config import check_choice

#: notebook stem -> the module holding its config, presets, runs and claims
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
_LOADED: dict[str, ModuleType] = {}


def register(stem: str, module: ModuleType) -> None:
    """Called by each chapter module at import: ``register(NAMESPACE, sys.modules[__name__])``."""
    check_choice("section", stem, SECTIONS)
    if module.__name__ != SECTIONS[stem]:
        raise ValueError(f"section={stem!r} is not allowed from {module.__name__}: it belongs to {SECTIONS[stem]}")
    _LOADED[stem] = module


def chapter(stem: str) -> ModuleType:
    """The imported module of chapter ``stem``.

    Raises:
        ValueError: for an unknown stem, or a chapter whose module has not been imported (naming it).
    """
    check_choice("section", stem, SECTIONS)
    if stem not in _LOADED:
        raise ValueError(f"section={stem!r} is not loaded: import {SECTIONS[stem]} (or call "
                         "softleak.experiments.load_all()) before asking for its presets or plan")
    return _LOADED[stem]
