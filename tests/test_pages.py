"""The generated page parts and pages: the run box, the downloads, figure provenance, status and report."""

import json
import re
import shutil

import pandas as pd
import pytest

from softleak import ladders, pages
from softleak.claims import repo_root

STEM = "03_logistic_thresholds"


def _claims_file(folder, stem, preset="smoke", verdicts=("reproduces", "fails"), seconds=12.5, ids=None, metrics=None):
    folder.mkdir(parents=True, exist_ok=True)
    ids = ids or [f"c{i}" for i in range(len(verdicts))]
    payload = {"notebook": stem, "preset": preset,
               "provenance": {"commit": "abcdef1234567", "dirty": False, "source_fingerprint": "f" * 16, "preset": preset,
                              "seeds": [0, 1, 2, 3, 9], "config": {"d": 40}, "device": "cpu", "device_name": "x86_64",
                              "torch": "2.13.0", "date": "2026-12-02T05:00:00+00:00", "seconds": seconds,
                              "cache": {"configs": 10, "from_cache": 4, "computed": 6, "workers": 2}},
               "claims": [{"id": i, "kind": "paper", "statement": f"statement {i}", "rule": "x ≥ 1", "paper": "1",
                           "ours": f"ours {i}", "holds": v == "reproduces", "verdict": v, "note": "", "post_hoc": False}
                          for i, v in zip(ids, verdicts)],
               "metrics": metrics or {}}
    (folder / "claims.json").write_text(json.dumps(payload))
    pd.DataFrame({"seed": [0, 1], "acc": [0.5, 0.75]}).to_parquet(folder / "table.parquet")
    return payload


def test_seeds_and_config_hash():
    assert pages.seeds_text([13, 100, 101, 102, 103]) == "13, 100–103"
    assert pages.seeds_text([0, 1, 5]) == "0, 1, 5"
    assert pages.config_hash({"a": 1, "b": 2}) == pages.config_hash({"b": 2, "a": 1}) != pages.config_hash({"a": 2})


def test_parameters_read_from_the_source_notebook():
    params = dict((n, (d, c)) for n, d, c in pages.parameters(repo_root() / "notebooks" / f"{STEM}.ipynb"))
    assert "preset" in params and "scheduler" in params
    assert params["scheduler"][0] == "None" and params["scheduler"][1]


def test_annotate_adds_box_downloads_and_caption_provenance(tmp_path):
    results = tmp_path / "results"
    prov = _claims_file(results, STEM)["provenance"]
    executed = tmp_path / "book" / "chapters" / f"{STEM}.ipynb"
    executed.parent.mkdir(parents=True)
    source = repo_root() / "notebooks" / f"{STEM}.ipynb"
    shutil.copy(source, executed)
    costs = {"smoke": "1 GFLOP", "cpu": "1 TFLOP", "paper": "1 PFLOP"}
    pages.annotate(executed, STEM, results, source, costs)
    pages.annotate(executed, STEM, results, source, costs)  # idempotent
    nb = json.loads(executed.read_text())
    text = "".join(nb["cells"][1]["source"])
    assert sum("Run it yourself" in "".join(c["source"]) for c in nb["cells"]) == 1
    for preset, cost in costs.items():
        assert f"-p preset {preset}` | {cost} |" in text
    assert "`scheduler`" in text and "make lab" in text and f"downloads/{STEM}/{STEM}.ipynb" in text
    captions = [c["metadata"]["mystnb"]["figure"]["caption"] for c in nb["cells"] if "mystnb" in c.get("metadata", {})]
    assert captions and all(cap.endswith(pages.caption_tag(prov)) and cap.count("Run: preset") == 1 for cap in captions)
    assert "seeds 0–3, 9" in pages.caption_tag(prov)
    folder = executed.parent / "downloads" / STEM
    assert json.loads((folder / f"{STEM}.ipynb").read_text()) == json.loads(source.read_text())  # the source, not outputs
    assert pd.read_csv(folder / "table.csv").equals(pd.read_parquet(folder / "table.parquet"))
    assert (folder / "claims.json").exists()


def test_status_page_marks_stale_and_missing_chapters(tmp_path):
    _claims_file(tmp_path / "01_toy_2d" / "smoke", "01_toy_2d")
    stems = ["01_toy_2d", STEM]
    page = pages.status_markdown("smoke", stems, {}, root=tmp_path, expected={"01_toy_2d": {"commit": "0" * 40}})
    assert "`abcdef1234`" in page and "4 of 10 configs" in page and "12.5 s" in page
    assert "no (1)" in page and "it was run at commit abcdef1234" in page and f"| {STEM} | not run |" in page
    assert "yes" in pages.status_markdown("smoke", stems, {}, root=tmp_path)


