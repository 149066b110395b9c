"""Cached runs: a configuration's record loaded from ``results/``, or computed and stored.

When a record with the same configuration hash exists in the results folder it is loaded;
otherwise, where training is allowed (``lvae.experiments.missing``), the experiment runs
(with a progress bar, checkpointing into ``.checkpoints/`` inside the results folder so an
interrupted run resumes) and its record is written atomically. Where it is not allowed,
``MissingRecord`` says which command makes the record, before any compute.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from pathlib import Path

import torch

from .. import store
from ..checkpoints import discarding_bad_checkpoints
from ..devices import describe, resolve_device
from ..locks import config_lock
from ..train import compiled_training, resolve_precision, training_precision
from .config import normalised, training_key
from .missing import MissingRecord, missing_message, training_allowed

CHECKPOINTS = ".checkpoints"  # the folder of unfinished runs, inside a results folder
SESSIONS = "sessions.json"  # beside a run's checkpoints: each session that trained it


def _session_log(checkpoints: Path, resumed: bool) -> list[dict]:
    """The sessions that trained this run before this one (none for a fresh run, whose
    stale log is dropped). A run resumed from checkpoints that kept no log (made before
    sessions were logged) had one earlier session of which nothing is known."""
    path = checkpoints / SESSIONS
    if not resumed:
        path.unlink(missing_ok=True)
        return []
    try:
        return json.loads(path.read_text())
    except (FileNotFoundError, ValueError):
        return [{"git_commit": None, "precision": None, "wall_time_s": None, "ended": None}]


def _write_sessions(checkpoints: Path, sessions: list[dict]) -> None:
    checkpoints.mkdir(parents=True, exist_ok=True)
    store.write_atomically(checkpoints / SESSIONS, lambda f: json.dump(sessions, f, indent=1))


class DamagedRecord(store.InvalidRecord):
    """A stored record that cannot be read or trusted, found where a run would write: the
    run stops (naming the file and what is wrong) instead of overwriting it."""


class DirtyTree(ValueError):
    """A book or paper record for the repository's results, asked of uncommitted code."""


def _refuse_a_dirty_tree(commit, profile, results_dir, allow_dirty, path) -> bool:
    """Whether the run trains from a dirty tree with leave (``allow_dirty``); DirtyTree
    if it would without. Only records of the repository's own results folder at the
    ``book`` and ``paper`` profiles are held to this: they are what the book reports."""
    reported = profile != "smoke" and (
        Path(results_dir).resolve() == store.repository_results_dir().resolve()
    )
    if not (reported and commit.endswith("+dirty")):
        return False
    if allow_dirty:
        return True
    raise DirtyTree(
        f"refusing to make {path} from a dirty tree: tracked files differ from commit "
        f"{commit.removesuffix('+dirty')[:7]}, so the code that made it would not be in the "
        "history. Commit (or stash) the changes and run the same command again; or pass "
        "--allow-dirty (allow_dirty=True), which the record then states."
    )


def checkpoint_root(results_dir: Path | str | None) -> Path:
    """Where the checkpoints of runs recorded in ``results_dir`` go: ``.checkpoints/``
    inside it, so two results folders never share (or clobber) each other's runs."""
    return Path(results_dir or store.default_results_dir()) / CHECKPOINTS


