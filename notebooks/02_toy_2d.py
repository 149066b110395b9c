# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # A 2-D problem where the manifold is known: Table 1 redone
#
# The theorem of the previous chapter concerns an idealised VAE. Section 4 of the paper
# {cite}`berger2020vae` moves to real training on a problem small enough to look at: points
# in the plane near a curve, with noise of three different sizes along it. Every VAE has the
# same encoder and decoder networks and differs only in its observation model
# $p(x \mid z) = \mathcal N(\mu(z), \sigma^2)$:
#
# * **F-VAE**: σ fixed, swept over $\{1, 0.3, 0.1, 0.043, 0.03, 0.01\}$;
# * **LS-VAE**: one scalar σ learned with the networks, starting at 1 (paper's Eq. (10));
# * **LV-VAE**: a σ per coordinate, output by the decoder beside μ (Eq. (11));
# * **F\*-VAE**: σ fixed at the value LS-VAE ends with;
# * **F-VAE on a schedule**: σ forced to follow, step by step, the trajectory LS-VAE learned
#   (the paper's Appendix A.2).
#
# The paper's claims are that learning σ wins (LV first, LS second); that fixing σ at the
# value LS-VAE found does much worse than learning it, so the path matters as well as the
# destination; and that replaying LS-VAE's σ trajectory recovers LS-VAE's result. This
# chapter retrains everything with 10 seeds and tests each claim.

# %% tags=["parameters"]
# Papermill parameters: "smoke" (seconds), "book" (the committed results), "paper" (GPU).
profile = "book"
device = "auto"

# %%
import torch
from IPython.display import display
from myst_nb import glue

from lvae import experiments, plots
from lvae.analysis import protocol as pr
from lvae.analysis import table1 as t1
from lvae.analysis.claims import claims_table, mean_diff_ci
from lvae.data import TOY2D_NOISE, sample_toy2d
from lvae.experiments.table1 import CALIBRATED_LATENTS, calibrated_name
from lvae.report import fmt, made_with, provenance

plots.use_book_style()

# %% [markdown]
# ## The data (Fig. 3)
#
# The paper describes its data only in words and a picture, so we designed our own to
# match that description. A position $u$ is uniform on $[-1, 1]$. The point is
# $(u, c(u))$ on the curve $c(u) = 0.5\cos(\pi u) + 0.15\sin(4\pi u)$, plus isotropic
# Gaussian noise whose standard deviation depends on the region: moderate on the left
# third, small in the middle, large on the right. The cosine is the coarse shape; the faster
# sine adds details of amplitude 0.15, which a model has to choose whether to represent.
# Each training batch is 100 fresh points, which is the paper's "large sample limit".
# The code is `lvae.data.sample_toy2d`.

# %% tags=["hide-input"]
region_names = ("moderate", "small", "large")
for name, std in zip(region_names, TOY2D_NOISE, strict=True):
    glue(f"noise_{name}", std, display=False)
points = sample_toy2d((3000,), torch.Generator().manual_seed(0)).numpy()
fig = plots.toy_data(points, t1.region_of(points[:, 0]), region_names, TOY2D_NOISE, t1.curve_np)
plots.show(fig, "fig_data")

