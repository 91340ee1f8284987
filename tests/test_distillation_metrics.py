import math

import pytest
import torch

from softleak.distillation import cut_tail, one_hot, remove_class_entry, shuffle_within_class, soft_labels
from softleak.metrics import accuracy, agreement, hard_cross_entropy, mean_ci, sem, soft_cross_entropy


def test_soft_labels_sum_to_one_and_reach_the_limits(f64):
    g = torch.Generator().manual_seed(0)
    # (E, c, n) logits with gaps of at least 1 between classes: unseeded randn sometimes drew a
    # near-tie, where τ = 1e-4 is not yet one-hot, and the test failed by chance
    z = torch.argsort(torch.rand(4, 5, 7, generator=g), dim=-2).to(f64) + 0.1 * torch.rand(4, 5, 7, generator=g, dtype=f64)
    for tau in (0.1, 1.0, 10.0):
        assert torch.allclose(soft_labels(z, tau).sum(dim=-2), torch.ones(4, 7, dtype=f64))
    cold = soft_labels(z, 1e-4)
    assert torch.allclose(cold, one_hot(z.argmax(dim=-2), 5, f64))
    hot = soft_labels(z, 1e6)
    assert torch.allclose(hot, torch.full_like(hot, 1 / 5), atol=1e-5)


def test_soft_labels_per_member_tau(f64):
    z = torch.randn(2, 3, 4, dtype=f64)
    tau = torch.tensor([1.0, 10.0], dtype=f64)[:, None, None]
    out = soft_labels(z, tau)
    assert torch.allclose(out[1], soft_labels(z[1], 10.0))


def test_cut_tail_smallest_on_a_hand_worked_example(f64):
    probs = torch.tensor([[0.1, 0.6, 0.05, 0.25]], dtype=f64).T  # (c=4, n=1)
    out = cut_tail(probs, 1)
    assert out[:, 0].tolist() == [0.1, 0.6, 0.0, 0.25]  # not renormalised, as the paper
    out2 = cut_tail(probs, 2, renormalize=True)
    assert torch.allclose(out2[:, 0], torch.tensor([0.0, 0.6, 0.0, 0.25], dtype=f64) / 0.85)
    assert torch.equal(cut_tail(probs, 0), probs)
    with pytest.raises(ValueError, match="k=4.*< c=4"):
        cut_tail(probs, 4)


def test_cut_tail_random_keeps_argmax_and_zeroes_k(f64):
    probs = soft_labels(torch.randn(10, 50, dtype=f64), 2.0)
    out = cut_tail(probs, 3, mode="random", seed=0)
    assert ((out == 0).sum(dim=0) == 3).all()
    assert torch.equal(out.argmax(0), probs.argmax(0))
    assert not torch.equal(out, cut_tail(probs, 3))  # not the smallest entries
    with pytest.raises(ValueError, match="seed=None"):
        cut_tail(probs, 3, mode="random")
    with pytest.raises(ValueError, match="mode='largest'"):
        cut_tail(probs, 3, mode="largest")


def test_remove_class_entry(f64):
    probs = torch.tensor([[0.2, 0.7], [0.5, 0.2], [0.3, 0.1]], dtype=f64)  # (c=3, n=2)
    y = torch.tensor([1, 0])
    out = remove_class_entry(probs, y, 0)
    assert out[:, 0].tolist() == [0.0, 0.5, 0.3]  # sample of class 1 loses entry 0
    assert out[:, 1].tolist() == [0.7, 0.2, 0.1]  # the class-0 sample keeps it


def test_shuffle_within_class_keeps_class_and_moves_targets():
    y = torch.tensor([0, 1, 0, 1, 0, 1, 0, 1] * 5)
    targets = torch.arange(40.0)
    out = shuffle_within_class(targets, y, seed=0)
    assert torch.equal(y[out.long()], y)  # every target stays within its class
    assert sorted(out.tolist()) == targets.tolist()
    assert not torch.equal(out, targets)
    assert torch.equal(out, shuffle_within_class(targets, y, seed=0))


def test_cross_entropies_match_torch(f64):
    z = torch.randn(3, 4, 6, dtype=f64)
    y = torch.randint(0, 4, (6,))
    ref = torch.stack([torch.nn.functional.cross_entropy(z[e].T, y) for e in range(3)])
    assert torch.allclose(hard_cross_entropy(z, y), ref)
    assert torch.allclose(soft_cross_entropy(z, one_hot(y, 4, f64)), ref)
    q = soft_labels(torch.randn(4, 6, dtype=f64), 3.0)
    ref_soft = torch.stack([torch.nn.functional.cross_entropy(z[e].T, q.T) for e in range(3)])
    assert torch.allclose(soft_cross_entropy(z, q), ref_soft)


def test_accuracy_agreement():
    z = torch.tensor([[[2.0, 0.0, 1.0], [1.0, 3.0, 0.0]]])  # (E=1, c=2, n=3): preds 0, 1, 0
    assert accuracy(z, torch.tensor([0, 1, 1])).item() == pytest.approx(2 / 3)
    assert agreement(z, -z).item() == 0.0


def test_sem_and_ci():
    assert sem([1.0, 3.0]) == pytest.approx(1.0)
    m, lo, hi = mean_ci([1.0, 2.0, 3.0, 4.0])
    assert m == 2.5 and lo == pytest.approx(2.5 - 3.182446305 * math.sqrt(5 / 3) / 2, rel=1e-6)  # t(0.975, 3) * sem
    assert hi - m == pytest.approx(m - lo)


def test_cross_entropies_on_sample_major_logits_equal_the_class_first_ones(f64):
    """The transformer's logits are a (E, c, n) view of (E, n, c) memory; the losses take a row-wise path
    there, which must give the class-first values and gradients (padded sets included)."""
    g = torch.Generator().manual_seed(3)
    z_rows = torch.randn(2, 6, 4, generator=g, dtype=f64, requires_grad=True)  # (E, n, c) memory
    z_view = z_rows.transpose(1, 2)  # (E, c, n), class dimension contiguous
    z_first = z_rows.detach().transpose(1, 2).contiguous().requires_grad_(True)
    q = torch.softmax(torch.randn(2, 4, 6, generator=g, dtype=f64), dim=1)
    q_view = q.transpose(1, 2).contiguous().transpose(1, 2)
    y = torch.randint(0, 4, (2, 6), generator=g)
    mask = torch.rand(2, 6, generator=g) > 0.3
    for loss, a, b in ((soft_cross_entropy, (q_view, mask), (q, mask)), (hard_cross_entropy, (y, mask), (y, mask)),
                       (soft_cross_entropy, (q,), (q,))):
        fast, ref = loss(z_view, *a), loss(z_first, *b)
        torch.testing.assert_close(fast, ref)
        g_fast, = torch.autograd.grad(fast.sum(), z_rows)
        g_ref, = torch.autograd.grad(ref.sum(), z_first)
        torch.testing.assert_close(g_fast.transpose(1, 2), g_ref)
