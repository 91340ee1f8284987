"""Declared rules: verdicts from intervals, missing evidence never passes, text and verdict from one object."""

import math

import pytest

from softleak.config import parse_override
from softleak.metrics import seed_means
from softleak.rules import (
    FAILS, INCONCLUSIVE, REPRODUCES, UNTESTED, AllOf, AnyOf, AtLeast, AtMost, Below, ClaimSpec, Evidence, Within,
)
from softleak.runtime import split_seed


def verdict(rule, **ev):
    return rule.decide(ev).verdict


def test_interval_against_threshold():
    rule = AtLeast("q", 0.5, "paper", "half")
    assert verdict(rule, q=Evidence(0.7, 0.6, 0.8)) == REPRODUCES
    assert verdict(rule, q=Evidence(0.3, 0.2, 0.4)) == FAILS
    assert verdict(rule, q=Evidence(0.55, 0.45, 0.65)) == INCONCLUSIVE
    assert verdict(rule, q=Evidence(0.5, 0.5, 0.5)) == REPRODUCES  # ≥ includes the edge
    assert verdict(Below("q", 0.5, "paper", "x"), q=Evidence(0.5, 0.5, 0.5)) == FAILS  # < does not
    assert verdict(AtMost("q", 0.5, "paper", "x"), q=Evidence(0.3, 0.2, 0.4)) == REPRODUCES


def test_missing_or_nan_evidence_is_untested_never_a_pass():
    rule = AtLeast("q", 0.5, "paper", "half")
    assert verdict(rule) == UNTESTED
    assert verdict(rule, q=Evidence.none()) == UNTESTED
    assert verdict(rule, q=Evidence.samples([0.9, float("nan"), 0.8])) == UNTESTED  # NaN is not dropped
    assert verdict(AllOf(rule, AtLeast("r", 0.0, "book", "b")), q=Evidence.exact(1.0)) == UNTESTED
    spec = ClaimSpec("x", "X", "p", rule)
    claim = spec.check({})
    assert claim.holds is None and claim.verdict == UNTESTED


def test_within_and_combinations():
    w = Within.around("q", 0.5, 0.1, "paper", "± 10 points")
    assert verdict(w, q=Evidence(0.5, 0.45, 0.55)) == REPRODUCES
    assert verdict(w, q=Evidence(0.8, 0.75, 0.85)) == FAILS
    assert verdict(w, q=Evidence(0.6, 0.55, 0.65)) == INCONCLUSIVE
    a, b = AtLeast("a", 0.5, "paper", "p"), AtLeast("b", 0.5, "paper", "p")
    good, bad, mid = Evidence.exact(1.0), Evidence.exact(0.0), Evidence(0.5, 0.4, 0.6)
    assert verdict(AllOf(a, b), a=good, b=bad) == FAILS
    assert verdict(AllOf(a, b), a=good, b=mid) == INCONCLUSIVE
    assert verdict(AnyOf(a, b), a=bad, b=good) == REPRODUCES
    assert verdict(AnyOf(a, b), a=bad, b=bad) == FAILS
    assert verdict(AnyOf(a, b), a=bad, b=mid) == INCONCLUSIVE


def test_rule_text_and_verdict_come_from_one_object():
    spec = ClaimSpec("gap", "soft beats hard", "50 vs 30 %",
                     AtLeast("gap", 0.1, "paper", "half the paper's gap", label="soft − hard", unit="pct"))
    claim = spec.check({"gap": Evidence.paired([0.5, 0.6, 0.55], [0.3, 0.35, 0.3], unit="pct")})
    assert claim.rule == "soft − hard ≥ 10.0 % (paper: half the paper's gap)"
    assert claim.verdict == REPRODUCES and claim.holds is True and "3 runs" in claim.ours
    with pytest.raises(ValueError, match="kind"):
        ClaimSpec("x", "X", "p", spec.rule, kind="mine")
    with pytest.raises(ValueError, match="source"):
        AtLeast("q", 0.5, "vibes", "x")


