"""Report section of the random-transformer claims (Neural Redshift §5, Fig. 10), redrawn from the
claims run's ``reports/results.json``: a table of LZ76 / LZ78 phrases per token of every measured
configuration with the iid-random-token baseline beside it, and sequence complexity against the
layer-norm gain gamma per MLP activation (one panel per metric and depth) with the random-token level.

``transformers_section(ctx)`` is the section builder registered as ``SECTION`` (entry-point group redshift.report_sections).
"""
from pathlib import Path

import numpy as np

from redshift.parse import parse
from redshift.report import figures
from redshift.report.index import Section
from redshift.transformers.spec import TransformerSpec

METRICS = {"lz78_per_token": "LZ78 phrases / token", "lz76_per_token": "LZ76 phrases / token"}
MARKERS = "osD^vP"
HOW = "run `python -m pytest cases/transformers.yaml` or `python -m redshift.report build --run-claims`"
Summary = tuple[float, float, float]  # median, low, high
Point = tuple[float, float, float, float]  # gain, median, low, high


def transformer_rows(results: dict) -> tuple[list[dict], list[dict]]:
    """(models, baselines) from a results.json document: one dict per (label, setting, n) of the
    ``transformer`` records, with the fields of the record's ``spec`` (parsed back into a
    TransformerSpec: vocab, tokens; models also activation, depth, width, heads, gain, tied_head),
    ``label``, ``setting``, ``n`` and {metric: (median, low, high)}."""
    rows: dict[tuple, dict] = {}
    for record in results.get("measurements", []):
        if record.get("source") != "transformer" or record["metric"] not in METRICS or "median" not in record:
            continue
        spec = parse(TransformerSpec, record["spec"])
        key = (record["architecture"], record["setting"], record["n"])
        fields = {"vocab": spec.vocab, "tokens": spec.tokens}
        if spec.model == "gpt2":
            fields.update(activation=spec.activation, depth=spec.depth, width=spec.width, heads=spec.heads,
                          gain=spec.ln_gain, tied_head=spec.tied_head)
        row = rows.setdefault(key, {**fields, "label": record["architecture"], "setting": record["setting"],
                                    "n": record["n"]})
        row[record["metric"]] = (record["median"], record["low"], record["high"])
    models = sorted((r for r in rows.values() if "gain" in r),
                    key=lambda r: (r["width"], r["vocab"], r["tokens"], r["activation"], r["depth"], r["gain"], r["n"]))
    baselines = sorted((r for r in rows.values() if "gain" not in r), key=lambda r: (r["vocab"], r["tokens"], -r["n"]))
    return models, baselines


def baseline_of(model: dict, baselines: list[dict]) -> dict | None:
    """The iid-token row with the model's vocabulary, length and setting (most sequences first)."""
    return next((b for b in baselines if (b["vocab"], b["tokens"], b["setting"]) ==
                 (model["vocab"], model["tokens"], model["setting"])), None)


def _cell(row: dict | None, metric: str) -> str:
    if row is None or metric not in row:
        return ""
    median, low, high = row[metric]
    return f"{median:.3f} [{low:.3f}, {high:.3f}]"


def transformer_table(models: list[dict], baselines: list[dict]) -> str:
    """Markdown: configuration, sequences, LZ76 and LZ78 per token (median [95% interval]) and the same
    for iid random tokens of the same vocabulary and length."""
    lines = ["| configuration | sequences | LZ76 / token | LZ78 / token | iid tokens: sequences | iid LZ76 / token "
             "| iid LZ78 / token |", "|---" * 7 + "|"]
    for row in models:
        base = baseline_of(row, baselines)
        lines.append(f"| `{row['label']}` | {row['n']} | {_cell(row, 'lz76_per_token')} | {_cell(row, 'lz78_per_token')} "
                     f"| {base['n'] if base else ''} | {_cell(base, 'lz76_per_token')} | {_cell(base, 'lz78_per_token')} |")
    return "\n".join(lines) + "\n"


def model_families(models: list[dict]) -> dict[str, list[dict]]:
    """Models that differ only in activation, depth and gain, by a name such as ``w128-h4-v1024-T40``."""
    families: dict[str, list[dict]] = {}
    for row in models:
        name = (f"w{row['width']}-h{row['heads']}-v{row['vocab']}-T{row['tokens']}"
                f"{'' if row['tied_head'] else '-untied'} {row['setting']}")
        families.setdefault(name, []).append(row)
    return families


