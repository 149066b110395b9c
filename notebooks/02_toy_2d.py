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
import math

import matplotlib.pyplot as plt
import numpy as np
import torch
from IPython.display import display
from myst_nb import glue

from lvae import experiments, metrics, report
from lvae.data import TOY2D_NOISE, sample_toy2d, toy2d_curve

plt.rcParams.update({"figure.dpi": 110, "font.size": 9})


def curve_np(x):
    return toy2d_curve(torch.as_tensor(x)).numpy()


fmt = report.fmt


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
moderate, small, large = TOY2D_NOISE
glue("noise_moderate", moderate, display=False)
glue("noise_small", small, display=False)
glue("noise_large", large, display=False)
points = sample_toy2d((3000,), torch.Generator().manual_seed(0)).numpy()
region = np.digitize(points[:, 0], [-1 / 3, 1 / 3])
fig, ax = plt.subplots(figsize=(6, 2.6))
for r, (name, color) in enumerate(
    [("moderate", "tab:blue"), ("small", "tab:green"), ("large", "tab:red")]
):
    sel = region == r
    ax.scatter(
        points[sel, 0],
        points[sel, 1],
        s=2,
        color=color,
        label=f"{name} noise (std {TOY2D_NOISE[r]:g})",
    )
grid = np.linspace(-1, 1, 400)
ax.plot(grid, curve_np(grid), color="k", lw=0.8, label="manifold $c(u)$")
ax.set_aspect("equal")
ax.legend(fontsize=8, loc="center left", bbox_to_anchor=(1.02, 0.5), markerscale=4)
fig.tight_layout()
glue("fig_data", fig, display=False)
plt.close(fig)

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
#   carry the noise, and σ keeps falling. The next chapter shows both runs.
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
record = experiments.table1(profile, device=device)
cfg, prov, res = record["config"], record["provenance"], record["result"]
settings = res["settings"]
n_seeds = len(cfg["seeds"])


def by_setting(values):
    out = {s: [] for s in settings}
    for m, v in zip(res["models"], values, strict=True):
        out[m["setting"]].append(v)
    return {s: np.asarray(v) for s, v in out.items()}


elbo = by_setting(res["elbo"])
elbo_paper = by_setting(res["elbo_paper"])
sigma_final = by_setting(res["final_sigma"])
kl = by_setting(res["kl"])

PAPER = {  # Table 1 of the paper (ELBO in its convention, mean ± std over 10 runs)
    "F sigma=1": "-1.14 ± 0.02",
    "F sigma=0.3": "-0.063 ± 0.03",
    "F sigma=0.1": "0.773 ± 0.09",
    "F sigma=0.043": "0.335 ± 0.08",
    "F sigma=0.03": "0.141 ± 0.10",
    "F sigma=0.01": "-0.961 ± 0.12",
    "LS": "1.26 ± 0.09",
    "LV": "1.62 ± 0.08",
    "F*": "0.335 ± 0.08 (σ=0.043)",
    "F schedule": "not given",
}
print(
    f"profile {prov['profile']}; seeds {prov['seeds']}; {prov['steps']} steps;\n"
    f"device {prov['device']}; torch {prov['torch']}; commit {prov['git_commit'][:12]}; "
    f"{prov['wall_time_s'] / 60:.0f} min"
)
print(
    f"networks: {cfg['n_blocks']} residual blocks of {cfg['hidden']} units; latent dim "
    f"{cfg['latent_dim']}; batch {cfg['batch_size']}; Adam lr {cfg['lr']};\n"
    f"final ELBO on {cfg['n_eval']} fresh points"
)
display(
    report.table(
        [
            [
                s,
                report.fixed(np.exp(np.log(sigma_final[s]).mean()), 4),
                report.pm(elbo[s].mean(), elbo[s].std(ddof=1)),
                report.pm(elbo_paper[s].mean(), elbo_paper[s].std(ddof=1)),
                PAPER[s],
            ]
            for s in settings
        ],
        ["setting", "final σ", "ELBO (exact)", "ELBO (paper conv.)", "paper, Table 1"],
        caption=f"Table 1 ({report.provenance(prov)}): mean ± standard deviation over seeds, "
        "nats per point; paper convention = exact + log 2π.",
        name="table1",
    )
)

