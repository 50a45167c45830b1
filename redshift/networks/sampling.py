"""Sample random networks and evaluate them in one call (notes §1.1, §2.1)."""
import torch
from torch import Tensor

from redshift.networks.evaluation import evaluate
from redshift.networks.grid import grid_points
from redshift.networks.parameters import sample_parameters
from redshift.networks.spec import NetworkSpec


def sample_functions(spec: NetworkSpec, n: int, seed: int, inputs: Tensor, *, device: torch.device | str = "cpu",
                     dtype: torch.dtype = torch.float64, max_chunk_bytes: int = 256 * 2**20) -> Tensor:
    """[n, P] outputs of n networks drawn with ``seed`` (on CPU), moved to ``device``, at inputs [P, input_dim]."""
    params = sample_parameters(spec, n, seed, dtype).to(device)
    return evaluate(spec, params, inputs, max_chunk_bytes=max_chunk_bytes)


def sample_grid(spec: NetworkSpec, n: int, seed: int, resolution: int = 64, *, device: torch.device | str = "cpu",
                dtype: torch.dtype = torch.float64, max_chunk_bytes: int = 256 * 2**20) -> Tensor:
    """[n, resolution, resolution] outputs on grid_points(resolution) in [-1, 1]^2; [:, i, j] is at (x_i, x_j)."""
    if spec.input_dim != 2:
        raise ValueError(f"sample_grid needs input_dim 2, got {spec.input_dim} ({spec.label()})")
    inputs = grid_points(resolution, 2)
    y = sample_functions(spec, n, seed, inputs, device=device, dtype=dtype, max_chunk_bytes=max_chunk_bytes)
    return y.reshape(n, resolution, resolution)
