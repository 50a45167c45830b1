"""End to end: the report sweep's jobs (bench/end_to_end.py), each against the public Neural Redshift
code's algorithm (per-network torch.nn module, DataLoader batches of 16384 points, one-grid metric
references) timed in the same run.

Correctness mode (the default; what CI runs): each job runs once on its tiny settings, and every
cell's numbers (median, interval, flagged count) are checked against the reference's per-network
values: at float64 to 1e-9, and at the suite's own precision (``dtype: auto``, per metric, see
redshift.claims.measure.PRECISION) to the tolerance docs/performance.md measured for it.

Timing mode (``--benchmark-enable --tier full``; minutes per round): ``rounds`` whole jobs, each
with a fresh Measurer (nothing cached), after a warm-up on the tiny settings. Recorded in
``extra_info``: the reference's time for the whole job (timed on a stratified sample of cells, see
``sampled_cells``, and scaled), the speed-up, the same with plain slices instead of the DataLoader
(``speedup_lean``), the kernel bound (what the sampler and metric kernels alone take for the same
networks, ``kernel_bound_s``: per cell, ``evaluate`` of its n networks on pre-drawn parameters, as
bench/test_sampler.py times it, plus each metric on its [n, R, R] outputs, as the metric benchmarks
time them, at the precision the sweep uses for that metric) and ``pct_bound`` = 100 x bound / job
time, and the load average before and after.
"""
import dataclasses
import math
import os
import time

import numpy as np
import pytest
import torch

from bench import core
from bench.end_to_end import CASES, network_cells, reference_cell, sampled_cells
from redshift.claims.measure import PROMOTE_BELOW, PROMOTED, Measurer, resolved_dtype
from redshift.metrics import METRICS
from redshift.networks import evaluate, grid_points, sample_parameters
from redshift.networks.sampling import relative_spread
from redshift.report.sweep import Sweep, cell_subject, network_spec, run_sweep

#: |suite - reference| allowed for a cell's median (relative to max(1, |median|)) in float64: the
#: same arithmetic up to summation order. (In float32 the two diverge in chaotic networks, e.g. sine
#: at large weights, as float32 and float64 do: docs/performance.md; they are compared in float64.)
MEDIAN_TOLERANCE = 1e-9
#: Except: chebyshev's reference solves the least-squares fit with lstsq, the kernel with a pinv; on
#: nearly polynomial grids (small weights) the high-order coefficients are round-off sized and their
#: |c| sum differs by up to ~1e-8 between the two (seen: 6.9e-9 on a 32^2 grid).
FLOAT64_TOLERANCE = {"chebyshev": 1e-7}
#: Two float64 runs of the same cells agree to this (relative): metrics.dct feeds scipy's output
#: array, whose address alignment varies from call to call, to an MKL matmul, and MKL's summation
#: order depends on the alignment (seen: 1e-16 relative between the first sweep of a process and
#: the next ones).
SAME_NUMBERS = 1e-12
#: dtype auto at float32 (PROMOTED) against float64: a cell's median, interval ends, by metric, relative:
#: the largest change ``python -m bench.precision`` measured on the default sweep and the public
#: setting (docs/performance.md), rounded up. Used only for metrics PRECISION puts in float32.
FLOAT32_MEDIANS = {"fourier": 0.025, "fourier_quadrant": 0.015, "dct": 0.05, "chebyshev": 0.035, "lz": 0.025,
                   "zlib_ratio": 0.1}


def _precision(settings, subject) -> str:
    """The precision the sweep measures the subject in (one for all its metrics: Measurer.measure_many)."""
    return resolved_dtype(subject, settings.metrics, settings.dtype)


def _dtypes(settings, subject) -> dict[str, torch.dtype]:
    """Per metric, the dtype of the reference's forward: float32 where the sweep runs float32 (the
    public code's precision; PROMOTED is float32 but for near-constant networks), else float64."""
    dtype = torch.float64 if _precision(settings, subject) == "float64" else torch.float32
    return {m: dtype for m in settings.metrics}


def _job(settings, parts, device) -> Sweep:
    return run_sweep(settings, device, False, Measurer(settings.seed, device), parts)


def _check_cells(sweep: Sweep, settings, cells, dtype_of, what: str) -> int:
    """Compare each cell's summary with the reference's values (same networks, plain code)."""
    measurer = Measurer(settings.seed, "cpu")
    checked = 0
    for cell in cells:
        subject = cell_subject(network_spec(*cell, settings))
        dtypes = dtype_of(subject)
        values = reference_cell(settings, cell, measurer.seed(subject), dtypes)
        record = sweep.record(*cell)
        for metric, reference in values.items():
            reference = np.asarray(reference)
            finite = reference[np.isfinite(reference)]
            got = record["metrics"][metric]
            where = f"{what}: cell {cell} {metric} ({dtypes[metric]})"
            assert got["flagged"] == int(np.sum(~np.isfinite(reference))), f"{where}: flagged {got['flagged']}"
            if finite.size:
                assert dtypes[metric] == torch.float64, where
                tolerance = FLOAT64_TOLERANCE.get(metric, MEDIAN_TOLERANCE)
                scale = max(1.0, abs(float(np.median(finite))))
                assert abs(got["median"] - float(np.median(finite))) <= tolerance * scale, (
                    f"{where}: median {got['median']!r} vs reference {float(np.median(finite))!r}")
            else:
                assert "median" not in got, where
            checked += 1
    return checked


