"""Unit tests for redshift.networks: the batched sampler against the per-network torch.nn oracle,
chunking, seeding, weight distributions, spec validation, labels and the input grid."""
import dataclasses
import math

import pytest
import torch
import torch.nn.functional as F
import yaml

from redshift.networks import (
    ACTIVATIONS, NetworkSpec, Parameters, WeightSpec, evaluate, grid_points, reference_module,
    sample_functions, sample_grid, sample_parameters,
)
from redshift.core import FieldError
from redshift.networks.parameters import half_plane_frequencies

SEED = 1234


def tensors(params: Parameters) -> list[torch.Tensor]:
    """All parameter tensors in field order."""
    out = []
    for f in dataclasses.fields(params):
        value = getattr(params, f.name)
        out.extend(value if isinstance(value, tuple) else [value])
    return out


def relative_error(y: torch.Tensor, reference: torch.Tensor) -> float:
    return ((y - reference).abs().max() / reference.abs().max().clamp(min=1.0)).item()


# --- batched forward == per-network torch.nn oracle ------------------------------------------

ORACLE_SPECS = [
    *(NetworkSpec(activation=name, width=16, depth=3, weights=WeightSpec(scale=2.0)) for name in ACTIVATIONS),
    NetworkSpec(activation="tanh", width=8, depth=1),
    NetworkSpec(activation="gelu", width=48, depth=5, weights=WeightSpec("uniform", 0.3, None)),
    NetworkSpec(activation="sine", width=16, depth=4, layer_norm=True, weights=WeightSpec(scale=5.0)),
    NetworkSpec(activation="gaussian", width=16, depth=3, layer_norm=True, ln_gain=2.5),
    NetworkSpec(activation="tanh", width=16, depth=4, residual="activation", weights=WeightSpec(scale=3.0)),
    NetworkSpec(activation="relu", width=16, depth=4, residual="layer"),
    NetworkSpec(activation="tanh", input_dim=4, width=4, depth=3, residual="layer"),
    NetworkSpec(activation="relu", width=16, depth=3, gated=True, weights=WeightSpec("normal", 0.5)),
    NetworkSpec(activation="selu", width=16, depth=3, gated=True, residual="activation", layer_norm=True),
    NetworkSpec(activation="swish", width=16, depth=3, prefactor=3.0, weights=WeightSpec("fan_in_normal", 1.5)),
    NetworkSpec(activation="tanh", input_dim=3, width=12, depth=2, weights=WeightSpec(bias_scale=0.0)),
    NetworkSpec(family="unbiased", max_frequency=6, weights=WeightSpec(scale=0.5)),
]


def test_oracle_labels_are_unique():
    labels = [spec.label() for spec in ORACLE_SPECS]
    assert len(set(labels)) == len(labels), labels


@pytest.mark.parametrize("spec", ORACLE_SPECS, ids=NetworkSpec.label)
def test_batched_matches_reference_modules(spec):
    params = sample_parameters(spec, 3, SEED)
    inputs = grid_points(9 if spec.input_dim <= 2 else 4, spec.input_dim)
    y = evaluate(spec, params, inputs)
    assert y.shape == (3, len(inputs)) and y.dtype == torch.float64
    for i in range(3):
        with torch.no_grad():
            reference = reference_module(spec, params, i)(inputs)
        assert reference.shape == (len(inputs), 1)
        error = relative_error(y[i], reference[:, 0])
        assert error <= 1e-10, f"network {i}: max error {error:.3g} relative to max(1, |y|)"
    assert y.std(dim=1).min() > 1e-6, "degenerate (constant) outputs make this comparison vacuous"


def test_networks_in_a_batch_are_independent():
    spec = NetworkSpec(activation="tanh", width=16, depth=3)
    params = sample_parameters(spec, 3, SEED)
    inputs = grid_points(8)
    before = evaluate(spec, params, inputs)
    params.weights[1][1, 0, 0] += 1.0
    after = evaluate(spec, params, inputs)
    assert torch.equal(before[[0, 2]], after[[0, 2]])
    assert not torch.equal(before[1], after[1])


