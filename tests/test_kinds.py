"""Every claim kind can fail: for each kind and each threshold it accepts, a fixture that passes and
one that fails, on synthetic measurements (``redshift.claims.measure.measurement``), so that each
comparison of redshift/claims/kinds.py decides some verdict here (tests/mutation.py flips each one
and checks that a test of this file notices). Plus the layouts: how each kind reads its subjects."""
import json

import numpy as np
import pytest

from redshift.claims.kinds import KINDS, MIN_CONFIGURATIONS, MIN_VALID, LayoutError, metric_pair
from redshift.claims.measure import measurement
from redshift.claims.model import Claim, Expectation, Subject

RNG = np.random.default_rng(20240611)
N = 32


def normal(mean: float, sd: float, n: int = N) -> np.ndarray:
    return RNG.normal(mean, sd, n)


LOW = normal(10, 1)
VALUES = {
    "low": LOW,
    "near_low": RNG.permutation(LOW) + 0.1,  # same spread, a shift too small to detect
    "mid": normal(20, 1),
    "high": normal(40, 2),
    "half": LOW * 0.5,  # flat / near downward: the ratio 0.5
    "up": LOW * 1.5,  # and upward: 1.5
    "minus5": LOW - 5.0,  # flat on differences: downward by 5
    "plus5": LOW + 5.0,
    "neg_low": normal(-20, 1),  # a < b, but the median ratio is 0.5: orderings on differences
    "neg_high": normal(-10, 1),
    "all_nan": np.full(N, np.nan),
    "flag9": np.where(np.arange(N) < 9, np.nan, LOW),  # 28% flagged: more than 25%
    "flag3": np.where(np.arange(N) < 3, np.nan, LOW),  # 9%: usable
    "five_one_nan": np.array([np.nan, 10.1, 9.8, 10.3, 9.9]),  # 20% flagged but 4 < MIN_VALID values left
    # interaction: the knob doubles a (+10); b x1.5 (+50): ratio of ratios 0.75, difference of differences 40
    "a0": normal(10, 0.3), "a1": normal(20, 0.6),
    "b0": normal(100, 3), "b1": normal(150, 4.5),
    "b1_x4": normal(400, 12),  # b x4: ratio of ratios 2
    "b1_x2": normal(200, 6),  # b x2, as a: ratio of ratios 1 (no interaction)
    "b1_plus10": normal(110, 3),  # b +10, as a: difference of differences 0
}
for name, values in list(VALUES.items()):
    VALUES[name] = np.asarray(values, float)


def subject(name: str) -> Subject:
    return Subject("function", name, f"fn:{name}")


def make_claim(kind: str, groups, thresholds: dict, metric: str = "lz") -> tuple[Claim, Expectation]:
    e = Expectation(metric, thresholds, alpha=1e-3)
    sweep_field, sweep_values = ("weights.scale", (1.0, 10.0)) if kind == "interaction" else (None, ())
    return Claim("cases/t.yaml", "t", kind, "", "", tuple(tuple(subject(n) for n in g) for g in groups),
                 sweep_field, sweep_values, N, 64, "float64", (e,)), e


def evaluate(kind: str, groups, thresholds: dict, values=None, metric: str = "lz"):
    claim, e = make_claim(kind, groups, thresholds, metric)
    values = VALUES if values is None else values

    def measure(s, metric_name):
        data = values[s.spec, metric_name] if (s.spec, metric_name) in values else values[s.spec]
        return measurement(s, metric_name, data, "64^2 float64", f"{s.spec}:{metric_name}", master_seed=0)

    verdict = KINDS[kind].evaluate(claim, e, measure, np.random.default_rng(1))
    assert verdict.lines and all(line.startswith(("ok    ", "FAIL  ")) for line in verdict.lines)
    assert len(verdict.lines) == len(verdict.numbers)
    assert verdict.passed == all(n["ok"] for n in verdict.numbers)
    json.dumps(verdict.numbers, default=float)  # plain data, for results.json
    return verdict


