"""Timing harness of the sampling and metric kernels (docs/benchmarks.md; README "Performance").

``pytest bench`` checks every kernel once against a plain reference; ``pytest bench --benchmark-enable``
times them, and ``--benchmark-autosave`` stores the run in pytest-benchmark's storage (bench/conftest.py).
``python -m bench.history`` compares runs by asv's rule with ancestry baselines, times commit ranges
in temporary worktrees (bench/worktree.py) and publishes a static history page (bench/publish.py,
bench/steps.py); ``bench/gpu-check`` is the prepared check for a CUDA machine.
"""
