"""§1, random labels: what each defense costs. Leakage against utility of every release recipe at a weak-leak α and
at the α where chapter 5's student jumps to full recovery (the page's figure ``fig-release-random``, its tables,
the audit per teacher and the best stopped recipe per family), and the paper's top-k hypothesis (§5.2). Every
claim is a book finding; every threshold is declared here or in :mod:`.common`, with where it comes from."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ...chapters import Figure, Part, Verdicts
from ...rules import UNTESTED, AllOf, Above, AtLeast, AtMost, BeyondNull, ClaimSpec, Evidence, fmt
from .common import (FIT_LEVEL, LEAKS, NULL_BASIS, SAFE_AUC, best_table, derive_setting, pareto_table,
                     recipe_evidence, setting_frames, stopped_rule)
from .config import PRESETS, ReleaseConfig, vals

JUMP_LEAK = 0.5  # the jump α's undefended release recovers at least half of what trivial leaves
HALF = 0.5  # the top-k hypothesis: keeping half of the entries keeps at most half of the leak
KEEPS = 0.8  # "still leaks": at least 80 % of the undefended advantage
COST = 0.1  # "blocking the leak costs utility": the best stopped recipe loses at least 10 points of utility

#: the random-label students' budget, when it is not chapter 5's paper budget (the ⚑ deviation "student budget")
BUDGET_POST_HOC = ("the random-label students' budget (student_steps epochs at student_lr) was set after a planning "
                   "probe of this preset; (d, c, p) and the lr are chapter 5's cpu choices, themselves post hoc")
#: claims whose setting or threshold was set after a planning probe of this chapter's cpu run
POST_HOC = {
    "random.round2_leaks": "rounding to 2 decimals chosen after a planning probe showed it kept the leak",
}


RANDOM_SPECS = [
    ClaimSpec("random.teachers_fit", "The teachers memorize their random data (100 % of it) at both α",
              "not reported (chapter 5's setting)",
              AtLeast("random.teachers_fit", FIT_LEVEL, "book", "most teachers at 100 %, with 95 % confidence "
                      "(the Clopper–Pearson lower end of the share of teachers)", label="share of teachers at 100 %",
                      unit="pct"),
              kind="book"),
    ClaimSpec("random.jump_leaks", "Undefended (τ of chapter 5), the release at the jump α gives away most held-out labels",
              "the paper's Fig. 6 (large α): full recovery",
              AllOf(AtLeast("jump.base.advantage", JUMP_LEAK, "book", "at least half of what trivial leaves",
                            label="advantage at the jump α", unit="pct"),
                    BeyondNull("jump.base.null_p", NULL_BASIS, label="the audit's null, pooled over teachers")), kind="book"),
    ClaimSpec("random.weak_leaks", "Undefended, the release at the weak α still leaks some held-out labels",
              "the paper's Fig. 6 (small α): above chance",
              AllOf(Above("weak.base.advantage", LEAKS, "book", "above trivial by more than 2 %",
                          label="advantage at the weak α", unit="pct"),
                    BeyondNull("weak.base.null_p", NULL_BASIS, label="the audit's null, pooled over teachers")), kind="book"),
    ClaimSpec("random.hard_stops", "Releasing hard labels (the argmax only) stops the leak at both α",
              "not reported (the teacher's argmax is the label itself)",
              AllOf(stopped_rule("jump.hard.advantage"), stopped_rule("weak.hard.advantage")), kind="book"),
    ClaimSpec("random.topk_whole_vector",
              "The paper's top-k hypothesis (§5.2: the information 'sits in the whole vector'): keeping the top half of "
              "each soft label (k = c/2, renormalised) keeps at most half of the leak at the jump α",
              "a hypothesis, not measured (§5.2)",
              AllOf(Above("jump.base.advantage", LEAKS, "book", "a leak to halve: the undefended release leaks",
                          label="undefended advantage", unit="pct"),
                    AtMost("jump.topk_half.ratio", HALF, "book", "at most half of the undefended advantage",
                           label="advantage(top c/2) / advantage(undefended)", unit="num")), kind="book"),
    ClaimSpec("random.round2_leaks", "Rounding the soft labels to 2 decimals, a common output format, does not stop "
              "the leak at the jump α: it keeps most of it", "not reported",
              AllOf(Above("jump.base.advantage", LEAKS, "book", "a leak to keep: the undefended release leaks",
                          label="undefended advantage", unit="pct"),
                    AtLeast("jump.round2.ratio", KEEPS, "book", "at least 80 % of the undefended advantage",
                            label="advantage(round:2) / advantage(undefended)", unit="num")), kind="book"),
    ClaimSpec("random.no_free_defense", "At the jump α no recipe of the grid stops the leak without a large loss of "
              "utility (agreement with the teacher on fresh inputs)", "not reported",
              AtLeast("jump.cost", COST, "book", "the most useful stopped recipe loses at least 10 points; it is "
                      "chosen on the same teachers, so its interval is Bonferroni-corrected over the stopped recipes",
                      label="utility cost of the best stopped recipe", unit="pct"), kind="book"),
    ClaimSpec("random.jump_membership", "Undefended, the student's score separates held-out memorized records from "
              "fresh ones at the jump α (a membership signal)", "not reported",
              Above("jump.base.auc", SAFE_AUC, "book", "AUC 0.5 is no signal", label="membership AUC at the jump α"),
              kind="book"),
]


def _ratio(df: pd.DataFrame, recipe: str, base: str) -> Evidence:
    """advantage(recipe) / advantage(base), per teacher (inits averaged first), over teachers."""
    a = df.groupby(["seed", "recipe"])["advantage"].mean().unstack()
    if recipe not in a or base not in a:
        return Evidence.none(f"{recipe!r} not run at this preset")
    return Evidence.samples(a[recipe] / a[base], unit="num", of="teachers", detail=f"{recipe} against {base}")


def random_evidence(out: dict[str, pd.DataFrame], cfg: ReleaseConfig
                    ) -> tuple[dict[str, Evidence], dict[str, pd.DataFrame]]:
    """The random-label claims' evidence, and the figure's tables: the audit per teacher (``audit``), the Pareto
    table per regime and recipe (``pareto``) and the best stopped recipe per family (``best``)."""
    rnd, ra, rn, ev = setting_frames(out, "random", fit_by=["n", "seed"])
    if rnd.empty:
        return ev, {}
    base = f"τ = {cfg.tau:g}"
    rnd, ra, rn = (df.assign(regime=np.where(df["n"] == cfg.n_jump, "jump", "weak")) if not df.empty else df
                   for df in (rnd, ra, rn))
    tables = {"audit": ra} if not ra.empty else {}
    ev.update(recipe_evidence(rnd, ra, rn, by="regime", groups=("weak", "jump"), base=base))
    jump = rnd[rnd["regime"] == "jump"]
    ev["jump.topk_half.ratio"] = _ratio(jump, f"topk:{cfg.c // 2}", base)
    ev["jump.round2.ratio"] = _ratio(jump, "round:2", base)
    pareto = pareto_table(rnd, "agreement", by=("regime",), audits=ra if not ra.empty else None)
    tables["pareto"] = pareto
    pj = pareto[pareto["regime"] == "jump"]
    ok = pj[pj["stopped"]]
    if ok.empty:
        ev["jump.cost"] = Evidence.none("no recipe stops the leak")
    else:
        best = ok.loc[ok["utility"].idxmax(), "recipe"]
        u = jump.groupby(["seed", "recipe"])["agreement"].mean().unstack()
        looks = len(ok)  # the stopped recipes whose utilities were compared to pick this one
        ev["jump.cost"] = Evidence.paired(u[base], u[best], unit="pct", of="teachers", looks=looks,
                                          detail=f"undefended − {best}, the most useful of the {looks} stopped "
                                                 "recipes, chosen on these teachers (Bonferroni over them)")
    tables["best"] = best_table(pareto, base, by=("regime",))
    return ev, tables


def _budget_is_post_hoc(cfg: ReleaseConfig) -> bool:
    paper = PRESETS["paper"]
    return (cfg.student_steps, cfg.student_lr) != (paper.student_steps, paper.student_lr)


def post_hoc(claim_id: str, cfg: ReleaseConfig) -> str:
    """The settings chosen after a planning probe that decide this claim ('' if none): the claim's own
    (:data:`POST_HOC`) and, for every claim that reads the random-label students, their budget when it is not
    chapter 5's paper budget."""
    parts = [POST_HOC.get(claim_id, "")]
    if claim_id.startswith("random.") and claim_id != "random.teachers_fit" and _budget_is_post_hoc(cfg):
        parts.append(BUDGET_POST_HOC)
    return "; ".join(p for p in parts if p)