# %% [markdown]
# ```{glue:figure} fig_data
# :name: fig-data
#
# 3000 fresh points of the toy problem, coloured by noise region (standard deviations
# {glue:text}`noise_moderate`, {glue:text}`noise_small` and {glue:text}`noise_large`).
# ```
#
# ## Our choices where the paper is silent
#
# * **Latent dimension 1.** The paper does not give it. The manifold is a curve, so one
#   latent coordinate, the position along it, is all that a model which has found the
#   manifold needs; whatever lies off the curve is then noise for σ to explain. We first
#   used two coordinates, as many as the data have, so that the code could hold any point
#   exactly. With two, LS-VAE's σ never settled: the second coordinate slowly learns to
#   carry the noise, and σ keeps falling. The next chapter shows both runs. Since this
#   was a choice made after seeing results, {doc}`05_table1_protocol` makes the table
#   again at latent dimensions 1, 2 and 4, on data calibrated to the paper's scale, and
#   says which verdicts change with it.
# * **Networks.** Residual MLPs as in the paper, four blocks of 200 units in the `paper`
#   profile. The `book` profile, which must run on a laptop CPU, uses the width and depth
#   printed below the table.
# * **Optimiser.** Adam, learning rate $10^{-3}$, constant; batches of 100 fresh points.
# * **F\*-VAE's σ** is the geometric mean, over seeds, of the σ that LS-VAE ends with.
#   The schedule replays the trajectory of LS-VAE's seed 0 (recorded every few steps, held
#   constant in between). Both start from initialisations that no phase-1 model used.
# * **ELBO.** The final ELBO is estimated on fresh points, the same for every model, with
#   one latent sample per point.

# %% tags=["hide-input"]
record = experiments.record("table1", profile, device=device)
cfg, prov = record.config, record.provenance
print(made_with(prov))
print(t1.setup(cfg))
display(t1.results_table(record))
glue("n_seeds", len(cfg["seeds"]), display=False)
glue("steps", int(prov["steps"]), display=False)
glue("f_star_sigma", fmt(record.result["f_star_sigma"], 3), display=False)
glue("log2pi", fmt(t1.paper_elbo(0.0), 4), display=False)  # the convention's shift

# %% [markdown]
# Two columns of ELBO are shown. The **exact** ELBO includes every constant of the Gaussian
# density. The paper reports its numbers without the $-\tfrac D2\log 2\pi$ constant: its
# footnote 5 says F-VAE's values have their $D\log\sigma$ term added back, which puts them
# on the same footing as LS-VAE and LV-VAE. With $D = 2$ this **paper convention** is the
# exact value plus $\log 2\pi \approx$ {glue:text}`log2pi`, for every setting.
# (`lvae.observation.paper_convention_elbo` implements it.) Our data are not the paper's,
# so the levels cannot be compared one to one. The orderings and the gaps between settings
# can be.
#
# LS-VAE ends at σ ≈ {glue:text}`f_star_sigma` (geometric mean over seeds), which is the σ
# F\*-VAE uses here. The paper's LS-VAE ended at 0.043.
#
# ## Is training finished, and does the ranking survive a second estimate?
#
# Before testing claims, two checks on the numbers themselves. First, the change of the
# batch ELBO between the fourth and the last fifth of training tells whether a setting
# was still improving. Second, the ranking should not depend on how the final ELBO is
# estimated. The batch ELBO averaged over the last 10 % of training uses training batches
# (fresh points, seen once) instead of the 10,000 evaluation points.

# %% tags=["hide-input"]
elbo = t1.by_setting(record, "elbo")
conv = t1.convergence(record)
display(t1.convergence_table(record, conv))
top = 3
rank_final = t1.ranking({s: e.mean() for s, e in elbo.items()})[:top]
rank_second = t1.ranking({s: e.mean() for s, e in conv.second.items()})[:top]
print(f"top {top} by final ELBO: {rank_final}; by batch ELBO: {rank_second}")
glue("n_still_rising", len(conv.still_rising(0.01)), display=False)
glue("n_settings", len(elbo), display=False)
glue("rank_top", ", ".join(rank_final), display=False)
glue("same_top", "the same" if rank_final == rank_second else "not the same", display=False)

# %% [markdown]
# In {glue:text}`n_still_rising` of the {glue:text}`n_settings` settings the ELBO was still
# rising by more than 0.01 nats over the last fifth of training. So the `book` profile
# stops before convergence, and the numbers below describe models at this training budget.
# The top three by final ELBO ({glue:text}`rank_top`) are {glue:text}`same_top` under the
# second estimate.
#
# ## The paper's claims about Table 1, tested
#
# Each claim is checked with the {glue:text}`n_seeds` seeds per setting, using the
# difference of means and a two-sided Welch $t$-test. "Significantly" means $p < 0.05$
# (the paper does not define it). The paper's Table 1 comprises the σ sweep, LS-VAE,
# LV-VAE and F\*-VAE; the schedule replay is a separate experiment.

