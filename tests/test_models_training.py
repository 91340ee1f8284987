"""The ensemble trainer is E independent solo runs: checked against plain nn.Module + torch.optim."""

import pytest
import torch
from torch import nn

from softleak.distillation import soft_labels
from softleak.metrics import soft_cross_entropy
from softleak.models import LinearEnsemble, MLPEnsemble
from softleak.training import fit, forward_in_slices

SEEDS = [3, 7, 11]


def solo_net(sizes, seed, bias=True):
    """What a user would write: nn.Linear layers built after torch.manual_seed(seed)."""
    torch.manual_seed(seed)
    layers = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(a, b, bias=bias))
        if i < len(sizes) - 2:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers).double()


def solo_train(net, X, target, steps, lr, opt_cls=torch.optim.Adam, **kw):
    opt = opt_cls(net.parameters(), lr=lr, **kw)
    for _ in range(steps):
        opt.zero_grad()
        nn.functional.cross_entropy(net(X), target).backward()
        opt.step()
    return net


def linears(net):
    return [m for m in net if isinstance(m, nn.Linear)]


@pytest.mark.parametrize("sizes,bias", [((5, 3), False), ((5, 8, 3), True), ((5, 8, 6, 3), True)])
def test_member_init_equals_nn_linear_under_the_same_seed(sizes, bias):
    ens = MLPEnsemble(sizes, SEEDS, bias=bias, dtype=torch.float64, device="cpu")
    for e, seed in enumerate(SEEDS):
        for layer, lin in enumerate(linears(solo_net(sizes, seed, bias))):
            assert torch.equal(ens.weights[layer][e], lin.weight)
            if bias:
                assert torch.equal(ens.biases[layer][e, :, 0], lin.bias)


@pytest.mark.parametrize("sizes,bias", [((5, 3), False), ((5, 8, 3), True)])
@pytest.mark.parametrize("soft", [False, True])
def test_ensemble_of_three_equals_three_solo_runs(sizes, bias, soft):
    gen = torch.Generator().manual_seed(0)
    X = torch.randn(40, 5, generator=gen, dtype=torch.float64)
    y = torch.randint(0, 3, (40,), generator=gen)
    target = soft_labels(torch.randn(3, 40, generator=gen, dtype=torch.float64), 2.0) if soft else y
    ens = MLPEnsemble(sizes, SEEDS, bias=bias, dtype=torch.float64, device="cpu")
    fit(ens, X, target, steps=50, lr=1e-2, labels=y)
    for e, seed in enumerate(SEEDS):
        net = solo_train(solo_net(sizes, seed, bias), X, target.T if soft else y, 50, 1e-2)
        for layer, lin in enumerate(linears(net)):
            torch.testing.assert_close(ens.weights[layer][e], lin.weight, rtol=1e-10, atol=1e-12)


def test_adamw_weight_decay_and_per_member_data_match_solo_runs():
    gen = torch.Generator().manual_seed(1)
    X = torch.randn(3, 30, 4, generator=gen, dtype=torch.float64)  # one dataset per member
    y = torch.randint(0, 2, (3, 30), generator=gen)
    ens = MLPEnsemble((4, 6, 2), SEEDS, dtype=torch.float64, device="cpu")
    fit(ens, X, y, steps=40, lr=3e-3, weight_decay=0.5, betas=(0.9, 0.98))
    for e, seed in enumerate(SEEDS):
        net = solo_train(solo_net((4, 6, 2), seed), X[e], y[e], 40, 3e-3, torch.optim.AdamW,
                         weight_decay=0.5, betas=(0.9, 0.98))
        torch.testing.assert_close(ens.weights[1][e], linears(net)[1].weight, rtol=1e-10, atol=1e-12)


