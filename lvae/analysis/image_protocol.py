"""The paper's image claims I1-I4 judged under the protocol (book page "Protocol"), from
the ``images-<dataset>-protocol`` records: 5 seeds a setting, the visual measures on 100
held-out images of every model, and the sample-quality score of ``lvae.image_quality``.

Each claim is a difference of per-seed means, tested as the 2-D claims are
(``stats.judge``: a bootstrap interval and an exact Mann-Whitney test, Holm-adjusted
across the four claims of one dataset):

* I1: LV-VAE's ELBO in the paper's bits per pixel above the MSE F-VAE's;
* I2: LV-VAE's reconstructions sharper than F-VAE's (gradient size over the originals');
* I3: F-VAE's samples less realistic than its decoder means (a larger Fréchet distance to
  real held-out images, in the features of a classifier of real images);
* I4: LV-VAE's samples less realistic than F-VAE's decoder means (the same distance).

Training is judged long enough by the protocol's criterion on the held-out ELBO monitored
during training, for every setting (``convergence``), and LS-VAE's sigma by the learned-
sigma criterion (``ls_sigma_stabilisation``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import report
from . import stats
from .images import PAPER_MNIST_BPP, per_setting

CLAIMS = {
    "I1": "LV-VAE's ELBO (the paper's bits per pixel) is above the MSE F-VAE's",
    "I2": "LV-VAE reconstructs more sharply than the MSE F-VAE",
    "I3": "the MSE F-VAE's samples are less realistic than its decoder means",
    "I4": "LV-VAE's samples are less realistic than the MSE F-VAE's decoder means",
}

# The protocol's measurements a record must hold to be judged here.
MEASURES = ("visual_sharpness", "visual_error", "frechet_mean", "frechet_sample")


def check(record) -> None:
    """A ValueError naming what is missing when ``record`` is not a protocol record."""
    missing = [m for m in MEASURES if m not in record.result]
    if missing:
        raise ValueError(
            f"{record.experiment} record {record.path} lacks the protocol's measurements "
            f"{missing}: it was made without n_visual and n_quality (use the "
            f"{record.experiment}-protocol experiment)"
        )


def judged(record, seed: int = 0) -> list[stats.Judged]:
    """I1-I4 on one dataset's protocol record, one Holm family."""
    check(record)
    bpp = per_setting(record, "paper_bits_per_pixel")
    sharp = per_setting(record, "visual_sharpness")
    fd_mean, fd_sample = (per_setting(record, f"frechet_{k}") for k in ("mean", "sample"))
    mnist = record.config["dataset"] == "mnist"
    paper_i1 = PAPER_MNIST_BPP["LV"] - PAPER_MNIST_BPP["F"] if mnist else None
    spec = [
        ("I1", "LV − F, paper's bits/px", bpp["LV"], bpp["F"], +1, paper_i1),
        ("I2", "LV − F, sharpness", sharp["LV"], sharp["F"], +1, None),
        ("I3", "F samples − F means, FD", fd_sample["F"], fd_mean["F"], +1, None),
        ("I4", "LV samples − F means, FD", fd_sample["LV"], fd_mean["F"], +1, None),
    ]
    return stats.judge(spec, seed=seed)


def evidence(j: stats.Judged) -> str:
    """A judged claim's numbers as one line: effect, 95% interval, raw and Holm p."""
    paper = "" if j.paper_effect is None else f"; paper {j.paper_effect:+.2f}"
    return (
        f"{j.description} = {report.fmt(j.diff, 3)}, 95% [{report.fmt(j.ci_low, 3)}, "
        f"{report.fmt(j.ci_high, 3)}], Mann-Whitney p = {j.p:.2g} (Holm {j.p_adjusted:.2g})"
        f"{paper}"
    )


def convergence(record) -> dict[str, stats.FixedConvergence]:
    """Per setting, the protocol's criterion on the monitored held-out ELBO: its seed mean
    changed over the last fifth of training by less than the seeds' spread of its last
    value (``stats.fixed_sigma_convergence``)."""
    out = {}
    for s in record.config["settings"]:
        steps, curves = record.models.where(setting=s).history("monitor_elbo")
        out[s] = stats.fixed_sigma_convergence(steps, curves, curves[-1])
    return out


