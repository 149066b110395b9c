"""The noise a one-dimensional code cannot carry (lvae.analysis.curve_residual): the
reconstruction error read back from a log-likelihood, the distance to the toy curve,
and the rows of a table, against direct computations."""

import math

import numpy as np
import pytest
import torch

from lvae import store
from lvae.analysis import curve_residual as cr
from lvae.analysis.table1 import paper_elbo
from lvae.data import toy2d_curve


def test_the_reconstruction_error_is_read_back_from_the_gaussian_log_likelihood():
    gen = torch.Generator().manual_seed(0)
    x, mu = (torch.randn(1000, 2, generator=gen, dtype=torch.float64) for _ in range(2))
    for sigma in (0.01, 0.3, 2.0):
        ll = torch.distributions.Normal(mu, sigma).log_prob(x).sum(-1).mean()
        mse = ((x - mu) ** 2).sum(-1).mean()
        assert cr.reconstruction_mse(float(ll), sigma) == pytest.approx(float(mse), rel=1e-9)
    with pytest.raises(ValueError, match="sigma must be positive"):
        cr.reconstruction_mse(-1.0, 0.0)


def test_the_distance_to_the_curve_is_zero_on_it_and_the_offset_along_its_normal():
    x = torch.linspace(-0.9, 0.9, 7, dtype=torch.float64)
    y = toy2d_curve(x)
    on = torch.stack([x, y], -1).numpy()
    assert cr.squared_distance_to_curve(on).max() < 1e-7
    # A small step along the normal (-y', 1)/|.|: the distance is the step.
    x.requires_grad_(True)
    (slope,) = torch.autograd.grad(toy2d_curve(x).sum(), x)
    normal = torch.stack([-slope, torch.ones_like(slope)], -1)
    normal = (normal / normal.norm(dim=-1, keepdim=True)).numpy()
    step = 1e-3
    assert cr.squared_distance_to_curve(on + step * normal) == pytest.approx(step**2, rel=1e-2)
    # Scaling the points and the curve together scales the squared distance by scale^2.
    off = on + step * normal
    assert cr.squared_distance_to_curve(2.4 * off, scale=2.4) == pytest.approx(
        2.4**2 * cr.squared_distance_to_curve(off), rel=1e-6
    )
    with pytest.raises(ValueError, match=r"points must be \(n, 2\)"):
        cr.squared_distance_to_curve(np.zeros((3, 3)))


def test_the_noise_across_the_curve_agrees_with_the_noise_levels():
    across = cr.across_curve_variance(2.4, n=50_000)
    approx = cr.across_curve_approx(2.4)
    # The noise levels give s^2 along the normal; the curve's bends bring some points
    # closer to another part of it, so the measured value may be a little lower.
    assert 0.85 * approx < across < 1.05 * approx
    assert across == cr.across_curve_variance(2.4, n=50_000)  # seeded
    # Same points and curve, scaled: exactly the square of the scale.
    assert cr.across_curve_variance(1.2, n=50_000) == pytest.approx(across / 4, rel=1e-6)


def table_with(errors: dict, kl: float = 2.0):
    """A table1-calibrated-shaped record whose rows have these {setting: (sigma, mean
    squared error)}, three seeds each with the same values."""
    models, ll, kls, elbo, sigmas = [], [], [], [], []
    for setting, (sigma, mse) in errors.items():
        for seed in range(3):
            models.append({"setting": setting, "seed": seed})
            value = -mse / (2 * sigma**2) - math.log(2 * math.pi * sigma**2)
            ll.append(value)
            kls.append(kl)
            elbo.append(value - kl)
            sigmas.append(sigma)
    result = {"models": models, "log_likelihood": ll, "kl": kls, "elbo": elbo}
    result["final_sigma"] = sigmas
    return store.Record({"config": {}, "provenance": {}, "result": result})


def test_the_fixed_rows_of_a_table_give_back_their_error_and_its_cost():
    record = table_with(
        {"F sigma=0.1": (0.1, 0.02), "F sigma=0.01": (0.01, 0.0002), "LS": (0.05, 0.005)}
    )
    rows = cr.fixed_rows(record)
    assert list(rows) == ["F sigma=0.1", "F sigma=0.01"]  # the learned row is left out
    assert rows["F sigma=0.01"]["mse"] == pytest.approx(0.0002)
    assert rows["F sigma=0.01"]["cost"] == pytest.approx(1.0)  # 0.0002 / (2 * 1e-4)
    assert rows["F sigma=0.1"]["cost"] == pytest.approx(1.0)
    expected = paper_elbo(-1.0 - math.log(2 * math.pi * 0.01) - 2.0)
    assert rows["F sigma=0.1"]["elbo"] == pytest.approx(expected)
    assert cr.per_row_text(rows, "mse", reference=0.02) == "σ = 0.1: 1; σ = 0.01: 0.01"
    assert cr.per_row_text(rows, "mse", reference=2e-6) == "σ = 0.1: 10000; σ = 0.01: 100"
    frame = cr.residual_table({1: record}, reference=0.02).data
    assert list(frame["÷ noise across the curve"]) == ["1.00", "0.01"]


def test_the_committed_tables_show_the_floor_at_latent_1_only():
    # Chapter 5: at latent 1 the sharp rows' error stops at about the noise across the
    # curve, while at latent 2 and 4 it keeps falling with sigma, at a cost near 1 nat.
    from lvae import experiments
    from lvae.analysis import lr_study
    from lvae.experiments.table1 import calibrated_name
    from lvae.experiments.table1_lr import MADE_STEPS

    tables = {d: experiments.record(calibrated_name(d)) for d in (1, 2, 4)}
    across = cr.across_curve_variance(tables[1].config["data_scale"])
    for d, record in tables.items():
        rows = cr.fixed_rows(record)
        sharp = [rows[f"F sigma={s}"] for s in ("0.043", "0.03", "0.01")]
        if d == 1:
            assert all(0.8 < r["mse"] / across < 1.2 for r in sharp)
            assert rows["F sigma=0.01"]["cost"] > 50
            # and so do the rows as the learning-rate study keeps them
            runs = [(label, experiments.record(name)) for label, name in MADE_STEPS]
            study = [experiments.record(f"table1-lr{n}") for n in ("", "-long", "-learned")]
            kept = cr.kept_fixed_rows(lr_study.final_kept_rows(*study, runs))
            assert all(
                0.8 < kept[f"F sigma={s}"]["mse"] / across < 1.2 for s in ("0.043", "0.03", "0.01")
            )
        else:
            assert [r["mse"] for r in sharp] == sorted((r["mse"] for r in sharp), reverse=True)
            assert rows["F sigma=0.01"]["mse"] / across < 0.05
            assert all(0.5 < r["cost"] < 2 for r in rows.values())
