"""Chapter 2: modular addition, memorizing vs generalizing teachers and grokking (paper §4, Fig. 3,
10, 11, App. C; spec §2).

Every ordered pair (a, b) of Z_P is a sample with label (a + b) mod P. A teacher trains on a random
fraction ``frac`` of the pairs (D*^T) by full-batch AdamW with weight decay 1; the rest is D_val.
Three checkpoints of one teacher run give teachers ① ② ③, each taken at the first record that
meets its stop rule (a fixed epoch, or a training / validation accuracy). A student of the same
architecture trains on the soft labels softmax(z/τ) of checkpoint k on a global random part
D_train^S = ⌊ρ·|D*^T|⌋ pairs of D*^T, and is scored on D_test^S (the rest of D*^T, memorized by the
teacher, never seen by the student), on D_val, and against the teacher's argmax on D_val.

Two architectures (``arch``):

- ``transformer``: :class:`softleak.models.TransformerEnsemble` on tokens (a, b, "=") (Fig. 3, 10);
- ``mlp``: one-hot(a) ⊕ one-hot(b) → width → width → P, ReLU, default init (Fig. 11).

Seeds: repetition ``seed`` draws its own pair split (``derive_seed(seed, "data")``), teacher init
(``teacher_init``), student split of each ρ (``split``, index round(1000ρ)) and student init
(``student_init``, same index). Every teacher k and τ of one (seed, ρ) therefore starts its student
from the same weights on the same pairs; only the soft labels differ.

Ensembles: the teachers of all seeds of an architecture train together; the students of one
(arch, ρ, τ) over all seeds and the three teachers train together (no padding: they share a size).
Both stages are cached per seed, so an interrupted run resumes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch

from ..claims import Claim
from ..config import check_choice, check_fraction, check_positive, check_positive_int, check_seeds
from ..data import modular_addition, one_hot_pairs
from ..distillation import soft_labels
from ..metrics import sem
from ..models import MLPEnsemble, TransformerEnsemble
from ..config import replace_checked
from ..runtime import derive_seed, resolve_device
from ..sweeps import run_sweep
from ..training import fit

NAMESPACE = "02_modular_addition"
ARCHS = ("transformer", "mlp")
TEACHERS = (1, 2, 3)
_STOP = re.compile(r"^\s*(epoch|train|val)\s*>=\s*([0-9.eE+-]+)\s*$")
FULL = 0.99  # "100 %" on seed means
GENERALIZED = 0.95  # a model "generalizes" once acc_val reaches this
LOW = 0.5  # a teacher with acc_val_T below this "does not generalize"


def parse_stop(rule: str) -> tuple[str, float]:
    """``"epoch>=2500"``, ``"train>=1"`` or ``"val>=0.95"`` -> (kind, threshold)."""
    m = _STOP.match(str(rule))
    if not m:
        raise ValueError(f"stop rule {rule!r} is not allowed: write 'epoch>=N', 'train>=x' or 'val>=x'")
    kind, value = m.group(1), float(m.group(2))
    if kind == "epoch" and (value < 0 or value != int(value)):
        raise ValueError(f"stop rule {rule!r} is not allowed: the epoch must be an integer >= 0")
    if kind != "epoch" and not 0 < value <= 1:
        raise ValueError(f"stop rule {rule!r} is not allowed: an accuracy threshold must lie in (0, 1]")
    return kind, value


@dataclass(frozen=True)
class ArchConfig:
    """One architecture's data, model and teacher schedule."""

    arch: str  # "transformer" or "mlp"
    P: int  # modulus (paper: 113)
    frac: float  # |D*^T| / P² (paper: 0.3)
    teacher_epochs: int  # cap of the teacher run (paper: 10 000; MLP 20 000)
    stops: tuple[str, str, str]  # rules of checkpoints ① ② ③, e.g. ("epoch>=2500", "epoch>=5000", "epoch>=10000")
    d_model: int = 128  # transformer
    num_heads: int = 4
    d_mlp: int = 512
    width: int = 200  # MLP hidden width
    rhos: tuple[float, ...] | None = None  # None: ModularConfig.rhos
    student_epochs: tuple[int, ...] | None = None  # None: ModularConfig.student_epochs (one per τ)

    def __post_init__(self) -> None:
        check_choice("arch", self.arch, ARCHS)
        for name in ("P", "teacher_epochs", "d_model", "num_heads", "d_mlp", "width"):
            check_positive_int(name, getattr(self, name))
        check_fraction("frac", self.frac)
        if len(self.stops) != 3:
            raise ValueError(f"stops={self.stops!r} is not allowed: give three rules, for teachers ① ② ③")
        epochs = [parse_stop(r)[1] for r in self.stops if parse_stop(r)[0] == "epoch"]
        if any(e > self.teacher_epochs for e in epochs):
            raise ValueError(f"stops={self.stops!r} is not allowed with teacher_epochs={self.teacher_epochs}: "
                             "an epoch rule lies past the end of the run")
        if self.d_model % self.num_heads:
            raise ValueError(f"d_model={self.d_model} is not allowed with num_heads={self.num_heads}: "
                             "it must be a multiple")


