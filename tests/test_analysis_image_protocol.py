"""lvae.analysis.image_protocol: the image claims I1-I4 under the protocol, on synthetic
records whose verdicts are known."""

from __future__ import annotations

import math

import numpy as np
import pytest

from lvae.analysis import image_protocol as ip
from lvae.analysis import stats
from lvae.store import Record

SETTINGS = ("F", "LS", "LV")
SEEDS = tuple(range(5))


def make_record(values: dict, dataset="digits", steps=(100, 200, 300, 400, 500), curves=None):
    """A protocol record: per setting, per-seed values of each measure (``values``:
    {measure: {setting: 5 values}}); ``elbo_raw`` from the paper's bits/px; a monitored
    ELBO history per model (``curves``: {setting: (steps, seeds)}, flat by default)."""
    d = 4  # pixels per image
    models = [{"setting": s, "seed": seed} for s in SETTINGS for seed in SEEDS]
    columns = {
        key: [float(v) for s in SETTINGS for v in by_setting[s]]
        for key, by_setting in values.items()
    }
    if "paper_bpp" in columns:  # elbo_raw that gives these bits/px in the paper's convention
        bpp = np.asarray(columns.pop("paper_bpp"))
        columns["elbo_raw"] = (bpp * d * math.log(2) - 0.5 * d * math.log(2 * math.pi)).tolist()
    spread = np.tile(np.arange(len(SEEDS), dtype=float), (len(steps), 1))  # flat, sd 1.58
    curves = curves or {s: spread for s in SETTINGS}
    monitor = np.concatenate([np.asarray(curves[s], dtype=float) for s in SETTINGS], axis=1)
    sigma = np.ones_like(monitor)
    config = {
        "dataset": dataset,
        "settings": list(SETTINGS),
        "seeds": list(SEEDS),
        "n_visual": 100,
        "n_quality": 1000,
    }
    result = {
        "models": models,
        "image_shape": [1, 2, 2],
        "classifier_accuracy": 0.97,
        "real_confidence": 0.96,
        "real_frechet": 1.5,
        "noise_confidence": 0.7,
        "noise_frechet": 90.0,
        "history": {"step": list(steps), "monitor_elbo": monitor.tolist(), "sigma": sigma},
        **columns,
    }
    result["history"]["sigma"] = sigma.tolist()
    return Record({"experiment": f"images-{dataset}-protocol", "config": config, "result": result})


LOW, HIGH = [1.0, 1.1, 1.2, 1.3, 1.4], [5.0, 5.1, 5.2, 5.3, 5.4]


def measures(**changes) -> dict:
    """Every measure with F low and LV high (I1, I2 hold) and FD samples above FD means
    for F and LV (I3, I4 hold); ``changes`` replace {measure: {setting: values}}."""
    base = {
        "paper_bpp": {"F": LOW, "LS": LOW, "LV": HIGH},
        "visual_sharpness": {"F": LOW, "LS": LOW, "LV": HIGH},
        "visual_error": {"F": HIGH, "LS": HIGH, "LV": LOW},
        "frechet_mean": {"F": LOW, "LS": LOW, "LV": LOW},
        "frechet_sample": {"F": HIGH, "LS": HIGH, "LV": HIGH},
        "confidence_mean": {"F": HIGH, "LS": HIGH, "LV": HIGH},
        "confidence_sample": {"F": LOW, "LS": LOW, "LV": LOW},
    }
    for key, by_setting in changes.items():
        base[key] = {**base[key], **by_setting}
    return base


def verdicts(record) -> dict[str, str]:
    return {j.claim_id: j.verdict for j in ip.judged(record)}


