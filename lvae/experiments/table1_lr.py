"""``table1-lr``: the protocol's learning-rate study for the fixed-sigma rows of Table 1
(book page "Protocol", changes after registration).

Every (setting, seed) is trained under each schedule: constant Adam rates ``rates`` and a
linear warm-up from 0 to ``lr`` over ``warmup_steps``. Each schedule is one stack with
the same batches and initialisations, so a setting's schedules are paired seed by seed.
A setting's rate is chosen on ``n_select`` held-out points; its ELBO is reported on
another ``n_eval``. The training code is ``lvae.toy2d_experiment``.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import ClassVar

from .base import Experiment
from .config import TrainingConfig
from .table1 import CALIBRATED_SCALE

LEARNED = ("scalar", "vector")  # LS-VAE and LV-VAE, as in Table 1

# F*: the sigma LS-VAE learned in the calibrated table at each latent dimension (book
# records, geometric mean over seeds of the final sigma), rounded to 4 digits; a test
# reads each off its record.
F_STAR = {1: 0.1471, 2: 0.0515, 4: 0.0554}


@dataclass(frozen=True)
class LRStudyConfig(TrainingConfig):
    """F-VAE at each of ``fixed_sigmas`` and at ``f_star_sigma`` (named "F*"; None leaves
    it out), then the learned-sigma VAEs named in ``learned`` ("scalar": LS-VAE,
    "vector": LV-VAE), every seed, under each schedule; the ``table1`` network, data and
    monitor. ``lr`` (the common field) is the warm-up's final rate."""

    POSITIVE: ClassVar[tuple[str, ...]] = ("hidden", "n_eval", "n_select", "n_monitor")
    OMITTED_AT: ClassVar[dict[str, object]] = {"init_index": 0, "learned": (), "decay_rates": ()}

    fixed_sigmas: tuple[float, ...] = (1.0, 0.3, 0.1, 0.043, 0.03, 0.01)  # Table 1's grid
    f_star_sigma: float | None = F_STAR[1]
    learned: tuple[str, ...] = ()  # learned-sigma settings after the fixed ones
    rates: tuple[float, ...] = (3e-4, 1e-3, 3e-3)  # the constant schedules
    warmup_steps: int = 5000  # the warm-up schedule: 0 -> lr over this many steps; 0: none
    # Decay schedules: the rate falls linearly from each of these to 0 over the whole run.
    decay_rates: tuple[float, ...] = ()
    seeds: tuple[int, ...] = tuple(range(10))
    steps: int = 60000
    latent_dim: int = 1
    hidden: int = 64
    n_blocks: int = 2
    batch_size: int = 100
    log_every: int = 1000
    n_monitor: int = 2000  # fixed points for the ELBO logged along training
    n_select: int = 10000  # held-out points the rate is chosen on
    n_eval: int = 10000  # other fresh points the reported ELBO is measured on
    data_scale: float = CALIBRATED_SCALE
    data_seed: int = 2020
    # Setting i of the stack starts from the initial weights of setting init_index + i of
    # Table 1 (lvae.spec.grid): 0 when fixed_sigmas is the table's grid from its start.
    init_index: int = 0

    def __post_init__(self):
        super().__post_init__()
        if self.init_index < 0:
            raise ValueError(f"init_index must be >= 0, got {self.init_index}")
        f_star = () if self.f_star_sigma is None else (self.f_star_sigma,)
        sigmas = (*self.fixed_sigmas, *f_star)
        if not sigmas and not self.learned:
            raise ValueError("the study has no setting: give fixed_sigmas, f_star_sigma or learned")
        if any(kind not in LEARNED for kind in self.learned) or len(set(self.learned)) != len(
            self.learned
        ):
            raise ValueError(f"learned must be distinct kinds of {LEARNED}, got {self.learned}")
        if any(not (s > 0 and math.isfinite(s)) for s in sigmas):
            raise ValueError(
                f"fixed_sigmas and f_star_sigma (or None) must be positive and finite, got "
                f"{self.fixed_sigmas} and {self.f_star_sigma}"
            )
        if len(set(sigmas)) != len(sigmas):
            raise ValueError(f"the sigmas must be distinct, got {sigmas}")
        if any(not (r > 0 and math.isfinite(r)) for r in (*self.rates, *self.decay_rates)):
            raise ValueError(
                f"rates and decay_rates must be positive and finite, got {self.rates} and "
                f"{self.decay_rates}"
            )
        if not self.rates and not self.decay_rates and not self.warmup_steps:
            raise ValueError("the study has no schedule: give rates, decay_rates or warmup_steps")
        if self.warmup_steps < 0 or self.warmup_steps >= self.steps:
            raise ValueError(
                f"warmup_steps must be 0 (no warm-up schedule) or between 1 and steps - 1 "
                f"({self.steps - 1}), got {self.warmup_steps}"
            )
        if not (self.data_scale > 0 and math.isfinite(self.data_scale)):
            raise ValueError(f"data_scale must be positive and finite, got {self.data_scale}")


