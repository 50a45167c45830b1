"""Factories of user modules that the module-source, module-claims and compare tests import (each test
module copies this file under its own module name, so their labels and import caches stay apart)."""
import torch
from torch import nn

ACTIVATIONS = {"relu": nn.ReLU, "tanh": nn.Tanh}


def mlp(activation="relu", depth=2, width=16, gain=1.0):
    layers, fan_in = [], 2
    for _ in range(depth):
        layers += [nn.Linear(fan_in, width), ACTIVATIONS[activation]()]
        fan_in = width
    return Scaled(nn.Sequential(*layers, nn.Linear(fan_in, 1)), gain)


def tanh_mlp(depth=2, width=8, gain=1.0):
    return mlp("tanh", depth, width, gain)


class Scaled(nn.Module):
    def __init__(self, body, gain):
        super().__init__()
        self.body = body
        self.register_buffer("gain", torch.tensor(float(gain)))

    def forward(self, x):
        return self.gain * self.body(x)


def fixed_depth():
    return nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 1))


def three_inputs():
    return nn.Sequential(nn.Linear(3, 8), nn.ReLU(), nn.Linear(8, 1))


def two_outputs():
    return nn.Linear(2, 2)


class Raises(nn.Module):
    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(2, 1)

    def forward(self, x):
        raise RuntimeError("boom in forward")


def raises():
    return Raises()


class NonFinite(nn.Module):
    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(2, 1)

    def forward(self, x):
        return torch.log(self.linear(x) - 1e9)


def non_finite():
    return NonFinite()


class Exploding(nn.Module):
    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(2, 1)

    def forward(self, x):
        return torch.exp(100.0 * self.linear(x))


def exploding():
    return Exploding()


class Branching(nn.Module):
    """Data-dependent control flow: vmap cannot trace it."""

    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(2, 8)
        self.out = nn.Linear(8, 1)

    def forward(self, x):
        h = self.linear(x)
        if h.sum() > 0:
            h = torch.sin(h)
        return self.out(h)


def branching():
    return Branching()


def factory_raises():
    raise ValueError("bad hyper-parameter")


def not_a_module():
    return 3


class Models:
    @staticmethod
    def create(width=4):
        return nn.Sequential(nn.Linear(2, width), nn.ReLU(), nn.Linear(width, 1))
