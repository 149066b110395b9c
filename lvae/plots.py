"""The book's figures: one epilogue that glues a figure, and the figures chapters share.

Every figure of the book ends the same way, with :func:`show`: it is glued under a name
(myst-nb), which the prose places with ``{glue:figure}``, and closed, so the notebook
shows it only where the text puts it. Figure builders here take plain arrays (or the
named panels of a record) and return the figure; they compute nothing the book claims.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np

from .analysis import images as image_stats
from .report import fmt  # noqa: F401  (one fmt for the book; chapters may import it here)

BOOK_STYLE = {"figure.dpi": 110, "font.size": 9}


def use_book_style() -> None:
    """The book's figure resolution and font size (every chapter calls it once)."""
    plt.rcParams.update(BOOK_STYLE)


def show(fig, name: str) -> None:
    """Glue ``fig`` under ``name`` (not displayed here: the prose places it) and close it."""
    from myst_nb import glue

    if not isinstance(name, str) or not name.isidentifier():
        raise ValueError(f"name must be a plain identifier, got {name!r}")
    glue(name, fig, display=False)
    plt.close(fig)


def glue_values(values) -> None:
    """Glue every ``{name: value}`` of ``values`` for the prose (not displayed in place)."""
    from myst_nb import glue

    for name, value in values.items():
        glue(name, value, display=False)


# ----------------------------------------------------------------- chapter 1: the sphere
def decoder_rings(
    means: Sequence, ratios: Sequence[float], theory_radius: Sequence[float], radius: float = 1.0
):
    """One panel per R/sigma: decoder means (orange) over the data circle (blue) and the
    theorem's optimal radius (dashed). ``means[i]`` is an (n, 2) array for ``ratios[i]``."""
    if not len(means) == len(ratios) == len(theory_radius) or not len(ratios):
        raise ValueError(
            f"means, ratios and theory_radius must have one equal, non-zero length, got "
            f"{len(means)}, {len(ratios)}, {len(theory_radius)}"
        )
    fig, axes = plt.subplots(
        1, len(ratios), figsize=(1.35 * len(ratios), 2.0), sharex=True, sharey=True
    )
    circle = np.linspace(0, 2 * np.pi, 200)
    lim = 1.3 * radius
    for ax, pts, q, r in zip(np.atleast_1d(axes), means, ratios, theory_radius, strict=True):
        pts = np.asarray(pts)
        ax.plot(
            radius * np.cos(circle), radius * np.sin(circle), color="tab:blue", lw=1, label="data"
        )
        ax.plot(
            r * np.cos(circle), r * np.sin(circle), color="k", lw=0.8, ls="--", label="theory $r^*$"
        )
        ax.scatter(pts[:, 0], pts[:, 1], s=3, color="tab:orange", label="decoder means")
        ax.set_title(f"$R/\\sigma$ = {q:g}")
        ax.set_aspect("equal")
        ax.set_xlim(-lim, lim)
        ax.set_ylim(-lim, lim)
        ax.set_xticks([])
        ax.set_yticks([])
    handles, labels = np.atleast_1d(axes)[0].get_legend_handles_labels()
    fig.legend(
        handles, labels, loc="lower center", ncol=3, fontsize=8, frameon=False, markerscale=3
    )
    fig.tight_layout(rect=(0, 0.1, 1, 1))
    return fig


# ------------------------------------------------------------ chapter 2: the 2-D problem
def toy_data(points, region, names: Sequence[str], noise: Sequence[float], curve):
    """Points of the toy problem coloured by noise region (``region[i]`` indexes ``names``),
    with the manifold ``curve(u)`` drawn over u in [-1, 1] (the chapter's Fig. 3)."""
    points, region = np.asarray(points), np.asarray(region)
    if len(names) != len(noise):
        raise ValueError(f"names and noise must match, got {len(names)} and {len(noise)}")
    fig, ax = plt.subplots(figsize=(6, 2.6))
    colors = ("tab:blue", "tab:green", "tab:red")
    for r, (name, std) in enumerate(zip(names, noise, strict=True)):
        sel = region == r
        ax.scatter(
            points[sel, 0],
            points[sel, 1],
            s=2,
            color=colors[r % len(colors)],
            label=f"{name} noise (std {std:g})",
        )
    grid = np.linspace(-1, 1, 400)
    ax.plot(grid, curve(grid), color="k", lw=0.8, label="manifold $c(u)$")
    ax.set_aspect("equal")
    ax.legend(fontsize=8, loc="center left", bbox_to_anchor=(1.02, 0.5), markerscale=4)
    fig.tight_layout()
    return fig


