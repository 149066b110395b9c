"""lvae.analysis.protocol: Table 1 judged under the pre-registered protocol, on synthetic
records whose verdicts are fixed by construction, and on the committed calibration."""

import numpy as np
import pytest

from lvae import calibration, experiments, store
from lvae.analysis import protocol as pr
from lvae.analysis import stats
from lvae.analysis.table1 import paper_elbo

SHIFT = float(paper_elbo(0.0))  # the paper convention adds log(2 pi) in 2-D
SEEDS = 10
SPREAD = np.linspace(-0.02, 0.02, SEEDS)


def paper_table(**overrides) -> dict[str, np.ndarray]:
    """Per-seed paper-convention ELBOs where every Table 1 claim of the paper holds."""
    means = {
        "F sigma=1": -1.14,
        "F sigma=0.3": 0.0,
        "F sigma=0.1": 0.77,
        "F sigma=0.043": 0.33,
        "F sigma=0.01": -0.96,
        "LS": 1.26,
        "LV": 1.62,
        "F*": 0.34,
        "F schedule own": 1.26,
        "F schedule pooled": 1.25,
    }
    means.update(overrides)
    return {name: m + SPREAD for name, m in means.items()}


def test_every_difference_claim_holds_on_the_papers_table():
    verdicts = pr.difference_claims(paper_table())
    assert [v.claim for v in verdicts] == ["T1", "T2", "T3", "T4"]
    assert all(v.verdict == stats.HOLDS for v in verdicts)
    t1, t2, t3, t4 = verdicts
    assert t1.effect == pytest.approx(0.36) and t1.paper == pytest.approx(0.36)
    assert t2.evidence.startswith("LS − F sigma=0.1 = +0.490")  # the strongest fixed sigma
    assert t4.effect == pytest.approx(-0.43) and t4.paper == pytest.approx(-0.438)


def test_a_reversed_effect_is_contradicted_and_a_tiny_one_not_shown():
    table = paper_table(LV=1.0, **{"F*": 1.26 - 0.001})  # LV below LS; F* just below LS
    t1, _, t3, _ = pr.difference_claims(table)
    assert t1.verdict == stats.CONTRADICTED and t1.evidence.startswith("LV − LS = -0.260")
    assert t3.verdict == stats.NOT_SHOWN


def test_best_fixed_claim_names_the_best_sigma_and_its_rival():
    assert pr.best_fixed_claim(paper_table()).verdict == stats.HOLDS
    other = pr.best_fixed_claim(paper_table(**{"F sigma=0.3": 1.0}))
    assert other.verdict == stats.CONTRADICTED
    assert other.evidence.startswith("best F sigma=0.3, next F sigma=0.1: +0.230")


def test_replay_claims_judge_each_replay_by_equivalence():
    own, pooled = pr.replay_claims(paper_table(**{"F schedule pooled": 0.9}))
    assert (own.key, own.verdict) == ("T6 (own)", stats.HOLDS)
    assert (pooled.key, pooled.verdict) == ("T6 (pooled)", stats.CONTRADICTED)
    middle = pr.replay_claims(paper_table(**{"F schedule own": 1.26 - 0.1}))[0]
    assert middle.verdict == stats.NOT_SHOWN  # interval straddles the margin


def synthetic_record(elbo: dict, *, latent_dim=1, steps=None, sigma_trace=None, history=None):
    """A table1-calibrated-shaped store.Record: one model per (setting, seed); ``elbo`` in
    the paper's convention (stored exact, as records hold it)."""
    models, exact = [], []
    for name, values in elbo.items():
        for seed, v in enumerate(values):
            models.append({"setting": name, "seed": seed})
            exact.append(float(v) - SHIFT)
    result = {"models": models, "elbo": exact, "final_sigma": [1.0] * len(models)}
    if sigma_trace is not None:
        result["ls_sigma_trace"] = sigma_trace
    if history is not None:
        result["history"] = history
    prov = {"profile": "smoke", "seeds": list(range(SEEDS)), "steps": 10, "device": "cpu"}
    config = {"latent_dim": latent_dim, "data_scale": 2.4, "n_blocks": 2, "hidden": 64}
    return store.Record({"config": config, "provenance": prov, "result": result})


def test_f1_check_reads_the_paper_convention_against_the_tolerance():
    assert pr.f1_check(synthetic_record(paper_table())).within
    off = pr.f1_check(synthetic_record(paper_table(**{"F sigma=1": -1.30})))
    assert not off.within and off.mean == pytest.approx(-1.30)


def test_depends_on_latent_lists_the_claims_whose_verdict_changes():
    one = pr.difference_claims(paper_table())
    two = pr.difference_claims(paper_table(LV=1.0))
    assert pr.depends_on_latent({1: one, 2: one}) == []
    assert pr.depends_on_latent({1: one, 2: two}) == ["T1"]
    table = pr.claims_by_latent({1: one, 2: two}, caption="c")
    frame = table.data
    assert list(frame.columns) == ["id", "claim", "paper", "latent 1", "latent 2"]
    assert frame.iloc[0]["latent 2"].startswith("contradicted: -0.260 [")


