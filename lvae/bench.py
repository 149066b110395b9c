"""Throughput of the stacked (vectorised) engine against a plain one-model-at-a-time loop.

Both train the same VAEs (same residual MLPs, fixed-sigma Gaussian observation model,
Adam, fresh toy-2D batches) on the same device, in the same run; the figure of merit is
model-steps per second. The stacked engine applies every layer of all M models with one
batched matrix product; the loop applies M ordinary ``nn.Linear`` networks in turn, each
with its own optimiser. Both use Adam's fused kernel where this build has one.

The same run also times the *matmul limit*: the batched matrix products of one step of
the stacked engine (forward, and the two products of each backward: the gradients with
respect to the input and the weights), at the same shapes, run as bare ``torch.bmm``
calls with nothing else. Its model-steps per second bound the engine's from above as long
as the matrix products dominate a step; the engine's fraction of it says how much of the
step is spent on everything else (optimiser, activations, copies, Python).

``--images`` measures the convolutional engine (``lvae.conv``) the same way on MNIST-shaped
data: the stacked image VAE against a loop of one-model VAEs with the same networks. Its
limit, on the CPU, is the share of the loop's step spent inside convolution kernels
(forward and backward, read with ``torch.profiler``): an engine that runs the same
kernels can at best remove everything else, so it cannot beat the loop by more than one
over that share.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn

from .data import sample_toy2d
from .devices import describe, resolve_device
from .experiments import config
from .nets import StackedLinear, mlp_networks
from .observation import gaussian_log_likelihood, kl_to_standard_normal
from .spec import ModelSpec
from .train import adam, forward_autocast, resolve_precision, training_precision
from .vae import StackedVAE


class PlainResMLP(nn.Module):
    """The same architecture as nets.StackedResMLP, for a single model."""

    def __init__(self, fan_in: int, fan_out: int, hidden: int, n_blocks: int):
        super().__init__()
        self.inp = nn.Linear(fan_in, hidden)
        self.blocks = nn.ModuleList(
            nn.Sequential(
                nn.SiLU(), nn.Linear(hidden, hidden), nn.SiLU(), nn.Linear(hidden, hidden)
            )
            for _ in range(n_blocks)
        )
        self.out = nn.Sequential(nn.SiLU(), nn.Linear(hidden, fan_out))

    def forward(self, x):
        h = self.inp(x)
        for block in self.blocks:
            h = h + block(h)
        return self.out(h)


class PlainVAE(nn.Module):
    def __init__(self, latent_dim: int, hidden: int, n_blocks: int, sigma: float):
        super().__init__()
        self.encoder = PlainResMLP(2, 2 * latent_dim, hidden, n_blocks)
        self.decoder = PlainResMLP(latent_dim, 4, hidden, n_blocks)  # (mu, log sigma) as stacked
        self.log_sigma = torch.log(torch.tensor(sigma))

    def loss(self, x):
        mu, logvar = self.encoder(x).chunk(2, dim=-1)
        z = mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)
        mean = self.decoder(z).chunk(2, dim=-1)[0]
        elbo = gaussian_log_likelihood(x, mean, self.log_sigma.to(x.device))
        return -(elbo - kl_to_standard_normal(mu, logvar)).mean()


@dataclass
class BenchResult:
    device: str
    models: int
    hidden: int
    n_blocks: int
    steps: int
    stacked_model_steps_per_s: float
    loop_model_steps_per_s: float
    # The bare-matmul limit (absent from records saved before it existed).
    limit_model_steps_per_s: float | None = None
    limit_flop_per_model_step: int | None = None
    rounds: int = 1
    precision: str = "fp32"  # lvae.train.PRECISIONS (records saved before it: fp32)
    # The stacked engine through torch.compile (bench --compile; None when not measured).
    compiled_model_steps_per_s: float | None = None

    @property
    def speedup(self) -> float:
        return self.stacked_model_steps_per_s / self.loop_model_steps_per_s

    @property
    def fraction_of_limit(self) -> float | None:
        if self.limit_model_steps_per_s is None:
            return None
        return self.stacked_model_steps_per_s / self.limit_model_steps_per_s

    @property
    def compiled_fraction_of_limit(self) -> float | None:
        """The compiled stacked engine's rate over the bare-matmul limit."""
        if self.compiled_model_steps_per_s is None or self.limit_model_steps_per_s is None:
            return None
        return self.compiled_model_steps_per_s / self.limit_model_steps_per_s

    @property
    def compile_gain(self) -> float | None:
        """The compiled stacked engine's rate over the uncompiled one's."""
        if self.compiled_model_steps_per_s is None:
            return None
        return self.compiled_model_steps_per_s / self.stacked_model_steps_per_s


