"""Beyond the workshop: do the logit and the similarity student of one teacher get the same held-out samples
right?"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ...chapters import Figure, Part, Verdicts
from ...rules import Above, ClaimSpec, Evidence, per_teacher
from .common import check_claims, same_teachers, unfitted_teachers


def overlap_table(heldout: pd.DataFrame) -> pd.DataFrame:
    """Per dataset, ρ and init k: how often the logit student k and the similarity student k (and logit
    students k and k + 1) are both right on a held-out sample, against the product of their accuracies."""
    rows = []
    if heldout.empty or "kind" not in heldout:
        return pd.DataFrame(rows)
    piv = heldout.pivot_table(index=["seed", "rho", "sample"], columns=["kind", "init"], values="correct", aggfunc="first")
    for (seed, rho), g in piv.groupby(level=["seed", "rho"]):
        inits = sorted({k for kind, k in g.columns if kind == "logit"})
        for k in inits:
            pairs = [("logit–similarity", ("logit", k), ("sim", k))]
            if ("logit", k + 1) in g.columns:
                pairs.append(("logit–logit", ("logit", k), ("logit", k + 1)))
            for name, a, b in pairs:
                if b not in g.columns or g[b].isna().all() or g[a].isna().all():
                    continue  # e.g. a ρ at which no similarity student ran
                x, y = g[a].astype(float), g[b].astype(float)
                expected = x.mean() * y.mean()
                rows.append({"seed": seed, "rho": rho, "init": k, "pair": name, "both": float((x * y).mean()),
                             "expected": expected, "ratio": float((x * y).mean() / expected) if expected > 0 else np.nan})
    return pd.DataFrame(rows)


OVERLAP_SPEC = ClaimSpec(
    "overlap.beyond_chance", "The logit and the similarity student of one teacher get the same held-out samples right "
    "more often than two independent students with their accuracies would",
    "left open ('we leave [the overlap] to future work')",
    Above("overlap.ratio", 1.0, "chance", "1: both right as often as the product of their accuracies",
          label="P(both right) / (acc_logit · acc_similarity)"), kind="book")


def derive(tables: dict, cfg) -> Part:
    """The overlap's claim, its mean ratio per pair of students, and its table (``overlap``)."""
    main = tables["main"]
    ov = overlap_table(tables["heldout"])
    ls = ov[ov["pair"] == "logit–similarity"] if not ov.empty else ov
    ev = {"overlap.ratio": (per_teacher(ls, "ratio", unit="num", detail="mean over inits and the ρ grid")
                            if same_teachers(main) else Evidence.none("the two students' retrained teachers differ"))
          if not ls.empty else Evidence.none()}
    claims = check_claims([OVERLAP_SPEC], ev, cfg, {OVERLAP_SPEC.id: unfitted_teachers(main, ("capacity", "sim"))})
    metrics = {}
    if not ov.empty:
        for pair, g in ov.groupby("pair"):
            metrics[f"overlap.{'logit_sim' if 'sim' in pair else 'logit_logit'}.ratio"] = float(g["ratio"].mean())
    return Part(claims, ev, metrics, {"overlap": ov})


def read(v: Verdicts) -> str:
    """Whether the two kinds of students share what they know."""
    r = v.metrics.get("overlap.ratio")
    return {"reproduces": f"The two kinds of students share what they know: they are both right on a held-out "
                          f"sample {r:.2f}× as often as independent students with their accuracies would be.",
            "fails": f"The two kinds of students do not share their correct answers beyond chance (ratio {r:.2f}).",
            "inconclusive": f"Whether the two kinds of students share their correct answers is not settled "
                            f"(ratio {r:.2f}).",
            "untested": "The overlap of the two students could not be measured at this preset."}[v[OVERLAP_SPEC.id]]


FIGURE = Figure("overlap", "Beyond the workshop: do the two students know the same things?",
                derive=derive, read=read, needs=OVERLAP_SPEC.id)
