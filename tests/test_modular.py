"""Chapter 2 (modular addition): stop rules, checkpoints, config checks, an end-to-end smoke run."""

import pandas as pd
import pytest
import torch

from softleak import presets
from softleak.config import replace_checked
from softleak.data import modular_addition
from softleak.distillation import soft_labels
from softleak.experiments import modular
from softleak.experiments.modular import ArchConfig, parse_stop


def test_parse_stop_reads_every_kind_and_names_bad_rules():
    assert parse_stop("epoch>=2500") == ("epoch", ">=", 2500.0)
    assert parse_stop(" val >= 0.95 ") == ("val", ">=", 0.95)
    assert parse_stop("train>=1") == ("train", ">=", 1.0)
    assert parse_stop("fresh<0.02") == ("fresh", "<", 0.02)
    assert parse_stop("val<0.5") == ("val", "<", 0.5)
    for bad in ("loss>=1", "val>=1.5", "epoch>=2.5", "val<=0.5", "epoch<100", "train<1", "fresh<0", ""):
        with pytest.raises(ValueError, match="stop rule"):
            parse_stop(bad)


def test_mirror_masks_split_the_validation_pairs_by_commutativity():
    P = 7
    tokens, _, train, val = modular_addition(P, 0.4, 3)
    mirrored, fresh = modular.mirror_masks(tokens, train[None])
    in_train = torch.zeros(P * P, dtype=torch.bool)
    in_train[train] = True
    assert not (mirrored & fresh).any() and ((mirrored | fresh)[0] == ~in_train).all()  # a partition of D_val
    for i in range(P * P):
        a, b = int(tokens[i, 0]), int(tokens[i, 1])
        if not in_train[i]:
            assert bool(mirrored[0, i]) == (a != b and bool(in_train[b * P + a]))


def test_a_below_rule_takes_the_last_record_under_its_level():
    """② by "val<x": the checkpoint is the last record below x after ①, and the record after it is at x or
    above; a teacher already at x right after ① has its ② flagged as not met."""
    cfg = presets.resolve("02_modular_addition", "smoke")
    t = replace_checked(cfg.transformer, teacher_epochs=600, d_model=32,
                        stops=("train>=1", "val<0.05", "epoch>=600"))
    cfg = modular.apply_overrides(cfg, transformer=t, archs=("transformer",), rhos=(0.9,), taus=(10.0,),
                                  student_epochs=(20,), fig10=((0.9, 10.0),), small_rho=0.9, premise=())
    out = modular.run(cfg, progress=False, device="cpu", workers=1)
    ck, curve = out["checkpoints"], out["teacher_curve"]
    branches = set()
    for seed in cfg.seeds:
        c = curve[curve["seed"] == seed].sort_values("epoch")
        first, second = (ck[(ck["seed"] == seed) & (ck["teacher"] == k)].iloc[0] for k in (1, 2))
        assert first["met"] and first["epoch"] == c.loc[c["acc_star_T"] >= 1, "epoch"].min()
        after = c[c["epoch"] >= first["epoch"]]
        reached = after.loc[after["acc_val_T"] >= 0.05, "epoch"]
        if second["met"]:
            at = c[c["epoch"] == second["epoch"]].iloc[0]
            assert at["acc_val_T"] < 0.05 and second["acc_val_T"] == pytest.approx(at["acc_val_T"], abs=1e-6)
            assert second["epoch"] == after.loc[after["epoch"] < reached.min(), "epoch"].max() if len(reached) \
                else second["epoch"] == c["epoch"].max()
            branches.add("below")
        else:
            assert len(reached) and reached.min() == first["epoch"]
            branches.add("never below")
    assert branches == {"below", "never below"}  # both branches ran (seeds 0 and 1 of the smoke preset)


def test_bad_configs_fail_before_any_compute_and_name_the_parameter():
    for kw, name in ((dict(rhos=[1.2]), "rhos"), (dict(taus=[0.0, 0.1]), "taus"),
                     (dict(student_epochs=[10]), "student_epochs"), (dict(fig10=[[0.5, 10.0]]), "fig10"),
                     (dict(archs=["cnn"]), "archs"), (dict(seeds=[1, 1]), "seeds")):
        with pytest.raises(ValueError, match=name):
            presets.resolve("02_modular_addition", "smoke", **kw)
    with pytest.raises(ValueError, match="stops"):
        ArchConfig("mlp", P=11, frac=0.5, teacher_epochs=100, stops=("epoch>=10", "epoch>=200", "val>=0.9"))
    with pytest.raises(ValueError, match="rho"):  # 5 % of 12 pairs is no pair at all
        presets.resolve("02_modular_addition", "smoke", rhos=[0.05])


