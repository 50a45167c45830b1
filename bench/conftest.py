"""pytest configuration of the timing harness in bench/ (README "Performance").

Two modes, decided once per session:
- timing: when a path inside bench/ is named on the command line (``pytest bench``,
  ``pytest bench/test_sampler.py -k w64``), or with ``--benchmark-enable``. Cases of ``--tier ci``
  (default; about a second or less per call) or ``--tier full`` (all) are timed with pytest-benchmark
  next to their plain references, and a summary table and the speed targets are printed.
- correctness: everywhere else (plain ``pytest``, which CI runs, collects bench/ through
  ``testpaths``), or with ``--benchmark-disable``: as if ``--benchmark-disable`` were given, each
  benchmark body runs once on the smallest case of its kernel and checks the kernel against its
  reference. Nothing is timed. ``pytest bench --benchmark-disable --tier full`` checks every case.

Devices (the claims plugin's ``--device``): ``cpu`` or ``cuda`` runs the cases on that device;
``auto`` (default) collects both, and the CUDA cases skip with a reason when torch sees no GPU.
Ids are ``<kernel>[<case>-<device>]``, the keys of the history (bench.history).

``--bench-save`` stores a timing run in the history (``--bench-history``, default
.benchmarks/history/<machine>/), keyed by commit, written atomically.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import torch

from bench import core, history, params
from redshift.claims.plugin import resolve_device

BENCH_DIR = Path(__file__).resolve().parent


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
    saved: str | None = None                             # what --bench-save did

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


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("bench", "timing harness (bench/)")
    group.addoption("--bench-save", action="store_true", default=False,
                    help="store this timing run in the benchmark history, keyed by commit (see bench.history)")
    group.addoption("--bench-history", default=os.path.join(".benchmarks", "history"),
                    help="history folder, relative to the rootdir (default .benchmarks/history)")


def bench_named(config: pytest.Config) -> bool:
    """True when a path inside bench/ was named on the command line (not through testpaths)."""
    if config.args_source is not pytest.Config.ArgsSource.ARGS:
        return False  # plain `pytest`: testpaths or the current directory
    base = Path(config.invocation_params.dir)
    for arg in config.args:
        path = (base / arg.split("::", 1)[0]).resolve()
        if path == BENCH_DIR or BENCH_DIR in path.parents:
            return True
    return False


def timing_requested(config: pytest.Config) -> bool:
    """True when bench/ was named on the command line or timing was forced, and not disabled."""
    if config.getoption("benchmark_enable") or config.getoption("benchmark_only"):
        return True
    return not config.getoption("benchmark_disable") and bench_named(config)


def pytest_configure(config: pytest.Config) -> None:
    # Runs before pytest-benchmark's own pytest_configure (trylast), which reads these options.
    config.addinivalue_line("markers", "cases(list): the benchmark cases of a test, parametrized with the devices")
    timing = timing_requested(config)
    if not timing:
        config.option.benchmark_disable = True
    option = config.getoption("device")
    devices = ("cpu", "cuda") if option == "auto" else (resolve_device(option),)
    # --tier full widens correctness mode only when bench/ is named: a plain `pytest --tier full`
    # (the paper-sized claims) keeps bench/ at its smallest cases.
    tier = config.getoption("tier") if timing or bench_named(config) else "ci"
    state = State(timing=timing, tier=tier, devices=devices)
    if config.getoption("benchmark_columns") is None:
        config.option.benchmark_columns = ["median", "iqr", "rounds"]
    config.stash[state_key] = state


def pytest_report_header(config: pytest.Config) -> list[str]:
    state = config.stash[state_key]
    devices = "+".join(state.devices)
    if state.timing:
        return [f"bench: timing mode, --tier {state.tier}, devices {devices} (plain `pytest` only checks them)"]
    what = "every case" if state.tier == "full" else "the smallest case of each kernel"
    return [f"bench: correctness mode (benchmarks disabled): {what} runs once against its reference; "
            "`pytest bench` times them"]


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
    return core.Bench(benchmark, device, request.node.name.removeprefix("test_"),
                      min_rounds=config.getoption("benchmark_min_rounds"),
                      max_time=float(config.getoption("benchmark_max_time")),
                      peak=lambda: matmul_peak(device), rows=state.rows, reference_cache=state.reference_cache)


def pytest_benchmark_update_machine_info(config: pytest.Config, machine_info: dict) -> None:
    """Add torch, threads, the measured fp32 matmul rates and the GPU (name, memory)."""
    state = config.stash[state_key]
    info = {"torch": torch.__version__, "threads": torch.get_num_threads(),
            "cpu_matmul_gflops": state.peak("cpu")}
    if "cuda" in state.devices and torch.cuda.is_available():
        props = torch.cuda.get_device_properties(0)
        info["cuda"] = {"name": props.name, "memory_bytes": props.total_memory,
                        "capability": f"{props.major}.{props.minor}", "cuda_version": torch.version.cuda,
                        "matmul_gflops": state.peak("cuda")}
    machine_info["redshift_bench"] = info
    machine_info["machine_key"] = history.machine_key(machine_info)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """--bench-save: the run as pytest-benchmark's JSON document (raw rounds included), into the history."""
    config = session.config
    state = config.stash.get(state_key, None)
    if state is None or not config.getoption("bench_save") or hasattr(config, "workerinput"):
        return
    if not state.timing or not state.rows:
        state.saved = "nothing was timed: nothing saved"
        return
    if exitstatus == pytest.ExitCode.INTERRUPTED:
        state.saved = "interrupted: nothing saved, the history is unchanged"
        return
    session_ = config._benchmarksession  # pytest-benchmark's session object; it has no public accessor
    commit_info = config.hook.pytest_benchmark_generate_commit_info(config=config)
    config.hook.pytest_benchmark_update_commit_info(config=config, commit_info=commit_info)
    document = config.hook.pytest_benchmark_generate_json(
        config=config, benchmarks=session_.benchmarks, include_data=True,
        machine_info=session_.get_machine_info(), commit_info=commit_info)
    config.hook.pytest_benchmark_update_json(config=config, benchmarks=session_.benchmarks, output_json=document)
    path = history.save_run(document, config.rootpath / config.getoption("bench_history"))
    state.saved = f"saved to {path.relative_to(config.rootpath) if path.is_relative_to(config.rootpath) else path}"


@pytest.hookimpl(trylast=True)  # after pytest-benchmark's own table
def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:
    state = config.stash.get(state_key, None)
    if state is None:
        return
    if not state.timing and state.collected:
        gpu = f"; {state.no_gpu} CUDA cases left out (no GPU)" if state.no_gpu else ""
        terminalreporter.write_line(f"bench: correctness mode: {state.collected} cases run once; {state.left_out} larger "
                                    f"ones are timed by `pytest bench` (--tier full runs all){gpu}")
    if state.rows:
        _print_rates(terminalreporter, state)
        _print_targets(terminalreporter, state)
    if state.saved:
        terminalreporter.write_line(f"bench history: {state.saved}")


def _time(seconds: float) -> str:
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("us", 1e-6)):
        if seconds >= scale:
            return f"{seconds / scale:.3g} {unit}"
    return f"{seconds / 1e-9:.3g} ns"


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
        rows.append((r["kernel"], case, _time(r["median_s"]), f"{_rate(r['items_per_s'])} {r['unit']}",
                     _num(r.get("gflops"), ".1f"), _num(r.get("pct_peak"), ".0f"), r.get("reference", ""),
                     _time(r["reference_s"]) if "reference_s" in r else "",
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
