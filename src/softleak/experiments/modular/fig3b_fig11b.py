"""Fig. 3B (transformer) and Fig. 11B (MLP): the students over ρ for every teacher and τ. At the highest τ the
memorizing teachers' students leak held-out memorized pairs at a small ρ and copy their teacher at the largest (more
abruptly for ②); teacher ③'s students need less data at a high τ; at the lowest τ the teacher makes no difference
(and the transformer's student generalizes past a threshold of ρ); the memorizing teacher's soft labels block
generalization; the middle τ leaks in between. One code draws both figures."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ...chapters import Figure, Part, Verdicts
from ...claims import Claim
from ...metrics import FULL, seed_means
from ...rules import AllOf, Above, AtLeast, AtMost, Below, ClaimSpec, Evidence, Within, fmt
from .common import ARCH, LOW, SAID, checkpoint_means, flag_text, post_hoc_flags, samples, unless_unconverged
from .config import (CONVERGENCE_TEXT, GENERALIZED, LONGER, PAPER_FRAC, ROMAN, TEACHERS, ArchConfig, ModularConfig)

LEAK_MARGIN = 0.05  # book: acc_test_S above acc_val_S by 5 points, beyond a few pairs' noise
RECOVERED = 0.95  # paper: acc_test_S "reaches 1.0", less 5 points
COPY_TOLERANCE = 0.10  # paper: acc_val_S "approaches acc_val_T", within 10 points either side
SHARPER_MARGIN = 0.10  # book: "more abrupt" read as a largest rise between neighbouring ρ 10 points larger
BLOCK_GAP = GENERALIZED - LOW  # theory of our readings: a generalizing student (≥ 0.95) vs one copying a
#                                non-generalizing teacher (< 0.5)
INDEPENDENT_TOLERANCE = 0.10  # book: "does not depend on the teacher" read as within 10 points at every ρ
PAPER_FAIL_RHO, PAPER_SUCCESS_RHO = 0.7, 0.9  # paper: τ = 0.1 "fails at ρ = 0.7", generalizes at ρ = 0.9
MIDDLE_TAU = 1.0  # the middle column of Fig. 3B / 11B
ORDER_MARGIN = 0.02  # book: "more leakage" read as 2 points more, averaged over the ρ grid


def student_specs(arch: str, cfg: ModularConfig) -> list[ClaimSpec]:
    """The students' claims of one architecture, at this config's τ grid."""
    pre, fig, name = ARCH[arch]
    hi, lo = max(cfg.taus), min(cfg.taus)
    specs = [ClaimSpec(f"{fig}b.train", f"{name} students fit D_train^S at every ρ, τ and teacher",
                       "acc_train_S is always 100 %, regardless of ρ and τ (§4)",
                       AtLeast(f"{pre}.train_fitted", FULL, "paper", f"'always 100 %', at the book's {fmt(FULL, 'pct')}",
                               label="acc_train_S of each seed's worst (teacher, τ, ρ) setting", unit="pct")),
             ClaimSpec(f"{fig}b.budget", f"{name} students train at least {LONGER:g}× as long as teacher ② did",
                       "students train '5× longer than the teacher' (§4); the authors' code: 40 000 epochs for all",
                       AtLeast(f"{pre}.student_budget_ratio", LONGER, "paper",
                               f"'{LONGER:g}× longer', in training time lr × epochs (AdamW's step and its decay both "
                               "scale with lr)", label="shortest student budget / teacher ②'s latest epoch, in lr × epochs"),
                       kind="book"),
             ClaimSpec(f"{fig}b.converged", f"{name} students have converged: every student stopped moving within its "
                       "budget", "'the slowest converging setting shows only small improvement' (§4)",
                       AtLeast(f"{pre}.students.converged", 1.0, "book",
                               f"every student converged by the declared rule ({CONVERGENCE_TEXT})",
                               label="share of students converged within the budget", unit="pct"), kind="book")]
    for k in (1, 2):
        specs += [
            ClaimSpec(f"{fig}b.tau{hi:g}.teacher{k}_leaks",
                      f"{name}, τ = {hi:g}, teacher {ROMAN[k]}: at a small ρ the student is more accurate on the "
                      "held-out memorized pairs D_test^S than on unseen pairs D_val",
                      "acc_test_S > acc_val_S for small ρ (Fig. 3B, left column)",
                      AtLeast(f"{pre}.hi.teacher{k}.small.leak", LEAK_MARGIN, "book", "5 points, beyond a few pairs' noise",
                              label="acc_test_S − acc_val_S at the small ρ, paired by seed", unit="pct")),
            ClaimSpec(f"{fig}b.tau{hi:g}.teacher{k}_copies",
                      f"{name}, τ = {hi:g}, teacher {ROMAN[k]}: at the largest ρ the student recovers D_test^S and copies "
                      "the teacher's lack of generalization",
                      "acc_test_S reaches 1.0 and acc_val_S approaches acc_val_T, despite 5× longer training (§4)",
                      AllOf(AtLeast(f"{pre}.hi.teacher{k}.top.acc_test_S", RECOVERED, "paper", "'reaches 1.0', less 5 points",
                                    label="acc_test_S at the largest ρ", unit="pct"),
                            Within(f"{pre}.hi.teacher{k}.top.val_minus_T", -COPY_TOLERANCE, COPY_TOLERANCE, "paper",
                                   "'approaches acc_val_T', within 10 points",
                                   label="acc_val_S − acc_val_T at the largest ρ, paired by seed", unit="pct"))),
        ]
    if arch == "transformer":
        specs.append(ClaimSpec(
            f"{fig}b.tau{hi:g}.teacher2_sharper", f"τ = {hi:g}: acc_test_S rises more abruptly over ρ for teacher ② than for ①",
            "a similar but more abrupt transition for teacher ② (§4)",
            AtLeast(f"{pre}.hi.sharper", SHARPER_MARGIN, "book", "a largest rise 10 points larger",
                    label="largest rise of acc_test_S between neighbouring ρ, ② − ①, paired by seed", unit="pct")))
    specs += [
        ClaimSpec(f"{fig}b.tau{hi:g}.teacher3_generalizes",
                  f"{name}, teacher ③: at τ = {hi:g} the student generalizes from a smaller ρ than at τ = {lo:g}",
                  "learning from the generalizing teacher ③ at τ = 10 requires less data (§4)",
                  Above(f"{pre}.teacher3.rho_gen_saving", 0.0, "paper", "'requires less data'",
                        label=f"smallest generalizing ρ at τ = {lo:g} − at τ = {hi:g}, paired by seed (± half the ρ grid's "
                              "widest step; a high-τ student that never generalizes shows no saving, −∞)")),
        ClaimSpec(f"{fig}b.tau{lo:g}.independent", f"{name}, τ = {lo:g}: the students do not depend on which teacher "
                  "labelled them", "at τ = 0.1 student performance becomes independent of the teacher (§4, App. C.3)",
                  AtMost(f"{pre}.lo.teacher_spread", INDEPENDENT_TOLERANCE, "book", "within 10 points at every ρ",
                         label="largest spread of acc_test_S or acc_val_S across ① ② ③ (per seed, over ρ)", unit="pct")),
    ]
    if arch == "transformer":
        fail, success = threshold_rhos(cfg.arch(arch))
        specs.append(ClaimSpec(
            f"{fig}b.tau{lo:g}.threshold", f"τ = {lo:g}: the student fails to generalize at ρ = {fail:g} and succeeds at "
            f"ρ = {success:g} (the paper's 0.7 and 0.9 at the same share of all pairs, ρ × fraction = "
            f"{PAPER_FAIL_RHO * PAPER_FRAC:.0%} and {PAPER_SUCCESS_RHO * PAPER_FRAC:.0%})",
            "fails at ρ = 0.7, generalizes at ρ = 0.9 (transition near ρ ≈ 0.75, §4)",
            AllOf(Below(f"{pre}.lo.fail.acc_val_S", LOW, "book", "'fails': wrong on most unseen pairs",
                        label=f"acc_val_S at ρ = {fail:g} (mean over teachers)", unit="pct"),
                  AtLeast(f"{pre}.lo.success.acc_val_S", GENERALIZED, "book", "'generalizes': the paper's ≈ 1 less 5 points",
                          label=f"acc_val_S at ρ = {success:g} (mean over teachers)", unit="pct"))))
    specs += [
        ClaimSpec(f"{fig}b.soft_labels_block", f"{name}, teacher ①, largest ρ: the high-τ student generalizes far less "
                  "than the low-τ one: the memorizing teacher's soft labels keep it from generalizing",
                  "soft labels can prevent the student from learning structure the teacher has not found (§4, App. C.3)",
                  AtLeast(f"{pre}.block", BLOCK_GAP, "theory", f"a generalizing student (≥ {fmt(GENERALIZED, 'pct')}) "
                          f"against one copying a non-generalizing teacher (< {fmt(LOW, 'pct')})",
                          label=f"acc_val_S at τ = {lo:g} − at τ = {hi:g}, paired by seed", unit="pct")),
        ClaimSpec(f"{fig}b.tau{MIDDLE_TAU:g}.teacher2_between",
                  f"{name}, teacher ②, τ = {MIDDLE_TAU:g} (the middle column): it leaks less than at τ = {hi:g} and more "
                  f"than at τ = {lo:g}", "higher temperatures increase the leakage of teacher-specific memorized "
                  "information (§4; Fig. 3B and 11B, middle column)",
                  AllOf(AtLeast(f"{pre}.mid.order_high", ORDER_MARGIN, "book", "'more leakage' at the higher τ: 2 points",
                                label=f"leak at τ = {hi:g} − at τ = {MIDDLE_TAU:g}", unit="pct"),
                        AtLeast(f"{pre}.mid.order_low", ORDER_MARGIN, "book", "'more leakage' at the higher τ: 2 points",
                                label=f"leak at τ = {MIDDLE_TAU:g} − at τ = {lo:g}", unit="pct"))),
    ]
    return specs


def student_claims(out: dict[str, pd.DataFrame], cfg: ModularConfig, arch: str) -> tuple[list[Claim], dict[str, Evidence]]:
    """Fig. 3B (transformer) or Fig. 11B (MLP): the students over ρ for every teacher and τ.

    Every difference is paired by seed: the students of one seed share their split and initial
    weights across teachers and τ, and their teacher run."""
    fig = ARCH[arch][1]
    runs = out["runs"][out["runs"]["arch"] == arch]
    ck = out["checkpoints"][out["checkpoints"]["arch"] == arch]
    epoch_T = {k: float(ck.loc[ck["teacher"] == k, "epoch"].mean()) for k in TEACHERS}
    hi = max(cfg.taus)
    ev = student_evidence(out, cfg, arch)
    flags = post_hoc_flags(cfg, arch)
    budget = {f"{fig}b.tau{hi:g}.teacher{k}_copies": _budget_note(cfg, arch, epoch_T[k], out) for k in (1, 2)}
    budget[f"{fig}b.soft_labels_block"] = _budget_note(cfg, arch, epoch_T[1], out)
    # the student lr was chosen so that the low-τ student generalizes at the largest ρ: it decides every claim
    # that rests on a low-τ student generalizing; the training fraction decides teacher ③
    # the levels of ① and ② decide every claim on their students and the budget check against ②'s epoch
    post = {"threshold": ("lr",), "soft_labels_block": ("lr", "stops"), "teacher2_between": ("lr", "stops"),
            "teacher3_generalizes": ("frac", "lr"), "teacher1_leaks": ("stops",), "teacher1_copies": ("stops",),
            "teacher2_leaks": ("stops",), "teacher2_copies": ("stops",), "teacher2_sharper": ("stops",),
            "budget": ("stops", "lr")}
    claims = []
    for spec in student_specs(arch, cfg):
        names = post.get(spec.id.rsplit(".", 1)[1], ())
        conv = ("conv",) if read_settings(spec.id, cfg, arch) else ()
        claim = spec.check(ev, ours=_ours(spec, ev, budget.get(spec.id, "")), post_hoc=flag_text(flags, *names, *conv))
        claims.append(unless_unconverged(claim, runs, read_settings(spec.id, cfg, arch)))
    return claims, ev


def student_evidence(out: dict[str, pd.DataFrame], cfg: ModularConfig, arch: str) -> dict[str, Evidence]:
    """The quantities the students' claims of ``arch`` read, per seed and paired by seed."""
    pre, _, _ = ARCH[arch]
    runs = out["runs"][out["runs"]["arch"] == arch]
    ck = out["checkpoints"][out["checkpoints"]["arch"] == arch]
    val_T = {k: ck[ck["teacher"] == k].set_index("seed")["acc_val_T"] for k in TEACHERS}
    rhos = cfg.rhos_of(arch)
    hi, lo = max(cfg.taus), min(cfg.taus)
    small = cfg.small_rho if cfg.small_rho in rhos else min(rhos)
    top = max(rhos)
    ev: dict[str, Evidence] = {}
    by_setting = _settings(runs)

    means = seed_means(runs, ["teacher", "tau", "rho"], ["acc_train_S"])
    fitted = means["acc_train_S"] >= FULL
    worst = means.loc[means["acc_train_S"].idxmin()] if len(means) else None
    ev[f"{pre}.train_fitted"] = (samples(runs.groupby("seed")["acc_train_S"].min(), detail=(
        f"worst setting per seed; {int(fitted.sum())} of {len(means)} settings' seed means fitted, lowest "
        f"{fmt(worst['acc_train_S'], 'pct')} at teacher {int(worst['teacher'])}, τ = {worst['tau']:g}, ρ = {worst['rho']:g}"))
        if len(means) else Evidence.none("no student ran"))
    ev[f"{pre}.student_budget_ratio"] = budget_ratio(ck, cfg, arch, out)
    ev[f"{pre}.students.converged"] = converged_share(runs)
    for k in TEACHERS:
        for where, rho in (("small", small), ("top", top)):
            for col in ("acc_test_S", "acc_val_S", "acc_match_T_val"):
                ev[f"{pre}.hi.teacher{k}.{where}.{col}"] = samples(_per_seed(by_setting, k, hi, rho, col))
            ev[f"{pre}.lo.teacher{k}.{where}.acc_val_S"] = samples(_per_seed(by_setting, k, lo, rho, "acc_val_S"))
        test, val = _per_seed(by_setting, k, hi, small, "acc_test_S"), _per_seed(by_setting, k, hi, small, "acc_val_S")
        ev[f"{pre}.hi.teacher{k}.small.leak"] = samples(test - val, detail=f"ρ = {small:g}, paired by seed")
        ev[f"{pre}.hi.teacher{k}.top.val_minus_T"] = samples(
            _per_seed(by_setting, k, hi, top, "acc_val_S") - val_T[k], detail=f"ρ = {top:g}, paired by seed")
    if arch == "transformer":
        ev[f"{pre}.hi.sharper"] = samples(_largest_rise(runs, arch, 2, hi) - _largest_rise(runs, arch, 1, hi),
                                           detail="paired by seed")
    r_hi, r_lo = _rho_gen(runs, arch, 3, hi), _rho_gen(runs, arch, 3, lo)
    step = _grid_step(rhos)
    ev[f"{pre}.teacher3.rho_gen.hi"], ev[f"{pre}.teacher3.rho_gen.lo"] = (
        samples(r, "num", resolution=step, grid_end=top) for r in (r_hi, r_lo))
    ev[f"{pre}.teacher3.rho_gen_saving"] = samples(rho_saving(r_lo, r_hi, top), "num", resolution=step, grid_end=0.0,
                                                     detail=(
        f"paired by seed; smallest generalizing ρ at τ = {hi:g}: {', '.join(fmt(v) for v in r_hi)}; at τ = {lo:g}: "
        f"{', '.join(fmt(v) for v in r_lo)}"))
    low = runs[runs["tau"] == lo]
    spread = low.groupby(["seed", "rho"])[["acc_test_S", "acc_val_S"]].agg(lambda s: s.max() - s.min())
    ev[f"{pre}.lo.teacher_spread"] = samples(spread.max(axis=1).groupby("seed").max(), detail="largest per seed")
    for which, rho in zip(("fail", "success"), threshold_rhos(cfg.arch(arch))):
        ev[f"{pre}.lo.{which}.acc_val_S"] = (samples(_per_seed(by_setting, None, lo, rho, "acc_val_S"),
                                                      detail=f"ρ = {rho:g}, mean over teachers per seed")
                                             if rho in rhos else
                                             Evidence.none(f"ρ = {rho:g} is not in this preset's grid", unit="pct"))
    ev[f"{pre}.block"] = samples(_per_seed(by_setting, 1, lo, top, "acc_val_S") - _per_seed(by_setting, 1, hi, top, "acc_val_S"),
                                  detail=f"ρ = {top:g}, paired by seed")
    if MIDDLE_TAU in cfg.taus and MIDDLE_TAU not in (hi, lo) and 2 not in cfg.teachers_of(MIDDLE_TAU, arch):
        why = f"no τ = {MIDDLE_TAU:g} students of teacher ② for the {ARCH[arch][2]} at this preset (see the deviations table)"
        ev[f"{pre}.mid.order_high"] = ev[f"{pre}.mid.order_low"] = Evidence.none(why, unit="pct")
    elif MIDDLE_TAU in cfg.taus and MIDDLE_TAU not in (hi, lo):
        l_hi, l_mid, l_lo = (_leak(runs, arch, 2, t) for t in (hi, MIDDLE_TAU, lo))
        ev[f"{pre}.mid.order_high"] = samples(l_hi - l_mid, detail="leak = acc_test_S − acc_val_S over the ρ grid, paired by seed")
        ev[f"{pre}.mid.order_low"] = samples(l_mid - l_lo, detail="leak = acc_test_S − acc_val_S over the ρ grid, paired by seed")
    else:
        why = f"τ = {MIDDLE_TAU:g} is not in this preset's τ grid (see the deviations table)"
        ev[f"{pre}.mid.order_high"] = ev[f"{pre}.mid.order_low"] = Evidence.none(why, unit="pct")
    return ev