@pytest.fixture(scope="module")
def smoke_out():
    cfg = presets.resolve("02_modular_addition", "smoke")
    cfg = modular.apply_overrides(cfg, transformer=replace_checked(
        cfg.transformer, stops=("epoch>=50", "epoch>=100", "val>=0.99")), student_epochs=(100, 100))
    return cfg, modular.run(cfg, progress=False, device="cpu")


def test_checkpoints_are_snapshots_of_the_recorded_run(smoke_out):
    cfg, out = smoke_out
    ck, curve = out["checkpoints"], out["teacher_curve"]
    tf = ck[ck["arch"] == "transformer"].set_index(["seed", "teacher"])
    for seed in cfg.seeds:
        assert tf.loc[(seed, 1), "epoch"] == 50 and tf.loc[(seed, 2), "epoch"] == 100
        for k in (1, 2):  # the checkpoint's accuracies, recomputed from its stored logits, match the record
            row = curve[(curve["arch"] == "transformer") & (curve["seed"] == seed)
                        & (curve["epoch"] == tf.loc[(seed, k), "epoch"])]
            assert tf.loc[(seed, k), "acc_val_T"] == pytest.approx(float(row["acc_val_T"].iloc[0]), abs=1e-6)
            assert tf.loc[(seed, k), "acc_star_T"] == pytest.approx(float(row["acc_star_T"].iloc[0]), abs=1e-6)
        third = tf.loc[(seed, 3)]  # a rule not met by the cap is flagged and falls back to the last epoch
        assert third["met"] or third["epoch"] == cfg.transformer.teacher_epochs


def test_students_cover_the_grid_with_valid_metrics(smoke_out):
    cfg, out = smoke_out
    runs = out["runs"]
    assert len(runs) == len(cfg.archs) * len(cfg.seeds) * len(cfg.rhos) * len(cfg.taus) * 3
    for col in ("acc_train_S", "acc_test_S", "acc_val_S", "acc_match_T_val"):
        assert runs[col].between(0, 1).all()
    assert (runs["epochs"] <= 100).all()
    curves = out["curves"]
    assert set(curves["epoch"]) >= {0, 50, 100}


def test_summary_reports_every_claim_with_its_rule_and_glues_its_numbers(smoke_out):
    cfg, out = smoke_out
    claims, metrics, derived = modular.summarize(out, cfg)
    ids = {c.id for c in claims}
    assert {"fig3a.fit", "fig3a.memorize", "fig3a.delayed", "fig3b.train", "fig3b.tau10.teacher1_leaks",
            "fig3b.tau0.1.independent", "fig10.fast", "fig10.delayed", "fig11a.memorize",
            "fig11b.tau10.teacher1_leaks", "fig3b.tau1.teacher2_between"} <= ids
    assert all(c.rule for c in claims)
    assert {c.id for c in claims if c.kind == "book"} == {"fig3a.mirror", "fig3b.budget", "fig3b.converged",
                                                          "fig11b.budget", "fig11b.converged", "fig3a.premise_paper_size"}
    by = {c.id: c for c in claims}
    # the smoke ladder has no rung at the paper's configuration: that check is not tested, never passed
    assert by["fig3a.premise_paper_size"].verdict == "untested"
    assert metrics["premise.P"] == [7, 11] and len(metrics["premise.teacher2.acc_val_T"]) == 2
    assert by["fig3b.tau1.teacher2_between"].verdict == "untested"  # τ = 1 is not in the smoke grid
    for k in (1, 2, 3):  # seed means of each checkpoint, as the figures show them
        ck = derived["checkpoints"].set_index(["arch", "teacher"])
        assert metrics[f"tf.teacher{k}.acc_val_T"] == pytest.approx(ck.loc[("transformer", k), "acc_val_T"])
        for tau in ("10", "0.1"):
            assert len(metrics[f"tf.teacher{k}.tau{tau}.acc_test_S"]) == len(cfg.rhos)
    for key in ("tf.small_rho", "tf.top_rho", "student_lr", "tau_hi", "tf.hi.teacher1.small.acc_test_S"):
        assert key in metrics
    assert {"acc_test_S_sem", "num_seeds"} <= set(derived["means"].columns)


