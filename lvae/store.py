"""Run records: one JSON file per configuration, keyed by a hash of that configuration.

A record holds the configuration, the result and its provenance. Writes are atomic (a
temporary file, then ``os.replace``), so an interrupted run never leaves a file that
looks complete. A record that fails to parse, lacks fields, or whose stored hash does not
match its configuration is reported as invalid and recomputed, never used.
"""

from __future__ import annotations

import datetime as _dt
import errno
import hashlib
import importlib.metadata
import json
import os
import platform
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import torch

from . import __version__
from .locks import job_provenance

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


def repository_results_dir() -> Path:
    """The results folder of the repository this package is in: the records the book
    reports (they must be made from a clean, committed tree)."""
    return Path(__file__).resolve().parents[1] / "results"


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
    precision: str | None = None,
    compiled: bool | None = None,
    sessions: list[dict] | None = None,
):
    """Where a result comes from. ``commit`` is the code's commit when the run started.

    ``resumed`` says the run continued from checkpoints left by an earlier session; its
    ``wall_time_s`` then counts this session only, and ``sessions`` lists every session
    that trained it, in order (each one's commit, precision, wall time and how it ended;
    None where a session left no trace). ``precision`` is the arithmetic it
    trained in (``lvae.train.PRECISIONS``); records made before it was stated have none,
    and were trained in float32 (TF32 off: the CPU). ``compiled`` is stated only for a
    run asked to train through ``torch.compile``: whether every step went through it.
    """
    stated = {} if precision is None else {"precision": precision}
    if compiled is not None:
        stated["compiled"] = bool(compiled)
    if sessions is not None:
        stated["sessions"] = [dict(session) for session in sessions]
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
        **stated,
        "created_utc": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        **job_provenance(),  # the cluster job id (None when interactive) and the host
    }


class DiskFull(OSError):
    """The disk filled while a file was written. The file's previous version (if any) is
    intact and no partial file is left; the message names the folder, the space the
    write needed and the space free there."""

    def __init__(self, path: Path, needed: int | None):
        folder = Path(path).parent
        try:
            free = f"{_megabytes(shutil.disk_usage(folder).free)} is free there"
        except OSError:
            free = "its free space could not be read"
        size = f"about {_megabytes(needed)}" if needed is not None else "more space"
        super().__init__(
            errno.ENOSPC,
            f"no space left on the device holding {folder} while writing {Path(path).name}: "
            f"it needs {size} and {free}. Free some space (or point --results-dir or "
            "--checkpoint-dir elsewhere) and run the same command again; it goes on from "
            "the last file written whole.",
        )

    def __str__(self) -> str:
        return self.strerror


def _megabytes(n: int) -> str:
    return f"{n / 1e6:,.1f} MB"


_FULL = (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC))


