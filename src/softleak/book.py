"""Build steps of the book: execute the chapter notebooks with papermill, render the scoreboard.

Usage (the Makefile calls these)::

    python -m softleak.book execute --preset cpu      # notebooks/NN_x.ipynb -> book/chapters/NN_x.ipynb
    python -m softleak.book scoreboard --preset cpu   # results/*/cpu/claims.json -> book/scoreboard.md, status.md, report.md
    python -m softleak.book plan --preset paper       # what every chapter will train, before it runs

The chapters to execute are the ``book/chapters/<stem>`` entries of ``_toc.yml``; a failing cell
stops the build with papermill's error, naming the notebook and the cell.
"""

from __future__ import annotations

import argparse
import json
import contextlib
import logging
import os
import sys
import time
from pathlib import Path

import yaml

from .claims import repo_root, scoreboard_markdown
from .pages import report_markdown, status_markdown
from .config import check_choice
from .presets import PRESET_NAMES

log = logging.getLogger(__name__)
CHAPTER_PREFIX = "book/chapters/"


def toc_chapters(root: str | os.PathLike) -> list[str]:
    """Notebook stems listed in ``<root>/_toc.yml`` as ``book/chapters/<stem>``, in order."""
    toc = yaml.safe_load((Path(root) / "_toc.yml").read_text())
    found: list[str] = []

    def walk(node) -> None:
        if isinstance(node, dict):
            f = node.get("file")
            if isinstance(f, str) and f.startswith(CHAPTER_PREFIX):
                found.append(Path(f).stem)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(toc)
    return found


def notebook_title(path: str | os.PathLike) -> str:
    """The first Markdown heading of a notebook (its chapter title), or its stem."""
    import json

    for cell in json.loads(Path(path).read_text())["cells"]:
        if cell["cell_type"] == "markdown":
            for line in "".join(cell["source"]).splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    return Path(path).stem


def execute(preset: str, *, root: str | os.PathLike, notebooks: str | os.PathLike, only: list[str] | None = None,
            scheduler: str | None = None) -> list[Path]:
    """Execute every chapter of the table of contents at ``preset`` into ``<root>/book/chapters``; with a
    ``scheduler`` ("local" or a Dask scheduler address) every chapter's sweeps run on it."""
    import papermill

    check_choice("preset", preset, PRESET_NAMES)
    from .sweeps import check_scheduler

    from .claims import results_dir
    from .pages import annotate
    from .experiments import load_all
    from .plan import preset_costs, rates_for
    from .presets import SECTIONS

    check_scheduler(scheduler)  # before any notebook runs
    load_all()
    root, notebooks = Path(root), Path(notebooks)
    chapters = toc_chapters(root)
    for stem in only or ():  # a misspelt stem would otherwise run nothing, silently
        check_choice("only", stem, chapters)
    out_dir = root / CHAPTER_PREFIX
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for stem in chapters:
        if only and stem not in only:
            continue
        source = notebooks / f"{stem}.ipynb"
        if not source.exists():
            raise FileNotFoundError(f"_toc.yml lists {CHAPTER_PREFIX}{stem}, but {source} does not exist")
        start = time.time()
        out, kernel_log = out_dir / f"{stem}.ipynb", out_dir / f"{stem}.log"
        try:
            with _stderr_to(kernel_log):  # the kernel's own chatter (transport warnings, workers' logs)
                papermill.execute_notebook(
                    str(source), str(out), parameters={"preset": preset, "progress": False,
                                                       **({"scheduler": scheduler} if scheduler else {})},
                    kernel_name="python3", cwd=str(notebooks), progress_bar=False,
                )
        except papermill.PapermillExecutionError as err:
            raise ChapterFailed(f"{stem} failed at preset {preset}, cell [{err.exec_count}]: {err.ename}: {err.evalue}\n"
                                f"  the executed notebook, with the traceback: {out}\n  the kernel's log: {kernel_log}") from err
        print(f"{stem:<24} {preset:<6} {time.time() - start:6.0f} s   {_cache_line(results_dir(stem, preset))}", flush=True)
        if stem in SECTIONS:  # the run box, the downloads and the figures' provenance
            annotate(out_dir / f"{stem}.ipynb", stem, results_dir(stem, preset), source,
                     preset_costs(stem, rates_for()))
        written.append(out_dir / f"{stem}.ipynb")
    return written


