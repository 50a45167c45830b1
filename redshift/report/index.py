"""The report folder: a Markdown index (commit, device and settings at the top) built from a list of
section builders, so that other experiment families add their own tables and figures.

A section is ``(title, builder)``; ``builder(ctx: ReportContext) -> str`` writes its files into
``ctx.out`` and returns Markdown (links relative to ``ctx.out``). Register one with
``SECTIONS.append(("Transformers", transformer_section))`` or pass ``sections=`` to ``build_report``.
"""
import json
import sys
import time
from dataclasses import dataclass, field
from functools import cached_property
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

from redshift.claims.report import atomic_write_text, git_commit
from redshift.nngp.report import architecture_vs_gd_section
from redshift.pitfalls.report import pitfalls_section
from redshift.report import sections
from redshift.report.sweep import Sweep, SweepSettings, machine, run_sweep
from redshift.trained.report import trained_section
from redshift.transformers.report import transformers_section

ROOT = Path(__file__).resolve().parents[2]
SWEEP_JSON = "sweep.json"


@dataclass
class ReportContext:
    """What every section builder gets: the output folder, the settings, and the sweep (computed once)."""

    out: Path
    settings: SweepSettings
    device: str = "cpu"
    results_json: Path = ROOT / "reports" / "results.json"
    root: Path = ROOT
    show_progress: bool = True
    commit: str | None = field(default_factory=lambda: git_commit(ROOT))
    _sweep: Sweep | None = None

    @cached_property
    def results(self) -> dict | None:
        """The claims run's document at ``results_json`` (read once for every section), None if absent."""
        path = Path(self.results_json)
        return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None

    @property
    def sweep(self) -> Sweep:
        """The magnitude x depth sweep, run on first use and written to ``out/sweep.json``."""
        if self._sweep is None:
            self._sweep = run_sweep(self.settings, self.device, self.show_progress)
            self._sweep.write(self.out / SWEEP_JSON)
        return self._sweep


Section = tuple[str, Callable[[ReportContext], str]]

SECTIONS: list[Section] = [
    ("Neural Redshift heatmaps", sections.heatmap_section),
    ("Sample functions", sections.gallery_section),
    ("Claims", sections.claims_section),
    ("Ranking of the zoo", sections.ranking_section),
    ("Benchmark history", sections.bench_history_section),
    ("Pitfalls of simplicity bias", pitfalls_section),
    ("Architecture vs gradient descent", architecture_vs_gd_section),
    ("Random transformers", transformers_section),
    ("Trained models", trained_section),
]


def anchor(title: str) -> str:
    return "-".join(title.lower().split())


def header(ctx: ReportContext, command: str) -> list[str]:
    m = machine(ctx.device)
    s = ctx.settings
    return [
        "# Neural Redshift bench: report", "",
        "| | |", "|---|---|",
        f"| created | {datetime.now(timezone.utc).isoformat(timespec='seconds')} |",
        f"| commit | `{ctx.commit}` |",
        f"| device | {ctx.device}{' (' + m['cuda_device'] + ')' if m['cuda_device'] else ''}, torch {m['torch']}, "
        f"python {m['python']}, {m['platform']} |",
        f"| settings | {s.describe()} |",
        f"| magnitudes | {', '.join(f'{x:g}' for x in s.magnitudes)} |",
        f"| depths | {', '.join(map(str, s.depths))} (zoo and ranking at depth {s.zoo_depth}) |",
        f"| metrics | {', '.join(s.metrics)} |",
        f"| command | `{command}` |",
        "",
    ]


def build_report(ctx: ReportContext, sections_: list[Section] | None = None, command: str = "") -> Path:
    """Run every section builder in order and write ``ctx.out/index.md``; returns its path."""
    ctx.out.mkdir(parents=True, exist_ok=True)
    body, timings = [], []
    for title, builder in SECTIONS if sections_ is None else sections_:
        start = time.perf_counter()
        text = builder(ctx)
        timings.append((title, time.perf_counter() - start))
        body += [f"## {title}", "", text.rstrip(), ""]
        if ctx.show_progress:
            print(f"report: {title} done ({timings[-1][1]:.0f} s)", file=sys.stderr)
    contents = ["Contents: " + " · ".join(f"[{t}](#{anchor(t)})" for t, _ in timings), ""]
    run_time = ["## Run time", "", "| section | seconds |", "|---|---|"] + [f"| {t} | {s:.1f} |" for t, s in timings]
    run_time.append(f"| total | {sum(s for _, s in timings):.1f} |")
    index = ctx.out / "index.md"
    atomic_write_text(index, "\n".join(header(ctx, command) + contents + body + run_time) + "\n")
    return index
