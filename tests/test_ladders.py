"""Ladders (softleak.ladders): the trend rule, a build at a small base preset read back by a page, staleness, bad
input before any compute, and the committed ladders files against the rule that reads them."""

import dataclasses
import json
import math

import pytest

from softleak import ladders, plotting, provenance
from softleak.experiments import load_all
from softleak.rules import MIN_RUNS
from softleak.ladders import CLOSES, NOT_MEASURED, STAYS, UNRESOLVED, WIDENS, Ladder, distance, trend

load_all()
STEM = "04_multinomial_scaling"


def rung(value, low=None, high=None):
    return {"value": value, "low": low, "high": high}


def test_distance_to_a_value_or_to_the_paper_side_of_an_edge():
    assert distance(0.3, 0.5, "value") == pytest.approx(0.2)
    assert distance(0.7, 0.5, "value") == pytest.approx(0.2)
    assert distance(0.7, 0.5, "above") == 0.0 and distance(0.3, 0.5, "above") == pytest.approx(0.2)
    assert distance(0.3, 0.5, "below") == 0.0 and distance(0.7, 0.5, "below") == pytest.approx(0.2)
    assert math.isnan(distance(None, 0.5, "value"))


def test_the_trend_reads_the_distance_at_the_last_rung_against_the_first_beyond_both_intervals():
    # toward the edge by more than either interval's half-width: closes; away: widens
    assert trend([rung(-0.3, -0.35, -0.25), rung(-0.1, -0.12, -0.08)], 0.0, "above") == CLOSES
    assert trend([rung(-0.1, -0.12, -0.08), rung(-0.3, -0.35, -0.25)], 0.0, "above") == WIDENS
    # past the edge counts as distance 0: closes from a miss
    assert trend([rung(-0.3, -0.31, -0.29), rung(0.2, 0.1, 0.3)], 0.0, "above") == CLOSES
    # a move beyond the tolerance but within a rung's half-width is seed noise: unresolved, not a trend
    assert trend([rung(-0.3, -0.5, -0.1), rung(-0.2, -0.4, 0.0)], 0.0, "above") == UNRESOLVED
    assert trend([rung(0.06, 0.01, 0.11), rung(0.67, -0.70, 2.04)], 0.95, "above") == UNRESOLVED
    # within the tolerance: stays, however wide the intervals
    assert trend([rung(-0.32, -0.38, -0.26), rung(-0.318, -0.54, -0.10)], 0.0, "above") == STAYS
    # no interval: the book's tolerance (2 points) is the margin
    assert trend([rung(0.50), rung(0.51)], 0.95, "value") == STAYS
    assert trend([rung(0.50), rung(0.60)], 0.95, "value") == CLOSES
    # the middle rung does not decide; a missing end rung is never read past
    assert trend([rung(0.5), rung(0.9), rung(0.5)], 0.95) == STAYS
    assert trend([rung(0.5), rung(None)], 0.95) == NOT_MEASURED
    assert trend([rung(0.5)], 0.95) == NOT_MEASURED


def _two_rungs(cfg):
    narrow = ladders._multinomial_narrow(cfg, c2_taus=ladders._c2_taus(cfg))
    return [(float(d), f"d = {d}", {**narrow, "d": d}) for d in (2 * cfg.d, 4 * cfg.d)]


SMALL = Ladder("c2.shuffle_direction", "c2.shuffle_move", "d (input dimension)", _two_rungs, paper=0.0, side="above",
               blamed="size", paper_setting="d = 1000", runs="2 seeds")
BOTH = Ladder("c2.shuffle_direction", "c2.shuffle_move", "definition",
              lambda cfg: [(0.0, "book", ladders._multinomial_narrow(cfg, c2_taus=ladders._c2_taus(cfg))),
                           (1.0, "other τ", ladders._multinomial_narrow(cfg, c2_taus=tuple(cfg.c2_taus[:2])))],
              paper=0.0, side="above", kind="both ways", also=("c2.shuffle_move",))


