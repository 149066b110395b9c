"""lvae.image_quality: sharpness, the classifier of real images, its confidence and the
Fréchet distance of its features, against independent computations; and the labels the
classifier learns from."""

from __future__ import annotations

import gzip
import struct

import numpy as np
import pytest
import torch

from lvae import image_quality as iq
from lvae.experiments.image_config import LABELLED_DATASETS
from lvae.images import LABELLED, load_images, load_labels, read_idx_labels

CHECKER = np.array([[[[0.0, 1.0], [1.0, 0.0]]]])  # (1, 1, 2, 2)


def test_gradient_size_of_known_images():
    assert iq.gradient_size(CHECKER).tolist() == [2.0]  # |dx| = |dy| = 1 everywhere
    assert iq.gradient_size(np.full((3, 1, 4, 4), 0.7)).tolist() == [0.0, 0.0, 0.0]
    ramp = np.tile(np.arange(4.0) / 4, (1, 1, 4, 1))  # steps of 1/4 along x only
    assert iq.gradient_size(ramp).tolist() == [0.25]
    with pytest.raises(ValueError, match=r"images must be \(n, C, H, W\), got shape \(2, 2\)"):
        iq.gradient_size(np.zeros((2, 2)))


def test_sharpness_is_the_mean_ratio_of_gradient_sizes():
    ramp = np.tile(np.arange(4.0) / 4, (1, 1, 4, 1))
    originals = np.concatenate([ramp, 2 * ramp])  # gradient sizes 0.25 and 0.5
    halved = originals / 2  # every difference halved: ratio 1/2 for both
    assert iq.sharpness(halved, originals) == pytest.approx(0.5)
    assert iq.sharpness(originals, originals) == pytest.approx(1.0)
    mixed = np.concatenate([ramp, ramp])  # ratios 1 and 1/2
    assert iq.sharpness(mixed, originals) == pytest.approx(0.75)


# -- the Fréchet distance ------------------------------------------------------------


def test_frechet_distance_of_diagonal_gaussians_has_its_closed_form():
    # For commuting (here diagonal) covariances, tr(C_a + C_b - 2 (C_a C_b)^(1/2)) is
    # sum_i (sqrt(a_i) - sqrt(b_i))^2: compare on samples whose covariances are exact.
    rng = np.random.default_rng(0)
    basis = rng.standard_normal((400, 3))
    basis -= basis.mean(axis=0)
    # whiten: sample covariance exactly the identity (n - 1 normalisation)
    chol = np.linalg.cholesky(np.cov(basis, rowvar=False))
    white = basis @ np.linalg.inv(chol).T
    var_a, var_b = np.array([1.0, 4.0, 0.25]), np.array([9.0, 1.0, 0.25])
    shift = np.array([1.0, -2.0, 0.5])
    a = white * np.sqrt(var_a)
    b = white[::-1] * np.sqrt(var_b) + shift  # other rows, same (exact) covariance
    expected = shift @ shift + np.sum((np.sqrt(var_a) - np.sqrt(var_b)) ** 2)
    assert iq.frechet_distance(a, b) == pytest.approx(expected, rel=1e-9)
    assert iq.frechet_distance(a, a) == pytest.approx(0.0, abs=1e-9)
    # symmetric
    assert iq.frechet_distance(b, a) == pytest.approx(expected, rel=1e-9)


def test_frechet_distance_of_a_full_covariance_against_a_direct_eigen_computation():
    rng = np.random.default_rng(1)
    a = rng.standard_normal((300, 4)) @ rng.standard_normal((4, 4))
    b = rng.standard_normal((200, 4)) @ rng.standard_normal((4, 4)) + 1.0
    ca, cb = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    # (C_a C_b)^(1/2) has the same trace as (C_a^(1/2) C_b C_a^(1/2))^(1/2), a symmetric
    # matrix whose square root follows from its eigenvalues.
    w, v = np.linalg.eigh(ca)
    root_a = v @ np.diag(np.sqrt(w)) @ v.T
    inner = np.linalg.eigvalsh(root_a @ cb @ root_a)
    gap = a.mean(axis=0) - b.mean(axis=0)
    expected = gap @ gap + np.trace(ca) + np.trace(cb) - 2 * np.sqrt(inner).sum()
    assert iq.frechet_distance(a, b) == pytest.approx(expected, rel=1e-8)


def test_frechet_distance_refuses_bad_input():
    with pytest.raises(ValueError, match="same d"):
        iq.frechet_distance(np.zeros((5, 3)), np.zeros((5, 2)))
    with pytest.raises(ValueError, match="at least 2 rows"):
        iq.frechet_distance(np.zeros((1, 3)), np.zeros((5, 3)))


# -- the classifier ------------------------------------------------------------------


