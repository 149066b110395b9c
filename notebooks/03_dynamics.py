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
# # Learning σ as self-tuned annealing: the training dynamics
#
# The paper's second claim {cite}`berger2020vae` is about *how* LS-VAE gets where it does.
# Because σ starts at 1, the reconstruction term is weak early on and the KL term
# dominates, so the model first fits the coarse shape of the data. As reconstruction
# improves, lowering σ pays off, which sharpens the objective and brings finer details
# into view. The paper reads this as an annealing schedule that the model sets for itself
# {cite}`huang2018annealed`, and supports it with loss curves (its Figs. 8-9), the learned σ
# (Fig. 10), and a replay of that σ schedule on a fixed-σ VAE (Appendix A.2).
#
# This chapter reads those curves from the same training runs as the previous chapter and
# puts numbers on each statement. It also checks Section 3.2's remark that a weight λ on
# the KL term is equivalent to multiplying σ by $\sqrt\lambda$.

# %% tags=["parameters"]
# Papermill parameters: "smoke" (seconds), "book" (the committed results), "paper" (GPU).
profile = "book"
device = "auto"
# A second run, this many times longer (3 seeds; F at sigma = 0.043, LS, LV, F*, replay),
# tests whether sigma stops falling; 0 skips it.
long_run_factor = 4

# %% tags=["hide-input"]
import math

import matplotlib.pyplot as plt
import numpy as np
import torch
from IPython.display import display
from myst_nb import glue
from scipy import stats

from lvae import experiments, metrics, store
from lvae.data import sample_toy2d, toy2d_curve
from lvae.experiments import normalised
from lvae.report import below, fixed, fmt, pm, provenance, table
from lvae.toy2d_experiment import table1_config
from lvae.vae import StackedVAE

plt.rcParams.update({"figure.dpi": 110, "font.size": 9, "axes.formatter.limits": (-4, 4)})


record = experiments.table1(profile, device=device)
cfg, prov, res = record["config"], record["provenance"], record["result"]
hist = res["history"]
steps = np.asarray(hist["step"])
setting_of = [m["setting"] for m in res["models"]]


def plot_seeds(ax, x, values, color, label):
    """One thin line per seed (columns of ``values``), labelled once."""
    for k in range(values.shape[1]):
        ax.plot(x, values[:, k], lw=0.7, color=color, alpha=0.6, label=label if k == 0 else None)


def curves(term, setting):
    """(n_logged_steps, n_seeds) history of ``term`` for one setting."""
    cols = [j for j, s in enumerate(setting_of) if s == setting]
    return np.asarray(hist[term])[:, cols]


print(
    f"profile {prov['profile']}; seeds {prov['seeds']}; {prov['steps']} steps; "
    f"device {prov['device']};\ntorch {prov['torch']}; commit {prov['git_commit'][:12]}"
)
print(
    f"history every {cfg['log_every']} steps (one batch of {cfg['batch_size']} each); "
    f"LS-VAE's sigma traced every {cfg['trace_every']} steps"
)

# %% [markdown]
# ## Reconstruction and KL along training (Figs. 8 and 9)
#
# The reconstruction loss is $-\log p(x \mid z)$ with every constant included, and the KL
# term is $D_{KL}(q(z \mid x)\,\|\,p(z))$, both in nats per point, one batch per logged
# step. Lines are means over seeds; the bands span the seeds.

# %% tags=["hide-input"]
pairs = [("F sigma=0.043", "F-VAE, σ = 0.043 (Fig. 8)"), ("LS", "LS-VAE (Fig. 9)")]
fig, axes = plt.subplots(1, 2, figsize=(7.5, 2.8), sharey=True)
for ax, (setting, title) in zip(axes, pairs, strict=True):
    for term, sign, label, color in (
        ("log_likelihood", -1, "reconstruction", "tab:blue"),
        ("kl", 1, "KL", "tab:red"),
    ):
        c = sign * curves(term, setting)
        ax.plot(steps, c.mean(axis=1), color=color, lw=1, label=label)
        ax.fill_between(steps, c.min(axis=1), c.max(axis=1), color=color, alpha=0.2, lw=0)
    ax.set_title(title)
    ax.set_xlabel("step")
    ax.set_yscale("symlog", linthresh=1.0)
axes[0].set_ylabel("nats per point")
axes[0].legend(fontsize=8)
fig.tight_layout()
glue("fig_losses", fig, display=False)
plt.close(fig)