def schedules(config: LRStudyConfig) -> list[tuple[str, float, int, int]]:
    """(name, rate, warm-up steps, decay steps) of every schedule: the constant rates,
    the linear decays to 0 over the whole run, then the warm-up unless ``warmup_steps``
    is 0."""
    constant = [(f"{r:g}", r, 0, 0) for r in config.rates]
    decays = [(f"{r:g} decay", r, 0, config.steps) for r in config.decay_rates]
    if not config.warmup_steps:
        return [*constant, *decays]
    return [*constant, *decays, (f"{config.lr:g} warm-up", config.lr, config.warmup_steps, 0)]


PROFILES = {
    "smoke": LRStudyConfig(
        seeds=(0, 1, 2),
        steps=60,
        warmup_steps=20,
        hidden=16,
        n_blocks=1,
        log_every=10,
        n_monitor=100,
        n_select=500,
        n_eval=500,
    ),
    "book": LRStudyConfig(),
    "paper": LRStudyConfig(steps=200000, hidden=200, n_blocks=4, log_every=2000),
}


def run(config: LRStudyConfig, device, checkpoint_dir) -> dict:
    """One stack per schedule, then the selection and reported ELBOs (torch)."""
    from ..toy2d_experiment import _run_lr_study

    return _run_lr_study(config, schedules(config), device, checkpoint_dir)


EXPERIMENT = Experiment(
    "table1-lr",
    "2-D toy problem: the fixed-sigma rows of Table 1 (latent 1, calibrated) under four "
    "learning-rate schedules (protocol)",
    LRStudyConfig,
    PROFILES,
    run,
)

# The protocol trains a run that misses the convergence criterion further. In the book
# study one setting's chosen schedule missed it: F(0.1) (a test reads this off the
# record). The extension trains that setting again, from the same initial weights, for
# LONG_FACTOR times the steps under the same four schedules, so its schedule is chosen
# again at the longer length. Which settings need it at paper scale is known only once
# the paper-scale study has run; the paper preset extends the same one.
LONG_SIGMAS = (0.1,)
LONG_FACTOR = 2


def longer_rows(config: LRStudyConfig, sigmas: tuple[float, ...]) -> LRStudyConfig:
    """The fixed-sigma study ``config`` for the grid's ``sigmas`` alone (adjacent in the
    grid, from their table rows' weights), no F*, LONG_FACTOR times the steps."""
    first = config.fixed_sigmas.index(sigmas[0])
    if config.fixed_sigmas[first : first + len(sigmas)] != sigmas:
        raise ValueError(f"{sigmas} are not adjacent in the grid {config.fixed_sigmas}")
    return dataclasses.replace(
        config,
        fixed_sigmas=sigmas,
        f_star_sigma=None,
        steps=LONG_FACTOR * config.steps,
        init_index=config.init_index + first,
    )


LONG = EXPERIMENT.variant(
    "table1-lr-long",
    f"table1-lr at {LONG_FACTOR}x the steps for F at sigma {', '.join(map(str, LONG_SIGMAS))} "
    "only (the setting whose chosen schedule had not converged)",
    lambda config: longer_rows(config, LONG_SIGMAS),  # from the table rows' weights
)

# The protocol's next step for F(0.1), which missed the criterion at 2x too, still rising
# under the rate chosen at both lengths (a test reads that rate off the two records). T4
# reads F* - F(0.1), so F* trains beside it, under the same rate and batches, for the
# same length: LONGEST_FACTOR times the study's steps. With one constant rate a run's
# first steps are those of any shorter run, so the curve also shows the shorter lengths.
LONGEST_RATE = 3e-4
LONGEST_FACTOR = 8


