"""Record-level statistics of an audit: every number with an interval over records and student starts,
and a null that says whether it is beyond what no leak would give.

The students of one recipe give, per start e and record i, whether the student names the record's label
(``correct``), its membership score log p_y − log Σ_{y'≠y} p_{y'} (``score``), the rank of the label among
the student's classes (``rank``, 1 = its top class) and, on fresh records, whether it agrees with the
teacher. Every reported quantity is a function of these arrays:

- **Intervals** (:func:`bootstrap`): a percentile bootstrap that resamples, in each replicate, the held-out
  records, the fresh records and the test records separately (stratified by set, with replacement) and the
  student starts (with replacement). It covers the two sources of variance a single audit has: which records
  happened to be held out and fresh, and which starts the students drew.
- **The null** (:func:`null`): "the release leaks nothing about the held-out records". ``by="records"``
  (the default when fresh records are given): held-out and fresh records are exchangeable, so the set
  labels are permuted between them (K times, same set sizes, the same permutation for every start). It
  holds for any labels, natural ones included, as long as the fresh records are drawn as the held-out ones
  were. ``by="labels"``: the held-out records' labels are permuted among themselves (labels the teacher
  never saw for those inputs, same marginals); it needs no fresh records but is a valid null only where
  labels cannot be predicted from inputs (random labels, canaries): on natural labels a student that
  generalises beats it without any leak.
- **The verdict** (:func:`verdict`): "leaks" when the one-sided permutation p-value of the primary statistic
  (:data:`PRIMARY`: the exposure gap, held-out minus fresh mean exposure log2(c) − log2(rank of the label); under
  the labels null, the held-out exposure) is at most :data:`ALPHA`; with canaries the canary exposure gap is a
  second test and the two p-values are Bonferroni-combined. Otherwise "no evidence of leakage", which is not
  evidence of no leakage. The exposure reads where the student ranks each label, so it sees a leak before the
  label reaches the top (accuracy) and, being a rank, it does not move with the student's confidence on an
  input, which the membership score does: in worlds where the teacher never saw the held-out labels, the
  membership AUC of a release rounded to one decimal is "significant" well above the declared rate
  (``tests/test_audit.py`` measures both), so it is reported, never decisive.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from scipy.special import logsumexp
from scipy.stats import rankdata

#: a TPR at false-positive rate f is reported only when the fresh records allow at least this many false
#: positives at the threshold (⌊f · n_fresh⌋ ≥ 10): below that the threshold rests on a handful of records
MIN_FALSE_POSITIVES = 10
FPRS = (0.01, 0.05)
#: below this many fresh records the trivial accuracy and the membership AUC rest on too few records to read:
#: the AUC and the TPRs are not reported and the report warns
MIN_FRESH = 50
#: the normalized advantage (acc − trivial) / (1 − trivial) is reported only where the trivial accuracy leaves
#: room for it (trivial ≤ 0.9): above, one or two fresh records swing it by tens of points
MAX_TRIVIAL = 0.9
ALPHA = 0.05  # the level of the verdict "leaks"
CONFIDENCE = 0.95
BOOTSTRAP = 2000  # bootstrap replicates (the command line's --bootstrap)
#: replicates (or null draws) × records held in memory at once: the bootstrap and the null run in chunks of at
#: most this many elements per array (about 32 MB of float64), whatever the number of records
MEMORY_ELEMENTS = 4_000_000
NULL = 999  # null permutations (the command line's --null)
NULLS = ("records", "labels")
LEAKS, NO_EVIDENCE, NOT_TESTED = "leaks", "no evidence of leakage", "not tested"

#: every quantity of a report, in the order shown, with its unit ("pct" or "num") and what it means
QUANTITIES = {
    "acc_heldout": ("pct", "held-out accuracy: share of the unreleased memorized records whose label the student names"),
    "trivial": ("pct", "fresh accuracy: the same on fresh records the teacher never saw (the control)"),
    "leak": ("pct", "held-out − fresh accuracy, in points: what the release gives away beyond the control"),
    "advantage": ("pct", "(held-out − fresh) / (1 − fresh): the share of what the control leaves that the student "
                         f"recovers; shown only where the fresh accuracy is ≤ {MAX_TRIVIAL:.0%}"),
    "exposure_heldout": ("num", "mean exposure of the held-out records' labels, log2(c) − log2(rank of the label among "
                                "the student's classes): log2(c) when the student ranks it first, about 0.56 below "
                                "log2(c)… down to 0 at random"),
    "exposure_fresh": ("num", "the same on fresh records (the control)"),
    "exposure_gap": ("num", "held-out − fresh exposure, in bits: how much higher the student ranks labels it should "
                            "not know; the verdict reads it"),
    "auc": ("num", "ROC AUC of the student's membership score, held-out records (members) against fresh ones; 0.5 is "
                   "no signal"),
    "tpr@1%": ("pct", "share of held-out records flagged at the threshold that flags 1 % of fresh records"),
    "tpr@5%": ("pct", "the same at 5 %"),
    "agreement": ("pct", "utility: share of fresh inputs where the student's class is the teacher's"),
    "acc_test": ("pct", "utility: the student's accuracy on the labelled test set"),
    "canary.recovered_heldout": ("pct", "share of held-out canaries whose memorized label is the student's class"),
    "canary.recovered_fresh": ("pct", "the same on fresh canaries (the control)"),
    "canary.leak": ("pct", "held-out − fresh canaries recovered, in points"),
    "canary.exposure_heldout": ("num", "mean exposure of the held-out canaries, log2(c) − log2(rank of the canary's "
                                       "label); its value without a leak is the fresh canaries'"),
    "canary.exposure_fresh": ("num", "mean exposure of the fresh canaries"),
    "canary.exposure_gap": ("num", "held-out − fresh canary exposure, in bits; the verdict reads it"),
}
#: the statistic the verdict reads, per null
PRIMARY = {"records": "exposure_gap", "labels": "exposure_heldout"}
CANARY_PRIMARY = "canary.exposure_gap"


# ---------------------------------------------------------------------------------------------
# Per-record scores
# ---------------------------------------------------------------------------------------------

def membership_scores_np(logits: np.ndarray, y: np.ndarray) -> np.ndarray:
    """z_y − logsumexp_{y' ≠ y} z_{y'} = log p_y − log Σ_{y'≠y} p_{y'}: (E, c, n) logits, (n,) or (E, n) labels ->
    (E, n). Exact for any logit size (no probability is formed)."""
    z = np.asarray(logits, dtype=np.float64)
    idx = np.broadcast_to(np.asarray(y), (z.shape[0], z.shape[2]))[:, None, :]
    z_y = np.take_along_axis(z, idx, axis=1)[:, 0]
    others = z.copy()
    np.put_along_axis(others, idx, -np.inf, axis=1)
    return z_y - logsumexp(others, axis=1)


def class_scores(logits: np.ndarray) -> np.ndarray:
    """The membership score of every class as the label: (E, c, n) -> (E, c, n). For a class below the top,
    log Σ_{others} = lse + log1p(−p_k) with p_k ≤ ½ (stable); for the top class the others' logsumexp is taken
    directly."""
    z = np.asarray(logits, dtype=np.float64)
    lse = logsumexp(z, axis=1, keepdims=True)
    with np.errstate(divide="ignore"):
        out = z - (lse + np.log1p(-np.exp(z - lse)))
    top = z.argmax(axis=1)
    out_top = membership_scores_np(z, top[0]) if z.shape[0] == 1 else np.stack(
        [membership_scores_np(z[e:e + 1], top[e])[0] for e in range(z.shape[0])])
    np.put_along_axis(out, top[:, None, :], out_top[:, None, :], axis=1)
    return out


def label_rank(logits: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Rank of the label among the student's classes, 1 = its top class (1 + the classes scored strictly
    higher): (E, c, n), (n,) -> (E, n) integers."""
    z = np.asarray(logits, dtype=np.float64)
    z_y = np.take_along_axis(z, np.broadcast_to(np.asarray(y)[None, None, :], (z.shape[0], 1, z.shape[2])), axis=1)
    return 1 + (z > z_y).sum(axis=1)


