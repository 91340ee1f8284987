"""Fig. 5A (c = 2, the thresholds against τ): the onset of held-out recovery near the counting threshold 1/(ρc),
the teacher's capacity at Cover's, the order α_id^S < α_label^S ≤ α_label^T, the student's capacity arriving at
the teacher's as τ → 0, and the direction in which the shuffled student's capacity moves with τ. Its claim specs
for the onset, the order and the capacity serve Fig. 15 (c = 10) too. Every threshold is declared here, with
where it comes from."""

from __future__ import annotations

import math

import pandas as pd

from ... import theory
from ...chapters import Figure, Part, Verdicts
from ...rules import AllOf, Above, Below, ClaimSpec, Equivalent, Within, fmt
from .analysis import code_reading, cover_band
from .common import (HIGH_TAU, REF_TAU, SAY, grid_step, order_teacher, paired_thresholds, sweep_evidence,
                     tau_sweep, threshold_metrics)
from .config import MultinomialConfig

PAPER_ID_EXCESS = 2.0 * 0.55  # the paper's Fig. 5B line α·c ≈ 2.0 over its theory 1/ρ = 1/0.55: a factor 1.1


def id_spec(c: int, rho: float, step: float) -> ClaimSpec:
    theory_id = theory.alpha_id_multiclass(rho, c)
    low, high = theory_id - step / 2, theory_id * PAPER_ID_EXCESS + step / 2
    return ClaimSpec(
        f"c{c}.alpha_id",
        f"c = {c}: at high τ, held-out recovery starts near the counting threshold α_id^S = 1/(ρc)",
        f"1/(ρc) = {fmt(theory_id)} (the counting argument; the paper gives no number"
        + (" for c = 2 beyond Fig. 5A)" if c == 2 else " for c = 10)"),
        Within(f"c{c}.alpha_id_S.high_tau", low, high, "theory",
               f"1/(ρc) = {fmt(theory_id)}, up to the paper's own excess over theory in Fig. 5B (2.0 vs 1/0.55 = "
               f"{1 / 0.55:.2f}: ×{PAPER_ID_EXCESS:.2f}), ± half an α step ({fmt(step / 2)}): an onset read on the "
               "grid lies up to one step from the true one, of which the interval carries the other half; an onset "
               "never reached on the grid is censored beyond its end",
               label=f"α_id^S, median over τ ≥ {HIGH_TAU:g}"),
    )


def order_spec(c: int, step: float) -> ClaimSpec:
    return ClaimSpec(
        f"c{c}.order",
        f"c = {c} at τ ≈ {REF_TAU:g}: the thresholds keep their order, α_id^S < α_label^S ≤ α_label^T",
        "the order of the thresholds remains the same" + (" (Fig. 5A)" if c == 2 else
                                                          " for c = 10 (§5.1, App. D.2, Fig. 15B)"),
        AllOf(
            Above(f"c{c}.order.window", 0.0, "paper", "α_id^S < α_label^S: a window of more than one grid point",
                  label="α_label^S − α_id^S, paired by seed"),
            order_teacher(f"c{c}.order.teacher", step),
        ),
    )


def label_S_spec(c: int, step: float) -> ClaimSpec:
    return ClaimSpec(
        f"c{c}.label_S_to_T",
        f"c = {c}: as τ → 0 the student's capacity α_label^S arrives at the teacher's α_label^T",
        "'the scaling of α_label^S at τ → 0 should arrive at α_label^T' (§5.1)",
        Equivalent.margin(f"c{c}.label_S_to_T", 0.0, 2 * step, "paper",
                          f"declared margin: two α grid steps ({fmt(2 * step)}), one for the resolution of the two "
                          "thresholds (carried in the interval) and one of slack",
                      label="α_label^S (fits D_train^S) − α_label^T at the smallest τ, paired by seed"),
    )


