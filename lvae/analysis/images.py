"""Image statistics for the paper's Section 4.3 (chapter 4): Table 2 in both conventions,
the convergence of the importance-weighted bound, the visual measures, the claims, the
sigma maps and the cost of the CelebA run.

Everything reads ``lvae.store.Record``s of the ``images-<dataset>`` experiments. A record
holds measurements only; what follows from them or from the configuration (the paper's
bits per pixel, the number of grey levels, the size of the IW subset, the MSE bound) is
computed here, so a fix to a conversion reaches every committed record.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
import torch
from scipy import stats

from .. import report
from ..image_quality import sharpness
from ..images import QUANTIZATION_LEVELS
from ..images_experiment import log_sigma_from_images, unpack
from ..likelihood import paper_bits_per_pixel as _paper_bits_per_pixel
from ..report import short_commit, sig
from .claims import welch
from .records import by_setting  # noqa: F401  (shared, lvae.analysis.records)

ALPHA = 0.05  # level of the two-sided Welch tests behind the claims
PAPER_TABLE2 = {"mnist": {"F": 0.06, "LV": 4.89}, "celeba": {"F": 5.52, "LV": 57.51}}
LEARNED = ("LV", "LV-floor", "LV-deq")  # the per-pixel sigma settings compared in the chapter
PANELS = ("recon", "gen_mean", "gen_sample", "log_sigma_map")  # one image set per setting


# -- what the record implies ------------------------------------------------------------


def levels(record) -> int:
    """Grey levels L of the record's dataset (17 for the digits, 256 for 8-bit images)."""
    return QUANTIZATION_LEVELS[record.config["dataset"]]


def n_dims(record) -> int:
    """Pixels per image, D = C * H * W."""
    return math.prod(record.result["image_shape"])


def n_iw_used(record) -> int:
    """Held-out images under the IW bound: the first ``n_iw``, or all when fewer."""
    return min(record.config["n_iw"], record.result["n_eval"])


def paper_bits_per_pixel(elbo_raw, n_dims: int) -> np.ndarray:
    """The paper's Table 2 number from the raw-pixel ELBO (nats per image): its convention
    (no -D/2 log 2 pi, footnotes 5-6) in bits per pixel,
    (ELBO + D/2 log 2 pi) / (D log 2), ``lvae.likelihood.paper_bits_per_pixel``.

    Computed in float32, the precision the ELBO was measured in, so the values are those
    the records stored before they held measurements only."""
    elbo = torch.as_tensor(np.asarray(elbo_raw, dtype=np.float32))
    return _paper_bits_per_pixel(elbo, n_dims).numpy().astype(float)


def record_paper_bits_per_pixel(record) -> np.ndarray:
    """The paper's bits per pixel of every model of ``record``, in the record's order."""
    return paper_bits_per_pixel(record.models.column("elbo_raw"), n_dims(record))


def mse_bound(levels: int) -> float:
    """The best bits/dim an MSE-trained VAE can reach: log2 L + (1/2) log2 pi.

    A Gaussian with sigma^2 = 1/2 has density at most 1/sqrt(pi), so on dequantised data
    -log2 p(x~)/D + log2 L >= log2 L + (1/2) log2 pi."""
    if not isinstance(levels, int) or levels < 2:
        raise ValueError(f"levels must be an integer >= 2, got {levels!r}")
    return math.log2(levels) + 0.5 * math.log2(math.pi)


# -- models grouped by setting -----------------------------------------------------------


def per_setting(record, measure: str) -> dict[str, np.ndarray]:
    """{setting: array over seeds} of a per-model result column, or of
    ``"paper_bits_per_pixel"``, computed from ``elbo_raw``."""
    out = {}
    for s in record.config["settings"]:
        rows = record.models.where(setting=s)
        if measure == "paper_bits_per_pixel":
            out[s] = paper_bits_per_pixel(rows.column("elbo_raw"), n_dims(record))
        else:
            out[s] = rows.column(measure)
    return out


def iw_by_k(record) -> dict[int, dict[str, np.ndarray]]:
    """The IW bound in bits/dim at every recorded k: {k: {setting: array over seeds}}."""
    by_k = record.result["bits_per_dim_iw_by_k"]
    return {
        int(k): by_setting(record, v) for k, v in sorted(by_k.items(), key=lambda kv: int(kv[0]))
    }


def ranking(values: dict[str, np.ndarray]) -> list[str]:
    """Settings ordered by their mean over seeds, best (lowest bits/dim) first."""
    return sorted(values, key=lambda s: np.mean(values[s]))


