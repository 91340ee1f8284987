"""Devices, dtypes and seeds.

Seeds are derived by *role* with one documented rule (:func:`derive_seed`), so that a run is
repeatable from the integers recorded in its results table and no global random state is read.
"""

from __future__ import annotations

import numpy as np
import torch

#: The roles a run seed is split into. The position in this tuple is part of the seed rule: append
#: new roles at the end, never reorder.
ROLES = ("data", "teacher_init", "split", "student_init", "shuffle", "val", "treatment")


def default_device() -> torch.device:
    """CUDA when available, else CPU (the same code path runs on both)."""
    return torch.device("cuda") if torch.cuda.is_available() else torch.device("cpu")


def resolve_device(device: str | torch.device | None) -> torch.device:
    """``None`` means :func:`default_device`; anything else is passed to ``torch.device``."""
    return default_device() if device is None else torch.device(device)


def derive_seed(seed: int, role: str, index: int = 0) -> int:
    """Derive an independent sub-seed of ``seed`` for one role (and one repeat ``index``).

    The rule: ``np.random.SeedSequence(seed, spawn_key=(ROLES.index(role), index))``, first 63 bits.
    Different roles or indices give statistically independent streams; the same arguments always
    give the same integer.

    Args:
        seed: the run's base seed (a non-negative int).
        role: one of :data:`ROLES`.
        index: repeat number within the role, e.g. the k-th student initialisation.

    Returns:
        A non-negative int below 2**63, usable by ``torch.Generator.manual_seed``.
    """
    if role not in ROLES:
        raise ValueError(f"role={role!r} is not a seed role; allowed: {', '.join(ROLES)}")
    if int(seed) < 0 or int(index) < 0:
        raise ValueError(f"seed={seed} and index={index} must be non-negative integers")
    ss = np.random.SeedSequence(int(seed), spawn_key=(ROLES.index(role), int(index)))
    return int(ss.generate_state(1, dtype=np.uint64)[0] >> np.uint64(1))


def rho_index(rho: float) -> int:
    """ρ's *value* in units of 10⁻⁴: the seed index of everything keyed by a training fraction (its split, a
    student's init), so that adding or reordering ρ values in a grid changes no seed."""
    return round(float(rho) * 10_000)


def split_seed(seed: int, rho: float) -> int:
    """The split seed of a run at training fraction ``rho``: derived from ρ's *value* (:func:`rho_index`),
    never from its position in a grid, so adding or reordering ρ values keeps every split."""
    index = rho_index(rho)
    if not 0 < index < 10_000:
        raise ValueError(f"rho={rho!r} is not allowed: rho must lie in (0, 1) on a 1e-4 grid")
    return derive_seed(seed, "split", index)


def make_generator(seed: int, device: str | torch.device = "cpu") -> torch.Generator:
    """A fresh ``torch.Generator`` on ``device`` seeded with ``seed`` (never the global one)."""
    return torch.Generator(device=device).manual_seed(int(seed))


_ALLOCATOR_TUNED = False


def tune_cpu() -> bool:
    """Two process-wide CPU settings that the trainer needs to run at speed; idempotent.

    1. Flush denormal floats to zero (``torch.set_flush_denormal``). Once a network fits its
       targets, gradients underflow into the denormal range, where x86 arithmetic is ~100x slower:
       the toy students' backward pass became 4x slower as they converged (measured here). Values
       below 1.2e-38 have no effect on any metric of the book.
    2. Keep large temporaries on glibc's heap instead of fresh ``mmap`` pages. A training step allocates and frees the same multi-megabyte activations every epoch; above
    glibc's default threshold each one is a new ``mmap`` whose pages fault in again, which cost
    about 30 % of a step of the toy-sized ensembles here. Raising the mmap and trim thresholds
    (``mallopt``) removes that; a no-op where glibc is absent.

    Called by :func:`softleak.training.fit` on CPU.

    Returns:
        Whether the allocator thresholds were set (now or before).
    """
    global _ALLOCATOR_TUNED
    torch.set_flush_denormal(True)
    if _ALLOCATOR_TUNED:
        return True
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6")
        m_trim_threshold, m_mmap_threshold = -1, -3  # glibc's mallopt parameter numbers
        ok = libc.mallopt(m_mmap_threshold, 32 * 1024 * 1024) == 1
        ok &= libc.mallopt(m_trim_threshold, 1024 * 1024 * 1024) == 1
    except (OSError, AttributeError):
        return False
    _ALLOCATOR_TUNED = bool(ok)
    return _ALLOCATOR_TUNED
