"""Sweeps on Dask: a LocalCluster of 2 single-thread worker processes gives the in-process table, a worker
killed mid-sweep is retried without losing a finished result, a raising task names its config, and a
rerun recomputes nothing that was cached."""

import os
import sys
from pathlib import Path

import cloudpickle
import pandas as pd
import pytest
import torch

from softleak import sweeps
from softleak.experiments import release

distributed = pytest.importorskip("distributed")
cloudpickle.register_pickle_by_value(sys.modules[__name__])  # the workers cannot import this test module


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)
    c = distributed.Client(cluster)
    yield c
    c.close()
    cluster.close()


def _square(configs):
    return [pd.DataFrame({"y": [c["x"] ** 2], "pid": [os.getpid()]}) for c in configs]


def _dies_once(configs, marker: str):
    out = []
    for c in configs:
        if c["x"] == 3 and not Path(marker).exists():
            Path(marker).write_text("killed")
            os._exit(1)  # the worker process dies in the middle of the sweep
        out.append(pd.DataFrame({"y": [c["x"] ** 2]}))
    return out


def _raises(configs):
    for c in configs:
        if c["x"] == 2:
            raise ValueError("bad config x=2")
    return [pd.DataFrame({"y": [c["x"] ** 2]}) for c in configs]


def test_a_chapter_sweep_on_dask_equals_the_in_process_run(client):
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        here = release.run(release.PRESETS["smoke"], progress=False, workers=1)
    finally:
        torch.set_num_threads(threads)
    sweeps.use_scheduler(client)
    try:
        there = release.run(release.PRESETS["smoke"], progress=False)
    finally:
        sweeps.use_scheduler(None)
    for name in ("random", "canary"):
        pd.testing.assert_frame_equal(here[name], there[name])
    assert there["random"].attrs["cache"]["workers"] == 2


def test_both_workers_take_tasks(client):
    out = sweeps.run_sweep(_square, [{"x": i} for i in range(8)], cache_dir=None, namespace="t", progress=False,
                           executor=client)
    assert out["y"].tolist() == [i * i for i in range(8)]  # the configs' order, whatever finished first


def test_a_killed_worker_is_retried_and_the_rerun_recomputes_nothing(client, tmp_path):
    from functools import partial

    fn = partial(_dies_once, marker=str(tmp_path / "killed"))
    configs = [{"x": i} for i in range(6)]
    out = sweeps.run_sweep(fn, configs, cache_dir=tmp_path / "cache", namespace="kill", progress=False, executor=client)
    assert (tmp_path / "killed").exists() and out["y"].tolist() == [i * i for i in range(6)]
    again = sweeps.run_sweep(fn, configs, cache_dir=tmp_path / "cache", namespace="kill", progress=False, executor=client)
    assert again.attrs["cache"]["from_cache"] == 6 and again.attrs["cache"]["computed"] == 0


def test_a_raising_task_names_its_config_and_the_others_are_kept(client, tmp_path):
    configs = [{"x": i} for i in range(5)]
    with pytest.raises(RuntimeError, match=r'"x": 2.*bad config x=2'):
        sweeps.run_sweep(_raises, configs, cache_dir=tmp_path, namespace="raise", progress=False, executor=client)
    ok = [c for c in configs if c["x"] != 2]
    again = sweeps.run_sweep(_raises, ok, cache_dir=tmp_path, namespace="raise", progress=False, executor=client)
    assert again.attrs["cache"]["from_cache"] == 4


def test_connect_rejects_a_bad_scheduler_before_connecting():
    assert sweeps.connect(None) is None
    with pytest.raises(ValueError, match="scheduler='cluster'"):
        sweeps.connect("cluster")


def test_the_slurm_example_script_is_valid_python():
    import ast

    source = (Path(__file__).resolve().parents[1] / "scripts" / "slurm_dask.py").read_text()
    tree = ast.parse(source)
    calls = {n.func.id for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)}
    assert {"SLURMCluster", "Client"} <= calls


def _gpu_check():
    import importlib.util

    path = Path(__file__).resolve().parents[1] / "scripts" / "gpu_check.py"
    spec = importlib.util.spec_from_file_location("gpu_check", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_gpu_check_compares_exact_and_float_columns():
    gc = _gpu_check()
    a = pd.DataFrame({"seed": [1, 2], "acc": [0.5, 0.75], "loss": [1.0, 2.0]})
    same = gc.compare(a, a.copy())
    assert set(same["exact"]) == {"seed", "acc", "loss"} and not same["differ"]
    b = a.assign(acc=[0.52, 0.75], seed=[1, 3])
    r = gc.compare(a, b, tolerance=0.05)
    assert r["close"] == ["acc"] and r["differ"] == ["seed: 1 of 2 rows differ"]
    assert gc.compare(a, a.assign(loss=[1.0, 9.0]), tolerance=0.05)["differ"][0].startswith("loss: max")


def test_gpu_check_says_it_skipped_without_a_gpu(capsys, monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert _gpu_check().main([]) == 0
    assert "gpu-check skipped: no CUDA device" in capsys.readouterr().out
