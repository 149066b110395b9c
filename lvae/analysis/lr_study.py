"""The protocol's learning-rate study of Table 1's fixed-sigma rows, read from a
``table1-lr`` record (book page "Protocol", changes after registration).

Each fixed-sigma setting was trained under several schedules (constant Adam rates and a
warm-up) on the same batches and initialisations. Per setting, the schedule with the
highest mean ELBO on the held-out selection points is chosen; its ELBO on other fresh
points is the row's value. The claims that read fixed-sigma rows are then judged again
with those rows in place of the 1e-3 rows of the latent-1 table.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from ..report import fixed as fixed_decimals
from ..report import fmt, pm, provenance, table
from . import stats
from .protocol import (
    PAPER_EFFECT,
    Verdict,
    best_fixed_claim,
    difference_claims,
    ls_sigma_stabilisation,
    verdict_of,
)
from .records import by_setting, is_fixed, settings
from .table1 import paper_elbo

TABLE_RATE = "0.001"  # the calibrated tables' constant Adam rate, as a schedule's name


def schedules(record) -> list[str]:
    """The record's schedules in the order they were trained."""
    return record.models.values("schedule")


def _rows(record, setting: str, schedule: str):
    return record.models.where(setting=setting, schedule=schedule)


def _survived(rows) -> np.ndarray:
    """Which of ``rows`` never diverged (the record's ``diverged_at``: the first step with
    a non-finite loss, 0 for none)."""
    return rows.column("diverged_at") == 0


def diverged(record, setting: str, schedule: str) -> int:
    """How many seeds of ``setting`` diverged under ``schedule``."""
    return int(np.count_nonzero(~_survived(_rows(record, setting, schedule))))


def seed_sd(record, setting: str, schedule: str) -> float:
    """The standard deviation over seeds of ``setting``'s reported ELBO under ``schedule``
    (its seeds that did not diverge)."""
    rows = _rows(record, setting, schedule)
    return float(rows.column("elbo")[_survived(rows)].std(ddof=1))


def divergences(record) -> list[tuple[str, str, int]]:
    """(setting, schedule, seeds that diverged) wherever any did."""
    found = [
        (s, sched, diverged(record, s, sched))
        for s in settings(record)
        for sched in schedules(record)
    ]
    return [f for f in found if f[2]]


def convergence(record) -> dict[tuple[str, str], stats.FixedConvergence]:
    """The protocol's criterion (``stats.fixed_sigma_convergence``) for every (setting,
    schedule): its monitored ELBO over the last fifth against the seeds' spread of its
    reported ELBO. A schedule under which a seed diverged has not converged (change and
    spread NaN)."""
    out = {}
    for s in settings(record):
        for sched in schedules(record):
            rows = _rows(record, s, sched)
            if not _survived(rows).all():
                out[s, sched] = stats.FixedConvergence(math.nan, math.nan, False)
                continue
            steps, curves = rows.history("monitor_elbo")
            out[s, sched] = stats.fixed_sigma_convergence(steps, curves, rows.column("elbo"))
    return out


def seed_trend(record, setting: str, schedule: str) -> stats.SeedTrend | None:
    """``stats.seed_trend`` of ``setting``'s monitored ELBO under ``schedule``, over the
    same last fifth as ``convergence`` (changes are the same in either convention); None
    where a seed diverged."""
    rows = _rows(record, setting, schedule)
    if not _survived(rows).all():
        return None
    steps, curves = rows.history("monitor_elbo")
    return stats.seed_trend(steps, curves)


def chosen(record) -> dict[str, str]:
    """Each setting's schedule: the highest mean ELBO on the selection points among the
    schedules under which no seed diverged (a tie goes to the schedule trained first)."""
    out = {}
    for s in settings(record):
        means = {
            sched: _rows(record, s, sched).column("elbo_select").mean()
            for sched in schedules(record)
            if not diverged(record, s, sched)
        }
        if not means:
            raise ValueError(f"{s} diverged under every schedule: none can be chosen")
        out[s] = max(means, key=means.get)
    return out


def chosen_elbo(record) -> dict[str, np.ndarray]:
    """Each setting's reported ELBO (per seed, paper convention) under its chosen schedule."""
    return {
        s: paper_elbo(_rows(record, s, sched).column("elbo")) for s, sched in chosen(record).items()
    }


def monitored(record, setting: str) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """The steps, and ``setting``'s monitored ELBO (paper convention, (steps, seeds)) under
    each schedule, over the seeds that did not diverge under it."""
    out = {}
    for sched in schedules(record):
        rows = _rows(record, setting, sched)
        steps, curves = rows.history("monitor_elbo")
        out[sched] = paper_elbo(curves[:, _survived(rows)])
    return steps, out


@dataclass(frozen=True)
class RateEffect:
    """A setting's chosen schedule against ``baseline`` (the tables' constant rate):
    the difference of mean reported ELBOs, the seeds' spread at the baseline, and whether
    each converged by the protocol's criterion."""

    setting: str
    schedule: str
    gain: float
    baseline_sd: float
    baseline_converged: bool
    chosen_converged: bool


