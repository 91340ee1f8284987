"""Chapter 6's claims on synthetic results tables: with the paper's phenomenon every claim reproduces,
without it (or weaker than the paper's) each claim concerned fails; missing runs are never a pass."""

import math

import pandas as pd
import pytest

from softleak import presets
from softleak.claims import deviations_table
from softleak.experiments import gpt2

CPU = presets.resolve("06_gpt2", "cpu")
PAPER = presets.resolve("06_gpt2", "paper")
HELD_OUT = ("fig9.above_chance", "fig9.increases", "fig9.values", "fig9.over_60", "fig9.not_perfect")


def table(cfg, test, *, train=0.995, val=None, star=1.0, seeds=(0, 1, 2), spread=0.004, layers=None, width=None):
    """One row per (seed, ρ): ``test`` maps ρ to the seed-mean acc_test_S; seeds spread ±``spread`` around it."""
    chance = 1.0 / cfg.c
    paper_model = cfg.model_name_or_path is not None
    rows = []
    for i, s in enumerate(seeds):
        jitter = (i - (len(seeds) - 1) / 2) * spread
        for rho, t in test.items():
            rows.append({
                "seed": s, "rho": rho, "acc_train_S": min(1.0, (train[rho] if isinstance(train, dict) else train) + jitter),
                "acc_test_S": t + jitter, "acc_val_S": chance if val is None else val, "acc_match_T_test": t,
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


def test_with_the_paper_phenomenon_in_the_paper_setting_every_claim_reproduces():
    v = verdicts(table(PAPER, PAPER_TEST), PAPER)
    assert set(v) == {"fig9.teacher", "fig9.train", *HELD_OUT}
    assert set(v.values()) == {"reproduces"}, v


def test_at_cpu_the_qualitative_claims_are_decided_and_the_papers_numbers_are_not_compared():
    claims, _, _ = gpt2.summarize(table(CPU, CPU_LEAK), CPU)
    by = {c.id: c for c in claims}
    for cid in ("fig9.teacher", "fig9.train", "fig9.above_chance", "fig9.increases", "fig9.not_perfect"):
        assert by[cid].verdict == "reproduces", (cid, by[cid])
    for cid in ("fig9.values", "fig9.over_60"):
        assert by[cid].verdict == "untested" and "not the paper's setting" in by[cid].note
    assert "−" in by["fig9.values"].ours and "21.3 %" in by["fig9.values"].ours  # ours beside the paper's, with distance
    # the paper's own numbers from the offline model are still not compared: another model, another c
    assert verdicts(table(CPU, PAPER_TEST), CPU)["fig9.values"] == "untested"


def test_a_pretrained_model_that_is_not_gpt2_small_is_not_compared_with_the_papers_numbers():
    v = verdicts(table(PAPER, PAPER_TEST, layers=24, width=1024), PAPER)
    assert v["fig9.values"] == v["fig9.over_60"] == "untested"


def test_without_a_leak_every_held_out_claim_of_the_paper_fails():
    chance = 1.0 / PAPER.c
    flat = {rho: chance for rho in PAPER_TEST}  # soft = hard = chance: nothing recovered, flat in ρ
    v = verdicts(table(PAPER, flat, spread=0.0), PAPER)
    for cid in ("fig9.above_chance", "fig9.increases", "fig9.values", "fig9.over_60"):
        assert v[cid] == "fails", (cid, v[cid])
    assert v["fig9.teacher"] == v["fig9.train"] == "reproduces"  # only the held-out claims are concerned
    v = verdicts(table(CPU, {rho: 1.0 / CPU.c for rho in CPU_LEAK}, spread=0.0), CPU)
    assert v["fig9.above_chance"] == v["fig9.increases"] == "fails"


def test_a_leak_weaker_than_the_papers_fails():
    # the cpu miss of issue 7: 5 × chance and 2 points above acc_val_S at ρ = 0.2 is not "far above chance"
    weak = {0.2: 0.026, 0.5: 0.101, 0.8: 0.165}
    assert verdicts(table(CPU, weak, val=0.008), CPU)["fig9.above_chance"] == "fails"
    # far above 1/c but level with the measured chance: the paired gap over acc_val_S fails it
    assert verdicts(table(CPU, CPU_LEAK, val=0.2), CPU)["fig9.above_chance"] == "fails"
    # ten points under each of the paper's numbers, in the paper's setting
    v = verdicts(table(PAPER, {r: t - 0.10 for r, t in PAPER_TEST.items()}), PAPER)
    assert v["fig9.values"] == "fails" and v["fig9.over_60"] == "fails"
    assert v["fig9.above_chance"] == v["fig9.increases"] == "reproduces"
    # ten points over: the paper's numbers are a value, not a floor
    assert verdicts(table(PAPER, {r: t + 0.10 for r, t in PAPER_TEST.items()}), PAPER)["fig9.values"] == "fails"


def test_held_out_accuracy_that_falls_with_rho_fails_the_increase():
    falling = {0.2: 0.30, 0.5: 0.20, 0.8: 0.10}
    assert verdicts(table(CPU, falling), CPU)["fig9.increases"] == "fails"
    # rising at one step only is not "increases with ρ"
    assert verdicts(table(CPU, {0.2: 0.10, 0.5: 0.25, 0.8: 0.20}), CPU)["fig9.increases"] == "fails"


def test_a_teacher_that_does_not_memorize_fails():
    assert verdicts(table(CPU, CPU_LEAK, star=0.6), CPU)["fig9.teacher"] == "fails"
    assert verdicts(table(CPU, CPU_LEAK, star=(1.0, 1.0, 0.9)), CPU)["fig9.teacher"] != "reproduces"


def test_students_that_do_not_fit_their_sentences_fail_the_train_claim():
    assert verdicts(table(CPU, CPU_LEAK, train=0.90), CPU)["fig9.train"] == "fails"
    # 98 % at one ρ is below the paper's ≃ 99.5 % less one point
    assert verdicts(table(CPU, CPU_LEAK, train={0.2: 0.995, 0.5: 0.995, 0.8: 0.975}, spread=0.002),
                    CPU)["fig9.train"] == "fails"


def test_full_recovery_at_some_rho_fails_the_books_not_perfect_check():
    claims, _, _ = gpt2.summarize(table(CPU, {0.2: 0.3, 0.5: 0.7, 0.8: 1.0}, spread=0.0), CPU)
    check = next(c for c in claims if c.id == "fig9.not_perfect")
    assert check.kind == "book" and check.verdict == "fails"
    assert all(c.kind == "paper" for c in claims if c.id != "fig9.not_perfect")


def test_a_missing_run_is_untested_never_a_pass():
    out = table(CPU, CPU_LEAK)
    runs = out["runs"]
    runs.loc[(runs["seed"] == 1) & (runs["rho"] == 0.5), "acc_test_S"] = math.nan
    v = verdicts(out, CPU)
    assert v["fig9.above_chance"] == v["fig9.increases"] == v["fig9.not_perfect"] == "untested"
    runs = runs[~((runs["seed"] == 2) & (runs["rho"] == 0.8))]  # a seed without its ρ = 0.8 student
    assert verdicts({"runs": runs}, CPU)["fig9.train"] == "untested"


def test_a_straddling_interval_is_inconclusive_not_a_coin_flip():
    # acc_train_S spread around the 98.5 % threshold over 3 seeds
    v = verdicts(table(CPU, CPU_LEAK, train=0.986, spread=0.006), CPU)
    assert v["fig9.train"] == "inconclusive"


def test_the_teacher_stop_is_flagged_as_post_hoc_at_cpu_only():
    cpu_claims, _, _ = gpt2.summarize(table(CPU, CPU_LEAK), CPU)
    paper_claims, _, _ = gpt2.summarize(table(PAPER, PAPER_TEST), PAPER)
    assert all("teacher_stop_at" in c.post_hoc for c in cpu_claims if c.id != "fig9.teacher")
    assert not any(c.post_hoc for c in paper_claims)


def test_reading_follows_the_verdicts():
    def read(cfg, test, **kw):
        claims, metrics, _ = gpt2.summarize(table(cfg, test, **kw), cfg)
        return gpt2.reading(claims, metrics)

    good = read(PAPER, PAPER_TEST)
    assert "far above chance" in good and "grows with ρ" in good and "matched within" in good
    bad = read(PAPER, {r: 1.0 / PAPER.c for r in PAPER_TEST}, spread=0.0)
    assert "not far enough above chance" in bad and "does not grow" in bad and "not matched" in bad
    assert "uncompared" in read(CPU, CPU_LEAK)


def test_rules_name_their_sources_and_the_deviations_table_reads_every_preset():
    for spec in [gpt2.TEACHER_SPEC, *gpt2._fig9_specs([0.2, 0.5, 0.8], CPU.c)]:
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
    assert v["fig9.values"] == "untested" and v["fig9.above_chance"] == "reproduces"
    assert v["fig9.increases"] == ("reproduces" if len(rhos) > 1 else "untested")
    test[rhos[-1]] = 0.9  # a tested part that fails fails the whole, whatever is untested
    assert verdicts(table(cfg, test), cfg)["fig9.values"] == ("fails" if 0.5 in rhos else "untested")
