"""Every papermill command the README shows runs as printed, at the smoke preset."""

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def readme_commands() -> list[str]:
    """The ``.venv/bin/papermill`` lines of the README's bash blocks, comments stripped."""
    text = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```bash\n(.*?)```", text, flags=re.S)
    lines = [line.split("  #")[0].strip() for block in blocks for line in block.splitlines()]
    return [line for line in lines if line.startswith(".venv/bin/papermill ")]


def test_the_readme_shows_papermill_commands_with_list_parameters():
    commands = readme_commands()
    assert len(commands) >= 3
    assert any('"[' in c for c in commands) and any(" -y " in c for c in commands)


@pytest.fixture(scope="module")
def local_gpt2(tmp_path_factory):
    """A small GPT-2 saved to a folder with its tokenizer: stands in for the README's /path/to/gpt2."""
    from softleak import presets
    from softleak.experiments import gpt2

    folder = tmp_path_factory.mktemp("gpt2")
    cfg = presets.resolve("06_gpt2", "smoke")
    texts, _ = gpt2.sentences(cfg.n, cfg.c, cfg.max_number, seed=0)
    tok = gpt2.train_tokenizer(texts, cfg.vocab_size)
    gpt2.build(cfg, tok, seed=0, device="cpu").save_pretrained(folder)
    tok.save_pretrained(folder)
    return folder


@pytest.mark.slow
@pytest.mark.parametrize("command", readme_commands())
def test_readme_command_runs_at_smoke(command, tmp_path, local_gpt2, fake_cifar):
    args = shlex.split(command)
    args[0] = str(Path(sys.executable).with_name("papermill"))
    stand_ins = {"/path/to/gpt2": str(local_gpt2), "/path/to/cifar-10-batches-py": str(fake_cifar)}
    args = [stand_ins.get(a, a) for a in args]
    args = ["smoke" if a in ("cpu", "paper") and args[i - 1] == "preset" else a for i, a in enumerate(args)]
    args = [str(tmp_path / "out.ipynb") if a == "out.ipynb" else a for a in args]
    env = {**os.environ, "SOFTLEAK_PRESET": "smoke", "SOFTLEAK_RESULTS_DIR": str(tmp_path / "results")}
    done = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
