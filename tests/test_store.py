"""Run records: validation on load, and the model table that readers filter."""

import json

import numpy as np
import pytest

from lvae import store


def synthetic(tmp_path, **result_extra):
    """A small record whose answers are known: 2 settings x 3 seeds, elbo = seed + offset."""
    models = [{"setting": s, "seed": k} for s in ("A", "B") for k in range(3)]
    offset = {"A": 0.0, "B": 10.0}
    result = {
        "models": models,
        "elbo": [m["seed"] + offset[m["setting"]] for m in models],
        "settings": ["A", "B"],  # two entries, not one per model: not a column
        "history": {"step": [1, 2], "sigma": [[1.0] * 6, [0.5 + 0.1 * i for i in range(6)]]},
        **result_extra,
    }
    config = {"seeds": [0, 1, 2], "steps": 2}
    data = {
        "schema": store.SCHEMA,
        "experiment": "synthetic",
        "config_hash": store.config_hash(config),
        "config": config,
        "provenance": store.provenance(
            profile="smoke", seeds=[0, 1, 2], steps=2, device="cpu", wall_time_s=1.0
        ),
        "result": result,
    }
    path = tmp_path / "synthetic" / f"{data['config_hash']}.json"
    store.save_record(path, data)
    return path


def test_model_table_filters_and_reads_columns(tmp_path):
    record = store.Record.load(synthetic(tmp_path))
    models = record.models
    assert len(models) == 6 and models.fields == ["seed", "setting"]
    assert models.columns == ["elbo"]  # "settings" has 2 entries for 6 models
    assert models.values("setting") == ["A", "B"]
    np.testing.assert_array_equal(models.where(setting="B").column("elbo"), [10, 11, 12])
    np.testing.assert_array_equal(
        models.where(seed=lambda s: s >= 1).column("elbo"), [1, 2, 11, 12]
    )
    assert [m["seed"] for m in models.where(setting="A", seed=2)] == [2]
    assert len(models.where(setting="C")) == 0
    steps, sigma = models.where(setting="B").history("sigma")
    np.testing.assert_array_equal(steps, [1, 2])
    np.testing.assert_allclose(sigma, [[1.0, 1.0, 1.0], [0.8, 0.9, 1.0]])
    assert record.describe() == "profile smoke, 3 seeds (0–2), 2 steps, device cpu"


def test_model_table_errors_name_what_exists(tmp_path):
    models = store.Record.load(synthetic(tmp_path)).models
    with pytest.raises(KeyError, match="no model has a field 'sigma'; fields: \\['seed'"):
        models.where(sigma=1.0)
    with pytest.raises(KeyError, match="'settings' is not a per-model column; columns: \\['elbo'"):
        models.column("settings")
    with pytest.raises(KeyError, match="no history of 'kl'; logged terms: \\['sigma'\\]"):
        models.history("kl")


@pytest.mark.parametrize(
    "damage,reason",
    [
        (lambda d: d.pop("provenance"), "missing fields"),
        (lambda d: d.__setitem__("schema", 99), "schema 99"),
        (lambda d: d["config"].__setitem__("steps", 3), "does not match its hash"),
    ],
)
def test_a_damaged_record_is_refused_with_its_reason(tmp_path, damage, reason):
    path = synthetic(tmp_path)
    data = json.loads(path.read_text())
    damage(data)
    path.write_text(json.dumps(data))
    with pytest.raises(store.InvalidRecord, match=reason):
        store.Record.load(path)
    path.write_text("{not json")
    with pytest.raises(store.InvalidRecord, match="unreadable"):
        store.Record.load(path)


def test_load_record_also_checks_the_request(tmp_path):
    path = synthetic(tmp_path)
    config = {"seeds": [0, 1, 2], "steps": 2}
    assert store.load_record(path, "synthetic", config)["experiment"] == "synthetic"
    with pytest.raises(store.InvalidRecord, match="a record of synthetic, not table1"):
        store.load_record(path, "table1", config)
    with pytest.raises(store.InvalidRecord, match="does not match the request"):
        store.load_record(path, "synthetic", {"seeds": [0], "steps": 2})


def test_every_committed_record_loads_as_a_record():
    results = store.default_results_dir()
    # results/bench/ holds benchmark measurements, not run records.
    paths = sorted(p for p in results.glob("*/*.json") if p.parent.name != "bench")
    assert paths, f"no records in {results}"
    for path in paths:
        record = store.Record.load(path)
        if "models" in record.result:
            models = record.models
            assert len(models) == len(record.result["models"]) and models.columns