PAIR = [["low"], ["high"]]
INTERACTION = [["a0", "a1"], ["b0", "b1"]]
# (kind, groups, thresholds, passes, what it shows)
CASES = [
    # --- less: one-sided Mann-Whitney p < alpha AND the lower end of the effect's interval >= threshold
    ("less", PAIR, {}, True, "default min_ratio 1: b clearly above a"),
    ("less", [["high"], ["low"]], {}, False, "wrong direction"),
    ("less", [["neg_low"], ["neg_high"]], {}, False, "default min_ratio 1 applies: ratio 0.5 although p is tiny"),
    ("less", PAIR, {"min_ratio": 3.0}, True, "ratio ~4 clears 3"),
    ("less", PAIR, {"min_ratio": 5.0}, False, "ratio ~4 misses 5"),
    ("less", [["low"], ["near_low"]], {"min_ratio": 0.5}, False, "effect clears 0.5, but p is not below alpha"),
    ("less", PAIR, {"min_difference": 25.0}, True, "difference ~30 clears 25"),
    ("less", PAIR, {"min_difference": 35.0}, False, "difference ~30 misses 35"),
    ("less", [["neg_low"], ["neg_high"]], {"min_difference": 8.0}, True, "difference alone: the ratio is not checked"),
    ("less", PAIR, {"min_ratio": 3.0, "min_difference": 35.0}, False, "both given: the difference fails"),
    ("less", PAIR, {"min_ratio": 5.0, "min_difference": 25.0}, False, "both given: the ratio fails"),
    ("less", PAIR, {"min_ratio": 3.0, "min_difference": 25.0}, True, "both given, both clear"),
    ("less", [["flag3"], ["high"]], {}, True, "3 of 32 flagged: excluded, still usable"),
    ("less", [["flag9"], ["high"]], {}, False, "9 of 32 flagged: more than 25%"),
    ("less", [["five_one_nan"], ["high"]], {}, False, "4 defined values: fewer than MIN_VALID"),
    ("less", [["all_nan"], ["high"]], {}, False, "every output flagged"),
    # --- increasing: every step of the sweep is a less
    ("increasing", [["low"], ["mid"], ["high"]], {"min_ratio": 1.5}, True, "each step x2"),
    ("increasing", [["low"], ["mid"], ["high"]], {"min_ratio": 2.5}, False, "x2 steps miss 2.5"),
    ("increasing", [["low"], ["high"], ["mid"]], {}, False, "the last step goes down"),
    ("increasing", [["low"], ["mid"], ["high"]], {"min_difference": 8.0}, True, "steps +10, +20"),
    ("increasing", [["low"], ["mid"], ["high"]], {"min_difference": 15.0}, False, "the first step is +10"),
    # --- ordering: every member of a group less than every member of the next
    ("ordering", [["low", "near_low"], ["mid"], ["high"]], {"min_ratio": 1.5}, True, "groups in order"),
    ("ordering", [["low", "high"], ["mid"]], {}, False, "a member of the first group is above the second"),
    ("ordering", [["low", "near_low"], ["mid"]], {"min_ratio": 2.5}, False, "ratio ~2 misses 2.5"),
    ("ordering", [["low", "near_low"], ["mid"]], {"min_difference": 8.0}, True, "difference ~10"),
    ("ordering", [["low", "near_low"], ["mid"]], {"min_difference": 12.0}, False, "difference ~10 misses 12"),
    # --- interaction: the knob moves b more than a (ratio of ratios, or difference of differences)
    ("interaction", [["a0", "a1"], ["b0", "b1_x4"]], {}, True, "default min_ratio 1: ratio of ratios ~2"),
    ("interaction", INTERACTION, {}, False, "ratio of ratios 0.75, although the difference of differences is 40"),
    ("interaction", [["a0", "a1"], ["b0", "b1_x4"]], {"min_ratio": 1.5}, True, "~2 clears 1.5"),
    ("interaction", [["a0", "a1"], ["b0", "b1_x4"]], {"min_ratio": 2.5}, False, "~2 misses 2.5"),
    ("interaction", [["a0", "a1"], ["b0", "b1_x2"]], {"min_ratio": 0.5}, False, "interval clears 0.5, p ~0.5"),
    ("interaction", INTERACTION, {"min_difference": 20.0}, True, "difference of differences 40 clears 20"),
    ("interaction", INTERACTION, {"min_difference": 60.0}, False, "40 misses 60"),
    ("interaction", [["a0", "a1"], ["b0", "b1_plus10"]], {"min_difference": -20.0}, False,
     "interval clears -20, but the difference 0 is not significant"),
    ("interaction", [["a0", "flag9"], ["b0", "b1_x4"]], {}, False, "a subject mostly flagged"),
    # --- flat: the 95% interval of the ratio (difference) to the first value inside the tolerance
    ("flat", [["low"], ["near_low"]], {"max_ratio": 1.2}, True, "ratio ~1"),
    ("flat", [["low"], ["up"]], {"max_ratio": 1.2}, False, "ratio 1.5: above the band"),
    ("flat", [["low"], ["half"]], {"max_ratio": 1.2}, False, "ratio 0.5: below the band"),
    ("flat", [["low"], ["near_low"]], {"max_difference": 2.0}, True, "difference ~0.1"),
    ("flat", [["low"], ["plus5"]], {"max_difference": 2.0}, False, "difference +5: above"),
    ("flat", [["low"], ["minus5"]], {"max_difference": 2.0}, False, "difference -5: below"),
    ("flat", [["low"], ["near_low"]], {"max_difference": 0.1}, False, "interval wider than the tolerance"),
    ("flat", [["low"], ["near_low"], ["flag9"]], {"max_ratio": 1.2}, False, "a later value mostly flagged"),
    ("flat", [["all_nan"], ["near_low"]], {"max_ratio": 1.2}, False, "the first value all flagged"),
    # --- near: median(subject) / median(reference) with its interval inside [min_ratio, max_ratio]
    ("near", [["half"], ["low"]], {"min_ratio": 0.4}, True, "ratio 0.5 above 0.4"),
    ("near", [["half"], ["low"]], {"min_ratio": 0.6}, False, "ratio 0.5 below 0.6"),
    ("near", [["up"], ["low"]], {"max_ratio": 1.6}, True, "ratio 1.5 below 1.6"),
    ("near", [["up"], ["low"]], {"max_ratio": 1.4}, False, "ratio 1.5 above 1.4"),
    ("near", [["up"], ["low"]], {"min_ratio": 1.4, "max_ratio": 1.6}, True, "inside the band"),
    ("near", [["all_nan"], ["low"]], {"min_ratio": 0.5}, False, "subject all flagged"),
    # --- bounded: the 95% interval of the median inside [min, max]
    ("bounded", [["low"]], {"min": 9.0}, True, "median ~10 above 9"),
    ("bounded", [["low"]], {"min": 11.0}, False, "below min"),
    ("bounded", [["low"]], {"max": 11.0}, True, "below max"),
    ("bounded", [["low"]], {"max": 10.0}, False, "the interval reaches above 10"),
    ("bounded", [["low"]], {"min": 9.0, "max": 11.0}, True, "inside"),
    ("bounded", [["flag9"]], {"min": 0.0}, False, "mostly flagged"),
    # --- invariant: the same networks, value by value
    ("invariant", [["low"], ["low"]], {"max_abs_difference": 1e-12}, True, "identical values"),
    ("invariant", [["low"], ["near_low"]], {"max_abs_difference": 1e-3}, False, "values differ"),
    ("invariant", [["low"], ["high"]], {"min_median_abs_difference": 20.0}, True, "median |difference| ~30"),
    ("invariant", [["low"], ["near_low"]], {"min_median_abs_difference": 20.0}, False, "median |difference| ~1"),
    ("invariant", [["low"], ["high"]], {"max_abs_difference": 1e-3, "min_median_abs_difference": 20.0}, False,
     "both given: max fails"),
    ("invariant", [["low"], ["flag3"]], {"max_abs_difference": 1.0}, False, "a flagged network: undefined"),
]


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("kind, groups, thresholds, passes, why", CASES,
                         ids=[f"{c[0]}-{'-'.join(c[2]) or 'default'}-{'pass' if c[3] else 'fail'}-{i}"
                              for i, c in enumerate(CASES)])
