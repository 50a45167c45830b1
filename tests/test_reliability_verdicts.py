"""How verdicts reach the run: strict xfail on a metric and on a claim (an xfail that starts passing
fails the run), premises (``requires:``: a failing premise makes the claim INCONCLUSIVE, or XFAIL
under xfail; a passing one leaves the claim's own verdict), and a verdict without checks never passes."""
import json

import numpy as np
import pytest

from redshift.claims import plugin
from redshift.claims.kinds import KINDS, SINGLE, Kind
from redshift.claims.model import Claim, Expectation, Subject, Verdict

A_B = "a: {function: linear}\n    b: {function: white_noise}"
HOLDS = "{min_ratio: 2.0}"
FAILS = "{min_ratio: 1000.0}"


def claim(name: str, metric: str, extra: str = "") -> str:
    return f"""
  - id: {name}
    kind: less
    {A_B}
    metrics:
      dct: {metric}{extra}
"""


PREMISE_FAILS = f"""
    requires:
      - kind: less
        claim: a premise that fails
        {A_B.replace(chr(10) + '    ', chr(10) + '        ')}
        metrics:
          dct: {FAILS}"""
PREMISE_HOLDS = PREMISE_FAILS.replace(FAILS, HOLDS).replace("that fails", "that holds")

CASES = "defaults:\n  samples: 12\n  resolution: 16\nclaims:" + "".join([
    claim("plain-holds", HOLDS),
    claim("plain-fails", FAILS),
    claim("metric-xfail-fails", '{min_ratio: 1000.0, xfail: "the ratio is ~3"}'),
    claim("metric-xfail-holds", '{min_ratio: 2.0, xfail: "thought to fail"}'),
    claim("claim-xfail-fails", FAILS, '\n    xfail: "documented: ~3, not 1000"'),
    claim("claim-xfail-holds", HOLDS, '\n    xfail: "thought to fail"'),
    claim("premise-fails", HOLDS, PREMISE_FAILS),
    claim("premise-fails-xfail", HOLDS, PREMISE_FAILS + '\n    xfail: "stands on a premise known to fail"'),
    claim("premise-holds", HOLDS, PREMISE_HOLDS),
    claim("premise-holds-claim-fails", FAILS, PREMISE_HOLDS),
])
STATUS = {"plain-holds": "PASS", "plain-fails": "FAIL", "metric-xfail-fails": "XFAIL", "metric-xfail-holds": "XPASS",
          "claim-xfail-fails": "XFAIL", "claim-xfail-holds": "XPASS", "premise-fails": "INCONCLUSIVE",
          "premise-fails-xfail": "XFAIL", "premise-holds": "PASS", "premise-holds-claim-fails": "FAIL"}


@pytest.fixture
def suite(pytester):
    (pytester.path / "cases").mkdir()
    (pytester.path / "cases" / "v.yaml").write_text(CASES)
    return pytester


def statuses(pytester) -> dict[str, dict]:
    document = json.loads((pytester.path / "reports" / "results.json").read_text())
    return {c["id"].split("::")[1].split("[")[0]: c for c in document["claims"]}


