"""Chapters 2-3: the 2-D toy problem (Table 1, Figs. 4, 6-10) and the KL-weight check.

``table1`` trains, for every seed, in two phases:

1. F-VAE at each fixed sigma, LS-VAE (learned scalar sigma, initialised at 1) and LV-VAE
   (sigma(z) output by the decoder), all in one stack;
2. F*-VAE, sigma fixed at the final value LS-VAE learned (geometric mean over seeds), and
   F-VAE whose sigma follows the trajectory LS-VAE (seed 0) learned (paper, App. A.2),
   both from fresh initialisations.
"""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import numpy as np
import torch

from .data import sample_toy2d
from .nets import mlp_networks
from .observation import SigmaSchedule
from .spec import ModelSpec, grid, record_rows
from .train import train_stacked
from .vae import StackedVAE

# ``config`` arguments are the configurations declared, torch-free, in
# lvae.experiments.table1 (Table1Config) and lvae.experiments.kl_weight (KLWeightConfig);
# they import this module when they run, so it imports nothing from them.
DATA_DIM = 2


def _rounded(values, digits: int = 5):
    """Nested lists of floats rounded to ``digits`` significant digits (small records);
    a non-finite value (a model that diverged in a study that lets it) becomes None."""
    if isinstance(values, list):
        return [_rounded(v, digits) for v in values]
    return float(f"{values:.{digits}g}") if math.isfinite(values) else None


def setting_name(kind: str, sigma: float | None = None) -> str:
    if kind == "fixed":
        return f"F sigma={sigma:g}"
    return {
        "scalar": "LS",
        "vector": "LV",
        "fstar": "F*",
        "schedule": "F schedule",  # every seed replays seed 0's trajectory
        "schedule_own": "F schedule own",  # each seed replays its own LS-VAE's
        "schedule_pooled": "F schedule pooled",  # the geometric mean over seeds
    }[kind]


@torch.no_grad()
def _evaluate(model: StackedVAE, config, gen, device, n_points: int | None = None) -> dict:
    """Mean exact ELBO terms of every model on the same ``n_points`` fresh points (default
    ``config.n_eval``)."""
    n_models = model.n_models
    total = config.n_eval if n_points is None else n_points

    def fresh_points():  # chunks of at most 2000 points, shared by every model
        for start in range(0, total, 2000):
            n = min(2000, total - start)
            yield sample_toy2d((n,), gen, device, config.data_scale).expand(n_models, n, DATA_DIM)

    means = model.mean_terms(fresh_points(), gen)
    out = {k: means[k].cpu().tolist() for k in ("elbo", "log_likelihood", "kl")}
    out["final_sigma"] = means["sigma"].cpu().tolist()
    return out


@torch.no_grad()
def _figure_points(model: StackedVAE, rows: list[int], config, gen, device) -> dict:
    """Reconstructions, their sigma, and generations (means and samples) for ``rows``."""
    x = sample_toy2d((config.n_figure,), gen, device, config.data_scale)
    recon, log_sigma = model.reconstruct(x.expand(model.n_models, -1, -1), gen)
    generated = model.generate(config.n_figure, gen)

    def keep(t):
        return np.round(t[rows].cpu().numpy(), 4).tolist()

    return {
        "data": np.round(x.cpu().numpy(), 4).tolist(),
        "recon": keep(recon),
        "recon_sigma": keep(torch.exp(log_sigma.mean(dim=-1))),
        "gen_mean": keep(generated["mean"]),
        "gen_sample": keep(generated["sample"]),
    }


TABLE1_ROW = ("setting", "kind", "sigma", "seed")  # a model's row in the record


def _setting(kind: str, sigma: float = 1.0) -> ModelSpec:
    observation = kind if kind in ("scalar", "vector") else "fixed"  # F* and the schedule
    return ModelSpec(setting_name(kind, sigma), observation, sigma, tags=(("kind", kind),))


def table1_specs(config, f_star: float | None = None) -> list[ModelSpec]:
    """The models of phase 1 (F at each fixed sigma, LS, LV), or with ``f_star`` those of
    phase 2 (F* at sigma ``f_star``, and the F schedule), every setting with every seed.
    Phase 2 starts from fresh initialisations: its setting indices follow phase 1's and
    its seeds are moved by ``replay_seed_offset``."""
    phase1 = [_setting("fixed", s) for s in config.fixed_sigmas]
    phase1 += [_setting("scalar"), _setting("vector")]
    if f_star is None:
        return grid(phase1, config.seeds)
    replays = {
        "seed0": ["schedule"],
        "own_and_pooled": ["schedule_own", "schedule_pooled"],
        "pooled": ["schedule_pooled"],
        "none": [],
    }[config.replay]
    return grid(
        [_setting("fstar", f_star), *(_setting(kind) for kind in replays)],
        config.seeds,
        first_index=len(phase1),
        init_offset=config.replay_seed_offset,
    )


