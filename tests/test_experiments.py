"""Experiments: declared once, named variants, stable hashes, load-only by default, and an
import graph without a cycle."""

import ast
import dataclasses
import json
import random
import shlex
import subprocess
import sys
import time
from pathlib import Path
from typing import ClassVar

import pytest

from lvae import experiments, store
from lvae.experiments import MissingRecord, TrainingConfig
from lvae.experiments.missing import how_to_make
from lvae.experiments.table1 import CALIBRATED_SCALE

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "lvae"


# --------------------------------------------------------------------- the declarations
def test_every_experiment_module_declares_one_experiment_named_after_it():
    # table1_capacity declares variants of table1 and table1-lr only (the capacity axis).
    variants_only = {"table1_capacity"}
    modules = sorted(
        p.stem
        for p in (PACKAGE / "experiments").glob("*.py")
        if p.stem not in SHARED_MODULES | variants_only
    )
    declared = {}
    for stem in modules:
        module = __import__(f"lvae.experiments.{stem}", fromlist=["EXPERIMENT"])
        declared[module.EXPERIMENT.name] = stem
    assert declared == {
        "images-celeba": "images_celeba",
        "images-digits": "images_digits",
        "images-mnist": "images_mnist",
        "images-olivetti": "images_olivetti",
        "kl-weight": "kl_weight",
        "sphere-vae": "sphere_vae",
        "table1": "table1",
        "table1-calibration": "table1_calibration",
        "table1-lr": "table1_lr",
    }
    # The registry: those and the variants of table1, which file their records with it.
    variants = {"table1-long", "table1-latent2", "table1-calibrated"}
    variants |= {"table1-calibrated-latent2", "table1-calibrated-latent4", "table1-capacity"}
    sphere_grids = {"sphere-vae-grid-d2", "sphere-vae-grid-d10"}
    image_protocol = {"images-digits-protocol", "images-mnist-protocol"}
    lr_long = {"table1-lr-long", "table1-lr-longest", "table1-lr-decay", "table1-lr-learned"}
    lr_long |= {"table1-lr-learned-decay", "table1-lr-decay-longest"}
    lr_long |= {"table1-lr-learned-decay-longest"}
    lr_long |= {f"table1-lr{kind}-latent{d}" for kind in ("", "-learned") for d in (2, 4)}
    lr_long |= {"table1-lr-long-latent2", "table1-lr-learned-long-latent2"}
    lr_long |= {"table1-lr-long-latent4", "table1-lr-learned-long-latent4"}
    lr_long |= {"table1-lr-further-latent4", "table1-lr-furthest-latent4"}
    lr_long |= {"table1-lr-learned-furthest-latent4"}
    lr_long |= {"table1-capacity-pilot"}  # the capacity run's pilot: an lr-study variant
    assert set(experiments.EXPERIMENTS) == {
        *declared, *variants, *sphere_grids, *image_protocol, *lr_long
    }  # fmt: skip
    for name, exp in experiments.EXPERIMENTS.items():
        assert exp.name == name and issubclass(exp.config, TrainingConfig)
        filed = "table1" if name in variants else "sphere-vae" if name in sphere_grids else name
        filed = filed.removesuffix("-protocol") if name in image_protocol else filed
        filed = "table1-lr" if name in lr_long else filed
        assert exp.record_name == filed


def test_the_study_steps_name_every_extension_of_the_lr_study_once():
    """The chapter and the claims page follow the learning-rate study through LATER_STEPS:
    a registered extension left out of it would never join a verdict."""
    from lvae.experiments.table1_lr import (
        LATENT_LONGER,
        LATENT_STUDIES,
        LATER_STEPS,
        MADE_STEPS,
        PENDING,
    )

    names = [name for _, name in LATER_STEPS]
    filed_with_the_study = {
        name for name, exp in experiments.EXPERIMENTS.items() if exp.record_name == "table1-lr"
    }
    first_three = {"table1-lr", "table1-lr-long", "table1-lr-learned"}
    other_latents = {exp.name for pair in LATENT_STUDIES.values() for exp in pair}
    other_latents |= {exp.name for runs in LATENT_LONGER.values() for exp in runs}
    capacity = {name for name in filed_with_the_study if name.startswith("table1-capacity")}
    assert len(set(names)) == len(names)
    assert set(names) == filed_with_the_study - first_three - other_latents - capacity
    assert len({label for label, _ in LATER_STEPS}) == len(LATER_STEPS)
    # Those judged are the made ones, in the same order; a pending one is registered.
    assert [n for _, n in MADE_STEPS] == [n for n in names if n not in PENDING]
    assert set(PENDING) <= set(names) | other_latents


