"""Chapter 8: can soft labels be released safely? Leakage against utility, per defense.

The paper's warning made practical (the paper makes no claim here; every claim is a book finding).
A publisher releases a teacher's soft labels on part of its training data after a recipe — a
temperature τ and a defense (:func:`softleak.distillation.release`). A student trained on the release
is audited by :mod:`softleak.audit`: label leakage on the memorized samples that were **not**
released (advantage over the trivial accuracy, measured on fresh records), the membership signal
(ROC AUC of the score log p_y − log Σ_{y'≠y} p_{y'} on those samples against fresh ones), and the
utility of the release (agreement with the teacher on fresh inputs; on real data, test accuracy).

Two settings:

- ``random``: chapter 5's setting (Gaussian inputs, balanced random labels, a one-hidden-layer ReLU
  teacher and student, τ = 20, ρ of the data released) at a weak-leak α and at an α where the
  student jumps to full recovery;
- ``canary``: scikit-learn's handwritten digits (offline) with m *canaries* — training images given a
  random **wrong** label — memorized by the teacher beside the real data. Mode ``released0``
  releases soft labels on the real training images only (no canary); mode ``released_rho`` releases
  a fraction ρ of the canaries too, as the paper does.

Seeds: a teacher seed ``s`` gives by role the data (random: ``derive_seed(s, "data", n)``, then as
chapter 5: data, fresh records "val", teacher init), the split, the noise of a recipe (role
"treatment", index from the recipe's text) and the k-th student init (the same k for every recipe:
recipes are compared on paired students). Every seed is a column of the results tables.
"""

from __future__ import annotations

import sys

import dataclasses
import hashlib
import math
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from .. import audit
from ..audit import example as digit_example
from ..audit.stats import PRIMARY, Records, Sets, analyse, pooled_p
from ..claims import Deviation
from ..chapters import register
from ..config import check_fraction, check_positive, check_positive_int, check_seeds, replace_checked
from ..data import DIGITS_IMAGES, gaussian_random_labels, split_student
from ..distillation import parse_defense, release
from ..models import MLPEnsemble
from ..rules import (AllOf, Above, AtLeast, AtMost, BeyondNull, ClaimSpec, Evidence, evidence_metrics, fmt,
                     not_converged, per_teacher)
from ..runtime import derive_seed, resolve_device, split_seed
from ..plan import META, Batch, Fit
from ..sweeps import default_workers, run_sweep
from ..training import fit

NAMESPACE = "08_release_safely"
FAMILIES = ("temperature", "top-k", "rounding", "quantisation", "logit noise", "hard labels", "combined")
MODES = {"released0": "no canary released", "released_rho": "a fraction ρ of the canaries released too"}
#: the tables a run returns: per student (random, canary), per teacher and recipe the audit's analysis (…_audit) and
#: the null draws of its verdict's statistic (…_null)
TABLES = ("random", "random_audit", "random_null", "canary", "canary_audit", "canary_null")


@dataclass(frozen=True)
class ReleaseConfig:
    """Everything chapter 8 runs. ``random``: chapter 5's sizes and optimisers at each preset;
    ``canary``: the digits with canaries."""

    d: int = 1000
    c: int = 100
    p: int = 500
    weak_alpha: float = 0.25  # α = n/(dc): chapter 5's Fig. 6 small α (the student recovers a little)
    jump_alpha: float = 1.0  # chapter 5's Fig. 6 large α (the student jumps to full recovery)
    rho: float = 0.8  # fraction of the memorized data released
    tau: float = 20.0  # chapter 5's temperature: the undefended release
    teacher_lr: float = 1e-3
    teacher_steps: int = 2000
    student_lr: float = 1e-4
    student_steps: int = 10_000
    seeds: tuple[int, ...] = (0, 1, 2, 3, 4)  # teachers
    inits: int = 3  # student inits per recipe and teacher
    fresh: int = 5000  # fresh records (random labels) behind the trivial accuracy and the non-members
    taus: tuple[float, ...] = (2.0, 5.0, 10.0, 20.0, 50.0)  # the temperature family (no other defense)
    topks: tuple[int, ...] = (2, 5, 10, 25, 50, 75)
    rounds: tuple[int, ...] = (1, 2, 3)
    quants: tuple[int, ...] = (2, 4, 8)
    noises: tuple[float, ...] = (0.5, 1.0, 3.0, 10.0)
    combos: tuple[str, ...] = ("noise:1+round:2",)
    canary_count: int = 100  # m canaries among the training images
    canary_train: int = 1200  # digits in the teacher's training pool (canaries included); the rest is the test set
    canary_rho: float = 0.5
    canary_p: int = 256
    canary_tau: float = 3.0
    canary_teacher_lr: float = 1e-3
    canary_teacher_steps: int = 5000  # cap: the teacher trains until it fits every image and canary
    canary_student_lr: float = 1e-3
    canary_student_steps: int = 2000
    canary_seeds: tuple[int, ...] = (0, 1, 2, 3, 4)
    canary_inits: int = 2
    canary_taus: tuple[float, ...] = (1.0, 3.0, 10.0)
    canary_topks: tuple[int, ...] = (2, 5)
    canary_rounds: tuple[int, ...] = (1, 2)
    canary_quants: tuple[int, ...] = (2, 4)
    canary_noises: tuple[float, ...] = (1.0, 3.0)
    audit_bootstrap: int = 2000  # the audit's bootstrap replicates per teacher and recipe (record-level intervals)
    audit_null: int = 999  # the audit's null draws per teacher and recipe (its verdict; pooled over teachers)

    def __post_init__(self) -> None:
        for name in ("d", "c", "p", "teacher_steps", "student_steps", "inits", "fresh", "canary_count", "canary_train",
                     "canary_p", "canary_teacher_steps", "canary_student_steps", "canary_inits", "audit_bootstrap",
                     "audit_null"):
            check_positive_int(name, getattr(self, name))
        if self.c < 2:
            raise ValueError(f"c={self.c} is not allowed: c must be >= 2")
        for name in ("weak_alpha", "jump_alpha", "tau", "teacher_lr", "student_lr", "canary_tau", "canary_teacher_lr",
                     "canary_student_lr"):
            check_positive(name, getattr(self, name))
        if not self.weak_alpha < self.jump_alpha:
            raise ValueError(f"weak_alpha={self.weak_alpha} is not allowed with jump_alpha={self.jump_alpha}: the "
                             "weak-leak α must be the smaller")
        check_fraction("rho", self.rho)
        check_fraction("canary_rho", self.canary_rho)
        check_seeds("seeds", self.seeds)
        check_seeds("canary_seeds", self.canary_seeds)
        for alpha in (self.weak_alpha, self.jump_alpha):
            n_pc = alpha * self.d
            if abs(n_pc - round(n_pc)) > 1e-9 or round(n_pc) < 2:
                raise ValueError(f"alpha={alpha} is not allowed with d={self.d}: α·d = {n_pc:g} samples per class must "
                                 "be an integer >= 2")
            if int(self.rho * round(n_pc)) in (0, round(n_pc)):
                raise ValueError(f"rho={self.rho} is not allowed at alpha={alpha}: the stratified split must release "
                                 "and hold out samples of every class")
        if self.tau not in self.taus:
            raise ValueError(f"taus={self.taus} is not allowed: it must contain tau={self.tau:g}, the undefended release")
        if self.canary_tau not in self.canary_taus:
            raise ValueError(f"canary_taus={self.canary_taus} is not allowed: it must contain canary_tau={self.canary_tau:g}")
        for name, top in (("topks", self.c), ("canary_topks", 10)):
            for i, k in enumerate(getattr(self, name)):
                if isinstance(k, bool) or not isinstance(k, int) or not 1 < k < top:
                    raise ValueError(f"{name}[{i}]={k!r} is not allowed: 1 < k < c={top} (k = 1 is the hard label, "
                                     "k = c the undefended release)")
        if self.c // 2 not in self.topks:
            raise ValueError(f"topks={self.topks} is not allowed: it must contain c/2 = {self.c // 2}, the top-k "
                             "claim's setting")
        for name in ("taus", "noises", "canary_taus", "canary_noises"):
            for i, v in enumerate(getattr(self, name)):
                check_positive(f"{name}[{i}]", v)
        for name in ("rounds", "quants", "canary_rounds", "canary_quants"):
            for i, v in enumerate(getattr(self, name)):
                check_positive_int(f"{name}[{i}]", v)
        for i, spec in enumerate(self.combos):
            try:
                parse_defense(spec)
            except ValueError as err:
                raise ValueError(f"combos[{i}]={spec!r} is not allowed: {err}") from None
        if not 0 < self.canary_count < self.canary_train:
            raise ValueError(f"canary_count={self.canary_count} is not allowed: 0 < m < canary_train={self.canary_train}")
        if self.canary_train >= 1797 - 100:
            raise ValueError(f"canary_train={self.canary_train} is not allowed: the 1797 digits must leave at least 100 "
                             "test images (the fresh canaries and the test accuracy)")
        if int(self.canary_rho * self.canary_count) in (0, self.canary_count):
            raise ValueError(f"canary_rho={self.canary_rho} is not allowed with canary_count={self.canary_count}: "
                             "it must release some canaries and hold some out")

    @property
    def n_weak(self) -> int:
        return round(self.weak_alpha * self.d) * self.c

    @property
    def n_jump(self) -> int:
        return round(self.jump_alpha * self.d) * self.c


