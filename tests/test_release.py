"""Chapter 8 (release defenses): bad config input, a smoke run with the metrics claims.json must hold,
and counter-data: a constructed world WITH a leak that the defenses stop makes the findings hold; one
where nothing leaks makes the leak findings fail (no rule passes by construction)."""

import dataclasses

import numpy as np
import pandas as pd
import pytest

from softleak import presets
from softleak.claims import deviations_table
from softleak.experiments import release

SMOKE = release.PRESETS["smoke"]


@pytest.mark.parametrize("override, match", [
    ({"rho": 1.0}, "rho"), ({"tau": 0.0}, "tau"), ({"taus": (5.0,)}, "must contain tau"),
    ({"topks": (2,)}, "c/2"), ({"topks": (1, 3)}, r"topks\[0\]"), ({"weak_alpha": 3.0}, "weak_alpha"),
    ({"seeds": ()}, "seeds"), ({"combos": ("blur:1",)}, r"combos\[0\]"), ({"canary_count": 400}, "canary_count"),
    ({"canary_train": 1750}, "canary_train"), ({"canary_rho": 0.01}, "canary_rho"), ({"noises": (-1.0,)}, "noises"),
    ({"jump_alpha": -1.0}, "jump_alpha"), ({"weak_alpha": 0.52}, "weak_alpha=0.52 is not allowed with d=20"), ({"canary_topks": (10,)},
    r"canary_topks\[0\]"), ({"canary_tau": 10.0}, "canary_taus"), ({"audit_null": 0}, "audit_null"),
])
def test_bad_config_fails_before_compute(override, match):
    with pytest.raises(ValueError, match=match):
        release.apply_overrides(SMOKE, **override)


def test_a_flat_override_sets_a_field_of_a_part():
    cfg = release.apply_overrides(SMOKE, canary_p=8, jump_alpha=3.0, audit_null=19, seeds=(4,))
    assert (cfg.canary.p, cfg.jump.alpha, cfg.audit.null, cfg.seeds) == (8, 3.0, 19, (4,))
    assert cfg.canary.count == SMOKE.canary.count and cfg.n_jump == 60 * SMOKE.c


def test_unknown_override_and_preset_are_named():
    with pytest.raises(ValueError, match="not a parameter"):
        presets.resolve("08_release_safely", "smoke", sigma=3)
    with pytest.raises(ValueError, match="preset"):
        presets.resolve("08_release_safely", "huge")


def test_every_preset_builds_and_its_deviations_read():
    for name, cfg in release.PRESETS.items():
        assert release.recipes(cfg, "random")[0]["family"] == "temperature"
        table = deviations_table(release.DEVIATIONS, cfg, release.PRESETS, name)
        assert not table.isna().any().any()


def test_recipes_are_seeded_by_their_text_and_the_start_not_their_place():
    import torch

    r1, r3 = {"defense": "noise:1", "tau": 20.0}, {"defense": "noise:3", "tau": 20.0}
    z = torch.randn(5, 7, dtype=torch.float64)
    a, _ = release.release_all(z, [r1, r3], 2, seed=4)
    b, _ = release.release_all(z, [r3, r1], 2, seed=4)
    assert torch.equal(a[:2], b[2:]) and torch.equal(a[2:], b[:2])  # the same draws whatever the order
    assert not torch.equal(a[0], a[1])  # each start draws its own noise


