import numpy as np
import pytest
import random
import torch

from softleak import presets
from softleak.config import check_fraction, check_positive, check_positive_int
from softleak.data import gaussian_random_labels, split_student, toy_2d
from softleak.distillation import soft_labels
from softleak.runtime import ROLES, derive_seed


def test_derive_seed_is_deterministic_and_role_specific():
    assert derive_seed(3, "data") == derive_seed(3, "data")
    seeds = {derive_seed(3, role) for role in ROLES}
    assert len(seeds) == len(ROLES)
    assert derive_seed(3, "student_init", 0) != derive_seed(3, "student_init", 1)
    assert derive_seed(3, "data") != derive_seed(4, "data")
    assert 0 <= derive_seed(2**40, "split") < 2**63


def test_derive_seed_rejects_unknown_role():
    with pytest.raises(ValueError, match="role='teacher'.*allowed"):
        derive_seed(0, "teacher")


@pytest.mark.parametrize("rho", [0.0, 1.0, -0.2, 1.5])
def test_rho_outside_unit_interval_names_parameter(rho):
    with pytest.raises(ValueError, match=rf"rho={rho}.*open interval \(0, 1\)"):
        check_fraction("rho", rho)
    y = torch.zeros(10, dtype=torch.long)
    with pytest.raises(ValueError, match="rho="):
        split_student(y, rho, seed=0)


@pytest.mark.parametrize("tau", [0.0, -1.0, float("inf"), float("nan")])
def test_tau_must_be_positive(tau):
    with pytest.raises(ValueError, match=r"tau=.*> 0"):
        check_positive("tau", tau)
    with pytest.raises(ValueError, match="tau="):
        soft_labels(torch.zeros(3, 4), tau)


@pytest.mark.parametrize("n", [0, -5, 2.5, True])
def test_sizes_must_be_positive_integers(n):
    with pytest.raises(ValueError, match=r"n=.*integer >= 1"):
        check_positive_int("n", n)
    with pytest.raises(ValueError, match="n="):
        toy_2d(n, 3, seed=0)


def test_unknown_preset_and_override_fail_before_compute():
    with pytest.raises(ValueError, match="preset='gpu'.*'smoke', 'cpu', 'paper'"):
        presets.resolve("01_toy_2d", "gpu")
    with pytest.raises(ValueError, match="section='99_nothing'"):
        presets.resolve("99_nothing", "cpu")
    with pytest.raises(ValueError, match="colour=.*not a parameter.*allowed"):
        presets.resolve("01_toy_2d", "cpu", colour="red")
    with pytest.raises(ValueError, match="rho=1.2"):
        presets.resolve("01_toy_2d", "cpu", rho=1.2)
    with pytest.raises(ValueError, match="student_steps=0"):
        presets.resolve("01_toy_2d", "smoke", student_steps=0)


def test_none_overrides_keep_the_preset():
    assert presets.resolve("01_toy_2d", "cpu", seeds=None) == presets.resolve("01_toy_2d", "cpu")
    cfg = presets.resolve("01_toy_2d", "cpu", student_steps=10, seeds=[1, 2])
    assert all(case.student_steps == 10 for case in cfg.cases) and cfg.seeds == (1, 2)


def test_balanced_labels_need_a_multiple_of_c():
    with pytest.raises(ValueError, match="n=10.*multiple of c=3"):
        gaussian_random_labels(10, 4, 3, seed=0)
    _, y = gaussian_random_labels(12, 4, 3, seed=0)
    assert torch.bincount(y).tolist() == [4, 4, 4]


def test_same_seed_same_data_other_seed_different():
    a, b, c = toy_2d(60, 3, 1), toy_2d(60, 3, 1), toy_2d(60, 3, 2)
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])
    assert not torch.equal(a[0], c[0])
    assert a[0].min() >= -1 and a[0].max() <= 1 and a[0].shape == (60, 2)


def test_package_never_touches_global_rng_state():
    def draw():
        X, y = gaussian_random_labels(30, 5, 3, seed=7)
        tr, te = split_student(y, 0.6, seed=8, stratify=True)
        return X, tr

    torch.manual_seed(0); np.random.seed(0); random.seed(0)
    X1, tr1 = draw()
    state = torch.get_rng_state()
    torch.manual_seed(123); np.random.seed(123); random.seed(123)
    X2, tr2 = draw()
    assert torch.equal(X1, X2) and torch.equal(tr1, tr2)
    torch.manual_seed(0)
    draw()
    assert torch.equal(torch.get_rng_state(), state)  # drawing consumed nothing global


@pytest.mark.parametrize("stratify", [False, True])
def test_split_sizes_and_disjointness(stratify):
    _, y = gaussian_random_labels(100, 3, 4, seed=1)
    tr, te = split_student(y, 0.6, seed=2, stratify=stratify)
    assert len(tr) == 60 and len(te) == 40
    assert set(tr.tolist()).isdisjoint(te.tolist())
    assert sorted(tr.tolist() + te.tolist()) == list(range(100))
    if stratify:
        assert torch.bincount(y[tr]).tolist() == [15, 15, 15, 15]
    tr2, _ = split_student(y, 0.6, seed=3, stratify=stratify)
    assert not torch.equal(tr, tr2)


def test_split_that_leaves_a_set_empty_is_rejected():
    with pytest.raises(ValueError, match="rho=0.05 is not allowed for n=10"):
        split_student(torch.zeros(10, dtype=torch.long), 0.05, seed=0)


def test_replace_checked_sets_a_part_of_a_config_by_its_flat_name_and_names_what_is_wrong():
    import dataclasses

    import pytest

    from softleak.config import check_positive, flat_names, replace_checked

    @dataclasses.dataclass(frozen=True)
    class Part:
        lr: float = 1e-3
        steps: int = 10

        def __post_init__(self):
            check_positive("lr", self.lr)

    @dataclasses.dataclass(frozen=True)
    class Whole:
        d: int = 3
        teacher: Part = Part()
        student: Part = Part(lr=1e-2)

    w = replace_checked(Whole(), d=5, teacher_lr=0.5, student_steps=7)
    assert w == Whole(d=5, teacher=Part(lr=0.5), student=Part(lr=1e-2, steps=7))
    # a whole part, then a flat name changes that part
    assert replace_checked(Whole(), teacher=Part(steps=2), teacher_lr=0.25).teacher == Part(lr=0.25, steps=2)
    assert flat_names(Whole()) == ["d", "teacher", "teacher_lr", "teacher_steps", "student", "student_lr",
                                   "student_steps"]
    with pytest.raises(ValueError, match=r"teacher_lr=-1.0 is not allowed"):
        replace_checked(Whole(), teacher_lr=-1.0)
    with pytest.raises(ValueError, match=r"teacher_rate=1 is not a parameter of Whole; allowed: d, teacher, teacher_lr"):
        replace_checked(Whole(), teacher_rate=1)
