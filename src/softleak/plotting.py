"""One look for every figure. Plotting functions take tidy tables, never models.

``METRICS`` maps each metric column (spec §0.3) to its axis label and colour, so the same quantity
looks the same in every chapter.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.colors import ListedColormap
from matplotlib.lines import Line2D

from .metrics import mean_ci, sem

#: metric column -> (label, colour)
METRICS = {
    "acc_star_T": (r"acc$_*^T$ (teacher on $\mathcal{D}_*^T$)", "#222222"),
    "acc_val_T": (r"acc$_{val}^T$", "#7f7f7f"),
    "acc_train_S": (r"acc$_{train}^S$", "#1f77b4"),
    "acc_test_S": (r"acc$_{test}^S$ (held-out memorized)", "#d62728"),
    "acc_val_S": (r"acc$_{val}^S$", "#2ca02c"),
    "acc_match_T_test": (r"match-T on $\mathcal{D}_{test}^S$ (agreement with teacher)", "#9467bd"),
    "acc_match_T_grid": (r"agreement with teacher on $[-1,1]^2$", "#8c564b"),
    "loss_train_S": (r"soft CE on $\mathcal{D}_{train}^S$", "#1f77b4"),
    "loss_test_S": (r"soft CE on $\mathcal{D}_{test}^S$", "#d62728"),
    "acc_match_T_train": (r"match-T on $\mathcal{D}_{train}^S$", "#9467bd"),
    "mse_train": (r"mse$_{train}$ (student vs teacher logits)", "#17becf"),
    "mse_test": (r"mse$_{test}$ (student vs teacher logits)", "#bcbd22"),
}
#: student kind -> colour, shared by every figure that compares them
STUDENTS = {"hard": ("independent student (hard labels)", "#7f7f7f"), "soft": ("soft-label student", "#1f77b4")}


def set_theme() -> None:
    """The book's seaborn theme (call once per notebook)."""
    sns.set_theme(context="notebook", style="whitegrid", font_scale=0.95)
    plt.rcParams.update({"figure.dpi": 110, "savefig.dpi": 110, "axes.titlesize": "medium"})


def class_colours(c: int) -> ListedColormap:
    """c distinguishable colours: a qualitative palette up to 10 classes, a spectrum beyond."""
    colours = sns.color_palette("tab10", c) if c <= 10 else sns.color_palette("Spectral", c)
    return ListedColormap(colours)


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
    fig, axes = plt.subplots(2, 2, figsize=(10, 10.6), constrained_layout=True)
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
    axes[3].legend(handles=[Line2D([], [], color="black", label="teacher"),
                            Line2D([], [], color=STUDENTS["soft"][1], lw=1.6, label="soft-label student"),
                            Line2D([], [], color=STUDENTS["hard"][1], ls="--", label="independent student")],
                   loc="upper center", bbox_to_anchor=(0.5, -0.06), ncol=3, fontsize="small", frameon=False)
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


#: phase-diagram region -> (colour, description), paper Fig. 4B / 7A
REGIONS = {
    "grey": ("#b0b0b0", "no or low leakage"),
    "blue": ("#6baed6", "weak leakage (acc$_{test}^S$ ≥ 0.55)"),
    "green": ("#74c476", "full recovery (acc$_{test}^S$ ≥ 0.99)"),
    "orange": ("#fd8d3c", "student recovers a teacher that failed to memorize"),
    "red": ("#e6550d", "student does not recover the teacher"),
}


def _edges(values) -> np.ndarray:
    """Cell edges for pcolormesh from sorted cell centres."""
    v = np.asarray(sorted(values), dtype=float)
    if v.size == 1:
        return np.array([v[0] - 0.5, v[0] + 0.5])
    mid = (v[1:] + v[:-1]) / 2
    return np.concatenate([[v[0] - (mid[0] - v[0])], mid, [v[-1] + (v[-1] - mid[-1])]])


def _inverse_rho(ax, rhos, label: str = r"$\alpha = 1/\rho$", c: int = 1, **kw) -> None:
    """The identifiability curve α = 1/(ρc) (c = 1: the binary single-logit case)."""
    r = np.linspace(min(rhos), max(rhos), 200)
    kw = {"color": "#08519c", "ls": "--", "lw": 1.6, **kw}
    ax.plot(1 / (r * c), r, label=label, **kw)


