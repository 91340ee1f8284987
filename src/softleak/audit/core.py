"""The audit itself: students trained on a release, per recipe, and their records analysed
(:mod:`softleak.audit.stats`). The command line is :mod:`softleak.audit.cli`."""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd
import torch
from torch import nn

from ..config import check_nonnegative_int, check_positive, check_positive_int
from ..distillation import parse_defense, release
from ..metrics import predictions
from ..models import MLPEnsemble
from ..runtime import derive_seed, resolve_device
from ..training import fit
from . import stats
from .stats import FPRS, Records, Sets, advantage, resolvable, roc_auc, tpr_at_fpr


# ---------------------------------------------------------------------------------------------
# Per-start metrics (chapter 8's tables read them per student; the report reads the records)
# ---------------------------------------------------------------------------------------------

def membership_scores(logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """log p_y − log Σ_{y' ≠ y} p_{y'} of softmax(logits), per member and record: (E, c, n) -> (E, n), as tensors
    (:func:`softleak.audit.stats.membership_scores_np` computes it: z_y − logsumexp_{y' ≠ y} z_{y'}, exact for any
    logit size)."""
    if logits.dim() == 2:
        return membership_scores(logits[None], y)[0]
    out = stats.membership_scores_np(logits.detach().double().cpu().numpy(), y.detach().cpu().numpy())
    return torch.from_numpy(out).to(logits.device, logits.dtype if logits.is_floating_point() else torch.float64)


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
# Checks: everything that can be wrong is found before any training
# ---------------------------------------------------------------------------------------------

NAMES = ("logits", "inputs", "labels", "released", "fresh_inputs", "fresh_labels", "fresh_logits", "test_inputs",
         "test_labels", "canaries", "fresh_canaries", "device", "defense")


def _numeric(a: np.ndarray, name: str, what: str) -> None:
    if a.dtype.kind not in "biuf":
        raise ValueError(f"{name} holds values of dtype {a.dtype} ({'strings' if a.dtype.kind in 'USO' else 'not numbers'}): "
                         f"{what} must be numbers, saved with np.save from a numeric array")


def _mask(a, n: int, name: str, what: str) -> np.ndarray:
    a = np.asarray(a)
    if a.shape != (n,) or not (a.dtype == bool or (a.dtype.kind in "iu" and np.isin(a, (0, 1)).all())):
        raise ValueError(f"{name} has shape {a.shape} and dtype {a.dtype}: it must be (n,) = ({n},) booleans (or 0/1), "
                         f"{what}")
    return a.astype(bool)


def check_release(
    logits, X, y, released, *, fresh_X=None, fresh_y=None, fresh_logits=None, test_X=None, test_y=None,
    canaries=None, fresh_canaries=None, names: dict[str, str] | None = None,
) -> None:
    """Fail before any training on inputs that cannot be audited, naming the argument.

    ``names`` maps the argument names (:data:`NAMES`) to what the caller calls them (the command line's flags).
    """
    nm = {k: k for k in NAMES}
    nm.update(names or {})
    logits, X, y, released = (np.asarray(a) for a in (logits, X, y, released))
    _numeric(logits, nm["logits"], "logits")
    if logits.ndim != 2 or logits.shape[1] < 2:
        raise ValueError(f"{nm['logits']} has shape {logits.shape}: it must be (n, c) with c >= 2 classes")
    n, c = logits.shape
    if not np.all(np.isfinite(logits)):
        raise ValueError(f"{nm['logits']} holds {int((~np.isfinite(logits.astype(float))).sum())} NaN or infinite "
                         "values: every logit must be finite")
    _numeric(X, nm["inputs"], "inputs")
    if X.ndim != 2 or X.shape[0] != n:
        raise ValueError(f"{nm['inputs']} has shape {X.shape}: it must be (n, d) with n = {n} rows, one per logit row")
    if not np.all(np.isfinite(X)):
        raise ValueError(f"{nm['inputs']} holds NaN or infinite values")
    _check_labels(y, n, c, nm["labels"])
    released = _mask(released, n, nm["released"], "True for the released samples")
    k = int(released.sum())
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
        _numeric(fX, nm["fresh_inputs"], "inputs")
        if fX.ndim != 2 or fX.shape[1] != X.shape[1] or fX.shape[0] == 0:
            raise ValueError(f"{nm['fresh_inputs']} has shape {fX.shape}: it must be (m, d) with d = {X.shape[1]}, m >= 1")
        if not np.all(np.isfinite(fX)):
            raise ValueError(f"{nm['fresh_inputs']} holds NaN or infinite values")
        _check_labels(fy, fX.shape[0], c, nm["fresh_labels"])
        if fresh_logits is not None:
            fl = np.asarray(fresh_logits)
            _numeric(fl, nm["fresh_logits"], "logits")
            if fl.shape != (fX.shape[0], c) or not np.all(np.isfinite(fl)):
                raise ValueError(f"{nm['fresh_logits']} has shape {fl.shape}: it must be ({fX.shape[0]}, {c}) finite "
                                 "logits, the teacher's on the fresh inputs")
        if fresh_canaries is not None:
            _mask(fresh_canaries, fX.shape[0], nm["fresh_canaries"], "True for the fresh records that are canaries")
    else:
        for key, value in (("fresh_logits", fresh_logits), ("fresh_canaries", fresh_canaries)):
            if value is not None:
                raise ValueError(f"{nm[key]} was given without {nm['fresh_inputs']} and {nm['fresh_labels']}")
    if canaries is not None:
        cm = _mask(canaries, n, nm["canaries"], "True for the training records that are canaries")
        if not (cm & ~released).any():
            raise ValueError(f"{nm['canaries']} marks {int(cm.sum())} canaries, none of them held out: the canary "
                             "audit reads the canaries that were not released")
    elif fresh_canaries is not None:
        raise ValueError(f"{nm['fresh_canaries']} was given without {nm['canaries']}")
    if (test_X is None) != (test_y is None):
        raise ValueError(f"{nm['test_inputs']} and {nm['test_labels']} go together: give both or neither")
    if test_X is not None:
        tX = np.asarray(test_X)
        _numeric(tX, nm["test_inputs"], "inputs")
        if tX.ndim != 2 or tX.shape[1] != X.shape[1] or tX.shape[0] == 0:
            raise ValueError(f"{nm['test_inputs']} has shape {tX.shape}: it must be (t, d) with d = {X.shape[1]}, t >= 1")
        _check_labels(np.asarray(test_y), tX.shape[0], c, nm["test_labels"])


def _check_labels(y, n, c, name) -> None:
    y = np.asarray(y)
    if y.dtype.kind in "USO":
        raise ValueError(f"{name} holds values of dtype {y.dtype} (strings): labels must be integers in [0, {c})")
    if y.shape != (n,):
        raise ValueError(f"{name} has shape {y.shape}: it must be ({n},), one label per row")
    if not np.issubdtype(y.dtype, np.integer):
        raise ValueError(f"{name} has dtype {y.dtype}: labels must be integers in [0, {c})")
    if y.size and (y.min() < 0 or y.max() >= c):
        raise ValueError(f"{name} holds labels in [{y.min()}, {y.max()}]: they must lie in [0, {c}), one per class "
                         "of the logits")


def check_recipes(defenses: Sequence[str], c: int) -> list[str]:
    """Every recipe parses (:func:`softleak.distillation.parse_defense`), fits c classes (top-k: k <= c) and
    appears once (``noise:1`` and ``noise:1.0`` are the same recipe). Returns the recipes, stripped."""
    seen: dict[tuple, str] = {}
    out = []
    for spec in defenses:
        steps = parse_defense(spec)
        for name, knob in steps:
            if name == "topk" and knob > c:
                raise ValueError(f"defense={spec!r} is not allowed: top-k keeps k={knob} entries of c={c} classes "
                                 f"(k must be <= {c})")
        key = tuple(sorted(steps, key=lambda s: s[0]))
        if key in seen:
            raise ValueError(f"defense={spec!r} is not allowed: the same recipe as {seen[key]!r}, given before; each "
                             "recipe is audited once")
        seen[key] = spec
        out.append(spec.strip())
    return out


def check_device(device) -> torch.device:
    """The torch device the students train on, or a ValueError naming it: ``None`` (CUDA when available, else
    the CPU), ``"cpu"``, ``"cuda"``/``"cuda:N"`` where this machine has it."""
    try:
        dev = resolve_device(device)
    except (RuntimeError, ValueError) as err:
        raise ValueError(f"device={device!r} is not allowed: {str(err).splitlines()[0]}; use cpu or cuda") from None
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(f"device={device!r} is not allowed: this machine has no CUDA device "
                             "(torch.cuda.is_available() is False); use cpu")
        if dev.index is not None and dev.index >= torch.cuda.device_count():
            raise ValueError(f"device={device!r} is not allowed: this machine has {torch.cuda.device_count()} CUDA "
                             "device(s)")
    elif dev.type != "cpu":
        raise ValueError(f"device={device!r} is not allowed: the audit trains on cpu or cuda")
    return dev


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


def _as_tensor(a, dtype) -> torch.Tensor:
    return torch.as_tensor(np.asarray(a), dtype=dtype)


def recipe_index(spec: str) -> int:
    """A stable seed index from a recipe's text: its noise draws never depend on its place in the list."""
    return int(hashlib.sha1(spec.strip().encode()).hexdigest()[:7], 16)


def noise_seed(seed: int, spec: str, start: int) -> int:
    """The seed of recipe ``spec``'s noise draw for student start ``start``: every start draws its own noise, so
    the interval over starts covers it."""
    return derive_seed(derive_seed(seed, "treatment", recipe_index(spec)), "treatment", start)


# ---------------------------------------------------------------------------------------------
# The audit
# ---------------------------------------------------------------------------------------------

#: canary shares of the held-out and the fresh records further apart than this make the overall leak compare
#: different mixtures: the report warns
MIXTURE_GAP = 0.05
METRICS = ("acc_heldout", "trivial", "advantage", "auc", "tpr@1%", "tpr@5%", "agreement", "acc_test")
#: short names of the report's rows
LABELS = {"acc_heldout": "held-out accuracy", "trivial": "fresh accuracy", "leak": "leak (held-out − fresh)",
          "advantage": "normalized advantage", "exposure_heldout": "held-out exposure (bits)",
          "exposure_fresh": "fresh exposure (bits)", "exposure_gap": "exposure gap (held-out − fresh)",
          "auc": "membership AUC", "tpr@1%": "TPR at 1 % FPR",
          "tpr@5%": "TPR at 5 % FPR", "agreement": "agreement with teacher", "acc_test": "test accuracy",
          "canary.recovered_heldout": "held-out canaries named", "canary.recovered_fresh": "fresh canaries named",
          "canary.leak": "canary leak (held-out − fresh)", "canary.exposure_heldout": "held-out canary exposure",
          "canary.exposure_fresh": "fresh canary exposure", "canary.exposure_gap": "canary exposure gap"}


@dataclass
class AuditReport:
    """What :func:`audit` measured.

    Attributes:
        summary: one row per recipe: ``verdict`` ("leaks", "no evidence of leakage", "not tested"), ``p_value``
            (the one it was decided on), and per quantity of :data:`softleak.audit.stats.QUANTITIES` its value,
            95 % bootstrap interval (``_low``, ``_high``), the null's 2.5–97.5 % range (``_null_low``,
            ``_null_high``) and one-sided p-value (``_p``).
        runs: one row per recipe and student start (per-start values, :func:`student_metrics`).
        settings: what it ran under; not_measured and warnings: what it could not measure or read.
        sets: per recipe the records it analysed (:class:`softleak.audit.stats.Sets`), for :meth:`records`.
    """

    summary: pd.DataFrame
    runs: pd.DataFrame
    settings: dict
    not_measured: list[str]
    warnings: list[str]
    sets: dict[str, Sets] = field(default_factory=dict, repr=False)
    index: dict[str, np.ndarray] = field(default_factory=dict, repr=False)

    def leaks(self) -> bool:
        return bool((self.summary["verdict"] == stats.LEAKS).any())

    def to_dict(self) -> dict:
        def clean(v):
            if isinstance(v, (float, np.floating)):
                return None if not math.isfinite(v) else float(v)
            return v.item() if isinstance(v, np.generic) else v

        recipes = []
        for row in self.summary.to_dict("records"):
            metrics = {q: {"value": clean(row[q]), "low": clean(row.get(f"{q}_low")), "high": clean(row.get(f"{q}_high")),
                           "null_low": clean(row.get(f"{q}_null_low")), "null_high": clean(row.get(f"{q}_null_high")),
                           "p": clean(row.get(f"{q}_p")), "unit": stats.QUANTITIES[q][0]}
                       for q in stats.QUANTITIES if q in row and row[q] is not None and not pd.isna(row[q])}
            recipes.append({"defense": row["defense"], "verdict": row["verdict"], "p_value": clean(row["p_value"]),
                            "null": row["null"], "metrics": metrics})
        return {"settings": self.settings, "warnings": self.warnings, "not_measured": self.not_measured,
                "quantities": {q: {"unit": u, "meaning": m} for q, (u, m) in stats.QUANTITIES.items()},
                "recipes": recipes,
                "summary": [{k: clean(v) for k, v in row.items()} for row in self.summary.to_dict("records")],
                "runs": [{k: clean(v) for k, v in row.items()} for row in self.runs.to_dict("records")]}

    def records(self) -> pd.DataFrame:
        """Every record's scores, one row per recipe, student start and record: ``set`` (heldout, fresh, test),
        ``record`` (its row in the file it came from), ``canary``, ``label``, ``predicted``, ``correct``,
        ``score`` (membership score), ``rank`` (of the label among the student's classes, 1 = top),
        ``exposure`` (log2 c − log2 rank) and ``agree`` (with the teacher, fresh records)."""
        frames = []
        for spec, sets in self.sets.items():
            for name, rec in (("heldout", sets.held), ("fresh", sets.fresh), ("test", sets.test)):
                if rec is None:
                    continue
                E, n = rec.correct.shape
                agree = rec.agree()
                frames.append(pd.DataFrame({
                    "defense": spec, "start": np.repeat(np.arange(E), n), "set": name,
                    "record": np.tile(self.index[name], E),
                    "canary": np.tile(rec.canary if rec.canary is not None else np.zeros(n, bool), E),
                    "label": np.tile(rec.y, E), "predicted": rec.pred.ravel(), "correct": rec.correct.ravel().astype(bool),
                    "score": rec.score.ravel(), "rank": rec.rank.ravel(), "exposure": rec.exposure().ravel(),
                    "agree": agree.ravel().astype(bool) if agree is not None else np.zeros(E * n, bool)}))
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()

    def format(self) -> str:
        """The report as text: per recipe its verdict, then every quantity with its 95 % interval, the null's
        range and its p-value (percent, AUC and exposure as numbers)."""
        s = self.settings
        canary = f" ({s['num_heldout_canaries']} of them canaries)" if s.get("num_heldout_canaries") else ""
        lines = [f"soft-label release audit: {s['num_released']} of {s['num_samples']} memorized samples released, "
                 f"{s['num_heldout']} held out{canary}; {s['num_fresh']} fresh records; τ = {s['tau']:g}; "
                 f"{s['inits']} student starts × {s['epochs']} epochs (hidden {s['hidden']}, lr {s['lr']:g}) at T = 1",
                 f"intervals: 95 % percentile bootstrap over records (held-out, fresh and test resampled apart) and "
                 f"student starts, {s['bootstrap']} replicates"]
        if s["null"]:
            how = ("the set labels permuted between held-out and fresh records" if s["null"] == "records" else
                   "the held-out labels permuted among the held-out records")
            lines.append(f"null: {s['permutations']} draws with {how}; p one-sided (larger = more leakage); "
                         f"'leaks' when p ≤ {stats.ALPHA:g} for {stats.PRIMARY[s['null']]}"
                         + (" or the canary leak (Bonferroni over the two)" if s.get("num_heldout_canaries") else ""))
        for _, row in self.summary.iterrows():
            lines.append("")
            p = row["p_value"]
            lines.append(f"recipe {row['defense']}: {row['verdict'].upper() if row['verdict'] == stats.LEAKS else row['verdict']}"
                         + (f" (p = {p:.3g})" if isinstance(p, float) and math.isfinite(p) else ""))
            table = []
            for q, (unit, _) in stats.QUANTITIES.items():
                if q not in row or pd.isna(row[q]):
                    continue
                f = _formatter(unit)
                table.append({"quantity": LABELS[q], "value": f(row[q]),
                              "95 % interval": _pair(f, row.get(f"{q}_low"), row.get(f"{q}_high")),
                              "null 95 % range": _pair(f, row.get(f"{q}_null_low"), row.get(f"{q}_null_high")),
                              "p": "—" if pd.isna(row.get(f"{q}_p", math.nan)) else f"{row[f'{q}_p']:.3g}"})
            lines.append(pd.DataFrame(table).to_string(index=False))
        for fpr in FPRS:
            if s["num_fresh"] and not resolvable(fpr, s["num_fresh"]):
                need = math.ceil(stats.MIN_FALSE_POSITIVES / fpr)
                lines.append(f"TPR at {fpr:.0%} FPR not reported: {s['num_fresh']} fresh records, it needs ≥ {need}")
        lines += [f"warning: {w}" for w in self.warnings]
        lines += [f"not measured: {why}" for why in self.not_measured]
        return "\n".join(lines)


def _formatter(unit: str):
    return (lambda v: f"{100 * v:.1f} %") if unit == "pct" else (lambda v: f"{v:.3f}")


def _pair(f, low, high) -> str:
    if low is None or high is None or pd.isna(low) or pd.isna(high):
        return "—"
    return f"[{f(low)}, {f(high)}]"


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
    canaries=None,
    fresh_canaries=None,
    student: StudentSpec = StudentSpec(),
    null: int = stats.NULL,
    null_by: str | None = None,
    bootstrap: int = stats.BOOTSTRAP,
    device=None,
    progress: bool = True,
) -> AuditReport:
    """Audit the release of soft labels on ``released`` samples under each recipe in ``defenses``.

    Students train at T = 1 on the released targets, softmax(z/τ) after the recipe's defense, one student per
    recipe and start (:class:`StudentSpec`), all in one ensemble; each recipe's records are then analysed by
    :func:`softleak.audit.stats.analyse`: values, bootstrap intervals over records and starts, the null and
    the verdict.

    Args:
        logits: the teacher's logits on its memorized inputs, (n, c) (array or tensor), or the teacher itself
            (an ``nn.Module``: its logits on X, and on ``fresh_X`` if no ``fresh_logits`` are given, are
            computed by :func:`teacher_logits`).
        X, y: those inputs (n, d) and their labels (n,).
        released: (n,) booleans, the samples whose soft labels are released.
        tau: the release temperature τ > 0.
        defenses: recipes for :func:`softleak.distillation.release`, e.g. ``("none", "topk:5", "hard")``.
        fresh_X, fresh_y: records the teacher never saw, drawn as its data was: the control (fresh accuracy)
            and the non-members. Without them neither is assumed (the report says so).
        fresh_logits: the teacher's logits on ``fresh_X``, (m, c): the student–teacher agreement.
        test_X, test_y: a labelled test set (structured data): the student's test accuracy.
        canaries: (n,) booleans, the training records that are canaries; ``fresh_canaries``: (m,) booleans,
            the fresh records that are their controls (default: every fresh record).
        null: permutations of the null (0: none, the verdict is "not tested"); ``null_by``: "records" or "labels"
            (default: records when fresh records are given, else labels).
        bootstrap: bootstrap replicates of the intervals (0: none).

    Raises:
        ValueError: on bad input (shapes, dtypes, NaN, labels out of range, an empty or total release, an
            unknown or repeated defense, τ ≤ 0, a device this machine lacks), naming the argument, before any
            training.
    """
    check_positive("tau", tau)
    check_nonnegative_int("null", null)
    check_nonnegative_int("bootstrap", bootstrap)
    if null_by is not None and null_by not in stats.NULLS:
        raise ValueError(f"null_by={null_by!r} is not allowed: one of {', '.join(stats.NULLS)}")
    if null_by == "records" and fresh_X is None and null:
        raise ValueError("null_by='records' is not allowed without fresh records: the held-out records are compared "
                         "with them; give fresh_X and fresh_y or use null_by='labels'")
    if isinstance(logits, nn.Module):
        if fresh_X is not None and fresh_logits is None:
            fresh_logits = teacher_logits(logits, fresh_X)
        logits = teacher_logits(logits, X)
    defenses = list(defenses)
    if not defenses:
        raise ValueError("defenses=[] is not allowed: give at least one recipe, e.g. ['none']")
    check_release(logits, X, y, released, fresh_X=fresh_X, fresh_y=fresh_y, fresh_logits=fresh_logits,
                  test_X=test_X, test_y=test_y, canaries=canaries, fresh_canaries=fresh_canaries)
    defenses = check_recipes(defenses, np.asarray(logits).shape[1])
    device = check_device(device)
    mask = np.asarray(released).astype(bool)
    te = np.flatnonzero(~mask)
    outputs, seeds = _student_outputs(logits, X, y, mask, tau, defenses, student, device, progress,
                                      fresh_X=fresh_X, test_X=test_X)
    canary_mask = None if canaries is None else np.asarray(canaries).astype(bool)
    fresh_canary = None if fresh_canaries is None else np.asarray(fresh_canaries).astype(bool)
    teacher_fresh = None if fresh_logits is None else np.asarray(fresh_logits).argmax(axis=1)
    y_np = np.asarray(y)
    S = student.inits
    rows, runs, all_sets, warnings = [], [], {}, []
    for i, spec in enumerate(defenses):
        part = slice(i * S, (i + 1) * S)
        sets = Sets(Records(outputs["held"][part], y_np[te], None if canary_mask is None else canary_mask[te]),
                    None if fresh_X is None else Records(outputs["fresh"][part], np.asarray(fresh_y), fresh_canary,
                                                         teacher_fresh),
                    None if test_X is None else Records(outputs["test"][part], np.asarray(test_y)))
        seed_analysis = derive_seed(student.seed, "shuffle", recipe_index(spec))
        found = stats.analyse(sets, replicates=bootstrap, permutations=null, null_by=null_by, seed=seed_analysis)
        rows.append({"defense": spec, "starts": S, "seed_analysis": seed_analysis, **found.row()})
        warnings += [w for w in found.warnings if w not in warnings]
        all_sets[spec] = sets
        per_start = student_metrics(
            torch.from_numpy(outputs["held"][part]), torch.from_numpy(y_np[te]),
            fresh_logits=None if fresh_X is None else torch.from_numpy(outputs["fresh"][part]),
            fresh_y=None if fresh_y is None else torch.as_tensor(np.asarray(fresh_y)),
            teacher_fresh=None if fresh_logits is None else _as_tensor(fresh_logits, torch.float64).T,
            test_logits=None if test_X is None else torch.from_numpy(outputs["test"][part]),
            test_y=None if test_y is None else torch.as_tensor(np.asarray(test_y)))
        per_start.insert(0, "start", range(S))
        per_start.insert(0, "defense", spec)
        per_start["seed_student"] = seeds[part]
        runs.append(per_start)
    not_measured = _not_measured(fresh_X, fresh_logits, test_X)
    warnings += _mixture_warnings(canary_mask, fresh_canary, te, fresh_X is not None)
    settings = _settings(logits, mask, te, tau, defenses, device, student, bootstrap, null, null_by,
                         fresh_X=fresh_X, fresh_y=fresh_y, test_y=test_y, canary_mask=canary_mask)
    index = {"heldout": te, "fresh": np.arange(settings["num_fresh"]), "test": np.arange(settings["num_test"])}
    return AuditReport(summary=pd.DataFrame(rows), runs=pd.concat(runs, ignore_index=True), settings=settings,
                       not_measured=not_measured, warnings=warnings, sets=all_sets, index=index)


