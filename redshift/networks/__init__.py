"""Batched random-network sampler (notes §2.1, §2.2, §4): specs, parameters, batched forward, oracle."""
from redshift.networks.activations import ACTIVATIONS
from redshift.networks.forward import evaluate, forward
from redshift.networks.grid import grid_points
from redshift.networks.parameters import Parameters, sample_parameters
from redshift.networks.reference import reference_module
from redshift.networks.sampling import sample_functions, sample_grid
from redshift.networks.spec import NetworkSpec, SpecError, WeightSpec

__all__ = [
    "ACTIVATIONS", "NetworkSpec", "Parameters", "SpecError", "WeightSpec", "evaluate", "forward", "grid_points",
    "reference_module", "sample_functions", "sample_grid", "sample_parameters",
]