def test_verdict(kind, groups, thresholds, passes, why):
    verdict = evaluate(kind, groups, thresholds)
    assert verdict.passed is passes, why + "\n" + "\n".join(verdict.lines)


# --- agreement: rank (and linear) correlation of two metrics' medians over the grid's configurations
GRID = [[f"g{i}"] for i in range(5)]
X = [1.0, 2.0, 3.0, 4.0, 5.0]


def grid_values(x, y) -> dict:
    values = {}
    for i, (xi, yi) in enumerate(zip(x, y)):
        values[f"g{i}", "dct"] = np.full(N, xi) + RNG.normal(0, 1e-3, N)
        values[f"g{i}", "lz"] = np.full(N, yi) + RNG.normal(0, 1e-3, N)
    return values


AGREEMENT = [
    ({"min_spearman": 0.9}, [2, 4, 6, 8, 10], True, "monotone"),
    ({"min_spearman": 0.9}, [5, 1, 4, 2, 3], False, "unrelated"),
    ({"min_pearson": 0.9}, [2, 4, 6, 8, 10], True, "linear"),
    ({"min_pearson": 0.9}, [1, 2, 3, 4, 1000], False, "monotone, not linear"),
    ({"min_spearman": 0.9, "min_pearson": 0.9}, [1, 2, 3, 4, 1000], False, "both: pearson fails"),
    ({"min_spearman": 0.9}, [2, 4, np.nan, 8, 10], True, "one configuration undefined: 4 left"),
    ({"min_spearman": -1.0}, [np.nan, np.nan, np.nan, 8, 10], False, "2 configurations left: no correlation"),
]


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("thresholds, y, passes, why", AGREEMENT)
def test_agreement_verdict(thresholds, y, passes, why):
    verdict = evaluate("agreement", GRID, thresholds, grid_values(X, y), metric="dct-vs-lz")
    assert verdict.passed is passes, why + "\n" + "\n".join(verdict.lines)


