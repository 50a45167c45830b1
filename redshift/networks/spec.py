"""Network specifications (notes §2.1, §2.2): frozen, validated, built from YAML mappings.

Every field is checked on construction; a bad value raises ``SpecError`` naming the dotted field
and what is allowed. PyYAML pitfalls are caught: ``yes``/``no`` arrive as bools (not ints) and
``1e-3`` arrives as a string (YAML 1.1 floats need a dot and a signed exponent: ``1.0e-3``).
"""
import dataclasses
import math
import numbers
from dataclasses import dataclass, field
from typing import Any, Mapping

from redshift.networks.activations import ACTIVATIONS

SCHEMES = ("glorot_uniform", "uniform", "normal", "fan_in_normal")
UNIFORM_SCHEMES = ("glorot_uniform", "uniform")
FAMILIES = ("mlp", "unbiased")
RESIDUALS = ("none", "activation", "layer")
UNBIASED_FIXED = ("width", "depth", "layer_norm", "residual", "gated")  # no meaning for "unbiased"


class SpecError(ValueError):
    """A bad network setting; ``field`` is its dotted name (``weights.scheme``)."""

    def __init__(self, field: str, message: str):
        super().__init__(field, message)
        self.field = field
        self.message = message

    def __str__(self) -> str:
        return f"field {self.field!r}: {self.message}"


def _describe(value: Any) -> str:
    return f"{type(value).__name__} {value!r}"


def _choice(name: str, value: Any, allowed: tuple[str, ...]) -> str:
    if not isinstance(value, str) or value not in allowed:
        raise SpecError(name, f"unknown value {value!r} (allowed: {', '.join(allowed)})")
    return value


