"""Image datasets through one entry point: ``load_images(name, data_dir=None, split=...)``.

Every loader returns a float32 tensor shaped (N, C, H, W) with values in [0, 1], built
from the standard files of its dataset:

* ``digits``: no file, scikit-learn's bundled 8x8 digits (values 0..16); train / test.
* ``mnist``: ``mnist/{train,t10k}-images-idx3-ubyte[.gz]`` (IDX format); train / test.
* ``olivetti``: ``olivetti/olivettifaces.mat`` (``faces``: 4096 x 400 uint8); train / test.
* ``celeba``: ``celeba/img_align_celeba/*.jpg``, with ``celeba/list_eval_partition.txt``
  for the train / valid / test splits; ``all`` needs no partition file.

The data directory is the ``data_dir`` argument, else ``$LVAE_DATA_DIR``. MNIST is
downloaded into it when missing and the network allows (``download=True``), checked
against its sha256 (``lvae.downloads``); Olivetti falls back to scikit-learn's copy when
the .mat file is absent. Otherwise the error names the missing file, its checksum and the
command that fetches it. ``require_dataset`` checks all this before a run, without loading.
Fixed, documented splits make the test sets the same for everyone: digits and Olivetti
have no official split.
"""

from __future__ import annotations

import gzip
import os
import struct
from pathlib import Path

import numpy as np
import torch

from . import downloads

DATASETS = ("digits", "mnist", "olivetti", "celeba")
# Grey levels of each dataset's pixels: the digits take the values 0..16.
QUANTIZATION_LEVELS = {"digits": 17, "mnist": 256, "olivetti": 256, "celeba": 256}
CELEBA_SIZE = 64  # images are centre-cropped to 148 x 148, then resized to 64 x 64
CELEBA_CROP = 148


def data_directory(data_dir=None) -> Path | None:
    """The ``data_dir`` argument, else ``$LVAE_DATA_DIR``, else None."""
    if data_dir is not None:
        return Path(data_dir)
    env = os.environ.get("LVAE_DATA_DIR")
    return Path(env) if env else None


def check_images(x: torch.Tensor, name: str = "images") -> torch.Tensor:
    """Refuse anything that is not a finite float tensor (N, C, H, W) with values in [0, 1]."""
    if not isinstance(x, torch.Tensor) or not x.is_floating_point():
        raise ValueError(f"{name} must be a float tensor, got {type(x).__name__}")
    if x.dim() != 4 or min(x.shape) < 1:
        raise ValueError(f"{name} must be shaped (N, C, H, W), got {tuple(x.shape)}")
    if x.shape[1] not in (1, 3):
        raise ValueError(f"{name} must have 1 or 3 channels, got {x.shape[1]}")
    if not bool(torch.isfinite(x).all()) or x.min() < 0 or x.max() > 1:
        raise ValueError(
            f"{name} values must be finite and in [0, 1], got [{x.min():.3g}, {x.max():.3g}]"
        )
    return x


def _missing(path: Path, how: str) -> FileNotFoundError:
    return FileNotFoundError(f"missing file {path}: {how}")


def _require_dir(data_dir, name: str) -> Path:
    root = data_directory(data_dir)
    if root is None:
        raise FileNotFoundError(
            f"dataset '{name}' needs a data folder: pass --data-dir DIR (command line), "
            f"data_dir=DIR (Python) or set LVAE_DATA_DIR=DIR"
        )
    return root


# ----------------------------------------------------------------------------- digits
def _digits_split(n: int, split: str) -> np.ndarray:
    """The indices of ``split`` among the ``n`` digits. No official split: a fixed
    permutation, the last 297 images for test."""
    order = np.random.default_rng(0).permutation(n)
    return order[:1500] if split == "train" else order[1500:]


def _digits(split: str) -> np.ndarray:
    from sklearn.datasets import load_digits

    images = load_digits().images.astype(np.float32) / 16.0  # (1797, 8, 8), 0..16
    return images[_digits_split(len(images), split)][:, None]


