"""softleak.audit.stats: the record-level statistics behind every number of an audit. Weighted metrics against
their plain definitions, the bootstrap against scipy's, the permutation p-value against scipy's permutation
test, the AUC and TPR against scikit-learn, the interval's coverage on simulated releases with a known leak,
the null's level on simulated worlds without one, and the canary metrics on a constructed case."""

import math

import numpy as np
import pytest
from scipy import stats as sps

from softleak.audit import stats
from softleak.audit.stats import Records, Sets


def one_hot_logits(pred, c, scale=5.0):
    """(E, c, n) logits whose argmax is pred (E, n)."""
    pred = np.atleast_2d(pred)
    z = np.zeros((pred.shape[0], c, pred.shape[1]))
    np.put_along_axis(z, pred[:, None, :], scale, axis=1)
    return z


def simulated(rng, m, f, p_held, p_fresh, starts=1, c=4, start_sd=0.0):
    """Records whose students name the label with probability p_held (held-out) or p_fresh (fresh), per record,
    with an optional per-start shift of those probabilities; scores follow correctness plus noise."""
    def records(n, p):
        y = rng.integers(0, c, n)
        shift = rng.normal(0, start_sd, (starts, 1))
        hit = rng.random((starts, n)) < np.clip(p + shift, 0, 1)
        pred = np.where(hit, y[None], (y[None] + rng.integers(1, c, (starts, n))) % c)
        z = one_hot_logits(pred, c, 2.0) + rng.normal(0, 1.0, (starts, c, n))
        z[np.arange(starts)[:, None], pred, np.arange(n)[None]] += 3.0  # keep the argmax where it was drawn
        return Records(z, y)
    return Sets(records(m, p_held), records(f, p_fresh))


# ---------------------------------------------------------------------------------------------
# Per-record scores and weighted metrics against their definitions
# ---------------------------------------------------------------------------------------------

def test_class_scores_rank_and_exposure_by_hand():
    z = np.array([[[3.0, 0.0], [1.0, 800.0], [0.0, 0.0]]])  # (E=1, c=3, n=2); record 2 needs no probability
    S = stats.class_scores(z)
    for k in range(3):
        want = stats.membership_scores_np(z, np.array([k, k]))
        assert np.allclose(S[:, k], want, rtol=0, atol=1e-12)
    r = Records(z, np.array([1, 0]))
    assert r.rank.tolist() == [[2, 2]] and r.correct.tolist() == [[0.0, 0.0]]
    assert r.exposure() == pytest.approx(np.log2(3) - 1)
    assert stats.label_rank(z, np.array([0, 1])).tolist() == [[1, 1]]


def test_unit_weights_give_the_plain_metrics():
    rng = np.random.default_rng(0)
    sets = simulated(rng, 80, 300, 0.6, 0.3, starts=2)
    point = sets.point()
    h, f = sets.held, sets.fresh
    assert point["acc_heldout"] == pytest.approx(h.correct.mean())
    assert point["leak"] == pytest.approx(h.correct.mean() - f.correct.mean())
    auc = np.mean([stats.roc_auc(h.score[e], f.score[e]) for e in range(2)])
    tpr = np.mean([stats.tpr_at_fpr(h.score[e], f.score[e], 0.05) for e in range(2)])
    assert point["auc"] == pytest.approx(auc, abs=1e-12) and point["tpr@5%"] == pytest.approx(tpr, abs=1e-12)
    assert "tpr@1%" not in point  # 300 fresh records do not resolve 1 %


def test_weighted_auc_and_tpr_equal_the_metrics_of_the_repeated_records():
    rng = np.random.default_rng(1)
    sp, sn = np.round(rng.normal(1, 1, 30), 1), np.round(rng.normal(0, 1, 250), 1)  # rounded: ties
    wp, wn = rng.integers(0, 3, (1, 30)).astype(float), rng.integers(0, 3, (1, 250)).astype(float)
    rp, rn = np.repeat(sp, wp[0].astype(int)), np.repeat(sn, wn[0].astype(int))
    assert stats._weighted_auc(wp, sp, wn, sn)[0] == pytest.approx(stats.roc_auc(rp, rn), abs=1e-12)
    allowed = math.floor(0.05 * 250)
    want = float((rp > np.sort(rn)[::-1][allowed]).mean())
    assert stats._weighted_tpr(wp, sp, wn, sn, 0.05)[0] == pytest.approx(want, abs=1e-12)


