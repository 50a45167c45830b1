"""Truth tables as packed words, their frequencies, their LZ complexity, and the per-replicate metrics.

Numpy only at import (the LZ76 kernel of redshift.metrics, numba, and scipy load on first use).

Packing: bit j of a truth table (the function's value on row j of the cube, rows in lexicographic
order) is bit 63 - (j mod 64) of word j // 64, i.e. each word holds 64 table bits most significant
first (``np.packbits`` order, read as big-endian uint64). A 128-point table is two uint64 words; a
table of fewer than 64 points sits in the high bits of one word, the rest zero. Sorting the words
lexicographically sorts the tables lexicographically.
"""
from dataclasses import dataclass
from functools import cached_property

import numpy as np

import redshift.metrics as grid_metrics
from redshift.core import lazy_module

scipy_stats = lazy_module("scipy.stats")


def words_per_table(input_dim: int) -> int:
    """uint64 words per packed truth table of 2^input_dim bits."""
    return max(1, 2 ** input_dim // 64)


def pack_bits(bits: np.ndarray) -> np.ndarray:
    """[M, P] bool / {0,1} truth tables -> [M, max(1, P // 64)] uint64 words (see the module docstring)."""
    bits = np.asarray(bits)
    m, points = bits.shape
    padded = np.zeros((m, 64 * max(1, -(-points // 64))), dtype=np.uint8)
    padded[:, :points] = bits
    return np.packbits(padded, axis=1).view(">u8").astype(np.uint64)


def unpack_bits(words: np.ndarray, points: int) -> np.ndarray:
    """[D, words] uint64 -> [D, points] uint8 truth tables: the inverse of ``pack_bits``."""
    words = np.ascontiguousarray(np.asarray(words, dtype=np.uint64))
    as_bytes = words.astype(">u8").view(np.uint8).reshape(len(words), -1)
    return np.unpackbits(as_bytes, axis=1)[:, :points]


@dataclass(frozen=True)
class FunctionCounts:
    """The distinct functions of one replicate: ``words`` [D, words] (sorted), ``counts`` [D] (how many
    of the replicate's networks compute each), on 2^input_dim points."""

    words: np.ndarray
    counts: np.ndarray
    input_dim: int

    @property
    def networks(self) -> int:
        return int(self.counts.sum())

    @property
    def distinct(self) -> int:
        return len(self.counts)

    @cached_property
    def bits(self) -> np.ndarray:
        """[D, 2^n] uint8 truth tables of the distinct functions."""
        return unpack_bits(self.words, 2 ** self.input_dim)

    @cached_property
    def complexity(self) -> np.ndarray:
        """[D] K_LZ of each distinct function (``lz_complexity``)."""
        return lz_complexity(self.bits)


def count_functions(words: np.ndarray, input_dim: int) -> FunctionCounts:
    """Distinct packed truth tables [M, words] and their counts (``np.unique`` over rows)."""
    unique, counts = np.unique(np.asarray(words, dtype=np.uint64), axis=0, return_counts=True)
    return FunctionCounts(unique, counts.astype(np.int64), input_dim)


def lz_complexity(bits: np.ndarray) -> np.ndarray:
    """K_LZ of binary strings [..., n] (Dingle, Camargo & Louis 2018; Valle-Perez et al. 2019):
    log2(n) for 0^n and 1^n, else log2(n) * (N_w(x_1..x_n) + N_w(x_n..x_1)) / 2, N_w the Kaspar-Schuster
    LZ76 phrase count (redshift.metrics.lz76). Float64 [...]."""
    bits = np.asarray(bits, dtype=np.uint8)
    n = bits.shape[-1]
    forward = grid_metrics.lz76(bits).numpy()
    backward = grid_metrics.lz76(np.ascontiguousarray(bits[..., ::-1])).numpy()
    constant = bits.min(axis=-1) == bits.max(axis=-1)
    return np.where(constant, np.log2(n), np.log2(n) * (forward + backward) / 2)


# --- per-replicate metrics: FunctionCounts -> one float -----------------------------------------

def top_share(f: FunctionCounts, top: int) -> float:
    """Fraction of the replicate's networks whose function is one of its ``top`` most frequent."""
    return float(np.sort(f.counts)[::-1][:top].sum() / f.networks)


def distinct_fraction(f: FunctionCounts) -> float:
    """Distinct functions / networks (1 when no function repeats)."""
    return f.distinct / f.networks


def frequency_entropy(f: FunctionCounts) -> float:
    """Entropy of the empirical function distribution over its maximum: H / log2 M, H = -sum p log2 p,
    p = counts / M (1 when no function repeats)."""
    p = f.counts / f.networks
    return float(-(p * np.log2(p)).sum() / np.log2(f.networks))


def log_frequency(f: FunctionCounts) -> np.ndarray:
    """[D] log2 of each distinct function's empirical probability counts / M."""
    return np.log2(f.counts / f.networks)


def logp_lz_spearman(f: FunctionCounts) -> float:
    """Spearman rank correlation between log2 frequency and K_LZ over the distinct functions
    (ties ranked by their average rank); NaN when either is constant or fewer than 3 functions."""
    logp, k = log_frequency(f), f.complexity
    if f.distinct < 3 or np.ptp(logp) == 0 or np.ptp(k) == 0:
        return float("nan")
    return float(scipy_stats.spearmanr(logp, k)[0])


def upper_envelope(f: FunctionCounts) -> tuple[np.ndarray, np.ndarray]:
    """For each distinct K_LZ value k among the functions: k and the largest log2 frequency at k."""
    k, logp = f.complexity, log_frequency(f)
    levels, index = np.unique(k, return_inverse=True)
    envelope = np.full(len(levels), -np.inf)
    np.maximum.at(envelope, index, logp)
    return levels, envelope


def bound_slope(f: FunctionCounts) -> float:
    """a of the upper bound log2 P(f) <= -a K_LZ(f) + b: minus the least-squares slope of the upper
    envelope (``upper_envelope``) on K; a > 0 when log P falls with K. NaN with fewer than 2 levels."""
    levels, envelope = upper_envelope(f)
    if len(levels) < 2:
        return float("nan")
    slope = np.polyfit(levels, envelope, 1)[0]
    return float(-slope)


def mean_lz(f: FunctionCounts) -> float:
    """Mean K_LZ of the replicate's M networks' functions: sum counts * K_LZ / M."""
    return float((f.counts * f.complexity).sum() / f.networks)


#: metric name -> (FunctionCounts, top) -> float
METRICS = {
    "top_share": lambda f, top: top_share(f, top),
    "distinct_fraction": lambda f, top: distinct_fraction(f),
    "frequency_entropy": lambda f, top: frequency_entropy(f),
    "logp_lz_spearman": lambda f, top: logp_lz_spearman(f),
    "bound_slope": lambda f, top: bound_slope(f),
    "mean_lz": lambda f, top: mean_lz(f),
}
#: metrics whose value is meaningless when (as for uniform truth tables) every function appears once
NEEDS_REPEATS = ("logp_lz_spearman", "bound_slope")
