"""Worked examples: user architectures to compare with the zoo (docs/report.md)."""
