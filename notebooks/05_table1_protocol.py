# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     notebook_metadata_filter: kernelspec,jupytext
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.7
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Table 1 under the protocol: calibrated data, three latent sizes
#
# Chapter 2 redid the paper's Table 1 {cite}`berger2020vae` with choices made on the way:
# data at our own scale, one latent dimension chosen after a first attempt with two, and
# verdicts from Welch's test. Before the runs of this chapter were made, the page
# {doc}`../book/protocol` fixed how Table 1 is to be redone so that such forks cannot
# decide a verdict. The data are calibrated to the paper's one absolute number; the table
# is made at latent dimensions 1, 2 and 4, with every claim judged at each; the tests are
# rank tests with Holm's correction; our effect sizes are printed beside the paper's; and
# a convergence criterion is applied to every row. This chapter reports every run of that
# plan made so far, on a CPU.
#
# **What is not here yet.** The protocol asks for the paper's network (4 residual blocks
# of 200 units), at least 200,000 steps and a study of four learning rates. No GPU was
# lent for this round, so these tables use the CPU-fast network of the `book` profile (the
# size is printed under each table), {glue:text}`table_steps` steps and one constant Adam
# rate, {glue:text}`table_lr`. Each verdict below is a verdict on that setup; a row that
# misses the convergence criterion is shown and flagged, not dropped. The learning-rate
# study has been run at the same CPU scale for every row of the latent-1 table. The
# fixed-σ rows, LS-VAE and LV-VAE were trained under four schedules; where a chosen
# schedule had not converged, longer runs and rates that decay to zero followed, given to
# the learned rows too, so that the rows a claim compares were trained alike. Its section
# below says what each step changes. At latent 2 and 4 the same study was made afterwards;
# its section lists its runs.
#
# **Terms used below.**
# * *Monitored ELBO*: each model's ELBO on 2,000 fixed points with fixed latent noise,
#   logged along training; the convergence criterion reads its last fifth.
# * *Stack*: the models one run trains side by side (every setting and seed of it),
#   each on fresh batches drawn from one random stream. The schedules of one study are
#   stacks drawn from the same stream, so their batches are paired; a run that trains
#   other rows draws other batches.
# * *Selection and reported points*: two sets of 10,000 fresh points in the
#   learning-rate study. A schedule, and a length where a row was trained longer, is
#   chosen on the first; the study's reported ELBO is measured on the second, so the
#   choice does not flatter it.
# * *Kept row*, *as kept*: for each setting, the run (schedule and length) chosen for it
#   on the selection points among all its runs; the last judgement reads those rows.
# * *Holm family*: the p-values corrected together by Holm's method, T1 to T4 of one
#   table.

# %% tags=["parameters"]
# Papermill parameters: "smoke" (seconds), "book" (the committed results), "paper" (GPU).
profile = "book"
device = "auto"

# %% tags=["hide-input"]
import numpy as np
from IPython.display import display

from lvae import calibration, experiments, plots
from lvae.analysis import curve_residual, ledger, lr_latents, lr_study
from lvae.analysis import protocol as pr
from lvae.analysis import table1 as t1
from lvae.experiments.table1 import (
    CALIBRATED_LATENTS,
    CALIBRATED_PENDING,
    CALIBRATED_SCALE,
    calibrated_name,
)
from lvae.experiments.table1_lr import (
    FURTHER,
    LEARNED_ALIKE,
    MADE_STEPS,
    further_text,
    made_latent_extensions,
    made_latent_studies,
    pending_latent_studies,
)
from lvae.experiments.table1_lr import PENDING as LR_PENDING
from lvae.report import fmt, made_with, sig

plots.use_book_style()

# %% [markdown]
# ## Calibrating the data to the paper's F(σ = 1)
#
# The paper shows its curve but not its equations, and ours is smaller. One entry of its
# Table 1 pins the scale: the F-VAE at σ = 1 scores −1.14 (paper convention). If that
# model has collapsed (every decoder mean at the data mean, KL zero), its ELBO is
# $-\operatorname{tr}\operatorname{Cov}x / 2$, and multiplying every point by $s$
# multiplies the trace by $s^2$; solving gives the analytic scale
# {glue:text}`scale_analytic` (`lvae.calibration`, derivation in its docstring and on the
# protocol page). Multiplying the curve and its noise together keeps the three noise
# regions in their proportions.
#
# A trained F(1) does not collapse completely, though: it keeps a little information in
# its code (a KL of {glue:text}`cal_kl_low` to {glue:text}`cal_kl_high` nats below) and
# scores above the collapsed value. So the scale is read off trained runs instead: F(1)
# at five scales, 10 seeds each, and linear interpolation between the two neighbouring
# scales that bracket −1.14.

# %% tags=["hide-input"]
cal_record = experiments.record("table1-calibration", profile, device=device)
cal = pr.calibration_of(cal_record)
analytic = calibration.scale_for_collapsed_elbo()
print(made_with(cal_record.provenance))
display(cal.table(cal_record))
fig = plots.calibration_figure(
    cal.scales,
    cal.mean,
    cal.sd,
    cal.collapsed,
    target=calibration.PAPER_F1_ELBO,
    tolerance=pr.F1_TOLERANCE,
    found=cal.scale,
    analytic=analytic,
)
plots.show(fig, "fig_calibration")
plots.glue_values(
    {
        "scale_analytic": fmt(analytic, 4),
        "scale_found": fmt(cal.scale, 4),
        "scale_used": CALIBRATED_SCALE,
        "cal_kl_low": fmt(min(cal.kl), 2),
        "cal_kl_high": fmt(max(cal.kl), 2),
        "cal_steps": int(cal_record.provenance["steps"]),
    }
)

# %% [markdown]
# ```{glue:figure} fig_calibration
# :name: fig-calibration
#
# Trained F(σ = 1) by data scale (mean ± std over seeds), the collapsed model's value
# and the paper's −1.14 with the protocol's tolerance of ±0.1.
# ```
#
# The trained runs reach −1.14 at scale {glue:text}`scale_found`, above the analytic
# {glue:text}`scale_analytic`; the tables below use it rounded, **s =**
# {glue:text}`scale_used` (a test checks that the constant in
# `lvae.experiments.table1` is this record's value). The calibration trained
# {glue:text}`cal_steps` steps; F(1) settles long before, and the F(1) row of each
# table below, trained {glue:text}`table_steps` steps, is the check the protocol asks
# for. The σ grid is then the
# paper's, {1, 0.3, 0.1, 0.043, 0.03, 0.01}, unscaled.
#
# ## The tables
#
# Each table is the full set of Table 1 settings trained on the calibrated data at one
# latent dimension: F-VAE over the σ grid, LS-VAE, LV-VAE, F\*-VAE at LS-VAE's final σ
# (the geometric mean over seeds), and two replays of LS-VAE's σ trajectory: each seed
# its own (`F schedule own`) and the geometric mean over seeds (`F schedule pooled`).
# The last two columns apply the protocol's criterion to every fixed-σ row: the change of
# the seed-mean monitored ELBO over the last fifth of training against the seeds' spread
# of the final ELBO.

# %% tags=["hide-input"]
latents = [d for d in CALIBRATED_LATENTS if d not in CALIBRATED_PENDING]
records = {d: experiments.record(calibrated_name(d), profile, device=device) for d in latents}
first = records[latents[0]]
plots.glue_values(
    {
        "table_steps": f"{int(first.provenance['steps']):,}",
        "table_lr": first.config["lr"],
        "latents_shown": ", ".join(map(str, latents)),
        "latents_pending": ", ".join(map(str, CALIBRATED_PENDING)) or "none",
    }
)
convergence = {}
for d, rec in records.items():
    convergence[d] = pr.fixed_convergence(rec)
    print(made_with(rec.provenance))
    print(t1.setup(rec.config))
    display(pr.results_table(rec, convergence[d]))

# %% tags=["hide-input"]
checks = {d: pr.f1_check(rec) for d, rec in records.items()}
plots.glue_values(
    {
        "f1_by_latent": "; ".join(
            f"{fmt(c.mean, 3)} at latent {d} ({'within' if c.within else 'outside'} ±0.1)"
            for d, c in checks.items()
        ),
        "n_f1_within": sum(c.within for c in checks.values()),
        "n_latents": len(checks),
        "unconverged_by_latent": "; ".join(
            f"at latent {d}: {', '.join(pr.unconverged(convergence[d])) or 'none'}" for d in records
        ),
        "n_fixed": len(convergence[latents[0]]),
    }
)

# %% [markdown]
# Latent dimensions shown: {glue:text}`latents_shown`; declared by the protocol but not yet
# trained: {glue:text}`latents_pending` (see the list at the end of this chapter).
#
# **The calibration check.** F(1) scores {glue:text}`f1_by_latent`:
# {glue:text}`n_f1_within` of {glue:text}`n_latents` tables are calibrated by the
# protocol's criterion (the paper's −1.14 within ±0.1).
#
# **Convergence.** Of the {glue:text}`n_fixed` fixed-σ rows of each table (the grid and
# F\*), those that miss the criterion are {glue:text}`unconverged_by_latent`.
# Those rows' ELBOs were still moving when training stopped, so a gap to them may be
# an optimiser's shortfall rather than a property of the observation model; the
# learning-rate study below tells the two apart at latent 1.
#
# ## Every claim at every latent dimension
#
# The protocol's verdicts, in three words: a claim **holds** when our effect has the
# paper's sign and its Holm-adjusted Mann-Whitney p is below 0.05, is **contradicted**
# when the opposite sign is significant in the same way, and is **not shown** otherwise.
# T1 to T4 are one family per table (Holm across the four); T1 and T2 are tested against
# the strongest rival (the best other setting; the best fixed σ, F\* included). Until the
# protocol's entry on the verdict scale (2026-12-07) T2's rival was drawn from the σ grid
# alone, leaving out F\*, an F-VAE at a fixed σ too; every T2 below, and every verdict
# that shares its Holm family, is read with F\* in, which turns T2 at latent 1 and 2 of
# the calibrated tables from "holds" to "not shown". T5 holds when σ = 0.1
# is the best of the grid and significantly above the next best, and we count it
# contradicted when another σ is best and significantly so. T6 is an equivalence claim:
# it holds when the 90% bootstrap interval of replay − LS lies inside ±0.1 nats, and we
# count it contradicted when the interval lies wholly outside. Those two rules for
# "contradicted" were not written on the protocol page before the runs (its entry "When
# T5 and T6 count as contradicted" says so); without them, a T5 or T6 read
# "contradicted" below would read "not shown". T7 asks
# whether LS-VAE's σ has stopped falling. Registered, it compared the median drift of
# log σ over the last tenth with the seeds' spread, which one far-off seed widens; since
# the protocol's entry on the verdict scale it is also read seed by seed, and it is
# contradicted when σ fell in significantly more seeds than it rose (exact sign test);
# the registered reading stands beside it (by the registered reading alone T7 held at
# every latent; read both ways it stands {glue:text}`T7_by_latent`). T8 asks whether
# drops of σ come with ELBO gains beyond what a block bootstrap of the same seed and the
# seed's own replay give.