def test_a_ladder_on_the_papers_side_at_every_rung_reads_as_holding_not_as_a_miss():
    rungs = [{**rung(v, v - 0.1, v + 0.1), "label": f"budget ×{k}", "n": 3, "verdict": "reproduces", "x": k}
             for k, v in ((1, 0.8), (2, 0.81), (4, 0.79))]
    entry = {"claim": "c", "quantity": "q", "kind": "ladder", "knob": "budget", "paper": 0.45, "side": "above",
             "unit": "pct", "blamed": "students still moving", "paper_setting": "longer", "runs": "3", "rungs": rungs}
    entry["trend"] = trend(rungs, 0.45, "above")
    assert entry["trend"] == STAYS and ladders.on_paper_side(entry)
    built = ladders.Built("s", [entry])
    assert "**stays** at zero" in built.sentence(entry) and "not reproducing" not in built.sentence(entry)
    assert "stays at zero" in built.note("c") and "stays at zero" in ladders.summary(built.metrics(), "c")
    below = {**entry, "rungs": [{**r, **rung(0.3, 0.2, 0.4)} for r in rungs]}  # a gap that stays is still a miss
    assert not ladders.on_paper_side(below)
    below["trend"] = trend(below["rungs"], 0.45, "above")
    assert "not reproducing" in built.sentence(below)
    # the figure's panel title reads it as the sentence does
    valued = {**entry, "side": "value", "paper": 0.8}
    axes = [ax for ax in plotting.ladders([entry, below, valued]).axes if ax.get_visible()]
    titles = [ax.get_title() for ax in axes]
    assert titles[0].endswith("holds at every rung") and titles[1].endswith("the gap stays")
    # an edge is the claim's (the paper's number or the rule's reading of it), a reported value the paper's
    legends = [[t.get_text() for t in ax.get_legend().get_texts()] for ax in axes]
    assert "edge of the claim" in legends[0] and "paper" not in legends[0] and "paper" in legends[2]


def test_a_ladder_built_at_a_small_preset_is_read_back_by_its_page(tmp_path, monkeypatch):
    monkeypatch.setenv("SOFTLEAK_RESULTS_DIR", str(tmp_path / "results"))
    monkeypatch.setitem(ladders.LADDERS, STEM, (SMALL,))
    payload = ladders.build(STEM, root=tmp_path, base_preset="smoke", progress=False, workers=1)
    written = json.loads((tmp_path / "ladders" / f"{STEM}.json").read_text())
    assert written["ladders"] == json.loads(json.dumps(payload["ladders"], default=str))
    (entry,) = written["ladders"]
    assert [r["x"] for r in entry["rungs"]] == [40.0, 80.0] and all(r["n"] == 2 for r in entry["rungs"])
    assert entry["trend"] == trend(entry["rungs"], 0.0, "above")
    assert written["provenance"]["source_fingerprint"] == provenance.chapter_fingerprint(STEM)
    assert all(r["computed"] and "note" in r for r in entry["rungs"])
    # built again from the same cache: nothing computed, so the entry keeps the record of the runs it reads
    again = ladders.build(STEM, root=tmp_path, base_preset="smoke", progress=False, workers=1)["ladders"][0]
    assert again["provenance"] == entry["provenance"] and [r["seconds"] for r in again["rungs"]] == [
        r["seconds"] for r in entry["rungs"]]
    assert [r["value"] for r in again["rungs"]] == [r["value"] for r in entry["rungs"]]

    built = ladders.load(STEM, root=tmp_path)
    assert built.stale == []
    m = built.metrics()
    for key in ("x", "y", "low", "high", "paper", "trend"):
        assert f"ladder.c2.shuffle_direction.{key}" in m
    assert m["ladder.c2.shuffle_direction.y"] == [r["value"] for r in entry["rungs"]]
    assert m["ladders.stale"] is False
    text = built.markdown()
    assert "`c2.shuffle_direction` ladder" in text and entry["trend"] in text and "warning" not in text

    from softleak.rules import Claim
    claim = Claim("c2.shuffle_direction", "paper", "s", "r", "p", "o", False, "fails", note="")
    (noted,) = built.annotate([claim])
    assert noted.verdict == "fails" and "ladder over d (input dimension), d = 40 → d = 80" in noted.note
    other = Claim("c2.other", "paper", "s", "r", "p", "o", None, "inconclusive", note="n")
    assert built.annotate([other]) == [other]

    (fig,) = built.figures()
    (ax,) = [a for a in fig.axes if a.get_visible()]
    dashed = [line for line in ax.get_lines() if line.get_linestyle() == "--"]
    assert dashed and list(dashed[0].get_ydata()) == [0.0, 0.0]
    plotting.plt.close(fig)