SHARED_MODULES = {"__init__", "base", "config", "missing", "cache", "image_config"}


def test_the_declarations_import_without_torch():
    code = (
        "import sys, lvae.experiments as e; e.config('images-mnist', 'paper'); "
        "assert 'torch' not in sys.modules, 'torch was imported'"
    )
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True)


def test_a_variant_is_its_base_preset_changed():
    for profile in experiments.PROFILES:
        base = experiments.config("table1", profile)
        long = experiments.config("table1-long", profile)
        assert long.seeds == base.seeds[:3] and long.fixed_sigmas == (0.043,)
        assert long.steps == 4 * base.steps
        assert dataclasses.replace(long, seeds=base.seeds, fixed_sigmas=base.fixed_sigmas,
                                   steps=base.steps) == base  # fmt: skip
        two = experiments.config("table1-latent2", profile)
        assert dataclasses.replace(two, latent_dim=1, n_monitor=base.n_monitor) == base
        for d, name in [(1, "table1-calibrated"), (2, "table1-calibrated-latent2"),
                        (4, "table1-calibrated-latent4")]:  # fmt: skip
            calibrated = experiments.config(name, profile)
            assert calibrated.data_scale == CALIBRATED_SCALE and calibrated.latent_dim == d
            assert calibrated.replay == "own_and_pooled" and calibrated.dense_trace_steps == 300
            assert calibrated.steps >= 10 * calibrated.log_every
            undone = dataclasses.replace(calibrated, data_scale=1.0, replay="seed0", latent_dim=1,
                                         dense_trace_steps=0, log_every=base.log_every)  # fmt: skip
            assert undone == base
    assert experiments.config("table1-long", "smoke").seeds == (0, 1)  # fewer than 3: all
    # Overrides apply to the variant's preset.
    assert experiments.config("table1-long", "book", steps=10).fixed_sigmas == (0.043,)


@pytest.mark.parametrize(
    "name, check",
    [
        ("table1-long", {"steps": 240000, "seeds": [0, 1, 2], "fixed_sigmas": [0.043]}),
        ("table1-latent2", {"latent_dim": 2, "steps": 60000}),
    ],
)
def test_the_variants_load_their_committed_records_by_name(name, check, monkeypatch):
    monkeypatch.delenv("LVAE_ALLOW_TRAINING", raising=False)
    start = time.perf_counter()
    rec = experiments.record(name, "book", device="cpu", results_dir=ROOT / "results")
    assert time.perf_counter() - start < 30  # loaded, not trained (an hour)
    assert rec.experiment == "table1" and rec.path.parent == ROOT / "results" / "table1"
    assert {key: rec.config[key] for key in check} == check
    assert rec.provenance["profile"] == "book"


def test_the_latent2_record_predates_the_monitor():
    """Its stored configuration has no n_monitor (the monitor was off: n_monitor = 0, the
    field's OMITTED_AT value) and its history no monitored ELBO."""
    rec = store.Record.load(ROOT / "results" / "table1" / "b135ea2fa8bd7881.json")
    assert "n_monitor" not in rec.config and rec.config["latent_dim"] == 2
    assert "monitor_elbo" not in rec.result["history"]
    assert experiments.normalised(experiments.config("table1-latent2")) == rec.config


# ------------------------------------------------------------------ configuration hashes
@dataclasses.dataclass(frozen=True)
class Old(TrainingConfig):
    EVALUATION_ONLY: ClassVar[tuple[str, ...]] = ("n_show",)
    width: int = 4
    n_show: int = 8


@dataclasses.dataclass(frozen=True)
class New(Old):  # a field added later; 0 gives the behaviour from before it existed
    OMITTED_AT: ClassVar[dict] = {"extra": 0}
    extra: int = 0


