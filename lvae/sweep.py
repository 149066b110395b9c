"""Sweeps: a grid over an experiment's configuration, one cluster job per configuration.

``expand_grid("table1", "smoke", ["latent_dim=1,2"])`` gives the configurations of the
grid (the profile's, with the fields named replaced); ``submit`` skips those whose valid
record exists and sends one job per remaining configuration to an existing engine:

* ``local`` / ``slurm``: submitit (``pip install 'lvae[slurm]'``). A job that reaches its
  time limit is requeued by submitit (``SweepJob.checkpoint``) and resumes from the
  experiment's own training checkpoints (``.checkpoints/`` in the results folder).
* ``ray``: Ray (``pip install 'lvae[ray]'``), on the cluster at ``ray_address`` or on a
  local one started for the sweep. Ray tasks die with the process that submitted them, so
  this waits for them (wrap the command in ``ray job submit`` to leave it running).

Grid syntax, one ``--set`` per field: ``field=v1,v2,...``; commas separate the values of
the grid, semicolons the elements of a tuple field (``fixed_sigmas=1;0.1,0.3;0.03`` is
two values; quote it in a shell). Values are parsed to the field's type: ``int``,
``float``, ``str``, ``bool`` (true/false), ``none`` for an optional field.

Every job holds the configuration's lock (``lvae.locks``) while it trains, and checks for
the record again once it has it, so a configuration submitted twice is trained once. A
manifest of each sweep (hashes, job ids, executor, submit time) is written to
``<results_dir>/.sweeps/`` and ``status`` reads the states back from it.

Nothing here imports torch at module level; a job imports it when it runs.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as _dt
import importlib
import itertools
import json
import os
import secrets
import signal
import sys
import threading
import types
import typing
from dataclasses import dataclass
from pathlib import Path

from .experiments import EXPERIMENTS, PROFILES, check_precision
from .locks import config_lock, job_provenance, lock_path, read_holder, stale_reason

__all__ = [
    "EXECUTORS",
    "SweepJob",
    "SweepPoint",
    "expand_grid",
    "job_provenance",
    "parse_grid",
    "status",
    "submit",
]

EXECUTORS = ("local", "slurm", "ray")
EXTRAS = {"submitit": "slurm", "ray": "ray"}  # engine module -> lvae extra installing it
SWEEPS = ".sweeps"  # manifests and submitit's job folders, inside a results folder


def import_engine(module: str):
    """Import an optional engine, or say which extra installs it."""
    try:
        return importlib.import_module(module)
    except ImportError:
        extra = EXTRAS[module]
        raise ImportError(
            f"the {module} engine is not installed; install it with "
            f"pip install 'lvae[{extra}]' (or pip install {module})"
        ) from None


# ------------------------------------------------------------------------ the grid
def _parse_scalar(text: str, kind, field: str):
    text = text.strip()
    if kind is bool:
        if text.lower() in ("true", "1", "yes"):
            return True
        if text.lower() in ("false", "0", "no"):
            return False
        raise ValueError(f"--set {field}: {text!r} is not a bool (true or false)")
    if kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            raise ValueError(
                f"--set {field}: {text!r} is not {'an int' if kind is int else 'a float'}"
            ) from None
    if kind is str:
        return text
    raise ValueError(f"--set {field}: fields of type {kind!r} cannot be set from the command line")


def _parse_value(text: str, hint, field: str):
    """``text`` as a value of the type ``hint`` (a resolved annotation)."""
    args = typing.get_args(hint)
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        if text.strip().lower() == "none" and type(None) in args:
            return None
        (inner,) = [a for a in args if a is not type(None)]
        return _parse_value(text, inner, field)
    if typing.get_origin(hint) is tuple:
        elements = [e for e in text.split(";") if e.strip()]
        if not elements:
            raise ValueError(f"--set {field}: empty tuple {text!r}; separate elements with ';'")
        kind = args[0]  # tuple[X, ...]
        return tuple(_parse_scalar(e, kind, field) for e in elements)
    return _parse_scalar(text, hint, field)


def parse_grid(config_class, settings: list[str]) -> dict[str, list]:
    """``["field=v1,v2", ...]`` as ``{field: [parsed values]}``, in the order given.

    Raises ValueError naming the setting, the field and the allowed fields.
    """
    hints = typing.get_type_hints(config_class)
    allowed = [f.name for f in dataclasses.fields(config_class)]
    grid: dict[str, list] = {}
    for setting in settings:
        field, sep, values = setting.partition("=")
        field = field.strip()
        if not sep or not field:
            raise ValueError(f"--set must look like field=v1,v2, got {setting!r}")
        if field not in allowed:
            raise ValueError(
                f"--set {field}: {config_class.__name__} has no field {field!r}; "
                f"allowed: {', '.join(allowed)}"
            )
        if field in grid:
            raise ValueError(f"--set {field}: given twice; put all its values in one --set")
        texts = [v for v in values.split(",") if v.strip()]
        if not texts:
            raise ValueError(f"--set {field}: no values in {setting!r}")
        grid[field] = [_parse_value(v, hints[field], field) for v in texts]
    return grid


@dataclass(frozen=True)
class SweepPoint:
    """One configuration of a grid: the overrides given, the config, its hash, its record."""

    experiment: str
    profile: str
    overrides: dict
    config: object
    config_hash: str
    record: Path


def check_experiment(experiment: str, profile: str) -> None:
    if experiment not in EXPERIMENTS:
        raise ValueError(f"experiment must be one of {sorted(EXPERIMENTS)}, got {experiment!r}")
    if profile not in PROFILES:
        raise ValueError(f"profile must be one of {PROFILES}, got {profile!r}")


def expand_grid(
    experiment: str, profile: str, settings: list[str], results_dir: Path | str | None = None
) -> list[SweepPoint]:
    """Every configuration of the grid, each built (and so validated) before anything runs;
    configurations equal after parsing are kept once."""
    check_experiment(experiment, profile)
    grid = parse_grid(EXPERIMENTS[experiment].config, settings)
    points, seen = [], set()
    for values in itertools.product(*grid.values()):
        point = make_point(experiment, profile, dict(zip(grid, values, strict=True)), results_dir)
        if point.config_hash not in seen:
            seen.add(point.config_hash)
            points.append(point)
    return points


def make_point(
    experiment: str, profile: str, overrides: dict, results_dir: Path | str | None = None
) -> SweepPoint:
    """The configuration of ``experiment`` at ``profile`` with ``overrides``, its hash and
    where its record goes."""
    from . import store
    from .experiments import normalised

    exp = EXPERIMENTS[experiment]
    config = exp.make_config(profile, **overrides)
    plain = normalised(config)
    results_dir = Path(results_dir or store.default_results_dir())
    return SweepPoint(
        experiment,
        profile,
        dict(overrides),
        config,
        store.config_hash(plain),
        store.record_path(results_dir, exp.record_name, plain),
    )


def has_record(point: SweepPoint) -> bool:
    """Whether the valid record of ``point`` is stored (an invalid one is recomputed)."""
    from . import store
    from .experiments import normalised

    try:
        name = EXPERIMENTS[point.experiment].record_name
        store.load_record(point.record, name, normalised(point.config))
    except store.InvalidRecord:
        return False
    return True


# ------------------------------------------------------------------------- the job
@dataclass(frozen=True)
class SweepJob:
    """What one job runs: one configuration, under its lock. Picklable (submitit, Ray).

    ``checkpoint`` is submitit's hook on timeout or preemption: it resubmits the same job,
    which resumes from the experiment's training checkpoints.
    """

    experiment: str
    profile: str
    overrides: dict
    results_dir: str
    device: str = "auto"
    cpus: int = 1
    precision: str | None = None  # lvae.train.PRECISIONS; None: the device's default
    discard_bad_checkpoints: bool = False  # lvae.checkpoints: delete a bad one, train again
    allow_dirty: bool = False  # a book record for the repository's results from a dirty tree
    checkpoint_dir: str | None = None  # None: .checkpoints/ in the results folder

    def __call__(self) -> dict:
        import torch

        # The job's CPUs, not the node's: jobs sharing a node must not oversubscribe it.
        torch.set_num_threads(self.cpus)
        point = make_point(self.experiment, self.profile, self.overrides, self.results_dir)
        outcome = {"config_hash": point.config_hash, "record": str(point.record)}
        outcome.update(job_provenance())
        if has_record(point):
            return {**outcome, "outcome": "existing"}
        from .experiments import record

        name = EXPERIMENTS[self.experiment].record_name
        with config_lock(self.results_dir, name, point.config_hash, wait=True):
            if has_record(point):  # written by the job we waited for
                return {**outcome, "outcome": "done by another job"}
            with _checkpoint_before_requeue():
                record(
                    self.experiment,
                    self.profile,
                    results_dir=self.results_dir,
                    device=self.device,
                    precision=self.precision,
                    discard_bad_checkpoints=self.discard_bad_checkpoints,
                    allow_dirty=self.allow_dirty,
                    checkpoint_dir=self.checkpoint_dir,
                    allow_training=True,
                    **self.overrides,
                )
        return {**outcome, "outcome": "trained"}

    def checkpoint(self, *args, **kwargs):
        submitit = import_engine("submitit")
        return submitit.helpers.DelayedSubmission(dataclasses.replace(self))


@contextlib.contextmanager
def _checkpoint_before_requeue():
    """Under submitit, turn its timeout signal into a Ctrl-C first: the trainer writes a
    checkpoint at the end of the current step and stops, and only then does submitit's own
    handler run (``checkpoint``, requeue, exit). Without this, the requeued job would lose
    everything since the trainer's last periodic checkpoint."""
    submitit = sys.modules.get("submitit")
    in_main = threading.current_thread() is threading.main_thread()
    if submitit is None or not in_main:
        yield
        return
    usr = submitit.JobEnvironment._usr_sig()
    previous = signal.getsignal(usr)
    if not callable(previous):  # not inside a submitit job
        yield
        return
    caught = []

    def interrupt(signum, frame):
        caught.append(signum)
        signal.raise_signal(signal.SIGINT)

    # A job started in the background by a shell (`cmd &`, nohup) inherits SIGINT ignored,
    # and Python keeps it so: the Ctrl-C above would vanish and submitit would never
    # requeue. For the job's duration SIGINT raises KeyboardInterrupt, as it does by default.
    previous_int = signal.getsignal(signal.SIGINT)
    if not callable(previous_int):
        signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(usr, interrupt)
    try:
        yield
    except KeyboardInterrupt:  # TrainingInterrupted is one
        if not caught:
            raise
        previous(caught[0], None)  # submitit: checkpoint() resubmits this job, then exits
        raise
    finally:
        signal.signal(usr, previous)
        if not callable(previous_int) and previous_int is not None:
            signal.signal(signal.SIGINT, previous_int)


