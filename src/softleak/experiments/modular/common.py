"""What several of chapter 2's figures share: the thresholds more than one reads, the key prefix and figure of each
architecture, the seed means the figures draw, the post-hoc flags, evidence over seeds, and the rule that a verdict
read at an unconverged setting is inconclusive."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from ...claims import Claim
from ...metrics import sem, seed_means
from ...rules import Evidence, fmt
from .config import ARCHS, CONV_LOSS_FLOOR, PAPER_FRAC, PLANNED_STUDENT_LR, ROMAN, ModularConfig, parse_stop

# Every threshold is declared in the module of the figure that reads it, with where it comes from; these two are
# read by several.
LOW = 0.5  # book: "does not generalize" (① ②, a failing student) read as wrong on most unseen pairs
DELAY = 3.0  # book: "generalization is delayed" read as ≥ 3× after the fit (the paper's ① and ③ are 4× apart)
ARCH = {"transformer": ("tf", "fig3", "transformer"), "mlp": ("mlp", "fig11", "MLP")}  # key prefix, figure, name
#: how the page's conclusion says a verdict
SAID = {"reproduces": "holds", "fails": "does not hold", "inconclusive": "is not settled by this run",
        "untested": "is not tested at this preset"}


def prepare(tables: dict, cfg: ModularConfig) -> dict[str, pd.DataFrame]:
    """The table the students' figures share: the seed means of every setting (``means``)."""
    return {"means": student_means(tables["runs"])}


def student_means(runs: pd.DataFrame) -> pd.DataFrame:
    """Seed means per (arch, teacher, τ, ρ) of the student metrics, with their standard errors
    (``<metric>_sem``, for the figures' error bars) and ``num_seeds``."""
    accs = ["acc_train_S", "acc_test_S", "acc_val_S", "acc_match_T_val"]
    means = seed_means(runs, ["arch", "teacher", "tau", "rho"], accs + ["fit_epoch", "gen_epoch", "epochs"])
    errs = runs.groupby(["arch", "teacher", "tau", "rho"], sort=True)[accs].agg(sem).add_suffix("_sem").reset_index()
    return means.merge(errs, on=["arch", "teacher", "tau", "rho"])


def checkpoint_means(checkpoints: pd.DataFrame) -> pd.DataFrame:
    """Seed means of each checkpoint's epoch and accuracies; ``met``: every seed met its rule."""
    g = checkpoints.groupby(["arch", "teacher"])
    cols = [c for c in ("epoch", "acc_star_T", "acc_val_T", "acc_fresh_T", "acc_mirror_T") if c in checkpoints]
    return pd.concat([g[cols].mean(), g["met"].all(), g["rule"].first()], axis=1).reset_index()


def samples(values: pd.Series, unit: str = "pct", detail: str = "", **kwargs) -> Evidence:
    """Evidence over seeds; a seed missing on one side of a paired difference makes it missing; ``kwargs``
    (``resolution``, ``grid_end``) for a value read off a grid."""
    values = values.to_numpy(dtype=float) if isinstance(values, pd.Series) else np.asarray(values, dtype=float)
    if kwargs.get("grid_end") is None:
        kwargs.pop("grid_end", None)
    return Evidence.samples(values, unit=unit, detail=detail or "over seeds", **kwargs)


def post_hoc_flags(cfg: ModularConfig, arch: str) -> dict[str, str]:
    """Settings of this config chosen after seeing planning results at this size (see DEVIATIONS)."""
    a, flags = cfg.arch(arch), {}
    if a.frac != PAPER_FRAC:
        flags["frac"] = (f"training fraction {fmt(a.frac, 'pct')} (paper {fmt(PAPER_FRAC, 'pct')}), chosen after planning runs at "
                         f"P = {a.P}")
    if any(parse_stop(r)[0] not in ("epoch", "fit") for r in a.stops[:2]):
        flags["stops"] = (f"checkpoints ① ② by the teacher's state ({a.stops[0]}, {a.stops[1]}), their levels chosen "
                          "after planning runs")
    flags["conv"] = (f"the convergence rule's absolute loss floor ({CONV_LOSS_FLOOR:g} nats), added after the first "
                     "cpu run")
    if (cfg.student_lr or cfg.lr) != cfg.lr:
        raised = cfg.student_lr > PLANNED_STUDENT_LR
        flags["lr"] = (f"student lr {cfg.student_lr:g} (paper {cfg.lr:g})"
                       + (f": {PLANNED_STUDENT_LR:g}" if raised else "")
                       + " chosen after planning runs so that the low-τ student at the largest ρ generalizes within its "
                       "budget" + (", then raised for the time budget after running both on this preset's teachers"
                                   if raised else ""))
    return flags


def flag_text(flags: dict[str, str], *names: str) -> str:
    """The post-hoc flags ``names`` that this config raised, as one note."""
    return "; ".join(flags[n] for n in names if n in flags)


def unless_unconverged(claim: Claim, runs: pd.DataFrame, settings) -> Claim:
    """A verdict read at a setting whose students did not converge within the cap is inconclusive (not converged)."""
    if claim.verdict not in ("reproduces", "fails") or "converged" not in runs or not settings:
        return claim
    bad = []
    for k, tau, rho in settings:
        r = runs[np.isclose(runs["tau"], tau)]
        r = r if k is None else r[r["teacher"] == k]
        r = r if rho is None else r[np.isclose(r["rho"], rho)]
        for _, row in r[~r["converged"].astype(bool)].iterrows():
            bad.append(f"{ROMAN[int(row['teacher'])]} τ = {row['tau']:g} ρ = {row['rho']:g} seed {int(row['seed'])}")
    if not bad:
        return claim
    return dataclasses.replace(claim, holds=None, verdict="inconclusive", note=(
        f"not converged: would have read '{claim.verdict}', but {len(bad)} student(s) it reads had not stopped moving "
        f"at the end of the budget ({'; '.join(bad[:6])}{' …' if len(bad) > 6 else ''})"))


def config_metrics(cfg: ModularConfig) -> dict[str, object]:
    """The protocol values the page's prose quotes, read from the config (never typed)."""
    out: dict[str, object] = {"tau_hi": max(cfg.taus), "tau_lo": min(cfg.taus), "lr": cfg.lr,
                              "student_lr": cfg.student_lr or cfg.lr, "weight_decay": cfg.weight_decay,
                              "betas": ", ".join(f"{b:g}" for b in cfg.betas), "warmup": cfg.warmup,
                              "seeds": list(cfg.seeds), "num_seeds": len(cfg.seeds)}
    for arch in ARCHS:
        a, pre = cfg.arch(arch), ARCH[arch][0]
        rhos = cfg.rhos_of(arch)
        out.update({f"{pre}.P": a.P, f"{pre}.frac": a.frac, f"{pre}.n_star": int(a.frac * a.P**2),
                    f"{pre}.rho": list(rhos), f"{pre}.small_rho": cfg.small_rho if cfg.small_rho in rhos else min(rhos),
                    f"{pre}.top_rho": max(rhos)})
    return out
