"""Helpers several of chapter 4's figures share: the evidence of a threshold read on the α grid (alone or
paired by seed), the rule "for every τ / every c", and the evidence of one temperature sweep, which Fig. 14 and
Fig. 5A (c = 2) and Fig. 15 (c = 10) decide their claims on."""

from __future__ import annotations

import math
from functools import partial

import numpy as np
import pandas as pd

from ...rules import AllOf, AtLeast, Evidence, fmt
from .analysis import THRESHOLD_COLUMNS, experiment_means, nan_mean, per_seed, tau_thresholds

HIGH_TAU = 3.0  # "high τ" (book): τ ≥ 3, where softmax(z/τ) keeps the logit differences unsaturated
REF_TAU = 10.0  # the τ of Fig. 5B (paper); the τ-sweep grid point nearest to it in log τ
#: how the page says a verdict (the figures' sentences)
SAY = {"reproduces": "holds", "fails": "does not hold", "inconclusive": "is not settled by this run",
       "untested": "could not be tested at this preset"}


class EveryOf(AllOf):
    """:class:`AllOf` over one rule repeated on a family of quantities (every τ, every c): its text
    names the family once. Local to this chapter: the shared :class:`AllOf` spells every part."""

    def __init__(self, over: str, *parts) -> None:
        super().__init__(*parts)
        object.__setattr__(self, "over", over)

    def text(self) -> str:
        return f"for every {self.over} ({len(self.parts)} values): {self.parts[0].text()}"


def threshold_evidence(values, alphas, *, detail: str = "") -> Evidence:
    """Per-seed thresholds read on the α grid ``alphas``: half a grid step of resolution on each side,
    and a threshold not reached on the grid (±inf) censored at the grid's end in its direction."""
    v = np.asarray(values, dtype=float)
    a = np.sort(np.unique(np.asarray(alphas, dtype=float)))
    if np.isposinf(v).any() and np.isneginf(v).any():
        return Evidence.none("censored beyond both ends of the α grid")
    end = float(a[-1]) if np.isposinf(v).any() else float(a[0]) if np.isneginf(v).any() else None
    return Evidence.samples(v, detail=detail, resolution=grid_step(a), grid_end=end)


def paired_thresholds(a: pd.Series, b: pd.Series, alphas, *, detail: str = "") -> Evidence:
    """Thresholds a − b paired by seed (both indexed by seed, read on the α grid ``alphas``); a seed on
    one side only makes it missing. A side beyond the grid (±inf) makes the difference censored: it
    counts as the bound the grid's ends give (the least extreme over the censored seeds), never as NaN;
    both sides beyond the grid leave the difference unknown (NaN, missing)."""
    a, b = a.align(b, join="outer")
    diff = (a - b).to_numpy(dtype=float)
    grid = np.sort(np.unique(np.asarray(alphas, dtype=float)))
    fill = lambda v: v.clip(grid[0], grid[-1]).to_numpy(dtype=float)  # noqa: E731  ±inf -> the grid's ends
    bound = fill(a) - fill(b)
    up, down = np.isposinf(diff), np.isneginf(diff)
    if up.any() and down.any():
        return Evidence.none("the difference is censored in both directions", unit="num")
    end = float(bound[up].min()) if up.any() else float(bound[down].max()) if down.any() else None
    # two readings of the grid, each within half a step: the difference within one step
    return Evidence.samples(diff, detail=detail, resolution=2 * grid_step(grid), grid_end=end)


def nearest_tau(values, target: float) -> float:
    return float(min(values, key=lambda t: abs(math.log(t) - math.log(target))))


def grid_step(alphas) -> float:
    """The α grid step (median spacing): the resolution a threshold read on the grid has."""
    a = np.sort(np.unique(np.asarray(alphas, dtype=float)))
    return float(np.median(np.diff(a))) if a.size > 1 else float("nan")


def order_teacher(quantity: str, step: float) -> AtLeast:
    """α_label^S ≤ α_label^T read on the α grid: two readings of one grid can show the order only up to
    the grid's resolution (the difference carries one step each side in its interval)."""
    return AtLeast(quantity, -step, "paper", f"α_label^S ≤ α_label^T, up to one α grid step ({fmt(step)}), the "
                   "resolution of the difference of two grid readings", label="α_label^T − α_label^S, paired by seed")


def tau_sweep(runs: pd.DataFrame, experiment: str):
    """Seed means, thresholds from them, per-seed thresholds and the τ grid of one τ sweep."""
    means = experiment_means(runs, experiment)
    sub = runs[runs["experiment"] == experiment]
    seeds = per_seed(runs, experiment, partial(tau_thresholds, censor=True))
    taus = sorted(means["tau"].unique())
    return means, tau_thresholds(means), seeds, taus, sub


