"""One network of a batch as a plain torch.nn model: the oracle for the batched forward, and the
per-network baseline (the public code's nn.Sequential of nn.Linear and activation modules)."""
import torch
from torch import Tensor, nn

from redshift.networks.activations import activation_module
from redshift.networks.parameters import Parameters
from redshift.networks.spec import NetworkSpec


class Scale(nn.Module):
    """x -> factor * x (LayerNorm gain, prefactor)."""

    def __init__(self, factor: float):
        super().__init__()
        self.factor = factor

    def forward(self, x: Tensor) -> Tensor:
        return self.factor * x

    def extra_repr(self) -> str:
        return repr(self.factor)


class Block(nn.Module):
    """A hidden layer with a gate or a skip: z = pre(h); u = post(z) [* sigmoid(gate(h))];
    out = u | z + u (skip "activation") | h + u (skip "layer")."""

    def __init__(self, pre: nn.Module, post: nn.Module, gate: nn.Module | None, skip: str):
        super().__init__()
        self.pre, self.post, self.gate, self.skip = pre, post, gate, skip

    def forward(self, h: Tensor) -> Tensor:
        z = self.pre(h)
        u = self.post(z)
        if self.gate is not None:
            u = u * torch.sigmoid(self.gate(h))
        if self.skip == "activation":
            return z + u
        if self.skip == "layer":
            return h + u
        return u


def _linear(weight: Tensor, bias: Tensor) -> nn.Linear:
    """nn.Linear computing x W + b from W [fan_in, fan_out], b [fan_out]."""
    layer = nn.utils.skip_init(nn.Linear, *weight.shape, device=weight.device, dtype=weight.dtype)
    with torch.no_grad():
        layer.weight.copy_(weight.T)
        layer.bias.copy_(bias)
    return layer


def _hidden_layer(spec: NetworkSpec, linear: nn.Linear, gate: nn.Linear | None, first: bool) -> nn.Module:
    pre: list[nn.Module] = [linear]
    if spec.layer_norm:
        pre.append(nn.LayerNorm(linear.out_features, elementwise_affine=False))  # eps 1e-5
        if spec.ln_gain != 1.0:
            pre.append(Scale(spec.ln_gain))
    post = [Scale(spec.prefactor)] if spec.prefactor != 1.0 else []
    post.append(activation_module(spec.hidden_activation))
    skip = "none" if spec.residual == "layer" and first else spec.residual
    if gate is None and skip == "none":
        return nn.Sequential(*pre, *post)
    return Block(nn.Sequential(*pre), nn.Sequential(*post), gate, skip)


def reference_module(spec: NetworkSpec, params: Parameters, index: int) -> nn.Sequential:
    """Network ``index`` of ``params`` as nn.Sequential(hidden layers..., nn.Linear(width, 1)):
    maps [P, input_dim] to [P, 1], on the parameters' device and dtype."""
    layers = []
    for l, (weight, bias) in enumerate(zip(params.weights, params.biases)):
        gate = _linear(params.gate_weights[l][index], params.gate_biases[l][index]) if spec.gated else None
        layers.append(_hidden_layer(spec, _linear(weight[index], bias[index]), gate, first=l == 0))
    layers.append(_linear(params.out_weight[index], params.out_bias[index]))
    return nn.Sequential(*layers)
