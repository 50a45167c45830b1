"""Report section of the trained-model claims (Neural Redshift §4, Figs. 7-9), redrawn from the claims
run's ``reports/results.json`` (each measurement record's ``spec``, parsed back into a TrainedSpec):
a table of every trained configuration; modulo-addition test accuracy
against the prefactor per activation, one panel per modulus M (§4.1, Figs. 7-8); complexity at
initialisation against complexity after training with its Spearman rho (§4, Fig. 7); and the shortcut
experiment's digit and colour accuracy and init LZ against the prefactor (§4.2, Fig. 9).

``trained_section(ctx)`` is the section builder registered as ``SECTION`` (entry-point group redshift.report_sections).
"""
from pathlib import Path

import numpy as np
from scipy import stats

from redshift.core import SOURCES
from redshift.networks.spec import number_text
from redshift.report import figures
from redshift.report.index import Section
from redshift.trained.modulo import ModuloTask

METRICS = ("train_accuracy", "test_accuracy", "digit_accuracy", "colour_accuracy", "init_lz", "trained_lz")
HEADERS = ("train acc", "test acc", "digit acc", "colour acc", "init LZ", "trained LZ")
MARKERS = "osD^vP"
HOW = "run `python -m pytest cases/trained.yaml` or `python -m redshift.report build --run-claims`"
Summary = tuple[float, float, float]  # median, low, high
Point = tuple[float, float, float, float]  # prefactor, median, low, high


def network_setup(network) -> str:
    """The network without its activation and prefactor, e.g. ``mlp-d3-w64-glorot_uniform(1)``: what a
    sweep over activations and prefactors holds fixed (from the spec's fields)."""
    w = network.weights
    parts = ["mlp", f"d{network.depth}", f"w{network.width}"]
    if network.layer_norm:
        parts.append("ln")
    if network.residual != "none":
        parts.append(f"res_{network.residual[:3]}")
    if network.gated:
        parts.append("gate")
    parts.append(f"{w.scheme}({number_text(w.scale)})")
    if w.bias_scale != 1.0:
        parts.append("b(tied)" if w.bias_scale is None else f"b({number_text(w.bias_scale)})")
    return "-".join(parts)


def trained_rows(results: dict) -> list[dict]:
    """One row per trained configuration (what was sampled: the record's ``config``) in a results.json
    document: {label, task, modulus (None for digits), network, activation, prefactor, training, setting, n,
    setup, group, metric: (median, low, high), flagged: {metric: seeds undefined} where any}, from the
    record's ``spec``; ``setup`` is (network without activation and prefactor, training), ``group`` names
    the task, setup and setting (what a sweep over activations and prefactors holds fixed)."""
    source = SOURCES["trained"]
    rows: dict[str, dict] = {}
    for record in results.get("measurements", []):
        if record.get("source") != "trained" or record["metric"] not in METRICS or "median" not in record:
            continue
        if record["config"] not in rows:
            spec = source.spec_from_mapping(record["spec"])
            task, network, training = spec.task.label(), spec.network, spec.training.label()
            setup = (network_setup(network), training)
            rows[record["config"]] = {
                "label": record["label"], "task": task,
                "modulus": spec.task.modulus if isinstance(spec.task, ModuloTask) else None,
                "network": network.label(), "activation": network.activation, "prefactor": network.prefactor,
                "training": training, "setting": record["setting"], "n": record["n"], "setup": setup,
                "group": f"{task} {setup[0]} {training}, {record['setting']}"}
        row = rows[record["config"]]
        row[record["metric"]] = (record["median"], record["low"], record["high"])
        if record.get("flagged"):
            row.setdefault("flagged", {})[record["metric"]] = record["flagged"]
    return sorted(rows.values(), key=lambda r: (r["task"], r["activation"], r["prefactor"], r["training"], r["n"]))


