"""The report's built-in sections (registered in pyproject.toml's ``redshift.report_sections``). A
section builder takes the ``ReportContext`` (redshift.report.index), writes its figures into ``ctx.out``
and returns its Markdown body.

The figure builders (``heatmap_figures``) are pure functions of the sweep so that a test can check
the numbers drawn against the sweep JSON.
"""
import numpy as np

from redshift.report import figures
from redshift.report.claims_table import cell, claims_markdown
from redshift.report.gallery import gallery_activations, gallery_images, save_images
from redshift.report.index import Section
from redshift.report.ranking import rank_with_intervals
from redshift.report.sweep import NOISE, RANK_MAGNITUDES, UNBIASED, Sweep, zoo_architectures

#: Saturation: a cell whose median reaches this fraction of the white-noise median.
SATURATION = 0.9


def heatmap_panels(sweep: Sweep, metric: str) -> dict[str, np.ndarray]:
    """{activation: [magnitudes, depths] medians} of the plain MLPs."""
    return {a: sweep.grid(a, metric) for a in sweep.settings.activations}


def colour_range(panels: dict[str, np.ndarray]) -> tuple[float, float]:
    """One colour scale for a metric: min and max over every finite cell of every panel."""
    values = np.concatenate([np.ravel(v) for v in panels.values()])
    values = values[np.isfinite(values)]
    return (float(values.min()), float(values.max())) if values.size else (0.0, 1.0)


def heatmap_figures(sweep: Sweep, extra: dict[str, tuple[np.ndarray, tuple, tuple]] | None = None) -> dict[str, "figures.Figure"]:
    """{file name: Figure}: one figure per metric, a panel per activation (+ ``extra`` panels:
    {name: ({metric: [rows, columns]}, magnitudes, depths)})."""
    s = sweep.settings
    result = {}
    for metric in s.metrics:
        panels = heatmap_panels(sweep, metric)
        magnitudes = {a: s.magnitudes for a in panels}
        depths = {a: s.depths for a in panels}
        for name, (values, extra_magnitudes, extra_depths) in (extra or {}).items():
            panels[name], magnitudes[name], depths[name] = values[metric], extra_magnitudes, extra_depths
        vmin, vmax = colour_range(panels)
        note = f"{s.samples} networks per cell, white noise = {figures.number(sweep.value(NOISE, None, None, metric))}"
        result[f"heatmap-{metric}.png"] = figures.heatmap_figure(metric, panels, magnitudes, depths, vmin, vmax, note)
    return result


def saturation_table(sweep: Sweep, metric: str) -> str:
    """Per activation and depth: the smallest magnitude whose median reaches SATURATION x white noise."""
    s = sweep.settings
    ceiling = sweep.value(NOISE, None, None, metric)
    lines = [f"| {metric} >= {SATURATION:g} x noise ({SATURATION * ceiling:.3g}) | "
             + " | ".join(f"d={d}" for d in s.depths) + " |", "|---" * (len(s.depths) + 1) + "|"]
    for activation in s.activations:
        grid = sweep.grid(activation, metric)
        first = []
        for column in grid.T:
            hits = np.flatnonzero(column >= SATURATION * ceiling)
            first.append(f"{s.magnitudes[hits[0]]:g}" if hits.size else "-")
        lines.append(f"| {activation} | " + " | ".join(first) + " |")
    return "\n".join(lines) + "\n"


def heatmap_section(ctx) -> str:
    sweep = ctx.sweep
    s = sweep.settings
    parts = [f"Each activation's median complexity as a function of weight magnitude (rows, log-spaced "
             f"{s.magnitudes[0]:g} to {s.magnitudes[-1]:g}) and depth (columns, hidden layers "
             f"{s.depths[0]} to {s.depths[-1]}); **{s.samples} networks per cell** (the public code used 1). "
             f"One colour scale per metric, shared by its panels. Numbers: `sweep.json` (cells with "
             f"architecture = activation).\n"]
    for name, fig in heatmap_figures(sweep).items():
        figures.save(fig, ctx.out / name)
        parts.append(f"![{name}]({name})\n")
    metric = "lz" if "lz" in s.metrics else s.metrics[0]
    parts.append(f"Where each activation saturates: the smallest weight magnitude at which the median {metric} "
                 f"reaches {SATURATION:g} x the white-noise value (`-`: not within the sweep).\n")
    parts.append(saturation_table(sweep, metric))
    return "\n".join(parts)


