"""Fig. 13 (c = 2, held-out accuracy over (α, ρ) at three τ): the temperature decides where held-out data leaks;
and the book's check that the teacher memorizes its data below its capacity. Every threshold is declared here,
with where it comes from."""

from __future__ import annotations

import pandas as pd

from ...chapters import Figure, Part, Verdicts
from ...rules import AtLeast, ClaimSpec, Evidence, fmt, not_converged
from .analysis import EXACT, cover_band, experiment_means, nan_mean
from .common import SAY, grid_step
from .config import MultinomialConfig, Optim

WEAK = 0.55  # the paper's weak-leakage level, acc_test_S ≥ 0.55 (Fig. 4B)
FIG13_MARGIN = 0.10  # "depends visibly on τ" (book): τ = 10 leaks on at least a tenth more of the (α, ρ) plane
TEACHERS_FIT = 0.8  # "every teacher fits" (book): at least 80 % of the teachers, with 95 % confidence
CAPTION_F13 = Optim(teacher_lr=1e-4, teacher_steps=1000, student_lr=1e-3, student_steps=5000)  # Fig. 13 caption


def fig13_claims(runs: pd.DataFrame, cfg: MultinomialConfig):
    """Fig. 13 (c = 2, acc_test_S over (α, ρ) at three τ). Returns ``(claims, evidence, derived)``."""
    sub = runs[(runs["experiment"] == "rho_alpha") & ~runs["shuffled"]]
    means = experiment_means(runs, "rho_alpha")
    if sub.empty:
        return [], {}, {"f13": means}
    taus = sorted(sub["tau"].unique())
    leak = (sub["acc_test_S"] >= WEAK).astype(float).where(sub["acc_test_S"].notna())  # a NaN run stays NaN
    share = nan_mean(sub.assign(leak=leak), ["tau", "seed"], "leak").unstack("tau")
    ev = {f"fig13.leak_share.tau{j}": Evidence.samples(share[t].to_numpy(), unit="pct", detail=f"τ = {t:g}")
          for j, t in enumerate(taus)}
    ev["fig13.leak_gain"] = Evidence.paired(share[taus[-1]].to_numpy(), share[taus[0]].to_numpy(), unit="pct",
                                            detail=f"τ = {taus[-1]:g} less τ = {taus[0]:g}, {len(share)} seeds")
    lo, _ = cover_band(cfg.d)
    step = grid_step(sub["alpha"])
    teachers = sub.drop_duplicates(["seed_cell"])
    below = teachers[teachers["alpha"] <= lo - step]
    ev["fig13.teachers_fit"] = (Evidence.share_of((below["acc_star_T"] >= EXACT).where(below["acc_star_T"].notna()),
                                                  of="teachers")
                                if len(below) else Evidence.none("no α below Cover's band", unit="frac"))
    post_hoc = ("" if cfg.f13_optim == CAPTION_F13 else
                f"the teacher trains on the Fig. 14 schedule (Adam {cfg.f13_optim.teacher_lr:g} × "
                f"{cfg.f13_optim.teacher_steps}), chosen after the caption's teacher failed to memorize at this d")
    specs = [
        ClaimSpec("fig13.tau", "Fig. 13: the temperature decides where held-out data leaks: the leakage region in "
                  "(α, ρ) grows from the smallest to the largest τ",
                  "'the temperature influences whether or not held-out teacher data is leaked' (App. D.2); higher "
                  "τ increases the leakage (§3)",
                  AtLeast("fig13.leak_gain", FIG13_MARGIN, "book",
                          f"visibly: on at least {fmt(FIG13_MARGIN, 'pct')} more of the (α, ρ) grid",
                          label=f"share of (α, ρ) cells with acc_test_S ≥ {fmt(WEAK, 'pct')}, largest τ − smallest, "
                                "paired by seed", unit="pct")),
        ClaimSpec("fig13.teacher_memorizes", "Fig. 13: the teacher memorizes its data below its capacity",
                  "spec §4.3: check the short teacher reaches acc_star_T = 1 below capacity",
                  AtLeast("fig13.teachers_fit", TEACHERS_FIT, "theory",
                          f"'every teacher' at a declared level: at least {fmt(TEACHERS_FIT, 'pct')} of the teachers "
                          "below Cover's band fit all their labels, with 95 % confidence (Clopper–Pearson over "
                          "teachers, each its own data cell)",
                          label="share of teachers at 100 % below Cover's band", unit="frac"), kind="book"),
    ]
    claims = [s.check(ev, post_hoc=post_hoc) for s in specs]
    # students taught by a teacher that did not fit its data below Cover's band: fig13.tau is not converged
    unfit = [f"teacher(α = {r.alpha:.3g}, seed = {r.seed}) at {r.acc_star_T:.1%}"
             for r in below[below["acc_star_T"] < EXACT].itertuples()]
    claims = [not_converged(cl, unfit) if cl.id == "fig13.tau" else cl for cl in claims]
    return claims, ev, {"f13": means}


def derive(tables: dict, cfg: MultinomialConfig) -> Part:
    """Fig. 13's claims and evidence, and its table ``f13`` (the seed means over (α, ρ, τ))."""
    claims, ev, derived = fig13_claims(tables["runs"], cfg)
    return Part(claims=claims, evidence=ev, tables=derived)


def read(v: Verdicts) -> str:
    """The page's paragraph on Fig. 13."""
    return (f"\n\n**Fig. 13.** The leakage region grows with τ by "
            f"{fmt(v.metrics.get('fig13.leak_gain', float('nan')), 'pct')} of the (α, ρ) grid: the claim "
            f"{SAY[v['fig13.tau']]}.")


FIGURE = Figure("fig13", "Fig. 13: leakage over (α, ρ) at three τ", derive=derive, read=read, needs="fig13.tau")
