"""Complexity sweeps over weight magnitude x depth: the numbers behind every report figure and table.

Paper §3 (Figs. 4-5), notes §2.2 and §3.3-3.4: a configuration (architecture, depth, magnitude) is
sampled as ``samples`` random networks with ``redshift.networks.sample_grid`` from the seed
``derive_seed(seed, label)`` (the same key scheme as the claims, so a label measured here and in a
claim is the same networks), and each metric of ``metrics.METRICS`` is summarised by its median over
the finite values with a 95% percentile-bootstrap interval (``redshift.claims.stats.summarise``,
resampling seeded by ``derive_seed(seed, label, metric)``); NaN values (near-constant or non-finite
outputs) are counted as ``flagged``.

Two families of configurations share one sweep:
- heatmaps: each activation of ``activations`` as a plain MLP at every depth x magnitude;
- the zoo: every activation plain and with layer norm, residual (around the activation) and gating,
  plus the unbiased Fourier model, at ``zoo_depth`` and every magnitude (the ranking and the
  nearest-architecture search read these).
Magnitude is the weight scale of ``scheme`` (``glorot_uniform``: alpha in W ~ U(+-alpha
sqrt(6 / (fan_in + fan_out)))), biases U(+-bias_scale) (None: tied to the magnitude).
"""
import dataclasses
import json
import platform
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterable

import numpy as np
import torch

from redshift.metrics import METRICS
from redshift.claims.report import atomic_write_text, git_commit
from redshift.analytic import analytic_grid
from redshift.claims.stats import summarise
from redshift.networks import NetworkSpec, WeightSpec, sample_grid
from redshift.report.progress import Progress
from redshift.seeding import MASTER_SEED, derive_seed

#: 0.1 .. 100, three steps per decade (10^(k/3) to 3 significant digits), so 1 and 10 are on the grid.
MAGNITUDES = (0.1, 0.215, 0.464, 1.0, 2.15, 4.64, 10.0, 21.5, 46.4, 100.0)
DEPTHS = (1, 2, 3, 4, 5, 6, 7)
#: The paper's activations (Fig. 3-5: ReLU, GELU, Swish, SELU, TanH, Gaussian, sine) plus the code's sigmoid.
ACTIVATIONS = ("relu", "gelu", "swish", "selu", "sigmoid", "tanh", "gaussian", "sine")
#: Zoo variants (paper §3, Fig. 5; Table 1): name suffix -> NetworkSpec fields.
VARIANTS = {"": {}, "+ln": {"layer_norm": True}, "+res": {"residual": "activation"}, "+gate": {"gated": True}}
UNBIASED = "unbiased"
#: The ceiling: i.i.d. Gaussian noise on the grid (label as the claims' ``{function: white_noise}``).
NOISE, NOISE_LABEL = "white_noise", "fn:white_noise"
ZOO_DEPTH = 6
#: Magnitudes at which the zoo is ranked (alpha = 1: the default initialisation; 10: the large-weight regime).
RANK_MAGNITUDES = (1.0, 10.0)
BATCH_CELLS = 16  # cells measured per metric call: 16 x 32 networks x 64^2 float64 = 17 MB


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
        if self.samples < 1 or self.resolution < 2 or not self.magnitudes or not self.depths:
            raise ValueError(f"impossible sweep settings: {self}")

    def weights(self, magnitude: float) -> WeightSpec:
        return WeightSpec(self.scheme, magnitude, self.bias_scale)

    def to_json(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, mapping: dict) -> "SweepSettings":
        return cls(**mapping)

    def describe(self) -> str:
        bias = "tied to the magnitude" if self.bias_scale is None else f"U(+-{self.bias_scale:g})"
        return (f"{self.samples} networks per cell, width {self.width}, {self.resolution}^2 grid in [-1, 1]^2, "
                f"float64, weights {self.scheme} x magnitude, biases {bias}, seed {self.seed}")


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


def configurations(settings: SweepSettings) -> list[tuple[str, int | None, float]]:
    """(architecture, depth, magnitude) of the heatmaps, then the zoo's others; no duplicates."""
    cells = [(a, d, m) for a in settings.activations for m in settings.magnitudes for d in settings.depths]
    for architecture in zoo_architectures(settings):
        depth = None if architecture == UNBIASED else settings.zoo_depth
        cells += [(architecture, depth, m) for m in settings.magnitudes]
    return list(dict.fromkeys(cells))


