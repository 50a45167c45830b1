"""Chebyshev polynomial-order complexity C_Chebyshev (paper §3 and App. D)."""

from __future__ import annotations

import functools

import numpy as np
import torch
from numpy.polynomial import chebyshev as npcheb

from redshift.metrics.guard import as_grid, grid_metric

DEFAULT_DEGREE = 20


@functools.lru_cache(maxsize=64)
def _cheb_pinv(n: int, degree: int, device: torch.device) -> torch.Tensor:
    """P = pinv(chebvander(t, D)), t = linspace(-1, 1, n): [D+1, n] float64 least-squares map."""
    t = np.linspace(-1.0, 1.0, n)
    return torch.from_numpy(np.linalg.pinv(npcheb.chebvander(t, degree))).to(device)


@functools.lru_cache(maxsize=64)
def _order_weights(degree: int, device: torch.device) -> torch.Tensor:
    order = torch.arange(degree + 1, dtype=torch.float64)
    total = order[:, None] + order[None, :]  # total degree i + j of T_i(x1) T_j(x2)
    keep = torch.ones_like(total)
    keep[0, 0] = 0.0  # (0, 0) = the constant term, excluded from numerator and denominator
    return torch.stack([(total / (2 * degree)).flatten(), keep.flatten()], dim=-1).to(device)


def chebyshev_coefficients(y: torch.Tensor, degree: int = DEFAULT_DEGREE) -> torch.Tensor:
    """Least-squares coefficients c_ij of y ~ sum_ij c_ij T_i(x1) T_j(x2), 0 <= i, j <= D.

    The tensor-product fit is separable: c = P_H y P_W^T with P = pinv(chebvander(t, D)) and
    t = linspace(-1, 1, n) per axis (x1 = row index). Returns float64 [..., D+1, D+1].
    """
    y = as_grid(y)
    h, w = y.shape[-2:]
    if degree < 1:
        raise ValueError(f"degree must be >= 1, got {degree}")
    if min(h, w) < degree + 1:
        raise ValueError(
            f"a degree-{degree} fit needs at least {degree + 1} points per axis, got grid {h}x{w}"
        )
    return _cheb_pinv(h, degree, y.device) @ y @ _cheb_pinv(w, degree, y.device).T


@grid_metric
def chebyshev(y: torch.Tensor, degree: int = DEFAULT_DEGREE) -> torch.Tensor:
    """Coefficient-weighted mean polynomial order C_Chebyshev (paper §3 / App. D).

        c = P_H y P_W^T  (least-squares fit of T_i(x1) T_j(x2), 0 <= i, j <= D; see
            `chebyshev_coefficients`)
        C = sum_{(i,j) != (0,0)} |c_ij| (i + j) / sum_{(i,j) != (0,0)} |c_ij|  /  (2D),  C in [0, 1]

    The order of a basis element is its total degree i + j. The constant term (0, 0) is excluded
    from both numerator and denominator, so C(a*y + b) == C(y) for a != 0; since
    T_i(-x) = (-1)^i T_i(x), C is also invariant to reflecting either axis and to transposing a
    square grid (C(sin 8pi(x1+x2)) == C(sin 8pi(x1-x2)), cases/metrics.yaml rotation-symmetry). A product T_p(x1) T_q(x2)
    scores exactly (p+q)/(2D).

    Reference values at D = 20, 64x64: linear 0.025, x1^2 + x2^2 0.050, |x - 0.2| 0.074,
    sin 8pi(x1+x2) 0.607, white noise 0.491 (noise is not the maximum of this measure).

    Args:
        y: [..., H, W] real grid, float32 or float64, any device; min(H, W) >= degree + 1.
        degree: D, the maximum degree per axis (20 for 64x64 grids; 32 suits 256x256).
    Returns:
        float64 [...] on y's device; NaN where `degenerate(y)`.
    """
    mag = chebyshev_coefficients(y, degree).abs()
    sums = mag.flatten(-2) @ _order_weights(degree, y.device)
    return sums[..., 0] / sums[..., 1]
