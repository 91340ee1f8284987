"""One module per chapter: its config dataclass, presets, and the sweep that runs it. Each registers itself
with :mod:`softleak.chapters` when imported."""


def load_all() -> dict:
    """Import every chapter module (each registers itself); returns them by notebook stem."""
    from .. import chapters
    from . import gpt2, logistic, modular, multinomial, relu_mlp, release, toy2d, workshop  # noqa: F401

    return {stem: chapters.chapter(stem) for stem in chapters.SECTIONS}
