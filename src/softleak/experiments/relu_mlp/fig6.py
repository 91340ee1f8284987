"""Fig. 6: accuracy against ρ at a small and a large α. At the small α the student memorizes its soft labels and
the held-out accuracy it gets for free grows with ρ; at the large α a weak leak below the small-α curve, then a
drop of the training accuracy, then the jump of both accuracies to 100 %. Every threshold is declared here."""
from __future__ import annotations
import math

import numpy as np
import pandas as pd
from scipy import stats

from ...chapters import Figure, Part
from ...claims import Claim
from ...metrics import FULL
from ...rules import AllOf, Above, AtLeast, Below, ClaimSpec, Equivalent, Evidence
from .analysis import figure_means
from .common import check_claim, gaps, paired, post_hoc_note, samples, seed_mean, seeds_note, weakest, wide
from .config import ReluConfig

SPEARMAN_MONOTONE = 0.8  # book: "increases monotonically" read as a rank correlation of acc_test_S with ρ ≥ 0.8 per seed
VAL_BAND_SE = 3.0  # chance: acc_val_S within 3 binomial standard errors (of one D_val) of 1/c


def _in(values, x: float) -> bool:
    return bool(np.isclose(np.asarray(list(values), dtype=float), x).any())


def _fig6_specs(cfg: ReluConfig) -> list[ClaimSpec]:
    a_s, a_l = min(cfg.fig6.alphas), max(cfg.fig6.alphas)
    chance = 1.0 / cfg.c
    band = VAL_BAND_SE * math.sqrt(chance * (1 - chance) / (cfg.val_per_class * cfg.c))
    full = ("paper", "100 %, read at the book's 0.99")
    return [
        ClaimSpec("fig6.small_memorizes", f"Fig. 6A (α = {a_s:g}): the student memorizes D_train^S perfectly at every ρ",
                  "acc_train_S = 100 % at every ρ",
                  AtLeast("fig6.small.train", FULL, *full, label="acc_train_S at the weakest ρ", unit="pct")),
        ClaimSpec("fig6.small_increases", f"Fig. 6A (α = {a_s:g}): acc_test_S increases monotonically with ρ",
                  "'non-trivial and increases monotonically as more and more data from D*^T is available'",
                  AllOf(Above("fig6.small.rise", 0.0, "paper", "increases",
                              label="acc_test_S at the largest minus the smallest ρ, paired by seed", unit="pct"),
                        AtLeast("fig6.small.spearman", SPEARMAN_MONOTONE, "book",
                                "monotone read as rank correlation ≥ 0.8 (1: strictly monotone)",
                                label="Spearman correlation of acc_test_S with ρ, per seed"))),
        ClaimSpec("fig6.test_above_val", f"Fig. 6 (α = {a_s:g} and {a_l:g}, every ρ): in every case the student beats "
                  "its accuracy on fresh data (acc_val_S) on the held-out D_test^S",
                  "'in all cases shown here … surpass trivial performance on data not seen by the teacher (acc_val_S)'",
                  Above("fig6.test_minus_val", 0.0, "chance", "acc_val_S: the same student on fresh inputs with random labels",
                        label="acc_test_S − acc_val_S, paired by seed, in the weakest (α, ρ)", unit="pct")),
        ClaimSpec("fig6.val_chance", "Fig. 6: acc_val_S is at chance (a control: D_val has random labels by construction)",
                  "acc_val_S trivial (≈ 1/c)",
                  Equivalent.margin("fig6.val", chance, band, "chance",
                                    f"margin: {VAL_BAND_SE:g} binomial standard errors of one D_val",
                                    label="acc_val_S, mean over the figure's students per seed", unit="pct"),
                  kind="book"),
        ClaimSpec("fig6.large_decreases", f"Fig. 6B (α = {a_l:g}): before the jump, while the teacher memorizes, "
                  "acc_test_S slowly decreases as ρ grows",
                  "'a phase where acc_test_S slowly drops while the teacher accuracy acc_*^T remains perfect'",
                  Below("fig6.large.change", 0.0, "paper", "drops",
                        label="acc_test_S at the last minus the first ρ of that phase, paired by seed", unit="pct")),
        ClaimSpec("fig6.large_below", f"Fig. 6B: in that phase acc_test_S is lower than at the same ρ for α = {a_s:g}",
                  "'acc_test_S is lower than for the same ρ at lower sample complexity'",
                  Above("fig6.large.gap", 0.0, "paper", "lower",
                        label=f"acc_test_S(α = {a_s:g}) − acc_test_S(α = {a_l:g}), mean over the phase's ρ, by seed",
                        unit="pct")),
        ClaimSpec("fig6.large_jump", f"Fig. 6B (α = {a_l:g}): as ρ grows acc_train_S first drops below 100 % (teacher at "
                  "100 %), then train and test accuracy jump to 100 %",
                  "'the marked jump after the drop in acc_train_S, where both … immediately rise to 100 %'",
                  AllOf(Below("fig6.large.train_drop", FULL, *full, label="acc_train_S at the first ρ where it drops",
                              unit="pct"),
                        AtLeast("fig6.large.jump", FULL, *full,
                                label="min(acc_train_S, acc_test_S) at the first larger ρ with both full", unit="pct"))),
    ]


