"""The throughput benchmark: its matmul limit counts the engine's FLOPs, and its records."""

import json
import re

import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode

from lvae import __main__ as cli
from lvae import bench
from lvae.bench import (
    BenchResult,
    matmul_flop,
    matmul_limit_step,
    matmul_shapes,
    run_bench,
    save_bench,
)
from lvae.estimate import bench_speeds
from lvae.nets import mlp_networks
from lvae.spec import ModelSpec
from lvae.vae import StackedVAE


def small_vae(models=3, hidden=5, n_blocks=2, latent=2):
    specs = [ModelSpec(f"model {i}", init_seed=i) for i in range(models)]
    return StackedVAE(specs, mlp_networks(2, hidden, n_blocks), latent)


def counted_flop(fn) -> int:
    counter = FlopCounterMode(display=False)
    with counter:
        fn()
    return counter.get_total_flops()


def test_limit_flop_equals_what_torch_counts_in_a_training_step():
    vae, batch = small_vae(), 7

    def step():
        x = torch.randn(3, batch, 2)
        vae.elbo_terms(x, torch.Generator().manual_seed(0))["loss"].mean(1).sum().backward()

    assert counted_flop(step) == matmul_flop(matmul_shapes(vae), batch)


def test_limit_flop_by_hand():
    # 3 models, hidden 5, one block, latent 2, data 2, batch 7: layers (in, out) of the
    # encoder (2,5) (5,5) (5,5) (5,4) and decoder (2,5) (5,5) (5,5) (5,4); the encoder's
    # first layer needs no input gradient: 2 products instead of 3.
    vae = small_vae(n_blocks=1)
    macs = 2 * 10 + 3 * (25 + 25 + 20) + 3 * (10 + 25 + 25 + 20)
    assert matmul_flop(matmul_shapes(vae), 7) == 2 * 3 * 7 * macs


def test_the_timed_limit_runs_the_counted_products():
    shapes = matmul_shapes(small_vae())
    assert counted_flop(matmul_limit_step(shapes, 7, "cpu")) == matmul_flop(shapes, 7)


def test_bench_reports_the_fraction_of_the_limit_and_saves_it(tmp_path):
    result = run_bench(device="cpu", profile="smoke", models=3, steps=2, warmup=0, rounds=2)
    assert result.limit_model_steps_per_s > 0 and result.limit_flop_per_model_step > 0
    assert result.fraction_of_limit == pytest.approx(
        result.stacked_model_steps_per_s / result.limit_model_steps_per_s
    )
    path = save_bench(result, "smoke", 1.0, tmp_path)
    saved = json.loads(path.read_text())["result"]
    assert saved["fraction_of_limit"] == pytest.approx(result.fraction_of_limit)
    assert saved["rounds"] == 2
    assert bench_speeds(path.parent, "cpu") == {
        (result.hidden, result.n_blocks): result.stacked_model_steps_per_s
    }
    with pytest.raises(ValueError, match="rounds must be >= 1|rounds >= 1"):
        run_bench(device="cpu", profile="smoke", rounds=0)


def test_records_saved_before_the_limit_still_read():
    old = {  # the fields of a record written before the limit existed
        "device": "cpu",
        "models": 80,
        "hidden": 200,
        "n_blocks": 4,
        "steps": 30,
        "stacked_model_steps_per_s": 300.0,
        "loop_model_steps_per_s": 150.0,
    }
    result = BenchResult(**old)
    assert result.speedup == 2.0 and result.fraction_of_limit is None


# ------------------------------------------------------------------- the image limit
def test_kernel_share_counts_the_named_operators_only():
    x, w = torch.randn(8, 4, 28, 28), torch.randn(8, 4, 3, 3)
    a = torch.randn(64, 64)
    conv_only = bench.kernel_share(lambda: torch.nn.functional.conv2d(x, w))
    matmul_only = bench.kernel_share(lambda: a @ a)
    assert conv_only > 0.5 and matmul_only == 0.0
    with pytest.raises(ValueError, match="no CPU time"):
        bench.kernel_share(lambda: None)


def test_image_bench_prints_the_convolution_limit_on_the_cpu(capsys):
    argv = ["bench", "--images", "--profile", "smoke", "--device", "cpu"]
    assert cli.main([*argv, "--models", "2", "--steps", "1", "--rounds", "1"]) == 0
    lines = capsys.readouterr().out.splitlines()
    (limit,) = [line for line in lines if line.startswith("limit:")]
    found = re.search(r"spends (\d+)% .* at most (\d+\.\d\d)x the loop", limit)
    percent, most = int(found[1]), float(found[2])
    assert 0 < percent <= 100
    assert most * percent / 100 == pytest.approx(1, abs=0.5 / percent + 0.01)  # 1 / share
    assert lines[-1].startswith("speedup: ")
