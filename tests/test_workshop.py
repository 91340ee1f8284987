"""Chapter 7 (the workshop paper): the new maths (uniform balanced data, similarity loss, nearest
neighbour labels, the CIFAR-10 reader), bad input, a smoke run, and counter-data tests: a synthetic
world WITH the workshop's phenomena makes its claims reproduce; one WITHOUT them makes them fail."""

import dataclasses

import numpy as np
import pandas as pd
import pytest
import torch

from conftest import write_fake_cifar
from softleak import presets
from softleak.claims import deviations_table
from softleak.data import uniform_random_labels
from softleak.distillation import cosine_similarities, similarity_loss
from softleak.experiments import workshop
from softleak.metrics import nearest_neighbour_labels
from softleak.models import MLPEnsemble
from softleak.training import fit

CFG = workshop.PRESETS["cpu"]


def test_uniform_random_labels_are_balanced_uniform_and_seeded():
    X, y = uniform_random_labels(7, 30, 5, seed=3)
    assert X.shape == (35, 30) and y.shape == (35,)
    assert float(X.min()) >= -1 and float(X.max()) <= 1 and abs(float(X.mean())) < 0.05
    assert torch.bincount(y).tolist() == [7] * 5
    X2, y2 = uniform_random_labels(7, 30, 5, seed=3)
    assert torch.equal(X, X2) and torch.equal(y, y2)
    assert not torch.equal(uniform_random_labels(7, 30, 5, seed=4)[1], y)
    with pytest.raises(ValueError, match="samples_per_class"):
        uniform_random_labels(0, 30, 5, seed=0)


def test_similarity_loss_is_scale_free_and_its_gradient_matches_the_formula(f64):
    g = torch.Generator().manual_seed(0)
    z_t = torch.randn(6, 9, generator=g, dtype=f64)
    target = cosine_similarities(z_t)
    assert torch.allclose(torch.diagonal(target), torch.ones(9, dtype=f64))
    z = (3.0 * z_t)[None].clone().requires_grad_(True)  # a rescaled teacher has the teacher's similarities
    assert float(similarity_loss(z, target[None]).detach()[0]) < 1e-24
    w = torch.randn(1, 6, 9, generator=g, dtype=f64, requires_grad=True)
    loss = similarity_loss(w, target[None])
    u = w[0] / w[0].norm(dim=0, keepdim=True)
    manual = ((u.T @ u - target) ** 2).sum() / 81
    assert torch.allclose(loss[0], manual)
    (grad,) = torch.autograd.grad(loss.sum(), w)
    (grad_manual,) = torch.autograd.grad(manual, w)
    assert torch.allclose(grad, grad_manual)
    with pytest.raises(ValueError, match="mask"):
        similarity_loss(w, target[None], torch.ones(1, 9, dtype=torch.bool))


def test_nearest_neighbour_labels_take_the_closest_direction():
    train = torch.tensor([[[1.0, 0.0, -1.0], [0.0, 1.0, 0.0]]])  # (E=1, c=2, n=3): right, up, left
    query = torch.tensor([[[5.0, 0.1, -2.0], [0.2, 3.0, 0.1]]])  # right, up, left (lengths do not matter)
    assert nearest_neighbour_labels(train, torch.tensor([7, 8, 9]), query).tolist() == [[7, 8, 9]]


def test_fit_takes_a_custom_loss_and_learns_the_teachers_similarities():
    X, y = uniform_random_labels(5, 10, 4, seed=1)
    teacher = MLPEnsemble((10, 20, 20, 4), [0])
    with torch.no_grad():
        target = cosine_similarities(teacher(X)[0])
    student = MLPEnsemble((10, 20, 20, 4), [1, 2])
    result = fit(student, X, target.expand(2, -1, -1), steps=300, lr=3e-3, loss=similarity_loss, record_every=100)
    first, last = (result.history[result.history["step"] == s]["loss_train"].to_numpy() for s in (0, 300))
    assert (last < 0.3 * first).all()


