"""The convergence ledger (lvae.analysis.ledger): each kept row's standing by the ELBO
criterion, on hand-made rows, and the ledger of the committed records as the book
reports it."""

import dataclasses
import math

import numpy as np
import pytest

from lvae import experiments
from lvae.analysis import ledger, lr_latents, lr_study, stats
from lvae.experiments.table1 import calibrated_name
from lvae.experiments.table1_lr import MADE_STEPS, made_latent_extensions, made_latent_studies


def row(change: float, seed_std: float, steps: int = 1000, schedule: str = "0.001"):
    """A kept row whose criterion compares ``change`` with ``seed_std`` (as the protocol
    does: converged when |change| < seed_std)."""
    criterion = stats.FixedConvergence(change, seed_std, abs(change) < seed_std)
    return lr_study.KeptRow(steps, schedule, 0.5, criterion)


def test_a_row_missing_the_criterion_stands_by_the_sign_of_its_change():
    assert ledger.standing(row(0.01, 0.02)) == ledger.CONVERGED
    assert ledger.standing(row(-0.01, 0.02)) == ledger.CONVERGED
    assert ledger.standing(row(0.3, 0.02)) == ledger.RISING
    assert ledger.standing(row(-4.0, 0.5)) == ledger.FALLING
    assert ledger.standing(row(0.02, 0.02)) == ledger.RISING  # equal is not below
    lost = lr_study.KeptRow(
        1000, "0.003", math.nan, stats.FixedConvergence(math.nan, math.nan, False)
    )
    with pytest.raises(ValueError, match="a seed diverged"):
        ledger.standing(lost)
    with pytest.raises(ValueError, match="seed spread must be positive and finite, got 0.0"):
        ledger.standing(row(0.0, 0.0))


def test_the_standing_of_curves_read_by_the_protocols_criterion():
    # Ten seeds' monitored ELBO over ten logged steps, final values spread by 0.1: one
    # set still climbing by 0.5 over its last fifth, one losing as much, one flat.
    steps = np.arange(1, 11) * 100
    spread = np.linspace(-0.15, 0.15, 10)
    for slope, expected in (
        (0.25, ledger.RISING),
        (-0.25, ledger.FALLING),
        (0.0, ledger.CONVERGED),
    ):
        curves = (slope * np.arange(10))[:, None] + spread[None, :]
        criterion = stats.fixed_sigma_convergence(steps, curves, curves[-1])
        kept = lr_study.KeptRow(1000, "0.001", 0.0, criterion)
        assert ledger.standing(kept) == expected


def test_a_row_meeting_the_criterion_while_its_seeds_move_together_is_named():
    together = stats.SeedTrend((0.1,) * 10, 10, 0, 0.002)
    apart = stats.SeedTrend((0.1, -0.1) * 5, 5, 5, 1.0)
    wide = dataclasses.replace(row(0.1, 0.5), trend=together)  # meets it: spread 0.5
    kept = {
        2: {"F*": wide, "LS": dataclasses.replace(row(0.1, 0.5), trend=apart)},
        4: {"LV": dataclasses.replace(row(0.3, 0.02), trend=together), "F*": row(0.0, 0.1)},
    }
    found = ledger.moving_yet_converged(kept)
    assert [(d, s) for d, s, _ in found] == [(2, "F*")]  # LV moves but misses it anyway
    assert ledger.trends_text(found) == "latent 2: F* (seeds up / down 10 / 0, p = 0.002)"
    assert ledger.trends_text([]) == "none"


class Study:
    """The one field of ``lr_latents.LatentStudy`` the ledger reads."""

    def __init__(self, kept):
        self.kept = kept