def test_activation_formulas():
    x = torch.linspace(-6, 6, 241, dtype=torch.float64)
    sigmoid = 1 / (1 + torch.exp(-x))
    alpha, lam = 1.6732632423543772, 1.0507009873554805
    expected = {
        "relu": torch.where(x > 0, x, 0.0),
        "leaky_relu": torch.where(x > 0, x, 0.01 * x),
        "elu": torch.where(x > 0, x, torch.expm1(x)),
        "gelu": 0.5 * x * (1 + torch.erf(x / math.sqrt(2))),
        "swish": x * sigmoid,
        "silu": x * sigmoid,
        "selu": lam * torch.where(x > 0, x, alpha * torch.expm1(x)),
        "softplus": torch.log1p(torch.exp(x)),
        "tanh": (torch.exp(x) - torch.exp(-x)) / (torch.exp(x) + torch.exp(-x)),
        "sigmoid": sigmoid,
        "gaussian": torch.exp(-x**2),
        "sine": torch.sin(x),
        "identity": x,
    }
    assert list(ACTIVATIONS) == list(expected)
    for name, want in expected.items():
        torch.testing.assert_close(ACTIVATIONS[name](x), want, rtol=1e-12, atol=1e-14, msg=name)


# --- the unbiased (Fourier-parametrised) family ----------------------------------------------

def test_half_plane_frequencies():
    K = 5
    k = half_plane_frequencies(K)
    pairs = {(int(a), int(b)) for a, b in k}
    disk = [(a, b) for a in range(-K, K + 1) for b in range(-K, K + 1) if 0 < a * a + b * b <= K * K]
    assert len(pairs) == len(k) == len(disk) // 2
    assert all((-a, -b) not in pairs for a, b in pairs)
    assert all((a, b) in pairs or (-a, -b) in pairs for a, b in disk)


def test_unbiased_family_is_a_random_fourier_series():
    spec = NetworkSpec(family="unbiased", max_frequency=7, weights=WeightSpec(scale=0.5))
    params = sample_parameters(spec, 4, SEED)
    x = grid_points(12)
    k = half_plane_frequencies(7)
    a, phi = params.out_weight[..., 0], params.biases[0]  # [n, K]
    expected = (a[:, None, :] * torch.sin(math.pi * (x @ k.T)[None] + phi[:, None, :])).sum(-1)
    torch.testing.assert_close(evaluate(spec, params, x), expected, rtol=1e-12, atol=1e-12)
    assert a.abs().max() <= 0.5 and a.abs().max() > 0.45
    assert phi.min() >= 0 and phi.max() < 2 * math.pi
    assert torch.equal(params.out_bias, torch.zeros(4, 1, dtype=torch.float64))
    g = torch.Generator().manual_seed(SEED)  # draw order: amplitudes, then phases, network by network
    assert torch.equal(a[0], 0.5 * (2 * torch.rand(len(k), generator=g, dtype=torch.float64) - 1))
    assert torch.equal(phi[0], 2 * math.pi * torch.rand(len(k), generator=g, dtype=torch.float64))


# --- chunking, seeding, dtype, device --------------------------------------------------------

@pytest.mark.parametrize("spec", [
    NetworkSpec(),
    NetworkSpec(activation="tanh", width=16, depth=3, layer_norm=True, gated=True, residual="activation"),
    NetworkSpec(family="unbiased", max_frequency=8),
], ids=NetworkSpec.label)
@pytest.mark.parametrize("dtype", [torch.float64, torch.float32], ids=str)
def test_chunked_evaluation_equals_unchunked_exactly(spec, dtype):
    params = sample_parameters(spec, 4, SEED, dtype)
    inputs = torch.rand(1003, 2, generator=torch.Generator().manual_seed(0), dtype=torch.float64) * 2 - 1
    whole = evaluate(spec, params, inputs, chunk_points=len(inputs))
    assert torch.equal(evaluate(spec, params, inputs, chunk_points=7), whole)
    assert torch.equal(evaluate(spec, params, inputs, max_chunk_bytes=1), whole)  # smallest chunks
    assert torch.equal(evaluate(spec, params, inputs), whole)


def test_same_seed_same_networks_different_seed_different():
    spec = NetworkSpec(width=16, depth=2, gated=True)
    first, again, other = (sample_parameters(spec, 3, s) for s in (SEED, SEED, SEED + 1))
    assert all(torch.equal(a, b) for a, b in zip(tensors(first), tensors(again)))
    assert not any(torch.equal(a, b) for a, b in zip(tensors(first), tensors(other)))


