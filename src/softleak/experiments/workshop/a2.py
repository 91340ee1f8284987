"""A.2: dataset composition: per class count, a grid of samples per class × input dimension, one teacher per cell
(the workshop's Fig. 6)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ...chapters import Figure, Part
from ...rules import Above, ClaimSpec, Evidence, Within, level
from .common import check_claims

SLOPE_TOLERANCE = 0.5  # "doubling the samples per class requires doubling d": a slope of 1 ± 0.5 on log axes


def a2_cells(a2: pd.DataFrame) -> pd.DataFrame:
    """One row per (c, samples per class, d): teacher fit, acc_test_S and the ratio to trivial."""
    cells = a2.copy()
    if "acc_test_S" not in cells:
        cells["acc_test_S"] = np.nan
    cells["ratio"] = cells["acc_test_S"] / cells["acc_trivial_T"].where(cells["acc_trivial_T"] > 0)
    return cells[["c", "spc", "d", "teacher_reached_100", "teacher_steps", "acc_star_T", "acc_trivial_T",
                  "acc_test_S", "ratio"]]


def a2_evidence(cells: pd.DataFrame) -> tuple[dict[str, Evidence], dict[str, object]]:
    """A.2: where teachers fit, whether large d lowers the ratio, and the slope of the best d."""
    ev, metrics = {"a2.first_fit_shift": first_fit_shift(cells)}, {}
    interior, rows, points = 0, 0, []
    for c, g in cells.groupby("c"):
        for spc, row in g[g["teacher_reached_100"] & g["ratio"].notna()].groupby("spc"):
            if len(row) < 2:
                continue
            best = row.loc[row["ratio"].idxmax(), "d"]
            points.append((c, spc, best))
            if len(row) >= 3:
                rows += 1
                interior += int(best < row["d"].max())
    drops = []  # per row with three fitted cells: log(ratio at its median fitted d / ratio at its largest d)
    for (c, spc), row in cells[cells["teacher_reached_100"] & (cells["ratio"] > 0)].groupby(["c", "spc"]):
        if len(row) >= 3:
            row = row.sort_values("d")
            mid = row.iloc[(len(row) - 1) // 2]
            drops.append(math.log(mid["ratio"] / row.iloc[-1]["ratio"]))
    ev["a2.mid_over_last"] = Evidence.samples(drops, of="rows", detail="log ratio at a row's median fitted d over its "
                                              "largest d; one teacher per cell") if drops else \
        Evidence.none("no row with three fitted cells")
    metrics["a2.rows_peaking_inside"] = f"{interior} of {rows}"
    pts = pd.DataFrame(points, columns=["c", "spc", "d"])
    if len(pts) >= 3 and pts["spc"].nunique() >= 2:
        x = np.log(pts["spc"].to_numpy(float))
        yv = np.log(pts["d"].to_numpy(float))
        dummies = pd.get_dummies(pts["c"]).to_numpy(float)  # one intercept per class count, one common slope
        A = np.column_stack([x, dummies])
        coef, *_ = np.linalg.lstsq(A, yv, rcond=None)
        resid = yv - A @ coef
        dof = len(yv) - A.shape[1]
        if dof > 0 and np.linalg.matrix_rank(A) == A.shape[1]:
            from scipy import stats as st

            cov = (resid @ resid / dof) * np.linalg.inv(A.T @ A)
            half = float(st.t.ppf(0.5 + level() / 2, dof)) * math.sqrt(cov[0, 0])  # 95 %, or Bonferroni over rounds
            ev["a2.slope"] = Evidence.fit(coef[0], coef[0] - half, coef[0] + half, n=len(pts), of="rows",
                                          detail="log best d against log samples per class, one intercept per c")
        else:  # a line through every point has no interval: it decides nothing
            ev["a2.slope"] = Evidence.fit(coef[0], -math.inf, math.inf, n=len(pts), of="rows",
                                          detail="no residual degrees of freedom: no interval")
        metrics["a2.slope"] = float(coef[0])
    else:
        ev["a2.slope"] = Evidence.none("fewer than three rows with a best d")
    metrics["a2.best_d"] = {f"c{c}.spc{s}": float(d) for c, s, d in points}
    return ev, metrics


def first_fit_shift(cells: pd.DataFrame) -> Evidence:
    """Per class count (its own teachers: the replicated unit), log₂ of the smallest d whose teacher fits at the
    most samples per class over that at the fewest. On a geometric d grid the shift is read off a grid of its
    step; a row of the most samples that never fits is censored beyond the grid's largest d (a failure to fit
    is evidence), a row of the fewest samples that never fits leaves that class count unmeasured."""
    ds = np.log2(np.sort(cells["d"].unique()).astype(float))
    step = float(np.diff(ds).max()) if len(ds) > 1 else 0.0
    shifts, bounds = [], []
    for _, g in cells.groupby("c"):
        first_fit = g[g["teacher_reached_100"]].groupby("spc")["d"].min().reindex(sorted(g["spc"].unique()))
        lo, hi = first_fit.iloc[0], first_fit.iloc[-1]
        if math.isnan(lo):
            shifts.append(math.nan)
        elif math.isnan(hi):
            shifts.append(math.inf)
            bounds.append(ds[-1] - math.log2(lo))
        else:
            shifts.append(math.log2(hi / lo))
    return Evidence.samples(shifts, of="class counts", resolution=step, grid_end=min(bounds) if bounds else None,
                            detail="log₂ of the smallest fitting d at the most over the fewest samples per class; one "
                                   "teacher per cell, one seed")


A2_SPECS = [
    ClaimSpec("a2.more_samples_need_larger_d", "More samples per class are harder to memorize: the teacher needs a larger d",
              "'more samples per class are harder to memorize, and the input dimension needs to increase' (Fig. 6)",
              Above("a2.first_fit_shift", 1.0, "book", "the smallest fitting d at least doubles from the fewest to the "
                    "most samples per class", label="log₂ shift of the smallest fitting d")),
    ClaimSpec("a2.large_d_lowers_ratio", "Overly large input dimensions lower the test accuracy relative to trivial",
              "'overly large input dimensions lead to lower test accuracy' (Fig. 6)",
              Above("a2.mid_over_last", 0.0, "paper", "the ratio lower at a row's largest d than at its median d",
                    label="log(ratio at the median d / ratio at the largest d)")),
    ClaimSpec("a2.linear_best_d", "The best d grows linearly with the samples per class",
              "'doubling the samples per class requires doubling the input dimension': slope 1 on log axes",
              Within.around("a2.slope", 1.0, SLOPE_TOLERANCE, "paper", "slope 1 ± 0.5", label="slope of log best d")),
]


def derive(tables: dict, cfg) -> Part:
    """A.2's claims, its best d per row, and its cells (table ``a2``)."""
    cells = a2_cells(tables["a2"])
    ev, metrics = a2_evidence(cells)
    claims = check_claims(A2_SPECS, ev, cfg)
    metrics["a2.teachers_failed"] = int((~cells["teacher_reached_100"]).sum())
    metrics["a2.cells"] = len(cells)
    return Part(claims, ev, metrics, {"a2": cells})


FIGURE = Figure("a2", "A.2: dataset composition", derive=derive)