@dataclass
class Records:
    """One recipe's students on one set of records: per start (rows) and record (columns)."""

    logits: np.ndarray  # (E, c, n) the students' logits
    y: np.ndarray  # (n,) the labels scored
    canary: np.ndarray | None = None  # (n,) booleans, the canaries among them
    agree_with: np.ndarray | None = None  # (n,) the teacher's class on these inputs (agreement)
    pred: np.ndarray = field(init=False)
    correct: np.ndarray = field(init=False)
    score: np.ndarray = field(init=False)
    rank: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        self.logits = np.asarray(self.logits, dtype=np.float64)
        self.y = np.asarray(self.y, dtype=np.int64)
        self.pred = self.logits.argmax(axis=1)
        self.correct = (self.pred == self.y[None]).astype(np.float64)
        self.score = membership_scores_np(self.logits, self.y)
        self.rank = label_rank(self.logits, self.y)

    @property
    def n(self) -> int:
        return int(self.y.size)

    @property
    def starts(self) -> int:
        return int(self.logits.shape[0])

    @property
    def classes(self) -> int:
        return int(self.logits.shape[1])

    def agree(self) -> np.ndarray | None:
        return None if self.agree_with is None else (self.pred == self.agree_with[None]).astype(np.float64)

    def exposure(self) -> np.ndarray:
        """log2(c) − log2(rank): the secret-sharer exposure of each record's label among c candidates."""
        return math.log2(self.classes) - np.log2(self.rank)

    def subset(self, mask: np.ndarray) -> "Records":
        mask = np.asarray(mask, dtype=bool)
        return Records(self.logits[:, :, mask], self.y[mask],
                       None if self.canary is None else self.canary[mask],
                       None if self.agree_with is None else self.agree_with[mask])


