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
    ({"training": {"optimizer": "lbfgs"}}, "training.optimizer", "unknown value 'lbfgs'"),
    ({"training": {"schedule": "cosine"}}, "training.schedule", "unknown key"),
    ({"ensemble": 0}, "ensemble", "expected an integer in [1, 64]"),
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


def test_single_model_specs_keep_their_canonical_mapping():
    spec = SOURCE.parse(TINY, {})
    assert "ensemble" not in spec.to_mapping() and "optimizer" not in spec.to_mapping()["training"]
    ensemble = SOURCE.parse({**TINY, "ensemble": 3}, {})
    assert ensemble.to_mapping()["ensemble"] == 3 and SOURCE.label(ensemble).split(":")[1].endswith("-x3")


def test_ensemble_members_train_on_the_seed_data_and_are_averaged():
    from redshift.pitfalls.evaluation import accuracy

    spec = SOURCE.parse({**TINY, "ensemble": 3}, {})
    runs = SOURCE.sample(spec, 2, 4, Settings())
    logits = runs.member_logits(runs.test.inputs)
    assert logits.shape == (2, 3, 200)
    assert not torch.allclose(logits[:, 0], logits[:, 1])  # independent initialisations and orders
    torch.testing.assert_close(logits[:, 0], runs.logits(runs.test.inputs))  # member 0 is the single model
    np.testing.assert_array_equal(SOURCE.measure(runs, "ensemble_accuracy"),
                                  accuracy(logits.mean(dim=1), runs.test.labels))
    members = np.mean([accuracy(logits[:, j], runs.test.labels) for j in range(3)], axis=0)
    np.testing.assert_allclose(SOURCE.measure(runs, "member_accuracy"), members)
    np.testing.assert_allclose(SOURCE.measure(runs, "ensemble_gain"),
                               SOURCE.measure(runs, "ensemble_accuracy") - members)
    assert SOURCE.cannot_measure(SOURCE.parse(TINY, {}), "ensemble_gain").startswith("ensemble_gain needs an ensemble")
    assert SOURCE.cannot_measure(spec, "ensemble_gain") is None


def test_probe_plane_is_the_canonical_s_sc_plane_through_a_test_point():
    from redshift.pitfalls.measures import probe_inputs

    runs = SOURCE.sample(SOURCE.parse(TINY, {}), 2, 3, Settings(resolution=8))
    z = probe_inputs(runs) @ runs.test.rotation.transpose(-1, -2)
    axis = torch.linspace(-1, 1, 8, dtype=torch.float64)
    torch.testing.assert_close(z[0, :, 0], axis.repeat_interleave(8))  # S along the rows (slow axis)
    torch.testing.assert_close(z[0, :, 1], axis.repeat(8))
    torch.testing.assert_close(z[:, :, 2:], runs.test.canonical[:, :1, 2:].expand(-1, 64, -1))
    assert SOURCE.measure(runs, "init_lz").shape == (2,)


def test_pgd_stays_in_its_ball_and_attacks_s_on_lms5():
    from redshift.pitfalls.measures import PGD_RADIUS, pgd_perturbations

    runs = SOURCE.sample(SOURCE.parse({**TINY, "training": {"epochs": 20, "batch_size": 32}}, {}), 3, 2, Settings())
    adversarial, delta = pgd_perturbations(runs)
    span = runs.train.inputs.amax(dim=(1, 2)) - runs.train.inputs.amin(dim=(1, 2))
    assert torch.all(delta.norm(dim=-1) <= PGD_RADIUS * span[:, None] + 1e-9)
    torch.testing.assert_close(delta @ runs.test.rotation, adversarial - runs.test.inputs)  # canonical = un-rotated
    assert np.all(SOURCE.measure(runs, "test_accuracy") > 0.95)
    assert np.all(SOURCE.measure(runs, "pgd_accuracy") < 0.1)
    assert np.all(SOURCE.measure(runs, "pgd_s_fraction") > 0.8)
    assert np.all(SOURCE.measure(runs, "uap_s_fraction") > 0.8)
