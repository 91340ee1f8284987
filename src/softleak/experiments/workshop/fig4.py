"""Fig. 4: structured data: a teacher memorizes 80 % of the images, clean (A), labels shuffled (B), pixels shuffled
(C) or both (D); students learn its soft labels."""

from __future__ import annotations

import pandas as pd

from ...chapters import Figure, Part
from ...rules import AllOf, Above, ClaimSpec, Evidence, per_teacher
from .common import MIN_GAIN, check_claims
from .config import VARIANTS


def structured_evidence(st: pd.DataFrame) -> dict[str, Evidence]:
    """Fig. 4 at the largest ρ, over teachers (seeds). A teacher that did not fit trains no students: the
    evidence is read on the teachers that did, and :func:`unfitted_structured` makes the claims it bears on
    inconclusive (not converged) rather than decided without it."""
    keys = ("structured.A.gap", "structured.B.gap", "structured.C.gap", "structured.D.gap", "structured.D_minus_B")
    if st.empty or "acc_test_S" not in st:
        return {k: Evidence.none() for k in keys}
    top = st[st["rho"] == st["rho"].max()]
    ev = {}
    for v in VARIANTS:
        t = top[top["variant"] == v]
        ev[f"structured.{v}.gap"] = per_teacher(t.assign(gap=t["acc_test_S"] - t["acc_trivial_T"]), "gap",
                                                detail=f"({v}) at ρ = {st['rho'].max():g}, against the teacher's trivial")
    piv = top.pivot_table(index="seed", columns="variant", values="acc_test_S", dropna=False)
    piv = piv.reindex(columns=["B", "D"])
    diff = (piv["D"] - piv["B"]).dropna()  # the seeds whose (B) and (D) teachers both fitted
    ev["structured.D_minus_B"] = Evidence.samples(diff, unit="pct", of="teachers",
                                                  detail="labels and pixels shuffled − labels shuffled, per seed")
    return ev


STRUCTURED_SPECS = [
    ClaimSpec("structured.clean_beats_trivial", "Clean data: with enough data the student beats the teacher's trivial "
              "accuracy on the held-out memorized images", "'the student also surpasses this trivial accuracy' "
              "(Fig. 4 A; CIFAR-10 trivial ≈ 52 %)",
              Above("structured.A.gap", 0.0, "paper", "the teacher's accuracy on the other 20 %",
                    label="(A) acc_test_S − trivial at the largest ρ", unit="pct")),
    ClaimSpec("structured.randomised_leak", "Shuffled labels, shuffled pixels, or both: every student is above trivial",
              "'All students are able to reach a non-trivial accuracy' (Fig. 4 B–D)",
              AllOf(*[Above(f"structured.{v}.gap", 0.0, "chance", "the teacher's accuracy on the other 20 %",
                            label=f"({v}) acc_test_S − trivial", unit="pct") for v in "BCD"])),
    ClaimSpec("structured.both_no_hurt", "Randomising both labels and inputs improves the student over randomising the "
              "labels alone", "'randomizing both labels and inputs of the images actually improves the student's "
              "ability to predict the test data' (Fig. 4 D)",
              Above("structured.D_minus_B", MIN_GAIN, "book", "a gain of (D) over (B) of at least 2 points, the smallest "
                    "difference the book calls 'improves'", label="(D) − (B) acc_test_S at the largest ρ", unit="pct")),
]


def unfitted_structured(st: pd.DataFrame) -> dict[str, list[str]]:
    """Per claim of Fig. 4, the teachers of the variants it reads that did not fit their data."""
    by = {}
    if not st.empty and "teacher_reached_100" in st:
        bad = st[~st["teacher_reached_100"].astype(bool)].drop_duplicates(["variant", "seed"])
        for s in STRUCTURED_SPECS:
            variants = {"structured.clean_beats_trivial": "A", "structured.randomised_leak": "BCD",
                        "structured.both_no_hurt": "BD"}[s.id]
            by[s.id] = [f"teacher ({v}) of seed {k} did not fit its data" for v, k in zip(bad["variant"], bad["seed"])
                        if v in variants]
    return by


def structured_metrics(st: pd.DataFrame) -> dict[str, object]:
    """Per variant: the student at the largest ρ, the teacher's trivial accuracy, its epochs and how many fitted."""
    metrics = {}
    if not st.empty:
        top = st[st["rho"] == st["rho"].max()]
        for v in VARIANTS:
            t, every = top[top["variant"] == v], st[st["variant"] == v]
            metrics[f"structured.{v}.acc_test_S"] = float(t["acc_test_S"].mean()) if not t.empty else None
            metrics[f"structured.{v}.acc_trivial"] = float(every.groupby("seed")["acc_trivial_T"].first().mean())
            metrics[f"structured.{v}.teacher_steps"] = int(every["teacher_steps"].max())
            metrics[f"structured.{v}.teachers_fit"] = f"{int(every.groupby('seed')['teacher_reached_100'].first().sum())} " \
                                                      f"of {every['seed'].nunique()}"
    return metrics


def derive(tables: dict, cfg) -> Part:
    """Fig. 4's claims and the numbers the page glues."""
    st = tables["structured"]
    ev = structured_evidence(st)
    claims = check_claims(STRUCTURED_SPECS, ev, cfg, unfitted_structured(st))
    return Part(claims, ev, structured_metrics(st))


FIGURE = Figure("fig4", "Fig. 4: structured data", derive=derive)