# -- Table 2 ----------------------------------------------------------------------------

TABLE2 = {  # measure: column title
    "paper_bits_per_pixel": "paper's bits/px ↑",
    "bits_per_dim_elbo": "bits/dim, ELBO ↓",
    "bits_per_dim_iw": "bits/dim, IW bound ↓",
    "sigma_geomean": "σ (geom. mean)",
    "kl": "KL (nats/image)",
}


def measures(record) -> dict[str, dict[str, np.ndarray]]:
    """{measure: {setting: array over seeds}} for every measure of ``TABLE2``."""
    return {key: per_setting(record, key) for key in TABLE2}


def table2_rows(name: str, table: dict) -> list[list[str]]:
    """Table 2's rows for dataset ``name`` from ``measures``: per setting, mean ± sample sd
    over seeds of each measure (no sd for one seed), and the paper's value where it has one."""
    rows = []
    for setting in table["kl"]:
        cells = []
        for key in TABLE2:
            v = table[key][setting]
            spread = f" ±\u00a0{sig(v.std(ddof=1), 3)}" if len(v) > 1 else ""
            cells.append(f"{sig(v.mean(), 4)}{spread}")
        paper = PAPER_TABLE2.get(name, {}).get(setting)
        rows.append([setting, *cells, "" if paper is None else f"{paper}"])
    return rows


def mnist_vs_paper(table: dict | None) -> str:
    """The sentence comparing our MNIST paper's-convention numbers with the paper's."""
    if table is None:
        return "(No MNIST record in this run.)"
    bpp = {k: v.mean() for k, v in table["paper_bits_per_pixel"].items()}
    return (
        f"On MNIST the paper reports {PAPER_TABLE2['mnist']['F']} bits per pixel for F-VAE "
        f"and {PAPER_TABLE2['mnist']['LV']} for LV-VAE; we find {bpp['F']:.2f} and "
        f"{bpp['LV']:.2f}, and {bpp['LV-floor']:.2f} for LV-VAE with the floor."
    )


# -- convergence of the importance-weighted bound -----------------------------------------


class IWConvergence(NamedTuple):
    """Per (dataset, setting): the gain of the bound over the last step in k
    (``decade_gain``) and over the paired ELBO (``elbo_gap``), both in bits/dim; the
    (dataset, setting) pairs worse than F-VAE at the largest k (``worse_than_f``); and per
    dataset the settings ranked by the ELBO and by the bound at each k (``rankings``)."""

    decade_gain: dict
    elbo_gap: dict
    worse_than_f: list
    rankings: dict


def iw_convergence(records: dict) -> IWConvergence:
    """How far the IW bound has converged, from records {dataset: Record}."""
    decade_gain, elbo_gap, worse_than_f, rankings = {}, {}, [], {}
    for name, rec in records.items():
        by_k = iw_by_k(rec)
        ks = sorted(by_k)
        last = {s: v.mean() for s, v in by_k[ks[-1]].items()}
        subset_elbo = per_setting(rec, "bits_per_dim_elbo_iw_subset")
        for s in rec.config["settings"]:
            if len(ks) > 1:
                decade_gain[(name, s)] = by_k[ks[-2]][s].mean() - last[s]
            if last[s] > last["F"]:
                worse_than_f.append((name, s))
            elbo_gap[(name, s)] = subset_elbo[s].mean() - last[s]
        rankings[name] = {"ELBO": ranking(subset_elbo), **{k: ranking(by_k[k]) for k in ks}}
    return IWConvergence(decade_gain, elbo_gap, worse_than_f, rankings)


def iw_table(record) -> str:
    """The paired ELBO and IW bound at every k, mean bits/dim over seeds, as text."""
    by_k = iw_by_k(record)
    subset_elbo = per_setting(record, "bits_per_dim_elbo_iw_subset")
    lines = [f"{'setting':<10}{'ELBO':>10}" + "".join(f"{f'IW k={k}':>12}" for k in by_k)]
    for s in record.config["settings"]:
        cells = "".join(f"{v[s].mean():>12.4g}" for v in by_k.values())
        lines.append(f"{s:<10}{subset_elbo[s].mean():>10.4g}{cells}")
    return "\n".join(lines)


def largest(gains: dict, keys) -> str:
    """The largest of ``gains`` {(dataset, setting): bits/dim} over ``keys``, as text
    naming its setting and dataset; "not measured" when no key has a gain."""
    keys = [k for k in keys if k in gains]
    if not keys:
        return "not measured"
    top = max(keys, key=gains.get)
    return f"{gains[top]:.3g} bits/dim ({top[1]} on {top[0]})"


