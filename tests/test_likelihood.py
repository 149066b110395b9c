"""Likelihood measures against exact values on a model where log p(x) is known."""

import math

import pytest
import torch

from lvae.likelihood import (
    bits_per_dim,
    dequantize,
    importance_weighted_bound,
    importance_weighted_bounds,
    paper_bits_per_pixel,
)
from lvae.observation import LOG_2PI


class LinearGaussian:
    """z ~ N(0, 1), x | z ~ N(a z, s^2) in one dimension: p(x) = N(0, a^2 + s^2).

    The exact posterior is N(a x / (a^2 + s^2), s^2 / (a^2 + s^2)); ``shift`` moves the
    encoder's mean away from it, so the ELBO is loose and the IWAE bound has work to do.
    """

    def __init__(self, a=1.5, s=0.5, shift=0.0):
        self.a, self.s, self.shift = a, s, shift

    def encode(self, x):
        v = self.a**2 + self.s**2
        mu = self.a * x / v + self.shift
        return mu, torch.full_like(mu, math.log(self.s**2 / v))

    def decode(self, z):
        return self.a * z, torch.full_like(z, math.log(self.s))

    def log_px(self, x):
        v = self.a**2 + self.s**2
        return (-0.5 * x**2 / v - 0.5 * math.log(v) - 0.5 * LOG_2PI).sum(-1)


def test_iw_bound_is_exact_with_the_true_posterior():
    model = LinearGaussian()
    x = torch.linspace(-2, 2, 7).view(1, 7, 1)
    for k in (1, 5):
        bound = importance_weighted_bound(model, x, k, torch.Generator().manual_seed(0))
        torch.testing.assert_close(bound, model.log_px(x), atol=1e-5, rtol=0)


def test_iw_bound_tightens_towards_log_px():
    model = LinearGaussian(shift=0.5)  # 1.6 posterior standard deviations off
    x = torch.linspace(-2, 2, 50).view(1, 50, 1)
    exact = model.log_px(x).mean().item()
    gen = torch.Generator().manual_seed(1)
    bounds = [
        importance_weighted_bound(model, x.expand(1, 50, 1), k, gen, chunk=40).mean().item()
        for k in (1, 10, 200)
    ]
    assert bounds[0] < bounds[1] < bounds[2] <= exact + 1e-3
    assert exact - bounds[2] < 0.15 * (exact - bounds[0])  # seen: 0.02 to 0.07
    with pytest.raises(ValueError, match="k must be >= 1"):
        importance_weighted_bound(model, x, 0)


def test_iw_bounds_for_several_k_reuse_the_largest_k_samples():
    model = LinearGaussian(shift=0.5)
    x = torch.linspace(-2, 2, 30).view(1, 30, 1)
    bounds = importance_weighted_bounds(model, x, (100, 1, 10), torch.Generator().manual_seed(3))
    assert sorted(bounds) == [1, 10, 100]
    # The largest k is the single-k bound with the same generator: the same samples.
    alone = importance_weighted_bound(model, x, 100, torch.Generator().manual_seed(3))
    torch.testing.assert_close(bounds[100], alone, atol=1e-5, rtol=0)
    # k = 1 is the log weight of the first sample, computed here independently.
    gen = torch.Generator().manual_seed(3)
    mu, logvar = model.encode(x)
    eps = torch.randn((64, *mu.shape), generator=gen)[0]  # the first chunk's first draw
    z = mu + torch.exp(0.5 * logvar) * eps
    mean, log_sigma = model.decode(z)
    s2, q2 = torch.exp(2 * log_sigma), torch.exp(logvar)
    log_w = (
        -0.5 * (x - mean) ** 2 / s2
        - log_sigma
        - 0.5 * z**2
        + 0.5 * (z - mu) ** 2 / q2
        + 0.5 * logvar
    ).sum(-1) - 0.5 * LOG_2PI
    torch.testing.assert_close(bounds[1], log_w, atol=1e-5, rtol=0)
    with pytest.raises(ValueError, match="every k must be >= 1"):
        importance_weighted_bounds(model, x, (0, 5))


def test_bits_per_dim_reference_points():
    # A uniform density on [0, 1]^D (log p = 0) is 8 bits per dimension on 8-bit data.
    assert bits_per_dim(torch.tensor(0.0), 784).item() == pytest.approx(8.0)
    # Each extra nat per dimension is 1/log(2) bits fewer.
    assert bits_per_dim(torch.tensor(784.0), 784).item() == pytest.approx(8 - 1 / math.log(2))
    # The paper's convention: exact ELBO + (D/2) log 2 pi, per pixel, in bits.
    assert paper_bits_per_pixel(torch.tensor(0.0), 4).item() == pytest.approx(
        0.5 * LOG_2PI / math.log(2)
    )


def test_dequantize():
    k = torch.arange(256, dtype=torch.float32).view(1, 1, 16, 16)
    x = dequantize(k / 255, torch.Generator().manual_seed(0))
    assert torch.all((x * 256 >= k) & (x * 256 < k + 1))  # inside its own bin
    with pytest.raises(ValueError, match="256-level images"):
        dequantize(torch.full((1, 1, 2, 2), 0.5))
    # The digits' 17 levels: each value k/16 lands in [k/17, (k+1)/17).
    k = torch.arange(17, dtype=torch.float32).view(1, 1, 1, 17)
    x = dequantize(k / 16, torch.Generator().manual_seed(0), levels=17)
    assert torch.all((x * 17 >= k) & (x * 17 < k + 1))
    assert bits_per_dim(torch.tensor(0.0), 64, levels=17).item() == pytest.approx(math.log2(17))


def test_iw_bounds_do_not_depend_on_the_decode_batch(monkeypatch):
    import lvae.likelihood as likelihood

    model, x = LinearGaussian(shift=0.5), torch.linspace(-2, 2, 3).view(1, 3, 1)
    results, calls = {}, []
    for elements in (6, 10**6):  # one sample per decode, then all at once
        monkeypatch.setattr(likelihood, "DECODE_ELEMENTS", elements)
        results[elements] = importance_weighted_bounds(
            model, x, (1, 7, 50), torch.Generator().manual_seed(3), chunk=16, progress=calls.append
        )
    for k in (1, 7, 50):
        torch.testing.assert_close(results[6][k], results[10**6][k])
    assert calls == [1] * 50 + [50]  # every sample reported once per run


def test_iw_bounds_use_the_stream_of_chunked_draws():
    # The samples are the generator's draws of (chunk, M, B, L) in turn, as they were when
    # each chunk was decoded on its own: recompute L_k from those draws by hand.
    model, x = LinearGaussian(shift=0.5), torch.linspace(-2, 2, 3).view(1, 3, 1)
    gen = torch.Generator().manual_seed(5)
    eps = torch.cat([torch.randn((n, 1, 3, 1), generator=gen) for n in (4, 4, 2)])
    mu, logvar = model.encode(x)
    z = mu + torch.exp(0.5 * logvar) * eps
    v = model.a**2 + model.s**2
    log_w = (
        (-0.5 * ((x - model.a * z) / model.s) ** 2 - math.log(model.s) - 0.5 * LOG_2PI)
        + (-0.5 * z**2 - 0.5 * LOG_2PI)
        - (-0.5 * eps**2 - 0.5 * math.log(model.s**2 / v) - 0.5 * LOG_2PI)
    ).sum(-1)
    expected = torch.logsumexp(log_w, dim=0) - math.log(10)
    bound = importance_weighted_bound(model, x, 10, torch.Generator().manual_seed(5), chunk=4)
    torch.testing.assert_close(bound, expected)