def reads(cfg: ReleaseConfig) -> dict[str, tuple[tuple[str, str, str], ...]]:
    """Per claim, the students it reads: (setting, regime, recipe; "*" for every recipe of the grid)."""
    base = f"τ = {cfg.tau:g}"
    jump = ("random", "jump", base)
    return {
        "random.jump_leaks": (jump,), "random.jump_membership": (jump,),
        "random.weak_leaks": (("random", "weak", base),),
        "random.hard_stops": (("random", "jump", "hard"), ("random", "weak", "hard")),
        "random.topk_whole_vector": (jump, ("random", "jump", f"topk:{cfg.c // 2}")),
        "random.round2_leaks": (jump, ("random", "jump", "round:2")),
        "random.no_free_defense": (("random", "jump", "*"),),
    }


def random_metrics(tables: dict[str, pd.DataFrame], cfg: ReleaseConfig) -> dict[str, object]:
    """The numbers the page glues beyond the evidence: per regime and family the Pareto line (knob, recipe,
    leakage, utility), the largest stopped top-k, the safe recipes and those the audit still flags."""
    metrics: dict[str, object] = {}
    pareto = tables.get("pareto", pd.DataFrame())
    for regime, prefix in (("jump", "pareto"), ("weak", "pareto_weak")):
        p = pareto[pareto["regime"] == regime] if not pareto.empty else pareto
        for fam, g in p.groupby("family", sort=False) if not p.empty else []:
            key = f"{prefix}.{fam.replace(' ', '_').replace('-', '')}"
            metrics[f"{key}.knob"] = [None if not math.isfinite(k) else k for k in g["knob"]]
            metrics[f"{key}.recipe"] = g["recipe"].tolist()
            metrics[f"{key}.leakage"] = g["advantage"].tolist()
            metrics[f"{key}.utility"] = g["utility"].tolist()
    if not pareto.empty:
        pj = pareto[pareto["regime"] == "jump"]
        stops = pj[(pj["family"] == "top-k") & pj["stopped"]]
        metrics["topk.k_stop"] = float(stops["knob"].max()) if not stops.empty else None
        metrics["topk.k_stop_utility"] = float(stops.loc[stops["knob"].idxmax(), "utility"]) if not stops.empty else None
        metrics["random.safe_recipes"] = pj.loc[pj["safe"], "recipe"].tolist()
        if "audit_leaks" in pj:
            every = pj["stopped"] & (pj["audit_teachers"] > 0) & (pj["audit_leaks"] == pj["audit_teachers"])
            metrics["random.stopped_but_audit_leaks"] = pj.loc[every, "recipe"].tolist()
        metrics["random.num_still_rising"] = int(pareto["still_rising"].sum())
        metrics["random.base_utility"] = float(pj.loc[pj["recipe"] == f"τ = {cfg.tau:g}", "utility"].iloc[0])
    return metrics


