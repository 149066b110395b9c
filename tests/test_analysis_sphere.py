"""lvae.analysis.sphere on synthetic sphere-vae records with known answers, and against
the values the committed record held before the migration."""

import math

import numpy as np
import pytest

from lvae import store
from lvae.analysis import sphere

ROOT = store.default_results_dir()


def synthetic_record(ratios=(0.7, 1.2, 2.0), seeds=(0, 1), dim=2, radius=1.0):
    """Model (ratio q, seed s) has ELBO 10 q + s, KL q, median radius q / 4 + s / 100."""
    models, elbo, kl, quantiles = [], [], [], []
    for q in ratios:
        for s in seeds:
            models.append({"ratio": q, "seed": s, "sigma": radius / q})
            elbo.append(10 * q + s)
            kl.append(q)
            quantiles.append([0.0, q / 4 + s / 100, 1.0])
    config = {"ratios": list(ratios), "seeds": list(seeds), "dim": dim, "radius": radius}
    result = {"models": models, "elbo": elbo, "kl": kl, "radius_quantiles": quantiles}
    prov = {"profile": "smoke", "seeds": list(seeds), "steps": 10, "device": "cpu"}
    return store.Record({"config": config, "provenance": prov, "result": result})


def test_collapsed_elbo_is_log_normal_density_at_the_data_radius():
    # D = 2, R = 2, sigma = 1: log N(x; 0, I) at |x| = 2 is -2 - log(2 pi).
    assert sphere.collapsed_elbo(2.0, 2.0, 2) == pytest.approx(-2 - math.log(2 * math.pi))
    # D = 3, R = 1, sigma = 0.5: -1 / (2 * 0.25) - 3 log 0.5 - 1.5 log(2 pi)
    expected = -2.0 - 3 * math.log(0.5) - 1.5 * math.log(2 * math.pi)
    assert sphere.collapsed_elbo(2.0, 1.0, 3) == pytest.approx(expected)


def test_theory_radius_is_zero_below_sqrt_d_and_positive_above():
    assert sphere.theory_radius(1.2, 1.0, 2) == 0.0  # 1.2 < sqrt(2): collapsed
    r = sphere.theory_radius(4.0, 1.0, 2)
    assert 0.9 < r < 1.0  # just inside the data sphere, by about (D - 1) / (2 ratio^2)
    assert 1.0 - r == pytest.approx(1 / (2 * 4.0**2), rel=0.1)


@pytest.mark.parametrize(
    "args, match",
    [((0.0, 1.0, 2), "ratio"), ((1.0, -1.0, 2), "radius"), ((1.0, 1.0, 1), "dim")],
)
def test_bad_input_is_named(args, match):
    with pytest.raises(ValueError, match=match):
        sphere.collapsed_elbo(*args)


def test_recomputed_values_match_what_the_committed_record_held():
    """elbo_collapsed and theory_optimal_radius of results/sphere-vae/7330f8fb73b1af89.json
    as stored at commit 81773eb, before the migration dropped them (one value per ratio;
    the three seeds of a ratio held the same)."""
    held = {
        0.7: (-2.7962269542868103, 0.0),
        1.2: (-2.193233952821436, 0.0),
        1.6: (-2.177869807917874, 0.6124969867757841),
        2.5: (-3.130295602661035, 0.9068697349341177),
        4.0: (-7.065288344169564, 0.9671280956253573),
    }
    record = store.Record.load(ROOT / "sphere-vae" / "7330f8fb73b1af89.json")
    assert "elbo_collapsed" not in record.result  # measurements only
    summary = sphere.summarise(record)
    assert summary.ratios == list(held)
    np.testing.assert_allclose(summary.collapsed, [c for c, _ in held.values()], rtol=1e-15)
    # A numerical optimum: its last digits move with the processor (3e-8 on an AMD EPYC).
    np.testing.assert_allclose(summary.theory_r, [r for _, r in held.values()], rtol=1e-6)
    derived = sphere.derived_columns(record.config, list(record.models))
    assert derived["elbo_collapsed"][3:6] == [held[1.2][0]] * 3


