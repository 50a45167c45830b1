"""One trained-model experiment: n seeds, each its own data split, initialisation and minibatch order
(Neural Redshift §4). All n networks train at once (redshift.training), and only when a metric of the
trained networks is asked for: ``init_lz`` alone never trains."""
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import torch
from torch import Tensor

from redshift.metrics import lz
from redshift.core import FieldError
from redshift.networks import NetworkSpec, sample_parameters
from redshift.parse import Spec, setting
from redshift.seeding import derive_seed
from redshift.trained.digits import ShortcutTask
from redshift.trained.modulo import ModuloTask
from redshift.training import TrainingSpec, predict, train

TASKS = {"modulo": ModuloTask, "digits": ShortcutTask}


@dataclass(frozen=True)
class TrainedSpec(Spec):
    """A task, the network trained on it (input_dim set by the task) and how it is trained; the
    training loss is the task's (logistic for modulo, mse for digits)."""

    task: ModuloTask | ShortcutTask = setting(doc="modulo or digits (by ``name``)")
    network: NetworkSpec = setting(doc="the MLP trained")
    training: TrainingSpec = setting(doc="optimizer settings (sgd or adam)")

    def check(self) -> None:
        if self.network.family != "mlp":
            raise FieldError("network.family", f"only 'mlp' networks are trained, got {self.network.family!r}")
        if self.network.input_dim != self.task.input_dim:
            raise FieldError("network.input_dim", f"must be the task's input_dim {self.task.input_dim}")
        if self.training.loss != self.task.loss:
            raise FieldError("training.loss", f"the {self.task.label()} task trains with {self.task.loss!r}, "
                                              f"got {self.training.loss!r}")

    def to_mapping(self) -> dict:
        """As the case file writes it: the task carries its ``name``."""
        name = next(name for name, cls in TASKS.items() if isinstance(self.task, cls))
        return {**super().to_mapping(), "task": {"name": name, **self.task.to_mapping()},
                "training": self.training.to_mapping()}

    def label(self) -> str:
        """``trained-<task>-<network>-<optimizer>``, e.g. ``...-adam(lr0.01,e2000,b128)`` or
        ``...-sgd(lr0.01,m0.9,wd0,e15,b32)`` (the loss is implied by the task)."""
        return f"trained-{self.task.label()}-{self.network.label()}-{self.training.label()}"


def output_lz(outputs: Tensor) -> Tensor:
    """LZ of functions on a fixed input set: outputs [n, R] in the probe's order -> [n].

    C = N_w([f(x_r) > median_r f(x_r)] for r = 1..R), Kaspar-Schuster LZ76 as the grid metric ``lz``
    (whose raster order, for the modulo probe with d = 2, is exactly the probe's lexicographic
    order); NaN for a near-constant or non-finite output.
    """
    return lz(outputs[:, None, :])


def accuracy(task, outputs: Tensor, labels: Tensor) -> Tensor:
    """Fraction of points classified correctly, per network: [n, P] -> [n]; NaN where outputs are non-finite."""
    value = task.correct(outputs, labels).to(torch.float64).mean(dim=1)
    return torch.where(torch.isfinite(outputs).all(dim=1), value, torch.nan)


class TrainedRuns:
    """n seeded runs of a spec: data and initialisations drawn at once, training on first need.

    Seeds (derive_seed(seed, part)): "data" draws the n datasets, "init" the n initialisations,
    "order" the minibatch orders. ``measure(metric)``: train_accuracy, the task's accuracies on its
    test set, init_lz and trained_lz (``output_lz`` on the task's probe inputs, before and after
    training), float64 [n].
    """

    def __init__(self, spec: TrainedSpec, n: int, seed: int, device: str = "cpu", dtype: torch.dtype = torch.float32):
        self.spec, self.n, self.seed, self.device, self.dtype = spec, n, seed, device, dtype
        self.data = spec.task.draw(n, torch.Generator().manual_seed(derive_seed(seed, "data")))
        self.initial = sample_parameters(spec.network, n, derive_seed(seed, "init")).to(device=device, dtype=dtype)
        self._values: dict[str, np.ndarray] = {}

    def put(self, t: Tensor) -> Tensor:
        return t.to(device=self.device, dtype=self.dtype if t.is_floating_point() else t.dtype)

    @cached_property
    def trained(self):
        return train(self.spec.network, self.initial, self.put(self.data.train_x), self.put(self.data.train_y),
                     self.spec.training, derive_seed(self.seed, "order"))

    @cached_property
    def _test_outputs(self) -> Tensor:
        return predict(self.spec.network, self.trained, self.put(self.data.test_x))

    def _compute(self, metric: str) -> Tensor:
        spec, data = self.spec, self.data
        if metric == "init_lz":
            return output_lz(predict(spec.network, self.initial, self.put(data.probe_x)))
        if metric == "trained_lz":
            return output_lz(predict(spec.network, self.trained, self.put(data.probe_x)))
        if metric == "train_accuracy":
            return accuracy(spec.task, predict(spec.network, self.trained, self.put(data.train_x)),
                            self.put(data.train_labels))
        if metric in data.test_labels:
            return accuracy(spec.task, self._test_outputs, self.put(data.test_labels[metric]))
        raise ValueError(f"unknown metric {metric!r} for the {spec.task.label()} task")

    def measure(self, metric: str) -> np.ndarray:
        if metric not in self._values:
            self._values[metric] = self._compute(metric).double().cpu().numpy()
        return self._values[metric]

    def metrics(self) -> tuple[str, ...]:
        return ("train_accuracy", "init_lz", "trained_lz", *self.data.test_labels)


def run(spec: TrainedSpec, n: int, seed: int, device: str = "cpu", dtype: torch.dtype = torch.float32) -> dict[str, np.ndarray]:
    """Train n networks from ``seed`` and score them on every metric: {metric: float64 [n]} (TrainedRuns)."""
    runs = TrainedRuns(spec, n, seed, device, dtype)
    return {metric: runs.measure(metric) for metric in runs.metrics()}