def test_stop_at_acc_freezes_each_member_at_its_own_step():
    gen = torch.Generator().manual_seed(2)
    X = torch.randn(3, 12, 2, generator=gen, dtype=torch.float64)
    y = torch.randint(0, 3, (3, 12), generator=gen)
    ens = MLPEnsemble((2, 64, 3), SEEDS, dtype=torch.float64, device="cpu")
    res = fit(ens, X, y, steps=3000, lr=1e-2, stop_at_acc=1.0)
    assert res.reached.all() and len(set(res.steps.tolist())) > 1  # members stopped at different steps
    for e, seed in enumerate(SEEDS):
        net = solo_train(solo_net((2, 64, 3), seed), X[e], y[e], int(res.steps[e]), 1e-2)
        torch.testing.assert_close(ens.weights[1][e], linears(net)[1].weight, rtol=1e-9, atol=1e-11)
        with torch.no_grad():
            assert (net(X[e]).argmax(1) == y[e]).all()  # frozen with the parameters that reached 100 %


def test_diverging_member_is_reported_by_name_and_others_are_unaffected(caplog):
    gen = torch.Generator().manual_seed(3)
    X = torch.randn(3, 20, 4, generator=gen, dtype=torch.float64)
    y = torch.randint(0, 2, (3, 20), generator=gen)
    X_bad = X.clone()
    X_bad[1, 0, 0] = float("nan")
    ens = LinearEnsemble(4, 2, SEEDS, dtype=torch.float64, device="cpu")
    res = fit(ens, X_bad, y, steps=30, lr=1e-2, record_every=10, member_names=["a", "b", "c"])
    assert res.diverged == ["b"]
    assert "member b diverged" in caplog.text
    ref = LinearEnsemble(4, 2, SEEDS, dtype=torch.float64, device="cpu")
    fit(ref, X, y, steps=30, lr=1e-2)
    torch.testing.assert_close(ens.weights[0][[0, 2]], ref.weights[0][[0, 2]])


def test_history_is_tidy_and_records_eval_sets():
    gen = torch.Generator().manual_seed(4)
    X, y = torch.randn(30, 3, generator=gen), torch.randint(0, 2, (30,), generator=gen)
    Xv, yv = torch.randn(10, 3, generator=gen), torch.randint(0, 2, (10,), generator=gen)
    q = soft_labels(torch.randn(2, 10, generator=gen), 1.0)
    ens = MLPEnsemble((3, 4, 2), [0, 1], device="cpu")
    res = fit(ens, X, y, steps=25, lr=1e-2, record_every=10, eval_sets={"val": (Xv, yv, q)})
    h = res.history
    assert sorted(h["step"].unique()) == [0, 10, 20, 25]
    assert {"step", "member", "member_name", "loss_train", "acc_train", "acc_val", "loss_val"} <= set(h.columns)
    assert len(h) == 4 * 2 and res.final("acc_train").shape == (2,)


def test_masked_eval_set_ignores_padding():
    gen = torch.Generator().manual_seed(5)
    X, y = torch.randn(20, 3, generator=gen), torch.randint(0, 2, (20,), generator=gen)
    Xv, yv = torch.randn(2, 8, 3, generator=gen), torch.randint(0, 2, (2, 8), generator=gen)
    q = soft_labels(torch.randn(2, 2, 8, generator=gen), 1.0)
    mask = torch.ones(2, 8, dtype=torch.bool)
    mask[1, 5:] = False  # member 1 has 5 real samples, then padding
    Xv[1, 5:], yv[1, 5:] = 1e3, 1 - yv[1, 5:]  # garbage that must not count
    ens = MLPEnsemble((3, 4, 2), [0, 1], device="cpu")
    res = fit(ens, X, y, steps=5, lr=1e-2, eval_sets={"val": (Xv, yv, q, mask)})
    solo = MLPEnsemble((3, 4, 2), [1], device="cpu")
    fit(solo, X, y, steps=5, lr=1e-2)
    with torch.no_grad():
        logits = solo(Xv[1, :5])
    expected_acc = (logits.argmax(dim=-2)[0] == yv[1, :5]).float().mean().item()
    assert res.final("acc_val")[1] == pytest.approx(expected_acc)
    expected_loss = soft_cross_entropy(logits, q[1, :, :5]).item()
    assert res.final("loss_val")[1] == pytest.approx(expected_loss, rel=1e-5)


