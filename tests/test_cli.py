"""The command line: fast, plainly worded refusals; what a run prints; Ctrl-C; estimates."""

import argparse
import json
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import torch

from lvae import __main__ as cli
from lvae import estimate, experiments, store
from lvae.checkpoints import load_checkpoint

ROOT = Path(__file__).resolve().parents[1]


def run_cli(*args, **options):
    return subprocess.run(
        [sys.executable, "-m", "lvae", *args], capture_output=True, text=True, cwd=ROOT, **options
    )


# ----------------------------------------------------------------- answered without torch

# (argv, exit code, what stderr/stdout must say)
REFUSALS = [
    (
        ["run", "table1", "--steps", "abc"],
        2,
        "error: --steps must be a whole number >= 1, got 'abc'",
    ),
    (["run", "table1", "--seeds", "0"], 2, "error: --seeds must be a whole number >= 1, got '0'"),
    (
        ["run", "table1", "--iw-k", "5"],
        2,
        "error: --iw-k applies only to the image experiments (images-celeba, images-digits, "
        "images-digits-protocol, images-mnist, images-mnist-protocol, images-olivetti), not "
        "to table1",
    ),
    (
        ["run", "images-digits", "--data-dir", "."],
        2,
        "error: --data-dir applies only to the experiments that read image files "
        "(images-celeba, images-mnist, images-mnist-protocol, images-olivetti), not to "
        "images-digits",
    ),
    (["run", "images-mnist", "--data-dir", "no/such/dir"], 2, "--data-dir no/such/dir is not"),
    (["run", "table1", "--results-dir", "README.md"], 2, "--results-dir README.md exists and"),
    (["run", "tabel1"], 2, "argument experiment: invalid choice: 'tabel1'"),
    (["run", "sphere-vae", "--profile", "huge"], 2, "invalid choice: 'huge'"),
    (["bench", "--models", "x"], 2, "error: --models must be a whole number >= 1, got 'x'"),
    (["run", "--help"], 0, "--checkpoint-dir"),
    (["list"], 0, "table1"),
    (["list"], 0, "table1-long table1 at 4x the steps"),
]


def test_the_cli_module_does_not_import_torch():
    code = "import sys, lvae.__main__; assert 'torch' not in sys.modules, 'torch was imported'"
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True)


def test_refusals_help_and_list_never_import_torch():
    # One fresh interpreter answers every case; torch must still be absent at the end.
    code = f"""
import contextlib, io, json, sys
from lvae.__main__ import main
out = []
for argv, _, _ in {REFUSALS!r}:
    err, std = io.StringIO(), io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(std):
        try:
            code = main(argv)
        except SystemExit as exc:
            code = exc.code
    out.append([code, err.getvalue() + std.getvalue()])
print(json.dumps({{"torch": "torch" in sys.modules, "out": out}}))
"""
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    report = json.loads(done.stdout)
    assert report["torch"] is False
    for (argv, expected_code, message), (code, text) in zip(REFUSALS, report["out"], strict=True):
        assert code == expected_code, (argv, text)
        assert message in " ".join(text.split()), (argv, text)
        assert "Traceback" not in text


def test_a_bad_argument_is_answered_at_once():
    start = time.perf_counter()
    done = run_cli("run", "table1", "--steps", "abc")
    elapsed = time.perf_counter() - start
    assert done.returncode == 2 and "--steps must be a whole number" in done.stderr
    assert elapsed < 2.0  # about 0.05 s; importing torch alone takes seconds


# ----------------------------------------------------------------------- a run, end to end


