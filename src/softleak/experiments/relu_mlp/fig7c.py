"""Fig. 7C: the four behaviours at ρ = curve.rho, one per curve α (memorizes, approximates, jumps, teacher
fails), read off the jump statistics of every run (:func:`softleak.experiments.relu_mlp.analysis.curve_runs`);
the numbers of the jump the page glues. Every threshold is declared here."""
from __future__ import annotations
import numpy as np
import pandas as pd

from ...chapters import Figure, Part, Verdicts
from ...claims import Claim
from ...metrics import FULL
from ...rules import AllOf, Above, AtLeast, Below, ClaimSpec, Equivalent, Evidence, fmt, not_converged
from .common import (EVERY_RUN_LEVEL, SAME, check_claim, curve_post_hoc, paired, role_runs, samples, seeds_note,
                     still_moving)
from .config import ROLES, ReluConfig, alpha_roles


def _fig7c_specs(cfg: ReluConfig) -> list[ClaimSpec]:
    a = alpha_roles(cfg)
    g = lambda role: f"{a[role]:g}" if role in a else "—"  # noqa: E731
    full = ("paper", "100 %, read at the book's 0.99")
    above_val = lambda role: Above(f"fig7c.{role}.leak", 0.0, "chance",  # noqa: E731
                                   "acc_val_S: the same student on fresh inputs with random labels",
                                   label="acc_test_S − acc_val_S, per run", unit="pct")
    return [
        ClaimSpec("fig7c.memorize", f"Fig. 7C.1 (ρ = {cfg.curve.rho:g}, α = {g('memorize')}): the student memorizes "
                  "D_train^S and leaks weakly", "memorizes D_train^S; acc_test_S > acc_val_S",
                  AllOf(AtLeast("fig7c.memorize.train", FULL, *full, label="final acc_train_S", unit="pct"),
                        above_val("memorize"))),
        ClaimSpec("fig7c.approximate", f"Fig. 7C.2 (α = {g('approximate')}): the student only approximates D_train^S "
                  "and still leaks weakly", "only approximates D_train^S; acc_test_S > acc_val_S",
                  AllOf(Below("fig7c.approximate.train", FULL, *full, label="final acc_train_S", unit="pct"),
                        above_val("approximate"),
                        Below("fig7c.approximate.test", FULL, *full, label="final acc_test_S", unit="pct"))),
        ClaimSpec("fig7c.jump", f"Fig. 7C.3 (α = {g('jump')}): after a plateau at a non-trivial level, acc_train_S and "
                  "acc_test_S jump suddenly and together to 100 %",
                  "a sudden joint jump to 100 % at t ∼ 100 (a log index: roughly 1 000–4 000 epochs at lr 1e-4)",
                  AllOf(AtLeast("fig7c.jump.share", EVERY_RUN_LEVEL, "paper",
                                "every run of panel C.3 jumps; 'every run' read as most runs with 95 % confidence "
                                f"(Clopper–Pearson lower end ≥ {fmt(EVERY_RUN_LEVEL, 'pct')}, book)",
                                label=f"share of runs that reach acc_test_S ≥ {cfg.jump_level:g} after a longer plateau "
                                      "than the rise, and end with train and test at 100 %",
                                unit="pct"),
                        Above("fig7c.jump.plateau", 0.0, "chance", "acc_val_S, the same student on fresh data",
                              label="plateau acc_test_S − acc_val_S, over the runs that jump", unit="pct"))),
        ClaimSpec("fig7c.teacher_fails", f"Fig. 7C.4 (α = {g('fail')}): the teacher no longer memorizes, and the "
                  "student's train and test accuracies coincide", "acc_*^T < 100 %; acc_train_S ≈ acc_test_S",
                  AllOf(Below("fig7c.fail.teacher", FULL, *full, label="acc_*^T", unit="pct"),
                        Equivalent.margin("fig7c.fail.gap", 0.0, SAME, "book", "≈ read as within 5 points",
                                          label="acc_train_S − acc_test_S, per run", unit="pct"))),
    ]


