"""Batched greedy decoding of n independent random transformers with a key/value cache (paper §5).

GPT-2 forward for one new position t per model, pre-LN (Radford et al. 2019):
    h = wte[x_t] + wpe[t]
    per block:  h += attn(gamma * LN(h)) @ W_proj,   h += act(gamma * LN(h) @ W_fc) @ W_mlp_proj
    logits = LN(h) @ W_head^T        (LN: zero mean, unit variance over width, eps 1e-5, bias 0)
attn: q, k, v = a @ W_qkv split in heads; softmax(q . k_s / sqrt(d_head)) over s <= t (causal).
Keys and values of earlier positions are kept in a cache, so a step costs O(t) attention instead of
recomputing the whole prefix. Every product is a bmm / einsum over the model axis: each sequence has
its own weights, as in the paper (one fresh model per sequence).
"""
import math

import torch
import torch.nn.functional as F
from torch import Tensor

from redshift.networks.activations import ACTIVATIONS
from redshift.transformers.parameters import TransformerParameters
from redshift.transformers.spec import LN_EPS, TransformerSpec


def _norm(h: Tensor, gain: float = 1.0) -> Tensor:
    """gain * (h - mean) / sqrt(var + eps) over the last dim (a layer norm with weight gain, bias 0)."""
    return F.layer_norm(h, h.shape[-1:], eps=LN_EPS) * gain


def _linear(x: Tensor, w: Tensor) -> Tensor:
    """x [n, in] @ w [n, in, out] per model -> [n, out]."""
    return torch.bmm(x.unsqueeze(1), w).squeeze(1)


class Decoder:
    """Incremental forward of n stacked models: ``step(tokens)`` feeds position t and returns its logits."""

    def __init__(self, spec: TransformerSpec, params: TransformerParameters):
        self.spec = spec
        self.params = params
        n, heads = params.n, spec.heads
        cache_shape = (spec.depth, n, heads, spec.length, spec.width // heads)
        self.keys = params.wte.new_zeros(cache_shape)
        self.values = params.wte.new_zeros(cache_shape)
        self.position = 0
        self.rows = torch.arange(n, device=params.wte.device)

    def step(self, tokens: Tensor) -> Tensor:
        """tokens [n] at the next position -> logits [n, vocab] for the token after it."""
        spec, p, t = self.spec, self.params, self.position
        if t >= spec.length:
            raise ValueError(f"the cache holds {spec.length} positions; position {t} is past it")
        n, heads, gain = p.n, spec.heads, spec.ln_gain
        d_head = spec.width // heads
        act = ACTIVATIONS[spec.activation]
        h = p.wte[self.rows, tokens] + p.wpe[:, t]
        for layer in range(spec.depth):
            q, k, v = _linear(_norm(h, gain), p.qkv[:, layer]).view(n, 3, heads, d_head).unbind(1)
            self.keys[layer, :, :, t] = k
            self.values[layer, :, :, t] = v
            scores = torch.einsum("nhd,nhsd->nhs", q, self.keys[layer, :, :, :t + 1]) / math.sqrt(d_head)
            mixed = torch.einsum("nhs,nhsd->nhd", scores.softmax(-1), self.values[layer, :, :, :t + 1])
            h = h + _linear(mixed.reshape(n, -1), p.attn_proj[:, layer])
            h = h + _linear(act(_linear(_norm(h, gain), p.fc[:, layer])), p.mlp_proj[:, layer])
        self.position = t + 1
        return _linear(_norm(h), p.unembedding.transpose(1, 2))


@torch.no_grad()
def generate(spec: TransformerSpec, params: TransformerParameters) -> Tensor:
    """Greedy decoding: the prompt token then ``spec.tokens`` argmax tokens -> ids [n, tokens + 1] (int64)."""
    decoder = Decoder(spec, params)
    ids = params.prompt.new_empty((params.n, spec.length))
    ids[:, 0] = params.prompt
    for t in range(spec.tokens):
        ids[:, t + 1] = decoder.step(ids[:, t]).argmax(-1)
    return ids