def t4_rows(
    config: LRStudyConfig,
    factor: int,
    rates: tuple[float, ...] = (),
    decay_rates: tuple[float, ...] = (),
) -> LRStudyConfig:
    """T4's two rows of the study ``config``, F(0.1) (from its table row's initial
    weights) and F*, for ``factor`` times its steps under the constant ``rates`` and the
    decays from ``decay_rates``, with no warm-up."""
    return dataclasses.replace(
        config,
        fixed_sigmas=LONG_SIGMAS,
        rates=rates,
        decay_rates=decay_rates,
        warmup_steps=0,
        steps=factor * config.steps,
        init_index=config.fixed_sigmas.index(LONG_SIGMAS[0]),
    )


LONGEST = EXPERIMENT.variant(
    "table1-lr-longest",
    f"table1-lr at {LONGEST_FACTOR}x the steps for F at sigma 0.1 and F*, under the "
    f"constant rate {LONGEST_RATE:g} only (F(0.1) had not converged at 2x)",
    lambda config: t4_rows(config, LONGEST_FACTOR, rates=(LONGEST_RATE,)),
)

# The protocol's next step after the constant rate failed to settle F(0.1) at 8x: two
# schedules whose rate decays linearly to 0 over the run, from the table's rate and from
# the rate F(0.1) chose, for F(0.1) and F* (T4's two rows), at DECAY_FACTOR times the
# study's steps.
DECAY_RATES = (1e-3, 3e-4)
DECAY_FACTOR = 2

DECAY = EXPERIMENT.variant(
    "table1-lr-decay",
    f"table1-lr for F at sigma 0.1 and F* under rates decaying linearly to 0 from "
    f"{' and '.join(f'{r:g}' for r in DECAY_RATES)}, at {DECAY_FACTOR}x the steps",
    lambda config: t4_rows(config, DECAY_FACTOR, decay_rates=DECAY_RATES),
)

# After the decaying rates, F(0.1) was still rising at 2x under both; under the constant
# rate 3e-4 it had peaked near 4x and then fallen seed by seed. A rate that decays from
# 3e-4 to 0 over 8x the study's steps moves the weights as far as that constant rate did
# by its peak, and then lets the noise it leaves die away. F* trains beside it (T4).
DECAY_LONGEST = EXPERIMENT.variant(
    "table1-lr-decay-longest",
    f"table1-lr for F at sigma 0.1 and F* under the rate decaying linearly to 0 from "
    f"{LONGEST_RATE:g}, at {LONGEST_FACTOR}x the steps",
    lambda config: t4_rows(config, LONGEST_FACTOR, decay_rates=(LONGEST_RATE,)),
)

# The runs that extended the study after its first three (table1-lr, -long, -learned),
# in the order they were registered and made, each with its label in the judgement
# path (lr_study.judgement_path): the chapter and the claims page follow the same steps.
LATER_STEPS: tuple[tuple[str, str], ...] = (
    ("F 8x", "table1-lr-longest"),
    ("F decays", "table1-lr-decay"),
    ("LS, LV decays", "table1-lr-learned-decay"),
    ("F decays 8x", "table1-lr-decay-longest"),
    ("LS, LV decays 8x", "table1-lr-learned-decay-longest"),
)

# Registered variants whose record is not yet made (their run is under way or still to
# come): the chapter names them, and the committed-records test passes them over.
PENDING: tuple[str, ...] = ()

# The steps whose record is made: those the chapter and the claims page judge.
MADE_STEPS = tuple((label, name) for label, name in LATER_STEPS if name not in PENDING)

# The two runs of one schedule and length from which F(0.1), F*, LS-VAE and LV-VAE at
# latent 1 are also judged trained alike (lr_study.trained_alike), whatever was kept.
LATENT1_ALIKE = ("table1-lr-decay-longest", "table1-lr-learned-decay-longest")


# The protocol's study for the learned-sigma rows of the latent-1 table: LS-VAE and
# LV-VAE under the same schedules, each model from its table row's initial weights
# (after the grid's in Table 1's first phase). Their sigma is logged along training, so
# whether sigma settles can be judged under each rate.
def learned_rows(config: LRStudyConfig) -> LRStudyConfig:
    """The study of ``config`` for LS-VAE and LV-VAE alone, from their table rows' weights."""
    return dataclasses.replace(
        config,
        fixed_sigmas=(),
        f_star_sigma=None,
        learned=LEARNED,
        init_index=len(config.fixed_sigmas),
    )


LEARNED_STUDY = EXPERIMENT.variant(
    "table1-lr-learned",
    "table1-lr for LS-VAE and LV-VAE (the learned-sigma rows of Table 1, latent 1)",
    learned_rows,
)

