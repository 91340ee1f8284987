"""Compute plans: what a chapter will train at a preset, counted from its config before it runs.

Each chapter module that trains something has ``plan(cfg) -> list[Batch]``: one :class:`Batch` per
task of its sweeps (the unit :func:`softleak.sweeps.run_sweep` hands to a worker), each listing the
ensemble trainings (:class:`Fit`) it runs and any closed-form work beside them. Nothing here trains:
every model is built on PyTorch's ``meta`` device at the preset's full size, so a ``paper`` batch is
planned on a laptop. One forward and backward of each model on meta tensors gives, exactly:

- the matmul FLOPs of a training step and of a recording pass (``torch.utils.flop_counter``),
- the most bytes of tensors alive at once during the step (each new storage counted until its last
  tensor is freed), which with the parameters and Adam's two moments is the batch's peak memory,
- the number of tensor operations a step dispatches, which sets a small model's time: on a CPU or
  a GPU alike, an ensemble of toy networks is bound by per-operation overhead, not by FLOPs.

Time is bounded below by ``ops × t_op + FLOPs / rate`` per step, from a short :func:`calibrate` of this
machine's trainer (two real fits of a few hundred milliseconds each): a lower bound, labelled as one (it
leaves out memory-bound element-wise work, data making and Python between the steps),
that the book's own runs check (``plan`` at ``cpu`` against the wall time ``claims.json`` records).
"""

from __future__ import annotations

import math
import os
import time
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import pandas as pd
import torch
from torch import nn
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils.flop_counter import FlopCounterMode

META = torch.device("meta")
#: Adam's element-wise work per parameter and step (moments, bias corrections, update), in FLOPs
ADAM_FLOP_PER_PARAM = 12
#: operations the trainer dispatches per step besides the model's (loss, the optimizer's foreach calls)
STEP_OPS = 30


@dataclass(frozen=True)
class Fit:
    """One ensemble training inside a batch.

    Args:
        model: builds the ensemble on :data:`META` (``device=META``): its parameters hold no memory.
        shape: the training input's shape, as the model takes it (``(n, d)``, ``(E, n, d)``, tokens ``(E, n, T)``).
        steps: optimizer steps (the trainer is full-batch: one step per epoch); 0 for forward passes only.
        records: recording passes (``fit`` records at the end, and every ``record_every`` steps before).
        eval_rows: rows of held-out sets forwarded at each recording, beside the training rows.
        dtype: the input's dtype (``torch.long`` for tokens).
        eval_chunk: rows per forward of a recording pass (``None``: all of them in one forward).
    """

    model: Callable[[], nn.Module]
    shape: tuple[int, ...]
    steps: int
    records: int = 1
    eval_rows: int = 0
    dtype: torch.dtype = torch.float32
    eval_chunk: int | None = None


@dataclass(frozen=True)
class Batch:
    """One task of a chapter's sweep: ``configs`` configs trained by ``fits``, plus ``extra_flop`` of other work."""

    stage: str
    configs: int
    fits: tuple[Fit, ...] = ()
    extra_flop: float = 0.0
    extra_bytes: float = 0.0
    extra_ops: float = 0.0


@dataclass(frozen=True)
class FitCost:
    """What one step of a :class:`Fit` costs, measured on the meta device."""

    step_flop: float
    forward_flop: float
    step_ops: int
    forward_ops: int
    param_bytes: int
    input_bytes: int
    step_live_bytes: int  # the most bytes of a step's own tensors alive at once (activations, gradients)
    forward_live_bytes: int  # the same for a forward pass without gradients

    @property
    def train_peak_bytes(self) -> float:
        """Parameters, Adam's two moments, the input and the step's peak of live tensors (gradients among them)."""
        return 3 * self.param_bytes + self.input_bytes + self.step_live_bytes

    @property
    def forward_peak_bytes(self) -> float:
        """A forward pass without gradients: parameters, the input and its peak of live tensors."""
        return self.param_bytes + self.input_bytes + self.forward_live_bytes


