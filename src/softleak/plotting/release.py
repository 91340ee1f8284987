"""Chapter 8: leakage against utility, one line per defense family, and the page's tables."""

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
    """Leakage (advantage over trivial) against utility for every recipe, one full-width panel per value of ``by``.

    Each family's recipes are joined in the order of their knob; bars are 95 % intervals over teachers;
    the grey band is the declared "stopped" region (advantage ≤ ``stopped``); the undefended release is
    ringed. A knob is written beside its point unless another label already sits there."""
    if pareto.empty:
        fig, ax = plt.subplots(figsize=(6, 2), layout="constrained")
        ax.axis("off")
        ax.text(0.5, 0.5, "not measured at this preset", ha="center", va="center")
        return fig
    keys = [k for k in panels if k in set(pareto[by])]
    fig, axes = plt.subplots(len(keys), 1, figsize=(8.0, 4.6 * len(keys) + 1.2), squeeze=False, layout="constrained")
    for ax, key in zip(axes[:, 0], keys):
        g = pareto[pareto[by] == key]
        lo = min(-0.1, float(np.nanmin(g["advantage_low"])) - 0.02)
        x0, x1 = float(np.nanmin(g["utility_low"].fillna(g["utility"]))), float(np.nanmax(g["utility_high"].fillna(g["utility"])))
        ax.set(xlim=(x0 - 0.02, min(1.0, x1) + 0.04), ylim=(lo, 1.05))
        ax.axhspan(lo, stopped, color="#dddddd", zorder=0, label=f"leak stopped (advantage ≤ {stopped:.0%})")
        placed: list[tuple[float, float]] = []
        span_x, span_y = ax.get_xlim()[1] - ax.get_xlim()[0], 1.05 - lo
        for fam, (colour, marker) in FAMILY_STYLE.items():
            f = g[g["family"] == fam].sort_values("knob")
            if f.empty:
                continue
            xerr = np.vstack([f["utility"] - f["utility_low"], f["utility_high"] - f["utility"]]).clip(0)
            yerr = np.vstack([f["advantage"] - f["advantage_low"], f["advantage_high"] - f["advantage"]]).clip(0)
            ax.errorbar(f["utility"], f["advantage"], xerr=np.nan_to_num(xerr), yerr=np.nan_to_num(yerr), color=colour,
                        marker=marker, ms=7, lw=1.6, capsize=2, elinewidth=0.8, alpha=0.9, label=fam)
            for _, r in f.iterrows():
                t = _knob_text(r)
                u, v = (r["utility"] - ax.get_xlim()[0]) / span_x, (r["advantage"] - lo) / span_y
                if t and all(abs(u - a) > 0.07 or abs(v - b) > 0.05 for a, b in placed):
                    ax.annotate(t, (r["utility"], r["advantage"]), textcoords="offset points", xytext=(5, 5),
                                fontsize=11, color=colour)
                    placed.append((u, v))
        b = g[g["recipe"] == base_recipe]
        if not b.empty:
            ax.scatter(b["utility"], b["advantage"], s=320, facecolors="none", edgecolors="k", lw=1.6, zorder=5,
                       label=f"undefended ({base_recipe})")
        ax.axhline(0, color="k", lw=0.8)
        ax.set_title(panels[key], fontsize=13)
        ax.set_xlabel(utility, fontsize=12)
        ax.set_ylabel("leakage: advantage over trivial\n(acc − trivial) / (1 − trivial)", fontsize=12)
        ax.tick_params(labelsize=11)
    handles, labels = axes[0, 0].get_legend_handles_labels()
    seen = dict(zip(labels, handles))
    fig.legend(seen.values(), seen.keys(), loc="outside lower center", ncol=3, frameon=False, fontsize=11)
    return fig


def _pm(r, m, pct=True) -> str:
    """``mean ± half-width`` of a Student-t interval (symmetric), percent or fraction."""
    if not math.isfinite(r[m]):
        return "—"
    f = (lambda v: f"{100 * v:.1f}") if pct else (lambda v: f"{v:.2f}")
    half = (r[f"{m}_high"] - r[f"{m}_low"]) / 2
    return f"{f(r[m])} ± {f(half)}" if math.isfinite(half) and half > 0 else f(r[m])


