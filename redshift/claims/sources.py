"""Sources: what a claim's subjects are, and how their complexity is measured.

A subject mapping in a case file names its source with ``source:`` (default ``network``;
``{function: ...}`` is short for ``source: function``). A source parses the mapping into a frozen
spec, labels it, samples ``n`` outputs from a seed, and turns outputs into one metric value per
sample (NaN where undefined). Claim kinds never look inside a source, so a new family of experiments
(transformers, trained models, kernels) plugs in by adding a ``Source`` to ``SOURCES``.
"""
from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from redshift.metrics import METRICS
from redshift.analytic import FUNCTIONS, analytic_grid
from redshift.networks import NetworkSpec, SpecError, sample_grid
from redshift.nngp.source import NNGPSource
from redshift.pitfalls.source import PitfallsSource
from redshift.trained.source import TrainedSource
from redshift.transformers.source import TransformerSource

DTYPES = {"float64": torch.float64, "float32": torch.float32}


class SubjectError(ValueError):
    """A bad subject setting; ``field`` is its dotted name within the subject mapping."""

    def __init__(self, field: str, message: str):
        super().__init__(f"field {field!r}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True)
class Settings:
    """Run settings a source may use: the grid, the precision, the device."""

    resolution: int = 64
    dtype: str = "float64"
    device: str = "cpu"


class Source:
    """Interface of a source; subclasses set the class attributes and implement the methods."""

    name: str
    settings_key: str | None = None  # a defaults / claim key whose mapping is merged under every subject
    metrics: tuple[str, ...] = ()

    def parse(self, mapping: Mapping, base: Mapping) -> Hashable:
        """Frozen spec from the subject mapping merged over ``base``; raises SubjectError.

        Must accept partial mappings (every setting has a default): ``parse(m, {})`` validates a
        claim's or file's settings mapping on its own.
        """
        raise NotImplementedError

    def label(self, spec: Hashable) -> str:
        raise NotImplementedError

    def describe(self, settings: Settings) -> str:
        """The settings that shape the outputs, for the summary table (e.g. '64^2 float64')."""
        return f"{settings.resolution}^2 {settings.dtype}"

    def sample(self, spec: Hashable, n: int, seed: int, settings: Settings) -> Any:
        raise NotImplementedError

    def measure(self, outputs: Any, metric: str) -> np.ndarray:
        raise NotImplementedError


def merge(base: Mapping, overrides: Mapping) -> dict:
    """Deep merge of settings mappings (nested mappings such as ``weights`` merge key by key)."""
    merged = dict(base)
    for key, value in overrides.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = merge(merged[key], value)
        else:
            merged[key] = value
    return merged


class GridSource(Source):
    """Outputs on the 2-D grid, [n, resolution, resolution], scored by the grid metrics."""

    metrics = tuple(METRICS)

    def measure(self, outputs: torch.Tensor, metric: str) -> np.ndarray:
        return METRICS[metric](outputs).cpu().numpy()  # NaN where the outputs are degenerate


class NetworkSource(GridSource):
    """Random networks of a ``NetworkSpec`` (redshift.networks), evaluated on the grid."""

    name = "network"
    settings_key = "network"

    def parse(self, mapping: Mapping, base: Mapping) -> NetworkSpec:
        try:
            NetworkSpec.from_mapping(mapping)  # report a bad key at its own place before merging
            if "family" in mapping and mapping["family"] != base.get("family", "mlp"):
                # switching family keeps only the weight scheme: the other family's settings do not apply
                base = {"weights": base["weights"]} if "weights" in base else {}
            return NetworkSpec.from_mapping(merge(base, mapping))
        except SpecError as exc:
            raise SubjectError(exc.field, exc.message) from None
        except TypeError as exc:
            raise SubjectError("network", str(exc)) from None

    def label(self, spec: NetworkSpec) -> str:
        return spec.label()

    def sample(self, spec: NetworkSpec, n: int, seed: int, settings: Settings) -> torch.Tensor:
        return sample_grid(spec, n, seed, settings.resolution, device=settings.device, dtype=DTYPES[settings.dtype])


@dataclass(frozen=True)
class FunctionSpec:
    """``scale * f(x) + shift`` for an analytic reference function ``f`` (redshift.analytic)."""

    function: str
    frequency: float = 1.0
    scale: float = 1.0
    shift: float = 0.0


class FunctionSource(GridSource):
    """Analytic reference functions on the grid: the metrics' sanity checks and the noise ceiling."""

    name = "function"

    def parse(self, mapping: Mapping, base: Mapping) -> FunctionSpec:
        fields = {"function", "frequency", "scale", "shift"}
        for key in mapping:
            if key not in fields:
                raise SubjectError(key, f"unknown key (allowed: {', '.join(sorted(fields))})")
        if mapping.get("function") not in FUNCTIONS:
            raise SubjectError("function", f"unknown value {mapping.get('function')!r} (allowed: {', '.join(FUNCTIONS)})")
        numbers = {}
        for key in ("frequency", "scale", "shift"):
            if key in mapping:
                value = mapping[key]
                if isinstance(value, bool) or not isinstance(value, (int, float)):
                    raise SubjectError(key, f"expected a number, got {value!r}")
                numbers[key] = float(value)
        return FunctionSpec(mapping["function"], **numbers)

    def label(self, spec: FunctionSpec) -> str:
        """e.g. ``fn:sine_diagonal(k=4)*-2.5+1``."""
        text = f"fn:{spec.function}" + (f"(k={spec.frequency:g})" if spec.frequency != 1.0 else "")
        if spec.scale != 1.0 or spec.shift != 0.0:
            text += f"*{spec.scale:g}{spec.shift:+g}"
        return text

    def sample(self, spec: FunctionSpec, n: int, seed: int, settings: Settings) -> torch.Tensor:
        y = analytic_grid(spec.function, n, seed, settings.resolution, spec.frequency, spec.scale, spec.shift,
                          dtype=DTYPES[settings.dtype])
        return y.to(settings.device)


SOURCES: dict[str, Source] = {source.name: source for source in (NetworkSource(), FunctionSource(), TransformerSource(), NNGPSource(),
                                                                      PitfallsSource(), TrainedSource())}


def source_of(mapping: Mapping) -> str:
    """The source a subject mapping names: ``source:``, else ``function`` if it has that key, else ``network``."""
    return mapping.get("source", "function" if "function" in mapping else "network")
