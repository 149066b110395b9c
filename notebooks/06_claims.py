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
# # The paper's claims and our verdicts
#
# One table of every claim of the paper {cite}`berger2020vae` that this book tests, with
# our verdict, the evidence behind it (effect, test, p-value and the scale of the runs)
# and the choices the verdict depends on; then the errata, each with the check that
# finds it. The verdicts use the protocol's three words ({doc}`../book/protocol`):
# **holds**, **contradicted**, **not shown**, and **not tested** where no run of ours
# addresses the claim yet. Where our runs are smaller than the paper's, the scale column
# says so; a verdict is a verdict on that scale.

# %% tags=["parameters"]
# Papermill parameters: "smoke" (seconds), "book" (the committed results), "paper" (GPU).
profile = "book"
device = "auto"

# %% tags=["hide-input"]
import math

import numpy as np
from IPython.display import display

from lvae import experiments, plots, report, theory
from lvae.analysis import errata, ledger, lr_latents, lr_study
from lvae.analysis import image_protocol as ip
from lvae.analysis import protocol as pr
from lvae.analysis import sphere as sp
from lvae.analysis.scale import NOT_SHOWN, REPRODUCED, across, on_scale
from lvae.experiments.sphere_vae import GRID_RATIOS, grid_name
from lvae.experiments.table1 import CALIBRATED_LATENTS, CALIBRATED_PENDING, calibrated_name
from lvae.experiments.table1_lr import (
    LATENT1_ALIKE,
    MADE_STEPS,
    made_latent_extensions,
    made_latent_studies,
)
from lvae.report import made_with

plots.use_book_style()

# %% [markdown]
# ## The answer, claim by claim
#
# The paper's four claims about differences between rows of Table 1, each with one
# answer across the three latent sizes of the calibrated tables. Beside the registered
# test (does the direction hold?) each is placed on the verdict scale of the protocol's
# entry of 2026-12-07 (written after these results were read, so it is a reading, not a
# registered test): **reproduced** when our 95% interval reaches the paper's effect,
# **weaker** when the claim holds but the interval stops short of the paper's effect,
# **stronger** when it lies beyond it, **not shown** and **contradicted** as registered.
# Our effect is also given as a fraction of the paper's. T2 is read against every fixed
# σ, F\* included.

# %% tags=["hide-input"]
latents = [d for d in CALIBRATED_LATENTS if d not in CALIBRATED_PENDING]
tables = {d: experiments.record(calibrated_name(d), profile, device=device) for d in latents}
by_latent = {d: pr.verdicts(rec) for d, rec in tables.items()}
judged, depends = pr.by_claim(by_latent), pr.depends_on_latent(by_latent)
scale_2d = pr.common_scale(tables.values())
answer_rows, cells = [], []  # cells: every (claim, latent) on the scale
for key in ("T1", "T2", "T3", "T4"):
    scaled = {
        d: on_scale(v.verdict, v.effect, v.low, v.high, v.paper) for d, v in judged[key].items()
    }
    cells += scaled.values()
    word, _ = across({d: s.word for d, s in scaled.items()})
    answer_rows.append(
        [
            key,
            pr.CLAIMS[key],
            pr.paper_cell(judged[key][latents[0]]),
            *(
                f"{judged[key][d].effect:+.3f} ({100 * scaled[d].fraction:.0f}%), {scaled[d].word}"
                for d in latents
            ),
            word,
        ]
    )
display(
    report.table(
        answer_rows,
        ["id", "claim", "paper", *(f"ours, latent {d}" for d in latents), "answer"],
        caption=f"The difference claims T1–T4: the paper's effect (differences of its Table 1 "
        "means, nats per point), ours at each latent size (difference of means, as a "
        "percentage of the paper's, and its word on the verdict scale) and one answer "
        f"across latents. Calibrated tables: {scale_2d}; constant Adam rate 10⁻³.",
        name="claims_answers",
        align_left=2,
    )
)
plots.glue_values(
    {
        "n_reproduced": sum(c.word == REPRODUCED for c in cells),
        "n_difference_cells": len(cells),
        "n_not_shown": sum(c.word == NOT_SHOWN for c in cells),
        "n_not_shown_excluding": sum(c.word == NOT_SHOWN and c.excludes_paper for c in cells),
    }
)

