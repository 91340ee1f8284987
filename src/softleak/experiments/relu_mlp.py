"""Chapter 5: one-hidden-layer ReLU MLPs, two leakage mechanisms and the sudden jump (paper §5.2,
Fig. 6, 7, 16–22, App. D.3–D.4; spec §5).

Teacher and student are ``Linear(d, p) → ReLU → Linear(p, c)`` with biases. The teacher memorizes
D*^T (Gaussian inputs, balanced random labels) on hard labels; every student trains by full-batch
Adam on soft labels softmax(z/τ) of its stratified part D_train^S and is evaluated on D_test^S, on
D_val (fresh inputs with random labels) and against the teacher's argmax.

Experiments (each row of the results carries its ``experiment`` tag):

- ``grid``: α × ρ (Fig. 7A, B), standard students;
- ``fig6``: ρ sweeps at a small and a large α (Fig. 6);
- ``curves``: ρ = ``curve_rho`` at a few α, standard and within-class shuffled students, whose
  recorded training curves give Fig. 7C, 16 and 17 and the measured jump epoch;
- ``tailcut``: the soft-label treatments of Fig. 18 (k smallest / k random entries zeroed, class
  samples removed, class entry removed);
- ``width``: student widths at fixed n over ρ (Fig. 21); ``capacity``: p^T = p^S varied (Fig. 19);
  ``student_width``: p^S varied at fixed p^T (Fig. 20); ``classes``: c varied (Fig. 22).

A *cell* is one data set and teacher: (c, n, seed, p^T, teacher steps). Experiments that ask for the
same cell share its teacher and, where they ask for the same student, that student. Within a cell
students of one width train as padded ensembles with per-member inputs, grouped by training size so
that padding costs less than the per-step overhead it saves (:func:`_chunks`).

Seeds: the cell seed is ``derive_seed(seed, "data", n)``; from it derive the data, D_val, the
teacher init (index p^T), the split of each ρ (index round(1000ρ)), the student init (same index:
every treatment of one ρ starts from the same weights), the shuffle and the random tail cut.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
from scipy import stats

from .. import theory
from ..claims import Claim
from ..config import check_fraction, check_positive, check_positive_int, check_seeds
from ..data import gaussian_random_labels, pad_stack, split_student
from ..distillation import cut_tail, remove_class_entry, shuffle_within_class, soft_labels
from ..metrics import accuracy, sem
from ..models import MLPEnsemble
from ..config import replace_checked
from ..runtime import derive_seed, resolve_device
from ..sweeps import run_sweep
from ..training import fit

NAMESPACE = "05_relu_mlp_jumps"
#: student variants; ``k`` is the number of entries zeroed for the tail cuts
VARIANTS = ("standard", "shuffled", "tail_smallest", "tail_random", "remove_samples", "remove_entry")
FULL = 0.99  # "reaches 100 %" on seed means (spec §5.4)
CURVE_METRICS = ("acc_train_S", "acc_test_S", "acc_val_S", "acc_test_S_class0", "acc_match_T_test",
                 "loss_train_S", "loss_test_S", "kl_train_S", "kl_test_S")
_HISTORY_NAMES = {"acc_train": "acc_train_S", "acc_test": "acc_test_S", "acc_val": "acc_val_S",
                  "acc_test0": "acc_test_S_class0", "acc_testT": "acc_match_T_test", "loss_train": "loss_train_S",
                  "loss_test": "loss_test_S"}


@dataclass(frozen=True)
class ReluConfig:
    """Everything chapter 5 runs. α = n/(dc) throughout; n_pc = α·d samples per class."""

    d: int  # input dimension (paper: 1000)
    c: int  # classes (paper: 100)
    p: int  # hidden width of the teacher, and of the student unless an ablation varies it (paper: 500)
    seeds: tuple[int, ...]  # repetitions of the grid and the curves (paper: 5)
    alphas: tuple[float, ...]  # grid α (paper: n_pc ∈ {50, 125, …, 2500} / 1000)
    rhos: tuple[float, ...]  # grid ρ (paper: 0.05 … 0.95)
    tau: float = 20.0
    teacher_lr: float = 1e-3
    teacher_steps: int = 2000  # Fig. 7, 16, 17, 19–22
    student_lr: float = 1e-4
    student_steps: int = 10_000
    record_every: int = 10
    val_per_class: int = 20
    # Fig. 6
    fig6_alphas: tuple[float, ...] = (0.25, 1.0)
    fig6_seeds: tuple[int, ...] = ()  # () = ``seeds``
    fig6_teacher_steps: int = 1000
    # Fig. 7C / 16 / 17
    curve_rho: float = 0.65
    # four α in the paper's four regimes, in order: memorizes, approximates, jumps, teacher fails
    # (paper: n = 25k, 50k, 100k, 200k at d·c = 10⁵)
    curve_alphas: tuple[float, ...] = (0.25, 0.5, 1.0, 2.0)
    shuffled_seeds: int = 2  # the first this many seeds also train a within-class-shuffled student
    # Fig. 18
    tail_rho: float = 0.7
    tail_alphas: tuple[float, ...] = ()
    tail_ks: tuple[int, ...] = (1, 10, 50)
    tail_random_ks: tuple[int, ...] = (1,)
    tail_seeds: int = 5  # the first this many seeds
    removed_class: int = 0
    tail_teacher_steps: int = 1000
    # Fig. 21
    width_alpha: float = 0.25
    width_ps: tuple[int, ...] = ()
    width_seeds: int = 5
    # Fig. 19 (p^T = p^S) and Fig. 20 (p^S varied at p^T = p)
    capacity_rho: float = 0.45
    capacity_alphas: tuple[float, ...] = ()
    capacity_ps: tuple[int, ...] = ()
    student_ps: tuple[int, ...] = ()
    capacity_seeds: int = 5
    # Fig. 22: c varied at fixed n/d
    class_counts: tuple[int, ...] = ()
    class_n_over_d: tuple[float, ...] = ()
    class_seeds: int = 5
    # analysis and speed
    orange_threshold: float = 0.1  # the authors' code: orange if acc_test_S > 0.1 where the teacher fails
    jump_level: float = 0.9  # a run "has jumped" once acc_test_S reaches this
    max_members: int = 64  # largest student ensemble (memory: inputs are per member)

    def __post_init__(self) -> None:
        for name in ("d", "c", "p", "teacher_steps", "student_steps", "record_every", "val_per_class",
                     "fig6_teacher_steps", "tail_teacher_steps", "max_members"):
            check_positive_int(name, getattr(self, name))
        if self.c < 2:
            raise ValueError(f"c={self.c} is not allowed: c must be >= 2")
        check_seeds("seeds", self.seeds)
        if self.fig6_seeds:
            check_seeds("fig6_seeds", self.fig6_seeds)
        for name in ("tau", "teacher_lr", "student_lr", "orange_threshold"):
            check_positive(name, getattr(self, name))
        for name in ("curve_rho", "tail_rho", "capacity_rho", "jump_level"):
            check_fraction(name, getattr(self, name))
        for name in ("shuffled_seeds", "tail_seeds", "width_seeds", "capacity_seeds", "class_seeds"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name}={getattr(self, name)} is not allowed: give a count >= 0")
        for name in ("alphas", "rhos"):
            if not getattr(self, name):
                raise ValueError(f"{name}=() is not allowed: give at least one value")
        for name in ("alphas", "fig6_alphas", "curve_alphas", "tail_alphas", "capacity_alphas", "class_n_over_d"):
            for v in getattr(self, name):
                check_positive(f"{name}[…]", v)
        for name in ("rhos",):
            for r in getattr(self, name):
                check_fraction(f"{name}[…]", r)
        for name in ("tail_ks", "tail_random_ks"):
            for k in getattr(self, name):
                check_positive_int(f"{name}[…]", k)
                if k >= self.c:
                    raise ValueError(f"{name}[…]={k} is not allowed: k must be < c={self.c} (the argmax is kept)")
        for name in ("width_ps", "capacity_ps", "student_ps"):
            for v in getattr(self, name):
                check_positive_int(f"{name}[…]", v)
        for c in self.class_counts:
            check_positive_int("class_counts[…]", c)
        if not 0 <= self.removed_class < self.c:
            raise ValueError(f"removed_class={self.removed_class} is not allowed: a class index in [0, {self.c})")
        for cell in _cells(self):  # every student needs a sample of each class on both sides of its split
            n_pc = cell["n_pc"]
            for s in cell["students"]:
                m = int(s["rho"] * n_pc)
                if m < 1 or m >= n_pc:
                    raise ValueError(
                        f"alpha={cell['alpha']:g} with rho={s['rho']:g} is not allowed at d={self.d}, c={cell['c']}: "
                        f"{n_pc} samples per class leave D_train^S or D_test^S without a sample of a class")


def _n_pc(alpha: float, d: int) -> int:
    return int(round(alpha * d))


def _cells(cfg: ReluConfig) -> list[dict]:
    """Every cell (one data set and teacher) with the deduplicated students the experiments ask of it."""
    cells: dict[tuple, dict] = {}

    def add(tag, *, alpha=None, n_pc=None, c=None, seed, p_T=None, teacher_steps=None, students):
        c = c or cfg.c
        n_pc = n_pc if n_pc is not None else _n_pc(alpha, cfg.d)
        p_T = p_T or cfg.p
        teacher_steps = teacher_steps or cfg.teacher_steps
        key = (c, n_pc, seed, p_T, teacher_steps)
        cell = cells.setdefault(key, {
            "d": cfg.d, "c": c, "n_pc": n_pc, "alpha": n_pc / cfg.d, "seed": seed, "p_T": p_T,
            "teacher_steps": teacher_steps, "students": {}})
        for rho, p_S, variant, k in students:
            spec = (round(float(rho), 6), int(p_S or p_T), variant, int(k))
            cell["students"].setdefault(spec, set()).add(tag)

    first = lambda count: cfg.seeds[:count]  # noqa: E731
    for a in cfg.alphas:
        for s in cfg.seeds:
            add("grid", alpha=a, seed=s, students=[(r, None, "standard", 0) for r in cfg.rhos])
    for a in cfg.fig6_alphas:
        for s in cfg.fig6_seeds or cfg.seeds:
            add("fig6", alpha=a, seed=s, teacher_steps=cfg.fig6_teacher_steps,
                students=[(r, None, "standard", 0) for r in cfg.rhos])
    for a in cfg.curve_alphas:
        for i, s in enumerate(cfg.seeds):
            extra = [(cfg.curve_rho, None, "shuffled", 0)] if i < cfg.shuffled_seeds else []
            add("curves", alpha=a, seed=s, students=[(cfg.curve_rho, None, "standard", 0), *extra])
    treatments = [("standard", 0)] + [("tail_smallest", k) for k in cfg.tail_ks] + \
        [("tail_random", k) for k in cfg.tail_random_ks] + [("remove_samples", 0), ("remove_entry", 0)]
    for a in cfg.tail_alphas:
        for s in first(cfg.tail_seeds):
            add("tailcut", alpha=a, seed=s, teacher_steps=cfg.tail_teacher_steps,
                students=[(cfg.tail_rho, None, v, k) for v, k in treatments])
    for s in first(cfg.width_seeds) if cfg.width_ps else ():
        add("width", alpha=cfg.width_alpha, seed=s, students=[(r, p_S, "standard", 0) for r in cfg.rhos for p_S in cfg.width_ps])
    for a in cfg.capacity_alphas:
        for s in first(cfg.capacity_seeds):
            for p in cfg.capacity_ps:
                add("capacity", alpha=a, seed=s, p_T=p, students=[(cfg.capacity_rho, p, "standard", 0)])
            if cfg.student_ps:
                add("student_width", alpha=a, seed=s, students=[(cfg.capacity_rho, p_S, "standard", 0) for p_S in cfg.student_ps])
    for c in cfg.class_counts:
        for x in cfg.class_n_over_d:
            for s in first(cfg.class_seeds):
                add("classes", n_pc=max(2, int(round(x * cfg.d / c))), c=c, seed=s,
                    students=[(cfg.capacity_rho, None, "standard", 0)])

    out = []
    for cell in cells.values():
        students = [{"rho": rho, "p_S": p_S, "variant": v, "k": k, "tags": sorted(tags)}
                    for (rho, p_S, v, k), tags in sorted(cell.pop("students").items())]
        out.append({**cell, "students": students})
    return out


def _run_config(cfg: ReluConfig) -> dict:
    """The fields every cell's run needs besides the cell itself (part of the cache key)."""
    return {"tau": cfg.tau, "teacher_lr": cfg.teacher_lr, "student_lr": cfg.student_lr,
            "student_steps": cfg.student_steps, "record_every": cfg.record_every,
            "val_per_class": cfg.val_per_class, "removed_class": cfg.removed_class}


