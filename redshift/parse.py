"""One parser for every spec: a dataclass's fields say what each setting may be.

``parse(cls, mapping)`` validates a (YAML) mapping into the frozen dataclass ``cls``: unknown keys
are refused with the allowed ones, nested dataclass fields are parsed from nested mappings, and
every value is checked against its type hint and ``setting(...)`` metadata when the dataclass is
constructed (so direct construction is checked the same way):

    Literal["a", "b"] / setting(choices=...)   one of the values
    bool                                       true or false (not 1, not "yes")
    int                                        an integer, not a bool; bounds min / max
    float                                      a finite number, int accepted; bounds min / max, open or closed
    str, Optional[X] (None allowed), tuple[X, ...], a nested dataclass, Any

Errors are ``FieldError`` with the dotted field and one line saying what is allowed. PyYAML reads
``1e-3`` as a string (YAML 1.1 needs a dot and a signed exponent): the message says how to write it.
Specs subclass ``Spec``; their ``check()`` holds only cross-field rules.
"""
from __future__ import annotations

import dataclasses
import functools
import math
import numbers
import types
import typing
from collections.abc import Mapping
from typing import Any, Literal, Union

from redshift.core import FieldError


def setting(default: Any = dataclasses.MISSING, *, factory: Any = dataclasses.MISSING, min: float | None = None,
            max: float | None = None, min_open: bool = False, max_open: bool = False,
            choices: tuple | None = None, noun: str | None = None, doc: str = "") -> Any:
    """A dataclass field with its bounds (``min`` <= value, or < with ``min_open``), choices, the noun
    its errors use ("fraction" -> "expected a fraction in [0, 1]") and a one-line ``doc``."""
    metadata = {"min": min, "max": max, "min_open": min_open, "max_open": max_open, "choices": choices,
                "noun": noun, "doc": doc}
    return dataclasses.field(default=default, default_factory=factory, metadata=metadata)


def describe(value: Any) -> str:
    """``int 3``, ``str 'yes'``: a value as error messages show it."""
    return f"{type(value).__name__} {value!r}"


def yaml_float(text: str) -> str:
    """How to write ``text`` so that PyYAML reads a float: '1e-3' -> '1.0e-3', '2e3' -> '2.0e+3'."""
    mantissa, _, exponent = text.strip().lower().partition("e")
    if "." not in mantissa:
        mantissa += ".0"
    if exponent and exponent[0] not in "+-":
        exponent = "+" + exponent
    return f"{mantissa}e{exponent}" if exponent else mantissa


def number_hint(value: Any) -> str:
    """For a string that parses as a number: the YAML note that says how to write it; else ''."""
    if not isinstance(value, str):
        return ""
    try:
        float(value)
    except ValueError:
        return ""
    written = yaml_float(value)
    if written == value.strip().lower():
        return " (a quoted number: write it without quotes)"
    return f" (YAML reads a number without a dot or exponent sign as a string: write {written})"


def _bounds_text(meta: Mapping, noun: str) -> str:
    """'an integer >= 1', 'a number >= 0', 'a positive number', 'a fraction in [0, 1]'."""
    low, high = meta.get("min"), meta.get("max")
    article = "an" if noun[0] in "aeiou" else "a"
    if low is not None and high is not None:
        return f"{article} {noun} in {'(' if meta.get('min_open') else '['}{low:g}, {high:g}{')' if meta.get('max_open') else ']'}"
    if low is not None:
        if low == 0 and meta.get("min_open"):
            return f"a positive {noun}"
        return f"{article} {noun} {'>' if meta.get('min_open') else '>='} {low:g}"
    if high is not None:
        return f"{article} {noun} {'<' if meta.get('max_open') else '<='} {high:g}"
    return f"{article} {noun}"


def _in_bounds(value: float, meta: Mapping) -> bool:
    low, high = meta.get("min"), meta.get("max")
    if low is not None and (value <= low if meta.get("min_open") else value < low):
        return False
    return not (high is not None and (value >= high if meta.get("max_open") else value > high))


def _choice(name: str, value: Any, allowed: tuple) -> Any:
    if isinstance(value, bool) or value not in allowed or type(value) not in {type(a) for a in allowed}:
        raise FieldError(name, f"unknown value {value!r} (allowed: {', '.join(map(str, allowed))})")
    return value


def _integer(name: str, value: Any, meta: Mapping) -> int:
    what = _bounds_text(meta, "integer")
    if meta.get("min") == 1 and meta.get("max") is None and not meta.get("min_open"):
        what += " (a positive integer)"
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise FieldError(name, f"expected {what}, got {describe(value)}")
    if not _in_bounds(value, meta):
        raise FieldError(name, f"expected {what}, got {value}")
    return int(value)


def _real(name: str, value: Any, meta: Mapping) -> float:
    what = _bounds_text(meta, meta.get("noun") or "number")
    if isinstance(value, str):
        raise FieldError(name, f"expected {what}, got the string {value!r}{number_hint(value)}")
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise FieldError(name, f"expected {what}, got {describe(value)}")
    if not math.isfinite(value):
        raise FieldError(name, f"expected a finite {what.split(' ', 1)[1]}, got {value!r}")
    if not _in_bounds(value, meta):
        raise FieldError(name, f"expected {what}, got {value!r}")
    return float(value) + 0.0  # -0.0 -> 0.0


