"""Claims as declared rules: one object gives both the rule's text on the page and its verdict.

A chapter measures **evidence**: a quantity with its spread over seeds (:class:`Evidence`). A
**rule** (:class:`AtLeast`, :class:`AtMost`, :class:`Within`, and :class:`AllOf` / :class:`AnyOf` of
them) names the quantity it reads, the comparison, the threshold and where the threshold comes from
(the paper's number with a tolerance, a theory value, chance, or the book's own choice). A
:class:`ClaimSpec` holds a claim's words, the paper's number and its rule; :meth:`ClaimSpec.check`
turns evidence into a :class:`softleak.claims.Claim` whose ``rule`` text and ``holds`` come from the
same object, so the two cannot drift.

Verdicts carry the uncertainty. Each quantity is an interval ``[low, high]`` (a Student-t 95 % CI
over seeds, a Wilson interval for a count, or a single exact value). A rule's region is compared
with the interval:

- the interval lies inside the region: **reproduces**;
- the interval lies outside it: **fails**;
- the interval straddles the region's edge: **inconclusive** at this preset (with the number of
  seeds that would decide it at the measured spread);
- the quantity is missing or NaN: **untested**, never a pass.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

REPRODUCES, FAILS, INCONCLUSIVE, UNTESTED = "reproduces", "fails", "inconclusive", "untested"
VERDICTS = (REPRODUCES, FAILS, INCONCLUSIVE, UNTESTED)
HOLDS = {REPRODUCES: True, FAILS: False, INCONCLUSIVE: None, UNTESTED: None}
SOURCES = ("paper", "theory", "chance", "book")
CONFIDENCE = 0.95


@dataclass(frozen=True)
class Evidence:
    """A measured quantity: point value, uncertainty interval ``[low, high]``, and what it rests on.

    Attributes:
        value: the point estimate (a mean over seeds, a fraction, an exact number).
        low, high: the interval the verdict is decided on; equal to ``value`` for an exact number.
        n: how many independent runs it rests on (0: nothing measured).
        sd: the sample standard deviation over runs, when there is one (for "seeds needed").
        unit: ``"pct"`` (shown as percent) or ``"num"``.
        detail: a few words shown after the numbers (e.g. "over 20 datasets").
        of: what ``n`` counts ("runs", "datasets", "widths" for a fit …).
    """

    value: float
    low: float
    high: float
    n: int = 1
    sd: float = float("nan")
    unit: str = "num"
    detail: str = ""
    of: str = "runs"

    @property
    def missing(self) -> bool:
        return self.n == 0 or not all(map(math.isfinite, (self.value, self.low, self.high)))

    @classmethod
    def none(cls, why: str = "not measured at this preset", unit: str = "num") -> "Evidence":
        nan = float("nan")
        return cls(nan, nan, nan, n=0, unit=unit, detail=why)

    @classmethod
    def exact(cls, value: float, *, unit: str = "num", detail: str = "", n: int = 1, of: str = "runs") -> "Evidence":
        """A number without spread: a count, a theory value, a deterministic result."""
        v = float(value)
        return cls(v, v, v, n=n, unit=unit, detail=detail, of=of)

    @classmethod
    def fit(cls, value: float, low: float, high: float, *, n: int, of: str, unit: str = "num",
            detail: str = "") -> "Evidence":
        """An estimate from a fit over ``n`` points (e.g. an exponent over widths) with its interval."""
        return cls(float(value), float(low), float(high), n=n, unit=unit, detail=detail, of=of)

    @classmethod
    def samples(cls, values, *, unit: str = "num", detail: str = "", level: float = CONFIDENCE,
                of: str = "runs") -> "Evidence":
        """Mean and Student-t interval over independent runs (seeds). One NaN run makes it missing:
        evidence is never filtered to make a rule pass. One run gives an interval of zero width."""
        v = np.asarray(values, dtype=float).ravel()
        if v.size == 0 or not np.all(np.isfinite(v)):
            why = "no runs" if v.size == 0 else f"{int((~np.isfinite(v)).sum())} of {v.size} runs missing"
            return cls.none(why, unit=unit)
        m = float(v.mean())
        if v.size == 1:
            return cls(m, m, m, n=1, unit=unit, detail=detail, of=of)
        sd = float(v.std(ddof=1))
        half = float(stats.t.ppf(0.5 + level / 2, df=v.size - 1)) * sd / math.sqrt(v.size)
        return cls(m, m - half, m + half, n=int(v.size), sd=sd, unit=unit, detail=detail, of=of)

    @classmethod
    def paired(cls, a, b, **kwargs) -> "Evidence":
        """The difference ``a − b`` of runs paired by seed, with its interval. Two pandas Series are
        paired by their index (the seed): a seed on one side only is a missing run, never dropped."""
        if isinstance(a, pd.Series) and isinstance(b, pd.Series):
            a, b = a.align(b, join="outer")
        return cls.samples(np.asarray(a, dtype=float) - np.asarray(b, dtype=float), **kwargs)

    @classmethod
    def proportion(cls, k: int, n: int, *, detail: str = "", level: float = CONFIDENCE) -> "Evidence":
        """``k`` successes of ``n`` runs, with the Wilson score interval (unit: fraction of runs)."""
        if n == 0:
            return cls.none("no runs")
        z = float(stats.norm.ppf(0.5 + level / 2))
        p = k / n
        centre = (p + z * z / (2 * n)) / (1 + z * z / n)
        half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
        return cls(p, max(0.0, centre - half), min(1.0, centre + half), n=n, unit="frac",
                   detail=detail or f"{k} of {n} runs")

    def format(self, value: float | None = None) -> str:
        return fmt(self.value if value is None else value, self.unit)

    def __str__(self) -> str:
        if self.missing:
            return f"not measured ({self.detail})" if self.detail else "not measured"
        if self.unit == "frac":
            return f"{self.detail} ({fmt(self.value, 'pct')}, 95 % interval [{fmt(self.low, 'pct')}, {fmt(self.high, 'pct')}])"
        text = self.format()
        if self.n > 1 and self.high > self.low:
            text += f" [{self.format(self.low)}, {self.format(self.high)}]"
        runs = f"{self.n} {self.of}" if self.n != 1 else f"1 {self.of.removesuffix('s')}, no spread"
        extra = f", {self.detail}" if self.detail else ""
        return f"{text} ({runs}{extra})" if self.n > 1 or self.detail else text


def per_teacher(df: pd.DataFrame, col: str, *, level: float = CONFIDENCE, unit: str = "pct", detail: str = "",
                by: str = "seed") -> Evidence:
    """Mean and Student-t interval over teachers (the ``by`` column): the students of one teacher share its
    data, teacher and split, so they are averaged first and the teachers are the independent runs."""
    values = df.groupby(by)[col].mean() if not df.empty else pd.Series(dtype=float)
    return Evidence.samples(values, unit=unit, of="teachers", level=level, detail=detail)


def fmt(value: float, unit: str = "num") -> str:
    """A number for the page: percent with one decimal, or 3 significant digits; "—" for NaN."""
    if value is None or not math.isfinite(value):
        return "—" if value is None or math.isnan(value) else ("∞" if value > 0 else "−∞")
    if unit in ("pct", "frac"):
        return f"{100 * value:.1f} %"
    if value == int(value) and abs(value) < 1e6:
        return str(int(value))
    return f"{value:.3g}"


def _seeds_to_decide(ev: Evidence, edge: float) -> str:
    """How many runs a 95 % interval of the measured spread needs to clear ``edge`` (≈ (2·sd/δ)²),
    as a note; empty when there is no spread to extrapolate from."""
    delta = abs(ev.value - edge)
    if not (ev.n > 1 and math.isfinite(ev.sd) and ev.sd > 0):
        return ""
    if delta <= 0.05 * ev.sd:
        return f"; its mean sits on {fmt(edge, ev.unit)}, so more {ev.of} would not settle it"
    need = max(ev.n + 1, math.ceil((2.0 * ev.sd / delta) ** 2))
    return f"; about {need} {ev.of} would decide it at this spread"


@dataclass(frozen=True)
class Decision:
    verdict: str
    note: str = ""


class Rule:
    """Base of every rule: ``quantities`` it reads, ``text`` for the page, ``decide`` on evidence."""

    def quantities(self) -> list[str]:
        raise NotImplementedError

    def text(self) -> str:
        raise NotImplementedError

    def decide(self, evidence: Mapping[str, Evidence]) -> Decision:
        raise NotImplementedError


@dataclass(frozen=True)
class _Compare(Rule):
    quantity: str  # key into the evidence mapping
    threshold: float
    source: str  # "paper", "theory", "chance" or "book"
    basis: str  # where the threshold comes from, in words: "the paper's ≈ 50 % less 10 points"
    label: str = ""  # how the quantity reads on the page (default: its key)
    unit: str = "num"  # how the threshold is shown: "pct" or "num"

    op = ">="

    def __post_init__(self) -> None:
        if self.source not in SOURCES:
            raise ValueError(f"source={self.source!r} is not allowed: source must be one of {', '.join(SOURCES)}")
        if not math.isfinite(self.threshold):
            raise ValueError(f"threshold={self.threshold!r} is not allowed: a rule's threshold must be finite")

    def quantities(self) -> list[str]:
        return [self.quantity]

    def text(self) -> str:
        return f"{self.label or self.quantity} {self.op} {fmt(self.threshold, self.unit)} ({self.source}: {self.basis})"

    def _inside(self, x: float) -> bool:
        raise NotImplementedError

    def decide(self, evidence: Mapping[str, Evidence]) -> Decision:
        ev = evidence.get(self.quantity)
        if ev is None or ev.missing:
            return Decision(UNTESTED, f"{self.label or self.quantity}: {ev.detail if ev else 'not measured'}")
        lo_in, hi_in = self._inside(ev.low), self._inside(ev.high)
        if lo_in and hi_in:
            return Decision(REPRODUCES)
        if not lo_in and not hi_in:
            return Decision(FAILS)
        more = _seeds_to_decide(ev, self.threshold)
        return Decision(INCONCLUSIVE, f"{self.label or self.quantity}'s interval straddles {fmt(self.threshold, self.unit)}{more}")


@dataclass(frozen=True)
class AtLeast(_Compare):
    """``quantity ≥ threshold``: its whole interval at or above the threshold."""

    op = "≥"

    def _inside(self, x: float) -> bool:
        return x >= self.threshold


@dataclass(frozen=True)
class Above(_Compare):
    """``quantity > threshold`` (strict)."""

    op = ">"

    def _inside(self, x: float) -> bool:
        return x > self.threshold


@dataclass(frozen=True)
class AtMost(_Compare):
    """``quantity ≤ threshold``."""

    op = "≤"

    def _inside(self, x: float) -> bool:
        return x <= self.threshold


@dataclass(frozen=True)
class Below(_Compare):
    """``quantity < threshold`` (strict)."""

    op = "<"

    def _inside(self, x: float) -> bool:
        return x < self.threshold


@dataclass(frozen=True)
class Within(Rule):
    """``low ≤ quantity ≤ high``: a reference value with a tolerance (``Within.around``)."""

    quantity: str
    low: float
    high: float
    source: str
    basis: str
    label: str = ""
    unit: str = "num"

    def __post_init__(self) -> None:
        if self.source not in SOURCES:
            raise ValueError(f"source={self.source!r} is not allowed: source must be one of {', '.join(SOURCES)}")
        if not (math.isfinite(self.low) and math.isfinite(self.high) and self.low <= self.high):
            raise ValueError(f"low={self.low!r}, high={self.high!r} is not allowed: need finite low <= high")

    @classmethod
    def around(cls, quantity: str, centre: float, tolerance: float, source: str, basis: str, **kwargs) -> "Within":
        return cls(quantity, centre - tolerance, centre + tolerance, source, basis, **kwargs)

    def quantities(self) -> list[str]:
        return [self.quantity]

    def text(self) -> str:
        return (f"{fmt(self.low, self.unit)} ≤ {self.label or self.quantity} ≤ {fmt(self.high, self.unit)} "
                f"({self.source}: {self.basis})")

    def decide(self, evidence: Mapping[str, Evidence]) -> Decision:
        ev = evidence.get(self.quantity)
        if ev is None or ev.missing:
            return Decision(UNTESTED, f"{self.label or self.quantity}: {ev.detail if ev else 'not measured'}")
        if self.low <= ev.low and ev.high <= self.high:
            return Decision(REPRODUCES)
        if ev.high < self.low or ev.low > self.high:
            return Decision(FAILS)
        edge = self.low if ev.low < self.low else self.high
        more = _seeds_to_decide(ev, edge)
        return Decision(INCONCLUSIVE, f"{self.label or self.quantity}'s interval straddles {fmt(edge, self.unit)}{more}")


def _combine_all(decisions: Sequence[Decision]) -> str:
    verdicts = [d.verdict for d in decisions]
    for v in (FAILS, UNTESTED, INCONCLUSIVE):
        if v in verdicts:
            return v
    return REPRODUCES


def _combine_any(decisions: Sequence[Decision]) -> str:
    verdicts = [d.verdict for d in decisions]
    for v in (REPRODUCES, INCONCLUSIVE, UNTESTED):
        if v in verdicts:
            return v
    return FAILS


@dataclass(frozen=True)
class _Combine(Rule):
    parts: tuple[Rule, ...]

    joiner = " and "
    combine = staticmethod(_combine_all)

    def __init__(self, *parts: Rule) -> None:
        if not parts:
            raise ValueError(f"{type(self).__name__}() needs at least one rule")
        object.__setattr__(self, "parts", tuple(parts))

    def quantities(self) -> list[str]:
        return [q for p in self.parts for q in p.quantities()]

    def text(self) -> str:
        return self.joiner.join(p.text() for p in self.parts)

    def decide(self, evidence: Mapping[str, Evidence]) -> Decision:
        ds = [p.decide(evidence) for p in self.parts]
        verdict = self.combine(ds)
        return Decision(verdict, "; ".join(d.note for d in ds if d.note and d.verdict == verdict))


@dataclass(frozen=True, init=False)
class AllOf(_Combine):
    """Every part holds: one failing part fails it; a missing part leaves it untested."""


@dataclass(frozen=True, init=False)
class AnyOf(_Combine):
    """At least one part holds (e.g. "at some ρ"): it fails only if every part fails."""

    joiner = "; or "
    combine = staticmethod(_combine_any)

    def text(self) -> str:
        return "at least one of: " + super().text()


KINDS = ("paper", "book")


@dataclass(frozen=True)
class ClaimSpec:
    """A claim declared once: its words, the paper's number, its rule and its kind.

    Attributes:
        id: short stable identifier, e.g. ``"c3.soft_beats_independent"``.
        statement: the claim in words (no rule in it: the rule's text is derived).
        paper: what the paper reports, with its number ("not reported" for a book claim).
        rule: the declared :class:`Rule`.
        kind: ``"paper"`` (a statement of the paper: counts in the headline) or ``"book"`` (a
            control, an extension, a check of the authors' code: listed apart).
    """

    id: str
    statement: str
    paper: str
    rule: Rule
    kind: str = "paper"

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"kind={self.kind!r} is not allowed: kind must be one of {', '.join(KINDS)}")

    def check(self, evidence: Mapping[str, Evidence], *, ours: str | None = None, post_hoc: str = ""):
        """The verdict of this claim's rule on ``evidence``.

        Args:
            evidence: quantity name -> :class:`Evidence`; the rule reads only its own quantities.
            ours: what we measured, in words; default: every quantity the rule reads, with its interval.
            post_hoc: if a setting this claim is decided at was chosen after seeing this preset's
                results, which one and why (shown on the claim's row).
        """
        from .claims import Claim

        decision = self.rule.decide(evidence)
        if ours is None:
            names = list(dict.fromkeys(self.rule.quantities()))
            ours = "; ".join(f"{q}: {evidence[q]}" if q in evidence else f"{q}: not measured" for q in names)
        return Claim(id=self.id, kind=self.kind, statement=self.statement, rule=self.rule.text(), paper=self.paper,
                     ours=ours, holds=HOLDS[decision.verdict], verdict=decision.verdict, note=decision.note,
                     post_hoc=post_hoc)


def check_all(specs: Sequence[ClaimSpec], evidence: Mapping[str, Evidence], **per_claim) -> list:
    """Check several specs on one evidence mapping; ``per_claim`` maps a claim id to ``check`` kwargs."""
    return [s.check(evidence, **per_claim.get(s.id, {})) for s in specs]


def evidence_metrics(evidence: Mapping[str, Evidence]) -> dict[str, float]:
    """Plain numbers for ``claims.json`` and glue: each quantity's value, and its interval when it has one."""
    out: dict[str, float] = {}
    for key, ev in evidence.items():
        out[key] = ev.value
        if ev.high > ev.low:
            out[f"{key}.ci_low"], out[f"{key}.ci_high"] = ev.low, ev.high
    return out


# ---------------------------------------------------------------------------------------------------
# Scale ladders: a claim's quantity at growing sizes or budgets, read against the paper's value

LADDER_TOLERANCE = 0.02  # book: a change of the gap to the paper's value under 2 points (or 2 %) is "stays"
TRENDS = ("reaches the paper", "closes toward the paper", "stays", "widens")


def ladder_trend(values: Sequence[float], paper: float, *, tolerance: float = LADDER_TOLERANCE) -> str:
    """How a claim's quantity moves with scale: the distance to the paper's value at the last rung
    against the first.

    ``"reaches the paper"`` (within ``tolerance`` of it at the last rung), ``"closes toward the paper"``,
    ``"stays"`` (the distance changes by less than ``tolerance``) or ``"widens"``; ``"not measured"``
    with fewer than two rungs or a rung not measured (a missing rung is never read past). A miss whose
    ladder widens is reported as not reproducing, not as "too small".
    """
    v = [float("nan") if x is None else float(x) for x in values]
    if len(v) < 2 or not all(math.isfinite(x) for x in v) or not math.isfinite(paper):
        return "not measured"
    first, last = abs(v[0] - paper), abs(v[-1] - paper)
    if last <= tolerance:
        return TRENDS[0]
    if last < first - tolerance:
        return TRENDS[1]
    if last > first + tolerance:
        return TRENDS[3]
    return TRENDS[2]
