"""The learning-rate study: the warm-up of train_stacked, the table1-lr experiment, and
its analysis (lvae.analysis.lr_study) on synthetic records whose answers are known."""

import dataclasses
import math

import numpy as np
import pytest
import torch

from lvae import experiments, store
from lvae.analysis import lr_latents, lr_study, stats
from lvae.analysis.table1 import paper_elbo
from lvae.data import sample_toy2d
from lvae.experiments.table1 import calibrated_name
from lvae.experiments.table1_lr import F_STAR, LATENT_LONGER, LATENT_STUDIES, LEARNED, schedules
from lvae.nets import mlp_networks
from lvae.spec import ModelSpec
from lvae.train import decay_factor, train_stacked, warmup_rate
from lvae.vae import StackedVAE

SHIFT = float(paper_elbo(0.0))  # records hold the exact ELBO; the analysis prints paper's
SEEDS = 10
SPREAD = np.linspace(-0.02, 0.02, SEEDS)


# ------------------------------------------------------------------------- the warm-up
def test_warmup_rate_rises_linearly_then_stays():
    assert [warmup_rate(1e-3, 4, t) for t in (1, 2, 4, 5, 100)] == pytest.approx(
        [2.5e-4, 5e-4, 1e-3, 1e-3, 1e-3]
    )
    assert warmup_rate(3e-3, 0, 1) == 3e-3


def test_decay_factor_is_one_then_falls_linearly_to_one_over_its_length():
    assert [decay_factor(4, 10, t) for t in (1, 6, 7, 8, 9, 10)] == pytest.approx(
        [1, 1, 1, 0.75, 0.5, 0.25]
    )
    assert decay_factor(0, 10, 10) == 1.0


def test_a_decay_over_the_last_two_steps_halves_the_last_update():
    # Over 4 steps with decay_steps=2 only step 4 is slowed (factor 1/2). Up to it both
    # runs are identical; Adam's update is proportional to the rate given its state, so
    # the last step moves every weight half as far as without the decay.
    def last_update(decay_steps):
        vae = _vae()
        gen = torch.Generator().manual_seed(0)
        before = {}

        def keep(step):
            if step == 4:
                before["p"] = [p.detach().clone() for p in vae.parameters()]

        train_stacked(
            vae, lambda: sample_toy2d((1, 32), gen), steps=4, lr=1e-2,
            decay_steps=decay_steps, log_every=1, generator=gen, before_step=keep,
        )  # fmt: skip
        return torch.cat(
            [(p - q).flatten() for p, q in zip(vae.parameters(), before["p"], strict=True)]
        )

    full = last_update(0)
    assert full.abs().max() > 1e-3  # the last step does move the weights
    # atol: the last bit of a float32 weight, which the subtraction shows
    torch.testing.assert_close(last_update(2), full / 2, rtol=1e-3, atol=1e-7)
    with pytest.raises(ValueError, match="decay_steps must be an integer in"):
        train_stacked(
            _vae(), lambda: None, steps=4, lr=1e-3, decay_steps=5, log_every=1,
            generator=torch.Generator(),
        )  # fmt: skip


def test_a_run_interrupted_during_the_decay_resumes_to_the_same_result(tmp_path):
    def run(checkpoint=None, stop_at=None):
        vae = _vae()
        gen = torch.Generator().manual_seed(1)

        def before(step):
            if step == stop_at:
                raise KeyboardInterrupt

        train_stacked(
            vae, lambda: sample_toy2d((1, 32), gen), steps=30, lr=1e-3, decay_steps=25,
            log_every=5, generator=gen, before_step=before, checkpoint=checkpoint,
            checkpoint_every=10, checkpoint_tag="t",
        )  # fmt: skip
        return vae

    reference = run()
    with pytest.raises(KeyboardInterrupt):
        run(tmp_path / "c.pt", stop_at=25)  # dies after the step-20 checkpoint, mid-decay
    resumed = run(tmp_path / "c.pt")
    for p, q in zip(resumed.parameters(), reference.parameters(), strict=True):
        torch.testing.assert_close(p, q, rtol=0, atol=0)


def _vae():
    spec = ModelSpec("F", "fixed", 0.1, seed=0, init_seed=3)
    return StackedVAE([spec], mlp_networks(2, 16, 1), latent_dim=1)


def test_the_first_warmup_step_moves_each_weight_by_the_reduced_rate():
    # Adam's first step moves every parameter with a non-zero gradient by lr (its update
    # is m / sqrt(v) = +-1 then, up to eps): under a warm-up of 8 steps, by lr / 8.
    vae = _vae()
    before = [p.detach().clone() for p in vae.parameters()]
    gen = torch.Generator().manual_seed(0)
    train_stacked(
        vae, lambda: sample_toy2d((1, 32), gen), steps=1, lr=1e-2, warmup_steps=8,
        log_every=1, generator=gen,
    )  # fmt: skip
    pairs = zip(vae.parameters(), before, strict=True)
    moved = torch.cat([(p - q).abs().flatten() for p, q in pairs])
    moved = moved[moved > 0]
    assert moved.numel() > 100
    torch.testing.assert_close(moved, torch.full_like(moved, 1e-2 / 8), rtol=1e-3, atol=0)


def test_a_run_interrupted_during_the_warmup_resumes_to_the_same_result(tmp_path):
    def run(checkpoint=None, stop_at=None):
        vae = _vae()
        gen = torch.Generator().manual_seed(1)

        def before(step):
            if step == stop_at:
                raise KeyboardInterrupt

        train_stacked(
            vae, lambda: sample_toy2d((1, 32), gen), steps=30, lr=1e-3, warmup_steps=20,
            log_every=5, generator=gen, before_step=before, checkpoint=checkpoint,
            checkpoint_every=10, checkpoint_tag="t",
        )  # fmt: skip
        return vae

    reference = run()
    with pytest.raises(KeyboardInterrupt):
        run(tmp_path / "c.pt", stop_at=15)  # dies after the step-10 checkpoint
    resumed = run(tmp_path / "c.pt")
    for p, q in zip(resumed.parameters(), reference.parameters(), strict=True):
        torch.testing.assert_close(p, q, rtol=0, atol=0)


@pytest.mark.parametrize("bad", [-1, 1.5, True])
def test_a_bad_warmup_is_rejected_before_training(bad):
    with pytest.raises(ValueError, match="warmup_steps must be an integer >= 0"):
        train_stacked(
            _vae(), lambda: None, steps=1, lr=1e-3, warmup_steps=bad, log_every=1,
            generator=torch.Generator(),
        )  # fmt: skip


# ----------------------------------------------------------------------- the experiment
@pytest.mark.parametrize(
    "overrides,pattern",
    [
        ({"rates": (), "warmup_steps": 0}, "the study has no schedule"),
        ({"rates": (1e-3, 0.0)}, "rates and decay_rates must be positive"),
        ({"decay_rates": (-1e-3,)}, "rates and decay_rates must be positive"),
        ({"warmup_steps": -1}, r"warmup_steps must be 0 \(no warm-up schedule\) or between"),
        ({"warmup_steps": 60}, r"or between 1 and steps - 1 \(59\), got 60"),
        ({"fixed_sigmas": (0.1, 0.1)}, "the sigmas must be distinct"),
        ({"f_star_sigma": 0.0}, r"f_star_sigma \(or None\) must be positive"),
        ({"n_select": 0}, "n_select must be >= 1"),
        ({"init_index": -1}, "init_index must be >= 0, got -1"),
        ({"fixed_sigmas": (), "f_star_sigma": None}, "the study has no setting"),
        ({"learned": ("scalar", "scalar")}, "learned must be distinct kinds of"),
        ({"learned": ("fixed",)}, "learned must be distinct kinds of"),
    ],
)
def test_bad_study_configurations_are_rejected(overrides, pattern):
    with pytest.raises(ValueError, match=pattern):
        experiments.config("table1-lr", "smoke", **overrides)


@pytest.mark.parametrize("latent_dim", [1, 2, 4])
def test_the_book_study_has_the_protocols_schedules_and_the_tables_f_star(latent_dim):
    """At each latent dimension the study trains that calibrated table's rows (same data,
    network, length and grid; F* at the sigma its LS-VAE learned), under the protocol's
    four schedules, and the learned study starts where the table's LS-VAE row does."""
    fixed, learned = (
        ("table1-lr", "table1-lr-learned")
        if latent_dim == 1
        else tuple(exp.name for exp in LATENT_STUDIES[latent_dim])
    )
    config = experiments.config(fixed, "book")
    assert [(r, w, d) for _, r, w, d in schedules(config)] == [
        (3e-4, 0, 0), (1e-3, 0, 0), (3e-3, 0, 0), (1e-3, 5000, 0)
    ]  # fmt: skip
    table = experiments.record(calibrated_name(latent_dim), "book")
    assert round(table.result["f_star_sigma"], 4) == F_STAR[latent_dim] == config.f_star_sigma
    for key in ("latent_dim", "data_scale", "steps", "hidden", "n_blocks", "batch_size"):
        assert config.__getattribute__(key) == table.config[key]
    assert tuple(table.config["fixed_sigmas"]) == config.fixed_sigmas
    learned_config = experiments.config(learned, "book")
    assert learned_config == dataclasses.replace(
        config, fixed_sigmas=(), f_star_sigma=None, learned=LEARNED, init_index=6
    )


def test_no_warmup_leaves_the_constant_schedules_only():
    config = experiments.config("table1-lr", "smoke", warmup_steps=0, rates=(3e-4, 1e-3))
    assert schedules(config) == [("0.0003", 3e-4, 0, 0), ("0.001", 1e-3, 0, 0)]
    decaying = experiments.config(
        "table1-lr", "smoke", warmup_steps=0, rates=(), decay_rates=(1e-3,)
    )
    assert schedules(decaying) == [("0.001 decay", 1e-3, 0, decaying.steps)]


def test_smoke_study_pairs_its_schedules_and_is_reproducible(tmp_path):
    first, again = (
        experiments.record("table1-lr", "smoke", results_dir=tmp_path / d, allow_training=True)
        for d in "ab"
    )
    assert first.result == again.result
    models = first.models
    config = first.config
    names = [n for n, *_ in schedules(experiments.config("table1-lr", "smoke"))]
    assert models.values("schedule") == names
    assert models.values("setting") == [
        *(f"F sigma={s:g}" for s in config["fixed_sigmas"]), "F*"
    ]  # fmt: skip
    n = len(names) * (len(config["fixed_sigmas"]) + 1) * len(config["seeds"])
    assert len(models) == n
    steps, curves = models.history("monitor_elbo")
    assert list(steps) == list(range(10, config["steps"] + 1, 10)) and curves.shape[1] == n
    # Selection and report points differ, so the two ELBOs differ, but not by much.
    select, report = models.column("elbo_select"), models.column("elbo")
    assert not np.allclose(select, report)
    # A higher constant rate moves further from the shared initialisation in 60 steps.
    low = models.where(schedule=names[0]).column("elbo")
    high = models.where(schedule=names[2]).column("elbo")
    assert high.mean() > low.mean()
    assert set(lr_study.chosen(first).values()) <= set(names)
    lr_study.study_table(first)  # renders


# ------------------------------------------------------------------------- the analysis
RATES = {"slow": 3e-4, "fast": 3e-3}  # a synthetic schedule's rate (other names: 1e-3)


