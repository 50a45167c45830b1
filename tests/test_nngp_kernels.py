"""NNGP kernels: the paper's unit-test values, closed forms vs quadrature, and the sampled suite networks."""
import math

import numpy as np
import pytest
import torch

from redshift.networks import NetworkSpec, WeightSpec, sample_functions
from redshift.nngp.finite import sample_covariance, sample_outputs, suite_network
from redshift.nngp.kernels import (
    ANALYTIC, arccos_increment, gauss_hermite_expectation, layer_map, nngp_kernel,
)


def unit_inputs(p: int, d: int = 16, seed: int = 0) -> np.ndarray:
    x = np.random.default_rng(seed).standard_normal((p, d))
    return x * np.sqrt(d) / np.linalg.norm(x, axis=1, keepdims=True)


def test_arccos_increment_matches_public_unit_test_values():
    assert arccos_increment(0.4) == pytest.approx(0.5441, abs=1e-4)
    assert arccos_increment(0.0) == pytest.approx(1 / np.pi, abs=1e-12)
    assert arccos_increment(1.0) == pytest.approx(1.0, abs=1e-12)


@pytest.mark.parametrize("layers", [2, 3, 7])
def test_relu_kernel_is_the_papers_composed_arccos_with_unit_diagonal(layers):
    x = unit_inputs(100)
    kernel = nngp_kernel(x, "relu", layers - 1, math.sqrt(2)) / 2
    expected = x @ x.T / x.shape[1]
    for _ in range(layers - 1):
        expected = arccos_increment(expected)
    np.testing.assert_allclose(kernel, expected, atol=1e-12)
    np.testing.assert_allclose(np.diag(kernel), 1.0, atol=1e-12)
    np.linalg.cholesky(kernel)  # positive definite at n = 100


@pytest.mark.parametrize("activation, scale, atol", [
    ("sine", 1.0, 1e-10), ("sine", 2.0, 1e-8), ("gaussian", 1.0, 1e-4), ("gaussian", 0.5, 1e-6),
    ("erf", 1.0, 1e-5), ("identity", 1.3, 1e-12), ("relu", 1.0, 0.02),
])
def test_closed_forms_match_gauss_hermite(activation, scale, atol):
    x = unit_inputs(10, seed=1)
    closed = nngp_kernel(x, activation, 3, scale, bias_scale=0.3)
    numeric = nngp_kernel(x, activation, 3, scale, bias_scale=0.3, quadrature=True)
    np.testing.assert_allclose(numeric, closed, atol=atol * np.max(np.diag(closed)))


def test_gauss_hermite_is_exact_for_the_identity():
    """E[u v] = k for any variances: a low-degree polynomial, exact with 4 nodes."""
    a, c, k = np.array([1.0, 2.0]), np.array([1.0, 0.5]), np.array([0.3, -0.9])
    np.testing.assert_allclose(gauss_hermite_expectation("identity", a, c, k, points=4), k, atol=1e-12)


def test_layer_map_has_no_closed_form_for_tanh_and_uses_quadrature():
    assert "tanh" not in ANALYTIC
    kernel = np.array([[1.0, 0.5], [0.5, 1.0]])
    # tanh is odd: zero correlation stays zero, and the map is symmetric
    out = layer_map("tanh", np.array([[1.0, 0.0], [0.0, 2.0]]))
    assert abs(out[0, 1]) < 1e-12 and out[0, 1] == out[1, 0]
    assert 0 < layer_map("tanh", kernel)[0, 1] < layer_map("tanh", kernel)[0, 0]


def test_unknown_activation_is_rejected():
    with pytest.raises(ValueError, match="unknown activation 'swishy'"):
        nngp_kernel(unit_inputs(3), "swishy", 1)


def test_suite_network_is_the_fan_in_normal_bias_free_mlp():
    spec = suite_network("tanh", 3, 32, 1.5, 16)
    assert spec == NetworkSpec(activation="tanh", input_dim=16, width=32, depth=2,
                               weights=WeightSpec(scheme="fan_in_normal", scale=1.5, bias_scale=0.0))
    x = unit_inputs(5)
    chunked = sample_outputs(spec, x, 300, seed=3)
    assert chunked.shape == (300, 5)
    # chunk k is drawn from derive_seed(seed, k): the first chunk equals a direct draw
    from redshift.seeding import derive_seed
    direct = sample_functions(spec, 250, derive_seed(3, 0), torch.as_tensor(x)).numpy()
    np.testing.assert_array_equal(chunked[:250], direct)


# Tolerance: with N networks, an entry of the sample covariance has standard error
# sqrt((K_ii K_jj + K_ij^2) / N) <= sqrt(2 / N) = 0.037 at N = 1500 (relative to the diagonal); 0.15 is
# 4 standard errors over 15 entries, plus the O(1 / width) finite-width bias.
@pytest.mark.parametrize("activation, layers, scale", [("relu", 2, math.sqrt(2)), ("relu", 3, math.sqrt(2)),
                                                       ("tanh", 2, 1.5), ("sine", 2, 1.0), ("gaussian", 2, 1.0)])
def test_kernel_matches_sample_covariance_of_suite_networks(activation, layers, scale):
    x = unit_inputs(5, seed=2)
    kernel = nngp_kernel(x, activation, layers - 1, scale)
    outputs = sample_outputs(suite_network(activation, layers, 128, scale, x.shape[1]), x, 1500, seed=7)
    error = np.max(np.abs(sample_covariance(outputs) - kernel)) / np.mean(np.diag(kernel))
    assert error < 0.15, f"{activation} L={layers}: max relative deviation {error:.3f}"


@pytest.mark.parametrize("activation, scale", [("tanh", 1.0), ("tanh", 4.0), ("gelu", 1.5), ("sigmoid", 2.0)])
def test_chebyshev_interpolation_at_constant_variance_matches_the_pairwise_rule(activation, scale):
    x = unit_inputs(12, seed=3)
    fast = nngp_kernel(x, activation, 2, scale)
    pairwise = nngp_kernel(x, activation, 2, scale, quadrature=True)
    np.testing.assert_allclose(fast, pairwise, atol=1e-7 * np.max(np.diag(pairwise)))
