"""`fit` against the reference implementation: torch.optim on torch.nn-style code, member by member.

For every model class that `fit` trains, each member of an ensemble trained by `fit` must end with
exactly the parameters that `torch.optim.Adam` / `AdamW` give a plain module with the same initial
weights, trained alone on that member's own (unpadded) data with a library loss
(`F.cross_entropy`, `F.binary_cross_entropy_with_logits`, `F.scaled_dot_product_attention` for the
transformer's attention, `F.cosine_similarity` for chapter 7's similarity loss), to 1e-10 at float64.

The cases cover plain Adam, AdamW with weight decay and a warm-up schedule (`LambdaLR`), soft targets,
per-member padded data with a `sample_mask`, and members frozen mid-run by `stop_at_acc`; each runs once
through PyTorch's fused Adam kernel (asserted to have run) and once through the multi-tensor fallback.
A defect like spec/probes.md §D (gradients with other strides than their parameters handed to the
fused kernel) fails the transformer cases at the first step.

Tests that compare an ensemble with a solo run of `fit` (test_models_training.py) stay, but they cannot
see a defect that both share; these can.
"""

from __future__ import annotations

import zlib

import pytest
import torch
from torch import nn
from torch.nn import functional as F

from softleak import training
from softleak.distillation import cosine_similarities, similarity_loss, soft_labels
from softleak.models import (BinaryLogitEnsemble, GroupedLinearEnsemble, LinearEnsemble, MLPEnsemble,
                             TransformerEnsemble)
from softleak.metrics import hard_cross_entropy, soft_cross_entropy
from softleak.training import fit

F64 = torch.float64
TOL = dict(rtol=1e-10, atol=1e-10)
SEEDS = [3, 7, 11]
E = len(SEEDS)
P = 7  # the transformer's modulus: vocabulary P + 1 with the "=" token (id P)


# ---------------------------------------------------------------------------------------------
# Reference modules: one member, written as a user would with torch.nn


class RefMLP(nn.Module):
    def __init__(self, ens: MLPEnsemble, e: int) -> None:
        super().__init__()
        layers = []
        for i, W in enumerate(ens.weights):
            lin = nn.Linear(W.shape[2], W.shape[1], bias=ens.bias, dtype=F64)
            with torch.no_grad():
                lin.weight.copy_(W[e])
                if ens.bias:
                    lin.bias.copy_(ens.biases[i][e, :, 0])
            layers += [lin, nn.ReLU()]
        self.net = nn.Sequential(*layers[:-1])

    def forward(self, X):  # (n, d) -> (n, c)
        return self.net(X)

    def pairs(self, ens: MLPEnsemble, e: int):
        lins = [m for m in self.net if isinstance(m, nn.Linear)]
        out = [(ens.weights[i][e], lin.weight) for i, lin in enumerate(lins)]
        if ens.bias:
            out += [(ens.biases[i][e, :, 0], lin.bias) for i, lin in enumerate(lins)]
        return out


class RefBinary(nn.Module):
    """One logit z = w·x; trained with the logistic loss (BCE with logits)."""

    def __init__(self, ens: BinaryLogitEnsemble, e: int) -> None:
        super().__init__()
        self.lin = nn.Linear(ens.sizes[0], 1, bias=False, dtype=F64)
        with torch.no_grad():
            self.lin.weight.copy_(ens.weights[0][e])

    def forward(self, X):  # (n, d) -> (n,)
        return self.lin(X)[:, 0]

    def pairs(self, ens, e):
        return [(ens.weights[0][e], self.lin.weight)]