def synthetic_study(
    select: dict,
    report: dict | None = None,
    rise: dict | None = None,
    lost: dict | None = None,
    length: int = 1000,
    sigma_fall: dict | None = None,
):
    """A table1-lr-shaped record: {(setting, schedule): mean} of the selection ELBO (paper
    convention); the reported ELBO is the same unless ``report`` says otherwise; each
    monitored curve is flat unless ``rise`` gives its rise over the run; ``lost`` gives
    how many of a (setting, schedule)'s seeds diverged (their values are None); ``length``
    is the configuration's steps (the curves are logged at ten points of any length).
    ``sigma_fall``: for a learned setting's (setting, schedule), the factor by which its
    sigma falls over each logged interval (1: flat); seed k's sigma is 0.1 exp(SPREAD[k])
    at the end."""
    report = report or select
    rise, lost = rise or {}, lost or {}
    models, elbo, elbo_select, curves, diverged_at = [], [], [], [], []
    sigma_curves, final_sigma = [], []
    steps = list(range(100, 1100, 100))
    for (setting, schedule), mean in select.items():
        for seed, d in enumerate(SPREAD):
            fall = (sigma_fall or {}).get((setting, schedule), 1.0)
            end = 0.1 * math.exp(d)
            sigma_curves.append([end * fall ** (len(steps) - 1 - i) for i in range(len(steps))])
            final_sigma.append(end)
            rate = RATES.get(schedule, 1e-3)
            models.append(
                {"setting": setting, "schedule": schedule, "rate": rate, "warmup_steps": 0}
                | {"seed": seed}
            )
            elbo_select.append(mean + d - SHIFT)
            final = report[setting, schedule] + d - SHIFT
            elbo.append(final)
            r = rise.get((setting, schedule), 0.0)
            curves.append([final - r * (1 - i / (len(steps) - 1)) for i in range(len(steps))])
            if seed < lost.get((setting, schedule), 0):  # diverged at step 500
                elbo[-1] = elbo_select[-1] = None
                pairs = zip(curves[-1], steps, strict=True)
                curves[-1] = [v if s < 500 else None for v, s in pairs]
            diverged_at.append(500 if elbo[-1] is None else 0)
    curves = [list(step_values) for step_values in zip(*curves, strict=True)]
    sigma_curves = [list(step_values) for step_values in zip(*sigma_curves, strict=True)]
    result = {
        "models": models,
        "elbo": elbo,
        "elbo_select": elbo_select,
        "diverged_at": diverged_at,
        "final_sigma": final_sigma,
        "history": {"step": steps, "monitor_elbo": curves, "sigma": sigma_curves},
    }
    prov = {"profile": "smoke", "seeds": list(range(SEEDS)), "steps": 1000, "device": "cpu"}
    config = {
        "latent_dim": 1, "data_scale": 2.4, "n_blocks": 2, "hidden": 64,
        "warmup_steps": 50, "n_select": 100, "n_eval": 100, "steps": length,
    }  # fmt: skip
    return store.Record({"config": config, "provenance": prov, "result": result})


def table_record(means: dict, sigma_fall: float = 1.0):
    """A table1-calibrated-shaped record with the given paper-convention means; LS-VAE's
    traced sigma falls by ``sigma_fall`` over each of its ten traced steps (1: flat, so
    T7 holds), seed k's ending at 0.1 exp(SPREAD[k])."""
    models, elbo = [], []
    for setting, mean in means.items():
        for seed, d in enumerate(SPREAD):
            models.append({"setting": setting, "seed": seed})
            elbo.append(mean + d - SHIFT)
    prov = {"profile": "smoke", "seeds": list(range(SEEDS)), "steps": 1000, "device": "cpu"}
    config = {"latent_dim": 1, "data_scale": 2.4}
    trace = [[0.1 * math.exp(d) * sigma_fall ** (9 - i) for d in SPREAD] for i in range(10)]
    result = {
        "models": models,
        "elbo": elbo,
        "ls_sigma_trace": {"step": list(range(100, 1100, 100)), "sigma": trace},
    }
    return store.Record({"config": config, "provenance": prov, "result": result})


def test_the_choice_reads_the_selection_points_not_the_reported_ones():
    select = {("F sigma=0.1", "a"): 0.5, ("F sigma=0.1", "b"): 0.7}
    select |= {("F*", "a"): 0.3, ("F*", "b"): 0.2}
    report = {**select, ("F sigma=0.1", "a"): 0.9}  # a would win on the reported points
    study = synthetic_study(select, report)
    assert lr_study.chosen(study) == {"F sigma=0.1": "b", "F*": "a"}
    assert lr_study.chosen_elbo(study)["F sigma=0.1"] == pytest.approx(0.7 + SPREAD)


def test_convergence_flags_a_curve_rising_more_than_the_seed_spread():
    select = {("F*", "a"): 0.3, ("F*", "b"): 0.3}
    study = synthetic_study(select, rise={("F*", "a"): 1.0})
    conv = lr_study.convergence(study)
    assert not conv["F*", "a"].converged and conv["F*", "b"].converged
    assert conv["F*", "a"].change == pytest.approx(1.0 * 2 / 9)  # the last fifth: 2 of 9 steps


def test_a_schedule_under_which_a_seed_diverged_is_counted_and_never_chosen():
    select = {("F*", "fast"): 0.9, ("F*", "slow"): 0.3}  # fast is higher where it survives
    study = synthetic_study(select, lost={("F*", "fast"): 2})
    assert lr_study.diverged(study, "F*", "fast") == 2
    assert lr_study.divergences(study) == [("F*", "fast", 2)]
    assert lr_study.seed_sd(study, "F*", "fast") == pytest.approx(SPREAD[2:].std(ddof=1))
    assert lr_study.chosen(study) == {"F*": "slow"}
    conv = lr_study.convergence(study)
    assert not conv["F*", "fast"].converged and conv["F*", "slow"].converged
    assert lr_study.monitored(study, "F*")[1]["fast"].shape == (10, SEEDS - 2)
    frame = lr_study.study_table(study).data
    fast = frame[frame["Adam rate"] == "fast"].iloc[0]
    assert fast["ELBO, reported"].endswith("(2 diverged)")
    assert fast["converged"] == "no, 2 diverged"
    (effect,) = lr_study.rate_effects(study, "fast")
    assert effect.gain == pytest.approx(0.3 - 0.9 - (SPREAD[2:].mean() - SPREAD.mean()))
    everywhere = synthetic_study({("F*", "a"): 0.3}, lost={("F*", "a"): 1})
    with pytest.raises(ValueError, match="F\\* diverged under every schedule"):
        lr_study.chosen(everywhere)


def test_monitored_gives_each_schedules_curves_in_the_papers_convention():
    study = synthetic_study({("F*", "a"): 0.3, ("F*", "b"): 0.5}, rise={("F*", "a"): 1.0})
    steps, curves = lr_study.monitored(study, "F*")
    assert list(steps) == list(range(100, 1100, 100)) and list(curves) == ["a", "b"]
    np.testing.assert_allclose(curves["b"][-1], 0.5 + SPREAD)
    np.testing.assert_allclose(curves["a"][0], 0.3 + SPREAD - 1.0)


def test_rate_effects_compare_the_choice_with_the_baseline():
    select = {("F*", "a"): 0.3, ("F*", "b"): 0.5}
    study = synthetic_study(select, rise={("F*", "a"): 1.0})
    (effect,) = lr_study.rate_effects(study, "a")
    assert effect.schedule == "b" and effect.gain == pytest.approx(0.2)
    assert effect.baseline_sd == pytest.approx(SPREAD.std(ddof=1))
    assert not effect.baseline_converged and effect.chosen_converged
    with pytest.raises(ValueError, match="no schedule 'c'; schedules: \\['a', 'b'\\]"):
        lr_study.rate_effects(study, "c")


PAPER_MEANS = {  # the paper's Table 1 where every claim holds (as test_analysis_protocol)
    "F sigma=1": -1.14, "F sigma=0.3": 0.0, "F sigma=0.1": 0.77, "F sigma=0.043": 0.33,
    "F sigma=0.01": -0.96, "LS": 1.26, "LV": 1.62, "F*": 0.34,
}  # fmt: skip


def test_rejudging_with_better_fixed_rows_can_overturn_a_claim():
    # At the tables' rate F(0.1) failed (0.2); the study's best rate restores it to 0.77,
    # and F* was right all along. T5 (0.1 is the best fixed sigma) turns from
    # contradicted to holds; T4 (F* below F(0.1)) from contradicted to holds.
    table = table_record({**PAPER_MEANS, "F sigma=0.1": 0.2})
    fixed = [s for s in PAPER_MEANS if s.startswith("F")]
    select = {(s, "slow"): PAPER_MEANS[s] - 0.5 for s in fixed}
    select |= {(s, "fast"): PAPER_MEANS[s] for s in fixed}
    study = synthetic_study(select)
    before = lr_study.judged_at_table_rate(table)
    after = lr_study.rejudged(table, study)
    assert [v.claim for v in after] == ["T1", "T2", "T3", "T4", "T5"]
    assert {v.claim: v.verdict for v in before}["T5"] == stats.CONTRADICTED
    assert all(v.verdict == stats.HOLDS for v in after)
    assert lr_study.changed_verdicts(before, after) == ["T4", "T5"]
    frame = lr_study.verdicts_side_by_side(
        before, after, {"before": "1e-3", "after": "chosen"}, caption="c"
    ).data
    assert list(frame.columns) == ["id", "1e-3", "chosen"]
    assert frame.iloc[4]["chosen"].startswith("holds: best F sigma=0.1")


def test_rejudging_needs_matching_records_and_every_fixed_row():
    table = table_record(PAPER_MEANS)
    study = synthetic_study({("F*", "a"): 0.3})
    with pytest.raises(ValueError, match="the study has no row for \\['F sigma=1'"):
        lr_study.rejudged(table, study)
    other = table_record(PAPER_MEANS)
    other.config["latent_dim"] = 2
    with pytest.raises(ValueError, match="differ in latent_dim: 2 vs 1"):
        lr_study.rejudged(other, study)


def test_a_longer_run_replaces_the_settings_it_holds_and_only_those():
    # F(0.1) was still rising under its chosen schedule; trained twice as long it settles
    # higher, and its chosen schedule changes. F* is read from the study as before.
    fixed = [s for s in PAPER_MEANS if s.startswith("F")]
    select = {(s, "slow"): PAPER_MEANS[s] - 0.5 for s in fixed}
    select |= {(s, "fast"): PAPER_MEANS[s] for s in fixed}
    select["F sigma=0.1", "fast"] = 0.2
    study = synthetic_study(select, rise={("F sigma=0.1", "slow"): 1.0})
    longer = synthetic_study(
        {("F sigma=0.1", "slow"): 0.6, ("F sigma=0.1", "fast"): 0.77}, length=2000
    )
    assert lr_study.chosen(study)["F sigma=0.1"] == "slow"
    assert lr_study.unconverged_at_choice(study) == ["F sigma=0.1"]
    assert lr_study.unconverged_at_choice(study, longer) == []
    kept = lr_study.at_chosen_length(study, longer)
    assert kept["F sigma=0.1"] is longer and kept["F*"] is study
    table = table_record({**PAPER_MEANS, "F sigma=0.1": 0.2})
    without, extended = (lr_study.rejudged(table, study, longer_record=r) for r in (None, longer))
    # T5 (0.1 the best fixed sigma) needs the longer row: in the study F(0.043) leads.
    assert {v.claim: v.verdict for v in without}["T5"] != stats.HOLDS
    assert all(v.verdict == stats.HOLDS for v in extended)