def _run_ray_job(job: SweepJob) -> dict:  # a module-level function: Ray imports it by name
    return job()


# ---------------------------------------------------------------------- submission
@dataclass
class Resources:
    gpus: int = 0
    cpus: int = 1
    timeout_min: int = 240
    partition: str | None = None
    ray_address: str | None = None

    def check(self, executor: str) -> None:
        if executor not in EXECUTORS:
            raise ValueError(f"executor must be one of {EXECUTORS}, got {executor!r}")
        if self.gpus < 0:
            raise ValueError(f"gpus must be >= 0, got {self.gpus}")
        if self.cpus < 1:
            raise ValueError(f"cpus must be >= 1, got {self.cpus}")
        if self.timeout_min < 1:
            raise ValueError(f"timeout_min must be >= 1, got {self.timeout_min}")
        if self.partition is not None and executor != "slurm":
            raise ValueError(f"partition is for the slurm executor, not {executor!r}")
        if self.ray_address is not None and executor != "ray":
            raise ValueError(f"ray_address is for the ray executor, not {executor!r}")


def _now() -> str:
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")


def _say(*parts) -> None:
    print(*parts, flush=True)


def submit(
    points: list[SweepPoint],
    executor: str,
    resources: Resources,
    results_dir: Path | str,
    *,
    device: str = "auto",
    precision: str | None = None,
    discard_bad_checkpoints: bool = False,
    allow_dirty: bool = False,
    checkpoint_dir: Path | str | None = None,
    dry_run: bool = False,
    wait: bool = False,
) -> dict:
    """Submit one job per point without a valid record; return the sweep's manifest.

    With ``dry_run``, print what would be skipped and submitted and submit nothing. With
    ``wait`` (always for Ray), wait for the jobs and print each final state. Each job
    trains in ``precision`` (``lvae.experiments.PRECISIONS``; None: the device's default)
    and, with ``discard_bad_checkpoints``, deletes a bad checkpoint and trains its phase
    again instead of stopping (``lvae.checkpoints``); ``allow_dirty`` lets a job make a
    book record for the repository's results from uncommitted code (stated in it);
    ``checkpoint_dir`` is where the jobs keep their checkpoints (default: the results
    folder's ``.checkpoints/``).
    """
    resources.check(executor)
    check_precision(precision)  # before anything is submitted
    results_dir = Path(results_dir)
    todo = []
    for point in points:
        done = has_record(point)
        action = "skip (record exists)" if done else "would submit" if dry_run else "submit"
        _say(f"{point.config_hash}  {_describe(point.overrides)}  {action}")
        if not done:
            todo.append(point)
    skipped = [p.config_hash for p in points if p not in todo]
    if dry_run or not todo:
        _say(f"{len(todo)} to submit, {len(skipped)} skipped" + (" (dry run)" if dry_run else ""))
        return {"jobs": [], "skipped": skipped}
    engine = import_engine("ray" if executor == "ray" else "submitit")  # before any job
    sweep_id = f"{_dt.datetime.now(_dt.UTC):%Y%m%dT%H%M%SZ}-{points[0].experiment}-"
    sweep_id += secrets.token_hex(2)
    jobs = [
        SweepJob(
            p.experiment,
            p.profile,
            p.overrides,
            str(results_dir),
            device,
            resources.cpus,
            precision,
            discard_bad_checkpoints,
            allow_dirty,
            None if checkpoint_dir is None else str(checkpoint_dir),
        )
        for p in todo
    ]
    manifest = {
        "sweep_id": sweep_id,
        "experiment": points[0].experiment,
        "profile": points[0].profile,
        "executor": executor,
        "submitted_utc": _now(),
        "resources": dataclasses.asdict(resources),
        "precision": precision,
        "skipped": skipped,
        "jobs": [],
    }
    sweeps = results_dir / SWEEPS
    if executor == "ray":
        handles = _submit_ray(engine, jobs, resources)
        manifest["ray_address"] = resources.ray_address
    else:
        folder = sweeps / sweep_id
        handles = _submit_submitit(engine, jobs, executor, resources, folder, sweep_id)
        manifest["folder"] = str(folder / "%j")
    for point, (job_id, _) in zip(todo, handles, strict=True):
        overrides = _jsonable(point.overrides)
        manifest["jobs"].append(
            {"config_hash": point.config_hash, "overrides": overrides, "job_id": job_id}
        )
        _say(f"{point.config_hash}  job {job_id}  SUBMITTED")
    _write_manifest(sweeps / f"{sweep_id}.json", manifest)
    _say(f"manifest: {sweeps / f'{sweep_id}.json'}")
    if wait or executor == "ray":
        manifest["outcomes"] = _wait(engine, executor, todo, handles)
    return manifest


