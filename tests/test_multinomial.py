import math

import numpy as np
import pytest

from softleak import presets, theory
from softleak.experiments import multinomial


def test_threshold_rules_by_hand():
    assert theory.last_of_first_run([0.3, 0.5, 0.7, 0.9], [1, 1, 0.98, 1]) == 0.5
    assert theory.last_of_first_run([0.3, 0.5, 0.7], [0.9, 1, 1]) == 0.7
    assert math.isnan(theory.last_of_first_run([0.3, 0.5], [0.9, 0.95]))
    assert theory.alpha_id_multiclass(0.8, 2) == pytest.approx(0.625)
    assert theory.alpha_id_multiclass(0.8, 10) == pytest.approx(0.125)


@pytest.fixture(scope="module")
def smoke():
    cfg = presets.resolve("04_multinomial_scaling", "smoke")
    return cfg, multinomial.run(cfg, cache_dir=None, progress=False, device="cpu")


def test_runs_cover_every_experiment_and_variant(smoke):
    cfg, runs = smoke
    assert set(runs["experiment"]) == {"tau_c2", "tau_c10", "rho_alpha", "scaling"}
    c2 = runs[runs["experiment"] == "tau_c2"]
    assert len(c2) == len(cfg.c2_alphas) * len(cfg.seeds) * len(cfg.c2_taus) * 2
    assert set(runs[runs["experiment"] == "scaling"]["c"]) == set(cfg.scaling_cs)
    for col in ("alpha", "rho", "tau", "seed", "shuffled", "acc_star_T", "acc_train_S", "acc_test_S", "seed_student"):
        assert col in runs
    # paired design: standard and shuffled students of one (cell, ρ, τ) share their initialisation
    pairs = c2.pivot_table(index=["seed_cell", "rho", "tau"], columns="shuffled", values="seed_student")
    assert (pairs[False] == pairs[True]).all()
    assert np.isclose(c2["alpha"], c2["n"] / (c2["d"] * c2["c"])).all()


def test_summary_on_a_real_run(smoke):
    cfg, runs = smoke
    claims, metrics, derived = multinomial.summarize(runs, cfg)
    ids = [c.id for c in claims]
    assert len(ids) == len(set(ids)) and {"c2.window", "c2.shuffle_direction", "scaling.test_c", "c10.order"} <= set(ids)
    assert all(c.kind in ("paper", "book") and c.rule for c in claims)
    for key in ("c2.theory.alpha_id_S", "theory.inverse_scaling_rho", "c2.window_max", "scaling.acc_test_S.means.x"):
        assert key in metrics, key
    assert set(derived["th2"].columns) >= {"tau", "alpha_label_T", "alpha_id_S", "alpha_label_S", "alpha_label_S_shuffle"}
    assert isinstance(multinomial.reading(claims, metrics), str)


def test_split_seed_follows_rho_value(smoke):
    """The split of a cell at ρ is split_seed(cell, ρ): the same whatever else is in the ρ grid."""
    from softleak.runtime import split_seed

    _, runs = smoke
    rows = runs[runs["experiment"] == "rho_alpha"]
    assert all(r.seed_split == split_seed(r.seed_cell, r.rho) for r in rows.itertuples())
    assert (rows["n_test_S"] > 0).all()


def test_collapse_quality_prefers_the_right_axis():
    import pandas as pd

    cs = [2, 5, 10, 20]
    trans = pd.DataFrame([{"c": c, "metric": "m", **{f"x_{a}": 0.9 / np.log(c) * float(f(c))
                                                    for a, f in multinomial.AXES.items()}} for c in cs])
    q = multinomial.collapse_quality(trans).set_index("axis")
    assert q["cv"].idxmin() == "ln" and q.loc["ln", "mean"] == pytest.approx(0.9)


def test_bad_grid_fails_before_compute():
    with pytest.raises(ValueError, match="alpha=0.005 is not allowed with d=20"):
        presets.resolve("04_multinomial_scaling", "smoke", c2_alphas=[0.005, 0.5])
    with pytest.raises(ValueError, match="scaling_cs"):
        presets.resolve("04_multinomial_scaling", "smoke", scaling_cs=[1, 2])