def _student_targets(spec: dict, cell_seed: int, X, y, q, c0: int):
    """Training inputs, labels, soft targets (c, m) and the split's test indices of one student."""
    rk = int(round(1000 * spec["rho"]))
    split_seed = derive_seed(cell_seed, "split", rk)
    tr, te = split_student(y, spec["rho"], split_seed, stratify=True)
    Xtr, ytr, qtr = X[tr], y[tr], q[:, tr]
    v, k = spec["variant"], spec["k"]
    if v not in VARIANTS:
        raise ValueError(f"variant={v!r} is not a student variant; allowed: {', '.join(VARIANTS)}")
    if v == "shuffled":
        qtr = shuffle_within_class(qtr, ytr, derive_seed(cell_seed, "shuffle", rk))
    elif v == "tail_smallest":
        qtr = cut_tail(qtr, k, mode="smallest")
    elif v == "tail_random":
        qtr = cut_tail(qtr, k, mode="random", seed=derive_seed(cell_seed, "treatment", 100 * rk + k))
    elif v == "remove_samples":
        keep = ytr != c0
        Xtr, ytr, qtr = Xtr[keep], ytr[keep], qtr[:, keep]
    elif v == "remove_entry":
        qtr = remove_class_entry(qtr, ytr, c0)
    return Xtr, ytr, qtr, te, split_seed, derive_seed(cell_seed, "student_init", rk)


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


