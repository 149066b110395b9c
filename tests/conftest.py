"""Shared test settings: where the real image datasets are, if anywhere.

The folder is $LVAE_DATA_DIR when set, else ../shared/data beside the repository (the
offline copies this project is developed with; for a git worktree, beside its main
checkout too). Tests that need a real file skip when it is absent, naming the file, where
they looked and the command that fetches it.
"""

import os
from pathlib import Path

import pytest

from lvae import downloads

REPO = Path(__file__).resolve().parents[1]


def _beside_the_repository() -> Path:
    candidates = [REPO.parent / "shared" / "data"]
    git = REPO / ".git"
    if git.is_file():  # a worktree: ".git" says "gitdir: <main>/.git/worktrees/<name>"
        gitdir = Path(git.read_text().partition("gitdir:")[2].strip())
        candidates.append(gitdir.parents[2].parent / "shared" / "data")
    return next((c for c in candidates if c.is_dir()), candidates[0])


# The one definition of the real-data folder; every test module imports it from here.
SHARED_DATA = Path(os.environ.get("LVAE_DATA_DIR") or _beside_the_repository())
WHERE = (
    f"{SHARED_DATA} ($LVAE_DATA_DIR)"
    if os.environ.get("LVAE_DATA_DIR")
    else f"{SHARED_DATA} (../shared/data beside the repository; set LVAE_DATA_DIR to look "
    "elsewhere)"
)


def missing_reason(name: str) -> str | None:
    """Why a test needing the real file ``name`` (inside the data folder) cannot run, or None."""
    if (SHARED_DATA / name).is_file():
        return None
    if name == downloads.OLIVETTI_FILE:
        return (
            f"{name} not found in {WHERE}. It is the classic olivettifaces.mat (4096 x 400 "
            f"uint8 'faces'), the file scikit-learn downloads from {downloads.OLIVETTI_URL}: "
            f"save it as {SHARED_DATA / name}"
        )
    file = next(f for f in downloads.MNIST.values() if f.name == name)
    return (
        f"{name} not found in {WHERE} (sha256 {file.sha256}). Fetch it with: "
        f"{downloads.fetch_command(file.dataset, SHARED_DATA)} (needs internet)"
    )


def needs_data_file(*names: str):
    """Skip unless every real file ``names`` is in the data folder; the reason says which."""
    reasons = [r for r in map(missing_reason, names) if r]
    return pytest.mark.skipif(bool(reasons), reason="; ".join(reasons) or "present")


MNIST_TEST_IMAGES = downloads.MNIST["test-images"].name
needs_mnist_test = needs_data_file(MNIST_TEST_IMAGES)
needs_olivetti_mat = needs_data_file(downloads.OLIVETTI_FILE)
# Both real files: the image experiments' real-data tests.
needs_shared_data = needs_data_file(MNIST_TEST_IMAGES, downloads.OLIVETTI_FILE)


@pytest.fixture(autouse=True)
def no_scikit_learn_downloads(tmp_path_factory, monkeypatch):
    """Tests never fetch scikit-learn's Olivetti copy, nor read a cached one: without the
    .mat file the loader meets the offline case, as on a machine with no network."""
    import sklearn.datasets._olivetti_faces as olivetti

    def offline(*args, **kwargs):
        raise OSError("downloads are disabled in the tests")

    monkeypatch.setattr(olivetti, "_fetch_remote", offline)
    monkeypatch.setenv("SCIKIT_LEARN_DATA", str(tmp_path_factory.mktemp("scikit_learn_data")))
