"""Complexity metrics for functions sampled on a grid (Neural Redshift, paper §3; notes §1).

Every grid metric maps a real tensor [..., H, W] (float32/float64, CPU/CUDA; x1 = row index) to a
float64 tensor [...] on the same device, computes in float64, and returns NaN where `degenerate`
flags the grid (non-finite or constant).
"""

from collections.abc import Callable

import torch

from redshift.metrics.compression import zlib_ratio
from redshift.metrics.guard import degenerate
from redshift.metrics.lempel_ziv import lz, lz76
from redshift.metrics.polynomial import chebyshev
from redshift.metrics.spectral import dct, fourier, fourier_quadrant

METRICS: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "fourier": fourier,
    "fourier_quadrant": fourier_quadrant,
    "dct": dct,
    "chebyshev": chebyshev,
    "lz": lz,
    "zlib_ratio": zlib_ratio,
}

__all__ = [
    "METRICS",
    "chebyshev",
    "dct",
    "degenerate",
    "fourier",
    "fourier_quadrant",
    "lz",
    "lz76",
    "zlib_ratio",
]
