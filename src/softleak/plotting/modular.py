"""Chapter 2's figures: teacher curves with checkpoints, the (ρ, τ) grid per teacher, student curves."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.lines import Line2D

from .core import METRICS

TEACHER_MARKS = {1: "①", 2: "②", 3: "③"}


def teacher_curves(curve: pd.DataFrame, checkpoints: pd.DataFrame, *, title: str):
    """Fig. 3A / 11A: teacher accuracy on D*^T, on D_val and on D_val's fresh pairs vs epoch, one line style
    per seed, with the epochs of checkpoints ① ② ③ marked and a star at each checkpoint's acc_val_T."""
    fig, ax = plt.subplots(figsize=(8.4, 4.0), layout="constrained")
    styles = ["-", "--", ":", "-."]
    for i, (seed, c) in enumerate(curve.groupby("seed")):
        ls = styles[i % len(styles)]
        # separate runs per teacher (the paper preset): one line per run
        for _, cr in (c.groupby("run") if "run" in c else [(0, c)]):
            for metric in ("acc_star_T", "acc_val_T", "acc_fresh_T"):
                if metric not in cr:
                    continue
                colour = METRICS[metric][1]
                ax.plot(cr["epoch"], cr[metric], ls, color=colour, lw=1.4)
        for _, r in checkpoints[checkpoints["seed"] == seed].iterrows():
            ax.axvline(r["epoch"], color="#bbbbbb", lw=0.8, ls=ls, zorder=0)
            ax.plot(r["epoch"], r["acc_val_T"], "*", color="#ff7f0e", ms=11, zorder=5)
            ax.annotate(TEACHER_MARKS[int(r["teacher"])], (r["epoch"], 1.02), xycoords=("data", "axes fraction"),
                        ha="center", fontsize=11)
    ax.set(xlabel="epoch", ylabel="accuracy", ylim=(-0.02, 1.02))
    ax.set_title(title, pad=18)
    # below the plot, colours for the metrics and line styles for the seeds: inside it would hide the curves
    handles = [Line2D([], [], color=METRICS[m][1], label=METRICS[m][0])
               for m in ("acc_star_T", "acc_val_T", "acc_fresh_T") if m in curve]
    handles += [Line2D([], [], color="#555555", ls=styles[i % len(styles)], label=f"seed {seed}")
                for i, seed in enumerate(sorted(curve["seed"].unique()))]
    handles.append(Line2D([], [], ls="none", marker="*", ms=10, color="#ff7f0e", label="acc$_{val}^T$ at ① ② ③"))
    fig.legend(handles=handles, fontsize="small", loc="outside lower center", ncol=3, frameon=False)
    return fig


def teacher_tau_grid(means: pd.DataFrame, checkpoints: pd.DataFrame, *, taus, title: str):
    """Fig. 3B / 11B: rows teachers ① ② ③, columns τ from high to low; seed means ± s.e. of acc_train_S,
    acc_test_S (×) and acc_val_S (dashed, +) over ρ, the teacher's acc_val_T as a line and a star."""
    taus = sorted((t for t in taus if (means["tau"] == t).any()), reverse=True)  # a τ no teacher ran at: no column
    fig, axes = plt.subplots(3, len(taus), figsize=(3.3 * len(taus), 7.6), sharex=True, sharey=True, squeeze=False,
                             layout="constrained")
    style = {"acc_train_S": ("o", "-"), "acc_test_S": ("x", "-"), "acc_val_S": ("+", "--")}
    for i, k in enumerate((1, 2, 3)):
        val_T = float(checkpoints.loc[checkpoints["teacher"] == k, "acc_val_T"].iloc[0])
        for j, tau in enumerate(taus):
            ax = axes[i, j]
            m = means[(means["teacher"] == k) & (means["tau"] == tau)].sort_values("rho")
            if m.empty:
                ax.text(0.5, 0.5, "not run\nat this preset", transform=ax.transAxes, ha="center", va="center",
                        color="#777777", fontsize="small")
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
    fig.legend(handles=handles, loc="outside lower center", ncol=4, fontsize="small")
    fig.suptitle(title)
    return fig


