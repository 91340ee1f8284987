"""Fig. 4A: the three thresholds at ρ = 0.8. The teacher's capacity α_label^T against Cover's finite-d window and
at a smaller d, the student's capacity α_label^S equal to it, identifiability from α_id^S = 1/ρ, and the shape of
acc_test_S(α): from chance, rising monotonically to perfect, falling again past α_label^T. Every threshold is
declared here, with where it comes from."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import stats

from ... import theory
from ...chapters import Figure, Part, Verdicts
from ...claims import Claim
from ...metrics import FULL
from ...rules import AllOf, AtLeast, AtMost, Above, Below, ClaimSpec, Equivalent, Evidence, Within, fmt
from .common import (WEAK, alpha_step, censored_samples, drop_per_seed, grid_ends, id_tolerance, num_teachers,
                     onset_per_seed, paired_thresholds, per_seed_at, rhos_on_grid, standard_runs,
                     teacher_threshold_per_seed, thresholds)
from .config import LogisticConfig, focus_rho

PAPER_D = 1600  # the paper's dimension (Fig. 4, Fig. 12)
PAPER_ALPHA_LABEL_T = 1.96  # paper §5.1: α_label^T(d = 1600) ≃ 1.96
PAPER_ALPHA_ID = 1.26  # paper §5.1: α_id^S(ρ = 0.8, d = 1600) ≃ 1.26 (theory 1/0.8 = 1.25)
COVER_LEVEL = 0.99  # Cover's finite-d window: from where P(separable) falls below 0.99 to where it falls below 0.01
MONOTONE_MARGIN = 0.05  # book: a fall under 5 points between neighbouring α counts as flat ("grows monotonically")
FALL_MIN = 0.10  # book: "decreases again" read as a fall of at least 10 points, twice the margin read as flat


def cover_separable_probability(n: int, d: int) -> float:
    """Cover (1965): the probability that n points in general position in R^d with random labels are
    split by a hyperplane through the origin, 2^(1−n) Σ_{k<d} C(n−1, k) = P(Bin(n−1, ½) ≤ d − 1)."""
    return float(stats.binom.cdf(d - 1, n - 1, 0.5)) if n > d else 1.0


def cover_window(d: int, level: float = COVER_LEVEL) -> tuple[float, float]:
    """α = n/d (n even) where Cover's separability probability first falls below ``level`` and below
    ``1 − level``: the finite-d window around the d → ∞ capacity 2 (it narrows like 1/√d)."""
    ns = np.arange(2, 8 * d + 2, 2)
    p = stats.binom.cdf(d - 1, ns - 1, 0.5)
    return float(ns[np.argmax(p < level)] / d), float(ns[np.argmax(p < 1 - level)] / d)


def _curve(runs: pd.DataFrame, d: int, rho: float) -> pd.DataFrame:
    """acc_test_S per (α, seed) at one ρ: rows α (sorted), columns seeds."""
    sub = standard_runs(runs, d)
    sub = sub[np.isclose(sub["rho"], rho)]
    return sub.pivot_table(index="alpha", columns="seed", values="acc_test_S", aggfunc="first", dropna=False).sort_index()


def fig4a_specs(cfg: LogisticConfig, step: float, rho: float) -> list[ClaimSpec]:
    lo, hi = cover_window(cfg.d)
    lo_c = cover_window(cfg.d_compare)[0] if cfg.d_compare else float("nan")
    tol = id_tolerance(rho, cfg.d, step)
    a_id = float(theory.alpha_id_student(rho))
    return [
        ClaimSpec(
            "fig4a.alpha_label_T",
            f"The teacher's memorization capacity α_label^T at finite d lies close to Cover's d → ∞ value 2 (d = {cfg.d})",
            f"≃ {PAPER_ALPHA_LABEL_T} at d = {PAPER_D}, 'already close to' Cover's 2",
            Within("alpha_label_T.per_seed", lo, hi, "theory",
                   f"Cover's window at d = {cfg.d} (P(separable) from {COVER_LEVEL:g} down to {1 - COVER_LEVEL:.2g}: "
                   f"{fmt(lo)} … {fmt(hi)}); the α grid's half step is in the interval", label="α_label^T over seeds"),
        ),
        ClaimSpec(
            "fig4a.alpha_label_T_finite_size",
            f"The capacity is smaller at the smaller dimension (d = {cfg.d_compare} against d = {cfg.d})",
            f"d = 200 (grey) leaves 1.0 before d = {PAPER_D} in Fig. 4A.1",
            Above("alpha_label_T.d_gap", 0.0, "theory",
                  f"Cover's window narrows like 1/√d (its lower edge moves from {fmt(lo_c)} to {fmt(lo)}): "
                  "strictly smaller, the interval excluding 0", label=f"α_label^T(d = {cfg.d}) − α_label^T(d = {cfg.d_compare})"),
        ),
        ClaimSpec(
            "fig4a.alpha_label_S_equals_T",
            "The pseudo-inverse student's capacity α_label^S equals the teacher's α_label^T: on D_train^S it "
            "reproduces the teacher's labels, right or wrong",
            "acc_*^T and acc_train^S leave 1.0 at the same α (Fig. 4A.1, A.2)",
            AllOf(
                Equivalent.margin("alpha_label_S_minus_T.focus", 0.0, 2 * step, "theory",
                                  "equal up to the α grid: two grid steps (a difference of two grid readings is "
                                  "itself known only to ± one step)",
                                  label=f"α_label^S(ρ = {rho:g}) − α_label^T, paired over seeds"),
                AtLeast("acc_match_T_train.min", FULL, "theory",
                        "the student interpolates the teacher's logits: its training predictions are the teacher's "
                        "in every run (the worst run decides; 'perfect' read at 0.99)",
                        label="lowest acc_match-T on D_train^S over all runs", unit="pct"),
            ),
        ),
        ClaimSpec(
            "fig4a.alpha_id_S",
            f"Identifiability: acc_test_S reaches 0.99 from α_id^S(ρ) = 1/ρ, at ρ = {rho:g} and at every ρ whose 1/ρ "
            "lies below α_label^T (the onset of mse_test < 0.1 too)",
            f"≃ {PAPER_ALPHA_ID} at ρ = 0.8, d = {PAPER_D} (theory 1.25)",
            AllOf(
                Within.around("alpha_id_S.focus.per_seed", a_id, tol, "theory",
                              f"1/ρ = {fmt(a_id)} ± {fmt(tol)} (one α grid step, the cell the onset is known to, plus "
                              "< 1 sample per class lost to rounding ρn/2 down)", label=f"α_id^S(ρ = {rho:g}) over seeds"),
                AtLeast("alpha_id_S.share_on_line", 1.0, "theory",
                        "every such ρ: both onsets (on seed means) within the same tolerance of 1/ρ",
                        label="share of ρ whose acc_test_S and mse_test onsets sit on 1/ρ", unit="pct"),
            ),
        ),
        ClaimSpec(
            "fig4a.test_from_chance",
            f"At ρ = {rho:g}, acc_test_S starts at the trivial (random guessing) accuracy at the smallest α",
            "'grows monotonically in α from the trivial random guessing accuracy'",
            Below("acc_test_S.focus.first", WEAK, "paper", "'close to trivial accuracy' is acc_test^S < 0.55 (Fig. 4 caption)",
                  label="acc_test_S at the smallest α", unit="pct"),
        ),
        ClaimSpec(
            "fig4a.test_rises",
            f"At ρ = {rho:g}, acc_test_S grows monotonically in α up to perfect accuracy below α_label^T",
            "'The test accuracy grows monotonically in α from the trivial random guessing accuracy up to perfect "
            "accuracy, and at some point it decreases again' (§5.1)",
            AllOf(
                AtMost("acc_test_S.focus.worst_step", MONOTONE_MARGIN, "paper",
                       f"'grows monotonically': at no step between neighbouring α below α_label^T a fall of more than "
                       f"{fmt(MONOTONE_MARGIN, 'pct')} (book margin for flat); the step with the highest upper end is "
                       "read, Bonferroni over every step looked at",
                       label="largest fall between neighbouring α below α_label^T, paired over seeds", unit="pct"),
                AtLeast("acc_test_S.focus.peak", FULL, "paper", "'up to perfect accuracy' read at 0.99 (Fig. 4B, green); "
                        "the best α is read, Bonferroni over the α looked at",
                        label="acc_test_S at its best α below α_label^T", unit="pct"),
            ),
        ),
        ClaimSpec(
            "fig4a.test_falls",
            f"At ρ = {rho:g}, acc_test_S falls again past α_label^T, with the teacher's accuracy",
            "'at some point it decreases again'",
            AllOf(
                AtLeast("acc_test_S.focus.fall", FALL_MIN, "book",
                        f"a fall of at least {fmt(FALL_MIN, 'pct')}, twice the margin read as flat in the rise; the "
                        "best α below α_label^T is selected, Bonferroni over the α looked at",
                        label="acc_test_S at its best α below α_label^T − at the largest α, paired over seeds", unit="pct"),
                Below("acc_test_S.focus.last", FULL, "paper", "no longer perfect: below 0.99",
                      label="acc_test_S at the largest α (past α_label^T)", unit="pct"),
            ),
        ),
    ]


def fig4a_claims(runs: pd.DataFrame, cfg: LogisticConfig, th: dict) -> tuple[list[Claim], dict[str, Evidence]]:
    """Fig. 4A: the three thresholds and the shape of acc_test_S at ρ = 0.8, decided over seeds.

    Every threshold is read per seed as the midpoint of the grid cell it lies in (half an α step of
    resolution); one the grid does not hold is censored beyond the grid's end and still decides.
    """
    step, rho = alpha_step(runs, cfg.d), focus_rho(cfg)
    a_T, ends = th["alpha_label_T"], grid_ends(runs, cfg.d)
    ev: dict[str, Evidence] = {}
    per_T = teacher_threshold_per_seed(runs, cfg.d)
    ev["alpha_label_T.per_seed"] = censored_samples(per_T, ends, resolution=step, detail="spec §3.7 rule per seed")
    if cfg.d_compare:
        per_T_c, ends_c = teacher_threshold_per_seed(runs, cfg.d_compare), grid_ends(runs, cfg.d_compare)
        ev["alpha_label_T.d_compare.per_seed"] = censored_samples(per_T_c, ends_c, resolution=alpha_step(runs, cfg.d_compare),
                                                                  detail="spec §3.7 rule per seed")
        ev["alpha_label_T.d_gap"] = paired_thresholds(per_T, per_T_c, ends, ends_c, step=step,
                                                      detail="paired by seed number; a difference of two grid readings")
    else:
        ev["alpha_label_T.d_gap"] = Evidence.none("no d_compare at this preset")

    per_S = per_seed_at(runs, cfg.d, rho, lambda g: drop_per_seed(g["alpha"], g["acc_train_S"]))
    ev["alpha_label_S_minus_T.focus"] = paired_thresholds(per_S, per_T.reindex(per_S.index), ends, ends, step=step,
                                                          detail="paired by seed")
    std = standard_runs(runs, cfg.d)
    ev["acc_match_T_train.min"] = (
        Evidence.exact(std["acc_match_T_train"].min(), unit="pct", n=num_teachers(std), of="teachers",
                       detail=f"worst of {len(std)} runs")
        if len(std) else Evidence.none(unit="pct"))

    per_id = per_seed_at(runs, cfg.d, rho, lambda g: onset_per_seed(g["alpha"], g["acc_test_S"]))
    ev["alpha_id_S.focus.per_seed"] = censored_samples(per_id, ends, resolution=step,
                                                       detail="grid cell where acc_test_S first reaches 0.99, per seed")
    ev["alpha_id_S.share_on_line"] = _share_on_line(runs, cfg, th, step)
    ev.update(curve_evidence(_curve(runs, cfg.d, rho), a_T))
    claims = [spec.check(ev) for spec in fig4a_specs(cfg, step, rho)]
    return claims, ev


def _share_on_line(runs: pd.DataFrame, cfg: LogisticConfig, th: dict, step: float) -> Evidence:
    """The share of ρ (1/ρ inside the memorized range) whose onsets on seed means both sit on 1/ρ; an onset
    never reached counts as off the line. A measured number over the seeds' means (not a share of runs)."""
    on_grid = rhos_on_grid(runs, cfg, th["alpha_label_T"], step)
    if not on_grid:
        return Evidence.none("no ρ with 1/ρ inside the memorized range", unit="pct")
    on_line = [r for r in on_grid if all(
        math.isfinite(onset) and abs(onset - theory.alpha_id_student(r)) <= id_tolerance(r, cfg.d, step)
        for onset in (th["alpha_id_S"][r], th["alpha_id_S_mse"][r]))]
    return Evidence.exact(len(on_line) / len(on_grid), unit="pct", n=int(runs["seed"].nunique()), of="seeds",
                          detail=f"{len(on_line)} of {len(on_grid)} ρ, onsets on seed means")


