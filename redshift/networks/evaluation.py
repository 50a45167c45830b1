"""Batched evaluation of n random networks on a set of points (Teney et al. 2024, §3: the MLPs of the complexity measurements).

Networks of different configurations evaluate in one batch when their shapes agree (``stack_key``):
their parameters are stacked along the network dimension (``sample_parameters_many``) and each
contiguous run of networks gets its own activation (``activations=((name, count), ...)``).
"""
import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor

from redshift.networks.activations import ACTIVATIONS
from redshift.networks.parameters import Parameters
from redshift.networks.spec import NetworkSpec

LN_EPS = 1e-5  # as torch.nn.LayerNorm
CHUNK_ALIGN = 64  # points; see evaluate
CPU_CHUNK_BYTES = 16 * 2**20  # see evaluate


def _gaussian_(x: Tensor) -> Tensor:
    return x.mul_(x).neg_().exp_()  # exp(-(x x)): the same numbers as exp(-x * x)


#: Activations applied in place by ``forward(..., inplace=True)``: the same numbers as ACTIVATIONS
#: (the same kernels; tests/test_networks.py checks it bit for bit, on whole tensors and on runs of
#: networks), without a new tensor.
INPLACE_ACTIVATIONS = {
    "relu": torch.relu_, "leaky_relu": lambda x: F.leaky_relu_(x, 0.01), "elu": F.elu_,
    "gelu": torch.ops.aten.gelu_, "swish": lambda x: F.silu(x, inplace=True),
    "silu": lambda x: F.silu(x, inplace=True), "selu": torch.selu_, "tanh": torch.tanh_,
    "sigmoid": torch.sigmoid_, "gaussian": _gaussian_, "sine": torch.sin_, "identity": lambda x: x,
}


def _runs(spec: NetworkSpec, n: int, activations: Sequence[tuple[str, int]] | None) -> tuple[tuple[str, int], ...]:
    if activations is None:
        return ((spec.hidden_activation, n),)
    runs = tuple((name, int(count)) for name, count in activations if count)
    if sum(count for _, count in runs) != n or any(name not in ACTIVATIONS for name, _ in runs):
        raise ValueError(f"activations {activations!r} must name known activations for all {n} networks")
    if spec.family == "unbiased" and any(name != "sine" for name, _ in runs):
        raise ValueError("the unbiased family's hidden activation is sine")
    return runs


def _activation(runs: tuple[tuple[str, int], ...], inplace: bool):
    """z [n, p, w] -> act(z), each run of networks with its own activation; in place when ``inplace``
    (then z itself is overwritten), else z is left as it was."""
    if len(runs) == 1 and not inplace:
        return ACTIVATIONS[runs[0][0]]
    if len(runs) == 1:
        return INPLACE_ACTIVATIONS.get(runs[0][0], ACTIVATIONS[runs[0][0]])

    def act(z: Tensor) -> Tensor:
        u = z if inplace else z.clone()
        start = 0
        for name, count in runs:
            part = u[start:start + count]
            if name in INPLACE_ACTIVATIONS:
                INPLACE_ACTIVATIONS[name](part)
            else:
                part.copy_(ACTIVATIONS[name](part))
            start += count
        return u

    return act


def buffered(spec: NetworkSpec) -> bool:
    """Whether ``forward`` can run ``spec`` in two preallocated buffers (``buffers``): plain layers
    z = h W + b, act(prefactor z), no layer norm, gate or skip."""
    return not (spec.layer_norm or spec.gated or spec.residual != "none")


def forward(spec: NetworkSpec, params: Parameters, x: Tensor, *, inplace: bool = False,
            activations: Sequence[tuple[str, int]] | None = None,
            buffers: tuple[Tensor, Tensor] | None = None) -> Tensor:
    """x [p, input_dim] shared by all networks, or [n, p, input_dim] one set per network -> y [n, p].

    Differentiable (training uses it); every matmul is one torch.baddbmm over the n networks.
    ``inplace`` (inference only, as in ``evaluate``): apply the activation in place when its input
    is not used again, saving a pass and an allocation per layer (4% of a width-64 ReLU forward).
    ``activations``: runs ((name, count), ...) of networks, in order, with their own activation
    (default: all n with the spec's), for networks of several specs of one ``stack_key``.
    ``buffers`` (with ``inplace``, for specs that are ``buffered``): two flat tensors of at least
    n p width elements that the hidden layers write into in turn (baddbmm ``out=``), so that a
    forward allocates nothing of that size: the same numbers, without the allocations and their
    page faults.
    """
    runs = _runs(spec, params.n, activations)
    if buffers is not None and not (inplace and buffered(spec)):
        raise ValueError("buffers need inplace=True and a spec without layer norm, gate or skip")
    act = _activation(runs, inplace and spec.residual != "activation")  # z is not read after the activation
    h = x if x.ndim == 3 else x.expand(params.n, *x.shape)
    for layer, (weight, bias) in enumerate(zip(params.weights, params.biases)):
        if buffers is not None:
            shape = (params.n, h.shape[1], weight.shape[-1])
            z = torch.baddbmm(bias.unsqueeze(1), h, weight, out=buffers[layer % 2][:math.prod(shape)].view(shape))
            h = act(z.mul_(spec.prefactor) if spec.prefactor != 1.0 else z)
            continue
        z = torch.baddbmm(bias.unsqueeze(1), h, weight)
        if spec.layer_norm:
            z = F.layer_norm(z, z.shape[-1:], eps=LN_EPS)
            if spec.ln_gain != 1.0:
                z = spec.ln_gain * z
        u = act(spec.prefactor * z if spec.prefactor != 1.0 else z)
        if spec.gated:
            gate = torch.baddbmm(params.gate_biases[layer].unsqueeze(1), h, params.gate_weights[layer])
            u = u * torch.sigmoid(gate)
        if spec.residual == "activation":
            h = z + u
        elif spec.residual == "layer" and layer > 0:
            h = h + u
        else:
            h = u
    # Output layer y = h w + b as a product and a sum over the width: as a [n, p, w] x [n, w, 1]
    # baddbmm it is a batched GEMV that MKL runs 3x slower (a third of the time of a width-64
    # hidden layer, measured); each point's sum runs over w in the same order for any chunk.
    w_out = params.out_weight.transpose(1, 2)
    product = h.mul_(w_out) if inplace and h is not x else h * w_out
    return product.sum(-1) + params.out_bias


