"""The ladder of fig7c.jump: the jump panel's students trained for multiples of the student epochs, and the share
of runs that jump when training stops at each (its rungs are prefixes of one long run per seed); what the ladder
says about the claim's miss; and the cost of the ladders the chapter's other misses would need."""
from __future__ import annotations

import numpy as np
import pandas as pd

from ...chapters import Figure, Part
from ...claims import Claim
from ...config import replace_checked
from ...rules import fmt, ladder_trend
from .analysis import jump_stats
from .config import ReluConfig, alpha_roles, experiment_cells
from .fig7c import jumped_fully
from .runs import cell_flop

JUMP_PAPER_SHARE = 1.0  # paper Fig. 7C.3: the run jumps (every run, as fig7c.jump reads it)


def jump_ladder_table(curves: pd.DataFrame, cfg: ReluConfig) -> pd.DataFrame:
    """fig7c.jump's quantity at each rung of the epochs ladder: the share of runs that jump (as the claim
    reads it: a sudden rise to acc_test_S ≥ jump_level, ending with train and test at 100 %) when training
    stops at ``factor × student_steps``; each rung is a prefix of the ladder's one long run per seed."""
    cols = ["factor", "epochs", "share", "num_runs", "jump_epochs"]
    if curves is None or curves.empty or not cfg.jump_ladder:
        return pd.DataFrame(columns=cols)
    rows = []
    for m in sorted(cfg.jump_ladder):
        t = m * cfg.student_steps
        js = pd.DataFrame([jump_stats(c, cfg.jump_level) for _, c in curves[curves["step"] <= t].groupby("seed")])
        ok = jumped_fully(js)
        rows.append({"factor": m, "epochs": t, "share": float(np.mean(ok)) if len(ok) else np.nan, "num_runs": len(ok),
                     "jump_epochs": ", ".join(fmt(e) for e in js["epoch"])})
    return pd.DataFrame(rows, columns=cols)


LADDER_SEEDS = 12  # seed ladders: 3 → 6 → 12 runs (the paper: 5 to 10)
LADDER_EPOCHS = 4  # epoch ladders: ×1, ×2, ×4


def _ladder_flop(cfg: ReluConfig, tags: tuple[str, ...], **overrides) -> float:
    """Training FLOP of a ladder rung: the cells of ``cfg`` with ``overrides`` that train students of the
    experiments ``tags`` (their teachers, and only those students); ``overrides`` use the flat names
    (``tail_seeds``)."""
    lad = replace_checked(cfg, **{"jump_ladder": (), **overrides})
    total = 0.0
    for cell in experiment_cells(lad):
        students = [s for s in cell["students"] if set(s["tags"]) & set(tags)]
        if students:
            total += cell_flop({**cell, "students": students, "student_steps": lad.student_steps})
    return total


