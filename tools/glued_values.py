"""Print every value the book glues into its prose, from the committed notebooks.

    python tools/glued_values.py > before.json     # on one commit
    python tools/glued_values.py --compare before.json   # on another: what changed

A glued value is an output that ``myst_nb.glue`` recorded under a name; its plain-text
form is what the prose shows (figures are listed as ``<figure>``, since their pixels are
not a value). A refactor that must leave the book's numbers alone is checked by comparing
the two listings: ``--compare`` prints each name whose text differs, is new or is gone,
and exits 1 when there is any.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PREFIX = "application/papermill.record/"


def glued_values(notebooks: Path = ROOT / "notebooks") -> dict[str, dict[str, str]]:
    """``{notebook stem: {glue name: plain text}}`` for every committed notebook."""
    values: dict[str, dict[str, str]] = {}
    for path in sorted(notebooks.glob("*.ipynb")):
        found = values.setdefault(path.stem, {})
        for cell in json.loads(path.read_text())["cells"]:
            for output in cell.get("outputs", []):
                name = output.get("metadata", {}).get("scrapbook", {}).get("name")
                if name is None:
                    continue
                data = output.get("data", {})
                text = data.get(PREFIX + "text/plain")
                if any(key.startswith(PREFIX + "image/") for key in data):
                    text = "<figure>"
                found[name] = text if text is not None else "<" + ",".join(sorted(data)) + ">"
    return values


def differences(before: dict, after: dict) -> list[str]:
    lines = []
    for stem in sorted(set(before) | set(after)):
        old, new = before.get(stem, {}), after.get(stem, {})
        for name in sorted(set(old) | set(new)):
            if old.get(name) != new.get(name):
                lines.append(
                    f"{stem}:{name}: {old.get(name, '(absent)')!r} -> {new.get(name, '(absent)')!r}"
                )
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--compare", type=Path, help="a listing made earlier by this tool")
    args = parser.parse_args(argv)
    now = glued_values()
    if args.compare is None:
        json.dump(now, sys.stdout, indent=1, sort_keys=True)
        print()
        return 0
    changed = differences(json.loads(args.compare.read_text()), now)
    print("\n".join(changed) if changed else "every glued value is unchanged")
    return 1 if changed else 0


if __name__ == "__main__":
    sys.exit(main())
