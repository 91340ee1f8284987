"""The compute plan: its counts against the trainer's own, every chapter planned at every preset (the paper's
full sizes built on the meta device), memory, the CLI and bad input."""

import subprocess
import sys

import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode

from softleak import plan
from softleak.models import MLPEnsemble, TransformerEnsemble
from softleak.presets import PRESET_NAMES, SECTIONS, resolve
from softleak.training import fit


def test_mlp_step_flops_match_the_trainer_counted():
    """One real step of ``fit`` (plus its final record) under the FLOP counter equals the plan's count."""
    sizes, E, n = (7, 11, 5), 3, 13
    X = torch.randn(E, n, sizes[0])
    y = torch.randint(0, sizes[-1], (E, n))
    with FlopCounterMode(display=False) as counted:
        fit(MLPEnsemble(sizes, range(E)), X, y, steps=1, lr=1e-3)
    cost = plan.measure(plan.Fit(lambda: MLPEnsemble(sizes, range(E), device=plan.META), (E, n, sizes[0]), 1))
    params = E * (7 * 11 + 11 + 11 * 5 + 5)
    assert cost.step_flop - plan.ADAM_FLOP_PER_PARAM * params + cost.forward_flop == counted.get_total_flops()
    # the formula: forward 2·n·Σ in·out per member; backward twice that, less the first layer's input gradient
    forward = 2 * E * n * (7 * 11 + 11 * 5)
    assert cost.forward_flop == forward
    assert cost.step_flop - plan.ADAM_FLOP_PER_PARAM * params == 3 * forward - 2 * E * n * 7 * 11


def test_transformer_meta_forward_is_the_path_training_takes():
    """On the meta device the transformer takes the fixed-query path; its FLOPs equal a real forward's."""
    kw = dict(d_model=16, num_heads=2, d_mlp=32, seeds=range(2))
    P, n = 7, 20
    tokens = torch.stack([torch.randint(0, P, (2, n)), torch.randint(0, P, (2, n)), torch.full((2, n), P)], -1)
    with FlopCounterMode(display=False) as counted, torch.no_grad():
        TransformerEnsemble(P + 1, P, 3, **kw)(tokens)
    cost = plan.measure(plan.Fit(lambda: TransformerEnsemble(P + 1, P, 3, device=plan.META, **kw), (2, n, 3), 1,
                                 dtype=torch.long))
    assert cost.forward_flop == counted.get_total_flops() > 0


def test_live_memory_counts_each_storage_until_freed():
    """A forward of a wide layer: the hidden activation and the logits, nothing counted twice (in-place ReLU,
    views); a training step holds more (saved activations and gradients)."""
    E, n, d, p, c = 4, 1000, 3, 50, 2
    cost = plan.measure(plan.Fit(lambda: MLPEnsemble((d, p, c), range(E), device=plan.META), (E, n, d), 1))
    hidden, logits = 4 * E * p * n, 4 * E * c * n
    assert cost.forward_live_bytes == hidden + logits
    assert cost.step_live_bytes > cost.forward_live_bytes
    assert cost.train_peak_bytes == 3 * cost.param_bytes + cost.input_bytes + cost.step_live_bytes


@pytest.fixture(scope="module")
def plans():
    return {(stem, preset): plan.plan_chapter(stem, preset) for stem in SECTIONS for preset in PRESET_NAMES}


def test_every_chapter_plans_at_every_preset(plans):
    """Every config of every preset validates and its models build at full size (on the meta device), with
    positive FLOPs and a peak memory per batch; the paper's sizes included."""
    for (stem, preset), p in plans.items():
        t = p.totals
        assert t["configs"] >= len(p.batches) >= 1, (stem, preset)
        assert (p.batches["flop"] > 0).all() and (p.batches["peak_bytes"] > 0).all(), (stem, preset)


def test_presets_order_by_cost(plans):
    """smoke < cpu <= paper in every chapter's FLOPs (chapter 1's cpu preset is its paper size)."""
    for stem in SECTIONS:
        flop = {pr: plans[stem, pr].totals["TFLOP"] for pr in PRESET_NAMES}
        assert flop["smoke"] < flop["cpu"] <= flop["paper"], (stem, flop)


def test_a_batch_too_large_for_the_device_is_reported():
    p = plan.plan_chapter("08_release_safely", "smoke", memory_limit=1e5)
    assert len(p.too_large()) == p.totals["too large"] > 0
    assert "WARNING" in p.summary() and "will not fit" in p.summary()
    assert "WARNING" not in plan.plan_chapter("08_release_safely", "smoke", memory_limit=1e12).summary()


def test_calibrated_time_estimate():
    rates = plan.Rates("cpu", seconds_per_op=1e-5, flop_per_second=1e10)
    assert rates.seconds(2e10, 1000) == pytest.approx(2.01)
    p = plan.plan_for("03_logistic_thresholds", resolve("03_logistic_thresholds", "smoke"), "smoke", rates=rates)
    assert p.batches["seconds"].sum() == pytest.approx(sum(rates.seconds(f, o) for f, o in zip(p.batches["flop"], p.batches["ops"])))
    assert "at least" in p.summary() and "a lower bound, not a measurement" in p.summary()
    real = plan.calibrate("cpu", budget_s=0.2)
    assert real.flop_per_second > 1e8 and 0 < real.seconds_per_op < 1e-2


def test_bad_input_fails_before_any_compute():
    with pytest.raises(ValueError, match="section='nope'"):
        plan.plan_chapter("nope", "cpu")
    with pytest.raises(ValueError, match="preset='big'"):
        plan.plan_chapter("01_toy_2d", "big")
    with pytest.raises(ValueError, match="student_steps=0"):
        plan.plan_chapter("01_toy_2d", "cpu", student_steps=0)


def test_cli_prints_every_chapter():
    out = subprocess.run([sys.executable, "-m", "softleak.book", "plan", "--preset", "smoke"],
                         capture_output=True, text=True, check=True).stdout
    for stem in SECTIONS:
        assert f"Compute plan, {stem} at smoke" in out
    assert "whole book" in out and "GPU-hours ≥" in out and "lower bound" in out


def test_readme_paper_row_is_the_plan(plans):
    """The README's planned row is the plan's, number for number: a changed preset must update it."""
    from softleak.book import toc_chapters
    from softleak.claims import repo_root

    stems = [s for s in toc_chapters(repo_root()) if s in SECTIONS]
    row = plan.readme_row([plans[s, "paper"] for s in stems])
    assert row in (repo_root() / "README.md").read_text()