@dataclass(frozen=True)
class ModularConfig:
    """Everything chapter 2 runs."""

    transformer: ArchConfig
    mlp: ArchConfig
    seeds: tuple[int, ...]  # repetitions (paper code: 3)
    rhos: tuple[float, ...]  # paper: 0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.7, 0.9
    taus: tuple[float, ...] = (10.0, 1.0, 0.1)
    student_epochs: tuple[int, ...] = (40_000, 40_000, 40_000)  # one per τ (paper: 40 000 for all)
    lr: float = 1e-3
    student_lr: float | None = None  # None: the teacher's lr (paper)
    weight_decay: float = 1.0
    betas: tuple[float, float] = (0.9, 0.98)
    warmup: int = 10  # linear lr warm-up: lr·min(step/warmup, 1), the first step at lr 0
    record_every: int = 100
    archs: tuple[str, ...] = ARCHS  # which architectures run
    fig10: tuple[tuple[float, float], ...] = ((0.3, 10.0), (0.9, 0.1))  # (ρ, τ) of the Fig. 10 curves, teacher ③
    small_rho: float = 0.1  # the "small ρ" at which the leak claims compare acc_test_S with acc_val_S

    def __post_init__(self) -> None:
        if self.transformer.arch != "transformer" or self.mlp.arch != "mlp":
            raise ValueError("transformer= and mlp= must be ArchConfigs of arch 'transformer' and 'mlp'")
        check_seeds("seeds", self.seeds)
        if not self.rhos:
            raise ValueError("rhos=() is not allowed: give at least one value")
        for r in self.rhos:
            check_fraction("rhos[…]", r)
        if not self.taus:
            raise ValueError("taus=() is not allowed: give at least one value")
        for t in self.taus:
            check_positive("taus[…]", t)
        if len(self.student_epochs) != len(self.taus):
            raise ValueError(f"student_epochs={self.student_epochs!r} is not allowed: give one count per τ "
                             f"(taus={self.taus!r})")
        for e in self.student_epochs:
            check_positive_int("student_epochs[…]", e)
        for a in (self.transformer, self.mlp):
            for r in self.rhos_of(a.arch):
                check_fraction(f"{a.arch}.rhos[…]", r)
            if len(self.epochs_of(a.arch)) != len(self.taus):
                raise ValueError(f"{a.arch}.student_epochs={a.student_epochs!r} is not allowed: give one count per τ "
                                 f"(taus={self.taus!r})")
            for e in self.epochs_of(a.arch):
                check_positive_int(f"{a.arch}.student_epochs[…]", e)
        if self.small_rho not in self.rhos:
            raise ValueError(f"small_rho={self.small_rho} is not allowed: it must be one of rhos={self.rhos}")
        for name in ("lr", "weight_decay"):
            check_positive(name, getattr(self, name))
        if self.student_lr is not None:
            check_positive("student_lr", self.student_lr)
        for name in ("record_every", "warmup"):
            check_positive_int(name, getattr(self, name))
        if not self.archs:
            raise ValueError("archs=() is not allowed: give 'transformer', 'mlp' or both")
        for a in self.archs:
            check_choice("archs[…]", a, ARCHS)
        for rho, tau in self.fig10:
            if rho not in self.rhos_of("transformer") or tau not in self.taus:
                raise ValueError(f"fig10 entry (rho={rho}, tau={tau}) is not allowed: it must be a grid point "
                                 f"(rhos={self.rhos}, taus={self.taus})")
        for a in self.archs:  # every student needs pairs on both sides of its split
            ac = self.arch(a)
            n = int(ac.frac * ac.P**2)
            for r in self.rhos_of(a):
                if int(r * n) < 1 or int(r * n) >= n:
                    raise ValueError(f"rho={r} is not allowed with P={ac.P}, frac={ac.frac}: |D*^T| = {n} pairs "
                                     "leave D_train^S or D_test^S empty")

    def arch(self, name: str) -> ArchConfig:
        return self.transformer if name == "transformer" else self.mlp

    def rhos_of(self, name: str) -> tuple[float, ...]:
        return self.arch(name).rhos or self.rhos

    def epochs_of(self, name: str) -> tuple[int, ...]:
        return self.arch(name).student_epochs or self.student_epochs


# ---------------------------------------------------------------------------------------------------
# Running


def _lr(cfg_or_dict) -> callable:
    lr, warmup = cfg_or_dict["lr"], cfg_or_dict["warmup"]
    return lambda step: lr * min(step / warmup, 1.0)


def _model(a: dict, seeds: list[int], device) -> torch.nn.Module:
    P = a["P"]
    if a["arch"] == "transformer":
        return TransformerEnsemble(P + 1, P, 3, d_model=a["d_model"], num_heads=a["num_heads"], d_mlp=a["d_mlp"],
                                   seeds=seeds, device=device)
    # float64 logits, as the transformer's: a float32 loss underflows to 0 once D*^T is fitted (probes.md B)
    return MLPEnsemble((2 * P, a["width"], a["width"], P), seeds, device=device, logits_dtype=torch.float64)


def _inputs(arch: str, tokens: torch.Tensor, P: int) -> torch.Tensor:
    """Model inputs for token rows (..., 3): the tokens themselves, or one-hot(a) ⊕ one-hot(b)."""
    if arch == "transformer":
        return tokens
    return one_hot_pairs(tokens.reshape(-1, 3), P).reshape(*tokens.shape[:-1], 2 * P)


def _arch_dict(cfg: ModularConfig, arch: str) -> dict:
    a = cfg.arch(arch)
    keys = ["arch", "P", "frac", "teacher_epochs"] + (
        ["d_model", "num_heads", "d_mlp"] if arch == "transformer" else ["width"])
    return {**{k: getattr(a, k) for k in keys}, "stops": list(a.stops), "lr": cfg.lr,
            "weight_decay": cfg.weight_decay, "betas": list(cfg.betas), "warmup": cfg.warmup,
            "teacher_record_every": _teacher_record_every(cfg)}


def _teacher_record_every(cfg: ModularConfig) -> int:
    return max(1, min(cfg.record_every, 50))


