"""One full-batch Adam trainer for every ensemble model, on hard or soft targets.

The loss is the **sum over members** of each member's mean loss, so every member receives
exactly its solo gradient; Adam (and AdamW's decoupled weight decay) act element by element, so
one optimizer state over the stacked tensors is exactly E independent optimizers. Nothing couples
members: each one may stop on its own criterion (it is then frozen), and a member whose loss
turns NaN/inf is frozen and reported by name while the others carry on.

Paper: spec §0.2 (full batch, Adam with PyTorch defaults, mean cross-entropy).
"""

from __future__ import annotations

import contextlib
import logging
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import torch
from torch import nn

from .config import check_positive, check_positive_int
from .metrics import accuracy, cross_entropy_logit_grad, hard_cross_entropy, soft_cross_entropy
from .runtime import tune_cpu

log = logging.getLogger(__name__)

#: An evaluation set: ``(X, y)``, ``(X, y, soft_targets)`` or ``(X, y, soft_targets, mask)``; y are
#: true labels, soft_targets may be ``None``, and the bool mask (E, n) marks real samples of padded sets.
EvalSet = tuple


@dataclass
class FitResult:
    """What :func:`fit` returns. The model itself is trained in place.

    Attributes:
        history: long-form table, one row per member and recorded step: ``step``, ``member``,
            ``member_name``, ``loss_train`` and, where labels are known, ``acc_train``; for every
            eval set ``name``: ``acc_name`` and, with soft targets, ``loss_name``.
        steps: (E,) optimizer steps each member took (fewer than asked if it stopped early).
        reached: (E,) whether each member met ``stop_at_acc`` (all False without a criterion).
        diverged: names of members whose training loss became NaN or infinite.
        member_names: the members' names, in ensemble order.
    """

    history: pd.DataFrame
    steps: np.ndarray
    reached: np.ndarray
    diverged: list[str] = field(default_factory=list)
    member_names: list[str] = field(default_factory=list)

    def final(self, metric: str) -> np.ndarray:
        """The last recorded value of ``metric`` for every member, shape (E,)."""
        last = self.history[self.history["step"] == self.history["step"].max()]
        return last.sort_values("member")[metric].to_numpy()


def _adam_step(params, grads, m, v, step, step_tensors, lr, beta1, beta2, eps, weight_decay) -> bool:
    """One Adam (AdamW if ``weight_decay``) update of every tensor in place, as ``torch.optim``.

    Uses PyTorch's fused kernel where it exists (3-4x faster than the multi-tensor path on CPU,
    measured here), else the multi-tensor ops with the same maths. ``step_tensors`` (one float
    tensor per parameter, holding ``step``) feed the fused kernel; ``None`` selects the fallback.

    The fused kernel walks every tensor's memory as if it were contiguous: a gradient with other
    strides than its parameter would be read in the wrong order (the transformer's attention
    matrices get such gradients from ``torch.autograd.grad``; spec/probes.md §D). Such gradients are
    copied to contiguous memory first, and parameters or moments that are not contiguous take the
    multi-tensor path, which honours strides.

    Returns:
        Whether the fused kernel ran.
    """
    if step_tensors is not None and all(t.is_contiguous() for t in (*params, *m, *v)):
        grads = [g if g.is_contiguous() else g.contiguous() for g in grads]
        fused = torch._fused_adamw_ if weight_decay else torch._fused_adam_
        try:
            fused(params, grads, m, v, [], step_tensors, amsgrad=False, lr=lr, beta1=beta1, beta2=beta2,
                  weight_decay=weight_decay, eps=eps, maximize=False)
            return True
        except (RuntimeError, NotImplementedError):  # a device or dtype without the fused kernel
            pass
    if weight_decay:
        torch._foreach_mul_(params, 1 - lr * weight_decay)
    torch._foreach_lerp_(m, grads, 1 - beta1)
    torch._foreach_mul_(v, beta2)
    torch._foreach_addcmul_(v, grads, grads, 1 - beta2)
    denom = torch._foreach_sqrt(v)
    torch._foreach_div_(denom, math.sqrt(1 - beta2**step))
    torch._foreach_add_(denom, eps)
    torch._foreach_addcdiv_(params, m, denom, -lr / (1 - beta1**step))
    return False


