"""Fig. 20: the student's width varied at a fixed teacher (run at the paper preset)."""
from __future__ import annotations
import pandas as pd

from ...chapters import Figure, Part
from ...claims import Claim
from ...metrics import FULL
from ...rules import Above, ClaimSpec, Evidence
from .analysis import figure_means
from .common import check_claim, post_hoc_note, samples, seeds_note
from .config import ReluConfig


def _fig20_spec(cfg: ReluConfig) -> ClaimSpec:
    return ClaimSpec(
        "fig20.width", f"Fig. 20 (ρ = {cfg.capacity.rho:g}, p^T = {cfg.p}): a wider student raises acc_train_S in the "
        "soft-label-memorization phase", "a student with more neurons learns the soft labels better",
        Above("fig20.gain", 0.0, "paper", "'improves acc_train_S'",
              label="acc_train_S widest − narrowest p^S, mean over the α where the teacher memorizes and the narrowest "
                    "student does not, per seed", unit="pct"))


def fig20_claims(runs: pd.DataFrame, cfg: ReluConfig) -> tuple[list[Claim], dict[str, Evidence], pd.DataFrame]:
    """Fig. 20: p^S varied at fixed p^T (run at the paper preset)."""
    sw = runs[runs["experiment"] == "student_width"]
    means = figure_means(runs, "student_width")
    note = seeds_note("Fig. 20", sw["seed"].unique())
    if sw.empty:
        ev = {"fig20.gain": Evidence.none("run at the paper preset only", unit="pct")}
    else:
        lo, hi = sw["p_S"].min(), sw["p_S"].max()
        narrow = means[means["p_S"] == lo].set_index("alpha")
        phase = narrow.index[(narrow["acc_star_T"] >= FULL) & (narrow["acc_train_S"] < FULL)]
        if len(phase) == 0 or lo == hi:
            ev = {"fig20.gain": Evidence.none("no α where the teacher memorizes and the narrowest student does not",
                                              unit="pct")}
        else:
            sub = sw[sw["alpha"].isin(phase)]
            w = {p: sub[sub["p_S"] == p].pivot(index="seed", columns="alpha", values="acc_train_S") for p in (lo, hi)}
            gain = (w[hi] - w[lo]).mean(axis=1, skipna=False)
            ev = {"fig20.gain": samples(gain, detail=f"p^S = {hi} vs {lo}; α = {', '.join(f'{a:g}' for a in phase)}")}
    return [check_claim(_fig20_spec(cfg), ev, note, post_hoc=post_hoc_note(cfg))], ev, means


def derive_fig20(tables: dict, cfg: ReluConfig) -> Part:
    """Fig. 20's claim and the means its plot draws."""
    claims, ev, sw = fig20_claims(tables["runs"], cfg)
    return Part(claims, ev, tables={"student_width": sw})


FIGURE = Figure("fig20", "Fig. 20: the student's width at a fixed teacher", derive=derive_fig20)
