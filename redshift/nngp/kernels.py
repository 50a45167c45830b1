"""NNGP kernels of the suite's bias-optional MLPs, analytic where a closed form exists (Bernstein & Yue 2021 §4; Cho & Saul 2009; Williams 1997).

The network is ``redshift.networks`` with ``weights: {scheme: fan_in_normal, scale: s, bias_scale: b}``
and ``depth`` hidden layers H: every linear layer (output included) has W ~ N(0, s^2 / fan_in) and
b ~ N(0, b^2). In the infinite-width limit its output covariance on inputs X [P, d] is

    K_0 = s^2 X X^T / d + b^2,    K_{l+1} = s^2 E_{(u, v) ~ N(0, K_l)}[phi(u) phi(v)] + b^2,

applied H times (depth by composition). The paper's SimpleNet of depth L (bias-free sqrt(2) ReLU,
N(0, 1/fan_in) weights) is H = L - 1, s = sqrt(2), b = 0, whose kernel is this one divided by
s^2 = 2: the normalised arc-cosine form with unit diagonal, 0 -> 1/pi, 0.4 -> 0.5441.

Closed forms of E[phi(u) phi(v)] for Var u = a, Var v = c, Cov = k:
    relu:      sqrt(a c) / (2 pi) (sin t + (pi - t) cos t),  cos t = k / sqrt(a c)   (Cho & Saul, degree 1)
    erf:       (2 / pi) arcsin(2 k / sqrt((1 + 2 a)(1 + 2 c)))                      (Williams 1997)
    sine:      exp(-(a + c) / 2) sinh(k)
    gaussian:  ((1 + 2 a)(1 + 2 c) - 4 k^2)^(-1/2)                                 (phi(x) = exp(-x^2))
    identity:  k
Any other activation of ``redshift.networks.ACTIVATIONS`` (tanh, gelu, ...) uses a 2-D Gauss-Hermite
rule on the bivariate normal; ``erf`` is accepted too (not a suite activation, used for cross-checks).
When every point has the same variance (inputs of equal norm, as on the digits), the map is a function
of the correlation alone: it is integrated at CHEBYSHEV_DEGREE + 1 Chebyshev nodes in [-1, 1] and
interpolated (converges spectrally for smooth activations; tested against the pairwise rule).
"""
from collections.abc import Callable

import numpy as np
import torch
from scipy.special import erf

from redshift.networks import ACTIVATIONS

QUADRATURE_POINTS = 48  # per axis; exact to ~1e-9 for the smooth activations at unit variance
PAIR_CHUNK = 4096
CHEBYSHEV_DEGREE = 96


def _relu(a, c, k):
    norm = np.sqrt(a * c)
    cos = np.clip(k / norm, -1.0, 1.0)
    t = np.arccos(cos)
    return norm / (2 * np.pi) * (np.sqrt(1 - cos * cos) + (np.pi - t) * cos)


def _erf(a, c, k):
    return 2 / np.pi * np.arcsin(np.clip(2 * k / np.sqrt((1 + 2 * a) * (1 + 2 * c)), -1.0, 1.0))


def _sine(a, c, k):
    return np.exp(-(a + c) / 2) * np.sinh(k)


def _gaussian(a, c, k):
    return 1 / np.sqrt((1 + 2 * a) * (1 + 2 * c) - 4 * k * k)


def _identity(a, c, k):
    return k


ANALYTIC: dict[str, Callable] = {"relu": _relu, "erf": _erf, "sine": _sine, "gaussian": _gaussian,
                                 "identity": _identity}
KERNEL_ACTIVATIONS = tuple(ACTIVATIONS) + ("erf",)


def pointwise(activation: str) -> Callable[[np.ndarray], np.ndarray]:
    """phi as a float64 numpy function: the suite's torch activation, or scipy's erf."""
    if activation == "erf":
        return erf
    if activation not in ACTIVATIONS:
        raise ValueError(f"unknown activation {activation!r} (allowed: {', '.join(KERNEL_ACTIVATIONS)})")
    fn = ACTIVATIONS[activation]
    return lambda z: fn(torch.from_numpy(np.ascontiguousarray(z))).numpy()


