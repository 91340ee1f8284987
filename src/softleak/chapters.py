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

import dataclasses
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .config import Rounds, check_choice
from .rules import FAILS, INCONCLUSIVE, REPRODUCES, UNTESTED, Claim, Evidence, declared_rounds, evidence_metrics, fmt

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


@dataclass
class Decided:
    """A chapter's runs and verdicts after its rounds of seeds (:meth:`Chapter.decide`).

    Attributes:
        runs: the runs' tables of the last round (every seed of every round).
        claims: every claim, each with the verdict of the first round that decided it (``Claim.round``).
        metrics: the page's numbers: the last round's, with each claim's quantities from the round it was decided in.
        derived: the tables the figures draw (last round).
        cfg: the last round's config (every seed it ran).
        log: one line per round: its seeds and the claims it left open.
        declared: the config the rounds started from (the preset's, with the notebook's overrides): the results
            record it as their config, so that a build recognises them as its own, and ``cfg`` beside it.
    """

    runs: Any
    claims: list[Claim]
    metrics: dict[str, object]
    derived: dict[str, Any]
    cfg: object
    log: list[str] = field(default_factory=list)
    declared: object = None

    @property
    def rounds(self) -> dict[str, object]:
        """What ``claims.json`` records of the rounds (:func:`softleak.claims.write_results`)."""
        return {"log": list(self.log), "config": self.cfg}


def seed_limited(claim: Claim) -> bool:
    """An open claim that more seeds could decide: inconclusive, not because a run it reads had not converged (more
    seeds leave that run as it is), and not with every quantity's mean on its threshold ("more … would not settle
    it")."""
    settled = claim.note.count("would not settle it")
    return (claim.verdict == INCONCLUSIVE and not claim.note.startswith("not converged")
            and not (settled and settled >= claim.note.count("straddles")))


def extend_seeds(cfg, open_claims: Sequence[Claim], rounds: Rounds):
    """The next round's config of a chapter whose cells all read ``cfg.seeds``: ``rounds.seeds`` more seeds for every
    cell, when a claim left open is :func:`seed_limited`; ``None`` when none is."""
    from .config import more_seeds, replace_checked

    if not any(seed_limited(c) for c in open_claims):
        return None
    return replace_checked(cfg, seeds=more_seeds(cfg.seeds, rounds.seeds))


def group_seeds(cfg, group: str) -> tuple[int, ...]:
    """The seeds of one group of a chapter's runs (an experiment, a figure's sweep): ``cfg.seeds``, then the seeds
    later rounds gave that group (``cfg.extra_seeds``, a tuple of (group, seeds) pairs; :func:`extend_groups`)."""
    return tuple(cfg.seeds) + dict(getattr(cfg, "extra_seeds", ()) or ()).get(group, ())


def extend_groups(groups: Mapping[str, str], every: Sequence[str]):
    """An ``extend`` for a chapter whose runs fall in groups that each read :func:`group_seeds`: more seeds only for
    the groups an open claim reads.

    Args:
        groups: claim-id prefix (the longest the id starts with, up to a dot) -> the group its claims read, e.g.
            ``{"c2": "tau_c2"}``, or ``None`` for claims that more seeds do not decide.
        every: all groups; a seed-limited claim whose prefix is not in ``groups`` extends every one of them.
    """
    from .config import more_seeds, replace_checked

    def extend(cfg, open_claims: Sequence[Claim], rounds: Rounds):
        wanted: set[str] = set()
        for c in open_claims:
            if seed_limited(c):
                try:
                    wanted.add(_lookup(groups, c.id))
                except KeyError:
                    wanted |= set(every)
        wanted.discard(None)  # claims that more seeds do not decide
        if not wanted:
            return None
        extra = dict(getattr(cfg, "extra_seeds", ()) or ())
        for g in sorted(wanted):
            have = group_seeds(cfg, g)
            extra[g] = extra.get(g, ()) + more_seeds(have, rounds.seeds)[len(have):]
        return replace_checked(cfg, extra_seeds=tuple(sorted(extra.items())))

    return extend


def extend_parts(fields: Mapping[str, str | None]):
    """An ``extend`` for a chapter whose figures read seeds of their own (a part's ``seeds`` field): more seeds
    only in the fields an open claim reads.

    Args:
        fields: claim-id prefix (``"structured"``, or a longer one such as ``"sim.toy"``: the longest that the id
            starts with, up to a dot, wins) -> the flat name of the seeds field its claims read
            (``"seeds"``, ``"structured_seeds"``, set through :func:`softleak.config.replace_checked`), or ``None``
            for claims that more seeds do not decide (a fixed single teacher, a sweep over class counts).

    Raises:
        KeyError: a seed-limited open claim whose prefix ``fields`` does not name (every claim must be mapped).
    """
    from .config import more_seeds, replace_checked

    def extend(cfg, open_claims: Sequence[Claim], rounds: Rounds):
        wanted = sorted({_lookup(fields, c.id) for c in open_claims if seed_limited(c)} - {None})
        if not wanted:
            return None
        return replace_checked(cfg, **{name: more_seeds(_flat_get(cfg, name), rounds.seeds) for name in wanted})

    return extend


