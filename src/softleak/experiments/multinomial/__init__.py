"""Chapter 4: multinomial logistic regression, temperature and class count (paper §5.1, Fig. 5,
13, 14, 15; spec §4).

Linear teacher and student W x without bias; the teacher trains on hard labels, the student on the
soft labels softmax(z/τ) of the stratified D_train^S, by full-batch Adam. Every data cell (c, d,
n, seed) has one teacher; for every ρ of the cell, all temperatures, standard and within-class
shuffled, train as one group of students that share the cell's inputs
(:class:`softleak.models.GroupedLinearEnsemble`), and all cells of an experiment train together
as one padded ensemble.

Four experiments:
- ``tau_c2`` / ``tau_c10``: ρ = 0.8, α × τ grids (Fig. 14, Fig. 5A; Fig. 15);
- ``rho_alpha``: c = 2, α × ρ grids at τ ∈ {0.5, 1, 10} with the Fig. 13 optimiser settings;
- ``scaling``: c ∈ {2, 5, 10, 20, …}, ρ = 0.55, τ = 10, three sub-sweeps whose sample counts make
  α·ln c, α·√c and α·c run over the same x values (Fig. 5B).

Seeds: a cell is ``derive_seed(seed, "data", n)``; its data and teacher init derive from it by
role. The split at training fraction ρ is ``split_seed(cell, ρ)``, derived from ρ's *value*; the
within-class shuffle and the student inits (index j of τ, shared by the standard and shuffled
student of the same ρ and τ) derive from that split seed, so adding or reordering ρ values changes
no run.

Modules: :mod:`.config` (config, presets, deviations), :mod:`.runs` (the runs and their plan),
:mod:`.analysis` (thresholds and transitions), :mod:`.common` (evidence the figures share), and one
module per figure, in page order: :mod:`.fig14`, :mod:`.fig5a`, :mod:`.fig13`, :mod:`.fig15`,
:mod:`.fig5b`, each declaring its thresholds (with where they come from), its claims
(:func:`fig14_claims`, …) and its sentences for the page.
"""

from __future__ import annotations

from ...chapters import Chapter, extend_groups, register
from . import fig5a, fig5b, fig13, fig14, fig15
from .analysis import (ACC, AXES, EXACT, THRESHOLD_COLUMNS, collapse_quality, cover_band, experiment_means, per_seed,
                       scaling_transitions, tau_thresholds, transitions)
from .common import HIGH_TAU, REF_TAU, EveryOf
from .config import (CLAIM_EXPERIMENT, DEVIATIONS, EXPERIMENTS, NAMESPACE, PRESETS, SCALINGS, MultinomialConfig, Optim, apply_overrides,
                     config_table, settings)
from .fig5a import PAPER_ID_EXCESS, fig5a_claims
from .fig5b import AXIS_NAME, PAPER_F5B_TEACHER_STEPS, PAPER_SCALING, fig5b_claims
from .fig13 import CAPTION_F13, FIG13_MARGIN, TEACHERS_FIT, WEAK, fig13_claims
from .fig14 import CHANCE_BAND, WIDTH_RESOLUTION, fig14_claims
from .fig15 import fig15_claims
from .runs import PLAN_NOTES, plan, run

FIGURES = (fig14.FIGURE, fig5a.FIGURE, fig13.FIGURE, fig15.FIGURE, fig5b.FIGURE)  # page order

CHAPTER = register(Chapter(
    NAMESPACE, __name__, PRESETS, apply_overrides, DEVIATIONS, run, plan, FIGURES, config_table,
    plan_notes=PLAN_NOTES, settings=settings, extend=extend_groups(CLAIM_EXPERIMENT, EXPERIMENTS),
))
summarize, reading = CHAPTER.summarize, CHAPTER.reading

__all__ = ["ACC", "AXES", "AXIS_NAME", "CAPTION_F13", "CHANCE_BAND", "CHAPTER", "DEVIATIONS", "EXACT", "EveryOf",
           "FIG13_MARGIN", "FIGURES", "HIGH_TAU", "MultinomialConfig", "NAMESPACE", "Optim", "PAPER_F5B_TEACHER_STEPS",
           "PAPER_ID_EXCESS", "PAPER_SCALING", "PLAN_NOTES", "PRESETS", "REF_TAU", "SCALINGS", "TEACHERS_FIT",
           "THRESHOLD_COLUMNS", "WEAK", "WIDTH_RESOLUTION", "apply_overrides", "collapse_quality", "config_table",
           "cover_band", "experiment_means", "fig13_claims", "fig14_claims", "fig15_claims", "fig5a_claims",
           "fig5b_claims", "per_seed", "plan", "reading", "run", "scaling_transitions", "settings", "summarize",
           "tau_thresholds", "transitions"]
