"""Orthant estimators and the PAC-Bayes bound: exact cross-checks (identity kernel, scipy's Genz)."""
import math

import numpy as np
import pytest

from redshift.nngp.kernels import nngp_kernel
from redshift.nngp.orthant import (
    log_inverse_orthant_bound, log_inverse_orthant_estimate, log_inverse_orthant_exact,
)
from redshift.nngp.pac_bayes import pac_bayes_bound


def relu_kernel(n: int, layers: int, seed: int = 0) -> np.ndarray:
    x = np.random.default_rng(seed).standard_normal((n, 16)) + 0.5  # positively correlated inputs
    x *= 4 / np.linalg.norm(x, axis=1, keepdims=True)
    return nngp_kernel(x, "relu", layers - 1, math.sqrt(2)) / 2


def labels(n: int, seed: int = 1) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 2, n) * 2.0 - 1.0


def test_identity_kernel_is_exact_for_any_sample_size():
    c = labels(100)
    for samples in (1, 1000):
        estimate = log_inverse_orthant_estimate(np.eye(100), c, samples, np.random.default_rng(0))
        assert estimate == pytest.approx(100 * math.log(2), abs=1e-9)
    assert log_inverse_orthant_bound(np.eye(100), c) == pytest.approx(70.0, abs=1e-9)
    assert log_inverse_orthant_exact(np.eye(10), c[:10]) == pytest.approx(10 * math.log(2), abs=1e-6)


def test_kernel_scale_does_not_matter():
    """s^2 = det(K)^(1/n) absorbs a scalar factor: M = 0 again for K = 2.5 I, and P(O_c) is scale-free."""
    c = labels(20)
    scaled = log_inverse_orthant_estimate(2.5 * np.eye(20), c, 100, np.random.default_rng(0))
    assert scaled == pytest.approx(20 * math.log(2), abs=1e-9)
    kernel = relu_kernel(12, 3)
    for estimator in (log_inverse_orthant_bound, log_inverse_orthant_exact):
        assert estimator(3.0 * kernel, c[:12]) == pytest.approx(estimator(kernel, c[:12]), rel=1e-4)


def test_two_points_match_the_closed_form():
    """P(f1 > 0, f2 > 0) = 1/4 + arcsin(rho) / (2 pi) for unit variances."""
    rho = 0.6
    kernel = np.array([[1.0, rho], [rho, 1.0]])
    exact = -math.log(0.25 + math.asin(rho) / (2 * math.pi))
    assert log_inverse_orthant_exact(kernel, np.array([1.0, 1.0])) == pytest.approx(exact, abs=1e-6)
    estimate = log_inverse_orthant_estimate(kernel, np.array([1.0, 1.0]), 400_000, np.random.default_rng(0))
    assert estimate == pytest.approx(exact, abs=0.01)
    flipped = -math.log(0.25 - math.asin(rho) / (2 * math.pi))
    assert log_inverse_orthant_exact(kernel, np.array([1.0, -1.0])) == pytest.approx(flipped, abs=1e-6)


@pytest.mark.parametrize("n, layers", [(5, 7), (8, 2), (10, 7)])
def test_estimate_matches_genz_at_small_n(n, layers):
    kernel, c = relu_kernel(n, layers), labels(n)
    estimate = log_inverse_orthant_estimate(kernel, c, 1_000_000, np.random.default_rng(n))
    assert estimate == pytest.approx(log_inverse_orthant_exact(kernel, c), abs=0.15)


@pytest.mark.parametrize("n, layers, seed", [(10, 2, 0), (40, 7, 1), (100, 2, 2), (100, 7, 3)])
def test_estimate_never_exceeds_the_analytic_bound(n, layers, seed):
    kernel, c = relu_kernel(n, layers, seed), labels(n, seed)
    estimate = log_inverse_orthant_estimate(kernel, c, 20_000, np.random.default_rng(seed))
    assert 0 < estimate <= log_inverse_orthant_bound(kernel, c)


def test_estimate_is_deterministic_given_the_generator():
    kernel, c = relu_kernel(12, 3), labels(12)
    a = log_inverse_orthant_estimate(kernel, c, 120_000, np.random.default_rng(5))
    b = log_inverse_orthant_estimate(kernel, c, 120_000, np.random.default_rng(5))
    assert a == b


def test_exact_refuses_large_n_and_bad_kernels():
    with pytest.raises(ValueError, match="n <= 20"):
        log_inverse_orthant_exact(np.eye(21), labels(21))
    with pytest.raises(ValueError, match="not positive definite"):
        log_inverse_orthant_bound(np.ones((3, 3)), labels(3))


def test_pac_bayes_formula():
    # 1 - exp(-(C + ln(2n/delta)) / (n - 1)) at C = n ln 2 (independent prior), n = 100, delta = 0.01
    c = 100 * math.log(2)
    expected = 1 - math.exp(-(c + math.log(2 * 100 / 0.01)) / 99)
    assert pac_bayes_bound(c, 100) == pytest.approx(expected, rel=1e-12)
    assert pac_bayes_bound(c, 100) > 0.5  # an independent prior certifies nothing
    assert pac_bayes_bound(0.0, 10, delta=0.5) == pytest.approx(1 - math.exp(-math.log(40) / 9))
    assert pac_bayes_bound(np.array([1.0, 50.0]), 100).shape == (2,)
    with pytest.raises(ValueError, match="n >= 2"):
        pac_bayes_bound(1.0, 1)
    with pytest.raises(ValueError, match="delta"):
        pac_bayes_bound(1.0, 10, delta=0.0)


def test_exact_reference_is_deterministic():
    kernel, c = relu_kernel(12, 3), labels(12)
    assert log_inverse_orthant_exact(kernel, c) == log_inverse_orthant_exact(kernel, c)  # scipy's lattice seed is fixed
