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

# %% tags=["hide-input"]
import matplotlib.pyplot as plt
import numpy as np
from IPython.display import display

from lvae import experiments, metrics, plots
from lvae.analysis import dynamics as dyn
from lvae.analysis import protocol as pr
from lvae.analysis.claims import mean_diff_ci, welch
from lvae.experiments.table1 import CALIBRATED_LATENTS, calibrated_name
from lvae.report import below, fixed, fmt, pm, provenance, table

plt.rcParams.update({"figure.dpi": 110, "font.size": 9, "axes.formatter.limits": (-4, 4)})
record = experiments.record("table1", profile, device=device)
cfg, prov, res, models = record.config, record.provenance, record.result, record.models
steps = np.asarray(res["history"]["step"])
print(
    f"{record.describe()}; commit {prov['git_commit'][:12]}\ntorch {prov['torch']}; history "
    f"every {cfg['log_every']} steps (one batch of {cfg['batch_size']} each);\nLS-VAE's sigma "
    f"traced every {cfg['trace_every']} steps"
)

# %% [markdown]
# ## Reconstruction and KL along training (Figs. 8 and 9)
#
# The reconstruction loss is $-\log p(x \mid z)$ with every constant included, and the KL
# term is $D_{KL}(q(z \mid x)\,\|\,p(z))$, both in nats per point, one batch per logged
# step. Lines are means over seeds; the bands span the seeds.

# %% tags=["hide-input"]
recon = {s: -h for s, h in dyn.histories(models, "log_likelihood").items()}  # -log p(x|z)
kl = dyn.histories(models, "kl")
ends = {s: (dyn.end_mean(recon[s]), dyn.end_mean(kl[s])) for s in ("F sigma=0.043", "F*", "LS")}
rows = [
    [s, fixed(recon[s][0].mean(), 2), *(pm(v.mean(), v.std(ddof=1)) for v in rk)]
    for s, rk in ends.items()
]
columns = ["setting", "recon. at first log", "recon., last 10%", "KL, last 10%"]
caption = (
    f"Loss terms, nats per point ({provenance(prov)}): the first logged value (mean over "
    "seeds) and the last 10 % of training (mean ± std over seeds)."
)
display(table(rows, columns, caption=caption, name="loss_terms"))
values = {
    "first_log": int(steps[0]),
    "early_recon_f": fmt(recon["F sigma=0.043"][0].mean(), 3),
    "early_recon_ls": fmt(recon["LS"][0].mean(), 3),
    "ls_final_sigma": fmt(res["f_star_sigma"], 2),
}
# LS-VAE against F-VAE at sigma = 0.043, and against F*-VAE (the same sigma): Welch tests.
for suffix, other in (("", "F sigma=0.043"), ("_eq", "F*")):
    for term, k in (("rec", 0), ("kl", 1)):
        gap, p = welch(ends["LS"][k], ends[other][k])
        values |= {f"{term}_gap{suffix}": fmt(gap, 2), f"{term}_p{suffix}": fmt(p, 2)}
plots.glue_values(values)

panels = {
    title: {"reconstruction": (recon[s], "tab:blue"), "KL": (kl[s], "tab:red")}
    for s, title in (("F sigma=0.043", "F-VAE, σ = 0.043 (Fig. 8)"), ("LS", "LS-VAE (Fig. 9)"))
}
fig = plots.mean_curve_panels(steps, panels, figsize=(7.5, 2.8), ylabel="nats per point")
plots.show(fig, "fig_losses")

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
trace_steps, trace = dyn.sigma_trace(record)  # trace: (n_traced, n_seeds)
end = int(trace_steps[-1])
monitor = dyn.histories(models, "monitor_elbo")  # ELBO on 2,000 fixed points, fixed noise
link = dyn.sigma_drop_vs_elbo_gain(trace_steps, trace, steps, monitor["LS"], cfg["log_every"])
change = dyn.last_tenth_change(trace_steps, trace)  # has sigma settled?
plots.glue_values(
    {
        "fig_sigma_window": link.window,
        "jitter_ratio": fmt(link.jitter_ratio, 2),
        "rho": fmt(link.rho, 2),
        "rho_p": fmt(link.rho_p, 2),
        "rho_significant": link.significance(),
        "share_of_gain": round(100 * link.share_of_gain),
        "final_sigma": fmt(dyn.geomean(trace[-1]), 3),
        "sigma_change_median": fmt(100 * float(np.median(change)), 2),
        "sigma_settled": dyn.settled_verdict(change),
        "n_seeds_settled": dyn.n_settled(change),
        "n_seeds_sigma": len(change),
    }
)

