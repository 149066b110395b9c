"""The image chapter's analysis layer (lvae.analysis.images) on small synthetic records
whose answers are known, and the migration of the committed image records."""

import importlib.util
import json
import math
import subprocess
from pathlib import Path

import numpy as np
import pytest
import torch

from lvae.analysis import images as im
from lvae.experiments import config as experiment_config
from lvae.images_experiment import _pack, images_from_log_sigma
from lvae.store import Record, config_hash

ROOT = Path(__file__).resolve().parents[1]
# The last commit whose image records stored derived values and positional figure panels.
PRE_MIGRATION = "81773ebbb4606061f56cb493fabe38c506bc8840"
COMMITTED = {
    "digits": "images-digits/6261a65381fd4889.json",
    "mnist": "images-mnist/125963be348103a3.json",
    "olivetti": "images-olivetti/c17b38e45b7e44b5.json",
}


def make_record(columns, settings=("F", "LV"), seeds=(0, 1), dataset="digits", **result):
    """A record of ``settings`` x ``seeds`` models (setting-major, as the experiment writes
    them) with per-model ``columns`` and further ``result`` fields."""
    config = {"dataset": dataset, "settings": list(settings), "n_iw": 5, "seeds": list(seeds)}
    models = [{"setting": s, "seed": seed} for s in settings for seed in seeds]
    res = {"models": models, "image_shape": [1, 2, 2], "n_eval": 3, **columns, **result}
    return Record({"experiment": f"images-{dataset}", "config": config, "result": res})


def pack(array) -> dict:
    return _pack(torch.as_tensor(np.asarray(array, dtype=np.float32)))


# -- what a record implies --------------------------------------------------------------


def test_levels_dimensions_and_iw_subset_follow_from_config_and_data():
    rec = make_record({}, dataset="digits")
    assert (im.levels(rec), im.n_dims(rec), im.n_iw_used(rec)) == (17, 4, 3)  # n_eval < n_iw
    rec.result["n_eval"] = 100
    assert im.n_iw_used(rec) == 5
    assert im.levels(make_record({}, dataset="mnist")) == 256


def test_paper_bits_per_pixel_adds_the_gaussian_constant_back_in_bits():
    d = 4
    constant = 0.5 * d * math.log(2 * math.pi)  # what the paper's convention leaves out
    elbo = np.array([-constant, -constant + d * math.log(2), -constant - 2 * d * math.log(2)])
    assert im.paper_bits_per_pixel(elbo, d) == pytest.approx([0.0, 1.0, -2.0], abs=1e-5)


# Values the records stored before migration (commit 81773ebb): (record, model, elbo_raw,
# paper_bits_per_pixel); the recomputation must give them exactly.
STORED_BEFORE = [
    ("digits", 0, -41.393699645996094, 0.3926467001438141),
    ("digits", 6, 65.80412292480469, 2.8091118335723877),
    ("mnist", 9, 2530.17578125, 5.981707572937012),
    ("olivetti", 0, -2383.93798828125, 0.486076295375824),
    ("olivetti", 9, 4819.1962890625, 3.023167371749878),
]


@pytest.mark.parametrize(("name", "model", "elbo", "stored"), STORED_BEFORE)
def test_paper_bits_per_pixel_is_what_the_records_stored(name, model, elbo, stored):
    rec = Record.load(ROOT / "results" / COMMITTED[name])
    assert rec.models.column("elbo_raw")[model] == elbo  # the measurement is unchanged
    assert im.record_paper_bits_per_pixel(rec)[model] == stored  # exactly, not nearly


def test_mse_bound():
    # log2(256) + log2(pi) / 2 and log2(17) + log2(pi) / 2: the chapter's 8.83 and 4.91.
    assert im.mse_bound(256) == pytest.approx(8.82574, abs=1e-5)
    assert im.mse_bound(17) == pytest.approx(4.91321, abs=1e-5)
    with pytest.raises(ValueError, match="levels must be an integer >= 2, got 1"):
        im.mse_bound(1)


