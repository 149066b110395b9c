"""The Gaussian observation model p(x|z): Eqs. (5), (10), (11), the kinds of sigma, the
floor and clamps, setting sigma and its schedule; the KL term and the sampling path."""

import math

import pytest
import torch

from lvae.observation import (
    LOG_2PI,
    LOG_SIGMA_MAX,
    LOG_SIGMA_MIN,
    GaussianObservation,
    SigmaSchedule,
    gaussian_log_likelihood,
    kl_to_standard_normal,
    paper_convention_elbo,
    reparameterised_sample,
)
from lvae.spec import ModelSpec


def test_gaussian_log_likelihood_matches_torch_distributions():
    g = torch.Generator().manual_seed(0)
    x, mean = torch.randn(3, 5, 4, generator=g), torch.randn(3, 5, 4, generator=g)
    log_sigma = torch.randn(3, 5, 4, generator=g)
    expected = torch.distributions.Normal(mean, log_sigma.exp()).log_prob(x).sum(-1)
    torch.testing.assert_close(gaussian_log_likelihood(x, mean, log_sigma), expected)
    # A scalar log sigma per model broadcasts like a full tensor of it.
    scalar = torch.tensor([-1.0, 0.0, 0.5]).view(3, 1, 1)
    torch.testing.assert_close(
        gaussian_log_likelihood(x, mean, scalar),
        gaussian_log_likelihood(x, mean, scalar.expand_as(x)),
    )


def test_kl_matches_torch_distributions():
    g = torch.Generator().manual_seed(1)
    mu, logvar = torch.randn(6, 3, generator=g), torch.randn(6, 3, generator=g)
    q = torch.distributions.Normal(mu, (0.5 * logvar).exp())
    p = torch.distributions.Normal(torch.zeros(6, 3), torch.ones(6, 3))
    torch.testing.assert_close(
        kl_to_standard_normal(mu, logvar), torch.distributions.kl_divergence(q, p).sum(-1)
    )


def test_paper_convention_adds_the_gaussian_constant():
    assert paper_convention_elbo(-1.0, 2) == pytest.approx(-1.0 + math.log(2 * math.pi))
    x, mean = torch.zeros(1, 3), torch.ones(1, 3)
    exact = gaussian_log_likelihood(x, mean, torch.tensor(0.0))
    assert paper_convention_elbo(exact, 3).item() == pytest.approx(-1.5)


def observation(kinds, sigma=None, floor=None):
    return GaussianObservation(kinds, sigma or [1.0] * len(kinds), floor)


def test_log_likelihood_is_eq10_for_a_scalar_and_eq11_per_dimension():
    """By hand, in float64 Python: Eq. (10) -log p = ||x - mu||^2 / (2 s^2) + D log s, and
    Eq. (11) -log p = sum_i (x_i - mu_i)^2 / (2 s_i^2) + log s_i, each plus (D/2) log 2 pi."""
    x = [[0.5, -1.0, 2.0]]
    mu = [[0.0, -0.5, 1.0]]
    s_scalar, s_vector = 0.3, [0.1, 0.4, 2.0]
    eq10 = sum((a - b) ** 2 for a, b in zip(x[0], mu[0], strict=True)) / (2 * s_scalar**2)
    eq10 += 3 * math.log(s_scalar)
    eq11 = sum(
        (a - b) ** 2 / (2 * s**2) + math.log(s)
        for a, b, s in zip(x[0], mu[0], s_vector, strict=True)
    )
    obs = observation(["scalar", "vector"], [s_scalar, 1.0])
    raw = torch.log(torch.tensor([[[9.0] * 3], [s_vector]]))  # row 0's raw is not used
    log_sigma = obs(raw)
    xs, mus = torch.tensor([x, x]), torch.tensor([mu, mu])
    got = obs.log_likelihood(xs, mus, log_sigma)
    constant = 1.5 * math.log(2 * math.pi)
    assert got[0, 0].item() == pytest.approx(-eq10 - constant, rel=1e-6)
    assert got[1, 0].item() == pytest.approx(-eq11 - constant, rel=1e-6)
    assert LOG_2PI == pytest.approx(math.log(2 * math.pi))


