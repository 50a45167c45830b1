"""The ``module`` source (redshift.modules): canonical specs, parameter re-drawing, own initialisation,
batched evaluation and its fallback, and one-line errors of the collection check."""
import importlib
import json
from pathlib import Path

import numpy as np
import pytest
import torch

from redshift.claims.measure import Measurer
from redshift.claims.model import Subject
from redshift.core import SOURCES, FieldError, Settings
from redshift.metrics import METRICS
from redshift.modules import sampling
from redshift.modules.spec import Items, ModuleSpec
from redshift.networks import NetworkSpec, WeightSpec, grid_points, sample_grid
from redshift.parse import parse
from redshift.seeding import derive_seed

SOURCE = SOURCES["module"]

USER_MODULE = (Path(__file__).parent / "user_nets.py").read_text()
NAME = "user_nets_for_module_tests"


@pytest.fixture(scope="module")
def nets(tmp_path_factory):
    folder = tmp_path_factory.mktemp("user")
    (folder / f"{NAME}.py").write_text(USER_MODULE)
    with pytest.MonkeyPatch.context() as mp:
        mp.syspath_prepend(str(folder))
        yield NAME


def spec(nets, factory="tanh_mlp", **fields) -> ModuleSpec:
    return ModuleSpec(factory=f"{nets}:{factory}", **fields)


def test_kwargs_are_canonical_and_hashable():
    a = parse(ModuleSpec, {"factory": "pkg.mod:make", "kwargs": {"width": 8, "depth": 2, "sizes": [1, 2],
                                                                  "extra": {"b": 1, "a": 2.0}}})
    b = parse(ModuleSpec, {"factory": "pkg.mod:make", "kwargs": {"extra": {"a": 2.0, "b": 1}, "sizes": [1, 2],
                                                                  "depth": 2, "width": 8}})
    assert a == b and hash(a) == hash(b) and isinstance(a.kwargs, Items)
    assert a.kwargs == (("depth", 2), ("extra", (("a", 2.0), ("b", 1))), ("sizes", (1, 2)), ("width", 8))
    mapping = a.to_mapping()
    assert mapping["kwargs"] == {"depth": 2, "extra": {"a": 2.0, "b": 1}, "sizes": [1, 2], "width": 8}
    assert parse(ModuleSpec, mapping) == a  # the YAML form round-trips
    json.dumps(mapping)  # plain data
    assert Subject("module", a, "x").canonical == Subject("module", b, "y").canonical
    assert a.label() == "pkg.mod:make(depth=2,extra={a=2,b=1},sizes=[1,2],width=8)-glorot_uniform(1)"
    own = ModuleSpec(factory="pkg.mod:make", init="own")
    assert own.label() == "pkg.mod:make-own_init"
    tied = ModuleSpec(factory="pkg.mod:make", weights=WeightSpec("normal", 10.0, None))
    assert tied.label() == "pkg.mod:make-normal(10)-b(tied)"


@pytest.mark.parametrize("mapping, field, message", [
    ({"factory": "no colon"}, "factory", "expected an import path 'package.module:callable'"),
    ({"factory": "pkg:"}, "factory", "expected an import path"),
    ({"kwargs": [1, 2]}, "kwargs", "expected a mapping of keyword arguments"),
    ({"kwargs": {"x": float("nan")}}, "kwargs.x", "expected a finite number"),
    ({"kwargs": {"x": {1: 2}}}, "kwargs.x", "keys must be text"),
    ({"init": "mine"}, "init", "unknown value 'mine' (allowed: redraw, own)"),
    ({"init": "own", "weights": {"scale": 3.0}}, "weights", "does not apply to init 'own'"),
    ({"weights": {"scale": "1e-3"}}, "weights.scale", "write 1.0e-3"),
    ({"depth": 3}, "depth", "unknown key (allowed: factory, kwargs, input_dim, weights, init)"),
])
def test_bad_specs_name_the_field(mapping, field, message):
    with pytest.raises(FieldError) as info:
        parse(ModuleSpec, mapping)
    assert info.value.field == field and message in info.value.message


