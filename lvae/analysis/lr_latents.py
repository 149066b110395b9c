"""The learning-rate study at latent dimensions 2 and 4, read as it was first read at
latent 1 (book page "Protocol", the entry of 2026-12-07).

At each latent dimension the fixed-sigma rows (and, once their run is made, LS-VAE and
LV-VAE) were trained again under the same four schedules: each grid model from the
initial weights of its row of that latent's calibrated table, LS-VAE and LV-VAE from
theirs, F* from those of the table's LS-VAE row (as at latent 1). Each setting's schedule
is chosen on the selection points (``lr_study.chosen``), the convergence criterion is
read at the tables' rate and at the chosen one, and T1-T5 are judged on that latent's
table three times: as trained; with the study's rows at the tables' rate, which differ
from the table's only by their batches (and F*'s initial weights); and with them at
their chosen schedules. A verdict that moves between the last two moves with the rate.
Where a row's chosen schedule missed the criterion, the study is extended (the same
models, twice as long, in a new stack and so on other batches; a row still unconverged
then, longer again, in a step registered for it); each row is then kept at the length
whose chosen schedule scores best on the selection points, and the last judgement reads
the rows so kept, its move then mixing the choice with that new draw.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from ..report import fmt
from . import lr_study
from .lr_study import TABLE_RATE
from .protocol import Verdict
from .records import settings


@dataclass(frozen=True)
class LongerSigma:
    """LS-VAE's sigma in a run of the learned rows trained longer than their study.

    steps: that run's length; settles_under: the schedules under which sigma passes its
    criterion there (read over the seeds that did not diverge); diverged: {schedule: LS
    seeds that diverged}, where any did. Descriptive: T7's verdict stays the study's, and
    the run is read whether or not LS-VAE's row is kept at its length."""

    steps: int
    settles_under: list[str]
    diverged: dict[str, int]


@dataclass(frozen=True)
class LatentStudy:
    """The study at one latent dimension.

    chosen: each studied setting's chosen schedule; effects: each setting's chosen
    schedule against the tables' rate (``lr_study.RateEffect``); unconverged_at_table_rate
    and unconverged_at_choice: the settings that miss the criterion in the study's runs
    under each; diverged: (setting, schedule, seeds) wherever a seed diverged;
    before, at_table_rate and after: T1-T5 on the table as trained, with the study's rows
    at the tables' rate, and with every row as kept (its chosen schedule, and the length
    chosen with it where an extension trained it longer); learned: whether
    LS-VAE and LV-VAE were studied too (else they stay the table's);
    sigma_settles_under: the schedules under which LS-VAE's sigma passes its criterion,
    and sigma_depends_on_rate: whether it passes under some and not others (both None
    when the learned rows were not studied); sigma_longer: the same read in the longest
    extension that trains LS-VAE under a rate not decaying to 0 (``LongerSigma``; None
    without one); kept: each setting's row as the last judgement reads it
    (``lr_study.KeptRow``: length, schedule, criterion), which is the study's unless an
    extension scored better; study_steps: the study's length; sigma_rerun: T7's reading in
    the table beside the same criterion on LS-VAE trained again at the tables' rate
    (``lr_study.SigmaRerun``; None when the learned rows were not studied); path: T1-T5
    at every step, as latent 1's ``lr_study.judgement_path`` (the fixed rows at the
    tables' rate then at their choice, the same for the learned rows, then each extension
    joining the choice in the order given, labelled by ``run_label``)."""

    latent_dim: int
    chosen: dict[str, str]
    effects: list[lr_study.RateEffect]
    unconverged_at_table_rate: list[str]
    unconverged_at_choice: list[str]
    diverged: list[tuple[str, str, int]]
    before: list[Verdict]
    at_table_rate: list[Verdict]
    after: list[Verdict]
    learned: bool
    sigma_settles_under: list[str] | None
    sigma_depends_on_rate: bool | None
    sigma_longer: LongerSigma | None
    kept: dict[str, lr_study.KeptRow]
    study_steps: int
    sigma_rerun: lr_study.SigmaRerun | None
    path: dict[str, list[Verdict]]

    @property
    def unconverged_kept(self) -> list[str]:
        """The settings whose kept row misses the convergence criterion."""
        return [s for s, row in self.kept.items() if not row.converged]

    @property
    def extended(self) -> list[str]:
        """The settings kept at a length longer than the study's."""
        return [s for s, row in self.kept.items() if row.steps > self.study_steps]

    @property
    def changed(self) -> list[str]:
        """The claims whose verdict the study's rows at their choice change against the
        table as trained."""
        return lr_study.changed_verdicts(self.before, self.after)

    @property
    def changed_by_choice(self) -> list[str]:
        """The claims whose verdict moves between the study's rows at the tables' rate and
        the rows as kept: the part of the change the choice of schedule (and of length,
        where extended) makes."""
        return lr_study.changed_verdicts(self.at_table_rate, self.after)

    @property
    def changed_by_rerun(self) -> list[str]:
        """The claims whose verdict moves between the table and the study's rows at the
        same rate: training the same rows again on other batches moves them."""
        return lr_study.changed_verdicts(self.before, self.at_table_rate)

    @property
    def moved_by_choice(self) -> list[str]:
        """The claims whose verdict moved at any step of ``path`` that changed a schedule
        or a length (``lr_study.moved_by_choice``), even where a later step moved it back."""
        return lr_study.moved_by_choice(self.path)

    @property
    def moved_by_rerun(self) -> list[str]:
        """The claims whose verdict moved at a step of ``path`` that only trained rows
        again at the tables' rate, and T7 when its rerun disagrees with the table."""
        t7_moved = self.sigma_rerun is not None and self.sigma_rerun.moved
        return lr_study.moved_by_rerun(self.path) + ["T7"] * t7_moved