def test_auc_and_tpr_against_scikit_learn():
    from sklearn.metrics import roc_auc_score, roc_curve

    rng = np.random.default_rng(2)
    pos, neg = np.round(rng.normal(0.7, 1, 200), 1), np.round(rng.normal(0, 1, 2000), 1)
    labels, scores = np.r_[np.ones(200), np.zeros(2000)], np.r_[pos, neg]
    assert stats.roc_auc(pos, neg) == pytest.approx(roc_auc_score(labels, scores), abs=1e-12)
    fpr, tpr, _ = roc_curve(labels, scores, drop_intermediate=False)
    for f in (0.01, 0.05):  # the largest TPR of any threshold whose FPR is at most ⌊f·n⌋ / n
        allowed = math.floor(f * 2000) / 2000
        assert stats.tpr_at_fpr(pos, neg, f) == pytest.approx(tpr[fpr <= allowed + 1e-12].max(), abs=1e-12)


# ---------------------------------------------------------------------------------------------
# Intervals
# ---------------------------------------------------------------------------------------------

def test_bootstrap_matches_scipy_percentile_bootstrap():
    """One start: the stratified bootstrap of held-out − fresh accuracy is scipy's independent two-sample
    percentile bootstrap of the difference of means (within Monte Carlo error)."""
    rng = np.random.default_rng(3)
    sets = simulated(rng, 120, 400, 0.55, 0.3)
    ours = stats.bootstrap(sets, replicates=8000, seed=1)
    h, f = sets.held.correct[0], sets.fresh.correct[0]
    ref = sps.bootstrap((h, f), lambda a, b, axis=-1: a.mean(axis) - b.mean(axis), method="percentile",
                        n_resamples=8000, random_state=2, vectorized=True).confidence_interval
    assert ours["leak"][0] == pytest.approx(ref.low, abs=0.01) and ours["leak"][1] == pytest.approx(ref.high, abs=0.01)
    one = sps.bootstrap((h,), lambda a, axis=-1: a.mean(axis), method="percentile", n_resamples=8000,
                        random_state=3).confidence_interval
    assert ours["acc_heldout"][0] == pytest.approx(one.low, abs=0.01)
    assert ours["acc_heldout"][1] == pytest.approx(one.high, abs=0.01)


def test_bootstrap_interval_covers_a_known_leak_in_90_percent_of_releases():
    """40 simulated releases with a known leak (held-out 45 %, fresh 25 %: 20 points), 3 starts that differ a
    little: the 95 % interval of the leak covers 20 points in at least 36 of 40."""
    rng = np.random.default_rng(4)
    covered = 0
    for _ in range(40):
        sets = simulated(rng, 100, 500, 0.45, 0.25, starts=3, start_sd=0.02)
        low, high = stats.bootstrap(sets, replicates=1000, seed=int(rng.integers(1 << 30)))["leak"]
        covered += low <= 0.20 <= high
    print(f"coverage of the true leak: {covered} of 40")
    assert covered >= 36


# ---------------------------------------------------------------------------------------------
# The null and the verdict
# ---------------------------------------------------------------------------------------------

def test_p_value_matches_scipy_permutation_test():
    rng = np.random.default_rng(5)
    sets = simulated(rng, 60, 200, 0.4, 0.3)
    draws = stats.null(sets, by="records", permutations=4999, seed=0)["leak"]
    ours = stats.p_value(sets.point()["leak"], draws)
    h, f = sets.held.correct[0], sets.fresh.correct[0]
    ref = sps.permutation_test((h, f), lambda a, b, axis=-1: a.mean(axis) - b.mean(axis), permutation_type="independent",
                               alternative="greater", n_resamples=4999, random_state=1, vectorized=True).pvalue
    assert ours == pytest.approx(ref, abs=0.02)


