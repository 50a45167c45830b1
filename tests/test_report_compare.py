"""Comparing a new architecture (redshift.report compare): YAML entries and factories, parameter
re-drawing, own initialisation, one-line errors, and the comparison outputs."""
import json

import numpy as np
import pytest
import torch
from torch import nn

pytest.importorskip("matplotlib")

from matplotlib.image import imread  # noqa: E402

from redshift.networks import NetworkSpec, WeightSpec, grid_points, sample_grid  # noqa: E402
from redshift.report.__main__ import main  # noqa: E402
from redshift.report.architecture import ArchitectureError, load_architecture  # noqa: E402
from redshift.report.compare import compare_report, measure_architecture  # noqa: E402
from redshift.report.sections import heatmap_figures  # noqa: E402
from redshift.report.sweep import Sweep, SweepSettings, run_sweep  # noqa: E402
from redshift.seeding import derive_seed  # noqa: E402
from redshift.metrics import METRICS  # noqa: E402

SMALL = SweepSettings(samples=4, resolution=24, width=8, magnitudes=(1.0, 10.0), depths=(1, 2),
                      activations=("relu", "tanh"), metrics=("fourier", "dct", "lz"), zoo_depth=2)

USER_MODULE = '''
import torch
from torch import nn


def tanh_mlp(depth=2, width=8):
    layers, fan_in = [], 2
    for _ in range(depth):
        layers += [nn.Linear(fan_in, width), nn.Tanh()]
        fan_in = width
    return nn.Sequential(*layers, nn.Linear(fan_in, 1))


def fixed_depth():
    return nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 1))


def three_inputs():
    return nn.Sequential(nn.Linear(3, 8), nn.ReLU(), nn.Linear(8, 1))


def two_outputs():
    return nn.Linear(2, 2)


class Raises(nn.Module):
    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(2, 1)

    def forward(self, x):
        raise RuntimeError("boom in forward")


def raises():
    return Raises()


class NonFinite(nn.Module):
    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(2, 1)

    def forward(self, x):
        return torch.log(self.linear(x) - 1e9)


def non_finite():
    return NonFinite()


class Exploding(nn.Module):
    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(2, 1)

    def forward(self, x):
        return torch.exp(100.0 * self.linear(x))


def exploding():
    return Exploding()


def factory_raises():
    raise ValueError("bad hyper-parameter")


def not_a_module():
    return 3
'''


@pytest.fixture(scope="module")
def user_module(tmp_path_factory):
    folder = tmp_path_factory.mktemp("user")
    (folder / "user_arch_report_tests.py").write_text(USER_MODULE)
    with pytest.MonkeyPatch.context() as mp:
        mp.syspath_prepend(str(folder))
        yield "user_arch_report_tests"


@pytest.fixture(scope="module")
def zoo(tmp_path_factory):
    path = tmp_path_factory.mktemp("zoo") / "sweep.json"
    run_sweep(SMALL, show_progress=False).write(path)
    return path


def test_redrawn_weights_follow_the_scheme(user_module):
    arch = load_architecture(f"{user_module}:tanh_mlp", SMALL)
    module = arch.build(2)
    params = arch.parameters(module, 10.0, 5, seed=7)
    bound = 10.0 * np.sqrt(6 / (8 + 8))  # Glorot x alpha for the 8 -> 8 layer
    w = params["2.weight"]
    assert w.shape == (5, 8, 8) and w.dtype == torch.float64
    assert w.abs().max() <= bound and w.abs().max() > 0.8 * bound
    assert params["0.bias"].abs().max() <= 1.0 and params["0.bias"].abs().max() > 0.5  # biases U(-1, 1)
    again = arch.parameters(module, 10.0, 3, seed=7)
    for name in params:  # deterministic, and the first k of n networks equal the k drawn with n = k
        torch.testing.assert_close(again[name], params[name][:3], rtol=0, atol=0)


def test_batched_evaluation_equals_plain_modules(user_module):
    arch = load_architecture(f"{user_module}:tanh_mlp", SMALL)
    module = arch.build(2)
    params = arch.parameters(module, 3.0, 4, seed=1)
    x = grid_points(24)
    y = arch.evaluate(module, params, x, "t")
    for i in range(4):
        plain = arch.build(2)
        plain.load_state_dict({k: v[i] for k, v in params.items()})
        torch.testing.assert_close(y[i], plain(x).reshape(-1).detach(), rtol=1e-12, atol=1e-12)


def test_redrawn_factory_matches_the_suites_sampler_in_distribution(user_module):
    """A plain tanh MLP as a factory and as a NetworkSpec: the same function distribution (alpha 10, depth 3)."""
    arch = load_architecture(f"{user_module}:tanh_mlp", SMALL)
    spec = NetworkSpec(activation="tanh", depth=3, width=8, weights=WeightSpec("glorot_uniform", 10.0, 1.0))
    n, resolution = 48, 32
    ours = arch.sample(3, 10.0, n, 11, resolution, "cpu")
    theirs = sample_grid(spec, n, 11, resolution)
    for metric in ("fourier", "lz"):
        a, b = METRICS[metric](ours).median(), METRICS[metric](theirs).median()
        assert 0.85 < float(a / b) < 1.18, (metric, float(a), float(b))
    low_alpha = METRICS["lz"](arch.sample(3, 0.5, n, 11, resolution, "cpu")).median()
    assert float(low_alpha) < 0.7 * float(METRICS["lz"](ours).median())  # magnitude does reach the weights


