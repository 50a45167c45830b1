"""Report section and figures of the architecture-vs-GD claims: "dataset complexity" and "label ray"
(Bernstein & Yue 2021, §4 and §5 figures, redrawn from this suite's own numbers in the claims JSON).

The figure functions take plain numbers (median and 95% interval per point), read from the measurement
records of ``reports/results.json``: each record's ``spec`` parsed back into an NNGPSpec.
"""
import math
from pathlib import Path

import numpy as np

from redshift.nngp.source import NNGPSpec
from redshift.parse import parse
from redshift.report import figures
from redshift.report.index import Section

Point = tuple[float, float, float, float]  # x, median, low, high


def _parsed(records: list[dict]):
    """(NNGPSpec, record) of every summarised nngp measurement record."""
    for record in records:
        if record.get("source") == "nngp" and "median" in record:
            yield parse(NNGPSpec, record["spec"]), record


def _relu_nngp(spec: NNGPSpec) -> bool:
    """The paper's architecture: sqrt(2)-ReLU with the NNGP kernel."""
    return spec.kernel == "nngp" and spec.activation == "relu" and math.isclose(spec.weight_scale, math.sqrt(2))


def dataset_complexity_points(records: list[dict], metric: str = "estimate") -> dict[str, list[Point]]:
    """{"<task> L<layers>": [(n_train, median, low, high)]} for the ReLU NNGP certificates, sorted by n."""
    curves: dict[str, list[Point]] = {}
    for spec, r in _parsed(records):
        if r["metric"] == metric and _relu_nngp(spec) and spec.method == "posterior":
            curves.setdefault(f"{spec.task} L{spec.layers}", []).append((spec.n_train, r["median"], r["low"], r["high"]))
    return {k: sorted(set(v)) for k, v in sorted(curves.items())}


def label_ray_points(records: list[dict]) -> tuple[dict[str, list[Point]], dict[str, tuple[float, float, float]]]:
    """Binary digits, test_error: ({"ray L7 n5" / "nero L2 n5": [(alpha, median, low, high)]},
    {"posterior L7 n5" / "rejection L2 n5": (median, low, high)})."""
    curves: dict[str, list[Point]] = {}
    levels: dict[str, tuple[float, float, float]] = {}
    for spec, r in _parsed(records):
        if r["metric"] != "test_error" or spec.task != "binary" or not _relu_nngp(spec):
            continue
        method = spec.method + ("-joint" if spec.method == "posterior" and spec.posterior_method == "joint" else "")
        name = f"{method} L{spec.layers} n{spec.n_train}"
        if spec.method in ("ray", "nero"):
            curves.setdefault(name, []).append((spec.label_scale, r["median"], r["low"], r["high"]))
        else:
            levels[name] = (r["median"], r["low"], r["high"])
    return {k: sorted(set(v)) for k, v in sorted(curves.items())}, dict(sorted(levels.items()))


def _errorbars(ax, name: str, points: list[Point]) -> None:
    x, median, low, high = (np.array(v, float) for v in zip(*points))
    ax.errorbar(x, median, yerr=[median - low, high - median], marker="o", capsize=3, label=name)


def dataset_complexity_figure(curves: dict[str, list[Point]], metric: str = "estimate"):
    """PAC-Bayes certificate (median over draws, 95% interval) against training-set size, per task and depth."""
    from matplotlib.figure import Figure  # the optional extra ``report``

    fig = Figure(figsize=(5.5, 4), layout="constrained")
    ax = fig.add_subplot()
    for name, points in curves.items():
        _errorbars(ax, name, points)
    ax.axhline(0.5, color="grey", linestyle=":", label="chance")
    ax.set_xlabel("training examples n")
    ax.set_ylabel(f"PAC-Bayes bound on NNGP posterior error ({metric})")
    ax.set_title("Dataset complexity (8x8 digits)")
    ax.legend(fontsize=7)
    return fig


def label_ray_figure(curves: dict[str, list[Point]], levels: dict[str, tuple[float, float, float]]):
    """Test error against label scale alpha (NNGP conditional, Nero-trained nets) with the posterior average
    and rejection-sampled networks as horizontal bands."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(5.5, 4), layout="constrained")
    ax = fig.add_subplot()
    for name, points in curves.items():
        _errorbars(ax, name, points)
    for (name, (median, low, high)), colour in zip(levels.items(), ("k", "tab:red", "tab:purple", "tab:brown")):
        ax.axhline(median, color=colour, linestyle="--", label=name)
        ax.axhspan(low, high, color=colour, alpha=0.1)
    ax.axhline(0.5, color="grey", linestyle=":", label="chance")
    ax.set_xscale("log")
    ax.set_xlabel("label scale alpha")
    ax.set_ylabel("test error (binary digits)")
    ax.set_title("Label ray")
    ax.legend(fontsize=7)
    return fig


def architecture_vs_gd_section(ctx) -> str:
    """Report section: both figures from ctx.results_json (run ``python -m pytest cases/architecture_vs_gd.yaml``)."""
    if ctx.results is None:
        return f"No claims results at `{ctx.results_json}`: run `python -m pytest cases/architecture_vs_gd.yaml`.\n"
    records = ctx.results.get("measurements", [])
    curves = dataset_complexity_points(records)
    ray, levels = label_ray_points(records)
    if not curves and not ray:
        return "No architecture-vs-GD measurements in the results: run `python -m pytest cases/architecture_vs_gd.yaml`.\n"
    parts = ["Bernstein & Yue 2021 on the 8x8 digits (scikit-learn; MNIST is not available offline), "
             "`cases/architecture_vs_gd.yaml`, the README's 'Architecture vs gradient descent'. Medians over independent data draws "
             "with 95% bootstrap intervals.\n"]
    if curves:
        figures.save(dataset_complexity_figure(curves), Path(ctx.out) / "dataset-complexity.png")
        parts.append("![dataset complexity](dataset-complexity.png)\n")
    if ray:
        figures.save(label_ray_figure(ray, levels), Path(ctx.out) / "label-ray.png")
        parts.append("![label ray](label-ray.png)\n")
    return "\n".join(parts)


SECTION = Section("architecture_vs_gd", "Architecture vs gradient descent", architecture_vs_gd_section, 60)
