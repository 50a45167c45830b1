"""The pitfalls report pieces: the reliance table from results.json records (their ``spec``), and the
logit histograms."""
import numpy as np
import pytest

from redshift.core import SOURCES
from redshift.pitfalls.report import logit_histogram_figure, reliance_logits, reliance_rows, reliance_table
from redshift.pitfalls.source import parse_spec

PITFALLS = SOURCES["pitfalls"]


def record(mapping, metric, median, setting="trained float64", n=8, source="pitfalls"):
    if source == "pitfalls":
        spec = PITFALLS.parse(mapping, {})
        body = {"spec": spec.to_mapping(), "label": PITFALLS.label(spec), "config": PITFALLS.label(spec) + setting}
    else:
        body = {"spec": mapping, "label": "mlp-relu-d3-w64-glorot_uniform(1)", "config": "grid"}
    return {"source": source, **body, "key": f"{body['config']}:{metric}", "metric": metric, "setting": setting,
            "n": n, "flagged": 0, "median": median, "low": median - 0.01, "high": median + 0.01}


def test_table_rows_come_from_the_pitfalls_measurements_only():
    results = {"measurements": [
        record({}, "test_accuracy", 1.0), record({}, "s_randomized_accuracy", 0.505),
        record({}, "sc_randomized_auc", 0.99), record({}, "lsn_weight_ratio", 40.0),
        record({"activation": "relu"}, "lz", 57.0, setting="64^2 float64", n=32, source="network")]}
    (row,) = reliance_rows(results)
    assert (row["data"], row["network"], row["training"]) == (
        "lms-5-d10-n2000/2000", "mlp-relu-d1-w32-glorot_uniform(1)", "sgd(lr0.1,m0,wd0,e20,b256)")
    assert row["s_randomized_accuracy"] == (0.505, 0.495, 0.515) and "lsn_weight_ratio" not in row
    table = reliance_table(results).splitlines()
    assert len(table) == 3
    assert table[2] == ("| lms-5-d10-n2000/2000 | mlp-relu-d1-w32-glorot_uniform(1) | sgd(lr0.1,m0,wd0,e20,b256) | 8 | "
                        "1.000 [0.990, 1.010] | 0.505 [0.495, 0.515] |  |  |  | 0.990 [0.980, 1.000] |")


def test_rows_name_noise_ensembles_and_adam_from_the_spec():
    mapping = {"dataset": "noisy-ms-5", "noise": 0.25, "ensemble": 5, "training": {"optimizer": "adam", "lr": 0.01}}
    (row,) = reliance_rows({"measurements": [record(mapping, "test_accuracy", 0.75)]})
    assert (row["data"], row["network"], row["training"]) == (
        "noisy-ms-5-d10-n2000/2000-noise0.25", "mlp-relu-d1-w32-glorot_uniform(1) x5", "adam(lr0.01,e20,b256)")


def test_logits_and_histogram_figure():
    pytest.importorskip("matplotlib")
    spec = parse_spec({"d": 4, "n_train": 300, "n_test": 200, "network": {"width": 8},
                       "training": {"epochs": 5, "batch_size": 32}})
    logits = reliance_logits(spec, seed=1)
    assert list(logits) == ["original", "S-randomised", "S^c-randomised"]
    for values, labels in logits.values():
        assert values.shape == labels.shape == (200,) and np.isfinite(values).all()
    fig = logit_histogram_figure("title", logits)
    axes = fig.get_axes()
    assert len(axes) == 3
    for ax, (values, labels) in zip(axes, logits.values()):
        heights = [sum(p.get_height() for p in container) for container in ax.containers]
        assert heights == [np.sum(labels == 0), np.sum(labels == 1)]  # every point drawn once (clipped into range)