# %% [markdown]
# In {glue:text}`n_reproduced` of the {glue:text}`n_difference_cells` claim-and-latent
# cells does our interval reach the paper's effect. Where a difference claim holds, our
# effect is a fraction of the paper's. Of the {glue:text}`n_not_shown` cells where it is
# not shown, {glue:text}`n_not_shown_excluding` have an interval that leaves the paper's
# effect out: there the data argue against an effect of the paper's size on this network,
# rather than saying nothing. These verdicts come from the CPU-fast network
# (2 residual blocks of 64 units); the paper's network is being trained on the same data
# for the capacity run registered on the protocol page.
#
# ## The claims
#
# The 2-D rows come from {doc}`05_table1_protocol` (calibrated data, every latent
# dimension of the protocol that has been trained). The image rows come from the
# protocol's image runs in {doc}`04_images` (5 seeds, 100 held-out images and 1,000
# generated images of every model); their evidence is MNIST's, the paper's dataset, and
# their verdict names each dataset. The first hypersphere row rests on the
# exact computation of chapter 1; the second on the protocol's grid of trained VAEs,
# shown in the next section.

# %% tags=["hide-input"]
# The learning-rate studies (chapter 5): T1-T5 at latent 1 with every row at the Adam
# schedule chosen for it (F(0.1) and F* at the length and schedule chosen among the study,
# its longer runs and the decaying rates; LS-VAE and LV-VAE among their study and the
# same decaying rates). A claim whose verdict moves at a step that changes a schedule or
# a length depends on the learning rate, and so does T7 when LS-VAE's σ settles under
# some constant rates and not others; a claim that moves at one of the steps that only
# train rows again at the tables' rate depends on retraining (lr_study.RERUN_STEPS).
lr_record = experiments.record("table1-lr", profile, device=device)
lr_longer = experiments.record("table1-lr-long", profile, device=device)
lr_learned = experiments.record("table1-lr-learned", profile, device=device)
lr_steps = [(label, experiments.record(name, profile, device=device)) for label, name in MADE_STEPS]
lr_path = lr_study.judgement_path(tables[1], lr_record, lr_longer, lr_learned, lr_steps)
rate_dependent = lr_study.moved_by_choice(lr_path)
draw_dependent = lr_study.moved_by_rerun(lr_path)
# The verdicts at the study's last step: every row at the schedule and length kept for it.
after_study = {v.key: v for v in list(lr_path.values())[-1]}
# And with F(0.1), F*, LS-VAE and LV-VAE read from the two runs that trained them alike
# (one schedule and length): a verdict that differs there moved when those rows' schedule
# and length changed (its own rows, or another claim's through the Holm family).
latent1_kept = lr_study.final_kept_rows(lr_record, lr_longer, lr_learned, lr_steps)
alike_runs = [experiments.record(name, profile, device=device) for name in LATENT1_ALIKE]
at_alike = {
    v.key: v
    for v in lr_study.judged_on(tables[1], lr_study.trained_alike(latent1_kept, *alike_runs))
}
rate_dependent += [
    k
    for k, v in at_alike.items()
    if v.verdict != after_study[k].verdict and k not in rate_dependent
]
if lr_study.sigma_settling_depends_on_rate(lr_learned):
    rate_dependent.append("T7")
# T7 read again on LS-VAE trained at the tables' rate on other batches: at latent 1 here,
# at latent 2 and 4 inside their study (LatentStudy.moved_by_rerun).
sigma_reruns = {1: lr_study.sigma_rerun(tables[1], lr_learned)}
if sigma_reruns[1].moved:
    draw_dependent.append("T7")
