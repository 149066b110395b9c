"""Serve MathJax 3 from the built site instead of a CDN, so math renders offline.

The files come from the ``django-static-mathjax`` package on PyPI (import name
``mathjax``), which ships MathJax's ``es5`` distribution. ``_config.yml`` points
``mathjax_path`` at ``mathjax/tex-mml-chtml.js``, a path inside ``_static``.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from sphinx.errors import ExtensionError


def mathjax_dist() -> Path:
    try:
        import mathjax
    except ImportError as exc:
        raise ExtensionError(
            "offline_mathjax: the package 'django-static-mathjax' is not installed; "
            "install the book extra: pip install -e '.[book]'"
        ) from exc
    dist = Path(mathjax.__file__).parent / "static" / "mathjax" / "es5"
    if not (dist / "tex-mml-chtml.js").is_file():
        raise ExtensionError(f"offline_mathjax: no tex-mml-chtml.js under {dist}")
    return dist


def _copy_mathjax(app, exception) -> None:
    if exception is None and app.builder.format == "html":
        target = Path(app.outdir) / "_static" / "mathjax"
        shutil.copytree(mathjax_dist(), target, dirs_exist_ok=True)


def setup(app):
    mathjax_dist()  # fail early, before any page is read
    app.connect("build-finished", _copy_mathjax)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
