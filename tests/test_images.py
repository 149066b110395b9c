"""Image loaders, on the real shared files where present and on files the tests write."""

import gzip
import hashlib
import struct
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import SHARED_DATA, needs_mnist_test, needs_olivetti_mat

from lvae.images import check_images, load_images, read_idx_images


def write_idx(path: Path, array: np.ndarray, magic: int = 0x00000803, gz: bool = True) -> Path:
    raw = struct.pack(">IIII", magic, *array.shape) + array.astype(np.uint8).tobytes()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(raw) if gz else raw)
    return path


# --------------------------------------------------------------------------- digits
def test_digits_need_no_file_and_split_deterministically(monkeypatch):
    monkeypatch.delenv("LVAE_DATA_DIR", raising=False)
    train, test = load_images("digits"), load_images("digits", split="test")
    assert train.shape == (1500, 1, 8, 8) and test.shape == (297, 1, 8, 8)
    from sklearn.datasets import load_digits

    raw = torch.from_numpy(load_digits().images.astype(np.float32) / 16)
    # Together the splits hold every image exactly once.
    both = torch.cat([train, test])[:, 0]
    assert sorted(map(bytes, both.numpy())) == sorted(map(bytes, raw.numpy()))
    assert torch.equal(load_images("digits", split="test"), test)


# ---------------------------------------------------------------------------- MNIST
@needs_mnist_test
def test_real_mnist_test_set():
    path = SHARED_DATA / "mnist" / "t10k-images-idx3-ubyte.gz"
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    assert digest == "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6"
    x = load_images("mnist", SHARED_DATA, split="test", download=False)
    assert x.shape == (10000, 1, 28, 28) and x.dtype == torch.float32
    # Published statistics of the MNIST test images: mean 0.1325, std 0.3105.
    assert x.mean().item() == pytest.approx(0.1325, abs=5e-4)
    assert x.std().item() == pytest.approx(0.3105, abs=5e-4)
    assert torch.equal(x * 255, torch.round(x * 255))  # 8-bit levels, exactly


def test_idx_round_trip_gz_and_raw(tmp_path):
    data = np.random.default_rng(0).integers(0, 256, size=(5, 4, 3), dtype=np.uint8)
    for gz in (True, False):
        path = write_idx(tmp_path / ("x.gz" if gz else "x"), data, gz=gz)
        np.testing.assert_array_equal(read_idx_images(path), data)
    # A gunzipped copy of the standard file, where the .gz is absent, is read as it is.
    write_idx(tmp_path / "mnist" / "t10k-images-idx3-ubyte", data, gz=False)
    x = load_images("mnist", tmp_path, split="test", download=False)
    np.testing.assert_allclose(x[:, 0].numpy() * 255, data, atol=1e-4)


def test_corrupt_idx_files_are_refused(tmp_path):
    data = np.zeros((2, 3, 3), dtype=np.uint8)
    bad_magic = write_idx(tmp_path / "a.gz", data, magic=0x00000801)
    with pytest.raises(ValueError, match="bad IDX magic number 0x00000801"):
        read_idx_images(bad_magic)
    raw = struct.pack(">IIII", 0x803, 5, 3, 3) + bytes(10)  # promises 45 bytes
    truncated = tmp_path / "b"
    truncated.write_bytes(raw)
    with pytest.raises(ValueError, match="header says 5 images of 3x3"):
        read_idx_images(truncated)
    garbage = tmp_path / "c.gz"
    garbage.write_bytes(b"not gzip at all")
    with pytest.raises(ValueError, match="not a readable"):
        read_idx_images(garbage)
    short = tmp_path / "d"
    short.write_bytes(b"\x00\x00")
    with pytest.raises(ValueError, match="too short"):
        read_idx_images(short)


def test_missing_mnist_names_the_file_its_checksum_and_the_command(tmp_path, monkeypatch):
    with pytest.raises(FileNotFoundError) as err:
        load_images("mnist", tmp_path, split="train", download=False)
    message = str(err.value)
    assert "mnist/train-images-idx3-ubyte.gz not found in" in message
    assert "sha256 440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609" in message
    assert f"python -m lvae data fetch mnist --data-dir {tmp_path}" in message
    monkeypatch.delenv("LVAE_DATA_DIR", raising=False)
    with pytest.raises(FileNotFoundError, match="pass --data-dir DIR .* or set LVAE_DATA_DIR"):
        load_images("mnist")


def test_a_truncated_mnist_file_is_refused_before_reading(tmp_path):
    path = tmp_path / "mnist" / "t10k-images-idx3-ubyte.gz"
    path.parent.mkdir()
    path.write_bytes(b"\x1f\x8b" + bytes(100))
    with pytest.raises(
        ValueError, match="102 bytes, expected 1,648,877 \\(sha256 8d422c7b.*\\); delete it and run"
    ):
        load_images("mnist", tmp_path, split="test", download=False)