def trained_table(rows: list[dict]) -> str:
    """Markdown: task, network, training, seeds, then median [95% interval] of each measured metric (and how
    many seeds it was undefined for: a near-constant trained function has no LZ)."""
    lines = ["| task | network | training | seeds | " + " | ".join(HEADERS) + " |", "|---" * (4 + len(HEADERS)) + "|"]
    for row in rows:
        flagged = row.get("flagged", {})
        cells = [(f"{row[m][0]:.3f} [{row[m][1]:.3f}, {row[m][2]:.3f}]" if m.endswith("accuracy") else
                  f"{row[m][0]:.3g} [{row[m][1]:.3g}, {row[m][2]:.3g}]") +
                 (f" ({flagged[m]} undefined)" if m in flagged else "") if m in row else "" for m in METRICS]
        lines.append(f"| {row['task']} | `{row['network']}` | `{row['training']}` | {row['n']} | "
                     + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def prefactor_curves(rows: list[dict], metric: str, task: str = "modulo") -> dict[str, dict[str, list[Point]]]:
    """{panel: {curve: [(prefactor, median, low, high)]}} of ``metric`` for the modulo task (panels
    ``M = <modulus>``, decreasing M = increasing target frequency) or the digits task (a panel per digits
    task). One curve per activation and setup (network without activation / prefactor, and training); the
    most common setup is named by the activation alone, any other also by the parts that differ from it."""
    chosen = [r for r in rows if metric in r and (r["modulus"] is None) == (task == "digits")]
    setups = [r["setup"] for r in chosen]
    common = max(setups, key=setups.count, default=None)
    curves: dict[str, dict[str, list[Point]]] = {}
    for row in sorted(chosen, key=lambda r: (-(r["modulus"] or 0), r["task"], r["activation"], r["setup"], r["prefactor"])):
        panel = f"M = {row['modulus']}" if row["modulus"] else row["task"]
        differ = [part for part, usual in zip(row["setup"], common) if part != usual]
        name = row["activation"] + (f" ({' '.join(differ)})" if differ else "")
        curves.setdefault(panel, {}).setdefault(name, []).append((row["prefactor"], *row[metric]))
    return curves


def _curve(ax, name: str, points: list[Point], style: dict) -> None:
    x, median, low, high = (np.array(v, float) for v in zip(*points))
    ax.errorbar(x, median, yerr=[median - low, high - median], markersize=6, markerfacecolor="none", capsize=3,
                label=name, **style)


def _prefactor_axis(ax, prefactors) -> None:
    from matplotlib.ticker import NullFormatter

    ax.set_xscale("log")
    ax.set_xticks(sorted(prefactors), [f"{p:g}" for p in sorted(prefactors)])
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_xlabel("prefactor")
    ax.grid(alpha=0.3)


def accuracy_figure(curves: dict[str, dict[str, list[Point]]], metric: str = "test_accuracy", chance: float = 0.5):
    """One panel per modulus: test accuracy (median, 95% interval over seeds) against the prefactor (log x),
    one line per activation, chance as a dotted line (Figs. 7-8)."""
    from matplotlib.figure import Figure  # the optional extra ``report``

    names = sorted({name for panel in curves.values() for name in panel})
    styles = {n: {"color": f"C{i}", "marker": MARKERS[i % len(MARKERS)]} for i, n in enumerate(names)}
    prefactors = {p[0] for panel in curves.values() for points in panel.values() for p in points}
    fig = Figure(figsize=(3.6 * len(curves) + 2.2, 3.4), layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, len(curves), sharey=True, squeeze=False)[0])
    for ax, (panel, by_name) in zip(axes, curves.items()):
        for name, points in by_name.items():
            _curve(ax, name, points, styles[name])
        ax.axhline(chance, color="grey", linestyle=":", label="chance")
        ax.set_title(panel, fontsize=9)
        _prefactor_axis(ax, prefactors)
        ax.set_ylim(0, 1.02)
    axes[0].set_ylabel(f"{metric.replace('_', ' ')} (median, 95% interval)")
    handles = {}
    for ax in axes:
        handles.update(zip(ax.get_legend_handles_labels()[1], ax.get_legend_handles_labels()[0]))
    fig.legend(list(handles.values()), list(handles), loc="outside right center", fontsize=8)
    fig.suptitle("Modulo addition: test accuracy vs prefactor (smaller M = higher target frequency)", fontsize=9)
    return fig