class _OpCounter(TorchDispatchMode):
    """Counts the tensor operations dispatched inside it, and the peak bytes of the storages they made that are
    alive at once: a storage counts from the operation that makes it until its last tensor (views included) is
    freed. Storages that existed before (``known``: parameters, inputs) never count."""

    def __init__(self, known: Sequence[torch.Tensor] = ()) -> None:
        super().__init__()
        self.count = 0
        self.live = 0
        self.peak = 0
        self._known = {t.untyped_storage()._cdata for t in known}
        self._refs: dict[int, list[int]] = {}  # storage -> [tensors alive, bytes]

    def _release(self, key: int) -> None:
        entry = self._refs[key]
        entry[0] -= 1
        if entry[0] == 0:
            self.live -= entry[1]
            del self._refs[key]

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        self.count += 1
        out = func(*args, **(kwargs or {}))
        for t in out if isinstance(out, (tuple, list)) else (out,):
            if not isinstance(t, torch.Tensor):
                continue
            key = t.untyped_storage()._cdata
            if key in self._known:
                continue
            if key not in self._refs:
                nbytes = t.untyped_storage().nbytes()
                self._refs[key] = [0, nbytes]
                self.live += nbytes
            self._refs[key][0] += 1
            weakref.finalize(t, self._release, key)
        self.peak = max(self.peak, self.live)
        return out


def _nbytes(t: torch.Tensor) -> int:
    return t.numel() * t.element_size()


def measure(fit: Fit, memo: dict | None = None) -> FitCost:
    """One forward (no grad) and one forward + backward of ``fit``'s model on meta tensors; ``memo`` keeps
    the cost of each (model class, parameter shapes, input shape) measured once."""
    with torch.device("meta"):
        model = fit.model()
        X = torch.zeros(fit.shape, dtype=fit.dtype)
    key = (type(model).__name__, tuple(tuple(p.shape) for p in model.parameters()), fit.shape, fit.dtype)
    if memo is not None and key in memo:
        return memo[key]
    params = [p for p in model.parameters() if p.requires_grad]
    with torch.no_grad(), FlopCounterMode(display=False) as fwd, _OpCounter((*params, X)) as fwd_ops:
        out = model(X)
    del out
    with FlopCounterMode(display=False) as step, _OpCounter((*params, X)) as step_ops:
        out = model(X)
        grads = torch.autograd.grad(out.float().sum(), params)
        del grads
    num_params = sum(p.numel() for p in params)
    cost = FitCost(
        step_flop=float(step.get_total_flops()) + ADAM_FLOP_PER_PARAM * num_params,
        forward_flop=float(fwd.get_total_flops()), step_ops=step_ops.count + STEP_OPS, forward_ops=fwd_ops.count,
        param_bytes=sum(_nbytes(p) for p in params), input_bytes=_nbytes(X),
        step_live_bytes=step_ops.peak, forward_live_bytes=fwd_ops.peak)
    if memo is not None:
        memo[key] = cost
    return cost


@dataclass(frozen=True)
class Rates:
    """This machine's trainer: seconds per dispatched operation and sustained FLOP/s of large steps."""

    device: str
    seconds_per_op: float
    flop_per_second: float

    def seconds(self, flop: float, ops: float) -> float:
        return ops * self.seconds_per_op + flop / self.flop_per_second


def calibrate(device: str | torch.device | None = None, *, budget_s: float = 1.0) -> Rates:
    """Time two real fits on ``device``: a tiny ensemble (per-operation overhead) and a large one (FLOP/s).

    Each is timed over enough steps to fill about ``budget_s / 2`` seconds after a warm-up.
    """
    from .models import MLPEnsemble
    from .runtime import resolve_device
    from .training import fit as train

    device = resolve_device(device)

    def per_step(sizes: tuple[int, ...], n: int, members: int) -> tuple[float, FitCost]:
        gen = torch.Generator().manual_seed(0)
        X = torch.randn(n, sizes[0], generator=gen).to(device)
        y = torch.randint(0, sizes[-1], (n,), generator=gen).to(device)
        model = MLPEnsemble(sizes, range(members), device=device)
        train(model, X, y, steps=2, lr=1e-3)  # warm-up
        steps, elapsed = 1, 0.0
        while elapsed < budget_s / 2 and steps < 100_000:
            steps *= 2
            if device.type == "cuda":
                torch.cuda.synchronize()
            start = time.perf_counter()
            train(model, X, y, steps=steps, lr=1e-3)
            if device.type == "cuda":
                torch.cuda.synchronize()
            elapsed = time.perf_counter() - start
        cost = measure(Fit(lambda: MLPEnsemble(sizes, range(members), device=META), (n, sizes[0]), steps))
        return elapsed / steps, cost

    tiny_s, tiny = per_step((2, 8, 2), 8, 1)
    big_s, big = per_step((512, 512, 64), 2048 if device.type == "cpu" else 65536, 2)
    seconds_per_op = tiny_s / tiny.step_ops
    rate = big.step_flop / max(big_s - big.step_ops * seconds_per_op, 1e-9)
    return Rates(str(device), seconds_per_op, rate)


