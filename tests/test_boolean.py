"""Unit tests for redshift.boolean: the cube and truth-table packing, counting, K_LZ, the batched forward
against per-network torch.nn.Sequential, seeding, spec validation, the per-replicate metrics, the
claims source, and the case file (collection without torch, a claim that must fail)."""
import math
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch

from redshift.boolean import functions, sampling
from redshift.boolean.functions import FunctionCounts, count_functions, lz_complexity, pack_bits, unpack_bits
from redshift.boolean.spec import BooleanSpec
from redshift.core import SOURCES, FieldError, Settings
from redshift.networks.activations import activation_module

SEED = 1234


def bitstring(text: str) -> np.ndarray:
    return np.array([int(c) for c in text], dtype=np.uint8)


# --- the cube, packing and counting ------------------------------------------------------------

def test_cube_rows_are_lexicographic():
    x = sampling.cube(7)
    assert x.shape == (128, 7) and x.dtype == torch.float64
    assert x[0].tolist() == [0] * 7 and x[-1].tolist() == [1] * 7
    assert x[5].tolist() == [0, 0, 0, 0, 1, 0, 1]  # row j is j in binary, x_1 most significant
    assert [tuple(r) for r in x.tolist()] == sorted(tuple(r) for r in x.tolist())
    assert sampling.cube(2, "signed").tolist() == [[-1, -1], [-1, 1], [1, -1], [1, 1]]


def test_packing_by_hand():
    table = np.zeros(128, dtype=np.uint8)
    table[[0, 63, 64, 126]] = 1  # bit j -> bit 63 - j % 64 of word j // 64
    words = pack_bits(table[None])
    assert words.dtype == np.uint64 and words.shape == (1, 2)
    assert words[0].tolist() == [2**63 + 1, 2**63 + 2]
    assert pack_bits(bitstring("1011")[None]).tolist() == [[0xB << 60]]  # 4 points: the high bits of one word
    rng = np.random.default_rng(0)
    for points in (2, 8, 64, 128, 1024):
        bits = rng.integers(0, 2, (5, points), dtype=np.uint8)
        assert np.array_equal(unpack_bits(pack_bits(bits), points), bits)


def test_counting_by_hand():
    a, b, c = bitstring("0" * 128), bitstring("1" * 128), bitstring("01" * 64)
    f = count_functions(pack_bits(np.stack([b, a, c, a, a, b])), 7)
    assert f.networks == 6 and f.distinct == 3
    # sorted by packed words: 0^128 < (01)^64 < 1^128
    assert f.counts.tolist() == [3, 1, 2]
    assert np.array_equal(f.bits, np.stack([a, c, b]))


# --- K_LZ ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    ("0" * 128, 7.0),                   # constant: log2(128)
    ("1" * 128, 7.0),
    ("01" * 64, 7.0 * (3 + 3) / 2),     # 0|1|0101...01 both ways
    ("0" * 64 + "1" * 64, 7.0 * (3 + 3) / 2),  # 0|0^63 1|1^63, and 1|1^63 0|0^63
    ("1" + "0" * 127, 7.0 * (3 + 2) / 2),      # 1|0|0^126 forwards; 0|0^126 1 backwards
    ("1001111011000010", 4.0 * (6 + 7) / 2),  # 1|0|01|1110|1100|0010; 0|1|00|001|101|1110|01
])
def test_lz_complexity_by_hand(text, expected):
    assert lz_complexity(bitstring(text)[None]).tolist() == [expected]


def test_lz_complexity_matches_the_reference_loop():
    from redshift.metrics.reference import lz76_python

    rng = np.random.default_rng(1)
    bits = rng.integers(0, 2, (40, 128), dtype=np.uint8)
    bits[:10, 64:] = 0
    expected = [7 * (lz76_python(r.tolist()) + lz76_python(r[::-1].tolist())) / 2 for r in bits]
    assert lz_complexity(bits).tolist() == expected


# --- the batched forward pass ----------------------------------------------------------------------

def reference_network(params: sampling.MLPParameters, i: int, activation: str) -> torch.nn.Sequential:
    """Network i as a torch.nn.Sequential of Linear layers (weight = W^T) and activation modules."""
    layers = []
    for l, (w, b) in enumerate(zip(params.weights, params.biases)):
        linear = torch.nn.Linear(w.shape[1], w.shape[2], dtype=torch.float64)
        with torch.no_grad():
            linear.weight.copy_(w[i].T)
            linear.bias.copy_(b[i])
        layers.append(linear)
        if l < len(params.weights) - 1:
            layers.append(activation_module(activation))
    return torch.nn.Sequential(*layers)