def threshold_rhos(a: ArchConfig) -> tuple[float, float]:
    """The ρ of the τ = 0.1 threshold claim: the paper's 0.7 (fails) and 0.9 (succeeds) at the same share of all
    P² pairs, ρ × fraction, at this training fraction (rounded to 1e-4, the unit of ρ's seeds)."""
    return tuple(round(r * PAPER_FRAC / a.frac, 4) for r in (PAPER_FAIL_RHO, PAPER_SUCCESS_RHO))


def budget_ratio(checkpoints: pd.DataFrame, cfg: ModularConfig, arch: str, out: dict | None = None) -> Evidence:
    """The shortest student budget over teacher ②'s latest epoch (over seeds), in training time lr × epochs."""
    second = checkpoints.loc[checkpoints["teacher"] == 2, "epoch"]
    if second.empty or not np.isfinite(second.max()) or second.max() <= 0:
        return Evidence.none("no teacher ② was taken")
    shortest = min(_budgets(out, cfg, arch).values())
    student_lr = cfg.student_lr or cfg.lr
    ratio = student_lr * shortest / (cfg.lr * float(second.max()))
    return Evidence.exact(ratio, n=len(second), of="teacher runs", detail=(
        f"{shortest} student epochs at lr {student_lr:g} against teacher ② at epoch {fmt(second.max())} (latest seed) "
        f"at lr {cfg.lr:g}: {shortest / float(second.max()):.1f}× the epochs"))


