"""Fig. 7A, B: the phase diagram on the α × ρ grid: its five regions, the order of the thresholds α_label^S <
α_id^S, and the dip of acc_test_S in α at ρ = curve.rho. Every threshold is declared here."""
from __future__ import annotations
import numpy as np
import pandas as pd

from ... import theory
from ...chapters import Figure, Part
from ...claims import Claim
from ...metrics import FULL
from ...rules import AllOf, Above, AtLeast, AtMost, Below, ClaimSpec, Evidence, fmt
from .analysis import METRIC_COLUMNS, REGION_NAMES, figure_means, phase_regions, thresholds_by_rho
from .common import EVERY_RUN_LEVEL, check_claim, gaps, paired, post_hoc_note, samples, seed_mean, seeds_note, wide
from .config import ReluConfig, orange_cut

#: each Fig. 7A region as the conditions on a cell that define it: (metric, rule class, threshold name)
REGION_RULES = {
    "green": (("acc_star_T", AtLeast, "full"), ("acc_train_S", AtLeast, "full"), ("acc_test_S", AtLeast, "full")),
    "blue": (("acc_star_T", AtLeast, "full"), ("acc_train_S", AtLeast, "full"), ("acc_test_S", Below, "full")),
    "lightblue": (("acc_star_T", AtLeast, "full"), ("acc_train_S", Below, "full")),
    "orange": (("acc_star_T", Below, "full"), ("acc_test_S", Above, "orange")),
    "red": (("acc_star_T", Below, "full"), ("acc_test_S", AtMost, "orange")),
}


def _fig7_specs(cfg: ReluConfig) -> list[ClaimSpec]:
    cut = orange_cut(cfg.c)
    source = {"full": (FULL, "paper", "100 %, read at the book's 0.99"),
              "orange": (cut, "chance", f"10 × chance 1/c (the authors' 0.1 at c = 100), here {fmt(cut)}")}
    parts = [rule(f"fig7.{name}.{metric}", source[t][0], source[t][1], source[t][2], label=f"{name} cell: {metric}",
                  unit="pct")
             for name, conds in REGION_RULES.items() for metric, rule, t in conds]
    a_star = cfg.curve.rho
    return [
        ClaimSpec("fig7.regions", "Fig. 7A: all five regions occur, including light blue (weak leakage without "
                  "memorizing D_train^S), which logistic regression lacks",
                  "five regions: blue, light blue, green, orange, red", AllOf(*parts)),
        ClaimSpec("fig7.order", "Fig. 7A: memorization fails before identification succeeds, α_label^S < α_id^S, "
                  "unlike multinomial regression", "α_label^S < α_id^S",
                  AtLeast("fig7.order", EVERY_RUN_LEVEL, "paper",
                          "α_label^S < α_id^S at every ρ where both thresholds lie inside the grid, in every seed; "
                          f"'every seed' read as most seeds with 95 % confidence (Clopper–Pearson lower end ≥ "
                          f"{fmt(EVERY_RUN_LEVEL, 'pct')}, book)",
                          label="share of seeds with α_label^S < α_id^S at every such ρ", unit="pct")),
        ClaimSpec("fig7.nonmonotone", f"Fig. 7B.2 (ρ = {a_star:g}): acc_test_S, as a function of α, first decreases "
                  "then rises to 100 %",
                  "'acc_test_S decreases before it increases as a function of the sample complexity α'",
                  AllOf(Above("fig7.dip", 0.0, "paper", "decreases",
                              label="acc_test_S at the smallest α minus at the α just before full recovery, by seed",
                              unit="pct"),
                        AtLeast("fig7.rise", FULL, "paper", "rises to 100 %, read at the book's 0.99",
                                label="acc_test_S at the first α of full recovery", unit="pct"))),
    ]


def deepest_cell(means: pd.DataFrame, conds, cut: float) -> tuple[float, float]:
    """The (α, ρ) whose seed means lie deepest inside a region (largest smallest margin to its cuts);
    outside every cell, the one nearest to it."""
    def margin(row) -> float:
        out = []
        for metric, rule, t in conds:
            x, edge = row[metric], FULL if t == "full" else cut
            out.append(x - edge if rule in (AtLeast, Above) else edge - x)
        return min(out)

    best = means.assign(_m=means.apply(margin, axis=1)).sort_values(["_m", "alpha", "rho"], ascending=[False, True, True])
    return float(best["alpha"].iloc[0]), float(best["rho"].iloc[0])


def _per_seed_order(grid: pd.DataFrame, rhos) -> pd.Series:
    """Per seed: 1 if the seed's α_label^S < α_id^S at every one of ``rhos``, else 0 (no recovery on the grid:
    α_id^S beyond its end, +∞; never memorizing: α_label^S below its start, −∞); NaN where a run is missing."""
    out = {}
    n_alphas = grid["alpha"].nunique()
    for seed, g in grid.groupby("seed"):
        hits = []
        for r in rhos:
            gr = g[np.isclose(g["rho"], r)]
            if len(gr) != n_alphas or gr[["acc_train_S", "acc_test_S"]].isna().any().any():  # a missing run
                hits.append(np.nan)
                continue
            lab = theory.last_of_first_run(gr["alpha"], gr["acc_train_S"], FULL)
            ident = theory.onset_threshold(gr["alpha"], gr["acc_test_S"], FULL)
            lab = -np.inf if np.isnan(lab) else lab
            ident = np.inf if np.isnan(ident) else ident
            hits.append(float(lab < ident))
        out[seed] = float(np.min(hits)) if hits else np.nan  # NaN (a missing run) propagates
    return pd.Series(out, dtype=float)


