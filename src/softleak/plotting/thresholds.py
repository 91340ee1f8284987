"""Chapters 3 and 4: accuracies against α, metric maps, phase diagrams, threshold curves, scaling."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.colors import ListedColormap

from .core import METRICS, edges, inverse_rho, heatmap, panels, region_legend

#: phase-diagram region -> (colour, description), paper Fig. 4B
REGIONS = region_legend({
    "grey": "no or low leakage",
    "blue": "weak leakage (acc$_{test}^S$ ≥ 0.55)",
    "green": "full recovery (acc$_{test}^S$ ≥ 0.99)",
    "orange": "student recovers a teacher that failed to memorize",
    "red": "student does not recover the teacher",
})


def accuracies_vs_alpha(means: pd.DataFrame, *, rho: float, d_main: int, d_compare: int | None,
                        lines: dict[str, float]):
    """Paper Fig. 4A.1–A.3: acc_star_T, acc_train_S, acc_test_S against α at one ρ.

    Args:
        means: cell means with ``<metric>_sem`` columns (standard students).
        rho: the ρ to show.
        d_main, d_compare: the dimension drawn in colour and the one drawn in grey.
        lines: metric -> α of the measured threshold drawn as a vertical line.
    """
    metrics = ("acc_star_T", "acc_train_S", "acc_test_S")
    names = {"acc_star_T": r"$\alpha_{label}^T$", "acc_train_S": r"$\alpha_{label}^S$", "acc_test_S": r"$\alpha_{id}^S$"}
    fig, axes = panels(3, panel=(4.0, 3.4))
    sub = means[np.isclose(means["rho"], rho) & ~means["shuffled"]]
    for ax, metric, tag in zip(axes, metrics, ("A.1", "A.2", "A.3")):
        for d, colour in ((d_compare, "#9e9e9e"), (d_main, METRICS[metric][1])):
            if d is None:
                continue
            s = sub[sub["d"] == d].sort_values("alpha")
            ax.errorbar(s["alpha"], s[metric], yerr=s[f"{metric}_sem"], color=colour, marker="o", ms=3.5,
                        lw=1.3, capsize=2, label=f"d = {d}")
        if np.isfinite(lines.get(metric, np.nan)):
            ax.axvline(lines[metric], color="black", ls="--", lw=1.2, label=f"{names[metric]} = {lines[metric]:.2f}")
        if metric == "acc_star_T":
            ax.axvline(2.0, color="#31a354", ls=":", lw=1.5, label="Cover: 2")
        if metric == "acc_test_S":
            ax.axvline(1 / rho, color="#08519c", ls=":", lw=1.5, label=rf"$1/\rho$ = {1 / rho:.2f}")
        ax.axhline(0.5, color="#d62728", ls=":", lw=0.8)
        ax.set(title=f"({tag}) {METRICS[metric][0]}", xlabel=r"$\alpha = n/d$", ylim=(0.4, 1.05))
        ax.legend(fontsize="small", loc="lower left")
    axes[0].set_ylabel("accuracy")
    fig.suptitle(rf"Binary logistic regression at $\rho$ = {rho:g}: mean ± SEM over seeds")
    return fig


def phase_diagram(regions: pd.DataFrame, *, alpha_label_T: float, alpha_id: dict[float, float]):
    """Paper Fig. 4B: the region of every (α, ρ) cell, with α = 1/ρ, α_label^T and measured α_id^S(ρ)."""
    from matplotlib.patches import Patch

    names = list(REGIONS)
    codes = regions.assign(code=regions["region"].map(names.index))
    grid = codes.pivot_table(index="rho", columns="alpha", values="code")
    fig, ax = plt.subplots(figsize=(8.2, 5.4), constrained_layout=True)
    ax.pcolormesh(edges(grid.columns), edges(grid.index), grid.to_numpy(),
                  cmap=ListedColormap([REGIONS[r][0] for r in names]), vmin=-0.5, vmax=len(names) - 0.5)
    inverse_rho(ax, grid.index, label=r"theory $\alpha_{id}^S = 1/\rho$")
    if np.isfinite(alpha_label_T):
        ax.axvline(alpha_label_T, color="#006d2c", ls="--", lw=1.6, label=rf"measured $\alpha_{{label}}^T$ = {alpha_label_T:.2f}")
    pts = [(a, r) for r, a in alpha_id.items() if np.isfinite(a)]
    if pts:
        ax.plot(*zip(*pts), "k^", ms=6, label=r"measured $\alpha_{id}^S(\rho)$")
    handles = ax.get_legend_handles_labels()[0] + [Patch(color=REGIONS[r][0], label=f"{r}: {REGIONS[r][1]}") for r in names]
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1), fontsize="small", frameon=False)
    ax.set(xlabel=r"$\alpha = n/d$", ylabel=r"$\rho$", xlim=(grid.columns.min() - 0.05, grid.columns.max() + 0.05),
           ylim=(grid.index.min() - 0.04, grid.index.max() + 0.04), title="Phase diagram (standard pseudo-inverse student)")
    ax.grid(False)
    return fig


def metric_maps(means: pd.DataFrame, panels: list[tuple[str, str]], *, title: str, teacher_line: bool = True):
    """Paper Fig. 12 style: acc_star_T against α, then one (α, ρ) map per metric.

    Args:
        means: cell means at one d (one row per (alpha, rho)).
        panels: (metric, "lin" | "log") per map.
        teacher_line: draw acc_star_T against α as the first panel.
    """
    num = len(panels) + int(teacher_line)
    cols = 2  # two maps per row stay legible at the book's column width
    rows = -(-num // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(11, 4.2 * rows), constrained_layout=True, squeeze=False)
    axes = axes.flatten()
    k = 0
    if teacher_line:
        t = means.groupby("alpha")["acc_star_T"].mean()
        axes[0].plot(t.index, t.to_numpy(), color=METRICS["acc_star_T"][1], marker="o", ms=3)
        axes[0].set(title=METRICS["acc_star_T"][0], xlabel=r"$\alpha = n/d$", ylim=(0.4, 1.05))
        k = 1
    for ax, (metric, scale) in zip(axes[k:], panels):
        label = METRICS.get(metric, (metric.replace("_", " "), None))[0]
        if scale == "log":
            heatmap(ax, means, metric, log=True, cmap="magma")
        else:
            heatmap(ax, means, metric, vmin=0.4 if metric.startswith("acc") else None, vmax=1.0 if metric.startswith("acc") else None)
        inverse_rho(ax, means["rho"].unique(), color="white", lw=1.2)
        ax.set_title(label)
        ax.grid(False)
    for ax in axes[num:]:
        ax.remove()
    fig.suptitle(title)
    return fig


THRESHOLD_CURVES = {  # Fig. 5A: column -> (label, colour)
    "alpha_label_T": (r"$\alpha_{label}^T$ (teacher fits its labels)", "#31a354"),
    "alpha_id_S": (r"$\alpha_{id}^S$ (held-out recovery starts)", "#3182bd"),
    "alpha_label_S": (r"$\alpha_{label}^S$ (upper end of perfect recovery)", "#e377c2"),
    "alpha_label_S_shuffle": (r"$\alpha_{label}^{S\text{-}shuffle}$ (shuffled student fits)", "#d62728"),
}


def tau_heatmaps(means: pd.DataFrame, *, title: str):
    """Paper Fig. 14 / 15A: acc_star_T, acc_train_S, acc_test_S over (α, τ); standard (top) and shuffled (bottom)."""
    fig, axes = plt.subplots(2, 3, figsize=(14, 7.6), constrained_layout=True)
    for row, shuffled in enumerate((False, True)):
        sub = means[means["shuffled"] == shuffled]
        for col, metric in enumerate(("acc_star_T", "acc_train_S", "acc_test_S")):
            ax = axes[row, col]
            heatmap(ax, sub, metric, y="tau", logy=True, vmin=0.0, vmax=1.0, xlabel=r"$\alpha = n/(dc)$")
            ax.set_title(("shuffled: " if shuffled else "") + METRICS[metric][0].split(" (")[0])
            ax.grid(False)
    fig.suptitle(title)
    return fig


def threshold_curves(th: pd.DataFrame, *, alpha_id_theory: float, title: str):
    """Paper Fig. 5A / 15B: the four thresholds against τ (log y-axis), with α_id = 1/(ρc)."""
    fig, ax = plt.subplots(figsize=(7.5, 4.8), constrained_layout=True)
    for col, (label, colour) in THRESHOLD_CURVES.items():
        ax.plot(th[col], th["tau"], marker="o", ms=4, color=colour, label=label)
    ax.axvline(alpha_id_theory, color="#3182bd", ls=":", lw=1.4, label=rf"theory $1/(\rho c)$ = {alpha_id_theory:.3f}")
    ax.set(yscale="log", ylim=(th["tau"].min() / 1.5, th["tau"].max() * 1.5),  # explicit: a threshold may be NaN at every τ
           xlabel=r"$\alpha = n/(dc)$", ylabel=r"$\tau$", title=title)
    ax.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1), frameon=False)
    return fig


def rho_alpha_maps(means: pd.DataFrame, *, c: int):
    """Paper Fig. 13: acc_test_S over (α, ρ), one panel per τ, with α = 1/(ρc)."""
    taus = sorted(means["tau"].unique())
    fig, axes = panels(len(taus), panel=(4.0, 3.4))
    for ax, tau in zip(axes, taus):
        heatmap(ax, means[means["tau"] == tau], "acc_test_S", vmin=0.3, vmax=1.0, xlabel=r"$\alpha = n/(dc)$")
        inverse_rho(ax, means["rho"].unique(), c=c, color="white", lw=1.2)
        ax.set(title=rf"acc$_{{test}}^S$ at $\tau$ = {tau:g}", ylim=(means["rho"].min() - 0.05, means["rho"].max() + 0.05))
        ax.grid(False)
    return fig


def scaling_panels(runs: pd.DataFrame, transitions: pd.DataFrame, paper: dict[str, tuple[str, float]]):
    """Paper Fig. 5B: four accuracies against α·ln c, α·ln c, α·c and α·√c, one curve per c."""
    sub = runs[runs["experiment"] == "scaling"]
    means = sub.groupby(["c", "alpha", "shuffled"], as_index=False)[["acc_star_T", "acc_train_S", "acc_test_S"]].mean()
    axis_fn = {"ln": (np.log, r"$\alpha \ln c$"), "sqrt": (np.sqrt, r"$\alpha \sqrt{c}$"), "lin": (lambda c: c, r"$\alpha c$")}
    specs = [("acc_star_T", False, "B.1 teacher on its data"), ("acc_train_S", False, "B.2 student on D_train^S"),
              ("acc_test_S", False, "B.3 student on D_test^S"), ("shuffle_acc_train_S", True, "B.4 shuffled student on D_train^S")]
    cs = sorted(means["c"].unique())
    colours = sns.color_palette("crest", len(cs))
    fig, axes = panels(4, panel=(4.0, 3.4), sharey=True)
    for ax, (metric, shuffled, title) in zip(axes, specs):
        axis, ref = paper[metric]
        f, xlabel = axis_fn[axis]
        column = metric.replace("shuffle_", "")
        for colour, c in zip(colours, cs):
            g = means[(means["c"] == c) & (means["shuffled"] == shuffled)].sort_values("alpha")
            ax.plot(g["alpha"] * f(c), g[column], color=colour, marker="o", ms=2.5, lw=1.2, label=f"c = {c}")
        t = transitions[transitions["metric"] == metric][f"x_{axis}"].replace([np.inf, -np.inf], np.nan).dropna()
        if len(t):
            ax.axvline(t.mean(), color="black", ls="--", lw=1.2, label=f"measured {t.mean():.2f}")
        ax.axvline(ref, color="#d62728", ls=":", lw=1.4, label=f"paper {ref:g}")
        ax.set(xlabel=xlabel, title=title, ylim=(0, 1.05), xlim=(0, 2.2 if axis != "lin" else 10))
        ax.legend(fontsize="x-small", loc="lower left")
    axes[0].set_ylabel("accuracy")
    return fig


# --- chapter 5: ReLU MLPs ------------------------------------------------------------------------

#: Fig. 7A regions of the MLP phase diagram -> (colour, description)