def rate_effects(record, baseline: str) -> list[RateEffect]:
    """``RateEffect`` of every setting against the schedule named ``baseline`` (over its
    seeds that did not diverge)."""
    if baseline not in schedules(record):
        raise ValueError(f"no schedule {baseline!r}; schedules: {schedules(record)}")
    conv, pick = convergence(record), chosen(record)
    out = []
    for s in settings(record):
        rows = _rows(record, s, baseline)
        base = rows.column("elbo")[_survived(rows)]
        best = _rows(record, s, pick[s]).column("elbo")
        out.append(
            RateEffect(
                s,
                pick[s],
                float(best.mean() - base.mean()),
                float(base.std(ddof=1)),
                conv[s, baseline].converged,
                conv[s, pick[s]].converged,
            )
        )
    return out


def study_table(record, title: str = "The learning-rate study", name: str = "lr_study"):
    """Every (setting, schedule): the ELBO on the selection and the reported points (mean
    ± std over seeds, paper convention), the convergence criterion, and the choice.
    ``title`` opens the caption; ``name`` keeps the HTML ids of two tables apart."""
    conv, pick = convergence(record), chosen(record)
    rows = []
    for s in settings(record):
        for sched in schedules(record):
            r = _rows(record, s, sched)
            kept = _survived(r)
            lost = int(np.count_nonzero(~kept))
            select = paper_elbo(r.column("elbo_select")[kept])
            report = paper_elbo(r.column("elbo")[kept])
            c = conv[s, sched]
            note = f" ({lost} diverged)" if lost else ""
            rows.append(
                [
                    s,
                    sched,
                    _spread(select) + note,
                    _spread(report) + note,
                    f"{fixed_decimals(c.change, 3)} / {fixed_decimals(c.seed_std, 3)}"
                    if not lost
                    else "—",
                    "yes" if c.converged else f"no, {lost} diverged" if lost else "no",
                    "chosen" if pick[s] == sched else "",
                ]
            )
    config = record.config
    kinds = [f"warm-up: linear from 0 over {config['warmup_steps']:,} steps"] * bool(
        config["warmup_steps"]
    )
    kinds += ["decay: linear to 0 over the whole run"] * bool(config.get("decay_rates"))
    return table(
        rows,
        [
            "setting",
            "Adam rate",
            "ELBO, selection points",
            "ELBO, reported",
            "last-fifth change / seed std",
            "converged",
            "",
        ],  # fmt: skip
        caption=f"{title} ({provenance(record.provenance)}; latent dimension "
        f"{config['latent_dim']}, data scale {config['data_scale']}, {config['n_blocks']} "
        f"residual blocks of {config['hidden']} units"
        + "".join(f"; {k}" for k in kinds)
        + f"): mean ± std over seeds, nats per point, paper "
        f"convention; {config['n_select']:,} selection and {config['n_eval']:,} other "
        "fresh points, over the seeds that did not diverge. Chosen: the schedule with the "
        "highest mean on the selection points among those under which no seed diverged.",
        name=name,
        align_left=2,
    )


def judged_at_table_rate(table_record, seed: int = 0) -> list[Verdict]:
    """T1-T5 judged on the table as it was trained (every row at its own rate)."""
    elbo = {s: paper_elbo(v) for s, v in by_setting(table_record, "elbo").items()}
    return [*difference_claims(elbo, seed), best_fixed_claim(elbo, seed)]


def _spread(values: np.ndarray) -> str:
    """mean ± std over seeds, or the one value, or a dash when none is left."""
    if len(values) == 0:
        return "—"
    if len(values) == 1:
        return fixed_decimals(values[0], 3)
    return pm(values.mean(), values.std(ddof=1))


# What a longer run of some of the study's settings must share with the study (it may
# train only some of the study's schedules).
EXTENSION_KEEPS = (
    "latent_dim", "data_scale", "hidden", "n_blocks", "batch_size", "seeds",
    "n_select", "n_eval", "n_monitor", "data_seed",
)  # fmt: skip


def _schedule_set(record) -> set[tuple]:
    """(name, rate, warm-up steps) of every schedule the record trained."""
    return {(m["schedule"], m["rate"], m["warmup_steps"]) for m in record.models}


def check_extension(study_record, longer_record, same_schedules: bool = True) -> None:
    """Raise ValueError unless ``longer_record`` is ``study_record``'s study, longer, for
    some of its settings and (with ``same_schedules``) some of its schedules."""
    for key in EXTENSION_KEEPS:
        if study_record.config.get(key) != longer_record.config.get(key):
            raise ValueError(
                f"the study and its extension differ in {key}: "
                f"{study_record.config.get(key)} vs {longer_record.config.get(key)}"
            )
    foreign = _schedule_set(longer_record) - _schedule_set(study_record)
    if same_schedules and foreign:
        raise ValueError(f"the extension has schedules the study has not: {sorted(foreign)}")
    if longer_record.config["steps"] <= study_record.config["steps"]:
        raise ValueError(
            f"the extension is not longer than the study: {longer_record.config['steps']} "
            f"steps vs {study_record.config['steps']}"
        )
    extra = set(settings(longer_record)) - set(settings(study_record))
    if extra:
        raise ValueError(f"the extension has settings the study has not: {sorted(extra)}")


