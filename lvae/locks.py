"""A per-configuration lock, so that two jobs never train the same configuration at once.

The lock is a file, ``<results_dir>/.locks/<experiment>-<hash>.lock``, created with
``O_CREAT | O_EXCL`` (atomic on local disks and on NFSv3+), holding the holder's host,
pid, job id and start time as JSON. While it is held, a thread touches the file every
``heartbeat_s`` seconds. A lock is *stale*, and may be broken, when its process is gone
(same host only: a pid means nothing on another node), when it belongs to this very job
in an earlier attempt (a requeued SLURM job keeps its job id), or when its last heartbeat
is older than ``stale_after_s`` (its node died or lost the disk).

``config_lock`` is re-entrant within a process: a sweep job holds it around the
experiment call, and ``cached_run`` may take it again inside without deadlocking.
No torch here (the command line imports this module).
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import json
import os
import socket
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

LOCKS = ".locks"  # the folder of lock files, inside a results folder
HEARTBEAT_S = 30.0
STALE_AFTER_S = 600.0  # 20 missed heartbeats: the holder is gone

_held: dict[Path, int] = {}  # lock path -> nesting depth, for this process
_held_guard = threading.Lock()


class ConfigLocked(RuntimeError):
    """The configuration is being computed by another job; ``holder`` says by whom."""

    def __init__(self, path: Path, holder: dict | None):
        who = describe_holder(holder)
        super().__init__(f"{path} is held by {who}")
        self.path, self.holder = path, holder


def job_provenance() -> dict[str, str | None]:
    """Where this code runs: ``{"job_id": ..., "host": ...}``.

    The job id is the SLURM job id (``<array job>_<task>`` for array jobs), else the
    submitit local job id, else the Ray task id, else None (an interactive run).
    """
    job_id = None
    if os.environ.get("SLURM_ARRAY_JOB_ID") and os.environ.get("SLURM_ARRAY_TASK_ID"):
        job_id = f"slurm:{os.environ['SLURM_ARRAY_JOB_ID']}_{os.environ['SLURM_ARRAY_TASK_ID']}"
    elif os.environ.get("SLURM_JOB_ID"):
        job_id = f"slurm:{os.environ['SLURM_JOB_ID']}"
    elif os.environ.get("SUBMITIT_LOCAL_JOB_ID"):
        job_id = f"submitit-local:{os.environ['SUBMITIT_LOCAL_JOB_ID']}"
    elif "ray" in sys.modules:  # imported only by a Ray worker (or a Ray driver)
        ray = sys.modules["ray"]
        with contextlib.suppress(Exception):  # not initialised, or not inside a task
            if ray.is_initialized():
                task = ray.get_runtime_context().get_task_id()
                job_id = f"ray:{task}" if task else None
    return {"job_id": job_id, "host": socket.gethostname()}


def lock_path(results_dir: Path | str, experiment: str, config_hash: str) -> Path:
    return Path(results_dir) / LOCKS / f"{experiment}-{config_hash}.lock"


def read_holder(path: Path) -> dict | None:
    """The holder written in a lock file, or None when it is gone or half-written."""
    try:
        return json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return None


def describe_holder(holder: dict | None) -> str:
    if not holder:
        return "an unknown holder"
    job = f", job {holder['job_id']}" if holder.get("job_id") else ""
    return f"pid {holder.get('pid')} on {holder.get('host')}{job} since {holder.get('started_utc')}"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True


def stale_reason(path: Path, stale_after_s: float = STALE_AFTER_S) -> str | None:
    """Why the lock at ``path`` may be broken, or None while its holder looks alive."""
    try:
        age = time.time() - path.stat().st_mtime
    except FileNotFoundError:
        return None  # released meanwhile: nothing to break
    holder = read_holder(path)
    if holder is None:
        # Created but not yet written (the writer is between open and write): give it time.
        return f"unreadable for {age:.0f} s" if age > 60 else None
    here = job_provenance()
    if holder.get("host") == here["host"] and holder.get("pid") != os.getpid():
        if not _pid_alive(int(holder["pid"])):
            return f"process {holder['pid']} on {holder['host']} is gone"
    if (
        here["job_id"]
        and holder.get("job_id") == here["job_id"]
        and (holder.get("host") != here["host"] or holder.get("pid") != os.getpid())
    ):
        return f"left by an earlier attempt of this job ({here['job_id']})"
    if age > stale_after_s:
        return f"no heartbeat for {age:.0f} s (limit {stale_after_s:.0f} s)"
    return None


def _break_stale(path: Path, stale_after_s: float) -> str | None:
    """Remove ``path`` if it is stale; return why, or None. Breakers take turns through a
    second lock file, so two of them never remove a lock that one has just re-created."""
    breaker = path.with_suffix(".break")
    try:
        fd = os.open(breaker, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
    except FileExistsError:
        with contextlib.suppress(FileNotFoundError):
            if time.time() - breaker.stat().st_mtime > 60:  # a breaker died mid-break
                breaker.unlink()
        return None
    try:
        os.close(fd)
        reason = stale_reason(path, stale_after_s)  # checked again, under the breaker
        if reason:
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
        return reason
    finally:
        breaker.unlink(missing_ok=True)


def _try_create(path: Path, holder: dict) -> bool:
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
    except FileExistsError:
        return False
    with os.fdopen(fd, "w") as f:
        json.dump(holder, f)
        f.flush()
        os.fsync(f.fileno())
    return True


@contextlib.contextmanager
def config_lock(
    results_dir: Path | str,
    experiment: str,
    config_hash: str,
    wait: bool = True,
    *,
    timeout_s: float | None = None,
    poll_s: float = 1.0,
    stale_after_s: float = STALE_AFTER_S,
    heartbeat_s: float = HEARTBEAT_S,
) -> Iterator[Path]:
    """Hold the lock of one configuration; yields the lock file's path.

    When another live job holds it: with ``wait``, poll every ``poll_s`` until it is
    released or stale (raise TimeoutError after ``timeout_s``, None: no limit); without,
    raise ConfigLocked at once. After acquiring, the caller should check again whether the
    record now exists: the job it waited for has probably written it.
    """
    if timeout_s is not None and timeout_s < 0:
        raise ValueError(f"timeout_s must be >= 0 or None, got {timeout_s}")
    for name, value in (
        ("poll_s", poll_s),
        ("stale_after_s", stale_after_s),
        ("heartbeat_s", heartbeat_s),
    ):
        if not value > 0:
            raise ValueError(f"{name} must be > 0, got {value}")
    if heartbeat_s >= stale_after_s:
        raise ValueError(
            f"heartbeat_s must be < stale_after_s, got {heartbeat_s} >= {stale_after_s}"
        )
    path = lock_path(results_dir, experiment, config_hash).resolve()
    with _held_guard:
        if path in _held:  # this process holds it already (re-entrant)
            _held[path] += 1
            nested = True
        else:
            nested = False
    if nested:
        try:
            yield path
        finally:
            with _held_guard:
                _held[path] -= 1
        return

    path.parent.mkdir(parents=True, exist_ok=True)
    holder = {
        **job_provenance(),
        "pid": os.getpid(),
        "experiment": experiment,
        "config_hash": config_hash,
        "started_utc": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
    }
    deadline = None if timeout_s is None else time.monotonic() + timeout_s
    announced = False
    while not _try_create(path, holder):
        reason = _break_stale(path, stale_after_s)
        if reason:
            print(f"[lvae] broke stale lock {path}: {reason}", file=sys.stderr, flush=True)
            continue
        if not wait:
            raise ConfigLocked(path, read_holder(path))
        if deadline is not None and time.monotonic() >= deadline:
            raise TimeoutError(
                f"waited {timeout_s} s for {path}, held by {describe_holder(read_holder(path))}"
            )
        if not announced:
            print(
                f"[lvae] waiting for {path}, held by {describe_holder(read_holder(path))}",
                file=sys.stderr,
                flush=True,
            )
            announced = True
        time.sleep(poll_s)

    with _held_guard:
        _held[path] = 1
    stop = threading.Event()

    def heartbeat():
        while not stop.wait(heartbeat_s):
            with contextlib.suppress(FileNotFoundError):
                os.utime(path)

    beat = threading.Thread(target=heartbeat, name=f"lock-heartbeat-{config_hash}", daemon=True)
    beat.start()
    try:
        yield path
    finally:
        stop.set()
        beat.join()
        with _held_guard:
            del _held[path]
        # Remove it only while it is still ours (a breaker may have judged us stale).
        if (read_holder(path) or {}).get("pid") == os.getpid():
            path.unlink(missing_ok=True)