def test_draw_order_is_the_documented_one():
    """Networks one after another; per hidden layer W, b, then W', b'; then the output layer."""
    spec = NetworkSpec(width=5, depth=2, gated=True, weights=WeightSpec(scale=3.0, bias_scale=0.5))
    params = sample_parameters(spec, 2, SEED)
    g = torch.Generator().manual_seed(SEED)

    def uniform(*shape):
        return 2 * torch.rand(shape, generator=g, dtype=torch.float64) - 1

    for i in range(2):
        for layer, fan_in in enumerate((2, 5)):
            bound = 3.0 * math.sqrt(6 / (fan_in + 5))
            for weights, biases in ((params.weights, params.biases), (params.gate_weights, params.gate_biases)):
                torch.testing.assert_close(weights[layer][i], bound * uniform(fan_in, 5), rtol=1e-15, atol=0)
                torch.testing.assert_close(biases[layer][i], 0.5 * uniform(5), rtol=1e-15, atol=0)
        torch.testing.assert_close(params.out_weight[i], 3.0 * math.sqrt(6 / 6) * uniform(5, 1), rtol=1e-15, atol=0)
        torch.testing.assert_close(params.out_bias[i], 0.5 * uniform(1), rtol=1e-15, atol=0)


def test_first_networks_do_not_depend_on_batch_size():
    spec = NetworkSpec(activation="tanh", width=32, depth=3)
    small, large = sample_parameters(spec, 3, SEED), sample_parameters(spec, 8, SEED)
    assert all(torch.equal(a, b[:3]) for a, b in zip(tensors(small), tensors(large)))
    inputs = grid_points(16)
    assert torch.equal(evaluate(spec, small, inputs), evaluate(spec, large, inputs)[:3])


@pytest.mark.parametrize("spec", [NetworkSpec(activation="tanh"), NetworkSpec(activation="relu", layer_norm=True)],
                         ids=NetworkSpec.label)
def test_float32_matches_float64(spec):
    p32, p64 = sample_parameters(spec, 4, SEED, torch.float32), sample_parameters(spec, 4, SEED)
    assert all(a.dtype == torch.float32 and torch.equal(a, b.float()) for a, b in zip(tensors(p32), tensors(p64)))
    y32 = sample_grid(spec, 4, SEED, 16, dtype=torch.float32)
    y64 = sample_grid(spec, 4, SEED, 16)
    assert y32.dtype == torch.float32
    error = relative_error(y32.double(), y64)
    assert 0 < error < 1e-5, f"float32 vs float64 relative error {error:.3g}"


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_matches_cpu():
    spec = NetworkSpec(activation="tanh", depth=4, gated=True, weights=WeightSpec(scale=2.0))
    cpu = sample_grid(spec, 8, SEED, 32)
    cuda = sample_grid(spec, 8, SEED, 32, device="cuda")
    assert cuda.device.type == "cuda"
    assert relative_error(cuda.cpu(), cpu) < 1e-10


def test_evaluate_rejects_mismatched_inputs_and_parameters():
    spec = NetworkSpec(width=8, depth=2)
    params = sample_parameters(spec, 2, SEED)
    with pytest.raises(ValueError, match=r"\[P, 2\]"):
        evaluate(spec, params, torch.zeros(5, 3))
    with pytest.raises(ValueError, match="do not match"):
        evaluate(spec.replace(depth=3), params, torch.zeros(5, 2))
    with pytest.raises(ValueError, match="input_dim 2"):
        sample_grid(spec.replace(input_dim=3), 2, SEED, 4)


# --- weight distributions --------------------------------------------------------------------

