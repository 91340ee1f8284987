"""The ladder of fig7c.jump: the jump panel's students trained for multiples of the student epochs, and the share
of runs that jump when training stops at each (its rungs are prefixes of one long run per seed); how its ×1 rung
compares with the claim's own runs; and the cost of the ladders the chapter's other misses would need."""
from __future__ import annotations

import numpy as np
import pandas as pd

from ...chapters import Figure, Part
from ...config import replace_checked
from ...rules import fmt
from .analysis import jump_stats
from .common import EVERY_RUN_LEVEL, role_runs
from .config import PRESETS, ReluConfig, alpha_roles, experiment_cells
from .fig7c import jump_evidence, jump_spec, jumped_fully
from .runs import cell_flop


def jump_ladder_table(curves: pd.DataFrame, cfg: ReluConfig) -> pd.DataFrame:
    """fig7c.jump's quantity at each rung of the epochs ladder: the share of runs that jump (as the claim
    reads it: a sudden rise to acc_test_S ≥ jump_level, ending with train and test at 100 %) when training
    stops at ``factor × student_steps``, with its Clopper–Pearson interval and the claim's whole rule on the rung's
    runs (:func:`~.fig7c.jump_evidence`, the claim's own reading); each rung is a prefix of the ladder's one long run
    per seed, whose acc_val_S is read where the prefix ends."""
    cols = ["factor", "epochs", "share", "low", "high", "num_runs", "jumped", "jumped_seeds", "verdict", "jump_epochs"]
    if curves is None or curves.empty or not cfg.jump_ladder:
        return pd.DataFrame(columns=cols)
    rule = jump_spec(cfg).rule
    rows = []
    for m in sorted(cfg.jump_ladder):
        t = m * cfg.student_steps
        runs = pd.DataFrame([{"seed": seed, "acc_val_S": float(c.sort_values("step")["acc_val_S"].iloc[-1]),
                              **jump_stats(c, cfg.jump_level)}
                             for seed, c in curves[curves["step"] <= t].groupby("seed")]).set_index("seed")
        ev = jump_evidence(runs)
        share, ok = ev["fig7c.jump.share"], jumped_fully(runs) == 1
        rows.append({"factor": m, "epochs": t, "share": share.value, "low": share.low, "high": share.high,
                     "num_runs": len(runs), "jumped": int(ok.sum()), "jumped_seeds": [int(x) for x in runs.index[ok]],
                     "verdict": rule.decide(ev).verdict, "jump_epochs": ", ".join(fmt(e) for e in runs["epoch"])})
    return pd.DataFrame(rows, columns=cols)


def jump_ladder_entry(table: pd.DataFrame, cfg: ReluConfig) -> list[dict]:
    """The ladder as one entry of the book's ladders (:func:`softleak.ladders.load`'s ``in_chapter``): its rungs
    with their intervals and the claim's verdict at each, the claim's edge (``EVERY_RUN_LEVEL``, the side its rule
    asks for), so that the one trend rule reads it and the page shows it beside the chapter's other ladders; none
    without a ladder."""
    if table.empty:
        return []
    paper = PRESETS["paper"]
    ratio = cfg.student_lr * cfg.student_steps / (paper.student_lr * paper.student_steps)
    rungs = [{"x": int(r.epochs), "label": f"×{int(r.factor)}: {int(r.epochs)} epochs", "value": float(r.share),
              "low": float(r.low), "high": float(r.high), "n": int(r.num_runs), "verdict": r.verdict}
             for r in table.itertuples(index=False)]
    return [{"claim": "fig7c.jump", "kind": "ladder", "quantity": "share of runs that jump fully",
             "knob": "student epochs", "paper": EVERY_RUN_LEVEL, "side": "above", "unit": "pct",
             "blamed": "the student budget: runs that had not jumped yet when training stopped",
             "paper_setting": f"every run of panel C.3 jumps, at lr {fmt(paper.student_lr)} × {paper.student_steps} "
                              f"epochs (the ×1 rung is already {ratio:.0f}× that in lr × epochs)",
             "runs": f"one run per seed ({', '.join(str(s) for s in cfg.seeds)}); the rungs are prefixes of it",
             "rungs": rungs, "in_chapter": True}]


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


def ladder_reading(table: pd.DataFrame, jumps: pd.DataFrame, cfg: ReluConfig) -> str:
    """How the ladder's ×1 rung compares with the claim's own runs (Markdown, from the numbers): the same seeds,
    splits, inits and epochs, trained alone rather than in the main run's padded ensembles, so their rounding
    differs; where the outcome differs, the jump is that fragile at this α."""
    if table.empty:
        return "The `fig7c.jump` ladder does not run at this preset."
    first = table[table["factor"] == 1]
    own = role_runs(jumps, alpha_roles(cfg).get("jump"))
    if first.empty or own.empty:
        return ""
    k, n, ladder_seeds = int(first["jumped"].iloc[0]), int(first["num_runs"].iloc[0]), first["jumped_seeds"].iloc[0]
    ok = jumped_fully(own)
    own_seeds = [int(seed) for seed, v in zip(own.index, ok) if v == 1]
    seeds = lambda s: f" (seed{'s' if len(s) > 1 else ''} {', '.join(map(str, s))})" if s else ""  # noqa: E731
    text = (f"At ×1 the ladder's runs jump fully {k} of {n}{seeds(ladder_seeds)}; the claim's own runs, "
            f"{len(own_seeds)} of {int(np.isfinite(ok).sum())}{seeds(own_seeds)}. They are the same seeds, splits, "
            "initial weights and epochs, but the ladder trains each student alone and the main run in padded "
            "ensembles, whose float rounding differs.")
    if sorted(ladder_seeds) != sorted(own_seeds):
        text += (" That rounding alone changes which runs jump fully: at this α the jump sits on a knife edge, and a share "
                 f"over {n} runs moves with it. The ladder's trend is read on its own runs, rung against rung.")
    else:
        text += " Here it does not change which runs jump."
    return text


def derive_ladder(tables: dict, cfg: ReluConfig) -> Part:
    """The ladder's table (empty without a ladder); the page hands it to the book's ladders
    (:func:`jump_ladder_entry`), which record it in claims.json as every ladder is."""
    return Part(tables={"ladder": jump_ladder_table(tables.get("ladder_curves"), cfg)})


FIGURE = Figure("ladder", "A ladder in training time for fig7c.jump", derive=derive_ladder)