# The same study at latent 2 and 4, where made (fixed rows first, then LS-VAE and LV-VAE):
# a claim whose verdict moves there at a step of its path that changes a schedule or a
# length depends on the learning rate too, and so does T7 when σ settles under some of its
# rates and not others; one that moves at a step that only trains rows again at 1e-3
# depends on retraining.
latent_reads = lr_latents.read_made(
    tables,
    lambda name: experiments.record(name, profile, device=device),
    made_latent_studies(),
    made_latent_extensions(),
)
for d, r in latent_reads.items():
    moved = [*r.moved_by_choice, *(["T7"] if r.sigma_depends_on_rate else [])]
    rate_dependent += [key for key in moved if key not in rate_dependent]
    draw_dependent += [key for key in r.moved_by_rerun if key not in draw_dependent]
    if r.sigma_rerun is not None:
        sigma_reruns[d] = r.sigma_rerun

crit = {D: theory.critical_ratio(D) for D in (2, 10)}
grids = {d: experiments.record(grid_name(d), profile, device=device) for d in GRID_RATIOS}
trained = {d: sp.trained_threshold(rec) for d, rec in grids.items()}
rows = [
    [
        "S1",
        "the VAE collapses below R/σ = √(D−1) and not above",
        "holds, not sharp",
        f"√(D−1) is a sufficient condition; the exact threshold is √D: "
        f"{report.sig(crit[2])} at D = 2 (√1 = 1), "
        f"{report.sig(crit[10])} at D = 10 (√9 = 3)",
        "exact computation (chapter 1)",
        "—",
    ],
    [
        "S1 (trained)",
        "the same, for VAEs trained on the sphere",
        sp.threshold_verdict(trained.values()),
        "; ".join(sp.threshold_evidence(t) for t in trained.values()),
        pr.common_scale(grids.values(), network=False),
        "the escape criterion (decoder means' mean norm above 0.1 R)",
    ],
]
for key, per_latent in judged.items():
    first = per_latent[latents[0]]
    paper = "" if first.paper is None else f"; paper {pr.paper_cell(first)}"
    last = after_study.get(key)
    studied = "" if last is None else f"; after the rate study: {last.verdict}, {last.evidence}"
    if key in at_alike:
        studied += f"; F(0.1), F*, LS, LV trained alike: {lr_study.verdict_cell(at_alike[key])}"
    if key == "T7":
        studied += "".join(
            f"; latent {d}, σ {lr_study.sigma_rerun_text(r)}" for d, r in sigma_reruns.items()
        )
    studied += "".join(
        f"; latent {d} after its rate study: {v.verdict}"
        for d, r in latent_reads.items()
        for v in r.after
        if v.key == key
    )
    rows.append(
        [
            key,
            pr.CLAIMS[first.claim],
            pr.verdict_line(per_latent),
            f"latent {latents[0]}: {first.evidence}{paper}{studied}",
            scale_2d,
            ", ".join(
                name
                for name, dependent in (
                    ("latent dimension", key in depends),
                    ("learning rate", key in rate_dependent),
                    ("retraining", key in draw_dependent),
                )
                if dependent
            )
            or "—",
        ]
    )

images = {}
for name in ("digits", "mnist"):
    try:
        images[name] = experiments.record(f"images-{name}-protocol", profile, device=device)
    except experiments.MissingRecord:
        raise  # the book loads its records: the message names the command that makes one
    except FileNotFoundError as missing:  # training allowed (smoke), but no files here
        print(f"{name}: not tested ({missing})")
image_claims = ip.by_claim({name: ip.judged(rec) for name, rec in images.items()})
for cid, per_dataset in image_claims.items():
    lead = "mnist" if "mnist" in per_dataset else next(iter(per_dataset))  # the paper's
    rows.append(
        [
            cid,
            ip.CLAIMS[cid],
            ip.verdict_line(per_dataset),
            f"{lead}: {ip.evidence(per_dataset[lead])}",
            report.provenance(images[lead].provenance),
            "dataset" if len({j.verdict for j in per_dataset.values()}) > 1 else "—",
        ]
    )