def summaries(label: str, values: dict[str, np.ndarray], seed: int) -> dict:
    """{metric: {n, flagged, median, low, high}} from each metric's per-network values (NaN = flagged);
    no median when every value is NaN."""
    result = {}
    for metric, v in values.items():
        finite = v[np.isfinite(v)]
        record = {"n": len(v), "flagged": int(len(v) - len(finite))}
        if len(finite):
            s = summarise(finite, np.random.default_rng(derive_seed(seed, label, metric)))
            record.update(median=s.median, low=s.low, high=s.high)
        result[metric] = record
    return result


def measure(outputs: torch.Tensor, metrics: Iterable[str]) -> dict[str, np.ndarray]:
    """{metric: values [...]} of outputs [..., H, W]: one batched call per metric."""
    return {metric: METRICS[metric](outputs).cpu().numpy() for metric in metrics}


def machine(device: str) -> dict:
    return {"python": platform.python_version(), "torch": torch.__version__, "platform": platform.platform(),
            "device": device, "cuda_device": torch.cuda.get_device_name() if device == "cuda" else None}


@dataclass
class Sweep:
    """Measured cells: ``records[i]`` = {architecture, depth, magnitude, label, metrics: {metric: summary}}."""

    settings: SweepSettings
    records: list[dict]
    created: str
    commit: str | None
    machine: dict

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
        return {"created": self.created, "commit": self.commit, "machine": self.machine,
                "settings": self.settings.to_json(), "cells": self.records}

    def write(self, path: Path) -> None:
        atomic_write_text(path, json.dumps(self.to_json(), indent=1, allow_nan=False) + "\n")

    @classmethod
    def read(cls, path: Path) -> "Sweep":
        document = json.loads(Path(path).read_text(encoding="utf-8"))
        return cls(SweepSettings.from_json(document["settings"]), document["cells"], document["created"],
                   document["commit"], document["machine"])


def run_cells(cells: list[tuple[str, int | None, float | None]], label: Callable, sample: Callable,
              metrics: Iterable[str], seed: int, title: str, show_progress: bool = True,
              batch_cells: int = BATCH_CELLS) -> list[dict]:
    """Measure each (architecture, depth, magnitude): ``label(cell)`` names it (and keys its seed),
    ``sample(cell, seed) -> [n, H, W]`` draws it. The metrics run on ``batch_cells`` cells at once
    (their per-call overhead dominates at 32 x 64^2). A progress line shows on stderr."""
    records, pending = [], []

    def flush():
        values = measure(torch.stack([outputs for _, _, outputs in pending]), metrics)
        for i, ((architecture, depth, magnitude), name, _) in enumerate(pending):
            records.append({"architecture": architecture, "depth": depth, "magnitude": magnitude, "label": name,
                            "metrics": summaries(name, {m: v[i] for m, v in values.items()}, seed)})
        pending.clear()

    with Progress(len(cells), title, enabled=show_progress) as bar:
        for cell in cells:
            name = label(cell)
            pending.append((cell, name, sample(cell, derive_seed(seed, name))))
            if len(pending) == batch_cells:
                flush()
            bar.advance(name)
        if pending:
            flush()
    return records


def run_sweep(settings: SweepSettings, device: str = "cpu", show_progress: bool = True) -> Sweep:
    """Sample and measure every configuration of ``configurations(settings)``, then the white-noise ceiling."""
    def label(cell):
        return network_spec(*cell, settings).label()

    def sample(cell, seed):
        return sample_grid(network_spec(*cell, settings), settings.samples, seed, settings.resolution, device=device)

    records = run_cells(configurations(settings), label, sample, settings.metrics, settings.seed, "sweep",
                        show_progress)
    noise = analytic_grid(NOISE, settings.samples, derive_seed(settings.seed, NOISE_LABEL), settings.resolution)
    records.append({"architecture": NOISE, "depth": None, "magnitude": None, "label": NOISE_LABEL,
                    "metrics": summaries(NOISE_LABEL, measure(noise.to(device), settings.metrics), settings.seed)})
    return Sweep(settings, records, datetime.now(timezone.utc).isoformat(timespec="seconds"),
                 git_commit(Path(__file__).resolve().parents[2]), machine(device))