class ChapterFailed(RuntimeError):
    """A chapter's notebook raised: the message names the chapter, the cell and the error."""


@contextlib.contextmanager
def _stderr_to(path: Path):
    """Send this process's standard error, and so its children's (the kernel), to ``path``."""
    sys.stderr.flush()
    saved = os.dup(2)
    with open(path, "w") as log:
        os.dup2(log.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)


def _cache_line(folder: Path) -> str:
    """``cache 10 of 102 configs`` from a chapter's ``claims.json`` (its sweeps' cache hits)."""
    import json

    try:
        cache = json.loads((folder / "claims.json").read_text())["provenance"].get("cache") or {}
    except (OSError, KeyError, ValueError):
        return "no claims.json"
    return f"cache {cache.get('from_cache', 0)} of {cache.get('configs', 0)} configs" if cache else "no sweep cache"


def build_state(preset: str, stems: list[str]) -> dict[str, dict]:
    """What each chapter's ``claims.json`` must record to count as this build's: the commit, the
    chapter's source fingerprint (its results' and verdicts' code) and the preset's resolved config."""
    from .experiments import load_all
    from .presets import SECTIONS, resolve

    load_all()
    from .provenance import chapter_fingerprint, git_state, plain_config

    commit = git_state()["commit"]
    return {stem: {"commit": commit, "source_fingerprint": chapter_fingerprint(stem),
                   "config": plain_config(resolve(stem, preset))} for stem in stems if stem in SECTIONS}


def plan(preset: str, *, root: str | os.PathLike, only: list[str] | None = None, device: str | None = None,
         calibrate: bool = True) -> str:
    """The compute plan of every chapter of the table of contents at ``preset``, as text: a table of totals
    (configs, batches, TFLOP, peak memory per batch, estimated hours on this machine's ``device`` from a
    calibration of its trainer, GPU-hours at the reference GPU's peak), then each chapter's stages."""
    import pandas as pd

    from .experiments import load_all
    from .plan import REFERENCE_GPU, plan_chapter, plan_table, rates_for
    from .presets import SECTIONS

    load_all()

    check_choice("preset", preset, PRESET_NAMES)
    stems = [s for s in toc_chapters(root) if s in SECTIONS and (not only or s in only)]
    rates = rates_for(device) if calibrate else None
    plans = [plan_chapter(stem, preset, rates=rates) for stem in stems]
    table = plan_table(plans)
    with pd.option_context("display.width", 250, "display.max_columns", 20, "display.float_format", "{:,.2f}".format):
        text = [f"Compute plan at preset {preset!r}: counted from the configs, on the meta device (nothing trained)",
                table.drop(columns=["preset"]).to_string(index=False), ""]
    if rates is not None:
        text.append(f"est. hours: one worker of {rates.device}, from a calibration here "
                    f"({rates.flop_per_second / 1e9:,.0f} GFLOP/s on large steps, {rates.seconds_per_op * 1e6:.1f} µs per "
                    "operation); workers in parallel divide it. A lower bound, not a measurement: it leaves out "
                    "memory-bound element-wise work, data making and Python between the steps.")
    text.append(f"GPU-hours ≥: the FLOPs at the dense float32 peak of the reference GPU, an {REFERENCE_GPU[0]} "
                f"({REFERENCE_GPU[1] / 1e12:.0f} TFLOP/s, datasheet): a lower bound. No GPU has measured these rates; "
                "a small model's steps are bound by per-operation overhead, not FLOPs. 'too large': batches whose "
                "peak memory exceeds this machine's device.")
    text += ["", *(p.summary() for p in plans)]
    return "\n".join(text)


