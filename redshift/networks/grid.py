"""The regular input grid X_grid in [low, high]^dim (Teney et al. 2024, §3: networks evaluated on a 2-D grid)."""
import torch
from torch import Tensor


def grid_points(resolution: int = 64, dim: int = 2, low: float = -1.0, high: float = 1.0,
                dtype: torch.dtype = torch.float64) -> Tensor:
    """[resolution**dim, dim] points: torch.linspace(low, high, resolution) per axis (endpoints
    included), meshgrid(indexing="ij"), flattened row-major. Point i*R + j of a 2-D grid is
    (axis[i], axis[j]): x1 is the row index once outputs are reshaped to [R, R], as in the public
    code's make_linspace_points."""
    axis = torch.linspace(low, high, resolution, dtype=dtype)
    mesh = torch.meshgrid(*[axis] * dim, indexing="ij")
    return torch.stack([m.reshape(-1) for m in mesh], dim=-1)