def at_chosen_length(study_record, longer_record=None) -> dict[str, object]:
    """Each setting's record at the length the protocol keeps: ``longer_record`` (the
    study run longer for some settings) for the settings it holds, the study for the
    others."""
    out = dict.fromkeys(settings(study_record), study_record)
    if longer_record is not None:
        check_extension(study_record, longer_record)
        out.update(dict.fromkeys(settings(longer_record), longer_record))
    return out


def selection_score(record, setting: str) -> float:
    """The mean ELBO (paper convention) on the selection points of ``setting`` under its
    chosen schedule in ``record``: what the choice between lengths compares."""
    rows = _rows(record, setting, chosen(record)[setting])
    return float(paper_elbo(rows.column("elbo_select").mean()))


def at_best_length(study_record, *longer_records) -> dict[str, object]:
    """Each setting's record among the study and ``longer_records`` (the study run longer,
    each for some settings, under some of its schedules or new ones) whose chosen schedule
    scores the highest mean selection ELBO: the length and schedule are chosen together
    (a tie goes to the record listed first)."""
    for longer in longer_records:
        check_extension(study_record, longer, same_schedules=False)
    out = {}
    for setting in settings(study_record):
        holding = [study_record, *(r for r in longer_records if setting in settings(r))]
        out[setting] = max(holding, key=lambda r: selection_score(r, setting))
    return out


def _kept(study_record, longer_record=None, best_of: Sequence = ()) -> dict[str, object]:
    """The record each setting is read from: with ``best_of`` (more runs of some of the
    study's settings), the best of them, the study and ``longer_record``
    (``at_best_length``); else the longest that holds it (``at_chosen_length``)."""
    if not best_of:
        return at_chosen_length(study_record, longer_record)
    longer = [r for r in (longer_record, *best_of) if r is not None]
    return at_best_length(study_record, *longer)


@dataclass(frozen=True)
class KeptRow:
    """The row a setting is read from: its record's length (steps), the chosen schedule,
    the mean reported ELBO over seeds (paper convention) and that schedule's convergence
    criterion (``stats.FixedConvergence``)."""

    steps: int
    schedule: str
    mean_elbo: float
    criterion: stats.FixedConvergence
    trend: stats.SeedTrend | None = None  # the paired reading of the same window

    @property
    def converged(self) -> bool:
        return bool(self.criterion.converged)


def criterion_text(criterion: stats.FixedConvergence) -> str:
    """The convergence criterion in words (3 significant digits), as the chapter says it."""
    verdict = "converged" if criterion.converged else "not converged"
    return (
        f"last-fifth change {fmt(criterion.change, 3)} against a seed std of "
        f"{fmt(criterion.seed_std, 3)} ({verdict})"
    )


def kept_text(setting: str, row: KeptRow, beside: str = "") -> str:
    """A kept row in words: its schedule, length, mean reported ELBO (with ``beside`` in
    brackets after it, when given) and whether it converged."""
    elbo = f"mean reported ELBO {fmt(row.mean_elbo, 3)}" + (f" ({beside})" if beside else "")
    verdict = "converged" if row.converged else "not converged"
    return f"{setting}: {row.schedule} at {row.steps:,} steps, {elbo}, {verdict}"


def trend_text(trend: stats.SeedTrend) -> str:
    """A paired reading in a table cell: seeds up / down and the signed-rank p."""
    return f"{trend.rising} / {trend.falling}, p = {fmt(trend.p, 2)}"


def moving_rows(rows: Mapping[str, object]) -> list[str]:
    """The settings of ``rows`` (setting -> record) whose kept row still moves by the
    paired reading (``stats.SeedTrend.moving``)."""
    out = []
    for s, record in rows.items():
        trend = kept_row(record, s).trend
        if trend is not None and trend.moving:
            out.append(s)
    return out


def kept_row(record, setting: str) -> KeptRow:
    """``KeptRow`` of ``setting`` in ``record`` (one of those ``at_best_length`` keeps)."""
    sched = chosen(record)[setting]
    return KeptRow(
        int(record.config["steps"]),
        sched,
        float(chosen_elbo(record)[setting].mean()),
        convergence(record)[setting, sched],
        seed_trend(record, setting, sched),
    )


def lengths_text(setting: str, records: Sequence) -> str:
    """``setting`` at each length it was trained, shortest first (of ``records``, those
    that hold it): the length, its chosen schedule, that schedule's mean selection ELBO
    (what the choice between lengths compares) and its convergence criterion; "none"."""
    holding = sorted(
        (r for r in records if setting in settings(r)), key=lambda r: r.config["steps"]
    )
    parts = []
    for record in holding:
        row = kept_row(record, setting)
        parts.append(
            f"{row.steps:,} steps, {row.schedule}: selection ELBO "
            f"{fmt(selection_score(record, setting), 3)}, {criterion_text(row.criterion)}"
        )
    return "; ".join(parts) or "none"


