"""Sampler: n random networks evaluated on an R x R grid in one batched call
(redshift.networks.evaluate, one baddbmm per layer over the n networks), against the per-network
loop over torch.nn models that the public Neural Redshift code runs (reference_module: build the
nn.Sequential of network i, evaluate it on the grid)."""
import pytest
import torch

from bench import core
from bench.params import MEMORY_CASES, MEMORY_LIMIT_BYTES, SAMPLER_CASES, SEED
from redshift.networks import evaluate, grid_points, reference_module, sample_parameters

CHECKED = 2  # networks compared with their torch.nn reference


def _setup(case, device):
    spec = case.spec()
    dtype = core.DTYPE[case.dtype]
    params = sample_parameters(spec, case.batch, SEED, dtype).to(device)
    inputs = grid_points(case.grid).to(device=device, dtype=dtype)
    return spec, params, inputs, dtype


def _one_network(spec, params, inputs, i: int) -> torch.Tensor:
    with torch.no_grad():
        return reference_module(spec, params, i)(inputs)[:, 0]


def _check(bench, case, spec, params, inputs, dtype, y, checked=CHECKED) -> None:
    assert y.shape == (case.batch, case.points) and y.dtype == dtype
    expected = torch.stack([_one_network(spec, params, inputs, i) for i in range(checked)])
    core.assert_matches(y[:checked], expected, dtype, f"{bench.key} vs the torch.nn reference")


@pytest.mark.cases(SAMPLER_CASES)
def test_sampler(bench, case, device):
    spec, params, inputs, dtype = _setup(case, device)
    y = bench.run(lambda: evaluate(spec, params, inputs))
    _check(bench, case, spec, params, inputs, dtype, y)
    reference = bench.reference("per-network torch.nn loop", lambda i: _one_network(spec, params, inputs, i),
                                case.batch, "networks")
    bench.record(items=case.batch, unit="networks", flop=case.flop, reference=reference)


@pytest.mark.cases(MEMORY_CASES)
def test_sampler_memory(bench, case, device):
    """1024 networks at depth 7 on a 256^2 grid stay within MEMORY_LIMIT_BYTES: evaluate chunks
    the points, so only the [n, P] output (256 MiB here) grows with the grid. One timed call."""
    unavailable = core.PeakMemory.available(device)
    if unavailable:
        pytest.skip(unavailable)
    spec, params, inputs, dtype = _setup(case, device)
    with core.PeakMemory(device) as peak:
        y = bench.run(lambda: evaluate(spec, params, inputs), rounds=1, warmup_rounds=0)
    _check(bench, case, spec, params, inputs, dtype, y, checked=1)
    assert peak.bytes >= 0.9 * y.nbytes, (  # the output alone is live at the end: else the probe is broken
        f"measured peak {peak.bytes / 2**20:.0f} MiB < the {y.nbytes / 2**20:.0f} MiB output: memory probe failed")
    assert peak.bytes <= MEMORY_LIMIT_BYTES, (
        f"peak memory {peak.bytes / 2**20:.0f} MiB > {MEMORY_LIMIT_BYTES / 2**20:.0f} MiB for {bench.key}")
    bench.record(items=case.batch, unit="networks", flop=case.flop, peak_mib=peak.bytes / 2**20)
