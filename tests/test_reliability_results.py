"""Results are never lost or hidden, and what is written is parseable: atomic files of the usual mode
(a writer killed mid-write leaves the previous file and no temporary one), one record per measured
configuration, one line naming the file for every fault of writing or reading results.json, JUnit
properties as JSON, and the same 95% interval in the summary table, the evidence line and the JSON."""
import json
import os
import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from mini_cases import ONE_CLAIM

import redshift.core
from redshift.claims.measure import Measurer
from redshift.claims.plugin import _measurement_record
from redshift.claims.results import ClaimsReport, interval_text
from redshift.claims.schema import load_case_file
from redshift.core import SOURCES, atomic_write_bytes, atomic_write_text
from redshift.report.claims_table import ResultsError, claims_markdown, read_results

ROOT = Path(__file__).resolve().parents[1]



@pytest.fixture
def umask_022():
    old = os.umask(0o022)
    yield
    os.umask(old)


# --- atomic files ----------------------------------------------------------------------------------

@pytest.mark.parametrize("unnamed", [True, False], ids=["O_TMPFILE", "named-temporary"])
def test_atomic_write_mode_follows_the_umask(tmp_path, umask_022, monkeypatch, unnamed):
    """0644 under umask 022, as open() makes a file (mkstemp's 0600 hid results from other users)."""
    if not unnamed:
        monkeypatch.setattr(redshift.core, "_link_unnamed", lambda fd, path: False)
    path = tmp_path / "out" / "results.json"
    atomic_write_text(path, "one\n")
    assert path.stat().st_mode & 0o777 == 0o644
    path.chmod(0o600)
    atomic_write_bytes(path, b"two\n")  # a replacement gets the mode of a new file
    assert path.read_bytes() == b"two\n" and path.stat().st_mode & 0o777 == 0o644
    os.umask(0o077)
    atomic_write_bytes(path, b"three\n")
    assert path.stat().st_mode & 0o777 == 0o600
    assert sorted(p.name for p in path.parent.iterdir()) == ["results.json"]


def test_a_failed_atomic_write_leaves_the_previous_file(tmp_path, monkeypatch):
    path = tmp_path / "results.json"
    atomic_write_text(path, "previous\n")
    monkeypatch.setattr(redshift.core, "_link_unnamed", lambda fd, path: False)
    monkeypatch.setattr(redshift.core.os, "replace", lambda *a: (_ for _ in ()).throw(OSError(28, "No space left")))
    with pytest.raises(OSError):
        atomic_write_text(path, "new\n")
    assert path.read_text() == "previous\n"
    assert [p.name for p in tmp_path.iterdir()] == ["results.json"]


WRITER = """\
import itertools, sys
from redshift.core import atomic_write_text
path, size = sys.argv[1], int(sys.argv[2])
for version in itertools.count(1):
    atomic_write_text(path, f"{version}\\n" + str(version % 10) * size + f"\\nend {version}\\n")
    print(version, flush=True)
"""
SIZE = 48 * 2**20


def _complete(path: Path) -> int:
    """The version of a complete file at ``path`` (0: the one written before the writer started)."""
    data = path.read_bytes()
    if data == b"previous\n":
        return 0
    head, body, tail = data.split(b"\n")[:3]
    version = int(head)
    assert tail == f"end {version}".encode() and body == str(version % 10).encode() * SIZE
    return version


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGKILL], ids=["SIGINT", "SIGKILL"])
def test_a_writer_killed_mid_write_leaves_the_previous_file_and_no_temporary(tmp_path, sig):
    """A process writing a 48 MiB file in a loop, killed at several points of a write: the file is always
    a complete version and nothing else is left in the folder. (Between linking the finished file
    under its temporary name and renaming it, a window of microseconds, a SIGKILL would leave that
    name behind; the next write by a process of the same pid removes it.)"""
    path = tmp_path / "results.json"
    atomic_write_text(path, "previous\n")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    for delay in (0.0, 0.02, 0.05, 0.11):
        writer = subprocess.Popen([sys.executable, "-c", WRITER, str(path), str(SIZE)], stdout=subprocess.PIPE,
                                  env=env, text=True)
        try:
            assert writer.stdout.readline().strip().isdigit()  # one version written: the next is under way
            time.sleep(delay)
            writer.send_signal(sig)
            writer.wait(timeout=60)
        finally:
            writer.kill()
            writer.wait()
        assert writer.returncode != 0
        assert _complete(path) >= 1
        assert [p.name for p in tmp_path.iterdir()] == ["results.json"], list(tmp_path.iterdir())


# --- results.json from a run ------------------------------------------------------------------------

@pytest.fixture
def suite(pytester):
    (pytester.path / "cases").mkdir()
    (pytester.path / "cases" / "mini.yaml").write_text(ONE_CLAIM)
    return pytester


