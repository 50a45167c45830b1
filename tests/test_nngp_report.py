"""The architecture-vs-GD figures take the numbers of the claims JSON's nngp records, read from their specs."""

import pytest

from redshift.core import SOURCES
from redshift.nngp.report import (
    architecture_vs_gd_section, dataset_complexity_figure, dataset_complexity_points, label_ray_figure,
    label_ray_points,
)
from redshift.nngp.source import NNGPSpec


def record(spec: NNGPSpec, metric: str, median: float) -> dict:
    label = SOURCES["nngp"].label(spec)
    return {"source": "nngp", "spec": spec.to_mapping(), "label": label, "config": label, "key": f"{label}:{metric}",
            "metric": metric, "setting": "digits float64", "n": 8, "flagged": 0, "median": median,
            "low": median - 0.01, "high": median + 0.01}


RECORDS = [
    record(NNGPSpec(n_train=25), "estimate", 0.52), record(NNGPSpec(n_train=200), "estimate", 0.36),
    record(NNGPSpec(task="random", n_train=100), "estimate", 0.6),
    record(NNGPSpec(n_train=100, activation="tanh", weight_scale=2.0), "estimate", 0.9),  # not a ReLU certificate
    record(NNGPSpec(n_train=5, method="ray", label_scale=0.1), "test_error", 0.42),
    record(NNGPSpec(n_train=5, method="ray", label_scale=10.0), "test_error", 0.05),
    record(NNGPSpec(n_train=5, layers=2, method="nero", label_scale=1.0), "test_error", 0.08),
    record(NNGPSpec(n_train=5), "test_error", 0.25),
    record(NNGPSpec(n_train=5, layers=2, method="rejection", width=256, networks=2000), "test_error", 0.2),
    {"source": "network", "spec": {"activation": "relu"}, "label": "mlp-relu-d6-w64-glorot_uniform(1)",
     "metric": "lz", "median": 40.0},
    record(NNGPSpec(n_train=5, posterior_method="joint", posterior_draws=200000), "test_error", 0.26),
]


def test_points_are_read_from_the_specs():
    assert dataset_complexity_points(RECORDS) == {
        "binary L7": [(25, 0.52, 0.51, 0.53), (200, 0.36, 0.35, 0.37)], "random L7": [(100, 0.6, 0.59, 0.61)]}
    curves, levels = label_ray_points(RECORDS)
    assert [p[:2] for p in curves["ray L7 n5"]] == [(0.1, 0.42), (10.0, 0.05)]
    assert [p[:2] for p in curves["nero L2 n5"]] == [(1.0, 0.08)]
    assert levels["posterior L7 n5"][0] == 0.25 and levels["rejection L2 n5"][0] == 0.2
    assert levels["posterior-joint L7 n5"][0] == 0.26


def test_figures_and_section(results_context):
    pytest.importorskip("matplotlib")
    assert dataset_complexity_figure(dataset_complexity_points(RECORDS)).axes[0].get_xlabel() == "training examples n"
    assert label_ray_figure(*label_ray_points(RECORDS)).axes[0].get_xscale() == "log"
    ctx = results_context({"measurements": RECORDS})
    text = architecture_vs_gd_section(ctx)
    assert "dataset-complexity.png" in text and (ctx.out / "label-ray.png").exists()
