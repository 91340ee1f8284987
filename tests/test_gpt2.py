"""Chapter 6 (GPT-2 on random number sentences): data, the offline tokenizer, loading errors, a smoke run."""

import time

import pytest
import torch

from softleak import presets
from softleak.experiments import gpt2
from softleak.experiments.gpt2 import runs as gpt2_runs
from softleak.runtime import split_seed

pytest.importorskip("transformers")


def test_sentences_are_three_numbers_in_range_with_seeded_labels():
    texts, y = gpt2.sentences(200, 7, 1000, seed=3)
    nums = [[int(t) for t in s.split(" ")] for s in texts]
    assert all(len(row) == 3 and all(1 <= v <= 1000 for v in row) for row in nums)
    assert y.min() >= 0 and y.max() < 7
    again = gpt2.sentences(200, 7, 1000, seed=3)
    assert again[0] == texts and torch.equal(again[1], y)
    assert gpt2.sentences(200, 7, 1000, seed=4)[0] != texts


def test_offline_tokenizer_round_trips_and_left_pads_with_eos():
    texts, _ = gpt2.sentences(300, 5, 1000, seed=0)
    tok = gpt2.train_tokenizer(texts, 400)
    assert tok.pad_token == tok.eos_token == gpt2.EOS and len(tok) <= 400
    ids, mask = gpt2.encode(tok, texts[:4], 10, "cpu")
    assert ids.shape == (4, 10) and bool((mask[:, -1] == 1).all())  # left padding: the last token is real
    for row, m, text in zip(ids, mask, texts[:4]):
        assert tok.decode(row[m.bool()]) == text
        assert bool((row[~m.bool()] == tok.pad_token_id).all())


def test_a_path_that_cannot_be_loaded_fails_fast_and_names_the_parameter(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    for bad in (str(tmp_path / "missing"), str(tmp_path), "surely-not-a-model-softleak-test"):
        cfg = presets.resolve("06_gpt2", "smoke", model_name_or_path=bad)
        start = time.time()
        with pytest.raises(ValueError, match="model_name_or_path"):
            gpt2.run(cfg, progress=False, device="cpu")
        assert time.time() - start < 30


def test_bad_parameters_fail_before_any_compute():
    for kw, name in ((dict(rhos=[0.2, 1.0]), "rhos"), (dict(tau=0), "tau"), (dict(c=1), "c"),
                     (dict(vocab_size=100), "vocab_size"), (dict(n_embd=31), "n_embd")):
        with pytest.raises(ValueError, match=name):
            presets.resolve("06_gpt2", "smoke", **kw)


def test_smoke_run_trains_a_real_gpt2_classifier_and_reports_the_issue_metrics():
    cfg = presets.resolve("06_gpt2", "smoke")
    out = gpt2.run(cfg, progress=False, device="cpu")
    runs = out["runs"]
    assert len(runs) == len(cfg.rhos) * len(cfg.seeds)
    for col in ("acc_train_S", "acc_test_S", "acc_val_S", "acc_star_T"):
        assert runs[col].between(0, 1).all()
    claims, metrics, derived = gpt2.summarize(out, cfg)
    means = derived["means"]  # the seed means per ρ
    assert metrics["chance"] == pytest.approx(1 / cfg.c)
    for rho in cfg.rhos:
        assert 0 <= metrics[f"rho{rho:g}.acc_test_S"] <= 1 and 0 <= metrics[f"rho{rho:g}.acc_train_S"] <= 1
    values = next(c for c in claims if c.id == "fig9.values")
    assert values.verdict == "untested" and "offline GPT-2 config" in values.ours  # not the paper's model
    assert {c.kind for c in claims if c.id == "fig9.not_perfect"} == {"book"}
    by = {c.id: c for c in claims}
    assert by["fig9.above_chance"].verdict == "untested" and "not GPT-2" in by["fig9.above_chance"].note
    assert by["fig9.teacher"].kind == "premise"
    assert by["fig9.offline.above_chance"].verdict in ("inconclusive", "fails")  # one seed decides nothing
    assert set(means["num_seeds"]) == {len(cfg.seeds)} and "teacher.acc_star_T" in metrics


def test_each_students_split_is_split_student_at_split_seed_of_rhos_value_not_its_position(monkeypatch):
    calls = []
    real = gpt2_runs.split_student

    def spy(y, rho, seed, **kw):
        calls.append((rho, seed, len(y)))
        return real(y, rho, seed, **kw)

    monkeypatch.setattr(gpt2_runs, "split_student", spy)  # where the students are split
    short = dict(student_epochs=1, teacher_epochs=1)
    cfg = presets.resolve("06_gpt2", "smoke", rhos=[0.2, 0.5], **short)
    both = gpt2.run(cfg, progress=False, device="cpu")["runs"]
    assert calls == [(0.2, split_seed(0, 0.2), cfg.n), (0.5, split_seed(0, 0.5), cfg.n)]
    alone = gpt2.run(presets.resolve("06_gpt2", "smoke", rhos=[0.5], **short), progress=False, device="cpu")["runs"]
    row = both[both["rho"] == 0.5]
    assert int(row["seed_split"].iloc[0]) == split_seed(0, 0.5) == int(alone["seed_split"].iloc[0])
    for col in ("acc_train_S", "acc_test_S", "acc_val_S", "seed_student"):
        assert row[col].iloc[0] == alone[col].iloc[0], col  # ρ = 0.2 before it in the grid changes nothing


def test_a_run_repeats_from_its_seeds_in_this_process_or_one_worker_per_seed():
    cfg = presets.resolve("06_gpt2", "smoke", rhos=[0.5], student_epochs=3, seeds=[0, 1])
    a = gpt2.run(cfg, progress=False, device="cpu", workers=1)  # one seed after the other, here
    b = gpt2.run(cfg, progress=False, device="cpu", workers=2)  # each seed in its own worker process
    assert sorted(a["runs"]["seed"]) == [0, 1]
    for name in ("runs", "curves", "teacher_curve"):
        assert a[name].equals(b[name]), name


def test_a_local_pretrained_folder_is_loaded_with_its_tokenizer(tmp_path):
    cfg = presets.resolve("06_gpt2", "smoke")
    texts, _ = gpt2.sentences(cfg.n, cfg.c, cfg.max_number, seed=0)
    tok = gpt2.train_tokenizer(texts, cfg.vocab_size)
    gpt2.build(cfg, tok, seed=0, device="cpu").save_pretrained(tmp_path)
    tok.save_pretrained(tmp_path)
    cfg = presets.resolve("06_gpt2", "smoke", model_name_or_path=str(tmp_path), rhos=[0.5])
    out = gpt2.run(cfg, progress=False, device="cpu")
    assert len(out["runs"]) == 1 and out["runs"]["vocab"].iloc[0] == len(tok)
    claims, metrics, _ = gpt2.summarize(out, cfg)
    assert f"pretrained {tmp_path}" in metrics["model"]
