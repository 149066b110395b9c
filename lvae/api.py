"""``lvae.fit``: VAEs on your own data, as a stack over seeds; save, load, evaluate.

    fitted = lvae.fit(x, observation="per-dimension", latent_dim=2, seeds=3)
    fitted.elbo(x)            # (M, N) nats: row i is the model of seed fitted.seeds[i]
    fitted.save("my_vae"); fitted = lvae.load("my_vae")
    one = fitted[0]           # one model, a plain nn.Module

``x`` is (N, D) vectors, trained with the residual MLPs of ``lvae.nets``, or (N, C, H, W)
images with values in [0, 1], trained with the convolutional networks of ``lvae.conv``.
The observation model is p(x|z) = N(mu(z), diag sigma^2) (``lvae.vae``), with sigma

* ``"fixed"``: the constant ``sigma`` you give (F-VAE);
* ``"scalar"``: one learned number, started at ``sigma`` (default 1; LS-VAE, Eq. (10));
* ``"per-dimension"``: sigma_i(z) output by the decoder beside mu_i(z) (LV-VAE, Eq. (11)),
  the engine's ``"vector"`` kind.

Every log-density is exact, constants included, in nats per example.
"""

from __future__ import annotations

import csv
import dataclasses
import importlib.util
import io
import json
import math
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from . import __version__
from .conv import conv_networks
from .devices import resolve_device
from .images_experiment import batch_sampler
from .likelihood import bits_per_dim as _bits_per_dim
from .likelihood import dequantize, importance_weighted_bound
from .nets import mlp_networks
from .observation import kl_to_standard_normal, reparameterised_sample
from .spec import ModelSpec
from .store import write_bytes_atomically
from .train import HISTORY_TERMS, resolve_precision, train_stacked, training_precision
from .vae import StackedVAE

# public name -> the engine's (lvae.spec.OBSERVATIONS)
OBSERVATIONS = {"per-dimension": "vector", "scalar": "scalar", "fixed": "fixed"}
FORMAT, FORMAT_VERSION = "lvae-fitted-vae", 1
CONFIG_FILE, WEIGHTS_FILE, HISTORY_FILE = "config.json", "weights.pt", "history.json"
CHUNK = 500  # examples evaluated at once by the methods (bounds the memory, not the result)


# --------------------------------------------------------------------------- validation


def _check_int(name: str, value, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def _check_positive(name: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.number)):
        raise ValueError(f"{name} must be a finite number > 0, got {value!r}")
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f"{name} must be a finite number > 0, got {value!r}")
    return float(value)


def _check_seeds(seeds) -> tuple[int, ...]:
    """An int n means seeds 0..n-1 (as ``--seeds n`` on the command line)."""
    if isinstance(seeds, (int, np.integer)) and not isinstance(seeds, bool):
        return tuple(range(_check_int("seeds", seeds)))
    try:
        out = tuple(seeds)
    except TypeError:
        raise ValueError(
            f"seeds must be a count n >= 1 (seeds 0..n-1) or a list of seeds, got {seeds!r}"
        ) from None
    if not out or any(isinstance(s, bool) or not isinstance(s, (int, np.integer)) for s in out):
        raise ValueError(f"seeds must be a non-empty list of integers >= 0, got {seeds!r}")
    if min(out) < 0 or len(set(out)) != len(out):
        raise ValueError(f"seeds must be distinct integers >= 0, got {seeds!r}")
    return tuple(int(s) for s in out)


