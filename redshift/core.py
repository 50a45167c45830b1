"""The suite's shared vocabulary: every package imports these at module top, and this module imports
no other module of the project.

- ``FieldError``: a bad setting, named by its dotted field; case files, the CLI and specs all raise it.
- ``merge`` / ``dotted``: deep merge of settings mappings, and ``"weights.scale"`` -> nested mapping.
- ``Settings`` and ``DTYPES``: what shapes a source's outputs besides its spec (grid, precision, device).
- ``Source``: the protocol every source of subjects implements (network, function, transformer, ...).
- ``Registry``: named plugins of one kind from an entry-point group, built-ins included.
- ``resolve_device``, ``atomic_write_text`` / ``atomic_write_bytes``, ``git_commit``.
- ``lazy_module``: a heavy module (torch-backed kernels, matplotlib figures) imported on first use.

Start-up: collecting a case file and ``--help`` must not pay for torch (2-4 s to import here), so this
module and everything on the collection path import neither torch nor scipy at module top; the
modules that sample and measure are bound with ``lazy_module`` at the top of the module that calls
them (never to dodge an import cycle: there is none, tests/test_architecture.py checks).
"""
from __future__ import annotations

import ctypes
import importlib
import importlib.metadata
import os
import subprocess
import sys
import types
from collections.abc import Callable, Hashable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, Protocol, TypeVar, runtime_checkable

import numpy as np

AT_FDCWD, AT_EMPTY_PATH = -100, 0x1000  # linkat(2)
DTYPES = ("float64", "float32")  # names of torch dtypes: torch_dtype(name)


def torch_dtype(name: str):
    """``torch.float64`` for ``"float64"``: torch is imported here, on first use, not at start-up."""
    import torch

    if name not in DTYPES:
        raise ValueError(f"unknown dtype {name!r} (allowed: {', '.join(DTYPES)})")
    return getattr(torch, name)


class LazyModule(types.ModuleType):
    """Stands for the module ``name`` and imports it on the first attribute access."""

    def __getattr__(self, attr: str) -> Any:
        module = importlib.import_module(self.__name__)
        self.__dict__.update({k: v for k, v in vars(module).items() if k not in ("__name__", "__spec__")})
        return getattr(module, attr)


def lazy_module(name: str) -> types.ModuleType:
    """The module ``name`` if already imported, else a stand-in that imports it on first use."""
    return sys.modules.get(name) or LazyModule(name)


class LazyAttributes(Mapping):
    """Names defined in submodules of ``package``, imported on first access: ``exports`` maps each name
    to its submodule (SPEC 1 lazy loading). A Mapping (``METRICS["lz"]``), and via ``module_getattr``
    the PEP 562 ``__getattr__`` of a package (``from redshift.networks import sample_grid``)."""

    def __init__(self, package: str, exports: Mapping[str, str]):
        self.package = package
        self.exports = dict(exports)

    def __getitem__(self, name: str) -> Any:
        if name not in self.exports:
            raise KeyError(name)
        return getattr(importlib.import_module(f"{self.package}.{self.exports[name]}"), name)

    def __iter__(self) -> Iterator[str]:
        return iter(self.exports)

    def __len__(self) -> int:
        return len(self.exports)

    def __contains__(self, name: object) -> bool:  # Mapping's would import the name to look it up
        return name in self.exports

    def module_getattr(self, name: str) -> Any:
        if name not in self.exports:
            raise AttributeError(f"module {self.package!r} has no attribute {name!r}")
        return self[name]


class FieldError(ValueError):
    """A bad setting: ``field`` is its dotted name within the mapping it came from ('' for the mapping
    itself), ``message`` says what is wrong and what is allowed. ``str``: ``field 'x.y': message``."""

    def __init__(self, field: str, message: str):
        super().__init__(field, message)
        self.field = field
        self.message = message

    def __str__(self) -> str:
        return f"field {self.field!r}: {self.message}" if self.field else self.message

    def within(self, prefix: str) -> "FieldError":
        """The same error one level down: ``within("network")`` turns 'width' into 'network.width'."""
        if not prefix:
            return self
        return FieldError(f"{prefix}.{self.field}" if self.field else prefix, self.message)


def merge(base: Mapping, overrides: Mapping) -> dict:
    """Deep merge of settings mappings (nested mappings such as ``weights`` merge key by key)."""
    merged = dict(base)
    for key, value in overrides.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def dotted(name: str, value: Any) -> dict:
    """``("weights.scale", 10.0)`` -> ``{"weights": {"scale": 10.0}}``."""
    keys = str(name).split(".")
    mapping: dict = {keys[-1]: value}
    for key in reversed(keys[:-1]):
        mapping = {key: mapping}
    return mapping


