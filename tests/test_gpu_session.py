"""tools/gpu_session.sh, the one command for a lent GPU: its syntax, and what it would run
(its --dry-run prints each command and runs none, so this needs no GPU)."""

import shlex
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "tools" / "gpu_session.sh"


def session(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["bash", str(SCRIPT), *args], capture_output=True, text=True, cwd="/", timeout=60
    )


def commands(out: str) -> list[list[str]]:
    """The commands a dry run printed (lines '+ cmd args'), split as the shell would."""
    return [shlex.split(line[2:]) for line in out.splitlines() if line.startswith("+ ")]


def test_the_script_parses_and_is_strict():
    subprocess.run(["bash", "-n", str(SCRIPT)], check=True)
    assert "set -euo pipefail" in SCRIPT.read_text()


def test_a_dry_run_prints_the_whole_session_in_order_and_runs_nothing():
    done = session("--dry-run")
    # Exit 0 on a machine without nvidia-smi: it printed `nvidia-smi -L` but did not run it.
    assert done.returncode == 0, done.stderr
    cmds = commands(done.stdout)
    assert cmds[0] == ["make", ".venv/.installed"] and cmds[1] == ["nvidia-smi", "-L"]
    limited = [c for c in cmds if c[0] == "timeout"]
    # Each bench and each run under a limit that ends it with SIGINT (a checkpoint), then
    # a kill if it has not stopped.
    for c in limited:
        assert c[:6] == ["timeout", "--foreground", "-s", "INT", "-k", "120"]
    lvae = [c[c.index("-m") + 2 :] for c in limited]
    assert lvae == [
        ["bench", "--device", "cuda", "--profile", "paper", "--save"],
        ["bench", "--device", "cuda", "--images"],
        *(
            ["run", name, "--profile", "paper", "--device", "cuda", "--yes"]
            for name in (
                "table1-calibrated",
                "table1-calibrated-latent2",
                "table1-calibrated-latent4",
            )
        ),
    ]
    assert [int(c[6]) for c in limited] == [600, 600, 1200, 1200, 1200]  # seconds
    assert cmds[-1][:2] == ["git", "status"] and cmds[-1][-1] == "results/"
    assert "(dry run) table1-calibrated, paper profile" in done.stdout


def test_arguments_choose_the_experiments_the_limit_and_the_precision():
    done = session("--dry-run", "--no-bench", "--minutes", "7", "--precision", "bf16", "table1")
    assert done.returncode == 0, done.stderr
    limited = [c for c in commands(done.stdout) if c[0] == "timeout"]
    assert len(limited) == 1 and limited[0][6] == "420"
    assert limited[0][limited[0].index("run") :] == [
        "run", "table1", "--profile", "paper", "--device", "cuda", "--yes", "--precision", "bf16",
    ]  # fmt: skip
    benches = session("--dry-run", "--precision", "bf16", "table1")
    lvae = [c[c.index("-m") + 2 :] for c in commands(benches.stdout) if c[0] == "timeout"]
    assert [c[0] for c in lvae] == ["bench", "bench", "run"]
    assert all(c[-2:] == ["--precision", "bf16"] for c in lvae)  # the benches run in it too


@pytest.mark.parametrize(
    "args, message",
    [
        (("--precision", "fp16"), "--precision must be one of fp32, tf32, bf16, got 'fp16'"),
        (("--minutes", "0"), "must be whole numbers >= 1, got '0'"),
        (("--minutes",), "--minutes needs a value"),
        (("--fast",), "unknown option --fast"),
    ],
)
def test_bad_arguments_are_refused_before_anything_runs(args, message):
    done = session("--dry-run", *args)
    assert done.returncode == 2 and message in done.stderr
    assert "+ make" not in done.stdout
