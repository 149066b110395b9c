"""Command line: ``python -m lvae list``, ``run <experiment> ...``, ``bench``, ``fit``, ``data``.

Arguments are checked before torch is imported (the declarations in ``lvae.experiments``
and ``lvae.cli_fit`` are torch-free), so ``--help``, ``list`` and any mistake are answered
at once; torch comes in with the experiment that runs. Messages are printed here, not by
``lvae.experiments``: the notebooks call that too, and their printed outputs are compared
with golden files. ``run`` trains a missing record (the notebooks only load).
"""

from __future__ import annotations

import argparse
import errno
import os
import re
import statistics
import sys
from pathlib import Path

from .cli_data import add_data_parser, run_data
from .cli_fit import add_fit_parser, run_fit
from .cli_options import add_allow_dirty_option, add_discard_option, add_precision_option
from .cli_sweep import add_sweep_parser, run_sweep
from .experiments import DEVICES, EXPERIMENTS, PROFILES, taking

LONG_RUN_S = 3600  # a run estimated to take longer asks for --yes on a terminal


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        # argparse writes "argument --steps: must be ..."; "--steps must be ..." reads better.
        message = re.sub(r"^argument (\S+): (must be)", r"\1 \2", message)
        self.print_usage(sys.stderr)
        self.exit(2, f"error: {message}\n")


