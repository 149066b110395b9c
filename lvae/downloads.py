"""The files of the image datasets: where they go, their checksums, fetching and checking.

Everything here is torch-free, so ``python -m lvae data ...`` answers quickly. A data
directory holds ``mnist/`` (the four standard IDX archives) and ``olivetti/``
(``olivettifaces.mat``); scikit-learn's 8x8 digits need no file.

MNIST's sizes and sha256 sums are TensorFlow Datasets' record of the standard archives
(github.com/tensorflow/datasets, tensorflow_datasets/url_checksums/mnist.txt, read at commit
31f1255e); the two test-set sums also match the copies this project is tested on, whose
MD5s are the canonical 9fb629c4... and ec29112d.... A download goes to a unique temporary
file in the target folder, is checked, and only then renamed into place, so a failed or
corrupted download never leaves a file that looks complete.
"""

from __future__ import annotations

import hashlib
import http.client
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
# Where scikit-learn downloads it from (sklearn/datasets/_olivetti_faces.py, FACES), named
# in messages so that a user can also save it as OLIVETTI_FILE by hand.
OLIVETTI_URL = "https://ndownloader.figshare.com/files/5976027"
OLIVETTI_MAX = 242  # the largest grey level in the faces (the smallest is 0)
FETCHABLE = ("mnist", "olivetti")


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def fetch_command(dataset: str, data_dir: Path | None) -> str:
    if data_dir is None and dataset == "olivetti":  # scikit-learn's cache needs no folder
        return "python -m lvae data fetch olivetti"
    return f"python -m lvae data fetch {dataset} --data-dir {data_dir or 'DIR'}"


