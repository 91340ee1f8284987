"""Ladders: a failing claim's own quantity at growing sizes or budgets toward the paper's setting, or at both of two
definitions where the paper and the authors' code differ; built once, committed, read by the pages.

A **ladder** (:class:`Ladder`, ``kind="ladder"``) runs a chapter at rungs of its ``cpu`` config with one knob turned
toward the paper (d, epochs…), each rung narrowed to the runs the claim reads, and records the claim's evidence at
each: value, interval and number of runs. Its **trend** (:func:`trend`, declared once) says whether the distance to the paper's value **closes**, **stays** or
**widens** from the first rung to the last, beyond the rungs' own intervals, or is **unresolved** (it moved, but
within them). A gap that stays or widens is reported as not reproducing at these sizes, not as "too small".

A **both-ways** entry (``kind="both ways"``) runs the claim under two or more definitions (the book's and the authors'
code's: which ρ is small, where a student starts), and records the claim's evidence and verdict under each.

The ladders are too costly for the book's ``cpu`` budget, so they are built by ``python -m softleak.ladders build``
(``make ladders``) into ``ladders/<stem>.json`` at the repository root, with their provenance (commit, date, wall
time, the chapter's source fingerprint and the rungs' configs), and committed. A chapter page reads that file
(:func:`load`): it shows each ladder as a small figure beside the verdicts, records ``ladder.<claim id>.x``, ``.y``,
``.low``, ``.high``, ``.paper``, ``.trend`` (and ``both_ways.<claim id>.*``) in ``claims.json``, adds the trend to the
claim's note, and warns when the chapter's code or its ``cpu`` preset has changed since the file was built (stale).

This module is not imported by any chapter, so that building or reading ladders never changes a chapter's
fingerprint.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .config import check_choice
from .rules import LADDER_TOLERANCE, Claim, fmt

KINDS = ("ladder", "both ways")
SIDES = ("value", "above", "below")
BASE_PRESET = "cpu"
#: the three trends claims.json records (the issue that asked for ladders names them)
CLOSES, STAYS, WIDENS = "closes", "stays", "widens"
UNRESOLVED = "unresolved"  # it moved, but within the rungs' own spread
NOT_MEASURED = "not measured"


@dataclass(frozen=True)
class Ladder:
    """One claim's ladder (or both-ways comparison), declared before it runs.

    Attributes:
        claim: the claim id whose evidence is read at each rung, e.g. ``"c2.shuffle_direction"``.
        quantity: the name of the evidence record that decides it (the claim's own metric), e.g. ``"c2.shuffle_move"``.
        knob: what changes from rung to rung, for the axis, e.g. ``"d (input dimension)"``.
        rungs: ``rungs(base_cfg) -> [(x, label, overrides), …]``: each rung's x (a number, for a ladder), its label,
            and the overrides of the base preset's config it runs at (narrowed to the runs the claim reads).
        paper: the paper's value of the quantity, or the edge its statement sets (``side``).
        side: ``"value"`` (the paper reports this value), ``"above"`` (the paper says the quantity exceeds ``paper``)
            or ``"below"``; a quantity on the paper's side of an edge is at distance 0.
        unit: ``"pct"`` or ``"num"`` (how the page prints it).
        blamed: the cause the page names for the miss, which the ladder tests.
        paper_setting: the paper's value of the knob (for the text), e.g. ``"d = 1000"``.
        kind: ``"ladder"`` or ``"both ways"``.
        runs: how many independent runs each rung rests on (for the text; the evidence's ``n`` is recorded too).
        also: other evidence records to record at each rung (value, interval, runs): the claim's own other parts, for a
            claim whose verdict another part can decide (``("mlp.teacher3_minus_2.acc_val_T",)``), or another claim's
            of the same run, such as the premise the rungs may break (``("teachers_at_100",)``).
    """

    claim: str
    quantity: str
    knob: str
    rungs: Callable[[object], Sequence[tuple[float, str, Mapping]]]
    paper: float
    side: str = "value"
    unit: str = "num"
    blamed: str = ""
    paper_setting: str = ""
    kind: str = "ladder"
    runs: str = ""
    also: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        """``"<kind>: <claim>"``: a claim may have a ladder and a both-ways comparison."""
        return f"{self.kind}: {self.claim}"

    def __post_init__(self) -> None:
        check_choice("kind", self.kind, KINDS)
        check_choice("side", self.side, SIDES)
        check_choice("unit", self.unit, ("pct", "num"))


def entry_key(entry: Mapping) -> str:
    """The key of a built entry, as :attr:`Ladder.key`."""
    return f"{entry['kind']}: {entry['claim']}"


def distance(value: float, paper: float, side: str) -> float:
    """How far ``value`` is from the paper: ``|value − paper|`` for a reported value; for an edge (``side`` "above" or
    "below") 0 on the paper's side of it and the shortfall otherwise."""
    if value is None or not math.isfinite(value):
        return float("nan")
    if side == "above":
        return max(0.0, paper - value)
    if side == "below":
        return max(0.0, value - paper)
    return abs(value - paper)


def on_paper_side(entry: Mapping) -> bool:
    """Whether every rung of an entry is on the paper's side of its edge (distance 0): a ladder that "stays" there
    shows a claim that holds at every rung, not a gap that does not close."""
    return entry["side"] in ("above", "below") and bool(entry["rungs"]) and all(
        distance(r.get("value"), entry["paper"], entry["side"]) == 0.0 for r in entry["rungs"])


def _half_width(rung: Mapping) -> float:
    low, high = rung.get("low"), rung.get("high")
    if low is None or high is None or not (math.isfinite(low) and math.isfinite(high)):
        return 0.0
    return (high - low) / 2


def trend(rungs: Sequence[Mapping], paper: float, side: str = "value") -> str:
    """How the distance to the paper (:func:`distance`) moves from the first rung to the last, the one rule every
    ladder is read by (applied when a page reads the ladder, so a ladder file never carries an older rule's word):

    - ``stays``: it changed by at most the book's ladder tolerance (:data:`softleak.rules.LADDER_TOLERANCE`);
    - ``closes`` / ``widens``: it shrank / grew by more than that tolerance and more than the half-width of either
      rung's interval, so that seed noise between two rungs never reads as a trend;
    - ``unresolved``: it moved by more than the tolerance but less than the rungs' own spread (more runs per rung
      would tell);
    - ``not measured``: the first or last rung has no value.

    Args:
        rungs: ``[{"value", "low", "high"}, …]`` in rung order (low/high may be ``None``: no interval).
    """
    if len(rungs) < 2:
        return NOT_MEASURED
    first, last = rungs[0], rungs[-1]
    d0, d1 = distance(first.get("value"), paper, side), distance(last.get("value"), paper, side)
    if not (math.isfinite(d0) and math.isfinite(d1)):
        return NOT_MEASURED
    move = d1 - d0
    if abs(move) <= LADDER_TOLERANCE:
        return STAYS
    if abs(move) > max(_half_width(first), _half_width(last)):
        return CLOSES if move < 0 else WIDENS
    return UNRESOLVED


# ---------------------------------------------------------------------------------------------------
# The ladders each chapter declares (rungs are overrides of its cpu config)


from .ladder_rungs import (  # noqa: F401 (the rungs, and the edges tests read as ladders.<name>)
    _c2_taus, _multinomial_narrow, _shuffle_rungs, _order_rungs, _modular_threshold_rungs, _modular_block_rungs,
    _modular_top_rungs, LOW_VAL, GENERALIZED_VAL, BLOCK_GAP, RECOVERED_TEST, INDEPENDENT_SPREAD, FITTED, LEAK_RHO_CODE,
    _modular_leak_rungs, _class_range_rungs,
    _relu_width_narrow, _relu_width_rungs, _workshop_a3_narrow, _workshop_tau_rungs, _workshop_size_rungs,
    _mlp_teacher_rungs, _gpt2_size_rungs, _toy_teacher_rungs, PAPER_TOY_WIDTH
)


_LEAK_BLAMED = ("at the declared small ρ = 0.1 the student has too few pairs to leak; the authors' smallest ρ has "
                "191–383 pairs and their students start from their teacher's initial weights")

_TF_BUDGET_SETTING = "40 000 epochs at lr 10⁻³ (≈ ×2 of this budget in lr × epochs)"
_MLP_BUDGET_SETTING = "40 000 epochs at lr 10⁻³ (≈ ×1.6 of this budget in lr × epochs)"

LADDERS: dict[str, tuple[Ladder, ...]] = {
    "01_toy_2d": (
        Ladder("c3.soft_beats_independent", "c3.gap", "definition", _toy_teacher_rungs, paper=0.20, side="above",  # 50 − 30
               unit="pct", kind="both ways", also=("teachers_at_100",),
               blamed="the teacher: the book trains it until it fits D*^T (the paper's panel A), the authors' code a "
                      "fixed 4 000 epochs, which stops most teachers short of it (and sharpens those that fit "
                      "earlier); the paper's text gives p = 100, its code 150",
               paper_setting="the code: p = 150, teacher 4 000 epochs, τ = 10, one dataset (≈ 50 % vs ≈ 30 %)",
               runs="50 datasets"),
    ),
    "02_modular_addition": (
        Ladder("fig3b.tau0.1.threshold", "tf.lo.success.acc_val_S", "student budget (× the declared budget)",
               _modular_threshold_rungs, paper=0.95, side="above", unit="pct",
               blamed="the ρ = 0.675 students stop by the convergence rule on the plateau before they generalize; "
                      "the authors train a fixed 40 000 epochs",
               paper_setting=_TF_BUDGET_SETTING,
               runs="3 teachers × 3 seeds"),
        Ladder("fig11b.soft_labels_block", "mlp.block", "student budget (× the declared budget)",
               _modular_block_rungs, paper=BLOCK_GAP, side="above", unit="pct",
               blamed="teacher ①'s τ = 10 students at the largest ρ had not stopped moving at the end of the declared "
                      "budget (the claim reads inconclusive, not converged); the authors train a fixed 40 000 epochs",
               paper_setting=_MLP_BUDGET_SETTING, runs="3 seeds"),
        Ladder("fig11b.train", "mlp.train_fitted", "student budget (× the declared budget)", _modular_block_rungs,
               paper=FITTED, side="above", unit="pct",
               blamed="its only students that had not stopped moving are teacher ①'s τ = 10 ones at the largest ρ: the "
                      "block ladder's runs, read again (the ladder reads those settings, not the whole grid)",
               paper_setting=_MLP_BUDGET_SETTING, runs="3 seeds"),
        Ladder("fig3b.tau10.teacher2_copies", "tf.hi.teacher2.top.acc_test_S", "student budget (× the declared budget)",
               _modular_top_rungs, paper=RECOVERED_TEST, side="above", unit="pct",
               also=("tf.hi.teacher2.top.val_minus_T",),
               blamed="teacher ②'s τ = 10 student at the largest ρ (one seed) had not stopped moving at the end of the "
                      "declared budget; the authors train a fixed 40 000 epochs", paper_setting=_TF_BUDGET_SETTING,
               runs="3 seeds"),
        Ladder("fig3b.tau0.1.independent", "tf.lo.teacher_spread", "student budget (× the declared budget)",
               _modular_top_rungs, paper=INDEPENDENT_SPREAD, side="below", unit="pct",
               blamed="the τ = 0.1 students of every teacher at the largest ρ (one seed) had not stopped moving; the "
                      "ladder runs that ρ alone (the spread at the smaller ρ was read from converged students)",
               paper_setting=_TF_BUDGET_SETTING, runs="3 seeds"),
        Ladder("fig3b.train", "tf.train_fitted", "student budget (× the declared budget)", _modular_top_rungs,
               paper=FITTED, side="above", unit="pct",
               blamed="22 of the students it reads had not stopped moving; the ladder reads the 6 of them at the largest "
                      "ρ (the other 16, 14 at τ = 10 and ρ ≤ 0.675 and two of teacher ②'s at τ = 1, would take the "
                      "transformer's τ = 10 and τ = 1 grids at ×1, ×2 and ×4: seven times their cost in the chapter)",
               paper_setting=_TF_BUDGET_SETTING, runs="3 seeds"),
        *(Ladder(f"{fig}.tau10.teacher{k}_leaks", f"{arch}.hi.teacher{k}.small.leak", "definition",
                 _modular_leak_rungs, paper=0.05, side="above", unit="pct", blamed=_LEAK_BLAMED, kind="both ways",
                 paper_setting="ρ = 0.05 of 3 830 pairs, students from their teacher's initial weights",
                 runs="3 seeds")
          for fig, arch in (("fig3b", "tf"), ("fig11b", "mlp")) for k in (1, 2)),
        Ladder("fig11a.memorize", "mlp.teacher2.acc_val_T", "definition", _mlp_teacher_rungs, paper=LOW_VAL,
               side="below", unit="pct", kind="both ways", also=("mlp.teacher3_minus_2.acc_val_T",),
               blamed="teacher ② already generalizes: the book's ② is a checkpoint of one run at 20× its fit epoch, "
                      "on 50 % of the pairs; the authors' ② is a separate run of 10 000 epochs on 30 %",
               paper_setting="P = 113, 30 % of the pairs, separate runs of 5 000, 10 000, 20 000 epochs",
               runs="3 seeds"),
    ),
    "04_multinomial_scaling": (
        Ladder("c2.shuffle_direction", "c2.shuffle_move", "d (input dimension)", _shuffle_rungs, paper=0.0,
               side="above", blamed="size: thresholds in α are size-free to leading order, with a wider spread at "
                                    "small d", paper_setting="d = 1000", runs="3 seeds"),
        Ladder("scaling.order", "scaling.c2.order.window", "teacher and student epochs (× the preset's)",
               _order_rungs, paper=0.0, side="above",
               blamed="at c = 2 the student never recovers every held-out label within its epochs, so α_id^S lies "
                      "beyond the grid", paper_setting="5 000 teacher epochs (the code), 10 000 student epochs",
               runs="3 seeds"),
        Ladder("scaling.teacher_ln_c", "scaling.acc_star_T.cv_vs_sqrt", "largest class count c", _class_range_rungs,
               paper=0.0, side="below", blamed="with c ≤ 20, ln c and √c differ little, so the collapse rests on few "
                                               "points", paper_setting="c up to 50", runs="3 seeds"),
        Ladder("scaling.shuffle_sqrt_c", "scaling.shuffle_acc_train_S.x", "largest class count c", _class_range_rungs,
               paper=0.66, blamed="with c ≤ 20, ln c and √c differ little", paper_setting="c up to 50",
               runs="3 seeds"),
    ),
    "05_relu_mlp_jumps": (
        Ladder("fig21.width", "fig21.narrow_gain", "definition", _relu_width_rungs, paper=0.0, side="above", unit="pct",
               kind="both ways", blamed="the book trains students 18× longer in lr × epochs than the authors' code "
                                        "(3·10⁻³ × 6000 against 10⁻⁴ × 10 000), which favours wide students",
               paper_setting="Adam 10⁻⁴ × 10 000 epochs (main-fig_5-3.py)", runs="3 seeds"),
    ),
    "06_gpt2": (
        Ladder("fig9.offline.above_chance", "offline.rho0.2.acc_test_S", "depth, width, sentences and classes "
               "(× the preset's)", _gpt2_size_rungs, paper=0.213, side="above", unit="pct",
               also=("offline.rho0.2.test_minus_val",),
               blamed="the offline model is small and not pretrained: 2 layers × 64 with random weights, 1 000 "
                      "sentences, against pretrained GPT-2 small (12 × 768) on 6 000",
               paper_setting="pretrained GPT-2 small, 12 layers × 768, 6 000 sentences, 1 000 classes "
                             "(its acc_test_S at ρ = 0.2: 21.3 %)", runs="3 seeds"),
    ),
    "07_workshop": (
        Ladder("a3.tail_sharp_drop", "a3.tail.kept", "definition", _workshop_tau_rungs, paper=0.5, side="below",
               kind="both ways", blamed="the temperature: A.3's is not stated; the book uses the workshop's τ = 5 and "
                                        "A.1 says a higher τ is needed for the leak", paper_setting="not stated",
               runs="4 teachers"),
        Ladder("a3.tail_sharp_drop", "a3.tail.kept", "d (with samples per class and widths)", _workshop_size_rungs,
               paper=0.5, side="below", blamed="size: at c = 100 the workshop's 0.5 % tail is half an entry, and "
                                               "the book's teachers see 10 samples per class against its 100",
               paper_setting="d = 1000, 100 samples per class", runs="4 teachers"),
    ),
}


def declared(stem: str) -> tuple[Ladder, ...]:
    """The ladders ``stem`` declares (``()`` for a chapter without any)."""
    from .chapters import SECTIONS

    check_choice("section", stem, SECTIONS)
    return LADDERS.get(stem, ())


# ---------------------------------------------------------------------------------------------------
# Building


def ladder_path(stem: str, root: Path | None = None) -> Path:
    from .claims import repo_root

    return (root or repo_root()) / "ladders" / f"{stem}.json"


def rung_configs(stem: str, ladder: Ladder, base_preset: str = BASE_PRESET) -> list[tuple[float, str, object]]:
    """Each rung's (x, label, resolved config); bad overrides fail here, before any compute."""
    from . import presets

    base = presets.resolve(stem, base_preset)
    out = []
    for x, label, overrides in ladder.rungs(base):
        try:
            out.append((x, label, presets.resolve(stem, base_preset, **overrides)))
        except ValueError as err:
            raise ValueError(f"ladder of {ladder.claim}, rung {label!r}: {err}") from err
    return out


def _same_build(old: Mapping | None, entry: Mapping) -> bool:
    """Whether ``old`` (an entry of the file) holds the runs ``entry`` was just read from: the same source and the
    same rung configs."""
    return bool(old) and (old.get("provenance") or {}).get("source_fingerprint") == entry["provenance"][
        "source_fingerprint"] and [r["config"] for r in old["rungs"]] == [r["config"] for r in entry["rungs"]]


def _evidence(claims: Sequence[Claim], ladder: Ladder) -> dict:
    claim = next((c for c in claims if c.id == ladder.claim), None)
    if claim is None:
        raise ValueError(f"claim={ladder.claim!r} is not among the claims this rung's config makes "
                         f"({', '.join(c.id for c in claims)})")
    def record(name: str, own: bool = True) -> dict:
        # the claim's own evidence; an ``also`` part may be another claim's of the same run (e.g. its premise)
        rec = next((e for c in ([claim] if own else [claim, *claims]) for e in c.evidence if e["name"] == name), None)
        if rec is None:
            raise ValueError(f"quantity={name!r} is not evidence of claim {ladder.claim!r}"
                             + ("" if own else " nor of another claim of its run")
                             + f" (its evidence: {', '.join(e['name'] for e in claim.evidence)})")
        return {"value": num(rec["value"]), "low": num(rec.get("low")), "high": num(rec.get("high")),
                "n": int(rec.get("n") or 0), "censored": int(rec.get("censored") or 0)}

    def num(v):
        return None if v is None or not math.isfinite(float(v)) else float(v)

    out = {**record(ladder.quantity), "verdict": claim.verdict, "note": claim.note}
    if ladder.also:
        out["also"] = {name: record(name, own=False) for name in ladder.also}
    return out


def build(stem: str, *, claims: Sequence[str] | None = None, cache_dir: Path | None = None, workers: int | None = None,
          progress: bool = True, root: Path | None = None, base_preset: str = BASE_PRESET,
          ladders: Sequence[Ladder] | None = None) -> dict:
    """Run ``stem``'s ladders (or those of ``claims``) and write ``ladders/<stem>.json``.

    A rung's config that several ladders share runs once; its runs are cached under ``cache_dir`` (default
    ``results/<stem>/ladders/cache``), so an interrupted build resumes. Entries of the file that were not rebuilt are
    kept.

    Raises:
        ValueError: an unknown section or claim, or a rung whose overrides the chapter's config rejects, before any
            compute.
    """
    from .chapters import chapter
    from .claims import results_dir
    from .experiments import load_all
    from . import sweeps
    from .provenance import chapter_fingerprint, git_state, plain_config

    load_all()
    state = {**git_state(), "source_fingerprint": chapter_fingerprint(stem)}  # the code these runs are made with
    todo = list(ladders if ladders is not None else declared(stem))
    if claims:
        unknown = sorted(set(claims) - {lad.claim for lad in todo})
        if unknown:
            raise ValueError(f"claims={unknown!r} is not allowed: {stem} declares ladders for "
                             f"{', '.join(lad.claim for lad in todo) or 'no claim'}")
        todo = [lad for lad in todo if lad.claim in claims]
    rungs = {lad.key: rung_configs(stem, lad, base_preset) for lad in todo}  # every rung checked before any compute
    ch = chapter(stem)
    cache_dir = cache_dir or results_dir(stem, "ladders") / "cache"
    done: dict[str, tuple] = {}
    path = ladder_path(stem, root)
    old = json.loads(path.read_text()) if path.exists() else {}
    entries = {entry_key(e): e for e in old.get("ladders", [])}
    started = time.time()
    for lad in todo:
        t0 = time.time()
        points = []
        for x, label, cfg in rungs[lad.key]:
            key = json.dumps(plain_config(cfg), sort_keys=True)
            if key not in done:
                r0, swept = time.time(), len(sweeps.TIMINGS)
                out = ch.run(cfg, cache_dir=cache_dir, progress=progress, workers=workers)
                found, _, _ = ch.summarize(out, cfg)
                done[key] = (found, time.time() - r0, len(sweeps.TIMINGS) > swept)  # computed anything?
            found, seconds, computed = done[key]
            points.append({"x": x, "label": label, **_evidence(found, lad), "seconds": round(seconds, 1),
                           "computed": computed, "config": plain_config(cfg)})
        entry = {"claim": lad.claim, "quantity": lad.quantity, "kind": lad.kind, "knob": lad.knob, "paper": lad.paper,
                 "side": lad.side, "unit": lad.unit, "blamed": lad.blamed, "paper_setting": lad.paper_setting,
                 "runs": lad.runs, "rungs": points,
                 "provenance": {**state, "date": time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime()),
                                "seconds": round(time.time() - t0, 1), "workers": workers}}
        if lad.kind == "ladder":
            entry["trend"] = trend(points, lad.paper, lad.side)
        previous = entries.get(lad.key)
        if not any(p["computed"] for p in points) and _same_build(previous, entry):
            # read again from the cache of the same code: the runs are the ones built before, so is their record
            entry["provenance"] = previous["provenance"]
            for new, before in zip(points, previous["rungs"]):
                new["seconds"], new["computed"] = before.get("seconds"), before.get("computed", True)
        entries[lad.key] = entry
        if progress:
            print(f"{stem}: {lad.kind} of {lad.claim}: " + ", ".join(
                f"{p['label']}: {fmt(p['value'], lad.unit)}" for p in points) + (f" → {entry['trend']}" if "trend" in entry else ""))
    order = [lad.key for lad in declared(stem)] + [lad.key for lad in todo]
    payload = {
        "notebook": stem, "base_preset": base_preset,
        "provenance": {**state, "date": time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime()),
                       "seconds": round(time.time() - started, 1), "workers": workers,
                       "rebuilt": [lad.claim for lad in todo]},
        "ladders": sorted(entries.values(), key=lambda e: order.index(entry_key(e)) if entry_key(e) in order else len(order)),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, indent=1, default=str) + "\n")
    return payload


