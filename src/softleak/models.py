"""Ensemble-aware models: E independent networks stacked along a leading dimension.

Layout. Activations are *feature-first*: a layer maps (E, fan_in, n) to (E, fan_out, n) with one
batched matmul, and logits come out as (E, c, n). The softmax over a small class dimension is
about 4x faster in this layout on CPU than over a small last dimension (measured while building
the trainer), and the per-layer matmul is a plain ``baddbmm``.

Initialisation. Member e is initialised from its own seed exactly as PyTorch initialises
``nn.Linear`` layers built in order after ``torch.manual_seed(seed)``: Kaiming-uniform weights
U(±1/√fan_in), then the bias U(±1/√fan_in), layer by layer. So member e trains like a solo
``nn.Sequential`` built under that seed, whatever the ensemble size (tests check both).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn

from .config import check_nonnegative_int, check_positive_int
from .runtime import make_generator, resolve_device


def _init_member(sizes: Sequence[int], seed: int, bias: bool, dtype: torch.dtype) -> list[torch.Tensor]:
    """One member's parameters [W_1, b_1, W_2, b_2, ...] drawn like ``nn.Linear`` under ``seed``."""
    g = make_generator(seed)
    tensors = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        bound = 1.0 / math.sqrt(fan_in)
        tensors.append(torch.empty(fan_out, fan_in).uniform_(-bound, bound, generator=g))
        if bias:
            tensors.append(torch.empty(fan_out).uniform_(-bound, bound, generator=g))
    # drawn in float32, like nn.Linear, then cast: a float64 member equals nn.Linear(...).double()
    return [t.to(dtype) for t in tensors]


