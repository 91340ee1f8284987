"""What a chapter is, and the book's chapters by notebook stem.

A **chapter** (:class:`Chapter`) is a config with its presets and deviations, the runs that train it, the plan
that costs them before they start, and its **figures**. A **figure** (:class:`Figure`, one per paper figure or
book section, in a module named after it) turns the runs into its table, its claims and the numbers the page
glues (:meth:`Figure.derive`, returning a :class:`Part`), and says in a sentence or two what its verdicts mean
(:meth:`Figure.read`, given the chapter's :class:`Verdicts`). One loop, :meth:`Chapter.summarize` and
:meth:`Chapter.reading`, does the rest for every chapter, so that the chapter modules keep only what is theirs.

The registry: :data:`SECTIONS` declares which module holds each chapter (this module imports none of them);
each chapter module registers its :class:`Chapter` on import (:func:`register`). Lower modules
(:mod:`softleak.presets`, :mod:`softleak.plan`, :mod:`softleak.provenance`) ask :func:`chapter` instead of
importing upward; the top of the package (:mod:`softleak.book`, a notebook, a test) imports the chapters it
needs, or all of them with :func:`softleak.experiments.load_all`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .config import check_choice
from .rules import UNTESTED, Claim, Evidence, evidence_metrics, fmt

#: notebook stem -> the module holding its chapter
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
#: what a page says of a claim that did not run at this preset (one wording for every chapter)
NOT_TESTED = "is not tested at this preset"


@dataclass
class Part:
    """What one figure derives from a chapter's runs: its claims, the evidence they were decided on, the numbers
    the page glues beyond that evidence, and the tables its plot draws (also handed to the figures after it)."""

    claims: list[Claim] = field(default_factory=list)
    evidence: dict[str, Evidence] = field(default_factory=dict)
    metrics: dict[str, object] = field(default_factory=dict)
    tables: dict[str, Any] = field(default_factory=dict)


class Verdicts:
    """A chapter's verdicts and metrics as a figure's sentences read them.

    ``v["fig7c.jump"]`` is the claim's verdict (``"untested"`` when the chapter has no such claim at this preset),
    ``v.claim(cid)`` the claim itself or ``None``, ``v.num(key, unit)`` a metric formatted for the page ("—" when
    it is missing or not a number), ``v.say(cid, reproduces=..., ...)`` the sentence for the claim's verdict.
    """

    def __init__(self, claims: Sequence[Claim], metrics: Mapping[str, object], cfg: object = None):
        self.claims = {c.id: c for c in claims}
        self.metrics = metrics
        self.cfg = cfg

    def __getitem__(self, cid: str) -> str:
        return self.claims[cid].verdict if cid in self.claims else UNTESTED

    def __contains__(self, cid: str) -> bool:
        return cid in self.claims

    def claim(self, cid: str) -> Claim | None:
        return self.claims.get(cid)

    def num(self, key: str, unit: str = "num") -> str:
        value = self.metrics.get(key)
        return fmt(float(value), unit) if isinstance(value, (int, float)) and not isinstance(value, bool) else "—"

    def finite(self, key: str) -> bool:
        value = self.metrics.get(key)
        return isinstance(value, (int, float)) and math.isfinite(float(value))

    def say(self, cid: str, **sentences: str) -> str:
        """The sentence for ``cid``'s verdict among ``sentences`` (keyed by verdict). A verdict without a sentence
        gives ``""``, except "untested", which defaults to the book's one wording (:data:`NOT_TESTED`)."""
        verdict = self[cid]
        if verdict == UNTESTED and UNTESTED not in sentences:
            return f"`{cid}` {NOT_TESTED}."
        return sentences.get(verdict, "")


@dataclass(frozen=True)
class Figure:
    """One paper figure or book section of a chapter.

    Attributes:
        name: the module that holds it, e.g. ``"fig7"`` (``softleak/experiments/relu_mlp/fig7.py``).
        title: how the page names it, e.g. ``"Fig. 7: where leakage starts"``.
        derive: ``derive(tables, cfg) -> Part``: its claims, evidence, glued numbers and tables, from the runs'
            tables (and the tables of the figures before it, by name; ``tables["claims"]`` holds their claims).
        read: ``read(verdicts) -> str | list[str]``: its sentences for the page's conclusion (optional).
        plot: the function that draws it (optional; notebooks call it by name).
        needs: a claim id without which the figure has nothing to say: ``read`` is skipped when the chapter has
            no such claim at this preset (optional).
    """

    name: str
    title: str
    derive: Callable[[dict, object], Part] | None = None
    read: Callable[[Verdicts], str | Sequence[str]] | None = None
    plot: Callable | None = None
    needs: str | None = None