def fig5a_claims(runs: pd.DataFrame, cfg: MultinomialConfig):
    """Fig. 5A (c = 2, thresholds against τ): α_id^S, α_label^T, the order, α_label^S at τ → 0 and
    the shuffled student's direction. Returns ``(claims, evidence)``."""
    means, th, seeds, taus, sub = tau_sweep(runs, "tau_c2")
    ev = sweep_evidence(2, sub, means, seeds, taus)
    step = grid_step(means["alpha"])
    lo, hi = cover_band(cfg.d)
    by = seeds.set_index(["tau", "seed"])
    ev["c2.shuffle_move"] = paired_thresholds(by.xs(taus[-1], level="tau")["alpha_label_S_shuffle"],
                                              by.xs(taus[0], level="tau")["alpha_label_S_shuffle"], means["alpha"],
                                              detail=f"τ = {taus[-1]:.3g} less τ = {taus[0]:.3g}")
    specs = [
        id_spec(2, cfg.rho, step),
        ClaimSpec("c2.alpha_label_T", "c = 2: the teacher memorizes its labels up to α_label^T ≈ 1 (Cover's capacity)",
                  "α_label^T ≈ 1, independent of τ (Fig. 5A; 1.96/2 = 0.98 at d = 1600, §4)",
                  Within("c2.alpha_label_T", lo, hi, "theory",
                         f"Cover's 95 % band at d = {cfg.d}, [{fmt(lo)}, {fmt(hi)}] in α = n/(2d); the interval carries "
                         f"half an α step ({fmt(step / 2)}) of grid resolution", label="α_label^T")),
        order_spec(2, step),
        label_S_spec(2, step),
        ClaimSpec("c2.shuffle_direction",
                  "c = 2: the shuffled student's capacity α_label^{S-shuffle} moves from α_id^S towards α_label^T "
                  "as τ increases",
                  "'α_label^{S-shuffle} transitions from α_id^S to α_label^T as τ increases' (§5.1)",
                  Above("c2.shuffle_move", 0.0, "paper", "it increases with τ",
                        label="α_label^{S-shuffle} at the largest τ − at the smallest, paired by seed")),
        ClaimSpec("c2.shuffle_counting",
                  "c = 2: the shuffled student's capacity decreases with τ, as the counting argument predicts "
                  "(at high τ it must fit logit vectors of other inputs: ρn ≤ d; at low τ only the classes)",
                  "not the paper's: the book's counting argument (spec §4.9)",
                  Below("c2.shuffle_move", 0.0, "theory", "the counting argument: it decreases with τ",
                        label="α_label^{S-shuffle} at the largest τ − at the smallest, paired by seed"),
                  kind="book"),
    ]
    return [s.check(ev) for s in specs], ev


def derive(tables: dict, cfg: MultinomialConfig) -> Part:
    """Fig. 5A's claims and evidence, and the numbers the page glues: theory, Cover's band and the thresholds of
    the seed means (``th2``, Fig. 14's table)."""
    claims, ev = fig5a_claims(tables["runs"], cfg)
    th2 = tables["th2"]
    runs = tables["runs"]
    shuffled = runs[(runs["experiment"] == "tau_c2") & runs["shuffled"]]
    code = code_reading(shuffled, "acc_train_S") if len(shuffled) else pd.Series(dtype=float)
    lo, hi = cover_band(cfg.d)
    metrics = {"c2.theory.alpha_id_S": theory.alpha_id_multiclass(cfg.rho, 2),
               "c2.means.alpha_label_T": float(th2["alpha_label_T"].iloc[0]),
               "c2.means.shuffle.tau_min": float(th2["alpha_label_S_shuffle"].iloc[0]),
               "c2.means.shuffle.tau_max": float(th2["alpha_label_S_shuffle"].iloc[-1]),
               "c2.theory.cover_low": lo, "c2.theory.cover_high": hi, **threshold_metrics("c2", th2)}
    if len(code):  # the authors' notebook's reading of the same runs (report: discrepancies)
        metrics.update({"c2.shuffle.code_reading.tau_min": float(code.iloc[0]),
                        "c2.shuffle.code_reading.tau_max": float(code.iloc[-1]),
                        "c2.shuffle_move.code_reading": float(code.iloc[-1] - code.iloc[0])})
    return Part(claims=claims, evidence=ev, metrics=metrics)


def read(v: Verdicts) -> str:
    """The page's paragraph on the shuffled student (its capacity against τ)."""
    move = v.metrics.get("c2.shuffle_move", float("nan"))
    way = ("could not be measured at both ends of the τ grid" if not math.isfinite(move) else
           f"{'rises' if move > 0 else 'falls' if move < 0 else 'does not move'} with τ (by {fmt(move)} in α, "
           "mean over seeds)")
    return (f"\n\n**The shuffled student.** Its capacity {way}: the "
            f"paper's direction (from α_id^S towards α_label^T as τ grows) {SAY[v['c2.shuffle_direction']]}; "
            f"the counting argument's (a decrease) {SAY[v['c2.shuffle_counting']]}." + _code_reading_text(v.metrics))


def _code_reading_text(metrics) -> str:
    """The same runs read as the authors' notebook reads Fig. 5A (:func:`code_reading`), when recorded."""
    move = metrics.get("c2.shuffle_move.code_reading", float("nan"))
    if not isinstance(move, (int, float)) or not math.isfinite(move):
        return ""
    return (f" Read as the authors' notebook reads it (on the seed means, the largest α at which every seed's "
            f"training accuracy is 100 %), the shuffled student's capacity goes from "
            f"{fmt(metrics['c2.shuffle.code_reading.tau_min'])} at the smallest τ to "
            f"{fmt(metrics['c2.shuffle.code_reading.tau_max'])} at the largest ({'+' if move > 0 else ''}{fmt(move)}): "
            f"{_agree(move, metrics.get('c2.shuffle_move', float('nan')))}.")


def _agree(code: float, book: float) -> str:
    if not math.isfinite(book):
        return "the book's own reading could not be measured at both ends"
    if (code > 0) == (book > 0) and code != 0 and book != 0:
        return "the direction of the book's reading"
    return "not the direction of the book's reading"


FIGURE = Figure("fig5a", "Fig. 5A: the thresholds against τ, two classes",
                derive=derive, read=read, needs="c2.shuffle_direction")
