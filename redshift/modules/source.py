"""The ``module`` source: a user's torch.nn.Module factory as claim subjects on the 2-D grid, scored
by the grid metrics like the ``network`` source (redshift.sources.GridSource).

Collection imports no torch for case files without module subjects; ``check`` (run at collection for
each module subject) imports torch and the factory, builds the module once and runs one forward, so
a bad import path, a factory that raises, a wrong output shape or non-finite outputs fail the case
file with one line. A claim's ``module:`` mapping (and ``defaults.module``) is merged under its module
subjects, as ``network:`` is under network subjects.
"""
from collections.abc import Mapping

from redshift.core import FieldError, Settings, lazy_module
from redshift.modules.spec import ModuleSpec
from redshift.parse import parse
from redshift.sources import GridSource

sampling = lazy_module("redshift.modules.sampling")


class ModuleSource(GridSource):
    """Random functions of ``factory(**kwargs)`` (redshift.modules.sampling)."""

    name = "module"
    spec_type = ModuleSpec

    def parse(self, mapping: Mapping, base: Mapping) -> ModuleSpec:
        parse(ModuleSpec, mapping)  # report a bad key at its own place before merging
        return super().parse(mapping, base)

    def check(self, spec: ModuleSpec, samples: int, settings: Settings) -> None:
        spec.require_factory()
        if spec.input_dim != 2:
            raise FieldError("input_dim", f"grid subjects need input_dim 2, got {spec.input_dim}")
        super().check(spec, samples, settings)
        sampling.check(spec, settings.dtype)

    def sample(self, spec: ModuleSpec, n: int, seed: int, settings: Settings):
        return sampling.sample_grid(spec, n, seed, settings.resolution, device=settings.device,
                                    dtype=settings.torch_dtype)


SOURCE = ModuleSource()