# -- grouping by setting ----------------------------------------------------------------


def test_models_are_grouped_by_setting_in_the_configuration_order():
    rec = make_record({"kl": [1.0, 2.0, 3.0, 4.0], "elbo_raw": [0.0] * 4}, settings=("LV", "F"))
    assert list(im.per_setting(rec, "kl")) == ["LV", "F"]
    assert im.per_setting(rec, "kl")["F"].tolist() == [3.0, 4.0]
    grouped = im.by_setting(rec, [10, 20, 30, 40])
    assert grouped["LV"].tolist() == [10, 20] and grouped["F"].tolist() == [30, 40]
    with pytest.raises(ValueError, match="one entry per model"):
        im.by_setting(rec, [1, 2])
    with pytest.raises(KeyError, match="'nope' is not a per-model column"):
        im.per_setting(rec, "nope")


def test_the_paper_measure_is_computed_per_setting_from_the_raw_elbo():
    constant = 0.5 * 4 * math.log(2 * math.pi)
    rec = make_record({"elbo_raw": [-constant, -constant, -constant + 4 * math.log(2), 0.0]})
    bpp = im.per_setting(rec, "paper_bits_per_pixel")
    assert bpp["F"] == pytest.approx([0.0, 0.0], abs=1e-6)
    assert bpp["LV"][0] == pytest.approx(1.0, abs=1e-6)


def test_ranking_is_by_mean_lowest_first():
    values = {"F": np.array([3.0, 5.0]), "LV": np.array([1.0, 9.0]), "LS": np.array([2.0])}
    assert im.ranking(values) == ["LS", "F", "LV"]  # means 4, 5, 2


# -- the importance-weighted bound ------------------------------------------------------


def iw_record(last_lv=1.0):
    """F, LV, LV-deq x one seed: the bound at k = 1, 10, 100 and the paired ELBO."""
    by_k = {"1": [9.0, 5.0, 4.0], "100": [7.0, last_lv, 2.0], "10": [8.0, 3.0, 2.5]}
    return make_record(
        {"bits_per_dim_elbo_iw_subset": [9.5, 6.0, 4.5]},
        settings=("F", "LV", "LV-deq"),
        seeds=(0,),
        bits_per_dim_iw_by_k=by_k,
    )


def test_iw_convergence_measures_the_last_step_and_the_gap_to_the_elbo():
    iw = im.iw_convergence({"d": iw_record()})
    assert iw.decade_gain == {("d", "F"): 1.0, ("d", "LV"): 2.0, ("d", "LV-deq"): 0.5}
    assert iw.elbo_gap == {("d", "F"): 2.5, ("d", "LV"): 5.0, ("d", "LV-deq"): 2.5}
    assert iw.worse_than_f == []
    assert iw.rankings["d"] == {
        "ELBO": ["LV-deq", "LV", "F"],
        1: ["LV-deq", "LV", "F"],
        10: ["LV-deq", "LV", "F"],
        100: ["LV", "LV-deq", "F"],
    }
    assert im.iw_table(iw_record()).splitlines()[0].split() == [
        "setting",
        "ELBO",
        "IW",
        "k=1",
        "IW",
        "k=10",
        "IW",
        "k=100",
    ]


def test_models_worse_than_f_are_degenerate():
    iw = im.iw_convergence({"d": iw_record(last_lv=8.0)})
    assert iw.worse_than_f == [("d", "LV")]
    assert im.degenerate_gains(iw) == "LV on d: -5 bits/dim"
    assert im.degenerate_gains(im.iw_convergence({"d": iw_record()})) == "none"


def test_largest_names_setting_and_dataset():
    gains = {("mnist", "LV"): 0.5, ("digits", "F"): 0.25, ("digits", "LV"): 9.0}
    assert im.largest(gains, [("mnist", "LV"), ("digits", "F")]) == "0.5 bits/dim (LV on mnist)"
    assert im.largest(gains, [("olivetti", "LV")]) == "not measured"