def test_an_extension_must_be_the_same_study_longer():
    study = synthetic_study({("F*", "a"): 0.3})
    not_longer = synthetic_study({("F*", "a"): 0.3}, length=1000)
    with pytest.raises(ValueError, match="not longer than the study: 1000 steps vs 1000"):
        lr_study.at_chosen_length(study, not_longer)
    stranger = synthetic_study({("F sigma=0.2", "a"): 0.3}, length=2000)
    with pytest.raises(ValueError, match=r"settings the study has not: \['F sigma=0.2'\]"):
        lr_study.at_chosen_length(study, stranger)
    other = synthetic_study({("F*", "a"): 0.3}, length=2000)
    other.config["hidden"] = 200
    with pytest.raises(ValueError, match="differ in hidden: 64 vs 200"):
        lr_study.unconverged_at_choice(study, other)


def test_the_best_of_the_lengths_is_kept_per_setting_as_a_schedule_is_chosen():
    # F(0.1) keeps rising under "slow": better at 2x, best at 8x (which trains "slow"
    # only). F* gains nothing from the 8x run, whose "slow" scores below the study's
    # "fast": it is read from the study. Held longest, F(0.1) passes F*: T4 turns.
    table = table_record(PAPER_MEANS)
    fixed = [s for s in PAPER_MEANS if s.startswith("F")]
    select = {(s, "fast"): PAPER_MEANS[s] for s in fixed} | {("F sigma=0.1", "fast"): 0.2}
    select |= {(s, "slow"): PAPER_MEANS[s] - 0.5 for s in fixed}
    select |= {("F sigma=0.1", "slow"): 0.25}
    study = synthetic_study(select, rise={("F sigma=0.1", "slow"): 1.0})
    longer = synthetic_study(
        {("F sigma=0.1", "slow"): 0.3}, rise={("F sigma=0.1", "slow"): 1.0}, length=2000
    )
    longest = synthetic_study({("F sigma=0.1", "slow"): 0.5, ("F*", "slow"): 0.3}, length=8000)
    kept = lr_study.at_best_length(study, longer, longest)
    assert kept["F sigma=0.1"] is longest and kept["F*"] is study
    assert kept["F sigma=1"] is study
    assert lr_study.selection_score(longest, "F*") == pytest.approx(0.3)
    assert lr_study.unconverged_at_choice(study, longer) == ["F sigma=0.1"]
    assert lr_study.unconverged_at_choice(study, longer, (longest,)) == []
    t4 = {v.claim: v for v in lr_study.rejudged(table, study, longer_record=longer)}["T4"]
    t4_longest = {
        v.claim: v
        for v in lr_study.rejudged(table, study, longer_record=longer, best_of=(longest,))
    }["T4"]
    assert t4.verdict == stats.CONTRADICTED and t4_longest.verdict == stats.HOLDS
    # A tie between lengths goes to the shorter.
    tied = synthetic_study({("F*", "fast"): PAPER_MEANS["F*"]}, length=8000)
    assert lr_study.at_best_length(study, tied)["F*"] is study


def test_the_rise_per_doubling_reads_the_chosen_schedules_mean_curve_at_each_doubling():
    # Logged at 100, 200, ..., 1000 and rising linearly by 0.9 under "slow" (chosen): the
    # doublings ending at 1000 start at 500, 250 (read at 200) and 125 (read at 100).
    study = synthetic_study(
        {("F*", "slow"): 0.5, ("F*", "fast"): 0.1}, rise={("F*", "slow"): 0.9, ("F*", "fast"): 5}
    )
    rises = lr_study.rise_per_doubling(study, "F*")
    assert [(a, b) for a, b, _ in rises] == [(100, 200), (200, 500), (500, 1000)]
    assert [r for _, _, r in rises] == pytest.approx([0.1, 0.3, 0.5])
    with pytest.raises(ValueError, match="4 doublings end before the first logged step"):
        lr_study.rise_per_doubling(study, "F*", doublings=4)


def test_late_fall_finds_the_peak_and_the_largest_fall_of_one_seed_after_it():
    study = synthetic_study({("F*", "a"): 0.5}, rise={("F*", "a"): 0.9})
    curves = study.result["history"]["monitor_elbo"]  # (steps, models), rising to the end
    assert lr_study.late_fall(study, "F*") == lr_study.LateFall(
        1000, pytest.approx(0.5), 0.0, None, None
    )
    for i in range(6, 10):  # every seed falls by 0.1 per log after step 600 ...
        curves[i] = [v - 0.2 * (i - 5) for v in curves[i]]
    curves[8][3] -= 0.5  # ... and seed 3 by 0.5 more at step 900
    late = lr_study.late_fall(study, "F*")
    assert (late.peak_step, late.seed, late.fall_step) == (600, 3, 900)
    assert late.fall == pytest.approx(0.2 - 0.1 + 0.5)  # fell 0.2, rose 0.1, minus 0.5


def test_t4_alone_tests_f_star_against_f01_of_one_record_outside_any_family():
    record = synthetic_study({("F sigma=0.1", "a"): 0.77, ("F*", "a"): 0.34})
    v = lr_study.t4_alone(record)
    assert v.claim == "T4" and v.verdict == stats.HOLDS
    assert v.effect == pytest.approx(0.34 - 0.77)
    assert v.p == pytest.approx(stats.mann_whitney(0.34 + SPREAD, 0.77 + SPREAD))
    assert ", p = " in v.evidence and "Holm" not in v.evidence
    with pytest.raises(ValueError, match=r"no row 'F\*'"):
        lr_study.t4_alone(synthetic_study({("F sigma=0.1", "a"): 0.77}))


def test_an_extension_trains_some_of_the_studys_schedules_and_a_rival_may_bring_new_ones():
    study = synthetic_study({("F*", "slow"): 0.3, ("F*", "fast"): 0.2})
    some = synthetic_study({("F*", "slow"): 0.4}, length=2000)
    assert lr_study.at_chosen_length(study, some)["F*"] is some
    foreign = synthetic_study({("F*", "b"): 0.4}, length=2000)
    with pytest.raises(ValueError, match=r"schedules the study has not: \[\('b', 0.001, 0\)\]"):
        lr_study.at_chosen_length(study, foreign)
    # Chosen among, a run under a new schedule (a decay, say) competes like any other.
    assert lr_study.at_best_length(study, some, foreign)["F*"] is some  # 0.4 first
    better = synthetic_study({("F*", "b"): 0.5}, length=2000)
    assert lr_study.at_best_length(study, some, better)["F*"] is better


def test_the_longest_run_trains_f01_and_f_star_under_the_rate_chosen_twice():
    from lvae.experiments.table1_lr import LONGEST_FACTOR, LONGEST_RATE
    from lvae.toy2d_experiment import lr_study_specs, table1_specs

    study = experiments.record("table1-lr", "book")
    longer = experiments.record("table1-lr-long", "book")
    for record in (study, longer):  # the rate F(0.1) chose at 1x and at 2x
        rate = record.models.where(schedule=lr_study.chosen(record)["F sigma=0.1"])
        assert rate.values("rate") == [LONGEST_RATE] and rate.values("warmup_steps") == [0]
    longest = experiments.config("table1-lr-longest", "book")
    assert longest.steps == LONGEST_FACTOR * study.config["steps"]
    assert schedules(longest) == [(f"{LONGEST_RATE:g}", LONGEST_RATE, 0, 0)]
    assert [s.setting for s in lr_study_specs(longest)][::10] == ["F sigma=0.1", "F*"]
    changed = {"steps", "fixed_sigmas", "rates", "warmup_steps", "init_index"}
    base = experiments.config("table1-lr", "book")
    assert {k: v for k, v in vars(longest).items() if k not in changed} == {
        k: v for k, v in vars(base).items() if k not in changed
    }
    # F(0.1) starts where its row of the latent-1 table started.
    table = experiments.config("table1-calibrated", "book")
    init = {(s.setting, s.seed): s.init_seed for s in table1_specs(table)}
    f01 = [s for s in lr_study_specs(longest) if s.setting == "F sigma=0.1"]
    assert len(f01) == 10 and all(init[s.setting, s.seed] == s.init_seed for s in f01)


def test_the_longest_decay_trains_t4s_rows_as_long_as_the_constant_rate_did():
    longest = experiments.config("table1-lr-longest", "book")
    decay = experiments.config("table1-lr-decay-longest", "book")
    assert schedules(decay) == [("0.0003 decay", 3e-4, 0, longest.steps)]
    changed = {"rates", "decay_rates"}
    assert {k: v for k, v in vars(decay).items() if k not in changed} == {
        k: v for k, v in vars(longest).items() if k not in changed
    }
    # The committed records of the three runs of T4's rows keep their hashes.
    for name in ("table1-lr-longest", "table1-lr-decay"):
        config = experiments.config(name, "book")
        assert experiments.record(name, "book").config == experiments.normalised(config)


# ------------------------------------------------------------ divergence as an outcome
def _two_models(poison_at: int | None, on_divergence: str):
    specs = [ModelSpec("F", "fixed", 0.1, seed=s, init_seed=s) for s in (0, 1)]
    vae = StackedVAE(specs, mlp_networks(2, 16, 1), latent_dim=1)
    gen = torch.Generator().manual_seed(0)
    step = [0]

    def batch():
        step[0] += 1
        x = sample_toy2d((2, 32), gen)
        if step[0] == poison_at:
            x[1, 0, 0] = float("inf")  # model 1 alone sees an infinite point
        return x

    history = train_stacked(
        vae, batch, steps=20, lr=1e-3, log_every=10, generator=gen, on_divergence=on_divergence
    )
    return vae, history


def test_a_diverged_model_can_be_left_behind_while_the_others_train_on():
    clean, clean_history = _two_models(None, "continue")
    poisoned, history = _two_models(3, "continue")
    assert clean_history["diverged_at"] == [0, 0] and history["diverged_at"] == [0, 3]
    for (name, p), q in zip(poisoned.named_parameters(), clean.parameters(), strict=True):
        torch.testing.assert_close(p[0], q[0], rtol=0, atol=0, msg=name)  # untouched
    assert not all(torch.isfinite(p[1]).all() for p in poisoned.parameters())
    assert not np.isfinite(history["elbo"][-1][1]) and np.isfinite(history["elbo"][-1][0])
    with pytest.raises(train_stacked.__globals__["DivergenceError"], match="step 3: term"):
        _two_models(3, "stop")
    with pytest.raises(ValueError, match="on_divergence must be 'stop' or 'continue'"):
        _two_models(None, "skip")


def test_the_progress_bar_averages_the_models_still_finite():
    from lvae.train import progress_postfix

    assert progress_postfix([1.0, 3.0]) == {"loss": "2.000"}
    assert progress_postfix([1.0, float("nan"), 3.0, float("inf")]) == {
        "loss": "2.000", "diverged": "2 of 4"
    }  # fmt: skip
    assert progress_postfix([float("nan")]) == {"loss": "nan", "diverged": "1 of 1"}