def panel_label(setting: str) -> str:
    """A setting's name as a panel title: ``F sigma=0.1`` becomes ``F, σ=0.1``."""
    return setting.replace("F sigma=", "F, σ=")


def panel_grid(panels: Mapping[str, Mapping], names: Sequence[str], title: str, per_row: int = 3):
    """Reconstruction over generation for each setting in ``names``, ``per_row`` a row.

    ``panels[name]`` holds (n, 2) point sets: ``data`` and ``recon`` (top: reconstructions,
    orange, over the data they came from, blue), ``gen_sample`` and ``gen_mean`` (bottom:
    samples of p(x|z), green, and their means, orange, for z from the prior).
    """
    missing = [n for n in names if n not in panels]
    if not names or missing:
        raise ValueError(f"names must be non-empty panels of {sorted(panels)}, missing {missing}")
    if not (isinstance(per_row, int) and per_row >= 1):
        raise ValueError(f"per_row must be an integer >= 1, got {per_row!r}")
    ncols = min(per_row, len(names))
    blocks = math.ceil(len(names) / ncols)
    fig, axes = plt.subplots(
        2 * blocks,
        ncols,
        figsize=(2.1 * ncols, 3.0 * blocks + 0.3),
        sharex=True,
        sharey=True,
        squeeze=False,
    )
    for ax in axes[:, len(names) - (blocks - 1) * ncols :][-2:].flat:
        ax.set_visible(False)  # empty slots of a last, shorter row
    for j, name in enumerate(names):
        panel = {k: np.asarray(v) for k, v in panels[name].items()}
        b, col = divmod(j, ncols)
        top, bottom = axes[2 * b, col], axes[2 * b + 1, col]
        top.set_visible(True)
        bottom.set_visible(True)
        top.scatter(panel["data"][:, 0], panel["data"][:, 1], s=1, color="tab:blue")
        top.scatter(panel["recon"][:, 0], panel["recon"][:, 1], s=1, color="tab:orange")
        bottom.scatter(panel["gen_sample"][:, 0], panel["gen_sample"][:, 1], s=1, color="tab:green")
        bottom.scatter(panel["gen_mean"][:, 0], panel["gen_mean"][:, 1], s=1, color="tab:orange")
        top.set_title(panel_label(name), fontsize=9)
        for ax in (top, bottom):
            ax.set_xlim(-1.4, 1.4)
            ax.set_ylim(-1.2, 1.2)
            ax.set_xticks([])
            ax.set_yticks([])
    for b in range(blocks):
        axes[2 * b, 0].set_ylabel("reconstruction")
        axes[2 * b + 1, 0].set_ylabel("generation")
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


# ------------------------------------------------------------ chapter 3: dynamics
def plot_seeds(ax, x, values, color, label) -> None:
    """One thin line per seed (the columns of ``values``) against ``x``, labelled once."""
    values = np.asarray(values)
    for k in range(values.shape[1]):
        ax.plot(x, values[:, k], lw=0.7, color=color, alpha=0.6, label=label if k == 0 else None)


def plot_mean_band(ax, x, values, color, label, band: bool = True) -> None:
    """The mean over seeds (the columns of ``values``) as a line and, with ``band``, the
    range the seeds span as a shaded band."""
    values = np.asarray(values)
    ax.plot(x, values.mean(axis=1), color=color, lw=1, label=label)
    if band:
        ax.fill_between(x, values.min(axis=1), values.max(axis=1), color=color, alpha=0.2, lw=0)


