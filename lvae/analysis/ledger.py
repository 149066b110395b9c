"""The convergence ledger: every row of the calibrated tables as the learning-rate study
keeps it, at every latent dimension, and where it stands by the protocol's ELBO criterion.

A row meets the criterion when the seed mean of its monitored ELBO changed over the last
fifth of training by less than the seeds' standard deviation of its reported ELBO
(``stats.fixed_sigma_convergence``). Where it does not, the sign of that change says
which way the row was still going, and the two ways mean different things:

* **rising**: the row had not finished improving; a longer run, or a rate falling to 0,
  may raise it further, so a comparison with it may understate it;
* **falling**: the row was getting worse at the end of training, a failure of the
  optimiser or of the run rather than a score it had reached.

Beside the criterion, the paired reading (``stats.SeedTrend``) tests each seed's own
change over the same window against 0; a row can meet the criterion because its seeds
spread widely while they still move together (``moving_yet_converged``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from ..report import fixed as fixed_decimals
from ..report import fmt, table
from .lr_study import LEARNED_SETTINGS, KeptRow, trend_text

CONVERGED, RISING, FALLING = "converged", "rising", "falling"

# {latent dimension: {setting: its row as kept}}, latent dimensions in increasing order.
Ledger = Mapping[int, Mapping[str, KeptRow]]


def standing(row: KeptRow) -> str:
    """``CONVERGED`` when ``row`` meets the criterion, else ``RISING`` or ``FALLING`` by
    the sign of its last-fifth change. Raises ValueError for a row the criterion cannot
    read: no last-fifth change (a seed diverged: no kept row is chosen so), or no
    positive seed spread to weigh it against (fewer than two seeds, or all alike)."""
    change, spread = row.criterion.change, row.criterion.seed_std
    if math.isnan(change):
        raise ValueError("the row has no last-fifth change (a seed diverged): no standing")
    if not (math.isfinite(spread) and spread > 0):
        raise ValueError(f"the row's seed spread must be positive and finite, got {spread}")
    if row.converged:
        return CONVERGED
    return RISING if change > 0 else FALLING


def ledger(latent1: Mapping[str, KeptRow], others: Mapping[int, object]) -> dict:
    """The ledger: ``latent1`` (setting -> kept row at latent 1) and, for each other latent
    dimension, its study's kept rows (``others``: latent -> ``lr_latents.LatentStudy``)."""
    if 1 in others:
        raise ValueError("latent 1 is given as latent1, not among the others")
    out = {1: dict(latent1)}
    out.update({d: dict(others[d].kept) for d in sorted(others)})
    return out


def rows_standing(
    kept: Ledger, which: str, kind: str | None = None
) -> list[tuple[int, str, KeptRow]]:
    """(latent, setting, row) of every row whose ``standing`` is ``which``, in the
    ledger's order; ``kind``: "fixed" for the fixed-sigma rows alone (the grid and F*),
    "learned" for LS-VAE and LV-VAE alone, None for all."""
    if which not in (CONVERGED, RISING, FALLING):
        raise ValueError(f"which must be one of {CONVERGED!r}, {RISING!r}, {FALLING!r}")
    if kind not in (None, "fixed", "learned"):
        raise ValueError(f"kind must be 'fixed', 'learned' or None, got {kind!r}")
    return [
        (d, s, row)
        for d, rows in kept.items()
        for s, row in rows.items()
        if standing(row) == which
        and (kind is None or (s in LEARNED_SETTINGS) == (kind == "learned"))
    ]


def moving_yet_converged(kept: Ledger) -> list[tuple[int, str, KeptRow]]:
    """(latent, setting, row) of every row that meets the criterion while the paired
    reading finds its seeds still moving together (``stats.SeedTrend.moving``)."""
    return [
        (d, s, row)
        for d, rows in kept.items()
        for s, row in rows.items()
        if standing(row) == CONVERGED and row.trend is not None and row.trend.moving
    ]


def trends_text(found: list[tuple[int, str, KeptRow]]) -> str:
    """Rows with their paired reading: "latent 2: F* (seeds up / down 10 / 0, p =
    0.002)"; "none"."""
    return (
        "; ".join(
            f"latent {d}: {s} (seeds up / down {trend_text(row.trend)})" for d, s, row in found
        )
        or "none"
    )


def rows_text(found: list[tuple[int, str, KeptRow]]) -> str:
    """``rows_standing``'s rows in words, each with its length, schedule and the two
    numbers the criterion compares: "latent 4: F sigma=0.01 (480,000 steps, 0.001
    decay; change +0.26 against a seed std of 0.025)"; "none"."""
    parts = []
    for d, s, row in found:
        c = row.criterion
        parts.append(
            f"latent {d}: {s} ({row.steps:,} steps, {row.schedule}; change "
            f"{'+' * (c.change > 0)}{fmt(c.change, 2)} against a seed std of "
            f"{fmt(c.seed_std, 2)})"
        )
    return "; ".join(parts) or "none"


def ledger_table(kept: Ledger, name: str = "convergence_ledger"):
    """One line per row of ``kept``: latent dimension, setting, the length and schedule it
    is kept at, its mean reported ELBO, the criterion's two numbers, its ``standing``,
    and the paired per-seed reading of the same window beside it."""
    lines = [
        [
            str(d),
            s,
            f"{row.steps:,}",
            row.schedule,
            fixed_decimals(row.mean_elbo, 3),
            f"{fixed_decimals(row.criterion.change, 3)} / "
            f"{fixed_decimals(row.criterion.seed_std, 3)}",
            standing(row),
            "—" if row.trend is None else trend_text(row.trend),
        ]
        for d, rows in kept.items()
        for s, row in rows.items()
    ]
    return table(
        lines,
        [
            "latent",
            "setting",
            "steps",
            "schedule",
            "mean reported ELBO",
            "last-fifth change / seed std",
            "standing",
            "seeds up / down, signed-rank p",
        ],  # fmt: skip
        caption="Every row of the calibrated tables as the learning-rate study keeps it "
        "(chosen schedule and length, chapter 5), at every latent dimension: the mean "
        "reported ELBO over seeds (nats per point, paper convention); the change of the "
        "seed-mean monitored ELBO over the last fifth of training against the seeds' "
        "standard deviation of the reported ELBO (the protocol's criterion); where it "
        "misses the criterion, whether it was still rising or falling; and, beside it, "
        "how many seeds' own monitored ELBO rose and fell over that window, with the "
        "two-sided signed-rank p of those changes.",
        name=name,
        align_left=4,
    )