glue("n_seeds", n_seeds, display=False)
glue("steps", int(prov["steps"]), display=False)
glue("f_star_sigma", fmt(res["f_star_sigma"], 3), display=False)
glue("log2pi", fmt(math.log(2 * math.pi), 4), display=False)

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
hist = res["history"]
n_log = len(hist["step"])
batch_elbo = np.asarray(hist["elbo"])  # (logged steps, models)
setting_of = [m["setting"] for m in res["models"]]
trend, second = {}, {}
for s in settings:
    cols = [j for j, m in enumerate(setting_of) if m == s]
    e = batch_elbo[:, cols]
    trend[s] = e[int(0.8 * n_log) :].mean() - e[int(0.6 * n_log) : int(0.8 * n_log)].mean()
    second[s] = e[int(0.9 * n_log) :].mean(axis=0)
display(
    report.table(
        [
            [
                s,
                ("+" if trend[s] > 0 else "") + report.fixed(trend[s], 3),
                report.pm(second[s].mean(), second[s].std(ddof=1)),
                report.fixed(elbo[s].mean(), 3),
            ]
            for s in settings
        ],
        ["setting", "ELBO gain, last fifth", "batch ELBO, last 10%", "final ELBO"],
        caption=f"Convergence and a second estimate ({report.provenance(prov)}): nats per point; "
        "batch ELBO is mean ± std over seeds.",
        name="convergence",
    )
)
rank_final = sorted(settings, key=lambda s: -elbo[s].mean())
rank_second = sorted(settings, key=lambda s: -second[s].mean())
top = 3
same_top = rank_final[:top] == rank_second[:top]
print(f"top {top} by final ELBO: {rank_final[:top]}; by batch ELBO: {rank_second[:top]}")
still_rising = [s for s in settings if trend[s] > 0.01]
glue("n_still_rising", len(still_rising), display=False)
glue("n_settings", len(settings), display=False)
glue("rank_top", ", ".join(rank_final[:top]), display=False)
glue("same_top", "the same" if same_top else "not the same", display=False)

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
table_settings = [s for s in settings if s != "F schedule"]
fixed = [s for s in settings if s.startswith("F sigma")]
ALPHA = 0.05
claims = []


def claim(text, holds, evidence):
    claims.append((text, holds, evidence))


diffs = {s: metrics.welch(elbo["LV"], elbo[s]) for s in table_settings if s != "LV"}
claim(
    "LV-VAE is best, significantly",
    all(d > 0 and p < ALPHA for d, p in diffs.values()),
    f"LV - LS = {diffs['LS'][0]:+.3f} (p = {diffs['LS'][1]:.1e}); "
    f"min gap {min(d for d, _ in diffs.values()):+.3f}",
)
ls_vs = {s: metrics.welch(elbo["LS"], elbo[s]) for s in fixed + ["F*"]}
claim(
    "LS-VAE beats every fixed sigma (sweep and F*)",
    all(d > 0 and p < ALPHA for d, p in ls_vs.values()),
    f"smallest gap {min(d for d, _ in ls_vs.values()):+.3f}, "
    f"largest p {max(p for _, p in ls_vs.values()):.1e}",
)
d, p = metrics.welch(elbo["F*"], elbo["LS"])
claim(
    "F*-VAE is significantly below LS-VAE", d < 0 and p < ALPHA, f"F* - LS = {d:+.3f}, p = {p:.1e}"
)
d, p = metrics.welch(elbo["F*"], elbo["F sigma=0.1"])
claim(
    "F*-VAE is significantly below F-VAE at sigma = 0.1",
    d < 0 and p < ALPHA,
    f"F* - F(0.1) = {d:+.3f}, p = {p:.1e}",
)
best_fixed = max(fixed, key=lambda s: elbo[s].mean())
claim("sigma = 0.1 is the best fixed sigma", best_fixed == "F sigma=0.1", f"best: {best_fixed}")
d, lo, hi = metrics.mean_diff_ci(elbo["F schedule"], elbo["LS"])
claim(
    "replaying LS-VAE's sigma schedule matches LS-VAE",
    lo < 0 < hi,
    f"schedule - LS = {d:+.3f}, 95% CI [{lo:+.3f}, {hi:+.3f}]",
)