def test_report_results_come_from_the_claims(tmp_path):
    _claims_file(tmp_path / "05_relu_mlp_jumps" / "smoke", "05_relu_mlp_jumps", verdicts=("fails", "reproduces"),
                 ids=["fig18a.tail", "fig7c.jump"])
    _claims_file(tmp_path / STEM / "smoke", STEM, verdicts=("reproduces",))
    page = pages.report_markdown("smoke", ["05_relu_mlp_jumps", STEM], {}, root=tmp_path)
    assert "2 of 3 tested claims reproduce" in page
    assert "statement fig18a.tail" in page and "Claims that do not reproduce** (1)" in page
    assert "`fig18a.tail`: ✗ does not reproduce (ours: ours fig18a.tail" in page
    assert "`a3.tail_sharp_drop`: not run in this build" in page  # chapter 7 absent
    assert f"Every tested claim of the paper reproduces in: [{STEM}]" in page
    for d in pages.DISCREPANCIES:
        assert d.item in page
    flipped = tmp_path / "flip"
    _claims_file(flipped / "05_relu_mlp_jumps" / "smoke", "05_relu_mlp_jumps", verdicts=("reproduces", "reproduces"),
                 ids=["fig18a.tail", "fig7c.jump"])
    assert "Claims that do not reproduce" not in pages.report_markdown("smoke", ["05_relu_mlp_jumps"], {}, root=flipped)


def test_the_report_says_beside_each_miss_what_its_ladder_or_the_authors_code_shows(tmp_path):
    stem = "02_modular_addition"
    metrics = {"ladder.fig3b.tau0.1.threshold.y": [0.06, 0.1, 0.5], "ladder.fig3b.tau0.1.threshold.labels":
               ["budget ×1", "budget ×2", "budget ×4"], "ladder.fig3b.tau0.1.threshold.trend": "closes",
               "ladder.fig3b.tau0.1.threshold.knob": "student budget", "ladder.fig3b.tau0.1.threshold.paper": 0.95,
               "ladder.fig3b.tau0.1.threshold.unit": "pct", "ladder.fig3b.tau0.1.threshold.stale": False}
    _claims_file(tmp_path / stem / "smoke", stem, verdicts=("fails", "fails", "inconclusive"),
                 ids=["fig3b.tau0.1.threshold", "fig11a.memorize", "fig3a.premise"], metrics=metrics)
    page = pages.report_markdown("smoke", [stem], {}, root=tmp_path)
    row = next(line for line in page.splitlines() if "`fig3b.tau0.1.threshold`" in line and line.startswith("| "))
    assert "ladder over student budget, budget ×1 → budget ×4: 6.0 % → 50.0 % (paper 95.0 %): the gap closes" in row
    assert "code differs: modular addition's student epochs (below)" in row
    # an edge reads as the side the claim asks for, not as a number the paper reports
    assert "(the paper's side: above 95.0 %)" in ladders.summary({**metrics, "ladder.fig3b.tau0.1.threshold.side":
                                                                  "above"}, "fig3b.tau0.1.threshold")
    memo = next(line for line in page.splitlines() if "`fig11a.memorize`" in line and line.startswith("| "))
    assert "ladder" not in memo and "code differs: modular addition's MLP teacher ②" in memo
    premise = next(line for line in page.splitlines() if "`fig3a.premise`" in line and line.startswith("| "))
    assert premise.endswith("| — |")


def _id_template(body: str):
    """A claim id f-string's body as a pattern (a field: one id word, or a decimal like 0.1), or None when its
    literal text is too short to pin an id down."""
    parts = re.split(r"(\{[^}]*\})", body)
    if sum(ch.isalpha() for p in parts if not p.startswith("{") for ch in p) < 6:
        return None
    return re.compile("".join(r"\w+?(?:\.\d+)?" if p.startswith("{") else re.escape(p) for p in parts))


def test_an_id_template_matches_the_ids_it_builds_and_no_other():
    t = _id_template("{fig}b.tau{hi:g}.teacher{k}_leaks")
    assert t.fullmatch("fig3b.tau10.teacher1_leaks") and t.fullmatch("fig11b.tau0.1.teacher2_leaks")
    assert not t.fullmatch("fig3b.tau10.teacher1_leakz") and not t.fullmatch("nonsense.claim")
    assert _id_template("{a}.{b}") is None


def test_discrepancies_name_claims_the_chapters_declare():
    import importlib

    from softleak.presets import SECTIONS

    for d in pages.DISCREPANCIES:
        module = importlib.import_module(SECTIONS[d.chapter])
        from pathlib import Path

        text = "".join(p.read_text() for p in Path(module.__file__).parent.glob("*.py"))  # the chapter's package
        templates = [t for t in map(_id_template, re.findall(r'f"([^"]*\{[^"]*)"', text)) if t]  # ids of f-strings
        for cid in d.claims:
            assert f'"{cid}"' in text or any(t.fullmatch(cid) for t in templates), (d.chapter, cid)
        for name, _ in d.metrics:
            assert f'"{name}"' in text, (d.chapter, name)


def test_a_discrepancy_shows_the_metric_that_reads_the_runs_the_codes_way(tmp_path):
    stem = "04_multinomial_scaling"
    item = next(d for d in pages.DISCREPANCIES if d.metrics)
    name, what = item.metrics[0]
    _claims_file(tmp_path / stem / "smoke", stem, verdicts=("fails",), ids=list(item.claims), metrics={name: -0.3214})
    page = pages.report_markdown("smoke", [stem], {}, root=tmp_path)
    assert f"{what}: -0.321" in page
    _claims_file(tmp_path / "old" / stem / "smoke", stem, verdicts=("fails",), ids=list(item.claims))
    assert f"{what}: not in this build" in pages.report_markdown("smoke", [stem], {}, root=tmp_path / "old")
