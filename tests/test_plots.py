"""lvae.plots: the figure epilogue and the figures of chapters 1-2, on small arrays."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from lvae import plots  # noqa: E402


def panel(shift=0.0, n=20):
    pts = np.linspace(-1, 1, 2 * n).reshape(n, 2) + shift
    return {"data": pts, "recon": pts, "gen_sample": pts, "gen_mean": pts, "recon_sigma": 0 * pts}


def test_show_glues_under_the_name_and_closes(monkeypatch):
    glued = []
    monkeypatch.setattr("myst_nb.glue", lambda name, obj, display: glued.append((name, display)))
    fig = plt.figure()
    plots.show(fig, "fig_x")
    assert glued == [("fig_x", False)]
    assert not plt.fignum_exists(fig.number)
    with pytest.raises(ValueError, match="plain identifier"):
        plots.show(plt.figure(), "fig x")
    plt.close("all")


def test_panel_grid_lays_out_rows_and_hides_empty_slots():
    panels = {name: panel(i / 10) for i, name in enumerate("abcde")}
    fig = plots.panel_grid(panels, list("abcde"), "title", per_row=3)
    axes = fig.axes
    assert len(axes) == 2 * 2 * 3  # two blocks of (reconstruction, generation) rows
    visible = [ax for ax in axes if ax.get_visible()]
    assert len(visible) == 2 * 5  # the sixth slot of the last block stays empty
    assert [ax.get_title() for ax in visible if ax.get_title()] == list("abcde")
    assert fig._suptitle.get_text() == "title"
    plt.close(fig)


def test_panel_grid_titles_fixed_sigma_settings():
    fig = plots.panel_grid({"F sigma=0.1": panel()}, ["F sigma=0.1"], "t")
    assert fig.axes[0].get_title() == "F, σ=0.1"
    plt.close(fig)


def test_panel_grid_names_missing_panels():
    with pytest.raises(ValueError, match=r"missing \['LV'\]"):
        plots.panel_grid({"LS": panel()}, ["LS", "LV"], "t")
    with pytest.raises(ValueError, match="per_row"):
        plots.panel_grid({"LS": panel()}, ["LS"], "t", per_row=0)


def test_decoder_rings_one_panel_per_ratio():
    means = [np.zeros((5, 2)), np.ones((5, 2))]
    fig = plots.decoder_rings(means, [0.7, 4.0], [0.0, 0.9])
    assert [ax.get_title() for ax in fig.axes] == ["$R/\\sigma$ = 0.7", "$R/\\sigma$ = 4"]
    assert fig.axes[1].collections[0].get_offsets().shape == (5, 2)  # the decoder means
    plt.close(fig)
    with pytest.raises(ValueError, match="equal, non-zero length"):
        plots.decoder_rings(means, [0.7], [0.0])


def test_toy_data_colours_each_region():
    pts = np.array([[-0.5, 0.0], [0.0, 0.0], [0.5, 0.0], [0.6, 0.1]])
    fig = plots.toy_data(pts, np.array([0, 1, 2, 2]), ["a", "b", "c"], [0.1, 0.2, 0.3], np.sin)
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert labels[:3] == ["a noise (std 0.1)", "b noise (std 0.2)", "c noise (std 0.3)"]
    assert [len(c.get_offsets()) for c in fig.axes[0].collections] == [1, 1, 2]
    plt.close(fig)
    with pytest.raises(ValueError, match="names and noise"):
        plots.toy_data(pts, np.zeros(4), ["a"], [0.1, 0.2], np.sin)


def test_calibration_figure_marks_the_target_and_both_scales():
    fig = plots.calibration_figure(
        [2.0, 2.5], [-0.9, -1.4], [0.01, 0.02], [-0.95, -1.49],
        target=-1.14, tolerance=0.1, found=2.24, analytic=2.18,
    )  # fmt: skip
    (ax,) = fig.axes
    labels = ax.get_legend_handles_labels()[1]
    assert "scale read off: 2.240" in labels and "analytic: 2.180" in labels
    assert any(line.get_ydata()[0] == -1.14 for line in ax.get_lines())  # the target
    plt.close(fig)


def test_sigma_by_latent_one_log_log_panel_per_latent_and_a_line_per_seed():
    steps = np.arange(1, 101)
    traces = {d: (steps, np.ones((100, 3)) / np.sqrt(steps)[:, None]) for d in (1, 2, 4)}
    fig = plots.sigma_by_latent(traces, dense_until=30)
    assert [ax.get_title() for ax in fig.axes] == ["latent 1", "latent 2", "latent 4"]
    assert all(ax.get_xscale() == ax.get_yscale() == "log" for ax in fig.axes)
    assert all(len(ax.get_lines()) == 3 for ax in fig.axes)
    plt.close(fig)


def test_escaped_fraction_draws_both_candidate_thresholds_per_dimension():
    from types import SimpleNamespace

    grids = [
        SimpleNamespace(dim=d, ratios=[1.0, 2.0, 3.0], fractions=[0, 0.5, 1], value=v,
                        paper=(d - 1) ** 0.5, ours=d**0.5)
        for d, v in ((2, 1.5), (10, None))
    ]  # fmt: skip
    fig = plots.escaped_fraction(grids)
    assert [ax.get_title() for ax in fig.axes] == ["D = 2", "D = 10"]
    assert fig.axes[0].get_lines()[1].get_xdata()[0] == pytest.approx(1.0)  # sqrt(D - 1)
    assert len(fig.axes[0].get_lines()) == 4 and len(fig.axes[1].get_lines()) == 3
    plt.close(fig)


def test_effects_against_paper_one_row_per_claim_and_a_bar_per_latent():
    from types import SimpleNamespace as V

    per_claim = {
        "T1": {1: V(effect=0.2, low=0.1, high=0.3, paper=0.36),
               2: V(effect=-0.1, low=-0.2, high=0.0, paper=0.36)},
        "T3": {1: V(effect=0.05, low=-0.1, high=0.2, paper=0.93), 2: None},
    }  # fmt: skip
    fig = plots.effects_against_paper(per_claim)
    (ax,) = fig.axes
    assert [t.get_text() for t in ax.get_yticklabels()] == ["T1", "T3"]
    labels = ax.get_legend_handles_labels()[1]
    assert sorted(labels) == ["ours, latent 1", "ours, latent 2", "paper"]
    plt.close(fig)


def test_schedule_curves_draws_a_panel_per_setting_and_a_mean_line_per_schedule():
    steps = np.arange(1, 6) * 100
    seeds = np.stack([np.linspace(0, 1, 5), np.linspace(0, 2, 5)], axis=1)  # (steps, seeds)
    fig = plots.schedule_curves(
        steps, {"F sigma=0.1": {"a": seeds, "b": 2 * seeds}, "F*": {"a": seeds, "b": seeds}}
    )
    assert [ax.get_title() for ax in fig.axes] == ["F, σ=0.1", "F*"]
    lines = fig.axes[0].get_lines()
    assert [line.get_label() for line in lines] == ["a", "b"]
    np.testing.assert_allclose(lines[1].get_ydata(), 2 * seeds.mean(axis=1))
    plt.close(fig)
