"""Shared test settings: where the offline copies of the real datasets live, if anywhere."""

from pathlib import Path

import pytest

# ../shared/data beside the repository (see its README): the MNIST test set and Olivetti.
SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
needs_shared_data = pytest.mark.skipif(
    not SHARED_DATA.is_dir(),
    reason=f"real datasets not found at {SHARED_DATA} (see shared/data/README.md)",
)
