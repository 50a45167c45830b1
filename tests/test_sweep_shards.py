"""The report sweep split into shards (``build --shard i/N``) and merged (``redshift merge``) equals the
serial sweep, record for record; bad shard sets are one-line errors."""
import json

import pytest

from redshift.cli import main
from redshift.merge import MergeError, merge_files
from redshift.report.sweep import Sweep, SweepSettings, run_sweep, sweep_cells

SMALL = SweepSettings(samples=3, resolution=24, width=8, magnitudes=(0.5, 5.0), depths=(1, 2),
                      activations=("relu", "tanh", "sine"), metrics=("lz", "fourier", "chebyshev"), zoo_depth=2)


@pytest.fixture(scope="module")
def serial() -> Sweep:
    return run_sweep(SMALL, "cpu", False)


def shards(tmp_path, count: int, parts=("heatmaps", "zoo")) -> list:
    paths = []
    for index in range(1, count + 1):
        path = tmp_path / f"shard-{index}.json"
        run_sweep(SMALL, "cpu", False, parts=parts, shard=(index, count)).write(path)
        paths.append(path)
    return paths


@pytest.mark.parametrize("count", [1, 3, 7])
def test_merged_shards_equal_the_serial_sweep(tmp_path, serial, count):
    paths = shards(tmp_path, count)
    sizes = [len(json.loads(p.read_text())["cells"]) for p in paths]
    assert sum(sizes) == len(serial.records) and max(sizes) - min(sizes) <= 1  # every N-th cell
    document = merge_files(paths, tmp_path / "sweep.json")
    merged = Sweep.read(tmp_path / "sweep.json")
    assert merged.records == serial.records  # same cells, same order, same numbers
    assert merged.settings == serial.settings and merged.parts == serial.parts and merged.shard is None
    assert [m["shard"] for m in document["merged_from"]] == [f"{i}/{count}" for i in range(1, count + 1)]


def test_missing_repeated_and_mismatched_shards_are_refused(tmp_path):
    a, b, c = shards(tmp_path, 3)
    with pytest.raises(MergeError, match="^shards of 3: missing 2/3$"):
        merge_files([a, c], tmp_path / "out.json")
    with pytest.raises(MergeError, match="^shards of 3: 1/3 given twice$"):
        merge_files([a, a, b, c], tmp_path / "out.json")
    other = tmp_path / "other.json"
    run_sweep(SMALL, "cpu", False, parts=("heatmaps",), shard=(2, 3)).write(other)
    with pytest.raises(MergeError, match="^sweep parts .* differs"):
        merge_files([a, other, c], tmp_path / "out.json")
    serial_file = tmp_path / "serial.json"
    run_sweep(SMALL, "cpu", False, parts=("heatmaps",)).write(serial_file)
    with pytest.raises(MergeError, match="serial.json: not a shard"):
        merge_files([serial_file], tmp_path / "out.json")
    results = tmp_path / "results.json"
    results.write_text(json.dumps({"settings": {}, "measurements": [], "claims": []}))
    with pytest.raises(MergeError, match="cannot merge sweep.json and results.json files together"):
        merge_files([a, results], tmp_path / "out.json")
    assert not (tmp_path / "out.json").exists()


def test_shard_cells_partition_the_sweep():
    cells = sweep_cells(SMALL)
    taken = [tuple((r["architecture"], r["depth"], r["magnitude"]))
             for i in (1, 2) for r in run_sweep(SMALL, "cpu", False, shard=(i, 2)).records]
    assert sorted(taken, key=str) == sorted(cells, key=str)
    with pytest.raises(ValueError, match="shard 3/2"):
        run_sweep(SMALL, "cpu", False, shard=(3, 2))


SWEEP_ARGS = ["--samples", "3", "--resolution", "24", "--width", "8", "--magnitudes", "0.5,5", "--depths", "1,2",
              "--activations", "relu,tanh", "--metrics", "lz,fourier", "--quiet"]


def test_build_shards_merge_and_build_from_the_merged_sweep(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    out = tmp_path / "shards"
    for index in (1, 2):
        assert main(["build", "--sections", "heatmaps", "--shard", f"{index}/2", "--out", str(out), *SWEEP_ARGS]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["sweep-shard-1-of-2.json", "sweep-shard-2-of-2.json"]
    merged = tmp_path / "sweep.json"
    assert main(["merge", str(out / "sweep-shard-1-of-2.json"), str(out / "sweep-shard-2-of-2.json"),
                 "-o", str(merged)]) == 0
    assert "2 sweep shards" in capsys.readouterr().out
    report = tmp_path / "report"
    assert main(["build", "--sections", "heatmaps", "--sweep", str(merged), "--out", str(report), "--quiet",
                 "--results-json", str(tmp_path / "none.json")]) == 0
    assert (report / "index.md").exists() and Sweep.read(report / "sweep.json").records == Sweep.read(merged).records
    serial = run_sweep(Sweep.read(merged).settings, "cpu", False, parts=("heatmaps",))
    assert Sweep.read(merged).records == serial.records


@pytest.mark.parametrize("value, message", [("0/2", "expected i/N with 1 <= i <= N, got '0/2'"),
                                            ("x", "expected i/N (e.g. 2/4), got 'x'")])
def test_bad_shard_values_are_one_usage_line(tmp_path, capsys, value, message):
    with pytest.raises(SystemExit) as exit_info:
        main(["build", "--out", str(tmp_path), "--shard", value])
    err = capsys.readouterr().err
    assert exit_info.value.code == 2 and message in err and len(err.strip().splitlines()) == 1


def test_shard_with_run_claims_is_one_line(tmp_path, capsys):
    assert main(["build", "--out", str(tmp_path), "--shard", "1/2", "--run-claims"]) == 2
    err = capsys.readouterr().err
    assert "--shard measures a sweep shard only" in err and len(err.strip().splitlines()) == 1


def test_build_from_a_shard_or_a_sweep_without_the_parts_is_refused(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    shard = tmp_path / "shard.json"
    run_sweep(SMALL, "cpu", False, parts=("heatmaps",), shard=(1, 2)).write(shard)
    assert main(["build", "--sections", "heatmaps", "--sweep", str(shard), "--out", str(tmp_path / "r")]) == 2
    assert "shard 1/2 only; `redshift merge` the shards first" in capsys.readouterr().err
    heatmaps = tmp_path / "heatmaps.json"
    run_sweep(SMALL, "cpu", False, parts=("heatmaps",)).write(heatmaps)
    assert main(["build", "--sweep", str(heatmaps), "--out", str(tmp_path / "r")]) == 2
    assert "has no zoo cells" in capsys.readouterr().err
