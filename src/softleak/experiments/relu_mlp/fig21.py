"""Fig. 21: the student's width over ρ at a small α and a fixed teacher: a narrower student leaks most in the
weak-leakage phase, but accuracy does not fall linearly with width. Every threshold is declared here."""
from __future__ import annotations
import numpy as np
import pandas as pd

from ...chapters import Figure, Part
from ...claims import Claim
from ...metrics import FULL
from ...rules import Above, ClaimSpec, Equivalent, Evidence
from .analysis import figure_means
from .common import SAME, check_claim, gaps, paired, post_hoc_note, seeds_note, weakest
from .config import ReluConfig

NONLINEAR_RHO = 0.3  # paper Fig. 21: "for ρ = 0.3 students with p^S = 250 are as good as with p^S = 1000"
NONLINEAR_WIDTHS = (0.5, 2.0)  # ... p^S / p^T = 250/500 and 1000/500


def _fig21_specs(cfg: ReluConfig) -> list[ClaimSpec]:
    lo, hi = (int(round(f * cfg.p)) for f in NONLINEAR_WIDTHS)
    return [
        ClaimSpec("fig21.width", f"Fig. 21 (α = {cfg.width.alpha:g}, p^T = {cfg.p}): in the weak-leakage phase a student "
                  "narrower than the teacher leaks most, at every ρ",
                  "'lowering the capacity of the student is optimal for all sizes of the dataset'",
                  Above("fig21.narrow_gain", 0.0, "paper", "optimal",
                        label="acc_test_S of the best p^S < p^T − the best p^S ≥ p^T (picked on seed means, Bonferroni "
                              "over the pairs of widths), paired by seed, at the weakest ρ", unit="pct")),
        ClaimSpec("fig21.nonlinear", f"Fig. 21: accuracy falls with p^S, but not linearly: at ρ = {NONLINEAR_RHO:g} a "
                  f"student of p^S = {lo} (p^T/2) does as well as one of p^S = {hi} (2 p^T)",
                  "'for ρ = 0.3 students with p^S = 250 are as good as students with p^S = 1000' (p^T = 500)",
                  Equivalent.margin("fig21.half_vs_double", 0.0, SAME, "book", "'as good as' read as within 5 points",
                                    label=f"acc_test_S(p^S = {lo}) − acc_test_S(p^S = {hi}), paired by seed",
                                    unit="pct")),
    ]


def fig21_claims(runs: pd.DataFrame, cfg: ReluConfig) -> tuple[list[Claim], dict[str, Evidence], pd.DataFrame]:
    """Fig. 21: student width over ρ at a small α. The weak-leakage phase is the ρ where the teacher
    memorizes and no width reaches full recovery on seed means. The best narrow and the best wide width are
    picked on the seed means of the seeds that decide, so their difference carries a Bonferroni interval over
    every (narrow, wide) pair of widths."""
    wid = runs[runs["experiment"] == "width"]
    means = figure_means(runs, "width")
    note = seeds_note("Fig. 21", wid["seed"].unique())
    ev: dict[str, Evidence] = {}
    missing = gaps(wid[["acc_test_S", "acc_star_T"]]) if len(wid) else "not run at this preset"
    if missing:
        ev["fig21.narrow_gain"] = ev["fig21.half_vs_double"] = Evidence.none(missing, unit="pct")
    else:
        narrow_ps = sorted(p for p in means["p_S"].unique() if p < cfg.p)
        wide_ps = sorted(p for p in means["p_S"].unique() if p >= cfg.p)
        cases = {}
        for rho, g in means.groupby("rho"):
            if not (g["acc_star_T"].min() >= FULL and g["acc_test_S"].max() < FULL) or not narrow_ps or not wide_ps:
                continue
            best = lambda ps: int(g[g["p_S"].isin(ps)].sort_values("acc_test_S")["p_S"].iloc[-1])  # noqa: E731
            bn, bw = best(narrow_ps), best(wide_ps)
            at = wid[np.isclose(wid["rho"], rho)]
            s = lambda p: at[at["p_S"] == p].set_index("seed")["acc_test_S"]  # noqa: E731
            looks = len(narrow_ps) * len(wide_ps)  # the pair read was picked among these on the same seeds
            cases[f"ρ = {rho:g} (p^S = {bn} vs {bw}, picked among {looks} pairs of widths on seed means)"] = Evidence.paired(
                s(bn), s(bw), unit="pct", looks=looks)
        ev["fig21.narrow_gain"] = (weakest(cases, 0.0) if cases else
                                   Evidence.none("no ρ in the weak-leakage phase, or no width on one side of p^T",
                                                 unit="pct"))
        lo, hi = (int(round(f * cfg.p)) for f in NONLINEAR_WIDTHS)
        at = wid[np.isclose(wid["rho"], NONLINEAR_RHO)]
        if at.empty or not {lo, hi} <= set(at["p_S"]):
            ev["fig21.half_vs_double"] = Evidence.none(f"ρ = {NONLINEAR_RHO:g} with p^S = {lo} and {hi} not run",
                                                       unit="pct")
        else:
            s = lambda p: at[at["p_S"] == p].set_index("seed")["acc_test_S"]  # noqa: E731
            ev["fig21.half_vs_double"] = paired(s(lo), s(hi), detail=f"ρ = {NONLINEAR_RHO:g}")
    return [check_claim(spec, ev, note, post_hoc=post_hoc_note(cfg)) for spec in _fig21_specs(cfg)], ev, means


def derive_fig21(tables: dict, cfg: ReluConfig) -> Part:
    """Fig. 21's claims and the means its plot draws."""
    claims, ev, wid = fig21_claims(tables["runs"], cfg)
    return Part(claims, ev, tables={"width": wid})


FIGURE = Figure("fig21", "Fig. 21: the student's width over ρ", derive=derive_fig21)