# %% tags=["hide-input"]
claims = t1.claims(elbo, alpha=t1.ALPHA)
display(
    claims_table(
        claims,
        caption=f"The paper's claims about Table 1 ({provenance(prov)}): "
        "difference of mean ELBOs (nats) and Welch p-values.",
        name="claims",
    )
)
for i, claim in enumerate(claims):
    glue(f"claim{i}", claim.verdict, display=False)
glue("n_claims_hold", sum(claim.holds for claim in claims), display=False)
glue("n_claims", len(claims), display=False)
glue("best_fixed", t1.best_fixed(elbo).replace("F sigma=", ""), display=False)
weakest = t1.ls_weakest(elbo)  # the fixed sigma LS-VAE beats least clearly
glue("ls_weakest", weakest["setting"].replace("F sigma=", "σ = "), display=False)
for key in ("gap", "p", "sd"):
    glue(f"ls_weakest_{key}", fmt(weakest[key], 2), display=False)
glue("fstar_minus_f01", fmt(t1.mean_gap(elbo, "F*", "F sigma=0.1"), 2), display=False)
d, lo, hi = mean_diff_ci(elbo["F schedule"], elbo["F*"])
glue("replay_vs_fstar", fmt(d, 2), display=False)
glue("replay_vs_fstar_ci", f"[{fmt(lo, 2)}, {fmt(hi, 2)}]", display=False)
glue("replay_vs_ls", fmt(t1.mean_gap(elbo, "F schedule", "LS"), 2), display=False)
lv_minus_ls = t1.mean_gap(elbo, "LV", "LS")
glue("lv_ls_gap", fmt(abs(lv_minus_ls), 2), display=False)
glue("lv_ls_side", "below" if lv_minus_ls < 0 else "above", display=False)

# The protocol's verdicts on the same claims (calibrated data, latent 1, 2 and 4, rank
# tests with Holm's correction; the claims page), which supersede this first pass:
protocol = pr.by_claim(
    {
        d: pr.verdicts(experiments.record(calibrated_name(d), profile, device=device))
        for d in CALIBRATED_LATENTS
    }
)
for key in ("T1", "T2", "T3", "T4", "T5"):
    glue(f"protocol_{key}", pr.verdict_line(protocol[key]), display=False)
glue("protocol_T6", pr.verdict_line(protocol["T6 (pooled)"]), display=False)