def _train_phase(
    specs,
    config,
    device,
    checkpoint: Path,
    tag: str,
    data_seed: int,
    schedules=(),
    trace=False,
    lr: float | None = None,
    warmup_steps: int = 0,
    decay_steps: int = 0,
    on_divergence: str = "stop",
):
    """Train one stack of ``specs`` (``ModelSpec``). ``schedules``: (rows, steps, values)
    triples, each a sigma trajectory replayed on its rows (``SigmaSchedule``). Adam's rate
    is ``lr`` (default ``config.lr``) after a linear warm-up of ``warmup_steps``."""
    networks = mlp_networks(DATA_DIM, config.hidden, config.n_blocks)
    model = StackedVAE(specs, networks, config.latent_dim).to(device)
    gen = torch.Generator(device=device).manual_seed(data_seed)

    def batch():
        return sample_toy2d((len(specs), config.batch_size), gen, device, config.data_scale)

    before_step = None
    if schedules:
        # Piecewise constant: the sigma LS-VAE used at the latest traced step <= step.
        replays = [SigmaSchedule(model.observation, *schedule) for schedule in schedules]

        def before_step(step):
            for replay in replays:
                replay(step)

    # The ELBO on the same fresh-drawn points and the same latent noise at every log step:
    # a far less noisy curve than the training batches give (chapter 3 tests sigma's drops
    # against it). Its own generators leave the training stream untouched.
    monitor_points = sample_toy2d(
        (config.n_monitor,),
        torch.Generator(device=device).manual_seed(data_seed + 7),
        device,
        config.data_scale,
    ).expand(len(specs), config.n_monitor, DATA_DIM)

    def monitor():
        noise = torch.Generator(device=device).manual_seed(data_seed + 8)
        return model.mean_terms([monitor_points], noise)["elbo"]

    history = train_stacked(
        model,
        batch,
        steps=config.steps,
        lr=config.lr if lr is None else lr,
        warmup_steps=warmup_steps,
        decay_steps=decay_steps,
        log_every=config.log_every,
        generator=gen,
        desc=tag,
        before_step=before_step,
        checkpoint=checkpoint,
        checkpoint_tag=f"{checkpoint.parent.name}-{tag}",
        trace_every=config.trace_every if trace else None,
        trace_dense_until=config.dense_trace_steps if trace else 0,
        monitor=monitor if config.n_monitor else None,
        on_divergence=on_divergence,
    )
    return model, gen, history


def _run_table1(config, device: torch.device, checkpoints: Path) -> dict:
    seeds = list(config.seeds)
    specs1 = table1_specs(config)
    model1, gen1, hist1 = _train_phase(
        specs1,
        config,
        device,
        checkpoints / "phase1.pt",
        "table1 phase 1",
        config.data_seed,
        trace=True,
    )
    eval1 = _evaluate(model1, config, gen1, device)

    # LS-VAE's learned sigma: its final value (F*) and its trajectory (the replayed schedule).
    ls_rows = [j for j, s in enumerate(specs1) if s.observation == "scalar"]
    ls_final = [eval1["final_sigma"][j] for j in ls_rows]
    f_star = float(math.exp(np.mean(np.log(ls_final))))
    trace = np.asarray(hist1["sigma_trace"])  # (n_traced_steps, n_models)
    ls_trace = trace[:, ls_rows]  # columns in seed order, as every setting's rows
    specs2 = table1_specs(config, f_star)

    def rows(kind):
        return [j for j, s in enumerate(specs2) if s.get("kind") == kind]

    steps = hist1["trace_step"]
    if config.replay == "none":  # phase 2 is F* alone
        schedules = []
    elif config.replay == "seed0":
        schedules = [(rows("schedule"), steps, ls_trace[:, 0].tolist())]
    else:  # each seed's own (where asked) and the pooled trajectory
        pooled = np.exp(np.log(ls_trace).mean(axis=1))  # geometric mean over seeds
        own = [
            ([row], steps, ls_trace[:, i].tolist()) for i, row in enumerate(rows("schedule_own"))
        ]
        schedules = [*own, (rows("schedule_pooled"), steps, pooled.tolist())]
    model2, gen2, hist2 = _train_phase(
        specs2,
        config,
        device,
        checkpoints / "phase2.pt",
        "table1 phase 2",
        config.data_seed + 1,
        schedules=schedules,
    )
    eval2 = _evaluate(model2, config, gen2, device)

    specs = specs1 + specs2
    first_seed = [j for j, s in enumerate(specs1) if s.seed == seeds[0]]
    fig1 = _figure_points(model1, first_seed, config, gen1, device)
    first_seed2 = [j for j, s in enumerate(specs2) if s.seed == seeds[0]]
    fig2 = _figure_points(model2, first_seed2, config, gen2, device)
    # One named panel per setting: its seed-0 points and the data they reconstruct.
    panels = {}
    for fig, phase in ((fig1, specs1), (fig2, specs2)):
        names = [s.setting for s in phase if s.seed == seeds[0]]  # one per setting, in order
        for j, name in enumerate(names):
            panels[name] = {"data": fig["data"]}
            panels[name].update(
                {k: fig[k][j] for k in ("recon", "recon_sigma", "gen_mean", "gen_sample")}
            )
    return {
        "models": record_rows(specs, TABLE1_ROW),
        **{k: _rounded(eval1[k] + eval2[k], 7) for k in eval1},
        "f_star_sigma": f_star,
        "history": {
            "step": hist1["step"],
            **{
                k: _rounded([a + b for a, b in zip(hist1[k], hist2[k], strict=True)])
                for k in ("log_likelihood", "kl", "elbo", "sigma")
            },
            "monitor_elbo": _rounded(
                [a + b for a, b in zip(hist1["monitor"], hist2["monitor"], strict=True)]
            ),
        },
        "ls_sigma_trace": {"step": hist1["trace_step"], "sigma": _rounded(ls_trace.tolist())},
        "figures": {"panels": panels},
    }