def ls_sigma_stabilisation(record) -> stats.SigmaStabilisation:
    """The learned-sigma criterion on LS-VAE's sigma over the logged training steps."""
    steps, sigma = record.models.where(setting="LS").history("sigma")
    return stats.sigma_stabilisation(steps, sigma)


QUALITY = {  # result column: table column title
    "visual_sharpness": "sharpness ↑",
    "visual_error": "recon. error ↓",
    "confidence_mean": "conf. means ↑",
    "confidence_sample": "conf. samples ↑",
    "frechet_mean": "FD means ↓",
    "frechet_sample": "FD samples ↓",
}


def quality_table(name: str, record, conv: dict[str, stats.FixedConvergence]):
    """Per setting, mean ± sd over seeds of the visual and sample-quality measures, and
    whether its training met the convergence criterion."""
    check(record)
    values = {key: per_setting(record, key) for key in QUALITY}
    rows = []
    for s in record.config["settings"]:
        cells = [report.pm(v[s].mean(), v[s].std(ddof=1), 3) for v in values.values()]
        rows.append([s, *cells, "yes" if conv[s].converged else "no"])
    r = record.result
    return report.table(
        rows,
        ["setting", *QUALITY.values(), "converged"],
        caption=(
            f"{name}: reconstructions of {record.config['n_visual']} held-out images and "
            f"{record.config['n_quality']} generated images of every model, mean ± sd over "
            f"{len(record.config['seeds'])} seeds. The classifier scores "
            f"{report.fmt(r['classifier_accuracy'], 3)} accuracy on the held-out images; "
            f"real training images score confidence {report.fmt(r['real_confidence'], 3)} "
            f"and FD {report.fmt(r['real_frechet'], 3)} (the floor), uniform noise "
            f"{report.fmt(r['noise_confidence'], 3)} and {report.fmt(r['noise_frechet'], 3)}."
        ),
        name=f"quality_{name}",
    )


def unconverged(conv: dict[str, stats.FixedConvergence]) -> list[str]:
    """The settings whose monitored ELBO missed the criterion, in record order."""
    return [s for s, c in conv.items() if not c.converged]


def by_claim(
    judged_by_dataset: dict[str, list[stats.Judged]],
) -> dict[str, dict[str, stats.Judged]]:
    """The judged claims regrouped: {claim id: {dataset: judged}}, in claim order."""
    out: dict[str, dict[str, stats.Judged]] = {}
    for name, judged_claims in judged_by_dataset.items():
        for j in judged_claims:
            out.setdefault(j.claim_id, {})[name] = j
    return out


def verdict_line(per_dataset: dict[str, stats.Judged]) -> str:
    """``"holds on digits and mnist"`` when the datasets agree, else one verdict each:
    ``"digits: holds; mnist: not shown"``."""
    seen = {j.verdict for j in per_dataset.values()}
    if len(seen) == 1:
        return f"{seen.pop()} on {' and '.join(per_dataset)}"
    return "; ".join(f"{name}: {j.verdict}" for name, j in per_dataset.items())


def claims_table(judged_by_dataset: dict[str, list[stats.Judged]]):
    """One row per claim and dataset: the verdict and its evidence."""
    rows = [
        [cid, CLAIMS[cid], name, j.verdict, evidence(j)]
        for cid, per_dataset in by_claim(judged_by_dataset).items()
        for name, j in per_dataset.items()
    ]
    return report.table(
        rows,
        ["id", "claim", "data", "verdict", "evidence"],
        caption="The image claims under the protocol: per-seed means compared by a 95% "
        "bootstrap interval and an exact Mann-Whitney test, Holm-adjusted across the four "
        "claims of each dataset. FD: Fréchet distance to real held-out images in the "
        "features of a classifier of real images (lower is more realistic).",
        name="image_protocol_claims",
        align_left=4,
    )


def unconverged_text(converged: dict[str, dict[str, stats.FixedConvergence]]) -> str:
    """Per dataset, the settings that missed the criterion: ``"digits: LS; mnist: none"``."""
    return "; ".join(
        f"{name}: {', '.join(unconverged(conv)) or 'none'}" for name, conv in converged.items()
    )


