"""Where does a new architecture sit? Its complexity under every metric across weight magnitudes (and
depths when it has one), its rank among the zoo with intervals, the nearest built-in architecture,
its panel beside the zoo's in the heatmaps (one colour scale per metric), and the ``--fail-if``
conditions a CI gate checks.

Cells are ``network`` or ``module`` subjects (redshift.report.architecture) measured through the
claims' ``Measurer`` by the sweep's ``measure_cells``, with the zoo's seed, samples, grid and precision: seeds
from the canonical spec, medians with 95% bootstrap intervals, as every zoo cell. Ranks and the
nearest architecture: redshift.report.ranking. The comparison depth is the zoo's (``zoo_depth``)
when the architecture takes a depth, else its own.

Conditions (``--fail-if``: the run fails when one holds, or is undefined because every network of the
cell was flagged; parsed without eval)::

    condition := quantity OP NUMBER | "nearest" ("==" | "!=") ARCHITECTURE
    quantity  := "rank(" METRIC "," MAGNITUDE ")"            rank among the zoo and it at that magnitude (1 = simplest)
               | ("median" | "low" | "high") "(" METRIC ["," MAGNITUDE] ")"    its median / 95% interval
               | "distance(" ARCHITECTURE ")"                 its distance to the nearest candidate of that architecture
    OP        := "<" | "<=" | ">" | ">=" | "==" | "!="

MAGNITUDE is one of the zoo's weight magnitudes (omitted for median / low / high with own
initialisation, which has no magnitude axis); ARCHITECTURE a zoo name (``relu``, ``tanh+ln``,
``unbiased``). ``nearest`` is the nearest candidate's architecture (a candidate of ``relu`` is relu
at the zoo depth, or for a plain activation at any depth of the sweep; with own init, any cell).
"""
import json
import operator
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import cached_property
from pathlib import Path

import numpy as np

from redshift.claims.measure import Measurer
from redshift.core import atomic_write_text, git_commit
from redshift.report import figures
from redshift.report.claims_table import cell
from redshift.report.ranking import Rank, nearest, rank_with_intervals
from redshift.report.sections import heatmap_figures, rank_magnitudes, ranking_table, zoo_depth, zoo_summaries
from redshift.report.sweep import NOISE, Sweep, SweepSettings, machine, measure_cells, zoo_architectures

KEYS = ("median", "low", "high")
NEAREST_SHOWN = 3


class ConditionError(ValueError):
    """A ``--fail-if`` condition that does not parse or names what the zoo does not have (one line)."""


@dataclass(frozen=True)
class Candidate:
    """A built-in profile the new architecture is compared with: [metrics, K] medians of ``architecture``."""

    architecture: str
    profile: np.ndarray = field(compare=False)


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
        """(median, low, high) at the comparison depth (own init: its one cell, whatever the magnitude)."""
        m = None if self.own_init else magnitude
        return tuple(self.cells.value(self.name, self.depth, m, metric, key) for key in KEYS)

    def profile(self) -> np.ndarray:
        """[metrics, magnitudes] medians at the comparison depth."""
        return np.array([[self.cells.value(self.name, self.depth, m, metric) for m in self.magnitudes]
                         for metric in self.zoo.settings.metrics])

    def ranking(self, metric: str, magnitude: float) -> dict[str, Rank]:
        """Ranks of the zoo and the new architecture at ``magnitude`` (the zoo depth; it at its own)."""
        return rank_with_intervals({**zoo_summaries(self.zoo, metric, magnitude), self.name: self.summary(metric, magnitude)})

    @cached_property
    def spread(self) -> np.ndarray:
        return metric_spread(self.zoo)

    @cached_property
    def candidates(self) -> dict[str, Candidate]:
        return candidates(self)

    @cached_property
    def nearest(self) -> list[tuple[str, float]]:
        """Every candidate's name and distance, nearest first."""
        return nearest(self.profile(), {k: c.profile for k, c in self.candidates.items()}, self.spread)


def measure_architecture(architecture, zoo: Sweep, measurer: Measurer, show_progress: bool = True) -> Comparison:
    """Measure the architecture's subject at every (magnitude, depth) the zoo sweep has (own init: no
    magnitude), through ``measurer`` (the zoo's seed: ``Measurer(zoo.settings.seed, device)``)."""
    s = zoo.settings
    magnitudes = (None,) if architecture.own_init else s.magnitudes
    depths = s.depths if architecture.takes_depth else (None,)
    cells = [(architecture.name, d, m) for m in magnitudes for d in depths]
    subjects = [architecture.subject(d, m) for _, d, m in cells]
    records = measure_cells(cells, subjects, measurer, s.metrics, s.samples, s.resolution, "compare", show_progress,
                            dtype=s.dtype)
    sweep = Sweep(s, records, datetime.now(timezone.utc).isoformat(timespec="seconds"), git_commit(Path.cwd()),
                  machine(measurer.device))
    return Comparison(architecture.name, architecture.own_init, architecture.takes_depth, sweep, zoo)