# %% [markdown]
# ```{important}
# This section is a first pass, kept because it is what a reader of the paper would try
# first: data at our own scale, one latent dimension, Welch tests, no correction for
# testing several claims. The verdicts the book stands by are on the claims page
# ({doc}`06_claims`), made under the protocol ({doc}`../book/protocol`) on data
# calibrated to the paper's scale, at latent 1, 2 and 4, with rank tests and Holm's
# correction, and they supersede these where they differ: LV-VAE best (claim 1, T1) is
# {glue:text}`protocol_T1` there; LS-VAE above every fixed σ (claim 2, T2) is
# {glue:text}`protocol_T2`; F\* below LS-VAE (claim 3, T3) is {glue:text}`protocol_T3`;
# F\* below F(0.1) (claim 4, T4) is {glue:text}`protocol_T4`; σ = 0.1 the best fixed σ
# (claim 5, T5) is {glue:text}`protocol_T5`.
# ```
#
# Of the {glue:text}`n_claims` claims, {glue:text}`n_claims_hold` hold in our
# reproduction:
#
# 1. LV-VAE best, significantly: **{glue:text}`claim0`**.
# 2. LS-VAE above every fixed σ, including F\*: **{glue:text}`claim1`**.
# 3. F\*-VAE significantly below LS-VAE: **{glue:text}`claim2`**.
# 4. F\*-VAE significantly below F-VAE at σ = 0.1: **{glue:text}`claim3`**.
# 5. σ = 0.1 the best fixed σ: **{glue:text}`claim4`** (here: σ = {glue:text}`best_fixed`).
# 6. Replaying LS-VAE's σ schedule recovers LS-VAE (confidence interval of the difference
#    contains 0): **{glue:text}`claim5`**.
#
# **Reading the committed `book` run.** The learned models rank as the paper says:
# LV-VAE first, {glue:text}`lv_ls_gap` nats {glue:text}`lv_ls_side` LS-VAE, and the
# second estimate agrees on the order; σ = 0.1 is the best fixed value. Two claims fail,
# in ways worth spelling out.
#
# * LS-VAE is above every fixed σ on average, but against F-VAE at
#   {glue:text}`ls_weakest` the difference ({glue:text}`ls_weakest_gap` nats) is not
#   significant ($p$ = {glue:text}`ls_weakest_p`): that setting's seeds disagree widely
#   (standard deviation {glue:text}`ls_weakest_sd` nats), some runs finding the manifold
#   and others not.
# * F\*-VAE, σ fixed at LS-VAE's final value, is below LS-VAE as the paper says (claim
#   3), but {glue:text}`fstar_minus_f01` nats *above* F-VAE at σ = 0.1 (claim 4). In our
#   data the σ that LS-VAE ends with is itself a good fixed σ; the paper's F\* at 0.043
#   was a poor one.
#
# The replay of LS-VAE's σ schedule (claim 6) ends {glue:text}`replay_vs_ls` nats from
# LS-VAE, a significant gap, and {glue:text}`replay_vs_fstar` nats from F\*-VAE (95 %
# interval {glue:text}`replay_vs_fstar_ci`). In our runs, following the learned trajectory
# does as well as fixing σ at its end point, and no better: the trajectory alone does not
# reproduce what learning σ gives. Chapter 3 looks at the curves.
#
# ## What the models learn (Figs. 4, 6 and 7)
#
# For seed 0 of each setting, the top row shows reconstructions, the mean of $p(x \mid z)$
# for $z \sim q(z \mid x)$ (orange), over the data (blue). The bottom row shows generation
# from the prior: actual samples of $p(x \mid z)$ (green) and their means $\mu(z)$ (orange).

# %% tags=["hide-input"]
panels = record.result["figures"]["panels"]
fig = plots.panel_grid(panels, t1.fixed_settings(record), "F-VAE, fixed σ")
plots.show(fig, "fig_fixed")
learned = ["LS", "F*", "F schedule", "LV"]
fig = plots.panel_grid(panels, learned, "learned σ, and its two fixed-σ replays", per_row=2)
plots.show(fig, "fig_learned")

# %% [markdown]
# ```{glue:figure} fig_fixed
# :name: fig-fixed
#
# F-VAE across the σ sweep (the paper's Figs. 4a-c and 7). Top: reconstructions (orange)
# over data (blue). Bottom: samples (green) and means (orange) of $p(x \mid z)$, $z$ from
# the prior.
# ```
#
# ```{glue:figure} fig_learned
# :name: fig-learned
#
# LS-VAE, F\*-VAE, the replayed schedule and LV-VAE (the paper's Figs. 4d-f and 6).
# ```
#
# Pictures are easy to over-read, so we attach numbers to the paper's three visual claims:
#
# * **Denoising.** When σ exceeds the local noise, reconstructions should sit closer to
#   the manifold than the data do. We measure the mean Euclidean distance to the curve,
#   by region, for the data and for the reconstructions.
# * **Generation.** We report the energy distance {cite}`szekely2013energy` between 600
#   generated samples and 600 fresh data points. It is near zero only when the two
#   distributions agree. As a reference, the same statistic between two independent
#   batches of data is printed too.
# * **LV-VAE learns the thickness.** Its learned σ at the reconstructions, by region,
#   should track the noise levels of the data.