# ------------------------------------------------------------------------------ MNIST
def _read_idx_bytes(path: Path) -> bytes:
    """The bytes of an IDX file, gunzipped when its name ends in .gz."""
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as f:
            return f.read()
    except (OSError, EOFError) as exc:
        raise ValueError(f"{path}: not a readable (gzip) IDX file ({exc})") from None


def read_idx_images(path: Path) -> np.ndarray:
    """Read an IDX3 unsigned-byte image file (optionally gzipped), validating its header.

    Layout: magic 0x00000803 (big endian: two zero bytes, type 0x08 = ubyte, 3 dims), then
    the three sizes as big-endian uint32, then N*H*W bytes.
    """
    raw = _read_idx_bytes(path)
    if len(raw) < 16:
        raise ValueError(f"{path}: too short for an IDX3 header ({len(raw)} bytes)")
    magic, n, h, w = struct.unpack(">IIII", raw[:16])
    if magic != 0x00000803:
        raise ValueError(f"{path}: bad IDX magic number 0x{magic:08x}, expected 0x00000803")
    if len(raw) != 16 + n * h * w:
        raise ValueError(
            f"{path}: header says {n} images of {h}x{w} ({16 + n * h * w} bytes), "
            f"file has {len(raw)} bytes"
        )
    return np.frombuffer(raw, dtype=np.uint8, offset=16).reshape(n, h, w)


def read_idx_labels(path: Path) -> np.ndarray:
    """Read an IDX1 unsigned-byte label file (optionally gzipped), validating its header:
    magic 0x00000801 (type 0x08 = ubyte, 1 dim), the count as big-endian uint32, N bytes."""
    raw = _read_idx_bytes(path)
    if len(raw) < 8:
        raise ValueError(f"{path}: too short for an IDX1 header ({len(raw)} bytes)")
    magic, n = struct.unpack(">II", raw[:8])
    if magic != 0x00000801:
        raise ValueError(f"{path}: bad IDX magic number 0x{magic:08x}, expected 0x00000801")
    if len(raw) != 8 + n:
        raise ValueError(f"{path}: header says {n} labels, file has {len(raw) - 8}")
    return np.frombuffer(raw, dtype=np.uint8, offset=8)


def _mnist_path(data_dir, split: str, download: bool, kind: str = "images") -> Path:
    """The checked archive of ``split`` (its ``kind``: images or labels), downloaded first
    when missing or wrong."""
    file = downloads.MNIST[f"{split}-{kind}"]
    root = data_directory(data_dir)
    if root is None:
        raise FileNotFoundError(downloads.missing_message(file, None))
    unpacked = file.path(root).with_suffix("")  # the same IDX file, gunzipped by the user
    if not file.path(root).is_file() and unpacked.is_file():
        return unpacked  # no published sum for it: read_idx_images checks its header
    why = ""
    if download and downloads.check_file(file, root) != "ok":
        try:
            downloads.download(file, root)
        except OSError as exc:  # no network: the error below says what to do
            why = f"; downloading it failed ({exc})"
    return downloads.require_file(file, root, why)


def _mnist(data_dir, split: str, download: bool) -> np.ndarray:
    path = _mnist_path(data_dir, split, download)
    return read_idx_images(path).astype(np.float32)[:, None] / 255.0


def _digits_labels(split: str) -> np.ndarray:
    from sklearn.datasets import load_digits

    labels = load_digits().target
    return labels[_digits_split(len(labels), split)]


LABELLED = ("digits", "mnist")  # the datasets with class labels (the sample-quality score)


