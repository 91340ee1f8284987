"""Chapter 1's figures: the four panels of Fig. 1 / Fig. 8 and the across-datasets comparison."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.lines import Line2D

from ..metrics import mean_ci, sem
from .core import METRICS, STUDENTS, class_colours

def _regions(ax, grid: pd.DataFrame, c: int, alpha: float = 0.35) -> None:
    size = int(round(np.sqrt(len(grid))))
    img = grid["pred"].to_numpy().reshape(size, size)
    ax.imshow(img, origin="lower", extent=(-1, 1, -1, 1), cmap=class_colours(c), vmin=-0.5, vmax=c - 0.5,
              alpha=alpha, interpolation="nearest")


def _boundaries(ax, grid: pd.DataFrame, colour: str, lw: float = 1.2, **kw) -> None:
    """Outline every class region: the contour at 1/2 of each class indicator."""
    size = int(round(np.sqrt(len(grid))))
    axis = np.linspace(-1, 1, size)
    img = grid["pred"].to_numpy().reshape(size, size)
    for k in np.unique(img):
        ax.contour(axis, axis, (img == k).astype(float), levels=[0.5], colors=colour, linewidths=lw, **kw)


def _points(ax, pts: pd.DataFrame, c: int, mark_test: bool) -> None:
    cmap = class_colours(c)
    train = pts[pts["part"] == "train"] if mark_test else pts
    ax.scatter(train["x1"], train["x2"], c=train["y"], cmap=cmap, vmin=-0.5, vmax=c - 0.5, s=28,
               edgecolors="black", linewidths=0.6, zorder=3)
    if mark_test:
        test = pts[pts["part"] == "test"]
        ok, bad = test[test["correct"]], test[~test["correct"]]
        ax.scatter(ok["x1"], ok["x2"], facecolors="none", edgecolors="#1a9641", s=60, linewidths=1.8, zorder=4)
        ax.scatter(bad["x1"], bad["x2"], marker="x", c="#d7191c", s=55, linewidths=2.0, zorder=4)


def _square(ax) -> None:
    ax.set(xlim=(-1, 1), ylim=(-1, 1), xticks=[-1, 0, 1], yticks=[-1, 0, 1], aspect="equal")
    ax.grid(False)


def toy_figure(grid: pd.DataFrame, points: pd.DataFrame, runs: pd.DataFrame, *, init: int = 0):
    """Four panels of paper Fig. 1 / Fig. 8 for one showcase dataset.

    (A) teacher regions on D*^T; (B) independent student, (C) soft-label student, each with its
    D_train^S points and D_test^S marked ○ correct / × wrong; (D) teacher boundaries (black) over
    the soft-label student's (blue) and the independent student's (grey, dashed).

    Args:
        grid, points: the showcase tables of one class count (columns model, init, x1, x2, pred, ...).
        runs: the showcase rows of the runs table of that class count, for the panel titles.
        init: which student initialisation to draw.
    """
    c = int(points["c"].iloc[0])
    fig, axes = plt.subplots(2, 2, figsize=(8, 8.8), constrained_layout=True)
    axes = axes.flatten()

    def pick(df, model, k):
        return df[(df["model"] == model) & (df["init"] == k)]

    _regions(axes[0], pick(grid, "teacher", -1), c)
    teacher_pts = pick(points, "teacher", -1)
    _points(axes[0], teacher_pts, c, mark_test=False)
    acc_t = teacher_pts["correct"].mean()
    axes[0].set_title(f"(A) teacher on $\\mathcal{{D}}_*^T$: {acc_t:.0%} correct")
    for ax, kind, letter in ((axes[1], "hard", "B"), (axes[2], "soft", "C")):
        _regions(ax, pick(grid, kind, init), c)
        _points(ax, pick(points, kind, init), c, mark_test=True)
        accs = runs[runs["student"] == kind]["acc_test_S"]
        this = runs[(runs["student"] == kind) & (runs["init"] == init)]["acc_test_S"].iloc[0]
        ax.set_title(f"({letter}) {STUDENTS[kind][0].split(' (')[0]}\n"
                     f"test {this:.0%}; mean {accs.mean():.1%} ± {sem(accs):.1%} (n={len(accs)})")
    _boundaries(axes[3], pick(grid, "hard", init), STUDENTS["hard"][1], lw=1.0, linestyles="dashed")
    _boundaries(axes[3], pick(grid, "soft", init), STUDENTS["soft"][1], lw=1.6)
    _boundaries(axes[3], pick(grid, "teacher", -1), "black", lw=1.0)
    fig.legend(handles=[Line2D([], [], color="black", label="teacher"),
                        Line2D([], [], color=STUDENTS["soft"][1], lw=1.6, label="soft-label student"),
                        Line2D([], [], color=STUDENTS["hard"][1], ls="--", label="independent student")],
               loc="outside lower center", ncol=3, fontsize="small", frameon=False, title="(D)")
    axes[3].set_title("(D) decision boundaries")
    for ax in axes:
        _square(ax)
    fig.suptitle(f"Random labels in 2D, c = {c} (chance {1 / c:.0%})")
    return fig


def across_datasets(runs: pd.DataFrame, metric: str = "acc_test_S"):
    """Per-dataset means of ``metric`` for both students, per class count, with chance and 95 % CIs.

    Lines join the two students of the same dataset (they share data, teacher, split and inits).
    """
    per = runs.groupby(["c", "data_seed", "student"], as_index=False)[metric].mean()
    cs = sorted(per["c"].unique())
    fig, axes = plt.subplots(1, len(cs), figsize=(4.6 * len(cs), 3.8), constrained_layout=True, squeeze=False)
    for ax, c in zip(axes[0], cs):
        sub = per[per["c"] == c].pivot(index="data_seed", columns="student", values=metric)
        for _, row in sub.iterrows():
            ax.plot([0, 1], [row["hard"], row["soft"]], color="#cccccc", lw=0.8, zorder=1)
        for x, kind in enumerate(("hard", "soft")):
            vals = sub[kind].to_numpy()
            jitter = np.linspace(-0.06, 0.06, len(vals))
            ax.scatter(x + jitter, vals, color=STUDENTS[kind][1], s=18, zorder=2)
            m, lo, hi = mean_ci(vals)
            ax.errorbar(x + 0.18, m, yerr=[[m - lo], [hi - m]], fmt="D", color="black", capsize=4, zorder=3)
        ax.axhline(1 / c, color="#d62728", ls=":", label=f"chance 1/c = {1 / c:.2f}")
        ax.set(xticks=[0, 1], xticklabels=["independent\n(hard labels)", "soft labels"], xlim=(-0.4, 1.5),
               ylim=(0, 1), ylabel=METRICS[metric][0], title=f"c = {c}: {len(sub)} datasets")
        ax.legend(loc="upper left", fontsize="small")
    return fig
