"""Random-transformer specifications (paper §5): frozen, validated, built from YAML.

``model: gpt2`` is an untrained GPT-2-style decoder with fresh weights per sequence, prompted with
one random token and decoded greedily for ``tokens`` new tokens; ``model: iid_tokens`` is the
reference subject: ``tokens + 1`` token ids drawn uniformly from the vocabulary (the ceiling of the
sequence metrics). Every field has a default, so a partial mapping is a valid spec.
"""
from dataclasses import dataclass
from typing import Literal

from redshift.core import FieldError
from redshift.networks.spec import ACTIVATION_NAMES, number_text
from redshift.parse import Spec, setting

MODELS = ("gpt2", "iid_tokens")
INIT_STD = 0.02  # GPT-2's initializer_range
LN_EPS = 1e-5    # GPT-2's layer_norm_epsilon


@dataclass(frozen=True)
class TransformerSpec(Spec):
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

    model: Literal[MODELS] = setting("gpt2", doc="gpt2 (random decoder) or iid_tokens (the reference)")
    vocab: int = setting(1024, min=2, doc="n_vocab")
    width: int = setting(128, min=1, doc="n_embd")
    heads: int = setting(4, min=1, doc="n_head (divides width)")
    depth: int = setting(4, min=1, doc="n_layer")
    activation: str = setting("gelu", choices=ACTIVATION_NAMES, doc="MLP-block activation")
    ln_gain: float = setting(1.0, min=0, doc="gain of every block layer norm")
    tied_head: bool = setting(True, doc="logits from the token embedding")
    tokens: int = setting(40, min=1, doc="tokens generated after the one-token prompt")

    def check(self) -> None:
        if self.width % self.heads:
            raise FieldError("heads", f"width {self.width} is not divisible by heads {self.heads}")

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
                f"-ln{number_text(self.ln_gain)}{head}-T{self.tokens}")
