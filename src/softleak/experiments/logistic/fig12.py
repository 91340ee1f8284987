"""Fig. 12 (and Fig. 4B's orange): wherever the student sees at least d equations (ρn ≥ d: X invertible), below
the teacher's capacity and past it alike, it recovers the teacher exactly, decided on the worst run."""

from __future__ import annotations

import math

import pandas as pd

from ... import theory
from ...chapters import Figure, Part, Verdicts
from ...claims import Claim
from ...metrics import FULL
from ...rules import AllOf, AtLeast, Below, ClaimSpec, Evidence
from .common import num_teachers, standard_runs
from .config import LogisticConfig

MSE_RECOVERED = theory.MSE_RECOVERED  # paper, Fig. 4 caption: the student learned the teacher when mse_test < 0.1


FIG12_SPEC = ClaimSpec(
    "fig12.teacher_recovered",
    "Wherever ρα ≥ 1 (ρn ≥ d: X invertible), below α_label^T and past it alike, the student recovers the teacher: "
    "mse_test ≈ 0 and acc_match-T = 1 on D_test^S",
    "identifiability 'occurs at α_id^S = 1/ρ, as the input matrix X becomes invertible', measured by the MSE on the "
    "teacher logits; past α_label^T the student recovers the (non-memorizing) teacher (Fig. 4B orange, Fig. 12)",
    AllOf(
        Below("recovered.below_T.mse_max", MSE_RECOVERED, "paper", "the paper's recovery threshold 0.1 (Fig. 4 caption), "
              "in every run (the worst run decides)", label="largest mse_test over runs with ρn ≥ d below α_label^T"),
        AtLeast("recovered.below_T.match_min", FULL, "paper", "'perfect' read at 0.99, in every run",
                label="lowest acc_match-T on D_test^S, same runs", unit="pct"),
        Below("recovered.past_T.mse_max", MSE_RECOVERED, "paper", "the paper's recovery threshold 0.1 (Fig. 4 caption), "
              "in every run (the worst run decides)", label="largest mse_test over runs with ρn ≥ d past α_label^T"),
        AtLeast("recovered.past_T.match_min", FULL, "paper", "'perfect' read at 0.99, in every run",
                label="lowest acc_match-T on D_test^S, same runs", unit="pct"),
    ),
)


def fig12_claims(runs: pd.DataFrame, cfg: LogisticConfig, th: dict) -> tuple[list[Claim], dict[str, Evidence]]:
    """Fig. 12 (and Fig. 4B's orange): recovery of the teacher wherever X is invertible, decided on the worst
    run. The worst run is a measured number: it rests on the independent teachers under it (one per
    (α, seed) cell; the ρ of one cell share its teacher), and decides nothing below three of them."""
    a_T = th["alpha_label_T"]
    inv = standard_runs(runs, cfg.d)
    inv = inv[inv["m_train"] >= cfg.d]
    ev: dict[str, Evidence] = {}
    for side, mask in (("below_T", inv["alpha"] < a_T), ("past_T", inv["alpha"] > a_T)):
        sub = inv[mask] if not math.isnan(a_T) else inv.iloc[:0]
        if len(sub):
            k, t = len(sub), num_teachers(sub)
            ev[f"recovered.{side}.mse_max"] = Evidence.exact(sub["mse_test"].to_numpy().max(), n=t, of="teachers",
                                                             detail=f"worst of {k} runs")
            ev[f"recovered.{side}.match_min"] = Evidence.exact(sub["acc_match_T_test"].to_numpy().min(), unit="pct", n=t,
                                                               of="teachers", detail=f"worst of {k} runs")
        else:
            why = "α_label^T not measured" if math.isnan(a_T) else "no run with ρn ≥ d on this side of α_label^T"
            ev[f"recovered.{side}.mse_max"] = Evidence.none(why)
            ev[f"recovered.{side}.match_min"] = Evidence.none(why, unit="pct")
    return [FIG12_SPEC.check(ev)], ev


def derive(tables: dict, cfg: LogisticConfig) -> Part:
    """Fig. 12's claim: recovery of the teacher wherever ρn ≥ d, on both sides of α_label^T."""
    return Part(*fig12_claims(tables["runs"], cfg, tables["thresholds"]))


def read(v: Verdicts) -> str:
    """The page's sentence on recovery where ρn ≥ d."""
    return v.say(
        "fig12.teacher_recovered",
        reproduces="Wherever the student sees at least d equations (ρn ≥ d), it recovers the teacher exactly, "
                   "also past the teacher's capacity, where the recovered teacher is itself wrong on some labels.",
        fails="In some run with ρn ≥ d the student does not recover the teacher's logits, against the "
              "linear-algebra argument of the paper.",
        inconclusive="Recovery of the teacher where ρn ≥ d is not settled by this run.",
        untested="Recovery of the teacher where ρn ≥ d is not tested at this preset (no such runs on both "
                 "sides of α_label^T).",
    )


FIGURE = Figure("fig12", "Fig. 12: six maps", derive=derive, read=read, needs="fig12.teacher_recovered")
