"""Random functions of a user's module on the grid (the ``module`` source, and ``compare`` of a factory).

``init: redraw``: the module is built once, under torch seed derive_seed(seed, "module"), and n
parameter sets are drawn from ``torch.Generator().manual_seed(seed)``, float64 on the CPU, network
after network, parameters in ``named_parameters()`` order (as redshift.networks.parameters draws an MLP):

    name ends in "bias"          b = bias_scale * u                    (bias_scale None: tied to scale)
    any other, >= 2 dimensions   W = scale * (base(fan_in, fan_out) * u)
    any other parameter, every buffer: the module's own value (norm gains, fixed features)

with u ~ U(-1, 1) for the uniform schemes and N(0, 1) for the normal ones, base = sqrt(6 / (fan_in +
fan_out)) for glorot_uniform, 1 / sqrt(fan_in) for fan_in_normal, 1 otherwise, and the fans as
``torch.nn.init`` computes them (dims 1 and 0, times the receptive field). So the first k of n
networks equal the k drawn with n = k, and scale c gives exactly c times the weights of scale 1.
``init: own``: sample i is the factory re-run under torch seed derive_seed(seed, str(i)), with its
own parameters and buffers.

The n networks run batched: ``torch.func.vmap`` over ``torch.func.functional_call`` with the stacked
parameters, POINT_CHUNK grid points at a time. A module that vmap cannot trace (data-dependent
control flow, ``.item()``, in-place buffer updates) runs network by network instead, with a
RuntimeWarning saying so. Modules run in eval mode.
"""
import functools
import math
import warnings

import torch
from torch import Tensor, nn
from torch.func import functional_call, stack_module_state, vmap

from redshift.core import FieldError, torch_dtype
from redshift.modules.factory import build, one_line
from redshift.modules.spec import ModuleSpec
from redshift.networks.grid import grid_points
from redshift.networks.parameters import scheme_scale, unit_draw
from redshift.networks.spec import WeightSpec
from redshift.seeding import derive_seed

POINT_CHUNK = 1024  # grid points per batched forward: bounds the [n, chunk, width] activations
CHECK_RESOLUTION = 8  # the collection-time check runs one forward on an 8 x 8 grid batch


def is_bias(name: str) -> bool:
    return name.rsplit(".", 1)[-1].endswith("bias")


def fans(shape: tuple[int, ...]) -> tuple[int, int]:
    """(fan_in, fan_out) of a weight as torch.nn.init: dims 1 and 0, times the receptive field (dims 2:)."""
    receptive = math.prod(shape[2:])
    return shape[1] * receptive, shape[0] * receptive


def redrawn_parameters(module: nn.Module, weights: WeightSpec, n: int, seed: int) -> dict[str, Tensor]:
    """Stacked [n, ...] float64 parameters drawn from ``weights`` (module doc), on the CPU."""
    bias_scale = weights.scale if weights.bias_scale is None else weights.bias_scale
    generator = torch.Generator().manual_seed(seed)
    own = dict(module.named_parameters())
    drawn: dict[str, list[Tensor]] = {name: [] for name in own}
    for _ in range(n):
        for name, p in own.items():
            shape = tuple(p.shape)
            if is_bias(name):
                value = bias_scale * unit_draw(weights.scheme, shape, generator)
            elif p.ndim >= 2:
                base = scheme_scale(weights.scheme, *fans(shape))
                value = weights.scale * (base * unit_draw(weights.scheme, shape, generator))
            else:
                value = p.detach().cpu().double()
            drawn[name].append(value)
    return {name: torch.stack(values) for name, values in drawn.items()}


def own_state(spec: ModuleSpec, n: int, seed: int, dtype: torch.dtype) -> tuple[nn.Module, dict[str, Tensor]]:
    """The factory re-run under torch seed derive_seed(seed, str(i)) for sample i: its parameters and
    buffers, stacked [n, ...], and the first module (the structure functional_call runs)."""
    modules = [build(spec, derive_seed(seed, str(i)), dtype) for i in range(n)]
    params, buffers = stack_module_state(modules)
    return modules[0], {k: v.detach() for k, v in {**params, **buffers}.items()}


def shape_problem(y, points: int, input_dim: int) -> str | None:
    """Why a forward's output on a [points, input_dim] batch is not [points, 1] or [points] (None: it is)."""
    if isinstance(y, Tensor) and tuple(y.shape) in ((points, 1), (points,)):
        return None
    shape = list(y.shape) if isinstance(y, Tensor) else type(y).__name__
    return f"maps a [{points}, {input_dim}] input batch to {shape}; expected [{points}, 1] or [{points}]"


_LOOPED: set[str] = set()  # factories already warned about