def test_a_field_added_at_its_omitted_value_keeps_the_hash():
    old = store.config_hash(experiments.normalised(Old()))
    assert store.config_hash(experiments.normalised(New())) == old
    assert experiments.training_key(New()) == experiments.training_key(Old())
    # Any other value is stored, and so hashed.
    assert experiments.normalised(New(extra=1)) == {**experiments.normalised(Old()), "extra": 1}


def test_evaluation_only_fields_leave_the_training_key_alone():
    assert experiments.training_key(New(n_show=3)) == experiments.training_key(New(n_show=9))
    assert experiments.training_key(New(steps=3)) != experiments.training_key(New(steps=4))
    # ... but they are part of the record's hash: a record holds what was measured.
    assert experiments.normalised(New(n_show=3)) != experiments.normalised(New(n_show=9))
    table1 = experiments.config("table1", "book")
    changed = dataclasses.replace(table1, n_figure=50)
    assert experiments.training_key(changed) == experiments.training_key(table1)


def test_a_declared_field_that_does_not_exist_is_refused():
    @dataclasses.dataclass(frozen=True)
    class Typo(TrainingConfig):
        EVALUATION_ONLY: ClassVar[tuple[str, ...]] = ("n_shw",)

    with pytest.raises(TypeError, match="Typo declares 'n_shw', not a field"):
        Typo()


@pytest.mark.parametrize("name", sorted(experiments.EXPERIMENTS))
def test_every_configuration_checks_the_common_fields(name):
    for field, value, message in [
        ("batch_size", 0, "batch_size must be >= 1, got 0"),
        ("log_every", -1, "log_every must be >= 1, got -1"),
        ("lr", -1e-3, "lr must be > 0, got -0.001"),
        ("seeds", (), "seeds must not be empty"),
    ]:
        with pytest.raises(ValueError, match=message):
            experiments.config(name, "smoke", **{field: value})
    with pytest.raises(ValueError, match=f"unknown {name} option"):
        experiments.config(name, "smoke", no_such_field=1)


