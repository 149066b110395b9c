"""Execute the book's notebooks and build the HTML book, leaving tracked files untouched.

    python book/build.py                 # make book: execute fresh (papermill), then build
    python book/build.py --profile smoke # the same on the seconds-long smoke profile
    python book/build.py --update-golden # make notebooks: refresh the committed .ipynb outputs
    python book/build.py --train ...     # make book TRAIN=1: train the records that are missing

The jupytext percent ``notebooks/NN_*.py`` files are the sources. For the book they are
converted and executed into ``_build/stage``, a copy of the book sources, and Jupyter Book
renders that copy (``execute_notebooks: off``), failing on any warning. The rendered site
ends up in ``_build/html``.

A build only loads records: a chapter whose record is missing fails at once with the
command that makes it (``lvae.experiments.MissingRecord``), instead of training for an hour
inside a notebook. ``--train`` (or ``LVAE_ALLOW_TRAINING=1`` in the environment) lets the
chapters train what is missing; the smoke profile, which stores nothing, needs it.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
BOOK_SOURCES = ("_config.yml", "_toc.yml", "book")


def toc_notebooks(root: Path = ROOT) -> list[Path]:
    """Chapter sources (``notebooks/*.py``) in the order of ``_toc.yml``."""
    toc = yaml.safe_load((root / "_toc.yml").read_text())
    files: list[str] = []

    def walk(node):
        if isinstance(node, dict):
            if isinstance(node.get("file"), str):
                files.append(node["file"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(toc)
    chapters = [root / (f.removesuffix(".ipynb") + ".py") for f in files]
    return [p for p in chapters if p.parent.name == "notebooks"]


def execute_with_papermill(source: Path, output: Path, parameters: dict) -> None:
    """Convert a percent script to a notebook and execute it with papermill."""
    import jupytext
    import papermill

    output.parent.mkdir(parents=True, exist_ok=True)
    unexecuted = output.with_suffix(".unexecuted.ipynb")
    jupytext.write(jupytext.read(source), unexecuted)
    try:
        papermill.execute_notebook(
            str(unexecuted),
            str(output),
            parameters=parameters,
            kernel_name="python3",
            cwd=str(source.parent),
            progress_bar=False,
        )
    finally:
        unexecuted.unlink(missing_ok=True)


def update_golden(source: Path) -> None:
    """Execute ``source`` and write its paired .ipynb (the file nbval compares against).

    nbclient runs it without timing metadata, so re-running leaves a clean diff.
    """
    import jupytext
    from nbclient import NotebookClient

    nb = jupytext.read(source)
    client = NotebookClient(
        nb,
        timeout=3600,
        kernel_name="python3",
        record_timing=False,
        resources={"metadata": {"path": str(source.parent)}},
    )
    client.execute()
    jupytext.write(nb, source.with_suffix(".ipynb"))


def stage_sources(stage: Path) -> None:
    if stage.exists():
        shutil.rmtree(stage)
    stage.mkdir(parents=True)
    for name in BOOK_SOURCES:
        src = ROOT / name
        if src.is_dir():
            shutil.copytree(src, stage / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(src, stage / name)


def build_html(stage: Path, site: Path) -> None:
    jb = Path(sys.executable).with_name("jupyter-book")
    cmd = [str(jb), "build", str(stage), "--builder", "html", "-W", "-n", "--keep-going"]
    print(">>", " ".join(cmd), flush=True)
    subprocess.run(cmd, check=True)
    if site.exists():
        shutil.rmtree(site)
    shutil.copytree(stage / "_build" / "html", site)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--profile",
        default=None,
        help="papermill parameter passed to every chapter (default: each notebook's own, 'book')",
    )
    parser.add_argument("--out", type=Path, default=ROOT / "_build", help="build folder")
    parser.add_argument(
        "--update-golden",
        action="store_true",
        help="re-execute the notebooks in place (refresh the committed .ipynb) and stop",
    )
    parser.add_argument(
        "--train",
        action="store_true",
        help="let the chapters train the records that are missing (sets LVAE_ALLOW_TRAINING=1 "
        "for their kernels); without it a missing record stops the build with the command "
        "that makes it",
    )
    args = parser.parse_args(argv)
    if args.train:  # read by lvae.experiments in the kernels, which inherit the environment
        os.environ["LVAE_ALLOW_TRAINING"] = "1"

    chapters = toc_notebooks()
    if args.update_golden:
        for source in chapters:
            t0 = time.perf_counter()
            print(f">> executing {source.relative_to(ROOT)} in place", flush=True)
            update_golden(source)
            print(f"   done in {time.perf_counter() - t0:.0f} s", flush=True)
        return 0

    out = args.out.resolve()
    stage = out / "stage"
    stage_sources(stage)
    parameters = {} if args.profile is None else {"profile": args.profile}
    for source in chapters:
        t0 = time.perf_counter()
        target = stage / source.relative_to(ROOT).with_suffix(".ipynb")
        print(f">> executing {source.relative_to(ROOT)} {parameters or ''}", flush=True)
        execute_with_papermill(source, target, parameters)
        print(f"   done in {time.perf_counter() - t0:.0f} s", flush=True)
    build_html(stage, out / "html")
    print(f">> book built: {out / 'html' / 'index.html'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