def test_own_init_reruns_the_factory_per_sample(user_module):
    arch = load_architecture(f"{user_module}:tanh_mlp", SMALL, own_init=True)
    state = torch.random.get_rng_state()
    y = arch.sample(2, None, 3, 5, 24, "cpu")
    assert torch.equal(torch.random.get_rng_state(), state)
    torch.manual_seed(derive_seed(5, "1"))
    expected = arch.factory(depth=2).double()(grid_points(24)).reshape(24, 24).detach()
    torch.testing.assert_close(y[1], expected, rtol=1e-12, atol=1e-12)
    assert not torch.equal(y[0], y[1])
    assert arch.label(2, None) == f"{user_module}:tanh_mlp-d2-own_init"


@pytest.mark.parametrize("factory, message", [
    ("three_inputs", "forward on a [576, 2] input batch raised RuntimeError: "),
    ("two_outputs", "maps a [576, 2] input batch to [576, 2]; expected [576, 1] (2 inputs, 1 output)"),
    ("raises", "forward on a [576, 2] input batch raised RuntimeError: boom in forward"),
    ("non_finite", "network 0 of 1 returned non-finite values at 576 of 576 grid points"),
    ("factory_raises", "the factory raised ValueError: bad hyper-parameter"),
    ("not_a_module", "the factory returned int, expected a torch.nn.Module"),
    ("missing", "has no callable 'missing'"),
])
def test_bad_modules_get_a_one_line_error(user_module, factory, message):
    with pytest.raises(ArchitectureError) as info:
        arch = load_architecture(f"{user_module}:{factory}", SMALL)
        arch.check(24, "cpu")
    text = str(info.value)
    assert message in text and "\n" not in text and text.startswith(f"{user_module}:{factory}")
    if "forward on" in message:
        assert text.endswith("(the module must map [P, 2] to [P, 1])")


def test_non_finite_after_redrawing_is_an_error(user_module):
    arch = load_architecture(f"{user_module}:exploding", SMALL)
    arch.check(24, "cpu")  # fine with its own small weights...
    with pytest.raises(ArchitectureError, match=r"exploding-glorot_uniform\(10\): network \d of 4 returned non-finite"):
        arch.sample(None, 10.0, 4, 0, 24, "cpu")  # ...not with magnitude 10


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
    comparison = measure_architecture(load_architecture(str(path), SMALL), Sweep.read(zoo), show_progress=False)
    for m in SMALL.magnitudes:  # same labels, so the same networks and numbers as the zoo
        assert comparison.cells.record("plain_tanh", 2, m)["metrics"] == comparison.zoo.record("tanh", 2, m)["metrics"]
    compare_report(comparison, tmp_path / "out", str(zoo))
    nearest = json.loads((tmp_path / "out" / "compare.json").read_text())["nearest"][0]
    assert nearest == {"architecture": "tanh (depth 2)", "distance": 0.0}


def test_compare_command_on_the_shipped_example(zoo, tmp_path, capsys):
    out = tmp_path / "cmp"
    assert main(["compare", "examples.fourier_features:fourier_relu", "--zoo", str(zoo), "--out", str(out),
                 "--quiet"]) == 0
    printed = capsys.readouterr().out
    assert "nearest built-in:" in printed and "rank" in printed
    document = json.loads((out / "compare.json").read_text())
    assert document["compared_depth"] == 2 and SweepSettings.from_json(document["settings"]) == Sweep.read(zoo).settings
    assert {(c["depth"], c["magnitude"]) for c in document["cells"]} == {(d, m) for d in (1, 2) for m in (1.0, 10.0)}
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


def test_compare_own_init_and_fixed_depth(user_module, zoo, tmp_path, capsys):
    out = tmp_path / "own"
    assert main(["compare", f"{user_module}:fixed_depth", "--own-init", "--zoo", str(zoo), "--out", str(out),
                 "--quiet"]) == 0
    document = json.loads((out / "compare.json").read_text())
    assert [(c["depth"], c["magnitude"]) for c in document["cells"]] == [(None, None)]
    assert document["own_init"] and document["compared_depth"] is None
    assert document["nearest"][0]["architecture"].startswith(("mlp-", "unbiased"))


def test_compare_cli_prints_one_line_errors(user_module, zoo, capsys):
    assert main(["compare", f"{user_module}:two_outputs", "--zoo", str(zoo), "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "\n" not in err and "expected [576, 1]" in err
    with pytest.raises(SystemExit, match="measured with other settings \\(samples differ\\)"):
        main(["compare", f"{user_module}:tanh_mlp", "--zoo", str(zoo), "--samples", "8", "--quiet"])