first, last = slice(0, 1), slice(-max(1, len(steps) // 10), None)  # first log; last 10%
rows = []
for setting in ("F sigma=0.043", "F*", "LS"):
    rec_c, kl_c = -curves("log_likelihood", setting), curves("kl", setting)
    rows.append((setting, rec_c[first].mean(), rec_c[last].mean(axis=0), kl_c[last].mean(axis=0)))
display(
    table(
        [
            [
                setting,
                fixed(r0, 2),
                pm(r_end.mean(), r_end.std(ddof=1)),
                pm(k_end.mean(), k_end.std(ddof=1)),
            ]
            for setting, r0, r_end, k_end in rows
        ],
        ["setting", "recon. at first log", "recon., last 10%", "KL, last 10%"],
        caption=f"Loss terms, nats per point ({provenance(prov)}): the first logged value (mean "
        "over seeds) and the last 10 % of training (mean ± std over seeds).",
        name="loss_terms",
    )
)
kl_gap, kl_p = metrics.welch(rows[2][3], rows[0][3])  # LS - F(0.043)
rec_gap, rec_p = metrics.welch(rows[2][2], rows[0][2])
kl_gap_eq, kl_p_eq = metrics.welch(rows[2][3], rows[1][3])  # LS - F*: the same sigma
rec_gap_eq, rec_p_eq = metrics.welch(rows[2][2], rows[1][2])
glue("first_log", int(steps[0]), display=False)
glue("early_recon_f", fmt(rows[0][1], 3), display=False)
glue("early_recon_ls", fmt(rows[2][1], 3), display=False)
for name, value in (
    ("kl_gap", kl_gap),
    ("kl_p", kl_p),
    ("rec_gap", rec_gap),
    ("rec_p", rec_p),
    ("kl_gap_eq", kl_gap_eq),
    ("kl_p_eq", kl_p_eq),
    ("rec_gap_eq", rec_gap_eq),
    ("rec_p_eq", rec_p_eq),
):
    glue(name, fmt(value, 2), display=False)
glue("ls_final_sigma", fmt(res["f_star_sigma"], 2), display=False)

# %% [markdown]
# ```{glue:figure} fig_losses
# :name: fig-losses
#
# Reconstruction loss and KL term along training (symmetric log scale).
# ```
#
# **Early on.** The paper says that with a small fixed σ the $1/(2\sigma^2)$ factor makes
# the first reconstruction errors very expensive. Our history starts at step
# {glue:text}`first_log`. By then F-VAE at σ = 0.043 is already at
# {glue:text}`early_recon_f` nats, below LS-VAE's {glue:text}`early_recon_ls` (whose σ is
# still large). The expensive phase is shorter than our logging interval, so these runs
# cannot show it.
#
# **At the end** (mean over the last 10 % of logged steps), LS-VAE's KL term differs from
# F-VAE's at σ = 0.043 by {glue:text}`kl_gap` nats (Welch $p$ = {glue:text}`kl_p`), and its
# reconstruction loss by {glue:text}`rec_gap` nats ($p$ = {glue:text}`rec_p`). The paper
# reports equal reconstruction and a lower KL for LS-VAE (about 4 against 5, in its units).
# There, F-VAE's σ of 0.043 was the σ LS-VAE had learned. Ours learned
# {glue:text}`ls_final_sigma`, so the like-for-like comparison is with F\*-VAE, which uses
# that σ. Against F\*-VAE, LS-VAE's reconstruction loss differs by
# {glue:text}`rec_gap_eq` nats ($p$ = {glue:text}`rec_p_eq`) and its KL term by
# {glue:text}`kl_gap_eq` nats ($p$ = {glue:text}`kl_p_eq`).
#
# ## The learned σ (Fig. 10): plateaus and jumps?

# %% tags=["hide-input"]
trace_steps = np.asarray(res["ls_sigma_trace"]["step"])
trace = np.asarray(res["ls_sigma_trace"]["sigma"])  # (n_traced, n_seeds)
lv_sigma = curves("sigma", "LV")
fig, ax = plt.subplots(figsize=(6, 2.8))
plot_seeds(ax, trace_steps, trace, "tab:purple", "LS-VAE (each seed)")
ax.plot(
    steps,
    np.exp(np.log(lv_sigma).mean(axis=1)),
    color="tab:orange",
    lw=1.2,
    label="LV-VAE (geometric mean over pixels and seeds)",
)
ax.axhline(res["f_star_sigma"], color="k", lw=0.6, ls="--", label="F*-VAE's σ")
ax.set_yscale("log")
ax.set_xlabel("step")
ax.set_ylabel("σ")
ax.legend(fontsize=8)
fig.tight_layout()
glue("fig_sigma", fig, display=False)
plt.close(fig)

# Rates of change over windows: how much log sigma falls, and how much the ELBO rises.
window = cfg["log_every"] * max(1, min(4, len(steps) // 4))  # >= 4 windows on any profile
edges = np.arange(window, steps[-1] + 1, window)
log_trace = np.log(trace)


def at(step_grid, values, s):
    return values[np.searchsorted(step_grid, s, side="right") - 1]


# The ELBO on the same 2,000 points with the same latent noise at every logged step
# (recorded along training), so its changes come from the model, not from batch sampling.
ls_elbo = curves("monitor_elbo", "LS")
drops, gains = [], []
for a, b in zip(edges[:-1], edges[1:], strict=True):
    drops.append(at(trace_steps, log_trace, a) - at(trace_steps, log_trace, b))
    in_a = (steps > a - window) & (steps <= a)
    in_b = (steps > b - window) & (steps <= b)
    gains.append(ls_elbo[in_b].mean(axis=0) - ls_elbo[in_a].mean(axis=0))
drops, gains = np.asarray(drops), np.asarray(gains)  # (n_windows, n_seeds)
skip = max(1, len(edges) // 10)  # leave out the first descent from sigma = 1
rho, rho_p = stats.spearmanr(drops[skip:].ravel(), gains[skip:].ravel())
fast = drops[skip:] >= np.quantile(drops[skip:], 0.8)
share_of_gain = gains[skip:][fast].sum() / gains[skip:].sum()
print(f"windows of {window} steps after the first {skip * window} steps:")
print(f"  Spearman correlation of the sigma drop with the ELBO gain: {rho:+.2f} (p = {rho_p:.1e})")
print(
    f"  the 20% of windows where sigma falls fastest carry {100 * share_of_gain:.0f}% "
    "of the ELBO gain"
)
# How steady is the monitored ELBO? Its jitter between consecutive logs (late in
# training, where the trend is slow) against the typical size of a window's gain.
jitter = float(np.diff(ls_elbo[len(steps) // 2 :], axis=0).std())
typical_gain = float(np.median(np.abs(gains[skip:])))
print(
    f"  typical |ELBO gain| per window {typical_gain:.4f}; jitter between consecutive logs "
    f"{jitter:.4f}"
)
glue("jitter_ratio", fmt(jitter / typical_gain, 2), display=False)
glue("rho_significant", "a" if rho_p < 0.05 else "no", display=False)
glue("fig_sigma_window", int(window), display=False)
glue("rho", fmt(rho, 2), display=False)
glue("rho_p", fmt(rho_p, 2), display=False)
glue("share_of_gain", round(100 * float(share_of_gain)), display=False)


# Has sigma settled? Its relative change over the last 10% of training.
def last_tenth_change(steps_, sigma):
    """Per seed: sigma's relative change over the last 10% of the steps."""
    return sigma[-1] / sigma[np.searchsorted(steps_, 0.9 * steps_[-1])] - 1


def geomean(values):
    """Geometric mean (over seeds) of positive values."""
    return float(np.exp(np.log(values).mean()))


change = last_tenth_change(trace_steps, trace)
settled = bool(np.all(np.abs(change) < 0.02))
n_settled = int(np.sum(np.abs(change) < 0.02))
glue("n_seeds_settled", n_settled, display=False)
glue("n_seeds_sigma", len(change), display=False)
print(
    f"LS-VAE sigma at the end: {geomean(trace[-1]):.4f} (geometric mean);\n"
    f"change over the last 10% of steps: median {100 * np.median(change):+.1f}%, "
    f"range [{100 * change.min():+.1f}%, {100 * change.max():+.1f}%]"
)
glue("final_sigma", fmt(geomean(trace[-1]), 3), display=False)
glue("sigma_change_median", fmt(100 * float(np.median(change)), 2), display=False)
glue("sigma_settled", "has settled" if settled else "has not fully settled", display=False)

# %% [markdown]
# ```{glue:figure} fig_sigma
# :name: fig-sigma
#
# LS-VAE's learned σ for every seed, and LV-VAE's σ (geometric mean), on a log scale.
# ```
#
# To test whether σ's drops line up with gains in the ELBO, we cut training into windows of
# {glue:text}`fig_sigma_window` steps. In each window we measure how far $\log\sigma$ falls
# and how much the ELBO rises. The ELBO here is not the noisy training-batch value: every
# logged step, training recorded the ELBO on the same 2,000 points with the same latent
# noise, so its changes come from the model alone (its jitter between consecutive logs is
# {glue:text}`jitter_ratio` times a typical window's gain). We leave out the first descent
# from σ = 1. Across windows and seeds, the Spearman correlation between σ's drop and the
# ELBO's gain is {glue:text}`rho` ($p$ = {glue:text}`rho_p`), and the fifth of windows
# where σ falls fastest carries {glue:text}`share_of_gain` % of the ELBO gain (20 % would
# mean no link). So we find {glue:text}`rho_significant` significant coincidence at the 5 %
# level. The figure itself shows no plateaus and jumps like the paper's Fig. 10: in the
# committed run σ falls steeply for the first few thousand steps and then glides down
# slowly, with a few brief upward spikes.
#
# **Has σ settled?** At the end LS-VAE's σ is {glue:text}`final_sigma`. Its median relative
# change over the last 10 % of training is {glue:text}`sigma_change_median` %. By our
# criterion (every seed within ±2 %), σ {glue:text}`sigma_settled` in this profile:
# {glue:text}`n_seeds_settled` of {glue:text}`n_seeds_sigma` seeds are within ±2 %. The
# drift that remains is small against the spread that a two-dimensional latent space
# gives (two sections below): at the median rate, F\*-VAE's σ (the geometric mean over seeds)
# would move by about {glue:text}`sigma_change_median` % over another tenth of training.
#
# ### Does σ stop falling?
#
# After its first steep descent, LS-VAE's σ falls slowly and steadily, and on a log-log
# plot that slow part is close to a straight line: σ behaves like $c\,t^{-\alpha}$ at step
# $t$. If it kept doing so, no run would ever be long enough for our criterion, because
# the relative change over the last tenth of a run is then about $-\alpha\ln(10/9)$
# whatever the run's length; σ can only settle if the decay bends towards a floor. We fit
# $\alpha$ for every seed over the second half of training (`lvae.metrics.decay_exponent`)
# and test what it predicts with a second run four times as long, on three seeds, with
# F-VAE at σ = 0.043, LS-VAE, LV-VAE, F\*-VAE and the schedule replay. That run trains
# new networks (the stack holds fewer settings, so the seeds do not give the same
# initial weights); it is a replicate, not a continuation.


# %% tags=["hide-input"]
def largest_rise(steps_, sigma, skip):
    """Per seed: the largest rise of sigma above its running minimum after step ``skip``
    (as a fraction), and the first step where that rise exceeds 10 % (None if never)."""
    keep = steps_ >= skip
    rise = sigma[keep] / np.minimum.accumulate(sigma[keep], axis=0) - 1
    first = [int(steps_[keep][np.argmax(r > 0.1)]) if (r > 0.1).any() else None for r in rise.T]
    return rise.max(axis=0), first


def largest_drop(steps_, values, skip):
    """Per column: the largest fall of ``values`` below their running maximum after ``skip``."""
    keep = steps_ >= skip
    return (np.maximum.accumulate(values[keep], axis=0) - values[keep]).max(axis=0)


skip = cfg["steps"] // 10  # leave out the first descent from sigma = 1
alpha = metrics.decay_exponent(trace_steps, trace)
rise, first_rise = largest_rise(trace_steps, trace, skip)
print(
    f"decay exponent alpha over steps {trace_steps[-1] // 2}-{trace_steps[-1]}: "
    f"median {np.median(alpha):.3f}, range [{alpha.min():.3f}, {alpha.max():.3f}]"
)
print(
    f"seeds whose sigma rose more than 10% above its running minimum after step {skip}:\n"
    f"  {sum(f is not None for f in first_rise)} of {len(first_rise)}, first at steps "
    f"{sorted(f for f in first_rise if f is not None)}"
)
glue("alpha_median", fmt(float(np.median(alpha)), 2), display=False)
glue("alpha_drift", fmt(100 * float(np.median(alpha)) * math.log(10 / 9), 2), display=False)
glue("n_rise_short", sum(f is not None for f in first_rise), display=False)
glue(
    "first_rise_short",
    f"{min(f for f in first_rise if f is not None):,}"
    if any(f is not None for f in first_rise)
    else "nowhere",
    display=False,
)
if long_run_factor:
    seeds3 = tuple(cfg["seeds"][:3])
    long_rec = experiments.table1(
        profile,
        device=device,
        seeds=seeds3,
        fixed_sigmas=(0.043,),
        steps=long_run_factor * cfg["steps"],
    )
    lcfg, lprov, lres = long_rec["config"], long_rec["provenance"], long_rec["result"]
    print(
        f"\nlonger run: profile {lprov['profile']}; seeds {lprov['seeds']}; {lprov['steps']} "
        f"steps;\n  device {lprov['device']}; commit {lprov['git_commit'][:12]}; "
        f"{lprov['wall_time_s'] / 60:.0f} min"
    )
    l_steps = np.asarray(lres["ls_sigma_trace"]["step"])
    l_trace = np.asarray(lres["ls_sigma_trace"]["sigma"])  # (n_traced, 3)

    # The power law of this run's seeds, extrapolated to twice and four times its length.
    end = trace_steps[-1]
    n3 = len(seeds3)
    for factor in (2, long_run_factor):
        predicted = geomean(trace[-1, :n3] * float(factor) ** -alpha[:n3])
        observed = geomean(l_trace[np.searchsorted(l_steps, factor * end) - 1])
        print(
            f"sigma at {factor} x {end:,} steps: predicted {predicted:.4f}, "
            f"observed {observed:.4f} (geometric means)"
        )
        glue(f"predicted_x{factor}", fmt(predicted, 3), display=False)
        glue(f"observed_x{factor}", fmt(observed, 3), display=False)
        glue(f"law_x{factor}", f"{100 * (observed / predicted - 1):+.0f} %", display=False)
    l_rise, l_first = largest_rise(l_steps, l_trace, skip)
    print(
        "longer run, largest rise of sigma above its running minimum: "
        + ", ".join(f"{100 * r:.0f}%" for r in l_rise)
        + f";\n  first rise above 10% at steps {l_first}"
    )
    l_change = last_tenth_change(l_steps, l_trace)
    print(
        "change over the last 10% of the longer run: "
        + ", ".join(f"{100 * c:+.1f}%" for c in l_change)
    )
    glue("long_steps", f"{lprov['steps']:,}", display=False)
    glue(
        "long_first_rise",
        f"{min(f for f in l_first if f is not None):,}"
        if any(f is not None for f in l_first)
        else "never",
        display=False,
    )
    glue("long_max_rise", round(100 * float(l_rise.max())), display=False)
    glue("long_n_settled", int(np.sum(np.abs(l_change) < 0.02)), display=False)
    glue("long_n_seeds", n3, display=False)

    # The monitored ELBO: how far each setting fell below its best value so far.
    def columns(result, setting):
        return [j for j, m in enumerate(result["models"]) if m["setting"] == setting]

    drops = {}
    for label, result, hist_ in (("this run", res, hist), ("longer run", lres, lres["history"])):
        h_steps, monitor = np.asarray(hist_["step"]), np.asarray(hist_["monitor_elbo"])
        for setting in ("F sigma=0.043", "LS"):
            cols = columns(result, setting)[:n3]
            drops[(label, setting)] = largest_drop(h_steps, monitor[:, cols], skip)
    print("largest fall of the monitored ELBO below its best so far (nats), per seed:")
    for (label, setting), d in drops.items():
        print(f"  {label:<11} {setting:<14} " + ", ".join(f"{v:.2f}" for v in d))
    glue("drop_ls_short", fmt(float(drops[("this run", "LS")].max()), 2), display=False)
    glue("drop_ls_long", fmt(float(drops[("longer run", "LS")].max()), 2), display=False)
    glue("drop_f_long", fmt(float(drops[("longer run", "F sigma=0.043")].max()), 2), display=False)
    median_ls = float(np.median(drops[("longer run", "LS")]))
    median_f = float(np.median(drops[("longer run", "F sigma=0.043")]))
    glue(
        "softer_verdict",
        (
            "LS-VAE's ELBO loses less"
            if median_ls < median_f
            else "yet LS-VAE's ELBO does not lose less"
        )
        + f" than F-VAE's at a fixed small σ (median over seeds {median_ls:.2f} against "
        f"{median_f:.2f} nats)",
        display=False,
    )

    fig, (ax1, ax2) = plt.subplots(2, 1, figsize=(6.4, 5.2), sharex=True)
    plot_seeds(ax1, l_steps, l_trace, "tab:purple", f"LS-VAE, {lprov['steps']:,} steps")
    plot_seeds(ax1, trace_steps, trace[:, :n3], "tab:green", f"LS-VAE, {end:,} steps")
    t_ext = np.linspace(end / 2, l_steps[-1], 50)
    ax1.plot(
        t_ext,
        geomean(trace[-1, :n3]) * (t_ext / end) ** -np.median(alpha),
        "k--",
        lw=1,
        label="power law fitted on the shorter run",
    )
    ax1.set_yscale("log")
    ax1.set_ylabel("σ")
    ax1.legend(fontsize=8)
    l_hist = lres["history"]
    for setting, color in (("F sigma=0.043", "tab:blue"), ("LS", "tab:purple")):
        cols = columns(lres, setting)
        plot_seeds(
            ax2,
            np.asarray(l_hist["step"]),
            np.asarray(l_hist["monitor_elbo"])[:, cols],
            color,
            setting,
        )
    ax2.set_ylim(-3, 0.5)
    ax2.set_xlabel("training step")
    ax2.set_ylabel("monitored ELBO")
    ax2.legend(fontsize=8)
    fig.tight_layout()
    glue("fig_long_run", fig, display=False)
    plt.close(fig)

    # Table 1's comparisons on the same seeds, after both lengths of training.
    def elbos(result, setting, seeds):
        by_seed = {
            m["seed"]: e
            for m, e in zip(result["models"], result["elbo"], strict=True)
            if m["setting"] == setting
        }
        return np.array([by_seed[seed] for seed in seeds])

    n_short, n_long = f"{cfg['steps']:,} steps", f"{lprov['steps']:,} steps"
    lower_after, higher_after, long_rows = [], [], []
    for setting in ("F sigma=0.043", "LS", "LV", "F*", "F schedule"):
        a, b = elbos(res, setting, seeds3), elbos(lres, setting, seeds3)
        (lower_after if b.mean() < a.mean() else higher_after).append(setting)
        long_rows.append([setting, pm(a.mean(), a.std(ddof=1)), pm(b.mean(), b.std(ddof=1))])
    display(
        table(
            long_rows,
            ["setting", f"ELBO after {n_short}", f"ELBO after {n_long}"],
            caption=f"Final ELBO, nats per point, mean ± std over seeds {list(seeds3)}: this "
            f"run ({provenance(prov)}) against the longer one ({provenance(lprov)}).",
            name="long_run",
        )
    )
    glue("lower_after_long", ", ".join(lower_after) or "no setting", display=False)
    glue("higher_after_long", ", ".join(higher_after) or "none", display=False)

# %% [markdown]
# ```{glue:figure} fig_long_run
# :name: fig-long-run
#
# Top: LS-VAE's σ in the run four times longer (purple, three seeds) and in this chapter's
# run (green), with the power law fitted on the latter (dashed). Bottom: the monitored
# ELBO of F-VAE at σ = 0.043 and LS-VAE along the longer run.
# ```
#
# Over the second half of this chapter's run the median exponent is $\alpha$ =
# {glue:text}`alpha_median`: σ falls by about {glue:text}`alpha_drift` % over each last
# tenth, matching the drift measured above. At twice the steps the power law predicts
# σ = {glue:text}`predicted_x2` and the longer run has {glue:text}`observed_x2`
# ({glue:text}`law_x2` off). At four times the steps it predicts
# {glue:text}`predicted_x4` and the run has {glue:text}`observed_x4`
# ({glue:text}`law_x4` off), and {glue:text}`long_n_settled` of its
# {glue:text}`long_n_seeds` seeds meet the ±2 % criterion. The figure shows why the two
# checks differ. From step {glue:text}`long_first_rise` on, σ jumps up again and again, by
# as much as {glue:text}`long_max_rise` % above its lowest value so far, and falls back
# afterwards. These are episodes of unstable training, not a floor: in the same stretch
# the monitored ELBO drops suddenly. LS-VAE's largest fall below its best value so far is
# {glue:text}`drop_ls_long` nats in the longer run, against {glue:text}`drop_ls_short` in
# this chapter's run on the same seeds; F-VAE at σ = 0.043 falls by up to
# {glue:text}`drop_f_long` nats.
# The first jumps above 10 % already appear in this chapter's run, in
# {glue:text}`n_rise_short` of its seeds, the earliest at step
# {glue:text}`first_rise_short`.
#
# So, with Adam at a constant learning rate of 10⁻³, LS-VAE's σ does not settle in the
# sense the paper describes (σ stabilising once reconstruction and KL balance). It
# glides down slowly until the optimisation itself becomes unstable. One plausible reading,
# which we have not tested, is that the objective's curvature grows like 1/σ², so a fixed
# step size eventually becomes too large for it. When the fit is disrupted, σ rises, and
# {glue:text}`softer_verdict`. Training longer does not simply give a better-converged
# Table 1 either. On these three seeds, after four times the steps the mean ELBO is lower
# for {glue:text}`lower_after_long` and higher for {glue:text}`higher_after_long` (table
# above). The book's 60,000 steps end where the first jumps appear. We have not tried a
# decaying learning rate. It would avoid the jumps, but a rate that falls to zero freezes
# σ whatever the balance between the two terms, so σ coming to rest would then show a
# stable optimiser, not that the annealing has ended. A smaller constant rate, run until
# σ's drift is below its noise, would be the test of the paper's account.
#
# ## Why one latent dimension: σ has no floor with two
#
# Our first version of these runs gave the VAE a two-dimensional latent space, as many
# coordinates as the data. There, LS-VAE's σ never settled: after 60,000 steps it was
# still falling by several per cent every few thousand steps, in every seed. The record of
# that run is kept, and the figure below sets it beside the one-dimensional runs used in
# this book.
#
# The reason is structural. With two latent coordinates, the code of a point can hold its
# offset from the curve as well as its position along it, so the decoder can in principle
# reconstruct every point exactly. Then nothing stops σ from shrinking: each time the
# networks encode the noise a little more precisely, a smaller σ pays. With one latent
# coordinate, the code can only say where along the curve a point lies; the offset from
# the curve is noise the model cannot reconstruct, and σ has to cover it. σ then settles
# near the noise level of the data. The σ values back this reading. For a learned scalar
# σ and given networks, the best σ is the root mean square of the reconstruction error per
# coordinate. A σ well below the data's distance to the curve therefore means the
# reconstructions land closer to the data points than the curve itself does, which only a
# code that holds the offsets can achieve. The paper's stopping story ("σ stabilises when any
# further gain in reconstruction would cost more in KL") needs such a floor, so the
# latent dimension decides whether the annealing ends at all.

# %% tags=["hide-input"]
# The two-latent run was recorded before the ELBO monitor existed: its configuration is
# today's with latent_dim = 2 and without that field.
two_config = normalised(table1_config(profile, latent_dim=2))
del two_config["n_monitor"]
two_path = store.record_path(store.default_results_dir(), "table1", two_config)
# The floor for a model whose reconstructions lie on the curve: the root mean square
# distance of the data to the curve, per coordinate (measured on fresh points).
fresh = sample_toy2d((20000,), torch.Generator().manual_seed(5)).numpy()
to_curve = metrics.distance_to_curve(fresh, lambda u: toy2d_curve(torch.as_tensor(u)).numpy())
noise_rms = math.sqrt(np.mean(np.square(to_curve)) / 2)
print(f"rms distance of the data to the curve, per coordinate: {noise_rms:.4f}")
glue("noise_rms", fmt(noise_rms, 2), display=False)
if two_path.exists():
    two = store.load_record(two_path, "table1", two_config)
    two_trace = two["result"]["ls_sigma_trace"]
    two_steps, two_sigma = np.asarray(two_trace["step"]), np.asarray(two_trace["sigma"])
    fig, ax = plt.subplots(figsize=(6, 2.6))
    plot_seeds(ax, trace_steps, trace, "tab:purple", "latent 1 (this book)")
    plot_seeds(ax, two_steps, two_sigma, "tab:gray", "latent 2 (first version)")
    ax.axhline(
        noise_rms, color="k", ls="--", lw=0.6, label="rms distance to the curve, per coordinate"
    )
    ax.set_yscale("log")
    ax.set_xlabel("step")
    ax.set_ylabel("LS-VAE's σ")
    ax.legend(fontsize=8)
    fig.tight_layout()
    glue("fig_latent", fig, display=False)
    plt.close(fig)
    for label, st, sg in (("latent 1", trace_steps, trace), ("latent 2", two_steps, two_sigma)):
        change = last_tenth_change(st, sg)
        print(
            f"{label}: {st[-1]} steps; final sigma {geomean(sg[-1]):.4f};\n"
            f"  change over the last 10%: median {100 * np.median(change):+.1f}%, "
            f"range [{100 * change.min():+.1f}%, {100 * change.max():+.1f}%]"
        )
    two_prov = two["provenance"]
    print(
        f"latent-2 record: profile {two_prov['profile']}; seeds {two_prov['seeds']}; "
        f"{two_prov['steps']} steps;\n  device {two_prov['device']}; commit "
        f"{two_prov['git_commit'][:12]}"
    )
    glue("two_final_sigma", fmt(geomean(two_sigma[-1]), 2), display=False)
    glue(
        "two_change",
        fmt(100 * float(np.median(last_tenth_change(two_steps, two_sigma))), 2),
        display=False,
    )
else:  # e.g. a smoke run with its own results folder
    print(f"the latent-2 record is not in {two_path.parent}; comparison skipped")
    fig = plt.figure(figsize=(6, 0.5))
    fig.text(0.5, 0.5, "latent-2 record not available", ha="center")
    glue("fig_latent", fig, display=False)
    plt.close(fig)
    glue("two_final_sigma", "n/a", display=False)
    glue("two_change", "n/a", display=False)

# %% [markdown]
# ```{glue:figure} fig_latent
# :name: fig-latent
#
# LS-VAE's learned σ with one latent dimension (this book's runs) and with two (our first
# version, 60,000 steps), every seed, against the data's rms distance to the curve per
# coordinate.
# ```
#
# With two latent dimensions σ had reached {glue:text}`two_final_sigma` and was still
# moving by {glue:text}`two_change` % (median) over the last tenth of training, well below
# the data's rms distance to the curve, {glue:text}`noise_rms` per coordinate: the
# reconstructions are closer to the points than the curve is. With one latent
# coordinate, σ settles at {glue:text}`final_sigma`, above that distance, as it must be
# when the code cannot hold the offsets.
#
# ## Replaying LS-VAE's σ schedule on a fixed-σ VAE
#
# Appendix A.2 of the paper reports that an F-VAE whose σ follows LS-VAE's learned
# trajectory gives the same loss curves and final ELBO as LS-VAE, for every random
# initialisation. Our replay uses the trajectory of LS-VAE's seed 0, applied to ten new
# initialisations.

# %% tags=["hide-input"]
fig, axes = plt.subplots(1, 3, figsize=(8, 2.5))
gaps = {}
for ax, (term, sign, title) in zip(
    axes,
    [("log_likelihood", -1, "reconstruction"), ("kl", 1, "KL"), ("elbo", 1, "ELBO")],
    strict=True,
):
    for setting, color in (("LS", "tab:purple"), ("F schedule", "tab:green"), ("F*", "tab:gray")):
        c = sign * curves(term, setting)
        ax.plot(steps, c.mean(axis=1), color=color, lw=1, label=setting)
    ax.set_title(title)
    ax.set_xlabel("step")
    ax.set_yscale("symlog", linthresh=1.0)
    a, b = sign * curves(term, "F schedule"), sign * curves(term, "LS")
    spread = np.concatenate([a, b], axis=1)[last].std(ddof=1)
    gaps[term] = (a[last].mean() - b[last].mean(), spread)
axes[0].legend(fontsize=8)
fig.tight_layout()
glue("fig_replay", fig, display=False)
plt.close(fig)
for term, (gap, spread) in gaps.items():
    print(f"{term:<15} schedule - LS over the last 10%: {gap:+.3f}   (seed spread {spread:.3f})")
elbo = {
    s: np.asarray([e for e, m in zip(res["elbo"], setting_of, strict=True) if m == s])
    for s in ("LS", "F schedule", "F*")
}
d, lo, hi = metrics.mean_diff_ci(elbo["F schedule"], elbo["LS"])
print(f"final ELBO, schedule - LS: {d:+.3f}, 95% CI [{lo:+.3f}, {hi:+.3f}]")
glue("replay_gap", fmt(d, 2), display=False)
glue("replay_lo", fmt(lo, 2), display=False)
glue("replay_hi", fmt(hi, 2), display=False)
glue(
    "replay_verdict",
    "The interval contains 0: the replay recovers LS-VAE's result, as Appendix A.2 reports."
    if lo < 0 < hi
    else "The interval excludes 0: in our runs the replay does not recover LS-VAE's result, "
    "although its loss curves follow LS-VAE's closely (figure).",
    display=False,
)

# %% [markdown]
# ```{glue:figure} fig_replay
# :name: fig-replay
#
# LS-VAE, the F-VAE that replays its σ schedule, and F\*-VAE (σ fixed at LS-VAE's final
# value): means over seeds.
# ```
#
# The replay ends {glue:text}`replay_gap` nats from LS-VAE in final ELBO (95 % interval
# [{glue:text}`replay_lo`, {glue:text}`replay_hi`]). {glue:text}`replay_verdict`
#
# ## A KL weight is a rescaled σ (Section 3.2)
#
# With a weight λ on the KL term and a fixed σ, the loss per point is
#
# $$
# \frac{\|x-\mu\|^2}{2\sigma^2} + D\log\sigma + \lambda\,\mathrm{KL}
# = \lambda\Big[\frac{\|x-\mu\|^2}{2\lambda\sigma^2} + \mathrm{KL}\Big] + D\log\sigma ,
# $$
#
# which is λ times the plain loss at $\sigma' = \sigma\sqrt\lambda$, plus a constant. The
# two objectives have the same minimisers and gradients that differ by the factor λ.
# First we check the identity on random networks and data. Then we train both versions
# side by side (`lvae.experiments.kl_weight`), with the same initialisations, data and
# noise. Adam divides each gradient by its running scale, so a constant factor on the
# loss changes almost nothing (only through Adam's ε). Plain SGD would need its learning
# rate divided by λ.

# %% tags=["hide-input"]
lam, sigma = 4.0, 0.1
weighted = StackedVAE([0], 2, 2, 32, 1, torch.tensor([sigma]), kl_weight=torch.tensor([lam]))
rescaled = StackedVAE([0], 2, 2, 32, 1, torch.tensor([sigma * math.sqrt(lam)]))
differences = []
with torch.no_grad():
    for k in range(5):
        x = sample_toy2d((1, 256), torch.Generator().manual_seed(k))
        la = weighted.elbo_terms(x, torch.Generator().manual_seed(k))["loss"]
        lb = rescaled.elbo_terms(x, torch.Generator().manual_seed(k))["loss"]
        differences.append((la - lam * lb).flatten())
differences = torch.cat(differences)
IDENTITY_TOL = 1e-4  # stated tolerance: float32 rounding of losses of order 1 to 10
spread = float(differences.max() - differences.min())
print(
    f"loss(sigma, lambda) - lambda * loss(sigma sqrt(lambda), 1) over {differences.numel()} "
    f"points:\n  mean {float(differences.mean()):.3f}, "
    f"spread below {below(spread, IDENTITY_TOL):.0e}"
)

kl_rec = experiments.kl_weight(profile, device=device)
kl_cfg, kl_prov, kl_res = kl_rec["config"], kl_rec["provenance"], kl_rec["result"]
rel_gap = np.asarray(kl_res["max_decoder_gap"]) / np.asarray(kl_res["decoder_scale"])
print(
    f"trained side by side: profile {kl_prov['profile']}; seeds {kl_prov['seeds']}; "
    f"{kl_prov['steps']} steps;\n  device {kl_prov['device']}; sigma {kl_cfg['sigma']}, "
    f"lambda in {kl_cfg['kl_weights']}"
)
print(
    f"largest decoder-mean difference, relative to the decoder's output scale: {rel_gap.max():.1e}"
)
glue("identity_spread", IDENTITY_TOL, display=False)
glue("kl_rel_gap", fmt(float(rel_gap.max()), 1), display=False)

# %% [markdown]
# On random networks the difference between the two losses is the same constant at every
# point, to within {glue:text}`identity_spread:.0e` (float32 rounding). After training,
# the two versions' decoders differ by at most a fraction {glue:text}`kl_rel_gap:.0e` of
# their output scale. The equivalence holds as the paper states, and with Adam it also
# holds along the whole training path.
