"""Complexity sweeps over weight magnitude x depth: the numbers behind every report figure and table.

Paper §3 (Figs. 4-5, Table 1) and its public code's heatmaps: a configuration (architecture, depth,
magnitude) is a ``network`` subject of ``samples`` random networks, measured through the claims'
``Measurer`` (redshift.claims.measure: the same seeds, from the canonical spec, so a configuration
measured here and in a claim is the same networks, and the same summary: median over the finite
values with a 95% percentile-bootstrap interval); NaN values (near-constant or non-finite outputs)
are counted as ``flagged``.

Two families of configurations share one sweep:
- heatmaps: each activation of ``activations`` as a plain MLP at every depth x magnitude;
- the zoo: every activation plain and with layer norm, residual (around the activation) and gating,
  plus the unbiased Fourier model, at ``zoo_depth`` and every magnitude (the ranking and the
  nearest-architecture search read these).
Magnitude is the weight scale of ``scheme`` (``glorot_uniform``: alpha in W ~ U(+-alpha
sqrt(6 / (fan_in + fan_out)))), biases U(+-bias_scale) (None: tied to the magnitude).

Shards (``run_sweep(shard=(i, N))``, ``redshift build --shard i/N``): shard i of N measures every
N-th cell of the full cell list (cells i-1, i-1+N, ...); a cell's numbers depend only on its spec
and the seed, so ``redshift merge`` of the N shard files (redshift.merge.merge_sweeps) gives the
serial sweep's records (tests/test_sweep_shards.py).
"""
import dataclasses
import json
import platform
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterable

import numpy as np

from redshift.claims.measure import AUTO, Measurer
from redshift.claims.model import Measurement, Subject
from redshift.core import SOURCES, atomic_write_text, git_commit, lazy_module
from redshift.metrics import METRICS
from redshift.networks.spec import NetworkSpec, WeightSpec, stack_key
from redshift.report.progress import Progress
from redshift.seeding import MASTER_SEED
from redshift.sources import FunctionSpec

torch = lazy_module("torch")

#: 0.1 .. 100, three steps per decade (10^(k/3) to 3 significant digits), so 1 and 10 are on the grid.
MAGNITUDES = (0.1, 0.215, 0.464, 1.0, 2.15, 4.64, 10.0, 21.5, 46.4, 100.0)
DEPTHS = (1, 2, 3, 4, 5, 6, 7)
#: The paper's activations (Fig. 3-5: ReLU, GELU, Swish, SELU, TanH, Gaussian, sine) plus the code's sigmoid.
ACTIVATIONS = ("relu", "gelu", "swish", "selu", "sigmoid", "tanh", "gaussian", "sine")
#: Zoo variants (paper §3, Fig. 5; Table 1): name suffix -> NetworkSpec fields.
VARIANTS = {"": {}, "+ln": {"layer_norm": True}, "+res": {"residual": "activation"}, "+gate": {"gated": True}}
UNBIASED = "unbiased"
#: The ceiling: i.i.d. Gaussian noise on the grid (the claims' ``{function: white_noise}``).
NOISE = "white_noise"
ZOO_DEPTH = 6
#: The sweep's parts: the heatmaps' plain MLPs at every depth, the zoo's variants at ZOO_DEPTH.
SWEEP_PARTS = frozenset({"heatmaps", "zoo"})
#: Magnitudes at which the zoo is ranked (alpha = 1: the default initialisation; 10: the large-weight regime).
RANK_MAGNITUDES = (1.0, 10.0)
#: Precisions of the sweep: ``auto`` = each metric at the Measurer's choice (redshift.claims.measure.PRECISION).
SWEEP_DTYPES = (AUTO, "float64", "float32")
#: Outputs measure_cells holds at once (the subjects of one measure_many call): cells stacked into
#: one batched forward come from one such block.
BLOCK_BYTES = 256 * 2**20


