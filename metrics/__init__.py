"""Complexity metrics for functions sampled on a grid (Neural Redshift, paper §3).

Every grid metric maps a real tensor [..., H, W] (float32/float64, CPU/CUDA; x1 = row index) to a
float64 tensor [...] on the same device, computes in float64, and returns NaN where `degenerate`
flags the grid (non-finite or constant).
"""

from redshift.core import LazyAttributes

#: name -> kernel, each imported on first use (the numba kernels compile or load from cache then).
METRICS = LazyAttributes(__name__, {
    "fourier": "spectral",
    "fourier_quadrant": "spectral",
    "dct": "spectral",
    "chebyshev": "polynomial",
    "lz": "lempel_ziv",
    "zlib_ratio": "compression",
})
EXPORTS = LazyAttributes(__name__, {**METRICS.exports, "lz76": "lempel_ziv", "degenerate": "guard"})
__all__ = ["METRICS", *EXPORTS]
__getattr__ = EXPORTS.module_getattr
