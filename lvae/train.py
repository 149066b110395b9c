"""Training a stack of VAEs with Adam on fresh batches: history, NaN guard, checkpoints.

Every ``log_every`` steps the batch means of the reconstruction log-likelihood, KL, ELBO
and sigma of every model are appended to the history; with ``trace_every``, sigma alone is
also traced at that finer interval (a learned-sigma trajectory to replay as a schedule).
With ``monitor``, a function returning one number per model (say the ELBO on fixed
points), its value is logged at the same steps as the history, as ``history["monitor"]``.
With a checkpoint path, the full state (models, optimiser, random generator, history) is
written atomically every ``checkpoint_every`` steps and every ``checkpoint_seconds`` of
wall-clock time (or every ``WRITE_SHARE`` times the last write's time, if longer), with
its checksum (``lvae.checkpoints``: loaded weights-only, and a
damaged file stops the run instead of being used), and a later call with the same path
resumes from it: the resumed run is identical to an uninterrupted one. Ctrl-C (SIGINT) or
``kill`` (SIGTERM) then stops at the end of the current step, writes a checkpoint there,
prints one line and raises ``TrainingInterrupted``.

A step never waits for the device: the NaN/inf guard, the logged values and the sigma
trace stay on it and come back together, in one transfer, at log steps, before a
checkpoint and at the end.

Precision (``training_precision``): ``fp32`` (float32, TF32 off), ``tf32`` (float32 with
TF32 matmuls and convolutions; CUDA only) or ``bf16`` (the networks' forward pass under
bfloat16 autocast; the loss terms, gradients, parameters and Adam in float32). A run's
precision is set for the duration of a ``with`` block and read by ``train_stacked``; the
global torch flags are restored when the block ends.
"""

from __future__ import annotations

import contextlib
import contextvars
import signal
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from .checkpoints import load_checkpoint, save_checkpoint
from .experiments.base import PRECISIONS  # named torch-free, for the command line
from .vae import StackedVAE

HISTORY_TERMS = ("log_likelihood", "kl", "elbo", "sigma")
# The wall-clock checkpoint interval is at least this many times the last write's time,
# so that writing a large stack's checkpoint (540 MB at the paper's width: seconds) costs
# at most about 1% of the run.
WRITE_SHARE = 100
FINITE_TERMS = ("log_likelihood", "kl", "elbo", "loss", "sigma")  # checked every step


class DivergenceError(FloatingPointError):
    """A loss term became NaN or infinite; the message names the step, model and term."""


# Where torch's fused Adam kernel runs: CUDA since torch 2.0, the CPU since 2.4.
_TORCH = tuple(int(part) for part in torch.__version__.split(".")[:2])
FUSED_ADAM_DEVICES = ("cpu", "cuda") if _TORCH >= (2, 4) else ("cuda",)


def adam(parameters, lr: float) -> torch.optim.Adam:
    """Adam, with the fused kernel (one pass over all parameters per step) where torch has
    it for the parameters' device: the optimiser of the stacked engine and of the loop it
    is compared with (``lvae.bench``)."""
    parameters = list(parameters)
    fused = bool(parameters) and all(
        p.device.type in FUSED_ADAM_DEVICES and p.is_floating_point() for p in parameters
    )
    return torch.optim.Adam(parameters, lr=lr, fused=fused or None)


def warmup_rate(lr: float, warmup_steps: int, step: int) -> float:
    """The rate of step ``step`` (1, 2, ...) under a linear warm-up from 0 to ``lr`` over
    the first ``warmup_steps`` steps, then constant: lr * min(1, step / warmup_steps).
    ``warmup_steps`` = 0 is the constant rate."""
    if warmup_steps == 0:
        return lr
    return lr * min(1.0, step / warmup_steps)


def decay_factor(decay_steps: int, steps: int, step: int) -> float:
    """The factor on the rate of step ``step`` (1, ..., ``steps``) under a linear decay
    over the last ``decay_steps`` steps: 1 before them, then (steps - step + 1) /
    decay_steps, down to 1 / decay_steps at the last step. 0 is no decay."""
    if decay_steps == 0:
        return 1.0
    return min(1.0, (steps - step + 1) / decay_steps)