def test_a_run_prints_how_it_was_made_and_its_numbers_then_loads(tmp_path):
    args = ("run", "sphere-vae", "--profile", "smoke", "--device", "cpu", "--steps", "30")
    trained = run_cli(*args, "--results-dir", str(tmp_path / "r"))
    assert trained.returncode == 0, trained.stderr
    path = next((tmp_path / "r" / "sphere-vae").glob("*.json"))
    first = trained.stdout.splitlines()[0]
    assert re.fullmatch(
        r"trained in \d+ s on cpu at commit \w{7}(\+dirty)? "
        r"\(profile smoke, 1 seed, 30 steps, fp32\); "
        rf"record: {re.escape(str(path))}",
        first,
    ), first
    # The table: one row per ratio of the record, its ELBO as stored (one seed: no spread).
    record = json.loads(path.read_text())
    lines = trained.stdout.splitlines()
    assert lines[1] == "mean over 1 seed:" and lines[2].split()[:2] == ["ratio", "ELBO"]
    result = record["result"]
    for row, model, elbo in zip(lines[3:], result["models"], result["elbo"], strict=True):
        assert row.split()[:2] == [f"{model['ratio']}", f"{elbo:.4g}"]
    # Checkpoints went inside the results folder chosen, not beside it.
    assert list((tmp_path / "r" / ".checkpoints" / "sphere-vae").glob("*/train.pt"))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r"]
    # The same command again loads the record, says so, and prints the same table.
    loaded = run_cli(*args, "--results-dir", str(tmp_path / "r"))
    assert loaded.returncode == 0 and "[lvae] running" not in loaded.stderr
    assert loaded.stdout.splitlines()[0] == f"loaded {path}, " + first.split("; record")[0]
    assert loaded.stdout.splitlines()[1:] == lines[1:]
    # --checkpoint-dir puts them elsewhere.
    elsewhere = run_cli(
        *args, "--results-dir", str(tmp_path / "s"), "--checkpoint-dir", str(tmp_path / "ck")
    )
    assert elsewhere.returncode == 0, elsewhere.stderr
    assert list((tmp_path / "ck" / "sphere-vae").glob("*/train.pt"))
    assert not (tmp_path / "s" / ".checkpoints").exists()


def test_the_headline_table_of_a_stored_record():
    path = next((ROOT / "results" / "table1").glob("7216f54e778a0d20.json"))
    record = json.loads(path.read_text())
    lines = cli.headline_table(record).splitlines()
    assert lines[0] == "mean ± sd over 10 seeds:"
    ls = [line for line in lines if line.startswith("LS ")][0]
    elbo = [
        e
        for e, m in zip(record["result"]["elbo"], record["result"]["models"], strict=True)
        if m["setting"] == "LS"
    ]
    mean, sd = ls.split()[1], ls.split()[3]
    assert float(mean) == pytest.approx(sum(elbo) / len(elbo), rel=1e-3)
    assert float(sd) == pytest.approx(torch.tensor(elbo).std().item(), rel=0.05)
    assert len(lines) == 2 + len({m["setting"] for m in record["result"]["models"]})
    described = cli.describe_run(record, path, loaded=True)
    assert described == (
        f"loaded {path}, trained in 61 min on cpu at commit cc8c15d (profile book, 10 seeds, "
        "60000 steps)"
    )


def test_a_variant_runs_by_name_and_loads_its_committed_record(capsys):
    assert cli.main(["run", "table1-latent2", "--device", "cpu"]) == 0
    out = capsys.readouterr().out.splitlines()
    path = ROOT / "results" / "table1" / "b135ea2fa8bd7881.json"
    assert out[0].startswith(f"loaded {path}, trained in 29 min on cpu at commit dcb3cc3")
    assert out[1] == "mean ± sd over 10 seeds:"


def test_cuda_asked_for_where_there_is_none(tmp_path):
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    no_gpu = run_cli(
        "run", "sphere-vae", "--profile", "smoke", "--device", "cuda",
        "--results-dir", str(tmp_path / "gpu"),
    )  # fmt: skip
    assert no_gpu.returncode == 2 and "no CUDA device" in no_gpu.stderr
    assert not (tmp_path / "gpu").exists()


