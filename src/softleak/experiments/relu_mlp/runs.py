"""Chapter 5's runs: every cell (one data set and its teacher) trains its teacher, then all the students the
experiments ask of it as padded ensembles (:func:`run`); the fig7c.jump ladder trains the jump panel's students
longer (:func:`run_ladder`); :func:`plan` costs both before they start."""
from __future__ import annotations
from functools import partial

import pandas as pd
import torch

from ...data import gaussian_random_labels, pad_stack, split_student
from ...distillation import cut_tail, remove_class_entry, shuffle_within_class, soft_labels
from ...metrics import accuracy
from ...models import MLPEnsemble
from ...plan import META, Batch, Fit
from ...runtime import derive_seed, resolve_device, rho_index, split_seed
from ...sweeps import default_workers, run_sweep
from ...training import fit
from .config import (CURVE_METRICS, NAMESPACE, VARIANTS, ReluConfig, alpha_roles, experiment_cells,
                     samples_per_class)
_HISTORY_NAMES = {"acc_train": "acc_train_S", "acc_test": "acc_test_S", "acc_val": "acc_val_S",
                  "acc_test0": "acc_test_S_class0", "acc_testT": "acc_match_T_test", "loss_train": "loss_train_S",
                  "loss_test": "loss_test_S"}


def run_config(cfg: ReluConfig) -> dict:
    """The fields every cell's run needs besides the cell itself (part of the cache key)."""
    return {"tau": cfg.tau, "teacher_lr": cfg.teacher_lr, "student_lr": cfg.student_lr,
            "student_steps": cfg.student_steps, "record_every": cfg.record_every,
            "val_per_class": cfg.val_per_class, "removed_class": cfg.removed_class}


def student_targets(spec: dict, cell_seed: int, X, y, q, c0: int):
    """Training inputs, labels, soft targets (c, m) and the split's test indices of one student."""
    rk = rho_index(spec["rho"])  # ρ's value, as split_seed reads it
    split = split_seed(cell_seed, spec["rho"])
    tr, te = split_student(y, spec["rho"], split, stratify=True)
    Xtr, ytr, qtr = X[tr], y[tr], q[:, tr]
    v, k = spec["variant"], spec["k"]
    if v not in VARIANTS:
        raise ValueError(f"variant={v!r} is not a student variant; allowed: {', '.join(VARIANTS)}")
    if v == "shuffled":
        qtr = shuffle_within_class(qtr, ytr, derive_seed(cell_seed, "shuffle", rk))
    elif v == "tail_smallest":
        qtr = cut_tail(qtr, k, mode="smallest")
    elif v == "tail_random":
        qtr = cut_tail(qtr, k, mode="random", seed=derive_seed(cell_seed, "treatment", 1000 * rk + k))
    elif v == "remove_samples":
        keep = ytr != c0
        Xtr, ytr, qtr = Xtr[keep], ytr[keep], qtr[:, keep]
    elif v == "remove_entry":
        qtr = remove_class_entry(qtr, ytr, c0)
    return Xtr, ytr, qtr, te, split, derive_seed(cell_seed, "student_init", rk)


def _entropy(q: torch.Tensor) -> float:
    """The floor of the soft cross-entropy −Σ_k q_k log p_k over distributions p, mean over samples.

    Reached at p = q/Σq: −Σ q_k log(q_k/Σq), the entropy for normalised q; tail-cut targets (not
    renormalised) sum to less than 1. Subtracting it from the loss leaves a KL-like excess ≥ 0.
    """
    q = q.double()
    return float(-(torch.special.xlogy(q, q) - q * torch.log(q.sum(dim=0, keepdim=True))).sum(dim=0).mean())


#: Fixed cost of one optimizer step of a small ensemble, in FLOP-equivalents (≈ 150 µs at ≈ 100 GFLOP/s,
#: measured on the 2-core CPU): merging students into one padded ensemble pays off while the padding
#: costs less than the steps it saves.
STEP_OVERHEAD_FLOP = 1.5e7