def _as_tensor(x, name: str = "x") -> torch.Tensor:
    """``x`` (a tensor, a numpy array or the path of a .npy file) as a finite float32 tensor
    of (N, D) vectors or (N, C, H, W) images. Raises ValueError/FileNotFoundError naming
    ``name`` before any compute."""
    if isinstance(x, (str, Path)):
        path = Path(x)
        if path.suffix != ".npy":
            raise ValueError(f"{name}: a file must be a numpy .npy array file, got {str(path)!r}")
        if not path.is_file():
            raise FileNotFoundError(f"{name}: no such file {str(path)!r}")
        try:  # no pickles: a data file must not run code
            x = np.load(path, allow_pickle=False)
        except ValueError as exc:
            raise ValueError(
                f"{name}: {str(path)!r} is not a readable .npy array ({exc})"
            ) from None
    if isinstance(x, np.ndarray):
        if x.dtype.kind not in "fiu":
            raise ValueError(f"{name} must hold real numbers, got numpy dtype {x.dtype}")
        x = torch.from_numpy(np.ascontiguousarray(x))
    elif not isinstance(x, torch.Tensor):
        raise ValueError(
            f"{name} must be a torch tensor, a numpy array or the path of a .npy file, "
            f"got {type(x).__name__}"
        )
    if x.dtype == torch.bool or x.is_complex():
        raise ValueError(f"{name} must hold real numbers, got torch dtype {x.dtype}")
    if x.dim() not in (2, 4):
        hint = {
            1: "; one feature per example is x.reshape(-1, 1)",
            3: "; single-channel images need a channel axis, x[:, None]",
        }.get(x.dim(), "")
        raise ValueError(
            f"{name} must be (N, D) vectors or (N, C, H, W) images, got shape "
            f"{tuple(x.shape)}{hint}"
        )
    if x.numel() == 0:
        raise ValueError(f"{name} must hold at least one example, got shape {tuple(x.shape)}")
    x = x.detach().to(torch.float32)
    bad = ~torch.isfinite(x)
    if bool(bad.any()):
        first = tuple(int(i) for i in bad.nonzero()[0])
        raise ValueError(
            f"{name} holds {int(bad.sum())} NaN or infinite values (the first at index {first})"
        )
    if x.dim() == 4 and not (float(x.min()) >= 0.0 and float(x.max()) <= 1.0):
        raise ValueError(
            f"{name}: images must have values in [0, 1] (the decoder's mean is a sigmoid), got "
            f"values in [{float(x.min()):g}, {float(x.max()):g}]; divide 8-bit images by 255"
        )
    return x


# --------------------------------------------------------------------------- configuration


@dataclass(frozen=True)
class FitConfig:
    """Everything that defines a fitted stack except its weights (stored as config.json)."""

    data_shape: tuple[int, ...]  # one example: (D,) or (C, H, W)
    observation: str = "per-dimension"
    sigma: float | None = None  # "fixed": the value; "scalar": the initial value
    sigma_floor: float = 0.0  # "per-dimension": sigma = floor + exp(raw) when > 0
    latent_dim: int = 2
    seeds: tuple[int, ...] = (0,)
    steps: int = 10_000
    batch_size: int = 100
    lr: float = 1e-3
    hidden: int = 64  # MLP units, or the conv networks' first channel count
    n_blocks: int = 2
    n_convs: int = 3  # images only: the first conv keeps the size, each further one halves it
    log_every: int = 100

    def __post_init__(self):
        if self.observation not in OBSERVATIONS:
            raise ValueError(
                f"observation must be one of {tuple(OBSERVATIONS)}, got {self.observation!r}"
            )
        if self.observation == "fixed" and self.sigma is None:
            raise ValueError(
                "sigma is required with observation='fixed' (the standard deviation of "
                "p(x|z)), got None"
            )
        if self.observation == "per-dimension" and self.sigma is not None:
            raise ValueError(
                f"sigma is not used with observation='per-dimension' (the decoder outputs "
                f"sigma(z)), got sigma={self.sigma!r}; leave it out, or use 'scalar' or 'fixed'"
            )
        if self.sigma is not None:
            _check_positive("sigma", self.sigma)
        if not (math.isfinite(self.sigma_floor) and self.sigma_floor >= 0):
            raise ValueError(f"sigma_floor must be a finite number >= 0, got {self.sigma_floor}")
        if self.sigma_floor > 0 and self.observation != "per-dimension":
            raise ValueError(
                f"sigma_floor applies to observation='per-dimension' only, got "
                f"sigma_floor={self.sigma_floor} with observation={self.observation!r}"
            )
        _check_seeds(self.seeds)
        for name in ("latent_dim", "steps", "batch_size", "hidden", "n_convs", "log_every"):
            _check_int(name, getattr(self, name))
        _check_int("n_blocks", self.n_blocks, minimum=0)
        _check_positive("lr", self.lr)
        if len(self.data_shape) not in (1, 3) or min(self.data_shape) < 1:
            raise ValueError(f"data_shape must be (D,) or (C, H, W), got {self.data_shape}")
        if len(self.data_shape) == 3:
            step = 2 ** (self.n_convs - 1)  # the encoder halves the size n_convs - 1 times
            if self.data_shape[1] % step or self.data_shape[2] % step:
                raise ValueError(
                    f"x: images of {self.data_shape[1]}x{self.data_shape[2]} pixels cannot be "
                    f"halved n_convs - 1 = {self.n_convs - 1} times; with n_convs={self.n_convs} "
                    f"height and width must be multiples of {step} (pad the images, or lower "
                    f"n_convs)"
                )

    @property
    def is_image(self) -> bool:
        return len(self.data_shape) == 3

    def to_json(self) -> dict:
        return json.loads(json.dumps(dataclasses.asdict(self)))

    @classmethod
    def from_json(cls, values: dict) -> FitConfig:
        values = dict(values)
        values["data_shape"] = tuple(values["data_shape"])
        values["seeds"] = tuple(values["seeds"])
        return cls(**values)


