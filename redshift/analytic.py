"""Analytic reference functions on the 2-D grid, for metric sanity claims.

Each function maps grid coordinates (x1 = row, x2 = column, both in [-1, 1]) to outputs; the
white-noise reference draws iid N(0, 1) values from a seeded CPU generator.
"""
import math
from typing import Callable

from redshift.core import lazy_module

torch = lazy_module("torch")
networks = lazy_module("redshift.networks.grid")

DETERMINISTIC: dict[str, Callable] = {  # (x1, x2, k) -> values
    "constant": lambda x1, x2, k: torch.ones_like(x1),
    "linear": lambda x1, x2, k: x1 + 0.5 * x2,
    "quadratic": lambda x1, x2, k: x1**2 + x2**2,
    "kink": lambda x1, x2, k: (x1 - 0.2).abs(),
    "step": lambda x1, x2, k: (x1 > 0).to(x1.dtype),
    "sine_x1": lambda x1, x2, k: torch.sin(2 * math.pi * k * x1),
    "sine_diagonal": lambda x1, x2, k: torch.sin(2 * math.pi * k * (x1 + x2)),
    "sine_antidiagonal": lambda x1, x2, k: torch.sin(2 * math.pi * k * (x1 - x2)),
}
FUNCTIONS = (*DETERMINISTIC, "white_noise")


def analytic_grid(
    name: str, n: int, seed: int, resolution: int = 64, frequency: float = 1.0,
    scale: float = 1.0, shift: float = 0.0, dtype=None,
):
    """``n`` copies of ``scale * f(x) + shift`` on the grid, a tensor [n, resolution, resolution] of
    ``dtype`` (default float64).

    ``frequency`` is k in sin(2 pi k x); the white noise draws a fresh grid per copy.
    """
    if name == "white_noise":
        generator = torch.Generator().manual_seed(seed)
        y = torch.randn(n, resolution, resolution, generator=generator, dtype=torch.float64)
    elif name in DETERMINISTIC:
        x = networks.grid_points(resolution, dtype=torch.float64)
        x1, x2 = x[:, 0], x[:, 1]
        y = DETERMINISTIC[name](x1, x2, frequency).reshape(1, resolution, resolution).expand(n, -1, -1)
    else:
        raise ValueError(f"unknown function {name!r} (allowed: {', '.join(FUNCTIONS)})")
    return (scale * y + shift).to(torch.float64 if dtype is None else dtype)