def read_latent(
    table_record, study_record, learned_record=None, seed: int = 0, extensions: Sequence = ()
) -> LatentStudy:
    """The study of ``table_record``'s fixed-sigma rows (``study_record``) and, with
    ``learned_record``, of its learned rows, read against that table; ``extensions``:
    the runs that train some of those rows longer (of fixed rows or of learned ones).
    Raises ValueError, before any reading, when a record is not of the table's latent
    dimension and data scale or lacks the tables' rate among its schedules, or when an
    extension does not extend a study given (``lr_study.check_extension``)."""
    studies = [study_record] + ([learned_record] if learned_record is not None else [])
    fixed_ext = [r for r in extensions if not lr_study.learned_only(r)]
    learned_ext = [r for r in extensions if lr_study.learned_only(r)]
    if learned_ext and learned_record is None:
        raise ValueError("an extension of the learned rows needs their study, learned_record")
    for record in [*studies, *extensions]:
        lr_study.check_same_data(table_record, record)
    for extended, extending in ((study_record, fixed_ext), (learned_record, learned_ext)):
        for extension in extending:
            lr_study.check_extension(extended, extension, same_schedules=False)
    for record in studies:
        if TABLE_RATE not in lr_study.schedules(record):
            raise ValueError(
                f"no schedule {TABLE_RATE!r} (the tables' rate); schedules: "
                f"{lr_study.schedules(record)}"
            )
    effects = [e for r in studies for e in lr_study.rate_effects(r, TABLE_RATE)]
    rows = lr_study.kept_rows(study_record, learned_record=learned_record)
    # Every judgement from the table to the rows as kept; its first and last are
    # ``before`` and ``after``.
    path = lr_study.judgement_path(
        table_record,
        study_record,
        None,
        learned_record,
        [(run_label(r, int(study_record.config["steps"])), r) for r in extensions],
        seed,
    )
    kept = lr_study.kept_rows(
        study_record,
        best_of=tuple(fixed_ext),
        learned_record=learned_record,
        learned_best_of=tuple(learned_ext),
    )
    return LatentStudy(
        latent_dim=int(table_record.config["latent_dim"]),
        chosen={e.setting: e.schedule for e in effects},
        effects=effects,
        unconverged_at_table_rate=[e.setting for e in effects if not e.baseline_converged],
        unconverged_at_choice=[e.setting for e in effects if not e.chosen_converged],
        diverged=[d for r in studies for d in lr_study.divergences(r)],
        before=path["table's rate"],
        at_table_rate=lr_study.judged_on(table_record, rows, seed, schedule=TABLE_RATE),
        after=list(path.values())[-1],
        learned=learned_record is not None,
        sigma_settles_under=(
            None if learned_record is None else lr_study.settles_under(learned_record, "LS")
        ),
        sigma_depends_on_rate=(
            None
            if learned_record is None
            else lr_study.sigma_settling_depends_on_rate(learned_record, "LS")
        ),
        sigma_longer=_longer_sigma(learned_ext),
        kept={setting: lr_study.kept_row(record, setting) for setting, record in kept.items()},
        study_steps=int(study_record.config["steps"]),
        sigma_rerun=(
            None if learned_record is None else lr_study.sigma_rerun(table_record, learned_record)
        ),
        path=path,
    )


