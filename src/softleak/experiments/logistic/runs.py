"""Chapter 3's runs: for every (d, α, seed) cell a single-logit teacher memorizes its random labels (neighbouring
α of one d train as one padded ensemble), then for every ρ the pseudo-inverse student is solved on the teacher's
logits of D_train^S, as is and shuffled within each class."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import pandas as pd
import torch

from ...data import gaussian_random_labels, pad_stack, split_student, standardize
from ...distillation import shuffle_within_class
from ...models import BinaryLogitEnsemble
from ...plan import META, Batch, Fit
from ...runtime import derive_seed, resolve_device, split_seed
from ...sweeps import default_workers, group_batches, run_sweep
from ...training import fit, min_norm_lstsq
from .config import NAMESPACE, LogisticConfig, num_samples


def _run_batch(configs: list[dict], device: torch.device) -> list[pd.DataFrame]:
    """Several (α, seed) cells of one d: all teachers in one padded ensemble, then the students."""
    d = configs[0]["d"]
    sizes = [num_samples(cfg["alpha"], d) for cfg in configs]
    cells = [derive_seed(cfg["seed"], "data", n) for cfg, n in zip(configs, sizes)]
    data = [gaussian_random_labels(n, d, 2, derive_seed(cell, "data")) for cell, n in zip(cells, sizes)]
    X, mask = pad_stack([standardize(x) for x, _ in data])  # (E, n_max, d): each member's own n rows are real
    y, _ = pad_stack([lab for _, lab in data])
    X, y, mask = X.to(device), y.to(device), mask.to(device)
    teacher = BinaryLogitEnsemble(d, [derive_seed(cell, "teacher_init") for cell in cells], device=device)
    tfit = fit(teacher, X, y, sample_mask=mask, steps=configs[0]["teacher_steps"], lr=configs[0]["teacher_lr"],
        member_names=[f"teacher(d={d}, n={n}, seed={cfg['seed']})" for cfg, n in zip(configs, sizes)])
    with torch.no_grad():
        z = teacher.logit(X)  # (E, n_max)
    acc_star = tfit.final("acc_train")  # the trainer's last record: no second pass

    out: list[pd.DataFrame | None] = [None] * len(configs)
    for n in sorted(set(sizes)):
        members = [e for e, size in enumerate(sizes) if size == n]
        rows = _students(X[members, :n], y[members, :n], z[members, :n], [cells[e] for e in members],
                         configs[members[0]]["rhos"])
        for e, r in zip(members, rows):
            out[e] = pd.DataFrame([{"d": d, "n": n, "alpha": n / d, "alpha_grid": configs[e]["alpha"],
                                    "seed": configs[e]["seed"], "seed_cell": cells[e],
                                    "acc_star_T": float(acc_star[e]), **row} for row in r])
    return out


def _students(X: torch.Tensor, y: torch.Tensor, z: torch.Tensor, cells: list[int], rhos) -> list[list[dict]]:
    """Pseudo-inverse students, standard and shuffled, for every ρ; one list of rows per member.

    Args:
        X, y, z: inputs (E, n, d), labels (E, n) and teacher logits (E, n) of members of equal n.
    """
    rows: list[list[dict]] = [[] for _ in cells]
    for rho in rhos:
        split_seeds = [split_seed(cell, rho) for cell in cells]
        splits = [split_student(y[e].cpu(), rho, split_seeds[e], stratify=True) for e in range(len(cells))]
        tr = torch.stack([s[0] for s in splits]).to(X.device)  # (E, m)
        te = torch.stack([s[1] for s in splits]).to(X.device)
        X_tr, X_te = _take(X, tr), _take(X, te)  # (E, m, d), (E, n - m, d)
        y_tr, y_te = torch.gather(y, 1, tr), torch.gather(y, 1, te)
        z_tr, z_te = torch.gather(z, 1, tr), torch.gather(z, 1, te)
        shuffle_seeds = [derive_seed(seed, "shuffle") for seed in split_seeds]
        z_shuffled = torch.stack([shuffle_within_class(z_tr[e], y_tr[e], shuffle_seeds[e]) for e in range(len(cells))])
        for shuffled, target in ((False, z_tr), (True, z_shuffled)):
            w = min_norm_lstsq(X_tr, target)  # (E, d)
            s_tr = torch.einsum("emd,ed->em", X_tr, w)
            s_te = torch.einsum("emd,ed->em", X_te, w)
            res = {
                "acc_train_S": ((s_tr > 0).long() == y_tr).double().mean(1),
                "acc_test_S": ((s_te > 0).long() == y_te).double().mean(1),
                "acc_match_T_train": ((s_tr > 0) == (z_tr > 0)).double().mean(1),
                "acc_match_T_test": ((s_te > 0) == (z_te > 0)).double().mean(1),
                "mse_train": ((s_tr - z_tr) ** 2).double().mean(1),
                "mse_test": ((s_te - z_te) ** 2).double().mean(1),
            }
            res = {key: v.cpu().numpy() for key, v in res.items()}
            for e in range(len(cells)):
                rows[e].append({
                    "rho": rho, "shuffled": shuffled, "m_train": int(tr.shape[1]),
                    "seed_split": split_seeds[e], "seed_shuffle": shuffle_seeds[e],
                    **{key: float(v[e]) for key, v in res.items()},
                })
    return rows


def _take(X: torch.Tensor, idx: torch.Tensor) -> torch.Tensor:
    """Rows ``idx`` (E, m) of per-member inputs X (E, n, d) -> (E, m, d)."""
    return torch.gather(X, 1, idx[..., None].expand(-1, -1, X.shape[-1]))


def run(cfg: LogisticConfig, *, cache_dir=None, progress: bool = True, device=None,
        workers: int | None = None) -> pd.DataFrame:
    """Run the sweep: all of (α, ρ, seed) at ``cfg.d``, and ρ = rho_focus at ``cfg.d_compare``.

    Returns:
        One row per (d, α, ρ, seed, shuffled) with the metrics of spec §3.5.
    """
    device = resolve_device(device)
    configs, batch_key = _sweep(cfg)
    return run_sweep(partial(_run_batch, device=device), configs, cache_dir=cache_dir, namespace=NAMESPACE,
                     batch_key=batch_key, progress=progress, desc="(d, α, seed) cells",
                     workers=default_workers(device) if workers is None else workers)


def _sweep(cfg: LogisticConfig) -> tuple[list[dict], Callable[[dict], tuple]]:
    """The configs of :func:`run` and their batch key: neighbouring α values of one d share one padded
    teacher ensemble (fewer, larger tensor programs)."""
    shared = {"teacher_lr": cfg.teacher_lr, "teacher_steps": cfg.teacher_steps}
    configs = [{"d": cfg.d, "alpha": a, "seed": s, "rhos": list(cfg.rhos), **shared}
               for a in cfg.alphas for s in cfg.seeds]
    if cfg.d_compare is not None:
        configs += [{"d": cfg.d_compare, "alpha": a, "seed": s, "rhos": [cfg.rho_focus], **shared}
                    for a in cfg.alphas for s in cfg.seeds]
    bucket = {a: i // cfg.alphas_per_batch for i, a in enumerate(sorted(cfg.alphas))}
    return configs, lambda c: (c["d"], bucket[c["alpha"]])


PLAN_NOTES = ("the students are closed-form float64 least squares (counted as 2·m·d·min(m, d) + min(m, d)³/3 "
              "per solve); float64 runs at about half the float32 rate the estimate assumes",)


def plan(cfg: LogisticConfig) -> list[Batch]:
    """The batches :func:`run` trains, for :mod:`softleak.plan`: a padded teacher ensemble, then two solves per ρ."""
    configs, batch_key = _sweep(cfg)
    out = []
    for idx in group_batches(configs, batch_key):
        b = [configs[i] for i in idx]
        d, sizes = b[0]["d"], [num_samples(c["alpha"], b[0]["d"]) for c in b]
        E, n_max = len(b), max(sizes)
        solve_flop = solve_ops = solve_bytes = 0.0
        for n in set(sizes):
            E_n = sizes.count(n)
            for rho in b[0]["rhos"]:
                m = 2 * int(rho * n / 2)
                k = min(m, d)
                solve_flop += 2 * E_n * (2 * m * d * k + k**3 / 3 + 4 * n * d)
                solve_ops += 60
                solve_bytes = max(solve_bytes, 8.0 * E_n * (m * d + k * k) + 4.0 * E_n * n * d)
        out.append(Batch(f"d = {d}", E, (
            Fit(partial(BinaryLogitEnsemble, d, range(E), device=META), (E, n_max, d), b[0]["teacher_steps"]),),
            extra_flop=solve_flop, extra_ops=solve_ops, extra_bytes=solve_bytes + 4.0 * E * n_max * d))
    return out
