"""The premise ladder (Fig. 3A at the paper's size): more transformer teacher runs at other moduli and sizes, up to
the paper's configuration, where teachers ① and ② must memorize without generalizing and ③ generalize. At smaller
presets the ladder stops below it and the claim is not tested."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ...chapters import Figure, Part
from ...claims import Claim
from ...rules import AllOf, AtLeast, Below, ClaimSpec, Evidence, fmt
from .common import LOW, samples
from .config import GENERALIZED, PAPER_FRAC, PRESETS, TEACHERS, ModularConfig


def premise_table(premise: pd.DataFrame) -> pd.DataFrame:
    """The premise ladder, one row per (P, configuration, teacher k): seed means of the checkpoint's epoch and
    accuracies, the number of seeds, and whether it is the paper's configuration (P = 113, d_model 128, 30 %)."""
    if premise.empty:
        return pd.DataFrame(columns=["P", "frac", "d_model", "teacher", "epoch", "acc_val_T", "acc_fresh_T",
                                     "acc_mirror_T", "num_seeds", "met", "paper_config"])
    g = premise.groupby(["P", "frac", "d_model", "teacher"], sort=True)
    t = g[["epoch", "acc_star_T", "acc_val_T", "acc_fresh_T", "acc_mirror_T"]].mean()
    t["num_seeds"] = g["seed"].nunique()
    t["met"] = g["met"].all()
    t = t.reset_index()
    paper = PRESETS["paper"].transformer
    t["paper_config"] = (t["P"] == paper.P) & np.isclose(t["frac"], paper.frac) & (t["d_model"] == paper.d_model)
    return t


def premise_specs() -> list[ClaimSpec]:
    """The premise at the paper's configuration, read off the ladder's rung there."""
    paper = PRESETS["paper"].transformer
    return [ClaimSpec(
        "fig3a.premise_paper_size", f"At the paper's size and configuration (P = {paper.P}, d_model {paper.d_model}, "
        f"{fmt(PAPER_FRAC, 'pct')} of the pairs) and the authors' epochs ({', '.join(paper.stops)}), teachers ① and ② "
        "memorize without generalizing and ③ generalizes",
        "① and ② (epochs 2 500 and 5 000 in the authors' code) memorize without generalizing, ③ (10 000) generalizes (§4)",
        AllOf(Below("premise.paper.teacher1.acc_val_T", LOW, "book", "'non-generalizing': wrong on most unseen pairs",
                    label="acc_val_T of ① at the paper's configuration", unit="pct"),
              Below("premise.paper.teacher2.acc_val_T", LOW, "book", "'non-generalizing': wrong on most unseen pairs",
                    label="acc_val_T of ② at the paper's configuration", unit="pct"),
              AtLeast("premise.paper.teacher3.acc_val_T", GENERALIZED, "book", "'generalizes': ≈ 1 less 5 points",
                      label="acc_val_T of ③ at the paper's configuration", unit="pct")), kind="book")]


def premise_claims(out: dict[str, pd.DataFrame], cfg: ModularConfig) -> tuple[list[Claim], dict[str, Evidence]]:
    """The premise at the paper's configuration: its teachers ① ② ③ (at ``paper``; at smaller presets the ladder
    stops below it and the claim is not tested)."""
    premise = out.get("premise", pd.DataFrame())
    paper = PRESETS["paper"].transformer
    ev: dict[str, Evidence] = {}
    rows = (premise[(premise["P"] == paper.P) & np.isclose(premise["frac"], paper.frac)
                    & (premise["d_model"] == paper.d_model)] if len(premise) else premise)
    for k in TEACHERS:
        r = rows[rows["teacher"] == k] if len(rows) else rows
        ev[f"premise.paper.teacher{k}.acc_val_T"] = (
            samples(r.set_index("seed")["acc_val_T"], detail="over seeds") if len(r)
            else Evidence.none("the ladder stops below the paper's configuration at this preset", unit="pct"))
    return [spec.check(ev) for spec in premise_specs()], ev


def premise_metrics(out: dict[str, pd.DataFrame]) -> dict[str, object]:
    """The ladder as lists for claims.json: P, and acc_val_T, fresh accuracy and epoch of ① ② ③ per rung."""
    table = premise_table(out.get("premise", pd.DataFrame()))
    m: dict[str, object] = {}
    rungs = table[table["teacher"] == 1].sort_values(["P", "d_model"])
    m["premise.P"] = [int(p) for p in rungs["P"]]
    m["premise.paper_config"] = [bool(v) for v in rungs["paper_config"]]
    m["premise.num_seeds"] = [int(v) for v in rungs["num_seeds"]]
    for k in TEACHERS:
        t = table[table["teacher"] == k].sort_values(["P", "d_model"])
        for col in ("acc_val_T", "acc_fresh_T", "acc_mirror_T", "epoch"):
            m[f"premise.teacher{k}.{col}"] = [float(v) for v in t[col]]
    return m


def derive_premise(tables: dict, cfg: ModularConfig) -> Part:
    """The premise claim (with the transformer), the ladder's numbers, and its table (``premise``: one row per rung
    and teacher, in place of the runs' checkpoints of the ladder, which only this figure reads)."""
    part = Part(metrics=premise_metrics(tables), tables={"premise": premise_table(tables.get("premise", pd.DataFrame()))})
    if "transformer" in cfg.archs:
        part.claims, part.evidence = premise_claims(tables, cfg)
    return part


FIGURE = Figure("premise", "The premise ladder: teachers ① ② ③ up to the paper's size", derive=derive_premise)
