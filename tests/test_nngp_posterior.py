"""NNGP posterior error (Rao-Blackwellised vs joint rejection), the label ray, rejection-sampled networks."""
import math

import numpy as np
import pytest
from scipy.stats import norm

from redshift.nngp.finite import rejection_error
from redshift.nngp.kernels import nngp_kernel
from redshift.nngp.posterior import ACCEPTED, label_ray_error, posterior_error


def problem(n_train: int = 4, n_test: int = 30, seed: int = 0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n_train + n_test, 8))
    x *= np.sqrt(8) / np.linalg.norm(x, axis=1, keepdims=True)
    y = np.sign(x[:, 0] + 0.3 * x[:, 1])
    return nngp_kernel(x, "relu", 2, math.sqrt(2)) / 2, y[:n_train], y[n_train:]


def test_rao_blackwellised_and_joint_rejection_agree():
    kernel, y_train, y_test = problem()
    rb, accepted = posterior_error(kernel, y_train, y_test, 400_000, np.random.default_rng(0), "rb")
    joint, _ = posterior_error(kernel, y_train, y_test, 400_000, np.random.default_rng(1), "joint")
    assert accepted > 1000
    assert rb == pytest.approx(joint, abs=0.01)
    assert rb < 0.5


def test_uses_the_first_accepted_draws_only():
    kernel, y_train, y_test = problem()
    for method in ("rb", "joint"):
        few = posterior_error(kernel, y_train, y_test, 1_000_000, np.random.default_rng(0), method)
        many = posterior_error(kernel, y_train, y_test, 100_000_000, np.random.default_rng(0), method)
        assert few == many and few[1] == ACCEPTED  # more prior draws allowed: same stopping point and estimate


def test_independent_prior_gives_chance():
    _, y_train, y_test = problem()
    rb, _ = posterior_error(np.eye(34), y_train, y_test, 50_000, np.random.default_rng(0))
    assert rb == pytest.approx(0.5, abs=1e-12)  # each test output is independent of the training outputs


def test_too_few_accepted_draws_give_nan():
    kernel, y_train, y_test = problem()
    value, accepted = posterior_error(kernel, y_train, y_test, 500, np.random.default_rng(0))
    assert math.isnan(value) and accepted < 1000
    with pytest.raises(ValueError, match="unknown posterior method"):
        posterior_error(kernel, y_train, y_test, 10, np.random.default_rng(0), "ratio")


def test_label_ray_closed_form_and_limits():
    kernel, y_train, y_test = problem()
    n = len(y_train)
    k_bb, k_ab = kernel[:n, :n], kernel[n:, :n]
    mean = k_ab @ np.linalg.solve(k_bb, y_train)
    std = np.sqrt(np.diag(kernel[n:, n:] - k_ab @ np.linalg.solve(k_bb, k_ab.T)))
    assert label_ray_error(kernel, y_train, y_test, 2.0) == pytest.approx(np.mean(norm.cdf(-2.0 * mean * y_test / std)))
    assert label_ray_error(kernel, y_train, y_test, 1e-6) == pytest.approx(0.5, abs=1e-5)
    kernel_regression = np.mean(mean * y_test <= 0)
    assert label_ray_error(kernel, y_train, y_test, 1e6) == pytest.approx(kernel_regression, abs=1e-3)


def test_rejection_keeps_fitting_and_sign_flipped_networks():
    y_train, y_test = np.array([1.0, -1.0]), np.array([1.0, 1.0])
    outputs = np.array([
        [2.0, -1.0, 1.0, -1.0],   # fits; test error 1/2
        [-2.0, 1.0, -1.0, -1.0],  # anti-fits: flipped -> [1, 1] on test, error 0
        [2.0, 1.0, 1.0, 1.0],     # fits one of two: rejected
    ])
    assert rejection_error(outputs, y_train, y_test) == (0.25, 2)
    assert math.isnan(rejection_error(outputs[2:], y_train, y_test)[0])
