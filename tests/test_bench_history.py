"""Unit tests for bench.history (the benchmark history: atomic saving, the asv compare rule, plots)
and for the timing/correctness mode switch of bench/conftest.py. Nothing here times anything: the
rounds are synthetic, drawn from a seeded generator."""
import json
import os
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from bench import history
from bench.history import compare_rounds, main

MACHINE = {"cpu": {"brand_raw": "AMD EPYC 9B45", "count": 2}, "machine": "x86_64"}


def rounds(median: float, n: int, seed: int, spread: float = 0.05) -> list[float]:
    """n synthetic round times: median x lognormal noise (sigma = spread)."""
    return list(median * np.exp(spread * np.random.default_rng(seed).standard_normal(n)))


def run_doc(commit: str, when: str, times: dict[str, list[float]], dirty: bool = False) -> dict:
    """A pytest-benchmark --benchmark-json document with raw rounds."""
    benchmarks = [{"name": f"test_{key}", "fullname": f"bench/test_x.py::test_{key}",
                   "stats": {"data": data, "median": float(np.median(data)), "rounds": len(data)},
                   "extra_info": {"id": key}} for key, data in times.items()]
    return {"machine_info": MACHINE, "commit_info": {"id": commit, "dirty": dirty}, "datetime": when,
            "benchmarks": benchmarks, "version": "5.3.1"}


# --- the asv rule ----------------------------------------------------------------------------------


def test_synthetic_slowdown_is_a_regression():
    base, slow = rounds(0.010, 20, seed=1), rounds(0.015, 20, seed=2)
    ratio, p, verdict = compare_rounds(base, slow)
    assert verdict == "regression" and p < 0.002 and ratio == pytest.approx(1.5, rel=0.05), (ratio, p)


def test_unchanged_kernel_passes():
    for seed in range(10):
        ratio, p, verdict = compare_rounds(rounds(0.010, 20, seed=100 + seed), rounds(0.010, 20, seed=200 + seed))
        assert verdict == "same", (seed, ratio, p)


def test_speedup_is_an_improvement():
    ratio, p, verdict = compare_rounds(rounds(0.010, 15, seed=3), rounds(0.005, 15, seed=4))
    assert verdict == "improvement" and p < 0.002 and ratio < 1 / 1.1


def test_both_conditions_are_needed():
    # significant but within the factor: 5% slower with tiny noise
    _, p, verdict = compare_rounds(rounds(0.010, 30, seed=5, spread=0.002), rounds(0.0105, 30, seed=6, spread=0.002))
    assert p < 0.002 and verdict == "same"
    # past the factor but not significant: a 1.3x median shift buried in noise
    _, p, verdict = compare_rounds(rounds(0.010, 8, seed=7, spread=0.8), rounds(0.013, 8, seed=8, spread=0.8))
    assert p >= 0.002 and verdict == "same"


def test_too_few_rounds_are_never_called():
    assert history.min_p_value(6, 6) > 0.002 > history.min_p_value(7, 7)
    ratio, p, verdict = compare_rounds([1.0, 1.0, 1.0, 1.0, 1.0], [2.0, 2.0, 2.0, 2.0, 2.0])
    assert (ratio, p, verdict) == (2.0, None, "too few rounds")


# --- the command line ------------------------------------------------------------------------------


def write(path: Path, doc: dict) -> Path:
    path.write_text(json.dumps(doc))
    return path


@pytest.fixture
def stored(tmp_path):
    """A history with a baseline commit and a contender whose `slow` kernel is 1.5x slower."""
    store = tmp_path / "history"
    base = run_doc("a" * 40, "2026-01-01T10:00:00+00:00",
                   {"slow[x-cpu]": rounds(0.010, 20, 1), "steady[y-cpu]": rounds(0.002, 20, 3)})
    new = run_doc("b" * 40, "2026-01-02T10:00:00+00:00",
                  {"slow[x-cpu]": rounds(0.015, 20, 2), "steady[y-cpu]": rounds(0.002, 20, 4),
                   "added[z-cpu]": rounds(0.001, 20, 5)})
    files = [write(tmp_path / "base.json", base), write(tmp_path / "new.json", new)]
    assert main(["--history", str(store), "save", *map(str, files)]) == 0
    return store


def test_compare_command_flags_the_slowed_kernel(stored, capsys):
    assert main(["--history", str(stored), "compare", "--no-plot"]) == 1
    out = capsys.readouterr().out
    lines = {line.split()[0]: line for line in out.splitlines() if "[" in line and "(" not in line}
    assert "REGRESSION" in lines["slow[x-cpu]"]
    assert lines["steady[y-cpu]"].rstrip().endswith("same")
    assert lines["added[z-cpu]"].rstrip().endswith("new")
    assert "baseline:  aaaaaaaaaaaa" in out and "contender: bbbbbbbbbbbb" in out


def test_compare_command_passes_an_unchanged_run(stored, tmp_path, capsys):
    again = run_doc("c" * 40, "2026-01-03T10:00:00+00:00",
                    {"slow[x-cpu]": rounds(0.015, 20, 12), "steady[y-cpu]": rounds(0.002, 20, 13)})
    assert main(["--history", str(stored), "save", str(write(tmp_path / "again.json", again))]) == 0
    assert main(["--history", str(stored), "compare", "--no-plot"]) == 0  # c vs b: nothing changed
    assert main(["--history", str(stored), "compare", "--no-plot", "--baseline", "aaaa"]) == 1  # c vs a


