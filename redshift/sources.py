"""The sources of subjects on the 2-D grid (random networks, analytic functions) and ``SpecSource``,
the base that every built-in source shares: parse a subject mapping into its spec dataclass with the
one parser (redshift.parse), label it, say which metrics it can produce.

A source is registered under its name in the entry-point group ``redshift.sources`` (pyproject.toml),
as a third party's would be; ``redshift.core.SOURCES`` finds it there.
"""
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from redshift.analytic import FUNCTIONS, analytic_grid
from redshift.core import FieldError, Settings, lazy_module, merge
from redshift.metrics import METRICS
from redshift.networks.spec import NetworkSpec
from redshift.parse import Spec, parse, setting

sampling = lazy_module("redshift.networks.sampling")


class SpecSource:
    """A source whose subjects are instances of ``spec_type``: ``defaults`` (a settings mapping) lies
    under the claim's settings (``base``), which lie under the subject's own mapping."""

    name: ClassVar[str]
    spec_type: ClassVar[type]
    metrics: ClassVar[tuple[str, ...]] = ()
    defaults: ClassVar[Mapping] = {}

    def parse(self, mapping: Mapping, base: Mapping) -> Any:
        if not isinstance(mapping, Mapping):
            raise FieldError("", f"expected a mapping of {self.name} settings, got {type(mapping).__name__}")
        return parse(self.spec_type, merge(merge(self.defaults, base), mapping))

    def label(self, spec: Any) -> str:
        return spec.label()

    def cannot_measure(self, spec: Any, metric: str) -> str | None:
        if metric not in self.metrics:
            return f"unknown metric {metric!r} for {self.name} subjects (allowed: {', '.join(self.metrics)})"
        return None

    def check(self, spec: Any, samples: int, settings: Settings) -> None:
        """Nothing beyond the spec's own rules by default."""

    def describe(self, settings: Settings) -> str:
        return f"{settings.resolution}^2 {settings.dtype}"


#: Outputs held at once by a grid source: [samples, resolution, resolution] in the claim's dtype,
#: plus the metrics' float64 work arrays; beyond this a claim fails at collection, not by swapping.
MAX_GRID_BYTES = 8 * 2**30


class GridSource(SpecSource):
    """Outputs on the 2-D grid, [n, resolution, resolution], scored by the grid metrics (redshift.metrics)."""

    metrics = tuple(METRICS)
    stackable = True  # outputs of one grid and dtype stack into one metric call (Measurer.measure_many)

    def check(self, spec: Any, samples: int, settings: Settings) -> None:
        size = samples * settings.resolution ** 2 * 8 * 2
        if size > MAX_GRID_BYTES:
            raise FieldError("samples", f"{samples} samples on a {settings.resolution}^2 grid need {size / 2**30:.0f} GiB "
                                        f"(at most {MAX_GRID_BYTES / 2**30:.0f} GiB): use fewer samples or a smaller grid")

    def measure(self, outputs, metric: str) -> np.ndarray:
        return METRICS[metric](outputs).cpu().numpy()  # NaN where the outputs are degenerate


class NetworkSource(GridSource):
    """Random networks of a ``NetworkSpec`` (redshift.networks), evaluated on the grid."""

    name = "network"
    spec_type = NetworkSpec

    def parse(self, mapping: Mapping, base: Mapping) -> NetworkSpec:
        parse(NetworkSpec, mapping)  # report a bad key at its own place before merging
        if "family" in mapping and mapping["family"] != base.get("family", "mlp"):
            # switching family keeps only the weight scheme: the other family's settings do not apply
            base = {"weights": base["weights"]} if "weights" in base else {}
        return super().parse(mapping, base)

    def check(self, spec: NetworkSpec, samples: int, settings: Settings) -> None:
        if spec.input_dim != 2:
            raise FieldError("input_dim", f"grid subjects need input_dim 2, got {spec.input_dim}")
        super().check(spec, samples, settings)

    def sample(self, spec: NetworkSpec, n: int, seed: int, settings: Settings):
        return sampling.sample_grid(spec, n, seed, settings.resolution, device=settings.device, dtype=settings.torch_dtype)

    def sample_many(self, requests, settings: Settings, promote_below: float | None = None) -> list:
        """``sample`` of each (spec, n, seed) request, the same outputs, networks of one shape in one
        batched forward (sample_grid_many; ``promote_below``: see there)."""
        return sampling.sample_grid_many(requests, settings.resolution, device=settings.device,
                                         dtype=settings.torch_dtype, promote_below=promote_below)


@dataclass(frozen=True)
class FunctionSpec(Spec):
    """``scale * f(x) + shift`` for an analytic reference function ``f`` (redshift.analytic)."""

    function: str = setting("linear", choices=FUNCTIONS, doc="the reference function")
    frequency: float = setting(1.0, doc="k in sin(2 pi k x)")
    scale: float = setting(1.0, doc="multiplies f")
    shift: float = setting(0.0, doc="added to scale * f")

    def label(self) -> str:
        """e.g. ``fn:sine_diagonal(k=4)*-2.5+1``."""
        text = f"fn:{self.function}" + (f"(k={self.frequency:g})" if self.frequency != 1.0 else "")
        if self.scale != 1.0 or self.shift != 0.0:
            text += f"*{self.scale:g}{self.shift:+g}"
        return text


class FunctionSource(GridSource):
    """Analytic reference functions on the grid: the metrics' sanity checks and the noise ceiling."""

    name = "function"
    spec_type = FunctionSpec

    def parse(self, mapping: Mapping, base: Mapping) -> FunctionSpec:
        if isinstance(mapping, Mapping) and "function" not in mapping:
            raise FieldError("function", f"required (allowed: {', '.join(FUNCTIONS)})")
        return super().parse(mapping, base)

    def sample(self, spec: FunctionSpec, n: int, seed: int, settings: Settings):
        y = analytic_grid(spec.function, n, seed, settings.resolution, spec.frequency, spec.scale, spec.shift,
                          dtype=settings.torch_dtype)
        return y.to(settings.device)


NETWORK = NetworkSource()
FUNCTION = FunctionSource()


def source_of(mapping: Mapping) -> str:
    """The source a subject mapping names: ``source:``, else ``function`` if it has that key, else ``network``."""
    return mapping.get("source", "function" if "function" in mapping else "network")
