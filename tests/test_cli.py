"""The ``redshift`` command: start-up without torch, --version, the python -m forms, comma-list options,
one-line errors (bad options, a missing optional dependency), build --run-claims's exit status."""
import importlib.metadata
import json
import subprocess
import sys
import textwrap

import pytest

from redshift import cli

HEAVY = ("torch", "matplotlib", "scipy", "numba")


def run_python(code: str, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=cwd)


@pytest.mark.parametrize("prog, argv", [
    ("redshift", ["--help"]), ("redshift", ["--version"]), ("redshift", ["compare", "--help"]),
    ("redshift", ["build", "--help"]), ("redshift", ["merge", "--help"]), ("python -m redshift.report", ["--help"]),
])
def test_start_up_imports_nothing_heavy(prog, argv):
    code = textwrap.dedent(f"""
        import sys
        from redshift.cli import main
        try:
            main({argv!r}, prog={prog!r}, commands={cli.COMMANDS if prog == 'redshift' else ('build', 'compare')!r})
        except SystemExit as exc:
            print('EXIT', exc.code)
        print('HEAVY', sorted(m for m in {HEAVY!r} if m in sys.modules))
    """)
    out = run_python(code)
    assert "EXIT 0" in out.stdout and "HEAVY []" in out.stdout, out.stdout[-2000:] + out.stderr[-2000:]


def test_version_and_the_python_m_forms():
    version = importlib.metadata.version("neural-redshift-bench")
    for command in (["-m", "redshift", "--version"], ["-m", "redshift.report", "--version"]):
        out = subprocess.run([sys.executable, *command], capture_output=True, text=True, timeout=60)
        assert out.returncode == 0 and out.stdout.strip() == f"neural-redshift-bench {version}"
    help_text = subprocess.run([sys.executable, "-m", "redshift.report", "--help"], capture_output=True, text=True,
                               timeout=60).stdout
    assert "{build,compare}" in help_text and "merge" not in help_text.split("\n")[0]


def test_comma_lists_do_not_swallow_the_positional():
    args = cli.parser().parse_args(["compare", "--magnitudes", "1,10", "--depths", "1,2,3", "--activations", "relu,tanh",
                                    "--metrics", "lz,dct", "pkg.mod:make", "--bias-scale", "tied"])
    assert args.architecture == "pkg.mod:make" and args.magnitudes == (1.0, 10.0) and args.depths == (1, 2, 3)
    assert args.activations == ("relu", "tanh") and args.metrics == ("lz", "dct") and args.bias_scale is None
    assert cli.given_settings(args) == {"bias_scale": None, "magnitudes": (1.0, 10.0), "depths": (1, 2, 3),
                                        "activations": ("relu", "tanh"), "metrics": ("lz", "dct")}


@pytest.mark.parametrize("argv, message", [
    (["build", "--samples", "0"], "redshift build: error: argument --samples: expected an integer >= 1, got 0"),
    (["build", "--bias-scale", "-1"], "argument --bias-scale: expected a non-negative finite number, got '-1'"),
    (["compare", "x:y", "--scheme", "glorot"], "argument --scheme: invalid choice: 'glorot'"),
    (["compare"], "the following arguments are required: architecture"),
    (["merge", "a.json"], "the following arguments are required: -o/--output"),
    (["frobnicate"], "argument command: invalid choice: 'frobnicate'"),
])
def test_usage_errors_are_one_line(argv, message, capsys):
    with pytest.raises(SystemExit) as info:
        cli.main(argv)
    err = capsys.readouterr().err.strip()
    assert info.value.code == 2 and message in err and "\n" not in err


def test_unknown_section_is_one_line(capsys, tmp_path):
    assert cli.main(["build", "--sections", "claims,nosuch", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("redshift build: error: --sections: unknown report section 'nosuch'") and "\n" not in err


def test_a_missing_matplotlib_is_one_line_naming_the_extra(tmp_path):
    """matplotlib made unimportable (sys.modules entry None): --help still works; build and compare say
    in one line what to install."""
    code = textwrap.dedent("""
        import sys
        sys.modules["matplotlib"] = None
        from redshift.cli import main
        try:
            main(["build", "--help"])
        except SystemExit as exc:
            print("HELP EXIT", exc.code)
        print("BUILD", main(["build", "--sections", "claims"]))
        print("COMPARE", main(["compare", "examples.fourier_features:fourier_relu"]))
    """)
    out = run_python(code, cwd=tmp_path)
    assert "HELP EXIT 0" in out.stdout and "BUILD 2" in out.stdout and "COMPARE 2" in out.stdout, out.stdout + out.stderr
    assert out.stderr.strip().splitlines() == [
        f"redshift {c}: error: {c} draws figures with matplotlib, which is not installed: "
        f"pip install 'neural-redshift-bench[report]'" for c in ("build", "compare")]


FAILING_CASES = """
claims:
  - id: ramp-above-noise
    kind: less
    a: {function: white_noise}
    b: {function: linear}
    samples: 8
    resolution: 16
    metrics:
      dct: {min_ratio: 2.0}
"""


def test_build_run_claims_passes_pytests_exit_status(tmp_path, monkeypatch, capsys):
    pytest.importorskip("matplotlib")
    (tmp_path / "cases").mkdir()
    (tmp_path / "cases" / "mine.yaml").write_text(FAILING_CASES)
    monkeypatch.chdir(tmp_path)
    results = tmp_path / "reports" / "results.json"
    status = cli.main(["build", "--run-claims", "--sections", "claims", "--out", str(tmp_path / "report"),
                       "--results-json", str(results), "--quiet"])
    assert status == 1  # pytest's: a claim failed; the report is built all the same
    document = json.loads(results.read_text())
    assert [c["status"] for c in document["claims"]] == ["FAIL"]
    assert "ramp-above-noise" in (tmp_path / "report" / "index.md").read_text()
