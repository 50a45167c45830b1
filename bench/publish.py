"""``python -m bench.history publish``: one static page, ``<out>/index.html``, of the benchmark history.

Self-contained (no server, no network, no external script or style sheet): the plots are inline SVG
drawn by matplotlib. For every machine (bench/history.py: the machine id folder and the hardware):

- the commits with a run or a failed record, in ancestry order (bench/commits.py: git's topological
  order, oldest first), with their subject and status;
- per benchmark id, the regression rule's verdict for its newest commit against that commit's nearest
  ancestor with a run of the id (bench/history.py, asv's rule);
- the steps detected in each id's history of medians (bench/steps.py), at the commit where each starts;
- the failed commits, with their exit status and the tail of their output;
- one trend per id: x the commits in ancestry order, y the median time with the interquartile range
  of the rounds shaded (pytest-benchmark's stats.q1 / stats.q3); failed commits are red dotted
  lines, detected steps orange dashed lines labelled with their ratio.

Only clean runs (not ``dirty``: a modified working tree is not its commit) of commits the repository
knows are placed; the page says how many were left out. Of several runs of one commit, the newest counts.
"""
from __future__ import annotations

import html
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

from bench import commits, steps
from bench.history import Failure, History, Result, Row, Run, compare_results, format_time

TREND_COLOUR = "#1f77b4"
FAILED_COLOUR = "#d62728"
STEP_COLOUR = "#ff7f0e"
TIME_UNITS = (("s", 1.0), ("ms", 1e-3), ("us", 1e-6), ("ns", 1e-9))


@dataclass(frozen=True)
class Trend:
    id: str
    points: list[tuple[int, Result]]     # (position in the section's commit order, result), oldest first
    steps: list[tuple[int, float]]       # (position where the new level starts, ratio)
    verdict: Row | None                  # newest point vs its nearest ancestor with this id
    baseline: str | None                 # that ancestor's commit


@dataclass
class Section:
    machine: str
    order: list[str]                                         # commits, ancestry order
    runs: dict[str, Run] = field(default_factory=dict)       # commit -> newest clean run
    failures: dict[str, Failure] = field(default_factory=dict)
    subjects: dict[str, str] = field(default_factory=dict)
    trends: list[Trend] = field(default_factory=list)


def build_trend(repo: Path, key: str, section: Section) -> Trend:
    """The history of one benchmark id on one machine: points, steps and the newest point's verdict."""
    points = [(i, section.runs[c].results[key]) for i, c in enumerate(section.order)
              if c in section.runs and key in section.runs[c].results]
    found = steps.detect_steps([r.median for _, r in points])
    step_at = [(points[s.index][0], s.ratio) for s in found]
    newest = section.order[points[-1][0]]
    with_key = {section.order[i] for i, _ in points} - {newest}
    baseline = commits.nearest_ancestor(repo, newest, with_key)
    verdict = None if baseline is None else compare_results(key, section.runs[baseline].results[key], points[-1][1])
    return Trend(key, points, step_at, verdict, baseline)


def build_section(repo: Path, machine: str, runs: list[Run], failures: list[Failure]) -> Section:
    """A machine's commits in ancestry order, their newest run or failed record, and every id's trend."""
    newest = {r.commit: r for r in runs}  # runs are oldest first
    failed = {f.commit: f for f in failures if f.commit not in newest}
    order = commits.ancestry_order(repo, set(newest) | set(failed))
    section = Section(machine, order, newest, failed, commits.subject(repo, order))
    keys = sorted({k for r in newest.values() for k in r.results})
    section.trends = [build_trend(repo, k, section) for k in keys]
    return section


def sections(history: History, repo: Path) -> tuple[list[Section], list[str]]:
    """One Section per machine, and notes on the runs and records left out."""
    clean = [r for r in history.runs if not r.dirty]
    present = commits.known(repo, {r.commit for r in clean} | {f.commit for f in history.failures})
    notes = []
    if len(clean) < len(history.runs):
        notes.append(f"{len(history.runs) - len(clean)} runs of modified working trees (dirty) are not shown")
    unknown = {r.commit for r in clean} - present | {f.commit for f in history.failures} - present
    if unknown:
        notes.append(f"{len(unknown)} commits not in the repository are not shown: "
                     + ", ".join(sorted(c[:12] for c in unknown)))
    result = []
    for machine in history.machines():
        runs = [r for r in clean if r.machine == machine and r.commit in present]
        failures = [f for f in history.failures if f.machine == machine and f.commit in present]
        if runs or failures:
            result.append(build_section(repo, machine, runs, failures))
    return result, notes


