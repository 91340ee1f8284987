"""Fig. 16: standard against within-class-shuffled students at the four curve α: the shuffled student can only
memorize its soft labels, so it shows what memorization alone reaches. Every threshold is declared here."""
from __future__ import annotations
import numpy as np
import pandas as pd

from ...chapters import Figure, Part
from ...claims import Claim
from ...rules import AllOf, AnyOf, AtLeast, AtMost, ClaimSpec, Equivalent, Evidence, not_converged
from .common import SAME, check_claim, curve_post_hoc, paired, role_runs, samples, seeds_note, still_moving
from .config import ROLES, ReluConfig, alpha_roles

SEPARATE = 0.10  # book: "the difference comes about" read as at least 10 points apart


def _fig16_spec(cfg: ReluConfig) -> ClaimSpec:
    a = alpha_roles(cfg)
    g = lambda role: f"{a[role]:g}" if role in a else "—"  # noqa: E731
    same = ("book", "'match well' / 'the same accuracy' read as within 5 points")
    lab = "acc_train_S standard − within-class shuffled, paired by seed"
    return ClaimSpec(
        "fig16.shuffled", "Fig. 16: standard and within-class-shuffled students reach the same training accuracy at the "
        "two smaller α; just before its jump the standard student has the shuffled student's training accuracy; past "
        "the teacher's capacity the two separate",
        "match at 25k/50k; at 100k the standard student first obtains the shuffled one's accuracy, then jumps; at 200k "
        "the difference comes about quickly",
        AllOf(Equivalent.margin("fig16.memorize", 0.0, SAME, *same, label=f"{lab}, α = {g('memorize')}", unit="pct"),
              Equivalent.margin("fig16.approximate", 0.0, SAME, *same, label=f"{lab}, α = {g('approximate')}",
                                unit="pct"),
              Equivalent.margin("fig16.before_jump", 0.0, SAME, *same,
                                label=f"{lab} at the epoch the standard student's rise starts, α = {g('jump')}",
                                unit="pct"),
              AnyOf(AtLeast("fig16.fail", SEPARATE, "book", "'the difference comes about' read as ≥ 10 points apart",
                            label=f"{lab}, α = {g('fail')}", unit="pct"),
                    AtMost("fig16.fail", -SEPARATE, "book", "… in either direction", label=f"{lab}, α = {g('fail')}",
                           unit="pct"))))


def fig16_claims(jr: pd.DataFrame, curves: pd.DataFrame, cfg: ReluConfig) -> tuple[list[Claim], dict[str, Evidence]]:
    """Fig. 16: standard against within-class-shuffled students at the four curve α. Only the seeds
    that train a shuffled student take part; a missing twin is a missing run (untested)."""
    roles = alpha_roles(cfg)
    shuf = jr[jr["variant"] == "shuffled"] if len(jr) else jr
    note = seeds_note("Fig. 16", shuf["seed"].unique() if len(shuf) else [])
    ev: dict[str, Evidence] = {}
    for role in ROLES:
        if role == "jump":
            continue
        if role not in roles:
            ev[f"fig16.{role}"] = Evidence.none(f"no curve α for the '{role}' panel", unit="pct")
            continue
        st, sh = role_runs(jr, roles[role]), role_runs(jr, roles[role], "shuffled")
        ev[f"fig16.{role}"] = (paired(st["final_train"].reindex(sh.index), sh["final_train"]) if len(sh)
                               else Evidence.none("no shuffled student", unit="pct"))
    if "jump" not in roles:
        ev["fig16.before_jump"] = Evidence.none("no curve α for the 'jump' panel", unit="pct")
    else:
        a = roles["jump"]
        st, sh = role_runs(jr, a), role_runs(jr, a, "shuffled")
        jumped = st[np.isfinite(st["epoch"].to_numpy(dtype=float))].reindex(sh.index).dropna(subset=["epoch"])
        cur = curves[np.isclose(curves["alpha"], a) & (curves["variant"] == "shuffled")
                     & np.isclose(curves["rho"], cfg.curve.rho)] if len(curves) else curves
        values = []
        for seed, row in jumped.iterrows():
            c = cur[cur["seed"] == seed].sort_values("step")
            twin = float(np.interp(row["start"], c["step"], c["acc_train_S"])) if len(c) else np.nan
            values.append(row["acc_train_S_at_start"] - twin)
        ev["fig16.before_jump"] = (samples(values, detail="the runs that jump and have a shuffled twin") if values
                                   else Evidence.none("no run with a shuffled twin jumps", unit="pct"))
    claim = check_claim(_fig16_spec(cfg), ev, note, post_hoc=curve_post_hoc(cfg))
    moving = [m for role in ("memorize", "approximate", "fail") if role in roles for variant in ("standard", "shuffled")
              for m in still_moving(role_runs(jr, roles[role], variant), f"α = {roles[role]:g}")]
    return [not_converged(claim, moving)], ev


def derive_fig16(tables: dict, cfg: ReluConfig) -> Part:
    """Fig. 16's claim, on the jump statistics and the recorded curves."""
    claims, ev = fig16_claims(tables["jumps"], tables["curves"], cfg)
    return Part(claims, ev)


FIGURE = Figure("fig16", "Fig. 16: standard against within-class-shuffled students", derive=derive_fig16)
