"""The ``pitfalls`` claims source: settings validation, determinism, every measure, diverged runs."""
import dataclasses

import numpy as np
import pytest
import torch

from redshift.claims.schema import CaseFileError, load_case_file
from redshift.core import SOURCES, FieldError, Settings

SOURCE = SOURCES["pitfalls"]
TINY = {"dataset": "lms-5", "d": 4, "n_train": 300, "n_test": 200, "network": {"width": 8},
        "training": {"epochs": 5, "batch_size": 32}}


def test_defaults_and_label():
    spec = SOURCE.parse({}, {})
    assert (spec.dataset, spec.d, spec.n_train, spec.n_test) == ("lms-5", 10, 2000, 2000)
    assert (spec.network.width, spec.network.depth, spec.network.input_dim) == (32, 1, 10)
    assert SOURCE.label(spec) == "lms-5-d10-n2000/2000:mlp-relu-d1-w32-glorot_uniform(1):sgd(lr0.1,m0,wd0,e20,b256)"
    merged = SOURCE.parse({"network": {"activation": "tanh"}}, {"d": 6, "network": {"width": 16}})
    assert (merged.d, merged.network.width, merged.network.activation, merged.network.input_dim) == (6, 16, "tanh", 6)


@pytest.mark.parametrize("mapping, field, fragment", [
    ({"dataset": "lms-9"}, "dataset", "unknown value 'lms-9'"),
    ({"d": 1}, "d", "expected an integer >= 2"),
    ({"noise": 2.0}, "noise", "fraction in [0, 1]"),
    ({"margin": 0.2, "dataset": "ms-7"}, "margin", "no room"),
    ({"colour": 1}, "colour", "unknown key"),
    ({"network": {"activation": "tanhh"}}, "network.activation", "unknown value 'tanhh'"),
    ({"network": {"input_dim": 3}}, "network.input_dim", "set by d"),
    ({"training": {"lr": "1e-2"}}, "training.lr", "expected a number"),
    ({"training": {"optimizer": "adam"}}, "training.optimizer", "unknown key"),
    ({"noise": "0.1"}, "noise", "expected a fraction"),
])
def test_bad_settings_name_the_field(mapping, field, fragment):
    with pytest.raises(FieldError) as info:
        SOURCE.parse(mapping, {})
    assert info.value.field == field and fragment in info.value.message


def test_case_file_error_is_one_line(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("claims:\n  - id: x\n    kind: bounded\n    subject: {source: pitfalls, network: {width: 0}}\n"
                    "    metrics: {test_accuracy: {min: 0.9}}\n")
    with pytest.raises(CaseFileError, match=r"^bad.yaml: claim 'x': field 'subject.network.width': expected an integer"):
        load_case_file(path, "bad.yaml")


def test_every_measure_is_deterministic_and_per_seed():
    spec = SOURCE.parse(TINY, {})
    first, again = (SOURCE.sample(spec, 3, 5, Settings()) for _ in range(2))
    for metric in SOURCE.metrics:
        values = SOURCE.measure(first, metric)
        assert values.shape == (3,) and np.isfinite(values).all(), metric
        np.testing.assert_array_equal(values, SOURCE.measure(again, metric))
    assert (SOURCE.measure(first, "test_accuracy") > 0.9).all()
    other = SOURCE.sample(spec, 3, 6, Settings())
    assert not np.array_equal(SOURCE.measure(first, "s_randomized_accuracy"),
                              SOURCE.measure(other, "s_randomized_accuracy"))


def test_diverged_runs_are_flagged_not_counted():
    runs = SOURCE.sample(SOURCE.parse(TINY, {}), 2, 0, Settings())
    bias = runs.trained.out_bias.clone()
    bias[1] = torch.nan
    broken = dataclasses.replace(runs, trained=dataclasses.replace(runs.trained, out_bias=bias))
    values = SOURCE.measure(broken, "test_accuracy")
    assert np.isfinite(values[0]) and np.isnan(values[1])