# %% tags=["hide-input"]
judged = {d: pr.verdicts(rec) for d, rec in records.items()}
scale = pr.common_scale(records.values())
display(
    pr.claims_by_latent(
        judged,
        caption=f"Each claim of Table 1 at latent dimensions {', '.join(map(str, latents))} "
        "(calibrated data; "
        f"{scale}): the verdict, then our "
        "effect in nats with its 95% bootstrap interval and Holm-adjusted Mann-Whitney p "
        "(T6: 90% interval); the paper's effect is the difference of its Table 1 means.",
    )
)
depends = pr.depends_on_latent(judged)
per_claim = pr.by_claim(judged)
plots.glue_values(
    {
        "claims_depending": ", ".join(depends) or "none",
        "n_depending": len(depends),
        "n_claims": len(judged[latents[0]]),
        **{
            f"{key}_by_latent": "; ".join(
                f"at latent {d}: {v.verdict}, {pr.effect_text(v)}"
                for d, v in per_claim[key].items()
            )
            for key in ("T1", "T3", "T4")
        },
        "T7_by_latent": "; ".join(
            f"at latent {d}: {v.verdict}" for d, v in per_claim["T7"].items()
        ),
        "t3_largest_share": fmt(
            max(v.effect for v in per_claim["T3"].values()) / pr.PAPER_EFFECT["T3"], 2
        ),
        "t4_summary": pr.t4_summary(per_claim["T4"]),
        "sd_f01_vs_ls": "; ".join(
            f"at latent {d}: {fmt(pr.seed_sd(rec, 'F sigma=0.1'), 2)} against "
            f"{fmt(pr.seed_sd(rec, 'LS'), 2)}"
            for d, rec in records.items()
        ),
    }
)

# %% [markdown]
# {glue:text}`n_depending` of the {glue:text}`n_claims` rows change verdict with the
# latent dimension: {glue:text}`claims_depending`. A verdict that differs between
# latent sizes is a property of that choice as much as of the observation model, and
# this is the choice the paper does not state.
#
# **Effect sizes beside the paper's.** The paper's largest gap, LS-VAE above F\*-VAE by
# 0.93 nats (T3), is here, {glue:text}`T3_by_latent`: at most
# {glue:text}`t3_largest_share` times the paper's. So fixing σ at the value LS-VAE learned
# costs much less than the paper reports, and how much it costs depends on the latent
# size. F\*-VAE, which the paper puts 0.44 nats below F(0.1) (T4), is
# {glue:text}`t4_summary` ({glue:text}`T4_by_latent`). F(0.1)'s seeds spread more
# widely than LS-VAE's (standard deviation {glue:text}`sd_f01_vs_ls`): some of its
# seeds end well below the others; the learning-rate study below asks whether those are
# optimiser failures. LV-VAE's lead over the best other setting (T1, paper +0.36) is
# {glue:text}`T1_by_latent`.
#
# ## The learning-rate study at latent 1
#
# Some rows of the latent-1 table miss the convergence criterion
# ({glue:text}`unconverged_latent1`), and some spread widely over seeds. The protocol's
# learning-rate study asks whether these are failures of the optimiser: every fixed-σ
# setting, F\* included, is trained again under four Adam schedules, three constant rates
# and a warm-up, each schedule as one stack with the same batches and initialisations. A
# setting's schedule is chosen on 10,000 held-out points and its ELBO reported on 10,000
# others, so the choice does not flatter the number it picks (protocol page, changes after
# registration). The study then grew in steps, each registered before its run: longer runs
# and decaying rates where a chosen schedule had not converged, and the same for the
# learned rows. Each step's section says what it changed, and the study's last table
# follows every claim through all of them.

# %% tags=["hide-input"]
lr_record = experiments.record("table1-lr", profile, device=device)
print(made_with(lr_record.provenance))
display(lr_study.study_table(lr_record))
BASELINE = lr_study.TABLE_RATE  # the tables' constant rate, "0.001"
effects = lr_study.rate_effects(lr_record, BASELINE)
struggling = ["F sigma=0.1", "F sigma=0.043", "F sigma=0.03", "F sigma=0.01"]
steps_lr = lr_study.monitored(lr_record, struggling[0])[0]
plots.show(
    plots.schedule_curves(steps_lr, {s: lr_study.monitored(lr_record, s)[1] for s in struggling}),
    "fig_lr_curves",
)
moved = [e for e in effects if e.schedule != BASELINE]
plots.glue_values(
    {
        "lr_chosen": "; ".join(f"{e.setting}: {e.schedule}" for e in effects),
        "lr_n_moved": len(moved),
        "lr_n_settings": len(effects),
        "lr_gains": "; ".join(
            f"{e.setting} {fmt(e.gain, 2)} (seed std at 10⁻³ {fmt(e.baseline_sd, 2)})"
            for e in moved
        )
        or "none",
        "lr_unconverged_baseline": ", ".join(e.setting for e in effects if not e.baseline_converged)
        or "none",
        "lr_unconverged_chosen": ", ".join(e.setting for e in effects if not e.chosen_converged)
        or "none",
        "unconverged_latent1": ", ".join(pr.unconverged(convergence[1])) or "none",
        "sd_f01_table": fmt(pr.seed_sd(records[1], "F sigma=0.1"), 2),
        "sd_f01_study": fmt(lr_study.seed_sd(lr_record, "F sigma=0.1", BASELINE), 2),
        "f01_reading": (
            "the table's failed seeds were chance events of the optimiser, which other "
            "draws at the same rate do not repeat, not a property of σ = 0.1."
            if lr_study.seed_sd(lr_record, "F sigma=0.1", BASELINE)
            < pr.seed_sd(records[1], "F sigma=0.1") / 2
            else "the spread is of the same order in both, so it is not a chance of one draw."
        ),
        "lr_n_within_spread": sum(abs(e.gain) < e.baseline_sd for e in moved),
        "lr_diverged": "; ".join(
            f"{s} at {sched}: {k} of {len(lr_record.config['seeds'])} seeds"
            for s, sched, k in lr_study.divergences(lr_record)
        )
        or "none",
    }
)

# %% [markdown]
# ```{glue:figure} fig_lr_curves
# :name: fig-lr-curves
#
# The monitored ELBO (paper convention) of four fixed-σ settings under each schedule:
# the mean over seeds and the range the seeds span.
# ```
#
# **The fastest rate diverges.** At 3·10⁻³ some seeds' losses became non-finite:
# {glue:text}`lr_diverged`. The study lets such a model be and trains the others on
# (protocol page, changes after registration); a schedule that lost a seed cannot be
# chosen.
#
# **The choice.** The schedules chosen on the selection points are
# {glue:text}`lr_chosen`: for {glue:text}`lr_n_moved` of the
# {glue:text}`lr_n_settings` settings a schedule other than the tables' 10⁻³ wins, by
# (reported ELBO, nats) {glue:text}`lr_gains`. {glue:text}`lr_n_within_spread` of
# these {glue:text}`lr_n_moved` gains are smaller than the spread of the same setting's
# seeds at 10⁻³: there the rate moves the row by less than the luck of the draw does.
#
# **Convergence.** At 10⁻³ in this study the rows that miss the criterion are
# {glue:text}`lr_unconverged_baseline`, while in the table above, at the same rate,
# they were {glue:text}`unconverged_latent1`. For the σ grid the two runs differ only in
# their training batches (each grid model starts from the same initial weights as its
# row of the table, but the study's stacks hold other models, so the batches are drawn
# differently), so whether a small-σ row has settled after 60,000 steps is itself a
# matter of the draw. At the chosen schedules the rows that miss it are
# {glue:text}`lr_unconverged_chosen`. F(0.1)'s spread tells the same story: its seed
# standard deviation is {glue:text}`sd_f01_table` in the table and
# {glue:text}`sd_f01_study` in the study at the same rate; {glue:text}`f01_reading`
#
# F\* has no row in the table's σ grid, so its initial weights are borrowed: in this
# study (and at latent 2 and 4) from the table's LS-VAE row, and in the later runs of
# T4's two rows (F(0.1) beside F\*) from the table's F(0.043) row, the model after
# F(0.1) in the grid. An older protocol entry calls the latter "fresh"; they are draws of
# the same initialisation as any other. One consequence: in the study F\* and LS-VAE start
# from the same weights seed by seed, so T3's two samples (LS-VAE − F\*) are not
# independent, while its rank test treats them as if they were; if the shared start
# makes the two alike seed by seed, the test is conservative.
#
# The claims that read fixed-σ rows, judged again with every fixed-σ row at its chosen
# schedule (LS-VAE and LV-VAE keep the table's rows, trained at 10⁻³):