def test_cifar_reader_and_its_errors_name_data_dir(tmp_path, fake_cifar):
    X, y = workshop.structured_data("cifar10", str(fake_cifar))
    assert X.shape == (50, 3072) and y.shape == (50,) and float(X.min()) >= -1 and float(X.max()) <= 1
    for bad in ("missing", "shape"):
        folder = tmp_path / bad
        folder.mkdir()
        write_fake_cifar(folder, bad=bad)
        with pytest.raises(ValueError, match="data_dir="):
            workshop.check_cifar_dir(str(folder))
    cfg = presets.resolve("07_workshop", "smoke", structured="cifar10")
    with pytest.raises(ValueError, match="data_dir=None"):
        workshop.run(cfg, progress=False)  # before any compute


@pytest.mark.parametrize("override, match", [
    ({"rhos": [0.1]}, "samples_per_class"),  # 10 % of 4 samples per class leaves a class no training sample
    ({"a3_ks": [10]}, "a3_ks"),
    ({"structured": "mnist"}, "structured"),
    ({"tau": 0}, "tau"),
    ({"widths": []}, "widths"),
])
def test_bad_config_fails_before_compute_naming_the_parameter(override, match):
    with pytest.raises(ValueError, match=match):
        presets.resolve("07_workshop", "smoke", **override)


@pytest.fixture(scope="module")
def smoke_run():
    cfg = presets.resolve("07_workshop", "smoke")
    out = workshop.run(cfg, progress=False, workers=1)
    return cfg, out


def test_smoke_run_records_seeds_and_every_claim_has_a_rule(smoke_run):
    cfg, out = smoke_run
    main = out["main"]
    assert set(main["experiment"]) == set(workshop.MAIN_EXPERIMENTS)
    for col in ("seed", "seed_data", "seed_teacher", "seed_student", "seed_split"):
        assert main[col].notna().all(), col
    assert (out["heldout"]["kind"].unique().tolist() == ["logit", "sim"])
    sim = main[main["experiment"] == "sim"]
    assert (sim["acc_train_S"] == 1.0).all()  # each training point is its own nearest neighbour
    claims, metrics, derived = workshop.summarize(out, cfg)
    assert len({c.id for c in claims}) == len(claims) and all(c.rule for c in claims)
    for key in ("fig2.rho", "fig2.acc_test_S", "fig2.acc_trivial", "fig2.class_spread", "a1.best_tau", "sim.acc_test_S",
                "sim.acc_test_S_logit", "sim.toy.c3.acc_test_S", "sim.toy.c20.acc_test_S", "structured.A.acc_test_S",
                "structured.D.acc_trivial"):
        assert key in metrics, key
    assert all(f"fig2.width.{w}.acc_total_S" in metrics for w in cfg.widths)
    table = deviations_table(workshop.DEVIATIONS, cfg, workshop.PRESETS, "smoke")
    assert table["why"].str.len().gt(0).all()


def test_a_rerun_gives_the_same_students(smoke_run):
    cfg, out = smoke_run
    again = workshop.run(dataclasses.replace(cfg), progress=False, workers=1)
    cols = ["experiment", "seed", "rho", "init", "acc_test_S", "acc_train_S", "seed_student"]
    pd.testing.assert_frame_equal(out["main"][cols], again["main"][cols])


# ------------------------------------------------------------------------------------------
# Counter-data: the claims read synthetic tables with and without the workshop's phenomena
# ------------------------------------------------------------------------------------------