def test_the_studys_grid_models_start_from_the_tables_initial_weights():
    # Chapter 5 compares the study's 1e-3 rows with the table's: for the sigma grid they
    # differ only in their batches, since each model keeps its table row's init seed.
    from lvae.toy2d_experiment import lr_study_specs, table1_specs

    study = experiments.config("table1-lr", "book")
    table = experiments.config("table1-calibrated", "book")
    table_init = {(s.setting, s.seed): s.init_seed for s in table1_specs(table)}
    grid = [s for s in lr_study_specs(study) if s.setting != "F*"]
    assert grid and all(table_init[s.setting, s.seed] == s.init_seed for s in grid)


@pytest.mark.parametrize(
    "name", ["table1-lr", "table1-lr-longest", "table1-lr-decay", "table1-lr-decay-longest"]
)
def test_f_star_borrows_the_initial_weights_chapter_5_names(name):
    # F* has no row in the table's grid: in the study it starts where the table's LS-VAE
    # row did, in the runs of T4's two rows where the table's F(0.043) row did.
    from lvae.toy2d_experiment import lr_study_specs, table1_specs

    table = experiments.config("table1-calibrated", "book")
    init = {(s.setting, s.seed): s.init_seed for s in table1_specs(table)}
    lender = "LS" if name == "table1-lr" else "F sigma=0.043"
    f_star = [s for s in lr_study_specs(experiments.config(name, "book")) if s.setting == "F*"]
    assert len(f_star) == 10
    assert all(s.init_seed == init[lender, s.seed] for s in f_star)


def test_the_extension_trains_what_the_study_left_unconverged_from_the_same_weights():
    from lvae.experiments.table1_lr import LONG_FACTOR
    from lvae.toy2d_experiment import lr_study_specs, table1_specs

    study = experiments.record("table1-lr", "book")
    conv, pick = lr_study.convergence(study), lr_study.chosen(study)
    unconverged = [s for s, sched in pick.items() if not conv[s, sched].converged]
    longer = experiments.config("table1-lr-long", "book")
    assert unconverged == [f"F sigma={s:g}" for s in longer.fixed_sigmas]
    assert longer.f_star_sigma is None and longer.steps == LONG_FACTOR * study.config["steps"]
    changed = {"steps", "fixed_sigmas", "f_star_sigma", "init_index"}
    base = experiments.config("table1-lr", "book")
    assert {k: v for k, v in vars(longer).items() if k not in changed} == {
        k: v for k, v in vars(base).items() if k not in changed
    }
    # Each model starts where its row of the study and of the latent-1 table started.
    table = experiments.config("table1-calibrated", "book")
    for specs in (lr_study_specs(base), table1_specs(table)):
        init = {(s.setting, s.seed): s.init_seed for s in specs}
        longer_specs = lr_study_specs(longer)
        assert len(longer_specs) == 10
        assert all(init[s.setting, s.seed] == s.init_seed for s in longer_specs)


@pytest.mark.parametrize("latent_dim", sorted(LATENT_STUDIES))
def test_the_latent_extensions_train_what_their_study_left_unconverged_from_its_weights(
    latent_dim,
):
    """At latent 2 and 4 the extensions train exactly the rows whose chosen schedule
    missed the criterion in that latent's made studies (a made study with such rows and
    no extension registered fails here), twice as long, each model from the initial
    weights of its row of that latent's table; nothing else changes."""
    from lvae.experiments.table1_lr import LONG_FACTOR, PENDING
    from lvae.toy2d_experiment import lr_study_specs, table1_specs

    extensions = {e.name.replace("-long-latent", "-latent"): e for e in LATENT_LONGER[latent_dim]}
    table = experiments.config(calibrated_name(latent_dim), "book")
    init = {(s.setting, s.seed): (s.init_seed, s.observation) for s in table1_specs(table)}
    for study in [e.name for e in LATENT_STUDIES[latent_dim] if e.name not in PENDING]:
        unconverged = lr_study.unconverged_at_choice(experiments.record(study))
        if not unconverged:
            assert study not in extensions
            continue
        exp = extensions[study]
        longer, base = experiments.config(exp.name, "book"), experiments.config(study, "book")
        assert longer.steps == LONG_FACTOR * base.steps and longer.f_star_sigma is None
        kept = {"steps", "fixed_sigmas", "f_star_sigma", "learned", "init_index"}
        assert {k: v for k, v in vars(longer).items() if k not in kept} == {
            k: v for k, v in vars(base).items() if k not in kept
        }
        specs = lr_study_specs(longer)
        assert all(init[s.setting, s.seed] == (s.init_seed, s.observation) for s in specs)
        assert list(dict.fromkeys(s.setting for s in specs)) == unconverged


def test_each_further_step_trains_the_rows_still_unconverged_before_it_from_their_weights():
    """Each further step trains exactly the fixed-sigma rows still missing the criterion
    as kept once the extensions registered before it are read (off the records), for its
    factor times the study's steps, each from its table row's initial weights, under the
    decays it names and (if it says so) the warm-up; nothing else changes. A step whose
    predecessors are not all made is passed over (it was registered on their reading)."""
    from lvae.experiments.table1_lr import FURTHER, PENDING
    from lvae.toy2d_experiment import lr_study_specs, table1_specs

    for step, exp in FURTHER.items():
        d = step.latent_dim
        before = LATENT_LONGER[d][: LATENT_LONGER[d].index(exp)]
        if any(e.name in PENDING for e in before):
            continue
        fixed_study = LATENT_STUDIES[d][0]
        read = lr_latents.read_latent(
            experiments.record(calibrated_name(d)),
            experiments.record(fixed_study.name),
            extensions=[
                r
                for r in (experiments.record(e.name) for e in before)
                if not lr_study.learned_only(r)
            ],
        )
        assert [f"F sigma={s:g}" for s in step.sigmas] == read.unconverged_kept
        base = experiments.config(fixed_study.name, "book")
        further = experiments.config(exp.name, "book")
        assert further.steps == step.factor * base.steps and further.fixed_sigmas == step.sigmas
        decays = [f"{r:g} decay" for r in step.decay_rates]
        assert [name for name, *_ in schedules(further)] == decays + ["0.001 warm-up"] * bool(
            step.warm_up
        )
        changed = {"steps", "fixed_sigmas", "f_star_sigma", "init_index", "rates", "decay_rates"}
        changed |= set() if step.warm_up else {"warmup_steps"}
        assert {k: v for k, v in vars(further).items() if k not in changed} == {
            k: v for k, v in vars(base).items() if k not in changed
        }
        table = experiments.config(calibrated_name(d), "book")
        init = {(s.setting, s.seed): (s.init_seed, s.observation) for s in table1_specs(table)}
        specs = lr_study_specs(further)
        assert len(specs) == len(base.seeds) * len(step.sigmas)
        assert all(init[s.setting, s.seed] == (s.init_seed, s.observation) for s in specs)


def test_the_further_steps_in_words_as_chapter_5_states_them():
    from lvae.experiments.table1_lr import further_text

    assert further_text() == (
        "F(0.01) at latent 4 (table1-lr-further-latent4): 240,000 steps under 0.001 decay, "
        "0.0003 decay, 0.001 warm-up; F(0.01) at latent 4 (table1-lr-furthest-latent4): "
        "480,000 steps under 0.001 decay"
    )
    assert further_text("smoke").startswith("F(0.01) at latent 4 (table1-lr-further-latent4): 240 ")


# What book/protocol.md says each made extension at latent 2 and 4 left: {latent: (rows
# kept at the longer length, rows still missing the criterion as kept)}.
EXTENSIONS_AS_REPORTED = {
    2: (["F sigma=0.043", "LS", "LV"], ["LV"]),
    4: (
        ["F sigma=0.043", "F sigma=0.03", "F sigma=0.01", "LS", "LV"],
        ["F sigma=0.01", "LS", "LV"],
    ),
}
# Its notes on the latent-4 rows trained further: {setting: (steps, schedule)} as kept,
# and the verdicts with every row as kept.
FURTHER_AS_REPORTED = {
    "F sigma=0.01": (480000, "0.001 decay"),
    "LS": (480000, "0.001 decay"),
    "LV": (480000, "0.001 decay"),
}
LATENT4_VERDICTS_AS_REPORTED = {
    "T1": "contradicted", "T2": "holds", "T3": "holds", "T5": "contradicted"
}  # fmt: skip


def test_the_protocol_page_reports_the_made_latent_extensions_as_the_records_read():
    from lvae.experiments.table1_lr import made_latent_extensions, made_latent_studies

    extended = made_latent_extensions()
    assert set(extended) == set(EXTENSIONS_AS_REPORTED)  # a made one is reported there
    tables = {d: experiments.record(calibrated_name(d)) for d in extended}
    reads = lr_latents.read_made(tables, experiments.record, made_latent_studies(), extended)
    for d, (kept_longer, unconverged) in EXTENSIONS_AS_REPORTED.items():
        assert reads[d].extended == kept_longer and reads[d].unconverged_kept == unconverged
    read_4 = reads[4]
    for setting, kept in FURTHER_AS_REPORTED.items():
        assert (read_4.kept[setting].steps, read_4.kept[setting].schedule) == kept
    verdicts = {v.key: v.verdict for v in read_4.after}
    assert {k: verdicts[k] for k in LATENT4_VERDICTS_AS_REPORTED} == LATENT4_VERDICTS_AS_REPORTED
    # T2 turned contradicted with F(0.01) at 8x and held again with LS, LV trained alike
    assert lr_study.steps_moved(read_4.path)["T2"] == ["F(0.01) 8x", "LS, LV 8x"]
    assert read_4.moved_by_choice == ["T2", "T5"] and reads[2].moved_by_choice == []
    # F(0.01) met the criterion at 240,000 steps under the warm-up only (not kept there)
    conv = lr_study.convergence(experiments.record("table1-lr-further-latent4"))
    assert [sched for (_, sched), c in conv.items() if c.converged] == ["0.001 warm-up"]
    # and its note on LS-VAE's sigma in the latent-4 run trained longer
    assert read_4.sigma_longer.settles_under == ["0.003"]
    assert read_4.sigma_longer.diverged == {"0.003": 4}


def test_t7_moves_with_retraining_at_latent_2_and_4_as_the_book_reports():
    # LS-VAE's sigma settles in each calibrated table's run; trained again at 1e-3 on other
    # batches it settles at latent 1 and not at latent 2 or 4 (claims page: "retraining").
    from lvae.experiments.table1_lr import made_latent_extensions, made_latent_studies

    tables = {d: experiments.record(calibrated_name(d)) for d in (1, 2, 4)}
    reads = lr_latents.read_made(
        tables, experiments.record, made_latent_studies(), made_latent_extensions()
    )
    assert {d: r.sigma_rerun.moved for d, r in reads.items()} == {2: True, 4: True}
    assert all(r.sigma_rerun.table.stabilised for r in reads.values())
    assert all("T7" in r.moved_by_rerun for r in reads.values())
    latent1 = lr_study.sigma_rerun(tables[1], experiments.record("table1-lr-learned"))
    assert latent1.table.stabilised and latent1.rerun.stabilised and not latent1.moved


