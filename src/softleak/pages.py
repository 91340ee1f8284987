"""What the build adds to the book's pages (``python -m softleak.book``): on every chapter page a
"run it yourself" box and the downloads of the run behind it, the run's preset, seeds and config
hash at the end of every figure caption; and two pages of their own, the build status and the
reproduction report. Every number on them comes from the chapters' ``claims.json`` or the compute
plan, none is typed.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from .claims import expected_wrong, headline, load_claims, staleness, tally, verdict_text
from .rules import FAILS, INCONCLUSIVE, REPRODUCES, UNTESTED, fmt

DOWNLOADS = "downloads"  # book/chapters/downloads/<stem>/: the source notebook and the run's results


def parameters(source: str | os.PathLike) -> list[tuple[str, str, str]]:
    """``(name, default, comment)`` of each assignment in a notebook's ``parameters`` cell."""
    nb = json.loads(Path(source).read_text())
    cell = next(c for c in nb["cells"] if "parameters" in c.get("metadata", {}).get("tags", []))
    out = []
    for line in "".join(cell["source"]).splitlines():
        if "=" not in line or line.startswith(("import", "from", "#", " ")):
            continue
        code, _, comment = line.partition("  # ")
        name, _, default = code.partition(" = ")
        if name.isidentifier():
            out.append((name, default.strip(), comment.strip()))
    return out


def seeds_text(seeds: Sequence[int]) -> str:
    """Seeds with runs of consecutive values written as ranges: ``13, 100–149``."""
    seeds = [int(s) for s in seeds]
    parts, i = [], 0
    while i < len(seeds):
        j = i
        while j + 1 < len(seeds) and seeds[j + 1] == seeds[j] + 1:
            j += 1
        parts.append(f"{seeds[i]}–{seeds[j]}" if j - i >= 2 else ", ".join(map(str, seeds[i:j + 1])))
        i = j + 1
    return ", ".join(parts)


def config_hash(config: object) -> str:
    """8 hex digits of the run's resolved config (as ``claims.json`` records it)."""
    return hashlib.sha256(json.dumps(config, sort_keys=True, default=str).encode()).hexdigest()[:8]


def caption_tag(provenance: Mapping) -> str:
    """The end of every figure caption: the preset, seeds and config hash of the run behind the figure."""
    return (f"Run: preset {provenance.get('preset')}; seeds {seeds_text(provenance.get('seeds') or [])}; "
            f"config {config_hash(provenance.get('config'))}.")


def run_box(stem: str, preset: str, costs: Mapping[str, str], source: str | os.PathLike) -> str:
    """The "run it yourself" box of a chapter page: the papermill command of each preset with its planned
    cost, the notebook's parameters, ``make lab`` and the source notebook's download."""
    nb = f"notebooks/{stem}.ipynb"
    lines = ["```{admonition} Run it yourself", ":class: tip dropdown", "",
             f"This page ran at the `{preset}` preset. The source notebook (parameters, no outputs): "
             f"{{download}}`{stem}.ipynb <{DOWNLOADS}/{stem}/{stem}.ipynb>`; in the repository it is `{nb}`, and "
             "`make lab` opens it in JupyterLab. From the repository, after `make install`:", "",
             "| preset | command | planned cost |", "| --- | --- | --- |"]
    for p, cost in costs.items():
        lines.append(f"| `{p}` | `.venv/bin/papermill {nb} out.ipynb -p preset {p}` | {cost} |")
    lines += ["", "Every parameter can be overridden with `-p name value` (a list as `-p seeds \"[1, 2]\"`):", "",
              "| parameter | default | meaning |", "| --- | --- | --- |"]
    for name, default, comment in parameters(source):
        lines.append(f"| `{name}` | `{default}` | {comment.replace('|', '/')} |")
    lines += ["", f"`python -m softleak.book plan --preset paper --only {stem}` prints the chapter's compute plan "
              "in full; costs are counted from the configs (teachers that stop early at their caps) and times are "
              "lower bounds on the machine that built this page (they leave out element-wise work, data making and Python between the steps).", "```"]
    return "\n".join(lines)


