"""Chapter 6's runs: per seed, the sentences and labels, a teacher that memorizes them, and one student per ρ on
its soft labels, each a Hugging Face ``GPT2ForSequenceClassification`` trained by mini-batch AdamW; the compute
plan of the same."""

from __future__ import annotations

import math
import os
from functools import partial
from pathlib import Path

import pandas as pd
import torch
from tqdm.auto import tqdm

from ...data import split_student
from ...distillation import soft_labels
from ...metrics import accuracy, agreement
from ...plan import Batch, Fit
from ...runtime import derive_seed, make_generator, resolve_device, rho_index, split_seed
from ...sweeps import default_workers, run_sweep
from .config import NAMESPACE, Gpt2Config

EOS = "<|endoftext|>"


# ---------------------------------------------------------------------------------------------------
# Data and model


def sentences(n: int, c: int, max_number: int, seed: int) -> tuple[list[str], torch.Tensor]:
    """n sentences "x y z" of numbers uniform in 1…max_number, with labels uniform in 0…c−1 (not balanced)."""
    g = make_generator(seed)
    nums = torch.randint(1, max_number + 1, (n, 3), generator=g)
    labels = torch.randint(0, c, (n,), generator=g)
    return [" ".join(map(str, row)) for row in nums.tolist()], labels


