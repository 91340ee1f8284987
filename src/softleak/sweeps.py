"""Grids of configs → runs → one tidy table, with an on-disk cache that makes sweeps resumable.

A config is a flat dict of JSON-serialisable values. :func:`run_sweep` hands *batches* of configs
to a run function, so that configs which can share one tensor program (seeds, temperatures, grid
points on the same data) train together in the ensemble trainer. Each config's result is written
to disk as soon as its batch finishes, under a stable hash of the config, the run's namespace,
:data:`softleak.RESULT_SCHEMA_VERSION` and the fingerprint of the source the run depends on
(:func:`softleak.provenance.source_fingerprint`); an interrupted sweep resumes without recomputing
it, and a commit that changes the code behind a result never serves the old one.
"""

from __future__ import annotations

import concurrent.futures
import hashlib
import json
import logging
import multiprocessing
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Hashable, Sequence
from pathlib import Path

import pandas as pd
from tqdm.auto import tqdm

from . import RESULT_SCHEMA_VERSION
from .provenance import source_fingerprint

log = logging.getLogger(__name__)

Config = dict
Result = pd.DataFrame | dict[str, pd.DataFrame]


def config_key(config: Config, namespace: str, fingerprint: str = "") -> str:
    """A stable 16-hex-digit hash of ``config`` within ``namespace``, the result schema and the
    source ``fingerprint``."""
    payload = json.dumps(
        {"namespace": namespace, "schema": RESULT_SCHEMA_VERSION, "source": fingerprint, "config": config},
        sort_keys=True,
        default=str,
    )
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


class ResultCache:
    """One folder per config: ``<root>/<key>/<table>.parquet`` plus the config as JSON.

    The key holds the source ``fingerprint``: entries written by other code are never found.
    """

    def __init__(self, root: str | os.PathLike, namespace: str, fingerprint: str = "") -> None:
        self.root = Path(root)
        self.namespace = namespace
        self.fingerprint = fingerprint

    def path(self, config: Config) -> Path:
        return self.root / config_key(config, self.namespace, self.fingerprint)

    def load(self, config: Config) -> dict[str, pd.DataFrame] | None:
        folder = self.path(config)
        if not (folder / "config.json").exists():
            return None
        return {p.stem: pd.read_parquet(p) for p in sorted(folder.glob("*.parquet"))}

    def save(self, config: Config, tables: dict[str, pd.DataFrame]) -> None:
        """Write atomically: a half-written folder is never mistaken for a finished one."""
        folder = self.path(config)
        self.root.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(dir=self.root, prefix=".tmp-"))
        try:
            for name, df in tables.items():
                df.to_parquet(tmp / f"{name}.parquet", index=False)
            (tmp / "config.json").write_text(json.dumps(
                {**config, "_source_fingerprint": self.fingerprint}, sort_keys=True, default=str, indent=1))
            if folder.exists():
                shutil.rmtree(folder)
            os.replace(tmp, folder)
        finally:
            if tmp.exists():
                shutil.rmtree(tmp)


def _with_config_columns(df: pd.DataFrame, config: Config) -> pd.DataFrame:
    """Add the config's fields the run did not write itself; list-like values as JSON text."""
    missing = {
        k: json.dumps(v, default=str) if isinstance(v, (list, tuple, dict)) else v
        for k, v in config.items()
        if k not in df.columns
    }
    return df.assign(**missing) if missing else df


def default_workers(device) -> int:
    """Worker processes for a sweep on ``device``: every core the process may use on CPU, 1 on a GPU."""
    if getattr(device, "type", str(device)) != "cpu":
        return 1
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def _one_thread() -> None:
    """Worker initializer: torch on one thread, so a result does not depend on how many workers ran."""
    import torch

    torch.set_num_threads(1)


def local_pool(workers: int) -> concurrent.futures.ProcessPoolExecutor:
    """``workers`` fresh ("spawn") processes, each running torch on one thread.

    Several small tensor programs on one thread each use a 2-core CPU better than one program on
    two threads: chapter 5's cells ran 1.7x faster as two 1-thread workers than in-process on two
    threads (measured here). Spawned, not forked: a fork of a process whose OpenMP pool is running
    can hang.
    """
    return concurrent.futures.ProcessPoolExecutor(
        workers, mp_context=multiprocessing.get_context("spawn"), initializer=_one_thread)


#: the executor :func:`run_sweep` uses when its caller passes none (set by :func:`use_scheduler`)
_DEFAULT_EXECUTOR = None

