"""Batched evaluation of n random networks on a set of points (notes §2.1; §4 item 3)."""
import torch
import torch.nn.functional as F
from torch import Tensor

from redshift.networks.activations import ACTIVATIONS
from redshift.networks.parameters import Parameters
from redshift.networks.spec import NetworkSpec

LN_EPS = 1e-5  # as torch.nn.LayerNorm
CHUNK_ALIGN = 64  # points; see evaluate
CPU_CHUNK_BYTES = 16 * 2**20  # see evaluate


#: Activations applied in place by ``forward(..., inplace=True)`` (same values, no new tensor).
INPLACE_ACTIVATIONS = {"relu": torch.relu_, "tanh": torch.tanh_, "sigmoid": torch.sigmoid_, "sine": torch.sin_}


def forward(spec: NetworkSpec, params: Parameters, x: Tensor, *, inplace: bool = False) -> Tensor:
    """x [p, input_dim] shared by all networks, or [n, p, input_dim] one set per network -> y [n, p].

    Differentiable (training uses it); every matmul is one torch.baddbmm over the n networks.
    ``inplace`` (inference only, as in ``evaluate``): apply the activation in place when its input
    is not used again, saving a pass and an allocation per layer (4% of a width-64 ReLU forward).
    """
    act = ACTIVATIONS[spec.hidden_activation]
    if inplace and spec.hidden_activation in INPLACE_ACTIVATIONS and spec.residual != "activation":
        act = INPLACE_ACTIVATIONS[spec.hidden_activation]  # z is not read after the activation
    h = x if x.ndim == 3 else x.expand(params.n, *x.shape)
    for layer, (weight, bias) in enumerate(zip(params.weights, params.biases)):
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
    return (h * params.out_weight.transpose(1, 2)).sum(-1) + params.out_bias


@torch.no_grad()
def evaluate(spec: NetworkSpec, params: Parameters, inputs: Tensor, *, chunk_points: int | None = None,
             max_chunk_bytes: int = 256 * 2**20) -> Tensor:
    """Outputs [n, P] of the n networks at inputs [P, input_dim], on the parameters' device and dtype.

    Per hidden layer l:  z = h W_l + b_l;  z <- ln_gain * LN(z) if layer_norm;  u = act(prefactor z);
    u <- u * sigmoid(h W'_l + b'_l) if gated;  h = u | z + u (residual "activation") | h + u
    (residual "layer", l > 1). Then y = h w_out + b_out.

    Points go through in chunks of ``chunk_points``, by default as many as keep the live
    [n, chunk, width] tensors within ``max_chunk_bytes``, and on CPU within CPU_CHUNK_BYTES too:
    bigger temporaries are fresh mmap allocations that page-fault on every op (measured 2x slower
    for 32 width-64 networks on a 64x64 grid, single thread). Chunks are rounded down to a multiple of
    CHUNK_ALIGN points (at least one) and the points are zero-padded to one, so every matmul sees
    whole BLAS register tiles: a row in a partial tile, or in a matmul small enough for torch's
    naive kernel, is summed in another order. The outputs then do not depend on the chunk size
    (bitwise on CPU/MKL for width >= 7, tested). They may change with n at round-off level (seen:
    1.8e-15 between n = 1 and n = 4 at width 8 on a 128^2 grid); cuBLAS may pick kernels by size.
    """
    x = inputs.to(device=params.out_bias.device, dtype=params.out_bias.dtype)
    if x.ndim != 2 or x.shape[1] != spec.input_dim:
        raise ValueError(f"inputs must be [P, {spec.input_dim}], got {list(x.shape)}")
    hidden_layers = 1 if spec.family == "unbiased" else spec.depth
    if len(params.weights) != hidden_layers or bool(params.gate_weights) != spec.gated:
        raise ValueError(f"parameters do not match the spec {spec.label()}")
    if chunk_points is None:
        width = max(w.shape[-1] for w in params.weights)
        live = 6 if spec.gated else 4  # [n, chunk, width] tensors alive at once: h, z, act input, u (+2 gate)
        budget = min(max_chunk_bytes, CPU_CHUNK_BYTES) if x.device.type == "cpu" else max_chunk_bytes
        chunk_points = budget // (params.n * width * x.element_size() * live)
    chunk_points = max(1, chunk_points // CHUNK_ALIGN) * CHUNK_ALIGN
    points = x.shape[0]
    x = torch.cat([x, x.new_zeros(-points % CHUNK_ALIGN, x.shape[1])])
    out = torch.empty(params.n, x.shape[0], device=x.device, dtype=x.dtype)
    for start in range(0, x.shape[0], chunk_points):
        out[:, start:start + chunk_points] = forward(spec, params, x[start:start + chunk_points], inplace=True)
    return out[:, :points].contiguous()
