"""bench/precision.py: the float32-vs-float64 comparison behind redshift.claims.measure.PRECISION."""
import pytest

from bench.precision import compare, precision, table
from redshift.claims import measure


def cell(median, low, high):
    return {"lz": {"median": median, "low": low, "high": high}}


def test_changes_and_cells_outside_the_float64_interval():
    f64 = {("relu", 1, 1.0): cell(10.0, 9.0, 11.0), ("tanh", 1, 1.0): cell(20.0, 19.0, 21.0),
           ("sine", 1, 1.0): {"lz": {"n": 4, "flagged": 4}}}
    f32 = {("relu", 1, 1.0): cell(10.5, 9.0, 11.0), ("tanh", 1, 1.0): cell(22.0, 20.0, 23.0),
           ("sine", 1, 1.0): cell(5.0, 4.0, 6.0)}
    row = compare(f64, f32, ["lz"])["lz"]
    assert row["cells"] == 2  # a cell without a float64 median is not compared
    assert row["max_change"] == pytest.approx(0.1) and row["outside"] == 1 and row["outside_share"] == 0.5
    text = table({"s": {"float32": {"lz": row}}})
    assert "| s | float32 | `lz` | 2 | 0.1 |" in text and "| 1 (50.0%) |" in text


def test_precision_table_is_restored():
    before = dict(measure.PRECISION)
    with precision({m: "float32" for m in before}):
        assert set(measure.PRECISION.values()) == {"float32"}
    assert measure.PRECISION == before