def write_atomically(
    path: Path, write, binary: bool = False, mode: int | None = None, size: int | None = None
) -> None:
    """Call ``write(f)`` on a unique temporary file beside ``path`` (two writers never share
    one), sync it to disk, then rename it over ``path``: readers and a crash see the old
    file or the new one, never half. ``mode`` sets the file's permissions. A full disk
    raises ``DiskFull`` (``size``: the bytes the write needs, for its message), with the
    temporary file removed and ``path`` as it was."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb" if binary else "w") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        if mode is not None:
            os.chmod(tmp, mode)
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        if exc.errno in _FULL:
            raise DiskFull(path, size) from None
        raise
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_bytes_atomically(path: Path, data: bytes, mode: int | None = None) -> None:
    """``write_atomically`` for bytes already in memory (their size is known)."""
    write_atomically(path, lambda f: f.write(data), binary=True, mode=mode, size=len(data))


def save_record(path: Path, record: dict) -> None:
    """Write ``record`` atomically: readers see the old file or the new one, never half."""
    text = json.dumps(record, indent=1, sort_keys=True) + "\n"
    # mkstemp creates 0600; records are shared
    write_bytes_atomically(path, text.encode(), mode=0o644)


def load_record(path: Path, experiment: str, config: dict) -> dict:
    """Read and validate a record for ``config``; raise InvalidRecord with the reason."""
    record = read_record(path)
    if record["experiment"] != experiment:
        raise InvalidRecord(f"{path}: a record of {record['experiment']}, not {experiment}")
    if record["config"] != config:
        raise InvalidRecord(f"{path}: stored configuration does not match the request")
    return record


def read_record(path: Path) -> dict:
    """Read a record and check it on its own terms: parseable, complete, current schema,
    and a configuration that hashes to its stored hash. Raise InvalidRecord otherwise."""
    try:
        record = json.loads(Path(path).read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise InvalidRecord(f"{path}: unreadable ({exc})") from None
    if not isinstance(record, dict) or any(k not in record for k in REQUIRED):
        raise InvalidRecord(f"{path}: missing fields (need {', '.join(REQUIRED)})")
    if record["schema"] != SCHEMA:
        raise InvalidRecord(f"{path}: schema {record['schema']}, this code reads {SCHEMA}")
    if record["config_hash"] != config_hash(record["config"]):
        raise InvalidRecord(f"{path}: stored configuration does not match its hash")
    return record


class ModelTable:
    """The models of a record as a table: one row per entry of the result's ``models``
    list (its spec: setting, seed, sigma, ...), and one column per result list aligned
    with it (a list with exactly one entry per model, such as ``elbo`` or ``kl``).

    ``where`` filters rows, ``column`` reads a column for the rows kept, and ``history``
    reads a training history as (log steps, models kept). Rows keep the record's order.
    """

    def __init__(self, result: dict, rows: list[int] | None = None):
        self._result = result
        self._specs = result["models"]
        self._rows = list(range(len(self._specs))) if rows is None else rows

    def __len__(self) -> int:
        return len(self._rows)

    def __iter__(self):
        return (dict(self._specs[i]) for i in self._rows)

    @property
    def columns(self) -> list[str]:
        """Result fields with one entry per model, in alphabetical order."""
        n = len(self._specs)
        return sorted(
            k
            for k, v in self._result.items()
            if k != "models" and isinstance(v, list) and len(v) == n
        )

    def where(self, **conditions) -> ModelTable:
        """Rows whose spec has each field equal to the value given (or, when the value is
        callable, for which it returns true): ``where(setting="LS", seed=0)``."""
        for name in conditions:
            if not any(name in spec for spec in self._specs):
                raise KeyError(f"no model has a field {name!r}; fields: {self.fields}")

        def keep(spec) -> bool:
            for name, wanted in conditions.items():
                value = spec.get(name)
                if not (wanted(value) if callable(wanted) else value == wanted):
                    return False
            return True

        return ModelTable(self._result, [i for i in self._rows if keep(self._specs[i])])

    @property
    def fields(self) -> list[str]:
        """The fields of the model specs (the keys of the ``models`` entries)."""
        return sorted({k for spec in self._specs for k in spec})

    def values(self, field: str) -> list:
        """The distinct values of a spec field over the rows kept, in order of appearance."""
        seen = []
        for spec in self:
            if spec.get(field) not in seen:
                seen.append(spec.get(field))
        return seen

    def column(self, name: str) -> np.ndarray:
        """A per-model result column for the rows kept, as an array (first axis: models)."""
        if name not in self.columns:
            raise KeyError(f"{name!r} is not a per-model column; columns: {self.columns}")
        values = self._result[name]
        return np.asarray([values[i] for i in self._rows], dtype=float)

    def history(self, term: str) -> tuple[np.ndarray, np.ndarray]:
        """(steps, values) of a logged training term; values are (steps, rows kept)."""
        history = self._result.get("history", {})
        if term not in history or term == "step":
            names = sorted(k for k in history if k != "step")
            raise KeyError(f"no history of {term!r}; logged terms: {names}")
        values = np.asarray(history[term], dtype=float)
        if values.ndim != 2 or values.shape[1] != len(self._specs):
            raise KeyError(f"history {term!r} is not logged per model: shape {values.shape}")
        return np.asarray(history["step"]), values[:, self._rows]


class Record:
    """A validated run record: configuration, provenance and results, with its models as
    a ``ModelTable`` (``record.models.where(setting="LS").column("elbo")``)."""

    def __init__(self, data: dict, path: Path | None = None):
        self.data, self.path = data, path

    @classmethod
    def load(cls, path: Path | str) -> Record:
        """Read and validate the record at ``path`` (InvalidRecord says what is wrong)."""
        return cls(read_record(Path(path)), Path(path))

    experiment = property(lambda self: self.data["experiment"])
    config = property(lambda self: self.data["config"])
    config_hash = property(lambda self: self.data["config_hash"])
    provenance = property(lambda self: self.data["provenance"])
    result = property(lambda self: self.data["result"])

    @property
    def models(self) -> ModelTable:
        if "models" not in self.result:
            raise KeyError(f"{self.experiment} records list no models")
        return ModelTable(self.result)

    def describe(self) -> str:
        """Profile, seeds, steps and device: the scale a number from this record has (the
        wording of the book's table captions, ``lvae.report.provenance``)."""
        from .report import provenance as caption

        return caption(self.provenance)

    def __repr__(self) -> str:
        return f"Record({self.experiment} {self.config_hash}: {self.describe()})"
