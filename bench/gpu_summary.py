"""The summary of bench/gpu-check, from the steps' exit statuses and the bench step's JSON:

    python -m bench.gpu_summary OUT/bench.json unit=0 bench=0 claims=0

The JSON is pytest-benchmark's ``--benchmark-json`` document, read through its documented fields:
``machine_info`` (bench/conftest.py's ``redshift_bench.cuda``: name, memory, capability), the top-level
``redshift_bench.matmul_gflops`` (the fp32 matmul rates measured in the session) and every benchmark's
``extra_info`` (bench/core.py: id, gflops, pct_peak, speedup, reference). The target it reports is
bench/params.py's CUDA one: the sampler at >= 50% of the GPU's fp32 matmul rate for width-256 networks.
"""
from __future__ import annotations

import sys
from datetime import datetime, timezone
from pathlib import Path

from bench import params
from bench.history import HistoryError, read_json

STEPS = {"unit": "CUDA unit tests (pytest tests -k cuda)",
         "bench": "bench/ on cuda, ci tier, timed (pytest bench --device cuda --benchmark-enable)",
         "claims": "CUDA claims (pytest cases/activations.yaml --device cuda)"}


def status_lines(statuses: dict[str, int]) -> list[str]:
    words = {0: "passed", 124: "OUT OF TIME"}
    return [f"  {STEPS.get(name, name)}: {words.get(code, f'FAILED (exit status {code})')}"
            for name, code in statuses.items()]


def cuda_results(doc: dict) -> list[dict]:
    """extra_info of every CUDA benchmark, in the run's order."""
    return [b["extra_info"] for b in doc.get("benchmarks", []) if (b.get("extra_info") or {}).get("device") == "cuda"]


def device_lines(doc: dict) -> list[str]:
    gpu = ((doc.get("machine_info") or {}).get("redshift_bench") or {}).get("cuda") or {}
    rate = ((doc.get("redshift_bench") or {}).get("matmul_gflops") or {}).get("cuda")
    lines = [f"device: {gpu.get('name', 'unknown')} (compute capability {gpu.get('capability', '?')}, "
             f"{gpu.get('memory_bytes', 0) / 2**30:.0f} GiB, CUDA {gpu.get('cuda_version', '?')})"]
    lines.append(f"fp32 matmul rate: {rate:.0f} GFLOP/s (8192^2 torch.mm into a preallocated output, median of 20)"
                 if rate else "fp32 matmul rate: not measured (no sampler case ran)")
    return lines


def sampler_lines(results: list[dict]) -> list[str]:
    rows = [r for r in results if r.get("kernel") == "sampler" and "[w256-" in r.get("id", "") and "pct_peak" in r]
    lines = ["sampler, width-256 networks: GFLOP/s and % of the fp32 matmul rate"]
    lines += [f"  {r['id']:50}  {r['gflops']:9.0f}  {r['pct_peak']:5.1f}%" for r in rows] or ["  none measured"]
    return lines


def target_lines(results: list[dict]) -> list[str]:
    by_id = {r["id"]: r for r in results}
    lines = []
    for target in (t for t in params.TARGETS if "cuda" in t.devices):
        value = by_id.get(target.key, {}).get(target.field)
        verdict = "not measured" if value is None else (
            f"{value:.3g}: {'met' if target.met(value) else 'MISSED'}")
        lines.append(f"target: {target.key} {target.field} {target.op} {target.bound:g} ({target.what}): {verdict}")
    return lines


def speedup_lines(results: list[dict]) -> list[str]:
    rows = [r for r in results if "speedup" in r]
    lines = ["kernel speed-ups over their references (reference time / median)"]
    lines += [f"  {r['id']:50}  {r['speedup']:9.3g}x  vs {r.get('reference', '')}" for r in rows] or ["  none measured"]
    return lines


def summary(bench_json: Path, statuses: dict[str, int], now: datetime) -> str:
    lines = [f"GPU check (bench/gpu-check), {now:%Y-%m-%d %H:%M} UTC", "steps:", *status_lines(statuses)]
    try:
        doc = read_json(Path(bench_json))
    except HistoryError as exc:
        return "\n".join(lines + [f"bench results: none ({exc})"]) + "\n"
    results = cuda_results(doc)
    lines += device_lines(doc) + sampler_lines(results) + target_lines(results) + speedup_lines(results)
    return "\n".join(lines) + "\n"


def parse_status(text: str) -> tuple[str, int]:
    name, _, code = text.partition("=")
    return name, int(code)


def main(argv: list[str]) -> int:
    if not argv:
        print("usage: python -m bench.gpu_summary BENCH_JSON [STEP=STATUS ...]", file=sys.stderr)
        return 2
    statuses = dict(parse_status(a) for a in argv[1:])
    sys.stdout.write(summary(Path(argv[0]), statuses, datetime.now(timezone.utc)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
