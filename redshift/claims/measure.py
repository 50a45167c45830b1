"""Sample subjects and measure their complexity, with an in-process cache: the one measurement path
of the suite (claims, the report's sweep and ``compare`` all measure through a ``Measurer``).

The same subject (same spec, sample count, settings and seed) appears in many claims; its outputs
are sampled once per process and each metric is computed once. Seeds come from the master seed and
the subject, so any test order or xdist worker sees the same networks.

Batching (``measure_many``): the outputs of all the subjects of one call are sampled together where
the source can (``sample_many``, see ``batch_sampler``: network subjects of one shape are drawn each
from its own seed and evaluated in one batched forward), and each metric runs on the stacked outputs
of ``batch`` subjects at a time. Values equal those of one subject at a time (bit for bit on CPU in
float64: tests/test_measure.py).

Precision: ``dtype`` is ``float64``, ``float32`` (what a case file asks; used as asked) or ``auto``
(the report sweep's default): for network subjects, a float32 forward when every metric asked of
the call allows it (``PRECISION``), with the networks whose float32 outputs are nearly constant
(relative spread below ``PROMOTE_BELOW``) evaluated again in float64; else float64. Other sources:
float64. docs/performance.md has the measurements behind the table.
"""
from collections import OrderedDict
from collections.abc import Callable
from functools import cached_property

import numpy as np

from redshift.claims.model import Measurement, Subject, digest
from redshift.claims.stats import summarise
from redshift.core import DTYPES, SOURCES, Settings, lazy_module, resolve_device
from redshift.seeding import derive_seed

torch = lazy_module("torch")

AUTO = "auto"
#: ``auto``'s float32: float32 forwards, near-constant networks again in float64 (sample_grid_many's promote_below).
PROMOTED = "float32-promoted"
#: Relative spread std / (|mean| + std) below which a float32 network is evaluated again in float64:
#: float32 round-off is 6e-8 of |mean|, and the magnitude-weighted spectra count it as structure
#: (docs/performance.md, "Precision": without promotion dct and chebyshev medians move up to 16x).
PROMOTE_BELOW = 1e-3
#: Precision of each metric under ``dtype="auto"`` for network subjects (docs/performance.md,
#: "Precision", measured by ``python -m bench.precision``): float32 only where promoted float32 moves
#: no cell's median out of its float64 interval; no metric meets that, so all are float64.
PRECISION = {
    "fourier": "float64",
    "fourier_quadrant": "float64",
    "dct": "float64",
    "chebyshev": "float64",
    "lz": "float64",
    "zlib_ratio": "float64",
}
#: Sources whose ``auto`` precision follows PRECISION (others: float64).
AUTO_SOURCES = ("network",)


def measurement(subject: Subject, metric: str, values, setting: str, config: str, master_seed: int) -> Measurement:
    """A Measurement with its summary: median and 95% bootstrap interval of the finite values, the
    resampling seeded by (master seed, config, metric), so every report of these values shows the same interval."""
    values = np.asarray(values, float)
    finite = values[np.isfinite(values)]
    rng = np.random.default_rng(derive_seed(master_seed, "summary", config, metric))
    return Measurement(subject, metric, values, setting, config, summarise(finite, rng) if finite.size else None)


def resolved_dtype(subject: Subject, metrics, dtype: str) -> str:
    """The precision ``dtype`` means for a subject measured on ``metrics`` (one name or several):
    ``dtype`` itself unless ``auto``; for ``auto``, PROMOTED if the subject's source is in
    AUTO_SOURCES and every metric's PRECISION is float32, else float64."""
    if dtype != AUTO:
        return dtype
    metrics = [metrics] if isinstance(metrics, str) else list(metrics)
    if subject.source in AUTO_SOURCES and metrics and all(PRECISION.get(m) == "float32" for m in metrics):
        return PROMOTED
    return "float64"


def source_settings(concrete: str, resolution: int, device: str) -> Settings:
    """The Settings a source samples with for a resolved precision (PROMOTED samples float32)."""
    return Settings(resolution=resolution, dtype="float32" if concrete == PROMOTED else concrete, device=device)


def describe(subject: Subject, concrete: str, settings: Settings) -> str:
    """The measurement's setting text: the source's, plus the promotion rule for PROMOTED."""
    text = SOURCES[subject.source].describe(settings)
    return text + f" (float64 below {PROMOTE_BELOW:g} relative spread)" if concrete == PROMOTED else text