def _describe(overrides: dict) -> str:
    return " ".join(f"{k}={_jsonable(v)}" for k, v in overrides.items()) or "(profile as is)"


def _jsonable(value):
    return json.loads(json.dumps(value))


def _write_manifest(path: Path, manifest: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(manifest, indent=1) + "\n")
    os.replace(tmp, path)


def _submit_submitit(submitit, jobs, executor, resources, folder, sweep_id):
    try:
        engine = submitit.AutoExecutor(folder=folder / "%j", cluster=executor)
    except RuntimeError as exc:  # no sbatch on this machine
        raise RuntimeError(f"executor {executor!r} is not available here: {exc}") from None
    params = {
        "timeout_min": resources.timeout_min,
        "cpus_per_task": resources.cpus,
        "gpus_per_node": resources.gpus,
        "tasks_per_node": 1,
        "nodes": 1,
        "name": f"lvae-{sweep_id}",
    }
    if executor == "slurm":
        if resources.partition:
            params["slurm_partition"] = resources.partition
        # The USR2 warning two minutes ahead: time for submitit to requeue the job.
        params["slurm_signal_delay_s"] = 120
    engine.update_parameters(**params)
    submitted = [engine.submit(job) for job in jobs]
    return [(str(j.job_id), j) for j in submitted]