def _run_teachers(batch: list[dict], device) -> list[dict[str, pd.DataFrame]]:
    """One ensemble of teachers (one per seed): curves, the three checkpoints and their logits on every pair."""
    a = batch[0]
    P = a["P"]
    datas = [modular_addition(P, a["frac"], derive_seed(c["seed"], "data")) for c in batch]
    tokens, y = datas[0][0].to(device), datas[0][1].to(device)
    train = torch.stack([d[2] for d in datas]).to(device)  # (E, n*)
    val = torch.stack([d[3] for d in datas]).to(device)
    E = len(batch)
    X_all = _inputs(a["arch"], tokens, P)
    X = X_all[train]  # (E, n*, ...)
    model = _model(a, [derive_seed(c["seed"], "teacher_init") for c in batch], device)
    rules = [parse_stop(r) for r in a["stops"]]
    val_mask = torch.zeros(E, P * P, dtype=torch.bool, device=device)
    val_mask[torch.arange(E, device=device)[:, None], val] = True
    taken: list[list[tuple[int, torch.Tensor] | None]] = [[None] * 3 for _ in range(E)]

    def on_record(step: int, row: dict) -> bool:
        acc_train, acc_val = row["acc_train"].tolist(), row["acc_val"].tolist()
        logits = None
        for e in range(E):
            for k, (kind, thr) in enumerate(rules):
                if taken[e][k] is not None:
                    continue
                if k and taken[e][k - 1] is None:
                    break
                value = {"epoch": step, "train": acc_train[e], "val": acc_val[e]}[kind]
                if value >= thr:
                    if logits is None:
                        with torch.no_grad():
                            logits = model(X_all).float()  # (E, P, P²)
                    taken[e][k] = (step, logits[e].clone())
        return all(t is not None for row_ in taken for t in row_)

    hist = fit(model, X, y[train], steps=a["teacher_epochs"], lr=_lr(a), betas=tuple(a["betas"]),
               weight_decay=a["weight_decay"], record_every=a["teacher_record_every"],
               eval_sets={"val": (X_all, y, None, val_mask)}, on_record=on_record).history
    with torch.no_grad():
        last_logits = model(X_all).float()
    last_step = int(hist["step"].max())
    out = []
    for e, c in enumerate(batch):
        h = hist[hist["member"] == e]
        curve = pd.DataFrame({"epoch": h["step"].to_numpy(), "acc_star_T": h["acc_train"].to_numpy(),
                              "acc_val_T": h["acc_val"].to_numpy(), "loss_star_T": h["loss_train"].to_numpy()})
        ckpts, logit_rows = [], []
        for k in range(3):
            met = taken[e][k] is not None
            step, z = taken[e][k] if met else (last_step, last_logits[e])
            pred = z.argmax(0)
            tr, va = train[e], val[e]
            ckpts.append({"teacher": k + 1, "rule": a["stops"][k], "met": met, "epoch": step,
                          "acc_star_T": float((pred[tr] == y[tr]).float().mean()),
                          "acc_val_T": float((pred[va] == y[va]).float().mean())})
            frame = pd.DataFrame(z.T.cpu().numpy(), columns=[f"z{j}" for j in range(P)])
            frame.insert(0, "teacher", k + 1)
            logit_rows.append(frame)
        out.append({"teacher_curve": curve, "checkpoints": pd.DataFrame(ckpts),
                    "logits": pd.concat(logit_rows, ignore_index=True)})
    return out


def _run_students(batch: list[dict], teachers: dict, device) -> list[dict[str, pd.DataFrame]]:
    """Students of one (arch, ρ, τ): every seed in the batch × teachers ① ② ③, one ensemble."""
    a = batch[0]
    P, rho, tau = a["P"], a["rho"], a["tau"]
    index = int(round(1000 * rho))
    tokens, y, _, _ = modular_addition(P, a["frac"], 0)
    tokens, y = tokens.to(device), y.to(device)
    X_all = _inputs(a["arch"], tokens, P)
    members, X, targets, labels, test_masks, val_masks, teacher_pred, inits = [], [], [], [], [], [], [], []
    for c in batch:
        _, _, star, val = modular_addition(P, a["frac"], derive_seed(c["seed"], "data"))
        g = torch.Generator().manual_seed(derive_seed(c["seed"], "split", index))
        perm = star[torch.randperm(len(star), generator=g)]
        m = int(rho * len(star))
        train_s, test_s = perm[:m].to(device), perm[m:].to(device)
        z_all = teachers[c["seed"]]  # (3, P, P²) float32
        for k in TEACHERS:
            z = z_all[k - 1].to(device)
            members.append((c["seed"], k))
            X.append(X_all[train_s])
            targets.append(soft_labels(z[:, train_s].double(), tau))
            labels.append(y[train_s])
            tm = torch.zeros(P * P, dtype=torch.bool, device=device)
            tm[test_s] = True
            vm = torch.zeros(P * P, dtype=torch.bool, device=device)
            vm[val.to(device)] = True
            test_masks.append(tm)
            val_masks.append(vm)
            teacher_pred.append(z.argmax(0))
            inits.append(derive_seed(c["seed"], "student_init", index))
    model = _model(a, inits, device)
    test_mask, val_mask = torch.stack(test_masks), torch.stack(val_masks)
    fitted = fit(
        model, torch.stack(X), torch.stack(targets), labels=torch.stack(labels), steps=a["student_epochs"],
        lr=_lr({**a, "lr": a["student_lr"]}), betas=tuple(a["betas"]), weight_decay=a["weight_decay"],
        record_every=a["record_every"],
        eval_sets={"test": (X_all, y, None, test_mask), "val": (X_all, y, None, val_mask),
                   "matchT": (X_all, torch.stack(teacher_pred), None, val_mask)},
        member_names=[f"seed{s}-teacher{k}" for s, k in members],
        on_record=lambda step, row: bool((row["acc_val"] >= FULL).all() and (row["acc_test"] >= FULL).all()
                                         and (row["acc_train"] >= FULL).all()),
    )
    h = fitted.history.rename(columns={"step": "epoch", "acc_train": "acc_train_S", "acc_test": "acc_test_S",
                                       "acc_val": "acc_val_S", "acc_matchT": "acc_match_T_val",
                                       "loss_train": "loss_train_S"})
    h["teacher"] = [members[e][1] for e in h["member"]]
    h["seed"] = [members[e][0] for e in h["member"]]
    out = []
    for c in batch:
        hc = h[h["seed"] == c["seed"]].drop(columns=["member", "member_name", "seed"])
        rows = []
        for k in TEACHERS:
            hk = hc[hc["teacher"] == k]
            last = hk.iloc[-1]
            rows.append({"teacher": k, "epochs": int(last["epoch"]),
                         **{m: float(last[m]) for m in ("acc_train_S", "acc_test_S", "acc_val_S", "acc_match_T_val")},
                         "fit_epoch": _first(hk, "acc_train_S", FULL),
                         "gen_epoch": _first(hk, "acc_val_S", GENERALIZED)})
        out.append({"runs": pd.DataFrame(rows), "curves": hc.reset_index(drop=True)})
    return out


