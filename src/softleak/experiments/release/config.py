"""Chapter 8's config: the random-label and canary settings, their release recipes' grids, the presets and the
deviations from the paper's protocol (the paper runs none of this)."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from ...claims import Deviation
from ...config import check_fraction, check_positive, check_positive_int, check_seeds, replace_checked
from ...distillation import parse_defense

NAMESPACE = "08_release_safely"
FAMILIES = ("temperature", "top-k", "rounding", "quantisation", "logit noise", "hard labels", "combined")
MODES = {"released0": "no canary released", "released_rho": "a fraction ρ of the canaries released too"}
#: the tables a run returns: per student (random, canary), per teacher and recipe the audit's analysis (…_audit) and
#: the null draws of its verdict's statistic (…_null)
TABLES = ("random", "random_audit", "random_null", "canary", "canary_audit", "canary_null")


@dataclass(frozen=True)
class Regime:
    """One α of the random-label setting (Fig. "random labels"): the weak leak or the jump."""

    alpha: float  # α = n/(dc): samples per class over d

    def __post_init__(self) -> None:
        check_positive("alpha", self.alpha)


@dataclass(frozen=True)
class Canary:
    """The canary setting (Fig. "canaries" and the worked example): scikit-learn's digits with m canaries, the digit
    teacher and students, and the release recipes' grids at its τ."""

    count: int = 100  # m canaries among the training images
    train: int = 1200  # digits in the teacher's training pool (canaries included); the rest is the test set
    rho: float = 0.5  # fraction of the canaries released in mode released_rho
    p: int = 256  # hidden width of the digit teacher and students (64 → p → 10)
    tau: float = 3.0  # the undefended release: soft labels not one-hot at this τ
    teacher_lr: float = 1e-3  # Adam, full batch
    teacher_steps: int = 5000  # cap: the teacher trains until it fits every image and canary
    student_lr: float = 1e-3  # Adam, full batch (DEVIATIONS)
    student_steps: int = 2000  # enough for the students' test accuracy to reach the teacher's (DEVIATIONS)
    seeds: tuple[int, ...] = (0, 1, 2, 3, 4)  # digit teachers
    inits: int = 2  # student inits per recipe, teacher and mode
    taus: tuple[float, ...] = (1.0, 3.0, 10.0)  # the temperature family (must contain tau)
    topks: tuple[int, ...] = (2, 5)  # 1 < k < 10
    rounds: tuple[int, ...] = (1, 2)  # decimals kept
    quants: tuple[int, ...] = (2, 4)  # bits per entry
    noises: tuple[float, ...] = (1.0, 3.0)  # σ of the logit noise

    def __post_init__(self) -> None:
        for name in ("count", "train", "p", "teacher_steps", "student_steps", "inits"):
            check_positive_int(name, getattr(self, name))
        for name in ("tau", "teacher_lr", "student_lr"):
            check_positive(name, getattr(self, name))
        check_fraction("rho", self.rho)
        check_seeds("seeds", self.seeds)
        if self.tau not in self.taus:
            raise ValueError(f"taus={self.taus} is not allowed: it must contain tau={self.tau:g}")
        _check_topks("topks", self.topks, 10)
        _check_recipe_grids(self)
        if not 0 < self.count < self.train:
            raise ValueError(f"count={self.count} is not allowed: 0 < m < train={self.train}")
        if self.train >= 1797 - 100:
            raise ValueError(f"train={self.train} is not allowed: the 1797 digits must leave at least 100 test images "
                             "(the fresh canaries and the test accuracy)")
        if int(self.rho * self.count) in (0, self.count):
            raise ValueError(f"rho={self.rho} is not allowed with count={self.count}: it must release some canaries "
                             "and hold some out")


@dataclass(frozen=True)
class Audit:
    """The audit's sizes (:func:`softleak.audit.analyse`), per teacher and recipe, in both settings and the worked
    example."""

    bootstrap: int = 2000  # the audit's bootstrap replicates per teacher and recipe (record-level intervals)
    null: int = 999  # the audit's null draws per teacher and recipe (its verdict; pooled over teachers)

    def __post_init__(self) -> None:
        check_positive_int("bootstrap", self.bootstrap)
        check_positive_int("null", self.null)


