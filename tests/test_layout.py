"""The package's shape: no module over 800 lines, no function over 80 lines (declarative lists aside), and every
chapter a :class:`softleak.chapters.Chapter` whose figures live in modules named after them.

Run as a script to list the offenders under a folder: ``python tests/test_layout.py src/softleak/experiments``.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "softleak"
MAX_MODULE_LINES = 800
MAX_FUNCTION_LINES = 80


def _declarative(node: ast.AST) -> bool:
    """A literal list, tuple or dict whose every element is a call or a literal (a list of ClaimSpecs, Deviations,
    presets): data written as code, exempt from the function-length limit."""
    if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
        return bool(node.elts) and all(isinstance(e, (ast.Call, ast.Constant, ast.Dict, ast.List, ast.Tuple))
                                       for e in node.elts)
    if isinstance(node, ast.Dict):
        return bool(node.values) and all(isinstance(v, (ast.Call, ast.Constant, ast.Dict, ast.List, ast.Tuple))
                                         for v in node.values)
    return False


def function_lines(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> int:
    """A function's lines from ``def`` to its end, less its docstring and its declarative statements (a ``return``
    or assignment of a declarative literal)."""
    total = fn.end_lineno - fn.lineno + 1
    body = fn.body
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
            and isinstance(body[0].value.value, str):
        total -= body[0].end_lineno - body[0].lineno + 1
    for stmt in ast.walk(fn):
        value = stmt.value if isinstance(stmt, (ast.Return, ast.Assign, ast.AnnAssign)) else None
        if value is not None and _declarative(value):
            total -= stmt.end_lineno - stmt.lineno + 1
    return total


def offenders(root: Path = PACKAGE) -> list[str]:
    """Every module over :data:`MAX_MODULE_LINES` lines and every function over :data:`MAX_FUNCTION_LINES` under
    ``root``, as ``path:line name (n lines)``."""
    out = []
    for path in sorted(root.rglob("*.py")):
        text = path.read_text()
        rel = path.relative_to(PACKAGE.parent) if path.is_relative_to(PACKAGE.parent) else path
        if (n := len(text.splitlines())) > MAX_MODULE_LINES:
            out.append(f"{rel}: module of {n} lines")
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                if (n := function_lines(node)) > MAX_FUNCTION_LINES:
                    out.append(f"{rel}:{node.lineno} {node.name} ({n} lines)")
    return out


def test_function_length_counts_logic_not_docstrings_or_declarative_lists():
    src = ('def f():\n    """doc\n    more doc\n    """\n    x = 1\n    specs = [\n        Spec(1),\n        Spec(2),\n'
           '    ]\n    return [\n        Spec(3),\n    ]\n')
    fn = ast.parse(src).body[0]
    assert function_lines(fn) == 2  # def and x = 1
    logic = "def g():\n" + "".join(f"    y{i} = {i} + y\n" for i in range(81))
    assert function_lines(ast.parse(logic).body[0]) == 82


def test_no_module_over_800_lines_and_no_function_over_80():
    assert offenders() == []


def test_every_chapter_is_a_chapter_whose_figures_are_modules_named_after_them():
    from softleak.chapters import SECTIONS, Chapter, chapter

    for stem, module in SECTIONS.items():
        ch = chapter(stem)
        assert isinstance(ch, Chapter) and ch.figures, stem
        folder = PACKAGE.joinpath(*module.split(".")[1:])
        assert (folder / "__init__.py").exists(), f"{module} is a package"
        names = [f.name for f in ch.figures]
        assert len(set(names)) == len(names), stem
        files = {p.stem for p in folder.glob("*.py")}
        for fig in ch.figures:
            # the figure's code is in one file named after it (a file may hold two figures drawn by the same code)
            assert any(fig.name in f.split("_") or f == fig.name for f in files), (stem, fig.name, sorted(files))
            if fig.derive is not None:
                assert fig.derive.__module__.startswith(module), (stem, fig.name, fig.derive.__module__)
            if fig.needs is not None:  # the claim it waits for is one its own module declares
                source = (folder / f"{fig.derive.__module__.rsplit('.', 1)[1]}.py").read_text()
                assert f'"{fig.needs}"' in source, (stem, fig.name, fig.needs)


if __name__ == "__main__":
    for line in offenders(Path(sys.argv[1]).resolve() if len(sys.argv) > 1 else PACKAGE):
        print(line)
