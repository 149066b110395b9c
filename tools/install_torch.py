"""Install the PyTorch build that suits this machine, then lvae with pinned versions.

    python tools/install_torch.py            # what `make` runs inside .venv
    python tools/install_torch.py --dry-run  # print the pip commands, install nothing
    python tools/install_torch.py --lvae-only --extras ray  # add an extra, torch untouched

The torch version comes from ``constraints.txt`` (one place for every pin that the
golden notebook outputs depend on). Which build:

* an NVIDIA GPU (``nvidia-smi -L`` lists one): PyPI's ``torch==V``, which on Linux is
  the CUDA build (2.13.0 depends on CUDA 13.0 packages, a driver of the 580 series or
  newer);
* no NVIDIA GPU on Linux: the CPU build ``torch==V+cpu``. A copy already reachable
  without an index (pip's ``find-links``, as on machines that keep wheels on disk) is
  used as it is; otherwise it comes from PyTorch's CPU index. Either way no CUDA
  package (several GB) is downloaded;
* macOS and Windows: PyPI's ``torch==V``, which is a CPU (and, on Apple, MPS) build.

``TORCH`` (a requirement such as ``torch==2.13.0``) and ``TORCH_INDEX_URL`` in the
environment override the choice, for a specific CUDA version for instance.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CONSTRAINTS = ROOT / "constraints.txt"
CPU_INDEX = "https://download.pytorch.org/whl/cpu"
PIP = [sys.executable, "-m", "pip", "install", "--quiet"]


def pinned_torch(constraints: Path = CONSTRAINTS) -> str:
    """The torch version pinned in ``constraints.txt`` (a line ``torch==V``)."""
    for line in constraints.read_text().splitlines():
        name, _, version = line.split("#")[0].strip().partition("==")
        if name.strip().lower() == "torch" and version.strip():
            return version.strip()
    raise SystemExit(f"{constraints}: no 'torch==VERSION' line")


def has_nvidia_gpu() -> bool:
    smi = shutil.which("nvidia-smi")
    if smi is None:
        return False
    try:
        out = subprocess.run([smi, "-L"], capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return out.returncode == 0 and "GPU" in out.stdout


def available_without_index(requirement: str) -> bool:
    """Whether pip finds ``requirement`` in its find-links alone (no network)."""
    probe = [*PIP, "--dry-run", "--no-index", "--no-deps", requirement]
    return subprocess.run(probe, capture_output=True).returncode == 0


def torch_command(version: str) -> tuple[list[str], str]:
    """The pip command that installs torch here, and why it was chosen."""
    if os.environ.get("TORCH") or os.environ.get("TORCH_INDEX_URL"):
        requirement = os.environ.get("TORCH") or f"torch=={version}"
        index = os.environ.get("TORCH_INDEX_URL")
        return [*PIP, *(["--index-url", index] if index else []), requirement], "as asked"
    if has_nvidia_gpu():
        return [*PIP, f"torch=={version}"], "an NVIDIA GPU is present: PyPI's CUDA build"
    if platform.system() != "Linux":
        return [*PIP, f"torch=={version}"], f"{platform.system()}: PyPI's build is CPU-only"
    cpu = f"torch=={version}+cpu"
    if available_without_index(cpu):
        return [*PIP, cpu], "no NVIDIA GPU: the CPU build, found locally"
    return [*PIP, "--extra-index-url", CPU_INDEX, cpu], "no NVIDIA GPU: the CPU build"


def lvae_command(extras: str) -> list[str]:
    """Install lvae (editable) with every other pin of constraints.txt applied.

    The torch line is left out: torch is installed already, and its local version label
    (``+cpu``) or a user's own build must not be replaced.
    """
    kept = [ln for ln in CONSTRAINTS.read_text().splitlines() if not ln.startswith("torch")]
    handle = tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False)
    handle.write("\n".join(kept) + "\n")
    handle.close()
    return [*PIP, "-c", handle.name, "-e", f"{ROOT}[{extras}]"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--extras", default="dev", help="lvae's extras to install (default dev)")
    parser.add_argument("--dry-run", action="store_true", help="print the commands only")
    parser.add_argument(
        "--lvae-only", action="store_true", help="leave torch as installed; add lvae's extras"
    )
    args = parser.parse_args(argv)
    commands = [lvae_command(args.extras)]
    if not args.lvae_only:
        torch_cmd, why = torch_command(pinned_torch())
        commands.insert(0, torch_cmd)
        print(f">> torch: {why}", flush=True)
    for cmd in commands:
        print(">>", " ".join(cmd[1:]), flush=True)
        if not args.dry_run:
            subprocess.run(cmd, check=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