# ---------------------------------------------------------------------------------------------------
# Reading (the pages)


def _rung_name(label: str) -> str:
    """A ladder rung's short name: its label's part before a colon (``"×2: 4 layers × 128"`` -> ``"×2"``)."""
    return label.split(": ", 1)[0]


def _also(e: Mapping) -> list[str]:
    """The other parts of a claim an entry recorded at every rung (:attr:`Ladder.also`)."""
    return [name for name in (e["rungs"][0].get("also") or {})] if e["rungs"] and all(
        r.get("also") for r in e["rungs"]) else []


@dataclass
class Built:
    """A chapter's committed ladders as its page reads them: the file's entries, its provenance and why it is stale
    (empty: it matches this code and preset)."""

    stem: str
    entries: list[dict] = field(default_factory=list)
    provenance: dict = field(default_factory=dict)
    stale: list[str] = field(default_factory=list)
    stale_keys: set = field(default_factory=set)  # the entries (:func:`entry_key`) that are stale

    def metrics(self) -> dict[str, object]:
        """claims.json's record: ``ladder.<id>.x/.y/.low/.high/.n/.paper/.trend`` (and ``.knob``, ``.labels``) per
        ladder and ``both_ways.<id>.labels/.y/.low/.high/.n/.paper/.verdicts`` per comparison, with ``ladders.stale``."""
        out: dict[str, object] = {}
        for e in self.entries:
            pre = f"ladder.{e['claim']}" if e["kind"] == "ladder" else f"both_ways.{e['claim']}"
            rungs = e["rungs"]
            if e["kind"] == "ladder":
                out[f"{pre}.x"] = [r["x"] for r in rungs]
                out[f"{pre}.trend"] = e["trend"]
                out[f"{pre}.knob"] = e["knob"]
            else:
                out[f"{pre}.verdicts"] = [r["verdict"] for r in rungs]
            out[f"{pre}.labels"] = [r["label"] for r in rungs]
            out[f"{pre}.y"] = [r["value"] for r in rungs]
            out[f"{pre}.low"] = [r["low"] for r in rungs]
            out[f"{pre}.high"] = [r["high"] for r in rungs]
            out[f"{pre}.n"] = [r["n"] for r in rungs]
            out[f"{pre}.paper"] = e["paper"]
            out[f"{pre}.side"] = e["side"]
            out[f"{pre}.unit"] = e["unit"]
            for name in _also(e):
                for key in ("value", "low", "high"):
                    out[f"{pre}.also.{name}.{'y' if key == 'value' else key}"] = [r["also"][name][key] for r in rungs]
            out[f"{pre}.stale"] = entry_key(e) in self.stale_keys
        if self.entries:
            out["ladders.stale"] = bool(self.stale)
        return out

    def sentence(self, e: dict) -> str:
        """What the ladder (or comparison) says about the claim's miss, from its own numbers (Markdown)."""
        unit = e["unit"]
        steps = "; ".join(f"{r['label']}: {fmt(r['value'], unit)} [{fmt(r['low'], unit)}, {fmt(r['high'], unit)}]"
                          f" ({r['n']} runs)" for r in e["rungs"])
        edge = {"above": "above", "below": "below"}.get(e["side"])
        # an edge is the side of it the claim's statement asks for (the paper's, or the rule's reading of it)
        paper = f"the paper's side: {edge} {fmt(e['paper'], unit)}" if edge else f"the paper: {fmt(e['paper'], unit)}"
        short = (lambda r: r["label"]) if e["kind"] == "both ways" else (lambda r: _rung_name(r["label"]))
        steps += "".join(f". {name} at each: " + "; ".join(
            f"{short(r)}: {fmt(r['also'][name]['value'], unit)} [{fmt(r['also'][name]['low'], unit)}, "
            f"{fmt(r['also'][name]['high'], unit)}]" for r in e["rungs"]) for name in _also(e))
        verdicts = ", ".join(f"{short(r)}: {r['verdict']}"
                             + (" (not converged)" if str(r.get("note", "")).startswith("not converged") else "")
                             for r in e["rungs"])
        if e["kind"] == "both ways":
            return (f"**`{e['claim']}` both ways** (`{e['quantity']}`, {paper}): {steps}. The claim's rule under each: "
                    f"{verdicts}. What was blamed: {e['blamed']}.")
        toward = distance(e["rungs"][-1]["value"], e["paper"], e["side"]) < distance(e["rungs"][0]["value"],
                                                                                       e["paper"], e["side"])
        held = e["trend"] == STAYS and on_paper_side(e)
        said = {CLOSES: "**closes** toward the paper", WIDENS: "**widens**",
                STAYS: "**stays** at zero: the quantity is on the paper's side at every rung" if held else "**stays**",
                UNRESOLVED: f"is **unresolved**: it moves {'toward' if toward else 'away from'} the paper, but by less "
                            "than the rungs' own spread",
                NOT_MEASURED: "is not measured at every rung"}[e["trend"]]
        text = (f"**`{e['claim']}` ladder** (`{e['quantity']}` over {e['knob']}; {paper}; the paper's setting: "
                f"{e['paper_setting']}): {steps}. From the first rung to the last the gap {said}. The claim's rule at "
                f"each rung: {verdicts}.")
        if held:
            text += (f" What was blamed ({e['blamed']}) does not move the quantity off the paper's side over these "
                     "rungs; the claim's verdict at each rung is its rule's, as listed.")
        elif e["trend"] in (STAYS, WIDENS):
            text += (f" What was blamed ({e['blamed']}) does not close it over these rungs: the claim is reported as "
                     "not reproducing at these sizes, not as a size artefact.")
        elif e["trend"] == CLOSES:
            text += f" The miss moves toward the paper as {e['knob']} grows: what was blamed ({e['blamed']}) is borne out."
        elif e["trend"] == UNRESOLVED:
            text += (" The ladder neither shows the blamed cause closing the gap nor rules it out: more runs per rung "
                     "would tell; the claim keeps its verdict at this preset.")
        return text

    def note(self, cid: str) -> str:
        """The one-line addition to a claim's note (empty without a ladder)."""
        return "; ".join(self._note(e) for e in self.entries if e["claim"] == cid)

    def _note(self, e: dict) -> str:
        stale = " (stale: built on other code)" if entry_key(e) in self.stale_keys else ""
        runs = "/".join(str(r["n"]) for r in e["rungs"])
        if e["kind"] == "both ways":
            return (f"both ways{stale}: " + "; ".join(
                f"{r['label']}: {fmt(r['value'], e['unit'])}"
                + "".join(f", {name} {fmt(r['also'][name]['value'], e['unit'])}" for name in _also(e))
                + f" ({r['verdict']})" for r in e["rungs"]) + f"; {runs} runs")
        first, last = e["rungs"][0], e["rungs"][-1]
        said = ("is unresolved (it moves within the rungs' spread)" if e["trend"] == UNRESOLVED
                else "stays at zero (on the paper's side at every rung)" if e["trend"] == STAYS and on_paper_side(e)
                else e["trend"])
        return (f"ladder{stale} over {e['knob']}, {first['label']} → {last['label']} ({runs} runs): "
                f"{fmt(first['value'], e['unit'])} → {fmt(last['value'], e['unit'])}, the gap {said}")

    def annotate(self, claims: Sequence[Claim]) -> list[Claim]:
        """The claims with their ladder's line added to the note (verdicts unchanged: a ladder decides nothing)."""
        out = []
        for c in claims:
            extra = self.note(c.id)
            out.append(dataclasses.replace(c, note="; ".join(filter(None, (c.note, extra)))) if extra else c)
        return out

    def provenance_text(self) -> str:
        """Where each entry was built: commit, date and wall time (entries built together share one line)."""
        groups: dict[tuple, list[dict]] = {}
        own = [e for e in self.entries if (e.get("provenance") or {}).get("in_chapter")]
        for e in self.entries:
            if e in own:
                continue
            p = e.get("provenance") or self.provenance
            groups.setdefault((p.get("commit"), p.get("dirty"), p.get("source_fingerprint")), []).append(e)
        lines = []
        for (commit, dirty, source), es in groups.items():
            p = es[0].get("provenance") or self.provenance
            minutes = sum(float((e.get("provenance") or {}).get("seconds") or 0) for e in es) / 60
            dates = sorted({str((e.get("provenance") or p).get("date", ""))[:16].replace("T", " ") for e in es})
            names = ", ".join("`" + e["claim"] + "`" for e in es)
            lines.append(f"{names}: built by `make ladders ONLY={self.stem}` "
                         f"at commit {str(commit or 'no git')[:10]}{' (dirty tree)' if dirty else ''}, "
                         f"{' to '.join(dates[::max(1, len(dates) - 1)])} UTC, {minutes:.1f} min of wall time with "
                         f"{p.get('workers') or 'default'} workers (source {source})")
        if own:
            lines.insert(0, ", ".join("`" + e["claim"] + "`" for e in own) + ": trained by this page's own run "
                         "(the chapter's ladder), so always its code")
        return "Provenance: " + "; ".join(lines) + "." if lines else ""

    def markdown(self) -> str:
        """The page's section: provenance, a staleness warning, and one paragraph per ladder."""
        if not self.entries:
            return (f"This chapter's ladders have not been built: `make ladders ONLY={self.stem}` builds them."
                    if self.stale else "No ladder is declared for this chapter.")
        two = len(self.figures_kinds()) > 1
        parts = [f"*Figure{'s' if two else ''}: each claim's quantity per rung ("
                 + ("the ladders, then the both-ways comparisons; " if two else "")
                 + "dot: mean; bar: its 95 % interval over the rung's runs), the paper's value or the edge its "
                 f"statement sets as a dashed red line (shaded: the paper's side).* {self.provenance_text()}"]
        if self.stale:  # a notebook output is CommonMark (no MyST directive): the warning is a quote block
            parts.append("> **Warning: these ladders are stale.** " + "; ".join(self.stale)
                         + f". Rebuild them with `make ladders ONLY={self.stem}`.")
        parts += [self.sentence(e) for e in self.entries]
        return "\n\n".join(parts)

    def show(self) -> None:
        """The page's section in a notebook: the figure (one panel per entry), then :meth:`markdown`."""
        from IPython.display import Markdown, display

        from .plotting import plt

        for fig in self.figures():
            display(fig)
            plt.close(fig)
        display(Markdown(self.markdown()))

    def figures_kinds(self) -> list[str]:
        """The kinds of entry this chapter has, in figure order (a figure each)."""
        return [kind for kind in KINDS if any(e["kind"] == kind for e in self.entries)]

    def figures(self) -> list:
        """One small panel per entry (the quantity per rung with its interval, the paper's value or edge as a line):
        the ladders' figure (two panels to a row), then the both-ways comparisons' (one to a row, for the definitions'
        labels); none without entries."""
        from . import plotting

        return [plotting.ladders([e for e in self.entries if e["kind"] == kind]) for kind in self.figures_kinds()]