# %% tags=["hide-input"]
table_latent1 = records[1]
at_table_rate = lr_study.judged_at_table_rate(table_latent1)
at_chosen_rate = lr_study.rejudged(table_latent1, lr_record)
display(
    lr_study.verdicts_side_by_side(
        at_table_rate,
        at_chosen_rate,
        {"before": "fixed σ at 10⁻³ (the table)", "after": "fixed σ at its chosen schedule"},
        caption="T1 to T5 at latent 1, judged on the calibrated table as trained and with "
        "every fixed-σ row (the grid and F*) replaced by the learning-rate study's row at "
        "its chosen schedule; same tests and Holm family as above.",
    )
)
changed = lr_study.changed_verdicts(at_table_rate, at_chosen_rate)
# The same rows at the table's rate, to split each move: retraining, then the rate.
at_rerun = lr_study.judged_on(
    table_latent1, lr_study.kept_rows(lr_record), schedule=lr_study.TABLE_RATE
)
rejudged = {v.key: v for v in at_chosen_rate}
plots.glue_values(
    {
        "lr_changed": ", ".join(changed) or "none",
        "lr_n_changed": lr_study.verdicts_changing(changed),
        "lr_changed_rerun": ", ".join(lr_study.changed_verdicts(at_table_rate, at_rerun)) or "none",
        "lr_changed_rate": ", ".join(lr_study.changed_verdicts(at_rerun, at_chosen_rate)) or "none",
        "lr_t3": f"{rejudged['T3'].verdict}, {pr.effect_text(rejudged['T3'])}",
        "lr_t3_note": (
            ": the rank test passes while the interval of the difference of means contains "
            "zero, so the seeds' ranks lean one way but the means barely differ"
            if rejudged["T3"].verdict == "holds" and rejudged["T3"].low < 0 < rejudged["T3"].high
            else ""
        ),
        "lr_t4": f"{rejudged['T4'].verdict}, {pr.effect_text(rejudged['T4'])}",
        "lr_t5": f"{rejudged['T5'].verdict}, {rejudged['T5'].evidence}",
    }
)

# %% [markdown]
# {glue:text}`lr_n_changed`: {glue:text}`lr_changed`. Judged with the
# study's rows at 10⁻³, the table's own rate, the verdicts that already move are
# {glue:text}`lr_changed_rerun` (retraining alone moves them: other batches and
# evaluation points, and F\*'s borrowed initial weights), and those that move from there
# to the chosen schedules are {glue:text}`lr_changed_rate` (the rate's part). This split
# was added on 2026-12-07, long after these runs had been read; it changes no verdict,
# only which claims the claims page marks as depending on the rate. With every fixed-σ
# row at its chosen schedule, T5 (σ = 0.1 the best fixed σ) is {glue:text}`lr_t5`; T3
# (LS-VAE above F\*-VAE, paper +0.93) is {glue:text}`lr_t3`{glue:text}`lr_t3_note`; T4
# (F\*-VAE below F(0.1), paper −0.44) is {glue:text}`lr_t4`. These verdicts are from the
# CPU-fast network at latent 1; the study at the paper's network waits for a GPU, and
# at latent 2 and 4 it is made on the same CPU-fast network (its section follows the
# latent-1 study).
#
# ### Training longer where the chosen schedule had not converged
#
# The protocol trains a run that misses the criterion further. The experiment
# `table1-lr-long` does so for {glue:text}`long_settings`: the same models, from the
# same initial weights, trained {glue:text}`long_steps` steps (twice the study's) under
# the same four schedules, with the schedule chosen again on the same selection points
# (protocol page, the entry of 2026-12-03, committed before this run).

# %% tags=["hide-input"]
long_record = experiments.record("table1-lr-long", profile, device=device)
print(made_with(long_record.provenance))
display(
    lr_study.study_table(
        long_record, title="The learning-rate study, trained longer", name="lr_study_long"
    )
)
at_longer = lr_study.rejudged(table_latent1, lr_record, longer_record=long_record)
display(
    lr_study.verdicts_side_by_side(
        at_chosen_rate,
        at_longer,
        {"before": "at the study's length", "after": "trained longer where unconverged"},
        caption="T1 to T5 at latent 1 with every fixed-σ row at its chosen schedule, before "
        "and after the settings that had not converged were trained longer.",
        name="lr_rejudged_long",
    )
)
long_conv, long_pick = lr_study.convergence(long_record), lr_study.chosen(long_record)
still = lr_study.unconverged_at_choice(lr_record, long_record)
longer_changed = lr_study.changed_verdicts(at_chosen_rate, at_longer)
longer_by_key = {v.key: v for v in at_longer}
plots.glue_values(
    {
        "long_settings": ", ".join(long_pick),
        "long_steps": f"{int(long_record.provenance['steps']):,}",
        "long_chosen": "; ".join(
            f"{s}: {sched}, {lr_study.criterion_text(long_conv[s, sched])}"
            for s, sched in long_pick.items()
        ),
        "long_still": ", ".join(still) or "none",
        "long_n_changed": lr_study.verdicts_changing(longer_changed),
        "long_changed": ", ".join(longer_changed) or "none",
        "long_verdicts": "; ".join(f"{v.key} {v.verdict}" for v in at_longer),
        "long_t4": pr.effect_text(longer_by_key["T4"]),
        "long_t5": longer_by_key["T5"].evidence,
        "long_gain": "; ".join(
            f"{s} under {sched}: {fmt(lr_study.chosen_elbo(long_record)[s].mean(), 3)} at "
            f"{long_record.config['steps']:,} steps against "
            f"{fmt(lr_study.chosen_elbo(lr_record)[s].mean(), 3)} at "
            f"{lr_record.config['steps']:,} under {lr_study.chosen(lr_record)[s]}"
            for s, sched in long_pick.items()
        ),
        "long_reading": (
            "So at twice the length the protocol's criterion is still not met for every "
            "fixed-σ row at latent 1; the protocol's next entry trains further (below). "
            + "; ".join(
                f"{s} still {'rises' if c.change > 0 else 'falls'} by {fmt(abs(c.change), 2)} "
                f"nats over the last fifth while its seeds' spread is {fmt(c.seed_std, 2)}"
                for s, sched in long_pick.items()
                if s in still
                for c in [long_conv[s, sched]]
            )
            + ": the criterion weighs the drift against how closely the seeds agree, so "
            "a row whose seeds agree closely passes only when it is nearly flat."
            if still
            else "Every fixed-σ row of the latent-1 table now meets the protocol's criterion "
            "at its chosen schedule."
        ),
    }
)

# %% [markdown]
# Trained longer, the choice is {glue:text}`long_chosen`. Its mean reported ELBO
# (paper convention): {glue:text}`long_gain`. With every fixed-σ row of the latent-1
# table at its chosen schedule, and at the length the protocol keeps, the rows that
# still miss the convergence criterion are: {glue:text}`long_still`.
# {glue:text}`long_reading`
# {glue:text}`long_n_changed` against the study's length
# ({glue:text}`long_changed`); the verdicts are now {glue:text}`long_verdicts`. The
# effects: T4's difference F\* − F(0.1) is now {glue:text}`long_t4` (at the study's
# length: {glue:text}`lr_t4`), and T5 reads {glue:text}`long_t5`.
#
# ### LS-VAE and LV-VAE under the four schedules
#
# The learned-σ rows went through the same study (`table1-lr-learned`, protocol page,
# the second entry of 2026-12-03, committed before its run): each model from its table
# row's initial weights, the same schedules, batches drawn alike for the four, σ logged
# every 1,000 steps. Besides the choice of rate it makes the test chapter 3 could not:
# whether LS-VAE's σ settles when the optimiser takes smaller steps.

# %% tags=["hide-input"]
learned_record = experiments.record("table1-lr-learned", profile, device=device)
print(made_with(learned_record.provenance))
display(
    lr_study.study_table(
        learned_record,
        title="The learning-rate study of the learned-σ rows",
        name="lr_study_learned",
    )
)
display(lr_study.sigma_table(learned_record))
sigma_steps, ls_paths = lr_study.sigma_paths(learned_record, "LS")
plots.show(
    plots.seed_lines_figure(
        {sched: (sigma_steps, paths, f"C{k}") for k, (sched, paths) in enumerate(ls_paths.items())},
        ylabel="σ of LS-VAE",
    ),
    "fig_lr_sigma",
)
at_every_choice = lr_study.rejudged(
    table_latent1, lr_record, longer_record=long_record, learned_record=learned_record
)
display(
    lr_study.verdicts_side_by_side(
        at_longer,
        at_every_choice,
        {"before": "LS, LV at 10⁻³ (the table)", "after": "LS, LV at their chosen schedule"},
        caption="T1 to T5 at latent 1 with every fixed-σ row at its chosen schedule (and "
        "length), before and after LS-VAE and LV-VAE are also taken at theirs.",
        name="lr_rejudged_learned",
    )
)
stable = lr_study.sigma_stability(learned_record)
ls_settled = lr_study.settles_under(learned_record, "LS")
calmest = lr_study.calmest_schedule(learned_record, "LS")
ls_noise = {sched: c.noise for (s, sched), c in stable.items() if s == "LS"}
learned_changed = lr_study.changed_verdicts(at_longer, at_every_choice)
plots.glue_values(
    {
        "learned_chosen": "; ".join(
            f"{s}: {sched}" for s, sched in lr_study.chosen(learned_record).items()
        ),
        "learned_unconverged": ", ".join(lr_study.unconverged_at_choice(learned_record)) or "none",
        "ls_drift": "; ".join(
            f"{sched}: {fmt(c.drift, 3)} against {fmt(c.noise, 3)}"
            for (s, sched), c in stable.items()
            if s == "LS"
        ),
        "ls_settled": ", ".join(ls_settled) or "none",
        "ls_least_drift": (
            f" The schedule under which σ drifts least, {calmest}, is one where it settles."
            if calmest in ls_settled
            else f" Yet the schedule under which σ drifts least, {calmest}, is one where it "
            f"fails: its seeds' spread of log σ, {fmt(stable['LS', calmest].noise, 2)}, is "
            + (
                "the smallest of any schedule"
                if calmest == min(ls_noise, key=ls_noise.get)
                else "smaller still than its drift"
            )
            + ". The criterion weighs the drift against the seeds' spread, so here it reads "
            "how much noise a rate leaves in σ as much as whether σ has stopped moving."
        ),
        "ls_settled_reading": (
            "under no schedule does σ settle by the criterion: at this length it keeps "
            "moving whatever the rate, so the paper's account that σ stabilises is not "
            "supported here"
            if not ls_settled
            else "σ settles by the criterion under every schedule"
            if len(ls_settled) == len(lr_study.schedules(learned_record))
            else "whether σ settles depends on the rate: the criterion holds under some "
            "schedules and not others, so T7's verdict on the table is a verdict on 10⁻³"
        ),
        "all_n_changed": lr_study.verdicts_changing(learned_changed),
        "all_changed": ", ".join(learned_changed) or "none",
        "all_verdicts": "; ".join(f"{v.key} {v.verdict}" for v in at_every_choice),
        "all_rank_only": "; ".join(
            f"{v.key} holds on the rank test alone (its difference of means, "
            f"{pr.effect_text(v)}, has an interval that contains zero)"
            for v in at_every_choice
            if v.verdict == "holds" and v.low is not None and v.low < 0 < v.high
        )
        or "every verdict that holds also has an interval of its difference that excludes zero",
    }
)

