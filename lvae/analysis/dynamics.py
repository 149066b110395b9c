"""Training dynamics (chapter 3): what the loss and sigma histories of a run show.

Every function takes plain arrays laid out as a record stores them: a history is
(n_logged_steps, n_series), one column per model or seed, with its steps as a separate
(n_logged_steps,) array (``record.models.where(setting="LS").history("kl")``). The
functions that return text produce the verdicts the chapter glues into its prose.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

from ..store import ModelTable
from .records import geomean  # noqa: F401  (shared, lvae.analysis.records)

SETTLED_TOL = 0.02  # sigma has settled when every seed moved less than 2 % over the last tenth
RISE_THRESHOLD = 0.1  # a rise of sigma by 10 % above its running minimum counts as a jump


def value_at(step_grid, values, step, *, before: bool = False):
    """The row of ``values`` logged at the last step of ``step_grid`` at or before ``step``
    (the value a piecewise-constant trace holds at ``step``); with ``before``, at the last
    step strictly before ``step``."""
    grid = np.asarray(step_grid)
    i = np.searchsorted(grid, step, side="left" if before else "right") - 1
    if i < 0:
        raise ValueError(f"step must be after the first logged step {grid[0]}, got {step}")
    return np.asarray(values)[i]


def histories(models: ModelTable, term: str) -> dict[str, np.ndarray]:
    """``{setting: history}`` of a logged term, each (n_logged_steps, n_seeds) with the
    seeds in record order, for every setting of ``models`` (in record order)."""
    return {s: models.where(setting=s).history(term)[1] for s in models.values("setting")}


def sigma_trace(record) -> tuple[np.ndarray, np.ndarray]:
    """LS-VAE's learned sigma as traced along training in a table1 ``store.Record``:
    (steps, sigma) with sigma (n_traced, n_seeds)."""
    trace = record.result["ls_sigma_trace"]
    return np.asarray(trace["step"]), np.asarray(trace["sigma"], dtype=float)


def monitor_drops(record, skip: int, n_seeds: int | None = None) -> dict[str, np.ndarray]:
    """``{setting: largest_drop}`` of the monitored ELBO of a record's models, from step
    ``skip`` on, for the first ``n_seeds`` seeds of each setting (all when None)."""
    steps = np.asarray(record.result["history"]["step"])
    return {
        s: largest_drop(steps, h[:, :n_seeds], skip)
        for s, h in histories(record.models, "monitor_elbo").items()
    }


def _last_rows(n: int, fraction: float) -> int:
    """How many of ``n`` logged rows make the last ``fraction`` (at least one)."""
    if not 0 < fraction <= 1:
        raise ValueError(f"fraction must be in (0, 1], got {fraction}")
    return max(1, math.floor(n * fraction + 1e-9))  # 1e-9: 10 * 0.1 counts as 1


def end_mean(values, fraction: float = 0.1) -> np.ndarray:
    """Per series: the mean over the last ``fraction`` of the logged steps (at least one)."""
    v = np.asarray(values, dtype=float)
    return v[-_last_rows(len(v), fraction) :].mean(axis=0)


def end_gap(a, b, fraction: float = 0.1) -> tuple[float, float]:
    """Mean of ``a`` minus mean of ``b`` over the last ``fraction`` of the logged steps (all
    series pooled), and the sample std of both pooled there (the seed spread it compares
    with)."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    n = _last_rows(len(a), fraction)
    pooled = np.concatenate([a[-n:], b[-n:]], axis=1)
    return float(a[-n:].mean() - b[-n:].mean()), float(pooled.std(ddof=1))


def last_tenth_change(steps, sigma) -> np.ndarray:
    """Per seed: sigma's relative change over the last 10 % of training,
    sigma(T) / sigma(t_0.9) - 1, with t_0.9 the first logged step at or after 0.9 T."""
    steps, sigma = np.asarray(steps), np.asarray(sigma, dtype=float)
    return sigma[-1] / sigma[np.searchsorted(steps, 0.9 * steps[-1])] - 1


