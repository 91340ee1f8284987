"""Benchmark of the ensemble trainer (`make bench`). Prints its figures against the targets.

1. Model-epochs per second of :func:`softleak.training.fit` on an ensemble of E models against a
   plain loop that trains one ``nn.Sequential`` at a time with ``torch.optim.Adam`` and
   ``F.cross_entropy`` (the same maths), for the toy shape (2→100→3, n = 60, E = 20; target ≥ 10×)
   and a small MLP (d = 100, p = 50, c = 10, n = 2000, E = 20; target ≥ 2×).
2. GFLOP/s of one full-batch epoch (forward, backward, Adam) of a large MLP (d = 1000, p = 500,
   c = 100, n = 25 000) against a float32 matmul ceiling measured in the same run (target ≥ 70 %).
3. Chapter 4's temperature sweep: linear students on soft labels, grouped ensemble vs a loop.
4. Chapter 2's transformer at its ``cpu`` preset's shapes (read from the preset): a teacher step and a
   student step, milliseconds on the fused Adam kernel (after the contiguous-gradient fix) and on the
   multi-tensor path, and the GFLOP/s of the step's matmuls against the float32 matmul ceiling of the
   same run; then the fast forward path against the general token-table path.
4b. Chapter 2's MLP student at its ``cpu`` shapes: the first layer as a one-hot matmul (as trained) against a gather of
   the two weight columns the one-hots pick, forward and backward.
5. Finished members leave the batch: an ensemble of 20 small MLPs (100→50→10, n = 2000) whose first half stops
   after a tenth of the steps (50 % of the members stopped), compacted (the default) against carrying the stopped
   members along (``compact=False``), as a speed-up, with the largest parameter difference between the two.
6. The plan against the last build: per chapter, the plan's lower bound at ``cpu`` (FLOPs and operations at this
   machine's calibrated rates, divided among the run's workers) against the sweep time the last ``cpu`` build
   recorded in its ``claims.json`` (``results/<chapter>/cpu``), and their ratio: what is not training.
7. One small sweep (chapter 8 at ``smoke``: 6 configs) in this process against a 2-worker Dask
   ``LocalCluster``, as configs per second (the cluster's start is timed apart). On a 2-core machine
   expect no gain: the number shows the overhead.

Timings are wall-clock medians; this is not a test and asserts nothing.
"""

from __future__ import annotations

import statistics
import time

import torch
from torch import nn

from softleak.distillation import soft_labels
from softleak.models import MLPEnsemble, TransformerEnsemble
from softleak.runtime import default_device
from softleak.training import fit


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def timed(fn, repeats: int, device: torch.device) -> float:
    fn()  # warm-up
    times = []
    for _ in range(repeats):
        sync(device)
        start = time.perf_counter()
        fn()
        sync(device)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def loop_one_at_a_time(sizes, X, y, num_models, steps, device):
    for seed in range(num_models):
        torch.manual_seed(seed)
        net = nn.Sequential(nn.Linear(sizes[0], sizes[1]), nn.ReLU(), nn.Linear(sizes[1], sizes[2])).to(device)
        opt = torch.optim.Adam(net.parameters(), lr=1e-3)
        for _ in range(steps):
            opt.zero_grad()
            nn.functional.cross_entropy(net(X), y).backward()
            opt.step()


def speedup(name, sizes, n, num_models, steps, device, target):
    gen = torch.Generator().manual_seed(0)
    X = torch.randn(n, sizes[0], generator=gen).to(device)
    y = torch.randint(0, sizes[-1], (n,), generator=gen).to(device)

    def ensemble():
        fit(MLPEnsemble(sizes, range(num_models), device=device), X, y, steps=steps, lr=1e-3)

    t_ens = timed(ensemble, 3, device)
    t_loop = timed(lambda: loop_one_at_a_time(sizes, X, y, num_models, steps, device), 3, device)
    rate_ens, rate_loop = num_models * steps / t_ens, num_models * steps / t_loop
    ratio = rate_ens / rate_loop
    print(f"{name:<38} ensemble {rate_ens:>10,.0f} model-epochs/s | loop {rate_loop:>9,.0f} | "
          f"speed-up {ratio:5.1f}x (target >= {target}x: {'met' if ratio >= target else 'MISSED'})")
    return ratio


