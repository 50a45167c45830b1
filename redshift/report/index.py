"""The report folder: a Markdown index (commit, device and settings at the top) built from the report
sections registered in the entry-point group ``redshift.report_sections`` (pyproject.toml declares the
built-ins there, as another package declares its own); this module imports no family.

A section is a ``Section``: ``build(ctx: ReportContext) -> str`` writes its files into ``ctx.out`` and
returns Markdown (links relative to ``ctx.out``); ``sweep_parts`` says which cells of the magnitude x
depth sweep it reads (``heatmaps``: the plain MLPs at every depth, ``zoo``: every variant at the zoo
depth), so that a build of some sections measures only what they show.
"""
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import cached_property
from pathlib import Path
from typing import Any

from redshift.claims.measure import Measurer
from redshift.core import Registry, atomic_write_text, git_commit
from redshift.report.claims_table import read_results
from redshift.report.sweep import SWEEP_PARTS, Sweep, SweepSettings, machine, run_sweep

ROOT = Path(__file__).resolve().parents[2]
SWEEP_JSON = "sweep.json"


@dataclass(frozen=True)
class Section:
    """One section of the report, in ``order`` (smaller first)."""

    name: str
    title: str
    build: Callable[["ReportContext"], str]
    order: int = 100
    sweep_parts: frozenset[str] = frozenset()


def _section_check(obj: Any) -> str | None:
    return None if isinstance(obj, Section) else f"expected a redshift.report.index.Section, got {type(obj).__name__}"


SECTIONS: Registry[Section] = Registry("redshift.report_sections", "report section", _section_check)


def sections(names: list[str] | None = None) -> list[Section]:
    """The registered sections named (all when None), in report order; an unknown name raises RegistryError."""
    chosen = [SECTIONS[name] for name in (SECTIONS.names() if names is None else names)]
    return sorted(chosen, key=lambda s: (s.order, s.name))


@dataclass
class ReportContext:
    """What every section builder gets: the output folder, the settings, the claims results and the
    sweep (measured once, only the parts the chosen sections read)."""

    out: Path
    settings: SweepSettings
    device: str = "cpu"
    results_json: Path = ROOT / "reports" / "results.json"
    root: Path = ROOT
    show_progress: bool = True
    commit: str | None = field(default_factory=lambda: git_commit(ROOT))
    sweep_parts: frozenset[str] = SWEEP_PARTS

    @cached_property
    def results(self) -> dict | None:
        """The claims run's document at ``results_json`` (read and checked once for every section), None if
        absent; a truncated or malformed file raises ResultsError (one line naming it)."""
        return read_results(Path(self.results_json))

    @cached_property
    def measurer(self) -> Measurer:
        return Measurer(self.settings.seed, self.device)

    @cached_property
    def sweep(self) -> Sweep:
        """The magnitude x depth sweep (its ``sweep_parts``), measured on first use and written to ``out/sweep.json``."""
        sweep = run_sweep(self.settings, self.device, self.show_progress, self.measurer, self.sweep_parts)
        sweep.write(self.out / SWEEP_JSON)
        return sweep


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


def build_report(ctx: ReportContext, chosen: list[Section] | None = None, command: str = "") -> Path:
    """Run the sections' builders in order (all registered ones by default) and write ``ctx.out/index.md``."""
    chosen = sections() if chosen is None else chosen
    ctx.sweep_parts = frozenset().union(*(s.sweep_parts for s in chosen))
    ctx.out.mkdir(parents=True, exist_ok=True)
    body, timings = [], []
    for section in chosen:
        start = time.perf_counter()
        text = section.build(ctx)
        timings.append((section.title, time.perf_counter() - start))
        body += [f"## {section.title}", "", text.rstrip(), ""]
        if ctx.show_progress:
            print(f"report: {section.title} done ({timings[-1][1]:.0f} s)", file=sys.stderr)
    contents = ["Contents: " + " · ".join(f"[{t}](#{anchor(t)})" for t, _ in timings), ""]
    run_time = ["## Run time", "", "| section | seconds |", "|---|---|"] + [f"| {t} | {s:.1f} |" for t, s in timings]
    run_time.append(f"| total | {sum(s for _, s in timings):.1f} |")
    index = ctx.out / "index.md"
    atomic_write_text(index, "\n".join(header(ctx, command) + contents + body + run_time) + "\n")
    return index