def _submit_ray(ray, jobs, resources):
    # address None: the cluster named by RAY_ADDRESS or the one `ray start` left running
    # on this machine, else a new local one.
    ray.init(address=resources.ray_address, ignore_reinit_error=True)
    task = ray.remote(num_cpus=resources.cpus, num_gpus=resources.gpus)(_run_ray_job)
    refs = [task.remote(job) for job in jobs]
    return [(ref.task_id().hex(), ref) for ref in refs]


def _wait(engine, executor, points, handles) -> list[dict]:
    outcomes = []
    if executor == "ray":
        pending = {ref: point for point, (_, ref) in zip(points, handles, strict=True)}
        ids = {ref: job_id for job_id, ref in handles}
        while pending:
            ready, _ = engine.wait(list(pending), num_returns=1)
            point = pending.pop(ready[0])
            outcomes.append(_finished(point, ids[ready[0]], lambda r=ready[0]: engine.get(r)))
        return outcomes
    for point, (job_id, job) in zip(points, handles, strict=True):
        outcomes.append(_finished(point, job_id, job.result))
    return outcomes


def _finished(point, job_id, result) -> dict:
    try:
        outcome = result()
        state = "DONE" if has_record(point) else "FAILED"
        detail = outcome["outcome"]
    except Exception as exc:  # the job's error, as the engine reports it
        outcome, state, detail = {}, "FAILED", str(exc).strip().splitlines()[-1:]
        detail = detail[0] if detail else type(exc).__name__
    _say(f"{point.config_hash}  job {job_id}  {state}  ({detail})")
    return {"config_hash": point.config_hash, "job_id": job_id, "state": state, **outcome}


