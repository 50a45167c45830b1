"""Unit tests for the grid metrics in `metrics/`.

Closed forms where they exist (Chebyshev products, DCT/FFT oracles, guard behaviour), otherwise
reference values computed from the closed forms, with stated tolerances. All random inputs are seeded.
LZ76 itself is tested in tests/test_metrics_lz.py.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.fft
import torch
from numpy.polynomial import chebyshev as npcheb

from redshift.metrics import METRICS, chebyshev, dct, degenerate, fourier, fourier_quadrant, lz, zlib_ratio
from redshift.metrics.polynomial import chebyshev_coefficients
from redshift.metrics.reference import fourier_quadrant_loop
from redshift.metrics.spectral import dct2

N = 64
DEGREE = 20
SPECTRAL = {"fourier": fourier, "dct": dct, "chebyshev": chebyshev}  # rotation-symmetric ones
SCALE_FREE = {**SPECTRAL, "fourier_quadrant": fourier_quadrant}  # exactly invariant to a*f + b


def coords(n: int = N, m: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Grid on [-1, 1]^2 with endpoints, x1 = row index."""
    t1 = torch.linspace(-1, 1, n, dtype=torch.float64)
    t2 = torch.linspace(-1, 1, m or n, dtype=torch.float64)
    return torch.meshgrid(t1, t2, indexing="ij")


def noise(*shape: int, seed: int = 0) -> torch.Tensor:
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


X1, X2 = coords()
FUNCS = {
    "linear": X1 + 0.5 * X2,
    "sq": X1**2 + X2**2,
    "abs": (X1 - 0.2).abs(),
    "sin_diag": torch.sin(8 * math.pi * (X1 + X2)),
    "sin_anti": torch.sin(8 * math.pi * (X1 - X2)),
    "sin_2pi": torch.sin(2 * math.pi * X1),
}
NOISE = noise(16, N, N, seed=0)  # 16 white-noise grids; reference values are their mean

# (metric, function) -> (expected, absolute tolerance)-1.4 [measured] at 64x64.
EXPECTED = {
    ("fourier", "linear"): (0.269, 0.002),
    ("fourier", "sq"): (0.073, 0.001),
    ("fourier", "noise"): (0.667, 0.01),
    ("fourier_quadrant", "linear"): (0.194, 0.002),
    ("fourier_quadrant", "sq"): (0.052, 0.001),
    ("fourier_quadrant", "noise"): (0.546, 0.01),
    ("dct", "linear"): (0.033, 0.001),
    ("dct", "sq"): (0.073, 0.001),
    ("dct", "noise"): (0.663, 0.01),
    ("chebyshev", "linear"): (0.025, 0.0005),
    ("chebyshev", "sq"): (0.050, 0.0005),
    ("chebyshev", "abs"): (0.074, 0.001),
    ("chebyshev", "sin_diag"): (0.607, 0.001),
    ("chebyshev", "noise"): (0.491, 0.015),
    ("lz", "linear"): (49, 0),
    ("lz", "sin_2pi"): (4, 0),
    ("lz", "noise"): (354, 10),
}


@pytest.mark.parametrize(("metric", "func"), list(EXPECTED), ids=[f"{m}-{f}" for m, f in EXPECTED])
def test_reference_values(metric, func):
    expected, tol = EXPECTED[(metric, func)]
    grid = NOISE if func == "noise" else FUNCS[func]
    got = float(METRICS[metric](grid).mean())
    assert abs(got - expected) <= tol, f"{metric}({func}) = {got:.4f}, expected {expected} ± {tol}"