def _specs(config: FitConfig) -> list[ModelSpec]:
    """One spec per seed: model i starts from seeds[i] (its init seed is the seed itself)."""
    sigma = 1.0 if config.sigma is None else config.sigma  # unused by "per-dimension"
    kind = OBSERVATIONS[config.observation]
    return [
        ModelSpec("", kind, sigma, seed=s, init_seed=s, sigma_floor=config.sigma_floor)
        for s in config.seeds
    ]


def _build(config: FitConfig) -> StackedVAE:
    """The stack the config describes, freshly initialised (model i from seeds[i])."""
    if config.is_image:
        networks = conv_networks(config.data_shape, config.hidden, config.n_convs, config.n_blocks)
    else:
        networks = mlp_networks(config.data_shape[0], config.hidden, config.n_blocks)
    return StackedVAE(_specs(config), networks, config.latent_dim)


# --------------------------------------------------------------------------- evaluation
# The functions below take a stack and flat inputs (N, D) and return (M, N, ...). Their noise
# is drawn once per example and shared by every model of the stack (common random numbers):
# so model i gives the same numbers in a stack as alone, and seeds differ by the model only.


def _generator(seed: int | None, device) -> torch.Generator | None:
    return None if seed is None else torch.Generator(device=device).manual_seed(int(seed))


def _chunks(x: torch.Tensor):
    for start in range(0, x.shape[0], CHUNK):
        yield x[start : start + CHUNK]


def _elbo(vae: StackedVAE, x: torch.Tensor, samples: int, seed: int | None) -> torch.Tensor:
    """ELBO(x) = E_q log p(x|z) - KL(q(z|x) || p(z)), Eq. (3): the expectation averaged over
    ``samples`` reparameterised draws, the KL in closed form. (M, N) nats."""
    gen, m, out = _generator(seed, x.device), vae.n_models, []
    for part in _chunks(x):
        xs = part.expand(m, -1, -1)
        mu, logvar = vae.encode(xs)
        log_lik = 0.0
        for _ in range(samples):
            z = reparameterised_sample(mu, 0.5 * logvar, gen, mu.shape[1:])  # shared noise
            mean, log_sigma = vae.decode(z)
            log_lik = log_lik + vae.observation.log_likelihood(xs, mean, log_sigma)
        out.append(log_lik / samples - kl_to_standard_normal(mu, logvar))
    return torch.cat(out, dim=1)


