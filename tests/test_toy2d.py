import dataclasses

import pytest

from softleak import presets
from softleak.experiments import toy2d

REQUIRED_METRICS = [f"c{c}.{who}.{m}" for c in (3, 20) for who, m in
                    (("teacher", "acc_star_T"), ("hard", "acc_test_S"), ("soft", "acc_test_S"))]


@pytest.fixture(scope="module")
def tiny():
    cfg = presets.resolve("01_toy_2d", "smoke", seeds=[100, 101], num_student_inits=2)
    cfg = dataclasses.replace(cfg, grid_size=12)
    return cfg, toy2d.run(cfg, cache_dir=None, progress=False, device="cpu")


def test_tables_have_the_contract_columns(tiny):
    cfg, tables = tiny
    runs = tables["runs"]
    assert len(runs) == 2 * 3 * 2 * 2  # cases x datasets x kinds x inits
    for col in ("c", "n", "p", "tau", "rho", "data_seed", "seed_data", "seed_teacher", "seed_split",
                "seed_student", "student", "acc_star_T", "acc_train_S", "acc_test_S", "acc_match_T_grid"):
        assert col in runs, col
    assert runs[["acc_train_S", "acc_test_S"]].stack().between(0, 1).all()
    hard_soft = runs.pivot_table(index=["c", "data_seed", "init"], columns="student", values="seed_student")
    assert (hard_soft["hard"] == hard_soft["soft"]).all()  # paired students share their initialisation
    grid = tables["grid"]
    assert set(grid["model"]) == {"teacher", "hard", "soft"} and len(grid) == 2 * 5 * 12 * 12


def test_summary_has_the_required_metrics_and_claims(tiny):
    _, tables = tiny
    claims, metrics = toy2d.summarize(tables["runs"])
    for key in REQUIRED_METRICS:
        assert key in metrics and f"{key}.sem" in metrics
    ids = [c.id for c in claims]
    assert ids[0] == "teacher_memorizes" and "c20.soft_above_chance" in ids
    assert claims[-1].holds is None  # fewer than 20 datasets: the across-datasets claim is not tested


def test_run_is_repeatable_from_its_seeds(tiny):
    cfg, tables = tiny
    again = toy2d.run(cfg, cache_dir=None, progress=False, device="cpu")
    assert again["runs"]["acc_test_S"].tolist() == tables["runs"]["acc_test_S"].tolist()


def test_config_validation():
    with pytest.raises(ValueError, match="showcase_seed=100 must not be one of seeds"):
        presets.resolve("01_toy_2d", "smoke", seeds=[100], showcase_seed=100)
    with pytest.raises(ValueError, match="seeds=.*must not repeat"):
        presets.resolve("01_toy_2d", "smoke", seeds=[1, 1])
    with pytest.raises(ValueError, match="tau=0"):
        presets.resolve("01_toy_2d", "smoke", tau=0)
