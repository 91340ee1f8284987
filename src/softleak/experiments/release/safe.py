"""What a "safe" release would have to satisfy: "stopped" and "safe" are margins, not absences. The page's caveats
on the verdicts of §1 and §2: recipes the rules call stopped that the audit still flags for every teacher, recipes
whose students were still gaining at the end of their budget, and how many claims read runs that had not
converged."""

from __future__ import annotations

from ...chapters import Figure, Part, Verdicts
from .config import MODES, ReleaseConfig


def derive_safe(tables: dict, cfg: ReleaseConfig) -> Part:
    """The number of the page's claims left inconclusive because a run they read had not converged (the claims of
    §1 and §2, the figures before it)."""
    claims = tables["claims"]
    return Part(metrics={"num_unconverged_claims": sum(c.note.startswith("not converged") for c in claims)})


def read_safe(v: Verdicts) -> list[str]:
    """The page's caveats: a stopped leak the audit still sees, and recipes still rising at the end of the budget."""
    metrics, text = v.metrics, []
    flagged = metrics.get("random.stopped_but_audit_leaks") or []
    if flagged:
        text.append(f"The advantage rule calls the leak of {', '.join(flagged)} stopped at the jump α (within 5 % of "
                    "trivial), yet the audit says 'leaks' for every teacher: the students still rank the held-out "
                    "labels above fresh ones (the exposure gap), a residue the accuracy does not show. 'Stopped' is a "
                    "margin, not an absence.")
    rising = (metrics.get("random.num_still_rising") or 0) + sum(metrics.get(f"canary.{m}.num_still_rising") or 0 for m in MODES)
    if rising:
        text.append(f"{rising} recipe(s) were still gaining held-out accuracy in the last fifth of the student budget "
                    "(marked in the tables): with a longer budget they may leak more than shown.")
    return text


FIGURE = Figure("safe", "What a safe release would have to satisfy", derive=derive_safe, read=read_safe)