def downloads_note(stem: str) -> str:
    base = f"{DOWNLOADS}/{stem}"
    return (f"**The run behind this page:** its results table ({{download}}`table.parquet <{base}/table.parquet>`, "
            f"{{download}}`table.csv <{base}/table.csv>`) and its claims with their provenance "
            f"({{download}}`claims.json <{base}/claims.json>`).")


def annotate(executed: str | os.PathLike, stem: str, results: str | os.PathLike, source: str | os.PathLike,
             costs: Mapping[str, str]) -> None:
    """Add the run box and the downloads after a chapter's title, end every figure caption with
    :func:`caption_tag`, and copy the source notebook and the run's results next to the page."""
    import pandas as pd

    executed, results = Path(executed), Path(results)
    payload = json.loads((results / "claims.json").read_text())
    prov = payload.get("provenance") or {}
    folder = executed.parent / DOWNLOADS / stem
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(source, folder / f"{stem}.ipynb")
    shutil.copy(results / "claims.json", folder / "claims.json")
    shutil.copy(results / "table.parquet", folder / "table.parquet")
    pd.read_parquet(results / "table.parquet").to_csv(folder / "table.csv", index=False)
    nb = json.loads(executed.read_text())
    tag = caption_tag(prov)
    for cell in nb["cells"]:
        tags = cell.get("metadata", {}).get("tags", [])
        if "injected-parameters" in tags and "hide-input" not in tags:  # papermill's: the run box says the preset
            cell["metadata"]["tags"] = [*tags, "hide-input"]
        fig = cell.get("metadata", {}).get("mystnb", {}).get("figure")
        if fig and "caption" in fig and not fig["caption"].endswith(tag):
            fig["caption"] = f"{fig['caption']} {tag}"
    if not any("Run it yourself" in "".join(c["source"]) for c in nb["cells"]):
        box = {"cell_type": "markdown", "id": "run-it-yourself", "metadata": {}, "source": run_box(stem, payload["preset"], costs, source) + "\n\n"
               + downloads_note(stem)}
        nb["cells"].insert(1, box)
    executed.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n")


# ---------------------------------------------------------------------------------------------
# The build status page
# ---------------------------------------------------------------------------------------------

def status_markdown(preset: str, stems: Sequence[str], titles: Mapping[str, str], *, root=None,
                    expected: Mapping[str, Mapping] | None = None) -> str:
    """Per chapter, from its ``claims.json``: preset, wall time, commit, device, torch, date, the cache's share,
    and whether it is this build's."""
    files = {f["notebook"]: f for f in load_claims(preset, root, stems)}
    lines = ["# Build status", "",
             f"Where and when each chapter of this build ran, at the `{preset}` preset, from the provenance its "
             "`claims.json` records. A chapter is *current* when its commit, source fingerprint and config are this "
             "build's; otherwise the scoreboard shows it as stale.", "",
             "| chapter | preset, wall time | commit, torch | device | finished (UTC) | from the cache | current |",
             "| --- | --- | --- | --- | --- | --- | --- |"]
    reasons = []
    for stem in stems:
        title = titles.get(stem, stem)
        f = files.get(stem)
        if f is None:
            lines.append(f"| {title} | not run | | | | | no |")
            continue
        p = f.get("provenance") or {}
        cache = p.get("cache") or {}
        why = staleness(f, (expected or {}).get(stem))
        commit = (p.get("commit") or "no git")[:10] + (" (dirty)" if p.get("dirty") else "")
        cached = f"{cache.get('from_cache', 0)} of {cache.get('configs', 0)} configs" if cache else "—"
        date = str(p.get("date") or "").replace("T", " ")[:16]
        if why:
            reasons.append(f"{len(reasons) + 1}. {title}: " + "; ".join(why) + ".")
        lines.append(f"| [{title}](chapters/{stem}.ipynb) | `{p.get('preset')}`, {p.get('seconds')} s | `{commit}`, torch "
                     f"{p.get('torch')} | {p.get('device')} ({p.get('device_name')}) | {date} | {cached} | "
                     + ("yes" if not why else f"no ({len(reasons)})") + " |")
    if reasons:
        lines += ["", "Not this build's:", "", *reasons]
    total = sum((files[s].get("provenance") or {}).get("seconds") or 0 for s in stems if s in files)
    lines += ["", f"Chapters' wall time in all: {total / 60:.1f} min."]
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------------------------
# The reproduction report
# ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Discrepancy:
    """A difference between the paper and the authors' released code that the book found."""

    item: str
    paper: str
    code: str
    book: str
    chapter: str
    claims: tuple[str, ...] = ()  # claim ids of that chapter whose verdicts read it
    metrics: tuple[tuple[str, str], ...] = ()  # (metric of that chapter's claims.json, what it is): shown beside them


