"""Sample a claim's subjects and measure their complexity, with an in-process cache.

The same subject (same label, sample count, grid, dtype and seed) appears in many claims; its
outputs are sampled once per process and each metric is computed once. Seeds come from the master
seed and the subject's label, so any test order or xdist worker sees the same networks.
"""
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np
import torch

from metrics import METRICS
from redshift.analytic import analytic_grid
from redshift.claims.schema import Subject
from redshift.networks import sample_grid
from redshift.seeding import derive_seed

DTYPES = {"float64": torch.float64, "float32": torch.float32}


@dataclass(frozen=True)
class Measurement:
    """Metric values of one subject: ``values`` holds every network's value, NaN where flagged."""

    label: str
    metric: str
    values: np.ndarray
    resolution: int
    dtype: str

    @property
    def finite(self) -> np.ndarray:
        return self.values[np.isfinite(self.values)]

    @property
    def flagged(self) -> int:
        """Networks whose outputs were near-constant or non-finite (metric NaN): never counted."""
        return int(np.count_nonzero(~np.isfinite(self.values)))


class Measurer:
    """Samples outputs on the grid and computes metrics; caches both within the process."""

    def __init__(self, master_seed: int, device: str, max_cached_outputs: int = 32):
        self.master_seed = master_seed
        self.device = device
        self._outputs: OrderedDict[tuple, torch.Tensor] = OrderedDict()
        self._values: dict[tuple, Measurement] = {}
        self._max_cached_outputs = max_cached_outputs

    def outputs(self, subject: Subject, samples: int, resolution: int, dtype: str, seed_key: str | None = None) -> torch.Tensor:
        """[samples, resolution, resolution] outputs on the device, from a seed derived from the label."""
        key = (subject, samples, resolution, dtype, seed_key)
        if key in self._outputs:
            self._outputs.move_to_end(key)
            return self._outputs[key]
        seed = derive_seed(self.master_seed, seed_key or subject.label)
        if subject.spec is not None:
            y = sample_grid(subject.spec, samples, seed, resolution, device=self.device, dtype=DTYPES[dtype])
        else:
            y = analytic_grid(subject.function, samples, seed, resolution, subject.frequency,
                              subject.scale, subject.shift, dtype=DTYPES[dtype]).to(self.device)
        self._outputs[key] = y
        if len(self._outputs) > self._max_cached_outputs:
            self._outputs.popitem(last=False)
        return y

    def measure(self, subject: Subject, metric: str, samples: int, resolution: int, dtype: str,
                seed_key: str | None = None) -> Measurement:
        key = (subject, metric, samples, resolution, dtype, seed_key)
        if key not in self._values:
            y = self.outputs(subject, samples, resolution, dtype, seed_key)
            values = METRICS[metric](y).cpu().numpy()  # NaN where the outputs are degenerate
            self._values[key] = Measurement(subject.label, metric, values, resolution, dtype)
        return self._values[key]