def _largest_rise(runs: pd.DataFrame, arch: str, k: int, tau: float) -> pd.Series:
    """Per seed: the largest increase of acc_test_S between neighbouring ρ of the grid."""
    r = runs[(runs["arch"] == arch) & (runs["teacher"] == k) & (runs["tau"] == tau)]
    return r.sort_values("rho").groupby("seed")["acc_test_S"].apply(lambda s: s.diff().max())


def _rho_gen(runs: pd.DataFrame, arch: str, k: int, tau: float) -> pd.Series:
    """Per seed: the smallest ρ at which acc_val_S reaches GENERALIZED (+inf if at none: beyond the grid)."""
    r = runs[(runs["arch"] == arch) & (runs["teacher"] == k) & (runs["tau"] == tau)]
    return r.groupby("seed").apply(
        lambda g: float(g.loc[g["acc_val_S"] >= GENERALIZED, "rho"].min()) if (g["acc_val_S"] >= GENERALIZED).any()
        else math.inf, include_groups=False)


def rho_saving(r_lo: pd.Series, r_hi: pd.Series, top: float) -> pd.Series:
    """Per seed, how much less data the high-τ student needs: smallest generalizing ρ at low τ − at high τ.

    A high-τ student that generalizes at no ρ shows no saving: −inf (censored below; counted as 0 in the mean).
    A low-τ student that never generalizes while the high-τ one does gives the saving's lower bound
    ``top − r_hi`` (its threshold lies beyond the grid's end). Never counts a failure as "ρ = 1"."""
    lo, hi = r_lo.align(r_hi, join="outer")
    return pd.Series(np.where(np.isinf(hi), -math.inf, np.where(np.isinf(lo), top - hi, lo - hi)), index=lo.index)