def test_an_extension_takes_adjacent_rows_of_the_grid_only():
    from lvae.experiments.table1_lr import learned_longer, longer_rows

    base = experiments.config("table1-lr-latent2", "book")
    assert longer_rows(base, (0.043, 0.03)).init_index == base.fixed_sigmas.index(0.043)
    with pytest.raises(ValueError, match="not adjacent in the grid"):
        longer_rows(base, (0.3, 0.043))
    assert learned_longer(base, ("vector",)).init_index == len(base.fixed_sigmas) + 1
    with pytest.raises(ValueError, match="not in the order of"):
        learned_longer(base, ("vector", "scalar"))


def test_the_learned_study_starts_ls_and_lv_from_their_table_rows_weights():
    from lvae.toy2d_experiment import lr_study_specs, table1_specs

    learned = experiments.config("table1-lr-learned", "book")
    base = experiments.config("table1-lr", "book")
    assert learned.fixed_sigmas == () and learned.f_star_sigma is None
    assert learned.learned == ("scalar", "vector") and learned.steps == base.steps
    table = experiments.config("table1-calibrated", "book")
    init = {(s.setting, s.seed): (s.init_seed, s.observation) for s in table1_specs(table)}
    specs = lr_study_specs(learned)
    assert [s.setting for s in specs[::10]] == ["LS", "LV"]
    assert all(init[s.setting, s.seed] == (s.init_seed, s.observation) for s in specs)


def test_the_learned_sigma_criterion_is_judged_under_each_schedule():
    # Under "fast" LS-VAE's sigma still halves at every logged step; under "slow" it is
    # flat. The seeds' final sigmas spread by exp(SPREAD): a std of log sigma of 0.0134.
    select = {("LS", "fast"): 1.2, ("LS", "slow"): 1.1, ("LV", "fast"): 1.5, ("LV", "slow"): 1.4}
    study = synthetic_study(select, sigma_fall={("LS", "fast"): 0.5})
    stable = lr_study.sigma_stability(study)
    assert set(stable) == {("LS", "fast"), ("LS", "slow"), ("LV", "fast"), ("LV", "slow")}
    fast, slow = stable["LS", "fast"], stable["LS", "slow"]
    assert fast.drift == pytest.approx(math.log(2)) and not fast.stabilised
    assert slow.drift == pytest.approx(0.0, abs=1e-12) and slow.stabilised
    assert slow.noise == pytest.approx(SPREAD.std(ddof=1))
    assert lr_study.settles_under(study) == ["slow"] and lr_study.settles_under(study, "LV") == [
        "fast", "slow"
    ]  # fmt: skip
    assert lr_study.sigma_settling_depends_on_rate(study)
    assert lr_study.calmest_schedule(study) == "slow"
    assert not lr_study.sigma_settling_depends_on_rate(study, "LV")
    frame = lr_study.sigma_table(study).data
    assert list(frame["settled"]) == ["no", "yes", "yes", "yes"]
    assert frame.iloc[0]["final σ [range]"].startswith("0.1000 [0.0980, 0.1020]")


def test_rejudging_takes_ls_and_lv_from_their_own_study():
    # In the table LV (1.62) is above LS (1.26): T1 holds. At its chosen schedule LS rises
    # to 2.0 and T1 (LV highest) no longer holds.
    table = table_record(PAPER_MEANS)
    fixed = [s for s in PAPER_MEANS if s.startswith("F")]
    study = synthetic_study({(s, "a"): PAPER_MEANS[s] for s in fixed})
    learned = synthetic_study(
        {("LS", "a"): 1.0, ("LS", "b"): 2.0, ("LV", "a"): 1.62, ("LV", "b"): 1.5}
    )
    before = {v.claim: v.verdict for v in lr_study.rejudged(table, study)}
    after = {v.claim: v.verdict for v in lr_study.rejudged(table, study, learned_record=learned)}
    assert before["T1"] == stats.HOLDS and after["T1"] != stats.HOLDS
    learned.config["data_scale"] = 1.0
    with pytest.raises(ValueError, match="differ in data_scale: 2.4 vs 1.0"):
        lr_study.rejudged(table, study, learned_record=learned)


def test_rejudging_chooses_ls_and_lv_among_their_longer_runs_too():
    # F* at 1.3 sits above the table's LS (1.26): T3 (LS above F*) fails. A longer run of
    # LS under a new schedule scores 2.0 on the selection points and is kept, so T3 holds
    # again; LV keeps its own study's row, the only one that holds it.
    means = dict(PAPER_MEANS, **{"F*": 1.3})
    table = table_record(means)
    fixed = [s for s in means if s.startswith("F")]
    study = synthetic_study({(s, "a"): means[s] for s in fixed})
    learned = synthetic_study({("LS", "a"): 1.26, ("LV", "a"): 1.62})
    longer = synthetic_study({("LS", "b"): 2.0}, length=2000)
    worse = synthetic_study({("LS", "b"): 1.0}, length=2000)

    def t3(**kwargs):
        return {
            v.claim: v for v in lr_study.rejudged(table, study, learned_record=learned, **kwargs)
        }["T3"]

    assert t3().verdict != stats.HOLDS
    assert t3(learned_best_of=(longer,)).verdict == stats.HOLDS
    assert t3(learned_best_of=(longer,)).effect == pytest.approx(2.0 - 1.3)
    assert t3(learned_best_of=(worse,)).effect == pytest.approx(t3().effect)  # not kept
    with pytest.raises(ValueError, match="learned_best_of extends learned_record"):
        lr_study.rejudged(table, study, learned_best_of=(longer,))
    shorter = synthetic_study({("LS", "b"): 2.0}, length=500)
    with pytest.raises(ValueError, match="not longer than the study"):
        lr_study.rejudged(table, study, learned_record=learned, learned_best_of=(shorter,))


def test_the_kept_row_names_its_length_schedule_mean_and_convergence():
    # "b" scores best on the selection points; it is reported at 0.7 and still rises by
    # 0.5 over the run, ten times the seeds' spread (SPREAD's std, about 0.013).
    study = synthetic_study(
        {("F*", "a"): 0.4, ("F*", "b"): 0.6}, report={("F*", "a"): 0.4, ("F*", "b"): 0.7},
        rise={("F*", "b"): 0.5}, length=3000,
    )  # fmt: skip
    row = lr_study.kept_row(study, "F*")
    assert (row.steps, row.schedule, row.converged) == (3000, "b", False)
    # The last fifth (steps 800 to 1000) holds 2 of the curve's 9 intervals of rise.
    assert row.mean_elbo == pytest.approx(0.7)
    assert row.criterion.change == pytest.approx(0.5 * 2 / 9)
    # The paired reading: every seed rose by the same 0.5 * 2 / 9 over that window.
    assert (row.trend.rising, row.trend.falling) == (10, 0) and row.trend.moving
    assert row.trend.changes == pytest.approx([0.5 * 2 / 9] * 10)
    flat = synthetic_study({("F*", "a"): 0.4, ("F*", "b"): 0.6})
    assert lr_study.kept_row(flat, "F*").converged
    assert lr_study.kept_row(flat, "F*").trend.p == 1.0
    assert (
        lr_study.moving_rows({"F*": study}) == ["F*"] and lr_study.moving_rows({"F*": flat}) == []
    )
    lost = synthetic_study({("F*", "a"): 0.4}, lost={("F*", "a"): 1})
    assert lr_study.seed_trend(lost, "F*", "a") is None


def test_the_criterion_and_the_kept_row_read_in_words_at_three_digits():
    unsettled = stats.FixedConvergence(0.061712, 0.0240931, False)
    assert lr_study.criterion_text(unsettled) == (
        "last-fifth change 0.0617 against a seed std of 0.0241 (not converged)"
    )
    settled = stats.FixedConvergence(-0.0080614, 0.00922, True)
    row = lr_study.KeptRow(480000, "0.0003 decay", 0.22546, settled)
    assert lr_study.kept_text("F*", row) == (
        "F*: 0.0003 decay at 480,000 steps, mean reported ELBO 0.225, converged"
    )
    assert lr_study.kept_text("F*", row, "its constant-rate row: 0.2") == (
        "F*: 0.0003 decay at 480,000 steps, mean reported ELBO 0.225 "
        "(its constant-rate row: 0.2), converged"
    )


def test_the_kept_rows_are_those_rejudging_reads_and_the_table_shows_their_training():
    fixed = [s for s in PAPER_MEANS if s.startswith("F")]
    study = synthetic_study({(s, "a"): PAPER_MEANS[s] for s in fixed})
    longer = synthetic_study({("F*", "b"): 2.0}, length=4000)
    learned = synthetic_study({("LS", "a"): 1.26, ("LV", "a"): 1.62})
    learned_longer = synthetic_study({("LS", "b"): 0.5}, length=2000)  # worse: not kept
    rows = lr_study.kept_rows(
        study, best_of=(longer,), learned_record=learned, learned_best_of=(learned_longer,)
    )
    assert rows["F*"] is longer and rows["LS"] is learned and rows["LV"] is learned
    assert all(rows[s] is study for s in fixed if s != "F*")
    frame = lr_study.kept_table(rows).data
    assert list(frame["setting"]) == [*fixed, "LS", "LV"]
    f_star = frame[frame["setting"] == "F*"].iloc[0]
    assert (f_star["steps"], f_star["schedule"], f_star["converged"]) == ("4,000", "b", "yes")
    assert f_star["seeds up / down, signed-rank p"] == "0 / 0, p = 1.0"  # flat curves
    assert f_star["reported ELBO"].startswith("2.00")
    with pytest.raises(ValueError, match="learned_best_of extends learned_record"):
        lr_study.kept_rows(study, learned_best_of=(learned_longer,))


def test_the_verdict_path_marks_a_claim_that_moved_at_any_step():
    from lvae.analysis.protocol import Verdict

    def judged(t1, t2):
        return [Verdict("T1", t1, "", effect=0.5), Verdict("T2", t2, "")]

    stages = {
        "table": judged("holds", "holds"),
        "step 1": judged("not shown", "holds"),
        "step 2": judged("holds", "holds"),  # back where it started: it still moved
    }
    assert lr_study.ever_moved(stages) == ["T1"]
    assert lr_study.steps_moved(stages) == {"T1": ["step 1", "step 2"], "T2": []}
    assert lr_study.changed_verdicts(stages["table"], stages["step 2"]) == []
    frame = lr_study.verdict_path(stages).data
    assert list(frame.columns) == ["id", "table", "step 1", "step 2", "moved at"]
    assert list(frame.iloc[0]) == ["T1", "holds (+0.500)", "not shown (+0.500)",
                                   "holds (+0.500)", "step 1, step 2"]  # fmt: skip
    assert list(frame.iloc[1]) == ["T2", "holds", "holds", "holds", "—"]


def test_a_move_at_a_rerun_step_is_told_apart_from_a_move_by_the_choice():
    from lvae.analysis.protocol import Verdict

    def judged(t1, t2):
        return [Verdict("T1", t1, ""), Verdict("T2", t2, "")]

    rerun, = lr_study.RERUN_STEPS[:1]  # fmt: skip
    stages = {
        "table": judged("holds", "holds"),
        rerun: judged("not shown", "holds"),  # T1 moves with the batches
        "rate": judged("not shown", "contradicted"),  # T2 with the rate
    }
    assert lr_study.moved_by_rerun(stages) == ["T1"]
    assert lr_study.moved_by_choice(stages) == ["T2"]
    stages["longer"] = judged("holds", "contradicted")  # and now T1 with the length
    assert lr_study.moved_by_rerun(stages) == ["T1"]
    assert lr_study.moved_by_choice(stages) == ["T1", "T2"]


