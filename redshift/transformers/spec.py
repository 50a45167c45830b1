"""Random-transformer specifications (paper §5; notes §2.3): frozen, validated, built from YAML.

``model: gpt2`` is an untrained GPT-2-style decoder with fresh weights per sequence, prompted with
one random token and decoded greedily for ``tokens`` new tokens; ``model: iid_tokens`` is the
reference subject: ``tokens + 1`` token ids drawn uniformly from the vocabulary (the ceiling of the
sequence metrics). Every field has a default, so a partial mapping is a valid spec.
"""
from dataclasses import dataclass
from typing import Any, Mapping

from redshift.networks.activations import ACTIVATIONS
from redshift.networks.spec import SpecError, _choice, _flag, _integer, _keys, _number, _scale

MODELS = ("gpt2", "iid_tokens")
INIT_STD = 0.02  # GPT-2's initializer_range
LN_EPS = 1e-5    # GPT-2's layer_norm_epsilon


@dataclass(frozen=True)
class TransformerSpec:
    """One distribution over generated token sequences.

    vocab, width, heads, depth: GPT-2's n_vocab, n_embd, n_head, n_layer (width % heads == 0).
    activation: the MLP blocks' activation (``redshift.networks.ACTIVATIONS``; ``gelu`` is the exact
        erf form, as ``nn.GELU()`` in the public code, not GPT-2's tanh approximation ``gelu_new``).
    ln_gain: the weight gamma of every block layer norm (ln_1, ln_2); biases stay 0. ``ln_f`` keeps
        gain 1: a positive scalar gain on ln_f with zero bias scales all logits alike, so greedy
        argmax does not see it.
    tied_head: logits from the token embedding (GPT-2) or from a separate N(0, 0.02) head.
    tokens: new tokens generated after the one-token prompt (sequence length tokens + 1).
    """

    model: str = "gpt2"
    vocab: int = 1024
    width: int = 128
    heads: int = 4
    depth: int = 4
    activation: str = "gelu"
    ln_gain: float = 1.0
    tied_head: bool = True
    tokens: int = 40

    def __post_init__(self):
        object.__setattr__(self, "model", _choice("model", self.model, MODELS))
        object.__setattr__(self, "vocab", _integer("vocab", self.vocab, 2))
        object.__setattr__(self, "width", _integer("width", self.width, 1))
        object.__setattr__(self, "heads", _integer("heads", self.heads, 1))
        object.__setattr__(self, "depth", _integer("depth", self.depth, 1))
        object.__setattr__(self, "activation", _choice("activation", self.activation, tuple(ACTIVATIONS)))
        object.__setattr__(self, "ln_gain", _scale("ln_gain", self.ln_gain))
        object.__setattr__(self, "tied_head", _flag("tied_head", self.tied_head))
        object.__setattr__(self, "tokens", _integer("tokens", self.tokens, 1))
        if self.width % self.heads:
            raise SpecError("heads", f"width {self.width} is not divisible by heads {self.heads}")

    @classmethod
    def from_mapping(cls, mapping: Mapping[str, Any]) -> "TransformerSpec":
        return cls(**_keys("", mapping, cls))

    @property
    def length(self) -> int:
        """Sequence length: the prompt token plus the generated tokens."""
        return self.tokens + 1

    @property
    def parameter_count(self) -> int:
        """Weights one model draws (biases are zero at GPT-2 initialisation and are not stored)."""
        d = self.width
        head = 0 if self.tied_head else self.vocab * d
        return self.vocab * d + self.length * d + self.depth * 12 * d * d + head

    def label(self) -> str:
        """e.g. ``gpt2-gelu-d4-w128-h4-v1024-ln1-T40`` or ``iid-tokens-v1024-T40``; also the seed key."""
        if self.model == "iid_tokens":
            return f"iid-tokens-v{self.vocab}-T{self.tokens}"
        head = "" if self.tied_head else "-untied"
        return (f"gpt2-{self.activation}-d{self.depth}-w{self.width}-h{self.heads}-v{self.vocab}"
                f"-ln{_number(self.ln_gain)}{head}-T{self.tokens}")
