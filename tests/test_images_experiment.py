"""The image experiments on their smoke profiles (digits need no file)."""

import math

import numpy as np
import pytest
import torch
from conftest import SHARED_DATA, needs_shared_data

from lvae import experiments
from lvae.experiments.image_config import IMAGE_DATASETS, IMAGE_SETTINGS
from lvae.images_experiment import batch_sampler, iw_ks, log_sigma_from_images, unpack


def images(dataset, results_dir, **overrides):
    """The smoke record of ``images-<dataset>`` in ``results_dir``, trained if missing."""
    return experiments.record(
        f"images-{dataset}", "smoke", results_dir=results_dir, device="cpu",
        allow_training=True, **overrides,
    )  # fmt: skip


def test_digits_smoke_record(tmp_path):
    rec = images("digits", tmp_path)
    res, cfg = rec.result, rec.config
    n = len(cfg["settings"]) * len(cfg["seeds"])
    assert res["image_shape"] == [1, 8, 8]
    for key in ("elbo_raw", "bits_per_dim_elbo", "bits_per_dim_iw"):
        assert len(res[key]) == n and all(math.isfinite(v) for v in res[key]), key
    # A lower bound on a discrete probability: never below 0 bits per dimension.
    assert min(res["bits_per_dim_elbo"] + res["bits_per_dim_iw"]) > 0
    assert_mse_bound(res, 17)
    # The IW bound at every recorded k, on the same images as the subset ELBO.
    by_k = res["bits_per_dim_iw_by_k"]
    assert sorted(by_k, key=int) == [str(k) for k in iw_ks(cfg["iw_k"])]
    assert by_k[str(cfg["iw_k"])] == res["bits_per_dim_iw"]
    assert len(res["bits_per_dim_elbo_iw_subset"]) == n
    figs = res["figures"]
    assert sorted(figs["recon"]) == sorted(cfg["settings"])  # one named panel per setting
    assert unpack(figs["recon"]["LV"]).shape == (cfg["n_show"], 1, 8, 8)
    assert unpack(figs["originals"]).shape == (cfg["n_show"], 1, 8, 8)
    # sigma maps: F-VAE's is its constant 1/sqrt(2), to the record's 8-bit resolution.
    log_sigma = log_sigma_from_images(unpack(figs["log_sigma_map"]["F"]))
    assert np.allclose(log_sigma, -0.5 * math.log(2), atol=10 / 255)
    again = images("digits", tmp_path / "b")
    assert again.result == res  # reproducible from the seeds


@needs_shared_data
def test_mnist_smoke_trains_on_the_test_set_minus_a_holdout(tmp_path, monkeypatch):
    monkeypatch.setenv("LVAE_DATA_DIR", str(SHARED_DATA))
    res = images("mnist", tmp_path).result
    assert (res["n_train"], res["n_eval"]) == (9000, 1000)
    assert all(b > 0 for b in res["bits_per_dim_elbo"])
    assert_mse_bound(res, 256)


def assert_mse_bound(res, levels):
    """With sigma^2 = 1/2 a Gaussian density never exceeds 1/sqrt(pi) per dimension, so the
    MSE-trained F-VAE cannot go below log2(levels) + log2(pi)/2 bits per dimension."""
    bound = math.log2(levels) + 0.5 * math.log2(math.pi)
    f_vae = [
        b
        for b, m in zip(res["bits_per_dim_elbo"], res["models"], strict=True)
        if m["setting"] == "F"
    ]
    assert f_vae and min(f_vae) >= bound


def test_more_importance_samples_reuse_the_trained_models(tmp_path):
    first = images("digits", tmp_path / "a" / "results")
    # Only evaluation fields differ: the trained models come from the checkpoint.
    again = images("digits", tmp_path / "a" / "results", iw_k=7)
    assert again.config_hash != first.config_hash and again.provenance["resumed"]
    assert again.result["history"] == first.result["history"]
    assert sorted(again.result["bits_per_dim_iw_by_k"], key=int) == ["1", "7"]
    # ... and the result is the one a run from scratch (own checkpoint folder) gives.
    fresh = images("digits", tmp_path / "b" / "results", iw_k=7)
    assert not fresh.provenance["resumed"] and fresh.result == again.result
    # A training field is not reused: a new run trains from scratch.
    other = images("digits", tmp_path / "a" / "results", lr=2e-3)
    assert not other.provenance["resumed"]


