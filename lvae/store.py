"""Run records: one JSON file per configuration, keyed by a hash of that configuration.

A record holds the configuration, the result and its provenance. Writes are atomic (a
temporary file, then ``os.replace``), so an interrupted run never leaves a file that
looks complete. A record that fails to parse, lacks fields, or whose stored hash does not
match its configuration is reported as invalid and recomputed, never used.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import importlib.metadata
import json
import os
import platform
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import torch

from . import __version__

SCHEMA = 1
# Bump when training code changes its numbers for an unchanged configuration: the version
# enters every configuration hash, so records made by older code are recomputed.
ENGINE_VERSION = 2
REQUIRED = ("schema", "experiment", "config_hash", "config", "provenance", "result")


class InvalidRecord(ValueError):
    """A stored record that cannot be trusted; the message says why."""


def config_hash(config: dict) -> str:
    """sha256 of the canonical JSON of ``config`` and the engine version, 16 hex digits."""
    keyed = {"engine_version": ENGINE_VERSION, "config": config}
    canonical = json.dumps(keyed, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def default_results_dir() -> Path:
    """``$LVAE_RESULTS_DIR``, else the repository's ``results/`` folder, else ./results."""
    if os.environ.get("LVAE_RESULTS_DIR"):
        return Path(os.environ["LVAE_RESULTS_DIR"])
    repo_results = Path(__file__).resolve().parents[1] / "results"
    return repo_results if repo_results.is_dir() else Path.cwd() / "results"


def record_path(results_dir: Path, experiment: str, config: dict) -> Path:
    return Path(results_dir) / experiment / f"{config_hash(config)}.json"


def git_commit() -> str:
    """The repository's commit, ``+dirty`` if tracked files differ; ``unknown`` outside git."""
    root = Path(__file__).resolve().parents[1]
    try:
        head = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=root,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + ("+dirty" if dirty else "")


def package_version(name: str) -> str:
    """The installed version of ``name``, or ``"absent"`` (read without importing it)."""
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return "absent"


def provenance(
    *,
    profile: str,
    seeds: list[int],
    steps: int,
    device: str,
    wall_time_s: float,
    commit: str | None = None,
    resumed: bool = False,
):
    """Where a result comes from. ``commit`` is the code's commit when the run started.

    ``resumed`` says the run continued from checkpoints left by an earlier session; its
    ``wall_time_s`` then counts this session only.
    """
    return {
        "profile": profile,
        "seeds": list(seeds),
        "steps": int(steps),
        "device": device,
        "torch": torch.__version__,
        "numpy": np.__version__,
        "scipy": package_version("scipy"),
        "scikit_learn": package_version("scikit-learn"),
        "python": platform.python_version(),
        "lvae": __version__,
        "git_commit": commit or git_commit(),
        "wall_time_s": round(float(wall_time_s), 2),
        "resumed": bool(resumed),
        "created_utc": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
    }


def save_record(path: Path, record: dict) -> None:
    """Write ``record`` atomically: readers see the old file or the new one, never half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as f:
            json.dump(record, f, indent=1, sort_keys=True)
            f.write("\n")
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)  # mkstemp creates 0600; records are shared files
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def load_record(path: Path, experiment: str, config: dict) -> dict:
    """Read and validate a record for ``config``; raise InvalidRecord with the reason."""
    try:
        record = json.loads(Path(path).read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise InvalidRecord(f"{path}: unreadable ({exc})") from None
    if not isinstance(record, dict) or any(k not in record for k in REQUIRED):
        raise InvalidRecord(f"{path}: missing fields (need {', '.join(REQUIRED)})")
    if record["schema"] != SCHEMA or record["experiment"] != experiment:
        raise InvalidRecord(f"{path}: schema or experiment does not match")
    if record["config"] != config or record["config_hash"] != config_hash(config):
        raise InvalidRecord(f"{path}: stored configuration does not match its hash or the request")
    return record