#: One entry per :func:`run_sweep` that computed something in this process: its namespace, when it started, its
#: wall seconds, the seconds its batches took (summed over workers) and its workers. A chapter's provenance keeps
#: those of its run (:func:`timings_since`), so a build shows how busy its workers were.
TIMINGS: list[dict] = []


def timings_since(start: float) -> list[dict]:
    """The sweeps of this process that started at or after ``start`` (a ``time.time()``), each with its workers'
    busy share: the batches' seconds over wall seconds × workers."""
    out = []
    for t in TIMINGS:
        if t["start"] >= start:
            share = t["busy_seconds"] / max(t["seconds"] * t["workers"], 1e-9)
            out.append({**{k: v for k, v in t.items() if k != "start"}, "busy_share": round(min(share, 1.0), 3)})
    return out


def _timed_call(fn, configs: list[Config]):
    """``fn(configs)`` and the seconds it took: a batch's own time, measured where it runs."""
    start = time.perf_counter()
    out = fn(configs)
    return out, time.perf_counter() - start


def check_scheduler(scheduler) -> None:
    """``None``, ``"local"`` or a scheduler address; anything else is a ValueError naming the parameter."""
    if scheduler is not None and (not isinstance(scheduler, str) or not (scheduler == "local" or "://" in scheduler)):
        raise ValueError(f"scheduler={scheduler!r} is not allowed: None (in-process), 'local' (a LocalCluster on this "
                         "machine) or a scheduler address such as 'tcp://host:8786'")


def connect(scheduler: str | None, *, workers: int | None = None):
    """A Dask ``distributed`` client for ``scheduler``, or ``None`` (in-process sweeps).

    Args:
        scheduler: ``None``; ``"local"`` starts a ``LocalCluster`` of single-thread worker processes sized
            to the machine (one per core on CPU, one per GPU when CUDA is visible, each task asking for the
            worker's ``GPU`` resource there); an address such as ``"tcp://host:8786"`` connects to a running
            scheduler.
        workers: worker processes of a ``"local"`` cluster (default: as above).

    Raises:
        ValueError: for text that is neither ``"local"`` nor a scheduler address, before connecting.
    """
    if scheduler is None:
        return None
    check_scheduler(scheduler)
    from distributed import Client, LocalCluster

    if scheduler != "local":
        return Client(scheduler)
    import torch

    gpus = torch.cuda.device_count() if torch.cuda.is_available() else 0
    n = workers or (gpus or default_workers("cpu"))
    cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True, dashboard_address=None,
                           resources={"GPU": 1} if gpus else None)
    return Client(cluster)


def use_scheduler(scheduler):
    """Make every later :func:`run_sweep` without an ``executor`` run on ``scheduler`` (a client, or text
    for :func:`connect`); ``None`` goes back to in-process sweeps. Returns the client (or ``None``). A
    notebook's ``scheduler`` parameter calls this once, so the chapters' sweeps need no new argument."""
    global _DEFAULT_EXECUTOR
    client = connect(scheduler) if scheduler is None or isinstance(scheduler, str) else scheduler
    _DEFAULT_EXECUTOR = client
    return client


def _task(fn, configs: list[Config], threads: int):
    """One batch on a Dask worker: torch on ``threads`` threads (a result does not depend on the worker); on a
    node with several GPUs, worker k (a ``LocalCluster`` names its workers 0, 1, …) takes GPU k mod the count."""
    import torch

    torch.set_num_threads(threads)
    if torch.cuda.is_available() and torch.cuda.device_count() > 1:  # one GPU per worker of a multi-GPU node
        from distributed import get_worker

        name = get_worker().name
        torch.cuda.set_device((int(name) if str(name).isdigit() else 0) % torch.cuda.device_count())
    return _timed_call(fn, configs)


def _uses_gpu(client) -> bool:
    try:
        return any(w.get("resources", {}).get("GPU") for w in client.scheduler_info()["workers"].values())
    except Exception:  # noqa: BLE001 - an old scheduler without resources: run anywhere
        return False


def group_batches(configs: Sequence[Config], batch_key: Callable[[Config], Hashable] | None = None,
                  max_batch: int | None = None) -> list[list[int]]:
    """The batches :func:`run_sweep` makes of ``configs`` (none cached): indices grouped by ``batch_key`` in
    first-seen order, each group cut into pieces of at most ``max_batch``. The compute plan uses it too."""
    groups: dict[Hashable, list[int]] = {}
    for i, config in enumerate(configs):
        groups.setdefault(batch_key(config) if batch_key else i, []).append(i)
    out = []
    for idx in groups.values():
        size = max_batch or len(idx)
        out += [idx[j : j + size] for j in range(0, len(idx), size)]
    return out


