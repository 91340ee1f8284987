"""The tables chapter 5's figures read: seed means per cell, the Fig. 7A regions and thresholds, the jump of a
training run, and the jump statistics of every run at ρ = curve.rho (:func:`prepare`, derived once for the figures
of the training curves)."""
from __future__ import annotations
import numpy as np
import pandas as pd

from ... import theory
from ...metrics import FULL, seed_means
from .config import ReluConfig, orange_cut

#: phase-diagram regions of Fig. 7A (spec §5.4), in legend order
REGION_NAMES = ("green", "blue", "lightblue", "orange", "red")
METRIC_COLUMNS = ("acc_star_T", "acc_train_S", "acc_test_S", "acc_val_S", "acc_test_S_class0", "acc_match_T_test",
                  "kl_train_S", "kl_test_S")
GROUP = ["c", "alpha", "rho", "p_T", "p_S", "variant", "k"]


def figure_means(runs: pd.DataFrame, experiment: str) -> pd.DataFrame:
    """Seed means (a missing run makes its group NaN), SEM (``<metric>_sem``) and ``num_seeds`` per
    cell and student kind of one experiment: the table a figure draws."""
    sub = runs[runs["experiment"] == experiment]
    if sub.empty:
        return pd.DataFrame(columns=[*GROUP, *METRIC_COLUMNS, *(f"{m}_sem" for m in METRIC_COLUMNS), "num_seeds"])
    means = seed_means(sub, GROUP, list(METRIC_COLUMNS))
    g = sub.groupby(GROUP, sort=True)[list(METRIC_COLUMNS)]
    count = g.count()
    sems = (g.std(ddof=1) / np.sqrt(count)).where(count > 1).add_suffix("_sem").reset_index()  # metrics.sem, vectorised
    return means.merge(sems, on=GROUP)


def region(acc_star_T: float, acc_train_S: float, acc_test_S: float, acc_match_T_test: float, *,
           orange_threshold: float, strict: bool = False) -> str:
    """The Fig. 7A region of one cell from its seed means (spec §5.4).

    Teacher memorizes (acc_star_T ≥ 0.99): green (train and test ≥ 0.99), blue (train ≥ 0.99, test
    below), light blue (train < 0.99). Teacher fails: orange when the student finds the teacher,
    red when not. "Finds" is acc_test_S > ``orange_threshold`` (:func:`orange_cut`: the authors'
    rule as a multiple of chance); with ``strict`` it is agreement with the teacher's argmax on
    D_test^S ≥ 0.99.
    """
    if acc_star_T >= FULL:
        if acc_train_S >= FULL:
            return "green" if acc_test_S >= FULL else "blue"
        return "lightblue"
    found = acc_match_T_test >= FULL if strict else acc_test_S > orange_threshold
    return "orange" if found else "red"


def phase_regions(means: pd.DataFrame, c: int) -> pd.DataFrame:
    """Both region rules for every (α, ρ) cell of the grid."""
    out = means[["alpha", "rho", "acc_star_T", "acc_train_S", "acc_test_S", "acc_match_T_test"]].copy()
    cols = ["acc_star_T", "acc_train_S", "acc_test_S", "acc_match_T_test"]
    cut = orange_cut(c)
    out["region"] = [region(*r, orange_threshold=cut) for r in out[cols].itertuples(index=False)]
    out["region_strict"] = [region(*r, orange_threshold=cut, strict=True) for r in out[cols].itertuples(index=False)]
    return out


def thresholds_by_rho(means: pd.DataFrame, d: int, p: int, c: int) -> pd.DataFrame:
    """Per ρ: α_label^T (teacher stops memorizing), α_label^S (the student's first run of fits of
    D_train^S ends), α_id^S (first α with full held-out recovery) and the counting bound."""
    teacher = means.groupby("alpha")["acc_star_T"].mean()
    a_T = theory.drop_threshold(teacher.index, teacher.to_numpy())
    rows = []
    for rho, g in means.groupby("rho"):
        rows.append({"rho": rho, "alpha_label_T": a_T,
                     "alpha_label_S": theory.last_of_first_run(g["alpha"], g["acc_train_S"], FULL),
                     "alpha_id_S": theory.onset_threshold(g["alpha"], g["acc_test_S"], FULL),
                     "alpha_count": theory.alpha_count_mlp(rho, d, p, c)})
    return pd.DataFrame(rows, columns=["rho", "alpha_label_T", "alpha_label_S", "alpha_id_S", "alpha_count"])