@dataclass(frozen=True)
class SweepSettings:
    """What shapes the sweep's numbers; stored in the JSON so a later run can check it matches."""

    samples: int = 32
    resolution: int = 64
    seed: int = MASTER_SEED
    width: int = 64
    scheme: str = "glorot_uniform"
    bias_scale: float | None = 1.0
    magnitudes: tuple[float, ...] = MAGNITUDES
    depths: tuple[int, ...] = DEPTHS
    activations: tuple[str, ...] = ACTIVATIONS
    metrics: tuple[str, ...] = tuple(METRICS)
    zoo_depth: int = ZOO_DEPTH
    dtype: str = AUTO

    def __post_init__(self):
        for name in ("magnitudes", "depths", "activations", "metrics"):
            object.__setattr__(self, name, tuple(getattr(self, name)))
        WeightSpec(self.scheme, 1.0, self.bias_scale)  # validates scheme and bias_scale
        NetworkSpec(width=self.width, depth=self.zoo_depth)
        for activation in self.activations:
            NetworkSpec(activation=activation)
        unknown = [m for m in self.metrics if m not in METRICS]
        if unknown:
            raise ValueError(f"unknown metric {unknown[0]!r} (allowed: {', '.join(METRICS)})")
        if self.dtype not in SWEEP_DTYPES:
            raise ValueError(f"unknown sweep dtype {self.dtype!r} (allowed: {', '.join(SWEEP_DTYPES)})")
        if self.samples < 1 or self.resolution < 2 or not self.magnitudes or not self.depths:
            raise ValueError(f"impossible sweep settings: {self}")

    def weights(self, magnitude: float) -> WeightSpec:
        return WeightSpec(self.scheme, magnitude, self.bias_scale)

    def to_json(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, mapping: dict) -> "SweepSettings":
        """Settings from a sweep JSON; a file without ``dtype`` was measured in float64 (before ``auto``)."""
        return cls(**{"dtype": "float64", **mapping})

    def describe(self) -> str:
        bias = "tied to the magnitude" if self.bias_scale is None else f"U(+-{self.bias_scale:g})"
        precision = ("float32 or float64 per metric (docs/performance.md)" if self.dtype == AUTO else self.dtype)
        return (f"{self.samples} networks per cell, width {self.width}, {self.resolution}^2 grid in [-1, 1]^2, "
                f"{precision}, weights {self.scheme} x magnitude, biases {bias}, seed {self.seed}")


def zoo_architectures(settings: SweepSettings) -> list[str]:
    """Every activation with every variant (``tanh``, ``tanh+ln``, ``tanh+res``, ``tanh+gate``), then ``unbiased``."""
    return [a + v for a in settings.activations for v in VARIANTS] + [UNBIASED]


def network_spec(architecture: str, depth: int | None, magnitude: float, settings: SweepSettings) -> NetworkSpec:
    """The NetworkSpec of a built-in architecture name (see ``zoo_architectures``)."""
    if architecture == UNBIASED:
        return NetworkSpec(family="unbiased", weights=WeightSpec("uniform", magnitude, settings.bias_scale))
    activation, _, variant = architecture.partition("+")
    fields = VARIANTS["+" + variant if variant else ""]
    return NetworkSpec(activation=activation, width=settings.width, depth=depth,
                       weights=settings.weights(magnitude), **fields)


def configurations(settings: SweepSettings, parts: Iterable[str] = SWEEP_PARTS) -> list[tuple[str, int | None, float]]:
    """(architecture, depth, magnitude) of the heatmaps (every plain MLP at every depth), then the
    zoo's (every variant at the zoo depth); no duplicates."""
    cells = []
    if "heatmaps" in parts:
        cells += [(a, d, m) for a in settings.activations for m in settings.magnitudes for d in settings.depths]
    if "zoo" in parts:
        for architecture in zoo_architectures(settings):
            depth = None if architecture == UNBIASED else settings.zoo_depth
            cells += [(architecture, depth, m) for m in settings.magnitudes]
    return list(dict.fromkeys(cells))


