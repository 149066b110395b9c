"""lvae.analysis.dynamics: chapter 3's measurements and verdicts, on small synthetic
histories and records whose answers are worked out by hand."""

import math

import numpy as np
import pytest

from lvae.analysis import dynamics as dyn
from lvae.store import Record


def toy_record(n_logged=4, seeds=(0, 1)):
    """A table1-like record: settings F and LS, the given seeds, and histories whose value
    for model j at log i is 10 j + i (so each column is known)."""
    models = [{"setting": s, "seed": seed} for s in ("F", "LS") for seed in seeds]
    n = len(models)
    grid = [[10.0 * j + i for j in range(n)] for i in range(n_logged)]
    return Record(
        {
            "experiment": "table1",
            "config": {},
            "config_hash": "",
            "provenance": {},
            "result": {
                "models": models,
                "elbo": [float(-j) for j in range(n)],
                "history": {
                    "step": [100 * (i + 1) for i in range(n_logged)],
                    "monitor_elbo": grid,
                },
                "ls_sigma_trace": {"step": [1, 2], "sigma": [[1.0, 2.0], [0.5, 1.0]]},
            },
        }
    )


def test_geomean_and_bad_input():
    assert dyn.geomean([1.0, 4.0]) == pytest.approx(2.0)
    assert dyn.geomean([[2.0, 8.0], [1.0, 4.0]]) == pytest.approx(math.sqrt(8.0))
    with pytest.raises(ValueError, match="positive"):
        dyn.geomean([1.0, 0.0])


def test_value_at_reads_a_piecewise_constant_trace():
    grid, values = np.array([10, 20, 30]), np.array([1.0, 2.0, 3.0])
    assert dyn.value_at(grid, values, 25) == 2.0
    assert dyn.value_at(grid, values, 20) == 2.0
    assert dyn.value_at(grid, values, 20, before=True) == 1.0
    assert dyn.value_at(grid, values, 99) == 3.0
    with pytest.raises(ValueError, match="step"):
        dyn.value_at(grid, values, 5)


def test_end_mean_and_end_gap_use_the_last_tenth():
    v = np.arange(20.0)[:, None] * np.array([1.0, 2.0])  # 20 logs: the last tenth is 2 rows
    np.testing.assert_allclose(dyn.end_mean(v), [18.5, 37.0])
    np.testing.assert_allclose(dyn.end_mean(v[:5]), [4.0, 8.0])  # at least one row
    gap, spread = dyn.end_gap(v + 1.0, v)
    assert gap == pytest.approx(1.0)
    pooled = np.array([19.0, 38.0, 20.0, 39.0, 18.0, 36.0, 19.0, 37.0])
    assert spread == pytest.approx(pooled.std(ddof=1))
    with pytest.raises(ValueError, match="fraction"):
        dyn.end_mean(v, fraction=0.0)


def test_histories_per_seed_and_sigma_trace_read_a_record():
    record = toy_record()
    h = dyn.histories(record.models, "monitor_elbo")
    assert list(h) == ["F", "LS"]
    np.testing.assert_array_equal(h["LS"][:, 0], [20.0, 21.0, 22.0, 23.0])  # model 2
    assert h["F"].shape == (4, 2)
    elbo = dyn.per_seed(record.models.where(setting="LS"), "elbo", [1, 0])
    np.testing.assert_array_equal(elbo, [-3.0, -2.0])
    with pytest.raises(KeyError, match="seeds"):
        dyn.per_seed(record.models.where(setting="LS"), "elbo", [7])
    steps, sigma = dyn.sigma_trace(record)
    np.testing.assert_array_equal(steps, [1, 2])
    assert sigma.shape == (2, 2)


