"""One-dimensional feature blocks of the simplicity-bias datasets (Shah et al. 2020, §3 and App. B,
as in the authors' ``scripts/gendata.py``).

Width B and margin gamma give the absolute margin m = gamma B; labels y are in {0, 1} with sign 2y - 1.
Every function maps labels [...] to one coordinate [...] (float64) drawn from ``generator``.

- linear:        x = (2y - 1) (m + (B - m) U),  U ~ U(0, 1)
- noisy linear:  linear, then exactly round(p P) of the P points of each dataset (any label) get
                 x ~ U(-m, m): Bayes accuracy of the coordinate alone is 1 - p/2
- k-slab:        k alternating intervals of width w_k = 2B(1 - (k-1) gamma)/k separated by 2m, covering
                 [-B, B]; the centre one is negative. Interval j from the centre (j = 0..(k-1)/2) starts
                 at -B + ((k-1)/2 + j)(w_k + 2m); off-centre intervals take either side with probability
                 1/2; within-class interval probabilities are SLAB_PROBABILITIES (the outermost slabs get
                 1/4 for k = 5 and 1/8 for k = 7, "so that the variance of x+ and x- are equal").
- noisy k-slab:  k-slab, then exactly round(p P) of the P points of each dataset (any label) get the
                 value of a point of the OTHER class (the authors' ``corrupt_slab``: negatives moved to
                 positive slabs, positives to negative ones): accuracy of the coordinate alone is 1 - p
"""
import torch
from torch import Tensor

# k -> per class (0 = negative, 1 = positive): {interval index j from the centre: probability within class}
SLAB_PROBABILITIES: dict[int, dict[int, dict[int, float]]] = {
    3: {0: {0: 1.0}, 1: {1: 1.0}},
    5: {0: {0: 0.75, 2: 0.25}, 1: {1: 1.0}},
    7: {0: {0: 0.5, 2: 0.5}, 1: {1: 0.875, 3: 0.125}},
}


def slab_width(k: int, width: float = 1.0, margin: float = 0.1) -> float:
    """w_k = 2B(1 - (k-1) gamma) / k."""
    return 2 * width * (1 - (k - 1) * margin) / k


def slab_interval(k: int, j: int, width: float = 1.0, margin: float = 0.1) -> tuple[float, float]:
    """The right-hand copy of interval j (j = 0 is the centre interval, symmetric about 0)."""
    w = slab_width(k, width, margin)
    start = -width + ((k - 1) // 2 + j) * (w + 2 * margin * width)
    return start, start + w


def linear(labels: Tensor, generator: torch.Generator, width: float = 1.0, margin: float = 0.1) -> Tensor:
    """x = (2y - 1)(m + (B - m) U): positives U[m, B], negatives U[-B, -m]."""
    m = margin * width
    u = torch.rand(labels.shape, generator=generator, dtype=torch.float64)
    return (2 * labels.to(torch.float64) - 1) * (m + (width - m) * u)


def noisy_linear(labels: Tensor, generator: torch.Generator, noise: float, width: float = 1.0,
                 margin: float = 0.1) -> Tensor:
    """Linear, then round(noise * P) points per dataset (chosen without replacement over the last axis,
    whatever their label) moved to x ~ U(-m, m)."""
    x = linear(labels, generator, width, margin)
    points = labels.shape[-1]
    corrupted = int(round(points * noise))
    order = torch.argsort(torch.rand(labels.shape, generator=generator, dtype=torch.float64), dim=-1)
    inside = margin * width * (2 * torch.rand(labels.shape, generator=generator, dtype=torch.float64) - 1)
    mask = torch.zeros(labels.shape, dtype=torch.bool).scatter_(-1, order[..., :corrupted], True)
    return torch.where(mask, inside, x)


def slab(labels: Tensor, generator: torch.Generator, k: int, width: float = 1.0, margin: float = 0.1) -> Tensor:
    """k-slab coordinate: pick an interval given the class (SLAB_PROBABILITIES), a side by a fair coin,
    then a uniform point in it."""
    if k not in SLAB_PROBABILITIES:
        raise ValueError(f"k-slab: unknown k {k!r} (allowed: {', '.join(map(str, SLAB_PROBABILITIES))})")
    u_interval, u_side, u_point = torch.rand((3, *labels.shape), generator=generator, dtype=torch.float64)
    positive = labels.to(torch.bool)
    start = torch.full(labels.shape, torch.nan, dtype=torch.float64)
    for cls, mask in ((0, ~positive), (1, positive)):
        cumulative, below = 0.0, torch.zeros(labels.shape, dtype=torch.bool)
        for j, probability in SLAB_PROBABILITIES[k][cls].items():
            cumulative += probability
            here = mask & ~below & (u_interval < cumulative)
            start = torch.where(here, slab_interval(k, j, width, margin)[0], start)
            below |= here
    # the centre interval is symmetric about 0, so the random side leaves it uniform too
    side = torch.where(u_side < 0.5, 1.0, -1.0).to(torch.float64)
    return side * (start + slab_width(k, width, margin) * u_point)


def noisy_slab(labels: Tensor, generator: torch.Generator, k: int, noise: float, width: float = 1.0,
               margin: float = 0.1) -> Tensor:
    """k-slab, then round(noise * P) points per coordinate (chosen without replacement over the last axis,
    whatever their label) take a k-slab value of the other class. Draw order: the clean values, the
    other-class values, the choice of points."""
    x = slab(labels, generator, k, width, margin)
    flipped = slab(1 - labels, generator, k, width, margin)
    points = labels.shape[-1]
    order = torch.argsort(torch.rand(labels.shape, generator=generator, dtype=torch.float64), dim=-1)
    mask = torch.zeros(labels.shape, dtype=torch.bool).scatter_(-1, order[..., :int(round(points * noise))], True)
    return torch.where(mask, flipped, x)
