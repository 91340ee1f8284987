import pytest
import torch

from softleak.experiments import load_all

load_all()  # every chapter registered (softleak.chapters): tests ask presets and plans of any chapter by stem


@pytest.fixture(autouse=True)
def _results_dir(tmp_path, monkeypatch):
    """No test writes into the repository's results/ folder."""
    monkeypatch.setenv("SOFTLEAK_RESULTS_DIR", str(tmp_path / "results"))


@pytest.fixture
def f64():
    return torch.float64


def write_fake_cifar(folder, images: int = 10, bad: str | None = None):
    """A CIFAR-10 python folder in the standard layout, with a few random images per batch; ``bad``
    = "missing" leaves out data_batch_5, "shape" writes images of the wrong size."""
    import pickle

    import numpy as np

    for i in range(1, 6):
        if bad == "missing" and i == 5:
            continue
        data = np.random.default_rng(i).integers(0, 256, (images, 3072), dtype=np.uint8)
        batch = {b"data": data[:, :10] if bad == "shape" else data, b"labels": [k % 10 for k in range(images)]}
        with open(folder / f"data_batch_{i}", "wb") as fh:
            pickle.dump(batch, fh)
    return folder


@pytest.fixture(scope="session")
def fake_cifar(tmp_path_factory):
    """A tiny CIFAR-10 copy: stands in for the README's /path/to/cifar-10-batches-py."""
    return write_fake_cifar(tmp_path_factory.mktemp("cifar-10-batches-py"))