def large_epoch(device, target=0.70):
    d, p, c, n = 1000, 500, 100, 25_000
    gen = torch.Generator().manual_seed(0)
    X = torch.randn(n, d, generator=gen).to(device)
    y = torch.randint(0, c, (n,), generator=gen).to(device)
    model = MLPEnsemble((d, p, c), [0], device=device)
    # matmul FLOPs of one epoch: forward 2n(dp + pc); backward: dW1 (2ndp), dW2 and dH (2·2npc)
    flops = 4 * n * d * p + 6 * n * p * c
    # the marginal cost of an epoch: (N + 1 steps) − (1 step), which leaves out the set-up and the
    # final evaluation pass that every call of fit makes
    extra = 5
    t_long = timed(lambda: fit(model, X, y, steps=extra + 1, lr=1e-4), 3, device)
    t_short = timed(lambda: fit(model, X, y, steps=1, lr=1e-4), 3, device)
    t_epoch = (t_long - t_short) / extra
    A = torch.randn(n, d, generator=gen).to(device)
    B = torch.randn(d, p, generator=gen).to(device)
    S = torch.randn(2048, 2048, generator=gen).to(device)
    ceiling = max(2 * n * d * p / timed(lambda: A @ B, 5, device), 2 * 2048**3 / timed(lambda: S @ S, 5, device))
    achieved = flops / t_epoch
    share = achieved / ceiling
    print(f"{'large MLP epoch (1000→500→100, n=25k)':<38} {achieved / 1e9:6.1f} GFLOP/s "
          f"({t_epoch * 1e3:.0f} ms/epoch) vs float32 matmul ceiling {ceiling / 1e9:.1f} GFLOP/s: "
          f"{share:.0%} (target >= {target:.0%}: {'met' if share >= target else 'MISSED'})")
    return share


def tau_sweep(device, target=10):
    """Chapter 4's hot loop: 16 data cells × (12 τ × {standard, shuffled}) linear students on soft labels.

    The ensemble trains all 384 students as 16 groups that share their inputs
    (:class:`GroupedLinearEnsemble`); the loop trains one ``nn.Linear`` at a time (timed on one
    cell's 24 students and scaled to 384).
    """
    from softleak.distillation import soft_labels
    from softleak.models import GroupedLinearEnsemble

    d, c, m, cells, students, steps = 100, 2, 160, 16, 24, 300
    gen = torch.Generator().manual_seed(0)
    X = torch.randn(cells, m, d, generator=gen).to(device)
    Q = soft_labels(torch.randn(cells * students, c, m, generator=gen), 10.0).to(device)

    def ensemble():
        model = GroupedLinearEnsemble(d, c, range(cells * students), group_size=students, device=device)
        fit(model, X, Q, steps=steps, lr=1e-4, labels=Q.argmax(1))

    def loop():
        for e in range(students):
            torch.manual_seed(e)
            lin = nn.Linear(d, c, bias=False).to(device)
            opt = torch.optim.Adam(lin.parameters(), lr=1e-4)
            for _ in range(steps):
                opt.zero_grad()
                nn.functional.cross_entropy(lin(X[0]), Q[e].T).backward()
                opt.step()

    t_ens = timed(ensemble, 3, device)
    t_loop = timed(loop, 3, device) * cells
    rate_ens, rate_loop = cells * students * steps / t_ens, cells * students * steps / t_loop
    ratio = rate_ens / rate_loop
    print(f"{'τ sweep (ch. 4: 384 linear students)':<38} ensemble {rate_ens:>10,.0f} model-epochs/s | loop {rate_loop:>9,.0f} | "
          f"speed-up {ratio:5.1f}x (target >= {target}x: {'met' if ratio >= target else 'MISSED'})")
    return ratio


def matmul_ceiling(device) -> float:
    gen = torch.Generator().manual_seed(0)
    S = torch.randn(2048, 2048, generator=gen).to(device)
    return 2 * 2048**3 / timed(lambda: S @ S, 5, device)