def cached_run(
    name: str,
    config,
    profile: str,
    results_dir: Path | str | None,
    device: str,
    recompute: bool,
    run: Callable[[torch.device, Path], dict],
    *,
    preflight: Callable[[object], None] | None = None,
    checkpoint_dir: Path | str | None = None,
    allow_training: bool | None = None,
    command: str | None = None,
    precision: str | None = None,
    compile: bool = False,
    label: str | None = None,
    discard_bad_checkpoints: bool = False,
    allow_dirty: bool = False,
) -> dict:
    """Load the record of ``config`` or compute it with ``run(device, checkpoint_dir)``.

    Training needs permission (``missing.training_allowed(allow_training)``: the argument,
    else ``$LVAE_ALLOW_TRAINING``); without it a missing or invalid record raises
    ``MissingRecord`` naming ``command`` (what makes the record) before any compute.
    ``recompute`` ignores a stored record and its checkpoints and trains from scratch (it
    asks for training: allowed unless ``allow_training`` is False). A stored record that
    is damaged (unreadable, incomplete, or not matching its hash) stops the run with
    ``DamagedRecord`` naming it, before anything is trained; only ``recompute`` replaces it.
    ``preflight(config)``, when given, runs only when training is needed, before anything
    is announced or written: it checks what the run needs (say, its data files) and raises
    with a clear message. Checkpoints go to ``checkpoint_dir`` (default: ``.checkpoints/``
    in the results folder), under the experiment's name and the training key.
    Training runs in ``precision`` (``lvae.train.resolve_precision``: None is tf32 on
    CUDA, fp32 on the CPU), stated in the record's provenance; a stored record is loaded
    whatever precision it was made in (precision is not part of the configuration).
    With ``compile``, training runs through ``torch.compile`` (``lvae.train.
    compiled_training``); the provenance then states whether it was compiled throughout.
    A checkpoint that fails its checks (``lvae.checkpoints``) stops the run with
    ``BadCheckpoint``, unless ``discard_bad_checkpoints``: then it is deleted, with a
    printed line, and its phase trains again from the start.
    A ``book`` or ``paper`` record for the repository's own results folder (what the book
    reports) is made only from a clean, committed tree: from a dirty one the run stops
    before training (``DirtyTree``) unless ``allow_dirty``, which the record then states.
    ``label`` names the run in what is printed (a variant's name; default ``name``, the
    experiment its records are filed under).
    """
    dev = resolve_device(device)  # a bad device or precision fails before anything else
    used = resolve_precision(precision, dev)
    plain = normalised(config)
    results_dir = Path(results_dir or store.default_results_dir())
    path = store.record_path(results_dir, name, plain)
    root = Path(checkpoint_dir) if checkpoint_dir is not None else checkpoint_root(results_dir)
    checkpoints = root / name / training_key(config)
    invalid = ""
    if path.exists() and not recompute:
        try:
            return store.load_record(path, name, plain)
        except store.InvalidRecord as exc:
            invalid = str(exc)
    if recompute and allow_training is None:
        allow_training = True  # recomputing is asking for training
    if not training_allowed(allow_training):
        command = command or f"python -m lvae run {name} --profile {profile}"
        raise MissingRecord(missing_message(name, profile, path, command, invalid))
    if invalid:  # a damaged record is never overwritten unasked
        raise DamagedRecord(
            f"{invalid}. The record was left as it is and nothing was trained: restore it "
            f"(a committed record: git checkout -- {path}), or train it again with "
            "--recompute (recompute=True), which replaces it."
        )
    commit = store.git_commit()  # the code that trains, checked before anything is touched
    dirty = _refuse_a_dirty_tree(commit, profile, results_dir, allow_dirty, path)
    if preflight is not None:
        preflight(config)
    # One process trains a configuration at a time: a duplicate (a second sweep job, a
    # second terminal) waits here, then finds the record the first one wrote.
    with config_lock(results_dir, name, store.config_hash(plain), wait=True):
        if path.exists() and not recompute:
            try:
                return store.load_record(path, name, plain)
            except store.InvalidRecord as exc:  # damaged while this process waited
                raise DamagedRecord(f"{exc}; nothing was trained") from None
        # Under the lock no other process writes here, so a temporary file is the
        # remnant of a write that a killed process left (up to a checkpoint's size).
        for orphan in checkpoints.glob("*.tmp"):
            orphan.unlink(missing_ok=True)
        if recompute:
            for stale in checkpoints.glob("*.pt"):
                stale.unlink()
        resumed = any(checkpoints.glob("*.pt"))  # an earlier session trained part of this run
        note = f" ({precision} is CUDA-only)" if precision not in (None, used) else ""
        print(
            f"[lvae] running {label or name} ({profile} profile) on {describe(dev)} in "
            f"{used}{note}; "
            f"record: {path}",
            file=sys.stderr,
            flush=True,
        )
        start = time.perf_counter()
        # Each session is logged as it starts and again as it ends, so a record made over
        # several sessions states every session's code, arithmetic and time (a session
        # killed outright keeps ended None and no time).
        earlier = _session_log(checkpoints, resumed)
        session = {"git_commit": commit, "precision": used, "wall_time_s": None, "ended": None}
        if compile:
            session["compile"] = True
        _write_sessions(checkpoints, [*earlier, session])
        ended = "stopped"  # interrupted (resumable) or failed, unless the run returns
        try:
            with (
                training_precision(used, dev),
                compiled_training(compile) as compiling,
                discarding_bad_checkpoints(discard_bad_checkpoints),
            ):
                result = run(dev, checkpoints)
            if compiling is not None:
                session["compiled"] = compiling.compiled
            ended = "completed"
        finally:  # either way, the time this session trained
            session |= {"wall_time_s": round(time.perf_counter() - start, 2), "ended": ended}
            _write_sessions(checkpoints, [*earlier, session])
        provenance = store.provenance(
            profile=profile,
            seeds=list(config.seeds),
            steps=config.steps,
            device=describe(dev),
            wall_time_s=time.perf_counter() - start,
            commit=commit,
            resumed=resumed,
            precision=used,
            compiled=None if compiling is None else compiling.compiled,
            sessions=[*earlier, session] if resumed else None,
        )
        if dirty:  # made from uncommitted code by explicit leave: say so
            provenance["dirty_tree_allowed"] = True
        record = {
            "schema": store.SCHEMA,
            "experiment": name,
            "config_hash": store.config_hash(plain),
            "config": plain,
            "provenance": provenance,
            "result": result,
        }
        store.save_record(path, record)
        return record