def schedules_text(record, setting: str) -> str:
    """``setting`` under each schedule of ``record``: its mean reported ELBO (paper
    convention, the seeds that did not diverge) and whether it met the criterion:
    "0.001 decay: 0.405, not converged; 0.001 warm-up: 0.089, converged"."""
    conv = convergence(record)
    parts = []
    for sched in schedules(record):
        mean = float(elbo_under(record, sched)[setting].mean())
        verdict = "converged" if conv[setting, sched].converged else "not converged"
        parts.append(f"{sched}: {fmt(mean, 3)}, {verdict}")
    return "; ".join(parts)


def unconverged_at_choice(study_record, longer_record=None, best_of: Sequence = ()) -> list[str]:
    """The settings whose chosen schedule misses the convergence criterion, each read from
    the record ``_kept`` keeps."""
    kept = _kept(study_record, longer_record, best_of)
    judged = {id(r): (chosen(r), convergence(r)) for r in kept.values()}  # once per record
    out = []
    for setting, record in kept.items():
        pick, conv = judged[id(record)]
        if not conv[setting, pick[setting]].converged:
            out.append(setting)
    return out


def kept_rows(
    study_record,
    longer_record=None,
    best_of: Sequence = (),
    learned_record=None,
    learned_best_of: Sequence = (),
) -> dict[str, object]:
    """The record each row of the study is read from, as ``rejudged`` reads them: the
    fixed-sigma rows by ``_kept``, and with ``learned_record`` LS-VAE and LV-VAE chosen
    among it and ``learned_best_of`` (``at_best_length``)."""
    if learned_best_of and learned_record is None:
        raise ValueError("learned_best_of extends learned_record, which is missing")
    rows = _kept(study_record, longer_record, best_of)
    if learned_record is not None:
        rows.update(at_best_length(learned_record, *learned_best_of))
    return rows


def kept_table(rows: Mapping[str, object], name: str = "lr_kept"):
    """Each row of ``rows`` (setting -> record, as ``kept_rows`` gives) with the training
    it had: the run's steps and chosen schedule, its reported ELBO (mean ± std over
    seeds) and the convergence criterion, so that claims comparing rows trained unlike
    can be seen to."""
    lines = []
    for s, record in rows.items():
        row = kept_row(record, s)
        c, trend = row.criterion, row.trend
        lines.append(
            [
                s,
                f"{row.steps:,}",
                row.schedule,
                _spread(chosen_elbo(record)[s]),
                f"{fixed_decimals(c.change, 3)} / {fixed_decimals(c.seed_std, 3)}",
                "yes" if row.converged else "no",
                "—" if trend is None else trend_text(trend),
            ]
        )
    return table(
        lines,
        [
            "setting",
            "steps",
            "schedule",
            "reported ELBO",
            "last-fifth change / seed std",
            "converged",
            "seeds up / down, signed-rank p",
        ],  # fmt: skip
        caption="The row each setting of the latent-1 table is read from in the last "
        "judgement of T1 to T5: the length and schedule chosen for it on the selection "
        "points among all its runs; the ELBO (mean ± std over seeds, nats per point, paper "
        "convention) on the reported points; the convergence criterion of its schedule; "
        "and, reported beside it, the paired reading of the same window: how many seeds' "
        "own monitored ELBO rose and fell over the last fifth, and the two-sided "
        "signed-rank p of those changes.",
        name=name,
        align_left=3,
    )


def rejudged(
    table_record,
    study_record,
    seed: int = 0,
    longer_record=None,
    learned_record=None,
    best_of: Sequence = (),
    learned_best_of: Sequence = (),
) -> list[Verdict]:
    """T1-T5 judged on the table with every fixed-sigma row (the grid and F*) replaced by
    the study's row at its chosen schedule (taken from ``longer_record``, the study run
    longer, for the settings it holds; with ``best_of``, more runs of some settings, from
    whichever record ``at_best_length`` picks), and, with ``learned_record`` (the study of
    the learned-sigma rows), LS-VAE and LV-VAE at theirs, chosen the same way among it and
    ``learned_best_of``; else those stay the table's. The records must share the latent
    dimension and the data scale."""
    rows = kept_rows(study_record, longer_record, best_of, learned_record, learned_best_of)
    return judged_on(table_record, rows, seed)


def check_same_data(table_record, record) -> None:
    """Raise ValueError unless ``record`` (a study) shares ``table_record``'s latent
    dimension and data scale, so that their rows can stand in one table."""
    for key in ("latent_dim", "data_scale"):
        if table_record.config[key] != record.config[key]:
            raise ValueError(
                f"the table and the study differ in {key}: {table_record.config[key]} "
                f"vs {record.config[key]}"
            )