def summary(metrics: Mapping[str, object], cid: str) -> str:
    """What claim ``cid``'s ladder and both-ways runs say, from a chapter's ``claims.json`` metrics (the line the
    report lists beside each miss); empty when it has neither."""
    parts = []
    for pre, kind in ((f"ladder.{cid}", "ladder"), (f"both_ways.{cid}", "both ways")):
        if f"{pre}.y" not in metrics:
            continue
        unit = metrics.get(f"{pre}.unit", "num")
        y = metrics.get(f"{pre}.y") or []
        labels = metrics.get(f"{pre}.labels") or [fmt(x) for x in metrics.get(f"{pre}.x") or []]
        stale = " (stale)" if metrics.get(f"{pre}.stale") else ""
        if kind == "ladder":
            ends = (f", {labels[0]} → {labels[-1]}: {fmt(y[0], unit)} → {fmt(y[-1], unit)}"
                    if len(y) >= 2 and len(labels) == len(y) else "")
            knob = metrics.get(f"{pre}.knob")
            word = metrics.get(f"{pre}.trend")
            side = metrics.get(f"{pre}.side", "value")
            held = word == STAYS and on_paper_side({"side": side, "paper": metrics.get(f"{pre}.paper"),
                                                    "rungs": [{"value": v} for v in y]})
            # an edge is the side the claim's statement asks for, as the page's sentence says it
            paper = fmt(metrics.get(f"{pre}.paper"), unit)
            paper = f"the paper's side: {side} {paper}" if side in ("above", "below") else f"paper {paper}"
            parts.append(f"ladder{stale}{' over ' + knob if knob else ''}{ends} ({paper}): the gap "
                         + ("is unresolved (it moves within the rungs' spread)" if word == UNRESOLVED
                            else "stays at zero (on the paper's side at every rung)" if held else str(word)))
        else:
            also = {key[len(pre) + 6:-2]: metrics[key] for key in metrics
                    if key.startswith(f"{pre}.also.") and key.endswith(".y")}
            parts.append(f"both ways{stale}: " + "; ".join(
                f"{label}: {fmt(v, unit)}" + "".join(f", {name} {fmt(ys[i], unit)}" for name, ys in also.items()
                                                     if i < len(ys))
                + f" ({verdict})" for i, (label, v, verdict) in
                enumerate(zip(labels, y, metrics.get(f"{pre}.verdicts") or []))))
    return "; ".join(parts)