@pytest.mark.parametrize("scheme", ["glorot_uniform", "uniform", "normal", "fan_in_normal"])
def test_weight_statistics(scheme):
    scale, bias_scale = 2.5, 0.7
    params = sample_parameters(NetworkSpec(width=64, depth=2, weights=WeightSpec(scheme, scale, bias_scale)), 64, SEED)
    layers = {  # name: (samples, fan_in, fan_out)
        "first": (params.weights[0], 2, 64),
        "hidden": (params.weights[1], 64, 64),
        "output": (params.out_weight, 64, 1),
    }
    biases = torch.cat([params.biases[0], params.biases[1], params.out_bias], dim=1)
    for name, (w, fan_in, fan_out) in layers.items():
        if scheme in ("glorot_uniform", "uniform"):
            bound = scale * math.sqrt(6 / (fan_in + fan_out)) if scheme == "glorot_uniform" else scale
            assert w.abs().max() <= bound and w.abs().max() > 0.99 * bound, (name, w.abs().max().item(), bound)
            std = bound / math.sqrt(3)
        else:
            std = scale / math.sqrt(fan_in) if scheme == "fan_in_normal" else scale
        assert abs(w.std().item() / std - 1) < 0.04, (name, w.std().item(), std)
        assert abs(w.mean().item()) < 0.05 * std, (name, w.mean().item())
    if scheme in ("glorot_uniform", "uniform"):
        assert biases.abs().max() <= bias_scale and biases.abs().max() > 0.99 * bias_scale
    else:
        assert abs(biases.std().item() / bias_scale - 1) < 0.04, biases.std().item()


@pytest.mark.parametrize("scheme", ["glorot_uniform", "uniform", "normal", "fan_in_normal"])
def test_scale_multiplies_weights_exactly(scheme):
    c = 7.0
    spec = NetworkSpec(width=16, depth=2, gated=True, weights=WeightSpec(scheme, 1.0, None))
    tied_1, tied_c = (sample_parameters(spec.replace(**{"weights.scale": s}), 2, SEED) for s in (1.0, c))
    assert all(torch.equal(c * a, b) for a, b in zip(tensors(tied_1), tensors(tied_c)))
    fixed_1, fixed_c = (sample_parameters(spec.replace(**{"weights.scale": s, "weights.bias_scale": 0.5}), 2, SEED)
                        for s in (1.0, c))
    assert all(torch.equal(c * a, b) for a, b in zip(fixed_1.weights, fixed_c.weights))
    assert all(torch.equal(a, b) for a, b in zip(fixed_1.biases, fixed_c.biases))
    assert torch.equal(fixed_1.biases[0], tied_1.biases[0] * 0.5)


def test_zero_bias_relu_is_positively_homogeneous_and_gelu_is_not():
    c, depth, inputs = 7.0, 3, grid_points(12)
    outputs = {}
    for activation in ("relu", "gelu"):
        for scale in (1.0, c):
            weights = WeightSpec(scale=scale, bias_scale=0)
            spec = NetworkSpec(activation=activation, width=32, depth=depth, weights=weights)
            outputs[activation, scale] = sample_functions(spec, 3, SEED, inputs)
    assert relative_error(outputs["relu", c], c ** (depth + 1) * outputs["relu", 1.0]) < 1e-12
    assert relative_error(outputs["gelu", c], c ** (depth + 1) * outputs["gelu", 1.0]) > 1e-3


# --- specs: validation, replace, labels ------------------------------------------------------

BAD_MAPPINGS = {  # id: (mapping, field, fragments the message must contain)
    "unknown_key": ({"widht": 64}, "widht", ["unknown key", "width", "depth", "weights"]),
    "unknown_weights_key": ({"weights": {"sclae": 2.0}}, "weights.sclae", ["unknown key", "scale, bias_scale"]),
    "unknown_activation": ({"activation": "relu6"}, "activation", ["'relu6'", "relu, leaky_relu, elu, gelu", "sine"]),
    "unknown_residual": ({"residual": "skip"}, "residual", ["none, activation, layer"]),
    "unknown_family": ({"family": "cnn"}, "family", ["mlp, unbiased"]),
    "bool_for_int": ({"depth": True}, "depth", ["integer", "bool True"]),
    "float_for_int": ({"width": 64.0}, "width", ["integer", "float 64.0"]),
    "yaml_exponent_string": ({"weights": {"scale": "1e-3"}}, "weights.scale", ["'1e-3'", "write 1.0e-3"]),
    "yaml_exponent_string_plus": ({"prefactor": "2e3"}, "prefactor", ["write 2.0e+3"]),
    "text_for_float": ({"ln_gain": "big"}, "ln_gain", ["number", "'big'"]),
    "negative_width": ({"width": -3}, "width", [">= 1", "-3"]),
    "zero_depth": ({"depth": 0}, "depth", [">= 1", "got 0"]),
    "negative_scale": ({"weights": {"scale": -1.0}}, "weights.scale", [">= 0", "-1.0"]),
    "negative_bias_scale": ({"weights": {"bias_scale": -0.1}}, "weights.bias_scale", [">= 0"]),
    "nan_prefactor": ({"prefactor": float("nan")}, "prefactor", ["finite"]),
    "string_for_bool": ({"layer_norm": "yes"}, "layer_norm", ["true or false"]),
    "weights_not_mapping": ({"weights": 3}, "weights", ["mapping", "scheme, scale, bias_scale"]),
    "unbiased_depth": ({"family": "unbiased", "depth": 6}, "depth", ["unbiased", "allowed: 3"]),
    "unbiased_gated": ({"family": "unbiased", "gated": True}, "gated", ["unbiased"]),
    "unbiased_input_dim": ({"family": "unbiased", "input_dim": 3}, "input_dim", ["needs input_dim 2"]),
}


