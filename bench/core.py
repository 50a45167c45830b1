"""Shared benchmark machinery: the synchronising timer, round selection, reference timing, rates,
peak matmul rate, peak memory, inputs and tolerance checks (NVIDIA Fuser's benchmarks/python/core.py).

Timing protocol (``Bench.run``): the kernel is wrapped so that it ends with
``torch.cuda.synchronize()`` on CUDA (pytest-benchmark's wall-clock timer would otherwise see only
the kernel launches); it is called once untimed to estimate its cost, then warm-up rounds (1 on CPU,
3 on CUDA, counting that call), then ``rounds`` timed rounds of one call each, by default as many as
fit in ``--benchmark-max-time`` but never fewer than ``MIN_ROUNDS`` (so that the history compare can
reach p < 0.002, see bench.history). With benchmarks disabled the kernel runs exactly once.
"""
from __future__ import annotations

import ctypes
import gc
import math
import statistics
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch

#: Fewest timed rounds: a two-sided Mann-Whitney U test on 7 vs 7 rounds can reach p = 5.8e-4,
#: on 6 vs 6 only 2.2e-3 (> 0.002, the asv threshold); 8 leaves a margin.
MIN_ROUNDS = 8
MAX_ROUNDS = 200
WARMUP_ROUNDS = {"cpu": 1, "cuda": 3}
#: Seconds a reference may take per round before it is timed on a subset of the items.
REFERENCE_BUDGET_S = 1.0
REFERENCE_ROUNDS = 3
#: Per-dtype tolerances of a kernel against its plain reference, relative to max(1, max |reference|).
TOLERANCES = {torch.float32: 1e-4, torch.float64: 1e-9}
MATMUL_SIZE = {"cpu": 2048, "cuda": 8192}
DTYPE = {"float32": torch.float32, "float64": torch.float64}


def synchronize(device: str) -> None:
    if device == "cuda":
        torch.cuda.synchronize()


def synchronised(fn: Callable[[], Any], device: str) -> Callable[[], Any]:
    """fn followed by a device synchronisation, so that a wall-clock timer sees the kernels finish."""
    if device != "cuda":
        return fn

    def target():
        out = fn()
        torch.cuda.synchronize()
        return out

    return target


def median_time(fn: Callable[[], Any], device: str, rounds: int, warmup_rounds: int = 1) -> float:
    """Median wall-clock seconds of ``rounds`` synchronised calls, after ``warmup_rounds`` calls."""
    target = synchronised(fn, device)
    synchronize(device)
    for _ in range(warmup_rounds):
        target()
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        target()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def matmul_peak_gflops(device: str, rounds: int = 20) -> float:
    """This machine's fp32 matmul rate: an n x n @ n x n float32 product into a preallocated output
    (n = 2048 on CPU, 8192 on CUDA, torch's default fp32 precision, i.e. no TF32), 2 n^3 FLOP over
    the median time of ``rounds`` calls after 3 warm-up calls."""
    n = MATMUL_SIZE[device]
    gen = torch.Generator(device=device).manual_seed(0)
    a = torch.randn(n, n, generator=gen, device=device)
    b = torch.randn(n, n, generator=gen, device=device)
    c = torch.empty(n, n, device=device)
    seconds = median_time(lambda: torch.mm(a, b, out=c), device, rounds, warmup_rounds=3)
    return 2 * n**3 / seconds / 1e9


@dataclass(frozen=True)
class Reference:
    """A plain reference's estimated time for all ``items``, and how it was measured."""

    name: str
    seconds: float
    method: str