def _leak(runs: pd.DataFrame, arch: str, k: int, tau: float) -> pd.Series:
    """Per seed: acc_test_S − acc_val_S averaged over the ρ grid (NaN if τ did not run)."""
    r = runs[(runs["arch"] == arch) & (runs["teacher"] == k) & (runs["tau"] == tau)]
    return (r["acc_test_S"] - r["acc_val_S"]).groupby(r["seed"]).mean()


def converged_share(runs: pd.DataFrame) -> Evidence:
    """The share of students that converged by the declared rule within their budget (an exact count)."""
    if runs.empty:
        return Evidence.none("no student ran", unit="pct")
    if "converged" not in runs:
        return Evidence.none("runs without a convergence record", unit="pct")
    ok = runs["converged"].astype(bool)
    bad = runs[~ok].groupby(["teacher", "tau", "rho"]).size()
    detail = f"{int(ok.sum())} of {len(ok)} students" + (
        "; not converged: " + ", ".join(f"{ROMAN[int(k)]} τ = {t:g} ρ = {r:g} ({n})" for (k, t, r), n in bad.items())
        if len(bad) else "")
    return Evidence.exact(float(ok.mean()), unit="pct", n=len(ok), of="students", detail=detail, by_nature="count")


def read_settings(claim_id: str, cfg: ModularConfig, arch: str) -> list[tuple[int | None, float, float | None]]:
    """The student settings (teacher k, τ, ρ) a claim of Fig. 3B / 11B reads; None: every teacher or every ρ."""
    hi, lo = max(cfg.taus), min(cfg.taus)
    rhos = cfg.rhos_of(arch)
    small = cfg.small_rho if cfg.small_rho in rhos else min(rhos)
    top = max(rhos)
    table = {"b.train": [(None, t, None) for t in cfg.taus], "b.budget": [], "b.converged": [],
             f"b.tau{hi:g}.teacher2_sharper": [(1, hi, None), (2, hi, None)],
             f"b.tau{hi:g}.teacher3_generalizes": [(3, hi, None), (3, lo, None)],
             f"b.tau{lo:g}.independent": [(None, lo, None)],
             f"b.tau{lo:g}.threshold": [(None, lo, r) for r in threshold_rhos(cfg.arch(arch))],
             "b.soft_labels_block": [(1, lo, top), (1, hi, top)],
             f"b.tau{MIDDLE_TAU:g}.teacher2_between": [(2, t, None) for t in (hi, MIDDLE_TAU, lo)]}
    for k in (1, 2):
        table[f"b.tau{hi:g}.teacher{k}_leaks"] = [(k, hi, small)]
        table[f"b.tau{hi:g}.teacher{k}_copies"] = [(k, hi, top)]
    return table.get(claim_id[len(ARCH[arch][1]):], [])


