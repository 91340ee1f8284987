"""A.3: removing information from the soft labels: a class's samples, a class's entry, the tail of each soft
label (the workshop's Fig. 7)."""

from __future__ import annotations

import math

import pandas as pd

from ...chapters import Figure, Part
from ...rules import AllOf, AtLeast, AtMost, Above, Below, ClaimSpec, Evidence
from .common import check_claims, unfitted_teachers
from .config import WorkshopConfig

KEEPS = 0.8  # "not affected strongly" / "barely moves": at least 80 % of the untreated student's accuracy
TAIL_FRACTION = 0.005  # the workshop's tail cut: "a sharp drop … starting from cutting 0.5 % of the tail"
SHARP = 0.5  # "a sharp drop": at most half of the leak above trivial left


def a3_evidence(main: pd.DataFrame, cfg: WorkshopConfig) -> tuple[dict[str, Evidence], pd.DataFrame]:
    """A.3 over teachers (inits and treated classes averaged within a teacher first)."""
    a3 = main[main["experiment"] == "a3"] if "experiment" in main else pd.DataFrame()
    keys = ("a3.remove.keeps", "a3.remove.class_gap", "a3.zero.keeps", "a3.zero.class_gap", "a3.tail.kept")
    if a3.empty or "treatment" not in a3:
        return {k: Evidence.none() for k in keys}, pd.DataFrame()
    cols = ["acc_test_S", "acc_test_cls", "acc_fresh_S"]
    by = lambda name, arg=None: a3[(a3["treatment"] == name) & ((a3["arg"] == arg) if arg is not None else True)] \
        .groupby("seed")[cols].mean()  # noqa: E731
    none = by("none")
    ev = {}
    for name, key in (("remove_samples", "remove"), ("zero_entry", "zero")):
        t = by(name)
        ev[f"a3.{key}.keeps"] = Evidence.samples(t["acc_test_S"] / none["acc_test_S"].reindex(t.index), of="teachers",
                                                 detail="treated over untreated acc_test_S")
        # the reference is the student's trivial accuracy over all fresh samples: per class, a fresh set
        # this size holds too few samples to resolve an accuracy near 1/c
        ev[f"a3.{key}.class_gap"] = Evidence.samples(t["acc_test_cls"] - t["acc_fresh_S"], unit="pct", of="teachers",
                                                     detail=f"the treated classes {', '.join(map(str, cfg.a3.classes))}, mean")
    k = tail_k(cfg.c)
    leak = none["acc_test_S"] - none["acc_fresh_S"]
    for name, key in (("tail_smallest", "a3.tail.kept"), ("tail_random", "a3.tail_random.kept")):
        t = by(name, k)
        ev[key] = Evidence.none(f"no tail cut of k = {k} (the first whole entry at 0.5 % of c) at this preset") \
            if t.empty else Evidence.samples(
                (t["acc_test_S"] - none["acc_fresh_S"].reindex(t.index)) / leak.reindex(t.index), of="teachers",
                detail=f"{k} {'smallest' if name == 'tail_smallest' else 'random'} of {cfg.c} entries zeroed; per "
                       "teacher, the leak above trivial left over the untreated one")
    means = a3.groupby(["treatment", "arg"], as_index=False)[["acc_test_S", "acc_test_cls", "acc_fresh_S",
                                                               "acc_fresh_cls", "acc_train_S"]].mean()
    return ev, means


def tail_k(c: int) -> int:
    """The tail cut the sharp-drop claim reads: the workshop's 0.5 % of the c entries, rounded up to a whole entry
    (1 of c = 100)."""
    return max(1, math.ceil(TAIL_FRACTION * c - 1e-9))


A3_SPECS = [
    ClaimSpec("a3.remove_samples", "Removing every sample of a class leaves the general and that class's held-out "
              "accuracy high", "'(1) the general test accuracy is not affected strongly … the class test accuracy is "
              "also maintained at a high level' (Fig. 7 left)",
              AllOf(AtLeast("a3.remove.keeps", KEEPS, "book", "at least 80 % of the untreated student's acc_test_S",
                            label="general acc_test_S, treated / untreated"),
                    Above("a3.remove.class_gap", 0.0, "chance", "the student's trivial accuracy (fresh data)",
                          label="removed class: acc_test − trivial", unit="pct"))),
    ClaimSpec("a3.zero_entry", "Zeroing a class's entry in the other samples' soft labels drops that class below trivial "
              "while the general accuracy barely moves",
              "'(2) … it drops below the trivial accuracy' (Fig. 7 left)",
              AllOf(AtLeast("a3.zero.keeps", KEEPS, "book", "at least 80 % of the untreated student's acc_test_S",
                            label="general acc_test_S, treated / untreated"),
                    Below("a3.zero.class_gap", 0.0, "chance", "the student's trivial accuracy (fresh data)",
                          label="zeroed class: acc_test − trivial", unit="pct"))),
    ClaimSpec("a3.tail_sharp_drop", "Cutting a small tail of each soft label removes most of the leak",
              "'a sharp drop in test accuracy starting from cutting 0.5 % of the tail' (Fig. 7 right)",
              AtMost("a3.tail.kept", SHARP, "book", "at most half of the leak above trivial left at the workshop's "
                     "0.5 % tail cut (rounded up to a whole entry of c)",
                     label="leak kept after zeroing the smallest 0.5 % of entries", unit="pct")),
]


def derive(tables: dict, cfg) -> Part:
    """A.3's claims, and each treatment's mean accuracies (table ``a3``)."""
    main = tables["main"]
    ev, means = a3_evidence(main, cfg)
    unfitted = unfitted_teachers(main, ("a3",))
    claims = check_claims(A3_SPECS, ev, cfg, {s.id: unfitted for s in A3_SPECS})
    return Part(claims, ev, {}, {"a3": means})


FIGURE = Figure("a3", "A.3: removing information from the soft labels", derive=derive)
