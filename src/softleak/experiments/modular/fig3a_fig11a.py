"""Fig. 3A (transformer) and Fig. 11A (MLP): the teachers. Every teacher run fits D*^T; checkpoints ① and ② memorize
without generalizing, far below ③; the run generalizes long after it fits (grokking); and for the transformer, ①'s
accuracy on D_val is commutativity (the mirrored pairs), not the rule of addition. One code draws both figures."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ...chapters import Figure, Part, Verdicts
from ...claims import Claim
from ...metrics import FULL
from ...rules import MOST_RUNS, AllOf, AtLeast, AtMost, Below, ClaimSpec, Evidence, fmt
from .common import ARCH, DELAY, LOW, SAID, flag_text, post_hoc_flags, samples
from .config import ARCHS, GENERALIZED, TEACHERS, ArchConfig, ModularConfig, parse_stop

GAP_TO_THIRD = 0.5  # book: ① ② "memorize", ③ "generalizes": ③'s acc_val_T at least 50 points above ②'s
MIRROR_RECALL = 0.8  # book: the fitted transformer answers most mirrored D_val pairs (b, a) from memory
FRESH_CHANCE = 0.05  # book: "at chance" on fresh pairs read as below 5 % (chance 1/P ≈ 1–2 %)
PARTIAL = 0.1  # book: a memorizing teacher above this on D_val "already gets a good part of it right" (the prose)


def fit_is_premise(a: ArchConfig) -> bool:
    """True when every checkpoint is taken by a rule that needs the teacher to have fitted D*^T (``fit*N``,
    ``train>=…``): then "every checkpoint has fitted" is true by the setup, a premise, not a finding."""
    return all(parse_stop(r)[0] in ("fit", "train") for r in a.stops)


def teacher_specs(arch: str, premise: bool = False) -> list[ClaimSpec]:
    """The teachers' claims of one architecture; ``premise``: "every checkpoint has fitted" holds by the setup."""
    pre, fig, name = ARCH[arch]
    return [
        ClaimSpec(f"{fig}a.fit", f"{name} teachers: every checkpoint ① ② ③ has fitted D*^T",
                  "D*^T is fitted to 100 % early (Fig. 3A / 11A)",
                  AtLeast(f"{pre}.teachers_fitted", MOST_RUNS, "paper",
                          f"every run's checkpoints at acc_star_T ≥ {fmt(FULL, 'pct')}: the share of runs above one half "
                          "with 95 % confidence", label="share of teacher runs with every checkpoint fitted", unit="pct"),
                  kind="premise" if premise else "paper"),
        ClaimSpec(f"{fig}a.memorize", f"{name} teachers: ① and ② memorize without generalizing, far below ③",
                  "① and ② memorize to different degrees, ③ generalizes (§4; MLP: 'almost none, very weak and good')",
                  AllOf(Below(f"{pre}.teacher1.acc_val_T", LOW, "book", "'non-generalizing': wrong on most unseen pairs",
                              label="acc_val_T of ①", unit="pct"),
                        Below(f"{pre}.teacher2.acc_val_T", LOW, "book", "'non-generalizing': wrong on most unseen pairs",
                              label="acc_val_T of ②", unit="pct"),
                        AtLeast(f"{pre}.teacher3_minus_2.acc_val_T", GAP_TO_THIRD, "book",
                                "③ generalizes where ② does not", label="acc_val_T of ③ − ②, paired by seed",
                                unit="pct"))),
        *([ClaimSpec(f"{fig}a.mirror", "transformer teacher ①: its acc_val_T is commutativity, not the rule of "
                     "addition: it answers the D_val pairs (b, a) whose mirror (a, b) it memorized, and fresh pairs at chance",
                     "not reported (the paper reads ① and ② as memorizing; §4)",
                     AllOf(AtLeast(f"{pre}.teacher1.acc_mirror_T", MIRROR_RECALL, "book",
                                   "most mirrored pairs answered from memory", label="acc on mirrored D_val pairs at ①",
                                   unit="pct"),
                           AtMost(f"{pre}.teacher1.acc_fresh_T", FRESH_CHANCE, "chance",
                                  f"'at chance': below {fmt(FRESH_CHANCE, 'pct')}", label="acc on fresh D_val pairs at ①",
                                  unit="pct")), kind="book")] if arch == "transformer" else []),
        ClaimSpec(f"{fig}a.delayed", f"{name} teachers: the teacher run generalizes, long after it has fitted D*^T",
                  "the teacher quickly fits the training set, generalization is delayed (§4, grokking)",
                  AtLeast(f"{pre}.teacher.grokked_late", MOST_RUNS, "book",
                          f"every run reaches acc_val_T ≥ {fmt(GENERALIZED, 'pct')} at ≥ {DELAY:g}× the epoch it fits: the "
                          "share of runs above one half with 95 % confidence",
                          label="share of teacher runs that generalize late", unit="pct")),
    ]


