"""Lempel-Ziv complexity C_LZ: Kaspar-Schuster LZ76 phrase counts (paper §3).

`lz76` counts phrases of arbitrary integer sequences; `lz` applies it to grids after median
binarisation. The phrase count is computed in linear time from a suffix automaton, compiled with
numba and run in parallel over the batch (the public code's pure-Python LZ is
infeasible on 4096-90000-point grids).
"""

from __future__ import annotations

import numpy as np
import torch
from numba import njit, prange

from redshift.metrics.guard import as_grid, grid_metric

#: Largest dense transition table (states x alphabet, int32) one sequence may allocate: 2**25
#: entries = 128 MiB per worker thread.
MAX_TABLE_ENTRIES = 2**25
_SMALL_RANGE = 1 << 16


@njit(cache=True)
def _compact_row(row, out):
    """Relabel row's symbols as 0..A-1 (in order of first appearance) into out; return A."""
    n = row.shape[0]
    if n == 0:
        return 0
    lo = row.min()
    hi = row.max()
    if lo >= -(1 << 62) and hi <= (1 << 62) and hi - lo < _SMALL_RANGE:
        table = np.full(hi - lo + 1, -1, dtype=np.int32)
        a = 0
        for i in range(n):
            v = row[i] - lo
            if table[v] < 0:
                table[v] = a
                a += 1
            out[i] = table[v]
        return a
    order = np.argsort(row)
    a = 0
    out[order[0]] = 0
    for k in range(1, n):
        if row[order[k]] != row[order[k - 1]]:
            a += 1
        out[order[k]] = a
    return a + 1


@njit(cache=True)
def _phrase_count(s, a):
    """LZ76 phrase count of s (int32 symbols in 0..a-1) via a suffix automaton.

    Automaton of the whole of s: state transitions in a dense [2L, a] table, `first[st]` = end
    index of the first occurrence of the state's strings (clones inherit it). From position p,
    walk s[p], s[p+1], ... from the root and accept length l while the first occurrence of
    s[p:p+l] starts before p (overlap allowed); the phrase is s[p:p+l+1], truncated at the end.
    """
    n = s.shape[0]
    if n == 0:
        return 0
    cap = 2 * n
    nxt = np.full((cap, a), -1, dtype=np.int32)
    link = np.empty(cap, dtype=np.int32)
    length = np.empty(cap, dtype=np.int32)
    first = np.empty(cap, dtype=np.int32)
    link[0] = -1
    length[0] = 0
    first[0] = -1
    size = 1
    last = 0
    for i in range(n):
        c = s[i]
        cur = size
        size += 1
        length[cur] = length[last] + 1
        first[cur] = i
        p = last
        while p != -1 and nxt[p, c] == -1:
            nxt[p, c] = cur
            p = link[p]
        if p == -1:
            link[cur] = 0
        else:
            q = nxt[p, c]
            if length[p] + 1 == length[q]:
                link[cur] = q
            else:
                clone = size
                size += 1
                length[clone] = length[p] + 1
                for sym in range(a):
                    nxt[clone, sym] = nxt[q, sym]
                link[clone] = link[q]
                first[clone] = first[q]
                while p != -1 and nxt[p, c] == q:
                    nxt[p, c] = clone
                    p = link[p]
                link[q] = clone
                link[cur] = clone
        last = cur

    count = 0
    p = 0
    while p < n:
        state = 0
        l = 0
        while p + l < n:
            nx = nxt[state, s[p + l]]  # exists: s[p:p+l+1] occurs at p itself
            if first[nx] - l < p:  # first occurrence of s[p:p+l+1] starts before p
                state = nx
                l += 1
            else:
                break
        count += 1
        p += l + 1
    return count


@njit(parallel=True, cache=True)
def _lz76_rows(x, max_entries):
    """Phrase count per row of x [B, L]; -1 marks a row whose table would exceed max_entries."""
    out = np.empty(x.shape[0], dtype=np.float64)
    for b in prange(x.shape[0]):
        codes = np.empty(x.shape[1], dtype=np.int32)
        a = _compact_row(x[b], codes)
        if 2 * x.shape[1] * a > max_entries:
            out[b] = -1.0
        else:
            out[b] = _phrase_count(codes, max(a, 1))
    return out


