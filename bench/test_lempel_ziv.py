"""Lempel-Ziv (metrics.lempel_ziv): lz76 on bit sequences and lz on grids (median bits + lz76).

lz76 is timed against the per-sequence Python loop of Kaspar & Schuster (metrics.reference.lz76_python)
and against zlib.compress(level 9) of the same bits packed 8 per byte, as a floor: a compressor that
also finds repeats, in C, in one pass."""
import numpy as np
import pytest
import torch

import redshift.metrics as metrics
from bench import core, reference
from bench.core import run_grid_metric
from bench.params import BITS_CASES, GRID_CASES, SEED
from redshift.metrics.lempel_ziv import median_bits
from redshift.metrics.reference import lz76_python

CHECKED = 2


def _bits(case, device) -> torch.Tensor:
    if case.input == "random":
        return core.random_bits(case.batch, case.length, SEED, device)
    return median_bits(core.smooth_grids(case.batch, case.grid, SEED, torch.float32, device))


@pytest.mark.cases(BITS_CASES)
def test_lz76(bench, case, device):
    bits = _bits(case, device)
    counts = bench.run(lambda: metrics.lz76(bits))
    host = core.as_numpy(bits)
    assert counts.shape == (case.batch,)
    expected = [lz76_python(host[i].tolist()) for i in range(CHECKED)]
    assert counts[:CHECKED].tolist() == expected, f"{bench.key}: {counts[:CHECKED].tolist()} != Python loop {expected}"
    packed = [np.packbits(row).tobytes() for row in host]
    bench.baseline("zlib", lambda: [reference.zlib.compress(row, 9) for row in packed])
    ref = bench.reference("per-sequence Python LZ76 loop", lambda i: lz76_python(host[i].tolist()), case.batch,
                          "sequences", share=("lz76_python", case.input, case.length))
    bench.record(items=case.batch, unit="sequences", reference=ref, bits=case.length)


@pytest.mark.cases(GRID_CASES)
def test_lz(bench, case, device):
    run_grid_metric(bench, case, device, metrics.lz, reference.lz_one, "per-grid numpy median + Python LZ76 loop",
                    seed=SEED, flop=None)