# %% [markdown]
# ```{glue:figure} fig_lr_sigma
# :name: fig-lr-sigma
#
# LS-VAE's σ along training under each schedule, one thin line per seed (log scale).
# ```
#
# The chosen schedules are {glue:text}`learned_chosen`; at them the rows that miss the
# ELBO criterion are: {glue:text}`learned_unconverged`. LS-VAE's σ criterion (median
# drift of log σ over the last tenth against the seeds' spread) reads
# {glue:text}`ls_drift`; σ settles under {glue:text}`ls_settled`, so
# {glue:text}`ls_settled_reading`.{glue:text}`ls_least_drift`
#
# With every row of the latent-1 table at its chosen schedule,
# {glue:text}`all_n_changed` against the fixed-σ rows alone
# ({glue:text}`all_changed`): {glue:text}`all_verdicts`. Of these,
# {glue:text}`all_rank_only`. T6 and T8 read LS-VAE's dense σ
# trace and its replay, which the study does not make; they stay as judged on the table.
#
# ### F(0.1) and F\* trained eight times as long
#
# Twice the steps left F(0.1) still rising, with T4's gap F\* − F(0.1) narrowing. The
# experiment `table1-lr-longest` (protocol page, the entry "F(0.1) and F\* trained eight
# times as long under 3·10⁻⁴", committed before its run) trains F(0.1), from its table
# row's initial weights, and F\* side by side for {glue:text}`longest_steps` steps under
# the constant rate {glue:text}`longest_rate`, so the two rows of T4 have the same length
# and rate. Each setting's row is then the length (60,000 steps in the study, 120,000 in
# the extension above, or this run) whose chosen schedule scores best on the selection
# points, as a schedule is chosen.

# %% tags=["hide-input"]
longest_record = experiments.record("table1-lr-longest", profile, device=device)
print(made_with(longest_record.provenance))
T4_ROWS = ("F sigma=0.1", "F*")
longest_pick = lr_study.chosen(longest_record)
longest_conv = lr_study.convergence(longest_record)
longest_curves = {s: lr_study.monitored(longest_record, s) for s in T4_ROWS}
steps_longest = longest_curves[T4_ROWS[0]][0]
shown = {
    plots.panel_label(s): (steps_longest, curves[longest_pick[s]], f"C{k}")
    for k, (s, (_, curves)) in enumerate(longest_curves.items())
}
late = np.concatenate([v[steps_longest >= steps_longest[-1] / 16] for _, v, _ in shown.values()])
plots.show(
    plots.seed_lines_figure(
        shown,
        ylabel="monitored ELBO",
        log=False,
        log_steps=True,
        ylim=(np.nanmin(late) - 0.05, np.nanmax(late) + 0.05),
    ),
    "fig_lr_longest",
)
kept = lr_study.at_best_length(lr_record, long_record, longest_record)
at_longest = lr_study.rejudged(
    table_latent1,
    lr_record,
    longer_record=long_record,
    learned_record=learned_record,
    best_of=(longest_record,),
)
display(
    lr_study.verdicts_side_by_side(
        at_every_choice,
        at_longest,
        {"before": "F(0.1) at 120,000 steps", "after": "each row at its best length"},
        caption="T1 to T5 at latent 1 with every row at its chosen schedule, before and "
        "after F(0.1) and F* may take their rows from the eight-times-longer run.",
        name="lr_rejudged_longest",
    )
)
t4_same = lr_study.t4_alone(longest_record)
longest_by_key = {v.key: v for v in at_longest}
still_longest = lr_study.unconverged_at_choice(lr_record, long_record, (longest_record,))
longest_changed = lr_study.changed_verdicts(at_every_choice, at_longest)


plots.glue_values(
    {
        "longest_steps": f"{longest_record.config['steps']:,}",
        "longest_rate": lr_study.schedules(longest_record)[0],
        "longest_conv": "; ".join(
            f"{s}: {lr_study.criterion_text(longest_conv[s, longest_pick[s]])}" for s in T4_ROWS
        ),
        "longest_rises": "; ".join(
            f"{s}: "
            + ", ".join(
                f"{r:+.3f} from {a:,} to {b:,}"
                for a, b, r in lr_study.rise_per_doubling(longest_record, s)
            )
            for s in T4_ROWS
        ),
        "longest_kept": "; ".join(
            f"{s} from {kept[s].config['steps']:,} steps (selection ELBO "
            + ", ".join(
                f"{fmt(lr_study.selection_score(r, s), 3)} at {r.config['steps']:,}"
                for r in (lr_record, long_record, longest_record)
                if s in lr_study.settings(r)
            )
            + ")"
            for s in T4_ROWS
        ),
        "longest_still": ", ".join(still_longest) or "none",
        "longest_n_changed": lr_study.verdicts_changing(longest_changed),
        "longest_changed": ", ".join(longest_changed) or "none",
        "longest_t4": f"{longest_by_key['T4'].verdict} ({pr.effect_text(longest_by_key['T4'])})",
        "longest_t4_alone": f"{t4_same.verdict} ({pr.effect_text(t4_same)})",
        "longest_verdicts": "; ".join(f"{v.key} {v.verdict}" for v in at_longest),
        "longest_falls": (
            "Under a constant rate the longer run does not settle: "
            if any(lr_study.rise_per_doubling(longest_record, s)[-1][2] < 0 for s in T4_ROWS)
            else "Over the run: "
        )
        + "; ".join(
            f"{s} peaked at step {f.peak_step:,} ({fmt(f.peak, 3)})"
            + (
                f", after which seed {f.seed} fell by {fmt(f.fall, 2)} nats in the 1,000 "
                f"steps to step {f.fall_step:,}"
                if f.seed is not None
                else ", and no seed fell after it"
            )
            for s in T4_ROWS
            for f in [lr_study.late_fall(longest_record, s)]
        )
        + (
            ". Single seeds drop suddenly and partly recover, so the mean falls and the seeds "
            "spread; a rate that decays over training, which the protocol did not plan, is "
            "the next thing to try."
            if any(lr_study.late_fall(longest_record, s).fall > 0 for s in T4_ROWS)
            else "."
        ),
        "longest_reading": " ".join(
            f"{s} passes the criterion at {longest_record.config['steps']:,} steps, but not "
            f"by levelling off: its mean fell over the last doubling while its seeds' spread "
            f"grew to {fmt(c.seed_std, 2)} (at its kept length "
            f"{fmt(lr_study.seed_sd(kept[s], s, lr_study.chosen(kept[s])[s]), 3)}), and the "
            "criterion weighs the drift against that spread."
            for s in T4_ROWS
            for c in [longest_conv[s, longest_pick[s]]]
            if c.converged
            and lr_study.rise_per_doubling(longest_record, s)[-1][2] < 0
            and c.seed_std > lr_study.seed_sd(kept[s], s, lr_study.chosen(kept[s])[s])
        ),
    }
)

# %% [markdown]
# ```{glue:figure} fig_lr_longest
# :name: fig-lr-longest
#
# The monitored ELBO (paper convention) of F(0.1) and F\* along the eight-times-longer
# run, one thin line per seed (steps on a log scale, so each doubling is the same
# width).
# ```
#
# At {glue:text}`longest_steps` steps: {glue:text}`longest_conv`. Their mean monitored
# ELBO changed, per doubling of the steps, by {glue:text}`longest_rises`.
# {glue:text}`longest_reading` {glue:text}`longest_falls`
#
# The rows kept, each at the length whose choice scores best on the selection points:
# {glue:text}`longest_kept`. With them, the rows of the latent-1 table that miss the
# convergence criterion at their chosen schedule and length are:
# {glue:text}`longest_still`. {glue:text}`longest_n_changed` against the
# previous section ({glue:text}`longest_changed`); T4 is now {glue:text}`longest_t4`,
# and between the two rows of this run alone (same length and rate, a single test)
# {glue:text}`longest_t4_alone`. The verdicts with every row at its chosen schedule and
# length: {glue:text}`longest_verdicts`.
#
# ### F(0.1) and F\* under rates that decay to zero
#
# A constant rate leaves noise in the weights that a long run does not average away; the
# usual remedy is a rate that falls over training. The protocol's entry that follows the
# one above (committed before this run) trains F(0.1) and F\* side by side for
# {glue:text}`decay_steps` steps under two such schedules, the rate falling linearly to
# zero over the run from 10⁻³ and from 3·10⁻⁴, and lets them join the choice of each
# setting's row.

