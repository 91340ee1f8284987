"""The repository's own promises: pins agree, notebooks are clean, the toc matches the notebooks."""

import json
import re
from pathlib import Path

import yaml

from softleak.book import toc_chapters
from softleak.presets import SECTIONS

ROOT = Path(__file__).resolve().parents[1]


def requirement_lines():
    return [l.strip() for l in (ROOT / "requirements.txt").read_text().splitlines() if l.strip() and not l.startswith("#")]


def test_environment_yml_pip_list_equals_requirements():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    assert pip == requirement_lines()
    assert "python=3.11" in env["dependencies"]
    assert all("==" in line for line in requirement_lines())
    assert "torch==2.13.0" in requirement_lines()
    assert any(line.startswith("jupyter-book==1.") for line in requirement_lines())


def test_source_notebooks_are_clean_and_parameterised():
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        nb = json.loads(path.read_text())
        code = [c for c in nb["cells"] if c["cell_type"] == "code"]
        assert not any(c.get("outputs") or c.get("execution_count") for c in code), f"{path.name} has outputs"
        assert "parameters" in code[0]["metadata"].get("tags", []), f"{path.name}: first code cell is not 'parameters'"
        assert "preset" in "".join(code[0]["source"])
        ids = [c.get("id") for c in nb["cells"]]  # nbformat 4.5 requires them; papermill warns without
        assert None not in ids and len(set(ids)) == len(ids), f"{path.name}: cells without a unique id"
        text = "".join("".join(c["source"]) for c in nb["cells"])
        assert not [ch for ch in text if ord(ch) < 32 and ch not in "\n\t"], f"{path.name} has control characters"


def test_toc_chapters_exist_and_have_presets():
    chapters = toc_chapters(ROOT)
    assert chapters and chapters[0] == "01_toy_2d"
    for stem in chapters:
        assert (ROOT / "notebooks" / f"{stem}.ipynb").exists()
        assert stem in SECTIONS


def test_citation_file_names_this_version_and_the_paper():
    """CITATION.cff is valid YAML, carries the package's version, and lists the paper as references.bib spells it."""
    import softleak

    root = Path(__file__).resolve().parents[1]
    cff = yaml.safe_load((root / "CITATION.cff").read_text())
    assert cff["cff-version"] == "1.2.0" and cff["version"] == softleak.__version__
    bib = (root / "references.bib").read_text()
    title = re.search(r"@article\{behrens2025leak,.*?title\s*=\s*\{(.*?)\},", bib, re.S).group(1)
    assert title in [r["title"] for r in cff["references"]]


def test_no_module_imports_upward_by_name_and_no_import_cycle():
    """Lower modules ask softleak.chapters for a chapter instead of importing it by name: no importlib anywhere in
    the package, and the package's import graph (read from the sources, lazy imports included) has no cycle
    outside a package's own __init__ re-exports."""
    from softleak.provenance import PACKAGE_DIR, imported_files

    files = sorted(PACKAGE_DIR.rglob("*.py"))
    for f in files:
        assert "importlib" not in f.read_text(), f
    graph = {f: {g for g in imported_files(f, PACKAGE_DIR) if g != f and g.name != "__init__.py"} for f in files}
    state: dict = {}

    def visit(node, path):
        state[node] = "open"
        for nxt in graph.get(node, ()):
            assert state.get(nxt) != "open", " -> ".join(str(p.relative_to(PACKAGE_DIR)) for p in [*path, node, nxt])
            if nxt not in state:
                visit(nxt, [*path, node])
        state[node] = "done"

    for f in files:
        if f not in state:
            visit(f, [])


def test_every_notebook_starts_with_one_call_and_reaches_no_private_name(capsys):
    """The notebooks' setup is softleak.notebook.start; no notebook calls a private name of the package."""
    import json
    import re
    from pathlib import Path

    from softleak.notebook import start

    for path in sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb")):
        code = "\n".join("".join(c["source"]) for c in json.loads(path.read_text())["cells"] if c["cell_type"] == "code")
        assert code.count("start(NOTEBOOK, preset") == 1, path.name
        assert "presets.resolve(" not in code and "plan_for(" not in code, path.name
        private = re.findall(r"\b(?:softleak|toy2d|modular|logistic|multinomial|relu_mlp|gpt2|workshop|release|plotting|"
                             r"audit|claims|rules|theory|metrics)\._[A-Za-z]\w*", code)
        assert not private, (path.name, private)
    run = start("03_logistic_thresholds", "smoke", use_cache=False, seeds=[3, 4])
    assert run.cfg.seeds == (3, 4) and run.cache_dir is None and run.client is None
    assert "03_logistic_thresholds" in capsys.readouterr().out  # the plan, printed before anything trains
    import pytest

    with pytest.raises(ValueError, match="not a parameter"):
        start("03_logistic_thresholds", "smoke", plan=False, sigma=3)