def teacher_claims(out: dict[str, pd.DataFrame], cfg: ModularConfig, arch: str) -> tuple[list[Claim], dict[str, Evidence]]:
    """Fig. 3A (transformer) or Fig. 11A (MLP): the three checkpoints of each teacher run.

    ③'s own validation accuracy is not a claim where ③ is *defined* by reaching it (a ``val>=`` stop
    rule): the run's grokking is read from its curve instead (``a.delayed``)."""
    pre, _, _ = ARCH[arch]
    ck = out["checkpoints"][out["checkpoints"]["arch"] == arch]
    curve = out["teacher_curve"][out["teacher_curve"]["arch"] == arch]
    per = {k: ck[ck["teacher"] == k].set_index("seed").sort_index() for k in TEACHERS}
    ev: dict[str, Evidence] = {}
    run_fitted = (ck["acc_star_T"] >= FULL).groupby(ck["seed"]).all()  # a teacher run: its three checkpoints
    ev[f"{pre}.teachers_fitted"] = (Evidence.share_of(run_fitted.to_numpy(), of="teacher runs", detail=(
        f"{int(run_fitted.sum())} of {len(run_fitted)} teacher runs; {int((ck['acc_star_T'] >= FULL).sum())} of "
        f"{len(ck)} checkpoints")) if len(ck) else Evidence.none("no teacher ran"))
    for k in TEACHERS:
        for col in ("acc_star_T", "acc_val_T", "acc_fresh_T", "acc_mirror_T"):
            ev[f"{pre}.teacher{k}.{col}"] = samples(per[k][col])
        ev[f"{pre}.teacher{k}.epoch"] = samples(per[k]["epoch"], unit="num")
    ev[f"{pre}.teacher3_minus_2.acc_val_T"] = samples(per[3]["acc_val_T"] - per[2]["acc_val_T"], detail="paired by seed")
    fit_ep, grok_ep = _first_epochs(curve, "acc_star_T", FULL), _first_epochs(curve, "acc_val_T", GENERALIZED)
    late = np.isfinite(fit_ep) & np.isfinite(grok_ep) & (grok_ep >= DELAY * fit_ep)  # never fits / generalizes: not late
    ev[f"{pre}.teacher.grokked_late"] = (Evidence.share_of(late.to_numpy(), of="teacher runs", detail=(
        f"{int(late.sum())} of {len(late)} teacher runs; fitted at epochs {', '.join(fmt(v) for v in fit_ep)}, generalized "
        f"at {', '.join(fmt(v) for v in grok_ep)} (∞ = not within the run)")) if len(late) else Evidence.none("no teacher ran"))
    step, end = _record_step(curve), float(curve["epoch"].max()) if len(curve) else 0.0
    ev[f"{pre}.teacher.fit_epoch"] = samples(fit_ep, unit="num", resolution=step, grid_end=end)
    ev[f"{pre}.teacher.grok_epoch"] = samples(grok_ep, unit="num", resolution=step, grid_end=end)
    flags = post_hoc_flags(cfg, arch)
    return [spec.check(ev, post_hoc=flag_text(flags, "frac", *(("stops",) if spec.id.endswith(".memorize") else ())))
            for spec in teacher_specs(arch, premise=fit_is_premise(cfg.arch(arch)))], ev


def _first_epochs(curve: pd.DataFrame, col: str, level: float) -> pd.Series:
    """Per seed: the first recorded epoch at which ``col`` reaches ``level`` (+inf if never within the run: a
    censored value, beyond the run's last epoch)."""
    hit = curve[curve[col] >= level].groupby("seed")["epoch"].min()
    return hit.reindex(sorted(curve["seed"].unique())).fillna(math.inf)


def _record_step(curve: pd.DataFrame) -> float:
    """The spacing of a curve's recorded epochs (the resolution of an epoch read off it); 0 if one record."""
    steps = np.diff(np.unique(curve["epoch"].to_numpy(float)))
    return float(steps.max()) if steps.size else 0.0


def derive_teachers(tables: dict, cfg: ModularConfig, arch: str) -> Part:
    """The teachers' claims of ``arch`` (nothing when it did not run)."""
    if arch not in cfg.archs:
        return Part()
    claims, ev = teacher_claims(tables, cfg, arch)
    return Part(claims, ev)


def read_teachers(v: Verdicts, arch: str) -> str:
    """The opening of the architecture's paragraph: whether ① and ② memorize, and what their D_val accuracy is made
    of (a paragraph of its own after the architecture before it)."""
    if arch not in v.cfg.archs:
        return ""
    pre, fig, name = ARCH[arch]
    metrics = v.metrics
    val1 = metrics.get(f"{pre}.teacher1.acc_val_T", float("nan"))
    text = [f"**{name}.** The premise, teachers ① and ② that memorize without generalizing while ③ generalizes, "
            f"{SAID[v[f'{fig}a.memorize']]} (acc_val_T of ① {fmt(val1, 'pct')}, of ② "
            f"{fmt(metrics.get(f'{pre}.teacher2.acc_val_T', float('nan')), 'pct')})."]
    fresh1 = metrics.get(f"{pre}.teacher1.acc_fresh_T", float("nan"))
    if np.isfinite(val1) and val1 >= PARTIAL and np.isfinite(fresh1) and fresh1 < PARTIAL:
        text.append(f"A memorizing teacher gets part of D_val right only through the mirrored pairs: on fresh "
                    f"pairs ① scores {fmt(fresh1, 'pct')}.")
    elif np.isfinite(val1) and PARTIAL <= val1 < LOW:
        text.append("At this size a 'memorizing' teacher already gets a good part of D_val right, so memorizing "
                    "here means well below ③, not at chance.")
    before = any(a in v.cfg.archs for a in ARCHS[:ARCHS.index(arch)])
    return ("\n\n" if before else "") + " ".join(text)


FIG3A = Figure("fig3a", "Fig. 3A: the transformer teachers",
               derive=lambda tables, cfg: derive_teachers(tables, cfg, "transformer"),
               read=lambda v: read_teachers(v, "transformer"))
FIG11A = Figure("fig11a", "Fig. 11A: the MLP teachers",
                derive=lambda tables, cfg: derive_teachers(tables, cfg, "mlp"), read=lambda v: read_teachers(v, "mlp"))
