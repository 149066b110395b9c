"""Numbers and tables for the book: one display convention, shared by every chapter.

The convention (``tests/test_notebooks.py`` checks every committed notebook output against
it, with :func:`too_precise`):

* A number that is not an integer count is shown with at most :data:`MAX_DIGITS` (4)
  significant digits. Optimiser and quadrature results are rounded to that, or reported as
  "below" a stated tolerance; training metrics get fewer digits where seed noise is larger.
* Integers (counts, steps, seeds, years), commit hashes, versions and identifiers are
  shown as they are.

Rounding to a few digits is what makes the printed text the same on every processor and
thread count: the last bits of a floating-point result differ between machines, the
fourth significant digit of a well-conditioned result does not.

Tables are pandas ``Styler`` objects with a caption (:func:`table`), which the book
renders as HTML tables.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence

MAX_DIGITS = 4


def _check_digits(digits: int) -> None:
    if not isinstance(digits, int) or not 1 <= digits <= MAX_DIGITS:
        raise ValueError(f"digits must be an integer from 1 to {MAX_DIGITS}, got {digits!r}")


def fmt(x: float, digits: int = 3) -> float | int:
    """``x`` rounded to ``digits`` significant digits (1 to 4), as a number.

    For ``glue`` and f-strings: its ``repr`` never shows more than ``digits`` significant
    digits. A rounded value of ``10**digits`` or more is returned as an ``int`` (``1230``,
    not ``1230.0``); non-finite values pass through.
    """
    _check_digits(digits)
    x = float(x)
    if not math.isfinite(x):
        return x
    rounded = float(f"{x:.{digits}g}")
    if rounded == 0.0:
        return 0.0  # no "-0.0"
    if abs(rounded) >= 10**digits:
        return int(rounded)
    return rounded


def sig(x: float, digits: int = MAX_DIGITS) -> str:
    """``x`` as text with at most ``digits`` significant digits (``format(x, ".4g")``).

    Large and small magnitudes use an exponent (``1.411e+04``); ``-0`` is written ``0``.
    """
    _check_digits(digits)
    text = f"{float(x):.{digits}g}"
    return "0" if text in ("-0", "0") else text


def fixed(x: float, decimals: int, digits: int = MAX_DIGITS) -> str:
    """``x`` with ``decimals`` decimals, fewer where that would show more than ``digits``
    significant digits: ``fixed(-16.2234, 3) == "-16.22"``, ``fixed(0.0622, 4) == "0.0622"``.

    For table columns, where a common number of decimals lines values up. ``-0.000`` is
    written ``0.000``.
    """
    _check_digits(digits)
    if decimals < 0:
        raise ValueError(f"decimals must be >= 0, got {decimals!r}")
    x = float(x)
    if not math.isfinite(x):
        return str(x)
    if x != 0.0:
        magnitude = math.floor(math.log10(abs(x)))  # position of the first significant digit
        shown = min(decimals, digits - 1 - magnitude)
        if shown >= 0 and round(abs(x), shown) >= 10.0 ** (magnitude + 1):
            magnitude += 1  # rounding carries into a new digit: 9.99996 -> 10.00
            shown = min(decimals, digits - 1 - magnitude)
        decimals = max(0, shown)
    text = f"{x:.{decimals}f}"
    if float(text) == 0.0:
        text = text.lstrip("-")
    return text


def pm(mean: float, spread: float, decimals: int = 3) -> str:
    """``"mean ± spread"``, both with :func:`fixed` (``decimals`` at most).

    The space after ``±`` is non-breaking, so a narrow table column wraps before it.
    """
    return f"{fixed(mean, decimals)} ±\u00a0{fixed(spread, decimals)}"


def decade_above(x: float) -> float:
    """The power of ten just above a small error level (``3e-13`` gives ``1e-12``).

    For statements like "agree to below 1e-12". Use it for levels that are not close to a
    power of ten, or prefer :func:`below`, which compares with a stated tolerance.
    """
    return 10.0 ** math.ceil(math.log10(max(float(x), 1e-16)))


def below(x: float, tol: float) -> float:
    """``tol``, after checking that ``x`` is below it: "agree to below {tol}".

    A stated tolerance, unlike the error itself, is the same on every processor.
    """
    if not float(x) < tol:
        raise AssertionError(f"{x!r} is not below the stated tolerance {tol!r}")
    return tol


def short_commit(commit: str, n: int = 12) -> str:
    """The first ``n`` characters of a commit hash, keeping a ``+dirty`` mark (a run made
    from a tree with uncommitted changes must not pass for one made from the commit)."""
    commit = str(commit)
    dirty = commit.endswith("+dirty")
    return commit.removesuffix("+dirty")[:n] + ("+dirty" if dirty else "")


def provenance(prov: Mapping, *, commit: bool = False) -> str:
    """A record's scale, for table captions: profile, seeds, steps and device."""
    seeds = list(prov["seeds"])
    if seeds == list(range(seeds[0], seeds[0] + len(seeds))) and len(seeds) > 2:
        seed_text = f"{len(seeds)} seeds ({seeds[0]}–{seeds[-1]})"
    else:
        seed_text = (
            f"{len(seeds)} seed{'s' if len(seeds) != 1 else ''} ({', '.join(map(str, seeds))})"
        )
    text = (
        f"profile {prov['profile']}, {seed_text}, {int(prov['steps'])} steps, "
        f"device {prov['device']}"
    )
    if commit:
        text += f", commit {short_commit(prov['git_commit'])}"
    return text