def curve_evidence(curve: pd.DataFrame, a_T: float) -> dict[str, Evidence]:
    """The shape of acc_test_S(α) at one ρ (rows α, columns seeds): start, monotone rise, peak, fall.

    Where a cell is selected by the data (the step with the worst fall, the best α) its interval is
    Bonferroni-corrected over the cells looked at, so that the selection cannot make a claim pass or fail.
    """
    ev = {"acc_test_S.focus.first": (Evidence.samples(curve.iloc[0], unit="pct", detail=f"α = {fmt(curve.index[0])}")
                                     if len(curve) else Evidence.none(unit="pct"))}
    below = curve[curve.index < a_T] if not math.isnan(a_T) else curve.iloc[:0]  # +inf: the whole grid is below
    past = curve[curve.index > a_T] if not math.isnan(a_T) else curve.iloc[:0]
    if len(below) >= 2:
        steps = len(below) - 1
        falls = [Evidence.paired(below.iloc[i], below.iloc[i + 1], unit="pct", looks=steps,
                                 detail=f"α = {fmt(below.index[i])} → {fmt(below.index[i + 1])}, worst of {steps} steps")
                 for i in range(steps)]
        ev["acc_test_S.focus.worst_step"] = _worst_fall(falls)
        best = int(np.argmax(below.mean(axis=1, skipna=False).to_numpy()))  # a missing run: NaN, untested downstream
        ev["acc_test_S.focus.peak"] = Evidence.samples(below.iloc[best], unit="pct", looks=len(below),
                                                       detail=f"α = {fmt(below.index[best])}, best of {len(below)} α")
    else:
        ev["acc_test_S.focus.worst_step"] = Evidence.none("fewer than two α below α_label^T", unit="pct")
        ev["acc_test_S.focus.peak"] = Evidence.none("fewer than two α below α_label^T", unit="pct")
    ev["acc_test_S.focus.last"] = (Evidence.samples(past.iloc[-1], unit="pct", detail=f"α = {fmt(past.index[-1])}")
                                   if len(past) else Evidence.none("no α past α_label^T", unit="pct"))
    ev["acc_test_S.focus.fall"] = (
        Evidence.paired(below.iloc[best], past.iloc[-1], unit="pct", looks=len(below),
                        detail=f"α = {fmt(below.index[best])} → {fmt(past.index[-1])}, best of {len(below)} α")
        if len(past) and len(below) >= 2 else Evidence.none("no α on one side of α_label^T", unit="pct"))
    return ev


