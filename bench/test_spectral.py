"""Spectral metrics (metrics.spectral): fourier, fourier_quadrant and dct on random and smooth grids,
each against a plain per-grid reference and, as a floor, one batched float64 rfft2 of the same data."""
import pytest

import redshift.metrics as metrics
from bench import reference
from bench.core import run_grid_metric
from bench.params import GRID_CASES, SEED, metric_flop
from redshift.metrics.reference import fourier_quadrant_loop


@pytest.mark.cases(GRID_CASES)
def test_fourier(bench, case, device):
    run_grid_metric(bench, case, device, metrics.fourier, reference.fourier_one, "per-grid numpy fft2 formula",
                    seed=SEED, flop=metric_flop("fourier", case), fft_baseline=True)


@pytest.mark.cases(GRID_CASES)
def test_fourier_quadrant(bench, case, device):
    run_grid_metric(bench, case, device, metrics.fourier_quadrant, fourier_quadrant_loop,
                    "per-grid Python radial-bin loop (public code)", seed=SEED,
                    flop=metric_flop("fourier_quadrant", case), fft_baseline=True)


@pytest.mark.cases(GRID_CASES)
def test_dct(bench, case, device):
    run_grid_metric(bench, case, device, metrics.dct, reference.dct_one, "per-grid scipy dctn formula",
                    seed=SEED, flop=metric_flop("dct", case), fft_baseline=True)
