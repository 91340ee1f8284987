"""Claims as declared rules: one object gives both the rule's text on the page and its verdict.

A chapter measures **evidence**: a quantity with its spread over seeds (:class:`Evidence`). A
**rule** (:class:`AtLeast`, :class:`AtMost`, :class:`Within`, and :class:`AllOf` / :class:`AnyOf` of
them) names the quantity it reads, the comparison, the threshold and where the threshold comes from
(the paper's number with a tolerance, a theory value, chance, or the book's own choice). A
:class:`ClaimSpec` holds a claim's words, the paper's number and its rule; :meth:`ClaimSpec.check`
turns evidence into a :class:`softleak.claims.Claim` whose ``rule`` text and ``holds`` come from the
same object, so the two cannot drift.

Verdicts carry the uncertainty. Each quantity is an interval ``[low, high]`` over the unit that was
replicated (teachers, seeds): a Student-t 95 % CI over runs, an exact Clopper–Pearson interval for
"k of n runs", a fit's interval, or a number exact by nature (a closed form, a count over a fixed
set). The interval is widened by half the grid step for a quantity read off a grid
(``resolution``), Bonferroni-corrected when the quantity is the best of ``looks`` cells, and open
(``high = +∞`` or ``low = −∞``) when some runs never reached a threshold on the grid (censored: a
failure is evidence, not a missing value). A rule's region is compared with the interval:

- fewer than :data:`MIN_RUNS` independent runs under a measured quantity: **inconclusive**, whatever
  the numbers (one run, or two that agree, is not an interval);
- the interval lies inside the region: **reproduces**;
- the interval lies outside it: **fails**;
- the interval straddles the region's edge: **inconclusive** at this preset (with the number of
  seeds that would decide it at the measured spread);
- the quantity is missing or NaN: **untested**, never a pass.

:class:`AllOf` fails when one part fails, whatever the others; it is inconclusive when no part fails and
one is inconclusive or unmeasured, and untested only when nothing was measured. Sameness ("as good
as", "independent of", "evenly") is decided by :class:`Equivalent`: two one-sided tests against a
declared margin, never by a test that fails to reject.
"""

from __future__ import annotations

import contextlib
import contextvars
import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

REPRODUCES, FAILS, INCONCLUSIVE, UNTESTED = "reproduces", "fails", "inconclusive", "untested"
VERDICTS = (REPRODUCES, FAILS, INCONCLUSIVE, UNTESTED)
HOLDS = {REPRODUCES: True, FAILS: False, INCONCLUSIVE: None, UNTESTED: None}
SOURCES = ("paper", "theory", "chance", "book")
CONFIDENCE = 0.95
#: fewer independent runs than this decide nothing about a measured quantity (see :attr:`Evidence.decides`)
MIN_RUNS = 3
#: methods whose number is exact by nature (no runs to replicate): exempt from :data:`MIN_RUNS`
BY_NATURE = ("closed form", "count")
#: the declared level of an "every run" claim read as a share of runs: most runs, with 95 % confidence (the
#: Clopper–Pearson lower end above one half; 6 of 6 clear it, 3 of 3 do not)
MOST_RUNS = 0.5
METHODS = ("t", "clopper-pearson", "exact", "fit", "closed form", "count", "given", "permutation", "none")

#: how many rounds of seeds (looks at the data) the chapter being summarized declared: set by :func:`declared_rounds`
_ROUNDS: contextvars.ContextVar[int] = contextvars.ContextVar("softleak_rounds", default=1)


@contextlib.contextmanager
def declared_rounds(rounds: int) -> Iterator[int]:
    """Decide every interval made inside at level ``1 − 0.05 / rounds`` (with ``looks``: ``1 − 0.05 / (looks ·
    rounds)``): a chapter that may look at a claim ``rounds`` times, adding seeds while it is open, decides each look
    at that level, so that the chance of any wrong verdict over all its looks stays at most 5 % (Bonferroni over the
    rounds, declared by the preset before any run; :meth:`softleak.chapters.Chapter.decide`)."""
    if int(rounds) < 1:
        raise ValueError(f"rounds={rounds!r} is not allowed: rounds must be >= 1")
    token = _ROUNDS.set(int(rounds))
    try:
        yield int(rounds)
    finally:
        _ROUNDS.reset(token)


