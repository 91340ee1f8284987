import math

import numpy as np
import pytest

from softleak import theory


def test_closed_forms_checked_by_hand():
    assert theory.alpha_label_teacher() == 2.0
    assert theory.alpha_id_student(0.8) == pytest.approx(1.25)
    assert np.allclose(theory.alpha_id_student(np.array([0.5, 0.25])), [2.0, 4.0])
    with pytest.raises(ValueError, match="rho=1.0"):
        theory.alpha_id_student(1.0)


def test_drop_threshold_is_the_midpoint_rule():
    alphas = [0.5, 1.0, 1.5, 2.0, 2.5]
    assert theory.drop_threshold(alphas, [1, 1, 1, 0.8, 0.6]) == pytest.approx(1.75)
    assert theory.drop_threshold(alphas[::-1], [0.6, 0.8, 1, 1, 1]) == pytest.approx(1.75)  # order-free
    assert theory.drop_threshold(alphas, [1, 1, 1, 1, 1]) == math.inf
    assert math.isnan(theory.drop_threshold(alphas, [0.5] * 5))
    assert theory.drop_threshold(alphas, [0.5, 0.995, 0.98, 0.9, 0.5]) == pytest.approx(1.25)


def test_onset_threshold():
    assert theory.onset_threshold([0.5, 1.0, 1.5], [0.6, 0.99, 1.0]) == 1.0
    assert math.isnan(theory.onset_threshold([0.5, 1.0], [0.6, 0.7]))


@pytest.mark.parametrize("train,test,mse,region", [
    (1.0, 1.0, 0.0, "green"), (1.0, 0.7, 5.0, "blue"), (0.995, 0.5, 9.0, "grey"),
    (0.9, 0.9, 0.01, "orange"), (0.9, 0.6, 40.0, "red"),
])
def test_phase_regions(train, test, mse, region):
    assert theory.phase_region(train, test, mse) == region