def chunks(sizes: list[int], flop_per_sample: float, max_members: int) -> list[list[int]]:
    """Split students into ensembles minimising Σ_groups (members × padded size × FLOP + overhead).

    Students are sorted by training size (decreasing); a dynamic programme picks the cut points.

    Returns:
        Groups of indices into ``sizes``.
    """
    order = sorted(range(len(sizes)), key=lambda i: -sizes[i])
    best = [0.0] + [float("inf")] * len(order)  # best[j]: cost of the first j students
    cut = [0] * (len(order) + 1)
    for j in range(1, len(order) + 1):
        for i in range(max(0, j - max_members), j):  # group order[i:j], padded to sizes[order[i]]
            cost = best[i] + (j - i) * sizes[order[i]] * flop_per_sample + STEP_OVERHEAD_FLOP
            if cost < best[j]:
                best[j], cut[j] = cost, i
    groups, j = [], len(order)
    while j > 0:
        groups.append(order[cut[j]:j])
        j = cut[j]
    return groups[::-1]


def _run_cell(cell: dict, device: torch.device, max_members: int) -> dict[str, pd.DataFrame]:
    """Train one cell's teacher, then all its students; return final ``runs`` and ``curves``."""
    d, c, n_pc, p_T = cell["d"], cell["c"], cell["n_pc"], cell["p_T"]
    n = n_pc * c
    cell_seed = derive_seed(cell["seed"], "data", n)
    X, y = gaussian_random_labels(n, d, c, derive_seed(cell_seed, "data"))
    X_val, y_val = gaussian_random_labels(cell["val_per_class"] * c, d, c, derive_seed(cell_seed, "val"))
    teacher = MLPEnsemble((d, p_T, c), [derive_seed(cell_seed, "teacher_init", p_T)], device=device)
    fit(teacher, X.to(device), y.to(device), steps=cell["teacher_steps"], lr=cell["teacher_lr"],
        member_names=[f"teacher(c={c}, n={n}, p={p_T}, seed={cell['seed']})"])
    with torch.no_grad():
        z = teacher(X.to(device))[0].cpu()  # (c, n)
    acc_star = float(accuracy(z[None], y)[0])
    q = soft_labels(z.double(), cell["tau"]).float()  # float64 softmax: τ = 20 flattens small logit gaps
    y_T = z.argmax(dim=0)
    c0 = cell["removed_class"]

    students = cell["students"]
    prepared = [student_targets(s, cell_seed, X, y, q, c0) for s in students]
    runs, curves = [], []
    for p_S in sorted({s["p_S"] for s in students}):
        idx = [i for i, s in enumerate(students) if s["p_S"] == p_S]
        sizes = {i: len(prepared[i][1]) for i in idx}
        flop = 6.0 * (d * p_S + p_S * c)  # forward + backward per sample
        for local in chunks([sizes[i] for i in idx], flop, max_members):
            group = [idx[j] for j in local]
            parts = [prepared[i] for i in group]
            Xtr, mtr = pad_stack([p[0] for p in parts])
            ytr, _ = pad_stack([p[1] for p in parts])
            Qtr, _ = pad_stack([p[2].T for p in parts])
            tes = [p[3] for p in parts]
            Xte, mte = pad_stack([X[t] for t in tes])
            yte, _ = pad_stack([y[t] for t in tes])
            Qte, _ = pad_stack([q[:, t].T for t in tes])
            yTe, _ = pad_stack([y_T[t] for t in tes])
            to = lambda t: t.to(device)  # noqa: E731
            Xte_d = to(Xte)
            student = MLPEnsemble((d, p_S, c), [p[5] for p in parts], device=device)
            names = [f"student(c={c}, n={n}, seed={cell['seed']}, rho={students[i]['rho']:g}, p_S={p_S}, "
                     f"{students[i]['variant']}{students[i]['k'] or ''})" for i in group]
            res = fit(student, to(Xtr), to(Qtr.transpose(1, 2).contiguous()), labels=to(ytr), sample_mask=to(mtr),
                      steps=cell["student_steps"], lr=cell["student_lr"], record_every=cell["record_every"],
                      member_names=names, eval_sets={  # one input tensor: one test forward per record
                          "test": (Xte_d, to(yte), to(Qte.transpose(1, 2).contiguous()), to(mte)),
                          "test0": (Xte_d, to(yte), None, to(mte & (yte == c0))),
                          "testT": (Xte_d, to(yTe), None, to(mte)),
                          "val": (to(X_val), to(y_val)),
                      })
            hist = res.history.rename(columns=_HISTORY_NAMES)
            # soft CE = entropy of the targets + KL: the KL shows the fit on a log scale
            hist["kl_train_S"] = hist["loss_train_S"] - hist["member"].map(dict(enumerate(_entropy(p[2]) for p in parts)))
            hist["kl_test_S"] = hist["loss_test_S"] - hist["member"].map(dict(enumerate(_entropy(q[:, t]) for t in tes)))
            for e, i in enumerate(group):
                s = students[i]
                h = hist[hist["member"] == e]
                ident = {"student": i, "rho": s["rho"], "p_S": p_S, "variant": s["variant"], "k": s["k"]}
                curves.append(h[["step", *CURVE_METRICS]].assign(**ident))
                last = h.iloc[-1]
                base = {**ident, "p_T": p_T, "m_train": sizes[i], "n": n, "acc_star_T": acc_star,
                        "seed_cell": cell_seed, "seed_split": prepared[i][4], "seed_student": prepared[i][5],
                        **{m: float(last[m]) for m in CURVE_METRICS}}
                runs += [{**base, "experiment": tag} for tag in s["tags"]]
    curves_df = pd.concat(curves, ignore_index=True)
    return {"runs": pd.DataFrame(runs), "curves": curves_df}