def derive_random(tables: dict, cfg: ReleaseConfig) -> Part:
    """The random-label claims, their evidence, the figure's numbers and its tables
    (:func:`.common.derive_setting`)."""
    return derive_setting(tables, cfg, evidence=random_evidence, reads=reads, specs=RANDOM_SPECS, post_hoc=post_hoc,
                          metrics=lambda out, own, cfg_: random_metrics(own, cfg_))


def read_random(v: Verdicts) -> list[str]:
    """The page's sentences on the random-label recipes: those safe by both measures, and where top-k stops the leak."""
    if v["random.no_free_defense"] == UNTESTED:
        return []
    safe = v.metrics.get("random.safe_recipes") or []
    k = v.metrics.get("topk.k_stop")
    return [f"At the jump α the recipes that are safe by both measures are: {', '.join(safe) or 'none'}.",
            f"Top-k stops the leak only from k = {k:g} down (of c = {v.cfg.c})." if k else
            "No top-k of the grid stops the leak at the jump α."]


def topk_reading(metrics: dict, cfg: ReleaseConfig) -> str:
    """The answer to §5.2's top-k question, generated from the metrics (Markdown)."""
    k, u, base = metrics.get("topk.k_stop"), metrics.get("topk.k_stop_utility"), metrics.get("random.base_utility")
    if base is None:
        return "The top-k recipes did not run at this preset."
    if k is None:
        return (f"At the jump α no top-k of the grid (k ∈ {{{vals(cfg.topks)}}} of c = {cfg.c}) stops the leak; the "
                f"undefended release's utility is {fmt(base, 'pct')}.")
    return (f"At the jump α the largest k of the grid whose leak is stopped is k = {k:g} of c = {cfg.c}, at a utility "
            f"of {fmt(u, 'pct')} against {fmt(base, 'pct')} for the undefended release: to stop the leak, top-k must "
            f"keep {'almost nothing but the argmax' if k <= 2 else f'at most {k:g} entries'}.")


FIGURE = Figure("random", "1. Random labels: what each defense costs", derive=derive_random, read=read_random)