# -------------------------------------------------------------------------- status
def read_manifests(results_dir: Path | str) -> list[dict]:
    """The manifests of the sweeps recorded in ``results_dir``, oldest first."""
    folder = Path(results_dir) / SWEEPS
    return [json.loads(p.read_text()) for p in sorted(folder.glob("*.json"))]


def job_state(results_dir: Path, manifest: dict, job: dict) -> str:
    """DONE when the record is stored; RUNNING while a live job holds the lock; else what
    the engine says (submitit: the job reloaded from its folder), or PENDING (Ray)."""
    from . import store

    exp = EXPERIMENTS.get(manifest["experiment"])  # a variant's records are its base's
    name = exp.record_name if exp else manifest["experiment"]
    record = Path(results_dir) / name / f"{job['config_hash']}.json"
    try:
        store.read_record(record)
        return "DONE"
    except store.InvalidRecord:
        pass
    lock = lock_path(results_dir, name, job["config_hash"])
    if lock.exists() and not stale_reason(lock):
        holder = read_holder(lock) or {}
        return f"RUNNING (pid {holder.get('pid')} on {holder.get('host')})"
    if manifest["executor"] == "ray":
        return "PENDING (or lost with the process that submitted it)"
    submitit = import_engine("submitit")
    if manifest["executor"] == "slurm":
        engine_job = submitit.SlurmJob(manifest["folder"], job["job_id"])
        state = engine_job.state
    else:
        engine_job = submitit.local.local.LocalJob(manifest["folder"], job["job_id"])
        state = "RUNNING" if _pid_running(job["job_id"]) else engine_job.state
    if state in ("FINISHED", "COMPLETED"):  # the job ended without a record: it failed
        return f"FAILED ({state.lower()} without a record; see {engine_job.paths.stderr})"
    return state


def _pid_running(job_id: str) -> bool:
    try:
        os.kill(int(job_id), 0)
    except (ValueError, ProcessLookupError):
        return False
    except PermissionError:
        return True
    return True


def status(results_dir: Path | str) -> list[dict]:
    """Print and return the state of every job of every sweep in ``results_dir``."""
    rows = []
    for manifest in read_manifests(results_dir):
        _say(
            f"sweep {manifest['sweep_id']}: {manifest['experiment']} ({manifest['profile']}), "
            f"{manifest['executor']}, submitted {manifest['submitted_utc']}, "
            f"{len(manifest['skipped'])} skipped"
        )
        for job in manifest["jobs"]:
            state = job_state(Path(results_dir), manifest, job)
            _say(f"  {job['config_hash']}  job {job['job_id']}  {state}")
            rows.append({"sweep_id": manifest["sweep_id"], **job, "state": state})
    if not rows:
        _say(f"no sweeps recorded in {Path(results_dir) / SWEEPS}")
    return rows