def test_null_holds_its_level_on_worlds_without_a_leak():
    """400 simulated worlds where held-out and fresh records are alike: "leaks" in at most 5 % (+ 3 SE)."""
    rng = np.random.default_rng(6)
    alarms = 0
    for _ in range(400):
        sets = simulated(rng, 40, 150, 0.3, 0.3, starts=2)
        found = stats.analyse(sets, replicates=0, permutations=199, seed=int(rng.integers(1 << 30)))
        alarms += found.verdict == stats.LEAKS
    rate = alarms / 400
    print(f"false alarms: {alarms} of 400 ({rate:.1%})")
    assert rate <= 0.05 + 3 * math.sqrt(0.05 * 0.95 / 400)


def test_null_finds_a_real_leak_and_the_verdict_rule():
    rng = np.random.default_rng(7)
    found = stats.analyse(simulated(rng, 100, 400, 0.6, 0.25, starts=2), replicates=200, permutations=199)
    assert found.verdict == stats.LEAKS and found.p_value == pytest.approx(1 / 200)
    assert stats.verdict({"exposure_gap": 0.03}, by="records") == (stats.LEAKS, 0.03)
    assert stats.verdict({"exposure_gap": 0.03, "canary.exposure_gap": 0.5}, by="records") == (stats.NO_EVIDENCE, 0.06)  # Bonferroni
    assert stats.verdict({}, by="records")[0] == stats.NOT_TESTED
    assert stats.p_value(0.5, np.array([0.1, 0.6, 0.5])) == 0.75  # (1 + 2) / (1 + 3): ties count against a leak


def test_labels_null_is_valid_for_random_labels_and_not_for_natural_ones():
    """Students that generalise (they name the true class of 90 % of records, held-out and fresh alike) and leak
    nothing: the records null says so; the labels null raises an alarm, which is why it is not the default."""
    rng = np.random.default_rng(8)
    c = 2

    def natural(n):
        y = rng.integers(0, c, n)
        pred = np.where(rng.random(n) < 0.9, y, 1 - y)
        return Records(one_hot_logits(pred, c) + rng.normal(0, 0.1, (1, c, n)), y)

    sets = Sets(natural(100), natural(400))
    assert stats.analyse(sets, replicates=0, permutations=499, null_by="records").verdict == stats.NO_EVIDENCE
    assert stats.analyse(sets, replicates=0, permutations=499, null_by="labels").verdict == stats.LEAKS
    with pytest.raises(ValueError, match="null='records' needs fresh records"):
        stats.null(Sets(natural(10)), by="records", permutations=5)


def test_small_fresh_sets_and_high_trivial_accuracy_warn_and_hide_what_they_cannot_resolve():
    rng = np.random.default_rng(9)
    few = simulated(rng, 50, 12, 0.5, 0.3)
    found = stats.analyse(few, replicates=100, permutations=99)
    assert "auc" not in found.values and any("only 12 fresh records" in w for w in found.warnings)
    easy = simulated(rng, 50, 300, 0.97, 0.96)
    found = stats.analyse(easy, replicates=100, permutations=99)
    assert "advantage" not in found.values and "leak" in found.values
    assert any("normalized advantage" in w for w in found.warnings)


# ---------------------------------------------------------------------------------------------
# Canaries
# ---------------------------------------------------------------------------------------------