# %% tags=["hide-input"]
decay_record = experiments.record("table1-lr-decay", profile, device=device)
print(made_with(decay_record.provenance))
display(
    lr_study.study_table(
        decay_record, title="F(0.1) and F* under decaying rates", name="lr_study_decay"
    )
)
steps_decay = lr_study.monitored(decay_record, T4_ROWS[0])[0]
plots.show(
    plots.schedule_curves(
        steps_decay, {s: lr_study.monitored(decay_record, s)[1] for s in T4_ROWS}
    ),
    "fig_lr_decay",
)
runs = (longest_record, decay_record)
kept_final = lr_study.at_best_length(lr_record, long_record, *runs)
at_decay = lr_study.rejudged(
    table_latent1, lr_record, longer_record=long_record, learned_record=learned_record, best_of=runs
)
display(
    lr_study.verdicts_side_by_side(
        at_longest,
        at_decay,
        {"before": "constant rates only", "after": "with the decaying rates"},
        caption="T1 to T5 at latent 1 with every row at its chosen schedule and length, "
        "before and after F(0.1) and F* may take their rows from the decaying rates.",
        name="lr_rejudged_decay",
    )
)
decay_pick, decay_conv = lr_study.chosen(decay_record), lr_study.convergence(decay_record)
still_final = lr_study.unconverged_at_choice(lr_record, long_record, runs)
decay_changed = lr_study.changed_verdicts(at_longest, at_decay)
decay_by_key = {v.key: v for v in at_decay}
t4_decay = lr_study.t4_alone(decay_record)
# Each row kept among every run, beside the row kept from the constant rates alone.
kept_rows = {
    s: (lr_study.kept_row(kept_final[s], s), lr_study.kept_row(kept[s], s)) for s in T4_ROWS
}
plots.glue_values(
    {
        "decay_steps": f"{decay_record.config['steps']:,}",
        "decay_chosen": "; ".join(
            f"{s}: {sched}, {lr_study.criterion_text(decay_conv[s, sched])}"
            for s, sched in decay_pick.items()
        ),
        "decay_kept": "; ".join(
            lr_study.kept_text(s, row, f"the best constant-rate row: {fmt(before.mean_elbo, 3)}")
            for s, (row, before) in kept_rows.items()
        ),
        "final_still": ", ".join(still_final) or "none",
        "decay_n_changed": lr_study.verdicts_changing(decay_changed),
        "decay_changed": ", ".join(decay_changed) or "none",
        "decay_t4": f"{decay_by_key['T4'].verdict} ({pr.effect_text(decay_by_key['T4'])})",
        "decay_t4_alone": f"{t4_decay.verdict} ({pr.effect_text(t4_decay)})",
        "decay_verdicts": "; ".join(f"{v.key} {v.verdict}" for v in at_decay),
    }
)

# %% [markdown]
# ```{glue:figure} fig_lr_decay
# :name: fig-lr-decay
#
# The monitored ELBO of F(0.1) and F\* under the two decaying rates: the mean over seeds
# and the range of the seeds.
# ```
#
# Under the decaying rates the choice is {glue:text}`decay_chosen`. Chosen among every
# run of each setting, the rows kept are {glue:text}`decay_kept`. With them, the rows of
# the latent-1 table that miss the convergence criterion at their chosen schedule and
# length are: {glue:text}`final_still`. {glue:text}`decay_n_changed`
# against the constant rates ({glue:text}`decay_changed`); T4 is now
# {glue:text}`decay_t4`, and between the two rows of this run alone, each at its chosen
# schedule, {glue:text}`decay_t4_alone`. The verdicts: {glue:text}`decay_verdicts`.
#
# These verdicts compare rows that were not trained alike: F(0.1) and F\* may now come
# from runs twice as long, under schedules LS-VAE and LV-VAE never had. T3 (LS-VAE above
# F\*) moved while LS-VAE's row stayed as it was: only F\*'s row changed, to a new run
# under a new schedule. The next section
# gives the learned rows the same schedules and length.
#
# ### LS-VAE and LV-VAE under the decaying rates
#
# T1, T2 and T3 each set a learned-σ row against other rows. The experiment
# `table1-lr-learned-decay` (protocol page, the entry of 2026-12-04, committed before its
# run) trains LS-VAE and LV-VAE, each from the initial weights it had in its own study,
# for {glue:text}`ldecay_steps` steps under the same two decaying rates as F(0.1) and
# F\*. Its schedules join the choice of the learned rows as the decaying rates joined the
# choice of the fixed ones.

# %% tags=["hide-input"]
learned_decay_record = experiments.record("table1-lr-learned-decay", profile, device=device)
print(made_with(learned_decay_record.provenance))
display(
    lr_study.study_table(
        learned_decay_record,
        title="LS-VAE and LV-VAE under decaying rates",
        name="lr_study_learned_decay",
    )
)
display(lr_study.sigma_table(learned_decay_record, name="lr_sigma_decay"))
learned_runs = (learned_decay_record,)
learned_kept = lr_study.at_best_length(learned_record, *learned_runs)
at_equal = lr_study.rejudged(
    table_latent1,
    lr_record,
    longer_record=long_record,
    learned_record=learned_record,
    best_of=runs,
    learned_best_of=learned_runs,
)
display(
    lr_study.verdicts_side_by_side(
        at_decay,
        at_equal,
        {"before": "LS, LV at constant rates", "after": "LS, LV with the decaying rates"},
        caption="T1 to T5 at latent 1 with every row at its chosen schedule and length, "
        "before and after LS-VAE and LV-VAE may take their rows from the decaying rates "
        "(the fixed rows as in the previous table).",
        name="lr_rejudged_learned_decay",
    )
)
# Each learned row kept among its two runs, beside its row from the constant rates alone.
learned_rows = {
    s: (lr_study.kept_row(learned_kept[s], s), lr_study.kept_row(learned_record, s))
    for s in learned_kept
}
equal_changed = lr_study.changed_verdicts(at_decay, at_equal)
equal_by_key = {v.key: v for v in at_equal}
learned_unconverged = lr_study.unconverged_at_choice(learned_record, best_of=learned_runs)
equal_unconverged = [*still_final, *learned_unconverged]
plots.glue_values(
    {
        "ldecay_steps": f"{learned_decay_record.config['steps']:,}",
        "ldecay_kept": "; ".join(
            lr_study.kept_text(s, row, f"its constant-rate row: {fmt(before.mean_elbo, 3)}")
            for s, (row, before) in learned_rows.items()
        ),
        "ldecay_sigma": "; ".join(
            f"{sched}: {fmt(c.drift, 3)} against {fmt(c.noise, 3)}"
            for (s, sched), c in lr_study.sigma_stability(learned_decay_record).items()
            if s == "LS"
        ),
        "equal_unconverged": ", ".join(equal_unconverged) or "none",
        "equal_n_changed": lr_study.verdicts_changing(equal_changed),
        "equal_changed": ", ".join(equal_changed) or "none",
        "equal_t3": f"{equal_by_key['T3'].verdict} ({pr.effect_text(equal_by_key['T3'])})",
        "equal_verdicts": "; ".join(f"{v.key} {v.verdict}" for v in at_equal),
    }
)

# %% [markdown]
# The learned rows kept, each chosen among its constant-rate study and this run:
# {glue:text}`ldecay_kept`. With them, the rows of the latent-1 table that miss the
# convergence criterion at their chosen schedule and length are
# {glue:text}`equal_unconverged`. {glue:text}`equal_n_changed` against
# the previous section ({glue:text}`equal_changed`); T3 is now {glue:text}`equal_t3`.
# The verdicts with the learned rows given the decaying schedules too:
# {glue:text}`equal_verdicts`.
#
# LS-VAE's σ criterion under the decaying rates reads {glue:text}`ldecay_sigma` (median
# drift of log σ over the last tenth against the seeds' spread). It says nothing about
# T7: as the rate falls to zero the optimiser stops moving σ whatever σ would do, so σ
# looks settled by construction. T7 stays judged under the constant rates above.
#
# ### F(0.1) and F\* under a rate decaying over eight times the steps
#
# Under the decaying rates over {glue:text}`decay_steps` steps F(0.1) still missed the
# convergence criterion (above).
# The experiment `table1-lr-decay-longest` (protocol page, the entry of 2026-12-04 after
# the one above, committed before its run) trains F(0.1) and F\* for
# {glue:text}`dlong_steps` steps under one schedule, the rate falling linearly from
# 3·10⁻⁴ to zero, so that the weights travel as far in summed rate as under the constant
# 3·10⁻⁴ by its peak and the rate's noise then dies away. It joins the choice of both
# rows as the earlier runs did.

# %% tags=["hide-input"]
dlong_record = experiments.record("table1-lr-decay-longest", profile, device=device)
print(made_with(dlong_record.provenance))
display(
    lr_study.study_table(
        dlong_record,
        title="F(0.1) and F* under the rate decaying over eight times the steps",
        name="lr_study_decay_longest",
    )
)
steps_dlong = lr_study.monitored(dlong_record, T4_ROWS[0])[0]
plots.show(
    plots.schedule_curves(
        steps_dlong, {s: lr_study.monitored(dlong_record, s)[1] for s in T4_ROWS}
    ),
    "fig_lr_decay_longest",
)
all_runs = (*runs, dlong_record)
at_last = lr_study.rejudged(
    table_latent1,
    lr_record,
    longer_record=long_record,
    learned_record=learned_record,
    best_of=all_runs,
    learned_best_of=learned_runs,
)
display(
    lr_study.verdicts_side_by_side(
        at_equal,
        at_last,
        {"before": "before this run", "after": "with this run"},
        caption="T1 to T5 at latent 1 with every row at its chosen schedule and length, "
        "before and after F(0.1) and F* may take their rows from the rate decaying over "
        "eight times the steps (the learned rows as in the previous table).",
        name="lr_rejudged_decay_longest",
    )
)
last_rows = lr_study.kept_rows(lr_record, long_record, all_runs, learned_record, learned_runs)
dlong_sched = lr_study.chosen(dlong_record)
dlong_conv = lr_study.convergence(dlong_record)
last_changed = lr_study.changed_verdicts(at_equal, at_last)
# F(0.1)'s seeds in this run: their spread is what its criterion is weighed against.
dlong_elbo = lr_study.chosen_elbo(dlong_record)
f01_elbo, f01_star = (dlong_elbo[s] for s in T4_ROWS)
t4_dlong = lr_study.t4_alone(dlong_record)
f01_fall = lr_study.late_fall(dlong_record, "F sigma=0.1")
last_by_key = {v.key: v for v in at_last}
last_unconverged = [
    *lr_study.unconverged_at_choice(lr_record, long_record, all_runs),
    *learned_unconverged,
]
plots.glue_values(
    {
        "dlong_steps": f"{dlong_record.config['steps']:,}",
        "dlong_criterion": "; ".join(
            f"{s}: {lr_study.criterion_text(dlong_conv[s, sched])}"
            for s, sched in dlong_sched.items()
        ),
        "dlong_kept": "; ".join(
            lr_study.kept_text(s, lr_study.kept_row(last_rows[s], s)) for s in T4_ROWS
        ),
        "dlong_f01_seeds": f"from {fmt(f01_elbo.min(), 3)} to {fmt(f01_elbo.max(), 3)}",
        "dlong_f01_fall": (
            f"{fmt(f01_fall.fall, 2)} nats between two logs, at step {f01_fall.fall_step:,} "
            f"of {dlong_record.config['steps']:,}, where the linearly decaying rate is at "
            f"{1 - f01_fall.fall_step / dlong_record.config['steps']:.0%} of its start"
            if f01_fall.fall_step is not None
            else "no seed fell after it"
        ),
        "dlong_f01_above": f"{int((f01_elbo > f01_star.mean()).sum())} of {f01_elbo.size}",
        "dlong_t4_alone": f"{t4_dlong.verdict} ({pr.effect_text(t4_dlong)})",
        "last_unconverged": ", ".join(last_unconverged) or "none",
        "last_n_changed": lr_study.verdicts_changing(last_changed),
        "last_changed": ", ".join(last_changed) or "none",
        "last_t4": f"{last_by_key['T4'].verdict} ({pr.effect_text(last_by_key['T4'])})",
        "last_verdicts": "; ".join(f"{v.key} {v.verdict}" for v in at_last),
    }
)