def mean_curve_panels(x, panels, *, figsize, band: bool = True, ylabel=None):
    """A row of axes, one per entry of ``panels`` = ``{title: {label: (values, color)}}``:
    the mean over seeds of each (n_steps, n_seeds) ``values`` against the steps ``x`` (with
    ``band``, also the range the seeds span), on a symmetric log scale (linear within ±1).
    With ``ylabel``, the panels share their y axis, labelled on the first."""
    sharey = ylabel is not None
    fig, axes = plt.subplots(1, len(panels), figsize=figsize, sharey=sharey, squeeze=False)
    for ax, (title, curves) in zip(axes[0], panels.items(), strict=True):
        for label, (values, color) in curves.items():
            plot_mean_band(ax, x, values, color, label, band=band)
        ax.set(title=title, xlabel="step")
        ax.set_yscale("symlog", linthresh=1.0)
    if ylabel:
        axes[0, 0].set_ylabel(ylabel)
    axes[0, 0].legend(fontsize=8)
    fig.tight_layout()
    return fig


def schedule_curves(steps, per_setting: Mapping[str, Mapping[str, np.ndarray]]):
    """One panel per setting: the seed-mean monitored ELBO under each learning-rate
    schedule, with the range of its seeds (``per_setting``: {setting: {schedule: values
    (steps, seeds)}})."""
    panels = {
        panel_label(setting): {
            sched: (values, f"C{k}") for k, (sched, values) in enumerate(curves.items())
        }
        for setting, curves in per_setting.items()
    }
    return mean_curve_panels(steps, panels, figsize=(2.4 * len(panels), 2.6))


def seed_lines(ax, lines, *, ylabel, log: bool = True, reference=None, xlabel="step") -> None:
    """On ``ax``, for each entry of ``lines`` = ``{label: (x, values, color)}``: one thin line
    per seed (the columns of a 2-D ``values``), or one bolder line for a 1-D ``values`` (a
    summary such as a mean). ``reference`` = (value, label) adds a dashed horizontal line."""
    for label, (x, values, color) in lines.items():
        values = np.asarray(values)
        if values.ndim == 1:
            ax.plot(x, values, color=color, lw=1.2, label=label)
        else:
            plot_seeds(ax, x, values, color, label)
    if reference is not None:
        ax.axhline(reference[0], color="k", lw=0.6, ls="--", label=reference[1])
    ax.set(xlabel=xlabel, ylabel=ylabel, yscale="log" if log else "linear")
    ax.legend(fontsize=8)


def seed_lines_figure(
    lines, *, ylabel, reference=None, figsize=(6, 2.8), log=True, log_steps=False, ylim=None
):
    """One axis of :func:`seed_lines` (values on a log scale unless ``log`` is false; steps
    on one when ``log_steps``), as a figure."""
    fig, ax = plt.subplots(figsize=figsize)
    seed_lines(ax, lines, ylabel=ylabel, reference=reference, log=log)
    if log_steps:
        ax.set_xscale("log")
    ax.set_ylim(ylim)
    fig.tight_layout()
    return fig


def note_figure(text: str):
    """A thin figure that only says ``text`` (a figure whose data is not available)."""
    fig = plt.figure(figsize=(6, 0.5))
    fig.text(0.5, 0.5, text, ha="center")
    return fig


def sigma_and_elbo_figure(sigma_lines, elbo_lines, *, law=None, elbo_ylim=None):
    """Two stacked axes sharing the steps: sigma per seed on a log scale (:func:`seed_lines`,
    with ``law`` = (x, values, label) as a dashed black line), and an ELBO per seed below."""
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(6.4, 5.2), sharex=True)
    if law is not None:
        top.plot(law[0], law[1], "k--", lw=1, label=law[2])
    seed_lines(top, sigma_lines, ylabel="σ", xlabel=None)
    seed_lines(bottom, elbo_lines, ylabel="monitored ELBO", log=False, xlabel="training step")
    bottom.set_ylim(elbo_ylim)
    fig.tight_layout()
    return fig