DISCREPANCIES = (
    Discrepancy("tail-cut ablation (Fig. 18A)", "zero the k smallest entries of each soft label",
                "sorts each row, then zeroes the entries at the rank positions where classes 0…k−1 appear: k "
                "essentially arbitrary entries, sometimes the largest",
                "the paper's k smallest, and the code's arbitrary entries as a labelled variant",
                "05_relu_mlp_jumps", ("fig18a.tail", "fig18a.code_variant")),
    Discrepancy("the workshop's tail cut (A.3)", "a sharp drop once the smallest 0.5 % are zeroed; A.3's temperature "
                "is not stated",
                "not released; the main paper's code cuts arbitrary entries (the item above)",
                "the smallest and random non-argmax entries, both variants, at the workshop's τ = 5; the both-ways runs "
                "repeat A.3 at the main paper's τ = 20", "07_workshop", ("a3.tail_sharp_drop",)),
    Discrepancy("D_val inputs (chapters 3–5)", "an independent sample of the data distribution",
                "U[0, 1)^d, standardised with the training statistics: off the training inputs' N(0, 1)",
                "N(0, 1), standardised the same way", "05_relu_mlp_jumps", ("fig6.val_chance",)),
    Discrepancy("the toy teacher (Fig. 1)", "the teacher classifies every point of D*^T (panel A); hidden width 100",
                "a fixed 4 000 epochs for c = 3 (short of the fit on most datasets, past it on the rest); hidden "
                "width 150", "until 100 % (at most 20 000 epochs), width 150 as the code's figure; the both-ways runs "
                "train the c = 3 teacher the code's way and at width 100 too (`ladders/01_toy_2d.json`)", "01_toy_2d",
                ("c3.soft_beats_independent",)),
    Discrepancy("seeds", "not stated", "drawn from global random state: runs are random but unrecorded",
                "explicit seeds per role (data, teacher, split, student, shuffle), recorded in every results table",
                "01_toy_2d"),
    Discrepancy("repetitions and initial weights in modular addition", "3 repetitions; how a student is "
                "initialised is not stated",
                "every run uses seed 0: numpy seed 0 for every split, and every model after the process's first is "
                "built right after torch.manual_seed(0 + 23), so teachers ② and ③ and every student start from the "
                "same weights (a student from its teacher's initial weights); the repetitions are nearly identical runs",
                "independent seeds per repetition; each student from its own initial weights (`student_init = "
                "'own'`); `student_init = 'teacher'` runs the code's way (the leak claims' both-ways runs, "
                "`ladders/02_modular_addition.json`)", "02_modular_addition",
                ("fig3b.tau10.teacher1_leaks", "fig3b.tau10.teacher2_leaks", "fig11b.tau10.teacher1_leaks",
                 "fig11b.tau10.teacher2_leaks")),
    Discrepancy("the small ρ of modular addition's leak claims", "'at small ρ' the student's held-out accuracy "
                "exceeds its accuracy on unseen pairs",
                "ρ ∈ {0.05, 0.1, 0.15, 0.2, 0.3, …} of 3 830 pairs (P = 113, 30 %): its smallest ρ gives the student "
                "191 pairs, ρ = 0.1 gives 383",
                "small ρ = 0.1 of 1 392 (transformer) or 1 740 (MLP) pairs at P = 59: 139 and 174 pairs; the "
                "both-ways runs read the leak at ρ = 0.3 too (417 and 522 pairs), from own and teacher's initial weights",
                "02_modular_addition", ("fig3b.tau10.teacher1_leaks", "fig3b.tau10.teacher2_leaks",
                                        "fig11b.tau10.teacher1_leaks", "fig11b.tau10.teacher2_leaks")),
    Discrepancy("modular addition's student epochs", "students train 40 000 epochs",
                "a fixed 40 000 epochs at lr 10⁻³, every student, no stopping rule",
                "the declared budget max(5·E②, E③) in lr × epochs (6 667 epochs at lr 3·10⁻³ at cpu) with a "
                "convergence stop; the budget ladders train the threshold students, and the students of the claims "
                "left not converged at ×1 (at the largest ρ), ×2 and ×4 as long",
                "02_modular_addition", ("fig3b.tau0.1.threshold", "fig11b.soft_labels_block", "fig11b.train",
                                        "fig3b.tau10.teacher2_copies", "fig3b.tau0.1.independent", "fig3b.train")),
    Discrepancy("modular addition's MLP teacher ②", "② is 'very weak' on unseen pairs",
                "a separate run of 10 000 epochs at a 30 % training fraction (twice the transformer's epochs), read "
                "at its last logged epoch",
                "three checkpoints of one run at 50 % (the MLP does not grok at 30 % or 40 % within the cpu budget, "
                "spec/probes.md §B), at 10×, 20× and 40× its fit epoch: ② falls at or after grokking. The both-ways "
                "runs train the MLP teachers the code's way too (separate runs of 5 000, 10 000 and 20 000 epochs at "
                "30 %), at the book's P and at the paper's P = 113: the claim reads only the teachers",
                "02_modular_addition", ("fig11a.memorize",)),
    Discrepancy("Fig. 21's student epochs", "students of every width at the paper's settings",
                "Adam 10⁻⁴ × 10 000 epochs (main-fig_5-3.py), 5 repetitions, p^T = 500",
                "Adam 3·10⁻³ × 6 000 epochs (18× the code's lr × epochs, chosen so that the cpu student jumps at all; "
                "deviations table); the both-ways runs train Fig. 21's students the code's way too",
                "05_relu_mlp_jumps", ("fig21.width",)),
    Discrepancy("Fig. 7's α axis", "α = n/(dc)", "plots n/d, labelled α", "n/(dc), with n/d as a second axis",
                "05_relu_mlp_jumps", ("fig7.regions",)),
    Discrepancy("Fig. 5A's thresholds against τ", "α_label^{S-shuffle} moves from α_id^S to α_label^T as τ grows; "
                "no rule for reading a threshold",
                "read on seed means (a missing value as 0): the largest α whose mean accuracy is ≥ 1.0, i.e. every "
                "seed exactly perfect; the window from the first to the last such α of held-out accuracy (a dip "
                "inside does not split it); α_label^S as that window's end, not from training accuracy",
                "per seed, the drop's midpoint at 0.99, the window's α grid points at ≥ 99 % (intervals over seeds); "
                "the code's reading of the same runs shown beside it on the page",
                "04_multinomial_scaling", ("c2.shuffle_direction", "c2.window_high_tau"),
                (("c2.shuffle_move.code_reading", "the shuffled student's capacity at the largest τ − at the smallest, "
                  "read as the code reads it (seed means)"),
                 ("c2.window_high_tau.code_reading", "the window's width in α grid points at its widest τ − at the largest "
                  "τ, read as the code reads it (seed means)"))),
    Discrepancy("Fig. 5B's transition lines", "transitions at α·ln c ≈ 0.92 (capacities), α·c ≈ 2.0 (held-out recovery), "
                "α·√c ≈ 0.66 (shuffled student)",
                "vertical lines drawn at those fixed values over seed-mean curves: no rule reads a transition from the "
                "runs; the plotted runs come from two wandb projects (fig_1c_alpha_label_capacity, "
                "fig_1c_linear_regression_class_scaling) that the released script, which logs to "
                "distillation__main-fig_4b (c ∈ {2, 10, 20, 30, 40, 50}, teachers 5 000 epochs), does not write",
                "each transition read per seed (drop: midpoint at 0.99; rise: first α at 0.99), within one step of "
                "the script's x grid (0.167) of the line; the collapse tested as a smaller spread across c on the "
                "paper's axis than on the others, the book's own test", "04_multinomial_scaling",
                ("scaling.teacher_ln_c", "scaling.test_c", "scaling.shuffle_sqrt_c")),
    Discrepancy("'the jump at t ≈ 100'", "a time in training",
                "the index of a logged row (every 10 epochs, a down-sampled history): roughly 1 000–4 000 epochs",
                "curves against epochs; the jump's epoch is measured", "05_relu_mlp_jumps", ("fig7c.jump",)),
)