def degenerate_gains(iw: IWConvergence) -> str:
    """The last step's gain for each model worse than F-VAE, as text ("none" if none)."""
    return (
        "; ".join(
            f"{s} on {n}: {iw.decade_gain.get((n, s), float('nan')):.4g} bits/dim"
            for n, s in iw.worse_than_f
        )
        or "none"
    )


def iw_ranking_verdict(rankings: dict) -> str:
    """Whether the ranking of the settings is the same for the ELBO and every k, on every
    dataset (``rankings``: {dataset: {"ELBO" or k: settings best first}})."""
    changed = [n for n, r in rankings.items() if any(v != r["ELBO"] for v in r.values())]
    if not changed:
        return (
            "the ranking of the settings is the same for the ELBO and for every k, on every dataset"
        )
    return "the ranking of the settings changes with k on " + ", ".join(changed)


# -- figure panels and what they show ---------------------------------------------------


def originals(record) -> np.ndarray:
    """The held-out images the figures show, (n_show, C, H, W) in [0, 1]."""
    return unpack(record.result["figures"]["originals"])


def panels(record, panel: str) -> dict[str, np.ndarray]:
    """{setting: (n_show, C, H, W)} of a figure panel (seed 0 of each setting), in the
    configuration's order: ``recon``, ``gen_mean``, ``gen_sample``, or ``log_sigma``
    (log sigma of the reconstructions, decoded from ``log_sigma_map``)."""
    key = "log_sigma_map" if panel == "log_sigma" else panel
    if key not in PANELS:
        raise ValueError(f"panel must be one of {(*PANELS[:3], 'log_sigma')}, got {panel!r}")
    stored = record.result["figures"][key]
    decode = log_sigma_from_images if panel == "log_sigma" else (lambda x: x)
    return {s: decode(unpack(stored[s])) for s in record.config["settings"] if s in stored}


def visual_table(visual: dict):
    """The visual measures of every dataset and setting (``visual_measures``) as a table."""
    return report.table(
        [
            [name, s, f"{v['sharpness']:.2f}", f"{v['error']:.3f}", f"{v['sample_gap']:.3f}"]
            for name, rows in visual.items()
            for s, v in rows.items()
        ],
        ["data", "setting", "sharpness", "recon. error", "sample − mean"],
        caption="Sharpness (neighbouring-pixel differences of the reconstructions, relative to "
        "the originals'), mean absolute reconstruction error and the mean distance of samples to "
        "their means, on the images shown below.",
        name="image_measures",
        align_left=2,
    )


def visual_measures(record) -> dict[str, dict[str, float]]:
    """Per setting, on the images the figures show: ``sharpness`` (mean over images of the
    gradient size of the reconstruction over the original's: 1 as detailed, < 1 blurred),
    ``error`` (mean |reconstruction - original|) and ``sample_gap`` (mean |sample - mean|
    of p(x|z) for z from the prior)."""
    x = originals(record)
    recon, means, samples = (panels(record, p) for p in ("recon", "gen_mean", "gen_sample"))
    return {
        s: {
            "sharpness": sharpness(recon[s], x),
            "error": float(np.abs(recon[s] - x).mean()),
            "sample_gap": float(np.abs(samples[s] - means[s]).mean()),
        }
        for s in recon
    }


# -- the claims -------------------------------------------------------------------------


class Claim(NamedTuple):
    dataset: str
    text: str
    holds: bool | None  # None: untested (one seed)
    evidence: str


CLAIMS = {  # glue name: the claim whose datasets it lists
    "where_paper_ratio": "LV-VAE's ELBO (paper's bits/px) is far above F-VAE's",
    "where_lv_sharp": "LV reconstructs sharper and closer than F-VAE",
    "where_floor_sharp": "LV-floor reconstructs sharper and closer than F-VAE",
    "where_floor_samples": (
        "F-VAE's samples are noise around their means; LV-floor's are close to them"
    ),
    "where_lv_wins": "LV-VAE also wins on dequantised bits/dim (IW bound)",
    "where_deq_wins": "LV-VAE trained on dequantised pixels wins on bits/dim",
}
VERDICT = {True: "holds", False: "does not hold", None: "untested"}


def significant(a, b, better: int, alpha: float = ALPHA) -> tuple[bool | None, float]:
    """Whether ``a`` beats ``b`` in the direction ``better`` (+1: higher is better, -1:
    lower) by a two-sided Welch t-test at level ``alpha``: (verdict, p). The verdict is
    None, and p NaN, when either has a single value, where no test is possible."""
    if better not in (1, -1):
        raise ValueError(f"better must be +1 or -1, got {better!r}")
    if min(len(a), len(b)) < 2:
        return None, float("nan")
    d, p = welch(a, b)
    return bool(better * d > 0 and p < alpha), p


