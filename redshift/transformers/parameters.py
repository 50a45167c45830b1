"""GPT-2 default initialisation of many independent random transformers, stacked as [n, ...].

HF ``GPT2PreTrainedModel._init_weights``: every Linear / Conv1D weight and
both embeddings ~ N(0, 0.02^2); the residual projections (attn.c_proj, mlp.c_proj) ~ N(0, (0.02 /
sqrt(2 depth))^2); all biases 0; layer norms weight 1 (here: the spec's gain) and bias 0. Biases and
layer-norm parameters are constants at initialisation, so only the random weights are stored.

Model i draws its prompt token and then its weights, in a fixed order, from its own CPU generator
seeded with ``derive_seed(seed, "model", i)``: model i is the same for any n, chunking or device.
Weights are drawn as float32 standard normals (torch's CPU float32 sampler is ~4x faster than its
float64 one, and drawing is as costly as decoding), then cast to the run's dtype, scaled and moved:
CPU and CUDA runs, float32 and float64, all see the same models.
"""
import math
from dataclasses import dataclass, fields

import torch
from torch import Tensor

from redshift.seeding import derive_seed
from redshift.transformers.spec import INIT_STD, TransformerSpec


@dataclass(frozen=True)
class TransformerParameters:
    """Stacked weights of n models (x @ W convention, as GPT-2's Conv1D: W is [in, out]).

    prompt [n] (int64), wte [n, vocab, width], wpe [n, length, width], qkv [n, depth, width, 3 width],
    attn_proj [n, depth, width, width], fc [n, depth, width, 4 width], mlp_proj [n, depth, 4 width,
    width], head [n, vocab, width] or None (tied to wte).
    """

    prompt: Tensor
    wte: Tensor
    wpe: Tensor
    qkv: Tensor
    attn_proj: Tensor
    fc: Tensor
    mlp_proj: Tensor
    head: Tensor | None

    @property
    def n(self) -> int:
        return self.prompt.shape[0]

    @property
    def unembedding(self) -> Tensor:
        """[n, vocab, width]: the output head (the token embedding when tied)."""
        return self.wte if self.head is None else self.head

    def model(self, i: int) -> "TransformerParameters":
        """Model i alone, as a stack of one."""
        return TransformerParameters(**{f.name: None if getattr(self, f.name) is None else getattr(self, f.name)[i:i + 1]
                                        for f in fields(self)})


def _shapes(spec: TransformerSpec) -> dict[str, tuple[tuple[int, ...], float]]:
    """Draw order, shapes and standard deviations of one model's weights."""
    v, p, d, layers = spec.vocab, spec.length, spec.width, spec.depth
    residual_std = INIT_STD / math.sqrt(2 * layers)
    shapes = {
        "wte": ((v, d), INIT_STD),
        "wpe": ((p, d), INIT_STD),
        "qkv": ((layers, d, 3 * d), INIT_STD),
        "attn_proj": ((layers, d, d), residual_std),
        "fc": ((layers, d, 4 * d), INIT_STD),
        "mlp_proj": ((layers, 4 * d, d), residual_std),
    }
    if not spec.tied_head:
        shapes["head"] = ((v, d), INIT_STD)
    return shapes


def sample_parameters(spec: TransformerSpec, seed: int, start: int, stop: int,
                      dtype: torch.dtype = torch.float64, device: str = "cpu") -> TransformerParameters:
    """Models start..stop-1 of the stream ``seed``: prompts uniform over the vocabulary, GPT-2 init weights."""
    if spec.model != "gpt2":
        raise ValueError(f"sample_parameters needs a gpt2 spec, got model {spec.model!r}")
    n = stop - start
    shapes = _shapes(spec)
    out = {name: torch.empty((n, *shape), dtype=dtype, device=device) for name, (shape, _) in shapes.items()}
    prompt = torch.empty(n, dtype=torch.int64)
    for row, i in enumerate(range(start, stop)):  # one generator per model: n draws, not the hot path
        gen = torch.Generator().manual_seed(derive_seed(seed, "model", i))
        prompt[row] = torch.randint(spec.vocab, (), generator=gen)
        for name, (shape, std) in shapes.items():
            out[name][row] = torch.randn(shape, generator=gen, dtype=torch.float32).to(dtype).mul_(std)
    return TransformerParameters(prompt=prompt.to(device), head=out.pop("head", None), **out)