def _words(lad: Ladder | None) -> dict:
    """A declaration's text, which the page reads from the code (a corrected sentence needs no rebuild)."""
    return {} if lad is None else {"knob": lad.knob, "blamed": lad.blamed, "paper_setting": lad.paper_setting,
                                   "runs": lad.runs}


def load(stem: str, *, root: Path | None = None, base_preset: str = BASE_PRESET,
         in_chapter: Sequence[Mapping] = ()) -> Built:
    """``ladders/<stem>.json`` as the page reads it, checked against this code: stale when the chapter's source
    fingerprint, or a rung's config (from the current ``cpu`` preset and declaration), differs from the file's.

    ``in_chapter``: ladders the chapter's own run trains (entries in the file's format, rungs without configs, e.g.
    chapter 5's ``fig7c.jump``): read by the same trend rule, shown in the same figure and recorded in claims.json
    the same way, with the page's run as their provenance (never stale: they are this run's)."""
    from .experiments import load_all
    from .provenance import chapter_fingerprint, plain_config

    own = [{**e, "provenance": {"in_chapter": True}, "trend": trend(e["rungs"], e["paper"], e["side"])}
           for e in in_chapter]
    path = ladder_path(stem, root)
    if not path.exists():
        return Built(stem, own, stale=[] if not declared(stem) else [f"{path.name} has not been built"])
    payload = json.loads(path.read_text())
    load_all()
    stale, keys = [], set()
    prov = payload.get("provenance", {})
    now = chapter_fingerprint(stem)
    by = {lad.key: lad for lad in declared(stem)}
    for e in payload.get("ladders", []):
        built_on = (e.get("provenance") or prov).get("source_fingerprint")
        if built_on != now:
            keys.add(entry_key(e))
            stale.append(f"`{e['claim']}`: the chapter's code has changed since it was built (source {built_on}, "
                         f"now {now})")
        lad = by.get(entry_key(e))
        if lad is None:
            keys.add(entry_key(e))
            stale.append(f"`{e['claim']}` is no longer declared")
            continue
        try:
            want = [plain_config(cfg) for _, _, cfg in rung_configs(stem, lad, payload.get("base_preset", base_preset))]
        except ValueError as err:
            keys.add(entry_key(e))
            stale.append(f"`{e['claim']}`'s rungs no longer resolve ({err})")
            continue
        if want != [r["config"] for r in e["rungs"]]:
            keys.add(entry_key(e))
            stale.append(f"`{e['claim']}`'s rungs (the {payload.get('base_preset')} preset or the declaration) changed")
    missing = sorted(set(by) - {entry_key(e) for e in payload.get("ladders", [])})
    if missing:
        stale.append(f"not built yet: {', '.join(missing)}")
    # the rule and the words as declared now, not as they were at build time (the rungs' numbers are the file's)
    entries = [{**e, **_words(by.get(entry_key(e)))} for e in payload.get("ladders", [])]
    entries = [{**e, "trend": trend(e["rungs"], e["paper"], e["side"])} if e["kind"] == "ladder" else e
               for e in entries]
    return Built(stem, own + entries, prov, stale, keys)


# ---------------------------------------------------------------------------------------------------
# Command line


def main(argv: Sequence[str] | None = None) -> int:
    from .chapters import SECTIONS

    parser = argparse.ArgumentParser(prog="python -m softleak.ladders", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build", help="run the declared ladders and write ladders/<stem>.json")
    b.add_argument("--only", nargs="*", default=None, help="notebook stems (default: every chapter with ladders)")
    b.add_argument("--claim", nargs="*", default=None, help="only these claims' ladders")
    b.add_argument("--workers", type=int, default=None)
    s = sub.add_parser("status", help="each chapter's ladders file: built, stale or missing")
    s.add_argument("--only", nargs="*", default=None)
    args = parser.parse_args(argv)
    stems = args.only or [s for s in SECTIONS if s in LADDERS]
    for stem in stems:
        check_choice("only", stem, tuple(SECTIONS))
    if args.command == "build":
        for stem in stems:
            if declared(stem):
                build(stem, claims=args.claim, workers=args.workers)
    else:
        for stem in stems:
            built = load(stem)
            state = "stale: " + "; ".join(built.stale) if built.stale else "up to date"
            print(f"{stem}: {len(built.entries)} entries, {state}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