def _whole_number(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = None
    if value is None or value < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number >= 1, got {text!r}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m lvae", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("list", help="name the experiments")

    run = sub.add_parser(
        "run",
        help="run an experiment (or load its stored record)",
        description="Load the record of an experiment's configuration when it is stored, "
        "else train it (resuming from its checkpoints) and store it; then print its "
        "headline numbers.",
    )
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
    add_precision_option(run, "stated in the record's provenance")
    run.add_argument(
        "--compile",
        action="store_true",
        help="train through torch.compile (a minute or so of compiling first; pays on long "
        "runs; where it fails, training goes on uncompiled); stated in the provenance",
    )
    add_discard_option(run)
    add_allow_dirty_option(run)
    run.add_argument(
        "--results-dir",
        type=Path,
        default=None,
        help="where records are read and written (default: $LVAE_RESULTS_DIR, else the "
        "repository's results/); checkpoints go to .checkpoints/ inside it",
    )
    run.add_argument(
        "--checkpoint-dir",
        type=Path,
        default=None,
        help="where unfinished runs keep their checkpoints instead (default: "
        "RESULTS_DIR/.checkpoints)",
    )
    run.add_argument(
        "--data-dir",
        type=Path,
        default=None,
        help=f"folder with the image datasets (mnist/, olivetti/, celeba/), for "
        f"{', '.join(taking('data_dir'))}; default $LVAE_DATA_DIR",
    )
    run.add_argument(
        "--seeds",
        type=_whole_number,
        default=None,
        metavar="N",
        help="train seeds 0..N-1 instead of the profile's",
    )
    run.add_argument(
        "--steps",
        type=_whole_number,
        default=None,
        metavar="N",
        help="training steps instead of the profile's",
    )
    run.add_argument(
        "--iw-k",
        type=_whole_number,
        default=None,
        metavar="K",
        help="image experiments: importance samples for the IW bound instead of the "
        "profile's; a finished run with the same training reuses its trained models",
    )
    run.add_argument(
        "--recompute",
        action="store_true",
        help="train from scratch even when a valid record or checkpoint exists",
    )
    run.add_argument(
        "--yes",
        action="store_true",
        help=f"start a run estimated to take over {LONG_RUN_S // 3600} hour without asking "
        "(asked only when stdin is a terminal)",
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
        type=_whole_number,
        default=None,
        help="models trained at once (default: the Table 1 sweep, 80)",
    )
    bench.add_argument(
        "--steps",
        type=_whole_number,
        default=None,
        help="timed steps for each engine (default 100; 20 with --quick)",
    )
    bench.add_argument("--quick", action="store_true", help="a short run (under a minute on CPU)")
    bench.add_argument(
        "--rounds",
        type=_whole_number,
        default=3,
        help="rounds in which the engines take turns; the median rate is reported (default 3)",
    )
    bench.add_argument(
        "--images",
        action="store_true",
        help="the convolutional engine on MNIST-shaped images instead of the 2-D MLPs",
    )
    bench.add_argument(
        "--strategy",
        choices=("grouped", "per_model"),
        default=None,
        help="with --images: force how the stacked convolutions run (default: by device)",
    )
    bench.add_argument(
        "--save",
        action="store_true",
        help="store the measurement in results/bench/ (shown on the reproducibility page)",
    )
    bench.add_argument("--results-dir", type=Path, default=None, help="where --save writes")
    add_precision_option(bench, "both engines run in it, and it is printed (and saved)")
    bench.add_argument(
        "--compile",
        action="store_true",
        help="also time the stacked engine through torch.compile (its warm-up steps compile "
        "it; the loop stays uncompiled) and print its gain",
    )
    add_fit_parser(sub)
    add_data_parser(sub)
    add_sweep_parser(sub)
    return parser


# CLI option (argparse name) -> the experiments' override, and what to call the group
_OVERRIDES = {"seeds": "seeds", "steps": "steps", "iw_k": "iw_k"}
_GROUPS = {
    "iw_k": "the image experiments",
    "data_dir": "the experiments that read image files",
}


def _flag(option: str) -> str:
    return "--" + option.replace("_", "-")


def check_run_args(args) -> str | None:
    """What is wrong with the ``run`` arguments, in words, or None; torch-free."""
    exp = EXPERIMENTS[args.experiment]
    for option, group in _GROUPS.items():
        if getattr(args, option) is not None and option not in exp.options:
            return (
                f"{_flag(option)} applies only to {group} ({', '.join(taking(option))}), "
                f"not to {args.experiment}"
            )
    if args.data_dir is not None and not args.data_dir.is_dir():
        return f"--data-dir {args.data_dir} is not a folder"
    for option in ("results_dir", "checkpoint_dir"):
        path = getattr(args, option)
        if path is not None and path.exists() and not path.is_dir():
            return f"{_flag(option)} {path} exists and is not a folder"
    return None


def _ask_if_long(args, name: str, config, device, resumes: bool = False) -> str | None:
    """Print the estimate of a run of experiment ``name`` over LONG_RUN_S; on a terminal
    without --yes, return the reason to stop. Nothing is printed for shorter runs or when
    there is no estimate. ``resumes``: checkpoints of the run exist (the estimate is of
    the whole run)."""
    from . import store
    from .devices import describe
    from .estimate import REFERENCE, duration, estimate
    from .experiments import normalised

    kind = EXPERIMENTS[name].record_name  # a variant is costed as its experiment
    reference_name = REFERENCE.get(kind, kind)
    repo_results = Path(__file__).resolve().parents[1] / "results"
    reference = store.record_path(
        repo_results, reference_name, normalised(EXPERIMENTS[reference_name].make_config())
    )
    guess = estimate(
        kind, normalised(config), describe(device), reference, bench=repo_results / "bench"
    )
    if guess is None or guess["seconds"] <= LONG_RUN_S:
        return None
    print(
        f"{name} ({args.profile} profile) on {describe(device)} should take about "
        f"{duration(guess['seconds'])}"
        f"{' for the whole run (it resumes from its checkpoints: less)' if resumes else ''}, "
        f"by {guess['basis']}.",
        file=sys.stderr,
    )
    if not args.yes and sys.stdin is not None and sys.stdin.isatty():
        return "not started: run the same command with --yes to start it"
    return None


def _run(args) -> int:
    problem = check_run_args(args)
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return 2
    if args.data_dir is not None:  # read by lvae.images.load_images
        os.environ["LVAE_DATA_DIR"] = str(args.data_dir)
    overrides = {
        key: getattr(args, option)
        for option, key in _OVERRIDES.items()
        if getattr(args, option) is not None
    }
    if "seeds" in overrides:
        overrides["seeds"] = tuple(range(overrides["seeds"]))
    name = args.experiment
    exp = EXPERIMENTS[name]
    config = exp.make_config(args.profile, **overrides)  # bad values fail here

    from . import store  # torch comes in here
    from .devices import resolve_device
    from .experiments import normalised, record, training_key
    from .experiments.cache import checkpoint_root

    device = resolve_device(args.device)
    results_dir = Path(args.results_dir or store.default_results_dir())
    path = store.record_path(results_dir, exp.record_name, normalised(config))
    before = path.read_bytes() if path.exists() else None
    if before is None or args.recompute:
        root = args.checkpoint_dir or checkpoint_root(results_dir)
        checkpoints = root / exp.record_name / training_key(config)
        resumes = not args.recompute and any(checkpoints.glob("*.pt"))
        stop = _ask_if_long(args, name, config, device, resumes)
        if stop:
            print(stop, file=sys.stderr)
            return 2
    try:
        made = record(
            name,
            args.profile,
            results_dir=results_dir,
            device=args.device,
            recompute=args.recompute,
            checkpoint_dir=args.checkpoint_dir,
            allow_training=True,
            precision=args.precision,
            compile=args.compile,
            discard_bad_checkpoints=args.discard_bad_checkpoints,
            allow_dirty=args.allow_dirty,
            **overrides,
        )
    except FileNotFoundError as exc:
        if "data_dir" in EXPERIMENTS[name].options and not os.environ.get("LVAE_DATA_DIR"):
            raise FileNotFoundError(
                f"{name} trains on image files and no data folder was given: {exc}"
            ) from exc
        raise
    loaded = before is not None and not args.recompute and path.read_bytes() == before
    print(describe_run(made.data, path, loaded))
    table = headline_table(made.data)
    if table:
        print(table)
    return 0


def describe_run(record: dict, path: Path, loaded: bool) -> str:
    """One line: where the record is, and how it was made (loaded or trained just now)."""
    from .estimate import duration

    p = record["provenance"]
    commit = p.get("git_commit", "unknown")
    commit = commit[:7] + ("+dirty" if commit.endswith("+dirty") else "")
    seeds = len(p["seeds"])
    how = (
        f"in {duration(p['wall_time_s'])} on {p['device']} at commit {commit} "
        f"(profile {p['profile']}, {seeds} seed{'s' * (seeds != 1)}, {p['steps']} steps"
        f"{', ' + p['precision'] if p.get('precision') else ''}"
        f"{', compiled' if p.get('compiled') else ''}"
        f"{', resumed from checkpoints' if p.get('resumed') else ''})"
    )
    return f"loaded {path}, trained {how}" if loaded else f"trained {how}; record: {path}"


# experiment -> (the model field that names a setting, [(column title, result field)])
_IMAGE_COLUMNS = [
    ("ELBO (nats)", "elbo_raw"),
    ("paper bits/px", "paper_bits_per_pixel"),
    ("bits/dim (ELBO)", "bits_per_dim_elbo"),
    ("bits/dim (IW)", "bits_per_dim_iw"),
    ("sigma (geo. mean)", "sigma_geomean"),
]
HEADLINES = {
    "table1": ("setting", [("ELBO", "elbo"), ("final sigma", "final_sigma")]),
    "sphere-vae": (
        "ratio",
        [
            ("ELBO", "elbo"),
            ("collapsed ELBO", "elbo_collapsed"),
            ("mean radius", "mean_radius"),
            ("optimal radius", "theory_optimal_radius"),
        ],
    ),
    "kl-weight": (
        "kl_weight",
        [("max decoder gap", "max_decoder_gap"), ("decoder scale", "decoder_scale")],
    ),
    **{name: ("setting", _IMAGE_COLUMNS) for name in taking("iw_k")},  # the image experiments
}


def _cell(values: list[float]) -> str:
    if len(values) == 1:
        return f"{values[0]:.4g}"
    return f"{statistics.fmean(values):.4g} ± {statistics.stdev(values):.2g}"


def headline_table(record: dict) -> str | None:
    """The record's headline numbers per setting: mean ± sd over seeds (sample sd)."""
    if record["experiment"] not in HEADLINES:
        return None
    key, columns = HEADLINES[record["experiment"]]
    result = record["result"]
    if record["experiment"].startswith("images-"):  # a conversion, not stored: computed
        from .analysis.images import record_paper_bits_per_pixel
        from .store import Record

        paper = record_paper_bits_per_pixel(Record(record)).tolist()
        result = {**result, "paper_bits_per_pixel": paper}
    elif record["experiment"] == "sphere-vae":  # the theory's values: computed, not stored
        from .analysis.sphere import derived_columns

        result = {**result, **derived_columns(record["config"], result["models"])}
    models = result.get("models", [])
    columns = [
        (title, field)
        for title, field in columns
        if isinstance(result.get(field), list) and len(result[field]) == len(models)
    ]
    if not models or not columns or any(key not in m for m in models):
        return None
    groups: dict = {}
    for i, model in enumerate(models):
        groups.setdefault(model[key], []).append(i)
    seeds = {len(rows) for rows in groups.values()}
    spread = " ± sd" if max(seeds) > 1 else ""
    n = "/".join(str(s) for s in sorted(seeds))
    rows = [[key.replace("_", " "), *(title for title, _ in columns)]]
    for group, members in groups.items():
        rows.append([str(group), *(_cell([result[f][i] for i in members]) for _, f in columns)])
    widths = [max(len(row[c]) for row in rows) for c in range(len(rows[0]))]
    lines = [
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in rows
    ]
    return f"mean{spread} over {n} seed{'s' * (n != '1')}:\n" + "\n".join(lines)


def _bench(args) -> int:
    import time

    import torch

    from .bench import run_bench, save_bench
    from .devices import resolve_device

    device = resolve_device(args.device)
    if args.images:
        return _bench_images(args)
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
        rounds=args.rounds,
        precision=args.precision,
        compile=args.compile,
    )
    if args.save:
        print(
            f"saved: {save_bench(result, profile, time.perf_counter() - start, args.results_dir)}"
        )
    print(
        f"device: {result.device}; torch threads: {torch.get_num_threads()}; precision: "
        f"{result.precision}"
    )
    print(
        f"models: {result.models}; residual MLPs of {result.n_blocks} blocks x "
        f"{result.hidden} units"
    )
    print(f"stacked: {result.stacked_model_steps_per_s:,.0f} model-steps/s")
    print(f"loop:    {result.loop_model_steps_per_s:,.0f} model-steps/s")
    print(
        f"limit:   {result.limit_model_steps_per_s:,.0f} model-steps/s (bare batched matmuls, "
        f"{result.limit_flop_per_model_step / 1e6:,.1f} MFLOP per model-step); "
        f"stacked is {result.fraction_of_limit:.0%} of it"
    )
    if result.compile_gain is not None:
        print(
            f"compiled: {result.compiled_model_steps_per_s:,.0f} model-steps/s (torch.compile "
            f"of the stacked engine: {result.compile_gain:.2f}x the uncompiled one, "
            f"{result.compiled_fraction_of_limit:.0%} of the limit)"
        )
    print(f"speedup: {result.speedup:.2f}x")  # the last line, by contract
    return 0


