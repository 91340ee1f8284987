"""softleak.audit and the release defenses: each defense on hand-worked vectors, the per-start metrics on
constructed students with known answers, the audit on trained students (its null on worlds where the teacher
never saw the held-out labels, and on memorizing teachers), the worked example, and the command line on small
files, including every bad-input case (each must fail before training, naming the flag, with exit status 2).
The record-level statistics are tested in test_audit_stats.py."""

import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch

from softleak import audit
from softleak.distillation import (hard_labels, logit_noise, parse_defense, quantize, release, round_decimals, soft_labels,
                                   top_k)


def col(*values, dtype=torch.float64):
    """One soft label as a (c, 1) column."""
    return torch.tensor(values, dtype=dtype)[:, None]


# ---------------------------------------------------------------------------------------------
# Defenses
# ---------------------------------------------------------------------------------------------

def test_top_k_keeps_the_largest_entries_and_renormalises():
    p = col(0.1, 0.4, 0.2, 0.3)
    assert torch.allclose(top_k(p, 2), col(0.0, 4 / 7, 0.0, 3 / 7))
    assert torch.allclose(top_k(p, 1), col(0.0, 1.0, 0.0, 0.0))  # k = 1: the hard label
    assert torch.allclose(top_k(p, 4), p)  # k = c: unchanged
    with pytest.raises(ValueError, match="k=5"):
        top_k(p, 5)
    with pytest.raises(ValueError, match="k=0"):
        top_k(p, 0)


def test_rounding_and_quantisation_by_hand():
    p = col(0.123, 0.456, 0.421)
    assert torch.allclose(round_decimals(p, 1), col(0.1, 0.5, 0.4) / 1.0)  # sums to 1 already
    assert torch.allclose(round_decimals(col(0.14, 0.14, 0.72), 1), col(0.1, 0.1, 0.7) / 0.9)
    # 0 decimals: only an entry >= 0.5 survives; a vector with none is released as its argmax
    assert torch.allclose(round_decimals(col(0.3, 0.35, 0.35), 0), col(0.0, 1.0, 0.0))
    # 2 bits: levels 0, 1/3, 2/3, 1
    assert torch.allclose(quantize(col(0.1, 0.3, 0.6), 2), col(0.0, 1 / 3, 2 / 3))
    assert torch.allclose(quantize(col(0.2, 0.2, 0.6), 1), col(0.0, 0.0, 1.0))  # 1 bit: 0 or 1
    with pytest.raises(ValueError, match="bits"):
        quantize(p, 0)
    with pytest.raises(ValueError, match="decimals"):
        round_decimals(p, -1)


def test_logit_noise_is_seeded_scaled_and_zero_at_sigma_zero():
    z = torch.zeros(5, 2000, dtype=torch.float64)
    a, b = logit_noise(z, 2.0, seed=3), logit_noise(z, 2.0, seed=3)
    assert torch.equal(a, b) and not torch.equal(a, logit_noise(z, 2.0, seed=4))
    assert abs(float(a.std()) - 2.0) < 0.05 and abs(float(a.mean())) < 0.05
    assert torch.equal(logit_noise(z, 0.0, seed=1), z)
    with pytest.raises(ValueError, match="sigma"):
        logit_noise(z, -1.0, seed=0)


def test_hard_labels_and_release_recipes():
    z = torch.tensor([[2.0, -1.0], [1.0, 3.0], [0.0, 0.0]], dtype=torch.float64)  # (c=3, n=2)
    assert torch.equal(hard_labels(z), torch.tensor([[1.0, 0.0], [0.0, 1.0], [0.0, 0.0]], dtype=torch.float64))
    assert torch.allclose(release(z, 2.0, "none"), soft_labels(z, 2.0))
    assert torch.equal(release(z, 2.0, "hard"), hard_labels(z))
    assert torch.allclose(release(z, 2.0, "topk:1"), hard_labels(z))
    combo = release(z, 2.0, "topk:2+noise:0.5", seed=7)  # noise applies first, whatever the order written
    assert torch.allclose(combo, top_k(soft_labels(logit_noise(z, 0.5, 7), 2.0), 2))
    assert torch.allclose(release(z, 1.0, "round:2").sum(0), torch.ones(2, dtype=torch.float64))