def test_a_ladder_is_stale_once_the_chapter_code_or_its_rungs_change(tmp_path, monkeypatch):
    monkeypatch.setenv("SOFTLEAK_RESULTS_DIR", str(tmp_path / "results"))
    monkeypatch.setitem(ladders.LADDERS, STEM, (SMALL,))
    ladders.build(STEM, root=tmp_path, base_preset="smoke", progress=False, workers=1)
    monkeypatch.setattr(provenance, "chapter_fingerprint", lambda stem: "other-code")
    built = ladders.load(STEM, root=tmp_path)
    assert any("code has changed" in s for s in built.stale) and built.metrics()["ladders.stale"] is True
    # a notebook's Markdown output is CommonMark: the warning is a quote block, not a MyST directive
    assert "> **Warning: these ladders are stale.**" in built.markdown() and ":::" not in built.markdown()
    assert "(stale" in built.note("c2.shuffle_direction")
    assert built.metrics()["ladder.c2.shuffle_direction.stale"] is True
    monkeypatch.undo()
    moved = dataclasses.replace(SMALL, rungs=lambda cfg: _two_rungs(cfg)[:1] + [(160.0, "d = 160", {**_two_rungs(cfg)[0][2], "d": 160})])
    monkeypatch.setitem(ladders.LADDERS, STEM, (moved,))
    assert any("rungs" in s for s in ladders.load(STEM, root=tmp_path).stale)
    # a declaration's words are the code's: a corrected one is read at once, and leaves the runs up to date
    reworded = dataclasses.replace(SMALL, blamed="a corrected cause", paper_setting="d = 1000 (reworded)")
    monkeypatch.setitem(ladders.LADDERS, STEM, (reworded,))
    again = ladders.load(STEM, root=tmp_path)
    assert again.stale == [] and "d = 1000 (reworded)" in again.markdown()
    assert again.entries[0]["blamed"] == "a corrected cause"


def test_both_ways_records_each_definitions_value_and_verdict(tmp_path, monkeypatch):
    monkeypatch.setenv("SOFTLEAK_RESULTS_DIR", str(tmp_path / "results"))
    monkeypatch.setitem(ladders.LADDERS, STEM, (BOTH,))
    ladders.build(STEM, root=tmp_path, base_preset="smoke", progress=False, workers=1)
    m = ladders.load(STEM, root=tmp_path).metrics()
    assert m["both_ways.c2.shuffle_direction.labels"] == ["book", "other τ"]
    line = ladders.summary(m, "c2.shuffle_direction")
    assert line.startswith("both ways: book: ") and "other τ: " in line
    assert ladders.summary(m, "c2.other") == ""
    assert len(m["both_ways.c2.shuffle_direction.verdicts"]) == 2 and "ladder.c2.shuffle_direction.trend" not in m
    # another part of the claim, recorded at each rung: in the metrics, the report's line, the note and the sentence
    assert m["both_ways.c2.shuffle_direction.also.c2.shuffle_move.y"] == m["both_ways.c2.shuffle_direction.y"]
    assert line.count(", c2.shuffle_move ") == 2
    built = ladders.load(STEM, root=tmp_path)
    assert built.note("c2.shuffle_direction").count(", c2.shuffle_move ") == 2
    assert "c2.shuffle_move at each: book: " in built.markdown()
    bad = dataclasses.replace(BOTH, also=("no.such",))
    monkeypatch.setitem(ladders.LADDERS, STEM, (bad,))
    with pytest.raises(ValueError, match="quantity='no.such' is not evidence of claim 'c2.shuffle_direction' nor of "
                                         "another claim of its run"):
        ladders.build(STEM, root=tmp_path, base_preset="smoke", progress=False, workers=1)


