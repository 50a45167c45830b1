"""Is a metric insensitive to float32? The evidence behind redshift.claims.measure.PRECISION.

    python -m bench.precision [--samples 8] [--resolution 64] [--json OUT]

Measures every cell of the report's sweep (heatmaps and zoo: every activation and variant x the
default magnitudes x depths, plus the public code's W, b ~ U(-a, a) heatmap setting at one network per
cell) three times with the same networks: float64, float32, and float32 with near-constant networks
evaluated again in float64 (``auto``'s float32: redshift.claims.measure.PROMOTED). Per metric and
precision it prints how far the cells' medians move from float64: the largest and the 99th
percentile of |median32 - median64| / max(|median64|, floor), and the share of cells whose float32
median falls outside the float64 median's 95% interval (a change a claim could see). A metric may
take float32 only if that share is 0 on both settings.
"""
import argparse
import dataclasses
import json
from contextlib import contextmanager

import numpy as np

from redshift.claims import measure
from redshift.claims.measure import AUTO, Measurer
from redshift.core import atomic_write_text
from redshift.metrics import METRICS
from redshift.report.sweep import SWEEP_PARTS, SweepSettings, run_sweep

#: |median| below this counts as this (LZ and the spectra are O(1) or larger; chebyshev ~1e-2).
FLOOR = 1e-3


@contextmanager
def precision(table: dict[str, str]):
    """PRECISION temporarily replaced (the study measures ``auto`` as if every metric took float32)."""
    saved = dict(measure.PRECISION)
    measure.PRECISION.update(table)
    try:
        yield
    finally:
        measure.PRECISION.clear()
        measure.PRECISION.update(saved)


def sweep_medians(settings: SweepSettings, parts) -> dict[tuple, dict[str, dict]]:
    sweep = run_sweep(settings, "cpu", False, Measurer(settings.seed, "cpu"), parts)
    return {(r["architecture"], r["depth"], r["magnitude"]): r["metrics"] for r in sweep.records}


def compare(reference: dict, other: dict, metrics) -> dict[str, dict]:
    """Per metric: max and p99 relative change of the medians, and cells outside the reference interval."""
    out = {}
    for metric in metrics:
        changes, outside, cells = [], 0, 0
        for cell, ref in reference.items():
            a, b = ref[metric], other[cell][metric]
            if "median" not in a or "median" not in b:
                continue
            cells += 1
            changes.append(abs(b["median"] - a["median"]) / max(abs(a["median"]), FLOOR))
            outside += not (a["low"] <= b["median"] <= a["high"])
        changes = np.asarray(changes)
        out[metric] = {"cells": cells, "max_change": float(changes.max()) if cells else None,
                       "p99_change": float(np.quantile(changes, 0.99)) if cells else None,
                       "outside": outside, "outside_share": outside / cells if cells else None}
    return out


def study(samples: int, resolution: int) -> dict:
    float32_everywhere = {m: "float32" for m in METRICS}
    settings = {
        "default sweep": (SweepSettings(samples=samples, resolution=resolution), SWEEP_PARTS),
        "public heatmap setting": (SweepSettings(samples=samples, resolution=resolution, scheme="uniform",
                                                 bias_scale=None), ("heatmaps",)),
    }
    result = {}
    for name, (base, parts) in settings.items():
        f64 = sweep_medians(dataclasses.replace(base, dtype="float64"), parts)
        f32 = sweep_medians(dataclasses.replace(base, dtype="float32"), parts)
        with precision(float32_everywhere):
            promoted = sweep_medians(dataclasses.replace(base, dtype=AUTO), parts)
        result[name] = {"float32": compare(f64, f32, base.metrics), "float32-promoted": compare(f64, promoted, base.metrics)}
    return result


def table(result: dict) -> str:
    lines = ["| setting | precision | metric | cells | max change | p99 change | outside the float64 interval |",
             "|---|---|---|---|---|---|---|"]
    for name, by_precision in result.items():
        for label, by_metric in by_precision.items():
            for metric, row in by_metric.items():
                lines.append(f"| {name} | {label} | `{metric}` | {row['cells']} | {row['max_change']:.3g} | "
                             f"{row['p99_change']:.3g} | {row['outside']} ({100 * row['outside_share']:.1f}%) |")
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.precision", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--samples", type=int, default=8)
    parser.add_argument("--resolution", type=int, default=64)
    parser.add_argument("--json", default=None)
    args = parser.parse_args(argv)
    result = study(args.samples, args.resolution)
    print(table(result))
    if args.json:
        atomic_write_text(args.json, json.dumps(result, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