def _reconstruct(vae: StackedVAE, x: torch.Tensor, seed: int | None) -> torch.Tensor:
    gen, m = _generator(seed, x.device), vae.n_models
    parts = [vae.reconstruct(p.expand(m, -1, -1), gen, shared_noise=True)[0] for p in _chunks(x)]
    return torch.cat(parts, dim=1)


def _sample(vae: StackedVAE, n: int, seed: int | None, mean: bool) -> torch.Tensor:
    """z ~ p(z) = N(0, I), then the decoder mean mu(z) or a sample x ~ N(mu(z), sigma^2)."""
    generated = vae.generate(n, _generator(seed, _device(vae)), shared_noise=True)
    return generated["mean" if mean else "sample"]


def _device(vae: StackedVAE) -> torch.device:
    return vae.observation.scalar_log_sigma.device


class _Evaluate:
    """The methods shared by the fitted stack and one model taken out of it. Subclasses set
    ``config`` and ``vae`` (a StackedVAE) and say how a (M, ...) result is returned."""

    config: FitConfig
    vae: StackedVAE

    def _out(self, t: torch.Tensor) -> torch.Tensor:
        return t

    @property
    def device(self) -> torch.device:
        return _device(self.vae)

    def _inputs(self, x, name: str = "x") -> torch.Tensor:
        x = _as_tensor(x, name)
        if tuple(x.shape[1:]) != self.config.data_shape:
            raise ValueError(
                f"{name} must be (N, {', '.join(map(str, self.config.data_shape))}) like the "
                f"training data, got shape {tuple(x.shape)}"
            )
        return x.flatten(1).to(self.device)

    def _shaped(self, t: torch.Tensor) -> torch.Tensor:  # (M, N, D) -> (M, N, *data_shape)
        return self._out(t.reshape(*t.shape[:2], *self.config.data_shape))

    @torch.no_grad()
    def elbo(self, x, samples: int = 1, seed: int | None = 0) -> torch.Tensor:
        """The ELBO of every example, Eq. (3), in nats: log p(x|z) averaged over ``samples``
        draws z ~ q(z|x), minus the KL to p(z) = N(0, I) in closed form. Exact densities,
        constants included. Noise from ``seed`` (None: torch's global generator).
        The stack returns (M, N), one row per model; one model returns (N,)."""
        _check_int("samples", samples)
        return self._out(_elbo(self.vae, self._inputs(x), samples, seed))

    @torch.no_grad()
    def iw_bound(self, x, k: int, seed: int | None = 0) -> torch.Tensor:
        """The importance-weighted bound with ``k`` samples (Burda et al., 2016), nats:

            L_k(x) = log (1/k) sum_i p(x, z_i) / q(z_i | x),  z_i ~ q(z | x),

        a lower bound on log p(x) that equals the ELBO in expectation at k = 1 and rises
        towards log p(x) as k grows (``lvae.likelihood``). (M, N) for the stack, (N,) for
        one model."""
        k = _check_int("k", k)
        x = self._inputs(x)
        gen, m = _generator(seed, x.device), self.vae.n_models
        bounds = [
            importance_weighted_bound(self.vae, part.expand(m, -1, -1), k, gen)
            for part in _chunks(x)
        ]
        return self._out(torch.cat(bounds, dim=1))

    @torch.no_grad()
    def bits_per_dim(self, x, levels: int = 256, k: int = 1, seed: int | None = 0) -> torch.Tensor:
        """Negative log-likelihood in bits per dimension of *discrete* data, an upper bound.

        Assumes ``x`` takes ``levels`` equally spaced values j / (levels - 1) in [0, 1]
        (8-bit images divided by 255: levels=256). Each value is dequantised,
        x~ = (j + u) / levels with u ~ U[0, 1), and

            bits/dim = -(L(x~) - D log levels) / (D log 2),

        with L the ELBO (k = 1) or the importance-weighted bound with k samples, bounds
        -log2 P(x) / D from above (``lvae.likelihood``). 8 bits/dim is the uniform model
        of 256 levels. (M, N) for the stack, (N,) for one model.
        """
        levels = _check_int("levels", levels, minimum=2)
        k = _check_int("k", k)
        x = self._inputs(x)
        if not (float(x.min()) >= 0.0 and float(x.max()) <= 1.0):
            raise ValueError(
                f"x: bits_per_dim needs values in [0, 1], got values in "
                f"[{float(x.min()):g}, {float(x.max()):g}]"
            )
        grid = torch.round(x * (levels - 1)) / (levels - 1)
        if not torch.allclose(grid, x, atol=1e-5):
            raise ValueError(
                f"x: bits_per_dim needs data on a grid of levels={levels} values "
                f"j/{levels - 1} in [0, 1]; set levels to the number of values your data takes"
            )
        x_deq = dequantize(x, _generator(seed, x.device), levels)
        seed = None if seed is None else seed + 1  # not the dequantisation noise again
        if k == 1:
            bound = _elbo(self.vae, x_deq, 1, seed)
        else:
            gen, m = _generator(seed, x.device), self.vae.n_models
            bound = torch.cat(
                [
                    importance_weighted_bound(self.vae, part.expand(m, -1, -1), k, gen)
                    for part in _chunks(x_deq)
                ],
                dim=1,
            )
        return self._out(_bits_per_dim(bound, x.shape[1], levels))

    @torch.no_grad()
    def sample(self, n: int, seed: int | None = 0, mean: bool = False) -> torch.Tensor:
        """``n`` generations, z ~ N(0, I) then x ~ p(x|z) (or, with ``mean``, the decoder
        mean mu(z)), shaped like the data: (M, n, *data_shape), or (n, *data_shape) for
        one model. For a fixed or learned sigma a sample carries that Gaussian noise."""
        return self._shaped(_sample(self.vae, _check_int("n", n), seed, mean))

    @torch.no_grad()
    def reconstruct(self, x, seed: int | None = 0) -> torch.Tensor:
        """The decoder mean mu(z) for z ~ q(z|x), shaped like ``x``: (M, N, *data_shape), or
        (N, *data_shape) for one model."""
        return self._shaped(_reconstruct(self.vae, self._inputs(x), seed))

    @torch.no_grad()
    def encode(self, x) -> tuple[torch.Tensor, torch.Tensor]:
        """The mean and standard deviation of q(z|x), each (M, N, latent_dim) (or (N, .))."""
        x = self._inputs(x)
        mu, logvar = self.vae.encode(x.expand(self.vae.n_models, -1, -1))
        return self._out(mu), self._out(torch.exp(0.5 * logvar))

    @property
    def scalar_sigma(self) -> torch.Tensor | None:
        """sigma of each model: the fixed value, or the learned scalar; None for a
        per-dimension sigma (which depends on z: see ``reconstruct``)."""
        if self.config.observation == "per-dimension":
            return None
        return self._out(self.vae.observation.scalar_log_sigma.detach().exp())


