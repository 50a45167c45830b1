"""Modulo addition task (Neural Redshift §4.1, Figs. 7-8).

Inputs are the integer points x in {0, ..., N-1}^d; the binary label is

    y(x) = 1[ (x_1 + ... + x_d) mod M < M / 2 ],

so y is periodic along the diagonal with period M: a smaller M is a higher target frequency.
(The paper prints 1(sum x_i <= (M/2) mod M) and leaves d to its appendix; we read it as the residue
against M/2, with a strict "<" so that even M gives balanced classes.) Networks see the points
scaled to [-1, 1]^d: u = 2 x / (N - 1) - 1.
"""
from dataclasses import dataclass

import torch
from torch import Tensor

from redshift.core import FieldError
from redshift.parse import Spec, setting
from redshift.trained.datasets import TaskData


@dataclass(frozen=True)
class ModuloTask(Spec):
    """Modulo addition on {0..N-1}^d with modulus M; a random ``train_fraction`` of the N^d points trains."""

    modulus: int = setting(10, min=2, doc="M")
    n_values: int = setting(16, min=2, doc="N: values per input coordinate")
    input_dim: int = setting(2, min=1, doc="d")
    train_fraction: float = setting(0.5, min=0, max=1, min_open=True, max_open=True, doc="share of the N^d points that trains")

    def check(self) -> None:
        if self.n_values ** self.input_dim > 2**20:
            raise FieldError("input_dim", f"n_values ** input_dim = {self.n_values ** self.input_dim} points: at most 2^20")
        if not 1 <= self.n_train < self.n_values ** self.input_dim:
            raise FieldError("train_fraction", f"{self.train_fraction} of {self.n_values ** self.input_dim} points "
                                               "leaves an empty training or test set")

    @property
    def n_train(self) -> int:
        return round(self.train_fraction * self.n_values ** self.input_dim)

    loss = "logistic"
    accuracies = ("test_accuracy",)

    def label(self) -> str:
        return f"mod{self.modulus}-{self.n_values}^{self.input_dim}-train{self.train_fraction:g}"

    def draw(self, n: int, generator: torch.Generator) -> TaskData:
        """n random train / test splits of the N^d points; the probe is all N^d points in lexicographic order."""
        points = integer_points(self.n_values, self.input_dim)
        x, y = scale_inputs(points, self.n_values), modulo_labels(points, self.modulus)
        train, test = random_splits(n, len(points), self.n_train, generator)
        return TaskData(train_x=x[train], train_y=y[train], train_labels=y[train], test_x=x[test],
                        test_labels={"test_accuracy": y[test]}, probe_x=x)

    @staticmethod
    def correct(outputs: Tensor, labels: Tensor) -> Tensor:
        """The output is a logit: predicted class 1[f(x) > 0]."""
        return (outputs > 0) == (labels > 0.5)


def integer_points(n_values: int, input_dim: int) -> Tensor:
    """All of {0..N-1}^d as int64 [N^d, d], in lexicographic order (x_1 slowest): raster order for d = 2."""
    axes = torch.meshgrid(*[torch.arange(n_values)] * input_dim, indexing="ij")
    return torch.stack([a.reshape(-1) for a in axes], dim=-1)


def modulo_labels(points: Tensor, modulus: int) -> Tensor:
    """y = 1[(sum_i x_i) mod M < M / 2] as float64 {0, 1}; points [..., d] integers."""
    residue = points.sum(dim=-1) % modulus
    return (2 * residue < modulus).to(torch.float64)


def scale_inputs(points: Tensor, n_values: int) -> Tensor:
    """u = 2 x / (N - 1) - 1 in [-1, 1], float64."""
    return 2.0 * points.to(torch.float64) / (n_values - 1) - 1.0


def random_splits(n: int, points: int, n_train: int, generator: torch.Generator) -> tuple[Tensor, Tensor]:
    """n independent random splits of range(points): train [n, n_train] and test [n, points - n_train] indices."""
    order = torch.argsort(torch.rand(n, points, generator=generator, dtype=torch.float64), dim=-1)
    return order[:, :n_train], order[:, n_train:]
