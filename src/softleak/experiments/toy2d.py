"""Chapter 1: random labels on 2D inputs (paper Fig. 1 and Fig. 8; spec §1).

For each random dataset: a teacher memorizes D*^T (trained until 100 % accuracy, capped), the set
is split globally into D_train^S (ρ = 0.6) and D_test^S, and two kinds of students train on
D_train^S from the same initialisations: ``hard`` (the true labels only: independent of the
teacher) and ``soft`` (the teacher's soft labels at τ). All datasets of one case, their teachers
and all their students train together in the ensemble trainer.

Seeds: a dataset seed ``s`` is split by role with :func:`softleak.runtime.derive_seed`: data,
teacher_init, split, and student_init (index k for the k-th initialisation; hard and soft students
with the same k share it). The showcase dataset is the authors' own: its data are drawn with the
raw seed 13 (``torch.manual_seed(13)``, then ``X = 2 * torch.rand(60, 2) - 1`` and
``y = torch.randint(0, c, (60,))`` from the same stream), its other roles derived as above. All
seeds are columns of the results table.
"""

from __future__ import annotations

import sys

import dataclasses
from dataclasses import dataclass
from functools import partial

import numpy as np
import pandas as pd
import torch

from ..claims import Claim, Deviation
from ..chapters import register
from ..config import check_fraction, check_nonnegative_int, check_positive, check_positive_int, check_seeds
from ..data import split_student, toy_2d
from ..distillation import one_hot, soft_labels
from ..metrics import accuracy, agreement, predictions
from ..models import MLPEnsemble
from ..config import replace_checked
from ..rules import (MOST_RUNS, AllOf, Above, AtLeast, ClaimSpec, Equivalent, Evidence, Within, evidence_metrics,
                     fmt, not_converged, per_teacher)
from ..runtime import derive_seed, resolve_device
from ..plan import META, Batch, Fit
from ..sweeps import default_workers, group_batches, run_sweep
from ..training import fit

NAMESPACE = "01_toy_2d"
STUDENT_KINDS = ("hard", "soft")


@dataclass(frozen=True)
class ToyCase:
    """One panel of the paper: a class count and the settings that go with it (spec §1.3, §1.4)."""

    c: int  # number of classes: 3 (Fig. 1) or 20 (Fig. 8)
    p: int  # hidden width: 150 for c = 3 (authors' code; the paper says 100), 300 for c = 20
    tau: float  # 10 for c = 3 (code; the paper is silent), 20 for c = 20 (paper and code)
    student_lr: float  # 1e-3 for c = 3, 1e-2 for c = 20 (code)
    n: int = 60  # |D*^T|: 60 points for both c (code)
    rho: float = 0.6  # 36 / 24 global split (paper and code)
    teacher_lr: float = 1e-3
    teacher_max_steps: int = 20_000  # train until 100 % on D*^T (paper panel A), with a cap
    student_steps: int = 4000  # code: 4000 epochs for both students

    def __post_init__(self) -> None:
        for name in ("c", "p", "n", "teacher_max_steps", "student_steps"):
            check_positive_int(name, getattr(self, name))
        if self.c < 2:
            raise ValueError(f"c={self.c} is not allowed: c must be >= 2")
        for name in ("tau", "student_lr", "teacher_lr"):
            check_positive(name, getattr(self, name))
        check_fraction("rho", self.rho)
        if not 1 <= int(self.rho * self.n) < self.n:
            raise ValueError(f"rho={self.rho} is not allowed for n={self.n}: both student sets need a point")


