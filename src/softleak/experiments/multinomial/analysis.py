"""Chapter 4's analysis: the thresholds of the temperature sweeps (Fig. 5A) and the transitions of the
class-count sweep (Fig. 5B), from seed means (the paper's extraction, for the figures) and per seed (for the
verdicts' intervals), with one function each; and Cover's capacity band at finite d."""

from __future__ import annotations

import math
from functools import partial

import numpy as np
import pandas as pd

from ... import theory
from ...metrics import seed_means

EXACT = 1.0 - 1e-9  # "mean accuracy = 1.0" (spec §4.5, the authors' rule), read on seed means or on one seed
ACC = ["acc_star_T", "acc_train_S", "acc_test_S"]
THRESHOLD_COLUMNS = ("alpha_id_S", "alpha_label_S", "alpha_label_S_literal", "alpha_label_S_shuffle")
AXES = {"ln": np.log, "sqrt": np.sqrt, "lin": lambda c: np.asarray(c, dtype=float)}


def experiment_means(runs: pd.DataFrame, experiment: str) -> pd.DataFrame:
    """Seed means per (c, α, ρ, τ, shuffled) of one experiment (a NaN run makes its cell NaN)."""
    sub = runs[runs["experiment"] == experiment]
    return seed_means(sub, ["c", "alpha", "rho", "tau", "shuffled"], ACC)


def _guard(fn, alphas, values, *args, **kwargs) -> float:
    """A threshold rule on one curve; a NaN point makes the threshold NaN (never read past it)."""
    return float("nan") if pd.isna(values).any() else fn(alphas, values, *args, **kwargs)


def nan_mean(frame: pd.DataFrame, by, column):
    """Group means that a NaN run makes NaN (pandas' own skip it), vectorised."""
    grouped = frame.groupby(by)[column]
    return grouped.mean().where(grouped.count() == grouped.size())


def _max(values: pd.Series) -> float:
    """The max that a NaN run makes NaN (pandas' own skips it)."""
    return float(values.max()) if values.notna().all() else float("nan")


def _censor_onset(alphas, values) -> float:
    """:func:`theory.onset_threshold` at "exactly 1", with an onset never reached on the grid as +inf
    (beyond its upper end: evidence, never a missing run); a NaN point stays NaN."""
    a = _guard(theory.onset_threshold, alphas, values, EXACT)
    return math.inf if np.isnan(a) and not pd.isna(values).any() else a


def _censor_last(alphas, values) -> float:
    """:func:`theory.last_of_first_run` at "exactly 1", censored: −inf if the values are never 1 on the
    grid (the threshold lies below its lower end), +inf if the first run reaches the grid's last α (it
    lies beyond its upper end); a NaN point stays NaN."""
    a = _guard(theory.last_of_first_run, alphas, values, EXACT)
    if pd.isna(values).any():
        return a
    if np.isnan(a):
        return -math.inf
    return math.inf if a >= float(np.max(np.asarray(alphas, dtype=float))) else a


def tau_thresholds(frame: pd.DataFrame, censor: bool = False) -> pd.DataFrame:
    """The four thresholds of Fig. 5A per τ (spec §4.5), plus the literal α_label^S and the window width.

    ``frame`` has one row per (α, τ, shuffled): the seed means (the paper's extraction) or one
    seed's runs. α_id^S is the first α with acc_test_S = 1, α_label^S the last α of that first run
    (the upper end of the perfect-recovery window), ``window_points`` the grid points in it. With
    ``censor`` (the per-seed evidence) a threshold not reached on the grid is ±inf beyond the grid's
    end (:func:`_censor_onset`, :func:`_censor_last`) instead of NaN / the grid's last point.
    """
    onset = _censor_onset if censor else partial(_guard, theory.onset_threshold, level=EXACT)
    last = _censor_last if censor else partial(_guard, theory.last_of_first_run, level=EXACT)
    teacher = nan_mean(frame, "alpha", "acc_star_T")
    a_T = last(teacher.index, teacher.to_numpy())
    rows = []
    for tau, g in frame.groupby("tau"):
        std, shuf = g[~g["shuffled"]], g[g["shuffled"]]
        a_id = onset(std["alpha"], std["acc_test_S"])
        a_S = last(std["alpha"], std["acc_test_S"])  # censored: no window is −inf, an empty window below the grid
        rows.append({
            "tau": tau, "alpha_label_T": a_T, "alpha_id_S": a_id, "alpha_label_S": a_S,
            "alpha_label_S_literal": last(std["alpha"], std["acc_train_S"]),
            "alpha_label_S_shuffle": last(shuf["alpha"], shuf["acc_train_S"]),
            "window_points": int(std["alpha"].between(a_id, a_S).sum()) if np.isfinite(a_id) else 0,
        })
    return pd.DataFrame(rows)


def code_reading(frame: pd.DataFrame, column: str, by: str = "tau") -> pd.Series:
    """A threshold as the authors' notebook reads Fig. 5A's (``main-fig_4a-fig_10-mlr_temperature_c=2.ipynb``):
    on the seed means of ``column`` per (``by``, α), a missing value counted as 0, the largest α whose mean is at
    least 1.0, i.e. the last α at which every seed is exactly perfect (NaN where none is). No interval: one
    reading of the means, shown beside the book's per-seed midpoint at 0.99."""
    return code_window(frame, column, by)["end"]


