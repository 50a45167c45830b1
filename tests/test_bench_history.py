"""Unit tests for bench.history (the asv compare rule, reading pytest-benchmark's stored runs, baselines
by git ancestry, one-line errors for bad history files) and for the mode and device switches of
bench/conftest.py. Nothing here times anything: the rounds are synthetic, from seeded generators;
the git repositories are synthetic, built in tmp_path. One test runs `pytest bench` on one small case
to check what pytest-benchmark stores."""
import json
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from bench import history
from bench.history import compare_rounds, main

ROOT = Path(__file__).resolve().parents[1]
CPU = {"brand_raw": "AMD EPYC 9B45", "count": 2}
FOLDER = history.storage_machine_id()


def rounds(median: float, n: int, seed: int, spread: float = 0.05) -> list[float]:
    """n synthetic round times: median x lognormal noise (sigma = spread)."""
    return list(median * np.exp(spread * np.random.default_rng(seed).standard_normal(n)))


def run_doc(commit: str, when: str, times: dict[str, list[float]], dirty: bool = False, cpu: dict = CPU) -> dict:
    """A run as pytest-benchmark stores it with --benchmark-save-data (the fields bench.history reads)."""
    benchmarks = [{"name": f"test_{key}", "fullname": f"bench/test_x.py::test_{key}", "extra_info": {"id": key},
                   "stats": {"data": data, "median": float(np.median(data)), "q1": float(np.quantile(data, 0.25)),
                             "q3": float(np.quantile(data, 0.75)), "rounds": len(data)}}
                  for key, data in times.items()]
    return {"machine_info": {"cpu": cpu, "machine": "x86_64"}, "commit_info": {"id": commit, "dirty": dirty},
            "datetime": when, "benchmarks": benchmarks, "version": "5.3.1"}


def store(directory: Path, doc: dict, folder: str = FOLDER) -> Path:
    """Write ``doc`` where pytest-benchmark's file storage would: <folder>/<NNNN>_<commit>_<time>.json."""
    machine = directory / folder
    machine.mkdir(parents=True, exist_ok=True)
    number = len(list(machine.glob(history.RUN_GLOB))) + 1
    path = machine / f"{number:04d}_{doc['commit_info']['id']}_{doc['datetime'][:10]}.json"
    path.write_text(json.dumps(doc))
    return path


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True).stdout.strip()


def commit(repo: Path, message: str) -> str:
    git(repo, "commit", "-q", "--allow-empty", "-m", message)
    return git(repo, "rev-parse", "HEAD")


@pytest.fixture
def repo(tmp_path) -> Path:
    """An empty git repository with an identity."""
    path = tmp_path / "repo"
    path.mkdir()
    git(path, "init", "-q", "-b", "main")
    git(path, "config", "user.email", "bench@example.com")
    git(path, "config", "user.name", "bench")
    return path


@pytest.fixture
def branches(repo) -> dict[str, str]:
    """main: A - B - C;  feature (from B): D - E;  M on main merges feature (parents C, E)."""
    shas = {name: commit(repo, name) for name in "ABC"}
    git(repo, "checkout", "-q", "-b", "feature", shas["B"])
    shas.update({name: commit(repo, name) for name in "DE"})
    git(repo, "checkout", "-q", "main")
    git(repo, "merge", "-q", "--no-ff", "-m", "M", "feature")
    shas["M"] = git(repo, "rev-parse", "HEAD")
    return shas


def compare(repo: Path, store_dir: Path, *args: str) -> int:
    return main(["compare", "--repo", str(repo), "--history", str(store_dir), *args])


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


# --- compare over stored runs: baselines by ancestry -------------------------------------------------


def verdicts(out: str) -> dict[str, str]:
    return {line.split()[0]: line.split()[-1] for line in out.splitlines() if "[" in line and "(" not in line}


