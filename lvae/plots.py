"""Figures for the book: one epilogue that glues a figure, and the shared drawing helpers."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np


def show(fig, name: str) -> None:
    """Glue ``fig`` under ``name`` for the prose (not displayed in place) and close it."""
    from myst_nb import glue

    glue(name, fig, display=False)
    plt.close(fig)


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