def made_with(prov: Mapping) -> str:
    """How a record was made, printed under a chapter's first result: its scale (as in
    the captions), then torch, the code's commit and the wall time of the run."""
    took = _sessions_text(prov) if prov.get("resumed") else _wall_text(float(prov["wall_time_s"]))
    return (
        f"{provenance(prov)};\ntorch {prov['torch']}; commit {short_commit(prov['git_commit'])}; "
        f"{took}"
    )


def _training_time(prov: Mapping) -> tuple[float, bool]:
    """Seconds a record trained, and whether that is all of it: a fresh run's wall time;
    a resumed run's sum over its logged sessions, incomplete where a session (or, with no
    log, every earlier one) left no time."""
    if not prov.get("resumed"):
        return float(prov["wall_time_s"]), True
    sessions = prov.get("sessions") or []
    if not sessions:
        return float(prov["wall_time_s"]), False
    known = [s["wall_time_s"] for s in sessions if s.get("wall_time_s") is not None]
    return float(sum(known)), len(known) == len(sessions)


def minutes(prov: Mapping) -> str:
    """A record's training time in minutes (one decimal): over all its sessions when it
    resumed and logged them, with "+" where some session's time is unknown."""
    seconds, complete = _training_time(prov)
    return f"{seconds / 60:.1f}" + ("" if complete else "+")


def _wall_text(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 600 else f"{seconds / 60:.0f} min"


def _sessions_text(prov: Mapping) -> str:
    """A resumed run's time: the sum over its sessions when every one was timed, else the
    last session's; and the arithmetic of each when they differ."""
    seconds, complete = _training_time(prov)
    if not complete:
        return f"{_wall_text(float(prov['wall_time_s']))} (last session; resumed)"
    sessions = prov["sessions"]
    text = f"{_wall_text(seconds)} over {len(sessions)} sessions"
    precisions = list(dict.fromkeys(s.get("precision") for s in sessions))
    if len(precisions) > 1:
        text += f" in {' then '.join(str(p) for p in precisions)}"
    return text


def table(
    rows: Sequence[Sequence] | Mapping,
    columns: Sequence[str] | None = None,
    *,
    caption: str,
    name: str,
    align_left: int = 1,
):
    """A captioned table that the book renders as HTML: a pandas ``Styler``.

    ``rows`` are lists of already formatted cells (strings, or integers), or a mapping of
    column name to cells. The first ``align_left`` columns (labels) are left-aligned, the
    others right-aligned. ``name`` makes the HTML ids stable (no random suffix), so the
    stored output is the same on every run.
    """
    import pandas as pd

    if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", name):
        raise ValueError(f"name must be a plain identifier, got {name!r}")
    frame = pd.DataFrame(rows, columns=columns) if columns is not None else pd.DataFrame(rows)
    frame = frame.astype(str)
    styler = frame.style.set_uuid(name).set_caption(caption).hide(axis="index")
    left = list(frame.columns[:align_left])
    right = list(frame.columns[align_left:])
    styles = [
        {"selector": "caption", "props": "caption-side: top; text-align: left; padding: 0.3em 0;"},
        {"selector": "th", "props": "text-align: center; padding: 0.2em 0.6em;"},
        {"selector": "td", "props": "padding: 0.2em 0.6em;"},
    ]
    styler = styler.set_table_styles(styles)
    if left:
        styler = styler.set_properties(subset=left, **{"text-align": "left"})
    if right:
        styler = styler.set_properties(subset=right, **{"text-align": "right"})
    return styler


_NUMBER = re.compile(
    r"(?<![\w.])"  # not inside an identifier, a hash or a version string
    r"[-+−]?(?P<int>\d+)?(?P<dot>\.)?(?P<frac>\d+)?(?:[eE][-+]?\d+)?"
    r"(?![\w]|\.\d)"  # not followed by a letter, a digit or ".digit" (versions, 2.13.0)
)


def significant_digits(token: str) -> int | None:
    """The significant digits that a decimal literal shows, or None for an integer.

    Counted from the first non-zero digit to the last digit written, trailing zeros
    included (``0.50000`` shows 5); a literal whose digits are all zero counts its
    decimals (``0.00000`` shows 5). Integers without a decimal point or exponent
    (counts, steps, years) return None.
    """
    m = re.fullmatch(r"[-+−]?(\d*)(\.?)(\d*)((?:[eE][-+]?\d+)?)", token)
    if m is None or not (m.group(1) or m.group(3)):
        raise ValueError(f"not a decimal literal: {token!r}")
    whole, dot, frac, exponent = m.groups()
    if not dot and not exponent:
        return None
    digits = (whole + frac).lstrip("0")
    if not digits:
        return len(frac)
    return len(digits)


def too_precise(text: str, digits: int = MAX_DIGITS) -> list[str]:
    """The decimal numbers in ``text`` that show more than ``digits`` significant digits.

    A number is a maximal run of digits with an optional decimal point and exponent, not
    touching a letter, an underscore or another number-with-dot: so ``b2e00d34c410``
    (a hash), ``2.13.0`` (a version), ``row12`` (an id) are not numbers, while
    ``0.00758929`` and ``-16.223`` are, and show 6 and 5 digits. HTML tags and ``<style>``
    blocks are removed first.
    """
    text = re.sub(r"<style.*?</style>", " ", text, flags=re.S)
    text = re.sub(r"<[^>]*>", " ", text)
    found = []
    for m in _NUMBER.finditer(text):
        token = m.group(0)
        if not (m.group("int") or m.group("frac")):
            continue
        n = significant_digits(token)
        if n is not None and n > digits:
            found.append(token)
    return found
