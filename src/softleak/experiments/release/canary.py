"""§2, real data with canaries: the same recipes on scikit-learn's digits, with a few training images given a random
wrong label (*canaries*) that the teacher memorizes. Released on the real images alone (mode ``released0``), or with
a fraction ρ of the canaries too (``released_rho``): leakage on the canaries that were not released, utility on
the real test images (the page's figure ``fig-release-canary``, its tables, the audit per teacher and the best
stopped recipe per family). Every claim is a book finding."""

from __future__ import annotations

import pandas as pd

from ...chapters import Figure, Part, Verdicts
from ...rules import UNTESTED, AllOf, Above, AtLeast, BeyondNull, ClaimSpec, Evidence, fmt
from .common import (FIT_LEVEL, LEAKS, NULL_BASIS, SAFE_AUC, best_table, derive_setting, pareto_table, recipe_evidence,
                     safe_rule, setting_frames)
from .config import MODES, ReleaseConfig

UTILITY_KEPT = 0.05  # a useful release: the student within 5 points of the teacher's test accuracy
#: claims whose setting or threshold was set after a planning probe of this chapter's cpu run
POST_HOC = {
    "canary.released0.labels": "the claim's direction (a leak) was declared after a planning probe of the digits",
    "canary.released0.membership": "the claim's direction (a signal) was declared after a planning probe of the digits",
}

CANARY_SPECS = [
    ClaimSpec("canary.teachers_fit", "The digit teachers memorize every training image and every canary",
              "not reported",
              AtLeast("canary.teachers_fit", FIT_LEVEL, "book", "most teachers at 100 % of their training pool, with "
                      "95 % confidence (the Clopper–Pearson lower end of the share of teachers)",
                      label="share of teachers at 100 %", unit="pct"), kind="book"),
    ClaimSpec("canary.released0.labels", "Released on the real images alone (no canary released), the soft labels "
              "still give away canary labels", "not reported (the book's realistic question)",
              AllOf(Above("canary.released0.base.advantage", LEAKS, "book", "above trivial by more than 2 %",
                          label="canary advantage", unit="pct"),
                    BeyondNull("canary.released0.base.null_p", NULL_BASIS, label="the audit's null, pooled over teachers")), kind="book"),
    ClaimSpec("canary.released0.membership", "Released on the real images alone, the soft labels give away which "
              "training images were memorized with an odd label (membership of the canaries)", "not reported",
              Above("canary.released0.base.auc", SAFE_AUC, "book", "AUC 0.5 is no signal",
                    label="canary membership AUC"), kind="book"),
    ClaimSpec("canary.released_rho.labels", "With a fraction ρ of the canaries released too, the student recovers labels "
              "of the held-out canaries (the paper's mechanism on real data)", "the paper's §3 on random data",
              AllOf(Above("canary.released_rho.base.advantage", LEAKS, "book", "above trivial by more than 2 %",
                          label="held-out canary advantage", unit="pct"),
                    BeyondNull("canary.released_rho.base.null_p", NULL_BASIS, label="the audit's null, pooled over teachers")), kind="book"),
    ClaimSpec("canary.useful", "The undefended release is useful: the student's real test accuracy is within 5 points "
              "of the teacher's", "not reported",
              AtLeast("canary.released0.base.utility_gap", -UTILITY_KEPT, "book", "within 5 points of the teacher",
                      label="student − teacher test accuracy", unit="pct"), kind="book"),
    ClaimSpec("canary.hard_safe", "Releasing hard labels on the real images is safe by both measures (no canary "
              "label, no membership signal)", "not reported", safe_rule("canary.released0.hard"), kind="book"),
]


def canary_evidence(out: dict[str, pd.DataFrame], cfg: ReleaseConfig
                    ) -> tuple[dict[str, Evidence], dict[str, pd.DataFrame]]:
    """The canary claims' evidence, and the figure's tables: the audit per teacher (``canary_audit``), the Pareto
    table per mode and recipe (``canary_pareto``) and the best stopped recipe per family (``canary_best``)."""
    can, ca, cn, ev = setting_frames(out, "canary", fit_by=["seed"])
    if can.empty:
        return ev, {}
    cbase = f"τ = {cfg.canary.tau:g}"
    can = can.assign(utility_gap=can["acc_test"] - can["acc_test_real_T"])
    ev.update(recipe_evidence(can, ca, cn, by="mode", groups=MODES, base=cbase, prefix="canary.", extra=("utility_gap",)))
    tables = {"canary_audit": ca} if not ca.empty else {}
    cp = pareto_table(can, "acc_test", by=("mode",), audits=ca if not ca.empty else None)
    tables["canary_pareto"] = cp
    tables["canary_best"] = best_table(cp, cbase, by=("mode",))
    return ev, tables


