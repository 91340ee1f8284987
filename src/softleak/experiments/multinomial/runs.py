"""Chapter 4's runs: per (experiment, c, d), the teachers of every data cell in one padded ensemble, then every
ρ, τ and shuffle of every cell as one grouped student ensemble."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from functools import partial

import pandas as pd
import torch

from ...data import gaussian_random_labels, pad_stack, split_student
from ...distillation import shuffle_within_class, soft_labels
from ...chapters import group_seeds
from ...metrics import accuracy
from ...models import GroupedLinearEnsemble, LinearEnsemble
from ...plan import META, Batch, Fit
from ...runtime import derive_seed, resolve_device, split_seed
from ...sweeps import default_workers, group_batches, run_sweep
from ...training import fit
from .config import NAMESPACE, SCALINGS, MultinomialConfig


def _experiments(cfg: MultinomialConfig) -> list[dict]:
    """One config per data cell (experiment, c, d, samples per class, seed)."""
    def cells(experiment, c, d, n_pcs, rhos, taus, optim, extra=None):
        return [{"experiment": experiment, "c": c, "d": d, "n_pc": n_pc, "seed": s, "rhos": list(rhos),
                 "taus": list(taus), **dataclasses.asdict(optim), **(extra or {})}
                for n_pc in n_pcs for s in group_seeds(cfg, experiment)]

    configs = []
    configs += cells("tau_c2", 2, cfg.d, [int(a * cfg.d) for a in cfg.c2_alphas], [cfg.rho], cfg.c2_taus, cfg.optim)
    configs += cells("tau_c10", 10, cfg.d, [int(a * cfg.d) for a in cfg.c10_alphas], [cfg.rho], cfg.c10_taus, cfg.optim)
    if cfg.f13_alphas and cfg.f13_rhos:
        configs += cells("rho_alpha", 2, cfg.d, [int(a * cfg.d) for a in cfg.f13_alphas], cfg.f13_rhos, cfg.f13_taus,
                         cfg.f13_optim)
    for c in cfg.scaling_cs:
        for sub, g in SCALINGS.items():
            d = cfg.scaling_d_lin if sub == "lin" else cfg.scaling_d
            n_pcs = sorted({max(2, int(x * d / g(c))) for x in cfg.scaling_xs})
            configs += cells("scaling", c, d, n_pcs, [cfg.scaling_rho], [cfg.scaling_tau], cfg.scaling_optim)
    # a cell shared by two sub-sweeps (same c, d, n) is run once
    unique = {tuple(sorted((k, str(v)) for k, v in conf.items())): conf for conf in configs}
    return list(unique.values())


def _run_batch(configs: list[dict], device: torch.device) -> list[pd.DataFrame]:
    """All cells of one (experiment, c, d): teachers in one padded ensemble, then all students."""
    first = configs[0]
    c, d, rhos, taus = first["c"], first["d"], first["rhos"], first["taus"]
    sizes = [conf["n_pc"] * c for conf in configs]
    cells = [derive_seed(conf["seed"], "data", n) for conf, n in zip(configs, sizes)]
    data = [gaussian_random_labels(n, d, c, derive_seed(cell, "data")) for cell, n in zip(cells, sizes)]
    X, mask = pad_stack([x for x, _ in data], max(sizes))
    y, _ = pad_stack([lab for _, lab in data], max(sizes))
    X, y, mask = X.to(device), y.to(device), mask.to(device)
    teacher = LinearEnsemble(d, c, [derive_seed(cell, "teacher_init") for cell in cells], device=device)
    fit(teacher, X, y, sample_mask=mask, steps=first["teacher_steps"], lr=first["teacher_lr"],
        member_names=[f"teacher(c={c}, d={d}, n={n}, seed={conf['seed']})" for conf, n in zip(configs, sizes)])
    with torch.no_grad():
        z = teacher(X)  # (T, c, n_max)
        acc_star = accuracy(z, y, mask).cpu().numpy()

    # student groups: one per (cell, ρ); members: τ-major, then standard / shuffled
    variants = [(j, tau, shuffled) for j, tau in enumerate(taus) for shuffled in (False, True)]
    groups, X_tr, X_te, y_tr, y_te, targets, init = [], [], [], [], [], [], []
    for t, (cell, n) in enumerate(zip(cells, sizes)):
        y_t, z_t = y[t, :n].cpu(), z[t, :, :n].cpu()
        for rho in rhos:
            split = split_seed(cell, rho)  # from ρ's value, never its position in the grid
            tr, te = split_student(y_t, rho, split, stratify=True)
            groups.append((t, rho, split, len(te)))
            X_tr.append(X[t, tr].cpu()), X_te.append(X[t, te].cpu()), y_tr.append(y_t[tr]), y_te.append(y_t[te])
            for j, tau, shuffled in variants:
                q = soft_labels(z_t[:, tr], tau)  # (c, m)
                targets.append(shuffle_within_class(q, y_t[tr], derive_seed(split, "shuffle")) if shuffled else q)
                init.append(derive_seed(split, "student_init", j))
    S = len(variants)
    Xg, mask_tr = pad_stack(X_tr, max(len(v) for v in X_tr))
    Xg_te, mask_te = pad_stack(X_te, max(len(v) for v in X_te))
    ytr_g, _ = pad_stack(y_tr, Xg.shape[1])
    yte_g, _ = pad_stack(y_te, Xg_te.shape[1])
    Q, _ = pad_stack([q.T for q in targets], Xg.shape[1])  # (E, m_max, c)
    expand = lambda t: t.repeat_interleave(S, dim=0).to(device)  # noqa: E731  group -> members
    student = GroupedLinearEnsemble(d, c, init, group_size=S, device=device)
    sfit = fit(student, Xg.to(device), Q.transpose(1, 2).contiguous().to(device), labels=expand(ytr_g),
        sample_mask=expand(mask_tr), steps=first["student_steps"], lr=first["student_lr"])
    with torch.no_grad():
        acc_tr = sfit.final("acc_train")  # the trainer's last record: no second pass
        acc_te = accuracy(student(Xg_te.to(device)), expand(yte_g), expand(mask_te)).cpu().numpy()

    rows: list[list[dict]] = [[] for _ in configs]
    for g, (t, rho, split, n_test) in enumerate(groups):
        for s, (j, tau, shuffled) in enumerate(variants):
            e = g * S + s
            rows[t].append({
                "experiment": first["experiment"], "c": c, "d": d, "n": sizes[t], "alpha": sizes[t] / (d * c),
                "seed": configs[t]["seed"], "rho": rho, "tau": tau, "shuffled": shuffled,
                "seed_cell": cells[t], "seed_split": split, "seed_student": init[e], "n_test_S": n_test,
                "acc_star_T": float(acc_star[t]), "acc_train_S": float(acc_tr[e]), "acc_test_S": float(acc_te[e]),
            })
    return [pd.DataFrame(r) for r in rows]


def run(cfg: MultinomialConfig, *, cache_dir=None, progress: bool = True, device=None,
        workers: int | None = None) -> pd.DataFrame:
    """Run all four experiments; one row per (experiment, c, d, n, seed, ρ, τ, shuffled)."""
    device = resolve_device(device)
    configs = _experiments(cfg)
    return run_sweep(partial(_run_batch, device=device), configs, cache_dir=cache_dir, namespace=NAMESPACE,
                     batch_key=_batch_key(cfg, configs), progress=progress, desc="data cells",
                     workers=default_workers(device) if workers is None else workers)


def _batch_key(cfg: MultinomialConfig, configs: list[dict]) -> Callable[[dict], tuple]:
    """Cells of similar size share one padded ensemble: little padding, few tensor programs."""
    groups: dict[tuple, list[int]] = {}
    for conf in configs:
        groups.setdefault((conf["experiment"], conf["c"], conf["d"]), []).append(conf["n_pc"])
    per_batch = {key: cfg.scaling_sizes_per_batch if key[0] == "scaling" else cfg.sizes_per_batch for key in groups}
    rank = {key: {n: i // per_batch[key] for i, n in enumerate(sorted(set(v)))} for key, v in groups.items()}

    def batch_key(conf: dict) -> tuple:
        key = (conf["experiment"], conf["c"], conf["d"])
        return (*key, rank[key][conf["n_pc"]])

    return batch_key


PLAN_NOTES: tuple[str, ...] = ()


def plan(cfg: MultinomialConfig) -> list[Batch]:
    """The batches :func:`run` trains, for :mod:`softleak.plan`: a padded teacher ensemble, then one grouped
    student ensemble (every ρ, τ and shuffle of every cell) and its test pass."""
    configs = _experiments(cfg)
    out = []
    for idx in group_batches(configs, _batch_key(cfg, configs)):
        b = [configs[i] for i in idx]
        c, d, T = b[0]["c"], b[0]["d"], len(b)
        S, rhos = 2 * len(b[0]["taus"]), b[0]["rhos"]
        G = T * len(rhos)
        n_max = max(conf["n_pc"] for conf in b) * c
        m_max = max(c * int(rho * conf["n_pc"]) for conf in b for rho in rhos)
        mte_max = max(conf["n_pc"] * c - c * int(rho * conf["n_pc"]) for conf in b for rho in rhos)
        out.append(Batch(b[0]["experiment"], T, (
            Fit(partial(LinearEnsemble, d, c, range(T), device=META), (T, n_max, d), b[0]["teacher_steps"]),
            Fit(partial(GroupedLinearEnsemble, d, c, range(G * S), group_size=S, device=META), (G, m_max, d),
                b[0]["student_steps"]),
            Fit(partial(GroupedLinearEnsemble, d, c, range(G * S), group_size=S, device=META), (G, mte_max, d), 0),
        )))
    return out