def test_every_kind_and_threshold_has_a_passing_and_a_failing_fixture():
    seen: dict[tuple[str, str], set[bool]] = {}
    for kind, _, thresholds, passes, _ in CASES:
        for name in thresholds or ["default"]:
            seen.setdefault((kind, name), set()).add(passes)
    for thresholds, _, passes, _ in AGREEMENT:
        for name in thresholds:
            seen.setdefault(("agreement", name), set()).add(passes)
    for kind in KINDS.names():
        thresholds = KINDS[kind].thresholds
        assert thresholds, kind
        for name in thresholds:
            assert seen.get((kind, name)) == {True, False}, f"{kind}: threshold {name} needs a passing and a failing case"


def test_the_failing_line_carries_the_numbers():
    verdict = evaluate("less", PAIR, {"min_ratio": 5.0})
    (line,) = verdict.lines
    for fragment in ("FAIL", "fn:low", "fn:high", "Mann-Whitney p=", "ratio", "need lower end >= 5", "n=32"):
        assert fragment in line
    (numbers,) = verdict.numbers
    assert numbers["ok"] is False and numbers["margins"]["ratio"] < 0


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("kind, groups, thresholds", [
    ("less", [["all_nan"], ["high"]], {}), ("less", [["high"], ["all_nan"]], {}),
    ("near", [["all_nan"], ["low"]], {"min_ratio": 0.5}), ("near", [["low"], ["all_nan"]], {"min_ratio": 0.5}),
    ("interaction", [["a0", "a1"], ["all_nan", "b1"]], {}), ("bounded", [["all_nan"]], {"max": 1.0}),
])
def test_an_unusable_subject_is_one_line_and_no_comparison(kind, groups, thresholds):
    verdict = evaluate(kind, groups, thresholds)
    (line,) = verdict.lines
    assert line.startswith("FAIL  fn:all_nan: 32 of 32 outputs near-constant or non-finite")


