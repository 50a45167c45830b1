"""User architectures for ``compare``: a YAML entry (a NetworkSpec mapping) or an import path
``package.module:factory`` returning a torch.nn.Module that maps [P, 2] inputs to [P, 1] (or [P]).

Both expose ``name``, ``takes_depth``, ``own_init``, ``label(depth, magnitude)`` (the seed key, as in
the claims) and ``sample(depth, magnitude, n, seed, resolution, device) -> [n, R, R]``.

A factory's parameters are re-drawn per sample with the sweep's weight scheme, as the suite's sampler
draws an MLP (``redshift.networks.parameters``, draw order: network after network, parameters in
``named_parameters()`` order, float64 on one CPU generator):
- a parameter whose name ends in ``bias``: U(+-bias_scale) (N(0, bias_scale^2) for the normal schemes;
  bias_scale None = tied to the magnitude);
- any other parameter with >= 2 dims, a weight: magnitude x base(fan_in, fan_out) x unit, with fans as
  torch.nn.init computes them (dim 1 x receptive field, dim 0 x receptive field);
- any other parameter (norm gains, scalars) and every buffer keeps the module's own value.
The n networks run batched: torch.func.vmap over torch.func.functional_call with the stacked
parameters (a per-network loop only if vmap cannot trace the module). With ``own_init`` the factory
is re-run under per-sample torch seeds (derive_seed(cell seed, i)) and keeps its own initialisation.
"""
import importlib
import inspect
import math
import os
import sys
from pathlib import Path
from typing import Callable

import torch
import yaml
from torch import Tensor, nn
from torch.func import functional_call, stack_module_state, vmap

from redshift.core import FieldError, merge
from redshift.networks import NetworkSpec, grid_points, sample_grid
from redshift.networks.parameters import scheme_scale, unit_draw
from redshift.report.sweep import SweepSettings
from redshift.seeding import derive_seed

POINT_CHUNK = 1024  # grid points per batched forward: bounds the [n, chunk, width] activations


class ArchitectureError(ValueError):
    """A user architecture that cannot be compared; the message is one line naming it and the problem."""


def one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text[:300]}" if text else type(exc).__name__


class SpecArchitecture:
    """A NetworkSpec from a YAML file, over the sweep's width and weight scheme; depth and weight scale swept."""

    own_init = False

    def __init__(self, path: Path, settings: SweepSettings):
        try:
            mapping = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as exc:
            raise ArchitectureError(f"{path}: cannot read the YAML entry ({one_line(exc)})") from None
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

    def network(self, depth: int | None, magnitude: float) -> NetworkSpec:
        changes = {"weights.scale": magnitude} | ({"depth": depth} if depth is not None else {})
        return self.spec.replace(**changes)

    def label(self, depth: int | None, magnitude: float) -> str:
        return self.network(depth, magnitude).label()

    def check(self, resolution: int, device: str) -> None:
        """Nothing to check: the spec was validated on loading."""

    def sample(self, depth, magnitude, n, seed, resolution, device) -> Tensor:
        y = sample_grid(self.network(depth, magnitude), n, seed, resolution, device=device)
        finite_or_raise(y, self.label(depth, magnitude))
        return y


def finite_or_raise(y: Tensor, label: str) -> None:
    bad = ~torch.isfinite(y.flatten(1))
    if bad.any():
        first = int(bad.any(dim=1).nonzero()[0])
        raise ArchitectureError(f"{label}: network {first} of {y.shape[0]} returned non-finite values at "
                                f"{int(bad[first].sum())} of {bad.shape[1]} grid points")


def is_bias(name: str) -> bool:
    return name.rsplit(".", 1)[-1].endswith("bias")


def fans(shape: tuple[int, ...]) -> tuple[int, int]:
    """(fan_in, fan_out) of a weight as torch.nn.init: dims 1 and 0, times the receptive field (dims 2:)."""
    receptive = math.prod(shape[2:])
    return shape[1] * receptive, shape[0] * receptive