# --------------------------------------------------------------------------- the results


class VAE(_Evaluate, nn.Module):
    """One model of a fitted stack, a plain ``nn.Module``: ``forward(x)`` is the ELBO of
    each example (N,), with gradients, so the model can be trained further or composed.
    Its methods are those of ``FittedVAE`` without the model axis."""

    def __init__(self, config: FitConfig, vae: StackedVAE):
        nn.Module.__init__(self)
        self.config, self.vae = config, vae

    def _out(self, t: torch.Tensor) -> torch.Tensor:
        return t[0]

    def forward(self, x, samples: int = 1, seed: int | None = None) -> torch.Tensor:
        return _elbo(self.vae, self._inputs(x), _check_int("samples", samples), seed)[0]


class FittedVAE(_Evaluate):
    """A stack of M fitted VAEs, one per seed (``seeds``); row i of every result is the
    model of ``seeds[i]``. ``history`` holds the batch means logged along training."""

    def __init__(
        self,
        config: FitConfig,
        vae: StackedVAE,
        history: dict | None = None,
        precision: str = "fp32",
    ):
        self.config, self.vae, self.history = config, vae, history or {}
        self.precision = precision  # the arithmetic it was trained in (lvae.train.PRECISIONS)

    @property
    def seeds(self) -> tuple[int, ...]:
        return self.config.seeds

    def __len__(self) -> int:
        return len(self.config.seeds)

    def __repr__(self) -> str:
        c = self.config
        return (
            f"FittedVAE(observation={c.observation!r}, data_shape={c.data_shape}, "
            f"latent_dim={c.latent_dim}, seeds={c.seeds}, steps={c.steps}, device={self.device})"
        )

    def model(self, i: int) -> VAE:
        """Model ``i`` (of seed ``seeds[i]``) as a ``VAE`` module of its own, a copy."""
        m = len(self)
        if isinstance(i, bool) or not isinstance(i, (int, np.integer)) or not -m <= i < m:
            raise IndexError(f"i must be an index in 0..{m - 1} (seeds {self.seeds}), got {i!r}")
        i = int(i) % m
        config = dataclasses.replace(self.config, seeds=(self.config.seeds[i],))
        one = _build(config).to(self.device)
        # Every parameter and buffer of a stack holds the M models one after another along
        # dim 0 (also the grouped convolutions): model i is the i-th equal slice.
        state = {}
        for name, t in self.vae.state_dict().items():
            size = t.shape[0] // m
            state[name] = t[i * size : (i + 1) * size].clone()
        one.load_state_dict(state)
        return VAE(config, one)

    __getitem__ = model

    def save(self, directory, overwrite: bool = False) -> Path:
        """Write ``config.json`` (the configuration and versions), ``weights.pt`` (the
        state_dict: tensors only, for ``torch.load(..., weights_only=True)``) and
        ``history.json`` into ``directory`` (created if needed). Returns the folder.

        A folder that already holds a saved model is refused (ValueError) unless
        ``overwrite``: a model is never replaced silently. Each file is written atomically
        (``store.write_bytes_atomically``), the configuration last, so a folder is a model
        only once its weights are whole."""
        directory = Path(directory)
        if directory.exists() and not directory.is_dir():
            raise ValueError(f"directory: {str(directory)!r} exists and is not a folder")
        held = [name for name in (CONFIG_FILE, WEIGHTS_FILE) if (directory / name).exists()]
        if held and not overwrite:
            raise ValueError(
                f"directory: {str(directory)!r} already holds a saved model ({', '.join(held)});"
                " save(..., overwrite=True) (lvae fit --force) replaces it"
            )
        directory.mkdir(parents=True, exist_ok=True)
        meta = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "lvae_version": __version__,
            "torch_version": torch.__version__,
            "config": self.config.to_json(),
            "precision": self.precision,
        }
        state = {k: v.detach().cpu().contiguous() for k, v in self.vae.state_dict().items()}
        weights = io.BytesIO()
        torch.save(state, weights)
        write_bytes_atomically(directory / WEIGHTS_FILE, weights.getvalue(), mode=0o644)
        write_bytes_atomically(
            directory / HISTORY_FILE, (json.dumps(self.history) + "\n").encode(), mode=0o644
        )
        write_bytes_atomically(
            directory / CONFIG_FILE, (json.dumps(meta, indent=2) + "\n").encode(), mode=0o644
        )
        return directory


