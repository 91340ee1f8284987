"""The page's setting: each teacher memorizes its random data (the premise every other figure reads), and the
page's first sentence, over every claim of the workshop the chapter tests."""

from __future__ import annotations

import pandas as pd

from ...chapters import Figure, Part, Verdicts
from ...claims import Claim
from ...rules import AtLeast, ClaimSpec, Evidence
from .common import MOST


def teacher_claims(main: pd.DataFrame) -> tuple[list[Claim], dict[str, Evidence]]:
    """The premise: every teacher fits its random data (each experiment's retrain of it included)."""
    fits = main.groupby("seed")["teacher_reached_100"].all()  # every experiment's retrain of a teacher fitted
    ok = int(fits.sum())
    ev = {"teachers_fit": Evidence.share(ok, len(fits), of="teachers",
                                         detail=f"{ok} of {len(fits)} teachers; at most {int(main['teacher_steps'].max())} "
                                                "epochs")}
    spec = ClaimSpec("teachers_fit", "The teacher memorizes its random data: 100 % accuracy on all of it",
                     "100 % (§3: 'trained to reach perfect accuracy')",
                     AtLeast("teachers_fit", MOST, "paper", "every teacher at 100 %, decided as most teachers with 95 % "
                             "confidence: the Clopper–Pearson lower end of the share at 100 % above 50 %",
                             label="share of teachers at 100 %", unit="pct"))
    return [spec.check(ev)], ev


def derive(tables: dict, cfg) -> Part:
    """The teachers' claim, and the most epochs a teacher of the main setting took to fit."""
    main = tables["main"]
    claims, ev = teacher_claims(main)
    teachers = main.drop_duplicates(["experiment", "seed"])
    return Part(claims, ev, {"teacher.max_steps": int(teachers["teacher_steps"].max())})


def read(v: Verdicts) -> str:
    """How many of the workshop's claims tested here reproduce (and which do not)."""
    paper = [cl for cl in v.claims.values() if cl.kind == "paper"]
    ok = [cl for cl in paper if cl.verdict == "reproduces"]
    missed = [cl for cl in paper if cl.verdict == "fails"]
    return (f"Of the workshop's {len(paper)} claims tested here, {len(ok)} reproduce at this preset"
            + (f" and {len(missed)} do not ({', '.join(c.id for c in missed)})" if missed else "") + ".")


FIGURE = Figure("setting", "Setting: the teachers memorize their random data", derive=derive, read=read)
