"""Chebyshev polynomial-order metric (metrics.polynomial.chebyshev, D = 20) on random and smooth grids,
against a per-grid np.linalg.lstsq fit and, as a floor, one batched float64 rfft2 of the same data."""
import pytest

import redshift.metrics as metrics
from bench import reference
from bench.core import run_grid_metric
from bench.params import GRID_CASES, SEED, metric_flop


@pytest.mark.cases(GRID_CASES)
def test_chebyshev(bench, case, device):
    run_grid_metric(bench, case, device, metrics.chebyshev, reference.chebyshev_one, "per-grid numpy lstsq fit",
                    seed=SEED, flop=metric_flop("chebyshev", case), fft_baseline=True)