def n_settled(change, tol: float = SETTLED_TOL) -> int:
    """How many seeds changed by less than ``tol`` (relative) over the last tenth."""
    return int(np.sum(np.abs(np.asarray(change)) < tol))


def settled_verdict(change, tol: float = SETTLED_TOL) -> str:
    """ "has settled" when every seed's relative change over the last tenth is below ``tol``
    in size, else "has not fully settled" (the chapter's criterion)."""
    return "has settled" if n_settled(change, tol) == len(change) else "has not fully settled"


def _per_step(steps, values) -> tuple[np.ndarray, np.ndarray]:
    steps, values = np.asarray(steps), np.asarray(values, dtype=float)
    if steps.ndim != 1 or len(values) != len(steps):
        raise ValueError(
            f"values need one row per step: steps {steps.shape}, values {values.shape}"
        )
    return steps, values


def largest_rise(steps, sigma, skip: int, threshold: float = RISE_THRESHOLD):
    """Per seed, from step ``skip`` on: the largest rise of sigma above its running minimum,
    max_t sigma(t) / min_{s <= t} sigma(s) - 1, and the first step where that rise exceeds
    ``threshold`` (None if never). Returns (rises, first_steps)."""
    steps, sigma = _per_step(steps, sigma)
    keep = steps >= skip
    rise = sigma[keep] / np.minimum.accumulate(sigma[keep], axis=0) - 1
    jumped = rise > threshold
    first = [int(steps[keep][np.argmax(j)]) if j.any() else None for j in jumped.T]
    return rise.max(axis=0), first


def earliest(first_steps: Sequence[int | None], never: str) -> str:
    """The earliest step of ``first_steps`` written with thousands separators ("12,300"),
    or ``never`` when no seed has one."""
    steps = [s for s in first_steps if s is not None]
    return f"{min(steps):,}" if steps else never


def largest_drop(steps, values, skip: int) -> np.ndarray:
    """Per column, from step ``skip`` on: the largest fall of ``values`` below their running
    maximum, max_t [max_{s <= t} v(s) - v(t)] (how much an ELBO lost from its best)."""
    steps, values = _per_step(steps, values)
    keep = steps >= skip
    return (np.maximum.accumulate(values[keep], axis=0) - values[keep]).max(axis=0)


def power_law_sigma(final_sigma, alpha, factor: float) -> float:
    """sigma after ``factor`` times the steps if each seed kept its power law
    sigma ~ c t^-alpha: the geometric mean over seeds of sigma(T) factor^-alpha."""
    final_sigma, alpha = np.asarray(final_sigma, dtype=float), np.asarray(alpha, dtype=float)
    return geomean(final_sigma * float(factor) ** -alpha)


@dataclass(frozen=True)
class WindowLink:
    """Whether sigma's falls coincide with the ELBO's rises, window by window (see
    :func:`sigma_drop_vs_elbo_gain`)."""

    window: int  # steps per window
    skip_steps: int  # steps left out at the start (the first descent from sigma = 1)
    drops: np.ndarray  # (n_windows, n_seeds): log sigma at a window's start minus at its end
    gains: np.ndarray  # (n_windows, n_seeds): the ELBO's rise from one window to the next
    rho: float  # Spearman correlation of drops and gains, windows and seeds pooled
    rho_p: float
    share_of_gain: float  # fraction of the total gain in the fifth of windows sigma falls most
    typical_gain: float  # median |gain| per window
    jitter: float  # std of the ELBO's change between consecutive logs, second half

    @property
    def jitter_ratio(self) -> float:
        """The ELBO's log-to-log jitter in units of a typical window's gain."""
        return self.jitter / self.typical_gain

    def significance(self, level: float = 0.05) -> str:
        """ "a" when the correlation is significant at ``level``, else "no" (for "we find
        a/no significant coincidence")."""
        return "a" if self.rho_p < level else "no"