# The autocast dtype of the forward pass of the training in progress (None: float32).
_AUTOCAST: contextvars.ContextVar[torch.dtype | None] = contextvars.ContextVar(
    "lvae_autocast", default=None
)


def resolve_precision(precision: str | None, device: torch.device) -> str:
    """The precision a run on ``device`` trains in, checked before any compute.

    None picks the device's default: ``tf32`` on CUDA, ``fp32`` elsewhere. ``tf32`` asked
    for on a device without TF32 (the CPU) is ``fp32`` (``cache`` says so); ``bf16`` on a
    CUDA device without bfloat16 is refused.
    """
    if precision is None:
        return "tf32" if device.type == "cuda" else "fp32"
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {PRECISIONS}, got {precision!r}")
    if precision == "tf32" and device.type != "cuda":
        return "fp32"
    if precision == "bf16" and device.type == "cuda" and not torch.cuda.is_bf16_supported():
        raise ValueError(
            f"precision 'bf16' was asked for, but {torch.cuda.get_device_name(device)} has no "
            "bfloat16; use tf32 or fp32"
        )
    return precision


def _tf32_switches() -> tuple[list[tuple[object, str]], object, object]:
    """The global flags that let float32 matmuls and convolutions use TF32, with their
    (on, off) values: the per-backend ``fp32_precision`` strings where torch has them
    (2.9+; mixing them with the legacy booleans is an error there), else the booleans."""
    backends = torch.backends
    if hasattr(backends.cuda.matmul, "fp32_precision"):
        owners = [backends.cuda.matmul, backends.cudnn.conv, backends.cudnn.rnn]
        return [(o, "fp32_precision") for o in owners], "tf32", "ieee"
    return [(backends.cuda.matmul, "allow_tf32"), (backends.cudnn, "allow_tf32")], True, False


@contextlib.contextmanager
def training_precision(precision: str, device: torch.device):
    """Train in ``precision`` (one of ``PRECISIONS``, as ``resolve_precision`` returns it)
    inside the block; the TF32 flags are put back as they were when it ends, error or not,
    so one run never changes the next.

    ``fp32`` and ``bf16`` turn TF32 off (bf16's float32 parts, evaluation included, stay
    exact float32); ``tf32`` turns it on (it changes nothing on the CPU). With ``bf16``,
    ``train_stacked`` runs each forward pass under ``torch.autocast(device.type,
    torch.bfloat16)``.
    """
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {PRECISIONS}, got {precision!r}")
    switches, on, off = _tf32_switches()
    saved = [getattr(owner, name) for owner, name in switches]
    token = _AUTOCAST.set(torch.bfloat16 if precision == "bf16" else None)
    try:
        for owner, name in switches:
            setattr(owner, name, on if precision == "tf32" else off)
        yield precision
    finally:
        _AUTOCAST.reset(token)
        for (owner, name), value in zip(switches, saved, strict=True):
            setattr(owner, name, value)


@dataclass
class CompileState:
    """What ``compiled_training`` yields: the failures of the compiler met in the block
    (each one made a ``train_stacked`` call go on uncompiled)."""

    failures: list[str] = field(default_factory=list)

    @property
    def compiled(self) -> bool:
        """Every forward pass of the block went through the compiler."""
        return not self.failures


# The compile state of the training in progress (None: no torch.compile).
_COMPILE: contextvars.ContextVar[CompileState | None] = contextvars.ContextVar(
    "lvae_compile", default=None
)


@contextlib.contextmanager
def compiled_training(enabled: bool = True):
    """Inside the block, ``train_stacked`` runs each step's forward pass and loss
    (``StackedVAE.elbo_terms``) through ``torch.compile``; the backward pass is compiled
    with it. Compiling takes a while at the first step (a minute or so on a CPU) and pays
    on long runs only. Compiled kernels may round differently, so a compiled run is close
    to, not bit-identical with, an uncompiled one (records say which: provenance
    ``compiled``). Where compiling the first forward pass fails (no C compiler, an
    unsupported device), one warning says why and that call trains on uncompiled from
    the same state, as if the option had not been given. Yields a ``CompileState`` (None
    when not ``enabled``)."""
    state = CompileState() if enabled else None
    token = _COMPILE.set(state)
    try:
        yield state
    finally:
        _COMPILE.reset(token)