display(
    report.table(
        [
            [text, "holds" if holds else "does not hold", evidence]
            for text, holds, evidence in claims
        ],
        ["claim", "ours", "evidence"],
        caption=f"The paper's claims about Table 1 ({report.provenance(prov)}): "
        "difference of mean ELBOs (nats) and Welch p-values.",
        name="claims",
        align_left=3,
    )
)
for i, (_, holds, _) in enumerate(claims):
    glue(f"claim{i}", "holds" if holds else "does not hold", display=False)
glue("n_claims_hold", sum(h for _, h, _ in claims), display=False)
glue("n_claims", len(claims), display=False)
glue("best_fixed", best_fixed.replace("F sigma=", ""), display=False)
weakest = max(ls_vs, key=lambda k: ls_vs[k][1])  # the fixed sigma LS-VAE beats least clearly
glue("ls_weakest", weakest.replace("F sigma=", "σ = "), display=False)
glue("ls_weakest_gap", fmt(ls_vs[weakest][0], 2), display=False)
glue("ls_weakest_p", fmt(ls_vs[weakest][1], 2), display=False)
glue("ls_weakest_sd", fmt(elbo[weakest].std(ddof=1), 2), display=False)
glue(
    "fstar_minus_f01", fmt(float(elbo["F*"].mean() - elbo["F sigma=0.1"].mean()), 2), display=False
)
d, lo, hi = metrics.mean_diff_ci(elbo["F schedule"], elbo["F*"])
glue("replay_vs_fstar", fmt(d, 2), display=False)
glue("replay_vs_fstar_ci", f"[{fmt(lo, 2)}, {fmt(hi, 2)}]", display=False)
glue("replay_vs_ls", fmt(float(elbo["F schedule"].mean() - elbo["LS"].mean()), 2), display=False)
lv_minus_ls = float(elbo["LV"].mean() - elbo["LS"].mean())
glue("lv_ls_gap", fmt(abs(lv_minus_ls), 2), display=False)
glue("lv_ls_side", "below" if lv_minus_ls < 0 else "above", display=False)

# %% [markdown]
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
figs = res["figures"]
data_fig = np.asarray(figs["data"])


def panel_grid(names, title, per_row=3):
    """Reconstruction over generation for each setting, ``per_row`` settings a row."""
    ncols = min(per_row, len(names))
    blocks = math.ceil(len(names) / ncols)
    fig, axes = plt.subplots(
        2 * blocks,
        ncols,
        figsize=(2.1 * ncols, 3.0 * blocks + 0.3),
        sharex=True,
        sharey=True,
        squeeze=False,
    )
    for ax in axes[:, len(names) - (blocks - 1) * ncols :][-2:].flat:
        ax.set_visible(False)  # empty slots of a last, shorter row
    for j, name in enumerate(names):
        i = settings.index(name)
        b, col = divmod(j, ncols)
        top, bottom = axes[2 * b, col], axes[2 * b + 1, col]
        top.set_visible(True)
        bottom.set_visible(True)
        data = data_fig if i < len(settings) - 2 else np.asarray(figs["data_phase2"])
        top.scatter(data[:, 0], data[:, 1], s=1, color="tab:blue")
        rec = np.asarray(figs["recon"][i])
        top.scatter(rec[:, 0], rec[:, 1], s=1, color="tab:orange")
        gen_s, gen_m = np.asarray(figs["gen_sample"][i]), np.asarray(figs["gen_mean"][i])
        bottom.scatter(gen_s[:, 0], gen_s[:, 1], s=1, color="tab:green")
        bottom.scatter(gen_m[:, 0], gen_m[:, 1], s=1, color="tab:orange")
        top.set_title(name.replace("F sigma=", "F, σ="), fontsize=9)
        for ax in (top, bottom):
            ax.set_xlim(-1.4, 1.4)
            ax.set_ylim(-1.2, 1.2)
            ax.set_xticks([])
            ax.set_yticks([])
    for b in range(blocks):
        axes[2 * b, 0].set_ylabel("reconstruction")
        axes[2 * b + 1, 0].set_ylabel("generation")
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


fig = panel_grid(fixed, "F-VAE, fixed σ")
glue("fig_fixed", fig, display=False)
plt.close(fig)
fig = panel_grid(["LS", "F*", "F schedule", "LV"], "learned σ, and its two fixed-σ replays", 2)
glue("fig_learned", fig, display=False)
plt.close(fig)

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
regions = [
    (-1.0, -1 / 3, "left (moderate)"),
    (-1 / 3, 1 / 3, "middle (small)"),
    (1 / 3, 1.0, "right (large)"),
]


