"""pytest configuration of the timing harness in bench/ (docs/benchmarks.md).

Two modes, chosen by pytest-benchmark's own flags, never by which paths are named:
- correctness (the default; what plain ``pytest`` and CI run, bench/ being in ``testpaths``):
  benchmarks are disabled, and each benchmark body runs once, on the smallest case of its kernel,
  checking the kernel against its plain reference. Nothing is timed.
- timing: ``--benchmark-enable`` (or ``--benchmark-only``). The cases of ``--tier ci`` (default:
  about a second or less per call on 2 CPU cores; every CUDA case) are timed with pytest-benchmark
  next to their plain references, and a table of rates and the speed targets are printed. Timing
  under xdist (``-n``) is refused: pytest-benchmark does not time there.
``--tier full`` picks every case in either mode (hours of timing on 2 CPU cores).

Storage is pytest-benchmark's: ``--benchmark-autosave`` (or ``--benchmark-save NAME``) writes the run
to ``--benchmark-storage`` (default ``file://./.benchmarks``) as ``<machine id>/<NNNN>_<name>.json``.
In timing mode ``--benchmark-save-data`` is implied, so that stored runs carry every raw round
(the history's compare tests them). Through pytest-benchmark's public hooks this file adds to a run
the torch version, threads, the GPU and the hardware key (``machine_info``: ``redshift_bench``,
``machine_key``), and the tier, devices and fp32 matmul rates measured in the session (top-level
``redshift_bench``). Every benchmark's ``extra_info`` holds its id and rates (bench/core.py).

Devices (the claims plugin's ``--device``): ``cpu`` or ``cuda`` runs the cases on that device;
``auto`` (default) collects both, and the CUDA cases skip with a reason when torch sees no GPU
(in correctness mode they are left out). Ids are ``<kernel>[<case>-<device>]``, the history's keys.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field

import pytest
import torch

from bench import core, history, params
from redshift.core import resolve_device


@dataclass
class State:
    timing: bool
    tier: str
    devices: tuple[str, ...]
    rows: list = field(default_factory=list)            # extra_info of every timed case, in order
    reference_cache: dict = field(default_factory=dict)  # shared per-item reference times
    peaks: dict = field(default_factory=dict)            # device -> measured fp32 matmul GFLOP/s
    collected: int = 0
    left_out: int = 0                                    # cases not selected by the mode and tier
    no_gpu: int = 0                                      # CUDA cases left out without a GPU (correctness mode)
    empty: set = field(default_factory=set)              # test functions with no case selected

    def peak(self, device: str) -> float:
        if device not in self.peaks:
            self.peaks[device] = core.matmul_peak_gflops(device)
        return self.peaks[device]

    def selected(self, case, device: str) -> bool:
        if device == "cuda" and not self.timing and not torch.cuda.is_available():
            return False  # correctness mode leaves absent-GPU cases out; timing mode skips them
        if self.tier == "full":
            return True
        if not self.timing:
            return case.smoke
        return device == "cuda" or case.cost <= 1.0


state_key = pytest.StashKey[State]()


def timing_mode(config: pytest.Config) -> bool:
    """True with --benchmark-enable or --benchmark-only; UsageError if that is asked under xdist (the
    tests pytest-benchmark makes before it disables timing: the dist option, a worker's environment)."""
    timing = bool(config.getoption("benchmark_enable") or config.getoption("benchmark_only"))
    under_xdist = config.getoption("dist", "no") != "no" or "PYTEST_XDIST_WORKER" in os.environ
    if timing and under_xdist:
        raise pytest.UsageError("--benchmark-enable: pytest-benchmark does not time under xdist; run bench/ without -n")
    return timing


def bench_devices(option: str) -> tuple[str, ...]:
    """The devices of the cases: both for ``auto``, else the one --device names (cpu or cuda)."""
    if option == "auto":
        return ("cpu", "cuda")
    if option not in ("cpu", "cuda"):
        raise pytest.UsageError(f"--device {option}: bench/ runs on cpu or cuda (choose the GPU with "
                                "CUDA_VISIBLE_DEVICES)")
    try:
        device = resolve_device(option)
    except ValueError as exc:
        raise pytest.UsageError(str(exc)) from None
    return (device,)


def pytest_configure(config: pytest.Config) -> None:
    # Runs before pytest-benchmark's own pytest_configure (trylast), which reads these options.
    config.addinivalue_line("markers", "cases(list): the benchmark cases of a test, parametrized with the devices")
    timing = timing_mode(config)
    if timing:
        config.option.benchmark_save_data = True
    else:
        config.option.benchmark_disable = True
    state = State(timing=timing, tier=config.getoption("redshift_tier"),
                  devices=bench_devices(config.getoption("redshift_device")))
    if config.getoption("benchmark_columns") is None:
        config.option.benchmark_columns = ["median", "iqr", "rounds"]
    config.stash[state_key] = state


def pytest_report_header(config: pytest.Config) -> list[str]:
    state = config.stash[state_key]
    devices = "+".join(state.devices)
    if state.timing:
        return [f"bench: timing mode, --tier {state.tier}, devices {devices}"]
    what = "every case" if state.tier == "full" else "the smallest case of each kernel"
    return [f"bench: correctness mode: {what} runs once against its reference; --benchmark-enable times them"]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    marker = metafunc.definition.get_closest_marker("cases")
    if marker is None:
        return
    state = metafunc.config.stash[state_key]
    chosen = []
    for case in marker.args[0]:
        for device in state.devices:
            if state.selected(case, device):
                chosen.append(pytest.param(case, device, id=f"{case.id}-{device}"))
            elif device == "cuda" and not torch.cuda.is_available() and not state.timing:
                state.no_gpu += 1
            else:
                state.left_out += 1
    state.collected += len(chosen)
    if not chosen:
        state.empty.add(metafunc.function)
    metafunc.parametrize(("case", "device"), chosen)


@pytest.fixture(scope="session")
def matmul_peak(request) -> callable:
    """device -> this machine's fp32 matmul GFLOP/s, measured once per session on first use."""
    return request.config.stash[state_key].peak


def pytest_collection_modifyitems(config: pytest.Config, items: list) -> None:
    """Drop the placeholder items of benchmarks with no case selected (e.g. the memory check in
    correctness mode) instead of reporting them as skipped."""
    state = config.stash[state_key]
    empty = [item for item in items if getattr(item, "function", None) in state.empty]
    if empty:
        config.hook.pytest_deselected(items=empty)
        items[:] = [item for item in items if item not in empty]


@pytest.fixture
def bench(request, device, matmul_peak) -> core.Bench:
    if device == "cuda" and not torch.cuda.is_available():
        pytest.skip("CUDA benchmarks: torch sees no CUDA device (--device cpu leaves them out)")
    config = request.config
    state = config.stash[state_key]
    benchmark = request.getfixturevalue("benchmark")  # after the skip: an unused fixture warns
    return core.Bench(benchmark, device, request.node.name.removeprefix("test_"), timing=state.timing,
                      min_rounds=config.getoption("benchmark_min_rounds"),
                      max_time=float(config.getoption("benchmark_max_time")),
                      peak=lambda: matmul_peak(device), rows=state.rows, reference_cache=state.reference_cache)


def pytest_benchmark_update_machine_info(config: pytest.Config, machine_info: dict) -> None:
    """The machine's facts: torch, threads, the GPU torch sees, and the hardware key of the history."""
    gpu = None
    info = {"torch": torch.__version__, "threads": torch.get_num_threads()}
    if torch.cuda.is_available():
        props = torch.cuda.get_device_properties(0)
        gpu = props.name
        info["cuda"] = {"name": props.name, "memory_bytes": props.total_memory,
                        "capability": f"{props.major}.{props.minor}", "cuda_version": torch.version.cuda}
    machine_info["redshift_bench"] = info
    machine_info["machine_key"] = history.hardware_key(machine_info.get("cpu") or {}, gpu)


def pytest_benchmark_update_json(config: pytest.Config, benchmarks: list, output_json: dict) -> None:
    """This run's settings and the fp32 matmul rates measured in it (a run's, not the machine's facts,
    so that pytest-benchmark's --benchmark-compare does not see a different machine each session),
    and each benchmark's params with the case as its id."""
    state = config.stash[state_key]
    output_json["redshift_bench"] = {"tier": state.tier, "devices": list(state.devices),
                                     "matmul_gflops": dict(state.peaks)}
    for bench in output_json["benchmarks"]:  # the case objects as their ids, not as "UNSERIALIZABLE[...]"
        bench["params"] = {name: getattr(value, "id", value) for name, value in (bench.get("params") or {}).items()}


@pytest.hookimpl(trylast=True)  # after pytest-benchmark's own table
def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:
    state = config.stash.get(state_key, None)
    if state is None:
        return
    if not state.timing and state.collected:
        gpu = f"; {state.no_gpu} CUDA cases left out (no GPU)" if state.no_gpu else ""
        terminalreporter.write_line(f"bench: correctness mode: {state.collected} cases run once; {state.left_out} "
                                    f"more are timed by --benchmark-enable (--tier full: all){gpu}")
    if state.rows:
        _print_rates(terminalreporter, state)
        _print_targets(terminalreporter, state)


def _rate(value: float) -> str:
    for suffix, scale in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if value >= scale:
            return f"{value / scale:.3g}{suffix}"
    return f"{value:.3g}"


def _num(value: float | None, fmt: str = ".3g") -> str:
    return "" if value is None else format(value, fmt)


def _print_rates(tr, state: State) -> None:
    peaks = ", ".join(f"{d} {p:.1f} GFLOP/s" for d, p in state.peaks.items())
    tr.write_sep("-", f"bench: kernel rates (fp32 matmul rate measured this session: {peaks or 'not needed'})")
    header = ("kernel", "case", "median", "items/s", "GFLOP/s", "%peak", "reference", "ref time", "speed-up",
              "vs floor")
    rows = [header]
    for r in state.rows:
        case = r["id"][len(r["kernel"]) + 1:-1]
        floors = [f"{r[k]:.2g}x {k[2:]}" for k in r if k.startswith("x_")]
        rows.append((r["kernel"], case, history.format_time(r["median_s"]), f"{_rate(r['items_per_s'])} {r['unit']}",
                     _num(r.get("gflops"), ".1f"), _num(r.get("pct_peak"), ".0f"), r.get("reference", ""),
                     history.format_time(r["reference_s"]) if "reference_s" in r else "",
                     f"{r['speedup']:.3g}x" if "speedup" in r else "", ", ".join(floors)))
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    for row in rows:
        tr.write_line("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip())
    tr.write_line("items/s and GFLOP/s at the median; %peak: of the fp32 matmul rate; speed-up: reference time / "
                  "median; vs floor: median / the floor's time (fft: one batched float64 rfft2 of the same data; "
                  "zlib: zlib.compress level 9 of the same bits, packed)")
    notes = {r["reference_method"] for r in state.rows if "reference_method" in r and "scaled" in r["reference_method"]}
    if notes:
        tr.write_line("references timed on a subset and scaled (see extra_info.reference_method): "
                      f"{len(notes)} kinds, e.g. '{sorted(notes)[0]}'")


def _print_targets(tr, state: State) -> None:
    by_id = {r["id"]: r for r in state.rows}
    lines = []
    for target in params.TARGETS:
        row = by_id.get(target.key)
        if row is None or target.field not in row:
            continue
        value = row[target.field]
        verdict = "met" if target.met(value) else "MISSED"
        lines.append(f"{verdict:6}  {target.key}  {target.field} = {value:.3g} (target {target.op} {target.bound:g} "
                     f"{target.what})")
    if lines:
        tr.write_sep("-", "bench: speed targets (informational, never asserted)")
        for line in lines:
            tr.write_line(line)
