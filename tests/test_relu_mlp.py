import math

import numpy as np
import pandas as pd
import pytest
import torch

from softleak import presets, theory
from softleak.experiments import relu_mlp


def test_region_rules_of_fig7a():
    cut = relu_mlp.orange_cut(100)  # the authors' 0.1 at c = 100
    assert cut == pytest.approx(0.1) and relu_mlp.orange_cut(20) == pytest.approx(0.5)
    assert relu_mlp.region(1.0, 1.0, 0.995, 1.0, orange_threshold=cut) == "green"
    assert relu_mlp.region(1.0, 0.995, 0.3, 0.3, orange_threshold=cut) == "blue"
    assert relu_mlp.region(1.0, 0.9, 0.3, 0.3, orange_threshold=cut) == "lightblue"
    assert relu_mlp.region(0.7, 0.6, 0.5, 0.6, orange_threshold=cut) == "orange"
    assert relu_mlp.region(0.7, 0.6, 0.08, 0.1, orange_threshold=cut) == "red"
    # at c = 20 chance is 0.05: 0.3 is six times chance, below the ten times that orange asks for
    assert relu_mlp.region(0.7, 0.6, 0.3, 0.6, orange_threshold=relu_mlp.orange_cut(20)) == "red"
    # the strict rule asks for agreement with the teacher, not only acc_test_S above the cut
    assert relu_mlp.region(0.7, 0.6, 0.5, 0.6, orange_threshold=cut, strict=True) == "red"
    assert relu_mlp.region(0.7, 0.6, 0.5, 0.995, orange_threshold=cut, strict=True) == "orange"


def test_split_seed_comes_from_rho_value():
    from softleak.data import gaussian_random_labels, split_student
    from softleak.runtime import split_seed

    X, y = gaussian_random_labels(200, 5, 4, 3)
    q = torch.full((4, 200), 0.25)
    spec = {"rho": 0.65, "variant": "standard", "k": 0}
    _, _, _, te, seed, _ = relu_mlp.student_targets(spec, 11, X, y, q, 0)
    assert seed == split_seed(11, 0.65)
    assert torch.equal(te, split_student(y, 0.65, split_seed(11, 0.65), stratify=True)[1])


def test_counting_bound_by_hand():
    # (d, p, c) = (100, 50, 20): 50·101 + 20·51 − 50 − 1 = 6019 free parameters
    assert theory.mlp_free_parameters(100, 50, 20) == 6019
    assert theory.alpha_count_mlp(0.5, 100, 50, 20) == pytest.approx(6019 / (0.5 * 100 * 20 * 19))
    with pytest.raises(ValueError, match="rho"):
        theory.alpha_count_mlp(1.0, 100, 50, 20)


def test_chunks_minimise_padding_plus_overhead():
    # tiny students: the per-step overhead dominates, one ensemble
    assert sorted(map(sorted, relu_mlp.chunks([10, 20, 30], 1.0, 64))) == [[0, 1, 2]]
    # large students of very different sizes: separate ensembles, never more than max_members
    groups = relu_mlp.chunks([10_000, 100, 9_900], 1e5, 64)
    assert sorted(map(sorted, groups)) == [[0, 2], [1]]
    assert all(len(g) <= 2 for g in relu_mlp.chunks(list(range(1, 8)), 1.0, 2))
    assert sorted(i for g in relu_mlp.chunks([5, 3, 8, 1], 1e6, 3) for i in g) == [0, 1, 2, 3]


def _curve(test, train=None, step=50):
    test = np.asarray(test, dtype=float)
    train = np.asarray(train if train is not None else test, dtype=float)
    kl = np.where(test >= 0.9, 1e-4, 1e-1)
    return pd.DataFrame({"step": np.arange(len(test)) * step, "acc_test_S": test, "acc_train_S": train,
                         "acc_val_S": 0.05, "kl_train_S": kl, "kl_test_S": kl})


def test_jump_stats_finds_a_sudden_jump_after_a_plateau():
    test = [0.05] + [0.15] * 30 + [0.5, 1.0, 1.0, 1.0]
    s = relu_mlp.jump_stats(_curve(test), 0.9)
    assert s["epoch"] == 32 * 50
    assert s["plateau"] == pytest.approx(0.15)
    assert s["start"] == 30 * 50 and s["rise"] == 100 and s["sudden"]
    assert s["plateau_length"] == 29 * 50  # from the first plateau-level record (step 50) to the start
    assert s["kl_test_S_drop"] > 3 * max(s["kl_test_S_drop_before"], 1e-9)


def test_jump_stats_slow_rise_is_not_sudden_and_no_jump_is_nan():
    slow = np.linspace(0.05, 1.0, 40)
    s = relu_mlp.jump_stats(_curve(slow), 0.9)
    assert np.isfinite(s["epoch"]) and not s["sudden"]
    none = relu_mlp.jump_stats(_curve([0.05, 0.2, 0.2, 0.2]), 0.9)
    assert math.isnan(none["epoch"]) and not none["sudden"]


