"""Chapter 7's figures (the workshop paper): tidy tables in, figures out."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .core import METRICS, plt

KINDS = {"logit": ("logit student", "#1f77b4"), "sim": ("similarity student", "#ff7f0e"),
         "soft": ("soft-label student", "#1f77b4"), "hard": ("independent student", "#7f7f7f")}
VARIANT_COLOURS = {"A": "#1f77b4", "B": "#d62728", "C": "#2ca02c", "D": "#9467bd"}


def _mean_sem(df: pd.DataFrame, by, cols) -> pd.DataFrame:
    g = df.groupby(by)[cols]
    out = g.mean()
    sem = g.sem().fillna(0.0).add_suffix("_sem")
    return out.join(sem).reset_index()


def _line(ax, df, x, y, colour, label, **kw):
    s = df.sort_values(x)
    ax.errorbar(s[x], s[y], yerr=s.get(f"{y}_sem"), color=colour, label=label, marker="o", ms=4, lw=1.5, capsize=2, **kw)


def _nothing(text: str = "not measured at this preset"):
    """A placeholder figure for a section whose runs are missing (e.g. every teacher failed to fit)."""
    fig, ax = plt.subplots(figsize=(6.0, 1.2), layout="constrained")
    ax.axis("off")
    ax.text(0.5, 0.5, text, ha="center", va="center")
    return fig


def _legend_below(fig, axes, ncol=3):
    handles, labels = [], []
    for ax in np.atleast_1d(axes):
        for h, lab in zip(*ax.get_legend_handles_labels()):
            if lab not in labels:
                handles.append(h)
                labels.append(lab)
    fig.legend(handles, labels, loc="outside lower center", ncol=ncol, frameon=False)


def capacity(main: pd.DataFrame, heldout: pd.DataFrame, *, teacher_p: int, student_p: int):
    """Fig. 2: (left) fraction of all memorized data right against ρ per student width, with the
    diagonal and the chance-raised diagonal; (right) one student's accuracies against ρ, its
    held-out accuracy on label 0 alone among them."""
    cap = main[main["experiment"] == "capacity"] if "experiment" in main else main
    if cap.empty or "acc_total_S" not in cap:
        return _nothing()
    fig, (left, right) = plt.subplots(1, 2, figsize=(10.5, 4.4), layout="constrained")
    m = _mean_sem(cap, ["width", "rho"], ["acc_total_S", "acc_train_S", "acc_test_S", "acc_fresh_S"])
    widths = sorted(m["width"].unique())
    colours = plt.cm.viridis(np.linspace(0.1, 0.85, len(widths)))
    for w, colour in zip(widths, colours):
        _line(left, m[m["width"] == w], "rho", "acc_total_S", colour, f"$p_S$ = {w}" + (" (= p/2)" if 2 * w == teacher_p else ""))
    r = np.linspace(0, 1, 50)
    trivial = float(cap["acc_fresh_S"].mean())
    left.plot(r, r, color="k", lw=1, ls="--", label="diagonal: only what it saw")
    left.plot(r, r + (1 - r) * trivial, color="k", lw=1, ls=":", label="diagonal + chance on the rest")
    left.set(xlabel=r"$\rho$ (the workshop's α)", ylabel="fraction of all memorized data right",
             title=f"students of width $p_S$, teacher p = {teacher_p}", xlim=(0, 1), ylim=(0, 1))
    one = m[m["width"] == student_p]
    for col, label, colour in (("acc_train_S", METRICS["acc_train_S"][0], METRICS["acc_train_S"][1]),
                               ("acc_test_S", METRICS["acc_test_S"][0], METRICS["acc_test_S"][1]),
                               ("acc_fresh_S", "trivial (the student on fresh data)", "#7f7f7f")):
        _line(right, one, "rho", col, colour, label)
    label0 = heldout[(heldout["kind"] == "logit") & (heldout["y"] == 0)] if "kind" in heldout else heldout
    if not label0.empty:
        per = label0.groupby(["seed", "init", "rho"], as_index=False)["correct"].mean()
        _line(right, _mean_sem(per, ["rho"], ["correct"]), "rho", "correct", "#1f1f8f", "acc$_{test}^S$ on label 0 only",
              ls="--")
    right.set(xlabel=r"$\rho$", ylabel="accuracy", title=f"one student, $p_S$ = {student_p} (mean ± SEM)", ylim=(0, 1.05))
    _legend_below(fig, [left, right], ncol=3)
    return fig


def class_accuracy(heldout: pd.DataFrame):
    """Per-class held-out accuracy of the logit students (all ρ pooled), label 0 marked."""
    h = heldout[heldout["kind"] == "logit"] if "kind" in heldout else heldout
    if h.empty:
        return _nothing()
    per = h.groupby("y")["correct"].agg(["mean", "count"]).reset_index()
    fig, ax = plt.subplots(figsize=(10.5, 3.0), layout="constrained")
    ax.bar(per["y"], per["mean"], color="#d62728", width=0.8, label="held-out accuracy of a class")
    ax.bar(per.loc[per["y"] == 0, "y"], per.loc[per["y"] == 0, "mean"], color="k", width=0.8, label="label 0")
    ax.axhline(h["correct"].mean(), color="k", ls="--", lw=1, label="all classes")
    ax.set(xlabel="class", ylabel=r"acc$_{test}^S$", title="held-out accuracy per class (students and ρ pooled)",
           xlim=(-1, per["y"].max() + 1))
    ax.legend(loc="upper right", ncol=3, frameon=False)
    return fig


def tau_lr_heatmap(a1: pd.DataFrame):
    """A.1: acc_test_S over temperature × learning rate, numbers in the cells."""
    if a1.empty:
        return _nothing()
    grid = a1.pivot_table(index="tau", columns="lr", values="acc_test_S")
    fig, ax = plt.subplots(figsize=(6.4, 4.2), layout="constrained")
    mesh = ax.imshow(grid.to_numpy(), origin="lower", cmap="viridis", aspect="auto")
    ax.set_xticks(range(len(grid.columns)), [f"{v:g}" for v in grid.columns])
    ax.set_yticks(range(len(grid.index)), [f"{v:g}" for v in grid.index])
    for i in range(grid.shape[0]):
        for j in range(grid.shape[1]):
            v = grid.iat[i, j]
            ax.text(j, i, f"{v:.2f}", ha="center", va="center", color="w" if v < grid.to_numpy().mean() else "k", fontsize=10)
    ax.set(xlabel="learning rate (Adam)", ylabel=r"temperature $\tau$", title=r"acc$_{test}^S$ (mean over students)")
    ax.grid(False)
    fig.colorbar(mesh, ax=ax, shrink=0.85)
    return fig


def composition_maps(cells: pd.DataFrame):
    """A.2: per class count, samples per class × d coloured by acc_test_S / trivial (log scale, one
    scale per panel); white where the teacher does not fit; held-out accuracy printed in the cells,
    bold at each row's best d."""
    from matplotlib.colors import LogNorm

    cs = sorted(cells["c"].unique())
    if not cs:
        return _nothing()
    fig, axes = plt.subplots(1, len(cs), figsize=(5.6 * len(cs), 4.4), squeeze=False)
    for ax, c in zip(axes[0], cs):
        g = cells[cells["c"] == c]
        grid = g.pivot_table(index="spc", columns="d", values="ratio", dropna=False)
        acc = g.pivot_table(index="spc", columns="d", values="acc_test_S", dropna=False)
        fitted = g.pivot_table(index="spc", columns="d", values="teacher_reached_100", aggfunc="first")
        values = np.where(fitted.to_numpy(dtype=bool), grid.to_numpy(dtype=float), np.nan)
        top = float(np.nanmax(values)) if np.isfinite(values).any() else 2.0
        norm = LogNorm(vmin=0.5, vmax=max(2.0, top))
        mesh = ax.imshow(np.clip(values, norm.vmin, None), origin="lower", cmap="magma", norm=norm, aspect="auto")
        for i in range(values.shape[0]):
            row = values[i]
            best = int(np.nanargmax(row)) if np.isfinite(row).any() else None
            for j in range(values.shape[1]):
                if np.isfinite(values[i, j]):
                    ax.text(j, i, f"{acc.iat[i, j]:.2f}", ha="center", va="center", fontsize=10,
                            color="k" if norm(values[i, j]) > 0.55 else "w", fontweight="bold" if j == best else None)
        ax.set_xticks(range(len(grid.columns)), [str(v) for v in grid.columns])
        ax.set_yticks(range(len(grid.index)), [str(v) for v in grid.index])
        ax.set(xlabel="input dimension d", ylabel="samples per class", title=f"c = {c} (white: teacher did not fit)")
        ax.grid(False)
        fig.colorbar(mesh, ax=ax, shrink=0.85, label=r"acc$_{test}^S$ / trivial (log)")
    return fig


