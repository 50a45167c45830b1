"""Every benchmark case: sizes, dtypes, ids, tiers, FLOP counts, and the speed targets (issue 3).

A case's ``id`` is its history key, so it must never change for the same work: history files are
matched by ``<kernel>[<case id>-<device>]``, e.g. ``sampler[w64-d3-g256-b32-relu-float32-cpu]``.

Tiers (PyTorch operator_benchmark's short/long tags):
- correctness mode (benchmarks disabled, e.g. plain ``pytest`` / CI): only ``smoke`` cases, the
  smallest case of each kernel and variant, each run once and checked against its reference;
- timing mode (``--benchmark-enable``), ``--tier ci`` (the default): cases whose ``cost`` is under
  1.0 (about a second per call on the 2-core CPU), so ``pytest bench --benchmark-enable`` finishes in minutes;
- ``--tier full``: every case, in either mode (hours on 2 CPU cores; minutes on a GPU).
On CUDA every case counts as cheap (the whole grid takes seconds).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

from redshift.networks import NetworkSpec

DTYPES = ("float32",)
SEED = 0

# --- sampler (redshift.networks.evaluate) ------------------------------------------------------

WIDTHS = (64, 256)
DEPTHS = (3, 7)
GRIDS = (64, 256)      # resolution R of the R x R input grid
BATCHES = (32, 256)    # networks per call
#: variant name -> NetworkSpec fields; "" is the plain MLP. Names follow NetworkSpec.label().
VARIANTS = {"": {}, "ln": {"layer_norm": True}, "res_act": {"residual": "activation"},
            "res_layer": {"residual": "layer"}, "gate": {"gated": True}}
SAMPLER_FLOP_BUDGET = 60e9   # --tier ci times sampler cases up to this many FLOP per call
MEMORY_LIMIT_BYTES = 2 * 2**30


@dataclass(frozen=True)
class SamplerCase:
    """n = batch random ReLU MLPs (glorot_uniform, biases U(-1, 1)) evaluated on an R x R grid."""

    width: int
    depth: int
    grid: int
    batch: int
    variant: str = ""
    activation: str = "relu"
    dtype: str = "float32"

    @property
    def id(self) -> str:
        variant = f"-{self.variant}" if self.variant else ""
        return f"w{self.width}-d{self.depth}-g{self.grid}-b{self.batch}-{self.activation}{variant}-{self.dtype}"

    def spec(self) -> NetworkSpec:
        return NetworkSpec(activation=self.activation, width=self.width, depth=self.depth, **VARIANTS[self.variant])

    @property
    def points(self) -> int:
        return self.grid * self.grid

    @property
    def flop(self) -> int:
        """Matmul FLOP per call: 2 * n * P * (multiply-adds per point), counting the hidden layers
        (2 -> w, then (depth - 1) x (w -> w), doubled when gated) and the output layer (w -> 1).
        Activations, layer norm and residual adds are not counted (they are O(w), not O(w^2))."""
        w = self.width
        macs = 2 * w + (self.depth - 1) * w * w
        if self.variant == "gate":
            macs *= 2
        return 2 * self.batch * self.points * (macs + w)

    @property
    def smoke(self) -> bool:
        return (self.width, self.depth, self.grid, self.batch) == (64, 3, 64, 32)

    @property
    def cost(self) -> float:
        """Relative cost for the ci tier: 1.0 = the budget."""
        return self.flop / SAMPLER_FLOP_BUDGET


def _sampler_cases() -> list[SamplerCase]:
    cases = [SamplerCase(w, d, g, b, dtype=t) for t in DTYPES for w in WIDTHS for d in DEPTHS for g in GRIDS
             for b in BATCHES]
    # The variants at every width and depth, on the small grid and batch.
    cases += [SamplerCase(w, d, 64, 32, variant=v, dtype=t) for t in DTYPES for v in VARIANTS if v
              for w in WIDTHS for d in DEPTHS]
    return cases


SAMPLER_CASES = _sampler_cases()


@dataclass(frozen=True)
class MemoryCase(SamplerCase):
    """The memory check: one timed call, its peak memory asserted <= MEMORY_LIMIT_BYTES. It is in
    the ci timing tier despite its ~3 TFLOP (tens of seconds on 2 cores), never in CI's smoke set."""

    smoke = False
    cost = 0.0


MEMORY_CASES = [MemoryCase(64, 7, 256, 1024, dtype=t) for t in DTYPES]

# --- metrics --------------------------------------------------------------------------------------

INPUTS = ("random", "smooth")   # iid N(0, 1) grids / random low-frequency trigonometric polynomials
CHEBYSHEV_DEGREE = 20           # metrics.chebyshev's default D


