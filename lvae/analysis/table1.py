"""Chapter 2: Table 1 on the 2-D problem, read from a table1 record.

A table1 record holds measurements only: per model (setting, seed) the exact ELBO, its
terms and final sigma; training histories; and one named figure panel per setting (seed
0's reconstructions and generations, with the data they came from). Everything the book
derives from them is here: results by setting, the paper-convention ELBO, convergence,
the paper's claims tested, distances to the curve by region and the generation test.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from ..data import TOY2D_NOISE, sample_toy2d, toy2d_curve
from ..metrics import distance_to_curve, energy_distance
from ..observation import paper_convention_elbo
from ..report import fixed as fixed_decimals
from ..report import pm, provenance, sig, table
from .claims import Claim, mean_diff_ci, significantly_above, welch
from .records import by_setting, geomean, settings  # noqa: F401  (shared, lvae.analysis.records)

DATA_DIM = 2
ALPHA = 0.05  # "significantly": the paper does not define it; Welch p < 0.05 here

# Table 1 of the paper (ELBO in its convention, mean ± std over 10 runs), as printed.
PAPER_TABLE1 = {
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

# The three noise regions of the toy data along u: (low, high, name), as in lvae.data.
REGIONS = (
    (-1.0, -1 / 3, "left (moderate)"),
    (-1 / 3, 1 / 3, "middle (small)"),
    (1 / 3, 1.0, "right (large)"),
)


# ------------------------------------------------------------------ the record by setting
def curve_np(u):
    """The manifold c(u) of the toy data (``lvae.data.toy2d_curve``) on NumPy arrays."""
    return toy2d_curve(torch.as_tensor(u)).numpy()


def fixed_settings(record) -> list[str]:
    """The F-VAE settings of the sigma sweep, in the record's order."""
    return [s for s in settings(record) if s.startswith("F sigma=")]


def paper_elbo(elbo):
    """The ELBO in the paper's convention (no Gaussian constant): exact + (D/2) log 2 pi,
    with D = 2 (``lvae.observation.paper_convention_elbo``)."""
    return paper_convention_elbo(np.asarray(elbo, dtype=float), DATA_DIM)


def setup(config) -> str:
    """The networks and evaluation of a table1 configuration, in one line."""
    return (
        f"networks: {config['n_blocks']} residual blocks of {config['hidden']} units; latent "
        f"dim {config['latent_dim']}; batch {config['batch_size']}; Adam lr {config['lr']};\n"
        f"final ELBO on {config['n_eval']} fresh points"
    )


def results_table(record):
    """Table 1 redone: final sigma, exact and paper-convention ELBO, the paper's value."""
    elbo, sigma = by_setting(record, "elbo"), by_setting(record, "final_sigma")
    rows = []
    for s in settings(record):
        paper = paper_elbo(elbo[s])
        rows.append(
            [
                s,
                fixed_decimals(geomean(sigma[s]), 4),
                pm(elbo[s].mean(), elbo[s].std(ddof=1)),
                pm(paper.mean(), paper.std(ddof=1)),
                PAPER_TABLE1.get(s, "not given"),
            ]
        )
    return table(
        rows,
        ["setting", "final σ", "ELBO (exact)", "ELBO (paper conv.)", "paper, Table 1"],
        caption=f"Table 1 ({provenance(record.provenance)}): mean ± standard deviation over "
        "seeds, nats per point; paper convention = exact + log 2π.",
        name="table1",
    )


# ------------------------------------------------------------------------- convergence
@dataclass(frozen=True)
class Convergence:
    """Per setting: ``trend``, the batch ELBO's change from the fourth to the last fifth
    of the logged steps; ``second``, each seed's batch ELBO over the last tenth (a second
    estimate of the final ELBO, from training batches)."""

    trend: dict[str, float]
    second: dict[str, np.ndarray]

    def still_rising(self, threshold: float = 0.01) -> list[str]:
        """Settings whose ELBO rose by more than ``threshold`` nats over the last fifth."""
        return [s for s, t in self.trend.items() if t > threshold]


def convergence(record) -> Convergence:
    """The batch-ELBO history by setting: trend over the last fifth, last-tenth mean."""
    trend, second = {}, {}
    for s in settings(record):
        _, e = record.models.where(setting=s).history("elbo")  # (logged steps, seeds)
        n = len(e)
        trend[s] = float(e[int(0.8 * n) :].mean() - e[int(0.6 * n) : int(0.8 * n)].mean())
        second[s] = e[int(0.9 * n) :].mean(axis=0)
    return Convergence(trend, second)


def ranking(means: Mapping[str, float]) -> list[str]:
    """Names by decreasing mean (ties keep their order)."""
    return sorted(means, key=lambda s: -means[s])