def gain_curves(models: list[dict], metric: str) -> dict[int, dict[str, list[Point]]]:
    """{depth: {activation: [(gain, median, low, high)]}} sorted by gain; a configuration measured at
    several sample sizes contributes its largest."""
    best: dict[tuple, dict] = {}
    for row in models:
        key = (row["depth"], row["activation"], row["gain"])
        if metric in row and (key not in best or row["n"] > best[key]["n"]):
            best[key] = row
    curves: dict[int, dict[str, list[Point]]] = {}
    for (depth, activation, gain), row in sorted(best.items()):
        curves.setdefault(depth, {}).setdefault(activation, []).append((gain, *row[metric]))
    return curves


def gain_figure(curves: dict[str, dict[int, dict[str, list[Point]]]], levels: dict[str, Summary], title: str):
    """Rows: metrics; columns: depths. Median (95% interval) against the layer-norm gain (log x), one line
    per activation, iid random tokens as a dashed line with its interval as a band (Fig. 10's layout)."""
    from matplotlib.figure import Figure  # the optional extra ``report``
    from matplotlib.ticker import NullFormatter

    depths = sorted({d for by_depth in curves.values() for d in by_depth})
    activations = sorted({a for by_depth in curves.values() for by_act in by_depth.values() for a in by_act})
    styles = {a: {"color": f"C{i}", "marker": MARKERS[i % len(MARKERS)]} for i, a in enumerate(activations)}
    gains = sorted({p[0] for by_depth in curves.values() for by_act in by_depth.values()
                    for points in by_act.values() for p in points})
    fig = Figure(figsize=(3.6 * len(depths) + 1.6, 3.1 * len(curves) + 0.5), layout="constrained")
    axes = fig.subplots(len(curves), len(depths), squeeze=False, sharex=True, sharey="row")
    for i, (metric, by_depth) in enumerate(curves.items()):
        for j, (ax, depth) in enumerate(zip(axes[i], depths)):
            for activation, points in by_depth.get(depth, {}).items():
                gain, median, low, high = (np.array(v, float) for v in zip(*points))
                ax.errorbar(gain, median, yerr=[median - low, high - median], markersize=6, markerfacecolor="none",
                            capsize=3, label=activation, **styles[activation])
            if metric in levels:
                median, low, high = levels[metric]
                ax.axhline(median, color="k", linestyle="--", linewidth=1, label="iid random tokens")
                ax.axhspan(low, high, color="k", alpha=0.08)
            ax.set_xscale("log")
            ax.set_xticks(gains, [f"{g:g}" for g in gains])
            ax.xaxis.set_minor_formatter(NullFormatter())
            ax.set_title(f"{depth} block{'s' if depth > 1 else ''}", fontsize=9)
            ax.set_ylim(0, 1.05)
            ax.grid(alpha=0.3)
            if j == 0:
                ax.set_ylabel(METRICS[metric])
            if i == len(curves) - 1:
                ax.set_xlabel("layer-norm gain γ")
    handles = {}
    for ax in axes.flat:
        handles.update(zip(ax.get_legend_handles_labels()[1], ax.get_legend_handles_labels()[0]))
    fig.legend(list(handles.values()), list(handles), loc="outside right center", fontsize=8, title="MLP activation",
               title_fontsize=8)
    fig.suptitle(title, fontsize=9)
    return fig


def transformers_section(ctx) -> str:
    """Report section: the table and one gain figure per model family, from ctx.results_json."""
    path = Path(ctx.results_json)
    parts = ["Random GPT-2s (Neural Redshift §5, Fig. 10; `cases/transformers.yaml`): untrained decoders with "
             "GPT-2's initialisation, a fresh model per sequence, one random prompt token and greedy decoding. "
             "Complexity is the number of Lempel-Ziv phrases per token of the token ids (prompt included): LZ78 as "
             "in the paper's figure, LZ76 as the grid claims. Median over sequences [95% bootstrap interval]; "
             "iid uniform random tokens of the same vocabulary and length are the ceiling.\n"]
    if ctx.results is None:
        return "\n".join(parts + [f"No claims results at `{path}`: {HOW}.\n"])
    models, baselines = transformer_rows(ctx.results)
    if not models:
        return "\n".join(parts + [f"No transformer measurements in `{path}`: {HOW}.\n"])
    parts.append(transformer_table(models, baselines))
    for index, (name, family) in enumerate(model_families(models).items()):
        base = baseline_of(family[0], baselines)
        levels = {m: base[m] for m in METRICS if base and m in base}
        curves = {m: gain_curves(family, m) for m in METRICS}
        file = f"transformers-gain-{index}.png"
        figures.save(gain_figure({m: c for m, c in curves.items() if c}, levels, f"random GPT-2 {name}"),
                     Path(ctx.out) / file)
        parts.append(f"![sequence complexity vs layer-norm gain, {name}]({file})\n")
    parts.append("Each point is one configuration a claim measured (only those are in the results); the dashed "
                 "line and grey band are the iid-token median and interval.\n")
    return "\n".join(parts)


SECTION = Section("transformers", "Random transformers", transformers_section, 70)
