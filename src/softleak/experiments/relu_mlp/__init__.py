"""Chapter 5: one-hidden-layer ReLU MLPs, two leakage mechanisms and the sudden jump (paper §5.2,
Fig. 6, 7, 16–22, App. D.3–D.4; spec §5).

Teacher and student are ``Linear(d, p) → ReLU → Linear(p, c)`` with biases. The teacher memorizes
D*^T (Gaussian inputs, balanced random labels) on hard labels; every student trains by full-batch
Adam on soft labels softmax(z/τ) of its stratified part D_train^S and is evaluated on D_test^S, on
D_val (fresh inputs with random labels) and against the teacher's argmax.

Experiments (each row of the results carries its ``experiment`` tag):

- ``grid``: α × ρ (Fig. 7A, B), standard students;
- ``fig6``: ρ sweeps at a small and a large α (Fig. 6);
- ``curves``: ρ = ``curve.rho`` at a few α, standard and within-class shuffled students, whose
  recorded training curves give Fig. 7C, 16 and 17 and the measured jump epoch;
- ``tailcut``: the soft-label treatments of Fig. 18 (k smallest / k random entries zeroed, class
  samples removed, class entry removed);
- ``width``: student widths at fixed n over ρ (Fig. 21); ``capacity``: p^T = p^S varied (Fig. 19);
  ``student_width``: p^S varied at fixed p^T (Fig. 20); ``classes``: c varied (Fig. 22).

A *cell* is one data set and teacher: (c, n, seed, p^T, teacher steps). Experiments that ask for the
same cell share its teacher and, where they ask for the same student, that student. Within a cell
students of one width train as padded ensembles with per-member inputs, grouped by training size so
that padding costs less than the per-step overhead it saves (:func:`.runs.chunks`).

Seeds: the cell seed is ``derive_seed(seed, "data", n)``; from it derive the data, D_val, the
teacher init (index p^T), the split of each ρ (:func:`softleak.runtime.split_seed`, from ρ's value),
the student init (index round(10⁴ρ): every treatment of one ρ starts from the same weights), the
shuffle and the random tail cut.
Claims: one module per paper figure, named after it (:mod:`.fig6`, :mod:`.fig7`, :mod:`.fig7c`, :mod:`.fig16` …
:mod:`.fig22`), holds its thresholds, its claims and the table its figure draws; :mod:`.ladder` is the fig7c.jump
ladder, :mod:`.bound` the parameter-counting bound and :mod:`.scale` the preset's scale. Every threshold is
declared with where it comes from, and every verdict is decided on an interval over seeds (:mod:`softleak.rules`).
"""

from __future__ import annotations

from ...chapters import Chapter, extend_groups, register
from . import bound, fig6, fig7, fig7c, fig16, fig17, fig18, fig19, fig20, fig21, fig22, ladder, scale
from .analysis import (GROUP, METRIC_COLUMNS, REGION_NAMES, curve_runs, curves_of, figure_means, jump_stats,
                       phase_regions, prepare, region, thresholds_by_rho)
from .common import (EVERY_RUN_LEVEL, PAPER_CURVE_ALPHAS, PAPER_SIZE, PAPER_STUDENT_LR, SAME, STILL_MOVING,
                     curve_post_hoc, role_runs, still_moving, weakest)
from .config import (CLAIM_EXPERIMENT, CURVE_METRICS, EXPERIMENTS, DEVIATIONS, NAMESPACE, ORANGE_TIMES_CHANCE, PRESETS, ROLES, VARIANTS, Capacity,
                     Curves, Fig6, ReluConfig, Tail, Width, alpha_roles, apply_overrides, config_table, experiment_cells, orange_cut, samples_per_class)
from .fig6 import SPEARMAN_MONOTONE, VAL_BAND_SE, fig6_claims
from .fig7 import REGION_RULES, deepest_cell, fig7_claims
from .fig7c import fig7c_claims, jumped_fully
from .fig16 import SEPARATE, fig16_claims
from .fig17 import LOSS_DROP_FACTOR, fig17_claims
from .fig18 import (CLASS_HIGH, CLASS_KILLED_TIMES_CHANCE, CRITICAL_DROP, LITTLE, PAPER_TAIL_ALPHAS, fig18_claims,
                    recovery_alpha, tail_alpha, tail_post_hoc)