def test_smoke_run_writes_the_metrics_the_issue_names():
    out = release.run(SMOKE, progress=False, workers=1)
    cfg = SMOKE
    rnd, can = out["random"], out["canary"]
    recipes = len(release.recipes(cfg, "random"))
    assert len(rnd) == 2 * len(cfg.seeds) * recipes * cfg.inits
    assert len(can) == len(release.MODES) * len(cfg.canary.seeds) * len(release.recipes(cfg, "canary")) * cfg.canary.inits
    for col in ("seed", "seed_data", "seed_teacher", "seed_student"):
        assert col in rnd  # seeds recorded in the results table
    # no canary is ever released in mode released0, and the held-out canaries are all m of them
    r0 = can[can["mode"] == "released0"]
    assert (r0["num_released_canaries"] == 0).all() and (r0["num_members"] == cfg.canary.count).all()
    claims, metrics, tables = release.summarize(out, cfg)
    for fam in ("temperature", "topk", "rounding", "quantisation", "logit_noise", "hard_labels"):
        for part in ("knob", "leakage", "utility"):
            assert isinstance(metrics[f"pareto.{fam}.{part}"], list)
    for key in ("canary.released0.acc_canary_S", "canary.released0.trivial", "canary.released0.acc_test_real_S",
                "canary.mia.auc"):
        assert np.isfinite(metrics[key])
    assert len({c.id for c in claims}) == len(release.SPECS)
    again = release.run(SMOKE, progress=False, workers=1)
    pd.testing.assert_frame_equal(out["random"], again["random"])  # repeatable from its seeds


# ---------------------------------------------------------------------------------------------
# Counter-data: the findings read constructed worlds as they should
# ---------------------------------------------------------------------------------------------

CPU = release.PRESETS["cpu"]


def _world(leak: bool, seeds=(0, 1, 2, 3, 4, 5), inits=2, noise_seed=0) -> dict[str, pd.DataFrame]:
    """Tables shaped like release.run's. With ``leak``: the undefended release and mild defenses leak
    (at the jump α nearly everything), strong defenses and hard labels leak nothing and lose utility.
    Without: every recipe sits at trivial with no membership signal. Six teachers: "the teachers fit" is a share
    of teachers, and 6 of 6 is the fewest that clear a half with 95 % confidence."""
    rng = np.random.default_rng(noise_seed)
    rows = []
    strong = {"hard", "topk:2", "topk:5", "topk:10", "quant:2", "noise:10"}
    for n, regime in ((CPU.n_weak, "weak"), (CPU.n_jump, "jump")):
        for r in release.recipes(CPU, "random"):
            blocked = r["defense"] in strong or (r["family"] == "temperature" and r["tau"] < 20)
            full = 0.9 if regime == "jump" else 0.1
            for s in seeds:
                for k in range(inits):
                    e = rng.normal(0, 0.005)
                    adv = (0.0 if blocked else full) + e if leak else e
                    rows.append({**r, "n": n, "seed": s, "init": k, "advantage": adv, "trivial": 0.05,
                                 "acc_heldout": 0.05 + 0.95 * adv, "acc_heldout_80": 0.05 + 0.95 * adv,
                                 "auc": (0.5 if blocked else 0.9) + e if leak else 0.5 + e,
                                 "agreement": (0.15 if blocked else 0.95) + e, "acc_star_T": 1.0})
    crows = []
    for mode in release.MODES:
        for r in release.recipes(CPU, "canary"):
            blocked = r["defense"] == "hard"
            for s in seeds:
                e = rng.normal(0, 0.005)
                adv = (0.0 if blocked else 0.2) + e if leak else e
                crows.append({**r, "mode": mode, "seed": s, "init": 0, "advantage": adv, "trivial": 0.01,
                              "acc_heldout": 0.01 + 0.99 * adv, "acc_heldout_80": 0.01 + 0.99 * adv,
                              "auc": (0.5 if blocked else 0.95) + e if leak else 0.5 + e, "tpr@5%": 0.5,
                              "acc_test": 0.9 + e, "acc_test_real_T": 0.92, "acc_star_T": 1.0, "num_nonmembers": 597,
                              "teacher_steps": 700})
    random, canary = pd.DataFrame(rows), pd.DataFrame(crows)
    return {"random": random, "canary": canary, **_audits(random, ["n"], "random", rng, leak),
            **_audits(canary, ["mode"], "canary", rng, leak)}