def matmul_shapes(model: StackedVAE) -> list[tuple[int, int, int, bool]]:
    """(M, fan_in, fan_out, needs_input_grad) of every stacked linear layer of ``model``.

    The first layer of the encoder reads the data, which needs no gradient; every other
    layer's input does."""
    first = getattr(model.encoder, "inp", None)
    return [
        (*module.weight.shape, module is not first)
        for module in model.modules()
        if isinstance(module, StackedLinear)
    ]


def matmul_flop(shapes, batch: int) -> int:
    """FLOPs of one step's matrix products for all M models, counting 2 per multiply-add:
    forward y = x W, backward dW = x^T dy and (where needed) dx = dy W^T, each
    2 M B fan_in fan_out."""
    return sum(
        2 * m * batch * fan_in * fan_out * (3 if needs_input_grad else 2)
        for m, fan_in, fan_out, needs_input_grad in shapes
    )


def matmul_limit_step(
    shapes, batch: int, device, dtype: torch.dtype = torch.float32
) -> Callable[[], None]:
    """One step's matrix products at the engine's shapes, as bare ``torch.bmm`` calls in
    ``dtype`` (bfloat16 for a bf16 run, whose forward matmuls autocast runs in it)."""
    calls = []
    for m, fan_in, fan_out, needs_input_grad in shapes:
        x = torch.randn(m, batch, fan_in, device=device, dtype=dtype)
        w = torch.randn(m, fan_in, fan_out, device=device, dtype=dtype)
        dy = torch.randn(m, batch, fan_out, device=device, dtype=dtype)
        calls.append((x, w))  # forward: x W
        calls.append((x.transpose(1, 2), dy))  # weight gradient: x^T dy
        if needs_input_grad:
            calls.append((dy, w.transpose(1, 2)))  # input gradient: dy W^T

    def step():
        for a, b in calls:
            torch.bmm(a, b)

    return step


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _interleaved_rates(
    engines: dict[str, Callable[[], None]],
    models: int,
    steps: int,
    warmup: int,
    rounds: int,
    device: torch.device,
) -> dict[str, float]:
    """Median model-steps/s of each engine over ``rounds`` rounds, the engines taking turns
    within each round (so a busy spell of a shared machine hits them alike); each round
    times ``steps // rounds`` steps (at least one) of each, after ``warmup`` steps."""
    per_round = max(1, steps // rounds)
    for step in engines.values():
        for _ in range(warmup):
            step()
    rates: dict[str, list[float]] = {name: [] for name in engines}
    for _ in range(rounds):
        for name, step in engines.items():
            _sync(device)
            start = time.perf_counter()
            for _ in range(per_round):
                step()
            _sync(device)
            rates[name].append(models * per_round / (time.perf_counter() - start))
    return {name: statistics.median(values) for name, values in rates.items()}


def kernel_share(step: Callable[[], None], names=("conv",), calls: int = 3) -> float:
    """The share of the CPU time of ``calls`` calls of ``step`` spent in operators whose
    name contains one of ``names`` (their self time, by ``torch.profiler``)."""
    from torch.profiler import ProfilerActivity, profile

    with profile(activities=[ProfilerActivity.CPU]) as prof:
        for _ in range(calls):
            step()
    events = prof.key_averages()
    total = sum(e.self_cpu_time_total for e in events)
    inside = sum(e.self_cpu_time_total for e in events if any(n in e.key.lower() for n in names))
    if total <= 0:
        raise ValueError("the profiler recorded no CPU time: is step doing anything?")
    return inside / total


def _stacked_step(forward, batch, generator, optimiser, device) -> None:
    """One Adam step of a stack as ``train_stacked`` takes it: ``forward`` (a stack's
    ``elbo_terms``) under the run's autocast, the mean loss of each model in float32,
    summed."""
    with forward_autocast(device):
        terms = forward(batch, generator)
    loss = terms["loss"].float().mean(dim=1).sum()
    optimiser.zero_grad(set_to_none=True)
    loss.backward()
    optimiser.step()


def _check_counts(steps: int, warmup: int, rounds: int) -> None:
    if steps < 1 or warmup < 0 or rounds < 1:
        raise ValueError(
            f"steps must be >= 1, warmup >= 0 and rounds >= 1, got {steps}, {warmup}, {rounds}"
        )


def run_bench(
    *,
    device: str = "auto",
    profile: str = "book",
    models: int | None = None,
    steps: int = 100,
    warmup: int = 5,
    rounds: int = 1,
    precision: str | None = None,
    compile: bool = False,
) -> BenchResult:
    """Time ``steps`` training steps of ``models`` VAEs both ways (after ``warmup`` steps),
    and the bare matrix products of those steps; see ``_interleaved_rates`` for ``rounds``.
    Both engines run in ``precision`` as training does (``lvae.train.resolve_precision``:
    None is tf32 on CUDA, fp32 on the CPU). With ``compile``, the stacked engine is also
    timed through ``torch.compile`` (its warm-up steps compile it, so it needs at least
    two); the loop is not compiled (one compilation per model would dominate)."""
    _check_counts(steps, warmup, rounds)
    if compile and warmup < 2:
        raise ValueError(f"compile needs warmup >= 2 (the first steps compile), got {warmup}")
    dev = resolve_device(device)
    used = resolve_precision(precision, dev)
    cfg = config("table1", profile)
    n = models or len(cfg.seeds) * (len(cfg.fixed_sigmas) + 2)  # the Table 1 sweep
    if n < 1:
        raise ValueError(f"models must be >= 1, got {n}")
    gen = torch.Generator(device=dev).manual_seed(0)
    sigmas = torch.linspace(0.01, 1.0, n)

    specs = [
        ModelSpec(f"sigma={s:g}", "fixed", s, init_seed=i) for i, s in enumerate(sigmas.tolist())
    ]
    networks = mlp_networks(2, cfg.hidden, cfg.n_blocks)
    stacked = StackedVAE(specs, networks, cfg.latent_dim).to(dev)
    opt = adam(stacked.parameters(), cfg.lr)

    def stacked_step(forward=stacked.elbo_terms):
        _stacked_step(forward, sample_toy2d((n, cfg.batch_size), gen, device=dev), gen, opt, dev)

    plain = [PlainVAE(cfg.latent_dim, cfg.hidden, cfg.n_blocks, float(s)).to(dev) for s in sigmas]
    opts = [adam(m.parameters(), cfg.lr) for m in plain]

    def loop_step():
        for model, o in zip(plain, opts, strict=True):
            with forward_autocast(dev):
                loss = model.loss(sample_toy2d((cfg.batch_size,), gen, device=dev)).float()
            o.zero_grad(set_to_none=True)
            loss.backward()
            o.step()

    shapes = matmul_shapes(stacked)
    dtype = torch.bfloat16 if used == "bf16" else torch.float32
    engines = {
        "stacked": stacked_step,
        "loop": loop_step,
        "limit": matmul_limit_step(shapes, cfg.batch_size, dev, dtype),
    }
    if compile:  # the same model and optimiser: only the speed is measured
        compiled_terms = torch.compile(stacked.elbo_terms)
        engines["compiled"] = lambda: stacked_step(compiled_terms)
    with training_precision(used, dev):
        rates = _interleaved_rates(engines, n, steps, warmup, rounds, dev)
    return BenchResult(
        describe(dev),
        n,
        cfg.hidden,
        cfg.n_blocks,
        steps,
        rates["stacked"],
        rates["loop"],
        rates["limit"],
        matmul_flop(shapes, cfg.batch_size) // n,
        rounds,
        used,
        rates.get("compiled"),
    )


@dataclass
class ImageBenchResult:
    device: str
    dataset: str
    models: int
    strategy: str
    steps: int
    stacked_model_steps_per_s: float
    loop_model_steps_per_s: float
    rounds: int
    precision: str = "fp32"
    loop_conv_share: float | None = None  # CPU only: the loop's time in convolution kernels

    @property
    def speedup(self) -> float:
        return self.stacked_model_steps_per_s / self.loop_model_steps_per_s

    @property
    def speedup_limit(self) -> float | None:
        """The most an engine running the loop's convolution kernels can gain over it."""
        return None if self.loop_conv_share is None else 1 / self.loop_conv_share


def run_image_bench(
    *,
    device: str = "auto",
    profile: str = "book",
    models: int | None = None,
    steps: int = 6,
    warmup: int = 1,
    rounds: int = 3,
    strategy: str | None = None,
    precision: str | None = None,
) -> ImageBenchResult:
    """Model-steps/s of the convolutional VAEs of the MNIST experiment's ``profile``
    (28x28 images, per-pixel sigma), stacked against a loop of one-model VAEs with the same
    networks and Adam, on uniform random pixels; ``strategy`` forces how the stacked
    convolutions run (see ``lvae.conv.choose_strategy``); both run in ``precision``, as
    in ``run_bench``."""
    from . import conv

    _check_counts(steps, warmup, rounds)
    dev = resolve_device(device)
    used = resolve_precision(precision, dev)
    cfg = config("images-mnist", profile)
    n = models or len(cfg.settings) * len(cfg.seeds)  # the experiment's stack
    if n < 1:
        raise ValueError(f"models must be >= 1, got {n}")
    shape = (1, 28, 28)
    networks = conv.conv_networks(shape, cfg.width, cfg.n_convs, cfg.n_blocks)

    def vae(seeds):
        specs = [ModelSpec("LV", "vector", seed=s, init_seed=s) for s in seeds]
        return StackedVAE(specs, networks, cfg.latent_dim).to(dev)

    gen = torch.Generator(device=dev).manual_seed(0)
    x = torch.rand((n, cfg.batch_size, 784), generator=gen, device=dev)
    stacked = vae(list(range(n)))
    plain = [vae([seed]) for seed in range(n)]
    opt, opts = adam(stacked.parameters(), cfg.lr), [adam(m.parameters(), cfg.lr) for m in plain]

    def loop_step():
        for i, (model, o) in enumerate(zip(plain, opts, strict=True)):
            _stacked_step(model.elbo_terms, x[i : i + 1], gen, o, dev)

    with conv.strategy(strategy), training_precision(used, dev):
        chosen = conv.choose_strategy(dev)
        engines = {
            "stacked": lambda: _stacked_step(stacked.elbo_terms, x, gen, opt, dev),
            "loop": loop_step,
        }
        rates = _interleaved_rates(engines, n, steps, warmup, rounds, dev)
        # On a GPU the kernels run asynchronously, so CPU-side times say nothing of them.
        share = kernel_share(loop_step, calls=1) if dev.type == "cpu" else None
    return ImageBenchResult(
        describe(dev), "mnist", n, chosen, steps, rates["stacked"], rates["loop"], rounds, used,
        share,
    )  # fmt: skip


def hardware() -> dict:
    """The processor and core count (and the GPU, in ``device``) behind a measurement."""
    import os
    import platform

    cpu = platform.processor() or "unknown"
    try:
        for line in open("/proc/cpuinfo"):  # noqa: SIM115 - Linux only, best effort
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"cpu": cpu, "cpu_count": os.cpu_count(), "torch_threads": torch.get_num_threads()}


def save_bench(result: BenchResult, profile: str, wall_time_s: float, results_dir=None):
    """Store a measurement as ``results/bench/<device type>-<profile>.json`` (atomic)."""
    from dataclasses import asdict
    from pathlib import Path

    from . import store

    kind = "cuda" if result.device != "cpu" else "cpu"
    path = Path(results_dir or store.default_results_dir()) / "bench" / f"{kind}-{profile}.json"
    store.save_record(
        path,
        {
            "schema": store.SCHEMA,
            "experiment": "bench",
            "result": {
                **asdict(result),
                "speedup": result.speedup,
                "fraction_of_limit": result.fraction_of_limit,
                "compile_gain": result.compile_gain,
                "profile": profile,
            },
            "hardware": hardware(),
            "provenance": store.provenance(
                profile=profile,
                seeds=[],
                steps=result.steps,
                device=result.device,
                wall_time_s=wall_time_s,
                precision=result.precision,
            ),
        },
    )
    return path