@dataclass(frozen=True)
class Settings:
    """Run settings a source may use besides the spec: the grid, the precision, the device."""

    resolution: int = 64
    dtype: str = "float64"
    device: str = "cpu"

    @property
    def torch_dtype(self):
        return torch_dtype(self.dtype)


@runtime_checkable
class Source(Protocol):
    """Where a claim's subjects come from, and how their complexity is measured.

    A subject mapping of a case file names its source (``source: network``); the source parses it
    into a frozen, hashable spec, samples ``n`` outputs of that spec from a seed, and turns outputs
    into one metric value per sample (NaN where undefined). A claim key equal to a source's name
    (``network:``, ``transformer:``) is that source's settings mapping, merged under its subjects.
    """

    name: str
    metrics: tuple[str, ...]  # every metric the source knows (a subject may produce fewer: cannot_measure)

    def parse(self, mapping: Mapping, base: Mapping) -> Hashable:
        """Spec from the subject mapping merged over ``base``; raises FieldError. Every setting has a
        default, so ``parse(m, {})`` validates a settings mapping on its own."""

    def label(self, spec: Any) -> str:
        """Short display name of the spec (not a key: specs are the keys)."""

    def cannot_measure(self, spec: Any, metric: str) -> str | None:
        """Why a subject of this spec cannot produce ``metric`` (None: it can); checked at collection."""

    def check(self, spec: Any, samples: int, settings: Settings) -> None:
        """Raise FieldError for settings this spec cannot run with (sizes, memory); checked at collection."""

    def describe(self, settings: Settings) -> str:
        """The settings that shape the outputs, for the summary table (e.g. '64^2 float64')."""

    def sample(self, spec: Any, n: int, seed: int, settings: Settings) -> Any:
        """Outputs of n samples drawn from ``seed``; sample i must not depend on the test order."""

    def measure(self, outputs: Any, metric: str) -> np.ndarray:
        """One float per sample, NaN where the metric is undefined (degenerate outputs)."""


T = TypeVar("T")


class RegistryError(LookupError):
    """An unknown name, or an entry point that does not load or does not fit its group."""


class Registry(Generic[T]):
    """Named plugins of one kind: the entry points of ``group`` (the built-ins are entry points of this
    package, declared in pyproject.toml, exactly as a third party declares its own), loaded on first
    use of each name, plus any object passed to ``register``. ``check(obj)`` returns why an object
    does not fit the group (None: it fits). Names list ``first`` (the built-ins, in the order the docs
    present them) first, then the others sorted (entry-point metadata keeps no order)."""

    def __init__(self, group: str, what: str, check: Callable[[Any], str | None] | None = None,
                 first: tuple[str, ...] = ()):
        self.group = group
        self.what = what
        self._check = check
        self._first = first
        self._points: dict[str, importlib.metadata.EntryPoint] | None = None
        self._loaded: dict[str, T] = {}

    def _entry_points(self) -> dict[str, importlib.metadata.EntryPoint]:
        if self._points is None:
            points: dict[str, importlib.metadata.EntryPoint] = {}
            for point in importlib.metadata.entry_points(group=self.group):
                other = points.get(point.name)
                if other is not None and other.value != point.value:
                    raise RegistryError(f"{self.what} {point.name!r} is declared twice in entry-point group "
                                        f"{self.group!r}: {other.value} and {point.value}")
                points[point.name] = point
            self._points = points
        return self._points

    def names(self) -> tuple[str, ...]:
        """Every registered name, without loading any of them: ``first``, then the others sorted."""
        known = {*self._entry_points(), *self._loaded}
        return tuple(n for n in self._first if n in known) + tuple(sorted(known - set(self._first)))

    def __contains__(self, name: object) -> bool:
        return name in self._loaded or name in self._entry_points()

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def get(self, name: str) -> T:
        if name not in self._loaded:
            point = self._entry_points().get(name)
            if point is None:
                raise RegistryError(f"unknown {self.what} {name!r} (allowed: {', '.join(self.names())})")
            try:
                obj = point.load()
            except Exception as exc:  # a plugin's import error: one line naming the entry point
                raise RegistryError(f"{self.what} {name!r} (entry point {point.value} of group {self.group!r}) "
                                    f"does not load: {type(exc).__name__}: {exc}") from None
            self._loaded[name] = self._fit(name, obj, point.value)
        return self._loaded[name]

    __getitem__ = get

    def items(self) -> list[tuple[str, T]]:
        """Every (name, object), loading them all."""
        return [(name, self.get(name)) for name in self.names()]

    def register(self, name: str, obj: T) -> T:
        """Register ``obj`` under ``name`` in this process (tests, notebooks); returns it."""
        self._loaded[name] = self._fit(name, obj, repr(obj))
        return obj

    def _fit(self, name: str, obj: Any, where: str) -> T:
        problem = self._check(obj) if self._check else None
        if problem is None and getattr(obj, "name", name) != name:
            problem = f"its name is {obj.name!r}"
        if problem:
            raise RegistryError(f"{self.what} {name!r} ({where}) does not fit group {self.group!r}: {problem}")
        return obj