def convergence_table(record, conv: Convergence):
    elbo = by_setting(record, "elbo")
    rows = [
        [
            s,
            ("+" if conv.trend[s] > 0 else "") + fixed_decimals(conv.trend[s], 3),
            pm(conv.second[s].mean(), conv.second[s].std(ddof=1)),
            fixed_decimals(elbo[s].mean(), 3),
        ]
        for s in settings(record)
    ]
    return table(
        rows,
        ["setting", "ELBO gain, last fifth", "batch ELBO, last 10%", "final ELBO"],
        caption=f"Convergence and a second estimate ({provenance(record.provenance)}): nats per "
        "point; batch ELBO is mean ± std over seeds.",
        name="convergence",
    )


# ------------------------------------------------------------------ the paper's claims
def _need(elbo: Mapping, *names: str) -> None:
    missing = [n for n in names if n not in elbo]
    if missing:
        raise ValueError(f"the claims need settings {missing}; the record has {list(elbo)}")


def claims(elbo: Mapping[str, np.ndarray], alpha: float = ALPHA) -> list[Claim]:
    """The paper's six claims about Table 1, tested on the ELBOs by setting (Welch).

    1. LV-VAE above every other Table 1 setting, each significantly;
    2. LS-VAE above every fixed sigma (the sweep and F*), each significantly;
    3. F*-VAE significantly below LS-VAE;
    4. F*-VAE significantly below F-VAE at sigma = 0.1;
    5. sigma = 0.1 the best fixed sigma (by mean);
    6. the replayed sigma schedule matches LS-VAE: the 95% interval of the difference
       contains 0.
    """
    _need(elbo, "LV", "LS", "F*", "F schedule", "F sigma=0.1")
    fixed = [s for s in elbo if s.startswith("F sigma=")]
    lv = {s: welch(elbo["LV"], elbo[s]) for s in elbo if s not in ("LV", "F schedule")}
    ls = {s: welch(elbo["LS"], elbo[s]) for s in [*fixed, "F*"]}
    out = [
        Claim(
            "LV-VAE is best, significantly",
            all(d > 0 and p < alpha for d, p in lv.values()),
            f"LV - LS = {lv['LS'][0]:+.3f} (p = {lv['LS'][1]:.1e}); "
            f"min gap {min(d for d, _ in lv.values()):+.3f}",
        ),
        Claim(
            "LS-VAE beats every fixed sigma (sweep and F*)",
            all(d > 0 and p < alpha for d, p in ls.values()),
            f"smallest gap {min(d for d, _ in ls.values()):+.3f}, "
            f"largest p {max(p for _, p in ls.values()):.1e}",
        ),
    ]
    for other, label in (("LS", "LS"), ("F sigma=0.1", "F(0.1)")):
        d, p = welch(elbo["F*"], elbo[other])
        text = "LS-VAE" if other == "LS" else "F-VAE at sigma = 0.1"
        out.append(
            Claim(
                f"F*-VAE is significantly below {text}",
                significantly_above(elbo[other], elbo["F*"], alpha),
                f"F* - {label} = {d:+.3f}, p = {p:.1e}",
            )
        )
    best = best_fixed(elbo)
    out.append(Claim("sigma = 0.1 is the best fixed sigma", best == "F sigma=0.1", f"best: {best}"))
    d, lo, hi = mean_diff_ci(elbo["F schedule"], elbo["LS"])
    out.append(
        Claim(
            "replaying LS-VAE's sigma schedule matches LS-VAE",
            lo < 0 < hi,
            f"schedule - LS = {d:+.3f}, 95% CI [{lo:+.3f}, {hi:+.3f}]",
        )
    )
    return out


def best_fixed(elbo: Mapping[str, np.ndarray]) -> str:
    """The fixed-sigma setting with the highest mean ELBO."""
    fixed = [s for s in elbo if s.startswith("F sigma=")]
    if not fixed:
        raise ValueError(f"no fixed-sigma setting among {list(elbo)}")
    return max(fixed, key=lambda s: elbo[s].mean())


def ls_weakest(elbo: Mapping[str, np.ndarray]) -> dict:
    """The fixed sigma (sweep or F*) that LS-VAE beats least clearly (largest Welch p):
    its ``setting``, the ``gap`` LS - it, the ``p``-value and its seeds' ``sd``."""
    _need(elbo, "LS", "F*")
    fixed = [s for s in elbo if s.startswith("F sigma=")]
    tests = {s: welch(elbo["LS"], elbo[s]) for s in [*fixed, "F*"]}
    weakest = max(tests, key=lambda s: tests[s][1])
    gap, p = tests[weakest]
    return {"setting": weakest, "gap": gap, "p": p, "sd": float(elbo[weakest].std(ddof=1))}


def mean_gap(elbo: Mapping[str, np.ndarray], a: str, b: str) -> float:
    """Difference of the mean ELBOs of settings ``a`` and ``b`` (a - b)."""
    _need(elbo, a, b)
    return float(elbo[a].mean() - elbo[b].mean())