def _loss(logits: torch.Tensor, targets: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
    """Per-member mean loss: hard cross-entropy for integer targets, soft otherwise."""
    if targets.is_floating_point():
        return soft_cross_entropy(logits, targets, mask)
    return hard_cross_entropy(logits, targets, mask)


@torch.no_grad()
def evaluate(
    model: nn.Module,
    X: torch.Tensor,
    y: torch.Tensor,
    soft_targets: torch.Tensor | None = None,
    mask: torch.Tensor | None = None,
    *,
    logits: torch.Tensor | None = None,
) -> dict[str, torch.Tensor]:
    """Accuracy (and soft-label loss, if targets are given) of every member on one set.

    Args:
        mask: bool (E, n), the samples that count for each member (padded per-member sets).
        logits: ``model(X)`` if already computed (sets that share inputs share one forward).

    Returns:
        ``{"acc": (E,), "loss": (E,)}``; "loss" only with ``soft_targets``.
    """
    logits = model(X) if logits is None else logits
    out = {"acc": accuracy(logits, y, mask)}
    if soft_targets is not None:
        out["loss"] = soft_cross_entropy(logits, soft_targets, mask)
    return out


@torch.no_grad()
def forward_in_slices(model: nn.Module, X: torch.Tensor, rows: int = 1000) -> torch.Tensor:
    """``model(X)`` for an input (N, d) shared by every member, ``rows`` samples at a time: logits (E, c, N).

    Each slice goes in as one input per member (an expanded view, no copy), so every member's product is its own
    batched-matmul entry, as in training: a member's logits do not depend on which members share its ensemble
    (a shared input otherwise folds all members into one matmul, whose rounding does), nor on ``rows`` (tested).
    And every member's activations of one slice stay in cache, where those of the whole input do not: chapter 1's
    540 students on 10 000 grid points made a 6.5 GB hidden layer, three times slower than in slices.
    """
    check_positive_int("rows", rows)
    E = model.num_members
    return torch.cat([model(X[i : i + rows].expand(E, -1, -1)) for i in range(0, X.shape[0], rows)], dim=-1)


def fit(
    model: nn.Module,
    X: torch.Tensor,
    targets: torch.Tensor,
    *,
    steps: int,
    lr: float | Callable[[int], float],
    betas: tuple[float, float] = (0.9, 0.999),
    eps: float = 1e-8,
    weight_decay: float = 0.0,
    labels: torch.Tensor | None = None,
    sample_mask: torch.Tensor | None = None,
    stop_at_acc: float | None = None,
    record_every: int | None = None,
    eval_sets: Mapping[str, EvalSet] | None = None,
    member_names: Sequence[str] | None = None,
    on_record: Callable[[int, dict[str, torch.Tensor]], bool | None] | None = None,
    loss: Callable[[torch.Tensor, torch.Tensor, torch.Tensor | None], torch.Tensor] | None = None,
    compact: bool = True,
    closed_form: bool = True,
) -> FitResult:
    """Train every member of ``model`` by full-batch Adam (one step = one epoch).

    Args:
        model: an ensemble whose forward maps ``X`` to logits (E, c, n).
        X: training inputs, shared (n, ...) or per member (E, n, ...).
        targets: int64 labels (n,) or (E, n) for cross-entropy on hard labels; float soft labels
            (c, n) or (E, c, n) for the soft-label cross-entropy.
        steps: maximum number of optimizer steps.
        lr: learning rate, or a function of the 0-based step (e.g. a warm-up).
        betas, eps: Adam's; PyTorch defaults.
        weight_decay: decoupled (AdamW) weight decay; 0 gives plain Adam.
        labels: true labels of the training set, for ``acc_train`` (defaults to integer targets).
        sample_mask: bool (E, n): which samples each member trains on. Members of different sizes
            share one padded tensor this way (padded inputs should be finite, e.g. zeros); a
            masked member is exactly its unpadded solo run, as the mean runs over its own samples.
        stop_at_acc: freeze a member as soon as its training accuracy (from the forward pass
            before a step) reaches this value; it keeps the parameters that reached it.
        record_every: record metrics at step 0, every this many steps and at the end; ``None``
            records the end only.
        eval_sets: named held-out sets, each ``(X, y)``, ``(X, y, soft_targets)`` or
            ``(X, y, soft_targets, mask)`` (soft_targets may be ``None``). Sets passing the same
            input tensor (e.g. one set scored against several labelings) share one forward pass.
        member_names: names used in the history and in divergence reports.
        on_record: called after every record with the step and the recorded metrics ((E,) tensors,
            e.g. ``row["acc_val"]``, one entry per member of the whole ensemble; a member that has
            stopped repeats its last values). The model holds that step's parameters, so it can
            snapshot them (early-stopped checkpoints); ``row["_members"]`` names the member of each
            row of the model's current batch (``model(X)[i]`` is member ``row["_members"][i]``), which
            shrinks as members stop. Returning True ends training for every member; returning a bool
            (E,) tensor stops the members it marks (they keep this record's parameters).
        loss: ``loss(logits, targets, sample_mask) -> (E,)`` per-member losses, for objectives other
            than cross-entropy (e.g. matching similarity scores, chapter 7); ``None`` is the hard or
            soft cross-entropy chosen by the targets' dtype.
        compact: let stopped members leave the batch (default): their parameters are written back,
            and the remaining members train on the rows that are theirs of the model, the optimizer
            state and every per-member input. Needs a model whose parameters all carry the members
            on their first dimension and no ``compactable = False`` (grouped inputs); otherwise, or
            with ``compact=False``, a stopped member is carried along and restored after each step.
        closed_form: for a linear model (``model.closed_form``: one layer, no hidden units) trained on the
            cross-entropy, take the gradient in closed form (:func:`softleak.metrics.cross_entropy_logit_grad`
            and ``model.logit_backward``) instead of from autograd: the same gradient in a few operations rather
            than a graph of dozens, 1.4× faster per step on chapter 4's students (measured, ``make bench``);
            ``False`` always uses autograd. Equal to autograd up to rounding (tested in float64).

    Returns:
        A :class:`FitResult`.
    """
    check_positive_int("steps", steps)
    if not callable(lr):
        check_positive("lr", lr)
    if record_every is not None:
        check_positive_int("record_every", record_every)
    if labels is None and not targets.is_floating_point():
        labels = targets
    if stop_at_acc is not None and labels is None:
        raise ValueError("stop_at_acc needs labels: pass the true labels of the training set")
    params = [p for p in model.parameters() if p.requires_grad]
    num_members = params[0].shape[0]
    names = list(member_names) if member_names is not None else [f"member{e}" for e in range(num_members)]
    if len(names) != num_members:
        raise ValueError(f"member_names has {len(names)} names for an ensemble of {num_members} members")
    if params[0].device.type == "cpu":
        tune_cpu()
    run = _Run(model, params, names, _Batch(num_members, X, targets, labels, sample_mask, dict(eval_sets or {})),
               _loss if loss is None else loss, on_record, compact)
    stop = run.record(0) if record_every is not None else False
    closed = closed_form and loss is None and bool(getattr(model, "closed_form", False))
    step = 0
    for step in range(1, 0 if stop else steps + 1):
        with torch.no_grad() if closed else contextlib.nullcontext():
            logits = model(run.batch.X)
            # the loss itself: for autograd, or with a stopping rule (its divergence check); a record measures its own
            per_member = run.loss_fn(logits, run.batch.targets, run.batch.mask) \
                if not closed or stop_at_acc is not None else None
        if stop_at_acc is not None and run.stop_fitted(logits, per_member, stop_at_acc):
            step -= 1
            break
        if closed:
            with torch.no_grad():
                grads = model.logit_backward(run.batch.X, cross_entropy_logit_grad(logits, run.batch.targets,
                                                                                   run.batch.mask))
        else:
            grads = list(torch.autograd.grad(per_member.sum(), run.params))
        run.update(grads, step, lr(step - 1) if callable(lr) else lr, betas, eps, weight_decay)
        if record_every is not None and step % record_every == 0 and step < steps:
            if run.record(step):
                break
    run.restore_all()
    if not run.records or run.records[-1][0] != step:
        run.record(step)
    return run.result()


class _Run:
    """The state of one :func:`fit`: the members still training (``active``), the rows of the current batch
    (``members``: the member of each row; stopped members leave it when compacting), the optimizer's moments,
    and the records."""

    def __init__(self, model, params, names, batch, loss_fn, on_record, compact) -> None:
        num_members = params[0].shape[0]
        device = params[0].device
        self.model, self.params, self.names, self.loss_fn, self.on_record = model, params, names, loss_fn, on_record
        self.num_members, self.device = num_members, device
        self.compact = (compact and getattr(model, "compactable", False)  # every parameter trainable and per member
                        and all(p.requires_grad and p.dim() and p.shape[0] == num_members for p in model.parameters()))
        self.batch = self.whole = batch
        # where each trained parameter lives, to put smaller ones in its place as members leave
        self.slots = [(model.get_submodule(name.rpartition(".")[0]), name.rpartition(".")[2], p)
                      for name, p in model.named_parameters() if p.requires_grad] if self.compact else []
        self.active = torch.ones(num_members, dtype=torch.bool, device=device)  # every member, in ensemble order
        self.members = torch.arange(num_members, device=device)  # the member of each row of the current batch
        self.full: list[torch.Tensor] | None = None  # every member's parameters, once some have left the batch
        # Adam steps taken: every member counts each update until it stops (``stopped_after``: the updates before it
        # stopped, -1 while it trains), kept per stop rather than per step so that a step adds no indexing
        self.updates = 0
        self.stopped_after = torch.full((num_members,), -1, dtype=torch.long, device=device)
        self.reached = torch.zeros(num_members, dtype=torch.bool, device=device)
        self.diverged: list[str] = []
        self.records: list[tuple[int, dict[str, torch.Tensor]]] = []
        self.last: dict[str, torch.Tensor] = {}  # each metric's latest values for every member
        self.changed = False  # whether a member stopped since the batch was last compacted
        self.m = [torch.zeros_like(p) for p in params]
        self.v = [torch.zeros_like(p) for p in params]
        self.step_tensors = [torch.zeros((), device=p.device) for p in params] if hasattr(torch, "_fused_adam_") \
            else None

    def check_divergence(self, loss_rows: torch.Tensor) -> None:
        active, members = self.active, self.members
        bad = ~torch.isfinite(loss_rows) & active[members]
        if bool(bad.any()):
            for e in members[bad].tolist():
                self.diverged.append(self.names[e])
                log.warning("member %s diverged (loss %s); it is frozen", self.names[e],
                            loss_rows[(members == e).nonzero()[0, 0]].item())
            active[members[bad]] = False
            self.changed = True

    @torch.no_grad()
    def measure(self) -> dict[str, torch.Tensor]:
        """Every metric of the members in the batch, one row each."""
        model, batch = self.model, self.batch
        logits = model(batch.X)
        row = {"loss_train": self.loss_fn(logits, batch.targets, batch.mask)}
        if batch.labels is not None:
            row["acc_train"] = accuracy(logits, batch.labels, batch.mask)
        forwards: dict[int, torch.Tensor] = {}  # eval sets on the same input tensor share one forward
        for name, es in batch.eval_sets.items():
            if id(es[0]) not in forwards:
                forwards[id(es[0])] = model(es[0])
            for key, value in evaluate(model, *es, logits=forwards[id(es[0])]).items():
                row[f"{key}_{name}"] = value
        return row

    @torch.no_grad()
    def record(self, step: int) -> bool:
        """Record every member's metrics at ``step``; True when training should end for every member."""
        row = self.measure()
        self.check_divergence(row["loss_train"])
        last, members = self.last, self.members
        for key, value in row.items():  # members that left the batch repeat their last values
            last[key] = value if key not in last or len(members) == self.num_members \
                else last[key].index_copy(0, members, value)
        self.records.append((step, dict(last)))
        if self.on_record is None:
            return False
        out = self.on_record(step, {**last, "_members": members})
        if isinstance(out, torch.Tensor) and out.dim() == 1:
            stop = out.to(device=self.device, dtype=torch.bool) & self.active
            if bool(stop.any()):
                self.active.masked_fill_(stop, False)
                self.changed = True
            return not bool(self.active.any())
        return bool(out)

    def stop_fitted(self, logits, per_member, stop_at_acc: float) -> bool:
        """Stop the members whose training accuracy reached ``stop_at_acc`` (before this step); True when none
        is left."""
        active = self.active
        with torch.no_grad():
            done = torch.zeros_like(active)
            done[self.members] = accuracy(logits, self.batch.labels, self.batch.mask) >= stop_at_acc
            done &= active
            self.reached |= done
            active &= ~done
            self.check_divergence(per_member)
            if bool(done.any()):
                self.changed = True
        return not bool(active.any())

    @torch.no_grad()
    def leave(self, keep: torch.Tensor, grads: list[torch.Tensor]) -> None:
        """The stopped members (rows not in ``keep``) leave the batch, with their current parameters."""
        params, members = self.params, self.members
        if self.full is None:
            self.full = [p.detach().clone() for p in params]
        for f, p in zip(self.full, params):
            f.index_copy_(0, members, p.detach())
        if self.last:  # the leaving members' metrics at the parameters they keep, for the later records
            leaving = (~keep).nonzero().flatten()
            for key, value in self.measure().items():
                self.last[key] = self.last[key].index_copy(0, members[leaving], value[leaving])
        rows = keep.nonzero().flatten()
        self.members = members[rows]
        m, v = self.m, self.v
        for i, (owner, attr, _) in enumerate(self.slots):  # new leaves: autograd keeps a leaf's shape
            params[i] = nn.Parameter(params[i].detach()[rows])
            setattr(owner, attr, params[i])
            m[i], v[i], grads[i] = m[i][rows], v[i][rows], grads[i][rows]
        self.batch = self.batch.select(rows)
        self.changed = False

    @torch.no_grad()
    def update(self, grads: list[torch.Tensor], step: int, lr_t: float, betas, eps: float,
               weight_decay: float) -> None:
        """One Adam step of the members still training; stopped members leave the batch or are restored."""
        saved = None
        if self.changed:  # members stopped since the last update: they took ``self.updates`` steps
            self.stopped_after.masked_fill_((self.stopped_after < 0) & ~self.active, self.updates)
            keep = self.active[self.members]
        if self.changed and self.compact:
            self.leave(keep, grads)
        elif self.changed:  # carried along: restored after the step
            frozen = (~keep).nonzero().flatten()
            saved = [t[frozen].clone() for t in (*self.params, *self.m, *self.v)]
        if self.step_tensors is not None:
            torch._foreach_add_(self.step_tensors, 1.0)
        beta1, beta2 = betas
        if not _adam_step(self.params, grads, self.m, self.v, step, self.step_tensors, lr_t, beta1, beta2, eps,
                          weight_decay):
            self.step_tensors = None  # no fused kernel here: stay on the multi-tensor path
        if saved is not None:
            for t, s_ in zip((*self.params, *self.m, *self.v), saved):
                t[frozen] = s_
        self.updates += 1

    @torch.no_grad()
    def restore_all(self) -> None:
        """Every member back in the model's own parameters, in ensemble order (after compaction)."""
        if self.full is None:
            return
        for f, p, (owner, attr, original) in zip(self.full, self.params, self.slots):
            f.index_copy_(0, self.members, p.detach())
            original.copy_(f)
            setattr(owner, attr, original)
        self.members, self.batch = torch.arange(self.num_members, device=self.device), self.whole

    def result(self) -> FitResult:
        frames = []
        for step_, row in self.records:
            cols = {k: t.detach().float().cpu().numpy() for k, t in row.items()}
            frames.append(pd.DataFrame({"step": step_, "member": np.arange(self.num_members),
                                        "member_name": self.names, **cols}))
        history = pd.concat(frames, ignore_index=True).drop_duplicates(["step", "member"], keep="last")
        return FitResult(
            history=history.reset_index(drop=True),
            steps=torch.where(self.stopped_after < 0, self.updates, self.stopped_after).cpu().numpy(),
            reached=self.reached.cpu().numpy(),
            diverged=self.diverged,
            member_names=self.names,
        )


class _Batch:
    """The inputs of :func:`fit` that carry one entry per member, sliced together as members leave.

    Per member: inputs (E, n, ...) of 3 dimensions, float targets (E, c, n) and integer targets or
    labels (E, n), the sample mask, and in each eval set those of its inputs, labels, soft targets
    and mask with the same shapes; everything else is shared by all members and never sliced.
    """

    def __init__(self, E, X, targets, labels, mask, eval_sets) -> None:
        self.E, self.X, self.targets, self.labels, self.mask, self.eval_sets = E, X, targets, labels, mask, eval_sets

    @staticmethod
    def _per_member(t, E: int, dims: int) -> bool:
        return isinstance(t, torch.Tensor) and t.dim() == dims and t.shape[0] == E

    def select(self, rows: torch.Tensor) -> "_Batch":
        E = self.E
        cache: dict[int, torch.Tensor] = {}  # one slice per tensor, so sets that shared an input still do

        def cut(t, dims):
            if not self._per_member(t, E, dims):
                return t
            if id(t) not in cache:
                cache[id(t)] = t[rows]
            return cache[id(t)]

        def cut_target(t):
            return None if t is None else cut(t, 3 if t.is_floating_point() else 2)

        eval_sets = {}
        for name, es in self.eval_sets.items():
            parts = [cut(es[0], 3), cut(es[1], 2)]
            if len(es) > 2:
                parts.append(cut_target(es[2]))
            if len(es) > 3:
                parts.append(cut(es[3], 2))
            eval_sets[name] = tuple(parts)
        return _Batch(len(rows), cut(self.X, 3), cut_target(self.targets), cut(self.labels, 2) if self.labels is not None
                      else None, cut(self.mask, 2), eval_sets)


def min_norm_lstsq(X: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
    """The pseudo-inverse solution ŵ = X⁺ z, batched, through the smaller Gram matrix.

    For m < d equations it is the minimum-norm interpolant Xᵀ(XXᵀ)⁻¹z; for m ≥ d the least-squares
    solution (XᵀX)⁻¹Xᵀz. Both equal ``torch.linalg.pinv(X) @ z`` for full-rank X (Gaussian inputs
    are full rank with probability one); solved in float64 by Cholesky, which is several times
    faster than an SVD-based pinv (a test checks the equality).

    Paper: §5.1, the pseudo-inverse student (spec §3.4).

    Args:
        X: inputs (B, m, d) or (m, d).
        z: targets (B, m) or (m,).

    Returns:
        ŵ of shape (B, d) or (d,), in the dtype of X.
    """
    Xd, zd = X.double(), z.double()
    m, d = X.shape[-2:]
    Xt = Xd.transpose(-1, -2)
    if m < d:
        gram = Xd @ Xt  # (B, m, m)
        coef = torch.cholesky_solve(zd[..., None], torch.linalg.cholesky(gram))
        w = (Xt @ coef)[..., 0]
    else:
        gram = Xt @ Xd  # (B, d, d)
        w = torch.cholesky_solve((Xt @ zd[..., None]), torch.linalg.cholesky(gram))[..., 0]
    return w.to(X.dtype)
