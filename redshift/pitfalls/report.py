"""Report pieces for the pitfalls claims (Shah et al. 2020, Table 1 / Fig. 3): a Markdown table of
standard, S-randomised and S^c-randomised accuracy and AUC per trained configuration, read from the
claims run's ``reports/results.json`` (each measurement record's ``spec``, parsed back into a
PitfallsSpec); and the logit histograms (original / S-randomised / S^c-randomised test sets, by true
class), computed from one seed of a configuration.

``pitfalls_section(ctx)`` is the section builder registered as ``SECTION`` (entry-point group redshift.report_sections).
"""
from pathlib import Path

import numpy as np
import torch

from redshift.pitfalls.evaluation import randomized
from redshift.parse import parse
from redshift.pitfalls.experiment import PitfallsSpec, run
from redshift.pitfalls.source import parse_spec
from redshift.seeding import MASTER_SEED, derive_seed
from redshift.report import figures
from redshift.report.index import Section

COLUMNS = ("test_accuracy", "s_randomized_accuracy", "sc_randomized_accuracy",
           "test_auc", "s_randomized_auc", "sc_randomized_auc")
HEADERS = ("standard acc", "S-rand acc", "S^c-rand acc", "standard AUC", "S-rand AUC", "S^c-rand AUC")
# configurations drawn in the logit histograms: the smallest LMS-5 setup (ReLU) and the sine bridge subject
HISTOGRAMS = {
    "relu-lms-5": {"dataset": "lms-5"},
    "sine-pf20-lms-7": {"dataset": "lms-7", "n_train": 5000, "network": {"width": 100, "activation": "sine",
                                                                          "prefactor": 20.0},
                        "training": {"lr": 0.02, "epochs": 25}},
}


def describe(spec: PitfallsSpec) -> dict[str, str]:
    """The table's columns of a configuration: data, network and training, from the spec's fields."""
    data = f"{spec.dataset}-d{spec.d}-n{spec.n_train}/{spec.n_test}"
    if spec.noise != PitfallsSpec.noise and spec.dataset.startswith("noisy"):
        data += f"-noise{spec.noise:g}"
    network = spec.network.label().replace(f"-in{spec.d}", "")  # the input dimension is the data's
    if spec.ensemble != 1:
        network += f" x{spec.ensemble}"
    return {"data": data, "network": network, "training": spec.training.label()}


def reliance_rows(results: dict) -> list[dict]:
    """One row per pitfalls configuration (what was sampled: the record's ``config``) in a results.json
    document: {data, network, training, setting, n, metric: (median, low, high)} for the COLUMNS measured."""
    rows: dict[str, dict] = {}
    for record in results.get("measurements", []):
        if record.get("source") != "pitfalls" or record["metric"] not in COLUMNS or "median" not in record:
            continue
        if record["config"] not in rows:
            spec = parse(PitfallsSpec, record["spec"])
            rows[record["config"]] = {**describe(spec), "setting": record["setting"], "n": record["n"]}
        rows[record["config"]][record["metric"]] = (record["median"], record["low"], record["high"])
    return sorted(rows.values(), key=lambda r: (r["data"], r["network"], r["training"], r["setting"], r["n"]))


def reliance_table(results: dict) -> str:
    """Markdown: configuration, then median [95% interval] of each COLUMNS metric over the seeds."""
    lines = ["| data | network | training | seeds | " + " | ".join(HEADERS) + " |",
             "|---" * (4 + len(HEADERS)) + "|"]
    for row in reliance_rows(results):
        cells = [f"{row[m][0]:.3f} [{row[m][1]:.3f}, {row[m][2]:.3f}]" if m in row else "" for m in COLUMNS]
        lines.append(f"| {row['data']} | {row['network']} | {row['training']} | {row['n']} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def reliance_logits(spec: PitfallsSpec, seed: int) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """{test set: (logits [P], labels [P])} of one seed's trained network: original, S- and S^c-randomised."""
    runs = run(spec, 1, seed, dtype=torch.float64)
    test = runs.test
    inputs = {"original": test.inputs,
              "S-randomised": randomized(test, test.simple, torch.Generator().manual_seed(derive_seed(seed, "s"))),
              "S^c-randomised": randomized(test, test.complex, torch.Generator().manual_seed(derive_seed(seed, "sc")))}
    labels = test.labels[0].numpy()
    return {name: (runs.logits(x)[0].numpy(), labels) for name, x in inputs.items()}


def logit_histogram_figure(title: str, logits: dict[str, tuple[np.ndarray, np.ndarray]], bins: int = 60):
    """One panel per test set: histograms of the logit for true negatives and true positives (Fig. 3)."""
    from matplotlib.figure import Figure  # the optional extra ``report``

    fig = Figure(figsize=(3.2 * len(logits), 2.8), layout="constrained")
    axes = fig.subplots(1, len(logits), sharey=True)
    every = np.concatenate([value for value, _ in logits.values()])
    edges = np.linspace(np.percentile(every, 0.5), np.percentile(every, 99.5), bins + 1)
    for ax, (name, (values, labels)) in zip(np.atleast_1d(axes), logits.items()):
        for cls, colour in ((0, "tab:blue"), (1, "tab:orange")):
            ax.hist(np.clip(values[labels == cls], edges[0], edges[-1]), bins=edges, alpha=0.6, color=colour,
                    label=f"y = {cls}")
        ax.axvline(0.0, color="k", lw=0.8)
        ax.set_title(name, fontsize=9)
        ax.set_xlabel("logit")
    np.atleast_1d(axes)[0].legend(fontsize=7)
    fig.suptitle(title, fontsize=9)
    return fig


def pitfalls_section(ctx) -> str:
    """Report section: the reliance table from ctx.results_json, and the logit histograms."""
    parts = ["Simplicity-bias claims (Shah et al. 2020; `cases/pitfalls.yaml`, the README's 'The pitfalls of simplicity bias'): median "
             "over seeds [95% bootstrap interval] of each trained configuration's test accuracy and ROC AUC, "
             "and the same with the simple block S or the complex block S^c randomised.\n"]
    if ctx.results is not None:
        parts.append(reliance_table(ctx.results) if reliance_rows(ctx.results) else
                     "No pitfalls measurements in the results: run `python -m pytest cases/pitfalls.yaml`.\n")
    else:
        parts.append(f"No claims results at `{ctx.results_json}`: run `python -m pytest cases/pitfalls.yaml`.\n")
    parts.append("Logits of one seed's network on the test set, by true class: relying on S alone shows as "
                 "overlapping classes once S is randomised and unchanged logits once S^c is.\n")
    for name, mapping in HISTOGRAMS.items():
        spec = parse_spec(mapping)
        fig = logit_histogram_figure(spec.label(), reliance_logits(spec, derive_seed(MASTER_SEED, name)))
        figures.save(fig, Path(ctx.out) / f"pitfalls-logits-{name}.png")
        parts.append(f"![{name}](pitfalls-logits-{name}.png)\n")
    return "\n".join(parts)


SECTION = Section("pitfalls", "Pitfalls of simplicity bias", pitfalls_section, 50)
