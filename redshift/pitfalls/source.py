"""The ``pitfalls`` source of the claims framework: trained networks on the simplicity-bias data
(Shah et al. 2020), one sample per seed, measured by redshift.pitfalls.measures.

A subject mapping (merged over the file's / claim's ``pitfalls:`` settings) reads::

    {source: pitfalls, dataset: noisy-lms-7, d: 10, n_train: 5000, n_test: 4000, noise: 0.1,
     block_width: 1.0, margin: 0.1, rotate: true,
     network: {activation: relu, width: 100, depth: 2, ...},      # NetworkSpec fields; input_dim = d
     training: {lr: 0.1, momentum: 0.9, weight_decay: 5.0e-4, epochs: 30, batch_size: 256}}

Every setting has a default (Shah et al.'s smallest setup: lms-5, d = 10, 2000 + 2000 points, a (32, 1)
ReLU MLP, SGD lr 0.1, 20 epochs, batch 256).
"""
from collections.abc import Mapping

import numpy as np

from redshift.core import FieldError, Settings, merge
from redshift.parse import parse
from redshift.pitfalls.experiment import PitfallsSpec, Runs, run
from redshift.pitfalls.measures import ENSEMBLE_MEASURES, MEASURES, measure
from redshift.sources import SpecSource

DEFAULTS = {"network": {"width": 32, "depth": 1}, "training": {"lr": 0.1, "epochs": 20, "batch_size": 256}}


def parse_spec(mapping: Mapping) -> PitfallsSpec:
    """A validated PitfallsSpec from a (merged) settings mapping over DEFAULTS; the network's input_dim is d."""
    network = mapping.get("network", {})
    if isinstance(network, Mapping) and "input_dim" in network:
        raise FieldError("network.input_dim", "is set by d; remove it")
    merged = merge(DEFAULTS, mapping)
    d = merged.get("d", PitfallsSpec.d)
    if isinstance(merged.get("network"), Mapping) and isinstance(d, int) and not isinstance(d, bool) and d >= 2:
        merged["network"] = {**merged["network"], "input_dim": d}
    return parse(PitfallsSpec, merged)


class PitfallsSource(SpecSource):
    """Networks trained on a simplicity-bias dataset; one sample = one seed (data, rotation, init, order).
    Outputs are ``Runs``."""

    name = "pitfalls"
    spec_type = PitfallsSpec
    metrics = tuple(MEASURES)

    def parse(self, mapping: Mapping, base: Mapping) -> PitfallsSpec:
        return parse_spec(merge(base, mapping))

    def cannot_measure(self, spec: PitfallsSpec, metric: str) -> str | None:
        if metric in ENSEMBLE_MEASURES and spec.ensemble < 2:
            return f"{metric} needs an ensemble: set ensemble >= 2 (networks per seed), got {spec.ensemble}"
        return super().cannot_measure(spec, metric)

    def describe(self, settings: Settings) -> str:
        return f"trained {settings.dtype}"

    def sample(self, spec: PitfallsSpec, n: int, seed: int, settings: Settings) -> Runs:
        return run(spec, n, seed, dtype=settings.torch_dtype, device=settings.device, resolution=settings.resolution)

    def measure(self, outputs: Runs, metric: str) -> np.ndarray:
        return measure(outputs, metric)


SOURCE = PitfallsSource()
