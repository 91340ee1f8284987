"""Chapter 3: binary logistic regression and its three thresholds (paper §5.1, Fig. 4, Fig. 12;
spec §3).

For every (d, α, seed) a balanced random-label Gaussian dataset of n = α·d samples (standardised
per feature) is memorized by a single-logit linear teacher without bias (logistic loss, full-batch
Adam). For every ρ, the pseudo-inverse student ŵ = X⁺z is fitted to the teacher's logits on the
stratified D_train^S, once as is and once with the logits shuffled within each class (spec §3.6).

Seeds: a (seed, n) pair names one dataset cell; ``cell = derive_seed(seed, "data", n)``, and its
data, teacher init, and per-ρ split and shuffle seeds are derived from ``cell`` by role (the
k-th ρ uses index k). All are columns of the results table.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch

from .. import theory
from ..claims import Claim
from ..config import check_fraction, check_positive, check_positive_int, check_seeds
from ..data import gaussian_random_labels, split_student, standardize
from ..distillation import shuffle_within_class
from ..metrics import accuracy, sem
from ..models import BinaryLogitEnsemble
from ..presets import replace_checked
from ..runtime import derive_seed, resolve_device
from ..sweeps import run_sweep
from ..training import fit, min_norm_lstsq

NAMESPACE = "03_logistic_thresholds"
METRICS = ("acc_star_T", "acc_train_S", "acc_test_S", "acc_match_T_train", "acc_match_T_test", "mse_train", "mse_test")


@dataclass(frozen=True)
class LogisticConfig:
    """Everything chapter 3 runs."""

    d: int  # input dimension of the main sweep (paper: 1600)
    alphas: tuple[float, ...]  # α = n/d grid; n is rounded down to an even number (balanced classes)
    rhos: tuple[float, ...]  # student training fractions; must contain rho_focus
    seeds: tuple[int, ...]  # repetitions: a new dataset and teacher per (seed, α)
    d_compare: int | None = None  # a second, smaller d at rho_focus only: the finite-size comparison
    rho_focus: float = 0.8  # the ρ of Fig. 4A (paper: the grid point 0.803)
    teacher_lr: float = 1e-3  # Adam (code)
    teacher_steps: int = 10_000  # full-batch steps (paper and code)
    alphas_per_batch: int = 4  # α values whose teachers train as one padded ensemble (speed only)

    def __post_init__(self) -> None:
        check_positive_int("d", self.d)
        if self.d_compare is not None:
            check_positive_int("d_compare", self.d_compare)
        if not self.alphas or not self.rhos:
            raise ValueError("alphas and rhos must each hold at least one value")
        for a in self.alphas:
            check_positive("alphas[…]", a)
            if int(a * min(self.d, self.d_compare or self.d) / 2) < 1:
                raise ValueError(f"alphas[…]={a} is not allowed: n = α·d must give at least one sample per class")
        for r in self.rhos:
            check_fraction("rhos[…]", r)
        check_fraction("rho_focus", self.rho_focus)
        if not any(np.isclose(self.rho_focus, r) for r in self.rhos):
            raise ValueError(f"rho_focus={self.rho_focus} is not allowed: it must be one of rhos={self.rhos}")
        check_seeds("seeds", self.seeds)
        check_positive("teacher_lr", self.teacher_lr)
        check_positive_int("teacher_steps", self.teacher_steps)
        check_positive_int("alphas_per_batch", self.alphas_per_batch)


def _grid(lo: float, hi: float, num: int) -> tuple[float, ...]:
    return tuple(round(float(v), 6) for v in np.linspace(lo, hi, num))


PRESETS = {
    "smoke": LogisticConfig(d=40, alphas=_grid(0.5, 3.0, 6), rhos=(0.3, 0.8), seeds=(0, 1), d_compare=20,
                            teacher_steps=300, teacher_lr=1e-2),
    "cpu": LogisticConfig(d=200, alphas=_grid(0.4, 3.5, 32), rhos=_grid(0.05, 0.95, 13), seeds=(0, 1, 2),
                          d_compare=100),
    "paper": LogisticConfig(d=1600, alphas=_grid(0.4, 7.0, 50), rhos=_grid(0.05, 0.95, 50)[:38] + (0.8,)
                            + _grid(0.05, 0.95, 50)[38:], seeds=(0, 1, 2, 3, 4), d_compare=200),
}


def apply_overrides(cfg: LogisticConfig, **overrides) -> LogisticConfig:
    for key in ("alphas", "rhos", "seeds"):
        if key in overrides:
            overrides[key] = tuple(overrides[key])
    return replace_checked(cfg, **overrides)


def num_samples(alpha: float, d: int) -> int:
    """n = α·d rounded down to an even number: two balanced classes."""
    return 2 * int(alpha * d / 2)


def _run_batch(configs: list[dict], device: torch.device) -> list[pd.DataFrame]:
    """Several (α, seed) cells of one d: all teachers in one padded ensemble, then the students."""
    d = configs[0]["d"]
    sizes = [num_samples(cfg["alpha"], d) for cfg in configs]
    cells = [derive_seed(cfg["seed"], "data", n) for cfg, n in zip(configs, sizes)]
    n_max = max(sizes)
    X = torch.zeros(len(configs), n_max, d)  # padded; each member's own n rows are real
    y = torch.zeros(len(configs), n_max, dtype=torch.long)
    mask = torch.zeros(len(configs), n_max, dtype=torch.bool)
    for e, (cell, n) in enumerate(zip(cells, sizes)):
        x_e, y_e = gaussian_random_labels(n, d, 2, derive_seed(cell, "data"))
        X[e, :n], y[e, :n], mask[e, :n] = standardize(x_e), y_e, True
    X, y, mask = X.to(device), y.to(device), mask.to(device)
    teacher = BinaryLogitEnsemble(d, [derive_seed(cell, "teacher_init") for cell in cells], device=device)
    fit(teacher, X, y, sample_mask=mask, steps=configs[0]["teacher_steps"], lr=configs[0]["teacher_lr"],
        member_names=[f"teacher(d={d}, n={n}, seed={cfg['seed']})" for cfg, n in zip(configs, sizes)])
    with torch.no_grad():
        z = teacher.logit(X)  # (E, n_max)
        acc_star = accuracy(teacher(X), y, mask).cpu().numpy()

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
    for k, rho in enumerate(rhos):
        split_seeds = [derive_seed(cell, "split", k) for cell in cells]
        splits = [split_student(y[e].cpu(), rho, split_seeds[e], stratify=True) for e in range(len(cells))]
        tr = torch.stack([s[0] for s in splits]).to(X.device)  # (E, m)
        te = torch.stack([s[1] for s in splits]).to(X.device)
        X_tr, X_te = _take(X, tr), _take(X, te)  # (E, m, d), (E, n - m, d)
        y_tr, y_te = torch.gather(y, 1, tr), torch.gather(y, 1, te)
        z_tr, z_te = torch.gather(z, 1, tr), torch.gather(z, 1, te)
        shuffle_seeds = [derive_seed(cell, "shuffle", k) for cell in cells]
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


def run(cfg: LogisticConfig, *, cache_dir=None, progress: bool = True, device=None) -> pd.DataFrame:
    """Run the sweep: all of (α, ρ, seed) at ``cfg.d``, and ρ = rho_focus at ``cfg.d_compare``.

    Returns:
        One row per (d, α, ρ, seed, shuffled) with the metrics of spec §3.5.
    """
    device = resolve_device(device)
    shared = {"teacher_lr": cfg.teacher_lr, "teacher_steps": cfg.teacher_steps}
    configs = [{"d": cfg.d, "alpha": a, "seed": s, "rhos": list(cfg.rhos), **shared}
               for a in cfg.alphas for s in cfg.seeds]
    if cfg.d_compare is not None:
        configs += [{"d": cfg.d_compare, "alpha": a, "seed": s, "rhos": [cfg.rho_focus], **shared}
                    for a in cfg.alphas for s in cfg.seeds]
    # neighbouring α values share one padded teacher ensemble: fewer, larger tensor programs
    bucket = {a: i // cfg.alphas_per_batch for i, a in enumerate(sorted(cfg.alphas))}
    return run_sweep(lambda batch: _run_batch(batch, device), configs, cache_dir=cache_dir, namespace=NAMESPACE,
                     batch_key=lambda c: (c["d"], bucket[c["alpha"]]), progress=progress, desc="(d, α, seed) cells")


def cell_means(runs: pd.DataFrame) -> pd.DataFrame:
    """Seed means and SEMs per (d, α, ρ, shuffled): columns ``<metric>`` and ``<metric>_sem``."""
    g = runs.groupby(["d", "alpha", "rho", "shuffled"])[list(METRICS)]
    means = g.mean()
    sems = g.agg(sem).add_suffix("_sem")
    return means.join(sems).reset_index()


def thresholds(means: pd.DataFrame, d: int) -> dict[str, object]:
    """The measured thresholds of spec §3.7 at dimension ``d`` (standard students)."""
    sub = means[(means["d"] == d) & ~means["shuffled"]]
    teacher = sub.groupby("alpha")["acc_star_T"].mean()
    out: dict[str, object] = {"alpha_label_T": theory.drop_threshold(teacher.index, teacher.to_numpy())}
    id_by_rho, id_mse_by_rho, label_by_rho = {}, {}, {}
    for rho, r in sub.groupby("rho"):
        id_by_rho[rho] = theory.onset_threshold(r["alpha"], r["acc_test_S"])
        id_mse_by_rho[rho] = theory.onset_threshold(r["alpha"], -r["mse_test"], level=-theory.MSE_RECOVERED)
        label_by_rho[rho] = theory.drop_threshold(r["alpha"], r["acc_train_S"])
    out.update(alpha_id_S=id_by_rho, alpha_id_S_mse=id_mse_by_rho, alpha_label_S=label_by_rho)
    return out


def regions(means: pd.DataFrame, d: int) -> pd.DataFrame:
    """The phase-diagram region of every (α, ρ) cell at ``d`` (spec §3.8), with the match-T rule beside it."""
    sub = means[(means["d"] == d) & ~means["shuffled"]].copy()
    sub["region"] = [theory.phase_region(a, b, c) for a, b, c in zip(sub["acc_train_S"], sub["acc_test_S"], sub["mse_test"])]
    sub["region_match_rule"] = [
        region if region not in ("orange", "red") else ("orange" if match >= theory.FULL else "red")
        for region, match in zip(sub["region"], sub["acc_match_T_test"])
    ]
    return sub[["alpha", "rho", "region", "region_match_rule", "acc_train_S", "acc_test_S", "mse_test"]]