def jumped_fully(jumps: pd.DataFrame) -> np.ndarray:
    """Per run (rows of :func:`jump_stats` results): 1 if it jumped as fig7c.jump reads it (reached the level
    after a plateau longer than the rise, and ended with train and test at 100 %), else 0; NaN where a final
    accuracy is missing."""
    finals = jumps[["final_train", "final_test"]].to_numpy(dtype=float)
    ok = (np.isfinite(jumps["epoch"].to_numpy(dtype=float)) & jumps["sudden"].to_numpy(dtype=bool)
          & (finals >= FULL).all(axis=1)).astype(float)
    ok[~np.isfinite(finals).all(axis=1)] = np.nan
    return ok


def jump_evidence(runs: pd.DataFrame) -> dict[str, Evidence]:
    """What ``fig7c.jump``'s rule reads from the jump panel's runs (one row per seed, :func:`jump_stats` and
    acc_val_S): the share that jump fully (Clopper–Pearson) and the plateau's lead over acc_val_S over the runs that
    jump. The claim reads its runs with it, and its ladder each rung's (:mod:`.ladder`)."""
    jumped = runs[np.isfinite(runs["epoch"].to_numpy(dtype=float))]
    return {"fig7c.jump.share": Evidence.share_of(jumped_fully(runs), of="runs"),
            "fig7c.jump.plateau": (paired(jumped["plateau"], jumped["acc_val_S"]) if len(jumped)
                                   else Evidence.none("no run jumps", unit="pct"))}


def jump_spec(cfg: ReluConfig) -> ClaimSpec:
    """``fig7c.jump``'s declaration (its rule), for the ladder that reads the same rule at each rung."""
    return next(spec for spec in _fig7c_specs(cfg) if spec.id == "fig7c.jump")


def fig7c_claims(jr: pd.DataFrame, cfg: ReluConfig) -> tuple[list[Claim], dict[str, Evidence]]:
    """Fig. 7C: the four behaviours at ρ = ``curve.rho``, one per α of ``curve.alphas`` (``jr``:
    :func:`curve_runs`). "Every run jumps" is the Clopper–Pearson share of runs that jump against
    :data:`EVERY_RUN_LEVEL`; a panel whose students still move at the cap is not converged (:func:`still_moving`)."""
    roles = alpha_roles(cfg)
    std = jr[jr["variant"] == "standard"] if len(jr) else jr
    note = seeds_note("Fig. 7C", std["seed"].unique() if len(std) else [])
    ev: dict[str, Evidence] = {}
    none = lambda role: Evidence.none(f"no curve α for the '{role}' panel at this preset", unit="pct")  # noqa: E731
    R = {role: role_runs(jr, roles.get(role)) for role in ROLES}
    for role in ("memorize", "approximate"):
        r = R[role]
        if role not in roles:
            ev[f"fig7c.{role}.train"] = ev[f"fig7c.{role}.leak"] = ev[f"fig7c.{role}.test"] = none(role)
            continue
        ev[f"fig7c.{role}.train"] = samples(r["final_train"])
        ev[f"fig7c.{role}.test"] = samples(r["final_test"])
        ev[f"fig7c.{role}.leak"] = paired(r["final_test"], r["acc_val_S"])
    if "jump" not in roles:
        ev["fig7c.jump.share"] = ev["fig7c.jump.plateau"] = none("jump")
    else:
        ev.update(jump_evidence(R["jump"]))
    r = R["fail"]
    if "fail" not in roles:
        ev["fig7c.fail.teacher"] = ev["fig7c.fail.gap"] = none("fail")
    else:
        ev["fig7c.fail.teacher"] = samples(r["acc_star_T"])
        ev["fig7c.fail.gap"] = paired(r["final_train"], r["final_test"])
    post = curve_post_hoc(cfg)
    claims = [check_claim(spec, ev, note, post_hoc=post) for spec in _fig7c_specs(cfg)]
    role_of = {"fig7c.memorize": "memorize", "fig7c.approximate": "approximate", "fig7c.jump": "jump",
               "fig7c.teacher_fails": "fail"}
    moving = {cid: still_moving(R[role], f"α = {roles[role]:g}") if role in roles else [] for cid, role in role_of.items()}
    return [not_converged(c, moving[c.id]) for c in claims], ev


