"""Sweeps on real engines (submitit's LocalExecutor, a local Ray cluster) and the config lock.

No engine is mocked: jobs are real subprocesses that train the smoke profile of table1.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from lvae import locks, sweep
from lvae.cli_sweep import add_sweep_parser, run_sweep
from lvae.experiments import record
from lvae.experiments.table1 import Table1Config


def table1(profile, **options):
    """The table1 record at ``profile``, trained where it is missing (a dict, as stored)."""
    return record("table1", profile, device="cpu", allow_training=True, **options).data


try:
    import submitit
except ImportError:  # the grid, lock and command tests still run
    submitit = None
needs_submitit = pytest.mark.skipif(
    submitit is None, reason="submitit is not installed (pip install 'lvae[slurm]')"
)


def _parser():
    parser = argparse.ArgumentParser()
    add_sweep_parser(parser.add_subparsers(dest="command"))
    return parser


def _sweep(*args) -> int:
    return run_sweep(_parser().parse_args(["sweep", *map(str, args)]))


def _wait_until(predicate, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


def _record(results: Path, digest: str) -> dict:
    return json.loads((results / "table1" / f"{digest}.json").read_text())


# ------------------------------------------------------------------- grid parsing
def test_grid_values_take_the_type_of_their_field():
    grid = sweep.parse_grid(
        Table1Config,
        ["latent_dim=1,2", "lr=1e-3", "fixed_sigmas=1;0.1,0.3", "seeds=0;1"],
    )
    assert grid == {
        "latent_dim": [1, 2],
        "lr": [0.001],
        "fixed_sigmas": [(1.0, 0.1), (0.3,)],
        "seeds": [(0, 1)],
    }
    assert all(type(v) is int for v in grid["latent_dim"])
    assert all(type(e) is float for e in grid["fixed_sigmas"][0])


def test_grid_of_optional_and_string_fields():
    from lvae.experiments.image_config import ImagesConfig

    grid = sweep.parse_grid(ImagesConfig, ["limit=none,100", "split=train"])
    assert grid == {"limit": [None, 100], "split": ["train"]}


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ("latnt_dim=1", "--set latnt_dim: Table1Config has no field 'latnt_dim'; allowed: "),
        ("latent_dim=1,x", "--set latent_dim: 'x' is not an int"),
        ("lr=fast", "--set lr: 'fast' is not a float"),
        ("latent_dim", "--set must look like field=v1,v2, got 'latent_dim'"),
        ("latent_dim=", "--set latent_dim: no values in 'latent_dim='"),
        ("fixed_sigmas=;", "--set fixed_sigmas: empty tuple"),
    ],
)
def test_grid_errors_name_the_field_and_what_is_allowed(setting, message):
    with pytest.raises(ValueError) as err:
        sweep.parse_grid(Table1Config, [setting])
    assert str(err.value).startswith(message)
    if "allowed" in message:  # every field is listed
        allowed = set(str(err.value).split("allowed: ")[1].split(", "))
        assert {"seeds", "steps", "fixed_sigmas", "n_monitor", "data_scale"} <= allowed


def test_the_grid_is_a_product_built_and_checked_before_submission(tmp_path, capsys):
    points = sweep.expand_grid(
        "table1", "smoke", ["latent_dim=1,2", "hidden=8,16,16"], tmp_path
    )  # the repeated 16 is one configuration
    assert [(p.overrides["latent_dim"], p.overrides["hidden"]) for p in points] == [
        (1, 8), (1, 16), (2, 8), (2, 16)
    ]  # fmt: skip
    assert len({p.config_hash for p in points}) == 4
    assert all(p.record == tmp_path / "table1" / f"{p.config_hash}.json" for p in points)
    # A value the configuration rejects fails here, in the sweeping process; nothing is sent.
    assert _sweep("table1", "--profile", "smoke", "--set", "latent_dim=1,0",
                  "--results-dir", tmp_path) == 1  # fmt: skip
    assert "latent_dim must be >= 1, got 0" in capsys.readouterr().err
    assert not (tmp_path / sweep.SWEEPS).exists()


def test_dry_run_says_what_would_be_submitted(tmp_path, capsys):
    assert _sweep("table1", "--profile", "smoke", "--set", "latent_dim=1,2", "--dry-run",
                  "--results-dir", tmp_path) == 0  # fmt: skip
    out = capsys.readouterr().out
    assert out.count("would submit") == 2 and "2 to submit, 0 skipped (dry run)" in out
    assert not (tmp_path / sweep.SWEEPS).exists() and not (tmp_path / "table1").exists()


def test_resource_and_command_errors(tmp_path, capsys):
    with pytest.raises(ValueError, match="partition is for the slurm executor, not 'local'"):
        sweep.Resources(partition="gpu").check("local")
    with pytest.raises(ValueError, match=r"executor must be one of \('local', 'slurm', 'ray'\)"):
        sweep.Resources().check("pbs")
    assert _sweep("--profile", "smoke") == 1
    assert "name an experiment" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        _parser().parse_args(["sweep", "table1", "--cpus", "0"])


def test_a_missing_engine_names_the_extra():
    with pytest.raises(ImportError, match=r"pip install 'lvae\[ray\]'"):
        sweep.EXTRAS["no_such_engine"] = "ray"
        try:
            sweep.import_engine("no_such_engine")
        finally:
            del sweep.EXTRAS["no_such_engine"]


def test_the_command_module_does_not_import_torch():
    code = "import sys, lvae.cli_sweep, lvae.sweep, lvae.locks; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# -------------------------------------------------------------------------- locks
def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_lock_is_exclusive_reentrant_and_released(tmp_path):
    path = locks.lock_path(tmp_path, "table1", "abc")
    with locks.config_lock(tmp_path, "table1", "abc") as held:
        assert held == path.resolve()
        holder = json.loads(path.read_text())
        assert holder["pid"] == os.getpid() and holder["host"] == socket.gethostname()
        assert {"job_id", "started_utc"} <= set(holder)
        with locks.config_lock(tmp_path, "table1", "abc"):  # the same process: re-entrant
            pass
        assert path.exists()  # the inner exit did not release the outer hold
        # Another process cannot take it: it gives up at once, or after its timeout.
        code = (
            "import sys; from lvae import locks\n"
            "try:\n"
            f"    with locks.config_lock({str(tmp_path)!r}, 'table1', 'abc', wait=False): pass\n"
            "except locks.ConfigLocked as e: print('locked:', e)\n"
            f"with locks.config_lock({str(tmp_path)!r}, 'table1', 'abc', timeout_s=0.5,\n"
            "                       poll_s=0.1):\n"
            "    pass\n"
        )
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
        assert f"locked: {path.resolve()} is held by pid {os.getpid()}" in out.stdout
        assert "TimeoutError: waited 0.5 s for" in out.stderr
    assert not path.exists()


def test_stale_locks_are_broken(tmp_path, capsys):
    path = locks.lock_path(tmp_path, "table1", "abc")
    path.parent.mkdir(parents=True)
    # A holder whose process is gone on this host.
    path.write_text(json.dumps({"host": socket.gethostname(), "pid": _dead_pid(), "job_id": None}))
    with locks.config_lock(tmp_path, "table1", "abc", wait=False):
        assert json.loads(path.read_text())["pid"] == os.getpid()
    assert "is gone" in capsys.readouterr().err
    # A holder on another host, silent for longer than stale_after_s.
    path.write_text(json.dumps({"host": "elsewhere", "pid": 1, "job_id": None}))
    with pytest.raises(locks.ConfigLocked, match="held by pid 1 on elsewhere"):
        with locks.config_lock(tmp_path, "table1", "abc", wait=False):
            pass
    old = time.time() - 3600
    os.utime(path, (old, old))
    with locks.config_lock(tmp_path, "table1", "abc", wait=False, stale_after_s=60):
        pass
    assert "no heartbeat for 3600 s (limit 60 s)" in capsys.readouterr().err


def test_lock_arguments_are_checked():
    with pytest.raises(ValueError, match="heartbeat_s must be < stale_after_s, got 60 >= 10"):
        with locks.config_lock("/nonexistent", "table1", "abc", heartbeat_s=60, stale_after_s=10):
            pass


def test_job_provenance_names_the_job_and_host(monkeypatch):
    monkeypatch.delenv("SLURM_ARRAY_JOB_ID", raising=False)
    monkeypatch.setenv("SLURM_JOB_ID", "4242")
    assert locks.job_provenance() == {"job_id": "slurm:4242", "host": socket.gethostname()}
    assert sweep.job_provenance is locks.job_provenance


# ----------------------------------------------------- submitit's LocalExecutor
@needs_submitit
def test_local_sweep_equals_sequential_runs_and_skips_what_is_done(tmp_path, capsys):
    results, sequential = tmp_path / "results", tmp_path / "sequential"
    args = ("table1", "--profile", "smoke", "--set", "latent_dim=1,2", "--executor", "local")
    assert _sweep(*args, "--wait", "--results-dir", results) == 0
    out = capsys.readouterr().out
    points = sweep.expand_grid("table1", "smoke", ["latent_dim=1,2"], results)
    for point in points:
        assert f"{point.config_hash}  job " in out and "DONE  (trained)" in out
        alone = table1("smoke", results_dir=sequential, **point.overrides)
        assert alone["config_hash"] == point.config_hash
        assert _record(results, point.config_hash)["result"] == alone["result"]
    (manifest,) = sweep.read_manifests(results)
    assert manifest["executor"] == "local" and manifest["skipped"] == []
    assert [j["config_hash"] for j in manifest["jobs"]] == [p.config_hash for p in points]
    assert all(j["job_id"].isdigit() for j in manifest["jobs"])
    # Again: both records exist, nothing is submitted.
    assert _sweep(*args, "--results-dir", results) == 0
    out = capsys.readouterr().out
    assert out.count("skip (record exists)") == 2 and "0 to submit, 2 skipped" in out
    assert len(sweep.read_manifests(results)) == 1
    assert _sweep("--status", "--results-dir", results) == 0
    assert capsys.readouterr().out.count("  DONE") == 2
    assert not list((results / locks.LOCKS).glob("*.lock"))


@needs_submitit
def test_a_duplicate_submission_trains_once(tmp_path):
    results = tmp_path / "results"
    executor = submitit.LocalExecutor(tmp_path / "jobs" / "%j")
    executor.update_parameters(timeout_min=5)
    job = sweep.SweepJob("table1", "smoke", {"steps": 600}, str(results))
    first, second = executor.submit(job), executor.submit(job)
    outcomes = sorted(j.result()["outcome"] for j in (first, second))
    # The second either waited on the lock or started after the record was written.
    assert outcomes.count("trained") == 1, outcomes
    assert outcomes[0] in ("done by another job", "existing")
    assert len(list((results / "table1").glob("*.json"))) == 1


@needs_submitit
def test_a_killed_job_resubmitted_resumes_to_the_same_record(tmp_path, capsys):
    results = tmp_path / "results"
    args = ("table1", "--profile", "smoke", "--set", "steps=1500", "--results-dir", results)
    (point,) = sweep.expand_grid("table1", "smoke", ["steps=1500"], results)
    from lvae.experiments import training_key

    first_checkpoint = (
        results / ".checkpoints" / "table1" / training_key(point.config) / "phase1.pt"
    )
    lock = locks.lock_path(results, "table1", point.config_hash)
    assert _sweep(*args) == 0  # submitted, not waited for
    assert _wait_until(first_checkpoint.exists, 120), "no checkpoint was written"
    holder = locks.read_holder(lock)
    os.kill(holder["pid"], signal.SIGKILL)  # the training process, as a node failure would
    assert _wait_until(lambda: not locks._pid_alive(holder["pid"]), 10)
    assert not point.record.exists() and lock.exists()  # killed: no record, a stale lock
    capsys.readouterr()
    assert _sweep(*args, "--wait") == 0
    assert "DONE  (trained)" in capsys.readouterr().out
    resumed = _record(results, point.config_hash)
    assert resumed["provenance"]["resumed"] is True
    whole = table1("smoke", results_dir=tmp_path / "uninterrupted", steps=1500)
    assert whole["provenance"]["resumed"] is False
    assert resumed["result"] == whole["result"]
    rows = sweep.status(results)
    assert [r["state"].split()[0] for r in rows] == ["DONE", "DONE"]


@pytest.mark.slow
@needs_submitit
@pytest.mark.parametrize(
    "sigint", [signal.default_int_handler, signal.SIG_IGN], ids=["sigint-default", "sigint-ignored"]
)
def test_a_timed_out_job_is_requeued_and_resumes_to_the_same_record(tmp_path, sigint):
    # The timeout signal is sent by the test once the job has written a checkpoint, exactly as
    # submitit's controller sends it signal_delay_s before the limit, instead of waiting for
    # the clock: a job fast enough to finish before a real limit would test nothing (CI once
    # finished 1,500 steps inside the 6 s before the signal). Below a 10-minute limit submitit
    # counts any such signal as a timeout, so this is its timeout path, not its preemption one.
    steps = 1500
    results = tmp_path / "results"
    executor = submitit.LocalExecutor(tmp_path / "jobs" / "%j", max_num_timeout=5)
    executor.update_parameters(timeout_min=5)
    # The job inherits the test's SIGINT: ignored is what a shell's `cmd &` or nohup gives.
    previous = signal.signal(signal.SIGINT, sigint)
    try:
        job = executor.submit(sweep.SweepJob("table1", "smoke", {"steps": steps}, str(results)))
    finally:
        signal.signal(signal.SIGINT, previous)
    (point,) = sweep.expand_grid("table1", "smoke", [f"steps={steps}"], results)
    from lvae.experiments import training_key

    first_checkpoint = (
        results / ".checkpoints" / "table1" / training_key(point.config) / "phase1.pt"
    )
    lock = locks.lock_path(results, "table1", point.config_hash)
    assert _wait_until(first_checkpoint.exists, 120), "no checkpoint was written"
    holder = locks.read_holder(lock)
    timeout_signal = submitit.local.local.LocalJobEnvironment._usr_sig()
    os.kill(holder["pid"], timeout_signal)  # the training process: one phase still to go
    assert job.result()["outcome"] == "trained"
    log = Path(job.paths.stdout).read_text()  # submitit's log
    assert "this job is timed-out" in log and "Requeued job" in log
    assert "[lvae] resuming table1 phase" in Path(job.paths.stderr).read_text()
    (path,) = (results / "table1").glob("*.json")
    requeued = json.loads(path.read_text())
    whole = table1("smoke", results_dir=tmp_path / "uninterrupted", steps=steps)
    assert requeued["provenance"]["resumed"] is True
    assert requeued["result"] == whole["result"]


# ------------------------------------------------------------- a local Ray cluster
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("", 0))
        return s.getsockname()[1]


@pytest.mark.slow
@pytest.mark.skipif(
    shutil.which("ray", path=str(Path(sys.executable).parent)) is None,
    reason="Ray is not installed (pip install 'lvae[ray]'): no local cluster to sweep on",
)
def test_ray_sweep_on_a_head_and_a_worker_node(tmp_path):
    ray_cli = str(Path(sys.executable).parent / "ray")
    import ray.util

    ip, port = ray.util.get_node_ip_address(), _free_port()  # Ray binds to this IP
    address = f"{ip}:{port}"
    common = ["--num-cpus=1", "--block", "--disable-usage-stats", "--object-store-memory=80000000"]
    env = {**os.environ, "RAY_ADDRESS": ""}
    nodes = []
    results = tmp_path / "results"
    # Ray's sockets live in its temp dir, and a socket path must stay under 108 characters.
    ray_tmp = tempfile.mkdtemp(prefix="lvae-ray-", dir="/tmp")
    try:
        # --block keeps each node in the foreground: it is stopped by its pid below, not by
        # `ray stop`, which would stop every Ray process of this user.
        nodes.append(
            subprocess.Popen(
                [ray_cli, "start", "--head", f"--port={port}",
                 "--include-dashboard=false", f"--temp-dir={ray_tmp}", *common],
                env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )
        )  # fmt: skip
        assert _wait_until(lambda: _port_open(ip, port), 60), "the Ray head did not start"
        nodes.append(
            subprocess.Popen(
                [ray_cli, "start", f"--address={address}", *common],
                env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )
        )  # fmt: skip
        code = (
            "import sys, ray, time\n"
            f"ray.init(address={address!r})\n"
            "while len([n for n in ray.nodes() if n['Alive']]) < 2: time.sleep(0.5)\n"
        )
        subprocess.run([sys.executable, "-c", code], env=env, check=True, timeout=90)
        # The sweep runs in its own process, as from the command line.
        code = (
            "import argparse, sys\n"
            "from lvae.cli_sweep import add_sweep_parser, run_sweep\n"
            "p = argparse.ArgumentParser(); add_sweep_parser(p.add_subparsers())\n"
            "sys.exit(run_sweep(p.parse_args(sys.argv[1:])))\n"
        )
        out = subprocess.run(
            [sys.executable, "-c", code, "sweep", "table1", "--profile", "smoke", "--set",
             "latent_dim=1,2", "--executor", "ray", "--ray-address", address,
             "--results-dir", str(results)],
            env=env, capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        assert out.returncode == 0, out.stderr[-3000:]
        points = sweep.expand_grid("table1", "smoke", ["latent_dim=1,2"], results)
        for point in points:
            assert f"{point.config_hash}  job " in out.stdout
            record = _record(results, point.config_hash)
            alone = table1("smoke", results_dir=tmp_path / "sequential", **point.overrides)
            assert record["result"] == alone["result"]
        assert out.stdout.count("DONE  (trained)") == 2
        (manifest,) = sweep.read_manifests(results)
        assert manifest["executor"] == "ray" and manifest["ray_address"] == address
        assert [r["state"] for r in sweep.status(results)] == ["DONE", "DONE"]
    finally:
        for node in reversed(nodes):
            node.terminate()  # a blocking `ray start` stops its node's processes on SIGTERM
        for node in reversed(nodes):
            try:
                node.wait(timeout=30)
            except subprocess.TimeoutExpired:
                node.kill()
        shutil.rmtree(ray_tmp, ignore_errors=True)


def _port_open(ip: str, port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex((ip, port)) == 0


def test_the_sweep_options_for_checkpoints_and_dirty_trees_reach_each_job(tmp_path, monkeypatch):
    """``--discard-bad-checkpoints`` and ``--allow-dirty`` are handed to every job, which
    passes them to ``record`` (where lvae.checkpoints and the dirty-tree check read them)."""
    submitted, seen = [], []

    def fake_submit(engine, jobs, *rest):
        submitted.extend(jobs)
        return [(str(i), job) for i, job in enumerate(jobs)]

    monkeypatch.setattr(sweep, "import_engine", lambda name: object())
    monkeypatch.setattr(sweep, "_submit_submitit", fake_submit)
    points = sweep.expand_grid("table1", "smoke", ["latent_dim=1,2"], tmp_path)
    sweep.submit(
        points, "local", sweep.Resources(), tmp_path, discard_bad_checkpoints=True,
        allow_dirty=True, checkpoint_dir=tmp_path / "ck",
    )  # fmt: skip
    assert len(submitted) == 2
    assert all(job.discard_bad_checkpoints and job.allow_dirty for job in submitted)
    assert all(job.checkpoint_dir == str(tmp_path / "ck") for job in submitted)
    import lvae.experiments

    monkeypatch.setattr(lvae.experiments, "record", lambda *a, **k: seen.append(k))
    submitted[0]()
    assert seen[0]["discard_bad_checkpoints"] is True and seen[0]["allow_dirty"] is True
    assert seen[0]["checkpoint_dir"] == str(tmp_path / "ck")
