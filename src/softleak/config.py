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
    """``dataclasses.replace`` that names an unknown field and lists the allowed ones.

    A config may hold parts that are configs themselves (one per figure or experiment, e.g. chapter 7's ``a1``).
    A field of a part is changed by its flat name, ``<part>_<field>`` (``a1_taus=(1.0, 5.0)`` sets
    ``cfg.a1.taus``), so that overrides stay plain parameter names (papermill's); a whole part may be given too
    (``a1=A1(...)``), and flat names then change that part. A part's own checks name the flat parameter.

    Raises:
        ValueError: for a name that is neither a field nor a field of a part (listing the allowed names), or a
            value a check rejects.
    """
    names = [f.name for f in dataclasses.fields(obj)]
    parts = [n for n in names if dataclasses.is_dataclass(getattr(obj, n)) and not isinstance(getattr(obj, n), type)]
    direct: dict[str, object] = {}
    nested: dict[str, dict[str, object]] = {}
    for name, value in changes.items():
        part = next((p for p in parts if name.startswith(f"{p}_")
                     and name[len(p) + 1:] in {f.name for f in dataclasses.fields(getattr(obj, p))}), None)
        if name in names:
            direct[name] = value
        elif part is not None:
            nested.setdefault(part, {})[name[len(part) + 1:]] = value
        else:
            raise ValueError(f"{name}={value!r} is not a parameter of {type(obj).__name__}; allowed: "
                             f"{', '.join(flat_names(obj))}")
    for part, sub in nested.items():
        try:
            direct[part] = replace_checked(direct.get(part, getattr(obj, part)), **sub)
        except ValueError as err:
            raise ValueError(f"{part}_{err}") from err
    return dataclasses.replace(obj, **direct)


def flat_names(obj) -> list[str]:
    """A config's parameter names as overrides spell them: its fields, and ``<part>_<field>`` for each field of a
    part that is a config itself."""
    out = []
    for f in dataclasses.fields(obj):
        value = getattr(obj, f.name)
        out.append(f.name)
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            out += [f"{f.name}_{g}" for g in flat_names(value)]
    return out


def linear_grid(lo: float, hi: float, num: int) -> tuple[float, ...]:
    """``num`` evenly spaced values from ``lo`` to ``hi``, rounded to 6 decimals (a preset's grid)."""
    import numpy as np

    return tuple(round(float(v), 6) for v in np.linspace(lo, hi, num))


def log_grid(lo: float, hi: float, num: int) -> tuple[float, ...]:
    """``num`` log-spaced values from 10^lo to 10^hi, rounded to 6 decimals (a preset's grid)."""
    import numpy as np

    return tuple(round(float(v), 6) for v in np.logspace(lo, hi, num))


@dataclasses.dataclass(frozen=True)
class Rounds:
    """Sequential seeds, declared by a preset before any run (a config part, ``seed_rounds``: overrides ``seed_rounds_count``,
    ``seed_rounds_seeds``).

    After the chapter's own seeds (round 1), a claim still inconclusive gets ``seeds`` more seeds per round, for the
    cells it reads, up to ``count`` rounds in all. Every interval of the chapter, in every round, is made at
    ``1 − 0.05 / count`` (Bonferroni over the rounds: :func:`softleak.rules.declared_rounds`), so that adding seeds
    until a claim is decided is not a way to decide it. A claim keeps the verdict of the first round that decides
    it. ``count = 1``: one round, the plain 95 % intervals.

    Attributes:
        count: the number of rounds K (looks at each claim), ≥ 1.
        seeds: seeds each round after the first adds (≥ 1 when count > 1).
        post_hoc: when the rounds were declared after seeing this preset's results, which run and why: shown on
            every claim a later round decides.
    """

    count: int = 1
    seeds: int = 0
    post_hoc: str = ""

    def __post_init__(self) -> None:
        check_positive_int("count", self.count)
        check_nonnegative_int("seeds", self.seeds)
        if self.count > 1 and self.seeds < 1:
            raise ValueError(f"seeds={self.seeds!r} is not allowed with count={self.count}: each round after the "
                             "first must add at least one seed")


def more_seeds(seeds: Iterable[int], k: int) -> tuple[int, ...]:
    """``seeds`` followed by ``k`` new seeds, the next integers above the largest (a round's seeds: the first
    round's cells keep their seeds, so their cached runs are reused)."""
    seeds = tuple(seeds)
    top = max(seeds, default=-1)
    return seeds + tuple(range(top + 1, top + 1 + int(k)))
