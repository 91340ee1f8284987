"""The paper's closed-form thresholds and the rules that extract measured thresholds from sweeps.

Paper: §5.1 and App. D.1 (binary logistic regression); spec §3.7 (extraction rules), §3.8
(phase-diagram regions).
"""

from __future__ import annotations

import numpy as np

from .config import check_fraction

#: Cover's capacity of a linear classifier without bias, n/d → 2 as d → ∞ (random labels).
COVER_CAPACITY = 2.0
#: Full recovery ("green"), non-trivial leakage ("blue") and fit thresholds for binary problems [P].
FULL = 0.99
WEAK = 0.55
#: Orange vs red past the teacher's capacity: mse_test below this means the student recovered it [P].
MSE_RECOVERED = 0.1
REGIONS = ("grey", "blue", "green", "orange", "red")


def alpha_label_teacher() -> float:
    """α_label^T in the d → ∞ limit: Cover's 2 for a linear classifier on random labels."""
    return COVER_CAPACITY


def alpha_id_student(rho: float | np.ndarray) -> float | np.ndarray:
    """α_id^S(ρ) = 1/ρ: the student sees ρ·n = ρ·α·d ≥ d equations for d unknowns."""
    if np.ndim(rho) == 0:
        return 1.0 / check_fraction("rho", float(rho))
    rho = np.asarray(rho, dtype=float)
    if not ((rho > 0) & (rho < 1)).all():
        raise ValueError(f"rho={rho.tolist()} is not allowed: every rho must lie in (0, 1)")
    return 1.0 / rho


def drop_threshold(alphas, values, level: float = FULL) -> float:
    """Midpoint between the last α with ``value >= level`` and the first α after it below ``level``.

    The rule of spec §3.7 for α_label^T and α_label^S. Returns NaN if the values never reach
    ``level``, and +inf if they never drop below it again (the threshold lies beyond the grid).
    """
    a, v = _sorted(alphas, values)
    above = np.nonzero(v >= level)[0]
    if above.size == 0:
        return float("nan")
    after = np.nonzero(v[above[0]:] < level)[0]
    if after.size == 0:
        return float("inf")
    i = above[0] + after[0]
    return float((a[i - 1] + a[i]) / 2)


def onset_threshold(alphas, values, level: float = FULL) -> float:
    """The smallest α with ``value >= level`` (spec §3.7, α_id^S); NaN if none."""
    a, v = _sorted(alphas, values)
    hit = np.nonzero(v >= level)[0]
    return float(a[hit[0]]) if hit.size else float("nan")


def _sorted(alphas, values) -> tuple[np.ndarray, np.ndarray]:
    a, v = np.asarray(alphas, dtype=float), np.asarray(values, dtype=float)
    if a.shape != v.shape or a.ndim != 1:
        raise ValueError(f"alphas and values must be 1-D of equal length, got {a.shape} and {v.shape}")
    order = np.argsort(a)
    return a[order], v[order]


def phase_region(acc_train_S: float, acc_test_S: float, mse_test: float) -> str:
    """The region of one (α, ρ) cell from its seed means (spec §3.8, paper Fig. 4B).

    Student fits D_train^S (acc_train_S ≥ 0.99): green (acc_test_S ≥ 0.99), blue (≥ 0.55) or grey.
    Otherwise, past the teacher's capacity: orange if the student recovers the teacher
    (mse_test < 0.1), red if not.
    """
    if acc_train_S >= FULL:
        return "green" if acc_test_S >= FULL else "blue" if acc_test_S >= WEAK else "grey"
    return "orange" if mse_test < MSE_RECOVERED else "red"


def last_of_first_run(alphas, values, level: float = 1.0 - 1e-9) -> float:
    """The largest α of the first contiguous run of values ≥ ``level`` (NaN if there is none).

    The "largest α with mean accuracy = 1.0" rules of spec §4.5: with ``level`` just below 1 it
    reads "exactly 1" on seed means. For α_label^T the run starts at the smallest α; for the upper
    edge of the perfect-recovery window it starts at α_id^S.
    """
    a, v = _sorted(alphas, values)
    hit = np.nonzero(v >= level)[0]
    if hit.size == 0:
        return float("nan")
    i = hit[0]
    while i + 1 < v.size and v[i + 1] >= level:
        i += 1
    return float(a[i])


def alpha_id_multiclass(rho: float, c: int) -> float:
    """α_id^S = 1/(ρc) for α = n/(dc): the soft labels give ρn ≥ d equations per logit difference."""
    return 1.0 / (check_fraction("rho", rho) * c)


def mlp_free_parameters(d: int, p: int, c: int) -> int:
    """Free parameters of Linear(d, p) → ReLU → Linear(p, c) as a function: all weights and biases,
    less one rescaling per hidden unit (ReLU is positively homogeneous) and the softmax's common shift."""
    return p * (d + 1) + c * (p + 1) - p - 1


def alpha_count_mlp(rho, d: int, p: int, c: int):
    """The parameter-counting line of the MLP phase diagram, the analogue of α_id = 1/(ρc).

    The student sees ρn soft-label vectors of c − 1 free numbers each; it can pin down the
    teacher's function only if that many equations reach the teacher's free parameters:
    ρ·α·d·c·(c − 1) ≥ F, so α ≥ F / (ρ d c (c − 1)). A necessary condition, not a sufficient one:
    the book compares it with the measured α_id^S (a book extension; probes.md A).
    """
    rho = np.asarray(rho, dtype=float)
    if not ((rho > 0) & (rho < 1)).all():
        raise ValueError(f"rho={rho.tolist()} is not allowed: every rho must lie in (0, 1)")
    out = mlp_free_parameters(d, p, c) / (rho * d * c * (c - 1))
    return float(out) if out.ndim == 0 else out