def test_a_student_split_depends_on_rho_not_on_the_grid(smoke_out):
    """The student at ρ = 0.9 is the same run whether or not ρ = 0.3 is in the grid."""
    cfg, out = smoke_out
    alone = modular.run(modular.apply_overrides(cfg, rhos=(0.9,), archs=("mlp",), fig10=(), small_rho=0.9), progress=False,
                        device="cpu")["runs"]
    both = out["runs"][(out["runs"]["arch"] == "mlp") & (out["runs"]["rho"] == 0.9)]
    cols = ["seed", "tau", "teacher", "acc_test_S", "acc_val_S"]
    pd.testing.assert_frame_equal(alone[cols].sort_values(cols[:3]).reset_index(drop=True),
                                  both[cols].sort_values(cols[:3]).reset_index(drop=True))


def test_low_temperature_targets_are_the_teacher_argmax():
    g = torch.Generator().manual_seed(0)
    z = torch.stack([torch.randperm(7, generator=g) for _ in range(30)], dim=1).double()  # logit gaps >= 1
    q = soft_labels(z, 0.01)
    assert torch.equal(q.argmax(0), z.argmax(0)) and float(q.max(0).values.min()) > 0.99


def test_fit_multiple_rules_parse_and_fail_on_bad_input():
    assert parse_stop("fit*10") == ("fit", ">=", 10.0) and parse_stop("fit×2.5") == ("fit", ">=", 2.5)
    for bad in ("fit>=10", "fit*0", "epoch*3", "fit<2", "fit*-1"):
        with pytest.raises(ValueError, match="stop rule"):
            parse_stop(bad)


def _tiny(stops, separate=False, epochs=400):
    cfg = presets.resolve("02_modular_addition", "smoke")
    t = replace_checked(cfg.transformer, teacher_epochs=epochs, stops=stops, separate_runs=separate)
    return modular.apply_overrides(cfg, transformer=t, archs=("transformer",), rhos=(0.9,), taus=(10.0,),
                                   student_epochs=(20,), fig10=((0.9, 10.0),), small_rho=0.9, premise=())


