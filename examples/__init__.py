"""Worked examples: user architectures to compare with the zoo (README "Compare a new architecture")."""
