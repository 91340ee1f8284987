"""End to end: execute every chapter at the smoke preset with papermill and build the book with -W."""

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from softleak.book import toc_chapters

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_smoke_book_builds_with_warnings_as_errors(tmp_path, monkeypatch):
    book = tmp_path / "book_root"
    book.mkdir()
    for name in ("_config.yml", "_toc.yml", "references.bib", "pyproject.toml"):
        shutil.copy(ROOT / name, book / name)
    shutil.copytree(ROOT / "_static", book / "_static")
    shutil.copytree(ROOT / "book", book / "book", ignore=shutil.ignore_patterns("chapters", "scoreboard.md", "status.md", "report.md"))
    monkeypatch.setenv("SOFTLEAK_RESULTS_DIR", str(tmp_path / "results"))
    python = sys.executable
    for step in (["execute", "--preset", "smoke", "--notebooks", str(ROOT / "notebooks")],
                 ["scoreboard", "--preset", "smoke"]):
        subprocess.run([python, "-m", "softleak.book", *step, "--root", str(book)], check=True)
    jb = Path(python).with_name("jupyter-book")
    done = subprocess.run([str(jb), "build", str(book), "-W", "-n", "--keep-going"], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]

    html = book / "_build" / "html"
    assert (html / "index.html").exists()
    # a reader with no network: every script and stylesheet comes from the build, MathJax included
    assert (html / "_static" / "mathjax" / "tex-chtml.js").exists()
    remote = re.compile(r'<(?:script|link)\b[^>]*\b(?:src|href)="(?:https?:)?//[^"]*"')
    for page in html.rglob("*.html"):
        assert not remote.findall(page.read_text()), (page, remote.findall(page.read_text()))
    assert 'src="../../_static/mathjax/tex-chtml.js"' in (html / "book" / "chapters" / "01_toy_2d.html").read_text()
    for stem in toc_chapters(book):
        page = (html / "book" / "chapters" / f"{stem}.html").read_text()
        assert "Does it reproduce?" in page and "<img" in page
        assert "Deviations from the paper" in page and "why" in page, stem  # the deviations table
        payload = json.loads((tmp_path / "results" / stem / "smoke" / "claims.json").read_text())
        for key in ("commit", "dirty", "source_fingerprint", "softleak", "torch", "device", "seconds", "config"):
            assert key in payload["provenance"], (stem, key)
        assert payload["claims"] and all(c["kind"] in ("paper", "book", "premise") and c["rule"] and "evidence" in c for c in payload["claims"]), stem
        assert (tmp_path / "results" / stem / "smoke" / "table.parquet").exists()
        text = " ".join(re.sub(r"<[^>]+>", " ", page).split())  # the page's words, code spans joined
        assert "Run it yourself" in text and "-p preset paper" in text and "planned cost" in text, stem
        assert page.count("Run: preset smoke; seeds") >= 1, stem  # every chapter's figures carry their run
        for name in ("table.parquet", "table.csv", "claims.json", f"{stem}.ipynb"):
            assert name in page and (book / "book" / "chapters" / "downloads" / stem / name).exists(), (stem, name)
    chapter1 = (html / "book" / "chapters" / "01_toy_2d.html").read_text()
    assert 'id="fig-toy-c3"' in chapter1 and 'id="fig-toy-c20"' in chapter1  # captioned figures
    assert "glue" not in chapter1.split("What the run shows")[1][:2000].lower()  # glued numbers rendered
    scoreboard = (html / "book" / "scoreboard.html").read_text()
    assert "teacher reaches 100" in scoreboard.lower() and "tested claims reproduce" in scoreboard
    assert "inconclusive" in scoreboard and "not tested at this preset" in scoreboard
    assert "Stale" not in scoreboard  # every chapter was run by this build
    status = (html / "book" / "status.html").read_text()
    assert "Build status" in status and status.count(">yes<") == len(toc_chapters(book))  # every chapter current
    report = (html / "book" / "report.html").read_text()
    for section in ("Scope of reproducibility", "Methodology and compute", "What was difficult",
                    "Discrepancies between the paper and the authors", "tail-cut ablation"):
        assert section in report, section


def test_execute_refuses_a_stem_that_is_not_a_chapter_before_running_anything():
    from softleak.book import execute

    with pytest.raises(ValueError, match=r"only='08_release' is not allowed: only must be one of .*'08_release_safely'"):
        execute("smoke", root=ROOT, notebooks=ROOT / "notebooks", only=["01_toy_2d", "08_release"])
