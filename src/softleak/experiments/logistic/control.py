"""The control the paper's code runs but does not show: the same student fitted to the teacher's logits shuffled
within each class labels held-out data at chance, everywhere (spec §3.6): what leaks is the pairing of each logit
with its own input."""

from __future__ import annotations

import pandas as pd

from ...chapters import Figure, Part, Verdicts
from ...claims import Claim
from ...metrics import FULL
from ...rules import AllOf, Below, ClaimSpec, Equivalent, Evidence, fmt
from .config import LogisticConfig

SHUFFLE_BAND = 0.02  # book: the shuffled student's pooled held-out accuracy within 2 points of chance ½


SHUFFLE_SPEC = ClaimSpec(
    "control.shuffle",
    "Control: the student fitted to logits shuffled within each class labels held-out data at chance, everywhere",
    "not in the paper's figures (the authors' code runs it)",
    AllOf(
        Equivalent.margin("shuffled.acc_test_S.pooled", 0.5, SHUFFLE_BAND, "chance", "chance ½, a book margin",
                          label="held-out accuracy pooled over all cells, per seed", unit="pct"),
        Below("shuffled.acc_test_S.max_cell", FULL, "paper",
              "no cell reaches full recovery (0.99); the best cell is chosen on the first half of the seeds and "
              "decided on the other half, so that its selection does not bias its interval",
              label="the best cell's held-out accuracy, on the seeds not used to choose it", unit="pct"),
    ),
    kind="book",
)


def shuffle_claims(runs: pd.DataFrame, cfg: LogisticConfig, means: pd.DataFrame) -> tuple[list[Claim], dict[str, Evidence]]:
    """The within-class shuffle control (spec §3.6): the pairing of logit and input carries the leak."""
    sh = runs[(runs["d"] == cfg.d) & runs["shuffled"]]
    held_out = sh["n"] - sh["m_train"]
    hits = (sh["acc_test_S"] * held_out).groupby(sh["seed"]).agg(lambda x: x.sum(skipna=False))  # a missing run: NaN
    pooled = hits / held_out.groupby(sh["seed"]).sum()
    ev = {
        "shuffled.acc_test_S.pooled": Evidence.samples(pooled, unit="pct", detail="weighted by held-out points"),
        "shuffled.acc_test_S.max_cell": best_cell_split(sh, "acc_test_S"),
    }
    return [SHUFFLE_SPEC.check(ev)], ev


def best_cell_split(table: pd.DataFrame, col: str) -> Evidence:
    """The best (α, ρ) cell of ``col``, chosen on the seed means of the first half of the seeds (sorted) and
    read over the other half, whose interval its selection does not bias (a split, not a Bonferroni
    correction over hundreds of cells). With fewer than three seeds left it decides nothing."""
    seeds = sorted(table["seed"].unique())
    if table[col].isna().any():
        return Evidence.none(f"{int(table[col].isna().sum())} runs missing", unit="pct")
    if len(seeds) < 2:
        return Evidence.none("fewer than two seeds: nothing to choose on and decide on apart", unit="pct")
    choose, decide = seeds[: len(seeds) // 2], seeds[len(seeds) // 2:]
    cells = table[table["seed"].isin(choose)].groupby(["alpha", "rho"])[col].mean()
    alpha, rho = cells.idxmax()
    cell = table[(table["alpha"] == alpha) & (table["rho"] == rho) & table["seed"].isin(decide)]
    return Evidence.samples(cell.set_index("seed")[col].reindex(decide), unit="pct",
                            detail=f"α = {fmt(alpha)}, ρ = {rho:g}: best of {len(cells)} cells on seeds "
                                   f"{', '.join(map(str, choose))}, read on seeds {', '.join(map(str, decide))}")


def derive(tables: dict, cfg: LogisticConfig) -> Part:
    """The shuffle control's claim."""
    return Part(*shuffle_claims(tables["runs"], cfg, tables["means"]))


def read(v: Verdicts) -> str:
    """The page's sentence on the shuffle control."""
    return v.say(
        "control.shuffle",
        reproduces="Shuffling the logits within each class removes the leak: what leaks is the pairing of "
                   "each logit with its own input.",
        fails="The shuffle control does not sit at chance in this run.",
        inconclusive="The shuffle control is not settled by this run.",
        untested="The shuffle control is not tested at this preset.",
    )


FIGURE = Figure("control", "Control: logits shuffled within each class",
                derive=derive, read=read, needs="control.shuffle")