def _grid_step(grid) -> float:
    """The widest step of a grid (the resolution of a value read off it)."""
    steps = np.diff(np.sort(np.asarray(grid, dtype=float)))
    return float(steps.max()) if steps.size else 0.0


def _settings(runs: pd.DataFrame) -> dict[tuple[float, float], pd.DataFrame]:
    """One architecture's student runs, by (τ, ρ)."""
    return {key: g for key, g in runs.groupby(["tau", "rho"])}


def _per_seed(settings: dict, k: int | None, tau: float, rho: float, col: str) -> pd.Series:
    """One student metric per seed (index: seed) at one (teacher, τ, ρ); k None: the mean over teachers."""
    r = settings.get((tau, rho))
    if r is None:
        return pd.Series(dtype=float)
    if k is not None:
        r = r[r["teacher"] == k]
    return r.groupby("seed")[col].mean()


def _ours(spec: ClaimSpec, ev: dict[str, Evidence], note: str = "") -> str:
    """What we measured for a claim: each quantity its rule reads, and a note."""
    names = list(dict.fromkeys(spec.rule.quantities()))
    text = "; ".join(f"{q}: {ev[q]}" if q in ev else f"{q}: not measured" for q in names)
    return f"{text}; {note}" if note else text


def _budgets(out: dict | None, cfg: ModularConfig, arch: str) -> dict[float, int]:
    """Student epochs per τ: the run's (``out["budgets"]``) when there is one, else the planning estimate."""
    b = out.get("budgets") if out else None
    if b is not None and len(b) and (b["arch"] == arch).any():
        return {float(t): int(e) for t, e in b.loc[b["arch"] == arch, ["tau", "student_epochs"]].itertuples(index=False)}
    return cfg.budgets(arch)


