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


# ---------------------------------------------------------------------------------------------
# Release defenses (chapter 8, :mod:`softleak.audit`): what a publisher may do to soft labels before
# releasing them. Each is a pure function; logits and probabilities keep the class dimension at -2.
# ---------------------------------------------------------------------------------------------

def _renormalize_or_argmax(probs: torch.Tensor, reference: torch.Tensor) -> torch.Tensor:
    """Rescale every vector to sum to 1; a vector that lost all its mass becomes the one-hot argmax
    of ``reference`` (what the publisher would release for it: the class it would have named)."""
    total = probs.sum(dim=-2, keepdim=True)
    hard = torch.zeros_like(reference).scatter_(-2, reference.argmax(dim=-2, keepdim=True), 1.0)
    return torch.where(total > 0, probs / total.clamp_min(torch.finfo(probs.dtype).tiny), hard)


def top_k(probs: torch.Tensor, k: int) -> torch.Tensor:
    """Keep the k largest entries of every soft label, zero the rest, renormalise to sum to 1.

    ``k = 1`` is the hard label; ``k = c`` changes nothing. Ties at the k-th entry keep the entries
    ``torch.topk`` returns (the lower class index first on CPU).
    """
    c = probs.shape[-2]
    check_positive_int("k", k)
    if k > c:
        raise ValueError(f"k={k} is not allowed: top-k keeps 1 <= k <= c={c} entries")
    keep = torch.zeros_like(probs, dtype=torch.bool).scatter_(-2, probs.topk(k, dim=-2).indices, True)
    return _renormalize_or_argmax(probs * keep, probs)


def round_decimals(probs: torch.Tensor, decimals: int) -> torch.Tensor:
    """Round every entry to ``decimals`` decimal places, then renormalise (a vector rounded to all
    zeros is released as its argmax). ``decimals = 0`` keeps only an entry ≥ 0.5."""
    check_nonnegative_int("decimals", decimals)
    return _renormalize_or_argmax(torch.round(probs, decimals=decimals), probs)


def quantize(probs: torch.Tensor, bits: int) -> torch.Tensor:
    """Round every entry to the nearest of the 2^bits levels 0, 1/(2^bits − 1), …, 1, then renormalise
    (a vector rounded to all zeros is released as its argmax)."""
    check_positive_int("bits", bits)
    levels = 2**bits - 1
    return _renormalize_or_argmax(torch.round(probs * levels) / levels, probs)


def logit_noise(logits: torch.Tensor, sigma: float, seed: int) -> torch.Tensor:
    """Add i.i.d. Gaussian noise of standard deviation ``sigma`` to every logit (drawn on the CPU
    from ``seed``, so a CPU and a GPU run release the same labels). ``sigma = 0`` changes nothing."""
    if not isinstance(sigma, (int, float)) or isinstance(sigma, bool) or not sigma >= 0 or sigma == float("inf"):
        raise ValueError(f"sigma={sigma!r} is not allowed: sigma must be a finite number >= 0")
    check_nonnegative_int("seed", seed)
    if sigma == 0:
        return logits.clone()
    noise = torch.randn(logits.shape, generator=make_generator(seed), dtype=torch.float64)
    return logits + (sigma * noise).to(device=logits.device, dtype=logits.dtype)


def hard_labels(logits: torch.Tensor) -> torch.Tensor:
    """The one-hot argmax of every logit vector: what a release of labels only gives away."""
    return torch.zeros_like(logits).scatter_(-2, logits.argmax(dim=-2, keepdim=True), 1.0)


#: defense name -> (what its knob is, whether it acts on logits before the softmax)
DEFENSES = {
    "none": ("no knob", False),
    "noise": ("σ, the standard deviation of Gaussian noise added to the logits", True),
    "topk": ("k, the entries kept", False),
    "round": ("b, the decimals kept", False),
    "quant": ("b, the bits per entry", False),
    "hard": ("no knob", False),
}


def parse_defense(spec: str) -> tuple[tuple[str, float | int | None], ...]:
    """``"topk:5"``, ``"noise:0.5+topk:5"``, ``"hard"``, ``"none"`` -> ((name, knob), …), in the order
    they apply: logit defenses (noise) first, then the softmax at τ, then those on probabilities.

    Raises:
        ValueError: an unknown defense, a missing or malformed knob, or a knob out of range, naming
            ``defense``, its value and what is allowed.
    """
    if not isinstance(spec, str) or not spec.strip():
        raise ValueError(f"defense={spec!r} is not allowed: give e.g. 'none', 'hard', 'topk:5', 'round:2', "
                         "'quant:4', 'noise:0.5' or a combination such as 'noise:0.5+topk:5'")
    steps = []
    for part in spec.strip().split("+"):
        name, _, knob = part.strip().partition(":")
        if name not in DEFENSES:
            raise ValueError(f"defense={spec!r} is not allowed: {name!r} is not a defense; allowed: "
                             f"{', '.join(DEFENSES)}")
        if name in ("none", "hard"):
            if knob:
                raise ValueError(f"defense={spec!r} is not allowed: {name!r} takes no knob")
            steps.append((name, None))
            continue
        try:
            value = float(knob) if name == "noise" else int(knob)
        except ValueError:
            raise ValueError(f"defense={spec!r} is not allowed: {name!r} needs a knob, "
                             f"{DEFENSES[name][0]} (e.g. '{name}:{'0.5' if name == 'noise' else '2'}')") from None
        if (name == "noise" and not (value >= 0 and value != float("inf"))) or (name == "topk" and value < 1) or \
                (name == "quant" and value < 1) or (name == "round" and value < 0):
            raise ValueError(f"defense={spec!r} is not allowed: {name}:{knob} is out of range ({DEFENSES[name][0]}: "
                             f"{'>= 0' if name in ('noise', 'round') else '>= 1'})")
        steps.append((name, value))
    if len(steps) > 1 and any(n in ("none", "hard") for n, _ in steps):
        raise ValueError(f"defense={spec!r} is not allowed: 'none' and 'hard' do not combine with other defenses")
    names = [n for n, _ in steps]
    if len(set(names)) != len(names):
        raise ValueError(f"defense={spec!r} is not allowed: a defense appears twice")
    return tuple(sorted(steps, key=lambda s: not DEFENSES[s[0]][1]))  # logit defenses first (stable)


def release(logits: torch.Tensor, tau: float, defense: str = "none", *, seed: int = 0) -> torch.Tensor:
    """The soft labels a publisher releases: ``defense`` (see :func:`parse_defense`) applied around the
    softmax at temperature τ. ``seed`` draws the logit noise.

    Returns:
        Probabilities (…, c, n) summing to 1 over the class dimension.
    """
    check_positive("tau", tau)
    steps = parse_defense(defense)
    if steps[0][0] == "hard":
        return hard_labels(logits)
    for name, knob in steps:
        if name == "noise":
            logits = logit_noise(logits, knob, seed)
    probs = soft_labels(logits, tau)
    for name, knob in steps:
        if name == "topk":
            probs = top_k(probs, knob)
        elif name == "round":
            probs = round_decimals(probs, knob)
        elif name == "quant":
            probs = quantize(probs, knob)
    return probs
