"""Checkpoints that cannot run code, cannot silently corrupt a run, and fail clearly when
the disk is full (``lvae.checkpoints``, ``lvae.store.write_atomically``)."""

import errno
import os

import pytest
import torch

from lvae import checkpoints, experiments, store
from lvae.__main__ import main
from lvae.checkpoints import BadCheckpoint, discarding_bad_checkpoints, load_checkpoint
from lvae.data import sample_toy2d
from lvae.train import train_stacked
from tests.test_training import _same_models, _toy_training, _vae


def _training(checkpoint, before_step=None, **options):
    """``_toy_training`` (40 steps of two small VAEs), checkpointed every 10 steps."""
    return _toy_training(
        checkpoint, before_step, checkpoint_every=10, checkpoint_seconds=1e9, **options
    )


def _stop_at(step_to_stop):
    def die(step):
        if step == step_to_stop:
            raise RuntimeError("killed")

    return die


@pytest.fixture
def reference():
    return _training(None)


@pytest.fixture
def half_done(tmp_path):
    """A run killed at step 25: its checkpoint holds step 20."""
    path = tmp_path / "phase1.pt"
    with pytest.raises(RuntimeError, match="killed"):
        _training(path, _stop_at(25))
    assert load_checkpoint(path)["step"] == 20
    return path


class Evil:
    """Unpickling this runs code: it writes the file named by ``marker``."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (exec, (f"open({self.marker!r}, 'w').write('ran')",))


@pytest.mark.parametrize("checksummed", [False, True], ids=["planted-pickle", "valid-header"])
def test_a_checkpoint_whose_unpickling_would_run_code_is_refused_and_runs_nothing(
    tmp_path, checksummed
):
    marker, path = tmp_path / "pwned", tmp_path / "phase1.pt"
    state = {"tag": "t", "step": 3, "payload": Evil(marker)}
    if checksummed:  # someone who knows the format writes a correct header and checksum
        path.write_bytes(checkpoints.encode(state))
    else:  # a bare torch.save pickle, as the old format was
        torch.save(state, path)
    with pytest.raises(BadCheckpoint) as refused:
        _training(path)
    assert not marker.exists()  # nothing ran
    message = str(refused.value)
    assert str(path) in message and "--discard-bad-checkpoints" in message
    expected = "weights-only load refuses" if checksummed else "older lvae"
    assert expected in message
    assert path.exists()  # nothing is discarded unless asked


def _truncate(data):
    return data[: len(data) // 2]


def _flip_a_bit(data):
    at = len(data) - 1000  # inside the payload, among the weights
    return data[:at] + bytes([data[at] ^ 0x10]) + data[at + 1 :]


BAD = {
    "truncated": (_truncate, "truncated"),
    "empty": (lambda data: b"", "is empty"),
    "garbage": (lambda data: os.urandom(4096), "has no lvae header"),
    "bit-flipped": (_flip_a_bit, "does not match its checksum"),
}


@pytest.mark.parametrize("damage", sorted(BAD))
def test_a_damaged_checkpoint_stops_the_run_naming_the_file_and_the_two_ways_on(
    half_done, reference, damage, capsys
):
    change, problem = BAD[damage]
    half_done.write_bytes(change(half_done.read_bytes()))
    damaged = half_done.read_bytes()
    with pytest.raises(BadCheckpoint) as stopped:
        _training(half_done)
    message = str(stopped.value)
    assert problem in message and str(half_done) in message
    assert "--discard-bad-checkpoints" in message and "restore a good copy" in message
    assert half_done.read_bytes() == damaged  # left as found
    # Asked to discard: the file goes (saying so) and the phase trains from its start,
    # to the result of a run that was never interrupted.
    with discarding_bad_checkpoints():
        vae, history = _training(half_done)
    assert f"discarded bad checkpoint {half_done}" in capsys.readouterr().err
    assert history == reference[1]
    _same_models(vae, reference[0])


def test_a_good_checkpoint_resumes_exactly_and_loads_weights_only(half_done, reference):
    raw = half_done.read_bytes()
    assert raw.startswith(checkpoints.MAGIC)
    vae, history = _training(half_done)
    assert history == reference[1]
    _same_models(vae, reference[0])


def _full_disk_after(monkeypatch, n_good_writes):
    """Make every fsync after the first ``n_good_writes`` fail as a full disk does."""
    real, calls = os.fsync, [0]

    def fsync(fd):
        calls[0] += 1
        if calls[0] > n_good_writes:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(fd)

    monkeypatch.setattr(os, "fsync", fsync)


def test_a_full_disk_while_checkpointing_keeps_the_last_good_one_and_the_run_resumes(
    tmp_path, monkeypatch, reference
):
    path = tmp_path / "phase1.pt"
    with monkeypatch.context() as patched:
        _full_disk_after(patched, 1)  # the checkpoint at step 10 is written, step 20's fails
        with pytest.raises(store.DiskFull) as full:
            _training(path)
    message = str(full.value)
    assert str(tmp_path) in message and "phase1.pt" in message
    assert "it needs about" in message and "MB" in message and "free" in message
    assert sorted(p.name for p in tmp_path.iterdir()) == ["phase1.pt"]  # no partial file
    assert load_checkpoint(path)["step"] == 10
    vae, history = _training(path)  # space freed: it goes on from step 10
    assert history == reference[1]
    _same_models(vae, reference[0])


def test_a_full_disk_while_writing_a_record_keeps_the_old_record(tmp_path, monkeypatch):
    path = tmp_path / "r" / "x.json"
    store.save_record(path, {"old": True})
    before = path.read_bytes()
    with monkeypatch.context() as patched:
        _full_disk_after(patched, 0)
        with pytest.raises(store.DiskFull, match=r"x\.json: it needs about 0\.0 MB"):
            store.save_record(path, {"new": True})
    assert path.read_bytes() == before
    assert [p.name for p in path.parent.iterdir()] == ["x.json"]


def _planted(tmp_path, content: bytes):
    """A smoke table1 whose phase-1 checkpoint holds ``content``; its record's path."""
    config = experiments.config("table1", "smoke")
    folder = tmp_path / ".checkpoints" / "table1" / experiments.training_key(config)
    folder.mkdir(parents=True)
    (folder / "phase1.pt").write_bytes(content)
    return store.record_path(tmp_path, "table1", experiments.normalised(config))


