"""Chapter 2's runs: every architecture's teachers and the premise ladder in one sweep, then every student in
another (:func:`run`); the plan that costs them before they start; the timing of one paper-size teacher epoch."""

from __future__ import annotations

from functools import partial

import numpy as np
import pandas as pd
import torch

from ...data import modular_addition
from ...plan import META, Batch, Fit
from ...runtime import resolve_device
from ...sweeps import default_workers, group_batches, run_sweep
from ...training import fit
from .config import NAMESPACE, PRESETS, ModularConfig
from .ensembles import arch_dict, build_model, lr_schedule
from .students import budget_table, run_students, student_configs, student_cost, student_key
from .teachers import run_teachers, teacher_configs, teacher_cost, teacher_key

PREMISE_COLUMNS = ["P", "frac", "d_model", "d_mlp", "seed", "teacher", "rule", "met", "epoch", "acc_star_T",
                   "acc_val_T", "acc_fresh_T", "acc_mirror_T"]


def run(cfg: ModularConfig, *, cache_dir=None, progress: bool = True, device=None,
        workers: int | None = None) -> dict[str, pd.DataFrame]:
    """Teachers (with the premise ladder's), then students, for every architecture in ``cfg.archs``.

    Returns:
        ``{"checkpoints": one row per (arch, seed, teacher k): rule, met, epoch, acc_star_T, acc_val_T,
        acc_fresh_T, acc_mirror_T; "teacher_curve": per (arch, seed, recorded epoch); "premise": the
        premise ladder's checkpoints (one row per (P, teacher k), the main transformer's seeds
        included); "runs": one row per (arch, seed, ρ, τ, teacher k) with final student metrics,
        fit_epoch and gen_epoch; "curves": per student and recorded epoch}``. Every row carries its
        arch, seed (and ρ, τ) as columns.
    """
    device = resolve_device(device)
    workers = default_workers(device) if workers is None else workers
    archs = {arch: arch_dict(cfg, arch) for arch in cfg.archs}
    # every architecture's teachers and the premise ladder in one sweep, every student in another: with
    # several workers the ladder and the MLP teachers train beside the transformer's
    t_out = run_sweep(partial(run_teachers, device=device), teacher_configs(cfg), cache_dir=cache_dir,
                      namespace=f"{NAMESPACE}-teacher", batch_key=teacher_key,
                      progress=progress, desc="teachers (one ensemble per architecture; premise ladder)",
                      workers=workers, cost=teacher_cost)
    logits = t_out.pop("logits")
    main = {name: df[df["role"] == "main"] for name, df in t_out.items()}
    premise = t_out["checkpoints"][t_out["checkpoints"]["role"] == "premise"]
    teachers = {}
    for arch, a in archs.items():
        zcols = [f"z{j}" for j in range(a["P"])]
        for s in cfg.seeds:
            ls = logits[(logits["role"] == "main") & (logits["arch"] == arch) & (logits["seed"] == s)]
            ls = ls.sort_values("teacher", kind="stable")
            teachers[arch, s] = torch.tensor(ls[zcols].to_numpy(np.float32)).reshape(3, a["P"] ** 2, a["P"]).transpose(1, 2)
    budgets = budget_table(main["checkpoints"], cfg)
    s_out = run_sweep(partial(run_students, teachers=teachers, device=device), student_configs(cfg, budgets),
                      cache_dir=cache_dir, namespace=f"{NAMESPACE}-student", batch_key=student_key,
                      progress=progress, desc="students (architecture × ρ × τ × teacher, seeds together)",
                      workers=workers, cost=student_cost)
    drop = ("stops", "betas", "teacher_record_every", "lr", "weight_decay", "warmup", "teacher_epochs", "role",
            "keep_logits")
    out = {name: df[[col for col in df.columns if col not in drop]].reset_index(drop=True)
           for name, df in {**main, **s_out}.items()}
    out["budgets"] = budgets
    tf_main = out["checkpoints"][out["checkpoints"]["arch"] == "transformer"]
    out["premise"] = pd.concat([premise, tf_main], ignore_index=True).reindex(columns=PREMISE_COLUMNS).sort_values(
        ["P", "seed", "teacher"]).reset_index(drop=True)
    return out


PLAN_NOTES = ("teachers and students stop early once their rules are met: the plan counts every epoch "
              "(an upper bound), and a P² forward at each record for the held-out pairs (two for a teacher)",)


def plan(cfg: ModularConfig) -> list[Batch]:
    """The batches :func:`run` trains, for :mod:`softleak.plan`: the teacher ensembles, then the students."""
    def fit_of(a: dict, E: int, n: int, steps: int, every: int, eval_rows: int) -> Fit:
        tokens = a["arch"] == "transformer"
        shape = (E, n, 3) if tokens else (E, n, 2 * a["P"])
        return Fit(partial(build_model, a, range(E), META), shape, steps, records=steps // every + 2, eval_rows=eval_rows,
                   dtype=torch.long if tokens else torch.float32)

    out = []
    for stage, configs, key in (("teachers", teacher_configs(cfg), teacher_key),
                                ("students", student_configs(cfg), student_key)):
        for idx in group_batches(configs, key):
            a = configs[idx[0]]
            n_star = int(a["frac"] * a["P"] ** 2)
            if stage == "teachers":
                f = fit_of(a, len(idx), n_star, a["teacher_epochs"], a["teacher_record_every"], 2 * a["P"] ** 2)
            else:
                f = fit_of(a, len(idx), int(a["rho"] * n_star), a["student_epochs"], a["record_every"], a["P"] ** 2)
            label = f"{a['arch']} {stage}" + (" (premise ladder)" if a.get("role") == "premise" else "")
            out.append(Batch(label, len(idx), (f,)))
    return out


def paper_epoch_seconds(epochs: int = 5, device=None) -> dict[str, float]:
    """Time a few full-batch epochs of one transformer teacher at the ``paper`` preset's size (after one
    warm-up epoch), and what that makes one paper teacher cost: the page's planning numbers, measured."""
    import time

    paper = PRESETS["paper"]
    a = arch_dict(paper, "transformer")
    device = resolve_device(device)
    tokens, y, train, _ = modular_addition(a["P"], a["frac"], 0)
    X, yt = tokens[train].to(device), y[train].to(device)
    model = build_model(a, [0], device)
    fit(model, X, yt, steps=1, lr=lr_schedule(a), betas=tuple(a["betas"]), weight_decay=a["weight_decay"])
    start = time.perf_counter()
    fit(model, X, yt, steps=epochs, lr=lr_schedule(a), betas=tuple(a["betas"]), weight_decay=a["weight_decay"])
    per_epoch = (time.perf_counter() - start) / epochs
    return {"paper.epoch_ms": 1000 * per_epoch, "paper.teacher_minutes": per_epoch * paper.transformer.teacher_epochs / 60,
            "paper.P": a["P"], "paper.teacher_epochs": paper.transformer.teacher_epochs}
