"""The 2-D engine: observation kinds, resume after interruption, the toy data, records."""

import math

import numpy as np
import pytest
import torch

from lvae import experiments
from lvae.bench import run_bench
from lvae.data import TOY2D_NOISE, sample_toy2d, toy2d_curve
from lvae.nets import mlp_networks
from lvae.observation import LOG_SIGMA_MAX, LOG_SIGMA_MIN
from lvae.spec import ModelSpec
from lvae.train import train_stacked
from lvae.vae import StackedVAE


def make_vae(kinds, sigma=None, kl_weight=None, seeds=None, floor=None):
    n = len(kinds)
    sigma = [1.0] * n if sigma is None else sigma
    kl_weight = [1.0] * n if kl_weight is None else kl_weight
    floor = [0.0] * n if floor is None else floor
    seeds = list(range(n)) if seeds is None else seeds
    specs = [
        ModelSpec(k, k, s, seed=i, init_seed=seeds[i], kl_weight=w, sigma_floor=f)
        for i, (k, s, w, f) in enumerate(zip(kinds, sigma, kl_weight, floor, strict=True))
    ]
    return StackedVAE(specs, mlp_networks(2, 16, 1), latent_dim=2)


def test_only_learned_scalar_sigma_moves():
    vae = make_vae(["fixed", "scalar", "vector"], [0.3, 1.0, 1.0])
    gen = torch.Generator().manual_seed(0)
    train_stacked(
        vae,
        lambda: sample_toy2d((3, 64), gen),
        steps=50,
        lr=1e-2,
        log_every=10,
        generator=gen,
    )
    final = vae.observation.scalar_log_sigma.exp()
    assert final[0].item() == pytest.approx(0.3)  # fixed: untouched
    assert final[1].item() < 0.9  # learned: has moved down from 1
    assert final[2].item() == pytest.approx(1.0)  # unused by the vector model


def test_vector_sigma_comes_from_the_decoder():
    vae = make_vae(["vector", "fixed"], [1.0, 0.5])
    z = torch.randn(2, 7, 2)
    mean, log_sigma = vae.decode(z)
    raw = vae.decoder(z).chunk(2, dim=-1)[1]
    torch.testing.assert_close(log_sigma[0], raw[0])
    torch.testing.assert_close(log_sigma[1], torch.full_like(raw[1], math.log(0.5)))


def test_per_dimension_sigma_stays_finite_on_constant_data():
    """A decoder that asks for sigma -> 0 is held at exp(LOG_SIGMA_MIN): finite terms."""

    class Overconfident(torch.nn.Module):
        def forward(self, z):  # mean 0, log sigma -1000, for 2-D data
            return torch.cat(
                [torch.zeros(*z.shape[:2], 2), torch.full((*z.shape[:2], 2), -1e3)], -1
            )

    vae = make_vae(["vector"], [1.0])
    vae.decoder = Overconfident()
    _, log_sigma = vae.decode(torch.zeros(1, 5, 2))
    assert torch.all(log_sigma == LOG_SIGMA_MIN)
    terms = vae.elbo_terms(torch.full((1, 5, 2), 0.01), torch.Generator().manual_seed(0))
    assert all(bool(torch.isfinite(v).all()) for v in terms.values())
    Overconfident.forward = lambda self, z: torch.full((*z.shape[:2], 4), 1e3)  # the other way
    _, log_sigma = vae.decode(torch.zeros(1, 5, 2))
    assert torch.all(log_sigma == LOG_SIGMA_MAX)
    terms = vae.elbo_terms(torch.full((1, 5, 2), 0.01), torch.Generator().manual_seed(0))
    assert all(bool(torch.isfinite(v).all()) for v in terms.values())


