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

from ...chapters import Chapter, register
from . import canary, example, random_labels, safe
from .canary import CANARY_SPECS, UTILITY_KEPT, canary_evidence, read_canary
from .common import (CONFIDENCE, FIT_LEVEL, LEAKS, LEAKS_WORD, NULL_BASIS, RISING, SAFE_AUC, STOPPED, best_table,
                     pareto_table, pooled_null, safe_rule, stopped_rule, unconverged)
from .config import (DEVIATIONS, FAMILIES, MODES, NAMESPACE, PRESETS, TABLES, Audit, Canary, Regime, ReleaseConfig,
                     apply_overrides, config_table, settings)
from .example import (EXAMPLE_TEACHERS, audit_command, audit_examples, example_metrics, example_teacher,
                      write_example)
from .random_labels import (BUDGET_POST_HOC, COST, HALF, JUMP_LEAK, KEEPS, RANDOM_SPECS, post_hoc, random_evidence,
                            read_random, topk_reading)
from .runs import PLAN_NOTES, canary_teacher, plan, recipes, release_all, results_table, run

#: the page's figures and sections, in page order
FIGURES = (random_labels.FIGURE, canary.FIGURE, example.FIGURE, safe.FIGURE)
#: every claim of the chapter, in page order
SPECS = [*RANDOM_SPECS, *CANARY_SPECS]

CHAPTER = register(Chapter(
    NAMESPACE, __name__, PRESETS, apply_overrides, DEVIATIONS, run, plan, FIGURES, config_table,
    plan_notes=PLAN_NOTES, settings=settings,
))
summarize, reading = CHAPTER.summarize, CHAPTER.reading

__all__ = ["Audit", "BUDGET_POST_HOC", "CANARY_SPECS", "CHAPTER", "CONFIDENCE", "COST", "Canary", "DEVIATIONS",
           "EXAMPLE_TEACHERS", "FAMILIES", "FIGURES", "FIT_LEVEL", "HALF", "JUMP_LEAK", "KEEPS", "LEAKS", "LEAKS_WORD",
           "MODES", "NAMESPACE", "NULL_BASIS", "PLAN_NOTES", "PRESETS", "RANDOM_SPECS", "RISING", "Regime",
           "ReleaseConfig", "SAFE_AUC", "SPECS", "STOPPED", "TABLES", "UTILITY_KEPT", "apply_overrides",
           "audit_command", "audit_examples", "best_table", "canary_evidence", "canary_teacher", "config_table",
           "example_metrics", "example_teacher", "pareto_table", "plan", "pooled_null", "post_hoc", "random_evidence",
           "read_canary", "read_random", "reading", "recipes", "release_all", "results_table", "run", "safe_rule",
           "settings", "stopped_rule", "summarize", "topk_reading", "unconverged", "write_example"]
