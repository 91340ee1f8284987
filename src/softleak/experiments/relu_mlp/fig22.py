"""Fig. 22: class counts against n/d at a fixed width (run at the paper preset): the teacher stops memorizing at
about the same n/d for every c. Every threshold is declared here."""
from __future__ import annotations
import numpy as np
import pandas as pd

from ... import theory
from ...chapters import Figure, Part
from ...claims import Claim
from ...rules import AtMost, ClaimSpec, Evidence, fmt
from .analysis import figure_means
from .common import check_claim, gaps, post_hoc_note, samples, seeds_note
from .config import ReluConfig

CLASS_SPREAD = 0.25  # book: "similar across c": the teacher's drop in n/d varies by ≤ 25 % of its mean over c


def _fig22_spec(cfg: ReluConfig) -> ClaimSpec:
    return ClaimSpec(
        "fig22.classes", f"Fig. 22 (ρ = {cfg.capacity.rho:g}, p = {cfg.p}): plotted against n/d the behaviour is similar "
        "across class counts: the teacher stops memorizing at about the same n/d",
        "similar across c ∈ {20, 50, 90, 100, 110} against n/d",
        AtMost("fig22.spread", CLASS_SPREAD, "book", f"'similar' read as a spread ≤ {fmt(CLASS_SPREAD, 'pct')} of the mean",
               label="(max − min) / mean over c of the n/d where acc_*^T drops", unit="pct"))


def fig22_claims(runs: pd.DataFrame, cfg: ReluConfig) -> tuple[list[Claim], dict[str, Evidence], pd.DataFrame]:
    """Fig. 22: class counts against n/d (run at the paper preset). Per seed, the drop of each c is read off the
    n/d grid and the spread over c computed; the interval is over seeds (:func:`_class_spread`)."""
    cl = runs[runs["experiment"] == "classes"]
    means = figure_means(runs, "classes")
    note = seeds_note("Fig. 22", cl["seed"].unique())
    if cl.empty:
        ev = {"fig22.spread": Evidence.none("run at the paper preset only", unit="pct")}
    else:
        drops = {int(c): theory.drop_threshold(g["alpha"] * c, g["acc_star_T"]) for c, g in means.groupby("c")}
        missing = gaps(cl[["acc_star_T"]])
        if missing or len(drops) < 2:
            ev = {"fig22.spread": Evidence.none(missing or "fewer than two class counts", unit="pct")}
        else:
            ev = {"fig22.spread": _class_spread(cl, detail="seed means: " + "; ".join(
                f"c = {c}: n/d {fmt(v)}" for c, v in drops.items()))}
    return [check_claim(_fig22_spec(cfg), ev, note, post_hoc=post_hoc_note(cfg))], ev, means.assign(n_over_d=means["alpha"] * means["c"]) if len(means) \
        else means


def _class_spread(cl: pd.DataFrame, detail: str) -> Evidence:
    """(max − min) / mean over c of the n/d where the teacher stops memorizing, per seed, over seeds.

    Each drop is a midpoint on the n/d grid, so the spread carries ± (largest grid step) / (mean drop). A drop
    outside the grid (the teacher never at 100 %, or never dropping) is censored: that seed's spread is at least
    the one with the drop clipped to the grid's edge, and the interval is open above."""
    grid = np.sort((cl["alpha"] * cl["c"]).unique())
    values, bounds, drops = [], [], []
    for _, g in cl.groupby("seed"):
        d = np.array([theory.drop_threshold(h["alpha"] * c, h["acc_star_T"]) for c, h in g.groupby("c")])
        clipped = np.clip(np.nan_to_num(d, nan=grid[0], posinf=grid[-1]), grid[0], grid[-1])
        drops.extend(clipped)
        spread = float(np.ptp(clipped) / clipped.mean())
        values.append(spread if np.isfinite(d).all() else np.inf)
        if not np.isfinite(d).all():
            bounds.append(spread)
    step = float(np.diff(grid).max()) if len(grid) > 1 else 0.0
    inside = sum(np.isfinite(values))
    return samples(values, resolution=2 * step / float(np.mean(drops)), grid_end=min(bounds) if bounds else None,
                    detail=f"{inside} of {len(values)} seeds with every drop inside the n/d grid (step {fmt(step)}); "
                           f"{detail}")


def derive_fig22(tables: dict, cfg: ReluConfig) -> Part:
    """Fig. 22's claim and the means its plot draws."""
    claims, ev, cl = fig22_claims(tables["runs"], cfg)
    return Part(claims, ev, tables={"classes": cl})


FIGURE = Figure("fig22", "Fig. 22: class counts against n/d", derive=derive_fig22)
