"""Fig. 2: the student's capacity (left: students of several widths over ρ) and one student over ρ (right), with
the spread of its held-out accuracy over the classes (the workshop's label 0, tested on every class)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ...chapters import Figure, Part
from ...metrics import FULL  # 'fits its data' at 99 %
from ...rules import Above, AtLeast, ClaimSpec, Equivalent, Evidence, fmt, per_teacher
from .common import MIN_GAIN, check_claims, logit_student_means, unfitted_teachers
from .config import WorkshopConfig

EVEN_MARGIN = 0.02  # "evenly distributed over classes": the classes' spread at most 2 points (SD) beyond sampling's
PERMUTATIONS = 500  # shuffled classes per teacher: the spread that sampling alone gives


def capacity_evidence(main: pd.DataFrame, cfg: WorkshopConfig) -> dict[str, Evidence]:
    """Fig. 2: the quantities its claims read (students of the capacity experiment), over teachers.

    A claim "for some ρ" is read at the ρ with the best mean, on a Bonferroni interval over the ρ grid;
    a claim "at every ρ" at the ρ whose interval reaches lowest, on a plain 95 % interval (each ρ must pass:
    an intersection–union test, so the weakest lower end decides and no correction is needed)."""
    cap = main[main["experiment"] == "capacity"].copy() if "experiment" in main else pd.DataFrame()
    keys = ("fig2.excess", "fig2.width_gain", "fig2.half_gap", "fig2.train_min", "fig2.test_gap_min")
    if cap.empty or "acc_total_S" not in cap:
        return {k: Evidence.none() for k in keys}
    cap["excess"] = cap["acc_total_S"] - (cap["rho"] + (1 - cap["rho"]) * cap["acc_fresh_S"])
    cap["gap"] = cap["acc_test_S"] - cap["acc_fresh_S"]
    widest, narrowest = max(cfg.widths), min(cfg.widths)
    k = cap["rho"].nunique()

    def at(df, col, best):
        if best is min:  # every ρ: the ρ whose interval reaches lowest
            per_rho = {r: per_teacher(df[df["rho"] == r], col) for r in sorted(df["rho"].unique())}
            rho = min(per_rho, key=lambda r: (not per_rho[r].missing, per_rho[r].low))  # a missing ρ first
            return per_teacher(df[df["rho"] == rho], col, detail=f"at ρ = {rho:g}, the lowest interval of {k} ρ")
        means = df.groupby("rho")[col].mean()
        rho = max(means.index, key=lambda r: means[r])
        return per_teacher(df[df["rho"] == rho], col, looks=k,
                           detail=f"at the best ρ = {rho:g} of {k}, chosen on these teachers")

    ev = {"fig2.excess": at(cap[cap["width"] == widest], "excess", max)}
    w = cap.pivot_table(index=["seed", "init", "rho"], columns="width", values="acc_total_S")
    gain = (w[widest] - w[narrowest]).rename("gain").reset_index()
    ev["fig2.width_gain"] = per_teacher(gain, "gain", detail=f"p_S = {widest} − {narrowest}, mean over the whole ρ grid "
                                                             "(no ρ selected)")
    half = cfg.p // 2
    ev["fig2.half_gap"] = at(cap[cap["width"] == half], "gap", max) if half in cfg.widths else \
        Evidence.none(f"no student of width p/2 = {half} at this preset")
    one = cap[cap["width"] == cfg.student_p]
    ev["fig2.train_min"] = at(one, "acc_train_S", min)
    ev["fig2.test_gap_min"] = at(one, "gap", min)
    return ev


def class_evenness(heldout: pd.DataFrame, *, permutations: int = PERMUTATIONS, seed: int = 0) -> pd.DataFrame:
    """Per teacher: how unevenly the logit students' held-out accuracy spreads over the classes.

    The units are a teacher's memorized samples: a sample's score is the fraction of its students, over
    every ρ at which it was held out, that get it right (students of one teacher share their samples, and a
    sample held out at several ρ is one unit). ``sd`` is the standard deviation of the per-class mean
    scores; ``null_sd`` its mean when the samples' classes are shuffled among that teacher's samples (the
    spread that sampling alone gives to classes of equal accuracy); ``excess = sd − null_sd`` is 0 for even
    classes and grows with a real difference between them. ``spread`` is the best minus the worst class.
    Returns one row per teacher (``seed``), the teachers being the runs an interval is taken over."""
    h = heldout[heldout["kind"] == "logit"] if "kind" in heldout else heldout
    cols = ["seed", "spread", "sd", "null_sd", "excess"]
    if h.empty:
        return pd.DataFrame(columns=cols)
    per = h.groupby(["seed", "sample"], as_index=False).agg(y=("y", "first"), score=("correct", "mean"))
    rng = np.random.default_rng(seed)
    rows = []
    for s, g in per.groupby("seed"):
        _, cls = np.unique(g["y"].to_numpy(), return_inverse=True)
        score = g["score"].to_numpy(float)
        acc = _class_means(score, cls)
        null = [_class_means(score, rng.permutation(cls)).std() for _ in range(permutations)]
        rows.append({"seed": s, "spread": float(acc.max() - acc.min()), "sd": float(acc.std()),
                     "null_sd": float(np.mean(null)), "excess": float(acc.std() - np.mean(null))})
    return pd.DataFrame(rows, columns=cols)


def _class_means(score: np.ndarray, cls: np.ndarray) -> np.ndarray:
    return np.bincount(cls, weights=score) / np.bincount(cls)


FIG2_SPECS = [
    ClaimSpec("fig2.above_diagonal",
              "The widest student classifies more of the memorized data correctly than it saw (plus chance on the rest)",
              "points above the diagonal (Fig. 2 left); no number",
              Above("fig2.excess", 0.0, "chance", "the diagonal raised by the student's trivial accuracy on the held-out part",
                    label="acc_total_S − (ρ + (1 − ρ)·trivial), at the best ρ", unit="pct")),
    ClaimSpec("fig2.width_helps", "Higher-capacity students extract more from the logits",
              "'higher capacity students are able to extract more information from the logits than lower capacity "
              "students' (Fig. 2 left)",
              Above("fig2.width_gain", MIN_GAIN, "book", "a gain of the widest over the narrowest student of at least "
                    "2 points, the smallest difference the book calls 'more'",
                    label="acc_total_S, widest − narrowest student", unit="pct")),
    ClaimSpec("fig2.half_width_beats_trivial",
              "A student of half the teacher's width already beats trivial accuracy for some ρ",
              "'p = 250 is already enough to surpass trivial accuracy' (teacher p = 500)",
              Above("fig2.half_gap", 0.0, "chance", "the student's accuracy on fresh data",
                    label="acc_test_S − trivial (p_S = p/2), at the best ρ", unit="pct")),
    ClaimSpec("fig2.train_fits", "The student fits its own training part at every ρ",
              "'for all α it is able to memorize the training data' (Fig. 2 right)",
              AtLeast("fig2.train_min", FULL, "paper", "100 % less one sample in a hundred",
                      label="acc_train_S at the ρ whose interval reaches lowest", unit="pct")),
    ClaimSpec("fig2.test_above_trivial", "Held-out accuracy is above trivial at every ρ, even with little data",
              "'even little training data allows for some non-trivial predictive accuracy' (Fig. 2 right)",
              Above("fig2.test_gap_min", 0.0, "chance", "the student's accuracy on fresh data",
                    label="acc_test_S − trivial at the ρ whose interval reaches lowest", unit="pct")),
    ClaimSpec("fig2.even_classes", "The held-out accuracy is spread evenly over the classes",
              "'the accuracy is distributed evenly over all 100 classes' (label 0 shown)",
              Equivalent.margin("fig2.class_excess", 0.0, EVEN_MARGIN, "book", "the SD of the per-class held-out "
                                "accuracy exceeds what shuffled classes give (sampling alone) by at most 2 points, "
                                "over teachers", label="per-class SD − shuffled-class SD", unit="pct")),
]


def class_excess(even: pd.DataFrame) -> tuple[Evidence, float]:
    """The evidence of ``fig2.even_classes`` from :func:`class_evenness`'s table, and the best − worst class
    spread averaged over the teachers."""
    spread = float(even["spread"].mean()) if not even.empty else float("nan")
    ev = per_teacher(even, "excess", detail=(
        f"per teacher, the SD of its per-class held-out accuracy ({fmt(even['sd'].mean(), 'pct')} on average) minus its "
        f"mean over {PERMUTATIONS} shufflings of the classes; best − worst class {fmt(spread, 'pct')}")) \
        if not even.empty else Evidence.none("no held-out predictions")
    return ev, spread


def capacity_metrics(main: pd.DataFrame, heldout: pd.DataFrame, means: pd.DataFrame, cfg) -> dict[str, object]:
    """The numbers Fig. 2 plots and the page glues: per width and ρ, and the one student over ρ."""
    metrics = {"fig2.rho": [float(r) for r in cfg.rhos]}
    for w, g in means.groupby("width"):
        metrics[f"fig2.width.{w}.acc_total_S"] = g.sort_values("rho")["acc_total_S"].tolist()
    one = logit_student_means(means, cfg.student_p)
    metrics["fig2.acc_test_S"] = one["acc_test_S"].tolist()
    metrics["fig2.acc_train_S"] = one["acc_train_S"].tolist()
    metrics["fig2.acc_trivial"] = one["acc_fresh_S"].tolist()
    metrics["fig2.acc_trivial_T"] = float(main.groupby("seed")["acc_trivial_T"].first().mean())
    label0 = heldout[(heldout["kind"] == "logit") & (heldout["y"] == 0)] if not heldout.empty else heldout
    metrics["fig2.acc_test_S_label0"] = label0.groupby("rho")["correct"].mean().tolist() if not label0.empty else []
    return metrics


def derive(tables: dict, cfg) -> Part:
    """Fig. 2's claims over teachers, its curves, and the capacity students' means (table ``capacity``)."""
    main, heldout = tables["main"], tables["heldout"]
    ev = capacity_evidence(main, cfg)
    ev["fig2.class_excess"], spread = class_excess(class_evenness(heldout))
    unfitted = unfitted_teachers(main, ("capacity", "sim"))
    claims = check_claims(FIG2_SPECS, ev, cfg, {s.id: unfitted for s in FIG2_SPECS})
    cap = main[main["experiment"] == "capacity"]
    means = cap.groupby(["width", "rho"], as_index=False)[["acc_train_S", "acc_test_S", "acc_fresh_S",
                                                          "acc_total_S"]].mean()
    metrics = capacity_metrics(main, heldout, means, cfg)
    metrics["fig2.class_spread"] = spread
    return Part(claims, ev, metrics, {"capacity": means})


FIGURE = Figure("fig2", "Fig. 2: the student's capacity, and one student over ρ", derive=derive)