@pytest.mark.parametrize("spec, match", [
    ("", "defense"), ("topk", "needs a knob"), ("topk:x", "needs a knob"), ("blur:2", "not a defense"),
    ("hard:2", "takes no knob"), ("topk:0", "out of range"), ("noise:-1", "out of range"), ("hard+topk:2", "do not combine"),
    ("topk:2+topk:3", "twice"),
])
def test_parse_defense_names_what_is_wrong(spec, match):
    with pytest.raises(ValueError, match=match):
        parse_defense(spec)


def test_release_rejects_a_bad_tau():
    with pytest.raises(ValueError, match="tau"):
        release(torch.zeros(3, 2), 0.0, "none")


# ---------------------------------------------------------------------------------------------
# Metrics with known answers
# ---------------------------------------------------------------------------------------------

def test_membership_score_is_the_log_odds_of_the_label():
    z = torch.tensor([[[2.0], [0.0], [-1.0]]], dtype=torch.float64)  # (E=1, c=3, n=1)
    p = torch.softmax(z[0, :, 0], 0)
    expected = math.log(p[0]) - math.log(p[1] + p[2])
    assert abs(float(audit.membership_scores(z, torch.tensor([0]))[0, 0]) - expected) < 1e-12
    big = torch.tensor([[[800.0], [0.0]]])  # exact where probabilities would underflow
    assert float(audit.membership_scores(big, torch.tensor([0]))[0, 0]) == pytest.approx(800.0)


def test_roc_auc_and_tpr_on_known_scores():
    assert audit.roc_auc([3, 4, 5], [0, 1, 2]) == 1.0
    assert audit.roc_auc([0, 1], [2, 3]) == 0.0
    assert audit.roc_auc([1, 1], [1, 1]) == 0.5  # ties count one half
    assert audit.roc_auc([2, 0], [1, 1]) == 0.5
    assert math.isnan(audit.roc_auc([], [1]))
    neg = np.arange(1000, dtype=float)  # 1 % FPR allows 10 of them above the threshold (989)
    assert audit.tpr_at_fpr([995, 990, 900, 989.5], neg, 0.01) == 0.75
    assert math.isnan(audit.tpr_at_fpr([1.0], np.arange(999.0), 0.01))  # 999 fresh records cannot resolve 1 %
    assert audit.resolvable(0.05, 200) and not audit.resolvable(0.05, 199)


def test_student_metrics_perfect_leak_and_no_leak():
    y_held = torch.tensor([0, 1, 2, 1])
    perfect = 10.0 * torch.nn.functional.one_hot(y_held, 3).T[None].double()  # (1, 3, 4): right on every record
    y_fresh = torch.tensor([0, 1, 2, 0, 1, 2])
    fresh = torch.zeros(1, 3, 6, dtype=torch.float64)
    fresh[0, 2] = 1.0  # always names class 2: a third of the fresh labels
    teacher_fresh = torch.zeros(3, 6, dtype=torch.float64)
    teacher_fresh[2] = 5.0
    m = audit.student_metrics(perfect, y_held, fresh_logits=fresh, fresh_y=y_fresh, teacher_fresh=teacher_fresh).iloc[0]
    assert m["acc_heldout"] == 1.0 and m["trivial"] == pytest.approx(1 / 3) and m["advantage"] == pytest.approx(1.0)
    assert m["auc"] == 1.0 and m["agreement"] == 1.0 and m["num_members"] == 4 and m["num_nonmembers"] == 6
    assert math.isnan(m["tpr@1%"])  # 6 fresh records resolve no such FPR
    none = fresh[:, :, :3].clone()  # held-out records scored exactly like fresh ones: no leak, no signal
    m0 = audit.student_metrics(none, torch.tensor([0, 1, 2]), fresh_logits=none, fresh_y=torch.tensor([0, 1, 2])).iloc[0]
    assert m0["advantage"] == 0.0 and m0["auc"] == 0.5 and math.isnan(m0["agreement"])
    m1 = audit.student_metrics(perfect, y_held).iloc[0]  # no fresh records: nothing assumed
    assert math.isnan(m1["trivial"]) and math.isnan(m1["advantage"]) and math.isnan(m1["auc"])


# ---------------------------------------------------------------------------------------------
# The audit on trained students
# ---------------------------------------------------------------------------------------------

def _toy_release(tmp_path, n=60, d=6, c=3, fresh=40):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((n, d)).astype(np.float32)
    y = np.arange(n) % c
    logits = 3.0 * np.eye(c)[y] + 0.1 * rng.standard_normal((n, c))
    mask = np.arange(n) < 40
    files = {"logits": logits, "inputs": X, "labels": y, "released": mask,
             "fresh_inputs": rng.standard_normal((fresh, d)).astype(np.float32), "fresh_labels": np.arange(fresh) % c}
    paths = {}
    for k, v in files.items():
        paths[k] = tmp_path / f"{k}.npy"
        np.save(paths[k], v)
    return files, paths


