"""One trained-model experiment: n seeds, each its own data split, initialisation and minibatch order
(Neural Redshift §4; notes §3.5). All n networks train at once (redshift.training)."""
from dataclasses import dataclass

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
    training: TrainingSpec = setting(doc="SGD settings")

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
        return {**super().to_mapping(), "task": {"name": name, **self.task.to_mapping()}}

    def label(self) -> str:
        """``trained-<task>-<network>-sgd(lr..,m..,e..,b..[,wd..])`` (the loss is implied by the task)."""
        t = self.training
        sgd = f"sgd(lr{t.lr:g},m{t.momentum:g},e{t.epochs},b{t.batch_size}"
        sgd += f",wd{t.weight_decay:g})" if t.weight_decay else ")"
        return f"trained-{self.task.label()}-{self.network.label()}-{sgd}"


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


def run(spec: TrainedSpec, n: int, seed: int, device: str = "cpu", dtype: torch.dtype = torch.float32) -> dict[str, np.ndarray]:
    """Train n networks from ``seed`` and score them: {metric: float64 [n]}.

    Seeds (derive_seed(seed, part)): "data" draws the n datasets, "init" the n initialisations,
    "order" the minibatch orders. Metrics: train_accuracy, the task's accuracies on its test set,
    init_lz and trained_lz (``output_lz`` on the task's probe inputs, before and after training).
    """
    data = spec.task.draw(n, torch.Generator().manual_seed(derive_seed(seed, "data")))
    params = sample_parameters(spec.network, n, derive_seed(seed, "init")).to(device=device, dtype=dtype)

    def put(t: Tensor) -> Tensor:
        return t.to(device=device, dtype=dtype if t.is_floating_point() else t.dtype)

    trained = train(spec.network, params, put(data.train_x), put(data.train_y), spec.training,
                    derive_seed(seed, "order"))
    results = {
        "train_accuracy": accuracy(spec.task, predict(spec.network, trained, put(data.train_x)), put(data.train_labels)),
        "init_lz": output_lz(predict(spec.network, params, put(data.probe_x))),
        "trained_lz": output_lz(predict(spec.network, trained, put(data.probe_x))),
    }
    test_outputs = predict(spec.network, trained, put(data.test_x))
    for name, labels in data.test_labels.items():
        results[name] = accuracy(spec.task, test_outputs, put(labels))
    return {name: value.double().cpu().numpy() for name, value in results.items()}