class _Forward:
    """``model.elbo_terms``, through ``torch.compile`` when asked. The first compiled call
    is guarded: if it raises, the generator is put back as it was before the call, a
    warning is printed, and every call from then on is eager."""

    def __init__(self, model: StackedVAE, state: CompileState | None):
        self.eager, self.state = model.elbo_terms, state
        self.compiled = torch.compile(model.elbo_terms) if state is not None else None
        self.trusted = False  # a compiled call has succeeded

    def __call__(self, batch: torch.Tensor, generator: torch.Generator):
        if self.compiled is None:
            return self.eager(batch, generator)
        if self.trusted:
            return self.compiled(batch, generator)
        state = generator.get_state()
        try:
            terms = self.compiled(batch, generator)
        except Exception as exc:  # any failure of the compiler: train on without it
            generator.set_state(state)
            self.compiled = None
            lines = str(exc).strip().splitlines()
            reason = f"{type(exc).__name__}: {lines[0][:200] if lines else ''}"
            self.state.failures.append(reason)
            print(
                f"[lvae] warning: torch.compile failed ({reason}); training goes on uncompiled",
                file=sys.stderr,
            )
            return self.eager(batch, generator)
        self.trusted = True
        return terms


def forward_autocast(device: torch.device):
    """The context of one training forward pass: bfloat16 autocast inside
    ``training_precision("bf16", ...)``, else nothing (float32)."""
    dtype = _AUTOCAST.get()
    if dtype is None:
        return contextlib.nullcontext()
    return torch.autocast(device.type, dtype=dtype)


def _float32_outputs(module, args, output):
    """A forward hook: the network's output back in float32 (from autocast's bfloat16), so
    the sample z, the likelihood, the KL and the loss are computed in float32."""
    return output.float() if torch.is_tensor(output) and output.is_floating_point() else output


@contextlib.contextmanager
def _float32_network_outputs(model: StackedVAE, active: bool):
    """While active, the encoder's and decoder's outputs are cast back to float32."""
    nets = (model.encoder, model.decoder) if active else ()
    hooks = [net.register_forward_hook(_float32_outputs) for net in nets]
    try:
        yield
    finally:
        for hook in hooks:
            hook.remove()