def test_canary_metrics_on_a_constructed_case_with_known_leaked_canaries():
    """20 held-out canaries of which exactly 7 are named by the student (rank 1) and the rest ranked last; 100
    fresh canaries of which 10 are named: recovered 35 % against 10 %, exposure known in closed form."""
    c = 8
    y_h, y_f = np.arange(20) % c, np.arange(100) % c
    z_h = np.tile(-np.arange(c, dtype=float)[:, None], (1, 20))  # class 0 on top, class c-1 last
    z_h = np.stack([np.roll(z_h[:, i], y_h[i] if i < 7 else y_h[i] + 1) for i in range(20)], axis=1)[None]
    z_f = np.tile(-np.arange(c, dtype=float)[:, None], (1, 100))
    z_f = np.stack([np.roll(z_f[:, i], y_f[i] if i < 10 else y_f[i] + 1) for i in range(100)], axis=1)[None]
    held = Records(z_h, y_h, canary=np.ones(20, bool))
    fresh = Records(z_f, y_f, canary=np.ones(100, bool))
    assert held.rank[0, :7].tolist() == [1] * 7 and set(held.rank[0, 7:].tolist()) == {c}
    point = Sets(held, fresh).point()
    assert point["canary.recovered_heldout"] == pytest.approx(7 / 20)
    assert point["canary.recovered_fresh"] == pytest.approx(10 / 100)
    assert point["canary.leak"] == pytest.approx(0.25)
    assert point["canary.exposure_heldout"] == pytest.approx((7 * 3 + 13 * 0) / 20)  # log2 8 − log2 1 = 3; rank 8 → 0
    assert point["canary.exposure_fresh"] == pytest.approx(10 * 3 / 100)
    found = stats.analyse(Sets(held, fresh), replicates=500, permutations=999)
    assert found.p_values["canary.leak"] < 0.01 and found.verdict == stats.LEAKS
    low, high = found.intervals["canary.leak"]
    assert low < 0.25 < high


def test_labels_null_scores_each_permutation_as_the_records_would():
    """Draw k of the labels null is the plain metric of the held-out records relabelled by permutation k."""
    rng = np.random.default_rng(10)
    sets = simulated(rng, 30, 120, 0.5, 0.25, starts=2, c=5)
    perms = stats._perm_index(np.random.default_rng(0), 3, 30)
    draws = stats._null_labels(sets.held, sets.fresh, perms)
    for k in range(3):
        relabelled = Records(sets.held.logits, sets.held.y[perms[k]])
        point = Sets(relabelled, sets.fresh).point()
        for q in ("acc_heldout", "exposure_heldout", "exposure_gap", "leak", "auc"):
            assert draws[q][k] == pytest.approx(point[q], abs=1e-12), q


def test_the_null_and_the_bootstrap_run_in_bounded_memory_with_the_same_draws(monkeypatch):
    """With the memory bound forcing many small chunks, the null gives the very same draws as in one piece, and
    the bootstrap still reads the same intervals within Monte Carlo error."""
    rng = np.random.default_rng(11)
    sets = simulated(rng, 40, 160, 0.5, 0.3, starts=2)
    sets.held.canary = np.arange(40) % 2 == 0
    whole = stats.null(sets, permutations=97, seed=3)
    whole_labels = stats.null(sets, by="labels", permutations=97, seed=3)
    big = stats.bootstrap(sets, replicates=2000, seed=5)
    monkeypatch.setattr(stats, "MEMORY_ELEMENTS", 1000)  # 5 permutations of 200 records per chunk
    chunked = stats.null(sets, permutations=97, seed=3)
    assert whole.keys() == chunked.keys() and all(np.array_equal(whole[q], chunked[q]) for q in whole)
    chunked_labels = stats.null(sets, by="labels", permutations=97, seed=3)
    assert all(np.array_equal(whole_labels[q], chunked_labels[q]) for q in whole_labels)
    small = stats.bootstrap(sets, replicates=2000, seed=5)
    for q in ("leak", "exposure_gap", "auc"):
        assert small[q][0] == pytest.approx(big[q][0], abs=0.03) and small[q][1] == pytest.approx(big[q][1], abs=0.03)


def test_pooled_p_is_the_p_value_of_the_mean_over_runs():
    """One run: the pooled p-value is that run's permutation p-value. Three runs: the mean statistic against the
    means of draw k, by hand; a mismatched shape is not a p-value."""
    draws = np.array([[0.1, 0.5, -0.2, 0.3], [0.0, 0.2, 0.4, -0.1], [0.3, -0.3, 0.1, 0.0]])
    assert stats.pooled_p([0.4], draws[:1]) == stats.p_value(0.4, draws[0]) == 0.4  # (1 + 1) / (1 + 4)
    means = draws.mean(axis=0)  # 0.1333, 0.1333, 0.1, 0.0667
    assert stats.pooled_p([0.2, 0.1, 0.05], draws) == (1 + (means >= 0.35 / 3 - 1e-12).sum()) / 5 == 0.6
    assert math.isnan(stats.pooled_p([0.2, 0.1], draws))
