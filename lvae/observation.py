"""Gaussian observation model p(x|z) = N(mean(z), diag sigma^2) and the latent KL term."""

from __future__ import annotations

import math

import torch

LOG_2PI = math.log(2.0 * math.pi)


def gaussian_log_likelihood(
    x: torch.Tensor, mean: torch.Tensor, log_sigma: torch.Tensor
) -> torch.Tensor:
    """Exact log N(x; mean, diag sigma^2), summed over the last dimension. Eq. (5).

    log p = sum_i [ -(x_i - mean_i)^2 / (2 sigma_i^2) - log sigma_i - log(2 pi) / 2 ].
    ``log_sigma`` broadcasts against ``x`` (a scalar per model, or one per dimension).
    """
    z = (x - mean) * torch.exp(-log_sigma)
    return (-0.5 * z**2 - log_sigma - 0.5 * LOG_2PI).sum(dim=-1)


def kl_to_standard_normal(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL( N(mu, diag exp(logvar)) || N(0, I) ), summed over the last dimension.

    KL = 1/2 sum_j [ mu_j^2 + exp(logvar_j) - 1 - logvar_j ]  (Kingma & Welling, 2014, App. B).
    """
    return 0.5 * (mu**2 + torch.exp(logvar) - 1.0 - logvar).sum(dim=-1)


def paper_convention_elbo(elbo, data_dim: int):
    """The ELBO as the paper reports it (Table 1, footnote 5; Table 2, footnote 6).

    The paper trains F-VAE on ||x - mu||^2 / (2 sigma^2) and, for reporting, adds back the
    D log sigma term (Eqs. (10)-(12)); no model's figure includes the Gaussian constant.
    So every reported value is the exact ELBO without -(D/2) log(2 pi):

        ELBO_paper = ELBO_exact + (D/2) log(2 pi).
    """
    return elbo + 0.5 * data_dim * LOG_2PI
