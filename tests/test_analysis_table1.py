"""lvae.analysis.table1 and lvae.analysis.claims on small synthetic records whose answers
are known, and against the committed record (values it held before the migration)."""

import math

import numpy as np
import pytest
import torch

from lvae import store
from lvae.analysis import claims as tests_
from lvae.analysis import table1 as t1
from lvae.data import TOY2D_NOISE, sample_toy2d

ROOT = store.default_results_dir()


def synthetic_record(elbo: dict, sigma: dict | None = None, history: dict | None = None):
    """A table1-shaped store.Record: one model per (setting, seed), in the dict's order."""
    models, e, s = [], [], []
    for name, values in elbo.items():
        for seed, v in enumerate(values):
            models.append({"setting": name, "kind": "fixed", "seed": seed})
            e.append(float(v))
            s.append(float(sigma[name][seed]) if sigma else 1.0)
    result = {"models": models, "elbo": e, "final_sigma": s}
    if history is not None:
        result["history"] = history
    prov = {"profile": "smoke", "seeds": [0, 1, 2], "steps": 10, "device": "cpu"}
    return store.Record({"config": {}, "provenance": prov, "result": result})


# A Table 1 where every answer is fixed by construction: LV above all, LS second, F* below
# LS but above F(0.1), sigma = 0.1 the best fixed sigma, the replay equal to LS.
NOISE = np.array([-0.02, -0.01, 0.0, 0.01, 0.02])
TABLE = {
    "F sigma=1": -2.0 + NOISE,
    "F sigma=0.1": 0.5 + NOISE,
    "F sigma=0.01": -1.0 + NOISE,
    "LS": 1.0 + NOISE,
    "LV": 1.5 + NOISE,
    "F*": 0.8 + NOISE,
    "F schedule": 1.0 + NOISE[::-1],
}


def test_by_setting_groups_models_in_record_order():
    rec = synthetic_record({"B": [1.0, 2.0], "A": [3.0, 4.0, 5.0]})
    assert t1.settings(rec) == ["B", "A"]  # order of appearance, not alphabetical
    grouped = t1.by_setting(rec, "elbo")
    assert list(grouped) == ["B", "A"]
    np.testing.assert_array_equal(grouped["A"], [3.0, 4.0, 5.0])
    assert t1.fixed_settings(synthetic_record(TABLE)) == [
        "F sigma=1",
        "F sigma=0.1",
        "F sigma=0.01",
    ]


def test_paper_convention_adds_log_two_pi_in_two_dimensions():
    np.testing.assert_allclose(
        t1.paper_elbo([-1.0, 0.0, 2.5]), np.array([-1.0, 0.0, 2.5]) + 1.8378770664093453
    )


def test_paper_convention_reproduces_the_values_records_held_before_the_migration():
    """elbo / elbo_paper of the committed book record 7216f54e778a0d20 as stored at commit
    81773eb (before the migration dropped elbo_paper): models 0, 55, 61, 75, 99."""
    held = [
        ("F sigma=1", 0, -2.076612, -0.2387349),
        ("F sigma=0.01", 5, -12.09372, -10.25584),
        ("LS", 1, 0.1194586, 1.957336),
        ("LV", 5, 0.4639929, 2.30187),
        ("F schedule", 9, 0.04601246, 1.88389),
    ]
    record = store.Record.load(ROOT / "table1" / "7216f54e778a0d20.json")
    assert "elbo_paper" not in record.result  # measurements only
    for setting, seed, elbo, paper in held:
        (stored,) = record.models.where(setting=setting, seed=seed).column("elbo")
        assert stored == elbo
        assert t1.paper_elbo(stored) == pytest.approx(paper, rel=1e-6)  # both 7 digits


def test_geomean_and_ranking():
    assert t1.geomean([1.0, 100.0]) == pytest.approx(10.0)
    with pytest.raises(ValueError, match="positive"):
        t1.geomean([1.0, 0.0])
    assert t1.ranking({"a": 1.0, "b": 3.0, "c": 1.0}) == ["b", "a", "c"]  # ties keep order


def test_results_table_rows():
    rec = synthetic_record({"F sigma=1": [1.0, 3.0]}, sigma={"F sigma=1": [0.1, 0.4]})
    frame = t1.results_table(rec).data
    row = list(frame.iloc[0])
    assert row[0] == "F sigma=1" and row[1] == "0.2000"  # geometric mean of 0.1 and 0.4
    assert row[2] == "2.000 ±\u00a01.414"  # mean ± sample sd
    assert row[3] == f"{2 + math.log(2 * math.pi):.3f} ±\u00a01.414"
    assert row[4] == "-1.14 ± 0.02"  # the paper's value, as printed