def test_every_status_in_the_summary_and_the_json(suite):
    result = suite.runpytest("-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    claims = statuses(suite)
    assert {name: c["status"] for name, c in claims.items()} == STATUS
    for name, status in STATUS.items():
        assert f"{status:<6} cases/v.yaml::{name}[dct]" in result.stdout.lines, name
    assert claims["claim-xfail-fails"]["reason"] == "documented: ~3, not 1000"
    assert claims["claim-xfail-holds"]["reason"] == "thought to fail"
    assert claims["metric-xfail-holds"]["reason"] == "thought to fail"
    # a failing premise: its line is the evidence, and the claim's own checks are kept but decide nothing
    evidence = claims["premise-fails"]["evidence"]
    assert evidence[0].startswith("premise a premise that fails[dct]: FAIL") and evidence[-1].startswith("ok")
    assert claims["premise-holds-claim-fails"]["evidence"][0].startswith("premise a premise that holds[dct]: ok")
    outcomes = result.parseoutcomes()
    assert (outcomes["passed"], outcomes["failed"], outcomes["xfailed"]) == (2, 5, 3)
    text = result.stdout.str()
    assert "INCONCLUSIVE: a premise failed" in text
    assert "[XPASS(strict)] thought to fail" in text
    assert "the claim holds, but it is marked xfail (strict), so the run fails: remove the xfail" in text


@pytest.mark.parametrize("selection, status, ret", [
    ("claim-xfail-holds", "XPASS", pytest.ExitCode.TESTS_FAILED),  # an xfail that starts passing fails the run
    ("metric-xfail-holds", "XPASS", pytest.ExitCode.TESTS_FAILED),
    ("claim-xfail-fails", "XFAIL", pytest.ExitCode.OK),
    ("metric-xfail-fails", "XFAIL", pytest.ExitCode.OK),
    ("premise-fails", "INCONCLUSIVE", pytest.ExitCode.TESTS_FAILED),  # never a pass
    ("premise-fails-xfail", "XFAIL", pytest.ExitCode.OK),
    ("premise-holds", "PASS", pytest.ExitCode.OK),
    ("premise-holds-claim-fails", "FAIL", pytest.ExitCode.TESTS_FAILED),
])
def test_exit_status_of_each(suite, selection, status, ret):
    result = suite.runpytest("-p", "no:cacheprovider", "-k", f"{selection}[")
    assert result.ret == ret
    assert {name: c["status"] for name, c in statuses(suite).items()} == {selection: status}


SEED_DEPENDENT = "defaults:\n  samples: 12\n  resolution: 16\nclaims:" + "".join([
    claim("metric-seed-dependent-holds", '{min_ratio: 2.0, seed_dependent: "passes under 3 of 5 seeds"}'),
    claim("metric-seed-dependent-fails", '{min_ratio: 1000.0, seed_dependent: "passes under 1 of 5 seeds"}'),
    claim("claim-seed-dependent-holds", HOLDS, '\n    seed_dependent: "passes under 4 of 5 seeds"'),
])


def test_seed_dependent_is_an_xfail_that_may_pass(pytester):
    (pytester.path / "cases").mkdir()
    (pytester.path / "cases" / "v.yaml").write_text(SEED_DEPENDENT)
    result = pytester.runpytest("-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.OK  # neither an XPASS nor an XFAIL fails the run
    claims = statuses(pytester)
    assert {name: c["status"] for name, c in claims.items()} == {
        "metric-seed-dependent-holds": "XPASS", "metric-seed-dependent-fails": "XFAIL", "claim-seed-dependent-holds": "XPASS"}
    assert claims["claim-seed-dependent-holds"]["reason"] == "passes under 4 of 5 seeds"
    assert any(line.endswith("seed_dependent (not strict, not a pass): passes under 4 of 5 seeds")
               for line in result.stdout.lines)
    assert "marked xfail (strict)" not in result.stdout.str()
    outcomes = result.parseoutcomes()
    assert (outcomes.get("passed", 0), outcomes["xpassed"], outcomes["xfailed"]) == (0, 2, 1)


def test_xfail_and_seed_dependent_together_are_refused(pytester):
    (pytester.path / "cases").mkdir()
    (pytester.path / "cases" / "v.yaml").write_text("claims:" + claim(
        "both", '{min_ratio: 2.0, xfail: "a", seed_dependent: "b"}'))
    result = pytester.runpytest("-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.INTERRUPTED
    result.stdout.fnmatch_lines(["*cases/v.yaml: claim 'both': field 'metrics.dct.seed_dependent': either xfail (strict) or seed_dependent, not both*"])


def test_a_verdict_without_checks_fails():
    """A kind that compares nothing (a plugin's bug, an empty layout) must not pass its claim."""
    empty = Kind("nothing", SINGLE, frozenset(), lambda claim, e, measure, rng: Verdict())
    e = Expectation("lz", {}, alpha=1e-3)
    subject = Subject("function", "s", "fn:s")
    c = Claim("cases/t.yaml", "t", "nothing", "", "", ((subject,),), None, (), 32, 64, "float64", (e,))
    with pytest.MonkeyPatch.context() as patch:
        patch.setitem(KINDS._loaded, "nothing", empty)
        verdict = plugin.evaluate(c, e, lambda s, m: None, np.random.default_rng(0))
    assert verdict.passed is False
    assert verdict.lines == ["FAIL  no check was made: kind 'nothing' found nothing to compare (1 subjects)"]


def test_xdist_workers_spread_over_the_gpus(monkeypatch):
    """Worker i of pytest-xdist runs on cuda:(i mod device_count); the single-process run keeps 'cuda'."""
    import torch

    from redshift.core import resolve_device

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 3)
    assert [resolve_device("cuda", i) for i in range(5)] == ["cuda:0", "cuda:1", "cuda:2", "cuda:0", "cuda:1"]
    assert resolve_device("auto", 4) == "cuda:1" and resolve_device("cuda") == "cuda"
    assert resolve_device("cuda:2", 0) == "cuda:2"
    with pytest.raises(ValueError, match="sees 3 CUDA"):
        resolve_device("cuda:3")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert resolve_device("auto", 1) == "cpu"
    with pytest.raises(ValueError, match="no CUDA device"):
        resolve_device("cuda", 1)