def heatmap(ax, means: pd.DataFrame, metric: str, *, log: bool = False, cmap: str = "viridis", vmin=None, vmax=None,
            y: str = "rho", logy: bool = False, xlabel: str = r"$\alpha = n/d$"):
    """One metric over the (α, y) grid; ``means`` has one row per (alpha, y); y is ρ or τ (log axis)."""
    grid = means.pivot_table(index=y, columns="alpha", values=metric)
    values = grid.to_numpy()
    y_edges = 10 ** _edges(np.log10(grid.index)) if logy else _edges(grid.index)
    if log:
        from matplotlib.colors import LogNorm

        positive = values[values > 0]
        norm = LogNorm(vmin=vmin or max(positive.min(), 1e-12), vmax=vmax or positive.max())
        mesh = ax.pcolormesh(_edges(grid.columns), y_edges, np.clip(values, norm.vmin, None), norm=norm, cmap=cmap)
    else:
        mesh = ax.pcolormesh(_edges(grid.columns), y_edges, values, cmap=cmap, vmin=vmin, vmax=vmax)
    pad = (grid.columns.max() - grid.columns.min()) / max(len(grid.columns) - 1, 1) / 2
    ax.set(xlabel=xlabel, ylabel={"rho": r"$\rho$", "tau": r"$\tau$"}.get(y, y),
           xlim=(grid.columns.min() - pad, grid.columns.max() + pad))
    if logy:
        ax.set_yscale("log")
    ax.figure.colorbar(mesh, ax=ax, shrink=0.85)
    return mesh


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
    fig, axes = plt.subplots(1, 3, figsize=(14, 3.9), constrained_layout=True, sharey=True)
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
    ax.pcolormesh(_edges(grid.columns), _edges(grid.index), grid.to_numpy(),
                  cmap=ListedColormap([REGIONS[r][0] for r in names]), vmin=-0.5, vmax=len(names) - 0.5)
    _inverse_rho(ax, grid.index, label=r"theory $\alpha_{id}^S = 1/\rho$")
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
        _inverse_rho(ax, means["rho"].unique(), color="white", lw=1.2)
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
    fig, axes = plt.subplots(1, len(taus), figsize=(5 * len(taus), 4.2), constrained_layout=True, squeeze=False)
    for ax, tau in zip(axes[0], taus):
        heatmap(ax, means[means["tau"] == tau], "acc_test_S", vmin=0.3, vmax=1.0, xlabel=r"$\alpha = n/(dc)$")
        _inverse_rho(ax, means["rho"].unique(), c=c, color="white", lw=1.2)
        ax.set(title=rf"acc$_{{test}}^S$ at $\tau$ = {tau:g}", ylim=(means["rho"].min() - 0.05, means["rho"].max() + 0.05))
        ax.grid(False)
    return fig


def scaling_panels(runs: pd.DataFrame, transitions: pd.DataFrame, paper: dict[str, tuple[str, float]]):
    """Paper Fig. 5B: four accuracies against α·ln c, α·ln c, α·c and α·√c, one curve per c."""
    sub = runs[runs["experiment"] == "scaling"]
    means = sub.groupby(["c", "alpha", "shuffled"], as_index=False)[["acc_star_T", "acc_train_S", "acc_test_S"]].mean()
    axis_fn = {"ln": (np.log, r"$\alpha \ln c$"), "sqrt": (np.sqrt, r"$\alpha \sqrt{c}$"), "lin": (lambda c: c, r"$\alpha c$")}
    panels = [("acc_star_T", False, "B.1 teacher on its data"), ("acc_train_S", False, "B.2 student on D_train^S"),
              ("acc_test_S", False, "B.3 student on D_test^S"), ("shuffle_acc_train_S", True, "B.4 shuffled student on D_train^S")]
    cs = sorted(means["c"].unique())
    colours = sns.color_palette("crest", len(cs))
    fig, axes = plt.subplots(1, 4, figsize=(17, 4), constrained_layout=True, sharey=True)
    for ax, (metric, shuffled, title) in zip(axes, panels):
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
MLP_REGIONS = {
    "green": ("#74c476", "student learns the teacher (train, test ≥ 0.99)"),
    "blue": ("#3182bd", "perfect soft-label memorization (train ≥ 0.99, test < 0.99)"),
    "lightblue": ("#c6dbef", "imperfect soft-label memorization (train < 0.99)"),
    "orange": ("#fd8d3c", "teacher fails; student finds it"),
    "red": ("#e6550d", "teacher fails; student does not find it"),
}
#: student variants of chapter 5 -> (label, colour)
VARIANT_STYLE = {
    "standard": ("normal student", "#1f77b4"),
    "shuffled": ("within-class shuffled soft labels", "#d62728"),
    "remove_samples": ("class samples removed", "#2ca02c"),
    "remove_entry": ("class soft-label entry removed", "#9467bd"),
}
ALPHA_MLP = r"$\alpha = n/(dc)$"