def test_every_claim_holds_when_every_seed_agrees():
    judged = ip.judged(make_record(measures()))
    assert [j.claim_id for j in judged] == ["I1", "I2", "I3", "I4"]
    assert all(j.verdict == stats.HOLDS for j in judged)
    # complete separation of 5 against 5: p = 2 / C(10, 5), Holm x4 at most
    assert judged[0].p == pytest.approx(2 / 252)
    assert all(j.p_adjusted == pytest.approx(4 * 2 / 252) for j in judged)
    assert judged[0].diff == pytest.approx(4.0)  # mean(HIGH) - mean(LOW)


def test_the_opposite_sign_contradicts_a_claim_and_overlap_shows_nothing():
    rec = make_record(
        measures(
            visual_sharpness={"LV": LOW, "F": HIGH},  # F sharper: I2 contradicted
            frechet_sample={"LV": [1.05, 1.15, 1.25, 1.35, 1.45]},  # overlaps F's means
        )
    )
    assert verdicts(rec) == {
        "I1": stats.HOLDS,
        "I2": stats.CONTRADICTED,
        "I3": stats.HOLDS,
        "I4": stats.NOT_SHOWN,
    }


def test_the_paper_effect_is_given_for_mnist_only():
    digits, mnist = (ip.judged(make_record(measures(), dataset=d))[0] for d in ("digits", "mnist"))
    assert digits.paper_effect is None
    assert mnist.paper_effect == pytest.approx(4.89 - 0.06)
    assert "paper +4.83" in ip.evidence(mnist)
    assert "Holm" in ip.evidence(digits) and "; paper" not in ip.evidence(digits)


def test_a_record_without_the_protocol_measurements_is_refused():
    rec = make_record(measures())
    del rec.result["frechet_sample"]
    with pytest.raises(ValueError, match=r"lacks the protocol's measurements \['frechet_sample'\]"):
        ip.judged(rec)


def test_convergence_reads_the_monitored_elbo_of_every_setting():
    steps = (100, 200, 300, 400, 500)
    flat = np.tile([0.0, 1.0, 2.0, 3.0, 4.0], (5, 1))  # seeds spread: sd = 1.58
    rising = flat + np.array([[0], [1], [2], [3], [10]])  # +10 over the last fifth
    rec = make_record(measures(), curves={"F": flat, "LS": rising, "LV": flat}, steps=steps)
    conv = ip.convergence(rec)
    assert conv["F"].converged and conv["LV"].converged and not conv["LS"].converged
    assert conv["LS"].change == pytest.approx(7.0)  # from step 400 to step 500
    assert conv["F"].seed_std == pytest.approx(np.std([0, 1, 2, 3, 4], ddof=1))
    assert ip.unconverged(conv) == ["LS"]


def test_quality_table_has_a_row_per_setting_and_states_its_references():
    rec = make_record(measures())
    conv = ip.convergence(rec)
    html = ip.quality_table("digits", rec, conv).to_html()
    for s in SETTINGS:
        assert f">{s}<" in html
    assert "1.200 ±\u00a00.158" in html  # mean ± sd of LOW
    assert ">no<" not in html  # every setting converged
    assert "accuracy" in html and "0.97" in html and "90" in html  # classifier, noise floor


def test_claims_regroup_by_claim_and_read_as_one_line_when_datasets_agree():
    agree = {d: ip.judged(make_record(measures(), dataset=d)) for d in ("digits", "mnist")}
    grouped = ip.by_claim(agree)
    assert list(grouped) == ["I1", "I2", "I3", "I4"]
    assert ip.verdict_line(grouped["I2"]) == "holds on digits and mnist"
    differ = {
        "digits": ip.judged(make_record(measures())),
        "mnist": ip.judged(make_record(measures(visual_sharpness={"LV": LOW}), dataset="mnist")),
    }
    assert ip.verdict_line(ip.by_claim(differ)["I2"]) == "digits: holds; mnist: not shown"
    html = ip.claims_table(differ).to_html()
    assert html.count(">I2<") == 2 and "not shown" in html


