"""Report figures (matplotlib, the optional extra ``report``): pure functions from arrays to Figures.

Every number drawn comes in as an argument (the sweep JSON's arrays), so a test can compare what a
figure shows with the JSON. Figures use matplotlib's object API (no pyplot global state).
"""
import math
from pathlib import Path

import numpy as np

try:
    from matplotlib.figure import Figure
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError("the report needs matplotlib: pip install -e '.[report]'") from exc

HEATMAP_COLUMNS = 4
COLORMAP = "viridis"


def number(value: float) -> str:
    """Cell annotation: 3 significant digits, integers without decimals (LZ phrase counts)."""
    if not math.isfinite(value):
        return "-"
    if abs(value) >= 100:
        return f"{value:.0f}"
    return f"{value:.2g}" if abs(value) < 1 else f"{value:.3g}"


def tick(value) -> str:
    return "own" if value is None else f"{value:g}"


def heatmap_figure(metric: str, panels: dict[str, np.ndarray], magnitudes: dict[str, tuple], depths: dict[str, tuple],
                   vmin: float, vmax: float, note: str) -> Figure:
    """One panel per architecture: ``panels[name]`` [magnitudes, depths] of medians, rows = magnitude
    (log-spaced, smallest at the top), columns = depth; one colour scale [vmin, vmax] for all panels,
    every cell annotated with its value."""
    rows = math.ceil(len(panels) / HEATMAP_COLUMNS)
    columns = min(len(panels), HEATMAP_COLUMNS)
    fig = Figure(figsize=(3.1 * columns + 1.0, 3.3 * rows + 0.6), layout="constrained")
    axes = fig.subplots(rows, columns, squeeze=False)
    image = None
    for ax, (name, values) in zip(axes.flat, panels.items()):
        image = ax.imshow(np.ma.masked_invalid(values), cmap=COLORMAP, vmin=vmin, vmax=vmax, aspect="auto",
                          interpolation="nearest")
        for (i, j), value in np.ndenumerate(values):
            shade = (value - vmin) / (vmax - vmin) if vmax > vmin and math.isfinite(value) else 0.0
            ax.text(j, i, number(value), ha="center", va="center", fontsize=5.5,
                    color="black" if shade > 0.6 else "white")
        ax.set_title(name, fontsize=9)
        ax.set_xticks(range(len(depths[name])), [tick(d) for d in depths[name]], fontsize=7)
        ax.set_yticks(range(len(magnitudes[name])), [tick(m) for m in magnitudes[name]], fontsize=7)
        ax.set_xlabel("depth (hidden layers)", fontsize=7)
        ax.set_ylabel("weight magnitude", fontsize=7)
    for ax in list(axes.flat)[len(panels):]:
        ax.set_axis_off()
    fig.colorbar(image, ax=axes, shrink=0.8, label=metric)
    fig.suptitle(f"{metric}: median over the networks of each cell ({note})", fontsize=10)
    return fig


def gallery_figure(activation: str, images: np.ndarray, magnitudes: tuple, depths: tuple, note: str) -> Figure:
    """images [magnitudes, depths, H, W] as grey images (each scaled to its own range, x1 = rows)."""
    rows, columns = images.shape[:2]
    fig = Figure(figsize=(0.9 * columns + 0.8, 0.9 * rows + 0.8), layout="constrained")
    axes = fig.subplots(rows, columns, squeeze=False)
    for (i, j), ax in np.ndenumerate(axes):
        ax.imshow(images[i, j], cmap="gray", interpolation="nearest")
        ax.set_xticks([])
        ax.set_yticks([])
        if i == rows - 1:
            ax.set_xlabel(f"d={depths[j]}", fontsize=7)
        if j == 0:
            ax.set_ylabel(f"{magnitudes[i]:g}", fontsize=7)
    fig.suptitle(f"{activation}: sample functions\nrows: weight magnitude, columns: depth\n{note}", fontsize=8)
    return fig


def profile_figure(metric: str, magnitudes: tuple, curves: dict[str, np.ndarray], highlight: dict[str, np.ndarray],
                   note: str) -> Figure:
    """Median vs weight magnitude (log x): ``curves`` [K] thin grey lines (the zoo), ``highlight``
    [3, K] (median, low, high) drawn in colour with their 95% band."""
    fig = Figure(figsize=(6.0, 4.0), layout="constrained")
    ax = fig.subplots()
    x = np.asarray(magnitudes, float)
    for name, y in curves.items():
        ax.plot(x, y, color="0.75", linewidth=0.8)
    for name, (median, low, high) in highlight.items():
        (line,) = ax.plot(x, median, marker="o", markersize=3, linewidth=1.8, label=name)
        ax.fill_between(x, low, high, color=line.get_color(), alpha=0.25)
    ax.set_xscale("log")
    ax.set_xlabel("weight magnitude")
    ax.set_ylabel(f"{metric} (median, 95% interval)")
    ax.set_title(f"{metric}: {note}", fontsize=9)
    ax.legend(fontsize=7)
    return fig


def save(fig: Figure, path: Path, dpi: int = 110) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=dpi)
    return path