def _first(h: pd.DataFrame, col: str, level: float) -> float:
    """First recorded epoch at which ``col`` reaches ``level`` (NaN if never)."""
    hit = h.loc[h[col] >= level, "epoch"]
    return float(hit.iloc[0]) if len(hit) else float("nan")


def run(cfg: ModularConfig, *, cache_dir=None, progress: bool = True, device=None) -> dict[str, pd.DataFrame]:
    """Teachers, then students, for every architecture in ``cfg.archs``.

    Returns:
        ``{"checkpoints": one row per (arch, seed, teacher k): rule, epoch, acc_star_T, acc_val_T;
        "teacher_curve": per (arch, seed, recorded epoch); "runs": one row per (arch, seed, ρ, τ,
        teacher k) with final student metrics, fit_epoch and gen_epoch; "curves": per student and
        recorded epoch}``. Every row carries its arch, seed (and ρ, τ) as columns.
    """
    device = resolve_device(device)
    tables: dict[str, list[pd.DataFrame]] = {}
    for arch in cfg.archs:
        a = _arch_dict(cfg, arch)
        tconfs = [{**a, "seed": s} for s in cfg.seeds]
        t_out = run_sweep(lambda batch: _run_teachers(batch, device), tconfs, cache_dir=cache_dir,
                          namespace=f"{NAMESPACE}-teacher", batch_key=lambda c: c["arch"], progress=progress,
                          desc=f"{arch} teachers")
        logits = t_out.pop("logits")
        zcols = [f"z{j}" for j in range(a["P"])]
        teachers = {}
        for s in cfg.seeds:
            ls = logits[logits["seed"] == s].sort_values("teacher", kind="stable")
            teachers[s] = torch.tensor(ls[zcols].to_numpy(np.float32)).reshape(3, a["P"] ** 2, a["P"]).transpose(1, 2)
        student = {"record_every": cfg.record_every, "student_lr": cfg.student_lr or cfg.lr}
        sconfs = [{**a, **student, "seed": s, "rho": r, "tau": t, "student_epochs": e}
                  for t, e in zip(cfg.taus, cfg.epochs_of(arch)) for r in cfg.rhos_of(arch) for s in cfg.seeds]
        s_out = run_sweep(lambda batch: _run_students(batch, teachers, device), sconfs, cache_dir=cache_dir,
                          namespace=f"{NAMESPACE}-student", batch_key=lambda c: (c["rho"], c["tau"]),
                          progress=progress, desc=f"{arch} students (ρ × τ × seeds)")
        for name, df in {**t_out, **s_out}.items():
            keep = [col for col in df.columns if col not in ("stops", "betas", "teacher_record_every", "lr",
                                                             "weight_decay", "warmup", "teacher_epochs")]
            tables.setdefault(name, []).append(df[keep])
    return {name: pd.concat(dfs, ignore_index=True) for name, dfs in tables.items()}


def apply_overrides(cfg: ModularConfig, **overrides) -> ModularConfig:
    for key, value in list(overrides.items()):
        if isinstance(value, list):
            overrides[key] = tuple(tuple(v) if isinstance(v, list) else v for v in value)
    return replace_checked(cfg, **overrides)


def _lin(lo, hi, num):
    return tuple(round(float(v), 6) for v in np.linspace(lo, hi, num))