def test_compare_flags_the_slowed_kernel_against_the_parent(repo, tmp_path, capsys):
    a, b = commit(repo, "a"), commit(repo, "b")
    store_dir = tmp_path / "history"
    store(store_dir, run_doc(a, "2026-01-01T10:00:00+00:00", {"slow[x-cpu]": rounds(0.010, 20, 1),
                                                              "steady[y-cpu]": rounds(0.002, 20, 3)}))
    store(store_dir, run_doc(b, "2026-01-02T10:00:00+00:00", {"slow[x-cpu]": rounds(0.015, 20, 2),
                                                              "steady[y-cpu]": rounds(0.002, 20, 4),
                                                              "added[z-cpu]": rounds(0.001, 20, 5)}))
    assert compare(repo, store_dir) == 1
    out = capsys.readouterr().out
    assert verdicts(out) == {"slow[x-cpu]": "REGRESSION", "steady[y-cpu]": "same", "added[z-cpu]": "new"}
    assert f"baseline:  {a[:12]}" in out and f"contender: {b[:12]}" in out
    assert compare(repo, store_dir, "-k", "steady") == 0
    assert compare(repo, store_dir, "--baseline", "HEAD", "--contender", "HEAD~1") == 0  # the speed-up is no regression


def test_the_baseline_is_the_nearest_ancestor_not_the_newest_run(repo, branches, tmp_path, capsys):
    store_dir = tmp_path / "history"
    times = {"k[x-cpu]": rounds(0.010, 12, 1)}
    store(store_dir, run_doc(branches["A"], "2026-01-01T00:00:00+00:00", times))
    store(store_dir, run_doc(branches["C"], "2026-01-05T00:00:00+00:00", times))  # newer, but not an ancestor of E
    store(store_dir, run_doc(branches["E"], "2026-01-03T00:00:00+00:00", times))
    assert compare(repo, store_dir, "--contender", branches["E"][:10]) == 0
    assert f"baseline:  {branches['A'][:12]}" in capsys.readouterr().out
    runs = history.load_history(store_dir).runs
    by_commit = {r.commit: r for r in runs}
    assert history.nearest_ancestor_run(repo, runs, by_commit[branches["C"]]) is by_commit[branches["A"]]


def test_a_merge_takes_the_nearest_parent_side_and_other_machines_never_count(repo, branches, tmp_path):
    store_dir = tmp_path / "history"
    times = {"k[x-cpu]": rounds(0.010, 12, 1)}
    store(store_dir, run_doc(branches["D"], "2026-01-01T00:00:00+00:00", times))  # distance 2 from M
    store(store_dir, run_doc(branches["E"], "2026-01-02T00:00:00+00:00", times,
                             cpu={"brand_raw": "Other CPU", "count": 64}))  # distance 1, another machine
    store(store_dir, run_doc(branches["M"], "2026-01-03T00:00:00+00:00", times))
    runs, machine = history.machine_runs(history.load_history(store_dir), None)
    assert machine == f"{FOLDER}/amd-epyc-9b45-2cpu" and len(runs) == 2
    assert history.nearest_ancestor_run(repo, runs, runs[-1]).commit == branches["D"]
    store(store_dir, run_doc(branches["C"], "2026-01-04T00:00:00+00:00", times))  # first parent, distance 1
    runs, _ = history.machine_runs(history.load_history(store_dir), machine)
    contender = next(r for r in runs if r.commit == branches["M"])
    assert history.nearest_ancestor_run(repo, runs, contender).commit == branches["C"]


def test_a_dirty_run_is_compared_with_its_own_commit(repo, tmp_path, capsys):
    a, b = commit(repo, "a"), commit(repo, "b")
    store_dir = tmp_path / "history"
    store(store_dir, run_doc(a, "2026-01-01T00:00:00+00:00", {"k[x-cpu]": rounds(0.010, 12, 1)}))
    store(store_dir, run_doc(b, "2026-01-02T00:00:00+00:00", {"k[x-cpu]": rounds(0.010, 12, 2)}))
    store(store_dir, run_doc(b, "2026-01-03T00:00:00+00:00", {"k[x-cpu]": rounds(0.020, 12, 3)}, dirty=True))
    assert compare(repo, store_dir) == 1
    out = capsys.readouterr().out
    assert f"baseline:  {b[:12]} " in out and f"contender: {b[:12]}-dirty" in out


def test_compare_without_an_ancestor_run_has_nothing_to_compare(repo, tmp_path, capsys):
    store_dir = tmp_path / "history"
    store(store_dir, run_doc(commit(repo, "a"), "2026-01-01T00:00:00+00:00", {"k[x-cpu]": rounds(0.01, 10, 1)}))
    assert compare(repo, store_dir) == 0
    assert "nothing to compare" in capsys.readouterr().out