def _args(paths, **extra):
    out = ["--logits", str(paths["logits"]), "--inputs", str(paths["inputs"]), "--labels", str(paths["labels"]),
           "--released", str(paths["released"]), "--tau", "2", "--epochs", "5", "--inits", "2", "--quiet",
           "--bootstrap", "50", "--null", "19"]
    for k, v in extra.items():
        out += [f"--{k.replace('_', '-')}", str(v)]
    return out


def test_audit_reports_per_defense_and_says_what_it_could_not_measure():
    rng = np.random.default_rng(1)
    X, y = rng.standard_normal((30, 4)), np.arange(30) % 3
    logits = rng.standard_normal((30, 3))
    mask = np.arange(30) < 20
    spec = audit.StudentSpec(hidden=(8,), epochs=5, inits=2)
    r = audit.audit(logits, X, y, mask, tau=2.0, defenses=["none", "hard"], student=spec, progress=False, bootstrap=50,
                    null=19)
    assert list(r.summary["defense"]) == ["none", "hard"] and len(r.runs) == 4
    assert r.settings["num_heldout"] == 10 and "trivial" not in r.summary and r.settings["null"] == "labels"
    assert any("chance 1/c is not assumed" in why for why in r.not_measured)
    text = r.format()
    assert "not measured" in text and "held-out accuracy" in text and "membership AUC" not in text
    assert set(r.summary["verdict"]) <= {"leaks", "no evidence of leakage"}
    again = audit.audit(logits, X, y, mask, tau=2.0, defenses=["none", "hard"], student=spec, progress=False,
                        bootstrap=50, null=19)
    assert again.runs.equals(r.runs) and again.summary.equals(r.summary)  # repeatable from its seeds
    report = r.to_dict()
    json.dumps(report, allow_nan=False)
    assert [(x["defense"], x["verdict"] in ("leaks", "no evidence of leakage")) for x in report["recipes"]] == \
        [("none", True), ("hard", True)] and all(0 < x["p_value"] <= 1 for x in report["recipes"])
    nothing = audit.audit(logits, X, y, mask, tau=2.0, student=spec, progress=False, bootstrap=0, null=0)
    assert nothing.summary["verdict"].tolist() == ["not tested"] and not nothing.leaks()


def _memorizing_world(w, *, d=20, c=4, n=400, fresh=400):
    from softleak.data import gaussian_random_labels
    from softleak.models import MLPEnsemble
    from softleak.training import fit

    X, y = gaussian_random_labels(n, d, c, 100 + w)
    Xf, yf = gaussian_random_labels(fresh, d, c, 200 + w, balanced=False)
    teacher = MLPEnsemble((d, 40, c), [w])
    fit(teacher, X, y, steps=1500, lr=3e-3)
    return audit.teacher_logits(teacher, X), X.numpy(), y.numpy(), Xf.numpy(), yf.numpy()


@pytest.mark.slow
def test_the_null_holds_where_the_teacher_never_saw_the_held_out_labels_and_memorizing_teachers_leak():
    """40 worlds: a teacher memorizes random labels, a quarter of its samples is held out. Scored against the
    labels it memorized, the audit should say "leaks"; scored against labels drawn afresh for the held-out
    samples (labels the teacher never saw: a world with nothing to leak), it should say "no evidence of leakage"
    in all but the declared 5 % (at most 2 of 40). The students are trained once per world; the null world reads
    the same students' logits against the new labels."""
    from softleak.audit import stats

    leaks = alarms = 0
    for w in range(40):
        z, X, y, Xf, yf = _memorizing_world(w)
        mask = np.arange(len(y)) % 4 != 0
        r = audit.audit(z, X, y, mask, tau=4.0, fresh_X=Xf, fresh_y=yf, student=audit.StudentSpec(
            hidden=(40,), epochs=800, inits=2, seed=w), progress=False, bootstrap=0, null=199)
        leaks += bool(r.leaks())
        held = r.sets["none"].held
        unseen = np.random.default_rng(w).integers(0, 4, held.n)
        null_world = stats.Sets(stats.Records(held.logits, unseen), r.sets["none"].fresh)
        alarms += stats.analyse(null_world, replicates=0, permutations=199, seed=w).verdict == stats.LEAKS
    print(f"memorizing worlds that leak: {leaks} of 40; null worlds with an alarm: {alarms} of 40")
    assert alarms <= 2 and leaks >= 36


