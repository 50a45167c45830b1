"""Network specifications (Neural Redshift §3 and its public code's heatmap setup): frozen, validated
from their fields' types and bounds (redshift.parse), built from YAML mappings.

A bad value raises ``FieldError`` naming the dotted field and what is allowed. PyYAML pitfalls are
caught: ``yes``/``no`` arrive as bools (not ints) and ``1e-3`` arrives as a string (YAML 1.1 floats
need a dot and a signed exponent: ``1.0e-3``).
"""
import dataclasses
from dataclasses import dataclass
from typing import Any, Literal

from redshift.core import FieldError
from redshift.parse import Spec, parse, setting

#: The activations by name (redshift.networks.activations.ACTIVATIONS implements them, in this order).
ACTIVATION_NAMES = ("relu", "leaky_relu", "elu", "gelu", "swish", "silu", "selu", "softplus", "tanh", "sigmoid",
                    "gaussian", "sine", "identity")

SCHEMES = ("glorot_uniform", "uniform", "normal", "fan_in_normal")
UNIFORM_SCHEMES = ("glorot_uniform", "uniform")
FAMILIES = ("mlp", "unbiased")
RESIDUALS = ("none", "activation", "layer")
UNBIASED_FIXED = ("width", "depth", "layer_norm", "residual", "gated")  # no meaning for "unbiased"


def number_text(value: float) -> str:
    """Shortest exact float text, without a trailing '.0': 10.0 -> '10', 0.1 -> '0.1'."""
    text = repr(float(value))
    return text[:-2] if text.endswith(".0") else text


@dataclass(frozen=True)
class WeightSpec(Spec):
    """Weight and bias distributions of every linear layer, output layer included.

    glorot_uniform: W ~ U(-s, s), s = scale * sqrt(6 / (fan_in + fan_out))   (paper §3, alpha)
    uniform:        W ~ U(-scale, scale)                                        (public code, a)
    normal:         W ~ N(0, scale^2)
    fan_in_normal:  W ~ N(0, scale^2 / fan_in)                                  (scale = gain)
    Biases: U(-bias_scale, bias_scale) for the uniform schemes, N(0, bias_scale^2) for the normal
    ones; bias_scale None ties it to ``scale`` (the public code's W, b ~ U(-a, a)); 0 gives zero biases.
    """

    scheme: Literal[SCHEMES] = setting("glorot_uniform", doc="weight distribution (see the class docstring)")
    scale: float = setting(1.0, min=0, doc="alpha (glorot_uniform), a (uniform), std (normal) or gain (fan_in_normal)")
    bias_scale: float | None = setting(1.0, min=0, doc="bias bound / std; null ties it to scale")


@dataclass(frozen=True)
class NetworkSpec(Spec):
    """A family of random networks with a scalar linear output (Neural Redshift §3).

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

    family: Literal[FAMILIES] = setting("mlp", doc="mlp, or the Fourier-parametrised unbiased model")
    activation: str = setting("relu", choices=ACTIVATION_NAMES, doc="hidden-layer activation")
    input_dim: int = setting(2, min=1, doc="input dimension (2: the grid)")
    width: int = setting(64, min=1, doc="hidden units per layer")
    depth: int = setting(3, min=1, doc="hidden layers")
    layer_norm: bool = setting(False, doc="layer norm before each activation")
    ln_gain: float = setting(1.0, min=0, doc="gain of that layer norm")
    residual: Literal[RESIDUALS] = setting("none", doc="skip around the activation or the layer")
    gated: bool = setting(False, doc="multiply by a sigmoid gate")
    prefactor: float = setting(1.0, min=0, doc="act(prefactor * z)")
    max_frequency: int = setting(32, min=1, doc="largest |k| of the unbiased model")
    weights: WeightSpec = setting(factory=WeightSpec, doc="weight and bias distributions")

    def check(self) -> None:
        if self.family == "unbiased":
            for name in UNBIASED_FIXED:
                default = NetworkSpec.__dataclass_fields__[name].default
                if getattr(self, name) != default:
                    raise FieldError(name, f"does not apply to family 'unbiased' (allowed: {default!r}, the default)")
            if self.input_dim != 2:
                raise FieldError("input_dim", f"family 'unbiased' needs input_dim 2, got {self.input_dim}")

    def replace(self, **changes: Any) -> "NetworkSpec":
        """A re-validated copy; dotted keys reach into weights: ``replace(**{"weights.scale": 10.0})``."""
        mapping = self.to_mapping()
        for key, value in changes.items():
            *parents, last = key.split(".")
            target = mapping
            for parent in parents:
                if not isinstance(target.get(parent), dict):
                    raise FieldError(key, f"unknown key (allowed: {', '.join(mapping)}, weights.<key>)")
                target = target[parent]
            target[last] = value.to_mapping() if isinstance(value, Spec) else value
        return parse(NetworkSpec, mapping)

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
            parts.append("ln" if self.ln_gain == 1.0 else f"ln({number_text(self.ln_gain)})")
        if self.residual != "none":
            parts.append({"activation": "res_act", "layer": "res_layer"}[self.residual])
        if self.gated:
            parts.append("gate")
        if self.prefactor != 1.0:
            parts.append(f"pf({number_text(self.prefactor)})")
        if self.family == "unbiased":
            parts.append(f"uniform({number_text(w.scale)})")
        else:
            parts.append(f"{w.scheme}({number_text(w.scale)})")
            if w.bias_scale != 1.0:
                parts.append("b(tied)" if w.bias_scale is None else f"b({number_text(w.bias_scale)})")
        return "-".join(parts)


def stack_key(spec: NetworkSpec) -> tuple:
    """Specs with equal keys have parameters of the same shapes and the same forward but for the
    activation: their networks can be stacked and evaluated in one batched forward (per-run
    activations, redshift.networks.evaluation). The weight distribution is not part of the key (it
    only shapes the draws)."""
    if spec.family == "unbiased":
        return ("unbiased", spec.max_frequency)
    return ("mlp", spec.input_dim, spec.width, spec.depth, spec.layer_norm, spec.ln_gain if spec.layer_norm else 1.0,
            spec.residual, spec.gated, spec.prefactor)
