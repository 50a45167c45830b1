"""End to end: case files collected by the plugin, ids, summary, JSON, xfail, errors, xdist."""
import json
import textwrap

import pytest
from mini_cases import MINI_CASES


@pytest.fixture
def suite(pytester):
    # no conftest: the plugin loads through its pytest11 entry point
    (pytester.path / "cases").mkdir()
    (pytester.path / "cases" / "mini.yaml").write_text(MINI_CASES)
    return pytester


def results(pytester, name="results.json"):
    return json.loads((pytester.path / "reports" / name).read_text())


def test_items_ids_summary_and_json(suite):
    result = suite.runpytest("-v", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=2, xfailed=1, skipped=1)
    result.stdout.fnmatch_lines([
        "*cases/mini.yaml::noise-above-linear[[]dct[]] PASSED*",
        "*cases/mini.yaml::impossible-ratio[[]dct[]] XFAIL*",
        "*complexity by architecture*",
        "*fn:white_noise*",
        "*claims*",
        "XFAIL  cases/mini.yaml::impossible-ratio[[]dct[]]",
        "*reason: documented*",
    ])
    document = results(suite)
    statuses = {c["id"]: c["status"] for c in document["claims"]}
    assert statuses == {
        "cases/mini.yaml::noise-above-linear[dct]": "PASS", "cases/mini.yaml::noise-above-linear[lz]": "PASS",
        "cases/mini.yaml::impossible-ratio[dct]": "XFAIL", "cases/mini.yaml::full-only[dct]": "SKIP"}
    labels = {(m["label"], m["metric"]) for m in document["measurements"]}
    assert ("fn:white_noise", "lz") in labels
    assert document["settings"]["default_samples"] == 32


def test_keyword_selection(suite):
    result = suite.runpytest("-k", "noise and lz", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)


def test_failing_claim_prints_numbers_not_a_traceback(suite):
    (suite.path / "cases" / "mini.yaml").write_text(
        MINI_CASES.replace(', xfail: "documented: the ratio is ~3, not 1000"', ""))
    result = suite.runpytest("-k", "impossible", "-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*FAIL  mlp-relu*Mann-Whitney p=*need lower end >= 1000*"])
    assert "Traceback" not in result.stdout.str()
    assert "evaluate.py" not in result.stdout.str()


def test_malformed_case_file_is_one_line(suite):
    (suite.path / "cases" / "bad.yaml").write_text("claims:\n  - id: x\n    kind: less\n    a: {activation: swoosh}\n"
                                                   "    b: {}\n    metrics: {lz: {}}\n")
    result = suite.runpytest("-p", "no:cacheprovider")
    assert result.ret != 0
    result.stdout.fnmatch_lines(["*cases/bad.yaml: claim 'x': field 'a.activation': *swoosh*relu*"])
    assert "Traceback" not in result.stdout.str()


def test_same_numbers_in_any_order_and_under_xdist(suite):
    suite.runpytest("-p", "no:cacheprovider", "--redshift-report-json", "reports/serial.json")
    suite.runpytest("-p", "no:cacheprovider", "-p", "no:randomly", "-n", "2", "--redshift-report-json", "reports/xdist.json")
    suite.runpytest("-p", "no:cacheprovider", "-k", "impossible", "--redshift-report-json", "reports/subset.json")
    serial, xdist, subset = (results(suite, n) for n in ("serial.json", "xdist.json", "subset.json"))
    assert serial["measurements"] == xdist["measurements"]
    assert [c["checks"] for c in serial["claims"]] == [c["checks"] for c in xdist["claims"]]
    by_id = {c["id"]: c["checks"] for c in serial["claims"]}
    for c in subset["claims"]:
        assert c["checks"] == by_id[c["id"]]


def test_seed_changes_the_networks(suite):
    suite.runpytest("-p", "no:cacheprovider", "--redshift-report-json", "reports/a.json")
    suite.runpytest("-p", "no:cacheprovider", "--redshift-seed", "7", "--redshift-report-json", "reports/b.json")
    a = {(m["label"], m["metric"]): m["median"] for m in results(suite, "a.json")["measurements"]}
    b = {(m["label"], m["metric"]): m["median"] for m in results(suite, "b.json")["measurements"]}
    assert a[("fn:linear", "dct")] == b[("fn:linear", "dct")]  # deterministic function
    assert a[("fn:white_noise", "dct")] != b[("fn:white_noise", "dct")]  # lz is an integer count: ties happen