def test_bad_training_arguments_fail_early():
    ens = LinearEnsemble(3, 2, [0], device="cpu")
    X, y = torch.randn(5, 3), torch.zeros(5, dtype=torch.long)
    with pytest.raises(ValueError, match="steps=0"):
        fit(ens, X, y, steps=0, lr=1e-3)
    with pytest.raises(ValueError, match="lr=-1"):
        fit(ens, X, y, steps=1, lr=-1)
    with pytest.raises(ValueError, match="stop_at_acc needs labels"):
        fit(ens, X, torch.full((2, 5), 0.5), steps=1, lr=1e-3, stop_at_acc=1.0)


def test_padded_members_with_a_sample_mask_equal_their_unpadded_solo_runs():
    gen = torch.Generator().manual_seed(5)
    sizes = [12, 30, 21]  # members of different n share one padded (E, 30, d) tensor
    X = torch.zeros(3, 30, 4, dtype=torch.float64)
    y = torch.zeros(3, 30, dtype=torch.long)
    mask = torch.zeros(3, 30, dtype=torch.bool)
    for e, n in enumerate(sizes):
        X[e, :n] = torch.randn(n, 4, generator=gen, dtype=torch.float64)
        y[e, :n] = torch.randint(0, 3, (n,), generator=gen)
        mask[e, :n] = True
    ens = MLPEnsemble((4, 8, 3), SEEDS, dtype=torch.float64, device="cpu")
    res = fit(ens, X, y, steps=40, lr=1e-2, sample_mask=mask, record_every=20)
    for e, (seed, n) in enumerate(zip(SEEDS, sizes)):
        net = solo_train(solo_net((4, 8, 3), seed), X[e, :n], y[e, :n], 40, 1e-2)
        torch.testing.assert_close(ens.weights[1][e], linears(net)[1].weight, rtol=1e-10, atol=1e-12)
        with torch.no_grad():
            acc = (net(X[e, :n]).argmax(1) == y[e, :n]).double().mean().item()
        assert res.final("acc_train")[e] == pytest.approx(acc)


def test_grouped_linear_ensemble_equals_members_with_their_own_inputs():
    from softleak.models import GroupedLinearEnsemble

    gen = torch.Generator().manual_seed(6)
    Xg = torch.randn(2, 15, 4, generator=gen, dtype=torch.float64)  # G = 2 groups
    seeds = [1, 2, 3, 4, 5, 6]  # S = 3 members per group
    y = torch.randint(0, 3, (6, 15), generator=gen)
    grouped = GroupedLinearEnsemble(4, 3, seeds, group_size=3, dtype=torch.float64, device="cpu")
    plain = MLPEnsemble((4, 3), seeds, bias=False, dtype=torch.float64, device="cpu")
    fit(grouped, Xg, y, steps=30, lr=1e-2)
    fit(plain, Xg.repeat_interleave(3, dim=0), y, steps=30, lr=1e-2)
    torch.testing.assert_close(grouped.weights[0], plain.weights[0], rtol=1e-10, atol=1e-12)
    with pytest.raises(ValueError, match="group_size=4 does not divide"):
        GroupedLinearEnsemble(4, 3, seeds, group_size=4)