def test_per_record_scores_canaries_and_noise_seeded_by_recipe_and_start():
    z, X, y, Xf, yf = _memorizing_world(0, n=120, fresh=200)
    mask = np.arange(120) % 4 != 0
    canaries = np.arange(120) % 8 == 0  # half of the held-out records
    spec = audit.StudentSpec(hidden=(16,), epochs=30, inits=2)
    kw = dict(tau=4.0, fresh_X=Xf, fresh_y=yf, canaries=canaries, student=spec, progress=False, bootstrap=50, null=19)
    r = audit.audit(z, X, y, mask, defenses=["noise:1", "none"], **kw)
    rec = r.records()
    assert len(rec) == 2 * 2 * (30 + 200) and set(rec["set"]) == {"heldout", "fresh"}
    held = rec[(rec["set"] == "heldout") & (rec["defense"] == "none") & (rec["start"] == 0)]
    assert held["record"].tolist() == np.flatnonzero(~mask).tolist() and held["canary"].sum() == 15
    assert (held["label"].to_numpy() == y[~mask]).all() and (held["rank"] >= 1).all()
    assert "canary.leak" in r.summary and any("mixes" in w for w in r.warnings)
    swapped = audit.audit(z, X, y, mask, defenses=["none", "noise:1"], **kw)
    a = r.summary.set_index("defense").loc["noise:1"]
    b = swapped.summary.set_index("defense").loc["noise:1"]
    assert a.equals(b)  # the noise draw depends on the recipe's text, not its place in the list
    assert audit.noise_seed(0, "noise:1", 0) != audit.noise_seed(0, "noise:1", 1)  # each start draws its own


def test_custom_student_spec_is_used():
    built = []

    def make(d, c, seeds, device):
        from softleak.models import MLPEnsemble

        built.append((d, c, len(seeds)))
        return MLPEnsemble((d, c), seeds, device=device)

    rng = np.random.default_rng(2)
    r = audit.audit(rng.standard_normal((20, 3)), rng.standard_normal((20, 5)), np.arange(20) % 3, np.arange(20) < 12,
                    tau=1.0, student=audit.StudentSpec(epochs=3, inits=2, make=make), progress=False, bootstrap=0, null=0)
    assert built == [(5, 3, 2)] and r.settings["custom_student"]


def test_audit_takes_the_teacher_itself():
    from softleak.models import MLPEnsemble

    rng = np.random.default_rng(3)
    X, Xf = rng.standard_normal((24, 4)).astype(np.float32), rng.standard_normal((30, 4)).astype(np.float32)
    y, yf = np.arange(24) % 3, np.arange(30) % 3
    teacher = MLPEnsemble((4, 8, 3), [7])
    spec = audit.StudentSpec(hidden=(6,), epochs=4, inits=2)
    kw = dict(tau=2.0, fresh_X=Xf, fresh_y=yf, student=spec, progress=False, bootstrap=20, null=9)
    by_model = audit.audit(teacher, X, y, np.arange(24) < 16, **kw)
    L, Lf = audit.teacher_logits(teacher, X), audit.teacher_logits(teacher, Xf)
    assert L.shape == (24, 3)
    by_logits = audit.audit(L, X, y, np.arange(24) < 16, fresh_logits=Lf, **kw)
    assert by_model.runs.equals(by_logits.runs) and by_model.summary["agreement"].notna().all()


def test_the_worked_example_memorizing_and_non_memorizing_teachers_disagree(tmp_path):
    """The README's worked example: the digit teacher that memorized the canaries leaks them, the one that never
    saw them does not, and --fail-on-leak tells the two apart by the exit status."""
    from softleak.audit import example

    statuses, verdicts = {}, {}
    for memorize in (True, False):
        folder = tmp_path / ("memorizes" if memorize else "never_sees")
        paths = example.write_files(folder, memorize=memorize, seed=0)
        args = example.command(paths, epochs=400, inits=2, defenses=("none",), out=folder / "report.json")
        statuses[memorize] = audit.main([*args, "--quiet", "--fail-on-leak", "--bootstrap", "200", "--null", "199"])
        verdicts[memorize] = json.loads((folder / "report.json").read_text())["recipes"][0]["verdict"]
    assert verdicts == {True: "leaks", False: "no evidence of leakage"}
    assert statuses == {True: audit.EXIT_LEAKS, False: audit.EXIT_OK}


