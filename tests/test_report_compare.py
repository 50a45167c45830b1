"""Comparing a new architecture (redshift compare / python -m redshift.report compare): YAML entries and
factories as network / module subjects measured through the zoo's Measurer, one-line errors before
the zoo is measured, the comparison outputs, and the --fail-if gate."""
import json
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("matplotlib")

from matplotlib.image import imread  # noqa: E402

from redshift.claims.measure import Measurer  # noqa: E402
from redshift.report.__main__ import main  # noqa: E402
from redshift.report.architecture import ArchitectureError, load_architecture  # noqa: E402
from redshift.report.compare import ConditionError, compare_report, measure_architecture, parse_condition  # noqa: E402
from redshift.report.sections import heatmap_figures  # noqa: E402
from redshift.report.sweep import Sweep, SweepSettings, run_sweep  # noqa: E402

SMALL = SweepSettings(samples=4, resolution=24, width=8, magnitudes=(1.0, 10.0), depths=(1, 2),
                      activations=("relu", "tanh"), metrics=("fourier", "dct", "lz"), zoo_depth=2)
SMALL_OPTIONS = ["--samples", "4", "--resolution", "24", "--width", "8", "--magnitudes", "1,10", "--depths", "1,2",
                 "--activations", "relu,tanh", "--metrics", "fourier,dct,lz", "--zoo-depth", "2"]

USER_MODULE = (Path(__file__).parent / "user_nets.py").read_text()
NAME = "user_arch_report_tests"


@pytest.fixture(scope="module")
def user_module(tmp_path_factory):
    folder = tmp_path_factory.mktemp("user")
    (folder / f"{NAME}.py").write_text(USER_MODULE)
    with pytest.MonkeyPatch.context() as mp:
        mp.syspath_prepend(str(folder))
        yield NAME


@pytest.fixture(scope="module")
def zoo(tmp_path_factory):
    path = tmp_path_factory.mktemp("zoo") / "sweep.json"
    run_sweep(SMALL, show_progress=False).write(path)
    return path


def measure(architecture, zoo_path):
    zoo = Sweep.read(zoo_path)
    return measure_architecture(architecture, zoo, Measurer(zoo.settings.seed, "cpu"), show_progress=False)


def test_factory_cells_are_module_subjects(user_module):
    arch = load_architecture(f"{user_module}:tanh_mlp", SMALL)
    subject = arch.subject(2, 10.0)
    assert subject.source == "module" and arch.takes_depth
    assert subject.mapping == {"factory": f"{user_module}:tanh_mlp", "kwargs": {"depth": 2}, "input_dim": 2,
                               "weights": {"scheme": "glorot_uniform", "scale": 10.0, "bias_scale": 1.0}, "init": "redraw"}
    assert subject.label == f"{user_module}:tanh_mlp(depth=2)-glorot_uniform(10)"
    own = load_architecture(f"{user_module}:fixed_depth", SMALL, own_init=True)
    assert not own.takes_depth and own.subject(None, None).label == f"{user_module}:fixed_depth-own_init"


@pytest.mark.parametrize("factory, message", [
    ("two_outputs", "maps a [64, 2] input batch to [64, 2]; expected [64, 1] or [64]"),
    ("factory_raises", "the factory raised ValueError: bad hyper-parameter"),
    ("missing", "has no callable 'missing'"),
])
def test_bad_factories_get_a_one_line_error(user_module, factory, message):
    with pytest.raises(ArchitectureError) as info:
        load_architecture(f"{user_module}:{factory}", SMALL).check(24, 4)
    text = str(info.value)
    assert message in text and "\n" not in text and text.startswith(f"{user_module}:{factory}: ")


@pytest.mark.parametrize("text, message", [
    ("no_such_module_xyz:make", "cannot import 'no_such_module_xyz' (ModuleNotFoundError"),
    ("just_a_name", "expected an import path 'package.module:factory' or a YAML file"),
])
def test_bad_import_paths(text, message):
    with pytest.raises(ArchitectureError) as info:
        load_architecture(text, SMALL)
    assert message in str(info.value) and "\n" not in str(info.value)