def missing_message(file: DataFile, data_dir: Path | None, why: str = "") -> str:
    """What is missing (the file and its sha256), and the command that fetches it."""
    where = f"not found in {data_dir}" if data_dir is not None else "needs a data folder"
    then = (
        "or pass --data-dir / set LVAE_DATA_DIR to a folder that has it"
        if data_dir is not None
        else "then pass --data-dir DIR (or data_dir=DIR in Python) or set LVAE_DATA_DIR=DIR"
    )
    return (
        f"{file.dataset.upper()} file {file.name} {where} (sha256 {file.sha256}){why}. "
        f"Fetch it with: {fetch_command(file.dataset, data_dir)} (needs internet), {then}."
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


# Local files whose sha256 matched in this process, by (path, size, mtime): a file is hashed
# on first use only (the largest, 9.9 MB, takes about 10 ms), and again if it changes.
_VERIFIED: set[tuple[str, int, int]] = set()


def _stamp(path: Path) -> tuple[str, int, int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return (str(path.resolve()), st.st_size, st.st_mtime_ns)


def require_file(file: DataFile, data_dir: Path, why: str = "") -> Path:
    """The file's path, after a size check and, on its first use in this process, a sha256
    check; FileNotFoundError/ValueError saying what to do otherwise (so a damaged copy is
    named with its fix, not met later as a gzip or IDX error).
    ``why``: a clause added to the "missing" message (a download that failed)."""
    stamp = _stamp(file.path(data_dir))
    state = check_file(file, data_dir, full=stamp not in _VERIFIED)
    if state == "ok":
        _VERIFIED.add(stamp)
    elif state == "missing":
        raise FileNotFoundError(missing_message(file, data_dir, why))
    if state != "ok":
        expected = "" if file.sha256 in state else f" (sha256 {file.sha256})"
        raise ValueError(
            f"{file.path(data_dir)} is {state}{expected}; delete it and run "
            f"{fetch_command(file.dataset, data_dir)}"
        )
    return file.path(data_dir)


def download(file: DataFile, data_dir: Path, mirrors=MNIST_MIRRORS, timeout: float = 30) -> Path:
    """Fetch ``file`` from the first mirror that answers and check its size and sha256.

    Raises OSError naming every mirror tried when none answers, and ValueError naming the
    file, the expected and the actual sum when the bytes are wrong. Either way, and on any
    other failure (a connection cut mid-file, Ctrl-C), no file is left behind.
    """
    target = file.path(data_dir)
    target.parent.mkdir(parents=True, exist_ok=True)
    basename = Path(file.name).name
    errors = []
    for mirror in mirrors:
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=basename + ".", suffix=".part")
        try:
            try:
                with (
                    os.fdopen(fd, "wb") as out,
                    urllib.request.urlopen(mirror + basename, timeout=timeout) as response,
                ):
                    promised = response.headers.get("Content-Length")
                    received = 0
                    for block in iter(lambda: response.read(1 << 20), b""):
                        out.write(block)
                        received += len(block)
            except (OSError, http.client.HTTPException) as exc:  # try the next mirror
                errors.append(f"{mirror}: {type(exc).__name__}: {exc}")
                continue
            # urllib returns a short body without complaint when the connection drops.
            if promised is not None and promised.isdigit() and received != int(promised):
                errors.append(f"{mirror}: connection closed after {received:,} of {promised} bytes")
                continue
            actual = sha256(Path(tmp))
            if actual != file.sha256:
                size = Path(tmp).stat().st_size
                raise ValueError(
                    f"downloaded {file.name} from {mirror}{basename} has sha256 {actual} "
                    f"({size:,} bytes), expected {file.sha256} ({file.size:,} bytes); "
                    f"nothing was kept"
                )
            os.replace(tmp, target)
            _VERIFIED.add(_stamp(target))  # just hashed: require_file need not hash it again
            return target
        finally:
            Path(tmp).unlink(missing_ok=True)  # gone already after os.replace
    raise OSError(f"could not download {basename}: " + "; ".join(errors))


# ------------------------------------------------------------------------------ Olivetti
def olivetti_cache() -> Path:
    """Where scikit-learn keeps its converted copy of the faces (as get_data_home() finds
    it, without creating the folder as that function does)."""
    home = os.environ.get("SCIKIT_LEARN_DATA") or "~/scikit_learn_data"
    return Path(home).expanduser() / "olivetti_py3.pkz"  # "olivetti.pkz", + _pkl_filepath's suffix


def olivetti_via_sklearn(data_dir: Path | None = None):
    """The 400 faces (400, 64, 64) through ``sklearn.datasets.fetch_olivetti_faces``
    (downloaded into scikit-learn's cache when the network allows), on our scale: grey
    level / 255, float32.

    scikit-learn subtracts the minimum (0) and divides by the maximum (242), in float32, and
    keeps the images in file order (shuffle=False), transposed to rows x columns as our
    reader does. So ``rint(x * 242)`` gives back the whole grey levels, and dividing them
    by 255 gives exactly the pixels read from the .mat file (tested on the real file).
    """
    import numpy as np  # noqa: PLC0415  (keeps the command line's import light)
    from sklearn.datasets import fetch_olivetti_faces  # noqa: PLC0415

    try:
        faces = fetch_olivetti_faces(download_if_missing=True, shuffle=False).images
    except Exception as exc:  # noqa: BLE001  (offline: urllib, HTTP or OS errors)
        raise FileNotFoundError(
            f"OLIVETTI file {OLIVETTI_FILE} not found in {data_dir or 'a data folder (none given)'}"
            f", and scikit-learn "
            f"could not download its copy ({type(exc).__name__}: {exc}). Fetch it with: "
            f"{fetch_command('olivetti', None)} (needs internet; it fills scikit-learn's "
            f"cache, {olivetti_cache()}), or save the classic olivettifaces.mat ({OLIVETTI_URL}) "
            f"as DIR/{OLIVETTI_FILE} and pass --data-dir DIR or set LVAE_DATA_DIR=DIR."
        ) from None
    levels = faces * np.float32(OLIVETTI_MAX)
    # A copy whose largest level is not 242 would not come back to whole levels: refuse it.
    if faces.shape != (400, 64, 64) or np.abs(levels - np.rint(levels)).max() > 1e-3:
        raise ValueError(
            f"scikit-learn's Olivetti faces ({olivetti_cache()}) are not the 400 64x64 faces "
            f"with grey levels 0..{OLIVETTI_MAX} this loader expects (shape {faces.shape}); "
            f"delete that file and run {fetch_command('olivetti', None)}"
        )
    return (np.rint(levels) / 255.0).astype(np.float32)


def check_olivetti(data_dir: Path) -> str:
    """``"ok"``, ``"corrupt: ..."`` or ``"missing; ..."`` (saying what is used instead)."""
    path = Path(data_dir) / OLIVETTI_FILE
    if path.is_file():
        from scipy.io import loadmat  # noqa: PLC0415

        try:
            shape = loadmat(path, variable_names=["faces"])["faces"].shape
        except Exception as exc:  # noqa: BLE001  (scipy raises several kinds)
            return f"corrupt: not a MATLAB file with a 'faces' matrix ({exc})"
        return "ok" if shape == (4096, 400) else f"corrupt: 'faces' is {shape}, not 4096 x 400"
    if olivetti_cache().is_file():
        return f"missing; scikit-learn's cached copy is used ({olivetti_cache()})"
    return (
        "missing; scikit-learn's copy is downloaded on first use (or now, with "
        f"{fetch_command('olivetti', None)})"
    )


def fetch(dataset: str, data_dir: Path | None, mirrors=MNIST_MIRRORS) -> list[Path]:
    """Make the files of ``dataset`` present and checked; return the paths in ``data_dir``.

    MNIST: the four archives into ``data_dir/mnist/``, each checked against its sha256
    (downloaded only when missing or wrong). Olivetti: nothing to do when ``data_dir`` has
    a readable olivettifaces.mat, else scikit-learn's copy is fetched into its own cache
    (and ``[]`` returned).
    """
    if dataset not in FETCHABLE:
        raise ValueError(f"dataset must be one of {FETCHABLE}, got {dataset!r}")
    if dataset == "olivetti":
        if data_dir is not None and check_olivetti(data_dir) == "ok":
            return [Path(data_dir) / OLIVETTI_FILE]
        olivetti_via_sklearn(data_dir)  # fills scikit-learn's own cache
        return []
    if data_dir is None:
        raise ValueError("fetching mnist needs a data folder: pass --data-dir DIR")
    data_dir = Path(data_dir)
    paths = []
    for file in MNIST.values():
        if check_file(file, data_dir, full=True) != "ok":
            print(f"downloading {file.name} ...", flush=True)
            download(file, data_dir, mirrors)
        paths.append(file.path(data_dir))
    return paths
