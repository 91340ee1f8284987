import json

import pandas as pd
import pytest

from softleak.claims import Claim, claims_frame, load_claims, results_dir, scoreboard_markdown, write_results
from softleak.rules import AtLeast, ClaimSpec, Evidence
from softleak.sweeps import config_key, run_sweep


def grid(**axes):
    import itertools
    return [dict(zip(axes, combo)) for combo in itertools.product(*axes.values())]


def test_config_key_is_stable_and_sensitive():
    assert config_key({"a": 1, "b": 2}, "x") == config_key({"b": 2, "a": 1}, "x")
    assert config_key({"a": 1}, "x") != config_key({"a": 2}, "x")
    assert config_key({"a": 1}, "x") != config_key({"a": 1}, "y")


class Interrupt(Exception):
    pass


def test_interrupted_sweep_resumes_without_recomputing(tmp_path):
    configs = grid(x=range(6))
    calls = []

    def fn(batch, fail_at=None):
        out = []
        for cfg in batch:
            if cfg["x"] == fail_at:
                raise Interrupt
            calls.append(cfg["x"])
            out.append(pd.DataFrame({"y": [cfg["x"] ** 2]}))
        return out

    with pytest.raises(Interrupt):
        run_sweep(lambda b: fn(b, fail_at=3), configs, cache_dir=tmp_path, namespace="t", progress=False)
    assert calls == [0, 1, 2]
    df = run_sweep(fn, configs, cache_dir=tmp_path, namespace="t", progress=False)
    assert calls == [0, 1, 2, 3, 4, 5]  # finished configs were not recomputed
    assert df["y"].tolist() == [0, 1, 4, 9, 16, 25] and df["x"].tolist() == list(range(6))
    run_sweep(fn, configs, cache_dir=tmp_path, namespace="t", progress=False)
    assert len(calls) == 6  # everything cached now
    run_sweep(fn, grid(x=[7]), cache_dir=tmp_path, namespace="t", progress=False)
    assert calls[-1] == 7  # a changed config misses


def test_batches_and_named_tables(tmp_path):
    seen = []

    def fn(batch):
        seen.append([c["seed"] for c in batch])
        return [{"runs": pd.DataFrame({"v": [c["seed"]]}), "curves": pd.DataFrame({"step": [0, 1]})} for c in batch]

    out = run_sweep(fn, grid(tau=[1, 10], seed=range(3)), cache_dir=tmp_path, namespace="b",
                    batch_key=lambda c: c["tau"], max_batch=2, progress=False)
    assert seen == [[0, 1], [2], [0, 1], [2]]
    assert set(out) == {"runs", "curves"} and len(out["curves"]) == 12 and "tau" in out["curves"]
    again = run_sweep(fn, grid(tau=[1, 10], seed=range(3)), cache_dir=tmp_path, namespace="b", progress=False)
    assert len(seen) == 4 and again["runs"].equals(out["runs"])


def test_config_key_depends_on_the_source_fingerprint():
    assert config_key({"a": 1}, "x", "f1") != config_key({"a": 1}, "x", "f2")