def jump_stats(curve: pd.DataFrame, level: float) -> dict:
    """The jump of one training run: when acc_test_S first reaches ``level``, and what came before.

    - ``epoch``: the first recorded step with acc_test_S ≥ level (NaN if it never does);
    - ``plateau``: median acc_test_S over the steps in [epoch/4, 3·epoch/4], the level it sat at;
    - ``start``: the last step before ``epoch`` with acc_test_S ≤ plateau + 0.1, where the rise began;
    - ``rise``: epoch − start; ``plateau_length``: start − the first step with acc_test_S ≥ plateau − 0.03;
      a jump is *sudden* when the run sat on its plateau for longer than the rise took;
    - ``kl_*_drop`` / ``kl_*_drop_before``: fall of log KL over [start, epoch] and over the equally
      long window before ``start`` (Fig. 17: the loss falls sharply at the jump);
    - ``train_gain_last``: the rise of acc_train_S over the last tenth of the recorded steps (a student still
      moving at the cap, :data:`STILL_MOVING`).
    """
    c = curve.sort_values("step")
    steps, test = c["step"].to_numpy(), c["acc_test_S"].to_numpy()
    train = c["acc_train_S"].to_numpy(dtype=float)
    hit = np.nonzero(test >= level)[0]
    tenth = np.nonzero(steps <= steps[0] + 0.9 * (steps[-1] - steps[0]))[0] if len(steps) else []
    out = {"epoch": np.nan, "plateau": np.nan, "start": np.nan, "rise": np.nan, "plateau_length": np.nan, "sudden": False,
           "acc_train_S_at_start": np.nan, "final_train": float(train[-1]), "final_test": float(test[-1]),
           "train_gain_last": float(train[-1] - train[tenth[-1]]) if len(tenth) else np.nan}
    if hit.size == 0 or hit[0] == 0:
        return out
    t = steps[hit[0]]
    window = (steps >= t / 4) & (steps <= 3 * t / 4)
    plateau = float(np.median(test[window])) if window.any() else float(test[0])
    below = np.nonzero((steps < t) & (test <= plateau + 0.1))[0]
    i0 = below[-1] if below.size else 0
    start = steps[i0]
    reach = steps[np.nonzero(test >= plateau - 0.03)[0][0]]
    out.update(epoch=float(t), plateau=plateau, start=float(start), rise=float(t - start),
               plateau_length=float(start - reach), sudden=bool(t - start <= start - reach),
               acc_train_S_at_start=float(c["acc_train_S"].iloc[i0]))
    for kl in ("kl_train_S", "kl_test_S"):
        lk = np.log(np.maximum(c[kl].to_numpy(), 1e-12))
        span = max(t - start, 2 * (steps[1] - steps[0]) if len(steps) > 1 else 1)
        at = lambda s: float(np.interp(s, steps, lk))  # noqa: E731
        out[f"{kl}_drop"] = at(start) - at(start + span)
        out[f"{kl}_drop_before"] = at(max(start - span, 0)) - at(start)
    return out


def curve_runs(out: dict[str, pd.DataFrame], cfg: ReluConfig) -> pd.DataFrame:
    """Jump statistics (:func:`jump_stats`) of every run at ρ = ``curve.rho``: the curves' students
    (standard and shuffled) and the grid's students at that ρ; one row per run."""
    runs = out["runs"]
    runs = runs[runs["experiment"].isin(["curves", "grid"]) & np.isclose(runs["rho"], cfg.curve.rho)]
    runs = runs.drop_duplicates(["alpha", "seed", "student", "p_T", "teacher_steps"])
    curves = out["curves"]
    rows = []
    for r in runs.itertuples(index=False):
        cur = curves[(curves["alpha"] == r.alpha) & (curves["seed"] == r.seed) & (curves["student"] == r.student)
                     & (curves["p_T"] == r.p_T) & (curves["teacher_steps"] == r.teacher_steps)]
        rows.append({"alpha": r.alpha, "seed": r.seed, "variant": r.variant, "acc_star_T": r.acc_star_T,
                     "acc_val_S": r.acc_val_S, **jump_stats(cur, cfg.jump_level)})
    cols = ["alpha", "seed", "variant", "acc_star_T", "acc_val_S", "epoch", "plateau", "start", "rise",
            "plateau_length", "sudden", "acc_train_S_at_start", "final_train", "final_test", "train_gain_last",
            *(f"{kl}_drop{w}" for kl in ("kl_train_S", "kl_test_S") for w in ("", "_before"))]
    return pd.DataFrame(rows, columns=cols)


def curves_of(out: dict[str, pd.DataFrame], *experiments: str) -> pd.DataFrame:
    """The recorded training curves of the students of some experiments (each student once)."""
    keys = ["alpha", "seed", "student", "p_T", "teacher_steps"]
    ids = out["runs"].loc[out["runs"]["experiment"].isin(experiments), keys].drop_duplicates()
    return out["curves"].merge(ids, on=keys)


def prepare(tables: dict, cfg: ReluConfig) -> dict[str, pd.DataFrame]:
    """The table several figures share: the jump statistics of every run at ρ = curve.rho (:func:`curve_runs`)."""
    return {"jumps": curve_runs(tables, cfg)}
