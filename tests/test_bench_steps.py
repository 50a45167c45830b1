"""Step detection (bench/steps.py) on synthetic histories of medians: seeded lognormal noise around
piecewise-constant levels, so every case is deterministic."""
import math

import numpy as np
import pytest

from bench.steps import detect_steps, fit_segments, segment_costs


def history(levels: list[tuple[int, float]], noise: float, seed: int) -> np.ndarray:
    """Medians: ``count`` commits at each ``level`` in turn, times exp(noise * N(0, 1))."""
    values = np.concatenate([np.full(count, level) for count, level in levels])
    return values * np.exp(noise * np.random.default_rng(seed).standard_normal(len(values)))


@pytest.mark.parametrize("seed", range(5))
def test_a_single_step_is_found_at_its_commit(seed):
    steps = detect_steps(history([(12, 0.010), (8, 0.015)], noise=0.05, seed=seed))
    assert [s.index for s in steps] == [12]
    assert steps[0].ratio == pytest.approx(1.5, rel=0.08)


@pytest.mark.parametrize("seed", range(10))
@pytest.mark.parametrize("n", [5, 20, 60])
def test_no_step_in_noise(seed, n):
    assert detect_steps(history([(n, 0.010)], noise=0.05, seed=seed)) == []


def test_noise_scale_does_not_matter():
    # the same relative noise at a 1000x larger scale, and a 10x larger noise with a 10x larger step
    quiet = detect_steps(history([(10, 1e-6), (10, 1.3e-6)], noise=0.02, seed=3))
    loud = detect_steps(history([(10, 1e-3), (10, 1e-3 * math.exp(10 * math.log(1.3)))], noise=0.2, seed=3))
    assert [s.index for s in quiet] == [s.index for s in loud] == [10]


def test_two_steps():
    steps = detect_steps(history([(10, 0.010), (10, 0.020), (10, 0.008)], noise=0.05, seed=1))
    assert [s.index for s in steps] == [10, 20]
    assert steps[0].ratio == pytest.approx(2.0, rel=0.08) and steps[1].ratio == pytest.approx(0.4, rel=0.08)


def test_one_outlier_is_not_a_step():
    values = history([(20, 0.010)], noise=0.03, seed=2)
    values[9] *= 3
    assert detect_steps(values) == []


def test_constant_and_short_histories():
    assert detect_steps([0.01] * 15) == [] and detect_steps([0.01]) == [] and detect_steps([]) == []


def test_segment_costs_are_absolute_deviations_from_the_median():
    z = np.array([3.0, 1.0, 4.0, 1.0, 5.0])
    cost = segment_costs(z)
    for i in range(len(z)):
        for j in range(i + 1, len(z) + 1):
            assert cost[i, j] == pytest.approx(np.abs(z[i:j] - np.median(z[i:j])).sum())


def test_the_fit_is_the_exact_minimiser():
    """Against brute force over every set of segment starts, on a short noisy history."""
    z = np.log(history([(3, 1.0), (4, 1.4), (2, 0.9)], noise=0.1, seed=4))
    gamma = 0.15

    def objective(starts):
        bounds = list(starts) + [len(z)]
        return sum(np.abs(z[a:b] - np.median(z[a:b])).sum() for a, b in zip(bounds, bounds[1:])) + \
            gamma * (len(starts) - 1)

    subsets = [[0] + [i for i in range(1, len(z)) if mask >> (i - 1) & 1] for mask in range(2 ** (len(z) - 1))]
    best = min(objective(s) for s in subsets)
    assert objective(fit_segments(z, gamma)) == pytest.approx(best)