def test_the_judgement_path_adds_each_run_to_the_choice_in_turn():
    # F* at 1.3 is above LS (1.26): T3 fails at the table, and a longer run of F* at 0.3
    # is not kept. A longer run of LS at 2.0 is, and T3 holds from that step on.
    means = dict(PAPER_MEANS, **{"F*": 1.3})
    table = table_record(means)
    fixed = [s for s in means if s.startswith("F")]
    study = synthetic_study({(s, "0.001"): means[s] for s in fixed})
    longer = synthetic_study({("F sigma=0.1", "0.001"): 0.77}, length=2000)
    learned = synthetic_study({("LS", "0.001"): 1.26, ("LV", "0.001"): 1.62})
    f_star_run = synthetic_study({("F*", "b"): 0.3}, length=4000)
    ls_run = synthetic_study({("LS", "b"): 2.0}, length=2000)
    path = lr_study.judgement_path(
        table, study, longer, learned, [("F* run", f_star_run), ("LS run", ls_run)]
    )
    assert list(path) == [
        "table's rate", "fixed rows at 10⁻³", "fixed rows' rate", "F(0.1) 2x",
        "LS, LV at 10⁻³", "LS, LV rate", "F* run", "LS run",
    ]  # fmt: skip
    t3 = [{v.key: v for v in verdicts}["T3"] for verdicts in path.values()]
    assert [v.verdict == stats.HOLDS for v in t3] == [False] * 7 + [True]
    assert t3[-1].effect == pytest.approx(2.0 - 1.3)
    assert lr_study.steps_moved(path)["T3"] == ["LS run"]
    assert "T3" in lr_study.moved_by_choice(path) and lr_study.moved_by_rerun(path) == []
    # The rows of the last step: LS from its run, F* still the study's (0.3 loses there).
    final = lr_study.final_kept_rows(
        study, longer, learned, [("F* run", f_star_run), ("LS run", ls_run)]
    )
    assert final["LS"] is ls_run and final["F*"] is study
    assert lr_study.judged_on(table, final) == path["LS run"]


def test_the_judgement_path_tells_the_rerun_at_the_same_rate_from_the_choice():
    # The table's F* (1.3) is above LS (1.26) and F(0.1) (0.77): T2 (F* is a fixed sigma),
    # T3 and T4 fail there. Retrained at 1e-3, F* scores 0.34 and all three hold: a move by
    # the draw alone, since F*'s chosen schedule is that same rate.
    means = dict(PAPER_MEANS, **{"F*": 1.3})
    table = table_record(means)
    fixed = [s for s in means if s.startswith("F")]
    select = {(s, "0.001"): PAPER_MEANS[s] for s in fixed}
    select |= {(s, "slow"): PAPER_MEANS[s] - 0.5 for s in fixed} | {("F sigma=0.3", "slow"): 0.5}
    study = synthetic_study(select)  # F(0.3) chooses the slow rate, the others 1e-3
    longer = synthetic_study({("F sigma=0.1", "0.001"): 0.77}, length=2000)
    learned = synthetic_study(
        {("LS", "0.001"): 1.26, ("LS", "slow"): 1.0, ("LV", "0.001"): 1.62, ("LV", "slow"): 1.0}
    )
    path = lr_study.judgement_path(table, study, longer, learned, [])
    assert lr_study.steps_moved(path)["T3"] == ["fixed rows at 10⁻³"]
    assert lr_study.moved_by_rerun(path) == ["T2", "T3", "T4"]
    assert lr_study.moved_by_choice(path) == []
    # T5 reads F(0.1)'s lead over the next best sigma: F(0.043) (0.33) at 1e-3, F(0.3) at
    # its slow rate (0.5) once chosen. The learned rows' rerun step reads only LS and LV
    # at 1e-3; every fixed row stays at its choice.
    t5 = {label: {v.key: v for v in verdicts}["T5"].effect for label, verdicts in path.items()}
    assert t5["fixed rows at 10⁻³"] == pytest.approx(0.77 - 0.33)
    assert t5["LS, LV at 10⁻³"] == pytest.approx(0.77 - 0.5) == t5["LS, LV rate"]
    with pytest.raises(ValueError, match="read_at names settings the rows lack: \\['LS'\\]"):
        lr_study.judged_on(
            table, lr_study.kept_rows(study), schedule=lr_study.TABLE_RATE, read_at=["LS"]
        )
    # LS retrained at 1e-3 scores 0.2 and T3 fails again (the draw's move); at its chosen
    # slower rate LS scores 1.26 and T3 holds again: that move is the rate's.
    learned = synthetic_study(
        {("LS", "0.001"): 0.2, ("LS", "slow"): 1.26, ("LV", "0.001"): 1.62, ("LV", "slow"): 1.0}
    )
    path = lr_study.judgement_path(table, study, longer, learned, [])
    assert lr_study.steps_moved(path)["T3"] == [
        "fixed rows at 10⁻³", "LS, LV at 10⁻³", "LS, LV rate"
    ]  # fmt: skip
    assert "T3" in lr_study.moved_by_choice(path) and "T3" in lr_study.moved_by_rerun(path)
    t3 = {v.key: v for v in path["LS, LV at 10⁻³"]}["T3"]
    assert t3.effect == pytest.approx(0.2 - 0.34)  # LS read at 1e-3, F* at its choice
    with pytest.raises(ValueError, match="read_at names the settings read at a schedule"):
        lr_study.judged_on(table, lr_study.kept_rows(study), read_at=["LS"])


def test_rows_trained_alike_are_read_from_their_runs_whatever_the_choice_kept():
    # Kept by the choice: F* from the study (1.3 on the selection points) and LS from its
    # study (1.26), so T3 (LS above F*) fails. Two runs of one length and schedule score
    # lower on the selection points, so the choice passes them over; read from them
    # alike, LS (1.0) is above F* (0.3) and T3 holds, by 0.7.
    means = dict(PAPER_MEANS, **{"F*": 1.3})
    table = table_record(means)
    fixed = [s for s in means if s.startswith("F")]
    study = synthetic_study({(s, "a"): means[s] for s in fixed})
    learned = synthetic_study({("LS", "a"): 1.26, ("LV", "a"): 1.62})
    f_star_run = synthetic_study({("F*", "b"): 0.3}, length=4000)
    ls_run = synthetic_study({("LS", "b"): 1.0}, length=4000)
    kept = lr_study.kept_rows(study, best_of=(f_star_run,), learned_record=learned,
                              learned_best_of=(ls_run,))  # fmt: skip
    assert kept["F*"] is study and kept["LS"] is learned
    alike = lr_study.trained_alike(kept, f_star_run, ls_run)
    assert alike["F*"] is f_star_run and alike["LS"] is ls_run and alike["LV"] is learned
    assert all(alike[s] is kept[s] for s in fixed if s != "F*")
    assert kept["F*"] is study  # the rows given are left as they were

    def t3(rows):
        return {v.key: v for v in lr_study.judged_on(table, rows)}["T3"]

    assert t3(kept).verdict != stats.HOLDS
    assert t3(alike).verdict == stats.HOLDS and t3(alike).effect == pytest.approx(1.0 - 0.3)
    # judged_on reads the rows rejudged reads: the same verdicts from the same rows.
    same = lr_study.rejudged(table, study, learned_record=learned, best_of=(f_star_run,),
                             learned_best_of=(ls_run,))  # fmt: skip
    assert [v.verdict for v in same] == [v.verdict for v in lr_study.judged_on(table, kept)]


def test_rows_trained_alike_must_share_length_and_schedules_and_not_overlap():
    fixed = [s for s in PAPER_MEANS if s.startswith("F")]
    kept = dict.fromkeys([*fixed, "LS", "LV"], synthetic_study({("F*", "a"): 0.3}))
    f_star_run = synthetic_study({("F*", "b"): 0.3}, length=4000)
    with pytest.raises(ValueError, match="not trained alike: steps \\[2000, 4000\\]"):
        lr_study.trained_alike(kept, f_star_run, synthetic_study({("LS", "b"): 1.0}, length=2000))
    with pytest.raises(ValueError, match="not trained alike"):
        lr_study.trained_alike(kept, f_star_run, synthetic_study({("LS", "c"): 1.0}, length=4000))
    with pytest.raises(ValueError, match="the same settings: \\['F\\*'\\]"):
        lr_study.trained_alike(kept, f_star_run, synthetic_study({("F*", "b"): 1.0}, length=4000))
    other = synthetic_study({("LS", "b"): 1.0}, length=4000)
    other.config["data_scale"] = 1.0
    with pytest.raises(ValueError, match="differ in data_scale: 2.4 vs 1.0"):
        lr_study.trained_alike(kept, f_star_run, other)
    with pytest.raises(ValueError, match="settings the rows have not: \\['LV'\\]"):
        lr_study.trained_alike({"F*": f_star_run}, synthetic_study({("LV", "b"): 1.0}))
    with pytest.raises(ValueError, match="at least one run"):
        lr_study.trained_alike(kept)


def test_the_learned_rows_get_the_decaying_schedules_and_length_f_star_had():
    from lvae.toy2d_experiment import lr_study_specs

    decay = experiments.config("table1-lr-learned-decay", "book")
    f_star_run = experiments.config("table1-lr-decay", "book")
    learned = experiments.config("table1-lr-learned", "book")
    assert schedules(decay) == schedules(f_star_run) and decay.steps == f_star_run.steps
    changed = {"steps", "rates", "decay_rates", "warmup_steps"}
    assert {k: v for k, v in vars(decay).items() if k not in changed} == {
        k: v for k, v in vars(learned).items() if k not in changed
    }
    # Each model starts where it started in the learned study (and so in the table).
    init = {(s.setting, s.seed): s.init_seed for s in lr_study_specs(learned)}
    specs = lr_study_specs(decay)
    assert [s.setting for s in specs[::10]] == ["LS", "LV"]
    assert all(init[s.setting, s.seed] == s.init_seed for s in specs)


def test_the_longest_learned_decay_trains_the_learned_rows_as_f_star_was_trained():
    """LS-VAE and LV-VAE get the schedule and length F(0.1) and F* had at 8x, from the
    initial weights of their own study (and so of their table rows)."""
    from lvae.toy2d_experiment import lr_study_specs

    longest = experiments.config("table1-lr-learned-decay-longest", "book")
    f_star_run = experiments.config("table1-lr-decay-longest", "book")
    learned = experiments.config("table1-lr-learned", "book")
    assert schedules(longest) == schedules(f_star_run) == [("0.0003 decay", 3e-4, 0, 480000)]
    assert longest.steps == f_star_run.steps == 8 * learned.steps
    changed = {"steps", "rates", "decay_rates", "warmup_steps"}
    assert {k: v for k, v in vars(longest).items() if k not in changed} == {
        k: v for k, v in vars(learned).items() if k not in changed
    }
    init = {(s.setting, s.seed): s.init_seed for s in lr_study_specs(learned)}
    specs = lr_study_specs(longest)
    assert [s.setting for s in specs[::10]] == ["LS", "LV"]
    assert all(init[s.setting, s.seed] == s.init_seed for s in specs)