class RefTransformer(nn.Module):
    """Nanda et al.'s one-layer transformer over the full sequence, causal attention from
    ``F.scaled_dot_product_attention``, logits of the last position."""

    NAMES = ("W_E", "W_pos", "W_Q", "W_K", "W_V", "W_O", "W_in", "b_in", "W_out", "b_out", "W_U")

    def __init__(self, ens: TransformerEnsemble, e: int) -> None:
        super().__init__()
        for name in self.NAMES:
            self.register_parameter(name, nn.Parameter(getattr(ens, name)[e].detach().clone()))

    def forward(self, tokens):  # (n, T) -> (n, c)
        n, T = tokens.shape
        H, dh = self.W_Q.shape[0], self.W_Q.shape[2]
        x = F.embedding(tokens, self.W_E) + self.W_pos  # (n, T, dm)
        q, k, v = (torch.einsum("ntd,hdk->nhtk", x, W) for W in (self.W_Q, self.W_K, self.W_V))
        z = F.scaled_dot_product_attention(q, k, v, is_causal=True)  # (n, H, T, dh), scale 1/√dh
        x = x + z.transpose(1, 2).reshape(n, T, H * dh) @ self.W_O
        last = x[:, -1]
        last = last + F.relu(last @ self.W_in + self.b_in) @ self.W_out + self.b_out
        return last @ self.W_U

    def pairs(self, ens, e):
        return [(getattr(ens, name)[e], getattr(self, name)) for name in self.NAMES]


# ---------------------------------------------------------------------------------------------
# Data per model class: the ensemble, its inputs, and each member's own inputs


def _mlp(sizes, bias=True, cls=MLPEnsemble, **kw):
    return lambda: (cls(sizes, SEEDS, bias=bias, dtype=F64, device="cpu", **kw) if cls is MLPEnsemble
                    else cls(*sizes, SEEDS, dtype=F64, device="cpu", **kw))


def _inputs(kind: str, n: int, gen: torch.Generator, *, fixed_query: bool = True):
    if kind == "transformer":
        tokens = torch.randint(0, P, (E, n, 3), generator=gen)
        if fixed_query:
            tokens[..., -1] = P  # every sample ends in "=": the fixed-query forward
        else:
            tokens[..., -1] = torch.randint(0, P + 1, (E, n), generator=gen)  # the token-table forward
            tokens[:, 0, -1], tokens[:, 1, -1] = 0, P  # never all alike
        return tokens
    return torch.randn(E, n, 5, generator=gen, dtype=F64)


MODELS = {
    # name: (ensemble factory, input kind, classes)
    "mlp": (lambda: MLPEnsemble((5, 8, 6, 3), SEEDS, dtype=F64, device="cpu"), "dense", 3),
    "mlp_f64_logits_no_bias": (lambda: MLPEnsemble((5, 8, 3), SEEDS, bias=False, dtype=F64, device="cpu",
                                                   logits_dtype=F64), "dense", 3),
    "linear": (lambda: LinearEnsemble(5, 3, SEEDS, dtype=F64, device="cpu"), "dense", 3),
    "binary": (lambda: BinaryLogitEnsemble(5, SEEDS, dtype=F64, device="cpu"), "dense", 2),
    "transformer_fixed_query": (lambda: TransformerEnsemble(P + 1, P, 3, d_model=8, num_heads=2, d_mlp=16,
                                                            seeds=SEEDS, dtype=F64, device="cpu"), "transformer", P),
    "transformer_tables": (lambda: TransformerEnsemble(P + 1, P, 3, d_model=8, num_heads=2, d_mlp=16,
                                                       seeds=SEEDS, dtype=F64, device="cpu"), "transformer", P),
}


def _reference(ens, e):
    if isinstance(ens, TransformerEnsemble):
        return RefTransformer(ens, e)
    if isinstance(ens, BinaryLogitEnsemble):
        return RefBinary(ens, e)
    return RefMLP(ens, e)


def _ref_loss(ref, X, target):
    """The library loss of one member: F.cross_entropy (hard or probability targets), or the logistic
    loss for the binary model (target: label in {0, 1} or the probability of class 1)."""
    out = ref(X)
    if isinstance(ref, RefBinary):
        t = target.to(F64) if not target.is_floating_point() else target[:, 1]
        return F.binary_cross_entropy_with_logits(out, t)
    return F.cross_entropy(out, target)