def summary_record(m: Measurement) -> dict:
    """{n, flagged, median, low, high} of one measurement (no median when every value is NaN)."""
    record = {"n": len(m.values), "flagged": m.flagged}
    if m.summary is not None:
        record.update(median=m.summary.median, low=m.summary.low, high=m.summary.high)
    return record


def machine(device: str) -> dict:
    return {"python": platform.python_version(), "torch": torch.__version__, "platform": platform.platform(),
            "device": device, "cuda_device": torch.cuda.get_device_name(device) if device.startswith("cuda") else None}


def cell_subject(spec) -> Subject:
    """A sweep cell's spec as a claims subject (network or function source)."""
    source = "function" if isinstance(spec, FunctionSpec) else "network"
    return Subject(source, spec, SOURCES[source].label(spec))


@dataclass
class Sweep:
    """Measured cells: ``records[i]`` = {architecture, depth, magnitude, label, metrics: {metric: summary}}."""

    settings: SweepSettings
    records: list[dict]
    created: str
    commit: str | None
    machine: dict
    #: The parts measured (SWEEP_PARTS names) and, for a shard, (index, count).
    parts: tuple[str, ...] = tuple(sorted(SWEEP_PARTS))
    shard: tuple[int, int] | None = None

    def __post_init__(self):
        self._index = {(r["architecture"], r["depth"], r["magnitude"]): r for r in self.records}

    def record(self, architecture: str, depth: int | None, magnitude: float | None) -> dict | None:
        return self._index.get((architecture, depth, magnitude))

    def value(self, architecture: str, depth: int | None, magnitude: float | None, metric: str,
              key: str = "median") -> float:
        """A cell's median (or low / high) of one metric; NaN if the cell is missing or all flagged."""
        record = self.record(architecture, depth, magnitude)
        return float(record["metrics"][metric].get(key, np.nan)) if record else float("nan")

    def grid(self, architecture: str, metric: str, depths: Iterable[int | None] | None = None,
             magnitudes: Iterable[float | None] | None = None, key: str = "median") -> np.ndarray:
        """[magnitudes, depths] array of one metric's medians (rows: magnitude, columns: depth)."""
        depths = self.settings.depths if depths is None else tuple(depths)
        magnitudes = self.settings.magnitudes if magnitudes is None else tuple(magnitudes)
        return np.array([[self.value(architecture, d, m, metric, key) for d in depths] for m in magnitudes])

    def to_json(self) -> dict:
        shard = None if self.shard is None else {"index": self.shard[0], "count": self.shard[1]}
        return {"created": self.created, "commit": self.commit, "machine": self.machine,
                "settings": self.settings.to_json(), "parts": list(self.parts), "shard": shard,
                "cells": self.records}

    def write(self, path: Path) -> None:
        atomic_write_text(path, json.dumps(self.to_json(), indent=1, allow_nan=False) + "\n")

    @classmethod
    def read(cls, path: Path) -> "Sweep":
        return cls.from_json(json.loads(Path(path).read_text(encoding="utf-8")))

    @classmethod
    def from_json(cls, document: dict) -> "Sweep":
        """A sweep from its JSON document (a file without ``parts`` holds every part, unsharded)."""
        shard = document.get("shard")
        return cls(SweepSettings.from_json(document["settings"]), document["cells"], document["created"],
                   document["commit"], document["machine"], tuple(document.get("parts", sorted(SWEEP_PARTS))),
                   None if shard is None else (shard["index"], shard["count"]))


def batch_order(subjects: list[Subject]) -> list[int]:
    """Subject indices grouped for batched sampling: by source, then (network subjects) by shape
    (``stack_key``) and activation, keeping the given order within a group, so that consecutive
    subjects share one batched forward."""
    groups: dict[tuple, list[int]] = {}
    for i, subject in enumerate(subjects):
        spec = subject.spec
        key = (subject.source, stack_key(spec), spec.hidden_activation) if isinstance(spec, NetworkSpec) else (
            subject.source,)
        groups.setdefault(key, []).append(i)
    return [i for group in groups.values() for i in group]