def run_label(run, study_steps: int) -> str:
    """A run that trains some rows longer, as a step of the path: its settings and its
    length as a multiple of the study's, "F(0.043), F(0.01) 2x", "LS, LV 8x"."""
    names = [
        f"F({s.removeprefix('F sigma=')})" if s.startswith("F sigma=") else s for s in settings(run)
    ]
    steps = int(run.config["steps"])
    length = f"{steps // study_steps}x" if steps % study_steps == 0 else f"{steps:,} steps"
    return f"{', '.join(names)} {length}"


def read_made(
    tables: Mapping[int, object],
    load: Callable[[str], object],
    studies: Mapping[int, Sequence[str]],
    extensions: Mapping[int, Sequence[str]],
    seed: int = 0,
) -> dict[int, LatentStudy]:
    """``read_latent`` at each latent dimension of ``studies`` ({latent: the names of its
    made studies, the fixed-sigma one first}), against ``tables[latent]``, with that
    latent's made ``extensions``; ``load(name)`` gives a record."""
    return {
        d: read_latent(
            tables[d],
            *(load(name) for name in names),
            seed=seed,
            extensions=[load(name) for name in extensions.get(d, ())],
        )
        for d, names in studies.items()
    }


def _longer_sigma(learned_extensions: Sequence) -> LongerSigma | None:
    """LS-VAE's sigma in the longest of the learned rows' extensions that trains it under
    some rate that does not fall to 0 (under a decay sigma stops moving because the rate
    does, which says nothing about T7); None if there is none."""
    with_ls = [r for r in learned_extensions if "LS" in settings(r) and _not_decay_only(r)]
    if not with_ls:
        return None
    longest = max(with_ls, key=lambda r: int(r.config["steps"]))
    return LongerSigma(
        steps=int(longest.config["steps"]),
        settles_under=lr_study.settles_under(longest, "LS"),
        diverged=_diverged_seeds(lr_study.divergences(longest), "LS"),
    )


def _not_decay_only(record) -> bool:
    """Whether ``record`` trained some schedule whose rate does not decay to 0."""
    return bool(record.config.get("rates") or record.config.get("warmup_steps"))


def _diverged_seeds(divergences: list[tuple[str, str, int]], setting: str) -> dict[str, int]:
    """{schedule: seeds that diverged} for ``setting``, from (setting, schedule, seeds)."""
    return {sched: k for s, sched, k in divergences if s == setting}


def _seeds(k: int) -> str:
    """A count of seeds in words: "1 seed", "3 seeds"."""
    return f"{k} seed{'s' if k != 1 else ''}"


def moved_text(study: LatentStudy) -> str:
    """The settings whose chosen schedule is not the tables' rate, each with its gain in
    mean reported ELBO (nats, signed) and its seeds' spread at the tables' rate, each to
    two significant digits; "none" if none."""
    moved = [e for e in study.effects if e.schedule != TABLE_RATE]
    return (
        "; ".join(
            f"{e.setting} to {e.schedule} ({'+' * (e.gain > 0)}{fmt(e.gain, 2)}, seed std "
            f"{fmt(e.baseline_sd, 2)})"
            for e in moved
        )
        or "none"
    )


