"""Activation functions by name (the activations of Teney et al. 2024, §3): functional forms, and the same as torch.nn modules."""
import functools
from typing import Callable

import torch
import torch.nn.functional as F
from torch import Tensor, nn


def gaussian(x: Tensor) -> Tensor:
    """exp(-x^2)."""
    return torch.exp(-x * x)


def identity(x: Tensor) -> Tensor:
    return x


ACTIVATIONS: dict[str, Callable[[Tensor], Tensor]] = {
    "relu": F.relu,
    "leaky_relu": functools.partial(F.leaky_relu, negative_slope=0.01),
    "elu": F.elu,
    "gelu": F.gelu,  # exact erf form, as nn.GELU() in the public code
    "swish": F.silu,
    "silu": F.silu,
    "selu": F.selu,
    "softplus": F.softplus,
    "tanh": torch.tanh,
    "sigmoid": torch.sigmoid,
    "gaussian": gaussian,
    "sine": torch.sin,
    "identity": identity,
}

_MODULES: dict[str, Callable[[], nn.Module]] = {
    "relu": nn.ReLU,
    "leaky_relu": functools.partial(nn.LeakyReLU, 0.01),
    "elu": nn.ELU,
    "gelu": nn.GELU,
    "swish": nn.SiLU,
    "silu": nn.SiLU,
    "selu": nn.SELU,
    "softplus": nn.Softplus,
    "tanh": nn.Tanh,
    "sigmoid": nn.Sigmoid,
    "identity": nn.Identity,
}


class Elementwise(nn.Module):
    """An activation torch.nn lacks (gaussian, sine), as a module."""

    def __init__(self, name: str):
        super().__init__()
        self.name = name

    def forward(self, x: Tensor) -> Tensor:
        return ACTIVATIONS[self.name](x)

    def extra_repr(self) -> str:
        return self.name


def activation_module(name: str) -> nn.Module:
    """The torch.nn module for ``name`` (nn.ReLU, nn.GELU, ...), else an ``Elementwise`` wrapper."""
    return _MODULES[name]() if name in _MODULES else Elementwise(name)
