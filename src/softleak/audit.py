"""Audit a soft-label release before publishing it: how much of the *unreleased* memorized data does
it give away, and what does a defense cost?

A teacher memorized inputs ``X`` with labels ``y``. A publisher releases soft labels for the samples
``released`` (a boolean mask) after a recipe: a temperature τ and a defense
(:func:`softleak.distillation.release`: logit noise, top-k, rounding, quantisation, hard labels, or a
combination). The audit trains several student initialisations on the released (input, soft label)
pairs with the package's ensemble trainer and measures, per defense, with Student-t 95 % intervals
over the inits:

- **label leakage**: the student's accuracy on the held-out memorized samples (those not released),
  the *trivial* accuracy (the student's accuracy on fresh records the teacher never saw, drawn the
  same way; for random labels that is chance) and the advantage (acc − trivial) / (1 − trivial);
- **membership signal**: the student's score log p_y − log Σ_{y' ≠ y} p_{y'} on the held-out memorized
  records (members) against fresh records (non-members): ROC AUC, and the TPR at 1 % and 5 % FPR
  where the number of fresh records resolves that FPR (:data:`MIN_FALSE_POSITIVES`);
- **utility**: the student's agreement with the teacher's argmax on fresh inputs (needs the
  teacher's logits there) and, on structured data, its test accuracy.

Without fresh records the report says what it could not measure rather than assuming chance.

Command line (no notebook)::

    python -m softleak.audit --logits L.npy --inputs X.npy --labels y.npy --released mask.npy \\
        --tau 4 --defense none --defense topk:5 --fresh-inputs Xf.npy --fresh-labels yf.npy --out report.json

Files are NumPy ``.npy`` arrays with samples first: logits (n, c), inputs (n, d), labels (n,) integers,
the mask (n,) booleans (or 0/1). Chapter 8 of the book uses the same functions.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from torch import nn

from .config import check_positive, check_positive_int, check_nonnegative_int
from .distillation import parse_defense, release
from .metrics import mean_ci, predictions
from .models import MLPEnsemble
from .runtime import derive_seed, resolve_device
from .training import fit

#: a TPR at false-positive rate f is reported only when the fresh records allow at least this many
#: false positives at the threshold (⌊f · n_fresh⌋ ≥ 10): below that the threshold rests on a handful
#: of records and the TPR is noise
MIN_FALSE_POSITIVES = 10
FPRS = (0.01, 0.05)
CONFIDENCE = 0.95


# ---------------------------------------------------------------------------------------------
# Metrics: pure functions with known answers (tests construct them)
# ---------------------------------------------------------------------------------------------

def membership_scores(logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """log p_y − log Σ_{y' ≠ y} p_{y'} of softmax(logits), per member and record: (E, c, n) -> (E, n).

    The softmax's normaliser cancels, so this is z_y − logsumexp_{y' ≠ y} z_{y'}: exact for any logit
    size (no probability is formed)."""
    if logits.dim() == 2:
        return membership_scores(logits[None], y)[0]
    E, c, n = logits.shape
    z = logits.double()
    idx = y.expand(E, n)[:, None, :]
    z_y = z.gather(1, idx)[:, 0]
    others = z.scatter(1, idx, float("-inf"))
    return (z_y - torch.logsumexp(others, dim=1)).to(logits.dtype if logits.is_floating_point() else torch.float64)


def roc_auc(members, nonmembers) -> float:
    """Area under the ROC curve of scores, members the positives: P(member > non-member) + ½ P(tie)
    (the Mann–Whitney statistic with tied ranks averaged). NaN if either side is empty."""
    pos, neg = np.asarray(members, dtype=float).ravel(), np.asarray(nonmembers, dtype=float).ravel()
    if pos.size == 0 or neg.size == 0:
        return float("nan")
    from scipy.stats import rankdata

    ranks = rankdata(np.concatenate([pos, neg]))
    return float((ranks[: pos.size].sum() - pos.size * (pos.size + 1) / 2) / (pos.size * neg.size))


def resolvable(fpr: float, num_nonmembers: int) -> bool:
    """Whether ``num_nonmembers`` fresh records resolve a false-positive rate ``fpr``
    (at least :data:`MIN_FALSE_POSITIVES` false positives allowed at the threshold)."""
    return math.floor(fpr * num_nonmembers + 1e-9) >= MIN_FALSE_POSITIVES


def tpr_at_fpr(members, nonmembers, fpr: float) -> float:
    """The fraction of members scored above the threshold that at most ⌊fpr · n⌋ of the n non-members
    exceed (the TPR at that FPR). NaN when the non-members do not resolve ``fpr`` (:func:`resolvable`)."""
    if not 0 < fpr < 1:
        raise ValueError(f"fpr={fpr!r} is not allowed: a false-positive rate in (0, 1)")
    pos, neg = np.asarray(members, dtype=float).ravel(), np.asarray(nonmembers, dtype=float).ravel()
    if pos.size == 0 or not resolvable(fpr, neg.size):
        return float("nan")
    allowed = math.floor(fpr * neg.size + 1e-9)
    threshold = np.sort(neg)[::-1][allowed]  # at most `allowed` non-members lie strictly above it
    return float((pos > threshold).mean())


def advantage(acc: float, trivial: float) -> float:
    """(acc − trivial) / (1 − trivial): 0 at the trivial accuracy, 1 at a perfect leak."""
    return (acc - trivial) / (1 - trivial) if trivial < 1 else float("nan")


def student_metrics(
    heldout_logits: torch.Tensor,
    heldout_y: torch.Tensor,
    *,
    fresh_logits: torch.Tensor | None = None,
    fresh_y: torch.Tensor | None = None,
    teacher_fresh: torch.Tensor | None = None,
    test_logits: torch.Tensor | None = None,
    test_y: torch.Tensor | None = None,
) -> pd.DataFrame:
    """Leakage, membership and utility of every student (member), one row each.

    Args:
        heldout_logits: (E, c, m) the students' logits on the held-out memorized records, labels
            ``heldout_y`` (m,).
        fresh_logits, fresh_y: (E, c, f) on fresh records drawn the same way and their labels: the
            trivial accuracy and the non-members. ``None``: those columns are NaN.
        teacher_fresh: (c, f) the teacher's logits on the same fresh inputs: the agreement.
        test_logits, test_y: (E, c, t) on a labelled test set of structured data: the test accuracy.

    Returns:
        Columns ``acc_heldout``, ``trivial``, ``advantage``, ``auc``, ``tpr@1%``, ``tpr@5%``,
        ``agreement``, ``acc_test``, ``num_members``, ``num_nonmembers``.
    """
    E = heldout_logits.shape[0]
    nan = np.full(E, np.nan)
    acc = (predictions(heldout_logits) == heldout_y).double().mean(-1).cpu().numpy()
    out = {"acc_heldout": acc, "trivial": nan.copy(), "advantage": nan.copy(), "auc": nan.copy(),
           **{f"tpr@{round(100 * f)}%": nan.copy() for f in FPRS}, "agreement": nan.copy(), "acc_test": nan.copy(),
           "num_members": np.full(E, heldout_y.numel()), "num_nonmembers": np.zeros(E, dtype=int)}
    if fresh_logits is not None and fresh_y is not None:
        trivial = (predictions(fresh_logits) == fresh_y).double().mean(-1).cpu().numpy()
        out["trivial"] = trivial
        out["advantage"] = np.array([advantage(a, t) for a, t in zip(acc, trivial)])
        s_in = membership_scores(heldout_logits, heldout_y).cpu().numpy()
        s_out = membership_scores(fresh_logits, fresh_y).cpu().numpy()
        out["auc"] = np.array([roc_auc(s_in[e], s_out[e]) for e in range(E)])
        for f in FPRS:
            out[f"tpr@{round(100 * f)}%"] = np.array([tpr_at_fpr(s_in[e], s_out[e], f) for e in range(E)])
        out["num_nonmembers"] = np.full(E, fresh_y.numel())
    if teacher_fresh is not None and fresh_logits is not None:
        out["agreement"] = (predictions(fresh_logits) == teacher_fresh.argmax(-2)).double().mean(-1).cpu().numpy()
    if test_logits is not None and test_y is not None:
        out["acc_test"] = (predictions(test_logits) == test_y).double().mean(-1).cpu().numpy()
    return pd.DataFrame(out)


# ---------------------------------------------------------------------------------------------
# Students
# ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class StudentSpec:
    """The students an audit trains: ReLU MLPs d → hidden… → c by full-batch Adam on the released
    soft labels (default: chapter 5's one hidden layer of 50 units, lr 3·10⁻³; its cpu preset trains
    6000 epochs, the audit's default 2000).

    Attributes:
        hidden: hidden widths; ``()`` is a linear student.
        epochs, lr: full-batch Adam steps and learning rate.
        inits: student initialisations per defense (the interval is over them).
        seed: base seed of the inits (init k is ``derive_seed(seed, "student_init", k)``) and of the noise.
        make: optional ``make(d, c, seeds, device) -> nn.Module``, an ensemble with one member per seed
            whose forward maps (n, d) inputs to (E, c, n) logits, for a student of your own.
    """

    hidden: tuple[int, ...] = (50,)
    epochs: int = 2000
    lr: float = 3e-3
    inits: int = 3
    seed: int = 0
    make: Callable[..., nn.Module] | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        for i, h in enumerate(self.hidden):
            check_positive_int(f"hidden[{i}]", h)
        check_positive_int("epochs", self.epochs)
        check_positive("lr", self.lr)
        check_positive_int("inits", self.inits)
        check_nonnegative_int("seed", self.seed)

    def build(self, d: int, c: int, seeds: Sequence[int], device) -> nn.Module:
        if self.make is not None:
            return self.make(d, c, list(seeds), device)
        return MLPEnsemble((d, *self.hidden, c), list(seeds), device=device)


def train_students(
    X: torch.Tensor,
    targets: torch.Tensor,
    spec: StudentSpec,
    *,
    labels: torch.Tensor | None = None,
    seeds: Sequence[int] | None = None,
    device=None,
    progress: bool = False,
    desc: str = "students",
    eval_sets=None,
    record_every: int | None = None,
):
    """Train one student per target set: ``targets`` (E, c, n) soft labels of the shared inputs X (n, d).

    Members train together in one ensemble (:func:`softleak.training.fit`); ``seeds`` are their init
    seeds (default: init k of ``spec.seed`` for member k). With ``progress`` a tqdm bar counts epochs
    (it moves at each record: every ``record_every`` epochs, by default a fiftieth of them); ``eval_sets``
    are recorded as :func:`softleak.training.fit` records them.

    Returns:
        ``(model, FitResult)``.
    """
    E, c, n = targets.shape
    seeds = list(seeds) if seeds is not None else [derive_seed(spec.seed, "student_init", k) for k in range(E)]
    model = spec.build(X.shape[1], c, seeds, device)
    if record_every is None and progress:
        record_every = max(1, spec.epochs // 50)
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=spec.epochs, desc=desc, leave=False)

    def tick(step, _row):
        bar.update(step - bar.n)

    try:
        result = fit(model, X, targets, labels=labels, steps=spec.epochs, lr=spec.lr, record_every=record_every,
                     eval_sets=eval_sets, on_record=tick if bar is not None else None,
                     member_names=[f"{desc}[{i}]" for i in range(E)])
    finally:
        if bar is not None:
            bar.close()
    return model, result


# ---------------------------------------------------------------------------------------------
# The audit
# ---------------------------------------------------------------------------------------------

METRICS = ("acc_heldout", "trivial", "advantage", "auc", "tpr@1%", "tpr@5%", "agreement", "acc_test")


@dataclass
class AuditReport:
    """What :func:`audit` measured: ``runs`` (one row per defense and student init) and ``summary``
    (per defense: mean and 95 % interval over inits of every metric), with the settings it ran under
    and the list of what it could not measure."""

    runs: pd.DataFrame
    summary: pd.DataFrame
    settings: dict
    not_measured: list[str]

    def to_dict(self) -> dict:
        def clean(v):
            return None if isinstance(v, float) and not math.isfinite(v) else v

        return {"settings": self.settings, "not_measured": self.not_measured,
                "summary": [{k: clean(v) for k, v in row.items()} for row in self.summary.to_dict("records")],
                "runs": [{k: clean(v) for k, v in row.items()} for row in self.runs.to_dict("records")]}

    def format(self) -> str:
        """A readable table: one row per defense, ``mean ± half-width`` of the 95 % interval over inits
        (percent, AUC as a fraction)."""
        s = self.settings
        lines = [f"soft-label release audit: {s['num_released']} of {s['num_samples']} memorized samples released, "
                 f"{s['num_heldout']} held out; τ = {s['tau']:g}; {s['inits']} student inits × {s['epochs']} epochs "
                 f"(hidden {s['hidden']}, lr {s['lr']:g})"]
        cols = ["defense", *[m for m in METRICS if self.summary[m].notna().any()]]
        table = pd.DataFrame({"defense": self.summary["defense"]})
        for m in cols[1:]:
            table[m] = [_interval(r[m], r[f"{m}_low"], r[f"{m}_high"], m) for _, r in self.summary.iterrows()]
        lines.append(table.to_string(index=False))
        for fpr in FPRS:
            if s["num_fresh"] and not resolvable(fpr, s["num_fresh"]):
                need = math.ceil(MIN_FALSE_POSITIVES / fpr)
                lines.append(f"TPR at {fpr:.0%} FPR not reported: {s['num_fresh']} fresh records, it needs ≥ {need}")
        lines += [f"not measured: {why}" for why in self.not_measured]
        return "\n".join(lines)


def _interval(value, low, high, metric) -> str:
    if value is None or not math.isfinite(value):
        return "—"
    pct = metric != "auc"
    f = (lambda v: f"{100 * v:.1f}") if pct else (lambda v: f"{v:.3f}")
    if math.isfinite(low) and math.isfinite(high) and high > low:
        return f"{f(value)} ± {f((high - low) / 2)}"  # a Student-t interval: symmetric about the mean
    return f(value)


def _as_tensor(a, dtype) -> torch.Tensor:
    return torch.as_tensor(np.asarray(a), dtype=dtype)


def check_release(
    logits, X, y, released, *, fresh_X=None, fresh_y=None, fresh_logits=None, test_X=None, test_y=None,
    names: dict[str, str] | None = None,
) -> None:
    """Fail before any training on inputs that cannot be audited, naming the argument.

    ``names`` maps the argument names (logits, inputs, labels, released, fresh_inputs, fresh_labels,
    fresh_logits, test_inputs, test_labels) to what the caller calls them (the command line's flags).
    """
    nm = {k: k for k in ("logits", "inputs", "labels", "released", "fresh_inputs", "fresh_labels", "fresh_logits",
                         "test_inputs", "test_labels")}
    nm.update(names or {})
    logits, X, y, released = (np.asarray(a) for a in (logits, X, y, released))
    if logits.ndim != 2 or logits.shape[1] < 2:
        raise ValueError(f"{nm['logits']} has shape {logits.shape}: it must be (n, c) with c >= 2 classes")
    n, c = logits.shape
    if not np.issubdtype(logits.dtype, np.number) or not np.all(np.isfinite(logits)):
        raise ValueError(f"{nm['logits']} holds {int((~np.isfinite(logits.astype(float))).sum())} NaN or infinite "
                         "values: every logit must be finite")
    if X.ndim != 2 or X.shape[0] != n:
        raise ValueError(f"{nm['inputs']} has shape {X.shape}: it must be (n, d) with n = {n} rows, one per logit row")
    if not np.issubdtype(X.dtype, np.number) or not np.all(np.isfinite(X)):
        raise ValueError(f"{nm['inputs']} holds NaN or infinite values")
    _check_labels(y, n, c, nm["labels"])
    if released.shape != (n,) or not (released.dtype == bool or np.isin(released, (0, 1)).all()):
        raise ValueError(f"{nm['released']} has shape {released.shape} and dtype {released.dtype}: it must be (n,) = "
                         f"({n},) booleans (or 0/1), True for the released samples")
    k = int(released.astype(bool).sum())
    if k == 0:
        raise ValueError(f"{nm['released']} releases no sample: the release is empty, there is nothing to audit")
    if k == n:
        raise ValueError(f"{nm['released']} releases all {n} samples: the release is the whole set, so no "
                         "held-out memorized sample is left to leak")
    if (fresh_X is None) != (fresh_y is None):
        given, missing = ("fresh_inputs", "fresh_labels") if fresh_y is None else ("fresh_labels", "fresh_inputs")
        raise ValueError(f"{nm[given]} was given without {nm[missing]}: fresh records need both")
    if fresh_X is not None:
        fX, fy = np.asarray(fresh_X), np.asarray(fresh_y)
        if fX.ndim != 2 or fX.shape[1] != X.shape[1] or fX.shape[0] == 0:
            raise ValueError(f"{nm['fresh_inputs']} has shape {fX.shape}: it must be (m, d) with d = {X.shape[1]}, m >= 1")
        if not np.all(np.isfinite(fX)):
            raise ValueError(f"{nm['fresh_inputs']} holds NaN or infinite values")
        _check_labels(fy, fX.shape[0], c, nm["fresh_labels"])
        if fresh_logits is not None:
            fl = np.asarray(fresh_logits)
            if fl.shape != (fX.shape[0], c) or not np.all(np.isfinite(fl)):
                raise ValueError(f"{nm['fresh_logits']} has shape {fl.shape}: it must be ({fX.shape[0]}, {c}) finite "
                                 "logits, the teacher's on the fresh inputs")
    elif fresh_logits is not None:
        raise ValueError(f"{nm['fresh_logits']} was given without {nm['fresh_inputs']} and {nm['fresh_labels']}")
    if (test_X is None) != (test_y is None):
        raise ValueError(f"{nm['test_inputs']} and {nm['test_labels']} go together: give both or neither")
    if test_X is not None:
        tX = np.asarray(test_X)
        if tX.ndim != 2 or tX.shape[1] != X.shape[1] or tX.shape[0] == 0:
            raise ValueError(f"{nm['test_inputs']} has shape {tX.shape}: it must be (t, d) with d = {X.shape[1]}, t >= 1")
        _check_labels(np.asarray(test_y), tX.shape[0], c, nm["test_labels"])


def check_recipes(defenses: Sequence[str], c: int) -> None:
    """Every recipe parses (:func:`softleak.distillation.parse_defense`) and fits c classes (top-k: k <= c)."""
    for spec in defenses:
        for name, knob in parse_defense(spec):
            if name == "topk" and knob > c:
                raise ValueError(f"defense={spec!r} is not allowed: top-k keeps k={knob} entries of c={c} classes "
                                 f"(k must be <= {c})")


def _check_labels(y, n, c, name) -> None:
    y = np.asarray(y)
    if y.shape != (n,):
        raise ValueError(f"{name} has shape {y.shape}: it must be ({n},), one label per row")
    if not np.issubdtype(y.dtype, np.integer):
        raise ValueError(f"{name} has dtype {y.dtype}: labels must be integers in [0, {c})")
    if y.size and (y.min() < 0 or y.max() >= c):
        raise ValueError(f"{name} holds labels in [{y.min()}, {y.max()}]: they must lie in [0, {c}), one per class "
                         "of the logits")


def teacher_logits(model: nn.Module, X) -> np.ndarray:
    """A teacher's logits (n, c) on inputs X (n, d): ``model`` maps a (n, d) tensor to (n, c) logits (a plain
    ``nn.Module``) or to (E, c, n) (one of the package's ensembles; its first member is the teacher)."""
    param = next(model.parameters(), None)
    device = param.device if param is not None else torch.device("cpu")
    with torch.no_grad():
        out = model(_as_tensor(X, torch.float32).to(device))
    if out.dim() == 3:
        out = out[0].T
    if out.dim() != 2 or out.shape[0] != len(X):
        raise ValueError(f"model maps {len(X)} inputs to logits of shape {tuple(out.shape)}: it must give (n, c) or (E, c, n)")
    return out.double().cpu().numpy()


def audit(
    logits,
    X,
    y,
    released,
    *,
    tau: float,
    defenses: Sequence[str] = ("none",),
    fresh_X=None,
    fresh_y=None,
    fresh_logits=None,
    test_X=None,
    test_y=None,
    student: StudentSpec = StudentSpec(),
    device=None,
    progress: bool = True,
) -> AuditReport:
    """Audit the release of soft labels on ``released`` samples under each recipe in ``defenses``.

    Args:
        logits: the teacher's logits on its memorized inputs, (n, c) (array or tensor), or the teacher itself
            (an ``nn.Module``: its logits on X, and on ``fresh_X`` if no ``fresh_logits`` are given, are
            computed by :func:`teacher_logits`).
        X, y: those inputs (n, d) and their labels (n,).
        released: (n,) booleans, the samples whose soft labels are released.
        tau: the release temperature τ > 0.
        defenses: recipes for :func:`softleak.distillation.release`, e.g. ``("none", "topk:5", "hard")``.
        fresh_X, fresh_y: records the teacher never saw, drawn as its data was: the trivial accuracy
            and the non-members. Without them neither is assumed (the report says so).
        fresh_logits: the teacher's logits on ``fresh_X``, (m, c): the student–teacher agreement.
        test_X, test_y: a labelled test set (structured data): the student's test accuracy.
        student: the students (:class:`StudentSpec`).

    Raises:
        ValueError: on bad input (shapes, NaN, labels out of range, an empty or total release, an
            unknown defense, τ ≤ 0), naming the argument, before any training.
    """
    check_positive("tau", tau)
    if isinstance(logits, nn.Module):
        if fresh_X is not None and fresh_logits is None:
            fresh_logits = teacher_logits(logits, fresh_X)
        logits = teacher_logits(logits, X)
    defenses = list(defenses)
    if not defenses:
        raise ValueError("defenses=[] is not allowed: give at least one recipe, e.g. ['none']")
    for spec in defenses:
        parse_defense(spec)
    check_release(logits, X, y, released, fresh_X=fresh_X, fresh_y=fresh_y, fresh_logits=fresh_logits,
                  test_X=test_X, test_y=test_y)
    check_recipes(defenses, np.asarray(logits).shape[1])
    device = resolve_device(device)
    z = _as_tensor(logits, torch.float64).T.contiguous()  # (c, n), the package's class-first layout
    Xt, yt = _as_tensor(X, torch.float32), _as_tensor(y, torch.long)
    mask = _as_tensor(released, torch.bool)
    tr, te = torch.nonzero(mask).flatten(), torch.nonzero(~mask).flatten()
    targets = torch.stack([release(z[:, tr], tau, spec, seed=derive_seed(student.seed, "treatment", i))
                           for i, spec in enumerate(defenses) for _ in range(student.inits)]).float()
    seeds = [derive_seed(student.seed, "student_init", k) for _ in defenses for k in range(student.inits)]
    model, _ = train_students(Xt[tr].to(device), targets.to(device), student, labels=yt[tr].to(device), seeds=seeds,
                           device=device, progress=progress, desc=f"{len(seeds)} students")
    with torch.no_grad():
        kw = {}
        if fresh_X is not None:
            kw.update(fresh_logits=model(_as_tensor(fresh_X, torch.float32).to(device)),
                      fresh_y=_as_tensor(fresh_y, torch.long).to(device))
            if fresh_logits is not None:
                kw["teacher_fresh"] = _as_tensor(fresh_logits, torch.float64).T.to(device)
        if test_X is not None:
            kw.update(test_logits=model(_as_tensor(test_X, torch.float32).to(device)),
                      test_y=_as_tensor(test_y, torch.long).to(device))
        runs = student_metrics(model(Xt[te].to(device)), yt[te].to(device), **kw)
    runs.insert(0, "init", [k for _ in defenses for k in range(student.inits)])
    runs.insert(0, "defense", [spec for spec in defenses for _ in range(student.inits)])
    runs["seed_student"] = seeds
    not_measured = []
    if fresh_X is None:
        not_measured.append("trivial accuracy, advantage and membership signal: no fresh records (--fresh-inputs, "
                            "--fresh-labels); chance 1/c is not assumed")
    elif fresh_logits is None:
        not_measured.append("agreement with the teacher on fresh inputs: the teacher's logits there were not given "
                            "(--fresh-logits)")
    if test_X is None:
        not_measured.append("test accuracy: no labelled test set (--test-inputs, --test-labels)")
    n, c = np.asarray(logits).shape
    settings = {"num_samples": int(n), "num_classes": int(c), "num_released": int(tr.numel()),
                "num_heldout": int(te.numel()), "num_fresh": 0 if fresh_y is None else int(np.asarray(fresh_y).size),
                "tau": float(tau), "defenses": defenses, "device": str(device),
                **{k: v for k, v in asdict(student).items() if k != "make"},
                "custom_student": student.make is not None}
    settings["hidden"] = list(student.hidden)
    return AuditReport(runs=runs, summary=summarize(runs), settings=settings, not_measured=not_measured)


def summarize(runs: pd.DataFrame, by: str = "defense", level: float = CONFIDENCE) -> pd.DataFrame:
    """Per ``by`` group: the mean and the Student-t interval over its rows of every metric."""
    rows = []
    for key, g in runs.groupby(by, sort=False):
        row = {by: key, "runs": len(g)}
        for m in METRICS:
            v = g[m].to_numpy(dtype=float)
            if np.isfinite(v).all():
                mean, low, high = mean_ci(v, level)
            else:
                mean = low = high = float("nan")
            row.update({m: mean, f"{m}_low": low, f"{m}_high": high})
        rows.append(row)
    return pd.DataFrame(rows)


# ---------------------------------------------------------------------------------------------
# Command line
# ---------------------------------------------------------------------------------------------

FLAGS = {"logits": "--logits", "inputs": "--inputs", "labels": "--labels", "released": "--released",
         "fresh_inputs": "--fresh-inputs", "fresh_labels": "--fresh-labels", "fresh_logits": "--fresh-logits",
         "test_inputs": "--test-inputs", "test_labels": "--test-labels"}


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m softleak.audit", description=(
        "Audit a soft-label release: train students on the released soft labels and measure how many labels of "
        "the unreleased memorized samples they recover, their membership signal, and their utility."))
    p.add_argument("--logits", required=True, help="teacher logits on its memorized inputs, (n, c) .npy")
    p.add_argument("--inputs", required=True, help="the memorized inputs, (n, d) .npy")
    p.add_argument("--labels", required=True, help="their labels, (n,) integer .npy")
    p.add_argument("--released", required=True, help="(n,) boolean .npy: True for the released samples")
    p.add_argument("--tau", type=float, required=True, help="release temperature τ > 0")
    p.add_argument("--defense", action="append", default=None,
                   help="release recipe, repeatable: none, hard, topk:K, round:B, quant:BITS, noise:SIGMA, or a "
                        "combination such as noise:0.5+topk:5 (default: none)")
    p.add_argument("--fresh-inputs", help="(m, d) .npy of records the teacher never saw, drawn like its data")
    p.add_argument("--fresh-labels", help="(m,) integer .npy, their labels")
    p.add_argument("--fresh-logits", help="(m, c) .npy, the teacher's logits on the fresh inputs (agreement)")
    p.add_argument("--test-inputs", help="(t, d) .npy, a labelled test set of structured data")
    p.add_argument("--test-labels", help="(t,) integer .npy")
    p.add_argument("--hidden", type=int, nargs="*", default=[50], help="student hidden widths (default: 50)")
    p.add_argument("--epochs", type=int, default=2000, help="student epochs of full-batch Adam (default 2000)")
    p.add_argument("--lr", type=float, default=3e-3, help="student learning rate (default 3e-3)")
    p.add_argument("--inits", type=int, default=3, help="student inits per defense (default 3)")
    p.add_argument("--seed", type=int, default=0, help="base seed of the student inits and the noise (default 0)")
    p.add_argument("--device", default=None, help="cpu or cuda (default: cuda when available)")
    p.add_argument("--out", help="write the report as JSON here")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    return p


def _load(path: str | None, flag: str):
    if path is None:
        return None
    try:
        return np.load(path, allow_pickle=False)
    except (OSError, ValueError) as err:
        raise ValueError(f"{flag}={path!r} could not be read as a .npy array: {err}") from None


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        arrays = {k: _load(getattr(args, k), flag) for k, flag in FLAGS.items()}
        check_positive("tau", args.tau)
        defenses = args.defense or ["none"]
        for spec in defenses:
            parse_defense(spec)
        student = StudentSpec(hidden=tuple(args.hidden), epochs=args.epochs, lr=args.lr, inits=args.inits,
                              seed=args.seed)
        check_release(arrays["logits"], arrays["inputs"], arrays["labels"], arrays["released"],
                      fresh_X=arrays["fresh_inputs"], fresh_y=arrays["fresh_labels"],
                      fresh_logits=arrays["fresh_logits"], test_X=arrays["test_inputs"], test_y=arrays["test_labels"],
                      names=FLAGS)
        check_recipes(defenses, arrays["logits"].shape[1])
    except ValueError as err:
        message = str(err).replace("tau=", "--tau=").replace("defense=", "--defense=")
        print(f"error: {message}", file=sys.stderr)
        return 2
    report = audit(arrays["logits"], arrays["inputs"], arrays["labels"], arrays["released"], tau=args.tau,
                   defenses=defenses, fresh_X=arrays["fresh_inputs"], fresh_y=arrays["fresh_labels"],
                   fresh_logits=arrays["fresh_logits"], test_X=arrays["test_inputs"], test_y=arrays["test_labels"],
                   student=student, device=args.device, progress=not args.quiet)
    print(report.format())
    if args.out:
        Path(args.out).write_text(json.dumps(report.to_dict(), indent=1))
        print(f"report written to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
