"""Verdicts of each claim kind on synthetic measurements: each must be able to fail."""
import numpy as np
import pytest

from redshift.claims.kinds import KINDS
from redshift.claims.measure import measurement
from redshift.claims.model import Claim, Expectation, Subject

RNG = np.random.default_rng(0)


def subject(name: str) -> Subject:
    return Subject("function", name, f"fn:{name}")


def claim(kind: str, groups, **thresholds) -> tuple[Claim, Expectation]:
    e = Expectation("lz", thresholds, alpha=1e-3)
    return Claim("cases/t.yaml", "t", kind, "", "", tuple(tuple(g) for g in groups), None, (), 32, 64,
                 "float64", (e,)), e


def run(kind, values: dict, groups, **thresholds):
    c, e = claim(kind, [[subject(n) for n in g] for g in groups], **thresholds)

    def measure(s, metric):
        return measurement(s, metric, values[s.spec], "64^2 float64", s.spec, master_seed=0)

    return KINDS[kind].evaluate(c, e, measure, np.random.default_rng(1))


LOW = RNG.normal(10, 1, 32)
HIGH = RNG.normal(40, 2, 32)
NEAR_LOW = RNG.permutation(LOW) + 0.1  # same spread, a shift too small to detect
VALUES = {"low": LOW, "high": HIGH, "near_low": NEAR_LOW, "mid": RNG.normal(20, 1, 32)}


@pytest.mark.parametrize("kind, groups, thresholds, passed", [
    ("less", [["low"], ["high"]], {"min_ratio": 3.0}, True),
    ("less", [["low"], ["high"]], {"min_ratio": 5.0}, False),          # effect size too small
    ("less", [["high"], ["low"]], {}, False),                           # wrong direction
    ("less", [["low"], ["near_low"]], {}, False),                       # not significant at 1e-3
    ("less", [["low"], ["high"]], {"min_difference": 35.0}, False),
    ("increasing", [["low"], ["mid"], ["high"]], {"min_ratio": 1.5}, True),
    ("increasing", [["low"], ["high"], ["mid"]], {}, False),
    ("ordering", [["low", "near_low"], ["mid"], ["high"]], {"min_ratio": 1.5}, True),
    ("ordering", [["low", "high"], ["mid"]], {}, False),
    ("flat", [["low"], ["near_low"]], {"max_ratio": 1.2}, True),
    ("flat", [["low"], ["mid"]], {"max_ratio": 1.2}, False),
    ("flat", [["low"], ["near_low"]], {"max_difference": 2.0}, True),
    ("flat", [["low"], ["near_low"]], {"max_difference": 0.1}, False),  # interval wider than tolerance
    ("near", [["high"], ["mid"]], {"min_ratio": 1.8}, True),
    ("near", [["high"], ["mid"]], {"min_ratio": 1.8, "max_ratio": 1.9}, False),
    ("bounded", [["low"]], {"min": 9.0, "max": 11.0}, True),
    ("bounded", [["low"]], {"max": 10.0}, False),
    ("invariant", [["low"], ["low"]], {"max_abs_difference": 1e-12}, True),
    ("invariant", [["low"], ["near_low"]], {"max_abs_difference": 1e-3}, False),
    ("invariant", [["low"], ["high"]], {"min_median_abs_difference": 20.0}, True),
])
def test_verdicts(kind, groups, thresholds, passed):
    verdict = run(kind, VALUES, groups, **thresholds)
    assert verdict.passed is passed, "\n".join(verdict.lines)
    assert verdict.lines and all(line.startswith(("ok", "FAIL")) for line in verdict.lines)


def test_failure_message_carries_the_numbers():
    verdict = run("less", VALUES, [["low"], ["high"]], min_ratio=5.0)
    (line,) = verdict.lines
    for fragment in ("fn:low", "fn:high", "Mann-Whitney p=", "ratio", "need lower end >= 5", "n=32"):
        assert fragment in line


def test_flagged_networks_are_excluded_and_counted():
    values = dict(VALUES, low=np.where(np.arange(32) < 3, np.nan, LOW))
    verdict = run("less", values, [["low"], ["high"]], min_ratio=3.0)
    assert verdict.passed
    assert "3 flagged" in verdict.lines[0]


def test_mostly_degenerate_subject_fails():
    values = dict(VALUES, low=np.where(np.arange(32) < 20, np.nan, LOW))
    verdict = run("less", values, [["low"], ["high"]])
    assert not verdict.passed
    assert "20 of 32 outputs near-constant or non-finite" in verdict.lines[0]