def test_a_range_starts_at_its_base(repo, branches):
    from bench.commits import range_commits

    assert range_commits(repo, "HEAD~1..HEAD") == [branches["C"], branches["D"], branches["E"], branches["M"]]
    assert range_commits(repo, f"{branches['A']}..{branches['C']}") == [branches[c] for c in "ABC"]
    assert range_commits(repo, "HEAD^!") == [branches["M"]]
    assert range_commits(repo, branches["B"]) == [branches["A"], branches["B"]]  # git rev-list B: B's history


# --- bad input: one line naming the file, never a traceback -------------------------------------------


def one_error_line(capsys) -> str:
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err, err
    return err


@pytest.mark.parametrize("text, message", [
    ('{"machine_info": {}, "commit_info": {"id": "ab', "truncated or invalid JSON"),
    ("[1, 2]", "expected a JSON object, found list"),
    ('{"machine_info": {}, "datetime": "2026-01-01T00:00:00", "benchmarks": []}', "'commit_info.id' is missing"),
    ('{"machine_info": {}, "commit_info": {"id": "a"}, "datetime": "2026-01-01T00:00:00", "benchmarks": '
     '[{"name": "test_k", "stats": {"median": 1.0, "q1": 1.0}}]}', "'q3' is missing"),
    ('{"machine_info": {}, "commit_info": {"id": "a"}, "datetime": "yesterday", "benchmarks": []}',
     "not a valid ISO time"),
])
def test_a_bad_run_file_is_one_line_naming_it(repo, tmp_path, capsys, text, message):
    store_dir = tmp_path / "history"
    store(store_dir, run_doc(commit(repo, "a"), "2026-01-01T00:00:00+00:00", {"k[x-cpu]": rounds(0.01, 10, 1)}))
    bad = store_dir / FOLDER / "0002_broken.json"
    bad.write_text(text)
    for command in (["compare"], ["publish", "--out", str(tmp_path / "site")]):
        assert main([*command, "--repo", str(repo), "--history", str(store_dir)]) == 2
        err = one_error_line(capsys)
        assert str(bad) in err and message in err, err


def test_a_bad_failed_record_is_one_line_naming_it(repo, tmp_path, capsys):
    store_dir = tmp_path / "history"
    record = store_dir / FOLDER / history.FAILED_FOLDER / f"{'a' * 40}.json"
    record.parent.mkdir(parents=True)
    record.write_text(json.dumps({"commit": "a" * 40, "exit_status": "four"}))
    assert main(["publish", "--repo", str(repo), "--history", str(store_dir), "--out", str(tmp_path / "s")]) == 2
    err = one_error_line(capsys)
    assert str(record) in err and "not a failed-commit record" in err


def test_a_missing_history_folder_is_one_line(repo, tmp_path, capsys):
    assert compare(repo, tmp_path / "nowhere") == 2
    assert "nowhere: no such history folder" in one_error_line(capsys)


def refuse_writes(monkeypatch, folder: Path) -> None:
    """Make ``folder`` read-only; as root, whom the mode does not stop, also make the kernel's refusal
    happen where the code creates files (tempfile for the run's check, redshift.core for the page)."""
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o555)
    if os.access(folder, os.W_OK):
        def refuse(*args, dir=None, **kwargs):
            raise PermissionError(13, "Permission denied", str(dir or args[0]))

        import redshift.core
        from bench import worktree
        monkeypatch.setattr(worktree.tempfile, "TemporaryFile", refuse)
        monkeypatch.setattr(redshift.core, "atomic_write_text", lambda path, text: refuse(path))


def test_a_read_only_folder_is_one_line(repo, tmp_path, monkeypatch, capsys):
    commit(repo, "a")
    store_dir = tmp_path / "history"
    store(store_dir, run_doc(git(repo, "rev-parse", "HEAD"), "2026-01-01T00:00:00+00:00",
                             {"k[x-cpu]": rounds(0.01, 10, 1)}))
    site, locked = tmp_path / "site", tmp_path / "locked"
    refuse_writes(monkeypatch, site)
    refuse_writes(monkeypatch, locked)
    try:
        assert main(["publish", "--repo", str(repo), "--history", str(store_dir), "--out", str(site)]) == 2
        assert "site" in one_error_line(capsys) and not (site / "index.html").exists()
        assert main(["run", "HEAD", "--repo", str(repo), "--history", str(locked)]) == 2
        assert "locked: Permission denied" in one_error_line(capsys)
    finally:
        site.chmod(0o755)
        locked.chmod(0o755)


