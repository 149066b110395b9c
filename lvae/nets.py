"""Residual MLPs evaluated for many independent models at once.

A *stacked* layer holds the weights of M models in one tensor (M, fan_in, fan_out) and
applies them with one batched matrix product, so M seeds or settings train as one job.
Each model's parameters are drawn from its own generator, so a model is the same whether
it trains alone or in a stack.
"""

from __future__ import annotations

import math

import torch
from torch import nn


def uniform_init(generators, shape, bound) -> torch.Tensor:
    """One U(-bound, bound) tensor of ``shape`` per model, stacked on dim 0."""
    return torch.stack([(torch.rand(shape, generator=g) * 2.0 - 1.0) * bound for g in generators])


class StackedLinear(nn.Module):
    """y[m] = x[m] @ W[m] + b[m] for every model m; PyTorch's default nn.Linear init."""

    def __init__(self, generators: list[torch.Generator], fan_in: int, fan_out: int):
        super().__init__()
        bound = 1.0 / math.sqrt(fan_in)
        self.weight = nn.Parameter(uniform_init(generators, (fan_in, fan_out), bound))
        self.bias = nn.Parameter(uniform_init(generators, (fan_out,), bound))

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # x: (M, B, fan_in)
        return torch.baddbmm(self.bias.unsqueeze(1), x, self.weight)


class StackedResMLP(nn.Module):
    """in -> Linear -> [h + Linear(act(Linear(act(h))))] x n_blocks -> act -> Linear -> out."""

    def __init__(
        self,
        generators: list[torch.Generator],
        fan_in: int,
        fan_out: int,
        hidden: int,
        n_blocks: int,
    ):
        super().__init__()
        if hidden < 1 or n_blocks < 0:
            raise ValueError(f"need hidden >= 1 and n_blocks >= 0, got {hidden}, {n_blocks}")
        self.inp = StackedLinear(generators, fan_in, hidden)
        self.blocks = nn.ModuleList(
            nn.ModuleList(
                [
                    StackedLinear(generators, hidden, hidden),
                    StackedLinear(generators, hidden, hidden),
                ]
            )
            for _ in range(n_blocks)
        )
        self.out = StackedLinear(generators, hidden, fan_out)
        self.act = nn.SiLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.inp(x)
        for first, second in self.blocks:
            h = h + second(self.act(first(self.act(h))))
        return self.out(self.act(h))


def mlp_networks(data_dim: int, hidden: int = 64, n_blocks: int = 2):
    """A ``networks`` factory for ``lvae.vae.StackedVAE``: residual MLPs of ``n_blocks``
    blocks of ``hidden`` units, x (data_dim) -> (mu, log var) of q(z|x) and z -> (mu, log
    sigma) of p(x|z). (generators, latent_dim) -> (encoder, decoder); the encoder draws its
    initial weights from each model's generator first, then the decoder."""
    for name, value, minimum in (("data_dim", data_dim, 1), ("hidden", hidden, 1)):
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    if isinstance(n_blocks, bool) or not isinstance(n_blocks, int) or n_blocks < 0:
        raise ValueError(f"n_blocks must be an integer >= 0, got {n_blocks!r}")

    def build(generators, latent_dim):
        return (
            StackedResMLP(generators, data_dim, 2 * latent_dim, hidden, n_blocks),
            StackedResMLP(generators, latent_dim, 2 * data_dim, hidden, n_blocks),
        )

    return build