def test_kl_weight_equals_rescaled_sigma_up_to_a_constant():
    """Section 3.2: loss(sigma, lambda) = lambda * loss(sigma sqrt(lambda), 1) + const."""
    lam, sigma = 4.0, 0.1
    a = make_vae(["fixed"], [sigma], [lam], seeds=[3])
    b = make_vae(["fixed"], [sigma * math.sqrt(lam)], seeds=[3])
    constants = []
    for k in range(3):
        x = sample_toy2d((1, 32), torch.Generator().manual_seed(k))
        la = a.elbo_terms(x, torch.Generator().manual_seed(9))["loss"]
        lb = b.elbo_terms(x, torch.Generator().manual_seed(9))["loss"]
        constants.append(la - lam * lb)
    # The difference depends on no parameter and no data point: the same everywhere, and
    # equal to the log-sigma and Gaussian constants of the two losses (D = 2).
    const = torch.cat(constants, dim=1)
    torch.testing.assert_close(const, torch.full_like(const, const[0, 0].item()), rtol=0, atol=1e-3)
    expected = 2 * math.log(sigma) - lam * 2 * math.log(sigma * math.sqrt(lam))
    expected += (1 - lam) * math.log(2 * math.pi)  # the Gaussian constants, D = 2
    assert const[0, 0].item() == pytest.approx(expected, abs=1e-3)


def test_toy2d_data_follows_its_design():
    n = 200_000
    x = sample_toy2d((n,), torch.Generator().manual_seed(0))
    # Replay the same draws: a position uniform on [-1, 1], then isotropic noise.
    replay = torch.Generator().manual_seed(0)
    u = torch.rand(n, generator=replay) * 2 - 1
    clean = torch.stack([u, toy2d_curve(u)], dim=-1)
    noise = x - clean
    assert u.min() >= -1 and u.max() <= 1
    for (lo, hi), std in zip(((-1, -1 / 3), (-1 / 3, 1 / 3), (1 / 3, 1)), TOY2D_NOISE, strict=True):
        band = (u > lo) & (u < hi)
        for axis in (0, 1):  # isotropic: the same std along both axes
            assert noise[band, axis].std().item() == pytest.approx(std, rel=0.02)
        assert noise[band].mean(0).abs().max().item() < 5 * std / band.sum().sqrt().item()
    # The curve is the designed one.
    torch.testing.assert_close(
        toy2d_curve(torch.tensor([0.0, 0.125, 1.0])),
        torch.tensor([0.5, 0.5 * math.cos(math.pi / 8) + 0.15, -0.5]),
    )


def test_interrupted_run_resumes_to_the_same_result(tmp_path):
    def run(checkpoint, stop_at=None):
        vae = make_vae(["fixed", "scalar"], [0.1, 1.0], seeds=[5, 6])
        gen = torch.Generator().manual_seed(1)

        def before(step):
            if stop_at is not None and step == stop_at:
                raise KeyboardInterrupt

        history = train_stacked(
            vae,
            lambda: sample_toy2d((2, 32), gen),
            steps=40,
            lr=1e-3,
            log_every=5,
            generator=gen,
            before_step=before,
            checkpoint=checkpoint,
            checkpoint_every=10,
            checkpoint_tag="t",
        )
        return vae, history

    ref_vae, ref_hist = run(None)
    with pytest.raises(KeyboardInterrupt):
        run(tmp_path / "c.pt", stop_at=27)  # dies after the step-20 checkpoint
    vae, hist = run(tmp_path / "c.pt")
    assert hist == ref_hist
    for p, q in zip(vae.parameters(), ref_vae.parameters(), strict=True):
        torch.testing.assert_close(p, q, rtol=0, atol=0)
    with pytest.raises(ValueError, match="belongs to another configuration"):
        vae2 = make_vae(["fixed", "scalar"], [0.1, 1.0])
        train_stacked(
            vae2,
            lambda: sample_toy2d((2, 8), torch.Generator()),
            steps=50,
            lr=1e-3,
            log_every=5,
            generator=torch.Generator(),
            checkpoint=tmp_path / "c.pt",
            checkpoint_tag="other",
        )