@dataclass(frozen=True)
class Toy2DConfig:
    """Everything chapter 1 runs."""

    cases: tuple[ToyCase, ...]
    showcase_seed: int = 13  # the figures' dataset: the authors' draw, torch.manual_seed(13) then X, y
    seeds: tuple[int, ...] = tuple(range(100, 150))  # 50 further datasets (20 left the c = 3 claims inconclusive)
    num_student_inits: int = 5  # student initialisations per further dataset (paper: "5 runs")
    showcase_inits: int = 20  # on the authors' dataset: more than the paper's 5, for an interval that decides
    grid_size: int = 100  # decision regions on a grid_size² grid over [-1, 1]² (code: 100)

    def __post_init__(self) -> None:
        if not self.cases:
            raise ValueError("cases=() is not allowed: give at least one ToyCase")
        check_nonnegative_int("showcase_seed", self.showcase_seed)
        check_seeds("seeds", self.seeds)
        if self.showcase_seed in self.seeds:
            raise ValueError(f"showcase_seed={self.showcase_seed} must not be one of seeds={self.seeds}")
        check_positive_int("num_student_inits", self.num_student_inits)
        check_positive_int("showcase_inits", self.showcase_inits)
        check_positive_int("grid_size", self.grid_size)
        if len({case.c for case in self.cases}) != len(self.cases):
            raise ValueError("cases must have distinct c")


C3 = ToyCase(c=3, p=150, tau=10.0, student_lr=1e-3)
C20 = ToyCase(c=20, p=300, tau=20.0, student_lr=1e-2)
PRESETS = {
    "smoke": Toy2DConfig(
        cases=(
            dataclasses.replace(C3, teacher_max_steps=300, student_steps=150),
            dataclasses.replace(C20, teacher_max_steps=300, student_steps=150),
        ),
        seeds=(100, 101, 102),
        num_student_inits=2,
        showcase_inits=2,
        grid_size=40,
    ),
    "cpu": Toy2DConfig(cases=(C3, C20)),  # the experiment is tiny: full size (spec §1.9)
    "paper": Toy2DConfig(cases=(C3, C20)),
}