def test_the_command_line_stops_at_a_bad_checkpoint_and_discards_it_only_when_told(
    tmp_path, capsys
):
    record = _planted(tmp_path, b"not a checkpoint at all")
    command = ["run", "table1", "--profile", "smoke", "--results-dir", str(tmp_path)]
    assert main(command) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and "phase1.pt is not a checksummed lvae checkpoint" in err
    assert "--discard-bad-checkpoints" in err and not record.exists()
    assert main([*command, "--discard-bad-checkpoints"]) == 0
    assert "discarded bad checkpoint" in capsys.readouterr().err and record.exists()


def test_the_command_line_reports_a_full_disk_in_one_message(tmp_path, monkeypatch, capsys):
    command = ["run", "table1", "--profile", "smoke", "--results-dir", str(tmp_path)]
    with monkeypatch.context() as patched:
        _full_disk_after(patched, 1)  # the sessions log is written, then the disk is full
        assert main(command) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err
    (line,) = [line for line in err.splitlines() if line.startswith("error:")]
    assert "no space left on the device holding" in line and "run the same command again" in line
    assert not list(tmp_path.rglob("*.tmp"))
    assert main(command) == 0  # space freed: the run completes


def test_a_temporary_file_left_by_a_killed_write_is_removed_by_the_next_run(tmp_path):
    config = experiments.config("table1", "smoke")
    folder = tmp_path / ".checkpoints" / "table1" / experiments.training_key(config)
    folder.mkdir(parents=True)
    orphan = folder / "phase1.pt.abc123.tmp"
    orphan.write_bytes(b"x" * 1000)
    experiments.record("table1", "smoke", results_dir=tmp_path, allow_training=True)
    assert not orphan.exists() and not list(tmp_path.rglob("*.tmp"))


def test_a_slow_checkpoint_write_widens_the_interval_to_about_one_percent(tmp_path, monkeypatch):
    import types

    import lvae.train

    now = [0.0]  # a fake clock: each step takes 1 "second", each write 2
    monkeypatch.setattr(lvae.train, "time", types.SimpleNamespace(monotonic=lambda: now[0]))
    written = []

    def slow_save(path, state):
        written.append(state["step"])
        now[0] += 2.0

    monkeypatch.setattr(lvae.train, "save_checkpoint", slow_save)

    def tick(step):
        now[0] += 1.0

    vae = _vae(["fixed"], [0.1], [5], hidden=8)
    gen = torch.Generator().manual_seed(1)
    train_stacked(
        vae,
        lambda: sample_toy2d((1, 8), gen),
        steps=700,
        lr=1e-3,
        log_every=100,
        generator=gen,
        before_step=tick,
        checkpoint=tmp_path / "c.pt",
        checkpoint_every=10_000,
        checkpoint_seconds=60,
        checkpoint_tag="t",
    )
    # The first write comes after 60 s; it took 2 s, so the next waits 200 s, not 60.
    assert written == [60, 260, 460, 660, 700]


def test_a_hang_up_stops_the_run_with_a_checkpoint_at_that_step(tmp_path, reference, capsys):
    import signal

    assert signal.getsignal(signal.SIGHUP) == signal.SIG_DFL

    def hang_up(step):
        if step == 27:
            signal.raise_signal(signal.SIGHUP)  # the terminal closed

    path = tmp_path / "c.pt"
    from lvae.train import TrainingInterrupted

    with pytest.raises(TrainingInterrupted):
        _training(path, hang_up)
    assert load_checkpoint(path)["step"] == 27
    assert signal.getsignal(signal.SIGHUP) == signal.SIG_DFL
    vae, history = _training(path)
    assert history == reference[1]
    _same_models(vae, reference[0])
