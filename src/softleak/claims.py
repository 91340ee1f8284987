"""The results and claims contract every chapter follows (ARCHITECTURE.md).

At its end a notebook writes, under ``results/<notebook stem>/<preset>/``:

- ``table.parquet``: its tidy results table;
- ``claims.json``: ``{"notebook", "preset", "provenance", "claims": [{"id", "kind", "statement",
  "rule", "paper", "ours", "holds", "verdict", "note", "post_hoc", "evidence": [{name, value, low,
  high, n, of, method, resolution, looks, censored, unit}]}], "metrics": {name: number or
  list}}``.

Claims come from declared rules (:mod:`softleak.rules`): ``rule`` is the rule's derived text and
``holds`` its verdict (``None`` when inconclusive or untested). The book's scoreboard page is
rendered from these files by :func:`scoreboard_markdown`; a file written by another commit, source
or config than the build's is marked stale there.
"""

from __future__ import annotations

import json
import math
import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .rules import FAILS, INCONCLUSIVE, REPRODUCES, UNTESTED, Claim


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
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
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
    config,
    seeds: Sequence[int],
    started: float,
    device=None,
    rounds: Mapping | None = None,
) -> Path:
    """Write ``table.parquet`` and ``claims.json`` (with its provenance) for one notebook run.

    Args:
        config: the resolved config the run used (a dataclass); with rounds of seeds, the one they started from.
        seeds: the run's top-level seeds (every round's).
        started: ``time.time()`` at the start of the notebook (for the wall time).
        rounds: with rounds of seeds, :attr:`softleak.chapters.Decided.rounds` (one line per round, and the last
            round's config): recorded in the provenance as ``rounds``.

    Returns:
        The folder written.
    """
    from .provenance import provenance

    ids = [c.id for c in claims]
    if len(set(ids)) != len(ids):
        raise ValueError(f"claim ids must be unique; repeated: {sorted({i for i in ids if ids.count(i) > 1})}")
    folder = results_dir(notebook, preset)
    folder.mkdir(parents=True, exist_ok=True)
    table.to_parquet(folder / "table.parquet", index=False)
    prov = provenance(notebook=notebook, config=config, preset=preset, seeds=seeds, started=started, finished=time.time(),
                      device=device, cache=table.attrs.get("cache"))
    from .sweeps import timings_since

    prov["sweeps"] = timings_since(started)  # each sweep's wall and busy seconds: how idle the workers were
    if rounds is not None:
        from .provenance import plain_config

        prov["rounds"] = {"log": list(rounds.get("log", ())), "config": plain_config(rounds.get("config"))}
    payload = {
        "notebook": notebook,
        "preset": preset,
        "provenance": prov,
        "claims": [{k: _plain(v) for k, v in asdict(c).items()} for c in claims],
        "metrics": {k: _plain(v) for k, v in metrics.items()},
    }
    (folder / "claims.json").write_text(json.dumps(payload, indent=1, allow_nan=False))
    return folder


VERDICT_TEXT = {
    REPRODUCES: "✓ reproduces",
    FAILS: "✗ does not reproduce",
    INCONCLUSIVE: "? inconclusive at this preset",
    UNTESTED: "– not tested at this preset",
}


def glue_metrics(metrics: Mapping[str, object]) -> None:
    """Glue every scalar metric for the page's prose, as ``key`` with dots turned into underscores
    (``c3.show.soft`` -> ``{glue:text}`c3_show_soft:.1%```). numpy numbers become Python numbers;
    a missing value is glued as NaN, so the page shows "nan" rather than a stale or absent number."""
    from myst_nb import glue

    for key, value in metrics.items():
        if isinstance(value, (list, tuple, dict, np.ndarray)):
            continue
        if value is None:
            value = float("nan")
        elif isinstance(value, (np.bool_, bool)):
            value = bool(value)
        elif isinstance(value, (np.integer, int)):
            value = int(value)
        elif isinstance(value, (np.floating, float)):
            value = float(value)
        glue(key.replace(".", "_"), value, display=False)