# ---------------------------------------------------------------------------------------------
# The command line
# ---------------------------------------------------------------------------------------------

def test_command_line_runs_and_writes_its_report(tmp_path, capsys):
    _, paths = _toy_release(tmp_path)
    out, per_record = tmp_path / "report.json", tmp_path / "records.parquet"
    rc = audit.main(_args(paths, fresh_inputs=paths["fresh_inputs"], fresh_labels=paths["fresh_labels"], out=out,
                          per_record=per_record) + ["--defense", "none", "--defense", "topk:2", "--hidden", "8"])
    assert rc == 0
    printed = capsys.readouterr().out
    assert "recipe topk:2" in printed and "leak (held-out − fresh)" in printed
    assert "TPR at 1% FPR not reported: 40 fresh records" in printed and "only 40 fresh records" in printed
    report = json.loads(out.read_text())
    assert [s["defense"] for s in report["summary"]] == ["none", "topk:2"]
    assert report["settings"]["num_fresh"] == 40 and len(report["runs"]) == 4
    assert {"verdict", "p_value", "metrics"} <= set(report["recipes"][0]) and "leak" in report["recipes"][0]["metrics"]
    import pandas as pd

    assert len(pd.read_parquet(per_record)) == 2 * 2 * (20 + 40)


def test_help_explains_the_columns_the_null_and_the_exit_statuses(capsys):
    with pytest.raises(SystemExit):
        audit.main(["--help"])
    text = capsys.readouterr().out
    for words in ("acc_heldout", "in points", "not the teacher's", "T = 1", "bootstrap", "--null-by", "exit status",
                  "TPR at 1 % FPR needs ≥ 1000"):
        assert words in text, words


@pytest.mark.parametrize("case, match", [
    ("shape", "--labels has shape"),
    ("nan", "--logits holds 1 NaN"),
    ("range", "--labels holds labels in"),
    ("empty", "--released releases no sample"),
    ("all", "--released releases all"),
    ("fresh_alone", "--fresh-inputs was given without --fresh-labels"),
    ("fresh_dim", "--fresh-inputs has shape"),
    ("tau", "--tau"),
    ("defense", "--defense"),
    ("topk", "--defense='topk:9' is not allowed: top-k keeps k=9"),
    ("twice", "--defense='none' is not allowed: the same recipe as 'none'"),
    ("twice_noise", "--defense='noise:1.0' is not allowed: the same recipe as 'noise:1'"),
    ("file", "--logits='"),
    ("csv", "is a CSV or text file: the audit reads .npy arrays"),
    ("npz", "is a .npz archive (arrays: logits), not a .npy array"),
    ("strings", "holds values of dtype <U"),
    ("objects", "holds Python objects"),
    ("cuda", "--device='cuda' is not allowed"),
    ("tpu", "--device='tpu' is not allowed"),
    ("per_record_suffix", "--per-record="),
    ("out_missing_dir", "does not exist"),
    ("canaries_none_held", "--canaries marks"),
    ("fresh_canaries_alone", "--fresh-canaries was given without --canaries"),
    ("null_by_records", "--null-by=records is not allowed without --fresh-inputs"),
])
def test_command_line_rejects_bad_input_before_training(tmp_path, capsys, monkeypatch, case, match):
    import softleak.audit.cli as cli

    files, paths = _toy_release(tmp_path)
    trained = []
    monkeypatch.setattr(cli, "audit", lambda *a, **k: trained.append(1))
    if case == "cuda" and torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    extra, args = {}, None
    if case == "shape":
        np.save(paths["labels"], files["labels"][:-1])
    elif case == "nan":
        bad = files["logits"].copy()
        bad[3, 1] = np.nan
        np.save(paths["logits"], bad)
    elif case == "range":
        np.save(paths["labels"], files["labels"] + 1)
    elif case == "empty":
        np.save(paths["released"], np.zeros(60, dtype=bool))
    elif case == "all":
        np.save(paths["released"], np.ones(60, dtype=bool))
    elif case == "fresh_alone":
        extra = {"fresh_inputs": paths["fresh_inputs"]}
    elif case == "fresh_dim":
        np.save(paths["fresh_inputs"], files["fresh_inputs"][:, :3])
        extra = {"fresh_inputs": paths["fresh_inputs"], "fresh_labels": paths["fresh_labels"]}
    elif case == "csv":
        np.savetxt(tmp_path / "logits.csv", files["logits"], delimiter=",")
        paths["logits"] = tmp_path / "logits.csv"
    elif case == "npz":
        np.savez(tmp_path / "all.npz", logits=files["logits"])
        paths["logits"] = tmp_path / "all.npz"
    elif case == "strings":
        np.save(paths["logits"], files["logits"].astype(str))
    elif case == "objects":
        np.save(paths["labels"], np.array([{"a": 1}] * 60, dtype=object), allow_pickle=True)
    elif case == "canaries_none_held":
        np.save(tmp_path / "canaries.npy", np.arange(60) < 5)  # all among the released samples
        extra = {"canaries": tmp_path / "canaries.npy"}
    elif case == "fresh_canaries_alone":
        np.save(tmp_path / "fc.npy", np.ones(40, dtype=bool))
        extra = {"fresh_inputs": paths["fresh_inputs"], "fresh_labels": paths["fresh_labels"],
                 "fresh_canaries": tmp_path / "fc.npy"}
    args = _args(paths, **extra)
    if case == "tau":
        args[args.index("--tau") + 1] = "0"
    elif case == "defense":
        args += ["--defense", "blur:3"]
    elif case == "topk":
        args += ["--defense", "topk:9"]
    elif case == "twice":
        args += ["--defense", "none", "--defense", "hard", "--defense", "none"]
    elif case == "twice_noise":
        args += ["--defense", "noise:1", "--defense", "noise:1.0"]
    elif case == "file":
        args[args.index("--logits") + 1] = str(tmp_path / "missing.npy")
    elif case in ("cuda", "tpu"):
        args += ["--device", case]
    elif case == "per_record_suffix":
        args += ["--per-record", str(tmp_path / "records.xlsx")]
    elif case == "out_missing_dir":
        args += ["--out", str(tmp_path / "no" / "such" / "report.json")]
    elif case == "null_by_records":
        args += ["--null-by", "records"]
    assert audit.main(args) == audit.EXIT_BAD_INPUT
    assert match in capsys.readouterr().err
    assert not trained


