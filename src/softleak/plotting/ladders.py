"""The ladders' small figure (:mod:`softleak.ladders`): one panel per failing claim, its quantity at each rung with
the interval it was decided on, and the paper's value (or the edge its statement sets) as a dashed line."""

from __future__ import annotations

import math
import re
import textwrap

import numpy as np

from ..ladders import STAYS, on_paper_side
from .core import plt

_BOOK, _PAPER = "#1f77b4", "#d62728"


def _num(v) -> float:
    return float("nan") if v is None else float(v)


def _wrap(text: str, width: int) -> str:
    """``textwrap.fill`` that never breaks a number's thin groups ("10 000") across lines."""
    return textwrap.fill(re.sub(r"(?<=\d) (?=\d{3}\b)", "\u00a0", text), width)


def _tick(label: str) -> str:
    """A rung's tick: a label's part before its colon ("×2: 4 layers × 128" -> "×2"), else what follows its knob's
    name ("d = 200" -> "200", "budget ×2" -> "×2")."""
    if ": " in label:
        return label.split(": ", 1)[0]
    for sep in (" = ", " ≤ "):
        if sep in label:
            return label.split(sep, 1)[1]
    return label.split(" ", 1)[-1]


def ladders(entries: list[dict]):
    """One panel per entry of a chapter's ``ladders/<stem>.json``: a ladder on its knob (log axis when the rungs
    double), a both-ways comparison on its definitions (each with its verdict); the paper's value as a dashed red
    line, or the edge the claim's statement sets (the paper's number or its rule's reading of it: "edge of the claim"
    in the legend, the side it asks for shaded). Panels sit two to a row, one when a
    both-ways comparison needs the width for its definitions."""
    n = len(entries)
    cols = 1 if n == 1 or any(e["kind"] != "ladder" for e in entries) else 2
    rows = math.ceil(n / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(8.0, 3.6 * rows), layout="constrained", squeeze=False)
    for ax in axes.flat[n:]:
        ax.set_visible(False)
    for ax, e in zip(axes.flat, entries):
        rungs = e["rungs"]
        scale = 100.0 if e["unit"] == "pct" else 1.0
        y = np.array([_num(r["value"]) for r in rungs]) * scale
        lo = np.array([_num(r["low"]) for r in rungs]) * scale
        hi = np.array([_num(r["high"]) for r in rungs]) * scale
        err = np.vstack([np.where(np.isfinite(lo), y - lo, 0), np.where(np.isfinite(hi), hi - y, 0)])
        censored = np.array([bool(r.get("censored")) for r in rungs])
        if e["kind"] == "ladder":
            x = np.array([float(r["x"]) for r in rungs])
            ax.errorbar(x, y, yerr=err, fmt="o-", color=_BOOK, capsize=3, lw=1.5, label="this book (95 % interval)")
            if len(x) > 1 and np.all(x > 0) and x[-1] / x[0] >= 4:
                ax.set_xscale("log")
                ax.minorticks_off()
            ax.set_xticks(x, [_tick(r["label"]) for r in rungs])
            ax.set_xlabel(textwrap.fill(e["knob"], 34))
            held = e["trend"] == STAYS and on_paper_side(e)  # read as the page's sentence reads it
            title = f"{e['claim']}\n" + ("holds at every rung" if held else f"the gap {e['trend']}")
        else:
            x = np.arange(len(rungs))
            ax.errorbar(x, y, yerr=err, fmt="o", color=_BOOK, capsize=3, label="this book (95 % interval)")
            ax.set_xticks(x, [_wrap(r["label"], 24) + f"\n→ {r['verdict']}" for r in rungs], fontsize="small")
            ax.set_xlim(-0.5, len(rungs) - 0.5)
            title = f"{e['claim']}: both ways"
        if censored.any():  # a threshold beyond the grid's end: the value is a bound, the interval open on one side
            ax.plot(x[censored], y[censored], ls="none", marker="v", ms=10, mfc="white", mec=_BOOK,
                    label="censored (beyond the grid)")
        paper = e["paper"] * scale
        ax.axhline(paper, color=_PAPER, ls="--", lw=1.2, label="paper" if e["side"] == "value" else "edge of the claim")
        if e["side"] in ("above", "below"):
            top = max(np.nanmax(np.r_[hi, y, paper]), paper) if np.isfinite(np.r_[hi, y]).any() else paper + 1
            bottom = min(np.nanmin(np.r_[lo, y, paper]), paper) if np.isfinite(np.r_[lo, y]).any() else paper - 1
            pad = 0.1 * max(top - bottom, 1e-9)
            ax.set_ylim(bottom - pad, top + pad)
            ax.axhspan(paper, top + pad, color=_PAPER, alpha=0.08, lw=0) if e["side"] == "above" else \
                ax.axhspan(bottom - pad, paper, color=_PAPER, alpha=0.08, lw=0)
        if e["unit"] == "pct":  # an interval over a few runs can reach past what a share can be: the axis stops there
            low_lim, high_lim = ax.get_ylim()
            ax.set_ylim(max(low_lim, -105.0), min(high_lim, 105.0))
        ax.set_ylabel(e["quantity"] + (" (%)" if e["unit"] == "pct" else ""), fontsize="small")
        ax.set_title(title, fontsize="small")
        ax.legend(fontsize="x-small", loc="best", framealpha=0.8)
    return fig
