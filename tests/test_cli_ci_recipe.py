"""The CI recipe users copy (examples/ci/): the workflow runs exactly run-claims.sh, and the script runs a
case file into JUnit XML and results.json, and times benchmarks against the previous stored run."""
import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "examples" / "ci" / "run-claims.sh"
WORKFLOW = ROOT / "examples" / "ci" / "github-actions.yml"

CASES = """
claims:
  - id: noise-above-ramp
    kind: less
    a: {function: linear}
    b: {function: white_noise}
    resolution: 16
    metrics:
      dct: {min_ratio: 2.0}
  - id: ramp-above-noise
    kind: less
    a: {function: white_noise}
    b: {function: linear}
    resolution: 16
    metrics:
      dct: {min_ratio: 2.0}
"""

BENCHMARK = """
import os
import time


def test_sum(benchmark):
    pause = float(os.environ.get("PAUSE", "0"))  # a regression made to order
    assert benchmark(lambda: time.sleep(pause) or sum(range(1000))) == 499500
"""


def run_script(cwd: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}  # not an xdist worker
    environment = {**inherited, "PYTHON": sys.executable, "REDSHIFT_OUT": "out", **env}
    return subprocess.run(["sh", str(SCRIPT), *args], cwd=cwd, env=environment, capture_output=True, text=True,
                          timeout=300)


def test_the_workflow_runs_the_script_and_uploads_its_files():
    workflow = yaml.safe_load(WORKFLOW.read_text())
    triggers = workflow.get("on", workflow.get(True))  # YAML 1.1 reads the key `on` as true
    assert set(triggers) == {"push", "pull_request"}
    runs = {job: [step.get("run", "") for step in spec["steps"]] for job, spec in workflow["jobs"].items()}
    assert "sh ci/run-claims.sh" in runs["claims"] and "sh ci/run-claims.sh --timing" in runs["timing"]
    assert not any("pytest" in run for steps in runs.values() for run in steps)  # the script is the only runner
    assert workflow["jobs"]["timing"]["if"] == "github.event_name == 'push' && github.ref == 'refs/heads/main'"
    uploaded = next(s for s in workflow["jobs"]["claims"]["steps"] if s.get("uses", "").startswith("actions/upload-artifact"))
    out = workflow["env"]["REDSHIFT_OUT"]
    assert uploaded["if"] == "always()" and uploaded["with"]["path"].split() == [f"{out}/junit.xml", f"{out}/results.json"]


def test_the_script_writes_junit_xml_and_results_json(tmp_path):
    (tmp_path / "claims").mkdir()
    (tmp_path / "claims" / "tiny.yaml").write_text(CASES)
    result = run_script(tmp_path, "claims/tiny.yaml", REDSHIFT_SAMPLES="8", REDSHIFT_SEED="3")
    assert result.returncode == 1, result.stdout[-3000:] + result.stderr[-3000:]  # pytest's: one claim fails
    document = json.loads((tmp_path / "out" / "results.json").read_text())
    assert {c["id"]: c["status"] for c in document["claims"]} == {
        "claims/tiny.yaml::noise-above-ramp[dct]": "PASS", "claims/tiny.yaml::ramp-above-noise[dct]": "FAIL"}
    assert document["settings"]["default_samples"] == 8 and document["settings"]["seed"] == 3
    cases = ET.parse(tmp_path / "out" / "junit.xml").getroot().iter("testcase")
    outcomes = {case.get("name"): [child.tag for child in case if child.tag != "properties"] for case in cases}
    assert outcomes == {"noise-above-ramp[dct]": [], "ramp-above-noise[dct]": ["failure"]}


def test_timing_compares_with_the_previous_stored_run(tmp_path):
    assert "nothing to time" in run_script(tmp_path, "--timing").stdout  # optional: no benchmarks folder
    (tmp_path / "benchmarks").mkdir()
    (tmp_path / "benchmarks" / "test_speed.py").write_text(BENCHMARK)
    first = run_script(tmp_path, "--timing", "--benchmark-max-time", "0.05")
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
    second = run_script(tmp_path, "--timing", "--benchmark-max-time", "0.05", REDSHIFT_BENCH_FAIL="median:100000%")
    assert second.returncode == 0, second.stdout[-3000:] + second.stderr[-3000:]
    assert "Comparing against benchmarks from" in second.stdout + second.stderr
    assert len(list((tmp_path / ".benchmarks").glob("*/*.json"))) == 2
    assert json.loads((tmp_path / "out" / "benchmarks.json").read_text())["benchmarks"][0]["name"] == "test_sum"
    slower = run_script(tmp_path, "--timing", "--benchmark-max-time", "0.05", PAUSE="0.005")
    assert slower.returncode == 1, slower.stdout[-3000:]  # 5 ms against microseconds: the default rule fails the step
    assert "Performance has regressed" in slower.stdout + slower.stderr
