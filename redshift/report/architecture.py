"""User architectures for ``compare``, as claim subjects: a YAML entry (NetworkSpec fields) gives
``network`` subjects, an import path ``package.module:factory`` gives ``module`` subjects
(redshift.modules: parameters re-drawn with the sweep's scheme at each magnitude, or, with
``own_init``, the factory's own initialisation).

Both expose ``name``, ``takes_depth``, ``own_init``, ``subject(depth, magnitude) -> Subject`` (the cell's
subject; compare measures it through the claims' Measurer, so seeds come from its canonical spec and
a YAML entry equal to a zoo architecture is the zoo's networks) and ``check(resolution, samples)``,
which runs before the zoo is measured. A factory that takes a ``depth`` argument is called with
``depth=`` (the subject's ``kwargs``). Every problem is an ``ArchitectureError``: one line naming the
architecture.
"""
from pathlib import Path

import yaml

from redshift.claims.model import Subject
from redshift.core import SOURCES, FieldError, Settings, lazy_module, merge
from redshift.modules.spec import IMPORT_PATH, ModuleSpec
from redshift.networks.spec import NetworkSpec, WeightSpec
from redshift.report.sweep import SweepSettings

factory = lazy_module("redshift.modules.factory")


class ArchitectureError(ValueError):
    """A user architecture that cannot be compared; the message is one line naming it and the problem."""


class SpecArchitecture:
    """A NetworkSpec from a YAML file, over the sweep's width and weight scheme; depth and weight scale swept."""

    own_init = False

    def __init__(self, path: Path, settings: SweepSettings):
        try:
            mapping = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as exc:
            text = " ".join(str(exc).split())
            raise ArchitectureError(f"{path}: cannot read the YAML entry ({type(exc).__name__}: {text})") from None
        if not isinstance(mapping, dict):
            raise ArchitectureError(f"{path}: expected a mapping of network settings (NetworkSpec fields), "
                                    f"got {type(mapping).__name__}")
        base = {"width": settings.width, "weights": {"scheme": settings.scheme, "bias_scale": settings.bias_scale}}
        try:
            NetworkSpec.from_mapping(mapping)
            if mapping.get("family") == "unbiased":
                base = {}
            self.spec = NetworkSpec.from_mapping(merge(base, mapping))
        except FieldError as exc:
            raise ArchitectureError(f"{path}: {exc}") from None
        self.name = Path(path).stem
        self.takes_depth = self.spec.family != "unbiased"

    def subject(self, depth: int | None, magnitude: float) -> Subject:
        changes = {"weights.scale": magnitude} | ({"depth": depth} if depth is not None else {})
        spec = self.spec.replace(**changes)
        return Subject("network", spec, spec.label())

    def check(self, resolution: int, samples: int) -> None:
        """Nothing to check: the spec was validated on loading."""


class FactoryArchitecture:
    """``package.module:factory``: a callable returning a torch.nn.Module [P, 2] -> [P, 1]."""

    def __init__(self, path: str, settings: SweepSettings, own_init: bool = False):
        if not IMPORT_PATH.match(path):
            raise ArchitectureError(f"{path}: expected an import path 'package.module:factory' or a YAML file")
        self.name = path
        self.settings = settings
        self.own_init = own_init
        try:
            self.takes_depth = factory.takes_argument(factory.import_factory(path), "depth")
        except FieldError as exc:
            raise ArchitectureError(f"{path}: {exc.message}") from None

    def spec(self, depth: int | None, magnitude: float | None) -> ModuleSpec:
        kwargs = {"depth": depth} if depth is not None else {}
        if self.own_init:
            return ModuleSpec(factory=self.name, kwargs=kwargs, init="own")
        s = self.settings
        return ModuleSpec(factory=self.name, kwargs=kwargs, weights=WeightSpec(s.scheme, magnitude, s.bias_scale))

    def subject(self, depth: int | None, magnitude: float | None) -> Subject:
        spec = self.spec(depth, magnitude)
        return Subject("module", spec, spec.label())

    def check(self, resolution: int, samples: int) -> None:
        """The module source's collection check at the first depth: one build and one forward."""
        depth = self.settings.depths[0] if self.takes_depth else None
        magnitude = None if self.own_init else self.settings.magnitudes[0]
        try:
            SOURCES["module"].check(self.spec(depth, magnitude), samples, Settings(resolution))
        except FieldError as exc:
            raise ArchitectureError(f"{self.name}: {exc.message}") from None


def load_architecture(text: str, settings: SweepSettings, own_init: bool = False):
    """A YAML file (``*.yaml`` / ``*.yml``, or any existing file) or ``package.module:factory``."""
    path = Path(text)
    if path.suffix in (".yaml", ".yml") or path.is_file():
        if own_init:
            raise ArchitectureError(f"{text}: --own-init applies to factories only (a YAML entry is drawn by the "
                                    f"suite's sampler)")
        return SpecArchitecture(path, settings)
    return FactoryArchitecture(text, settings, own_init)
