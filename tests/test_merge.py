"""``redshift merge``: shards of a pytest-split run merge into the unsharded run's results.json, record
for record; conflicting shards are one-line errors naming the key or field and the files."""
import copy
import json

import pytest

from redshift import cli
from redshift.merge import MergeError, merge_documents

CASES = """
defaults:
  network: {width: 8, depth: 2}
  samples: 8
  resolution: 16
claims:
  - id: relu-below-noise
    kind: less
    a: {activation: relu}
    b: {function: white_noise}
    metrics:
      dct: {min_ratio: 1.5}
      lz: {min_ratio: 1.5}
  - id: tanh-below-noise
    kind: less
    a: {activation: tanh}
    b: {function: white_noise}
    metrics:
      lz: {min_ratio: 1.5}
  - id: relu-bounded
    kind: bounded
    subject: {activation: relu}
    metrics:
      lz: {max: 200.0}
  - id: relu-above-noise
    kind: less
    a: {function: white_noise}
    b: {activation: relu}
    metrics:
      lz: {min_ratio: 1.5}
"""


def shard(path: str, measurements=(), claims=(), **fields) -> tuple[str, dict]:
    document = {"created": "2026-01-01T00:00:00+00:00", "commit": "abc", "machine": {"python": "3.11"},
                "settings": {"seed": 1, "tier": "ci", "default_samples": 32, "device": "cpu"},
                "measurements": list(measurements), "claims": list(claims)}
    return path, {**document, **fields}


M1 = {"key": "k1:lz", "label": "a", "setting": "16^2 float64", "n": 8, "metric": "lz", "median": 3.0}
M2 = {"key": "k2:lz", "label": "b", "setting": "16^2 float64", "n": 8, "metric": "lz", "median": 5.0}
C1 = {"id": "f.yaml::x[lz]", "status": "PASS", "evidence": ["ok    x"]}
C2 = {"id": "f.yaml::y[lz]", "status": "FAIL", "evidence": ["FAIL  y"]}


def test_shards_of_a_pytest_split_run_merge_into_the_unsharded_results(pytester):
    (pytester.path / "cases").mkdir()
    (pytester.path / "cases" / "mine.yaml").write_text(CASES)
    common = ["-p", "no:cacheprovider"]
    pytester.runpytest(*common, "--redshift-report-json", "full.json")
    for group in (1, 2):
        pytester.runpytest(*common, "--splits", "2", "--group", str(group), "--redshift-report-json", f"shard{group}.json")
    full, one, two = (json.loads((pytester.path / f"{name}.json").read_text()) for name in ("full", "shard1", "shard2"))
    ids = [{c["id"] for c in d["claims"]} for d in (one, two)]
    assert ids[0] and ids[1] and not ids[0] & ids[1]  # the shards split the claims
    assert {m["key"] for m in one["measurements"]} & {m["key"] for m in two["measurements"]}  # and share subjects
    out = pytester.path / "merged.json"
    assert cli.main(["merge", str(pytester.path / "shard1.json"), str(pytester.path / "shard2.json"), "-o", str(out)]) == 0
    merged = json.loads(out.read_text())
    assert merged["measurements"] == full["measurements"]  # record for record, in the plugin's order
    assert merged["claims"] == full["claims"]
    assert merged["settings"] == full["settings"] and merged["commit"] == full["commit"]
    assert [s["claims"] for s in merged["merged_from"]] == [len(one["claims"]), len(two["claims"])]


def test_identical_records_are_one_record():
    merged = merge_documents([shard("a.json", [M1, M2], [C1]), shard("b.json", [M2], [C2])])
    assert merged["measurements"] == [M1, M2] and merged["claims"] == [C1, C2]
    assert merged["commit"] == "abc" and merged["machine"] == {"python": "3.11"}


@pytest.mark.parametrize("a, b, message", [
    (shard("a.json", [M1]), shard("b.json", [{**M1, "median": 4.0}]),
     "measurement 'k1:lz' differs between a.json and b.json: median 3.0 vs 4.0"),
    (shard("a.json", claims=[C1]), shard("b.json", claims=[{**C1, "status": "FAIL"}]),
     "claim 'f.yaml::x[lz]' has status PASS in a.json and FAIL in b.json"),
    (shard("a.json", claims=[C1]), shard("b.json", claims=[{**C1, "evidence": []}]),
     "claim 'f.yaml::x[lz]' differs between a.json and b.json: evidence"),
    (shard("a.json"), shard("b.json", settings={"seed": 2, "tier": "ci", "default_samples": 32, "device": "cpu"}),
     "setting 'seed' differs: 1 in a.json, 2 in b.json"),
    (shard("a.json"), shard("b.json", settings={"seed": 1, "tier": "full", "default_samples": 32, "device": "cpu"}),
     "setting 'tier' differs: 'ci' in a.json, 'full' in b.json"),
    (shard("a.json"), shard("b.json", settings={"seed": 1, "tier": "ci", "default_samples": 8, "device": "cpu"}),
     "setting 'default_samples' differs: 32 in a.json, 8 in b.json"),
    (shard("a.json"), shard("b.json", commit="def"),
     "commit (pass --allow-mixed-commits to merge runs of different commits) differs: 'abc' in a.json, 'def' in b.json"),
])
def test_conflicts_are_one_line_errors(a, b, message):
    with pytest.raises(MergeError) as info:
        merge_documents([a, b])
    assert str(info.value) == message or str(info.value).startswith(message)


def test_mixed_commits_when_allowed_and_machines_kept():
    a, b = shard("a.json", [M1]), shard("b.json", [M2], commit="def", machine={"python": "3.12"})
    merged = merge_documents([a, b], allow_mixed_commits=True)
    assert merged["commit"] is None and merged["commits"] == {"a.json": "abc", "b.json": "def"}
    assert merged["machine"] is None and merged["machines"] == [{"python": "3.11"}, {"python": "3.12"}]
    assert merge_documents([copy.deepcopy(a), copy.deepcopy(a)], allow_mixed_commits=True)["commit"] == "abc"


def test_the_command_reports_bad_files_in_one_line(tmp_path, capsys):
    good = tmp_path / "good.json"
    good.write_text(json.dumps(shard("good.json", [M1], [C1])[1]))
    (tmp_path / "bad.json").write_text("{not json")
    (tmp_path / "other.json").write_text(json.dumps({"rows": []}))
    for name, message in (("bad.json", "bad.json: cannot read a JSON document (JSONDecodeError: "),
                          ("other.json", "other.json: not a results.json of the claims plugin (no 'settings' dict)"),
                          ("missing.json", "missing.json: cannot read a JSON document (FileNotFoundError: ")):
        assert cli.main(["merge", str(good), str(tmp_path / name), "-o", str(tmp_path / "out.json")]) == 2
        err = capsys.readouterr().err.strip()
        assert err.startswith("redshift merge: error: ") and message in err and "\n" not in err
    assert not (tmp_path / "out.json").exists()
