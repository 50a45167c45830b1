"""Nero (Liu et al. 2021) for batches of networks, as the paper trains (Bernstein & Yue 2021 §4; public util/nero.py).

A neuron is the last axis of a weight tensor: a [N, out, in] stack holds N networks' [out, in] matrices,
each row one neuron. Tensors with at least two axes are constrained: every neuron's weights are projected
to zero mean and unit L2 norm at construction and after every step. The update per neuron is

    p -= lr * scale * grad / sqrt(EMA_beta(||grad_neuron||^2) / (1 - beta^t)),

with scale the mean neuron norm at construction (1 after the projection) and 0/0 -> 0.
"""
import torch
from torch import Tensor


def neuron_norm(p: Tensor) -> Tensor:
    return p.norm(dim=-1, keepdim=True) if p.ndim > 1 else p.abs()


def project(p: Tensor) -> None:
    """In place: zero mean and unit norm per neuron (last axis)."""
    p.sub_(p.mean(dim=-1, keepdim=True))
    p.div_(p.norm(dim=-1, keepdim=True))


class Nero(torch.optim.Optimizer):
    """Nero with per-neuron constraints and per-neuron adaptive step sizes (module docstring)."""

    def __init__(self, params, lr: float = 0.01, beta: float = 0.999):
        super().__init__(params, {"lr": lr, "beta": beta})
        with torch.no_grad():
            for group in self.param_groups:
                for p in group["params"]:
                    if p.ndim > 1:
                        project(p)
                    state = self.state[p]
                    state["step"] = 0
                    state["exp_avg_sq"] = torch.zeros_like(neuron_norm(p))
                    scale = float(neuron_norm(p).mean())
                    state["scale"] = scale if scale > 0 else 0.01

    @torch.no_grad()
    def step(self, closure=None):
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                state["step"] += 1
                state["exp_avg_sq"].mul_(group["beta"]).add_((1 - group["beta"]) * neuron_norm(p.grad) ** 2)
                normed = p.grad / (state["exp_avg_sq"] / (1 - group["beta"] ** state["step"])).sqrt()
                normed = torch.nan_to_num(normed, nan=0.0)
                p.sub_(group["lr"] * state["scale"] * normed)
                if p.ndim > 1:
                    project(p)
