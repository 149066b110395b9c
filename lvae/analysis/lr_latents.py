"""The learning-rate study at latent dimensions 2 and 4, read as it was first read at
latent 1 (book page "Protocol", the entry of 2026-12-07).

At each latent dimension the fixed-sigma rows (and, once their run is made, LS-VAE and
LV-VAE) were trained under the same four schedules, each model from the initial weights
of its row of that latent's calibrated table. Each setting's schedule is chosen on the
selection points (``lr_study.chosen``), the convergence criterion is read at the tables'
rate and at the chosen one, and T1-T5 are judged on that latent's table twice: as
trained, and with the study's rows at their chosen schedules.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..report import fmt
from . import lr_study
from .protocol import Verdict

TABLE_RATE = "0.001"  # the calibrated tables' constant Adam rate, as a schedule's name


@dataclass(frozen=True)
class LatentStudy:
    """The study at one latent dimension.

    chosen: each studied setting's chosen schedule; effects: each setting's chosen
    schedule against the tables' rate (``lr_study.RateEffect``); unconverged_at_table_rate
    and unconverged_at_choice: the settings that miss the criterion under each;
    diverged: (setting, schedule, seeds) wherever a seed diverged; before and after: T1-T5
    on the table as trained and with the study's rows at their chosen schedules;
    learned: whether LS-VAE and LV-VAE were studied too (else they stay the table's);
    sigma_settles_under: the schedules under which LS-VAE's sigma passes its criterion
    (None when the learned rows were not studied)."""

    latent_dim: int
    chosen: dict[str, str]
    effects: list[lr_study.RateEffect]
    unconverged_at_table_rate: list[str]
    unconverged_at_choice: list[str]
    diverged: list[tuple[str, str, int]]
    before: list[Verdict]
    after: list[Verdict]
    learned: bool
    sigma_settles_under: list[str] | None

    @property
    def changed(self) -> list[str]:
        """The claims whose verdict the study's rows change."""
        return lr_study.changed_verdicts(self.before, self.after)


def read_latent(table_record, study_record, learned_record=None, seed: int = 0) -> LatentStudy:
    """The study of ``table_record``'s fixed-sigma rows (``study_record``) and, with
    ``learned_record``, of its learned rows, read against that table. Raises ValueError
    when the records are not of one latent dimension and data scale, or a record lacks
    the tables' rate among its schedules."""
    studies = [study_record] + ([learned_record] if learned_record is not None else [])
    for record in studies:
        if record.config["latent_dim"] != table_record.config["latent_dim"]:
            raise ValueError(
                f"the study is at latent {record.config['latent_dim']}, the table at "
                f"{table_record.config['latent_dim']}"
            )
    effects = [e for r in studies for e in lr_study.rate_effects(r, TABLE_RATE)]
    before = lr_study.judged_at_table_rate(table_record, seed)
    after = lr_study.rejudged(table_record, study_record, seed, learned_record=learned_record)
    return LatentStudy(
        latent_dim=int(table_record.config["latent_dim"]),
        chosen={e.setting: e.schedule for e in effects},
        effects=effects,
        unconverged_at_table_rate=[e.setting for e in effects if not e.baseline_converged],
        unconverged_at_choice=[e.setting for e in effects if not e.chosen_converged],
        diverged=[d for r in studies for d in lr_study.divergences(r)],
        before=before,
        after=after,
        learned=learned_record is not None,
        sigma_settles_under=(
            None if learned_record is None else lr_study.settles_under(learned_record, "LS")
        ),
    )


def moved_text(study: LatentStudy) -> str:
    """The settings whose chosen schedule is not the tables' rate, each with its gain in
    mean reported ELBO (nats, two decimals, signed) and its seeds' spread at the tables'
    rate (two significant digits); "none" if none."""
    moved = [e for e in study.effects if e.schedule != TABLE_RATE]
    return (
        "; ".join(
            f"{e.setting} to {e.schedule} ({e.gain:+.2f}, seed std {fmt(e.baseline_sd, 2)})"
            for e in moved
        )
        or "none"
    )


def changed_text(study: LatentStudy) -> str:
    """Each claim whose verdict moved: "T4 contradicted -> not shown (effect after)";
    "none" if none moved."""
    old = {v.key: v for v in study.before}
    return (
        "; ".join(
            f"{v.key} {old[v.key].verdict} → {v.verdict}"
            + ("" if v.effect is None else f" ({v.effect:+.3f})")
            for v in study.after
            if v.key in study.changed
        )
        or "none"
    )


def diverged_text(study: LatentStudy) -> str:
    """Where seeds diverged: "F sigma=0.01 under 0.003, 2 seeds"; "none" if nowhere."""
    return (
        "; ".join(
            f"{s} under {sched}, {k} seed{'s' if k != 1 else ''}" for s, sched, k in study.diverged
        )
        or "none"
    )


def unconverged_text(study: LatentStudy) -> str:
    """The settings that miss the convergence criterion at the tables' rate and at their
    chosen schedules."""
    return (
        f"at 10⁻³: {', '.join(study.unconverged_at_table_rate) or 'none'}; at the chosen "
        f"schedules: {', '.join(study.unconverged_at_choice) or 'none'}"
    )


def verdicts_text(study: LatentStudy) -> str:
    """T1-T5 with the studied rows at their chosen schedules: "T1 holds, T2 not shown, ..."."""
    return ", ".join(f"{v.key} {v.verdict}" for v in study.after)


def made_text(studies: dict[int, LatentStudy]) -> str:
    """Which studies are made: "latent 2 (the fixed-σ rows), latent 4 (every row)"."""
    return (
        ", ".join(
            f"latent {d} ({'every row' if s.learned else 'the fixed-σ rows'})"
            for d, s in studies.items()
        )
        or "none yet"
    )


def per_latent(studies: dict[int, LatentStudy], text) -> str:
    """``text(study)`` for each latent dimension, as "At latent 2: .... At latent 4: ..."
    (no final period); "none yet" when no study is made."""
    return ". ".join(f"At latent {d}: {text(s)}" for d, s in studies.items()) or "none yet"