@pytest.mark.parametrize("last", ["any", "fixed"])
def test_transformer_last_position_forward_equals_the_full_causal_forward(last):
    """Both fast paths: any last token (token tables) and one last token for all samples (chapter 2's
    "=": the query folded into score tables)."""
    from softleak.models import TransformerEnsemble

    model = TransformerEnsemble(8, 7, 3, d_model=16, num_heads=4, d_mlp=24, seeds=[0, 1], dtype=torch.float64)
    gen = torch.Generator().manual_seed(0)
    tokens = torch.randint(0, 8, (10, 3), generator=gen)
    if last == "fixed":
        tokens[:, -1] = 7
    full = model.forward_full(tokens)  # (E, c, n, seq)
    torch.testing.assert_close(model(tokens), full[..., -1])
    # the token tables give the same gradients as the full forward, per-member tokens included
    other = torch.randint(0, 8, (10, 3), generator=gen)
    if last == "fixed":
        other[:, -1] = 7
    per_member = torch.stack([tokens, other])
    weights = torch.randn(2, 7, 10, generator=gen, dtype=torch.float64)
    fast = torch.autograd.grad((model(per_member) * weights).sum(), list(model.parameters()))
    ref = torch.autograd.grad((model.forward_full(per_member)[..., -1] * weights).sum(), list(model.parameters()))
    for name, a, b in zip(dict(model.named_parameters()), fast, ref):
        torch.testing.assert_close(a, b, msg=f"gradient of {name}")
    # per-member inputs give each member its own tokens
    per_member = torch.stack([tokens, tokens.flip(0)])
    out = model(per_member)
    torch.testing.assert_close(out[1], model(tokens.flip(0))[1])
    # members are independent solo models: member 1 of the ensemble is the solo model of seed 1
    solo = TransformerEnsemble(8, 7, 3, d_model=16, num_heads=4, d_mlp=24, seeds=[1], dtype=torch.float64)
    torch.testing.assert_close(model(tokens)[1], solo(tokens)[0])
    with pytest.raises(ValueError, match="d_model=10"):
        TransformerEnsemble(8, 7, 3, d_model=10, num_heads=4, d_mlp=24, seeds=[0])


def test_on_record_sees_each_record_and_can_stop_training():
    gen = torch.Generator().manual_seed(6)
    X, y = torch.randn(40, 3, generator=gen), torch.randint(0, 2, (40,), generator=gen)
    seen, snapshots = [], {}

    def on_record(step, row):
        seen.append(step)
        snapshots[step] = ens.weights[0].detach().clone()
        return step >= 20

    ens = MLPEnsemble((3, 4, 2), [0, 1], device="cpu")
    res = fit(ens, X, y, steps=100, lr=1e-2, record_every=10, on_record=on_record)
    assert seen == [0, 10, 20] and sorted(res.history["step"].unique()) == [0, 10, 20]
    torch.testing.assert_close(snapshots[20], ens.weights[0].detach())  # training ended at the snapshot
    ref = MLPEnsemble((3, 4, 2), [0, 1], device="cpu")
    fit(ref, X, y, steps=20, lr=1e-2)
    torch.testing.assert_close(ref.weights[0], ens.weights[0])


def test_eval_sets_on_one_input_share_a_forward():
    gen = torch.Generator().manual_seed(7)
    X, y = torch.randn(20, 3, generator=gen), torch.randint(0, 2, (20,), generator=gen)
    Xv, yv = torch.randn(9, 3, generator=gen), torch.randint(0, 2, (9,), generator=gen)
    calls = []

    class Counting(MLPEnsemble):
        def forward(self, inputs):
            calls.append(inputs.shape[-2])
            return super().forward(inputs)

    ens = Counting((3, 4, 2), [0], device="cpu")
    res = fit(ens, X, y, steps=2, lr=1e-2, eval_sets={"a": (Xv, yv), "b": (Xv, 1 - yv)})
    assert calls.count(9) == 1  # one final record: one forward of Xv for both sets
    assert res.final("acc_a")[0] == pytest.approx(1 - res.final("acc_b")[0])