def test_bad_yaml_entry_names_file_and_field(tmp_path):
    path = tmp_path / "mine.yaml"
    path.write_text("activation: tanhh\n")
    with pytest.raises(ArchitectureError, match=r"mine.yaml: field 'activation': unknown value 'tanhh' \(allowed:"):
        load_architecture(str(path), SMALL)
    path.write_text("weights: {scale: 1e-3}\n")
    with pytest.raises(ArchitectureError, match=r"mine.yaml: field 'weights.scale'.*write 1.0e-3"):
        load_architecture(str(path), SMALL)
    path.write_text("- a list\n")
    with pytest.raises(ArchitectureError, match="expected a mapping of network settings"):
        load_architecture(str(path), SMALL)


def test_yaml_entry_equal_to_a_zoo_architecture_lands_on_it(zoo, tmp_path):
    path = tmp_path / "plain_tanh.yaml"
    path.write_text("activation: tanh\n")
    comparison = measure(load_architecture(str(path), SMALL), zoo)
    for m in SMALL.magnitudes:  # same canonical spec, so the same networks and numbers as the zoo
        cell, zoo_cell = comparison.cells.record("plain_tanh", 2, m), comparison.zoo.record("tanh", 2, m)
        assert cell["metrics"] == zoo_cell["metrics"] and cell["spec"] == zoo_cell["spec"]
    compare_report(comparison, tmp_path / "out", str(zoo))
    nearest = json.loads((tmp_path / "out" / "compare.json").read_text())["nearest"][0]
    assert nearest == {"candidate": "tanh (depth 2)", "architecture": "tanh", "distance": 0.0}
    assert parse_condition("nearest == tanh", SMALL, False).evaluate(comparison)[0]
    assert parse_condition("distance(tanh) <= 0", SMALL, False).evaluate(comparison)[0]


def test_non_finite_outputs_after_redrawing_are_flagged_cells(user_module, zoo):
    comparison = measure(load_architecture(f"{user_module}:exploding", SMALL), zoo)
    at_10 = comparison.cells.record(f"{user_module}:exploding", None, 10.0)["metrics"]["lz"]
    assert at_10["flagged"] >= 1  # NaN values are flagged, as the zoo's degenerate networks


def test_compare_command_on_the_shipped_example(zoo, tmp_path, capsys):
    out = tmp_path / "cmp"
    assert main(["compare", "examples.fourier_features:fourier_relu", "--zoo", str(zoo), "--out", str(out),
                 "--quiet"]) == 0
    printed = capsys.readouterr().out
    assert "nearest built-in:" in printed and "rank" in printed
    document = json.loads((out / "compare.json").read_text())
    assert document["compared_depth"] == 2 and SweepSettings.from_json(document["settings"]) == Sweep.read(zoo).settings
    assert {(c["depth"], c["magnitude"]) for c in document["cells"]} == {(d, m) for d in (1, 2) for m in (1.0, 10.0)}
    assert {c["source"] for c in document["cells"]} == {"module"}
    # its heatmap panel shows the JSON's numbers on the zoo's colour scale
    zoo_sweep = Sweep.read(zoo)
    cells = Sweep(zoo_sweep.settings, document["cells"], "", None, {})
    name = "examples.fourier_features:fourier_relu"
    grids = {m: cells.grid(name, m) for m in SMALL.metrics}
    fig = heatmap_figures(zoo_sweep, {name: (grids, SMALL.magnitudes, SMALL.depths)})["heatmap-lz.png"]
    panel = next(ax for ax in fig.axes if ax.get_title() == name)
    np.testing.assert_array_equal(panel.images[0].get_array().filled(np.nan),
                                  [[next(c for c in document["cells"] if (c["depth"], c["magnitude"]) == (d, m))
                                    ["metrics"]["lz"]["median"] for d in (1, 2)] for m in (1.0, 10.0)])
    text = (out / "index.md").read_text()
    for metric in SMALL.metrics:
        for png in (f"heatmap-{metric}.png", f"profile-{metric}.png"):
            assert f"]({png})" in text
            assert imread(out / png)[..., :3].var() > 1e-3
    assert f"| **{name}** |" in text


def test_compare_own_init_and_fixed_depth(user_module, zoo, tmp_path):
    out = tmp_path / "own"
    assert main(["compare", f"{user_module}:fixed_depth", "--own-init", "--zoo", str(zoo), "--out", str(out),
                 "--quiet", "--fail-if", "median(lz) <= 0", "--fail-if", "rank(lz, 10) < 1"]) == 0
    document = json.loads((out / "compare.json").read_text())
    assert [(c["depth"], c["magnitude"]) for c in document["cells"]] == [(None, None)]
    assert document["own_init"] and document["compared_depth"] is None
    assert document["nearest"][0]["candidate"].startswith(("mlp-", "unbiased"))