def _lookup(mapping: Mapping[str, object], cid: str):
    """The value of the longest key of ``mapping`` that claim id ``cid`` is or starts with (up to a dot)."""
    keys = [k for k in mapping if cid == k or cid.startswith(k + ".")]
    if not keys:
        raise KeyError(f"claim {cid!r}: no seeds are declared for it (known prefixes: {', '.join(mapping)})")
    return mapping[max(keys, key=len)]


def _flat_get(cfg, name: str):
    """A config's value by its flat override name (``structured_seeds`` -> ``cfg.structured.seeds``)."""
    if hasattr(cfg, name):
        return getattr(cfg, name)
    part, rest = name.split("_", 1)
    return _flat_get(getattr(cfg, part), rest)


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
        extend: ``extend(cfg, open_claims, rounds) -> cfg | None``: the next round's config, with more seeds for the
            cells the open claims read (``None``: nothing more seeds would decide). Without it a chapter has one
            round whatever its config declares.
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
    extend: Callable[[object, Sequence[Claim], Rounds], object] | None = None

    def rounds(self, cfg: object) -> Rounds:
        """The rounds of seeds ``cfg`` declares (its ``seed_rounds`` part); one round for a chapter without :attr:`extend`."""
        declared = getattr(cfg, "seed_rounds", None)
        return declared if isinstance(declared, Rounds) and self.extend is not None else Rounds()

    def decide(self, cfg: object, *, verbose: bool = True, **run_kwargs) -> Decided:
        """Run the chapter and decide its claims, in the rounds of seeds its config declares (:class:`Rounds`).

        Round 1 runs ``cfg``. While claims stay open and rounds remain, :attr:`extend` gives the next round's config
        (more seeds, only for the cells those claims read; the earlier cells come from the cache) and every claim is
        derived again. Every interval, in every round, is made at ``1 − 0.05 / K`` for K declared rounds
        (:func:`softleak.rules.declared_rounds`), and a claim keeps the verdict of the first round that decides it,
        so more rounds cannot make a decided claim change, nor an open one pass by repetition alone. A claim a
        later round decides carries the rounds' ``post_hoc`` flag when the rounds were declared after a run.

        Args:
            cfg: the resolved config (its ``seed_rounds`` part, if any, declares the rounds).
            verbose: print one line per round (seeds, claims left open).
            **run_kwargs: passed to :attr:`run` (``cache_dir``, ``progress``, ``workers``, ``device``…).
        """
        plan, declared = self.rounds(cfg), cfg
        frozen: dict[str, Claim] = {}
        log: list[str] = []
        for r in range(1, plan.count + 1):
            out = self.run(cfg, **run_kwargs)
            with declared_rounds(plan.count):
                fresh, metrics, derived = self.summarize(out, cfg)
            claims = []
            for c in fresh:
                if c.id in frozen:
                    claims.append(frozen[c.id])
                    continue
                c = dataclasses.replace(c, round=r)
                if r > 1 and plan.post_hoc and c.verdict in (REPRODUCES, FAILS):
                    c = dataclasses.replace(c, post_hoc="; ".join(filter(None, (
                        c.post_hoc, f"decided in round {r} of {plan.count}: {plan.post_hoc}"))))
                if c.verdict in (REPRODUCES, FAILS):
                    frozen[c.id] = c
                claims.append(c)
            still = [c for c in claims if c.verdict == INCONCLUSIVE]
            seeds = getattr(cfg, "seeds", None)
            extra = "".join(f", {g} +{len(s)}" for g, s in getattr(cfg, "extra_seeds", ()) or ())
            log.append(f"round {r} of {plan.count}" + (f" ({len(seeds)} seeds{extra})" if seeds is not None else "")
                       + f": {len(still)} claim(s) open" + (f" ({', '.join(c.id for c in still)})" if still else ""))
            if verbose and plan.count > 1:
                print(log[-1])
            nxt = self.extend(cfg, still, plan) if r < plan.count and still and self.extend is not None else None
            if nxt is None:
                break
            cfg = nxt
        for c in claims:  # a claim decided in an earlier round: its quantities as they were when it was decided
            if c.round < r:
                for rec in c.evidence:
                    metrics[rec["name"]] = rec["value"]
                    low, high = rec.get("low"), rec.get("high")
                    if low is not None and high is not None and high > low:
                        metrics[f"{rec['name']}.ci_low"], metrics[f"{rec['name']}.ci_high"] = low, high
                    else:
                        metrics.pop(f"{rec['name']}.ci_low", None)
                        metrics.pop(f"{rec['name']}.ci_high", None)
        return Decided(out, claims, metrics, derived, cfg, log, declared)

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
