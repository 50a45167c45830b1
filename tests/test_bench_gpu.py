"""bench/gpu-check without a GPU (one line, exit status 2, nothing written) and its summary
(bench/gpu_summary.py) from a synthetic pytest-benchmark JSON document of a CUDA run."""
import json
import os
import subprocess
from datetime import datetime, timezone
from pathlib import Path

import pytest
import torch

from bench import gpu_summary

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "bench" / "gpu-check"


def test_the_script_is_executable():
    assert os.access(SCRIPT, os.X_OK) and SCRIPT.read_text().startswith("#!/usr/bin/env bash")


@pytest.mark.skipif(torch.cuda.is_available(), reason="a CUDA device is present: run bench/gpu-check itself")
def test_without_cuda_it_says_so_in_one_line(tmp_path):
    out = tmp_path / "gpu"
    done = subprocess.run([str(SCRIPT), str(out)], capture_output=True, text=True, timeout=120,
                          env=dict(os.environ, CUDA_VISIBLE_DEVICES=""))
    assert done.returncode == 2
    assert done.stdout.splitlines() == ["gpu-check: no CUDA device (torch.cuda.is_available() is False): "
                                        "nothing checked"] and done.stderr == ""
    assert not out.exists()


def cuda_run() -> dict:
    def bench(key, **info):
        return {"name": f"test_{key}", "extra_info": {"id": key, "kernel": key.split("[")[0], "device": "cuda", **info}}

    return {"machine_info": {"redshift_bench": {"cuda": {"name": "NVIDIA H200", "capability": "9.0",
                                                         "memory_bytes": 150_000_000_000, "cuda_version": "12.8"}}},
            "redshift_bench": {"matmul_gflops": {"cuda": 50000.0, "cpu": 200.0}},
            "benchmarks": [
                bench("sampler[w256-d7-g256-b256-relu-float32-cuda]", gflops=30000.0, pct_peak=60.0, speedup=40.0,
                      reference="per-network torch.nn loop"),
                bench("sampler[w256-d3-g64-b32-relu-float32-cuda]", gflops=5000.0, pct_peak=10.0, speedup=12.0,
                      reference="per-network torch.nn loop"),
                bench("sampler[w64-d3-g64-b32-relu-float32-cuda]", gflops=900.0, pct_peak=1.8),
                bench("lz76[random-bits4096-b32-cuda]", speedup=900.0, reference="per-sequence Python LZ76 loop"),
                {"name": "test_cpu_one", "extra_info": {"id": "x[cpu]", "device": "cpu", "speedup": 3.0}}]}


def test_the_summary_reports_device_rate_sampler_share_target_and_speedups(tmp_path):
    path = tmp_path / "bench.json"
    path.write_text(json.dumps(cuda_run()))
    text = gpu_summary.summary(path, {"unit": 0, "bench": 0, "claims": 124},
                               datetime(2026, 1, 2, 3, 4, tzinfo=timezone.utc))
    lines = text.splitlines()
    assert lines[0] == "GPU check (bench/gpu-check), 2026-01-02 03:04 UTC"
    assert any(line.endswith("CUDA claims (pytest cases/activations.yaml --device cuda): OUT OF TIME") for line in lines)
    assert "device: NVIDIA H200 (compute capability 9.0, 140 GiB, CUDA 12.8)" in lines
    assert any(line.startswith("fp32 matmul rate: 50000 GFLOP/s") for line in lines)
    share = [line for line in lines if line.startswith("  sampler[w256-") and line.endswith("%")]
    assert len(share) == 2 and "60.0%" in share[0] and "w64" not in text.split("speed-ups")[0]
    assert ("target: sampler[w256-d7-g256-b256-relu-float32-cuda] pct_peak >= 50 (% of the GPU's fp32 matmul "
            "rate): 60: met") in lines
    speedups = text.split("speed-ups")[1]
    assert "lz76[random-bits4096-b32-cuda]" in speedups and "900x" in speedups and "x[cpu]" not in speedups


def test_the_summary_without_bench_results_says_why(tmp_path):
    text = gpu_summary.summary(tmp_path / "missing.json", {"bench": 124}, datetime(2026, 1, 1, tzinfo=timezone.utc))
    assert "OUT OF TIME" in text and f"bench results: none ({tmp_path / 'missing.json'}: cannot read" in text
