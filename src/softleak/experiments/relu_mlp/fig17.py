"""Fig. 17: the soft-label loss at the jump, on the runs at the 'jump' α that jump. Every threshold is declared
here."""
from __future__ import annotations
import numpy as np
import pandas as pd

from ...chapters import Figure, Part, Verdicts
from ...claims import Claim
from ...rules import AllOf, Above, ClaimSpec, Evidence
from .common import check_claim, curve_post_hoc, samples, seeds_note
from .config import ReluConfig, alpha_roles

LOSS_DROP_FACTOR = 3.0  # book: a "marked drop": log KL falls ≥ 3× as much over the rise as over the window before


def _fig17_spec(cfg: ReluConfig) -> ClaimSpec:
    lab = (f"fall of log KL over the rise − {LOSS_DROP_FACTOR:g} × its fall over the equal window before, "
           "per run that jumps")
    basis = f"a 'marked drop' read as ≥ {LOSS_DROP_FACTOR:g}× the fall just before"
    return ClaimSpec(
        "fig17.loss_drop", "Fig. 17: the jump coincides with a sharp drop of the soft-label loss on D_train^S and "
        "D_test^S", "a marked drop of the soft-label CE at the jump",
        AllOf(Above("fig17.train", 0.0, "book", basis, label=f"D_train^S: {lab}"),
              Above("fig17.test", 0.0, "book", basis, label=f"D_test^S: {lab}")))


def fig17_claims(jr: pd.DataFrame, cfg: ReluConfig) -> tuple[list[Claim], dict[str, Evidence]]:
    """Fig. 17: the loss at the jump, on the runs at the 'jump' α that jump (``jr``: :func:`curve_runs`)."""
    roles = alpha_roles(cfg)
    ev: dict[str, Evidence] = {}
    note = "Fig. 17: the runs of Fig. 7C.3"
    if "jump" not in roles or jr.empty:
        ev["fig17.train"] = ev["fig17.test"] = Evidence.none("no curve α for the 'jump' panel")
    else:
        j = jr[np.isclose(jr["alpha"], roles["jump"]) & (jr["variant"] == "standard")
               & np.isfinite(jr["epoch"].to_numpy(dtype=float))]
        note = seeds_note("Fig. 17 (runs that jump)", j["seed"].unique())
        for part, kl in (("train", "kl_train_S"), ("test", "kl_test_S")):
            v = j[f"{kl}_drop"] - LOSS_DROP_FACTOR * j[f"{kl}_drop_before"].clip(lower=0)
            ev[f"fig17.{part}"] = samples(v, unit="num") if len(j) else Evidence.none("no run jumps")
    return [check_claim(_fig17_spec(cfg), ev, note, post_hoc=curve_post_hoc(cfg))], ev


def derive_fig17(tables: dict, cfg: ReluConfig) -> Part:
    """Fig. 17's claim, on the jump statistics."""
    claims, ev = fig17_claims(tables["jumps"], cfg)
    return Part(claims, ev)


def read_fig17(v: Verdicts) -> list[str]:
    """Whether the loss drops sharply at the jump."""
    parts = []
    loss = v["fig17.loss_drop"]
    if loss == "reproduces":
        parts.append("The excess soft-label loss falls sharply at the jump on both sets, as in Fig. 17: the student's "
                     "function changes as a whole when it finds the teacher.")
    elif loss in ("fails", "inconclusive"):
        parts.append(f"The sharp loss drop of Fig. 17 is {'not seen' if loss == 'fails' else 'not settled'} "
                     "at this preset.")
    return parts


FIGURE = Figure("fig17", "Fig. 17: the loss at the jump", derive=derive_fig17, read=read_fig17)
