"""The parameter-counting bound (a book extension, the dashed line of Fig. 7A): where full recovery starts on the
grid, as a multiple of the α at which the soft labels the student sees hold as many numbers as the teacher has
free parameters. The page reads it after the two leakage mechanisms."""
from __future__ import annotations
import numpy as np

from ...chapters import Figure, Part, Verdicts
from ...rules import fmt
from .config import ReluConfig


def derive_bound(tables: dict, cfg: ReluConfig) -> Part:
    """α_id^S over the counting bound at every ρ of Fig. 7's thresholds where both are finite: its range."""
    th = tables["thresholds"]
    ratio = (th["alpha_id_S"] / th["alpha_count"]).replace([np.inf, -np.inf], np.nan)
    ratio = ratio[np.isfinite(ratio)]
    return Part(metrics={"fig7.id_over_count.min": float(ratio.min()) if len(ratio) else np.nan,
                         "fig7.id_over_count.max": float(ratio.max()) if len(ratio) else np.nan,
                         "fig7.id_over_count.rhos": int(len(ratio))})


def read_bound(v: Verdicts) -> list[str]:
    """Where full recovery starts against the counting bound (a measured ratio of this preset)."""
    metrics, parts = v.metrics, []
    lo, hi = metrics.get("fig7.id_over_count.min"), metrics.get("fig7.id_over_count.max")
    if isinstance(lo, float) and np.isfinite(lo):
        where = "above" if lo > 1 else "at or below"
        parts.append(f"\n\nFull recovery starts {fmt(lo)}–{fmt(hi)} times the parameter-counting bound on this "
                     f"grid ({metrics.get('fig7.id_over_count.rhos')} ρ): "
                     + ("as many soft-label numbers as the teacher has parameters do not suffice here for gradient "
                        "descent to find it" if lo > 1 else "at this preset some ρ recover at the bound itself")
                     + f" (every ρ is {where} the bound). A measured ratio of this preset, not a law.")
    return parts


FIGURE = Figure("bound", "The parameter-counting bound (a book extension of Fig. 7A)", derive=derive_bound,
                read=read_bound)
