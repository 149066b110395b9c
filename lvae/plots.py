"""Figures for the book: image mosaics of the image chapter, and the one epilogue that
glues a figure for the prose."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from .analysis import images as image_stats


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


def show(fig, name: str) -> None:
    """Glue ``fig`` under ``name`` for the prose (not displayed in place) and close it."""
    from myst_nb import glue

    glue(name, fig, display=False)
    plt.close(fig)