def device_memory(device: str | torch.device | None = None) -> float:
    """Bytes a batch may use on ``device``: a GPU's total memory, or this machine's physical memory."""
    from .runtime import resolve_device

    device = resolve_device(device)
    if device.type == "cuda":
        return float(torch.cuda.get_device_properties(device).total_memory)
    try:
        return float(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):
        return math.inf


@dataclass
class ChapterPlan:
    """A chapter's batches at one preset, costed: see :func:`plan_chapter`."""

    stem: str
    preset: str
    batches: pd.DataFrame  # one row per batch
    rates: Rates | None
    memory_limit: float
    notes: list[str] = field(default_factory=list)

    @property
    def totals(self) -> dict:
        b = self.batches
        out = {"chapter": self.stem, "preset": self.preset, "configs": int(b["configs"].sum()), "batches": len(b),
               "TFLOP": float(b["flop"].sum()) / 1e12, "GiB per batch": float(b["peak_bytes"].max()) / 2**30,
               "too large": int((b["peak_bytes"] > self.memory_limit).sum())}
        if self.rates is not None:
            out["est. hours, 1 worker"] = float(b["seconds"].sum()) / 3600
        return out

    def too_large(self) -> pd.DataFrame:
        return self.batches[self.batches["peak_bytes"] > self.memory_limit]

    def summary(self) -> str:
        """A few lines for the top of a chapter's run."""
        t = self.totals
        lines = [f"Compute plan, {self.stem} at {self.preset}: {t['configs']:,} configs in {t['batches']:,} batches, "
                 f"{t['TFLOP']:,.2f} TFLOP of training, at most {t['GiB per batch']:.2f} GiB per batch"]
        if self.rates is not None:
            lines.append(f"  at least {_duration(t['est. hours, 1 worker'] * 3600)} on one worker of "
                         f"{self.rates.device} (calibrated here: {self.rates.flop_per_second / 1e9:,.0f} GFLOP/s, "
                         f"{self.rates.seconds_per_op * 1e6:.1f} µs per operation; a lower bound, not a measurement)")
        by_stage = self.batches.groupby("stage", sort=False)[["configs", "flop"]].sum()
        for stage, row in by_stage.iterrows():
            lines.append(f"  {stage}: {int(row['configs']):,} configs, {row['flop'] / 1e12:,.3f} TFLOP")
        big = self.too_large()
        if len(big):
            lines.append(f"  WARNING: {len(big)} batch(es) need more than the device's {self.memory_limit / 2**30:.0f} GiB "
                         f"(largest {big['peak_bytes'].max() / 2**30:.1f} GiB, stage {big.iloc[0]['stage']!r}); "
                         "they will not fit: use a device with more memory, or fewer members per ensemble")
        lines += [f"  note: {n}" for n in self.notes]
        return "\n".join(lines)


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:,.1f} h"


def cost_batches(batches: Sequence[Batch], rates: Rates | None = None) -> pd.DataFrame:
    """One row per batch: configs, FLOPs, operations, peak bytes, and seconds when ``rates`` are given."""
    memo: dict = {}
    rows = []
    for b in batches:
        flop, ops, peak = float(b.extra_flop), float(b.extra_ops), float(b.extra_bytes)
        for f in b.fits:
            cost = measure(f, memo)
            n = f.shape[-2]  # rows: (n, d), (E, n, d) and tokens (E, n, T) alike
            record_flop = cost.forward_flop * (1 + f.eval_rows / max(n, 1))
            flop += (f.steps * cost.step_flop + f.records * record_flop)
            forwards = 2 if f.eval_chunk is None else 1 + math.ceil((n + f.eval_rows) / f.eval_chunk)
            ops += (f.steps * cost.step_ops + f.records * cost.forward_ops * forwards)
            at_once = n + f.eval_rows if f.eval_chunk is None else f.eval_chunk
            scale = at_once / max(n, 1)  # a recording pass forwards the held-out rows too
            peak = max(peak, cost.train_peak_bytes if f.steps else 0.0, cost.forward_peak_bytes * scale)
        row = {"stage": b.stage, "configs": b.configs, "flop": flop, "ops": ops, "peak_bytes": peak}
        if rates is not None:
            row["seconds"] = rates.seconds(flop, ops)
        rows.append(row)
    return pd.DataFrame(rows, columns=["stage", "configs", "flop", "ops", "peak_bytes"] + (["seconds"] if rates else []))


_RATES: dict[str, Rates] = {}


def rates_for(device: str | torch.device | None = None) -> Rates:
    """:func:`calibrate` once per device and process."""
    from .runtime import resolve_device

    key = str(resolve_device(device))
    if key not in _RATES:
        _RATES[key] = calibrate(key, budget_s=0.4)
    return _RATES[key]


