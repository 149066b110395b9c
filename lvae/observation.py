"""The Gaussian observation model p(x|z) = N(mean(z), diag sigma^2) and the latent KL term.

``GaussianObservation`` owns sigma for every model of a stack, by kind:

* ``"fixed"``  (F-VAE): a constant sigma, or one a schedule sets before each step
  (``set_sigma``, ``SigmaSchedule``);
* ``"scalar"`` (LS-VAE): one learned sigma, Eq. (10);
* ``"vector"`` (LV-VAE): sigma_i(z) output by the decoder beside mu_i(z), Eq. (11),
  optionally bounded below by a floor.

Which models learn a scalar, which are per-dimension and whether any floor is set are
plain Python facts fixed at construction, so the forward pass never reads a tensor back
to the host (a GPU would stall on it).
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Sequence

import torch
from torch import nn

from .spec import OBSERVATIONS, ModelSpec

LOG_2PI = math.log(2.0 * math.pi)
LOG_SIGMA_MIN, LOG_SIGMA_MAX = -10.0, 10.0  # limits of a per-dimension log sigma


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


def reparameterised_sample(
    mean: torch.Tensor,
    log_std: torch.Tensor,
    generator: torch.Generator | None = None,
    noise_shape: Sequence[int] | None = None,
) -> torch.Tensor:
    """A draw from N(mean, diag exp(log_std)^2), differentiable in mean and log_std:

        x = mean + exp(log_std) * eps,   eps ~ N(0, I).

    The one sampling path of the package: z ~ q(z|x) is ``(mu, logvar / 2)``, x ~ p(x|z)
    is ``(mean, log_sigma)``. ``noise_shape`` (default ``mean.shape``) is the shape of eps;
    any shape that broadcasts: ``mean.shape[1:]`` shares one draw per example across the
    models of a stack, ``(k, *mean.shape)`` draws k samples at once.
    """
    shape = tuple(mean.shape if noise_shape is None else noise_shape)
    eps = torch.randn(shape, generator=generator, device=mean.device)
    return mean + torch.exp(log_std) * eps


def paper_convention_elbo(elbo, data_dim: int):
    """The ELBO as the paper reports it (Table 1, footnote 5; Table 2, footnote 6).

    The paper trains F-VAE on ||x - mu||^2 / (2 sigma^2) and, for reporting, adds back the
    D log sigma term (Eqs. (10)-(12)); no model's figure includes the Gaussian constant.
    So every reported value is the exact ELBO without -(D/2) log(2 pi):

        ELBO_paper = ELBO_exact + (D/2) log(2 pi).
    """
    return elbo + 0.5 * data_dim * LOG_2PI


def _values(name: str, values, n: int, minimum: float, strict: bool) -> list[float]:
    values = list(values)
    bad = [
        v
        for v in values
        if isinstance(v, bool)
        or not isinstance(v, (int, float))
        or not math.isfinite(v)
        or v < minimum
        or (strict and v == minimum)
    ]
    if len(values) != n or bad:
        relation = ">" if strict else ">="
        raise ValueError(
            f"{name} must hold {n} finite numbers {relation} {minimum:g} (one per model), got "
            f"{values}"
        )
    return [float(v) for v in values]


class GaussianObservation(nn.Module):
    """p(x|z) = N(mean(z), diag sigma^2) for each of M models, by kind (module docstring).

    ``kinds``: one of "fixed", "scalar", "vector" per model. ``sigma``: one value > 0 per
    model, the fixed value or the learned scalar's start (unused by "vector").
    ``floor``: one value >= 0 per model, > 0 only for "vector": sigma = floor + exp(raw).

    The one learned (or scheduled) scalar per model is the parameter ``scalar_log_sigma``
    (M,); gradients reach it only for "scalar" models (it requires no gradient at all in a
    stack with none).
    """

    def __init__(
        self,
        kinds: Sequence[str],
        sigma: Sequence[float],
        floor: Sequence[float] | None = None,
    ):
        super().__init__()
        kinds = tuple(kinds)
        n = len(kinds)
        if n < 1 or any(k not in OBSERVATIONS for k in kinds):
            raise ValueError(f"kinds must give one of {OBSERVATIONS} per model, got {kinds}")
        sigma = _values("sigma", sigma, n, 0.0, strict=True)
        floor = _values("floor", [0.0] * n if floor is None else floor, n, 0.0, strict=False)
        floored_scalar = [k for k, f in zip(kinds, floor, strict=True) if f > 0 and k != "vector"]
        if floored_scalar:
            raise ValueError(f"floor applies to 'vector' models only, got a floor for {kinds}")
        self.kinds = kinds
        self.learns_scalar = tuple(k == "scalar" for k in kinds)
        self.per_dimension = tuple(k == "vector" for k in kinds)
        self.floor = tuple(floor)
        self.has_floor = any(f > 0 for f in floor)
        # Learned only where some model learns it (else a constant the optimiser skips).
        self.scalar_log_sigma = nn.Parameter(
            torch.log(torch.tensor(sigma, dtype=torch.float32)),
            requires_grad=any(self.learns_scalar),
        )
        # Per-model masks for stacks that mix kinds; not state (rebuilt from the kinds).
        self.register_buffer("_learned", self._mask(self.learns_scalar), persistent=False)
        self.register_buffer("_per_dimension", self._mask(self.per_dimension), persistent=False)
        self.register_buffer("_floored", self._mask(f > 0 for f in floor), persistent=False)
        log_floor = torch.log(torch.tensor(floor, dtype=torch.float32).clamp_min(1e-30))
        self.register_buffer("_log_floor", log_floor.view(-1, 1, 1), persistent=False)
        self._row_indices: dict = {}

    @staticmethod
    def _mask(flags) -> torch.Tensor:
        return torch.tensor(list(flags), dtype=torch.bool).view(-1, 1, 1)

    @classmethod
    def from_specs(cls, specs: Sequence[ModelSpec]) -> GaussianObservation:
        return cls(
            [s.observation for s in specs], [s.sigma for s in specs], [s.sigma_floor for s in specs]
        )

    @property
    def n_models(self) -> int:
        return len(self.kinds)

    def extra_repr(self) -> str:
        return f"kinds={self.kinds}, floor={self.floor}"

    def forward(self, raw_log_sigma: torch.Tensor) -> torch.Tensor:
        """The log sigma of p(x|z), (M, B, D), from the decoder's raw output (M, B, D).

        "vector": the raw output, clamped, with the floor where one is set,
        log sigma = log(floor + exp(raw)); "scalar" and "fixed": the model's scalar.
        """
        # Numerical guards, not model choices. On pixels that never change, an LV-VAE
        # drives sigma towards 0 until (x - mu)^2 / sigma^2 overflows float32 (seen on the
        # digits after ~600 steps); exp(-10) is 1/90 of an 8-bit grey level. In the other
        # direction, a decoder once output log sigma ~ 90 for a stray z (2-D problem, step
        # 32,251), where exp overflows; exp(10) is far above any data scale here.
        if not any(self.per_dimension):
            return self._scalar().expand_as(raw_log_sigma)
        log_sigma = raw_log_sigma.clamp(LOG_SIGMA_MIN, LOG_SIGMA_MAX)
        if self.has_floor:  # sigma = floor + exp(raw), where a floor is set
            floored = torch.logaddexp(log_sigma, self._log_floor)
            log_sigma = torch.where(self._floored, floored, log_sigma)
        if all(self.per_dimension):
            return log_sigma
        return torch.where(self._per_dimension, log_sigma, self._scalar())

    def _scalar(self) -> torch.Tensor:
        """The scalar log sigma per model, (M, 1, 1); gradients reach only learned ones."""
        log_sigma = self.scalar_log_sigma
        if not all(self.learns_scalar):
            detached = log_sigma.detach()
            log_sigma = (
                torch.where(self._learned.view(-1), log_sigma, detached)
                if any(self.learns_scalar)
                else detached
            )
        return log_sigma.view(-1, 1, 1)

    @staticmethod
    def log_likelihood(x: torch.Tensor, mean: torch.Tensor, log_sigma: torch.Tensor):
        """log p(x|z) in nats, summed over the D dimensions: (M, B). Eq. (5),

            log p(x|z) = -||x - mu(z)||^2 / (2 sigma^2) - D log sigma - (D/2) log(2 pi),

        for a scalar sigma (F-VAE at a fixed sigma; LS-VAE, whose loss is Eq. (10):
        ||x - mu||^2 / (2 sigma^2) + D log sigma), and for a per-dimension sigma (LV-VAE,
        Eq. (11): sum_i (x_i - mu_i)^2 / (2 sigma_i(z)^2) + log sigma_i(z)),

            log p(x|z) = sum_i [ -(x_i - mu_i)^2 / (2 sigma_i^2) - log sigma_i ] - (D/2) log(2 pi).

        Exact: the paper's losses leave out the (D/2) log(2 pi) constant, kept here.
        """
        return gaussian_log_likelihood(x, mean, log_sigma)

    def check_rows(self, rows: Sequence[int] | None) -> list[int]:
        """``rows`` (default: all models) as a list, checked: distinct indices of models
        whose scalar sigma can be set ("fixed" or "scalar"; a "vector" model's sigma
        comes from its decoder)."""
        rows = list(range(self.n_models)) if rows is None else list(rows)
        if not rows or any(
            isinstance(r, bool) or not isinstance(r, int) or not 0 <= r < self.n_models
            for r in rows
        ):
            raise ValueError(f"rows must be indices in 0..{self.n_models - 1}, got {rows}")
        if len(set(rows)) != len(rows):
            raise ValueError(f"rows must be distinct, got {rows}")
        vector = [r for r in rows if self.per_dimension[r]]
        if vector:
            raise ValueError(
                f"rows {vector} are 'vector' models, whose sigma the decoder outputs; only "
                "'fixed' and 'scalar' models have a sigma to set"
            )
        return rows

    @torch.no_grad()
    def set_sigma(self, values, rows: Sequence[int] | None = None) -> None:
        """Set sigma of the models ``rows`` (default: all; "fixed" or "scalar" models) to
        ``values``: one number > 0 or one per row, or a CPU tensor of them. A learned
        scalar goes on learning from the new value."""
        rows = self.check_rows(rows)
        if isinstance(values, torch.Tensor):
            if values.device.type != "cpu":
                raise ValueError(
                    f"values must be numbers or a CPU tensor (checked here), got a tensor on "
                    f"{values.device}; a schedule keeps its values on the device: SigmaSchedule"
                )
            values = values.tolist()
        flat = [values] if isinstance(values, (int, float)) else list(values)
        flat = _values("values", flat, len(flat), 0.0, strict=True)
        if len(flat) not in (1, len(rows)):
            raise ValueError(
                f"values must be one number or one per row ({len(rows)}), got {len(flat)}"
            )
        log_values = torch.log(torch.tensor(flat, dtype=torch.float32))
        self.write_log_sigma(log_values.to(self.scalar_log_sigma.device), rows)

    @torch.no_grad()
    def write_log_sigma(self, log_values: torch.Tensor, rows: list[int]) -> None:
        """scalar_log_sigma[rows] = log_values (one value, or one per row), unchecked and
        without leaving the device: the step of a schedule (``SigmaSchedule``). Check
        ``rows`` once beforehand with ``check_rows``."""
        device = self.scalar_log_sigma.device
        key = (tuple(rows), str(device))
        if key not in self._row_indices:  # made once: no copy to the device per step
            self._row_indices[key] = torch.tensor(rows, dtype=torch.long, device=device)
        index = self._row_indices[key]
        self.scalar_log_sigma.index_copy_(0, index, log_values.reshape(-1).expand(len(rows)))


class SigmaSchedule:
    """A piecewise-constant sigma for some "fixed" models: at step t, the value given for
    the latest step <= t (the first value before the first step). Call it with the step
    (``train_stacked``'s ``before_step``). The values sit on the model's device and the
    step is looked up on the host among plain integers: no transfer, no wait per step."""

    def __init__(
        self,
        observation: GaussianObservation,
        rows: Sequence[int],
        steps: Sequence[int],
        values: Sequence[float],
    ):
        steps, values = list(steps), list(values)
        if not steps or len(steps) != len(values):
            raise ValueError(
                f"steps and values must be non-empty and of one length, got {len(steps)} "
                f"and {len(values)}"
            )
        if any(isinstance(s, bool) or not isinstance(s, int) for s in steps) or any(
            b <= a for a, b in zip(steps, steps[1:], strict=False)
        ):
            raise ValueError(f"steps must be increasing integers, got {steps}")
        values = _values("values", values, len(values), 0.0, strict=True)
        self.observation, self.steps = observation, steps
        self.rows = observation.check_rows(rows)
        device = observation.scalar_log_sigma.device
        self.log_values = torch.log(torch.tensor(values, dtype=torch.float32, device=device))

    def index(self, step: int) -> int:
        """Which value holds at ``step``: the latest given at a step <= ``step``."""
        return max(bisect.bisect_right(self.steps, step) - 1, 0)

    def __call__(self, step: int) -> None:
        self.observation.write_log_sigma(self.log_values[self.index(step)], self.rows)
