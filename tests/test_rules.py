"""Declared rules: verdicts from intervals, missing evidence never passes, text and verdict from one object."""

import math

import numpy as np
import pytest

from softleak.config import parse_override
from softleak.metrics import seed_means
from softleak.rules import (
    FAILS, INCONCLUSIVE, REPRODUCES, UNTESTED, AllOf, AnyOf, AtLeast, AtMost, Below, ClaimSpec, Equivalent, Evidence,
    Within, not_converged,
)
from softleak.runtime import split_seed


def verdict(rule, **ev):
    return rule.decide(ev).verdict


def E(value, low, high, n=5):
    """Evidence over n runs (enough to decide) with a given interval."""
    return Evidence(value, low, high, n=n)


def test_interval_against_threshold():
    rule = AtLeast("q", 0.5, "paper", "half")
    assert verdict(rule, q=E(0.7, 0.6, 0.8)) == REPRODUCES
    assert verdict(rule, q=E(0.3, 0.2, 0.4)) == FAILS
    assert verdict(rule, q=E(0.55, 0.45, 0.65)) == INCONCLUSIVE
    assert verdict(rule, q=E(0.5, 0.5, 0.5)) == REPRODUCES  # ≥ includes the edge
    assert verdict(Below("q", 0.5, "paper", "x"), q=E(0.5, 0.5, 0.5)) == FAILS  # < does not
    assert verdict(AtMost("q", 0.5, "paper", "x"), q=E(0.3, 0.2, 0.4)) == REPRODUCES


def test_missing_or_nan_evidence_is_untested_never_a_pass():
    rule = AtLeast("q", 0.5, "paper", "half")
    assert verdict(rule) == UNTESTED
    assert verdict(rule, q=Evidence.none()) == UNTESTED
    assert verdict(rule, q=Evidence.samples([0.9, float("nan"), 0.8])) == UNTESTED  # NaN is not dropped
    assert verdict(AllOf(rule, AtLeast("r", 0.0, "book", "b"))) == UNTESTED  # nothing measured
    spec = ClaimSpec("x", "X", "p", rule)
    claim = spec.check({})
    assert claim.holds is None and claim.verdict == UNTESTED


def test_within_and_combinations():
    w = Within.around("q", 0.5, 0.1, "paper", "± 10 points")
    assert verdict(w, q=E(0.5, 0.45, 0.55)) == REPRODUCES
    assert verdict(w, q=E(0.8, 0.75, 0.85)) == FAILS
    assert verdict(w, q=E(0.6, 0.55, 0.65)) == INCONCLUSIVE
    a, b = AtLeast("a", 0.5, "paper", "p"), AtLeast("b", 0.5, "paper", "p")
    good, bad, mid = Evidence.exact(1.0, n=3), Evidence.exact(0.0, n=3), E(0.5, 0.4, 0.6)
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
    assert one.low == one.high == 0.7 and one.n == 1 and not one.decides
    p = Evidence.proportion(3, 3)
    assert p.value == 1.0 and p.high == 1.0 and p.low == pytest.approx(0.025 ** (1 / 3))  # Clopper–Pearson
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


# ---------------------------------------------------------------------------------------------------
# Issue 28: small samples, shares, censoring, combinations, selection, equivalence, evidence as data

def test_one_run_decides_nothing():
    rule = AtLeast("q", 0.5, "paper", "half")
    one = Evidence.samples([0.9])
    d = rule.decide({"q": one})
    assert d.verdict == INCONCLUSIVE and "1 run" in d.note and "would read 'reproduces'" in d.note
    assert verdict(rule, q=Evidence.samples([0.1])) == INCONCLUSIVE  # nor fails
    assert verdict(rule, q=Evidence.exact(0.9)) == INCONCLUSIVE  # a measured number without spread
    assert verdict(rule, q=Evidence.exact(0.9, by_nature="closed form")) == REPRODUCES  # exact by nature
    assert verdict(Within.around("q", 0.5, 0.1, "paper", "x"), q=Evidence.samples([0.5])) == INCONCLUSIVE


def test_two_equal_runs_are_not_an_exact_number():
    rule = AtLeast("q", 0.5, "paper", "half")
    two = Evidence.samples([0.9, 0.9])
    assert two.low == two.high == 0.9  # zero spread …
    assert verdict(rule, q=two) == INCONCLUSIVE  # … but two runs decide nothing
    three = Evidence.samples([0.9, 0.8, 1.0])
    assert three.low == pytest.approx(0.9 - 4.302652730 * 0.1 / math.sqrt(3), rel=1e-7)  # t(0.975, 2)
    assert verdict(rule, q=three) == REPRODUCES


def test_grid_resolution_widens_the_interval_by_half_a_step():
    ev = Evidence.samples([0.4, 0.4, 0.4], resolution=0.1)
    assert (ev.low, ev.high) == pytest.approx((0.35, 0.45))  # three seeds on one grid point: ± half a step
    assert verdict(AtMost("q", 0.38, "paper", "x"), q=ev) == INCONCLUSIVE
    assert verdict(AtMost("q", 0.46, "paper", "x"), q=ev) == REPRODUCES
    assert "grid step 0.1" in str(ev)