def elbo_under(record, schedule: str) -> dict[str, np.ndarray]:
    """Each setting's reported ELBO (per seed, paper convention) under ``schedule``, over
    its seeds that did not diverge."""
    if schedule not in schedules(record):
        raise ValueError(f"no schedule {schedule!r}; schedules: {schedules(record)}")
    out = {}
    for s in settings(record):
        rows = _rows(record, s, schedule)
        out[s] = paper_elbo(rows.column("elbo")[_survived(rows)])
    return out


def judged_on(
    table_record,
    rows: Mapping[str, object],
    seed: int = 0,
    schedule: str | None = None,
    read_at: Collection[str] | None = None,
) -> list[Verdict]:
    """T1-T5 judged on the table with each setting of ``rows`` (setting -> record, as
    ``kept_rows`` or ``trained_alike`` give) read from its record at its chosen
    schedule, or at ``schedule`` when given (only for the settings ``read_at`` names,
    when it is given; the others at their chosen one); a learned row that ``rows`` leaves
    out stays the table's. Every fixed-sigma row of the table must be in ``rows``, and
    every record must share the table's latent dimension and data scale."""
    if read_at is not None and schedule is None:
        raise ValueError("read_at names the settings read at a schedule; none was given")
    if read_at is not None and not set(read_at) <= set(rows):
        raise ValueError(
            f"read_at names settings the rows lack: {sorted(set(read_at) - set(rows))}"
        )
    records = {id(r): r for r in rows.values()}  # each record once
    for record in records.values():
        check_same_data(table_record, record)
    elbo = {s: paper_elbo(v) for s, v in by_setting(table_record, "elbo").items()}
    chosen_rows = {key: chosen_elbo(r) for key, r in records.items()}
    if schedule is not None:
        read_at = set(rows) if read_at is None else set(read_at)
        under = {id(rows[s]): elbo_under(rows[s], schedule) for s in read_at}
    replaced = {
        s: (under if schedule is not None and s in read_at else chosen_rows)[id(record)][s]
        for s, record in rows.items()
    }
    missing = [s for s in elbo if is_fixed(s) and s not in replaced]
    if missing:
        raise ValueError(f"the study has no row for {missing}")
    elbo.update({s: v for s, v in replaced.items() if s in elbo})
    return [*difference_claims(elbo, seed), best_fixed_claim(elbo, seed)]


def trained_alike(rows: Mapping[str, object], *runs) -> dict[str, object]:
    """``rows`` (setting -> record, as ``kept_rows`` gives) with every setting that one of
    ``runs`` holds read from that run instead, whatever the choice between lengths kept:
    the runs must have one length and the same schedules, so that a claim between two of
    their settings compares rows trained alike (same steps, schedules, monitor and
    evaluation points)."""
    if not runs:
        raise ValueError("trained_alike needs at least one run")
    steps = {int(r.config["steps"]) for r in runs}
    schedule_sets = {frozenset(_schedule_set(r)) for r in runs}
    if len(steps) > 1 or len(schedule_sets) > 1:
        raise ValueError(
            f"the runs are not trained alike: steps {sorted(steps)}, schedules "
            f"{[sorted(s) for s in schedule_sets]}"
        )
    for a, b in itertools.combinations(runs, 2):
        for key in EXTENSION_KEEPS:
            if a.config.get(key) != b.config.get(key):
                raise ValueError(
                    f"the runs differ in {key}: {a.config.get(key)} vs {b.config.get(key)}"
                )
        shared = set(settings(a)) & set(settings(b))
        if shared:
            raise ValueError(f"two runs hold the same settings: {sorted(shared)}")
    out = dict(rows)
    for run in runs:
        unknown = [s for s in settings(run) if s not in rows]
        if unknown:
            raise ValueError(f"the run has settings the rows have not: {unknown}")
        out.update(dict.fromkeys(settings(run), run))
    return out


def rise_per_doubling(record, setting: str, doublings: int = 3) -> list[tuple[int, int, float]]:
    """(from, to, rise) of ``setting``'s seed-mean monitored ELBO (paper convention) under
    its chosen schedule over each of the last ``doublings`` doublings of the steps (the
    last ends at the last logged step; a step between logs is read at the log before),
    earliest first. A curve that rises by about the same at each doubling grows like
    log(steps): it has not levelled off."""
    steps, curves = monitored(record, setting)
    mean = curves[chosen(record)[setting]].mean(axis=1)
    ends = [steps[-1] / 2**k for k in range(doublings + 1)][::-1]
    if ends[0] < steps[0]:
        raise ValueError(
            f"{doublings} doublings end before the first logged step ({int(steps[0])})"
        )
    at = [int(np.searchsorted(steps, e, side="right")) - 1 for e in ends]
    return [
        (int(steps[i]), int(steps[j]), float(mean[j] - mean[i])) for i, j in itertools.pairwise(at)
    ]


