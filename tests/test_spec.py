"""Model specs: the init-seed rule, the stack order, labels, record rows, validation."""

import dataclasses
from pathlib import Path

import pytest

from lvae import experiments, store
from lvae.images import QUANTIZATION_LEVELS
from lvae.images_experiment import IMAGES_ROW, SETTINGS, images_specs
from lvae.spec import ModelSpec, grid, init_seed, record_rows
from lvae.sphere_experiment import SPHERE_ROW, sphere_specs
from lvae.toy2d_experiment import KL_WEIGHT_ROW, TABLE1_ROW, kl_weight_specs, table1_specs

ROOT = Path(__file__).resolve().parents[1]


def test_init_seed_rule():
    assert init_seed(0, 0) == 0 and init_seed(0, 7) == 7
    assert init_seed(3, 5) == 3005  # 1000 * setting index + seed
    assert init_seed(8, 2, offset=100) == 8102
    for args, pattern in [
        ((0, 1000), "0 <= seed \\+ offset < 1000"),
        ((2, 950, 100), "seed=950, offset=100"),
        ((-1, 0), "setting_index=-1"),
        ((0, -1), "seed=-1"),
        ((0, True), "seed must be an integer, got True"),
        ((0, 1.0), "seed must be an integer, got 1.0"),
    ]:
        with pytest.raises(ValueError, match=pattern):
            init_seed(*args)


def test_grid_puts_settings_outermost_and_gives_every_pair_its_own_initialisation():
    settings = [ModelSpec("A"), ModelSpec("B", "scalar"), ModelSpec("C", "vector")]
    specs = grid(settings, [0, 1])
    assert [(s.setting, s.seed, s.init_seed) for s in specs] == [
        ("A", 0, 0),
        ("A", 1, 1),
        ("B", 0, 1000),
        ("B", 1, 1001),
        ("C", 0, 2000),
        ("C", 1, 2001),
    ]
    assert [s.observation for s in specs] == ["fixed"] * 2 + ["scalar"] * 2 + ["vector"] * 2
    later = grid(settings[:1], [0, 1], first_index=3, init_offset=100)
    assert [s.init_seed for s in later] == [3100, 3101]
    assert len({s.init_seed for s in specs + later}) == 8


def test_labels_and_record_rows():
    spec = ModelSpec("R/sigma=2", "fixed", 0.5, seed=3, tags=(("ratio", 2.0),))
    assert spec.label == "R/sigma=2, seed=3"
    assert ModelSpec("", seed=4).label == "seed=4"
    # The fields named, in that order, from the spec or its tags.
    row = spec.record_row(("ratio", "seed", "sigma"))
    assert row == {"ratio": 2.0, "seed": 3, "sigma": 0.5}
    assert list(row) == ["ratio", "seed", "sigma"]
    assert record_rows([spec, dataclasses.replace(spec, seed=5)], ("seed",)) == [
        {"seed": 3},
        {"seed": 5},
    ]
    with pytest.raises(ValueError, match="'depth' is neither a field nor a tag"):
        spec.record_row(("depth",))
    with pytest.raises(ValueError, match="'tags' is neither a field nor a tag"):
        spec.get("tags")


@pytest.mark.parametrize(
    "fields,pattern",
    [
        ({"observation": "learned"}, "observation must be one of"),
        ({"sigma": 0.0}, "sigma must be a finite number > 0, got 0.0"),
        ({"sigma": float("nan")}, "sigma must be a finite number > 0, got nan"),
        ({"sigma": "1"}, "sigma must be a finite number > 0, got '1'"),
        ({"kl_weight": -1.0}, "kl_weight must be a finite number > 0, got -1.0"),
        ({"kl_weight": float("inf")}, "kl_weight must be a finite number > 0, got inf"),
        (
            {"observation": "vector", "sigma_floor": -0.1},
            "sigma_floor must be a finite number >= 0",
        ),
        ({"sigma_floor": 0.1}, "sigma_floor applies to observation 'vector' only"),
        ({"seed": -1}, "seed must be an integer >= 0, got -1"),
        ({"init_seed": 1.5}, "init_seed must be an integer >= 0, got 1.5"),
        ({"dequantised": 1}, "dequantised must be True or False, got 1"),
        ({"tags": (("seed", 1),)}, "tags must have distinct names, none a field's"),
        ({"tags": (("a", 1), ("a", 2))}, "tags must have distinct names"),
        ({"setting": None}, "setting must be a string"),
    ],
)
def test_bad_specs_are_rejected(fields, pattern):
    with pytest.raises(ValueError, match=pattern):
        ModelSpec(**{"setting": "S", **fields})


def _committed(name, config):
    """The committed book record of ``config`` (loaded and validated)."""
    plain = experiments.normalised(config)
    return store.load_record(store.record_path(ROOT / "results", name, plain), name, plain)


def test_specs_give_the_rows_and_initialisations_of_the_committed_records():
    """The specs each experiment builds reproduce the "models" rows its committed book
    record holds, and the init seeds are those the records were trained from (1000 i + s:
    setting i, seed s; phase 2 of table1 after phase 1's settings, seeds moved by 100)."""
    config = experiments.config("sphere-vae", "book")
    specs = sphere_specs(config)
    assert record_rows(specs, SPHERE_ROW) == _committed("sphere-vae", config)["result"]["models"]
    assert [s.init_seed for s in specs] == [
        1000 * i + s for i in range(len(config.ratios)) for s in config.seeds
    ]

    config = experiments.config("table1", "book")
    result = _committed("table1", config)["result"]
    specs = table1_specs(config) + table1_specs(config, result["f_star_sigma"])
    assert record_rows(specs, TABLE1_ROW) == result["models"]
    n1 = len(config.fixed_sigmas) + 2
    assert [s.init_seed for s in specs[-2 * len(config.seeds) :]] == [
        1000 * i + s + 100 for i in (n1, n1 + 1) for s in config.seeds
    ]

    config = experiments.config("kl-weight", "book")
    weighted, rescaled = kl_weight_specs(config)
    assert (
        record_rows(weighted, KL_WEIGHT_ROW) == _committed("kl-weight", config)["result"]["models"]
    )
    assert [s.init_seed for s in weighted] == [s.init_seed for s in rescaled]
    assert [s.sigma * s.kl_weight**0.5 for s in weighted] == [s.sigma for s in rescaled]

    for dataset in ("digits", "mnist", "olivetti"):
        config = experiments.config(f"images-{dataset}", "book")
        specs = images_specs(config, QUANTIZATION_LEVELS[dataset])
        committed = _committed(f"images-{dataset}", config)["result"]["models"]
        assert record_rows(specs, IMAGES_ROW) == committed


def test_image_settings_keep_their_initialisations_in_any_subset():
    config = experiments.config("images-digits", "smoke", settings=("LV-deq", "F"), seeds=(0, 2))
    specs = images_specs(config, 17)
    index = list(SETTINGS).index
    assert [s.init_seed for s in specs] == [
        1000 * index("LV-deq"),
        1000 * index("LV-deq") + 2,
        0,
        2,
    ]
    assert [s.dequantised for s in specs] == [True, True, False, False]
    floor = images_specs(experiments.config("images-digits", "smoke", settings=("LV-floor",)), 17)
    assert floor[0].sigma_floor == pytest.approx(1 / 17)  # one grey level of 17
