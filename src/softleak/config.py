"""Validation helpers shared by every config dataclass.

Each helper raises ``ValueError`` naming the parameter, its value and what is allowed, so that bad
input fails before any compute. Chapter configs are frozen dataclasses that call these in
``__post_init__``.
"""

from __future__ import annotations

import ast
import dataclasses
import math
from collections.abc import Iterable


def check_fraction(name: str, value: float) -> float:
    """ρ-like parameters: a number strictly between 0 and 1."""
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not 0.0 < value < 1.0:
        raise ValueError(f"{name}={value!r} is not allowed: {name} must lie in the open interval (0, 1)")
    return float(value)


def check_positive(name: str, value: float) -> float:
    """τ-like or learning-rate-like parameters: a finite number > 0."""
    if (
        not isinstance(value, (int, float))
        or isinstance(value, bool)
        or not math.isfinite(value)
        or value <= 0
    ):
        raise ValueError(f"{name}={value!r} is not allowed: {name} must be a finite number > 0")
    return float(value)


def check_positive_int(name: str, value: int) -> int:
    """Sizes and step counts: an integer >= 1."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name}={value!r} is not allowed: {name} must be an integer >= 1")
    return value


def check_nonnegative_int(name: str, value: int) -> int:
    """Seeds and counts that may be zero: an integer >= 0."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{name}={value!r} is not allowed: {name} must be an integer >= 0")
    return value


def check_choice(name: str, value: object, allowed: Iterable[object]) -> object:
    """Enumerated parameters such as a preset or a treatment name."""
    allowed = tuple(allowed)
    if value not in allowed:
        raise ValueError(
            f"{name}={value!r} is not allowed: {name} must be one of {', '.join(map(repr, allowed))}"
        )
    return value


def check_seeds(name: str, seeds: Iterable[int]) -> tuple[int, ...]:
    """A non-empty tuple of distinct non-negative integer seeds."""
    seeds = tuple(seeds)
    if not seeds:
        raise ValueError(f"{name}=() is not allowed: {name} needs at least one seed")
    for s in seeds:
        check_nonnegative_int(f"{name}[…]", s)
    if len(set(seeds)) != len(seeds):
        raise ValueError(f"{name}={seeds!r} is not allowed: {name} must not repeat a seed")
    return seeds


def parse_override(name: str, value: object) -> object:
    """A papermill parameter as the config wants it: text that spells a list or tuple literal
    (``"[1, 2, 3]"``, as ``papermill -p`` passes it) becomes that value; lists become tuples, at every
    depth (configs are frozen and hashable). Other values pass through unchanged.

    Raises:
        ValueError: for text that starts like a list but is not a Python literal.
    """
    if isinstance(value, str) and value.strip()[:1] in "[(":
        try:
            value = ast.literal_eval(value.strip())
        except (ValueError, SyntaxError) as err:
            raise ValueError(f"{name}={value!r} is not allowed: {name} must be a list literal such as [1, 2, 3]") from err
    return _tuples(value)


def _tuples(value: object) -> object:
    if isinstance(value, (list, tuple)):
        return tuple(_tuples(v) for v in value)
    return value


def replace_checked(obj, **changes):
    """``dataclasses.replace`` that names an unknown field and lists the allowed ones."""
    allowed = [f.name for f in dataclasses.fields(obj)]
    for name in changes:
        if name not in allowed:
            raise ValueError(
                f"{name}={changes[name]!r} is not a parameter of {type(obj).__name__}; allowed: {', '.join(allowed)}"
            )
    return dataclasses.replace(obj, **changes)


def linear_grid(lo: float, hi: float, num: int) -> tuple[float, ...]:
    """``num`` evenly spaced values from ``lo`` to ``hi``, rounded to 6 decimals (a preset's grid)."""
    import numpy as np

    return tuple(round(float(v), 6) for v in np.linspace(lo, hi, num))


def log_grid(lo: float, hi: float, num: int) -> tuple[float, ...]:
    """``num`` log-spaced values from 10^lo to 10^hi, rounded to 6 decimals (a preset's grid)."""
    import numpy as np

    return tuple(round(float(v), 6) for v in np.logspace(lo, hi, num))