def reads(cfg: ReleaseConfig) -> dict[str, tuple[tuple[str, str, str], ...]]:
    """Per claim, the students it reads: (setting, mode, recipe)."""
    cbase = f"τ = {cfg.canary.tau:g}"
    return {
        "canary.released0.labels": (("canary", "released0", cbase),),
        "canary.released0.membership": (("canary", "released0", cbase),),
        "canary.released_rho.labels": (("canary", "released_rho", cbase),),
        "canary.useful": (("canary", "released0", cbase),), "canary.hard_safe": (("canary", "released0", "hard"),),
    }


def canary_metrics(out: dict[str, pd.DataFrame], tables: dict[str, pd.DataFrame], cfg: ReleaseConfig
                   ) -> dict[str, object]:
    """The numbers the page glues beyond the evidence: per mode the undefended students' canary accuracy, trivial
    accuracy, real test accuracy and membership signal, the safe recipes and the Pareto line of each family."""
    metrics: dict[str, object] = {}
    can = out["canary"]
    if can.empty:
        return metrics
    base = f"τ = {cfg.canary.tau:g}"
    for mode in MODES:
        g = can[(can["mode"] == mode) & (can["recipe"] == base)]
        metrics[f"canary.{mode}.acc_canary_S"] = float(g["acc_heldout"].mean())
        metrics[f"canary.{mode}.trivial"] = float(g["trivial"].mean())
        metrics[f"canary.{mode}.acc_test_real_S"] = float(g["acc_test"].mean())
        metrics[f"canary.{mode}.auc"] = float(g["auc"].mean())
        metrics[f"canary.{mode}.tpr_at_5pct_fpr"] = float(g["tpr@5%"].mean())
    metrics["canary.mia.auc"] = metrics["canary.released0.auc"]
    metrics["canary.acc_test_real_T"] = float(can.groupby("seed")["acc_test_real_T"].first().mean())
    metrics["canary.teacher_steps"] = int(can["teacher_steps"].max())
    metrics["canary.num_heldout_released0"] = int(cfg.canary.count)
    metrics["canary.num_fresh"] = int(can["num_nonmembers"].iloc[0])
    cp = tables["canary_pareto"]
    for mode in MODES:
        metrics[f"canary.{mode}.safe_recipes"] = cp.loc[(cp["mode"] == mode) & cp["safe"], "recipe"].tolist()
        metrics[f"canary.{mode}.num_still_rising"] = int(cp.loc[cp["mode"] == mode, "still_rising"].sum())
    for mode in MODES:
        for fam, g in cp[cp["mode"] == mode].groupby("family", sort=False):
            key = f"canary_pareto.{mode}.{fam.replace(' ', '_').replace('-', '')}"
            metrics[f"{key}.leakage"] = g["advantage"].tolist()
            metrics[f"{key}.utility"] = g["utility"].tolist()
    return metrics


def derive_canary(tables: dict, cfg: ReleaseConfig) -> Part:
    """The canary claims, their evidence, the figure's numbers and its tables (:func:`.common.derive_setting`)."""
    return derive_setting(tables, cfg, evidence=canary_evidence, reads=reads, specs=CANARY_SPECS,
                          post_hoc=lambda cid, _: POST_HOC.get(cid, ""), metrics=canary_metrics)


def read_canary(v: Verdicts) -> list[str]:
    """The page's sentences on the digits: whether a release on the real images alone gives canary labels away,
    and the recipes safe by both measures."""
    text = []
    metrics = v.metrics
    verdict = v.claim("canary.released0.labels")
    if verdict is not None and verdict.verdict != UNTESTED:
        word = {"reproduces": "does give away", "fails": "does not give away", "inconclusive": "may give away"}[verdict.verdict]
        text.append(f"A release on the real digits alone {word} canary labels: the student names "
                    f"{fmt(metrics.get('canary.released0.acc_canary_S', float('nan')), 'pct')} of the canaries' labels "
                    f"against a trivial {fmt(metrics.get('canary.released0.trivial', float('nan')), 'pct')}, with a membership "
                    f"AUC of {metrics.get('canary.mia.auc', float('nan')):.2f}.")
    csafe = metrics.get("canary.released0.safe_recipes")
    if csafe is not None:
        text.append(f"On the digits with no canary released, the recipes safe by both measures are: {', '.join(csafe) or 'none'}.")
    return text


FIGURE = Figure("canary", "2. Real data with canaries", derive=derive_canary, read=read_canary)
