"""Seeded data sets and the student's split of the teacher's training set.

Everything is drawn on the CPU from a local ``torch.Generator`` and returned on the CPU, so a CPU
and a GPU run see the same numbers; callers move tensors with ``.to(device)``.

Conventions: inputs ``X`` have shape (n, d) (float32), labels ``y`` shape (n,) (int64).
"""

from __future__ import annotations

import torch

from .config import check_fraction, check_nonnegative_int, check_positive_int
from .runtime import derive_seed, make_generator


def toy_2d(n: int, c: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Points uniform in [-1, 1]² with i.i.d. uniform (not balanced) labels over ``c`` classes.

    Paper: Fig. 1 and Fig. 8 (spec §1.2). Inputs are drawn first, then labels, from one generator.

    Args:
        n: number of points.
        c: number of classes.
        seed: data seed.

    Returns:
        ``X`` (n, 2) float32 and ``y`` (n,) int64.
    """
    check_positive_int("n", n)
    check_positive_int("c", c)
    check_nonnegative_int("seed", seed)
    g = make_generator(seed)
    X = 2 * torch.rand(n, 2, generator=g) - 1  # (n, 2)
    y = torch.randint(0, c, (n,), generator=g)  # (n,)
    return X, y


def gaussian_random_labels(
    n: int, d: int, c: int, seed: int, *, balanced: bool = True
) -> tuple[torch.Tensor, torch.Tensor]:
    """Standard Gaussian inputs with random labels (paper §5; spec §3.2, §4.2, §5.2).

    Args:
        n: number of samples; with ``balanced`` it must be a multiple of ``c``.
        d: input dimension.
        c: number of classes.
        seed: data seed.
        balanced: exactly n/c samples per class, in random order; otherwise i.i.d. uniform labels.

    Returns:
        ``X`` (n, d) float32 with i.i.d. N(0, 1) entries and ``y`` (n,) int64.
    """
    for name, v in (("n", n), ("d", d), ("c", c)):
        check_positive_int(name, v)
    check_nonnegative_int("seed", seed)
    if balanced and n % c:
        raise ValueError(f"n={n} is not allowed with balanced labels: n must be a multiple of c={c}")
    g = make_generator(seed)
    X = torch.randn(n, d, generator=g)
    if balanced:
        y = torch.arange(c).repeat_interleave(n // c)[torch.randperm(n, generator=g)]
    else:
        y = torch.randint(0, c, (n,), generator=g)
    return X, y


def uniform_random_labels(samples_per_class: int, d: int, c: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Inputs i.i.d. U[-1, 1]^d with exactly ``samples_per_class`` labels of every class, in random order.

    Paper: the workshop version's setting (§2 there; chapter 7). Inputs are drawn first, then the
    label order, from one generator.

    Returns:
        ``X`` (c·samples_per_class, d) float32 and ``y`` (c·samples_per_class,) int64.
    """
    for name, v in (("samples_per_class", samples_per_class), ("d", d), ("c", c)):
        check_positive_int(name, v)
    check_nonnegative_int("seed", seed)
    g = make_generator(seed)
    n = samples_per_class * c
    X = 2 * torch.rand(n, d, generator=g) - 1
    y = torch.arange(c).repeat_interleave(samples_per_class)[torch.randperm(n, generator=g)]
    return X, y


def split_student(
    y: torch.Tensor, rho: float, seed: int, *, stratify: bool = False
) -> tuple[torch.Tensor, torch.Tensor]:
    """Split D*^T into D_train^S (a fraction ``rho``) and D_test^S (the rest).

    Global split: one random permutation; the first ⌊ρ·n⌋ indices train (spec §1.2). Stratified
    split: ⌊ρ·n_k⌋ of each class k train (spec §3.2).

    Args:
        y: labels of D*^T, shape (n,).
        rho: student training fraction, in (0, 1).
        seed: split seed.
        stratify: split each class separately.

    Returns:
        ``(train_idx, test_idx)``, disjoint sorted int64 index tensors covering ``range(n)``.
    """
    check_fraction("rho", rho)
    check_nonnegative_int("seed", seed)
    n = y.shape[0]
    g = make_generator(seed)
    if stratify:
        train = []
        for k in torch.unique(y).tolist():
            members = torch.nonzero(y == k).flatten()
            members = members[torch.randperm(members.numel(), generator=g)]
            train.append(members[: int(rho * members.numel())])
        train_idx = torch.cat(train)
    else:
        train_idx = torch.randperm(n, generator=g)[: int(rho * n)]
    mask = torch.zeros(n, dtype=torch.bool)
    mask[train_idx] = True
    if mask.all() or not mask.any():
        raise ValueError(
            f"rho={rho} is not allowed for n={n}: it leaves D_train^S or D_test^S empty; "
            f"choose rho with 1 <= floor(rho*n) < n"
        )
    return torch.nonzero(mask).flatten(), torch.nonzero(~mask).flatten()


def standardize(X: torch.Tensor) -> torch.Tensor:
    """Standardise each feature to zero mean and unit variance over the samples (spec §3.2).

    Args:
        X: (n, d) or (E, n, d); statistics are taken over the sample dimension (-2).
    """
    mean = X.mean(dim=-2, keepdim=True)
    std = X.std(dim=-2, keepdim=True, unbiased=False)
    return (X - mean) / std


def pad_stack(tensors: list[torch.Tensor], length: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Stack per-member tensors of different sample counts into one padded tensor and its mask.

    Args:
        tensors: shapes (n_i, ...), equal beyond the first dimension.
        length: padded sample count (default: the largest n_i).

    Returns:
        ``(stacked, mask)``: (B, length, ...) with zeros after each member's n_i rows, and the bool
        (B, length) mask of real samples, for :func:`softleak.training.fit`'s ``sample_mask``.
    """
    length = max(len(t) for t in tensors) if length is None else length
    out = torch.zeros(len(tensors), length, *tensors[0].shape[1:], dtype=tensors[0].dtype)
    mask = torch.zeros(len(tensors), length, dtype=torch.bool)
    for i, t in enumerate(tensors):
        out[i, : len(t)], mask[i, : len(t)] = t, True
    return out, mask


def modular_addition(P: int, frac: float, seed: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """All pairs (a, b) of Z_P with label (a + b) mod P, split into D*^T and D_val (paper §4; spec §2.2).

    Args:
        P: the modulus (the paper: 113); the "=" token has id P, so the vocabulary is P + 1.
        frac: fraction of the P² pairs in the teacher's training set D*^T (the paper: 0.3).
        seed: seed of the shuffle that splits the pairs.

    Returns:
        ``(tokens, y, train_idx, val_idx)``: tokens (P², 3) int64 rows (a, b, P), labels (P²,), and
        disjoint index tensors of D*^T (the first ⌊frac·P²⌋ of a random permutation) and D_val.
    """
    check_positive_int("P", P)
    if P < 2:
        raise ValueError(f"P={P} is not allowed: the modulus must be >= 2")
    check_fraction("frac", frac)
    check_nonnegative_int("seed", seed)
    a, b = torch.meshgrid(torch.arange(P), torch.arange(P), indexing="ij")
    a, b = a.flatten(), b.flatten()
    tokens = torch.stack([a, b, torch.full_like(a, P)], dim=1)
    y = (a + b) % P
    perm = torch.randperm(P * P, generator=make_generator(seed))
    n = int(frac * P * P)
    if n < 1 or n >= P * P:
        raise ValueError(f"frac={frac} is not allowed with P={P}: D*^T and D_val must both be non-empty")
    return tokens, y, perm[:n].sort().values, perm[n:].sort().values


def one_hot_pairs(tokens: torch.Tensor, P: int) -> torch.Tensor:
    """The MLP's input: one-hot(a) ⊕ one-hot(b), (n, 2P) float32; the "=" token is dropped (spec §2.4)."""
    return torch.cat([torch.nn.functional.one_hot(tokens[:, 0], P), torch.nn.functional.one_hot(tokens[:, 1], P)],
                     dim=1).float()


#: images in scikit-learn's digits (:func:`digits`), for plans that size the set without loading it
DIGITS_IMAGES = 1797


def digits() -> tuple[torch.Tensor, torch.Tensor]:
    """scikit-learn's 8×8 handwritten digits (1797 images, 10 classes; they ship with the package, nothing is
    downloaded), pixels scaled from [0, 16] to [−1, 1]. Chapters 7 and 8."""
    from sklearn.datasets import load_digits

    d = load_digits()
    return torch.tensor(d.data / 8.0 - 1.0, dtype=torch.float32), torch.tensor(d.target, dtype=torch.long)


def canary_data(seed: int, *, count: int, train: int):
    """The digits in [−1, 1] split into a training pool (its first ``count`` images are the canaries,
    given a random wrong label) and a test set, with a random wrong label per test image (the fresh
    canaries). Returns ``X_train, y_train (canary labels applied), y_train_true, X_test, y_test,
    y_test_canary``."""
    X, y = digits()
    g = torch.Generator().manual_seed(derive_seed(seed, "data"))
    perm = torch.randperm(len(y), generator=g)
    tr, te = perm[:train], perm[train:]
    y_true = y[tr]
    y_train = y_true.clone()
    y_train[:count] = (y_true[:count] + torch.randint(1, 10, (count,), generator=g)) % 10
    gv = torch.Generator().manual_seed(derive_seed(seed, "val"))
    y_test_canary = (y[te] + torch.randint(1, 10, (te.numel(),), generator=gv)) % 10
    return X[tr], y_train, y_true, X[te], y[te], y_test_canary