def test_each_kind_takes_its_sigma_from_the_right_place_and_only_learned_ones_get_gradients():
    obs = observation(["fixed", "scalar", "vector"], [0.3, 0.7, 1.0])
    raw = torch.randn(3, 4, 2, requires_grad=True)
    log_sigma = obs(raw)
    assert log_sigma.shape == (3, 4, 2)
    torch.testing.assert_close(log_sigma[0], torch.full((4, 2), math.log(0.3)))
    torch.testing.assert_close(log_sigma[1], torch.full((4, 2), math.log(0.7)))
    torch.testing.assert_close(log_sigma[2], raw[2])
    log_sigma.sum().backward()
    assert obs.scalar_log_sigma.grad.tolist() == [0.0, 8.0, 0.0]  # only the learned one
    assert raw.grad[:2].abs().sum() == 0 and torch.all(raw.grad[2] == 1)
    # Plain Python facts, fixed at construction.
    assert obs.learns_scalar == (False, True, False) and obs.per_dimension == (False, False, True)
    assert obs.has_floor is False and obs.n_models == 3
    # The state is the scalar alone; the kinds and floors are rebuilt from the specs.
    assert list(obs.state_dict()) == ["scalar_log_sigma"]


def test_a_stack_without_a_learned_scalar_has_nothing_to_learn_there():
    obs = observation(["fixed", "vector"], [0.5, 1.0])
    assert not obs.scalar_log_sigma.requires_grad
    torch.testing.assert_close(obs(torch.zeros(2, 1, 3))[0], torch.full((1, 3), math.log(0.5)))


def test_floor_and_clamps_of_a_per_dimension_sigma():
    obs = observation(["vector", "vector", "vector"], floor=[0.0, 0.05, 1e-3])
    raw = torch.tensor([-1e3, -3.0, 0.5, 1e3]).expand(3, 1, 4)
    sigma = obs(raw).exp()[:, 0]
    clamped = torch.tensor([LOG_SIGMA_MIN, -3.0, 0.5, LOG_SIGMA_MAX]).exp()
    torch.testing.assert_close(sigma[0], clamped)  # no floor: the clamps alone
    torch.testing.assert_close(sigma[1], 0.05 + clamped)  # sigma = floor + exp(raw)
    torch.testing.assert_close(sigma[2], 1e-3 + clamped)
    assert obs.has_floor is True
    assert obs.floor == (0.0, 0.05, 1e-3)


def test_from_specs_reads_kind_sigma_and_floor():
    specs = [ModelSpec("F", "fixed", 0.2), ModelSpec("LV-f", "vector", sigma_floor=0.1)]
    obs = GaussianObservation.from_specs(specs)
    assert obs.kinds == ("fixed", "vector") and obs.floor == (0.0, 0.1)
    assert obs.scalar_log_sigma.exp().tolist() == pytest.approx([0.2, 1.0])


@pytest.mark.parametrize(
    "kinds,sigma,floor,pattern",
    [
        ([], [], None, "kinds must give one of"),
        (["fixed", "learned"], [1.0, 1.0], None, "kinds must give one of"),
        (["fixed"], [1.0, 2.0], None, "sigma must hold 1 finite numbers > 0"),
        (["fixed"], [0.0], None, "sigma must hold 1 finite numbers > 0 .* got \\[0.0\\]"),
        (["fixed"], [math.nan], None, "sigma must hold 1 finite numbers > 0"),
        (["vector"], [1.0], [-0.1], "floor must hold 1 finite numbers >= 0"),
        (["scalar"], [1.0], [0.1], "floor applies to 'vector' models only"),
    ],
)
def test_bad_observations_are_rejected(kinds, sigma, floor, pattern):
    with pytest.raises(ValueError, match=pattern):
        GaussianObservation(kinds, sigma, floor)


def test_set_sigma_writes_only_the_rows_asked():
    obs = observation(["fixed", "fixed", "scalar", "vector"], [0.1, 0.2, 0.3, 1.0])
    obs.set_sigma(0.5, rows=[1])
    assert obs.scalar_log_sigma.exp().tolist() == pytest.approx([0.1, 0.5, 0.3, 1.0])
    obs.set_sigma([0.6, 0.7], rows=[0, 2])  # one value per row; a learned scalar restarts
    assert obs.scalar_log_sigma.exp().tolist() == pytest.approx([0.6, 0.5, 0.7, 1.0])
    obs.set_sigma(torch.tensor([0.9, 0.8]), rows=[1, 0])
    assert obs.scalar_log_sigma.exp().tolist() == pytest.approx([0.8, 0.9, 0.7, 1.0])
    # The scalar still trains after a reset.
    obs(torch.zeros(4, 1, 1)).sum().backward()
    assert obs.scalar_log_sigma.grad[2] == 1.0