def explained(files: Mapping[str, Mapping], stem: str, cid: str) -> str:
    """What the book knows of a miss beyond its verdict: its ladder's trend or both-ways runs (from the chapter's
    ``claims.json``, :func:`softleak.ladders.summary`) and the code discrepancies that bear on it; "—" for neither."""
    from .ladders import summary

    said = summary((files.get(stem) or {}).get("metrics") or {}, cid)
    items = [d.item for d in DISCREPANCIES if d.chapter == stem and cid in d.claims]
    parts = [said] if said else []
    if items:
        parts.append("code differs: " + ", ".join(items) + " (below)")
    return "; ".join(parts) or "—"


def _cell_text(text: str) -> str:
    return str(text).replace("|", "/")


def _claim(files: Mapping[str, Mapping], stem: str, cid: str) -> str:
    for c in (files.get(stem) or {}).get("claims", []):
        if c["id"] == cid:
            return f"`{cid}`: {verdict_text(c)} (ours: {c['ours']}; paper: {c['paper']})".replace("|", "/")
    return f"`{cid}`: not run in this build"


def _metric(files: Mapping[str, Mapping], stem: str, name: str, what: str) -> str:
    value = ((files.get(stem) or {}).get("metrics") or {}).get(name)
    return f"{what}: {fmt(value)}" if isinstance(value, (int, float)) else f"{what}: not in this build"


