"""The trained-model report section: table and figures drawn from results.json numbers.

The results document is synthetic, with records (``spec``, ``label``, ``config``) made by the ``trained``
source itself, as the claims plugin writes them: the section reads the specs, never the labels.
"""

import numpy as np
import pytest
from scipy import stats

pytest.importorskip("matplotlib")

from matplotlib.image import imread  # noqa: E402

from redshift.core import SOURCES  # noqa: E402
from redshift.report.index import SECTIONS, build_report  # noqa: E402
from redshift.trained.report import (accuracy_figure, complexity_figure, complexity_pairs, prefactor_curves,  # noqa: E402
                                     shortcut_figure, spearman, trained_rows, trained_table, trained_section)

TRAINED = SOURCES["trained"]
MODULO = {"network": {"width": 128, "depth": 1}, "training": {"lr": 0.2, "epochs": 200}}
DIGITS = {"task": {"name": "digits"}, "network": {"width": 64, "depth": 1, "activation": "sine"},
          "training": {"lr": 0.01, "epochs": 15}}


def label(mapping: dict, base: dict) -> str:
    spec = TRAINED.parse(mapping, base)
    SPECS[TRAINED.label(spec)] = spec
    return TRAINED.label(spec)


SPECS: dict = {}  # label -> spec of every configuration below


def modulo(modulus, activation, prefactor=1.0, **training) -> str:
    return label({"task": {"modulus": modulus}, "network": {"activation": activation, "prefactor": prefactor},
                  "training": training}, MODULO)


def digits(prefactor) -> str:
    return label({"network": {"prefactor": prefactor}}, DIGITS)


SWEEP = [(a, pf) for a in ("relu", "sine", "tanh") for pf in (1.0, 10.0)]
INIT = {("relu", 1.0): 8, ("relu", 10.0): 10.5, ("sine", 1.0): 9.5, ("sine", 10.0): 12.5, ("tanh", 1.0): 8,
        ("tanh", 10.0): 11}
TRAINED_LZ = {("relu", 1.0): 11, ("relu", 10.0): 12.5, ("sine", 1.0): 12.5, ("sine", 10.0): 24, ("tanh", 1.0): 12,
              ("tanh", 10.0): 23}
MEASURED = [  # (label, metric, median, n)
    (modulo(10, "relu"), "test_accuracy", 0.92, 16), (modulo(4, "relu"), "test_accuracy", 0.40, 16),
    (modulo(4, "relu"), "train_accuracy", 0.60, 16), (modulo(10, "gaussian"), "test_accuracy", 0.91, 16),
    (modulo(10, "gaussian", 10.0), "test_accuracy", 0.47, 16), (modulo(4, "gaussian", 10.0), "test_accuracy", 0.48, 16),
    (modulo(4, "sine", 30.0, lr=0.05), "test_accuracy", 0.42, 16),
    *[(modulo(7, a, pf, lr=0.05, epochs=50), "init_lz", INIT[a, pf], 8) for a, pf in SWEEP],
    *[(modulo(7, a, pf, lr=0.05, epochs=50), "trained_lz", TRAINED_LZ[a, pf], 8) for a, pf in SWEEP],
    (digits(0.3), "digit_accuracy", 0.099, 16), (digits(0.3), "colour_accuracy", 0.98, 16),
    (digits(3.0), "digit_accuracy", 0.168, 16), (digits(3.0), "colour_accuracy", 0.38, 16),
    (digits(10.0), "digit_accuracy", 0.095, 16),
    (digits(0.3), "init_lz", 9.0, 16), (digits(3.0), "init_lz", 12.5, 16), (digits(10.0), "init_lz", 25.0, 16),
]


def spread(metric: str) -> float:
    return 0.02 if metric.endswith("accuracy") else 1.0


def results_document() -> dict:
    records = [{"source": "trained", "spec": SPECS[a].to_mapping(), "label": a, "config": f"{a}#{n}",
                "key": f"{a}#{n}:{m}", "metric": m, "setting": "trained float32", "n": n, "flagged": 0, "median": v,
                "low": v - spread(m), "high": v + 2 * spread(m)} for a, m, v, n in MEASURED]
    records.append({"source": "transformer", "spec": {"activation": "gelu"}, "label": "gpt2-gelu-d4-w128-h4-v1024-ln1-T40",
                    "config": "gpt2", "key": "gpt2:lz78_per_token", "metric": "lz78_per_token",
                    "setting": "greedy float32", "n": 64, "flagged": 0, "median": 0.23, "low": 0.22, "high": 0.24})
    rho = stats.spearmanr([INIT[k] for k in SWEEP], [TRAINED_LZ[k] for k in SWEEP])[0]
    claim = {"id": "cases/trained.yaml::init-complexity-predicts-trained-complexity[init_lz-vs-trained_lz]",
             "kind": "agreement", "status": "PASS", "checks": [{"ok": True, "correlation": "spearman", "value": rho}]}
    return {"measurements": records, "claims": [claim]}


RAW = {(a, m): (v, v - spread(m), v + 2 * spread(m)) for a, m, v, _ in MEASURED}


def test_rows_parse_task_activation_and_prefactor():
    rows = trained_rows(results_document())
    assert len(rows) == len({a for a, *_ in MEASURED})  # the transformer record is not a trained model
    sine = next(r for r in rows if r["label"] == modulo(4, "sine", 30.0, lr=0.05))
    assert (sine["modulus"], sine["activation"], sine["prefactor"]) == (4, "sine", 30.0)
    assert sine["setup"] == ("mlp-d1-w128-glorot_uniform(1)", "sgd(lr0.05,m0.9,wd0,e200,b32)")
    relu = next(r for r in rows if r["label"] == modulo(4, "relu"))
    assert relu["prefactor"] == 1.0 and relu["train_accuracy"] == RAW[modulo(4, "relu"), "train_accuracy"]
    assert next(r for r in rows if r["label"] == digits(3.0))["modulus"] is None


