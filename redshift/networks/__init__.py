"""Batched random-network sampler (Neural Redshift §3): specs, parameters, batched forward, oracle.

Names load on first use (redshift.core.LazyAttributes): importing the specs does not import torch.
"""
from redshift.core import LazyAttributes

EXPORTS = LazyAttributes(__name__, {
    "ACTIVATIONS": "activations", "NetworkSpec": "spec", "WeightSpec": "spec", "Parameters": "parameters",
    "sample_parameters": "parameters", "sample_parameters_many": "parameters", "evaluate": "evaluation",
    "forward": "evaluation", "stack_key": "spec", "grid_points": "grid", "reference_module": "reference",
    "sample_functions": "sampling", "sample_grid": "sampling", "sample_grid_many": "sampling",
})
__all__ = list(EXPORTS)
__getattr__ = EXPORTS.module_getattr