def report_markdown(preset: str, stems: Sequence[str], titles: Mapping[str, str], *, root=None) -> str:
    """The reproduction report in the ML Reproducibility Challenge's sections, every result from the claims."""
    files = {f["notebook"]: f for f in load_claims(preset, root, stems)}
    paper = [c for s in stems if s in files for c in files[s]["claims"] if c.get("kind") == "paper"]
    total = tally(paper)
    link = lambda s: f"[{titles.get(s, s)}](chapters/{s}.ipynb)"  # noqa: E731
    lines = ["# Reproduction report", "",
             f"In the sections of the ML Reproducibility Challenge's reports, for the build at the `{preset}` "
             "preset. Every count, number and verdict below is read from the chapters' `claims.json`; "
             "the [scoreboard](scoreboard.md) lists each claim with its rule.", "",
             "## Scope of reproducibility", "",
             "The paper's central claim: a student trained only on a memorizing teacher's soft labels for a fraction "
             "ρ of its training set recovers labels of the held-out rest, which no rule could predict, and under "
             "conditions the paper maps (sample size, temperature, capacity) recovers them perfectly by matching the "
             "teacher as a function. The book tests each figure's statements as separate claims:", "",
             "| chapter | claims of the paper tested | the book's own checks | premises (not counted) |",
             "| --- | --- | --- | --- |"]
    for s in stems:
        f = files.get(s)
        if f is None:
            lines.append(f"| {link(s)} | not run | not run | not run |")
            continue
        t, b = tally(f["claims"]), tally(f["claims"], kind="book")
        premises = sum(1 for c in f["claims"] if c.get("kind") == "premise")
        lines.append(f"| {link(s)} | {t['tested']} of {t['tested'] + t[UNTESTED]} | {b['tested']} | {premises} |")
    lines += ["", "## Methodology and compute", "",
              "Everything is reimplemented from the paper's text and the facts and hyperparameters of the authors' "
              "released code (none of their code is used). Every model of a sweep trains as one stacked ensemble "
              "with per-member Adam states, each member equal to its solo run; each claim's verdict comes from a rule "
              "declared once, decided on the interval over seeds. Where this build ran:", "",
              "| chapter | preset | device | wall time |", "| --- | --- | --- | --- |"]
    for s in stems:
        p = (files.get(s) or {}).get("provenance") or {}
        if p:
            lines.append(f"| {link(s)} | `{p.get('preset')}` | {p.get('device')} ({p.get('device_name')}), torch "
                         f"{p.get('torch')} | {p.get('seconds')} s |")
    secs = sum(((files.get(s) or {}).get("provenance") or {}).get("seconds") or 0 for s in stems)
    lines += ["", f"In all {secs / 60:.1f} min. `python -m softleak.book plan --preset paper` counts what the paper's "
              "own sizes would train.", "",
              "## Results", "", f"**{headline(total)}**; {total[FAILS]} tested claims of the paper do not reproduce. "
              f"At 95 % per verdict, about {expected_wrong(total[REPRODUCES] + total[FAILS]):.1f} of the "
              f"{total[REPRODUCES] + total[FAILS]} decided verdicts are expected to be wrong by chance alone.", ""]
    for verdict, heading in ((FAILS, "Claims that do not reproduce"), (INCONCLUSIVE, "Claims left inconclusive")):
        rows = [(s, c) for s in stems if s in files for c in files[s]["claims"]
                if c.get("kind") == "paper" and c.get("verdict") == verdict]
        if rows:
            lines += [f"**{heading}** ({len(rows)})", "", "| claim (chapter) | paper | ours | ladder, or what the "
                      "authors' code does differently |", "| --- | --- | --- | --- |"]
            lines += [f"| {c['statement']} (`{c['id']}`, {link(s)}) | {c['paper']} | {c['ours']} | "
                      f"{_cell_text(explained(files, s, c['id']))} |".replace("\n", " ") for s, c in rows]
            lines.append("")
    easy = [s for s in stems if s in files and (t := tally(files[s]["claims"]))["tested"] and t[REPRODUCES] == t["tested"]]
    hard = [(s, tally(files[s]["claims"])) for s in stems if s in files and s not in easy]
    lines += ["## What was easy", "",
              ("Every tested claim of the paper reproduces in: " + ", ".join(link(s) for s in easy) + "."
               if easy else "No chapter reproduced every one of its tested claims at this preset."), "",
              "## What was difficult", ""]
    lines += [f"- {link(s)}: {t[FAILS]} do not reproduce, {t[INCONCLUSIVE]} inconclusive, {t[UNTESTED]} not tested "
              f"(of {t['tested'] + t[UNTESTED]})." for s, t in hard]
    lines += ["", "Each chapter's page says why its misses happen, and its deviations table which settings differ "
              "from the paper's for cost.", "",
              "## Discrepancies between the paper and the authors' code", "",
              "Each item: what the paper says, what the released code does, what the book does, and what this "
              "build measured on the claims it decides.", ""]
    for d in DISCREPANCIES:  # one block per item: six table columns left each too narrow to read
        measured = "; ".join([_claim(files, d.chapter, cid) for cid in d.claims]
                             + [_metric(files, d.chapter, name, what) for name, what in d.metrics]) \
            or "seeds are columns of every results table"
        lines += [f"**{d.item}** ({link(d.chapter)})", "", f"- *The paper:* {d.paper}", f"- *The released code:* {d.code}",
                  f"- *The book:* {d.book}", f"- *What this build measured:* {measured}", ""]
    lines += ["", "## Communication with the original authors", "", "None: this reproduction used only the paper, "
              "its workshop version and the authors' public code."]
    return "\n".join(lines) + "\n"
