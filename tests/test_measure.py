"""The Measurer's batched path (redshift.claims.measure): outputs of many subjects sampled together
(one batched forward per network shape), metrics on stacked outputs, precision per metric, caching."""
import numpy as np
import pytest
import torch

import redshift.networks.sampling as sampling
from redshift.claims import measure as measure_module
from redshift.claims.measure import AUTO, PRECISION, PROMOTED, Measurer, batch_sampler, resolved_dtype
from redshift.claims.model import Subject
from redshift.core import SOURCES, Settings
from redshift.networks import NetworkSpec, WeightSpec, sample_grid
from redshift.sources import FunctionSpec

METRICS = ["lz", "fourier", "fourier_quadrant", "dct", "chebyshev", "zlib_ratio"]


def network(**fields) -> Subject:
    spec = NetworkSpec(width=8, **fields)
    return Subject("network", spec, spec.label())


SUBJECTS = [
    network(activation="relu", depth=2, weights=WeightSpec(scale=0.5)),
    network(activation="tanh", depth=2, weights=WeightSpec(scale=10.0)),
    network(activation="sine", depth=2, weights=WeightSpec("uniform", 3.0, None)),
    network(activation="gelu", depth=3),
    network(activation="tanh", depth=3, layer_norm=True),
    Subject("network", NetworkSpec(family="unbiased", max_frequency=6), "unbiased"),
    Subject("function", FunctionSpec("white_noise"), "fn:white_noise"),
]


@pytest.fixture
def forwards(monkeypatch):
    """Counts the batched forwards (evaluate calls) of the network sampler."""
    calls = []
    real = sampling.evaluate

    def counting(spec, params, inputs, **kwargs):
        calls.append(params.n)
        return real(spec, params, inputs, **kwargs)

    monkeypatch.setattr(sampling, "evaluate", counting)
    return calls


def test_measure_many_equals_one_subject_at_a_time(forwards):
    together = Measurer(5, "cpu").measure_many(SUBJECTS, METRICS, 3, 24, "float64")
    assert forwards == [9, 3, 3, 3]  # depth 2 (3 subjects x 3 networks), depth 3, depth 3 + ln, unbiased
    alone = Measurer(5, "cpu")
    for subject in SUBJECTS:
        for metric in METRICS:
            one = alone.measure(subject, metric, 3, 24, "float64")
            m = together[subject, metric]
            np.testing.assert_array_equal(m.values, one.values, err_msg=f"{subject.label} {metric}")
            assert m.summary == one.summary and m.config == one.config and m.setting == one.setting == "24^2 float64"


def test_outputs_many_are_the_sources_samples_and_are_cached(forwards):
    measurer = Measurer(5, "cpu")
    settings = Settings(24, "float64", "cpu")
    outputs = measurer.outputs_many(SUBJECTS, 2, settings)
    assert len(forwards) == 4
    for subject, y in zip(SUBJECTS, outputs):
        expected = SOURCES[subject.source].sample(subject.spec, 2, measurer.seed(subject), settings)
        assert torch.equal(y, expected), subject.label
    forwards.clear()
    again = measurer.outputs_many(SUBJECTS[::-1], 2, settings)
    assert not forwards  # all cached
    assert all(a is b for a, b in zip(again, outputs[::-1]))
    assert measurer.outputs(SUBJECTS[0], 2, settings) is outputs[0]
    measure_again = measurer.measure_many(SUBJECTS, ["lz"], 2, 24, "float64")
    assert not forwards and len(measure_again) == len(SUBJECTS)


def test_cached_values_are_not_measured_again(monkeypatch):
    measurer = Measurer(5, "cpu")
    first = measurer.measure_many(SUBJECTS[:3], ["lz", "dct"], 2, 24, "float64")
    monkeypatch.setattr(measure_module.Measurer, "outputs_many", lambda *a, **k: pytest.fail("sampled again"))
    second = measurer.measure_many(SUBJECTS[:3], ["dct", "lz"], 2, 24, "float64")
    assert all(first[k] is second[k] for k in first)


def test_output_cache_stays_bounded():
    measurer = Measurer(5, "cpu", max_cached_outputs=2)
    measurer.measure_many(SUBJECTS, ["lz"], 2, 24, "float64")
    assert len(measurer._outputs) == 2


def test_batch_sampler_only_for_sources_that_batch():
    assert batch_sampler(SOURCES["network"]) is not None
    assert batch_sampler(SOURCES["function"]) is None

    class Own:
        def sample_many(self, requests, settings):
            return []

    own = Own()
    assert batch_sampler(own) == own.sample_many


def test_auto_precision_follows_the_table_for_networks_only(monkeypatch):
    net, fn = SUBJECTS[0], SUBJECTS[-1]
    monkeypatch.setitem(PRECISION, "fourier", "float32")
    monkeypatch.setitem(PRECISION, "dct", "float32")
    monkeypatch.setitem(PRECISION, "lz", "float64")
    assert resolved_dtype(net, ["fourier", "dct"], AUTO) == PROMOTED
    assert resolved_dtype(net, "fourier", AUTO) == PROMOTED
    assert resolved_dtype(net, ["fourier", "lz"], AUTO) == "float64"  # one forward: float64 when one metric needs it
    assert resolved_dtype(fn, ["fourier"], AUTO) == "float64"
    assert resolved_dtype(net, ["fourier"], "float32") == "float32"  # what a case file asks is used as asked
    measured = Measurer(5, "cpu").measure_many(SUBJECTS[:2] + [fn], ["fourier", "dct"], 2, 24, AUTO)
    for (subject, metric), m in measured.items():
        promoted = subject.source == "network"
        assert m.setting == ("24^2 float32 (float64 below 0.001 relative spread)" if promoted else "24^2 float64")
    with pytest.raises(ValueError, match="unknown dtype"):
        Measurer(5, "cpu").measure_many(SUBJECTS[:1], ["lz"], 2, 24, "float16")


def test_auto_float32_is_float32_with_near_constant_networks_in_float64(monkeypatch):
    monkeypatch.setitem(PRECISION, "fourier", "float32")
    flat = network(activation="sigmoid", depth=3, weights=WeightSpec(scale=0.05))  # outputs ~constant
    busy = network(activation="tanh", depth=2, weights=WeightSpec(scale=3.0))
    measurer = Measurer(5, "cpu")
    measured = measurer.measure_many([flat, busy], ["fourier"], 2, 24, AUTO)
    from redshift.metrics import METRICS as KERNELS
    for subject, dtype in ((flat, torch.float64), (busy, torch.float32)):
        y = sample_grid(subject.spec, 2, measurer.seed(subject), 24, dtype=dtype)
        np.testing.assert_array_equal(measured[subject, "fourier"].values, KERNELS["fourier"](y).numpy())
    # the float32 outputs asked for as such are plain float32, cached apart from auto's
    plain = measurer.outputs(flat, 2, Settings(24, "float32", "cpu"))
    assert plain.dtype == torch.float32