def apply_overrides(cfg: ReleaseConfig, **overrides) -> ReleaseConfig:
    return replace_checked(cfg, **overrides)


PRESETS = {
    "smoke": ReleaseConfig(
        d=20, c=6, p=12, weak_alpha=0.5, jump_alpha=2.0, student_lr=3e-3, teacher_steps=400, student_steps=60, seeds=(0, 1),
        inits=1, fresh=300, taus=(5.0, 20.0), topks=(2, 3), rounds=(2,), quants=(2,), noises=(1.0,),
        canary_count=20, canary_train=300, canary_p=16, canary_teacher_steps=600, canary_student_steps=40,
        canary_seeds=(0, 1), canary_inits=1, canary_taus=(3.0,), canary_topks=(2,), canary_rounds=(1,), canary_quants=(2,),
        canary_noises=(3.0,), audit_bootstrap=50, audit_null=39,
    ),
    # chapter 5's cpu sizes (d, c, p) = (100, 20, 50), its τ = 20 and student lr 3·10⁻³; α = 0.25 leaks a little,
    # α = 1 jumps (chapter 5's Fig. 6 at cpu)
    "cpu": ReleaseConfig(
        d=100, c=20, p=50, student_lr=3e-3, student_steps=2000, seeds=(0, 1, 2), inits=2, fresh=2000,
        topks=(2, 5, 10, 15), canary_p=128, canary_student_steps=1000, canary_seeds=(0, 1, 2), canary_inits=1,
        audit_bootstrap=500, audit_null=199,
    ),
    "paper": ReleaseConfig(),
}


# ---------------------------------------------------------------------------------------------
# The recipes a chapter run compares
# ---------------------------------------------------------------------------------------------

def recipes(cfg: ReleaseConfig, part: str) -> list[dict]:
    """Every release recipe of one setting: ``family``, ``knob`` (NaN where there is none), the recipe's
    ``defense`` text and its temperature ``tau``. The undefended release is the temperature family at
    the setting's τ."""
    if part == "random":
        tau, taus, topks, rounds, quants, noises, combos = (cfg.tau, cfg.taus, cfg.topks, cfg.rounds, cfg.quants,
                                                            cfg.noises, cfg.combos)
    else:
        tau, taus, topks, rounds, quants, noises, combos = (cfg.canary_tau, cfg.canary_taus, cfg.canary_topks,
                                                            cfg.canary_rounds, cfg.canary_quants, cfg.canary_noises, ())
    out = [{"family": "temperature", "knob": float(t), "defense": "none", "tau": float(t)} for t in taus]
    out += [{"family": "top-k", "knob": float(k), "defense": f"topk:{k}", "tau": tau} for k in topks]
    out += [{"family": "rounding", "knob": float(b), "defense": f"round:{b}", "tau": tau} for b in rounds]
    out += [{"family": "quantisation", "knob": float(b), "defense": f"quant:{b}", "tau": tau} for b in quants]
    out += [{"family": "logit noise", "knob": float(s), "defense": f"noise:{s:g}", "tau": tau} for s in noises]
    out += [{"family": "hard labels", "knob": float("nan"), "defense": "hard", "tau": tau}]
    out += [{"family": "combined", "knob": float("nan"), "defense": s, "tau": tau} for s in combos]
    for r in out:
        r["recipe"] = r["defense"] if r["family"] != "temperature" else f"τ = {r['tau']:g}"
    return out


def _recipe_text(recipe: dict) -> str:
    """A recipe's identity for its seeds: its defense and temperature (grid position never decides a seed)."""
    return f"{recipe['defense']}@{recipe['tau']:g}"


def _release_all(z: torch.Tensor, rs: list[dict], inits: int, seed: int) -> tuple[torch.Tensor, np.ndarray]:
    """(len(rs) · inits, c, n) released soft labels, recipe-major, from teacher logits z (c, n), and per member
    the share of released vectors that are one-hot (a recipe that rounds every entry but one to 0 releases the
    hard label). A noisy recipe draws its noise afresh for every student start, seeded by its text and the start
    (:func:`softleak.audit.noise_seed`), as the audit does."""
    targets = [release(z.double(), r["tau"], r["defense"], seed=audit.noise_seed(seed, _recipe_text(r), k))
               for r in rs for k in range(inits)]
    one_hot = [float((t.amax(dim=-2) >= 1 - 1e-12).double().mean()) for t in targets]
    return torch.stack([t.float() for t in targets]), np.asarray(one_hot)


