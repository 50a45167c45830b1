"""Statistics behind every claim: medians with bootstrap intervals, one-sided Mann-Whitney U.

All resampling uses a numpy Generator seeded by the caller, so verdicts are reproducible.
"""
from dataclasses import dataclass

import numpy as np
from redshift.core import lazy_module

stats = lazy_module("scipy.stats")  # 1 s to import: on the first test, not at collection

BOOTSTRAP_RESAMPLES = 2000
CONFIDENCE = 0.95


@dataclass(frozen=True)
class Summary:
    """Median of one sample with its 95% percentile-bootstrap interval."""

    median: float
    low: float
    high: float
    n: int

    def __str__(self) -> str:
        return f"{self.median:.4g} [{self.low:.4g}, {self.high:.4g}] (n={self.n})"


def _bootstrap_medians(values: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Medians of BOOTSTRAP_RESAMPLES resamples with replacement, vectorised: [R]."""
    index = rng.integers(0, len(values), size=(BOOTSTRAP_RESAMPLES, len(values)))
    return np.median(values[index], axis=1)


def _interval(samples: np.ndarray) -> tuple[float, float]:
    tail = 100 * (1 - CONFIDENCE) / 2
    low, high = np.percentile(samples, [tail, 100 - tail])
    return float(low), float(high)


def summarise(values: np.ndarray, rng: np.random.Generator) -> Summary:
    """Median and percentile-bootstrap 95% interval of the median."""
    values = np.asarray(values, dtype=np.float64)
    low, high = _interval(_bootstrap_medians(values, rng))
    return Summary(float(np.median(values)), low, high, len(values))


def median_ratio_interval(a: np.ndarray, b: np.ndarray, rng: np.random.Generator) -> tuple[float, float, float]:
    """median(b) / median(a) with a 95% bootstrap interval (independent resamples of a and b)."""
    ratios = _bootstrap_medians(np.asarray(b, float), rng) / _bootstrap_medians(np.asarray(a, float), rng)
    return (float(np.median(b) / np.median(a)), *_interval(ratios))


def median_difference_interval(a: np.ndarray, b: np.ndarray, rng: np.random.Generator) -> tuple[float, float, float]:
    """median(b) - median(a) with a 95% bootstrap interval (independent resamples of a and b)."""
    diffs = _bootstrap_medians(np.asarray(b, float), rng) - _bootstrap_medians(np.asarray(a, float), rng)
    return (float(np.median(b) - np.median(a)), *_interval(diffs))


def interaction_interval(a0: np.ndarray, a1: np.ndarray, b0: np.ndarray, b1: np.ndarray, rng: np.random.Generator,
                         ratio: bool = True) -> tuple[float, float, float, float]:
    """How much more a knob moves b than a, from setting 0 to setting 1:

        R = (median(b1) / median(b0)) / (median(a1) / median(a0))      (ratio of ratios), or
        D = (median(b1) - median(b0)) - (median(a1) - median(a0))      (difference of differences),

    with a 95% interval from independent bootstrap resamples of the four samples, and the one-sided
    p-value of H1: R > 1 (D > 0) from the normal approximation of log R (D) with its bootstrap
    standard error. Returns (value, low, high, p)."""
    m = [_bootstrap_medians(np.asarray(v, float), rng) for v in (a0, a1, b0, b1)]
    point = [float(np.median(v)) for v in (a0, a1, b0, b1)]
    if ratio:
        draws = np.log(m[3] / m[2]) - np.log(m[1] / m[0])
        value = (point[3] / point[2]) / (point[1] / point[0])
        centre = np.log(value)
    else:
        draws = (m[3] - m[2]) - (m[1] - m[0])
        value = centre = (point[3] - point[2]) - (point[1] - point[0])
    spread = float(np.std(draws))
    p = float(stats.norm.sf(centre / spread)) if spread > 0 else float(centre <= 0)
    low, high = _interval(np.exp(draws) if ratio else draws)
    return float(value), low, high, p


def mann_whitney_less(a: np.ndarray, b: np.ndarray) -> float:
    """One-sided Mann-Whitney U p-value for H1: values of a tend to be smaller than values of b."""
    result = stats.mannwhitneyu(a, b, alternative="less", method="auto")
    return float(result.pvalue)