def test_table1_smoke_record(tmp_path):
    rec = experiments.record(
        "table1", "smoke", results_dir=tmp_path, device="cpu", allow_training=True
    ).data
    res, cfg = rec["result"], rec["config"]
    n_settings = len(cfg["fixed_sigmas"]) + 4
    settings = list(dict.fromkeys(m["setting"] for m in res["models"]))
    assert settings[-2:] == ["F*", "F schedule"] and len(settings) == n_settings
    assert len(res["elbo"]) == n_settings * len(cfg["seeds"])
    ls = [m for m, s in zip(res["final_sigma"], res["models"], strict=True) if s["setting"] == "LS"]
    assert res["f_star_sigma"] == pytest.approx(
        math.exp(sum(map(math.log, ls)) / len(ls)), rel=1e-5
    )
    # The schedule replay used seed 0's LS trajectory: its final sigma is the last traced.
    sched = [
        m
        for m, s in zip(res["final_sigma"], res["models"], strict=True)
        if s["setting"] == "F schedule"
    ]
    assert sched[0] == pytest.approx(res["ls_sigma_trace"]["sigma"][-1][0], rel=1e-4)
    assert sorted(res["figures"]["panels"]) == sorted(settings)  # one named panel each
    again = experiments.record(
        "table1", "smoke", results_dir=tmp_path / "b", device="cpu", allow_training=True
    ).data
    assert again["result"] == res  # reproducible from the seeds
    # The monitored ELBO: one value per model at every logged step.
    monitor = res["history"]["monitor_elbo"]
    assert len(monitor) == len(res["history"]["step"])
    assert all(len(row) == len(res["models"]) for row in monitor)
    # Monitoring reads fixed points with its own generators: training is unchanged.
    quiet = experiments.record(
        "table1",
        "smoke",
        results_dir=tmp_path / "c",
        device="cpu",
        allow_training=True,
        n_monitor=0,
    ).data
    assert quiet["result"]["elbo"] == res["elbo"]
    assert quiet["result"]["history"]["monitor_elbo"] == []


def test_kl_weight_smoke_record(tmp_path):
    rec = experiments.record(
        "kl-weight", "smoke", results_dir=tmp_path, device="cpu", allow_training=True
    ).data
    res = rec["result"]
    # Adam is invariant to the overall scale of the loss (up to its epsilon), so the two
    # arms learn almost the same decoder.
    for gap, scale in zip(res["max_decoder_gap"], res["decoder_scale"], strict=True):
        assert gap < 1e-2 * scale


def test_bench_reports_rates_and_validates():
    result = run_bench(device="cpu", profile="smoke", models=3, steps=2, warmup=0)
    assert result.models == 3
    assert result.stacked_model_steps_per_s > 0 and result.loop_model_steps_per_s > 0
    with pytest.raises(ValueError, match="steps must be >= 1"):
        run_bench(device="cpu", profile="smoke", steps=0)


@pytest.mark.parametrize(
    "name,overrides,pattern",
    [
        ("table1", {"fixed_sigmas": (0.1, -1.0)}, "fixed_sigmas must be positive"),
        ("table1", {"fixed_sigmas": (0.0,)}, "fixed_sigmas must be positive"),
        ("table1", {"steps": 0}, "steps must be >= 1"),
        ("table1", {"seeds": ()}, "seeds must not be empty"),
        ("table1", {"lr": 0.0}, "lr must be > 0"),
        ("table1", {"depth": 3}, "unknown table1 option"),
        ("kl-weight", {"kl_weights": (1.0, -2.0)}, "every KL weight must be > 0"),
        ("kl-weight", {"sigma": 0.0}, "sigma and every KL weight must be > 0"),
    ],
)
def test_bad_configurations_are_rejected(name, overrides, pattern):
    with pytest.raises(ValueError, match=pattern):
        experiments.config(name, "smoke", **overrides)