# %% [markdown]
# ```{glue:figure} fig_lr_decay_longest
# :name: fig-lr-decay-longest
#
# The monitored ELBO of F(0.1) and F\* under the rate decaying from 3·10⁻⁴ to zero over
# eight times the study's steps: the mean over seeds and the range of the seeds.
# ```
#
# In this run the criterion reads {glue:text}`dlong_criterion`. F(0.1) passes it as
# written, but only because its seeds spread so widely: their reported ELBO runs
# {glue:text}`dlong_f01_seeds` ({glue:text}`dlong_f01_above` seeds end above F\*'s seed
# mean), and after the seed mean's peak single seeds still fell, the largest by
# {glue:text}`dlong_f01_fall`. Chosen among every run of each setting, the rows kept are
# {glue:text}`dlong_kept`. The rows of the latent-1 table
# that miss the convergence criterion at their kept schedule and length are now
# {glue:text}`last_unconverged`. {glue:text}`last_n_changed` against the
# previous section ({glue:text}`last_changed`); T4 is {glue:text}`last_t4`, and between
# the two rows of this run alone {glue:text}`dlong_t4_alone`. The verdicts at this step:
# {glue:text}`last_verdicts`.
#
# ### LS-VAE and LV-VAE under the same decay over eight times the steps
#
# At that step the four rows T1 to T4 compare were trained unalike: F(0.1) and F\* for
# {glue:text}`dlong_steps` steps under the rate decaying from 3·10⁻⁴, LS-VAE and LV-VAE as
# kept at the step before ({glue:text}`ldecay_kept`); and the rows still missing the
# criterion were {glue:text}`last_unconverged`. The experiment
# `table1-lr-learned-decay-longest` (protocol page, the entry "LS-VAE and LV-VAE under the
# rate decaying from 3·10⁻⁴ over 480,000 steps", committed before the run) trains LS-VAE
# and LV-VAE, each from the initial weights it had in its own study, for
# {glue:text}`ldlong_steps` steps under the schedule F(0.1) and F\* had: the rate falling
# linearly from 3·10⁻⁴ to zero. It joins the choice of the learned rows as the earlier
# runs did. T1 to T5 are then also judged with F(0.1), F\*, LS-VAE and LV-VAE read from
# the two runs under this schedule, whatever the choice keeps, so that the claims between
# those four rows are judged on rows trained alike.

# %% tags=["hide-input"]
ldlong_record = experiments.record("table1-lr-learned-decay-longest", profile, device=device)
print(made_with(ldlong_record.provenance))
display(
    lr_study.study_table(
        ldlong_record,
        title="LS-VAE and LV-VAE under the rate decaying over eight times the steps",
        name="lr_study_learned_decay_longest",
    )
)
display(lr_study.sigma_table(ldlong_record, name="lr_sigma_learned_decay_longest"))
plots.show(
    plots.schedule_curves(
        lr_study.monitored(ldlong_record, lr_study.LEARNED_SETTINGS[0])[0],
        {s: lr_study.monitored(ldlong_record, s)[1] for s in lr_study.LEARNED_SETTINGS},
    ),
    "fig_lr_learned_decay_longest",
)
final_learned_runs = (*learned_runs, ldlong_record)
at_final = lr_study.rejudged(
    table_latent1,
    lr_record,
    longer_record=long_record,
    learned_record=learned_record,
    best_of=all_runs,
    learned_best_of=final_learned_runs,
)
display(
    lr_study.verdicts_side_by_side(
        at_last,
        at_final,
        {"before": "before this run", "after": "with this run"},
        caption="T1 to T5 at latent 1 with every row at its chosen schedule and length, "
        "before and after LS-VAE and LV-VAE may take their rows from the rate decaying over "
        "eight times the steps (the fixed rows as in the previous table).",
        name="lr_rejudged_learned_decay_longest",
    )
)
final_rows = lr_study.kept_rows(
    lr_record, long_record, all_runs, learned_record, final_learned_runs
)
# F(0.1), F*, LS and LV from the two runs of one schedule and length, whatever was kept.
at_alike = lr_study.judged_on(
    table_latent1, lr_study.trained_alike(final_rows, dlong_record, ldlong_record)
)
display(
    lr_study.verdicts_side_by_side(
        at_final,
        at_alike,
        {"before": "rows kept by the choice", "after": "F(0.1), F*, LS, LV trained alike"},
        caption="T1 to T5 at latent 1: with every row as the choice keeps it, and with "
        "F(0.1), F*, LS-VAE and LV-VAE all read from the two runs under the rate decaying "
        "from 3·10⁻⁴ over 480,000 steps (the other fixed rows as kept).",
        name="lr_rejudged_alike",
    )
)
display(lr_study.kept_table(final_rows))
# Every verdict at every step of the study, in the order the steps were made.
path = lr_study.judgement_path(
    table_latent1,
    lr_record,
    long_record,
    learned_record,
    [(label, experiments.record(name, profile, device=device)) for label, name in MADE_STEPS],
)
display(lr_study.verdict_path(path))
ldlong_conv = lr_study.convergence(ldlong_record)
final_changed = lr_study.changed_verdicts(at_last, at_final)
alike_changed = lr_study.changed_verdicts(at_final, at_alike)
# The paired reading of F(0.1)'s kept row: its seeds' own changes over the last fifth.
f01_trend = lr_study.kept_row(final_rows[T4_ROWS[0]], T4_ROWS[0]).trend
final_unconverged = [
    *lr_study.unconverged_at_choice(lr_record, long_record, all_runs),
    *lr_study.unconverged_at_choice(learned_record, best_of=final_learned_runs),
]
plots.glue_values(
    {
        "ldlong_steps": f"{ldlong_record.config['steps']:,}",
        "ldlong_criterion": "; ".join(
            f"{s}: {lr_study.criterion_text(ldlong_conv[s, sched])}"
            for s, sched in lr_study.chosen(ldlong_record).items()
        ),
        "ldlong_kept": "; ".join(
            lr_study.kept_text(s, lr_study.kept_row(final_rows[s], s))
            for s in lr_study.LEARNED_SETTINGS
        ),
        "ldlong_sigma": "; ".join(
            f"{sched}: {fmt(c.drift, 3)} against {fmt(c.noise, 3)}"
            for (s, sched), c in lr_study.sigma_stability(ldlong_record).items()
            if s == "LS"
        ),
        "final_unconverged": ", ".join(final_unconverged) or "none",
        "final_n_changed": lr_study.verdicts_changing(final_changed),
        "final_changed": ", ".join(final_changed) or "none",
        "final_verdicts": "; ".join(f"{v.key} {v.verdict}" for v in at_final),
        "alike_n_changed": lr_study.verdicts_changing(alike_changed, "differ"),
        "alike_changed": ", ".join(alike_changed) or "none",
        "alike_verdicts": "; ".join(f"{v.key} {v.verdict} ({v.evidence})" for v in at_alike),
        "path_moved": ", ".join(lr_study.moved_by_choice(path)) or "none",
        "path_moved_rerun": ", ".join(lr_study.moved_by_rerun(path)) or "none",
        "lr_pending": ", ".join(n for n in LR_PENDING if n not in pending_latent_studies())
        or "none",
        "final_moving": ", ".join(lr_study.moving_rows(final_rows)) or "none",
        "f01_trend": lr_study.trend_text(f01_trend),
        "f01_largest_move": fmt(max(abs(c) for c in f01_trend.changes), 2),
        "f01_trend_reading": (
            "they move together, a common trend the registered criterion misses"
            if f01_trend.moving
            else "they move in both directions, and this test finds no common trend "
            "(which does not show that there is none)"
            if f01_trend.rising and f01_trend.falling
            else "they move one way, though not significantly by this test"
        ),
    }
)

