"""zlib compression ratio (metrics.zlib_ratio) on random and smooth grids, against a per-grid numpy
quantise + zlib loop. Both are bound by zlib itself (one C call per grid), so expect a speed-up near 1."""
import pytest

import redshift.metrics as metrics
from bench import reference
from bench.core import run_grid_metric
from bench.params import GRID_CASES, SEED


@pytest.mark.cases(GRID_CASES)
def test_zlib_ratio(bench, case, device):
    run_grid_metric(bench, case, device, metrics.zlib_ratio, reference.zlib_ratio_one, "per-grid numpy + zlib loop",
                    seed=SEED, flop=None)