def complexity_pairs(rows: list[dict]) -> dict[str, list[dict]]:
    """{group: rows with both init_lz and trained_lz}, groups of at least 3 configurations (a sweep)."""
    groups: dict[str, list[dict]] = {}
    for row in rows:
        if "init_lz" in row and "trained_lz" in row:
            groups.setdefault(row["group"], []).append(row)
    return {g: members for g, members in groups.items() if len(members) >= 3}


def spearman(members: list[dict]) -> float:
    """Spearman rho of median init_lz vs median trained_lz over the configurations (as the agreement claim)."""
    return float(stats.spearmanr([r["init_lz"][0] for r in members], [r["trained_lz"][0] for r in members])[0])


def complexity_figure(members: list[dict], title: str):
    """Median LZ after training against median LZ at initialisation (95% intervals as error bars), one
    colour / marker per activation, the prefactor written beside each point, y = x dotted; rho in the title
    (``title``: e.g. the task)."""
    from matplotlib.figure import Figure

    activations = sorted({r["activation"] for r in members})
    styles = {a: {"color": f"C{i}", "marker": MARKERS[i % len(MARKERS)]} for i, a in enumerate(activations)}
    fig = Figure(figsize=(6.4, 5.2), layout="constrained")
    ax = fig.add_subplot()
    for activation in activations:
        chosen = [r for r in members if r["activation"] == activation]
        (x, x_low, x_high), (y, y_low, y_high) = (np.array([r[m] for r in chosen], float).T
                                                  for m in ("init_lz", "trained_lz"))
        ax.errorbar(x, y, xerr=[x - x_low, x_high - x], yerr=[y - y_low, y_high - y], linestyle="none",
                    markersize=6, markerfacecolor="none", capsize=2, label=activation, **styles[activation])
        for r, xi, yi in zip(chosen, x, y):
            ax.annotate(f"{r['prefactor']:g}", (xi, yi), textcoords="offset points", xytext=(4, 3), fontsize=7,
                        color=styles[activation]["color"])
    every = np.array([[r["init_lz"][k], r["trained_lz"][k]] for r in members for k in (1, 2)], float)
    top = every.max() * 1.05
    ax.plot([0, top], [0, top], color="grey", linestyle=":", linewidth=1, label="y = x")
    ax.set_xlim(0, top)
    ax.set_ylim(0, top)
    ax.set_xlabel("LZ at initialisation (median over seeds)")
    ax.set_ylabel("LZ after training (median over seeds)")
    ax.set_title(f"{title}\nSpearman rho = {spearman(members):.3f} over {len(members)} configurations", fontsize=8)
    ax.legend(fontsize=7, title="activation (numbers: prefactor)", title_fontsize=7)
    ax.grid(alpha=0.3)
    return fig