# --------------------------------------------------------------------- load-only builds
def test_a_missing_record_fails_fast_with_the_command_that_makes_it(tmp_path, monkeypatch):
    monkeypatch.delenv("LVAE_ALLOW_TRAINING", raising=False)
    import lvae.sphere_experiment

    def must_not_train(*args, **kwargs):
        raise AssertionError("training started")

    monkeypatch.setattr(lvae.sphere_experiment, "_run", must_not_train)
    with pytest.raises(MissingRecord) as err:
        experiments.record("sphere-vae", "smoke", device="cpu", results_dir=tmp_path, steps=5)
    assert list(tmp_path.iterdir()) == []  # nothing written: no record, checkpoint, lock
    config = experiments.normalised(experiments.config("sphere-vae", "smoke", steps=5))
    path = store.record_path(tmp_path, "sphere-vae", config)
    message = str(err.value)
    assert f"no record of sphere-vae (smoke profile) at {path}: none is stored" in message
    command = f"python -m lvae run sphere-vae --profile smoke --steps 5 --results-dir {tmp_path}"
    assert command in message and "LVAE_ALLOW_TRAINING=1" in message
    assert isinstance(err.value, FileNotFoundError)  # the CLI's one handler prints it
    # The command named makes the record; then the same call loads it.
    run = shlex.split(command)
    done = subprocess.run([sys.executable, *run[1:]], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    rec = experiments.record("sphere-vae", "smoke", device="cpu", results_dir=tmp_path, steps=5)
    assert rec.path == path and rec.config == config


def test_an_override_the_cli_cannot_express_is_named_as_a_python_call(tmp_path, monkeypatch):
    monkeypatch.delenv("LVAE_ALLOW_TRAINING", raising=False)
    with pytest.raises(MissingRecord) as err:
        experiments.record("table1-latent2", "smoke", results_dir=tmp_path, seeds=(3,), steps=10)
    call = shlex.split(str(err.value).splitlines()[1])
    assert call[:2] == ["python", "-c"]
    assert call[2].endswith(
        f"record('table1-latent2', 'smoke', results_dir={str(tmp_path)!r}, seeds=(3,), "
        "steps=10, allow_training=True)"
    )
    # The call runs, and makes exactly the record asked for.
    done = subprocess.run([sys.executable, *call[1:]], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    config = experiments.config("table1-latent2", "smoke", seeds=(3,), steps=10)
    assert store.record_path(tmp_path, "table1", experiments.normalised(config)).exists()


def test_how_to_make_uses_the_cli_only_for_what_it_can_say():
    opts = experiments.EXPERIMENTS["images-mnist"].options
    assert how_to_make("images-mnist", "book", {"iw_k": 50, "seeds": (0, 1)}, opts) == (
        "python -m lvae run images-mnist --profile book --iw-k 50 --seeds 2"
    )
    assert how_to_make("table1", "paper", {}, ("seeds", "steps")) == (
        "python -m lvae run table1 --profile paper"
    )
    # iw_k is not a table1 option; seeds (1, 2) are not 0..N-1.
    for overrides in ({"iw_k": 5}, {"seeds": (1, 2)}, {"latent_dim": 2}):
        assert how_to_make("table1", "book", overrides, ("seeds", "steps")).startswith("python -c")


def test_an_invalid_record_is_not_retrained_without_permission(tmp_path, monkeypatch):
    monkeypatch.setenv("LVAE_ALLOW_TRAINING", "1")
    rec = experiments.record("kl-weight", "smoke", device="cpu", results_dir=tmp_path)
    rec.path.write_text(rec.path.read_text()[:50])
    monkeypatch.setenv("LVAE_ALLOW_TRAINING", "0")
    with pytest.raises(MissingRecord, match="the stored one is damaged .*unreadable"):
        experiments.record("kl-weight", "smoke", device="cpu", results_dir=tmp_path)
    # allow_training=False wins over recompute; allow_training=True over the environment.
    with pytest.raises(MissingRecord):
        experiments.record(
            "kl-weight", "smoke", device="cpu", results_dir=tmp_path, recompute=True,
            allow_training=False,
        )  # fmt: skip
    # With permission a damaged record still stops the run; recompute replaces it.
    from lvae.experiments.cache import DamagedRecord

    with pytest.raises(DamagedRecord, match="left as it is"):
        experiments.record(
            "kl-weight", "smoke", device="cpu", results_dir=tmp_path, allow_training=True
        )
    again = experiments.record(
        "kl-weight", "smoke", device="cpu", results_dir=tmp_path, recompute=True
    )
    assert again.result == json.loads(json.dumps(rec.result))


def test_with_the_setting_a_missing_record_is_trained(tmp_path, monkeypatch):
    monkeypatch.setenv("LVAE_ALLOW_TRAINING", "1")
    rec = experiments.record("sphere-vae", "smoke", device="cpu", results_dir=tmp_path, steps=5)
    assert rec.path.exists() and rec.provenance["steps"] == 5
    assert rec.provenance["profile"] == "smoke" and len(rec.result["elbo"]) == 2


# ----------------------------------------------------------------------- import graph
def _modules() -> dict[str, Path]:
    return {
        ".".join(p.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__"): p
        for p in sorted(PACKAGE.rglob("*.py"))
    }


def _import_statements(tree: ast.Module, lazy: bool):
    """The module's import statements: with ``lazy``, all of them; else those that run
    when it is imported (not inside functions, nor under ``if TYPE_CHECKING``)."""
    stack = list(tree.body)
    while stack:
        node = stack.pop()
        if not lazy:
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
                continue
            if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
                stack.extend(node.orelse)
                continue
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        stack.extend(ast.iter_child_nodes(node))


def _imports(module: str, path: Path, known: set[str], lazy: bool) -> set[str]:
    """The lvae modules ``module`` imports. Without ``lazy``: what importing it imports at
    once, packages on the way included (not its own: Python started those before it).
    With ``lazy``: every module it names in any import, wherever (a design's view)."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = set()
    for node in _import_statements(ast.parse(path.read_text()), lazy):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            base = package
            for _ in range(node.level - 1):
                base = base.rpartition(".")[0]
            stem = (f"{base}.{node.module}" if node.module else base) if node.level else node.module
            subs = [f"{stem}.{alias.name}" for alias in node.names]
            names = [name for name in subs if name in known] or [stem]
            if not lazy:
                names.append(stem)
        for name in names:
            parts = name.split(".")
            targets = (
                [".".join(parts[:i]) for i in range(1, len(parts) + 1)] if not lazy else [name]
            )
            found.update(
                t for t in targets if t in known and not (module + ".").startswith(t + ".")
            )
    return found


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """A cycle of ``graph`` (as a path that returns to its start), or None."""
    state: dict[str, str] = {}

    def visit(node, trail):
        if state.get(node) == "open":
            return [*trail[trail.index(node) :], node]
        if state.get(node) == "done":
            return None
        state[node] = "open"
        for nxt in sorted(graph[node]):
            found = visit(nxt, [*trail, node])
            if found:
                return found
        state[node] = "done"
        return None

    for node in sorted(graph):
        found = visit(node, [])
        if found:
            return found
    return None


@pytest.mark.parametrize("lazy", [False, True], ids=["at-import", "every-import"])
def test_the_import_graph_has_no_cycle(lazy):
    modules = _modules()
    graph = {m: _imports(m, p, set(modules), lazy) for m, p in modules.items()}
    assert "lvae.experiments" in graph["lvae.sweep"]  # the walk sees imports
    # The declarations import the training code only when they run.
    assert ("lvae.toy2d_experiment" in graph["lvae.experiments.table1"]) is lazy
    assert _cycle(graph) is None, " -> ".join(_cycle(graph))


def test_the_cycle_finder_finds_one():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None


def test_every_module_imports_in_a_fresh_interpreter_in_a_random_order():
    names = sorted(_modules())
    order = random.Random(int(time.time())).sample(names, len(names))
    code = "import importlib, sys\nfor name in sys.argv[1:]:\n    importlib.import_module(name)"
    done = subprocess.run(
        [sys.executable, "-c", code, *order], cwd=ROOT, capture_output=True, text=True
    )
    assert done.returncode == 0, f"order {order}:\n{done.stderr[-2000:]}"


def test_variant_overrides_change_only_their_profile_and_refuse_unknown_profiles():
    from lvae.experiments import sphere_vae

    for d, ratios in sphere_vae.GRID_RATIOS.items():
        smoke = experiments.config(f"sphere-vae-grid-d{d}", "smoke")
        book = experiments.config(f"sphere-vae-grid-d{d}", "book")
        paper = experiments.config(f"sphere-vae-grid-d{d}", "paper")
        assert smoke.ratios == experiments.config("sphere-vae", "smoke").ratios
        assert book.ratios == paper.ratios == ratios and book.seeds == tuple(range(5))
        assert (book.dim, book.latent_dim) == (d, d)
        assert paper.seeds == experiments.config("sphere-vae", "paper").seeds
    # The grids straddle both candidate thresholds, sqrt(D - 1) and sqrt(D).
    for d, ratios in sphere_vae.GRID_RATIOS.items():
        assert ratios[0] <= (d - 1) ** 0.5 < d**0.5 <= ratios[-1]
    with pytest.raises(ValueError, match="unknown profiles"):
        sphere_vae.EXPERIMENT.variant("x", "x", lambda c: c, overrides={"huge": {}})


def test_the_latent_studies_are_read_made_first_fixed_then_learned(monkeypatch):
    from lvae.experiments import table1_lr

    every = [e.name for pair in table1_lr.LATENT_STUDIES.values() for e in pair]
    assert every == [
        "table1-lr-latent2", "table1-lr-learned-latent2",
        "table1-lr-latent4", "table1-lr-learned-latent4",
    ]  # fmt: skip
    monkeypatch.setattr(table1_lr, "PENDING", tuple(every[1:]))
    assert table1_lr.made_latent_studies() == {2: ["table1-lr-latent2"]}
    assert table1_lr.pending_latent_studies() == every[1:]
    monkeypatch.setattr(table1_lr, "PENDING", ("table1-lr-latent4",))
    with pytest.raises(ValueError, match="table1-lr-learned-latent4 is made but table1-lr-la"):
        table1_lr.made_latent_studies()
    monkeypatch.setattr(table1_lr, "PENDING", ())
    assert table1_lr.made_latent_studies() == {2: every[:2], 4: every[2:]}
    by_latent = {d: [e.name for e in runs] for d, runs in table1_lr.LATENT_LONGER.items()}
    assert table1_lr.made_latent_extensions() == by_latent and all(by_latent.values())
    extensions = [name for names in by_latent.values() for name in names]
    monkeypatch.setattr(table1_lr, "PENDING", tuple(extensions[1:]))
    assert table1_lr.made_latent_extensions() == {2: extensions[:1]}
    assert table1_lr.pending_latent_studies() == extensions[1:]
