"""Migrate committed run records to "measurements only" (issue 10, deliverable 2).

    python tools/migrate_records.py            # migrate every record under results/
    python tools/migrate_records.py --check    # exit 1 if a record still needs migrating

Records used to store values computed from their configuration alone, or from other stored
values. Those now come from the analysis layer (``lvae.analysis``), so a fix to
``lvae.theory`` or to a conversion reaches every record:

* sphere-vae: ``elbo_collapsed`` and ``theory_optimal_radius`` are dropped
  (``lvae.analysis.sphere.collapsed_elbo``, ``theory_radius``);
* table1: ``elbo_paper`` (``lvae.analysis.table1.paper_elbo``) and ``settings`` (the
  models' settings in order, ``record.models.values("setting")``) are dropped, and the
  figure points, stored by position (``recon[i]`` for ``settings[i]``, phase-2 panels
  reading ``data_phase2``), become one named panel per setting holding the data its
  reconstructions came from;
* images-<dataset>: ``paper_bits_per_pixel`` (the paper's convention applied to
  ``elbo_raw``, ``lvae.analysis.images.paper_bits_per_pixel``), ``levels`` (the dataset's
  grey levels) and ``n_iw_used`` (``min(n_iw, n_eval)``) are dropped, and each figure
  panel, stored as one array whose first axis followed ``figures["settings"]``, is stored
  under its setting's name (``figures["recon"]["LV"]``), the same bytes;
* kl-weight: stores measurements only already; left as it is.

The configuration and its hash are kept, so the book loads the same records; each file is
validated before and after, and rewritten atomically, only when it changes (running the
script twice changes nothing the second time).
"""

from __future__ import annotations

import argparse
import base64
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lvae import store  # noqa: E402

EXPERIMENTS = ("table1", "kl-weight", "sphere-vae", "images-*")  # folders under results/
PANEL_KEYS = ("recon", "recon_sigma", "gen_mean", "gen_sample")
PHASE2_KINDS = ("fstar", "schedule")  # table1 models trained in the second stack
IMAGE_DERIVED = ("paper_bits_per_pixel", "levels", "n_iw_used")
IMAGE_PANELS = ("recon", "gen_mean", "gen_sample", "log_sigma_map")  # one set per setting


def named_panels(result: dict) -> dict:
    """table1 figure points by position -> one panel per setting (name -> point sets).

    A setting's phase comes from its models' ``kind``: the phase-2 stack (F*-VAE and the
    schedule replay) drew its own data points, stored as ``data_phase2``.
    """
    figures = result["figures"]
    kind = {m["setting"]: m["kind"] for m in result["models"]}
    panels = {}
    for i, name in enumerate(figures["settings"]):
        data = figures["data_phase2"] if kind[name] in PHASE2_KINDS else figures["data"]
        panels[name] = {"data": data, **{k: figures[k][i] for k in PANEL_KEYS}}
    return {"panels": panels}


def split_panel(packed: dict, names: list[str]) -> dict[str, dict]:
    """A packed image array ``{"shape": [S, ...], "uint8_base64"}`` whose first axis
    follows ``names`` as ``{name: packed array of shape [...]}``, byte for byte."""
    shape = packed["shape"]
    if shape[0] != len(names):
        raise ValueError(f"panel of shape {shape} does not hold one entry per setting {names}")
    raw = base64.b64decode(packed["uint8_base64"])
    size = len(raw) // len(names)
    return {
        name: {
            "shape": list(shape[1:]),
            "uint8_base64": base64.b64encode(raw[i * size : (i + 1) * size]).decode(),
        }
        for i, name in enumerate(names)
    }


def migrated(record: dict) -> dict:
    """The record without the fields derived from its configuration (a new dict)."""
    record = json.loads(json.dumps(record))  # a deep copy
    result = record["result"]
    if record["experiment"] == "sphere-vae":
        result.pop("elbo_collapsed", None)
        result.pop("theory_optimal_radius", None)
    elif record["experiment"] == "table1":
        if "panels" not in result["figures"]:
            result["figures"] = named_panels(result)
        result.pop("elbo_paper", None)
        result.pop("settings", None)
    elif record["experiment"].startswith("images-"):
        for key in IMAGE_DERIVED:
            result.pop(key, None)
        figures = result.get("figures", {})
        names = figures.pop("settings", None)
        if names is not None:  # the old layout: panels by position
            for panel in IMAGE_PANELS:
                figures[panel] = split_panel(figures[panel], names)
    return record


def migrate(path: Path, write: bool = True) -> bool:
    """Migrate the record at ``path``; return whether it changed (written when ``write``)."""
    before = store.read_record(path)  # InvalidRecord if it cannot be trusted
    after = migrated(before)
    if after == before:
        return False
    if write:
        store.save_record(path, after)
        store.read_record(path)  # still valid: same configuration, same hash
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results-dir", type=Path, default=ROOT / "results")
    parser.add_argument("--check", action="store_true", help="report, do not write")
    args = parser.parse_args(argv)
    pending = 0
    for experiment in EXPERIMENTS:
        for path in sorted(args.results_dir.glob(f"{experiment}/*.json")):
            changed = migrate(path, write=not args.check)
            pending += changed
            state = ("needs migrating" if args.check else "migrated") if changed else "current"
            print(f"{path.relative_to(args.results_dir)}: {state}")
    return 1 if args.check and pending else 0


if __name__ == "__main__":
    sys.exit(main())
