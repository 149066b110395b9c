"""Training through torch.compile (lvae.train.compiled_training): the fallback when the
compiler fails, the provenance that says which way a record was trained, the bench option,
and (slow) a real compiled run that trains like an uncompiled one."""

import pytest
import torch

from lvae import __main__ as cli
from lvae import experiments
from lvae.bench import run_bench
from lvae.data import sample_toy2d
from lvae.nets import mlp_networks
from lvae.spec import ModelSpec
from lvae.train import compiled_training, train_stacked
from lvae.vae import StackedVAE


def _train(steps: int = 20):
    specs = [ModelSpec("F", "fixed", 0.1, seed=0, init_seed=1), ModelSpec("LS", "scalar")]
    vae = StackedVAE(specs, mlp_networks(2, 16, 1), latent_dim=1)
    gen = torch.Generator().manual_seed(0)
    history = train_stacked(
        vae, lambda: sample_toy2d((2, 32), gen), steps=steps, lr=1e-2, log_every=5, generator=gen
    )
    return history, vae


def _failing_compile(fn, *args, **kwargs):
    def compiled(*a, **k):
        torch.randn(3, generator=a[1])  # the compiler got as far as drawing noise
        raise RuntimeError("no C compiler found\nmore detail")

    return compiled


def test_a_failing_compiler_warns_once_and_trains_exactly_as_uncompiled(monkeypatch, capsys):
    reference, _ = _train()
    monkeypatch.setattr(torch, "compile", _failing_compile)
    with compiled_training() as state:
        history, _ = _train()
    assert history == reference  # the generator was put back before the eager retry
    assert state.failures == ["RuntimeError: no C compiler found"] and not state.compiled
    err = capsys.readouterr().err
    assert err.count("torch.compile failed (RuntimeError: no C compiler found)") == 1
    with compiled_training(False) as off:
        assert off is None


def test_the_record_says_whether_it_was_trained_compiled(tmp_path, monkeypatch):
    options = {"device": "cpu", "allow_training": True}
    plain = experiments.record("table1", "smoke", results_dir=tmp_path / "a", **options)
    assert "compiled" not in plain.provenance
    monkeypatch.setattr(torch, "compile", lambda fn, *a, **k: fn)  # a compiler that works
    done = experiments.record(
        "table1", "smoke", results_dir=tmp_path / "b", compile=True, **options
    )
    assert done.provenance["compiled"] is True
    assert done.result == plain.result  # the identity "compiler" changes no number
    monkeypatch.setattr(torch, "compile", _failing_compile)
    failed = experiments.record(
        "table1", "smoke", results_dir=tmp_path / "c", compile=True, **options
    )
    assert failed.provenance["compiled"] is False and failed.result == plain.result
    assert cli.describe_run(done.data, done.path, loaded=True).endswith(", compiled)")


def test_bench_times_the_compiled_engine_beside_the_others(monkeypatch):
    monkeypatch.setattr(torch, "compile", lambda fn, *a, **k: fn)
    fast = {"device": "cpu", "models": 2, "steps": 1}
    result = run_bench(**fast, warmup=2, compile=True)
    assert result.compiled_model_steps_per_s > 0 and result.compile_gain > 0
    assert result.compiled_fraction_of_limit == pytest.approx(
        result.compiled_model_steps_per_s / result.limit_model_steps_per_s
    )
    plain = run_bench(**fast, warmup=0)
    assert plain.compile_gain is None and plain.compiled_fraction_of_limit is None
    with pytest.raises(ValueError, match="compile needs warmup >= 2"):
        run_bench(**fast, warmup=1, compile=True)


def test_bench_refuses_compile_with_images(capsys):
    assert cli.main(["bench", "--images", "--compile", "--device", "cpu"]) == 2
    assert "--compile is not available with --images" in capsys.readouterr().err


@pytest.mark.slow
def test_a_compiled_run_trains_like_an_uncompiled_one():
    reference, ref_vae = _train(40)
    with compiled_training() as state:
        history, vae = _train(40)
    assert state.compiled, state.failures
    for term in ("elbo", "kl", "sigma"):
        for a, b in zip(reference[term], history[term], strict=True):
            assert b == pytest.approx(a, rel=1e-3, abs=1e-4), term
    for p, q in zip(vae.parameters(), ref_vae.parameters(), strict=True):
        torch.testing.assert_close(p, q, rtol=1e-3, atol=1e-4)
