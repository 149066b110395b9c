"""What a one-dimensional code cannot carry on the 2-D problem: the data's noise across
the curve, and what it costs a fixed-sigma VAE.

In two dimensions the reconstruction term of the ELBO is

    log N(x; mu(z), sigma^2 I) = -|x - mu(z)|^2 / (2 sigma^2) - log(2 pi sigma^2),

so a record's mean log-likelihood gives back the mean squared reconstruction error
|x - mu(z)|^2 (``reconstruction_mse``), and each unit of it costs 1/(2 sigma^2) nats:
5,000 at sigma = 0.01. With a latent dimension of 1 the decoder's means lie on a curve
in the plane, so a point's offset across that curve cannot be coded; if the decoder
traced the data's own curve, the error left would be the data's noise across it
(``across_curve_variance``: the mean squared distance of fresh points to the curve). A
decoder can fold its curve towards the points and leave a little less, so this is a
reference, not a bound. With 2 or more latent dimensions the code can carry the offset,
and the error can keep shrinking with sigma.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
import torch
from scipy.spatial import cKDTree

from ..data import TOY2D_NOISE, sample_toy2d, toy2d_curve
from ..report import fixed as fixed_decimals
from ..report import fmt, sig, table
from . import lr_study
from .records import by_setting, is_fixed
from .table1 import paper_elbo

DATA_DIM = 2


def reconstruction_mse(log_likelihood, sigma, dim: int = DATA_DIM) -> np.ndarray:
    """The mean squared reconstruction error |x - mu(z)|^2 (summed over the ``dim``
    coordinates) that a mean Gaussian log-likelihood with standard deviation ``sigma``
    implies: log N = -mse / (2 sigma^2) - (dim / 2) log(2 pi sigma^2)."""
    ll, sigma = np.asarray(log_likelihood, dtype=float), np.asarray(sigma, dtype=float)
    if np.any(sigma <= 0):
        raise ValueError("sigma must be positive")
    return -2.0 * sigma**2 * (ll + 0.5 * dim * np.log(2.0 * math.pi * sigma**2))


def squared_distance_to_curve(points, scale: float = 1.0, n_curve: int = 20001) -> np.ndarray:
    """Each point's squared distance to the toy problem's curve (times ``scale``), to its
    nearest vertex on a polyline of ``n_curve`` points. A point's foot on the curve lies
    within half a vertex gap of a vertex, so the squared distance is too large by at most
    about gap^2 / 4: at the default and scale 2.4 the widest gap is 8.6e-4, under 2e-7."""
    points = np.asarray(points, dtype=float)
    if points.ndim != 2 or points.shape[1] != DATA_DIM:
        raise ValueError(f"points must be (n, 2), got shape {points.shape}")
    x = torch.linspace(-1.0, 1.0, n_curve, dtype=torch.float64)
    curve = scale * torch.stack([x, toy2d_curve(x)], dim=-1).numpy()
    distance, _ = cKDTree(curve).query(points)
    return distance**2


def across_curve_variance(scale: float, n: int = 200_000, seed: int = 0) -> float:
    """The mean squared distance of ``n`` fresh points of the toy problem (at ``scale``)
    to its curve: the error left by a decoder that traces the curve exactly."""
    points = sample_toy2d((n,), torch.Generator().manual_seed(seed), scale=scale)
    return float(squared_distance_to_curve(points.double().numpy(), scale).mean())


def across_curve_approx(scale: float) -> float:
    """The same from the noise levels alone: isotropic noise of standard deviation s has
    variance s^2 along the curve's normal, and the three regions are equally likely, so
    about scale^2 * mean(s^2) when the noise is small against the curve's bends."""
    return scale**2 * float(np.mean(np.square(TOY2D_NOISE)))


