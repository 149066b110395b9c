"""Records the book reports come from a clean, committed tree (``lvae.experiments.cache``)."""

import pytest

from lvae import experiments, store
from lvae.__main__ import main
from lvae.experiments.cache import DirtyTree


@pytest.fixture
def dirty_repository(tmp_path, monkeypatch):
    """``tmp_path`` stands for the repository's results folder, on a tree with changes."""
    monkeypatch.setattr(store, "repository_results_dir", lambda: tmp_path)
    monkeypatch.setattr(store, "git_commit", lambda: "0123456789abcdef+dirty")
    return tmp_path


def _sphere(results_dir, profile="book", **options):
    return experiments.record(
        "sphere-vae", profile, results_dir=results_dir, device="cpu", allow_training=True,
        seeds=(0,), steps=5, **options,
    )  # fmt: skip


def test_a_book_record_for_the_repository_is_refused_from_a_dirty_tree(dirty_repository):
    with pytest.raises(DirtyTree, match=r"from a dirty tree.*commit 0123456.*--allow-dirty"):
        _sphere(dirty_repository)
    # Refused before anything ran: no checkpoint folder, no record.
    assert not (dirty_repository / ".checkpoints").exists()
    assert not list(dirty_repository.rglob("*.json"))


def test_leave_to_use_a_dirty_tree_is_stated_in_the_record(dirty_repository):
    made = _sphere(dirty_repository, allow_dirty=True)
    assert made.provenance["dirty_tree_allowed"] is True
    assert made.provenance["git_commit"].endswith("+dirty")


def test_smoke_runs_and_other_results_folders_are_not_held_to_it(dirty_repository, tmp_path):
    assert "dirty_tree_allowed" not in _sphere(dirty_repository, "smoke").provenance
    elsewhere = _sphere(tmp_path / "elsewhere")
    assert elsewhere.provenance["git_commit"].endswith("+dirty")
    assert "dirty_tree_allowed" not in elsewhere.provenance


def test_the_command_line_refuses_in_one_message_and_takes_allow_dirty(dirty_repository, capsys):
    command = ["run", "sphere-vae", "--results-dir", str(dirty_repository), "--steps", "5"]
    command += ["--seeds", "1", "--yes"]
    assert main(command) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and "error: refusing to make" in err
    assert main([*command, "--allow-dirty"]) == 0


def test_a_refused_recompute_keeps_the_checkpoints_it_would_have_discarded(dirty_repository):
    config = experiments.config("sphere-vae", "book", seeds=(0,), steps=5)
    folder = dirty_repository / ".checkpoints" / "sphere-vae" / experiments.training_key(config)
    folder.mkdir(parents=True)
    (folder / "train.pt").write_bytes(b"an earlier session's work")
    with pytest.raises(DirtyTree):
        _sphere(dirty_repository, recompute=True)
    assert (folder / "train.pt").read_bytes() == b"an earlier session's work"