def test_bad_vae_arguments_are_rejected():
    with pytest.raises(ValueError, match="observation must be one of"):
        make_vae(["fixed", "learned"])
    with pytest.raises(ValueError, match="sigma must be a finite number > 0, got 0.0"):
        make_vae(["fixed"], [0.0])
    with pytest.raises(ValueError, match="kl_weight must be a finite number > 0, got -1.0"):
        make_vae(["fixed"], kl_weight=[-1.0])
    with pytest.raises(ValueError, match="specs must be a non-empty list of ModelSpec"):
        StackedVAE([], mlp_networks(2, 4, 1), 2)
    with pytest.raises(ValueError, match="latent_dim must be an integer >= 1, got 0"):
        StackedVAE([ModelSpec("F")], mlp_networks(2, 4, 1), 0)
    with pytest.raises(ValueError, match="networks must be a factory"):
        StackedVAE([ModelSpec("F")], None, 2)
    with pytest.raises(ValueError, match="n_blocks must be an integer >= 0, got -1"):
        mlp_networks(2, 4, -1)
    with pytest.raises(ValueError, match="profile must be one of"):
        experiments.record("table1", "giant")


def test_sigma_floor_bounds_a_per_dimension_sigma():
    vae = make_vae(["vector", "vector"], floor=[0.0, 0.05])
    z = torch.randn(2, 9, 2)
    with torch.no_grad():  # push the raw log sigma far down
        vae.decoder.out.bias[:, 2:] = -30.0
    _, log_sigma = vae.decode(z)
    raw = vae.decoder(z).chunk(2, dim=-1)[1].clamp(LOG_SIGMA_MIN, LOG_SIGMA_MAX)  # the guards
    torch.testing.assert_close(log_sigma[0], raw[0])  # no floor: untouched
    torch.testing.assert_close(log_sigma[1].exp(), 0.05 + raw[1].exp())
    assert log_sigma[1].exp().min() >= 0.05 * (1 - 1e-6)  # float32 rounding of exp(log)
    with pytest.raises(ValueError, match="sigma_floor must be a finite number >= 0"):
        make_vae(["vector"], floor=[-1.0])


def test_a_model_is_the_same_alone_or_in_any_stack():
    """Model i's weights come from its init seed alone: the same in any stack, any place."""
    stack = make_vae(["fixed", "scalar", "vector"], seeds=[7, 8, 9])
    alone = make_vae(["scalar"], seeds=[8])
    for (name, p), q in zip(stack.named_parameters(), alone.parameters(), strict=True):
        size = p.shape[0] // 3
        torch.testing.assert_close(p[size : 2 * size], q, rtol=0, atol=0, msg=name)
    assert stack.n_models == 3
    assert stack.labels == ["fixed, seed=0", "scalar, seed=1", "vector, seed=2"]


def test_reconstruct_decodes_a_posterior_draw():
    """reconstruct(x) = decode(mu + exp(logvar / 2) eps), eps drawn from the generator."""
    vae = make_vae(["fixed", "vector"], [0.5, 1.0])
    x = sample_toy2d((2, 6), torch.Generator().manual_seed(0))
    mean, log_sigma = vae.reconstruct(x, torch.Generator().manual_seed(3))
    with torch.no_grad():
        mu, logvar = vae.encoder(x).chunk(2, dim=-1)
        eps = torch.randn(mu.shape, generator=torch.Generator().manual_seed(3))
        out = vae.decoder(mu + (0.5 * logvar).exp() * eps)
    torch.testing.assert_close(mean, out[..., :2])
    torch.testing.assert_close(log_sigma[0], torch.full((6, 2), math.log(0.5)))
    torch.testing.assert_close(log_sigma[1], out[1, :, 2:].clamp(LOG_SIGMA_MIN, LOG_SIGMA_MAX))
    # Shared noise: one draw per example, the same for every model.
    same_x = x[:1].expand(2, -1, -1)
    shared, _ = vae.reconstruct(same_x, torch.Generator().manual_seed(3), shared_noise=True)
    with torch.no_grad():
        mu, logvar = vae.encoder(same_x).chunk(2, dim=-1)
        eps = torch.randn(mu.shape[1:], generator=torch.Generator().manual_seed(3))
        torch.testing.assert_close(shared, vae.decoder(mu + (0.5 * logvar).exp() * eps)[..., :2])