def test_iw_ranking_verdict_both_ways():
    same = {"a": {"ELBO": ["F", "LV"], 1: ["F", "LV"]}, "b": {"ELBO": ["LV", "F"]}}
    assert im.iw_ranking_verdict(same) == (
        "the ranking of the settings is the same for the ELBO and for every k, on every dataset"
    )
    changed = {**same, "c": {"ELBO": ["F", "LV"], 10: ["LV", "F"]}}
    assert im.iw_ranking_verdict(changed) == "the ranking of the settings changes with k on c"
    assert im.iw_ranking_verdict(im.iw_convergence({"d": iw_record()}).rankings).endswith(" d")


# -- figures and the visual measures ----------------------------------------------------

CHECKER = np.array([[[[0.0, 1.0], [1.0, 0.0]]]])  # (1, 1, 2, 2)


def figure_record(recon_lv, sample_gap_lv=0.2):
    x = CHECKER
    blur = np.full_like(x, 0.4)
    mean = np.full_like(x, 0.4)
    figures = {
        "originals": pack(x[0:1]),
        "recon": {"F": pack(blur), "LV": pack(recon_lv)},
        "gen_mean": {"F": pack(mean), "LV": pack(mean)},
        "gen_sample": {"F": pack(mean + 0.6), "LV": pack(mean + sample_gap_lv)},
        "log_sigma_map": {"F": pack(blur), "LV": pack(blur)},
    }
    return make_record({}, seeds=(0,), figures=figures)


def test_visual_measures_on_known_panels():
    v = im.visual_measures(figure_record(recon_lv=CHECKER))
    assert v["LV"] == {"sharpness": 1.0, "error": 0.0, "sample_gap": pytest.approx(0.2, abs=0.01)}
    assert v["F"]["sharpness"] == 0.0  # a constant reconstruction has no detail
    assert v["F"]["error"] == pytest.approx(0.5, abs=0.01)  # |0.4 - 0| and |0.4 - 1|, halved
    assert v["F"]["sample_gap"] == pytest.approx(0.6, abs=0.01)


def test_panels_are_read_by_name_in_the_configuration_order():
    rec = figure_record(recon_lv=CHECKER)
    assert list(im.panels(rec, "recon")) == ["F", "LV"]
    assert np.array_equal(im.panels(rec, "recon")["LV"], CHECKER)
    with pytest.raises(ValueError, match="panel must be one of"):
        im.panels(rec, "recons")


# -- claims -----------------------------------------------------------------------------


def test_significant_both_ways_and_untested_with_one_seed():
    low, high = [1.0, 1.1, 0.9, 1.05], [3.0, 3.1, 2.9, 3.05]
    holds, p = im.significant(high, low, +1)
    assert holds is True and p < 1e-4
    assert im.significant(high, low, -1)[0] is False  # the right difference, wrong direction
    assert im.significant([1.0, 2.0, 3.0], [1.5, 2.5, 1.8], +1)[0] is False  # p >= 0.05
    holds, p = im.significant([1.0], low, +1)
    assert holds is None and math.isnan(p)
    with pytest.raises(ValueError, match="better must be"):
        im.significant(high, low, 2)


def claims_record(lv_wins: bool):
    """F, LV, LV-floor, LV-deq on two seeds; LV and LV-deq beat F or not on every measure."""
    settings = ("F", "LS", "LV", "LV-floor", "LV-deq")
    good, bad = [1.0, 1.1], [5.0, 5.2]
    f, lv = (bad, good) if lv_wins else (good, bad)
    bpd = f + [3.0, 3.1] + lv + [2.0, 2.1] + lv
    low_elbo, high_elbo = [-10.0, -9.5], [50.0, 51.0]
    f_elbo, lv_elbo = (low_elbo, high_elbo) if lv_wins else (high_elbo, low_elbo)
    elbo = f_elbo + [0.0, 0.5] + lv_elbo + [0.0, 0.5, 0.0, 0.5]
    return make_record({"bits_per_dim_iw": bpd, "elbo_raw": elbo}, settings=settings)