def verdict_text(claim: Claim | Mapping) -> str:
    c = asdict(claim) if isinstance(claim, Claim) else claim
    text = VERDICT_TEXT[c["verdict"]]
    if c.get("note") and c["verdict"] in (INCONCLUSIVE, UNTESTED):
        text += f" ({c['note']})"
    rounds = int(c.get("rounds") or 1)
    if rounds > 1 and c["verdict"] != UNTESTED:
        runs = sorted({int(e["n"]) for e in c.get("evidence") or () if e.get("n")})
        on = f", on {runs[0]}" + (f"–{runs[-1]}" if len(runs) > 1 else "") + " runs" if runs else ""
        step = "decided in" if c["verdict"] in (REPRODUCES, FAILS) else "still open after"
        text += (f" · {step} round {int(c.get('round') or 1)} of {rounds}{on} (every look at an error rate of "
                 f"{5 / rounds:.3g} %, Bonferroni over the {rounds} rounds)")
    if c.get("post_hoc"):
        text += f" ⚑ decided at a setting chosen after seeing this preset's results: {c['post_hoc']}"
    return text


def claims_frame(claims: Sequence[Claim] | Sequence[Mapping]) -> pd.DataFrame:
    """Claims as a display table: kind, claim, rule, paper, ours, verdict (with its note and flag)."""
    rows = [asdict(c) if isinstance(c, Claim) else dict(c) for c in claims]
    df = pd.DataFrame(rows, columns=list(Claim.__dataclass_fields__))
    df["verdict"] = [verdict_text(r) for r in rows]
    return df[["id", "kind", "statement", "rule", "paper", "ours", "verdict"]].set_index("id")


def misses_markdown(claims: Sequence[Claim]) -> str:
    """The closing list of a chapter: the paper's claims that do not reproduce or stay inconclusive."""
    paper = [c for c in claims if c.kind == "paper"]
    missed = [c for c in paper if c.verdict == FAILS]
    open_ = [c for c in paper if c.verdict == INCONCLUSIVE]
    untested = [c for c in paper if c.verdict == UNTESTED]
    parts = []
    if missed:
        parts.append("**Claims of the paper that do not reproduce at this preset** (numbers in the table above):\n\n"
                     + "\n".join(f"- `{c.id}`: {c.statement}" for c in missed))
    if open_:
        parts.append("**Inconclusive at this preset** (the evidence straddles the rule):\n\n"
                     + "\n".join(f"- `{c.id}`: {c.statement} ({c.note})" for c in open_))
    if untested:
        parts.append("**Not tested at this preset:** " + ", ".join(f"`{c.id}`" for c in untested) + ".")
    if not parts:
        return "Every claim of the paper tested at this preset reproduces."
    return "\n\n".join(parts)


def tally(claims: Sequence[Mapping | Claim], kind: str = "paper") -> dict[str, int]:
    """Counts of each verdict among the claims of ``kind``; ``tested`` = all but untested."""
    rows = [asdict(c) if isinstance(c, Claim) else c for c in claims]
    counts = {v: sum(1 for c in rows if c.get("kind") == kind and c["verdict"] == v)
              for v in (REPRODUCES, FAILS, INCONCLUSIVE, UNTESTED)}
    counts["tested"] = counts[REPRODUCES] + counts[FAILS] + counts[INCONCLUSIVE]
    return counts


def headline(counts: Mapping[str, int]) -> str:
    """"R of T tested claims reproduce; I inconclusive; U not tested at this preset"."""
    return (f"{counts[REPRODUCES]} of {counts['tested']} tested claims reproduce; {counts[INCONCLUSIVE]} inconclusive; "
            f"{counts[UNTESTED]} not tested at this preset")


def expected_wrong(decided: int, level: float = 0.95) -> float:
    """About how many of ``decided`` verdicts, each at confidence ``level``, are wrong by chance: (1 − level)·T."""
    return (1 - level) * decided


