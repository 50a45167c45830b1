"""The ``nngp`` source: settings validation, labels, draws, and the skip without scikit-learn."""
import math

import numpy as np
import pytest

from redshift.core import SOURCES, FieldError, Settings
from redshift.nngp import data
from redshift.nngp.source import SHARED, NNGPSpec

pytest.importorskip("sklearn", reason="the nngp source needs the 'digits' extra (scikit-learn)")
SOURCE = SOURCES["nngp"]


def test_registered_with_defaults_for_every_setting():
    assert SOURCE.parse({}, {}) == NNGPSpec()
    assert SOURCE.parse({"layers": 2}, {"layers": 7, "task": "parity"}) == NNGPSpec(layers=2, task="parity")


@pytest.mark.parametrize("mapping, field, message", [
    ({"task": "mnist"}, "task", "allowed: binary, parity, random"),
    ({"layers": 0}, "layers", "integer >= 1"),
    ({"n_train": 1}, "n_train", "integer >= 2"),
    ({"label_scale": "1e-3"}, "label_scale", "write 1.0e-3"),
    ({"weight_scale": -1.0}, "weight_scale", "positive number"),
    ({"width": True}, "width", "integer"),
    ({"depth": 3}, "depth", "unknown key"),
    ({"method": "nero", "layers": 1}, "layers", "needs a hidden layer"),
    ({"method": "rejection", "activation": "erf"}, "activation", "suite's"),
    ({"method": "nero", "kernel": "identity"}, "kernel", "must be nngp"),
    ({"n_train": 300, "n_test": 61}, "n_train", "exceeds the 360 digits of task 'binary'"),
    ({"task": "parity", "n_train": 1798}, "n_train", "exceeds the 1797 digits"),
])
def test_bad_settings_name_their_field(mapping, field, message):
    with pytest.raises(FieldError, match=message) as info:
        SOURCE.parse(mapping, {})
    assert info.value.field == field


def test_labels_are_distinct_and_readable():
    assert SOURCE.label(NNGPSpec(n_train=100)) == "nngp-binary-L7-relu-n100"
    assert SOURCE.label(NNGPSpec(method="nero", label_scale=0.01, layers=2, n_train=5)) == \
        "nngp-binary-L2-relu-n5-nero(a=0.01,w1024)"
    assert SOURCE.label(NNGPSpec(kernel="identity", activation="tanh", weight_scale=3.0)) == \
        "nngp-binary-L7-identity-s3-n50"


def test_draws_are_deterministic_and_independent():
    spec = NNGPSpec(task="parity", n_train=10, n_test=20, mc_samples=2000)
    a = SOURCE.sample(spec, 3, 11, Settings())
    b = SOURCE.sample(spec, 3, 11, Settings())
    values = SOURCE.measure(a, "log_orthant")
    SHARED.clear()  # recompute b's values instead of reading a's
    np.testing.assert_array_equal(values, SOURCE.measure(b, "log_orthant"))
    assert len(set(values)) == 3
    np.testing.assert_array_equal(a.splits[0].x_train, b.splits[0].x_train)
    assert not np.array_equal(a.splits[0].x_train, a.splits[1].x_train)
    bound = SOURCE.measure(a, "bound")
    assert np.all((SOURCE.measure(a, "estimate") <= bound) & (bound < 1))


def test_draw_values_do_not_depend_on_the_number_of_draws_or_the_dtype():
    spec = NNGPSpec(n_train=5, n_test=30, posterior_draws=100_000)
    SHARED.clear()
    few = SOURCE.measure(SOURCE.sample(spec, 2, 5, Settings(dtype="float32")), "test_error")
    SHARED.clear()
    many = SOURCE.measure(SOURCE.sample(spec, 4, 5, Settings()), "test_error")
    np.testing.assert_array_equal(few, many[:2])  # so the process-wide cache SHARED may serve both


def test_identity_kernel_draws_are_exact():
    draws = SOURCE.sample(NNGPSpec(kernel="identity", n_train=30, mc_samples=10), 2, 0, Settings())
    np.testing.assert_allclose(SOURCE.measure(draws, "orthant_error"), 0.0, atol=1e-9)
    np.testing.assert_allclose(SOURCE.measure(draws, "log_orthant_bound"), 21.0)


def test_metric_misuse_is_an_error():
    draws = SOURCE.sample(NNGPSpec(n_train=5, n_test=10), 1, 0, Settings())
    with pytest.raises(ValueError, match="train_error is measured for method nero only"):
        SOURCE.measure(draws, "train_error")
    with pytest.raises(ValueError, match="closed-form"):
        SOURCE.measure(SOURCE.sample(NNGPSpec(activation="tanh", n_train=3), 1, 0, Settings()), "quadrature_error")


def test_splits_are_disjoint_normalised_and_labelled_by_task():
    x, digit = data.digits()
    np.testing.assert_allclose(np.linalg.norm(x, axis=1), 8.0)
    rng = np.random.default_rng(0)
    split = data.draw_split("binary", 30, 40, rng)
    assert split.x_train.shape == (30, 64) and split.x_test.shape == (40, 64)
    assert set(np.unique(split.y_train)) <= {-1.0, 1.0}
    with pytest.raises(ValueError, match="exceeds the 360 digits"):
        data.draw_split("binary", 300, 100, rng)
    assert {task: len(np.flatnonzero(digit <= 1)) if task == "binary" else len(digit)
            for task in data.TASKS} == data.POOL_SIZES  # what parse checks sizes against


def test_missing_scikit_learn_skips_with_the_reason(monkeypatch):
    def missing():
        raise data.MissingDigits(data.MISSING_EXTRA)
    monkeypatch.setattr("redshift.nngp.source.draw_split", lambda *a: missing())
    with pytest.raises(pytest.skip.Exception, match=r"neural-redshift-bench\[digits\]"):
        SOURCE.sample(NNGPSpec(), 1, 0, Settings())