@pytest.mark.parametrize("mapping, field, fragments", BAD_MAPPINGS.values(), ids=BAD_MAPPINGS)
def test_from_mapping_rejects_bad_input(mapping, field, fragments):
    with pytest.raises(FieldError) as info:
        NetworkSpec.from_mapping(mapping)
    assert info.value.field == field
    assert str(info.value).startswith(f"field '{field}': ")
    for fragment in fragments:
        assert fragment in info.value.message, (fragment, info.value.message)


def test_spec_error_message_format():
    with pytest.raises(FieldError) as info:
        NetworkSpec.from_mapping({"weights": {"scheme": "foo"}})
    assert str(info.value) == ("field 'weights.scheme': unknown value 'foo' "
                               "(allowed: glorot_uniform, uniform, normal, fan_in_normal)")


def test_direct_construction_is_validated():
    with pytest.raises(FieldError, match="'width'"):
        NetworkSpec(width="64")
    with pytest.raises(FieldError, match="'scale'"):  # fields are named relative to the spec constructed
        WeightSpec(scale=-2)
    with pytest.raises(FieldError, match="expected a mapping of family, activation"):
        NetworkSpec.from_mapping([("width", 3)])


def test_from_mapping_reads_yaml_and_round_trips():
    spec = NetworkSpec.from_mapping(yaml.safe_load(
        "activation: sine\ndepth: 6\nlayer_norm: yes\nweights: {scheme: uniform, scale: 1.0e-3, bias_scale: null}"))
    assert spec == NetworkSpec(activation="sine", depth=6, layer_norm=True, weights=WeightSpec("uniform", 0.001, None))
    assert isinstance(spec.weights.scale, float)
    assert NetworkSpec.from_mapping(dataclasses.asdict(spec)) == spec
    with pytest.raises(FieldError, match="write 1.0e-3"):
        NetworkSpec.from_mapping(yaml.safe_load("weights: {scale: 1e-3}"))


def test_replace():
    spec = NetworkSpec(activation="tanh", depth=6)
    changed = spec.replace(**{"weights.scale": 10, "layer_norm": True})
    assert changed == NetworkSpec(activation="tanh", depth=6, layer_norm=True, weights=WeightSpec(scale=10.0))
    assert spec.replace(weights=WeightSpec("normal")).weights.scheme == "normal"
    for changes, field in [({"depth": 0}, "depth"), ({"weights.foo": 1.0}, "weights.foo"), ({"bogus": 1}, "bogus"),
                           ({"bogus.scale": 1}, "bogus.scale"), ({"weights.scale": "1e-3"}, "weights.scale")]:
        with pytest.raises(FieldError) as info:
            spec.replace(**changes)
        assert info.value.field == field


