"""Nero and the batched SimpleNet trained to alpha * labels."""
import math

import pytest
import torch

from redshift.nngp.nero import Nero
from redshift.nngp.simplenet import simplenet, train_to_label_scale


def test_nero_projects_neurons_to_zero_mean_unit_norm_and_keeps_them_there():
    g = torch.Generator().manual_seed(0)
    w = (torch.randn(3, 5, 7, generator=g, dtype=torch.float64) * 4 + 1).requires_grad_()
    bias = torch.randn(5, generator=g, dtype=torch.float64).requires_grad_()
    opt = Nero([w, bias], lr=0.1)
    for _ in range(3):
        loss = (w.sum(-1) ** 2).sum() + (w[..., 0] * bias).sum()
        opt.zero_grad()
        loss.backward()
        opt.step()
        torch.testing.assert_close(w.mean(-1), torch.zeros(3, 5, dtype=torch.float64), atol=1e-12, rtol=0)
        torch.testing.assert_close(w.norm(dim=-1), torch.ones(3, 5, dtype=torch.float64), atol=1e-12, rtol=0)


def test_nero_step_size_is_lr_per_neuron_on_the_first_step():
    """First step: EMA / (1 - beta) = ||g||^2, so an unconstrained (1-D) parameter moves by lr * scale * g / |g|."""
    p = torch.tensor([2.0, -3.0], dtype=torch.float64, requires_grad=True)
    opt = Nero([p], lr=0.01)
    (p * torch.tensor([5.0, -0.1], dtype=torch.float64)).sum().backward()
    opt.step()
    scale = 2.5  # mean |p| at construction
    torch.testing.assert_close(p.detach(), torch.tensor([2.0 - 0.01 * scale, -3.0 + 0.01 * scale],
                                                        dtype=torch.float64))


def test_networks_are_trained_independently_and_reach_the_label_scale():
    g = torch.Generator().manual_seed(1)
    x = torch.randn(2, 6, 10, generator=g, dtype=torch.float64)
    x = x * math.sqrt(10) / x.norm(dim=-1, keepdim=True)
    y = torch.sign(x[..., 0])
    result = train_to_label_scale(x, y, x, y, alpha=2.0, layers=3, width=64, generator=torch.Generator().manual_seed(2))
    assert torch.all(result.train_error == 0)
    assert torch.all((result.train_scale - 2.0).abs() < 0.5)


def test_simplenet_forward_is_the_bias_free_sqrt2_relu_mlp():
    g = torch.Generator().manual_seed(3)
    w1, w2 = torch.randn(1, 4, 3, generator=g), torch.randn(1, 1, 4, generator=g)
    x = torch.randn(1, 5, 3, generator=g)
    expected = (math.sqrt(2) * torch.relu(x[0] @ w1[0].T)) @ w2[0].T
    torch.testing.assert_close(simplenet([w1, w2], x)[0], expected[:, 0])
