"""What an experiment is: a name, a configuration class, its presets, and its computation.

Torch-free, like every declaration module of this package: the command line checks its
arguments (and answers ``--help``, ``list`` and mistakes) from these alone. The torch code
that trains is imported by an experiment's ``run`` when it is called.

Profiles: ``smoke`` (seconds; proves the training path end to end in CI), ``book`` (what
the committed records were made with; minutes to an hour on a laptop CPU) and ``paper``
(the paper's networks and scale; meant for a GPU).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

PROFILES = ("smoke", "book", "paper")
DEVICES = ("auto", "cpu", "cuda")  # lvae.devices.resolve_device maps them to torch
# How training does its arithmetic (lvae.train.training_precision): a run option, like
# the device, not part of any configuration.
PRECISIONS = ("fp32", "tf32", "bf16")

# The options of ``python -m lvae run`` (argparse names) that every experiment takes; the
# others (``iw_k``, ``data_dir``) are named by the experiments that take them.
COMMON_OPTIONS = ("seeds", "steps")


def check_profile(profile: str) -> str:
    if profile not in PROFILES:
        raise ValueError(f"profile must be one of {PROFILES}, got {profile!r}")
    return profile


@dataclass(frozen=True)
class Experiment:
    """An experiment, declared once: everything else (the registry, the CLI, sweeps, the
    notebooks' ``lvae.experiments.record``) reads this.

    ``config``: the configuration class (a ``TrainingConfig``); ``profiles``: its preset
    for each of ``PROFILES``; ``run(config, device, checkpoint_dir) -> dict`` computes the
    result (and imports torch); ``preflight(config)``, when given, checks before training
    what the run needs (its data files) and raises with a clear message; ``options``: the
    CLI run options it takes; ``records``: for a variant, the experiment whose records
    (folder, lock, cost model) it shares.
    """

    name: str
    summary: str
    config: type
    profiles: Mapping[str, object]
    run: Callable[[object, object, Path], dict]
    preflight: Callable[[object], None] | None = None
    options: tuple[str, ...] = COMMON_OPTIONS
    records: str | None = None

    def __post_init__(self):
        if tuple(self.profiles) != PROFILES:
            raise ValueError(
                f"{self.name}: profiles must be {PROFILES}, got {tuple(self.profiles)}"
            )
        for profile, preset in self.profiles.items():
            if type(preset) is not self.config:
                raise TypeError(
                    f"{self.name}: the {profile} preset is not a {self.config.__name__}"
                )
        object.__setattr__(self, "profiles", MappingProxyType(dict(self.profiles)))

    @property
    def record_name(self) -> str:
        """The name its records are filed under (``results/<record_name>/<hash>.json``)."""
        return self.records or self.name

    def make_config(self, profile: str = "book", **overrides):
        """The preset of ``profile`` with the fields named in ``overrides`` replaced; bad
        values raise ValueError (the configuration's own checks) before anything runs."""
        preset = self.profiles[check_profile(profile)]
        unknown = set(overrides) - {f.name for f in dataclasses.fields(preset)}
        if unknown:
            raise ValueError(f"unknown {self.name} option(s): {sorted(unknown)}")
        return dataclasses.replace(preset, **overrides)

    def variant(
        self,
        name: str,
        summary: str,
        change: Callable[[object], object],
        overrides: Mapping[str, Mapping[str, object]] | None = None,
    ) -> Experiment:
        """A named variant: the same computation on the presets ``change(preset)``, with
        the fields in ``overrides[profile]`` then replaced in that profile's preset only;
        its records are filed with this experiment's (a variant is a configuration, not
        new code)."""
        overrides = dict(overrides or {})
        unknown = set(overrides) - set(PROFILES)
        if unknown:
            raise ValueError(f"{name}: overrides for unknown profiles {sorted(unknown)}")

        def preset_of(profile, preset):
            return dataclasses.replace(change(preset), **overrides.get(profile, {}))

        return dataclasses.replace(
            self,
            name=name,
            summary=summary,
            profiles={p: preset_of(p, preset) for p, preset in self.profiles.items()},
            records=self.record_name,
        )
