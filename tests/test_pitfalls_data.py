"""The simplicity-bias data generator (Shah et al. 2020 §3, App. B): supports, class frequencies, rotation."""
import numpy as np
import pytest
import torch

from redshift.pitfalls import blocks
from redshift.pitfalls.datasets import DATASETS, generate

# the supports of App. B / the public gendata.py (B = 1, gamma = 0.1), right-hand copies, to 4 decimals
SUPPORTS = {
    3: {0: [(-0.2667, 0.2667)], 1: [(0.4667, 1.0)]},
    5: {0: [(-0.12, 0.12), (0.76, 1.0)], 1: [(0.32, 0.56)]},
    7: {0: [(-0.0571, 0.0571), (0.5714, 0.6857)], 1: [(0.2571, 0.3714), (0.8857, 1.0)]},
}
POINTS = 20000


def labels(n=1, points=POINTS, seed=0):
    g = torch.Generator().manual_seed(seed)
    return (torch.rand(n, points, generator=g, dtype=torch.float64) < 0.5).double(), g


def inside(x, intervals, tol=1e-4):
    """|x| in one of the right-hand intervals (the centre one is symmetric)."""
    a = np.abs(x)
    return np.any([(a >= lo - tol) & (a <= hi + tol) if lo >= 0 else (x >= lo - tol) & (x <= hi + tol)
                   for lo, hi in intervals], axis=0)


@pytest.mark.parametrize("k", [3, 5, 7])
def test_slab_supports_and_widths(k):
    y, g = labels()
    x = blocks.slab(y, g, k).numpy()[0]
    y = y.numpy()[0].astype(bool)
    assert blocks.slab_width(k) == pytest.approx({3: 0.5333, 5: 0.24, 7: 0.11429}[k], abs=1e-4)
    for cls, mask in ((0, ~y), (1, y)):
        assert inside(x[mask], SUPPORTS[k][cls]).all()
        assert not inside(x[mask], SUPPORTS[k][1 - cls], tol=0).any()
    assert np.abs(x).max() <= 1.0


@pytest.mark.parametrize("k, cls, interval, share", [
    (5, 0, (-0.12, 0.12), 0.75), (7, 1, (0.2571, 0.3714), 0.875), (7, 0, (-0.0571, 0.0571), 0.5)])
def test_slab_probabilities(k, cls, interval, share):
    y, g = labels()
    x = blocks.slab(y, g, k).numpy()[0]
    members = x[y.numpy()[0] == cls]
    assert inside(members, [interval]).mean() == pytest.approx(share, abs=0.02)
    off_centre = members[np.abs(members) > 0.2] if k == 5 else members[np.abs(members) > 0.1]
    assert (off_centre > 0).mean() == pytest.approx(0.5, abs=0.02)  # fair side coin


def test_linear_support():
    y, g = labels()
    x = blocks.linear(y, g).numpy()[0]
    positive = y.numpy()[0] == 1
    assert (x[positive] >= 0.1).all() and (x[positive] <= 1).all()
    assert (x[~positive] <= -0.1).all() and (x[~positive] >= -1).all()
    assert x[positive].mean() == pytest.approx(0.55, abs=0.01)


def test_noisy_linear_moves_exactly_a_fraction_into_the_margin():
    y, g = labels(n=3)
    x = blocks.noisy_linear(y, g, noise=0.1).numpy()
    in_margin = np.abs(x) < 0.1
    assert (in_margin.sum(axis=1) == round(0.1 * POINTS)).all()
    assert y.numpy()[in_margin].mean() == pytest.approx(0.5, abs=0.03)  # whatever the label
    assert ((np.sign(x) > 0) == (y.numpy() == 1))[~in_margin].all()