def fig6_claims(runs: pd.DataFrame, cfg: ReluConfig) -> tuple[list[Claim], dict[str, Evidence], pd.DataFrame]:
    """Fig. 6: ρ sweeps at a small and a large α. Returns claims, evidence and the figure's means.

    The large-α phase "before the jump" is read off the seed means: the ρ below the first ρ where
    both accuracies are full, with the teacher at 100 %. Its claims are decided on the per-seed
    values at those ρ (the same data set and teacher for every ρ of one seed: truly paired).
    """
    f6 = runs[(runs["experiment"] == "fig6") & (runs["variant"] == "standard")]
    a_s, a_l = min(cfg.fig6.alphas), max(cfg.fig6.alphas)
    note = seeds_note("Fig. 6", f6["seed"].unique())
    small, large = f6[np.isclose(f6["alpha"], a_s)], f6[np.isclose(f6["alpha"], a_l)]
    S = {m: wide(small, m) for m in ("acc_train_S", "acc_test_S", "acc_val_S")}
    L = {m: wide(large, m) for m in ("acc_star_T", "acc_train_S", "acc_test_S", "acc_val_S")}
    ev: dict[str, Evidence] = {}
    rhos = list(S["acc_test_S"].columns)

    ev["fig6.small.train"] = weakest({f"ρ = {r:g}": samples(S["acc_train_S"][r]) for r in rhos}, FULL)
    if len(rhos) >= 2:
        ev["fig6.small.rise"] = paired(S["acc_test_S"][rhos[-1]], S["acc_test_S"][rhos[0]],
                                        detail=f"ρ = {rhos[0]:g} → {rhos[-1]:g}")
        rank = []
        for _, row in S["acc_test_S"].iterrows():
            v = row.to_numpy(dtype=float)
            rank.append(np.nan if not np.isfinite(v).all() else
                        0.0 if np.ptp(v) == 0 else float(stats.spearmanr(rhos, v).statistic))
        ev["fig6.small.spearman"] = samples(rank, detail=f"{len(rhos)} ρ", unit="num")
    cases = {}
    for a, T in ((a_s, S), (a_l, L)):
        for r in T["acc_test_S"].columns:
            cases[f"α = {a:g}, ρ = {r:g}"] = paired(T["acc_test_S"][r], T["acc_val_S"][r])
    ev["fig6.test_minus_val"] = weakest(cases, 0.0)
    per_seed_val = f6.groupby("seed")["acc_val_S"].agg(lambda v: v.mean() if v.notna().all() else np.nan)
    ev["fig6.val"] = samples(per_seed_val, detail=f"{len(f6) // max(len(per_seed_val), 1)} students per seed")

    # the large α: phases read off the seed means
    missing = gaps(*L.values(), *S.values())
    star, train, test = (seed_mean(L[m]) for m in ("acc_star_T", "acc_train_S", "acc_test_S"))
    lr = list(test.index)
    full_both = [r for r in lr if test[r] >= FULL and train[r] >= FULL]
    jump_at = full_both[0] if full_both else np.inf
    pre = [r for r in lr if r < jump_at and star[r] >= FULL]
    none = lambda why: Evidence.none(missing or why, unit="pct")  # noqa: E731
    if missing or len(pre) < 2:
        ev["fig6.large.change"] = none("fewer than two ρ before the jump with the teacher at 100 %")
    else:
        ev["fig6.large.change"] = paired(L["acc_test_S"][pre[-1]], L["acc_test_S"][pre[0]],
                                          detail=f"ρ = {pre[0]:g} → {pre[-1]:g}")
    if missing or not pre or not all(_in(rhos, r) for r in pre):
        ev["fig6.large.gap"] = none("no ρ before the jump with the teacher at 100 %")
    else:
        gap = (S["acc_test_S"][pre] - L["acc_test_S"][pre]).mean(axis=1, skipna=False)
        ev["fig6.large.gap"] = samples(gap, detail=f"ρ = {', '.join(f'{r:g}' for r in pre)}")
    memorizing = [r for r in lr if star[r] >= FULL]
    drops = [r for r in memorizing if train[r] < FULL]
    r_drop = drops[0] if drops else (min(memorizing, key=lambda r: train[r]) if memorizing else None)
    if missing or r_drop is None:
        ev["fig6.large.train_drop"] = ev["fig6.large.jump"] = none("the teacher memorizes at no ρ")
    else:  # both ρ are picked on the seed means of the same seeds: Bonferroni over the ρ looked at
        ev["fig6.large.train_drop"] = samples(L["acc_train_S"][r_drop], looks=len(memorizing),
                                               detail=f"ρ = {r_drop:g}, picked on seed means among {len(memorizing)} ρ")
        later = [r for r in lr if r > r_drop]
        both = lambda r: np.minimum(L["acc_train_S"][r], L["acc_test_S"][r])  # noqa: E731
        if not later:
            ev["fig6.large.jump"] = Evidence.none(f"no ρ above the drop at ρ = {r_drop:g}", unit="pct")
        else:
            hits = [r for r in later if r in full_both]
            r_jump = hits[0] if hits else max(later, key=lambda r: float(both(r).mean()))
            ev["fig6.large.jump"] = samples(both(r_jump), looks=len(later),
                                             detail=f"ρ = {r_jump:g}, picked on seed means among {len(later)} ρ")

    claims = [check_claim(spec, ev, note, post_hoc=post_hoc_note(cfg)) for spec in _fig6_specs(cfg)]
    means = figure_means(runs, "fig6")
    return claims, ev, means[means["variant"] == "standard"]


def derive_fig6(tables: dict, cfg: ReluConfig) -> Part:
    """Fig. 6's claims, and the curves the page glues: the seed means at each ρ for the small and the large α."""
    claims, ev, f6 = fig6_claims(tables["runs"], cfg)
    small = f6[np.isclose(f6["alpha"], min(cfg.fig6.alphas))].sort_values("rho")
    large = f6[np.isclose(f6["alpha"], max(cfg.fig6.alphas))].sort_values("rho")
    metrics = {"fig6.rho": small["rho"].tolist(), "fig6.small.alpha": min(cfg.fig6.alphas),
               "fig6.large.alpha": max(cfg.fig6.alphas),
               **{f"fig6.small.{m}": small[m].tolist() for m in ("acc_train_S", "acc_test_S", "acc_val_S")},
               **{f"fig6.large.{m}": large[m].tolist() for m in ("acc_star_T", "acc_train_S", "acc_test_S")}}
    return Part(claims, ev, metrics, {"fig6": f6})


FIGURE = Figure("fig6", "Fig. 6: accuracy against ρ at a small and a large sample complexity", derive=derive_fig6)
