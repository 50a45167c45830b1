"""Trained-model experiments (redshift.trained): data generators, determinism, the claims source."""
from dataclasses import replace

import numpy as np
import pytest
import torch

from redshift.core import SOURCES, FieldError, Settings
from redshift.trained import ModuloTask, ShortcutTask, TrainedSpec, output_lz, run
from redshift.trained.digits import CLASSES, N_IMAGES, predicted_class, with_band
from redshift.trained.modulo import integer_points, modulo_labels, scale_inputs

TRAINED = SOURCES["trained"]
SMALL = {"network": {"width": 16, "depth": 1}, "training": {"epochs": 3, "batch_size": 32}}


def test_integer_points_are_lexicographic():
    points = integer_points(3, 2)
    assert points.tolist() == [[i, j] for i in range(3) for j in range(3)]
    assert integer_points(16, 3).shape == (4096, 3)


@pytest.mark.parametrize("modulus, positives", [(10, [0, 1, 2, 3, 4]), (7, [0, 1, 2, 3]), (4, [0, 1])])
def test_modulo_labels(modulus, positives):
    """y = 1[(sum x) mod M < M / 2], checked against a plain loop over sums 0..45."""
    sums = torch.arange(46)
    points = torch.stack([sums, torch.zeros_like(sums)], dim=-1)
    expected = [1.0 if s % modulus in positives else 0.0 for s in range(46)]
    assert modulo_labels(points, modulus).tolist() == expected
    assert modulo_labels(torch.tensor([[3, 4, 5]]), 7).item() == (12 % 7 < 3.5)


def test_inputs_scaled_to_unit_box():
    u = scale_inputs(integer_points(16, 2), 16)
    assert u.min() == -1.0 and u.max() == 1.0 and u.dtype == torch.float64
    assert torch.allclose(u[1], torch.tensor([-1.0, -1.0 + 2.0 / 15], dtype=torch.float64))


def test_modulo_split_is_a_partition_per_seed():
    task = ModuloTask(modulus=4, train_fraction=0.25)
    data = task.draw(3, torch.Generator().manual_seed(0))
    assert data.train_x.shape == (3, 64, 2) and data.test_x.shape == (3, 192, 2)
    points = scale_inputs(integer_points(16, 2), 16)
    for i in range(3):
        both = torch.cat([data.train_x[i], data.test_x[i]])
        assert torch.equal(torch.unique(both, dim=0), torch.unique(points, dim=0))  # every point once
        x = torch.round((both + 1) * 7.5).long()
        assert torch.equal(torch.cat([data.train_y[i], data.test_labels["test_accuracy"][i]]), modulo_labels(x, 4))
    assert not torch.equal(data.train_x[0], data.train_x[1])  # each seed its own split
    assert torch.equal(data.probe_x, points)


@pytest.mark.parametrize("kwargs, fragment", [
    ({"modulus": 1}, "field 'modulus': expected an integer >= 2"),
    ({"train_fraction": 1.0}, "field 'train_fraction': expected a number in (0, 1)"),
    ({"train_fraction": 0.001}, "empty training or test set"),
    ({"n_values": 16, "input_dim": 6}, "at most 2^20"),
])
def test_bad_modulo_task(kwargs, fragment):
    with pytest.raises(ValueError, match=fragment.replace("(", r"\(").replace(")", r"\)").replace("^", r"\^")):
        ModuloTask(**kwargs)


def test_colour_band_and_prediction_rounding():
    pixels = torch.zeros(2, 64)
    x = with_band(pixels, torch.tensor([0, 9]), 3)
    assert x.shape == (2, 67)
    assert x[0, 64:].tolist() == [-1.0] * 3 and x[1, 64:].tolist() == [1.0] * 3
    assert predicted_class(torch.tensor([-0.3, 0.0, 0.05, 0.06, 4 / 9, 1.4])).tolist() == [0, 0, 0, 1, 4, 9]