@pytest.mark.parametrize("k, n, low, high, every", [
    (2, 3, 0.094299, 0.991596, INCONCLUSIVE),  # 2 of 3: the t-interval over 0/1 was [-0.77, 2.10]
    (3, 3, 0.025 ** (1 / 3), 1.0, INCONCLUSIVE),      # 3 of 3 does not show "every run" at a 50 % level
    (6, 6, 0.025 ** (1 / 6), 1.0, REPRODUCES),  # k = n: (α/2)^(1/n),
    (0, 4, 0.0, 1 - 0.025 ** (1 / 4), INCONCLUSIVE),
    (0, 8, 0.0, 1 - 0.025 ** (1 / 8), FAILS),
])
def test_shares_of_runs_are_clopper_pearson(k, n, low, high, every):
    ev = Evidence.share(k, n)
    assert ev.method == "clopper-pearson" and ev.value == k / n
    assert (ev.low, ev.high) == pytest.approx((low, high), abs=1e-6)
    rule = AtLeast("q", 0.5, "book", "most runs with 95 % confidence")
    assert verdict(rule, q=ev) == every
    assert Evidence.share_of([1, 0, 1]) == Evidence.share(2, 3)
    with pytest.raises(ValueError, match="k=4, n=3"):
        Evidence.share(4, 3)


def test_a_threshold_never_reached_is_censored_evidence_that_decides():
    # smallest α at which a student generalizes, on a grid ending at 2.0; two of three runs never do
    ev = Evidence.samples([1.5, math.inf, math.inf], grid_end=2.0, resolution=0.25)
    assert not ev.missing and ev.censored == 2 and ev.high == math.inf
    assert ev.value == pytest.approx(11 / 6) and str(ev).startswith("≥ ")
    assert verdict(AtMost("q", 0.5, "paper", "the paper's α ≈ 0.5"), q=ev) == FAILS  # the failure decides
    assert verdict(AtLeast("q", 0.5, "paper", "x"), q=ev) == REPRODUCES
    assert verdict(AtMost("q", 1.9, "paper", "x"), q=ev) == INCONCLUSIVE
    assert Evidence.samples([1.0, math.nan, 1.0]).missing  # NaN stays a missing run
    with pytest.raises(ValueError, match="grid_end"):
        Evidence.samples([1.0, math.inf, 1.0])


def test_allof_with_one_failing_part_fails_and_with_one_missing_part_is_inconclusive():
    a, b = AtLeast("a", 0.5, "paper", "p"), AtLeast("b", 0.5, "paper", "p")
    good, bad = Evidence.samples([0.9, 0.95, 1.0]), Evidence.samples([0.1, 0.15, 0.2])
    assert verdict(AllOf(a, b), a=bad) == FAILS  # a failing part fails it, b unmeasured or not
    assert verdict(AllOf(a, b), a=good) == INCONCLUSIVE  # not untested: part of it was measured
    assert verdict(AllOf(a, b), a=good, b=Evidence.none()) == INCONCLUSIVE
    assert verdict(AllOf(a, b)) == UNTESTED
    assert verdict(AnyOf(a, b), a=bad) == INCONCLUSIVE  # b could still hold
    assert verdict(AnyOf(a, b), a=bad, b=bad) == FAILS
    assert verdict(AnyOf(a, b), a=good) == REPRODUCES


def test_best_of_grid_on_null_data_reproduces_no_more_than_its_error_rate():
    """A claim "some cell beats chance" read off the best of 48 cells of pure noise (3 seeds each): with
    Bonferroni over the cells it reproduces in at most ~5 % of null worlds; without, in several times that."""
    import numpy as np

    rng = np.random.default_rng(0)
    rule = AtLeast("q", 0.0, "chance", "above chance")
    cells, worlds = 48, 400
    naive = corrected = 0
    for _ in range(worlds):
        runs = rng.normal(0.0, 0.05, size=(cells, 3))
        best = runs[np.argmax(runs.mean(axis=1))]
        naive += verdict(rule, q=Evidence.samples(best)) == REPRODUCES
        corrected += verdict(rule, q=Evidence.samples(best, looks=cells)) == REPRODUCES
    assert naive / worlds > 0.15  # the uncorrected best cell "beats chance" in about a quarter of them
    assert corrected / worlds <= 0.05 + 3 * math.sqrt(0.05 * 0.95 / worlds)
    assert "Bonferroni over 48 cells" in str(Evidence.samples([0.1, 0.2, 0.3], looks=48))


def test_equivalence_is_shown_not_assumed():
    rule = Equivalent.margin("d", 0.0, 0.05, "book", "5 points")
    assert verdict(rule, d=Evidence.samples([0.01, -0.01, 0.0, 0.02, -0.02])) == REPRODUCES  # inside ± 5 points
    noisy = Evidence.samples([0.2, -0.2, 0.1])  # does not reject 0, but shows nothing: not a pass
    assert noisy.low < 0 < noisy.high and verdict(rule, d=noisy) == INCONCLUSIVE
    assert verdict(rule, d=Evidence.samples([0.3, 0.31, 0.29])) == FAILS
    assert "two one-sided tests" in rule.text()
    with pytest.raises(ValueError, match="margin"):
        Equivalent.margin("d", 0.0, 0.0, "book", "x")


