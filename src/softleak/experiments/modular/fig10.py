"""Fig. 10: teacher ③'s transformer students, a fast route (at the highest τ the student generalizes almost at once)
and a grokking one (at the lowest τ it generalizes long after it has fitted its training pairs)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ...chapters import Figure, Part
from ...claims import Claim
from ...rules import MOST_RUNS, AllOf, AtLeast, ClaimSpec, Evidence, fmt
from .common import DELAY, flag_text, post_hoc_flags, unless_unconverged
from .config import GENERALIZED, ModularConfig

FAST_EPOCHS = 500  # paper: "after only few epochs" (Fig. 10 left) read as within 500
FAST_FACTOR = 2.0  # paper: "generalizes … after only few epochs" read as no later than 2× the epoch it fits (no delay)


def fig10_specs(cfg: ModularConfig) -> list[ClaimSpec]:
    """The two curves' claims, at the (ρ, τ) of ``cfg.fig10``."""
    hi, lo = max(cfg.taus), min(cfg.taus)
    fast = next((r for r, t in cfg.fig10 if t == hi), None)
    slow = next((r for r, t in cfg.fig10 if t == lo), None)
    return [
        ClaimSpec("fig10.fast", f"Fig. 10 left (teacher ③, ρ = {fmt(fast)}, τ = {hi:g}): the student generalizes "
                  "almost at once", "'not only memorizes its training data fast but generalizes on the held-out teacher "
                  "train set and validation set after only few epochs' (Fig. 10, App. C.2)",
                  AtLeast("fig10.fast.generalized", MOST_RUNS, "paper", f"'only few epochs' read as acc_val_S ≥ "
                          f"{fmt(GENERALIZED, 'pct')} no later than {FAST_FACTOR:g}× the epoch it fits D_train^S (no "
                          "delay), in every run: the share of runs above one half with 95 % confidence",
                          label="share of runs", unit="pct")),
        ClaimSpec("fig10.delayed", f"Fig. 10 right (teacher ③, ρ = {fmt(slow)}, τ = {lo:g}): the student generalizes "
                  "long after it has fitted its training pairs: grokking", "grokking, as the original teacher (App. C.2)",
                  AllOf(AtLeast("fig10.delayed.generalized", MOST_RUNS, "paper", "every run generalizes within its "
                                "budget: the share of runs above one half with 95 % confidence",
                                label="share of runs", unit="pct"),
                        AtLeast("fig10.delayed.ratio", DELAY, "book", f"generalization ≥ {DELAY:g}× after the fit",
                                label="epoch of acc_val_S ≥ 95 % / epoch of acc_train_S ≥ 99 %"))),
    ]


def fig10_claims(out: dict[str, pd.DataFrame], cfg: ModularConfig) -> tuple[list[Claim], dict[str, Evidence]]:
    """Fig. 10: teacher ③'s transformer students, a fast route (high τ) and a grokking one (low τ)."""
    hi, lo = max(cfg.taus), min(cfg.taus)
    runs = out["runs"]
    r3 = runs[(runs["arch"] == "transformer") & (runs["teacher"] == 3)]
    ev: dict[str, Evidence] = {}
    for which, tau in (("fast", hi), ("delayed", lo)):
        rho = next((r for r, t in cfg.fig10 if t == tau), None)
        r = r3[(r3["tau"] == tau) & np.isclose(r3["rho"], rho)] if rho is not None else r3.iloc[:0]
        if r.empty:
            ev[f"fig10.{which}.generalized"] = Evidence.none("the transformer did not run at this (ρ, τ)")
            if which == "delayed":
                ev["fig10.delayed.ratio"] = Evidence.none("the transformer did not run at this (ρ, τ)")
            continue
        gen, fit_ = r["gen_epoch"].to_numpy(float), r["fit_epoch"].to_numpy(float)
        end, step = float(r["epochs"].max()), float(r["record_every"].max()) if "record_every" in r else 0.0
        gen = np.where(np.isnan(gen), math.inf, gen)  # never within the run: censored beyond its last epoch
        ok = np.isfinite(gen) & (gen <= FAST_FACTOR * fit_) if which == "fast" else np.isfinite(gen)
        ev[f"fig10.{which}.generalized"] = Evidence.share_of(ok, detail=(
            f"{int(ok.sum())} of {len(ok)} runs; generalized at epochs {', '.join(fmt(v) for v in gen)}, fitted at "
            f"{', '.join(fmt(v) for v in fit_)} (∞ = not within {int(end)})"))
        ev[f"fig10.{which}.gen_epoch"] = Evidence.samples(gen, detail="over seeds", resolution=step, grid_end=end)
        if which == "delayed":
            ev["fig10.delayed.ratio"] = (Evidence.samples(gen / fit_, detail="over seeds", grid_end=end / np.nanmax(fit_))
                                         if np.isfinite(fit_).all() else Evidence.none("a run never fitted D_train^S"))
    flags = post_hoc_flags(cfg, "transformer")
    posts = {"fig10.fast": flag_text(flags, "frac", "conv"), "fig10.delayed": flag_text(flags, "frac", "lr", "conv")}
    return [unless_unconverged(spec.check(ev, post_hoc=posts[spec.id]), runs[runs["arch"] == "transformer"],
                               read_settings(spec.id, cfg)) for spec in fig10_specs(cfg)], ev


def read_settings(claim_id: str, cfg: ModularConfig) -> list[tuple[int, float, float | None]]:
    """The student setting (teacher ③, τ, ρ) a Fig. 10 claim reads: the highest τ for ``fast``, the lowest for
    ``delayed``, at the ρ of ``cfg.fig10``."""
    hi, lo = max(cfg.taus), min(cfg.taus)
    name = claim_id.split(".", 1)[1] if "." in claim_id else claim_id
    rho = next((r for r, t in cfg.fig10 if t == (hi if name == "fast" else lo)), None)
    return [(3, hi if name == "fast" else lo, rho)]


def derive(tables: dict, cfg: ModularConfig) -> Part:
    """Fig. 10's claims (with the transformer)."""
    if "transformer" not in cfg.archs:
        return Part()
    claims, ev = fig10_claims(tables, cfg)
    return Part(claims, ev)


FIGURE = Figure("fig10", "Fig. 10: a fast route and a grokking one", derive=derive)
