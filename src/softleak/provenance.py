"""Where a result came from: source fingerprints (for the cache) and provenance (for ``claims.json``).

The **source fingerprint** of a run is a hash of the package files the run depends on: the core
modules that train and measure (:data:`CORE_MODULES`), the chapter's own module and every package
module it imports, transitively (read from its source, so that chapter 7's use of chapter 2's code or
chapter 8's of the audit is never missed). It is part of
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
    """``"softleak.experiments.toy2d"`` or ``"experiments/toy2d.py"`` -> its file under ``root`` (a package's
    ``__init__.py``)."""
    if module.endswith(".py"):
        return root / module
    parts = module.split(".")
    if parts[0] == "softleak":
        parts = parts[1:]
    if (root.joinpath(*parts) / "__init__.py").exists():
        return root.joinpath(*parts) / "__init__.py"
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


#: modules that only write pages (figures, tables, the book) or plan compute: their edits never change a result,
#: so the import closure behind a cache key does not follow them
PAGES_ONLY = ("chapters.py", "claims.py", "rules.py", "plan.py", "presets.py", "provenance.py", "pages.py", "book.py", "plotting")


def _is_pages_only(path: Path, root: Path) -> bool:
    rel = path.relative_to(root)
    return str(rel) in PAGES_ONLY or rel.parts[0] in PAGES_ONLY


def _resolve_import(name: str, root: Path) -> list[Path]:
    """The package file behind a dotted name under ``root`` (``audit.stats`` -> audit/stats.py, ``audit`` ->
    audit/__init__.py); a name that is an attribute rather than a module gives its module's file. A package's
    ``__init__.py`` counts when the package itself is imported, not when one of its submodules is: a chapter
    package's ``__init__`` assembles its figures, and a run that imports the chapter's config must not depend
    on them."""
    parts = [p for p in name.split(".") if p]
    here, found = root, None
    for part in parts:
        if (here / part).is_dir() and (here / part / "__init__.py").exists():
            here = here / part
            found = here / "__init__.py"
        elif (here / f"{part}.py").exists():
            found = here / f"{part}.py"
            break
        else:
            break
    return [found] if found is not None else []


def imported_files(path: Path, root: Path) -> set[Path]:
    """The package files ``path`` imports, directly: ``import softleak.x``, ``from softleak.x import y`` and
    relative imports, at any depth of the file (a function's lazy import counts)."""
    import ast

    tree = ast.parse(path.read_text(), filename=str(path))
    package = path.parent.relative_to(root).parts
    found: set[Path] = set()
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [a.name.removeprefix("softleak.") for a in node.names if a.name.split(".")[0] == "softleak"]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = list(package[: len(package) - (node.level - 1)]) if node.level > 1 else list(package)
                mod = ".".join([*base, *(node.module.split(".") if node.module else [])])
            elif node.module and node.module.split(".")[0] == "softleak":
                mod = node.module.removeprefix("softleak").lstrip(".")
            else:
                continue
            names = [mod] + [f"{mod}.{a.name}" if mod else a.name for a in node.names]
        for name in names:
            found.update(_resolve_import(name, root))
    return found


def import_closure(*modules: str, package_dir: Path | None = None, follow_pages: bool = False) -> set[Path]:
    """The files of ``modules`` and of every package module they import, transitively. Pages-only modules
    (:data:`PAGES_ONLY`) are neither followed nor included unless ``follow_pages``."""
    root = package_dir or PACKAGE_DIR
    todo = []
    for m in modules:
        p = _module_path(m, root)
        if not p.exists():
            raise FileNotFoundError(f"module {m!r} has no source file at {p}")
        todo.append(p)
    seen: set[Path] = set()
    while todo:
        p = todo.pop()
        if p in seen or (not follow_pages and _is_pages_only(p, root) and str(p.relative_to(root)) != "__init__.py"
                         and p not in {_module_path(m, root) for m in modules}):
            continue
        seen.add(p)
        todo.extend(imported_files(p, root) - seen)
    return seen


def source_fingerprint(*modules: str, package_dir: Path | None = None) -> str:
    """Fingerprint of the core modules plus ``modules`` (dotted names or package-relative paths) and every
    package module they import, transitively (:func:`import_closure`; pages-only modules are not followed).

    Raises:
        FileNotFoundError: if a named module has no file in the package.
    """
    root = package_dir or PACKAGE_DIR
    paths = {root / m for m in CORE_MODULES} | import_closure(*modules, package_dir=root)
    return file_digest(paths, root)


#: modules that turn a chapter's results into its claims and verdicts
VERDICT_MODULES = ("rules.py", "claims.py", "chapters.py")


def chapter_fingerprint(notebook: str) -> str:
    """The fingerprint of everything a chapter's numbers and verdicts depend on: the core modules, the
    chapter's module and every package module it imports (transitively), and the claims modules. A chapter
    whose ``claims.json`` records another fingerprint is stale (figures and pages-only code may change
    without making it so)."""
    from .chapters import SECTIONS

    return source_fingerprint(SECTIONS[notebook], *VERDICT_MODULES)


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
    from .chapters import SECTIONS

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
