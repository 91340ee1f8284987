import pytest
import torch

from softleak.data import modular_addition, one_hot_pairs


def test_modular_addition_covers_every_pair_once_with_the_right_labels():
    P = 7
    tokens, y, train, val = modular_addition(P, 0.3, seed=0)
    assert tokens.shape == (P * P, 3) and (tokens[:, 2] == P).all()
    assert ((tokens[:, 0] + tokens[:, 1]) % P == y).all()
    assert len(train) == int(0.3 * P * P) and len(train) + len(val) == P * P
    assert not set(train.tolist()) & set(val.tolist())
    again = modular_addition(P, 0.3, seed=0)[2]
    assert torch.equal(train, again) and not torch.equal(train, modular_addition(P, 0.3, seed=1)[2])
    with pytest.raises(ValueError, match="frac=1.5"):
        modular_addition(P, 1.5, seed=0)


def test_one_hot_pairs_drops_the_equals_token():
    tokens, _, _, _ = modular_addition(5, 0.5, seed=0)
    x = one_hot_pairs(tokens, 5)
    assert x.shape == (25, 10) and (x.sum(dim=1) == 2).all()
    assert (x[:, :5].argmax(dim=1) == tokens[:, 0]).all() and (x[:, 5:].argmax(dim=1) == tokens[:, 1]).all()
