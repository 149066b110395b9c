"""``python -m lvae sweep``: a grid of configurations, one cluster job each, and its status.

No torch import at module level: arguments are checked, and ``--status`` answered,
without it; the grid's configurations are built (and validated) before anything is
submitted. See ``lvae.sweep`` for the grid syntax and the engines.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .cli_options import add_allow_dirty_option, add_discard_option, add_precision_option
from .experiments import DEVICES, EXPERIMENTS, PROFILES

EXECUTOR_NAMES = ("local", "slurm", "ray")  # lvae.sweep.EXECUTORS


def _count(minimum: int):
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = None
        if value is None or value < minimum:
            raise argparse.ArgumentTypeError(f"must be a whole number >= {minimum}, got {text!r}")
        return value

    return parse


def add_sweep_parser(subparsers) -> argparse.ArgumentParser:
    """Add the ``sweep`` command to ``subparsers`` (from ``add_subparsers``)."""
    sweep = subparsers.add_parser(
        "sweep",
        help="run a grid of configurations as cluster jobs (submitit: local, SLURM; Ray)",
        description="Expand a grid over an experiment's profile configuration, skip the "
        "configurations whose record is stored, and submit one job per remaining "
        "configuration; or, with --status, report the state of the jobs submitted.",
        epilog="Grid: --set field=v1,v2 (commas separate the grid's values, semicolons a "
        "tuple's elements: --set 'fixed_sigmas=1;0.1,0.3;0.03' is two values). "
        "Example: python -m lvae sweep table1 --profile book --set latent_dim=1,2 "
        "--executor slurm --cpus 2 --timeout-min 120 --partition cpu",
    )
    sweep.add_argument(
        "experiment", nargs="?", choices=sorted(EXPERIMENTS), help="which experiment"
    )
    sweep.add_argument("--profile", choices=PROFILES, default="book", help="the base scale")
    sweep.add_argument(
        "--set",
        dest="settings",
        action="append",
        default=[],
        metavar="FIELD=V1,V2",
        help="grid values of a configuration field (repeat for more fields)",
    )
    sweep.add_argument("--executor", choices=EXECUTOR_NAMES, default="local", help="where jobs run")
    sweep.add_argument("--gpus", type=_count(0), default=0, help="GPUs per job (default 0)")
    sweep.add_argument(
        "--cpus", type=_count(1), default=1, help="CPUs per job; torch uses that many threads"
    )
    sweep.add_argument(
        "--timeout-min",
        type=_count(1),
        default=240,
        help="time limit per job in minutes (default 240); a job that reaches it is "
        "requeued and resumes from its checkpoints (local, slurm)",
    )
    sweep.add_argument("--partition", default=None, help="SLURM partition (slurm only)")
    sweep.add_argument(
        "--ray-address",
        default=None,
        help="Ray cluster to join (ray only; default: $RAY_ADDRESS, the cluster `ray start` "
        "runs on this machine, else a new local one)",
    )
    sweep.add_argument("--device", choices=DEVICES, default="auto", help="device inside a job")
    add_precision_option(sweep, "each job's record states it")
    add_discard_option(sweep)
    add_allow_dirty_option(sweep)
    sweep.add_argument(
        "--results-dir",
        type=Path,
        default=None,
        help="where records are read and written (default: $LVAE_RESULTS_DIR, else the "
        "repository's results/); manifests go to .sweeps/ inside it",
    )
    sweep.add_argument(
        "--checkpoint-dir",
        type=Path,
        default=None,
        help="where the jobs keep the checkpoints of unfinished runs (default: "
        "RESULTS_DIR/.checkpoints); a folder outside the repository survives a fresh checkout",
    )
    sweep.add_argument(
        "--dry-run", action="store_true", help="print what would be skipped and submitted"
    )
    sweep.add_argument(
        "--wait",
        action="store_true",
        help="wait for the jobs and print their final states (always so with ray)",
    )
    sweep.add_argument(
        "--status", action="store_true", help="report the jobs of the sweeps in --results-dir"
    )
    return sweep


def run_sweep(args: argparse.Namespace) -> int:
    """Run the parsed ``sweep`` command; the exit status (1 for a bad request or a job
    that failed, with one line on stderr naming what is wrong)."""
    from . import sweep

    results_dir = args.results_dir
    if results_dir is None:
        from .store import default_results_dir

        results_dir = default_results_dir()
    if args.status:
        if args.experiment or args.settings:
            print("error: --status takes no experiment nor --set", file=sys.stderr)
            return 1
        sweep.status(results_dir)
        return 0
    if args.experiment is None:
        print(
            f"error: name an experiment ({', '.join(sorted(EXPERIMENTS))}) or give --status",
            file=sys.stderr,
        )
        return 1
    resources = sweep.Resources(
        gpus=args.gpus,
        cpus=args.cpus,
        timeout_min=args.timeout_min,
        partition=args.partition,
        ray_address=args.ray_address,
    )
    try:
        resources.check(args.executor)
        points = sweep.expand_grid(args.experiment, args.profile, args.settings, results_dir)
        manifest = sweep.submit(
            points,
            args.executor,
            resources,
            results_dir,
            device=args.device,
            precision=args.precision,
            discard_bad_checkpoints=args.discard_bad_checkpoints,
            allow_dirty=args.allow_dirty,
            checkpoint_dir=args.checkpoint_dir,
            dry_run=args.dry_run,
            wait=args.wait,
        )
    except (ValueError, ImportError, RuntimeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    failed = [o for o in manifest.get("outcomes", []) if o["state"] != "DONE"]
    return 1 if failed else 0
