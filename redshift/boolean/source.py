"""The ``boolean`` source of the claims framework: the parameter-function map of random MLPs on the
Boolean cube (Valle-Perez, Camargo & Louis 2019), and uniform random functions as its reference.

Case files write ``{source: boolean, activation: tanh, sigma_w: 16.0}``; the ``boolean:`` settings
mapping (file defaults, claim, ``full:``) is merged under every such subject. One *sample* of a subject
is one replicate: M = ``networks`` fresh networks (``model: mlp``, 7 -> 40 -> 40 -> 1 by default) each
evaluated on the 2^n rows of {0,1}^n (lexicographic order) and thresholded (output > 0) to a truth
table, or M uniform random truth tables (``model: uniform``, every bit a fair coin). Replicate i is
seeded by ``derive_seed(seed, i)``, so it does not depend on how many replicates are drawn.

Metrics: one float per replicate, from the counts c_1 >= c_2 >= ... >= c_D of its D distinct
functions (sum c = M) and K(f) = K_LZ(f), the LZ complexity of the truth table as Dingle, Camargo &
Louis 2018 define it: log2(n) for 0^n and 1^n, else log2(n) (N_w(x_1..x_n) + N_w(x_n..x_1)) / 2, N_w
the Kaspar-Schuster LZ76 phrase count, n = 2^input_dim bits.

    top_share          sum_{i <= K} c_i / M          share of the K (``top``) most frequent functions
    distinct_fraction  D / M                         1 when no function repeats
    frequency_entropy  -sum p_i log2 p_i / log2 M    p_i = c_i / M; 1 when no function repeats
    logp_lz_spearman   Spearman(log2 p_i, K(f_i))    over the D distinct functions (ties: average ranks)
    bound_slope        a of log2 P <= -a K + b       least squares on the upper envelope: for each
                                                     distinct value k of K, max log2 p_i over K(f_i) = k
    mean_lz            sum c_i K(f_i) / M            mean complexity of the M networks' functions

For uniform truth tables every function appears once (a repeat among M tables of 2^n bits has
probability about M^2 / 2^(2^n + 1)), so log frequency is constant: those subjects cannot produce
logp_lz_spearman and bound_slope (``cannot_measure``).

Imports numpy only: the torch kernels (redshift.boolean.sampling) load on the first sample.
"""
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from redshift.boolean.functions import METRICS, NEEDS_REPEATS, FunctionCounts
from redshift.boolean.spec import BooleanSpec
from redshift.core import FieldError, Settings, lazy_module, torch_dtype
from redshift.parse import parse
from redshift.sources import SpecSource

sampling = lazy_module("redshift.boolean.sampling")

#: Parameters of one replicate are drawn at once: M x parameter_count float64 values at most this size.
MAX_PARAMETER_BYTES = 4 * 2**30
#: Packed truth tables kept for a subject (all replicates' distinct functions, at most M each).
MAX_TABLE_BYTES = 4 * 2**30


@dataclass(frozen=True)
class BooleanOutputs:
    """What one subject's samples produce: each replicate's distinct functions and counts, and the
    ``top`` of top_share."""

    replicates: tuple[FunctionCounts, ...]
    top: int

    def __len__(self) -> int:
        return len(self.replicates)


class BooleanSource(SpecSource):
    """Truth tables of random MLPs (or uniform ones) on the Boolean cube, one replicate per sample."""

    name = "boolean"
    spec_type = BooleanSpec
    metrics = tuple(METRICS)

    def parse(self, mapping: Mapping, base: Mapping) -> BooleanSpec:
        parse(BooleanSpec, mapping)  # report a bad key at its own place before merging
        return super().parse(mapping, base)

    def cannot_measure(self, spec: BooleanSpec, metric: str) -> str | None:
        problem = super().cannot_measure(spec, metric)
        if problem is None and spec.model == "uniform" and metric in NEEDS_REPEATS:
            return (f"{metric} needs repeated functions; uniform truth tables of {spec.points} bits never repeat "
                    f"(log frequency is constant), so it is undefined there")
        return problem

    def check(self, spec: BooleanSpec, samples: int, settings: Settings) -> None:
        parameters = spec.networks * spec.parameter_count * 8
        if parameters > MAX_PARAMETER_BYTES:
            raise FieldError("networks", f"{spec.networks} networks of {spec.parameter_count} parameters need "
                                         f"{parameters / 2**30:.1f} GiB per replicate (at most "
                                         f"{MAX_PARAMETER_BYTES / 2**30:.0f} GiB): use fewer networks or a smaller width")
        tables = samples * spec.networks * max(1, spec.points // 64) * 8
        if tables > MAX_TABLE_BYTES:
            raise FieldError("samples", f"{samples} replicates of {spec.networks} truth tables need {tables / 2**30:.1f} "
                                        f"GiB (at most {MAX_TABLE_BYTES / 2**30:.0f} GiB): use fewer samples or networks")

    def describe(self, settings: Settings) -> str:
        return f"truth tables {settings.dtype}"

    def sample(self, spec: BooleanSpec, n: int, seed: int, settings: Settings) -> BooleanOutputs:
        replicates = sampling.sample_counts(spec, n, seed, torch_dtype(settings.dtype), settings.device)
        return BooleanOutputs(replicates, spec.top)

    def measure(self, outputs: BooleanOutputs, metric: str) -> np.ndarray:
        fn = METRICS[metric]
        return np.array([fn(f, outputs.top) for f in outputs.replicates], dtype=float)


SOURCE = BooleanSource()