@dataclass(frozen=True)
class LateFall:
    """Where ``setting``'s seed-mean monitored ELBO peaked (step, value), and the largest
    fall of one seed's monitored ELBO between two consecutive logs after the peak (nats,
    the seed's position among those that did not diverge, the step it fell to); 0, None,
    None where none fell."""

    peak_step: int
    peak: float
    fall: float
    seed: int | None
    fall_step: int | None


def late_fall(record, setting: str) -> LateFall:
    """``LateFall`` of ``setting`` under its chosen schedule (paper convention)."""
    steps, curves = monitored(record, setting)
    values = curves[chosen(record)[setting]]
    mean = values.mean(axis=1)
    top = int(np.nanargmax(mean))
    falls = -np.diff(values[top:], axis=0)  # (intervals, seeds), positive where it fell
    if falls.size == 0 or np.nanmax(falls) <= 0:
        return LateFall(int(steps[top]), float(mean[top]), 0.0, None, None)
    interval, seed = np.unravel_index(int(np.nanargmax(falls)), falls.shape)
    return LateFall(
        int(steps[top]),
        float(mean[top]),
        float(falls[interval, seed]),
        int(seed),
        int(steps[top + interval + 1]),
    )


def t4_alone(record, seed: int = 0) -> Verdict:
    """T4 (F*-VAE below F(0.1)) between the two rows of ``record`` alone, each at its
    chosen schedule (in ``table1-lr-longest`` and ``table1-lr-decay`` both train for the
    same steps under the same schedules). A single test (Mann-Whitney, bootstrap
    interval), outside any Holm family."""
    elbo = chosen_elbo(record)
    for s in ("F*", "F sigma=0.1"):
        if s not in elbo:
            raise ValueError(f"the record has no row {s!r}; rows: {sorted(elbo)}")
    spec = [("T4", "F* − F(0.1)", elbo["F*"], elbo["F sigma=0.1"], -1, PAPER_EFFECT["T4"])]
    (judged,) = stats.judge(spec, seed=seed)
    return verdict_of(judged, p_name="p")


LEARNED_SETTINGS = ("LS", "LV")  # the learned-sigma rows of Table 1


def sigma_stability(record) -> dict[tuple[str, str], stats.SigmaStabilisation]:
    """The protocol's learned-sigma criterion (``stats.sigma_stabilisation``: the median
    drift of log sigma over the last tenth against the seeds' spread of its final value)
    for every learned setting under every schedule, on the sigma logged along training
    (LV-VAE's: its mean over dimensions and points), over the seeds that did not diverge.
    """
    out = {}
    for s in settings(record):
        if s in LEARNED_SETTINGS:
            steps, paths = sigma_paths(record, s)
            for sched, sigma in paths.items():
                out[s, sched] = stats.sigma_stabilisation(steps, sigma)
    return out


def settles_under(record, setting: str = "LS") -> list[str]:
    """The schedules under which ``setting``'s sigma meets the learned-sigma criterion."""
    return [
        sched for (s, sched), c in sigma_stability(record).items() if s == setting and c.stabilised
    ]


def calmest_schedule(record, setting: str = "LS") -> str:
    """The schedule under which ``setting``'s sigma drifts least over the last tenth."""
    drift = {sched: c.drift for (s, sched), c in sigma_stability(record).items() if s == setting}
    return min(drift, key=drift.get)


def sigma_settling_depends_on_rate(record, setting: str = "LS") -> bool:
    """Whether the criterion holds under some schedules and not under others."""
    return 0 < len(settles_under(record, setting)) < len(schedules(record))


@dataclass(frozen=True)
class SigmaRerun:
    """The learned-sigma criterion on LS-VAE in the table's run (``table``: its traced
    sigma, what T7's verdict reads) beside the same criterion on LS-VAE trained again at
    the tables' rate in the study (``rerun``: other batches, same initial weights).
    ``moved``: the two disagree, so T7's verdict at that rate depends on the draw."""

    table: stats.SigmaStabilisation
    rerun: stats.SigmaStabilisation

    @property
    def moved(self) -> bool:
        return bool(self.table.stabilised) != bool(self.rerun.stabilised)


def sigma_rerun(table_record, learned_record) -> SigmaRerun:
    """``SigmaRerun`` of ``table_record`` against ``learned_record`` (the study of its
    learned rows) at ``TABLE_RATE``. Raises ValueError when the study lacks that rate or
    the two are not of the same latent dimension and data scale."""
    check_same_data(table_record, learned_record)
    if TABLE_RATE not in schedules(learned_record):
        raise ValueError(f"the study has no schedule {TABLE_RATE!r} (the tables' rate)")
    rerun = sigma_stability(learned_record)["LS", TABLE_RATE]
    return SigmaRerun(ls_sigma_stabilisation(table_record), rerun)


def sigma_rerun_text(rerun: SigmaRerun) -> str:
    """Both readings, each number to two significant digits: "in the table settled
    (drift 0.017 against 0.019), trained again at 0.001 not settled (0.039 against
    0.028)"."""

    def settled(c: stats.SigmaStabilisation) -> str:
        return "settled" if c.stabilised else "not settled"

    t, r = rerun.table, rerun.rerun
    return (
        f"in the table {settled(t)} (drift {fmt(t.drift, 2)} against {fmt(t.noise, 2)}), "
        f"trained again at {TABLE_RATE} {settled(r)} ({fmt(r.drift, 2)} against "
        f"{fmt(r.noise, 2)})"
    )