class FactoryArchitecture:
    """``package.module:factory``: a callable returning an nn.Module [P, 2] -> [P, 1]; called with
    ``depth=`` when it takes a ``depth`` argument."""

    def __init__(self, path: str, settings: SweepSettings, own_init: bool = False):
        self.path = self.name = path
        self.settings = settings
        self.own_init = own_init
        module_name, _, attribute = path.partition(":")
        if not module_name or not attribute:
            raise ArchitectureError(f"{path}: expected an import path 'package.module:factory' or a YAML file")
        if os.getcwd() not in sys.path:  # as `python -m` does: packages in the working directory import
            sys.path.insert(0, os.getcwd())
        try:
            module = importlib.import_module(module_name)
        except Exception as exc:
            raise ArchitectureError(f"{path}: cannot import {module_name!r} ({one_line(exc)})") from None
        self.factory: Callable = getattr(module, attribute, None)
        if not callable(self.factory):
            raise ArchitectureError(f"{path}: module {module_name!r} has no callable {attribute!r}")
        try:
            self.takes_depth = "depth" in inspect.signature(self.factory).parameters
        except (TypeError, ValueError):
            self.takes_depth = False

    def build(self, depth: int | None) -> nn.Module:
        """The factory's module in float64; any failure becomes a one-line ArchitectureError."""
        try:
            module = self.factory(depth=depth) if self.takes_depth and depth is not None else self.factory()
        except Exception as exc:
            raise ArchitectureError(f"{self.path}: the factory raised {one_line(exc)}") from None
        if not isinstance(module, nn.Module):
            raise ArchitectureError(f"{self.path}: the factory returned {type(module).__name__}, "
                                    f"expected a torch.nn.Module")
        return module.to(torch.float64)

    def label(self, depth: int | None, magnitude: float | None) -> str:
        parts = [self.path] + ([f"d{depth}"] if depth is not None else [])
        if magnitude is None:
            parts.append("own_init")
        else:
            s = self.settings
            parts.append(f"{s.scheme}({magnitude:g})")
            if s.bias_scale != 1.0:
                parts.append("b(tied)" if s.bias_scale is None else f"b({s.bias_scale:g})")
        return "-".join(parts)

    def forward(self, module: nn.Module, x: Tensor, label: str) -> Tensor:
        """One plain forward [P, 2] -> [P]; raises a one-line error for a raise or a wrong shape."""
        try:
            with torch.no_grad():
                y = module(x)
        except Exception as exc:
            raise ArchitectureError(f"{label}: forward on a [{x.shape[0]}, 2] input batch raised {one_line(exc)} "
                                    f"(the module must map [P, 2] to [P, 1])") from None
        if not isinstance(y, Tensor) or y.shape not in ((x.shape[0], 1), (x.shape[0],)):
            shape = list(y.shape) if isinstance(y, Tensor) else type(y).__name__
            raise ArchitectureError(f"{label}: maps a [{x.shape[0]}, 2] input batch to {shape}; "
                                    f"expected [{x.shape[0]}, 1] (2 inputs, 1 output)")
        return y.reshape(-1)

    def check(self, resolution: int, device: str) -> None:
        """Build the module at the first depth and run it once on the grid with its own parameters."""
        depth = self.settings.depths[0] if self.takes_depth else None
        module = self.seeded_build(depth, self.settings.seed).to(device)
        x = grid_points(resolution).to(device)
        finite_or_raise(self.forward(module, x, self.label(depth, None))[None], self.label(depth, None))

    def parameters(self, module: nn.Module, magnitude: float, n: int, seed: int) -> dict[str, Tensor]:
        """Stacked [n, ...] parameters re-drawn with the sweep's scheme at ``magnitude`` (module doc)."""
        s = self.settings
        bias_scale = magnitude if s.bias_scale is None else s.bias_scale
        generator = torch.Generator().manual_seed(seed)
        own = dict(module.named_parameters())
        drawn: dict[str, list[Tensor]] = {name: [] for name in own}
        for _ in range(n):
            for name, p in own.items():
                shape = tuple(p.shape)
                if is_bias(name):
                    value = bias_scale * unit_draw(s.scheme, shape, generator)
                elif p.ndim >= 2:
                    value = magnitude * (scheme_scale(s.scheme, *fans(shape)) * unit_draw(s.scheme, shape, generator))
                else:
                    value = p.detach().cpu()
                drawn[name].append(value)
        return {name: torch.stack(values) for name, values in drawn.items()}

    def seeded_build(self, depth: int | None, seed: int) -> nn.Module:
        """build() under torch.manual_seed(seed), leaving the global RNG state as it was."""
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            return self.build(depth)

    def own_parameters(self, depth: int | None, n: int, seed: int) -> tuple[nn.Module, dict[str, Tensor]]:
        """The factory re-run under torch seed derive_seed(seed, i) for sample i: its own initialisation
        (parameters and buffers, stacked)."""
        modules = [self.seeded_build(depth, derive_seed(seed, str(i))) for i in range(n)]
        params, buffers = stack_module_state(modules)
        return modules[0], {k: v.detach() for k, v in {**params, **buffers}.items()}

    def evaluate(self, module: nn.Module, params: dict[str, Tensor], x: Tensor, label: str) -> Tensor:
        """[n, P] outputs of the module under each of the n stacked parameter sets, batched with vmap."""
        def one(p, points):
            return functional_call(module, p, (points,))

        n = next(iter(params.values())).shape[0]
        try:
            with torch.no_grad():
                y = torch.cat([vmap(one, in_dims=(0, None))(params, x[i:i + POINT_CHUNK])
                               for i in range(0, x.shape[0], POINT_CHUNK)], dim=1)
        except Exception:  # vmap cannot trace every module (data-dependent control flow, .item()): loop
            with torch.no_grad():
                y = torch.stack([self.forward_with(module, {k: v[i] for k, v in params.items()}, x, label)
                                 for i in range(n)])
        return y.reshape(n, x.shape[0])

    def forward_with(self, module: nn.Module, p: dict[str, Tensor], x: Tensor, label: str) -> Tensor:
        try:
            return functional_call(module, p, (x,)).reshape(-1)
        except Exception as exc:
            raise ArchitectureError(f"{label}: forward raised {one_line(exc)}") from None

    def sample(self, depth, magnitude, n, seed, resolution, device) -> Tensor:
        label = self.label(depth, magnitude)
        x = grid_points(resolution).to(device)
        if self.own_init:
            module, params = self.own_parameters(depth, n, seed)
        else:
            module = self.seeded_build(depth, derive_seed(seed, "module"))  # buffers: deterministic
            params = self.parameters(module, magnitude, n, seed)
        module = module.to(device)
        self.forward(module, x[:POINT_CHUNK], label)  # a wrong shape fails here with a clear message
        y = self.evaluate(module, {k: v.to(device=device, dtype=torch.float64) for k, v in params.items()}, x, label)
        y = y.reshape(n, resolution, resolution)
        finite_or_raise(y, label)
        return y


def load_architecture(text: str, settings: SweepSettings, own_init: bool = False):
    """A YAML file (``*.yaml`` / ``*.yml``, or any existing file) or ``package.module:factory``."""
    path = Path(text)
    if path.suffix in (".yaml", ".yml") or path.is_file():
        if own_init:
            raise ArchitectureError(f"{text}: --own-init applies to factories only (a YAML entry is drawn by the "
                                    f"suite's sampler)")
        return SpecArchitecture(path, settings)
    return FactoryArchitecture(text, settings, own_init)
