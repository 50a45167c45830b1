"""Rank intervals and the nearest-architecture distance (redshift.report.ranking)."""
import math

import numpy as np

from redshift.report.ranking import Rank, distance, nearest, rank_with_intervals


def test_rank_intervals_from_overlapping_medians():
    ranks = rank_with_intervals({"a": (1.0, 0.9, 1.1), "b": (2.0, 1.95, 2.05), "c": (2.1, 1.9, 2.3),
                                 "flagged": (math.nan, math.nan, math.nan)})
    assert ranks == {"a": Rank(1, 1, 1), "b": Rank(2, 2, 3), "c": Rank(3, 2, 3)}
    assert list(ranks) == ["a", "b", "c"]
    assert str(ranks["a"]) == "1" and str(ranks["c"]) == "3 [2-3]"


def test_rank_lies_within_its_interval():
    rng = np.random.default_rng(0)
    medians = rng.normal(size=30)
    half = rng.uniform(0.01, 0.5, size=30)
    ranks = rank_with_intervals({str(i): (m, m - h, m + h) for i, (m, h) in enumerate(zip(medians, half))})
    assert sorted(r.rank for r in ranks.values()) == list(range(1, 31))
    assert all(r.best <= r.rank <= r.worst for r in ranks.values())


def test_distance_is_rms_of_spread_normalised_differences():
    a = np.array([[0.1, 0.2], [10.0, 20.0]])
    b = np.array([[0.2, 0.2], [10.0, 40.0]])
    spread = np.array([0.1, 20.0])
    assert distance(a, a, spread) == 0.0
    assert math.isclose(distance(a, b, spread), math.sqrt((1.0 + 0 + 0 + 1.0) / 4))
    b_nan = b.copy()
    b_nan[1, 1] = np.nan
    assert math.isclose(distance(a, b_nan, spread), math.sqrt(1.0 / 3))
    assert distance(a, np.full_like(a, np.nan), spread) == math.inf


def test_nearest_sorts_by_distance():
    target = np.array([[1.0, 2.0]])
    ranked = nearest(target, {"far": target + 3, "same": target.copy(), "near": target + 1}, np.array([1.0]))
    assert [name for name, _ in ranked] == ["same", "near", "far"]
    assert ranked[0][1] == 0.0
