"""What chapter 5's figures share to decide their claims: the thresholds several of them read, the evidence
helpers, the runs of one curve α and the post-hoc flags.

Every threshold is declared before any result, with where it comes from: here when several figures read it, else
in its figure's module. A verdict is decided on the interval over seeds (softleak.rules): a claim whose evidence
straddles its threshold, or rests on fewer than 3 runs, reads "inconclusive", a missing run makes it "untested".
"Every run" claims are Clopper–Pearson shares of runs against EVERY_RUN_LEVEL; a quantity read at a cell picked on
the same seeds' means carries a Bonferroni interval over the cells looked at; a threshold read off a grid carries
half its step and is censored beyond the grid's end; a claim read off students still moving at the cap is
inconclusive (not converged, STILL_MOVING).
"""
from __future__ import annotations
from dataclasses import replace

import numpy as np
import pandas as pd

from ...claims import Claim
from ...metrics import FULL
from ...rules import ClaimSpec, Evidence, Rule, fmt
from .config import ReluConfig

SAME = 0.05  # book: "match well", "the same accuracy", "≈", "as good as" read as within 5 points
PAPER_CURVE_ALPHAS = (0.25, 0.5, 1.0, 2.0)  # paper Fig. 7C: n = 25k, 50k, 100k, 200k at d·c = 10⁵
PAPER_STUDENT_LR = 1e-4
PAPER_SIZE = (1000, 100, 500)  # paper (d, c, p)
#: book: a claim about "every run" (every seed) reads "most runs, with 95 % confidence": the Clopper–Pearson
#: interval of the share of runs lies above this level (reproduces) or below it (fails); 3 of 3 runs give
#: [29 %, 100 %] (inconclusive), 6 of 6 give [54 %, 100 %] (reproduces), 0 of 3 give [0 %, 71 %] (inconclusive)
EVERY_RUN_LEVEL = 0.5
#: book: a student is still moving at the cap when its training accuracy rose by more than this over the last
#: tenth of its epochs (then a claim that reads its final accuracy below 100 % is not converged)
STILL_MOVING = 0.02


def _labels(rule: Rule) -> dict[str, str]:
    """quantity -> how it reads on the page, for every quantity a rule reads."""
    if hasattr(rule, "parts"):
        out: dict[str, str] = {}
        for part in rule.parts:
            out.update(_labels(part))
        return out
    return {rule.quantity: rule.label or rule.quantity}


def check_claim(spec: ClaimSpec, ev: dict[str, Evidence], seeds: str, *, extra: str = "", post_hoc: str = "") -> Claim:
    """``spec.check`` with ``ours`` naming the figure's seeds first, then every quantity the rule reads."""
    parts = [f"{label}: {ev[q] if q in ev else 'not measured'}" for q, label in _labels(spec.rule).items()]
    ours = f"{seeds}; " + "; ".join(parts) + (f"; {extra}" if extra else "")
    return spec.check(ev, ours=ours, post_hoc=post_hoc)


def seeds_note(figure: str, seeds) -> str:
    seeds = sorted(int(s) for s in seeds)
    return f"{figure}: {len(seeds)} seed{'s' if len(seeds) != 1 else ''}" + (f" ({', '.join(map(str, seeds))})" if seeds else "")


def samples(values, detail: str = "", unit: str = "pct", **kwargs) -> Evidence:
    """Student-t over runs (seeds); ``kwargs`` go to :meth:`Evidence.samples` (``looks``, ``resolution``,
    ``grid_end``, ``of``)."""
    return Evidence.samples(np.asarray(values, dtype=float), unit=unit, detail=detail, **kwargs)


def paired(a: pd.Series, b: pd.Series, detail: str = "", unit: str = "pct") -> Evidence:
    """``a − b`` paired by seed (the index), in percent by default."""
    return Evidence.paired(a, b, unit=unit, detail=detail)