def test_last_tenth_change_and_the_settled_verdict():
    steps = np.arange(1, 101)
    sigma = np.stack([np.ones(100), steps.astype(float)], axis=1)
    # Column 2: sigma(100) / sigma(90) - 1, 90 being the first step at or after 0.9 * 100.
    np.testing.assert_allclose(dyn.last_tenth_change(steps, sigma), [0.0, 100 / 90 - 1])
    assert dyn.settled_verdict([0.01, -0.019]) == "has settled"
    assert dyn.n_settled([0.01, -0.019]) == 2
    assert dyn.settled_verdict([0.01, 0.03]) == "has not fully settled"
    assert dyn.n_settled([0.01, 0.03]) == 1


def test_largest_rise_and_earliest():
    steps = np.array([0, 10, 20, 30, 40])
    sigma = np.array([[1.0, 1.0], [0.5, 0.9], [0.6, 0.8], [0.4, 0.7], [0.5, 0.6]])
    # Column 1: running minimum 1, .5, .5, .4, .4 -> rises 0, 0, .2, 0, .25; column 2 falls.
    rise, first = dyn.largest_rise(steps, sigma, skip=0)
    np.testing.assert_allclose(rise, [0.25, 0.0])
    assert first == [20, None]
    # From step 30 on, the running minimum starts again at 0.4: a rise of 0.25 at step 40.
    rise, first = dyn.largest_rise(steps, sigma, skip=30)
    np.testing.assert_allclose(rise, [0.25, 0.0])
    assert first == [40, None]
    assert dyn.earliest([None, 43600, 12000], "nowhere") == "12,000"
    assert dyn.earliest([None, None], "nowhere") == "nowhere"


def test_largest_drop_and_monitor_drops():
    steps = np.array([0, 1, 2, 3, 4])
    values = np.array([[0.0], [1.0], [0.5], [2.0], [1.2]])  # best so far 0,1,1,2,2
    np.testing.assert_allclose(dyn.largest_drop(steps, values, skip=0), [0.8])
    np.testing.assert_allclose(dyn.largest_drop(steps[:3], values[:3], skip=0), [0.5])
    with pytest.raises(ValueError, match="one row per step"):
        dyn.largest_drop(steps, values[:3], skip=0)
    # The toy record's histories only rise: nothing is lost from the best.
    drops = dyn.monitor_drops(toy_record(), skip=0, n_seeds=1)
    assert set(drops) == {"F", "LS"} and all(d.shape == (1,) and d[0] == 0 for d in drops.values())


def test_power_law_sigma():
    # sigma(2T) = sigma(T) 2^-alpha per seed: 1 * 2^-1 and 4 * 2^-1, geometric mean 1.
    assert dyn.power_law_sigma([1.0, 4.0], [1.0, 1.0], 2) == pytest.approx(1.0)
    assert dyn.power_law_sigma([1.0], [0.0], 4) == pytest.approx(1.0)  # alpha 0: no decay


def monotone_case(sign=1.0):
    """log sigma = -t^2 / 1000 on steps 1..40 and the ELBO = sign * t^2: windows of 4 steps."""
    t = np.arange(1, 41)
    sigma = np.exp(-(t.astype(float) ** 2) / 1000)[:, None]
    return dyn.sigma_drop_vs_elbo_gain(t, sigma, t, sign * (t[:, None] ** 2.0), log_every=1)


def test_sigma_drop_vs_elbo_gain_on_a_known_case():
    link = monotone_case()
    # Window 4 = 1 * min(4, 40 // 4); edges 4..40; the first of 9 windows is left out.
    assert link.window == 4 and link.skip_steps == 4 and link.drops.shape == (8, 1)
    a = np.arange(8, 37, 4)  # the windows' starts
    np.testing.assert_allclose(link.drops[:, 0], ((a + 4) ** 2 - a**2) / 1000)  # (8a + 16) / 1000
    np.testing.assert_allclose(link.gains[:, 0], 8 * a + 4)  # mean of 8t + 16, t = a-3..a
    assert link.rho == pytest.approx(1.0) and link.rho_p < 1e-3
    # The fastest fifth (drop >= its 80th percentile): the last two windows.
    assert link.share_of_gain == pytest.approx((260 + 292) / 1440)
    assert link.typical_gain == pytest.approx(180.0)
    # Consecutive ELBO changes over logs 21..40: 43, 45, ..., 79, std 2 sqrt((19^2 - 1) / 12).
    assert link.jitter == pytest.approx(2 * math.sqrt(30))
    assert link.jitter_ratio == pytest.approx(2 * math.sqrt(30) / 180)
    assert link.significance() == "a"


