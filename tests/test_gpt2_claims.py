"""Chapter 6's claims on synthetic results tables: with the paper's phenomenon every claim reproduces,
without it (or weaker than the paper's) each claim concerned fails; missing runs are never a pass."""

import math

import numpy as np
import pandas as pd
import pytest

from softleak import presets
from softleak.claims import deviations_table
from softleak.experiments import gpt2

CPU = presets.resolve("06_gpt2", "cpu")
PAPER = presets.resolve("06_gpt2", "paper")
HELD_OUT = ("fig9.above_chance", "fig9.increases", "fig9.values", "fig9.over_60", "fig9.not_perfect")


def table(cfg, test, *, train=0.995, val=None, star=1.0, seeds=(0, 1, 2), spread=0.01, train_spread=0.002,
          layers=None, width=None, noise_seed=0):
    """One row per (seed, ρ): ``test`` maps ρ to the mean acc_test_S; each student's held-out accuracy scatters
    with sd ``spread`` and its train accuracy with sd ``train_spread`` (independently per seed and ρ, as the cpu
    run's seeds do: about 1 point held out and a few tenths on the train sentences), so no interval is made of
    runs that agree exactly."""
    chance = 1.0 / cfg.c
    paper_model = cfg.model_name_or_path is not None
    rng = np.random.default_rng(noise_seed)
    rows = []
    for i, s in enumerate(seeds):
        for rho, t in test.items():
            e_train, e_test = rng.normal(0.0, train_spread), rng.normal(0.0, spread)
            rows.append({
                "seed": s, "rho": rho, "acc_train_S": min(1.0, (train[rho] if isinstance(train, dict) else train) + e_train),
                "acc_test_S": t + e_test, "acc_val_S": chance if val is None else val, "acc_match_T_test": t,
                "acc_star_T": star[i] if isinstance(star, tuple) else star, "acc_val_T": chance,
                "teacher_epochs_run": 60, "num_parameters": 125_000_000 if paper_model else 147_000, "vocab": 512,
                "model_layers": layers or (12 if paper_model else cfg.n_layer),
                "model_width": width or (768 if paper_model else cfg.n_embd),
            })
    return {"runs": pd.DataFrame(rows)}


def verdicts(out, cfg):
    claims, metrics, _ = gpt2.summarize(out, cfg)
    return {c.id: c.verdict for c in claims}


PAPER_TEST = dict(gpt2.PAPER_ACC_TEST)  # the paper's 0.213 / 0.524 / 0.652
CPU_LEAK = {0.2: 0.08, 0.5: 0.15, 0.8: 0.25}  # a leak far above chance 1/200 that grows with ρ
AT_CHANCE = 0.001  # the spread of an accuracy at chance: binomial over ~1000 held-out sentences
OFFLINE = tuple(gpt2.ON_ANOTHER_MODEL.values())
STUDY = tuple(gpt2.ON_ANOTHER_MODEL)


def test_with_the_paper_phenomenon_in_the_paper_setting_every_claim_reproduces():
    claims, _, _ = gpt2.summarize(table(PAPER, PAPER_TEST), PAPER)
    v = {c.id: c.verdict for c in claims}
    assert set(v) == {"fig9.teacher", "fig9.train", *HELD_OUT, *OFFLINE}
    assert {v[c] for c in v if c not in OFFLINE} == {"reproduces"}, v
    # on GPT-2 small the paper's claims decide; the book's twins for another model are not measured
    assert {v[c] for c in OFFLINE} == {"untested"}
    assert {c.kind for c in claims if c.id in OFFLINE} == {"book"}


def test_the_teacher_is_a_premise_shown_and_not_counted():
    claims, _, _ = gpt2.summarize(table(CPU, CPU_LEAK), CPU)
    teacher = next(c for c in claims if c.id == "fig9.teacher")
    assert teacher.kind == "premise" and teacher.verdict == "reproduces" and "100%" in teacher.paper
    assert gpt2.TEACHER_SPEC.kind == "premise"