@dataclass(frozen=True)
class Chapter:
    """A chapter: its config, presets and deviations, its runs and plan, and its figures in page order.

    Attributes:
        stem: the notebook stem, e.g. ``"01_toy_2d"``.
        module: the module that defines it (its ``__name__``; must be ``SECTIONS[stem]``).
        presets: preset name -> resolved config.
        apply_overrides: ``apply_overrides(cfg, **fields) -> cfg``, checking every field before any compute.
        deviations: the rows of the chapter's deviations table.
        run: ``run(cfg, *, cache_dir, progress, device, ...)`` -> the runs' tables.
        plan: ``plan(cfg) -> list[Batch]``, the compute plan printed before a run.
        figures: the chapter's figures, in the order the page shows them.
        config_table: ``config_table(cfg) -> DataFrame`` for the page.
        plan_notes: caveats the plan prints.
        prepare: ``prepare(tables, cfg) -> dict``: tables several figures share, derived once (optional).
        settings: ``settings(cfg) -> dict``: numbers of the config the page glues (optional).
    """

    stem: str
    module: str
    presets: Mapping[str, object]
    apply_overrides: Callable
    deviations: Sequence
    run: Callable
    plan: Callable
    figures: Sequence[Figure]
    config_table: Callable
    plan_notes: Sequence[str] = ()
    prepare: Callable[[dict, object], dict] | None = None
    settings: Callable[[object], dict] | None = None

    def figure(self, name: str) -> Figure:
        names = [f.name for f in self.figures]
        check_choice("figure", name, names)
        return self.figures[names.index(name)]

    def summarize(self, out, cfg: object = None) -> tuple[list[Claim], dict[str, object], dict[str, Any]]:
        """Every figure's claims in page order, the metrics the page glues (the config's settings, every
        quantity a claim was decided on, then each figure's own numbers) and the tables the figures draw."""
        tables: dict[str, Any] = dict(out) if isinstance(out, Mapping) else {"runs": out}
        derived: dict[str, Any] = dict(self.prepare(tables, cfg)) if self.prepare is not None else {}
        tables.update(derived)
        claims: list[Claim] = []
        evidence: dict[str, Evidence] = {}
        parts = []
        for fig in self.figures:
            if fig.derive is None:
                continue
            tables["claims"] = list(claims)  # the claims of the figures before it (a closing section counts them)
            part = fig.derive(tables, cfg)
            claims += part.claims
            evidence.update(part.evidence)
            tables.update(part.tables)
            derived.update(part.tables)
            parts.append(part)
        metrics: dict[str, object] = dict(self.settings(cfg)) if self.settings is not None else {}
        metrics.update(evidence_metrics(evidence))
        for part in parts:
            metrics.update(part.metrics)
        return claims, metrics, derived

    def reading(self, claims: Sequence[Claim], metrics: Mapping[str, object], cfg: object = None) -> str:
        """The page's conclusion: each figure's sentences for its verdicts, in page order (Markdown)."""
        verdicts = Verdicts(claims, metrics, cfg)
        parts: list[str] = []
        for fig in self.figures:
            if fig.read is None or (fig.needs is not None and fig.needs not in verdicts):
                continue
            said = fig.read(verdicts)
            parts += [said] if isinstance(said, str) else list(said)
        return " ".join(p for p in parts if p).replace(" \n\n", "\n\n")


_LOADED: dict[str, Chapter] = {}


def register(chapter: Chapter) -> Chapter:
    """Called by each chapter module at import: ``CHAPTER = register(Chapter(NAMESPACE, __name__, ...))``."""
    check_choice("section", chapter.stem, SECTIONS)
    if chapter.module != SECTIONS[chapter.stem]:
        raise ValueError(f"section={chapter.stem!r} is not allowed from {chapter.module}: it belongs to "
                         f"{SECTIONS[chapter.stem]}")
    _LOADED[chapter.stem] = chapter
    return chapter


def chapter(stem: str) -> Chapter:
    """The registered chapter ``stem``.

    Raises:
        ValueError: for an unknown stem, or a chapter whose module has not been imported (naming it).
    """
    check_choice("section", stem, SECTIONS)
    if stem not in _LOADED:
        raise ValueError(f"section={stem!r} is not loaded: import {SECTIONS[stem]} (or call "
                         "softleak.experiments.load_all()) before asking for its presets or plan")
    return _LOADED[stem]