def pareto_view(pareto: pd.DataFrame, by: str, key: str) -> pd.DataFrame:
    """One panel's recipes for the page: advantage, AUC and utility as mean ± 95 % half-width over teachers,
    the leak's reading by the declared rules (stopped, safe, or leaks; still rising), and the share of
    released vectors that are one-hot (a recipe at 100 % released the hard labels)."""
    if pareto.empty:
        return pareto
    p = pareto[pareto[by] == key]
    leak = np.where(p["safe"], "safe", np.where(p["stopped"], "stopped", "leaks"))
    leak = [f"{w}, still rising" if r else w for w, r in zip(leak, p["still_rising"])]
    return pd.DataFrame({"family": p["family"], "recipe": p["recipe"],
                         "advantage %": [_pm(r, "advantage") for _, r in p.iterrows()],
                         "AUC": [_pm(r, "auc", False) for _, r in p.iterrows()],
                         "utility %": [_pm(r, "utility") for _, r in p.iterrows()], "leak": leak,
                         "audit says leaks": [f"{k} of {t}" if t else "—" for k, t in
                                              zip(p.get("audit_leaks", [0] * len(p)), p.get("audit_teachers", [0] * len(p)))],
                         "one-hot %": [f"{100 * v:.0f}" if math.isfinite(v) else "—" for v in p["one_hot_share"]]}).set_index(
        ["family", "recipe"])


def _ci(r, q, unit="pct") -> str:
    """``value [low, high]`` of a record-level bootstrap interval (asymmetric), percent or number."""
    v = r.get(q, float("nan"))
    if v is None or not math.isfinite(v):
        return "—"
    f = (lambda x: f"{100 * x:.1f}") if unit == "pct" else (lambda x: f"{x:.2f}")
    low, high = r.get(f"{q}_low", float("nan")), r.get(f"{q}_high", float("nan"))
    return f"{f(v)} [{f(low)}, {f(high)}]" if math.isfinite(low) and math.isfinite(high) else f(v)


def audit_view(audits: pd.DataFrame, by: str, key: str, recipe: str) -> pd.DataFrame:
    """The audit of one recipe, teacher by teacher, as the command line would report it: held-out and fresh
    accuracy (%), the exposure gap (bits) and the membership AUC with their record-level 95 % bootstrap intervals,
    the null's p-value and the verdict."""
    if audits is None or audits.empty:
        return pd.DataFrame()
    a = audits[(audits[by] == key) & (audits["recipe"] == recipe)].sort_values("seed")
    return pd.DataFrame({"teacher (seed)": a["seed"], "held-out acc %": [_ci(r, "acc_heldout") for _, r in a.iterrows()],
                         "fresh acc %": [_ci(r, "trivial") for _, r in a.iterrows()],
                         "exposure gap (bits)": [_ci(r, "exposure_gap", "num") for _, r in a.iterrows()],
                         "AUC": [_ci(r, "auc", "num") for _, r in a.iterrows()],
                         "p": [f"{v:.3g}" for v in a["p_value"]], "verdict": a["verdict"]}).set_index("teacher (seed)")


def example_view(reports: dict[str, dict]) -> pd.DataFrame:
    """The worked example's JSON reports side by side: per teacher and recipe the verdict, its p-value, the held-out
    against the fresh canaries named (%), the exposure gap (bits) and the membership AUC, with their intervals."""
    rows = []
    for teacher, report in reports.items():
        for rec in report["recipes"]:
            m = rec["metrics"]

            def ci(q, unit="pct"):
                if q not in m:
                    return "—"
                flat = {q: m[q]["value"], f"{q}_low": m[q]["low"] if m[q]["low"] is not None else float("nan"),
                        f"{q}_high": m[q]["high"] if m[q]["high"] is not None else float("nan")}
                return _ci(flat, q, unit)

            rows.append({"teacher": teacher, "recipe": rec["defense"], "verdict": rec["verdict"],
                         "p": f"{rec['p_value']:.3g}" if rec["p_value"] is not None else "—",
                         "held-out canaries named %": ci("acc_heldout"), "fresh canaries named %": ci("trivial"),
                         "exposure gap (bits)": ci("exposure_gap", "num"), "AUC": ci("auc", "num")})
    return pd.DataFrame(rows).set_index(["teacher", "recipe"])


def best_view(best: pd.DataFrame, by: str) -> pd.DataFrame:
    """The best-utility-at-a-stopped-leak table for the page, in percent."""
    if best.empty:
        return best

    def pct(v):
        return "—" if not math.isfinite(v) else f"{100 * v:.1f}"

    return pd.DataFrame({by: best[by], "family": best["family"], "most useful stopped recipe": best["best stopped recipe"],
                         "utility %": best["utility"].map(pct), "cost % (vs undefended)": best["utility cost"].map(pct),
                         "advantage %": best["advantage"].map(pct),
                         "safe": np.where(best["safe"], "yes", "no")}).set_index([by, "family"])
