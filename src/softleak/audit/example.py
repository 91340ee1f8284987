"""The worked example of the README and chapter 8: the files a publisher of a digit teacher would hold, from a
teacher that **memorizes** canaries and from one that **does not**, so that their two audits can disagree.

scikit-learn's 8×8 digits (they ship with it; nothing is downloaded) are split into a training pool and a
test set (:func:`softleak.data.canary_data`); the first ``count`` training images are *canaries* with a random
wrong label. The release holds the real training images (no canary); the held-out memorized records are the
canaries. The fresh records are the test images with a random wrong label drawn the same way (fresh canaries),
the test set the same images with their true labels.

- ``memorize=True``: the teacher trains on the whole pool, canaries included, until it fits every image.
- ``memorize=False``: the teacher trains on the real images only; it never sees a canary's label, so nothing
  about the canaries can leak, and an audit that raises an alarm here is wrong.

Command line::

    python -m softleak.audit.example --out folder [--no-memorize] [--seed 0]

writes the ``.npy`` files and prints the ``python -m softleak.audit`` command to run on them.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from ..config import check_positive, check_positive_int
from ..data import canary_data
from ..models import MLPEnsemble
from ..runtime import derive_seed, resolve_device
from ..training import fit


@dataclass(frozen=True)
class DigitTeacher:
    """The example's teacher: 64 → hidden → 10, full-batch Adam until it fits its training images (at most
    ``steps`` epochs); ``count`` canaries among ``train`` training images; released at ``tau``."""

    count: int = 100
    train: int = 1200
    hidden: int = 128
    lr: float = 1e-3
    steps: int = 5000
    tau: float = 3.0

    def __post_init__(self) -> None:
        for name in ("count", "train", "hidden", "steps"):
            check_positive_int(name, getattr(self, name))
        check_positive("lr", self.lr)
        check_positive("tau", self.tau)
        if not 0 < self.count < self.train < 1797 - 50:
            raise ValueError(f"count={self.count}, train={self.train} is not allowed: 0 < count < train < 1747 "
                             "(the 1797 digits leave at least 50 fresh test images)")


def train_teacher(seed: int, teacher: DigitTeacher = DigitTeacher(), *, memorize: bool = True, device=None):
    """The digits with canaries of ``seed`` (:func:`softleak.data.canary_data`) and a teacher trained on them until
    it fits what it trains on (at most ``teacher.steps`` epochs): the whole pool with ``memorize``, else the real
    images only. Returns ``(model, (X_train, y_train, y_train_true, X_test, y_test, y_test_canary), init seed,
    epochs trained)``. Chapter 8's digit teachers are the ``memorize=True`` ones."""
    device = resolve_device(device)
    data = tuple(t.to(device) for t in canary_data(seed, count=teacher.count, train=teacher.train))
    Xtr, ytr = data[0], data[1]
    trained = slice(0, None) if memorize else slice(teacher.count, None)
    t_seed = derive_seed(seed, "teacher_init", teacher.hidden)
    model = MLPEnsemble((Xtr.shape[1], teacher.hidden, 10), [t_seed], device=device)
    res = fit(model, Xtr[trained], ytr[trained], steps=teacher.steps, lr=teacher.lr, stop_at_acc=1.0,
              member_names=[f"digit teacher (seed {seed}, {'memorizes' if memorize else 'never sees'} the canaries)"])
    return model, data, t_seed, int(res.steps[0])


def write_files(folder, *, memorize: bool = True, seed: int = 0, teacher: DigitTeacher = DigitTeacher(),
                device=None) -> dict[str, Path]:
    """Train the example's teacher (:func:`train_teacher`) and write the audit's files to ``folder``; returns
    ``{flag: path}`` for ``python -m softleak.audit`` (every flag but ``--tau``, ``--defense`` and the student's),
    with the epochs the teacher trained and its accuracy on what it trained on in ``folder / "teacher.txt"``."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    model, (Xtr, ytr, _, Xte, yte, yfc), _, steps = train_teacher(seed, teacher, memorize=memorize, device=device)
    trained = slice(0, None) if memorize else slice(teacher.count, None)
    with torch.no_grad():
        z, zt = model(Xtr)[0].T, model(Xte)[0].T
    released = np.ones(Xtr.shape[0], dtype=bool)
    released[: teacher.count] = False
    canaries = ~released
    arrays = {"--logits": z, "--inputs": Xtr, "--labels": ytr, "--released": released, "--fresh-inputs": Xte,
              "--fresh-labels": yfc, "--fresh-logits": zt, "--test-inputs": Xte, "--test-labels": yte,
              "--canaries": canaries}
    paths = {}
    for flag, a in arrays.items():
        path = folder / f"{flag.strip('-').replace('-', '_')}.npy"
        np.save(path, a.cpu().numpy() if isinstance(a, torch.Tensor) else a)
        paths[flag] = path
    fitted = float((z.argmax(1)[trained] == ytr[trained]).double().mean())
    (folder / "teacher.txt").write_text(f"memorizes the canaries: {memorize}\nseed: {seed}\nepochs: {steps}\n"
                                        f"accuracy on its training images: {fitted:.4f}\n"
                                        f"canary labels it names: {float((z.argmax(1)[:teacher.count] == ytr[:teacher.count]).double().mean()):.4f}\n")
    return paths


def command(paths: dict[str, Path], *, tau: float = DigitTeacher.tau, hidden: int = 128, lr: float = 1e-3,
            epochs: int = 1000, inits: int = 3, defenses: Sequence[str] = ("none", "hard"), out=None) -> list[str]:
    """The ``python -m softleak.audit`` arguments on :func:`write_files`'s files."""
    args = ["--tau", f"{tau:g}"]
    for spec in defenses:
        args += ["--defense", spec]
    args += ["--hidden", str(hidden), "--lr", f"{lr:g}", "--epochs", str(epochs), "--inits", str(inits)]
    if out is not None:
        args += ["--out", str(out)]
    for flag, path in paths.items():
        args += [flag, str(path)]
    return args


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m softleak.audit.example", description=(
        "Write the files of a digit teacher with canaries for python -m softleak.audit: one that memorizes the "
        "canaries (default) or, with --no-memorize, one that never sees them."))
    p.add_argument("--out", required=True, help="folder for the .npy files")
    p.add_argument("--no-memorize", action="store_true", help="the teacher trains on the real images only")
    p.add_argument("--seed", type=int, default=0, help="seed of the split, the canary labels and the teacher")
    args = p.parse_args(argv)
    if args.seed < 0:
        print(f"error: --seed={args.seed} is not allowed: a seed >= 0", file=sys.stderr)
        return 2
    paths = write_files(args.out, memorize=not args.no_memorize, seed=args.seed)
    print((Path(args.out) / "teacher.txt").read_text().rstrip())
    print("python -m softleak.audit " + " ".join(command(paths)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
