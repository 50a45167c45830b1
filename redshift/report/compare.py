"""Where does a new architecture sit? Its complexity under every metric across weight magnitudes (and
depths when it has one), its rank among the zoo with intervals, the nearest built-in architecture,
and its panel beside the zoo's in the heatmaps (one colour scale per metric).

Cells are measured exactly as the sweep's (redshift.report.sweep): same samples, grid, seeds by label,
medians with 95% bootstrap intervals. Ranks and the nearest architecture: redshift.report.ranking.
The comparison depth is the zoo's (``zoo_depth``) when the architecture takes a depth, else its own.
"""
import json
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from redshift.core import atomic_write_text, git_commit
from redshift.report import figures
from redshift.report.claims_table import cell
from redshift.report.ranking import nearest, rank_with_intervals
from redshift.report.sections import heatmap_figures, rank_magnitudes, ranking_table, zoo_depth, zoo_summaries
from redshift.report.sweep import NOISE, Sweep, machine, run_cells, zoo_architectures

KEYS = ("median", "low", "high")
NEAREST_SHOWN = 3


@dataclass
class Comparison:
    """The new architecture's cells (a Sweep with one architecture) next to the zoo's sweep."""

    name: str
    own_init: bool
    takes_depth: bool
    cells: Sweep
    zoo: Sweep

    @property
    def magnitudes(self) -> tuple:
        return (None,) if self.own_init else self.zoo.settings.magnitudes

    @property
    def depths(self) -> tuple:
        return self.zoo.settings.depths if self.takes_depth else (None,)

    @property
    def depth(self) -> int | None:
        """The depth compared with the zoo."""
        return self.zoo.settings.zoo_depth if self.takes_depth else None

    def summary(self, metric: str, magnitude: float | None) -> tuple[float, float, float]:
        m = None if self.own_init else magnitude
        return tuple(self.cells.value(self.name, self.depth, m, metric, key) for key in KEYS)

    def profile(self) -> np.ndarray:
        """[metrics, magnitudes] medians at the comparison depth."""
        return np.array([[self.cells.value(self.name, self.depth, m, metric) for m in self.magnitudes]
                         for metric in self.zoo.settings.metrics])


def measure_architecture(architecture, zoo: Sweep, device: str = "cpu", show_progress: bool = True) -> Comparison:
    """Sample and measure the architecture at every (magnitude, depth) the zoo sweep has (own init: no magnitude)."""
    s = zoo.settings
    architecture.check(s.resolution, device)
    magnitudes = (None,) if architecture.own_init else s.magnitudes
    depths = s.depths if architecture.takes_depth else (None,)
    cells = [(architecture.name, d, m) for m in magnitudes for d in depths]
    records = run_cells(cells, lambda c: architecture.label(c[1], c[2]),
                        lambda c, seed: architecture.sample(c[1], c[2], s.samples, seed, s.resolution, device),
                        s.metrics, s.seed, "compare", show_progress)
    sweep = Sweep(s, records, datetime.now(timezone.utc).isoformat(timespec="seconds"),
                  git_commit(Path(__file__).resolve().parents[2]), machine(device))
    return Comparison(architecture.name, architecture.own_init, architecture.takes_depth, sweep, zoo)


def metric_spread(zoo: Sweep) -> np.ndarray:
    """Per metric: max - min of every zoo median (the nearest-architecture distance's unit)."""
    spread = []
    for metric in zoo.settings.metrics:
        values = np.array([r["metrics"][metric].get("median", np.nan) for r in zoo.records if r["architecture"] != NOISE])
        values = values[np.isfinite(values)]
        spread.append(values.max() - values.min() if values.size > 1 and values.max() > values.min() else 1.0)
    return np.array(spread)


def candidates(comparison: Comparison) -> dict[str, np.ndarray]:
    """Built-in profiles [metrics, K]: with magnitudes, every zoo architecture at the zoo depth and every
    plain activation at every depth, over the magnitudes; with own init, every single zoo cell (K = 1)."""
    zoo = comparison.zoo
    s = zoo.settings
    metrics = s.metrics
    if comparison.own_init:
        return {f"{r['label']}": np.array([[r["metrics"][m].get("median", np.nan)] for m in metrics])
                for r in zoo.records if r["architecture"] != NOISE}
    profiles = {a if zoo_depth(zoo, a) is None else f"{a} (depth {zoo_depth(zoo, a)})": np.array(
        [[zoo.value(a, zoo_depth(zoo, a), mag, m) for mag in s.magnitudes] for m in metrics])
        for a in zoo_architectures(s)}
    for a in s.activations:
        for d in s.depths:
            profiles.setdefault(f"{a} (depth {d})", np.array([[zoo.value(a, d, mag, m) for mag in s.magnitudes]
                                                              for m in metrics]))
    return profiles


def complexity_table(comparison: Comparison, metric: str) -> str:
    """Rows: magnitude, columns: depth; median [95% interval] (flagged count)."""
    head = "| magnitude | " + " | ".join(f"depth {d}" if d is not None else "own depth" for d in comparison.depths)
    lines = [head + " |", "|---" * (len(comparison.depths) + 1) + "|"]
    for m in comparison.magnitudes:
        row = []
        for d in comparison.depths:
            r = comparison.cells.record(comparison.name, d, m)["metrics"][metric]
            text = f"{r['median']:.3g} [{r['low']:.3g}, {r['high']:.3g}]" if "median" in r else "all flagged"
            row.append(text + (f" ({r['flagged']} flagged)" if r["flagged"] else ""))
        lines.append(f"| {'own init' if m is None else f'{m:g}'} | " + " | ".join(row) + " |")
    return "\n".join(lines) + "\n"


