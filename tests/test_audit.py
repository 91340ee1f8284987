"""softleak.audit and the release defenses: each defense on hand-worked vectors, the leakage and
membership metrics on constructed students with known answers, and the command line on small files,
including every bad-input case (each must fail before training, naming the argument)."""

import json
import math

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
# The audit and its command line
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
           "--released", str(paths["released"]), "--tau", "2", "--epochs", "5", "--inits", "2", "--quiet"]
    for k, v in extra.items():
        out += [f"--{k.replace('_', '-')}", str(v)]
    return out


def test_audit_reports_per_defense_and_says_what_it_could_not_measure():
    rng = np.random.default_rng(1)
    X, y = rng.standard_normal((30, 4)), np.arange(30) % 3
    logits = rng.standard_normal((30, 3))
    mask = np.arange(30) < 20
    spec = audit.StudentSpec(hidden=(8,), epochs=5, inits=2)
    r = audit.audit(logits, X, y, mask, tau=2.0, defenses=["none", "hard"], student=spec, progress=False)
    assert list(r.summary["defense"]) == ["none", "hard"] and len(r.runs) == 4
    assert r.settings["num_heldout"] == 10 and r.summary["trivial"].isna().all()
    assert any("chance 1/c is not assumed" in why for why in r.not_measured)
    text = r.format()
    assert "not measured" in text and "acc_heldout" in text and "auc" not in text.split("\n")[1]
    again = audit.audit(logits, X, y, mask, tau=2.0, defenses=["none", "hard"], student=spec, progress=False)
    assert again.runs.equals(r.runs)  # repeatable from its seeds
    json.dumps(r.to_dict(), allow_nan=False)


def test_command_line_runs_and_writes_its_report(tmp_path, capsys):
    _, paths = _toy_release(tmp_path)
    out = tmp_path / "report.json"
    rc = audit.main(_args(paths, fresh_inputs=paths["fresh_inputs"], fresh_labels=paths["fresh_labels"], out=out)
                    + ["--defense", "none", "--defense", "topk:2", "--hidden", "8"])
    assert rc == 0
    printed = capsys.readouterr().out
    assert "topk:2" in printed and "advantage" in printed and "TPR at 1% FPR not reported: 40 fresh records" in printed
    report = json.loads(out.read_text())
    assert [s["defense"] for s in report["summary"]] == ["none", "topk:2"]
    assert report["settings"]["num_fresh"] == 40 and len(report["runs"]) == 4


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
    ("file", "--logits"),
])
def test_command_line_rejects_bad_files_before_training(tmp_path, capsys, monkeypatch, case, match):
    files, paths = _toy_release(tmp_path)
    trained = []
    monkeypatch.setattr(audit, "train_students", lambda *a, **k: trained.append(1))
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
    args = _args(paths, **extra)
    if case == "tau":
        args[args.index("--tau") + 1] = "0"
    elif case == "defense":
        args += ["--defense", "blur:3"]
    elif case == "topk":
        args += ["--defense", "topk:9"]
    elif case == "file":
        args[args.index("--logits") + 1] = str(tmp_path / "missing.npy")
    assert audit.main(args) == 2
    assert match in capsys.readouterr().err
    assert not trained


def test_custom_student_spec_is_used():
    built = []

    def make(d, c, seeds, device):
        from softleak.models import MLPEnsemble

        built.append((d, c, len(seeds)))
        return MLPEnsemble((d, c), seeds, device=device)

    rng = np.random.default_rng(2)
    r = audit.audit(rng.standard_normal((20, 3)), rng.standard_normal((20, 5)), np.arange(20) % 3, np.arange(20) < 12,
                    tau=1.0, student=audit.StudentSpec(epochs=3, inits=2, make=make), progress=False)
    assert built == [(5, 3, 2)] and r.settings["custom_student"]


def test_the_readme_audit_command_runs_as_printed(tmp_path):
    """The README's command, on small files of the names it uses, in the folder that holds them."""
    import re
    import shlex
    import subprocess
    import sys
    from pathlib import Path

    text = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    block = next(b for b in re.findall(r"```bash\n(.*?)```", text, flags=re.S) if "softleak.audit" in b)
    args = shlex.split(block.replace("\\\n", " "))
    assert args[:3] == [".venv/bin/python", "-m", "softleak.audit"]
    files, _ = _toy_release(tmp_path, c=6)  # the README's recipes keep up to 5 entries
    rng = np.random.default_rng(5)
    for name, value in {"L": files["logits"], "X": files["inputs"], "y": files["labels"], "mask": files["released"],
                        "Xf": files["fresh_inputs"], "yf": files["fresh_labels"],
                        "Lf": rng.standard_normal((40, 6))}.items():
        np.save(tmp_path / f"{name}.npy", value)
    done = subprocess.run([sys.executable, *args[1:], "--epochs", "20", "--quiet"], cwd=tmp_path, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "noise:1+round:2" in done.stdout and (tmp_path / "report.json").exists()


def test_audit_takes_the_teacher_itself():
    from softleak.models import MLPEnsemble

    rng = np.random.default_rng(3)
    X, Xf = rng.standard_normal((24, 4)).astype(np.float32), rng.standard_normal((30, 4)).astype(np.float32)
    y, yf = np.arange(24) % 3, np.arange(30) % 3
    teacher = MLPEnsemble((4, 8, 3), [7])
    spec = audit.StudentSpec(hidden=(6,), epochs=4, inits=2)
    by_model = audit.audit(teacher, X, y, np.arange(24) < 16, tau=2.0, fresh_X=Xf, fresh_y=yf, student=spec,
                           progress=False)
    L, Lf = audit.teacher_logits(teacher, X), audit.teacher_logits(teacher, Xf)
    assert L.shape == (24, 3)
    by_logits = audit.audit(L, X, y, np.arange(24) < 16, tau=2.0, fresh_X=Xf, fresh_y=yf, fresh_logits=Lf, student=spec,
                            progress=False)
    assert by_model.runs.equals(by_logits.runs) and by_model.summary["agreement"].notna().all()