display(
    report.table(
        rows,
        ["id", "claim", "verdict", "evidence", "scale", "depends on"],
        caption="Every claim of the paper that the book tests. Verdicts use Holm-adjusted "
        "Mann-Whitney tests and bootstrap intervals, as set out on the protocol page. Every "
        "2-D verdict is conditional on the CPU-fast network; the verdict column reads the "
        "calibrated tables, trained at the constant Adam rate 10⁻³. The evidence column "
        "adds, at latent 1, the verdict at the last step of the learning-rate study ('after "
        "the rate study': every row at the schedule and length kept for it) and with F(0.1), "
        "F*, LS-VAE and LV-VAE read from two runs that trained them alike; at latent 2 and "
        "4, the verdict with their study's rows as kept; for T7, whether LS-VAE's σ settles "
        "when trained again at 10⁻³. In the last column, 'learning rate' marks a verdict "
        "that moved when a schedule or a length changed, and 'retraining' one that moved "
        "when the same rows were only trained again at 10⁻³ (other batches and evaluation "
        "points); a verdict of T1 to T4 can also move when only another claim's rows "
        "change, through the Holm-adjusted p of their family. Image verdicts are on the "
        "CPU-fast networks of chapter 4.",
        name="claims_page",
        align_left=3,
    )
)
differences = {k: judged[k] for k in ("T1", "T2", "T3", "T4")}
plots.show(plots.effects_against_paper(differences), "fig_effects")
plots.glue_values(
    {
        "n_claim_rows": len(rows),
        "n_holds_everywhere": sum(r[2].startswith(("holds at", "holds on")) for r in rows),
        "n_contradicted": sum("contradicted" in r[2] for r in rows),
        "n_latent_dependent": len(depends),
        "n_rate_dependent": len(rate_dependent),
        "rate_dependent": ", ".join(rate_dependent) or "none",
        "n_draw_dependent": len(draw_dependent),
        "draw_dependent": ", ".join(sorted(draw_dependent)) or "none",
        "latent_studies_made": lr_latents.made_text(latent_reads),
        "image_datasets": " and ".join(images) or "none (no image data here)",
    }
)

# %% [markdown]
# ```{glue:figure} fig_effects
# :name: fig-effects
#
# Our effects for the difference claims T1 to T4 at each latent dimension (95% bootstrap
# intervals) beside the paper's effect (black diamonds): differences of Table 1 means,
# nats per point.
# ```
#
# Of the {glue:text}`n_claim_rows` rows, {glue:text}`n_holds_everywhere` hold in every
# table we tested them in (every latent dimension, every dataset), though the last column
# shows that some of these move with the learning rate or with a second training;
# {glue:text}`n_contradicted` are contradicted somewhere (at a latent dimension, on a
# dataset, or by the exact computation); {glue:text}`n_latent_dependent` change verdict
# with the latent dimension.
#
# {glue:text}`n_rate_dependent` change verdict with the learning rate
# ({glue:text}`rate_dependent`). At latent 1 such a claim moved at a step of the
# learning-rate study of {doc}`05_table1_protocol` that changed a schedule or a length,
# or between the rows as kept and the rows trained alike; T7 is marked when LS-VAE's σ
# settles under some rates and not others. At latent 2 and 4 it moved at such a step
# of their study, made in the same steps (studies made:
# {glue:text}`latent_studies_made`). Within one study every schedule trains on the same
# batches, but the later, longer runs train a new set of models on other batches, so a
# mark from those says the verdict moved with the choice, not that the rate alone moved
# it.
#
# {glue:text}`n_draw_dependent` change verdict when the same rows are only trained again
# at the tables' rate, on other batches and evaluation points
# ({glue:text}`draw_dependent`); T7 is marked so when LS-VAE's σ settles in the table's
# run and not in the study's run at the same rate, or the reverse. Two such trainings
# disagree on these claims, so their verdict from any one training is fragile.
# The image rows were judged on {glue:text}`image_datasets`.
#
# ## How far the 2-D runs behind these verdicts converged
#
# The verdicts after each rate study read every row as the study keeps it (the schedule
# and length chosen for it on the selection points). The protocol's criterion asks that
# the seed mean of a row's monitored ELBO change over the last fifth of its training by
# less than the seeds' spread of its reported ELBO. A row that misses it may be still
# rising (it had not finished improving) or still falling (it was getting worse at the end
# of its training). The ledger below gives every row at every latent dimension.

