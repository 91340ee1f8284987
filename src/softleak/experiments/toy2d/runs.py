"""Chapter 1's runs: per class count, the teachers of every dataset in one ensemble, then all hard- and
soft-label students in another; the decision regions of the showcase dataset for the figures."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from functools import partial

import numpy as np
import pandas as pd
import torch

from ...data import split_student, toy_2d
from ...distillation import one_hot, soft_labels
from ...metrics import accuracy, agreement, predictions
from ...models import MLPEnsemble
from ...plan import META, Batch, Fit
from ...runtime import derive_seed, resolve_device
from ...sweeps import default_workers, group_batches, run_sweep
from ...training import fit, forward_in_slices
from .config import NAMESPACE, STUDENT_KINDS, Toy2DConfig, ToyCase


#: grid points per forward of the decision regions (:func:`softleak.training.forward_in_slices`)
GRID_ROWS = 1000


def grid_points(size: int) -> torch.Tensor:
    """A size × size grid over [-1, 1]², row-major in (x2, x1): shape (size², 2)."""
    axis = torch.linspace(-1, 1, size)
    x2, x1 = torch.meshgrid(axis, axis, indexing="ij")
    return torch.stack([x1.flatten(), x2.flatten()], dim=1)


def _run_batch(configs: list[dict], device: torch.device) -> list[dict[str, pd.DataFrame]]:
    """All datasets of one case: teachers, then hard and soft students, in two ensemble fits."""
    case = ToyCase(**{f.name: configs[0][f.name] for f in dataclasses.fields(ToyCase)})
    inits, grid_size = [cfg["num_student_inits"] for cfg in configs], configs[0]["grid_size"]
    c, n = case.c, case.n
    seeds = [cfg["data_seed"] for cfg in configs]
    role = {r: [derive_seed(s, r) for s in seeds] for r in ("data", "teacher_init", "split")}
    # the showcase is the authors' own draw: torch.manual_seed(13), then X, then y, from one stream
    role["data"] = [s if cfg["showcase"] else d for s, d, cfg in zip(seeds, role["data"], configs)]
    data = [toy_2d(n, c, s) for s in role["data"]]
    X = torch.stack([d[0] for d in data]).to(device)  # (T, n, 2)
    y = torch.stack([d[1] for d in data]).to(device)  # (T, n)

    teacher = MLPEnsemble((2, case.p, c), role["teacher_init"], device=device)
    tfit = fit(
        teacher, X, y, steps=case.teacher_max_steps, lr=case.teacher_lr,
        stop_at_acc=1.0 if case.teacher_stop == "fit" else None,  # "fixed": every epoch of the cap (the code's c = 3)
        member_names=[f"teacher(c={c}, data_seed={s})" for s in seeds],
    )
    with torch.no_grad():
        t_logits = teacher(X)  # (T, c, n)
    acc_star = accuracy(t_logits, y).cpu().numpy()
    probs = soft_labels(t_logits, case.tau)  # (T, c, n)
    splits = [split_student(y[i].cpu(), case.rho, role["split"][i]) for i in range(len(seeds))]

    # students: member order (dataset i, kind, init k)
    members = [(i, kind, k) for i in range(len(seeds)) for kind in STUDENT_KINDS for k in range(inits[i])]
    init_seeds = [derive_seed(seeds[i], "student_init", k) for i, _, k in members]
    tr = [splits[i][0].to(device) for i, _, _ in members]
    te = [splits[i][1].to(device) for i, _, _ in members]
    X_train = torch.stack([X[i, idx] for (i, _, _), idx in zip(members, tr)])  # (E, n_train, 2)
    y_train = torch.stack([y[i, idx] for (i, _, _), idx in zip(members, tr)])  # (E, n_train)
    X_test = torch.stack([X[i, idx] for (i, _, _), idx in zip(members, te)])  # (E, n_test, 2)
    y_test = torch.stack([y[i, idx] for (i, _, _), idx in zip(members, te)])
    targets = torch.stack([
        probs[i][:, idx] if kind == "soft" else one_hot(y[i, idx], c)
        for (i, kind, _), idx in zip(members, tr)
    ])  # (E, c, n_train): a one-hot target makes the soft CE the hard CE exactly
    student = MLPEnsemble((2, case.p, c), init_seeds, device=device)
    sfit = fit(
        student, X_train, targets, labels=y_train, steps=case.student_steps, lr=case.student_lr,
        member_names=[f"{kind} student(c={c}, data_seed={seeds[i]}, init={k})" for i, kind, k in members],
    )

    G = grid_points(grid_size).to(device)
    owner = torch.tensor([i for i, _, _ in members], device=device)
    with torch.no_grad():
        t_test = torch.stack([t_logits[i][:, idx] for (i, _, _), idx in zip(members, te)])
        s_test = student(X_test)
        t_grid = forward_in_slices(teacher, G, GRID_ROWS)  # (T, c, g²)
        s_grid = forward_in_slices(student, G, GRID_ROWS)  # (E, c, g²)
        res = {
            "acc_test_S": accuracy(s_test, y_test),
            "acc_match_T_test": agreement(s_test, t_test),
            "acc_match_T_grid": agreement(s_grid, t_grid[owner]),
        }
        res = {k: v.cpu().numpy() for k, v in res.items()}
        res["acc_train_S"] = sfit.final("acc_train")  # the trainer's last record: no second pass
        s_all = predictions(student(X[owner]))  # (E, n): every student on its whole D*^T
    diverged = set(sfit.diverged)

    out = []
    for i, cfg in enumerate(configs):
        rows = []
        for e, (j, kind, k) in enumerate(members):
            if j != i:
                continue
            rows.append({
                "data_seed": seeds[i], "student": kind, "init": k, "c": c, "n": n, "p": case.p,
                "tau": case.tau, "rho": case.rho,
                "seed_data": role["data"][i], "seed_teacher": role["teacher_init"][i],
                "seed_split": role["split"][i], "seed_student": init_seeds[e],
                "acc_star_T": acc_star[i], "teacher_steps": int(tfit.steps[i]),
                "teacher_reached_100": bool(tfit.reached[i] or acc_star[i] >= 1.0),
                "student_steps": int(sfit.steps[e]),
                "diverged": sfit.member_names[e] in diverged,
                **{name: values[e] for name, values in res.items()},
                "chance": 1.0 / c,
            })
        tables = {"runs": pd.DataFrame(rows)}
        if cfg["showcase"]:
            tables.update(_showcase_tables(i, members, X, y, splits, t_logits, s_all, G, t_grid, s_grid, c))
        out.append(tables)
    return out


def _showcase_tables(i, members, X, y, splits, t_logits, s_all, G, t_grid, s_grid, c):
    """Decision regions on the grid and per-point predictions of dataset i, for the figures."""
    ids = [(e, kind, k) for e, (j, kind, k) in enumerate(members) if j == i]
    models = [("teacher", -1, t_grid[i].argmax(0))] + [(kind, k, s_grid[e].argmax(0)) for e, kind, k in ids]
    G = G.cpu().numpy()
    grid = pd.concat([
        pd.DataFrame({"model": name, "init": k, "x1": G[:, 0], "x2": G[:, 1], "pred": pred.cpu().numpy()})
        for name, k, pred in models
    ], ignore_index=True)
    part = np.full(X.shape[1], "test", dtype=object)
    part[splits[i][0].numpy()] = "train"
    Xi, yi = X[i].cpu().numpy(), y[i].cpu().numpy()
    point_models = [("teacher", -1, t_logits[i].argmax(0))] + [(kind, k, s_all[e]) for e, kind, k in ids]
    points = pd.concat([
        pd.DataFrame({"model": name, "init": k, "x1": Xi[:, 0], "x2": Xi[:, 1], "y": yi, "part": part,
                      "pred": pred.cpu().numpy()})
        for name, k, pred in point_models
    ], ignore_index=True)
    points["correct"] = points["pred"] == points["y"]
    return {"grid": grid.assign(c=c), "points": points.assign(c=c)}


def run(
    cfg: Toy2DConfig,
    *,
    cache_dir=None,
    progress: bool = True,
    device: str | torch.device | None = None,
    workers: int | None = None,
) -> dict[str, pd.DataFrame]:
    """Run chapter 1: every case on the showcase dataset and on ``cfg.seeds``.

    Returns:
        ``{"runs": one row per student, "grid": decision regions of the showcase datasets,
        "points": per-point predictions on the showcase datasets}``.
    """
    device = resolve_device(device)
    workers = default_workers(device) if workers is None else workers
    configs = _configs(cfg)
    return run_sweep(
        partial(_run_batch, device=device), configs, cache_dir=cache_dir, namespace=NAMESPACE,
        batch_key=_batch_key(configs, workers), progress=progress, desc="datasets", workers=workers,
    )


def _configs(cfg: Toy2DConfig) -> list[dict]:
    """One config per (case, dataset): the showcase dataset first."""
    return [
        {**dataclasses.asdict(case), "data_seed": s, "showcase": s == cfg.showcase_seed,
         "num_student_inits": cfg.showcase_inits if s == cfg.showcase_seed else cfg.num_student_inits,
         "grid_size": cfg.grid_size}
        for case in cfg.cases
        for s in (cfg.showcase_seed, *cfg.seeds)
    ]


def _batch_key(configs: list[dict], parts: int) -> Callable[[dict], tuple[int, int]]:
    """The datasets of a case train together, cut in ``parts`` batches of about as many students each (one per
    worker): a case's batch is otherwise a worker's alone, and at ``cpu`` the c = 20 case took 178 s of the
    chapter's 186 while the other worker finished c = 3 in 74 s. Members never interact, so the cut changes
    no result (the smoke and ``cpu`` tables are identical)."""
    part: dict[tuple[int, int], int] = {}
    for c in dict.fromkeys(conf["c"] for conf in configs):
        case = [conf for conf in configs if conf["c"] == c]
        total, before = sum(conf["num_student_inits"] for conf in case), 0
        for conf in case:
            part[c, conf["data_seed"]] = min(parts - 1, before * parts // total)
            before += conf["num_student_inits"]
    return lambda conf: (conf["c"], part[conf["c"], conf["data_seed"]])


PLAN_NOTES = ("teachers train until they fit their data, at most teacher_max_steps epochs: the plan counts the cap",)


def plan(cfg: Toy2DConfig) -> list[Batch]:
    """The batches :func:`run` trains, for :mod:`softleak.plan`: per case, the teachers, the students and the grid."""
    configs = _configs(cfg)
    out = []
    # one batch per case, as one worker (a GPU) runs them: the largest batch's memory; a CPU run cuts each case in
    # one batch per worker, which changes no FLOP count
    for idx in group_batches(configs, _batch_key(configs, 1)):
        b = [configs[i] for i in idx]
        case, T = b[0], len(b)
        E = 2 * sum(conf["num_student_inits"] for conf in b)
        n_train = int(case["rho"] * case["n"])
        sizes, g2 = (2, case["p"], case["c"]), case["grid_size"] ** 2
        out.append(Batch(f"case c = {case['c']}", T, (
            Fit(partial(MLPEnsemble, sizes, range(T), device=META), (T, case["n"], 2), case["teacher_max_steps"]),
            Fit(partial(MLPEnsemble, sizes, range(E), device=META), (E, n_train, 2), case["student_steps"],
                eval_rows=case["n"]),
            # the decision regions, forwarded in slices of GRID_ROWS points (training.forward_in_slices)
            Fit(partial(MLPEnsemble, sizes, range(E + T), device=META), (g2, 2), 0, eval_chunk=GRID_ROWS),
        )))
    return out