def protocol_check(protocol: type) -> Callable[[Any], str | None]:
    """A Registry check: the members of a runtime-checkable Protocol that an object lacks."""
    members = [m for m in protocol.__dict__ if not m.startswith("_")] + list(getattr(protocol, "__annotations__", {}))

    def check(obj: Any) -> str | None:
        if isinstance(obj, protocol):
            return None
        missing = sorted({m for m in members if not hasattr(obj, m)})
        return f"not a {protocol.__name__} (missing: {', '.join(missing)})"
    return check


SOURCES: Registry[Source] = Registry("redshift.sources", "source", protocol_check(Source),
                                     first=("network", "function", "transformer", "nngp", "pitfalls", "trained", "boolean"))


def resolve_device(option: str, worker: int | None = None) -> str:
    """``auto`` -> cuda if torch sees a GPU, else cpu; ``cuda`` without a GPU raises ValueError. With a
    ``worker`` index (pytest-xdist worker i), ``cuda`` becomes ``cuda:(i mod device_count)``, so the
    workers spread over the GPUs (the numbers do not change: weights are drawn on the CPU)."""
    if option == "cpu":
        return option
    import torch

    if option not in ("auto", "cuda") and not (option.startswith("cuda:") and option[5:].isdigit()):
        raise ValueError(f"--device: unknown value {option!r} (allowed: auto, cpu, cuda, cuda:<index>)")
    if option == "auto":
        option = "cuda" if torch.cuda.is_available() else "cpu"
        if option == "cpu":
            return option
    if not torch.cuda.is_available():
        raise ValueError(f"--device {option}: torch sees no CUDA device on this machine")
    count = torch.cuda.device_count()
    if option.startswith("cuda:") and int(option[5:]) >= count:
        raise ValueError(f"--device {option}: torch sees {count} CUDA device(s)")
    return f"cuda:{worker % count}" if option == "cuda" and worker is not None else option


def _file_mode() -> int:
    """0666 minus the process umask (0644 under the usual 022), as open() would create a file."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def _link_unnamed(fd: int, path: Path) -> bool:
    """Give the O_TMPFILE file ``fd`` the name ``path``: linkat(fd, "", AT_EMPTY_PATH) (needs
    CAP_DAC_READ_SEARCH on older kernels), else the /proc/self/fd link; False when neither works."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.linkat(fd, b"", AT_FDCWD, os.fsencode(path), AT_EMPTY_PATH) == 0:
        return True
    try:
        os.link(f"/proc/self/fd/{fd}", path)
        return True
    except OSError:
        return False


def atomic_write_bytes(path: Path | str, data: bytes) -> None:
    """Replace ``path`` with ``data`` so that readers see the old file or the new one, never half of one.

    The bytes go to an unnamed file in the same folder (Linux O_TMPFILE), which is linked under a
    temporary name and renamed over ``path`` only when complete: a run killed while writing (even by
    SIGKILL) leaves no temporary file and the previous file intact. Where that is not possible a
    named temporary file is written instead, removed on any exception. The mode is 0666 minus the
    umask (0644 under umask 022), as for a file that ``open`` creates.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.parent / f".{path.name}.{os.getpid()}.tmp"
    tmp.unlink(missing_ok=True)  # a stale name left by a killed process of the same pid
    try:
        fd = os.open(path.parent, os.O_TMPFILE | os.O_WRONLY, _file_mode())
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
            linked = _link_unnamed(handle.fileno(), tmp)
    except (AttributeError, OSError):
        linked = False
    try:
        if not linked:
            with open(os.open(tmp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, _file_mode()), "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def atomic_write_text(path: Path | str, text: str) -> None:
    """``atomic_write_bytes`` of UTF-8 text."""
    atomic_write_bytes(path, text.encode("utf-8"))


def git_commit(cwd: Path | str) -> str | None:
    """The commit checked out at ``cwd`` (None outside a git work tree or without git)."""
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=cwd, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout.strip() if out.returncode == 0 and out.stdout.strip() else None