def test_a_run_without_its_image_files_says_which_option_to_use(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("LVAE_DATA_DIR", raising=False)
    argv = ["run", "images-olivetti", "--profile", "smoke", "--device", "cpu"]
    assert cli.main([*argv, "--results-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "images-olivetti trains on image files and no data folder was given" in err
    assert "python -m lvae data fetch olivetti" in err and "pass --data-dir DIR" in err
    assert not list(tmp_path.rglob("*.json"))


# ------------------------------------------------------------------------------- Ctrl-C


def test_ctrl_c_stops_with_one_line_and_exit_130(tmp_path):
    # A shell that starts jobs in the background (as CI may) leaves SIGINT ignored, and the
    # child would inherit that; Ctrl-C in a terminal finds the default handler.
    _stop_a_long_run(tmp_path, sigint=signal.SIG_DFL, send=signal.SIGINT)


def test_kill_stops_a_background_run_with_a_checkpoint_as_ctrl_c_does(tmp_path):
    # A run started in the background ignores SIGINT; `kill PID` (SIGTERM) must still
    # stop it at the end of a step with a checkpoint, not lose the work since the last one.
    _stop_a_long_run(tmp_path, sigint=signal.SIG_IGN, send=signal.SIGTERM)


def _stop_a_long_run(tmp_path, sigint, send):
    """A million-step run started with SIGINT's handler ``sigint``, stopped by ``send``."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "lvae", "run", "sphere-vae", "--profile", "smoke", "--device",
         "cpu", "--steps", "1000000", "--results-dir", str(tmp_path)],
        cwd=ROOT, stderr=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, sigint),
    )  # fmt: skip
    try:
        _interrupt_and_check(proc, tmp_path, send)
    finally:
        if proc.poll() is None:  # never leave a million-step run behind
            proc.kill()
            proc.wait()


def _interrupt_and_check(proc, tmp_path, sig):
    chunks = []  # stderr, read as it comes: tqdm redraws its bar with \r, not lines
    reader = threading.Thread(target=lambda: chunks.extend(iter(lambda: proc.stderr.read(1), "")))
    reader.start()
    deadline = time.monotonic() + 120
    while "loss=" not in "".join(chunks) and time.monotonic() < deadline:
        time.sleep(0.1)  # the bar shows a loss once training steps are under way
    proc.send_signal(sig)
    proc.wait(timeout=60)
    reader.join(timeout=10)
    err = "".join(chunks)
    checkpoints = tmp_path / ".checkpoints" / "sphere-vae"
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    stops = re.findall(r"interrupted at step (\d+) of 1000000 \(sphere-vae\); run the same "
                       r"command again to resume", err)  # fmt: skip
    assert len(stops) == 1 and err.count("interrupted") == 1, err
    (checkpoint,) = checkpoints.glob("*/train.pt")
    assert load_checkpoint(checkpoint)["step"] == int(stops[0])
    assert not list(tmp_path.glob("sphere-vae/*.json"))  # no record of an unfinished run


# ----------------------------------------------------------------------- long runs


def test_a_long_run_on_a_terminal_asks_for_yes_and_trains_nothing(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(sys.stdin, "isatty", lambda: True, raising=False)
    argv = ["run", "table1", "--profile", "paper", "--device", "cpu"]
    assert cli.main([*argv, "--results-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    hours = re.search(r"table1 \(paper profile\) on cpu should take about (\d+) h, by", err)
    assert hours and int(hours.group(1)) > 1, err
    assert "the committed book record of table1" in err and "results/bench" in err
    assert "not started: run the same command with --yes to start it" in err
    assert list(tmp_path.iterdir()) == []  # nothing trained, nothing written


@pytest.mark.parametrize("yes, tty", [(True, True), (False, False)])
def test_a_long_run_goes_ahead_with_yes_or_off_a_terminal(yes, tty, monkeypatch, capsys):
    monkeypatch.setattr(sys.stdin, "isatty", lambda: tty, raising=False)
    args = argparse.Namespace(profile="paper", yes=yes)
    device = torch.device("cpu")
    paper = experiments.config("table1", "paper")
    assert cli._ask_if_long(args, "table1", paper, device) is None
    assert "should take about" in capsys.readouterr().err  # the estimate is still printed
    # A short run says nothing.
    smoke = experiments.config("table1", "smoke")
    assert cli._ask_if_long(args, "table1", smoke, device) is None
    assert capsys.readouterr().err == ""


def test_the_estimate_reproduces_its_reference_and_scales_with_the_work(tmp_path):
    ref = store.record_path(
        ROOT / "results", "table1", experiments.normalised(experiments.config("table1", "book"))
    )
    wall = json.loads(ref.read_text())["provenance"]["wall_time_s"]
    book = experiments.normalised(experiments.config("table1", "book"))
    assert estimate.estimate("table1", book, "cpu", ref)["seconds"] == pytest.approx(wall)
    # Twice the steps, twice the time; more seeds, more models; a GPU: no estimate.
    longer = experiments.normalised(experiments.config("table1", "book", steps=120000))
    assert estimate.estimate("table1", longer, "cpu", ref)["seconds"] == pytest.approx(2 * wall)
    three = experiments.normalised(experiments.config("table1", "book", seeds=(0, 1, 2)))
    assert estimate.estimate("table1", three, "cpu", ref)["seconds"] == pytest.approx(0.3 * wall)
    assert estimate.estimate("table1", book, "NVIDIA H100", ref) is None
    # A record that resumed from checkpoints timed its last session only: no estimate.
    resumed = json.loads(ref.read_text())
    resumed["provenance"]["resumed"] = True
    (tmp_path / "resumed.json").write_text(json.dumps(resumed))
    assert estimate.estimate("table1", book, "cpu", tmp_path / "resumed.json") is None
    # Larger networks: by the measured bench speeds when they exist, else by weights.
    paper = experiments.normalised(experiments.config("table1", "paper"))
    by_bench = estimate.estimate("table1", paper, "cpu", ref, ROOT / "results" / "bench")
    by_weights = estimate.estimate("table1", paper, "cpu", ref)
    assert LONG < by_bench["seconds"] < by_weights["seconds"]
    assert estimate.duration(59) == "59 s" and estimate.duration(3659) == "61 min"
    assert estimate.duration(36 * 3600) == "36 h" and estimate.duration(5 * 86400) == "5 days"
    with pytest.raises(ValueError, match="seconds must be finite and >= 0, got -1"):
        estimate.duration(-1)


LONG = cli.LONG_RUN_S


@pytest.mark.parametrize(
    "name",
    [
        "table1",
        "table1-calibrated",
        "table1-calibration",
        "table1-lr",
        "table1-lr-long",
        "table1-lr-longest",
        "table1-lr-decay",
        "table1-lr-decay-longest",
        "table1-lr-learned",
        "table1-lr-learned-decay",
        "table1-lr-learned-decay-longest",
        "kl-weight",
        "sphere-vae",
    ],
)
def test_the_cost_model_counts_the_models_the_experiment_trains(name):
    from lvae import toy2d_experiment as toy
    from lvae.experiments.table1_lr import schedules
    from lvae.sphere_experiment import sphere_specs

    def trained(config) -> int:
        if name.startswith("table1-lr"):  # one stack of the study's models per schedule
            return len(toy.lr_study_specs(config)) * len(schedules(config))
        if name.startswith("table1") and name != "table1-calibration":  # both phases
            return len(toy.table1_specs(config)) + len(toy.table1_specs(config, 1.0))
        if name == "table1-calibration":
            return len(toy.calibration_specs(config))
        if name == "kl-weight":
            return sum(map(len, toy.kl_weight_specs(config)))
        return len(sphere_specs(config))

    for profile in ("smoke", "book"):
        config = experiments.config(name, profile)
        stored = experiments.normalised(config)  # as the records hold it
        record_name = experiments.experiment(name).record_name
        assert estimate.n_models(record_name, stored) == trained(config)


def test_every_experiment_has_a_cost_model():
    # `run` estimates before it trains; an experiment without a cost model would stop it.
    for name, exp in experiments.EXPERIMENTS.items():
        for profile in ("smoke", "book", "paper"):
            stored = experiments.normalised(experiments.config(name, profile))
            assert estimate.n_models(exp.record_name, stored) >= len(stored["seeds"]), name


def test_a_truncated_record_stops_run_before_training_naming_the_file(tmp_path, capsys):
    command = ["run", "sphere-vae", "--profile", "smoke", "--results-dir", str(tmp_path)]
    assert cli.main(command) == 0
    (path,) = (tmp_path / "sphere-vae").glob("*.json")
    path.write_bytes(path.read_bytes()[:300])
    capsys.readouterr()
    assert cli.main(command) == 2
    err = capsys.readouterr().err
    assert f"error: {path}: unreadable" in err and "left as it is" in err
    assert "Traceback" not in err and "running sphere-vae" not in err  # nothing trained
    assert len(path.read_bytes()) == 300
    assert cli.main([*command, "--recompute"]) == 0 and json.loads(path.read_text())
