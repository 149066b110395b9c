"""The verdict scale: a registered verdict read together with how large our effect is
beside the paper's (book page "Protocol", the entry of 2026-12-07 on the verdict scale,
written after the results had been seen).

The registered test says whether the direction holds ("holds", "not shown",
"contradicted", ``lvae.analysis.stats``). The scale adds where our 95% interval stands
against the paper's effect p:

=====================  =========================================================
registered verdict     word on the scale
=====================  =========================================================
contradicted           ``contradicted``
holds, lo <= p <= hi   ``reproduced``: the interval reaches the paper's effect
holds, p beyond hi     ``weaker``: same sign, the interval excludes both 0 and p
holds, p short of lo   ``stronger``
not shown              ``not shown``; ``excludes_paper`` says whether the interval
                       leaves out p (then the data argue against the paper's size)
=====================  =========================================================

"Beyond" and "short of" are read in the direction of the paper's effect, so a claim
whose effect is negative (T4: F* - F(0.1) = -0.44) is scaled like a positive one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from . import stats

REPRODUCED, WEAKER, STRONGER = "reproduced", "weaker", "stronger"
NOT_SHOWN, CONTRADICTED = stats.NOT_SHOWN, stats.CONTRADICTED
WORDS = (REPRODUCED, WEAKER, STRONGER, NOT_SHOWN, CONTRADICTED)
DEPENDS = "depends on the latent"  # ``across``: the latent sizes disagree


@dataclass(frozen=True)
class Scaled:
    """A difference claim on the verdict scale: ``word`` (one of WORDS), our effect as a
    fraction of the paper's, and whether our interval leaves the paper's effect out."""

    word: str
    fraction: float
    excludes_paper: bool


def on_scale(registered: str, diff: float, low: float, high: float, paper: float) -> Scaled:
    """The scale's word for a claim judged ``registered`` with effect ``diff`` and 95%
    interval [``low``, ``high``], against the paper's effect ``paper`` (nonzero)."""
    if registered not in (stats.HOLDS, stats.NOT_SHOWN, stats.CONTRADICTED):
        raise ValueError(f"registered must be a verdict of lvae.analysis.stats, got {registered!r}")
    if not low <= diff <= high:
        raise ValueError(f"diff {diff} lies outside its interval [{low}, {high}]")
    if paper == 0:
        raise ValueError("paper must be a nonzero effect: the scale reads our effect against it")
    # Read everything in the direction of the paper's effect: then p > 0.
    sign = 1.0 if paper > 0 else -1.0
    p, lo, hi = abs(paper), min(sign * low, sign * high), max(sign * low, sign * high)
    excludes = not lo <= p <= hi
    fraction = diff / paper
    if registered == stats.CONTRADICTED:
        word = CONTRADICTED
    elif registered == stats.NOT_SHOWN:
        word = NOT_SHOWN
    elif not excludes:
        word = REPRODUCED
    else:
        word = WEAKER if hi < p else STRONGER
    return Scaled(word, fraction, excludes)


def across(words: Mapping[int, str]) -> tuple[str, dict[int, str]]:
    """One answer across latent sizes: (the common word, {}) when every latent gives the
    same word, else ("depends on the latent", {latent: word}) for the prose to name."""
    if not words:
        raise ValueError("words must hold at least one latent size")
    distinct = set(words.values())
    if len(distinct) == 1:
        return distinct.pop(), {}
    return DEPENDS, dict(sorted(words.items()))
