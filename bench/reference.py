"""Plain one-grid-at-a-time references the batched metrics are checked and timed against.

Each takes one [H, W] grid as a numpy array and returns a float, written straight from the formula
in the metric's docstring with numpy / scipy, no batching, no caching. The Fourier bin loop and
the Python LZ76 loop of the public code live in metrics.reference and are used from there.
"""
from __future__ import annotations

import zlib

import numpy as np
import scipy.fft
from numpy.polynomial import chebyshev as npcheb

from redshift.metrics.reference import lz76_python


def fourier_one(y: np.ndarray) -> float:
    """C = sum_{0 < |k| <= n/2} |Y(k)| |k| / sum_{0 < |k| <= n/2} |Y(k)| / (n/2), Y = fft2(y)."""
    y = np.asarray(y, dtype=np.float64)
    h, w = y.shape
    n = min(h, w)
    mag = np.abs(np.fft.fft2(y))
    radius = np.hypot(*np.meshgrid(np.fft.fftfreq(h) * h, np.fft.fftfreq(w) * w, indexing="ij"))
    band = (radius > 0) & (radius <= n / 2)
    return float((mag[band] * radius[band]).sum() / mag[band].sum() / (n / 2))


def dct_one(y: np.ndarray) -> float:
    """C = sum_{0 < r <= n} |c_ij| r_ij / sum_{0 < r <= n} |c_ij| / n, c = dctn(y, ortho), r = |(i, j)|."""
    y = np.asarray(y, dtype=np.float64)
    h, w = y.shape
    n = min(h, w)
    mag = np.abs(scipy.fft.dctn(y, type=2, norm="ortho"))
    radius = np.hypot(*np.meshgrid(np.arange(h), np.arange(w), indexing="ij"))
    band = (radius > 0) & (radius <= n)
    return float((mag[band] * radius[band]).sum() / mag[band].sum() / n)


def chebyshev_one(y: np.ndarray, degree: int = 20) -> float:
    """Least-squares fit c of y ~ sum c_ij T_i(x1) T_j(x2) (np.linalg.lstsq per axis), then
    C = sum_{(i,j) != 0} |c_ij| (i + j) / sum_{(i,j) != 0} |c_ij| / (2 D)."""
    y = np.asarray(y, dtype=np.float64)
    h, w = y.shape
    rows = npcheb.chebvander(np.linspace(-1, 1, h), degree)
    cols = npcheb.chebvander(np.linspace(-1, 1, w), degree)
    half = np.linalg.lstsq(rows, y, rcond=None)[0]                  # [D+1, W]
    coeff = np.abs(np.linalg.lstsq(cols, half.T, rcond=None)[0].T)  # [D+1, D+1]
    order = np.add.outer(np.arange(degree + 1), np.arange(degree + 1)).astype(np.float64)
    coeff[0, 0] = 0.0
    return float((coeff * order).sum() / coeff.sum() / (2 * degree))


def median_bits_one(y: np.ndarray) -> np.ndarray:
    """y > median(y) (numpy's median: mean of the two middle values), flattened row-major."""
    y = np.asarray(y, dtype=np.float64)
    return (y > np.median(y)).ravel()


def lz_one(y: np.ndarray) -> int:
    """LZ76 phrase count of the median bits, by the classic Python loop."""
    return lz76_python(median_bits_one(y).tolist())


def zlib_ratio_one(y: np.ndarray, levels: int = 16) -> float:
    """len(zlib.compress(q, 9)) / (H W), q = min(floor(levels (y - min) / (max - min)), levels - 1)."""
    y = np.asarray(y, dtype=np.float64)
    q = np.clip(np.floor(levels * (y - y.min()) / (y.max() - y.min())), 0, levels - 1).astype(np.uint8)
    return len(zlib.compress(q.tobytes(), 9)) / y.size


def zlib_packed_bits(bits: np.ndarray) -> int:
    """The LZ76 floor: zlib.compress(level 9) of one bit sequence packed 8 bits per byte."""
    return len(zlib.compress(np.packbits(bits).tobytes(), 9))
