"""Chapter 5's figures: ρ sweeps, the MLP phase diagram, training and loss curves, treatments."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.colors import ListedColormap

from .core import METRICS, edges, errorbars, heatmap, panels, region_legend

#: Fig. 7A regions of the MLP phase diagram -> (colour, description)
MLP_REGIONS = region_legend({
    "green": "student learns the teacher (train, test ≥ 0.99)",
    "blue": "perfect soft-label memorization (train ≥ 0.99, test < 0.99)",
    "lightblue": "imperfect soft-label memorization (train < 0.99)",
    "orange": "teacher fails; student finds it",
    "red": "teacher fails; student does not find it",
})
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



def rho_sweeps(means: pd.DataFrame, *, alphas: tuple[float, float], chance: float):
    """Paper Fig. 6: acc_star_T, acc_train_S, acc_test_S, acc_val_S against ρ at a small and a large α."""
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.2), constrained_layout=True, sharey=True)
    for ax, a, tag in zip(axes, alphas, "AB"):
        sub = means[np.isclose(means["alpha"], a)]
        for metric in ("acc_star_T", "acc_train_S", "acc_test_S", "acc_val_S"):
            errorbars(ax, sub, "rho", metric, METRICS[metric][1], METRICS[metric][0])
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
    ax.pcolormesh(edges(grid.columns), edges(grid.index), grid.to_numpy(),
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
    fig, axes = panels(3, panel=(4.0, 3.3))
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
    fig, axes = panels(len(alphas))
    for ax, a in zip(axes, alphas):
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
    axes[0].set_ylabel("soft CE − its floor (KL)")
    axes[0].legend(fontsize="small")
    return fig


def treatment_panels(tail: pd.DataFrame, *, chance: float, removed_class: int):
    """Paper Fig. 18: (A) tail cuts against α; (B) class removal, average and class accuracy."""
    fig, (a, b) = plt.subplots(1, 2, figsize=(13, 4.2), constrained_layout=True, sharey=True)
    std = tail[tail["variant"] == "standard"]
    errorbars(a, std, "alpha", "acc_test_S", "black", "normal student", lw=2)
    ks = sorted(tail.loc[tail["variant"] == "tail_smallest", "k"].unique())
    cmap = plt.get_cmap("Reds")
    for i, k in enumerate(ks):
        errorbars(a, tail[(tail["variant"] == "tail_smallest") & (tail["k"] == k)], "alpha", "acc_test_S",
                   cmap(0.4 + 0.6 * i / max(len(ks) - 1, 1)), f"k = {k} smallest entries zeroed")
    for k in sorted(tail.loc[tail["variant"] == "tail_random", "k"].unique()):
        errorbars(a, tail[(tail["variant"] == "tail_random") & (tail["k"] == k)], "alpha", "acc_test_S", "#7f7f7f",
                   f"k = {k} random non-argmax entries zeroed", ls="--")
    a.set(title=r"(A) tail cut: acc$_{test}^S$", xlabel=ALPHA_MLP, ylabel="accuracy (mean ± SEM)", ylim=(-0.02, 1.05))
    a.legend(fontsize="small")
    for v in ("standard", "remove_samples", "remove_entry"):
        label, colour = VARIANT_STYLE[v]
        s = tail[tail["variant"] == v]
        errorbars(b, s, "alpha", "acc_test_S", colour, f"{label}: all classes")
        errorbars(b, s, "alpha", "acc_test_S_class0", colour, f"{label}: class {removed_class}", ls=":")
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
    fig, axes = panels(len(metrics), sharey=True)
    for ax, metric in zip(axes, metrics):
        for v in values:
            errorbars(ax, means[means[group] == v], x, metric, cmap(norm(v)), f"{group_label} = {v:g}")
        if reference is not None:
            errorbars(ax, reference, x, metric.replace("acc_test_S", "acc_val_S"), "grey", reference_label, ls=":")
        ax.set(title=METRICS[metric][0], xlabel=xlabel, ylim=(-0.02, 1.05))
    axes[0].set_ylabel("accuracy (mean ± SEM)")
    axes[-1].legend(fontsize="small", loc="center left", bbox_to_anchor=(1.01, 0.5), frameon=False)
    return fig


# ---------------------------------------------------------------------------------------------------
# Chapter 2: modular addition

METRICS["acc_match_T_val"] = (r"match-T on $\mathcal{D}_{val}$ (agreement with teacher)", "#9467bd")