def removal_panels(a3_means: pd.DataFrame, *, c: int):
    """A.3: (left) general and class accuracy after removing a class's samples or its soft-label
    entries; (right) held-out accuracy against the fraction of each soft label's entries zeroed."""
    if a3_means.empty:
        return _nothing()
    fig, (left, right) = plt.subplots(1, 2, figsize=(10.5, 4.2), layout="constrained")
    names = {"none": "untreated", "remove_samples": "class samples\nremoved", "zero_entry": "class entries\nzeroed"}
    rows = []
    for key, label in names.items():
        t = a3_means[a3_means["treatment"] == key]
        rows.append((label, t["acc_test_S"].mean(), t["acc_test_cls"].mean(), t["acc_fresh_S"].mean()))
    x = np.arange(len(rows))
    left.bar(x - 0.2, [r[1] for r in rows], 0.4, color="#d62728", label="all held-out classes")
    left.bar(x + 0.2, [r[2] for r in rows], 0.4, color="#1f1f8f", label="the treated class(es)")
    left.axhline(np.mean([r[3] for r in rows]), color="#7f7f7f", ls="--", lw=1, label="trivial (fresh data)")
    left.set_xticks(x, [r[0] for r in rows])
    left.set(ylabel=r"acc$_{test}^S$", title="removing a class's information")
    none = a3_means[a3_means["treatment"] == "none"]
    base = float(none["acc_test_S"].mean())
    for key, label, colour in (("tail_smallest", "k smallest entries zeroed", "#d62728"),
                               ("tail_random", "k random entries zeroed (authors' code)", "#ff9896")):
        t = a3_means[a3_means["treatment"] == key].sort_values("arg")
        right.plot(np.r_[0, t["arg"] / c], np.r_[base, t["acc_test_S"]], "o-", color=colour, label=label)
    right.axhline(float(none["acc_fresh_S"].mean()), color="#7f7f7f", ls="--", lw=1, label="trivial (fresh data)")
    right.set(xlabel="fraction k/c of each soft label zeroed", ylabel=r"acc$_{test}^S$", title="cutting the tail")
    _legend_below(fig, [left, right], ncol=3)
    return fig