def test_the_jump_ladder_reads_each_rung_as_a_prefix_of_one_long_run():
    """A run that jumps at epoch 1600 of a 4× budget: no jump when cut at ×1 (1000), one at ×2 and ×4. Each rung's
    share carries scipy's exact Clopper–Pearson interval and the claim's own rule; the page's ladders read it with the
    one trend rule, on the claim's edge."""
    from scipy import stats

    from softleak import ladders

    cfg = relu_mlp.apply_overrides(presets.resolve("05_relu_mlp_jumps", "smoke"), student_steps=1000,
                                   curve_alphas=(0.5, 1.0, 2.0), jump_ladder=(1, 2, 4))
    jumps = _curve([0.05] + [0.15] * 30 + [0.5] + [1.0] * 48)  # 80 records, 50 epochs apart: up to 3950
    never = _curve([0.05] + [0.15] * 79)
    curves = pd.concat([jumps.assign(seed=0), never.assign(seed=1)])
    table = relu_mlp.jump_ladder_table(curves, cfg)
    assert table["epochs"].tolist() == [1000, 2000, 4000]
    assert table["share"].tolist() == [0.0, 0.5, 0.5] and (table["num_runs"] == 2).all()
    assert table["jumped"].tolist() == [0, 1, 1] and table["jumped_seeds"].tolist() == [[], [0], [0]]
    ci = stats.binomtest(1, 2).proportion_ci(confidence_level=0.95, method="exact")
    assert table["low"].iloc[1] == pytest.approx(ci.low) and table["high"].iloc[1] == pytest.approx(ci.high)
    # the claim's rule on each rung's runs: two runs decide nothing
    assert table["verdict"].tolist() == ["inconclusive"] * 3
    # six runs decide it: the rule reproduces once all six have jumped, and fails at every rung when none does
    six = relu_mlp.jump_ladder_table(pd.concat([jumps.assign(seed=s) for s in range(6)]), cfg)
    assert six["verdict"].tolist() == ["fails", "reproduces", "reproduces"]
    flat = relu_mlp.jump_ladder_table(pd.concat([never.assign(seed=s) for s in range(6)]), cfg)
    assert flat["verdict"].tolist() == ["fails"] * 3 and (flat["share"] == 0).all()
    assert ladders.trend(relu_mlp.jump_ladder_entry(flat, cfg)[0]["rungs"], relu_mlp.EVERY_RUN_LEVEL, "above") == "stays"
    [entry] = relu_mlp.jump_ladder_entry(table, cfg)
    assert entry["paper"] == relu_mlp.EVERY_RUN_LEVEL and entry["side"] == "above" and entry["unit"] == "pct"
    built = ladders.load("05_relu_mlp_jumps", in_chapter=[entry])
    own = next(e for e in built.entries if e["claim"] == "fig7c.jump")
    assert own["trend"] == "closes"  # 0 of 2 → 1 of 2: the shortfall to the 50 % edge moves past both intervals
    m = built.metrics()
    assert m["ladder.fig7c.jump.x"] == [1000, 2000, 4000] and m["ladder.fig7c.jump.paper"] == relu_mlp.EVERY_RUN_LEVEL
    assert m["ladder.fig7c.jump.low"][1] == pytest.approx(ci.low) and m["ladder.fig7c.jump.stale"] is False
    assert "trained by this page's own run" in built.provenance_text()
    assert built.note("fig7c.jump").startswith("ladder over student epochs, ×1: 1000 epochs → ×4: 4000 epochs (2/2/2 runs)")
    assert relu_mlp.jump_ladder_entry(relu_mlp.jump_ladder_table(None, cfg), cfg) == []
    # ×1 against the claim's own runs (the same seeds trained in padded ensembles): the reading says whether the
    # rounding changed which runs jump
    claim_runs = pd.DataFrame({"alpha": 2.0, "variant": "standard", "seed": [0, 1],
                               **{k: [v, np.nan] for k, v in relu_mlp.jump_stats(jumps, 0.9).items()
                                  if k in ("epoch", "sudden")}, "final_train": [1.0, 0.2], "final_test": [1.0, 0.15]})
    claim_runs["sudden"] = claim_runs["sudden"].fillna(False).astype(bool)
    assert "the claim's own runs, 1 of 2 (seed 0)" in relu_mlp.ladder_reading(table, claim_runs, cfg)
    assert "knife edge" in relu_mlp.ladder_reading(table, claim_runs, cfg)
    same = claim_runs.assign(epoch=np.nan, sudden=False)
    assert "does not change which runs jump" in relu_mlp.ladder_reading(table, same, cfg)


