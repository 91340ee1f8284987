"""Fig. 19: teacher and student widths varied together; plotted against α/p the curves fall together, decided on
the exponent γ of the drops α* ∝ p^γ. Every threshold is declared here."""
from __future__ import annotations
import math

import numpy as np
import pandas as pd
from scipy import stats

from ... import theory
from ...chapters import Figure, Part
from ...claims import Claim
from ...rules import AllOf, ClaimSpec, Equivalent, Evidence, fmt, level
from .analysis import figure_means
from .common import check_claim, gaps, post_hoc_note, seeds_note
from .config import ReluConfig

COLLAPSE_EXPONENT = 1.0  # theory: capacity ∝ parameter count ∝ p, so α* ∝ p: curves collapse on α/p
COLLAPSE_TOLERANCE = 0.25  # book: fitted exponent within 1 ± 0.25; √p scaling (γ = ½) is far outside
PAPER_CAPACITY_ALPHAS = tuple(n / 1000 for n in [50, *range(125, 2501, 125)])  # authors' code, Fig. 19


def capacity_post_hoc(cfg: ReluConfig) -> str:
    if tuple(cfg.capacity.alphas) == PAPER_CAPACITY_ALPHAS:
        return post_hoc_note(cfg)
    return post_hoc_note(cfg, f"Fig. 19's α grid {', '.join(f'{a:g}' for a in cfg.capacity.alphas)} (extended knowing "
                          "this preset's teacher capacity)")


def _exponent(p, a, seeds: int) -> Evidence:
    """γ of α* ∝ p^γ: least squares on log–log with its t-interval over the widths (residual spread)."""
    p, a = np.asarray(p, dtype=float), np.asarray(a, dtype=float)
    ok = np.isfinite(a) & (a > 0)
    k = int(ok.sum())
    if k < 3:
        return Evidence.none(f"{k} of {len(a)} widths have their drop inside the α grid: a fit needs 3")
    x, y = np.log(p[ok]), np.log(a[ok])
    slope, intercept = np.polyfit(x, y, 1)
    resid = y - (slope * x + intercept)
    se = math.sqrt(float(resid @ resid) / (k - 2) / float(((x - x.mean()) ** 2).sum()))
    half = float(stats.t.ppf(0.5 + level() / 2, k - 2)) * se  # 95 %, or Bonferroni over rounds
    beyond = int(np.isinf(a).sum())
    return Evidence.fit(slope, slope - half, slope + half, n=k, of="widths", detail=(
        f"log–log fit over {k} widths ({', '.join(f'{x:g}' for x in p[ok])}), {seeds} seed(s); each drop a midpoint "
        "on the α grid, its quantisation in the residuals" + (f"; {beyond} width(s) beyond the grid's end" if beyond else "")))


def _fig19_spec(cfg: ReluConfig) -> ClaimSpec:
    basis = f"capacity ∝ parameter count ∝ p; ± {COLLAPSE_TOLERANCE:g} (book)"
    return ClaimSpec(
        "fig19.collapse", f"Fig. 19 (ρ = {cfg.capacity.rho:g}, p^T = p^S): plotted against α/p the curves for different "
        "widths fall together: the α where teacher and student stop memorizing grows in proportion to p",
        "'the curves fall together quite accurately' against α/p^S",
        AllOf(Equivalent.margin("fig19.gamma_T", COLLAPSE_EXPONENT, COLLAPSE_TOLERANCE, "theory", basis,
                                label="γ in α_label^T ∝ p^γ"),
              Equivalent.margin("fig19.gamma_S", COLLAPSE_EXPONENT, COLLAPSE_TOLERANCE, "theory", basis,
                                label="γ in α_label^S ∝ p^γ")))


def fig19_claims(runs: pd.DataFrame, cfg: ReluConfig) -> tuple[list[Claim], dict[str, Evidence], pd.DataFrame]:
    """Fig. 19: collapse against α/p, decided on the exponent γ of the drops α* ∝ p^γ (γ = 1 is a
    collapse; the interval comes from the fit's residuals over widths, one seed as in the paper)."""
    cap = runs[runs["experiment"] == "capacity"]
    means = figure_means(runs, "capacity")
    n_seeds = cap["seed"].nunique()
    note = seeds_note("Fig. 19", cap["seed"].unique())
    rows = []
    for p, g in means.groupby("p_T"):
        rows.append({"p": p, "alpha_label_T": theory.drop_threshold(g["alpha"], g["acc_star_T"]),
                     "alpha_label_S": theory.drop_threshold(g["alpha"], g["acc_train_S"])})
    th = pd.DataFrame(rows, columns=["p", "alpha_label_T", "alpha_label_S"])
    missing = gaps(cap[["acc_star_T", "acc_train_S"]]) if len(cap) else "not run at this preset"
    ev = {}
    for part, col in (("T", "alpha_label_T"), ("S", "alpha_label_S")):
        ev[f"fig19.gamma_{part}"] = Evidence.none(missing) if missing else _exponent(th["p"], th[col], n_seeds)
    extra = "; ".join(f"p = {r.p:g}: α_label^T {fmt(r.alpha_label_T)}, α_label^S {fmt(r.alpha_label_S)}"
                      for r in th.itertuples())
    return [check_claim(_fig19_spec(cfg), ev, note, extra=extra, post_hoc=capacity_post_hoc(cfg))], ev, means.assign(
        alpha_over_p=means["alpha"] / means["p_S"]) if len(means) else means


def derive_fig19(tables: dict, cfg: ReluConfig) -> Part:
    """Fig. 19's claim and the means its plot draws."""
    claims, ev, cap = fig19_claims(tables["runs"], cfg)
    return Part(claims, ev, tables={"capacity": cap})


FIGURE = Figure("fig19", "Fig. 19: teacher and student capacity", derive=derive_fig19)
