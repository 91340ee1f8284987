import pytest
import torch


@pytest.fixture(autouse=True)
def _results_dir(tmp_path, monkeypatch):
    """No test writes into the repository's results/ folder."""
    monkeypatch.setenv("SOFTLEAK_RESULTS_DIR", str(tmp_path / "results"))


@pytest.fixture
def f64():
    return torch.float64
