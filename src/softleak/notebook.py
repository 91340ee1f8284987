"""The one call that starts a chapter notebook: :func:`start`.

Every chapter notebook begins the same way: note the time, connect to a Dask scheduler if one was asked for, set
the figures' theme, resolve the preset with the notebook's overrides (failing on a bad one before any compute),
choose the run cache, and print the compute plan of what it is about to train. :func:`start` does all of it and
returns a :class:`ChapterRun` holding what the later cells use.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class ChapterRun:
    """What a chapter notebook's later cells use: the resolved ``cfg``, the run cache folder (``None``: no
    cache), the Dask ``client`` (or ``None``) and the time the notebook ``started`` (for its provenance)."""

    notebook: str
    preset: str
    cfg: object
    cache_dir: Path | None
    client: object
    started: float


def start(notebook: str, preset: str, *, use_cache: bool = True, scheduler: str | None = None, plan: bool = True,
          **overrides) -> ChapterRun:
    """Start chapter ``notebook`` at ``preset``: :func:`softleak.presets.resolve` with ``overrides`` (``None``
    values keep the preset's), the cache at ``results/<notebook>/<preset>/cache`` when ``use_cache``, the sweeps on
    ``scheduler`` (:func:`softleak.sweeps.use_scheduler`), the figures' theme, and the compute plan printed.

    Raises:
        ValueError: an unknown notebook, preset or override, or a bad value, before any compute.
    """
    from . import plotting, presets
    from .claims import results_dir
    from .plan import plan_for, rates_for
    from .sweeps import use_scheduler

    started = time.time()
    cfg = presets.resolve(notebook, preset, **overrides)
    client = use_scheduler(scheduler)  # a Dask client, or None: every sweep of the notebook runs on it
    plotting.set_theme()
    cache_dir = results_dir(notebook, preset) / "cache" if use_cache else None
    if plan:
        print(plan_for(notebook, cfg, preset, rates=rates_for()).summary())  # what this run will train, before it starts
    return ChapterRun(notebook, preset, cfg, cache_dir, client, started)