def test_convergence_trend_and_second_estimate():
    # 10 logged steps, 2 models of one setting: ELBO 0 for steps 0-5, 1 for 6-7, 3 for 8-9.
    e = np.array([0, 0, 0, 0, 0, 0, 1, 1, 3, 3], dtype=float)
    hist = {"step": list(range(10)), "elbo": np.stack([e, e + 1], axis=1).tolist()}
    rec = synthetic_record({"A": [0.0, 0.0]}, history=hist)
    conv = t1.convergence(rec)
    # last fifth (steps 8, 9) minus the fourth fifth (steps 6, 7), over both seeds
    assert conv.trend["A"] == pytest.approx(2.0)
    np.testing.assert_allclose(conv.second["A"], [3.0, 4.0])  # the last tenth: step 9
    assert conv.still_rising(1.0) == ["A"] and conv.still_rising(2.5) == []


def test_claims_on_a_table_with_known_answers():
    claims = t1.claims(TABLE)
    assert [c.verdict for c in claims] == [
        "holds",  # LV best, significantly
        "holds",  # LS above every fixed sigma and F*
        "holds",  # F* below LS
        "does not hold",  # F* is above F(0.1) here
        "holds",  # sigma = 0.1 best fixed
        "holds",  # the replay has LS's mean exactly: the interval contains 0
    ]
    assert claims[4].evidence == "best: F sigma=0.1"
    assert claims[0].evidence.startswith("LV - LS = +0.500 (p = ")
    assert claims[5].evidence.startswith("schedule - LS = +0.000, 95% CI [-0.0")
    assert t1.best_fixed(TABLE) == "F sigma=0.1"
    assert t1.mean_gap(TABLE, "F*", "F sigma=0.1") == pytest.approx(0.3)


def test_claims_fail_when_the_data_say_so():
    table = dict(TABLE)
    table["LV"] = np.array([0.5, 1.5, 1.0, 2.0, 0.4])  # above LS on average, not significantly
    table["F schedule"] = table["LS"] - 0.2  # clearly below LS
    table["F sigma=0.01"] = table["F sigma=0.1"] + 0.1  # a better fixed sigma
    verdicts = [c.holds for c in t1.claims(table)]
    assert verdicts[0] is False and verdicts[4] is False and verdicts[5] is False
    assert t1.claims(table)[4].evidence == "best: F sigma=0.01"


def test_claims_name_a_missing_setting():
    table = {k: v for k, v in TABLE.items() if k != "F*"}
    with pytest.raises(ValueError, match=r"\['F\*'\]"):
        t1.claims(table)


def test_weakest_fixed_sigma_with_a_closed_form_p_value():
    # Two seeds each, equal variances: Welch's t has 2 degrees of freedom, whose two-sided
    # p-value is 1 - t / sqrt(2 + t^2). LS - F(1): t = 4 / sqrt(2).
    table = {
        "F sigma=1": np.array([0.0, 2.0]),
        "LS": np.array([4.0, 6.0]),
        "F*": np.array([-10.0, -8.0]),
    }
    weakest = t1.ls_weakest(table)
    t = 4 / math.sqrt(2)
    assert weakest["setting"] == "F sigma=1" and weakest["gap"] == pytest.approx(4.0)
    assert weakest["p"] == pytest.approx(1 - t / math.sqrt(2 + t**2))
    assert weakest["sd"] == pytest.approx(math.sqrt(2))


def test_welch_and_interval_in_closed_form():
    # Same two samples: p as above; the 95% interval is diff ± t_{0.975, 2} * se, with
    # t_{0.975, 2} = sqrt(2 q^2 / (1 - q^2)), q = 0.95 (the inverse of the df-2 cdf).
    diff, p = tests_.welch([0.0, 2.0], [4.0, 6.0])
    t = 4 / math.sqrt(2)
    assert diff == -4.0 and p == pytest.approx(1 - t / math.sqrt(2 + t**2))
    d, lo, hi = tests_.mean_diff_ci([0.0, 2.0], [4.0, 6.0])
    half = math.sqrt(2 * 0.95**2 / (1 - 0.95**2)) * math.sqrt(2)
    assert (d, lo, hi) == pytest.approx((-4.0, -4.0 - half, -4.0 + half))
    assert tests_.significantly_above([10.0, 10.1, 9.9], [0.0, 0.1, -0.1])
    assert not tests_.significantly_above([0.0, 0.1, -0.1], [10.0, 10.1, 9.9])


