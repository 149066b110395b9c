"""tools/migrate_records.py: drops derived fields, names the figure panels, keeps the
configuration and its hash, and changes nothing when run twice."""

import importlib.util
import json
import subprocess
from pathlib import Path

import pytest

from lvae import store

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("migrate_records", ROOT / "tools/migrate_records.py")
migrate_records = importlib.util.module_from_spec(spec)
spec.loader.exec_module(migrate_records)


def old_table1(config: dict) -> dict:
    """A table1 record in the pre-migration layout: figures by position."""
    models = [
        {"setting": "F sigma=1", "kind": "fixed", "sigma": 1.0, "seed": 0},
        {"setting": "LS", "kind": "scalar", "sigma": 1.0, "seed": 0},
        {"setting": "F*", "kind": "fstar", "sigma": 0.1, "seed": 0},
    ]
    point = [[0.0, 1.0]]
    return {
        "schema": store.SCHEMA,
        "experiment": "table1",
        "config_hash": store.config_hash(config),
        "config": config,
        "provenance": {"profile": "smoke"},
        "result": {
            "models": models,
            "settings": ["F sigma=1", "LS", "F*"],
            "elbo": [-1.0, 0.5, 0.2],
            "elbo_paper": [0.84, 2.34, 2.04],
            "figures": {
                "settings": ["F sigma=1", "LS", "F*"],
                "data": point,
                "data_phase2": [[9.0, 9.0]],
                **{k: [[[i, i]] for i in range(3)] for k in migrate_records.PANEL_KEYS},
            },
        },
    }


def test_migration_names_panels_drops_derived_fields_and_is_idempotent(tmp_path):
    config = {"seeds": [0], "steps": 3}
    path = tmp_path / "table1" / f"{store.config_hash(config)}.json"
    store.save_record(path, old_table1(config))
    assert migrate_records.main(["--results-dir", str(tmp_path), "--check"]) == 1
    assert migrate_records.main(["--results-dir", str(tmp_path)]) == 0
    record = store.read_record(path)  # still valid under its hash
    result = record["result"]
    assert record["config"] == config and "elbo_paper" not in result and "settings" not in result
    panels = result["figures"]["panels"]
    assert set(result["figures"]) == {"panels"}
    assert panels["LS"] == {
        "data": [[0.0, 1.0]],
        **{k: [[1, 1]] for k in migrate_records.PANEL_KEYS},
    }
    assert panels["F*"]["data"] == [[9.0, 9.0]] and panels["F*"]["recon"] == [[2, 2]]
    text = path.read_text()
    assert migrate_records.main(["--results-dir", str(tmp_path), "--check"]) == 0
    assert migrate_records.main(["--results-dir", str(tmp_path)]) == 0
    assert path.read_text() == text  # a second run changes nothing


def test_sphere_records_lose_the_theory_values(tmp_path):
    config = {"seeds": [0]}
    record = {
        "schema": store.SCHEMA,
        "experiment": "sphere-vae",
        "config_hash": store.config_hash(config),
        "config": config,
        "provenance": {},
        "result": {
            "models": [{"ratio": 1.0}],
            "elbo": [1.0],
            "elbo_collapsed": [0.0],
            "theory_optimal_radius": [0.0],
        },
    }
    assert migrate_records.migrated(record)["result"] == {"models": [{"ratio": 1.0}], "elbo": [1.0]}
    assert "elbo_collapsed" in record["result"]  # the input is not modified


def test_committed_records_are_migrated():
    assert migrate_records.main(["--check"]) == 0


def test_committed_panels_hold_the_points_stored_by_position_before():
    """Every point of the committed figures, compared with the record at commit 81773eb
    (before the migration), read from git when this is a git checkout."""
    name = "results/table1/7216f54e778a0d20.json"
    old = subprocess.run(["git", "show", f"81773eb:{name}"], cwd=ROOT, capture_output=True)
    if old.returncode != 0:
        pytest.skip("the pre-migration commit is not available (not a full git checkout)")
    before = json.loads(old.stdout)
    after = json.loads((ROOT / name).read_text())
    assert after["config"] == before["config"] and after["config_hash"] == before["config_hash"]
    figures, panels = before["result"]["figures"], after["result"]["figures"]["panels"]
    assert list(panels) == sorted(figures["settings"])
    for i, setting in enumerate(figures["settings"]):  # the last two trained in phase 2
        data = figures["data_phase2"] if i >= len(figures["settings"]) - 2 else figures["data"]
        assert panels[setting]["data"] == data
        for key in ("recon", "recon_sigma", "gen_mean", "gen_sample"):
            assert panels[setting][key] == figures[key][i]
    assert after["result"]["elbo"] == before["result"]["elbo"]
    assert after["result"]["history"] == before["result"]["history"]