def _means(sigma, log_likelihood, kl, elbo) -> dict[str, float]:
    """The means over seeds that ``fixed_rows`` gives for one row (arrays over seeds)."""
    sigma = np.asarray(sigma, dtype=float)
    mse = reconstruction_mse(log_likelihood, sigma)
    return {
        "sigma": float(sigma[0]),
        "mse": float(mse.mean()),
        "cost": float((mse / (2.0 * sigma**2)).mean()),
        "kl": float(np.mean(kl)),
        "elbo": float(paper_elbo(elbo).mean()),
    }


def fixed_rows(record) -> dict[str, dict[str, float]]:
    """Each fixed-sigma row of a table record (the grid and F*): its sigma, and the means
    over seeds of its reconstruction error, of that error's cost mse / (2 sigma^2) in
    nats, of its KL and of its ELBO (paper convention)."""
    sigma = by_setting(record, "final_sigma")  # a fixed row's final sigma is its sigma
    ll, kl, elbo = (by_setting(record, column) for column in ("log_likelihood", "kl", "elbo"))
    return {s: _means(sigma[s], ll[s], kl[s], elbo[s]) for s in sigma if is_fixed(s)}


def kept_fixed_rows(kept: Mapping[str, object]) -> dict[str, dict[str, float]]:
    """The same for the fixed-sigma rows as the learning-rate study keeps them (setting
    -> record, as ``lr_study.kept_rows`` gives): each read at its chosen schedule, over
    its seeds that did not diverge."""
    out = {}
    for s, record in kept.items():
        if not is_fixed(s):
            continue
        rows = record.models.where(setting=s, schedule=lr_study.chosen(record)[s])
        ok = rows.column("diverged_at") == 0
        columns = (rows.column(c)[ok] for c in ("log_likelihood", "kl", "elbo"))
        out[s] = _means(np.full(int(ok.sum()), rows.values("sigma")[0]), *columns)
    return out


def per_row_text(rows: Mapping[str, Mapping[str, float]], key: str, reference: float = 1.0) -> str:
    """One value of ``fixed_rows``'s rows (``key``, divided by ``reference``) for each
    grid row, largest sigma first, to two significant digits (whole numbers from 10 up):
    "σ = 1: 57; σ = 0.3: 5.8"."""
    grid = sorted((r["sigma"], r[key] / reference) for s, r in rows.items() if s != "F*")
    return "; ".join(f"σ = {sigma:g}: {_two_digits(value)}" for sigma, value in reversed(grid))


def _two_digits(value: float) -> str:
    """Two significant digits, and whole numbers from 10 up ("0.96", "11", "100")."""
    return f"{value:.0f}" if abs(value) >= 10 else sig(value, 2)


def residual_table(tables: Mapping[int, object], reference: float, name: str = "curve_residual"):
    """Every fixed-sigma row of ``tables`` ({latent: table record}) with its
    ``fixed_rows`` means, and its reconstruction error as a share of ``reference`` (the
    data's noise across the curve, ``across_curve_variance``)."""
    rows = []
    for d, record in tables.items():
        for s, r in fixed_rows(record).items():
            rows.append(
                [
                    str(d),
                    s,
                    fixed_decimals(r["mse"], 4),
                    fixed_decimals(r["mse"] / reference, 2),
                    fixed_decimals(r["cost"], 2),
                    fixed_decimals(r["kl"], 2),
                    fixed_decimals(r["elbo"], 3),
                ]
            )
    return table(
        rows,
        [
            "latent",
            "setting",
            "|x − μ|²",
            "÷ noise across the curve",
            "its cost, nats",
            "KL",
            "ELBO",
        ],  # fmt: skip
        caption="Where the fixed-σ rows of the calibrated tables lose their ELBO: the mean "
        "squared reconstruction error |x − μ(z)|² that each row's mean log-likelihood "
        "implies, as a share of the data's noise across the curve "
        f"({fmt(reference, 3)}: the mean squared distance of fresh points to the curve), "
        "what that error costs in the ELBO (|x − μ|² / 2σ², nats per point), the KL term "
        "and the ELBO (paper convention); means over the table's seeds.",
        name=name,
        align_left=2,
    )