def test_on_the_offline_model_the_papers_gpt2_claims_are_untested_and_the_book_decides_its_own():
    claims, _, _ = gpt2.summarize(table(CPU, CPU_LEAK), CPU)
    by = {c.id: c for c in claims}
    for cid in STUDY:  # the paper's claims are about GPT-2: not decided on a model that is not GPT-2
        assert by[cid].verdict == "untested" and "not GPT-2" in by[cid].note, (cid, by[cid])
        assert by[cid].kind == "paper"
    for cid in (*OFFLINE, "fig9.not_perfect"):  # what this model shows, as the book's findings
        assert by[cid].verdict == "reproduces" and by[cid].kind == "book", (cid, by[cid])
    for cid in ("fig9.values", "fig9.over_60"):
        assert by[cid].verdict == "untested" and "not the paper's setting" in by[cid].note
    assert "−" in by["fig9.values"].ours and "21.3 %" in by["fig9.values"].ours  # ours beside the paper's, with distance
    # the paper's own numbers from the offline model are still not compared: another model, another c
    v = verdicts(table(CPU, PAPER_TEST), CPU)
    assert v["fig9.values"] == v["fig9.above_chance"] == "untested"
    # a local pretrained folder that is not GPT-2 small is not GPT-2 either
    v = verdicts(table(PAPER, PAPER_TEST, layers=2, width=64), PAPER)
    assert v["fig9.above_chance"] == "untested" and v["fig9.offline.above_chance"] == "reproduces"


def test_a_pretrained_model_that_is_not_gpt2_small_is_not_compared_with_the_papers_numbers():
    v = verdicts(table(PAPER, PAPER_TEST, layers=24, width=1024), PAPER)
    assert v["fig9.values"] == v["fig9.over_60"] == "untested"


def test_without_a_leak_every_held_out_claim_fails():
    chance = 1.0 / PAPER.c
    flat = {rho: chance for rho in PAPER_TEST}  # soft = hard = chance: nothing recovered, flat in ρ
    v = verdicts(table(PAPER, flat, spread=AT_CHANCE), PAPER)
    for cid in ("fig9.above_chance", "fig9.values", "fig9.over_60"):
        assert v[cid] == "fails", (cid, v[cid])
    assert v["fig9.increases"] != "reproduces"  # flat in ρ: its gains sit on 0, so not shown (not shown to fall)
    assert v["fig9.teacher"] == v["fig9.train"] == "reproduces"  # only the held-out claims are concerned
    v = verdicts(table(CPU, {rho: 1.0 / CPU.c for rho in CPU_LEAK}, spread=AT_CHANCE), CPU)
    assert v["fig9.offline.above_chance"] == "fails"
    assert v["fig9.offline.increases"] != "reproduces"  # flat in ρ: no growth shown


@pytest.mark.parametrize("noise_seed", range(20))
def test_at_chance_with_realistic_noise_no_leak_claim_reproduces(noise_seed):
    """Null data at the spread an accuracy at chance has: the leak and growth rules must not pass by chance."""
    flat = {rho: 1.0 / CPU.c for rho in CPU_LEAK}
    v = verdicts(table(CPU, flat, spread=0.003, noise_seed=noise_seed), CPU)
    assert v["fig9.offline.above_chance"] == "fails"
    assert v["fig9.offline.increases"] != "reproduces"


def test_a_leak_weaker_than_the_papers_fails():
    # the cpu miss of issue 7: 5 × chance and 2 points above acc_val_S at ρ = 0.2 is not "far above chance"
    weak = {0.2: 0.026, 0.5: 0.101, 0.8: 0.165}
    assert verdicts(table(CPU, weak, val=0.008, spread=0.004), CPU)["fig9.offline.above_chance"] == "fails"
    # far above 1/c but level with the measured chance: the paired gap over acc_val_S fails it
    assert verdicts(table(CPU, CPU_LEAK, val=0.2), CPU)["fig9.offline.above_chance"] == "fails"
    # ten points under each of the paper's numbers, in the paper's setting
    v = verdicts(table(PAPER, {r: t - 0.10 for r, t in PAPER_TEST.items()}), PAPER)
    assert v["fig9.values"] == "fails" and v["fig9.over_60"] == "fails"
    assert v["fig9.above_chance"] == v["fig9.increases"] == "reproduces"
    # ten points over: the paper's numbers are a value, not a floor
    assert verdicts(table(PAPER, {r: t + 0.10 for r, t in PAPER_TEST.items()}), PAPER)["fig9.values"] == "fails"


