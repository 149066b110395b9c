"""Figures for the book: one epilogue that glues a figure, and the shared drawing helpers."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np


def show(fig, name: str) -> None:
    """Glue ``fig`` under ``name`` for the prose (not displayed in place) and close it."""
    from myst_nb import glue

    glue(name, fig, display=False)
    plt.close(fig)


def glue_values(values) -> None:
    """Glue every ``{name: value}`` of ``values`` for the prose (not displayed in place)."""
    from myst_nb import glue

    for name, value in values.items():
        glue(name, value, display=False)


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


def seed_lines_figure(lines, *, ylabel, reference=None, figsize=(6, 2.8)):
    """One axis of :func:`seed_lines` on a log scale, as a figure."""
    fig, ax = plt.subplots(figsize=figsize)
    seed_lines(ax, lines, ylabel=ylabel, reference=reference)
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