def _n_over_d(ax, c: int) -> None:
    """A secondary top axis n/d = α·c (the authors' plots used it, labelled α)."""
    ax.secondary_xaxis("top", functions=(lambda a: a * c, lambda x: x / c)).set_xlabel(r"$n/d$", fontsize="small")


def _errorbars(ax, df, x, metric, colour, label, **kw) -> None:
    s = df.sort_values(x)
    err = s[f"{metric}_sem"] if f"{metric}_sem" in s else None
    style = {"marker": "o", "ms": 3.5, "lw": 1.4, "capsize": 2, **kw}
    ax.errorbar(s[x], s[metric], yerr=err, color=colour, label=label, **style)


def rho_sweeps(means: pd.DataFrame, *, alphas: tuple[float, float], chance: float):
    """Paper Fig. 6: acc_star_T, acc_train_S, acc_test_S, acc_val_S against ρ at a small and a large α."""
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.2), constrained_layout=True, sharey=True)
    for ax, a, tag in zip(axes, alphas, "AB"):
        sub = means[np.isclose(means["alpha"], a)]
        for metric in ("acc_star_T", "acc_train_S", "acc_test_S", "acc_val_S"):
            _errorbars(ax, sub, "rho", metric, METRICS[metric][1], METRICS[metric][0])
        ax.axhline(chance, color="grey", ls=":", lw=1, label=f"chance 1/c = {chance:.2f}")
        ax.set(title=f"({tag}) α = {a:g}", xlabel=r"$\rho$", ylim=(-0.02, 1.05))
    axes[0].set_ylabel("accuracy (mean ± SEM over seeds)")
    axes[1].legend(fontsize="small", loc="center left", bbox_to_anchor=(1.01, 0.5), frameon=False)
    return fig


def mlp_phase_diagram(regions: pd.DataFrame, thresholds: pd.DataFrame, *, column: str = "region",
                      marks: list[tuple[float, float]] = (), c: int | None = None):
    """Paper Fig. 7A: regions over (α, ρ), measured α_label^S(ρ) and α_id^S(ρ), and the counting line."""
    from matplotlib.patches import Patch

    names = list(MLP_REGIONS)
    codes = regions.assign(code=regions[column].map(names.index))
    grid = codes.pivot_table(index="rho", columns="alpha", values="code")
    fig, ax = plt.subplots(figsize=(8.6, 5.0), constrained_layout=True)
    ax.pcolormesh(_edges(grid.columns), _edges(grid.index), grid.to_numpy(),
                  cmap=ListedColormap([MLP_REGIONS[r][0] for r in names]), vmin=-0.5, vmax=len(names) - 0.5)
    th = thresholds.sort_values("rho")
    ax.plot(th["alpha_count"], th["rho"], color="black", ls="--", lw=1.3, label="parameter counting (necessary)")
    for col, marker, label in (("alpha_label_S", "s", r"measured $\alpha_{label}^S(\rho)$"),
                               ("alpha_id_S", "^", r"measured $\alpha_{id}^S(\rho)$")):
        ok = th[np.isfinite(th[col])]
        ax.plot(ok[col], ok["rho"], marker, color="black", ms=6, mfc="white" if marker == "s" else "black", ls="none",
                label=label)
    a_T = float(th["alpha_label_T"].iloc[0]) if len(th) else np.nan
    if np.isfinite(a_T):
        ax.axvline(a_T, color="#006d2c", ls=":", lw=1.6, label=rf"measured $\alpha_{{label}}^T$ = {a_T:.2f}")
    for a, r in marks:
        ax.plot(a, r, "o", ms=9, mfc="none", mec="white", mew=2)
    handles = ax.get_legend_handles_labels()[0] + [Patch(color=MLP_REGIONS[r][0], label=f"{r}: {MLP_REGIONS[r][1]}")
                                                   for r in names]
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1), fontsize="small", frameon=False)
    pad_a = np.diff(sorted(grid.columns)).min() / 2 if len(grid.columns) > 1 else 0.1
    ax.set(xlabel=ALPHA_MLP, ylabel=r"$\rho$", xlim=(grid.columns.min() - pad_a, grid.columns.max() + pad_a),
           ylim=(grid.index.min() - 0.05, grid.index.max() + 0.05))
    if c:
        _n_over_d(ax, c)
    ax.grid(False)
    return fig