def batch_sampler(source) -> Callable | None:
    """``sample_many(requests: [(spec, n, seed)], settings) -> [outputs]`` of a source (outputs equal to
    its ``sample``'s, sampled together: the network source's draws networks of one shape in one
    batched forward), or None if it has none."""
    return getattr(source, "sample_many", None)


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

    def _remember(self, key: tuple, outputs) -> None:
        self._outputs[key] = outputs
        self._outputs.move_to_end(key)
        while len(self._outputs) > self._max_cached_outputs:
            self._outputs.popitem(last=False)

    def outputs(self, subject: Subject, samples: int, settings: Settings, seed_key: str | None = None):
        """The source's outputs for ``samples`` draws of the subject (at ``settings.dtype``, as asked)."""
        return self.outputs_many([subject], samples, settings, seed_key)[0]

    def outputs_many(self, subjects: list[Subject], samples: int, settings: Settings,
                     seed_key: str | None = None, promote_below: float | None = None) -> list:
        """``outputs`` of each subject, in order; the subjects not cached are sampled together where
        their source has a ``batch_sampler`` (one batched forward per shape of network), else one by one.
        ``promote_below`` (network subjects only): see sample_grid_many."""
        found: dict[Subject, object] = {}
        missing: dict[str, list[Subject]] = {}
        for subject in dict.fromkeys(subjects):
            key = (subject, samples, settings, seed_key, promote_below)
            if key in self._outputs:
                self._outputs.move_to_end(key)
                found[subject] = self._outputs[key]
            else:
                missing.setdefault(subject.source, []).append(subject)
        for name, todo in missing.items():
            source = SOURCES[name]
            requests = [(s.spec, samples, self.seed(s, seed_key)) for s in todo]
            many = batch_sampler(source)
            if promote_below is not None:
                if name not in AUTO_SOURCES:
                    raise ValueError(f"promote_below needs a source of {', '.join(AUTO_SOURCES)}, not {name!r}")
                sampled = many(requests, settings, promote_below=promote_below)
            elif len(todo) > 1 and many is not None:
                sampled = many(requests, settings)
            else:
                sampled = [source.sample(*request, settings) for request in requests]
            for subject, outputs in zip(todo, sampled):
                found[subject] = outputs
                self._remember((subject, samples, settings, seed_key, promote_below), outputs)
        return [found[s] for s in subjects]

    def measure(self, subject: Subject, metric: str, samples: int, resolution: int, dtype: str,
                seed_key: str | None = None) -> Measurement:
        return self.measure_many([subject], [metric], samples, resolution, dtype, seed_key)[subject, metric]

    def measure_many(self, subjects: list[Subject], metrics: list[str], samples: int, resolution: int, dtype: str,
                     seed_key: str | None = None, batch: int = 16) -> dict[tuple[Subject, str], Measurement]:
        """Every (subject, metric). The outputs of all subjects not measured yet are sampled together
        (``outputs_many``; the caller bounds the memory by the number of subjects it passes), once per
        precision the metrics need (``dtype``: float64, float32 or ``auto``, see the module doc);
        sources with ``stackable`` outputs (tensors [n, ...] of one shape, as the grid sources') are
        measured ``batch`` subjects per metric call, whose overhead dominates at 32 x 64^2; values are
        the same as one subject at a time (the metrics are batched kernels)."""
        if dtype != AUTO and dtype not in DTYPES:
            raise ValueError(f"unknown dtype {dtype!r} (allowed: {', '.join(DTYPES)}, {AUTO})")
        result = {}
        todo: dict[str, dict[Subject, list[str]]] = {}  # resolved precision -> subject -> metrics
        for subject in dict.fromkeys(subjects):
            concrete = resolved_dtype(subject, metrics, dtype)
            for metric in metrics:
                key = (subject, metric, samples, resolution, concrete, self.device, seed_key)
                if key in self._values:
                    result[subject, metric] = self._values[key]
                else:
                    todo.setdefault(concrete, {}).setdefault(subject, []).append(metric)
        for concrete, wanted in todo.items():
            settings = source_settings(concrete, resolution, self.device)
            pending = list(wanted)
            promote = PROMOTE_BELOW if concrete == PROMOTED else None
            outputs = dict(zip(pending, self.outputs_many(pending, samples, settings, seed_key, promote)))
            for start in range(0, len(pending), batch):
                chunk = pending[start:start + batch]
                for metric in metrics:
                    chosen = [s for s in chunk if metric in wanted[s]]
                    values = self._values_of(chosen, [outputs[s] for s in chosen], metric)
                    for subject, v in zip(chosen, values):
                        config = digest([subject.canonical, samples, resolution, concrete, seed_key])
                        m = measurement(subject, metric, v, describe(subject, concrete, settings), config,
                                        self.master_seed)
                        key = (subject, metric, samples, resolution, concrete, self.device, seed_key)
                        self._values[key] = result[subject, metric] = m
            del outputs
        return result

    def _values_of(self, subjects: list[Subject], outputs: list, metric: str) -> list:
        """Per subject, the metric's values; stackable outputs of one source go through one call."""
        if not subjects:
            return []
        sources = {s.source for s in subjects}
        source = SOURCES[subjects[0].source]
        if len(subjects) > 1 and len(sources) == 1 and getattr(source, "stackable", False):
            return list(source.measure(torch.stack(outputs), metric))
        return [SOURCES[s.source].measure(o, metric) for s, o in zip(subjects, outputs)]
