"""The paper's SimpleNet trained to targets alpha * labels with Nero, N networks at once (Bernstein & Yue 2021 §4-§5; the public util/trainer.py).

SimpleNet(depth L, width W): a bias-free MLP d -> W -> ... -> W -> 1 with L linear layers and hidden
activation gain * phi (sqrt(2) * relu in the paper); prediction sign f(x). Training as in the public
``util/trainer.py``: weights N(0, 1/fan_in) projected by Nero, Nero lr 0.01 / beta 0.999, lr * 0.9^epoch,
100 epochs, shuffled minibatches of 50, and the loss ||f(x_batch) - alpha y_batch||_2 per network
(the Euclidean norm of the batch residual: not squared, not averaged). The N networks train independently
(the summed loss separates), each on its own data.
"""
import math
from dataclasses import dataclass

import torch
from torch import Tensor

from redshift.networks import ACTIVATIONS
from redshift.nngp.nero import Nero

EPOCHS = 100
LR = 0.01
BETA = 0.999
LR_DECAY = 0.9
BATCH = 50
RANDOM_CHUNK = 200  # random networks drawn and evaluated at once


@dataclass(frozen=True)
class TrainedErrors:
    """Per network: final train and test error of sign f, and mean |f| on the training points."""

    train_error: Tensor
    test_error: Tensor
    train_scale: Tensor


def simplenet(weights: list[Tensor], x: Tensor, activation: str = "relu", gain: float = math.sqrt(2)) -> Tensor:
    """f [N, P] of N networks with weights [N, out, in] per layer at inputs x [N, P, d]."""
    act = ACTIVATIONS[activation]
    h = x
    for w in weights[:-1]:
        h = gain * act(h @ w.transpose(-1, -2))
    return (h @ weights[-1].transpose(-1, -2)).squeeze(-1)


def initial_weights(n_nets: int, sizes: list[int], generator: torch.Generator, dtype: torch.dtype) -> list[Tensor]:
    """Per layer [n_nets, fan_out, fan_in] with entries N(0, 1 / fan_in), as the public code's init."""
    return [torch.randn(n_nets, fan_out, fan_in, generator=generator, dtype=dtype) / math.sqrt(fan_in)
            for fan_in, fan_out in zip(sizes, sizes[1:])]


@torch.no_grad()
def random_outputs(x: Tensor, networks: int, layers: int, width: int, generator: torch.Generator,
                   activation: str = "relu", gain: float = math.sqrt(2)) -> Tensor:
    """[networks, P] outputs of freshly initialised SimpleNets at inputs x [P, d], RANDOM_CHUNK at a time."""
    sizes = [x.shape[1]] + [width] * (layers - 1) + [1]
    chunks = []
    for start in range(0, networks, RANDOM_CHUNK):
        n = min(RANDOM_CHUNK, networks - start)
        weights = initial_weights(n, sizes, generator, x.dtype)
        chunks.append(simplenet(weights, x.expand(n, *x.shape), activation, gain))
    return torch.cat(chunks)


def _error(f: Tensor, y: Tensor) -> Tensor:
    return (f * y <= 0).to(f.dtype).mean(dim=-1)


def train_to_label_scale(x_train: Tensor, y_train: Tensor, x_test: Tensor, y_test: Tensor, alpha: float,
                         layers: int, width: int, generator: torch.Generator, activation: str = "relu",
                         gain: float = math.sqrt(2), epochs: int = EPOCHS) -> TrainedErrors:
    """Train N SimpleNets (inputs [N, n, d], labels [N, n] in {-1, +1}) to f(x_i) = alpha y_i (module docstring)."""
    n_nets, n, d = x_train.shape
    weights = [w.requires_grad_() for w in initial_weights(n_nets, [d] + [width] * (layers - 1) + [1], generator,
                                                           x_train.dtype)]
    optimizer = Nero(weights, lr=LR, beta=BETA)
    rows = torch.arange(n_nets)[:, None]
    for epoch in range(epochs):
        for group in optimizer.param_groups:
            group["lr"] = LR * LR_DECAY**epoch
        order = torch.argsort(torch.rand(n_nets, n, generator=generator), dim=1)
        for start in range(0, n, BATCH):
            batch = order[:, start:start + BATCH]
            residual = simplenet(weights, x_train[rows, batch], activation, gain) - alpha * y_train[rows, batch]
            optimizer.zero_grad(set_to_none=True)
            residual.norm(dim=1).sum().backward()
            optimizer.step()
    with torch.no_grad():
        f_train = simplenet(weights, x_train, activation, gain)
        f_test = simplenet(weights, x_test, activation, gain)
    return TrainedErrors(_error(f_train, y_train), _error(f_test, y_test), f_train.abs().mean(dim=1))