def test_welch_rejects_bad_samples():
    with pytest.raises(ValueError, match="at least 2 finite"):
        tests_.welch([1.0], [1.0, 2.0])
    with pytest.raises(ValueError, match="b must be"):
        tests_.welch([1.0, 2.0], [1.0, float("nan")])
    with pytest.raises(ValueError, match="level"):
        tests_.mean_diff_ci([1.0, 2.0], [1.0, 2.0], level=95)


def test_claim_verdict_words():
    assert tests_.Claim("x", True, "e").verdict == "holds"
    assert tests_.Claim("x", False, "e").verdict == "does not hold"
    frame = tests_.claims_table([tests_.Claim("x", False, "e")], caption="c", name="n").data
    assert list(frame.iloc[0]) == ["x", "does not hold", "e"]


def test_regions_split_at_thirds_with_the_lower_edge_inside():
    u = np.array([-0.9, -0.5, -1 / 3, 0.2, 1 / 3, 0.9])
    np.testing.assert_array_equal(t1.region_of(u), [0, 0, 1, 1, 2, 2])
    values = np.array([1.0, 3.0, 10.0, 20.0, 100.0, 300.0])
    assert t1.by_region(values, u) == [2.0, 15.0, 200.0]
    with pytest.raises(ValueError, match="one entry per point"):
        t1.by_region(values, u[:3])


def test_curve_distance_by_region_is_zero_on_the_curve():
    u = np.linspace(-0.95, 0.95, 30)
    on_curve = np.stack([u, t1.curve_np(u)], axis=1)
    above = on_curve + [0.0, 0.05]  # 0.05 above: at most 0.05 from the curve
    data, recon = t1.curve_distance_by_region({"data": on_curve, "recon": above})
    assert max(data) < 2e-3  # the distance's grid resolution
    assert all(0.01 < r <= 0.05 + 2e-3 for r in recon)


def test_generation_distance_separates_data_from_a_collapsed_sample():
    like = sample_toy2d((300,), torch.Generator().manual_seed(5)).numpy()
    panels = {"like": {"gen_sample": like}, "collapsed": {"gen_sample": np.zeros((300, 2))}}
    energy = t1.generation_distance(panels)
    reference, band = t1.energy_reference(300, pairs=5)
    assert band > reference and abs(reference) < band
    assert energy["like"] <= band < energy["collapsed"]
    assert t1.within_band(energy, band) == (["like"], ["collapsed"])
    assert t1.within_band({"a": 0.1, "b": 0.2}, 0.1) == (["a"], ["b"])  # the band is inside
    with pytest.raises(ValueError, match="pairs"):
        t1.energy_reference(300, pairs=1)


def test_thickness_reads_sigma_by_region():
    u = np.array([-0.8, -0.6, 0.0, 0.1, 0.6, 0.8])
    data = np.stack([u, t1.curve_np(u)], axis=1)
    sigma = np.array([0.04, 0.06, 0.01, 0.03, 0.1, 0.1])
    thick = t1.thickness({"data": data, "recon": data, "recon_sigma": sigma})
    assert thick.sigma == pytest.approx([0.05, 0.02, 0.1])
    assert thick.noise == list(TOY2D_NOISE)
    assert thick.ratio == pytest.approx(
        [s / n for s, n in zip([0.05, 0.02, 0.1], TOY2D_NOISE, strict=True)]
    )
    assert thick.quiet_lowest  # the data's quietest region is the middle one
    middle_loud = np.array([0.01, 0.02, 0.05, 0.06, 0.1, 0.1])
    louder = t1.thickness({"data": data, "recon": data, "recon_sigma": middle_loud})
    assert not louder.quiet_lowest


def test_committed_record_has_one_named_panel_per_setting():
    record = store.Record.load(ROOT / "table1" / "7216f54e778a0d20.json")
    panels = record.result["figures"]["panels"]
    assert sorted(panels) == sorted(t1.settings(record))
    # phase 2 (F*, schedule) drew its own data points; phase 1 shares one set
    assert panels["LS"]["data"] == panels["F sigma=1"]["data"]
    assert panels["F*"]["data"] == panels["F schedule"]["data"] != panels["LS"]["data"]


def test_setup_line_names_the_networks_and_the_evaluation():
    cfg = {"n_blocks": 2, "hidden": 64, "latent_dim": 1, "batch_size": 100, "lr": 0.001}
    assert t1.setup({**cfg, "n_eval": 5000}) == (
        "networks: 2 residual blocks of 64 units; latent dim 1; batch 100; Adam lr 0.001;\n"
        "final ELBO on 5000 fresh points"
    )
