"""Full-page screenshots of every chapter of the built book, for a check by eye.

    python book/screenshots.py              # _build/html -> _build/screenshots/*.png
    python book/screenshots.py --width 1280 --browser chromium

Run ``make book`` first. Uses headless Chromium (Debian's ``chromium`` package). Each page
is loaded twice: once with a small script that reports its height and every element that
would need a horizontal scrollbar (printed for each page; there should be none), once to
capture the full page at that height. The PNGs are not committed.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
]

# Writes the page's height and whether anything is wider than the viewport into the DOM.
PROBE = """
<script>
window.addEventListener('load', () => setTimeout(() => {
  const d = document.documentElement;
  const wide = [...document.querySelectorAll('main *')].filter(
      e => e.scrollWidth > e.clientWidth + 8 && e.offsetParent !== null &&
           ['auto', 'scroll'].includes(getComputedStyle(e).overflowX) && e.clientWidth > 0)
    .map(e => e.tagName + '.' + (e.className || '').toString().split(' ')[0] + ' '
         + e.scrollWidth + '>' + e.clientWidth + ' ' + e.textContent.trim().slice(0, 40));
  const p = document.createElement('pre');
  p.id = 'lvae-probe';
  p.textContent = 'HEIGHT=' + d.scrollHeight + ' PAGEWIDE=' + (d.scrollWidth > d.clientWidth)
    + ' SCROLLERS=' + JSON.stringify(wide);
  document.body.appendChild(p);
}, 1500));
</script>
"""


def chromium(browser: str, *args: str, timeout: int = 120) -> str:
    with tempfile.TemporaryDirectory() as profile:
        cmd = [browser, *FLAGS, f"--user-data-dir={profile}", *args]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    return done.stdout


def probe(browser: str, page: Path, width: int) -> tuple[int, str]:
    """Page height at ``width``, and the elements that need a horizontal scrollbar."""
    probed = page.with_name(page.stem + ".probe.html")
    probed.write_text(page.read_text().replace("</body>", PROBE + "</body>"))
    try:
        dom = chromium(
            browser,
            f"--window-size={width},1000",
            "--virtual-time-budget=5000",
            "--dump-dom",
            probed.as_uri(),
        )
    finally:
        probed.unlink(missing_ok=True)
    m = re.search(r"HEIGHT=(\d+) PAGEWIDE=(\w+) SCROLLERS=(.*?)</pre>", dom, re.S)
    if not m:
        return 4000, "probe failed"
    return int(m.group(1)), f"page wider than window: {m.group(2)}; scrollers: {m.group(3)}"


def toc_pages(root: Path = ROOT) -> list[str]:
    """Every page of ``_toc.yml`` (the root first), as paths without suffix."""
    toc = yaml.safe_load((root / "_toc.yml").read_text())
    pages = [toc["root"]]

    def walk(node):
        if isinstance(node, dict):
            if isinstance(node.get("file"), str):
                pages.append(node["file"].removesuffix(".ipynb").removesuffix(".md"))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk({k: v for k, v in toc.items() if k != "root"})
    return pages


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--site", type=Path, default=ROOT / "_build" / "html")
    parser.add_argument("--out", type=Path, default=ROOT / "_build" / "screenshots")
    parser.add_argument("--width", type=int, default=1280)
    parser.add_argument("--browser", default=shutil.which("chromium") or "chromium")
    args = parser.parse_args(argv)

    pages = [args.site / f"{page}.html" for page in toc_pages()]
    args.out.mkdir(parents=True, exist_ok=True)
    for page in pages:
        if not page.is_file():
            print(f"missing {page}: run `make book` first", file=sys.stderr)
            return 1
        height, report = probe(args.browser, page, args.width)
        png = args.out / f"{page.parent.name}_{page.stem}.png"
        chromium(
            args.browser,
            f"--window-size={args.width},{height}",
            "--virtual-time-budget=5000",
            f"--screenshot={png}",
            page.as_uri(),
        )
        print(f"{png.relative_to(ROOT)}: {args.width}x{height}; {report}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