def fig7_claims(runs: pd.DataFrame, cfg: ReluConfig) -> tuple[list[Claim], dict[str, Evidence], dict[str, pd.DataFrame]]:
    """Fig. 7A, B: the phase diagram on the α × ρ grid. Returns claims, evidence and the grid's
    means, regions and thresholds.

    A region is present when some cell lies in it on the interval over seeds: the cell deepest in the
    region on seed means is picked, and each of the region's conditions is decided on that cell's
    per-seed values with a Bonferroni interval over the grid's cells (the cell was picked among all of
    them on the same seeds). The order α_label^S < α_id^S is a share of seeds (Clopper–Pearson). The dip
    of Fig. 7B.2 is one declared comparison at ρ = ``curve.rho`` (the paper's 0.65): the smallest α against
    the α just before full recovery, and full recovery itself (picked on seed means: Bonferroni over the α).
    """
    grid = runs[(runs["experiment"] == "grid") & (runs["variant"] == "standard")]
    means = figure_means(runs, "grid")
    means = means[means["variant"] == "standard"]
    regions = phase_regions(means, cfg.c)
    th = thresholds_by_rho(means, cfg.d, cfg.p, cfg.c)
    note = seeds_note("Fig. 7", grid["seed"].unique())
    missing = gaps(grid[list(METRIC_COLUMNS[:4])])
    ev: dict[str, Evidence] = {}
    cut = orange_cut(cfg.c)
    for name, conds in REGION_RULES.items():
        if missing or means.empty:
            for metric, _, _ in conds:
                ev[f"fig7.{name}.{metric}"] = Evidence.none(missing or "no grid", unit="pct")
            continue
        a, r = deepest_cell(means, conds, cut)
        cell = grid[np.isclose(grid["alpha"], a) & np.isclose(grid["rho"], r)]
        looks = len(means)
        for metric, _, _ in conds:
            ev[f"fig7.{name}.{metric}"] = samples(cell[metric], looks=looks, detail=(
                f"α = {a:g}, ρ = {r:g}: the deepest of {looks} cells on seed means"))

    both = th.dropna(subset=["alpha_label_S", "alpha_id_S"])
    both = both[np.isfinite(both["alpha_label_S"]) & np.isfinite(both["alpha_id_S"])]
    if missing or both.empty:
        ev["fig7.order"] = Evidence.none(missing or "no ρ has both thresholds inside the grid", unit="pct")
    else:
        order = _per_seed_order(grid, both["rho"])
        ev["fig7.order"] = Evidence.share_of(order.to_numpy(), of="seeds", detail=(
            f"{int(np.nansum(order))} of {len(order)} seeds at ρ = {', '.join(f'{r:g}' for r in both['rho'])}"))

    at = grid[np.isclose(grid["rho"], cfg.curve.rho)]
    W = wide(at, "acc_test_S", columns="alpha")
    if missing or W.shape[1] < 3:
        why = missing or f"fewer than three α at ρ = {cfg.curve.rho:g} on the grid"
        ev["fig7.dip"], ev["fig7.rise"] = Evidence.none(why, unit="pct"), Evidence.none(why, unit="pct")
        dip_alphas = ()
    else:
        m, alphas = seed_mean(W), list(W.columns)
        full = [i for i, a in enumerate(alphas) if m[a] >= FULL]
        i_rec = full[0] if full else 1 + int(np.argmax(m.to_numpy()[1:]))
        if i_rec < 2:
            why = f"full recovery from α = {alphas[i_rec]:g}: no α between it and the smallest"
            ev["fig7.dip"], ev["fig7.rise"] = Evidence.none(why, unit="pct"), Evidence.none(why, unit="pct")
            dip_alphas = ()
        else:
            a0, a_dip, a_rec = alphas[0], alphas[i_rec - 1], alphas[i_rec]
            ev["fig7.dip"] = paired(W[a0], W[a_dip], detail=f"α = {a0:g} vs {a_dip:g}")
            ev["fig7.rise"] = samples(W[a_rec], looks=len(alphas) - 1,
                                       detail=f"α = {a_rec:g}, picked on seed means among {len(alphas) - 1} α")
            dip_alphas = (a0, a_dip, a_rec)

    claims = [check_claim(spec, ev, note, post_hoc=post_hoc_note(cfg)) for spec in _fig7_specs(cfg)]
    ev_extra = {"fig7.dip_alphas": list(dip_alphas)}
    derived = {"grid": means, "regions": regions, "thresholds": th, **ev_extra}
    return claims, ev, derived


def derive_fig7(tables: dict, cfg: ReluConfig) -> Part:
    """Fig. 7A, B's claims; the grid's means, regions and thresholds, and the numbers the page glues from them."""
    claims, ev, f7 = fig7_claims(tables["runs"], cfg)
    th, regions = f7["thresholds"], f7["regions"]
    metrics = {"fig7.regions_present": [r for r in REGION_NAMES if (regions["region"] == r).any()],
               "fig7.regions_strict_present": [r for r in REGION_NAMES if (regions["region_strict"] == r).any()],
               "fig7.alpha_label_T": float(th["alpha_label_T"].iloc[0]) if len(th) else np.nan,
               "fig7.rho": th["rho"].tolist(), "fig7.alpha_label_S": th["alpha_label_S"].tolist(),
               "fig7.alpha_id_S": th["alpha_id_S"].tolist(), "fig7.alpha_count": th["alpha_count"].tolist(),
               "fig7.dip_alphas": f7["fig7.dip_alphas"]}
    return Part(claims, ev, metrics, {"grid": f7["grid"], "regions": regions, "thresholds": th})


FIGURE = Figure("fig7", "Fig. 7A, B: the phase diagram", derive=derive_fig7)