PAPER_RHOS = (0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.7, 0.9)
PRESETS = {
    "smoke": ModularConfig(
        transformer=ArchConfig("transformer", P=11, frac=0.5, teacher_epochs=300,
                               stops=("train>=1", "epoch>=150", "epoch>=300"), d_model=16, num_heads=2, d_mlp=32),
        mlp=ArchConfig("mlp", P=11, frac=0.5, teacher_epochs=300, stops=("train>=1", "epoch>=150", "epoch>=300"),
                       width=32),
        seeds=(0, 1), rhos=(0.3, 0.9), taus=(10.0, 0.1), student_epochs=(200, 200), record_every=50,
        fig10=((0.3, 10.0), (0.9, 0.1)), small_rho=0.3,
    ),
    # probes.md B and the planning runs: at P = 59 the transformer groks reliably at 40 % of the pairs, the MLP
    # at 50 %; students at lr 3e-3 so that τ = 0.1 at ρ = 0.9 groks within the budget (at 1e-3 it had not
    # finished after 3000 epochs); the MLP variant on a coarser ρ grid with shorter low-τ training
    "cpu": ModularConfig(
        transformer=ArchConfig("transformer", P=59, frac=0.4, teacher_epochs=6000,
                               stops=("epoch>=500", "epoch>=1500", "val>=0.95"), d_model=64, num_heads=4, d_mlp=256),
        mlp=ArchConfig("mlp", P=59, frac=0.5, teacher_epochs=7000, stops=("epoch>=500", "epoch>=1500", "val>=0.95"),
                       width=200, rhos=(0.1, 0.5, 0.9), student_epochs=(600, 1000)),
        seeds=(0, 1), rhos=(0.1, 0.3, 0.5, 0.7, 0.9), taus=(10.0, 0.1), student_epochs=(600, 2000),
        student_lr=3e-3, record_every=50, small_rho=0.3, fig10=((0.3, 10.0), (0.5, 10.0), (0.9, 0.1)),
    ),
    "paper": ModularConfig(
        transformer=ArchConfig("transformer", P=113, frac=0.3, teacher_epochs=10_000,
                               stops=("epoch>=2500", "epoch>=5000", "epoch>=10000")),
        mlp=ArchConfig("mlp", P=113, frac=0.3, teacher_epochs=20_000,
                       stops=("epoch>=5000", "epoch>=10000", "epoch>=20000")),
        seeds=(0, 1, 2), rhos=PAPER_RHOS, taus=(10.0, 1.0, 0.1), student_epochs=(40_000, 40_000, 40_000),
        record_every=100,
    ),
}


# ---------------------------------------------------------------------------------------------------
# Analysis

METRICS = ("acc_train_S", "acc_test_S", "acc_val_S", "acc_match_T_val", "fit_epoch", "gen_epoch", "epochs")


def seed_means(runs: pd.DataFrame) -> pd.DataFrame:
    """Mean and standard error over seeds per (arch, teacher, τ, ρ); columns ``m`` and ``m_sem``."""
    g = runs.groupby(["arch", "teacher", "tau", "rho"])
    means = g[list(METRICS)].mean()
    errs = g[list(METRICS)].agg(sem).add_suffix("_sem")
    return pd.concat([means, errs, g.size().rename("num_seeds")], axis=1).reset_index()


def checkpoint_means(checkpoints: pd.DataFrame) -> pd.DataFrame:
    g = checkpoints.groupby(["arch", "teacher"])
    return pd.concat([g[["epoch", "acc_star_T", "acc_val_T"]].mean(), g["met"].all(), g["rule"].first()],
                     axis=1).reset_index()


def _fmt(x: float, spec: str = ".2f") -> str:
    return "—" if x is None or not np.isfinite(x) else format(x, spec)


def _series(values, spec: str = ".2f") -> str:
    return ", ".join(_fmt(float(v), spec) for v in values)


def _fit_epochs(curve: pd.DataFrame) -> pd.Series:
    """Per seed: first recorded epoch with acc_star_T ≥ 0.99 (the teacher has memorized D*^T)."""
    return curve[curve["acc_star_T"] >= FULL].groupby("seed")["epoch"].min()


def _rho_gen(m: pd.DataFrame) -> float:
    """Smallest ρ whose seed-mean acc_val_S reaches GENERALIZED (inf if none)."""
    hit = m.loc[m["acc_val_S"] >= GENERALIZED, "rho"]
    return float(hit.min()) if len(hit) else float("inf")