# %% [markdown]
# ```{glue:figure} fig_lr_learned_decay_longest
# :name: fig-lr-learned-decay-longest
#
# The monitored ELBO of LS-VAE and LV-VAE under the rate decaying from 3·10⁻⁴ to zero
# over eight times the study's steps: the mean over seeds and the range of the seeds.
# ```
#
# In this run the criterion reads {glue:text}`ldlong_criterion`. Chosen among every run
# of each learned setting, the rows kept are {glue:text}`ldlong_kept`. The rows of the
# latent-1 table that miss the convergence criterion at their kept schedule and length
# are now {glue:text}`final_unconverged`. {glue:text}`final_n_changed`
# against the previous section ({glue:text}`final_changed`). The verdicts at the last
# step of the study, every row as the choice keeps it: {glue:text}`final_verdicts`.
#
# With F(0.1), F\*, LS-VAE and LV-VAE trained alike (same schedule, length, monitor and
# evaluation points; the other fixed rows as kept), {glue:text}`alike_n_changed`
# from those ({glue:text}`alike_changed`): {glue:text}`alike_verdicts`. LS-VAE's
# σ criterion under this schedule reads {glue:text}`ldlong_sigma`; as under the shorter
# decays it says nothing about T7, since the falling rate stills σ by construction.
#
# The kept-rows table gives each row's length and schedule, so that claims between rows
# trained unlike can be seen to. Its last column is a paired reading of the criterion's
# window, added after these runs had been read (protocol page, the entry "A paired reading
# of the fixed-σ criterion, reported beside it"; it decides nothing): each seed's own
# change over the last fifth, tested against zero by the signed-rank test, so that the
# seeds' spread cancels. The rows it finds still moving: {glue:text}`final_moving`. For
# F(0.1), which passes the registered criterion only through its seeds' spread (previous
# section), it reads {glue:text}`f01_trend` (seeds up / down): single seeds still move, by
# up to {glue:text}`f01_largest_move` nats over the last fifth;
# {glue:text}`f01_trend_reading`.
#
# The last table follows each claim through every step of the study. Two of its steps
# change no schedule: the fixed rows, then LS-VAE and LV-VAE, trained again at the
# table's rate 10⁻³ (other batches and evaluation points), each read just before the
# step that moves the same rows to their chosen schedules. They split those two moves,
# as the study at latent 2 and 4 does below: what retraining alone does, and what the
# choice does. The later steps cannot be split so, since each trains a new stack whose
# rows also get other batches. The claims whose verdict moved at a step that changed a
# schedule or a length (with the batches redrawn), so that the learning rate or the
# length of training may decide them here: {glue:text}`path_moved`. Those whose verdict
# moved at a step that only trained the rows again: {glue:text}`path_moved_rerun`.
#
# ## The learning-rate study at latent 2 and 4
#
# The protocol asks for the study at every latent dimension. At latent 2 and 4 it is made
# as it was first made at latent 1 (protocol page, the entry "The learning-rate study at
# latent 2 and 4", committed before these runs): the fixed-σ rows, F\* at the σ that
# LS-VAE learned in that latent's table, then LS-VAE and LV-VAE, under the same four
# schedules and length. Each grid model, LS-VAE and LV-VAE start from the initial weights
# of their rows of that latent's calibrated table (F\* from those of its LS-VAE row, as at
# latent 1); the schedule is chosen on the selection points and T1 to T5 are judged again
# on that latent's table. The runs were made one at a time on a 2-core CPU (the line above
# each table gives the run's time); made: {glue:text}`lrd_made`. Registered and not yet
# made: {glue:text}`lrd_pending`.

# %% tags=["hide-input"]
latent_reads, extended = {}, made_latent_extensions()
further_names = {exp.name for exp in FURTHER.values()} | {LEARNED_ALIKE.name}
row_lengths = {}  # (latent, setting): the runs holding a row trained further
further_schedules = {}  # (latent, setting, steps): that row under each schedule of a step
STUDY_ROWS = ("fixed-σ rows", "LS-VAE and LV-VAE")  # a latent's studies, in order of making
for d, names in made_latent_studies().items():
    made = [experiments.record(n, profile, device=device) for n in names]
    for i, record in enumerate(made):
        print(made_with(record.provenance))
        title = f"The learning-rate study at latent {d}, {STUDY_ROWS[i]}"
        display(lr_study.study_table(record, title, name=f"lr_study_latent{d}_{i}"))
    longer = [experiments.record(n, profile, device=device) for n in extended.get(d, [])]
    for i, (name, record) in enumerate(zip(extended.get(d, []), longer, strict=True)):
        if name in further_names:  # its rows were trained at several lengths: each one
            for setting in lr_study.settings(record):
                row_lengths[d, setting] = [*made, *longer]  # read once, after the loop
                steps = record.config["steps"]
                further_schedules[d, setting, steps] = lr_study.schedules_text(record, setting)
        print(made_with(record.provenance))
        title = (
            f"The learning-rate study at latent {d}, the rows trained longer "
            f"({record.config['steps']:,} steps)"
        )
        display(lr_study.study_table(record, title, name=f"lr_study_latent{d}_long{i}"))
    latent_reads[d] = lr_latents.read_latent(records[d], *made, extensions=longer)
    display(
        lr_study.verdicts_side_by_side(
            latent_reads[d].before,
            latent_reads[d].after,
            {"before": "every row at 10⁻³ (the table)", "after": "studied rows as kept"},
            caption=f"T1 to T5 at latent {d}, judged on the calibrated table as trained and "
            "with the study's rows as kept: at their chosen schedules, and at the length "
            "chosen with it where a row was trained longer (LS-VAE and LV-VAE stay the "
            "table's until their study is made); same tests and Holm family as above.",
            name=f"lr_rejudged_latent{d}",
        )
    )
    display(lr_study.verdict_path(latent_reads[d].path, name=f"lr_path_latent{d}", latent_dim=d))
# Every row as kept at every latent dimension (latent 1's from the last step of its study).
kept_everywhere = ledger.ledger(
    {s: lr_study.kept_row(record, s) for s, record in final_rows.items()}, latent_reads
)
plots.glue_values(
    {
        "lrd_made": lr_latents.made_text(latent_reads),
        "lrd_pending": ", ".join(pending_latent_studies()) or "none",
        "lrd_further": further_text(profile),
        "lrd_lengths": ". ".join(
            f"At latent {d}, {s}: {lr_study.lengths_text(s, runs)}"
            for (d, s), runs in row_lengths.items()
        )
        or "none made yet",
        "lrd_further_schedules": ". ".join(
            f"At latent {d}, {s}, {n:,} steps: {t}" for (d, s, n), t in further_schedules.items()
        )
        or "none made yet",
        "lrd_moved": lr_latents.per_latent(latent_reads, lr_latents.moved_text),
        "lrd_diverged": lr_latents.per_latent(latent_reads, lr_latents.diverged_text),
        "lrd_unconverged": lr_latents.per_latent(latent_reads, lr_latents.unconverged_text),
        "lrd_kept_unconverged": lr_latents.per_latent(
            latent_reads, lr_latents.kept_unconverged_text
        ),
        "lrd_extended": lr_latents.per_latent(latent_reads, lr_latents.extended_text),
        "lrd_changed": lr_latents.per_latent(latent_reads, lr_latents.changed_text),
        "lrd_rerun": lr_latents.per_latent(latent_reads, lr_latents.rerun_text),
        "lrd_choice": lr_latents.per_latent(latent_reads, lr_latents.choice_text),
        "lrd_verdicts": lr_latents.per_latent(latent_reads, lr_latents.verdicts_text),
        "lrd_path_moved": lr_latents.per_latent(
            latent_reads, lambda r: ", ".join(r.moved_by_choice) or "none"
        ),
        "lrd_sigma": lr_latents.per_latent(latent_reads, lr_latents.sigma_text),
        "lrd_sigma_rerun": lr_latents.per_latent(latent_reads, lr_latents.sigma_rerun_text),
        "lrd_latent4_t2_t5": "; ".join(
            f"{v.key} {v.verdict}, {v.evidence}"
            for v in (latent_reads[4].after if 4 in latent_reads else [])
            if v.key in ("T2", "T5")
        )
        or "not studied yet",
        "lrd_ledger_falling": ledger.rows_text(
            ledger.rows_standing(kept_everywhere, ledger.FALLING)
        ),
        "lrd_ledger_rising": ledger.rows_text(ledger.rows_standing(kept_everywhere, ledger.RISING)),
    }
)