def _chunks(sizes: list[int], flop_per_sample: float, max_members: int) -> list[list[int]]:
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
    prepared = [_student_targets(s, cell_seed, X, y, q, c0) for s in students]
    runs, curves = [], []
    for p_S in sorted({s["p_S"] for s in students}):
        idx = [i for i, s in enumerate(students) if s["p_S"] == p_S]
        sizes = {i: len(prepared[i][1]) for i in idx}
        flop = 6.0 * (d * p_S + p_S * c)  # forward + backward per sample
        for local in _chunks([sizes[i] for i in idx], flop, max_members):
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


def run(cfg: ReluConfig, *, cache_dir=None, progress: bool = True, device=None) -> dict[str, pd.DataFrame]:
    """Run every experiment of the config.

    Returns:
        ``{"runs": one row per (experiment, cell, student) with final metrics,
        "curves": one row per (cell, student, recorded step)}``; both carry the cell's fields
        (c, alpha, n_pc, seed, p_T, teacher_steps, …) as columns.
    """
    device = resolve_device(device)
    shared = _run_config(cfg)
    configs = [{**cell, **shared} for cell in _cells(cfg)]
    out = run_sweep(lambda batch: [_run_cell(conf, device, cfg.max_members) for conf in batch],
                    configs, cache_dir=cache_dir, namespace=NAMESPACE, progress=progress, desc="cells (teacher + students)")
    for name in ("runs", "curves"):
        out[name] = out[name].drop(columns=["students"], errors="ignore")
    return out


def apply_overrides(cfg: ReluConfig, **overrides) -> ReluConfig:
    for key, value in list(overrides.items()):
        if isinstance(value, list):
            overrides[key] = tuple(value)
    return replace_checked(cfg, **overrides)


def _lin(lo, hi, num):
    return tuple(round(float(v), 6) for v in np.linspace(lo, hi, num))


PRESETS = {
    "smoke": ReluConfig(
        d=20, c=5, p=10, seeds=(0, 1), alphas=(0.5, 2.0), rhos=(0.3, 0.8), teacher_steps=300, student_lr=3e-3,
        student_steps=300, record_every=50, val_per_class=4, fig6_alphas=(0.5, 2.0), fig6_teacher_steps=300,
        curve_rho=0.8, curve_alphas=(0.5, 2.0), shuffled_seeds=1, tail_rho=0.8, tail_alphas=(2.0,), tail_ks=(1, 2),
        tail_seeds=1, tail_teacher_steps=300, width_alpha=0.5, width_ps=(5, 10), width_seeds=1,
        capacity_alphas=(0.5, 2.0), capacity_ps=(5, 10), capacity_seeds=1,
    ),
    # (d, c, p) = (100, 20, 50): probes.md A, the jump needs c/d ≥ 0.2 at small sizes; student lr 3e-3
    "cpu": ReluConfig(
        d=100, c=20, p=50, seeds=(0, 1, 2), alphas=(0.25, 0.5, 0.75, 1.0, 1.5, 2.0),
        rhos=(0.1, 0.3, 0.5, 0.65, 0.8, 0.95), teacher_steps=2000, student_lr=3e-3, student_steps=6000,
        record_every=50, fig6_teacher_steps=2000, shuffled_seeds=2,
        # the four regimes sit at other α at this size (teacher capacity ≈ 1.75, recovery at ρ = 0.65 from
        # α = 1.5 in the preset's own phase diagram); the page shows every grid α at ρ = 0.65 as well
        curve_alphas=(0.25, 0.75, 1.5, 2.0), tail_alphas=(0.5, 1.0, 1.5), tail_ks=(1, 2, 10),
        tail_seeds=2, tail_teacher_steps=2000, width_ps=(10, 25, 50, 100, 200), width_seeds=2,
        capacity_alphas=(0.25, 0.5, 0.75, 1.0, 1.5, 2.0), capacity_ps=(25, 35, 50, 65), capacity_seeds=1,
    ),
    "paper": ReluConfig(
        d=1000, c=100, p=500, seeds=(0, 1, 2, 3, 4), alphas=tuple(n / 1000 for n in [50, *range(125, 2501, 125)]),
        rhos=_lin(0.05, 0.95, 10), fig6_seeds=tuple(range(10)), tail_alphas=_lin(0.25, 2.0, 8),
        tail_ks=(1, 2, 10, 50), width_ps=(100, 200, 250, 300, 400, 500, 600, 750, 1000, 2000),
        capacity_alphas=tuple(n / 1000 for n in [50, *range(125, 2501, 125)]), capacity_ps=(100, 250, 350, 500, 650),
        student_ps=(200, 400, 500, 600), class_counts=(20, 50, 90, 100, 110),
        class_n_over_d=tuple(float(v) for v in [5, *range(25, 251, 25)]), max_members=8,
    ),
}


# ---------------------------------------------------------------------------------------------------
# Analysis

#: phase-diagram regions of Fig. 7A (spec §5.4), in legend order
REGION_NAMES = ("green", "blue", "lightblue", "orange", "red")
METRIC_COLUMNS = ("acc_star_T", "acc_train_S", "acc_test_S", "acc_val_S", "acc_test_S_class0", "acc_match_T_test",
                  "kl_train_S", "kl_test_S")
GROUP = ["c", "alpha", "rho", "p_T", "p_S", "variant", "k"]


def seed_means(runs: pd.DataFrame, experiment: str) -> pd.DataFrame:
    """Mean and SEM over seeds (columns ``<metric>`` and ``<metric>_sem``) per cell and student kind."""
    sub = runs[runs["experiment"] == experiment]
    if sub.empty:
        return pd.DataFrame(columns=[*GROUP, *METRIC_COLUMNS, "num_seeds"])
    g = sub.groupby(GROUP)
    means = g[list(METRIC_COLUMNS)].mean()
    sems = g[list(METRIC_COLUMNS)].agg(sem).add_suffix("_sem")
    return pd.concat([means, sems, g.size().rename("num_seeds")], axis=1).reset_index()


def region(acc_star_T: float, acc_train_S: float, acc_test_S: float, acc_match_T_test: float,
           orange_threshold: float = 0.1, strict: bool = False) -> str:
    """The Fig. 7A region of one cell from its seed means (spec §5.4).

    Teacher memorizes (acc_star_T ≥ 0.99): green (train and test ≥ 0.99), blue (train ≥ 0.99, test
    below), light blue (train < 0.99). Teacher fails: orange when the student finds the teacher,
    red when not. "Finds" is the authors' code rule acc_test_S > ``orange_threshold``; with
    ``strict`` it is agreement with the teacher's argmax on D_test^S ≥ 0.99.
    """
    if acc_star_T >= FULL:
        if acc_train_S >= FULL:
            return "green" if acc_test_S >= FULL else "blue"
        return "lightblue"
    found = acc_match_T_test >= FULL if strict else acc_test_S > orange_threshold
    return "orange" if found else "red"