def test_per_ratio_and_summary_of_a_synthetic_record():
    rec = synthetic_record()
    np.testing.assert_array_equal(sphere.per_ratio(rec, "elbo"), [[7, 8], [12, 13], [20, 21]])
    s = sphere.summarise(rec)
    np.testing.assert_allclose(s.median_radius, [[0.175, 0.185], [0.3, 0.31], [0.5, 0.51]])
    np.testing.assert_array_equal(s.kl[:, 0], [0.7, 1.2, 2.0])
    assert s.below == [0, 1] and s.above == [2] and s.between == [1.2]  # 1 < 1.2 < sqrt 2
    assert s.collapsed[0] == pytest.approx(sphere.collapsed_elbo(0.7, 1.0, 2))


def test_collapse_evidence_of_a_synthetic_record():
    s = sphere.summarise(synthetic_record())
    ev = sphere.collapse_evidence(s)
    assert ev["below_max_radius"] == pytest.approx(0.31)
    gap = max(
        abs(10 * q + seed - sphere.collapsed_elbo(q, 1.0, 2)) for q in (0.7, 1.2) for seed in (0, 1)
    )
    assert ev["below_max_elbo_gap"] == pytest.approx(gap)
    assert ev["near"] == 2.0 and ev["above_min_radius"] == pytest.approx(0.5)
    none_above = sphere.collapse_evidence(sphere.summarise(synthetic_record(ratios=(0.7,))))
    assert none_above["near"] is None and math.isnan(none_above["above_min_radius"])
    with pytest.raises(ValueError, match="no ratio below"):
        sphere.collapse_evidence(sphere.summarise(synthetic_record(ratios=(2.0, 3.0))))


def test_summary_table_rows():
    rec = synthetic_record(ratios=(2.0,), seeds=(0, 1))
    row = list(sphere.summary_table(rec, sphere.summarise(rec)).data.iloc[0])
    assert row[0] == "2" and row[3] == "20.50 ±\u00a00.500"  # population sd over seeds (4 digits)


def test_eq9_corrected_matches_the_derivative_and_the_printed_form_only_at_sigma_one():
    at_one = sphere.eq9_check(1.0, 2.0, 1.0, 3)
    assert at_one["corrected"] == pytest.approx(at_one["finite_difference"], rel=1e-7)
    assert at_one["printed"] == pytest.approx(at_one["corrected"], rel=1e-12)
    other = sphere.eq9_check(1.0, 2.0, 0.6, 3)
    assert other["corrected"] == pytest.approx(other["finite_difference"], rel=1e-7)
    assert abs(other["printed"] - other["corrected"]) > 0.01 * abs(other["corrected"])
    with pytest.raises(ValueError, match="central difference"):
        sphere.eq9_check(0.0, 2.0, 1.0, 3)


def test_cli_headline_table_shows_the_recomputed_theory_values():
    from lvae import __main__ as cli

    record = store.Record.load(ROOT / "sphere-vae" / "7330f8fb73b1af89.json").data
    lines = cli.headline_table(record).splitlines()
    assert "collapsed ELBO" in lines[1] and "optimal radius" in lines[1]
    row_16 = [line for line in lines if line.startswith("1.6 ")][0]
    assert "-2.178 ± 0" in row_16 and "0.6125 ± 0" in row_16  # the values held at 81773eb


def grid_record(escaped_by_ratio, radius=1.0, dim=2):
    """A sphere grid record: ``escaped_by_ratio`` maps R/sigma to one bool per seed; an
    escaped model's decoder means have mean norm 0.5 R, a collapsed one's 0.01 R."""
    ratios = sorted(escaped_by_ratio)
    seeds = range(len(escaped_by_ratio[ratios[0]]))
    models, norms = [], []
    for q in ratios:
        for s in seeds:
            models.append({"ratio": q, "seed": s, "sigma": radius / q})
            norms.append((0.5 if escaped_by_ratio[q][s] else 0.01) * radius)
    config = {"ratios": ratios, "seeds": list(seeds), "dim": dim, "radius": radius}
    return store.Record({"config": config, "provenance": {}, "result": {"models": models,
                         "mean_radius": norms}})  # fmt: skip