def transformer_steps(device):
    """Chapter 2's transformer at its ``cpu`` preset: one teacher step (every seed together, on D*^T, hard labels)
    and one student step (every seed and teacher at the largest ρ, soft labels), AdamW as the chapter trains them.
    Each on the fused Adam kernel (gradients made contiguous first, the fix of spec/probes.md §D) and on the
    multi-tensor path that needs no copy, with the GFLOP/s of the step's matmuls against the float32 matmul
    ceiling measured in the same run."""
    from softleak.experiments import modular

    cfg = modular.PRESETS["cpu"]
    a = cfg.transformer
    P, dm, H, d_mlp, c = a.P, a.d_model, a.num_heads, a.d_mlp, a.P
    n_star = int(a.frac * P**2)
    shapes = {"teacher": (len(cfg.seeds), n_star, False),
              "student": (len(cfg.seeds) * 3, int(max(cfg.rhos_of("transformer")) * n_star), True)}
    gen = torch.Generator().manual_seed(0)
    ceiling = matmul_ceiling(device)
    for name, (E, n, soft) in shapes.items():
        tokens = torch.randint(0, P, (E, n, 3), generator=gen)
        tokens[..., -1] = P  # the "=" token
        if soft:
            targets = soft_labels(torch.randn(E, c, n, generator=gen, dtype=torch.float64) * 5, 10.0)
            targets = targets.transpose(1, 2).contiguous().transpose(1, 2)  # sample-major, as chapter 2 passes them
        else:
            targets = torch.randint(0, c, (E, n), generator=gen)
        tokens, targets = tokens.to(device), targets.to(device)

        def step_time(fused: bool) -> float:
            model = TransformerEnsemble(P + 1, c, 3, d_model=dm, num_heads=H, d_mlp=d_mlp, seeds=range(E), device=device)
            saved = torch._fused_adamw_
            if not fused:
                torch._fused_adamw_ = _no_fused
            try:
                def train(steps):
                    fit(model, tokens, targets, steps=steps, lr=1e-3, betas=(0.9, 0.98), weight_decay=1.0)

                extra = 20
                return (timed(lambda: train(extra + 1), 3, device) - timed(lambda: train(1), 3, device)) / extra
            finally:
                torch._fused_adamw_ = saved

        t_fused, t_multi = step_time(True), step_time(False)
        # matmul FLOPs of the forward: per sample W_O, the MLP and the unembedding (the tables over the
        # vocabulary are a few percent of it); the backward costs about twice the forward
        achieved = 3 * 2 * E * n * (dm * dm + 2 * dm * d_mlp + dm * c) / t_fused
        print(f"{f'transformer {name} (ch. 2 cpu, E={E}, n={n})':<38} {t_fused * 1e3:6.1f} ms/step fused "
              f"(multi-tensor {t_multi * 1e3:.1f}), {achieved / 1e9:.1f} GFLOP/s vs float32 matmul ceiling "
              f"{ceiling / 1e9:.1f} GFLOP/s: {achieved / ceiling:.0%}")


def mlp_first_layer(device):
    """Chapter 2's MLP student at its ``cpu`` preset (every seed and teacher at the largest ρ): its first layer as the
    book runs it, a matmul with one-hot(a) ⊕ one-hot(b), against reading the two weight columns those one-hots pick
    (a gather: a quarter fewer multiply-adds per step), forward and backward, with the largest logit difference. The
    README cites it: the gather is not faster here, so chapter 2 keeps the matmul."""
    from softleak.data import one_hot_pairs
    from softleak.experiments import modular
    from softleak.models import MLPEnsemble

    cfg = modular.PRESETS["cpu"]
    a = cfg.mlp
    P, width, E = a.P, a.width, len(cfg.seeds) * 3
    n = int(max(cfg.rhos_of("mlp")) * int(a.frac * a.P**2))
    gen = torch.Generator().manual_seed(0)
    tokens = torch.randint(0, P, (E, n, 3), generator=gen)
    X = one_hot_pairs(tokens.reshape(-1, 3), P).reshape(E, n, 2 * P).to(device)
    model = MLPEnsemble((2 * P, width, width, P), range(E), device=device, logits_dtype=torch.float64)
    (W1, W2, W3), (b1, b2, b3) = model.weights, model.biases
    flat = (torch.arange(E)[:, None] * 2 * P + tokens[..., 0]).reshape(-1).to(device), \
        (torch.arange(E)[:, None] * 2 * P + P + tokens[..., 1]).reshape(-1).to(device)

    def gathered():
        T = W1.transpose(1, 2).reshape(E * 2 * P, width)  # row k of member e: its weights from input k
        h = torch.relu_((T[flat[0]] + T[flat[1]]).view(E, n, width).transpose(1, 2) + b1)
        h = torch.relu_(torch.baddbmm(b2, W2, h))
        return torch.baddbmm(b3, W3, h).double()

    with torch.no_grad():
        diff = float((model(X) - gathered()).abs().max())
    t_matmul = timed(lambda: model(X).sum().backward(), 10, device)
    t_gather = timed(lambda: gathered().sum().backward(), 10, device)
    print(f"{f'MLP student (ch. 2 cpu, E={E}, n={n})':<38} first layer as a one-hot matmul {t_matmul * 1e3:6.1f} ms "
          f"| as a gather {t_gather * 1e3:6.1f} ms (forward + backward); largest logit difference {diff:.1e}")


