"""A claim of the paper, tested: its text, a verdict and the evidence behind it, and the
two-sample statistics that decide most verdicts (Welch's test and interval)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

HOLDS, FAILS = "holds", "does not hold"


@dataclass(frozen=True)
class Claim:
    """A claim (``text``), whether our data support it (``holds``), and the ``evidence``
    (a short line of the numbers that decided it)."""

    text: str
    holds: bool
    evidence: str

    @property
    def verdict(self) -> str:
        """``"holds"`` or ``"does not hold"``: the word the book glues into its prose."""
        return HOLDS if self.holds else FAILS


def _samples(a, b) -> tuple[np.ndarray, np.ndarray]:
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    for name, x in (("a", a), ("b", b)):
        if x.ndim != 1 or len(x) < 2 or not np.all(np.isfinite(x)):
            raise ValueError(f"{name} must be a 1-D sample of at least 2 finite values, got {x!r}")
    return a, b


def welch(a, b) -> tuple[float, float]:
    """Difference of means a - b and the two-sided p-value of Welch's t-test.

    t = (mean_a - mean_b) / sqrt(s_a^2/n_a + s_b^2/n_b), with the Welch-Satterthwaite
    degrees of freedom; it does not assume equal variances.
    """
    a, b = _samples(a, b)
    return float(a.mean() - b.mean()), float(stats.ttest_ind(a, b, equal_var=False).pvalue)


def mean_diff_ci(a, b, level: float = 0.95) -> tuple[float, float, float]:
    """Difference of means a - b with its Welch confidence interval: (diff, lo, hi)."""
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), got {level!r}")
    a, b = _samples(a, b)
    ci = stats.ttest_ind(a, b, equal_var=False).confidence_interval(confidence_level=level)
    return float(a.mean() - b.mean()), float(ci.low), float(ci.high)


def significantly_above(a, b, alpha: float = 0.05) -> bool:
    """Whether sample ``a`` has the larger mean, with Welch's p below ``alpha``."""
    diff, p = welch(a, b)
    return diff > 0 and p < alpha


def claims_table(claims: Sequence[Claim], *, caption: str, name: str):
    """The claims as a captioned table: claim, verdict ("ours"), evidence."""
    from ..report import table

    return table(
        [[c.text, c.verdict, c.evidence] for c in claims],
        ["claim", "ours", "evidence"],
        caption=caption,
        name=name,
        align_left=3,
    )