def _integer(name: str, value: Any, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise SpecError(name, f"expected an integer >= {minimum}, got {_describe(value)}")
    if value < minimum:
        raise SpecError(name, f"expected an integer >= {minimum}, got {value}")
    return int(value)


def _yaml_float(text: str) -> str:
    """How to write ``text`` so that PyYAML reads a float: '1e-3' -> '1.0e-3', '2e3' -> '2.0e+3'."""
    mantissa, _, exponent = text.strip().lower().partition("e")
    if "." not in mantissa:
        mantissa += ".0"
    if exponent and exponent[0] not in "+-":
        exponent = "+" + exponent
    return f"{mantissa}e{exponent}" if exponent else mantissa


def _scale(name: str, value: Any) -> float:
    """A finite number >= 0, returned as float."""
    if isinstance(value, str):
        try:
            float(value)
        except ValueError:
            raise SpecError(name, f"expected a number >= 0, got the string {value!r}") from None
        raise SpecError(name, f"expected a number >= 0, got the string {value!r} (YAML reads a number "
                              f"without a dot or exponent sign as a string: write {_yaml_float(value)})")
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise SpecError(name, f"expected a number >= 0, got {_describe(value)}")
    if not math.isfinite(value) or value < 0:
        raise SpecError(name, f"expected a finite number >= 0, got {value!r}")
    return float(value) + 0.0  # -0.0 -> 0.0


def _flag(name: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise SpecError(name, f"expected true or false, got {_describe(value)}")
    return value


def _keys(prefix: str, mapping: Any, cls: type) -> dict:
    """``mapping`` as a dict, after checking that it is a mapping with only ``cls``'s fields."""
    allowed = [f.name for f in dataclasses.fields(cls)]
    if not isinstance(mapping, Mapping):
        raise SpecError(prefix.rstrip("."), f"expected a mapping of {', '.join(allowed)}, got {_describe(mapping)}")
    for key in mapping:
        if key not in allowed:
            raise SpecError(f"{prefix}{key}", f"unknown key (allowed: {', '.join(allowed)})")
    return dict(mapping)


def _number(value: float) -> str:
    """Shortest exact float text, without a trailing '.0': 10.0 -> '10', 0.1 -> '0.1'."""
    text = repr(float(value))
    return text[:-2] if text.endswith(".0") else text


@dataclass(frozen=True)
class WeightSpec:
    """Weight and bias distributions of every linear layer, output layer included.

    glorot_uniform: W ~ U(-s, s), s = scale * sqrt(6 / (fan_in + fan_out))   (paper §3, alpha)
    uniform:        W ~ U(-scale, scale)                                        (public code, a)
    normal:         W ~ N(0, scale^2)
    fan_in_normal:  W ~ N(0, scale^2 / fan_in)                                  (scale = gain)
    Biases: U(-bias_scale, bias_scale) for the uniform schemes, N(0, bias_scale^2) for the normal
    ones; bias_scale None ties it to ``scale`` (the public code's W, b ~ U(-a, a)); 0 gives zero biases.
    """

    scheme: str = "glorot_uniform"
    scale: float = 1.0
    bias_scale: float | None = 1.0

    def __post_init__(self):
        object.__setattr__(self, "scheme", _choice("weights.scheme", self.scheme, SCHEMES))
        object.__setattr__(self, "scale", _scale("weights.scale", self.scale))
        if self.bias_scale is not None:
            object.__setattr__(self, "bias_scale", _scale("weights.bias_scale", self.bias_scale))

    @classmethod
    def from_mapping(cls, m: Mapping) -> "WeightSpec":
        return cls(**_keys("weights.", m, cls))


@dataclass(frozen=True)
class NetworkSpec:
    """A family of random networks with a scalar linear output (notes §2.1).

    mlp, per hidden layer:  z = h W + b;  z <- ln_gain * LN(z) if layer_norm (over channels, no
    affine, eps 1e-5);  u = act(prefactor * z) (§4.1);  u <- u * sigmoid(h W' + b') if gated (§3);
    h = u | z + u (residual "activation", the paper's x <- x + phi(x)) | h + u (residual "layer",
    from the second hidden layer on). Output y = h w + b.
    unbiased (§3 "unbiased model"): f(x) = sum_k a_k sin(pi k.x + phi_k) over integer k in a half
    plane with 0 < |k| <= max_frequency, a_k ~ U(-weights.scale, weights.scale), phi_k ~ U(0, 2 pi);
    input_dim must be 2 and the fields in UNBIASED_FIXED must keep their defaults; ``activation``
    and ``weights.scheme``/``bias_scale`` are not used. ``max_frequency`` is used by it only, and
    ``ln_gain`` only with layer_norm.
    """

    family: str = "mlp"
    activation: str = "relu"
    input_dim: int = 2
    width: int = 64
    depth: int = 3
    layer_norm: bool = False
    ln_gain: float = 1.0
    residual: str = "none"
    gated: bool = False
    prefactor: float = 1.0
    max_frequency: int = 32
    weights: WeightSpec = field(default_factory=WeightSpec)

    def __post_init__(self):
        checked = {
            "family": _choice("family", self.family, FAMILIES),
            "activation": _choice("activation", self.activation, tuple(ACTIVATIONS)),
            "input_dim": _integer("input_dim", self.input_dim, 1),
            "width": _integer("width", self.width, 1),
            "depth": _integer("depth", self.depth, 1),
            "layer_norm": _flag("layer_norm", self.layer_norm),
            "ln_gain": _scale("ln_gain", self.ln_gain),
            "residual": _choice("residual", self.residual, RESIDUALS),
            "gated": _flag("gated", self.gated),
            "prefactor": _scale("prefactor", self.prefactor),
            "max_frequency": _integer("max_frequency", self.max_frequency, 1),
        }
        for name, value in checked.items():
            object.__setattr__(self, name, value)
        if not isinstance(self.weights, WeightSpec):
            raise SpecError("weights", f"expected a WeightSpec, got {_describe(self.weights)}")
        if self.family == "unbiased":
            for name in UNBIASED_FIXED:
                default = NetworkSpec.__dataclass_fields__[name].default
                if getattr(self, name) != default:
                    raise SpecError(name, f"does not apply to family 'unbiased' (allowed: {default!r}, the default)")
            if self.input_dim != 2:
                raise SpecError("input_dim", f"family 'unbiased' needs input_dim 2, got {self.input_dim}")

    @classmethod
    def from_mapping(cls, m: Mapping) -> "NetworkSpec":
        """From a (YAML) mapping with an optional nested ``weights`` mapping."""
        if not isinstance(m, Mapping):
            raise TypeError(f"expected a mapping of network settings, got {_describe(m)}")
        kwargs = _keys("", m, cls)
        if "weights" in kwargs and not isinstance(kwargs["weights"], WeightSpec):
            kwargs["weights"] = WeightSpec.from_mapping(kwargs["weights"])
        return cls(**kwargs)

    def replace(self, **changes: Any) -> "NetworkSpec":
        """A re-validated copy; dotted keys reach into weights: ``replace(**{"weights.scale": 10.0})``."""
        mapping = dataclasses.asdict(self)
        for key, value in changes.items():
            *parents, last = key.split(".")
            target = mapping
            for parent in parents:
                if not isinstance(target.get(parent), dict):
                    raise SpecError(key, f"unknown key (allowed: {', '.join(mapping)}, weights.<key>)")
                target = target[parent]
            target[last] = value
        return NetworkSpec.from_mapping(mapping)

    @property
    def hidden_activation(self) -> str:
        """The activation the hidden layers apply: ``sine`` for the unbiased family."""
        return "sine" if self.family == "unbiased" else self.activation

    def label(self) -> str:
        """Short stable id of the function distribution, e.g. ``mlp-tanh-d6-w64-ln-glorot_uniform(10)``.

        Shows only settings that change the function; non-defaults appear as ``in3`` (input_dim),
        ``ln(2)`` (ln_gain), ``res_act`` / ``res_layer``, ``gate``, ``pf(3)`` (prefactor),
        ``b(0.1)`` / ``b(tied)`` (bias_scale). The unbiased family reads ``unbiased-k32-uniform(1)``.
        """
        w = self.weights
        if self.family == "unbiased":
            parts = ["unbiased", f"k{self.max_frequency}"]
        else:
            parts = [self.family, self.activation, f"d{self.depth}", f"w{self.width}"]
        if self.input_dim != 2:
            parts.append(f"in{self.input_dim}")
        if self.layer_norm:
            parts.append("ln" if self.ln_gain == 1.0 else f"ln({_number(self.ln_gain)})")
        if self.residual != "none":
            parts.append({"activation": "res_act", "layer": "res_layer"}[self.residual])
        if self.gated:
            parts.append("gate")
        if self.prefactor != 1.0:
            parts.append(f"pf({_number(self.prefactor)})")
        if self.family == "unbiased":
            parts.append(f"uniform({_number(w.scale)})")
        else:
            parts.append(f"{w.scheme}({_number(w.scale)})")
            if w.bias_scale != 1.0:
                parts.append("b(tied)" if w.bias_scale is None else f"b({_number(w.bias_scale)})")
        return "-".join(parts)