def train_tokenizer(texts: list[str], vocab_size: int):
    """A byte-level BPE tokenizer trained on ``texts`` (GPT-2's scheme), pad = EOS, left padding."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=[EOS], show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(texts, trainer)
    return PreTrainedTokenizerFast(tokenizer_object=tok, eos_token=EOS, pad_token=EOS, padding_side="left")


def _load_pretrained(name_or_path: str, c: int, seed: int):
    """Tokenizer and classifier from a local folder or a hub name; a clear error if they cannot be loaded."""
    from transformers import AutoTokenizer, GPT2ForSequenceClassification

    local = Path(name_or_path).expanduser()
    looks_local = local.exists() or os.sep in name_or_path or name_or_path.startswith(".")
    if looks_local and not (local / "config.json").exists():
        raise ValueError(f"model_name_or_path={name_or_path!r} cannot be loaded: no config.json in that folder "
                         "(give a folder saved by save_pretrained, a hub name you have, or None for the offline model)")
    source = str(local) if looks_local else name_or_path
    offline = looks_local or os.environ.get("HF_HUB_OFFLINE", "0").lower() in ("1", "true", "yes")

    def load(local_only: bool):
        tok = AutoTokenizer.from_pretrained(source, local_files_only=local_only)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)  # the new classification head is drawn here
            model = GPT2ForSequenceClassification.from_pretrained(source, num_labels=c, local_files_only=local_only)
        return tok, model

    try:
        try:  # the local folder, or the hub name from the HF cache: no network
            tok, model = load(True)
        except OSError:
            if offline:
                raise
            tok, model = load(False)  # a hub name not in the cache: download (the user asked for it)
    except Exception as err:  # OSError, ValueError, connection errors: one message that names the parameter
        raise ValueError(f"model_name_or_path={name_or_path!r} cannot be loaded ({type(err).__name__}: {err}). "
                         "Give a local folder with the weights and tokenizer files, a hub name in the HF cache "
                         "(or reachable online), or None for the offline model.") from err
    tok.pad_token = tok.eos_token
    tok.padding_side = "left"
    model.config.pad_token_id = tok.pad_token_id
    return tok, model


def build(cfg: Gpt2Config, tokenizer, seed: int, device):
    """A fresh classifier: pretrained backbone + new head, or the small config with random weights."""
    if cfg.model_name_or_path is not None:
        return _load_pretrained(cfg.model_name_or_path, cfg.c, seed)[1].to(device)
    from transformers import GPT2Config, GPT2ForSequenceClassification

    conf = GPT2Config(vocab_size=len(tokenizer), n_positions=max(16, cfg.max_length), n_embd=cfg.n_embd,
                      n_layer=cfg.n_layer, n_head=cfg.n_head, num_labels=cfg.c, pad_token_id=tokenizer.pad_token_id,
                      bos_token_id=tokenizer.eos_token_id, eos_token_id=tokenizer.eos_token_id)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = GPT2ForSequenceClassification(conf)
    return model.to(device)


def encode(tokenizer, texts: list[str], max_length: int, device) -> tuple[torch.Tensor, torch.Tensor]:
    enc = tokenizer(texts, padding="max_length", max_length=max_length, truncation=True, return_tensors="pt")
    return enc["input_ids"].to(device), enc["attention_mask"].to(device)


def num_parameters(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


# ---------------------------------------------------------------------------------------------------
# Training


EVAL_BATCH = 512  # sentences per forward of an evaluation


@torch.no_grad()
def logits_of(model, ids, mask, batch: int = EVAL_BATCH) -> torch.Tensor:
    """Eval-mode logits (n, c), float32."""
    model.eval()
    out = [model(input_ids=ids[i:i + batch], attention_mask=mask[i:i + batch]).logits.float()
           for i in range(0, len(ids), batch)]
    return torch.cat(out)


def train(model, ids, mask, targets, *, epochs: int, batch: int, lr: float, clip: float | None, seed: int,
          evaluate=None, eval_every: int = 1, stop=None, progress: bool = False, desc: str = "") -> pd.DataFrame:
    """Mini-batch AdamW (weight decay 0, eps 1e-6, as the authors' code) on hard (n,) or soft (n, c) targets.

    Args:
        evaluate: called after epochs 0, every ``eval_every`` and the last; returns a dict of metrics.
        stop: called with those metrics; True ends training.

    Returns:
        One row per evaluation: ``epoch`` and the metrics. The batch order and the dropout masks
        both follow ``seed``.
    """
    opt = torch.optim.AdamW(model.parameters(), lr=lr, betas=(0.9, 0.999), eps=1e-6, weight_decay=0.0)
    g = make_generator(seed)
    rows = []

    def record(epoch):
        m = evaluate() if evaluate else {}
        rows.append({"epoch": epoch, **m})
        return bool(stop(m)) if stop else False

    # dropout draws from the global generator: seed it for this run only, so a run repeats from its seed
    devices = [ids.device.index or 0] if ids.device.type == "cuda" else []
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(seed)
        done = record(0)
        bar = tqdm(range(1, epochs + 1), desc=desc, leave=False, disable=not progress)
        for epoch in bar:
            if done:
                break
            model.train()
            order = torch.randperm(len(ids), generator=g).to(ids.device)
            for i in range(0, len(ids), batch):
                idx = order[i:i + batch]
                logits = model(input_ids=ids[idx], attention_mask=mask[idx]).logits.float()
                # class indices: the hard CE; probabilities: the soft-label CE −Σ_k ŷ_k log softmax(z)_k
                loss = torch.nn.functional.cross_entropy(logits, targets[idx])
                opt.zero_grad(set_to_none=True)
                loss.backward()
                if clip is not None:
                    torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
                opt.step()
            if epoch % eval_every == 0 or epoch == epochs:
                done = record(epoch)
                if rows[-1]:
                    bar.set_postfix({k: f"{v:.3f}" for k, v in rows[-1].items() if k != "epoch"})
    return pd.DataFrame(rows)


def _acc(logits: torch.Tensor, y: torch.Tensor) -> float:
    """Accuracy of (n, c) logits: the package's :func:`softleak.metrics.accuracy` on the (c, n) layout."""
    return float(accuracy(logits.T, y))


def _run_seed(conf: dict, cfg: Gpt2Config, device, progress: bool) -> dict[str, pd.DataFrame]:
    """Teacher and every student of one seed."""
    seed = conf["seed"]
    texts, y_all = sentences(cfg.n, cfg.c, cfg.max_number, derive_seed(seed, "data"))
    val_texts, y_val = sentences(cfg.n_val, cfg.c, cfg.max_number, derive_seed(seed, "val"))
    if cfg.model_name_or_path is None:
        tokenizer = train_tokenizer(texts, cfg.vocab_size)
        teacher = build(cfg, tokenizer, derive_seed(seed, "teacher_init"), device)
    else:  # the tokenizer comes with the weights: one load gives both
        tokenizer, teacher = _load_pretrained(cfg.model_name_or_path, cfg.c, derive_seed(seed, "teacher_init"))
        teacher = teacher.to(device)
    ids, mask = encode(tokenizer, texts, cfg.max_length, device)
    val_ids, val_mask = encode(tokenizer, val_texts, cfg.max_length, device)
    y, y_val = y_all.to(device), y_val.to(device)

    t_hist = train(teacher, ids, mask, y, epochs=cfg.teacher_epochs, batch=cfg.teacher_batch, lr=cfg.lr,
                   clip=cfg.teacher_clip, seed=derive_seed(seed, "shuffle"), eval_every=cfg.eval_every,
                   evaluate=lambda: {"acc_star_T": _acc(logits_of(teacher, ids, mask), y)},
                   stop=(lambda m: m["acc_star_T"] >= cfg.teacher_stop_at) if cfg.teacher_stop_at else None,
                   progress=progress, desc=f"teacher (seed {seed})")
    z = logits_of(teacher, ids, mask)
    teacher_row = {"acc_star_T": _acc(z, y), "acc_val_T": _acc(logits_of(teacher, val_ids, val_mask), y_val),
                   "teacher_epochs_run": int(t_hist["epoch"].iloc[-1])}
    q = soft_labels(z.T.double(), cfg.tau).T.float()  # (n, c)
    teacher = None  # free its memory before the students train

    runs, curves = [], []
    for rho in cfg.rhos:
        tr, te = (idx.to(device) for idx in split_student(y_all, rho, split_seed(seed, rho)))
        k = rho_index(rho)
        student = build(cfg, tokenizer, derive_seed(seed, "student_init", k), device)

        def evaluate():
            lt, lte = logits_of(student, ids[tr], mask[tr]), logits_of(student, ids[te], mask[te])
            return {"acc_train_S": _acc(lt, y[tr]), "acc_test_S": _acc(lte, y[te]),
                    "acc_match_T_test": float(agreement(lte.T, z[te].T)),
                    "acc_val_S": _acc(logits_of(student, val_ids, val_mask), y_val)}

        h = train(student, ids[tr], mask[tr], q[tr], epochs=cfg.student_epochs, batch=cfg.student_batch, lr=cfg.lr,
                  clip=None, seed=derive_seed(seed, "shuffle", k), evaluate=evaluate, eval_every=cfg.eval_every,
                  progress=progress, desc=f"student ρ = {rho:g} (seed {seed})")
        h.insert(0, "rho", rho)
        curves.append(h)
        runs.append({"seed": seed, "rho": rho, **h.iloc[-1].drop(["epoch", "rho"]).to_dict(),
                     "epochs": int(h["epoch"].iloc[-1]), **teacher_row,
                     "seed_split": split_seed(seed, rho), "seed_student": derive_seed(seed, "student_init", k),
                     "num_parameters": num_parameters(student), "vocab": len(tokenizer),
                     "model_layers": int(student.config.n_layer), "model_width": int(student.config.n_embd)})
        student = None
    return {"runs": pd.DataFrame(runs), "curves": pd.concat(curves, ignore_index=True), "teacher_curve": t_hist}


def _run_seeds(batch: list[dict], cfg: Gpt2Config, device, progress: bool) -> list[dict[str, pd.DataFrame]]:
    return [_run_seed(c, cfg, device, progress) for c in batch]


def run(cfg: Gpt2Config, *, cache_dir=None, progress: bool = True, device=None,
        workers: int | None = None) -> dict[str, pd.DataFrame]:
    """Teacher and students for every seed, cached per seed.

    On a CPU the seeds run in one worker process per core, each on one thread (:func:`softleak.sweeps.run_sweep`):
    a model this small is bound by the time each of its many small operations takes to dispatch, which a second
    thread does not shorten and a second process halves (measured: see the chapter's issue note). On a GPU, one
    seed after another in this process.

    Returns:
        ``{"runs": one row per (seed, ρ): final acc_train_S, acc_test_S, acc_val_S, acc_match_T_test, the
        teacher's acc_star_T and acc_val_T, the seeds used, the model's size; "curves": per (seed, ρ,
        evaluated epoch); "teacher_curve": per (seed, evaluated epoch)}``.
    """
    device = resolve_device(device)
    if cfg.model_name_or_path is not None:  # fail before any compute if the weights cannot be loaded
        _load_pretrained(cfg.model_name_or_path, cfg.c, 0)
    fields = {k: (list(v) if isinstance(v, tuple) else v) for k, v in cfg.__dict__.items() if k != "seeds"}
    configs = [{**fields, "seed": s} for s in cfg.seeds]
    workers = default_workers(device) if workers is None else workers
    return run_sweep(partial(_run_seeds, cfg=cfg, device=device, progress=progress and workers == 1), configs,
                     cache_dir=cache_dir, namespace=NAMESPACE, progress=progress, desc="seeds (teacher + students)",
                     workers=workers)


class _Logits(torch.nn.Module):
    """A sequence classifier as the compute plan calls it: token ids in, the last position's logits out (the
    backbone and the head at every position, as the classifier computes them; no padding, so no mask)."""

    def __init__(self, model: torch.nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        hidden = self.model.transformer(input_ids=ids).last_hidden_state
        return self.model.score(hidden)[:, -1]


def _plan_model(cfg: Gpt2Config) -> torch.nn.Module:
    """The classifier's shape on the meta device: the offline config, or the weights' own config (GPT-2 small's,
    transformers' defaults, when a hub name's config is not on this machine)."""
    from transformers import AutoConfig, GPT2Config, GPT2ForSequenceClassification

    if cfg.model_name_or_path is None:
        conf = GPT2Config(vocab_size=cfg.vocab_size, n_positions=max(16, cfg.max_length), n_embd=cfg.n_embd,
                          n_layer=cfg.n_layer, n_head=cfg.n_head, num_labels=cfg.c, bos_token_id=0, eos_token_id=0)
    else:
        try:
            conf = AutoConfig.from_pretrained(cfg.model_name_or_path, local_files_only=True, num_labels=cfg.c)
        except (OSError, ValueError):
            conf = GPT2Config(num_labels=cfg.c)
    conf.pad_token_id = None  # no padding in the plan's all-zero ids: nothing to look up
    with torch.device("meta"):
        return _Logits(GPT2ForSequenceClassification(conf))


PLAN_NOTES = ("mini-batch AdamW: one step per batch; every evaluation forwards D*^T (and, for a student, the "
              "validation sentences); with model_name_or_path the shape is the weights' config, GPT-2 small's "
              "when that is not on this machine",)


def plan(cfg: Gpt2Config) -> list[Batch]:
    """The batches :func:`run` trains, for :mod:`softleak.plan`: per seed, the teacher and one student per ρ."""
    T, n = cfg.max_length, cfg.n
    evals = lambda epochs: epochs // cfg.eval_every + 2  # noqa: E731
    build = partial(_plan_model, cfg)
    out = []
    for _ in cfg.seeds:
        fits = [Fit(build, (cfg.teacher_batch, T), cfg.teacher_epochs * math.ceil(n / cfg.teacher_batch),
                    records=evals(cfg.teacher_epochs), eval_rows=n - cfg.teacher_batch, dtype=torch.long,
                    eval_chunk=EVAL_BATCH),
                Fit(build, (EVAL_BATCH, T), 0, records=math.ceil((n + cfg.n_val) / EVAL_BATCH), dtype=torch.long)]
        for rho in cfg.rhos:
            m = int(rho * n)
            fits.append(Fit(build, (cfg.student_batch, T), cfg.student_epochs * math.ceil(m / cfg.student_batch),
                            records=evals(cfg.student_epochs), eval_rows=n + cfg.n_val - cfg.student_batch,
                            dtype=torch.long, eval_chunk=EVAL_BATCH))
        out.append(Batch("seeds (teacher + students)", 1, tuple(fits)))
    return out