def _budget_frame(metrics: dict, arch: str) -> pd.DataFrame | None:
    """The run's student budgets as :func:`budget_table` rows, from ``metrics["student_epochs"]`` (None if absent)."""
    epochs = metrics.get("student_epochs", {}).get(arch)
    if not epochs:
        return None
    return pd.DataFrame({"arch": arch, "tau": [float(t) for t in epochs], "student_epochs": list(epochs.values())})


def _budget_note(cfg: ModularConfig, arch: str, teacher_epoch: float | None = None, out: dict | None = None) -> str:
    """The student budget beside the paper's, and the epoch the teacher was taken at, for a claim's "ours"."""
    eps = _budgets(out, cfg, arch)
    text = ("student budget " + ", ".join(f"{e} epochs at τ = {t:g}" for t, e in eps.items())
            + " (paper: 40 000 for every τ, ≥ 5× the teacher)")
    if teacher_epoch is not None and np.isfinite(teacher_epoch):
        text += f"; this teacher was taken at epoch {teacher_epoch:.0f}"
    return text


def run_metrics(out: dict[str, pd.DataFrame], cfg: ModularConfig, arch: str) -> dict[str, object]:
    """The architecture's record (``m["transformer"]``, ``m["mlp"]``): every teacher's epoch, fit epoch, init seed and
    acc_val_T per seed (``seeds`` gives the order), the student budget in lr × epochs, the share of students converged,
    and each setting's epochs per seed; the transformer's also at the top level (``teacher1.acc_val_T`` …)."""
    ck, runs = out["checkpoints"], out["runs"]
    c, r = ck[ck["arch"] == arch], runs[runs["arch"] == arch]
    own: dict[str, object] = {"seeds": sorted(int(v) for v in c["seed"].unique())}
    for k in TEACHERS:
        ck_k = c[c["teacher"] == k].sort_values("seed")
        for col in ("epoch", "fit_epoch", "init_seed", "acc_val_T", "acc_fresh_T"):
            if col in ck_k:
                own[f"teacher{k}.{col}"] = ([int(v) for v in ck_k[col]] if col == "init_seed"  # exact: up to 2⁶⁴
                                            else [float(v) if np.isfinite(v) else None for v in ck_k[col]])  # None: never
    b = out.get("budgets")
    if b is not None and (b["arch"] == arch).any():
        own["student_budget"] = float(b.loc[b["arch"] == arch, "lr_epochs"].max())
        own["student_budget_capped"] = bool(b.loc[b["arch"] == arch, "capped"].any())
    if "converged" in r and len(r):
        own["students.converged"] = float(r["converged"].astype(bool).mean())
        own["students.epochs"] = {f"teacher{int(k)} tau{t:g} rho{rho:g}": [int(v) for v in g.sort_values("seed")["epochs"]]
                                  for (k, t, rho), g in r.groupby(["teacher", "tau", "rho"])}
    # one record per architecture ("mlp.…" keys are the MLP's seed-mean evidence)
    return {arch: own, **(own if arch == "transformer" else {})}


