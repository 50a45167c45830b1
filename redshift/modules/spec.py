"""The ``module`` source's spec: a user's ``torch.nn.Module`` factory, its keyword arguments, and how
its parameters are drawn. Imports no torch (collection parses specs).

A case file writes::

    {source: module, factory: "package.module:callable", kwargs: {depth: 3}, input_dim: 2,
     weights: {scheme: glorot_uniform, scale: 10.0, bias_scale: 1.0}, init: redraw}

``init: redraw`` (default) re-draws every parameter with ``weights`` (redshift.modules.sampling);
``init: own`` keeps the factory's own initialisation, re-running it per sample, and ``weights``
must keep its default there. The spec is frozen and hashable: ``kwargs`` is held as ``Items``, its
(key, value) pairs sorted by key (lists as tuples, nested mappings as ``Items``), so equal mappings
give equal specs whatever their key order; ``to_mapping()`` gives the YAML form back.
"""
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from redshift.core import FieldError
from redshift.networks.spec import WeightSpec, number_text
from redshift.parse import Spec, describe, setting

INITS = ("redraw", "own")
#: ``package.module:callable`` (the callable may be an attribute path, ``Class.create``)
IMPORT_PATH = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*:[A-Za-z_]\w*(\.[A-Za-z_]\w*)*$")


class Items(tuple):
    """A mapping frozen as its (key, value) pairs, sorted by key: hashable and canonical."""

    def __repr__(self) -> str:
        return f"Items({tuple(self)!r})"


def freeze(value: Any, field: str) -> Any:
    """YAML data -> hashable canonical data: mappings -> Items, lists -> tuples; floats must be finite."""
    if isinstance(value, Items):
        return value
    if isinstance(value, Mapping):
        keys = [k for k in value if not isinstance(k, str)]
        if keys:
            raise FieldError(field, f"keys must be text, got {describe(keys[0])}")
        return Items(sorted((k, freeze(v, f"{field}.{k}")) for k, v in value.items()))
    if isinstance(value, (list, tuple)):
        return tuple(freeze(v, f"{field}[{i}]") for i, v in enumerate(value))
    if isinstance(value, float) and not math.isfinite(value):
        raise FieldError(field, f"expected a finite number, got {value!r}")
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise FieldError(field, f"expected YAML data (numbers, text, lists, mappings), got {describe(value)}")


def thaw(value: Any) -> Any:
    """The inverse of ``freeze``: Items -> dict, tuples -> lists."""
    if isinstance(value, Items):
        return {k: thaw(v) for k, v in value}
    if isinstance(value, tuple):
        return [thaw(v) for v in value]
    return value


def value_text(value: Any) -> str:
    """A kwarg value in a label: ``3``, ``0.5``, ``tanh``, ``[1,2]``."""
    if isinstance(value, float):
        return number_text(value)
    if isinstance(value, Items):
        return "{" + ",".join(f"{k}={value_text(v)}" for k, v in value) + "}"
    if isinstance(value, tuple):
        return "[" + ",".join(value_text(v) for v in value) + "]"
    return str(value)


@dataclass(frozen=True)
class ModuleSpec(Spec):
    """Random functions of a user's module: ``factory(**kwargs)`` returns a torch.nn.Module mapping
    [P, input_dim] to [P, 1] (or [P]); its parameters re-drawn from ``weights`` or its own (``init``)."""

    factory: str | None = setting(None, doc="import path 'package.module:callable' of the module factory")
    kwargs: Any = setting(factory=Items, doc="keyword arguments of the factory (a mapping)")
    input_dim: int = setting(2, min=1, doc="inputs of the module (2: the grid)")
    weights: WeightSpec = setting(factory=WeightSpec, doc="how parameters are re-drawn with init: redraw")
    init: Literal[INITS] = setting("redraw", doc="redraw: parameters from weights; own: the factory's own")

    def __post_init__(self) -> None:
        if not isinstance(self.kwargs, (Mapping, Items)):
            raise FieldError("kwargs", f"expected a mapping of keyword arguments, got {describe(self.kwargs)}")
        object.__setattr__(self, "kwargs", freeze(self.kwargs, "kwargs"))
        super().__post_init__()

    def check(self) -> None:
        if self.factory is not None and not IMPORT_PATH.match(self.factory):
            raise FieldError("factory", f"expected an import path 'package.module:callable', got {self.factory!r}")
        if self.init == "own" and self.weights != WeightSpec():
            raise FieldError("weights", "does not apply to init 'own' (the factory's own initialisation is kept)")

    def require_factory(self) -> str:
        """The factory's import path; FieldError when the subject names none."""
        if self.factory is None:
            raise FieldError("factory", "required: the import path 'package.module:callable' of a function "
                                        "returning a torch.nn.Module")
        return self.factory

    def to_mapping(self) -> dict:
        return {"factory": self.factory, "kwargs": thaw(self.kwargs), "input_dim": self.input_dim,
                "weights": self.weights.to_mapping(), "init": self.init}

    def label(self) -> str:
        """e.g. ``examples.fourier_features:fourier_relu(depth=3)-glorot_uniform(10)``, ``...-own_init``."""
        text = self.factory or "module:<no factory>"
        if self.kwargs:
            text += "(" + ",".join(f"{k}={value_text(v)}" for k, v in self.kwargs) + ")"
        parts = [text] + ([f"in{self.input_dim}"] if self.input_dim != 2 else [])
        w = self.weights
        if self.init == "own":
            parts.append("own_init")
        else:
            parts.append(f"{w.scheme}({number_text(w.scale)})")
            if w.bias_scale != 1.0:
                parts.append("b(tied)" if w.bias_scale is None else f"b({number_text(w.bias_scale)})")
        return "-".join(parts)