def _student_outputs(logits, X, y, mask, tau, defenses, student, device, progress, *, fresh_X, test_X):
    """Train one student per recipe and start on the released records' targets (one ensemble); their float64
    logits on the held-out, fresh and test records (members in recipe-major order), and their seeds."""
    z = _as_tensor(logits, torch.float64).T.contiguous()  # (c, n), the package's class-first layout
    Xt, yt = _as_tensor(X, torch.float32), _as_tensor(y, torch.long)
    m = torch.as_tensor(mask)
    tr, te = torch.nonzero(m).flatten(), torch.nonzero(~m).flatten()
    S = student.inits
    targets = torch.stack([release(z[:, tr], tau, spec, seed=noise_seed(student.seed, spec, k))
                           for spec in defenses for k in range(S)]).float()
    seeds = [derive_seed(student.seed, "student_init", k) for _ in defenses for k in range(S)]
    model, _ = train_students(Xt[tr].to(device), targets.to(device), student, labels=yt[tr].to(device), seeds=seeds,
                              device=device, progress=progress, desc=f"{len(seeds)} students")

    def outputs(inputs) -> np.ndarray:
        with torch.no_grad():
            return model(_as_tensor(inputs, torch.float32).to(device)).double().cpu().numpy()

    out = {"held": outputs(np.asarray(X)[te.numpy()])}
    if fresh_X is not None:
        out["fresh"] = outputs(fresh_X)
    if test_X is not None:
        out["test"] = outputs(test_X)
    return out, seeds