def plan_for(stem: str, cfg, preset: str = "", *, rates: Rates | None = None, memory_limit: float | None = None
             ) -> ChapterPlan:
    """The plan of chapter ``stem`` for its resolved config ``cfg`` (what a notebook prints before it runs)."""
    from .chapters import chapter

    ch = chapter(stem)
    limit = device_memory(rates.device if rates else None) if memory_limit is None else memory_limit
    notes = list(ch.plan_notes)
    rounds = ch.rounds(cfg)
    if rounds.count > 1:
        notes.append(f"this is round 1 of up to {rounds.count}: each later round adds {rounds.seeds} seeds to the runs "
                     "that claims still open read, and is not counted here")
    return ChapterPlan(stem, preset, cost_batches(ch.plan(cfg), rates), rates, limit, notes)


def plan_chapter(stem: str, preset: str, *, rates: Rates | None = None, memory_limit: float | None = None,
                 **overrides) -> ChapterPlan:
    """The plan of chapter ``stem`` at ``preset`` (with overrides), costed with ``rates`` when given.

    Raises:
        ValueError: for an unknown chapter, preset or override, before any compute.
    """
    from .presets import resolve

    return plan_for(stem, resolve(stem, preset, **overrides), preset, rates=rates, memory_limit=memory_limit)


#: The GPU the plan's GPU-hours refer to, its dense float32 peak and its memory (the vendor's datasheet;
#: PyTorch's default float32 matmuls do not use TF32). Hours at this peak are a lower bound from FLOPs alone.
REFERENCE_GPU = ("NVIDIA H100 SXM", 67e12, 80e9)


def _flops(flop: float) -> str:
    for prefix, scale in (("E", 1e18), ("P", 1e15), ("T", 1e12), ("G", 1e9)):
        if flop >= scale:
            return f"{flop / scale:.3g} {prefix}FLOP"
    return f"{flop:.3g} FLOP"


def readme_row(plans: Sequence[ChapterPlan]) -> str:
    """The README's preset-table row of a preset's plan (``plans`` in the table's chapter order): per chapter,
    the training FLOPs, the largest batch's memory against the reference GPU's, and GPU-hours at its peak."""
    name, peak, memory = REFERENCE_GPU
    cells = []
    for p in plans:
        t = p.totals
        gib = t["GiB per batch"]
        fits = "fits" if gib * 2**30 <= memory else "over"
        hours = t["TFLOP"] * 1e12 / peak / 3600
        cells.append(f"{_flops(t['TFLOP'] * 1e12)}; ≤ {gib:.2g} GiB per batch ({fits} {memory / 1e9:.0f} GB); "
                     + (f"≥ {hours:.2g} GPU-h" if hours >= 0.01 else "under 0.01 GPU-h at peak"))
    preset = plans[0].preset if plans else ""
    return (f"| `{preset}`, planned | `python -m softleak.book plan --preset {preset}`: training FLOPs counted from "
            f"the configs, the largest batch's memory, and hours at an {name}'s float32 peak (a lower bound; no GPU "
            "has measured these) | " + " | ".join(cells) + " |")


def preset_costs(stem: str, rates: Rates | None = None) -> dict[str, str]:
    """Per preset, one line of chapter ``stem``'s planned cost (for its page's run box)."""
    from .presets import PRESET_NAMES

    out = {}
    for preset in PRESET_NAMES:
        t = plan_chapter(stem, preset, rates=rates).totals
        text = f"{_flops(t['TFLOP'] * 1e12)}, ≤ {t['GiB per batch']:.2g} GiB per batch"
        if rates is not None:
            text += f", at least {_duration(t['est. hours, 1 worker'] * 3600)} on one worker of this build's {rates.device}"
        out[preset] = text
    return out


def plan_table(plans: Sequence[ChapterPlan]) -> pd.DataFrame:
    """One row per chapter with its totals and the reference GPU's lower bound, and a total row."""
    df = pd.DataFrame([p.totals for p in plans])
    df["GPU-hours ≥"] = df["TFLOP"] * 1e12 / REFERENCE_GPU[1] / 3600  # at the reference GPU's peak
    total = {c: df[c].sum() if df[c].dtype.kind in "fi" else "" for c in df.columns}
    total["GiB per batch"] = df["GiB per batch"].max()
    total["chapter"], total["preset"] = "whole book", plans[0].preset if plans else ""
    return pd.concat([df, pd.DataFrame([total])], ignore_index=True)

