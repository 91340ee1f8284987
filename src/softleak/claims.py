"""The results and claims contract every chapter follows (ARCHITECTURE.md).

At its end a notebook writes, under ``results/<notebook stem>/<preset>/``:

- ``table.parquet``: its tidy results table;
- ``claims.json``: ``{"notebook", "preset", "claims": [{"id", "statement", "paper", "ours",
  "holds"}], "metrics": {name: number or list}}``.

The book's scoreboard page is rendered from these files by :func:`scoreboard_markdown`.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class Claim:
    """One checkable statement of the paper, with the paper's number beside ours.

    Attributes:
        id: short stable identifier, e.g. ``"c3.soft_above_chance"``.
        statement: the claim in words.
        paper: what the paper reports (text, with its number).
        ours: what this run measured (text, with our number).
        holds: the verdict of the rule stated in the notebook; ``None`` if not testable here.
    """

    id: str
    statement: str
    paper: str
    ours: str
    holds: bool | None


def repo_root(start: str | os.PathLike | None = None) -> Path:
    """The nearest folder at or above ``start`` (default: the working directory) holding ``_toc.yml``.

    Falls back to ``start`` itself, so a notebook copied elsewhere still writes next to itself.
    """
    here = Path(start or os.getcwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "_toc.yml").exists() and (folder / "pyproject.toml").exists():
            return folder
    return here


def results_root() -> Path:
    """``$SOFTLEAK_RESULTS_DIR`` if set, else ``<repo root>/results``."""
    env = os.environ.get("SOFTLEAK_RESULTS_DIR")
    return Path(env) if env else repo_root() / "results"


def results_dir(notebook: str, preset: str) -> Path:
    """``<results root>/<notebook stem>/<preset>/`` (not created)."""
    return results_root() / notebook / preset


def _plain(value):
    """numpy scalars and arrays to JSON numbers and lists; NaN and ±inf (e.g. a threshold beyond the
    grid) to None, as JSON has no such numbers."""
    if isinstance(value, (np.ndarray, list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, (np.floating, float)):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, (np.integer, int)) and not isinstance(value, bool):
        return int(value)
    if isinstance(value, (np.bool_, bool)):
        return bool(value)
    return value


def write_results(
    notebook: str,
    preset: str,
    *,
    table: pd.DataFrame,
    claims: Sequence[Claim],
    metrics: Mapping[str, object],
) -> Path:
    """Write ``table.parquet`` and ``claims.json`` for one notebook run; returns the folder."""
    folder = results_dir(notebook, preset)
    folder.mkdir(parents=True, exist_ok=True)
    table.to_parquet(folder / "table.parquet", index=False)
    payload = {
        "notebook": notebook,
        "preset": preset,
        "claims": [{k: _plain(v) for k, v in asdict(c).items()} for c in claims],
        "metrics": {k: _plain(v) for k, v in metrics.items()},
    }
    (folder / "claims.json").write_text(json.dumps(payload, indent=1, allow_nan=False))
    return folder


def verdict(holds: bool | None) -> str:
    return {True: "✓ reproduces", False: "✗ does not reproduce", None: "– not tested at this preset"}[holds]


def claims_frame(claims: Sequence[Claim] | Sequence[Mapping]) -> pd.DataFrame:
    """Claims as a display table: claim, paper, ours, verdict."""
    rows = [asdict(c) if isinstance(c, Claim) else dict(c) for c in claims]
    df = pd.DataFrame(rows, columns=["id", "statement", "paper", "ours", "holds"])
    df["verdict"] = df["holds"].map(verdict)
    return df.drop(columns="holds").set_index("id")


def misses_markdown(claims: Sequence[Claim]) -> str:
    """The closing list of a chapter: every claim whose rule failed, by id and statement (rule dropped)."""
    missed = [c for c in claims if c.holds is False]
    if not missed:
        return "Every claim tested at this preset reproduces."
    return ("**Claims that do not reproduce at this preset** (each with its numbers in the table above):\n\n"
            + "\n".join(f"- `{c.id}`: {c.statement.split(' (rule')[0]}" for c in missed))


def load_claims(preset: str, root: str | os.PathLike | None = None) -> list[dict]:
    """Every chapter's ``claims.json`` for one preset, sorted by notebook."""
    root = Path(root) if root is not None else results_root()
    return [json.loads(p.read_text()) for p in sorted(root.glob(f"*/{preset}/claims.json"))]


def _cell(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def scoreboard_markdown(
    preset: str, root: str | os.PathLike | None = None, titles: Mapping[str, str] | None = None
) -> str:
    """The reproduction scoreboard page (MyST markdown) for ``preset``.

    Args:
        preset: which preset's claims files to collect.
        root: the results root (default :func:`results_root`).
        titles: notebook stem -> chapter title, for headings and links.
    """
    titles = dict(titles or {})
    files = load_claims(preset, root)
    lines = [
        "# Reproduction scoreboard",
        "",
        f"Every claim the chapters check, as measured by the last build at the `{preset}` preset. "
        "Each chapter states the rule behind its verdicts; a claim that does not reproduce is "
        "reported, not tuned away. The paper's number stands beside ours.",
        "",
    ]
    if not files:
        lines.append("No chapter has written its claims yet: run `make book`.")
    total = sum(len(f["claims"]) for f in files)
    held = sum(bool(c["holds"]) for f in files for c in f["claims"])
    if files:
        lines += [f"**{held} of {total} claims reproduce** at the `{preset}` preset.", ""]
    for f in files:
        title = titles.get(f["notebook"], f["notebook"])
        lines += [
            f"## {title}",
            "",
            f"Chapter: [{title}](chapters/{f['notebook']}.ipynb) (`{f['notebook']}`)",
            "",
            "| claim | paper | ours | verdict |",
            "| --- | --- | --- | --- |",
        ]
        for c in f["claims"]:
            lines.append(f"| {_cell(c['statement'])} | {_cell(c['paper'])} | {_cell(c['ours'])} | {verdict(c['holds'])} |")
        lines.append("")
    return "\n".join(lines) + "\n"