def metric_spread(zoo: Sweep) -> np.ndarray:
    """Per metric: max - min of every zoo median (the nearest-architecture distance's unit)."""
    spread = []
    for metric in zoo.settings.metrics:
        values = np.array([r["metrics"][metric].get("median", np.nan) for r in zoo.records if r["architecture"] != NOISE])
        values = values[np.isfinite(values)]
        spread.append(values.max() - values.min() if values.size > 1 and values.max() > values.min() else 1.0)
    return np.array(spread)


def candidates(comparison: Comparison) -> dict[str, Candidate]:
    """Built-in profiles [metrics, K] by display name: with magnitudes, every zoo architecture at the zoo
    depth and every plain activation at every depth, over the magnitudes; with own init, every single
    zoo cell (K = 1)."""
    zoo = comparison.zoo
    s = zoo.settings
    if comparison.own_init:
        return {r["label"]: Candidate(r["architecture"], np.array([[r["metrics"][m].get("median", np.nan)]
                                                                   for m in s.metrics]))
                for r in zoo.records if r["architecture"] != NOISE}

    def profile(architecture: str, depth: int | None) -> np.ndarray:
        return np.array([[zoo.value(architecture, depth, mag, m) for mag in s.magnitudes] for m in s.metrics])

    found = {a if zoo_depth(zoo, a) is None else f"{a} (depth {zoo_depth(zoo, a)})": Candidate(a, profile(a, zoo_depth(zoo, a)))
             for a in zoo_architectures(s)}
    for a in s.activations:
        for d in s.depths:
            found.setdefault(f"{a} (depth {d})", Candidate(a, profile(a, d)))
    return found


# --- conditions (--fail-if) -------------------------------------------------------------------------

OPERATORS: dict[str, Callable[[float, float], bool]] = {
    "<=": operator.le, ">=": operator.ge, "==": operator.eq, "!=": operator.ne, "<": operator.lt, ">": operator.gt}
TOKEN = re.compile(r"\s*(?:(?P<number>[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)|(?P<name>[A-Za-z_][\w+.\-]*)"
                   r"|(?P<op><=|>=|==|!=|<|>)|(?P<punct>[(),]))")
SUMMARY_KEYS = {"median": 0, "low": 1, "high": 2}


def tokens(text: str) -> list[str]:
    found, position = [], 0
    text = text.rstrip()
    while position < len(text):
        match = TOKEN.match(text, position)
        if not match:
            raise ConditionError(f"--fail-if {text!r}: cannot read {text[position:].strip()!r}")
        found.append(match.group(match.lastgroup))
        position = match.end()
    return found


@dataclass(frozen=True)
class Condition:
    """One parsed condition: ``function(args) op value`` or ``nearest op name``."""

    text: str
    function: str  # rank, median, low, high, distance, nearest
    args: tuple
    op: str
    value: float | str

    def observe(self, comparison: Comparison) -> tuple[float | str | None, str]:
        """(the observed quantity, None when undefined; how it reads with its numbers)."""
        if self.function == "nearest":
            name, distance = comparison.nearest[0]
            return comparison.candidates[name].architecture, f"nearest = {name} (distance {distance:.3f})"
        if self.function == "distance":
            (architecture,) = self.args
            found = [(n, d) for n, d in comparison.nearest if comparison.candidates[n].architecture == architecture]
            if not found or not np.isfinite(found[0][1]):
                return None, f"distance({architecture}) undefined (no finite medians in common)"
            return found[0][1], f"distance({architecture}) = {found[0][1]:.3f} (to {found[0][0]})"
        metric, magnitude = self.args
        if self.function == "rank":
            ranks = comparison.ranking(metric, magnitude)
            rank = ranks.get(comparison.name)
            if rank is None:
                return None, f"rank({metric}, {magnitude:g}) undefined: every network flagged"
            return rank.rank, f"rank({metric}, {magnitude:g}) = {rank} of {len(ranks)}"
        median, low, high = comparison.summary(metric, magnitude)
        value = (median, low, high)[SUMMARY_KEYS[self.function]]
        where = f"{metric}" + (f", {magnitude:g}" if magnitude is not None else "")
        if not np.isfinite(value):
            return None, f"{self.function}({where}) undefined: every network flagged"
        interval = f"[{low:.4g}, {high:.4g}]"
        context = f"95% interval {interval}" if self.function == "median" else f"median {median:.4g} {interval}"
        return value, f"{self.function}({where}) = {value:.4g} ({context})"

    def evaluate(self, comparison: Comparison) -> tuple[bool, str]:
        """(triggered, one line with the numbers): triggered when the condition holds or is undefined."""
        observed, reading = self.observe(comparison)
        triggered = observed is None or OPERATORS[self.op](observed, self.value)
        return triggered, f"{'TRIGGERED' if triggered else 'clear'}: {self.text}: {reading}"