from .fig19 import COLLAPSE_EXPONENT, COLLAPSE_TOLERANCE, PAPER_CAPACITY_ALPHAS, capacity_post_hoc, fig19_claims
from .fig20 import fig20_claims
from .fig21 import NONLINEAR_RHO, NONLINEAR_WIDTHS, fig21_claims
from .fig22 import CLASS_SPREAD, fig22_claims
from .ladder import (LADDER_EPOCHS, LADDER_SEEDS, jump_ladder_entry, jump_ladder_table, ladder_costs,
                     ladder_reading)
from .runs import (PLAN_NOTES, STEP_OVERHEAD_FLOP, cell_flop, chunks, ladder_cells, plan, run, run_chapter, run_config,
                   run_ladder, student_targets)
from .scale import settings

#: the page's figures in its order; the conclusion reads them in this order too (the counting bound after the
#: two leakage mechanisms, the preset's scale last)
FIGURES = tuple(m.FIGURE for m in (fig6, fig7, fig7c, fig16, ladder, fig17, bound, fig18, fig19, fig20, fig21, fig22,
                                   scale))

CHAPTER = register(Chapter(
    NAMESPACE, __name__, PRESETS, apply_overrides, DEVIATIONS, run_chapter, plan, FIGURES, config_table,
    plan_notes=PLAN_NOTES, prepare=prepare, settings=settings, extend=extend_groups(CLAIM_EXPERIMENT, EXPERIMENTS),
))
summarize, reading = CHAPTER.summarize, CHAPTER.reading

__all__ = [
    "CHAPTER", "CLASS_HIGH", "CLASS_KILLED_TIMES_CHANCE", "CLASS_SPREAD", "COLLAPSE_EXPONENT", "COLLAPSE_TOLERANCE",
    "CRITICAL_DROP", "CURVE_METRICS", "DEVIATIONS", "EVERY_RUN_LEVEL", "FIGURES", "GROUP",
    "LADDER_EPOCHS", "LADDER_SEEDS", "LITTLE", "LOSS_DROP_FACTOR", "METRIC_COLUMNS", "NAMESPACE", "NONLINEAR_RHO",
    "NONLINEAR_WIDTHS", "ORANGE_TIMES_CHANCE", "PAPER_CAPACITY_ALPHAS", "PAPER_CURVE_ALPHAS", "PAPER_SIZE",
    "PAPER_STUDENT_LR", "PAPER_TAIL_ALPHAS", "PLAN_NOTES", "PRESETS", "REGION_NAMES", "REGION_RULES", "ROLES", "SAME",
    "SEPARATE", "SPEARMAN_MONOTONE", "STEP_OVERHEAD_FLOP", "STILL_MOVING", "VAL_BAND_SE", "VARIANTS", "Capacity",
    "Curves", "Fig6", "ReluConfig", "Tail", "Width", "alpha_roles", "apply_overrides", "capacity_post_hoc", "cell_flop",
    "chunks", "config_table", "curve_post_hoc", "curve_runs", "curves_of", "deepest_cell", "experiment_cells",
    "fig16_claims", "fig17_claims", "fig18_claims", "fig19_claims", "fig20_claims", "fig21_claims", "fig22_claims",
    "fig6_claims", "fig7_claims", "fig7c_claims", "figure_means", "jump_ladder_entry", "jump_ladder_table", "jump_stats", "jumped_fully",
    "ladder_cells", "ladder_costs", "ladder_reading", "orange_cut", "phase_regions", "plan",
    "prepare", "reading", "recovery_alpha", "region", "role_runs", "run", "run_chapter", "run_config", "run_ladder",
    "samples_per_class", "settings", "still_moving", "student_targets", "summarize", "tail_alpha", "tail_post_hoc",
    "thresholds_by_rho", "weakest",
]