@pytest.mark.parametrize("lv_wins", [True, False])
def test_claims_and_where_they_hold(lv_wins):
    rec = claims_record(lv_wins)
    table = {key: im.per_setting(rec, key) for key in ("paper_bits_per_pixel", "bits_per_dim_iw")}
    sharp = {"sharpness": 0.9, "error": 0.01, "sample_gap": 0.01}
    blurred = {"sharpness": 0.3, "error": 0.1, "sample_gap": 0.2}
    lv = sharp if lv_wins else blurred
    visual = {"F": blurred if lv_wins else sharp, "LV": lv, "LV-floor": lv}
    claims = im.image_claims("toy", rec, table, visual)
    assert len(claims) == 7 and {c.dataset for c in claims} == {"toy"}
    assert [c.holds for c in claims] == [lv_wins] * 7
    expected = "toy" if lv_wins else "none of them"
    assert {key: im.where(claims, text) for key, text in im.CLAIMS.items()} == dict.fromkeys(
        im.CLAIMS, expected
    )
    with pytest.raises(ValueError, match="no claim reads 'LS wins'"):
        im.where(claims, "LS wins")


def test_samples_count_as_close_only_four_times_closer_than_f():
    rec = claims_record(True)
    table = {key: im.per_setting(rec, key) for key in ("paper_bits_per_pixel", "bits_per_dim_iw")}
    v = {"sharpness": 1.0, "error": 0.0}
    visual = {
        "F": {**v, "sample_gap": 0.4},
        "LV": {**v, "sample_gap": 0.1},
        "LV-floor": {**v, "sample_gap": 0.099},
    }
    claims = im.image_claims("toy", rec, table, visual)
    assert [c.holds for c in claims if "samples" in c.text] == [False, True]  # 0.4 > 4 * 0.1?


# -- sigma maps -------------------------------------------------------------------------


def test_edge_strength_of_a_ramp_and_a_step():
    ramp = np.tile(np.arange(5.0) * 0.1, (1, 1, 3, 1))
    assert np.allclose(im.edge_strength(ramp), 0.1)
    step = np.tile(np.array([0.0, 0.0, 1.0, 1.0]), (1, 1, 2, 1))  # (1, 1, 2, 4)
    assert im.edge_strength(step)[0, 0].tolist() == [[0.0, 0.5, 0.5, 0.0]] * 2


def test_sigma_maps_separate_edges_background_and_strokes():
    x = np.tile(np.array([0.0, 0.0, 1.0, 1.0]), (1, 1, 4, 1))  # a vertical step: edge columns 1, 2
    log_sigma = np.tile(np.array([-10.0, 0.0, 0.0, -10.0]), (1, 1, 4, 1))  # large on the edge
    stored = pack(images_from_log_sigma(torch.as_tensor(log_sigma)))
    figures = {"originals": pack(x), "log_sigma_map": {s: stored for s in im.LEARNED}}
    rec = make_record({}, settings=im.LEARNED, seeds=(0,), figures=figures)
    row = im.sigma_map_stats(rec)["LV"]
    assert row["edges"] == pytest.approx(1.0) and row["elsewhere"] == pytest.approx(math.exp(-10))
    assert row["rho"] == pytest.approx(1.0)
    # background (black): columns 0, 1; strokes: columns 2, 3; each half edge.
    assert row["background"] == pytest.approx(math.exp(-5)) == row["strokes"]
    rec.config["dataset"] = "olivetti"  # faces have no black background
    assert "background" not in im.sigma_map_stats(rec)["LV"]


def test_sigma_edge_verdict_both_ways():
    assert im.sigma_edge_verdict([1.7, 3.1]) == "LV-VAE keeps σ larger on edges in every dataset"
    assert im.sigma_edge_verdict([1.7, 0.9]) == "σ is not larger on edges in every dataset"
    with pytest.raises(ValueError, match="at least one"):
        im.sigma_edge_verdict([])


