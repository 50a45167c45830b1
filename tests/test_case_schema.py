"""Case-file validation: every malformed file fails with one line naming file, claim and field."""
import textwrap
from pathlib import Path

import pytest
import yaml

from redshift.claims.schema import CaseFileError, load_case_file

GOOD_CLAIM = """
  - id: tanh-rises
    kind: increasing
    network: {activation: tanh}
    sweep: {field: weights.scale, values: [1.0, 10.0]}
    metrics:
      lz: {min_ratio: 3.0}
"""


def load(tmp_path, text: str):
    path = tmp_path / "case.yaml"
    path.write_text(textwrap.dedent(text))
    return load_case_file(path, "cases/case.yaml")


def error(tmp_path, text: str) -> str:
    with pytest.raises(CaseFileError) as excinfo:
        load(tmp_path, text)
    message = str(excinfo.value)
    assert "\n" not in message
    assert message.startswith("cases/case.yaml")
    return message


def test_good_file_builds_claims(tmp_path):
    (claim,) = load(tmp_path, "claims:" + GOOD_CLAIM)
    assert claim.uid == "cases/case.yaml::tanh-rises"
    assert [s.spec.weights.scale for (s,) in claim.groups] == [1.0, 10.0]
    assert all(s.spec.activation == "tanh" for (s,) in claim.groups)
    assert claim.expectations[0].metric == "lz"
    assert claim.expectations[0].thresholds == {"min_ratio": 3.0}
    assert claim.expectations[0].alpha == 1e-3


def test_full_tier_overrides_settings_and_sweep_values(tmp_path):
    text = "claims:" + GOOD_CLAIM + "    full: {samples: 64, network: {width: 256}, sweep: {values: [1.0, 30.0, 100.0]}}\n"
    path = tmp_path / "case.yaml"
    path.write_text(textwrap.dedent(text))
    (ci,) = load_case_file(path, "cases/case.yaml", "ci")
    (full,) = load_case_file(path, "cases/case.yaml", "full")
    assert ci.sweep_values == (1.0, 10.0) and ci.samples is None
    assert [s.spec.weights.scale for (s,) in ci.groups] == [1.0, 10.0]
    assert full.sweep_field == "weights.scale" and full.sweep_values == (1.0, 30.0, 100.0) and full.samples == 64
    assert [(s.spec.weights.scale, s.spec.width) for (s,) in full.groups] == [(1.0, 256), (30.0, 256), (100.0, 256)]


def test_defaults_merge_into_subjects(tmp_path):
    text = """
    defaults:
      network: {width: 32, weights: {scheme: uniform, bias_scale: 0.5}}
      samples: 7
    claims:
      - id: gating
        kind: less
        network: {activation: relu, weights: {scale: 2.0}}
        a: {gated: false}
        b: {gated: true, weights: {scale: 3.0}}
        metrics: {lz: {}}
    """
    (claim,) = load(tmp_path, text)
    (a,), (b,) = claim.groups
    assert (a.spec.width, a.spec.weights.scheme, a.spec.weights.bias_scale, a.spec.weights.scale) == (32, "uniform", 0.5, 2.0)
    assert (b.spec.gated, b.spec.weights.scale, b.spec.weights.scheme) == (True, 3.0, "uniform")
    assert claim.samples == 7


def test_agreement_grid_is_a_product(tmp_path):
    text = """
    claims:
      - id: agree
        kind: agreement
        grid: {activation: [relu, tanh], depth: [1, 2, 3]}
        metrics: {dct-vs-lz: {min_spearman: 0.5}}
    """
    (claim,) = load(tmp_path, text)
    assert len(claim.groups) == 6
    assert {(s.spec.activation, s.spec.depth) for (s,) in claim.groups} == {
        (a, d) for a in ("relu", "tanh") for d in (1, 2, 3)}