def compaction(device, num_models=20, steps=400):
    gen = torch.Generator().manual_seed(0)
    X = torch.randn(num_models, 2000, 100, generator=gen, dtype=torch.float64).to(device)
    y = torch.randint(0, 10, (num_models, 2000), generator=gen).to(device)
    half = torch.arange(num_models, device=device) < num_models // 2

    def run(compact, dtype=torch.float32):
        model = MLPEnsemble((100, 50, 10), range(num_models), dtype=dtype, device=device)
        fit(model, X.to(dtype), y, steps=steps, lr=1e-3, record_every=steps // 10, compact=compact,
            on_record=lambda step, row: half if step >= steps // 10 else None)
        return model

    def gap(dtype):
        a, b = run(True, dtype), run(False, dtype)
        return max(float((p - q).detach().abs().max()) for p, q in zip(a.parameters(), b.parameters()))

    t_on, t_off = timed(lambda: run(True), 3, device), timed(lambda: run(False), 3, device)
    print(f"{'compaction (E=20, half stop at 10 %)':<38} compacted {t_on * 1e3:7.0f} ms | frozen members carried "
          f"{t_off * 1e3:7.0f} ms | speed-up {t_off / t_on:4.2f}x (ideal {1 / (0.1 + 0.9 * 0.5):.2f}x); largest "
          f"parameter difference float64 {gap(torch.float64):.1e}, float32 {gap(torch.float32):.1e} (float32: the "
          "smaller batch rounds differently from about step 60, and memorizing random labels amplifies it)")


def closed_form(device, steps=300):
    """Chapter 4's linear students and teachers at ``cpu`` shapes: the closed-form cross-entropy gradient
    (``fit``'s default for linear models) against autograd (``closed_form=False``), per step, and how far apart
    the two runs' float32 parameters end."""
    from softleak.models import GroupedLinearEnsemble, LinearEnsemble

    gen = torch.Generator().manual_seed(0)
    G, S, c, d, n = 12, 16, 10, 100, 440  # tau_c10's largest batch: 12 cells x 16 students, n = ρ·|D*^T|
    X = torch.randn(G, n, d, generator=gen).to(device)
    T = soft_labels(torch.randn(G * S, c, n, generator=gen) * 3, 1.0).to(device)
    Xt, yt = torch.randn(12, 550, d, generator=gen).to(device), torch.randint(0, c, (12, 550), generator=gen).to(device)
    cases = {"students (G=12 x S=16, c=10, n=440)": (lambda: GroupedLinearEnsemble(d, c, range(G * S), group_size=S,
                                                                                   device=device), X, T),
             "teachers (E=12, c=10, n=550, hard)": (lambda: LinearEnsemble(d, c, range(12), device=device), Xt, yt)}
    for name, (make, inputs, targets) in cases.items():
        models = {}

        def run(closed, _make=make, _X=inputs, _t=targets):
            models[closed] = _make()
            fit(models[closed], _X, _t, steps=steps, lr=1e-3, closed_form=closed)

        t_closed, t_auto = timed(lambda: run(True), 3, device) / steps, timed(lambda: run(False), 3, device) / steps
        gap = max(float((p - q).abs().max()) for p, q in zip(models[True].parameters(), models[False].parameters()))
        print(f"{'closed-form linear ' + name:<38} {t_closed * 1e3:6.2f} ms/step | autograd {t_auto * 1e3:6.2f} ms/step "
              f"| speed-up {t_auto / t_closed:4.2f}x; float32 parameters {gap:.1e} apart after {steps} steps")


def plan_vs_build(preset: str = "cpu") -> None:
    import json

    from softleak.chapters import SECTIONS
    from softleak.claims import results_dir
    from softleak.experiments import load_all
    from softleak.plan import plan_chapter, rates_for

    load_all()
    rates = rates_for("cpu")
    for stem in SECTIONS:
        bound_1 = plan_chapter(stem, preset, rates=rates).totals["est. hours, 1 worker"] * 3600
        path = results_dir(stem, preset) / "claims.json"
        if not path.exists():
            print(f"{stem:<26} plan ≥ {bound_1:7.0f} s on one worker | no {preset} build in {path.parent}")
            continue
        prov = json.loads(path.read_text())["provenance"]
        workers = max(1, int((prov.get("cache") or {}).get("workers") or 1))
        seconds, bound = float(prov["seconds"]), bound_1 / workers
        sweeps = prov.get("sweeps") or []  # builds since the sweeps recorded their timings
        busy = (f" | workers busy {sum(t['busy_seconds'] for t in sweeps) / sum(t['seconds'] * t['workers'] for t in sweeps):.0%}"
                f" of {sum(t['seconds'] for t in sweeps):.0f} s in sweeps" if sweeps else "")
        rounds = len((prov.get("rounds") or {}).get("log") or [])
        note = f" | {rounds} rounds of seeds ran: the plan is round 1's" if rounds > 1 else ""
        print(f"{stem:<26} plan ≥ {bound:7.0f} s on {workers} worker(s) | last build {seconds:7.0f} s "
              f"({prov['date'][:10]}, commit {prov['commit'][:7]}) | ratio {seconds / bound:4.1f}x{busy}{note}")


def _no_fused(*args, **kwargs):
    raise RuntimeError("fused kernel disabled by the benchmark")


def transformer_paths(device):
    """The fast forward path (one query for every sample: score and value tables) against the general
    token-table path, at chapter 2's student shape."""
    from softleak.experiments import modular

    a = modular.PRESETS["cpu"].transformer
    P, E, n = a.P, 6, int(0.5 * a.frac * a.P**2)
    gen = torch.Generator().manual_seed(0)
    tokens = torch.randint(0, P, (E, n, 3), generator=gen)
    tokens[..., -1] = P
    targets = soft_labels(torch.randn(E, P, n, generator=gen, dtype=torch.float64) * 5, 10.0).to(device)
    tokens = tokens.to(device)

    def step_time(model) -> float:
        extra = 20
        train = lambda k: fit(model, tokens, targets, steps=k, lr=1e-3, betas=(0.9, 0.98), weight_decay=1.0)  # noqa: E731
        return (timed(lambda: train(extra + 1), 3, device) - timed(lambda: train(1), 3, device)) / extra

    kw = dict(d_model=a.d_model, num_heads=a.num_heads, d_mlp=a.d_mlp, seeds=range(E), device=device)
    fast, general = TransformerEnsemble(P + 1, P, 3, **kw), TransformerEnsemble(P + 1, P, 3, **kw)
    general.forward = general._forward_tables  # the path for tokens that do not all end alike
    t_fast, t_general = step_time(fast), step_time(general)
    print(f"{'transformer forward paths (E=6)':<38} fixed query {t_fast * 1e3:6.1f} ms/step | general "
          f"{t_general * 1e3:.1f} ms/step: {t_general / t_fast:.2f}x")


def dask_sweep() -> None:
    from distributed import Client, LocalCluster

    from softleak import sweeps
    from softleak.experiments import release

    cfg = release.PRESETS["smoke"]
    n = 2 * len(cfg.seeds) + len(cfg.canary.seeds)
    release.run(cfg, progress=False, workers=1)  # warm-up: imports, the digits
    start = time.perf_counter()
    release.run(cfg, progress=False, workers=1)
    here = time.perf_counter() - start
    start = time.perf_counter()
    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)
    client = Client(cluster)
    boot = time.perf_counter() - start
    try:
        sweeps.use_scheduler(client)
        release.run(cfg, progress=False)  # warm-up of the workers
        start = time.perf_counter()
        release.run(cfg, progress=False)
        there = time.perf_counter() - start
    finally:
        sweeps.use_scheduler(None)
        client.close()
        cluster.close()
    print(f"{'sweep (ch. 8 smoke, 6 configs)':<38} in-process {n / here:6.2f} configs/s | 2-worker LocalCluster "
          f"{n / there:6.2f} configs/s (cluster start {boot:.1f} s)")


def main() -> None:
    device = default_device()
    print(f"device {device}, torch {torch.__version__}, {torch.get_num_threads()} threads")
    speedup("toy (2→100→3, n=60, E=20)", (2, 100, 3), 60, 20, 300, device, 10)
    speedup("small MLP (100→50→10, n=2000, E=20)", (100, 50, 10), 2000, 20, 50, device, 2)
    large_epoch(device)
    tau_sweep(device)
    transformer_steps(device)
    transformer_paths(device)
    mlp_first_layer(device)
    compaction(device)
    closed_form(device)
    plan_vs_build()
    dask_sweep()


if __name__ == "__main__":
    main()