# ------------------------------------------------------------ learning-rate study
LR_STUDY_ROW = ("setting", "sigma", "schedule", "rate", "warmup_steps", "seed")
SELECT_SEED_OFFSET, REPORT_SEED_OFFSET = 11, 12  # data seeds of the two held-out sets


def lr_study_specs(config) -> list[ModelSpec]:
    """F-VAE at every fixed sigma and at F* (unless its sigma is None), then the learned-
    sigma settings, every seed: the models of each schedule's stack (the same
    initialisations in every stack)."""
    sigmas = [(setting_name("fixed", s), s) for s in config.fixed_sigmas]
    if config.f_star_sigma is not None:
        sigmas.append((setting_name("fstar"), config.f_star_sigma))
    settings = [ModelSpec(name, "fixed", s) for name, s in sigmas]
    settings += [ModelSpec(setting_name(kind), kind, 1.0) for kind in config.learned]
    return grid(settings, config.seeds, first_index=config.init_index)


def _run_lr_study(config, schedules, device: torch.device, checkpoints: Path) -> dict:
    """``schedules``: (name, rate, warm-up steps, decay steps) of each stack to train."""
    specs = lr_study_specs(config)
    rows, evaluations, histories = [], [], []
    for i, (name, rate, warmup, decay) in enumerate(schedules):
        model, _, history = _train_phase(
            specs,
            config,
            device,
            checkpoints / f"schedule{i}.pt",
            f"table1-lr {name}",
            config.data_seed,  # the same batches for every schedule: paired runs
            lr=rate,
            warmup_steps=warmup,
            decay_steps=decay,
            on_divergence="continue",  # a rate that diverges is one of the study's outcomes
        )
        selected = _evaluate(
            model,
            config,
            torch.Generator(device=device).manual_seed(config.data_seed + SELECT_SEED_OFFSET),
            device,
            config.n_select,
        )
        reported = _evaluate(
            model,
            config,
            torch.Generator(device=device).manual_seed(config.data_seed + REPORT_SEED_OFFSET),
            device,
        )
        evaluations.append(
            {"elbo_select": selected["elbo"], **reported, "diverged_at": history["diverged_at"]}
        )
        histories.append(history)
        tags = (("schedule", name), ("rate", rate), ("warmup_steps", warmup))
        tags += (("decay_steps", decay),)
        rows += [dataclasses.replace(s, tags=s.tags + tags) for s in specs]

    def joined(key, values):  # per-model lists of every stack, in stack order
        return [x for v in values for x in v[key]]

    def joined_history(term):  # (log steps, models): each stack's columns side by side
        per_stack = [h[term] for h in histories]
        return [sum(step_values, []) for step_values in zip(*per_stack, strict=True)]

    return {
        # A decay's length is stored only by a study that has one (earlier records lack it).
        "models": record_rows(
            rows, LR_STUDY_ROW + (("decay_steps",) if any(d for *_, d in schedules) else ())
        ),
        **{
            k: _rounded(joined(k, evaluations), 7)
            for k in ("elbo", "elbo_select", "log_likelihood", "kl")
            + (("final_sigma",) if config.learned else ())
        },
        "diverged_at": joined("diverged_at", evaluations),  # first non-finite step, 0: none
        "history": {
            "step": histories[0]["step"],
            "elbo": _rounded(joined_history("elbo")),
            "monitor_elbo": _rounded(joined_history("monitor")),
            # A learned sigma's path under each schedule (the fixed ones are constant).
            **({"sigma": _rounded(joined_history("sigma"))} if config.learned else {}),
        },
    }


