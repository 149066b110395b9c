"""Command line: ``python -m lvae list``, ``run <experiment> ...`` and ``bench``."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from .cli_fit import add_fit_parser, run_fit
from .devices import DEVICES
from .experiments import PROFILES
from .registry import EXPERIMENTS


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
        help="scale: smoke (seconds), book (committed results), paper (the paper's; GPU)",
    )
    run.add_argument(
        "--device", choices=DEVICES, default="auto", help="auto picks CUDA when present, else CPU"
    )
    run.add_argument(
        "--results-dir",
        type=Path,
        default=None,
        help="where records are read and written (default: $LVAE_RESULTS_DIR, else the "
        "repository's results/); checkpoints go to checkpoints/ beside it",
    )
    run.add_argument(
        "--data-dir",
        type=Path,
        default=None,
        help="folder with the image datasets (mnist/, olivetti/, celeba/); default $LVAE_DATA_DIR",
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
        "--iw-k",
        type=_positive_int,
        default=None,
        help="image experiments: importance samples for the IW bound instead of the "
        "profile's; a finished run with the same training reuses its trained models",
    )
    run.add_argument(
        "--recompute",
        action="store_true",
        help="train from scratch even when a valid record or checkpoint exists",
    )

    bench = sub.add_parser(
        "bench", help="model-steps/s of the stacked engine against a one-model-at-a-time loop"
    )
    bench.add_argument(
        "--device", choices=DEVICES, default="auto", help="auto picks CUDA when present, else CPU"
    )
    bench.add_argument(
        "--profile",
        choices=PROFILES,
        default=None,
        help="network size of that table1 profile (default: book on CPU, paper on CUDA)",
    )
    bench.add_argument(
        "--models",
        type=_positive_int,
        default=None,
        help="models trained at once (default: the Table 1 sweep, 80)",
    )
    bench.add_argument(
        "--steps",
        type=_positive_int,
        default=None,
        help="timed steps for each engine (default 100; 20 with --quick)",
    )
    bench.add_argument("--quick", action="store_true", help="a short run (under a minute on CPU)")
    bench.add_argument(
        "--save",
        action="store_true",
        help="store the measurement in results/bench/ (shown on the reproducibility page)",
    )
    bench.add_argument("--results-dir", type=Path, default=None, help="where --save writes")
    add_fit_parser(sub)
    return parser


def _run(args) -> int:
    if args.data_dir is not None:  # read by lvae.images.load_images
        if not args.data_dir.is_dir():
            raise ValueError(f"--data-dir {args.data_dir} is not a folder")
        os.environ["LVAE_DATA_DIR"] = str(args.data_dir)
    overrides = {}
    if args.seeds is not None:
        overrides["seeds"] = tuple(range(args.seeds))
    if args.steps is not None:
        overrides["steps"] = args.steps
    if args.iw_k is not None:
        overrides["iw_k"] = args.iw_k
    record = EXPERIMENTS[args.experiment].run(
        args.profile,
        results_dir=args.results_dir,
        device=args.device,
        recompute=args.recompute,
        **overrides,
    )
    prov = record["provenance"]
    print(
        f"{args.experiment}: {prov['profile']} profile, seeds {prov['seeds']}, "
        f"{prov['steps']} steps, {prov['device']}, {prov['wall_time_s']} s, "
        f"config {record['config_hash']}"
    )
    return 0


def _bench(args) -> int:
    import time

    import torch

    from .bench import run_bench, save_bench
    from .devices import resolve_device

    device = resolve_device(args.device)
    profile = args.profile or ("paper" if device.type == "cuda" else "book")
    steps = args.steps or (20 if args.quick else 100)
    print(f"bench: {profile}-profile networks on {device.type}, {steps} timed steps each")
    start = time.perf_counter()
    result = run_bench(
        device=args.device,
        profile=profile,
        models=args.models,
        steps=steps,
        warmup=2 if args.quick else 5,
    )
    if args.save:
        print(
            f"saved: {save_bench(result, profile, time.perf_counter() - start, args.results_dir)}"
        )
    print(f"device: {result.device}; torch threads: {torch.get_num_threads()}")
    print(
        f"models: {result.models}; residual MLPs of {result.n_blocks} blocks x "
        f"{result.hidden} units"
    )
    print(f"stacked: {result.stacked_model_steps_per_s:,.0f} model-steps/s")
    print(f"loop:    {result.loop_model_steps_per_s:,.0f} model-steps/s")
    print(f"speedup: {result.speedup:.2f}x")  # the last line, by contract
    return 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "list":
        for name, exp in sorted(EXPERIMENTS.items()):
            print(f"{name:12s} {exp.summary}")
        return 0
    if args.command == "fit":
        return run_fit(args)
    try:
        return _run(args) if args.command == "run" else _bench(args)
    except (ValueError, FileNotFoundError) as exc:  # bad input: a clear message, no traceback
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