def mlp_maps(means: pd.DataFrame, *, c: int, marks: list[tuple[float, float]] = ()):
    """Paper Fig. 7B: acc_star_T, acc_train_S and acc_test_S over (α, ρ), colour 0–1."""
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.0), constrained_layout=True, sharey=True)
    for ax, metric, tag in zip(axes, ("acc_star_T", "acc_train_S", "acc_test_S"), ("B.1", "B.2", "B.3")):
        heatmap(ax, means, metric, vmin=0, vmax=1, xlabel=ALPHA_MLP)
        for a, r in marks:
            ax.plot(a, r, "o", ms=8, mfc="none", mec="white", mew=1.8)
        ax.set_title(f"({tag}) {METRICS[metric][0]}")
        _n_over_d(ax, c)
        ax.grid(False)
    return fig


def training_curves(curves: pd.DataFrame, jumps: pd.DataFrame, *, alphas, metric_pairs=("acc_train_S", "acc_test_S"),
                    shuffled: bool = True):
    """Paper Fig. 7C / 16: accuracies against epochs at fixed ρ, one panel per α.

    Thin lines are single runs, thick lines their mean; the shuffled student's *training* accuracy
    is drawn in red (paper Fig. 16); dotted horizontals mark acc_star_T and acc_val_S at the end;
    grey verticals the measured jump epochs.
    """
    cols = min(len(alphas), 3)
    rows = -(-len(alphas) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4.4 * cols, 3.5 * rows), constrained_layout=True, sharey=True,
                             squeeze=False)
    for ax in axes.flat[len(alphas):]:
        ax.remove()
    for ax, a in zip(axes.flat, alphas):
        sub = curves[np.isclose(curves["alpha"], a)]
        std = sub[sub["variant"] == "standard"]
        for metric in metric_pairs:
            colour = METRICS[metric][1]
            for _, run in std.groupby("seed"):
                ax.plot(run["step"], run[metric], color=colour, lw=0.6, alpha=0.45)
            mean = std.groupby("step")[metric].mean()
            ax.plot(mean.index, mean.to_numpy(), color=colour, lw=2.2, label=METRICS[metric][0])
        if shuffled and (sub["variant"] == "shuffled").any():
            sh = sub[sub["variant"] == "shuffled"]
            for i, (_, run) in enumerate(sh.groupby("seed")):
                ax.plot(run["step"], run["acc_train_S"], color=VARIANT_STYLE["shuffled"][1], lw=1.2, ls="--",
                        label=r"shuffled student: acc$_{train}^S$" if i == 0 else None)
        j = jumps[np.isclose(jumps["alpha"], a) & (jumps["variant"] == "standard")]
        for _, r in j.iterrows():
            if np.isfinite(r["epoch"]):
                ax.axvline(r["epoch"], color="grey", lw=0.8, ls="-.")
        if len(j):
            ax.axhline(j["acc_star_T"].mean(), color=METRICS["acc_star_T"][1], ls=":", lw=1.2, label=METRICS["acc_star_T"][0])
            ax.axhline(j["acc_val_S"].mean(), color=METRICS["acc_val_S"][1], ls=":", lw=1.2, label=METRICS["acc_val_S"][0])
        jumped = j["epoch"].dropna()
        extra = f"; jumps at {', '.join(f'{e:.0f}' for e in jumped)}" if len(jumped) else ""
        ax.set(title=f"α = {a:g}{extra}", xlabel="epoch", ylim=(-0.02, 1.05))
    for row in axes:
        row[0].set_ylabel("accuracy")
    handles, labels = axes[0, 0].get_legend_handles_labels()
    for ax in axes.flat[1:len(alphas)]:
        h, lab = ax.get_legend_handles_labels()
        handles += [x for x, y in zip(h, lab) if y not in labels]
        labels += [y for y in lab if y not in labels]
    fig.legend(handles, labels, loc="outside lower center", ncol=min(len(labels), 3), fontsize="small", frameon=False)
    return fig