def test_table_lists_every_configuration_and_undefined_seeds():
    document = results_document()
    document["measurements"][0]["flagged"] = 3
    lines = trained_table(trained_rows(document)).splitlines()
    assert len(lines) == 2 + len({a for a, *_ in MEASURED})
    row = next(line for line in lines if "`mlp-relu-d1-w128-glorot_uniform(1)`" in line and line.startswith("| mod10"))
    assert row == ("| mod10-16^2-train0.5 | `mlp-relu-d1-w128-glorot_uniform(1)` | `sgd(lr0.2,m0.9,wd0,e200,b32)` | 16 "
                   "|  | 0.920 [0.900, 0.960] (3 undefined) |  |  |  |  |")


def drawn_points(container):
    """(x, median, low, high) of an errorbar container with vertical bars only."""
    line, _, (bars,) = container.lines
    segments = np.array(bars.get_segments())
    return list(zip(line.get_xdata(), line.get_ydata(), segments[:, 0, 1], segments[:, 1, 1]))


def test_accuracy_figure_draws_the_json_numbers_per_modulus():
    curves = prefactor_curves(trained_rows(results_document()), "test_accuracy")
    assert list(curves) == ["M = 10", "M = 4"]  # increasing target frequency; M = 7 has no test accuracy
    assert set(curves["M = 4"]) == {"gaussian", "relu", "sine (sgd(lr0.05,m0.9,wd0,e200,b32))"}
    fig = accuracy_figure(curves)
    for ax, modulus in zip(fig.axes, (10, 4)):
        assert ax.get_title() == f"M = {modulus}"
        for container in ax.containers:
            activation = container.get_label().split(" ")[0]
            training = {"lr": 0.05} if activation == "sine" else {}
            for x, median, low, high in drawn_points(container):
                assert (median, low, high) == pytest.approx(RAW[modulo(modulus, activation, x, **training), "test_accuracy"])
        assert [line.get_ydata()[0] for line in ax.lines if line.get_label() == "chance"] == [0.5]
    assert sum(len(ax.containers) for ax in fig.axes) == 5


def test_complexity_scatter_and_its_spearman_match_the_json_and_the_claim():
    document = results_document()
    (group, members), = complexity_pairs(trained_rows(document)).items()
    assert len(members) == 6 and "mod7" in group
    rho = spearman(members)
    assert rho == pytest.approx(document["claims"][0]["checks"][0]["value"])
    fig = complexity_figure(members, "title")
    ax = fig.axes[0]
    assert f"Spearman rho = {rho:.3f} over 6 configurations" in ax.get_title()
    seen = 0
    for container in ax.containers:
        line, _, (xbars, ybars) = container.lines
        for x, y, xs, ys, text in zip(line.get_xdata(), line.get_ydata(), xbars.get_segments(), ybars.get_segments(),
                                      [t for t in ax.texts if t.get_color() == line.get_color()]):
            key = (container.get_label(), float(text.get_text()))
            name = modulo(7, *key, lr=0.05, epochs=50)
            assert (x, *xs[:, 0]) == pytest.approx(RAW[name, "init_lz"])
            assert (y, *ys[:, 1]) == pytest.approx(RAW[name, "trained_lz"])
            seen += 1
    assert seen == 6


def test_shortcut_figure_draws_accuracies_and_init_lz():
    rows = trained_rows(results_document())
    accuracy = {m: prefactor_curves(rows, m, "digits")["digits_band8-train1000"]
                for m in ("digit_accuracy", "colour_accuracy")}
    init = prefactor_curves(rows, "init_lz", "digits")["digits_band8-train1000"]
    left, right = shortcut_figure(accuracy, init, "digits").axes
    by_label = {c.get_label(): drawn_points(c) for c in left.containers}
    assert set(by_label) == {"digit accuracy (sine)", "colour accuracy (sine)"}
    for name, points in by_label.items():
        metric = name.split(" ")[0] + "_accuracy"
        assert [p[0] for p in points] == ([0.3, 3.0, 10.0] if metric == "digit_accuracy" else [0.3, 3.0])
        for x, *summary in points:
            assert summary == pytest.approx(RAW[digits(x), metric])
    (container,) = right.containers
    assert [p[1:] for p in drawn_points(container)] == [pytest.approx(RAW[digits(x), "init_lz"]) for x in (0.3, 3.0, 10.0)]


def test_section_writes_three_non_blank_pngs(results_context):
    ctx = results_context(results_document())
    assert SECTIONS["trained"].build is trained_section
    text = build_report(ctx, [SECTIONS["trained"]]).read_text()
    files = ["trained-modulo-accuracy.png", "trained-complexity-0.png", "trained-shortcut-0.png"]
    assert sorted(p.name for p in ctx.out.glob("*.png")) == sorted(files)
    for name in files:
        assert f"]({name})" in text
        assert imread(ctx.out / name)[..., :3].var() > 1e-3, f"{name} is blank"
    assert "(the claim: `init-complexity-predicts-trained-complexity[init_lz-vs-trained_lz]`: 0.971)" in text


@pytest.mark.parametrize("document", [None, {"measurements": [], "claims": []}])
def test_section_says_how_to_produce_missing_measurements(results_context, document):
    text = trained_section(results_context(document))
    assert "python -m pytest cases/trained.yaml" in text and "--run-claims" in text
