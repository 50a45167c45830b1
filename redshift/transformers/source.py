"""The ``transformer`` source of the claims framework: subjects are random GPT-2s (or iid tokens).

Case files write ``{source: transformer, activation: tanh, ln_gain: 3.0}``; the ``transformer:``
settings mapping (file defaults, claim, ``full:``) is merged under every such subject. The reference
subject ``{source: transformer, model: iid_tokens}`` takes vocab and tokens from the same settings.
"""
from collections.abc import Mapping

import numpy as np
import torch

from redshift.core import Settings
from redshift.parse import parse
from redshift.sources import SpecSource
from redshift.transformers.sampling import sample_sequences
from redshift.transformers.sequence_metrics import SEQUENCE_METRICS
from redshift.transformers.spec import TransformerSpec


class TransformerSource(SpecSource):
    """Sequences greedily decoded by fresh random transformers: one model per sample.
    Outputs are token ids [n, tokens + 1]."""

    name = "transformer"
    spec_type = TransformerSpec
    metrics = tuple(SEQUENCE_METRICS)

    def parse(self, mapping: Mapping, base: Mapping) -> TransformerSpec:
        parse(TransformerSpec, mapping)  # report a bad key at its own place before merging
        return super().parse(mapping, base)

    def describe(self, settings: Settings) -> str:
        return f"greedy {settings.dtype}"

    def sample(self, spec: TransformerSpec, n: int, seed: int, settings: Settings) -> torch.Tensor:
        return sample_sequences(spec, n, seed, settings.torch_dtype, settings.device)

    def measure(self, outputs: torch.Tensor, metric: str) -> np.ndarray:
        return np.asarray(SEQUENCE_METRICS[metric](outputs), dtype=float)


SOURCE = TransformerSource()
