"""Chapter 7's shared pieces: the structured data of Fig. 4, and the teacher, the students, the split and the
accuracies every experiment of the chapter trains and reads."""

from __future__ import annotations

import hashlib
import pickle
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from ...data import digits, split_student
from ...models import MLPEnsemble
from ...runtime import split_seed
from ...training import fit
from .config import CIFAR_FILES


def structured_data(name: str, data_dir: str | None) -> tuple[torch.Tensor, torch.Tensor]:
    """The structured data set of Fig. 4 as inputs in [−1, 1] and labels.

    ``"digits"``: scikit-learn's 8×8 handwritten digits (1797 images, 10 classes; ships with the
    package, nothing is downloaded). ``"cifar10"``: the 50 000 training images of a local CIFAR-10
    copy in its python-pickle layout (``data_dir`` holds ``data_batch_1`` … ``data_batch_5``).
    """
    if name == "digits":
        return digits()
    if name != "cifar10":
        raise ValueError(f"structured={name!r} is not allowed: 'digits' or 'cifar10'")
    folder = check_cifar_dir(data_dir)
    xs, ys = [], []
    for file in CIFAR_FILES:
        with open(folder / file, "rb") as fh:
            batch = pickle.load(fh, encoding="bytes")
        xs.append(np.asarray(batch[b"data"], dtype=np.float32))
        ys.append(np.asarray(batch[b"labels"], dtype=np.int64))
    return torch.tensor(np.concatenate(xs) / 127.5 - 1.0), torch.tensor(np.concatenate(ys))


def check_cifar_dir(data_dir: str | None) -> Path:
    """The CIFAR-10 folder, or a ValueError naming ``data_dir`` and what it must hold (before any compute)."""
    if data_dir is None:
        raise ValueError("data_dir=None is not allowed with structured='cifar10': pass the folder of a local "
                         "CIFAR-10 copy (cifar-10-batches-py, with data_batch_1 … data_batch_5), or structured='digits'")
    folder = Path(data_dir).expanduser()
    missing = [f for f in CIFAR_FILES if not (folder / f).is_file()]
    if missing:
        raise ValueError(f"data_dir={str(data_dir)!r} is not a CIFAR-10 python folder: missing {', '.join(missing)}")
    with open(folder / CIFAR_FILES[0], "rb") as fh:
        batch = pickle.load(fh, encoding="bytes")
    if not isinstance(batch, dict) or b"data" not in batch or b"labels" not in batch or \
            np.asarray(batch[b"data"]).shape[1:] != (3072,):
        raise ValueError(f"data_dir={str(data_dir)!r}: {CIFAR_FILES[0]} is not a CIFAR-10 batch "
                         "(a pickled dict with b'data' of 3072 values per image and b'labels')")
    return folder


def train_teacher(X, y, p, seed, epochs, lr, device, name):
    """A two-hidden-layer teacher trained on hard labels until it fits all of X (capped)."""
    c = int(y.max()) + 1 if y.numel() else 1
    model = MLPEnsemble((X.shape[-1], p, p, c), [seed], device=device)
    result = fit(model, X, y, steps=epochs, lr=lr, stop_at_acc=1.0, member_names=[name])
    with torch.no_grad():
        logits = model(X)[0]
    reached = bool((logits.argmax(0) == y).all())
    return model, logits, int(result.steps[0]), reached


def train_students(sizes, seeds, X, targets, *, labels, epochs, lr, device, names, loss=None, sample_mask=None):
    """An ensemble of students (one member per seed) trained on ``targets``: the model and its diverged members."""
    model = MLPEnsemble(sizes, seeds, device=device)
    result = fit(model, X, targets, labels=labels, steps=epochs, lr=lr, member_names=names, loss=loss,
                 sample_mask=sample_mask)
    return model, set(result.diverged)


def accuracies(pred: torch.Tensor, y: torch.Tensor) -> np.ndarray:
    """(E, m) predictions against (m,) or (E, m) labels: (E,) accuracies (NaN for an empty set)."""
    if pred.shape[-1] == 0:
        return np.full(pred.shape[0], np.nan)
    return (pred == y).float().mean(-1).cpu().numpy()


def digest(z: torch.Tensor) -> str:
    """A short fingerprint of a teacher's logits: experiments that retrain one teacher check they got the same."""
    return hashlib.sha1(z.detach().cpu().float().numpy().tobytes()).hexdigest()[:12]


def split_stratified(y, rho, seed):
    """The student's stratified split of ``y`` at ρ (its seed from ``seed`` and ρ's value), on ``y``'s device."""
    tr, te = split_student(y.cpu(), rho, split_seed(seed, rho), stratify=True)
    return tr.to(y.device), te.to(y.device)


def heldout_rows(kind, rho, inits, te, y, pred_te, seed):
    """Per held-out sample and student: was it right? (for the class spread and the overlap)."""
    E, m = pred_te.shape
    right = (pred_te == y[te]).cpu().numpy()
    return pd.DataFrame({"kind": kind, "rho": rho, "init": np.repeat(np.arange(E), m), "sample": np.tile(te.cpu().numpy(), E),
                         "y": np.tile(y[te].cpu().numpy(), E), "correct": right.ravel(), "seed": seed})