def run_sweep(
    fn: Callable[[list[Config]], Sequence[Result]],
    configs: Sequence[Config],
    *,
    cache_dir: str | os.PathLike | None,
    namespace: str,
    batch_key: Callable[[Config], Hashable] | None = None,
    max_batch: int | None = None,
    progress: bool = True,
    desc: str | None = None,
    depends_on: Sequence[str] = (),
    workers: int = 1,
    cost: Callable[[list[Config]], float] | None = None,
    executor=None,
) -> Result:
    """Run ``fn`` over ``configs`` in batches and return one tidy table (or one per table name).

    Args:
        fn: takes a list of configs and returns, in the same order, one result per config: a
            DataFrame, or a dict of named DataFrames (e.g. ``{"runs": ..., "curves": ...}``).
        configs: the grid, one flat dict per run.
        cache_dir: folder of the on-disk cache; ``None`` disables caching.
        namespace: names the experiment in the cache key (two experiments never share entries).
        batch_key: configs with equal keys may be run in one call of ``fn``; ``None`` runs every
            config alone.
        max_batch: largest number of configs per call.
        progress: show a tqdm bar over configs.
        desc: the bar's label (defaults to ``namespace``).
        depends_on: modules beyond the core ones whose source decides the results; the module
            that defines ``fn`` (the chapter's, for the lambdas the chapters pass) is always added.
            Their fingerprint is part of the cache key.
        workers: ``1`` runs the batches here, one after another, on this process's torch threads;
            more runs them in that many worker processes (:func:`local_pool`, one torch thread
            each; ``fn`` must then pickle: a module-level function or a ``functools.partial`` of
            one). Results are cached as they arrive, by this process only, so an interrupted
            parallel sweep keeps every finished batch.
        cost: an estimate of a batch's compute (any unit); with workers, the costliest batches
            start first, so that no worker is left alone with a long batch at the end. The
            returned tables keep the configs' order either way.
        executor: ``None`` (in-process or ``workers`` local processes, as above; or the client set by
            :func:`use_scheduler`), ``False`` (always in this process: a sweep that must not leave it) or a
            Dask ``distributed`` client: one task per batch, each on one torch
            thread, the costliest submitted first. The driver (this process) alone writes the cache, as
            each result arrives. A task that raises is reported with its configs and the sweep goes on;
            it fails at the end listing every failed config (it is not rerun: its error is its own). A task
            whose worker dies is rerun on another (Dask's ``allowed-failures``).

    Returns:
        The concatenation of all results, each row carrying its config's fields as columns. A
        DataFrame result is stored as the table "runs"; if ``fn`` returns other table names, a dict
        of concatenated tables by name is returned instead. Each table's ``attrs["cache"]`` says
        how many configs came from the cache and how many were computed.
    """
    if max_batch is not None and max_batch < 1:
        raise ValueError(f"max_batch={max_batch} is not allowed: max_batch must be >= 1 or None")
    if int(workers) < 1:
        raise ValueError(f"workers={workers} is not allowed: workers must be >= 1")
    modules = list(depends_on)
    defined_in = getattr(getattr(fn, "func", fn), "__module__", "") or ""  # a partial names its function's module
    if defined_in.startswith("softleak."):
        modules.append(defined_in)
    cache = ResultCache(cache_dir, namespace, source_fingerprint(*modules)) if cache_dir is not None else None
    results: list[dict[str, pd.DataFrame] | None] = [None] * len(configs)
    todo: list[int] = []
    for i, config in enumerate(configs):
        cached = cache.load(config) if cache else None
        if cached is not None:
            results[i] = cached
        else:
            todo.append(i)
    num_cached = sum(r is not None for r in results)
    if num_cached:
        log.info("%s: %d of %d configs loaded from the cache", namespace, num_cached, len(configs))

    batches = [[todo[j] for j in b] for b in group_batches([configs[i] for i in todo], batch_key, max_batch)]
    busy = [0.0]  # the batches' own seconds, summed

    def collect(batch: list[int], timed: tuple[Sequence[Result], float]) -> None:
        out, seconds = timed
        busy[0] += seconds
        if len(out) != len(batch):
            raise RuntimeError(f"{namespace}: fn returned {len(out)} results for {len(batch)} configs")
        for i, res in zip(batch, out):
            if isinstance(res, pd.DataFrame):
                res = {"runs": res}
            if cache:
                cache.save(configs[i], res)
            results[i] = res

    executor = _DEFAULT_EXECUTOR if executor is None else (None if executor is False else executor)
    started, wall_start = time.time(), time.perf_counter()
    with tqdm(total=len(configs), initial=num_cached, desc=desc or namespace, leave=False, disable=not progress) as bar:
        if executor is not None and batches:
            _run_on_dask(executor, fn, configs, batches, collect, bar, cost=cost, namespace=namespace)
        elif workers == 1 or len(batches) < 2:
            for batch in batches:
                collect(batch, _timed_call(fn, [configs[i] for i in batch]))
                bar.update(len(batch))
        else:
            _run_on_pool(fn, configs, batches, collect, bar, workers=workers, cost=cost)
    stats = {"configs": len(configs), "from_cache": num_cached, "computed": len(configs) - num_cached,
             "workers": (len(executor.scheduler_info()["workers"]) if executor is not None else None)
             or min(int(workers), max(1, len(batches)))}  # > 1: each on one torch thread
    if batches:
        TIMINGS.append({"namespace": namespace, "start": started, "batches": len(batches), "workers": stats["workers"],
                        "seconds": round(time.perf_counter() - wall_start, 2), "busy_seconds": round(busy[0], 2)})
    return _assemble(results, configs, stats)