def test_an_unwritable_out_fails_within_seconds_before_training(tmp_path, capsys):
    """A report that could not be written is found before a student trains (here a budget of 10⁵ epochs), in
    well under 5 s: a folder without write permission (skipped as root, who writes anywhere) and a place no one
    can create a file in (/proc)."""
    import os
    import time

    _, paths = _toy_release(tmp_path)
    targets = [Path("/proc/softleak-audit-report.json")]
    if os.geteuid() != 0:
        locked = tmp_path / "locked"
        locked.mkdir()
        locked.chmod(0o500)
        targets.append(locked / "report.json")
    try:
        for target in targets:
            for flag in ("--out", "--per-record"):
                name = target.with_suffix(".parquet") if flag == "--per-record" else target
                started = time.perf_counter()
                rc = audit.main(_args(paths) + [flag, str(name), "--epochs", "100000"])
                elapsed = time.perf_counter() - started
                assert rc == audit.EXIT_BAD_INPUT and "cannot be written" in capsys.readouterr().err
                assert elapsed < 5, elapsed
    finally:
        for target in targets[1:]:
            target.parent.chmod(0o700)


def test_the_readme_audit_commands_run_as_printed(tmp_path):
    """The README's worked example, as printed: the example's files, then the audit with --fail-on-leak (its exit
    status 3 for the memorizing teacher), at a short student budget."""
    import re
    import shlex
    import subprocess
    import sys
    from pathlib import Path

    text = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    block = next(b for b in re.findall(r"```bash\n(.*?)```", text, flags=re.S) if "softleak.audit" in b)
    commands = [shlex.split(c) for c in block.replace("\\\n", " ").splitlines() if c.strip() and not c.startswith("#")]
    assert any(c[:3] == [".venv/bin/python", "-m", "softleak.audit.example"] for c in commands)
    statuses = []
    for args in commands:
        assert args[0] == ".venv/bin/python"
        short = ["--epochs", "400", "--inits", "2", "--bootstrap", "100", "--null", "99", "--quiet"] \
            if args[2] == "softleak.audit" else []
        done = subprocess.run([sys.executable, *args[1:], *short], cwd=tmp_path, capture_output=True, text=True,
                              timeout=300)
        statuses.append(done.returncode)
        assert done.returncode in (0, audit.EXIT_LEAKS), done.stderr[-2000:]
    # the example's two files, then the memorizing teacher's audit stopped by the gate and the other's passing
    assert statuses == [0, 0, audit.EXIT_LEAKS, 0]
