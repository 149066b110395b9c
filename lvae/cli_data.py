"""``python -m lvae data fetch|check``: get the image datasets, and see what is there.

Torch-free (``lvae.downloads`` is too), like the rest of the command line's parsing.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from . import downloads

DEFAULT_DIR = Path("data")  # when neither --data-dir nor $LVAE_DATA_DIR is given


def add_data_parser(subparsers) -> None:
    data = subparsers.add_parser(
        "data",
        help="fetch the image datasets (MNIST, Olivetti) or check the data folder",
        description="Fetch MNIST (checked against its sha256 sums) or the Olivetti faces, or "
        "check the data folder. scikit-learn's 8x8 digits need no file.",
    )
    verbs = data.add_subparsers(dest="data_command", required=True)
    fetch = verbs.add_parser(
        "fetch",
        help="download a dataset and check it (needs internet)",
        description="mnist: the four archives into DATA_DIR/mnist/, each kept only if its "
        "sha256 is the published one. olivetti: scikit-learn's copy, into its own cache "
        "(nothing to do when DATA_DIR/olivetti/olivettifaces.mat is there).",
    )
    fetch.add_argument("dataset", choices=downloads.FETCHABLE)
    check = verbs.add_parser(
        "check",
        help="list each expected file: ok, missing or corrupt (exit status 1 if any is corrupt)",
    )
    for verb in (fetch, check):
        verb.add_argument(
            "--data-dir",
            type=Path,
            default=None,
            help=f"the data folder (default: $LVAE_DATA_DIR, else ./{DEFAULT_DIR})",
        )


def _data_dir(args) -> Path:
    if args.data_dir is not None:
        return args.data_dir
    return Path(os.environ.get("LVAE_DATA_DIR") or DEFAULT_DIR)


def run_data(args: argparse.Namespace) -> int:
    data_dir = _data_dir(args)
    if data_dir.exists() and not data_dir.is_dir():
        raise ValueError(f"--data-dir {data_dir} is not a folder")
    if args.data_command == "fetch":
        try:
            paths = downloads.fetch(args.dataset, data_dir)
        except OSError as exc:  # no mirror answered (FileNotFoundError says more: let it go)
            if isinstance(exc, FileNotFoundError):
                raise
            print(f"error: {exc}. This command needs internet access.", file=sys.stderr)
            return 1
        if paths:
            print(f"{args.dataset}: ready in {data_dir}; use it with --data-dir {data_dir}")
        else:
            print(f"{args.dataset}: ready in scikit-learn's cache ({downloads.olivetti_cache()})")
        return 0
    print(f"data folder: {data_dir}")
    width = max(len(f.name) for f in downloads.MNIST.values())
    states = {
        f.name: downloads.check_file(f, data_dir, full=True) for f in downloads.MNIST.values()
    }
    for name, state in states.items():
        shown = "ok (size and sha256 verified)" if state == "ok" else state
        print(f"  {name:{width}s}  {shown}")
    olivetti = downloads.check_olivetti(data_dir)
    print(f"  {downloads.OLIVETTI_FILE:{width}s}  {olivetti}")
    print(f"  {'digits':{width}s}  bundled with scikit-learn, no file")
    if any(state != "ok" for state in states.values()):
        print(f"get MNIST with: {downloads.fetch_command('mnist', data_dir)}")
    corrupt = [n for n, s in states.items() if s.startswith("corrupt")]
    if olivetti.startswith("corrupt"):
        corrupt.append(downloads.OLIVETTI_FILE)
    if corrupt:
        print(f"corrupt: {', '.join(corrupt)}; delete and fetch again")
    return 1 if corrupt else 0