def test_a_ladder_reads_its_claims_own_quantity_and_may_add_another_claims_evidence():
    from softleak.rules import Claim

    def claim(cid, *names):
        return Claim(cid, "paper", "s", "r", "p", "o", True, "reproduces",
                     evidence=[{"name": n, "value": 0.5, "low": 0.4, "high": 0.6, "n": 3} for n in names])

    found = [claim("premise", "teachers_at_100"), claim("c2.shuffle_direction", "c2.shuffle_move")]
    lad = dataclasses.replace(BOTH, also=("teachers_at_100",))
    ev = ladders._evidence(found, lad)
    assert ev["value"] == 0.5 and ev["also"]["teachers_at_100"]["n"] == 3
    with pytest.raises(ValueError, match="quantity='teachers_at_100' is not evidence of claim 'c2.shuffle_direction'"
                                         " \\(its"):  # the quantity itself must be the claim's own
        ladders._evidence(found, dataclasses.replace(BOTH, quantity="teachers_at_100"))


def test_bad_ladders_fail_before_any_compute(tmp_path, monkeypatch):
    monkeypatch.setenv("SOFTLEAK_RESULTS_DIR", str(tmp_path / "results"))
    with pytest.raises(ValueError, match=r"claims=\['no.such'\] is not allowed"):
        ladders.build(STEM, claims=["no.such"], root=tmp_path, base_preset="smoke", progress=False)
    bad = Ladder("c2.shuffle_direction", "c2.shuffle_move", "d", lambda cfg: [(1.0, "d = -1", {"d": -1})], paper=0.0)
    with pytest.raises(ValueError, match=r"rung 'd = -1': d=-1"):
        ladders.build(STEM, root=tmp_path, base_preset="smoke", progress=False, ladders=[bad])
    assert not (tmp_path / "results").exists() and not (tmp_path / "ladders").exists()
    with pytest.raises(ValueError, match="kind='both' is not allowed"):
        Ladder("x", "y", "k", _two_rungs, paper=0.0, kind="both")
    with pytest.raises(ValueError, match="section='05_nope' is not allowed"):
        ladders.declared("05_nope")


def test_the_mlp_teacher_comparison_runs_the_books_teachers_and_the_authors_schedule_at_two_sizes():
    from softleak import presets
    from softleak.experiments.modular.common import LOW
    from softleak.experiments.modular.config import PAPER_FRAC, PAPER_MLP_STOPS, PRESETS

    (lad,) = [lad for lad in ladders.declared("02_modular_addition") if lad.claim == "fig11a.memorize"]
    assert (lad.kind, lad.paper, lad.side) == ("both ways", LOW, "below")  # the rule's own edge for ②
    cpu = presets.resolve("02_modular_addition", "cpu")
    book, code, paper_p = (c for _, _, c in ladders.rung_configs("02_modular_addition", lad))
    assert all(c.archs == ("mlp",) for c in (book, code, paper_p))
    keep = ("P", "frac", "stops", "teacher_epochs", "width", "separate_runs")
    assert [getattr(book.mlp, k) for k in keep] == [getattr(cpu.mlp, k) for k in keep]
    assert (code.mlp.P, code.mlp.frac, code.mlp.stops, code.mlp.separate_runs) == (
        cpu.mlp.P, PAPER_FRAC, PAPER_MLP_STOPS, True)
    assert paper_p.mlp.P == PRESETS["paper"].mlp.P and paper_p.mlp.stops == PAPER_MLP_STOPS
    assert code.mlp.teacher_epochs == 20_000 and code.mlp.width == cpu.mlp.width