def lz76(seq: torch.Tensor | np.ndarray) -> torch.Tensor:
    """Kaspar-Schuster LZ76 phrase count N_w of each sequence along the last dim.

    The sequence s is parsed left to right into phrases; the phrase starting at p is the longest
    prefix u of s[p:] that also starts at some j < p (the copy may overlap p), plus one new
    symbol, cut short at the end of s (a truncated last phrase still counts). N_w = number of
    phrases. E.g. 1|0|01|1110|1100|0010 -> 6; 0|000...0 -> 2; 0|1|0101...01 -> 3.
    Equals `metrics.reference.lz76_python` (the classic Kaspar & Schuster 1987 loop).

    Symbols are relabelled per sequence, so any integer alphabet works; the count is invariant to
    relabelling (bits and their complement give the same count). Linear time per sequence.

    Args:
        seq: [..., L] tensor (or numpy array) of bool or integer symbols, any device.
    Returns:
        float64 [...] phrase counts on seq's device (0 for L = 0).
    Raises:
        TypeError: floating or complex input (quantise first).
        ValueError: a sequence whose alphabet needs a transition table over MAX_TABLE_ENTRIES.
    """
    device = seq.device if isinstance(seq, torch.Tensor) else torch.device("cpu")
    arr = seq.detach().cpu().numpy() if isinstance(seq, torch.Tensor) else np.asarray(seq)
    if arr.ndim < 1:
        raise ValueError("lz76 expects a tensor of shape [..., L]")
    if not (arr.dtype == np.bool_ or np.issubdtype(arr.dtype, np.integer)):
        raise TypeError(f"lz76 expects bool or integer symbols, got dtype {arr.dtype}")
    lead, n = arr.shape[:-1], arr.shape[-1]
    # bool and uint8 go in as a zero-copy uint8 view; other integer types are widened to int64.
    narrow = arr.dtype in (np.bool_, np.uint8)
    flat = np.ascontiguousarray(arr.reshape(int(np.prod(lead)), n))
    flat = flat.view(np.uint8) if narrow else flat.astype(np.int64, copy=False)
    counts = _lz76_rows(flat, MAX_TABLE_ENTRIES)
    if (counts < 0).any():
        raise ValueError(
            f"a sequence of length {n} has too many distinct symbols for the dense suffix-"
            f"automaton table (limit {MAX_TABLE_ENTRIES} entries = 2 * L * alphabet); "
            "quantise more coarsely"
        )
    return torch.from_numpy(counts.reshape(lead)).to(device)


def median_bits(y: torch.Tensor) -> torch.Tensor:
    """Binarise each grid at its own median and flatten in raster order: bool [..., H*W].

    bit = y > median, with the median of an even count taken as the mean of the two middle values
    (numpy's convention), so that no value equals it when values are distinct.
    """
    flat = as_grid(y).flatten(-2)
    ordered = flat.sort(dim=-1).values
    n = flat.shape[-1]
    med = 0.5 * (ordered[..., (n - 1) // 2] + ordered[..., n // 2])
    return flat > med[..., None]


@grid_metric
def lz(y: torch.Tensor) -> torch.Tensor:
    """Grid LZ complexity C_LZ (paper §3 recommended variant).

        C = N_w( [y > median(y)] flattened row-major )    (Kaspar-Schuster LZ76, see `lz76`)

    Reference values at 64x64 (4096 bits): linear ramp ~49, sin(2 pi x1) ~4, iid noise ~354
    (about 4096 / log2(4096) = 341). Invariant to a*y + b for a > 0 (same bits). For a < 0 the
    bits are complemented wherever no value equals the median (always, for distinct values), and
    LZ76 is invariant to relabelling symbols, so the count is unchanged. Raster-order dependent,
    hence anisotropic: exempt from the rotation-symmetry claim of cases/metrics.yaml.

    Args:
        y: [..., H, W] real grid, float32 or float64, any device.
    Returns:
        float64 [...] on y's device; NaN where `degenerate(y)`.
    """
    return lz76(median_bits(y))