class _FiniteWatch:
    """The NaN/inf guard without a host sync per step.

    Each step records, on the device, the first step at which each term of each model
    stopped being finite (0: finite so far). ``read`` brings that back with whatever else
    is read at the same moment; ``check`` raises DivergenceError from it. The trainer reads
    it at every log step, before every checkpoint and at the end, so a diverged run stops
    within ``log_every`` steps and never writes a diverged state.
    """

    def __init__(self, names: Sequence[str], n_models: int, device: torch.device):
        self.names = tuple(names)
        self.first = torch.zeros(len(self.names), n_models, dtype=torch.long, device=device)

    def update(self, step: int, terms: dict[str, torch.Tensor]) -> None:
        # A sum over a model's examples is finite exactly when each of them is (short of
        # a float32 overflow, itself a divergence): one small reduction per term.
        sums = torch.stack([terms[n].detach().flatten(1).sum(1) for n in self.names])
        self.first = torch.where(sums.isfinite() | (self.first != 0), self.first, step)

    def check(self, first: list[float], since: int, step: int, labels: Sequence[str]) -> None:
        """``first``: the read-back of ``self.first``, flat. Raise if any is set."""
        m = len(labels)
        hits = [(int(s), i // m, i % m) for i, s in enumerate(first) if s]
        if hits:
            at, term, model = min(hits)
            raise DivergenceError(
                f"step {at}: term '{self.names[term]}' is not finite for model {model} "
                f"({labels[model]}); found by the check of steps {since}-{step}; no result "
                "was stored"
            )


def _read_back(tensors: dict[str, torch.Tensor]) -> dict[str, list[float]]:
    """Copy several device tensors to the host in one transfer (one wait for the device):
    {name: flat list of floats}. Doubles hold float32 values and step counts exactly."""
    flat = torch.cat([t.detach().reshape(-1).to(torch.float64) for t in tensors.values()])
    values, out, start = flat.tolist(), {}, 0
    for name, t in tensors.items():
        out[name] = values[start : start + t.numel()]
        start += t.numel()
    return out


class TrainingInterrupted(KeyboardInterrupt):
    """Ctrl-C stopped training after ``step`` of ``steps``; the message line is printed.

    A KeyboardInterrupt, so code that handles those still does; ``checkpoint`` is where
    the state was written (None without a checkpoint path)."""

    reported = True  # the command line prints nothing more

    def __init__(self, step: int, steps: int, checkpoint: Path | None):
        super().__init__(f"interrupted at step {step} of {steps}")
        self.step, self.steps, self.checkpoint = step, steps, checkpoint


class _DeferredInterrupt:
    """While active, a first SIGINT, SIGTERM or SIGHUP only sets ``pending`` (training stops
    cleanly at the end of the step, with a checkpoint); a second one acts at once, as the
    signal would have: SIGINT through its handler (as Ctrl-C usually does), SIGTERM and
    SIGHUP by their default, which ends the process.

    Installed only in the main thread (where Python delivers signals), for SIGINT only
    over a Python handler (a job started in the background, which ignores SIGINT, keeps
    ignoring it) and for SIGTERM and SIGHUP only over their default (an engine that
    installed its own, submitit's say, keeps it; ``nohup`` keeps SIGHUP ignored). So
    ``kill PID`` or a closed terminal stops a run as Ctrl-C stops one in a terminal."""

    def __init__(self):
        self.pending, self._previous = False, {}

    def __enter__(self):
        if threading.current_thread() is not threading.main_thread():
            return self
        for sig, takes_over in (
            (signal.SIGINT, callable),
            (signal.SIGTERM, lambda handler: handler == signal.SIG_DFL),
            # A closed terminal (SIGHUP) stops the run as `kill` does, with a checkpoint.
            (signal.SIGHUP, lambda handler: handler == signal.SIG_DFL),
        ):
            current = signal.getsignal(sig)
            if takes_over(current):
                self._previous[sig] = current
                signal.signal(sig, self._handle)
        return self

    def _handle(self, signum, frame):
        if self.pending:
            previous = self._previous[signum]
            if callable(previous):
                previous(signum, frame)
            else:  # the default: put it back and let the signal do what it does
                signal.signal(signum, previous)
                signal.raise_signal(signum)
        self.pending = True

    def __exit__(self, *exc):
        for sig, previous in self._previous.items():
            signal.signal(sig, previous)


def progress_postfix(losses) -> dict[str, str]:
    """The progress bar's note: the mean loss of the models still finite, and how many
    are not (only once a model has diverged, which ``on_divergence="continue"`` allows)."""
    losses = np.asarray(losses, dtype=float)
    finite = np.isfinite(losses)
    note = {"loss": f"{losses[finite].mean():.3f}" if finite.any() else "nan"}
    if not finite.all():
        note["diverged"] = f"{np.count_nonzero(~finite)} of {losses.size}"
    return note


def train_stacked(
    model: StackedVAE,
    sample_batch: Callable[[], torch.Tensor],
    *,
    steps: int,
    lr: float,
    log_every: int,
    generator: torch.Generator,
    warmup_steps: int = 0,
    decay_steps: int = 0,
    desc: str = "training",
    before_step: Callable[[int], None] | None = None,
    checkpoint: Path | None = None,
    checkpoint_every: int = 1000,
    checkpoint_seconds: float = 60.0,
    checkpoint_tag: str = "",
    trace_every: int | None = None,
    trace_dense_until: int = 0,
    monitor: Callable[[], torch.Tensor] | None = None,
    on_log: Callable[[int, dict[str, list[float]]], None] | None = None,
    labels: Sequence[str] | None = None,
    on_divergence: str = "stop",
) -> dict[str, list]:
    """Minimise the mean loss of every model in the stack, one Adam step per fresh batch.

    The summed loss gives each model its own gradient (models share no parameters), and
    Adam is elementwise, so the stack trains exactly like M separate runs.
    ``before_step(step)`` runs before each step (a sigma schedule sets sigma there).
    With ``warmup_steps``, the rate rises linearly from 0 to ``lr`` over those steps
    (``warmup_rate``), and with ``decay_steps`` it falls linearly towards 0 over the last
    of them (``decay_factor``); both are functions of the step, so a resumed run follows
    them exactly.
    With ``trace_every``, sigma is also traced at every step up to ``trace_dense_until``
    (the early phase, where it moves fastest).
    ``checkpoint_tag`` (the configuration hash) guards against resuming someone else's run.
    With ``checkpoint``, Ctrl-C stops at the end of a step, writes the checkpoint, prints
    ``interrupted at step N of M; ...`` and raises ``TrainingInterrupted``.
    ``on_log(step, values)`` runs at each log step with the values just logged, one per
    model: {term: [M floats]} for the history terms (and ``monitor``, when given); a live
    log (CSV, TensorBoard) hooks in there. ``labels`` name the models in messages
    (default: ``model.labels``, from its specs).

    A NaN or infinite loss term stops training with ``DivergenceError`` naming the step,
    model and term. With ``on_divergence="continue"`` (a study where divergence is an
    outcome, such as a learning-rate study) the diverged model is left as it is, its
    values non-finite from then on, and the others train on (they share no parameters);
    ``history["diverged_at"]`` then gives each model's first non-finite step (0: none).
    To keep the device busy, the check is read back only at log steps, before each
    checkpoint and at the end (steps run on in between), and (unless continuing) never
    lets a diverged state be written. Adam is fused where torch allows it (``adam``).

    Inside ``training_precision("bf16", device)`` each forward pass runs under bfloat16
    autocast (the networks' matmuls and convolutions); the loss and Adam stay float32.
    """
    labels = list(model.labels if labels is None else labels)
    if len(labels) != model.n_models:
        raise ValueError(f"labels must name the {model.n_models} models, got {len(labels)}")
    if steps < 1 or log_every < 1 or checkpoint_every < 1:
        raise ValueError(
            f"steps, log_every and checkpoint_every must be >= 1, got {steps}, {log_every}, "
            f"{checkpoint_every}"
        )
    if not checkpoint_seconds > 0:
        raise ValueError(f"checkpoint_seconds must be > 0, got {checkpoint_seconds}")
    if on_divergence not in ("stop", "continue"):
        raise ValueError(f"on_divergence must be 'stop' or 'continue', got {on_divergence!r}")
    if isinstance(warmup_steps, bool) or not isinstance(warmup_steps, int) or warmup_steps < 0:
        raise ValueError(f"warmup_steps must be an integer >= 0, got {warmup_steps!r}")
    if isinstance(decay_steps, bool) or not isinstance(decay_steps, int):
        raise ValueError(f"decay_steps must be an integer in [0, steps], got {decay_steps!r}")
    if not 0 <= decay_steps <= steps:
        raise ValueError(f"decay_steps must be an integer in [0, steps], got {decay_steps!r}")
    optimiser = adam(model.parameters(), lr)
    history: dict[str, list] = {
        "step": [],
        **{k: [] for k in HISTORY_TERMS},
        "trace_step": [],
        "sigma_trace": [],
        "monitor": [],
    }
    start = 1
    # A bad checkpoint stops here (lvae.checkpoints.BadCheckpoint), or is discarded and
    # the phase starts again when that was asked for.
    state = load_checkpoint(Path(checkpoint)) if checkpoint is not None else None
    if state is not None:
        if state.get("tag") != checkpoint_tag:
            raise ValueError(f"checkpoint {checkpoint} belongs to another configuration")
        model.load_state_dict(state["model"])
        optimiser.load_state_dict(state["optimiser"])
        generator.set_state(state["generator"])
        history, start = state["history"], state["step"] + 1
        print(f"[lvae] resuming {desc} at step {start} from {checkpoint}", file=sys.stderr)

    bar = tqdm(
        range(start, steps + 1),
        desc=desc,
        total=steps,
        initial=start - 1,
        file=sys.stderr,
        mininterval=2.0,
        leave=False,
    )

    def save(step: int) -> None:
        save_checkpoint(
            Path(checkpoint),
            {
                "tag": checkpoint_tag,
                "step": step,
                "model": model.state_dict(),
                "optimiser": optimiser.state_dict(),
                "generator": generator.get_state(),
                "history": history,
            },
        )

    n_models = model.n_models
    device = next(model.parameters()).device
    watch = _FiniteWatch(FINITE_TERMS, n_models, device)
    checked = start  # the first step the next read of the guard covers
    traced: list[tuple[int, torch.Tensor]] = []  # sigma traced since the last read

    def read(step: int, logged: dict[str, torch.Tensor]) -> dict[str, list[float]]:
        """Bring back the guard, the pending sigma trace and ``logged`` in one transfer;
        stop if the run diverged, else file the trace into the history."""
        nonlocal checked, traced
        tensors = {"finite": watch.first, **logged}
        if traced:
            tensors["trace"] = torch.stack([t for _, t in traced])
        values = _read_back(tensors)
        if on_divergence == "stop":
            watch.check(values["finite"], checked, step, labels)
        else:  # each model's first non-finite step over its terms (0: none)
            first = np.asarray(values["finite"]).reshape(-1, n_models)
            now = [int(min((s for s in column if s), default=0)) for column in first.T]
            before = history.get("diverged_at") or now  # kept across a resume
            history["diverged_at"] = [b or n for b, n in zip(before, now, strict=True)]
        checked = step + 1
        for j, (trace_step, _) in enumerate(traced):
            history["trace_step"].append(trace_step)
            history["sigma_trace"].append(values["trace"][j * n_models : (j + 1) * n_models])
        traced = []
        return values

    last_save, interval = time.monotonic(), checkpoint_seconds
    interrupt = _DeferredInterrupt() if checkpoint is not None else None
    bf16 = _AUTOCAST.get() is not None  # inside training_precision("bf16", ...)
    forward = _Forward(model, _COMPILE.get())  # compiled inside compiled_training()

    with interrupt or contextlib.nullcontext(), _float32_network_outputs(model, bf16):
        for step in bar:
            if before_step is not None:
                before_step(step)
            # The rate is set where it differs from lr (a warm-up's first steps, a
            # decay's last); elsewhere it is lr, as constructed and as saved.
            if step <= warmup_steps or step > steps - decay_steps:
                rate = warmup_rate(lr, warmup_steps, step) * decay_factor(decay_steps, steps, step)
                for group in optimiser.param_groups:
                    group["lr"] = rate
            batch = sample_batch()
            with forward_autocast(device):
                terms = forward(batch, generator)
            watch.update(step, terms)
            loss = terms["loss"].mean(dim=1).sum()
            optimiser.zero_grad(set_to_none=True)
            loss.backward()
            optimiser.step()
            if trace_every and (step % trace_every == 0 or step <= trace_dense_until):
                traced.append((step, terms["sigma"].detach().mean(dim=1)))
            logging = step % log_every == 0 or step == steps
            stopping = interrupt is not None and interrupt.pending
            saving = checkpoint is not None and (
                stopping
                or step % checkpoint_every == 0
                or step == steps
                or time.monotonic() - last_save >= interval
            )
            if logging:
                logged = {name: terms[name].detach().mean(dim=1) for name in HISTORY_TERMS}
                if monitor is not None:
                    logged["monitor"] = monitor()
                values = read(step, {**logged, "loss": terms["loss"].detach().mean(dim=1)})
                history["step"].append(step)
                for name in logged:
                    history[name].append(values[name])
                if on_log is not None:
                    on_log(step, {name: history[name][-1] for name in logged})
                bar.set_postfix(progress_postfix(values["loss"]))
            elif saving:
                read(step, {})  # a diverged state is never written
            if saving:
                began = time.monotonic()
                save(step)
                last_save = time.monotonic()
                # Writing may cost at most 1/WRITE_SHARE of the run: a checkpoint that
                # takes w seconds to write is written at most every WRITE_SHARE * w.
                interval = max(checkpoint_seconds, WRITE_SHARE * (last_save - began))
            if stopping:  # the state just written is that of a finished step: exact resume
                bar.close()
                print(
                    f"interrupted at step {step} of {steps} ({desc}); run the same command "
                    "again to resume",
                    file=sys.stderr,
                    flush=True,
                )
                raise TrainingInterrupted(step, steps, Path(checkpoint))
    bar.close()
    if on_divergence == "continue":  # resumed after the last step: nothing new was read
        history.setdefault("diverged_at", [0] * n_models)
    return history