def load(directory, device: str = "auto") -> FittedVAE:
    """A stack saved by ``FittedVAE.save``, on ``device`` (auto: CUDA when present)."""
    directory = Path(directory)
    for name in (CONFIG_FILE, WEIGHTS_FILE):
        if not (directory / name).is_file():
            raise FileNotFoundError(
                f"directory: {str(directory)!r} holds no {name}; is it a folder written by "
                f"FittedVAE.save?"
            )
    meta = json.loads((directory / CONFIG_FILE).read_text())
    if meta.get("format") != FORMAT or meta.get("format_version") != FORMAT_VERSION:
        raise ValueError(
            f"directory: {str(directory)!r} is not a saved lvae model of format "
            f"{FORMAT!r} version {FORMAT_VERSION}"
        )
    config = FitConfig.from_json(meta["config"])
    device = resolve_device(device)
    vae = _build(config)
    vae.load_state_dict(torch.load(directory / WEIGHTS_FILE, map_location="cpu", weights_only=True))
    history_file = directory / HISTORY_FILE
    history = json.loads(history_file.read_text()) if history_file.is_file() else {}
    # Saved before the precision was stated: trained in float32.
    return FittedVAE(config, vae.to(device), history, meta.get("precision", "fp32"))


# --------------------------------------------------------------------------- live logs