def image_claims(name: str, record, table: dict, visual: dict) -> list[Claim]:
    """The paper's claims about images, tested on one dataset: Table 2 by Welch tests over
    seeds (``table``: ``measures``), the visual claims on the figures' images (``visual``:
    ``visual_measures``); samples are "close to their means" when their gap is at least four
    times smaller than F-VAE's."""
    bpp, bpd, v = table["paper_bits_per_pixel"], table["bits_per_dim_iw"], visual
    holds, p = significant(bpp["LV"], bpp["F"], +1)
    claims = [
        Claim(
            name,
            CLAIMS["where_paper_ratio"],
            holds,
            f"LV {bpp['LV'].mean():.3g} vs F {bpp['F'].mean():.3g} (p = {p:.1e})",
        )
    ]
    for s in ("LV", "LV-floor"):
        claims.append(
            Claim(
                name,
                f"{s} reconstructs sharper and closer than F-VAE",
                v[s]["sharpness"] > v["F"]["sharpness"] and v[s]["error"] < v["F"]["error"],
                f"sharpness {s} {v[s]['sharpness']:.2f} vs F {v['F']['sharpness']:.2f}; "
                f"error {s} {v[s]['error']:.3f} vs F {v['F']['error']:.3f}",
            )
        )
    for s in ("LV", "LV-floor"):
        claims.append(
            Claim(
                name,
                f"F-VAE's samples are noise around their means; {s}'s are close to them",
                v["F"]["sample_gap"] > 4 * v[s]["sample_gap"],
                f"sample - mean: F {v['F']['sample_gap']:.3f}, {s} {v[s]['sample_gap']:.3f}",
            )
        )
    for s, key in (("LV", "where_lv_wins"), ("LV-deq", "where_deq_wins")):
        holds, p = significant(bpd[s], bpd["F"], -1)
        evidence = f"{s} {bpd[s].mean():.3g} vs F {bpd['F'].mean():.3g} bits/dim (p = {p:.1e})"
        claims.append(Claim(name, CLAIMS[key], holds, evidence))
    return claims


PAPER_MNIST_BPP = {"F": 0.06, "LV": 4.89}  # Table 2 of the paper, bits per pixel


def where(claims: list[Claim], text: str) -> str:
    """The datasets on which the claim ``text`` holds, as readable text."""
    if not any(c.text == text for c in claims):
        raise ValueError(f"no claim reads {text!r}")
    names = [c.dataset for c in claims if c.text == text and c.holds]
    return ", ".join(names) if names else "none of them"


# -- where sigma is large ---------------------------------------------------------------


def edge_strength(images) -> np.ndarray:
    """Size of the local image gradient at every pixel, |grad x| = hypot(dx, dy) by central
    differences (``np.gradient``) over the last two axes; same shape as ``images``."""
    images = np.asarray(images)  # in its own precision: the quantile of edges depends on it
    gy, gx = np.gradient(images, axis=(-2, -1))
    return np.hypot(gx, gy)


def sigma_map_stats(record, settings=LEARNED) -> dict[str, dict[str, float]]:
    """Per setting, on the figures' images: geometric mean of sigma on strong edges (the top
    quarter of ``edge_strength``) and elsewhere, the Spearman correlation of log sigma with
    edge strength, and, where the images have a black background (not Olivetti), the
    geometric mean of sigma there and on strokes (pixels above 0.5)."""
    x = originals(record)
    log_sigma = panels(record, "log_sigma")
    edges = edge_strength(x)
    strong = edges >= np.quantile(edges, 0.75)
    out = {}
    for s in settings:
        ls = log_sigma[s]
        row = {
            "edges": math.exp(ls[strong].mean()),
            "elsewhere": math.exp(ls[~strong].mean()),
            "rho": stats.spearmanr(ls.ravel(), edges.ravel())[0],
        }
        if record.config["dataset"] != "olivetti":
            row["background"] = math.exp(ls[x == 0].mean())
            row["strokes"] = math.exp(ls[x > 0.5].mean())
        out[s] = row
    return out


def sigma_edge_verdict(ratios) -> str:
    """Whether LV-VAE's sigma is larger on edges than elsewhere (ratio > 1) everywhere."""
    if len(ratios) == 0:
        raise ValueError("ratios must hold at least one dataset's sigma ratio")
    if all(r > 1 for r in ratios):
        return "LV-VAE keeps σ larger on edges in every dataset"
    return "σ is not larger on edges in every dataset"


