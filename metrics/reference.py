"""Plain one-item-at-a-time reference implementations, written the way the public code does it.

They are test oracles for the batched metrics and the "naive" baselines that benchmarks time
against (the public code's Python loops). Deliberately unoptimised: do not use them in experiments.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch


def lz76_python(bits_1d: Sequence) -> int:
    """Kaspar & Schuster (1987) LZ76 phrase count of one sequence, the classic pure-Python loop.

    Works on any sequence of hashable, comparable symbols (bits, tokens). This is the loop used by
    Dingle et al.'s `calc_KC` and most LZ76 code in the wild: the phrase being built,
    s[l : l+k], is compared with every earlier start i < l; k_max tracks the longest match and the
    phrase ends after it with one new symbol. '1001111011000010' -> 6.
    """
    s = list(bits_1d.tolist() if hasattr(bits_1d, "tolist") else bits_1d)
    n = len(s)
    if n <= 1:
        return n
    i, k, l = 0, 1, 1
    c, k_max = 1, 1
    while True:
        if s[i + k - 1] == s[l + k - 1]:
            k += 1
            if l + k > n:
                c += 1
                break
        else:
            k_max = max(k_max, k)
            i += 1
            if i == l:  # every earlier start tried: phrase = longest match + one new symbol
                c += 1
                l += k_max
                if l + 1 > n:
                    break
                i, k, k_max = 0, 1, 1
            else:
                k = 1
    return c


def fourier_quadrant_loop(y_2d) -> float:
    """Mean frequency of one grid, step for step as the public code.

    ArmandNM/neural-redshift `scripts/visualization.py` + `spectral_analysis.get_mean_frequency_2d`:
    |rfft2|, zero the DC term, keep rows 0..H//2, then a Python loop over radial bins
    round(sqrt(i^2 + j^2)) with boolean masks, normalise, weight by r, divide by the max radius.
    Computed in float64 (the public code uses float32).
    """
    out = torch.as_tensor(y_2d, dtype=torch.float64)
    coeff_2d = torch.fft.rfft2(out).abs()
    coeff_2d[0, 0] = 0
    coeff_2d = coeff_2d[: coeff_2d.shape[0] // 2 + 1]

    dim_u, dim_v = coeff_2d.shape
    max_freq = round(((dim_u - 1) ** 2 + (dim_v - 1) ** 2) ** 0.5)
    grid_i, grid_j = torch.meshgrid(
        torch.arange(dim_u, dtype=torch.float64),
        torch.arange(dim_v, dtype=torch.float64),
        indexing="ij",
    )
    bins = torch.round(torch.sqrt(grid_i**2 + grid_j**2)).to(torch.int64)
    coeff_1d = torch.zeros(max_freq + 1, dtype=torch.float64)
    for r in range(max_freq + 1):
        coeff_1d[r] = coeff_2d[bins == r].sum()
    coeff_1d[0] = 0
    coeff_1d /= coeff_1d.sum()
    radii = torch.arange(max_freq + 1, dtype=torch.float64)
    return float((coeff_1d * radii).sum() / max_freq)
