"""Sample random networks and evaluate them in one call (Teney et al. 2024, §3).

``sample_grid_many`` samples several configurations at once: requests whose specs share a
``stack_key`` (same depth, width, input_dim and variant flags; any activations, weight scales and
seeds) are drawn each from its own seed, exactly as ``sample_grid`` draws them, stacked along the
network dimension and evaluated in one batched forward, activations applied per run of networks.
"""
from collections.abc import Sequence

import torch
from torch import Tensor

from redshift.networks.evaluation import evaluate
from redshift.networks.grid import grid_points
from redshift.networks.parameters import sample_parameters, sample_parameters_many
from redshift.networks.spec import NetworkSpec, stack_key

#: Networks evaluated in one batched forward by sample_grid_many at most (whole requests: a request
#: with more networks goes alone). Stacking beyond a few hundred networks saves nothing more.
MAX_STACKED_NETWORKS = 1024
#: ... and at most this many bytes of outputs per forward.
MAX_STACKED_BYTES = 512 * 2**20


def relative_spread(y: Tensor) -> Tensor:
    """Per network, std / (|mean| + std) of its outputs over the points (float64; NaN where not finite):
    below ~1e-3, float32's round-off (6e-8 of |mean|) is a visible part of the network's variation."""
    y = y.to(torch.float64)
    std, mean = torch.std_mean(y.flatten(1), dim=1, correction=0)
    return std / (mean.abs() + std)


def _runs_of(names: list[str]) -> list[tuple[str, int]]:
    runs: list[tuple[str, int]] = []
    for name in names:
        if runs and runs[-1][0] == name:
            runs[-1] = (name, runs[-1][1] + 1)
        else:
            runs.append((name, 1))
    return runs


def sample_functions(spec: NetworkSpec, n: int, seed: int, inputs: Tensor, *, device: torch.device | str = "cpu",
                     dtype: torch.dtype = torch.float64, max_chunk_bytes: int = 256 * 2**20) -> Tensor:
    """[n, P] outputs of n networks drawn with ``seed`` (on CPU), moved to ``device``, at inputs [P, input_dim]."""
    params = sample_parameters(spec, n, seed, dtype).to(device)
    return evaluate(spec, params, inputs, max_chunk_bytes=max_chunk_bytes)


def _check_grid_spec(spec: NetworkSpec) -> None:
    if spec.input_dim != 2:
        raise ValueError(f"sample_grid needs input_dim 2, got {spec.input_dim} ({spec.label()})")


def sample_grid(spec: NetworkSpec, n: int, seed: int, resolution: int = 64, *, device: torch.device | str = "cpu",
                dtype: torch.dtype = torch.float64, max_chunk_bytes: int = 256 * 2**20) -> Tensor:
    """[n, resolution, resolution] outputs on grid_points(resolution) in [-1, 1]^2; [:, i, j] is at (x_i, x_j)."""
    _check_grid_spec(spec)
    inputs = grid_points(resolution, 2)
    y = sample_functions(spec, n, seed, inputs, device=device, dtype=dtype, max_chunk_bytes=max_chunk_bytes)
    return y.reshape(n, resolution, resolution)


def stacked_batches(requests: Sequence[tuple[NetworkSpec, int, int]], points: int, element_size: int = 8,
                    max_networks: int = MAX_STACKED_NETWORKS, max_bytes: int = MAX_STACKED_BYTES) -> list[list[int]]:
    """Request indices in batches that one forward evaluates: one ``stack_key`` per batch, requests of
    one activation adjacent (so each activation is one run), at most ``max_networks`` networks and
    ``max_bytes`` of outputs per batch unless a single request is larger. Batches in order of first
    appearance of their key."""
    groups: dict[tuple, list[int]] = {}
    for i, (spec, _, _) in enumerate(requests):
        groups.setdefault(stack_key(spec), []).append(i)
    limit = max(1, min(max_networks, max_bytes // max(1, points * element_size)))
    batches = []
    for indices in groups.values():
        order = {}
        for i in indices:  # activations in order of first appearance, requests in order within one
            order.setdefault(requests[i][0].hidden_activation, []).append(i)
        batch, size = [], 0
        for i in (i for same in order.values() for i in same):
            n = requests[i][1]
            if batch and size + n > limit:
                batches.append(batch)
                batch, size = [], 0
            batch.append(i)
            size += n
        if batch:
            batches.append(batch)
    return batches


def sample_grid_many(requests: Sequence[tuple[NetworkSpec, int, int]], resolution: int = 64, *,
                     device: torch.device | str = "cpu", dtype: torch.dtype = torch.float64,
                     max_chunk_bytes: int = 256 * 2**20, max_networks: int = MAX_STACKED_NETWORKS,
                     promote_below: float | None = None) -> list[Tensor]:
    """Per request (spec, n, seed), the [n, resolution, resolution] outputs of ``sample_grid(spec, n,
    seed, resolution)``: the same networks (each request drawn from its own seed), evaluated with the
    requests of the same ``stack_key`` in one batched forward per ``stacked_batches`` batch. In
    float64 on CPU the outputs equal sample_grid's bit for bit (MKL computes each network's matmuls
    alike in any batch; tests/test_networks.py checks it); elsewhere they may differ at round-off.

    ``promote_below`` (with a dtype narrower than float64): networks whose outputs have a
    ``relative_spread`` below it (or non-finite outputs) are evaluated again in float64, and the
    outputs are float64 tensors: float32 values for the other networks, float64 ones for those
    (nearly constant functions, whose float32 round-off would pass for structure)."""
    requests = [(spec, int(n), seed) for spec, n, seed in requests]
    for spec, _, _ in requests:
        _check_grid_spec(spec)
    inputs = grid_points(resolution, 2)
    out: list[Tensor | None] = [None] * len(requests)
    element_size = torch.empty((), dtype=dtype).element_size()
    promote = promote_below is not None and dtype != torch.float64
    for batch in stacked_batches(requests, resolution * resolution, element_size, max_networks):
        chosen = [requests[i] for i in batch]
        params64 = sample_parameters_many(chosen, torch.float64)
        params = params64.to(device=device, dtype=dtype)  # = sample_parameters_many(chosen, dtype): a cast
        runs = [(spec.hidden_activation, n) for spec, n, _ in chosen]
        y = evaluate(chosen[0][0], params, inputs, max_chunk_bytes=max_chunk_bytes, activations=runs)
        if promote:
            y = y.to(torch.float64)
            spread = relative_spread(y)
            low = torch.nonzero(~(spread >= promote_below)).flatten().cpu()  # NaN too
            if len(low):
                names = [spec.hidden_activation for spec, n, _ in chosen for _ in range(n)]
                again = params64.select(low).to(device=device)
                y[low.to(y.device)] = evaluate(chosen[0][0], again, inputs, max_chunk_bytes=max_chunk_bytes,
                                               activations=_runs_of([names[i] for i in low.tolist()]))
        start = 0
        for i, (_, n, _) in zip(batch, chosen):
            out[i] = y[start:start + n].reshape(n, resolution, resolution).clone()  # not a view: frees y
            start += n
    return out