def test_digits_shortcut_data():
    pytest.importorskip("sklearn")
    task = ShortcutTask(n_train=1000, band_pixels=8)
    data = task.draw(2, torch.Generator().manual_seed(1))
    assert data.train_x.shape == (2, 1000, 72) and data.test_x.shape == (2, N_IMAGES - 1000, 72)
    assert data.train_x[..., :64].min() == -1.0 and data.train_x[..., :64].max() == 1.0
    # training: colour band = digit, target digit / 9; test: band class independent of the digit
    band = torch.round((data.train_x[..., 64] + 1) * 4.5).long()
    assert torch.equal(band, data.train_labels)
    assert torch.all(data.train_x[..., 64:] == data.train_x[..., 64:65])
    assert torch.allclose(data.train_y, data.train_labels.double() / 9.0)
    test_band = torch.round((data.test_x[..., 64] + 1) * 4.5).long()
    assert torch.equal(test_band, data.test_labels["colour_accuracy"])
    agree = (data.test_labels["colour_accuracy"] == data.test_labels["digit_accuracy"]).double().mean()
    assert 0.05 < agree < 0.16  # independent: 1 / 10 expected
    assert set(data.test_labels["digit_accuracy"].unique().tolist()) == set(range(CLASSES))


def test_output_lz_on_a_sequence():
    x = torch.linspace(0, 1, 64, dtype=torch.float64)
    outputs = torch.stack([x, torch.sin(40 * x), torch.ones(64)])
    values = output_lz(outputs)
    assert values[0] == 3  # 0 | 0...01 | 1...1
    assert values[1] > values[0]
    assert torch.isnan(values[2])  # constant output: undefined


def test_run_is_deterministic_and_seed_dependent():
    spec = TRAINED.parse({"network": {"activation": "tanh"}}, SMALL)
    first, again, other = run(spec, 3, 5), run(spec, 3, 5), run(spec, 3, 6)
    assert set(first) == {"train_accuracy", "test_accuracy", "init_lz", "trained_lz"}
    for metric in first:
        np.testing.assert_array_equal(first[metric], again[metric])
    assert not np.array_equal(first["init_lz"], other["init_lz"]) or \
        not np.array_equal(first["test_accuracy"], other["test_accuracy"])
    assert np.all((first["test_accuracy"] >= 0) & (first["test_accuracy"] <= 1))


def test_initialisations_do_not_depend_on_n():
    """Networks are drawn one after another, so sample i starts from the same weights whatever n is."""
    spec = TRAINED.parse({}, SMALL)
    small, large = run(spec, 2, 5), run(spec, 4, 5)
    np.testing.assert_array_equal(small["init_lz"], large["init_lz"][:2])


def test_training_learns_a_half_plane():
    """M = 40 > max sum 30: y = 1[x1 + x2 < 20], a linear boundary every MLP learns quickly."""
    spec = TRAINED.parse({"task": {"modulus": 40}, "network": {"width": 32}},
                         {"training": {"epochs": 40, "lr": 0.2, "batch_size": 32}})
    result = run(spec, 4, 3)
    assert np.all(result["train_accuracy"] > 0.9), result
    assert np.all(result["test_accuracy"] > 0.85), result


def test_source_parse_and_label():
    spec = TRAINED.parse({"task": {"modulus": 4}, "network": {"activation": "sine", "prefactor": 3.0}}, SMALL)
    assert spec.network.input_dim == 2 and spec.task.modulus == 4
    assert TRAINED.label(spec) == "trained-mod4-16^2-train0.5-mlp-sine-d1-w16-pf(3)-glorot_uniform(1)-sgd(lr0.1,m0.9,wd0,e3,b32)"
    digits = TRAINED.parse({"task": {"name": "digits", "band_pixels": 4}}, {"task": {"modulus": 4}})
    assert digits.network.input_dim == 68  # the modulo settings of the base do not leak into another task
    assert "digits_band4-train1000" in TRAINED.label(digits)


def test_training_loss_is_the_tasks():
    """The subject sets the optimizer only (redshift.training.TrainingSpec); the loss comes from the task."""
    spec = TRAINED.parse({}, SMALL)
    assert (spec.training.loss, spec.training.lr, spec.training.momentum) == ("logistic", 0.1, 0.9)
    assert TRAINED.parse({"task": {"name": "digits"}}, SMALL).training.loss == "mse"
    with pytest.raises(ValueError, match="field 'training.loss': the mod10-16\\^2-train0.5 task trains with 'logistic', got 'mse'"):
        TrainedSpec(spec.task, spec.network, replace(spec.training, loss="mse"))