@pytest.mark.parametrize(
    "values,rows,pattern",
    [
        (0.5, [3], "rows \\[3\\] are 'vector' models"),
        (0.5, None, "rows \\[3\\] are 'vector' models"),  # default: all rows
        (0.5, [4], "rows must be indices in 0..3, got \\[4\\]"),
        (0.5, [0, 0], "rows must be distinct"),
        (0.5, [], "rows must be indices"),
        (0.0, [0], "values must hold 1 finite numbers > 0"),
        (math.inf, [0], "values must hold 1 finite numbers > 0"),
        ([0.1, 0.2, 0.3], [0, 1], "values must be one number or one per row \\(2\\), got 3"),
    ],
)
def test_set_sigma_refuses_bad_input(values, rows, pattern):
    obs = observation(["fixed", "fixed", "scalar", "vector"])
    before = obs.scalar_log_sigma.detach().clone()
    with pytest.raises(ValueError, match=pattern):
        obs.set_sigma(values, rows)
    assert torch.equal(obs.scalar_log_sigma.detach(), before)  # nothing written


def test_a_schedule_holds_the_latest_value_given():
    obs = observation(["scalar", "fixed", "fixed"])
    schedule = SigmaSchedule(obs, [1, 2], [10, 20, 40], [0.5, 0.25, 0.125])
    seen = {}
    for step in (1, 9, 10, 19, 20, 39, 40, 1000):
        schedule(step)
        seen[step] = obs.scalar_log_sigma.exp().tolist()
    want = {1: 0.5, 9: 0.5, 10: 0.5, 19: 0.5, 20: 0.25, 39: 0.25, 40: 0.125, 1000: 0.125}
    for step, value in want.items():
        assert seen[step] == pytest.approx([1.0, value, value]), step  # row 0 untouched
    with pytest.raises(ValueError, match="steps must be increasing integers"):
        SigmaSchedule(obs, [1], [10, 10], [0.5, 0.5])
    with pytest.raises(ValueError, match="steps and values must be non-empty and of one length"):
        SigmaSchedule(obs, [1], [10, 20], [0.5])
    with pytest.raises(ValueError, match="values must hold 2 finite numbers > 0"):
        SigmaSchedule(obs, [1], [10, 20], [0.5, -1.0])
    with pytest.raises(ValueError, match="rows must be indices in 0..2"):
        SigmaSchedule(obs, [5], [10], [0.5])


def test_reparameterised_sample_is_mean_plus_scaled_noise_from_the_generator():
    mean, log_std = torch.tensor([[1.0, -2.0]]), torch.tensor([[0.0, math.log(3.0)]])
    x = reparameterised_sample(mean, log_std, torch.Generator().manual_seed(5))
    eps = torch.randn((1, 2), generator=torch.Generator().manual_seed(5))
    torch.testing.assert_close(x, mean + torch.tensor([[1.0, 3.0]]) * eps)
    # Shared noise: one draw broadcast over the leading (model) axis.
    means = torch.zeros(3, 4, 2)
    shared = reparameterised_sample(means, means, torch.Generator(), noise_shape=(4, 2))
    assert torch.equal(shared[0], shared[2])
    # Many draws: the moments of N(mean, std^2).
    many = reparameterised_sample(
        mean, log_std, torch.Generator().manual_seed(0), noise_shape=(200_000, 2)
    )
    assert many.mean(0).tolist() == pytest.approx([1.0, -2.0], abs=0.03)
    assert many.std(0).tolist() == pytest.approx([1.0, 3.0], rel=0.01)


def test_the_forward_pass_never_reads_the_device(monkeypatch):
    """Kinds, floor and clamps are Python facts: no bool(), item() or tolist() in forward."""
    obs = observation(["fixed", "scalar", "vector", "vector"], floor=[0, 0, 0, 0.05])
    reads = []
    for name in ("item", "tolist", "__bool__", "__int__", "__float__"):
        original = getattr(torch.Tensor, name)

        def counted(tensor, *args, _original=original, _name=name, **kwargs):
            reads.append(_name)
            return _original(tensor, *args, **kwargs)

        monkeypatch.setattr(torch.Tensor, name, counted)
    raw = torch.randn(4, 8, 3)
    log_sigma = obs(raw)
    obs.log_likelihood(torch.zeros(4, 8, 3), torch.zeros(4, 8, 3), log_sigma)
    assert reads == []
    schedule = SigmaSchedule(obs, [0], [1, 5], [0.5, 0.4])  # checks its values, once
    reads.clear()
    for step in range(1, 10):
        schedule(step)
    monkeypatch.undo()
    assert reads == []
