"""Audit a soft-label release before publishing it: does it give away the *unreleased* memorized data, by
how much, and what does a defense cost?

A teacher memorized inputs ``X`` with labels ``y``. A publisher releases soft labels for the samples
``released`` (a boolean mask) after a recipe: a temperature τ and a defense
(:func:`softleak.distillation.release`: logit noise, top-k, rounding, quantisation, hard labels, or a
combination). The audit trains several student starts per recipe on the released (input, soft label) pairs
(at T = 1, with the package's ensemble trainer) and reads, per record, what the students make of the
held-out memorized records and of fresh records the teacher never saw (:mod:`softleak.audit.stats`):

- **label leakage**: the held-out accuracy against the fresh accuracy (the control), their difference in
  points (the *leak*), and the normalized advantage (acc − fresh) / (1 − fresh) where the fresh accuracy
  leaves room for it;
- **membership signal**: ROC AUC of the students' score log p_y − log Σ_{y'≠y} p_{y'} on held-out against
  fresh records, and the TPR at 1 % and 5 % FPR where enough fresh records resolve it;
- **canaries** (``canaries`` mask): the share of held-out canaries whose label the students name against
  fresh canaries, and their exposure;
- **utility**: agreement with the teacher's argmax on fresh inputs and, on structured data, test accuracy.

Every number carries a 95 % bootstrap interval over records (held-out, fresh and test resampled apart)
and student starts; a permutation null decides the verdict, "leaks" or "no evidence of leakage", with a
p-value. Chapter 8 of the book uses the same functions.

Command line (no notebook; ``--help`` lists every column and the exit statuses)::

    python -m softleak.audit --logits L.npy --inputs X.npy --labels y.npy --released mask.npy \\
        --tau 4 --defense none --defense topk:5 --fresh-inputs Xf.npy --fresh-labels yf.npy --out report.json

Layout: :mod:`.stats` (record-level statistics, no torch), :mod:`.core` (students, checks, :func:`audit`),
:mod:`.cli` (files, the command line), :mod:`.example` (a memorizing and a non-memorizing digit teacher's
files, the README's worked example).
"""

from . import stats
from .cli import EXIT_BAD_INPUT, EXIT_LEAKS, EXIT_OK, main
from .core import (AuditReport, StudentSpec, audit, check_device, check_recipes, check_release, membership_scores,
                   noise_seed, student_metrics, teacher_logits, train_students)
from .stats import (ALPHA, FPRS, MIN_FALSE_POSITIVES, MIN_FRESH, Records, Sets, advantage, analyse, resolvable,
                    roc_auc, tpr_at_fpr)

__all__ = ["stats", "ALPHA", "AuditReport", "EXIT_BAD_INPUT", "EXIT_LEAKS", "EXIT_OK", "FPRS", "MIN_FALSE_POSITIVES",
           "MIN_FRESH", "Records", "Sets", "StudentSpec", "advantage", "analyse", "audit", "check_device",
           "check_recipes", "check_release", "main", "membership_scores", "noise_seed", "resolvable", "roc_auc",
           "student_metrics", "teacher_logits", "tpr_at_fpr", "train_students"]
