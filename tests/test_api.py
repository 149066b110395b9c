"""The public API (lvae.fit, lvae.load, the fitted stack), `python -m lvae fit`, the book page."""

import csv
import math
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from torch.distributions import Normal, kl_divergence

import lvae
from lvae import api
from lvae.__main__ import build_parser, main

ROOT = Path(__file__).resolve().parents[1]
TINY = {"hidden": 8, "n_blocks": 1, "steps": 30, "log_every": 10}  # seconds, not a good fit


def circle(n: int = 200, seed: int = 0) -> np.ndarray:
    """Noisy points on the unit circle, (n, 2) float32."""
    rng = np.random.default_rng(seed)
    angle = rng.uniform(0, 2 * np.pi, n)
    points = np.stack([np.cos(angle), np.sin(angle)], axis=1)
    return (points + 0.05 * rng.normal(size=(n, 2))).astype(np.float32)


def grey_images(n: int = 24, levels: int = 17, seed: int = 0) -> np.ndarray:
    """(n, 1, 8, 8) images with ``levels`` grey levels j / (levels - 1)."""
    rng = np.random.default_rng(seed)
    return (rng.integers(0, levels, (n, 1, 8, 8)) / (levels - 1)).astype(np.float32)


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """These models are tiny: a second thread only waits on the first (on a shared machine, a
    30-step fit took 5 s on two threads and 0.05 s on one)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def vectors():
    x = circle()
    return x, api.fit(x, "per-dimension", latent_dim=1, seeds=3, device="cpu", **TINY)


@pytest.fixture(scope="module")
def images():
    x = grey_images()
    fitted = api.fit(
        x, "scalar", latent_dim=4, seeds=2, hidden=4, n_blocks=1, steps=10, device="cpu"
    )
    return x, fitted


# --------------------------------------------------------------------------- import cost


def test_import_lvae_and_its_fit_command_do_not_import_torch():
    code = (
        "import sys, lvae, lvae.cli_fit; "
        "assert 'torch' not in sys.modules, 'torch was imported'; "
        "print(lvae.fit.__doc__.splitlines()[0])"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True
    )
    # The torch-free wrappers describe the same function as lvae.api's.
    assert out.stdout.strip() == api.fit.__doc__.splitlines()[0]
    assert lvae.load.__doc__.splitlines()[0] == api.load.__doc__.splitlines()[0]


def test_wrappers_return_what_the_api_returns(tmp_path, vectors):
    x, fitted = vectors
    fitted.save(tmp_path / "m")
    loaded = lvae.load(tmp_path / "m", device="cpu")
    assert isinstance(loaded, api.FittedVAE)
    again = lvae.fit(x, "per-dimension", latent_dim=1, seeds=3, device="cpu", **TINY)
    torch.testing.assert_close(again.elbo(x), fitted.elbo(x), rtol=0, atol=0)


# --------------------------------------------------------------------------- fit and save


def test_fit_is_reproducible_from_its_seeds(vectors):
    x, fitted = vectors
    again = api.fit(x, "per-dimension", latent_dim=1, seeds=3, device="cpu", **TINY)
    first, second = fitted.vae.state_dict(), again.vae.state_dict()
    assert all(torch.equal(first[k], second[k]) for k in first)
    assert fitted.history == again.history
    # The seeds do set the weights: another seed list gives other weights.
    other = api.fit(x, "per-dimension", latent_dim=1, seeds=[5, 6, 7], device="cpu", **TINY)
    w = "encoder.inp.weight"
    assert not torch.equal(other.vae.state_dict()[w], first[w])
    # Models of one stack start from different weights (one generator per seed).
    assert not torch.equal(first[w][0], first[w][1])


def test_history_and_live_logs_agree(tmp_path, vectors):
    x, _ = vectors
    logged = []
    fitted = api.fit(
        x,
        "scalar",
        latent_dim=1,
        seeds=2,
        device="cpu",
        log_csv=tmp_path / "log.csv",
        on_log=lambda step, values: logged.append((step, values)),
        **TINY,
    )
    steps = [10, 20, 30]
    assert fitted.history["step"] == steps == [s for s, _ in logged]
    for j, (_, values) in enumerate(logged):
        for term in ("log_likelihood", "kl", "elbo", "sigma"):
            assert values[term] == fitted.history[term][j]
    rows = list(csv.DictReader(open(tmp_path / "log.csv")))
    assert [(int(r["step"]), int(r["seed"])) for r in rows] == [
        (s, m) for s in steps for m in (0, 1)
    ]
    for r in rows:
        j, i = steps.index(int(r["step"])), int(r["seed"])
        assert float(r["elbo"]) == pytest.approx(fitted.history["elbo"][j][i], rel=1e-12)
        # each logged ELBO is its log-likelihood minus its KL
        assert float(r["elbo"]) == pytest.approx(
            float(r["log_likelihood"]) - float(r["kl"]), abs=1e-5
        )


def test_tensorboard_is_written_when_installed(tmp_path, vectors):
    pytest.importorskip("tensorboard", reason="the optional tensorboard package is not installed")
    x, _ = vectors
    api.fit(x, latent_dim=1, seeds=2, device="cpu", tensorboard=tmp_path / "tb", **TINY)
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = EventAccumulator(str(tmp_path / "tb"))
    events.Reload()
    assert "elbo/seed_1" in events.Tags()["scalars"]
    assert [e.step for e in events.Scalars("elbo/seed_1")] == [10, 20, 30]


def test_tensorboard_is_skipped_with_a_warning_when_not_installed(monkeypatch, tmp_path, vectors):
    x, _ = vectors
    monkeypatch.setattr(api, "tensorboard_available", lambda: False)
    with pytest.warns(UserWarning, match="tensorboard package is not installed"):
        fitted = api.fit(x, latent_dim=1, device="cpu", tensorboard=tmp_path / "tb", **TINY)
    assert fitted.history["step"] == [10, 20, 30]
    assert not (tmp_path / "tb").exists()


def test_save_load_round_trip(tmp_path, vectors, images):
    for name, (x, fitted) in {"vectors": vectors, "images": images}.items():
        folder = fitted.save(tmp_path / name)
        assert sorted(p.name for p in folder.iterdir()) == [
            "config.json",
            "history.json",
            "weights.pt",
        ]
        # The weights are tensors only: they load with weights_only=True.
        state = torch.load(folder / "weights.pt", weights_only=True)
        assert all(isinstance(v, torch.Tensor) for v in state.values())
        loaded = api.load(folder, device="cpu")
        assert loaded.config == fitted.config and loaded.history == fitted.history
        assert torch.equal(loaded.elbo(x), fitted.elbo(x))
        assert torch.equal(loaded.sample(3, seed=4), fitted.sample(3, seed=4))


# --------------------------------------------------------------------------- one model


@pytest.mark.parametrize("data", ["vectors", "images"])
def test_one_model_taken_out_computes_the_same_elbo_as_its_row(data, request):
    x, fitted = request.getfixturevalue(data)
    for i in range(len(fitted)):
        one = fitted[i]
        assert isinstance(one, torch.nn.Module) and one.config.seeds == (fitted.seeds[i],)
        n_stack = sum(p.numel() for p in fitted.vae.parameters())
        assert sum(p.numel() for p in one.parameters()) * len(fitted) == n_stack
        torch.testing.assert_close(one.elbo(x), fitted.elbo(x)[i], rtol=1e-5, atol=1e-5)
        torch.testing.assert_close(one.sample(4), fitted.sample(4)[i], rtol=1e-5, atol=1e-5)
    assert torch.equal(fitted.model(-1).elbo(x), fitted[len(fitted) - 1].elbo(x))
    # forward is the ELBO with gradients (a module to train further or compose).
    one = fitted[0]
    loss = -one(x[:5], seed=0).mean()
    loss.backward()
    assert all(p.grad is not None for p in one.parameters() if p.requires_grad)
    torch.testing.assert_close(one(x[:5], seed=0).detach(), one.elbo(x[:5]))
    # A copy: changing it leaves the stack alone.
    with torch.no_grad():
        next(one.parameters()).add_(1.0)
    torch.testing.assert_close(fitted[0].elbo(x), fitted.elbo(x)[0], rtol=1e-5, atol=1e-5)


def test_iterating_over_the_stack_gives_every_model(vectors):
    _, fitted = vectors
    assert [m.config.seeds[0] for m in fitted] == [0, 1, 2]
    with pytest.raises(IndexError, match=r"i must be an index in 0..2 .* got 3"):
        fitted[3]


# --------------------------------------------------------------------------- the numbers


def _by_hand(state: dict, prefix: str, x: torch.Tensor) -> torch.Tensor:
    """A residual MLP with no residual block, from its weights: out(silu(inp(x)))."""
    w_in, b_in = state[f"{prefix}.inp.weight"][0], state[f"{prefix}.inp.bias"][0]
    w_out, b_out = state[f"{prefix}.out.weight"][0], state[f"{prefix}.out.bias"][0]
    h = x @ w_in + b_in
    return (h * torch.sigmoid(h)) @ w_out + b_out


@pytest.mark.parametrize("observation", ["per-dimension", "scalar", "fixed"])
def test_elbo_matches_a_monte_carlo_average_computed_by_hand(observation):
    x_np = circle(40, seed=1)
    sigma = 0.3 if observation == "fixed" else None
    fitted = api.fit(
        x_np, observation, sigma=sigma, latent_dim=2, hidden=8, n_blocks=0, steps=40, device="cpu"
    )
    x = torch.from_numpy(x_np)
    state = {k.removeprefix("vae."): v for k, v in fitted[0].state_dict().items()}
    mu, logvar = _by_hand(state, "encoder", x).chunk(2, dim=-1)
    q = Normal(mu, torch.exp(0.5 * logvar))
    kl = kl_divergence(q, Normal(torch.zeros_like(mu), torch.ones_like(mu))).sum(-1)
    # The documented noise: draw s is randn((N, latent)) from a generator seeded with seed.
    gen = torch.Generator().manual_seed(0)
    z = torch.stack([q.loc + q.scale * torch.randn(mu.shape, generator=gen) for _ in range(64)])
    mean, raw = _by_hand(state, "decoder", z).chunk(2, dim=-1)
    if observation == "per-dimension":
        log_sigma = raw.clamp(-10.0, 10.0)  # the decoder's documented guard
    else:
        log_sigma = state["observation.scalar_log_sigma"].expand_as(mean)
    log_lik = Normal(mean, log_sigma.exp()).log_prob(x).sum(-1)  # (draws, N)
    torch.testing.assert_close(fitted.elbo(x_np, samples=64)[0], log_lik.mean(0) - kl)
    torch.testing.assert_close(fitted.elbo(x_np)[0], log_lik[0] - kl)  # one draw
    if observation == "fixed":  # a fixed sigma stays what was asked
        assert fitted.scalar_sigma.tolist() == pytest.approx([0.3], rel=1e-6)
    if observation == "scalar":  # a learned one moves from its start at 1
        assert abs(float(fitted.scalar_sigma[0]) - 1.0) > 1e-3


def test_iw_bound_is_the_elbo_at_k1_and_rises_with_k(vectors):
    x, fitted = vectors
    x = x[:30]
    # k = 1: log p(x, z) - log q(z|x) with one z ~ q, whose mean is the ELBO.
    iw1 = torch.stack([fitted.iw_bound(x, 1, seed=s) for s in range(200)])  # (R, M, N)
    elbo = fitted.elbo(x, samples=2000, seed=999)
    stderr = iw1.std(0) / math.sqrt(iw1.shape[0])
    assert torch.all((iw1.mean(0) - elbo).abs() < 5 * stderr + 1e-3)
    # On average over examples and draws, the bound rises with k.
    means = [
        torch.stack([fitted.iw_bound(x, k, seed=s) for s in range(5)]).mean().item()
        for k in (1, 10, 100)
    ]
    assert means[0] < means[1] < means[2]


def test_bits_per_dim_of_discrete_images(images):
    x, fitted = images
    bits = fitted.bits_per_dim(x, levels=17)
    assert bits.shape == (2, len(x)) and bool(torch.all(torch.isfinite(bits)))
    # The IW bound is tighter, so fewer bits on average (a bound from above on -log2 P).
    tighter = fitted.bits_per_dim(x, levels=17, k=50)
    assert tighter.mean() < bits.mean()
    # The ELBO at k = 1 is the ELBO of the dequantised images: bits = -(L - D log 17)/(D log 2).
    from lvae.likelihood import dequantize

    x_deq = dequantize(torch.from_numpy(x), torch.Generator().manual_seed(3), 17)
    elbo = fitted.elbo(x_deq, seed=4)
    torch.testing.assert_close(
        fitted.bits_per_dim(x, levels=17, seed=3), -(elbo - 64 * math.log(17)) / (64 * math.log(2))
    )


def test_sample_and_reconstruct_shapes(vectors, images):
    x, fitted = vectors
    assert fitted.sample(7).shape == (3, 7, 2)
    assert fitted.reconstruct(x[:5]).shape == (3, 5, 2)
    assert fitted[1].sample(7).shape == (7, 2) and fitted[1].reconstruct(x[:5]).shape == (5, 2)
    mean, std = fitted.encode(x[:5])
    assert mean.shape == std.shape == (3, 5, 1) and bool(torch.all(std > 0))
    assert fitted.scalar_sigma is None  # per-dimension: sigma depends on z
    x, fitted = images
    assert fitted.sample(3).shape == (2, 3, 1, 8, 8)
    means = fitted.sample(3, mean=True)  # the conv decoder's mean is a sigmoid
    assert bool(torch.all((means >= 0) & (means <= 1)))
    assert fitted.reconstruct(x[:4]).shape == (2, 4, 1, 8, 8)
    # samples are the means plus sigma-scaled noise: other values, same seed, same means
    assert not torch.equal(fitted.sample(3), means)


def test_images_train_with_the_conv_networks(images):
    _, fitted = images
    from lvae.conv import ConvDecoder, ConvEncoder

    assert isinstance(fitted.vae.encoder, ConvEncoder)
    assert isinstance(fitted.vae.decoder, ConvDecoder)


# --------------------------------------------------------------------------- bad input


@pytest.fixture
def no_training(monkeypatch):
    """Fails the test if training starts: errors must come before any compute."""

    def refuse(*args, **kwargs):
        raise AssertionError("training started before the input was checked")

    monkeypatch.setattr(api, "train_stacked", refuse)


def _fit_error_cases(tmp_path):
    good = circle(20)
    bad_nan, bad_inf = good.copy(), good.copy()
    bad_nan[3, 1], bad_inf[0, 0] = np.nan, np.inf
    np.savetxt(tmp_path / "data.txt", good)
    return [
        ((good[:, 0],), {}, ValueError, r"x must be \(N, D\) vectors .* got shape \(20,\)"),
        ((good.reshape(20, 2, 1),), {}, ValueError, r"x must be .* got shape \(20, 2, 1\)"),
        ((bad_nan,), {}, ValueError, r"x holds 1 NaN or infinite values .*\(3, 1\)"),
        ((bad_inf,), {}, ValueError, r"x holds 1 NaN or infinite"),
        ((grey_images() * 255,), {}, ValueError, r"x: images must have values in \[0, 1\]"),
        ((grey_images()[:, :, :6, :6],), {}, ValueError, r"multiples of 4"),
        ((str(tmp_path / "missing.npy"),), {}, FileNotFoundError, r"x: no such file"),
        ((tmp_path / "data.txt",), {}, ValueError, r"x: a file must be a numpy \.npy"),
        ((np.array([["a", "b"]]),), {}, ValueError, r"x must hold real numbers"),
        (([[1.0, 2.0]],), {}, ValueError, r"x must be a torch tensor, a numpy array or"),
        ((good, "vector"), {}, ValueError, r"observation must be one of \('per-dimension'"),
        ((good, "fixed"), {}, ValueError, r"sigma is required with observation='fixed'"),
        ((good, "fixed"), {"sigma": 0.0}, ValueError, r"sigma must be a finite number > 0"),
        ((good, "scalar"), {"sigma": -1.0}, ValueError, r"sigma must be a finite number > 0"),
        ((good, "fixed"), {"sigma": math.inf}, ValueError, r"sigma must be a finite number"),
        ((good,), {"sigma": 0.1}, ValueError, r"sigma is not used with .*'per-dimension'"),
        ((good, "scalar"), {"sigma_floor": 0.1}, ValueError, r"sigma_floor applies to"),
        ((good,), {"steps": 0}, ValueError, r"steps must be an integer >= 1, got 0"),
        ((good,), {"steps": 2.5}, ValueError, r"steps must be an integer >= 1, got 2.5"),
        ((good,), {"seeds": 0}, ValueError, r"seeds must be an integer >= 1, got 0"),
        ((good,), {"seeds": [1, 1]}, ValueError, r"seeds must be distinct"),
        ((good,), {"latent_dim": 0}, ValueError, r"latent_dim must be an integer >= 1"),
        ((good,), {"batch_size": 0}, ValueError, r"batch_size must be an integer >= 1"),
        ((good,), {"lr": 0.0}, ValueError, r"lr must be a finite number > 0, got 0.0"),
        ((good,), {"n_blocks": -1}, ValueError, r"n_blocks must be an integer >= 0"),
        ((good,), {"device": "gpu"}, ValueError, r"device must be one of"),
    ]


def test_fit_refuses_bad_input_before_training(tmp_path, no_training):
    for args, kwargs, error, message in _fit_error_cases(tmp_path):
        with pytest.raises(error, match=message):
            api.fit(*args, **kwargs)


def test_methods_refuse_bad_input(tmp_path, vectors, images):
    x, fitted = vectors
    with pytest.raises(ValueError, match=r"x must be \(N, 2\) like the training data"):
        fitted.elbo(np.zeros((4, 3), np.float32))
    with pytest.raises(ValueError, match=r"samples must be an integer >= 1"):
        fitted.elbo(x, samples=0)
    with pytest.raises(ValueError, match=r"k must be an integer >= 1, got 0"):
        fitted.iw_bound(x, 0)
    with pytest.raises(ValueError, match=r"n must be an integer >= 1"):
        fitted.sample(0)
    with pytest.raises(ValueError, match=r"bits_per_dim needs values in \[0, 1\]"):
        fitted.bits_per_dim(x)  # the circle has negative coordinates
    images_x, fitted_images = images
    with pytest.raises(ValueError, match=r"grid of levels=256 values"):
        fitted_images.bits_per_dim(images_x)  # 17-level data, 256 levels claimed
    with pytest.raises(ValueError, match=r"levels must be an integer >= 2"):
        fitted_images.bits_per_dim(images_x, levels=1)
    with pytest.raises(FileNotFoundError, match=r"holds no config.json"):
        api.load(tmp_path)
    (tmp_path / "config.json").write_text('{"format": "other"}')
    (tmp_path / "weights.pt").write_bytes(b"")
    with pytest.raises(ValueError, match=r"is not a saved lvae model"):
        api.load(tmp_path)


# --------------------------------------------------------------------------- the shell


def test_cli_fit_end_to_end(tmp_path):
    np.save(tmp_path / "points.npy", circle(100))
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "lvae",
            "fit",
            str(tmp_path / "points.npy"),
            "--observation",
            "per-dimension",
            "--latent-dim",
            "1",
            "--steps",
            "20",
            "--seeds",
            "2",
            "--hidden",
            "8",
            "--device",
            "cpu",
            "--out",
            str(tmp_path / "model"),
            "--log-csv",
            str(tmp_path / "log.csv"),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
    )
    assert out.returncode == 0, out.stderr
    assert f"saved to {tmp_path / 'model'}" in out.stdout
    printed = [float(v) for v in re.findall(r"seed \d: (-?\d+\.\d+)", out.stdout)]
    loaded = api.load(tmp_path / "model", device="cpu")
    assert loaded.config.steps == 20 and loaded.seeds == (0, 1)
    expected = loaded.elbo(tmp_path / "points.npy").mean(dim=1).tolist()
    assert printed == pytest.approx(expected, abs=1e-4)
    rows = list(csv.DictReader(open(tmp_path / "log.csv")))
    assert len(rows) == 20 * 2  # steps // 100 rounds up to logging every step


def test_cli_fit_errors_name_the_argument(tmp_path, capsys, no_training):
    np.save(tmp_path / "points.npy", circle(20))
    cases = [
        (["fit", str(tmp_path / "nope.npy"), "--out", str(tmp_path / "m")], "x: no such file"),
        (
            ["fit", str(tmp_path / "points.npy"), "--observation", "fixed", "--out", "m"],
            "sigma is required",
        ),
        (
            ["fit", str(tmp_path / "points.npy"), "--lr", "-1", "--out", str(tmp_path / "m")],
            "lr must be a finite number > 0",
        ),
        (
            ["fit", str(tmp_path / "points.npy"), "--out", str(tmp_path / "points.npy")],
            "--out",
        ),
    ]
    for argv, message in cases:
        assert main(argv) == 2
        assert message in capsys.readouterr().err
    for argv in (["fit", "x.npy", "--out", "m", "--steps", "0"], ["fit", "x.npy", "--seeds", "2"]):
        with pytest.raises(SystemExit) as exit_info:  # argparse: usage error, code 2
            main(argv)
        assert exit_info.value.code == 2
    assert "must be a positive integer, got 0" in capsys.readouterr().err


def test_cli_help_quotes_the_api_defaults():
    import argparse
    import inspect

    from lvae.cli_fit import add_fit_parser

    defaults = {k: p.default for k, p in inspect.signature(api.fit).parameters.items()}
    fit_parser = add_fit_parser(argparse.ArgumentParser().add_subparsers())
    text = " ".join(fit_parser.format_help().split())
    assert f"(default {defaults['steps']})" in text
    assert f"(default {defaults['batch_size']})" in text and f"(default {defaults['lr']})" in text
    assert f"0..N-1 (default {defaults['seeds']})" in text


# --------------------------------------------------------------------------- the book page


def _blocks(language: str) -> list[str]:
    page = (ROOT / "book" / "library.md").read_text()
    return re.findall(rf"^```{language}\n(.*?)^```", page, flags=re.S | re.M)


def test_book_page_example_runs_as_written(tmp_path, monkeypatch, capsys):
    blocks = _blocks("python")
    assert blocks, "book/library.md has no python example"
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("LVAE_EXAMPLE_STEPS", "50")  # the page says the tests shorten it so
    namespace: dict = {}
    for code in blocks:
        exec(compile(code, "book/library.md", "exec"), namespace)
    assert (tmp_path / "circle_vae" / "weights.pt").is_file()
    assert capsys.readouterr().out.strip()


def test_book_page_shell_commands_parse():
    commands = [
        line.strip()
        for block in _blocks("bash")
        for line in block.splitlines()
        if "-m lvae fit" in line
    ]
    assert commands, "book/library.md shows no `python -m lvae fit` command"
    for command in commands:
        argv = shlex.split(command)
        args = build_parser().parse_args(argv[argv.index("lvae") + 1 :])
        assert args.command == "fit" and os.fspath(args.data).endswith(".npy")


def test_save_refuses_to_replace_a_model_unless_told(tmp_path):
    x = torch.randn(64, 2)
    small = lvae.fit(x, "scalar", steps=5, seeds=1, hidden=8, n_blocks=1, latent_dim=1)
    other = lvae.fit(x, "scalar", steps=7, seeds=1, hidden=8, n_blocks=1, latent_dim=1)
    small.save(tmp_path / "m")
    before = {p.name: p.read_bytes() for p in (tmp_path / "m").iterdir()}
    with pytest.raises(ValueError, match="already holds a saved model.*overwrite=True"):
        other.save(tmp_path / "m")
    assert {p.name: p.read_bytes() for p in (tmp_path / "m").iterdir()} == before
    other.save(tmp_path / "m", overwrite=True)
    assert lvae.load(tmp_path / "m").config.steps == 7
    assert not list(tmp_path.rglob("*.tmp"))


def test_fit_out_refuses_an_existing_model_unless_forced(tmp_path, capsys):
    data = tmp_path / "x.npy"
    np.save(data, circle(64))
    command = ["fit", str(data), "--out", str(tmp_path / "m"), "--steps", "5", "--hidden", "8"]
    assert main(command) == 0
    before = (tmp_path / "m" / "weights.pt").read_bytes()
    assert main([*command[:-4], "--steps", "6", "--hidden", "8"]) == 2
    assert "already holds a saved model; --force replaces it" in capsys.readouterr().err
    assert (tmp_path / "m" / "weights.pt").read_bytes() == before
    assert main([*command, "--force"]) == 0