def compare_report(comparison: Comparison, out: Path, zoo_path: str, command: str = "") -> tuple[Path, list[str]]:
    """Write ``out/index.md``, ``out/compare.json`` and the figures; returns the index and a terminal summary."""
    zoo, s, name = comparison.zoo, comparison.zoo.settings, comparison.name
    out.mkdir(parents=True, exist_ok=True)
    spread = metric_spread(zoo)
    ranked = nearest(comparison.profile(), candidates(comparison), spread)
    rank_at = rank_magnitudes(zoo)
    extra = {metric: {m: comparison.summary(metric, m) for m in rank_at} for metric in s.metrics}
    rankings = {metric: {m: rank_with_intervals({**zoo_summaries(zoo, metric, m), name: comparison.summary(metric, m)})
                         for m in rank_at} for metric in s.metrics}
    ranks = {metric: {m: r.get(name) for m, r in by_m.items()} for metric, by_m in rankings.items()}
    mode = ("its own initialisation (factory re-run per sample)" if comparison.own_init
            else f"weights re-drawn: {s.scheme} x magnitude")
    depth_text = f"depth {comparison.depth}" if comparison.depth is not None else "its own depth"

    panel_name = f"{name} (own init)" if comparison.own_init else name
    grids = {metric: comparison.cells.grid(name, metric, comparison.depths, comparison.magnitudes) for metric in s.metrics}
    for file, fig in heatmap_figures(zoo, {panel_name: (grids, comparison.magnitudes, comparison.depths)}).items():
        figures.save(fig, out / file)
    best = ranked[0][0].split(" (")[0] if not comparison.own_init else None
    for metric in s.metrics:
        curves = {a: np.array([zoo.value(a, zoo_depth(zoo, a), m, metric) for m in s.magnitudes])
                  for a in zoo_architectures(s)}
        highlight = {f"{panel_name} ({depth_text})": np.array([[comparison.summary(metric, m)[i] for m in s.magnitudes]
                                                                for i in range(3)])}
        if best in curves:
            highlight[f"nearest: {ranked[0][0]}"] = np.array(
                [[zoo.value(best, zoo_depth(zoo, best), m, metric, k) for m in s.magnitudes] for k in KEYS])
        figures.save(figures.profile_figure(metric, s.magnitudes, curves, highlight,
                                            f"{name} vs the zoo (grey) at depth {s.zoo_depth}"),
                     out / f"profile-{metric}.png")

    document = {"created": datetime.now(timezone.utc).isoformat(timespec="seconds"), "commit": comparison.cells.commit,
                "architecture": name, "own_init": comparison.own_init, "compared_depth": comparison.depth,
                "zoo": zoo_path, "settings": s.to_json(), "cells": comparison.cells.records,
                "ranks": {metric: {f"{m:g}": vars(r) if r else None for m, r in by_m.items()}
                          for metric, by_m in ranks.items()},
                "nearest": [{"architecture": a, "distance": d} for a, d in ranked[:10]],
                "distance": "RMS over metrics and magnitudes of (median difference / zoo spread of the metric)",
                "spread": dict(zip(s.metrics, spread.tolist()))}
    atomic_write_text(out / "compare.json", json.dumps(document, indent=1, allow_nan=False) + "\n")

    nearest_lines = [f"{i + 1}. {cell(a)}: distance {d:.3f}" for i, (a, d) in enumerate(ranked[:NEAREST_SHOWN])]
    md = [f"# Where does `{name}` sit?", "",
          f"Commit `{comparison.cells.commit}`, device {comparison.cells.machine['device']}, command `{command}`. "
          f"Zoo: `{zoo_path}` ({zoo.created}). Settings: {s.describe()}. Parameters: {mode}.", "",
          "## Nearest built-in architecture", "",
          "Distance: root mean square, over every metric and every weight magnitude both define, of the difference of "
          "medians divided by that metric's spread over the zoo (max - min of every zoo median: "
          + ", ".join(f"{m} {v:.3g}" for m, v in zip(s.metrics, spread)) + ")"
          + (", between single cells (own initialisation has no magnitude axis)" if comparison.own_init else "")
          + f"; the new architecture at {depth_text}.", "", *nearest_lines, "",
          "## Rank among the zoo", "",
          f"At depth {s.zoo_depth} (the new architecture at {depth_text}); 1 = simplest; rank intervals as in the "
          f"report's ranking (95% intervals of the medians).", ""]
    for metric in s.metrics:
        md += [f"### {metric}", "", f"![profile-{metric}.png](profile-{metric}.png)", "",
               ranking_table(zoo, metric, {name: extra[metric]})]
    md += ["## Complexity across weight magnitude and depth", "",
           f"Median [95% interval] over {s.samples} networks per cell.", ""]
    for metric in s.metrics:
        md += [f"### {metric}", "", complexity_table(comparison, metric),
               f"Its panel in the heatmap (shared colour scale with the zoo):", "",
               f"![heatmap-{metric}.png](heatmap-{metric}.png)", ""]
    index = out / "index.md"
    atomic_write_text(index, "\n".join(md) + "\n")

    summary = [f"{name}: {mode}; compared at {depth_text}; {s.samples} networks per cell"]
    for metric in s.metrics:
        parts = []
        for m in rank_at:
            median, low, high = comparison.summary(metric, m)
            parts.append(f"magnitude {m:g}: {median:.3g} [{low:.3g}, {high:.3g}] rank {ranks[metric][m]} "
                         f"of {len(rankings[metric][m])}")
        summary.append(f"  {metric:<16} " + "; ".join(parts))
    summary.append("  nearest built-in: " + "; ".join(f"{a} (distance {d:.3f})" for a, d in ranked[:NEAREST_SHOWN]))
    summary.append(f"  report: {index}")
    return index, summary
