"""How long a run will take, estimated before it starts, from a committed record's wall time.

The cost of a training step grows with the number of models trained at once, the batch
size and the size of the networks. So a run is estimated as its model-steps (models x
steps) times the seconds per model-step of a timed record of the same experiment (the
committed ``book`` one), scaled by batch size x network weights; or, for the residual
MLPs, by the measured speeds of ``results/bench`` when they cover both network sizes
(small networks spend more of their time on overheads than their weights suggest). It is
rough: the record's time includes its evaluation, and the machine that made it is not
yours. It serves to warn before a run of hours, not to plan to the minute.

Plain JSON in, no torch: ``config`` is a configuration as stored in records.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

# Experiments with no timed record of their own use a similar one's: CelebA's book images
# are 64x64 like Olivetti's, with the same number of convolutions.
REFERENCE = {"images-celeba": "images-olivetti"}


def n_models(name: str, config: dict) -> int:
    """Models trained for ``config`` (every phase and arm counted)."""
    seeds = len(config["seeds"])
    if name == "table1":  # phase 1: F sweep, LS, LV; phase 2: F*, the replayed schedule(s)
        replays = 2 if config.get("replay") == "own_and_pooled" else 1
        return (len(config["fixed_sigmas"]) + 3 + replays) * seeds
    if name == "table1-lr":  # every setting of the study under every schedule
        settings = len(config["fixed_sigmas"]) + (config["f_star_sigma"] is not None)
        settings += len(config.get("learned", ()))  # stored only when there are some
        warmup = config["warmup_steps"] > 0  # 0: no warm-up schedule
        decays = len(config.get("decay_rates", ()))  # stored only when there are some
        return settings * (len(config["rates"]) + decays + warmup) * seeds
    if name == "table1-calibration":  # one F-VAE per data scale
        return len(config["scales"]) * seeds
    if name == "kl-weight":  # two arms of every (weight, seed)
        return 2 * len(config["kl_weights"]) * seeds
    if name == "sphere-vae":
        return len(config["ratios"]) * seeds
    if name.startswith("images-"):
        return len(config["settings"]) * seeds
    raise ValueError(f"no cost model for experiment {name!r}")


def size(config: dict) -> float:
    """Work per model-step, up to a constant: batch size x weights of the networks.

    Residual MLPs (``hidden``): two blocks of hidden x hidden weights each, encoder and
    decoder. Conv nets (``width``): width^2 per convolution and two per residual block
    (the image size is the same for records of one experiment, so it cancels)."""
    if "hidden" in config:
        h = config["hidden"]
        weights = 2 * (2 * config["n_blocks"] * h * h + 8 * h)
    else:
        w = config["width"]
        weights = w * w * (config["n_convs"] + 2 * config["n_blocks"])
    return config["batch_size"] * weights


def bench_speeds(folder: Path, device: str) -> dict[tuple[int, int], float]:
    """Measured model-steps/s of the stacked engine (``results/bench``) on the kind of
    ``device`` (cpu or not), by residual-MLP size (hidden, n_blocks), at batch size 100."""
    speeds = {}
    for path in sorted(Path(folder).glob("*.json")):
        result = json.loads(path.read_text())["result"]
        if (result["device"] == "cpu") == (device == "cpu"):
            speeds[result["hidden"], result["n_blocks"]] = result["stacked_model_steps_per_s"]
    return speeds


def _size_ratio(config: dict, ref: dict, speeds: dict) -> tuple[float, str]:
    """How much more a model-step of ``config`` costs than one of ``ref``, and how known."""
    if "hidden" in config and "hidden" in ref:
        a, b = (config["hidden"], config["n_blocks"]), (ref["hidden"], ref["n_blocks"])
        if a in speeds and b in speeds:
            batches = config["batch_size"] / ref["batch_size"]
            return speeds[b] / speeds[a] * batches, "the measured speeds in results/bench"
    return size(config) / size(ref), "batch size x network weights"


def estimate(
    name: str, config: dict, device: str, reference: Path | None, bench: Path | None = None
) -> dict | None:
    """The estimated wall time of training ``config`` on ``device`` (``cpu`` or a CUDA
    device's name), from the record at ``reference`` and the speeds measured in the folder
    ``bench`` (optional): {"seconds", "basis"}.

    None when there is no such record, it was timed on another kind of device (the
    committed records were made on a CPU: they say nothing about a GPU), or it resumed
    from checkpoints (its wall time is the last session's only)."""
    if reference is None or not Path(reference).is_file():
        return None
    record = json.loads(Path(reference).read_text())
    made_on = record["provenance"]["device"]
    if (made_on == "cpu") != (device == "cpu") or record["provenance"].get("resumed"):
        return None
    ref_config = record["config"]
    ref_steps = n_models(record["experiment"], ref_config) * ref_config["steps"]
    run_steps = n_models(name, config) * config["steps"]
    speeds = bench_speeds(bench, device) if bench is not None and Path(bench).is_dir() else {}
    ratio, how = _size_ratio(config, ref_config, speeds)
    seconds = record["provenance"]["wall_time_s"] / ref_steps * run_steps * ratio
    basis = (
        f"the committed {record['provenance']['profile']} record of {record['experiment']} "
        f"({ref_steps:,} model-steps in {duration(record['provenance']['wall_time_s'])} on "
        f"{made_on}), scaled to this run's {run_steps:,} model-steps"
        + (f" and to its networks ({ratio:.3g}x the cost per step, by {how})" if ratio != 1 else "")
        + "; rough, and timed on another machine"
    )
    return {"seconds": seconds, "basis": basis}


def duration(seconds: float) -> str:
    """``42 s``, ``17 min``, ``3.8 h``, ``12 days``: two significant figures at most."""
    if not math.isfinite(seconds) or seconds < 0:
        raise ValueError(f"seconds must be finite and >= 0, got {seconds}")
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} min"
    if seconds < 48 * 3600:
        hours = seconds / 3600
        return f"{hours:.1f} h" if hours < 10 else f"{hours:.0f} h"
    return f"{seconds / 86400:.0f} days"
