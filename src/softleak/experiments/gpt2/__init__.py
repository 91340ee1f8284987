"""Chapter 6: GPT-2 sequence classifiers on random number sentences (paper App. B, Fig. 9; spec §6).

Data: n sentences of three numbers drawn uniformly from 1…``max_number``, written with spaces
("234 300 3"), each with a class drawn uniformly from c classes. A teacher memorizes all n; students
train on its soft labels (τ = 20) for a global random fraction ρ and are scored on the rest, and on
``n_val`` fresh sentences with fresh random labels (acc_val_S: the measured chance level).

Model: Hugging Face ``transformers``' own ``GPT2ForSequenceClassification`` (the linear head reads
the last non-pad token; sentences are left-padded to ``max_length`` tokens, pad = EOS).

- Offline default (``model_name_or_path=None``): a small ``GPT2Config`` with randomly initialised
  weights and a byte-level BPE tokenizer trained in-process with ``tokenizers`` on the sentences
  themselves. Nothing is downloaded.
- ``model_name_or_path``: pretrained weights and their tokenizer from a local folder, or a hub
  name the user has in their cache or can download. A path that cannot be loaded raises a
  ``ValueError`` naming it; no network is tried for a local path.

Training follows the authors' code: AdamW (weight decay 0, eps 1e-6); teacher batch 64 with
gradient clipping at 1.0, students batch 32 without; dropout active during training; accuracies
measured in eval mode.

Seeds: ``derive_seed(seed, role)`` for the sentences and labels (``data``), the teacher
(``teacher_init`` for the head / weights, ``shuffle`` for its batch order and dropout) and D_val
(``val``). Everything per student derives from ρ's *value*, never its position in ``rhos``: the split
is :func:`softleak.data.split_student` with :func:`softleak.runtime.split_seed` ``(seed, ρ)``, and
each student's ``student_init`` and ``shuffle`` use the index round(10⁴ ρ), the same resolution.

Claims (Fig. 9, :mod:`.fig9`): :func:`teacher_claims` shows the paper's premise (a teacher at 100 %, which the
teacher stop makes true: not counted) and :func:`fig9_claims` decides each declared rule on Student-t
intervals over seeds. The paper's claims are about pretrained GPT-2: on any other model (the offline
small config) they read *untested*, and what that model shows is decided as the book's own claims
(``fig9.offline.*``). A claim that reads a student of a teacher that did not memorize its sentences, or a
student still moving at the end of its epochs, is inconclusive (not converged). :func:`summarize` joins
them (the seed means per ρ are its table ``means``); :func:`reading` writes the page's conclusion from the
verdicts.
"""

from __future__ import annotations

from ...chapters import Chapter, register
from .config import DEVIATIONS, NAMESPACE, PRESETS, Gpt2Config, apply_overrides, config_table, settings
from .fig9 import (FAR_ABOVE_CHANCE, FIGURE, GAP_OVER_VAL, NOT_GPT2_PAPER, ON_ANOTHER_MODEL, PAPER_ACC_TEST,
                   PAPER_ACC_TRAIN, PAPER_OVER_60, PAPER_SETTING, RISING, TEACHER_SPEC, TEACHER_STOP_POST_HOC,
                   TRAIN_TOLERANCE, VALUE_TOLERANCE, fig9_claims, fig9_specs, model_label, not_gpt2, paper_setting,
                   teacher_claims, unconverged)
from .runs import (EOS, EVAL_BATCH, PLAN_NOTES, build, encode, logits_of, num_parameters, plan, run, sentences, train,
                   train_tokenizer)

FIGURES = (FIGURE,)
CHAPTER = register(Chapter(
    NAMESPACE, __name__, PRESETS, apply_overrides, DEVIATIONS, run, plan, FIGURES, config_table,
    plan_notes=PLAN_NOTES, settings=settings,
))
summarize, reading = CHAPTER.summarize, CHAPTER.reading

__all__ = ["CHAPTER", "DEVIATIONS", "EOS", "EVAL_BATCH", "FAR_ABOVE_CHANCE", "FIGURES", "GAP_OVER_VAL", "NAMESPACE",
           "NOT_GPT2_PAPER", "ON_ANOTHER_MODEL", "PAPER_ACC_TEST", "PAPER_ACC_TRAIN", "PAPER_OVER_60", "PAPER_SETTING",
           "PLAN_NOTES", "PRESETS", "RISING", "TEACHER_SPEC", "TEACHER_STOP_POST_HOC", "TRAIN_TOLERANCE",
           "VALUE_TOLERANCE", "Gpt2Config", "apply_overrides", "build", "config_table", "encode", "fig9_claims",
           "fig9_specs", "logits_of", "model_label", "not_gpt2", "num_parameters", "paper_setting", "plan", "reading",
           "run", "sentences", "settings", "summarize", "teacher_claims", "train", "train_tokenizer", "unconverged"]