def gauss_hermite_expectation(activation: str, a: np.ndarray, c: np.ndarray, k: np.ndarray,
                              points: int = QUADRATURE_POINTS) -> np.ndarray:
    """E[phi(u) phi(v)] for (u, v) ~ N(0, [[a, k], [k, c]]), elementwise over broadcast arrays.

    u = sqrt(a) z1, v = r sqrt(c) z1 + sqrt(c (1 - r^2)) z2 with r = k / sqrt(a c), z ~ N(0, I_2),
    integrated by the probabilists' Gauss-Hermite rule with ``points`` nodes per axis.
    """
    phi = pointwise(activation)
    nodes, weights = np.polynomial.hermite_e.hermegauss(points)
    weights = weights / np.sqrt(2 * np.pi)
    a, c, k = (np.asarray(v, float).ravel() for v in np.broadcast_arrays(a, c, k))
    shape = np.broadcast(*[np.asarray(v) for v in (a, c, k)]).shape
    out = np.empty(a.shape)
    for start in range(0, len(a), PAIR_CHUNK):
        sl = slice(start, start + PAIR_CHUNK)
        sa, sc = np.sqrt(a[sl]), np.sqrt(c[sl])
        r = np.clip(k[sl] / np.maximum(sa * sc, 1e-300), -1.0, 1.0)
        u = phi(sa[:, None] * nodes)                                                   # [m, q]
        v = phi((r * sc)[:, None, None] * nodes[:, None]
                + (sc * np.sqrt(1 - r * r))[:, None, None] * nodes[None, :])           # [m, q(z1), q(z2)]
        out[sl] = np.einsum("ma,mab,a,b->m", u, v, weights, weights)
    return out.reshape(shape)


def layer_map(activation: str, kernel: np.ndarray, quadrature: bool = False) -> np.ndarray:
    """E[phi(u) phi(v)] for every pair, (u, v) ~ N(0, kernel restricted to the pair): closed form, else
    Gauss-Hermite (Chebyshev-interpolated in the correlation at constant variance); ``quadrature`` forces
    the pairwise Gauss-Hermite rule (the cross-check of the closed forms)."""
    d = np.diag(kernel)
    if activation in ANALYTIC and not quadrature:
        return ANALYTIC[activation](d[:, None], d[None, :], kernel)
    if not quadrature and np.ptp(d) <= 1e-12 * np.max(np.abs(d)):
        a = d[0]
        table = np.polynomial.chebyshev.Chebyshev.interpolate(
            lambda r: gauss_hermite_expectation(activation, a, a, a * r), CHEBYSHEV_DEGREE)
        out = table(np.clip(kernel / a, -1.0, 1.0))
        np.fill_diagonal(out, table(1.0))
        return out
    rows, cols = np.triu_indices(len(d))
    upper = gauss_hermite_expectation(activation, d[rows], d[cols], kernel[rows, cols])
    out = np.empty_like(kernel)
    out[rows, cols] = upper
    out[cols, rows] = upper
    return out


def nngp_kernel(x: np.ndarray, activation: str, hidden_layers: int, weight_scale: float = 1.0,
                bias_scale: float = 0.0, quadrature: bool = False) -> np.ndarray:
    """Output covariance [P, P] of the infinite-width MLP at inputs x [P, d] (module docstring)."""
    if activation not in KERNEL_ACTIVATIONS:
        raise ValueError(f"unknown activation {activation!r} (allowed: {', '.join(KERNEL_ACTIVATIONS)})")
    x = np.asarray(x, float)
    s2, b2 = weight_scale**2, bias_scale**2
    kernel = s2 * (x @ x.T) / x.shape[1] + b2
    for _ in range(hidden_layers):
        kernel = s2 * layer_map(activation, kernel, quadrature) + b2
    return kernel


def arccos_increment(k: np.ndarray) -> np.ndarray:
    """The paper's normalised ReLU layer map on correlations: (sqrt(1 - k^2) + k (pi - arccos k)) / pi."""
    k = np.clip(np.asarray(k, float), -1.0, 1.0)
    return np.clip((np.sqrt(1 - k * k) + k * (np.pi - np.arccos(k))) / np.pi, -1.0, 1.0)