# The decaying rates gave F* a row trained twice as long under a schedule LS-VAE and
# LV-VAE never had, so the claims that compare a learned row with F* (T3) or with the
# fixed rows (T1, T2, T5) would compare unequal training. The protocol's next entry
# trains the learned-sigma rows under the same two decaying schedules, for the same
# length, from the same initial weights as in their own study.
LEARNED_DECAY = EXPERIMENT.variant(
    "table1-lr-learned-decay",
    f"table1-lr for LS-VAE and LV-VAE under rates decaying linearly to 0 from "
    f"{' and '.join(f'{r:g}' for r in DECAY_RATES)}, at {DECAY_FACTOR}x the steps (the "
    "schedules and length F(0.1) and F* had in table1-lr-decay)",
    lambda config: dataclasses.replace(
        learned_rows(config),
        rates=(),
        decay_rates=DECAY_RATES,
        warmup_steps=0,
        steps=DECAY_FACTOR * config.steps,
    ),
)

# After the decay from 3e-4 over 8x the steps, F(0.1) and F* were the rows of T1-T4
# trained longest and LS-VAE the one row still rising. The protocol's next entry gives
# LS-VAE and LV-VAE that same schedule and length, from their study's initial weights,
# so that the four rows T1-T4 compare can also be judged trained alike.
LEARNED_DECAY_LONGEST = EXPERIMENT.variant(
    "table1-lr-learned-decay-longest",
    f"table1-lr for LS-VAE and LV-VAE under the rate decaying linearly to 0 from "
    f"{LONGEST_RATE:g}, at {LONGEST_FACTOR}x the steps (the schedule and length F(0.1) "
    "and F* had in table1-lr-decay-longest)",
    lambda config: dataclasses.replace(
        learned_rows(config),
        rates=(),
        decay_rates=(LONGEST_RATE,),
        warmup_steps=0,
        steps=LONGEST_FACTOR * config.steps,
    ),
)


# The protocol runs the study "for every setting and latent dimension". At latent 1 it was
# made first, and grew in the steps above; at latent 2 and 4 (protocol page, the entry of
# 2026-12-07, committed before these runs) it is made as it first was at latent 1: the
# fixed-sigma rows, F* at that table's learned sigma, and the learned rows, under the same
# four schedules and length; each grid model, LS-VAE and LV-VAE from the initial weights
# of their rows of that latent's calibrated table (F* from its LS-VAE row's, as at
# latent 1). They are made in this order, one at a time.
def at_latent(config: LRStudyConfig, latent_dim: int) -> LRStudyConfig:
    """The study of ``config`` on the calibrated table at ``latent_dim``, with its F*."""
    return dataclasses.replace(config, latent_dim=latent_dim, f_star_sigma=F_STAR[latent_dim])


def _latent_studies(latent_dim: int) -> tuple[Experiment, Experiment]:
    fixed = EXPERIMENT.variant(
        f"table1-lr-latent{latent_dim}",
        f"table1-lr for the fixed-sigma rows of the latent-{latent_dim} calibrated table "
        f"(F* at its learned sigma, {F_STAR[latent_dim]:g})",
        lambda config: at_latent(config, latent_dim),
    )
    learned = EXPERIMENT.variant(
        f"table1-lr-learned-latent{latent_dim}",
        f"table1-lr for LS-VAE and LV-VAE of the latent-{latent_dim} calibrated table",
        lambda config: learned_rows(at_latent(config, latent_dim)),
    )
    return fixed, learned


# {latent dimension: (fixed-sigma study, learned-sigma study)}, in the order of making.
LATENT_STUDIES: dict[int, tuple[Experiment, Experiment]] = {d: _latent_studies(d) for d in (2, 4)}


def made_latent_studies() -> dict[int, list[str]]:
    """{latent dimension: the names of its studies whose record is made (not PENDING),
    the fixed-sigma study first}; a latent with none made is left out. Raises ValueError
    if a learned study is marked made while its fixed one is pending (they are made in
    that order, and the learned one is read with the fixed one)."""
    out = {}
    for d, (fixed, learned) in LATENT_STUDIES.items():
        if fixed.name in PENDING and learned.name not in PENDING:
            raise ValueError(f"{learned.name} is made but {fixed.name} is pending")
        made = [e.name for e in (fixed, learned) if e.name not in PENDING]
        if made:
            out[d] = made
    return out