def _train_reference(ref, X, target, steps, lr, weight_decay, betas, warmup):
    opt = (torch.optim.AdamW(ref.parameters(), lr=lr, betas=betas, weight_decay=weight_decay) if weight_decay
           else torch.optim.Adam(ref.parameters(), lr=lr, betas=betas))
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda t: min(t / warmup, 1.0)) if warmup else None
    for _ in range(steps):
        opt.zero_grad()
        _ref_loss(ref, X, target).backward()
        opt.step()
        if sched is not None:
            sched.step()
    return ref


@pytest.fixture(params=["fused", "multi_tensor"])
def adam_path(request, monkeypatch):
    """Run `fit` through the fused kernel (and count its calls) or force the multi-tensor fallback."""
    calls = {"fused": 0}
    for name in ("_fused_adam_", "_fused_adamw_"):
        real = getattr(torch, name)

        def wrapped(*args, _real=real, **kw):
            if request.param == "multi_tensor":
                raise RuntimeError("fused kernel disabled by the test")
            calls["fused"] += 1
            return _real(*args, **kw)

        monkeypatch.setattr(torch, name, wrapped)
    yield request.param, calls
    if request.param == "fused":
        assert calls["fused"] > 0, "the fused kernel never ran: this case did not test it"


CASES = {
    # name: (steps, lr, weight_decay, betas, warmup, soft targets, padded with a sample_mask, frozen members)
    "adam": (25, 1e-2, 0.0, (0.9, 0.999), 0, False, False, False),
    "adamw_warmup_soft_masked": (25, 1e-2, 0.5, (0.9, 0.98), 5, True, True, False),
    "adamw_frozen_members": (30, 2e-2, 0.1, (0.9, 0.98), 0, False, True, True),
}


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("model_name", MODELS)
def test_fit_equals_torch_optim_member_by_member(model_name, case, adam_path):
    steps, lr, wd, betas, warmup, soft, masked, frozen = CASES[case]
    make, kind, c = MODELS[model_name]
    gen = torch.Generator().manual_seed(zlib.crc32(f"{model_name}/{case}".encode()))
    n = 12
    X = _inputs(kind, n, gen, fixed_query=model_name != "transformer_tables")
    y = torch.randint(0, c, (E, n), generator=gen)
    sizes = [n, n, n]
    if masked:
        sizes = [2, 9, 12] if frozen else [7, 12, 10]  # frozen: member 0 has two samples, fitted in a few steps
        y[0, :2] = torch.tensor([0, 1])
        if frozen:  # members 1 and 2 can never fit: one input twice, with two labels
            X[1:, 3] = X[1:, 2]
            y[1:, 3] = (y[1:, 2] + 1) % c
    mask = torch.tensor([[i < s for i in range(n)] for s in sizes])
    target = soft_labels(torch.randn(E, c, n, generator=gen, dtype=F64) * 3, 2.0) if soft else y
    ens = make()
    res = fit(ens, X, target, steps=steps, lr=(lambda t: lr * min(t / warmup, 1.0)) if warmup else lr, betas=betas,
              weight_decay=wd, labels=y, sample_mask=mask if masked else None,
              stop_at_acc=1.0 if frozen else None)
    if frozen:
        assert res.reached[0] and res.steps[0] < steps, "member 0 should have been frozen mid-run"
        assert (res.steps[1:] == steps).all()
    else:
        assert (res.steps == steps).all()
    for e in range(E):
        own = slice(0, sizes[e])
        t_e = target[e].T[own] if soft else y[e, own]
        ref = _train_reference(_reference(make(), e), X[e, own], t_e, int(res.steps[e]), lr, wd, betas, warmup)
        for got, want in ref.pairs(ens, e):
            torch.testing.assert_close(got.detach(), want.detach(), **TOL)