# ------------------------------------------------------------ data-scale calibration
CALIBRATION_ROW = ("scale", "seed")


def calibration_specs(config) -> list[ModelSpec]:
    """F-VAE at ``config.sigma`` for every data scale, with every seed."""
    settings = [
        ModelSpec(f"scale={s:g}", "fixed", config.sigma, tags=(("scale", s),))
        for s in config.scales
    ]
    return grid(settings, config.seeds)


def _run_calibration(config, device: torch.device, checkpoints: Path) -> dict:
    specs = calibration_specs(config)
    networks = mlp_networks(DATA_DIM, config.hidden, config.n_blocks)
    model = StackedVAE(specs, networks, config.latent_dim).to(device)
    gen = torch.Generator(device=device).manual_seed(config.data_seed)
    # Model j sees every point multiplied by its own scale: the same stream for all.
    scale = torch.tensor([s.get("scale") for s in specs], device=device).view(-1, 1, 1)

    def points(n):
        return scale * sample_toy2d((n,), gen, device).expand(len(specs), n, DATA_DIM)

    history = train_stacked(
        model,
        lambda: scale * sample_toy2d((len(specs), config.batch_size), gen, device),
        steps=config.steps,
        lr=config.lr,
        log_every=config.log_every,
        generator=gen,
        desc="table1-calibration",
        checkpoint=checkpoints / "train.pt",
        checkpoint_tag=checkpoints.name,
    )
    with torch.no_grad():
        chunks = (points(min(2000, config.n_eval - i)) for i in range(0, config.n_eval, 2000))
        means = model.mean_terms(chunks, gen)
    return {
        "models": record_rows(specs, CALIBRATION_ROW),
        **{k: _rounded(means[k].cpu().tolist(), 7) for k in ("elbo", "log_likelihood", "kl")},
        "history": {
            "step": history["step"],
            **{k: _rounded(history[k]) for k in ("elbo", "kl")},
        },
    }


# ------------------------------------------------------------------- KL weight check
KL_WEIGHT_ROW = ("kl_weight", "seed")


def kl_weight_specs(config) -> tuple[list[ModelSpec], list[ModelSpec]]:
    """The two arms, with identical data, noise and initialisations: (A) sigma with weight
    lambda on the KL term, (B) sigma * sqrt(lambda) with weight 1. The record's rows are
    arm A's."""
    weighted = grid(
        [ModelSpec(f"lambda={w}", sigma=config.sigma, kl_weight=w) for w in config.kl_weights],
        config.seeds,
    )
    rescaled = [
        dataclasses.replace(s, sigma=s.sigma * math.sqrt(s.kl_weight), kl_weight=1.0)
        for s in weighted
    ]
    return weighted, rescaled


def _run_kl_weight(config, device: torch.device, checkpoints: Path) -> dict:
    weighted, rescaled = kl_weight_specs(config)
    z_gen = torch.Generator(device=device).manual_seed(config.data_seed + 1)
    z = torch.randn(len(weighted), 500, config.latent_dim, generator=z_gen, device=device)
    networks = mlp_networks(DATA_DIM, config.hidden, config.n_blocks)
    out = {}
    for arm, specs in (("weighted", weighted), ("rescaled", rescaled)):
        model = StackedVAE(specs, networks, config.latent_dim).to(device)
        gen = torch.Generator(device=device).manual_seed(config.data_seed)
        history = train_stacked(
            model,
            lambda gen=gen: sample_toy2d((len(weighted), config.batch_size), gen, device=device),
            steps=config.steps,
            lr=config.lr,
            log_every=config.log_every,
            generator=gen,
            desc=f"kl-weight {arm}",
            checkpoint=checkpoints / f"{arm}.pt",
            checkpoint_tag=f"{checkpoints.name}-{arm}",
        )
        with torch.no_grad():
            means = model.decode(z)[0]
        out[arm] = {
            "history": {
                "step": history["step"],
                **{k: _rounded(history[k]) for k in ("log_likelihood", "kl")},
            },
            "decoder_means": means.cpu().numpy(),
        }
    gap = np.abs(out["weighted"]["decoder_means"] - out["rescaled"]["decoder_means"])
    spread = np.abs(out["weighted"]["decoder_means"]).max(axis=(1, 2))
    return {
        "models": record_rows(weighted, KL_WEIGHT_ROW),
        "step": out["weighted"]["history"]["step"],
        "max_decoder_gap": gap.max(axis=(1, 2)).tolist(),
        "decoder_scale": spread.tolist(),
        "kl_weighted": out["weighted"]["history"]["kl"],
        "kl_rescaled": out["rescaled"]["history"]["kl"],
    }