# At latent 2 and 4, as at latent 1, the protocol trains further each row whose chosen
# schedule missed the convergence criterion in its study (a test reads them off the
# records): the same models from the same initial weights, LONG_FACTOR times the steps
# under the same four schedules, the schedule chosen again at the longer length (protocol
# page, the later entry of 2026-12-07, committed before these runs). Each row is then
# kept at the length whose chosen schedule scores best on the selection points.
LATENT_LONG_SIGMAS: dict[int, tuple[float, ...]] = {2: (0.043,), 4: (0.043, 0.03, 0.01)}
LATENT_LONG_LEARNED: dict[int, tuple[str, ...]] = {2: LEARNED, 4: LEARNED}


def learned_longer(config: LRStudyConfig, kinds: tuple[str, ...]) -> LRStudyConfig:
    """The learned study of ``config`` for ``kinds`` alone (of LEARNED, in its order, from
    their table rows' weights), LONG_FACTOR times the steps."""
    first = LEARNED.index(kinds[0])
    if LEARNED[first : first + len(kinds)] != kinds:
        raise ValueError(f"{kinds} are not in the order of {LEARNED}")
    rows = learned_rows(config)
    return dataclasses.replace(
        rows,
        learned=kinds,
        steps=LONG_FACTOR * config.steps,
        init_index=rows.init_index + first,
    )


def _latent_longer(latent_dim: int) -> list[Experiment]:
    runs = []  # (name, description, configure) of each extension, fixed rows first
    if sigmas := LATENT_LONG_SIGMAS.get(latent_dim):
        runs.append((
            f"table1-lr-long-latent{latent_dim}",
            f"table1-lr-latent{latent_dim} at {LONG_FACTOR}x the steps for F at sigma "
            f"{', '.join(map(str, sigmas))} only (its chosen schedule had not converged)",
            lambda config: longer_rows(at_latent(config, latent_dim), sigmas),
        ))  # fmt: skip
    if kinds := LATENT_LONG_LEARNED.get(latent_dim):
        runs.append((
            f"table1-lr-learned-long-latent{latent_dim}",
            f"table1-lr-learned-latent{latent_dim} at {LONG_FACTOR}x the steps "
            "(its chosen schedules had not converged)",
            lambda config: learned_longer(at_latent(config, latent_dim), kinds),
        ))  # fmt: skip
    return [EXPERIMENT.variant(*run) for run in runs]


# {latent dimension: its extensions, fixed rows first}, registered once its studies were
# read; further steps registered after these were read are appended below.
LATENT_LONGER: dict[int, list[Experiment]] = {d: _latent_longer(d) for d in LATENT_STUDIES}


# The protocol's further steps for fixed-sigma rows still unconverged as kept after the
# doubled length (protocol page, the entries of 2026-12-07 on F(0.01) at latent 4, each
# committed before its run). F(0.01) at latent 4 still rose at twice the study's steps
# under every schedule but 3e-3, by about the same gain each time the steps doubled, so
# the change over the last fifth of any longer constant-rate run stays about as large.
# First it is trained 4x the study's steps under the schedule it kept (the warm-up) and
# the two rates decaying to 0 with which latent 1's study ended (DECAY_RATES). It chose
# the decay from 1e-3 there and was still rising, every seed, over the last fifth; so
# next it is trained 8x the study's steps under that decay alone (the length at which
# latent 1's decay from 3e-4 met the criterion). Each step trains the row from its table
# row's initial weights, and the row is kept at whichever length its chosen schedule
# scores best on the selection points. The learned rows still unconverged as kept
# (LV-VAE at latent 2, LS-VAE at latent 1) are not in the "done when" and get no
# further step here.
@dataclass(frozen=True)
class FurtherStep:
    """Fixed-sigma rows ``sigmas`` at ``latent_dim`` trained ``factor`` times the study's
    steps under the rates decaying to 0 from ``decay_rates`` and, with ``warm_up``, the
    study's warm-up; no constant rate."""

    name: str
    latent_dim: int
    sigmas: tuple[float, ...]
    factor: int
    decay_rates: tuple[float, ...]
    warm_up: bool
    reason: str  # why the step was registered, for its summary


FURTHER_STEPS: tuple[FurtherStep, ...] = (
    FurtherStep(
        "table1-lr-further-latent4", 4, (0.01,), 4, DECAY_RATES, True,
        f"still unconverged at {LONG_FACTOR}x",
    ),
    FurtherStep(
        "table1-lr-furthest-latent4", 4, (0.01,), 8, (1e-3,), False,
        "still rising at 4x under the decay from 0.001, which it chose",
    ),
)  # fmt: skip


