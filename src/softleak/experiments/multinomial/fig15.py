"""Fig. 15 (c = 10 over (α, τ), and its thresholds): the claims of Fig. 14 and Fig. 5A at ten classes, with the
specs those figures declare."""

from __future__ import annotations

import pandas as pd

from ... import theory
from ...chapters import Figure, Part, Verdicts
from ...rules import fmt
from .common import SAY, grid_step, sweep_evidence, tau_sweep, threshold_metrics
from .config import MultinomialConfig
from .fig5a import id_spec, label_S_spec, order_spec
from .fig14 import shuffled_spec, window_specs


def fig15_claims(runs: pd.DataFrame, cfg: MultinomialConfig):
    """Fig. 15 (c = 10 over (α, τ), and its thresholds). Returns ``(claims, evidence, derived)``."""
    means, th, seeds, taus, sub = tau_sweep(runs, "tau_c10")
    ev = sweep_evidence(10, sub, means, seeds, taus)
    step = grid_step(means["alpha"])
    specs = window_specs(10) + [id_spec(10, cfg.rho, step), order_spec(10, step), label_S_spec(10, step),
                                 shuffled_spec(10, taus)]
    return [s.check(ev) for s in specs], ev, {"m10": means, "th10": th, "th10_seeds": seeds}


def derive(tables: dict, cfg: MultinomialConfig) -> Part:
    """Fig. 15's claims and evidence, its tables (``m10``, ``th10``, ``th10_seeds``) and the numbers the page
    glues."""
    claims, ev, derived = fig15_claims(tables["runs"], cfg)
    th10 = derived["th10"]
    metrics = {"c10.theory.alpha_id_S": theory.alpha_id_multiclass(cfg.rho, 10),
               "c10.window_max": int(th10["window_points"].max()), **threshold_metrics("c10", th10)}
    return Part(claims=claims, evidence=ev, metrics=metrics, tables=derived)


def read(v: Verdicts) -> str:
    """The page's paragraph on ten classes."""
    return (f"\n\n**Ten classes.** The same picture (window {SAY[v['c10.window']]}; α_id^S near "
            f"{fmt(v.metrics.get('c10.theory.alpha_id_S', float('nan')))} {SAY[v['c10.alpha_id']]}; order "
            f"{SAY[v['c10.order']]}).")


FIGURE = Figure("fig15", "Fig. 15: ten classes over (α, τ)", derive=derive, read=read, needs="c10.window")