# %% tags=["hide-input"]
kept_everywhere = ledger.ledger(
    {s: lr_study.kept_row(record, s) for s, record in latent1_kept.items()}, latent_reads
)
display(ledger.ledger_table(kept_everywhere))
n_ledger_rows = sum(len(rows) for rows in kept_everywhere.values())
plots.glue_values(
    {
        "ledger_falling": ledger.rows_text(ledger.rows_standing(kept_everywhere, ledger.FALLING)),
        "ledger_rising_fixed": ledger.rows_text(
            ledger.rows_standing(kept_everywhere, ledger.RISING, kind="fixed")
        ),
        "ledger_rising_learned": ledger.rows_text(
            ledger.rows_standing(kept_everywhere, ledger.RISING, kind="learned")
        ),
        "ledger_moving_converged": ledger.trends_text(ledger.moving_yet_converged(kept_everywhere)),
        "ledger_n_rows": n_ledger_rows,
        "ledger_by_chance": report.fmt(0.05 * n_ledger_rows, 2),
    }
)

# %% [markdown]
# Rows still falling by more than their seeds' spread: {glue:text}`ledger_falling`.
# Fixed-σ rows still rising by more than it: {glue:text}`ledger_rising_fixed`. Learned
# rows still rising by more than it: {glue:text}`ledger_rising_learned`. A rising row is
# compared at a score it had not finished improving, so a verdict that rests on it could
# move with more training. {doc}`05_table1_protocol` shows the runs behind each row,
# and for the fixed-σ row still rising why the schedule that scores best for it, a rate
# falling to 0, keeps the criterion out of reach.
#
# The criterion weighs the change against the seeds' spread of the final ELBO, which
# seeds that end far apart widen: a row whose seeds spread widely can meet it while
# still moving. The last column reads the same window seed by seed, so that the spread
# cancels (it decides nothing; protocol page, the entry "A paired reading of the fixed-σ
# criterion, reported beside it"). Rows that meet the criterion while that reading finds
# their seeds moving together (p below 0.05, not corrected across the
# {glue:text}`ledger_n_rows` rows, so that were none moving, about
# {glue:text}`ledger_by_chance` would be found by chance alone):
# {glue:text}`ledger_moving_converged`. Verdicts that rest on them may be
# verdicts on their training length too.
#
# ## The hypersphere threshold, trained (claim S1)
#
# The protocol's grid: fixed-σ VAEs on data uniform on a sphere of radius R in D = 2 and
# D = 10 dimensions (latent as large as the data), R/σ in steps of 0.05 across both
# candidate thresholds, 5 seeds at each. A model has escaped collapse when its decoder
# means, over draws from the prior, have a mean norm above 0.1 R; the trained threshold
# is where the escaped fraction crosses one half, with a bootstrap interval over seeds.

# %% tags=["hide-input"]
for t, rec in zip(trained.values(), grids.values(), strict=True):
    print(f"D = {t.dim}: {made_with(rec.provenance)}")
plots.show(plots.escaped_fraction(list(trained.values())), "fig_sphere_grid")
plots.glue_values(
    {f"s1_{d}": sp.threshold_evidence(t) for d, t in trained.items()}
    | {"s1_verdict": sp.threshold_verdict(trained.values())}
)

# %% [markdown]
# ```{glue:figure} fig_sphere_grid
# :name: fig-sphere-grid
#
# The fraction of seeds whose VAE escaped collapse, by R/σ, with the theorem's √(D−1)
# (dashed) and the √D that chapter 1 derives (dotted).
# ```
#
# At D = 2: {glue:text}`s1_2`. At D = 10: {glue:text}`s1_10`. Verdict on the paper's
# √(D−1) from the trained runs: **{glue:text}`s1_verdict`**. The theorem proves that
# below √(D−1) the VAE collapses, a sufficient condition, and that holds; what fails is
# reading it as the point where collapse stops, since the trained VAEs, like chapter 1's
# exact computation, go on collapsing up to √D.
#
# ## Errata
#
# Each entry is found by a computation of our own and checked a second way; the
# derivations are in the chapters named and in `lvae.analysis.errata`.