@pytest.mark.parametrize("spec, label", [
    (NetworkSpec(), "mlp-relu-d3-w64-glorot_uniform(1)"),
    (NetworkSpec(activation="tanh", depth=6, layer_norm=True, weights=WeightSpec(scale=10)),
     "mlp-tanh-d6-w64-ln-glorot_uniform(10)"),
    (NetworkSpec(activation="gelu", input_dim=3, layer_norm=True, ln_gain=2.0, residual="layer", gated=True,
                 prefactor=0.5, weights=WeightSpec("uniform", 13.894954943731374, None)),
     "mlp-gelu-d3-w64-in3-ln(2)-res_layer-gate-pf(0.5)-uniform(13.894954943731374)-b(tied)"),
    (NetworkSpec(residual="activation", weights=WeightSpec("fan_in_normal", 1e-5, 0)),
     "mlp-relu-d3-w64-res_act-fan_in_normal(1e-05)-b(0)"),
    (NetworkSpec(family="unbiased"), "unbiased-k32-uniform(1)"),
    (NetworkSpec(family="unbiased", max_frequency=16, weights=WeightSpec(scale=3)), "unbiased-k16-uniform(3)"),
    (NetworkSpec(ln_gain=3.0, max_frequency=8), "mlp-relu-d3-w64-glorot_uniform(1)"),  # unused settings
])
def test_label(spec, label):
    assert spec.label() == label
    assert NetworkSpec.from_mapping(dataclasses.asdict(spec)).label() == label


# --- input grid ------------------------------------------------------------------------------

def test_grid_points_are_row_major_with_x1_along_rows():
    expected = torch.tensor([[-1, -1], [-1, 0], [-1, 1], [0, -1], [0, 0], [0, 1], [1, -1], [1, 0], [1, 1]],
                            dtype=torch.float64)
    assert torch.equal(grid_points(3), expected)
    axis = torch.linspace(-1, 1, 5, dtype=torch.float64)
    grid = grid_points(5).reshape(5, 5, 2)
    assert torch.equal(grid[..., 0], axis[:, None].expand(5, 5))  # x1 = row index
    assert torch.equal(grid[..., 1], axis[None, :].expand(5, 5))
    cube = grid_points(4, dim=3, low=0.0, high=3.0, dtype=torch.float32)
    assert cube.shape == (64, 3) and cube.dtype == torch.float32
    assert cube[1].tolist() == [0, 0, 1] and cube[4].tolist() == [0, 1, 0] and cube[-1].tolist() == [3, 3, 3]


def test_sample_grid_is_sample_functions_on_the_grid():
    spec = NetworkSpec(activation="tanh", width=16, depth=2)
    images = sample_grid(spec, 2, SEED, 8)
    flat = sample_functions(spec, 2, SEED, grid_points(8))
    assert images.shape == (2, 8, 8)
    assert torch.equal(images.reshape(2, 64), flat)


# --- one draw per subject, stacked configurations, per-run activations ----------------------

from redshift.networks import sample_grid_many, sample_parameters_many, stack_key  # noqa: E402
from redshift.networks import parameters as parameters_module  # noqa: E402
from redshift.networks.evaluation import INPLACE_ACTIVATIONS  # noqa: E402
from redshift.networks.sampling import stacked_batches  # noqa: E402

DRAW_SPECS = [
    NetworkSpec(width=5, depth=2, gated=True, weights=WeightSpec(scale=3.0, bias_scale=0.5)),
    NetworkSpec(width=64, depth=7, weights=WeightSpec(scale=0.215)),
    NetworkSpec(width=16, depth=1, input_dim=3, weights=WeightSpec("uniform", 46.4, None)),
    NetworkSpec(width=8, depth=3, residual="layer", weights=WeightSpec("uniform", 2.0, 0.0)),
    NetworkSpec(width=8, depth=3, weights=WeightSpec("normal", 2.0, 0.3)),
    NetworkSpec(width=8, depth=2, gated=True, weights=WeightSpec("fan_in_normal", 1.5, None)),
]


def per_network_oracle(spec: NetworkSpec, n: int, seed: int) -> list[torch.Tensor]:
    """The documented draw order, one draw per layer and network (the pre-batching implementation)."""
    g = torch.Generator().manual_seed(seed)
    if spec.family == "unbiased":
        nets = [parameters_module._draw_unbiased(spec, g) for _ in range(n)]
    else:
        nets = [parameters_module._draw_mlp(spec, g) for _ in range(n)]
    out = []  # in field_order
    for k in range(6):
        if k >= 4:
            out.append(torch.stack([net[k] for net in nets]))
        else:
            out.extend(torch.stack(layer) for layer in zip(*[net[k] for net in nets]))
    return out


def field_order(params: Parameters) -> list[torch.Tensor]:
    """weights..., biases..., gate weights..., gate biases..., out weight, out bias (as the oracle)."""
    return [*params.weights, *params.biases, *params.gate_weights, *params.gate_biases, params.out_weight,
            params.out_bias]