# ------------------------------------------------------------------------- Olivetti
@needs_olivetti_mat
def test_real_olivetti():
    train = load_images("olivetti", SHARED_DATA, split="train")
    test = load_images("olivetti", SHARED_DATA, split="test")
    assert train.shape == (360, 1, 64, 64) and test.shape == (40, 1, 64, 64)

    # Faces are nearly symmetric left-right, not top-bottom: a transposed layout would
    # swap the two. Upright, the lit forehead (top) is brighter than neck and shadow.
    def corr(a, b):
        a, b = a - a.mean(), b - b.mean()
        return float((a * b).sum() / (a.norm() * b.norm()))

    x = train[:, 0]
    left_right = np.mean([corr(im, im.flip(1)) for im in x])
    top_bottom = np.mean([corr(im, im.flip(0)) for im in x])
    assert left_right > 0.4 > 0.25 > top_bottom
    mean = x.mean(0)
    assert mean[:16].mean() > mean[48:].mean() + 0.05


def test_olivetti_layout_is_read_column_major(tmp_path):
    from scipy.io import savemat

    rng = np.random.default_rng(1)
    pictures = rng.integers(0, 256, size=(400, 64, 64), dtype=np.uint8)
    # MATLAB stores each 64x64 picture column-major as one column of 'faces'.
    faces = np.stack([p.flatten(order="F") for p in pictures], axis=1)
    (tmp_path / "olivetti").mkdir()
    savemat(tmp_path / "olivetti" / "olivettifaces.mat", {"faces": faces})
    train = load_images("olivetti", tmp_path, split="train")
    test = load_images("olivetti", tmp_path, split="test")
    np.testing.assert_allclose(test[:, 0].numpy() * 255, pictures[9::10], atol=1e-4)
    np.testing.assert_allclose(train[:9, 0].numpy() * 255, pictures[:9], atol=1e-4)
    savemat(tmp_path / "olivetti" / "olivettifaces.mat", {"faces": faces[:, :10]})
    with pytest.raises(ValueError, match="must be 4096 x 400"):
        load_images("olivetti", tmp_path)


def test_missing_olivetti(tmp_path):
    with pytest.raises(FileNotFoundError, match="olivetti/olivettifaces.mat"):
        load_images("olivetti", tmp_path)


# --------------------------------------------------------------------------- CelebA
def write_celeba(root: Path, n: int = 6, size=(178, 218)) -> None:
    from PIL import Image

    folder = root / "celeba" / "img_align_celeba"
    folder.mkdir(parents=True)
    lines = []
    for i in range(n):
        im = np.zeros((size[1], size[0], 3), dtype=np.uint8)
        im[...] = (200, 30, 30)  # red border, outside the centre crop
        top, left = (size[1] - 148) // 2, (size[0] - 148) // 2
        im[top : top + 148, left : left + 148] = (20, 40 * i, 220)  # blue centre
        # Lossless content under CelebA's .jpg names (PIL reads by content), so the crop
        # can be checked exactly: JPEG would bleed the border colour across its edge.
        Image.fromarray(im).save(folder / f"{i:06d}.jpg", format="PNG")
        lines.append(f"{i:06d}.jpg {0 if i < 4 else 2}")
    (root / "celeba" / "list_eval_partition.txt").write_text("\n".join(lines) + "\n")


def test_celeba_crop_resize_and_splits(tmp_path):
    write_celeba(tmp_path)
    train = load_images("celeba", tmp_path, split="train")
    test = load_images("celeba", tmp_path, split="test")
    assert train.shape == (4, 3, 64, 64) and test.shape == (2, 3, 64, 64)
    # Only the centre crop survives: no trace of the red border anywhere.
    torch.testing.assert_close(train[:, 0], torch.full_like(train[:, 0], 20 / 255))
    torch.testing.assert_close(train[:, 2], torch.full_like(train[:, 2], 220 / 255))
    torch.testing.assert_close(test[1, 1], torch.full_like(test[1, 1], 200 / 255))  # i = 5
    assert load_images("celeba", tmp_path, split="all", limit=3).shape == (3, 3, 64, 64)


def test_celeba_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="img_align_celeba"):
        load_images("celeba", tmp_path)
    write_celeba(tmp_path, n=1, size=(100, 100))
    with pytest.raises(ValueError, match="smaller than the 148px crop"):
        load_images("celeba", tmp_path, split="all")
    (tmp_path / "celeba" / "list_eval_partition.txt").unlink()
    with pytest.raises(FileNotFoundError, match="needs CelebA's partition file"):
        load_images("celeba", tmp_path, split="train")


# ------------------------------------------------------------------- checks and input
@pytest.mark.parametrize(
    "x,pattern",
    [
        (torch.zeros(2, 8, 8), "shaped \\(N, C, H, W\\)"),
        (torch.zeros(2, 2, 8, 8), "1 or 3 channels"),
        (torch.full((1, 1, 2, 2), 1.5), "values must be finite and in \\[0, 1\\]"),
        (torch.full((1, 1, 2, 2), float("nan")), "values must be finite"),
        (torch.zeros(1, 1, 2, 2, dtype=torch.uint8), "must be a float tensor"),
    ],
)
def test_check_images_refuses_bad_tensors(x, pattern):
    with pytest.raises(ValueError, match=pattern):
        check_images(x)


def test_bad_arguments():
    with pytest.raises(ValueError, match="dataset must be one of"):
        load_images("cifar10")
    with pytest.raises(ValueError, match="split for digits must be one of"):
        load_images("digits", split="valid")
    with pytest.raises(ValueError, match="limit must be >= 1"):
        load_images("digits", limit=0)