def test_the_ledger_lists_rows_by_standing_across_latents_and_keeps_fixed_rows_apart():
    kept = ledger.ledger(
        {"F sigma=0.1": row(0.01, 0.1), "LS": row(0.05, 0.02, 480000, "0.0003 decay")},
        {
            4: Study({"F sigma=0.01": row(0.26, 0.025, 480000, "0.001 decay"),
                      "LV": row(-0.3, 0.02)}),
            2: Study({"F sigma=0.01": row(-0.2, 0.1)}),
        },
    )  # fmt: skip
    assert list(kept) == [1, 2, 4]  # latent dimensions in increasing order
    rising = ledger.rows_standing(kept, ledger.RISING)
    assert [(d, s) for d, s, _ in rising] == [(1, "LS"), (4, "F sigma=0.01")]
    assert [(d, s) for d, s, _ in ledger.rows_standing(kept, ledger.RISING, kind="fixed")] == [
        (4, "F sigma=0.01")
    ]
    falling = ledger.rows_standing(kept, ledger.FALLING)
    assert [(d, s) for d, s, _ in falling] == [(2, "F sigma=0.01"), (4, "LV")]
    assert ledger.rows_text(rising[1:]) == (
        "latent 4: F sigma=0.01 (480,000 steps, 0.001 decay; change +0.26 against a seed "
        "std of 0.025)"
    )
    assert ledger.rows_text(falling[:1]) == (
        "latent 2: F sigma=0.01 (1,000 steps, 0.001; change -0.2 against a seed std of 0.1)"
    )
    assert ledger.rows_text([]) == "none"
    frame = ledger.ledger_table(kept).data
    assert list(frame["latent"]) == ["1", "1", "2", "4", "4"]
    assert list(frame["standing"]) == ["converged", "rising", "falling", "rising", "falling"]
    assert list(frame["last-fifth change / seed std"])[3] == "0.260 / 0.025"
    learned = ledger.rows_standing(kept, ledger.FALLING, kind="learned")
    assert [(d, s) for d, s, _ in learned] == [(4, "LV")]
    with pytest.raises(ValueError, match="kind must be 'fixed', 'learned' or None"):
        ledger.rows_standing(kept, ledger.RISING, kind="grid")
    with pytest.raises(ValueError, match="which must be one of"):
        ledger.rows_standing(kept, "flat")
    with pytest.raises(ValueError, match="latent 1 is given as latent1"):
        ledger.ledger({}, {1: Study({})})


# What the claims page and chapter 5 report: the rows, as kept, that miss the criterion
# rising ({(latent, setting)}); none falls.
RISING_AS_REPORTED = {(1, "LS"), (2, "LV"), (4, "F sigma=0.01"), (4, "LS"), (4, "LV")}


def test_no_kept_row_of_the_committed_records_is_still_falling():
    def record(name):
        return experiments.record(name)

    study, longer, learned = (
        record(n) for n in ("table1-lr", "table1-lr-long", "table1-lr-learned")
    )
    runs = [(label, record(name)) for label, name in MADE_STEPS]
    final = lr_study.final_kept_rows(study, longer, learned, runs)
    # The same rows as chapter 5 assembles step by step (the runs of fixed rows joining
    # the fixed rows' choice, those of LS-VAE and LV-VAE theirs).
    fixed_runs = (
        record("table1-lr-longest"),
        record("table1-lr-decay"),
        record("table1-lr-decay-longest"),
    )
    learned_runs = (record("table1-lr-learned-decay"), record("table1-lr-learned-decay-longest"))
    assert {s: r.config for s, r in final.items()} == {
        s: r.config
        for s, r in lr_study.kept_rows(study, longer, fixed_runs, learned, learned_runs).items()
    }
    tables = {d: record(calibrated_name(d)) for d in (1, 2, 4)}
    reads = lr_latents.read_made(tables, record, made_latent_studies(), made_latent_extensions())
    assert set(reads) == {2, 4}
    kept = ledger.ledger({s: lr_study.kept_row(r, s) for s, r in final.items()}, reads)
    assert ledger.rows_standing(kept, ledger.FALLING) == []
    assert {(d, s) for d, s, _ in ledger.rows_standing(kept, ledger.RISING)} == RISING_AS_REPORTED
    # Every studied setting of every table is in the ledger: the grid, F*, LS and LV.
    for d, rows in kept.items():
        studied = [s for s in lr_study.settings(tables[d]) if "schedule" not in s]
        assert sorted(rows) == sorted(studied) and len(rows) == 9