@pytest.mark.parametrize("spec", DRAW_SPECS + [NetworkSpec(family="unbiased", max_frequency=5,
                                                            weights=WeightSpec(scale=0.5))], ids=NetworkSpec.label)
@pytest.mark.parametrize("n", [1, 3])
def test_one_draw_per_subject_is_the_per_layer_draw_order(spec, n):
    """Uniform schemes draw all n networks in one torch.rand call: the same numbers, bit for bit."""
    expected = per_network_oracle(spec, n, SEED)
    got = field_order(sample_parameters(spec, n, SEED))
    assert len(got) == len(expected)
    for a, b in zip(got, expected):
        assert a.shape == b.shape and a.dtype == b.dtype and a.is_contiguous() and torch.equal(a, b)


def test_sample_parameters_many_stacks_each_request_as_drawn_alone():
    specs = [NetworkSpec(activation=a, width=16, depth=3, weights=WeightSpec(s, m, b))
             for a, s, m, b in (("relu", "glorot_uniform", 0.1, 1.0), ("sine", "uniform", 10.0, None),
                                ("tanh", "normal", 2.0, 0.5))]
    requests = [(spec, n, seed) for spec, n, seed in zip(specs, (2, 1, 3), (5, 6, 7))]
    for dtype in (torch.float64, torch.float32):
        many = sample_parameters_many(requests, dtype)
        alone = [sample_parameters(*request, dtype) for request in requests]
        assert many.n == 6
        for got, *parts in zip(tensors(many), *(tensors(p) for p in alone)):
            assert torch.equal(got, torch.cat(parts))
    with pytest.raises(ValueError, match="positive"):
        sample_parameters_many([(specs[0], 0, 1)])


def test_stack_key_ignores_activation_and_weights_only():
    base = NetworkSpec(activation="relu", depth=4)
    assert stack_key(base) == stack_key(base.replace(activation="sine", weights=WeightSpec("uniform", 9.0, None)))
    for change in ({"depth": 5}, {"width": 32}, {"input_dim": 3}, {"layer_norm": True}, {"residual": "layer"},
                   {"gated": True}, {"prefactor": 2.0}):
        assert stack_key(base.replace(**change)) != stack_key(base), change
    assert stack_key(base.replace(ln_gain=3.0)) == stack_key(base)  # unused without layer norm
    unbiased = NetworkSpec(family="unbiased")
    assert stack_key(unbiased) == stack_key(unbiased.replace(**{"weights.scale": 4.0}))
    assert stack_key(unbiased) != stack_key(unbiased.replace(max_frequency=8))


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32], ids=str)
def test_inplace_activations_are_the_activations_bit_for_bit(dtype):
    x = torch.randn(7, 128, 9, generator=torch.Generator().manual_seed(0), dtype=dtype) * 6
    for name, inplace in INPLACE_ACTIVATIONS.items():
        want = ACTIVATIONS[name](x)
        whole = x.clone()
        inplace(whole)
        assert torch.equal(whole, want), name
        runs = x.clone()
        for start, stop in ((0, 1), (1, 4), (4, 7)):  # runs of networks, as forward applies them
            inplace(runs[start:stop])
        assert torch.equal(runs, want), name


MIXED_SPECS = [
    NetworkSpec(width=64, depth=3),
    NetworkSpec(width=16, depth=2, layer_norm=True, ln_gain=2.0),
    NetworkSpec(width=16, depth=3, residual="activation"),
    NetworkSpec(width=16, depth=3, residual="layer", gated=True),
    NetworkSpec(width=8, depth=2, prefactor=3.0),
]


@pytest.mark.parametrize("spec", MIXED_SPECS, ids=NetworkSpec.label)
def test_per_run_activations_equal_each_configuration_alone(spec):
    """Networks of several activations and weight scales in one forward: each run of networks gives
    the numbers its own configuration gives alone (float64, CPU: bit for bit)."""
    names = ["relu", "gelu", "sine", "softplus", "gaussian"]
    requests = [(spec.replace(activation=a, **{"weights.scale": 1.0 + i}), 1 + i % 2, 100 + i) for i, a in
                enumerate(names)]
    params = sample_parameters_many(requests)
    inputs = grid_points(24)
    runs = [(s.activation, n) for s, n, _ in requests]
    together = evaluate(spec, params, inputs, activations=runs)
    start = 0
    for s, n, seed in requests:
        alone = evaluate(s, sample_parameters(s, n, seed), inputs)
        assert torch.equal(together[start:start + n], alone), s.label()
        start += n
    assert torch.equal(evaluate(spec, params, inputs, activations=runs, network_block=2), together)
    assert torch.equal(evaluate(spec, params, inputs, activations=runs, chunk_points=64, network_block=1), together)