def test_the_smoke_learned_study_logs_sigma_under_every_schedule(tmp_path, capsys):
    record = experiments.record(
        "table1-lr-learned", "smoke", results_dir=tmp_path, allow_training=True
    )
    # Announced under its own name, filed with the study's records.
    assert "[lvae] running table1-lr-learned (smoke profile)" in capsys.readouterr().err
    assert record.path.parent.name == "table1-lr"
    models, config = record.models, record.config
    assert models.values("setting") == ["LS", "LV"] and config["learned"] == ["scalar", "vector"]
    steps, sigma = models.history("sigma")
    assert sigma.shape == (len(steps), len(models)) and np.all(sigma > 0)
    final = models.column("final_sigma")
    assert np.all(final > 0) and not np.allclose(final, 1.0)  # sigma was learned
    assert set(lr_study.sigma_stability(record)) == {
        (s, sched) for s in ("LS", "LV") for sched in lr_study.schedules(record)
    }
    lr_study.sigma_table(record)  # renders
    path_steps, paths = lr_study.sigma_paths(record, "LS")
    assert list(paths) == lr_study.schedules(record) and list(path_steps) == list(steps)
    np.testing.assert_array_equal(paths[lr_study.schedules(record)[0]], sigma[:, :3])


# ------------------------------------------------- the study at the other latent sizes
def latent_records(latent_dim: int = 2):
    """A table where every claim holds except T5 (F(0.1) failed at the tables' rate),
    and its study: every fixed row under the tables' rate as in the table, and under a
    slower rate F(0.1) recovers (0.77) while F(0.01) is still rising under it."""
    table = table_record({**PAPER_MEANS, "F sigma=0.1": 0.2})
    fixed = [s for s in PAPER_MEANS if s.startswith("F")]
    select = {(s, "0.001"): PAPER_MEANS[s] for s in fixed} | {("F sigma=0.1", "0.001"): 0.2}
    select |= {(s, "slow"): PAPER_MEANS[s] - 0.5 for s in fixed} | {("F sigma=0.1", "slow"): 0.77}
    study = synthetic_study(select, rise={("F sigma=0.01", "0.001"): 1.0})
    for record in (table, study):
        record.config["latent_dim"] = latent_dim
    return table, study


def test_a_latent_study_reads_choice_convergence_and_verdicts_against_its_own_table():
    table, study = latent_records()
    read = lr_latents.read_latent(table, study)
    assert read.latent_dim == 2 and not read.learned and read.sigma_settles_under is None
    assert read.chosen["F sigma=0.1"] == "slow"
    assert all(read.chosen[s] == "0.001" for s in read.chosen if s != "F sigma=0.1")
    assert read.unconverged_at_table_rate == ["F sigma=0.01"] == read.unconverged_at_choice
    assert read.diverged == []
    # F(0.1) at its slow rate restores the paper's ordering: T4 and T5 turn to "holds".
    # The study's rows at 1e-3 repeat the table's values, so the whole change is the rate's.
    assert read.changed == ["T4", "T5"] == read.changed_by_choice
    assert read.changed_by_rerun == [] and lr_latents.rerun_text(read) == "none"
    assert lr_latents.choice_text(read) == lr_latents.changed_text(read)
    assert lr_latents.moved_text(read) == "F sigma=0.1 to slow (+0.57, seed std 0.013)"
    text = lr_latents.changed_text(read)
    assert text.startswith("T4 contradicted → holds (-0.430); T5 contradicted → holds")
    assert lr_latents.per_latent({2: read, 4: read}, lr_latents.verdicts_text).startswith(
        "At latent 2: T1 holds, T2 holds, T3 holds, T4 holds, T5 holds. At latent 4: T1 holds"
    )
    assert lr_latents.per_latent({}, lr_latents.verdicts_text) == "none yet"


def test_a_verdict_moved_by_training_again_at_the_same_rate_is_not_the_rates():
    # The table's F(0.1) failed (0.2); the study's rerun at 1e-3 recovers it (0.77) and
    # its slower rate does no better: T4 and T5 move, but not with the rate.
    table, _ = latent_records()
    fixed = [s for s in PAPER_MEANS if s.startswith("F")]
    select = {(s, "0.001"): PAPER_MEANS[s] for s in fixed}
    select |= {(s, "slow"): PAPER_MEANS[s] - 0.5 for s in fixed}
    study = synthetic_study(select)
    study.config["latent_dim"] = 2
    read = lr_latents.read_latent(table, study)
    assert read.changed == ["T4", "T5"] == read.changed_by_rerun
    assert read.changed_by_choice == [] and lr_latents.choice_text(read) == "none"
    assert lr_latents.rerun_text(read).startswith("T4 contradicted → holds (-0.430)")


def test_a_latent_study_with_its_learned_rows_replaces_ls_and_lv_and_reads_sigma():
    table, study = latent_records()
    learned = synthetic_study(
        {("LS", "0.001"): 1.26, ("LS", "slow"): 2.0, ("LV", "0.001"): 1.62, ("LV", "slow"): 1.5},
        sigma_fall={("LS", "0.001"): 0.5},
    )
    learned.config["latent_dim"] = 2
    read = lr_latents.read_latent(table, study, learned)
    assert read.learned and read.chosen["LS"] == "slow" and read.chosen["LV"] == "0.001"
    assert read.sigma_settles_under == ["slow"]  # under 1e-3 sigma halves every log
    assert read.sigma_depends_on_rate
    assert lr_latents.read_latent(table, study).sigma_depends_on_rate is None
    assert lr_latents.sigma_text(read) == "under slow"
    assert lr_latents.sigma_text(lr_latents.read_latent(table, study)) == "not studied yet"
    assert "T1" in read.changed  # LS (2.0) now above LV (1.62)
    assert read.sigma_longer is None
    # The table's traced sigma is flat (T7 holds there); LS trained again at 1e-3 does not
    # settle: T7 moves with the draw of the batches.
    assert read.sigma_rerun.table.stabilised and not read.sigma_rerun.rerun.stabilised
    assert read.sigma_rerun.moved and read.moved_by_rerun[-1] == "T7"
    assert "T7" not in read.changed_by_rerun  # T1-T5 only, as lrd_rerun glues them
    assert lr_latents.sigma_rerun_text(read) == (
        "in the table settled (drift 0.0 against 0.013), trained again at 0.001 not "
        "settled (0.69 against 0.013)"
    )
    assert lr_latents.sigma_rerun_text(lr_latents.read_latent(table, study)) == "not studied yet"
    # A table whose sigma halves at each traced step does not settle either: no move.
    falling = table_record(PAPER_MEANS, sigma_fall=0.5)
    falling.config["latent_dim"] = 2
    again = lr_study.sigma_rerun(falling, learned)
    assert not again.table.stabilised and not again.moved
    assert again.table.drift == pytest.approx(math.log(2))
    slow_only = synthetic_study({("LS", "slow"): 1.0, ("LV", "slow"): 1.0})
    slow_only.config["latent_dim"] = 2
    with pytest.raises(ValueError, match="no schedule '0.001'"):
        lr_study.sigma_rerun(table, slow_only)


def test_a_latent_study_reads_sigma_in_its_learned_rows_trained_longer():
    # The reverse of the study: trained longer, LS's sigma is flat under 1e-3 and halves
    # under slow. The longest run that trains LS is read, and T7's verdict stays the
    # study's (settling under slow only, so it depends on the rate).
    table, study = latent_records()
    learned = synthetic_study(
        {("LS", "0.001"): 1.26, ("LS", "slow"): 2.0, ("LV", "0.001"): 1.62, ("LV", "slow"): 1.5},
        sigma_fall={("LS", "0.001"): 0.5},
    )
    means = {("LS", "0.001"): 1.3, ("LS", "slow"): 2.1, ("LV", "0.001"): 1.7, ("LV", "slow"): 1.6}
    longer = synthetic_study(means, sigma_fall={("LS", "slow"): 0.5}, length=2000)
    shorter = synthetic_study(means, length=1500)  # settles under both: not the longest
    for record in (learned, longer, shorter):
        record.config["latent_dim"] = 2
    read = lr_latents.read_latent(table, study, learned, extensions=[shorter, longer])
    assert read.sigma_longer == lr_latents.LongerSigma(2000, ["0.001"], {})
    assert read.sigma_settles_under == ["slow"] and read.sigma_depends_on_rate
    assert lr_latents.sigma_text(read) == "under slow; trained 2,000 steps: under 0.001"
    # Seeds that diverged are named beside the schedule (the criterion reads the others).
    fall, diverged = {("LS", "slow"): 0.5}, {("LS", "0.001"): 3}
    lost = synthetic_study(means, sigma_fall=fall, lost=diverged, length=2000)
    lost.config["latent_dim"] = 2
    read = lr_latents.read_latent(table, study, learned, extensions=[lost])
    assert read.sigma_longer.diverged == {"0.001": 3}
    assert lr_latents.sigma_text(read).endswith("under 0.001 (3 seeds diverged)")
    # A longer run where sigma settles nowhere, and one without LS.
    falling = {("LS", "0.001"): 0.5, ("LS", "slow"): 0.5}
    nowhere = synthetic_study(means, sigma_fall=falling, length=2000)
    lv_only = synthetic_study({("LV", "0.001"): 1.7, ("LV", "slow"): 1.6}, length=2000)
    for record in (nowhere, lv_only):
        record.config["latent_dim"] = 2
    read = lr_latents.read_latent(table, study, learned, extensions=[nowhere])
    assert lr_latents.sigma_text(read).endswith("under none of the schedules")
    read = lr_latents.read_latent(table, study, learned, extensions=[lv_only])
    assert read.sigma_longer is None and lr_latents.sigma_text(read) == "under slow"