def apply_overrides(cfg: Toy2DConfig, **overrides) -> Toy2DConfig:
    """Override top-level fields, or :class:`ToyCase` fields in every case (e.g. ``student_steps``)."""
    case_fields = {f.name for f in dataclasses.fields(ToyCase)} - {"c"}
    case_changes = {k: overrides.pop(k) for k in list(overrides) if k in case_fields}
    if case_changes:
        overrides["cases"] = tuple(replace_checked(case, **case_changes) for case in cfg.cases)
    return replace_checked(cfg, **overrides)


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
        teacher, X, y, steps=case.teacher_max_steps, lr=case.teacher_lr, stop_at_acc=1.0,
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
        t_grid = teacher(G)  # (T, c, g²)
        s_grid = student(G)  # (E, c, g²)
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
    return run_sweep(
        partial(_run_batch, device=device), _configs(cfg), cache_dir=cache_dir, namespace=NAMESPACE,
        batch_key=_batch_key, progress=progress, desc="datasets",
        workers=default_workers(device) if workers is None else workers,
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


def _batch_key(conf: dict) -> int:
    return conf["c"]  # all datasets of a case train together


PLAN_NOTES = ("teachers train until they fit their data, at most teacher_max_steps epochs: the plan counts the cap",)


def plan(cfg: Toy2DConfig) -> list[Batch]:
    """The batches :func:`run` trains, for :mod:`softleak.plan`: per case, the teachers, the students and the grid."""
    configs = _configs(cfg)
    out = []
    for idx in group_batches(configs, _batch_key):
        b = [configs[i] for i in idx]
        case, T = b[0], len(b)
        E = 2 * sum(conf["num_student_inits"] for conf in b)
        n_train = int(case["rho"] * case["n"])
        sizes, g2 = (2, case["p"], case["c"]), case["grid_size"] ** 2
        out.append(Batch(f"case c = {case['c']}", T, (
            Fit(partial(MLPEnsemble, sizes, range(T), device=META), (T, case["n"], 2), case["teacher_max_steps"]),
            Fit(partial(MLPEnsemble, sizes, range(E), device=META), (E, n_train, 2), case["student_steps"],
                eval_rows=case["n"]),
            Fit(partial(MLPEnsemble, sizes, range(E + T), device=META), (g2, 2), 0),  # the decision regions
        )))
    return out


# ---------------------------------------------------------------------------------------------
# Claims, one function per figure. Every threshold is declared here, with where it comes from.
# ---------------------------------------------------------------------------------------------

PAPER = {  # the paper's reported numbers (spec §1.6): held-out accuracy of each student
    3: {"hard": 0.30, "soft": 0.50},
    20: {"hard": 0.06, "soft": 0.66},
}
SHOWCASE_TOLERANCE = 0.10  # the authors' dataset, our run: within 10 points of the paper's number
# "trivial accuracy of ∼ 30 %" (c = 3) / "close to trivial accuracy of ∼ 6 %" (c = 20): the paper's number with a
# band that holds chance and no more (c = 3: 25–35 %, chance 33.3 %; c = 20: 3–9 %, chance 5 %, under twice chance)
TRIVIAL_TOLERANCE = {3: 0.05, 20: 0.03}
GAP_TOLERANCE = 0.05  # soft − independent must reach the paper's gap (20 points for c = 3, 60 for c = 20) less 5 points
PAPER_WORDS = {  # the paper's sentence for each class count (Fig. 1 and Fig. 8 captions)
    3: "'While the independent model only achieves trivial accuracy of ∼ 30 %, students that fit the teacher's "
       "soft labels achieve non-trivial test accuracy of ∼ 50 %' (Fig. 1)",
    20: "'While the independently trained model only achieves close to trivial accuracy of ∼ 6 %, students that fit "
        "the teacher's soft labels achieve non-trivial test accuracy of ∼ 66 %' (Fig. 8)",
}
CHANCE_BAND = 0.05  # "at chance": the interval over datasets within 5 points of 1/c
GRID_AGREEMENT = 0.75  # "correspond very well": the soft student agrees with the teacher on ¾ of the plane
GRID_GAIN = 0.10  # ... and on at least a tenth of the plane more than the independent student
AUTHORS_TEACHER_EPOCHS = 4000  # the authors' fixed teacher budget for c = 3 (spec §1.4)

DEVIATIONS = (
    Deviation("hidden width p, c = 3", "100 (paper text)", "cases.0.p",
              "the authors' code uses 150, and the paper's figure was made with it"),
    Deviation("temperature τ, c = 3", "not stated", "cases.0.tau", "the authors' code"),
    Deviation("teacher training", "until 100 % on D*^T (panel A); code: 4000 epochs",
              lambda cfg: f"until 100 %, at most {cfg.cases[0].teacher_max_steps} epochs",
              "the fixed 4000 epochs leave some teachers short of the 100 % the paper states"),
    Deviation("teacher init and split of the showcase dataset", "drawn from the authors' global torch stream",
              lambda cfg: "seeded by role from data seed 13",
              "seeds are explicit per role in this book; the data themselves are the authors' draw"),
    Deviation("datasets", "one (student initialisations vary)", lambda cfg: f"1 + {len(cfg.seeds)}",
              "the further datasets give intervals the verdicts can rest on; 50 rather than 20 because a run "
              "with 20 left the c = 3 verdicts inconclusive", post_hoc=True),
    Deviation("student initialisations on the authors' dataset", "5", "showcase_inits",
              "an interval over 5 initialisations was too wide to compare with the paper's number", post_hoc=True),
)
PAPER_INITS, FIRST_DATASETS = 5, 20  # the paper's initialisations; the datasets of the first cpu run


def _case_specs(c: int) -> list[ClaimSpec]:
    chance, paper = 1.0 / c, PAPER[c]
    paper_gap = paper["soft"] - paper["hard"]
    trivial = TRIVIAL_TOLERANCE.get(c, SHOWCASE_TOLERANCE / 2)
    return [
        ClaimSpec(
            f"c{c}.showcase_soft",
            f"c = {c}, the authors' dataset: the soft-label student recovers about the paper's share of held-out labels",
            f"≈ {fmt(paper['soft'], 'pct')} (mean over 5 inits)",
            Within.around(f"c{c}.show.soft", paper["soft"], SHOWCASE_TOLERANCE, "paper",
                          f"the paper's ≈ {fmt(paper['soft'], 'pct')} ± {fmt(SHOWCASE_TOLERANCE, 'pct')}",
                          label="soft acc_test_S (showcase)", unit="pct"),
        ),
        ClaimSpec(
            f"c{c}.showcase_independent",
            f"c = {c}, the authors' dataset: the independent student only reaches the trivial accuracy the paper reports",
            f"{PAPER_WORDS.get(c, '')} (chance {fmt(chance, 'pct')})",
            Within.around(f"c{c}.show.hard", paper["hard"], trivial, "paper",
                          f"'trivial accuracy of ∼ {fmt(paper['hard'], 'pct')}': ± {fmt(trivial, 'pct')}, a band that "
                          f"holds chance ({fmt(chance, 'pct')}) and not a student well below it",
                          label="independent acc_test_S (showcase)", unit="pct"),
        ),
        ClaimSpec(
            f"c{c}.soft_beats_independent",
            f"c = {c}: the soft-label student recovers far more held-out labels than the independent student",
            f"{PAPER_WORDS.get(c, '')}: a gap of {fmt(paper_gap, 'pct')}",
            AtLeast(f"c{c}.gap", paper_gap - GAP_TOLERANCE, "paper",
                    f"the paper's gap of {fmt(paper_gap, 'pct')} less {fmt(GAP_TOLERANCE, 'pct')}",
                    label="soft − independent acc_test_S, paired over datasets", unit="pct"),
        ),
        ClaimSpec(
            f"c{c}.independent_at_chance",
            f"c = {c}: the independent student, which never sees a teacher, is at chance on D_test^S",
            f"≈ {fmt(paper['hard'], 'pct')} (chance {fmt(chance, 'pct')})",
            Equivalent.margin(f"c{c}.datasets.hard", chance, CHANCE_BAND, "chance",
                              f"1/c = {fmt(chance, 'pct')}, a book margin of {fmt(CHANCE_BAND, 'pct')}",
                              label="independent acc_test_S over datasets", unit="pct"),
        ),
        ClaimSpec(
            f"c{c}.boundaries_follow_teacher",
            f"c = {c}: the soft-label student's decision boundaries follow the teacher's; the independent "
            "student's do not",
            "boundaries 'correspond very well' (panel D); no number",
            AllOf(
                AtLeast(f"c{c}.grid.soft", GRID_AGREEMENT, "book", "'very well' read as three quarters of the plane",
                        label="soft student's agreement with the teacher on the grid", unit="pct"),
                AtLeast(f"c{c}.grid.gain", GRID_GAIN, "book", "a tenth of the plane more than the independent student",
                        label="soft − independent agreement, paired over datasets", unit="pct"),
            ),
        ),
        ClaimSpec(
            f"c{c}.soft_above_chance_across_datasets",
            f"c = {c}: across many random datasets (not only one) the soft-label student is above chance",
            "not reported (the paper varies the student initialisation only)",
            Above(f"c{c}.datasets.soft", chance, "chance", f"1/c = {fmt(chance, 'pct')}",
                  label="soft acc_test_S over datasets", unit="pct"),
            kind="book",
        ),
    ]


TEACHER_SPEC = ClaimSpec(
    "teacher_memorizes", "The teacher reaches 100 % accuracy on D*^T, for every dataset and class count",
    "'teacher decision boundaries which achieve 100 % accuracy' (panel A)",
    AtLeast("teachers_at_100", MOST_RUNS, "paper",
            "every teacher at 100 %, read as most teachers with 95 % confidence (the Clopper–Pearson lower end above "
            "one half); a teacher short of it makes the claims on its dataset inconclusive (not converged)",
            label="share of teachers at 100 %", unit="pct"),
    kind="premise",  # the teachers train until they fit D*^T (with a cap): the setup makes it true
)


def teacher_claims(runs: pd.DataFrame) -> tuple[list[Claim], dict[str, Evidence]]:
    """Panel A of Fig. 1 and Fig. 8: every teacher memorizes its dataset (a premise: they train until they do)."""
    teachers = runs.drop_duplicates(["c", "data_seed"])
    ev = {"teachers_at_100": Evidence.share_of(teachers["teacher_reached_100"].astype(float), of="teachers")}
    return [TEACHER_SPEC.check(ev)], ev


def unconverged(rows: pd.DataFrame) -> list[str]:
    """The runs under ``rows`` that did not reach their stopping condition: a teacher short of 100 % on
    D*^T at its cap, a student that diverged."""
    teachers = rows.drop_duplicates(["c", "data_seed"])
    out = [f"teacher(c = {t.c}, data seed {t.data_seed}) short of 100 % after {t.teacher_steps} epochs"
           for t in teachers.itertuples() if not t.teacher_reached_100]
    if "diverged" in rows:
        out += [f"{r.student} student(c = {r.c}, data seed {r.data_seed}, init {r.init}) diverged"
                for r in rows[rows["diverged"].astype(bool)].itertuples()]
    return out


def case_claims(runs: pd.DataFrame, c: int) -> tuple[list[Claim], dict[str, Evidence]]:
    """Fig. 1 (c = 3) or Fig. 8 (c = 20): the showcase dataset, and the same across datasets.

    The showcase numbers are means over the student initialisations on the authors' dataset (the
    paper's protocol); the across-datasets numbers average each dataset's students first and give
    a Student-t 95 % interval over datasets, paired by dataset for differences. A claim read off a
    teacher short of 100 % on D*^T (at its cap) or a diverged student is inconclusive (not converged).
    """
    rc = runs[runs["c"] == c]
    show, more = rc[rc["showcase"]], rc[~rc["showcase"]]
    per = more.groupby(["data_seed", "student"])[["acc_test_S", "acc_match_T_grid"]].mean().unstack("student")
    ev = {}
    for kind in STUDENT_KINDS:
        # the authors' dataset has one teacher and split: its students are one run, however many inits
        ev[f"c{c}.show.{kind}"] = per_teacher(show[show["student"] == kind], "acc_test_S", by="data_seed",
                                              detail=f"the authors' dataset, mean of {show['init'].nunique()} "
                                                     "student inits of its one teacher")
        ev[f"c{c}.datasets.{kind}"] = Evidence.samples(per["acc_test_S"][kind], unit="pct", of="datasets")
    ev[f"c{c}.gap"] = Evidence.paired(per["acc_test_S"]["soft"], per["acc_test_S"]["hard"], unit="pct",
                                      of="datasets")
    ev[f"c{c}.grid.soft"] = Evidence.samples(per["acc_match_T_grid"]["soft"], unit="pct", of="datasets")
    ev[f"c{c}.grid.hard"] = Evidence.samples(per["acc_match_T_grid"]["hard"], unit="pct", of="datasets")
    ev[f"c{c}.grid.gain"] = Evidence.paired(per["acc_match_T_grid"]["soft"], per["acc_match_T_grid"]["hard"],
                                            unit="pct", of="datasets")
    flags = {}
    if show["init"].nunique() > PAPER_INITS:
        flags["show"] = (f"{show['init'].nunique()} student inits on the authors' dataset, raised from the paper's "
                         f"{PAPER_INITS} after that run was inconclusive")
    if more["data_seed"].nunique() > FIRST_DATASETS:
        flags["datasets"] = (f"{more['data_seed'].nunique()} datasets, raised from {FIRST_DATASETS} after that run "
                             "left the c = 3 verdicts inconclusive")
    bad = {"show": unconverged(show), "datasets": unconverged(more)}
    claims = []
    for spec in _case_specs(c):
        part = "show" if ".showcase" in spec.id else "datasets"
        claims.append(not_converged(spec.check(ev, post_hoc=flags.get(part, "")), bad[part]))
    return claims, ev


def summarize(runs: pd.DataFrame) -> tuple[list[Claim], dict[str, object]]:
    """All of chapter 1's claims (teacher, then each figure) and the metrics the page glues."""
    claims, ev = teacher_claims(runs)
    for c in sorted(runs["c"].unique()):
        more_claims, more_ev = case_claims(runs, int(c))
        claims += more_claims
        ev.update(more_ev)
    metrics = evidence_metrics(ev)
    teachers = runs.drop_duplicates(["c", "data_seed"])
    for c, t in teachers.groupby("c"):
        metrics[f"c{c}.teacher.max_epochs"] = int(t["teacher_steps"].max())
        metrics[f"c{c}.teacher.num_over_4000"] = int((t["teacher_steps"] > AUTHORS_TEACHER_EPOCHS).sum())
        metrics[f"c{c}.num_teachers"] = len(t)
        more = runs[(runs["c"] == c) & ~runs["showcase"]]
        per = more.groupby(["data_seed", "student"])["acc_test_S"].mean().unstack("student")
        metrics[f"c{c}.soft.datasets.min"], metrics[f"c{c}.soft.datasets.max"] = per["soft"].min(), per["soft"].max()
        metrics[f"c{c}.num_datasets"] = len(per)
    return claims, metrics


def reading(claims: list[Claim], metrics: dict[str, object]) -> str:
    """The page's conclusion, generated from the verdicts (Markdown)."""
    by = {cl.id: cl for cl in claims}
    parts = []
    for c in (3, 20):
        if f"c{c}.soft_beats_independent" not in by:
            continue
        v = by[f"c{c}.soft_beats_independent"].verdict
        soft, hard = metrics.get(f"c{c}.datasets.soft"), metrics.get(f"c{c}.datasets.hard")
        nums = f"{fmt(soft, 'pct')} against {fmt(hard, 'pct')} on average over {metrics.get(f'c{c}.num_datasets')} datasets"
        text = {
            "reproduces": f"With c = {c} the soft labels carry the held-out labels as the paper says: {nums}.",
            "fails": f"With c = {c} the gap falls short of the paper's {fmt(PAPER[c]['soft'] - PAPER[c]['hard'], 'pct')} "
                     f"at this preset: {nums}.",
            "inconclusive": f"With c = {c} the size of the gap against the paper's is not settled by this run: {nums}.",
            "untested": f"With c = {c} the gap could not be measured at this preset.",
        }[v]
        show = by[f"c{c}.showcase_soft"]
        text += (" On the authors' own dataset our soft-label student "
                 + ("matches" if show.verdict == "reproduces" else
                    "does not match" if show.verdict == "fails" else "cannot yet be compared with")
                 + f" the paper's number ({show.ours.split(' (')[0]} against {show.paper.split(' (')[0]}).")
        parts.append(text)
    return " ".join(parts)


def config_table(cfg: Toy2DConfig) -> pd.DataFrame:
    """The resolved config as a small table (one column per case), for the executed page."""
    rows = {f"c = {case.c}": {**dataclasses.asdict(case)} for case in cfg.cases}
    table = pd.DataFrame(rows)
    shared = {"showcase dataset seed": cfg.showcase_seed, "further dataset seeds": f"{len(cfg.seeds)} ({cfg.seeds[0]}…{cfg.seeds[-1]})",
              "student inits per dataset": f"{cfg.showcase_inits} (showcase), {cfg.num_student_inits} (further)", "grid": f"{cfg.grid_size}²"}
    for key, value in shared.items():
        table.loc[key] = [value] * len(cfg.cases)
    return table.astype(str)


register(NAMESPACE, sys.modules[__name__])