def loss_curves(curves: pd.DataFrame, jumps: pd.DataFrame, *, alphas):
    """Paper Fig. 17: the soft-label loss on D_train^S and D_test^S against epochs, as the excess over
    its floor (KL to the teacher's soft labels, log scale); mean ± std band and single runs."""
    fig, axes = plt.subplots(1, len(alphas), figsize=(4.0 * len(alphas), 3.6), constrained_layout=True, squeeze=False)
    for ax, a in zip(axes[0], alphas):
        std = curves[np.isclose(curves["alpha"], a) & (curves["variant"] == "standard")]
        for metric, label in (("kl_train_S", r"KL on $\mathcal{D}_{train}^S$"), ("kl_test_S", r"KL on $\mathcal{D}_{test}^S$")):
            colour = METRICS[metric.replace("kl", "loss")][1]
            for _, run in std.groupby("seed"):
                ax.plot(run["step"], run[metric], color=colour, lw=0.5, alpha=0.4)
            g = std.groupby("step")[metric]
            m, s = g.mean(), g.std().fillna(0)
            ax.plot(m.index, m.to_numpy(), color=colour, lw=2, label=label)
            ax.fill_between(m.index, np.maximum(m - s, 1e-9), m + s, color=colour, alpha=0.15)
        for e in jumps.loc[np.isclose(jumps["alpha"], a) & (jumps["variant"] == "standard"), "epoch"].dropna():
            ax.axvline(e, color="grey", lw=0.8, ls="-.")
        ax.set(yscale="log", title=f"α = {a:g}", xlabel="epoch")
    axes[0, 0].set_ylabel("soft CE − its floor (KL)")
    axes[0, 0].legend(fontsize="small")
    return fig


def treatment_panels(tail: pd.DataFrame, *, chance: float, removed_class: int):
    """Paper Fig. 18: (A) tail cuts against α; (B) class removal, average and class accuracy."""
    fig, (a, b) = plt.subplots(1, 2, figsize=(13, 4.2), constrained_layout=True, sharey=True)
    std = tail[tail["variant"] == "standard"]
    _errorbars(a, std, "alpha", "acc_test_S", "black", "normal student", lw=2)
    ks = sorted(tail.loc[tail["variant"] == "tail_smallest", "k"].unique())
    cmap = plt.get_cmap("Reds")
    for i, k in enumerate(ks):
        _errorbars(a, tail[(tail["variant"] == "tail_smallest") & (tail["k"] == k)], "alpha", "acc_test_S",
                   cmap(0.4 + 0.6 * i / max(len(ks) - 1, 1)), f"k = {k} smallest entries zeroed")
    for k in sorted(tail.loc[tail["variant"] == "tail_random", "k"].unique()):
        _errorbars(a, tail[(tail["variant"] == "tail_random") & (tail["k"] == k)], "alpha", "acc_test_S", "#7f7f7f",
                   f"k = {k} random non-argmax entries zeroed", ls="--")
    a.set(title=r"(A) tail cut: acc$_{test}^S$", xlabel=ALPHA_MLP, ylabel="accuracy (mean ± SEM)", ylim=(-0.02, 1.05))
    a.legend(fontsize="small")
    for v in ("standard", "remove_samples", "remove_entry"):
        label, colour = VARIANT_STYLE[v]
        s = tail[tail["variant"] == v]
        _errorbars(b, s, "alpha", "acc_test_S", colour, f"{label}: all classes")
        _errorbars(b, s, "alpha", "acc_test_S_class0", colour, f"{label}: class {removed_class}", ls=":")
    b.axhline(chance, color="grey", ls=":", lw=1, label=f"chance {chance:.2f}")
    b.set(title=f"(B) class {removed_class} removed", xlabel=ALPHA_MLP)
    b.legend(fontsize="small", loc="center left", bbox_to_anchor=(1.01, 0.5), frameon=False)
    return fig