def _trained_as(rows: LRStudyConfig, config: LRStudyConfig, step: FurtherStep) -> LRStudyConfig:
    """``rows`` (some rows of the study ``config``) under ``step``'s schedules and length."""
    return dataclasses.replace(
        rows,
        rates=(),
        decay_rates=step.decay_rates,
        warmup_steps=config.warmup_steps if step.warm_up else 0,
        steps=step.factor * config.steps,
    )


def further_rows(config: LRStudyConfig, step: FurtherStep) -> LRStudyConfig:
    """The study ``config`` for ``step``'s rows (adjacent in its grid, from their table
    rows' weights), trained as ``step`` says."""
    return _trained_as(longer_rows(config, step.sigmas), config, step)


def _further(step: FurtherStep) -> Experiment:
    schedules_named = [f"the rates decaying to 0 from {' and '.join(map(str, step.decay_rates))}"]
    schedules_named = ["the warm-up"] * step.warm_up + schedules_named
    return EXPERIMENT.variant(
        step.name,
        f"table1-lr-latent{step.latent_dim} at {step.factor}x the steps for F at sigma "
        f"{', '.join(map(str, step.sigmas))} only, under {' and '.join(schedules_named)} "
        f"({step.reason})",
        lambda config: further_rows(at_latent(config, step.latent_dim), step),
    )


# {step: its experiment}; each is also appended, in order, to its latent's extensions.
FURTHER: dict[FurtherStep, Experiment] = {step: _further(step) for step in FURTHER_STEPS}
for step, further in FURTHER.items():
    LATENT_LONGER[step.latent_dim].append(further)


# At 8x under the decay from 1e-3, F(0.01) at latent 4 scored above LS-VAE as kept
# (120,000 steps under 3e-4), which turned T2 and T5 there, with the two rows trained
# unlike. As at latent 1 (LEARNED_DECAY_LONGEST), the protocol's next entry trains LS-VAE
# and LV-VAE at latent 4 under that step's schedule and length, from their table rows'
# initial weights, so that they too are kept at whichever length scores best.
ALIKE_STEP = FURTHER_STEPS[-1]


def learned_alike(config: LRStudyConfig, step: FurtherStep) -> LRStudyConfig:
    """The learned study of ``config`` (LS-VAE and LV-VAE, from their table rows'
    weights) under ``step``'s schedules, for its length."""
    return _trained_as(learned_rows(config), config, step)


LEARNED_ALIKE = EXPERIMENT.variant(
    f"table1-lr-learned-furthest-latent{ALIKE_STEP.latent_dim}",
    f"table1-lr-learned-latent{ALIKE_STEP.latent_dim} under the rate decaying to 0 from "
    f"{' and '.join(map(str, ALIKE_STEP.decay_rates))} at {ALIKE_STEP.factor}x the steps "
    f"(the schedule and length of {ALIKE_STEP.name})",
    lambda config: learned_alike(at_latent(config, ALIKE_STEP.latent_dim), ALIKE_STEP),
)
LATENT_LONGER[ALIKE_STEP.latent_dim].append(LEARNED_ALIKE)


def further_text(profile: str = "book") -> str:
    """The further steps in words, from their ``profile`` presets: "F(0.01) at latent 4
    (table1-lr-further-latent4): 240,000 steps under 0.001 decay, ...": "none"."""
    parts = []
    for step, exp in FURTHER.items():
        config = exp.profiles[profile]
        rows = ", ".join(f"F({s:g})" for s in config.fixed_sigmas)
        under = ", ".join(name for name, *_ in schedules(config))
        parts.append(
            f"{rows} at latent {step.latent_dim} ({exp.name}): {config.steps:,} steps under {under}"
        )
    return "; ".join(parts) or "none"


def made_latent_extensions() -> dict[int, list[str]]:
    """{latent dimension: the names of its extensions whose record is made}; a latent
    with none made is left out."""
    made = {d: [e.name for e in runs if e.name not in PENDING] for d, runs in LATENT_LONGER.items()}
    return {d: names for d, names in made.items() if names}


def pending_latent_studies() -> list[str]:
    """The latent-2 and latent-4 studies and extensions registered and not yet made: the
    studies of every latent first (fixed rows, then learned, latent 2 before 4), then the
    extensions, the order in which they are made."""
    runs = [e for pair in LATENT_STUDIES.values() for e in pair]
    runs += [e for extensions in LATENT_LONGER.values() for e in extensions]
    return [e.name for e in runs if e.name in PENDING]