def test_evaluate_rejects_bad_activation_runs():
    spec = NetworkSpec(width=8, depth=2)
    params = sample_parameters(spec, 3, SEED)
    with pytest.raises(ValueError, match="all 3 networks"):
        evaluate(spec, params, grid_points(4), activations=[("relu", 2)])
    with pytest.raises(ValueError, match="all 3 networks"):
        evaluate(spec, params, grid_points(4), activations=[("relu6", 3)])
    unbiased = NetworkSpec(family="unbiased", max_frequency=3)
    with pytest.raises(ValueError, match="sine"):
        evaluate(unbiased, sample_parameters(unbiased, 1, SEED), grid_points(4), activations=[("relu", 1)])


GRID_REQUESTS = [
    *((NetworkSpec(activation=a, depth=d, weights=WeightSpec(s, m, b)), n, 1000 + i)
      for i, (a, d, (s, m, b), n) in enumerate([
          ("relu", 1, ("glorot_uniform", 0.1, 1.0), 4), ("gelu", 3, ("glorot_uniform", 2.15, 1.0), 4),
          ("sine", 3, ("uniform", 46.4, None), 1), ("relu", 3, ("uniform", 0.1, None), 1),
          ("tanh", 1, ("glorot_uniform", 10.0, 1.0), 2), ("gaussian", 3, ("glorot_uniform", 100.0, 1.0), 4),
          ("sigmoid", 3, ("glorot_uniform", 1.0, 1.0), 4), ("swish", 3, ("glorot_uniform", 1.0, 1.0), 4),
          ("selu", 3, ("uniform", 3.0, None), 2)])),
    (NetworkSpec(activation="tanh", depth=3, gated=True, weights=WeightSpec(scale=4.64)), 2, 7),
    (NetworkSpec(activation="sine", depth=3, layer_norm=True), 2, 8),
    (NetworkSpec(family="unbiased", max_frequency=12, weights=WeightSpec("uniform", 4.64)), 3, 9),
    (NetworkSpec(family="unbiased", max_frequency=12, weights=WeightSpec("uniform", 1.0)), 1, 10),
]


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32], ids=str)
def test_sample_grid_many_is_sample_grid_of_each_request(dtype):
    many = sample_grid_many(GRID_REQUESTS, 32, dtype=dtype)
    for (spec, n, seed), y in zip(GRID_REQUESTS, many):
        assert y.shape == (n, 32, 32) and y.dtype == dtype
        assert torch.equal(y, sample_grid(spec, n, seed, 32, dtype=dtype)), spec.label()
    small = sample_grid_many(GRID_REQUESTS, 32, dtype=dtype, max_networks=3)  # more, smaller batches
    assert all(torch.equal(a, b) for a, b in zip(small, many))


def test_stacked_batches_group_by_shape_then_activation():
    batches = stacked_batches(GRID_REQUESTS, 32 * 32)
    assert sorted(i for b in batches for i in b) == list(range(len(GRID_REQUESTS)))
    for batch in batches:
        assert len({stack_key(GRID_REQUESTS[i][0]) for i in batch}) == 1
        activations = [GRID_REQUESTS[i][0].hidden_activation for i in batch]
        assert activations == sorted(activations, key=activations.index)  # each activation one run
    depth3 = [b for b in batches if stack_key(GRID_REQUESTS[b[0]][0]) == stack_key(NetworkSpec(depth=3))]
    assert len(depth3) == 1 and len(depth3[0]) == 7  # every plain depth-3 request in one forward
    limited = stacked_batches(GRID_REQUESTS, 32 * 32, max_networks=4)
    assert all(sum(GRID_REQUESTS[i][1] for i in b) <= 4 for b in limited)
    assert len(stacked_batches(GRID_REQUESTS, 32 * 32, max_bytes=1)) == len(GRID_REQUESTS)  # one request each
