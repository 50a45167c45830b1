"""Rankings with intervals and the nearest built-in architecture.

Rank (1 = simplest) by median; its interval comes from the medians' 95% intervals: an
architecture is certainly simpler than A when its whole interval lies below A's, certainly more
complex when it lies wholly above, and could fall either side otherwise. So

    best rank  = 1 + #{B : high_B < low_A}        worst rank = N - #{B : low_B > high_A}.

Nearest architecture: the distance between two complexity profiles (medians per metric m and
configuration k, e.g. each weight magnitude) is the root mean square of the differences, each metric
divided by its spread s_m over the zoo (max - min of every median in the sweep), so that every
metric weighs the same:

    d(A, B) = sqrt( mean_{m, k} ((A_mk - B_mk) / s_m)^2 ),   over the (m, k) both define.
"""
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Rank:
    rank: int
    best: int
    worst: int

    def __str__(self) -> str:
        return f"{self.rank}" if self.best == self.worst else f"{self.rank} [{self.best}-{self.worst}]"


def rank_with_intervals(summaries: dict[str, tuple[float, float, float]]) -> dict[str, Rank]:
    """{name: (median, low, high)} -> {name: Rank}, simplest first; entries with a NaN median are left out."""
    finite = {k: v for k, v in summaries.items() if np.isfinite(v[0])}
    n = len(finite)
    ranks = {}
    for name, (median, low, high) in finite.items():
        others = [v for k, v in finite.items() if k != name]
        ranks[name] = Rank(rank=1 + sum(m < median for m, _, _ in others),
                           best=1 + sum(h < low for _, _, h in others),
                           worst=n - sum(lo > high for _, lo, _ in others))
    return dict(sorted(ranks.items(), key=lambda item: (item[1].rank, item[0])))


def distance(a: np.ndarray, b: np.ndarray, spread: np.ndarray) -> float:
    """RMS of (a - b) / spread[:, None] over the entries where both are finite (inf if none)."""
    z = (np.asarray(a, float) - np.asarray(b, float)) / np.asarray(spread, float)[:, None]
    z = z[np.isfinite(z)]
    return float(np.sqrt(np.mean(z * z))) if z.size else float("inf")


def nearest(target: np.ndarray, candidates: dict[str, np.ndarray], spread: np.ndarray) -> list[tuple[str, float]]:
    """Candidates [M, K] sorted by distance to target [M, K] (closest first)."""
    distances = [(name, distance(target, profile, spread)) for name, profile in candidates.items()]
    return sorted(distances, key=lambda item: (item[1], item[0]))