def test_source_merges_settings_and_sweeps_reach_kwargs():
    base = {"factory": "pkg.mod:make", "kwargs": {"width": 16, "depth": 2}, "weights": {"scale": 3.0}}
    got = SOURCE.parse({"kwargs": {"depth": 5}, "weights": {"bias_scale": 0.0}}, base)
    assert got.kwargs == (("depth", 5), ("width", 16)) and got.weights == WeightSpec("glorot_uniform", 3.0, 0.0)
    assert SOURCE.parse({"kwargs": {}}, {}).factory is None  # a settings mapping alone needs no factory
    with pytest.raises(FieldError, match="required: the import path"):
        SOURCE.check(SOURCE.parse({}, {}), 4, Settings(16))
    with pytest.raises(FieldError) as info:
        SOURCE.check(SOURCE.parse({"factory": "pkg.mod:make", "input_dim": 3}, {}), 4, Settings(16))
    assert info.value.field == "input_dim"


def test_redrawn_weights_follow_the_scheme(nets):
    module = sampling.build(spec(nets), 0, torch.float64)
    params = sampling.redrawn_parameters(module, WeightSpec("glorot_uniform", 10.0, 1.0), 5, seed=7)
    bound = 10.0 * np.sqrt(6 / (8 + 8))  # Glorot x alpha for the 8 -> 8 layer
    w = params["body.2.weight"]
    assert w.shape == (5, 8, 8) and w.dtype == torch.float64
    assert w.abs().max() <= bound and w.abs().max() > 0.8 * bound
    assert params["body.0.bias"].abs().max() <= 1.0 and params["body.0.bias"].abs().max() > 0.5  # U(-1, 1)
    again = sampling.redrawn_parameters(module, WeightSpec("glorot_uniform", 10.0, 1.0), 3, seed=7)
    for name in params:  # deterministic, and the first k of n networks equal the k drawn with n = k
        torch.testing.assert_close(again[name], params[name][:3], rtol=0, atol=0)
    tied = sampling.redrawn_parameters(module, WeightSpec("glorot_uniform", 10.0, None), 5, seed=7)
    torch.testing.assert_close(tied["body.0.bias"], 10.0 * params["body.0.bias"])  # b(tied): scales with alpha
    assert "gain" not in params  # buffers keep the module's value


def test_batched_evaluation_equals_plain_modules(nets):
    module = sampling.build(spec(nets), 0, torch.float64)
    params = sampling.redrawn_parameters(module, WeightSpec("glorot_uniform", 3.0, 1.0), 4, seed=1)
    x = grid_points(24)
    y = sampling.evaluate(module, params, x, 4, "t")
    for i in range(4):
        plain = sampling.build(spec(nets), 0, torch.float64)
        plain.load_state_dict({**plain.state_dict(), **{k: v[i] for k, v in params.items()}})
        torch.testing.assert_close(y[i], plain(x).reshape(-1).detach(), rtol=1e-12, atol=1e-12)


def test_redrawn_module_matches_the_suites_sampler_in_distribution(nets):
    """A plain tanh MLP as a module and as a NetworkSpec: the same function distribution (alpha 10, depth 3)."""
    module_spec = spec(nets, kwargs={"depth": 3}, weights=WeightSpec("glorot_uniform", 10.0, 1.0))
    network = NetworkSpec(activation="tanh", depth=3, width=8, weights=WeightSpec("glorot_uniform", 10.0, 1.0))
    n, resolution = 48, 32
    ours = sampling.sample_grid(module_spec, n, 11, resolution)
    theirs = sample_grid(network, n, 11, resolution)
    for metric in ("fourier", "lz"):
        a, b = METRICS[metric](ours).median(), METRICS[metric](theirs).median()
        assert 0.85 < float(a / b) < 1.18, (metric, float(a), float(b))
    low = sampling.sample_grid(spec(nets, kwargs={"depth": 3}, weights=WeightSpec("glorot_uniform", 0.5, 1.0)),
                               n, 11, resolution)
    assert float(METRICS["lz"](low).median()) < 0.7 * float(METRICS["lz"](ours).median())  # the scale reaches the weights


def test_own_init_reruns_the_factory_per_sample(nets):
    state = torch.random.get_rng_state()
    y = sampling.sample_grid(spec(nets, init="own"), 3, 5, 24)
    assert torch.equal(torch.random.get_rng_state(), state)  # the global RNG is left as it was
    torch.manual_seed(derive_seed(5, "1"))
    expected = importlib.import_module(nets).tanh_mlp().double()(grid_points(24)).reshape(24, 24).detach()
    torch.testing.assert_close(y[1], expected, rtol=1e-12, atol=1e-12)
    assert not torch.equal(y[0], y[1])