# -- the measures compared --------------------------------------------------------------


COMPARED = {  # measure: row label, in the table that sets the two conventions side by side
    "paper_bits_per_pixel": "paper's bits/px",
    "bits_per_dim_elbo": "bits/dim (ELBO)",
    "bits_per_dim_iw": "bits/dim (IW)",
}


def compared_rows(name: str, record, table: dict, settings=LEARNED) -> list[list[str]]:
    """Per measure of ``COMPARED``, the mean over seeds of each of ``settings`` and, for the
    bits/dim measures, log2 L: the cost of a uniform guess."""
    uniform = f"{math.log2(levels(record)):.3g}"
    return [
        [name, label, *(sig(table[key][s].mean(), 4) for s in settings)]
        + ["" if key == "paper_bits_per_pixel" else uniform]
        for key, label in COMPARED.items()
    ]


def kl_with_and_without_floor(tables: dict) -> str:
    """LV-VAE's mean KL (nats per image) without and with the sigma floor, per dataset
    (``tables``: {dataset: ``measures``})."""
    return "; ".join(
        f"{n}: {t['kl']['LV'].mean():.3g} without, {t['kl']['LV-floor'].mean():.3g} with"
        for n, t in tables.items()
    )


def best_by_bpd(record) -> str:
    """The setting with the lowest mean IW bits/dim."""
    return ranking(per_setting(record, "bits_per_dim_iw"))[0]


def worse_than_uniform(records: dict, settings=LEARNED) -> list[str]:
    """ "dataset (setting)" for each model whose mean IW bits/dim exceeds log2 L, the cost of
    a uniform guess."""
    return [
        f"{n} ({s})"
        for n, rec in records.items()
        for s in settings
        if per_setting(rec, "bits_per_dim_iw")[s].mean() > math.log2(levels(rec))
    ]


# -- the CelebA run's cost --------------------------------------------------------------


def build_model(config, image_shape, seeds=(0,)):
    """The StackedVAE of an images configuration with the conv networks, one model per seed
    (all with a learned sigma per pixel: the cost does not depend on the observation)."""
    from ..conv import conv_networks
    from ..spec import ModelSpec
    from ..vae import StackedVAE

    specs = [ModelSpec("LV", "vector", seed=s, init_seed=s) for s in seeds]
    networks = conv_networks(image_shape, config.width, config.n_convs, config.n_blocks)
    return StackedVAE(specs, networks, config.latent_dim)


def training_cost(config, image_shape, counted_batch: int = 2) -> dict[str, float]:
    """Floating-point operations of a run, counted by PyTorch on the actual networks: one
    training step of one model on ``counted_batch`` images (forward and backward), scaled
    linearly to the batch size, times models and steps. Returns ``per_step`` (FLOP per
    model and step), ``total`` (FLOP), ``n_models`` and ``n_params`` (per model)."""
    from torch.utils.flop_counter import FlopCounterMode

    model = build_model(config, image_shape)
    dim = math.prod(image_shape)
    with FlopCounterMode(display=False) as counter:
        model.elbo_terms(torch.rand(1, counted_batch, dim))["loss"].sum().backward()
    per_step = counter.get_total_flops() * config.batch_size / counted_batch
    n_models = len(config.seeds) * len(config.settings)
    return {
        "per_step": per_step,
        "total": per_step * n_models * config.steps,
        "n_models": n_models,
        "n_params": sum(p.numel() for p in model.parameters()),
    }


def describe(name: str, record) -> str:
    """How a record was made and on what: provenance, data sizes, networks, IW subset."""
    cfg, prov, res = record.config, record.provenance, record.result
    return (
        f"{name}: profile {prov['profile']}; seeds {prov['seeds']}; {prov['steps']} steps of "
        f"{cfg['batch_size']} images; device {prov['device']};\n"
        f"  torch {prov['torch']}; commit {short_commit(prov['git_commit'])}; "
        f"{prov['wall_time_s'] / 60:.0f} min\n"
        f"  {res['n_train']} training and {res['n_eval']} held-out images of shape "
        f"{res['image_shape']};\n  networks: {cfg['n_convs']} convolutions of width "
        f"{cfg['width']}, {cfg['n_blocks']} residual blocks, latent {cfg['latent_dim']};\n"
        f"  importance-weighted bound with k = {cfg['iw_k']} on the first {n_iw_used(record)} "
        "held-out images"
    )
