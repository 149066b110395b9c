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
    monkeypatch.setenv("LVAE_ALLOW_TRAINING", "1")  # nothing is stored there: train it
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


def _text_outputs(nb):
    """(cell index, kind, text) of every text output of a notebook: stream text, and the
    text/plain, text/html and text/markdown of displays, results and glued values."""
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        for out in cell.get("outputs", []):
            if out.get("output_type") == "stream":
                yield i, "stream", out.get("text", "")
                continue
            for mime, value in out.get("data", {}).items():
                # glue stores its values under application/papermill.record/<mime>
                if mime.split("/", 2)[-1] in (
                    "text/plain",
                    "text/html",
                    "text/markdown",
                ) or mime in (
                    "text/plain",
                    "text/html",
                    "text/markdown",
                ):
                    yield i, mime, value if isinstance(value, str) else "".join(value)


@pytest.mark.parametrize("source", CHAPTERS, ids=lambda p: p.stem)
def test_printed_numbers_follow_the_rounding_convention(source):
    """No committed output shows a decimal number with more than 4 significant digits.

    The rule (``lvae.report.too_precise``): in every stream text, text/plain, text/html
    and text/markdown output, glued values included, a decimal literal (one with a decimal
    point or an exponent, like ``0.00758929`` or ``9.0039e-01``) may show at most
    ``lvae.report.MAX_DIGITS`` = 4 significant digits, counted from its first non-zero
    digit to its last written digit (trailing zeros count: ``1.0000`` shows 5). Integers
    written without a point (counts, steps, seeds, years) are exempt, and so are digits
    inside identifiers, commit hashes and version strings (``b2e00d34c410``, ``2.13.0``,
    ``T_table1_row0``): a number must not touch a letter, an underscore or a further
    ``.digit``. HTML tags and ``<style>`` blocks are ignored. Why: the last digits of an
    optimiser's or a quadrature's result differ between processors and thread counts, and
    nbval compares the text; results more precise than that are reported as "below" a
    stated tolerance instead.
    """
    from lvae.report import too_precise

    nb = nbformat.read(source.with_suffix(".ipynb"), as_version=4)
    bad = [(i, kind, too_precise(text)) for i, kind, text in _text_outputs(nb)]
    bad = [b for b in bad if b[2]]
    assert not bad, f"{source.stem}.ipynb: numbers with more than 4 significant digits: {bad}"


def test_the_rounding_check_catches_the_processor_dependent_digits():
    from lvae.report import too_precise

    line = "  D=10  R/sigma - sqrt(D) = 0.001   (r*)^2 = 0.00758929   law: 0.00758947"
    assert too_precise(line) == ["0.00758929", "0.00758947"]
    assert too_precise("(r*)^2 = 0.007589   law: 0.007589") == []


MAX_LINE = 88  # characters of monospace text that fit the book's column at 1280 px


@pytest.mark.parametrize("source", CHAPTERS, ids=lambda p: p.stem)
def test_text_outputs_fit_the_page(source):
    """Printed text lines are at most 88 characters (what the book's column holds at a
    1280-px window), so plain-text tables cannot creep back: a table is a captioned HTML
    table (``lvae.report.table``), which wraps."""
    nb = nbformat.read(source.with_suffix(".ipynb"), as_version=4)
    long = [
        (i, len(line), line[:60])
        for i, kind, text in _text_outputs(nb)
        if kind in ("stream", "text/plain")
        for line in text.splitlines()
        if len(line) > MAX_LINE
    ]
    assert not long, f"{source.stem}.ipynb: output lines over {MAX_LINE} characters: {long}"


@pytest.mark.parametrize("source", CHAPTERS, ids=lambda p: p.stem)
def test_long_code_cells_are_collapsed(source):
    """Code cells longer than 12 non-blank lines carry the ``hide-input`` tag (the book
    shows narrative, tables and figures first); the parameters cell stays visible."""
    for cell in jupytext.read(source).cells:
        tags = cell.metadata.get("tags", [])
        if cell.cell_type != "code":
            continue
        if "parameters" in tags:
            assert "hide-input" not in tags
        elif sum(1 for line in cell.source.splitlines() if line.strip()) > 12:
            assert "hide-input" in tags, f"{source.stem}: a long code cell is not collapsed"
