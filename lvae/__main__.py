"""Command line: ``python -m lvae list`` and ``python -m lvae run <experiment> ...``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .devices import DEVICES
from .experiments import EXPERIMENTS, PROFILES


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m lvae", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("list", help="name the experiments")
    run = sub.add_parser("run", help="run an experiment (or load its stored record)")
    run.add_argument("experiment", choices=sorted(EXPERIMENTS), help="which experiment")
    run.add_argument(
        "--profile",
        choices=PROFILES,
        default="book",
        help="scale: smoke (seconds), book (committed results), paper (GPU)",
    )
    run.add_argument(
        "--device",
        choices=DEVICES,
        default="auto",
        help="auto picks CUDA when present, else the CPU",
    )
    run.add_argument(
        "--results-dir",
        type=Path,
        default=None,
        help="where records are read and written (default: the repository's "
        "results/, or $LVAE_RESULTS_DIR)",
    )
    run.add_argument(
        "--seeds",
        type=_positive_int,
        default=None,
        help="train seeds 0..N-1 instead of the profile's",
    )
    run.add_argument(
        "--steps", type=_positive_int, default=None, help="training steps instead of the profile's"
    )
    run.add_argument(
        "--recompute",
        action="store_true",
        help="train even when a valid record exists, and overwrite it",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "list":
        for name, exp in sorted(EXPERIMENTS.items()):
            print(f"{name:14s} {exp.summary}")
        return 0
    overrides = {}
    if args.seeds is not None:
        overrides["seeds"] = tuple(range(args.seeds))
    if args.steps is not None:
        overrides["steps"] = args.steps
    try:
        record = EXPERIMENTS[args.experiment].run(
            args.profile,
            results_dir=args.results_dir,
            device=args.device,
            recompute=args.recompute,
            **overrides,
        )
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    prov = record["provenance"]
    print(
        f"{args.experiment}: {prov['profile']} profile, seeds {prov['seeds']}, "
        f"{prov['steps']} steps, {prov['device']}, {prov['wall_time_s']} s, "
        f"config {record['config_hash']}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