def summarize(out: dict[str, pd.DataFrame], cfg: ModularConfig) -> tuple[list[Claim], dict[str, object], dict]:
    """Claims (spec §8, chapter 2), metrics and the derived tables the figures use."""
    means = seed_means(out["runs"])
    ck = checkpoint_means(out["checkpoints"])
    claims: list[Claim] = []
    metrics: dict[str, object] = {"tau": list(cfg.taus), "seeds": list(cfg.seeds)}
    tau_hi, tau_lo = max(cfg.taus), min(cfg.taus)
    for arch in cfg.archs:
        a = cfg.arch(arch)
        pre = "" if arch == "transformer" else "mlp."
        fig = "fig3" if arch == "transformer" else "fig11"
        name = "transformer" if arch == "transformer" else "MLP"
        mA, cA = means[means["arch"] == arch], ck[ck["arch"] == arch].set_index("teacher")
        metrics[f"{pre}rho"], metrics[f"{pre}P"], metrics[f"{pre}frac"] = list(cfg.rhos_of(arch)), a.P, a.frac
        metrics[f"{pre}n_star"], metrics[f"{pre}n_val"] = int(a.frac * a.P**2), a.P**2 - int(a.frac * a.P**2)
        for k in TEACHERS:
            for col in ("acc_star_T", "acc_val_T", "epoch"):
                metrics[f"{pre}teacher{k}.{col}"] = float(cA.loc[k, col])
            for tau in cfg.taus:
                m = mA[(mA["teacher"] == k) & (mA["tau"] == tau)].sort_values("rho")
                for col in ("acc_train_S", "acc_test_S", "acc_val_S", "acc_match_T_val"):
                    metrics[f"{pre}teacher{k}.tau{tau:g}.{col}"] = m[col].tolist()

        def sel(k, tau):
            return mA[(mA["teacher"] == k) & (mA["tau"] == tau)].sort_values("rho")

        # teachers --------------------------------------------------------------------------------
        curve = out["teacher_curve"][out["teacher_curve"]["arch"] == arch]
        fit_ep = float(_fit_epochs(curve).mean())
        delay = float(cA.loc[3, "epoch"]) / fit_ep if fit_ep > 0 else np.nan
        metrics[f"{pre}teacher.fit_epoch"], metrics[f"{pre}teacher.grok_delay"] = fit_ep, delay
        star, val = [float(cA.loc[k, "acc_star_T"]) for k in TEACHERS], [float(cA.loc[k, "acc_val_T"]) for k in TEACHERS]
        claims.append(Claim(
            f"{fig}a.teachers", f"{name} teachers: ① ② ③ fit D*^T, ① and ② do not generalize, ③ does, after a delay "
            f"(rule, seed means: acc_star_T ≥ {FULL} for all three; acc_val_T < {LOW} for ① ②, ≥ {GENERALIZED} for ③; "
            "③ is taken at least 3× later than the teacher first fits D*^T)",
            "D*^T fitted to 100 % early; ① ② memorize (acc_val_T low), ③ generalizes (acc_val_T ≈ 1)",
            f"acc_star_T {_series(star, '.3f')}; acc_val_T {_series(val)} at epochs "
            f"{_series([cA.loc[k, 'epoch'] for k in TEACHERS], '.0f')}; D*^T fitted at epoch {_fmt(fit_ep, '.0f')} "
            f"(③ {_fmt(delay, '.1f')}× later)",
            bool(min(star) >= FULL and max(val[:2]) < LOW and val[2] >= GENERALIZED and delay >= 3
                 and bool(cA["met"].all())),
        ))
        # all students fit their training set ----------------------------------------------------
        worst = mA.loc[mA["acc_train_S"].idxmin()]
        claims.append(Claim(
            f"{fig}b.train", f"{name} students fit D_train^S at every ρ, τ and teacher (rule: every seed mean "
            f"acc_train_S ≥ {FULL})", "acc_train_S = 100 % for every ρ and τ",
            f"lowest acc_train_S {worst['acc_train_S']:.3f} (teacher {int(worst['teacher'])}, τ = {worst['tau']:g}, "
            f"ρ = {worst['rho']:g})", bool(mA["acc_train_S"].min() >= FULL),
        ))
        # τ high, memorizing teachers ------------------------------------------------------------
        for k in (1, 2):
            m = sel(k, tau_hi)
            if m.empty:
                continue
            small = cfg.small_rho if cfg.small_rho in cfg.rhos_of(arch) else float(m["rho"].min())
            lo_row, hi_row = m[m["rho"] == small].iloc[0], m.iloc[-1]
            gap = float(lo_row["acc_test_S"] - lo_row["acc_val_S"])
            claims.append(Claim(
                f"{fig}b.tau{tau_hi:g}.teacher{k}_leaks", f"{name}, τ = {tau_hi:g}, teacher {'①②'[k - 1]}: at the "
                f"small ρ the student is more accurate on D_test^S than on D_val (rule: acc_test_S − acc_val_S ≥ 0.05 "
                f"at ρ = {lo_row['rho']:g})", "acc_test_S > acc_val_S at small ρ: memorized labels leak",
                f"ρ = {lo_row['rho']:g}: acc_test_S {lo_row['acc_test_S']:.3f} vs acc_val_S {lo_row['acc_val_S']:.3f} "
                f"(acc_val_T {cA.loc[k, 'acc_val_T']:.3f})", bool(gap >= 0.05),
            ))
            claims.append(Claim(
                f"{fig}b.tau{tau_hi:g}.teacher{k}_copies", f"{name}, τ = {tau_hi:g}, teacher {'①②'[k - 1]}: at the "
                "largest ρ the student recovers D_test^S and copies the teacher's lack of generalization (rule: "
                f"acc_test_S ≥ 0.9 and acc_val_S ≤ acc_val_T + 0.1 at ρ = {hi_row['rho']:g})",
                "acc_test_S → 1 as ρ grows while acc_val_S → acc_val_T, despite training ≥ 5× longer than the teacher",
                f"ρ = {hi_row['rho']:g}: acc_test_S {hi_row['acc_test_S']:.3f}, acc_val_S {hi_row['acc_val_S']:.3f} vs "
                f"acc_val_T {cA.loc[k, 'acc_val_T']:.3f}; agreement with the teacher on D_val "
                f"{hi_row['acc_match_T_val']:.3f}",
                bool(hi_row["acc_test_S"] >= 0.9 and hi_row["acc_val_S"] <= cA.loc[k, "acc_val_T"] + 0.1),
            ))
        m1, m2 = sel(1, tau_hi), sel(2, tau_hi)
        if arch == "transformer" and len(m1) > 1:
            step1, step2 = float(m1["acc_test_S"].diff().max()), float(m2["acc_test_S"].diff().max())
            metrics[f"{pre}tau{tau_hi:g}.max_step_teacher1"], metrics[f"{pre}tau{tau_hi:g}.max_step_teacher2"] = step1, step2
            claims.append(Claim(
                f"{fig}b.tau{tau_hi:g}.teacher2_sharper", f"τ = {tau_hi:g}: the rise of acc_test_S over ρ is more "
                "abrupt for teacher ② than for ① (rule: the largest increase between neighbouring grid ρ is larger)",
                "teacher ②: the same as ①, with a more abrupt transition in ρ",
                f"largest step of acc_test_S: ② {step2:.3f} vs ① {step1:.3f}; ② {_series(m2['acc_test_S'])}, "
                f"① {_series(m1['acc_test_S'])} over ρ = {_series(m1['rho'])}", bool(step2 > step1),
            ))
        # τ high, generalizing teacher -----------------------------------------------------------
        m3h, m3l = sel(3, tau_hi), sel(3, tau_lo)
        if not m3h.empty and tau_hi != tau_lo:
            r_hi, r_lo = _rho_gen(m3h), _rho_gen(m3l)
            metrics[f"{pre}teacher3.tau{tau_hi:g}.rho_gen"], metrics[f"{pre}teacher3.tau{tau_lo:g}.rho_gen"] = r_hi, r_lo
            claims.append(Claim(
                f"{fig}b.tau{tau_hi:g}.teacher3_generalizes", f"{name}, teacher ③: at τ = {tau_hi:g} the student "
                f"generalizes from a smaller ρ than at τ = {tau_lo:g} (rule: the smallest ρ with seed-mean acc_val_S ≥ "
                f"{GENERALIZED} is smaller; ∞ = never)", "with teacher ③ and high τ the student generalizes with little data",
                f"smallest generalizing ρ: {_fmt(r_hi, 'g')} at τ = {tau_hi:g}, {_fmt(r_lo, 'g')} at τ = {tau_lo:g}; "
                f"acc_val_S at τ = {tau_hi:g}: {_series(m3h['acc_val_S'])}", bool(r_hi < r_lo),
            ))
        # τ low: no dependence on the teacher, a data threshold, delayed generalization ------------
        lo = mA[mA["tau"] == tau_lo]
        if not lo.empty:
            spread = lo.groupby("rho")[["acc_test_S", "acc_val_S"]].agg(lambda s: s.max() - s.min()).max().max()
            metrics[f"{pre}tau{tau_lo:g}.teacher_spread"] = float(spread)
            claims.append(Claim(
                f"{fig}b.tau{tau_lo:g}.independent", f"{name}, τ = {tau_lo:g}: the students do not depend on which "
                "teacher labelled them (rule: at every ρ, seed-mean acc_test_S and acc_val_S differ by ≤ 0.1 across ①②③)",
                "at low τ the result does not depend on the teacher",
                f"largest spread across teachers {spread:.3f}; acc_val_S ① {_series(sel(1, tau_lo)['acc_val_S'])}, "
                f"③ {_series(m3l['acc_val_S'])}", bool(spread <= 0.1),
            ))
            val_lo = lo.groupby("rho")["acc_val_S"].mean()
            metrics[f"{pre}tau{tau_lo:g}.acc_val_S_all_teachers"] = val_lo.tolist()
            if arch == "transformer":
                below, top = val_lo[val_lo.index <= 0.7], val_lo[val_lo.index >= 0.9]
                claims.append(Claim(
                    f"{fig}b.tau{tau_lo:g}.threshold", f"τ = {tau_lo:g}: the student fails to generalize at ρ ≤ 0.7 and "
                    f"succeeds at ρ = 0.9 (rule: mean acc_val_S over teachers < {LOW} at every ρ ≤ 0.7 and ≥ "
                    f"{GENERALIZED} at ρ ≥ 0.9)", "fails at ρ = 0.7, succeeds at ρ = 0.9 (≈ 22 % of all pairs)",
                    f"acc_val_S over ρ = {_series(val_lo.index)}: {_series(val_lo)} (ρ = 0.9 is "
                    f"{0.9 * a.frac:.0%} of all pairs here)",
                    bool((below < LOW).all() and (top >= GENERALIZED).all()) if len(top) and len(below) else None,
                ))
        m1l = sel(1, tau_lo)
        if not m1.empty and not m1l.empty and tau_hi != tau_lo:
            v_hi, v_lo = float(m1.iloc[-1]["acc_val_S"]), float(m1l.iloc[-1]["acc_val_S"])
            claims.append(Claim(
                f"{fig}b.soft_labels_block", f"{name}, teacher ①, largest ρ: the high-τ student generalizes less than "
                f"the low-τ one (rule: acc_val_S at τ = {tau_hi:g} is below that at τ = {tau_lo:g} by ≥ 0.05)",
                "soft labels of a memorizing teacher transfer memorized labels and keep the student from generalizing",
                f"ρ = {m1.iloc[-1]['rho']:g}: acc_val_S {v_hi:.3f} at τ = {tau_hi:g} vs {v_lo:.3f} at τ = {tau_lo:g}",
                bool(v_hi <= v_lo - 0.05),
            ))
        # Fig. 10: speed of the two routes to generalization ---------------------------------------
        if arch == "transformer":
            runs3 = out["runs"][(out["runs"]["arch"] == arch) & (out["runs"]["teacher"] == 3)]
            for rho, tau in cfg.fig10:
                r = runs3[(runs3["rho"] == rho) & (runs3["tau"] == tau)]
                metrics[f"fig10.rho{rho:g}.tau{tau:g}.gen_epoch"] = r["gen_epoch"].tolist()
                metrics[f"fig10.rho{rho:g}.tau{tau:g}.fit_epoch"] = r["fit_epoch"].tolist()
            fast = [r for r in cfg.fig10 if r[1] == tau_hi]
            slow = [r for r in cfg.fig10 if r[1] == tau_lo]
            if fast:
                g = runs3[(runs3["rho"] == fast[0][0]) & (runs3["tau"] == tau_hi)]["gen_epoch"]
                others = "".join(
                    f"; at ρ = {r:g}: {_series(runs3[(runs3['rho'] == r) & (runs3['tau'] == tau_hi)]['gen_epoch'], '.0f')}"
                    for r, _ in fast[1:])
                claims.append(Claim(
                    "fig10.fast", f"Fig. 10 left (teacher ③, ρ = {fast[0][0]:g}, τ = {tau_hi:g}): the student generalizes "
                    f"within a few hundred epochs (rule: every seed reaches acc_val_S ≥ {GENERALIZED} by epoch 500)",
                    "generalizes within a few hundred epochs",
                    f"epochs to acc_val_S ≥ {GENERALIZED}: {_series(g, '.0f')} (— = never){others}",
                    bool(np.isfinite(g).all() and (g <= 500).all()) if len(g) else None,
                ))
            if slow:
                r = runs3[(runs3["rho"] == slow[0][0]) & (runs3["tau"] == tau_lo)]
                g, f = r["gen_epoch"].to_numpy(), r["fit_epoch"].to_numpy()
                claims.append(Claim(
                    "fig10.delayed", f"Fig. 10 right (teacher ③, ρ = {slow[0][0]:g}, τ = {tau_lo:g}): generalization "
                    "comes long after the training set is fitted: grokking (rule: every seed reaches acc_val_S ≥ "
                    f"{GENERALIZED}, at least 3× later than acc_train_S ≥ {FULL})",
                    "delayed, grokking-like generalization", f"fitted at epochs {_series(f, '.0f')}; "
                    f"generalized at {_series(g, '.0f')} (— = not within {cfg.student_epochs[cfg.taus.index(tau_lo)]})",
                    bool(np.isfinite(g).all() and (g >= 3 * f).all()) if len(g) else None,
                ))
    derived = {"means": means, "checkpoints": ck}
    return claims, metrics, derived