def code_window(frame: pd.DataFrame, column: str, by: str = "tau") -> pd.DataFrame:
    """The window as the same notebook reads it: per ``by``, the smallest (``start``) and the largest (``end``) α
    whose seed mean of ``column`` (a missing value as 0) is at least 1.0, NaN where none is; α between them that
    dip below 1.0 do not split it."""
    means = frame.assign(**{column: frame[column].fillna(0.0)}).groupby([by, "alpha"])[column].mean().reset_index()
    full = means[means[column] >= 1.0].groupby(by)["alpha"]
    keys = sorted(means[by].unique())
    return pd.DataFrame({"start": full.min().reindex(keys), "end": full.max().reindex(keys)}).astype(float)


def _censored(fn, beyond: float, alphas, values) -> float:
    """A threshold rule on one curve whose "not reached on the grid" (NaN) is ``beyond`` (±inf); a NaN
    point still makes it NaN (a missing run)."""
    a = _guard(fn, alphas, values)
    return beyond if np.isnan(a) and not pd.isna(values).any() else a


def per_seed(runs: pd.DataFrame, experiment: str, analysis) -> pd.DataFrame:
    """``analysis`` applied to each seed's runs of one experiment, with a ``seed`` column."""
    sub = runs[runs["experiment"] == experiment]
    return pd.concat([analysis(g).assign(seed=s) for s, g in sub.groupby("seed")], ignore_index=True)


def transitions(frame: pd.DataFrame, censor: bool = False) -> pd.DataFrame:
    """Per c and metric, the transition α* and its value on each rescaled axis (Fig. 5B).

    ``frame``: the class-count runs, seed means or one seed. Drops (acc_star_T, acc_train_S,
    shuffled acc_train_S) use the midpoint rule at 0.99 (+inf beyond the grid); the rise of
    acc_test_S is the first α with accuracy ≥ 0.99. With ``censor`` (the per-seed evidence) a rise never
    reached is +inf and a drop whose curve is never ≥ 0.99 is −inf (below the grid), instead of NaN.
    """
    onset = partial(_censored, theory.onset_threshold, math.inf) if censor else partial(_guard, theory.onset_threshold)
    drop = partial(_censored, theory.drop_threshold, -math.inf) if censor else partial(_guard, theory.drop_threshold)
    means = pd.concat({col: nan_mean(frame, ["c", "alpha", "shuffled"], col) for col in ACC}, axis=1).reset_index()
    rows = []
    for c, g in means.groupby("c"):
        std, shuf = g[~g["shuffled"]], g[g["shuffled"]]
        found = {
            "acc_star_T": (drop(std["alpha"], std["acc_star_T"]), std["acc_star_T"]),
            "acc_train_S": (drop(std["alpha"], std["acc_train_S"]), std["acc_train_S"]),
            "acc_test_S": (onset(std["alpha"], std["acc_test_S"]), std["acc_test_S"]),
            "shuffle_acc_train_S": (drop(shuf["alpha"], shuf["acc_train_S"]), shuf["acc_train_S"]),
        }
        for metric, (a, values) in found.items():
            rows.append({"c": c, "metric": metric, "alpha_star": a,
                         **{f"x_{axis}": a * float(f(c)) for axis, f in AXES.items()},
                         "max_acc": _max(values)})
    return pd.DataFrame(rows)


def scaling_transitions(runs: pd.DataFrame) -> pd.DataFrame:
    """:func:`transitions` of the class-count sweep's seed means (the figure's dashed lines)."""
    return transitions(runs[runs["experiment"] == "scaling"])


def collapse_quality(trans: pd.DataFrame) -> pd.DataFrame:
    """Mean and coefficient of variation over c of α*·g(c), per metric and axis (small CV = collapses).
    A transition beyond the grid (±inf) or missing makes that metric's numbers NaN: never dropped."""
    out = []
    for metric, g in trans.groupby("metric"):
        for axis in AXES:
            v = g[f"x_{axis}"].to_numpy(dtype=float)
            ok = v.size > 1 and np.all(np.isfinite(v)) and v.mean() > 0
            out.append({"metric": metric, "axis": axis, "mean": float(v.mean()) if np.all(np.isfinite(v)) else np.nan,
                        "cv": float(v.std(ddof=0) / v.mean()) if ok else np.nan, "num_c": int(v.size)})
    return pd.DataFrame(out)


def cover_band(d: int, low: float = 0.025, high: float = 0.975) -> tuple[float, float]:
    """Cover's theorem at finite d for c = 2, in α = n/(2d): the α below which a fraction ``high`` of
    random labellings are linearly separable (no bias) and above which only ``low`` are."""
    def separable(n: int) -> float:
        # C(n, d) / 2^n = 2^{1-n} Σ_{k<d} binom(n-1, k), in logs (exact enough for d ≤ 10⁴)
        k = np.arange(min(d, n))
        logs = (math.lgamma(n) - np.array([math.lgamma(i + 1) + math.lgamma(n - i) for i in k])) + (1 - n) * math.log(2)
        return float(np.exp(logs).sum())

    n = d
    while separable(n) >= high:
        n += 1
    lo = n / (2 * d)
    while separable(n) >= low:
        n += 1
    return lo, n / (2 * d)