def escaped_fraction(thresholds):
    """One panel per dimension: the fraction of seeds that escaped collapse against R/sigma,
    with the two candidate thresholds, sqrt(D - 1) (dashed) and sqrt(D) (dotted), and the
    crossing of one half read off the runs (a cross). ``thresholds``: the
    ``analysis.sphere.TrainedThreshold`` of each grid."""
    fig, axes = plt.subplots(1, len(thresholds), figsize=(3.0 * len(thresholds), 2.4),
                             squeeze=False)  # fmt: skip
    for ax, t in zip(axes[0], thresholds, strict=True):
        ax.plot(t.ratios, t.fractions, "o-", ms=3, lw=1, label="escaped fraction")
        ax.axvline(t.paper, color="C3", ls="--", lw=0.8, label="√(D−1)")
        ax.axvline(t.ours, color="k", ls=":", lw=0.8, label="√D")
        if t.value is not None:
            ax.plot([t.value], [0.5], "x", color="C2", ms=7, label="crossing of ½")
        ax.set(title=f"D = {t.dim}", xlabel="R/σ", ylim=(-0.05, 1.05))
    axes[0, 0].set_ylabel("fraction of seeds")
    axes[0, 0].legend(fontsize=7, loc="upper left")
    fig.tight_layout()
    return fig


# ------------------------------------------------------- Table 1 under the protocol
def calibration_figure(scales, mean, sd, collapsed, *, target: float, tolerance: float,
                       found: float, analytic: float):  # fmt: skip
    """Trained F(sigma = 1) ELBO by data scale (mean and std over seeds), the collapsed
    model's value, the paper's target with its tolerance band, and the two scales: the
    one read off the trained runs (``found``) and the analytic, collapsed one."""
    fig, ax = plt.subplots(figsize=(5.2, 2.8))
    ax.errorbar(scales, mean, yerr=sd, fmt="o-", ms=3, lw=1, capsize=2, label="trained F(σ=1)")
    ax.plot(scales, collapsed, "k--", lw=0.8, label="collapsed model")
    ax.axhspan(target - tolerance, target + tolerance, color="C2", alpha=0.15, lw=0)
    ax.axhline(target, color="C2", lw=0.8, label=f"paper: {target:g} ± {tolerance:g}")
    ax.axvline(found, color="C3", lw=0.8, ls=":", label=f"scale read off: {found:.3f}")
    ax.axvline(analytic, color="0.5", lw=0.8, ls=":", label=f"analytic: {analytic:.3f}")
    ax.set(xlabel="data scale s", ylabel="ELBO (paper convention)")
    ax.legend(fontsize=7, loc="lower left")
    fig.tight_layout()
    return fig


def sigma_by_latent(traces: Mapping[int, tuple], *, dense_until: int):
    """LS-VAE's learned sigma per seed, one panel per latent dimension, log-log, with the
    densely traced early phase (up to ``dense_until`` steps) shaded. ``traces[d]`` is
    (steps, sigma) with sigma (steps, seeds)."""
    fig, axes = plt.subplots(1, len(traces), figsize=(2.3 * len(traces), 2.4), sharey=True,
                             squeeze=False)  # fmt: skip
    for ax, (d, (steps, sigma)) in zip(axes[0], traces.items(), strict=True):
        plot_seeds(ax, steps, sigma, "C0", "seeds")
        ax.axvspan(1, dense_until, color="0.85", lw=0)
        ax.set(xscale="log", yscale="log", title=f"latent {d}", xlabel="step")
    axes[0, 0].set_ylabel("LS-VAE's σ")
    fig.tight_layout()
    return fig