# -- measures compared ------------------------------------------------------------------


def test_best_setting_and_models_worse_than_a_uniform_guess():
    # digits: 17 levels, a uniform guess costs log2(17) = 4.09 bits/dim.
    bpd = [6.0, 6.0, 4.0, 4.2, 3.0, 3.0, 2.0, 2.0]
    rec = make_record({"bits_per_dim_iw": bpd}, settings=("F", "LV", "LV-floor", "LV-deq"))
    assert im.best_by_bpd(rec) == "LV-deq"
    assert im.worse_than_uniform({"digits": rec}) == ["digits (LV)"]  # mean 4.1 > 4.09
    rec.result["bits_per_dim_iw"] = [6.0, 6.0, 4.0, 4.1, 3.0, 3.0, 2.0, 2.0]  # mean 4.05
    assert im.worse_than_uniform({"digits": rec}) == []


def test_mnist_against_the_paper():
    assert im.mnist_vs_paper(None) == "(No MNIST record in this run.)"
    bpp = {"F": np.array([0.4, 0.42]), "LV": np.array([2.3]), "LV-floor": np.array([5.875])}
    assert im.mnist_vs_paper({"paper_bits_per_pixel": bpp}) == (
        "On MNIST the paper reports 0.06 bits per pixel for F-VAE and 4.89 for LV-VAE; we "
        "find 0.41 and 2.30, and 5.88 for LV-VAE with the floor."
    )


def test_flop_count_scales_with_the_batch_not_with_how_it_is_counted():
    config = experiment_config("images-digits", "smoke", n_blocks=0, width=2, latent_dim=2)
    two = im.training_cost(config, (1, 8, 8), counted_batch=2)
    four = im.training_cost(config, (1, 8, 8), counted_batch=4)
    assert two["per_step"] == pytest.approx(four["per_step"], rel=0.01)
    assert two["n_models"] == 5 and two["n_params"] > 0
    assert two["total"] == pytest.approx(two["per_step"] * 5 * config.steps)


# -- migration of the committed records -------------------------------------------------


