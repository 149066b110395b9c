"""Shared test settings: where the real image datasets are, if anywhere.

The folder is $LVAE_DATA_DIR when set, else ../shared/data beside the repository (the
offline copies this project is developed with). Tests that need the real files skip, and
say which file is missing and how to fetch it, when the folder lacks them.
"""

import os
from pathlib import Path

import pytest

from lvae import downloads

SHARED_DATA = Path(
    os.environ.get("LVAE_DATA_DIR") or Path(__file__).resolve().parents[2] / "shared" / "data"
)
REAL_FILES = (downloads.MNIST["test-images"].name, downloads.OLIVETTI_FILE)
_missing = [name for name in REAL_FILES if not (SHARED_DATA / name).is_file()]
needs_shared_data = pytest.mark.skipif(
    bool(_missing),
    reason=(
        f"real data files not found in {SHARED_DATA}: {', '.join(_missing)} (MNIST test images "
        f"sha256 {downloads.MNIST['test-images'].sha256}). Fetch them with: python -m lvae "
        f"data fetch mnist --data-dir DIR, put the classic olivettifaces.mat in DIR/olivetti/, "
        f"and set LVAE_DATA_DIR=DIR"
    ),
)


@pytest.fixture(autouse=True)
def no_scikit_learn_downloads(tmp_path_factory, monkeypatch):
    """Tests never fetch scikit-learn's Olivetti copy, nor read a cached one: without the
    .mat file the loader meets the offline case, as on a machine with no network."""
    import sklearn.datasets._olivetti_faces as olivetti

    def offline(*args, **kwargs):
        raise OSError("downloads are disabled in the tests")

    monkeypatch.setattr(olivetti, "_fetch_remote", offline)
    monkeypatch.setenv("SCIKIT_LEARN_DATA", str(tmp_path_factory.mktemp("scikit_learn_data")))