def sweep_evidence(c: int, sub: pd.DataFrame, means: pd.DataFrame, seeds: pd.DataFrame, taus) -> dict[str, Evidence]:
    """Evidence shared by the c = 2 and c = 10 temperature sweeps (Fig. 14/5A, Fig. 15)."""
    std = sub[~sub["shuffled"]]
    mstd = means[~means["shuffled"]]
    ev: dict[str, Evidence] = {}
    k = sub["seed"].nunique()
    # a window exists: the cell with the best seed mean, per seed, Bonferroni over the (α, τ) cells looked at
    best = mstd.loc[mstd["acc_test_S"].idxmax()] if mstd["acc_test_S"].notna().any() else None
    if best is not None:
        cell = std[np.isclose(std["alpha"], best["alpha"]) & np.isclose(std["tau"], best["tau"])]
        ev[f"c{c}.window.best_cell"] = Evidence.samples(
            cell.sort_values("seed")["acc_test_S"].to_numpy(dtype=float), unit="pct", looks=len(mstd),
            detail=f"{k} seeds at α = {best['alpha']:.3g}, τ = {best['tau']:.3g}, the best of {len(mstd)} cells "
                   "(Bonferroni over them)")
    else:
        ev[f"c{c}.window.best_cell"] = Evidence.none(unit="pct")
    # ... and vanishes as τ → 0: the best held-out accuracy over α at the smallest τ, per seed
    at_min = std[np.isclose(std["tau"], taus[0])]
    low = at_min.groupby("seed")["acc_test_S"].max().where(at_min.groupby("seed")["acc_test_S"].count()
                                                              == at_min.groupby("seed").size())
    ev[f"c{c}.window.tau_min"] = Evidence.samples(low.sort_index().to_numpy(), unit="pct",
                                                  detail=f"{k} seeds, best α at τ = {taus[0]:.3g}")
    by = seeds.set_index(["tau", "seed"])
    # α_id^S at high τ: per seed, the median over τ ≥ HIGH_TAU; no onset on the grid is +inf (censored)
    alphas = sub["alpha"]
    id_high = seeds[seeds["tau"] >= HIGH_TAU].groupby("seed")["alpha_id_S"].median()
    ev[f"c{c}.alpha_id_S.high_tau"] = (threshold_evidence(id_high.sort_index(), alphas,
                                                          detail=f"{k} seeds, median over τ ≥ {HIGH_TAU:g}")
                                       if len(id_high) else Evidence.none())
    teacher = seeds.groupby("seed")["alpha_label_T"].first()
    ev[f"c{c}.alpha_label_T"] = threshold_evidence(teacher.sort_index(), alphas, detail=f"{k} seeds")
    ref = nearest_tau(taus, REF_TAU)
    at = by.xs(ref, level="tau")
    ev[f"c{c}.order.window"] = paired_thresholds(at["alpha_label_S"], at["alpha_id_S"], alphas,
                                                 detail=f"{k} seeds at τ = {ref:.3g}")
    ev[f"c{c}.order.teacher"] = paired_thresholds(at["alpha_label_T"], at["alpha_label_S"], alphas,
                                                  detail=f"{k} seeds at τ = {ref:.3g}")
    lo = by.xs(taus[0], level="tau")
    ev[f"c{c}.label_S_to_T"] = paired_thresholds(lo["alpha_label_S_literal"], lo["alpha_label_T"], alphas,
                                                 detail=f"{k} seeds at τ = {taus[0]:.3g}")
    # shuffled students on D_test^S, per τ: each seed's held-out accuracy over its α cells, then the
    # interval over seeds (the points of one seed share its data and teachers: not independent)
    shuf = sub[sub["shuffled"]]
    for j, tau in enumerate(taus):
        s = shuf[np.isclose(shuf["tau"], tau)].assign(correct=lambda f: f["acc_test_S"] * f["n_test_S"])
        per = nan_mean(s, "seed", "correct") / s.groupby("seed")["n_test_S"].mean()
        ev[f"c{c}.shuffled.tau{j}"] = Evidence.samples(per.sort_index().to_numpy(dtype=float), unit="pct", of="seeds",
                                                       detail=f"τ = {tau:.3g}: {k} seeds, each over its α cells")
    return ev


def threshold_metrics(name: str, th: pd.DataFrame) -> dict[str, object]:
    """The thresholds of one τ sweep's seed means by τ (``th``: :func:`tau_thresholds`), as the page glues them."""
    out: dict[str, object] = {}
    for col in THRESHOLD_COLUMNS:
        out[f"{name}.means.{col}.by_tau"] = th[col].tolist()
    out[f"{name}.taus"] = th["tau"].tolist()
    return out
