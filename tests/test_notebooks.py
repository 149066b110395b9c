"""Notebooks: pairs in sync, papermill smoke runs, and the book build.

nbval itself runs from the pytest configuration (``--nbval`` on ``notebooks/``): it
re-executes each committed .ipynb and compares its outputs with the stored ones.
"""

import os
import sys
from pathlib import Path

import jupytext
import nbformat
import pytest
from conftest import SHARED_DATA

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "book"))
import build  # noqa: E402  (book/build.py)

CHAPTERS = build.toc_notebooks()


def test_every_chapter_has_a_source_and_an_executed_twin():
    assert CHAPTERS, "no chapter found in _toc.yml"
    for source in CHAPTERS:
        assert source.exists(), source
        assert source.with_suffix(".ipynb").exists(), f"{source} has no executed .ipynb"


@pytest.mark.parametrize("source", CHAPTERS, ids=lambda p: p.stem)
def test_pairs_are_in_sync(source):
    script = jupytext.read(source)
    executed = nbformat.read(source.with_suffix(".ipynb"), as_version=4)
    strip = [(c.cell_type, c.source.strip()) for c in script.cells]
    assert strip == [(c.cell_type, c.source.strip()) for c in executed.cells], (
        f"{source.name} and its .ipynb differ: run `make notebooks`"
    )
    for cell in executed.cells:
        if cell.cell_type == "code":
            assert cell.get("execution_count"), f"{source.stem}.ipynb has unexecuted cells"
    params = [c for c in script.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(params) == 1 and 'profile = "book"' in params[0].source


@pytest.mark.slow
@pytest.mark.parametrize("source", CHAPTERS, ids=lambda p: p.stem)
def test_papermill_smoke_profile(source, tmp_path, monkeypatch):
    """Each chapter runs end to end on the smoke profile, training for real."""
    monkeypatch.setenv("LVAE_RESULTS_DIR", str(tmp_path / "results"))
    if SHARED_DATA.is_dir():  # the image chapter's smoke runs on real MNIST and Olivetti too
        monkeypatch.setenv("LVAE_DATA_DIR", str(SHARED_DATA))
    output = tmp_path / f"{source.stem}.ipynb"
    build.execute_with_papermill(source, output, {"profile": "smoke"})
    nb = nbformat.read(output, as_version=4)
    text = "\n".join(
        "".join(o.get("text", "")) for c in nb.cells if c.cell_type == "code" for o in c.outputs
    )
    assert "profile smoke" in text
    if "experiments." in source.read_text():  # a chapter that trains stores its records
        assert list((tmp_path / "results").rglob("*.json")), "the smoke run stored no record"


@pytest.mark.slow
def test_book_builds_with_offline_math(tmp_path):
    assert build.main(["--out", str(tmp_path)]) == 0
    site = tmp_path / "html"
    for page in ("index.html", "book/bibliography.html"):
        assert (site / page).is_file(), page
    for source in CHAPTERS:
        chapter = (site / "notebooks" / f"{source.stem}.html").read_text()
        if 'class="math' in chapter:  # Sphinx loads MathJax only on pages with math
            assert "_static/mathjax/tex-mml-chtml.js" in chapter
        assert "cdn.jsdelivr.net" not in chapter and "mathjax@3" not in chapter
        if "experiments." in source.read_text():  # the chapters with results show figures
            assert chapter.count("<img") >= 2, f"{source.stem} shows no figures"
        assert "profile book" in chapter, f"{source.stem} does not print its provenance"
    assert (site / "_static/mathjax/tex-mml-chtml.js").is_file()
    assert (site / "_static/mathjax/output/chtml/fonts/woff-v2").is_dir()
    assert "Berger" in (site / "book/bibliography.html").read_text()
    assert os.path.getsize(site / "notebooks/01_hypersphere.html") > 50_000
    assert 'class="math' in (site / "notebooks/01_hypersphere.html").read_text()