def _check_recipe_grids(cfg) -> None:
    """The defence grids a setting sweeps: temperatures and noise levels positive, decimals and quantisation
    levels positive integers."""
    for name in ("taus", "noises"):
        for i, v in enumerate(getattr(cfg, name)):
            check_positive(f"{name}[{i}]", v)
    for name in ("rounds", "quants"):
        for i, v in enumerate(getattr(cfg, name)):
            check_positive_int(f"{name}[{i}]", v)


def _check_topks(name: str, topks: tuple[int, ...], c: int) -> None:
    """A top-k grid of c classes: every k an integer with 1 < k < c."""
    for i, k in enumerate(topks):
        if isinstance(k, bool) or not isinstance(k, int) or not 1 < k < c:
            raise ValueError(f"{name}[{i}]={k!r} is not allowed: 1 < k < c={c} (k = 1 is the hard label, "
                             "k = c the undefended release)")


@dataclass(frozen=True)
class ReleaseConfig:
    """Everything chapter 8 runs. The top level is the random-label setting (chapter 5's sizes and optimisers at
    each preset) and its recipes' grids; ``weak`` and ``jump``: its two α; ``canary``: the digits with canaries;
    ``audit``: the audit's sizes."""

    d: int = 1000  # chapter 5's input dimension
    c: int = 100  # chapter 5's classes
    p: int = 500  # chapter 5's hidden width (teacher and students)
    weak: Regime = Regime(0.25)  # chapter 5's Fig. 6 small α (the student recovers a little)
    jump: Regime = Regime(1.0)  # chapter 5's Fig. 6 large α (the student jumps to full recovery)
    rho: float = 0.8  # fraction of the memorized data released
    tau: float = 20.0  # chapter 5's temperature: the undefended release
    teacher_lr: float = 1e-3  # chapter 5's
    teacher_steps: int = 2000  # the teacher fits its hard labels
    student_lr: float = 1e-4  # chapter 5's (the paper's)
    student_steps: int = 10_000  # chapter 5's (the paper's)
    seeds: tuple[int, ...] = (0, 1, 2, 3, 4)  # teachers
    inits: int = 3  # student inits per recipe and teacher
    fresh: int = 5000  # fresh records (random labels) behind the trivial accuracy and the non-members
    taus: tuple[float, ...] = (2.0, 5.0, 10.0, 20.0, 50.0)  # the temperature family (no other defense)
    topks: tuple[int, ...] = (2, 5, 10, 25, 50, 75)  # from 2 entries to most of the vector, with c/2
    rounds: tuple[int, ...] = (1, 2, 3)  # decimals kept
    quants: tuple[int, ...] = (2, 4, 8)  # bits per entry
    noises: tuple[float, ...] = (0.5, 1.0, 3.0, 10.0)  # σ of the logit noise
    combos: tuple[str, ...] = ("noise:1+round:2",)  # combined defenses
    canary: Canary = Canary()
    audit: Audit = Audit()

    def __post_init__(self) -> None:
        for name in ("d", "c", "p", "teacher_steps", "student_steps", "inits", "fresh"):
            check_positive_int(name, getattr(self, name))
        if self.c < 2:
            raise ValueError(f"c={self.c} is not allowed: c must be >= 2")
        for name in ("tau", "teacher_lr", "student_lr"):
            check_positive(name, getattr(self, name))
        if not self.weak.alpha < self.jump.alpha:
            raise ValueError(f"weak_alpha={self.weak.alpha} is not allowed with jump_alpha={self.jump.alpha}: the "
                             "weak-leak α must be the smaller")
        check_fraction("rho", self.rho)
        check_seeds("seeds", self.seeds)
        for regime in ("weak", "jump"):
            alpha = getattr(self, regime).alpha
            n_pc = alpha * self.d
            if abs(n_pc - round(n_pc)) > 1e-9 or round(n_pc) < 2:
                raise ValueError(f"{regime}_alpha={alpha} is not allowed with d={self.d}: α·d = {n_pc:g} samples per "
                                 "class must be an integer >= 2")
            if int(self.rho * round(n_pc)) in (0, round(n_pc)):
                raise ValueError(f"rho={self.rho} is not allowed at {regime}_alpha={alpha}: the stratified split must "
                                 "release and hold out samples of every class")
        if self.tau not in self.taus:
            raise ValueError(f"taus={self.taus} is not allowed: it must contain tau={self.tau:g}, the undefended release")
        _check_topks("topks", self.topks, self.c)
        if self.c // 2 not in self.topks:
            raise ValueError(f"topks={self.topks} is not allowed: it must contain c/2 = {self.c // 2}, the top-k "
                             "claim's setting")
        _check_recipe_grids(self)
        for i, spec in enumerate(self.combos):
            try:
                parse_defense(spec)
            except ValueError as err:
                raise ValueError(f"combos[{i}]={spec!r} is not allowed: {err}") from None

    @property
    def n_weak(self) -> int:
        return round(self.weak.alpha * self.d) * self.c

    @property
    def n_jump(self) -> int:
        return round(self.jump.alpha * self.d) * self.c


