"""A ReLU MLP on random Fourier features (Tancik et al., NeurIPS 2020), the worked example of
``python -m redshift.report compare examples.fourier_features:fourier_relu`` (README "Compare a new architecture").

    f(x) = MLP_relu([sin(pi B x), cos(pi B x)]),   B [features, 2] ~ N(0, sigma^2), fixed

B is a buffer, drawn from its own generator (seed 0), so it is the same in every sample: only the
MLP's weights and biases are parameters (re-drawn by ``compare``). The features let a ReLU network
express frequencies up to about sigma, which its plain form is biased against (paper §3, P1).
"""
import math

import torch
from torch import nn


class FourierFeatures(nn.Module):
    """x [P, 2] -> [sin(pi x B^T), cos(pi x B^T)] [P, 2 * features]."""

    def __init__(self, features: int, sigma: float):
        super().__init__()
        generator = torch.Generator().manual_seed(0)
        self.register_buffer("frequencies", sigma * torch.randn(features, 2, generator=generator))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        angles = math.pi * x @ self.frequencies.T
        return torch.cat([torch.sin(angles), torch.cos(angles)], dim=-1)


def fourier_relu(depth: int = 3, width: int = 64, features: int = 16, sigma: float = 3.0) -> nn.Module:
    """Fourier features, then ``depth`` hidden ReLU layers of ``width``, then a linear output: [P, 2] -> [P, 1]."""
    layers: list[nn.Module] = [FourierFeatures(features, sigma)]
    fan_in = 2 * features
    for _ in range(depth):
        layers += [nn.Linear(fan_in, width), nn.ReLU()]
        fan_in = width
    layers.append(nn.Linear(fan_in, 1))
    return nn.Sequential(*layers)