def grouped_curves(means: pd.DataFrame, *, x: str, group: str, metrics=("acc_star_T", "acc_train_S", "acc_test_S"),
                   xlabel: str, group_label: str, log_colour: bool = True, reference: pd.DataFrame | None = None,
                   reference_label: str = ""):
    """One panel per metric, one curve per value of ``group`` (Fig. 19–22), coloured on a (log) scale."""
    from matplotlib.colors import LogNorm, Normalize

    values = sorted(means[group].unique())
    norm = (LogNorm if log_colour else Normalize)(vmin=min(values), vmax=max(values) if len(values) > 1 else min(values) * 2)
    cmap = plt.get_cmap("viridis")
    fig, axes = plt.subplots(1, len(metrics), figsize=(max(4.6 * len(metrics), 7.5), 3.8), constrained_layout=True,
                             sharey=True, squeeze=False)
    for ax, metric in zip(axes[0], metrics):
        for v in values:
            _errorbars(ax, means[means[group] == v], x, metric, cmap(norm(v)), f"{group_label} = {v:g}")
        if reference is not None:
            _errorbars(ax, reference, x, metric.replace("acc_test_S", "acc_val_S"), "grey", reference_label, ls=":")
        ax.set(title=METRICS[metric][0], xlabel=xlabel, ylim=(-0.02, 1.05))
    axes[0, 0].set_ylabel("accuracy (mean ± SEM)")
    axes[0, -1].legend(fontsize="small", loc="center left", bbox_to_anchor=(1.01, 0.5), frameon=False)
    return fig


# ---------------------------------------------------------------------------------------------------
# Chapter 2: modular addition

METRICS["acc_match_T_val"] = (r"match-T on $\mathcal{D}_{val}$ (agreement with teacher)", "#9467bd")
TEACHER_MARKS = {1: "①", 2: "②", 3: "③"}


def teacher_curves(curve: pd.DataFrame, checkpoints: pd.DataFrame, *, title: str):
    """Fig. 3A / 11A: teacher accuracy on D*^T and D_val vs epoch, one line style per seed, with the
    epochs of checkpoints ① ② ③ marked and a star at each checkpoint's acc_val_T."""
    fig, ax = plt.subplots(figsize=(7.2, 3.6))
    styles = ["-", "--", ":", "-."]
    for i, (seed, c) in enumerate(curve.groupby("seed")):
        ls = styles[i % len(styles)]
        for metric in ("acc_star_T", "acc_val_T"):
            label, colour = METRICS[metric]
            ax.plot(c["epoch"], c[metric], ls, color=colour, lw=1.4, label=f"{label}, seed {seed}")
        for _, r in checkpoints[checkpoints["seed"] == seed].iterrows():
            ax.axvline(r["epoch"], color="#bbbbbb", lw=0.8, ls=ls, zorder=0)
            ax.plot(r["epoch"], r["acc_val_T"], "*", color="#ff7f0e", ms=11, zorder=5)
            ax.annotate(TEACHER_MARKS[int(r["teacher"])], (r["epoch"], 1.02), xycoords=("data", "axes fraction"),
                        ha="center", fontsize=11)
    ax.set(xlabel="epoch", ylabel="accuracy", ylim=(-0.02, 1.02))
    ax.set_title(title, pad=18)
    ax.legend(fontsize="x-small", loc="center right", ncol=1)
    fig.tight_layout()
    return fig


def teacher_tau_grid(means: pd.DataFrame, checkpoints: pd.DataFrame, *, taus, title: str):
    """Fig. 3B / 11B: rows teachers ① ② ③, columns τ from high to low; seed means ± s.e. of acc_train_S,
    acc_test_S (×) and acc_val_S (dashed, +) over ρ, the teacher's acc_val_T as a line and a star."""
    taus = sorted(taus, reverse=True)
    fig, axes = plt.subplots(3, len(taus), figsize=(3.3 * len(taus), 7.6), sharex=True, sharey=True, squeeze=False)
    style = {"acc_train_S": ("o", "-"), "acc_test_S": ("x", "-"), "acc_val_S": ("+", "--")}
    for i, k in enumerate((1, 2, 3)):
        val_T = float(checkpoints.loc[checkpoints["teacher"] == k, "acc_val_T"].iloc[0])
        for j, tau in enumerate(taus):
            ax = axes[i, j]
            m = means[(means["teacher"] == k) & (means["tau"] == tau)].sort_values("rho")
            for metric, (marker, ls) in style.items():
                label, colour = METRICS[metric]
                ax.errorbar(m["rho"], m[metric], yerr=m[f"{metric}_sem"], marker=marker, ls=ls, color=colour,
                            label=label, capsize=2, ms=6)
            ax.axhline(val_T, color=METRICS["acc_val_T"][1], lw=1, ls=":")
            ax.plot([0.02], [val_T], "*", color="#ff7f0e", ms=11, transform=ax.get_yaxis_transform(), clip_on=False)
            if i == 0:
                ax.set_title(rf"$\tau = {tau:g}$")
            if j == 0:
                ax.set_ylabel(f"teacher {TEACHER_MARKS[k]}\naccuracy")
            if i == 2:
                ax.set_xlabel(r"$\rho$")
            ax.set_ylim(-0.03, 1.03)
    handles = [Line2D([], [], color=METRICS[m][1], marker=s[0], ls=s[1], label=METRICS[m][0]) for m, s in style.items()]
    handles.append(Line2D([], [], color=METRICS["acc_val_T"][1], ls=":", marker="*", mfc="#ff7f0e", mec="#ff7f0e",
                          label=r"teacher acc$_{val}^T$"))
    fig.legend(handles=handles, loc="lower center", ncol=4, fontsize="small", bbox_to_anchor=(0.5, -0.01))
    fig.suptitle(title)
    fig.tight_layout(rect=(0, 0.05, 1, 1))
    return fig


