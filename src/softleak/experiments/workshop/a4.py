"""A.4: tokenized data: chapter 2's transformer on modular addition, the workshop's teacher (at its fit) beside
chapter 2's memorizing teacher (the workshop's Fig. 8)."""

from __future__ import annotations

import pandas as pd

from ...chapters import Figure, Part
from ...metrics import FULL  # 'fits its data' at 99 %
from ...rules import AtLeast, AtMost, ClaimSpec, Evidence
from .common import MOST, check_claims
from .config import A4_NAMES

LEAK_MARGIN = 0.02  # A.4: a student "beats trivial accuracy" by at least 2 points on its held-out pairs


def a4_evidence(runs: pd.DataFrame) -> tuple[dict[str, Evidence], dict[str, object]]:
    """A.4: per teacher, how many (τ, seed) students both fit their pairs and beat trivial accuracy
    (acc_val_S: the student's accuracy on pairs the teacher never saw)."""
    ev, metrics = {}, {}
    for k, key in ((1, "a4.fit_teacher"), (2, "a4.memorizing_teacher")):
        r = runs[runs["teacher"] == k] if not runs.empty else runs
        if r.empty:
            ev[key] = Evidence.none()
            continue
        good = (r["acc_train_S"] >= FULL) & (r["acc_test_S"] - r["acc_val_S"] >= LEAK_MARGIN)
        ev[key] = Evidence.share(int(good.sum()), len(r), of="students (τ × seed)",
                                 detail=f"{int(good.sum())} of {len(r)} (τ × seed) students fit their pairs and beat "
                                        "trivial by 2 points")
    for (k, tau), g in runs.groupby(["teacher", "tau"]) if not runs.empty else []:
        for col in ("acc_train_S", "acc_test_S", "acc_val_S"):
            metrics[f"a4.teacher{k}.tau{tau:g}.{col}"] = float(g[col].mean())
    return ev, metrics


A4_SPECS = [
    ClaimSpec("a4.fit_teacher_no_leak", "Transformer on modular addition, the teacher taken at its fit: no student "
              "both fits its data and beats trivial accuracy", "'we have not yet discovered a parameter configuration, "
              "in which the student achieves 100 % train accuracy and non-trivial test accuracy' (Fig. 8)",
              AtMost("a4.fit_teacher", MOST, "paper", "no such student, decided as fewer than half of the (τ × seed) "
                     "students with 95 % confidence: the Clopper–Pearson upper end below 50 %",
                     label="share of students that fit and leak", unit="pct")),
    ClaimSpec("a4.memorizing_teacher_leaks", "With chapter 2's memorizing teacher ① instead, most students fit their "
              "data and beat trivial accuracy", "not in the workshop (the main paper, Fig. 3)",
              AtLeast("a4.memorizing_teacher", MOST, "book", "most (τ × seed) students, with 95 % confidence: the "
                      "Clopper–Pearson lower end above 50 %", label="share of students that fit and leak", unit="pct"),
              kind="book"),
]


def a4_table(out: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """A.4 for the page: each student's final accuracies per τ, beside its teacher's epoch and acc_val_T."""
    runs, teachers = out["a4"], out["a4_teachers"][["seed", "teacher", "epoch", "acc_val_T"]].round(3)
    a4 = runs.merge(teachers, on=["seed", "teacher"])
    return a4.assign(teacher=a4["teacher"].map(A4_NAMES)).pivot_table(
        index=["teacher", "epoch", "acc_val_T"], columns="tau", values=["acc_train_S", "acc_test_S", "acc_val_S"]).round(3)


def a4_reading(metrics: dict[str, object]) -> str:
    """What A.4's table shows, generated from its metrics (Markdown)."""
    e1, e2 = metrics.get("a4.teacher1.epoch"), metrics.get("a4.teacher2.epoch")
    if e1 is None or e2 is None:
        return "A.4 did not run at this preset."
    if e1 == e2:
        return (f"In this run teachers ① and ② are one checkpoint (epoch {e1:g}): the run ended before 10× its fit "
                "epoch, so chapter 2's rule fell back to the last record.")
    return f"Teacher ① is taken at epoch {e1:g} (its fit) and ② at epoch {e2:g} (10× its fit, chapter 2's ①)."


def derive(tables: dict, cfg) -> Part:
    """A.4's claims, its students' mean accuracies per teacher and τ, and each teacher's epoch and acc_val_T."""
    ev, metrics = a4_evidence(tables.get("a4", pd.DataFrame()))
    claims = check_claims(A4_SPECS, ev, cfg)
    teachers4 = tables.get("a4_teachers", pd.DataFrame())
    for _, row in teachers4.iterrows() if not teachers4.empty else []:
        metrics[f"a4.teacher{int(row['teacher'])}.epoch"] = float(row["epoch"])
        metrics[f"a4.teacher{int(row['teacher'])}.acc_val_T"] = float(row["acc_val_T"])
    return Part(claims, ev, metrics)


FIGURE = Figure("a4", "A.4: tokenized data", derive=derive)