def _worst_fall(falls: list[Evidence], margin: float = MONOTONE_MARGIN) -> Evidence:
    """The step a "no fall over ``margin`` anywhere" rule must read: a missing step if any (untested); else
    the step whose fall is shown largest (highest lower end) when some step's interval lies above the
    margin, and the step with the highest upper end otherwise. So the rule fails only if some step's
    (corrected) interval lies above the margin, and holds only if every step's lies below it."""
    missing = [f for f in falls if f.missing]
    if missing:
        return missing[0]
    if any(f.low > margin for f in falls):
        return max(falls, key=lambda f: f.low)
    return max(falls, key=lambda f: f.high)


def fig4a_metrics(tables: dict, cfg: LogisticConfig) -> dict[str, object]:
    """The numbers the page glues beside Fig. 4A's evidence: the thresholds on seed means, Cover's window and the
    theory's values, every ρ's onsets, and the largest mse_train (the student interpolates the teacher)."""
    runs, means, th, rho = tables["runs"], tables["means"], tables["thresholds"], tables["rho"]
    lo, hi = cover_window(cfg.d)
    return {
        "alpha_grid_step": alpha_step(runs, cfg.d), "num_seeds": int(runs["seed"].nunique()),
        "alpha_label_T": th["alpha_label_T"],
        "alpha_label_T.d_compare": thresholds(means, cfg.d_compare)["alpha_label_T"] if cfg.d_compare else float("nan"),
        "cover.low": lo, "cover.high": hi, "theory.alpha_label_T": theory.alpha_label_teacher(),
        "alpha_label_S.focus": th["alpha_label_S"][rho], "alpha_id_S.focus": th["alpha_id_S"][rho],
        "alpha_id_S_mse.focus": th["alpha_id_S_mse"][rho], "theory.alpha_id_S.focus": float(theory.alpha_id_student(rho)),
        "rhos": list(th["alpha_id_S"]), "alpha_id_S.by_rho": list(th["alpha_id_S"].values()),
        "alpha_id_S_mse.by_rho": list(th["alpha_id_S_mse"].values()),
        "alpha_label_S.by_rho": list(th["alpha_label_S"].values()),
        "mse_train.max": float(standard_runs(runs, cfg.d)["mse_train"].max()),
    }