def _audits(students: pd.DataFrame, by: list[str], part: str, rng, leak: bool, draws: int = 199):
    """The audit's per-teacher tables of a constructed world: the exposure gap of each (teacher, recipe), large
    where the students leak (advantage above 5 %), and null draws around 0 with a spread of 0.05 bits; without a
    leak, the observed gap is a draw of the same null."""
    rows, nulls = [], []
    for key, g in students.groupby([*by, "seed", "recipe"], sort=False):
        leaking = leak and g["advantage"].mean() > 0.05
        gap = 1.0 if leaking else rng.normal(0, 0.05)
        null = rng.normal(0, 0.05, draws)
        keys = dict(zip([*by, "seed", "recipe"], key))
        rows.append({**keys, "exposure_gap": gap, "verdict": "leaks" if leaking else "no evidence of leakage"})
        nulls.append(pd.DataFrame({**keys, "draw": np.arange(draws), "exposure_gap": null}))
    return {f"{part}_audit": pd.DataFrame(rows), f"{part}_null": pd.concat(nulls, ignore_index=True)}


def test_a_world_with_a_stoppable_leak_makes_the_findings_hold():
    claims, metrics, tables = release.summarize(_world(True), CPU)
    verdicts = {c.id: c.verdict for c in claims}
    assert set(verdicts.values()) == {"reproduces"}, verdicts
    assert metrics["topk.k_stop"] == 10.0
    best = tables["best"].set_index(["regime", "family"])
    assert best.loc[("jump", "hard labels"), "safe"] and best.loc[("jump", "rounding"), "best stopped recipe"] == \
        "none stops the leak"


def test_a_world_without_a_leak_makes_the_leak_findings_fail():
    claims, _, _ = release.summarize(_world(False), CPU)
    verdicts = {c.id: c.verdict for c in claims}
    for cid in ("random.jump_leaks", "random.weak_leaks", "random.jump_membership", "canary.released0.labels",
                "canary.released0.membership", "canary.released_rho.labels"):
        assert verdicts[cid] == "fails", (cid, verdicts[cid])
    # the leak ratios and the cost of stopping a leak that is not there are not passes either
    for cid in ("random.topk_whole_vector", "random.round2_leaks", "random.no_free_defense"):
        assert verdicts[cid] != "reproduces", (cid, verdicts[cid])


def test_every_claim_can_fail():
    """Each rule is checked against a world built to break it: no claim reproduces by construction."""
    unfit = _world(True)
    unfit["random"]["acc_star_T"] = 0.9  # teachers that did not fit
    unfit["canary"]["acc_star_T"] = 0.9
    verdicts = {c.id: c.verdict for c in release.summarize(unfit, CPU)[0]}
    assert verdicts["random.teachers_fit"] == verdicts["canary.teachers_fit"] == "fails"
    broken = _world(True)
    rnd, can = broken["random"], broken["canary"]
    rnd.loc[rnd["defense"] == "hard", ["advantage", "auc"]] = [0.5, 0.9]  # hard labels leak
    can.loc[can["defense"] == "hard", ["advantage", "auc"]] = [0.5, 0.9]
    rnd.loc[rnd["defense"] == "round:2", "advantage"] = 0.0
    rnd.loc[rnd["defense"] == f"topk:{CPU.c // 2}", "advantage"] = 0.9
    can["acc_test"] = 0.5  # a useless release
    claims, _, _ = release.summarize(broken, CPU)
    verdicts = {c.id: c.verdict for c in claims}
    for cid in ("random.hard_stops", "random.topk_whole_vector", "random.round2_leaks", "canary.useful",
                "canary.hard_safe"):
        assert verdicts[cid] == "fails", (cid, verdicts[cid])
    # with a free defense (a stopped recipe at full utility) the trade-off finding fails
    free = _world(True)
    f = free["random"]
    f.loc[f["defense"] == "topk:10", "agreement"] = 0.95
    verdicts = {c.id: c.verdict for c in release.summarize(free, CPU)[0]}
    assert verdicts["random.no_free_defense"] == "fails"