@pytest.mark.parametrize("spec", [
    BooleanSpec(networks=12),
    BooleanSpec(networks=12, activation="tanh", sigma_w=8.0),
    BooleanSpec(networks=12, activation="sine", sigma_w=4.0, sigma_b=0.5, inputs="signed"),
    BooleanSpec(networks=12, activation="gelu", depth=3, width=9, input_dim=4),
    BooleanSpec(networks=12, activation="identity", depth=1, width=3, input_dim=2),
], ids=lambda s: s.label())
def test_batched_forward_equals_per_network_sequential(spec):
    params = sampling.draw_parameters(spec, spec.networks, SEED)
    x = sampling.cube(spec.input_dim, spec.inputs)
    out = sampling.forward(params, x, spec.activation)
    assert out.shape == (spec.networks, spec.points) and out.dtype == torch.float64
    for i in range(spec.networks):
        with torch.no_grad():
            expected = reference_network(params, i, spec.activation)(x)[:, 0]
        assert (out[i] - expected).abs().max().item() < 1e-12


def test_parameter_shapes_and_scales():
    spec = BooleanSpec(networks=4000, sigma_w=3.0, sigma_b=0.5)
    p = sampling.draw_parameters(spec, spec.networks, SEED)
    assert [tuple(w.shape) for w in p.weights] == [(4000, 7, 40), (4000, 40, 40), (4000, 40, 1)]
    assert [tuple(b.shape) for b in p.biases] == [(4000, 40), (4000, 40), (4000, 1)]
    assert all(w.dtype == torch.float64 for w in p.weights)
    for w in p.weights:
        assert w.std().item() == pytest.approx(3.0 / math.sqrt(w.shape[1]), rel=0.03)
    assert p.biases[1].std().item() == pytest.approx(0.5, rel=0.03)
    assert sum(w[0].numel() for w in p.weights) + sum(b[0].numel() for b in p.biases) == spec.parameter_count


# --- seeding -------------------------------------------------------------------------------------

def test_same_seed_same_counts_and_replicates_independent_of_their_number():
    spec = BooleanSpec(networks=300, activation="tanh", sigma_w=2.0)
    three = sampling.sample_counts(spec, 3, SEED)
    again = sampling.sample_counts(spec, 3, SEED)
    two = sampling.sample_counts(spec, 2, SEED)
    for x, y in zip(three, again):
        assert np.array_equal(x.words, y.words) and np.array_equal(x.counts, y.counts)
    for x, y in zip(two, three):
        assert np.array_equal(x.words, y.words) and np.array_equal(x.counts, y.counts)
    assert not np.array_equal(three[0].words, three[1].words)  # replicates are independent draws
    other = sampling.sample_counts(spec, 1, SEED + 1)[0]
    assert not (other.words.shape == three[0].words.shape and np.array_equal(other.words, three[0].words))


def test_chunking_does_not_change_the_tables():
    spec = BooleanSpec(networks=50, activation="sine", sigma_w=3.0)
    assert np.array_equal(sampling.truth_tables(spec, SEED), sampling.truth_tables(spec, SEED, chunk=7))


def test_uniform_tables_are_fair_coins():
    words = sampling.truth_tables(BooleanSpec(model="uniform", networks=2000), SEED)
    bits = unpack_bits(words, 128)
    assert bits.shape == (2000, 128) and abs(bits.mean() - 0.5) < 0.01
    assert np.array_equal(words, sampling.truth_tables(BooleanSpec(model="uniform", networks=2000), SEED))
    small = sampling.truth_tables(BooleanSpec(model="uniform", input_dim=2, networks=500), SEED)
    assert (small & np.uint64(2**60 - 1) == 0).all()  # only the 4 table bits are set
    assert len(np.unique(small)) == 16


# --- the spec --------------------------------------------------------------------------------------

@pytest.mark.parametrize("mapping, field, fragment", [
    ({"activation": "swoosh"}, "activation", "unknown value 'swoosh'"),
    ({"model": "gp"}, "model", "allowed: mlp, uniform"),
    ({"inputs": "ternary"}, "inputs", "allowed: binary, signed"),
    ({"input_dim": 0}, "input_dim", "in [1, 10]"),
    ({"input_dim": 11}, "input_dim", "in [1, 10]"),
    ({"width": 0}, "width", "in [1, 1024]"),
    ({"depth": 2.0}, "depth", "integer"),
    ({"sigma_w": -1.0}, "sigma_w", ">= 0"),
    ({"sigma_w": "1e-1"}, "sigma_w", "1.0e-1"),
    ({"networks": 1}, "networks", ">= 2"),
    ({"networks": 10, "top": 10}, "top", "smaller than networks (10)"),
    ({"hidden": 3}, "hidden", "unknown key"),
])
def test_spec_rejects_bad_input_in_one_line(mapping, field, fragment):
    with pytest.raises(FieldError) as info:
        BooleanSpec.from_mapping(mapping)
    assert info.value.field == field and fragment in info.value.message
    assert "\n" not in str(info.value) and str(info.value).startswith(f"field {field!r}")