def apply_overrides(cfg: ReleaseConfig, **overrides) -> ReleaseConfig:
    """Override fields of the config, each checked before any compute."""
    return replace_checked(cfg, **overrides)


PRESETS = {
    "smoke": ReleaseConfig(
        d=20, c=6, p=12, weak=Regime(0.5), jump=Regime(2.0), student_lr=3e-3, teacher_steps=400, student_steps=60,
        seeds=(0, 1), inits=1, fresh=300, taus=(5.0, 20.0), topks=(2, 3), rounds=(2,), quants=(2,), noises=(1.0,),
        canary=Canary(count=20, train=300, p=16, teacher_steps=600, student_steps=40, seeds=(0, 1), inits=1,
                      taus=(3.0,), topks=(2,), rounds=(1,), quants=(2,), noises=(3.0,)),
        audit=Audit(bootstrap=50, null=39),
    ),
    # chapter 5's cpu sizes (d, c, p) = (100, 20, 50), its τ = 20 and student lr 3·10⁻³; α = 0.25 leaks a little,
    # α = 1 jumps (chapter 5's Fig. 6 at cpu)
    "cpu": ReleaseConfig(
        d=100, c=20, p=50, student_lr=3e-3, student_steps=2000, seeds=(0, 1, 2), inits=2, fresh=2000,
        topks=(2, 5, 10, 15), canary=Canary(p=128, student_steps=1000, seeds=(0, 1, 2), inits=1),
        audit=Audit(bootstrap=500, null=199),
    ),
    "paper": ReleaseConfig(),
}


def vals(values) -> str:
    """A grid's values as the page writes them: ``2, 5, 10``."""
    return ", ".join(f"{v:g}" for v in values)


