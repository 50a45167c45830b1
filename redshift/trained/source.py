"""The ``trained`` claims source: one sample = one seed (data split + initialisation + minibatch order).

A subject reads (merged over the file's and claim's ``trained:`` settings):

    {source: trained,
     task: {name: modulo, modulus: 10, n_values: 16, input_dim: 2, train_fraction: 0.5}
           | {name: digits, n_train: 1000, band_pixels: 8},
     network: {activation: sine, prefactor: 3.0, width: 256, depth: 1, weights: {...}},  # input_dim: the task's
     training: {optimizer: sgd | adam, lr: 0.1, momentum: 0.9, weight_decay: 0.0, epochs: 100,
                batch_size: 32}}  # the defaults (momentum: sgd only); loss: the task's

Training runs on the claim's device in the claim's dtype, when a trained metric is first measured. The ``digits`` task needs the optional
extra (scikit-learn); without it those claims are skipped with the reason.
"""
from collections.abc import Mapping

import numpy as np
import pytest

from redshift.core import FieldError, Settings, merge
from redshift.parse import parse
from redshift.sources import SpecSource
from redshift.trained.digits import DigitsUnavailable
from redshift.trained.experiment import TASKS, TrainedRuns, TrainedSpec

KEYS = ("task", "network", "training")
DEFAULTS = {"task": {"name": "modulo"},
            "training": {"optimizer": "sgd", "lr": 0.1, "momentum": 0.9, "weight_decay": 0.0, "epochs": 100,
                         "batch_size": 32}}
TASK_METRICS = {name: ("train_accuracy", *task.accuracies, "init_lz", "trained_lz") for name, task in TASKS.items()}


class TrainedSource(SpecSource):
    """Networks trained on a task (redshift.trained), scored by accuracies and LZ before / after training."""

    name = "trained"
    spec_type = TrainedSpec
    metrics = tuple(dict.fromkeys(m for names in TASK_METRICS.values() for m in names))

    def parse(self, mapping: Mapping, base: Mapping) -> TrainedSpec:
        """Spec from the subject mapping merged over ``base`` (the ``trained:`` settings); FieldError."""
        for key, value in mapping.items():
            if key not in KEYS:
                raise FieldError(key, f"unknown key (allowed: {', '.join(KEYS)})")
            if not isinstance(value, Mapping):
                raise FieldError(key, f"expected a mapping, got {value!r}")
        if "input_dim" in mapping.get("network", {}) or "input_dim" in base.get("network", {}):
            raise FieldError("network.input_dim", "set by the task (modulo: input_dim; digits: 64 + band_pixels)")
        if "loss" in mapping.get("training", {}) or "loss" in base.get("training", {}):
            raise FieldError("training.loss", "unknown key: the loss is the task's (allowed: "
                                              + ", ".join(DEFAULTS["training"]) + ")")
        task_base = dict(base.get("task", {}))
        if "name" in mapping.get("task", {}) and mapping["task"]["name"] != task_base.get("name", "modulo"):
            task_base = {}  # another task's settings do not apply
        merged = merge(merge(DEFAULTS, {**base, "task": task_base}), mapping)
        task_map = dict(merged["task"])
        name = task_map.pop("name")
        if name not in TASKS:
            raise FieldError("task.name", f"unknown value {name!r} (allowed: {', '.join(TASKS)})")
        task = parse(TASKS[name], task_map, "task")
        network = {**merged.get("network", {}), "input_dim": task.input_dim}
        training = {**merged["training"], "loss": task.loss}
        return parse(TrainedSpec, {"task": task, "network": network, "training": training})

    def spec_from_mapping(self, mapping: Mapping) -> TrainedSpec:
        """The spec a measurement record stores (``TrainedSpec.to_mapping()``: the task with its name, the
        network with its input_dim, the training with its loss) parsed back."""
        task_map = dict(mapping["task"])
        task = parse(TASKS[task_map.pop("name")], task_map, "task")
        return parse(TrainedSpec, {"task": task, "network": mapping["network"], "training": mapping["training"]})

    def cannot_measure(self, spec: TrainedSpec, metric: str) -> str | None:
        task = next(name for name, cls in TASKS.items() if isinstance(spec.task, cls))
        if metric in self.metrics and metric not in TASK_METRICS[task]:
            return f"metric {metric!r} is defined for the {' / '.join(n for n, m in TASK_METRICS.items() if metric in m)} task only"
        return super().cannot_measure(spec, metric)

    def describe(self, settings: Settings) -> str:
        return f"trained {settings.dtype}"

    def sample(self, spec: TrainedSpec, n: int, seed: int, settings: Settings) -> TrainedRuns:
        """n seeded runs on settings.device in settings.dtype (trained on the first trained metric)."""
        try:
            return TrainedRuns(spec, n, seed, settings.device, settings.torch_dtype)
        except DigitsUnavailable as exc:
            pytest.skip(str(exc))

    def measure(self, outputs: TrainedRuns, metric: str) -> np.ndarray:
        return outputs.measure(metric)


SOURCE = TrainedSource()