def test_sampling_is_deterministic_and_buffers_are_kept(nets):
    s = spec(nets, kwargs={"gain": 3.0})
    a = SOURCE.sample(s, 4, 9, Settings(16))
    assert torch.equal(a, SOURCE.sample(s, 4, 9, Settings(16)))
    assert not torch.equal(a, SOURCE.sample(s, 4, 10, Settings(16)))
    torch.testing.assert_close(a, 3.0 * SOURCE.sample(spec(nets), 4, 9, Settings(16)), rtol=1e-12, atol=1e-12)
    single = SOURCE.sample(s, 4, 9, Settings(16, "float32"))
    assert single.dtype == torch.float32 and single.shape == (4, 16, 16)
    nested = ModuleSpec(factory=f"{nets}:Models.create", kwargs={"width": 5})  # an attribute path
    assert SOURCE.sample(nested, 2, 0, Settings(8)).shape == (2, 8, 8)


def test_a_module_vmap_cannot_trace_runs_one_network_at_a_time(nets):
    s = spec(nets, "branching", weights=WeightSpec("glorot_uniform", 2.0, 1.0))
    with pytest.warns(RuntimeWarning, match="torch.func.vmap cannot run the module.*one at a time"):
        y = sampling.sample_grid(s, 3, 4, 16)
    module = sampling.build(s, derive_seed(4, "module"), torch.float64)
    params = sampling.redrawn_parameters(module, s.weights, 3, 4)
    for i in range(3):
        module.load_state_dict({k: v[i] for k, v in params.items()})
        torch.testing.assert_close(y[i].reshape(-1), module(grid_points(16)).reshape(-1).detach())


@pytest.mark.parametrize("factory, message", [
    ("three_inputs", "forward on a [64, 2] input batch raised RuntimeError: "),
    ("two_outputs", "maps a [64, 2] input batch to [64, 2]; expected [64, 1] or [64]"),
    ("raises", "forward on a [64, 2] input batch raised RuntimeError: boom in forward"),
    ("non_finite", "returns non-finite values at 64 of the 64 points of an 8 x 8 grid batch"),
    ("factory_raises", "the factory raised ValueError: bad hyper-parameter"),
    ("not_a_module", "the factory returned int, expected a torch.nn.Module"),
    ("missing", "has no callable 'missing'"),
])
def test_the_collection_check_gives_one_line(nets, factory, message):
    with pytest.raises(FieldError) as info:
        SOURCE.check(spec(nets, factory), 4, Settings(24))
    text = str(info.value)
    assert info.value.field == "factory" and message in text and "\n" not in text


def test_bad_import_path_and_unexpected_kwargs(nets):
    with pytest.raises(FieldError, match=r"cannot import 'no_such_module_xyz' \(ModuleNotFoundError"):
        SOURCE.check(ModuleSpec(factory="no_such_module_xyz:make"), 4, Settings(24))
    with pytest.raises(FieldError, match="the factory raised TypeError: .*unexpected keyword argument 'colour'"):
        SOURCE.check(spec(nets, kwargs={"colour": "red"}), 4, Settings(24))


def test_non_finite_outputs_after_redrawing_are_flagged(nets):
    s = spec(nets, "exploding", weights=WeightSpec("glorot_uniform", 10.0, 1.0))
    SOURCE.check(s, 4, Settings(24))  # fine with its own small weights...
    values = SOURCE.measure(SOURCE.sample(s, 4, 0, Settings(24)), "lz")  # ...flagged (NaN) at magnitude 10
    assert np.isnan(values).sum() >= 1


def test_sampling_a_wrong_shape_is_one_line(nets):
    with pytest.raises(FieldError, match=r"maps a \[256, 2\] input batch to \[256, 2\]"):
        sampling.sample_grid(spec(nets, "two_outputs"), 2, 0, 16)


def test_stacks_with_network_outputs_in_one_metric_call(nets):
    """Grid outputs of module and network subjects have one shape: the Measurer stacks them."""
    measurer = Measurer(1, "cpu")
    module = Subject("module", spec(nets), "m")
    network = Subject("network", NetworkSpec(activation="tanh", depth=2, width=8), "n")
    together = measurer.measure_many([module, network], ["lz"], 6, 16, "float64")
    alone = Measurer(1, "cpu").measure(module, "lz", 6, 16, "float64")
    np.testing.assert_array_equal(together[module, "lz"].values, alone.values)