# ---------------------------------------------------------------------------------------------
# Metrics of weighted records (a bootstrap replicate is a weighting; the point estimate weighs every record 1)
# ---------------------------------------------------------------------------------------------

def roc_auc(members, nonmembers) -> float:
    """Area under the ROC curve of scores, members the positives: P(member > non-member) + ½ P(tie)
    (the Mann–Whitney statistic with tied ranks averaged). NaN if either side is empty."""
    pos, neg = np.asarray(members, dtype=float).ravel(), np.asarray(nonmembers, dtype=float).ravel()
    if pos.size == 0 or neg.size == 0:
        return float("nan")
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


def _wmean(w: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Weighted means of per-record values v (E, n) under weights w (B, n): (B, E)."""
    return (w @ v.T) / w.sum(axis=1, keepdims=True)


def _weighted_auc(wp: np.ndarray, sp: np.ndarray, wn: np.ndarray, sn: np.ndarray) -> np.ndarray:
    """The Mann–Whitney AUC of positives (scores sp (m,), weights wp (B, m)) against negatives (sn (f,),
    wn (B, f)), ties counted one half: (B,)."""
    order = np.argsort(sn, kind="stable")
    sorted_neg = sn[order]
    lo, hi = np.searchsorted(sorted_neg, sp, "left"), np.searchsorted(sorted_neg, sp, "right")
    cum = np.concatenate([np.zeros((wn.shape[0], 1)), np.cumsum(wn[:, order], axis=1)], axis=1)
    below, equal = cum[:, lo], cum[:, hi] - cum[:, lo]
    return (wp * (below + 0.5 * equal)).sum(axis=1) / (wp.sum(axis=1) * wn.sum(axis=1))


def _weighted_tpr(wp, sp, wn, sn, fpr: float) -> np.ndarray:
    """TPR at ``fpr`` with weighted records (:func:`tpr_at_fpr` when every weight is 1): (B,)."""
    allowed = math.floor(fpr * sn.size + 1e-9)
    order = np.argsort(-sn, kind="stable")
    cum = np.cumsum(wn[:, order], axis=1)
    threshold = sn[order][np.argmax(cum > allowed + 1e-9, axis=1)]
    return (wp * (sp[None, :] > threshold[:, None])).sum(axis=1) / wp.sum(axis=1)


def _by_start(per_start: np.ndarray, ws: np.ndarray) -> np.ndarray:
    """Average (B, E) per-start values with start weights ws (B, E), NaN-aware: (B,)."""
    ok = np.isfinite(per_start)
    w = np.where(ok, ws, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(w.sum(axis=1) > 0, (np.where(ok, per_start, 0.0) * w).sum(axis=1) / w.sum(axis=1), np.nan)


def _metrics(held: Records, fresh: Records | None, test: Records | None, wh, wf, wt, ws) -> dict[str, np.ndarray]:
    """Every quantity of :data:`QUANTITIES` (those the sets allow) under record weights wh, wf, wt and start
    weights ws (B, E): (B,) each."""
    out = {}
    acc = _wmean(wh, held.correct)
    out["acc_heldout"] = _by_start(acc, ws)
    exp_h = _wmean(wh, held.exposure())
    out["exposure_heldout"] = _by_start(exp_h, ws)
    if fresh is not None:
        exp_f = _wmean(wf, fresh.exposure())
        out["exposure_fresh"] = _by_start(exp_f, ws)
        out["exposure_gap"] = _by_start(exp_h - exp_f, ws)
        triv = _wmean(wf, fresh.correct)
        out["trivial"] = _by_start(triv, ws)
        out["leak"] = _by_start(acc - triv, ws)
        with np.errstate(invalid="ignore", divide="ignore"):
            out["advantage"] = _by_start(np.where(triv < 1, (acc - triv) / (1 - triv), np.nan), ws)
        if fresh.n >= MIN_FRESH:
            auc = np.stack([_weighted_auc(wh, held.score[e], wf, fresh.score[e]) for e in range(held.starts)], axis=1)
            out["auc"] = _by_start(auc, ws)
            for f in FPRS:
                if resolvable(f, fresh.n):
                    tpr = np.stack([_weighted_tpr(wh, held.score[e], wf, fresh.score[e], f)
                                    for e in range(held.starts)], axis=1)
                    out[f"tpr@{round(100 * f)}%"] = _by_start(tpr, ws)
        agree = fresh.agree()
        if agree is not None:
            out["agreement"] = _by_start(_wmean(wf, agree), ws)
    if test is not None:
        out["acc_test"] = _by_start(_wmean(wt, test.correct), ws)
    return out


def _canary_metrics(held: Records, fresh: Records, wh, wf, ws) -> dict[str, np.ndarray]:
    rec_h, rec_f = _wmean(wh, held.correct), _wmean(wf, fresh.correct)
    exp_h, exp_f = _wmean(wh, held.exposure()), _wmean(wf, fresh.exposure())
    return {"canary.recovered_heldout": _by_start(rec_h, ws), "canary.recovered_fresh": _by_start(rec_f, ws),
            "canary.leak": _by_start(rec_h - rec_f, ws), "canary.exposure_heldout": _by_start(exp_h, ws),
            "canary.exposure_fresh": _by_start(exp_f, ws), "canary.exposure_gap": _by_start(exp_h - exp_f, ws)}


# ---------------------------------------------------------------------------------------------
# Intervals and the null
# ---------------------------------------------------------------------------------------------

def _ones(b: int, n: int) -> np.ndarray:
    return np.ones((b, n))


def _resample(rng: np.random.Generator, b: int, n: int) -> np.ndarray:
    """Bootstrap weights: how often each of n items is drawn in each of b replicates (B, n)."""
    return rng.multinomial(n, np.full(n, 1.0 / n), size=b).astype(np.float64) if n else np.zeros((b, 0))


@dataclass
class Sets:
    """The records one recipe's audit reads: held-out memorized records, fresh records and a test set (the
    last two optional), and the canary subsets of the first two when canaries were marked."""

    held: Records
    fresh: Records | None = None
    test: Records | None = None

    def canaries(self) -> tuple[Records, Records] | None:
        if self.held.canary is None or not self.held.canary.any() or self.fresh is None:
            return None
        fmask = self.fresh.canary if self.fresh.canary is not None else np.ones(self.fresh.n, dtype=bool)
        if not fmask.any():
            return None
        return self.held.subset(self.held.canary), self.fresh.subset(fmask)

    def point(self) -> dict[str, float]:
        E = self.held.starts
        one = np.ones((1, E))
        out = _metrics(self.held, self.fresh, self.test, _ones(1, self.held.n),
                       None if self.fresh is None else _ones(1, self.fresh.n),
                       None if self.test is None else _ones(1, self.test.n), one)
        pair = self.canaries()
        if pair is not None:
            out.update(_canary_metrics(*pair, _ones(1, pair[0].n), _ones(1, pair[1].n), one))
        return {k: float(v[0]) for k, v in out.items()}


def bootstrap(sets: Sets, *, replicates: int = BOOTSTRAP, seed: int = 0, level: float = CONFIDENCE,
              chunk: int = 250) -> dict[str, tuple[float, float]]:
    """Percentile bootstrap intervals of every quantity: each replicate resamples the held-out, fresh and test
    records separately (with replacement) and the student starts; canaries are resampled within their own
    sets. Returns ``{quantity: (low, high)}``."""
    rng = np.random.default_rng(seed)
    E = sets.held.starts
    pair = sets.canaries()
    records = sets.held.n + sum(r.n for r in (sets.fresh, sets.test) if r is not None)
    chunk = max(1, min(chunk, MEMORY_ELEMENTS // max(records, 1)))
    draws: dict[str, list[np.ndarray]] = {}
    done = 0
    while done < replicates:
        b = min(chunk, replicates - done)
        ws = _resample(rng, b, E) if E > 1 else np.ones((b, 1))
        wh = _resample(rng, b, sets.held.n)
        wf = None if sets.fresh is None else _resample(rng, b, sets.fresh.n)
        wt = None if sets.test is None else _resample(rng, b, sets.test.n)
        out = _metrics(sets.held, sets.fresh, sets.test, wh, wf, wt, ws)
        if pair is not None:
            out.update(_canary_metrics(*pair, _resample(rng, b, pair[0].n), _resample(rng, b, pair[1].n), ws))
        for k, v in out.items():
            draws.setdefault(k, []).append(v)
        done += b
    tail = 100 * (1 - level) / 2
    result = {}
    for k, parts in draws.items():
        v = np.concatenate(parts)
        v = v[np.isfinite(v)]
        result[k] = (float(np.percentile(v, tail)), float(np.percentile(v, 100 - tail))) if v.size else (math.nan, math.nan)
    return result


def _perm_index(rng: np.random.Generator, k: int, n: int) -> np.ndarray:
    return np.argsort(rng.random((k, n)), axis=1)


def _advantage_rows(acc: np.ndarray, triv: np.ndarray) -> np.ndarray:
    """(acc − triv) / (1 − triv) per draw and start (K, E), averaged over starts; NaN where no start has room."""
    with np.errstate(invalid="ignore", divide="ignore"):
        adv = np.where(triv < 1, (acc - triv) / (1 - triv), np.nan)
    ok = np.isfinite(adv)
    return np.where(ok.any(axis=1), np.where(ok, adv, 0.0).sum(axis=1) / np.maximum(ok.sum(axis=1), 1), np.nan)


def _null_records(held: Records, fresh: Records, perms: np.ndarray) -> dict[str, np.ndarray]:
    """Every leakage quantity with the set labels permuted between held-out and fresh records: (K,) each."""
    m, f = held.n, fresh.n
    K = perms.shape[0]
    acc, triv, aucs, exp_h, exp_f = (np.zeros((K, held.starts)) for _ in range(5))
    tprs = {fpr: np.zeros((K, held.starts)) for fpr in FPRS if resolvable(fpr, f)}
    for e in range(held.starts):
        correct = np.concatenate([held.correct[e], fresh.correct[e]])
        total = correct.sum()
        in_h = correct[perms[:, :m]].sum(axis=1)
        acc[:, e], triv[:, e] = in_h / m, (total - in_h) / f
        exposure = np.concatenate([held.exposure()[e], fresh.exposure()[e]])
        in_h = exposure[perms[:, :m]].sum(axis=1)
        exp_h[:, e], exp_f[:, e] = in_h / m, (exposure.sum() - in_h) / f
        scores = np.concatenate([held.score[e], fresh.score[e]])
        ranks = rankdata(scores)
        aucs[:, e] = (ranks[perms[:, :m]].sum(axis=1) - m * (m + 1) / 2) / (m * f)
        for fpr in tprs:
            allowed = math.floor(fpr * f + 1e-9)
            neg = -np.sort(-scores[perms[:, m:]], axis=1)
            threshold = neg[:, allowed]
            tprs[fpr][:, e] = (scores[perms[:, :m]] > threshold[:, None]).mean(axis=1)
    # the controls themselves (fresh accuracy and exposure) have no null
    out = {"acc_heldout": acc.mean(axis=1), "leak": (acc - triv).mean(axis=1), "exposure_heldout": exp_h.mean(axis=1),
           "exposure_gap": (exp_h - exp_f).mean(axis=1)}
    out["advantage"] = _advantage_rows(acc, triv)
    if f >= MIN_FRESH:
        out["auc"] = aucs.mean(axis=1)
        out.update({f"tpr@{round(100 * fpr)}%": v.mean(axis=1) for fpr, v in tprs.items()})
    return out


def _null_labels(held: Records, fresh: Records | None, perms: np.ndarray) -> dict[str, np.ndarray]:
    """Every leakage quantity with the held-out labels permuted among the held-out records: (K,) each."""
    y = held.y[perms]  # (K, m)
    acc = (held.pred[None, :, :] == y[:, None, :]).mean(axis=2)  # (K, E)
    ranks = rankdata(-held.logits, method="min", axis=1)  # (E, c, m): 1 + the classes scored strictly higher
    cols = np.arange(held.n)
    exp_h = np.stack([(math.log2(held.classes) - np.log2(ranks[e][y, cols[None, :]])).mean(axis=1)
                      for e in range(held.starts)], axis=1)  # (K, E)
    out = {"acc_heldout": acc.mean(axis=1), "exposure_heldout": exp_h.mean(axis=1)}
    if fresh is not None:
        triv = fresh.correct.mean(axis=1)[None, :]
        out["leak"] = (acc - triv).mean(axis=1)
        out["exposure_gap"] = (exp_h - fresh.exposure().mean(axis=1)[None, :]).mean(axis=1)
        out["advantage"] = _advantage_rows(acc, np.broadcast_to(triv, acc.shape))
        if fresh.n >= MIN_FRESH:
            S = class_scores(held.logits)  # (E, c, m)
            aucs = np.zeros(acc.shape)
            for e in range(held.starts):
                sp = S[e][y, cols[None, :]]  # (K, m)
                sorted_neg = np.sort(fresh.score[e])
                lo, hi = np.searchsorted(sorted_neg, sp, "left"), np.searchsorted(sorted_neg, sp, "right")
                aucs[:, e] = (lo + 0.5 * (hi - lo)).mean(axis=1) / fresh.n
            out["auc"] = aucs.mean(axis=1)
    return out


def _null_canaries(held: Records, fresh: Records, perms: np.ndarray) -> dict[str, np.ndarray]:
    m = held.n
    rec_h, rec_f, exp_h, exp_f = (np.zeros((perms.shape[0], held.starts)) for _ in range(4))
    for e in range(held.starts):
        correct = np.concatenate([held.correct[e], fresh.correct[e]])
        exposure = np.concatenate([held.exposure()[e], fresh.exposure()[e]])
        in_h = correct[perms[:, :m]].sum(axis=1)
        rec_h[:, e], rec_f[:, e] = in_h / m, (correct.sum() - in_h) / fresh.n
        in_h = exposure[perms[:, :m]].sum(axis=1)
        exp_h[:, e], exp_f[:, e] = in_h / m, (exposure.sum() - in_h) / fresh.n
    return {"canary.recovered_heldout": rec_h.mean(axis=1), "canary.leak": (rec_h - rec_f).mean(axis=1),
            "canary.exposure_heldout": exp_h.mean(axis=1), "canary.exposure_gap": (exp_h - exp_f).mean(axis=1)}


def null(sets: Sets, *, by: str = "records", permutations: int = NULL, seed: int = 0) -> dict[str, np.ndarray]:
    """The null distribution of every leakage quantity (K draws each): ``by="records"`` permutes the set labels
    between held-out and fresh records, ``by="labels"`` the held-out labels among the held-out records (see the
    module's text for when each is valid). Canaries, when marked, are permuted between the held-out and the
    fresh canaries in both cases. Utility (agreement, test accuracy) has no null."""
    if by not in NULLS:
        raise ValueError(f"null={by!r} is not allowed: one of {', '.join(NULLS)}")
    if by == "records" and sets.fresh is None:
        raise ValueError("null='records' needs fresh records (the held-out records are compared with them); "
                         "give fresh records or use null='labels'")
    rng = np.random.default_rng(seed)
    if by == "records":
        out = _in_chunks(lambda perms: _null_records(sets.held, sets.fresh, perms), rng, permutations,
                         sets.held.n + sets.fresh.n)
    else:
        out = _in_chunks(lambda perms: _null_labels(sets.held, sets.fresh, perms), rng, permutations, sets.held.n)
    pair = sets.canaries()
    if pair is not None:
        out.update(_in_chunks(lambda perms: _null_canaries(*pair, perms), rng, permutations, pair[0].n + pair[1].n))
    return out


def _in_chunks(fn, rng: np.random.Generator, draws: int, n: int) -> dict[str, np.ndarray]:
    """``fn`` on ``draws`` permutations of n items, drawn and scored in chunks of at most
    :data:`MEMORY_ELEMENTS` // n permutations (the same draws, in the same order, as all at once)."""
    size = max(1, min(draws, MEMORY_ELEMENTS // max(n, 1)))
    parts, done = [], 0
    while done < draws:
        k = min(size, draws - done)
        parts.append(fn(_perm_index(rng, k, n)))
        done += k
    return {q: np.concatenate([p[q] for p in parts]) for q in parts[0]} if parts else {}


def p_value(observed: float, draws: np.ndarray) -> float:
    """One-sided permutation p-value, larger = more leakage: (1 + #{draws ≥ observed}) / (1 + K)."""
    draws = np.asarray(draws, dtype=float)
    draws = draws[np.isfinite(draws)]
    if not math.isfinite(observed) or draws.size == 0:
        return float("nan")
    return float((1 + np.sum(draws >= observed - 1e-12)) / (1 + draws.size))


def verdict(p_values: dict[str, float], *, by: str, alpha: float = ALPHA) -> tuple[str, float]:
    """The declared rule: the primary statistic's p-value (and the canary comparison's, when there is one,
    Bonferroni-combined with it) at most ``alpha`` → "leaks"; otherwise "no evidence of leakage"; no p-value →
    "not tested". Returns (verdict, the p-value it was decided on)."""
    ps = [p for p in (p_values.get(PRIMARY[by]), p_values.get(CANARY_PRIMARY)) if p is not None and math.isfinite(p)]
    if not ps:
        return NOT_TESTED, float("nan")
    p = min(1.0, len(ps) * min(ps))
    return (LEAKS if p <= alpha else NO_EVIDENCE), p


@dataclass
class Analysis:
    """One recipe's record-level analysis: per quantity its value, 95 % bootstrap interval, null quantiles and
    p-value; the verdict and the p-value it rests on; the warnings of small sets."""

    values: dict[str, float]
    intervals: dict[str, tuple[float, float]]
    null_ranges: dict[str, tuple[float, float]]
    p_values: dict[str, float]
    verdict: str
    p_value: float
    null_by: str | None
    warnings: list[str]
    null_draws: dict[str, np.ndarray] = field(default_factory=dict, repr=False)

    def row(self) -> dict[str, object]:
        """A flat row: ``<q>``, ``<q>_low``, ``<q>_high``, ``<q>_null_low``, ``<q>_null_high``, ``<q>_p``."""
        out: dict[str, object] = {"verdict": self.verdict, "p_value": self.p_value, "null": self.null_by}
        for q in QUANTITIES:
            if q not in self.values:
                continue
            low, high = self.intervals.get(q, (math.nan, math.nan))
            nlow, nhigh = self.null_ranges.get(q, (math.nan, math.nan))
            out.update({q: self.values[q], f"{q}_low": low, f"{q}_high": high, f"{q}_null_low": nlow,
                        f"{q}_null_high": nhigh, f"{q}_p": self.p_values.get(q, math.nan)})
        return out


def analyse(sets: Sets, *, replicates: int = BOOTSTRAP, permutations: int = NULL, null_by: str | None = None,
            seed: int = 0) -> Analysis:
    """Values, bootstrap intervals, the null and the verdict of one recipe's records (``null_by`` None: records
    when fresh records are given, else labels; ``permutations`` 0: no null, verdict "not tested")."""
    by = null_by or ("records" if sets.fresh is not None else "labels")
    values = sets.point()
    warnings = []
    if sets.fresh is not None and sets.fresh.n < MIN_FRESH:
        warnings.append(f"only {sets.fresh.n} fresh records (fewer than {MIN_FRESH}): the fresh accuracy rests on "
                        "them alone, and no AUC or TPR is reported")
    if "advantage" in values and not values.get("trivial", 1.0) <= MAX_TRIVIAL:
        values.pop("advantage")
        warnings.append(f"fresh accuracy {values['trivial']:.1%} above {MAX_TRIVIAL:.0%}: the normalized advantage "
                        "leaves too little room to read and is not reported (read the leak in points)")
    intervals = bootstrap(sets, replicates=replicates, seed=seed) if replicates else {}
    nulls = null(sets, by=by, permutations=permutations, seed=seed + 1) if permutations else {}
    p_values = {q: p_value(values[q], d) for q, d in nulls.items() if q in values}
    ranges = {q: (float(np.percentile(d[np.isfinite(d)], 2.5)), float(np.percentile(d[np.isfinite(d)], 97.5)))
              for q, d in nulls.items() if q in values and np.isfinite(d).any()}
    word, p = verdict(p_values, by=by)
    return Analysis(values, intervals, ranges, p_values, word, p, by if permutations else None, warnings, nulls)


def pooled_p(observed, draws) -> float:
    """The p-value of the mean statistic over T independent runs (teachers), each with its own null: observed
    (T,) values and (T, K) null draws, drawn independently per run, so that draw k's mean over runs is a draw of
    the mean under the null stratified by run (:func:`p_value` of the means)."""
    observed, draws = np.asarray(observed, dtype=float), np.asarray(draws, dtype=float)
    if observed.size == 0 or draws.ndim != 2 or draws.shape[0] != observed.size:
        return float("nan")
    return p_value(float(observed.mean()), draws.mean(axis=0))