def config_table(cfg: ModularConfig) -> pd.DataFrame:
    """The resolved config as a one-column table for the executed page."""
    rows = {}
    for arch in cfg.archs:
        a = cfg.arch(arch)
        size = (f"d_model {a.d_model}, {a.num_heads} heads, MLP {a.d_mlp}" if arch == "transformer"
                else f"one-hot(a) ⊕ one-hot(b) → {a.width} → {a.width} → P")
        rows[f"{arch}: data"] = f"P = {a.P}, |D*^T| = {int(a.frac * a.P**2)} ({a.frac:.0%} of {a.P**2} pairs)"
        rows[f"{arch}: model"] = size
        rows[f"{arch}: teachers ① ② ③"] = f"first record with {', '.join(a.stops)}; at most {a.teacher_epochs} epochs"
        rows[f"{arch}: students"] = (f"ρ = {', '.join(f'{r:g}' for r in cfg.rhos_of(arch))}; epochs per τ: "
                                     + ", ".join(f"τ = {t:g}: {e}" for t, e in zip(cfg.taus, cfg.epochs_of(arch))))
    rows.update({
        "optimizer": f"AdamW lr {cfg.lr:g}, weight decay {cfg.weight_decay:g}, betas {cfg.betas}, "
                     f"{cfg.warmup}-step linear warm-up, full batch, float64 loss",
        "student lr": f"{cfg.student_lr or cfg.lr:g} (same AdamW otherwise)",
        "seeds": ", ".join(map(str, cfg.seeds)),
        "records": f"every {cfg.record_every} epochs (teachers every {_teacher_record_every(cfg)})",
        "student early exit": f"when every member of an ensemble has acc_train_S, acc_test_S and acc_val_S ≥ {FULL}",
    })
    return pd.DataFrame({"value": rows})