def _run_on_pool(fn, configs, batches, collect, bar, *, workers: int, cost) -> None:
    """Run the batches in local worker processes (:func:`local_pool`), the costliest first; collect each result
    as it arrives; on an interrupt or a failed batch, drop what has not started."""
    if cost is not None:  # longest first: the classic greedy schedule for independent jobs
        batches = sorted(batches, key=lambda b: -cost([configs[i] for i in b]))
    bar.set_postfix_str(f"{min(workers, len(batches))} workers")
    with local_pool(min(workers, len(batches))) as pool:
        futures = {pool.submit(_timed_call, fn, [configs[i] for i in batch]): batch for batch in batches}
        try:
            for future in concurrent.futures.as_completed(futures):
                collect(futures[future], future.result())
                bar.update(len(futures[future]))
        except BaseException:
            for future in futures:
                future.cancel()
            raise


def _assemble(results: list[dict[str, pd.DataFrame]], configs: Sequence[Config], stats: dict) -> Result:
    """One table per result name, each row with its config's fields; ``stats`` in every table's
    ``attrs["cache"]``; a lone "runs" table is returned as a DataFrame."""
    names = list(dict.fromkeys(name for r in results for name in r))
    tables = {
        name: pd.concat(
            [_with_config_columns(r[name], c) for r, c in zip(results, configs) if name in r], ignore_index=True
        )
        for name in names
    }
    for table in tables.values():
        table.attrs["cache"] = stats
    if names in (["runs"], []):
        return tables.get("runs", pd.DataFrame())
    return tables


def _run_on_dask(client, fn, configs, batches, collect, bar, *, cost, namespace) -> None:
    """Submit every batch to a Dask client, collect results as they finish, fail at the end on any failure."""
    from distributed import as_completed

    if cost is not None:
        batches = sorted(batches, key=lambda b: -cost([configs[i] for i in b]))
    bar.set_postfix_str("dask")
    extra = {"resources": {"GPU": 1}} if _uses_gpu(client) else {}
    futures = {}
    for batch in batches:
        fut = client.submit(_task, fn, [configs[i] for i in batch], 1, pure=False, **extra)
        futures[fut.key] = (fut, batch)
    failed: list[tuple[list[Config], BaseException]] = []
    try:
        for fut in as_completed([f for f, _ in futures.values()]):
            _, batch = futures[fut.key]
            try:
                out = fut.result()
            except Exception as err:  # noqa: BLE001 - a task's own error: reported with its configs
                failed.append(([configs[i] for i in batch], err))
                log.error("%s: a batch of %d config(s) failed: %r", namespace, len(batch), err)
                continue
            collect(batch, out)
            bar.update(len(batch))
    except BaseException:
        for fut, _ in futures.values():
            fut.cancel()
        raise
    if failed:
        lines = [f"  {json.dumps(c, default=str, sort_keys=True)[:300]}: {type(err).__name__}: {err}"
                 for confs, err in failed for c in confs]
        raise RuntimeError(f"{namespace}: {len(lines)} config(s) failed (the finished ones are in the cache, if any):\n"
                           + "\n".join(lines))
