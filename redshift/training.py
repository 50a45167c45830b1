"""Batched training of n independent networks (one optimizer step updates all of them).

The loss is the SUM over networks of each network's mean minibatch loss, so no gradient mixes
across networks, and SGD (with momentum and weight decay, both elementwise) or Adam (elementwise
moments) on the stacked parameters is exactly n independent runs. Each network sees its own data
and its own minibatch order, drawn from one seeded CPU generator: deterministic given the seed.
On the CPU, training runs on one torch thread (``torch_threads``): these matmuls are small, and two
threads on a shared 2-core box are many times slower than one.
"""
import contextlib
from dataclasses import dataclass, fields
from typing import Literal

import torch
import torch.nn.functional as F
from torch import Tensor

from redshift.core import FieldError
from redshift.networks import NetworkSpec, Parameters, forward
from redshift.parse import Spec, setting

LOSSES = ("logistic", "mse")
OPTIMIZERS = ("sgd", "adam")


@contextlib.contextmanager
def torch_threads(count: int):
    """Pin torch's intra-op threads (small matmuls are much faster on one thread); restore afterwards."""
    before = torch.get_num_threads()
    torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(before)


@dataclass(frozen=True)
class TrainingSpec(Spec):
    """Optimizer settings. ``logistic``: binary cross-entropy on the scalar output as a logit, labels in
    {0, 1} (the two-class softmax cross-entropy of a logit difference); ``mse``: (f(x) - y)^2.
    ``sgd``: torch.optim.SGD (momentum, weight decay); ``adam``: torch.optim.Adam (betas 0.9, 0.999,
    eps 1e-8; weight decay as L2 in the gradient; ``momentum`` must stay 0)."""

    loss: Literal[LOSSES] = setting("logistic", doc="training loss (set by the task where there is one)")
    optimizer: Literal[OPTIMIZERS] = setting("sgd", doc="sgd or adam")
    lr: float = setting(0.1, min=0, doc="learning rate")
    momentum: float = setting(0.0, min=0, doc="SGD momentum")
    weight_decay: float = setting(0.0, min=0, doc="L2 weight decay")
    epochs: int = setting(20, min=1, doc="passes over the training set")
    batch_size: int = setting(128, min=1, doc="minibatch size")

    def check(self) -> None:
        if self.optimizer == "adam" and self.momentum:
            raise FieldError("momentum", "applies to sgd only (adam has its own moments): remove it or set 0")

    def to_mapping(self) -> dict:
        """The fields as plain data; ``optimizer`` only when it is not sgd (so SGD subjects keep the
        canonical spec, and hence the seeds, they had before the option existed)."""
        mapping = super().to_mapping()
        if self.optimizer == "sgd":
            del mapping["optimizer"]
        return mapping

    def label(self) -> str:
        """e.g. ``sgd(lr0.1,m0.9,wd0.0005,e30,b256)``, ``adam(lr0.01,e1000,b128)`` (the loss is not shown)."""
        if self.optimizer == "adam":
            wd = f",wd{self.weight_decay:g}" if self.weight_decay else ""
            return f"adam(lr{self.lr:g}{wd},e{self.epochs},b{self.batch_size})"
        return f"sgd(lr{self.lr:g},m{self.momentum:g},wd{self.weight_decay:g},e{self.epochs},b{self.batch_size})"


def loss_per_network(spec: TrainingSpec, outputs: Tensor, targets: Tensor) -> Tensor:
    """Mean loss of each network over its points: outputs, targets [n, P] -> [n]."""
    if spec.loss == "logistic":
        return F.binary_cross_entropy_with_logits(outputs, targets, reduction="none").mean(dim=1)
    return ((outputs - targets) ** 2).mean(dim=1)


def _trainable(params: Parameters) -> tuple[Parameters, list[Tensor]]:
    """A copy of params whose tensors are leaves requiring grad, and the flat list of them."""
    copies = {}
    for f in fields(params):
        value = getattr(params, f.name)
        if isinstance(value, tuple):
            copies[f.name] = tuple(t.detach().clone().requires_grad_(True) for t in value)
        else:
            copies[f.name] = value.detach().clone().requires_grad_(True)
    trainable = Parameters(**copies)
    flat = [t for v in copies.values() for t in (v if isinstance(v, tuple) else (v,))]
    return trainable, flat


def minibatch_orders(n: int, points: int, epochs: int, generator: torch.Generator) -> Tensor:
    """[epochs, n, points]: a fresh random permutation of each network's points per epoch."""
    return torch.argsort(torch.rand(epochs, n, points, generator=generator, dtype=torch.float64), dim=-1)


def make_optimizer(training: TrainingSpec, parameters: list[Tensor]) -> torch.optim.Optimizer:
    if training.optimizer == "adam":
        return torch.optim.Adam(parameters, lr=training.lr, weight_decay=training.weight_decay)
    return torch.optim.SGD(parameters, lr=training.lr, momentum=training.momentum, weight_decay=training.weight_decay)


def train(spec: NetworkSpec, params: Parameters, inputs: Tensor, targets: Tensor, training: TrainingSpec,
          seed: int, threads: int | None = 1) -> Parameters:
    """Train the n networks of ``params``: network i on inputs[i] [P, d] with targets[i] [P].

    Minibatch SGD (torch.optim.SGD: v <- momentum v + (grad + weight_decay w); w <- w - lr v) or
    Adam, ``epochs`` passes, batches of ``batch_size`` in each network's own random order (the last
    batch of an epoch may be smaller). On the CPU torch runs on ``threads`` threads meanwhile (None:
    as it is). Returns the trained parameters, detached.
    """
    pinned = torch_threads(threads) if threads and inputs.device.type == "cpu" else contextlib.nullcontext()
    with pinned:
        return _train(spec, params, inputs, targets, training, seed)


def _train(spec: NetworkSpec, params: Parameters, inputs: Tensor, targets: Tensor, training: TrainingSpec,
           seed: int) -> Parameters:
    n, points = targets.shape
    if inputs.shape[:2] != (n, points) or params.n != n:
        raise ValueError(f"expected inputs [n={params.n}, P, d] and targets [n, P]; got {list(inputs.shape)} "
                         f"and {list(targets.shape)}")
    trainable, flat = _trainable(params)
    optimizer = make_optimizer(training, flat)
    generator = torch.Generator().manual_seed(seed)
    orders = minibatch_orders(n, points, training.epochs, generator).to(inputs.device)
    for order in orders:
        for start in range(0, points, training.batch_size):
            index = order[:, start:start + training.batch_size]
            batch_x = torch.gather(inputs, 1, index[..., None].expand(-1, -1, inputs.shape[-1]))
            batch_y = torch.gather(targets, 1, index)
            optimizer.zero_grad(set_to_none=True)
            loss_per_network(training, forward(spec, trainable, batch_x), batch_y).sum().backward()
            optimizer.step()
    return Parameters(**{f.name: _detach(getattr(trainable, f.name)) for f in fields(trainable)})


def _detach(value):
    return tuple(t.detach() for t in value) if isinstance(value, tuple) else value.detach()


@torch.no_grad()
def predict(spec: NetworkSpec, params: Parameters, inputs: Tensor) -> Tensor:
    """Outputs [n, P] of network i on inputs[i] (inputs [n, P, d]) or on shared inputs [P, d]."""
    return forward(spec, params, inputs)