@pytest.mark.parametrize("mapping, field, fragment", [
    ({"task": {"modulus": 1}}, "task.modulus", "expected an integer >= 2"),
    ({"task": {"name": "mnist"}}, "task.name", "unknown value 'mnist'"),
    ({"task": {"colour": 1}}, "task.colour", "unknown key"),
    ({"network": {"input_dim": 3}}, "network.input_dim", "set by the task"),
    ({"network": {"activation": "tanhh"}}, "network.activation", "unknown value 'tanhh'"),
    ({"network": {"family": "unbiased"}}, "network.family", "only 'mlp'"),
    ({"training": {"lr": "1e-3"}}, "training.lr", "expected a number >= 0"),
    ({"training": {"loss": "mse"}}, "training.loss", "unknown key"),
    ({"data": {}}, "data", "unknown key"),
])
def test_source_rejects_bad_settings(mapping, field, fragment):
    with pytest.raises(FieldError, match=fragment) as info:
        TRAINED.parse(mapping, {})
    assert info.value.field == field


def test_source_measures_by_metric_and_rejects_the_other_tasks_metrics():
    spec = TRAINED.parse({}, SMALL)
    outputs = TRAINED.sample(spec, 2, 1, Settings(dtype="float32"))
    assert TRAINED.measure(outputs, "test_accuracy").shape == (2,)
    assert TRAINED.cannot_measure(spec, "test_accuracy") is None
    assert TRAINED.cannot_measure(spec, "colour_accuracy") == "metric 'colour_accuracy' is defined for the digits task only"


def test_digits_skip_without_scikit_learn(monkeypatch):
    import builtins

    from redshift.trained import digits

    real_import = builtins.__import__

    def no_sklearn(name, *args, **kwargs):
        if name.startswith("sklearn"):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    digits.digit_images.cache_clear()
    monkeypatch.setattr(builtins, "__import__", no_sklearn)
    spec = TRAINED.parse({"task": {"name": "digits"}}, SMALL)
    with pytest.raises(pytest.skip.Exception, match=r"pip install 'neural-redshift-bench\[digits\]'"):
        TRAINED.sample(spec, 2, 1, Settings())
    monkeypatch.undo()
    digits.digit_images.cache_clear()


def test_interpolation_path():
    from redshift.trained.digits import interpolation_path

    anchors = torch.tensor([[[0.0, 0.0], [1.0, 2.0], [3.0, 2.0]]])
    path = interpolation_path(anchors, 2)
    assert path.tolist() == [[[0.0, 0.0], [0.5, 1.0], [1.0, 2.0], [2.0, 2.0]]]


def test_adam_subjects_and_the_stored_spec_round_trip():
    spec = TRAINED.parse({"training": {"optimizer": "adam", "lr": 0.01, "momentum": 0.0, "batch_size": 128}}, SMALL)
    assert TRAINED.label(spec).endswith("-adam(lr0.01,e3,b128)")
    assert TRAINED.spec_from_mapping(spec.to_mapping()) == spec
    sgd = TRAINED.parse({}, SMALL)
    assert "optimizer" not in sgd.to_mapping()["training"]  # SGD subjects keep their canonical spec and seeds
    assert TRAINED.spec_from_mapping(sgd.to_mapping()) == sgd
    digits = TRAINED.parse({"task": {"name": "digits"}}, {})
    assert TRAINED.spec_from_mapping(digits.to_mapping()) == digits
    with pytest.raises(FieldError, match="applies to sgd only"):
        TRAINED.parse({"training": {"optimizer": "adam"}}, SMALL)  # SMALL's momentum 0.9


def test_init_lz_alone_does_not_train(monkeypatch):
    from redshift.trained import experiment

    spec = TRAINED.parse({}, SMALL)
    expected = run(spec, 2, 1, dtype=torch.float64)["init_lz"]
    runs = TRAINED.sample(spec, 2, 1, Settings())
    monkeypatch.setattr(experiment, "train", lambda *args: pytest.fail("init_lz trained the networks"))
    np.testing.assert_array_equal(TRAINED.measure(runs, "init_lz"), expected)