def test_the_block_ladder_trains_the_mlps_top_rho_students_longer_and_reads_the_claims_edge():
    from softleak import presets
    from softleak.experiments.modular.fig3b_fig11b import BLOCK_GAP

    (lad,) = [lad for lad in ladders.declared("02_modular_addition") if lad.claim == "fig11b.soft_labels_block"]
    assert (lad.quantity, lad.paper, lad.side, lad.kind) == ("mlp.block", BLOCK_GAP, "above", "ladder")
    cpu = presets.resolve("02_modular_addition", "cpu")
    cfgs = [c for _, _, c in ladders.rung_configs("02_modular_addition", lad)]
    assert [c.budget_scale for c in cfgs] == [1.0, 2.0, 4.0]
    for c in cfgs:  # the settings the claim reads (teacher ①, largest ρ, both ends of τ), the MLP alone
        assert c.archs == ("mlp",) and c.rhos_of("mlp") == (max(cpu.rhos_of("mlp")),)
        assert set(c.taus) == {max(cpu.taus), min(cpu.taus)} and c.mlp == dataclasses.replace(cpu.mlp, rhos=c.mlp.rhos)


def test_the_transformers_budget_ladders_share_one_config_of_the_top_rho_students_and_read_the_claims_edges():
    from softleak import presets
    from softleak.experiments.modular import fig3b_fig11b
    from softleak.theory import FULL

    stem = "02_modular_addition"
    by_claim = {lad.claim: lad for lad in ladders.declared(stem)}
    cpu = presets.resolve(stem, "cpu")
    top = [c for _, _, c in ladders.rung_configs(stem, by_claim["fig3b.tau10.teacher2_copies"])]
    for cid in ("fig3b.tau0.1.independent", "fig3b.train"):  # one config, so the three ladders run it once
        assert [c for _, _, c in ladders.rung_configs(stem, by_claim[cid])] == top
    assert [c.budget_scale for c in top] == [1.0, 2.0, 4.0]
    for c in top:  # every teacher's students at the largest ρ and both ends of τ, the transformer alone
        assert c.archs == ("transformer",) and c.rhos_of("transformer") == (max(cpu.rhos_of("transformer")),)
        assert set(c.taus) == {max(cpu.taus), min(cpu.taus)} and c.transformer == cpu.transformer
    # the MLP's train claim reads the block ladder's runs again (its only unconverged students)
    assert ladders.rung_configs(stem, by_claim["fig11b.train"]) == ladders.rung_configs(
        stem, by_claim["fig11b.soft_labels_block"])
    # each edge is the chapter's own, not a typed copy that could drift
    assert by_claim["fig3b.tau10.teacher2_copies"].paper == fig3b_fig11b.RECOVERED
    assert by_claim["fig3b.tau0.1.independent"].paper == fig3b_fig11b.INDEPENDENT_TOLERANCE
    assert by_claim["fig3b.train"].paper == by_claim["fig11b.train"].paper == FULL
    assert [(lad.side, lad.kind) for lad in (by_claim[c] for c in (
        "fig3b.tau10.teacher2_copies", "fig3b.tau0.1.independent", "fig3b.train", "fig11b.train"))] == [
        ("above", "ladder"), ("below", "ladder"), ("above", "ladder"), ("above", "ladder")]


def test_the_toy_comparison_trains_the_c3_teacher_the_books_way_the_codes_way_and_at_the_papers_width():
    from softleak import presets
    from softleak.experiments.toy2d import PAPER
    from softleak.experiments.toy2d.fig1_fig8 import AUTHORS_TEACHER_EPOCHS

    (lad,) = ladders.declared("01_toy_2d")
    assert (lad.claim, lad.quantity, lad.kind, lad.side) == ("c3.soft_beats_independent", "c3.gap", "both ways", "above")
    assert lad.paper == pytest.approx(PAPER[3]["soft"] - PAPER[3]["hard"])  # the paper's gap, not its rule's edge
    (cpu_c3,) = [case for case in presets.resolve("01_toy_2d", "cpu").cases if case.c == 3]
    book, code, text = ([*c.cases] for _, _, c in ladders.rung_configs("01_toy_2d", lad))
    assert book == [cpu_c3] and cpu_c3.teacher_stop == "fit"
    assert code == [dataclasses.replace(cpu_c3, teacher_stop="fixed", teacher_max_steps=AUTHORS_TEACHER_EPOCHS)]
    assert text == [dataclasses.replace(cpu_c3, p=ladders.PAPER_TOY_WIDTH)] and cpu_c3.p != ladders.PAPER_TOY_WIDTH