class Bench:
    """The per-test helper: times the kernel with pytest-benchmark, times references and baselines
    in the same run, and fills ``benchmark.extra_info`` (and the session's summary rows)."""

    def __init__(self, benchmark, device: str, key: str, *, timing: bool, min_rounds: int, max_time: float,
                 peak: Callable[[], float], rows: list, reference_cache: dict):
        self.benchmark = benchmark
        self.timing = timing  # False: benchmarks disabled (correctness mode), each body runs once
        self.device = device
        self.key = key  # history id, e.g. "sampler[w64-d3-g256-b32-relu-float32-cpu]"
        self.kernel = key.split("[", 1)[0]
        self.min_rounds = max(MIN_ROUNDS, min_rounds)
        self.max_time = max_time
        self._peak = peak
        self._rows = rows
        self._reference_cache = reference_cache
        self.baselines: dict[str, float] = {}

    def run(self, fn: Callable[[], Any], *, rounds: int | None = None, warmup_rounds: int | None = None) -> Any:
        """Time ``fn`` (see the module docstring) and return its output; call it once if disabled."""
        target = synchronised(fn, self.device)
        if not self.timing:
            return self.benchmark.pedantic(target)  # disabled: one plain call
        warmup = WARMUP_ROUNDS[self.device] if warmup_rounds is None else warmup_rounds
        if rounds is None:
            synchronize(self.device)
            start = time.perf_counter()
            target()
            estimate = max(time.perf_counter() - start, 1e-9)
            warmup = max(warmup - 1, 0)
            rounds = min(MAX_ROUNDS, max(self.min_rounds, math.ceil(self.max_time / estimate)))
        synchronize(self.device)
        return self.benchmark.pedantic(target, rounds=rounds, warmup_rounds=warmup, iterations=1)

    def baseline(self, name: str, fn: Callable[[], Any]) -> None:
        """Time a floor the kernel is compared with (one batched FFT, zlib), with as many rounds as
        the kernel got (the same --benchmark-max-time rule), median: recorded as ``{name}_s`` and
        ``x_{name}`` = kernel median / floor median."""
        if not self.timing:
            return
        target = synchronised(fn, self.device)
        start = time.perf_counter()
        target()
        estimate = max(time.perf_counter() - start, 1e-9)
        rounds = min(MAX_ROUNDS, max(self.min_rounds, math.ceil(self.max_time / estimate)))
        self.baselines[name] = median_time(fn, self.device, rounds, warmup_rounds=0)

    def reference(self, name: str, per_item: Callable[[int], Any], items: int, unit: str, *,
                  share: tuple | None = None) -> Reference | None:
        """Time a plain per-item reference and scale it to all ``items`` (None when disabled).

        One warm call on item 0 gives t1. If items * t1 fits REFERENCE_BUDGET_S, all items are
        timed, REFERENCE_ROUNDS rounds, median. Otherwise the first k = budget / t1 items (at least
        one) are timed and the time scaled by items / k; with a single item slower than ten budgets
        the warm call itself is the measurement. ``share`` keys a per-item time reused by other
        cases of this session that run the same reference on the same kind of item (e.g. the
        Python LZ76 loop on 65536 random bits at batch 32 and 256), so it is paid once.
        """
        if not self.timing:
            return None
        cached = self._reference_cache.get(share) if share else None
        if cached is None:
            cached = self._time_per_item(per_item, items)
            if share:
                self._reference_cache[share] = cached
            shared = ""
        else:
            shared = " (per-item time shared with another case of this run)"
        per_item_s, k, rounds = cached
        how = f"{k} {unit}" if k < items or shared else f"all {items} {unit}"
        how += f" x {rounds} round{'s' * (rounds > 1)}" + (", median" if rounds > 1 else "")
        if k < items or shared:
            how += f", scaled to {items}"
        return Reference(name, per_item_s * items, how + shared)

    def _time_per_item(self, per_item: Callable[[int], Any], items: int) -> tuple[float, int, int]:
        """(seconds per item, items timed, rounds), see ``reference``."""
        call = synchronised(lambda: per_item(0), self.device)
        start = time.perf_counter()
        call()
        t1 = time.perf_counter() - start
        if t1 >= 10 * REFERENCE_BUDGET_S:
            return t1, 1, 1
        k = items if items * t1 <= REFERENCE_BUDGET_S else max(1, min(items, int(REFERENCE_BUDGET_S / t1)))
        rounds = REFERENCE_ROUNDS if k * t1 <= REFERENCE_BUDGET_S else 1
        total = median_time(lambda: [per_item(i) for i in range(k)], self.device, rounds, warmup_rounds=0)
        return total / k, k, rounds

    def record(self, *, items: int, unit: str, flop: float | None = None, reference: Reference | None = None,
               **extra: Any) -> None:
        """Fill benchmark.extra_info from the timed rounds: items/s, GFLOP/s, % of the fp32 matmul
        rate, reference time and speed-up, baseline ratios, and ``extra``."""
        if not self.timing:
            return
        median = self.benchmark.stats.stats.median
        info = {"id": self.key, "kernel": self.kernel, "device": self.device, "items": items, "unit": unit,
                "median_s": median, "items_per_s": items / median}
        if flop is not None:
            peak = self._peak()
            info.update(flop=flop, gflops=flop / median / 1e9, peak_gflops=peak,
                        pct_peak=100 * flop / median / 1e9 / peak)
        if reference is not None:
            info.update(reference=reference.name, reference_s=reference.seconds,
                        reference_method=reference.method, speedup=reference.seconds / median)
        for name, seconds in self.baselines.items():
            info[f"{name}_s"] = seconds
            info[f"x_{name}"] = median / seconds
        info.update(extra)
        self.benchmark.extra_info.update(info)
        self._rows.append(info)