def test_convergence_and_sigma_in_words():
    steps = (100, 200, 300, 400, 500)
    flat = np.tile([0.0, 1.0, 2.0, 3.0, 4.0], (5, 1))
    rising = flat + np.array([[0], [1], [2], [3], [10]])
    rec = make_record(measures(), curves={"F": flat, "LS": rising, "LV": flat}, steps=steps)
    other = make_record(measures(), dataset="mnist")
    converged = {"digits": ip.convergence(rec), "mnist": ip.convergence(other)}
    assert ip.unconverged_text(converged) == "digits: LS; mnist: none"
    # sigma halves over the last tenth for every seed: drift log 2, spread 0 -> moving
    sigma = np.ones((5, 15))
    sigma[-1, :] = 0.5
    rec.result["history"]["sigma"] = sigma.tolist()
    assert ip.ls_sigma_text({"digits": rec}) == (
        "digits: drift 0.69 against seed spread 0.0 (still moving)"
    )


def test_held_out_peak_and_the_fall_after_it():
    steps = (100, 200, 300, 400, 500)
    flat = np.tile([0.0, 1.0, 2.0, 3.0, 4.0], (5, 1))
    # LS rises to +20 (seeds' maxima at steps 200 and 300) and falls back to 0 and below
    up_down = flat + np.array([[0], [20], [19], [5], [-10]])
    up_down[2, 4] += 5  # seed 4 peaks at step 300
    rec = make_record(measures(), curves={"F": flat, "LS": up_down, "LV": flat}, steps=steps)
    peaks = ip.held_out_peaks(rec)
    assert peaks["LS"].step == 200  # the median of 200, 200, 200, 200, 300
    assert peaks["LS"].best == pytest.approx(22.8)  # maxima 20, 21, 22, 23 and 19 + 4 + 5
    assert peaks["LS"].last == pytest.approx(-8.0)
    assert peaks["LS"].fall == pytest.approx(30.8)
    conv = ip.convergence(rec)
    assert ip.overfitting_text(peaks, conv) == "LS (peak at step 200, then down 31 nats)"
    rising = make_record(
        measures(), curves={"F": flat, "LS": flat + np.arange(5)[:, None] * 9, "LV": flat}
    )
    assert ip.overfitting_text(ip.held_out_peaks(rising), ip.convergence(rising)) == "none"


def test_collapsed_seeds_count_a_kl_near_zero():
    rec = make_record(
        {**measures(), "kl": {"F": [0.0, 0.001, 0.4, 0.0, 2.0], "LS": HIGH, "LV": HIGH}}
    )
    assert ip.collapsed_seeds(rec) == (3, 5)
    assert ip.collapsed_seeds(rec, "LS") == (0, 5)


def test_realism_line_reads_seed_means_and_the_references():
    rec = make_record(measures())
    assert ip.realism_line(rec) == (
        "F means 5.20 / 1, F samples 1.20 / 5, LV samples 1.20 / 5, "
        "real images 0.96 / 2, uniform noise 0.70 / 90"
    )


def test_per_dataset_texts():
    rec = make_record(
        {**measures(), "kl": {"F": [0.0, 0.0, 0.4, 0.0, 2.0], "LS": HIGH, "LV": HIGH}}
    )
    rec.config.update(steps=8000, batch_size=100)
    rec.result["n_train"] = 1500
    assert ip.passes(rec) == pytest.approx(8000 * 100 / 1500)
    assert ip.per_dataset({"digits": rec, "mnist": rec}, ip.collapsed_text) == (
        "digits: 3 of 5; mnist: 3 of 5"
    )
    assert ip.overfitting_of(rec) == "none"
    assert ip.collapsed_text(rec, "LS") == "0 of 5"


def test_sizes_text():
    rec = make_record(measures())
    rec.config.update(n_monitor=297, steps=8000)
    assert (
        ip.sizes_text(rec)
        == "297 monitored, 100 reconstructed and 1000 generated images, 8000 steps"
    )