def _reference_time(settings, parts, dtype_of, networks: int, loader: bool) -> tuple[float, str]:
    """The reference's time for the whole job: the stratified sample of cells, ``networks`` of each
    cell's networks, scaled by the cells each stands for and by samples / networks."""
    measurer = Measurer(settings.seed, "cpu")
    sample = sampled_cells(settings, parts)
    total, timed = 0.0, 0
    for cell, weight in sample:
        subject = cell_subject(network_spec(*cell, settings))
        start = time.perf_counter()
        reference_cell(settings, cell, measurer.seed(subject), dtype_of(subject), loader, networks)
        total += (time.perf_counter() - start) * weight * settings.samples / min(networks, settings.samples)
        timed += 1
    cells = len(network_cells(settings, parts))
    how = (f"{timed} of {cells} cells (one magnitude per architecture x depth, rotating), "
           f"{min(networks, settings.samples)} of {settings.samples} networks each, one round, scaled")
    return total, how


def _kernel_bound(settings, parts, device) -> float:
    """Seconds the kernels alone take for the job's networks (module doc), summed over its cells;
    at PROMOTED precision, the float32 forward plus the float64 one of the promoted networks."""
    measurer = Measurer(settings.seed, device)
    inputs = grid_points(settings.resolution)
    total = 0.0
    r = settings.resolution
    for cell in network_cells(settings, parts):
        spec = network_spec(*cell, settings)
        subject = cell_subject(spec)
        precision = _precision(settings, subject)
        params64 = sample_parameters(spec, settings.samples, measurer.seed(subject)).to(device)
        x64 = inputs.to(device)
        if precision == "float64":
            start = time.perf_counter()
            y = evaluate(spec, params64, x64)
        else:
            params32 = params64.to(dtype=torch.float32)
            start = time.perf_counter()
            y = evaluate(spec, params32, x64).to(torch.float64)
            if precision == PROMOTED:
                low = torch.nonzero(~(relative_spread(y) >= PROMOTE_BELOW)).flatten()
                if len(low):
                    y[low] = evaluate(spec, params64.select(low), x64)
        y = y.reshape(-1, r, r)
        for metric in settings.metrics:
            METRICS[metric](y)
        core.synchronize(device)
        total += time.perf_counter() - start
    return total


@pytest.mark.cases(CASES)
def test_end_to_end(bench, case, device):
    settings = case.settings if bench.timing else case.tiny
    if bench.timing:
        _job(case.tiny, case.parts, device)  # warm-up: numba kernels, cached metric weights
        load_before = os.getloadavg()[0]
    sweep = bench.run(lambda: _job(settings, case.parts, device), rounds=case.rounds if bench.timing else None,
                      warmup_rounds=0)
    cells = network_cells(settings, case.parts)
    assert len(sweep.records) == len(cells) + 1  # + the white-noise ceiling
    subject0 = cell_subject(network_spec(*cells[0], settings))
    if not bench.timing:
        in64 = dataclasses.replace(settings, dtype="float64")
        sweep64 = _job(in64, case.parts, device)
        checked = _check_cells(sweep64, in64, cells, lambda subject: _dtypes(in64, subject), "float64")
        assert checked == len(cells) * len(settings.metrics)
        # dtype auto: float64 is those numbers (but for MKL round-off: SAME_NUMBERS); float32 moves
        # the medians by at most what docs/performance.md measured (FLOAT32_MEDIANS)
        tolerance = SAME_NUMBERS if _precision(settings, subject0) == "float64" else None
        for cell in cells:
            for metric in settings.metrics:
                got, want = sweep.record(*cell)["metrics"][metric], sweep64.record(*cell)["metrics"][metric]
                assert got.keys() == want.keys() and got["flagged"] == want["flagged"], (cell, metric)
                allowed = tolerance if tolerance is not None else FLOAT32_MEDIANS[metric]
                for key in set(got) - {"n", "flagged"}:
                    assert abs(got[key] - want[key]) <= allowed * max(1.0, abs(want[key])), (cell, metric, key)
        return
    dtype_of = lambda subject: _dtypes(settings, subject)  # noqa: E731
    seconds, how = _reference_time(settings, case.parts, dtype_of, case.reference_networks, loader=True)
    reference = core.Reference("per-network torch.nn module, DataLoader batches of 16384, one-grid metric loops",
                               seconds, how)
    lean, _ = _reference_time(settings, case.parts, dtype_of, case.reference_networks, loader=False)
    bound = _kernel_bound(settings, case.parts, device)
    median = bench.benchmark.stats.stats.median
    networks = len(cells) * settings.samples
    precision = _precision(settings, subject0)
    bench.record(items=len(cells), unit="cells", reference=reference, networks=networks, metrics=list(settings.metrics),
                 precision=precision, lean_reference_s=lean, speedup_lean=lean / median, kernel_bound_s=bound,
                 pct_bound=100 * bound / median, ms_per_cell=1e3 * median / len(cells),
                 load_before=load_before, load_after=os.getloadavg()[0], rounds=case.rounds,
                 threads=torch.get_num_threads(), target=("speedup >= 10" if case.name == "public-heatmap"
                                                           else "pct_bound >= 50 and median_s <= 120"))
    assert math.isfinite(median)
