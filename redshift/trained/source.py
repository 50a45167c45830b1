"""The ``trained`` claims source: one sample = one seed (data split + initialisation + minibatch order).

A subject reads (merged over the file's and claim's ``trained:`` settings):

    {source: trained,
     task: {name: modulo, modulus: 10, n_values: 16, input_dim: 2, train_fraction: 0.5}
           | {name: digits, n_train: 1000, band_pixels: 8},
     network: {activation: sine, prefactor: 3.0, width: 256, depth: 1, weights: {...}},  # input_dim: the task's
     training: {lr: 0.1, momentum: 0.9, weight_decay: 0.0, epochs: 100, batch_size: 32}}  # loss: the task's

Training runs on the claim's device in the claim's dtype. The ``digits`` task needs the optional
extra (scikit-learn); without it those claims are skipped with the reason.
``redshift.claims.sources`` imports this module to register the source, so the framework's names
are imported inside the methods (no import cycle), as in redshift.pitfalls.source.
"""
from collections.abc import Mapping

import numpy as np
import pytest

from redshift.networks import NetworkSpec, SpecError
from redshift.trained.digits import DigitsUnavailable
from redshift.trained.experiment import TASKS, TrainedSpec, run
from redshift.training import TrainingSpec

KEYS = ("task", "network", "training")
#: SGD settings a subject may set (TrainingSpec's fields but the loss, which is the task's) and their defaults
TRAINING_DEFAULTS = {"lr": 0.1, "momentum": 0.9, "weight_decay": 0.0, "epochs": 100, "batch_size": 32}
TASK_METRICS = {name: ("train_accuracy", *task.accuracies, "init_lz", "trained_lz") for name, task in TASKS.items()}


def _build(cls, field: str, mapping: Mapping, allowed: tuple[str, ...], **fixed):
    """cls(**fixed, **mapping) with keys outside ``allowed`` and bad values reported as SubjectError
    under ``field``."""
    from redshift.claims.sources import SubjectError

    for key in mapping:
        if key not in allowed:
            raise SubjectError(f"{field}.{key}", f"unknown key (allowed: {', '.join(allowed)})")
    try:
        return cls(**fixed, **mapping)
    except ValueError as exc:
        name, _, message = str(exc).partition(": ")
        raise SubjectError(f"{field}.{name}", message or str(exc)) from None
    except TypeError as exc:
        raise SubjectError(field, str(exc)) from None


class TrainedSource:
    """Networks trained on a task (redshift.trained), scored by accuracies and LZ before / after training."""

    name = "trained"
    settings_key = "trained"
    metrics = tuple(dict.fromkeys(m for names in TASK_METRICS.values() for m in names))

    def parse(self, mapping: Mapping, base: Mapping) -> TrainedSpec:
        """Spec from the subject mapping merged over ``base`` (the ``trained:`` settings); SubjectError."""
        from redshift.claims.sources import SubjectError, merge

        for key, value in mapping.items():
            if key not in KEYS:
                raise SubjectError(key, f"unknown key (allowed: {', '.join(KEYS)})")
            if not isinstance(value, Mapping):
                raise SubjectError(key, f"expected a mapping, got {value!r}")
        task_base = dict(base.get("task", {}))
        if "name" in mapping.get("task", {}) and mapping["task"]["name"] != task_base.get("name", "modulo"):
            task_base = {}  # another task's settings do not apply
        task_map = merge(task_base, mapping.get("task", {}))
        name = task_map.pop("name", "modulo")
        if name not in TASKS:
            raise SubjectError("task.name", f"unknown value {name!r} (allowed: {', '.join(TASKS)})")
        task = _build(TASKS[name], "task", task_map, tuple(TASKS[name].__dataclass_fields__))
        network_map = merge(base.get("network", {}), mapping.get("network", {}))
        if "input_dim" in network_map:
            raise SubjectError("network.input_dim", "set by the task (modulo: input_dim; digits: 64 + band_pixels)")
        try:
            network = NetworkSpec.from_mapping({**network_map, "input_dim": task.input_dim})
        except SpecError as exc:
            raise SubjectError(f"network.{exc.field}", exc.message) from None
        if network.family != "mlp":
            raise SubjectError("network.family", f"only 'mlp' networks are trained, got {network.family!r}")
        training_map = merge(base.get("training", {}), mapping.get("training", {}))
        training = _build(TrainingSpec, "training", {**TRAINING_DEFAULTS, **training_map}, tuple(TRAINING_DEFAULTS),
                          loss=task.loss)
        return TrainedSpec(task, network, training)

    def label(self, spec: TrainedSpec) -> str:
        return spec.label()

    def describe(self, settings) -> str:
        return f"trained {settings.dtype}"

    def sample(self, spec: TrainedSpec, n: int, seed: int, settings) -> dict[str, np.ndarray]:
        """n seeded runs on settings.device in settings.dtype: {metric: [n]}."""
        from redshift.claims.sources import DTYPES

        try:
            return run(spec, n, seed, settings.device, DTYPES[settings.dtype])
        except DigitsUnavailable as exc:
            pytest.skip(str(exc))

    def measure(self, outputs: dict[str, np.ndarray], metric: str) -> np.ndarray:
        if metric not in outputs:
            tasks = [name for name, names in TASK_METRICS.items() if metric in names]
            raise ValueError(f"metric {metric!r} is defined for the {' / '.join(tasks)} task only")
        return outputs[metric]