def parse_condition(text: str, settings: SweepSettings, own_init: bool) -> Condition:
    """A ``--fail-if`` condition (grammar: module doc), checked against the zoo's settings."""
    parts = tokens(text)

    def error(message: str) -> ConditionError:
        return ConditionError(f"--fail-if {text!r}: {message}")

    def architecture(name: str) -> str:
        known = zoo_architectures(settings)
        if name not in known:
            raise error(f"unknown architecture {name!r} (allowed: {', '.join(known)})")
        return name

    if len(parts) == 3 and parts[0] == "nearest":
        if parts[1] not in ("==", "!="):
            raise error("nearest compares with == or != and an architecture name")
        return Condition(text, "nearest", (), parts[1], architecture(parts[2]))
    if len(parts) < 5 or parts[1] != "(" or ")" not in parts:
        raise error("expected 'rank(METRIC, MAGNITUDE) OP NUMBER', 'median(METRIC, MAGNITUDE) OP NUMBER', "
                    "'distance(ARCHITECTURE) OP NUMBER' or 'nearest == ARCHITECTURE'")
    function, close = parts[0], parts.index(")")
    args = [a for a in parts[2:close] if a != ","]
    if parts[2:close] != [x for a in args for x in (a, ",")][:-1] or not args:
        raise error(f"malformed arguments of {function}()")
    tail = parts[close + 1:]
    if len(tail) != 2 or tail[0] not in OPERATORS:
        raise error(f"expected an operator ({', '.join(OPERATORS)}) and a number after {function}(...)")
    try:
        value = float(tail[1])
    except ValueError:
        raise error(f"expected a number after {tail[0]}, got {tail[1]!r}") from None
    if function == "distance":
        if len(args) != 1:
            raise error("distance takes one architecture name")
        return Condition(text, function, (architecture(args[0]),), tail[0], value)
    if function not in ("rank", *SUMMARY_KEYS):
        raise error(f"unknown quantity {function!r} (allowed: rank, median, low, high, distance, nearest)")
    if args[0] not in settings.metrics:
        raise error(f"unknown metric {args[0]!r} (the zoo's: {', '.join(settings.metrics)})")
    needs_magnitude = function == "rank" or not own_init
    if len(args) != (2 if needs_magnitude else 1):
        raise error(f"{function} takes a metric and a weight magnitude" if needs_magnitude else
                    f"{function} takes only a metric with --own-init (no magnitude axis)")
    magnitude = None
    if needs_magnitude:
        try:
            magnitude = float(args[1])
        except ValueError:
            raise error(f"expected a weight magnitude, got {args[1]!r}") from None
        if magnitude not in settings.magnitudes:
            raise error(f"magnitude {magnitude:g} is not in the zoo (its magnitudes: "
                        f"{', '.join(f'{m:g}' for m in settings.magnitudes)})")
    return Condition(text, function, (args[0], magnitude), tail[0], value)


# --- the report -------------------------------------------------------------------------------------

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
    spread, ranked = comparison.spread, comparison.nearest
    rank_at = rank_magnitudes(zoo)
    extra = {metric: {m: comparison.summary(metric, m) for m in rank_at} for metric in s.metrics}
    rankings = {metric: {m: comparison.ranking(metric, m) for m in rank_at} for metric in s.metrics}
    ranks = {metric: {m: r.get(name) for m, r in by_m.items()} for metric, by_m in rankings.items()}
    mode = ("its own initialisation (factory re-run per sample)" if comparison.own_init
            else f"weights re-drawn: {s.scheme} x magnitude")
    depth_text = f"depth {comparison.depth}" if comparison.depth is not None else "its own depth"

    panel_name = f"{name} (own init)" if comparison.own_init else name
    grids = {metric: comparison.cells.grid(name, metric, comparison.depths, comparison.magnitudes) for metric in s.metrics}
    for file, fig in heatmap_figures(zoo, {panel_name: (grids, comparison.magnitudes, comparison.depths)}).items():
        figures.save(fig, out / file)
    best = None if comparison.own_init else comparison.candidates[ranked[0][0]].architecture
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
                "nearest": [{"candidate": a, "architecture": comparison.candidates[a].architecture, "distance": d}
                            for a, d in ranked[:10]],
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
               "Its panel in the heatmap (shared colour scale with the zoo):", "",
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