def test_held_out_accuracy_that_falls_with_rho_fails_the_increase():
    falling = {0.2: 0.30, 0.5: 0.20, 0.8: 0.10}
    assert verdicts(table(CPU, falling), CPU)["fig9.offline.increases"] == "fails"
    assert verdicts(table(PAPER, falling), PAPER)["fig9.increases"] == "fails"
    # rising at one step only is not "increases with ρ"
    assert verdicts(table(CPU, {0.2: 0.10, 0.5: 0.25, 0.8: 0.20}), CPU)["fig9.offline.increases"] == "fails"


def test_a_teacher_that_does_not_memorize_fails_the_premise_and_leaves_its_students_claims_not_converged():
    assert verdicts(table(CPU, CPU_LEAK, star=0.6), CPU)["fig9.teacher"] == "fails"
    claims, metrics, _ = gpt2.summarize(table(CPU, CPU_LEAK, star=(1.0, 1.0, 0.9)), CPU)
    by = {c.id: c for c in claims}
    assert by["fig9.teacher"].verdict == "fails"
    for cid in (*OFFLINE, "fig9.not_perfect"):  # would reproduce, but they read the students of that teacher
        assert by[cid].verdict == "inconclusive" and "not converged" in by[cid].note, (cid, by[cid])
        assert "teacher of seed 2" in by[cid].note
    assert metrics["num_unconverged"] == 1


def test_students_still_rising_at_the_end_are_not_converged():
    out = table(CPU, CPU_LEAK)
    rows = []
    for _, r in out["runs"].iterrows():
        for epoch, frac in ((0, 0.0), (100, 0.8), (160, 0.9), (200, 1.0)):
            rows.append({"seed": r["seed"], "rho": r["rho"], "epoch": epoch, "acc_train_S": r["acc_train_S"],
                         "acc_test_S": r["acc_test_S"] * frac})
    curves = pd.DataFrame(rows)  # held-out accuracy up 10 % of its value over the last fifth: 0.8 to 2.5 points
    v = verdicts({**out, "curves": curves}, CPU)
    assert v["fig9.offline.above_chance"] == "inconclusive"  # ρ = 0.5 and 0.8 students still rise ≥ 2 points
    flat = curves.assign(acc_test_S=curves.groupby(["seed", "rho"])["acc_test_S"].transform("max"))
    assert verdicts({**out, "curves": flat}, CPU)["fig9.offline.above_chance"] == "reproduces"


def test_students_that_do_not_fit_their_sentences_fail_the_train_claim():
    assert verdicts(table(CPU, CPU_LEAK, train=0.90), CPU)["fig9.offline.train"] == "fails"
    assert verdicts(table(PAPER, PAPER_TEST, train=0.90), PAPER)["fig9.train"] == "fails"
    # 98 % at one ρ is below the paper's ≃ 99.5 % less one point
    assert verdicts(table(CPU, CPU_LEAK, train={0.2: 0.995, 0.5: 0.995, 0.8: 0.975}),
                    CPU)["fig9.offline.train"] == "fails"


def test_full_recovery_at_some_rho_fails_the_books_not_perfect_check():
    claims, _, _ = gpt2.summarize(table(CPU, {0.2: 0.3, 0.5: 0.7, 0.8: 1.0}, spread=AT_CHANCE), CPU)
    check = next(c for c in claims if c.id == "fig9.not_perfect")
    assert check.kind == "book" and check.verdict == "fails"
    kinds = {c.id: c.kind for c in claims}
    assert {k for c, k in kinds.items() if c not in (*OFFLINE, "fig9.not_perfect", "fig9.teacher")} == {"paper"}


