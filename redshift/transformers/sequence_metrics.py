"""Complexity of token sequences (paper §5): LZ phrase counts per token.

``lz76_per_token``: Kaspar-Schuster LZ76 phrases (``metrics.lz76``) / length.
``lz78_per_token``: the public code's ``lempel_ziv_complexity`` (Naereen's LZ78-style parse) / length,
    the number the paper's Fig. 10 plots; ids include the prompt token.
``distinct_tokens``: the number of different token ids in the sequence.
"""
import numpy as np
import torch
from numba import njit, prange

from redshift.metrics import lz76


@njit(cache=True)
def _relabel(row, out):
    """Symbols of row as 0..A-1 (by sorted value) into out; return A."""
    order = np.argsort(row)
    a = 0
    out[order[0]] = 0
    for k in range(1, row.shape[0]):
        if row[order[k]] != row[order[k - 1]]:
            a += 1
        out[order[k]] = a
    return a + 1


@njit(parallel=True, cache=True)
def _lz78_rows(x):
    """LZ78 phrase count per row of x [B, L] (int64, L >= 1), by a walk down the phrase trie."""
    count = np.empty(x.shape[0], dtype=np.int64)
    length = x.shape[1]
    for b in prange(x.shape[0]):
        codes = np.empty(length, dtype=np.int64)
        a = _relabel(x[b], codes)
        child = np.full((length + 1) * a, -1, dtype=np.int64)  # trie: node * a + symbol -> node
        nodes = 1  # node 0 is the empty phrase
        node = 0
        for i in range(length):
            nxt = child[node * a + codes[i]]
            if nxt >= 0:
                node = nxt  # the phrase so far is known: extend it
            else:
                child[node * a + codes[i]] = nodes  # a new phrase; start the next one
                nodes += 1
                node = 0
        count[b] = nodes - 1  # an unfinished last phrase (node != 0) is not counted
    return count


def lz78(ids: torch.Tensor | np.ndarray) -> np.ndarray:
    """Number of distinct phrases of Naereen's LZ78-style parse of each row of ids [..., L].

    Left to right, grow the current substring by one symbol until it is not in the set of phrases
    seen so far, add it and start a new substring after it; a trailing substring that is already
    in the set is not counted (ArmandNM ``complexity.lempel_ziv_complexity``; doctest
    '1001111011000010' -> 1|0|01|11|10|110|00|010 = 8). The phrase set is prefix-closed, so a trie
    gives the same count in linear time.
    """
    arr = ids.detach().cpu().numpy() if isinstance(ids, torch.Tensor) else np.asarray(ids)
    if not np.issubdtype(arr.dtype, np.integer) or arr.ndim < 1 or arr.shape[-1] == 0:
        raise ValueError(f"lz78 expects integer ids of shape [..., L >= 1], got {arr.dtype} {arr.shape}")
    flat = np.ascontiguousarray(arr.reshape(-1, arr.shape[-1]), dtype=np.int64)
    return _lz78_rows(flat).reshape(arr.shape[:-1])


def lz76_per_token(ids: torch.Tensor) -> np.ndarray:
    return lz76(ids).cpu().numpy() / ids.shape[-1]


def lz78_per_token(ids: torch.Tensor) -> np.ndarray:
    return lz78(ids) / ids.shape[-1]


def distinct_tokens(ids: torch.Tensor) -> np.ndarray:
    sorted_ids = ids.sort(-1).values
    return (1 + (sorted_ids[..., 1:] != sorted_ids[..., :-1]).sum(-1)).double().cpu().numpy()


SEQUENCE_METRICS = {
    "lz76_per_token": lz76_per_token,
    "lz78_per_token": lz78_per_token,
    "distinct_tokens": distinct_tokens,
}
