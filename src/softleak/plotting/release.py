"""Chapter 8: leakage against utility, one line per defense family."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from .core import plt

#: defense family -> (colour, marker), the same in every panel
FAMILY_STYLE = {
    "temperature": ("#1f77b4", "o"), "top-k": ("#d62728", "s"), "rounding": ("#2ca02c", "^"),
    "quantisation": ("#9467bd", "v"), "logit noise": ("#ff7f0e", "D"), "hard labels": ("#222222", "X"),
    "combined": ("#8c564b", "P"),
}


def _knob_text(row) -> str:
    if row["family"] == "temperature":
        return f"τ={row['knob']:g}"
    if row["family"] in ("hard labels", "combined") or not math.isfinite(row["knob"]):
        return ""
    return {"top-k": "k={:g}", "rounding": "{:g} dp", "quantisation": "{:g} bit", "logit noise": "σ={:g}"}[
        row["family"]].format(row["knob"])


def release_pareto(pareto: pd.DataFrame, by: str, panels: dict[str, str], *, utility: str, base_recipe: str,
                   stopped: float):
    """Leakage (advantage over trivial) against utility for every recipe, a panel per value of ``by``.

    Each family's recipes are joined in the order of their knob; bars are 95 % intervals over teachers;
    the grey band is the declared "stopped" region (advantage ≤ ``stopped``); the undefended release is
    ringed. Up and to the left is a leak without use; down and to the right is the goal."""
    if pareto.empty:
        fig, ax = plt.subplots(figsize=(6, 2))
        ax.axis("off")
        ax.text(0.5, 0.5, "not measured at this preset", ha="center", va="center")
        return fig
    keys = [k for k in panels if k in set(pareto[by])]
    fig, axes = plt.subplots(1, len(keys), figsize=(5.2 * len(keys), 4.8), squeeze=False, sharey=True)
    for ax, key in zip(axes[0], keys):
        g = pareto[pareto[by] == key]
        ax.axhspan(-1, stopped, color="#dddddd", zorder=0, label=f"stopped (advantage ≤ {stopped:.0%})")
        for fam, (colour, marker) in FAMILY_STYLE.items():
            f = g[g["family"] == fam].sort_values("knob")
            if f.empty:
                continue
            xerr = np.vstack([f["utility"] - f["utility_low"], f["utility_high"] - f["utility"]]).clip(0)
            yerr = np.vstack([f["advantage"] - f["advantage_low"], f["advantage_high"] - f["advantage"]]).clip(0)
            ax.errorbar(f["utility"], f["advantage"], xerr=np.nan_to_num(xerr), yerr=np.nan_to_num(yerr), color=colour,
                        marker=marker, ms=6, lw=1.4, capsize=2, elinewidth=0.8, label=fam)
            for _, r in f.iterrows():
                t = _knob_text(r)
                if t:
                    ax.annotate(t, (r["utility"], r["advantage"]), textcoords="offset points", xytext=(4, 4),
                                fontsize=9, color=colour)
        b = g[g["recipe"] == base_recipe]
        if not b.empty:
            ax.scatter(b["utility"], b["advantage"], s=260, facecolors="none", edgecolors="k", lw=1.5, zorder=5,
                       label=f"undefended ({base_recipe})")
        ax.set(xlabel=utility, title=panels[key], ylim=(min(-0.15, float(g["advantage_low"].min()) - 0.02), 1.05))
        ax.axhline(0, color="k", lw=0.8)
    axes[0][0].set_ylabel("leakage: advantage over trivial\n(acc − trivial) / (1 − trivial)")
    handles, labels = axes[0][0].get_legend_handles_labels()
    seen = dict(zip(labels, handles))
    fig.legend(seen.values(), seen.keys(), loc="lower center", ncol=4, frameon=False, bbox_to_anchor=(0.5, -0.02))
    fig.tight_layout(rect=(0, 0.14, 1, 1))
    return fig
