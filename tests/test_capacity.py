"""The capacity run's declared values follow from the committed records by the rules its
protocol entry states (lvae.experiments.table1_capacity), and its rows are what it says."""

from collections import Counter

from lvae import experiments
from lvae.analysis import lr_study
from lvae.analysis.table1 import paper_elbo
from lvae.experiments import table1_capacity as cap
from lvae.experiments.table1 import CALIBRATED_LATENTS, CALIBRATED_SCALE, calibrated_name


def test_the_latent_size_is_the_smallest_where_f001_is_in_the_papers_regime():
    """Within one order of magnitude of the paper's F(0.01), -0.96 (paper convention)."""

    def in_regime(d):
        table = experiments.record(calibrated_name(d), "book")
        mean = paper_elbo(table.models.where(setting="F sigma=0.01").column("elbo")).mean()
        return 10 * cap.PAPER_F001 <= mean <= cap.PAPER_F001 / 10

    assert cap.CAPACITY_LATENT == min(d for d in CALIBRATED_LATENTS if in_regime(d))


def test_the_rate_is_the_one_the_2x64_study_chose_for_most_rows_at_that_latent():
    fixed, learned = (
        experiments.record(f"table1-lr{kind}-latent{cap.CAPACITY_LATENT}", "book")
        for kind in ("", "-learned")
    )
    choices = Counter([*lr_study.chosen(fixed).values(), *lr_study.chosen(learned).values()])
    (most, _), (second, n_second) = choices.most_common(2)
    assert choices[most] > n_second  # no tie
    assert float(most) == cap.CAPACITY_RATE


def test_the_capacity_run_is_the_papers_network_on_the_calibrated_data():
    config = experiments.config("table1-capacity", "book")
    assert (config.hidden, config.n_blocks) == (200, 4)
    assert (config.latent_dim, config.data_scale) == (cap.CAPACITY_LATENT, CALIBRATED_SCALE)
    assert (config.lr, config.steps, len(config.seeds)) == (cap.CAPACITY_RATE, 60000, 10)
    assert (config.fixed_sigmas, config.replay) == ((0.1,), "none")
    # The 2x64 rows it is read beside were trained for the same steps at the same rate.
    study = experiments.config(f"table1-lr-latent{cap.CAPACITY_LATENT}", "book")
    assert study.steps == config.steps and cap.CAPACITY_RATE in study.rates
    pilot = experiments.config("table1-capacity-pilot", "book")
    assert (pilot.hidden, pilot.n_blocks, pilot.rates, pilot.seeds) == (200, 4, (3e-4,), (0, 1))
    # The smoke profile stays small, for CI.
    assert experiments.config("table1-capacity", "smoke").hidden < 200