# %% tags=["hide-input"]
names = t1.settings(record)
# The statistic's noise level: the same distance between pairs of independent data batches.
reference, band = t1.energy_reference(len(panels["LV"]["data"]))
energy = t1.generation_distance({s: panels[s] for s in names})
display(t1.recon_table(record, names, energy, reference, band))
lv = t1.thickness(panels["LV"])
print()
print("LV-VAE's learned sigma at the reconstructions, by region, against the data's noise:")
for (_, _, name), s, true in zip(t1.REGIONS, lv.sigma, lv.noise, strict=True):
    print(f"  {name:<17} learned {s:.4f}   noise std {true:.3f}")
like, unlike = t1.within_band(energy, band)
glue("energy_band", fmt(band, 2), display=False)
glue("gen_like_data", ", ".join(like) or "none", display=False)
glue("gen_unlike_data", ", ".join(unlike) or "none", display=False)
for (_, _, name), s in zip(t1.REGIONS, lv.sigma, strict=True):
    glue(f"lv_sigma_{name.split()[0]}", fmt(s, 2), display=False)  # lv_sigma_left, ...
glue("lv_quiet_lowest", "lowest" if lv.quiet_lowest else "not lowest", display=False)
glue("lv_right_ratio", fmt(lv.ratio[2], 2), display=False)
glue("lv_middle_ratio", fmt(lv.ratio[1], 2), display=False)
glue("lv_right_rec", fmt(lv.recon[2], 2), display=False)
glue("lv_right_data", fmt(lv.data[2], 2), display=False)
where = "within" if "LV" in like else "outside"
glue("lv_generation", f"generates samples {where} the data-vs-data band", display=False)

# %% [markdown]
# With 600 points per sample, the energy distance between two independent batches of real
# data stays below {glue:text}`energy_band` (mean plus three standard deviations over 20
# pairs). Generated samples within that band cannot be told from data at this sample size:
# {glue:text}`gen_like_data`. Beyond it: {glue:text}`gen_unlike_data`. These numbers come
# from seed 0 of each setting only.
#
# LV-VAE's learned σ is {glue:text}`lv_sigma_left`, {glue:text}`lv_sigma_middle` and
# {glue:text}`lv_sigma_right` in the left, middle and right regions, where the data's
# noise is {glue:text}`noise_moderate`, {glue:text}`noise_small` and
# {glue:text}`noise_large`. It is {glue:text}`lv_quiet_lowest` in the quiet middle region
# and reaches {glue:text}`lv_right_ratio` of the noise level in the noisiest one, while
# its reconstructions there sit on the curve ({glue:text}`lv_right_rec` from it, against
# {glue:text}`lv_right_data` for the data). So the model has found the manifold and
# explains the spread around it with σ(z), which is the paper's description of LV-VAE
# encoding "both the manifold and its thickness". In the quiet middle region σ is
# {glue:text}`lv_middle_ratio` times the noise, the largest relative gap; we have not
# traced its cause. LV-VAE {glue:text}`lv_generation` of the energy distance.
#
# ## Summary
#
# On our version of the 2-D problem, at `book` scale and with one latent dimension, the
# learned models rank as in the paper: LV-VAE first, then LS-VAE, above every fixed σ on
# average, and LV-VAE learns the thickness of the data. Learning σ beats fixing it at the
# value it learned. Replaying the learned σ trajectory on a fixed-σ VAE does not recover
# LS-VAE's result in this first pass, which would weaken the paper's annealing reading.
# Under the protocol (claims page, T6) the pooled replay's match with LS-VAE
# {glue:text}`protocol_T6`. That test tells the path of σ from its end point only where
# F\* alone does not match LS-VAE, which the claims page marks at each latent size; where
# it does not, the replay scores above F\* on average, which supports the annealing
# reading rather than weakening it. The next chapter follows the training dynamics
# behind these numbers.