def test_labels():
    assert BooleanSpec().label() == "bool7-relu-40x2-sw1-sb1-M10000"
    assert BooleanSpec(activation="tanh", sigma_w=16.0, sigma_b=0.5, networks=2000, inputs="signed").label() == \
        "bool7-pm1-tanh-40x2-sw16-sb0.5-M2000"
    assert BooleanSpec(model="uniform", networks=2000, top=5).label() == "bool7-uniform-M2000-top5"


# --- the per-replicate metrics ---------------------------------------------------------------------

def hand_counts() -> FunctionCounts:
    """8 networks on {0,1}^2: 0000 x4, 1111 x2, 0110 x1, 1001 x1."""
    tables = [bitstring(t) for t in ["0000"] * 4 + ["1111"] * 2 + ["0110", "1001"]]
    return count_functions(pack_bits(np.stack(tables)), 2)


def test_metrics_by_hand():
    f = hand_counts()
    assert functions.top_share(f, 1) == 0.5 and functions.top_share(f, 2) == 0.75 and functions.top_share(f, 9) == 1
    assert functions.distinct_fraction(f) == 0.5
    # H = 0.5 * 1 + 0.25 * 2 + 2 * 0.125 * 3 = 1.75 bits, over log2 8 = 3
    assert functions.frequency_entropy(f) == pytest.approx(1.75 / 3)
    # K_LZ (n = 4, log2 n = 2): constants 2; 0110: 2 * (3 + 3) / 2 = 6 (0|1|10 both ways); 1001: 2 * 3 = 6
    by_table = dict(zip(map(tuple, f.bits.tolist()), f.complexity.tolist()))
    assert by_table == {(0, 0, 0, 0): 2.0, (1, 1, 1, 1): 2.0, (0, 1, 1, 0): 6.0, (1, 0, 0, 1): 6.0}
    assert functions.mean_lz(f) == pytest.approx((6 * 2 + 2 * 6) / 8)
    # log2 p: -1, -2 at K = 2; -3, -3 at K = 6: envelope (2, -1), (6, -3): slope -0.5
    levels, envelope = functions.upper_envelope(f)
    assert levels.tolist() == [2.0, 6.0] and envelope.tolist() == [-1.0, -3.0]
    assert functions.bound_slope(f) == pytest.approx(0.5)
    # over (0000, 0110, 1001, 1111): ranks of log p (-1, -3, -3, -2) are (4, 1.5, 1.5, 3), of K (2, 6, 6, 2)
    # (1.5, 3.5, 3.5, 1.5); centred: (1.5, -1, -1, 0.5) . (-1, 1, 1, -1) = -4, norms^2 4.5 and 4
    assert functions.logp_lz_spearman(f) == pytest.approx(-4 / math.sqrt(18))


def test_metrics_undefined_without_repeats_or_spread():
    once = count_functions(pack_bits(np.stack([bitstring("0110"), bitstring("0000"), bitstring("1111")])), 2)
    assert math.isnan(functions.logp_lz_spearman(once))  # every function once: constant log frequency
    assert functions.distinct_fraction(once) == 1 and functions.frequency_entropy(once) == pytest.approx(1)
    single = count_functions(pack_bits(np.stack([bitstring("0110")] * 3)), 2)
    assert math.isnan(functions.bound_slope(single)) and math.isnan(functions.logp_lz_spearman(single))


# --- the claims source -------------------------------------------------------------------------------

def test_source_is_registered_and_merges_settings():
    source = SOURCES["boolean"]
    assert source.name == "boolean" and source is sys.modules["redshift.boolean.source"].SOURCE
    spec = source.parse({"activation": "tanh"}, {"networks": 300, "sigma_w": 2.0})
    assert spec == BooleanSpec(activation="tanh", networks=300, sigma_w=2.0)
    with pytest.raises(FieldError, match="field 'top'"):
        source.parse({"top": 50}, {"networks": 40})
    with pytest.raises(FieldError, match="field 'widht'"):
        source.parse({"widht": 3}, {})


