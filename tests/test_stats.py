"""The statistics behind verdicts: bootstrap intervals and the one-sided Mann-Whitney test."""
import numpy as np

from redshift.claims.stats import mann_whitney_less, median_ratio_interval, summarise


def test_summary_interval_contains_median_and_is_reproducible():
    values = np.random.default_rng(0).normal(10.0, 1.0, size=64)
    first = summarise(values, np.random.default_rng(1))
    again = summarise(values, np.random.default_rng(1))
    assert first == again
    assert first.low <= first.median <= first.high
    assert first.median == np.median(values)
    assert first.high - first.low < 1.5  # ~ 2 * 1.25 * sigma / sqrt(n) * 1.96


def test_mann_whitney_is_one_sided():
    rng = np.random.default_rng(2)
    small, large = rng.normal(0, 1, 32), rng.normal(3, 1, 32)
    assert mann_whitney_less(small, large) < 1e-6
    assert mann_whitney_less(large, small) > 0.99


def test_ratio_interval_brackets_true_ratio():
    rng = np.random.default_rng(3)
    a, b = rng.uniform(9, 11, 200), rng.uniform(29, 31, 200)
    ratio, low, high = median_ratio_interval(a, b, np.random.default_rng(4))
    assert low <= 3.0 <= high
    assert abs(ratio - 3.0) < 0.1