def test_the_teachers_fit_is_a_share_of_teachers_with_its_exact_interval():
    def fit(world, seeds):
        by = {c.id: c for c in release.summarize(world, CPU)[0]}
        ev = next(e for e in by[f"{seeds}.teachers_fit"].evidence if e["name"] == f"{seeds}.teachers_fit")
        return by[f"{seeds}.teachers_fit"].verdict, ev

    verdict, ev = fit(_world(True, seeds=(0, 1, 2)), "canary")
    assert verdict == "inconclusive" and ev["method"] == "clopper-pearson" and ev["n"] == 3  # 3 of 3: [29 %, 100 %]
    assert ev["low"] == pytest.approx(0.292, abs=1e-3)
    verdict, ev = fit(_world(True, seeds=(0, 1, 2)), "random")  # 3 teachers at each α: 6 of 6
    assert verdict == "reproduces" and ev["n"] == 6 and ev["of"] == "teachers"
    one_fits = _world(True)
    can = one_fits["canary"]
    can.loc[can["seed"] != 0, "acc_star_T"] = 0.95  # 1 of 6 fits: the upper end (64 %) is above a half
    assert fit(one_fits, "canary")[0] == "inconclusive"


def test_a_teacher_that_did_not_fit_or_students_still_rising_leave_the_claims_reading_them_not_converged():
    world = _world(True)
    can = world["canary"]
    can.loc[can["seed"] == 3, "acc_star_T"] = 0.97  # one digit teacher missed a canary
    rnd = world["random"]
    rising = (rnd["n"] == CPU.n_jump) & (rnd["recipe"] == "round:2")
    rnd.loc[rising, "acc_heldout_80"] = rnd.loc[rising, "acc_heldout"] - 0.05  # still gaining 5 points
    by = {c.id: c for c in release.summarize(world, CPU)[0]}
    for cid in ("canary.released0.labels", "canary.released_rho.labels", "canary.useful", "canary.hard_safe",
                "random.round2_leaks", "random.no_free_defense"):
        assert by[cid].verdict == "inconclusive" and by[cid].note.startswith("not converged"), (cid, by[cid])
    assert "seed 3" in by["canary.useful"].note and "round:2" in by["random.round2_leaks"].note
    for cid in ("random.jump_leaks", "random.hard_stops", "random.topk_whole_vector"):  # they read other students
        assert by[cid].verdict == "reproduces", (cid, by[cid])


def test_the_random_students_budget_is_flagged_post_hoc_on_every_claim_it_decides():
    claims, _, _ = release.summarize(_world(True), CPU)
    for c in claims:
        reads_students = c.id.startswith("random.") and c.id != "random.teachers_fit"
        assert ("student_steps" in c.post_hoc) == reads_students, c.id
    paper = dataclasses.replace(CPU, student_steps=release.PRESETS["paper"].student_steps,
                                student_lr=release.PRESETS["paper"].student_lr)
    assert not any("student_steps" in c.post_hoc for c in release.summarize(_world(True), paper)[0])


def _null_cost(noise_seed: int):
    """A world in which every stopped recipe costs exactly the declared 10 points of utility, with a realistic
    2-point spread over teachers: "no free defense" sits on its threshold. Returns the claim."""
    world = _world(True, noise_seed=noise_seed)
    rnd = world["random"]
    rng = np.random.default_rng(100 + noise_seed)
    jump = rnd["n"] == CPU.n_jump
    rnd.loc[jump & (rnd["recipe"] == f"τ = {CPU.tau:g}"), "agreement"] = 0.95
    stopped = jump & (rnd["advantage"] < 0.05)
    noise = {(r, s): rng.normal(0, 0.02) for r in rnd.loc[stopped, "recipe"].unique() for s in rnd["seed"].unique()}
    rnd.loc[stopped, "agreement"] = [0.95 - release.COST + noise[(r, s)]
                                     for r, s in rnd.loc[stopped, ["recipe", "seed"]].itertuples(index=False)]
    return next(c for c in release.summarize(world, CPU)[0] if c.id == "random.no_free_defense")