def cell_flop(cell: dict) -> float:
    """Training FLOP of one cell (teacher and students, forward and backward): the sweep's schedule."""
    d, c, n = cell["d"], cell["c"], cell["n_pc"] * cell["c"]
    teacher = 6.0 * n * (d + c) * cell["p_T"] * cell["teacher_steps"]
    students = sum(6.0 * s["rho"] * n * (d + c) * s["p_S"] * cell["student_steps"] for s in cell["students"])
    return teacher + students


PLAN_NOTES = ("students of one width train in padded ensembles of at most max_members (chosen as the run chooses "
              "them); every record forwards the training, test and validation rows",)


def _train_size(student: dict, c: int, n_pc: int) -> int:
    """A student's training rows: the stratified ρ-split, less the removed class for ``remove_samples``."""
    per_class = int(student["rho"] * n_pc)
    return (c - 1 if student["variant"] == "remove_samples" else c) * per_class


def plan(cfg: ReluConfig) -> list[Batch]:
    """The batches :func:`run` and :func:`run_ladder` train, for :mod:`softleak.plan`: per cell, its teacher, then
    its students in the padded ensembles :func:`chunks` makes."""
    shared = run_config(cfg)
    ladder = {**shared, "student_steps": max(cfg.jump_ladder) * cfg.student_steps} if cfg.jump_ladder else None
    out = []
    for cells, run_fields, stage in ((experiment_cells(cfg), shared, "cells"), (ladder_cells(cfg), ladder, "fig7c.jump ladder")):
        for cell in cells:
            d, c, n_pc, p_T = cell["d"], cell["c"], cell["n_pc"], cell["p_T"]
            n, n_val = n_pc * c, run_fields["val_per_class"] * c
            steps, every = run_fields["student_steps"], run_fields["record_every"]
            fits = [Fit(partial(MLPEnsemble, (d, p_T, c), [0], device=META), (n, d), cell["teacher_steps"])]
            for p_S in sorted({st["p_S"] for st in cell["students"]}):
                group = [st for st in cell["students"] if st["p_S"] == p_S]
                sizes = [_train_size(st, c, n_pc) for st in group]
                for local in chunks(sizes, 6.0 * (d * p_S + p_S * c), cfg.max_members):
                    m_max = max(sizes[j] for j in local)
                    test_max = n - min(c * int(group[j]["rho"] * n_pc) for j in local)
                    fits.append(Fit(partial(MLPEnsemble, (d, p_S, c), range(len(local)), device=META),
                                    (len(local), m_max, d), steps, records=steps // every + 2,
                                    eval_rows=test_max + n_val))
            out.append(Batch(stage, 1, tuple(fits)))
    return out


