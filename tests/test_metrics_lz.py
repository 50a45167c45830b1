"""Tests for the LZ76 phrase count (`metrics.lz76`) and its plain-Python oracle."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from redshift.metrics import lz76
from redshift.metrics.lempel_ziv import MAX_TABLE_ENTRIES, median_bits
from redshift.metrics.reference import lz76_python

RNG_SEED = 20240302


def bits_of(text: str) -> torch.Tensor:
    return torch.tensor([int(ch) for ch in text], dtype=torch.int64)


GOLDEN = {
    "kaspar_schuster": ("1001111011000010", 6),  # 1|0|01|1110|1100|0010
    "empty": ("", 0),
    "single": ("1", 1),
    "zeros_2": ("00", 2),
    "zeros_50": ("0" * 50, 2),
    "ones_4096": ("1" * 4096, 2),
    "alternating_3": ("010", 3),
    "alternating_64": ("01" * 32, 3),
    "two_new_symbols": ("01", 2),
    "copy_then_new": ("0001", 2),  # 0|001
    "overlap_then_new": ("0101012", 3),  # 0|1|01012: '0101' copied from j=0 across p, then '2'
    "ternary": ("0120120", 4),  # 0|1|2|0120 (truncated last phrase still counts)
}


@pytest.mark.parametrize("case", list(GOLDEN))
def test_golden_vectors(case):
    text, expected = GOLDEN[case]
    assert lz76_python(text) == expected
    assert float(lz76(bits_of(text))) == expected


def _random_sequences(rng: np.random.Generator, length: int) -> list[np.ndarray]:
    """Bits (fair and biased), 5-symbol tokens, and noisy repeats of a short motif."""
    motif = rng.integers(0, 5, size=rng.integers(1, 8))
    repeated = np.resize(motif, length)
    flips = rng.random(length) < 0.05
    repeated[flips] = rng.integers(0, 5, size=int(flips.sum()))
    return [
        rng.integers(0, 2, size=length),
        (rng.random(length) < 0.9).astype(np.int64),
        rng.integers(0, 5, size=length),
        repeated,
    ]


def test_matches_python_reference_on_random_sequences():
    rng = np.random.default_rng(RNG_SEED)
    mismatches = []
    for length in range(1, 301):
        batch = np.stack(_random_sequences(rng, length))
        got = lz76(torch.from_numpy(batch)).tolist()
        expected = [lz76_python(row) for row in batch]
        if got != expected:
            mismatches.append((length, got, expected))
    assert not mismatches, mismatches[:5]


@pytest.mark.parametrize(
    "dtype", [torch.bool, torch.uint8, torch.int8, torch.int16, torch.int32, torch.int64]
)
def test_integer_dtypes_agree(dtype):
    rng = np.random.default_rng(RNG_SEED + 1)
    bits = torch.from_numpy(rng.integers(0, 2, size=(4, 500)))
    assert torch.equal(lz76(bits.to(dtype)), lz76(bits))


@pytest.mark.parametrize(
    "labels",
    [np.array([0, 255, 7], np.uint8), np.array([-128, 127, 0], np.int8)],
    ids=["uint8", "int8"],
)
def test_extreme_labels_of_narrow_dtypes(labels):
    seqs = np.random.default_rng(RNG_SEED + 5).choice(labels, size=(3, 300))
    assert lz76(torch.from_numpy(seqs)).tolist() == [lz76_python(row) for row in seqs]


def test_invariant_to_relabelling_symbols():
    rng = np.random.default_rng(RNG_SEED + 2)
    tokens = rng.integers(0, 6, size=(8, 400))
    relabel = np.array([50256, -7, 3, 2**40, 0, 11])  # includes a huge label: sort-based path
    bits = rng.integers(0, 2, size=(8, 400)).astype(bool)
    assert torch.equal(lz76(torch.from_numpy(relabel[tokens])), lz76(torch.from_numpy(tokens)))
    assert torch.equal(lz76(torch.from_numpy(~bits)), lz76(torch.from_numpy(bits)))


def test_leading_batch_dims_and_output_type():
    rng = np.random.default_rng(RNG_SEED + 3)
    seqs = torch.from_numpy(rng.integers(0, 3, size=(2, 3, 257)))
    out = lz76(seqs)
    assert out.shape == (2, 3) and out.dtype == torch.float64
    expected = [[lz76_python(seqs[i, j]) for j in range(3)] for i in range(2)]
    assert out.tolist() == expected
    assert lz76(seqs[:0]).shape == (0, 3)
    assert lz76(seqs[..., :0]).tolist() == [[0.0] * 3] * 2


def test_random_bits_near_n_over_log2_n():
    # iid fair bits: N_w -> L / log2(L); at L = 4096 that is 341 (finite-length runs measure ~354).
    bits = torch.from_numpy(np.random.default_rng(RNG_SEED + 4).integers(0, 2, size=(8, 4096)))
    assert abs(float(lz76(bits).mean()) - 354) < 10


def test_rejects_float_input():
    with pytest.raises(TypeError, match="integer"):
        lz76(torch.rand(3, 10))


def test_rejects_alphabet_too_large_for_dense_table():
    length = int((MAX_TABLE_ENTRIES / 2) ** 0.5) + 2  # all-distinct: 2 * L * L > limit
    with pytest.raises(ValueError, match="too many distinct symbols"):
        lz76(torch.arange(length))


def test_median_bits_split_distinct_values_in_half():
    grids = torch.randn(3, 8, 10, generator=torch.Generator().manual_seed(5), dtype=torch.float64)
    bits = median_bits(grids)
    assert bits.shape == (3, 80) and bits.dtype == torch.bool
    assert bits.sum(-1).tolist() == [40, 40, 40]
    assert torch.equal(median_bits(-grids), ~bits)
    # raster order: row-major with x1 the row index
    ramp = torch.arange(6.0).reshape(2, 3)
    assert median_bits(ramp).tolist() == [False, False, False, True, True, True]
