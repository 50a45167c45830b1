"""Spectral complexity measures: mean frequency from the FFT and the DCT (paper §3).

All three are magnitude-weighted mean frequencies with the DC term excluded,

    C = sum_k |F(k)| * w(k) / sum_k |F(k)| * [k in band],

differing in the transform, the frequency index w(k) and the band. Each is written as one batched
matmul of the flattened magnitudes against a cached [n_coeffs, 2] (numerator, denominator) weight
matrix, so there is no Python loop over grids or frequencies.
"""

from __future__ import annotations

import functools
import math

import scipy.fft
import torch

from redshift.metrics.guard import as_grid, grid_metric


def _magnitude(coeffs: torch.Tensor) -> torch.Tensor:
    """|c| of complex coefficients as sqrt(re^2 + im^2), a 2-norm over the (re, im) pair.

    torch's complex abs takes 4x as long on CPU (64 grids of 256x256, one thread: 28 ms vs 7 ms,
    as long as the rfft2 itself); the two agree to round-off. Unlike abs (hypot) the squares
    overflow for |c| > ~1e154, which needs grid values above ~1e149: float32 outputs (< 3.4e38)
    never get there.
    """
    return torch.linalg.vector_norm(torch.view_as_real(coeffs), dim=-1)


def _weighted_mean(mag: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """sum(mag * w_num) / sum(mag * w_den) over the last two dims; weights is [H*W, 2]."""
    sums = mag.flatten(-2) @ weights
    return sums[..., 0] / sums[..., 1]


# ------------------------------------------------------------------------------------------------
# Paper-style FFT mean frequency


@functools.lru_cache(maxsize=64)
def _fourier_weights(h: int, w: int, device: torch.device) -> torch.Tensor:
    n = min(h, w)
    k1 = torch.fft.fftfreq(h, dtype=torch.float64) * h  # integer frequencies, signed
    k2 = torch.fft.rfftfreq(w, dtype=torch.float64) * w  # 0 .. w // 2
    radius = torch.sqrt(k1[:, None] ** 2 + k2[None, :] ** 2)
    # rfft2 keeps columns 0..w//2; every column strictly between 0 and the Nyquist column w/2
    # stands for itself and its Hermitian mirror (same magnitude, same radius), so it counts twice.
    mult = torch.full((w // 2 + 1,), 2.0, dtype=torch.float64)
    mult[0] = 1.0
    if w % 2 == 0:
        mult[-1] = 1.0
    band = ((radius > 0) & (radius <= n / 2)).to(torch.float64) * mult[None, :]
    weights = torch.stack([(band * radius / (n / 2)).flatten(), band.flatten()], dim=-1)
    return weights.to(device)


@grid_metric
def fourier(y: torch.Tensor) -> torch.Tensor:
    """Paper-style Fourier mean frequency C_Fourier (paper §3).

        C = sum_{0 < |k| <= n/2} |Y(k)| |k| / sum_{0 < |k| <= n/2} |Y(k)|  /  (n/2)

    Y = fft2(y) over the last two dims (magnitude, not power; no window), k = (k1, k2) the integer
    frequency vector (fftfreq * size per axis), |k| its Euclidean norm, n = min(H, W). The DC term
    is excluded and the band is the Nyquist disk, so C lies in (0, 1]. Computed from rfft2 with
    each non-self-conjugate column counted twice, which equals the full fft2 sum for real input.

    Reference values on a 64x64 grid of [-1, 1]^2 (x1 = row index): linear x1 + 0.5 x2 ~0.269
    (boundary leakage of the non-periodic ramp), x1^2 + x2^2 ~0.073,
    white noise ~0.667. Invariant to a*y + b for a != 0, to flipping either axis and to
    transposing a square grid, so C(sin 8pi(x1+x2)) == C(sin 8pi(x1-x2)) (cases/metrics.yaml, rotation-symmetry).

    Args:
        y: [..., H, W] real grid, float32 or float64, any device.
    Returns:
        float64 [...] on y's device; NaN where `degenerate(y)`.
    """
    h, w = y.shape[-2:]
    mag = _magnitude(torch.fft.rfft2(y))
    return _weighted_mean(mag, _fourier_weights(h, w, y.device))


# ------------------------------------------------------------------------------------------------
# Parity with the public code (ArmandNM/neural-redshift, spectral_analysis.get_mean_frequency_2d)


@functools.lru_cache(maxsize=64)
def _quadrant_weights(h: int, w: int, device: torch.device) -> torch.Tensor:
    i = torch.arange(h // 2 + 1, dtype=torch.float64)
    j = torch.arange(w // 2 + 1, dtype=torch.float64)
    bins = torch.round(torch.sqrt(i[:, None] ** 2 + j[None, :] ** 2))
    max_freq = round(math.sqrt((h // 2) ** 2 + (w // 2) ** 2))
    weights = torch.stack([(bins / max_freq).flatten(), (bins > 0).to(torch.float64).flatten()], -1)
    return weights.to(device)


@grid_metric
def fourier_quadrant(y: torch.Tensor) -> torch.Tensor:
    """The public code's mean frequency `fa`, batched (spectral_analysis.get_mean_frequency_2d, steps 1-5).

        c = |rfft2(y)|;  c[0, 0] = 0;  c = c[: H//2 + 1]          (quadrant k1 >= 0, k2 >= 0)
        bin(i, j) = round(sqrt(i^2 + j^2));  S_r = sum_{bin = r} c;  S_0 = 0;  p_r = S_r / sum S
        C = sum_r p_r * r / R,   R = round(sqrt((H//2)^2 + (W//2)^2))

    Binning then weighting by r equals weighting each coefficient by its rounded radius, so this
    computes C = sum_ij c_ij bin_ij / sum_{bin_ij > 0} c_ij / R as one matmul; it matches
    `metrics.reference.fourier_quadrant_loop` (the public per-bin loop) to round-off.
    Computed in float64 (the public code runs float32).

    Known properties reproduced on purpose: the quadrant
    truncation makes it orientation-biased (sin 8pi(x1+x2) != sin 8pi(x1-x2)), and the diagonal R
    puts white noise at ~0.546 instead of near 1. Reference values at 64x64: linear ~0.194,
    x1^2 + x2^2 ~0.052, white noise ~0.546.

    Args:
        y: [..., H, W] real grid, float32 or float64, any device.
    Returns:
        float64 [...] on y's device; NaN where `degenerate(y)`.
    """
    h, w = y.shape[-2:]
    mag = _magnitude(torch.fft.rfft2(y)[..., : h // 2 + 1, :])  # slice first: half the work
    return _weighted_mean(mag, _quadrant_weights(h, w, y.device))


# ------------------------------------------------------------------------------------------------
# DCT-II mean frequency


@functools.lru_cache(maxsize=64)
def _dct_matrix(n: int, device: torch.device) -> torch.Tensor:
    """Orthonormal DCT-II matrix C with (C x)_k = s_k sum_m x_m cos(pi k (2m + 1) / (2n))."""
    k = torch.arange(n, dtype=torch.float64)[:, None]
    m = torch.arange(n, dtype=torch.float64)[None, :]
    mat = torch.cos(math.pi * k * (2 * m + 1) / (2 * n)) * math.sqrt(2.0 / n)
    mat[0] /= math.sqrt(2.0)
    return mat.to(device)


def dct2(y: torch.Tensor) -> torch.Tensor:
    """Orthonormal 2-D DCT-II over the last two dims, float64 (= scipy.fft.dctn(norm="ortho")).

    On CPU: scipy.fft.dctn (pocketfft's native real-to-real DCT, O(N log N), on torch's thread
    count). Elsewhere: C_H @ y @ C_W^T with cached DCT matrices, which runs unchanged on CUDA.
    Measured on the 2-core CPU, one thread, float64, 64 grids of 256x256: rfft2 28 ms, dctn 28 ms,
    the matmul 114 ms (O(N^3): 4x the FFT, so `dct` missed "within 3x of one FFT"), and a Makhoul
    rfft implementation was slower still (its reorder / twiddle / gather passes cost more than the
    FFT itself). Both paths agree to ~1e-13 relative.
    """
    y = as_grid(y)
    h, w = y.shape[-2:]
    if y.device.type == "cpu":
        out = scipy.fft.dctn(y.detach().numpy(), type=2, norm="ortho", axes=(-2, -1),
                             workers=torch.get_num_threads())
        return torch.from_numpy(out)
    return _dct_matrix(h, y.device) @ y @ _dct_matrix(w, y.device).T


@functools.lru_cache(maxsize=64)
def _dct_weights(h: int, w: int, device: torch.device) -> torch.Tensor:
    n = min(h, w)
    i = torch.arange(h, dtype=torch.float64)
    j = torch.arange(w, dtype=torch.float64)
    r = torch.sqrt(i[:, None] ** 2 + j[None, :] ** 2)
    band = ((r > 0) & (r <= n)).to(torch.float64)
    return torch.stack([(band * r / n).flatten(), band.flatten()], dim=-1).to(device)


@grid_metric
def dct(y: torch.Tensor) -> torch.Tensor:
    """DCT mean frequency F_dct.

        c = DCT-II_ortho(y) on both axes;  r(i, j) = sqrt(i^2 + j^2),  i < H, j < W
        C = sum_{0 < r <= n} |c_ij| r / sum_{0 < r <= n} |c_ij|  /  n,    n = min(H, W)

    The DCT's even extension removes the boundary leakage that inflates `fourier` on ramps
    (a non-periodic ramp leaks into every FFT frequency). Reference values at 64x64: linear ~0.033, x1^2 + x2^2 ~0.073,
    white noise ~0.663. Invariant to a*y + b (a != 0) and to transposition / sign flips of the
    axes (so C(sin 8pi(x1+x2)) == C(sin 8pi(x1-x2))).

    Args:
        y: [..., H, W] real grid, float32 or float64, any device.
    Returns:
        float64 [...] on y's device; NaN where `degenerate(y)`.
    """
    h, w = y.shape[-2:]
    mag = dct2(y).abs_()  # in place: dct2 returns a fresh tensor, and a new 8-byte-per-value buffer costs page faults
    return _weighted_mean(mag, _dct_weights(h, w, y.device))
