"""Metrics as pure functions on tensors, one value per ensemble member (spec §0.3).

Shapes: logits (E, c, n) (class-first, see :mod:`softleak.models`); labels (n,) shared by all
members or (E, n); soft targets (c, n) shared or (E, c, n). Every function returns an (E,) tensor.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import torch
from scipy import stats

from .theory import FULL  # "reaches 100 %": the level every chapter reads full recovery at (declared in theory)


def predictions(logits: torch.Tensor) -> torch.Tensor:
    """argmax class per member and sample: (E, c, n) -> (E, n)."""
    return logits.argmax(dim=-2)


def masked_mean(values: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
    """Mean over the last (sample) dimension, over the samples where ``mask`` is true (all if None).

    A mask lets members with different numbers of samples share one padded tensor: padded samples
    carry weight exactly 0.
    """
    if mask is None:
        return values.mean(dim=-1)
    w = mask.to(values.dtype)
    return (values * w).sum(dim=-1) / w.sum(dim=-1)


def accuracy(logits: torch.Tensor, y: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
    """Fraction of samples whose argmax equals the true label, per member."""
    return masked_mean((predictions(logits) == y).to(logits.dtype), mask)


def agreement(logits: torch.Tensor, reference_logits: torch.Tensor) -> torch.Tensor:
    """acc_match_T: fraction of samples on which argmax(student) = argmax(teacher), per member."""
    return (predictions(logits) == predictions(reference_logits)).to(logits.dtype).mean(dim=-1)


def _classes_last(logits: torch.Tensor) -> bool:
    """Whether (E, c, n) logits are a transposed view of sample-major (E, n, c) memory (the transformer's).

    The log-softmax then runs over contiguous rows: in float64 about 2× faster than over the strided
    class dimension of the class-first layout (measured here, chapter 2's student shapes)."""
    return logits.dim() == 3 and logits.shape[1] > 1 and logits.stride(1) == 1


def hard_cross_entropy(logits: torch.Tensor, y: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
    """Mean cross-entropy −log softmax(z)_y over samples, per member."""
    if logits.dim() == 2:
        return hard_cross_entropy(logits[None], y, mask)
    E, c, n = logits.shape
    target = y.expand(E, n)
    if _classes_last(logits):
        rows = logits.transpose(1, 2).reshape(E * n, c)
        per_sample = torch.nn.functional.cross_entropy(rows, target.reshape(E * n), reduction="none").view(E, n)
    else:
        per_sample = torch.nn.functional.cross_entropy(logits, target, reduction="none")  # class dim 1
    return masked_mean(per_sample, mask)


def soft_cross_entropy(logits: torch.Tensor, targets: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
    """Mean soft-label cross-entropy −Σ_k ŷ_k log softmax(z)_k over samples, per member.

    Paper: §2 (the student's loss, averaged over samples as in the authors' code; spec §0.2).
    """
    if logits.dim() == 2:
        return soft_cross_entropy(logits[None], targets, mask)
    target = targets.expand_as(logits)  # (E, c, n)
    if _classes_last(logits):
        E, c, n = logits.shape
        log_p = torch.log_softmax(logits.transpose(1, 2), dim=-1)  # (E, n, c), contiguous rows
        t = target.transpose(1, 2).to(log_p.dtype)  # free when the targets share that layout (soft_labels(…).mT)
        return masked_mean(-(t * log_p).sum(-1), mask)
    return masked_mean(torch.nn.functional.cross_entropy(logits, target, reduction="none"), mask)  # class dim 1


def cross_entropy_logit_grad(logits: torch.Tensor, targets: torch.Tensor, mask: torch.Tensor | None = None
                             ) -> torch.Tensor:
    """The gradient, with respect to the logits (E, c, n), of the sum over members of each member's mean
    cross-entropy: :func:`soft_cross_entropy` for float targets (c, n) or (E, c, n), :func:`hard_cross_entropy`
    for integer labels (n,) or (E, n).

    Per sample it is softmax(z)·Σ_k ŷ_k − ŷ (soft; the formula autograd's log-softmax backward computes, so
    targets that do not sum to one get the same gradient) or softmax(z) − onehot(y) (hard), weighted by 1/n or,
    with a mask, by mask/Σ mask as :func:`masked_mean` weighs the loss. Tested against ``torch.autograd`` on both
    losses.
    """
    if logits.dim() != 3:
        raise ValueError(f"logits must have shape (E, c, n), got {tuple(logits.shape)}")
    E, c, n = logits.shape
    g = torch.softmax(logits, dim=1)
    if targets.is_floating_point():
        t = targets.expand_as(logits).to(g.dtype)
        g = g.mul_(t.sum(dim=1, keepdim=True)).sub_(t)
    else:
        index = targets.expand(E, n)[:, None, :]
        g = g.scatter_add_(1, index, torch.full((1, 1, 1), -1.0, dtype=g.dtype, device=g.device).expand(E, 1, n))
    if mask is None:
        return g.div_(n)
    w = mask.to(g.dtype)
    return g.mul_((w / w.sum(dim=-1, keepdim=True))[:, None, :])


def unit_embeddings(logits: torch.Tensor) -> torch.Tensor:
    """Every sample's logit vector scaled to unit length over the class dimension (-2); 0 stays 0."""
    return logits / logits.norm(dim=-2, keepdim=True).clamp_min(1e-12)


def nearest_neighbour_labels(train_logits: torch.Tensor, train_y: torch.Tensor, query_logits: torch.Tensor) -> torch.Tensor:
    """Label every query by its nearest training sample in cosine similarity of the embeddings.

    Args:
        train_logits: (E, c, n_train) embeddings of the labelled samples.
        train_y: (E, n_train) or (n_train,) their labels.
        query_logits: (E, c, m) embeddings to label.

    Returns:
        (E, m) predicted labels (the workshop's similarity student, §3.2).
    """
    sims = unit_embeddings(query_logits).transpose(-1, -2) @ unit_embeddings(train_logits)  # (E, m, n_train)
    nearest = sims.argmax(dim=-1)
    train_y = train_y.expand(nearest.shape[0], -1) if train_y.dim() == 1 else train_y
    return torch.gather(train_y, 1, nearest)


def sem(values) -> float:
    """Standard error of the mean with the sample standard deviation (ddof = 1).

    The authors' code divides the population std (ddof = 0) by √n, which is smaller by
    √((n−1)/n); the book uses the textbook estimator.
    """
    v = np.asarray(values, dtype=float)
    return float(v.std(ddof=1) / math.sqrt(v.size)) if v.size > 1 else float("nan")


def mean_ci(values, level: float = 0.95) -> tuple[float, float, float]:
    """Mean and Student-t confidence interval ``(mean, low, high)`` of independent values."""
    v = np.asarray(values, dtype=float)
    m = float(v.mean())
    if v.size < 2:
        return m, float("nan"), float("nan")
    half = float(stats.t.ppf(0.5 + level / 2, df=v.size - 1)) * sem(v)
    return m, m - half, m + half


def seed_means(table: pd.DataFrame, by: list[str], metrics: list[str], seed: str = "seed",
               with_sem: bool = False) -> pd.DataFrame:
    """Mean and count over ``seed`` of ``metrics`` per group ``by`` (a NaN run makes its group NaN:
    missing runs are never averaged away). Columns: ``by``, each metric, ``<metric>_sem`` (the
    :func:`sem` rule, ddof = 1) if ``with_sem``, and ``num_seeds``."""
    grouped = table.groupby(by, sort=True)
    values = grouped[metrics]
    complete = values.count().eq(grouped.size(), axis=0)
    out = values.mean().where(complete)
    if with_sem:
        out = out.join((values.std(ddof=1) / np.sqrt(values.count())).where(complete).add_suffix("_sem"))
    out["num_seeds"] = grouped[seed].nunique()
    return out.reset_index()