def by_region(values, xs):
    return [float(np.mean(values[(xs >= lo) & (xs < hi)])) for lo, hi, _ in regions]


fresh_a = sample_toy2d((len(data_fig),), torch.Generator().manual_seed(101)).numpy()
# The statistic's noise level: the same distance between pairs of independent data batches.
reference_pairs = [
    metrics.energy_distance(
        sample_toy2d((len(data_fig),), torch.Generator().manual_seed(200 + 2 * k)).numpy(),
        sample_toy2d((len(data_fig),), torch.Generator().manual_seed(201 + 2 * k)).numpy(),
    )
    for k in range(20)
]
reference = float(np.mean(reference_pairs))
band = reference + 3 * float(np.std(reference_pairs, ddof=1))
energy, recon_rows = {}, []
for i, name in enumerate(settings):
    data = data_fig if i < len(settings) - 2 else np.asarray(figs["data_phase2"])
    rec = np.asarray(figs["recon"][i])
    d_data = by_region(metrics.distance_to_curve(data, curve_np), data[:, 0])
    d_rec = by_region(metrics.distance_to_curve(rec, curve_np), data[:, 0])
    energy[name] = metrics.energy_distance(np.asarray(figs["gen_sample"][i]), fresh_a)
    cells = [f"{a:.3f} → {b:.3f}" for a, b in zip(d_data, d_rec, strict=True)]
    recon_rows.append([name, *cells, report.fixed(energy[name], 4)])
recon_rows.append(
    ["data vs data", "", "", "", f"{report.sig(reference, 2)} (band {report.sig(band, 2)})"]
)
display(
    report.table(
        recon_rows,
        ["setting", *(f"{name}: data → recon." for _, _, name in regions), "energy distance"],
        caption=f"Distance to the curve, data → reconstruction, by region, and the energy distance "
        f"of 600 generated points to fresh data ({report.provenance(prov)}, seed 0). Data vs "
        "data: mean over 20 pairs of independent batches (unbiased, so it can be below 0); "
        "band = mean + 3 std.",
        name="recon",
    )
)

lv = settings.index("LV")
lv_sigma = by_region(np.asarray(figs["recon_sigma"][lv]), data_fig[:, 0])
print()
print("LV-VAE's learned sigma at the reconstructions, by region, against the data's noise:")
for (_, _, name), s, true in zip(regions, lv_sigma, TOY2D_NOISE, strict=True):
    print(f"  {name:<17} learned {s:.4f}   noise std {true:.3f}")
indistinct = [s for s in settings if energy[s] <= band]
distinct = [s for s in settings if energy[s] > band]
glue("energy_band", fmt(band, 2), display=False)
glue("gen_like_data", ", ".join(indistinct) or "none", display=False)
glue("gen_unlike_data", ", ".join(distinct) or "none", display=False)
for (_, _, name), s in zip(regions, lv_sigma, strict=True):
    glue(f"lv_sigma_{name.split()[0]}", fmt(s, 2), display=False)
lv_data = by_region(metrics.distance_to_curve(data_fig, curve_np), data_fig[:, 0])
lv_rec = by_region(
    metrics.distance_to_curve(np.asarray(figs["recon"][lv]), curve_np), data_fig[:, 0]
)
glue("lv_quiet_lowest", "lowest" if np.argmin(lv_sigma) == 1 else "not lowest", display=False)
glue("lv_right_ratio", fmt(lv_sigma[2] / TOY2D_NOISE[2], 2), display=False)
glue("lv_middle_ratio", fmt(lv_sigma[1] / TOY2D_NOISE[1], 2), display=False)
glue("lv_right_rec", fmt(lv_rec[2], 2), display=False)
glue("lv_right_data", fmt(lv_data[2], 2), display=False)
glue(
    "lv_generation",
    "generates samples within the data-vs-data band"
    if energy["LV"] <= band
    else "generates samples outside the data-vs-data band",
    display=False,
)

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
# LS-VAE's result here, which weakens the paper's annealing reading: the path of σ alone
# is not the whole story in our runs. The next chapter follows the training dynamics
# behind these numbers.