def load_labels(
    name: str, data_dir=None, split: str = "train", *, download: bool = True
) -> torch.Tensor:
    """The class labels (0-9) of ``load_images(name, data_dir, split)``, in its order, as
    an int64 tensor (N,). Only the digits and MNIST have labels."""
    if name not in LABELLED:
        raise ValueError(f"labels exist for {LABELLED} only, got dataset {name!r}")
    if split not in _splits_of(name):
        raise ValueError(f"split for {name} must be one of {_splits_of(name)}, got {split!r}")
    if name == "digits":
        labels = _digits_labels(split)
    else:
        labels = read_idx_labels(_mnist_path(data_dir, split, download, kind="labels"))
    return torch.from_numpy(labels.astype(np.int64))


# --------------------------------------------------------------------------- Olivetti
OLIVETTI_MAX = downloads.OLIVETTI_MAX
# Torch-free, in lvae.downloads, so that `python -m lvae data fetch olivetti` stays light.
olivetti_from_sklearn = downloads.olivetti_via_sklearn


def _olivetti_mat(path: Path) -> np.ndarray:
    from scipy.io import loadmat

    try:
        faces = loadmat(path)["faces"]
    except (ValueError, KeyError, OSError) as exc:
        raise ValueError(f"{path}: not a MATLAB file with a 'faces' matrix ({exc})") from None
    if faces.shape != (4096, 400):
        raise ValueError(f"{path}: 'faces' must be 4096 x 400, got {faces.shape}")
    # Each column is one 64x64 image stored column-major (MATLAB order).
    return faces.T.reshape(400, 64, 64).transpose(0, 2, 1).astype(np.float32) / 255.0


def _olivetti(data_dir, split: str) -> np.ndarray:
    root = data_directory(data_dir)
    path = None if root is None else root / downloads.OLIVETTI_FILE
    images = (
        _olivetti_mat(path) if path is not None and path.is_file() else olivetti_from_sklearn(root)
    )
    # 40 people x 10 pictures, in order. No official split: picture 9 of each person is test.
    person_index = np.arange(400) % 10
    chosen = person_index != 9 if split == "train" else person_index == 9
    return images[chosen][:, None]


# ----------------------------------------------------------------------------- CelebA
def _celeba(data_dir, split: str, limit: int | None) -> np.ndarray:
    from PIL import Image

    root = _require_dir(data_dir, "celeba") / "celeba"
    folder = root / "img_align_celeba"
    if not folder.is_dir():
        raise _missing(folder, "put CelebA's aligned images folder (img_align_celeba/) there")
    files = sorted(folder.glob("*.jpg"))
    partition = root / "list_eval_partition.txt"
    if split != "all":
        if not partition.is_file():
            raise _missing(
                partition,
                f"split '{split}' needs CelebA's partition file; use split='all' without it",
            )
        wanted = {"train": "0", "valid": "1", "test": "2"}[split]
        keep = {
            line.split()[0]
            for line in partition.read_text().splitlines()
            if len(line.split()) == 2 and line.split()[1] == wanted
        }
        files = [f for f in files if f.name in keep]
    if limit is not None:
        files = files[:limit]
    if not files:
        raise FileNotFoundError(f"no CelebA images for split '{split}' in {folder}")
    out = np.empty((len(files), 3, CELEBA_SIZE, CELEBA_SIZE), dtype=np.float32)
    for i, path in enumerate(files):
        with Image.open(path) as im:
            im = im.convert("RGB")
            w, h = im.size
            if min(w, h) < CELEBA_CROP:
                raise ValueError(f"{path}: {w}x{h} is smaller than the {CELEBA_CROP}px crop")
            left, top = (w - CELEBA_CROP) // 2, (h - CELEBA_CROP) // 2
            im = im.crop((left, top, left + CELEBA_CROP, top + CELEBA_CROP))
            im = im.resize((CELEBA_SIZE, CELEBA_SIZE), Image.Resampling.BILINEAR)
            out[i] = np.asarray(im, dtype=np.float32).transpose(2, 0, 1) / 255.0
    return out


# ------------------------------------------------------------------------- preflight
def _splits_of(name: str) -> tuple[str, ...]:
    return ("train", "valid", "test", "all") if name == "celeba" else ("train", "test")