def ls_sigma_text(records: dict) -> str:
    """Per dataset, LS-VAE's sigma criterion in words: drift against the seeds' spread."""
    parts = []
    for name, rec in records.items():
        st = ls_sigma_stabilisation(rec)
        state = "stable" if st.stabilised else "still moving"
        parts.append(
            f"{name}: drift {report.fmt(st.drift, 2)} against seed spread "
            f"{report.fmt(st.noise, 2)} ({state})"
        )
    return "; ".join(parts)


@dataclass(frozen=True)
class HeldOutPeak:
    """Where a setting's monitored held-out ELBO was highest: the median over seeds of the
    step of each seed's maximum, the seed mean of those maxima and of the last values."""

    step: float
    best: float
    last: float

    @property
    def fall(self) -> float:
        """How far the held-out ELBO fell from its peak by the end (>= 0)."""
        return self.best - self.last


def held_out_peaks(record) -> dict[str, HeldOutPeak]:
    """Per setting, the peak of the monitored held-out ELBO and its fall after it: a
    setting whose ELBO rises on the training images while it falls on held-out ones is
    overfitting them."""
    out = {}
    for s in record.config["settings"]:
        steps, curves = record.models.where(setting=s).history("monitor_elbo")
        at = curves.argmax(axis=0)
        out[s] = HeldOutPeak(
            float(np.median(steps[at])), float(curves.max(axis=0).mean()), float(curves[-1].mean())
        )
    return out


def overfitting_text(peaks: dict[str, HeldOutPeak], converged: dict) -> str:
    """The settings that missed the criterion because their held-out ELBO fell after a
    peak, in words: ``"LS (peak at step 2500, then down 430 nats)"``; "none" if none."""
    falling = [
        f"{s} (peak at step {p.step:.0f}, then down {report.fixed(p.fall, 0)} nats)"
        for s, p in peaks.items()
        if not converged[s].converged and converged[s].change < 0
    ]
    return ", ".join(falling) or "none"


def collapsed_seeds(record, setting: str = "F", kl_below: float = 0.01) -> tuple[int, int]:
    """(seeds of ``setting`` whose KL on the held-out images is below ``kl_below`` nats,
    seeds): a VAE with no information in its code decodes every z to nearly one image."""
    kl = per_setting(record, "kl")[setting]
    return int(np.sum(kl < kl_below)), len(kl)


def realism_line(record) -> str:
    """The sample-quality scores behind I3 and I4 in one line (seed means): F-VAE's means
    and samples, LV-VAE's samples, real images and uniform noise, as confidence / FD."""
    r = record.result
    conf = {k: per_setting(record, f"confidence_{k}") for k in ("mean", "sample")}
    fd = {k: per_setting(record, f"frechet_{k}") for k in ("mean", "sample")}

    def pair(c, f) -> str:
        return f"{report.fixed(c, 2)} / {report.fixed(f, 0)}"

    return (
        f"F means {pair(conf['mean']['F'].mean(), fd['mean']['F'].mean())}, "
        f"F samples {pair(conf['sample']['F'].mean(), fd['sample']['F'].mean())}, "
        f"LV samples {pair(conf['sample']['LV'].mean(), fd['sample']['LV'].mean())}, "
        f"real images {pair(r['real_confidence'], r['real_frechet'])}, "
        f"uniform noise {pair(r['noise_confidence'], r['noise_frechet'])}"
    )


def per_dataset(records: dict, describe) -> str:
    """``describe(record)`` for each dataset, as ``"digits: ...; mnist: ..."``."""
    return "; ".join(f"{name}: {describe(rec)}" for name, rec in records.items())


def overfitting_of(record) -> str:
    """``overfitting_text`` of one record."""
    return overfitting_text(held_out_peaks(record), convergence(record))


def collapsed_text(record, setting: str = "F") -> str:
    """A setting's collapsed seeds as ``"4 of 5"``."""
    return "{} of {}".format(*collapsed_seeds(record, setting))


def passes(record) -> float:
    """How many times training went through the training images: steps x batch / images."""
    config = record.config
    return config["steps"] * config["batch_size"] / record.result["n_train"]


def sizes_text(record) -> str:
    """What one protocol record measured on: ``"297 monitored, 100 reconstructed and 1000
    generated images, 8000 steps"``."""
    c = record.config
    return (
        f"{c['n_monitor']} monitored, {c['n_visual']} reconstructed and {c['n_quality']} "
        f"generated images, {c['steps']} steps"
    )