# %% tags=["hide-input"]
rng = np.random.default_rng(0)
x, mu, sigma = rng.normal(size=(1000, 2)), rng.normal(size=(1000, 2)), 0.043
exact = errata.gaussian_nll(x, mu, sigma)
gap_printed = float(np.max(np.abs(errata.eq12(x, mu, sigma, as_printed=True) - exact)))
gap_fixed = float(np.max(np.abs(errata.eq12(x, mu, sigma, as_printed=False) - exact)))
ceiling = {name: errata.mse_elbo_ceiling_bits(c) for name, (_, c) in errata.PAPER_TABLE2_F.items()}
erratum_rows = [
    ["Theorem (critical ratio)", "R/σ = √(D−1)", "R/σ = √D",
     f"bisection on the optimum: {report.sig(crit[2])} at D = 2, {report.sig(crit[10])} "
     "at D = 10; a second derivation in chapter 1"],
    ["Eq. (9)", "exponent r R cos φ", "exponent r R cos φ / σ²",
     "a central finite difference of Eq. (8) (chapter 1)"],
    ["Eq. (12)", "+ log σ", "+ D log σ",
     f"exact Gaussian NLL in 2-D at σ = {sigma}: printed form off by "
     f"{report.fixed(gap_printed, 3)} nats (that is (D−1)|log σ|), corrected form by "
     f"{report.below(gap_fixed, 1e-9):.0e} or less"],
    ["Table 2, CelebA F-VAE", "5.52 bits/px",
     f"at most {ceiling['CelebA']:g} bits/px (MNIST: {ceiling['MNIST']:g})",
     "the MSE loss is σ² = 1/2: the ELBO in the caption's convention is at most D/2 bits"],
]  # fmt: skip
display(
    report.table(
        erratum_rows,
        ["where", "paper", "correct", "how we found it"],
        caption="Errata: each computed here or in the chapter named, with no training.",
        name="errata",
        align_left=4,
    )
)
plots.glue_values(
    {
        "celeba_ceiling": report.fmt(ceiling["CelebA"], 3),
        "mnist_ceiling": report.fmt(ceiling["MNIST"], 3),
        "eq12_gap": report.fixed(gap_printed, 3),
        "eq12_expected": report.fixed(math.log(1 / sigma), 3),
    }
)

# %% [markdown]
# **The ceiling on Table 2.** The MSE loss is the Gaussian model with σ² = 1/2. In the
# convention of the paper's caption (no Gaussian constant, the $D\log\sigma$ term
# counted) the ELBO is
# $-\lVert x-\mu\rVert^2/(2\sigma^2) - D\log\sigma - \mathrm{KL}
# = -\lVert x-\mu\rVert^2 - \mathrm{KL} + \tfrac D2 \log 2$,
# and the first two terms cannot be positive, so no MSE-trained VAE scores above
# $\tfrac D2$ bits: {glue:text}`mnist_ceiling` bit per grey pixel and
# {glue:text}`celeba_ceiling` bits per RGB pixel, at any pixel scale. The paper's MNIST
# entry, 0.06, is under its ceiling; its CelebA entry, 5.52, is not, so that number is
# not an ELBO in the stated convention (a different normalisation, or a per-image
# rather than per-pixel figure, would explain it; the paper does not say).
#
# **Eq. (12).** For $x \in \mathbb R^D$ the density is a product of $D$ one-dimensional
# Gaussians, each with its own $\log\sigma$. On the 2-D problem at σ = 0.043, the printed
# form is off by {glue:text}`eq12_gap` nats at every point, which is exactly
# $|\log\sigma|$ = {glue:text}`eq12_expected` (one of the two $\log\sigma$ terms is
# missing); the corrected form agrees with the exact density to rounding.