def student_metrics(tables: dict, cfg: ModularConfig, arch: str) -> dict[str, object]:
    """The numbers the page glues for the architecture's students: its record (:func:`run_metrics`), every
    architecture's student epochs per τ (the same from either figure), and each (teacher, τ)'s seed means over ρ."""
    metrics = run_metrics(tables, cfg, arch)
    metrics["student_epochs"] = {a: {f"{t:g}": e for t, e in _budgets(tables, cfg, a).items()} for a in cfg.archs}
    means, pre = tables["means"], ARCH[arch][0]
    for (k, tau), m in means[means["arch"] == arch].groupby(["teacher", "tau"]):
        for col in ("acc_train_S", "acc_test_S", "acc_val_S", "acc_match_T_val"):
            metrics[f"{pre}.teacher{k}.tau{tau:g}.{col}"] = m.sort_values("rho")[col].tolist()
    return metrics


def read_students(v: Verdicts, arch: str) -> str:
    """The rest of the architecture's paragraph: the leak, the copy, the block, convergence, and the tally."""
    cfg, metrics = v.cfg, v.metrics
    if arch not in cfg.archs:
        return ""
    hi, lo = max(cfg.taus), min(cfg.taus)
    _, fig, _ = ARCH[arch]
    text = []
    leaks = [v[f"{fig}b.tau{hi:g}.teacher{k}_leaks"] for k in (1, 2)]
    copies = [v[f"{fig}b.tau{hi:g}.teacher{k}_copies"] for k in (1, 2)]
    if all(x == "reproduces" for x in leaks):
        text.append(f"At τ = {hi:g} the memorizing teachers' soft labels leak held-out memorized pairs at the small ρ.")
    else:
        text.append(f"The leak at the small ρ and τ = {hi:g} {SAID[leaks[0]]} for ① and {SAID[leaks[1]]} for ②.")
    if all(x == "reproduces" for x in copies):
        text.append("At the largest ρ those students copy their teacher, its failures on D_val included.")
    else:
        text.append(f"Copying the teacher at the largest ρ {SAID[copies[0]]} for ① and {SAID[copies[1]]} for ②.")
    block = v[f"{fig}b.soft_labels_block"]
    text.append({"reproduces": f"The same student at τ = {lo:g} generalizes where the τ = {hi:g} one does not: the "
                               "memorizing teacher's soft labels kept it from generalizing",
                 "fails": f"The τ = {lo:g} student does not generalize clearly better than the τ = {hi:g} one at the "
                          "largest ρ, so this run does not show soft labels blocking generalization",
                 "inconclusive": f"Whether the τ = {hi:g} soft labels block generalization is not settled by this run",
                 "untested": "The blocking of generalization is not tested at this preset"}[block]
                + (f" ({_budget_note(cfg, arch, out={'budgets': _budget_frame(metrics, arch)})})."
                   if block != "untested" else "."))
    conv = v.claim(f"{fig}b.converged")
    if conv is not None and conv.verdict != "reproduces":
        share = metrics.get(arch, {}).get("students.converged", float("nan"))
        text.append(f"Only {fmt(share, 'pct')} of the students converged within the budget (the rule: "
                    f"{CONVERGENCE_TEXT}); every claim that reads a setting with an unconverged student is "
                    "inconclusive (not converged), whatever its numbers, and says which students.")
    tally_ = [c.verdict for c in v.claims.values() if c.id.startswith(fig) and c.kind == "paper"]
    text.append(f"Of this figure's {len(tally_)} claims, {tally_.count('reproduces')} reproduce, "
                f"{tally_.count('fails')} do not, {tally_.count('inconclusive')} are inconclusive and "
                f"{tally_.count('untested')} are not tested here.")
    return " ".join(text)


def derive_students(tables: dict, cfg: ModularConfig, arch: str) -> Part:
    """The students' claims of ``arch`` and the numbers the page glues for them (nothing when it did not run)."""
    if arch not in cfg.archs:
        return Part()
    claims, ev = student_claims(tables, cfg, arch)
    return Part(claims, ev, student_metrics(tables, cfg, arch))


def derive_fig11b(tables: dict, cfg: ModularConfig) -> Part:
    """The MLP's students; and, last of the chapter's figures, the seed means of the teachers' checkpoints that the
    students' figures draw (``checkpoints``). It is handed over last because it takes the name of the runs' own
    checkpoints table, which every figure before this one reads."""
    part = derive_students(tables, cfg, "mlp")
    part.tables = {"checkpoints": checkpoint_means(tables["checkpoints"])}
    return part


FIG3B = Figure("fig3b", "Fig. 3B: the transformer students over ρ and τ",
               derive=lambda tables, cfg: derive_students(tables, cfg, "transformer"),
               read=lambda v: read_students(v, "transformer"))
FIG11B = Figure("fig11b", "Fig. 11B: the MLP students over ρ and τ", derive=derive_fig11b,
                read=lambda v: read_students(v, "mlp"))
