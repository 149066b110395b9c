"""Image datasets through one entry point: ``load_images(name, data_dir=None, split=...)``.

Every loader returns a float32 tensor shaped (N, C, H, W) with values in [0, 1], built
from the standard files of its dataset:

* ``digits``: no file, scikit-learn's bundled 8x8 digits (values 0..16); train / test.
* ``mnist``: ``mnist/{train,t10k}-images-idx3-ubyte[.gz]`` (IDX format); train / test.
* ``olivetti``: ``olivetti/olivettifaces.mat`` (``faces``: 4096 x 400 uint8); train / test.
* ``celeba``: ``celeba/img_align_celeba/*.jpg``, with ``celeba/list_eval_partition.txt``
  for the train / valid / test splits; ``all`` needs no partition file.

The data directory is the ``data_dir`` argument, else ``$LVAE_DATA_DIR``. MNIST is
downloaded into it when missing and the network allows (``download=True``); otherwise the
error names the missing file and where to put it. Fixed, documented splits make the
test sets the same for everyone: digits and Olivetti have no official split.
"""

from __future__ import annotations

import gzip
import os
import struct
import urllib.request
from pathlib import Path

import numpy as np
import torch

DATASETS = ("digits", "mnist", "olivetti", "celeba")
MNIST_URL = "https://ossci-datasets.s3.amazonaws.com/mnist/"
MNIST_FILES = {"train": "train-images-idx3-ubyte", "test": "t10k-images-idx3-ubyte"}
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
            f"dataset '{name}' needs a data directory: pass data_dir=... or set LVAE_DATA_DIR"
        )
    return root


# ----------------------------------------------------------------------------- digits
def _digits(split: str) -> np.ndarray:
    from sklearn.datasets import load_digits

    images = load_digits().images.astype(np.float32) / 16.0  # (1797, 8, 8), 0..16
    # No official split: a fixed permutation, the last 297 images for test.
    order = np.random.default_rng(0).permutation(len(images))
    chosen = order[:1500] if split == "train" else order[1500:]
    return images[chosen][:, None]


# ------------------------------------------------------------------------------ MNIST
def read_idx_images(path: Path) -> np.ndarray:
    """Read an IDX3 unsigned-byte image file (optionally gzipped), validating its header.

    Layout: magic 0x00000803 (big endian: two zero bytes, type 0x08 = ubyte, 3 dims), then
    the three sizes as big-endian uint32, then N*H*W bytes.
    """
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as f:
            raw = f.read()
    except (OSError, EOFError) as exc:
        raise ValueError(f"{path}: not a readable (gzip) IDX file ({exc})") from None
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


def _mnist(data_dir, split: str, download: bool) -> np.ndarray:
    root = _require_dir(data_dir, "mnist")
    stem = MNIST_FILES[split]
    candidates = [root / "mnist" / f"{stem}{ext}" for ext in (".gz", "")]
    candidates += [root / f"{stem}{ext}" for ext in (".gz", "")]
    found = next((p for p in candidates if p.is_file()), None)
    if found is None and download:
        found = _download(MNIST_URL + f"{stem}.gz", root / "mnist" / f"{stem}.gz")
    if found is None:
        raise _missing(
            candidates[0], f"download the standard MNIST IDX file and put it there (or in {root})"
        )
    return read_idx_images(found).astype(np.float32)[:, None] / 255.0


def _download(url: str, target: Path) -> Path | None:
    """Fetch ``url`` into ``target`` atomically; None when the network does not allow it."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(target.name + ".part")
    try:
        with urllib.request.urlopen(url, timeout=20) as response, open(tmp, "wb") as f:
            f.write(response.read())
    except OSError:
        tmp.unlink(missing_ok=True)
        return None
    os.replace(tmp, target)
    return target


# --------------------------------------------------------------------------- Olivetti
def _olivetti(data_dir, split: str) -> np.ndarray:
    from scipy.io import loadmat

    path = _require_dir(data_dir, "olivetti") / "olivetti" / "olivettifaces.mat"
    if not path.is_file():
        raise _missing(path, "put the classic olivettifaces.mat (variable 'faces') there")
    try:
        faces = loadmat(path)["faces"]
    except (ValueError, KeyError, OSError) as exc:
        raise ValueError(f"{path}: not a MATLAB file with a 'faces' matrix ({exc})") from None
    if faces.shape != (4096, 400):
        raise ValueError(f"{path}: 'faces' must be 4096 x 400, got {faces.shape}")
    # Each column is one 64x64 image stored column-major (MATLAB order).
    images = faces.T.reshape(400, 64, 64).transpose(0, 2, 1).astype(np.float32) / 255.0
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
    splits = ("train", "valid", "test", "all") if name == "celeba" else ("train", "test")
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