def gallery_section(ctx) -> str:
    s = ctx.settings
    images = gallery_images(s, ctx.measurer, gallery_activations(s), show_progress=ctx.show_progress)
    save_images(images, ctx.out / "gallery.npz")
    parts = [f"Network 0 of each heatmap cell (same seed), evaluated on a {next(iter(images.values())).shape[-1]}^2 "
             f"grid and shown as a grey image scaled to its own range (x1 down, x2 across). Arrays: `gallery.npz`.\n"]
    for activation, array in images.items():
        name = f"gallery-{activation}.png"
        note = f"{s.scheme} x magnitude, width {s.width}, network 0 of each cell"
        figures.save(figures.gallery_figure(activation, array, s.magnitudes, s.depths, note), ctx.out / name)
        parts.append(f"![{name}]({name})\n")
    return "\n".join(parts)


def claims_section(ctx) -> str:
    return claims_markdown(ctx.results_json, ctx.commit)


def rank_magnitudes(sweep: Sweep) -> tuple[float, ...]:
    """RANK_MAGNITUDES present in the sweep, else its middle and largest magnitude."""
    present = tuple(m for m in RANK_MAGNITUDES if m in sweep.settings.magnitudes)
    magnitudes = sweep.settings.magnitudes
    return present or tuple(dict.fromkeys((magnitudes[len(magnitudes) // 2], magnitudes[-1])))


def zoo_depth(sweep: Sweep, architecture: str) -> int | None:
    return None if architecture == UNBIASED else sweep.settings.zoo_depth


def zoo_summaries(sweep: Sweep, metric: str, magnitude: float) -> dict[str, tuple[float, float, float]]:
    """{zoo architecture: (median, low, high)} at the zoo depth and ``magnitude``."""
    return {a: tuple(sweep.value(a, zoo_depth(sweep, a), magnitude, metric, key) for key in ("median", "low", "high"))
            for a in zoo_architectures(sweep.settings)}


def ranking_table(sweep: Sweep, metric: str, extra: dict[str, dict[float, tuple]] | None = None) -> str:
    """Markdown: per rank magnitude, median [95% interval] and rank [interval] of every zoo architecture
    (+ ``extra`` {name: {magnitude: (median, low, high)}}, shown in bold), sorted by the last column's rank."""
    magnitudes = rank_magnitudes(sweep)
    columns = {}
    for m in magnitudes:
        summaries = zoo_summaries(sweep, metric, m)
        for name, by_magnitude in (extra or {}).items():
            summaries[name] = by_magnitude[m]
        columns[m] = (summaries, rank_with_intervals(summaries))
    last_ranks = columns[magnitudes[-1]][1]
    names = list(last_ranks) + [n for n in columns[magnitudes[-1]][0] if n not in last_ranks]
    header = "| architecture | " + " | ".join(f"magnitude {m:g}: median [95%] | rank" for m in magnitudes) + " |"
    lines = [header, "|---" * (1 + 2 * len(magnitudes)) + "|"]
    for name in names:
        row = [f"**{cell(name)}**" if extra and name in extra else cell(name)]
        for m in magnitudes:
            summaries, ranks = columns[m]
            median, low, high = summaries[name]
            row += ([f"{median:.3g} [{low:.3g}, {high:.3g}]", str(ranks[name])] if name in ranks
                    else ["all flagged", "-"])
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines) + "\n"


def ranking_section(ctx) -> str:
    sweep = ctx.sweep
    s = sweep.settings
    n = len(zoo_architectures(s))
    parts = [f"All {n} architectures of the zoo (each activation plain, `+ln` layer norm, `+res` residual around "
             f"the activation, `+gate` gated; `unbiased` = the Fourier-parametrised model) at depth {s.zoo_depth}, "
             f"{s.samples} networks each, ranked per metric (1 = simplest). A rank interval [best-worst] counts as "
             f"simpler only architectures whose 95% interval lies wholly below, as more complex only those wholly "
             f"above. Numbers: `sweep.json`.\n"]
    for metric in s.metrics:
        parts.append(f"### {metric}\n\n{ranking_table(sweep, metric)}")
    return "\n".join(parts)


HEATMAPS = Section("heatmaps", "Neural Redshift heatmaps", heatmap_section, 10, frozenset({"heatmaps"}))
GALLERY = Section("gallery", "Sample functions", gallery_section, 20)
CLAIMS = Section("claims", "Claims", claims_section, 30)
RANKING = Section("ranking", "Ranking of the zoo", ranking_section, 40, frozenset({"zoo"}))