def _moved_text(before: list[Verdict], after: list[Verdict]) -> str:
    """Each claim whose verdict moved: "T4 contradicted → holds (-0.430)"; "none"."""
    old = {v.key: v for v in before}
    moved = [v for v in after if v.key in old and old[v.key].verdict != v.verdict]
    return (
        "; ".join(f"{v.key} {old[v.key].verdict} → {lr_study.verdict_cell(v)}" for v in moved)
        or "none"
    )


def changed_text(study: LatentStudy) -> str:
    """The verdicts that move from the table as trained to the study's rows at their
    chosen schedules, with the effect after."""
    return _moved_text(study.before, study.after)


def choice_text(study: LatentStudy) -> str:
    """The verdicts that move from the study's rows at the tables' rate to the rows as
    kept: the part of the change the choice of schedule (and length) makes."""
    return _moved_text(study.at_table_rate, study.after)


def rerun_text(study: LatentStudy) -> str:
    """The verdicts that move from the table to the study's rows at the same rate."""
    return _moved_text(study.before, study.at_table_rate)


def diverged_text(study: LatentStudy) -> str:
    """Where seeds diverged: "F sigma=0.01 under 0.003, 2 seeds"; "none" if nowhere."""
    return "; ".join(f"{s} under {sched}, {_seeds(k)}" for s, sched, k in study.diverged) or "none"


def unconverged_text(study: LatentStudy) -> str:
    """The settings that miss the convergence criterion at the tables' rate and at their
    chosen schedules, and, where some row was extended, at the rows as kept."""
    text = (
        f"at 10⁻³: {', '.join(study.unconverged_at_table_rate) or 'none'}; at the chosen "
        f"schedules: {', '.join(study.unconverged_at_choice) or 'none'}"
    )
    if study.extended:
        text += f"; at the rows as kept: {', '.join(study.unconverged_kept) or 'none'}"
    return text


def kept_unconverged_text(study: LatentStudy) -> str:
    """The settings whose row as kept (chosen schedule, and length where trained longer)
    still misses the convergence criterion: what is left to converge; "none"."""
    return ", ".join(study.unconverged_kept) or "none"


def extended_text(study: LatentStudy) -> str:
    """Each row kept at a longer length, in words (``lr_study.kept_text``); "none"."""
    return "; ".join(lr_study.kept_text(s, study.kept[s]) for s in study.extended) or "none"


def verdicts_text(study: LatentStudy) -> str:
    """T1-T5 with the studied rows at their chosen schedules: "T1 holds, T2 not shown, ..."."""
    return ", ".join(f"{v.key} {v.verdict}" for v in study.after)


def sigma_text(study: LatentStudy) -> str:
    """Under which schedules LS-VAE's sigma passes its criterion, each with the LS seeds
    that diverged under it (the criterion reads the others), and the same in the longest
    extension of the learned rows not trained under decays alone, if any: "under a, b
    (1 seed diverged); trained 2,000 steps: under b". "not studied yet" before the
    learned rows' run is made."""
    if study.sigma_settles_under is None:
        return "not studied yet"
    lost = _diverged_seeds(study.diverged, "LS")
    text = f"under {_schedules_with_losses(study.sigma_settles_under, lost)}"
    if study.sigma_longer is not None:
        longer = study.sigma_longer
        under = _schedules_with_losses(longer.settles_under, longer.diverged)
        text += f"; trained {longer.steps:,} steps: under {under}"
    return text


def sigma_rerun_text(study: LatentStudy) -> str:
    """LS-VAE's sigma criterion in the table and trained again at the tables' rate
    (``lr_study.sigma_rerun_text``); "not studied yet" before the learned rows' run."""
    if study.sigma_rerun is None:
        return "not studied yet"
    return lr_study.sigma_rerun_text(study.sigma_rerun)


def _schedules_with_losses(schedules: list[str], diverged: dict[str, int]) -> str:
    """The schedules, each with its diverged seeds where any ("a, b (2 seeds diverged)");
    "none of the schedules" when there are none."""
    named = []
    for sched in schedules:
        k = diverged.get(sched, 0)
        named.append(f"{sched} ({_seeds(k)} diverged)" if k else sched)
    return ", ".join(named) or "none of the schedules"


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
