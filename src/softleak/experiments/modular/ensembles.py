"""What chapter 2's teachers and students train: the ensembles of either architecture, their inputs, the learning-rate
warm-up, and a config's settings as the plain dict a sweep caches by."""

from __future__ import annotations

import torch

from ...data import one_hot_pairs
from ...models import MLPEnsemble, TransformerEnsemble
from .config import ArchConfig, ModularConfig, teacher_record_every


def lr_schedule(cfg_or_dict) -> callable:
    """lr · min(step / warmup, 1): the linear warm-up, the first step at lr 0."""
    lr, warmup = cfg_or_dict["lr"], cfg_or_dict["warmup"]
    return lambda step: lr * min(step / warmup, 1.0)


def build_model(a: dict, seeds: list[int], device) -> torch.nn.Module:
    """One ensemble of the architecture ``a["arch"]``, a member per seed."""
    P = a["P"]
    if a["arch"] == "transformer":
        return TransformerEnsemble(P + 1, P, 3, d_model=a["d_model"], num_heads=a["num_heads"], d_mlp=a["d_mlp"],
                                   seeds=seeds, device=device)
    # float64 logits, as the transformer's: a float32 loss underflows to 0 once D*^T is fitted (probes.md B)
    return MLPEnsemble((2 * P, a["width"], a["width"], P), seeds, device=device, logits_dtype=torch.float64)


def model_inputs(arch: str, tokens: torch.Tensor, P: int) -> torch.Tensor:
    """Model inputs for token rows (..., 3): the tokens themselves, or one-hot(a) ⊕ one-hot(b)."""
    if arch == "transformer":
        return tokens
    return one_hot_pairs(tokens.reshape(-1, 3), P).reshape(*tokens.shape[:-1], 2 * P)


def arch_dict(cfg: ModularConfig, arch: str, a: ArchConfig | None = None) -> dict:
    """An architecture's settings and the chapter's optimizer as the plain dict a sweep config starts from."""
    a = cfg.arch(arch) if a is None else a
    keys = ["arch", "P", "frac", "teacher_epochs"] + (
        ["d_model", "num_heads", "d_mlp"] if arch == "transformer" else ["width"])
    return {**{k: getattr(a, k) for k in keys}, "stops": list(a.stops), "separate_runs": a.separate_runs, "lr": cfg.lr,
            "weight_decay": cfg.weight_decay, "betas": list(cfg.betas), "warmup": cfg.warmup,
            "teacher_record_every": teacher_record_every(cfg)}


def macs(a: dict) -> int:
    """Multiply-adds of one sample's forward (the per-sample matmuls: W_O, MLP and unembedding; or the MLP)."""
    if a["arch"] == "transformer":
        return a["d_model"] * (a["d_model"] + 2 * a["d_mlp"] + a["P"])
    return a["width"] * (2 * a["P"] + a["width"] + a["P"])