def measure_cells(cells: list[tuple], subjects: list[Subject], measurer: Measurer, metrics: Iterable[str],
                  samples: int, resolution: int, title: str, show_progress: bool = True,
                  batch_cells: int = 16, dtype: str = AUTO, block_bytes: int = BLOCK_BYTES) -> list[dict]:
    """Measure each cell ((architecture, depth, magnitude) -> its subject) with the measurer:
    records {architecture, depth, magnitude, label, source, spec, metrics}, in the order of ``cells``.

    Cells are measured in ``batch_order`` (cells of one network shape together), in blocks of as many
    subjects as hold ``block_bytes`` of float64 outputs, one ``measure_many`` call per block: its
    outputs are sampled in batched forwards across the block's cells and each metric runs on
    ``batch_cells`` subjects at a time. ``dtype``: float64, float32 or ``auto`` (the Measurer's
    choice per metric). A progress line shows on stderr."""
    metrics = list(metrics)
    order = batch_order(subjects)
    per_subject = max(1, samples * resolution * resolution * 8)
    block = max(1, block_bytes // per_subject)
    measured: dict[int, dict] = {}
    with Progress(len(cells), title, enabled=show_progress) as bar:
        for start in range(0, len(order), block):
            chosen = order[start:start + block]
            values = measurer.measure_many([subjects[i] for i in chosen], metrics, samples, resolution, dtype,
                                           batch=batch_cells)
            for i in chosen:
                subject = subjects[i]
                measured[i] = {m: summary_record(values[subject, m]) for m in metrics}
                bar.advance(subject.label)
    records = []
    for i, ((architecture, depth, magnitude), subject) in enumerate(zip(cells, subjects)):
        records.append({"architecture": architecture, "depth": depth, "magnitude": magnitude,
                        "label": subject.label, "source": subject.source, "spec": subject.mapping,
                        "metrics": measured[i]})
    return records


def sweep_cells(settings: SweepSettings, parts: Iterable[str] = SWEEP_PARTS) -> list[tuple]:
    """Every cell of a sweep in its fixed order: ``configurations``, then the white-noise ceiling."""
    return configurations(settings, parts) + [(NOISE, None, None)]


def check_shard(shard: tuple[int, int] | None) -> None:
    if shard is not None and not (isinstance(shard[1], int) and shard[1] >= 1 and 1 <= shard[0] <= shard[1]):
        raise ValueError(f"shard {shard[0]}/{shard[1]}: need 1 <= i <= N")


def run_sweep(settings: SweepSettings, device: str = "cpu", show_progress: bool = True,
              measurer: Measurer | None = None, parts: Iterable[str] = SWEEP_PARTS,
              shard: tuple[int, int] | None = None) -> Sweep:
    """Sample and measure every cell of ``sweep_cells(settings, parts)`` (the configurations, then the
    white-noise ceiling), or of shard (i, N) only: cells i-1, i-1+N, ... of that list."""
    check_shard(shard)
    measurer = measurer or Measurer(settings.seed, device)
    parts = tuple(sorted(set(parts)))
    cells = sweep_cells(settings, parts)
    if shard is not None:
        cells = cells[shard[0] - 1::shard[1]]
    subjects = [cell_subject(FunctionSpec(NOISE) if cell[0] == NOISE else network_spec(*cell, settings))
                for cell in cells]
    records = measure_cells(cells, subjects, measurer, settings.metrics, settings.samples, settings.resolution,
                            "sweep" if shard is None else f"sweep shard {shard[0]}/{shard[1]}", show_progress,
                            dtype=settings.dtype)
    return Sweep(settings, records, datetime.now(timezone.utc).isoformat(timespec="seconds"),
                 git_commit(Path(__file__).resolve().parents[2]), machine(measurer.device), parts, shard)
