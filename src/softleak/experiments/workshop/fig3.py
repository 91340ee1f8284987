"""Fig. 3: students that see only the teacher's similarity scores, in the main setting and in chapter 1's 2D
toy."""

from __future__ import annotations

import pandas as pd

from ...chapters import Figure, Part
from ...rules import Above, ClaimSpec, Evidence, per_teacher
from .common import MIN_GAIN, check_claims, logit_student_means, same_teachers, unfitted_teachers


def sim_evidence(main: pd.DataFrame, toy: pd.DataFrame) -> dict[str, Evidence]:
    """Fig. 3 over teachers (the main setting) and over datasets (the 2D toy, the teachers that fitted)."""
    ev = {}
    sim = main[main["experiment"] == "sim"] if "experiment" in main else pd.DataFrame()
    if sim.empty or "width" not in main:
        ev["sim.gap"] = ev["sim.below_logit"] = Evidence.none()
    else:
        logit = main[(main["experiment"] == "capacity") & (main["width"] == main["student_p"])]
        ev["sim.gap"] = per_teacher(sim.assign(gap=sim["acc_test_S"] - sim["acc_fresh_S"]), "gap",
                                    detail="acc_test_S − trivial, mean over the ρ grid")
        a = sim.set_index(["seed", "init", "rho"])["acc_test_S"]
        b = logit.set_index(["seed", "init", "rho"])["acc_test_S"].reindex(a.index)  # at the similarity student's ρ
        diff = (b - a).rename("diff").reset_index()
        ev["sim.below_logit"] = per_teacher(diff, "diff", detail="logit − similarity at equal ρ, same teacher and init") \
            if same_teachers(main) else Evidence.none("the two students' retrained teachers differ")
    for c in (3, 20):
        t = toy[(toy["c"] == c) & toy["teacher_reached_100"]] if not toy.empty else toy
        if t.empty:
            ev[f"sim.toy.c{c}.gap"] = Evidence.none("no dataset whose teacher fitted")
            continue
        n_all = toy.loc[toy["c"] == c, "toy_seed"].nunique()
        per = t.groupby(["toy_seed", "kind"])["acc_test_S"].mean().unstack("kind")
        ev[f"sim.toy.c{c}.gap"] = Evidence.paired(per["sim"], per["hard"], unit="pct", of="datasets",
                                                 detail=f"similarity − independent student; the {len(per)} of {n_all} "
                                                        "datasets whose teacher fitted")
    return ev


SIM_SPECS = [
    ClaimSpec("sim.above_trivial", "A student that matches only the teacher's similarity scores recovers held-out labels "
              "above trivial", "'this procedure indeed also leads to some non-trivial test accuracies' (Fig. 3)",
              Above("sim.gap", 0.0, "chance", "the similarity student's accuracy on fresh data",
                    label="similarity student: acc_test_S − trivial", unit="pct")),
    ClaimSpec("sim.below_logit", "It recovers fewer than the logit student at equal ρ",
              "'less effective than the direct fitting of the logits' (Fig. 3 right)",
              Above("sim.below_logit", MIN_GAIN, "book", "a gap in favour of the logit student of at least 2 points, "
                    "the smallest difference the book calls 'less effective'",
                    label="logit − similarity acc_test_S", unit="pct")),
    ClaimSpec("sim.toy_c3", "2D toy, c = 3: the similarity student beats the independent student",
              "not reported (the book runs Fig. 3's method in chapter 1's setting)",
              Above("sim.toy.c3.gap", 0.0, "chance", "the independent student", label="similarity − independent",
                    unit="pct"), kind="book"),
    ClaimSpec("sim.toy_c20", "2D toy, c = 20: the similarity student beats the independent student",
              "not reported", Above("sim.toy.c20.gap", 0.0, "chance", "the independent student",
                                    label="similarity − independent", unit="pct"), kind="book"),
]


def toy_unfitted(toy: pd.DataFrame) -> dict[str, list[str]]:
    """Per 2D-toy claim, the datasets whose teacher did not fit its data."""
    by = {}
    for c in (3, 20):
        t = toy[(toy["c"] == c) & ~toy["teacher_reached_100"].astype(bool)] if not toy.empty else toy
        by[f"sim.toy_c{c}"] = [f"2D toy teacher of dataset {s} did not fit its data" for s in sorted(t["toy_seed"].unique())] \
            if not t.empty else []
    return by


def sim_metrics(main: pd.DataFrame, toy: pd.DataFrame, one: pd.DataFrame) -> dict[str, object]:
    """Fig. 3's curves: the similarity student over ρ beside the logit student ``one`` (its means by ρ), and the
    2D toy's students."""
    metrics = {}
    sim = main[main["experiment"] == "sim"].groupby("rho")[["acc_test_S", "acc_fresh_S"]].mean()
    metrics["sim.rho"] = sim.index.tolist()
    metrics["sim.acc_test_S"] = sim["acc_test_S"].tolist() if not sim.empty else []
    metrics["sim.acc_test_S_logit"] = one.set_index("rho")["acc_test_S"].reindex(sim.index).tolist() if not sim.empty else []
    for c in (3, 20):
        t = toy[(toy["c"] == c)] if not toy.empty else toy
        for kind in ("soft", "hard", "sim"):
            metrics[f"sim.toy.c{c}.{kind}.acc_test_S"] = float(t.loc[t["kind"] == kind, "acc_test_S"].mean()) if not t.empty else None
        metrics[f"sim.toy.c{c}.acc_test_S"] = metrics[f"sim.toy.c{c}.sim.acc_test_S"]
    return metrics


def derive(tables: dict, cfg) -> Part:
    """Fig. 3's claims and curves (the logit student read from Fig. 2's table ``capacity``)."""
    main, toy = tables["main"], tables["toy"]
    ev = sim_evidence(main, toy)
    unfitted = {"sim.below_logit": unfitted_teachers(main, ("capacity", "sim")),
                "sim.above_trivial": unfitted_teachers(main, ("sim",)), **toy_unfitted(toy)}
    claims = check_claims(SIM_SPECS, ev, cfg, unfitted)
    return Part(claims, ev, sim_metrics(main, toy, logit_student_means(tables["capacity"], cfg.student_p)))


FIGURE = Figure("fig3", "Fig. 3: students that see only similarity scores", derive=derive)
