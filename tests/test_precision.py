"""Training precision: the choice per device, the refusal of bad values, the flags put back
after a run, bfloat16 autocast on the CPU, and the precision stated in provenance."""

import dataclasses
import json
from pathlib import Path

import pytest
import torch

from lvae import __main__ as cli
from lvae import experiments, store, sweep
from lvae.data import sample_sphere
from lvae.nets import StackedLinear, mlp_networks
from lvae.spec import ModelSpec
from lvae.train import resolve_precision, train_stacked, training_precision
from lvae.vae import StackedVAE

ROOT = Path(__file__).resolve().parents[1]
CPU, CUDA = torch.device("cpu"), torch.device("cuda")  # only the type is read: no GPU needed
MATMUL = torch.backends.cuda.matmul  # torch >= 2.9: fp32_precision is "tf32" or "ieee"
CONV = torch.backends.cudnn.conv


# ------------------------------------------------------------------------------ the choice
def test_the_default_is_tf32_on_cuda_and_fp32_on_the_cpu():
    assert resolve_precision(None, CUDA) == "tf32"
    assert resolve_precision(None, CPU) == "fp32"
    assert resolve_precision("fp32", CUDA) == "fp32"
    assert resolve_precision("bf16", CPU) == "bf16"
    assert resolve_precision("tf32", CPU) == "fp32"  # the CPU has no TF32


def test_a_bad_precision_is_refused_naming_the_value_and_the_choices():
    allowed = r"\('fp32', 'tf32', 'bf16'\)"
    with pytest.raises(ValueError, match=rf"precision must be one of {allowed}, got 'fp16'"):
        resolve_precision("fp16", CPU)
    with pytest.raises(ValueError, match=rf"precision must be one of {allowed}.*got 'half'"):
        experiments.check_precision("half")


def test_bf16_is_refused_on_a_gpu_without_bfloat16(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: False)
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda *a, **k: "Tesla V100")
    with pytest.raises(ValueError, match="'bf16'.*Tesla V100 has no bfloat16; use tf32 or fp32"):
        resolve_precision("bf16", CUDA)


