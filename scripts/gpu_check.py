"""`make gpu-check`: every chapter's run at the ``smoke`` preset on CUDA against the same seeds on the CPU.

Per chapter and results table it compares, row by row in the run's own order:

- **exactly**: seeds, configuration and every other non-float column (data, splits and inits are drawn on
  the CPU from the same seeds, so they must not move);
- **within a tolerance**: float columns (accuracies, losses, ...), whose values depend on the device's
  kernels: |CUDA − CPU| ≤ ``TOLERANCE`` on every row (a student that grokks or jumps a few epochs earlier on
  one device can move a smoke-sized accuracy by a few samples).

It prints one line per table and exits 1 if anything differs beyond that; with no CUDA device visible it
says so and exits 0 without running anything.
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import sys

import numpy as np
import pandas as pd

TOLERANCE = 0.25  # absolute, on float columns of smoke-sized runs (a few samples of a small held-out set)


def compare(cpu: pd.DataFrame, gpu: pd.DataFrame, *, tolerance: float = TOLERANCE) -> dict[str, list[str]]:
    """``{"exact": [...], "close": [...], "differ": ["col: why", ...]}`` for two tables of one run."""
    out: dict[str, list[str]] = {"exact": [], "close": [], "differ": []}
    if list(cpu.columns) != list(gpu.columns) or len(cpu) != len(gpu):
        out["differ"].append(f"shape: CPU {cpu.shape} {list(cpu.columns)[:5]}…, CUDA {gpu.shape}")
        return out
    for col in cpu.columns:
        a, b = cpu[col].reset_index(drop=True), gpu[col].reset_index(drop=True)
        if pd.api.types.is_float_dtype(a) and not col.startswith("seed"):
            x, y = a.to_numpy(dtype=float), b.to_numpy(dtype=float)
            both_nan = np.isnan(x) & np.isnan(y)
            gap = np.where(both_nan, 0.0, np.abs(x - y))
            worst = float(np.nanmax(gap)) if gap.size else 0.0
            if np.isnan(gap).any() or worst > tolerance:
                out["differ"].append(f"{col}: max |CUDA − CPU| = {worst:.3g} > {tolerance:g}" if not np.isnan(gap).any()
                                     else f"{col}: NaN on one device only")
            else:
                out["exact" if worst == 0 else "close"].append(col)
        elif a.astype(str).equals(b.astype(str)):
            out["exact"].append(col)
        else:
            out["differ"].append(f"{col}: {int((a.astype(str) != b.astype(str)).sum())} of {len(a)} rows differ")
    return out


def _tables(result) -> dict[str, pd.DataFrame]:
    return result if isinstance(result, dict) else {"runs": result}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", default=None, help="notebook stems (default: every chapter)")
    args = parser.parse_args(argv)
    import torch

    from softleak import presets

    if not torch.cuda.is_available():
        print("gpu-check skipped: no CUDA device is visible to PyTorch (torch.cuda.is_available() is False); "
              "nothing was compared")
        return 0
    print(f"CUDA device: {torch.cuda.get_device_name(0)}; tolerance on float columns {TOLERANCE:g}")
    bad = 0
    for stem, name in presets.SECTIONS.items():
        if args.only and stem not in args.only:
            continue
        module = importlib.import_module(name)
        cfg = presets.resolve(stem, "smoke")
        kw = {"workers": 1} if "workers" in inspect.signature(module.run).parameters else {}
        cpu = _tables(module.run(cfg, device="cpu", progress=False, **kw))
        gpu = _tables(module.run(cfg, device="cuda", progress=False, **kw))
        for table in sorted(set(cpu) | set(gpu)):
            if table not in cpu or table not in gpu:
                print(f"{stem}/{table}: only on {'CPU' if table in cpu else 'CUDA'}")
                bad += 1
                continue
            r = compare(cpu[table], gpu[table])
            bad += bool(r["differ"])
            print(f"{stem}/{table}: {len(r['exact'])} columns exact, {len(r['close'])} within tolerance"
                  + (f"; DIFFER: {'; '.join(r['differ'])}" if r["differ"] else ""))
    print("gpu-check: " + ("every table agrees" if not bad else f"{bad} table(s) differ"))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