def headline(means: pd.DataFrame, checkpoints: pd.DataFrame, cfg: ModularConfig) -> dict[str, float]:
    """The numbers the chapter's prose quotes (NaN where an architecture or grid point did not run)."""
    tau_hi, tau_lo = max(cfg.taus), min(cfg.taus)
    out: dict[str, float] = {}

    def pick(arch, k, tau, rho, col):
        m = means[(means["arch"] == arch) & (means["teacher"] == k) & (means["tau"] == tau) & (means["rho"] == rho)]
        return float(m[col].iloc[0]) if len(m) else float("nan")

    for arch, pre in (("transformer", "tf"), ("mlp", "mlp")):
        ck = checkpoints[checkpoints["arch"] == arch].set_index("teacher")
        rhos = cfg.rhos_of(arch)
        small = cfg.small_rho if cfg.small_rho in rhos else min(rhos)
        for k in TEACHERS:
            out[f"{pre}_t{k}_val"] = float(ck.loc[k, "acc_val_T"]) if k in ck.index else float("nan")
            out[f"{pre}_t{k}_epoch"] = float(ck.loc[k, "epoch"]) if k in ck.index else float("nan")
            for col, name in (("acc_test_S", "test"), ("acc_val_S", "val"), ("acc_match_T_val", "match")):
                out[f"{pre}_t{k}_hi_small_{name}"] = pick(arch, k, tau_hi, small, col)
                out[f"{pre}_t{k}_hi_top_{name}"] = pick(arch, k, tau_hi, max(rhos), col)
                out[f"{pre}_t{k}_lo_top_{name}"] = pick(arch, k, tau_lo, max(rhos), col)
        lo = means[(means["arch"] == arch) & (means["tau"] == tau_lo)]
        below = lo[lo["rho"] < max(rhos)]
        out[f"{pre}_lo_below_val_max"] = float(below["acc_val_S"].max()) if len(below) else float("nan")
        out[f"{pre}_small_rho"], out[f"{pre}_top_rho"] = float(small), float(max(rhos))
    out["tau_hi"], out["tau_lo"] = float(tau_hi), float(tau_lo)
    return out
