"""Chapter 7: the workshop paper (Behrens, ICLR 2025 workshops; ``paper/002_…``).

Setting (workshop §2). Inputs i.i.d. U[−1, 1]^d with exactly ``samples_per_class`` labels of each of
c classes; teacher and students are ReLU MLPs with **two** hidden layers of p units; Adam with
PyTorch's defaults, full batch; the teacher trains on hard labels until it fits all of its data
(capped), students on its soft labels at temperature τ of a **stratified** fraction ρ (the
workshop's α) of that data. The *trivial accuracy* is a model's accuracy on fresh data drawn the
same way (the workshop's "independent" accuracy): measured, never assumed.

Experiments, one per section of the page: the student's capacity and one student over ρ (Fig. 2),
temperature × learning rate (A.1), dataset composition (A.2), removing information (A.3), students
that match only the teacher's similarity scores (Fig. 3, also in chapter 1's 2D toy), the overlap of
what two kinds of students get right (a book extension), structured data (Fig. 4: scikit-learn's
handwritten digits offline, CIFAR-10 from a local folder) and tokenized data (A.4, chapter 2's code).

Seeds: a dataset seed ``s`` gives by role (:func:`softleak.runtime.derive_seed`) the data, the fresh
set ("val"), the teacher init, the split of each ρ (:func:`softleak.runtime.split_seed`, from ρ's
value) and the k-th student init ("student_init", k: the same k for every width, treatment and
kind of student of that dataset). Every seed is a column of the results tables.
"""

from __future__ import annotations

from ...chapters import Chapter, extend_parts, register
from . import a1, a2, a3, a4, fig2, fig3, fig4, overlap, setting
from .a1 import A1_SPEC, a1_evidence
from .a2 import A2_SPECS, SLOPE_TOLERANCE, a2_cells, a2_evidence, first_fit_shift
from .a3 import A3_SPECS, KEEPS, SHARP, TAIL_FRACTION, a3_evidence, tail_k
from .a4 import A4_SPECS, LEAK_MARGIN, a4_evidence, a4_reading, a4_table
from .base import check_cifar_dir, structured_data
from .common import (A2_CLAIMS, MIN_GAIN, MOST, STUDENT_EPOCH_CLAIMS, post_hoc_flags, same_teachers,
                     unfitted_teachers)
from .config import (A1, A2, A3, A4, A4_NAMES, A4_STOPS, CIFAR_FILES, DEVIATIONS, FIRST_RUN, MAIN_EXPERIMENTS, NAMESPACE,
                     PRESETS, STRUCTURED_SHAPES, VARIANTS, Sim, Structured, Toy, WorkshopConfig, apply_overrides,
                     config_table)
from .extra_runs import a2_one
from .fig2 import EVEN_MARGIN, FIG2_SPECS, PERMUTATIONS, capacity_evidence, class_evenness
from .fig3 import SIM_SPECS, sim_evidence
from .fig4 import STRUCTURED_SPECS, structured_evidence
from .overlap import OVERLAP_SPEC, overlap_table
from .runs import PLAN_NOTES, a4_config, plan, run
from .setting import teacher_claims

#: the page's sections in its order: the teachers, Fig. 2, A.1–A.3, Fig. 3, the overlap, Fig. 4 and A.4
FIGURES = tuple(m.FIGURE for m in (setting, fig2, a1, a2, a3, fig3, overlap, fig4, a4))


def settings(cfg: WorkshopConfig) -> dict[str, object]:
    """The config's numbers the page glues."""
    return {"a1.rho": cfg.a1.rho}


#: claim-id prefix -> the seeds its claims read (a later round adds seeds there); None: more seeds do not decide it
SEEDS_READ = {"teachers_fit": "seeds", "fig2": "seeds", "a3": "seeds", "sim": "seeds", "overlap": "seeds",
              "sim.toy_c3": "toy_seeds", "sim.toy_c20": "toy_seeds", "structured": "structured_seeds", "a4": "a4_seeds",
              "a1": None,  # A.1 reads the first teacher only, as the workshop
              "a2": None}  # A.2's runs are cells of a (c, samples, d) grid on the first seed
CHAPTER = register(Chapter(
    NAMESPACE, __name__, PRESETS, apply_overrides, DEVIATIONS, run, plan, FIGURES, config_table,
    plan_notes=PLAN_NOTES, settings=settings, extend=extend_parts(SEEDS_READ),
))
summarize, reading = CHAPTER.summarize, CHAPTER.reading

__all__ = ["A1", "A1_SPEC", "A2", "A2_CLAIMS", "A2_SPECS", "A3", "A3_SPECS", "A4", "A4_NAMES", "A4_SPECS", "A4_STOPS",
           "CHAPTER", "CIFAR_FILES", "DEVIATIONS", "EVEN_MARGIN", "FIG2_SPECS", "FIGURES", "FIRST_RUN", "KEEPS",
           "LEAK_MARGIN", "MAIN_EXPERIMENTS", "MIN_GAIN", "MOST", "NAMESPACE", "OVERLAP_SPEC", "PERMUTATIONS",
           "PLAN_NOTES", "PRESETS", "SHARP", "SIM_SPECS", "SLOPE_TOLERANCE", "STRUCTURED_SHAPES", "STRUCTURED_SPECS",
           "STUDENT_EPOCH_CLAIMS", "Sim", "Structured", "TAIL_FRACTION", "Toy", "VARIANTS", "WorkshopConfig",
           "a1_evidence", "a2_cells", "a2_evidence", "a2_one", "a3_evidence", "a4_config", "a4_evidence", "a4_reading",
           "a4_table", "apply_overrides", "capacity_evidence", "check_cifar_dir", "class_evenness", "config_table",
           "first_fit_shift", "overlap_table", "plan", "post_hoc_flags", "reading", "run", "same_teachers", "settings",
           "sim_evidence", "structured_data", "structured_evidence", "summarize", "tail_k", "teacher_claims",
           "unfitted_teachers"]
