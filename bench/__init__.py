"""Timing harness of the sampling and metric kernels (issue 3; README "Performance").

`pytest bench` times every kernel next to a plain reference; `python -m bench.history` saves,
compares and plots runs across commits. See bench/conftest.py for the modes and options.
"""
