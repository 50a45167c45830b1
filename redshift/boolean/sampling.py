"""Batched sampling of Boolean functions: M random MLPs at once on all 2^n points of the cube.

Parameters are drawn on the CPU from ``torch.Generator().manual_seed(seed)`` in float64, one
``torch.randn`` call per weight tensor and per bias tensor, in the order W_1, b_1, ..., W_L, b_L,
w_out, b_out, each [M, ...] for all M networks of the replicate at once; they are then cast to the
run's dtype and moved to its device. The forward pass is batched over networks (``torch.matmul`` for
the shared input layer, ``torch.baddbmm`` after it): no Python loop over networks or points. Truth
tables (output > 0) are packed into uint64 words and counted with ``np.unique``
(redshift.boolean.functions). This module imports torch; the source binds it lazily.
"""
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from redshift.boolean.functions import FunctionCounts, count_functions, pack_bits, words_per_table
from redshift.boolean.spec import BooleanSpec
from redshift.networks.activations import ACTIVATIONS
from redshift.seeding import derive_seed

#: Hidden activations held at once by the forward pass ([chunk, 2^n, width] per tensor, a few alive);
#: the networks of a replicate are evaluated in chunks of at most this many bytes (the results do not
#: depend on the chunking: every network is computed on its own slice).
CHUNK_BYTES = 128 * 2**20


def cube(input_dim: int, inputs: str = "binary", dtype: torch.dtype = torch.float64) -> Tensor:
    """[2^n, n] rows of {0,1}^n in lexicographic order (row j is j in binary, x_1 the most significant
    bit), or the same rows in {-1,1}^n (0 -> -1) for ``inputs='signed'``."""
    j = torch.arange(2 ** input_dim, dtype=torch.int64)
    shifts = torch.arange(input_dim - 1, -1, -1, dtype=torch.int64)
    bits = ((j[:, None] >> shifts[None, :]) & 1).to(dtype)
    return 2 * bits - 1 if inputs == "signed" else bits


@dataclass(frozen=True)
class MLPParameters:
    """Parameters of M networks: ``weights[l]`` [M, fan_in, fan_out] (x @ W convention; the last is
    the output layer, fan_out 1) and ``biases[l]`` [M, fan_out]."""

    weights: tuple[Tensor, ...]
    biases: tuple[Tensor, ...]

    @property
    def n(self) -> int:
        return self.weights[0].shape[0]

    def to(self, device, dtype: torch.dtype) -> "MLPParameters":
        return MLPParameters(tuple(w.to(device, dtype) for w in self.weights), tuple(b.to(device, dtype) for b in self.biases))

    def slice(self, start: int, stop: int) -> "MLPParameters":
        return MLPParameters(tuple(w[start:stop] for w in self.weights), tuple(b[start:stop] for b in self.biases))


def draw_parameters(spec: BooleanSpec, networks: int, seed: int) -> MLPParameters:
    """float64 CPU parameters of ``networks`` MLPs of ``spec`` from ``seed``: W ~ N(0, sigma_w^2 / fan_in),
    b ~ N(0, sigma_b^2), one ``torch.randn`` call per tensor, layer by layer (weights, then biases)."""
    generator = torch.Generator().manual_seed(int(seed))
    widths = [spec.input_dim] + [spec.width] * spec.depth + [1]
    weights, biases = [], []
    for fan_in, fan_out in zip(widths, widths[1:]):
        w = torch.randn((networks, fan_in, fan_out), generator=generator, dtype=torch.float64)
        b = torch.randn((networks, fan_out), generator=generator, dtype=torch.float64)
        weights.append(w.mul_(spec.sigma_w / fan_in ** 0.5))
        biases.append(b.mul_(spec.sigma_b))
    return MLPParameters(tuple(weights), tuple(biases))


#: Activations applied in place to the fresh pre-activation tensors (same values, no new tensor: on a
#: busy CPU, faulting in a new [chunk, P, width] tensor costs as much as computing it).
INPLACE_ACTIVATIONS = {"relu": torch.relu_, "tanh": torch.tanh_, "sigmoid": torch.sigmoid_, "sine": torch.sin_}


def forward(params: MLPParameters, x: Tensor, activation: str) -> Tensor:
    """[M, P] scalar outputs of the M networks at the P points ``x`` [P, n] (same dtype and device)."""
    act = INPLACE_ACTIVATIONS.get(activation, ACTIVATIONS[activation])
    *hidden, (w_out, b_out) = zip(params.weights, params.biases)
    (w, b), rest = hidden[0], hidden[1:]
    h = act(torch.matmul(x, w).add_(b[:, None, :]))  # [M, P, width]: the inputs are shared by all networks
    for w, b in rest:
        h = act(torch.baddbmm(b[:, None, :], h, w))
    return torch.baddbmm(b_out[:, None, :], h, w_out)[..., 0]


def chunk_networks(spec: BooleanSpec, dtype: torch.dtype) -> int:
    """Networks per forward chunk: CHUNK_BYTES over one network's hidden activations (at least 1)."""
    per_network = spec.points * spec.width * torch.finfo(dtype).bits // 8 * 3
    return max(1, CHUNK_BYTES // per_network)


def truth_tables(spec: BooleanSpec, seed: int, dtype: torch.dtype = torch.float64, device: str = "cpu",
                 chunk: int | None = None) -> np.ndarray:
    """[M, words] uint64 packed truth tables of one replicate (M = spec.networks) drawn from ``seed``."""
    m = spec.networks
    if spec.model == "uniform":  # every bit an independent fair coin: uniformly random 2^n-bit words
        rng = np.random.default_rng(seed)
        words = rng.integers(0, 2**64, size=(m, words_per_table(spec.input_dim)), dtype=np.uint64, endpoint=False)
        if spec.points < 64:  # keep only the table's bits (the high bits of the one word, see pack_bits)
            words &= np.uint64(((1 << spec.points) - 1) << (64 - spec.points))
        return words
    params = draw_parameters(spec, m, seed)
    x = cube(spec.input_dim, spec.inputs, dtype).to(device)
    chunk = chunk or chunk_networks(spec, dtype)
    packed = []
    for start in range(0, m, chunk):  # each chunk cast and moved on its own: no second copy of all parameters
        bits = forward(params.slice(start, start + chunk).to(device, dtype), x, spec.activation) > 0
        packed.append(pack_bits(bits.cpu().numpy()))
    return np.concatenate(packed)


def replicate_seed(seed: int, index: int) -> int:
    """Replicate i's seed: from the subject's seed and i alone (never from how many are drawn)."""
    return derive_seed(seed, index)


def sample_counts(spec: BooleanSpec, n: int, seed: int, dtype: torch.dtype = torch.float64,
                  device: str = "cpu") -> tuple[FunctionCounts, ...]:
    """n independent replicates: the distinct functions of each and how many networks compute them."""
    return tuple(count_functions(truth_tables(spec, replicate_seed(seed, i), dtype, device), spec.input_dim)
                 for i in range(n))
