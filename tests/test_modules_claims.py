"""Every claim kind with ``module`` subjects, alone and against built-in subjects, through the plugin
(no conftest.py: the plugin and the module source load through their entry points)."""
import json
from pathlib import Path

import pytest

NETS = (Path(__file__).parent / "user_nets.py").read_text()

CLAIMS = """description: every claim kind with module subjects
defaults:
  samples: 16
  resolution: 24
  module: {factory: "claim_nets:mlp", kwargs: {width: 16, depth: 3}}
  network: {width: 16, depth: 3}
claims:
  - id: module-relu-below-network-sine
    kind: less
    a: {source: module, kwargs: {activation: relu}}
    b: {activation: sine, weights: {scale: 5.0}}
    metrics:
      lz: {min_ratio: 1.5}
  - id: module-tanh-rises
    kind: increasing
    module: {kwargs: {activation: tanh}}
    subject: {source: module}
    sweep: {field: weights.scale, values: [1.0, 10.0]}
    metrics:
      lz: {min_ratio: 1.5}
  - id: module-ordering
    kind: ordering
    groups:
      - [{source: module, kwargs: {activation: relu}}]
      - [{source: module, kwargs: {activation: tanh}, weights: {scale: 10.0}}]
    metrics:
      lz: {min_ratio: 1.5}
  - id: module-relu-flat
    kind: flat
    subject: {source: module, kwargs: {activation: relu}}
    sweep: {field: weights.scale, values: [1.0, 3.0]}
    metrics:
      lz: {max_ratio: 1.5}
  - id: module-tanh-near-network-tanh
    kind: near
    subject: {source: module, kwargs: {activation: tanh}, weights: {scale: 5.0}}
    reference: {activation: tanh, weights: {scale: 5.0}}
    metrics:
      lz: {min_ratio: 0.7, max_ratio: 1.4}
  - id: module-relu-bounded
    kind: bounded
    subject: {source: module, kwargs: {activation: relu}}
    metrics:
      lz: {max: 150.0}
  - id: module-gain-invariant
    kind: invariant
    a: {source: module, kwargs: {activation: tanh, gain: 1.0}}
    b: {source: module, kwargs: {activation: tanh, gain: 3.0}}
    metrics:
      lz: {max_abs_difference: 0.0}
      dct: {max_abs_difference: 1.0e-9}
  - id: module-agreement
    kind: agreement
    grid: {source: [module], kwargs.activation: [tanh], weights.scale: [1.0, 3.0, 10.0, 30.0]}
    metrics:
      dct-vs-lz: {min_spearman: 0.8}
  - id: module-own-init
    kind: bounded
    subject: {source: module, init: own, kwargs: {activation: tanh}}
    metrics:
      lz: {max: 150.0}
"""

FALSE_CLAIM = """
  - id: module-tanh-rises-a-lot
    kind: increasing
    subject: {source: module, kwargs: {activation: tanh}}
    sweep: {field: weights.scale, values: [1.0, 3.0]}
    metrics:
      lz: {min_ratio: 10.0}
"""


@pytest.fixture
def project(pytester):
    (pytester.path / "claim_nets.py").write_text(NETS)
    (pytester.path / "claims").mkdir()
    (pytester.path / "claims" / "mine.yaml").write_text(CLAIMS)
    return pytester


def test_every_claim_kind_with_module_subjects(project):
    result = project.runpytest("claims/mine.yaml", "-p", "no:cacheprovider", "--redshift-report-json", "results.json")
    result.assert_outcomes(passed=10)
    document = json.loads((project.path / "results.json").read_text())
    kinds = {c["kind"] for c in document["claims"]}
    assert kinds == {"less", "increasing", "ordering", "flat", "near", "bounded", "invariant", "agreement"}
    sources = {m["source"] for m in document["measurements"]}
    assert sources == {"module", "network"}
    record = next(m for m in document["measurements"] if m["source"] == "module" and m["spec"]["init"] == "own")
    assert record["spec"]["kwargs"] == {"activation": "tanh", "depth": 3, "width": 16}  # the YAML form, merged


def test_a_false_claim_fails_with_its_numbers(project):
    (project.path / "claims" / "mine.yaml").write_text(CLAIMS + FALSE_CLAIM)
    result = project.runpytest("claims/mine.yaml", "-k", "a-lot", "-p", "no:cacheprovider", "--redshift-report-json", "")
    assert result.ret == 1
    result.stdout.fnmatch_lines(["*FAIL  claim_nets:mlp(activation=tanh,depth=3,width=16)-glorot_uniform(1)*"
                                 "Mann-Whitney p=*need*>= 10*"])
    assert "Traceback" not in result.stdout.str()


@pytest.mark.parametrize("subject, message", [
    ('{source: module, factory: "claim_nets:nope"}', "field 'factory': claim_nets:nope-glorot_uniform(1): "
                                                     "module 'claim_nets' has no callable 'nope'"),
    ('{source: module, factory: "claim_nets:mlp", kwargs: {activation: swish}}',
     "field 'factory': *the factory raised KeyError: 'swish'"),
    ("{source: module, kwargs: {activation: relu}, width: 3}", "field 'subject.width': unknown key (allowed: factory, "),
    ('{source: module, factory: "no_such_package_xyz:make"}', "*cannot import 'no_such_package_xyz'*"),
])
def test_bad_module_subjects_fail_collection_with_one_line(project, subject, message):
    (project.path / "claims" / "bad.yaml").write_text(
        f"claims:\n  - id: bad\n    kind: bounded\n    subject: {subject}\n    metrics: {{lz: {{max: 100.0}}}}\n")
    result = project.runpytest("claims/bad.yaml", "-p", "no:cacheprovider", "--redshift-report-json", "")
    assert result.ret != 0
    result.stdout.fnmatch_lines([f"claims/bad.yaml: claim 'bad': {message}*"])
    assert "Traceback" not in result.stdout.str()


def test_the_shipped_example_case_file_passes(pytester, monkeypatch):
    """examples/fourier_features_claims.yaml, the worked example of docs/use-in-your-repository.md."""
    root = Path(__file__).resolve().parents[1]
    monkeypatch.syspath_prepend(str(root))  # `examples.fourier_features` imports, as from the repository root
    result = pytester.runpytest(str(root / "examples" / "fourier_features_claims.yaml"), "-p", "no:cacheprovider",
                                "--redshift-report-json", "")
    result.assert_outcomes(passed=4)
