"""lvae.analysis.errata: Eq. (12) against the exact Gaussian NLL, and the MSE ceiling on
Table 2, each against an independent computation."""

import math

import numpy as np
import pytest
from scipy.stats import multivariate_normal

from lvae.analysis import errata


def test_gaussian_nll_is_scipys_multivariate_normal():
    rng = np.random.default_rng(0)
    x, mu = rng.normal(size=(5, 3)), rng.normal(size=(5, 3))
    want = [
        -multivariate_normal(m, 0.3**2 * np.eye(3)).logpdf(xi) for xi, m in zip(x, mu, strict=True)
    ]
    assert errata.gaussian_nll(x, mu, 0.3) == pytest.approx(want)
    with pytest.raises(ValueError, match="sigma must be > 0"):
        errata.gaussian_nll(x, mu, 0.0)


@pytest.mark.parametrize("d", [1, 2, 10])
def test_corrected_eq12_is_exact_and_the_printed_one_only_in_one_dimension(d):
    rng = np.random.default_rng(d)
    x, mu, sigma = rng.normal(size=(4, d)), rng.normal(size=(4, d)), 0.043
    exact = errata.gaussian_nll(x, mu, sigma)
    assert errata.eq12(x, mu, sigma, as_printed=False) == pytest.approx(exact)
    printed = errata.eq12(x, mu, sigma, as_printed=True)
    # The printed form misses (D - 1) log sigma.
    assert printed - exact == pytest.approx(np.full(4, -(d - 1) * math.log(sigma)))


def test_mse_ceiling_is_half_a_bit_per_dimension():
    assert errata.mse_elbo_ceiling_bits(1) == pytest.approx(0.5)
    assert errata.mse_elbo_ceiling_bits(3) == pytest.approx(1.5)
    with pytest.raises(ValueError, match="positive integer"):
        errata.mse_elbo_ceiling_bits(0)


def test_no_mse_vae_exceeds_the_ceiling_and_a_perfect_one_reaches_it():
    rng = np.random.default_rng(1)
    for channels in (1, 3):
        x = rng.uniform(0, 255, size=(8, 8, channels))  # any pixel scale
        ceiling = errata.mse_elbo_ceiling_bits(channels)
        assert errata.mse_elbo_bits(x, x, 0.0, channels) == pytest.approx(ceiling)
        noisy = errata.mse_elbo_bits(x, x + rng.normal(0, 0.1, x.shape), 3.0, channels)
        assert noisy < ceiling
    # The paper's CelebA F-VAE entry is above its ceiling; its MNIST entry is not.
    for name, (bits, channels) in errata.PAPER_TABLE2_F.items():
        above = bits > errata.mse_elbo_ceiling_bits(channels)
        assert above == (name == "CelebA")
