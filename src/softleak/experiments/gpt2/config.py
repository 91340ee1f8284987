"""Chapter 6's config: the sentences, the model (pretrained weights or the small offline config) and the
optimisation, the presets, the deviations from the paper's protocol, and the settings the page glues."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from ...claims import Deviation
from ...config import check_fraction, check_positive, check_positive_int, check_seeds, replace_checked

NAMESPACE = "06_gpt2"


@dataclass(frozen=True)
class Gpt2Config:
    """Everything chapter 6 runs. ``model_name_or_path=None`` is the offline small model."""

    n: int  # sentences the teacher memorizes (paper: 6000)
    c: int  # classes (paper: 1000)
    seeds: tuple[int, ...]
    rhos: tuple[float, ...] = (0.2, 0.5, 0.8)
    tau: float = 20.0
    max_number: int = 1000
    max_length: int = 10  # tokens after left padding
    n_val: int = 500
    # model: pretrained, or the small offline config below
    model_name_or_path: str | None = None
    n_layer: int = 2
    n_embd: int = 64
    n_head: int = 4
    vocab_size: int = 512  # of the in-process tokenizer
    # optimisation (the authors' code)
    lr: float = 5e-4
    teacher_epochs: int = 100
    teacher_batch: int = 64
    teacher_clip: float = 1.0
    teacher_stop_at: float | None = None  # stop the teacher once its eval-mode accuracy on D*^T reaches this
    student_epochs: int = 200
    student_batch: int = 32
    eval_every: int = 5

    def __post_init__(self) -> None:
        for name in ("n", "c", "max_number", "max_length", "n_val", "n_layer", "n_embd", "n_head", "vocab_size",
                     "teacher_epochs", "teacher_batch", "student_epochs", "student_batch", "eval_every"):
            check_positive_int(name, getattr(self, name))
        check_seeds("seeds", self.seeds)
        for name in ("tau", "lr", "teacher_clip"):
            check_positive(name, getattr(self, name))
        if not self.rhos:
            raise ValueError("rhos=() is not allowed: give at least one value")
        for r in self.rhos:
            check_fraction("rhos[…]", r)
            if int(r * self.n) < 1 or int(r * self.n) >= self.n:
                raise ValueError(f"rho={r} is not allowed with n={self.n}: D_train^S or D_test^S would be empty")
        if self.c < 2:
            raise ValueError(f"c={self.c} is not allowed: c must be >= 2")
        if self.n_embd % self.n_head:
            raise ValueError(f"n_embd={self.n_embd} is not allowed with n_head={self.n_head}: it must be a multiple")
        if self.vocab_size < 258:
            raise ValueError(f"vocab_size={self.vocab_size} is not allowed: the byte-level alphabet needs >= 258")
        if self.teacher_stop_at is not None:
            if not 0 < self.teacher_stop_at <= 1:
                raise ValueError(f"teacher_stop_at={self.teacher_stop_at} is not allowed: an accuracy in (0, 1]")
        if self.model_name_or_path is not None and not str(self.model_name_or_path).strip():
            raise ValueError("model_name_or_path='' is not allowed: give a local folder or a hub name, or None")


def apply_overrides(cfg: Gpt2Config, **overrides) -> Gpt2Config:
    return replace_checked(cfg, **overrides)


PRESETS = {
    "smoke": Gpt2Config(n=60, c=5, seeds=(0,), n_val=40, n_layer=1, n_embd=16, n_head=2, vocab_size=300,
                         teacher_epochs=3, student_epochs=2, eval_every=1),
    # 3 seeds: a Student-t interval over 2 seeds is ±9 sd wide, over 3 seeds ±2.5 sd (≈ 1 min more)
    "cpu": Gpt2Config(n=1000, c=200, seeds=(0, 1, 2), n_layer=2, n_embd=64, n_head=4, teacher_epochs=200,
                       teacher_stop_at=1.0, student_epochs=200, eval_every=5),
    # the paper's one unseeded run per ρ becomes 3 seeded runs, so its numbers are decided on an interval
    "paper": Gpt2Config(n=6000, c=1000, seeds=(0, 1, 2), model_name_or_path="gpt2", teacher_epochs=100,
                         student_epochs=200, eval_every=1),
}


def _model_text(cfg: Gpt2Config) -> str:
    if cfg.model_name_or_path is not None:
        return f"pretrained {cfg.model_name_or_path}"
    return f"offline GPT2Config, {cfg.n_layer} layers × {cfg.n_embd} wide, {cfg.n_head} heads, random init"


def _teacher_text(cfg: Gpt2Config) -> str:
    if cfg.teacher_stop_at is None:
        return f"{cfg.teacher_epochs} epochs"
    return f"until acc_star_T ≥ {cfg.teacher_stop_at:g}, at most {cfg.teacher_epochs} epochs"


DEVIATIONS = (
    Deviation("model", "pretrained GPT-2 small (124 M parameters), teacher and students (App. B)", _model_text,
              "the book runs offline by default; the small config is the same architecture and library code, "
              "without pretraining and with about a thousandth of the parameters, so the paper's numbers are "
              "compared only for pretrained GPT-2 small at the paper's sizes"),
    Deviation("tokenizer", "the standard GPT-2 tokenizer",
              lambda cfg: "the model's own" if cfg.model_name_or_path else
              f"byte-level BPE trained on the sentences, vocabulary ≤ {cfg.vocab_size}",
              "it comes with the pretrained weights; the offline model has none, so one of the same scheme is trained"),
    Deviation("sentences n", "6000", "n", "CPU cost: the teacher and 3 students per seed train in minutes"),
    Deviation("classes c", "1000 (chance 0.1 %)", "c", "about 5 sentences per class, as the paper's 6; chance is 1/c"),
    Deviation("sentence format", "'429_3507_345' (underscores; a number above 1000)",
              lambda cfg: f"3 numbers in 1…{cfg.max_number}, space-separated", "the authors' code"),
    Deviation("teacher training", "100 epochs, 'when the teacher memorizes the sentences with 100 % accuracy'",
              _teacher_text, "the paper's premise is a teacher at 100 %; the stop ends training there",
              post_hoc=True),
    Deviation("student batch and clipping", "'otherwise the same settings as the teacher' (batch 64, clipping 1)",
              lambda cfg: f"batch {cfg.student_batch}, no clipping", "the authors' code; the book follows the code"),
    Deviation("seeds", "one unseeded run per ρ", lambda cfg: f"{len(cfg.seeds)} seeded run{'s' if len(cfg.seeds) != 1 else ''} per ρ",
              "verdicts are decided on intervals over seeds"),
    Deviation("student split", "global random split (code: scikit-learn, seed 12)",
              lambda cfg: "global, split_student seeded by (seed, ρ)", "each ρ's split derives from ρ's value"),
    Deviation("chance level acc_val_S", "'random guessing' ≈ 0.1 % = 1/c",
              lambda cfg: f"measured on {cfg.n_val} fresh sentences with fresh labels", "measured, not assumed"),
    Deviation("evaluation", "every epoch (Fig. 9)",
              lambda cfg: "every epoch" if cfg.eval_every == 1 else f"every {cfg.eval_every} epochs",
              "eval passes cost; final values are read at the last epoch"),
)


def config_table(cfg: Gpt2Config) -> pd.DataFrame:
    """The resolved config as a small table, for the executed page."""
    model = (f"pretrained {cfg.model_name_or_path!r}" if cfg.model_name_or_path
             else f"GPT2Config: {cfg.n_layer} layers, width {cfg.n_embd}, {cfg.n_head} heads, random init; "
                  f"byte-level BPE trained here (vocabulary ≤ {cfg.vocab_size})")
    rows = {
        "data": f"{cfg.n} sentences of 3 numbers in 1…{cfg.max_number}, {cfg.c} random classes; "
                f"{cfg.n_val} fresh sentences for D_val; left-padded to {cfg.max_length} tokens",
        "model": model, "seeds": ", ".join(map(str, cfg.seeds)), "ρ": ", ".join(f"{r:g}" for r in cfg.rhos),
        "τ": f"{cfg.tau:g}",
        "teacher": f"AdamW {cfg.lr:g}, batch {cfg.teacher_batch}, clip {cfg.teacher_clip:g}, {_teacher_text(cfg)}",
        "students": f"AdamW {cfg.lr:g}, batch {cfg.student_batch}, no clipping, {cfg.student_epochs} epochs, "
                    f"evaluated every {cfg.eval_every}",
    }
    return pd.DataFrame({"value": rows})


def settings(cfg: Gpt2Config) -> dict[str, object]:
    """The config's numbers the page glues: chance 1/c, the sentences n and the classes c."""
    return {"chance": 1.0 / cfg.c, "n": cfg.n, "c": cfg.c}
