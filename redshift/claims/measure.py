"""Sample subjects and measure their complexity, with an in-process cache: the one measurement path
of the suite (claims, the report's sweep and ``compare`` all measure through a ``Measurer``).

The same subject (same spec, sample count, settings and seed) appears in many claims; its outputs
are sampled once per process and each metric is computed once. Seeds come from the master seed and
the subject, so any test order or xdist worker sees the same networks.
"""
from collections import OrderedDict
from functools import cached_property

import numpy as np

from redshift.claims.model import Measurement, Subject, digest
from redshift.claims.stats import summarise
from redshift.core import SOURCES, Settings, lazy_module, resolve_device
from redshift.seeding import derive_seed

torch = lazy_module("torch")


def measurement(subject: Subject, metric: str, values, setting: str, config: str, master_seed: int) -> Measurement:
    """A Measurement with its summary: median and 95% bootstrap interval of the finite values, the
    resampling seeded by (master seed, config, metric), so every report of these values shows the same interval."""
    values = np.asarray(values, float)
    finite = values[np.isfinite(values)]
    rng = np.random.default_rng(derive_seed(master_seed, "summary", config, metric))
    return Measurement(subject, metric, values, setting, config, summarise(finite, rng) if finite.size else None)


class Measurer:
    """Samples each subject's outputs from its source and computes metrics; caches both."""

    def __init__(self, master_seed: int, device: str, max_cached_outputs: int = 32):
        self.master_seed = master_seed
        self.device_option = device
        self._outputs: OrderedDict[tuple, object] = OrderedDict()
        self._values: dict[tuple, Measurement] = {}
        self._max_cached_outputs = max_cached_outputs

    @cached_property
    def device(self) -> str:
        """The device (``auto`` resolved on first use: asking torch for a GPU imports torch)."""
        return resolve_device(self.device_option)

    def seed(self, subject: Subject, seed_key: str | None = None) -> int:
        """The subject's sampling seed: from the master seed and its canonical spec (or ``seed_key``)."""
        return derive_seed(self.master_seed, seed_key or subject.canonical)

    def outputs(self, subject: Subject, samples: int, settings: Settings, seed_key: str | None = None):
        """The source's outputs for ``samples`` draws of the subject."""
        key = (subject, samples, settings, seed_key)
        if key in self._outputs:
            self._outputs.move_to_end(key)
            return self._outputs[key]
        outputs = SOURCES[subject.source].sample(subject.spec, samples, self.seed(subject, seed_key), settings)
        self._outputs[key] = outputs
        if len(self._outputs) > self._max_cached_outputs:
            self._outputs.popitem(last=False)
        return outputs

    def measure(self, subject: Subject, metric: str, samples: int, resolution: int, dtype: str,
                seed_key: str | None = None) -> Measurement:
        return self.measure_many([subject], [metric], samples, resolution, dtype, seed_key)[subject, metric]

    def measure_many(self, subjects: list[Subject], metrics: list[str], samples: int, resolution: int, dtype: str,
                     seed_key: str | None = None, batch: int = 16) -> dict[tuple[Subject, str], Measurement]:
        """Every (subject, metric): sources with ``stackable`` outputs (tensors [n, ...] of one shape,
        as the grid sources') are measured ``batch`` subjects per metric call, whose overhead dominates
        at 32 x 64^2; values are the same as one subject at a time (the metrics are batched kernels)."""
        settings = Settings(resolution=resolution, dtype=dtype, device=self.device)
        result = {}
        todo = {}
        for subject in subjects:
            for metric in metrics:
                key = (subject, metric, samples, settings, seed_key)
                if key in self._values:
                    result[subject, metric] = self._values[key]
                else:
                    todo[subject, metric] = True
        pending = list(dict.fromkeys(subject for subject, _ in todo))
        for start in range(0, len(pending), batch):
            chunk = pending[start:start + batch]
            for metric in metrics:
                wanted = [s for s in chunk if (s, metric) in todo]
                for subject, values in zip(wanted, self._values_of(wanted, metric, samples, settings, seed_key)):
                    source = SOURCES[subject.source]
                    config = digest([subject.canonical, samples, resolution, dtype, seed_key])
                    m = measurement(subject, metric, values, source.describe(settings), config, self.master_seed)
                    self._values[subject, metric, samples, settings, seed_key] = result[subject, metric] = m
        return result

    def _values_of(self, subjects: list[Subject], metric: str, samples: int, settings: Settings, seed_key):
        """Per subject, the metric's values; stackable outputs of one source go through one call."""
        outputs = [self.outputs(s, samples, settings, seed_key) for s in subjects]
        sources = {s.source for s in subjects}
        source = SOURCES[subjects[0].source] if subjects else None
        if len(subjects) > 1 and len(sources) == 1 and getattr(source, "stackable", False):
            return list(source.measure(torch.stack(outputs), metric))
        return [SOURCES[s.source].measure(o, metric) for s, o in zip(subjects, outputs)]