def test_mlp_logits_dtype_casts_the_output_only():
    from softleak.models import MLPEnsemble

    X = torch.randn(9, 4)
    plain = MLPEnsemble((4, 5, 3), seeds=[0, 1])
    wide = MLPEnsemble((4, 5, 3), seeds=[0, 1], logits_dtype=torch.float64)
    out = wide(X)
    assert out.dtype == torch.float64 and wide.weights[0].dtype == torch.float32
    assert torch.equal(out, plain(X).double())


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
@pytest.mark.parametrize("arch", ["mlp", "transformer"])
def test_members_that_stop_leave_the_batch_with_the_results_of_carrying_them(dtype, arch):
    """Compaction (the default) against the same run with stopped members carried along and restored:
    parameters, steps, history. Members stop by stop_at_acc and by a per-member on_record verdict."""
    from softleak.models import TransformerEnsemble

    gen = torch.Generator().manual_seed(6)
    E, n = 4, 10
    if arch == "mlp":
        X = torch.randn(E, n, 3, generator=gen, dtype=dtype)
        make = lambda: MLPEnsemble((3, 16, 3), range(E), dtype=dtype, device="cpu")  # noqa: E731
    else:
        pairs = torch.stack([torch.randperm(25, generator=gen)[:n] for _ in range(E)])  # distinct inputs
        X = torch.stack([pairs // 5, pairs % 5, torch.full_like(pairs, 5)], dim=-1)
        make = lambda: TransformerEnsemble(6, 5, 3, d_model=8, num_heads=2, d_mlp=16, seeds=range(E), dtype=dtype,  # noqa: E731
                                           logits_dtype=dtype, device="cpu")
    y = torch.randint(0, 3, (E, n), generator=gen)
    X[2:, 1] = X[2:, 0]  # members 2 and 3 never fit: stopped by on_record instead
    y[2:, 1] = (y[2:, 0] + 1) % 3
    Xv, yv = X[:, :4].clone(), y[:, :4].clone()
    seen = []

    def on_record(step, row):
        seen.append(row["_members"].tolist())
        return torch.tensor([False, False, step >= 20, step >= 40])

    runs = []
    for compact in (True, False):
        seen.clear()
        model = make()
        res = fit(model, X, y, steps=150, lr=5e-2, stop_at_acc=1.0, record_every=10, compact=compact,
                  eval_sets={"v": (Xv, yv)}, on_record=on_record)
        runs.append((model, res, list(seen)))
    (a, ra, seen_a), (b, rb, seen_b) = runs
    assert ra.reached[:2].all() and (ra.steps[:2] < 150).all() and (ra.steps[2:] == [20, 40]).all(), ra.steps
    assert seen_a[-2] != list(range(E)) and seen_b[-2] == list(range(E))  # compacted vs carried
    for pa, pb in zip(a.parameters(), b.parameters()):
        # float32: a smaller batch may run the batched kernels in another summation order, and 20 steps at lr 5e-2
        # amplify it (measured up to 2e-7 absolute on the transformer under AVX2, 2.9e-5 on one weight under
        # AVX-512, relative 2.3e-4); float64 agrees to rounding, which is the test of the mechanism
        torch.testing.assert_close(pa, pb, **(dict(rtol=1e-12, atol=1e-14) if dtype == torch.float64
                                              else dict(rtol=2e-3, atol=2e-4)))
    assert (ra.steps == rb.steps).all() and (ra.reached == rb.reached).all()
    pd_cols = ["step", "member", "loss_train", "acc_train", "acc_v"]
    ha, hb = ra.history[pd_cols], rb.history[pd_cols]
    assert ha.shape == hb.shape and (ha[["step", "member", "acc_train", "acc_v"]].to_numpy()
                                     == hb[["step", "member", "acc_train", "acc_v"]].to_numpy()).all()


def test_forward_in_slices_equals_one_forward_and_each_member_its_own():
    """The sliced forward of a shared input equals the whole forward (float64, to rounding), and a member's float32
    logits are the same bits whatever the slice size and whichever other members share its ensemble."""
    X = torch.rand(1234, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(0)) * 2 - 1
    model = MLPEnsemble((2, 30, 5), range(7), dtype=torch.float64)
    with torch.no_grad():
        torch.testing.assert_close(forward_in_slices(model, X, rows=100), model(X), rtol=1e-12, atol=1e-12)
    X32 = X.float()
    big, small = MLPEnsemble((2, 30, 5), range(7)), MLPEnsemble((2, 30, 5), range(3))
    out = forward_in_slices(big, X32, rows=500)
    assert out.shape == (7, 5, 1234)
    assert torch.equal(out[:3], forward_in_slices(small, X32, rows=500))
    assert torch.equal(out, forward_in_slices(big, X32, rows=200))
    with pytest.raises(ValueError, match="rows"):
        forward_in_slices(big, X32, rows=0)
