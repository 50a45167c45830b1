"""zlib compression ratio of quantised grids (a cheap extra proxy, not in the paper).

The module is not named `zlib_ratio` so that `metrics.zlib_ratio` is unambiguously the function
(a submodule of the same name would be shadowed by it in the package namespace).
"""

from __future__ import annotations

import zlib

import numpy as np
import torch

from redshift.metrics.guard import as_grid, grid_metric

LEVELS = 16
ZLIB_LEVEL = 9


def quantise(y: torch.Tensor, levels: int = LEVELS) -> torch.Tensor:
    """Quantise each grid to `levels` equal-width bins between its min and max: uint8 [..., H, W].

    q = min(floor(levels * (y - min) / (max - min)), levels - 1); non-finite and constant grids
    map to all zeros (the metrics flag them as degenerate anyway).
    """
    if not 2 <= levels <= 256:
        raise ValueError(f"levels must be in [2, 256], got {levels}")
    y = as_grid(y)
    lo = y.amin(dim=(-2, -1), keepdim=True)
    hi = y.amax(dim=(-2, -1), keepdim=True)
    q = torch.floor(levels * (y - lo) / (hi - lo)).clamp(0, levels - 1)
    q = torch.where(torch.isfinite(q), q, torch.zeros((), dtype=q.dtype, device=q.device))
    return q.to(torch.uint8)


@grid_metric
def zlib_ratio(y: torch.Tensor) -> torch.Tensor:
    """zlib compression ratio of the 16-level quantised grid.

        C = len(zlib.compress(bytes(q), level=9)) / (H * W),   q = `quantise(y, 16)`, one uint8
            per grid value, raster (row-major) order

    Lower is simpler. Invariant to a*y + b for a > 0 up to values landing exactly on a bin edge
    (exactly invariant for a a power of two and b = 0). zlib is a per-buffer C call, so this loops
    over grids in Python (one call per grid; the quantisation is batched).

    Args:
        y: [..., H, W] real grid, float32 or float64, any device.
    Returns:
        float64 [...] on y's device; NaN where `degenerate(y)`.
    """
    h, w = y.shape[-2:]
    q = quantise(y).cpu().numpy().reshape(-1, h * w)
    sizes = np.array([len(zlib.compress(row.tobytes(), ZLIB_LEVEL)) for row in q], dtype=np.float64)
    return torch.from_numpy(sizes / (h * w)).reshape(y.shape[:-2]).to(y.device)
