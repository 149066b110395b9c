"""Migrate the committed image records (``results/images-*``) to measurements only.

    python tools/migrate_image_records.py            # rewrite the records that need it
    python tools/migrate_image_records.py --check    # exit 1 if any record needs it

Records written before the analysis layer (``lvae.analysis.images``) stored values that
follow from other stored values or from the configuration alone, and figure panels by
position. This script

* drops ``paper_bits_per_pixel`` (the paper's convention applied to ``elbo_raw``),
  ``levels`` (the dataset's grey levels) and ``n_iw_used`` (``min(n_iw, n_eval)``), which
  the analysis layer now computes;
* stores each figure panel under its setting's name (``figures["recon"]["LV"]``) instead
  of as one array whose first axis follows ``figures["settings"]``; the pixels are the
  same bytes.

Configuration and hash are kept, so the book loads the same records; each file is written
atomically (``lvae.store.save_record``), and a migrated record is left alone (running the
script twice changes nothing).
"""

from __future__ import annotations

import argparse
import base64
import copy
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lvae.store import read_record, save_record  # noqa: E402

DERIVED = ("paper_bits_per_pixel", "levels", "n_iw_used")
PANELS = ("recon", "gen_mean", "gen_sample", "log_sigma_map")  # one image set per setting


def split_panel(packed: dict, names: list[str]) -> dict[str, dict]:
    """A packed array ``{"shape": [S, ...], "uint8_base64"}`` whose first axis follows
    ``names`` as ``{name: packed array of shape [...]}``, byte for byte."""
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


def migrate(record: dict) -> dict:
    """The record with derived fields dropped and figure panels named (a copy)."""
    out = copy.deepcopy(record)
    result = out["result"]
    for key in DERIVED:
        result.pop(key, None)
    figures = result.get("figures", {})
    names = figures.pop("settings", None)
    if names is not None:  # the old layout: panels by position
        for panel in PANELS:
            figures[panel] = split_panel(figures[panel], names)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", type=Path, default=ROOT / "results")
    parser.add_argument("--check", action="store_true", help="only report what would change")
    args = parser.parse_args(argv)
    stale = []
    for path in sorted(args.results.glob("images-*/*.json")):
        record = read_record(path)  # validated: parseable, complete, hash matches
        migrated = migrate(record)
        if migrated == record:
            continue
        stale.append(path)
        if not args.check:
            save_record(path, migrated)
        print(f"{'needs migration' if args.check else 'migrated'}: {path}")
    return 1 if args.check and stale else 0


if __name__ == "__main__":
    raise SystemExit(main())