def _not_measured(fresh_X, fresh_logits, test_X) -> list[str]:
    """What the report cannot say without the inputs it was not given."""
    out = []
    if fresh_X is None:
        out.append("fresh accuracy, leak, advantage and membership signal: no fresh records (--fresh-inputs, "
                   "--fresh-labels); chance 1/c is not assumed")
    elif fresh_logits is None:
        out.append("agreement with the teacher on fresh inputs: the teacher's logits there were not given "
                   "(--fresh-logits)")
    if test_X is None:
        out.append("test accuracy: no labelled test set (--test-inputs, --test-labels)")
    return out


def _mixture_warnings(canary_mask, fresh_canary, te, has_fresh: bool) -> list[str]:
    """Warnings when held-out and fresh records mix canaries in different proportions (or the fresh canaries'
    controls are not named)."""
    if canary_mask is None or not has_fresh:
        return []
    out = []
    if fresh_canary is None:
        out.append("no --fresh-canaries: every fresh record is a canary's control, so the fresh records must "
                   "carry canary-style labels drawn as the canaries' were")
    share_h = float(canary_mask[te].mean())
    share_f = 1.0 if fresh_canary is None else float(fresh_canary.mean())
    if abs(share_h - share_f) > MIXTURE_GAP:
        out.append(f"the held-out records are {share_h:.0%} canaries and the fresh records {share_f:.0%}: the "
                   "overall leak mixes different kinds of records on the two sides and may be biased either "
                   "way; read the canary rows, or give fresh records in the held-out records' mixture")
    return out


def _settings(logits, mask, te, tau, defenses, device, student, bootstrap, null, null_by, *, fresh_X, fresh_y,
              test_y, canary_mask) -> dict:
    """The audit's settings, as the report's JSON records them."""
    n, c = np.asarray(logits).shape
    settings = {"num_samples": int(n), "num_classes": int(c), "num_released": int(mask.sum()),
                "num_heldout": int(te.size), "num_fresh": 0 if fresh_y is None else int(np.asarray(fresh_y).size),
                "num_test": 0 if test_y is None else int(np.asarray(test_y).size),
                "num_heldout_canaries": 0 if canary_mask is None else int(canary_mask[te].sum()),
                "tau": float(tau), "student_temperature": 1.0, "defenses": defenses, "device": str(device),
                **{k: v for k, v in asdict(student).items() if k != "make"},
                "custom_student": student.make is not None, "bootstrap": int(bootstrap), "permutations": int(null),
                "null": (null_by or ("records" if fresh_X is not None else "labels")) if null else None,
                "alpha": stats.ALPHA}
    settings["hidden"] = list(student.hidden)
    return settings
