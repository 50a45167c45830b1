"""The ``transformer`` source of the claims framework: subjects are random GPT-2s (or iid tokens).

Case files write ``{source: transformer, activation: tanh, ln_gain: 3.0}``; the ``transformer:``
settings mapping (file defaults, claim, ``full:``) is merged under every such subject. The reference
subject ``{source: transformer, model: iid_tokens}`` takes vocab and tokens from the same settings.

``redshift.claims.sources`` imports this module to register the source, so this module imports the
framework's names (SubjectError, merge, DTYPES) only when a method runs: no import cycle in any order.
"""
from collections.abc import Mapping

import numpy as np
import torch

from redshift.networks.spec import SpecError
from redshift.transformers.sampling import sample_sequences
from redshift.transformers.sequence_metrics import SEQUENCE_METRICS
from redshift.transformers.spec import TransformerSpec


class TransformerSource:
    """Sequences greedily decoded by fresh random transformers: one model per sample.

    Implements the ``redshift.claims.sources.Source`` interface; outputs are token ids [n, tokens + 1].
    """

    name = "transformer"
    settings_key = "transformer"
    metrics = tuple(SEQUENCE_METRICS)

    def parse(self, mapping: Mapping, base: Mapping) -> TransformerSpec:
        from redshift.claims.sources import SubjectError, merge

        try:
            TransformerSpec.from_mapping(mapping)  # report a bad key at its own place before merging
            return TransformerSpec.from_mapping(merge(base, mapping))
        except SpecError as exc:
            raise SubjectError(exc.field, exc.message) from None

    def label(self, spec: TransformerSpec) -> str:
        return spec.label()

    def describe(self, settings) -> str:
        return f"greedy {settings.dtype}"

    def sample(self, spec: TransformerSpec, n: int, seed: int, settings) -> torch.Tensor:
        from redshift.claims.sources import DTYPES

        return sample_sequences(spec, n, seed, DTYPES[settings.dtype], settings.device)

    def measure(self, outputs: torch.Tensor, metric: str) -> np.ndarray:
        return np.asarray(SEQUENCE_METRICS[metric](outputs), dtype=float)