def test_the_best_stopped_recipe_on_null_data_does_not_show_a_free_defense_by_selection():
    """Picking the most useful of 9 stopped recipes on the same teachers biases its cost down: without the
    Bonferroni correction "no free defense" fails about 10–17 % of such null worlds; with it, at most its 5 %."""
    claims = [_null_cost(seed) for seed in range(60)]
    assert not any(c.verdict == "reproduces" for c in claims)  # a cost on the threshold is never shown above it
    assert all(e["looks"] == 9 for c in claims for e in c.evidence if e["name"] == "jump.cost")
    assert sum(c.verdict == "fails" for c in claims) <= 4  # 5 % of 60, plus one (12 of 60 without the correction)


def test_the_worked_audit_example_runs_on_the_files_it_writes(tmp_path):
    """The chapter's 'audit a model you have': the files of a digit teacher that memorizes the canaries and of one
    that never sees them, then the command line on each, as a user runs it (a subprocess, with --fail-on-leak)."""
    from softleak import audit

    examples = release.audit_examples(SMOKE, tmp_path)
    for label, (name, memorize) in release.EXAMPLE_TEACHERS.items():
        released = np.load(tmp_path / name / "released.npy")
        assert released.sum() == len(released) - SMOKE.canary.count  # every canary held back, every real image released
        run = examples[label]
        assert run["status"] in (audit.EXIT_OK, audit.EXIT_LEAKS) and (run["status"] == audit.EXIT_LEAKS) == \
            any(r["verdict"] == "leaks" for r in run["report"]["recipes"])
        assert [r["defense"] for r in run["report"]["recipes"]] == ["none", "hard"]
        assert run["report"]["settings"]["num_heldout"] == SMOKE.canary.count
    teacher = (tmp_path / "never_sees" / "teacher.txt").read_text()
    assert "memorizes the canaries: False" in teacher and "canary labels it names: 0.0000" in teacher
    metrics = release.example_metrics(examples)
    assert set(metrics) == {f"example.{n}.{k}" for n in ("memorizes", "never_sees") for k in ("verdict", "p_value",
                                                                                              "exit_status")}


def test_chapter_8_digit_teachers_are_the_audit_examples_memorizing_teachers():
    """One trainer for the digit teacher: the chapter's canary teacher is the worked example's of the same seed."""
    import torch

    from softleak.audit import example

    conf = {f"canary_{k}": v for k, v in dataclasses.asdict(SMOKE.canary).items()} | {"seed": 0}
    a = release.canary_teacher(conf, "cpu")
    b = example.train_teacher(0, release.example_teacher(SMOKE), memorize=True, device="cpu")
    assert a[2:] == b[2:] and all(torch.equal(x, y) for x, y in zip(a[0].parameters(), b[0].parameters()))


def test_a_leak_the_null_does_not_see_is_not_a_reproduced_leak():
    """The advantage clears its threshold but the audit's exposure gap is a draw of its own null (the students'
    labels are no better ranked than fresh records'): the "leaks" findings stay inconclusive, never reproduce."""
    world = _world(True)
    rng = np.random.default_rng(3)
    for part in ("random", "canary"):
        world[f"{part}_audit"]["exposure_gap"] = rng.normal(0, 0.05, len(world[f"{part}_audit"]))
        world[f"{part}_audit"]["verdict"] = "no evidence of leakage"
    by = {c.id: c for c in release.summarize(world, CPU)[0]}
    for cid in ("random.jump_leaks", "random.weak_leaks", "canary.released0.labels", "canary.released_rho.labels"):
        assert by[cid].verdict == "inconclusive" and "no evidence beyond the null" in by[cid].note, (cid, by[cid])
    pareto = release.summarize(_world(True), CPU)[2]["pareto"]
    base = pareto[(pareto["regime"] == "jump") & (pareto["recipe"] == f"τ = {CPU.tau:g}")].iloc[0]
    assert (base["audit_leaks"], base["audit_teachers"]) == (6, 6)