def require_dataset(
    name: str, data_dir=None, *, splits: tuple[str, ...] = ("train", "test"), download=True
) -> Path:
    """Check that dataset ``name`` can be read, without loading it; return its folder.

    Meant to run before any compute (the image experiments' preflight). ``splits``: the
    splits a run will read. Per dataset:

    * ``digits``: bundled with scikit-learn; returns the package folder holding it.
    * ``mnist``: each split's image archive, present with the published size and sha256
      (downloaded first when missing and ``download``); returns ``<data_dir>/mnist``.
    * ``olivetti``: ``<data_dir>/olivetti/olivettifaces.mat`` readable, returning that
      folder; else scikit-learn's copy, fetched into its cache when the network allows,
      returning the cache folder.
    * ``celeba``: ``img_align_celeba/`` with images in it, and the partition file unless
      ``splits`` is ``("all",)``; returns ``<data_dir>/celeba``.

    Raises FileNotFoundError naming the missing file, its checksum and the command that
    fetches it, and ValueError for a damaged file or a bad argument.
    """
    if name not in DATASETS:
        raise ValueError(f"dataset must be one of {DATASETS}, got {name!r}")
    allowed = _splits_of(name)
    if not splits or not set(splits) <= set(allowed):
        raise ValueError(f"splits for {name} must be among {allowed}, got {splits!r}")
    if name == "digits":
        import sklearn.datasets

        return Path(sklearn.datasets.__file__).parent / "data"  # digits.csv.gz
    root = data_directory(data_dir)
    if name == "mnist":
        for split in dict.fromkeys(splits):
            path = _mnist_path(root, split, download)
        return path.parent
    if name == "olivetti":
        path = None if root is None else root / downloads.OLIVETTI_FILE
        if path is not None and path.is_file():
            state = downloads.check_olivetti(root)
            if state != "ok":
                raise ValueError(
                    f"{path} is {state}; replace it, or delete it to use "
                    f"scikit-learn's copy ({downloads.fetch_command('olivetti', None)})"
                )
            return path.parent
        olivetti_from_sklearn(root)  # fetches into scikit-learn's cache, or says how to
        return downloads.olivetti_cache().parent
    folder = _require_dir(root, "celeba") / "celeba" / "img_align_celeba"
    if not folder.is_dir():
        raise _missing(folder, "put CelebA's aligned images folder (img_align_celeba/) there")
    if next(folder.glob("*.jpg"), None) is None:
        raise FileNotFoundError(f"no CelebA images (*.jpg) in {folder}")
    partition = folder.parent / "list_eval_partition.txt"
    if set(splits) != {"all"} and not partition.is_file():
        raise _missing(
            partition, f"splits {splits} need CelebA's partition file; use split 'all' without it"
        )
    return folder.parent


# ----------------------------------------------------------------------- entry point
def load_images(
    name: str,
    data_dir=None,
    split: str = "train",
    *,
    download: bool = True,
    limit: int | None = None,
) -> torch.Tensor:
    """Images of dataset ``name`` as a float32 tensor (N, C, H, W) with values in [0, 1].

    ``split`` is "train" or "test" ("valid" and "all" too for CelebA). ``limit`` keeps the
    first images only (CelebA, whose files are decoded one by one).
    """
    if name not in DATASETS:
        raise ValueError(f"dataset must be one of {DATASETS}, got {name!r}")
    splits = _splits_of(name)
    if split not in splits:
        raise ValueError(f"split for {name} must be one of {splits}, got {split!r}")
    if limit is not None and limit < 1:
        raise ValueError(f"limit must be >= 1, got {limit}")
    if name == "digits":
        array = _digits(split)
    elif name == "mnist":
        array = _mnist(data_dir, split, download)
    elif name == "olivetti":
        array = _olivetti(data_dir, split)
    else:
        array = _celeba(data_dir, split, limit)
    if limit is not None:
        array = array[:limit]
    return check_images(torch.from_numpy(np.ascontiguousarray(array)), name)
