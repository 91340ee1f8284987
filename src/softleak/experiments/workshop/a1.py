"""A.1: temperature × learning rate, for the student of Fig. 2 right on one teacher (the workshop's Fig. 5)."""

from __future__ import annotations

import pandas as pd

from ...chapters import Figure, Part
from ...rules import Above, ClaimSpec, Evidence, per_teacher
from .common import MIN_GAIN, check_claims, unfitted_teachers


def a1_evidence(main: pd.DataFrame) -> tuple[dict[str, Evidence], dict[str, object]]:
    """A.1 at the best learning rate (chosen on these runs: Bonferroni over the lr grid), over teachers:
    a teacher's inits are averaged first, so A.1's one teacher is one run, however many inits it has."""
    a1 = main[main["experiment"] == "a1"]
    if a1.empty:
        return {"a1.hot_minus_cold": Evidence.none()}, {}
    means = a1.groupby(["lr", "tau"])["acc_test_S"].mean()
    best_lr = means.idxmax()[0]
    at = a1[a1["lr"] == best_lr].pivot_table(index=["seed", "init"], columns="tau", values="acc_test_S")
    hot, cold = max(at.columns), min(at.columns)
    k = a1["lr"].nunique()
    diff = (at[hot] - at[cold]).rename("diff").reset_index()
    inits = diff.groupby("seed").size()
    ev = {"a1.hot_minus_cold": per_teacher(
        diff, "diff", looks=k, detail=f"τ = {hot:g} − {cold:g} at the best lr {best_lr:g} of {k}, chosen on these runs; "
                                      f"{int(inits.max())} inits per teacher averaged first")}
    return ev, {"a1.best_tau": float(means.loc[best_lr].idxmax()), "a1.best_lr": float(best_lr),
                "a1.best_acc_test_S": float(means.max())}


A1_SPEC = ClaimSpec("a1.high_tau", "A high temperature is needed: at the best learning rate, held-out accuracy is higher "
                    "at the highest temperature than at the lowest",
                    "'A higher temperature seems necessary' (Fig. 5); no number",
                    Above("a1.hot_minus_cold", MIN_GAIN, "book", "a gain from the coldest to the hottest τ of at least "
                          "2 points, the smallest difference the book calls 'higher'",
                          label="acc_test_S(τ_max) − acc_test_S(τ_min) at the best lr", unit="pct"))


def derive(tables: dict, cfg) -> Part:
    """A.1's claim, the best setting of its grid, and its mean held-out accuracy per (lr, τ) (table ``a1``)."""
    main = tables["main"]
    ev, metrics = a1_evidence(main)
    claims = check_claims([A1_SPEC], ev, cfg, {A1_SPEC.id: unfitted_teachers(main, ("a1",))})
    grid = main[main["experiment"] == "a1"].groupby(["lr", "tau"], as_index=False)["acc_test_S"].mean()
    return Part(claims, ev, metrics, {"a1": grid})


FIGURE = Figure("a1", "A.1: temperature and learning rate", derive=derive)