@pytest.mark.parametrize("dataset", DATASETS)
def test_datasets_rotation_blocks_and_balance(dataset):
    data = generate(dataset, n=2, points=4000, d=6, seed=3)
    assert data.inputs.shape == (2, 4000, 6) and data.labels.shape == (2, 4000)
    eye = torch.eye(6, dtype=torch.float64)
    assert torch.linalg.matrix_norm(data.rotation @ data.rotation.transpose(1, 2) - eye).max() < 1e-8
    assert not torch.allclose(data.rotation[0], data.rotation[1])
    assert data.simple == (0,) and data.complex == (1, 2, 3, 4, 5)
    assert data.labels.mean().item() == pytest.approx(0.5, abs=0.03)
    canonical = data.canonical.numpy()
    y = data.labels.numpy().astype(bool)
    if dataset.startswith("lms"):
        assert ((canonical[..., 0] > 0) == y).all()
    if dataset == "ms-5-7":
        assert inside(canonical[..., 0][~y], SUPPORTS[5][0]).all()
        assert inside(canonical[..., 1:][~y], SUPPORTS[7][0]).all()


def test_lsn_coordinates():
    data = generate("lsn", n=1, points=20000, d=8, seed=1)
    z = data.canonical.numpy()[0]
    y = data.labels.numpy()[0].astype(bool)
    np.testing.assert_allclose(z[:, 0], np.where(y, 1.0, -1.0), atol=1e-12)
    np.testing.assert_allclose(z[~y, 1], 0.0, atol=1e-12)
    np.testing.assert_allclose(np.abs(z[y, 1]), 1.0, atol=1e-12)
    assert (z[y, 1] > 0).mean() == pytest.approx(0.5, abs=0.02)
    assert z[:, 2:].std() == pytest.approx(1.0, abs=0.02)


def test_unrotated_and_deterministic():
    first = generate("lms-5", n=2, points=100, d=5, seed=7, rotate=False)
    assert torch.equal(first.rotation[0], torch.eye(5, dtype=torch.float64))
    again = generate("lms-5", n=2, points=100, d=5, seed=7, rotate=False)
    assert torch.equal(first.inputs, again.inputs) and torch.equal(first.labels, again.labels)
    assert not torch.equal(first.inputs, generate("lms-5", n=2, points=100, d=5, seed=8, rotate=False).inputs)


def test_split_puts_test_points_first():
    data = generate("lms-7", n=2, points=30, d=4, seed=0)
    train, test = data.split(10)
    assert torch.equal(test.inputs, data.inputs[:, :10]) and torch.equal(train.inputs, data.inputs[:, 10:])
    assert torch.equal(train.rotation, test.rotation)


@pytest.mark.parametrize("kwargs, fragment", [
    ({"dataset": "lms-9"}, "dataset: unknown value 'lms-9'"),
    ({"d": 1}, "need d >= 2"),
])
def test_bad_arguments(kwargs, fragment):
    arguments = {"dataset": "lms-5", "n": 1, "points": 10, "d": 4, "seed": 0, **kwargs}
    with pytest.raises(ValueError, match=fragment):
        generate(**arguments)


def test_noisy_slab_takes_the_other_class_values_for_its_noisy_fraction():
    y, g = labels()
    x = blocks.noisy_slab(y, g, 5, 0.25).numpy()[0]
    y = y.numpy()[0].astype(bool)
    own = np.where(y, inside(x, SUPPORTS[5][1]), inside(x, SUPPORTS[5][0]))
    other = np.where(y, inside(x, SUPPORTS[5][0]), inside(x, SUPPORTS[5][1]))
    assert np.all(own ^ other)  # every value lies in exactly one class's slabs
    assert other.sum() == round(0.25 * POINTS)  # exactly round(p P) points moved


def test_noisy_ms_dataset_corrupts_every_coordinate_independently():
    data = generate("noisy-ms-5", 1, 4000, 6, seed=3, noise=0.25, rotate=False)
    z, y = data.canonical[0].numpy(), data.labels[0].numpy().astype(bool)
    wrong = np.stack([np.where(y, inside(z[:, c], SUPPORTS[5][0], tol=0), inside(z[:, c], SUPPORTS[5][1], tol=0))
                      for c in range(6)])
    assert np.allclose(wrong.mean(axis=1), 0.25)
    assert abs(np.corrcoef(wrong[0], wrong[1])[0, 1]) < 0.05  # different points per coordinate