def similarity_panels(main: pd.DataFrame, toy: pd.DataFrame):
    """Fig. 3: (left) similarity against logit students over ρ, with trivial; (right) the 2D toy."""
    if "experiment" not in main or (main["experiment"] == "sim").sum() == 0 or toy.empty:
        return _nothing()
    fig, (left, right) = plt.subplots(1, 2, figsize=(10.5, 4.2), layout="constrained")
    sim = _mean_sem(main[main["experiment"] == "sim"], ["rho"], ["acc_test_S", "acc_fresh_S"])
    logit = main[(main["experiment"] == "capacity") & (main["width"] == main["student_p"])]
    lg = _mean_sem(logit, ["rho"], ["acc_test_S"])
    _line(left, lg, "rho", "acc_test_S", KINDS["logit"][1], KINDS["logit"][0])
    _line(left, sim, "rho", "acc_test_S", KINDS["sim"][1], KINDS["sim"][0])
    _line(left, sim, "rho", "acc_fresh_S", "#7f7f7f", "trivial (similarity student, fresh data)", ls="--")
    left.set(xlabel=r"$\rho$", ylabel=r"acc$_{test}^S$", title="main setting (mean ± SEM)")
    kinds = ["hard", "soft", "sim"]
    cs = sorted(toy["c"].unique())
    for i, c in enumerate(cs):
        t = toy[toy["c"] == c].groupby(["toy_seed", "kind"])["acc_test_S"].mean().unstack("kind")
        for j, kind in enumerate(kinds):
            right.bar(i + (j - 1) * 0.27, t[kind].mean(), 0.27, yerr=t[kind].sem(), capsize=2,
                      color=KINDS[kind][1], label=KINDS[kind][0] if i == 0 else None)
        right.hlines(1 / c, i - 0.45, i + 0.45, color="k", ls=":", lw=1, label="chance 1/c" if i == 0 else None)
    right.set_xticks(range(len(cs)), [f"c = {c}" for c in cs])
    right.set(ylabel=r"acc$_{test}^S$", title="chapter 1's 2D toy (mean ± SEM over datasets)")
    _legend_below(fig, [left, right], ncol=3)
    return fig


def overlap(ov: pd.DataFrame):
    """Both-right rate over the independence expectation, per ρ, for two pairings of students."""
    if ov.empty:
        return _nothing()
    fig, ax = plt.subplots(figsize=(6.0, 3.8), layout="constrained")
    colours = {"logit–similarity": "#ff7f0e", "logit–logit": "#1f77b4"}
    for pair, g in ov.groupby("pair"):
        m = _mean_sem(g, ["rho"], ["ratio"])
        _line(ax, m, "rho", "ratio", colours.get(pair, "k"), pair)
    ax.axhline(1.0, color="k", ls="--", lw=1, label="independent students")
    ax.set(xlabel=r"$\rho$", ylabel="P(both right) / product of accuracies", title="do two students know the same samples?")
    ax.legend(frameon=False)
    return fig


def structured(st: pd.DataFrame, variants: dict[str, str]):
    """Fig. 4: held-out accuracy against ρ for the four variants, each with its teacher's trivial accuracy."""
    if "acc_test_S" not in st or st["acc_test_S"].isna().all():
        return _nothing()
    fig, ax = plt.subplots(figsize=(7.5, 4.4), layout="constrained")
    m = _mean_sem(st, ["variant", "rho"], ["acc_test_S", "acc_trivial_T"])
    for v, name in variants.items():
        g = m[m["variant"] == v]
        if g.empty:
            continue
        _line(ax, g, "rho", "acc_test_S", VARIANT_COLOURS[v], f"({v}) {name}")
        ax.axhline(g["acc_trivial_T"].mean(), color=VARIANT_COLOURS[v], ls=":", lw=1.2)
    ax.set(xlabel=r"$\rho$", ylabel=r"acc$_{test}^S$ (held-out memorized images)",
           title="dotted: the teacher's trivial accuracy on the other 20 %", ylim=(0, 1.02))
    ax.legend(frameon=False, loc="center left", bbox_to_anchor=(1.0, 0.5))
    return fig