def test_results_file_is_0644_under_umask_022(suite, umask_022):
    result = suite.runpytest("-p", "no:cacheprovider")
    assert result.ret == 0
    assert (suite.path / "reports" / "results.json").stat().st_mode & 0o777 == 0o644


def test_an_unwritable_results_path_stops_the_run_before_any_claim(suite):
    (suite.path / "blocker").write_text("a file where the folder should be\n")
    result = suite.runpytest("-p", "no:cacheprovider", "--redshift-report-json", "blocker/results.json")
    output = result.stdout.str() + result.stderr.str()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "Traceback" not in output and "INTERNALERROR" not in output
    (line,) = [line for line in result.stdout.lines if "blocker/results.json" in line]
    assert "cannot write the claims' results there (a part of its path is a file, not a folder)" in line
    assert "passed" not in result.parseoutcomes() and "complexity by architecture" not in output


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into a read-only folder (covered by the next test)")
def test_a_read_only_results_folder_stops_the_run(suite):
    folder = suite.path / "reports"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        result = suite.runpytest("-p", "no:cacheprovider")
    finally:
        folder.chmod(0o755)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "reports/results.json: cannot write the claims' results there (Permission denied)" in result.stdout.str()


def test_a_results_file_that_cannot_be_written_at_the_end_is_one_line_and_not_success(suite, monkeypatch):
    """The folder turned read-only (or the disk full) while the claims ran: one line naming the file,
    the previous file unchanged, and an exit status that is neither 0 nor 1 (redshift build
    --run-claims then refuses to build from the stale file)."""
    (suite.path / "reports").mkdir()
    (suite.path / "reports" / "results.json").write_text('{"previous": true}\n')

    def read_only(path, text):
        raise PermissionError(13, "Permission denied")
    monkeypatch.setattr("redshift.claims.results.atomic_write_text", read_only)
    result = suite.runpytest("-p", "no:cacheprovider")
    output = result.stdout.str() + result.stderr.str()
    assert result.ret == pytest.ExitCode.INTERNAL_ERROR
    assert "Traceback" not in output and "INTERNALERROR" not in output
    (line,) = [line for line in result.stdout.lines if "were not written" in line]
    assert line == ("reports/results.json: the claims' results were not written (PermissionError: Permission denied); "
                    "the previous file, if any, is unchanged")
    assert (suite.path / "reports" / "results.json").read_text() == '{"previous": true}\n'
    assert result.parseoutcomes()["passed"] == 1


# --- reading results.json (the report) -------------------------------------------------------------

GOOD_DOCUMENT = {"created": "2024", "commit": "abc", "settings": {"seed": 1, "tier": "ci", "device": "cpu"},
                 "measurements": [{"key": "k:dct", "label": "fn:linear"}],
                 "claims": [{"id": "cases/x.yaml::a[dct]", "status": "PASS", "claim": "c", "evidence": ["ok    x"]}]}


@pytest.mark.parametrize("text, fragment", [
    (json.dumps(GOOD_DOCUMENT, indent=1)[:120], "not valid JSON at line"),
    ("", "not valid JSON at line 1, column 1: Expecting value (truncated?)"),
    ("[1, 2]", "expected a JSON object, got list"),
    ('{"settings": {}}', "neither a 'claims' nor a 'measurements' list"),
    ('{"claims": {"a": 1}}', "'claims' is not a list"),
    ('{"claims": [], "settings": [1]}', "'settings' is not an object"),
    ('{"claims": [3]}', "claims[0] is not an object"),
    ('{"claims": [{"status": "PASS"}]}', "claims[0] has no text 'id'"),
    ('{"claims": [{"id": "x", "status": "MAYBE"}]}', "status 'MAYBE' is not one of PASS, FAIL"),
    ('{"claims": [{"id": "x", "status": "PASS", "evidence": "ok"}]}', "'evidence' is not a list of text lines"),
    ('{"measurements": [1]}', "measurements[0] is not an object"),
])
def test_a_damaged_results_file_is_one_line_naming_it(tmp_path, text, fragment):
    path = tmp_path / "results.json"
    path.write_text(text)
    for reader in (read_results, lambda p: claims_markdown(p, "abc")):
        with pytest.raises(ResultsError) as excinfo:
            reader(path)
        message = str(excinfo.value)
        assert "\n" not in message and message.startswith(f"{path}: ") and fragment in message, message


def test_an_unreadable_results_path_is_one_line(tmp_path):
    (tmp_path / "results.json").mkdir()
    with pytest.raises(ResultsError, match=r"results.json: cannot read the claims results \(IsADirectoryError"):
        read_results(tmp_path / "results.json")
    (tmp_path / "latin1.json").write_bytes(b'{"claims": ["\xe9"]}')
    with pytest.raises(ResultsError, match="UnicodeDecodeError"):
        read_results(tmp_path / "latin1.json")