# %% [markdown]
# For each latent dimension whose study is made, in the order of the tables above:
#
# * **Chosen schedules other than the tables' 10⁻³** (gain in mean reported ELBO, nats,
#   and the seeds' spread at 10⁻³): {glue:text}`lrd_moved`.
# * **Seeds that diverged:** {glue:text}`lrd_diverged`.
# * **Rows that miss the convergence criterion** in the study's own runs, at 10⁻³ and at
#   the chosen schedules (LS-VAE and LV-VAE among them), and,
#   where some row was trained longer, at the rows as kept:
#   {glue:text}`lrd_unconverged`. In the tables, trained at 10⁻³ on other batches, the
#   fixed-σ rows that missed it were {glue:text}`unconverged_by_latent`.
# * **Rows trained longer** because their chosen schedule missed the criterion, kept at
#   the longer length where its chosen schedule scores better on the selection points:
#   {glue:text}`lrd_extended`.
# * **Verdicts that move** from the table as trained to the study's rows as kept (chosen
#   schedule, and length where trained longer): {glue:text}`lrd_changed`. A move has two
#   parts, since the study trains every row again: from the table to the study's rows at
#   the same rate 10⁻³, which differ only in their batches (and F\*'s initial weights),
#   {glue:text}`lrd_rerun`; and from those rows to the rows as kept, the choice's part
#   (where a row was trained longer, in a new stack with other batches, that part also
#   holds a new draw), {glue:text}`lrd_choice`. The verdicts with the rows as kept:
#   {glue:text}`lrd_verdicts`.
# * **Every step.** The last table of each latent dimension follows every claim through
#   the steps in the order they were made, as at latent 1: the fixed rows at 10⁻³, then
#   at their choice, the same for LS-VAE and LV-VAE, then each run that trained rows
#   longer, joining the choice as it was made. A claim can move at a step and move back
#   later, which the before-and-after comparison above does not show. The claims that
#   moved at some step that changed a schedule or a length: {glue:text}`lrd_path_moved`.
# * **LS-VAE's σ settles** (median drift of log σ over the last tenth within the seeds'
#   spread, T7 per rate; seeds that diverged are named, the criterion reads the others;
#   then, where LS-VAE was trained longer, the same criterion in the longest such run
#   whose rate does not fall to 0, which describes and does not change T7's verdict):
#   {glue:text}`lrd_sigma`.
#
# * **T7 read again at 10⁻³.** T7's verdict reads LS-VAE's σ in the table's own run;
#   the study trains LS-VAE again at the same rate, from the same initial weights, on
#   other batches. The two readings (median drift of log σ over the last tenth against
#   the seeds' spread): {glue:text}`lrd_sigma_rerun`. Where they disagree, T7's verdict
#   at that latent dimension depends on the training it reads; the claims page marks it
#   so. The criterion weighs the drift against the seeds' spread, and either can move
#   between two trainings: the numbers above say which did (one seed that ends far from
#   the others widens the spread on its own).
#
# At latent 1 the study grew in further registered steps (longer runs, decaying rates)
# wherever a chosen row had not converged. At latent 2 and 4 the first such step was
# registered in the protocol page's entry "The latent-2 rows whose chosen schedule missed
# the criterion, trained longer" and the two on the latent-4 rows after it, each
# committed before its runs. Each row whose chosen schedule missed the criterion is
# trained again, from the same initial weights, for twice the steps under the same four
# schedules, and kept at the length whose chosen schedule scores best on the selection
# points. The rows kept at a longer length are listed above. For the fixed-σ row still
# unconverged at twice the steps, whose ELBO had risen with each doubling of the steps,
# further steps were registered, each on the protocol page before its run:
# {glue:text}`lrd_further`. LS-VAE and LV-VAE at latent 4 were then trained alike with
# its last step (same schedule and length), since F(0.01) so trained scored above
# LS-VAE as then kept (protocol page, the note on `table1-lr-furthest-latent4`). Each row
# is kept at whichever of its lengths scores best. Those rows at each length they were
# trained (the schedule chosen there, the mean selection ELBO that decides between
# lengths, and the criterion): {glue:text}`lrd_lengths`.
#
# **Why F(0.01) at latent 4 does not meet the criterion.** At σ = 0.01 the
# reconstruction term dominates the loss, and Adam divides each step by a running estimate
# of the gradient's size, so however large that term is the weights move by about the rate
# at every step; at a constant rate they keep jittering around the optimum by an amount
# the rate sets. What σ changes is the price of that jitter. The reconstruction term
# charges each squared error 1/(2σ²), which is 5,000 at σ = 0.01 against 50 at σ = 0.1, so
# the same wobble of the decoder's output costs a hundred times more ELBO at σ = 0.01.
# Under each schedule of the further steps (mean reported ELBO and the criterion):
# {glue:text}`lrd_further_schedules`. The row meets the criterion only where the rate
# stays up, and there at a far lower ELBO than under a decaying rate: on average it has
# stopped improving, at a level the jitter sets, not at its best. A rate falling to 0
# shrinks the jitter, and the ELBO climbs through the last fifth by more than the seeds'
# spread, which the same annealing narrows; each doubling of the length raised the ELBO
# again.
#
# So the row is unconverged by the criterion, and what holds it back is the optimiser's
# jitter rather than the model: its score rose with every step added. Where it stands
# at its longest, against LS-VAE (T2) and against the other fixed rows (T5):
# {glue:text}`lrd_latent4_t2_t5`. LS-VAE and LV-VAE under the same decaying rate and
# length behave the same way: they too score best there and climb through the last
# fifth by more than their seeds' spread, so they are reported unconverged as kept.
# Claims between these three rows compare rows trained alike. The other rows at latent
# 4 are kept at their own lengths and schedules (the ledger on the claims page gives
# each), so T3 (LS-VAE against F\*) and T5 (F(0.01) against the other fixed rows)
# compare rows trained unlike.
#
# ## What still holds the sharpest fixed σ down at latent 1
#
# At latent 1 the rows with the smallest σ score far below every other row of the
# table, and the learning-rate study found no schedule or length that lifts them near
# the rest (its tables above). The ELBO's own terms show what holds them down. In two
# dimensions the reconstruction term is −|x − μ(z)|²/(2σ²) − log(2πσ²), so a row's mean
# log-likelihood gives back its mean squared reconstruction error |x − μ(z)|², and each
# unit of that error costs 1/(2σ²) nats. With one latent dimension the decoder's means
# lie on a curve in the plane, so a point's offset across the curve cannot be coded. A
# decoder that traced the data's own curve would leave the data's noise across it:
# {glue:text}`across_curve` (the mean squared distance of fresh points to the curve;
# from the noise levels alone, the scale squared times the mean of s² over the three
# regions, {glue:text}`across_curve_approx`, which ignores the curve's bends).

# %% tags=["hide-input"]
data_scale = records[latents[0]].config["data_scale"]
across = curve_residual.across_curve_variance(data_scale)
display(curve_residual.residual_table(records, across))
residual_rows = {d: curve_residual.fixed_rows(rec) for d, rec in records.items()}
higher = [d for d in residual_rows if d > 1]
kept_residual = curve_residual.kept_fixed_rows(final_rows)  # latent 1, as the study keeps it
plots.glue_values(
    {
        "across_curve": fmt(across, 3),
        "across_curve_approx": fmt(curve_residual.across_curve_approx(data_scale), 3),
        "latent1_shares": curve_residual.per_row_text(residual_rows[1], "mse", across),
        "latent1_costs": curve_residual.per_row_text(residual_rows[1], "cost"),
        "higher_shares": "; ".join(
            f"at latent {d}: {curve_residual.per_row_text(residual_rows[d], 'mse', across)}"
            for d in higher
        ),
        "higher_costs": "; ".join(
            f"at latent {d}: {curve_residual.per_row_text(residual_rows[d], 'cost')}"
            for d in higher
        ),
        "latent1_kept_shares": curve_residual.per_row_text(kept_residual, "mse", across),
        "latent1_kept_costs": curve_residual.per_row_text(kept_residual, "cost"),
        "paper_f001": t1.PAPER_TABLE1["F sigma=0.01"],
        "f001_by_latent": "; ".join(
            f"latent {d}: {sig(rows['F sigma=0.01']['elbo'], 3)}"
            for d, rows in residual_rows.items()
        ),
    }
)

# %% [markdown] At latent 1 the rows' error, as a share of that noise, is
# {glue:text}`latent1_shares`: for the sharp rows it stops at about the noise across the
# curve (a decoder can fold its curve towards the points and leave a little less, so the
# noise is a reference, not a bound), and what it costs grows as 1/σ²:
# {glue:text}`latent1_costs` nats. At latent 2 and 4 the second latent coordinate carries
# the offset, and the error keeps falling with σ ({glue:text}`higher_shares`) while its
# cost stays near 1 nat ({glue:text}`higher_costs`). A cost near 1 nat means σ is about
# the size of the error left: if the error has variance σ² in each of the D = 2
# coordinates, its mean cost |x − μ|²/(2σ²) is D/2 = 1; the slow rise as σ shrinks says
# the error shrinks a little more slowly than σ². The rows as the learning-rate study
# keeps them (their schedule and length chosen on the selection points) show the same
# floor at latent 1: error {glue:text}`latent1_kept_shares` times the noise across the
# curve, costing {glue:text}`latent1_kept_costs` nats. So most of what the sharp rows lose
# at latent 1 is what a one-dimensional code pays for a precision finer than the data's
# noise across the curve; the optimiser's share, which the study measured, is small beside
# it. The paper's F(0.01), {glue:text}`paper_f001`, is of the size of our latent-2 and
# latent-4 rows, not of latent 1's (mean ELBO of our F(0.01) rows, paper convention:
# {glue:text}`f001_by_latent`).
#
# ## LS-VAE's σ along training
#
# The protocol traces σ at every step of the first 300 (the paper's early phase, where
# σ is large and falls fastest) and every 20 steps after.

# %% tags=["hide-input"]
traces = {d: pr.ls_sigma_trace(rec) for d, rec in records.items()}
dense = records[latents[0]].config["dense_trace_steps"]
plots.show(plots.sigma_by_latent(traces, dense_until=dense), "fig_sigma_latent")

# %% [markdown]
# ```{glue:figure} fig_sigma_latent
# :name: fig-sigma-latent
#
# LS-VAE's learned σ, one line per seed, at each latent dimension (log-log; shaded: the
# steps traced one by one).
# ```
#
# ## What remains of the protocol
#
# * The paper's network, 200,000 steps or more with resumption until the criteria are
#   met, and the learning-rate study at that scale, for every setting and latent
#   dimension (here it covers the rows of the latent-1 table on the CPU-fast network, and
#   at latent 2 and 4 the runs listed in the section on those latent sizes): the `paper`
#   profile of the same experiments, for a GPU.
# * At latent 1, the rows that miss the convergence criterion at their kept schedule and
#   length, at the last step of the study: {glue:text}`final_unconverged`. Registered on
#   the protocol page and not yet run: {glue:text}`lr_pending`.
# * At latent 2 and 4, the rows that miss the criterion as kept (chosen schedule, and the
#   longer length where it scored better), with the extensions made so far:
#   {glue:text}`lrd_kept_unconverged`. Beyond the doubled length, further steps were
#   registered for F(0.01) at latent 4 alone, with LS-VAE and LV-VAE at latent 4 trained
#   alike with its last (see the section on those latent sizes); LV-VAE at latent 2 gets
#   none. Runs registered and not yet made: {glue:text}`lrd_pending`.
# * Across the three latent dimensions, the rows as kept still falling over the last fifth
#   by more than their seeds' spread: {glue:text}`lrd_ledger_falling`; still rising by
#   more than it: {glue:text}`lrd_ledger_rising`. The claims page ({doc}`06_claims`)
#   gives every row's standing in one table.
# * The other parts of the protocol have been run at CPU scale: the sphere grid (claim
#   S1) on the page {doc}`06_claims`, and the image claims (I1 to I4, 5 seeds, a
#   sample-quality score) in {doc}`04_images`.
