"""Convolutional encoder and decoder (the paper's Appendix B), stacked over M models.

M independent convolutions run either as one grouped convolution (the models' channels
side by side, (B, M*C, H, W), ``groups=M`` keeping each model's filters to its own
channels) or as M ordinary convolutions, whichever is faster on the device
(``choose_strategy``); the weights are stored in the grouped layout either way.

Encoder: ``n_convs`` convolutions (the first keeps the size, each further one halves it),
``n_blocks`` residual blocks, then a linear map to the mean and log-variance of q(z|x).
Decoder: the mirror image: a linear map, ``n_blocks`` residual blocks, ``n_convs - 1``
transposed convolutions that double the size, and a last convolution to 2 C channels,
the mean (through a sigmoid, pixels being in [0, 1]) and log sigma of every pixel. The
paper's MNIST networks have 3 convolutions, 4 residual blocks and a latent of 256; its
CelebA networks 4, 5 and 2048.

Both map flat tensors, (M, B, C*H*W) and (M, B, latent), so they drop into
``lvae.vae.StackedVAE`` in place of the residual MLPs.
"""

from __future__ import annotations

import contextlib
import math

import torch
import torch.nn.functional as F
from torch import nn

from .nets import StackedLinear, uniform_init

STRATEGIES = ("grouped", "per_model")
_forced: str | None = None


def choose_strategy(device: torch.device) -> str:
    """How the M models' convolutions run on ``device``: a fixed rule, measured.

    * ``"grouped"``: one grouped convolution, ``groups=M`` (cuDNN runs the groups in
      parallel on a GPU);
    * ``"per_model"``: M ordinary convolutions, one per model.

    On CPU, oneDNN's grouped kernels are no faster than M ordinary ones at the book's
    MNIST shapes and up to 1.8x slower where a model has few output channels (the decoder's
    last convolution, 8 -> 2 channels) or the convolution is transposed; measured with
    ``python -m lvae bench --images --strategy ...``. Both give the same numbers up to
    float rounding (tests/test_conv.py), so the rule changes speed, never results.
    ``strategy(...)`` overrides it.
    """
    if _forced is not None:
        return _forced
    return "grouped" if device.type == "cuda" else "per_model"


@contextlib.contextmanager
def strategy(name: str | None):
    """Run every stacked convolution with strategy ``name`` (None: ``choose_strategy``)."""
    global _forced
    if name is not None and name not in STRATEGIES:
        raise ValueError(f"strategy must be one of {STRATEGIES} or None, got {name!r}")
    before, _forced = _forced, name
    try:
        yield
    finally:
        _forced = before


# Features between layers: one (M, B, C, H, W) tensor ("grouped"), or a list of M
# (B, C, H, W) tensors ("per_model"), so that no copy joins and splits the models at every
# layer; the helpers below apply an operation to either.
Features = torch.Tensor | list[torch.Tensor]


def _split(h: torch.Tensor) -> Features:
    return list(h.unbind(0)) if choose_strategy(h.device) == "per_model" else h


def _join(h: Features) -> torch.Tensor:
    return torch.stack(h) if isinstance(h, list) else h


def _silu(h: Features) -> Features:
    return [F.silu(t) for t in h] if isinstance(h, list) else F.silu(h)


def _add(a: Features, b: Features) -> Features:
    return [s + t for s, t in zip(a, b, strict=True)] if isinstance(a, list) else a + b


class StackedConv2d(nn.Module):
    """Conv2d (or ConvTranspose2d) for each of M models: one grouped convolution, or M
    ordinary ones (``choose_strategy``); the weights are stored in the grouped layout."""

    def __init__(
        self,
        generators,
        c_in: int,
        c_out: int,
        kernel: int,
        stride: int = 1,
        padding: int = 0,
        transpose: bool = False,
    ):
        super().__init__()
        self.m, self.c_out = len(generators), c_out
        self.stride, self.padding, self.transpose = stride, padding, transpose
        bound = 1.0 / math.sqrt(c_in * kernel * kernel)
        shape = (c_in, c_out, kernel, kernel) if transpose else (c_out, c_in, kernel, kernel)
        # Stored as the grouped layout: models one after another along dim 0.
        self.weight = nn.Parameter(uniform_init(generators, shape, bound).flatten(0, 1))
        self.bias = nn.Parameter(uniform_init(generators, (c_out,), bound).flatten())

    def forward(self, x: Features) -> Features:
        """(M, B, C, H, W) -> (M, B, C', H', W'), or a list of M (B, C, H, W) tensors to a
        list (the per-model strategy, between layers)."""
        if isinstance(x, list):
            return self._per_model(x)
        if choose_strategy(x.device) == "grouped":
            return self._grouped(x)
        return torch.stack(self._per_model(list(x.unbind(0))))

    def _grouped(self, x: torch.Tensor) -> torch.Tensor:
        m, b, c, h, w = x.shape
        grouped = x.transpose(0, 1).reshape(b, m * c, h, w)
        op = F.conv_transpose2d if self.transpose else F.conv2d
        y = op(grouped, self.weight, self.bias, stride=self.stride, padding=self.padding, groups=m)
        return y.reshape(b, m, self.c_out, *y.shape[-2:]).transpose(0, 1)

    def _per_model(self, x: list[torch.Tensor]) -> list[torch.Tensor]:
        op = F.conv_transpose2d if self.transpose else F.conv2d
        weights = self.weight.view(self.m, -1, *self.weight.shape[1:])
        biases = self.bias.view(self.m, -1)
        # unbind, not weights[i]: the backward of one stack, not of M full-size selects.
        return [
            op(xi, wi, bi, stride=self.stride, padding=self.padding)
            for xi, wi, bi in zip(x, weights.unbind(0), biases.unbind(0), strict=True)
        ]