def test_evidence_intervals():
    ev = Evidence.samples([1.0, 2.0, 3.0, 4.0])
    assert ev.value == 2.5 and ev.low == pytest.approx(2.5 - 3.182446305 * math.sqrt(5 / 3) / 2, rel=1e-6)
    one = Evidence.samples([0.7])
    assert one.low == one.high == 0.7 and one.n == 1
    p = Evidence.proportion(3, 3)
    assert p.value == 1.0 and p.high == 1.0 and 0.4 < p.low < 0.5  # Wilson: 3 of 3 does not prove "always"
    note = AtLeast("q", 3.0, "book", "x").decide({"q": ev}).note
    assert "runs would decide it" in note


def test_parse_override_reads_list_text_as_papermill_passes_it():
    assert parse_override("seeds", "[1, 2, 3]") == (1, 2, 3)
    assert parse_override("stops", ["a", ["b"]]) == ("a", ("b",))
    assert parse_override("name", "gpt2") == "gpt2"
    with pytest.raises(ValueError, match=r"seeds='\[1, 2' is not allowed"):
        parse_override("seeds", "[1, 2")


def test_split_seed_depends_on_the_value_of_rho_not_its_position():
    assert split_seed(0, 0.3) == split_seed(0, 0.30000000001) != split_seed(0, 0.5)
    assert split_seed(0, 0.3) != split_seed(1, 0.3)
    with pytest.raises(ValueError, match="rho"):
        split_seed(0, 1.0)


def test_seed_means_keep_missing_runs_missing():
    import pandas as pd

    df = pd.DataFrame({"rho": [0.1, 0.1, 0.5, 0.5], "seed": [0, 1, 0, 1], "acc": [0.2, 0.4, 0.9, float("nan")]})
    out = seed_means(df, ["rho"], ["acc"])
    assert out["acc"].iloc[0] == pytest.approx(0.3) and math.isnan(out["acc"].iloc[1])
    assert list(out["num_seeds"]) == [2, 2]


def test_seeds_needed_note_is_finite_when_the_mean_sits_on_the_threshold():
    ev = Evidence.samples([0.1, 0.3, 0.2, 0.2])  # mean 0.2 exactly
    note = AtLeast("q", 0.2 + 1e-12, "book", "x").decide({"q": ev}).note
    assert "sits on" in note and "would decide" not in note


def test_paired_series_align_by_seed_and_a_lone_seed_is_missing():
    import pandas as pd

    a, b = pd.Series([0.5, 0.6], index=[0, 1]), pd.Series([0.2, 0.4], index=[1, 0])
    assert Evidence.paired(a, b).value == pytest.approx(((0.5 - 0.4) + (0.6 - 0.2)) / 2)
    assert Evidence.paired(a, pd.Series([0.1], index=[0])).missing  # seed 1 has no partner


def test_seed_means_sem_follows_the_textbook_estimator():
    import pandas as pd

    from softleak.metrics import sem

    df = pd.DataFrame({"g": [0, 0, 0], "seed": [0, 1, 2], "acc": [0.1, 0.2, 0.6]})
    out = seed_means(df, ["g"], ["acc"], with_sem=True)
    assert out["acc_sem"].iloc[0] == pytest.approx(sem([0.1, 0.2, 0.6]))


def test_ladder_trend_reads_the_distance_to_the_paper():
    from softleak.rules import ladder_trend

    assert ladder_trend([0.0, 0.33, 1.0], 1.0) == "reaches the paper"
    assert ladder_trend([0.0, 0.33, 0.67], 1.0) == "closes toward the paper"
    assert ladder_trend([0.5, 0.51, 0.5], 1.0) == "stays"
    assert ladder_trend([0.5, 0.3, 0.1], 1.0) == "widens"
    assert ladder_trend([-0.05, -0.1], 0.05) == "widens"  # a difference moving away from a positive paper value
    assert ladder_trend([float("nan"), 0.4], 1.0) == "not measured"
    assert ladder_trend([0.2, float("nan"), 1.0], 1.0) == "not measured"  # a missing rung is not read past