def rfft2_flop(batch: int, h: int, w: int) -> float:
    """Conventional real 2-D FFT count: 2.5 N log2 N per real N-point transform (half of the
    complex 5 N log2 N)."""
    n = h * w
    return 2.5 * batch * n * math.log2(n)


@dataclass(frozen=True)
class GridCase:
    """``batch`` grids of ``grid`` x ``grid`` values, ``input`` kind, in ``dtype``."""

    input: str
    grid: int
    batch: int
    dtype: str = "float32"

    @property
    def id(self) -> str:
        return f"{self.input}-g{self.grid}-b{self.batch}-{self.dtype}"

    @property
    def values(self) -> int:
        return self.batch * self.grid * self.grid

    @property
    def smoke(self) -> bool:
        return (self.grid, self.batch) == (64, 32)

    cost = 0.0  # every metric case fits the ci tier


@dataclass(frozen=True)
class BitsCase:
    """``batch`` sequences of ``length`` bits: iid fair bits (random) or the median bits of smooth grids."""

    input: str
    length: int
    batch: int

    @property
    def id(self) -> str:
        return f"{self.input}-bits{self.length}-b{self.batch}"

    @property
    def grid(self) -> int:
        return math.isqrt(self.length)

    @property
    def smoke(self) -> bool:
        return (self.length, self.batch) == (4096, 32)

    cost = 0.0


GRID_CASES = [GridCase(i, g, b, t) for t in DTYPES for i in INPUTS for g in GRIDS for b in BATCHES]
BITS_CASES = [BitsCase(i, g * g, b) for i in INPUTS for g in GRIDS for b in BATCHES]


def metric_flop(kernel: str, case: GridCase) -> float | None:
    """Explicit FLOP count per call of a grid metric (None: no meaningful count, e.g. LZ, zlib).

    fourier / fourier_quadrant: one rfft2 plus the [.., 2] weight matmul (2 x 2 x coefficients).
    dct: C_H y C_W^T, 2 H W (H + W) per grid, plus the weight matmul.
    chebyshev: P_H y P_W^T with P [D+1, n]: 2 (D+1) H W + 2 (D+1)^2 W per grid, plus the weights.
    The degenerate guard (a few passes over the data) is not counted.
    """
    b, n = case.batch, case.grid
    coeffs = n * (n // 2 + 1)
    if kernel in ("fourier", "fourier_quadrant"):
        return rfft2_flop(b, n, n) + 4 * b * coeffs
    if kernel == "dct":
        return b * (2 * n * n * (n + n) + 4 * n * n)
    if kernel == "chebyshev":
        d = CHEBYSHEV_DEGREE + 1
        return b * (2 * d * n * n + 2 * d * d * n + 4 * d * d)
    return None


# --- speed targets (issue 3), checked in the terminal summary, never asserted -------------------


@dataclass(frozen=True)
class Target:
    """``key``'s extra_info[``field``] must be ``op`` ``bound`` (``op`` is ">=" or "<=")."""

    key: str
    field: str
    op: str
    bound: float
    what: str
    devices: tuple[str, ...] = field(default=("cpu",))

    def met(self, value: float) -> bool:
        return value >= self.bound if self.op == ">=" else value <= self.bound


TARGETS = [
    Target("sampler[w64-d3-g256-b32-relu-float32-cpu]", "pct_peak", ">=", 70, "% of fp32 matmul rate"),
    Target("sampler[w64-d3-g256-b32-relu-float32-cpu]", "speedup", ">=", 15, "x per-network torch.nn loop"),
    Target("fourier_quadrant[random-g256-b256-float32-cpu]", "speedup", ">=", 50, "x per-network bin loop"),
    Target("fourier_quadrant[smooth-g256-b256-float32-cpu]", "speedup", ">=", 50, "x per-network bin loop"),
    *(Target(f"{k}[{i}-g256-b256-float32-cpu]", "x_fft", "<=", 3, "x one batched rfft2 (float64)")
      for k in ("fourier", "dct", "chebyshev") for i in INPUTS),
    *(Target(f"lz76[random-bits{n}-b256-cpu]", f, "<=" if f == "x_zlib" else ">=", v, what)
      for n in (4096, 65536)
      for f, v, what in (("x_zlib", 10, "x zlib.compress(level 9) of the packed bits"),
                         ("speedup", 100, "x per-sequence Python LZ76 loop"))),
    Target("sampler_memory[w64-d7-g256-b1024-relu-float32-cpu]", "peak_mib", "<=", 2048, "MiB peak memory"),
    Target("sampler[w256-d7-g256-b256-relu-float32-cuda]", "pct_peak", ">=", 50, "% of the GPU's fp32 matmul rate",
           devices=("cuda",)),
]