class MLPEnsemble(nn.Module):
    """E fully connected ReLU networks d → p_1 → … → c, trained together.

    Paper: the 2D toy nets (§1), the ReLU MLPs of §5.2, and (with no hidden layer and no bias) the
    linear teacher and student of §5.1.

    Args:
        sizes: layer widths ``(d, p_1, ..., c)``; ``(d, c)`` is a linear model.
        seeds: one initialisation seed per member; ``len(seeds)`` is the ensemble size E.
        bias: whether layers have biases.
        dtype: parameter dtype (float32 for runs, float64 for tests of maths).
        device: ``None`` for :func:`softleak.runtime.default_device`.
        logits_dtype: if given, the logits are cast to it (float64 keeps a fitted training set's
            loss from underflowing to an exact 0; chapter 2).
    """

    compactable = True  # every parameter carries the members on dim 0: fit may drop stopped members

    def __init__(
        self,
        sizes: Sequence[int],
        seeds: Sequence[int],
        *,
        bias: bool = True,
        dtype: torch.dtype = torch.float32,
        device: str | torch.device | None = None,
        logits_dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__()
        sizes = tuple(sizes)
        if len(sizes) < 2:
            raise ValueError(f"sizes={sizes!r} is not allowed: give at least (d, c)")
        for i, s in enumerate(sizes):
            check_positive_int(f"sizes[{i}]", s)
        seeds = [check_nonnegative_int("seed", int(s)) for s in seeds]
        check_positive_int("len(seeds)", len(seeds))
        self.sizes, self.seeds, self.bias, self.logits_dtype = sizes, tuple(seeds), bias, logits_dtype
        members = [_init_member(sizes, s, bias, dtype) for s in seeds]
        device = resolve_device(device)
        per_layer = 2 if bias else 1
        self.weights = nn.ParameterList()
        self.biases = nn.ParameterList()
        for layer in range(len(sizes) - 1):
            W = torch.stack([m[per_layer * layer] for m in members])  # (E, out, in)
            self.weights.append(nn.Parameter(W.to(device)))
            if bias:
                b = torch.stack([m[per_layer * layer + 1] for m in members])[..., None]  # (E, out, 1)
                self.biases.append(nn.Parameter(b.to(device)))

    @property
    def num_members(self) -> int:
        return self.weights[0].shape[0]

    @property
    def num_classes(self) -> int:
        return self.sizes[-1]

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        """Logits of every member.

        Args:
            X: inputs shared by all members, (n, d), or one set per member, (E, n, d).

        Returns:
            Logits (E, c, n).
        """
        h = X.transpose(-1, -2)  # (d, n) or (E, d, n): a view, no copy
        last = len(self.weights) - 1
        for i, W in enumerate(self.weights):
            if h.dim() == 3 and self.bias:
                h = torch.baddbmm(self.biases[i], W, h)  # (E, out, n), fused bias
            else:
                h = torch.matmul(W, h)  # (E, out, n); a shared (d, n) input folds into one mm
                if self.bias:
                    h = h.add_(self.biases[i])  # in place: the fastest at every size measured
            if i < last:
                h = torch.relu_(h)  # in place: saves one activation-sized allocation per layer
        return h if self.logits_dtype is None else h.to(self.logits_dtype)

    @property
    def closed_form(self) -> bool:
        """Whether :meth:`logit_backward` gives the parameters' gradients: a single layer (a linear model), logits
        in the parameters' dtype, every parameter trained."""
        return len(self.weights) == 1 and self.logits_dtype is None and all(p.requires_grad for p in self.parameters())

    def logit_backward(self, X: torch.Tensor, g: torch.Tensor) -> list[torch.Tensor]:
        """The gradients of a loss with respect to the parameters (in ``parameters()`` order), from its gradient
        ``g`` (E, c, n) with respect to the logits of ``self(X)``, for a linear model (:attr:`closed_form`): for
        z = W xᵀ + b, dW = g X and db = Σ_n g. :func:`softleak.training.fit` uses it in place of autograd, which
        for these models spends most of a step dispatching its own operations (tested equal to autograd's)."""
        grads = [torch.matmul(g, X)]  # (E, c, n) @ (E, n, d) or a shared (n, d): (E, c, d)
        if self.bias:
            grads.append(g.sum(dim=-1, keepdim=True))
        return grads


class LinearEnsemble(MLPEnsemble):
    """E linear classifiers d → c, no bias by default (paper §5.1; spec §3.3, §4.2)."""

    def __init__(self, d: int, c: int, seeds: Sequence[int], *, bias: bool = False, **kw) -> None:
        super().__init__((d, c), seeds, bias=bias, **kw)


class BinaryLogitEnsemble(MLPEnsemble):
    """E single-logit linear classifiers z = w·x (no bias by default), as two-class logits (0, z).

    The softmax cross-entropy of the logits (0, z) is exactly the logistic loss of z (BCE with
    logits), so the shared trainer fits the paper's binary teacher unchanged (paper §5.1; spec §3.3).
    Members are initialised like ``nn.Linear(d, 1)``.
    """

    def __init__(self, d: int, seeds: Sequence[int], *, bias: bool = False, **kw) -> None:
        super().__init__((d, 1), seeds, bias=bias, **kw)

    def logit(self, X: torch.Tensor) -> torch.Tensor:
        """The single logit z per member and sample: (E, n)."""
        return super().forward(X)[:, 0, :]

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        z = self.logit(X)  # (E, n)
        return torch.stack([torch.zeros_like(z), z], dim=-2)  # (E, 2, n)

    def logit_backward(self, X: torch.Tensor, g: torch.Tensor) -> list[torch.Tensor]:
        """As :meth:`MLPEnsemble.logit_backward`; the constant logit 0 takes no gradient, so only g's second row
        counts."""
        return super().logit_backward(X, g[:, 1:])


class GroupedLinearEnsemble(MLPEnsemble):
    """E = G·S linear classifiers d → c without bias, in G groups of S members sharing their inputs.

    All the students of one data split (every temperature, standard and shuffled) see the same
    inputs; passing them once per group, (G, n, d), instead of once per member makes the forward
    one batched matmul over groups and keeps the inputs in cache (spec §4.11).

    Args:
        d, c: input dimension and number of classes.
        seeds: one initialisation seed per member, group-major (group 0's S members first).
        group_size: S, the members per group; ``len(seeds)`` must be a multiple of it.
    """

    compactable = False  # members are tied to their group's inputs: stopped members stay in the batch

    def __init__(self, d: int, c: int, seeds: Sequence[int], *, group_size: int, **kw) -> None:
        super().__init__((d, c), seeds, bias=False, **kw)
        check_positive_int("group_size", group_size)
        if len(self.seeds) % group_size:
            raise ValueError(f"group_size={group_size} does not divide the ensemble size {len(self.seeds)}")
        self.group_size = group_size

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        """Logits (E, c, n) from group inputs X of shape (G, n, d)."""
        W = self.weights[0]  # (E, c, d)
        num_groups, c = W.shape[0] // self.group_size, W.shape[1]
        if X.dim() != 3 or X.shape[0] != num_groups:
            raise ValueError(f"X must have shape (G={num_groups}, n, d), got {tuple(X.shape)}")
        z = torch.matmul(W.view(num_groups, self.group_size * c, -1), X.transpose(-1, -2))  # (G, S·c, n)
        return z.view(W.shape[0], c, X.shape[1])

    def logit_backward(self, X: torch.Tensor, g: torch.Tensor) -> list[torch.Tensor]:
        """As :meth:`MLPEnsemble.logit_backward`, one matmul per group: dW = g X over the group's members."""
        E, c, n = g.shape
        num_groups = E // self.group_size
        return [torch.matmul(g.reshape(num_groups, self.group_size * c, n), X).view(E, c, X.shape[-1])]


class TransformerEnsemble(nn.Module):
    """E one-layer transformers in the style of Nanda et al. (paper §4; spec §2.3), trained together.

    Per member: token embedding W_E and learned positions W_pos; one attention layer of H heads
    (W_Q, W_K, W_V per head, output projection W_O), no LayerNorm; a ReLU MLP (W_in, b_in, W_out,
    b_out); the unembedding W_U. Residual stream: x ← x + Attn(x); x ← x + MLP(x). Only the last
    position's logits enter the loss, so only the last position's query, attention output and MLP
    are computed (:meth:`forward`); keys and values still come from every position. With a causal
    mask the last position attends to all of them, so this equals the full forward
    (:meth:`forward_full`, which the tests compare).

    Initialisation (the authors' code): Gaussian weights of variance 1/d_model (W_U: 1/c), zero
    biases, drawn per member from its own seed.

    Args:
        vocab: number of token ids (p + 1 with the "=" token).
        num_classes: output classes (p).
        seq_len: context length (3: a, b, "=").
        d_model, num_heads, d_mlp: widths; d_model must be a multiple of num_heads.
        seeds: one initialisation seed per member.
        logits_dtype: dtype of the returned logits; float64 keeps the loss from underflowing to an
            exact 0 once the training set is fitted (probes.md B).
    """

    def __init__(
        self,
        vocab: int,
        num_classes: int,
        seq_len: int,
        *,
        d_model: int,
        num_heads: int,
        d_mlp: int,
        seeds: Sequence[int],
        dtype: torch.dtype = torch.float32,
        logits_dtype: torch.dtype = torch.float64,
        device: str | torch.device | None = None,
    ) -> None:
        super().__init__()
        self.compactable = True  # every parameter carries the members on dim 0: fit may drop stopped members
        for name, v in (("vocab", vocab), ("num_classes", num_classes), ("seq_len", seq_len), ("d_model", d_model),
                        ("num_heads", num_heads), ("d_mlp", d_mlp)):
            check_positive_int(name, v)
        if d_model % num_heads:
            raise ValueError(f"d_model={d_model} is not allowed with num_heads={num_heads}: it must be a multiple")
        seeds = [check_nonnegative_int("seed", int(s)) for s in seeds]
        check_positive_int("len(seeds)", len(seeds))
        self.seeds, self.num_heads, self.d_head = tuple(seeds), num_heads, d_model // num_heads
        self.logits_dtype = logits_dtype
        dm, H, dh = d_model, num_heads, d_model // num_heads
        shapes = {  # name -> (shape, std)
            "W_E": ((vocab, dm), dm**-0.5), "W_pos": ((seq_len, dm), dm**-0.5),
            "W_Q": ((H, dm, dh), dm**-0.5), "W_K": ((H, dm, dh), dm**-0.5), "W_V": ((H, dm, dh), dm**-0.5),
            "W_O": ((H * dh, dm), dm**-0.5), "W_in": ((dm, d_mlp), dm**-0.5), "b_in": ((d_mlp,), 0.0),
            "W_out": ((d_mlp, dm), dm**-0.5), "b_out": ((dm,), 0.0), "W_U": ((dm, num_classes), num_classes**-0.5),
        }
        device = resolve_device(device)
        members = []
        for s in seeds:
            g = make_generator(s)
            members.append({k: torch.randn(shape, generator=g) * std for k, (shape, std) in shapes.items()})
        for k in shapes:
            self.register_parameter(k, nn.Parameter(torch.stack([m[k] for m in members]).to(device=device, dtype=dtype)))

    @property
    def num_members(self) -> int:
        return self.W_E.shape[0]

    def _embed(self, tokens: torch.Tensor) -> torch.Tensor:
        """Residual stream after embedding: (E, n, seq, d_model), for tokens (n, seq) or (E, n, seq)."""
        E = self.num_members
        if tokens.dim() == 2:
            x = self.W_E[:, tokens]  # (E, n, seq, dm)
        else:
            x = self.W_E[torch.arange(E, device=tokens.device)[:, None, None], tokens]
        return x + self.W_pos[:, None]

    def _mlp_unembed(self, r: torch.Tensor) -> torch.Tensor:
        """MLP block and unembedding of residual streams (E, ..., d_model) -> logits (E, ..., c)."""
        E, shape = r.shape[0], r.shape[1:-1]
        r = r.reshape(E, -1, r.shape[-1])
        h = torch.relu_(torch.baddbmm(self.b_in[:, None], r, self.W_in))  # in place: autograd keeps the output
        r = r + torch.baddbmm(self.b_out[:, None], h, self.W_out)
        return torch.bmm(r, self.W_U).reshape(E, *shape, -1)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        """Last-position logits (E, c, n).

        When every sample ends in the same token (chapter 2: the "=" token), :meth:`_forward_fixed_query`
        runs; otherwise :meth:`_forward_tables`. Both equal :meth:`forward_full` at the last position.
        """
        if tokens.is_meta:  # no values to look at (the compute plan's shapes): the path chapter 2 trains on
            return self._forward_fixed_query(tokens, 0)
        last = tokens[..., -1].reshape(-1)
        if last.numel() and bool((last == last[0]).all()):
            return self._forward_fixed_query(tokens, int(last[0]))
        return self._forward_tables(tokens)

    def _forward_fixed_query(self, tokens: torch.Tensor, last_token: int) -> torch.Tensor:
        """Last-position logits (E, c, n) when every sample ends in ``last_token``.

        The last position's residual stream, and so its query, is then one vector per member. Folding
        the query into the key map turns each earlier position's attention score into a table over the
        vocabulary, (E, V, H), as its value is, (E, V, H·dh). A sample's scores and values are rows of
        those tables, read with ``index_select`` on flat row numbers (its backward is an ``index_add``:
        measured here 7× faster than advanced indexing or a one-hot product). Nothing of size
        (n, positions, ·) is sliced, so the backward allocates no zero-filled copies of it.
        """
        E, V, dm = self.W_E.shape
        H, dh = self.num_heads, self.d_head
        x_last = self.W_E[:, last_token] + self.W_pos[:, -1]  # (E, dm)
        q = torch.einsum("ed,ehdk->ehk", x_last, self.W_Q)  # (E, H, dh)
        W_score = torch.einsum("ehdk,ehk->edh", self.W_K, q) / math.sqrt(dh)  # (E, dm, H)
        W_value = self.W_V.permute(0, 2, 1, 3).reshape(E, dm, H * dh)  # (E, dm, H·dh)
        emb = self.W_E[:, None] + self.W_pos[:, :-1, None]  # (E, T-1, V, dm): the earlier positions
        T1 = emb.shape[1]
        prefix = tokens[..., :-1]  # (n, T-1) or (E, n, T-1)
        n = prefix.shape[-2]
        prefix = prefix.expand(E, n, T1) if prefix.dim() == 2 else prefix
        offsets = (torch.arange(E * T1, device=tokens.device) * V).view(E, T1, 1)
        rows = (prefix.transpose(1, 2) + offsets).reshape(-1)  # flat row of (member, position, token)
        score_tab = torch.matmul(emb, W_score[:, None]).reshape(E * T1 * V, H)
        value_tab = torch.matmul(emb, W_value[:, None]).reshape(E * T1 * V, H * dh)
        scores = score_tab.index_select(0, rows).view(E, T1, n, H)
        values = value_tab.index_select(0, rows).view(E, T1, n, H * dh)
        score_last = torch.bmm(x_last[:, None], W_score)  # (E, 1, H)
        value_last = torch.bmm(x_last[:, None], W_value)  # (E, 1, H·dh)
        att = torch.softmax(torch.cat([scores, score_last[:, None].expand(E, 1, n, H)], dim=1), dim=1)  # (E, T, n, H)
        heads = att.repeat_interleave(dh, dim=-1)  # (E, T, n, H·dh): each head's weight over its d_head columns
        z = (heads[:, :-1] * values).sum(1) + heads[:, -1] * value_last  # (E, n, H·dh), heads concatenated
        r = torch.baddbmm(x_last[:, None], z, self.W_O)  # (E, n, dm)
        logits = self._mlp_unembed(r)  # (E, n, c)
        return logits.transpose(1, 2).to(self.logits_dtype)

    def _forward_tables(self, tokens: torch.Tensor) -> torch.Tensor:
        """Last-position logits (E, c, n) for any tokens.

        A token's key and value at position t depend only on (token, t), and the last position's
        query and residual only on its token: they are computed once per vocabulary entry, as
        tables (E, seq · vocab, ·), and gathered per sample. With n samples over a vocabulary of V
        tokens that replaces n · seq rows of the key/value matmul by seq · V rows (at chapter 2's
        ``cpu`` size, 1 392 training pairs against 60 tokens). The per-head scores and the
        attention-weighted sum over the positions are elementwise products, not tiny batched
        matmuls.
        """
        E, V, dm = self.W_E.shape
        T = self.W_pos.shape[1]
        H, dh = self.num_heads, self.d_head
        emb = self.W_E[:, None] + self.W_pos[:, :, None]  # (E, T, V, dm): every token at every position
        W_KV = torch.cat([self.W_K, self.W_V], dim=1).permute(0, 2, 1, 3).reshape(E, dm, 2 * H * dh)
        kv_table = torch.bmm(emb.reshape(E, T * V, dm), W_KV)  # (E, T·V, 2·H·dh)
        last_table = emb[:, -1]  # (E, V, dm)
        q_table = torch.bmm(last_table, self.W_Q.permute(0, 2, 1, 3).reshape(E, dm, H * dh))  # (E, V, H·dh)
        offsets = torch.arange(T, device=tokens.device) * V
        if tokens.dim() == 2:  # shared by every member
            n = tokens.shape[0]
            kv = kv_table[:, (tokens + offsets).reshape(-1)]
            last, q = last_table[:, tokens[:, -1]], q_table[:, tokens[:, -1]]
        else:
            n = tokens.shape[1]
            members = torch.arange(E, device=tokens.device)[:, None]
            kv = kv_table[members, (tokens + offsets).reshape(E, -1)]
            last, q = last_table[members, tokens[..., -1]], q_table[members, tokens[..., -1]]
        kv = kv.view(E, n, T, 2, H, dh)
        q = q.view(E, n, 1, H, dh)
        att = torch.softmax((q * kv[:, :, :, 0]).sum(-1) / math.sqrt(dh), dim=2)  # (E, n, seq, H)
        z = (att[..., None] * kv[:, :, :, 1]).sum(2).reshape(E, n, H * dh)  # heads concatenated
        r = last + torch.bmm(z, self.W_O)  # (E, n, dm)
        logits = self._mlp_unembed(r)  # (E, n, c)
        return logits.transpose(1, 2).to(self.logits_dtype)

    def forward_full(self, tokens: torch.Tensor) -> torch.Tensor:
        """Logits at every position with a causal mask, (E, c, n, seq): the reference for :meth:`forward`."""
        x = self._embed(tokens)
        E, n, T, dm = x.shape
        q = torch.einsum("enti,ehid->enhtd", x, self.W_Q)
        k = torch.einsum("enti,ehid->enhtd", x, self.W_K)
        v = torch.einsum("enti,ehid->enhtd", x, self.W_V)
        scores = torch.einsum("enhsd,enhtd->enhst", q, k) / math.sqrt(self.d_head)
        causal = torch.ones(T, T, dtype=torch.bool, device=x.device).tril()
        att = torch.softmax(scores.masked_fill(~causal, -1e10), dim=-1)
        z = torch.einsum("enhst,enhtd->enhsd", att, v).permute(0, 1, 3, 2, 4).reshape(E, n, T, -1)
        r = x + torch.matmul(z, self.W_O[:, None])
        return self._mlp_unembed(r).permute(0, 3, 1, 2).to(self.logits_dtype)