def weakest(cases: dict[str, Evidence], threshold: float, *, larger_is_better: bool = True,
             unit: str = "pct") -> Evidence:
    """One evidence standing for "at every case": a case whose whole interval is on the wrong side of
    ``threshold`` if there is one (the claim fails), else a missing case (untested), else the case
    whose interval comes nearest the threshold (it decides reproduces or inconclusive)."""
    if not cases:
        return Evidence.none("no case to test", unit=unit)
    sign = 1.0 if larger_is_better else -1.0
    items = list(cases.items())
    wrong = [(k, e) for k, e in items if not e.missing and sign * (e.high if sign > 0 else e.low) < sign * threshold]
    if wrong:
        label, ev = min(wrong, key=lambda t: sign * (t[1].high if sign > 0 else t[1].low))
    else:
        missing = [(k, e) for k, e in items if e.missing]
        if missing:
            return Evidence.none(f"{missing[0][0]}: {missing[0][1].detail}", unit=unit)
        label, ev = min(items, key=lambda t: sign * (t[1].low if sign > 0 else t[1].high))
    return replace(ev, detail=f"weakest of {len(items)}: {label}" + (f", {ev.detail}" if ev.detail else ""))


def wide(df: pd.DataFrame, metric: str, columns: str = "rho") -> pd.DataFrame:
    """seed × ``columns`` table of one metric; a missing run stays NaN."""
    if df.empty:
        return pd.DataFrame()
    return df.pivot(index="seed", columns=columns, values=metric).sort_index(axis=1)


def seed_mean(w: pd.DataFrame) -> pd.Series:
    return w.mean(axis=0, skipna=False)


def gaps(*tables: pd.DataFrame) -> str:
    """Why evidence chosen on seed means is missing: the number of missing runs, or ''."""
    k = sum(int(t.isna().to_numpy().sum()) for t in tables if len(t))
    return f"{k} runs missing" if k else ""


def _size_post_hoc(cfg: ReluConfig) -> str:
    """The settings every claim of this preset is measured at that were chosen after the planning probes (DEVIATIONS,
    post_hoc): (d, c, p) and the student's learning rate, where they differ from the paper's."""
    parts = []
    if (cfg.d, cfg.c, cfg.p) != PAPER_SIZE:
        parts.append(f"(d, c, p) = ({cfg.d}, {cfg.c}, {cfg.p}) (c/d raised after probes at the paper's d/c showed no jump)")
    if cfg.student_lr != PAPER_STUDENT_LR:
        parts.append(f"student lr {cfg.student_lr:g} (raised after probes at the paper's 1e-4 showed no jump)")
    return "; ".join(parts)


def post_hoc_note(cfg: ReluConfig, *extra: str) -> str:
    """Every post-hoc setting a claim is decided at: the size and learning rate (all claims), and ``extra``."""
    return "; ".join(p for p in (_size_post_hoc(cfg), *extra) if p)


def curve_post_hoc(cfg: ReluConfig) -> str:
    if tuple(sorted(cfg.curve.alphas)) == PAPER_CURVE_ALPHAS:
        return post_hoc_note(cfg)
    return post_hoc_note(cfg, f"curve_alphas = {', '.join(f'{a:g}' for a in cfg.curve.alphas)} (the paper's 0.25, 0.5, 1, "
                          "2 moved into this preset's own regimes after seeing its phase diagram)")


def role_runs(jr: pd.DataFrame, alpha: float | None, variant: str = "standard") -> pd.DataFrame:
    if alpha is None or jr.empty:
        return jr.iloc[0:0].set_index("seed") if "seed" in jr else pd.DataFrame()
    sub = jr[np.isclose(jr["alpha"], alpha) & (jr["variant"] == variant)]
    return sub.set_index("seed").sort_index()


def still_moving(runs: pd.DataFrame, where: str) -> list[str]:
    """The runs (indexed by seed) still moving at the cap: training accuracy below 100 % and still rising by more
    than :data:`STILL_MOVING` over the last tenth of the epochs; a verdict read off them is not converged."""
    if runs.empty or "train_gain_last" not in runs:
        return []
    bad = runs[(runs["final_train"] < FULL) & (runs["train_gain_last"] > STILL_MOVING)]
    return [f"{where}, seed {seed} ({row['variant']}): acc_train_S still rising by {fmt(row['train_gain_last'], 'pct')} "
            "over the last tenth" for seed, row in bad.iterrows()]