# --- drawing ----------------------------------------------------------------------------------------


def time_unit(seconds: float) -> tuple[str, float]:
    """The largest unit in which ``seconds`` is at least 1 (ns below that)."""
    return next(((u, s) for u, s in TIME_UNITS if seconds >= s), TIME_UNITS[-1])


def trend_svg(trend: Trend, section: Section) -> str:
    """The trend plot of one id as an inline <svg> element: deterministic (fixed hash salt, no date),
    without the XML prologue and matplotlib's RDF metadata block (its only URLs but the namespaces)."""
    import matplotlib
    from matplotlib.figure import Figure

    xs = [i for i, _ in trend.points]
    unit, scale = time_unit(max(r.median for _, r in trend.points))
    fig = Figure(figsize=(9.0, 2.8), dpi=100)
    ax = fig.add_subplot()
    ax.fill_between(xs, [r.q1 / scale for _, r in trend.points], [r.q3 / scale for _, r in trend.points],
                    color=TREND_COLOUR, alpha=0.25, linewidth=0, label="IQR of the rounds")
    ax.plot(xs, [r.median / scale for _, r in trend.points], "-o", color=TREND_COLOUR, linewidth=2, markersize=4,
            label="median")
    for commit in section.failures:
        position = section.order.index(commit)
        ax.axvline(position, color=FAILED_COLOUR, linestyle=":", linewidth=1.5)
        ax.annotate("failed", (position, 0.0), xycoords=("data", "axes fraction"), xytext=(3, 3),
                    textcoords="offset points", color=FAILED_COLOUR, fontsize=8)
    for position, ratio in trend.steps:
        ax.axvline(position - 0.5, color=STEP_COLOUR, linestyle="--", linewidth=1.5)
        ax.annotate(f"step {ratio:.2f}x", (position - 0.5, 1.0), xycoords=("data", "axes fraction"),
                    xytext=(3, -12), textcoords="offset points", color=STEP_COLOUR, fontsize=8)
    every = max(1, len(section.order) // 25)
    ticks = list(range(0, len(section.order), every))
    ax.set_xticks(ticks, [section.order[i][:7] for i in ticks], rotation=45, ha="right", fontsize=7)
    ax.set_xlim(-0.5, len(section.order) - 0.5)
    ax.set_ylim(bottom=0)
    ax.set_ylabel(f"time per call ({unit})")
    ax.set_title(trend.id, fontsize=9, loc="left")
    ax.grid(True, axis="y", alpha=0.3)
    fig.tight_layout()
    buffer = io.StringIO()
    with matplotlib.rc_context({"svg.hashsalt": "bench-history", "svg.fonttype": "none"}):
        fig.savefig(buffer, format="svg", metadata={"Date": None})
    text = buffer.getvalue()
    return re.sub(r"\s*<metadata>.*?</metadata>", "", text[text.index("<svg"):], count=1, flags=re.DOTALL)


# --- the page ---------------------------------------------------------------------------------------

STYLE = """
body { font-family: sans-serif; margin: 1.5em; color: #222; background: #fff; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; font-size: 0.85em; }
td, th { border: 1px solid #ccc; padding: 0.2em 0.5em; text-align: left; }
.regression { color: #d62728; font-weight: bold; } .improvement { color: #2ca02c; }
.failed { color: #d62728; } code { font-size: 0.95em; } pre { background: #f4f4f4; padding: 0.5em; }
figure { margin: 0.5em 0; } svg { max-width: 100%; height: auto; }
"""


def table(header: tuple[str, ...], rows: list[tuple[str, ...]], classes: list[str] | None = None) -> str:
    """An HTML table; cells are already-escaped HTML."""
    head = "".join(f"<th>{h}</th>" for h in header)
    body = "".join(f'<tr class="{(classes or [""] * len(rows))[n]}">' + "".join(f"<td>{c}</td>" for c in row) + "</tr>"
                   for n, row in enumerate(rows))
    return f"<table><tr>{head}</tr>{body}</table>"


def commits_html(section: Section) -> str:
    rows, classes = [], []
    for i, commit in enumerate(section.order):
        failure = section.failures.get(commit)
        status = (f"FAILED ({html.escape(failure.reason)})" if failure
                  else f"{len(section.runs[commit].results)} benchmarks, {section.runs[commit].when:%Y-%m-%d %H:%M} UTC")
        rows.append((str(i), f"<code>{commit[:12]}</code>", html.escape(section.subjects.get(commit, "")), status))
        classes.append("failed" if failure else "")
    return table(("#", "commit", "subject", "status"), rows, classes)


def verdicts_html(section: Section) -> str:
    rows, classes = [], []
    for trend in section.trends:
        newest = section.order[trend.points[-1][0]]
        row = trend.verdict
        if row is None:
            rows.append((html.escape(trend.id), f"<code>{newest[:12]}</code>", "-", "-", "-", "-",
                         "no ancestor with this benchmark"))
            classes.append("")
            continue
        rows.append((html.escape(trend.id), f"<code>{newest[:12]}</code>", f"<code>{trend.baseline[:12]}</code>",
                     format_time(row.baseline), format_time(row.contender),
                     "-" if row.ratio is None else f"{row.ratio:.3f}",
                     row.verdict + ("" if row.p is None else f" (p = {row.p:.2g})")))
        classes.append(row.verdict if row.verdict in ("regression", "improvement") else "")
    return table(("benchmark", "newest", "baseline (nearest ancestor)", "baseline median", "newest median", "ratio",
                  "verdict"), rows, classes)


def steps_html(section: Section) -> str:
    rows = [(html.escape(t.id), f"<code>{section.order[p][:12]}</code>",
             html.escape(section.subjects.get(section.order[p], "")), f"{ratio:.3f}x")
            for t in section.trends for p, ratio in t.steps]
    if not rows:
        return "<p>No steps detected.</p>"
    return table(("benchmark", "first commit of the new level", "subject", "ratio (new / old level)"), rows)


def failures_html(section: Section) -> str:
    if not section.failures:
        return "<p>No failed commits.</p>"
    return "".join(f'<details><summary class="failed"><code>{c[:12]}</code> {html.escape(f.reason)}</summary>'
                   f"<pre>{html.escape(f.output_tail)}</pre></details>" for c, f in section.failures.items())


def section_html(section: Section) -> str:
    figures = "".join(f'<figure id="{html.escape(t.id)}">{trend_svg(t, section)}</figure>' for t in section.trends)
    return (f"<h2>{html.escape(section.machine)}</h2>"
            f"<h3>Commits (ancestry order)</h3>{commits_html(section)}"
            f"<h3>Newest vs nearest ancestor (ratio &gt; 1.1 and Mann-Whitney p &lt; 0.002)</h3>{verdicts_html(section)}"
            f"<h3>Detected steps</h3>{steps_html(section)}"
            f"<h3>Failed commits</h3>{failures_html(section)}"
            f"<h3>Trends</h3>{figures}")


def render(parts: list[Section], notes: list[str], source: Path) -> str:
    """The whole page."""
    intro = (f"<p>From <code>{html.escape(str(source))}</code>: median time per call over commits, "
             "interquartile range of the rounds shaded; red dotted lines: failed commits; orange dashed lines: "
             "detected steps (penalised piecewise-constant fit, bench/steps.py).</p>")
    intro += "".join(f"<p>{html.escape(n)}.</p>" for n in notes)
    body = "".join(section_html(s) for s in parts) or "<p>Nothing to show.</p>"
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>Benchmark history</title>'
            f"<style>{STYLE}</style></head><body><h1>Benchmark history</h1>{intro}{body}</body></html>\n")


def publish(history: History, repo: Path, out: Path, source: Path) -> Path:
    """Write ``out``/index.html (atomically) and return its path."""
    from redshift.core import atomic_write_text

    parts, notes = sections(history, Path(repo))
    if not parts:
        raise LookupError(f"nothing to publish from {source}: no clean runs or failed records of known commits")
    index = Path(out) / "index.html"
    atomic_write_text(index, render(parts, notes, source))
    return index