def phase_regions(means: pd.DataFrame, orange_threshold: float) -> pd.DataFrame:
    """Both region rules for every (α, ρ) cell of the grid."""
    out = means[["alpha", "rho", "acc_star_T", "acc_train_S", "acc_test_S", "acc_match_T_test"]].copy()
    cols = ["acc_star_T", "acc_train_S", "acc_test_S", "acc_match_T_test"]
    out["region"] = [region(*r, orange_threshold=orange_threshold) for r in out[cols].itertuples(index=False)]
    out["region_strict"] = [region(*r, orange_threshold=orange_threshold, strict=True)
                            for r in out[cols].itertuples(index=False)]
    return out


def thresholds_by_rho(means: pd.DataFrame, d: int, p: int, c: int) -> pd.DataFrame:
    """Per ρ: α_label^T (teacher stops memorizing), α_label^S (the student's first run of fits of
    D_train^S ends), α_id^S (first α with full held-out recovery) and the counting bound."""
    teacher = means.groupby("alpha")["acc_star_T"].mean()
    a_T = theory.drop_threshold(teacher.index, teacher.to_numpy())
    rows = []
    for rho, g in means.groupby("rho"):
        rows.append({"rho": rho, "alpha_label_T": a_T,
                     "alpha_label_S": theory.last_of_first_run(g["alpha"], g["acc_train_S"], FULL),
                     "alpha_id_S": theory.onset_threshold(g["alpha"], g["acc_test_S"], FULL),
                     "alpha_count": theory.alpha_count_mlp(rho, d, p, c)})
    return pd.DataFrame(rows)


def jump_stats(curve: pd.DataFrame, level: float) -> dict:
    """The jump of one training run: when acc_test_S first reaches ``level``, and what came before.

    - ``epoch``: the first recorded step with acc_test_S ≥ level (NaN if it never does);
    - ``plateau``: median acc_test_S over the steps in [epoch/4, 3·epoch/4], the level it sat at;
    - ``start``: the last step before ``epoch`` with acc_test_S ≤ plateau + 0.1, where the rise began;
    - ``rise``: epoch − start; ``plateau_length``: start − the first step with acc_test_S ≥ plateau − 0.03;
      a jump is *sudden* when the run sat on its plateau for longer than the rise took;
    - ``kl_*_drop`` / ``kl_*_drop_before``: fall of log KL over [start, epoch] and over the equally
      long window before ``start`` (Fig. 17: the loss falls sharply at the jump).
    """
    c = curve.sort_values("step")
    steps, test = c["step"].to_numpy(), c["acc_test_S"].to_numpy()
    hit = np.nonzero(test >= level)[0]
    out = {"epoch": np.nan, "plateau": np.nan, "start": np.nan, "rise": np.nan, "plateau_length": np.nan, "sudden": False,
           "acc_train_S_at_start": np.nan, "final_train": float(c["acc_train_S"].iloc[-1]),
           "final_test": float(test[-1])}
    if hit.size == 0 or hit[0] == 0:
        return out
    t = steps[hit[0]]
    window = (steps >= t / 4) & (steps <= 3 * t / 4)
    plateau = float(np.median(test[window])) if window.any() else float(test[0])
    below = np.nonzero((steps < t) & (test <= plateau + 0.1))[0]
    i0 = below[-1] if below.size else 0
    start = steps[i0]
    reach = steps[np.nonzero(test >= plateau - 0.03)[0][0]]
    out.update(epoch=float(t), plateau=plateau, start=float(start), rise=float(t - start),
               plateau_length=float(start - reach), sudden=bool(t - start <= start - reach),
               acc_train_S_at_start=float(c["acc_train_S"].iloc[i0]))
    for kl in ("kl_train_S", "kl_test_S"):
        lk = np.log(np.maximum(c[kl].to_numpy(), 1e-12))
        span = max(t - start, 2 * (steps[1] - steps[0]) if len(steps) > 1 else 1)
        at = lambda s: float(np.interp(s, steps, lk))  # noqa: E731
        out[f"{kl}_drop"] = at(start) - at(start + span)
        out[f"{kl}_drop_before"] = at(max(start - span, 0)) - at(start)
    return out


def curve_runs(out: dict[str, pd.DataFrame], cfg: ReluConfig) -> pd.DataFrame:
    """Jump statistics of every run at ρ = ``curve_rho``: the curves' students (standard and shuffled)
    and the grid's students at that ρ."""
    runs = out["runs"]
    runs = runs[runs["experiment"].isin(["curves", "grid"]) & np.isclose(runs["rho"], cfg.curve_rho)]
    runs = runs.drop_duplicates(["alpha", "seed", "student", "p_T", "teacher_steps"])
    curves = out["curves"]
    rows = []
    for r in runs.itertuples(index=False):
        cur = curves[(curves["alpha"] == r.alpha) & (curves["seed"] == r.seed) & (curves["student"] == r.student)
                     & (curves["p_T"] == r.p_T) & (curves["teacher_steps"] == r.teacher_steps)]
        rows.append({"alpha": r.alpha, "seed": r.seed, "variant": r.variant, "acc_star_T": r.acc_star_T,
                     "acc_val_S": r.acc_val_S, **jump_stats(cur, cfg.jump_level)})
    return pd.DataFrame(rows)


def curves_of(out: dict[str, pd.DataFrame], *experiments: str) -> pd.DataFrame:
    """The recorded training curves of the students of some experiments (each student once)."""
    keys = ["alpha", "seed", "student", "p_T", "teacher_steps"]
    ids = out["runs"].loc[out["runs"]["experiment"].isin(experiments), keys].drop_duplicates()
    return out["curves"].merge(ids, on=keys)


def _fmt(x: float, spec: str = ".3f") -> str:
    return "—" if x is None or not np.isfinite(x) else format(x, spec)


def _series(values) -> str:
    return ", ".join(_fmt(v, ".2f") for v in values)


