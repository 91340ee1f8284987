"""Chapter 7's config: the sizes of the main setting and of every experiment (A.1–A.4, Fig. 3, Fig. 4), the
presets, the deviations from the workshop's protocol and the config table of the page."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from ...claims import Deviation
from ...config import check_fraction, check_positive, check_positive_int, check_seeds, replace_checked

NAMESPACE = "07_workshop"
MAIN_EXPERIMENTS = ("capacity", "a1", "a3", "sim")
VARIANTS = {"A": "clean", "B": "labels shuffled", "C": "pixels shuffled", "D": "labels and pixels shuffled"}
CIFAR_FILES = tuple(f"data_batch_{i}" for i in range(1, 6))
#: (images, pixels) of the structured sets, for the plan (which does not load them)
STRUCTURED_SHAPES = {"digits": (1797, 64), "cifar10": (50_000, 3072)}
#: A.4's teachers: ① the workshop's (at its fit), ② chapter 2's ① (10× its fit epoch: a memorizing teacher
#: trained on past its fit), ③ the teacher at the end of its run
A4_STOPS = ("train>=1", "fit*10", "epoch>={end}")
A4_NAMES = {1: "at its fit (the workshop)", 2: "chapter 2's ① (at 10× its fit epoch)",
            3: "trained on to the end of its run"}


@dataclass(frozen=True)
class WorkshopConfig:
    """Everything chapter 7 runs. Sizes keep the workshop's ratios d / samples_per_class = 10,
    p / d = 1/2 and p_S / p = 3/2 at every preset (c = 100 too)."""

    d: int = 1000
    c: int = 100
    samples_per_class: int = 100
    p: int = 500  # teacher width, both hidden layers
    student_p: int = 750  # Fig. 2 right, A.1, A.3, Fig. 3
    widths: tuple[int, ...] = (250, 500, 750, 1000)  # Fig. 2 left
    tau: float = 5.0  # the one temperature the workshop states (Fig. 4); A.1 varies it
    lr: float = 1e-3  # Adam's default, teacher and students
    teacher_epochs: int = 5000  # cap: a teacher trains until it fits all of its data
    student_epochs: int = 2000
    rhos: tuple[float, ...] = (0.1, 0.2, 0.4, 0.6, 0.8)
    seeds: tuple[int, ...] = (0,)  # datasets, each with its own teacher
    inits: int = 20  # student inits per dataset (the workshop's 20)
    fresh_per_class: int = 100  # the fresh set behind every trivial accuracy
    a1_taus: tuple[float, ...] = (1.0, 2.0, 5.0, 10.0, 20.0)
    a1_lrs: tuple[float, ...] = (1e-4, 3e-4, 1e-3, 3e-3, 1e-2)
    a1_rho: float = 0.4
    a1_inits: int = 5
    a2_cs: tuple[int, ...] = (10, 50, 100)
    a2_spcs: tuple[int, ...] = (10, 20, 50, 100, 200)
    a2_ds: tuple[int, ...] = (100, 200, 500, 1000, 2000, 4000)
    a2_rho: float = 0.4
    a2_inits: int = 3
    a2_teacher_epochs: int = 5000
    a2_student_epochs: int | None = None  # None: student_epochs
    a3_rho: float = 0.4
    a3_classes: tuple[int, ...] = (0,)  # the class removed; more classes give the class-wise numbers more samples
    a3_ks: tuple[int, ...] = (1, 5, 10, 25, 50)  # tail entries zeroed per soft label (of c)
    sim_lr: float = 1e-4
    sim_epochs: int = 2000
    sim_rhos: tuple[float, ...] | None = None  # None: rhos (a step costs n_train² pairs per student)
    toy_seeds: tuple[int, ...] = tuple(range(100, 120))
    toy_inits: int = 3
    toy_batch: int = 10  # datasets per ensemble (several batches let the workers share the c = 20 case)
    toy_sim_lr: float = 1e-3  # the workshop gives none; Adam's default (chapter 1's soft students keep theirs)
    toy_teacher_steps: int = 20_000  # chapter 1's cap (teachers train until 100 %)
    toy_student_steps: int = 4000  # chapter 1's
    structured: str = "cifar10"  # "digits" (scikit-learn, offline) or "cifar10" (needs data_dir)
    data_dir: str | None = None  # a local CIFAR-10 copy: the folder with data_batch_1 … data_batch_5
    structured_p: int = 512
    structured_tau: float = 5.0
    structured_lr: float = 1e-2
    structured_rhos: tuple[float, ...] = (0.1, 0.3, 0.5, 0.7, 0.9)
    structured_seeds: tuple[int, ...] = (0,)
    structured_inits: int = 5
    structured_teacher_epochs: int = 5000
    structured_student_epochs: int = 2000
    a4_P: int = 113  # A.4: the modular-addition transformer of chapter 2 (the workshop: k = 113)
    a4_frac: float = 0.3
    a4_d_model: int = 128
    a4_d_mlp: int = 512
    a4_teacher_epochs: int = 10_000
    a4_taus: tuple[float, ...] = (10.0, 1.0)
    a4_rho: float = 0.5
    a4_student_epochs: int = 40_000
    a4_student_lr: float = 1e-3
    a4_seeds: tuple[int, ...] = (0, 1, 2)

    def __post_init__(self) -> None:
        for name in ("d", "c", "samples_per_class", "p", "student_p", "teacher_epochs", "student_epochs", "inits",
                     "fresh_per_class", "a1_inits", "a2_inits", "a2_teacher_epochs", "sim_epochs", "toy_inits",
                     "toy_teacher_steps", "toy_student_steps", "toy_batch",
                     "structured_p", "structured_inits", "structured_teacher_epochs", "structured_student_epochs"):
            check_positive_int(name, getattr(self, name))
        for name in ("widths", "a2_cs", "a2_spcs", "a2_ds"):
            values = getattr(self, name)
            if not values:
                raise ValueError(f"{name}=() is not allowed: give at least one value")
            for i, v in enumerate(values):
                check_positive_int(f"{name}[{i}]", v)
        for name in ("tau", "lr", "sim_lr", "toy_sim_lr", "structured_tau", "structured_lr"):
            check_positive(name, getattr(self, name))
        for name in ("a1_taus", "a1_lrs"):
            for i, v in enumerate(getattr(self, name)):
                check_positive(f"{name}[{i}]", v)
        if self.sim_rhos is not None and not set(self.sim_rhos) <= set(self.rhos):
            raise ValueError(f"sim_rhos={self.sim_rhos} is not allowed: give values of rhos={self.rhos} (the similarity "
                             "student is compared with the logit student at equal ρ)")
        for name in ("rhos", "structured_rhos"):
            if not getattr(self, name):
                raise ValueError(f"{name}=() is not allowed: give at least one ρ")
            for v in getattr(self, name):
                check_fraction(name, v)
        for name in ("a1_rho", "a2_rho", "a3_rho"):
            check_fraction(name, getattr(self, name))
        check_seeds("seeds", self.seeds)
        check_seeds("toy_seeds", self.toy_seeds)
        check_seeds("structured_seeds", self.structured_seeds)
        if self.c < 2:
            raise ValueError(f"c={self.c} is not allowed: c must be >= 2")
        if self.student_p not in self.widths:
            raise ValueError(f"student_p={self.student_p} is not allowed: it must be one of widths={self.widths} (its "
                             "capacity run is the logit student that Fig. 2 right, Fig. 3 and the overlap read)")
        if self.a2_student_epochs is not None:
            check_positive_int("a2_student_epochs", self.a2_student_epochs)
        for rho in (*self.rhos, self.a1_rho, self.a3_rho):
            if int(rho * self.samples_per_class) < 1 or int(rho * self.samples_per_class) >= self.samples_per_class:
                raise ValueError(f"rho={rho} is not allowed with samples_per_class={self.samples_per_class}: the "
                                 "stratified split must leave every class a training and a held-out sample")
        for i, k in enumerate(self.a3_classes):
            if not 0 <= k < self.c:
                raise ValueError(f"a3_classes[{i}]={k} is not allowed: a class index in [0, {self.c})")
        for i, k in enumerate(self.a3_ks):
            if not 0 < k < self.c:
                raise ValueError(f"a3_ks[{i}]={k} is not allowed: 0 < k < c={self.c} (the argmax entry is kept)")
        for name in ("a4_P", "a4_d_model", "a4_d_mlp", "a4_teacher_epochs", "a4_student_epochs"):
            check_positive_int(name, getattr(self, name))
        check_fraction("a4_frac", self.a4_frac)
        check_fraction("a4_rho", self.a4_rho)
        check_positive("a4_student_lr", self.a4_student_lr)
        check_seeds("a4_seeds", self.a4_seeds)
        if not self.a4_taus:
            raise ValueError("a4_taus=() is not allowed: give at least one temperature")
        for i, t in enumerate(self.a4_taus):
            check_positive(f"a4_taus[{i}]", t)
        if self.structured not in ("digits", "cifar10"):
            raise ValueError(f"structured={self.structured!r} is not allowed: 'digits' or 'cifar10'")


def apply_overrides(cfg: WorkshopConfig, **overrides) -> WorkshopConfig:
    return replace_checked(cfg, **overrides)


PRESETS = {
    "smoke": WorkshopConfig(
        d=20, c=10, samples_per_class=4, p=10, student_p=15, widths=(5, 15), teacher_epochs=500, student_epochs=60,
        rhos=(0.25, 0.5), seeds=(0,), inits=2, fresh_per_class=10, a1_taus=(1.0, 5.0), a1_lrs=(1e-3, 1e-2),
        a1_rho=0.5, a1_inits=1, a2_cs=(5,), a2_spcs=(4, 8), a2_ds=(5, 20), a2_inits=1, a2_teacher_epochs=300,
        a3_rho=0.5, a3_classes=(0, 1), a3_ks=(1, 5), sim_lr=1e-3, sim_epochs=60, toy_seeds=(100, 101), toy_inits=1,
        toy_teacher_steps=300, toy_student_steps=60,
        structured="digits", structured_p=16, structured_rhos=(0.5,), structured_inits=1,
        structured_teacher_epochs=300, structured_student_epochs=30,
        a4_P=11, a4_frac=0.5, a4_d_model=16, a4_d_mlp=32, a4_teacher_epochs=200, a4_student_epochs=100, a4_seeds=(0,),
    ),
    "cpu": WorkshopConfig(
        d=100, c=100, samples_per_class=10, p=50, student_p=75, widths=(25, 50, 75), student_epochs=800,
        seeds=(0, 1, 2, 3), inits=2, fresh_per_class=20, a1_inits=2, a2_cs=(10, 50), a2_spcs=(5, 10, 20, 40, 80),
        a2_ds=(3, 6, 12, 25, 50, 100, 200), a2_inits=1, a2_teacher_epochs=2000, a2_student_epochs=500,
        a3_classes=(0, 1, 2),
        a3_ks=(1, 5, 25), sim_lr=1e-3, sim_epochs=500, sim_rhos=(0.1, 0.2, 0.4, 0.6), toy_seeds=tuple(range(100, 110)),
        toy_inits=2, toy_batch=5, structured="digits", structured_p=128, structured_rhos=(0.2, 0.5, 0.8),
        structured_seeds=(0, 1, 2), structured_inits=1, structured_teacher_epochs=3000, structured_student_epochs=500,
        a4_P=59, a4_frac=0.4, a4_d_model=64, a4_d_mlp=256, a4_teacher_epochs=3000, a4_student_epochs=1000,
        a4_student_lr=3e-3, a4_seeds=(0,),
    ),
    "paper": WorkshopConfig(),
}

FIRST_RUN = {"student_epochs": 500, "a2_ds": (12, 25, 50, 100, 200, 400)}  # the cpu preset's first chapter run


def _vals(values) -> str:
    return ", ".join(f"{v:g}" for v in sorted(values))


DEVIATIONS = (
    Deviation("sizes (d, c, samples per class, p, p_S)", "(1000, 100, 100, 500, 750) (§3.1, Fig. 2)",
              lambda cfg: f"({cfg.d}, {cfg.c}, {cfg.samples_per_class}, {cfg.p}, {cfg.student_p})",
              "the ratios d / samples per class = 10, p / d = ½, p_S / p = 3/2 and c = 100 are kept; a planning probe "
              "found the leak at these sizes"),
    Deviation("teachers and student inits", "one teacher, 20 student inits (SEM)",
              lambda cfg: f"{len(cfg.seeds)} teachers × {cfg.inits} inits",
              "independent teachers (each its own data, teacher and split) are the runs a verdict rests on: a teacher's "
              "students are averaged first; intervals are Student-t 95 % over teachers (Bonferroni over the grid where a "
              "claim reads its best setting)"),
    Deviation("A.1 teachers", "one teacher (Fig. 5)", lambda cfg: f"1 teacher × {cfg.a1_inits} inits",
              "as the workshop; its inits are averaged into one run, so A.1's claim rests on one teacher, fewer than the "
              "three independent runs a verdict needs: it reads inconclusive at every preset"),
    Deviation("student widths (Fig. 2 left)", "'varying dimensions'; p = 250 and 750 named", "widths",
              "from half the teacher's width (the workshop's p = 250 against 500) to the workshop's 1.5×"),
    Deviation("temperature τ (Fig. 2, A.2, A.3)", "not stated", "tau", "the one temperature the workshop states (Fig. 4)"),
    Deviation("student epochs", "not stated", "student_epochs",
              "planning probes at cpu size: held-out accuracy at τ = 5 flat from about 250 to 2000 epochs; a first run "
              "at 500 left the widest student short of fitting its largest training part (flagged on every claim these "
              "students decide)", post_hoc=True),
    Deviation("trivial accuracy", "accuracy on a fresh sample drawn the same way", "fresh_per_class",
              "fresh samples per class behind every trivial accuracy (the teacher's and the student's)"),
    Deviation("A.2 grid", "figure only (values not in the text)",
              lambda cfg: f"c ∈ {{{_vals(cfg.a2_cs)}}}, samples per class ∈ {{{_vals(cfg.a2_spcs)}}}, d ∈ {{{_vals(cfg.a2_ds)}}}",
              "spans teachers that fail (white) to d far above the samples per class; one teacher per cell; extended "
              "down in d and up in samples per class after a first grid from d = 12 had almost no teacher that failed",
              post_hoc=True),
    Deviation("A.3 classes", "class 0", "a3_classes",
              "several classes removed in turn, read as their mean: one class has too few held-out samples at cpu size"),
    Deviation("A.3 tail cut", "'the smallest fraction … set to zero'", "a3_ks",
              "k smallest entries of c (chapter 5's treatment), beside k random non-argmax entries (the authors' "
              "main-paper code)"),
    Deviation("similarity student: lr, epochs, ρ", "not stated; ρ as Fig. 2",
              lambda cfg: f"Adam {cfg.sim_lr:g} × {cfg.sim_epochs}, ρ ∈ {{{_vals(cfg.sim_rhos or cfg.rhos)}}}",
              "full batch over all n_train² pairs (the cost grows as ρ², so the largest ρ is left out at cpu); the "
              "prediction is the cosine nearest neighbour among the training points"),
    Deviation("structured data", "CIFAR-10, 80 % memorized, p = 512, T = 5, lr 0.01",
              lambda cfg: f"{cfg.structured}, 80 % memorized, p = {cfg.structured_p}, T = {cfg.structured_tau:g}, "
                          f"lr {cfg.structured_lr:g}",
              "nothing may be downloaded: scikit-learn's digits ship with the package; a local CIFAR-10 copy runs "
              "through data_dir"),
    Deviation("A.4 (tokenized data)", "1-layer transformer, P = 113, teacher at 100 %, 10 student inits",
              lambda cfg: f"P = {cfg.a4_P}, {cfg.a4_frac:g} of the pairs, d_model {cfg.a4_d_model}; ρ = {cfg.a4_rho:g}; "
                          f"{len(cfg.a4_seeds)} seed(s); student lr {cfg.a4_student_lr:g} × {cfg.a4_student_epochs}",
              "chapter 2's cpu sizes and student budget; the workshop's ρ and student epochs are not stated"),
)


def config_table(cfg: WorkshopConfig) -> pd.DataFrame:
    """The resolved config as a one-column table for the executed page."""
    vals = _vals
    rows = {
        "(d, c, samples per class)": f"({cfg.d}, {cfg.c}, {cfg.samples_per_class})",
        "teacher": f"{cfg.d} → {cfg.p} → {cfg.p} → {cfg.c}, Adam {cfg.lr:g} until 100 % (at most {cfg.teacher_epochs})",
        "students": f"p_S ∈ {{{vals(cfg.widths)}}} (Fig. 2 right, A.1, A.3, Fig. 3: {cfg.student_p}), τ = {cfg.tau:g}, "
                    f"Adam {cfg.lr:g} × {cfg.student_epochs}",
        "ρ": vals(cfg.rhos), "teachers (data seeds)": ", ".join(map(str, cfg.seeds)), "student inits": str(cfg.inits),
        "A.1": f"τ ∈ {{{vals(cfg.a1_taus)}}} × lr ∈ {{{vals(cfg.a1_lrs)}}} at ρ = {cfg.a1_rho:g}, {cfg.a1_inits} inits",
        "A.2": f"c ∈ {{{vals(cfg.a2_cs)}}}, samples per class ∈ {{{vals(cfg.a2_spcs)}}}, d ∈ {{{vals(cfg.a2_ds)}}}, "
               f"ρ = {cfg.a2_rho:g}, teacher at most {cfg.a2_teacher_epochs} epochs, {cfg.a2_inits} inits",
        "A.3": f"ρ = {cfg.a3_rho:g}; classes {vals(cfg.a3_classes)}; tail k ∈ {{{vals(cfg.a3_ks)}}} of {cfg.c}",
        "Fig. 3": f"similarity students Adam {cfg.sim_lr:g} × {cfg.sim_epochs}; 2D toy: {len(cfg.toy_seeds)} datasets × "
                  f"{cfg.toy_inits} inits, Adam {cfg.toy_sim_lr:g} × {cfg.toy_student_steps}",
        "A.4": f"P = {cfg.a4_P} at {cfg.a4_frac:g} of the pairs, d_model {cfg.a4_d_model}; teachers: at fit, at chapter 2's "
               f"①, at epoch {cfg.a4_teacher_epochs}; τ ∈ {{{vals(cfg.a4_taus)}}}, ρ = {cfg.a4_rho:g}, student lr {cfg.a4_student_lr:g} × "
               f"{cfg.a4_student_epochs}, seeds {', '.join(map(str, cfg.a4_seeds))}",
        "Fig. 4": f"{cfg.structured}, p = {cfg.structured_p}, T = {cfg.structured_tau:g}, lr {cfg.structured_lr:g}, "
                  f"ρ ∈ {{{vals(cfg.structured_rhos)}}}, {len(cfg.structured_seeds)} seeds × {cfg.structured_inits} inits",
    }
    return pd.DataFrame({"value": rows})