def sigma_paths(record, setting: str) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """The steps, and ``setting``'s logged sigma ((steps, seeds)) under each schedule, over
    the seeds that did not diverge under it."""
    out = {}
    for sched in schedules(record):
        rows = _rows(record, setting, sched)
        steps, sigma = rows.history("sigma")
        out[sched] = sigma[:, _survived(rows)]
    return steps, out


def sigma_table(record, name: str = "lr_sigma"):
    """Every learned setting under every schedule: its final sigma (geometric mean over
    seeds, and their range), and the learned-sigma criterion (``name``: the HTML id)."""
    stable = sigma_stability(record)
    rows = []
    for (s, sched), c in stable.items():
        r = _rows(record, s, sched)
        final = r.column("final_sigma")[_survived(r)]
        rows.append(
            [
                s,
                sched,
                f"{np.exp(np.log(final).mean()):.4f} [{final.min():.4f}, {final.max():.4f}]",
                f"{c.drift:.3f} / {c.noise:.3f}",
                "yes" if c.stabilised else "no",
            ]
        )
    return table(
        rows,
        ["setting", "Adam rate", "final σ [range]", "drift / seed spread of log σ", "settled"],
        caption=f"The learned σ under each schedule ({provenance(record.provenance)}): its "
        "final value (geometric mean over seeds, and the seeds' range; LV-VAE's is its mean "
        "over dimensions and points) and the protocol's criterion: the median change of "
        "log σ over the last tenth of training against the seeds' spread of its final "
        "value.",
        name=name,
        align_left=2,
    )


def verdicts_changing(changed: Sequence[str], verb: str = "change") -> str:
    """How many verdicts ``changed`` holds, as a sentence's subject and verb: "1 verdict
    changes", "2 verdicts change" (``verb`` in its plural form)."""
    n = len(changed)
    return f"1 verdict {verb}s" if n == 1 else f"{n} verdicts {verb}"


def changed_verdicts(before: Sequence[Verdict], after: Sequence[Verdict]) -> list[str]:
    """The claims whose verdict differs between two judgements of the same claims."""
    old = {v.key: v.verdict for v in before}
    return [v.key for v in after if v.key in old and old[v.key] != v.verdict]


def verdicts_side_by_side(
    before: Sequence[Verdict],
    after: Sequence[Verdict],
    labels: Mapping[str, str],
    caption: str,
    name: str = "lr_rejudged",
):
    """One row per claim: its verdict and evidence under each of two judgements (``name``:
    the table's HTML ids)."""
    old = {v.key: v for v in before}
    rows = [
        [v.key, f"{old[v.key].verdict}: {old[v.key].evidence}", f"{v.verdict}: {v.evidence}"]
        for v in after
        if v.key in old
    ]
    return table(
        rows,
        ["id", labels["before"], labels["after"]],
        caption=caption,
        name=name,
    )


def ever_moved(stages: Mapping[str, Sequence[Verdict]]) -> list[str]:
    """The claims (of the first judgement) whose verdict differs between any two of
    ``stages`` (label -> verdicts)."""
    verdicts = {}
    for judged in stages.values():
        for v in judged:
            verdicts.setdefault(v.key, set()).add(v.verdict)
    return [v.key for v in next(iter(stages.values())) if len(verdicts[v.key]) > 1]


# The steps of ``judgement_path`` that train rows again at the tables' rate (other
# batches and evaluation points): a verdict that moves there moves with retraining alone,
# not with the rate or length. The later steps each train a new stack, so their moves mix
# the choice with a new draw of batches.
RERUN_STEPS = ("fixed rows at 10⁻³", "LS, LV at 10⁻³")


def steps_moved(stages: Mapping[str, Sequence[Verdict]]) -> dict[str, list[str]]:
    """Each claim (of the first judgement) -> the steps (labels of ``stages`` after the
    first) at which its verdict differs from the judgement just before."""
    judged = [{v.key: v.verdict for v in verdicts} for verdicts in stages.values()]
    steps = list(zip(list(stages)[1:], judged[:-1], judged[1:], strict=True))
    return {key: [label for label, old, new in steps if old[key] != new[key]] for key in judged[0]}


def moved_by_choice(stages: Mapping[str, Sequence[Verdict]]) -> list[str]:
    """The claims whose verdict moves at a step that changes a schedule or a length (any
    step but ``RERUN_STEPS``; such a step may redraw the batches too)."""
    return [k for k, steps in steps_moved(stages).items() if set(steps) - set(RERUN_STEPS)]


def moved_by_rerun(stages: Mapping[str, Sequence[Verdict]]) -> list[str]:
    """The claims whose verdict moves at one of ``RERUN_STEPS``: training the same rows
    again at the same rate moves them."""
    return [k for k, steps in steps_moved(stages).items() if set(steps) & set(RERUN_STEPS)]