def tensorboard_available() -> bool:
    return importlib.util.find_spec("tensorboard") is not None


class _Logs:
    """The ``on_log`` callback of ``train_stacked``: a CSV file (one row per logged step and
    model) and TensorBoard scalars, each optional; ``close`` when training ends."""

    def __init__(self, seeds, csv_path=None, tensorboard_dir=None, extra: Callable | None = None):
        self.seeds, self.extra = seeds, extra
        self.csv_file = self.writer = self.tb = None
        if csv_path is not None:
            Path(csv_path).parent.mkdir(parents=True, exist_ok=True)
            self.csv_file = open(csv_path, "w", newline="")  # closed by close()
            self.writer = csv.writer(self.csv_file)
            self.writer.writerow(["step", "seed", *HISTORY_TERMS])
        if tensorboard_dir is not None:
            from torch.utils.tensorboard import SummaryWriter

            self.tb = SummaryWriter(log_dir=str(tensorboard_dir))

    def __call__(self, step: int, values: dict[str, list[float]]) -> None:
        if self.writer is not None:
            for i, seed in enumerate(self.seeds):
                self.writer.writerow([step, seed, *(values[k][i] for k in HISTORY_TERMS)])
            self.csv_file.flush()  # a live log: readable while training runs
        if self.tb is not None:
            for name in HISTORY_TERMS:
                for i, seed in enumerate(self.seeds):
                    self.tb.add_scalar(f"{name}/seed_{seed}", values[name][i], step)
        if self.extra is not None:
            self.extra(step, values)

    def close(self) -> None:
        if self.csv_file is not None:
            self.csv_file.close()
        if self.tb is not None:
            self.tb.close()


# --------------------------------------------------------------------------- fit