def _looped(module: nn.Module, state: dict[str, Tensor], x: Tensor, n: int) -> Tensor:
    """[n, P]: one functional_call per network."""
    rows = []
    for i in range(n):
        try:  # no torch.no_grad() here: the caller holds it
            y = functional_call(module, {k: v[i] for k, v in state.items()}, (x,))
        except Exception as exc:
            raise FieldError("factory", f"forward on a [{x.shape[0]}, {x.shape[1]}] input batch raised "
                                        f"{one_line(exc)}") from None
        problem = shape_problem(y, x.shape[0], x.shape[1])
        if problem:
            raise FieldError("factory", problem)
        rows.append(y.reshape(-1))
    return torch.stack(rows)


def evaluate(module: nn.Module, state: dict[str, Tensor], x: Tensor, n: int, name: str) -> Tensor:
    """[n, P] outputs of the module under each of the n stacked parameter (and buffer) sets ``state``
    at the points x [P, input_dim]: vmap over functional_call, else a loop (module doc); ``name`` (the
    factory) is what the loop's warning names."""
    def one(p, points):
        return functional_call(module, p, (points,))

    with torch.no_grad():
        if not state:  # nothing to re-draw: n copies of one function
            return module(x).reshape(1, -1).expand(n, -1).clone()
        try:
            chunks = [vmap(one, in_dims=(0, None))(state, x[i:i + POINT_CHUNK]) for i in range(0, x.shape[0], POINT_CHUNK)]
        except Exception as exc:
            if name not in _LOOPED:
                _LOOPED.add(name)
                warnings.warn(f"{name}: torch.func.vmap cannot run the module ({one_line(exc)}); "
                              f"its networks run one at a time", RuntimeWarning, stacklevel=2)
            return _looped(module, state, x, n)
    problem = shape_problem(chunks[0][0], chunks[0].shape[1], x.shape[1])
    if problem:
        raise FieldError("factory", problem)
    return torch.cat([c.reshape(n, -1) for c in chunks], dim=1)


def sample_functions(spec: ModuleSpec, n: int, seed: int, inputs: Tensor, *, device: str = "cpu",
                     dtype: torch.dtype = torch.float64) -> Tensor:
    """[n, P] outputs of n networks of the spec drawn with ``seed`` at inputs [P, input_dim], on ``device``."""
    if spec.init == "own":
        module, state = own_state(spec, n, seed, dtype)
    else:
        module = build(spec, derive_seed(seed, "module"), dtype)
        state = redrawn_parameters(module, spec.weights, n, seed)
    module = module.to(device)
    state = {k: v.to(device=device, dtype=dtype) for k, v in state.items()}
    return evaluate(module, state, inputs.to(device=device, dtype=dtype), n, spec.factory)


def sample_grid(spec: ModuleSpec, n: int, seed: int, resolution: int = 64, *, device: str = "cpu",
                dtype: torch.dtype = torch.float64) -> Tensor:
    """[n, resolution, resolution] outputs on grid_points(resolution) in [-1, 1]^2; [:, i, j] is at (x_i, x_j)."""
    if spec.input_dim != 2:
        raise ValueError(f"sample_grid needs input_dim 2, got {spec.input_dim} ({spec.label()})")
    y = sample_functions(spec, n, seed, grid_points(resolution, 2), device=device, dtype=dtype)
    return y.reshape(n, resolution, resolution)


@functools.lru_cache(maxsize=256)
def _problem(factory: str, kwargs, dtype: str) -> FieldError | None:
    """What ``check`` finds for one module (None: nothing)."""
    try:
        module = build(ModuleSpec(factory=factory, kwargs=kwargs), derive_seed(0, "check"), torch_dtype(dtype))
    except FieldError as exc:
        return exc
    x = grid_points(CHECK_RESOLUTION, 2, dtype=torch_dtype(dtype))
    try:
        with torch.no_grad():
            y = module(x)
    except Exception as exc:
        return FieldError("factory", f"forward on a [{x.shape[0]}, 2] input batch raised {one_line(exc)} "
                                     f"(the module must map [P, 2] to [P, 1])")
    problem = shape_problem(y, x.shape[0], 2)
    if problem:
        return FieldError("factory", problem)
    bad = int((~torch.isfinite(y)).sum())
    if bad:
        return FieldError("factory", f"returns non-finite values at {bad} of the {x.shape[0]} points of an "
                                     f"{CHECK_RESOLUTION} x {CHECK_RESOLUTION} grid batch, with its own parameters")
    return None


def check(spec: ModuleSpec, dtype: str = "float64") -> None:
    """One build and one forward on a CHECK_RESOLUTION^2 batch of the grid (2 inputs) with the module's
    own parameters; raises a one-line FieldError (field ``factory``) for a bad import path, a factory
    that raises or returns no module, a forward that raises, a wrong output shape or non-finite
    outputs. Cached per (factory, kwargs, dtype): the subjects of a sweep share one check."""
    problem = _problem(spec.factory, spec.kwargs, dtype)
    if problem is not None:
        raise problem
