"""Soft labels and the treatments applied to them before a student sees them.

Shapes follow :mod:`softleak.metrics`: the class dimension is -2, samples are the last dimension.
Paper: §2 (soft labels at temperature τ), App. D.4 and spec §5.8 (tail cut, class removal),
spec §3.6 / §4.4 (within-class shuffle).
"""

from __future__ import annotations

import torch

from .config import check_nonnegative_int, check_positive, check_positive_int
from .metrics import unit_embeddings
from .runtime import make_generator


def soft_labels(logits: torch.Tensor, tau: float | torch.Tensor) -> torch.Tensor:
    """ŷ = softmax(z / τ) over the class dimension.

    Args:
        logits: teacher logits (..., c, n).
        tau: temperature > 0, a float or a tensor broadcastable to ``logits`` (one τ per member).

    Returns:
        Probabilities of the same shape, summing to 1 over the class dimension. τ → 0 gives the
        one-hot argmax, τ → ∞ the uniform distribution.
    """
    if isinstance(tau, torch.Tensor):
        if not bool(torch.all(tau > 0)):
            raise ValueError(f"tau={tau.tolist()} is not allowed: every tau must be > 0")
    else:
        check_positive("tau", tau)
    return torch.softmax(logits / tau, dim=-2)


def one_hot(y: torch.Tensor, c: int, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """Hard labels as class-first one-hot targets: (..., n) -> (..., c, n)."""
    check_positive_int("c", c)
    return torch.nn.functional.one_hot(y, c).to(dtype).transpose(-1, -2)


def cut_tail(
    probs: torch.Tensor,
    k: int,
    *,
    mode: str = "smallest",
    seed: int | None = None,
    renormalize: bool = False,
) -> torch.Tensor:
    """Zero k entries of every soft-label vector (Fig. 18A).

    Args:
        probs: soft labels (..., c, n).
        k: number of entries to zero per sample, 0 <= k < c.
        mode: ``"smallest"`` zeroes the k smallest entries (the paper's description);
            ``"random"`` zeroes k entries drawn uniformly among the non-argmax ones (a labelled
            stand-in for what the authors' released code does, spec §5.8).
        seed: required for ``mode="random"``.
        renormalize: rescale each vector to sum to 1 afterwards (the paper does not).

    Returns:
        A new tensor; the argmax entry is never zeroed.
    """
    c = probs.shape[-2]
    check_nonnegative_int("k", k)
    if k >= c:
        raise ValueError(f"k={k} is not allowed: k must be < c={c} (the argmax entry is kept)")
    if mode == "smallest":
        score = probs
    elif mode == "random":
        if seed is None:
            raise ValueError("seed=None is not allowed with mode='random': pass an explicit seed")
        g = make_generator(seed)
        score = torch.rand(probs.shape, generator=g).to(probs.device)
        score = score.masked_fill(probs == probs.amax(dim=-2, keepdim=True), float("inf"))
    else:
        raise ValueError(f"mode={mode!r} is not allowed: mode must be 'smallest' or 'random'")
    out = probs.clone()
    if k:
        idx = score.topk(k, dim=-2, largest=False).indices  # (..., k, n)
        out.scatter_(-2, idx, 0.0)
    if renormalize:
        out = out / out.sum(dim=-2, keepdim=True)
    return out


def remove_class_entry(
    probs: torch.Tensor, y: torch.Tensor, cls: int, *, renormalize: bool = False
) -> torch.Tensor:
    """Set entry ``cls`` to 0 in the soft label of every sample whose true class is not ``cls``.

    Paper: Fig. 18B, "remove class soft-label entry" (spec §5.8).
    """
    c = probs.shape[-2]
    if not 0 <= cls < c:
        raise ValueError(f"cls={cls} is not allowed: cls must be a class index in [0, {c})")
    out = probs.clone()
    row = out.select(-2, cls)  # (..., n), a view
    row.masked_fill_(y != cls, 0.0)
    if renormalize:
        out = out / out.sum(dim=-2, keepdim=True)
    return out


def shuffle_within_class(targets: torch.Tensor, y: torch.Tensor, seed: int) -> torch.Tensor:
    """Permute the targets of samples within each true class (spec §3.6, §4.4).

    Each input keeps a target of its own class, but the link between a target and its specific
    input is broken. Equivalent to permuting the inputs within each class.

    Args:
        targets: per-sample targets with samples last, e.g. soft labels (c, n) or logits (n,).
        y: true labels (n,).
        seed: shuffle seed.
    """
    check_nonnegative_int("seed", seed)
    g = make_generator(seed)
    perm = torch.arange(y.shape[0])
    for k in torch.unique(y).tolist():
        members = torch.nonzero(y == k).flatten()
        perm[members] = members[torch.randperm(members.numel(), generator=g)]
    return targets[..., perm.to(targets.device)]


def cosine_similarities(logits: torch.Tensor) -> torch.Tensor:
    """Pairwise cosine similarities of output embeddings: (..., c, n) -> (..., n, n).

    The embedding of a sample is its logit vector (the workshop's §3.2, chapter 7); a zero vector
    has similarity 0 with everything.
    """
    unit = unit_embeddings(logits)
    return unit.transpose(-1, -2) @ unit


def similarity_loss(logits: torch.Tensor, target_sims: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
    """Per-member mean squared gap between the student's and the teacher's cosine similarities.

    L_SIM = mean over pairs (i, j) of (cos_T(i, j) − cos_S(i, j))² (the workshop sums; the mean
    differs by a constant factor, to which Adam is insensitive). A ``fit`` loss: logits (E, c, n),
    target_sims (E, n, n); mask must be None (every member trains on all of its n samples).
    """
    if mask is not None:
        raise ValueError("mask is not supported by similarity_loss: give every member the same n samples")
    gap = cosine_similarities(logits) - target_sims
    return gap.square().mean(dim=(-1, -2))
