"""``python -m lvae data fetch|check``: get the image datasets, and see what is there.

Torch-free at import, like the rest of the command line's parsing.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from . import downloads


def add_data_parser(subparsers) -> None:
    data = subparsers.add_parser(
        "data", help="fetch the image datasets (MNIST, Olivetti) or check the data folder"
    )
    verbs = data.add_subparsers(dest="data_command", required=True)
    fetch = verbs.add_parser("fetch", help="download a dataset and check its sha256 sums")
    fetch.add_argument("dataset", choices=downloads.FETCHABLE)
    check = verbs.add_parser("check", help="list each expected file: ok, missing or corrupt")
    for verb in (fetch, check):
        verb.add_argument(
            "--data-dir",
            type=Path,
            default=None,
            help="the data folder (default: $LVAE_DATA_DIR, else ./data)",
        )


def _data_dir(args) -> Path:
    if args.data_dir is not None:
        return args.data_dir
    return Path(os.environ.get("LVAE_DATA_DIR") or "data")


def run_data(args: argparse.Namespace) -> int:
    data_dir = _data_dir(args)
    if args.data_command == "fetch":
        if data_dir.exists() and not data_dir.is_dir():
            raise ValueError(f"--data-dir {data_dir} is not a folder")
        paths = downloads.fetch(args.dataset, data_dir)
        where = f"in {data_dir}" if paths else "in scikit-learn's cache"
        print(f"{args.dataset}: ready {where}; use it with --data-dir {data_dir}")
        return 0
    print(f"data folder: {data_dir}")
    bad = 0
    for file in downloads.MNIST.values():
        state = downloads.check_file(file, data_dir, full=True)
        bad += state != "ok"
        print(f"  {file.name:36s} {state}")
    olivetti = data_dir / downloads.OLIVETTI_FILE
    state = "ok" if olivetti.is_file() else "missing (scikit-learn's copy is used instead)"
    print(f"  {downloads.OLIVETTI_FILE:36s} {state}")
    print("  digits                               bundled with scikit-learn, no file")
    if bad:
        print(f"fetch what is missing with: {downloads.fetch_command('mnist', data_dir)}")
    return 0