def test_a_state_of_the_former_layout_still_loads():
    """Checkpoints and saved models written before the observation module existed: the
    scalar moved under ``observation.``; the per-model flags are no longer state."""
    vae = make_vae(["fixed", "scalar"], [0.3, 1.0])
    legacy = {k: v for k, v in vae.state_dict().items() if not k.startswith("observation.")}
    legacy["scalar_log_sigma"] = torch.log(torch.tensor([0.2, 0.7]))
    legacy["learns_scalar"] = torch.tensor([False, True])
    legacy["per_dimension"] = torch.tensor([False, False])
    legacy["kl_weight"] = torch.ones(2)
    legacy["sigma_floor"] = torch.zeros(2)
    vae.load_state_dict(legacy)
    torch.testing.assert_close(vae.observation.scalar_log_sigma.exp(), torch.tensor([0.2, 0.7]))
    # The parameters keep their former order (the scalar first, then the networks), which
    # an optimiser's saved state relies on.
    names = [name for name, _ in vae.named_parameters()]
    assert names[0] == "observation.scalar_log_sigma" and names[1].startswith("encoder.")


@pytest.mark.parametrize(
    "module",
    [
        "lvae.images_experiment",
        "lvae.toy2d_experiment",
        "lvae.sphere_experiment",
        "lvae.experiments",
    ],
)
def test_every_experiment_module_imports_first(module):
    # A fresh interpreter, so that no earlier import hides a circular one.
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-c", f"import {module}"], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr


def test_calibrated_smoke_record_replays_each_seeds_own_and_the_pooled_sigma(tmp_path):
    rec = experiments.record(
        "table1-calibrated", "smoke", results_dir=tmp_path, device="cpu", allow_training=True
    )
    res, cfg = rec.result, rec.config
    assert cfg["data_scale"] == experiments.table1.CALIBRATED_SCALE
    trace = res["ls_sigma_trace"]
    # Every step up to the dense limit is traced, then every trace_every-th.
    dense = [s for s in trace["step"] if s <= cfg["dense_trace_steps"]]
    assert dense == list(range(1, min(cfg["dense_trace_steps"], cfg["steps"]) + 1))
    last = np.asarray(trace["sigma"][-1])  # LS-VAE's sigma per seed at the last trace
    own = rec.models.where(setting="F schedule own").column("final_sigma")
    pooled = rec.models.where(setting="F schedule pooled").column("final_sigma")
    assert own == pytest.approx(last, rel=1e-4)  # seed i replays seed i's trajectory
    assert pooled == pytest.approx(np.exp(np.log(last).mean()), rel=1e-4)
    assert "F schedule" not in rec.models.values("setting")


@pytest.mark.parametrize(
    ("replay", "second_phase"),
    [("pooled", ["F*", "F schedule pooled"]), ("none", ["F*"])],
)
def test_a_table_replays_only_the_pooled_sigma_or_none(tmp_path, replay, second_phase):
    """The capacity run trains fewer rows: phase 2 holds F* and, where asked, the pooled
    replay alone, and the pooled replay follows the geometric mean of LS-VAE's sigma."""
    rec = experiments.record(
        "table1", "smoke", results_dir=tmp_path, device="cpu", allow_training=True,
        replay=replay, fixed_sigmas=(0.1,),
    )  # fmt: skip
    settings = rec.models.values("setting")
    assert settings == ["F sigma=0.1", "LS", "LV", *second_phase]
    ls_final = rec.models.where(setting="LS").column("final_sigma")
    f_star = rec.models.where(setting="F*").column("final_sigma")
    assert f_star == pytest.approx(np.exp(np.log(ls_final).mean()), rel=1e-6)
    last = np.asarray(rec.result["ls_sigma_trace"]["sigma"][-1])  # the last traced step
    if replay == "pooled":
        pooled = rec.models.where(setting="F schedule pooled").column("final_sigma")
        assert pooled == pytest.approx(np.exp(np.log(last).mean()), rel=1e-4)