def _audit_tables(rs: list[dict], inits: int, seed: int, conf: dict, held, fresh, test=None
                  ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per recipe, the audit's record-level analysis of its students (:func:`softleak.audit.analyse`): one row of
    values, bootstrap intervals over records and starts, null ranges, p-values and verdict, and the null draws of
    the verdict's statistic (the exposure gap) for the pooled test over teachers. ``held``, ``fresh``, ``test``:
    (logits (E, c, n), labels[, teacher's classes]) of every member."""
    rows, draws = [], []
    for i, r in enumerate(rs):
        part = slice(i * inits, (i + 1) * inits)
        sets = Sets(Records(held[0][part], held[1]), Records(fresh[0][part], fresh[1], agree_with=fresh[2]),
                    None if test is None else Records(test[0][part], test[1]))
        found = analyse(sets, replicates=conf["audit_bootstrap"], permutations=conf["audit_null"], null_by="records",
                        seed=derive_seed(seed, "shuffle", audit.core.recipe_index(_recipe_text(r))))
        rows.append({"recipe": r["recipe"], "family": r["family"], **found.row()})
        gap = found.null_draws.get(PRIMARY["records"], np.array([]))
        draws.append(pd.DataFrame({"recipe": r["recipe"], "draw": np.arange(gap.size), "exposure_gap": gap}))
    return pd.DataFrame(rows), pd.concat(draws, ignore_index=True)


def _numpy(t: torch.Tensor) -> np.ndarray:
    return t.double().cpu().numpy()


def _train(X, targets, labels, *, hidden, seeds, steps, lr, heldout, device, name):
    """Students of every recipe and init in one ensemble, by the audit's own trainer; the held-out accuracy is
    recorded 5 times (for "still rising"). Returns the model, the held-out accuracy at 80 % of the epochs,
    the final training accuracy and the names of diverged members, per member."""
    spec = audit.StudentSpec(hidden=(hidden,), epochs=steps, lr=lr)
    model, result = audit.train_students(X, targets, spec, labels=labels, seeds=seeds, device=device, desc=name,
                                         eval_sets={"heldout": heldout}, record_every=max(1, steps // 5))
    h = result.history
    late = h[h["step"] <= 0.8 * steps]["step"].max()
    acc80 = h[h["step"] == late].sort_values("member")["acc_heldout"].to_numpy()
    return model, acc80, result.final("acc_train"), set(result.diverged)


def _rows(metrics: pd.DataFrame, rs: list[dict], inits: int, seeds: list[int], acc80, base: dict) -> pd.DataFrame:
    info = pd.DataFrame([{**r, "init": k} for r in rs for k in range(inits)])
    out = pd.concat([info, metrics.reset_index(drop=True)], axis=1)
    out["acc_heldout_80"] = acc80
    out["seed_student"] = seeds
    for k, v in base.items():
        out[k] = v
    return out


def _random_one(conf: dict, device) -> pd.DataFrame:
    d, c, p, n = conf["d"], conf["c"], conf["p"], conf["n"]
    cell = derive_seed(conf["seed"], "data", n)
    X, y = gaussian_random_labels(n, d, c, derive_seed(cell, "data"))
    Xf, yf = gaussian_random_labels(conf["fresh"], d, c, derive_seed(cell, "val"), balanced=False)
    X, y, Xf, yf = (t.to(device) for t in (X, y, Xf, yf))
    t_seed = derive_seed(cell, "teacher_init", p)
    teacher = MLPEnsemble((d, p, c), [t_seed], device=device)
    fit(teacher, X, y, steps=conf["teacher_steps"], lr=conf["teacher_lr"], member_names=[f"teacher(n={n}, seed={conf['seed']})"])
    with torch.no_grad():
        z, zf = teacher(X)[0], teacher(Xf)[0]
    tr, te = split_student(y.cpu(), conf["rho"], split_seed(cell, conf["rho"]), stratify=True)
    tr, te = tr.to(device), te.to(device)
    rs, inits = conf["recipes"], conf["inits"]
    seeds = [derive_seed(cell, "student_init", k) for _ in rs for k in range(inits)]
    targets, one_hot = _release_all(z[:, tr], rs, inits, cell)
    model, acc80, acc_train, diverged = _train(X[tr], targets, y[tr], hidden=p, seeds=seeds, steps=conf["student_steps"],
                                               lr=conf["student_lr"], heldout=(X[te], y[te]), device=device, name="student")
    with torch.no_grad():
        out_h, out_f = model(X[te]), model(Xf)
    met = audit.student_metrics(out_h, y[te], fresh_logits=out_f, fresh_y=yf, teacher_fresh=zf)
    base = {"seed": conf["seed"], "seed_data": cell, "seed_teacher": t_seed, "n": n,
            "acc_star_T": float((z.argmax(0) == y).double().mean()), "teacher_trivial": float((zf.argmax(0) == yf).double().mean())}
    out = _rows(met, rs, inits, seeds, acc80, base)
    out["acc_train"] = acc_train
    out["one_hot_share"] = one_hot
    out["diverged"] = [i in diverged for i in range(len(seeds))] if diverged else False
    table, draws = _audit_tables(rs, inits, cell, conf, (_numpy(out_h), y[te].cpu().numpy()),
                                 (_numpy(out_f), yf.cpu().numpy(), zf.argmax(0).cpu().numpy()))
    keys = {"seed": conf["seed"], "n": n}
    return {"random": out, "random_audit": table.assign(**keys), "random_null": draws.assign(**keys)}


def canary_teacher(conf: dict, device):
    """The canary setting's data and its teacher, trained until it fits every image and canary (capped): the audit
    example's digit teacher (:func:`softleak.audit.example.train_teacher`) at this chapter's canary settings."""
    spec = digit_example.DigitTeacher(count=conf["canary_count"], train=conf["canary_train"], hidden=conf["canary_p"],
                                      lr=conf["canary_teacher_lr"], steps=conf["canary_teacher_steps"])
    return digit_example.train_teacher(conf["seed"], spec, memorize=True, device=device)


def _canary_one(conf: dict, device) -> pd.DataFrame:
    teacher, (Xtr, ytr, ytrue, Xte, yte, yfc), t_seed, steps = canary_teacher(conf, device)
    m = conf["canary_count"]
    with torch.no_grad():
        z, zt = teacher(Xtr)[0], teacher(Xte)[0]
    base = {"seed": conf["seed"], "seed_teacher": t_seed, "teacher_steps": steps,
            "acc_star_T": float((z.argmax(0) == ytr).double().mean()),
            "acc_canary_T": float((z[:, :m].argmax(0) == ytr[:m]).double().mean()),
            "acc_test_real_T": float((zt.argmax(0) == yte).double().mean()),
            "teacher_trivial": float((zt.argmax(0) == yfc).double().mean())}
    canaries = torch.arange(m, device=device)
    cut, rest = (t.to(device) for t in split_student(torch.zeros(m, dtype=torch.long), conf["canary_rho"],
                                                      split_seed(conf["seed"], conf["canary_rho"])))
    real = torch.arange(m, Xtr.shape[0], device=device)
    rs, inits = conf["recipes"], conf["canary_inits"]
    seeds = [derive_seed(conf["seed"], "student_init", k) for _ in rs for k in range(inits)]
    frames, tables, nulls = [], [], []
    for mode in MODES:
        released = real if mode == "released0" else torch.cat([canaries[cut], real])
        held = canaries if mode == "released0" else canaries[rest]
        targets, one_hot = _release_all(z[:, released], rs, inits,
                                        derive_seed(conf["seed"], "data", 1 + list(MODES).index(mode)))
        model, acc80, _, _ = _train(Xtr[released], targets, ytr[released], hidden=conf["canary_p"], seeds=seeds,
                                 steps=conf["canary_student_steps"], lr=conf["canary_student_lr"], heldout=(Xtr[held], ytr[held]),
                                 device=device, name=f"student({mode})")
        with torch.no_grad():
            out_te, out_h = model(Xte), model(Xtr[held])
        met = audit.student_metrics(out_h, ytr[held], fresh_logits=out_te, fresh_y=yfc, teacher_fresh=zt,
                                    test_logits=out_te, test_y=yte)
        rows = _rows(met, rs, inits, seeds, acc80, {**base, "mode": mode,
                                                     "num_released_canaries": int(released.numel() - real.numel())})
        frames.append(rows.assign(one_hot_share=one_hot))
        table, draws = _audit_tables(rs, inits, derive_seed(conf["seed"], "data", 1 + list(MODES).index(mode)), conf,
                                     (_numpy(out_h), ytr[held].cpu().numpy()),
                                     (_numpy(out_te), yfc.cpu().numpy(), zt.argmax(0).cpu().numpy()),
                                     (_numpy(out_te), yte.cpu().numpy()))
        tables.append(table.assign(seed=conf["seed"], mode=mode))
        nulls.append(draws.assign(seed=conf["seed"], mode=mode))
    return {"canary": pd.concat(frames, ignore_index=True), "canary_audit": pd.concat(tables, ignore_index=True),
            "canary_null": pd.concat(nulls, ignore_index=True)}


def _batch(configs: list[dict], device) -> list[dict[str, pd.DataFrame]]:
    return [(_random_one if conf["part"] == "random" else _canary_one)(conf, device) for conf in configs]


def _cost(batch: list[dict]) -> float:
    conf = batch[0]
    if conf["part"] == "random":
        return conf["n"] * conf["rho"] * len(conf["recipes"]) * conf["inits"] * conf["student_steps"] * \
            conf["p"] * (conf["d"] + conf["c"])
    return 2 * conf["canary_train"] * len(conf["recipes"]) * conf["canary_inits"] * conf["canary_student_steps"] * \
        conf["canary_p"] * 74


def _configs(cfg: ReleaseConfig) -> list[dict]:
    """One config per (setting, teacher seed): the weak and the jump α of the random part, then the canaries."""
    shared = dataclasses.asdict(cfg)
    rkeys = ("d", "c", "p", "rho", "teacher_lr", "teacher_steps", "student_lr", "student_steps", "inits", "fresh",
             "audit_bootstrap", "audit_null")
    ckeys = tuple(k for k in shared if k.startswith("canary_") and k not in ("canary_seeds",) and
                  k not in ("canary_taus", "canary_topks", "canary_rounds", "canary_quants", "canary_noises", "canary_tau"))
    configs = [{"part": "random", "alpha": a, "n": n, "seed": s, **{k: shared[k] for k in rkeys},
                "recipes": recipes(cfg, "random")}
               for a, n in ((cfg.weak_alpha, cfg.n_weak), (cfg.jump_alpha, cfg.n_jump)) for s in cfg.seeds]
    configs += [{"part": "canary", "seed": s, **{k: shared[k] for k in ckeys}, "recipes": recipes(cfg, "canary"),
                 "audit_bootstrap": cfg.audit_bootstrap, "audit_null": cfg.audit_null} for s in cfg.canary_seeds]
    return configs


PLAN_NOTES = ("the canary teachers train until they fit, at most canary_teacher_steps epochs: the plan counts the cap",)


def plan(cfg: ReleaseConfig) -> list[Batch]:
    """The batches :func:`run` trains, for :mod:`softleak.plan`: per teacher, its training, then one student
    ensemble of every recipe and init (two for the canaries, one per mode), each recorded 6 times."""
    out = []
    for conf in _configs(cfg):
        E = len(conf["recipes"]) * (conf["inits"] if conf["part"] == "random" else conf["canary_inits"])
        if conf["part"] == "random":
            d, c, p, n = conf["d"], conf["c"], conf["p"], conf["n"]
            m = c * int(conf["rho"] * (n // c))  # the stratified split
            fits = (Fit(partial(MLPEnsemble, (d, p, c), [0], device=META), (n, d), conf["teacher_steps"]),
                    Fit(partial(MLPEnsemble, (d, p, c), range(E), device=META), (m, d), conf["student_steps"],
                        records=6, eval_rows=n - m),
                    Fit(partial(MLPEnsemble, (d, p, c), range(E), device=META), (n - m + conf["fresh"], d), 0))
        else:
            d, p, n, k = 64, conf["canary_p"], conf["canary_train"], conf["canary_count"]
            test = DIGITS_IMAGES - n
            fits = [Fit(partial(MLPEnsemble, (d, p, 10), [0], device=META), (n, d), conf["canary_teacher_steps"])]
            for trained, held in ((n - k, k), (n - k + int(conf["canary_rho"] * k), k - int(conf["canary_rho"] * k))):
                fits += [Fit(partial(MLPEnsemble, (d, p, 10), range(E), device=META), (trained, d),
                             conf["canary_student_steps"], records=6, eval_rows=held),
                         Fit(partial(MLPEnsemble, (d, p, 10), range(E), device=META), (test + held, d), 0)]
        out.append(Batch(f"{conf['part']}" + (f" α = {conf['alpha']:g}" if conf["part"] == "random" else ""), 1,
                         tuple(fits)))
    return out


def run(cfg: ReleaseConfig, *, cache_dir=None, progress: bool = True, device=None, workers: int | None = None
        ) -> dict[str, pd.DataFrame]:
    """Run chapter 8: ``{"random": …, "canary": …}``, one row per recipe, student init and teacher
    (and canary mode). Each (setting, teacher) is one cached batch: an interrupted run resumes."""
    device = resolve_device(device)
    workers = default_workers(device) if workers is None else workers
    out = run_sweep(partial(_batch, device=device), _configs(cfg), cache_dir=cache_dir, namespace=NAMESPACE,
                    desc="releases", progress=progress, workers=workers, cost=_cost)
    out = out if isinstance(out, dict) else {"random": out}
    for name in TABLES:
        t = out.get(name, pd.DataFrame())
        out[name] = t.drop(columns=[col for col in ("recipes", "part") if col in t], errors="ignore")
    return out


# ---------------------------------------------------------------------------------------------
# Claims (book findings). Every threshold is declared here, with where it comes from.
# ---------------------------------------------------------------------------------------------

LEAKS_WORD = audit.stats.LEAKS  # the audit's verdict word
#: how a "leaks" claim's second part reads the audit's null (softleak.audit.stats)
NULL_BASIS = ("the exposure gap, held-out − fresh mean log2(c) − log2(rank of the label), averaged over teachers, "
              "against the same mean with each teacher's held-out and fresh records permuted")
#: a leak is **stopped** when the advantage's 95 % interval over teachers lies at or below 5 % of the way
#: from trivial to perfect recovery: indistinguishable from trivial within that margin
STOPPED = 0.05
#: a release is **safe** by these measures when its leak is stopped and its membership AUC's interval lies at
#: or below 0.6 (0.5 is no signal)
SAFE_AUC = 0.6
LEAKS = 0.02  # "leaks": an advantage whose whole interval lies above 2 % (above trivial, not by a rounding)
JUMP_LEAK = 0.5  # the jump α's undefended release recovers at least half of what trivial leaves
HALF = 0.5  # the top-k hypothesis: keeping half of the entries keeps at most half of the leak
KEEPS = 0.8  # "still leaks": at least 80 % of the undefended advantage
COST = 0.1  # "blocking the leak costs utility": the best stopped recipe loses at least 10 points of utility
UTILITY_KEPT = 0.05  # a useful release: the student within 5 points of the teacher's test accuracy
RISING = 0.02  # a recipe's held-out accuracy still rising: up ≥ 2 points over the last fifth of the epochs
CONFIDENCE = 0.95
#: "the teachers memorize": the share of teachers at 100 % clears a half with 95 % confidence (its Clopper–Pearson
#: lower end), and fails when its upper end is below a half (6 of 6 teachers decide it, 3 of 3 do not)
FIT_LEVEL = 0.5

#: the random-label students' budget, when it is not chapter 5's paper budget (the ⚑ deviation "student budget")
BUDGET_POST_HOC = ("the random-label students' budget (student_steps epochs at student_lr) was set after a planning "
                   "probe of this preset; (d, c, p) and the lr are chapter 5's cpu choices, themselves post hoc")
#: claims whose setting or threshold was set after a planning probe of this chapter's cpu run
POST_HOC = {
    "random.round2_leaks": "rounding to 2 decimals chosen after a planning probe showed it kept the leak",
    "canary.released0.labels": "the claim's direction (a leak) was declared after a planning probe of the digits",
    "canary.released0.membership": "the claim's direction (a signal) was declared after a planning probe of the digits",
}


def stopped_rule(q: str) -> AtMost:
    return AtMost(q, STOPPED, "book", "within 5 % of the way from trivial to perfect", label=q, unit="pct")


def safe_rule(prefix: str) -> AllOf:
    return AllOf(stopped_rule(f"{prefix}.advantage"),
                 AtMost(f"{prefix}.auc", SAFE_AUC, "book", "0.5 is no membership signal", label=f"{prefix}.auc"))


def pareto_table(df: pd.DataFrame, utility: str, by: tuple[str, ...] = (), audits: pd.DataFrame | None = None
                 ) -> pd.DataFrame:
    """Per recipe (and ``by``): leakage, membership and utility with intervals over teachers, whether the leak
    is stopped and the release safe (the declared rules), whether the held-out accuracy was still rising, and
    (from ``audits``, the audit's analysis per teacher) for how many teachers the audit alone says "leaks"."""
    if df.empty:
        return pd.DataFrame()
    said = {}
    if audits is not None and not audits.empty:
        for key, g in audits.groupby([*by, "recipe"], sort=False):
            said[key if isinstance(key, tuple) else (key,)] = (int((g["verdict"] == LEAKS_WORD).sum()), len(g))
    rows = []
    for key, g in df.groupby([*by, "family", "recipe"], sort=False):
        key = key if isinstance(key, tuple) else (key,)
        ev = {"advantage": per_teacher(g, "advantage"), "auc": per_teacher(g, "auc", unit="num"),
              "utility": per_teacher(g, utility), "acc_heldout": per_teacher(g, "acc_heldout"),
              "trivial": per_teacher(g, "trivial")}
        decided = {"x.advantage": ev["advantage"], "x.auc": ev["auc"]}
        row = dict(zip([*by, "family", "recipe"], key))
        row.update({"knob": g["knob"].iloc[0], "defense": g["defense"].iloc[0], "tau": g["tau"].iloc[0],
                    "teachers": g["seed"].nunique()})
        for name, e in ev.items():
            row.update({name: e.value, f"{name}_low": e.low, f"{name}_high": e.high})
        row["stopped"] = stopped_rule("x.advantage").decide(decided).verdict == "reproduces"
        row["safe"] = safe_rule("x").decide(decided).verdict == "reproduces"
        row["still_rising"] = bool((g["acc_heldout"] - g["acc_heldout_80"]).mean() >= RISING)
        row["one_hot_share"] = float(g["one_hot_share"].mean()) if "one_hot_share" in g else float("nan")
        row["audit_leaks"], row["audit_teachers"] = said.get((*key[: len(by)], key[-1]), (0, 0))
        rows.append(row)
    return pd.DataFrame(rows)


def best_table(pareto: pd.DataFrame, base_recipe: str, by: tuple[str, ...] = ()) -> pd.DataFrame:
    """Per family: the most useful recipe whose leak is stopped, its utility and its cost against the
    undefended release (``base_recipe``); a family none of whose recipes stops the leak says so."""
    rows = []
    for key, g in pareto.groupby(list(by), sort=False) if by else [((), pareto)]:
        key = key if isinstance(key, tuple) else (key,)
        base = g[g["recipe"] == base_recipe]
        base_u = float(base["utility"].iloc[0]) if not base.empty else float("nan")
        for fam in FAMILIES:
            f = g[g["family"] == fam]
            if f.empty:
                continue
            ok = f[f["stopped"]]
            row = dict(zip(by, key))
            row["family"] = fam
            if ok.empty:
                row.update({"best stopped recipe": "none stops the leak", "utility": float("nan"), "utility cost": float("nan"),
                            "advantage": float("nan"), "safe": False})
            else:
                best = ok.loc[ok["utility"].idxmax()]
                row.update({"best stopped recipe": best["recipe"], "utility": best["utility"],
                            "utility cost": base_u - best["utility"], "advantage": best["advantage"], "safe": bool(best["safe"])})
            rows.append(row)
    return pd.DataFrame(rows)


SPECS = [
    ClaimSpec("random.teachers_fit", "The teachers memorize their random data (100 % of it) at both α",
              "not reported (chapter 5's setting)",
              AtLeast("random.teachers_fit", FIT_LEVEL, "book", "most teachers at 100 %, with 95 % confidence "
                      "(the Clopper–Pearson lower end of the share of teachers)", label="share of teachers at 100 %",
                      unit="pct"),
              kind="book"),
    ClaimSpec("random.jump_leaks", "Undefended (τ of chapter 5), the release at the jump α gives away most held-out labels",
              "the paper's Fig. 6 (large α): full recovery",
              AllOf(AtLeast("jump.base.advantage", JUMP_LEAK, "book", "at least half of what trivial leaves",
                            label="advantage at the jump α", unit="pct"),
                    BeyondNull("jump.base.null_p", NULL_BASIS, label="the audit's null, pooled over teachers")), kind="book"),
    ClaimSpec("random.weak_leaks", "Undefended, the release at the weak α still leaks some held-out labels",
              "the paper's Fig. 6 (small α): above chance",
              AllOf(Above("weak.base.advantage", LEAKS, "book", "above trivial by more than 2 %",
                          label="advantage at the weak α", unit="pct"),
                    BeyondNull("weak.base.null_p", NULL_BASIS, label="the audit's null, pooled over teachers")), kind="book"),
    ClaimSpec("random.hard_stops", "Releasing hard labels (the argmax only) stops the leak at both α",
              "not reported (the teacher's argmax is the label itself)",
              AllOf(stopped_rule("jump.hard.advantage"), stopped_rule("weak.hard.advantage")), kind="book"),
    ClaimSpec("random.topk_whole_vector",
              "The paper's top-k hypothesis (§5.2: the information 'sits in the whole vector'): keeping the top half of "
              "each soft label (k = c/2, renormalised) keeps at most half of the leak at the jump α",
              "a hypothesis, not measured (§5.2)",
              AllOf(Above("jump.base.advantage", LEAKS, "book", "a leak to halve: the undefended release leaks",
                          label="undefended advantage", unit="pct"),
                    AtMost("jump.topk_half.ratio", HALF, "book", "at most half of the undefended advantage",
                           label="advantage(top c/2) / advantage(undefended)", unit="num")), kind="book"),
    ClaimSpec("random.round2_leaks", "Rounding the soft labels to 2 decimals, a common output format, does not stop "
              "the leak at the jump α: it keeps most of it", "not reported",
              AllOf(Above("jump.base.advantage", LEAKS, "book", "a leak to keep: the undefended release leaks",
                          label="undefended advantage", unit="pct"),
                    AtLeast("jump.round2.ratio", KEEPS, "book", "at least 80 % of the undefended advantage",
                            label="advantage(round:2) / advantage(undefended)", unit="num")), kind="book"),
    ClaimSpec("random.no_free_defense", "At the jump α no recipe of the grid stops the leak without a large loss of "
              "utility (agreement with the teacher on fresh inputs)", "not reported",
              AtLeast("jump.cost", COST, "book", "the most useful stopped recipe loses at least 10 points; it is "
                      "chosen on the same teachers, so its interval is Bonferroni-corrected over the stopped recipes",
                      label="utility cost of the best stopped recipe", unit="pct"), kind="book"),
    ClaimSpec("random.jump_membership", "Undefended, the student's score separates held-out memorized records from "
              "fresh ones at the jump α (a membership signal)", "not reported",
              Above("jump.base.auc", SAFE_AUC, "book", "AUC 0.5 is no signal", label="membership AUC at the jump α"),
              kind="book"),
    ClaimSpec("canary.teachers_fit", "The digit teachers memorize every training image and every canary",
              "not reported",
              AtLeast("canary.teachers_fit", FIT_LEVEL, "book", "most teachers at 100 % of their training pool, with "
                      "95 % confidence (the Clopper–Pearson lower end of the share of teachers)",
                      label="share of teachers at 100 %", unit="pct"), kind="book"),
    ClaimSpec("canary.released0.labels", "Released on the real images alone (no canary released), the soft labels "
              "still give away canary labels", "not reported (the book's realistic question)",
              AllOf(Above("canary.released0.base.advantage", LEAKS, "book", "above trivial by more than 2 %",
                          label="canary advantage", unit="pct"),
                    BeyondNull("canary.released0.base.null_p", NULL_BASIS, label="the audit's null, pooled over teachers")), kind="book"),
    ClaimSpec("canary.released0.membership", "Released on the real images alone, the soft labels give away which "
              "training images were memorized with an odd label (membership of the canaries)", "not reported",
              Above("canary.released0.base.auc", SAFE_AUC, "book", "AUC 0.5 is no signal",
                    label="canary membership AUC"), kind="book"),
    ClaimSpec("canary.released_rho.labels", "With a fraction ρ of the canaries released too, the student recovers labels "
              "of the held-out canaries (the paper's mechanism on real data)", "the paper's §3 on random data",
              AllOf(Above("canary.released_rho.base.advantage", LEAKS, "book", "above trivial by more than 2 %",
                          label="held-out canary advantage", unit="pct"),
                    BeyondNull("canary.released_rho.base.null_p", NULL_BASIS, label="the audit's null, pooled over teachers")), kind="book"),
    ClaimSpec("canary.useful", "The undefended release is useful: the student's real test accuracy is within 5 points "
              "of the teacher's", "not reported",
              AtLeast("canary.released0.base.utility_gap", -UTILITY_KEPT, "book", "within 5 points of the teacher",
                      label="student − teacher test accuracy", unit="pct"), kind="book"),
    ClaimSpec("canary.hard_safe", "Releasing hard labels on the real images is safe by both measures (no canary "
              "label, no membership signal)", "not reported", safe_rule("canary.released0.hard"), kind="book"),
]


def _ratio(df: pd.DataFrame, recipe: str, base: str) -> Evidence:
    """advantage(recipe) / advantage(base), per teacher (inits averaged first), over teachers."""
    a = df.groupby(["seed", "recipe"])["advantage"].mean().unstack()
    if recipe not in a or base not in a:
        return Evidence.none(f"{recipe!r} not run at this preset")
    return Evidence.samples(a[recipe] / a[base], unit="num", of="teachers", detail=f"{recipe} against {base}")


def pooled_null(audits: pd.DataFrame, nulls: pd.DataFrame, recipe: str) -> Evidence:
    """The audit's null pooled over teachers for one recipe: the mean exposure gap over teachers against the mean
    of draw k over teachers, each teacher's held-out and fresh records permuted on their own (a null stratified by
    teacher; :func:`softleak.audit.stats.pooled_p`)."""
    t = audits[audits["recipe"] == recipe].set_index("seed")
    d = nulls[nulls["recipe"] == recipe]
    if t.empty or d.empty:
        return Evidence.none(f"{recipe!r} not audited at this preset")
    draws = d.pivot(index="seed", columns="draw", values=PRIMARY["records"]).loc[t.index]
    p = pooled_p(t[PRIMARY["records"]].to_numpy(), draws.to_numpy())
    alone = int((t["verdict"] == LEAKS_WORD).sum())
    return Evidence.permutation(p, n=len(t), of="teachers", detail=(
        f"{recipe}: exposure gap {t[PRIMARY['records']].mean():.3f} bits, mean over teachers, against {draws.shape[1]} "
        f"draws of the null permuting held-out and fresh records within each teacher; the audit alone says 'leaks' "
        f"for {alone} of {len(t)} teachers"))


def evidence(out: dict[str, pd.DataFrame], cfg: ReleaseConfig) -> tuple[dict[str, Evidence], dict[str, pd.DataFrame]]:
    rnd, can = out["random"], out["canary"]
    ra, rn = out.get("random_audit", pd.DataFrame()), out.get("random_null", pd.DataFrame())
    ca, cn = out.get("canary_audit", pd.DataFrame()), out.get("canary_null", pd.DataFrame())
    base, cbase = f"τ = {cfg.tau:g}", f"τ = {cfg.canary_tau:g}"
    ev: dict[str, Evidence] = {}
    tables: dict[str, pd.DataFrame] = {}
    if not rnd.empty:
        fits = rnd.groupby(["n", "seed"])["acc_star_T"].first()
        ev["random.teachers_fit"] = Evidence.share_of(fits >= 1.0, of="teachers")
        rnd = rnd.assign(regime=np.where(rnd["n"] == cfg.n_jump, "jump", "weak"))
        if not ra.empty:
            ra = ra.assign(regime=np.where(ra["n"] == cfg.n_jump, "jump", "weak"))
            rn = rn.assign(regime=np.where(rn["n"] == cfg.n_jump, "jump", "weak"))
            tables["audit"] = ra
        for regime in ("weak", "jump"):
            g = rnd[rnd["regime"] == regime]
            for name, recipe in (("base", base), ("hard", "hard")):
                sel = g[g["recipe"] == recipe]
                ev[f"{regime}.{name}.advantage"] = per_teacher(sel, "advantage", detail=recipe)
                ev[f"{regime}.{name}.auc"] = per_teacher(sel, "auc", unit="num", detail=recipe)
            if not ra.empty:
                ev[f"{regime}.base.null_p"] = pooled_null(ra[ra["regime"] == regime], rn[rn["regime"] == regime], base)
        jump = rnd[rnd["regime"] == "jump"]
        ev["jump.topk_half.ratio"] = _ratio(jump, f"topk:{cfg.c // 2}", base)
        ev["jump.round2.ratio"] = _ratio(jump, "round:2", base)
        pareto = pareto_table(rnd, "agreement", by=("regime",), audits=ra if not ra.empty else None)
        tables["pareto"] = pareto
        pj = pareto[pareto["regime"] == "jump"]
        ok = pj[pj["stopped"]]
        if ok.empty:
            ev["jump.cost"] = Evidence.none("no recipe stops the leak")
        else:
            best = ok.loc[ok["utility"].idxmax(), "recipe"]
            u = jump.groupby(["seed", "recipe"])["agreement"].mean().unstack()
            looks = len(ok)  # the stopped recipes whose utilities were compared to pick this one
            ev["jump.cost"] = Evidence.paired(u[base], u[best], unit="pct", of="teachers", looks=looks,
                                              detail=f"undefended − {best}, the most useful of the {looks} stopped "
                                                     "recipes, chosen on these teachers (Bonferroni over them)")
        tables["best"] = best_table(pareto, base, by=("regime",))
    if not can.empty:
        fits = can.groupby("seed")["acc_star_T"].first()
        ev["canary.teachers_fit"] = Evidence.share_of(fits >= 1.0, of="teachers")
        can = can.assign(utility_gap=can["acc_test"] - can["acc_test_real_T"])
        for mode in MODES:
            g = can[can["mode"] == mode]
            for name, recipe in (("base", cbase), ("hard", "hard")):
                sel = g[g["recipe"] == recipe]
                ev[f"canary.{mode}.{name}.advantage"] = per_teacher(sel, "advantage", detail=recipe)
                ev[f"canary.{mode}.{name}.auc"] = per_teacher(sel, "auc", unit="num", detail=recipe)
                ev[f"canary.{mode}.{name}.utility_gap"] = per_teacher(sel, "utility_gap", detail=recipe)
            if not ca.empty:
                ev[f"canary.{mode}.base.null_p"] = pooled_null(ca[ca["mode"] == mode], cn[cn["mode"] == mode], cbase)
        if not ca.empty:
            tables["canary_audit"] = ca
        cp = pareto_table(can, "acc_test", by=("mode",), audits=ca if not ca.empty else None)
        tables["canary_pareto"] = cp
        tables["canary_best"] = best_table(cp, cbase, by=("mode",))
    return ev, tables


def _budget_is_post_hoc(cfg: ReleaseConfig) -> bool:
    paper = PRESETS["paper"]
    return (cfg.student_steps, cfg.student_lr) != (paper.student_steps, paper.student_lr)


def post_hoc(claim_id: str, cfg: ReleaseConfig) -> str:
    """The settings chosen after a planning probe that decide this claim ('' if none): the claim's own
    (:data:`POST_HOC`) and, for every claim that reads the random-label students, their budget when it is not
    chapter 5's paper budget."""
    parts = [POST_HOC.get(claim_id, "")]
    if claim_id.startswith("random.") and claim_id != "random.teachers_fit" and _budget_is_post_hoc(cfg):
        parts.append(BUDGET_POST_HOC)
    return "; ".join(p for p in parts if p)


def reads(cfg: ReleaseConfig) -> dict[str, tuple[tuple[str, str, str], ...]]:
    """Per claim, the students it reads: (setting, regime or mode, recipe; "*" for every recipe of the grid)."""
    base, cbase = f"τ = {cfg.tau:g}", f"τ = {cfg.canary_tau:g}"
    jump = ("random", "jump", base)
    return {
        "random.jump_leaks": (jump,), "random.jump_membership": (jump,),
        "random.weak_leaks": (("random", "weak", base),),
        "random.hard_stops": (("random", "jump", "hard"), ("random", "weak", "hard")),
        "random.topk_whole_vector": (jump, ("random", "jump", f"topk:{cfg.c // 2}")),
        "random.round2_leaks": (jump, ("random", "jump", "round:2")),
        "random.no_free_defense": (("random", "jump", "*"),),
        "canary.released0.labels": (("canary", "released0", cbase),),
        "canary.released0.membership": (("canary", "released0", cbase),),
        "canary.released_rho.labels": (("canary", "released_rho", cbase),),
        "canary.useful": (("canary", "released0", cbase),), "canary.hard_safe": (("canary", "released0", "hard"),),
    }


def _unfit_teachers(out: dict[str, pd.DataFrame], cfg: ReleaseConfig) -> dict[tuple[str, str], list[str]]:
    """Per (setting, regime or mode), the teachers below 100 % of their training data."""
    bad: dict[tuple[str, str], list[str]] = {}
    rnd, can = out["random"], out["canary"]
    for (n, s), a in (rnd.groupby(["n", "seed"])["acc_star_T"].first().items() if not rnd.empty else []):
        regime = "jump" if n == cfg.n_jump else "weak"
        if not a >= 1.0:
            bad.setdefault(("random", regime), []).append(f"{regime}-α teacher of seed {s} at {fmt(a, 'pct')}")
    for s, a in (can.groupby("seed")["acc_star_T"].first().items() if not can.empty else []):
        for mode in MODES if not a >= 1.0 else ():
            bad.setdefault(("canary", mode), []).append(f"digit teacher of seed {s} at {fmt(a, 'pct')}")
    return bad


def unconverged(out: dict[str, pd.DataFrame], tables: dict[str, pd.DataFrame], cfg: ReleaseConfig
                ) -> dict[str, list[str]]:
    """Per claim, the runs it reads that did not reach their stopping condition: a teacher below 100 % of its data
    (the setting's premise) and a recipe whose students' held-out accuracy was still rising (:data:`RISING` over
    the last fifth of the budget). Such a claim is inconclusive (not converged)."""
    bad = _unfit_teachers(out, cfg)
    for part, name, by in (("random", "pareto", "regime"), ("canary", "canary_pareto", "mode")):
        t = tables.get(name, pd.DataFrame())
        for group, recipe in (t.loc[t["still_rising"], [by, "recipe"]].itertuples(index=False) if not t.empty else []):
            bad.setdefault((part, group, recipe), []).append(f"{part} {group}: {recipe}'s students still rising")
    found = {}
    for cid, cells in reads(cfg).items():
        runs = [r for part, group, recipe in cells for key, rs in bad.items() for r in rs
                if key[:2] == (part, group) and (len(key) == 2 or recipe in ("*", key[2]))]
        found[cid] = list(dict.fromkeys(runs))
    return found


def summarize(out: dict[str, pd.DataFrame], cfg: ReleaseConfig):
    """Chapter 8's claims, the metrics the page glues and ``claims.json`` records, and its tables."""
    out = {k: out.get(k, pd.DataFrame()) for k in TABLES}
    ev, tables = evidence(out, cfg)
    bad = unconverged(out, tables, cfg)
    claims = [not_converged(s.check(ev, post_hoc=post_hoc(s.id, cfg)), bad.get(s.id, [])) for s in SPECS]
    metrics = evidence_metrics(ev)
    metrics["num_unconverged_claims"] = sum(c.note.startswith("not converged") for c in claims)
    pareto = tables.get("pareto", pd.DataFrame())
    for regime, prefix in (("jump", "pareto"), ("weak", "pareto_weak")):
        p = pareto[pareto["regime"] == regime] if not pareto.empty else pareto
        for fam, g in p.groupby("family", sort=False) if not p.empty else []:
            key = f"{prefix}.{fam.replace(' ', '_').replace('-', '')}"
            metrics[f"{key}.knob"] = [None if not math.isfinite(k) else k for k in g["knob"]]
            metrics[f"{key}.recipe"] = g["recipe"].tolist()
            metrics[f"{key}.leakage"] = g["advantage"].tolist()
            metrics[f"{key}.utility"] = g["utility"].tolist()
    can = out["canary"]
    if not can.empty:
        base = f"τ = {cfg.canary_tau:g}"
        for mode in MODES:
            g = can[(can["mode"] == mode) & (can["recipe"] == base)]
            metrics[f"canary.{mode}.acc_canary_S"] = float(g["acc_heldout"].mean())
            metrics[f"canary.{mode}.trivial"] = float(g["trivial"].mean())
            metrics[f"canary.{mode}.acc_test_real_S"] = float(g["acc_test"].mean())
            metrics[f"canary.{mode}.auc"] = float(g["auc"].mean())
            metrics[f"canary.{mode}.tpr_at_5pct_fpr"] = float(g["tpr@5%"].mean())
        metrics["canary.mia.auc"] = metrics["canary.released0.auc"]
        metrics["canary.acc_test_real_T"] = float(can.groupby("seed")["acc_test_real_T"].first().mean())
        metrics["canary.teacher_steps"] = int(can["teacher_steps"].max())
        metrics["canary.num_heldout_released0"] = int(cfg.canary_count)
        metrics["canary.num_fresh"] = int(can["num_nonmembers"].iloc[0])
        cp = tables["canary_pareto"]
        for mode in MODES:
            metrics[f"canary.{mode}.safe_recipes"] = cp.loc[(cp["mode"] == mode) & cp["safe"], "recipe"].tolist()
            metrics[f"canary.{mode}.num_still_rising"] = int(cp.loc[cp["mode"] == mode, "still_rising"].sum())
        for mode in MODES:
            for fam, g in cp[cp["mode"] == mode].groupby("family", sort=False):
                key = f"canary_pareto.{mode}.{fam.replace(' ', '_').replace('-', '')}"
                metrics[f"{key}.leakage"] = g["advantage"].tolist()
                metrics[f"{key}.utility"] = g["utility"].tolist()
    if not pareto.empty:
        pj = pareto[pareto["regime"] == "jump"]
        stops = pj[(pj["family"] == "top-k") & pj["stopped"]]
        metrics["topk.k_stop"] = float(stops["knob"].max()) if not stops.empty else None
        metrics["topk.k_stop_utility"] = float(stops.loc[stops["knob"].idxmax(), "utility"]) if not stops.empty else None
        metrics["random.safe_recipes"] = pj.loc[pj["safe"], "recipe"].tolist()
        if "audit_leaks" in pj:
            every = pj["stopped"] & (pj["audit_teachers"] > 0) & (pj["audit_leaks"] == pj["audit_teachers"])
            metrics["random.stopped_but_audit_leaks"] = pj.loc[every, "recipe"].tolist()
        metrics["random.num_still_rising"] = int(pareto["still_rising"].sum())
        metrics["random.base_utility"] = float(pj.loc[pj["recipe"] == f"τ = {cfg.tau:g}", "utility"].iloc[0])
    metrics["rho"] = cfg.rho
    metrics["canary_rho"] = cfg.canary_rho
    return claims, metrics, tables


def topk_reading(metrics: dict, cfg: ReleaseConfig) -> str:
    """The answer to §5.2's top-k question, generated from the metrics (Markdown)."""
    k, u, base = metrics.get("topk.k_stop"), metrics.get("topk.k_stop_utility"), metrics.get("random.base_utility")
    if base is None:
        return "The top-k recipes did not run at this preset."
    if k is None:
        return (f"At the jump α no top-k of the grid (k ∈ {{{_vals(cfg.topks)}}} of c = {cfg.c}) stops the leak; the "
                f"undefended release's utility is {fmt(base, 'pct')}.")
    return (f"At the jump α the largest k of the grid whose leak is stopped is k = {k:g} of c = {cfg.c}, at a utility "
            f"of {fmt(u, 'pct')} against {fmt(base, 'pct')} for the undefended release: to stop the leak, top-k must "
            f"keep {'almost nothing but the argmax' if k <= 2 else f'at most {k:g} entries'}.")


def reading(claims, metrics: dict, cfg: ReleaseConfig) -> str:
    """What the run shows, generated from the verdicts and the metrics (Markdown)."""
    by = {cl.id: cl for cl in claims}
    safe = metrics.get("random.safe_recipes") or []
    text = []
    if "random.no_free_defense" in by and by["random.no_free_defense"].verdict != "untested":
        text.append(f"At the jump α the recipes that are safe by both measures are: {', '.join(safe) or 'none'}.")
        k = metrics.get("topk.k_stop")
        text.append(f"Top-k stops the leak only from k = {k:g} down (of c = {cfg.c})." if k else
                    "No top-k of the grid stops the leak at the jump α.")
    verdict = by.get("canary.released0.labels")
    if verdict is not None and verdict.verdict != "untested":
        word = {"reproduces": "does give away", "fails": "does not give away", "inconclusive": "may give away"}[verdict.verdict]
        text.append(f"A release on the real digits alone {word} canary labels: the student names "
                    f"{fmt(metrics.get('canary.released0.acc_canary_S', float('nan')), 'pct')} of the canaries' labels "
                    f"against a trivial {fmt(metrics.get('canary.released0.trivial', float('nan')), 'pct')}, with a membership "
                    f"AUC of {metrics.get('canary.mia.auc', float('nan')):.2f}.")
    csafe = metrics.get("canary.released0.safe_recipes")
    if csafe is not None:
        text.append(f"On the digits with no canary released, the recipes safe by both measures are: {', '.join(csafe) or 'none'}.")
    flagged = metrics.get("random.stopped_but_audit_leaks") or []
    if flagged:
        text.append(f"The advantage rule calls the leak of {', '.join(flagged)} stopped at the jump α (within 5 % of "
                    "trivial), yet the audit says 'leaks' for every teacher: the students still rank the held-out "
                    "labels above fresh ones (the exposure gap), a residue the accuracy does not show. 'Stopped' is a "
                    "margin, not an absence.")
    rising = (metrics.get("random.num_still_rising") or 0) + sum(metrics.get(f"canary.{m}.num_still_rising") or 0 for m in MODES)
    if rising:
        text.append(f"{rising} recipe(s) were still gaining held-out accuracy in the last fifth of the student budget "
                    "(marked in the tables): with a longer budget they may leak more than shown.")
    return " ".join(text)


# ---------------------------------------------------------------------------------------------
# The page's tables and the worked audit example
# ---------------------------------------------------------------------------------------------

def example_teacher(cfg: ReleaseConfig) -> digit_example.DigitTeacher:
    """The worked example's digit teacher at this chapter's canary settings."""
    return digit_example.DigitTeacher(count=cfg.canary_count, train=cfg.canary_train, hidden=cfg.canary_p,
                                      lr=cfg.canary_teacher_lr, steps=cfg.canary_teacher_steps, tau=cfg.canary_tau)


def write_example(cfg: ReleaseConfig, folder, *, memorize: bool = True, seed: int | None = None, device=None
                  ) -> dict[str, Path]:
    """Write the files a user of ``python -m softleak.audit`` would have (:func:`softleak.audit.example.write_files`)
    from the first canary teacher of this chapter (``memorize=True``: it is the chapter's own teacher of that
    seed) or from a teacher of the same shape that never sees the canaries. Returns the paths by flag."""
    return digit_example.write_files(folder, memorize=memorize, seed=cfg.canary_seeds[0] if seed is None else seed,
                                     teacher=example_teacher(cfg), device=device)


def audit_command(cfg: ReleaseConfig, paths: dict[str, Path], out: Path, *, inits: int = 2) -> list[str]:
    """The ``python -m softleak.audit`` arguments a user would give on :func:`write_example`'s files: the undefended
    release and hard labels at the canary setting's τ, with the chapter's student, writing the JSON to ``out``;
    the audit's bootstrap and null at the chapter's sizes."""
    return [*digit_example.command(paths, tau=cfg.canary_tau, hidden=cfg.canary_p, lr=cfg.canary_student_lr,
                                   epochs=cfg.canary_student_steps, inits=inits, out=out),
            "--bootstrap", str(cfg.audit_bootstrap), "--null", str(cfg.audit_null)]


#: the worked example's two teachers: label -> (folder, whether it memorizes the canaries)
EXAMPLE_TEACHERS = {"memorizes the canaries": ("memorizes", True), "never sees them": ("never_sees", False)}


def audit_examples(cfg: ReleaseConfig, folder, *, inits: int = 2) -> dict[str, dict]:
    """The worked example as a user runs it: for each of :data:`EXAMPLE_TEACHERS`, its files
    (:func:`write_example`), then ``python -m softleak.audit … --fail-on-leak`` in a subprocess. Returns per teacher
    ``{"report": the JSON report, "status": the exit status, "command": the arguments, "stdout": what it printed}``.

    Raises:
        RuntimeError: the command line failed (an exit status other than 0 or 3), with its stderr.
    """
    import json
    import subprocess
    import sys

    out = {}
    for label, (name, memorize) in EXAMPLE_TEACHERS.items():
        where = Path(folder) / name
        args = [*audit_command(cfg, write_example(cfg, where, memorize=memorize), where / "report.json", inits=inits),
                "--quiet", "--fail-on-leak"]
        done = subprocess.run([sys.executable, "-m", "softleak.audit", *args], capture_output=True, text=True)
        if done.returncode not in (audit.EXIT_OK, audit.EXIT_LEAKS):
            raise RuntimeError(f"python -m softleak.audit failed for the teacher that {label}: {done.stderr}")
        out[label] = {"report": json.loads((where / "report.json").read_text()), "status": done.returncode,
                      "command": args, "stdout": done.stdout}
    return out


def example_metrics(examples: dict[str, dict]) -> dict[str, object]:
    """The page's numbers of :func:`audit_examples`: per teacher the undefended recipe's verdict, its p-value and
    the command's exit status."""
    metrics = {}
    for label, (name, _) in EXAMPLE_TEACHERS.items():
        first = examples[label]["report"]["recipes"][0]
        metrics.update({f"example.{name}.verdict": first["verdict"], f"example.{name}.p_value": first["p_value"],
                        f"example.{name}.exit_status": examples[label]["status"]})
    return metrics


def results_table(out: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Both settings' runs and the audit's analysis per teacher and recipe as one tidy table (``part``: random,
    canary, random_audit or canary_audit), for ``table.parquet``; the null draws are left out (their seeds are
    recorded and they are cheap to draw again)."""
    table = pd.concat([out[name].assign(part=name) for name in ("random", "canary", "random_audit", "canary_audit")
                       if name in out and not out[name].empty], ignore_index=True)
    table.attrs["cache"] = out["random"].attrs.get("cache") if "random" in out else None
    return table


def _vals(values) -> str:
    return ", ".join(f"{v:g}" for v in values)


DEVIATIONS = (
    Deviation("the question", "none: the paper warns (§1, §6) and hypothesises about top-k (§5.2)",
              lambda cfg: "leakage, membership and utility per release recipe",
              "a book extension; every claim is a book finding"),
    Deviation("random setting (d, c, p)", "chapter 5's (1000, 100, 500)", lambda cfg: f"({cfg.d}, {cfg.c}, {cfg.p})",
              "chapter 5's sizes at each preset"),
    Deviation("α (weak, jump)", "Fig. 6: a small and a large α", lambda cfg: f"{cfg.weak_alpha:g}, {cfg.jump_alpha:g}",
              "chapter 5's Fig. 6 α values: a little leak, and the jump to full recovery"),
    Deviation("student budget", "10 000 epochs at lr 10⁻⁴ (chapter 5)",
              lambda cfg: f"{cfg.student_steps} epochs at lr {cfg.student_lr:g}",
              "chapter 5's cpu lr; a shorter budget (the undefended jump finishes within 1000 epochs in a planning probe): "
              "a recipe that only slows the leak may leak more with a longer budget, so recipes still rising in the "
              "last fifth are marked", post_hoc=True),
    Deviation("released fraction ρ", "any", "rho", "a large release, where chapter 5's student jumps at the large α"),
    Deviation("top-k grid", "k not stated (§5.2's hypothesis)", "topks", "from 2 entries to most of the vector, with c/2"),
    Deviation("canary data", "none (the paper's data are random)",
              lambda cfg: f"digits: {cfg.canary_train} training images of which {cfg.canary_count} canaries, the rest test",
              "a real data set that ships with scikit-learn; nothing is downloaded"),
    Deviation("canary labels", "—", lambda cfg: "a random wrong label per canary",
              "a wrong label cannot be recovered by generalising from the real images: only memorized knowledge names it"),
    Deviation("canary τ", "—", "canary_tau", "a temperature at which the digit teacher's soft labels are not one-hot"),
    Deviation("canary student budget", "—", lambda cfg: f"{cfg.canary_student_steps} epochs at lr {cfg.canary_student_lr:g}",
              "enough for the students' real test accuracy to reach the teacher's in a planning probe; the canary leak "
              "may still be rising (marked in the table)"),
)


def config_table(cfg: ReleaseConfig) -> pd.DataFrame:
    rows = {
        "random: (d, c, p)": f"({cfg.d}, {cfg.c}, {cfg.p}); α ∈ {{{cfg.weak_alpha:g}, {cfg.jump_alpha:g}}} "
                             f"(n = {cfg.n_weak}, {cfg.n_jump}); ρ = {cfg.rho:g} released",
        "random: teacher": f"Adam {cfg.teacher_lr:g} × {cfg.teacher_steps} on hard labels",
        "random: students": f"{cfg.d} → {cfg.p} → {cfg.c}, Adam {cfg.student_lr:g} × {cfg.student_steps}, {cfg.inits} inits "
                            f"per recipe; teachers (seeds) {', '.join(map(str, cfg.seeds))}; {cfg.fresh} fresh records",
        "random: recipes": f"τ ∈ {{{_vals(cfg.taus)}}}; at τ = {cfg.tau:g}: top-k k ∈ {{{_vals(cfg.topks)}}}, rounding "
                           f"b ∈ {{{_vals(cfg.rounds)}}}, quantisation bits ∈ {{{_vals(cfg.quants)}}}, logit noise σ ∈ "
                           f"{{{_vals(cfg.noises)}}}, hard labels, {', '.join(cfg.combos) or 'no combinations'}",
        "canary: data": f"digits, {cfg.canary_train} training images ({cfg.canary_count} canaries), "
                        f"{1797 - cfg.canary_train} test images; ρ = {cfg.canary_rho:g} of the canaries in the second mode",
        "canary: teacher": f"64 → {cfg.canary_p} → 10, Adam {cfg.canary_teacher_lr:g} until 100 % (at most "
                           f"{cfg.canary_teacher_steps})",
        "canary: students": f"64 → {cfg.canary_p} → 10, Adam {cfg.canary_student_lr:g} × {cfg.canary_student_steps}, "
                            f"{cfg.canary_inits} init(s); teachers {', '.join(map(str, cfg.canary_seeds))}",
        "canary: recipes": f"τ ∈ {{{_vals(cfg.canary_taus)}}}; at τ = {cfg.canary_tau:g}: top-k {{{_vals(cfg.canary_topks)}}}, "
                           f"rounding {{{_vals(cfg.canary_rounds)}}}, quantisation {{{_vals(cfg.canary_quants)}}}, noise "
                           f"{{{_vals(cfg.canary_noises)}}}, hard labels",
    }
    return pd.DataFrame({"value": rows})


register(NAMESPACE, sys.modules[__name__])