class _ResBlock(nn.Module):
    """h + conv3x3(act(conv3x3(act(h))))."""

    def __init__(self, generators, channels: int):
        super().__init__()
        self.first = StackedConv2d(generators, channels, channels, 3, padding=1)
        self.second = StackedConv2d(generators, channels, channels, 3, padding=1)

    def forward(self, h: Features) -> Features:
        return _add(h, self.second(_silu(self.first(_silu(h)))))


def _feature_size(size: int, n_convs: int) -> int:
    for _ in range(n_convs - 1):
        if size % 2:
            raise ValueError(f"image size {size} cannot be halved {n_convs - 1} times")
        size //= 2
    return size


class ConvEncoder(nn.Module):
    def __init__(
        self, generators, image_shape, latent_dim: int, width: int, n_convs: int, n_blocks: int
    ):
        super().__init__()
        c, h, w = image_shape
        self.image_shape = image_shape
        channels = [c] + [width * 2 ** min(i, 2) for i in range(n_convs)]
        self.convs = nn.ModuleList(
            StackedConv2d(
                generators,
                channels[i],
                channels[i + 1],
                3 if i == 0 else 4,
                stride=1 if i == 0 else 2,
                padding=1,
            )
            for i in range(n_convs)
        )
        self.blocks = nn.ModuleList(_ResBlock(generators, channels[-1]) for _ in range(n_blocks))
        fh, fw = _feature_size(h, n_convs), _feature_size(w, n_convs)
        self.out = StackedLinear(generators, channels[-1] * fh * fw, 2 * latent_dim)

    def forward(self, x):  # (M, B, C*H*W) -> (M, B, 2 latent)
        m, b, _ = x.shape
        h = _split(x.reshape(m, b, *self.image_shape))
        for i, conv in enumerate(self.convs):
            h = conv(h if i == 0 else _silu(h))
        for block in self.blocks:
            h = block(h)
        return self.out(_join(_silu(h)).reshape(m, b, -1))


class ConvDecoder(nn.Module):
    def __init__(
        self, generators, image_shape, latent_dim: int, width: int, n_convs: int, n_blocks: int
    ):
        super().__init__()
        c, h, w = image_shape
        channels = [width * 2 ** min(i, 2) for i in range(n_convs)][::-1]  # widest first
        self.start = (channels[0], _feature_size(h, n_convs), _feature_size(w, n_convs))
        self.inp = StackedLinear(generators, latent_dim, math.prod(self.start))
        self.blocks = nn.ModuleList(_ResBlock(generators, channels[0]) for _ in range(n_blocks))
        self.ups = nn.ModuleList(
            StackedConv2d(
                generators, channels[i], channels[i + 1], 4, stride=2, padding=1, transpose=True
            )
            for i in range(n_convs - 1)
        )
        self.out = StackedConv2d(generators, channels[-1], 2 * c, 3, padding=1)

    def forward(self, z):  # (M, B, latent) -> (M, B, 2 C*H*W): [mean, log sigma]
        m, b, _ = z.shape
        h = _split(self.inp(z).reshape(m, b, *self.start))
        for block in self.blocks:
            h = block(h)
        for up in self.ups:
            h = up(_silu(h))
        mean, log_sigma = _join(self.out(_silu(h))).chunk(2, dim=2)
        return torch.cat([torch.sigmoid(mean).flatten(2), log_sigma.flatten(2)], dim=-1)


def conv_networks(image_shape, width: int = 32, n_convs: int = 3, n_blocks: int = 4):
    """A ``networks`` factory for StackedVAE: (generators, latent_dim) -> (encoder, decoder)."""

    def build(generators, latent_dim):
        return (
            ConvEncoder(generators, image_shape, latent_dim, width, n_convs, n_blocks),
            ConvDecoder(generators, image_shape, latent_dim, width, n_convs, n_blocks),
        )

    return build