def test_a_bad_revision_is_one_line(repo, tmp_path, capsys):
    commit(repo, "a")
    assert main(["run", "nosuchbranch..HEAD", "--repo", str(repo), "--history", str(tmp_path / "h")]) == 2
    assert "nosuchbranch" in one_error_line(capsys)


# --- storage layout ----------------------------------------------------------------------------------


def test_the_machine_folder_is_pytest_benchmarks():
    from pytest_benchmark.utils import get_machine_id  # only to check that the two agree

    assert history.storage_machine_id() == get_machine_id()


def test_hardware_keys():
    assert history.hardware_key(CPU, None) == "amd-epyc-9b45-2cpu"
    assert history.hardware_key(CPU, "NVIDIA H200") == "amd-epyc-9b45-2cpu-nvidia-h200"


def session_env() -> dict[str, str]:
    """This environment for a pytest session of its own (not an xdist worker's, under which
    pytest-benchmark would not time), on one thread."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_XDIST_")}
    return dict(env, OMP_NUM_THREADS="1")


def test_a_timing_run_is_stored_by_pytest_benchmark_with_raw_rounds(tmp_path):
    """`pytest bench --benchmark-enable --benchmark-autosave` on one small case: pytest-benchmark's own
    file, in its machine folder, with the raw rounds, the hardware key and the case id as params."""
    storage = tmp_path / "storage"
    done = subprocess.run([sys.executable, "-m", "pytest", "bench", "--benchmark-enable", "--benchmark-autosave",
                           f"--benchmark-storage=file://{storage}", "-k", "zlib_ratio and random-g64-b32-float32-cpu",
                           "--device", "cpu", "-p", "no:cacheprovider", "-q"],
                          cwd=ROOT, capture_output=True, text=True, env=session_env())
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "bench: kernel rates" in done.stdout
    files = list(storage.glob(f"*/{history.RUN_GLOB}"))
    assert [f.parent.name for f in files] == [FOLDER]
    doc = json.loads(files[0].read_text())
    (bench,) = doc["benchmarks"]
    assert len(bench["stats"]["data"]) >= 8 and bench["params"] == {"case": "random-g64-b32-float32", "device": "cpu"}
    assert bench["extra_info"]["id"] == "zlib_ratio[random-g64-b32-float32-cpu]" and bench["extra_info"]["speedup"] > 0
    assert doc["machine_info"]["machine_key"] == history.this_hardware()
    assert doc["redshift_bench"]["tier"] == "ci"
    run = history.load_run(files[0])
    assert run.commit == git(ROOT, "rev-parse", "HEAD") and list(run.results) == [bench["extra_info"]["id"]]


# --- timing vs correctness mode, devices (bench/conftest.py) --------------------------------------------


def fake_config(enable=False, only=False, dist="no"):
    options = {"benchmark_enable": enable, "benchmark_only": only, "dist": dist}
    return SimpleNamespace(getoption=lambda name, default=None: options.get(name, default))


def test_benchmarks_time_only_with_an_explicit_flag(monkeypatch):
    from bench.conftest import timing_mode

    monkeypatch.delenv("PYTEST_XDIST_WORKER", raising=False)  # this test may itself run under xdist
    assert not timing_mode(fake_config())
    assert timing_mode(fake_config(enable=True))
    assert timing_mode(fake_config(only=True))
    assert not timing_mode(fake_config(dist="load"))  # CI's `pytest -n 2`: correctness mode
    with pytest.raises(pytest.UsageError, match="does not time under xdist"):
        timing_mode(fake_config(enable=True, dist="load"))
    monkeypatch.setenv("PYTEST_XDIST_WORKER", "gw0")
    with pytest.raises(pytest.UsageError, match="does not time under xdist"):
        timing_mode(fake_config(enable=True))


def test_devices():
    import torch

    from bench.conftest import bench_devices

    assert bench_devices("auto") == ("cpu", "cuda") and bench_devices("cpu") == ("cpu",)
    with pytest.raises(pytest.UsageError):
        bench_devices("tpu")
    with pytest.raises(pytest.UsageError, match="cpu or cuda"):
        bench_devices("cuda:1")
    if not torch.cuda.is_available():
        with pytest.raises(pytest.UsageError, match="no CUDA device"):
            bench_devices("cuda")
