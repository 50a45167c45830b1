"""The end-to-end jobs of bench/test_end_to_end.py, and the plain reference each is timed beside.

Jobs (``EndToEndCase``): the public Neural Redshift code's heatmap setting (every activation x 15
magnitudes np.logspace(-1, 2, 15) x depths 1-7, one network per cell, W, b ~ U(-a, a), a 300^2 grid,
the quadrant Fourier metric) and the default report sweep (32 networks x the default sweep on 64^2,
every metric). The suite runs them as ``python -m redshift.report build`` does: ``run_sweep`` with a
fresh ``Measurer`` (nothing cached between rounds).

The reference is the public code's algorithm, written here from its description (the public Neural
Redshift repository's heatmap script), not copied: per cell and per network, a torch.nn module (``reference_module``: the
nn.Sequential of nn.Linear and activation modules, holding the same parameters the suite draws),
evaluated on the grid in batches of 16384 points from a ``torch.utils.data.DataLoader`` over the
points tensor (as the public code's estimator does; ``loader=False`` slices the same batches
without the DataLoader, timed too, to show what the DataLoader costs), then per grid the metrics'
plain one-grid references: the public code's rfft2 + Python loop over radial bins for
``fourier_quadrant`` (metrics.reference.fourier_quadrant_loop), the numpy / scipy formulas of
bench/reference.py for the others (the Python LZ76 loop for ``lz``), and the degenerate-grid rule
of metrics.guard written in numpy (such grids count as NaN, as in the suite).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
import torch
from torch.utils.data import DataLoader

from bench import reference
from redshift.metrics.reference import fourier_quadrant_loop
from redshift.networks import grid_points, reference_module, sample_parameters
from redshift.report.sweep import ACTIVATIONS, MAGNITUDES, NOISE, SweepSettings, configurations, network_spec

BATCH_POINTS = 16384  # the public code's batch size
PUBLIC_MAGNITUDES = tuple(float(m) for m in np.logspace(-1, 2, 15))
REL_STD_FLOOR = 1e-9  # metrics.guard

#: metric -> plain one-grid reference (numpy array [H, W] -> float)
REFERENCE_METRICS = {
    "fourier": reference.fourier_one,
    "fourier_quadrant": lambda y: fourier_quadrant_loop(y),
    "dct": reference.dct_one,
    "chebyshev": reference.chebyshev_one,
    "lz": lambda y: float(reference.lz_one(y)),
    "zlib_ratio": reference.zlib_ratio_one,
}


@dataclass(frozen=True)
class EndToEndCase:
    """One end-to-end job: its sweep settings and sweep parts, the tiny version correctness mode runs,
    and the timed rounds (each round is one whole job: minutes)."""

    name: str
    settings: SweepSettings
    tiny: SweepSettings
    parts: tuple[str, ...]
    rounds: int
    reference_networks: int  # networks per sampled cell the reference is timed on (scaled to all)
    smoke: bool = True       # correctness mode runs ``tiny``, whatever the tier
    cost: float = 2.0        # > 1: timed with --tier full only (minutes per round on 2 CPU cores)

    @property
    def id(self) -> str:
        return self.name


PUBLIC = SweepSettings(samples=1, resolution=300, scheme="uniform", bias_scale=None, magnitudes=PUBLIC_MAGNITUDES,
                       depths=(1, 2, 3, 4, 5, 6, 7), activations=ACTIVATIONS, metrics=("fourier_quadrant",))
DEFAULT = SweepSettings()
CASES = [
    EndToEndCase("public-heatmap", PUBLIC,
                 replace(PUBLIC, resolution=40, width=16, magnitudes=(0.1, 3.16, 100.0), depths=(1, 3),
                         activations=("relu", "gelu", "sine")),
                 ("heatmaps",), rounds=3, reference_networks=1),
    EndToEndCase("default-sweep", DEFAULT,
                 replace(DEFAULT, samples=3, resolution=32, width=8, magnitudes=(0.1, 10.0), depths=(1, 3),
                         activations=("relu", "tanh"), zoo_depth=3),
                 ("heatmaps", "zoo"), rounds=1, reference_networks=4),
]


def network_cells(settings: SweepSettings, parts) -> list[tuple]:
    """The sweep's network cells (architecture, depth, magnitude), without the white-noise ceiling."""
    return [c for c in configurations(settings, parts) if c[0] != NOISE]


def sampled_cells(settings: SweepSettings, parts) -> list[tuple[tuple, float]]:
    """A stratified sample of the network cells with the number of cells each stands for: per
    (architecture, depth), one magnitude, rotating through the magnitudes (so every magnitude is
    sampled about equally); weight = cells of that (architecture, depth) / 1."""
    cells = network_cells(settings, parts)
    by_shape: dict[tuple, list[tuple]] = {}
    for cell in cells:
        by_shape.setdefault(cell[:2], []).append(cell)
    chosen = []
    for k, group in enumerate(by_shape.values()):
        chosen.append((group[k % len(group)], float(len(group))))
    return chosen


def degenerate(y: np.ndarray) -> bool:
    """metrics.guard.degenerate for one grid, in numpy."""
    return (not np.isfinite(y).all()) or float(y.std()) < REL_STD_FLOOR * (1.0 + abs(float(y.mean())))


def reference_outputs(spec, n: int, seed: int, resolution: int, dtype: torch.dtype, loader: bool = True,
                      networks: int | None = None) -> list[np.ndarray]:
    """[R, R] outputs of the first ``networks`` (default all n) of the n networks drawn with ``seed``,
    each through its own torch.nn module, 16384 points per batch (DataLoader, or slices)."""
    params = sample_parameters(spec, n, seed, dtype)
    points = grid_points(resolution).to(dtype)
    outputs = []
    for i in range(n if networks is None else min(n, networks)):
        model = reference_module(spec, params, i)
        batches = DataLoader(points, batch_size=BATCH_POINTS) if loader else points.split(BATCH_POINTS)
        with torch.no_grad():
            y = torch.cat([model(batch) for batch in batches])
        outputs.append(y.reshape(resolution, resolution).double().numpy())
    return outputs


def reference_values(spec, n: int, seed: int, resolution: int, metrics, dtype: torch.dtype = torch.float64,
                     loader: bool = True, networks: int | None = None) -> dict[str, list[float]]:
    """Per metric, the plain references' values of each network (NaN for degenerate grids)."""
    values = {m: [] for m in metrics}
    for y in reference_outputs(spec, n, seed, resolution, dtype, loader, networks):
        flat = degenerate(y)
        for m in metrics:
            values[m].append(math.nan if flat else REFERENCE_METRICS[m](y))
    return values


def reference_cell(settings: SweepSettings, cell: tuple, seed: int, dtypes: dict[str, torch.dtype],
                   loader: bool = True, networks: int | None = None) -> dict[str, list[float]]:
    """The reference's values of one cell: one torch.nn pass per precision the metrics need."""
    spec = network_spec(*cell, settings)
    out = {}
    for dtype in dict.fromkeys(dtypes.values()):
        metrics = [m for m, d in dtypes.items() if d == dtype]
        out.update(reference_values(spec, settings.samples, seed, settings.resolution, metrics, dtype, loader,
                                    networks))
    return out


__all__ = ["CASES", "EndToEndCase", "MAGNITUDES", "PUBLIC", "DEFAULT", "network_cells", "sampled_cells",
           "reference_cell", "reference_values", "reference_outputs", "degenerate"]