def verdict_cell(v: Verdict) -> str:
    """A verdict with our effect (nats per point, three decimals), as "holds (+0.041)"."""
    return v.verdict + ("" if v.effect is None else f" ({v.effect:+.3f})")


def verdict_path(
    stages: Mapping[str, Sequence[Verdict]], name: str = "lr_path", latent_dim: int = 1
):
    """One row per claim, one column per judgement in ``stages`` (label -> verdicts, in
    the order the study made them) of the study at ``latent_dim``: each claim's verdict
    and effect at every step; the last column names the steps at which it moved ("—"
    where it never did)."""
    judged = [{v.key: v for v in verdicts} for verdicts in stages.values()]
    moved = steps_moved(stages)
    rows = [
        [key, *(verdict_cell(j[key]) for j in judged), ", ".join(moved[key]) or "—"]
        for key in judged[0]
    ]
    return table(
        rows,
        ["id", *stages, "moved at"],
        caption="Each claim's verdict (and our effect, nats per point) at every step of the "
        f"learning-rate study at latent {latent_dim}, from the table's rate on the left to "
        "the last "
        "judgement on the right; 'moved at': the steps at which the verdict differs from "
        "the step before. The steps '" + "' and '".join(RERUN_STEPS) + "' train the same "
        "rows again at the table's rate (other batches and evaluation points, F*'s "
        "borrowed initial weights): a move there comes from retraining alone. The step "
        "after each reads the same study at the chosen schedules, whose runs share its "
        "batches, so a move there is the schedule's. Each later step adds a run that "
        "trained its rows anew on other batches, so its move mixes the choice of schedule "
        "or length with a new draw. A verdict can also move at a step that changes only "
        "other claims' rows, through the Holm-adjusted p of the family T1 to T4.",
        name=name,
    )


def judgement_path(
    table_record,
    study_record,
    longer_record,
    learned_record,
    runs: Sequence[tuple[str, object]],
    seed: int = 0,
) -> dict[str, list[Verdict]]:
    """T1-T5 at every step of the study, in the order it was made (label -> verdicts):
    at the table's rate; the fixed rows retrained at that rate (``RERUN_STEPS[0]``), then
    at their chosen schedule; F(0.1) from ``longer_record`` (a step only when given);
    LS-VAE and LV-VAE retrained at the table's rate (``RERUN_STEPS[1]``), then at theirs
    (two steps only with ``learned_record``); then, for each (label, run) of ``runs``,
    with that run joining the choice of its rows (``best_of`` for a run of fixed rows,
    ``learned_best_of`` for one of the learned rows), cumulatively. Each rerun step
    splits the move of the step after it: what retraining on other batches does, and
    what the choice of schedule does."""
    fixed_rows = kept_rows(study_record)
    stages = {
        "table's rate": judged_at_table_rate(table_record, seed),
        RERUN_STEPS[0]: judged_on(table_record, fixed_rows, seed, schedule=TABLE_RATE),
        "fixed rows' rate": rejudged(table_record, study_record, seed),
    }
    if longer_record is not None:
        stages["F(0.1) 2x"] = rejudged(
            table_record, study_record, seed, longer_record=longer_record
        )
    if learned_record is not None:
        up_to_f01 = kept_rows(study_record, longer_record, learned_record=learned_record)
        learned_rows = [s for s in LEARNED_SETTINGS if s in settings(learned_record)]
        stages[RERUN_STEPS[1]] = judged_on(
            table_record, up_to_f01, seed, schedule=TABLE_RATE, read_at=learned_rows
        )
    fixed, learned = [], []

    def judged():
        return rejudged(
            table_record,
            study_record,
            seed,
            longer_record=longer_record,
            learned_record=learned_record,
            best_of=tuple(fixed),
            learned_best_of=tuple(learned),
        )

    if learned_record is not None:
        stages["LS, LV rate"] = judged()
    for label, run in runs:
        if label in stages:
            raise ValueError(f"two steps of the path are labelled {label!r}")
        (learned if learned_only(run) else fixed).append(run)
        stages[label] = judged()
    return stages


def learned_only(run) -> bool:
    """Whether ``run`` trains only learned-sigma rows, LS-VAE and LV-VAE (it then joins
    their choice)."""
    return set(settings(run)) <= set(LEARNED_SETTINGS)


def final_kept_rows(
    study_record, longer_record, learned_record, runs: Sequence[tuple[str, object]]
) -> dict[str, object]:
    """The record each row is read from at the last step of ``judgement_path`` (its
    arguments but the table and the seed): every run of ``runs`` joined to the choice of
    its rows."""
    made = [run for _, run in runs]
    return kept_rows(
        study_record,
        longer_record,
        best_of=tuple(r for r in made if not learned_only(r)),
        learned_record=learned_record,
        learned_best_of=tuple(r for r in made if learned_only(r)),
    )