def test_a_good_results_file_reads(tmp_path):
    path = tmp_path / "results.json"
    assert read_results(path) is None
    assert claims_markdown(path, None).startswith("No claims results")
    path.write_text(json.dumps(GOOD_DOCUMENT))
    assert read_results(path) == GOOD_DOCUMENT
    assert "| **PASS** | `cases/x.yaml::a[dct]` |" in claims_markdown(path, "abc")


# --- one record per configuration ------------------------------------------------------------------

NNGP_CASES = """\
claims:
  - id: wide
    kind: less
    samples: 8
    a: {source: nngp, method: nero, layers: 2, n_train: 10, width: 64}
    b: {source: nngp, method: nero, layers: 2, n_train: 10, width: 128}
    metrics: {bound: {}}
  - id: more-networks
    kind: less
    samples: 8
    a: {source: nngp, method: nero, layers: 2, n_train: 10, networks: 100}
    b: {source: nngp, method: nero, layers: 2, n_train: 10, networks: 200}
    metrics: {bound: {}}
"""


def test_nngp_subjects_differing_only_in_width_or_networks_keep_two_records(tmp_path, monkeypatch):
    """Records are keyed by the digest of the canonical spec, not the label: NNGP subjects that differ
    only in ``networks`` share a label (nero's label names the width, not the networks), and used to
    overwrite each other's record in results.json; subjects differing in ``width`` likewise."""
    path = tmp_path / "nngp.yaml"
    path.write_text(NNGP_CASES)
    claims = load_case_file(path, "cases/nngp.yaml")
    measurer = Measurer(0, "cpu")
    source = SOURCES["nngp"]  # synthetic outputs through the Source protocol: nothing is estimated
    monkeypatch.setattr(source, "sample", lambda spec, n, seed, settings: np.linspace(1, 2, n) * (spec.width + spec.networks))
    monkeypatch.setattr(source, "measure", lambda outputs, metric: outputs)
    report = ClaimsReport(seed=0, measurer=measurer, tier="ci", samples=8, json_path="results.json",
                          rootpath=tmp_path, is_worker=False)
    for claim in claims:
        (a,), (b,) = claim.groups
        assert a.spec != b.spec
        measured = measurer.measure_many([a, b], ["bound"], 8, 64, "float64")
        records = [_measurement_record(m) for m in measured.values()]
        properties = [("claim", json.dumps({"id": claim.uid, "kind": "less"})),
                      ("measurements", json.dumps(records)), ("verdict", json.dumps({"lines": [], "checks": []}))]
        report.pytest_runtest_logreport(SimpleNamespace(nodeid=f"{claim.uid}[bound]", when="call", passed=True,
                                                        skipped=False, longrepr=None, user_properties=properties))
    by_claim = {c.id: c.groups for c in claims}
    (a,), (b,) = by_claim["more-networks"]
    assert a.label == b.label  # the case that lost a record
    report.pytest_sessionfinish(SimpleNamespace(exitstatus=0))
    document = json.loads((tmp_path / "results.json").read_text())
    assert len(document["measurements"]) == 4
    assert len({r["key"] for r in document["measurements"]}) == 4
    assert sorted((r["spec"]["width"], r["spec"]["networks"]) for r in document["measurements"]) == [
        (64, 4000), (128, 4000), (1024, 100), (1024, 200)]
    _, rows = report.architecture_rows()
    names = [row[0] for row in rows]
    assert len(names) == 4 == len(set(names))  # the shared label is told apart by its digest
    assert sum("#" in name for name in names) == 2


# --- machine-readable outputs ----------------------------------------------------------------------

def test_junit_properties_are_json(suite):
    result = suite.runpytest("-p", "no:cacheprovider", "--junitxml=junit.xml")
    assert result.ret == 0
    cases = ET.parse(suite.path / "junit.xml").getroot().iter("testcase")
    seen = 0
    for case in cases:
        properties = {p.get("name"): json.loads(p.get("value")) for p in case.iter("property")}
        assert set(properties) == {"claim", "measurements", "verdict"}
        assert properties["claim"]["id"] == "cases/mini.yaml::noise-above-linear[dct]"
        assert properties["verdict"]["passed"] is True
        assert {m["label"] for m in properties["measurements"]} == {"fn:linear", "fn:white_noise"}
        seen += 1
    assert seen == 1


def test_the_same_interval_in_table_evidence_and_json(suite):
    result = suite.runpytest("-p", "no:cacheprovider")
    assert result.ret == 0
    document = json.loads((suite.path / "reports" / "results.json").read_text())
    (claim,) = document["claims"]
    (evidence,) = claim["evidence"]
    for record in document["measurements"]:
        text = interval_text(record["median"], record["low"], record["high"])
        (row,) = [line for line in result.stdout.lines if line.startswith(record["label"] + " ")]
        assert text in row, (text, row)
        assert f"{record['label']} {text} (n={record['n']})" in evidence, (text, evidence)
        (check,) = claim["checks"]
        side = "a" if check["a"] == record["label"] else "b"
        assert check[f"median_{side}"] == record["median"]
