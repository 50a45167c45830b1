"""Batched training of n independent networks (one optimizer step updates all of them).

The loss is the SUM over networks of each network's mean minibatch loss, so no gradient mixes
across networks, and SGD (with momentum and weight decay, both elementwise) on the stacked
parameters is exactly n independent SGD runs. Each network sees its own data and its own
minibatch order, drawn from one seeded CPU generator: deterministic given the seed.
"""
from dataclasses import dataclass, fields
from typing import Literal

import torch
import torch.nn.functional as F
from torch import Tensor

from redshift.networks import NetworkSpec, Parameters, forward
from redshift.parse import Spec, setting

LOSSES = ("logistic", "mse")


@dataclass(frozen=True)
class TrainingSpec(Spec):
    """SGD settings. ``logistic``: binary cross-entropy on the scalar output as a logit, labels in
    {0, 1} (the two-class softmax cross-entropy of a logit difference); ``mse``: (f(x) - y)^2."""

    loss: Literal[LOSSES] = setting("logistic", doc="training loss (set by the task where there is one)")
    lr: float = setting(0.1, min=0, doc="SGD learning rate")
    momentum: float = setting(0.0, min=0, doc="SGD momentum")
    weight_decay: float = setting(0.0, min=0, doc="L2 weight decay")
    epochs: int = setting(20, min=1, doc="passes over the training set")
    batch_size: int = setting(128, min=1, doc="minibatch size")


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


def train(spec: NetworkSpec, params: Parameters, inputs: Tensor, targets: Tensor, training: TrainingSpec,
          seed: int) -> Parameters:
    """Train the n networks of ``params``: network i on inputs[i] [P, d] with targets[i] [P].

    Plain minibatch SGD (torch.optim.SGD: v <- momentum v + (grad + weight_decay w); w <- w - lr v),
    ``epochs`` passes, batches of ``batch_size`` in each network's own random order (the last batch
    of an epoch may be smaller). Returns the trained parameters, detached.
    """
    n, points = targets.shape
    if inputs.shape[:2] != (n, points) or params.n != n:
        raise ValueError(f"expected inputs [n={params.n}, P, d] and targets [n, P]; got {list(inputs.shape)} "
                         f"and {list(targets.shape)}")
    trainable, flat = _trainable(params)
    optimizer = torch.optim.SGD(flat, lr=training.lr, momentum=training.momentum,
                                weight_decay=training.weight_decay)
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