@pytest.fixture(scope="module")
def digits():
    return (
        load_images("digits", split="train"),
        load_labels("digits", split="train"),
        load_images("digits", split="test"),
        load_labels("digits", split="test"),
    )


@pytest.fixture(scope="module")
def classifier(digits):
    x, y, _, _ = digits
    return iq.train_classifier(x, y, seed=0, epochs=10)


def test_the_classifier_learns_the_digits(digits, classifier):
    _, _, x_test, y_test = digits
    assert iq.accuracy(classifier, x_test, y_test) > 0.9  # held-out images
    # Real digits are classified with more confidence than noise (which still gets much
    # more than chance: the module's docstring says why this measure is the weaker one).
    noise = torch.rand(300, *x_test.shape[1:], generator=torch.Generator().manual_seed(0))
    assert iq.confidence(classifier, x_test) > 0.85
    assert iq.confidence(classifier, noise) < iq.confidence(classifier, x_test) - 0.1
    # ... and its features put noise far from real digits, other real digits close.
    real = iq.features(classifier, x_test)
    assert real.shape == (len(x_test), iq.N_FEATURES)
    other_real = iq.features(classifier, digits[0][:300])
    fd_real = iq.frechet_distance(other_real, real)
    assert iq.frechet_distance(iq.features(classifier, noise), real) > 5 * fd_real


def test_the_classifier_is_reproducible_from_its_seed(digits, classifier):
    x, y, x_test, _ = digits
    state = torch.random.get_rng_state()
    again = iq.train_classifier(x, y, seed=0, epochs=10)
    assert torch.equal(torch.random.get_rng_state(), state)  # global state untouched
    assert np.array_equal(iq.features(again, x_test), iq.features(classifier, x_test))
    other = iq.train_classifier(x, y, seed=1, epochs=10)
    assert not np.array_equal(iq.features(other, x_test), iq.features(classifier, x_test))


def test_images_are_clipped_to_the_pixel_range_before_scoring(classifier, digits):
    x = digits[2][:50]
    beyond = x * 3 - 1  # values far outside [0, 1]
    assert iq.confidence(classifier, beyond) == iq.confidence(classifier, beyond.clamp(0, 1))


def test_classifier_input_is_checked(digits):
    x, y, _, _ = digits
    with pytest.raises(ValueError, match=r"images must be \(N, C, H, W\)"):
        iq.train_classifier(x[:, 0], y)
    with pytest.raises(ValueError, match=r"labels must be \(N,\) = \(1500,\), got shape \(10,\)"):
        iq.train_classifier(x, y[:10])
    with pytest.raises(ValueError, match="epochs and batch_size must be >= 1"):
        iq.train_classifier(x, y, epochs=0)


# -- labels --------------------------------------------------------------------------


def test_digit_labels_follow_the_images_split():
    from sklearn.datasets import load_digits

    bunch = load_digits()
    for split in ("train", "test"):
        images, labels = load_images("digits", split=split), load_labels("digits", split=split)
        assert labels.dtype == torch.int64 and len(labels) == len(images)
        # each image's label is the one scikit-learn gives the same pixels
        flat = (images[:, 0].numpy() * 16).round().reshape(len(images), -1)
        index = {row.tobytes(): t for row, t in zip(bunch.data, bunch.target, strict=True)}
        assert [index[row.astype(np.float64).tobytes()] for row in flat] == labels.tolist()


def test_labels_exist_for_the_labelled_datasets_only():
    assert LABELLED == LABELLED_DATASETS  # the torch-free declaration holds the same names
    with pytest.raises(ValueError, match=r"labels exist for \('digits', 'mnist'\) only"):
        load_labels("olivetti")
    with pytest.raises(ValueError, match="split for digits must be one of"):
        load_labels("digits", split="valid")


def _idx1(path, labels, magic=0x00000801):
    with gzip.open(path, "wb") as f:
        f.write(struct.pack(">II", magic, len(labels)) + bytes(labels))


def test_idx_labels_are_read_and_their_header_checked(tmp_path):
    good = tmp_path / "labels.gz"
    _idx1(good, [3, 1, 4, 1, 5])
    assert read_idx_labels(good).tolist() == [3, 1, 4, 1, 5]
    bad = tmp_path / "bad.gz"
    _idx1(bad, [1, 2], magic=0x00000803)
    with pytest.raises(ValueError, match="bad IDX magic number 0x00000803, expected 0x00000801"):
        read_idx_labels(bad)
    short = tmp_path / "short.gz"
    with gzip.open(short, "wb") as f:
        f.write(struct.pack(">II", 0x00000801, 5) + bytes([1, 2]))
    with pytest.raises(ValueError, match="header says 5 labels, file has 2"):
        read_idx_labels(short)