@pytest.mark.parametrize("text, fragments", [
    ("claims: [unclosed", ["not valid YAML", "line"]),
    ("claims:\n  - id: x\n    kind: sideways\n", ["claim 'x'", "field 'kind'", "allowed: less, increasing"]),
    ("claims:" + GOOD_CLAIM.replace("network:", "netwrk:"), ["claim 'tanh-rises'", "field 'netwrk'", "unknown key"]),
    ("claims:" + GOOD_CLAIM.replace("tanh}", "tanhh}"), ["field 'network.activation'", "tanhh", "relu"]),
    ("claims:" + GOOD_CLAIM.replace("min_ratio: 3.0", "min_ratio: 1e-3"), ["field 'metrics.lz.min_ratio'", "1.0e-3"]),
    ("claims:" + GOOD_CLAIM.replace("lz:", "lzz:"), ["field 'metrics.lzz'", "allowed:"]),
    ("claims:" + GOOD_CLAIM.replace("min_ratio", "max_ratio"), ["field 'metrics.lz.max_ratio'", "unknown key"]),
    ("claims:" + GOOD_CLAIM.replace("{activation: tanh}", "{activation: tanh, width: -4}"), ["field 'network.width'"]),
    ("claims:" + GOOD_CLAIM.replace("{activation: tanh}", "{activation: tanh, depth: true}"), ["field 'network.depth'"]),
    ("claims:" + GOOD_CLAIM.replace("weights.scale", "weights.scal"), ["weights.scal"]),
    ("claims:" + GOOD_CLAIM + GOOD_CLAIM, ["duplicate claim id"]),
    ("claims:" + GOOD_CLAIM.replace("    sweep: {field: weights.scale, values: [1.0, 10.0]}\n", ""), ["field 'sweep'", "required"]),
    ("claims:" + GOOD_CLAIM + "    samples: 0\n", ["field 'samples'", "positive integer"]),
    ("claims:" + GOOD_CLAIM + "    alpha: 2.0\n", ["field 'alpha'"]),
    ("claims:" + GOOD_CLAIM + "    tier: nightly\n", ["field 'tier'", "allowed: ci, full"]),
    ("claims:" + GOOD_CLAIM.replace("id: tanh-rises", "id: Tanh Rises"), ["field 'id'"]),
    ("claims:" + GOOD_CLAIM + "    full: {sweep: {values: [1.0, -3]}}\n",
     ["field 'full.sweep.values[1].weights.scale'"]),  # full-tier subjects are checked in the CI tier too
    ("claims:" + GOOD_CLAIM + "    full: {network: {width: 0}}\n", ["field 'full.network.width'"]),
    ("claims:" + GOOD_CLAIM + "    full: {sweep: {field: depth, values: [1, 2]}}\n", ["field 'full.sweep.field'", "unknown key"]),
    ("claims:" + GOOD_CLAIM + "    full: {sweep: {}}\n", ["field 'full.sweep'", "needs 'values'"]),
    ("claims:\n  - id: f\n    kind: bounded\n    subject: {activation: relu}\n    metrics: {dct: {max: 1.0}}\n"
     "    full: {sweep: {values: [1, 2]}}\n", ["field 'full.sweep'", "only a claim with a sweep"]),
    ("claims: []", ["field 'claims'", "non-empty"]),
    ("defaults: {sample: 3}\nclaims:" + GOOD_CLAIM, ["field 'defaults.sample'", "unknown key"]),
    ("claims:\n  - id: f\n    kind: bounded\n    subject: {function: wave}\n    metrics: {dct: {max: 1.0}}\n",
     ["field 'subject.function'", "white_noise"]),
    ("claims:\n  - id: f\n    kind: bounded\n    subject: {activation: relu}\n    metrics: {dct: {}}\n",
     ["field 'metrics.dct'", "needs at least one of: max, min"]),
    ("claims:\n  - id: f\n    kind: bounded\n    subject: {source: telepathy}\n    metrics: {dct: {max: 1.0}}\n",
     ["field 'subject.source'", "allowed: network, function"]),
    ("claims:\n  - id: f\n    kind: bounded\n    subject: {function: linear, k: 2}\n    metrics: {dct: {max: 1.0}}\n",
     ["field 'subject.k'", "unknown key"]),
])
def test_malformed_file_gives_one_line(tmp_path, text, fragments):
    message = error(tmp_path, text)
    for fragment in fragments:
        assert fragment in message, message


def test_every_full_block_of_the_case_files_changes_its_claim():
    """A subject's own keys win over ``full:``: a full block whose settings the subjects override is a no-op."""
    cases = Path(__file__).resolve().parents[1] / "cases"
    for path in sorted(cases.glob("*.yaml")):
        with_full = {c["id"] for c in yaml.safe_load(path.read_text(encoding="utf-8"))["claims"] if "full" in c}
        ci = {c.id: c for c in load_case_file(path, path.name, "ci")}
        for claim in load_case_file(path, path.name, "full"):
            if claim.id in with_full:
                assert (claim.groups, claim.samples) != (ci[claim.id].groups, ci[claim.id].samples), \
                    f"{path.name}: {claim.id}: its full: block changes nothing"