def test_a_source_change_misses_the_cache(tmp_path, monkeypatch):
    """Editing a module the run depends on gives new cache keys: old results are never served."""
    import shutil

    from softleak import provenance, sweeps

    pkg = tmp_path / "pkg"
    shutil.copytree(provenance.PACKAGE_DIR, pkg, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(provenance, "PACKAGE_DIR", pkg)
    monkeypatch.setattr(sweeps, "source_fingerprint", lambda *m: provenance.source_fingerprint(*m, package_dir=pkg))
    calls = []

    def fn(batch):
        calls.extend(c["x"] for c in batch)
        return [pd.DataFrame({"y": [c["x"]]}) for c in batch]

    cache = tmp_path / "cache"
    for _ in range(2):
        out = run_sweep(fn, grid(x=[1, 2]), cache_dir=cache, namespace="n", progress=False,
                        depends_on=("softleak.experiments.toy2d.runs",))
    assert calls == [1, 2] and out.attrs["cache"] == {"configs": 2, "from_cache": 2, "computed": 0, "workers": 1}
    figure = pkg / "experiments" / "toy2d" / "fig1_fig8.py"
    figure.write_text(figure.read_text() + "\n# a claims edit\n")
    run_sweep(fn, grid(x=[1, 2]), cache_dir=cache, namespace="n", progress=False,
              depends_on=("softleak.experiments.toy2d.runs",))
    assert calls == [1, 2]  # the runs do not import the chapter's figures: a claims edit does not retrain
    chapter = pkg / "experiments" / "toy2d" / "runs.py"
    chapter.write_text(chapter.read_text() + "\n# a result-changing edit\n")
    run_sweep(fn, grid(x=[1, 2]), cache_dir=cache, namespace="n", progress=False, depends_on=("softleak.experiments.toy2d.runs",))
    assert calls == [1, 2, 1, 2]
    (pkg / "training.py").write_text((pkg / "training.py").read_text() + "\n# a core edit\n")
    run_sweep(fn, grid(x=[1, 2]), cache_dir=cache, namespace="n", progress=False, depends_on=("softleak.experiments.toy2d.runs",))
    assert calls == [1, 2, 1, 2, 1, 2]
    (pkg / "plotting" / "core.py").write_text((pkg / "plotting" / "core.py").read_text() + "\n# a figure edit\n")
    run_sweep(fn, grid(x=[1, 2]), cache_dir=cache, namespace="n", progress=False, depends_on=("softleak.experiments.toy2d.runs",))
    assert calls == [1, 2, 1, 2, 1, 2]  # pages-only modules do not retrain


def _square_with_threads(batch, fail_at=None):
    """Module level, so spawned workers can import it; records the torch threads it ran on."""
    import torch

    if any(cfg["x"] == fail_at for cfg in batch):
        raise ValueError(f"x={fail_at} fails")
    return [pd.DataFrame({"y": [cfg["x"] ** 2], "threads": [torch.get_num_threads()]}) for cfg in batch]


def test_workers_give_the_in_process_table_and_cache_as_results_arrive(tmp_path):
    from functools import partial

    configs = grid(x=range(6))
    here = run_sweep(_square_with_threads, configs, cache_dir=None, namespace="w", progress=False)
    with pytest.raises(ValueError, match="x=4 fails"):  # a failing batch surfaces; finished ones are kept
        run_sweep(partial(_square_with_threads, fail_at=4), configs, cache_dir=tmp_path, namespace="w",
                  progress=False, workers=2)
    costs = []
    pooled = run_sweep(_square_with_threads, configs, cache_dir=tmp_path, namespace="w", progress=False, workers=2,
                       cost=lambda batch: costs.append(batch[0]["x"]) or batch[0]["x"])  # the largest x starts first
    pd.testing.assert_series_equal(pooled["y"], here["y"])  # the configs' order, whatever finished first
    assert pooled["x"].tolist() == list(range(6))
    stats = pooled.attrs["cache"]
    assert stats["workers"] == 2 and stats["from_cache"] >= 1 and stats["computed"] >= 1
    assert len(costs) == stats["computed"]  # the schedule weighs every pending batch, and only those
    assert set(pooled["threads"]) == {1}  # every row was computed by a worker, on one thread
    with pytest.raises(ValueError, match="workers=0"):
        run_sweep(_square_with_threads, configs, cache_dir=None, namespace="w", workers=0)


def _claims():
    ev = {"a": Evidence.samples([0.6, 0.6, 0.6]), "b": Evidence.exact(0.2, n=3), "c": Evidence.none()}
    specs = [ClaimSpec("a", "A holds", "≈ 50 %", AtLeast("a", 0.5, "paper", "p")),
             ClaimSpec("b", "B | pipe", "yes", AtLeast("b", 0.5, "paper", "p")),
             ClaimSpec("c", "C", "—", AtLeast("c", 0.5, "paper", "p")),
             ClaimSpec("d", "D", "—", AtLeast("a", 0.9, "book", "b"), kind="book"),
             ClaimSpec("e", "E by construction", "—", AtLeast("a", 0.5, "paper", "p"), kind="premise")]
    return [s.check(ev) for s in specs]


def test_claims_round_trip_provenance_and_scoreboard():
    from dataclasses import dataclass

    @dataclass(frozen=True)
    class Cfg:
        seeds: tuple = (0, 1)

    claims = _claims()
    folder = write_results("01_x", "smoke", table=pd.DataFrame({"seed": [0]}), claims=claims,
                           metrics={"m": 0.5, "lst": [1, 2], "nan": float("nan"), "inf": [1.0, float("inf")]},
                           config=Cfg(), seeds=[0, 1], started=0.0)
    assert folder == results_dir("01_x", "smoke")
    payload = json.loads((folder / "claims.json").read_text())
    assert set(payload) == {"notebook", "preset", "provenance", "claims", "metrics"}
    prov = payload["provenance"]
    for key in ("commit", "dirty", "source_fingerprint", "softleak", "torch", "device", "seconds", "config", "seeds", "date"):
        assert key in prov
    assert prov["config"] == {"seeds": [0, 1]} and len(prov["source_fingerprint"]) == 16
    assert payload["metrics"] == {"m": 0.5, "lst": [1, 2], "nan": None, "inf": [1.0, None]}
    assert {"id", "kind", "rule", "statement", "paper", "ours", "holds", "verdict"} <= set(payload["claims"][0])
    assert payload["claims"][0]["rule"] == "a ≥ 0.5 (paper: p)"
    assert len(load_claims("smoke")) == 1 and load_claims("cpu") == []
    md = scoreboard_markdown("smoke")
    assert "1 of 2 tested claims reproduce; 0 inconclusive; 1 not tested at this preset" in md
    assert "The book's own checks: 0 of 1 hold" in md
    assert "of the 2 decided verdicts about 0.1 are expected to be wrong by chance alone" in md
    assert "Premises (true by the setup; not counted)" in md and "E by construction" in md  # shown, not counted
    a = payload["claims"][0]["evidence"][0]
    assert a == {"name": "a", "value": 0.6, "low": 0.6, "high": 0.6, "n": 3, "of": "runs", "method": "t",
                 "resolution": 0.0, "looks": 1, "censored": 0, "unit": "num", "rounds": 1}
    assert "≈ 50 %" in md and "B \\| pipe" in md and "stale" not in md.lower()
    assert list(claims_frame(claims)["verdict"])[:3] == [
        "✓ reproduces", "✗ does not reproduce", "– not tested at this preset (c: not measured at this preset)"]
    stale = scoreboard_markdown("smoke", titles={"01_x": "Chapter X"},
                                expected={"01_x": {"commit": "f" * 40, "source_fingerprint": "0" * 16}})
    assert "## Chapter X" in stale and "Stale" in stale and "0 of 0 tested claims" in stale
    from softleak.claims import provenance_line
    pooled = provenance_line({**prov, "cache": {"configs": 4, "from_cache": 0, "computed": 4, "workers": 2}})
    assert "(2 worker processes, 1 thread each)" in pooled  # the threads the results were computed on
    assert f"({prov['torch_threads']} threads)" in provenance_line({**prov, "cache": None})


def test_write_results_rejects_repeated_claim_ids():
    claims = _claims()
    with pytest.raises(ValueError, match="repeated"):
        write_results("01_x", "smoke", table=pd.DataFrame(), claims=claims + claims[:1], metrics={},
                      config={}, seeds=[0], started=0.0)


def test_a_chapter_fingerprint_follows_its_imports(tmp_path):
    """The cache key and the staleness fingerprint are computed from what a chapter imports, transitively: chapter
    7 reads chapter 2's code and chapter 8 the audit's, so editing modular.py or audit/stats.py changes theirs;
    another chapter's, a figure's or a rule's edit does not change a chapter's cache key."""
    import shutil

    from softleak import provenance

    pkg = tmp_path / "pkg"
    shutil.copytree(provenance.PACKAGE_DIR, pkg, ignore=shutil.ignore_patterns("__pycache__"))

    def keys():
        return {m: provenance.source_fingerprint(f"softleak.experiments.{m}.runs", package_dir=pkg)
                for m in ("workshop", "release", "toy2d", "logistic")}

    def edit(rel):
        f = pkg / rel
        f.write_text(f.read_text() + "\n# an edit\n")

    closure = {str(p.relative_to(pkg)) for p in provenance.import_closure("softleak.experiments.workshop.runs",
                                                                         package_dir=pkg)}
    assert {"experiments/modular/runs.py", "experiments/toy2d/config.py", "training.py"} <= closure
    assert "rules.py" not in closure and "experiments/modular/fig10.py" not in closure  # runs never read figures
    before = keys()
    edit("experiments/modular/teachers.py")
    after = keys()
    assert after["workshop"] != before["workshop"] and after["toy2d"] == before["toy2d"] == keys()["toy2d"]
    edit("audit/stats.py")
    again = keys()
    assert again["release"] != after["release"] and again["logistic"] == after["logistic"]
    for rel in ("rules.py", "plotting/core.py", "claims.py"):
        edit(rel)
    assert keys() == again


def test_compare_claims_reports_every_difference_in_results_and_ignores_provenance(tmp_path, capsys):
    """The behaviour-preservation check of a refactor: two claims.json files say the same (exit 0) unless a
    verdict, a note, an evidence value or a metric differs; provenance never counts; NaN equals NaN."""
    import copy
    import json

    from softleak import book
    from softleak.claims import compare_claims

    a = {"provenance": {"commit": "x"}, "metrics": {"m": 0.5, "n": float("nan"), "l": [1, 2]},
         "claims": [{"id": "c1", "verdict": "reproduces", "note": "", "evidence": [{"name": "q", "value": 0.1}]}]}
    b = copy.deepcopy(a)
    b["provenance"] = {"commit": "y"}
    b["metrics"]["n"] = None  # JSON's NaN
    assert compare_claims(a, b) == []
    c = copy.deepcopy(a)
    c["claims"][0]["verdict"] = "fails"
    c["claims"][0]["evidence"][0]["value"] = 0.1000001
    c["metrics"]["m"] = 0.25
    c["metrics"]["new"] = 1
    diffs = compare_claims(a, c)
    assert len(diffs) == 4 and any("verdict" in d for d in diffs) and any("evidence" in d for d in diffs)
    for name, payload in (("a", a), ("b", b), ("c", c)):
        (tmp_path / name / "ch" / "cpu").mkdir(parents=True)
        (tmp_path / name / "ch" / "cpu" / "claims.json").write_text(json.dumps(payload))
    assert book.main(["compare", str(tmp_path / "a"), str(tmp_path / "b")]) == 0
    assert book.main(["compare", str(tmp_path / "a" / "ch" / "cpu" / "claims.json"),
                      str(tmp_path / "c" / "ch" / "cpu" / "claims.json")]) == 1
    assert "4 difference(s)" in capsys.readouterr().out


def test_a_sweep_records_its_wall_and_its_batches_seconds():
    """Each sweep that computes leaves its timing (for a build's provenance): batches, workers, wall seconds and the
    batches' own seconds, whose share of wall × workers is at most 1."""
    import time as _time

    from softleak import sweeps

    start = _time.time()

    def slow(batch):
        _time.sleep(0.05)
        return [pd.DataFrame({"x": [c["a"]]}) for c in batch]

    sweeps.run_sweep(slow, [{"a": 1}, {"a": 2}, {"a": 3}], cache_dir=None, namespace="timed", progress=False)
    (t,) = [t for t in sweeps.timings_since(start) if t["namespace"] == "timed"]
    assert t["batches"] == 3 and t["workers"] == 1
    assert 0.15 <= t["busy_seconds"] <= t["seconds"] + 1e-6
    assert 0.5 < t["busy_share"] <= 1.0
    assert not [t for t in sweeps.timings_since(_time.time() + 60)]