def _jump_metrics(jr: pd.DataFrame, cfg: ReluConfig) -> dict[str, object]:
    roles = alpha_roles(cfg)
    a = roles.get("jump", np.nan)
    jj = role_runs(jr, roles.get("jump"))
    jumped = jj[np.isfinite(jj["epoch"].to_numpy(dtype=float))] if len(jj) else jj
    ratio = lambda kl: float((jumped[f"{kl}_drop"] / jumped[f"{kl}_drop_before"].clip(lower=1e-9)).median()) \
        if len(jumped) else np.nan  # noqa: E731
    nan_if_empty = lambda s, f: float(f(s)) if len(s) else np.nan  # noqa: E731
    return {
        "jump.alpha": float(a), "jump.rho": cfg.curve.rho,
        "jump.epoch": nan_if_empty(jumped["epoch"], np.median) if len(jumped) else np.nan,
        "jump.epochs": jj["epoch"].tolist() if len(jj) else [], "jump.rise": jj["rise"].tolist() if len(jj) else [],
        "jump.rise_max": nan_if_empty(jumped["rise"], np.max) if len(jumped) else np.nan,
        "jump.acc_test_S.before": nan_if_empty(jumped["plateau"], np.mean) if len(jumped) else np.nan,
        "jump.acc_test_S.after": nan_if_empty(jj["final_test"], np.mean) if len(jj) else np.nan,
        "jump.acc_train_S.after": nan_if_empty(jj["final_train"], np.mean) if len(jj) else np.nan,
        "jump.runs_jumped": int(len(jumped)), "jump.runs": int(len(jj)),
        "jump.kl_train_S.drop_ratio": ratio("kl_train_S"), "jump.kl_test_S.drop_ratio": ratio("kl_test_S"),
    }


def derive_fig7c(tables: dict, cfg: ReluConfig) -> Part:
    """Fig. 7C's claims, and the numbers of the jump the page glues."""
    jr = tables["jumps"]
    claims, ev = fig7c_claims(jr, cfg)
    return Part(claims, ev, _jump_metrics(jr, cfg))


def read_fig7c(v: Verdicts) -> list[str]:
    """Which leakage mechanisms show at this preset, and how the runs at the jump α jumped."""
    metrics = v.metrics
    parts = []
    weak = [v["fig7c.memorize"], v["fig7c.approximate"]]
    strong = v["fig7c.jump"]
    if "reproduces" in weak and strong == "reproduces":
        parts.append("Both leakage mechanisms show at this preset: a student that memorizes the soft labels "
                     "leaks weakly, above acc_val_S, and a student that finds the teacher leaks everything, after a "
                     "sudden jump.")
    elif strong == "reproduces":
        parts.append("The jump to full recovery shows at this preset; the weak-leakage panels do not all reproduce "
                     "(see their rows).")
    elif "reproduces" in weak:
        parts.append("Weak leakage by soft-label memorization shows at this preset; the sudden jump to full recovery "
                     f"is {'not settled by this run' if strong == 'inconclusive' else 'not seen'} (`fig7c.jump`).")
    else:
        parts.append("Neither leakage panel of Fig. 7C is confirmed at this preset (see the table).")
    if metrics.get("jump.runs"):
        parts.append(f"At α = {v.num('jump.alpha')}, {metrics['jump.runs_jumped']} of {metrics['jump.runs']} runs reach "
                     f"acc_test_S ≥ 0.9 (median epoch {v.num('jump.epoch')}), from a plateau at "
                     f"{v.num('jump.acc_test_S.before', 'pct')}.")
    return parts


FIGURE = Figure("fig7c", "Fig. 7C: the jump in training time", derive=derive_fig7c, read=read_fig7c)