def test_the_command_line_refuses_a_bad_precision_before_anything(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_:
        cli.main(["run", "table1", "--precision", "fp16", "--results-dir", str(tmp_path)])
    assert exit_.value.code == 2
    assert "--precision: invalid choice: 'fp16'" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


# ------------------------------------------------------------------------------ the flags
def test_flags_are_set_inside_the_block_and_put_back_after_it_error_or_not():
    before = MATMUL.fp32_precision, CONV.fp32_precision
    try:
        MATMUL.fp32_precision = CONV.fp32_precision = "tf32"  # a state to come back to
        with training_precision("fp32", CPU):
            assert (MATMUL.fp32_precision, CONV.fp32_precision) == ("ieee", "ieee")
            assert torch.get_float32_matmul_precision() == "highest"
        assert (MATMUL.fp32_precision, CONV.fp32_precision) == ("tf32", "tf32")
        MATMUL.fp32_precision = CONV.fp32_precision = "ieee"
        with pytest.raises(RuntimeError, match="stop"), training_precision("tf32", CUDA):
            assert (MATMUL.fp32_precision, CONV.fp32_precision) == ("tf32", "tf32")
            raise RuntimeError("stop")
        assert (MATMUL.fp32_precision, CONV.fp32_precision) == ("ieee", "ieee")
        with training_precision("bf16", CPU):
            assert MATMUL.fp32_precision == "ieee"  # bf16's float32 parts are exact
        with pytest.raises(ValueError, match="precision must be one of"):
            with training_precision("tf16", CPU):
                pass
        assert (MATMUL.fp32_precision, CONV.fp32_precision) == ("ieee", "ieee")
    finally:
        MATMUL.fp32_precision, CONV.fp32_precision = before
    _ = torch.backends.cudnn.allow_tf32  # legacy reads still work (no mixed-API state left)


# --------------------------------------------------------------------- training in bf16
def _train(precision: str | None, steps: int = 150):
    """Two models (learned scalar and per-dimension sigma) on a circle; their history and
    the dtypes seen by the first encoder layer and by the loss."""
    specs = [
        ModelSpec("scalar", "scalar", 1.0, seed=0, init_seed=0),
        ModelSpec("vector", "vector", 1.0, seed=1, init_seed=1),
    ]
    vae = StackedVAE(specs, mlp_networks(2, 16, 1), latent_dim=2)
    first = next(m for m in vae.encoder.modules() if isinstance(m, StackedLinear))
    seen = {"layer": set(), "encoder": set()}
    first.register_forward_hook(lambda m, a, out: seen["layer"].add(out.dtype))
    gen = torch.Generator().manual_seed(0)

    def batch():
        return sample_sphere((2, 64), 2, 3.0, gen)

    options = {"steps": steps, "lr": 1e-2, "log_every": 50, "generator": gen}
    if precision is None:
        return train_stacked(vae, batch, **options), seen, vae
    with training_precision(precision, CPU):
        history = train_stacked(vae, batch, **options)
    return history, seen, vae


def test_a_bf16_run_on_the_cpu_computes_in_bfloat16_and_trains_like_fp32():
    fp32, seen32, _ = _train("fp32")
    bf16, seen16, vae16 = _train("bf16")
    assert seen32["layer"] == {torch.float32} and seen16["layer"] == {torch.bfloat16}
    # Parameters (and so Adam's state) stay float32; the hooks are gone after the run.
    assert all(p.dtype == torch.float32 for p in vae16.parameters())
    assert not vae16.encoder._forward_hooks and not vae16.decoder._forward_hooks
    # Both runs learn: sigma, started at 1, grows towards the data's scale (radius 3) ...
    for history in (fp32, bf16):
        assert min(history["sigma"][-1]) > 1.5
    # ... along the same path: at every logged step each term is within bfloat16's
    # precision (8 bits of mantissa, ~0.4%) of float32's, and somewhere it differs.
    for term in ("elbo", "kl", "sigma"):
        for a, b in zip(fp32[term], bf16[term], strict=True):
            assert b == pytest.approx(a, rel=0.01, abs=0.01), term
    assert fp32["sigma"] != bf16["sigma"]  # it did compute in bfloat16
    # Outside any precision block, training is float32 exactly as before.
    plain, seen, _ = _train(None)
    assert seen["layer"] == {torch.float32} and plain == fp32


# ------------------------------------------------------------------------------ provenance
@dataclasses.dataclass(frozen=True)
class TinyConfig(experiments.TrainingConfig):
    seeds: tuple[int, ...] = (0,)
    steps: int = 1


def _observing_experiment(monkeypatch):
    """Experiment ``observe``: its result is the matmul TF32 flag during the run."""

    def run(config, device, checkpoints):
        return {"matmul": MATMUL.fp32_precision}

    exp = experiments.Experiment(
        "observe", "a test double", TinyConfig, dict.fromkeys(experiments.PROFILES, TinyConfig()),
        run, None,
    )  # fmt: skip
    monkeypatch.setitem(experiments.EXPERIMENTS, "observe", exp)


def test_the_record_states_the_precision_it_was_trained_in(tmp_path, monkeypatch, capsys):
    _observing_experiment(monkeypatch)
    options = {"device": "cpu", "allow_training": True}
    default = experiments.record("observe", "smoke", results_dir=tmp_path / "a", **options)
    assert default.provenance["precision"] == "fp32" and default.result == {"matmul": "ieee"}
    assert "on cpu in fp32; record" in capsys.readouterr().err
    asked = experiments.record(
        "observe", "smoke", results_dir=tmp_path / "b", precision="tf32", **options
    )
    assert asked.provenance["precision"] == "fp32"  # what ran, not what was asked
    assert "in fp32 (tf32 is CUDA-only)" in capsys.readouterr().err
    bf16 = experiments.record(
        "observe", "smoke", results_dir=tmp_path / "c", precision="bf16", **options
    )
    assert bf16.provenance["precision"] == "bf16"
    # Precision is not part of the configuration: the same record is loaded in any.
    again = experiments.record(
        "observe", "smoke", results_dir=tmp_path / "c", precision="fp32", **options
    )
    assert again.provenance == bf16.provenance
    assert bf16.path.name == default.path.name  # one configuration hash
    # A bad value is refused before anything is trained or written.
    with pytest.raises(ValueError, match="precision must be one of"):
        experiments.record("observe", "smoke", results_dir=tmp_path / "d", precision="x", **options)
    assert not (tmp_path / "d").exists()


def test_records_made_before_precision_was_stated_still_load_and_describe():
    path = ROOT / "results" / "table1" / "7216f54e778a0d20.json"
    data = json.loads(path.read_text())
    assert "precision" not in data["provenance"]
    loaded = store.load_record(path, "table1", data["config"])
    assert "fp32" not in cli.describe_run(loaded, path, loaded=True)
    stated = {**loaded, "provenance": {**loaded["provenance"], "precision": "tf32"}}
    assert cli.describe_run(stated, path, loaded=True).endswith("60000 steps, tf32)")


# ------------------------------------------------- bench, fit and sweep take it as run does
def test_bench_runs_both_engines_in_the_precision_asked_and_says_which():
    from lvae.bench import run_bench

    fast = {"device": "cpu", "models": 2, "steps": 1, "warmup": 0}
    flags = MATMUL.fp32_precision
    assert run_bench(**fast).precision == "fp32"
    assert run_bench(**fast, precision="tf32").precision == "fp32"  # the CPU has no TF32
    assert run_bench(**fast, precision="bf16").precision == "bf16"
    assert MATMUL.fp32_precision == flags  # put back as they were after the timing
    with pytest.raises(ValueError, match="precision must be one of"):
        run_bench(**fast, precision="fp16")


def test_fit_trains_in_the_precision_asked_and_saves_it(tmp_path):
    from lvae import api

    x = torch.randn(64, 2)
    options = {"steps": 3, "latent_dim": 1, "hidden": 8, "device": "cpu"}
    plain = api.fit(x, **options)
    assert plain.precision == "fp32"
    half = api.fit(x, precision="bf16", **options)
    assert half.precision == "bf16"
    assert half.history["elbo"] != plain.history["elbo"]  # it computed in bfloat16
    assert api.load(half.save(tmp_path / "m")).precision == "bf16"
    with pytest.raises(ValueError, match="precision must be one of"):
        api.fit(x, precision="fp16", **options)


def test_a_sweep_refuses_a_bad_precision_before_submitting_and_its_jobs_carry_it(tmp_path):
    points = sweep.expand_grid("table1", "smoke", [], tmp_path)
    with pytest.raises(ValueError, match="precision must be one of"):
        sweep.submit(points, "local", sweep.Resources(), tmp_path, precision="fp16")
    threads = torch.get_num_threads()
    try:
        outcome = sweep.SweepJob("table1", "smoke", {}, str(tmp_path), "cpu", 1, "bf16")()
    finally:
        torch.set_num_threads(threads)
    assert outcome["outcome"] == "trained"
    assert json.loads(Path(outcome["record"]).read_text())["provenance"]["precision"] == "bf16"