def fit(
    x,
    observation: str = "per-dimension",
    *,
    sigma: float | None = None,
    latent_dim: int | None = None,
    steps: int = 10_000,
    seeds: int | Sequence[int] = 1,
    batch_size: int = 100,
    lr: float = 1e-3,
    hidden: int | None = None,
    n_blocks: int = 2,
    n_convs: int = 3,
    sigma_floor: float = 0.0,
    log_every: int | None = None,
    device: str = "auto",
    precision: str | None = None,
    log_csv=None,
    tensorboard=None,
    on_log: Callable[[int, dict[str, list[float]]], None] | None = None,
) -> FittedVAE:
    """Train a Gaussian VAE on ``x``, once per seed, all seeds in one stack.

    x: (N, D) vectors or (N, C, H, W) images with values in [0, 1], as a torch tensor, a
        numpy array or the path of a .npy file. The data are used as given (not rescaled:
        how sigma compares with the scale of the data is the point of the paper).
    observation: "per-dimension" (sigma_i(z) from the decoder, LV-VAE), "scalar" (one
        learned sigma, LS-VAE) or "fixed" (F-VAE).
    sigma: "fixed": the value, required; "scalar": the initial value (default 1);
        "per-dimension": not used (an error if given).
    latent_dim: default 2 for vectors, 16 for images.
    steps: Adam steps (default 10,000), each on ``batch_size`` (default 100) examples drawn
        with replacement from x, separately for every model; ``lr`` default 1e-3.
    seeds: a count n (seeds 0..n-1, default 1) or a list of seeds. Seed s sets its model's
        initial weights; the batches and noise of the whole stack come from one generator
        seeded with ``seeds[0]``. So a fit is reproducible given its arguments, but a seed
        trained beside others is not bit-identical to the same seed trained alone.
    hidden, n_blocks: vectors: residual MLPs of ``n_blocks`` (default 2) blocks of
        ``hidden`` units (default 64). Images: conv networks (``lvae.conv``) of
        ``n_convs`` (default 3) convolutions starting with ``hidden`` channels (default
        16) and ``n_blocks`` residual blocks; height and width must be multiples of
        2^(n_convs - 1).
    sigma_floor: "per-dimension" only: sigma = floor + exp(raw) (default 0: no floor).
    log_every: log the batch means every that many steps (default steps // 100).
    device: "auto" (CUDA when present, else CPU), "cpu" or "cuda".
    precision: training's arithmetic (``lvae.train.resolve_precision``): "fp32", "tf32"
        (CUDA; fp32 on the CPU) or "bf16" (bfloat16 autocast forward, float32 loss and
        Adam); default tf32 on CUDA, fp32 on the CPU. The one used is
        ``FittedVAE.precision``, saved with the model.
    log_csv: a CSV file written while training: step, seed, log_likelihood, kl, elbo (nats
        per example, batch means) and sigma (geometric mean over dimensions).
    tensorboard: a folder for TensorBoard scalars, when the ``tensorboard`` package is
        installed; otherwise a warning says it is skipped and training goes on.
    on_log: ``on_log(step, {term: [one float per model]})`` at each log step.

    Every argument is checked before training starts; a loss that turns NaN or infinite
    stops training with ``lvae.train.DivergenceError``. Returns a ``FittedVAE``.
    """
    data = _as_tensor(x, "x")
    is_image = data.dim() == 4
    config = FitConfig(
        data_shape=tuple(data.shape[1:]),
        observation=observation,
        sigma=sigma if sigma is not None or observation != "scalar" else 1.0,
        sigma_floor=sigma_floor,
        latent_dim=latent_dim if latent_dim is not None else (16 if is_image else 2),
        seeds=_check_seeds(seeds),
        steps=steps,
        batch_size=batch_size,
        lr=lr,
        hidden=hidden if hidden is not None else (16 if is_image else 64),
        n_blocks=n_blocks,
        n_convs=n_convs,
        log_every=log_every if log_every is not None else max(1, _check_int("steps", steps) // 100),
    )
    if on_log is not None and not callable(on_log):
        raise ValueError(f"on_log must be a function (step, values) -> None, got {on_log!r}")
    dev = resolve_device(device)
    used = resolve_precision(precision, dev)
    if tensorboard is not None and not tensorboard_available():
        warnings.warn(
            f"tensorboard={str(tensorboard)!r} skipped: the tensorboard package is not "
            "installed (pip install tensorboard); training goes on without it",
            stacklevel=2,
        )
        tensorboard = None

    vae = _build(config).to(dev)
    m = len(config.seeds)
    gen = torch.Generator(device=dev).manual_seed(config.seeds[0])
    # Fresh batches with replacement, one per model (lvae.images_experiment), no dequantising.
    batch = batch_sampler(data.flatten(1).to(dev), [False] * m, batch_size, 2, gen)
    logs = _Logs(config.seeds, log_csv, tensorboard, on_log)
    try:
        with training_precision(used, dev):
            history = train_stacked(
                vae,
                batch,
                steps=config.steps,
                lr=config.lr,
                log_every=config.log_every,
                generator=gen,
                desc="lvae fit",
                on_log=logs,
            )
    finally:
        logs.close()
    history = {k: history[k] for k in ("step", *HISTORY_TERMS)}
    return FittedVAE(config, vae, history, used)