def premise_ladder(table: pd.DataFrame, *, paper_epochs=(2500, 5000, 10_000)):
    """The premise over the modulus P: teachers ① ② ③ (taken by the chapter's rule) — their acc_val_T and their
    accuracy on fresh pairs (neither the pair nor its mirror trained on), and the epoch each was taken at,
    against the authors' epochs. The paper-configuration rung is ringed; a rung whose rule was not met within
    the run's cap is crossed."""
    fig, (ax, bx) = plt.subplots(1, 2, figsize=(9.6, 4.8), layout="constrained")
    colours = {1: "#1f77b4", 2: "#d62728", 3: "#2ca02c"}
    for k in (1, 2, 3):
        t = table[table["teacher"] == k].sort_values("P")
        if t.empty:
            continue
        mark = TEACHER_MARKS[k]
        ax.plot(t["P"], t["acc_val_T"], "o-", color=colours[k], label=f"{mark}: acc$_{{val}}^T$")
        ax.plot(t["P"], t["acc_fresh_T"], "s--", color=colours[k], mfc="white", label=f"{mark}: fresh pairs")
        bx.plot(t["P"], t["epoch"], "o-", color=colours[k], label=f"{mark} taken at")
        paper = t[t["paper_config"]]
        unmet = t[~t["met"].astype(bool)] if "met" in t else t.iloc[0:0]
        for axis, col in ((ax, "acc_val_T"), (bx, "epoch")):
            axis.plot(paper["P"], paper[col], "o", ms=14, mfc="none", mec="black", zorder=5)
            axis.plot(unmet["P"], unmet[col], "x", ms=12, mew=2, color="#555555", zorder=6)
    for k, e in zip((1, 2, 3), paper_epochs):
        bx.axhline(e, color=colours[k], ls=":", lw=1.2, label=f"authors' {TEACHER_MARKS[k]}: epoch {e}")
    ax.set(xlabel="modulus P", ylabel="teacher accuracy on D$_{val}$", ylim=(-0.02, 1.02),
           title="what the teachers get right")
    bx.set(xlabel="modulus P", ylabel="epoch", yscale="log", title="when they are taken")
    ring = Line2D([], [], ls="none", marker="o", ms=12, mfc="none", mec="black", label="the paper's configuration")
    cross = Line2D([], [], ls="none", marker="x", ms=10, mew=2, color="#555555",
                   label="rule not met within the run")
    handles = [*ax.get_legend_handles_labels()[0], *bx.get_legend_handles_labels()[0], ring, cross]
    fig.legend(handles=handles, fontsize="small", loc="outside lower center", ncol=3, frameon=False)
    return fig


def student_curves(curves: pd.DataFrame, panels, *, teacher: int = 3):
    """Fig. 10: student accuracies vs epoch for teacher ``teacher`` at each (ρ, τ) of ``panels``, one line
    style per seed."""
    fig, axes = plt.subplots(1, len(panels), figsize=(4.6 * len(panels), 4.0), squeeze=False, layout="constrained")
    styles = ["-", "--", ":", "-."]
    for ax, (rho, tau) in zip(axes[0], panels):
        c = curves[(curves["teacher"] == teacher) & (curves["rho"] == rho) & (curves["tau"] == tau)]
        for i, (seed, s) in enumerate(c.groupby("seed")):
            for metric in ("acc_train_S", "acc_test_S", "acc_val_S"):
                label, colour = METRICS[metric]
                ax.plot(s["epoch"], s[metric], styles[i % 4], color=colour, lw=1.4, label=label if i == 0 else None)
        ax.set(xlabel="epoch", ylabel="accuracy", ylim=(-0.02, 1.02),
               title=rf"teacher {TEACHER_MARKS[teacher]}, $\rho = {rho:g}$, $\tau = {tau:g}$")
    handles = [Line2D([], [], color=METRICS[m][1], label=METRICS[m][0]) for m in ("acc_train_S", "acc_test_S", "acc_val_S")]
    handles += [Line2D([], [], color="#555555", ls=ls, label=f"seed {s}")
                for ls, s in zip(styles, sorted(curves["seed"].unique()))]
    fig.legend(handles=handles, fontsize="small", loc="outside lower center", ncol=len(handles), frameon=False)
    return fig


# ---------------------------------------------------------------------------------------------------
# Chapter 6: GPT-2