def test_sigma_and_dynamics_claims_on_a_record_with_histories():
    steps = np.arange(0, 61) * 1000 + 1000
    rng = np.random.default_rng(0)
    # sigma falls as a power law and then stays: the last tenth is flat.
    sigma = np.minimum(1.0, (steps[:, None] / 2000.0) ** -0.5) * np.ones((1, SEEDS))
    sigma[-10:] = sigma[-10]
    sigma = sigma * np.exp(rng.normal(0, 0.05, SEEDS))
    # The ELBO gains exactly where log sigma falls, for LS; the replay's is noise.
    ls_elbo = np.cumsum(np.r_[np.zeros((1, SEEDS)), -np.diff(np.log(sigma), axis=0)], axis=0)
    ls_elbo = ls_elbo + rng.normal(0, 1e-4, ls_elbo.shape)
    replay_elbo = np.cumsum(rng.normal(0, 0.01, (len(steps), SEEDS)), axis=0)
    elbo = paper_table()
    names = [n for n in elbo for _ in range(SEEDS)]
    sig = np.ones((len(steps), len(names)))
    mon = np.zeros((len(steps), len(names)))
    for j, n in enumerate(names):
        seed = j % SEEDS
        if n in ("LS", "F schedule own"):
            sig[:, j] = sigma[:, seed]
        mon[:, j] = ls_elbo[:, seed] if n == "LS" else replay_elbo[:, seed]
    history = {"step": steps.tolist(), "sigma": sig.tolist(), "monitor_elbo": mon.tolist()}
    trace = {"step": steps.tolist(), "sigma": sigma.tolist()}
    rec = synthetic_record(elbo, sigma_trace=trace, history=history)
    assert pr.sigma_claim(rec).verdict == stats.HOLDS
    t8 = pr.dynamics_claim(rec)
    assert t8.verdict == stats.HOLDS and "above its replay in 10 of 10" in t8.evidence
    # Too few windows for the block bootstrap: not judged.
    short = {k: v[:15] for k, v in history.items()}
    t8_short = pr.dynamics_claim(synthetic_record(elbo, sigma_trace=trace, history=short))
    assert t8_short.verdict == stats.NOT_SHOWN and "too few" in t8_short.evidence


def test_fixed_convergence_flags_rows_still_moving():
    steps = np.arange(1, 11) * 100
    elbo = paper_table()
    names = [n for n in elbo for _ in range(SEEDS)]
    mon = np.zeros((len(steps), len(names)))
    for j, n in enumerate(names):
        if n == "F sigma=0.01":
            mon[:, j] = np.linspace(-5, -1, len(steps))  # still rising by 0.9 at the end
    rec = synthetic_record(elbo, history={"step": steps.tolist(), "monitor_elbo": mon.tolist()})
    conv = pr.fixed_convergence(rec)
    assert list(conv) == ["F sigma=1", "F sigma=0.3", "F sigma=0.1", "F sigma=0.043",
                          "F sigma=0.01", "F*"]  # fmt: skip
    assert pr.unconverged(conv) == ["F sigma=0.01"]


def test_common_scale_refuses_records_made_at_different_scales():
    a = synthetic_record(paper_table())
    assert pr.common_scale([a, a]).startswith("profile smoke, 10 seeds (0–9), 10 steps")
    b = synthetic_record(paper_table())
    b.config["hidden"] = 200
    with pytest.raises(ValueError, match="different scales"):
        pr.common_scale([a, b])


def test_the_committed_calibration_brackets_the_papers_value():
    record = experiments.record("table1-calibration", "book", allow_training=False)
    found = pr.calibration_of(record)
    assert record.config["sigma"] == 1.0 and len(record.provenance["seeds"]) == 10
    # Mean ELBO falls with the scale, and the interpolated scale lies in its bracket.
    assert all(np.diff(found.mean) < 0)
    i = int(np.searchsorted(found.scales, found.scale))
    assert found.mean[i - 1] >= calibration.PAPER_F1_ELBO >= found.mean[i]
    # The collapsed values are the closed form's, scale by scale.
    for s, c in zip(found.scales, found.collapsed, strict=True):
        assert c == pytest.approx(calibration.collapsed_paper_elbo(1.0, s))


def test_verdict_line_joins_agreeing_latents_and_lists_differing_ones():
    one = pr.difference_claims(paper_table())
    two = pr.difference_claims(paper_table(LV=1.0))
    grouped = pr.by_claim({1: one, 2: one, 4: two})
    assert list(grouped) == ["T1", "T2", "T3", "T4"]
    assert pr.verdict_line(grouped["T2"]) == "holds at 1, 2 and 4"
    assert pr.verdict_line(grouped["T1"]) == "1: holds; 2: holds; 4: contradicted"
    assert pr.verdict_line({1: one[0]}) == "holds at 1"


def test_seed_sd_and_effect_text():
    rec = synthetic_record(paper_table())
    assert pr.seed_sd(rec, "LS") == pytest.approx(np.std(SPREAD, ddof=1))
    t1 = pr.difference_claims(paper_table())[0]
    assert pr.effect_text(t1).startswith("+0.360 [+0.3") and ", p = " in pr.effect_text(t1)
    t7 = pr.Verdict("T7", stats.HOLDS, "drift", 0.01)
    with pytest.raises(ValueError, match="no single effect"):
        pr.effect_text(t7)


def test_t4_summary_names_where_f_star_is_below_above_or_level_with_f01():
    def t4(*verdicts):
        return {d: pr.Verdict("T4", v, "") for d, v in zip((1, 2, 4), verdicts, strict=False)}

    assert pr.t4_summary(t4("contradicted", "contradicted", "not shown")) == (
        "significantly above it at latent 1 and 2, the reverse of the paper, and not "
        "significantly apart at latent 4"
    )
    assert pr.t4_summary(t4("holds", "not shown", "holds")) == (
        "significantly below it at latent 1 and 4, and not significantly apart at latent 2"
    )
    assert (
        pr.t4_summary(t4("holds", "holds", "holds"))
        == "significantly below it at latent 1, 2 and 4"
    )
