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

from ...chapters import Chapter, register
from .config import (C3, C20, DEVIATIONS, NAMESPACE, PRESETS, STUDENT_KINDS, Toy2DConfig, ToyCase, apply_overrides,
                     config_table)
from .fig1_fig8 import FIGURES, PAPER, case_claims, teacher_claims, unconverged
from .runs import PLAN_NOTES, grid_points, plan, run

CHAPTER = register(Chapter(
    NAMESPACE, __name__, PRESETS, apply_overrides, DEVIATIONS, run, plan, FIGURES, config_table,
    plan_notes=PLAN_NOTES,
))
summarize, reading = CHAPTER.summarize, CHAPTER.reading

__all__ = ["C3", "C20", "CHAPTER", "DEVIATIONS", "FIGURES", "NAMESPACE", "PAPER", "PLAN_NOTES", "PRESETS",
           "STUDENT_KINDS", "Toy2DConfig", "ToyCase", "apply_overrides", "case_claims", "config_table", "grid_points",
           "plan", "reading", "run", "summarize", "teacher_claims", "unconverged"]