def _same(a, b) -> bool:
    """Equal as results: numbers exactly (NaN equals NaN, None equals NaN), containers element by element."""
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    nan = (lambda v: v is None or (isinstance(v, float) and math.isnan(v)))
    if nan(a) and nan(b):
        return True
    return a == b


#: fields a claim (or an evidence record) written before they existed reads as: one round of seeds
_DEFAULTS = {"round": 1, "rounds": 1}


def _with_defaults(claim: Mapping) -> dict:
    out = {**_DEFAULTS, **claim}
    out["evidence"] = [{"rounds": 1, **e} for e in claim.get("evidence") or ()]
    return out


def compare_claims(before: Mapping, after: Mapping) -> list[str]:
    """Every difference between two ``claims.json`` payloads of one chapter, in results: claims added or removed,
    and per claim its verdict, note, rule, reading and evidence; every metric. Provenance (commit, fingerprint,
    dates, times) is not compared, and a field a file predates reads as its default (one round of seeds). Empty
    when the two runs say the same."""
    out = []
    a = {c["id"]: _with_defaults(c) for c in before.get("claims", [])}
    b = {c["id"]: _with_defaults(c) for c in after.get("claims", [])}
    out += [f"claim {cid}: only before" for cid in a.keys() - b.keys()]
    out += [f"claim {cid}: only after" for cid in b.keys() - a.keys()]
    for cid in sorted(a.keys() & b.keys()):
        for field in sorted(set(a[cid]) | set(b[cid])):
            if not _same(a[cid].get(field), b[cid].get(field)):
                out.append(f"claim {cid}: {field}: {a[cid].get(field)!r} → {b[cid].get(field)!r}")
    ma, mb = before.get("metrics", {}), after.get("metrics", {})
    for key in sorted(set(ma) | set(mb)):
        if key not in ma or key not in mb:
            out.append(f"metric {key}: only {'before' if key in ma else 'after'}")
        elif not _same(ma[key], mb[key]):
            out.append(f"metric {key}: {ma[key]!r} → {mb[key]!r}")
    return out


def load_claims(preset: str, root: str | os.PathLike | None = None, stems: Sequence[str] | None = None) -> list[dict]:
    """Every chapter's ``claims.json`` for one preset (only ``stems``, in their order, if given)."""
    root = Path(root) if root is not None else results_root()
    if stems is None:
        paths = sorted(root.glob(f"*/{preset}/claims.json"))
    else:
        paths = [root / stem / preset / "claims.json" for stem in stems]
    return [json.loads(p.read_text()) for p in paths if p.exists()]


