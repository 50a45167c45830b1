"""Degenerate-output guard shared by every metric (constant grids score from round-off; float32 turns near-constant outputs into noise).

A constant grid has no spectrum, no polynomial order and no structure to compress, yet the raw
formulas return round-off numbers for it (the public code's Fourier metric gives 0.35 for a
constant). Every metric in this package therefore returns NaN where `degenerate` is True, so a
flat or broken network can never pass for "simple" or "complex".
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import torch

#: Relative spread below which a grid counts as constant: std < REL_STD_FLOOR * (1 + |mean|).
REL_STD_FLOOR = 1e-9


def as_grid(y: torch.Tensor) -> torch.Tensor:
    """Validate a [..., H, W] grid and return it as float64 on its own device."""
    if not isinstance(y, torch.Tensor):
        raise TypeError(f"expected a torch.Tensor of shape [..., H, W], got {type(y).__name__}")
    if y.ndim < 2:
        raise ValueError(f"expected a tensor of shape [..., H, W], got shape {tuple(y.shape)}")
    if y.shape[-1] == 0 or y.shape[-2] == 0:
        raise ValueError(f"empty grid: shape {tuple(y.shape)}")
    if y.is_complex():
        raise TypeError("complexity metrics take real-valued grids")
    return y.to(torch.float64)


def degenerate(y: torch.Tensor) -> torch.Tensor:
    """Flag grids no metric should score (constant grids score from round-off; float32 turns near-constant outputs into noise).

    degenerate(y) = any(!isfinite(y)) or std(y) < 1e-9 * (1 + |mean(y)|), over the last two dims,
    with the population std (correction 0) computed in float64.

    Args:
        y: [..., H, W] real tensor, any float dtype, any device.

    Returns:
        bool tensor of shape [...] on y's device.
    """
    y = as_grid(y)
    if y.numel() == 0:
        return torch.zeros(y.shape[:-2], dtype=torch.bool, device=y.device)
    # One std_mean pass settles almost every grid: a non-finite entry makes the grid's mean or std
    # non-finite. Only such suspects get the elementwise isfinite check (a finite grid whose
    # float64 sum overflows is a suspect that it clears; its std is inf or nan, so not flat, as it
    # would be with the non-finite entries zeroed first). Same flags, two fewer passes over y.
    std, mean = torch.std_mean(y, dim=(-2, -1), correction=0)
    suspect = ~(torch.isfinite(std) & torch.isfinite(mean))
    nonfinite = torch.zeros_like(suspect)
    if suspect.any():
        nonfinite[suspect] = ~torch.isfinite(y[suspect]).flatten(-2).all(dim=-1)
    flat = std < REL_STD_FLOOR * (1.0 + mean.abs())
    return nonfinite | flat


def nan_where_degenerate(value: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Return `value` (float64, shape [...]) with NaN wherever `degenerate(y)` is True."""
    bad = degenerate(y).to(value.device)
    nan = torch.full((), float("nan"), dtype=value.dtype, device=value.device)
    return torch.where(bad, nan, value)


def grid_metric(core: Callable[..., torch.Tensor]) -> Callable[..., torch.Tensor]:
    """Wrap `core(y64, ...) -> float64 [...]` into a public grid metric.

    The wrapper validates y and casts it to float64 (`as_grid`), returns an empty result for an
    empty batch (some FFT backends reject those), and sets NaN where `degenerate(y)`.
    The docstring of `core` is the metric's documentation.
    """

    @functools.wraps(core)
    def metric(y: torch.Tensor, *args, **kwargs) -> torch.Tensor:
        y = as_grid(y)
        if y.numel() == 0:
            return torch.empty(y.shape[:-2], dtype=torch.float64, device=y.device)
        return nan_where_degenerate(core(y, *args, **kwargs), y)

    return metric