def test_the_ladder_trains_the_jump_panel_for_its_longest_rung():
    cfg = relu_mlp.apply_overrides(presets.resolve("05_relu_mlp_jumps", "smoke"), curve_alphas=(0.5, 1.0, 2.0),
                                   jump_ladder=(1, 2), student_steps=100)
    cells = relu_mlp.ladder_cells(cfg)
    assert len(cells) == len(cfg.seeds) and {c["alpha"] for c in cells} == {2.0}  # the third curve α
    out = relu_mlp.run_ladder(cfg, progress=False, device="cpu", workers=1)
    assert out["curves"]["step"].max() == 200 and set(out["curves"]["seed"]) == set(cfg.seeds)
    assert relu_mlp.run_ladder(presets.resolve("05_relu_mlp_jumps", "smoke"), progress=False)["curves"].empty
    with pytest.raises(ValueError, match="jump_ladder"):
        relu_mlp.apply_overrides(presets.resolve("05_relu_mlp_jumps", "smoke"), jump_ladder=(1, 2))  # two curve α only
    costs = relu_mlp.ladder_costs(relu_mlp.PRESETS["cpu"])
    assert (costs["TFLOP"] > 0).all() and len(costs) == 5


def test_bad_configs_fail_before_compute():
    with pytest.raises(ValueError, match="curve_rho=1.2"):
        presets.resolve("05_relu_mlp_jumps", "smoke", curve_rho=1.2)
    with pytest.raises(ValueError, match=r"tail_ks\[…\]=5"):
        presets.resolve("05_relu_mlp_jumps", "smoke", tail_ks=[5])
    with pytest.raises(ValueError, match="tau=0"):
        presets.resolve("05_relu_mlp_jumps", "smoke", tau=0)
    with pytest.raises(ValueError, match="alpha=0.05 with rho=0.3"):
        presets.resolve("05_relu_mlp_jumps", "smoke", alphas=[0.05])


@pytest.fixture(scope="module")
def smoke():
    cfg = presets.resolve("05_relu_mlp_jumps", "smoke")
    return cfg, relu_mlp.run(cfg, cache_dir=None, progress=False, device="cpu")


def test_every_experiment_and_student_is_run_once(smoke):
    cfg, out = smoke
    runs, curves = out["runs"], out["curves"]
    assert set(runs["experiment"]) == {"grid", "fig6", "curves", "tailcut", "width", "capacity"}
    grid = runs[runs["experiment"] == "grid"]
    assert len(grid) == len(cfg.alphas) * len(cfg.rhos) * len(cfg.seeds)
    tail = runs[runs["experiment"] == "tailcut"]
    assert set(tail["variant"]) == {"standard", "tail_smallest", "tail_random", "remove_samples", "remove_entry"}
    # a student asked for by two experiments trains once: one curve per (cell, student)
    keys = ["alpha", "seed", "p_T", "teacher_steps", "student"]
    assert curves.groupby([*keys, "step"]).size().max() == 1
    assert curves["step"].max() == cfg.student_steps
    # the excess loss over the targets' floor is a divergence: never negative
    assert (curves[["kl_train_S", "kl_test_S"]].to_numpy() > -1e-5).all()
    removed = tail[tail["variant"] == "remove_samples"]
    assert (removed["m_train"] < tail[tail["variant"] == "standard"]["m_train"].max()).all()


def test_runs_repeat_from_their_seeds(smoke):
    cfg, out = smoke
    fewer = presets.resolve("05_relu_mlp_jumps", "smoke", capacity_ps=[], width_ps=[], tail_alphas=[])
    again = relu_mlp.run(fewer, cache_dir=None, progress=False, device="cpu")["runs"]
    cols = ["alpha", "seed", "rho", "variant", "experiment"]
    a = out["runs"][out["runs"]["experiment"] == "grid"].set_index(cols).sort_index()
    b = again[again["experiment"] == "grid"].set_index(cols).sort_index()
    np.testing.assert_allclose(a["acc_test_S"], b["acc_test_S"])
    np.testing.assert_allclose(a["loss_train_S"], b["loss_train_S"], rtol=1e-5)


def test_summary_has_the_issue_metrics(smoke):
    cfg, out = smoke
    claims, metrics, derived = relu_mlp.summarize(out, cfg)
    for key in ("fig6.small.acc_test_S", "fig6.large.acc_test_S", "fig6.rho", "jump.alpha", "jump.epoch",
                "jump.acc_test_S.before", "jump.acc_test_S.after", "jump.runs", "jump.runs_jumped"):
        assert key in metrics
    assert len(metrics["fig6.small.acc_test_S"]) == len(metrics["fig6.rho"]) == len(cfg.rhos)
    ids = [c.id for c in claims]
    assert len(ids) == len(set(ids)) and "fig7c.jump" in ids and "fig18a.tail" in ids
    assert {c.kind for c in claims} == {"paper", "book"}
    assert all(c.verdict in ("reproduces", "fails", "inconclusive", "untested") and c.rule for c in claims)
    assert {"green", "blue", "lightblue", "orange", "red"} >= set(derived["regions"]["region"])
    for name in ("fig6", "grid", "tail", "capacity", "width"):  # the figures draw means ± SEM
        assert {"acc_test_S", "acc_test_S_sem", "num_seeds"} <= set(derived[name].columns), name
