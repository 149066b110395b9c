"""Load-only by default: a missing record is an error naming the command that makes it.

A book build (``make book``, nbval) must load the committed records, never start an hour
of training inside a notebook because a configuration changed. So training happens only
where it is asked for: ``allow_training=True`` (the CLI's ``run`` and ``sweep``, the tests
that train) or the environment variable ``LVAE_ALLOW_TRAINING=1`` (``make book TRAIN=1``,
the papermill smoke runs). Torch-free.
"""

from __future__ import annotations

import os
import shlex

ALLOW_TRAINING = "LVAE_ALLOW_TRAINING"

# CLI run options (argparse names) that give a configuration override, and how: the
# value of ``--seeds N`` is seeds 0..N-1.
_CLI_OVERRIDES = ("seeds", "steps", "iw_k")


class MissingRecord(FileNotFoundError):
    """No stored record for a configuration, and training was not allowed here."""


def training_allowed(allow_training: bool | None = None) -> bool:
    """``allow_training`` when given, else whether ``$LVAE_ALLOW_TRAINING`` is set to a
    true value (1, true, yes)."""
    if allow_training is not None:
        return bool(allow_training)
    return os.environ.get(ALLOW_TRAINING, "").strip().lower() in ("1", "true", "yes")


def how_to_make(
    name: str, profile: str, overrides: dict, options: tuple[str, ...], results_dir=None
) -> str:
    """The command that makes the record of ``name`` at ``profile`` with ``overrides``:
    ``python -m lvae run ...`` when the CLI's options (those in ``options``) express every
    override, else the Python call."""
    flags = []
    for key, value in overrides.items():
        if key not in _CLI_OVERRIDES or key not in options:
            break
        if key == "seeds":
            if tuple(value) != tuple(range(len(value))):
                break
            value = len(value)
        flags += [f"--{key.replace('_', '-')}", str(value)]
    else:
        if results_dir is not None:
            flags += ["--results-dir", str(results_dir)]
        return shlex.join(["python", "-m", "lvae", "run", name, "--profile", profile, *flags])
    arguments = [repr(name), repr(profile)]
    if results_dir is not None:
        arguments.append(f"results_dir={str(results_dir)!r}")
    arguments += [f"{key}={value!r}" for key, value in overrides.items()]
    call = f"record({', '.join(arguments)}, allow_training=True)"
    return shlex.join(["python", "-c", f"from lvae.experiments import record; {call}"])


def missing_message(name: str, profile: str, path, command: str, invalid: str = "") -> str:
    why = f"the stored one is damaged ({invalid})" if invalid else "none is stored"
    if invalid:  # restoring it is the first thing to try; retraining replaces it
        command += " --recompute" if command.startswith("python -m lvae run") else ""
    return (
        f"no record of {name} ({profile} profile) at {path}: {why}, and training is off "
        f"here (books and notebook tests only load records). Make it with\n  {command}\n"
        f"or allow training: {ALLOW_TRAINING}=1 (make book TRAIN=1), or "
        f"record(..., allow_training=True)"
    )