# --- peak memory ---------------------------------------------------------------------------------


class PeakMemory:
    """Peak memory above the level at entry, in bytes: CUDA from torch's allocator statistics; CPU
    from the process's peak resident set (VmHWM), reset on entry through /proc/self/clear_refs
    after returning malloc's free memory to the system (malloc_trim)."""

    def __init__(self, device: str):
        self.device = device
        self.bytes = 0

    @staticmethod
    def available(device: str) -> str | None:
        """None if peak memory can be measured on ``device``, else the reason it cannot."""
        if device == "cuda":
            return None
        try:
            Path("/proc/self/clear_refs").write_text("5")
            _status("VmHWM")
        except (OSError, KeyError) as exc:
            return f"peak RSS cannot be reset on this system ({exc})"
        return None

    def __enter__(self) -> "PeakMemory":
        if self.device == "cuda":
            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()
            self._base = torch.cuda.memory_allocated()
        else:
            # Freed heap memory that malloc keeps counts in RSS and would be reused unseen:
            # hand it back first, so that the kernel's allocations show in the peak.
            gc.collect()
            _malloc_trim()
            Path("/proc/self/clear_refs").write_text("5")  # VmHWM := VmRSS
            self._base = _status("VmRSS")
        return self

    def __exit__(self, *exc) -> None:
        if self.device == "cuda":
            torch.cuda.synchronize()
            self.bytes = torch.cuda.max_memory_allocated() - self._base
        else:
            self.bytes = _status("VmHWM") - self._base


