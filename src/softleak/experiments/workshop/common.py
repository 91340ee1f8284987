"""What several of chapter 7's figures share: the thresholds of more than one figure, the teachers a claim reads
that did not fit, whether two experiments' retrained teachers agree, and the claims decided at a setting chosen
after seeing the cpu preset's first run."""

from __future__ import annotations

import pandas as pd

from ...rules import Evidence, not_converged
from .config import FIRST_RUN, PRESETS, WorkshopConfig

MIN_GAIN = 0.02  # "more", "higher", "less effective", "improves": a difference of at least 2 points of accuracy
MOST = 0.5  # "every teacher" / "no student": a share of runs decided at 50 %, with 95 % confidence (Clopper–Pearson)

#: the claims read on students trained for ``student_epochs`` (capacity, A.1, A.3, and the logit student of Fig. 3
#: and the overlap); A.2 reads them too when it has no epochs of its own
STUDENT_EPOCH_CLAIMS = ("fig2.above_diagonal", "fig2.width_helps", "fig2.half_width_beats_trivial", "fig2.train_fits",
                        "fig2.test_above_trivial", "fig2.even_classes", "a1.high_tau", "a3.remove_samples",
                        "a3.zero_entry", "a3.tail_sharp_drop", "sim.below_logit", "overlap.beyond_chance")
A2_CLAIMS = ("a2.more_samples_need_larger_d", "a2.large_d_lowers_ratio", "a2.linear_best_d")


def post_hoc_flags(cfg: WorkshopConfig) -> dict[str, str]:
    """Claims decided at a setting of the cpu preset that was chosen after seeing its first run: every claim
    its students' epochs decide, and every claim of the A.2 grid."""
    flags, cpu = {}, PRESETS["cpu"]
    if cfg.student_epochs == cpu.student_epochs:
        why = (f"{cfg.student_epochs} student epochs, raised from {FIRST_RUN['student_epochs']} after that run left the "
               "widest student short of fitting at the largest ρ")
        flags.update({cid: why for cid in STUDENT_EPOCH_CLAIMS})
        if cfg.a2.student_epochs is None:
            flags.update({cid: why for cid in A2_CLAIMS})
    if cfg.a2.ds == cpu.a2.ds and cfg.a2.spcs == cpu.a2.spcs:
        why = (f"the A.2 grid extended down to d = {min(cfg.a2.ds)} and up in samples per class after a grid from "
               f"d = {min(FIRST_RUN['a2_ds'])} found almost no teacher that failed to fit")
        flags.update({cid: (flags[cid] + "; " + why if cid in flags else why) for cid in A2_CLAIMS})
    return flags


def check_claims(specs, ev: dict[str, Evidence], cfg: WorkshopConfig, unfitted: dict[str, list[str]] | None = None):
    """``specs`` checked on ``ev``, each flagged post hoc where :func:`post_hoc_flags` says so and inconclusive (not
    converged) where ``unfitted`` names a teacher it reads that did not fit its data."""
    flags, unfitted = post_hoc_flags(cfg), unfitted or {}
    return [not_converged(s.check(ev, post_hoc=flags.get(s.id, "")), unfitted.get(s.id, [])) for s in specs]


def unfitted_teachers(main: pd.DataFrame, experiments=None) -> list[str]:
    """The teachers (data seeds) of the main setting that did not fit their data: their students never trained,
    so a claim read on the other teachers is not converged (inconclusive), never decided without them."""
    m = main if experiments is None or "experiment" not in main else main[main["experiment"].isin(experiments)]
    if m.empty or "teacher_reached_100" not in m:
        return []
    fits = m.groupby("seed")["teacher_reached_100"].all()
    return [f"teacher of seed {s} did not fit its data" for s in fits.index[~fits]]


def same_teachers(main: pd.DataFrame, experiments=("capacity", "sim")) -> bool:
    """Whether the experiments' retrains of every teacher gave the same logits (their digests agree)."""
    m = main[main["experiment"].isin(experiments)] if "teacher_digest" in main else pd.DataFrame()
    return not m.empty and bool((m.groupby("seed")["teacher_digest"].nunique() == 1).all())


def logit_student_means(means: pd.DataFrame, student_p: int) -> pd.DataFrame:
    """The capacity experiment's mean accuracies (per width and ρ) of the logit student of width ``student_p`` (the
    one of Fig. 2 right, Fig. 3 and the overlap), sorted by ρ."""
    return means[means["width"] == student_p].sort_values("rho")
