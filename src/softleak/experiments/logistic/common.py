"""What several of chapter 3's figures read: the seed means of every cell, the thresholds measured on them
(spec §3.7) and the phase-diagram regions (spec §3.8), derived once for the page (:func:`prepare`); and the
reading of a threshold off the α grid, per seed, censored where the grid does not hold it."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pandas as pd

from ... import theory
from ...metrics import FULL, seed_means
from ...rules import Evidence
from .config import METRICS, LogisticConfig, focus_rho

WEAK = theory.WEAK  # paper, Fig. 4 caption: below 0.55 is "close to trivial accuracy", above it "non-trivial"


def cell_means(runs: pd.DataFrame) -> pd.DataFrame:
    """Seed means and SEMs per (d, α, ρ, shuffled): columns ``<metric>``, ``<metric>_sem`` and
    ``num_seeds`` (:func:`softleak.metrics.seed_means`: a NaN run makes its cell's mean NaN)."""
    return seed_means(runs, ["d", "alpha", "rho", "shuffled"], list(METRICS), with_sem=True)


def thresholds(means: pd.DataFrame, d: int) -> dict[str, object]:
    """The measured thresholds of spec §3.7 at dimension ``d`` (standard students, seed means):
    ``alpha_label_T``, and per ρ ``alpha_id_S`` (acc_test_S onset), ``alpha_id_S_mse`` (mse_test
    below 0.1 onset) and ``alpha_label_S`` (acc_train_S drop)."""
    sub = means[(means["d"] == d) & ~means["shuffled"]]
    teacher = sub.groupby("alpha")["acc_star_T"].mean()
    out: dict[str, object] = {"alpha_label_T": _drop(teacher.index, teacher.to_numpy())}
    id_by_rho, id_mse_by_rho, label_by_rho = {}, {}, {}
    for rho, r in sub.groupby("rho"):
        id_by_rho[rho] = _onset(r["alpha"], r["acc_test_S"])
        id_mse_by_rho[rho] = _mse_onset(r["alpha"], r["mse_test"])
        label_by_rho[rho] = _drop(r["alpha"], r["acc_train_S"])
    out.update(alpha_id_S=id_by_rho, alpha_id_S_mse=id_mse_by_rho, alpha_label_S=label_by_rho)
    return out


def _mse_onset(alphas, mse) -> float:
    """The smallest α with mse_test < 0.1 (the paper's recovery threshold); NaN if none."""
    return _onset(alphas, -np.asarray(mse, dtype=float), -np.nextafter(theory.MSE_RECOVERED, 0.0))  # strictly below


def _drop(alphas, values) -> float:
    """:func:`theory.drop_threshold` at 0.99, but NaN when any value is missing (a missing α is never
    read as "below the level")."""
    v = np.asarray(values, dtype=float)
    return theory.drop_threshold(alphas, v, level=FULL) if np.isfinite(v).all() else float("nan")


def _onset(alphas, values, level: float = FULL) -> float:
    """:func:`theory.onset_threshold`, but NaN when any value is missing."""
    v = np.asarray(values, dtype=float)
    return theory.onset_threshold(alphas, v, level=level) if np.isfinite(v).all() else float("nan")


def regions(means: pd.DataFrame, d: int) -> pd.DataFrame:
    """The phase-diagram region of every (α, ρ) cell at ``d`` (spec §3.8), with the match-T rule beside it."""
    sub = means[(means["d"] == d) & ~means["shuffled"]].copy()
    sub["region"] = [theory.phase_region(a, b, c) for a, b, c in zip(sub["acc_train_S"], sub["acc_test_S"], sub["mse_test"])]
    sub["region_match_rule"] = [
        region if region not in ("orange", "red") else ("orange" if match >= FULL else "red")
        for region, match in zip(sub["region"], sub["acc_match_T_test"])
    ]
    return sub[["alpha", "rho", "region", "region_match_rule", "acc_train_S", "acc_test_S", "mse_test"]]


def alpha_step(runs: pd.DataFrame, d: int) -> float:
    """The α grid step at ``d`` (median spacing of the grid): the resolution of every threshold."""
    alphas = np.unique(runs.loc[runs["d"] == d, "alpha"].to_numpy())
    return float(np.median(np.diff(alphas))) if alphas.size > 1 else float("nan")


def id_tolerance(rho: float, d: int, step: float) -> float:
    """How far a measured α_id^S(ρ) may sit from 1/ρ: one α grid step (the onset is known only to the
    grid cell it lies in, which may reach one step to either side of 1/ρ) plus 2/(ρd) (⌊ρ·n/2⌋ per class
    loses less than one sample per class)."""
    return step + 2.0 / (rho * d)


def standard_runs(runs: pd.DataFrame, d: int) -> pd.DataFrame:
    """The runs at ``d`` of the standard (not shuffled) student."""
    return runs[(runs["d"] == d) & ~runs["shuffled"]]


def teacher_threshold_per_seed(runs: pd.DataFrame, d: int) -> pd.Series:
    """α_label^T of each seed's teachers at ``d`` (the spec's midpoint rule on that seed's curve), censored
    where the grid does not hold it (:func:`drop_per_seed`): −inf if a seed's teacher is below 0.99 from the
    first α, +inf if it never drops within the grid, NaN only for a missing run."""
    t = standard_runs(runs, d).drop_duplicates(["seed", "alpha"])
    return per_seed(t, lambda g: drop_per_seed(g["alpha"], g["acc_star_T"]))


def drop_per_seed(alphas, values) -> float:
    """One seed's drop threshold (α_label): the midpoint of the grid cell where the curve leaves 0.99, so
    that it is known to half an α step. A drop the grid does not hold is censored, never NaN: −inf when
    the curve is below 0.99 from the first α (the drop lies before the grid), +inf when it never drops
    (beyond the grid's end). NaN only for a missing run."""
    v = np.asarray(values, dtype=float)
    if not np.isfinite(v).all():
        return float("nan")
    out = theory.drop_threshold(alphas, v, level=FULL)
    return -math.inf if math.isnan(out) else out


def onset_per_seed(alphas, values, level: float = FULL) -> float:
    """One seed's onset threshold (α_id^S): the midpoint of the grid cell in which the curve first reaches
    ``level`` (between the last α below it and the first at it), known to half an α step. Censored, never
    NaN: +inf when it is never reached on the grid, −inf when it is reached from the first α on (the onset
    lies before the grid). NaN only for a missing run."""
    a, v = np.sort(np.asarray(alphas, dtype=float)), np.asarray(values, dtype=float)[np.argsort(np.asarray(alphas))]
    if not np.isfinite(v).all():
        return float("nan")
    hit = np.nonzero(v >= level)[0]
    if not hit.size:
        return math.inf
    return -math.inf if hit[0] == 0 else float((a[hit[0] - 1] + a[hit[0]]) / 2)


def per_seed(table: pd.DataFrame, fn) -> pd.Series:
    """``fn`` of each seed's rows, as a Series indexed by seed."""
    return pd.Series({seed: fn(g) for seed, g in table.groupby("seed", sort=True)}, dtype=float)


def per_seed_at(runs: pd.DataFrame, d: int, rho: float, fn) -> pd.Series:
    """``fn`` of each seed's standard runs at ``d`` and ``rho``, as a Series indexed by seed."""
    sub = standard_runs(runs, d)
    return per_seed(sub[np.isclose(sub["rho"], rho)], fn)


def rhos_on_grid(runs: pd.DataFrame, cfg: LogisticConfig, a_T: float, step: float) -> list[float]:
    """The ρ whose α_id^S lies inside the memorized range: 1/ρ + tolerance < α_label^T (seed means). A
    teacher that never drops on the grid (α_label^T = +inf) memorizes the whole grid: its last α bounds it."""
    if math.isnan(a_T):
        return []
    limit = min(a_T, grid_ends(runs, cfg.d)[1] + step / 2)
    return [r for r in sorted(cfg.rhos) if theory.alpha_id_student(r) + id_tolerance(r, cfg.d, step) < limit]


def grid_ends(runs: pd.DataFrame, d: int) -> tuple[float, float]:
    """The first and last α of the grid at ``d``: where a censored threshold's bound lies."""
    alphas = runs.loc[runs["d"] == d, "alpha"]
    return (float(alphas.min()), float(alphas.max())) if len(alphas) else (float("nan"), float("nan"))


def censored_samples(values, ends: tuple[float, float], *, resolution: float, detail: str, unit: str = "num",
                     **kwargs) -> Evidence:
    """Per-seed values read off the α grid, as evidence over seeds (Student-t, widened by half the grid
    step). A value beyond the grid (−inf / +inf: a threshold the grid does not hold) is a censored run: it
    counts at the grid's end (``ends``) in the mean and leaves the interval open on that side (a failure is
    evidence, never a missing value). NaN is a missing run: the quantity is then unmeasured."""
    v = np.asarray(values, dtype=float).ravel()
    down, up = np.isneginf(v), np.isposinf(v)
    return _open_ends(np.where(down, ends[0], np.where(up, ends[1], v)), down, up, resolution=resolution,
                      detail=detail, unit=unit, **kwargs)


def _open_ends(filled, down, up, **kwargs) -> Evidence:
    """:meth:`Evidence.samples` of ``filled`` (censored runs at their bound), with the interval open below
    where ``down`` runs are censored and above where ``up`` runs are (both ends allowed, unlike
    ``Evidence.samples(grid_end=…)``, whose single end this generalises to per-run bounds)."""
    ev = Evidence.samples(filled, **kwargs)
    if ev.missing or not (down.any() or up.any()):
        return ev
    return dataclasses.replace(ev, low=-math.inf if down.any() else ev.low, high=math.inf if up.any() else ev.high,
                               censored=int(down.sum() + up.sum()))


def paired_thresholds(a: pd.Series, b: pd.Series, ends_a: tuple[float, float], ends_b: tuple[float, float], *,
                      step: float, detail: str) -> Evidence:
    """The difference a − b of two per-seed grid thresholds, paired by seed; each is known to half a step,
    so the difference to one step (``resolution`` 2·step). A seed censored on one side bounds the
    difference (e.g. a = +inf: a − b ≥ a's grid end − b), which stays open on that side; a seed censored on
    both sides in the same direction leaves its difference unknown (a missing run)."""
    a, b = a.align(b, join="outer")
    x, y = a.to_numpy(dtype=float), b.to_numpy(dtype=float)
    xf = np.where(np.isneginf(x), ends_a[0], np.where(np.isposinf(x), ends_a[1], x))
    yf = np.where(np.isneginf(y), ends_b[0], np.where(np.isposinf(y), ends_b[1], y))
    up = (np.isposinf(x) & ~np.isposinf(y)) | (np.isneginf(y) & ~np.isneginf(x))
    down = (np.isneginf(x) & ~np.isneginf(y)) | (np.isposinf(y) & ~np.isposinf(x))
    same = (np.isposinf(x) & np.isposinf(y)) | (np.isneginf(x) & np.isneginf(y))
    if len(x) == 0:
        return Evidence.none("no seeds")
    if same.any():
        return Evidence.none(f"{int(same.sum())} of {len(x)} seeds beyond the same end of the grid on both sides")
    return _open_ends(xf - yf, down, up, resolution=2 * step, detail=detail)


def num_teachers(sub: pd.DataFrame) -> int:
    """Independent teachers under ``sub``: each (d, α, seed) cell draws its own dataset and teacher."""
    return int(sub.drop_duplicates(["d", "alpha", "seed"]).shape[0])


def prepare(tables: dict, cfg: LogisticConfig) -> dict:
    """The tables several figures read, derived once: ``{"means", "thresholds", "regions", "rho"}`` (the cells'
    seed means, the thresholds measured on them at ``cfg.d``, the phase-diagram regions and the ρ of Fig. 4A)."""
    means = cell_means(tables["runs"])
    return {"means": means, "thresholds": thresholds(means, cfg.d), "regions": regions(means, cfg.d),
            "rho": focus_rho(cfg)}