def sigma_drop_vs_elbo_gain(trace_steps, sigma, steps, elbo, log_every: int) -> WindowLink:
    """Do sigma's drops line up with the ELBO's gains?

    Training is cut at edges e_k = k W (W = ``log_every`` times up to 4 logs, so that any
    profile has at least 4 windows). For consecutive edges a < b and each seed:

        drop = log sigma(a) - log sigma(b)      (sigma: last traced value at or before)
        gain = mean ELBO over logs in (b - W, b] - mean ELBO over logs in (a - W, a]

    The first tenth of the windows (at least one) is left out: the first descent from
    sigma = 1. On the rest, pooled over windows and seeds: the Spearman correlation of
    drops and gains, and the share of the total gain carried by the windows whose drop is
    at or above the 80th percentile (0.2 would mean no link). ``sigma`` is traced at
    ``trace_steps``, ``elbo`` (the ELBO on a fixed monitor set) logged at ``steps``; both
    have one column per seed, in the same order.
    """
    trace_steps, steps = np.asarray(trace_steps), np.asarray(steps)
    sigma, elbo = np.asarray(sigma, dtype=float), np.asarray(elbo, dtype=float)
    if not np.all(sigma > 0):
        raise ValueError("sigma must be positive")
    log_sigma = np.log(sigma)
    if log_sigma.shape[1:] != elbo.shape[1:]:
        raise ValueError(f"sigma and elbo need the same seeds: {log_sigma.shape}, {elbo.shape}")
    window = int(log_every) * max(1, min(4, len(steps) // 4))
    edges = np.arange(window, steps[-1] + 1, window)
    if len(edges) < 3:
        raise ValueError(f"need at least 3 windows of {window} steps, got {len(edges)}")
    drops, gains = [], []
    for a, b in zip(edges[:-1], edges[1:], strict=True):
        drops.append(value_at(trace_steps, log_sigma, a) - value_at(trace_steps, log_sigma, b))
        in_a = (steps > a - window) & (steps <= a)
        in_b = (steps > b - window) & (steps <= b)
        gains.append(elbo[in_b].mean(axis=0) - elbo[in_a].mean(axis=0))
    skip = max(1, len(edges) // 10)
    drops, gains = np.asarray(drops)[skip:], np.asarray(gains)[skip:]
    rho, rho_p = stats.spearmanr(drops.ravel(), gains.ravel())
    fast = drops >= np.quantile(drops, 0.8)
    return WindowLink(
        window=window,
        skip_steps=int(skip * window),
        drops=drops,
        gains=gains,
        rho=float(rho),
        rho_p=float(rho_p),
        share_of_gain=float(gains[fast].sum() / gains.sum()),
        typical_gain=float(np.median(np.abs(gains))),
        jitter=float(np.diff(elbo[len(steps) // 2 :], axis=0).std()),
    )


def per_seed(models: ModelTable, column: str, seeds: Sequence[int]) -> np.ndarray:
    """A per-model result column of ``models`` (one setting) in the order of ``seeds``."""
    by_seed = dict(zip((m["seed"] for m in models), models.column(column), strict=True))
    missing = [s for s in seeds if s not in by_seed]
    if missing:
        raise KeyError(f"seeds {missing} are not among the models' seeds {sorted(by_seed)}")
    return np.array([by_seed[s] for s in seeds])


def lower_and_higher(before: Mapping[str, np.ndarray], after: Mapping[str, np.ndarray]):
    """The settings whose mean is lower ``after`` than ``before``, and the others (equal
    counts as higher), each in the order of ``before``."""
    lower = [s for s in before if np.mean(after[s]) < np.mean(before[s])]
    return lower, [s for s in before if s not in lower]


def softer_verdict(drops_ls, drops_f) -> str:
    """Does LS-VAE's ELBO lose less than fixed-sigma F-VAE's when training turns unstable?

    Compares the medians over seeds of the largest fall below the best ELBO so far
    (:func:`largest_drop`); the text continues "When the fit is disrupted, sigma rises,
    and ..."."""
    median_ls, median_f = float(np.median(drops_ls)), float(np.median(drops_f))
    head = (
        "LS-VAE's ELBO loses less"
        if median_ls < median_f
        else "yet LS-VAE's ELBO does not lose less"
    )
    return (
        f"{head} than F-VAE's at a fixed small σ (median over seeds {median_ls:.2f} against "
        f"{median_f:.2f} nats)"
    )


def replay_verdict(lo: float, hi: float) -> str:
    """The verdict on Appendix A.2 from the confidence interval [lo, hi] of the final ELBO
    of the sigma-schedule replay minus LS-VAE's: recovered when it contains 0."""
    if lo < 0 < hi:
        return (
            "The interval contains 0: the replay recovers LS-VAE's result, as Appendix A.2 reports."
        )
    return (
        "The interval excludes 0: in our runs the replay does not recover LS-VAE's result, "
        "although its loss curves follow LS-VAE's closely (figure)."
    )


def rms_distance_per_coordinate(points, curve) -> float:
    """sqrt(mean(d^2) / 2) for the distances d of 2-D ``points`` to the graph of ``curve``
    on [-1, 1]: the sigma of a model whose reconstructions lie on the curve (the best
    scalar sigma is the rms reconstruction error per coordinate)."""
    from ..metrics import distance_to_curve

    d = distance_to_curve(points, curve)
    return math.sqrt(float(np.mean(np.square(d))) / 2)


def toy2d_noise_rms(n: int = 20000, seed: int = 5) -> float:
    """:func:`rms_distance_per_coordinate` of ``n`` fresh toy points (``lvae.data``)."""
    import torch

    from ..data import sample_toy2d, toy2d_curve

    points = sample_toy2d((n,), torch.Generator().manual_seed(seed)).numpy()
    return rms_distance_per_coordinate(points, lambda u: toy2d_curve(torch.as_tensor(u)).numpy())


def kl_weight_loss_differences(
    kl_weight: float, sigma: float, n_batches: int = 5, batch: int = 256
) -> np.ndarray:
    """Section 3.2's identity on a random network: per toy point, the loss with sigma and
    KL weight lambda minus lambda times the plain loss at sigma' = sigma sqrt(lambda):

        ||x-mu||^2/(2 sigma^2) + D log sigma + lambda KL
            = lambda [||x-mu||^2/(2 lambda sigma^2) + KL] + D log sigma,

    so the difference is the same constant at every point,
    D (1 - lambda)(log sigma + log(2 pi)/2) - lambda D log(lambda)/2 (D = 2 here). Both
    models share seed 0's networks and the latent noise of each batch.
    """
    import torch

    from ..data import sample_toy2d
    from ..nets import mlp_networks
    from ..spec import ModelSpec
    from ..vae import StackedVAE

    for name, value in (("kl_weight", kl_weight), ("sigma", sigma)):
        if not value > 0:
            raise ValueError(f"{name} must be positive, got {value!r}")

    def model(s, lam=1.0):
        spec = ModelSpec("kl-weight check", sigma=s, kl_weight=lam)
        return StackedVAE([spec], mlp_networks(2, 32, 1), latent_dim=2)

    weighted, rescaled = model(sigma, kl_weight), model(sigma * math.sqrt(kl_weight))
    differences = []
    with torch.no_grad():
        for k in range(n_batches):
            x = sample_toy2d((1, batch), torch.Generator().manual_seed(k))
            la = weighted.elbo_terms(x, torch.Generator().manual_seed(k))["loss"]
            lb = rescaled.elbo_terms(x, torch.Generator().manual_seed(k))["loss"]
            differences.append((la - kl_weight * lb).flatten())
    return torch.cat(differences).numpy()
