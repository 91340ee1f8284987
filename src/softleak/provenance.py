"""Where a result came from: source fingerprints (for the cache) and provenance (for ``claims.json``).

The **source fingerprint** of a run is a hash of the package files the run depends on: the core
modules that train and measure (:data:`CORE_MODULES`) and the chapter's own module. It is part of
every result-cache key, so a commit that changes how results are computed never serves old ones.
Pages-only modules (claims, rules, plotting, the book's build steps) are left out: editing a
caption or a rule's text does not retrain anything.

The **provenance** of a chapter run records the commit (and whether the tree was dirty), the
chapter's fingerprint (:func:`chapter_fingerprint`: the code behind its results *and* its
verdicts), versions, device, the resolved config, seeds, date and wall time.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import functools
import hashlib
import json
import platform
import subprocess
from collections.abc import Iterable
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent

#: modules (relative to the package) whose code decides what a training run computes
CORE_MODULES = (
    "__init__.py", "runtime.py", "config.py", "data.py", "models.py", "training.py", "distillation.py",
    "metrics.py", "theory.py", "sweeps.py",
)


def _module_path(module: str, root: Path) -> Path:
    """``"softleak.experiments.toy2d"`` or ``"experiments/toy2d.py"`` -> its file under ``root``."""
    if module.endswith(".py"):
        return root / module
    parts = module.split(".")
    if parts[0] == "softleak":
        parts = parts[1:]
    return root.joinpath(*parts).with_suffix(".py")


def file_digest(paths: Iterable[Path], root: Path) -> str:
    """sha256 over (relative path, bytes) of each file, in sorted order; 16 hex digits."""
    h = hashlib.sha256()
    for path in sorted(set(paths)):
        h.update(str(path.relative_to(root)).encode())
        h.update(b"\0")
        h.update(path.read_bytes())
        h.update(b"\0")
    return h.hexdigest()[:16]


def source_fingerprint(*modules: str, package_dir: Path | None = None) -> str:
    """Fingerprint of the core modules plus ``modules`` (dotted names or package-relative paths).

    Raises:
        FileNotFoundError: if a named module has no file in the package.
    """
    root = package_dir or PACKAGE_DIR
    paths = [root / m for m in CORE_MODULES]
    for m in modules:
        p = _module_path(m, root)
        if not p.exists():
            raise FileNotFoundError(f"module {m!r} has no source file at {p}")
        paths.append(p)
    return file_digest(paths, root)


#: modules that turn a chapter's results into its claims and verdicts
VERDICT_MODULES = ("rules.py", "claims.py")


def chapter_fingerprint(notebook: str) -> str:
    """The fingerprint of everything a chapter's numbers and verdicts depend on: the core modules,
    the chapter's module and the claims modules. A chapter whose ``claims.json`` records another
    fingerprint is stale (figures and pages-only code may change without making it so). A chapter module's
    ``DEPENDS_ON`` names further package modules its results depend on."""
    import importlib

    from .presets import SECTIONS

    extra = getattr(importlib.import_module(SECTIONS[notebook]), "DEPENDS_ON", ())  # e.g. chapter 8's softleak.audit
    return source_fingerprint(SECTIONS[notebook], *extra, *VERDICT_MODULES)


@functools.lru_cache(maxsize=None)
def _git(*args: str) -> str | None:
    try:
        out = subprocess.run(["git", *args], cwd=PACKAGE_DIR, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout.strip() if out.returncode == 0 else None


def git_state() -> dict[str, object]:
    """``{"commit": sha or None, "dirty": bool or None}`` of the repository holding the package.

    Dirty means tracked files under ``src/`` or ``notebooks/`` differ from the commit (results and
    built pages are not counted).
    """
    commit = _git("rev-parse", "HEAD")
    if commit is None:
        return {"commit": None, "dirty": None}
    top = _git("rev-parse", "--show-toplevel")
    status = _git("status", "--porcelain", "--untracked-files=no", "--", f"{top}/src", f"{top}/notebooks")
    return {"commit": commit, "dirty": bool(status)}


def plain_config(config) -> object:
    if dataclasses.is_dataclass(config):
        config = dataclasses.asdict(config)
    return json.loads(json.dumps(config, default=str))


def _sections():
    from .presets import SECTIONS

    return SECTIONS


def provenance(*, notebook: str, config, preset: str, seeds, started: float, finished: float, device=None,
               cache: dict | None = None) -> dict[str, object]:
    """The provenance record of one chapter run (see the module docstring)."""
    import torch

    from . import __version__
    from .runtime import default_device

    dev = str(device if device is not None else default_device())
    return {
        **git_state(),
        "source_fingerprint": chapter_fingerprint(notebook) if notebook in _sections() else source_fingerprint(),
        "softleak": __version__,
        "torch": torch.__version__,
        "python": platform.python_version(),
        "device": dev,
        "device_name": torch.cuda.get_device_name(0) if dev.startswith("cuda") else (platform.processor() or platform.machine()),
        "torch_threads": torch.get_num_threads(),
        "host": platform.node(),
        "preset": preset,
        "config": plain_config(config),
        "seeds": plain_config(list(seeds)),
        "date": _dt.datetime.fromtimestamp(finished, _dt.timezone.utc).isoformat(timespec="seconds"),
        "seconds": round(finished - started, 1),
        "cache": cache,
    }
