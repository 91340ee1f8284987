"""One look for every figure. Plotting functions take tidy tables, never models.

A core (:mod:`.core`: theme, metric labels and colours, the region colour registry, heatmap
helpers) and one module per chapter; every figure function is re-exported here, so a notebook
calls ``plotting.toy_figure(...)`` and a reader finds its code in ``plotting/<chapter>.py``.
"""

from .core import METRICS, REGION_COLOURS, STUDENTS, class_colours, heatmap, plt, set_theme
from .gpt2 import gpt2_curves
from .ladders import ladders
from .mlp import (ALPHA_MLP, MLP_REGIONS, VARIANT_STYLE, grouped_curves, loss_curves, mlp_maps, mlp_phase_diagram,
                  rho_sweeps, training_curves, treatment_panels)
from .modular import TEACHER_MARKS, premise_ladder, student_curves, teacher_curves, teacher_tau_grid
from .release import FAMILY_STYLE, audit_view, best_view, example_view, pareto_view, release_pareto
from .thresholds import (REGIONS, THRESHOLD_CURVES, accuracies_vs_alpha, metric_maps, phase_diagram, rho_alpha_maps,
                         scaling_panels, tau_heatmaps, threshold_curves)
from .toy import across_datasets, toy_figure
from .workshop import (capacity, class_accuracy, composition_maps, overlap, removal_panels, similarity_panels, structured,
                       tau_lr_heatmap)

__all__ = [
    "ALPHA_MLP", "FAMILY_STYLE", "METRICS", "audit_view", "best_view", "example_view", "pareto_view", "release_pareto", "capacity", "class_accuracy", "composition_maps", "overlap", "removal_panels",
    "similarity_panels", "structured", "tau_lr_heatmap", "MLP_REGIONS", "REGIONS", "REGION_COLOURS", "STUDENTS", "TEACHER_MARKS",
    "THRESHOLD_CURVES", "VARIANT_STYLE", "accuracies_vs_alpha", "across_datasets", "class_colours", "gpt2_curves",
    "grouped_curves", "heatmap", "ladders", "loss_curves", "metric_maps", "mlp_maps", "mlp_phase_diagram", "phase_diagram",
    "plt", "premise_ladder", "rho_alpha_maps", "rho_sweeps", "scaling_panels", "set_theme", "student_curves", "tau_heatmaps",
    "teacher_curves", "teacher_tau_grid", "threshold_curves", "toy_figure", "training_curves", "treatment_panels",
]