DEVIATIONS = (
    Deviation("the question", "none: the paper warns (§1, §6) and hypothesises about top-k (§5.2)",
              lambda cfg: "leakage, membership and utility per release recipe",
              "a book extension; every claim is a book finding"),
    Deviation("random setting (d, c, p)", "chapter 5's (1000, 100, 500)", lambda cfg: f"({cfg.d}, {cfg.c}, {cfg.p})",
              "chapter 5's sizes at each preset"),
    Deviation("α (weak, jump)", "Fig. 6: a small and a large α", lambda cfg: f"{cfg.weak.alpha:g}, {cfg.jump.alpha:g}",
              "chapter 5's Fig. 6 α values: a little leak, and the jump to full recovery"),
    Deviation("student budget", "10 000 epochs at lr 10⁻⁴ (chapter 5)",
              lambda cfg: f"{cfg.student_steps} epochs at lr {cfg.student_lr:g}",
              "chapter 5's cpu lr; a shorter budget (the undefended jump finishes within 1000 epochs in a planning probe): "
              "a recipe that only slows the leak may leak more with a longer budget, so recipes still rising in the "
              "last fifth are marked", post_hoc=True),
    Deviation("released fraction ρ", "any", "rho", "a large release, where chapter 5's student jumps at the large α"),
    Deviation("top-k grid", "k not stated (§5.2's hypothesis)", "topks", "from 2 entries to most of the vector, with c/2"),
    Deviation("canary data", "none (the paper's data are random)",
              lambda cfg: f"digits: {cfg.canary.train} training images of which {cfg.canary.count} canaries, the rest test",
              "a real data set that ships with scikit-learn; nothing is downloaded"),
    Deviation("canary labels", "—", lambda cfg: "a random wrong label per canary",
              "a wrong label cannot be recovered by generalising from the real images: only memorized knowledge names it"),
    Deviation("canary τ", "—", "canary.tau", "a temperature at which the digit teacher's soft labels are not one-hot"),
    Deviation("canary student budget", "—",
              lambda cfg: f"{cfg.canary.student_steps} epochs at lr {cfg.canary.student_lr:g}",
              "enough for the students' real test accuracy to reach the teacher's in a planning probe; the canary leak "
              "may still be rising (marked in the table)"),
)


def config_table(cfg: ReleaseConfig) -> pd.DataFrame:
    """The resolved config as a small table, for the executed page."""
    rows = {
        "random: (d, c, p)": f"({cfg.d}, {cfg.c}, {cfg.p}); α ∈ {{{cfg.weak.alpha:g}, {cfg.jump.alpha:g}}} "
                             f"(n = {cfg.n_weak}, {cfg.n_jump}); ρ = {cfg.rho:g} released",
        "random: teacher": f"Adam {cfg.teacher_lr:g} × {cfg.teacher_steps} on hard labels",
        "random: students": f"{cfg.d} → {cfg.p} → {cfg.c}, Adam {cfg.student_lr:g} × {cfg.student_steps}, {cfg.inits} inits "
                            f"per recipe; teachers (seeds) {', '.join(map(str, cfg.seeds))}; {cfg.fresh} fresh records",
        "random: recipes": f"τ ∈ {{{vals(cfg.taus)}}}; at τ = {cfg.tau:g}: top-k k ∈ {{{vals(cfg.topks)}}}, rounding "
                           f"b ∈ {{{vals(cfg.rounds)}}}, quantisation bits ∈ {{{vals(cfg.quants)}}}, logit noise σ ∈ "
                           f"{{{vals(cfg.noises)}}}, hard labels, {', '.join(cfg.combos) or 'no combinations'}",
        "canary: data": f"digits, {cfg.canary.train} training images ({cfg.canary.count} canaries), "
                        f"{1797 - cfg.canary.train} test images; ρ = {cfg.canary.rho:g} of the canaries in the second mode",
        "canary: teacher": f"64 → {cfg.canary.p} → 10, Adam {cfg.canary.teacher_lr:g} until 100 % (at most "
                           f"{cfg.canary.teacher_steps})",
        "canary: students": f"64 → {cfg.canary.p} → 10, Adam {cfg.canary.student_lr:g} × {cfg.canary.student_steps}, "
                            f"{cfg.canary.inits} init(s); teachers {', '.join(map(str, cfg.canary.seeds))}",
        "canary: recipes": f"τ ∈ {{{vals(cfg.canary.taus)}}}; at τ = {cfg.canary.tau:g}: top-k "
                           f"{{{vals(cfg.canary.topks)}}}, rounding {{{vals(cfg.canary.rounds)}}}, quantisation "
                           f"{{{vals(cfg.canary.quants)}}}, noise {{{vals(cfg.canary.noises)}}}, hard labels",
    }
    return pd.DataFrame({"value": rows})


def settings(cfg: ReleaseConfig) -> dict[str, float]:
    """The config's numbers the page glues: the released fractions of both settings."""
    return {"rho": cfg.rho, "canary_rho": cfg.canary.rho}
