"""Batched training equals n separate torch.nn training runs on the same data and minibatch order."""
import pytest
import torch

from redshift.networks import NetworkSpec, reference_module, sample_parameters
from redshift.training import TrainingSpec, minibatch_orders, predict, train


def data(n: int, points: int, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(n, points, 2, generator=g, dtype=torch.float64) * 2 - 1
    y = (x[..., 0] * x[..., 1] > 0).to(torch.float64)
    return x, y


def separate_run(spec, params, i, x, y, training, orders, make_optimizer):
    """Network i trained alone as a torch.nn module with ``make_optimizer(parameters)``, on the same
    minibatch orders; its outputs at x[i] afterwards."""
    model = reference_module(spec, params, i)
    optimizer = make_optimizer(model.parameters())
    for order in orders[:, i]:
        for start in range(0, x.shape[1], training.batch_size):
            index = order[start:start + training.batch_size]
            out = model(x[i, index]).squeeze(-1)
            if training.loss == "logistic":
                loss = torch.nn.functional.binary_cross_entropy_with_logits(out, y[i, index])
            else:
                loss = ((out - y[i, index]) ** 2).mean()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    with torch.no_grad():
        return model(x[i]).squeeze(-1)


@pytest.mark.parametrize("spec, training", [
    (NetworkSpec(activation="relu", width=16, depth=2), TrainingSpec(lr=0.2, epochs=3, batch_size=16)),
    (NetworkSpec(activation="tanh", width=8, depth=1, layer_norm=True),
     TrainingSpec(lr=0.05, momentum=0.9, weight_decay=1e-3, epochs=2, batch_size=7)),
    (NetworkSpec(activation="sine", width=8, depth=2, gated=True), TrainingSpec(loss="mse", lr=0.01, epochs=2, batch_size=10)),
])
def test_batched_training_equals_separate_runs(spec, training):
    n, points, seed = 3, 40, 11
    params = sample_parameters(spec, n, seed=5)
    x, y = data(n, points)
    trained = train(spec, params, x, y, training, seed)
    orders = minibatch_orders(n, points, training.epochs, torch.Generator().manual_seed(seed))
    for i in range(n):
        expected = separate_run(spec, params, i, x, y, training, orders, lambda p: torch.optim.SGD(
            p, lr=training.lr, momentum=training.momentum, weight_decay=training.weight_decay))
        torch.testing.assert_close(predict(spec, trained, x)[i], expected, rtol=0, atol=1e-10)


def test_training_learns_and_is_deterministic():
    spec = NetworkSpec(activation="relu", width=32, depth=2)
    x, y = data(4, 256, seed=1)
    params = sample_parameters(spec, 4, seed=2)
    training = TrainingSpec(lr=0.5, momentum=0.9, epochs=30, batch_size=32)
    first = train(spec, params, x, y, training, seed=3)
    again = train(spec, params, x, y, training, seed=3)
    accuracy = ((predict(spec, first, x) > 0) == (y > 0.5)).double().mean(dim=1)
    assert torch.all(accuracy > 0.9), accuracy
    torch.testing.assert_close(predict(spec, first, x), predict(spec, again, x), rtol=0, atol=0)
    assert not torch.equal(predict(spec, first, x), predict(spec, params, x))


def test_batched_adam_equals_separate_runs():
    spec, training = NetworkSpec(activation="tanh", width=8, depth=2), TrainingSpec(optimizer="adam", lr=0.01, epochs=3,
                                                                                   batch_size=16, weight_decay=1e-3)
    n, points, seed = 3, 40, 7
    params = sample_parameters(spec, n, seed=5)
    x, y = data(n, points)
    trained = train(spec, params, x, y, training, seed)
    orders = minibatch_orders(n, points, training.epochs, torch.Generator().manual_seed(seed))
    for i in range(n):
        expected = separate_run(spec, params, i, x, y, training, orders,
                                lambda p: torch.optim.Adam(p, lr=training.lr, weight_decay=training.weight_decay))
        torch.testing.assert_close(predict(spec, trained, x)[i], expected, rtol=0, atol=1e-10)


def test_training_runs_on_one_thread_and_restores_the_count(monkeypatch):
    seen = []
    real_step = torch.optim.SGD.step

    def step(self, *args, **kwargs):
        seen.append(torch.get_num_threads())
        return real_step(self, *args, **kwargs)

    monkeypatch.setattr(torch.optim.SGD, "step", step)
    before = torch.get_num_threads()
    spec = NetworkSpec(width=4, depth=1)
    x, y = data(2, 8)
    train(spec, sample_parameters(spec, 2, seed=1), x, y, TrainingSpec(epochs=1, batch_size=8), seed=0)
    assert seen == [1] and torch.get_num_threads() == before


def test_labels_and_canonical_mapping():
    assert TrainingSpec(lr=0.1, momentum=0.9, weight_decay=5e-4, epochs=30, batch_size=256).label() == \
        "sgd(lr0.1,m0.9,wd0.0005,e30,b256)"
    adam = TrainingSpec(optimizer="adam", lr=0.01, epochs=2000, batch_size=128)
    assert adam.label() == "adam(lr0.01,e2000,b128)" and adam.to_mapping()["optimizer"] == "adam"
    assert "optimizer" not in TrainingSpec().to_mapping()


@pytest.mark.parametrize("kwargs, fragment", [
    ({"optimizer": "adam", "momentum": 0.9}, "field 'momentum': applies to sgd only"),
    ({"optimizer": "lbfgs"}, "field 'optimizer': unknown value 'lbfgs'"),
    ({"loss": "hinge"}, "field 'loss': unknown value 'hinge'"),
    ({"epochs": 0}, "field 'epochs': expected an integer >= 1"),
    ({"lr": -1.0}, "field 'lr': expected a number >= 0"),
])
def test_bad_training_spec(kwargs, fragment):
    with pytest.raises(ValueError, match=fragment):
        TrainingSpec(**kwargs)
