"""The ``pitfalls`` source of the claims framework: trained networks on the simplicity-bias data
(Shah et al. 2020), one sample per seed, measured by redshift.pitfalls.measures.

A subject mapping (merged over the file's / claim's ``pitfalls:`` settings) reads::

    {source: pitfalls, dataset: noisy-lms-7, d: 10, n_train: 5000, n_test: 4000, noise: 0.1,
     block_width: 1.0, margin: 0.1, rotate: true,
     network: {activation: relu, width: 100, depth: 2, ...},      # NetworkSpec fields; input_dim = d
     training: {lr: 0.1, momentum: 0.9, weight_decay: 5.0e-4, epochs: 30, batch_size: 256}}

Every setting has a default (M1 of the notes: lms-5, d = 10, 2000 + 2000 points, (32, 1) ReLU MLP,
SGD lr 0.1, 20 epochs, batch 256). ``redshift.claims.sources`` imports this module to register the
source, so the framework's names (SubjectError, merge, DTYPES) are imported only when a function runs:
no import cycle in any order (as redshift.nngp.source).
"""
from collections.abc import Mapping

import numpy as np
from redshift.networks import NetworkSpec, SpecError
from redshift.pitfalls.experiment import PitfallsSpec, Runs, run
from redshift.pitfalls.measures import MEASURES, measure
from redshift.training import TrainingSpec

NETWORK_DEFAULTS = {"width": 32, "depth": 1}
TRAINING_DEFAULTS = {"lr": 0.1, "epochs": 20, "batch_size": 256}
DATA_KEYS = ("dataset", "d", "n_train", "n_test", "noise", "block_width", "margin", "rotate")


def _number(field: str, value) -> float:
    from redshift.claims.sources import SubjectError

    if isinstance(value, bool) or not isinstance(value, (int, float)):
        hint = " (YAML reads 1e-3 as a string: write 1.0e-3)" if isinstance(value, str) else ""
        raise SubjectError(field, f"expected a number, got {type(value).__name__} {value!r}{hint}")
    return float(value)


def _mapping(field: str, value) -> Mapping:
    from redshift.claims.sources import SubjectError

    if not isinstance(value, Mapping):
        raise SubjectError(field, f"expected a mapping, got {type(value).__name__} {value!r}")
    return value


def parse_spec(mapping: Mapping) -> PitfallsSpec:
    """A validated PitfallsSpec from a (merged) settings mapping; bad values raise SubjectError."""
    from redshift.claims.sources import SubjectError

    allowed = (*DATA_KEYS, "network", "training")
    for key in mapping:
        if key not in allowed:
            raise SubjectError(key, f"unknown key (allowed: {', '.join(allowed)})")
    data = {key: mapping[key] for key in DATA_KEYS if key in mapping}
    for key in ("noise", "block_width", "margin"):
        if key in data:
            data[key] = _number(key, data[key])
    d = data.get("d", PitfallsSpec.d)
    network = dict(_mapping("network", mapping.get("network", {})))
    if "input_dim" in network:
        raise SubjectError("network.input_dim", "is set by d; remove it")
    try:
        network_spec = NetworkSpec.from_mapping({**NETWORK_DEFAULTS, **network, "input_dim": d})
    except SpecError as exc:
        field = "d" if exc.field == "input_dim" else f"network.{exc.field}"
        raise SubjectError(field, exc.message) from None
    training = dict(_mapping("training", mapping.get("training", {})))
    for key in training:
        if key not in TrainingSpec.__dataclass_fields__:
            raise SubjectError(f"training.{key}", f"unknown key (allowed: {', '.join(TrainingSpec.__dataclass_fields__)})")
    try:
        training_spec = TrainingSpec(**{**TRAINING_DEFAULTS, **training})
    except ValueError as exc:
        name, _, message = str(exc).partition(": ")
        raise SubjectError(f"training.{name}", message) from None
    try:
        return PitfallsSpec(**data, network=network_spec, training=training_spec)
    except SpecError as exc:
        raise SubjectError(exc.field, exc.message) from None


class PitfallsSource:
    """Networks trained on a simplicity-bias dataset; one sample = one seed (data, rotation, init, order).

    Implements the ``redshift.claims.sources.Source`` interface; outputs are ``Runs``.
    """

    name = "pitfalls"
    settings_key = "pitfalls"
    metrics = tuple(MEASURES)

    def parse(self, mapping: Mapping, base: Mapping) -> PitfallsSpec:
        from redshift.claims.sources import merge

        return parse_spec(merge(base, mapping))

    def label(self, spec: PitfallsSpec) -> str:
        return spec.label()

    def describe(self, settings) -> str:
        return f"trained {settings.dtype}"

    def sample(self, spec: PitfallsSpec, n: int, seed: int, settings) -> Runs:
        from redshift.claims.sources import DTYPES

        return run(spec, n, seed, dtype=DTYPES[settings.dtype], device=settings.device)

    def measure(self, outputs: Runs, metric: str) -> np.ndarray:
        return measure(outputs, metric)
