"""Chapter 6's figure: GPT-2 student and teacher curves."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns

from .core import METRICS

def gpt2_curves(curves: pd.DataFrame, teacher_curve: pd.DataFrame, *, chance: float):
    """Fig. 9: acc_train_S (dotted) and acc_test_S (solid) vs epoch per ρ, seed means thick and seeds thin;
    the teacher's accuracy on its sentences on the right."""
    fig, (ax, axT) = plt.subplots(1, 2, figsize=(10, 3.8), gridspec_kw={"width_ratios": [2.2, 1]}, layout="constrained")
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
    return fig