lv_sigma = np.exp(np.log(dyn.histories(models, "sigma")["LV"]).mean(axis=1))
lines = {
    "LS-VAE (each seed)": (trace_steps, trace, "tab:purple"),
    "LV-VAE (geometric mean over pixels and seeds)": (steps, lv_sigma, "tab:orange"),
}
fig = plots.seed_lines_figure(lines, ylabel="σ", reference=(res["f_star_sigma"], "F*-VAE's σ"))
plots.show(fig, "fig_sigma")

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
# The longer run (lvae.experiments.table1.LONG): seeds 0-2, four times the steps,
# F-VAE at sigma = 0.043 and the other settings.
long = experiments.record("table1-long", profile, device=device)

# %% tags=["hide-input"]
skip = cfg["steps"] // 10  # leave out the first descent from sigma = 1
alpha = metrics.decay_exponent(trace_steps, trace)
first_rise = dyn.largest_rise(trace_steps, trace, skip)[1]
lprov, seeds3, n3 = long.provenance, long.config["seeds"], len(long.config["seeds"])
l_steps, l_trace = dyn.sigma_trace(long)
l_rise, l_first = dyn.largest_rise(l_steps, l_trace, skip)
print(f"alpha over steps {end // 2}-{end}, per seed:\n  {', '.join(f'{a:.3f}' for a in alpha)}")
values = {
    "alpha_median": fmt(float(np.median(alpha)), 2),
    "alpha_drift": fmt(100 * float(np.median(alpha)) * np.log(10 / 9), 2),
    "n_rise_short": len(first_rise) - first_rise.count(None),
    "first_rise_short": dyn.earliest(first_rise, "nowhere"),
    "long_steps": f"{lprov['steps']:,}",
    "long_first_rise": dyn.earliest(l_first, "never"),
    "long_max_rise": round(100 * float(l_rise.max())),
    "long_n_settled": dyn.n_settled(dyn.last_tenth_change(l_steps, l_trace)),
    "long_n_seeds": n3,
}
# The power law of this run's seeds, extrapolated to twice and four times its length.
for factor in (2, lprov["steps"] // cfg["steps"]):
    predicted = dyn.power_law_sigma(trace[-1, :n3], alpha[:n3], factor)
    # sigma at the last trace before step factor * end (the value the book has always read)
    observed = dyn.geomean(dyn.value_at(l_steps, l_trace, factor * end, before=True))
    values |= {f"predicted_x{factor}": fmt(predicted, 3), f"observed_x{factor}": fmt(observed, 3)}
    values[f"law_x{factor}"] = f"{100 * (observed / predicted - 1):+.0f} %"
plots.glue_values(values)

# %% tags=["hide-input"]
# The monitored ELBO: how far each setting fell below its best value so far (seeds 0-2).
drops, l_drops = dyn.monitor_drops(record, skip, n3), dyn.monitor_drops(long, skip, n3)
ls_long, f_long = l_drops["LS"], l_drops["F sigma=0.043"]
# Table 1's comparisons on the same seeds, after both lengths of training.
settings = ("F sigma=0.043", "LS", "LV", "F*", "F schedule")
before = {s: dyn.per_seed(models.where(setting=s), "elbo", seeds3) for s in settings}
after = {s: dyn.per_seed(long.models.where(setting=s), "elbo", seeds3) for s in settings}
lower, higher = dyn.lower_and_higher(before, after)
plots.glue_values(
    {
        "drop_ls_short": fmt(float(drops["LS"].max()), 2),
        "drop_ls_long": fmt(float(ls_long.max()), 2),
        "drop_f_long": fmt(float(f_long.max()), 2),
        "softer_verdict": dyn.softer_verdict(ls_long, f_long),
        "lower_after_long": ", ".join(lower) or "no setting",
        "higher_after_long": ", ".join(higher) or "none",
    }
)
rows = [[s, *(pm(v.mean(), v.std(ddof=1)) for v in (before[s], after[s]))] for s in settings]
columns = ["setting", f"ELBO after {cfg['steps']:,} steps", f"ELBO after {lprov['steps']:,} steps"]
caption = (
    f"Final ELBO, nats per point, mean ± std over seeds {list(seeds3)}: this run "
    f"({provenance(prov)}) against the longer one ({provenance(lprov)})."
)
display(table(rows, columns, caption=caption, name="long_run"))

t_ext = np.linspace(end / 2, l_steps[-1], 50)
law_sigma = dyn.geomean(trace[-1, :n3]) * (t_ext / end) ** -np.median(alpha)
law = (t_ext, law_sigma, "power law fitted on the shorter run")
sigma_lines = {
    f"LS-VAE, {lprov['steps']:,} steps": (l_steps, l_trace, "tab:purple"),
    f"LS-VAE, {end:,} steps": (trace_steps, trace[:, :n3], "tab:green"),
}
l_monitor, l_log = dyn.histories(long.models, "monitor_elbo"), long.result["history"]["step"]
colors = {"F sigma=0.043": "tab:blue", "LS": "tab:purple"}
elbo_lines = {s: (l_log, l_monitor[s], c) for s, c in colors.items()}
fig = plots.sigma_and_elbo_figure(sigma_lines, elbo_lines, law=law, elbo_ylim=(-3, 0.5))
plots.show(fig, "fig_long_run")
# T7 under the protocol (calibrated data, latent 1, 2 and 4; the claims page).
t7 = {d: pr.sigma_claim(experiments.record(calibrated_name(d), profile, device=device))
      for d in CALIBRATED_LATENTS}  # fmt: skip
plots.glue_values({"protocol_T7": pr.verdict_line(t7)})

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
# ```{important}
# This reading is of the uncalibrated table at latent 1 and of three seeds trained four
# times longer. The claims page ({doc}`06_claims`) judges the same claim (T7) under the
# protocol, on the calibrated tables at latent 1, 2 and 4, seed by seed over the last
# tenth of 60,000 steps: there it is {glue:text}`protocol_T7`. Where it is contradicted,
# σ still falls there as it does here; where it holds, no steady fall across seeds is
# found over that last tenth, which says that σ moves little over that window, not that
# the annealing has ended: the longer run above shows the slow drift and the jumps that a
# short window does not see. The claims page's verdict is read with this caveat.
# ```
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
# The two-latent run (lvae.experiments.table1.LATENT2): Table 1 with latent_dim = 2.
two = experiments.record("table1-latent2", profile, device=device)

# %% tags=["hide-input"]
# sigma's floor when reconstructions lie on the curve (rms distance to it, per coordinate)
noise_rms = dyn.toy2d_noise_rms()
plots.glue_values({"noise_rms": fmt(noise_rms, 2)})
two_steps, two_sigma = dyn.sigma_trace(two)
two_change = dyn.last_tenth_change(two_steps, two_sigma)
print(f"latent-2 record: {two.describe()};\n  commit {two.provenance['git_commit'][:12]}")
two_final, two_median = dyn.geomean(two_sigma[-1]), float(np.median(two_change))
plots.glue_values({"two_final_sigma": fmt(two_final, 2), "two_change": fmt(100 * two_median, 2)})
lines = {
    "latent 1 (this book)": (trace_steps, trace, "tab:purple"),
    "latent 2 (first version)": (two_steps, two_sigma, "tab:gray"),
}
ref = (noise_rms, "rms distance to the curve, per coordinate")
fig = plots.seed_lines_figure(lines, ylabel="LS-VAE's σ", reference=ref, figsize=(6, 2.6))
plots.show(fig, "fig_latent")

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
elbo_terms = {"reconstruction": recon, "KL": kl, "ELBO": dyn.histories(models, "elbo")}
for title, h in elbo_terms.items():
    gap, spread = dyn.end_gap(h["F schedule"], h["LS"])
    print(f"{title:<15} schedule - LS over the last 10%: {gap:+.3f}   (seed spread {spread:.3f})")
final = {s: models.where(setting=s).column("elbo") for s in ("F schedule", "LS")}
d, lo, hi = mean_diff_ci(final["F schedule"], final["LS"])
print(f"final ELBO, schedule - LS: {d:+.3f}, 95% CI [{lo:+.3f}, {hi:+.3f}]")
values = {"replay_gap": fmt(d, 2), "replay_lo": fmt(lo, 2), "replay_hi": fmt(hi, 2)}
plots.glue_values(values | {"replay_verdict": dyn.replay_verdict(lo, hi)})

colors = {"LS": "tab:purple", "F schedule": "tab:green", "F*": "tab:gray"}
panels = {t: {s: (h[s], c) for s, c in colors.items()} for t, h in elbo_terms.items()}
plots.show(plots.mean_curve_panels(steps, panels, figsize=(8, 2.5), band=False), "fig_replay")

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
differences = dyn.kl_weight_loss_differences(kl_weight=4.0, sigma=0.1)
IDENTITY_TOL = 1e-4  # stated tolerance: float32 rounding of losses of order 1 to 10
spread = below(np.ptp(differences), IDENTITY_TOL)  # checks the spread is below it
kl_rec = experiments.record("kl-weight", profile, device=device)
rel_gap = np.asarray(kl_rec.result["max_decoder_gap"]) / np.asarray(kl_rec.result["decoder_scale"])
print(
    f"loss(sigma, lambda) - lambda * loss(sigma sqrt(lambda), 1) over {differences.size} points:\n"
    f"  mean {differences.mean():.3f}, spread below {spread:.0e}\n"
    f"trained side by side: {kl_rec.describe()};\n  sigma {kl_rec.config['sigma']}, "
    f"lambda in {kl_rec.config['kl_weights']}"
)
plots.glue_values({"identity_spread": IDENTITY_TOL, "kl_rel_gap": fmt(rel_gap.max(), 1)})

# %% [markdown]
# On random networks the difference between the two losses is the same constant at every
# point, to within {glue:text}`identity_spread:.0e` (float32 rounding). After training,
# the two versions' decoders differ by at most a fraction {glue:text}`kl_rel_gap:.0e` of
# their output scale. The equivalence holds as the paper states, and with Adam it also
# holds along the whole training path.
