import json

import pandas as pd
import pytest

from softleak.claims import Claim, claims_frame, load_claims, results_dir, scoreboard_markdown, write_results
from softleak.sweeps import config_key, grid, run_sweep


def test_grid_expands_named_axes_in_order():
    g = grid(rho=[0.2, 0.8], seed=range(3))
    assert len(g) == 6 and g[0] == {"rho": 0.2, "seed": 0} and g[-1] == {"rho": 0.8, "seed": 2}
    with pytest.raises(ValueError, match="tau=\\[\\] is not allowed"):
        grid(rho=[0.5], tau=[])


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


def test_claims_round_trip_and_scoreboard():
    claims = [Claim("a", "A holds", "≈ 50 %", "48 %", True), Claim("b", "B | pipe", "yes", "no", False),
              Claim("c", "C", "—", "n/a", None)]
    folder = write_results("01_x", "smoke", table=pd.DataFrame({"seed": [0]}),
                           claims=claims, metrics={"m": 0.5, "lst": [1, 2], "nan": float("nan"), "inf": [1.0, float("inf")]})
    assert folder == results_dir("01_x", "smoke")
    payload = json.loads((folder / "claims.json").read_text())
    assert set(payload) == {"notebook", "preset", "claims", "metrics"}
    assert payload["metrics"] == {"m": 0.5, "lst": [1, 2], "nan": None, "inf": [1.0, None]}
    assert set(payload["claims"][0]) == {"id", "statement", "paper", "ours", "holds"}
    assert len(load_claims("smoke")) == 1 and load_claims("cpu") == []
    md = scoreboard_markdown("smoke")
    assert "1 of 3 claims reproduce" in md and "≈ 50 %" in md and "48 %" in md and "B \\| pipe" in md
    assert list(claims_frame(claims)["verdict"]) == ["✓ reproduces", "✗ does not reproduce", "– not tested at this preset"]
    assert "## Chapter X" in scoreboard_markdown("smoke", titles={"01_x": "Chapter X"})