def _bench_images(args) -> int:
    import torch

    from .bench import run_image_bench

    if args.save:
        raise ValueError("--save is not available with --images (results/bench holds MLP speeds)")
    if args.compile:
        raise ValueError("--compile is not available with --images (it times the MLP engine)")
    steps = args.steps or (4 if args.quick else 10)
    profile = args.profile or "book"
    print(f"bench --images: mnist {profile}-profile networks, {steps} timed steps each")
    result = run_image_bench(
        device=args.device,
        profile=profile,
        models=args.models,
        steps=steps,
        warmup=1,
        rounds=args.rounds,
        strategy=args.strategy,
        precision=args.precision,
    )
    print(
        f"device: {result.device}; torch threads: {torch.get_num_threads()}; precision: "
        f"{result.precision}"
    )
    print(f"models: {result.models}; stacked convolutions: {result.strategy}")
    print(f"stacked: {result.stacked_model_steps_per_s:,.1f} model-steps/s")
    print(f"loop:    {result.loop_model_steps_per_s:,.1f} model-steps/s")
    if result.loop_conv_share is not None:
        print(
            f"limit:   the loop spends {result.loop_conv_share:.0%} of its step in convolution "
            f"kernels, so an engine running the same kernels is at most "
            f"{result.speedup_limit:.2f}x the loop"
        )
    print(f"speedup: {result.speedup:.2f}x")  # the last line, by contract
    return 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "list":
        for name, exp in sorted(EXPERIMENTS.items()):
            print(f"{name:16s} {exp.summary}")
        return 0
    try:
        if args.command == "fit":
            return run_fit(args)
        if args.command == "data":
            return run_data(args)
        if args.command == "sweep":
            return run_sweep(args)
        return _run(args) if args.command == "run" else _bench(args)
    except (ValueError, FileNotFoundError) as exc:  # bad input: a clear message, no traceback
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # lvae.store.DiskFull: its message says what to free and where
        if exc.errno not in (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)):
            raise
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except FloatingPointError as exc:  # lvae.train.DivergenceError: nothing was stored
        print(f"error: training diverged: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt as exc:  # Ctrl-C: no traceback; training said where it stopped
        if not getattr(exc, "reported", False):
            resume = (
                "; run the same command again to resume from its last checkpoint"
                if args.command == "run"
                else ""
            )
            print(f"interrupted; nothing was stored{resume}", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