def shortcut_figure(accuracy: dict[str, dict[str, list[Point]]], init_lz: dict[str, list[Point]], task: str,
                    chance: float = 0.1):
    """Left: digit and colour accuracy on the decorrelated test set against the prefactor; right: LZ at
    initialisation against the prefactor (Fig. 9). ``accuracy`` is {metric: {curve: points}}."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(9.0, 3.6), layout="constrained")
    left, right = fig.subplots(1, 2)
    prefactors = {p[0] for by_name in (*accuracy.values(), init_lz) for pts in by_name.values() for p in pts}
    for i, (metric, by_name) in enumerate(accuracy.items()):
        for j, (name, points) in enumerate(by_name.items()):
            _curve(left, f"{metric.split('_')[0]} accuracy ({name})", points,
                   {"color": f"C{i}", "marker": MARKERS[(i + j) % len(MARKERS)]})
    left.axhline(chance, color="grey", linestyle=":", label="chance (0.1)")
    left.set_ylim(0, 1.02)
    left.set_ylabel("test accuracy (median, 95% interval)")
    left.set_title("colour learned at small prefactor, digits at a sweet spot", fontsize=9)
    left.legend(fontsize=7)
    _prefactor_axis(left, prefactors)
    for j, (name, points) in enumerate(init_lz.items()):
        _curve(right, f"init LZ ({name})", points, {"color": f"C{2 + j}", "marker": MARKERS[j % len(MARKERS)]})
    right.set_ylabel("LZ at initialisation (median, 95% interval)")
    right.set_title("complexity at initialisation", fontsize=9)
    right.legend(fontsize=7)
    _prefactor_axis(right, prefactors)
    fig.suptitle(f"Shortcut learning, {task}: 8x8 digits with a colour band (train: colour = digit; test: "
                 "independent)", fontsize=9)
    return fig


def _claimed_spearman(results: dict) -> str:
    """The agreement claims' own Spearman values from the results, for comparison with the figure."""
    found = [f"`{c['id'].split('::')[-1]}`: {check['value']:.3f}" for c in results.get("claims", [])
             if c.get("kind") == "agreement" and c["id"].startswith("cases/trained.yaml")
             for check in c.get("checks", []) if check.get("correlation") == "spearman"]
    return f" (the claim: {'; '.join(found)})" if found else ""


def trained_section(ctx) -> str:
    """Report section: the table and the three figures, from ctx.results_json."""
    path = Path(ctx.results_json)
    parts = ["Trained networks (Neural Redshift §4; `cases/trained.yaml`): one sample is one seed (its own data "
             "split, initialisation and minibatch order); median over seeds [95% bootstrap interval]. Modulo "
             "addition: y = 1[(x1 + x2) mod M < M/2] on {0..15}^2, half the points train; shortcut: 8x8 digits "
             "with a colour band (scikit-learn's digits, MNIST is not available offline).\n"]
    if ctx.results is None:
        return "\n".join(parts + [f"No claims results at `{path}`: {HOW}.\n"])
    rows = trained_rows(ctx.results)
    if not rows:
        return "\n".join(parts + [f"No trained-model measurements in `{path}`: {HOW}.\n"])
    parts.append(trained_table(rows))
    out = Path(ctx.out)
    modulo = prefactor_curves(rows, "test_accuracy")
    if modulo:
        figures.save(accuracy_figure(modulo), out / "trained-modulo-accuracy.png")
        parts.append("Test accuracy on held-out points against the prefactor (chance 0.5; each point is a "
                     "configuration a claim trained):\n\n![modulo addition accuracy](trained-modulo-accuracy.png)\n")
    for index, (group, members) in enumerate(complexity_pairs(rows).items()):
        file = f"trained-complexity-{index}.png"
        figures.save(complexity_figure(members, f"LZ before and after training, {members[0]['task']}"), out / file)
        parts.append(f"Complexity before vs after training, {group}: Spearman rho of the medians "
                     f"{spearman(members):.3f} over {len(members)} configurations{_claimed_spearman(ctx.results)}.\n\n"
                     f"![init vs trained complexity]({file})\n")
    init = prefactor_curves(rows, "init_lz", "digits")
    accuracies = {m: prefactor_curves(rows, m, "digits") for m in ("digit_accuracy", "colour_accuracy")}
    for index, panel in enumerate(sorted({p for c in accuracies.values() for p in c})):
        file = f"trained-shortcut-{index}.png"
        fig = shortcut_figure({m: c[panel] for m, c in accuracies.items() if panel in c}, init.get(panel, {}), panel)
        figures.save(fig, out / file)
        parts.append(f"Shortcut learning ({panel}): accuracy against the digit and against the colour band on test "
                     "images whose colour is independent of the digit (chance 0.1), and LZ at initialisation along "
                     f"a path through test images:\n\n![shortcut learning]({file})\n")
    return "\n".join(parts)


SECTION = Section("trained", "Trained models", trained_section, 80)