@pytest.mark.parametrize("soft", [False, True])
def test_grouped_linear_ensemble_equals_torch_optim_member_by_member(soft, adam_path):
    """Chapter 4's students: G groups of S members sharing their inputs (G, n, d)."""
    G, S, n, d, c, steps = 2, 3, 10, 5, 3, 25
    gen = torch.Generator().manual_seed(9)
    X = torch.randn(G, n, d, generator=gen, dtype=F64)
    y = torch.randint(0, c, (G * S, n), generator=gen)
    target = soft_labels(torch.randn(G * S, c, n, generator=gen, dtype=F64) * 3, 2.0) if soft else y
    seeds = list(range(G * S))
    ens = GroupedLinearEnsemble(d, c, seeds, group_size=S, dtype=F64, device="cpu")
    fit(ens, X, target, steps=steps, lr=lambda t: 1e-2 * min(t / 4, 1.0), betas=(0.9, 0.98), weight_decay=0.3,
        labels=y)
    for e in range(G * S):
        lin = nn.Linear(d, c, bias=False, dtype=F64)
        with torch.no_grad():
            lin.weight.copy_(GroupedLinearEnsemble(d, c, seeds, group_size=S, dtype=F64, device="cpu").weights[0][e])
        opt = torch.optim.AdamW(lin.parameters(), lr=1e-2, betas=(0.9, 0.98), weight_decay=0.3)
        sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda t: min(t / 4, 1.0))
        for _ in range(steps):
            opt.zero_grad()
            F.cross_entropy(lin(X[e // S]), target[e].T if soft else y[e]).backward()
            opt.step()
            sched.step()
        torch.testing.assert_close(ens.weights[0][e].detach(), lin.weight.detach(), **TOL)


def test_similarity_loss_training_equals_torch_optim(adam_path):
    """Chapter 7's similarity student: `fit` with a custom loss, against F.cosine_similarity + MSE."""
    n, steps = 9, 25
    gen = torch.Generator().manual_seed(4)
    X = torch.randn(n, 5, generator=gen, dtype=F64)
    teacher = torch.randn(E, 3, n, generator=gen, dtype=F64)
    target = cosine_similarities(teacher)
    ens = MLPEnsemble((5, 8, 3), SEEDS, dtype=F64, device="cpu")
    fit(ens, X, target, steps=steps, lr=1e-2, loss=similarity_loss)
    for e in range(E):
        ref = RefMLP(MLPEnsemble((5, 8, 3), SEEDS, dtype=F64, device="cpu"), e)
        opt = torch.optim.Adam(ref.parameters(), lr=1e-2)
        for _ in range(steps):
            opt.zero_grad()
            z = ref(X)  # (n, c)
            sims = F.cosine_similarity(z[:, None, :], z[None, :, :], dim=-1)
            F.mse_loss(sims, target[e]).backward()
            opt.step()
        for got, want in ref.pairs(ens, e):
            torch.testing.assert_close(got.detach(), want.detach(), **TOL)


def test_fused_step_is_exact_for_gradients_of_any_strides():
    """The Adam step alone, on a parameter whose gradient is a transposed (non-contiguous) view: the
    update must be torch.optim's, element by element (the §D defect read such gradients in memory order)."""
    gen = torch.Generator().manual_seed(0)
    p = torch.randn(4, 6, 5, dtype=F64, generator=gen)
    g = torch.randn(4, 5, 6, dtype=F64, generator=gen).transpose(1, 2)  # strides differ from p's
    assert not g.is_contiguous()
    ref = p.clone().requires_grad_()
    opt = torch.optim.AdamW([ref], lr=1e-2, betas=(0.9, 0.98), weight_decay=1.0)
    params, m, v = [p.clone()], [torch.zeros_like(p)], [torch.zeros_like(p)]
    steps = [torch.zeros((), dtype=torch.float32)]
    for step in range(1, 4):
        ref.grad = g.clone()
        opt.step()
        steps[0] += 1
        fused = training._adam_step(params, [g], m, v, step, steps, 1e-2, 0.9, 0.98, 1e-8, 1.0)
        assert fused or not hasattr(torch, "_fused_adamw_")
    torch.testing.assert_close(params[0], ref.detach(), **TOL)


def test_reference_transformer_is_the_ensembles_full_forward():
    """The reference module (library attention) computes what TransformerEnsemble computes on both paths."""
    ens = MODELS["transformer_tables"][0]()
    gen = torch.Generator().manual_seed(1)
    tokens = torch.randint(0, P + 1, (20, 3), generator=gen)
    with torch.no_grad():
        for e in range(E):
            want = RefTransformer(ens, e)(tokens)
            torch.testing.assert_close(ens.forward_full(tokens)[e, :, :, -1].T, want, rtol=1e-12, atol=1e-12)
            torch.testing.assert_close(ens._forward_tables(tokens)[e].T, want, rtol=1e-12, atol=1e-12)
            fixed = tokens.clone()
            fixed[:, -1] = P
            torch.testing.assert_close(ens(fixed)[e].T, RefTransformer(ens, e)(fixed), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("model_name", ["linear_bias_shared", "linear", "binary", "grouped"])
def test_linear_models_take_the_closed_form_gradient_and_it_is_autograds(model_name, monkeypatch):
    """Linear models train on the closed-form gradient (counted here): its parameters' gradients equal autograd's,
    and a masked run with a stopping rule and compaction lands where the autograd path (closed_form=False) does."""
    import softleak.metrics
    import softleak.training

    gen = torch.Generator().manual_seed(zlib.crc32(model_name.encode()))
    n, d, c, G, S = 14, 5, 3, 2, 2
    make = {"linear_bias_shared": lambda: MLPEnsemble((d, c), SEEDS, dtype=F64, device="cpu"),
            "linear": lambda: LinearEnsemble(d, c, SEEDS, dtype=F64, device="cpu"),
            "binary": lambda: BinaryLogitEnsemble(d, SEEDS, dtype=F64, device="cpu"),
            "grouped": lambda: GroupedLinearEnsemble(d, c, range(G * S), group_size=S, dtype=F64, device="cpu")}[model_name]
    model = make()
    E, c = model.num_members, model.num_classes if model_name != "binary" else 2
    X = {"linear_bias_shared": torch.randn(n, d, generator=gen, dtype=F64),
         "grouped": torch.randn(G, n, d, generator=gen, dtype=F64)}.get(model_name, torch.randn(E, n, d, generator=gen,
                                                                                              dtype=F64))
    y = torch.randint(0, c, (E, n), generator=gen)
    mask = torch.rand(E, n, generator=gen) < 0.8
    mask[:, :2] = True
    soft = soft_labels(torch.randn(E, c, n, generator=gen, dtype=F64) * 3, 2.0)
    assert model.closed_form
    for target in (y, soft):
        loss = (soft_cross_entropy if target.is_floating_point() else hard_cross_entropy)(model(X), target, mask)
        want = torch.autograd.grad(loss.sum(), list(model.parameters()))
        got = model.logit_backward(X, softleak.metrics.cross_entropy_logit_grad(model(X).detach(), target, mask))
        assert len(got) == len(want)
        for g, w in zip(got, want):
            torch.testing.assert_close(g, w, rtol=1e-12, atol=1e-14)

    calls = {"n": 0}
    real = softleak.training.cross_entropy_logit_grad

    def counted(*args, **kwargs):
        calls["n"] += 1
        return real(*args, **kwargs)

    monkeypatch.setattr(softleak.training, "cross_entropy_logit_grad", counted)
    kw = dict(steps=60, lr=0.1, weight_decay=0.1, labels=y, sample_mask=mask,
              stop_at_acc=0.6 if model_name != "grouped" else None)
    closed, other = make(), make()
    a = fit(closed, X, soft, **kw)
    assert calls["n"] == int(a.steps.max()) > 0
    b = fit(other, X, soft, closed_form=False, **kw)
    assert calls["n"] == int(a.steps.max())  # the autograd run did not take it
    assert (a.steps == b.steps).all()
    assert model_name == "grouped" or len(set(a.steps)) > 1, "members should stop at different steps (compaction)"
    for p, q in zip(closed.parameters(), other.parameters()):
        torch.testing.assert_close(p.detach(), q.detach(), rtol=1e-10, atol=1e-12)
