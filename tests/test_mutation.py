"""Mutation check of redshift/claims/kinds.py (tests/mutation.py): flip each threshold comparison of
the verdict functions, or make it always true, and some kind test must fail.

The default run mutates the threshold checks (40 mutants, ~1 min); set
REDSHIFT_MUTATION_ALL=1 to mutate every comparison of the module, layout readers included
(``python tests/mutation.py --all``, a few minutes)."""
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "tests" / "mutation.py"


def test_the_mutants_are_deterministic():
    listing = [subprocess.run([sys.executable, str(SCRIPT), "--list"], cwd=ROOT, capture_output=True, text=True,
                              timeout=60).stdout for _ in range(2)]
    assert listing[0] == listing[1]
    lines = listing[0].splitlines()
    assert len(lines) >= 40
    for fragment in ("evaluate_agreement: rho >= e.thresholds[key]  [-> True]",  # survived before this suite
                     "evaluate_invariant: med >= bound  [-> True]",
                     "evaluate_interaction: p < e.alpha  [-> True]",
                     "_effect_checks: ok &= low >= need  [& -> |]"):
        assert any(fragment in line for line in lines), fragment


def test_no_mutant_of_the_threshold_checks_survives():
    every = os.environ.get("REDSHIFT_MUTATION_ALL") == "1"
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    result = subprocess.run([sys.executable, str(SCRIPT), *(["--all"] if every else [])], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=1800 if every else 600)
    summary = [line for line in result.stdout.splitlines() if line.startswith(("mutation:", "SURVIVOR"))]
    assert result.returncode == 0, "\n".join(summary) + result.stderr[-3000:]
    assert "0 survived" in result.stdout
