"""Random parameters of n networks, drawn from one seeded CPU generator and stacked (notes §2.1; §4 item 3).

Draw order (fixed: changing it changes every seeded network). Networks are drawn one after another,
so the first k of n networks equal the k networks drawn with n = k. Within an "mlp" network, for
each hidden layer in turn: W [fan_in, fan_out], b [fan_out], then W', b' if gated; then the output
layer w [width, 1], b [1]. Within an "unbiased" network: amplitudes a [K], then phases phi [K].
All draws are float64 on CPU (torch.rand / torch.randn), cast to ``dtype`` afterwards, so every
device and dtype sees the same networks.

Unit samples are drawn first and scaled last, W = scale * (base * unit), so scale c gives exactly
c times the weights of scale 1 (and biases too when bias_scale is tied).
"""
import math
from dataclasses import dataclass, fields

import torch
from torch import Tensor

from redshift.networks.spec import UNIFORM_SCHEMES, NetworkSpec, WeightSpec


@dataclass(frozen=True)
class Parameters:
    """Stacked parameters of n networks; hidden layer l maps h [n, P, fan_in] to h W_l + b_l."""

    weights: tuple[Tensor, ...]       # per hidden layer [n, fan_in, fan_out]
    biases: tuple[Tensor, ...]        # per hidden layer [n, fan_out]
    gate_weights: tuple[Tensor, ...]  # W' per hidden layer when gated, else ()
    gate_biases: tuple[Tensor, ...]   # b' per hidden layer when gated, else ()
    out_weight: Tensor                # [n, width, 1]
    out_bias: Tensor                  # [n, 1]

    @property
    def n(self) -> int:
        return self.out_bias.shape[0]

    def to(self, device: torch.device | str | None = None, dtype: torch.dtype | None = None) -> "Parameters":
        def move(value):
            if isinstance(value, tuple):
                return tuple(t.to(device=device, dtype=dtype) for t in value)
            return value.to(device=device, dtype=dtype)
        return Parameters(**{f.name: move(getattr(self, f.name)) for f in fields(self)})


def half_plane_frequencies(max_frequency: int) -> Tensor:
    """Integer k = (k1, k2) with 0 < |k| <= max_frequency (Euclidean) and k1 > 0 or (k1 = 0, k2 > 0):
    one of each pair +-k. [M, 2] float64, k1-major then k2 ascending."""
    r = torch.arange(-max_frequency, max_frequency + 1)
    k1, k2 = (m.reshape(-1) for m in torch.meshgrid(r, r, indexing="ij"))
    keep = (k1 * k1 + k2 * k2 <= max_frequency**2) & ((k1 > 0) | ((k1 == 0) & (k2 > 0)))
    return torch.stack([k1[keep], k2[keep]], dim=-1).to(torch.float64)


def unit_draw(scheme: str, shape: tuple[int, ...], generator: torch.Generator) -> Tensor:
    """U(-1, 1) for the uniform schemes, N(0, 1) for the normal ones."""
    if scheme in UNIFORM_SCHEMES:
        return 2 * torch.rand(shape, generator=generator, dtype=torch.float64) - 1
    return torch.randn(shape, generator=generator, dtype=torch.float64)


def scheme_scale(scheme: str, fan_in: int, fan_out: int) -> float:
    """Bound or std at scale 1: sqrt(6 / (fan_in + fan_out)) for Glorot, 1 / sqrt(fan_in) for fan_in_normal."""
    if scheme == "glorot_uniform":
        return math.sqrt(6.0 / (fan_in + fan_out))
    if scheme == "fan_in_normal":
        return 1.0 / math.sqrt(fan_in)
    return 1.0


def _linear(w: WeightSpec, fan_in: int, fan_out: int, generator: torch.Generator) -> tuple[Tensor, Tensor]:
    weight = w.scale * (scheme_scale(w.scheme, fan_in, fan_out) * unit_draw(w.scheme, (fan_in, fan_out), generator))
    bias_scale = w.scale if w.bias_scale is None else w.bias_scale
    return weight, bias_scale * unit_draw(w.scheme, (fan_out,), generator)


def _draw_mlp(spec: NetworkSpec, generator: torch.Generator) -> tuple:
    weights, biases, gate_weights, gate_biases = [], [], [], []
    fan_in = spec.input_dim
    for _ in range(spec.depth):
        w, b = _linear(spec.weights, fan_in, spec.width, generator)
        weights.append(w)
        biases.append(b)
        if spec.gated:
            w, b = _linear(spec.weights, fan_in, spec.width, generator)
            gate_weights.append(w)
            gate_biases.append(b)
        fan_in = spec.width
    return weights, biases, gate_weights, gate_biases, *_linear(spec.weights, spec.width, 1, generator)


def _draw_unbiased(spec: NetworkSpec, generator: torch.Generator) -> tuple:
    """One sine layer with fixed input weights pi k (k in half_plane_frequencies), biases phi_k ~
    U(0, 2 pi) and output weights a_k ~ U(-scale, scale); zero output bias."""
    k = half_plane_frequencies(spec.max_frequency)
    amplitudes = spec.weights.scale * (2 * torch.rand(len(k), generator=generator, dtype=torch.float64) - 1)
    phases = 2 * math.pi * torch.rand(len(k), generator=generator, dtype=torch.float64)
    return [math.pi * k.T], [phases], [], [], amplitudes[:, None], torch.zeros(1, dtype=torch.float64)


def sample_parameters(spec: NetworkSpec, n: int, seed: int, dtype: torch.dtype = torch.float64) -> Parameters:
    """n independent networks from torch.Generator().manual_seed(seed), on CPU (draw order: module doc)."""
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"n must be a positive integer, got {n!r}")
    generator = torch.Generator().manual_seed(seed)
    draw = _draw_unbiased if spec.family == "unbiased" else _draw_mlp
    networks = [draw(spec, generator) for _ in range(n)]
    weights, biases, gate_weights, gate_biases, out_weight, out_bias = zip(*networks)

    def stack_layers(per_network) -> tuple[Tensor, ...]:
        return tuple(torch.stack(layer).to(dtype) for layer in zip(*per_network))

    return Parameters(
        weights=stack_layers(weights), biases=stack_layers(biases),
        gate_weights=stack_layers(gate_weights), gate_biases=stack_layers(gate_biases),
        out_weight=torch.stack(out_weight).to(dtype), out_bias=torch.stack(out_bias).to(dtype),
    )