def test_interaction_names_the_knob():
    verdict = evaluate("interaction", [["a0", "a1"], ["b0", "b1_x4"]], {})
    assert verdict.lines[0].startswith("ok    weights.scale 1.0 -> 10.0: fn:a0")


# --- layouts: how each kind reads its subjects from the claim mapping (redshift.claims.schema calls them)

def read(kind: str, raw: dict):
    """The kind's layout applied to ``raw``, with subjects made from their (canonical JSON) mapping."""
    def subject_of(name, value):
        if not isinstance(value, dict):
            raise LayoutError(name, "expected a mapping")
        return Subject("function", json.dumps(value, sort_keys=True), name)
    return KINDS[kind].layout.read(raw, subject_of)


SWEEP = {"field": "weights.scale", "values": [1.0, 2.0]}
LAYOUTS_OK = [
    ("less", {"a": {"x": 1}, "b": {"x": 2}}, 2),
    ("increasing", {"sweep": SWEEP}, 2),
    ("flat", {"sweep": SWEEP, "subject": {"depth": 2}}, 2),
    ("ordering", {"groups": [{"x": 1}, [{"x": 2}, {"x": 3}]]}, 2),
    ("interaction", {"a": {"x": 1}, "b": {"x": 2}, "sweep": SWEEP}, 2),
    ("near", {"reference": {"x": 1}}, 2),
    ("bounded", {"subject": {"x": 1}}, 1),
    ("invariant", {"a": {"x": 1}, "b": {"x": 2}}, 2),
    ("agreement", {"grid": {"depth": [1, 2, 3]}}, 3),
    ("agreement", {"grid": {"depth": [1, 2], "width": [8, 16]}}, 4),
]


@pytest.mark.parametrize("kind, raw, groups", LAYOUTS_OK)
def test_layout_reads_its_subjects(kind, raw, groups):
    read_groups, field, values = read(kind, raw)
    assert len(read_groups) == groups
    if kind in ("increasing", "flat", "interaction"):
        assert (field, values) == ("weights.scale", (1.0, 2.0))


def test_layout_sweep_sets_the_field_on_the_subject():
    (a,), (b,) = read("flat", {"sweep": SWEEP, "subject": {"depth": 2}})[0]
    assert json.loads(a.spec) == {"depth": 2, "weights": {"scale": 1.0}}
    assert json.loads(b.spec) == {"depth": 2, "weights": {"scale": 2.0}}
    (a0, a1), (b0, b1) = read("interaction", {"a": {"x": 1}, "b": {"x": 2}, "sweep": SWEEP})[0]
    assert [json.loads(s.spec) for s in (a0, a1, b0, b1)] == [
        {"x": x, "weights": {"scale": v}} for x in (1, 2) for v in (1.0, 2.0)]
    assert a1.label == "a.sweep.values[1]"