def test_a_latent_study_keeps_an_extended_row_only_where_it_scores_better():
    # F(0.01) was still rising under its chosen 1e-3. Trained twice as long it scores 2.0,
    # above LS (1.26), and has settled: that row is kept, and the judgement reads it, so
    # T2 (LS above the best fixed sigma) no longer holds, by 1.26 - 2.0.
    table, study = latent_records()
    better = synthetic_study({("F sigma=0.01", "0.001"): 2.0}, length=2000)
    worse = synthetic_study({("F sigma=0.01", "0.001"): -1.5}, length=2000)
    for record in (better, worse):
        record.config["latent_dim"] = 2
    read = lr_latents.read_latent(table, study, extensions=[better])
    assert read.unconverged_at_choice == ["F sigma=0.01"] and read.unconverged_kept == []
    assert read.extended == ["F sigma=0.01"]
    assert read.kept["F sigma=0.01"].steps == 2000
    assert read.kept["F sigma=0.01"].mean_elbo == pytest.approx(2.0, abs=0.05)
    t2 = {v.key: v for v in read.after}["T2"]
    assert t2.verdict != stats.HOLDS and t2.effect == pytest.approx(1.26 - 2.0)
    # Its path: the study's steps, then the extension, whose step moved T2 (and T5).
    assert list(read.path) == [
        "table's rate", "fixed rows at 10⁻³", "fixed rows' rate", "F(0.01) 2x"
    ]  # fmt: skip
    assert read.path["F(0.01) 2x"] == read.after
    # the last judgement, computed directly from the rows as kept
    assert read.after == lr_study.judged_on(table, lr_study.kept_rows(study, best_of=(better,)))
    assert read.before == lr_study.judged_at_table_rate(table)
    assert "T2" in read.moved_by_choice and "T2" not in read.moved_by_rerun
    assert lr_latents.run_label(better, 1000) == "F(0.01) 2x"
    assert lr_latents.run_label(better, 1500) == "F(0.01) 2,000 steps"
    # LS trained longer then scores 2.5, above F(0.01)'s 2.0, and T2 holds again: the
    # comparison of the first and last judgements misses the move; the path keeps it.
    learned = synthetic_study({("LS", "0.001"): 1.26, ("LV", "0.001"): 1.62})
    ls_longer = synthetic_study({("LS", "0.001"): 2.5}, length=2000)
    for record in (learned, ls_longer):
        record.config["latent_dim"] = 2
    read = lr_latents.read_latent(table, study, learned, extensions=[better, ls_longer])
    assert list(read.path)[-2:] == ["F(0.01) 2x", "LS 2x"]
    assert lr_study.steps_moved(read.path)["T2"] == ["F(0.01) 2x", "LS 2x"]
    assert "T2" in read.moved_by_choice and "T2" not in read.changed_by_choice
    assert lr_latents.extended_text(read).startswith("F sigma=0.01: 0.001 at 2,000 steps")
    assert lr_latents.unconverged_text(read).endswith("; at the rows as kept: none")
    assert lr_latents.kept_unconverged_text(read) == "none"
    unextended = lr_latents.read_latent(table, study)
    assert unextended.extended == [] and lr_latents.extended_text(unextended) == "none"
    assert unextended.unconverged_kept == ["F sigma=0.01"]
    assert {v.key: v for v in unextended.after}["T2"].verdict == stats.HOLDS
    assert "rows as kept" not in lr_latents.unconverged_text(unextended)
    assert lr_latents.kept_unconverged_text(unextended) == "F sigma=0.01"
    # A worse extension is not kept: the verdicts are those without it.
    kept_worse = lr_latents.read_latent(table, study, extensions=[worse])
    assert kept_worse.extended == [] and kept_worse.after == unextended.after


def test_a_latent_studys_extensions_must_extend_a_study_given():
    table, study = latent_records()
    learned_longer = synthetic_study({("LS", "0.001"): 1.3}, length=2000)
    learned_longer.config["latent_dim"] = 2
    with pytest.raises(ValueError, match="needs their study, learned_record"):
        lr_latents.read_latent(table, study, extensions=[learned_longer])
    learned_longer.config["latent_dim"] = 4
    learned = synthetic_study({("LS", "0.001"): 1.26, ("LV", "0.001"): 1.62})
    learned.config["latent_dim"] = 2
    with pytest.raises(ValueError, match="differ in latent_dim: 2 vs 4"):
        lr_latents.read_latent(table, study, learned, extensions=[learned_longer])


def test_a_latent_study_must_match_its_tables_latent_dimension_and_have_its_rate():
    table, study = latent_records(latent_dim=2)
    study.config["latent_dim"] = 4
    with pytest.raises(ValueError, match="differ in latent_dim: 2 vs 4"):
        lr_latents.read_latent(table, study)
    table, study = latent_records()
    study.config["data_scale"] = 1.0
    with pytest.raises(ValueError, match="differ in data_scale: 2.4 vs 1.0"):
        lr_latents.read_latent(table, study)
    table, study = latent_records()
    other = synthetic_study({("LS", "a"): 1.0, ("LV", "a"): 1.5})
    other.config["latent_dim"] = 2
    with pytest.raises(ValueError, match="no schedule '0.001' \\(the tables' rate\\)"):
        lr_latents.read_latent(table, study, other)


def test_elbo_under_reads_one_schedule_over_the_seeds_that_survived():
    study = synthetic_study({("F*", "a"): 0.3, ("F*", "b"): 0.5}, lost={("F*", "b"): 3})
    assert lr_study.elbo_under(study, "a")["F*"] == pytest.approx(0.3 + SPREAD)
    assert lr_study.elbo_under(study, "b")["F*"] == pytest.approx(0.5 + SPREAD[3:])
    with pytest.raises(ValueError, match="no schedule 'c'"):
        lr_study.elbo_under(study, "c")


@pytest.mark.parametrize("latent_dim", [2, 4])
def test_the_latent_studies_start_from_their_own_tables_initial_weights(latent_dim):
    """Each grid model of the study at latent 2 or 4 starts where its row of that
    latent's calibrated table did, LS-VAE and LV-VAE where theirs did, and F* where the
    table's LS-VAE row did (as at latent 1)."""
    from lvae.toy2d_experiment import lr_study_specs, table1_specs

    fixed, learned = (experiments.config(e.name, "book") for e in LATENT_STUDIES[latent_dim])
    table = experiments.config(calibrated_name(latent_dim), "book")
    init = {(s.setting, s.seed): (s.init_seed, s.observation) for s in table1_specs(table)}
    fixed_specs, learned_specs = lr_study_specs(fixed), lr_study_specs(learned)
    assert [s.setting for s in learned_specs[::10]] == ["LS", "LV"]
    for spec in [s for s in fixed_specs if s.setting != "F*"] + learned_specs:
        assert init[spec.setting, spec.seed] == (spec.init_seed, spec.observation)
    f_star = [s for s in fixed_specs if s.setting == "F*"]
    assert len(f_star) == 10
    assert all(s.init_seed == init["LS", s.seed][0] for s in f_star)


def test_a_latent_study_reads_in_words():
    table, study = latent_records()
    read = lr_latents.read_latent(table, study)
    assert lr_latents.diverged_text(read) == "none"
    assert lr_latents.unconverged_text(read) == (
        "at 10⁻³: F sigma=0.01; at the chosen schedules: F sigma=0.01"
    )
    assert lr_latents.verdicts_text(read).startswith("T1 holds, T2 holds, T3 holds, T4 holds")
    assert lr_latents.made_text({2: read}) == "latent 2 (the fixed-σ rows)"
    assert lr_latents.made_text({}) == "none yet"
    fixed = [s for s in PAPER_MEANS if s.startswith("F") and s != "F*"]
    lost = synthetic_study(
        {(s, "0.001"): PAPER_MEANS[s] for s in PAPER_MEANS if s.startswith("F")}
        | {("F*", "fast"): 0.5, **{(s, "fast"): PAPER_MEANS[s] for s in fixed}},
        lost={("F*", "fast"): 2, ("F sigma=1", "fast"): 1},
    )
    lost.config["latent_dim"] = 2
    read = lr_latents.read_latent(table, lost)
    assert read.chosen["F*"] == "0.001"  # the faster rate lost seeds: never chosen
    assert lr_latents.diverged_text(read) == "F sigma=1 under fast, 1 seed; F* under fast, 2 seeds"


def test_read_made_reads_each_latent_with_its_own_records_only():
    # Named records: the learned study and its longer run belong to latent 2; latent 4's
    # study has none made. Each latent is read as read_latent reads it by hand.
    table, study = latent_records()
    learned = synthetic_study({("LS", "0.001"): 1.26, ("LS", "slow"): 2.0})
    longer = synthetic_study({("LS", "0.001"): 1.3, ("LS", "slow"): 2.1}, length=2000)
    for record in (learned, longer):
        record.config["latent_dim"] = 2
    named = {"study": study, "learned": learned, "longer": longer}
    loaded = []

    def load(name):
        loaded.append(name)
        return named[name]

    reads = lr_latents.read_made(
        {2: table}, load, {2: ["study", "learned"]}, {2: ["longer"], 4: ["unread"]}
    )
    assert list(reads) == [2] and loaded == ["study", "learned", "longer"]
    by_hand = lr_latents.read_latent(table, study, learned, extensions=[longer])
    assert reads[2] == by_hand


def test_a_row_at_each_of_its_lengths_in_words():
    # F(0.1) trained at three lengths (given out of order, with a record that lacks it):
    # each length's chosen schedule, its selection mean, and the criterion (a rise of 1
    # nat over the run is far beyond the seeds' spread; a flat curve changes by 0).
    short = synthetic_study({("F sigma=0.1", "0.001"): 0.25, ("F sigma=0.1", "slow"): 0.5})
    middle = synthetic_study(
        {("F sigma=0.1", "slow"): 0.75}, rise={("F sigma=0.1", "slow"): 1.0}, length=2000
    )
    longest = synthetic_study({("F sigma=0.1", "fast"): 0.625}, length=4000)
    other = synthetic_study({("F sigma=1", "slow"): 0.1}, length=8000)
    text = lr_study.lengths_text("F sigma=0.1", [longest, other, short, middle])
    parts = text.split("; ")
    assert [p.split(" steps")[0] for p in parts] == ["1,000", "2,000", "4,000"]
    assert parts[0].startswith("1,000 steps, slow: selection ELBO 0.5, last-fifth change 0.0 ")
    assert parts[0].endswith("(converged)") and parts[2].endswith("(converged)")
    assert parts[1].startswith("2,000 steps, slow: selection ELBO 0.75, last-fifth change 0.")
    assert parts[1].endswith("(not converged)")
    assert parts[2].startswith("4,000 steps, fast: selection ELBO 0.625")
    assert lr_study.lengths_text("F sigma=0.3", [short, other]) == "none"


def test_sigma_in_the_longer_runs_passes_over_a_run_whose_rates_all_decay_to_zero():
    # The longest learned extension trains LS under a decay only: sigma stops with the
    # rate, so the reading keeps to the longest run with a rate that stays up.
    table, study = latent_records()
    learned = synthetic_study({("LS", "0.001"): 1.26, ("LS", "slow"): 2.0})
    means = {("LS", "0.001"): 1.3, ("LS", "slow"): 2.1}
    longer = synthetic_study(means, sigma_fall={("LS", "0.001"): 0.5}, length=2000)
    decayed = synthetic_study({("LS", "0.001 decay"): 2.2}, length=8000)
    decayed.config.update(rates=[], decay_rates=[1e-3], warmup_steps=0)
    for record in (learned, longer, decayed):
        record.config["latent_dim"] = 2
    read = lr_latents.read_latent(table, study, learned, extensions=[longer, decayed])
    assert read.sigma_longer == lr_latents.LongerSigma(2000, ["slow"], {})
    assert read.kept["LS"].steps == 8000  # kept there all the same: it scores best
    alone = lr_latents.read_latent(table, study, learned, extensions=[decayed])
    assert alone.sigma_longer is None


def test_a_row_under_each_schedule_in_words():
    # Flat under slow (converged), rising by 1 nat under the tables' rate (not).
    record = synthetic_study(
        {("F sigma=0.1", "0.001"): 0.25, ("F sigma=0.1", "slow"): 0.5},
        rise={("F sigma=0.1", "0.001"): 1.0},
    )
    assert lr_study.schedules_text(record, "F sigma=0.1") == (
        "0.001: 0.25, not converged; slow: 0.5, converged"
    )


def test_the_count_of_changed_verdicts_agrees_with_its_verb():
    assert lr_study.verdicts_changing([]) == "0 verdicts change"
    assert lr_study.verdicts_changing(["T3"]) == "1 verdict changes"
    assert lr_study.verdicts_changing(["T1", "T2"], "differ") == "2 verdicts differ"