def test_fail_if_gate_passes_and_fails_with_the_numbers(user_module, zoo, tmp_path, capsys):
    arch = f"{user_module}:tanh_mlp"
    common = ["compare", arch, "--zoo", str(zoo), "--out", str(tmp_path / "gate"), "--quiet"]
    assert main([*common, "--fail-if", "nearest != tanh", "--fail-if", "rank(lz, 10) > 10",
                 "--fail-if", "median(lz, 1) >= 1000", "--fail-if", "distance(tanh) >= 1"]) == 0
    printed = capsys.readouterr().out
    assert "fail-if clear: nearest != tanh: nearest = tanh (depth " in printed
    assert "fail-if clear: rank(lz, 10) > 10: rank(lz, 10) = " in printed
    assert main([*common, "--fail-if", "median(lz, 10) >= 100", "--fail-if", "rank(lz, 10) <= 10",
                 "--fail-if", "nearest == tanh"]) == 1
    lines = [line.strip() for line in capsys.readouterr().out.splitlines() if "fail-if" in line]
    assert lines[0].startswith("fail-if clear: median(lz, 10) >= 100: median(lz, 10) = ")
    assert lines[1].startswith("fail-if TRIGGERED: rank(lz, 10) <= 10: rank(lz, 10) = ") and " of 10" in lines[1]
    assert lines[2].startswith("fail-if TRIGGERED: nearest == tanh: nearest = tanh (depth ")


@pytest.mark.parametrize("condition, message", [
    ("rank(lzz, 10) <= 3", "unknown metric 'lzz' (the zoo's: fourier, dct, lz)"),
    ("rank(lz, 3) <= 3", "magnitude 3 is not in the zoo (its magnitudes: 1, 10)"),
    ("median(lz) < 3", "median takes a metric and a weight magnitude"),
    ("nearest == reluu", "unknown architecture 'reluu' (allowed: relu, relu+ln,"),
    ("nearest < relu", "nearest compares with == or != and an architecture name"),
    ("rank(lz, 10) <= 3 4", "expected an operator"),
    ("rank(lz, 10) <= x", "expected a number after <=, got 'x'"),
    ("__import__('os') == 1", "cannot read"),
])
def test_bad_conditions_are_one_line(condition, message):
    with pytest.raises(ConditionError) as info:
        parse_condition(condition, SMALL, own_init=False)
    assert message in str(info.value) and str(info.value).startswith(f"--fail-if {condition!r}: ")


def test_problems_fail_before_the_zoo_is_measured(user_module, tmp_path, capsys):
    """A missing zoo would take a sweep: a mistyped factory or condition must fail first, in one line."""
    missing = tmp_path / "no-zoo" / "sweep.json"
    assert main(["compare", f"{user_module}:two_outputs", "--zoo", str(missing), "--quiet", *SMALL_OPTIONS]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("python -m redshift.report compare: error: ") and "\n" not in err and "expected [64, 1]" in err
    assert main(["compare", f"{user_module}:tanh_mlp", "--zoo", str(missing), "--quiet", "--fail-if", "rank(lz) < 1",
                 *SMALL_OPTIONS]) == 2
    assert "rank takes a metric and a weight magnitude" in capsys.readouterr().err
    assert not missing.exists()


def test_compare_cli_option_errors_are_one_line(user_module, zoo, capsys):
    assert main(["compare", f"{user_module}:tanh_mlp", "--zoo", str(zoo), "--samples", "8", "--quiet"]) == 2
    assert "measured with other settings (samples differ)" in capsys.readouterr().err
    for bad, message in ((["--magnitudes", "1,x"], "argument --magnitudes: expected a number, got 'x'"),
                         (["--depths", "0"], "argument --depths: expected an integer >= 1, got 0"),
                         (["--activations", "relu,swoosh"], "argument --activations: unknown value 'swoosh'"),
                         (["--metrics", "lz,"], "argument --metrics: expected a comma list without empty items")):
        with pytest.raises(SystemExit) as info:
            main(["compare", f"{user_module}:tanh_mlp", *bad])
        err = capsys.readouterr().err.strip()
        assert info.value.code == 2 and message in err and "\n" not in err
