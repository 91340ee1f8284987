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
(``teacher_init``), student split of each ρ (:func:`softleak.data.split_student`, global, with
``split_seed(seed, ρ)``) and student init (``student_init``, index round(10⁴ρ)): both derive from
ρ's value, never its place in the grid. Every teacher k and τ of one (seed, ρ) therefore starts its student
from the same weights on the same pairs; only the soft labels differ.

Ensembles: the teachers of all seeds of an architecture train together; the students of one
(arch, ρ, τ) over all seeds and the three teachers train together (no padding: they share a size).
Both stages are cached per seed, so an interrupted run resumes.

The package: :mod:`.config` (configs, presets, deviations), :mod:`.runs` (:func:`run`, :func:`plan`) over
:mod:`.teachers` and :mod:`.students` (the two sweeps' batches, on the models of :mod:`.ensembles`); one module per
figure: :mod:`.fig3a_fig11a` (the teachers), :mod:`.premise` (the premise ladder), :mod:`.fig3b_fig11b` (the
students), :mod:`.fig10` (teacher ③'s students over time); :mod:`.common` for what several figures share.
"""


from ...chapters import Chapter, register
from .common import ARCH, checkpoint_means, config_metrics, post_hoc_flags, prepare, student_means, unless_unconverged
from .config import (ARCHS, CONVERGENCE_TEXT, DEVIATIONS, FIT_MULTIPLES, GENERALIZED, NAMESPACE, PAPER_FRAC, PRESETS,
                     ROMAN, TEACHERS, ArchConfig, ModularConfig, apply_overrides, config_table, parse_stop,
                     planned_teacher_epochs, student_budget, teacher_record_every)
from .fig10 import FIGURE as FIG10
from .fig10 import fig10_claims, fig10_specs
from .fig3a_fig11a import FIG3A, FIG11A, fit_is_premise, teacher_claims, teacher_specs
from .fig3b_fig11b import (FIG3B, FIG11B, budget_ratio, converged_share, read_settings, rho_saving, student_claims,
                           student_specs, threshold_rhos)
from .premise import FIGURE as PREMISE
from .premise import premise_claims, premise_metrics, premise_specs, premise_table
from .runs import PLAN_NOTES, PREMISE_COLUMNS, paper_epoch_seconds, plan, run
from .students import budget_table, converged
from .teachers import mirror_masks

#: the figures in the order of their claims (the page shows the premise ladder between Fig. 3A and 3B)
FIGURES = (FIG3A, FIG3B, PREMISE, FIG10, FIG11A, FIG11B)
CHAPTER = register(Chapter(
    NAMESPACE, __name__, PRESETS, apply_overrides, DEVIATIONS, run, plan, FIGURES, config_table,
    plan_notes=PLAN_NOTES, prepare=prepare, settings=config_metrics,
))
summarize, reading = CHAPTER.summarize, CHAPTER.reading

__all__ = ["ARCH", "ARCHS", "CHAPTER", "CONVERGENCE_TEXT", "DEVIATIONS", "FIGURES", "FIT_MULTIPLES", "GENERALIZED",
           "NAMESPACE", "PAPER_FRAC", "PLAN_NOTES", "PREMISE_COLUMNS", "PRESETS", "ROMAN", "TEACHERS", "ArchConfig",
           "ModularConfig", "apply_overrides", "budget_ratio", "budget_table", "checkpoint_means", "config_metrics",
           "config_table", "converged", "converged_share", "fig10_claims", "fig10_specs", "fit_is_premise",
           "mirror_masks", "paper_epoch_seconds", "parse_stop", "plan", "planned_teacher_epochs", "post_hoc_flags",
           "premise_claims", "premise_metrics", "premise_specs", "premise_table", "read_settings", "reading",
           "rho_saving", "run", "student_budget", "student_claims", "student_means", "student_specs", "summarize",
           "teacher_claims", "teacher_record_every", "teacher_specs", "threshold_rhos", "unless_unconverged"]