# -------------------------------------------------- reconstructions and generation
def region_of(u) -> np.ndarray:
    """The region index (0, 1, 2: left, middle, right) of each position u."""
    return np.digitize(np.asarray(u), [REGIONS[1][0], REGIONS[2][0]])


def by_region(values, u) -> list[float]:
    """Mean of ``values`` over the points whose position ``u`` falls in each region."""
    values, u = np.asarray(values), np.asarray(u)
    if values.shape[0] != u.shape[0]:
        raise ValueError(f"values and u must have one entry per point, got {len(values)}, {len(u)}")
    return [float(np.mean(values[(u >= lo) & (u < hi)])) for lo, hi, _ in REGIONS]


def curve_distance_by_region(panel: Mapping) -> tuple[list[float], list[float]]:
    """Mean distance to the curve by region, (data, reconstructions), for a figure panel;
    a reconstruction counts in the region of the data point it reconstructs."""
    data, recon = np.asarray(panel["data"]), np.asarray(panel["recon"])
    u = data[:, 0]
    return (
        by_region(distance_to_curve(data, curve_np), u),
        by_region(distance_to_curve(recon, curve_np), u),
    )


def energy_reference(n: int, pairs: int = 20, first_seed: int = 200) -> tuple[float, float]:
    """The energy distance between independent batches of ``n`` data points: its mean over
    ``pairs`` pairs (seeds ``first_seed`` + 2k, + 2k + 1), and the band mean + 3 std below
    which a generated sample cannot be told from data at this size."""
    if pairs < 2:
        raise ValueError(f"pairs must be >= 2 (the band needs a spread), got {pairs}")
    values = [
        energy_distance(
            sample_toy2d((n,), torch.Generator().manual_seed(first_seed + 2 * k)).numpy(),
            sample_toy2d((n,), torch.Generator().manual_seed(first_seed + 2 * k + 1)).numpy(),
        )
        for k in range(pairs)
    ]
    return float(np.mean(values)), float(np.mean(values) + 3 * np.std(values, ddof=1))


def generation_distance(panels: Mapping[str, Mapping], seed: int = 101) -> dict[str, float]:
    """Energy distance of each panel's generated samples to one fresh data batch."""
    fresh = None
    out = {}
    for name, panel in panels.items():
        sample = np.asarray(panel["gen_sample"])
        if fresh is None:
            fresh = sample_toy2d((len(sample),), torch.Generator().manual_seed(seed)).numpy()
        out[name] = energy_distance(sample, fresh)
    return out


def within_band(energy: Mapping[str, float], band: float) -> tuple[list[str], list[str]]:
    """Settings whose generated samples are within the data-vs-data ``band`` of the
    energy distance (cannot be told from data) and those beyond it, in ``energy``'s order."""
    return [s for s, e in energy.items() if e <= band], [s for s, e in energy.items() if e > band]


@dataclass(frozen=True)
class Thickness:
    """A panel's learned sigma at its reconstructions by region (``sigma``), the data's
    noise std (``noise``), and the mean distance to the curve by region of the data
    (``data``) and of the reconstructions (``recon``); regions as in :data:`REGIONS`."""

    sigma: list[float]
    noise: list[float]
    data: list[float]
    recon: list[float]

    @property
    def ratio(self) -> list[float]:
        """Learned sigma over the data's noise, by region."""
        return [s / n for s, n in zip(self.sigma, self.noise, strict=True)]

    @property
    def quiet_lowest(self) -> bool:
        """Whether sigma is lowest in the region of least noise (the model learned where
        the data are thin)."""
        return int(np.argmin(self.sigma)) == int(np.argmin(self.noise))


def thickness(panel: Mapping) -> Thickness:
    """What a panel (LV-VAE's, in the book) learned of the data's thickness by region."""
    u = np.asarray(panel["data"])[:, 0]
    data, recon = curve_distance_by_region(panel)
    return Thickness(by_region(panel["recon_sigma"], u), list(TOY2D_NOISE), data, recon)


def recon_table(record, names: Sequence[str], energy: Mapping, reference: float, band: float):
    panels = record.result["figures"]["panels"]
    rows = []
    for name in names:
        d_data, d_rec = curve_distance_by_region(panels[name])
        cells = [f"{a:.3f} → {b:.3f}" for a, b in zip(d_data, d_rec, strict=True)]
        rows.append([name, *cells, fixed_decimals(energy[name], 4)])
    rows.append(["data vs data", "", "", "", f"{sig(reference, 2)} (band {sig(band, 2)})"])
    n = len(np.asarray(panels[names[0]]["gen_sample"]))
    return table(
        rows,
        ["setting", *(f"{name}: data → recon." for _, _, name in REGIONS), "energy distance"],
        caption="Distance to the curve, data → reconstruction, by region, and the energy "
        f"distance of {n} generated points to fresh data ({provenance(record.provenance)}, "
        "seed 0). Data vs data: mean over 20 pairs of independent batches (unbiased, so it "
        "can be below 0); band = mean + 3 std.",
        name="recon",
    )