def student_curves(curves: pd.DataFrame, panels, *, teacher: int = 3):
    """Fig. 10: student accuracies vs epoch for teacher ``teacher`` at each (ρ, τ) of ``panels``, one line
    style per seed."""
    fig, axes = plt.subplots(1, len(panels), figsize=(4.6 * len(panels), 3.5), squeeze=False)
    styles = ["-", "--", ":", "-."]
    for ax, (rho, tau) in zip(axes[0], panels):
        c = curves[(curves["teacher"] == teacher) & (curves["rho"] == rho) & (curves["tau"] == tau)]
        for i, (seed, s) in enumerate(c.groupby("seed")):
            for metric in ("acc_train_S", "acc_test_S", "acc_val_S"):
                label, colour = METRICS[metric]
                ax.plot(s["epoch"], s[metric], styles[i % 4], color=colour, lw=1.4, label=label if i == 0 else None)
        ax.set(xlabel="epoch", ylabel="accuracy", ylim=(-0.02, 1.02),
               title=rf"teacher {TEACHER_MARKS[teacher]}, $\rho = {rho:g}$, $\tau = {tau:g}$")
    axes[0, 0].legend(fontsize="small", loc="center right")
    fig.tight_layout()
    return fig


# ---------------------------------------------------------------------------------------------------
# Chapter 6: GPT-2


def gpt2_curves(curves: pd.DataFrame, teacher_curve: pd.DataFrame, *, chance: float):
    """Fig. 9: acc_train_S (dotted) and acc_test_S (solid) vs epoch per ρ, seed means thick and seeds thin;
    the teacher's accuracy on its sentences on the right."""
    fig, (ax, axT) = plt.subplots(1, 2, figsize=(10, 3.8), gridspec_kw={"width_ratios": [2.2, 1]})
    rhos = sorted(curves["rho"].unique())
    colours = sns.color_palette("viridis", len(rhos))
    for rho, colour in zip(rhos, colours):
        c = curves[curves["rho"] == rho]
        for _, s in c.groupby("seed"):
            ax.plot(s["epoch"], s["acc_test_S"], color=colour, lw=0.6, alpha=0.5)
        m = c.groupby("epoch")[["acc_train_S", "acc_test_S"]].mean()
        ax.plot(m.index, m["acc_train_S"], ":", color=colour, lw=1.8)
        ax.plot(m.index, m["acc_test_S"], "-", color=colour, lw=2, label=rf"$\rho = {rho:g}$")
    ax.axhline(chance, color="grey", ls="--", lw=1, label=f"chance 1/c = {chance:.3f}")
    ax.set(xlabel="student epoch", ylabel="accuracy", ylim=(-0.02, 1.02), title="students: train (dotted), held-out (solid)")
    ax.legend(fontsize="small", loc="center right")
    for _, s in teacher_curve.groupby("seed"):
        axT.plot(s["epoch"], s["acc_star_T"], color=METRICS["acc_star_T"][1], lw=1.2)
    axT.set(xlabel="teacher epoch", ylabel=METRICS["acc_star_T"][0], ylim=(-0.02, 1.02), title="teacher")
    fig.tight_layout()
    return fig