def test_claims_carry_their_evidence_as_data_and_premises_are_a_kind():
    spec = ClaimSpec("x", "X", "p", AllOf(AtLeast("a", 0.5, "paper", "p"), AtLeast("b", 0.5, "paper", "p")),
                     kind="premise")
    claim = spec.check({"a": Evidence.share(5, 6), "b": Evidence.samples([0.6, 0.7, 0.8], resolution=0.1)})
    names = [e["name"] for e in claim.evidence]
    assert names == ["a", "b"] and claim.kind == "premise"
    a, b = claim.evidence
    assert a["method"] == "clopper-pearson" and a["n"] == 6 and a["low"] == pytest.approx(0.358765, abs=1e-6)
    assert b["method"] == "t" and b["resolution"] == 0.1 and b["of"] == "runs"
    assert claim.verdict == INCONCLUSIVE  # 5 of 6: the share's lower end is below one half
    missing = ClaimSpec("y", "Y", "p", AtLeast("c", 0.5, "paper", "p")).check({})
    assert missing.evidence[0]["name"] == "c" and missing.evidence[0]["n"] == 0


def test_an_unconverged_run_makes_a_verdict_inconclusive():
    spec = ClaimSpec("x", "X", "p", AtLeast("a", 0.5, "paper", "p"))
    claim = spec.check({"a": Evidence.samples([0.9, 0.95, 1.0])})
    gated = not_converged(claim, ["seed 1: still improving at the cap"])
    assert gated.verdict == INCONCLUSIVE and gated.holds is None and "not converged" in gated.note
    assert not_converged(claim, []) == claim


def test_a_best_cell_whose_runs_all_agree_decides_nothing():
    """Three seeds of the best of 192 cells all at 100 %: zero spread, so Bonferroni has nothing to widen."""
    rule = AtLeast("q", 0.99, "paper", "x")
    best = Evidence.samples([1.0, 1.0, 1.0], looks=192)
    d = rule.decide({"q": best})
    assert (best.low, best.high) == (1.0, 1.0) and d.verdict == INCONCLUSIVE and "best of 192 cells" in d.note
    assert verdict(rule, q=Evidence.samples([1.0, 1.0, 1.0])) == REPRODUCES  # not selected: three agreeing runs
    assert verdict(rule, q=Evidence.samples([0.5, 0.5, 0.5], looks=192)) == FAILS  # even the best cell misses


def test_censored_below_and_resolution_only_on_the_readings():
    ev = Evidence.samples([-math.inf, 0.5, 0.7], grid_end=0.1, resolution=0.2)
    assert ev.low == -math.inf and ev.censored == 1 and str(ev).startswith("≤ ")
    t = 4.302652730 * float(np.std([0.1, 0.5, 0.7], ddof=1)) / math.sqrt(3)
    assert ev.high == pytest.approx(np.mean([0.1, 0.5, 0.7]) + t + 0.1 * 2 / 3)  # half a step × 2 readings of 3
    assert verdict(AtLeast("q", 0.05, "paper", "x"), q=ev) == INCONCLUSIVE  # open below: cannot clear it
    assert verdict(AtLeast("q", 2.0, "paper", "x"), q=ev) == FAILS


def test_bonferroni_on_a_share_and_per_teacher_keeps_missing_students_missing():
    import pandas as pd

    from softleak.rules import per_teacher

    assert Evidence.share(6, 6, looks=10).low == pytest.approx((0.005 / 2) ** (1 / 6))  # level 1 − 0.05 / 10
    df = pd.DataFrame({"seed": [0, 0, 1, 1, 2, 2], "acc": [0.9, float("nan"), 0.8, 0.8, 0.7, 0.9]})
    assert per_teacher(df, "acc").missing  # teacher 0 lost a student: not averaged over the other
    assert per_teacher(df.fillna(0.9), "acc").value == pytest.approx(0.8333333333)


def test_beyond_null_reproduces_on_a_small_p_and_never_fails():
    from softleak.rules import BeyondNull

    rule = BeyondNull("p", "held-out and fresh records permuted", label="the null")
    assert "p ≤ 0.05" in rule.text()
    assert rule.decide({"p": Evidence.permutation(0.005, n=3, of="teachers")}).verdict == "reproduces"
    above = rule.decide({"p": Evidence.permutation(0.4, n=3, of="teachers")})
    assert above.verdict == "inconclusive" and "does not show that nothing leaks" in above.note
    assert rule.decide({"p": Evidence.permutation(0.005, n=2, of="teachers")}).verdict == "inconclusive"  # 2 runs
    assert rule.decide({}).verdict == "untested"
    assert str(Evidence.permutation(0.005, n=3, of="teachers", detail="x")) == "p = 0.005 (3 teachers, x)"
