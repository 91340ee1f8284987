"""Chapter 3: binary logistic regression and its three thresholds (paper §5.1, Fig. 4, Fig. 12;
spec §3).

For every (d, α, seed) a balanced random-label Gaussian dataset of n = α·d samples (standardised
per feature) is memorized by a single-logit linear teacher without bias (logistic loss, full-batch
Adam). For every ρ, the pseudo-inverse student ŵ = X⁺z is fitted to the teacher's logits on the
stratified D_train^S, once as is and once with the logits shuffled within each class (spec §3.6).

Seeds: a (seed, n) pair names one dataset cell; ``cell = derive_seed(seed, "data", n)``, and its
data and teacher init are derived from ``cell`` by role. The split at training fraction ρ uses
``split_seed(cell, ρ)`` (derived from ρ's *value*, so adding a ρ to the grid changes no other
split) and the shuffle ``derive_seed(split_seed(cell, ρ), "shuffle")``. All are columns of the
results table.

Claims (one module per figure: :mod:`.fig4a`, :mod:`.fig4b`, :mod:`.fig12`, :mod:`.control`) are declared rules
(:mod:`softleak.rules`) decided on intervals over seeds: thresholds are extracted per seed with
the spec's rules (§3.7), each as the grid cell it lies in (half an α step of resolution), and compared
with the paper's number, Cover's finite-d window or 1/ρ. A threshold the grid does not hold is censored
beyond the grid's end (it still decides); a cell the data select (the best α, the worst step, the best
shuffled cell) is read with a Bonferroni interval or on seeds that did not select it; the worst of
many runs rests on the independent teachers under it; the weak band is decided at every ρ.
"""

from __future__ import annotations

from ...chapters import Chapter, extend_seeds, register
from . import control, fig4a, fig4b, fig12
from .common import (WEAK, alpha_step, cell_means, censored_samples, drop_per_seed, grid_ends, id_tolerance,
                     onset_per_seed, paired_thresholds, prepare, regions, teacher_threshold_per_seed, thresholds)
from .config import (DEVIATIONS, METRICS, NAMESPACE, PRESETS, LogisticConfig, apply_overrides, config_table,
                     num_samples, settings)
from .control import SHUFFLE_BAND, SHUFFLE_SPEC, best_cell_split, shuffle_claims
from .fig4a import (COVER_LEVEL, FALL_MIN, MONOTONE_MARGIN, PAPER_ALPHA_ID, PAPER_ALPHA_LABEL_T, PAPER_D,
                    cover_separable_probability, cover_window, curve_evidence, fig4a_claims, fig4a_specs)
from .fig4b import fig4b_claims, fig4b_specs
from .fig12 import FIG12_SPEC, MSE_RECOVERED, fig12_claims
from .runs import PLAN_NOTES, plan, run

FIGURES = (fig4a.FIGURE, fig4b.FIGURE, fig12.FIGURE, control.FIGURE)
CHAPTER = register(Chapter(
    NAMESPACE, __name__, PRESETS, apply_overrides, DEVIATIONS, run, plan, FIGURES, config_table,
    plan_notes=PLAN_NOTES, prepare=prepare, settings=settings, extend=extend_seeds,
))
summarize, reading = CHAPTER.summarize, CHAPTER.reading

__all__ = ["CHAPTER", "COVER_LEVEL", "DEVIATIONS", "FALL_MIN", "FIG12_SPEC", "FIGURES", "METRICS", "MONOTONE_MARGIN",
           "MSE_RECOVERED", "NAMESPACE", "PAPER_ALPHA_ID", "PAPER_ALPHA_LABEL_T", "PAPER_D", "PLAN_NOTES", "PRESETS",
           "SHUFFLE_BAND", "SHUFFLE_SPEC", "WEAK", "LogisticConfig", "alpha_step", "apply_overrides",
           "best_cell_split", "cell_means", "censored_samples", "config_table", "cover_separable_probability",
           "cover_window", "curve_evidence", "drop_per_seed", "fig12_claims", "fig4a_claims", "fig4a_specs",
           "fig4b_claims", "fig4b_specs", "grid_ends", "id_tolerance", "num_samples", "onset_per_seed",
           "paired_thresholds", "plan", "reading", "regions", "run", "shuffle_claims", "summarize",
           "teacher_threshold_per_seed", "thresholds"]
