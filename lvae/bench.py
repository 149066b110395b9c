"""Throughput of the stacked (vectorised) engine against a plain one-model-at-a-time loop.

Both train the same VAEs (same residual MLPs, fixed-sigma Gaussian observation model,
Adam, fresh toy-2D batches) on the same device, in the same run; the figure of merit is
model-steps per second. The stacked engine applies every layer of all M models with one
batched matrix product; the loop applies M ordinary ``nn.Linear`` networks in turn, each
with its own optimiser.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import torch
from torch import nn

from .data import sample_toy2d
from .devices import describe, resolve_device
from .experiments import config
from .nets import mlp_networks
from .observation import gaussian_log_likelihood, kl_to_standard_normal
from .spec import ModelSpec
from .train import adam
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

    @property
    def speedup(self) -> float:
        return self.stacked_model_steps_per_s / self.loop_model_steps_per_s


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def run_bench(
    *,
    device: str = "auto",
    profile: str = "book",
    models: int | None = None,
    steps: int = 100,
    warmup: int = 5,
) -> BenchResult:
    """Time ``steps`` training steps of ``models`` VAEs both ways (after ``warmup`` steps)."""
    if steps < 1 or warmup < 0:
        raise ValueError(f"steps must be >= 1 and warmup >= 0, got {steps}, {warmup}")
    dev = resolve_device(device)
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

    def stacked_step():
        loss = (
            stacked.elbo_terms(sample_toy2d((n, cfg.batch_size), gen, device=dev), gen)["loss"]
            .mean(dim=1)
            .sum()
        )
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    plain = [PlainVAE(cfg.latent_dim, cfg.hidden, cfg.n_blocks, float(s)).to(dev) for s in sigmas]
    opts = [adam(m.parameters(), cfg.lr) for m in plain]

    def loop_step():
        for model, o in zip(plain, opts, strict=True):
            loss = model.loss(sample_toy2d((cfg.batch_size,), gen, device=dev))
            o.zero_grad(set_to_none=True)
            loss.backward()
            o.step()

    rates = []
    for step in (stacked_step, loop_step):
        for _ in range(warmup):
            step()
        _sync(dev)
        start = time.perf_counter()
        for _ in range(steps):
            step()
        _sync(dev)
        rates.append(n * steps / (time.perf_counter() - start))
    return BenchResult(describe(dev), n, cfg.hidden, cfg.n_blocks, steps, rates[0], rates[1])


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
            "result": {**asdict(result), "speedup": result.speedup, "profile": profile},
            "hardware": hardware(),
            "provenance": store.provenance(
                profile=profile,
                seeds=[],
                steps=result.steps,
                device=result.device,
                wall_time_s=wall_time_s,
            ),
        },
    )
    return path
