import dataclasses

import numpy as np
import pytest
import torch
from torch import nn

from softleak import presets
from softleak.claims import deviations_table
from softleak.metrics import seed_means, sem
from softleak.runtime import derive_seed, split_seed
from softleak.experiments import logistic
from softleak.models import BinaryLogitEnsemble
from softleak.training import fit, min_norm_lstsq


@pytest.mark.parametrize("m", [30, 79, 80, 81, 200])
def test_min_norm_lstsq_equals_pinv(m):
    gen = torch.Generator().manual_seed(m)
    X = torch.randn(3, m, 80, generator=gen, dtype=torch.float64)
    z = torch.randn(3, m, generator=gen, dtype=torch.float64)
    ref = (torch.linalg.pinv(X) @ z[..., None])[..., 0]
    torch.testing.assert_close(min_norm_lstsq(X, z), ref, rtol=1e-7, atol=1e-8)
    if m >= 80:  # over-determined with a linear teacher: exact recovery
        w = torch.randn(3, 80, generator=gen, dtype=torch.float64)
        torch.testing.assert_close(min_norm_lstsq(X, torch.einsum("emd,ed->em", X, w)), w)


def test_binary_logit_teacher_is_logistic_regression():
    """Two-class logits (0, z) under the softmax CE train exactly like nn.Linear(d, 1) with BCE."""
    gen = torch.Generator().manual_seed(0)
    X = torch.randn(50, 6, generator=gen, dtype=torch.float64)
    y = torch.randint(0, 2, (50,), generator=gen)
    ens = BinaryLogitEnsemble(6, [4, 9], dtype=torch.float64, device="cpu")
    fit(ens, X, y, steps=60, lr=1e-2)
    for e, seed in enumerate([4, 9]):
        torch.manual_seed(seed)
        lin = nn.Linear(6, 1, bias=False).double()
        opt = torch.optim.Adam(lin.parameters(), lr=1e-2)
        for _ in range(60):
            opt.zero_grad()
            nn.functional.binary_cross_entropy_with_logits(lin(X)[:, 0], y.double()).backward()
            opt.step()
        torch.testing.assert_close(ens.weights[0][e], lin.weight, rtol=1e-10, atol=1e-12)


@pytest.fixture(scope="module")
def tiny():
    cfg = dataclasses.replace(presets.resolve("03_logistic_thresholds", "smoke"), alphas=(0.5, 1.5, 3.0))
    return cfg, logistic.run(cfg, cache_dir=None, progress=False, device="cpu")


def test_table_contract_and_linear_algebra_facts(tiny):
    cfg, runs = tiny
    for col in ("alpha", "rho", "seed", "shuffled", *logistic.METRICS):
        assert col in runs, col
    main = runs[runs["d"] == cfg.d]
    assert len(main) == len(cfg.alphas) * len(cfg.rhos) * len(cfg.seeds) * 2
    std = main[~main["shuffled"]]
    assert std["mse_train"].max() < 1e-6  # the student always interpolates the teacher's logits
    full = std[std["m_train"] >= cfg.d]
    assert len(full) and full["mse_test"].max() < 1e-6 and (full["acc_match_T_test"] == 1).all()
    assert (std["acc_match_T_train"] == 1).all()


def test_summary_metrics_and_claims(tiny):
    cfg, runs = tiny
    claims, metrics, derived = logistic.summarize(runs, cfg)
    for key in ("d", "alpha_label_T", "alpha_label_S.focus", "alpha_id_S.focus", "theory.alpha_id_S.focus", "cover.low",
                "rho_focus", "num_seeds"):
        assert key in metrics, key
    assert metrics["theory.alpha_id_S.focus"] == pytest.approx(1.25) and metrics["num_seeds"] == len(cfg.seeds)
    ids = [c.id for c in claims]
    assert len(ids) == len(set(ids)) and {"fig4a.alpha_label_T", "fig4a.alpha_id_S", "fig4b.five_regions",
                                           "fig12.teacher_recovered", "control.shuffle"} <= set(ids)
    assert all(c.verdict in ("reproduces", "fails", "inconclusive", "untested") and c.rule for c in claims)
    assert set(derived["regions"]["region"]) <= {"grey", "blue", "green", "orange", "red"}
    assert logistic.reading(claims, metrics)


def test_split_follows_the_value_of_rho(tiny):
    """The split at ρ is ``split_seed(cell, ρ)`` (ρ's value, not its place in the grid), and the shuffle
    seed derives from it."""
    _, runs = tiny
    assert (runs["seed_split"] == [split_seed(c, r) for c, r in zip(runs["seed_cell"], runs["rho"])]).all()
    assert (runs["seed_shuffle"] == [derive_seed(s, "shuffle") for s in runs["seed_split"]]).all()
    rho_focus = runs[runs["d"] == runs["d"].min()]  # d_compare runs only ρ = 0.8, at its own place in no grid
    assert (rho_focus["seed_split"] == [split_seed(c, 0.8) for c in rho_focus["seed_cell"]]).all()


def test_cell_means_follow_the_shared_seed_mean_rule(tiny):
    """The vectorized seed means equal :func:`softleak.metrics.seed_means` (NaN runs included) and the SEM
    is :func:`softleak.metrics.sem`."""
    _, runs = tiny
    runs = runs.copy()
    runs.loc[runs.index[0], "acc_test_S"] = float("nan")
    by, cols = ["d", "alpha", "rho", "shuffled"], list(logistic.METRICS)
    ours, ref = logistic.cell_means(runs), seed_means(runs, by, cols)
    np.testing.assert_allclose(ours[cols].to_numpy(), ref[cols].to_numpy(), equal_nan=True)
    assert ours["acc_test_S"].isna().sum() == 1 and (ours["num_seeds"] == ref["num_seeds"]).all()
    np.testing.assert_allclose(ours["mse_test_sem"], runs.groupby(by)["mse_test"].agg(sem).to_numpy(), equal_nan=True)


def test_deviations_table_reads_every_preset():
    table = deviations_table(logistic.DEVIATIONS, logistic.PRESETS["cpu"], logistic.PRESETS, "cpu")
    assert len(table) == len(logistic.DEVIATIONS)
    assert table.loc["input dimension d", "`cpu` preset"] == "200" and table.loc["input dimension d", "`paper` preset"] == "1600"


def test_config_rejects_bad_grids():
    with pytest.raises(ValueError, match="rho_focus=0.8 is not allowed"):
        presets.resolve("03_logistic_thresholds", "smoke", rhos=[0.3, 0.5])
    with pytest.raises(ValueError, match=r"rhos\[…\]=1.0"):
        presets.resolve("03_logistic_thresholds", "smoke", rhos=[0.8, 1.0])
    with pytest.raises(ValueError, match="at least one sample per class"):
        presets.resolve("03_logistic_thresholds", "smoke", alphas=[0.01])