def test_crossing_interpolates_the_first_rise_through_one_half():
    assert sphere.crossing([1.0, 1.1, 1.2], [0.0, 0.4, 0.8]) == pytest.approx(1.125)
    assert sphere.crossing([1.0, 1.1], [0.0, 0.5]) == pytest.approx(1.1)
    assert sphere.crossing([1.0, 1.1], [0.0, 0.2]) is None  # never reached
    assert sphere.crossing([1.0, 1.1], [0.6, 1.0]) is None  # not bracketed
    with pytest.raises(ValueError, match="increasing"):
        sphere.crossing([1.1, 1.0], [0.0, 1.0])


def test_trained_threshold_reads_the_escaped_fraction_with_a_seed_bootstrap():
    T, F = True, False
    rec = grid_record({1.3: [F] * 5, 1.4: [F, F, T, F, F], 1.45: [T, T, T, F, T],
                       1.5: [T] * 5}, radius=2.0)  # fmt: skip
    assert sphere.escaped(rec).tolist()[1] == [F, F, T, F, F]  # 0.5 R is judged against R
    found = sphere.trained_threshold(rec, n=500)
    np.testing.assert_allclose(found.fractions, [0.0, 0.2, 0.8, 1.0])
    assert found.value == pytest.approx(1.4 + 0.3 / 0.6 * 0.05)  # 1.425
    assert found.low is not None and found.low <= found.value <= found.high <= 1.5
    assert (found.paper, found.ours) == (1.0, pytest.approx(math.sqrt(2)))
    # Reproducible from its seed.
    again = sphere.trained_threshold(rec, n=500)
    assert (again.value, again.low, again.high) == (found.value, found.low, found.high)
    never = sphere.trained_threshold(grid_record({1.0: [F, F], 1.1: [F, F]}), n=50)
    assert never.value is None and never.low is None


def test_threshold_verdict_and_evidence_both_ways():
    T, F = True, False
    at_sqrt2 = sphere.trained_threshold(
        grid_record({1.3: [F] * 5, 1.4: [F, F, T, F, F], 1.45: [T] * 5, 1.5: [T] * 5}), n=300
    )
    # Collapse goes on past sqrt(1) = 1: the sufficient condition holds, loosely.
    assert sphere.threshold_verdict([at_sqrt2]) == "holds, not sharp"
    # 1.4 + (0.5 - 0.2) / (1 - 0.2) x 0.05 = 1.419
    assert at_sqrt2.bracket == (1.4, 1.45)
    assert sphere.threshold_evidence(at_sqrt2).startswith(
        "the escaped fraction crosses ½ between R/σ = 1.4 and 1.45 (interpolated 1.42; "
        "threshold in [1.38, 1.45] by seed bootstrap and grid step"
    )
    # VAEs that escape below sqrt(D - 1) contradict the theorem's sufficient condition.
    below = sphere.trained_threshold(
        grid_record({0.7: [F] * 5, 0.75: [F, T, T, F, T], 0.8: [T] * 5}), n=300
    )
    assert below.interval[1] < 1.0 and sphere.threshold_verdict([below]) == "contradicted"
    # Every seed agrees at every ratio: the bootstrap interval is a point, and the grid
    # step bounds what is resolved; sqrt(2) inside the bracket is not excluded.
    sharp = sphere.trained_threshold(grid_record({1.4: [F] * 5, 1.45: [T] * 5}), n=100)
    assert sharp.low == sharp.high == pytest.approx(1.425)
    assert sharp.interval == (1.4, 1.45)  # widened to the grid step
    assert not sharp.excludes(math.sqrt(2)) and sharp.excludes(1.0) and sharp.excludes(1.46)
    at_one = sphere.trained_threshold(
        grid_record({0.9: [F] * 5, 0.95: [F, T, F, T, F], 1.05: [T] * 5}), n=300
    )
    assert at_one.low <= 1.0 <= at_one.high and sphere.threshold_verdict([at_one]) == "holds"
    never = sphere.trained_threshold(grid_record({1.0: [F, F], 1.1: [F, F]}), n=50)
    assert sphere.threshold_verdict([never]) == "not shown"
    assert sphere.threshold_evidence(never).startswith("no crossing of ½ on R/σ 1–1.1")
    with pytest.raises(ValueError, match="at least one"):
        sphere.threshold_verdict([])