def ladder_costs(cfg: ReluConfig) -> pd.DataFrame:
    """The ladders this chapter's misses would need beyond the one it runs, and their training FLOP: the
    knob the page blames (student epochs or seeds) at its largest rung, or the next size up (d, c and p
    doubled: the same ratios), counted from the cells each would train."""
    seeds = tuple(range(LADDER_SEEDS))
    big = dict(d=2 * cfg.d, c=2 * cfg.c, p=2 * cfg.p)
    rows = [
        ("fig7c.jump, fig16.shuffled, fig7.nonmonotone", f"student epochs ×{LADDER_EPOCHS} at ρ = {cfg.curve.rho:g}, every "
         "grid α, with the shuffled students", _ladder_flop(cfg, ("grid", "curves"), rhos=(cfg.curve.rho,),
                                                           student_steps=LADDER_EPOCHS * cfg.student_steps)),
        ("fig7c.jump", f"size: (d, c, p) = ({big['d']}, {big['c']}, {big['p']}) at the jump α and ρ = {cfg.curve.rho:g}",
         _ladder_flop(cfg, ("grid",), **big, alphas=(alpha_roles(cfg).get("jump", max(cfg.alphas)),), rhos=(cfg.curve.rho,))),
        ("fig6.large_decreases", f"seeds {len(cfg.seeds)} → {LADDER_SEEDS} at α = {max(cfg.fig6.alphas or cfg.alphas):g}",
         _ladder_flop(cfg, ("fig6",), seeds=seeds)),
        ("fig18a.tail, fig18b.removal", f"seeds {cfg.tail.seeds} → {LADDER_SEEDS} at every tail α",
         _ladder_flop(cfg, ("tailcut",), seeds=seeds, tail_seeds=LADDER_SEEDS)),
        ("fig21.width", f"seeds {cfg.width.seeds} → {LADDER_SEEDS} at α = {cfg.width.alpha:g}",
         _ladder_flop(cfg, ("width",), seeds=seeds, width_seeds=LADDER_SEEDS)),
    ]
    main = sum(cell_flop({**cell, "student_steps": cfg.student_steps}) for cell in experiment_cells(cfg))
    return pd.DataFrame([{"claims": c, "ladder": what, "TFLOP": f / 1e12, "× this chapter's training": f / main}
                         for c, what, f in rows])


def ladder_metrics(table: pd.DataFrame) -> dict[str, object]:
    """claims.json's record of the ladder: x (epochs), y (share of runs that jump), the paper's value, the trend."""
    if table.empty:
        return {}
    y = [float(v) for v in table["share"]]
    return {"ladder.fig7c.jump.x": [int(v) for v in table["epochs"]], "ladder.fig7c.jump.y": y,
            "ladder.fig7c.jump.paper": JUMP_PAPER_SHARE, "ladder.fig7c.jump.trend": ladder_trend(y, JUMP_PAPER_SHARE),
            "ladder.fig7c.jump.num_runs": int(table["num_runs"].max())}


def ladder_reading(claims: list[Claim], metrics: dict[str, object], cfg: ReluConfig) -> str:
    """What the fig7c.jump ladder says about the claim's miss (Markdown, generated from the ladder's trend)."""
    by = {c.id: c for c in claims}
    if "ladder.fig7c.jump.y" not in metrics:
        return "The `fig7c.jump` ladder does not run at this preset."
    y, x = metrics["ladder.fig7c.jump.y"], metrics["ladder.fig7c.jump.x"]
    trend = metrics["ladder.fig7c.jump.trend"]
    verdict = by["fig7c.jump"].verdict if "fig7c.jump" in by else "untested"
    steps = ", ".join(f"{fmt(v, 'pct')} at {e} epochs" for e, v in zip(x, y))
    said = {"stays": "stays where it is", "not measured": "is not measured at every rung"}.get(trend, trend)
    text = (f"**Ladder.** The share of runs that jump at α = {alpha_roles(cfg)['jump']:g}, ρ = {cfg.curve.rho:g} is {steps} "
            f"(paper: every run jumps; {metrics['ladder.fig7c.jump.num_runs']} runs per rung). With more epochs the "
            f"gap {said}.")
    if verdict != "reproduces" and trend == "widens":
        text += " The claim is therefore reported as not reproducing at this size, not as a budget artefact."
    elif verdict != "reproduces" and trend in ("reaches the paper", "closes toward the paper"):
        text += " The miss at this budget is a budget effect: longer training moves the students toward the paper."
    elif verdict != "reproduces" and trend == "stays":
        text += " Longer training alone does not move it: the budget is not why it misses."
    return text


def derive_ladder(tables: dict, cfg: ReluConfig) -> Part:
    """The ladder's table (empty without a ladder) and its record in claims.json."""
    ladder = jump_ladder_table(tables.get("ladder_curves"), cfg)
    return Part(metrics=ladder_metrics(ladder), tables={"ladder": ladder})


FIGURE = Figure("ladder", "A ladder in training time for fig7c.jump", derive=derive_ladder)