def test_the_offline_gpt2_ladder_grows_model_and_data_together_and_is_read_from_its_claim(tmp_path, monkeypatch):
    from softleak.experiments.gpt2 import PAPER_ACC_TEST

    (lad,) = ladders.declared("06_gpt2")
    low = min(PAPER_ACC_TEST)
    assert (lad.claim, lad.quantity, lad.paper) == ("fig9.offline.above_chance", f"offline.rho{low:g}.acc_test_S",
                                                    PAPER_ACC_TEST[low])
    cfgs = [c for _, _, c in ladders.rung_configs("06_gpt2", lad)]
    assert [(c.n_layer, c.n_embd, c.n, c.c) for c in cfgs] == [(2, 64, 1000, 200), (3, 96, 1500, 300),
                                                               (4, 128, 2000, 400)]
    assert {c.n / c.c for c in cfgs} == {5.0} and low in cfgs[0].rhos
    from softleak.plotting.ladders import _tick
    assert [_tick(label) for _, label, _ in ladders.rung_configs("06_gpt2", lad)] == ["×1", "×1.5", "×2"]
    assert _tick("d = 200") == "200" and _tick("budget ×2") == "×2"  # the other chapters' labels
    from softleak.plotting.ladders import _wrap  # a both-ways label never splits "10 000" across lines
    assert _wrap("the code: Adam 10⁻⁴ × 10 000 epochs", 24).splitlines()[-1].startswith("10\u00a0000")
    monkeypatch.setenv("SOFTLEAK_RESULTS_DIR", str(tmp_path / "results"))
    entry = ladders.build("06_gpt2", root=tmp_path, base_preset="smoke", progress=False, workers=1)["ladders"][0]
    assert len(entry["rungs"]) == 3 and all(r["n"] == 1 and r["value"] is not None for r in entry["rungs"])
    assert all(r["verdict"] == "inconclusive" for r in entry["rungs"])  # one smoke seed decides nothing


@pytest.mark.parametrize("stem", sorted(ladders.LADDERS))
def test_the_committed_ladders_match_their_declarations_and_the_trend_rule(stem):
    path = ladders.ladder_path(stem)
    if not path.exists():
        pytest.fail(f"{path} is declared but not built: run `make ladders ONLY={stem}`")
    payload = json.loads(path.read_text())
    declared = {lad.key: lad for lad in ladders.declared(stem)}
    assert [ladders.entry_key(e) for e in payload["ladders"]] == list(declared)
    for e in payload["ladders"]:
        lad = declared[ladders.entry_key(e)]
        assert (e["kind"], e["paper"], e["side"], e["quantity"]) == (lad.kind, lad.paper, lad.side, lad.quantity)
        assert len(e["rungs"]) == len(ladders.rung_configs(stem, lad)) >= 2
        assert all(set(r.get("also") or ()) == set(lad.also) for r in e["rungs"])
        if e["kind"] == "ladder":  # the page reads it by the rule as declared now
            read = next(r for r in ladders.load(stem).entries if ladders.entry_key(r) == ladders.entry_key(e))
            assert read["trend"] == trend(e["rungs"], e["paper"], e["side"])
        assert all(r["n"] >= MIN_RUNS for r in e["rungs"]), "every rung rests on at least three independent runs"


def test_the_command_line_reports_each_chapters_ladders_and_refuses_an_unknown_one(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("SOFTLEAK_RESULTS_DIR", str(tmp_path / "results"))
    assert ladders.main(["status", "--only", STEM]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"{STEM}: ") and ("up to date" in out or "stale" in out)
    with pytest.raises(ValueError, match="only='04_nope' is not allowed"):
        ladders.main(["build", "--only", "04_nope"])
