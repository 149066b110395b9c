"""The files of the image datasets: where they go, their checksums, fetching and checking.

Everything here is torch-free, so ``python -m lvae data ...`` answers quickly. A data
directory holds ``mnist/`` (the four standard IDX archives) and ``olivetti/``
(``olivettifaces.mat``); scikit-learn's 8x8 digits need no file.

MNIST's sha256 sums are the ones published beside the standard archives by many
independent projects (TensorFlow Datasets among them); the two test-set sums agree with
the copies this project is tested on. A download goes to a unique temporary file in the
target folder, is checked, and only then renamed into place, so a failed or corrupted
download never leaves a file that looks complete.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import urllib.request
from dataclasses import dataclass
from pathlib import Path

MNIST_MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
)


@dataclass(frozen=True)
class DataFile:
    dataset: str
    name: str  # path inside the data directory
    size: int  # bytes
    sha256: str

    def path(self, data_dir: Path) -> Path:
        return Path(data_dir) / self.name


MNIST = {
    "train-images": DataFile(
        "mnist",
        "mnist/train-images-idx3-ubyte.gz",
        9_912_422,
        "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
    ),
    "train-labels": DataFile(
        "mnist",
        "mnist/train-labels-idx1-ubyte.gz",
        28_881,
        "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
    ),
    "test-images": DataFile(
        "mnist",
        "mnist/t10k-images-idx3-ubyte.gz",
        1_648_877,
        "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
    ),
    "test-labels": DataFile(
        "mnist",
        "mnist/t10k-labels-idx1-ubyte.gz",
        4_542,
        "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
    ),
}
# The classic file (4096 x 400 uint8 'faces'). Copies differ byte for byte (re-saves of the
# same matrix), so it is checked by content when read, not by checksum; scikit-learn's
# copy, fetched by sklearn.datasets.fetch_olivetti_faces, is the fallback when absent.
OLIVETTI_FILE = "olivetti/olivettifaces.mat"
FETCHABLE = ("mnist", "olivetti")


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def fetch_command(dataset: str, data_dir: Path | None) -> str:
    where = f" --data-dir {data_dir}" if data_dir is not None else ""
    return f"python -m lvae data fetch {dataset}{where}"


def missing_message(file: DataFile, data_dir: Path) -> str:
    return (
        f"{file.dataset} file {file.name} not found in {data_dir} (sha256 {file.sha256}). "
        f"Fetch it with: {fetch_command(file.dataset, data_dir)} (needs internet), or pass "
        f"--data-dir DIR / set LVAE_DATA_DIR to a folder that has it."
    )


def check_file(file: DataFile, data_dir: Path, full: bool = False) -> str:
    """``"ok"``, ``"missing"`` or a sentence saying why the file is corrupt.

    The size is always checked (cheap, and it catches a truncated download); ``full``
    also checks the sha256 sum.
    """
    path = file.path(data_dir)
    if not path.is_file():
        return "missing"
    size = path.stat().st_size
    if size != file.size:
        return f"corrupt: {size:,} bytes, expected {file.size:,}"
    if full:
        actual = sha256(path)
        if actual != file.sha256:
            return f"corrupt: sha256 {actual}, expected {file.sha256}"
    return "ok"


def require_file(file: DataFile, data_dir: Path) -> Path:
    """The file's path, after a size check; FileNotFoundError/ValueError saying what to do."""
    state = check_file(file, data_dir)
    if state == "missing":
        raise FileNotFoundError(missing_message(file, data_dir))
    if state != "ok":
        raise ValueError(
            f"{file.path(data_dir)} is {state}; delete it and run "
            f"{fetch_command(file.dataset, data_dir)}"
        )
    return file.path(data_dir)


def download(file: DataFile, data_dir: Path, mirrors=MNIST_MIRRORS, timeout: float = 30) -> Path:
    """Fetch ``file`` from the first mirror that answers and check its sha256.

    Raises OSError naming every mirror tried when none answers, and ValueError naming the
    expected and the actual sum when the bytes are wrong (then nothing is left behind).
    """
    target = file.path(data_dir)
    target.parent.mkdir(parents=True, exist_ok=True)
    basename = Path(file.name).name
    errors = []
    for mirror in mirrors:
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=basename, suffix=".part")
        try:
            with (
                os.fdopen(fd, "wb") as out,
                urllib.request.urlopen(mirror + basename, timeout=timeout) as response,
            ):
                for block in iter(lambda: response.read(1 << 20), b""):
                    out.write(block)
                out.flush()
                os.fsync(out.fileno())
        except OSError as exc:
            Path(tmp).unlink(missing_ok=True)
            errors.append(f"{mirror}: {exc}")
            continue
        actual = sha256(Path(tmp))
        if actual != file.sha256:
            Path(tmp).unlink(missing_ok=True)
            raise ValueError(
                f"{mirror}{basename}: sha256 {actual}, expected {file.sha256}; nothing was kept"
            )
        os.replace(tmp, target)
        return target
    raise OSError(f"could not download {basename}: " + "; ".join(errors))


def fetch(dataset: str, data_dir: Path, mirrors=MNIST_MIRRORS) -> list[Path]:
    """Make the files of ``dataset`` present and checked in ``data_dir``; return them."""
    if dataset not in FETCHABLE:
        raise ValueError(f"dataset must be one of {FETCHABLE}, got {dataset!r}")
    data_dir = Path(data_dir)
    if dataset == "olivetti":
        from .images import olivetti_from_sklearn  # noqa: PLC0415  (imports scikit-learn)

        olivetti_from_sklearn()  # fills scikit-learn's own cache
        return []
    paths = []
    for file in MNIST.values():
        if check_file(file, data_dir, full=True) != "ok":
            print(f"downloading {file.name} ...", flush=True)
            download(file, data_dir, mirrors)
        paths.append(file.path(data_dir))
    return paths