def load_migration():
    spec = importlib.util.spec_from_file_location("migrate", ROOT / "tools" / "migrate_records.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def old_format_record():
    """A record as written before the migration: derived values, panels by position."""
    config = {"dataset": "digits", "settings": ["F", "LV"]}
    panel = pack(np.stack([np.zeros((1, 1, 2, 2)), np.ones((1, 1, 2, 2))]))
    result = {
        "models": [{"setting": "F", "seed": 0}, {"setting": "LV", "seed": 0}],
        "elbo_raw": [1.0, 2.0],
        "paper_bits_per_pixel": [0.1, 0.2],
        "levels": 17,
        "n_iw_used": 3,
        "figures": {"settings": ["F", "LV"], "originals": pack(np.zeros((1, 1, 2, 2)))}
        | dict.fromkeys(("recon", "gen_mean", "gen_sample", "log_sigma_map"), panel),
    }
    return {
        "schema": 1,
        "experiment": "images-digits",
        "config": config,
        "config_hash": config_hash(config),
        "provenance": {},
        "result": result,
    }


def test_migration_drops_derived_values_names_panels_and_is_idempotent(tmp_path):
    migration = load_migration()
    path = tmp_path / "images-digits" / "a.json"
    path.parent.mkdir()
    path.write_text(json.dumps(old_format_record()))
    assert migration.main(["--results-dir", str(tmp_path), "--check"]) == 1
    assert migration.main(["--results-dir", str(tmp_path)]) == 0
    rec = Record.load(path)  # still valid: same configuration, same hash
    assert rec.config_hash == old_format_record()["config_hash"]
    assert not {"paper_bits_per_pixel", "levels", "n_iw_used"} & set(rec.result)
    assert "settings" not in rec.result["figures"]
    assert im.panels(rec, "recon")["F"].max() == 0.0 and im.panels(rec, "recon")["LV"].min() == 1.0
    before = path.read_bytes()
    assert migration.main(["--results-dir", str(tmp_path), "--check"]) == 0
    migration.main(["--results-dir", str(tmp_path)])
    assert path.read_bytes() == before  # nothing left to do
    with pytest.raises(ValueError, match="one entry per setting"):
        migration.split_panel(pack(np.zeros((3, 1, 1, 2, 2))), ["F", "LV"])


def test_the_committed_image_records_are_migrated():
    assert load_migration().main(["--results-dir", str(ROOT / "results"), "--check"]) == 0


def pre_migration(relative: str) -> dict:
    shown = subprocess.run(
        ["git", "show", f"{PRE_MIGRATION}:results/{relative}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    if shown.returncode != 0:  # a shallow clone: the commit is not there
        pytest.skip(f"commit {PRE_MIGRATION} is not in this clone: {shown.stderr.strip()}")
    return json.loads(shown.stdout)


@pytest.mark.parametrize("name", sorted(COMMITTED))
def test_the_analysis_layer_recomputes_what_the_records_stored(name):
    old = pre_migration(COMMITTED[name])
    rec = Record.load(ROOT / "results" / COMMITTED[name])
    assert rec.config == old["config"] and rec.config_hash == old["config_hash"]
    assert im.record_paper_bits_per_pixel(rec).tolist() == old["result"]["paper_bits_per_pixel"]
    assert im.levels(rec) == old["result"]["levels"]
    assert im.n_iw_used(rec) == old["result"]["n_iw_used"]
    assert load_migration().migrated(old) == rec.data  # nothing else changed
    # The named panels hold the pixels the positional ones held.
    figures = old["result"]["figures"]
    for panel in ("recon", "gen_mean", "gen_sample"):
        from lvae.images_experiment import unpack

        stacked = unpack(figures[panel])
        for i, setting in enumerate(figures["settings"]):
            assert np.array_equal(im.panels(rec, panel)[setting], stacked[i])


def test_the_cli_headline_table_computes_the_paper_measure():
    from lvae.__main__ import headline_table

    record = json.loads((ROOT / "results" / COMMITTED["mnist"]).read_text())
    lines = headline_table(record).splitlines()
    assert "paper bits/px" in lines[1]
    # The mean over seeds of the values stored before migration: 5.877 for LV-floor.
    assert lines[5].split()[:4] == ["LV-floor", "2473", "±", "67"]
    assert lines[5].split()[4] == "5.877"


def test_the_two_conventions_side_by_side_and_the_kl_text():
    rec = make_record({}, dataset="digits")
    table = {
        key: {s: np.array([i + 1.0, i + 2.0]) for i, s in enumerate(im.LEARNED)}
        for key in im.COMPARED
    }
    rows = im.compared_rows("digits", rec, table)
    assert [row[1] for row in rows] == list(im.COMPARED.values())
    assert rows[0] == ["digits", "paper's bits/px", "1.5", "2.5", "3.5", ""]
    assert rows[2][-1] == "4.09"  # log2(17): a uniform guess on the digits
    kl = {"a": {"kl": {"LV": np.array([1.0, 2.0]), "LV-floor": np.array([13.31])}}}
    assert im.kl_with_and_without_floor(kl) == "a: 1.5 without, 13.3 with"


def test_visual_table_has_one_row_per_dataset_and_setting_rounded():
    visual = {
        "digits": {
            "F": {"sharpness": 0.5, "error": 0.12345, "sample_gap": 0.0},
            "LV": {"sharpness": 1.004, "error": 0.1, "sample_gap": 0.25},
        },
    }
    html = im.visual_table(visual).to_html()
    for text in ("digits", "0.50", "0.123", "1.00", "0.250", "sample − mean"):
        assert text in html, text
    assert html.count("<tr>") == 3  # the header and one row per setting
