"""The installer's choice of PyTorch build, the version pins, and provenance versions."""

import importlib.metadata
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import install_torch  # noqa: E402  (tools/install_torch.py)

from lvae import store  # noqa: E402


def pins() -> dict[str, str]:
    lines = (ROOT / "constraints.txt").read_text().splitlines()
    pairs = [ln.split("#")[0].strip().split("==") for ln in lines if "==" in ln]
    return {name.strip(): version.strip() for name, version in pairs}


def test_pinned_torch_is_read_from_the_constraints_file(tmp_path):
    assert install_torch.pinned_torch() == pins()["torch"]
    other = tmp_path / "c.txt"
    other.write_text("# comment\nnumpy==1.0\ntorch == 9.9.9  # note\n")
    assert install_torch.pinned_torch(other) == "9.9.9"
    other.write_text("numpy==1.0\n")
    with pytest.raises(SystemExit, match="no 'torch==VERSION' line"):
        install_torch.pinned_torch(other)


@pytest.fixture
def machine(monkeypatch):
    """A stand-in machine: no override, Linux, no GPU, no local wheel, until a test says."""
    monkeypatch.delenv("TORCH", raising=False)
    monkeypatch.delenv("TORCH_INDEX_URL", raising=False)
    state = {"gpu": False, "system": "Linux", "local": False}
    monkeypatch.setattr(install_torch, "has_nvidia_gpu", lambda: state["gpu"])
    monkeypatch.setattr(install_torch.platform, "system", lambda: state["system"])
    monkeypatch.setattr(install_torch, "available_without_index", lambda req: state["local"])
    return state


def test_a_linux_machine_without_gpu_gets_the_cpu_build(machine):
    cmd, why = install_torch.torch_command("2.13.0")
    assert cmd[-1] == "torch==2.13.0+cpu" and install_torch.CPU_INDEX in cmd
    assert "CPU" in why
    machine["local"] = True  # a wheel on disk: no index beyond pip's own configuration
    cmd, _ = install_torch.torch_command("2.13.0")
    assert cmd[-1] == "torch==2.13.0+cpu" and install_torch.CPU_INDEX not in cmd


def test_a_gpu_machine_gets_pypi_cuda_build_and_other_systems_pypi(machine):
    machine["gpu"] = True
    cmd, why = install_torch.torch_command("2.13.0")
    assert cmd[-1] == "torch==2.13.0" and "--extra-index-url" not in cmd and "CUDA" in why
    machine["gpu"], machine["system"] = False, "Darwin"
    cmd, _ = install_torch.torch_command("2.13.0")
    assert cmd[-1] == "torch==2.13.0" and "--extra-index-url" not in cmd


def test_torch_and_index_url_override_the_choice(machine, monkeypatch):
    monkeypatch.setenv("TORCH", "torch==2.13.0")
    monkeypatch.setenv("TORCH_INDEX_URL", "https://example.invalid/cu130")
    cmd, why = install_torch.torch_command("2.13.0")
    assert cmd[-3:] == ["--index-url", "https://example.invalid/cu130", "torch==2.13.0"]
    assert why == "as asked"


def test_lvae_is_installed_with_every_pin_but_torch():
    cmd = install_torch.lvae_command("dev")
    applied = Path(cmd[cmd.index("-c") + 1]).read_text()
    assert not [ln for ln in applied.splitlines() if ln.startswith("torch")]
    for name, version in pins().items():
        if name != "torch":
            assert f"{name}=={version}" in applied


OPTIONAL = {"ray"}  # pinned, but installed only for the slow tests (Makefile, RAY_STAMP)


def test_lvae_only_adds_an_extra_and_leaves_torch_alone(capsys):
    assert install_torch.main(["--lvae-only", "--extras", "ray", "--dry-run"]) == 0
    printed = capsys.readouterr().out.splitlines()
    assert len(printed) == 1 and printed[0].endswith(f"{ROOT}[ray]")
    assert "torch" not in printed[0].split("-c")[0]


def test_this_environment_has_the_pinned_versions():
    """The golden notebook outputs were made with these versions; say so if they differ."""
    for name, version in pins().items():
        try:
            installed = importlib.metadata.version(name).split("+")[0]
        except importlib.metadata.PackageNotFoundError:
            if name in OPTIONAL:
                continue
            raise

        assert installed == version, (
            f"{name} {installed} is installed but constraints.txt pins {version}: "
            "golden outputs may differ (remove .venv and run make test again)"
        )


def test_provenance_names_the_numerical_libraries():
    prov = store.provenance(profile="smoke", seeds=[0], steps=1, device="cpu", wall_time_s=0.0)
    assert prov["scipy"] == importlib.metadata.version("scipy")
    assert prov["scikit_learn"] == importlib.metadata.version("scikit-learn")
    assert store.package_version("no-such-package-lvae") == "absent"