def effects_against_paper(per_claim: Mapping[str, Mapping[int, object]]):
    """Our effect with its interval at each latent dimension (dots and bars), and the
    paper's effect (a black diamond), one row per claim. ``per_claim``: {claim key:
    {latent: verdict}} with ``effect``, ``low``, ``high`` and ``paper`` on each verdict
    (``analysis.protocol.by_claim``)."""
    fig, ax = plt.subplots(figsize=(5.6, 0.55 * len(per_claim) + 0.9))
    latents = sorted({d for per_latent in per_claim.values() for d in per_latent})
    width = 0.5 / max(1, len(latents))
    for row, per_latent in enumerate(per_claim.values()):
        for k, d in enumerate(latents):
            v = per_latent.get(d)
            if v is None or v.effect is None or v.low is None:
                continue
            y = row + (k - (len(latents) - 1) / 2) * width
            ax.errorbar(v.effect, y, xerr=[[v.effect - v.low], [v.high - v.effect]], fmt="o",
                        ms=3, lw=1, capsize=2, color=f"C{k}",
                        label=f"ours, latent {d}" if row == 0 else None)  # fmt: skip
        known = [v for v in per_latent.values() if v is not None]
        paper = known[0].paper if known else None
        if paper is not None:
            ax.plot(paper, row, "kD", ms=4, label="paper" if row == 0 else None)
    ax.axvline(0, color="0.6", lw=0.6)
    ax.set_yticks(range(len(per_claim)), list(per_claim))
    ax.invert_yaxis()
    ax.set_xlabel("effect (nats per point, paper convention)")
    ax.legend(fontsize=7, loc="upper right")
    fig.tight_layout()
    return fig


# ------------------------------------------------------------------ chapter 4: images
def mosaic(rows, labels, title, cmap="gray", vmin=0.0, vmax=1.0):
    """One row of images per entry of ``rows`` (each (n, C, H, W)), labelled on the left;
    a one-channel image is drawn with ``cmap`` on [vmin, vmax], a three-channel one as RGB."""
    if len(rows) != len(labels):
        raise ValueError(f"labels must name each of the {len(rows)} rows, got {len(labels)}")
    n = rows[0].shape[0]  # sized to the book's column, so that labels print at their size
    fig, axes = plt.subplots(len(rows), 1, figsize=(0.7 * n + 0.8, 0.78 * len(rows) + 0.3))
    for ax, images, label in zip(np.atleast_1d(axes), rows, labels, strict=True):
        pad = np.full((*images.shape[1:3], 1), np.nan)
        strip = np.concatenate([np.concatenate([im, pad], axis=-1) for im in images], axis=-1)
        picture = strip[0] if strip.shape[0] == 1 else np.moveaxis(strip, 0, -1)
        ax.imshow(picture, cmap=cmap, vmin=vmin, vmax=vmax, interpolation="nearest")
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_ylabel(label, rotation=0, ha="right", va="center")
    fig.suptitle(title, fontsize=10)
    fig.tight_layout(h_pad=0.4)
    return fig


def reconstructions(name: str, record):
    """Held-out images (top) and their reconstructions by each setting (seed 0)."""
    recon = image_stats.panels(record, "recon")
    return mosaic(
        [image_stats.originals(record), *recon.values()],
        ["held-out", *recon],
        f"{name}: reconstructions (means of p(x|z), z ~ q(z|x))",
    )


def generations(name: str, record):
    """Per setting, decoder means (upper row) and samples of p(x|z) for the same z."""
    means, samples = (image_stats.panels(record, p) for p in ("gen_mean", "gen_sample"))
    rows = [row for s in means for row in (means[s], samples[s])]
    labels = [label for s in means for label in (f"{s} mean", f"{s} sample")]
    return mosaic(rows, labels, f"{name}: generation from the prior")


def sigma_maps(name: str, record, settings=image_stats.LEARNED):
    """Held-out images and the learned log sigma per pixel of ``settings``, on [-10, 0]."""
    log_sigma = image_stats.panels(record, "log_sigma")
    fig = mosaic(
        [image_stats.originals(record), *(log_sigma[s] for s in settings)],
        ["held-out", *(f"{s} log σ" for s in settings)],
        f"{name}: learned σ per pixel (dark = small; scale log σ from -10 to 0)",
    )
    for ax in fig.axes[1:]:
        ax.images[0].set_cmap("magma")
        ax.images[0].set_clim(-10, 0)
    return fig
