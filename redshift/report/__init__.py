"""Reports: Neural Redshift heatmaps, function gallery, claims table, zoo ranking (``python -m redshift.report
build``), and "where does my architecture sit?" (``python -m redshift.report compare ARCH``). Needs the
optional extra ``report`` (matplotlib) for the figures.

Modules: sweep (the numbers), gallery (sample functions), figures (matplotlib), ranking (ranks with
intervals, nearest architecture), claims_table, sections + index (the pluggable Markdown report),
architecture (user YAML entries and factories), compare, progress.
"""