def derive(tables: dict, cfg: LogisticConfig) -> Part:
    """Fig. 4A's claims, decided over seeds, and its glued numbers."""
    claims, ev = fig4a_claims(tables["runs"], cfg, tables["thresholds"])
    return Part(claims, ev, metrics=fig4a_metrics(tables, cfg))


_VERB = {"reproduces": "reproduces", "fails": "does not reproduce", "inconclusive": "is inconclusive",
         "untested": "is not tested"}
_SAYS = {"reproduces": "as the paper says", "fails": "unlike the paper", "inconclusive": "not settled at this preset",
         "untested": "not tested at this preset"}


def read(v: Verdicts) -> list[str]:
    """The page's paragraphs on capacity (α_label^T, at two d) and identifiability (α_id^S = 1/ρ)."""
    metrics, parts = v.metrics, []
    if "fig4a.alpha_label_T" in v:
        verdict = v["fig4a.alpha_label_T"]
        parts.append(f"**Capacity.** The teacher's α_label^T at d = {metrics['d']} is {fmt(metrics['alpha_label_T'])} on seed "
                     f"means; against Cover's window at this d ({fmt(metrics['cover.low'])} … {fmt(metrics['cover.high'])}) "
                     f"the claim {_VERB[verdict]} ({_SAYS[verdict]}).")
        if "fig4a.alpha_label_T_finite_size" in v:
            parts[-1] += (f" At d = {metrics['d_compare']} it is {fmt(metrics['alpha_label_T.d_compare'])}: 'smaller at "
                          f"smaller d' {_VERB[v['fig4a.alpha_label_T_finite_size']]}.")
    if "fig4a.alpha_id_S" in v:
        text = v.say(
            "fig4a.alpha_id_S",
            reproduces="Held-out recovery starts where the theory puts it, α = 1/ρ, at every ρ tested",
            fails="Held-out recovery does not start on the theory line α = 1/ρ at every ρ tested",
            inconclusive="Whether held-out recovery starts on α = 1/ρ is not settled by this run",
            untested="The onset of held-out recovery could not be compared with α = 1/ρ at this preset",
        )
        parts.append(f"**Identifiability.** {text}: at ρ = {fmt(metrics['rho_focus'])} it starts at "
                     f"{fmt(metrics['alpha_id_S.focus'])} on seed means (theory {fmt(metrics['theory.alpha_id_S.focus'])}).")
    return parts


FIGURE = Figure("fig4a", "Fig. 4A: accuracies against α at ρ = 0.8", derive=derive, read=read)