def test_checkpoints_at_multiples_of_the_runs_own_fit_epoch():
    cfg = _tiny(("fit*1", "fit*2", "fit*3"))
    out = modular.run(cfg, progress=False, device="cpu", workers=1)
    ck, curve = out["checkpoints"], out["teacher_curve"]
    every = modular.teacher_record_every(cfg)
    for seed in cfg.seeds:
        c = curve[curve["seed"] == seed]
        fit_epoch = c.loc[c["acc_star_T"] >= 1, "epoch"].min()
        for k, m in ((1, 1), (2, 2), (3, 3)):
            row = ck[(ck["seed"] == seed) & (ck["teacher"] == k)].iloc[0]
            assert row["fit_epoch"] == fit_epoch
            if m * fit_epoch <= cfg.transformer.teacher_epochs:  # the first record at or after m × the fit epoch
                assert row["met"] and row["epoch"] == -(-m * fit_epoch // every) * every


def test_separate_runs_train_each_teacher_from_its_own_init_and_stop_it_at_its_epoch():
    """The authors' script: ① ② ③ are three runs; each leaves the ensemble at its epoch (compaction)."""
    cfg = _tiny(("epoch>=50", "epoch>=100", "epoch>=200"), separate=True, epochs=200)
    out = modular.run(cfg, progress=False, device="cpu", workers=1)
    ck, curve = out["checkpoints"], out["teacher_curve"]
    for seed in cfg.seeds:
        rows = ck[ck["seed"] == seed].set_index("teacher")
        assert list(rows["epoch"]) == [50, 100, 200] and rows["met"].all()
        assert rows["init_seed"].nunique() == 3  # recorded: the authors did not seed theirs
        assert curve[curve["seed"] == seed].groupby("run")["epoch"].max().to_dict() == {1: 50, 2: 100, 3: 200}
    # the run of ① is the same run as a solo teacher of 50 epochs from that init
    solo = _tiny(("epoch>=50", "epoch>=50", "epoch>=50"), separate=True, epochs=50)
    one = modular.run(solo, progress=False, device="cpu", workers=1)["checkpoints"]
    first = ck[ck["teacher"] == 1].set_index("seed")["acc_val_T"]
    assert one[one["teacher"] == 1].set_index("seed")["acc_val_T"].to_dict() == pytest.approx(first.to_dict())


def test_the_student_budget_is_declared_from_the_teachers():
    cfg = modular.apply_overrides(modular.PRESETS["cpu"], student_lr=3e-3)
    # max(5 · E②, E③) in lr × epochs, at the student's lr (the teacher's is 10⁻³), rounded up
    assert modular.student_budget(cfg, 4000, 8000) == round(5 * 4000 * 1e-3 / 3e-3)
    assert modular.student_budget(cfg, 1000, 9000) == 3000
    assert modular.student_budget(modular.apply_overrides(cfg, student_lr=6e-3), 4000, 8000) == 3334  # ⌈3333.3⌉
    assert modular.PRESETS["cpu"].student_lr == pytest.approx(6e-3)  # the deviations table's value
    capped = modular.apply_overrides(cfg, student_cap=500)
    assert modular.student_budget(capped, 4000, 8000) == 500
    ck = pd.DataFrame({"arch": "transformer", "teacher": [1, 2, 3, 1, 2, 3], "epoch": [2000, 4000, 8000, 2500, 5000, 10_000]})
    b = modular.budget_table(ck, modular.apply_overrides(cfg, archs=("transformer",)))
    assert (b["student_epochs"] == modular.student_budget(cfg, 5000, 10_000)).all() and not b["capped"].any()
    assert list(b["tau"]) == [10.0, 1.0, 0.1]


def test_the_convergence_rule():
    flat = pd.DataFrame({"loss": [1.0, 1.004, 1.002], "a": [1.0, 1.0, 1.0], "t": [0.5, 0.505, 0.5], "v": [0.2] * 3})
    assert modular.converged(flat.to_numpy())
    assert not modular.converged(flat.assign(v=[0.2, 0.2, 0.22]).to_numpy())  # an accuracy still moving
    assert not modular.converged(flat.assign(loss=[1.0, 0.97, 0.95]).to_numpy())  # the loss still falling


def test_the_threshold_is_read_at_the_papers_share_of_all_pairs():
    assert modular.threshold_rhos(modular.PRESETS["paper"].transformer) == (0.7, 0.9)
    fail, success = modular.threshold_rhos(modular.PRESETS["cpu"].transformer)
    assert (fail, success) == (0.525, 0.675) and {fail, success} <= set(modular.PRESETS["cpu"].rhos)


@pytest.mark.parametrize("separate", [False, True])
def test_a_student_starts_from_its_teachers_initial_weights_only_when_asked(monkeypatch, separate):
    """student_init = "teacher" is the authors' code: the student's initial weights are its own teacher's (checked on
    the weights the two ensembles were built with); "own" (the default) gives every student weights of its own."""
    from softleak.experiments.modular import students as students_mod, teachers as teachers_mod

    built = {"teacher": [], "student": []}

    def spy(role, real):
        def build(a, seeds, device):
            model = real(a, seeds, device)
            built[role].append((list(seeds), {k: v.detach().clone() for k, v in model.state_dict().items()}))
            return model
        return build

    monkeypatch.setattr(teachers_mod, "build_model", spy("teacher", teachers_mod.build_model))
    monkeypatch.setattr(students_mod, "build_model", spy("student", students_mod.build_model))
    real_run = students_mod.run_students
    batches = []
    monkeypatch.setattr(modular.runs, "run_students", lambda batch, **kw: batches.append(batch) or real_run(batch, **kw))
    for mode in ("teacher", "own"):
        built["teacher"].clear(), built["student"].clear(), batches.clear()
        cfg = modular.apply_overrides(_tiny(("epoch>=20", "epoch>=40", "epoch>=60"), separate=separate, epochs=60),
                                      student_init=mode)
        modular.run(cfg, progress=False, device="cpu", workers=1)
        (t_seeds, t_state), = built["teacher"]
        (s_seeds, s_state), = built["student"]  # one batch: (transformer, ρ, τ) over seeds and teachers
        (batch,) = batches
        runs_of = [(s, k) for s in cfg.seeds for k in ((1, 2, 3) if separate else (None,))]  # the teachers' members
        for m, c in enumerate(batch):
            j = runs_of.index((c["seed"], c["teacher"] if separate else None))  # this student's teacher's member
            same = [torch.equal(s_state[n][m], t_state[n][j]) for n in s_state
                    if s_state[n].dim() and s_state[n].shape[0] == len(s_seeds)]
            assert same and (all(same) if mode == "teacher" else not all(same)), (mode, c)  # zero biases agree
    with pytest.raises(ValueError, match="student_init"):
        modular.apply_overrides(_tiny(("epoch>=20", "epoch>=40", "epoch>=60")), student_init="teachers")
