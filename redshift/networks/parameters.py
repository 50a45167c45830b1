"""Random parameters of n networks, drawn from one seeded CPU generator and stacked (Teney et al. 2024, §3).

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

    def select(self, index) -> "Parameters":
        """The networks at ``index`` (a slice: views; an index tensor: copies), in that order."""
        def pick(value):
            return tuple(t[index] for t in value) if isinstance(value, tuple) else value[index]
        return Parameters(**{f.name: pick(getattr(self, f.name)) for f in fields(self)})


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


BIAS_FIELDS = ("biases", "gate_biases", "out_bias")


def _mlp_layout(spec: NetworkSpec) -> list[tuple[str, tuple[int, ...], float]]:
    """The uniform draws of one "mlp" network in draw order: (field, shape, factor), where the
    parameter is ``factor * (scheme bound * U(-1, 1))`` (weights) or ``factor * U(-1, 1)`` (biases);
    fields are those of Parameters, one entry per layer."""
    w = spec.weights
    bias_scale = w.scale if w.bias_scale is None else w.bias_scale
    layout = []
    fan_in = spec.input_dim
    for _ in range(spec.depth):
        for field in (("weights", "biases"), ("gate_weights", "gate_biases"))[: 1 + spec.gated]:
            layout.append((field[0], (fan_in, spec.width), scheme_scale(w.scheme, fan_in, spec.width)))
            layout.append((field[1], (spec.width,), bias_scale))
        fan_in = spec.width
    layout.append(("out_weight", (spec.width, 1), scheme_scale(w.scheme, spec.width, 1)))
    layout.append(("out_bias", (1,), bias_scale))
    return layout


def _draw_mlp_uniform(spec: NetworkSpec, n: int, generator: torch.Generator) -> dict[str, list[Tensor]]:
    """All n networks of a uniform scheme from one torch.rand call: the same numbers, bit for bit, as
    the per-layer draws of ``_draw_mlp`` (torch draws CPU float64 uniforms one 53-bit number after
    another, so one draw of a + b values is a draw of a then b: tests/test_networks.py checks it
    against the per-layer oracle), the same arithmetic per element, about 20x fewer calls."""
    layout = _mlp_layout(spec)
    sizes = [math.prod(shape) for _, shape, _ in layout]
    units = 2 * torch.rand((n, sum(sizes)), generator=generator, dtype=torch.float64) - 1
    scale = spec.weights.scale
    out: dict[str, list[Tensor]] = {f.name: [] for f in fields(Parameters)}
    start = 0
    for (name, shape, factor), size in zip(layout, sizes):
        unit = units[:, start:start + size].reshape(n, *shape)
        start += size
        if name in BIAS_FIELDS:
            value = factor * unit
        else:
            value = scale * (factor * unit)
        out[name].append(value.contiguous())
    return out


def _draw_unbiased(spec: NetworkSpec, generator: torch.Generator) -> tuple:
    """One sine layer with fixed input weights pi k (k in half_plane_frequencies), biases phi_k ~
    U(0, 2 pi) and output weights a_k ~ U(-scale, scale); zero output bias."""
    k = half_plane_frequencies(spec.max_frequency)
    amplitudes = spec.weights.scale * (2 * torch.rand(len(k), generator=generator, dtype=torch.float64) - 1)
    phases = 2 * math.pi * torch.rand(len(k), generator=generator, dtype=torch.float64)
    return [math.pi * k.T], [phases], [], [], amplitudes[:, None], torch.zeros(1, dtype=torch.float64)


def _draw_unbiased_batch(spec: NetworkSpec, n: int, generator: torch.Generator) -> dict[str, list[Tensor]]:
    """n unbiased networks from one torch.rand call (amplitudes then phases, network by network, as
    ``_draw_unbiased``; the same numbers bit for bit)."""
    k = half_plane_frequencies(spec.max_frequency)
    units = torch.rand((n, 2 * len(k)), generator=generator, dtype=torch.float64)
    amplitudes = spec.weights.scale * (2 * units[:, :len(k)] - 1)
    phases = 2 * math.pi * units[:, len(k):]
    return {"weights": [(math.pi * k.T).expand(n, *k.T.shape).contiguous()], "biases": [phases.contiguous()],
            "gate_weights": [], "gate_biases": [], "out_weight": [amplitudes[:, :, None].contiguous()],
            "out_bias": [torch.zeros(n, 1, dtype=torch.float64)]}


def _draw_stacked(spec: NetworkSpec, n: int, seed: int) -> dict[str, list[Tensor]]:
    """n networks from torch.Generator().manual_seed(seed), float64 on CPU, as {Parameters field: per
    layer [n, ...]} (one entry for out_weight and out_bias)."""
    generator = torch.Generator().manual_seed(seed)
    if spec.family == "unbiased":
        return _draw_unbiased_batch(spec, n, generator)
    if spec.weights.scheme in UNIFORM_SCHEMES:
        return _draw_mlp_uniform(spec, n, generator)
    # Normal schemes draw layer by layer: torch.randn fills blocks of 16 values at once, so its
    # numbers depend on how the draws are split.
    networks = [_draw_mlp(spec, generator) for _ in range(n)]
    names = [f.name for f in fields(Parameters)]
    out = {}
    for name, per_network in zip(names, zip(*networks)):
        if name.startswith("out_"):
            out[name] = [torch.stack(per_network)]
        else:
            out[name] = [torch.stack(layer) for layer in zip(*per_network)]
    return out


def _check_n(n) -> None:
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"n must be a positive integer, got {n!r}")


def _assemble(draws: list[dict[str, list[Tensor]]], dtype: torch.dtype) -> Parameters:
    def join(parts: list[Tensor]) -> Tensor:
        return (parts[0] if len(parts) == 1 else torch.cat(parts)).to(dtype)

    values = {}
    for f in fields(Parameters):
        layers = [d[f.name] for d in draws]
        if f.name.startswith("out_"):
            values[f.name] = join([layer[0] for layer in layers])
        else:
            values[f.name] = tuple(join(list(parts)) for parts in zip(*layers))
    return Parameters(**values)


def sample_parameters(spec: NetworkSpec, n: int, seed: int, dtype: torch.dtype = torch.float64) -> Parameters:
    """n independent networks from torch.Generator().manual_seed(seed), on CPU (draw order: module doc)."""
    _check_n(n)
    return _assemble([_draw_stacked(spec, n, seed)], dtype)


def sample_parameters_many(requests, dtype: torch.dtype = torch.float64) -> Parameters:
    """The networks of several (spec, n, seed) requests stacked along the network dimension, in
    request order: request i's networks are exactly ``sample_parameters(spec_i, n_i, seed_i)`` (each
    from its own generator), so one batched forward can evaluate them all. The specs must have the
    same shapes (``redshift.networks.spec.stack_key``); their weight scales may differ."""
    requests = list(requests)
    if not requests:
        raise ValueError("no requests")
    for _, n, _ in requests:
        _check_n(n)
    return _assemble([_draw_stacked(spec, n, seed) for spec, n, seed in requests], dtype)