def _cell(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def staleness(payload: Mapping, expected: Mapping | None) -> list[str]:
    """Why a chapter's ``claims.json`` is not this build's: another commit, source or config."""
    prov = payload.get("provenance")
    if not prov:
        return ["it records no provenance (written before provenance existed)"]
    if not expected:
        return []
    why = []
    if expected.get("source_fingerprint") and prov.get("source_fingerprint") != expected["source_fingerprint"]:
        why.append(f"its source fingerprint {prov.get('source_fingerprint')} is not this build's "
                   f"{expected['source_fingerprint']}")
    if expected.get("commit") and prov.get("commit") != expected["commit"]:
        why.append(f"it was run at commit {str(prov.get('commit'))[:10]}, the build is at {expected['commit'][:10]}")
    if "config" in expected and prov.get("config") != expected["config"]:
        why.append("its config differs from the preset's (overrides were given)")
    return why


def provenance_line(prov: Mapping | None) -> str:
    if not prov:
        return "no provenance recorded"
    commit = (prov.get("commit") or "no git")[:10] + (" (dirty tree)" if prov.get("dirty") else "")
    cache = prov.get("cache") or {}
    cached = f"; {cache.get('from_cache', 0)} of {cache.get('configs', 0)} configs from the cache" if cache else ""
    workers = int(cache.get("workers") or 1)
    threads = (f"{workers} worker processes, 1 thread each" if workers > 1 and cache.get("computed")
               else f"{prov.get('torch_threads')} threads")
    return (f"commit {commit}; source {prov.get('source_fingerprint')}; softleak {prov.get('softleak')}, "
            f"torch {prov.get('torch')}; device {prov.get('device')} ({threads}); "
            f"{prov.get('date')}; wall time {prov.get('seconds')} s{cached}")


def scoreboard_markdown(
    preset: str,
    root: str | os.PathLike | None = None,
    titles: Mapping[str, str] | None = None,
    *,
    stems: Sequence[str] | None = None,
    expected: Mapping[str, Mapping] | None = None,
) -> str:
    """The reproduction scoreboard page (MyST markdown) for ``preset``.

    Args:
        preset: which preset's claims files to collect.
        root: the results root (default :func:`results_root`).
        titles: notebook stem -> chapter title, for headings and links.
        stems: the chapters of the book, in order (default: every file found).
        expected: notebook stem -> the build's ``commit``, ``source_fingerprint`` and ``config``; a
            file that differs is shown as stale, and left out of the headline.
    """
    titles = dict(titles or {})
    expected = dict(expected or {})
    files = load_claims(preset, root, stems)
    lines = [
        "# Reproduction scoreboard",
        "",
        f"Every claim the chapters check, as measured by the build at the `{preset}` preset. Each "
        "verdict comes from a rule declared once in the chapter's code; the rule's text below is "
        "derived from the same object. A verdict is decided on the interval over the replicated unit "
        "(teachers or seeds; exact Clopper–Pearson for shares of runs): *inconclusive* when that "
        "interval straddles the rule's threshold or rests on fewer than 3 independent runs, *not "
        "tested* when nothing was measured at this preset. Claims of the paper count in the headline; "
        "the book's own checks (controls, extensions, checks of the authors' code) are listed apart, and "
        "so are the paper's statements that the setup makes true (premises), which are not counted.",
        "",
    ]
    if not files:
        lines.append("No chapter has written its claims yet: run `make book`.")
        return "\n".join(lines) + "\n"
    stale = {f["notebook"]: staleness(f, expected.get(f["notebook"])) for f in files}
    current = [f for f in files if not stale[f["notebook"]]]
    total = tally([c for f in current for c in f["claims"]])
    book = tally([c for f in current for c in f["claims"]], kind="book")
    decided = total[REPRODUCES] + total[FAILS]
    lines += [f"**{headline(total)}** ({total[FAILS]} tested claims of the paper do not reproduce).", ""]
    lines += [f"Each verdict is decided at 95 % confidence, so of the {decided} decided verdicts about "
              f"{expected_wrong(decided):.1f} are expected to be wrong by chance alone (5 % each, not "
              "corrected across the book): read any single verdict with that in mind. A chapter that adds seeds "
              "in rounds while a claim is open makes each round's intervals at 1 − 0.05/K for its K declared "
              "rounds, so that a claim's chance of a wrong verdict over all its looks stays at 5 %.", ""]
    lines += [f"The book's own checks: {book[REPRODUCES]} of {book['tested']} hold; {book[INCONCLUSIVE]} "
              f"inconclusive; {book[UNTESTED]} not tested.", ""]
    if len(current) < len(files):
        lines += [f"{len(files) - len(current)} chapter(s) below are **stale** and left out of these counts.", ""]
    lines += ["| chapter | reproduce | do not | inconclusive | not tested | book checks hold | wall time |",
              "| --- | --- | --- | --- | --- | --- | --- |"]
    for f in files:
        t, b = tally(f["claims"]), tally(f["claims"], kind="book")
        title = titles.get(f["notebook"], f["notebook"]) + (" (stale)" if stale[f["notebook"]] else "")
        secs = (f.get("provenance") or {}).get("seconds")
        lines.append(f"| {_cell(title)} | {t[REPRODUCES]} of {t['tested']} | {t[FAILS]} | {t[INCONCLUSIVE]} | "
                     f"{t[UNTESTED]} | {b[REPRODUCES]} of {b['tested']} | {secs if secs is not None else '—'} s |")
    lines.append("")
    for f in files:
        title = titles.get(f["notebook"], f["notebook"])
        lines += [f"## {title}", "", f"Chapter: [{title}](chapters/{f['notebook']}.ipynb) (`{f['notebook']}`). "
                  f"Run: {provenance_line(f.get('provenance'))}.", ""]
        if stale[f["notebook"]]:
            lines += ["```{warning}", "Stale: these results are not this build's: " + "; ".join(stale[f["notebook"]])
                      + ". Re-run the chapter.", "```", ""]
        for kind, heading in (("paper", "Claims of the paper"), ("book", "The book's own checks"),
                              ("premise", "Premises (true by the setup; not counted)")):
            rows = [c for c in f["claims"] if c.get("kind") == kind]
            if not rows:
                continue
            lines += [f"**{heading}**", "", "| claim | rule | paper | ours | verdict |", "| --- | --- | --- | --- | --- |"]
            lines += [f"| {_cell(c['statement'])} | {_cell(c['rule'])} | {_cell(c['paper'])} | {_cell(c['ours'])} | "
                      f"{_cell(verdict_text(c))} |" for c in rows]
            lines.append("")
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class Deviation:
    """One way a preset departs from the paper's protocol, declared once per chapter.

    Attributes:
        parameter: what differs, in words ("student epochs").
        paper: the paper's value, in words, with where it is stated.
        value: how to read this preset's value from a config: an attribute path (``"optim.lr"``,
            ``"cases.0.p"``) or a function of the config.
        why: the reason.
        post_hoc: True if this preset's value was chosen after seeing this preset's results.
    """

    parameter: str
    paper: str
    value: str | Callable
    why: str
    post_hoc: bool = False

    def read(self, cfg) -> object:
        if callable(self.value):
            return self.value(cfg)
        obj = cfg
        for part in self.value.split("."):
            obj = obj[int(part)] if part.isdigit() else getattr(obj, part)
        return obj


def rounds_text(rounds) -> str:
    """A config's rounds of seeds (:class:`softleak.config.Rounds`) in words, for its config table and deviations."""
    if rounds.count == 1:
        return "1 round (95 % intervals)"
    return (f"up to {rounds.count} rounds, each after the first adding {rounds.seeds} seeds where a claim is still open "
            f"(every interval at {100 * (1 - 0.05 / rounds.count):.4g} %, Bonferroni over the rounds)")


def rounds_deviation(paper: str) -> Deviation:
    """The deviations row of a chapter whose preset adds seeds in rounds (its config's ``seed_rounds``)."""
    return Deviation("rounds of seeds", paper, lambda cfg: rounds_text(cfg.seed_rounds),
                     "a claim left open on the first seeds gets more, only for the runs it reads; every interval of the "
                     "chapter, first round included, is made at 1 − 0.05/K for K declared rounds, so the first round's "
                     "verdicts are stricter than 95 %; the rounds were declared after a cpu build had left these claims "
                     "open (flagged on every claim a later round decides)", post_hoc=True)


def _show(value: object) -> str:
    if isinstance(value, (tuple, list)):
        return ", ".join(_show(v) for v in value) if len(value) <= 8 else \
            f"{len(value)} values, {_show(value[0])} … {_show(value[-1])}"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def deviations_table(deviations: Sequence[Deviation], cfg, presets: Mapping[str, object], preset: str) -> pd.DataFrame:
    """The chapter's deviations from the paper: parameter, the paper's value, the ``paper`` and ``cpu``
    presets' values, this run's value, and why (⚑ marks a value chosen after seeing results)."""
    rows = []
    for d in deviations:
        rows.append({
            "parameter": d.parameter,
            "paper": d.paper,
            "`paper` preset": _show(d.read(presets["paper"])),
            "`cpu` preset": _show(d.read(presets["cpu"])),
            f"this run (`{preset}`)": _show(d.read(cfg)),
            "why": d.why + (" ⚑ chosen after seeing this preset's results" if d.post_hoc else ""),
        })
    return pd.DataFrame(rows).set_index("parameter")