def world(leak: bool):
    """Tables in the shapes workshop.run returns, at the cpu preset's grid, no training."""
    rng = np.random.default_rng(0)
    c, triv = CFG.c, 1 / CFG.c
    rows = []
    base = {"teacher_reached_100": True, "teacher_steps": 200, "acc_trivial_T": triv, "student_p": CFG.student_p}
    for s in CFG.seeds:
        base["teacher_digest"] = f"teacher{s}"  # every experiment's retrain of a teacher gave the same logits
        for k in range(CFG.inits):
            noise = rng.normal(0, 0.005)
            for w in CFG.widths:
                for rho in CFG.rhos:
                    test = (0.05 + 0.1 * rho + 0.001 * w + noise) if leak else triv - 0.01
                    rows.append({**base, "experiment": "capacity", "seed": s, "init": k, "rho": rho, "width": w,
                                 "acc_train_S": 1.0 if leak else 0.9, "acc_test_S": test, "acc_fresh_S": triv,
                                 "acc_total_S": rho * (1.0 if leak else 0.9) + (1 - rho) * test})
            for rho in CFG.rhos:
                rows.append({**base, "experiment": "sim", "seed": s, "init": k, "rho": rho, "width": CFG.student_p,
                             "acc_train_S": 1.0, "acc_test_S": 0.04 + 0.05 * rho + noise if leak else triv,
                             "acc_fresh_S": triv})
            none = 0.2 + noise
            treat = [("none", -1, none, 0.2, triv)]  # (name, arg, acc_test_S, acc_test_cls, acc_fresh_cls)
            treat += [("remove_samples", cl, none * (0.95 if leak else 0.5), 0.15 if leak else 0.0, triv)
                      for cl in CFG.a3_classes]
            treat += [("zero_entry", cl, none * (0.95 if leak else 0.5), 0.0 if leak else 0.2, triv)
                      for cl in CFG.a3_classes]
            treat += [("tail_smallest", kk, (0.03 if leak else 0.19) + noise, 0.0, triv) for kk in CFG.a3_ks]
            for name, arg, test, cls, fresh in treat:
                rows.append({**base, "experiment": "a3", "seed": s, "init": k, "rho": CFG.a3_rho, "treatment": name,
                             "arg": arg, "acc_test_S": test, "acc_test_cls": cls, "acc_fresh_cls": fresh,
                             "acc_fresh_S": triv, "acc_train_S": 1.0, "width": CFG.student_p})
    for k in range(CFG.a1_inits):
        for lr in CFG.a1_lrs:
            for tau in CFG.a1_taus:
                rows.append({**base, "experiment": "a1", "seed": 0, "init": k, "rho": CFG.a1_rho, "tau": tau, "lr": lr,
                             "acc_test_S": (0.05 + 0.01 * tau if leak else 0.3 - 0.01 * tau) + 0.001 * k})
    main = pd.DataFrame(rows)
    held = []
    for s in CFG.seeds:
        for rho in CFG.rhos:
            samples = np.arange(int((1 - rho) * c * CFG.samples_per_class))
            y = samples % c
            p = np.where(y < c // 2, 0.3, 0.3 if leak else 0.0)  # WITHOUT: half the classes never right
            shared = rng.random(len(samples)) < p
            for k in range(CFG.inits):
                logit = shared if leak else rng.random(len(samples)) < p
                for kind in ("logit", "sim"):  # shared knowledge, or a similarity student right where the logit one errs
                    correct = shared if leak else (logit if kind == "logit" else ~logit & (rng.random(len(samples)) < 0.2))
                    held.append(pd.DataFrame({"kind": kind, "rho": rho, "init": k, "sample": samples, "y": y,
                                              "correct": correct, "seed": s}))
    heldout = pd.concat(held, ignore_index=True)
    a2 = []
    for cc in CFG.a2_cs:
        for spc in CFG.a2_spcs:
            for d in CFG.a2_ds:
                fits = d >= spc / 2 if leak else True
                best = 1.5 * spc  # the best d doubles with the samples per class
                acc = 0.3 * np.exp(-abs(np.log(d / best))) if leak else 0.1 + 0.001 * d
                a2.append({"c": cc, "spc": spc, "d": d, "teacher_reached_100": fits, "teacher_steps": 100,
                           "acc_star_T": 1.0 if fits else 0.9, "acc_trivial_T": 1 / cc,
                           "acc_test_S": acc if fits else np.nan})
    toy = pd.DataFrame([{"c": cc, "toy_seed": s, "kind": kind, "init": 0, "teacher_reached_100": True,
                         "acc_test_S": (0.5 if kind != "hard" else 1 / cc) if leak else 1 / cc + 0.01 * (kind == "hard")}
                        for cc in (3, 20) for s in CFG.toy_seeds for kind in ("soft", "hard", "sim")])
    st = pd.DataFrame([{"variant": v, "seed": s, "init": k, "rho": rho, "teacher_steps": 100, "teacher_reached_100": True,
                        "acc_trivial_T": 0.9 if v in "AC" else 0.1,
                        "acc_test_S": ((0.95 if v in "AC" else 0.3) if leak else (0.85 if v in "AC" else 0.15 - 0.1 * (v == "D")))
                        + 0.01 * k}
                       for v in "ABCD" for s in CFG.structured_seeds for k in range(CFG.structured_inits)
                       for rho in CFG.structured_rhos])
    a4 = pd.DataFrame([{"teacher": k, "tau": tau, "seed": 0, "rho": 0.5, "acc_train_S": 1.0, "acc_val_S": 0.02,
                        "acc_test_S": 0.02 + 0.3 * (k == (2 if leak else 1))}  # which teacher's students leak
                       for k in (1, 2, 3) for tau in (10.0, 1.0)])
    a4_teachers = pd.DataFrame([{"teacher": k, "seed": 0, "epoch": 100 * k, "acc_val_T": 0.3} for k in (1, 2, 3)])
    return {"main": main, "heldout": heldout, "a2": pd.DataFrame(a2), "toy": toy, "structured": st, "a4": a4,
            "a4_teachers": a4_teachers}


def test_with_the_phenomena_every_claim_reproduces():
    claims, metrics, _ = workshop.summarize(world(leak=True), CFG)
    verdicts = {c.id: c.verdict for c in claims}
    assert all(v == "reproduces" for v in verdicts.values()), verdicts
    assert abs(metrics["a2.slope"] - 1.0) < 0.3


def test_without_the_phenomena_the_claims_fail():
    claims, _, _ = workshop.summarize(world(leak=False), CFG)
    verdicts = {c.id: c.verdict for c in claims}
    assert len(verdicts) == 24
    for cid, verdict in verdicts.items():  # every claim but the teacher's (its own test below) reads this world
        assert verdict == ("reproduces" if cid == "teachers_fit" else "fails"), (cid, verdict)


def test_the_a4_table_puts_each_student_beside_its_teacher():
    table = workshop.a4_table(world(leak=True))
    assert list(table.index.names) == ["teacher", "epoch", "acc_val_T"]
    assert table.loc[workshop.A4_NAMES[2], ("acc_test_S", 10.0)].iloc[0] == pytest.approx(0.32)
    assert table.loc[workshop.A4_NAMES[1], ("acc_test_S", 10.0)].iloc[0] == pytest.approx(0.02)


def test_a_teacher_that_does_not_fit_fails_the_teacher_claim():
    tables = world(leak=True)
    tables["main"].loc[tables["main"]["seed"] == CFG.seeds[0], "teacher_reached_100"] = False
    claims, _, _ = workshop.summarize(tables, CFG)
    assert {c.id: c.verdict for c in claims}["teachers_fit"] == "fails"


def test_students_of_retrained_teachers_that_differ_are_not_compared():
    tables = world(leak=True)
    main = tables["main"]
    main.loc[(main["experiment"] == "sim") & (main["seed"] == CFG.seeds[0]), "teacher_digest"] = "another"
    _, metrics, _ = workshop.summarize(tables, CFG)
    assert np.isnan(metrics["overlap.ratio"]) and np.isnan(metrics["sim.below_logit"])


def test_a2_cells_each_draw_their_own_data():
    cfg = {"seed": 0, "c": 5, "d": 8, "p": 8, "student_p": 8, "tau": 5.0, "lr": 1e-3, "a2_student_epochs": 5,
           "a2_rho": 0.5, "a2_inits": 1, "a2_teacher_epochs": 5, "fresh_per_class": 2}
    one = workshop._a2_one({**cfg, "spc": 4}, "cpu")
    two = workshop._a2_one({**cfg, "spc": 8}, "cpu")
    assert one["seed_teacher"].iloc[0] != two["seed_teacher"].iloc[0]
