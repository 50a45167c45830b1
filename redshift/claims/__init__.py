"""The claims framework: case files -> claims -> measurements -> verdicts -> pytest items -> results."""