def _slice_runs(runs: tuple[tuple[str, int], ...], start: int, stop: int) -> tuple[tuple[str, int], ...]:
    """The runs of networks start..stop-1."""
    out, offset = [], 0
    for name, count in runs:
        lo, hi = max(offset, start), min(offset + count, stop)
        if hi > lo:
            out.append((name, hi - lo))
        offset += count
    return tuple(out)


@torch.no_grad()
def evaluate(spec: NetworkSpec, params: Parameters, inputs: Tensor, *, chunk_points: int | None = None,
             max_chunk_bytes: int = 256 * 2**20, activations: Sequence[tuple[str, int]] | None = None,
             network_block: int | None = None) -> Tensor:
    """Outputs [n, P] of the n networks at inputs [P, input_dim], on the parameters' device and dtype.

    Per hidden layer l:  z = h W_l + b_l;  z <- ln_gain * LN(z) if layer_norm;  u = act(prefactor z);
    u <- u * sigmoid(h W'_l + b'_l) if gated;  h = u | z + u (residual "activation") | h + u
    (residual "layer", l > 1). Then y = h w_out + b_out. ``activations``: see ``forward``.

    Points go through in chunks of ``chunk_points``, by default as many as keep the live
    [n, chunk, width] tensors within ``max_chunk_bytes``, and on CPU within CPU_CHUNK_BYTES too:
    bigger temporaries are fresh mmap allocations that page-fault on every op (measured 2x slower
    for 32 width-64 networks on a 64x64 grid, single thread). Chunks are rounded down to a multiple of
    CHUNK_ALIGN points (at least one) and the points are zero-padded to one, so every matmul sees
    whole BLAS register tiles: a row in a partial tile, or in a matmul small enough for torch's
    naive kernel, is summed in another order. The outputs then do not depend on the chunk size
    (bitwise on CPU/MKL for width >= 7, tested). They may change with n at round-off level (seen:
    1.8e-15 between n = 1 and n = 4 at width 8 on a 128^2 grid); cuBLAS may pick kernels by size.
    When even CHUNK_ALIGN points of all n networks exceed the budget (many networks stacked from
    several configurations), the networks go through in blocks of ``network_block`` (default: as
    many as fit); a network's outputs do not depend on its block (tested bitwise on CPU).
    """
    x = inputs.to(device=params.out_bias.device, dtype=params.out_bias.dtype)
    if x.ndim != 2 or x.shape[1] != spec.input_dim:
        raise ValueError(f"inputs must be [P, {spec.input_dim}], got {list(x.shape)}")
    hidden_layers = 1 if spec.family == "unbiased" else spec.depth
    if len(params.weights) != hidden_layers or bool(params.gate_weights) != spec.gated:
        raise ValueError(f"parameters do not match the spec {spec.label()}")
    runs = _runs(spec, params.n, activations)
    width = max(w.shape[-1] for w in params.weights)
    live = 6 if spec.gated else 4  # [n, chunk, width] tensors alive at once: h, z, act input, u (+2 gate)
    budget = min(max_chunk_bytes, CPU_CHUNK_BYTES) if x.device.type == "cpu" else max_chunk_bytes
    per_point = width * x.element_size() * live  # bytes per network and point
    if network_block is None:
        network_block = params.n if chunk_points is not None else max(1, budget // (per_point * CHUNK_ALIGN))
    network_block = max(1, min(network_block, params.n))
    if chunk_points is None:
        chunk_points = budget // (network_block * per_point)
    chunk_points = max(1, chunk_points // CHUNK_ALIGN) * CHUNK_ALIGN
    points = x.shape[0]
    x = torch.cat([x, x.new_zeros(-points % CHUNK_ALIGN, x.shape[1])])
    out = torch.empty(params.n, x.shape[0], device=x.device, dtype=x.dtype)
    buffers = None
    if buffered(spec):  # the hidden layers write into two buffers in turn: no allocation per layer
        size = min(network_block, params.n) * min(chunk_points, x.shape[0]) * width
        buffers = (x.new_empty(size), x.new_empty(size))
    for first in range(0, params.n, network_block):
        last = min(first + network_block, params.n)
        block = params if (first, last) == (0, params.n) else params.select(slice(first, last))
        block_runs = _slice_runs(runs, first, last)
        for start in range(0, x.shape[0], chunk_points):
            out[first:last, start:start + chunk_points] = forward(spec, block, x[start:start + chunk_points],
                                                                  inplace=True, activations=block_runs,
                                                                  buffers=buffers)
    return out[:, :points].contiguous()