def test_history_files_are_keyed_by_machine_and_commit(stored):
    files = sorted(p.relative_to(stored).as_posix() for p in stored.rglob("*.json"))
    assert files == ["amd-epyc-9b45-2cpu/20260101T100000_aaaaaaaaaaaa.json",
                     "amd-epyc-9b45-2cpu/20260102T100000_bbbbbbbbbbbb.json"]
    assert history.commit_key({"id": "f" * 40, "dirty": True}) == "ffffffffffff-dirty"


def test_compare_with_a_single_commit_has_nothing_to_compare(tmp_path, capsys):
    doc = run_doc("a" * 40, "2026-01-01T10:00:00+00:00", {"k[x-cpu]": rounds(0.01, 10, 1)})
    main(["--history", str(tmp_path / "h"), "save", str(write(tmp_path / "r.json", doc))])
    assert main(["--history", str(tmp_path / "h"), "compare", "--no-plot"]) == 0
    assert "nothing to compare" in capsys.readouterr().out


def test_save_refuses_a_run_without_benchmarks(tmp_path):
    doc = run_doc("a" * 40, "2026-01-01T10:00:00+00:00", {})
    assert main(["--history", str(tmp_path / "h"), "save", str(write(tmp_path / "r.json", doc))]) == 2
    assert not (tmp_path / "h").exists() or not list((tmp_path / "h").rglob("*.json"))


# --- atomic writes ---------------------------------------------------------------------------------


@pytest.mark.parametrize("failing", ["write", "replace"])
def test_an_interrupted_save_loses_nothing(stored, monkeypatch, failing):
    before = {p: p.read_bytes() for p in stored.rglob("*") if p.is_file()}
    doc = run_doc("d" * 40, "2026-01-04T10:00:00+00:00", {"slow[x-cpu]": rounds(0.01, 10, 9)})

    def interrupt(*args, **kwargs):
        raise KeyboardInterrupt

    if failing == "replace":
        monkeypatch.setattr(history.os, "replace", interrupt)
    else:
        monkeypatch.setattr(history.os, "fsync", interrupt)  # mid-write, after some bytes hit the file
    with pytest.raises(KeyboardInterrupt):
        history.save_run(doc, stored)
    after = {p: p.read_bytes() for p in stored.rglob("*") if p.is_file()}
    assert after == before, "an interrupted save changed or left files in the history"
    monkeypatch.undo()
    assert [r.commit for r in history.load_runs(stored)] == ["aaaaaaaaaaaa", "bbbbbbbbbbbb"]


def test_atomic_write_replaces_whole_files(tmp_path):
    target = tmp_path / "sub" / "f.json"
    history.atomic_write_bytes(target, b"one")
    history.atomic_write_bytes(target, b"two")
    assert target.read_bytes() == b"two" and os.listdir(target.parent) == ["f.json"]


def test_temporary_and_broken_files_are_skipped_on_load(stored, capsys):
    folder = next(stored.iterdir())
    (folder / ".20260105T000000_eeee.json.abc.tmp").write_text("{")
    (folder / "20260106T000000_ffff.json").write_text("{ truncated")
    assert [r.commit for r in history.load_runs(stored)] == ["aaaaaaaaaaaa", "bbbbbbbbbbbb"]
    assert "skipping unreadable history file" in capsys.readouterr().err


def test_plot_writes_one_png_per_kernel(stored, tmp_path):
    pytest.importorskip("matplotlib")
    paths = history.plot_history(history.load_runs(stored), tmp_path / "reports")
    assert sorted(p.name for p in paths) == ["bench-history-added.png", "bench-history-slow.png",
                                             "bench-history-steady.png"]
    assert all(p.read_bytes().startswith(b"\x89PNG") for p in paths)
    assert not [p for p in (tmp_path / "reports").iterdir() if p.name.startswith(".")]


# --- timing vs correctness mode (bench/conftest.py) ------------------------------------------------


def fake_config(args, source="args", enable=False, disable=False, only=False, cwd=None):
    import pytest as _pytest

    options = {"benchmark_enable": enable, "benchmark_disable": disable, "benchmark_only": only}
    return SimpleNamespace(getoption=options.__getitem__, args=args,
                           args_source={"args": _pytest.Config.ArgsSource.ARGS,
                                        "testpaths": _pytest.Config.ArgsSource.TESTPATHS}[source],
                           invocation_params=SimpleNamespace(dir=cwd or Path(__file__).resolve().parents[1]))


def test_benchmarks_time_only_when_bench_is_named():
    from bench.conftest import timing_requested

    root = Path(__file__).resolve().parents[1]
    assert timing_requested(fake_config(["bench"]))
    assert timing_requested(fake_config(["bench/test_sampler.py::test_sampler"]))
    assert timing_requested(fake_config(["test_sampler.py"], cwd=root / "bench"))
    assert timing_requested(fake_config(["tests", "bench"]))
    assert not timing_requested(fake_config(["tests", "cases", "bench"], source="testpaths"))  # plain `pytest`
    assert not timing_requested(fake_config(["."]))
    assert not timing_requested(fake_config(["tests"]))
    assert not timing_requested(fake_config(["bench"], disable=True))
    assert timing_requested(fake_config(["tests"], enable=True))