def test_a_missing_run_is_never_a_pass():
    out = table(CPU, CPU_LEAK)
    runs = out["runs"]
    runs.loc[(runs["seed"] == 1) & (runs["rho"] == 0.5), "acc_test_S"] = math.nan
    v = verdicts(out, CPU)
    # the parts at ρ = 0.5 are not measured: the others reproduce, so the whole is inconclusive, not a pass
    assert v["fig9.offline.above_chance"] == v["fig9.not_perfect"] == "inconclusive"
    assert v["fig9.offline.increases"] == "untested"  # both steps read ρ = 0.5
    runs = runs[~((runs["seed"] == 2) & (runs["rho"] == 0.8))]  # a seed without its ρ = 0.8 student
    assert verdicts({"runs": runs}, CPU)["fig9.offline.train"] == "inconclusive"


def test_a_straddling_interval_is_inconclusive_not_a_coin_flip():
    # acc_train_S spread around the 98.5 % threshold over 3 seeds
    v = verdicts(table(CPU, CPU_LEAK, train=0.986, train_spread=0.0015), CPU)
    assert v["fig9.offline.train"] == "inconclusive"


def test_fewer_than_three_seeds_decide_nothing():
    v = verdicts(table(CPU, CPU_LEAK, seeds=(0, 1)), CPU)
    for cid in (*OFFLINE, "fig9.not_perfect", "fig9.teacher"):
        assert v[cid] == "inconclusive", (cid, v[cid])


def test_the_teacher_stop_is_flagged_as_post_hoc_at_cpu_only():
    cpu_claims, _, _ = gpt2.summarize(table(CPU, CPU_LEAK), CPU)
    paper_claims, _, _ = gpt2.summarize(table(PAPER, PAPER_TEST), PAPER)
    assert all("teacher_stop_at" in c.post_hoc for c in cpu_claims)
    assert not any(c.post_hoc for c in paper_claims)


def test_reading_follows_the_verdicts():
    def read(cfg, test, **kw):
        claims, metrics, _ = gpt2.summarize(table(cfg, test, **kw), cfg)
        return gpt2.reading(claims, metrics)

    good = read(PAPER, PAPER_TEST)
    assert "far above chance" in good and "grows with ρ" in good and "matched within" in good
    assert "not GPT-2" not in good
    bad = read(PAPER, {r: 1.0 / PAPER.c for r in PAPER_TEST}, spread=AT_CHANCE)
    assert "not far enough above chance" in bad and "grows with ρ, as" not in bad and "not matched" in bad
    assert "does not grow" in read(PAPER, {0.2: 0.6, 0.5: 0.5, 0.8: 0.4})
    offline = read(CPU, CPU_LEAK)
    assert "uncompared" in offline and "not GPT-2" in offline and "far above chance" in offline


def test_rules_name_their_sources_and_the_deviations_table_reads_every_preset():
    for spec in [gpt2.TEACHER_SPEC, *gpt2.fig9_specs([0.2, 0.5, 0.8], CPU.c)]:
        text = spec.rule.text()
        assert any(f"({src}:" in text for src in ("paper", "theory", "chance", "book")), text
    for preset in ("smoke", "cpu", "paper"):
        cfg = presets.resolve("06_gpt2", preset)
        dev = deviations_table(gpt2.DEVIATIONS, cfg, gpt2.PRESETS, preset)
        assert len(dev) == len(gpt2.DEVIATIONS)
    assert str(CPU.c) in dev.loc["classes c", "`cpu` preset"]


@pytest.mark.parametrize("rhos", [[0.3, 0.6], [0.5]])
def test_another_rho_grid_decides_on_its_own_rhos_and_leaves_the_papers_numbers_untested(rhos):
    test = {r: PAPER_TEST.get(r, 0.05 + 0.2 * r) for r in rhos}  # ρ = 0.5 at the paper's own number
    cfg = presets.resolve("06_gpt2", "paper", rhos=rhos)
    v = verdicts(table(cfg, test), cfg)
    assert v["fig9.values"] == "inconclusive" if 0.5 in rhos else v["fig9.values"] == "untested"
    assert v["fig9.above_chance"] == "reproduces"
    assert v["fig9.increases"] == ("reproduces" if len(rhos) > 1 else "untested")
    test[rhos[-1]] = 0.9  # a tested part that fails fails the whole, whatever is untested
    assert verdicts(table(cfg, test), cfg)["fig9.values"] == ("fails" if 0.5 in rhos else "untested")