def _malloc_trim() -> None:
    """glibc's malloc_trim(0): return free heap memory of every arena to the system (no-op elsewhere)."""
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def _status(field: str) -> int:
    """A /proc/self/status memory field in bytes."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    raise KeyError(field)


# --- inputs ----------------------------------------------------------------------------------------


def random_grids(batch: int, resolution: int, seed: int, dtype: torch.dtype, device: str) -> torch.Tensor:
    """iid N(0, 1) grids [batch, R, R]."""
    gen = torch.Generator().manual_seed(seed)
    return torch.randn(batch, resolution, resolution, generator=gen, dtype=dtype).to(device)


def smooth_grids(batch: int, resolution: int, seed: int, dtype: torch.dtype, device: str, terms: int = 4) -> torch.Tensor:
    """Random low-frequency grids [batch, R, R] on [-1, 1]^2:

        y(x1, x2) = sum_{i, j < terms} c_ij cos(pi i x1 + p_i) cos(pi j x2 + q_j),
        c_ij ~ N(0, 1) / (1 + i^2 + j^2),  p_i, q_j ~ U(0, 2 pi)   (per grid)
    """
    gen = torch.Generator().manual_seed(seed)
    x = torch.linspace(-1, 1, resolution, dtype=torch.float64)
    k = torch.arange(terms, dtype=torch.float64)
    coeff = torch.randn(batch, terms, terms, generator=gen, dtype=torch.float64) / (1 + k[:, None] ** 2 + k[None, :] ** 2)
    phase = 2 * math.pi * torch.rand(2, batch, 1, terms, generator=gen, dtype=torch.float64)
    rows = torch.cos(math.pi * x[None, :, None] * k + phase[0])   # [batch, R, terms]
    cols = torch.cos(math.pi * x[None, :, None] * k + phase[1])
    return (rows @ coeff @ cols.transpose(1, 2)).to(dtype).to(device)


def grids(kind: str, batch: int, resolution: int, seed: int, dtype: torch.dtype, device: str) -> torch.Tensor:
    make = {"random": random_grids, "smooth": smooth_grids}[kind]
    return make(batch, resolution, seed, dtype, device)


def random_bits(batch: int, length: int, seed: int, device: str) -> torch.Tensor:
    """iid fair bits, bool [batch, length]."""
    gen = torch.Generator().manual_seed(seed)
    return (torch.rand(batch, length, generator=gen) < 0.5).to(device)


# --- checks --------------------------------------------------------------------------------------


def assert_matches(actual: torch.Tensor, expected: torch.Tensor, dtype: torch.dtype, what: str) -> None:
    """|actual - expected| <= TOLERANCES[dtype] * max(1, max |expected|), elementwise."""
    actual = torch.as_tensor(actual).detach().cpu().to(torch.float64)
    expected = torch.as_tensor(expected).detach().cpu().to(torch.float64)
    assert actual.shape == expected.shape, f"{what}: shape {tuple(actual.shape)} != reference {tuple(expected.shape)}"
    assert torch.isfinite(actual).all(), f"{what}: non-finite output"
    scale = max(1.0, expected.abs().max().item())
    error = (actual - expected).abs().max().item() / scale
    assert error <= TOLERANCES[dtype], (f"{what}: max error {error:.3g} relative to max(1, |reference|) "
                                        f"exceeds the {dtype} tolerance {TOLERANCES[dtype]:g}")


def as_numpy(x: torch.Tensor) -> np.ndarray:
    return x.detach().cpu().numpy()


# --- the shared body of the grid-metric benchmarks -------------------------------------------------


def run_grid_metric(bench: Bench, case, device: str, metric: Callable[[torch.Tensor], torch.Tensor],
                    one: Callable[[np.ndarray], float], reference_name: str, *, seed: int, flop: float | None,
                    fft_baseline: bool = False, checked: int = 2) -> None:
    """Time ``metric`` on case's grids, check its first ``checked`` values against the per-grid
    reference ``one``, time ``one`` over the batch (sampled, see Bench.reference) and, with
    ``fft_baseline``, one batched float64 rfft2 of the same data (the metric's working precision,
    cast included, as in the metric)."""
    dtype = DTYPE[case.dtype]
    y = grids(case.input, case.batch, case.grid, seed, dtype, device)
    out = bench.run(lambda: metric(y))
    host = as_numpy(y)
    assert out.shape == (case.batch,) and out.device.type == torch.device(device).type
    expected = torch.tensor([one(host[i]) for i in range(checked)], dtype=torch.float64)
    assert_matches(out[:checked], expected, torch.float64, f"{bench.key} vs {reference_name}")
    if fft_baseline:
        bench.baseline("fft", lambda: torch.fft.rfft2(y.to(torch.float64)))
    reference = bench.reference(reference_name, lambda i: one(host[i]), case.batch, "grids",
                                share=(reference_name, case.input, case.grid, case.dtype))
    bench.record(items=case.batch, unit="grids", flop=flop, reference=reference)