def summarize(out: dict[str, pd.DataFrame], cfg: ReluConfig) -> tuple[list[Claim], dict[str, object], dict]:
    """Claims (spec §8, chapter 5), metrics and the derived tables the figures use."""
    runs = out["runs"]
    chance = 1.0 / cfg.c
    claims: list[Claim] = []
    metrics: dict[str, object] = {"d": cfg.d, "c": cfg.c, "p": cfg.p, "chance": chance, "tau": cfg.tau}

    # Fig. 6 ------------------------------------------------------------------------------------
    f6 = seed_means(runs, "fig6")
    f6 = f6[f6["variant"] == "standard"]
    a_small, a_large = min(cfg.fig6_alphas), max(cfg.fig6_alphas)
    small = f6[f6["alpha"] == a_small].sort_values("rho")
    large = f6[f6["alpha"] == a_large].sort_values("rho")
    rhos = small["rho"].to_numpy()
    metrics.update({"fig6.rho": rhos.tolist(), "fig6.small.alpha": a_small, "fig6.large.alpha": a_large,
                    "fig6.small.acc_test_S": small["acc_test_S"].tolist(),
                    "fig6.small.acc_train_S": small["acc_train_S"].tolist(),
                    "fig6.small.acc_val_S": small["acc_val_S"].tolist(),
                    "fig6.large.acc_test_S": large["acc_test_S"].tolist(),
                    "fig6.large.acc_train_S": large["acc_train_S"].tolist(),
                    "fig6.large.acc_star_T": large["acc_star_T"].tolist()})
    rs = float(stats.spearmanr(small["rho"], small["acc_test_S"]).statistic) if len(small) > 2 else np.nan
    val_dev = float((small["acc_val_S"] - chance).abs().max())
    claims.append(Claim(
        "fig6.small", f"Fig. 6A (α = {a_small:g}): the student memorizes D_train^S at every ρ, acc_test_S is "
        "non-trivial and grows with ρ, acc_val_S stays at chance (rule: min acc_train_S ≥ 0.99; Spearman rank "
        "correlation of acc_test_S with ρ ≥ 0.7; acc_test_S > acc_val_S at every ρ ≥ 0.3; acc_val_S within 0.03 of 1/c)",
        "acc_train_S = 1 for all ρ; acc_test_S ≫ chance, increasing in ρ; acc_val_S ≈ chance",
        f"acc_train_S ≥ {small['acc_train_S'].min():.3f}; acc_test_S over ρ = {_series(rhos)}: "
        f"{_series(small['acc_test_S'])} (Spearman {_fmt(rs, '.2f')}); acc_val_S {_series(small['acc_val_S'])} "
        f"(chance {chance:.2f})",
        bool(small["acc_train_S"].min() >= FULL and rs >= 0.7 and val_dev <= 0.03
             and (small.loc[small["rho"] >= 0.3, "acc_test_S"] > small.loc[small["rho"] >= 0.3, "acc_val_S"]).all()),
    ))
    merged = small.merge(large, on="rho", suffixes=("_small", "_large"))
    pre = merged[(merged["acc_test_S_large"] < 0.5) & (merged["acc_star_T_large"] >= FULL)]
    below = pre[pre["rho"] >= 0.3]
    frac_below = float((below["acc_test_S_large"] < below["acc_test_S_small"]).mean()) if len(below) else np.nan
    slope = float(np.polyfit(pre["rho"], pre["acc_test_S_large"], 1)[0]) if len(pre) > 1 else np.nan
    metrics.update({"fig6.large.pre_jump_slope": slope, "fig6.large.below_small_fraction": frac_below})
    claims.append(Claim(
        "fig6.large_below", f"Fig. 6B (α = {a_large:g}): before the jump, acc_test_S lies below the α = {a_small:g} "
        "curve (rule: at most of the ρ ≥ 0.3 where the teacher memorizes and acc_test_S < 0.5, the large-α value is "
        "the lower)",
        "below the n = 25k curve at the same ρ",
        f"pre-jump ρ = {_series(pre['rho'])}: α = {a_large:g}: {_series(pre['acc_test_S_large'])} vs "
        f"α = {a_small:g}: {_series(pre['acc_test_S_small'])}",
        bool(frac_below > 0.5) if np.isfinite(frac_below) else None,
    ))
    claims.append(Claim(
        "fig6.large_decreases", f"Fig. 6B: before the jump, acc_test_S slowly decreases with ρ (rule: a straight-line "
        "fit of acc_test_S on the pre-jump ρ has a negative slope)",
        "first a regime where acc_test_S slowly decreases while acc_star_T = 1",
        f"slope {_fmt(slope, '+.3f')} per unit ρ over ρ = {_series(pre['rho'])}",
        bool(slope < 0) if np.isfinite(slope) else None,
    ))
    drop = large[(large["acc_train_S"] < FULL) & (large["acc_star_T"] >= FULL)]
    jumped = large[(large["acc_train_S"] >= FULL) & (large["acc_test_S"] >= FULL)]
    rho_drop = float(drop["rho"].min()) if len(drop) else np.nan
    rho_jump = float(jumped.loc[jumped["rho"] > rho_drop, "rho"].min()) if len(drop) and len(jumped) else np.nan
    metrics.update({"fig6.large.rho_train_drop": rho_drop, "fig6.large.rho_jump": rho_jump})
    claims.append(Claim(
        "fig6.large_jump", f"Fig. 6B: as ρ grows acc_train_S first drops below 1, then train and test jump to 100 % "
        "(rule: some ρ has acc_train_S < 0.99 with the teacher at ≥ 0.99, and a larger ρ has both seed means ≥ 0.99)",
        "acc_train_S drops, then acc_train_S and acc_test_S jump to 100 %",
        f"acc_train_S over ρ: {_series(large['acc_train_S'])}; acc_test_S: {_series(large['acc_test_S'])}; "
        f"drop from ρ = {_fmt(rho_drop, 'g')}, both ≥ 0.99 from ρ = {_fmt(rho_jump, 'g')}",
        bool(np.isfinite(rho_jump)),
    ))

    # Fig. 7A, B ---------------------------------------------------------------------------------
    grid_means = seed_means(runs, "grid")
    grid_means = grid_means[grid_means["variant"] == "standard"]
    regions = phase_regions(grid_means, cfg.orange_threshold)
    th = thresholds_by_rho(grid_means, cfg.d, cfg.p, cfg.c)
    present = [r for r in REGION_NAMES if (regions["region"] == r).any()]
    ordered = th.dropna(subset=["alpha_label_S", "alpha_id_S"])
    order_ok = bool(len(ordered) and (ordered["alpha_label_S"] < ordered["alpha_id_S"]).all())
    ratio = (th["alpha_id_S"] / th["alpha_count"]).replace([np.inf, -np.inf], np.nan).dropna()
    metrics.update({"fig7.id_over_count.min": float(ratio.min()) if len(ratio) else np.nan,
                    "fig7.id_over_count.max": float(ratio.max()) if len(ratio) else np.nan})
    metrics.update({"fig7.regions_present": present, "fig7.alpha_label_T": float(th["alpha_label_T"].iloc[0]),
                    "fig7.rho": th["rho"].tolist(), "fig7.alpha_label_S": th["alpha_label_S"].tolist(),
                    "fig7.alpha_id_S": th["alpha_id_S"].tolist(), "fig7.alpha_count": th["alpha_count"].tolist(),
                    "fig7.regions_strict_present": [r for r in REGION_NAMES if (regions["region_strict"] == r).any()]})
    claims.append(Claim(
        "fig7.regions", "Fig. 7A: all five regions appear, including light blue (weak leakage without memorizing "
        "D_train^S), and memorization fails before identification succeeds, α_label^S < α_id^S (rule: every region "
        "occurs on the grid under the code's rule; at every ρ where both thresholds exist, α_label^S < α_id^S)",
        "five regions incl. light blue; α_label^S < α_id^S, unlike multinomial regression",
        f"regions present: {', '.join(present)} (strict match-T rule: {', '.join(metrics['fig7.regions_strict_present'])}); "
        + "; ".join(f"ρ = {r.rho:g}: α_label^S {_fmt(r.alpha_label_S, 'g')} < α_id^S {_fmt(r.alpha_id_S, 'g')}"
                    for r in ordered.itertuples()),
        bool(len(present) == len(REGION_NAMES) and order_ok),
    ))
    dips = []
    for rho, g in grid_means.groupby("rho"):
        g = g.sort_values("alpha")
        test, alphas = g["acc_test_S"].to_numpy(), g["alpha"].to_numpy()
        full = np.nonzero(test >= FULL)[0]
        if full.size and full[0] >= 2:  # the largest fall between two α before full recovery
            falls = [(test[i] - test[j], i, j) for i in range(full[0]) for j in range(i + 1, full[0])]
            fall, i, j = max(falls)
            if fall >= 0.02:
                dips.append((rho, alphas[i], test[i], alphas[j], test[j], alphas[full[0]]))
    metrics["fig7.dips"] = [list(map(float, x)) for x in dips]
    claims.append(Claim(
        "fig7.nonmonotone", "Fig. 7B.2: at fixed ρ, acc_test_S first decreases with α, then rises to 100 % "
        "(rule: some ρ has a larger α with acc_test_S lower by ≥ 0.02 than at a smaller α, before the first α with "
        "acc_test_S ≥ 0.99)",
        "acc_test_S as a function of α first decreases, then increases",
        "; ".join(f"ρ = {r:g}: {v1:.3f} at α = {a1:g} → {v2:.3f} at α = {a2:g} → ≥ 0.99 at α = {a3:g}"
                  for r, a1, v1, a2, v2, a3 in dips) or "no dip before full recovery at any ρ",
        bool(dips),
    ))

    # Fig. 7C, 16, 17 -----------------------------------------------------------------------------
    jr = curve_runs(out, cfg)
    std_j, shuf_j = jr[jr["variant"] == "standard"], jr[jr["variant"] == "shuffled"]
    per_alpha = std_j.groupby("alpha").agg(final_train=("final_train", "mean"), final_test=("final_test", "mean"),
                                          acc_star_T=("acc_star_T", "mean"), acc_val_S=("acc_val_S", "mean"),
                                          jumped=("epoch", lambda v: int(np.isfinite(v).sum())), runs=("epoch", "size"))
    curve_alphas = sorted(cfg.curve_alphas)
    memo_a, approx_a, jump_a, fail_a = (curve_alphas + [np.nan] * 4)[:4]
    pa = per_alpha.to_dict("index")
    mem = pa.get(memo_a, {})
    claims.append(Claim(
        "fig7c.memorize", f"Fig. 7C.1 (ρ = {cfg.curve_rho:g}, α = {memo_a:g}): the student memorizes D_train^S and "
        "leaks weakly (rule: mean final acc_train_S ≥ 0.99 and acc_test_S > acc_val_S + 0.02)",
        "memorizes D_train^S; acc_test_S > acc_val_S",
        f"acc_train_S {_fmt(mem.get('final_train', np.nan))}, acc_test_S {_fmt(mem.get('final_test', np.nan))}, "
        f"acc_val_S {_fmt(mem.get('acc_val_S', np.nan))}",
        bool(mem and mem["final_train"] >= FULL and mem["final_test"] > mem["acc_val_S"] + 0.02),
    ))
    app = pa.get(approx_a, {})
    claims.append(Claim(
        "fig7c.approximate", f"Fig. 7C.2 (α = {approx_a:g}): the student only approximates D_train^S and still leaks "
        "weakly (rule: mean final acc_train_S < 0.99, acc_test_S > acc_val_S + 0.02 and < 0.5)",
        "only approximates D_train^S; acc_test_S > acc_val_S",
        f"acc_train_S {_fmt(app.get('final_train', np.nan))}, acc_test_S {_fmt(app.get('final_test', np.nan))}, "
        f"acc_val_S {_fmt(app.get('acc_val_S', np.nan))}",
        bool(app and app["final_train"] < FULL and app["acc_val_S"] + 0.02 < app["final_test"] < 0.5),
    ))
    jj = std_j[(std_j["alpha"] == jump_a)]
    jumped_runs = jj[np.isfinite(jj["epoch"])]
    before = float(jumped_runs["plateau"].mean()) if len(jumped_runs) else np.nan
    after_test = float(jj["final_test"].mean()) if len(jj) else np.nan
    after_train = float(jj["final_train"].mean()) if len(jj) else np.nan
    sudden = bool(len(jumped_runs) and jumped_runs["sudden"].all())
    metrics.update({"jump.alpha": float(jump_a), "jump.rho": cfg.curve_rho,
                    "jump.epoch": float(jumped_runs["epoch"].median()) if len(jumped_runs) else np.nan,
                    "jump.epochs": jj["epoch"].tolist(), "jump.rise": jj["rise"].tolist(),
                    "jump.acc_test_S.before": before, "jump.acc_test_S.after": after_test,
                    "jump.acc_train_S.after": after_train, "jump.runs_jumped": int(len(jumped_runs)),
                    "jump.runs": int(len(jj))})
    claims.append(Claim(
        "fig7c.jump", f"Fig. 7C.3 (α = {jump_a:g}): after a plateau at a non-trivial level, acc_train_S and acc_test_S "
        f"jump together to 100 % (rule: every run reaches acc_test_S ≥ {cfg.jump_level:g}, each after sitting on its "
        "plateau for longer than the rise takes, the plateau level is < 0.5, and mean final train and test accuracies "
        "are ≥ 0.99)",
        "a sudden joint jump to 100 % at t ∼ 100 (a log index: roughly 1 000–4 000 epochs at student lr 1e-4)",
        f"{len(jumped_runs)} of {len(jj)} runs jump, at epochs {', '.join(_fmt(e, 'g') for e in jj['epoch'])} "
        f"(rises of {', '.join(_fmt(e, 'g') for e in jj['rise'])} epochs after plateaus of "
        f"{', '.join(_fmt(e, 'g') for e in jj['plateau_length'])}; student lr {cfg.student_lr:g}); "
        f"acc_test_S {_fmt(before)} on the plateau → {_fmt(after_test)} (train {_fmt(after_train)})",
        bool(len(jj) and len(jumped_runs) == len(jj) and sudden and before < 0.5 and after_test >= FULL
             and after_train >= FULL),
    ))
    fa = pa.get(fail_a, {})
    claims.append(Claim(
        "fig7c.teacher_fails", f"Fig. 7C.4 (α = {fail_a:g}): the teacher no longer memorizes, and the student's train "
        "and test accuracies coincide (rule: acc_star_T < 0.99 and |acc_train_S − acc_test_S| ≤ 0.05)",
        "acc_star_T < 100 %; acc_train_S ≈ acc_test_S",
        f"acc_star_T {_fmt(fa.get('acc_star_T', np.nan))}; acc_train_S {_fmt(fa.get('final_train', np.nan))}, "
        f"acc_test_S {_fmt(fa.get('final_test', np.nan))}",
        bool(fa and fa["acc_star_T"] < FULL and abs(fa["final_train"] - fa["final_test"]) <= 0.05),
    ))
    ratios = {kl: (jumped_runs[f"{kl}_drop"] / jumped_runs[f"{kl}_drop_before"].clip(lower=1e-9)).median()
              if len(jumped_runs) else np.nan for kl in ("kl_train_S", "kl_test_S")}
    drops = {kl: float(jumped_runs[f"{kl}_drop"].median()) if len(jumped_runs) else np.nan for kl in ratios}
    metrics.update({"jump.kl_train_S.drop_ratio": float(ratios["kl_train_S"]), "jump.kl_test_S.drop_ratio": float(ratios["kl_test_S"])})
    claims.append(Claim(
        "fig17.loss_drop", "Fig. 17: the jump coincides with a sharp drop of the soft-label loss on D_train^S and "
        "D_test^S (rule: over the rise, log KL to the teacher's soft labels falls at least 3× as much as over an "
        "equally long window just before, median over the runs that jump, on both sets)",
        "a marked drop of the soft-label CE at the jump",
        f"log-KL fall over the rise vs the window before: train {_fmt(drops['kl_train_S'], '.2f')} "
        f"({_fmt(ratios['kl_train_S'], '.1f')}×), test {_fmt(drops['kl_test_S'], '.2f')} ({_fmt(ratios['kl_test_S'], '.1f')}×)",
        bool(len(jumped_runs) and ratios["kl_train_S"] >= 3 and ratios["kl_test_S"] >= 3),
    ))
    if len(shuf_j):
        sh = shuf_j.groupby("alpha")["final_train"].mean()
        st = per_alpha["final_train"]
        gaps = {a: float(st.get(a, np.nan) - sh.get(a, np.nan)) for a in curve_alphas}
        # just before the jump: the standard student's train accuracy at the start of its rise, against the
        # shuffled student of the same seed at the end of training
        pair = jumped_runs.merge(shuf_j[shuf_j["alpha"] == jump_a][["seed", "final_train"]], on="seed",
                                 suffixes=("", "_shuffled"))
        pre_gap = float((pair["acc_train_S_at_start"] - pair["final_train_shuffled"]).abs().mean()) if len(pair) else np.nan
        metrics.update({"fig16.gap_final": [gaps[a] for a in curve_alphas], "fig16.alphas": curve_alphas,
                        "fig16.gap_before_jump": pre_gap})
        gap = lambda a: gaps.get(a, np.nan)  # noqa: E731
        match_small = all(abs(gap(a)) <= 0.05 for a in (memo_a, approx_a) if np.isfinite(gap(a)))
        separate = bool(abs(gap(fail_a)) >= 0.1)
        claims.append(Claim(
            "fig16.shuffled", "Fig. 16: standard and within-class-shuffled students reach the same training accuracy at "
            "the two smaller α; just before its jump the standard student's acc_train_S sits near the shuffled "
            "student's; past the teacher's capacity they separate (rule: |gap| ≤ 0.05 at the two smaller α, ≤ 0.1 at "
            "the start of the rise, ≥ 0.1 at the largest α)",
            "match at 25k/50k; at 100k the standard student tracks the shuffled one, then jumps; at 200k they separate",
            "acc_train_S standard − shuffled at α = " + ", ".join(f"{a:g}: {gaps[a]:+.3f}" for a in curve_alphas)
            + f"; before the jump: {_fmt(pre_gap)}",
            bool(match_small and separate and np.isfinite(pre_gap) and pre_gap <= 0.1),
        ))

    # Fig. 18 ----------------------------------------------------------------------------------------
    tail = seed_means(runs, "tailcut")
    if len(tail):
        std_t = tail[tail["variant"] == "standard"].set_index("alpha")
        rec = std_t[std_t["acc_test_S"] >= cfg.jump_level]
        a_rec = float(rec.index.min()) if len(rec) else float(std_t["acc_test_S"].idxmax())
        at = tail[tail["alpha"] == a_rec]
        pick = lambda v, k=0: at[(at["variant"] == v) & (at["k"] == k)]  # noqa: E731
        val = lambda v, k=0, m="acc_test_S": float(pick(v, k)[m].iloc[0]) if len(pick(v, k)) else np.nan  # noqa: E731
        ks = sorted(cfg.tail_ks)
        metrics.update({"tailcut.alpha": a_rec, "tailcut.rho": cfg.tail_rho, "tailcut.none.acc_test_S": val("standard"),
                        "tailcut.k1.acc_test_S": val("tail_smallest", 1), "tailcut.k1_random.acc_test_S": val("tail_random", 1),
                        **{f"tailcut.k{k}.acc_test_S": val("tail_smallest", k) for k in ks},
                        "tailcut.recovered": bool(len(rec))})
        k_vals = [val("tail_smallest", k) for k in ks]
        claims.append(Claim(
            "fig18a.tail", f"Fig. 18A (ρ = {cfg.tail_rho:g}): zeroing the single smallest soft-label entry already "
            "destroys the recovery of the normal student, and zeroing more degrades further (rule: at the smallest α "
            f"where the normal student reaches ≥ {cfg.jump_level:g}, k = 1 gives < 0.9 and acc_test_S does not "
            "increase with k)",
            "removing even one smallest entry hurts badly; more removal hurts faster",
            f"α = {a_rec:g}: normal {_fmt(val('standard'))}; k smallest zeroed: "
            + ", ".join(f"k = {k}: {_fmt(v)}" for k, v in zip(ks, k_vals))
            + "; k random non-argmax entries: " + ", ".join(f"k = {k}: {_fmt(val('tail_random', k))}" for k in cfg.tail_random_ks),
            bool(len(rec) and k_vals[0] < 0.9 and all(np.diff(k_vals) <= 0.02)),
        ))
        k_rand = min(cfg.tail_random_ks) if cfg.tail_random_ks else None
        entries = "entry" if k_rand == 1 else "entries"
        rand = val("tail_random", k_rand) if k_rand else np.nan
        claims.append(Claim(
            "fig18a.code_variant", f"Fig. 18A, the released code's tail cut: zeroing {k_rand} arbitrary non-argmax "
            f"{entries} per soft label (what the authors' code does, spec §5.8) destroys the recovery (rule: at the same "
            "α, acc_test_S < 0.9); the book compares it with the paper's description, the smallest entries",
            "the paper describes zeroing the k smallest entries; its code zeroes k arbitrary ones",
            f"α = {a_rec:g}: normal {_fmt(val('standard'))}; {k_rand} random {entries} zeroed {_fmt(rand)}; "
            f"{k_rand} smallest zeroed {_fmt(val('tail_smallest', k_rand))}",
            bool(len(rec) and rand < 0.9) if k_rand else None,
        ))
        removed = {v: (val(v), val(v, 0, "acc_test_S_class0")) for v in ("standard", "remove_samples", "remove_entry")}
        metrics.update({f"removal.{v}.acc_test_S": a for v, (a, _) in removed.items()})
        metrics.update({f"removal.{v}.acc_test_S_class0": b for v, (_, b) in removed.items()})
        claims.append(Claim(
            "fig18b.removal", f"Fig. 18B: zeroing class {cfg.removed_class}'s entry in the other samples' soft labels "
            "kills held-out accuracy on that class with little change in the average, while removing the class's "
            "samples keeps it high (rule: remove-entry class accuracy ≤ 1/c + 0.05 and average within 0.1 of normal; "
            "remove-samples class accuracy ≥ 0.5)",
            "class c₀ accuracy to ≈ chance (below chance in the workshop version) with the entry removed; high with "
            "its samples removed",
            "; ".join(f"{v.replace('_', ' ')}: average {_fmt(a)}, class {cfg.removed_class} {_fmt(b)}"
                      for v, (a, b) in removed.items()) + f" (α = {a_rec:g}, chance {chance:.2f})",
            bool(removed["remove_entry"][1] <= chance + 0.05 and abs(removed["remove_entry"][0] - removed["standard"][0]) <= 0.1
                 and removed["remove_samples"][1] >= 0.5),
        ))

    # Fig. 19, 21 (and 20, 22 at the paper preset) --------------------------------------------------------
    cap = seed_means(runs, "capacity")
    if len(cap):
        rows = []
        for p, g in cap.groupby("p_T"):
            rows.append({"p": p, "alpha_label_T": theory.drop_threshold(g["alpha"], g["acc_star_T"]),
                         "alpha_label_S": theory.drop_threshold(g["alpha"], g["acc_train_S"])})
        cap_th = pd.DataFrame(rows)
        def cv(v):  # spread over the widths whose threshold lies inside the α grid
            v = np.asarray(v, dtype=float)
            v = v[np.isfinite(v)]
            return float(np.std(v) / np.mean(v)) if v.size > 1 else np.nan

        quality = {m: (cv(cap_th[m]), cv(cap_th[m] / cap_th["p"])) for m in ("alpha_label_T", "alpha_label_S")}
        metrics.update({"fig19.p": cap_th["p"].tolist(), "fig19.alpha_label_T": cap_th["alpha_label_T"].tolist(),
                        "fig19.alpha_label_S": cap_th["alpha_label_S"].tolist(),
                        **{f"fig19.{m}.cv_alpha": q[0] for m, q in quality.items()},
                        **{f"fig19.{m}.cv_alpha_over_p": q[1] for m, q in quality.items()}})
        claims.append(Claim(
            "fig19.collapse", f"Fig. 19 (ρ = {cfg.capacity_rho:g}, p^T = p^S): plotted against α/p the curves for "
            "different widths fall together: capacity scales with the parameter count (rule: the drops of acc_star_T "
            "and acc_train_S vary less over p, as a coefficient of variation, on α/p than on α, over the widths whose "
            "drop lies inside the α grid)",
            "curves collapse against α/p^S",
            "; ".join(f"p = {r.p}: α_label^T {_fmt(r.alpha_label_T, 'g')}, α_label^S {_fmt(r.alpha_label_S, 'g')}"
                      for r in cap_th.itertuples())
            + "; CV on α → α/p: " + ", ".join(f"{m.replace('alpha_label_', '')} {_fmt(a, '.2f')} → {_fmt(b, '.2f')}"
                                               for m, (a, b) in quality.items()),
            bool(all(np.isfinite(b) and b < a for a, b in quality.values())),
        ))
    wid = seed_means(runs, "width")
    if len(wid):
        weak = wid.groupby("rho").filter(lambda g: g["acc_test_S"].max() < FULL and g["acc_star_T"].min() >= FULL)
        best = weak.loc[weak.groupby("rho")["acc_test_S"].idxmax(), ["rho", "p_S", "acc_test_S"]]
        share = float((best["p_S"] < cfg.p).mean()) if len(best) else np.nan
        metrics.update({"fig21.rho": best["rho"].tolist(), "fig21.best_p_S": best["p_S"].tolist(),
                        "fig21.share_below_teacher": share})
        claims.append(Claim(
            "fig21.width", f"Fig. 21 (α = {cfg.width_alpha:g}, p^T = {cfg.p}): in the weak-leakage phase a student "
            "narrower than the teacher leaks most, at every ρ (rule: at every ρ where no width reaches 0.99, the best "
            "p^S is below p^T)",
            "lowering the student's capacity below the teacher's is best at every ρ",
            "best p^S by ρ: " + ", ".join(f"ρ = {r.rho:g}: p^S = {r.p_S} ({r.acc_test_S:.3f})" for r in best.itertuples()),
            bool(len(best) and share == 1.0),
        ))
    for tag, fig, text in (("student_width", "fig20.width", "Fig. 20: a wider student raises acc_train_S in the "
                            "soft-label-memorization phase"),
                           ("classes", "fig22.classes", "Fig. 22: against n/d the behaviour is similar across c")):
        if not (runs["experiment"] == tag).any():
            claims.append(Claim(fig, text + " (run at the paper preset only)", "see the paper", "not run at this preset", None))

    derived = {"fig6": f6, "grid": grid_means, "regions": regions, "thresholds": th, "jumps": jr, "tail": tail,
               "capacity": cap, "width": wid, "student_width": seed_means(runs, "student_width"),
               "classes": seed_means(runs, "classes")}
    return claims, metrics, derived