def compare(before: Path, after: Path) -> int:
    """Print every difference in results between two ``claims.json`` files, or between the ``claims.json`` files of
    two results folders (``<root>/<chapter>/<preset>/claims.json``, matched by path); 0 when there is none."""
    from .claims import compare_claims

    if before.is_dir() and after.is_dir():
        pairs = {p.relative_to(before): (p, after / p.relative_to(before)) for p in sorted(before.rglob("claims.json"))}
        pairs.update({p.relative_to(after): (before / p.relative_to(after), p) for p in sorted(after.rglob("claims.json"))
                      if p.relative_to(after) not in pairs})
    else:
        pairs = {Path(after.name): (before, after)}
    found = 0
    for rel, (a, b) in sorted(pairs.items()):
        if not a.exists() or not b.exists():
            print(f"{rel}: only in {'after' if b.exists() else 'before'}")
            found += 1
            continue
        diffs = compare_claims(json.loads(a.read_text()), json.loads(b.read_text()))
        found += len(diffs)
        print(f"{rel}: {'identical' if not diffs else f'{len(diffs)} difference(s)'}")
        for d in diffs:
            print(f"  {d}")
    return 1 if found else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m softleak.book", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("execute", "scoreboard", "plan"):  # compare is added below
        p = sub.add_parser(name)
        p.add_argument("--preset", default="cpu", choices=PRESET_NAMES)
        p.add_argument("--root", default=None, help="book root holding _toc.yml (default: the repository)")
    sub.choices["execute"].add_argument("--notebooks", default=None, help="source notebooks (default: <repo>/notebooks)")
    sub.choices["execute"].add_argument("--only", nargs="*", default=None, help="notebook stems to execute")
    sub.choices["execute"].add_argument("--scheduler", default=None,
                                        help="run the sweeps on Dask: 'local' (a LocalCluster) or tcp://host:8786")
    sub.choices["plan"].add_argument("--only", nargs="*", default=None, help="notebook stems to plan")
    sub.choices["plan"].add_argument("--device", default=None, help="device to calibrate on (default: CUDA if visible)")
    sub.choices["plan"].add_argument("--no-calibrate", action="store_true", help="FLOPs and memory only, no timing")
    diff = sub.add_parser("compare", help="the differences in results between two runs' claims.json (or two results "
                                          "folders, chapter by chapter); exit 1 if any")
    diff.add_argument("before")
    diff.add_argument("after")
    args = parser.parse_args(argv)
    if args.command == "compare":
        return compare(Path(args.before), Path(args.after))
    root = Path(args.root) if args.root else repo_root()
    if args.command == "execute":
        try:
            execute(args.preset, root=root, notebooks=args.notebooks or repo_root() / "notebooks", only=args.only,
                    scheduler=args.scheduler or None)
        except ChapterFailed as err:
            print(f"make book: {err}", file=sys.stderr)
            return 1
    elif args.command == "plan":
        print(plan(args.preset, root=root, only=args.only, device=args.device, calibrate=not args.no_calibrate))
    else:
        out = root / "book" / "scoreboard.md"
        sources = repo_root() / "notebooks"
        stems = toc_chapters(root)
        titles = {stem: notebook_title(sources / f"{stem}.ipynb") for stem in stems
                  if (sources / f"{stem}.ipynb").exists()}
        expected = build_state(args.preset, stems)
        out.write_text(scoreboard_markdown(args.preset, titles=titles, stems=stems, expected=expected))
        (root / "book" / "status.md").write_text(status_markdown(args.preset, stems, titles, expected=expected))
        (root / "book" / "report.md").write_text(report_markdown(args.preset, stems, titles))
        print(f"wrote {out}, status.md and report.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