def test_iw_sample_counts():
    assert iw_ks(1000) == [1, 10, 100, 1000]
    assert iw_ks(250) == [1, 10, 100, 250]
    assert iw_ks(5) == [1, 5] and iw_ks(1) == [1]


def test_image_configurations_are_validated():
    with pytest.raises(ValueError, match="experiment must be one of .*got 'images-cifar'"):
        experiments.record("images-cifar", "smoke")
    with pytest.raises(ValueError, match="dataset must be one of"):
        experiments.config("images-digits", "smoke", dataset="cifar")
    with pytest.raises(ValueError, match="settings must be among"):
        experiments.config("images-digits", "smoke", settings=("F", "MSE"))
    with pytest.raises(ValueError, match="width must be >= 1, got 0"):
        experiments.config("images-digits", "smoke", width=0)
    with pytest.raises(ValueError, match="profile must be one of"):
        experiments.config("images-digits", "huge")
    protocol = ("images-digits-protocol", "images-mnist-protocol")
    assert experiments.taking("iw_k") == sorted(
        [*(f"images-{d}" for d in IMAGE_DATASETS), *protocol]
    )
    with pytest.raises(ValueError, match="n_quality needs class labels.*got dataset 'olivetti'"):
        experiments.config("images-olivetti", "smoke", n_quality=100)
    with pytest.raises(ValueError, match="n_visual must be >= 0, got -1"):
        experiments.config("images-digits", "smoke", n_visual=-1)
    with pytest.raises(ValueError, match=r"n_quality must be 0 or >= 2 \(a covariance\), got 1"):
        experiments.config("images-digits", "smoke", n_quality=1)
    assert experiments.config("images-mnist", "paper").split == "train"


def test_the_torch_free_names_agree_with_the_code():
    """Datasets and settings are named in the declarations so that the CLI needs no torch:
    they must be the loaders' and the training code's."""
    from lvae import images, images_experiment

    assert IMAGE_DATASETS == images.DATASETS
    assert IMAGE_SETTINGS == tuple(images_experiment.SETTINGS)
    for dataset in IMAGE_DATASETS:
        for profile in experiments.PROFILES:
            assert experiments.config(f"images-{dataset}", profile).dataset == dataset


def test_missing_data_fails_before_training(tmp_path, monkeypatch):
    monkeypatch.setenv("LVAE_DATA_DIR", str(tmp_path))
    with pytest.raises(FileNotFoundError, match="olivettifaces.mat"):
        images("olivetti", tmp_path / "r")
    assert not (tmp_path / "r" / ".checkpoints").exists()


def test_missing_mnist_is_named_with_its_fetch_command_before_the_run_starts(
    tmp_path, monkeypatch, capsys
):
    from lvae import downloads

    monkeypatch.setenv("LVAE_DATA_DIR", str(tmp_path))
    monkeypatch.setattr(downloads.download, "__defaults__", (("http://127.0.0.1:9/",), 5))
    with pytest.raises(FileNotFoundError) as err:
        images("mnist", tmp_path / "r")
    # The smoke profile reads the test set only: that archive is the one named.
    assert str(err.value).startswith(
        f"MNIST file mnist/t10k-images-idx3-ubyte.gz not found in {tmp_path} (sha256 8d422c7b"
    )
    assert f"Fetch it with: python -m lvae data fetch mnist --data-dir {tmp_path}" in str(err.value)
    assert "[lvae] running" not in capsys.readouterr().out
    assert not (tmp_path / "r").exists()


def test_only_flagged_models_train_on_dequantised_pixels():
    levels = 17
    x_train = torch.randint(0, levels, (50, 64)).float() / (levels - 1)
    flags = torch.tensor([False, True, False])
    batch = batch_sampler(x_train, flags, 8, levels, torch.Generator().manual_seed(0))()
    assert batch.shape == (3, 8, 64)
    grid = torch.round(batch * (levels - 1)) / (levels - 1)
    assert torch.equal(batch[0], grid[0]) and torch.equal(batch[2], grid[2])  # raw pixels
    # Dequantised: (k + u) / L with u in [0, 1), so inside grey level k's bin, off the grid.
    k = torch.floor(batch[1] * levels)
    assert torch.all((batch[1] >= k / levels) & (batch[1] < (k + 1) / levels))
    assert not torch.equal(batch[1], grid[1])
    position = batch[1] * levels - k  # where in its bin: uniform on [0, 1)
    assert 0.4 < position.mean() < 0.6 and position.std() > 0.25