def convert(hint: Any, meta: Mapping, value: Any, name: str) -> Any:
    """``value`` checked against the type ``hint`` and field metadata; returns the canonical value."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if hint is Any:
        return value
    if origin in (Union, types.UnionType):
        options = [a for a in args if a is not type(None)]
        if value is None and len(options) < len(args):
            return None
        if len(options) == 1:
            return convert(options[0], meta, value, name)
        nested = [a for a in options if dataclasses.is_dataclass(a)]
        if nested and any(isinstance(value, a) for a in nested):
            return value
        raise FieldError(name, f"expected one of {', '.join(a.__name__ for a in options)}, got {describe(value)}")
    if origin is Literal:
        return _choice(name, value, args)
    if origin is tuple:
        if not isinstance(value, (list, tuple)):
            raise FieldError(name, f"expected a list, got {describe(value)}")
        item = args[0] if len(args) == 2 and args[1] is Ellipsis else Any
        return tuple(convert(item, meta, v, f"{name}[{i}]") for i, v in enumerate(value))
    if meta.get("choices") is not None:
        return _choice(name, value, tuple(meta["choices"]))
    if hint is bool:
        if not isinstance(value, bool):
            raise FieldError(name, f"expected true or false, got {describe(value)}")
        return value
    if hint is int:
        return _integer(name, value, meta)
    if hint is float:
        return _real(name, value, meta)
    if hint is str:
        if not isinstance(value, str):
            raise FieldError(name, f"expected text, got {describe(value)}")
        return value
    if dataclasses.is_dataclass(hint):
        if not isinstance(value, hint):
            raise FieldError(name, f"expected a mapping of {', '.join(field_names(hint))}, got {describe(value)}")
        return value
    if isinstance(hint, type) and not isinstance(value, hint):
        raise FieldError(name, f"expected {hint.__name__}, got {describe(value)}")
    return value


@functools.cache
def type_hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def field_names(cls: type) -> tuple[str, ...]:
    return tuple(f.name for f in dataclasses.fields(cls))


def coerce_fields(obj: Any) -> None:
    """Check every field of the (frozen) dataclass instance ``obj``, storing canonical values (float(1) -> 1.0)."""
    hints = type_hints(type(obj))
    for f in dataclasses.fields(obj):
        value = getattr(obj, f.name)
        checked = convert(hints[f.name], f.metadata, value, f.name)
        if checked is not value:
            object.__setattr__(obj, f.name, checked)


def nested_type(hint: Any) -> type | None:
    """The dataclass a field of this type is parsed into from a mapping (X or Optional[X]), if any."""
    if dataclasses.is_dataclass(hint):
        return hint
    options = [a for a in typing.get_args(hint) if dataclasses.is_dataclass(a)]
    return options[0] if typing.get_origin(hint) in (Union, types.UnionType) and len(options) == 1 else None


def parse(cls: type, mapping: Any, field: str = "") -> Any:
    """The dataclass ``cls`` from a mapping of its fields (nested mappings -> nested dataclasses);
    raises FieldError with the dotted field under ``field``."""
    names = field_names(cls)
    if not isinstance(mapping, Mapping):
        raise FieldError(field, f"expected a mapping of {', '.join(names)}, got {describe(mapping)}")
    hints = type_hints(cls)
    kwargs = {}
    for key, value in mapping.items():
        if key not in names:
            raise FieldError(f"{field}.{key}" if field else str(key), f"unknown key (allowed: {', '.join(names)})")
        nested = nested_type(hints[key])
        if nested is not None and isinstance(value, Mapping):
            value = parse(nested, value, f"{field}.{key}" if field else key)
        kwargs[key] = value
    try:
        return cls(**kwargs)
    except FieldError as exc:
        raise exc.within(field) from None


def spec_mapping(spec: Any) -> dict:
    """A spec as plain data: ``to_mapping()`` where it has one, else the dataclass's fields."""
    if hasattr(spec, "to_mapping"):
        return spec.to_mapping()
    if dataclasses.is_dataclass(spec):
        return dataclasses.asdict(spec)
    raise TypeError(f"a spec must be a dataclass or have to_mapping(), got {type(spec).__name__}")


class Spec:
    """Base of the suite's spec dataclasses: fields are checked on construction (``coerce_fields``),
    then ``check()`` applies the cross-field rules; ``from_mapping`` parses a mapping."""

    def __post_init__(self) -> None:
        coerce_fields(self)
        self.check()

    def check(self) -> None:
        """Cross-field rules; raise FieldError naming the field to change."""

    @classmethod
    def from_mapping(cls, mapping: Any, field: str = ""):
        return parse(cls, mapping, field)

    def to_mapping(self) -> dict:
        """The fields as plain data (nested specs as mappings): ``parse(type(s), s.to_mapping()) == s``."""
        return dataclasses.asdict(self)
