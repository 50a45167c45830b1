"""Finite-width random networks behind an NNGP kernel: the suite's sampler (redshift.networks) for the
kernel check, and rejection of random networks that fit the training labels (Bernstein & Yue 2021 §5; the public section_5.py).

``suite_network`` is the NetworkSpec whose infinite-width output covariance is ``nngp_kernel(x, activation,
layers - 1, weight_scale)``: fan_in_normal weights (W ~ N(0, s^2 / fan_in), output layer included), zero
biases, ``layers - 1`` hidden layers. For ReLU with s = sqrt(2) its outputs are sqrt(2) times the paper's
SimpleNet's (the output layer carries the gain), so signs, orthants and fitted labels are the same.
"""
import numpy as np
import torch

from redshift.networks import NetworkSpec, WeightSpec, evaluate, sample_parameters
from redshift.seeding import derive_seed

NETWORK_CHUNK = 250  # networks drawn and evaluated at once (parameters of 250 width-1024 nets: ~130 MB)


def suite_network(activation: str, layers: int, width: int, weight_scale: float, input_dim: int) -> NetworkSpec:
    return NetworkSpec(activation=activation, input_dim=input_dim, width=width, depth=layers - 1,
                       weights=WeightSpec(scheme="fan_in_normal", scale=weight_scale, bias_scale=0.0))


def sample_outputs(spec: NetworkSpec, inputs: np.ndarray, networks: int, seed: int,
                   dtype: torch.dtype = torch.float64) -> np.ndarray:
    """[networks, P] outputs of independent random networks at inputs [P, d], drawn in chunks
    (chunk k from seed derive_seed(seed, k)) so memory stays bounded."""
    x = torch.as_tensor(inputs, dtype=dtype)
    chunks = []
    for k, start in enumerate(range(0, networks, NETWORK_CHUNK)):
        params = sample_parameters(spec, min(NETWORK_CHUNK, networks - start), derive_seed(seed, k), dtype)
        chunks.append(evaluate(spec, params, x).to(torch.float64).numpy())
    return np.concatenate(chunks)


def sample_covariance(outputs: np.ndarray) -> np.ndarray:
    """E[f(x) f(x')] estimated from outputs [N, P] of zero-mean random networks: f^T f / N."""
    return outputs.T @ outputs / len(outputs)


def rejection_error(outputs: np.ndarray, y_train: np.ndarray, y_test: np.ndarray) -> tuple[float, int]:
    """(mean test error of the networks that fit the training labels, how many did): outputs [N, n_train + n_test].

    As in the public section_5.py, a network with every training sign wrong is sign-flipped and kept.
    """
    n = len(y_train)
    agree = outputs[:, :n] * y_train > 0
    fit, anti = agree.all(axis=1), (~agree).all(axis=1)
    flip = np.where(anti, -1.0, 1.0)[fit | anti]
    kept = outputs[fit | anti, n:] * flip[:, None]
    if len(kept) == 0:
        return float("nan"), 0
    return float(np.mean(kept * y_test <= 0)), int(len(kept))
