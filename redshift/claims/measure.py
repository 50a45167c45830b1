"""Sample a claim's subjects and measure their complexity, with an in-process cache.

The same subject (same label, sample count, settings and seed) appears in many claims; its outputs
are sampled once per process and each metric is computed once. Seeds come from the master seed and
the subject's label, so any test order or xdist worker sees the same networks.
"""
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np

from redshift.claims.schema import Subject
from redshift.claims.sources import SOURCES, Settings
from redshift.seeding import derive_seed


@dataclass(frozen=True)
class Measurement:
    """Metric values of one subject: ``values`` holds every sample's value, NaN where flagged."""

    label: str
    metric: str
    values: np.ndarray
    setting: str  # what shaped the outputs, e.g. "64^2 float64"

    @property
    def finite(self) -> np.ndarray:
        return self.values[np.isfinite(self.values)]

    @property
    def flagged(self) -> int:
        """Samples whose outputs were near-constant or non-finite (metric NaN): never counted."""
        return int(np.count_nonzero(~np.isfinite(self.values)))


class Measurer:
    """Samples each subject's outputs from its source and computes metrics; caches both."""

    def __init__(self, master_seed: int, device: str, max_cached_outputs: int = 32):
        self.master_seed = master_seed
        self.device = device
        self._outputs: OrderedDict[tuple, object] = OrderedDict()
        self._values: dict[tuple, Measurement] = {}
        self._max_cached_outputs = max_cached_outputs

    def outputs(self, subject: Subject, samples: int, settings: Settings, seed_key: str | None = None):
        """The source's outputs for ``samples`` draws, from a seed derived from the label (or seed_key)."""
        key = (subject, samples, settings, seed_key)
        if key in self._outputs:
            self._outputs.move_to_end(key)
            return self._outputs[key]
        seed = derive_seed(self.master_seed, seed_key or subject.label)
        outputs = SOURCES[subject.source].sample(subject.spec, samples, seed, settings)
        self._outputs[key] = outputs
        if len(self._outputs) > self._max_cached_outputs:
            self._outputs.popitem(last=False)
        return outputs

    def measure(self, subject: Subject, metric: str, samples: int, resolution: int, dtype: str,
                seed_key: str | None = None) -> Measurement:
        settings = Settings(resolution=resolution, dtype=dtype, device=self.device)
        key = (subject, metric, samples, settings, seed_key)
        if key not in self._values:
            source = SOURCES[subject.source]
            values = np.asarray(source.measure(self.outputs(subject, samples, settings, seed_key), metric), float)
            self._values[key] = Measurement(subject.label, metric, values, source.describe(settings))
        return self._values[key]