def test_source_measures_a_tiny_subject():
    source = SOURCES["boolean"]
    spec = BooleanSpec(input_dim=4, width=8, networks=400, top=3)
    outputs = source.sample(spec, 4, SEED, Settings(dtype="float64"))
    assert len(outputs) == 4 and all(f.networks == 400 for f in outputs.replicates)
    values = {m: source.measure(outputs, m) for m in source.metrics}
    assert set(values) == {"top_share", "distinct_fraction", "frequency_entropy", "logp_lz_spearman",
                           "bound_slope", "mean_lz"}
    assert all(v.shape == (4,) and np.isfinite(v).all() for v in values.values())
    assert ((values["top_share"] > 0.3) & (values["top_share"] <= 1)).all()  # 3 of 2^16 functions
    assert ((values["distinct_fraction"] > 0) & (values["distinct_fraction"] < 1)).all()
    assert ((values["logp_lz_spearman"] >= -1) & (values["logp_lz_spearman"] <= 1)).all()
    assert ((values["mean_lz"] >= 4) & (values["mean_lz"] <= 4 * 16)).all()
    float32 = source.measure(source.sample(spec, 4, SEED, Settings(dtype="float32")), "top_share")
    assert np.abs(float32 - values["top_share"]).max() < 0.02  # the same networks, rounded


def test_source_refuses_what_it_cannot_measure_or_hold():
    source = SOURCES["boolean"]
    uniform = BooleanSpec(model="uniform")
    assert "never repeat" in source.cannot_measure(uniform, "logp_lz_spearman")
    assert "never repeat" in source.cannot_measure(uniform, "bound_slope")
    assert source.cannot_measure(uniform, "top_share") is None
    assert source.cannot_measure(BooleanSpec(), "bound_slope") is None
    assert "unknown metric 'lz'" in source.cannot_measure(BooleanSpec(), "lz")
    with pytest.raises(FieldError, match="field 'networks'.*GiB per replicate"):
        source.check(BooleanSpec(width=1024, networks=10**6), 1, Settings())
    with pytest.raises(FieldError, match="field 'samples'"):
        source.check(BooleanSpec(model="uniform", networks=10**7), 1000, Settings())
    source.check(BooleanSpec(), 10, Settings())


def test_importing_the_source_does_not_import_torch():
    code = "import sys, redshift.boolean.source; assert 'torch' not in sys.modules, 'torch imported'"
    subprocess.run([sys.executable, "-c", code], check=True)


# --- the case file --------------------------------------------------------------------------------

def test_case_file_loads_in_both_tiers_and_full_blocks_take_effect():
    from pathlib import Path

    import yaml

    from redshift.claims.schema import load_case_file

    path = Path(__file__).resolve().parents[1] / "cases" / "parameter_function_map.yaml"
    ci = {c.id: c for c in load_case_file(path, path.name, "ci")}
    full = {c.id: c for c in load_case_file(path, path.name, "full")}
    with_full = {c["id"] for c in yaml.safe_load(path.read_text())["claims"] if "full" in c}
    assert with_full == set(ci) and sum(len(c.expectations) for c in ci.values()) >= 4
    for claim_id in with_full:
        assert full[claim_id].groups != ci[claim_id].groups
    networks = {s.spec.networks for c in ci.values() for s in c.subjects}
    assert networks == {10000, 2000}
    assert all(c.samples == 10 for c in ci.values())
    main = ci["mlp-functions-concentrated"].subjects[1].spec
    assert main == BooleanSpec() and 10 * main.networks >= 10**5


CLAIMS = """
defaults:
  samples: 10
  boolean: {networks: 500}
claims:
  - id: uniform-concentrated
    kind: less
    claim: uniform random functions concentrate more than ReLU MLPs (false)
    a: {source: boolean}
    b: {source: boolean, model: uniform}
    metrics:
      top_share: {min_ratio: 2.0}
  - id: mlp-concentrated
    kind: less
    a: {source: boolean, model: uniform}
    b: {source: boolean}
    metrics:
      top_share: {min_ratio: 2.0}
"""


def test_a_false_claim_fails_and_a_true_one_passes(pytester):
    (pytester.path / "cases").mkdir()
    (pytester.path / "cases" / "bool.yaml").write_text(textwrap.dedent(CLAIMS))
    result = pytester.runpytest("-p", "no:cacheprovider", "--redshift-report-json", "")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*FAIL  bool7-relu-40x2-sw1-sb1-M500*<*bool7-uniform-M500*Mann-Whitney p=*"])