LAYOUTS_BAD = [
    ("increasing", {"sweep": 3}, "sweep", "needs 'field'"),
    ("increasing", {"sweep": {"field": "depth"}}, "sweep", "needs 'field'"),
    ("increasing", {"sweep": {"field": "depth", "values": [1, 2], "step": 1}}, "sweep.step", "unknown key"),
    ("increasing", {"sweep": {"field": "", "values": [1, 2]}}, "sweep.field", "name of a setting"),
    ("increasing", {"sweep": {"field": 3, "values": [1, 2]}}, "sweep.field", "name of a setting"),
    ("increasing", {"sweep": {"field": "depth", "values": 3}}, "sweep.values", "at least two"),
    ("increasing", {"sweep": {"field": "depth", "values": [1]}}, "sweep.values", "at least two"),
    ("increasing", {"sweep": {"field": "depth", "values": [1, 2, 1]}}, "sweep.values[2]", "same configuration as sweep.values[0]"),
    ("flat", {"sweep": SWEEP, "subject": [1]}, "subject", "expected a mapping"),
    ("interaction", {"a": {"x": 1}, "b": {"x": 2}, "sweep": {"field": "depth", "values": 3}}, "sweep.values", "two settings"),
    ("interaction", {"a": {"x": 1}, "b": {"x": 2}, "sweep": {"field": "depth", "values": [1, 2, 3]}},
     "sweep.values", "two settings"),
    ("interaction", {"a": {"x": 1}, "b": {"x": 2}, "sweep": [1, 2]}, "sweep.values", "two settings"),
    ("interaction", {"a": 3, "b": {"x": 2}, "sweep": SWEEP}, "a", "expected a mapping"),
    ("ordering", {"groups": 3}, "groups", "at least two groups"),
    ("ordering", {"groups": [{"x": 1}]}, "groups", "at least two groups"),
    ("ordering", {"groups": [{"x": 1}, []]}, "groups[1]", "non-empty list"),
    ("ordering", {"groups": ["relu", {"x": 1}]}, "groups[0]", "subject mapping"),
    ("ordering", {"groups": [[{"x": 1}], [{"x": 2}, {"x": 1}]]}, "groups[1][1]", "same configuration as groups[0][0]"),
    ("agreement", {"grid": [1, 2, 3]}, "grid", "mapping of setting"),
    ("agreement", {"grid": {}}, "grid", "mapping of setting"),
    ("agreement", {"grid": {"depth": []}}, "grid.depth", "non-empty list"),
    ("agreement", {"grid": {"depth": 3}}, "grid.depth", "non-empty list"),
    ("agreement", {"grid": {"depth": [1, 2]}}, "grid", f"at least {MIN_CONFIGURATIONS} configurations, the grid has 2"),
    ("agreement", {"grid": {"depth": [1, 2, 2]}}, "grid.depth[2]", "2 repeats grid.depth[1]"),
    ("agreement", {"grid": {"depth": [1, 2, 1.0]}}, "grid.depth[2]", "repeats grid.depth[0]"),
]


@pytest.mark.parametrize("kind, raw, field, fragment", LAYOUTS_BAD)
def test_layout_refuses(kind, raw, field, fragment):
    with pytest.raises(LayoutError) as excinfo:
        read(kind, raw)
    assert excinfo.value.field == field
    assert fragment in excinfo.value.message


def test_layout_refuses_configurations_that_coincide():
    """Distinct values that read as one configuration (here: the reader ignores 'note')."""
    def subject_of(name, value):
        return Subject("function", json.dumps({k: v for k, v in value.items() if k != "note"}, sort_keys=True), name)
    raw = {"grid": {"depth": [1, 2, 3], "note": ["x", "y"]}}
    with pytest.raises(LayoutError, match="same configuration as") as excinfo:
        KINDS["agreement"].layout.read(raw, subject_of)
    assert excinfo.value.field == "grid{depth: 1, note: 'y'}"


def test_metric_pairs():
    assert metric_pair("dct-vs-lz") == ("dct", "lz")
    for key in ("dct", "a-vs-b-vs-c"):
        with pytest.raises(LayoutError, match="metric pair"):
            metric_pair(key)


def test_usable_bounds_are_the_documented_ones():
    assert MIN_VALID == 5 and MIN_CONFIGURATIONS == 3
