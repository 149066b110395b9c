"""Migrate committed run records to "measurements only" (issue 10, deliverable 2).

    python tools/migrate_records.py            # migrate results/{table1,kl-weight,sphere-vae}
    python tools/migrate_records.py --check    # exit 1 if a record still needs migrating

Records used to store values computed from their configuration alone. Those now come from
the analysis layer (``lvae.analysis``), so a fix to ``lvae.theory`` reaches every record:

* sphere-vae: ``elbo_collapsed`` and ``theory_optimal_radius`` are dropped
  (``lvae.analysis.sphere.collapsed_elbo``, ``theory_radius``);
* table1: ``elbo_paper`` (``lvae.analysis.table1.paper_elbo``) and ``settings`` (the
  models' settings in order, ``record.models.values("setting")``) are dropped, and the
  figure points, stored by position (``recon[i]`` for ``settings[i]``, phase-2 panels
  reading ``data_phase2``), become one named panel per setting holding the data its
  reconstructions came from;
* kl-weight: stores measurements only already; left as it is.

The configuration and its hash are kept, so the book loads the same records; each file is
validated before and after, and rewritten atomically, only when it changes (running the
script twice changes nothing the second time).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lvae import store  # noqa: E402

EXPERIMENTS = ("table1", "kl-weight", "sphere-vae")
PANEL_KEYS = ("recon", "recon_sigma", "gen_mean", "gen_sample")
PHASE2_KINDS = ("fstar", "schedule")  # table1 models trained in the second stack


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
        for path in sorted((args.results_dir / experiment).glob("*.json")):
            changed = migrate(path, write=not args.check)
            pending += changed
            state = ("needs migrating" if args.check else "migrated") if changed else "current"
            print(f"{path.relative_to(args.results_dir)}: {state}")
    return 1 if args.check and pending else 0


if __name__ == "__main__":
    sys.exit(main())
