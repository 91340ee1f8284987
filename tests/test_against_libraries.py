"""What the package computes by hand that a library also computes, checked against that library.

Losses and metrics against scikit-learn / SciPy (float64), intervals against scipy.stats, splits and
data against NumPy / scikit-learn. The trainer itself is checked against torch.optim in
test_fit_vs_torch_optim.py.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy import special, stats
from sklearn.metrics import accuracy_score, log_loss, roc_auc_score, roc_curve
from sklearn.metrics.pairwise import cosine_similarity
from sklearn.model_selection import train_test_split
from sklearn.neighbors import NearestNeighbors
from sklearn.preprocessing import StandardScaler

from softleak import audit
from softleak.data import modular_addition, one_hot_pairs, split_student, standardize
from softleak.distillation import cosine_similarities, soft_labels
from softleak.metrics import (accuracy, cross_entropy_logit_grad, hard_cross_entropy, mean_ci, nearest_neighbour_labels,
                              sem, soft_cross_entropy)
from softleak.training import min_norm_lstsq

F64 = torch.float64


def _batch(seed: int, E: int = 3, c: int = 4, n: int = 30):
    gen = torch.Generator().manual_seed(seed)
    z = torch.randn(E, c, n, generator=gen, dtype=F64) * 2
    y = torch.randint(0, c, (E, n), generator=gen)
    mask = torch.rand(E, n, generator=gen) < 0.7
    mask[:, 0] = True
    return z, y, mask


@pytest.mark.parametrize("masked", [False, True])
def test_accuracy_is_sklearns_with_the_mask_as_sample_weight(masked):
    z, y, mask = _batch(0)
    got = accuracy(z, y, mask if masked else None)
    for e in range(z.shape[0]):
        w = mask[e].numpy() if masked else None
        assert got[e].item() == pytest.approx(accuracy_score(y[e], z[e].argmax(0), sample_weight=w), abs=1e-15)


@pytest.mark.parametrize("sample_major", [False, True])
def test_hard_cross_entropy_is_sklearns_log_loss(sample_major):
    z, y, mask = _batch(1)
    if sample_major:  # the transformer's layout: (E, c, n) view of (E, n, c) memory
        z = z.transpose(1, 2).contiguous().transpose(1, 2)
    got = hard_cross_entropy(z, y, mask)
    for e in range(z.shape[0]):
        p = special.softmax(z[e].T.numpy(), axis=1)
        want = log_loss(y[e].numpy(), p, sample_weight=mask[e].numpy(), labels=range(z.shape[1]))
        assert got[e].item() == pytest.approx(want, rel=1e-12)


@pytest.mark.parametrize("sample_major", [False, True])
def test_soft_cross_entropy_is_scipys_log_softmax(sample_major):
    z, _, mask = _batch(2)
    q = soft_labels(torch.randn_like(z) * 3, 1.5)
    if sample_major:
        z = z.transpose(1, 2).contiguous().transpose(1, 2)
    got = soft_cross_entropy(z, q, mask)
    for e in range(z.shape[0]):
        per = -(q[e].numpy() * special.log_softmax(z[e].numpy(), axis=0)).sum(0)
        assert got[e].item() == pytest.approx(np.average(per, weights=mask[e].numpy()), rel=1e-12)


def test_soft_labels_are_scipys_softmax():
    z, _, _ = _batch(3)
    for tau in (0.1, 1.0, 10.0):
        np.testing.assert_allclose(soft_labels(z, tau).numpy(), special.softmax(z.numpy() / tau, axis=-2), rtol=1e-12)


def test_sem_and_t_interval_are_scipys():
    v = np.array([0.3, 0.55, 0.41, 0.62, 0.48])
    assert sem(v) == pytest.approx(stats.sem(v), rel=1e-12)
    m, lo, hi = mean_ci(v, 0.95)
    want = stats.t.interval(0.95, df=v.size - 1, loc=v.mean(), scale=stats.sem(v))
    assert (lo, hi) == pytest.approx(want, rel=1e-12) and m == pytest.approx(v.mean())


def test_roc_auc_is_sklearns_with_ties():
    gen = np.random.default_rng(0)
    pos, neg = gen.integers(0, 6, 40).astype(float), gen.integers(0, 5, 55).astype(float)  # many ties
    want = roc_auc_score(np.r_[np.ones(pos.size), np.zeros(neg.size)], np.r_[pos, neg])
    assert audit.roc_auc(pos, neg) == pytest.approx(want, rel=1e-12)


@pytest.mark.parametrize("fpr", [0.01, 0.05, 0.2])
def test_tpr_at_fpr_is_the_best_point_of_sklearns_roc_curve_within_that_fpr(fpr):
    gen = np.random.default_rng(1)
    pos, neg = gen.normal(1.0, 1.0, 300), gen.normal(0.0, 1.0, 3000)  # continuous: no ties; resolves 1 %
    f, t, _ = roc_curve(np.r_[np.ones(pos.size), np.zeros(neg.size)], np.r_[pos, neg], drop_intermediate=False)
    allowed = np.floor(fpr * neg.size + 1e-9) / neg.size
    assert audit.tpr_at_fpr(pos, neg, fpr) == pytest.approx(t[f <= allowed + 1e-12].max(), abs=1e-12)


def test_membership_score_is_the_logit_of_the_true_class_probability():
    z, y, _ = _batch(4)
    got = audit.membership_scores(z, y)
    p = special.softmax(z.numpy(), axis=1)
    p_y = np.take_along_axis(p, y.numpy()[:, None, :], axis=1)[:, 0]
    np.testing.assert_allclose(got.numpy(), special.logit(p_y), rtol=1e-9, atol=1e-12)


def test_cosine_similarities_and_nearest_neighbours_are_sklearns():
    gen = torch.Generator().manual_seed(5)
    train, query = torch.randn(2, 4, 25, generator=gen, dtype=F64), torch.randn(2, 4, 10, generator=gen, dtype=F64)
    train_y = torch.randint(0, 3, (2, 25), generator=gen)
    labels = nearest_neighbour_labels(train, train_y, query)
    for e in range(2):
        np.testing.assert_allclose(cosine_similarities(train)[e].numpy(), cosine_similarity(train[e].T.numpy()),
                                   rtol=1e-12, atol=1e-12)
        nn = NearestNeighbors(n_neighbors=1, metric="cosine").fit(train[e].T.numpy())
        idx = nn.kneighbors(query[e].T.numpy(), return_distance=False)[:, 0]
        np.testing.assert_array_equal(labels[e].numpy(), train_y[e].numpy()[idx])


@pytest.mark.parametrize("m,d", [(8, 20), (30, 10)])
def test_min_norm_lstsq_is_numpys_lstsq(m, d):
    gen = np.random.default_rng(6)
    X, z = gen.normal(size=(m, d)), gen.normal(size=m)
    want = np.linalg.lstsq(X, z, rcond=None)[0]  # minimum-norm for m < d, least squares for m > d
    np.testing.assert_allclose(min_norm_lstsq(torch.tensor(X), torch.tensor(z)).numpy(), want, rtol=1e-9, atol=1e-10)


@pytest.mark.parametrize("rho", [0.05, 0.3, 0.77])
def test_global_student_split_has_sklearns_sizes_and_covers_the_set(rho):
    n = 137
    train, test = split_student(torch.zeros(n, dtype=torch.long), rho, 3)
    sk_train, sk_test = train_test_split(np.arange(n), train_size=rho, random_state=0)
    assert (len(train), len(test)) == (len(sk_train), len(sk_test))
    assert sorted(torch.cat([train, test]).tolist()) == list(range(n))


def test_standardize_is_sklearns_standard_scaler():
    X = torch.randn(50, 6, generator=torch.Generator().manual_seed(7), dtype=F64) * 3 + 1
    np.testing.assert_allclose(standardize(X).numpy(), StandardScaler().fit_transform(X.numpy()), rtol=1e-12, atol=1e-12)


def test_modular_addition_labels_and_one_hot_inputs_against_numpy():
    P = 11
    tokens, y, train, val = modular_addition(P, 0.3, 0)
    np.testing.assert_array_equal(y.numpy().reshape(P, P), np.add.outer(np.arange(P), np.arange(P)) % P)
    assert len(train) == int(0.3 * P * P) and sorted(torch.cat([train, val]).tolist()) == list(range(P * P))
    onehot = one_hot_pairs(tokens, P).numpy()
    eye = np.eye(P)
    np.testing.assert_array_equal(onehot, np.concatenate([eye[tokens[:, 0]], eye[tokens[:, 1]]], axis=1))


def test_evidence_intervals_are_scipys():
    from softleak.rules import Evidence

    v = [0.31, 0.42, 0.38, 0.5]
    ev = Evidence.samples(v)
    assert (ev.low, ev.high) == pytest.approx(stats.t.interval(0.95, df=3, loc=np.mean(v), scale=stats.sem(v)), rel=1e-12)
    ev = Evidence.samples(v, looks=12)  # Bonferroni over 12 cells: a 1 − 0.05 / 12 interval
    assert (ev.low, ev.high) == pytest.approx(stats.t.interval(1 - 0.05 / 12, df=3, loc=np.mean(v), scale=stats.sem(v)),
                                              rel=1e-12)
    for k, n in ((0, 5), (2, 3), (7, 7), (13, 40)):
        # Clopper–Pearson from its definition by beta quantiles (an independent path from binomtest's)
        low = stats.beta.ppf(0.025, k, n - k + 1) if k > 0 else 0.0
        high = stats.beta.ppf(0.975, k + 1, n - k) if k < n else 1.0
        ev = Evidence.share(k, n)
        assert (ev.low, ev.high) == pytest.approx((low, high), abs=1e-10)


@pytest.mark.parametrize("kind", ["hard", "hard_shared", "soft", "soft_shared", "soft_unnormalised"])
@pytest.mark.parametrize("masked", [False, True])
def test_cross_entropy_logit_grad_is_autograds(kind, masked):
    """The closed-form gradient the trainer uses for linear models, against torch.autograd through the losses
    (which the tests above check against scikit-learn and SciPy)."""
    z, y, mask = _batch(11)
    E, c, n = z.shape
    gen = torch.Generator().manual_seed(12)
    targets = {"hard": y, "hard_shared": y[0],
               "soft": soft_labels(torch.randn(E, c, n, generator=gen, dtype=F64), 2.0),
               "soft_shared": soft_labels(torch.randn(c, n, generator=gen, dtype=F64), 2.0),
               "soft_unnormalised": torch.rand(E, c, n, generator=gen, dtype=F64)}[kind]
    m = mask if masked else None
    z = z.requires_grad_(True)
    loss = (soft_cross_entropy if targets.is_floating_point() else hard_cross_entropy)(z, targets, m).sum()
    (want,) = torch.autograd.grad(loss, z)
    torch.testing.assert_close(cross_entropy_logit_grad(z.detach(), targets, m), want, rtol=1e-12, atol=1e-14)
