"""Chapter 7's runs and plan: the main setting, A.2's grid, the 2D toy, the structured data, and A.4 (chapter 2's
experiment, cut to the workshop's question)."""

from __future__ import annotations

import dataclasses
from functools import partial

import pandas as pd
import torch

from ...distillation import cosine_similarities
from ...models import MLPEnsemble
from ...plan import META, Batch, Fit
from ...runtime import resolve_device
from ...sweeps import default_workers, group_batches, run_sweep
from ..modular.config import ArchConfig, ModularConfig
from ..modular.runs import plan as modular_plan
from ..modular.runs import run as modular_run
from .base import check_cifar_dir
from .config import A4_STOPS, NAMESPACE, STRUCTURED_SHAPES, WorkshopConfig
from .extra_runs import a2_batch, a2_configs, structured_batch, structured_configs, toy_batch, toy_configs, toy_key
from .main_runs import main_batch, main_configs

PLAN_NOTES = ("teachers train until they fit, at most their epoch cap, and every teacher is assumed to fit (so its "
              "students train): the plan counts the caps",)


class _Similarity(torch.nn.Module):
    """A similarity student as the plan calls it: its cosine similarities (E, n, n), the loss's input."""

    def __init__(self, model: torch.nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        return cosine_similarities(self.model(X))


def _mlp(sizes, members: int, similarity: bool = False) -> torch.nn.Module:
    model = MLPEnsemble(sizes, range(members), device=META)
    return _Similarity(model) if similarity else model


def plan(cfg: WorkshopConfig) -> list[Batch]:
    """The batches :func:`run` trains, for :mod:`softleak.plan`: the main setting (each config retrains its
    teacher), A.2's grid, the 2D toy, the structured data and A.4 (chapter 2's plan of :func:`a4_config`)."""
    out = []
    for conf in main_configs(cfg):
        d, c, p, sp = conf["d"], conf["c"], conf["p"], conf["student_p"]
        n, n_f = conf["samples_per_class"] * c, conf["fresh_per_class"] * c
        m_of = lambda rho: c * int(rho * conf["samples_per_class"])  # noqa: E731
        fits = [Fit(partial(_mlp, (d, p, p, c), 1), (n, d), conf["teacher_epochs"], eval_rows=n_f)]
        student = lambda sizes, E, rho, epochs, sim=False: Fit(  # noqa: E731
            partial(_mlp, sizes, E, sim), (m_of(rho), d), epochs, records=2, eval_rows=n + n_f)
        exp = conf["experiment"]
        if exp == "capacity":
            fits += [student((d, w, w, c), conf["inits"], rho, conf["student_epochs"])
                     for w in conf["widths"] for rho in conf["rhos"]]
        elif exp == "a1":
            fits += [student((d, sp, sp, c), len(conf["a1_taus"]) * conf["a1_inits"], conf["a1_rho"], conf["student_epochs"])
                     for _ in conf["a1_lrs"]]
        elif exp == "a3":
            E = (1 + 2 * len(conf["a3_classes"]) + 2 * len(conf["a3_ks"])) * conf["inits"]
            fits.append(student((d, sp, sp, c), E, conf["a3_rho"], conf["student_epochs"]))
        else:
            fits += [student((d, sp, sp, c), conf["inits"], rho, conf["sim_epochs"], True)
                     for rho in conf["sim_rhos"] or conf["rhos"]]
        out.append(Batch(f"main: {exp}", 1, tuple(fits)))
    for conf in a2_configs(cfg):
        d, c, spc = conf["d"], conf["c"], conf["spc"]
        sp, m = conf["student_p"], c * int(conf["a2_rho"] * spc)
        fits = [Fit(partial(_mlp, (d, conf["p"], conf["p"], c), 1), (c * spc, d), conf["a2_teacher_epochs"],
                    eval_rows=conf["fresh_per_class"] * c)]
        if m:
            fits.append(Fit(partial(_mlp, (d, sp, sp, c), conf["a2_inits"]), (m, d), conf["a2_student_epochs"],
                            records=2, eval_rows=c * spc))
        out.append(Batch("A.2 composition", 1, tuple(fits)))
    toys = toy_configs(cfg)
    for idx in group_batches(toys, toy_key, cfg.toy.batch):
        case, T = toys[idx[0]], len(idx)
        E, sizes, n_tr = T * case["toy_inits"], (2, case["p"], case["c"]), int(case["rho"] * case["n"])
        out.append(Batch("2D toy", T, (
            Fit(partial(_mlp, sizes, T), (T, case["n"], 2), case["teacher_max_steps"]),
            *(Fit(partial(_mlp, sizes, E, sim), (E, n_tr, 2), case["student_steps"], records=2, eval_rows=case["n"])
              for sim in (False, False, True)))))
    for conf in structured_configs(cfg):
        N, D = STRUCTURED_SHAPES[conf["structured"]]
        m, p = int(0.8 * N), conf["structured_p"]
        fits = [Fit(partial(_mlp, (D, p, p, 10), 1), (m, D), conf["structured_teacher_epochs"], eval_rows=N - m)]
        fits += [Fit(partial(_mlp, (D, p, p, 10), conf["structured_inits"]), (int(rho * m), D),
                     conf["structured_student_epochs"], records=2, eval_rows=N) for rho in conf["structured_rhos"]]
        out.append(Batch(f"structured ({conf['structured']})", 1, tuple(fits)))
    out += [dataclasses.replace(b, stage=f"A.4 {b.stage}") for b in modular_plan(a4_config(cfg))]
    return out


def run(cfg: WorkshopConfig, *, cache_dir=None, progress: bool = True, device=None, workers: int | None = None
        ) -> dict[str, pd.DataFrame]:
    """Run chapter 7. Returns ``{"main", "heldout", "a2", "toy", "structured"}`` tables.

    Raises:
        ValueError: a CIFAR-10 run without a valid ``data_dir`` (``structured_data_dir``), before any compute.
    """
    if cfg.structured.data == "cifar10":
        check_cifar_dir(cfg.structured.data_dir)
    device = resolve_device(device)
    workers = default_workers(device) if workers is None else workers
    kw = dict(cache_dir=cache_dir, progress=progress, workers=workers)
    cost = {"capacity": 4, "a3": 4, "sim": 3, "a1": 2}  # measured order at cpu: the longest start first
    main = run_sweep(partial(main_batch, device=device), main_configs(cfg), namespace=f"{NAMESPACE}/main",
                     desc="main setting", cost=lambda b: cost[b[0]["experiment"]], **kw)
    a2 = run_sweep(partial(a2_batch, device=device), a2_configs(cfg), namespace=f"{NAMESPACE}/a2",
                   desc="dataset composition", cost=lambda b: b[0]["c"] * b[0]["spc"] * (b[0]["d"] + 2 * b[0]["p"]), **kw)
    toy = run_sweep(partial(toy_batch, device=device), toy_configs(cfg), namespace=f"{NAMESPACE}/toy", desc="2D toy",
                    batch_key=toy_key, max_batch=cfg.toy.batch, **kw)
    structured = run_sweep(partial(structured_batch, device=device), structured_configs(cfg),
                           namespace=f"{NAMESPACE}/structured", desc="structured data", **kw)
    a4 = modular_run(a4_config(cfg), cache_dir=cache_dir, progress=progress, device=device, workers=workers)
    main = main if isinstance(main, dict) else {"runs": main}
    tables = {"main": main["runs"], "heldout": main.get("heldout", pd.DataFrame()), "a2": a2, "toy": toy,
              "structured": structured, "a4_teachers": a4["checkpoints"], "a4": a4["runs"]}
    return tables


def a4_config(cfg: WorkshopConfig) -> ModularConfig:
    """Chapter 2's experiment, cut to A.4: the transformer only, one ρ, the workshop's teacher beside two of
    chapter 2's (every other setting as chapter 2: AdamW, weight decay 1, warm-up, float64 soft labels)."""
    a4 = cfg.a4
    stops = tuple(r.format(end=a4.teacher_epochs) for r in A4_STOPS)
    arch = ArchConfig("transformer", P=a4.P, frac=a4.frac, teacher_epochs=a4.teacher_epochs,
                      stops=stops, d_model=a4.d_model, d_mlp=a4.d_mlp)
    taus = tuple(sorted(a4.taus, reverse=True))
    return ModularConfig(
        transformer=arch, mlp=ArchConfig("mlp", P=a4.P, frac=a4.frac, teacher_epochs=1, stops=("train>=1",) * 3),
        seeds=a4.seeds, rhos=(a4.rho,), taus=taus, student_epochs=(a4.student_epochs,) * len(taus),
        student_lr=a4.student_lr, record_every=50, archs=("transformer",), fig10=((a4.rho, taus[0]),),
        small_rho=a4.rho)
