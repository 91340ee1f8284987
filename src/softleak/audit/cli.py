"""``python -m softleak.audit``: the audit from files, with every check made before any training.

Exit status: 0 the audit ran (and, with ``--fail-on-leak``, no recipe leaks); 2 bad input (a message on
stderr names the flag, its value and what is allowed); 3 with ``--fail-on-leak``, at least one recipe's
verdict is "leaks" (the report is still printed and written).
"""

from __future__ import annotations

import argparse
import json
import sys
import zipfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..config import check_positive
from . import stats
from .core import StudentSpec, audit, check_device, check_recipes, check_release

EXIT_OK, EXIT_BAD_INPUT, EXIT_LEAKS = 0, 2, 3

FLAGS = {"logits": "--logits", "inputs": "--inputs", "labels": "--labels", "released": "--released",
         "fresh_inputs": "--fresh-inputs", "fresh_labels": "--fresh-labels", "fresh_logits": "--fresh-logits",
         "test_inputs": "--test-inputs", "test_labels": "--test-labels", "canaries": "--canaries",
         "fresh_canaries": "--fresh-canaries"}
NAMES = {**FLAGS, "device": "--device", "defense": "--defense"}

EPILOG = f"""\
what it reports, per recipe (percent unless said):
{chr(10).join(f"  {q:<24} {meaning}" for q, (_, meaning) in stats.QUANTITIES.items())}
  AUC and exposure are numbers, not percent. The students train at T = 1 on the release softmax(z/τ) after
  the defense; the AUC is of the students' membership score log p_y − log Σ p_other, not the teacher's.

uncertainty: every quantity has a 95 % percentile bootstrap interval that resamples the held-out, fresh and
  test records separately and the student starts (--bootstrap replicates).
null and verdict: --null K draws of a world without leakage: by default (--null-by records) the held-out and
  fresh records' set labels are permuted (valid for any labels, if the fresh records are drawn like the
  held-out ones); --null-by labels permutes the held-out labels among themselves (no fresh records needed,
  valid only for labels not predictable from inputs: random labels, canaries). The verdict is "leaks" when
  the one-sided p-value of held-out − fresh accuracy (labels null: held-out accuracy) is ≤ {stats.ALPHA:g}
  (with --canaries, Bonferroni with the canary comparison); else "no evidence of leakage".
fresh records: at least {stats.MIN_FRESH} for an AUC; a TPR at 1 % FPR needs ≥ {stats.MIN_FALSE_POSITIVES / 0.01:.0f} and at
  5 % ≥ {stats.MIN_FALSE_POSITIVES / 0.05:.0f} (10 false positives at the threshold).
exit status: {EXIT_OK} done; {EXIT_BAD_INPUT} bad input (nothing trained); {EXIT_LEAKS} with --fail-on-leak, some recipe leaks.
"""


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m softleak.audit", epilog=EPILOG,
                                formatter_class=argparse.RawDescriptionHelpFormatter, description=(
        "Audit a soft-label release: train students on the released soft labels and measure how many labels of "
        "the unreleased memorized samples they recover beyond fresh records, their membership signal and their "
        "utility, with intervals over records and starts and a permutation null."))
    p.add_argument("--logits", required=True, help="teacher logits on its memorized inputs, (n, c) .npy")
    p.add_argument("--inputs", required=True, help="the memorized inputs, (n, d) .npy")
    p.add_argument("--labels", required=True, help="their labels (those the teacher memorized), (n,) integer .npy")
    p.add_argument("--released", required=True, help="(n,) boolean .npy: True for the released samples")
    p.add_argument("--tau", type=float, required=True, help="release temperature τ > 0 (students train at T = 1)")
    p.add_argument("--defense", action="append", default=None,
                   help="release recipe, repeatable, each once: none, hard, topk:K, round:B, quant:BITS, noise:SIGMA, "
                        "or a combination such as noise:0.5+topk:5 (default: none)")
    p.add_argument("--fresh-inputs", help="(m, d) .npy of records the teacher never saw, drawn like its data")
    p.add_argument("--fresh-labels", help="(m,) integer .npy, their labels")
    p.add_argument("--fresh-logits", help="(m, c) .npy, the teacher's logits on the fresh inputs (agreement)")
    p.add_argument("--test-inputs", help="(t, d) .npy, a labelled test set of structured data")
    p.add_argument("--test-labels", help="(t,) integer .npy")
    p.add_argument("--canaries", help="(n,) boolean .npy: True for the training records that are canaries")
    p.add_argument("--fresh-canaries", help="(m,) boolean .npy: the fresh records that are canary controls "
                                            "(default: all fresh records)")
    p.add_argument("--hidden", type=int, nargs="*", default=[50], help="student hidden widths (default: 50)")
    p.add_argument("--epochs", type=int, default=2000, help="student epochs of full-batch Adam (default 2000)")
    p.add_argument("--lr", type=float, default=3e-3, help="student learning rate (default 3e-3)")
    p.add_argument("--inits", type=int, default=3, help="student starts per recipe (default 3)")
    p.add_argument("--seed", type=int, default=0, help="base seed of the starts, the noise, the bootstrap and the "
                                                      "null (default 0)")
    p.add_argument("--null", type=int, default=stats.NULL, help=f"null draws (default {stats.NULL}; 0: no verdict)")
    p.add_argument("--null-by", choices=stats.NULLS, default=None,
                   help="records (default with fresh records) or labels (default without)")
    p.add_argument("--bootstrap", type=int, default=stats.BOOTSTRAP,
                   help=f"bootstrap replicates (default {stats.BOOTSTRAP})")
    p.add_argument("--device", default=None, help="cpu or cuda (default: cuda when available)")
    p.add_argument("--out", help="write the report as JSON here (checked writable before training)")
    p.add_argument("--per-record", help="write every record's scores here, .parquet or .csv (checked writable "
                                        "before training)")
    p.add_argument("--fail-on-leak", action="store_true",
                   help=f"exit with status {EXIT_LEAKS} when any recipe's verdict is 'leaks' (a release gate)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    return p


def load(path: str | None, flag: str):
    """A .npy array, or a ValueError naming the flag and the format expected."""
    if path is None:
        return None
    p = Path(path)
    if not p.is_file():
        raise ValueError(f"{flag}={path!r} is not a file")
    with open(p, "rb") as fh:
        head = fh.read(8)
    if head.startswith(b"PK"):
        names = ""
        if zipfile.is_zipfile(p):
            with zipfile.ZipFile(p) as z:
                names = ", ".join(n.removesuffix(".npy") for n in z.namelist()[:5])
        raise ValueError(f"{flag}={path!r} is a .npz archive (arrays: {names or '?'}), not a .npy array: save the one "
                         "array with np.save(path, archive[name])")
    if not head.startswith(b"\x93NUMPY"):
        kind = "a CSV or text file" if _looks_like_text(p) else "not a NumPy .npy file"
        raise ValueError(f"{flag}={path!r} is {kind}: the audit reads .npy arrays written by np.save (for a CSV: "
                         "np.save(path, np.loadtxt(csv, delimiter=','))")
    try:
        a = np.load(p, allow_pickle=False)
    except ValueError as err:
        if "pickle" in str(err):
            raise ValueError(f"{flag}={path!r} holds Python objects (an object array): the audit reads numeric or "
                             "boolean .npy arrays") from None
        raise ValueError(f"{flag}={path!r} could not be read as a .npy array: {err}") from None
    except OSError as err:
        raise ValueError(f"{flag}={path!r} could not be read as a .npy array: {err}") from None
    if a.dtype.kind not in "biuf":
        raise ValueError(f"{flag}={path!r} holds values of dtype {a.dtype} ({'strings' if a.dtype.kind in 'US' else 'not numbers'}): "
                         "the audit needs numbers (labels as integers, masks as booleans)")
    return a


def _looks_like_text(p: Path) -> bool:
    with open(p, "rb") as fh:
        chunk = fh.read(512)
    try:
        chunk.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def check_writable(path: str | None, flag: str, suffixes: Sequence[str] | None = None) -> None:
    """Fail now, before any training, if the report could not be written at ``path``."""
    if path is None:
        return
    p = Path(path)
    if suffixes and p.suffix not in suffixes:
        raise ValueError(f"{flag}={path!r} is not allowed: the file must end in {' or '.join(suffixes)}")
    if p.is_dir():
        raise ValueError(f"{flag}={path!r} is a folder: give a file name")
    parent = p.parent if str(p.parent) else Path(".")
    if not parent.is_dir():
        raise ValueError(f"{flag}={path!r} cannot be written: the folder {str(parent)!r} does not exist")
    existed = p.exists()
    try:
        with open(p, "a"):
            pass
    except OSError as err:
        raise ValueError(f"{flag}={path!r} cannot be written: {err.strerror or err}") from None
    if not existed:
        p.unlink()


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        check_writable(args.out, "--out")
        check_writable(args.per_record, "--per-record", (".parquet", ".csv"))
        check_positive("--tau", args.tau)
        if args.null < 0 or args.bootstrap < 0:
            raise ValueError(f"--null={args.null} / --bootstrap={args.bootstrap} is not allowed: counts >= 0")
        arrays = {k: load(getattr(args, k), flag) for k, flag in FLAGS.items()}
        defenses = args.defense or ["none"]
        student = StudentSpec(hidden=tuple(args.hidden), epochs=args.epochs, lr=args.lr, inits=args.inits,
                              seed=args.seed)
        check_release(arrays["logits"], arrays["inputs"], arrays["labels"], arrays["released"],
                      fresh_X=arrays["fresh_inputs"], fresh_y=arrays["fresh_labels"],
                      fresh_logits=arrays["fresh_logits"], test_X=arrays["test_inputs"], test_y=arrays["test_labels"],
                      canaries=arrays["canaries"], fresh_canaries=arrays["fresh_canaries"], names=NAMES)
        defenses = check_recipes(defenses, arrays["logits"].shape[1])
        device = check_device(args.device)
        if args.null_by == "records" and arrays["fresh_inputs"] is None and args.null:
            raise ValueError("--null-by=records is not allowed without --fresh-inputs and --fresh-labels: the "
                             "held-out records are compared with them (or use --null-by labels)")
    except ValueError as err:
        message = str(err)
        for name, flag in (("tau=", "--tau="), ("defense=", "--defense="), ("device=", "--device="),
                           ("hidden[", "--hidden["), ("epochs=", "--epochs="), ("lr=", "--lr="),
                           ("inits=", "--inits="), ("seed=", "--seed=")):
            if message.startswith(name):
                message = flag + message[len(name):]
        print(f"error: {message}", file=sys.stderr)
        return EXIT_BAD_INPUT
    report = audit(arrays["logits"], arrays["inputs"], arrays["labels"], arrays["released"], tau=args.tau,
                   defenses=defenses, fresh_X=arrays["fresh_inputs"], fresh_y=arrays["fresh_labels"],
                   fresh_logits=arrays["fresh_logits"], test_X=arrays["test_inputs"], test_y=arrays["test_labels"],
                   canaries=arrays["canaries"], fresh_canaries=arrays["fresh_canaries"], student=student,
                   null=args.null, null_by=args.null_by, bootstrap=args.bootstrap, device=device,
                   progress=not args.quiet)
    print(report.format())
    if args.out:
        Path(args.out).write_text(json.dumps(report.to_dict(), indent=1, allow_nan=False))
        print(f"report written to {args.out}")
    if args.per_record:
        frame = report.records()
        if args.per_record.endswith(".csv"):
            frame.to_csv(args.per_record, index=False)
        else:
            frame.to_parquet(args.per_record, index=False)
        print(f"{len(frame)} record scores written to {args.per_record}")
    if args.fail_on_leak and report.leaks():
        print(f"leakage found (--fail-on-leak): exit status {EXIT_LEAKS}", file=sys.stderr)
        return EXIT_LEAKS
    return EXIT_OK