def _run_cells(batch: list[dict], device: torch.device, max_members: int) -> list[dict[str, pd.DataFrame]]:
    return [_run_cell(conf, device, max_members) for conf in batch]


def run(cfg: ReluConfig, *, cache_dir=None, progress: bool = True, device=None,
        workers: int | None = None) -> dict[str, pd.DataFrame]:
    """Run every experiment of the config.

    Cells run in ``workers`` processes (``None``: every core on CPU, one on a GPU; see
    :func:`softleak.sweeps.run_sweep`); each cell is trained on one torch thread when ``workers > 1``.

    Returns:
        ``{"runs": one row per (experiment, cell, student) with final metrics,
        "curves": one row per (cell, student, recorded step)}``; both carry the cell's fields
        (c, alpha, n_pc, seed, p_T, teacher_steps, …) as columns.
    """
    return _sweep_cells(cfg, experiment_cells(cfg), run_config(cfg), namespace=NAMESPACE, desc="cells (teacher + students)",
                        cache_dir=cache_dir, progress=progress, device=device, workers=workers)


def _sweep_cells(cfg: ReluConfig, cells: list[dict], shared: dict, *, namespace: str, desc: str, cache_dir,
                 progress: bool, device, workers: int | None) -> dict[str, pd.DataFrame]:
    """Train ``cells`` (each with ``shared`` run fields) as one cached sweep; the tables of :func:`run`."""
    device = resolve_device(device)
    configs = [{**cell, **shared} for cell in cells]
    workers = default_workers(device) if workers is None else workers
    out = run_sweep(partial(_run_cells, device=device, max_members=cfg.max_members), configs, cache_dir=cache_dir,
                    namespace=namespace, progress=progress, desc=desc, workers=workers,
                    cost=lambda batch: sum(cell_flop(conf) for conf in batch))
    for name in ("runs", "curves"):
        out[name] = out[name].drop(columns=["students"], errors="ignore")
    return out


def ladder_cells(cfg: ReluConfig) -> list[dict]:
    """The cells of the fig7c.jump ladder: the jump panel's α at ρ = curve.rho, a standard student per seed,
    trained for ``max(jump_ladder) × student_steps`` (tag "ladder")."""
    if not cfg.jump_ladder:
        return []
    alpha = alpha_roles(cfg)["jump"]
    n_pc = samples_per_class(alpha, cfg.d)
    student = {"rho": round(float(cfg.curve.rho), 6), "p_S": cfg.p, "variant": "standard", "k": 0, "tags": ["ladder"]}
    return [{"d": cfg.d, "c": cfg.c, "n_pc": n_pc, "alpha": n_pc / cfg.d, "seed": s, "p_T": cfg.p,
             "teacher_steps": cfg.teacher_steps, "students": [student]} for s in cfg.seeds]


def run_ladder(cfg: ReluConfig, *, cache_dir=None, progress: bool = True, device=None,
               workers: int | None = None) -> dict[str, pd.DataFrame]:
    """Train the fig7c.jump ladder (:func:`ladder_cells`); the same tables as :func:`run`, empty without a ladder."""
    cells = ladder_cells(cfg)
    if not cells:
        return {"runs": pd.DataFrame(), "curves": pd.DataFrame()}
    shared = {**run_config(cfg), "student_steps": max(cfg.jump_ladder) * cfg.student_steps}
    return _sweep_cells(cfg, cells, shared, namespace=f"{NAMESPACE}-ladder", desc="fig7c.jump ladder (×epochs)",
                        cache_dir=cache_dir, progress=progress, device=device, workers=workers)


def run_chapter(cfg: ReluConfig, *, cache_dir=None, progress: bool = True, device=None,
                workers: int | None = None) -> dict[str, pd.DataFrame]:
    """Everything the chapter's figures read: :func:`run`'s tables and the fig7c.jump ladder's curves
    (``"ladder_curves"``, from :func:`run_ladder`); the chapter's run, round after round
    (:meth:`softleak.chapters.Chapter.decide`)."""
    kw = {"cache_dir": cache_dir, "progress": progress, "device": device, "workers": workers}
    out = dict(run(cfg, **kw))
    out["ladder_curves"] = run_ladder(cfg, **kw)["curves"]
    return out