def current_rounds() -> int:
    """The rounds declared for the intervals being made (1 outside :func:`declared_rounds`)."""
    return _ROUNDS.get()


def level(looks: int = 1, confidence: float = CONFIDENCE) -> float:
    """The two-sided confidence of one interval: ``1 − (1 − confidence) / (looks · rounds)``, Bonferroni over the
    cells a quantity was selected from and the declared rounds (:func:`declared_rounds`)."""
    return 1 - (1 - confidence) / (int(looks) * current_rounds())


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
        method: how the interval was made: ``"t"`` (Student-t over runs), ``"clopper-pearson"`` (exact
            binomial, a share of runs), ``"exact"`` (a number without spread taken from runs, e.g. the
            worst of k runs), ``"fit"``, ``"closed form"`` / ``"count"`` (exact by nature), ``"given"``
            (built by hand), ``"permutation"`` (a permutation test's p-value, ``value``; :class:`BeyondNull`),
            ``"none"`` (nothing measured).
        resolution: the grid step the runs were read off (0: not read off a grid); the interval
            carries half of it on each side.
        looks: how many cells were looked at to pick this one (Bonferroni: the interval is at level
            ``1 − 0.05 / looks``); 1 when nothing was selected.
        censored: how many runs never reached the quantity on the grid (their value lies beyond its end).
        rounds: the rounds of seeds its chapter declared (:func:`declared_rounds`): the interval's level is
            ``1 − 0.05 / (looks · rounds)``, a permutation p-value is compared with ``0.05 / rounds``.
    """

    value: float
    low: float
    high: float
    n: int = 1
    sd: float = float("nan")
    unit: str = "num"
    detail: str = ""
    of: str = "runs"
    method: str = "given"
    resolution: float = 0.0
    looks: int = 1
    censored: int = 0
    rounds: int = 1

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise ValueError(f"method={self.method!r} is not allowed: method must be one of {', '.join(METHODS)}")
        if int(self.looks) < 1:
            raise ValueError(f"looks={self.looks!r} is not allowed: looks must be >= 1")
        if int(self.rounds) < 1:
            raise ValueError(f"rounds={self.rounds!r} is not allowed: rounds must be >= 1")
        if not self.resolution >= 0:
            raise ValueError(f"resolution={self.resolution!r} is not allowed: resolution must be >= 0")

    @property
    def missing(self) -> bool:
        """Nothing measured: no runs, or a NaN. An open end (±∞, a censored run) is a measurement."""
        return self.n == 0 or any(map(math.isnan, (self.value, self.low, self.high)))

    @property
    def by_nature(self) -> bool:
        """Exact by nature (a closed form, a count over a fixed set): no runs to replicate."""
        return self.method in BY_NATURE

    @property
    def decides(self) -> bool:
        """Enough independent runs to decide a rule: :data:`MIN_RUNS` or more, or exact by nature; and not a
        best-of-cells reading whose runs all agree (zero spread leaves nothing to correct for the selection)."""
        return self.by_nature or (self.n >= MIN_RUNS and not self.unspread_selection)

    def decides_as(self, verdict: str) -> bool:
        """Whether this evidence may give ``verdict``: a best-of-cells reading without spread may still fail
        (the selection favoured the claim, and even its best cell misses), never reproduce."""
        return self.decides or (verdict == FAILS and self.n >= MIN_RUNS and self.unspread_selection)

    @property
    def unspread_selection(self) -> bool:
        """A quantity picked as the best of ``looks`` > 1 cells whose runs all read the same value: with no spread
        the interval has zero width whatever the correction, so the selection cannot be accounted for."""
        return self.method == "t" and self.looks > 1 and self.sd == 0

    def record(self, name: str) -> dict[str, object]:
        """The evidence as data for ``claims.json``: ``{name, value, low, high, n, of, method, resolution,
        looks, censored, unit, rounds}`` (±∞ and NaN written as None by the writer)."""
        return {"name": name, "value": self.value, "low": self.low, "high": self.high, "n": int(self.n),
                "of": self.of, "method": self.method, "resolution": self.resolution, "looks": int(self.looks),
                "censored": int(self.censored), "unit": self.unit, "rounds": int(self.rounds)}

    @classmethod
    def none(cls, why: str = "not measured at this preset", unit: str = "num") -> "Evidence":
        nan = float("nan")
        return cls(nan, nan, nan, n=0, unit=unit, detail=why, method="none")

    @classmethod
    def exact(cls, value: float, *, unit: str = "num", detail: str = "", n: int = 1, of: str = "runs",
              by_nature: str | None = None) -> "Evidence":
        """A number without spread. Taken from ``n`` runs (the worst of k runs, one aggregate) it is a
        measured quantity, which decides nothing below :data:`MIN_RUNS` runs. ``by_nature`` ("closed
        form" or "count": a theory value, a count over a fixed set) makes it exact by nature."""
        if by_nature is not None and by_nature not in BY_NATURE:
            raise ValueError(f"by_nature={by_nature!r} is not allowed: by_nature must be one of {', '.join(BY_NATURE)}")
        v = float(value)
        return cls(v, v, v, n=n, unit=unit, detail=detail, of=of, method=by_nature or "exact")

    @classmethod
    def fit(cls, value: float, low: float, high: float, *, n: int, of: str, unit: str = "num",
            detail: str = "") -> "Evidence":
        """An estimate from a fit over ``n`` points (e.g. an exponent over widths) with its interval, made at
        :func:`level` (the declared rounds count)."""
        return cls(float(value), float(low), float(high), n=n, unit=unit, detail=detail, of=of, method="fit",
                   rounds=current_rounds())

    @classmethod
    def samples(cls, values, *, unit: str = "num", detail: str = "", level: float = CONFIDENCE,
                of: str = "runs", resolution: float = 0.0, looks: int = 1, grid_end: float | None = None) -> "Evidence":
        """Mean and Student-t interval over independent runs (seeds).

        Args:
            values: one number per run. NaN is a missing run and makes the whole quantity missing
                (evidence is never filtered to make a rule pass). ``+inf`` / ``−inf`` is a run that never
                reached the quantity on the grid (censored beyond its upper / lower end); it needs
                ``grid_end``.
            resolution: the grid step the values were read off; the interval grows by half of it on each
                side (times the share of runs that are readings, not censored bounds), so runs on the same
                grid point never make an exact number.
            looks: cells looked at to select this one: the level becomes ``1 − (1 − level) / looks``
                (Bonferroni).
            grid_end: the grid's last value in the direction of the censored runs. A censored run counts
                as ``grid_end`` in the mean, which is then a bound: the interval stays open on that side.

        One run, or several with zero spread, gives a zero-width interval (plus the resolution): it
        decides nothing below :data:`MIN_RUNS` runs (:attr:`decides`).
        """
        v = np.asarray(values, dtype=float).ravel()
        if v.size == 0 or np.isnan(v).any():
            why = "no runs" if v.size == 0 else f"{int(np.isnan(v).sum())} of {v.size} runs missing"
            return cls.none(why, unit=unit)
        up, down = np.isposinf(v), np.isneginf(v)
        if (up.any() or down.any()) and (grid_end is None or not math.isfinite(grid_end)):
            raise ValueError("values beyond the grid (±inf) need a finite grid_end")
        if up.any() and down.any():
            raise ValueError("values are censored on both ends of the grid: give one direction")
        filled = np.where(up | down, grid_end if grid_end is not None else 0.0, v)
        rounds = current_rounds()
        level = 1 - (1 - level) / (int(looks) * rounds)
        m = float(filled.mean())
        sd = float(filled.std(ddof=1)) if v.size > 1 else float("nan")
        half = float(stats.t.ppf(0.5 + level / 2, df=v.size - 1)) * sd / math.sqrt(v.size) if v.size > 1 else 0.0
        censored = int(up.sum() + down.sum())
        grid = resolution / 2 * (v.size - censored) / v.size  # a censored run counts as its bound, not a reading
        low, high = m - half - grid, m + half + grid
        if up.any():
            high = math.inf
        if down.any():
            low = -math.inf
        return cls(m, low, high, n=int(v.size), sd=sd, unit=unit, detail=detail, of=of, method="t",
                   resolution=float(resolution), looks=int(looks), censored=censored, rounds=rounds)

    @classmethod
    def paired(cls, a, b, **kwargs) -> "Evidence":
        """The difference ``a − b`` of runs paired by seed, with its interval. Two pandas Series are
        paired by their index (the seed): a seed on one side only is a missing run, never dropped."""
        if isinstance(a, pd.Series) and isinstance(b, pd.Series):
            a, b = a.align(b, join="outer")
        return cls.samples(np.asarray(a, dtype=float) - np.asarray(b, dtype=float), **kwargs)

    @classmethod
    def permutation(cls, p: float, *, n: int, of: str = "runs", detail: str = "") -> "Evidence":
        """A permutation test's one-sided p-value (for :class:`BeyondNull`), resting on ``n`` runs."""
        return cls(float(p), float(p), float(p), n=int(n), unit="num", detail=detail, of=of, method="permutation",
                   rounds=current_rounds())

    @classmethod
    def share(cls, k: int, n: int, *, detail: str = "", level: float = CONFIDENCE, of: str = "runs",
              looks: int = 1) -> "Evidence":
        """``k`` of ``n`` independent runs (that jump, fit, grok…), with the exact Clopper–Pearson interval
        (``scipy.stats.binomtest``; unit: fraction of runs). A claim about "every run" reproduces when
        the interval's lower end clears its declared level and fails when the upper end is below it."""
        k, n = int(k), int(n)
        if not 0 <= k <= n:
            raise ValueError(f"k={k}, n={n} is not allowed: need 0 <= k <= n")
        if n == 0:
            return cls.none(f"no {of}", unit="frac")
        rounds = current_rounds()
        level = 1 - (1 - level) / (int(looks) * rounds)
        ci = stats.binomtest(k, n).proportion_ci(confidence_level=level, method="exact")
        return cls(k / n, float(ci.low), float(ci.high), n=n, unit="frac", detail=detail or f"{k} of {n} {of}",
                   of=of, method="clopper-pearson", looks=int(looks), rounds=rounds)

    @classmethod
    def share_of(cls, outcomes, **kwargs) -> "Evidence":
        """:meth:`share` from one 0/1 (or bool) outcome per run; a NaN run makes it missing."""
        v = np.asarray(outcomes, dtype=float).ravel()
        if v.size and np.isnan(v).any():
            return cls.none(f"{int(np.isnan(v).sum())} of {v.size} runs missing", unit="frac")
        if not np.isin(v, (0.0, 1.0)).all():
            raise ValueError("share_of needs one 0/1 outcome per run")
        return cls.share(int(v.sum()), int(v.size), **kwargs)

    #: the binomial interval for "k of n" (Clopper–Pearson); kept under its old name
    proportion = share

    def format(self, value: float | None = None) -> str:
        return fmt(self.value if value is None else value, self.unit)

    def __str__(self) -> str:
        if self.missing:
            return f"not measured ({self.detail})" if self.detail else "not measured"
        level = f"{100 * (1 - (1 - CONFIDENCE) / (self.looks * self.rounds)):.4g} %"
        if self.method == "permutation":
            return f"p = {self.value:.3g} ({self.n} {self.of}{', ' + self.detail if self.detail else ''})"
        if self.unit == "frac":
            return (f"{self.detail} ({fmt(self.value, 'pct')}, {level} Clopper–Pearson interval "
                    f"[{fmt(self.low, 'pct')}, {fmt(self.high, 'pct')}]{self._extras()})")
        text = self.format()
        if self.censored:
            text = ("≥ " if self.high == math.inf else "≤ ") + text
        if self.high > self.low:
            text += f" [{self.format(self.low)}, {self.format(self.high)}]"
        if self.by_nature:
            return f"{text} ({self.method}{', ' + self.detail if self.detail else ''})"
        runs = f"{self.n} {self.of}" if self.n != 1 else f"1 {self.of.removesuffix('s')}, no spread"
        extra = f", {self.detail}" if self.detail else ""
        return f"{text} ({runs}{self._extras()}{extra})"

    def _extras(self) -> str:
        parts = []
        if self.censored:
            parts.append(f"{self.censored} beyond the grid's end")
        if self.resolution:
            parts.append(f"grid step {self.format(self.resolution)}")
        if self.looks > 1:
            parts.append(f"Bonferroni over {self.looks} cells")
        if self.rounds > 1:
            parts.append(f"Bonferroni over {self.rounds} rounds")
        return "".join(f", {p}" for p in parts)


def per_teacher(df: pd.DataFrame, col: str, *, level: float = CONFIDENCE, unit: str = "pct", detail: str = "",
                by: str = "seed", **kwargs) -> Evidence:
    """Mean and Student-t interval over teachers (the ``by`` column): the students of one teacher share its
    data, teacher and split, so they are averaged first and the teachers are the independent runs."""
    # a teacher with a missing student is a missing run: never averaged over the students that remain
    values = (df.groupby(by)[col].agg(lambda s: s.mean() if s.notna().all() else np.nan) if not df.empty
              else pd.Series(dtype=float))
    return Evidence.samples(values, unit=unit, of="teachers", level=level, detail=detail, **kwargs)


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
    """How many runs an interval of the measured spread needs to clear ``edge`` (≈ (2·sd/δ)² at 95 %),
    as a note; empty when there is no spread to extrapolate from."""
    delta = abs(ev.value - edge)
    if not (ev.n > 1 and math.isfinite(ev.sd) and ev.sd > 0) or ev.censored or ev.unit == "frac":
        return ""
    if delta <= 0.05 * ev.sd:
        return f"; its mean sits on {fmt(edge, ev.unit)}, so more {ev.of} would not settle it"
    # ≈ 2 standard errors at 95 %; wider in the same ratio for an interval Bonferroni-corrected over cells or rounds
    z = 2.0 * float(stats.norm.ppf(1 - 0.025 / (ev.looks * ev.rounds)) / stats.norm.ppf(0.975))
    need = max(ev.n + 1, math.ceil((z * ev.sd / delta) ** 2))
    return f"; about {need} {ev.of} would decide it at this spread"


def _too_few(label: str, ev: Evidence, would: str) -> "Decision":
    """The verdict of a measured quantity that rests on fewer than :data:`MIN_RUNS` runs (or is an unspread
    best-of-cells reading): inconclusive."""
    if ev.unspread_selection:
        return Decision(INCONCLUSIVE, f"{label} is the best of {ev.looks} cells and its {ev.n} runs all read "
                                      f"{ev.format()}: with zero spread the selection cannot be corrected for "
                                      f"(it would read '{would}')")
    return Decision(INCONCLUSIVE, f"{label} rests on {ev.n} {ev.of if ev.n != 1 else ev.of.removesuffix('s')}, fewer than "
                                  f"{MIN_RUNS} independent runs decide nothing (it would read '{would}')")


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
        if lo_in == hi_in and not ev.decides_as(REPRODUCES if lo_in else FAILS):
            return _too_few(self.label or self.quantity, ev, REPRODUCES if lo_in else FAILS)
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
class BeyondNull(Rule):
    """A leak beyond a permutation null: the quantity is the test's one-sided p-value (an
    :class:`Evidence` of method ``"permutation"``). At most ``alpha``: reproduces; above it: inconclusive,
    never fails (no evidence of a leak is not evidence of none)."""

    quantity: str
    basis: str  # what was permuted and which statistic was read, in words
    alpha: float = 1 - CONFIDENCE
    label: str = ""

    def quantities(self) -> list[str]:
        return [self.quantity]

    def text(self) -> str:
        return f"{self.label or self.quantity}: p ≤ {self.alpha:g} against the null ({self.basis})"

    def decide(self, evidence: Mapping[str, Evidence]) -> Decision:
        ev = evidence.get(self.quantity)
        label = self.label or self.quantity
        if ev is None or ev.missing:
            return Decision(UNTESTED, f"{label}: {ev.detail if ev else 'not measured'}")
        alpha = self.alpha / ev.rounds  # Bonferroni over the declared rounds of seeds
        if ev.value <= alpha and not ev.decides_as(REPRODUCES):
            return _too_few(label, ev, REPRODUCES)
        if ev.value <= alpha:
            return Decision(REPRODUCES)
        over = f" (Bonferroni over {ev.rounds} rounds)" if ev.rounds > 1 else ""
        return Decision(INCONCLUSIVE, f"{label}: p = {ev.value:.3g} > {alpha:g}{over}, no evidence beyond the null "
                                      "(which does not show that nothing leaks)")


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
        inside, outside = self.low <= ev.low and ev.high <= self.high, ev.high < self.low or ev.low > self.high
        if (inside or outside) and not ev.decides_as(REPRODUCES if inside else FAILS):
            return _too_few(self.label or self.quantity, ev, REPRODUCES if inside else FAILS)
        if inside:
            return Decision(REPRODUCES)
        if outside:
            return Decision(FAILS)
        edge = self.low if ev.low < self.low else self.high
        more = _seeds_to_decide(ev, edge)
        return Decision(INCONCLUSIVE, f"{self.label or self.quantity}'s interval straddles {fmt(edge, self.unit)}{more}")


@dataclass(frozen=True)
class Equivalent(Within):
    """Sameness with a declared margin ("as good as", "independent of", "evenly"): two one-sided tests.

    Reproduces when the quantity's 95 % interval lies within ``centre ± margin`` (both one-sided tests
    reject at 2.5 %: the quantity is shown to be within the margin), fails when the interval lies outside
    it, and is inconclusive otherwise. A test that merely fails to reject a difference never passes it.
    """

    @classmethod
    def margin(cls, quantity: str, centre: float, margin: float, source: str, basis: str, **kwargs) -> "Equivalent":
        if not margin > 0:
            raise ValueError(f"margin={margin!r} is not allowed: an equivalence margin must be > 0")
        return cls(quantity, centre - margin, centre + margin, source, basis, **kwargs)

    def text(self) -> str:
        centre, margin = (self.low + self.high) / 2, (self.high - self.low) / 2
        return (f"{self.label or self.quantity} = {fmt(centre, self.unit)} ± {fmt(margin, self.unit)}, shown by two "
                f"one-sided tests (its 95 % interval inside the margin; {self.source}: {self.basis})")


def _combine_all(decisions: Sequence[Decision]) -> str:
    """Every part: one failing part fails it (whatever the others); nothing measured: untested; else a
    part inconclusive or unmeasured leaves it inconclusive."""
    verdicts = [d.verdict for d in decisions]
    if FAILS in verdicts:
        return FAILS
    if all(v == UNTESTED for v in verdicts):
        return UNTESTED
    if INCONCLUSIVE in verdicts or UNTESTED in verdicts:
        return INCONCLUSIVE
    return REPRODUCES


def _combine_any(decisions: Sequence[Decision]) -> str:
    """Some part: one reproducing part reproduces it; fails only when every part fails; untested only when
    nothing was measured."""
    verdicts = [d.verdict for d in decisions]
    if REPRODUCES in verdicts:
        return REPRODUCES
    if all(v == FAILS for v in verdicts):
        return FAILS
    if all(v == UNTESTED for v in verdicts):
        return UNTESTED
    return INCONCLUSIVE


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
        why = (verdict,) if verdict != INCONCLUSIVE else (INCONCLUSIVE, UNTESTED)
        return Decision(verdict, "; ".join(d.note for d in ds if d.note and d.verdict in why))


@dataclass(frozen=True, init=False)
class AllOf(_Combine):
    """Every part holds: one failing part fails it; a part inconclusive or not measured (and none failing)
    leaves it inconclusive; untested only when no part was measured."""


@dataclass(frozen=True, init=False)
class AnyOf(_Combine):
    """At least one part holds (e.g. "at some ρ"): it fails only if every part fails."""

    joiner = "; or "
    combine = staticmethod(_combine_any)

    def text(self) -> str:
        return "at least one of: " + super().text()


KINDS = ("paper", "book", "premise")


@dataclass(frozen=True)
class Claim:
    """One checked statement, as :meth:`softleak.rules.ClaimSpec.check` makes it.

    Attributes:
        id: short stable identifier, e.g. ``"c3.soft_beats_independent"``.
        kind: ``"paper"`` (a statement of the paper), ``"book"`` (a control, an extension, a check
            of the authors' code) or ``"premise"`` (a statement of the paper the setup makes true); only
            ``paper`` claims count as reproductions.
        statement: the claim in words.
        rule: the text of the declared rule that decided it.
        paper: what the paper reports (text, with its number).
        ours: what this run measured (text, with our numbers and intervals).
        holds: ``True`` (reproduces), ``False`` (does not), ``None`` (inconclusive or untested).
        verdict: ``"reproduces"``, ``"fails"``, ``"inconclusive"`` or ``"untested"``.
        note: why a verdict is inconclusive or untested (e.g. how many seeds would decide it).
        post_hoc: the setting chosen after seeing this preset's results that this claim is decided
            at, if any.
        evidence: every quantity the rule reads, as data (:meth:`softleak.rules.Evidence.record`:
            name, value, low, high, n, of, method, resolution, looks, censored, unit, rounds), so that a verdict
            can be checked without parsing ``ours``.
        round: the round of seeds that decided it (or the last round, if none did); 1 without rounds.
        rounds: the rounds its chapter declared at this preset (:class:`softleak.config.Rounds`).
    """

    id: str
    kind: str
    statement: str
    rule: str
    paper: str
    ours: str
    holds: bool | None
    verdict: str
    note: str = ""
    post_hoc: str = ""
    evidence: tuple = ()
    round: int = 1
    rounds: int = 1


@dataclass(frozen=True)
class ClaimSpec:
    """A claim declared once: its words, the paper's number, its rule and its kind.

    Attributes:
        id: short stable identifier, e.g. ``"c3.soft_beats_independent"``.
        statement: the claim in words (no rule in it: the rule's text is derived).
        paper: what the paper reports, with its number ("not reported" for a book claim).
        rule: the declared :class:`Rule`.
        kind: ``"paper"`` (a statement of the paper: counts in the headline), ``"book"`` (a
            control, an extension, a check of the authors' code: listed apart) or ``"premise"`` (a
            statement of the paper that the setup makes true, e.g. a teacher stopped at 100 %: shown on
            the page, never counted).
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
        decision = self.rule.decide(evidence)
        names = list(dict.fromkeys(self.rule.quantities()))
        if ours is None:
            ours = "; ".join(f"{q}: {evidence[q]}" if q in evidence else f"{q}: not measured" for q in names)
        records = tuple((evidence[q] if q in evidence else Evidence.none()).record(q) for q in names)
        return Claim(id=self.id, kind=self.kind, statement=self.statement, rule=self.rule.text(), paper=self.paper,
                     ours=ours, holds=HOLDS[decision.verdict], verdict=decision.verdict, note=decision.note,
                     post_hoc=post_hoc, evidence=records, rounds=current_rounds())


def not_converged(claim, unconverged: Sequence[str]):
    """A verdict read off runs that did not reach their declared stopping condition (students still moving at
    the cap, a teacher that did not fit) is inconclusive (not converged); ``unconverged`` names those runs."""
    import dataclasses

    if claim.verdict not in (REPRODUCES, FAILS) or not unconverged:
        return claim
    bad = list(unconverged)
    return dataclasses.replace(claim, holds=None, verdict=INCONCLUSIVE, note=(
        f"not converged: would have read '{claim.verdict}', but {len(bad)} run(s) it reads had not reached their "
        f"stopping condition ({'; '.join(bad[:6])}{' …' if len(bad) > 6 else ''})"))


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
