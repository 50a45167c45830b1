"""A plain, one-model GPT-2 (torch.nn modules, HF naming) and greedy decoding by recomputation.

The test oracle for ``decode``: same weights as model i of a ``TransformerParameters`` stack, but
written the usual way (nn.Linear with zero biases, nn.LayerNorm with weight gamma and bias 0, a
causal mask over the whole sequence) and decoded by re-running the full prefix at every step.
Deliberately unbatched and uncached: do not use it in experiments.
"""
import math

import torch
from torch import Tensor, nn

from redshift.networks.activations import activation_module
from redshift.transformers.parameters import TransformerParameters
from redshift.transformers.spec import LN_EPS, TransformerSpec


def _linear(weight: Tensor) -> nn.Linear:
    """nn.Linear with weight [in, out] (GPT-2 Conv1D layout) transposed in, and a zero bias."""
    layer = nn.Linear(*weight.shape, dtype=weight.dtype)
    with torch.no_grad():
        layer.weight.copy_(weight.T)
        layer.bias.zero_()
    return layer


def _layer_norm(width: int, gain: float, dtype: torch.dtype) -> nn.LayerNorm:
    norm = nn.LayerNorm(width, eps=LN_EPS, dtype=dtype)
    with torch.no_grad():
        norm.weight.fill_(gain)
        norm.bias.zero_()
    return norm


class Block(nn.Module):
    def __init__(self, spec: TransformerSpec, p: TransformerParameters, layer: int):
        super().__init__()
        dtype = p.wte.dtype
        self.heads = spec.heads
        self.ln_1 = _layer_norm(spec.width, spec.ln_gain, dtype)
        self.c_attn = _linear(p.qkv[0, layer])
        self.attn_proj = _linear(p.attn_proj[0, layer])
        self.ln_2 = _layer_norm(spec.width, spec.ln_gain, dtype)
        self.mlp = nn.Sequential(_linear(p.fc[0, layer]), activation_module(spec.activation),
                                 _linear(p.mlp_proj[0, layer]))

    def attention(self, x: Tensor) -> Tensor:
        length, width = x.shape
        q, k, v = (z.view(length, self.heads, -1).transpose(0, 1) for z in self.c_attn(x).split(width, dim=-1))
        scores = q @ k.transpose(1, 2) / math.sqrt(width // self.heads)
        future = torch.ones(length, length, dtype=torch.bool).triu(1)
        out = scores.masked_fill(future, float("-inf")).softmax(-1) @ v  # [heads, length, d_head]
        return self.attn_proj(out.transpose(0, 1).reshape(length, width))

    def forward(self, h: Tensor) -> Tensor:
        h = h + self.attention(self.ln_1(h))
        return h + self.mlp(self.ln_2(h))


class ReferenceGPT2(nn.Module):
    """Model ``i`` of the stack ``params`` as an ordinary module: ids [length] -> logits [length, vocab]."""

    def __init__(self, spec: TransformerSpec, params: TransformerParameters, i: int):
        super().__init__()
        p = params.model(i)
        self.wte = nn.Embedding.from_pretrained(p.wte[0].clone())
        self.wpe = nn.Embedding.from_pretrained(p.wpe[0].clone())
        self.blocks = nn.ModuleList(Block(spec, p, layer) for layer in range(spec.depth))
        self.ln_f = _layer_norm(spec.width, 1.0, p.wte.dtype)
        self.lm_head = nn.Linear(spec.width, spec.vocab, bias=False, dtype=p.wte.dtype)
        with torch.no_grad():
            self.lm_head.weight.copy_(p.unembedding[0])

    def forward(self, ids: Tensor) -> Tensor:
        h = self.wte(ids) + self.wpe(torch.arange(len(ids)))
        for block in self.blocks:
            h = block(h)
        return self.lm_head(self.ln_f(h))


@torch.no_grad()
def greedy_recompute(model: ReferenceGPT2, prompt: int, tokens: int) -> Tensor:
    """Greedy decoding that re-runs the whole prefix for every new token -> ids [tokens + 1]."""
    ids = torch.tensor([prompt])
    for _ in range(tokens):
        ids = torch.cat([ids, model(ids)[-1].argmax().view(1)])
    return ids