def test_sigma_drop_vs_elbo_gain_opposite_link_and_verdicts():
    link = monotone_case(sign=-1.0)
    assert link.rho == pytest.approx(-1.0)
    assert link.significance() == "a"  # significant, though of the wrong sign
    assert link.significance(level=link.rho_p / 2) == "no"


def test_sigma_drop_vs_elbo_gain_rejects_bad_input():
    t = np.arange(1, 41)
    with pytest.raises(ValueError, match="same seeds"):
        dyn.sigma_drop_vs_elbo_gain(t, np.ones((40, 2)), t, np.ones((40, 3)), log_every=1)
    with pytest.raises(ValueError, match="sigma must be positive"):
        dyn.sigma_drop_vs_elbo_gain(t, np.zeros((40, 1)), t, np.ones((40, 1)), log_every=1)
    with pytest.raises(ValueError, match="windows"):
        dyn.sigma_drop_vs_elbo_gain(t[:8], np.ones((8, 1)), t[:8], np.ones((8, 1)), log_every=4)


def test_lower_and_higher():
    before = {"A": np.array([1.0, 2.0]), "B": np.array([1.0]), "C": np.array([3.0])}
    after = {"A": np.array([0.0, 1.0]), "B": np.array([1.0]), "C": np.array([4.0])}
    assert dyn.lower_and_higher(before, after) == (["A"], ["B", "C"])


def test_softer_verdict_both_ways():
    softer = dyn.softer_verdict([1.0, 1.55, 3.0], [4.0, 4.69, 9.0])
    assert softer == (
        "LS-VAE's ELBO loses less than F-VAE's at a fixed small σ "
        "(median over seeds 1.55 against 4.69 nats)"
    )
    harder = dyn.softer_verdict([5.0], [2.0])
    assert harder.startswith("yet LS-VAE's ELBO does not lose less than F-VAE's")
    assert "5.00 against 2.00 nats" in harder


def test_replay_verdict_both_ways():
    assert dyn.replay_verdict(-0.1, 0.2).startswith("The interval contains 0")
    assert dyn.replay_verdict(-0.062, -0.027).startswith("The interval excludes 0")
    assert dyn.replay_verdict(0.01, 0.2).startswith("The interval excludes 0")


def test_rms_distance_per_coordinate():
    # On the flat curve y = 0, points at heights 0.3 and -0.4 (inside [-1, 1]):
    # sqrt((0.09 + 0.16) / 2 / 2) = 0.25.
    points = np.array([[0.0, 0.3], [0.5, -0.4]])
    assert dyn.rms_distance_per_coordinate(points, np.zeros_like) == pytest.approx(0.25, abs=1e-6)


def test_kl_weight_loss_differences_are_the_predicted_constant():
    lam, sigma, d = 4.0, 0.1, 2
    diff = dyn.kl_weight_loss_differences(lam, sigma, n_batches=2, batch=64)
    assert diff.shape == (128,)
    # D (1 - lambda)(log sigma + log(2 pi) / 2) - lambda D log(lambda) / 2 = 2.7567...
    expected = d * (1 - lam) * (math.log(sigma) + 0.5 * math.log(2 * math.pi))
    expected -= lam * d * math.log(lam) / 2
    np.testing.assert_allclose(diff, expected, atol=1e-4)
    np.testing.assert_allclose(dyn.kl_weight_loss_differences(1.0, 0.3, 1, 16), 0.0, atol=1e-5)
    with pytest.raises(ValueError, match="kl_weight must be positive"):
        dyn.kl_weight_loss_differences(0.0, 0.1)