def config_table(cfg: ReluConfig) -> pd.DataFrame:
    """The resolved config as a one-column table for the executed page."""
    def vals(v):
        return ", ".join(f"{x:g}" for x in v) if v else "—"

    rows = {
        "(d, c, p)": f"({cfg.d}, {cfg.c}, {cfg.p})", "seeds": ", ".join(map(str, cfg.seeds)), "τ": cfg.tau,
        "grid α = n/(dc)": vals(cfg.alphas), "grid ρ": vals(cfg.rhos),
        "teacher": f"Adam {cfg.teacher_lr:g} × {cfg.teacher_steps} (Fig. 6: × {cfg.fig6_teacher_steps}; "
                   f"Fig. 18: × {cfg.tail_teacher_steps})",
        "student": f"Adam {cfg.student_lr:g} × {cfg.student_steps}, recorded every {cfg.record_every}",
        "Fig. 6 α": vals(cfg.fig6_alphas), "Fig. 7C/16/17": f"ρ = {cfg.curve_rho:g}, α = {vals(cfg.curve_alphas)}, "
        f"shuffled students for {cfg.shuffled_seeds} seeds",
        "Fig. 18": f"ρ = {cfg.tail_rho:g}, α = {vals(cfg.tail_alphas)}, k = {vals(cfg.tail_ks)} (random: "
                   f"{vals(cfg.tail_random_ks)}), {cfg.tail_seeds} seeds",
        "Fig. 19": f"ρ = {cfg.capacity_rho:g}, p = {vals(cfg.capacity_ps)}, {cfg.capacity_seeds} seeds",
        "Fig. 21": f"α = {cfg.width_alpha:g}, p^S = {vals(cfg.width_ps)}, {cfg.width_seeds} seeds",
        "Fig. 20 / 22": f"p^S = {vals(cfg.student_ps)} / c = {vals(cfg.class_counts)}",
    }
    return pd.DataFrame({"value": {k: str(v) for k, v in rows.items()}})
