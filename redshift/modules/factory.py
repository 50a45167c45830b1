"""A user's module factory: import ``package.module:callable`` and build the module it returns.

Import paths resolve as with ``python -m``: the working directory is importable (put first on
``sys.path`` when a factory is imported), so ``pytest my/claims.yaml`` run in a project folder finds
the project's own packages without a conftest.py. Every failure is a one-line ``FieldError`` on the
field ``factory``.
"""
import importlib
import inspect
import os
import sys
from collections.abc import Callable

import torch
from torch import nn

from redshift.core import FieldError
from redshift.modules.spec import ModuleSpec, thaw


def one_line(exc: BaseException) -> str:
    """``RuntimeError: the message`` on one line (at most 300 characters of message)."""
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text[:300]}" if text else type(exc).__name__


def import_factory(path: str) -> Callable:
    """The callable ``attribute`` (a dotted path within the module) of ``module:attribute``."""
    module_name, _, attribute = path.partition(":")
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        target = importlib.import_module(module_name)
    except Exception as exc:  # the user's module raising on import is reported the same way
        raise FieldError("factory", f"cannot import {module_name!r} ({one_line(exc)})") from None
    for name in attribute.split("."):
        target = getattr(target, name, None)
    if not callable(target):
        raise FieldError("factory", f"module {module_name!r} has no callable {attribute!r}")
    return target


def takes_argument(factory: Callable, name: str) -> bool:
    """Whether ``factory`` names the parameter ``name`` (not through ``**kwargs``; False when its
    signature is unknown)."""
    try:
        return name in inspect.signature(factory).parameters
    except (TypeError, ValueError):
        return False


def build(spec: ModuleSpec, seed: int, dtype: torch.dtype) -> nn.Module:
    """``factory(**kwargs)`` under ``torch.manual_seed(seed)`` (the global RNG state is restored after),
    in eval mode (dropout off, batch norm on its running statistics), cast to ``dtype``."""
    factory = import_factory(spec.require_factory())
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        try:
            module = factory(**thaw(spec.kwargs))
        except Exception as exc:
            raise FieldError("factory", f"the factory raised {one_line(exc)}") from None
    if not isinstance(module, nn.Module):
        raise FieldError("factory", f"the factory returned {type(module).__name__}, expected a torch.nn.Module")
    return module.to(dtype).eval()