def test_zlib_ratio_noise_bounds():
    # iid uniform on 16 levels carries 4 bits per byte: no compressor beats a ratio of 0.5.
    uniform = torch.rand(8, N, N, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    r_uniform = zlib_ratio(uniform)
    assert ((r_uniform > 0.5) & (r_uniform < 0.62)).all(), r_uniform
    # Gaussian noise has ~3.2 bits per quantised value, smooth functions far less.
    r_gauss = zlib_ratio(NOISE)
    assert ((r_gauss > 0.4) & (r_gauss < r_uniform.min())).all(), r_gauss
    for name in ("linear", "sq", "sin_2pi"):
        assert float(zlib_ratio(FUNCS[name])) < 0.15, name


# --------------------------------------------------------------------------------- guard


@pytest.mark.parametrize("name", list(METRICS))
@pytest.mark.parametrize("value", [0.0, 1.0, -3.5, 1e6])
def test_constant_grid_is_nan(name, value):
    assert torch.isnan(METRICS[name](torch.full((N, N), value, dtype=torch.float64)))


@pytest.mark.parametrize("name", list(METRICS))
@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_nonfinite_grid_is_nan_and_batchmates_unaffected(name, bad):
    good = FUNCS["sq"]
    broken = good.clone()
    broken[5, 7] = bad
    near_constant = 2.0 + 1e-12 * noise(N, N, seed=3)  # std 1e-12 < 1e-9 * (1 + 2)
    out = METRICS[name](torch.stack([good, broken, near_constant]))
    assert torch.isfinite(out[0]) and torch.isnan(out[1:]).all(), out
    torch.testing.assert_close(out[0], METRICS[name](good), rtol=1e-12, atol=0)


def test_degenerate_threshold():
    base = noise(N, N, seed=4)
    base = (base - base.mean()) / base.std(correction=0)  # std exactly ~1, mean ~0
    grids = torch.stack([5.0 + 1e-8 * base, 5.0 + 1e-10 * base, base, torch.zeros(N, N)])
    flags = degenerate(grids)
    assert flags.dtype == torch.bool and flags.shape == (4,)
    assert flags.tolist() == [False, True, False, True]  # threshold 1e-9 * (1 + 5) = 6e-9
    assert degenerate(torch.zeros(2, 3, 4, 5)).shape == (2, 3)


# ------------------------------------------------------------------------- closed forms


@pytest.mark.parametrize(("p", "q"), [(3, 2), (1, 0), (0, 1), (7, 11), (20, 20), (0, 20)])
def test_chebyshev_product_scores_total_degree(p, q):
    grid = torch.from_numpy(np.outer(npcheb.chebval(X1[:, 0].numpy(), [0] * p + [1]),
                                     npcheb.chebval(X2[0].numpy(), [0] * q + [1])))
    assert float(chebyshev(grid, DEGREE)) == pytest.approx((p + q) / (2 * DEGREE), abs=1e-10)


def test_chebyshev_weights_by_coefficient_magnitude():
    # T_1(x1) with weight 1 and T_2(x2) with weight -3: C = (1*1 + 3*2) / (1 + 3) / (2D).
    grid = X1 + -3 * (2 * X2**2 - 1) + 4.0
    assert float(chebyshev(grid, DEGREE)) == pytest.approx(7 / 4 / (2 * DEGREE), abs=1e-10)


def test_chebyshev_coefficients_match_lstsq_oracle():
    x1, x2 = coords(25, 31)
    grid = torch.sin(3 * x1) * torch.exp(x2) + noise(25, 31, seed=5) * 0.1
    vander = npcheb.chebvander2d(x1.flatten().numpy(), x2.flatten().numpy(), [5, 5])
    oracle = np.linalg.lstsq(vander, grid.flatten().numpy(), rcond=None)[0].reshape(6, 6)
    np.testing.assert_allclose(chebyshev_coefficients(grid, 5).numpy(), oracle, atol=1e-12)


def test_chebyshev_rejects_underdetermined_fit():
    with pytest.raises(ValueError, match="at least 21 points"):
        chebyshev(noise(16, 64, seed=6), 20)


def test_dct2_matches_scipy():
    grids = noise(3, 17, 24, seed=7)
    oracle = scipy.fft.dctn(grids.numpy(), axes=(-2, -1), norm="ortho")
    np.testing.assert_allclose(dct2(grids).numpy(), oracle, atol=1e-12)


def test_dct_metric_matches_scipy_oracle():
    grid = noise(20, 33, seed=8).cumsum(0)  # non-square, some low-frequency structure
    mag = np.abs(scipy.fft.dctn(grid.numpy(), norm="ortho"))
    r = np.hypot(*np.meshgrid(np.arange(20), np.arange(33), indexing="ij"))
    band = (r > 0) & (r <= 20)
    expected = (mag * r)[band].sum() / mag[band].sum() / 20
    assert float(dct(grid)) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize(("h", "w"), [(64, 64), (20, 33), (33, 20), (31, 31)])
def test_fourier_matches_full_fft2_oracle(h, w):
    grid = noise(h, w, seed=9).cumsum(1)
    mag = np.abs(np.fft.fft2(grid.numpy()))
    k1, k2 = np.meshgrid(np.fft.fftfreq(h) * h, np.fft.fftfreq(w) * w, indexing="ij")
    r = np.hypot(k1, k2)
    n = min(h, w)
    band = (r > 0) & (r <= n / 2)
    expected = (mag * r)[band].sum() / mag[band].sum() / (n / 2)
    assert float(fourier(grid)) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize(("h", "w"), [(64, 64), (20, 33), (33, 20), (7, 9)])
def test_fourier_quadrant_matches_public_loop(h, w):
    grids = torch.stack([noise(h, w, seed=10), noise(h, w, seed=11).cumsum(0)])
    expected = torch.tensor([fourier_quadrant_loop(g) for g in grids], dtype=torch.float64)
    torch.testing.assert_close(fourier_quadrant(grids), expected, rtol=1e-12, atol=0)


@pytest.mark.parametrize(
    ("name", "ks"),
    [("fourier", (0.5, 1, 2, 3, 4, 6, 8)), ("dct", (0.5, 1, 2, 3, 4, 6, 8)),
     # At D = 20 Chebyshev resolves sin(2 pi k x) only up to k = 3 (sin(8 pi x) needs degree > 20).
     ("chebyshev", (0.5, 1, 2, 3))],
)
def test_sine_frequency_is_monotone(name, ks):
    values = METRICS[name](torch.stack([torch.sin(2 * math.pi * k * X1) for k in ks]))
    assert (values.diff() > 0.02).all(), dict(zip(ks, values.tolist()))


# -------------------------------------------------------------------- symmetry


@pytest.mark.parametrize("name", list(SPECTRAL))
def test_rotation_symmetry(name):
    diag, anti = METRICS[name](torch.stack([FUNCS["sin_diag"], FUNCS["sin_anti"]]))
    assert abs(float(diag - anti)) < 1e-6
    g = noise(N, N, seed=12).cumsum(0)
    torch.testing.assert_close(METRICS[name](g.T), METRICS[name](g), rtol=1e-10, atol=0)
    torch.testing.assert_close(METRICS[name](g.flip(0)), METRICS[name](g), rtol=1e-10, atol=0)


def test_fourier_quadrant_orientation_bias_is_reproduced():
    # The public code keeps only the k1, k2 >= 0 quadrant.
    diag, anti = fourier_quadrant(torch.stack([FUNCS["sin_diag"], FUNCS["sin_anti"]])).tolist()
    assert anti - diag > 0.05, (diag, anti)


# -------------------------------------------------------------------- invariance to a*f + b


@pytest.mark.parametrize("name", list(SCALE_FREE))
@pytest.mark.parametrize(("a", "b"), [(3.0, 7.0), (-0.5, 0.0), (1e-3, -2.0), (-40.0, 1e3)])
def test_affine_invariance(name, a, b):
    f = torch.sin(3 * X1) * torch.cos(2 * X2) + 0.3 * X1 * X2 + 0.05 * noise(N, N, seed=13)
    assert float(METRICS[name](a * f + b)) == pytest.approx(float(METRICS[name](f)), abs=1e-9)


@pytest.mark.parametrize(("a", "b"), [(3.0, 7.0), (-1.0, 0.0), (-0.25, 5.0)])
def test_lz_affine_and_sign_flip_invariance(a, b):
    # Sign flips complement the median bits (values distinct, even count); LZ76 is invariant.
    f = torch.sin(3 * X1) * torch.cos(2 * X2) + 0.05 * noise(N, N, seed=14)
    assert float(lz(a * f + b)) == float(lz(f))


def test_zlib_ratio_scale_invariance():
    f = noise(N, N, seed=15).cumsum(1)
    assert float(zlib_ratio(2.0 * f)) == float(zlib_ratio(f))
    assert float(zlib_ratio(f + 0.1)) == pytest.approx(float(zlib_ratio(f)), abs=0.01)


# ---------------------------------------------------------------------- batching and dtypes


@pytest.mark.parametrize("name", list(METRICS))
def test_leading_batch_dims(name):
    grids = torch.stack([noise(3, 24, 24, seed=16), noise(3, 24, 24, seed=17).cumsum(-1)])
    out = METRICS[name](grids)
    assert out.shape == (2, 3) and out.dtype == torch.float64
    single = torch.stack([torch.stack([METRICS[name](g) for g in row]) for row in grids])
    torch.testing.assert_close(out, single, rtol=1e-12, atol=0)
    assert METRICS[name](grids[:0]).shape == (0, 3)


@pytest.mark.parametrize("name", list(METRICS))
def test_float32_input_gives_float64_output(name):
    f64 = FUNCS["sq"] + 0.1 * FUNCS["sin_2pi"]
    out = METRICS[name](f64.to(torch.float32))
    assert out.dtype == torch.float64 and out.shape == ()
    assert float(out) == pytest.approx(float(METRICS[name](f64)), rel=1e-3)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
@pytest.mark.parametrize("name", list(METRICS))
def test_cuda_matches_cpu(name):
    grids = torch.stack([noise(N, N, seed=18), FUNCS["sq"], torch.zeros(N, N)])
    out = METRICS[name](grids.cuda())
    assert out.device.type == "cuda" and out.dtype == torch.float64
    torch.testing.assert_close(out.cpu(), METRICS[name](grids), rtol=1e-9, atol=0, equal_nan=True)
