"""The randomised / swapped evaluation protocol (Shah et al. 2020 §3 Definition 2; the public lms_utils) on classifiers whose reliance is known."""
import numpy as np
import pytest
import torch

from redshift.pitfalls.datasets import generate
from redshift.pitfalls.evaluation import accuracy, randomized, roc_auc, swapped

N, POINTS, D = 3, 4000, 6


@pytest.fixture(scope="module")
def data():
    return generate("lms-5", n=N, points=POINTS, d=D, seed=11)


def coordinate_logit(data, inputs, c):
    """A classifier that reads canonical coordinate c only: 0 -> x_0 (linear); c > 0 -> the 5-slab rule."""
    z = (inputs @ data.rotation.transpose(1, 2))[..., c]
    return z if c == 0 else 0.22 - (z.abs() - 0.44).abs()  # > 0 on +-(0.22, 0.66), the positive slabs


def generator(seed=0):
    return torch.Generator().manual_seed(seed)


def test_randomizing_s_takes_an_s_only_classifier_to_chance(data):
    standard = accuracy(coordinate_logit(data, data.inputs, 0), data.labels)
    s_random = accuracy(coordinate_logit(data, randomized(data, data.simple, generator()), 0), data.labels)
    sc_random = accuracy(coordinate_logit(data, randomized(data, data.complex, generator()), 0), data.labels)
    np.testing.assert_array_equal(standard, 1.0)
    np.testing.assert_allclose(s_random, 0.5, atol=0.04)  # sd 0.008 at 4000 points
    np.testing.assert_allclose(sc_random, standard, atol=1e-12)


def test_randomizing_sc_takes_a_slab_classifier_to_chance(data):
    standard = accuracy(coordinate_logit(data, data.inputs, 1), data.labels)
    s_random = accuracy(coordinate_logit(data, randomized(data, data.simple, generator()), 1), data.labels)
    sc_random = accuracy(coordinate_logit(data, randomized(data, data.complex, generator()), 1), data.labels)
    np.testing.assert_array_equal(standard, 1.0)
    np.testing.assert_allclose(s_random, standard, atol=1e-12)
    np.testing.assert_allclose(sc_random, 0.5, atol=0.04)


def test_one_joint_permutation_keeps_the_block_and_leaves_the_rest(data):
    z = data.canonical
    inputs = randomized(data, (1, 3), generator(5))
    shuffled = inputs @ data.rotation.transpose(1, 2)
    torch.testing.assert_close(shuffled[..., [0, 2, 4, 5]], z[..., [0, 2, 4, 5]], rtol=0, atol=1e-12)
    for i in range(N):  # the same permutation moves both block coordinates: pairs are kept
        pairs = {tuple(np.round(p, 9)) for p in z[i][:, [1, 3]].numpy()}
        assert {tuple(np.round(p, 9)) for p in shuffled[i][:, [1, 3]].numpy()} == pairs
    assert not torch.allclose(shuffled[..., 1], z[..., 1])


def test_swap_takes_the_block_from_the_other_class(data):
    logits = coordinate_logit(data, swapped(data, data.simple, generator(2)), 0)
    np.testing.assert_array_equal(accuracy(logits, data.labels), 0.0)
    logits = coordinate_logit(data, swapped(data, data.complex, generator(2)), 0)
    np.testing.assert_array_equal(accuracy(logits, data.labels), 1.0)


def test_roc_auc_matches_pair_counting():
    g = torch.Generator().manual_seed(0)
    labels = (torch.rand(2, 200, generator=g) < 0.4).double()
    scores = torch.round(torch.randn(2, 200, generator=g) + labels, decimals=1)  # with ties
    expected = []
    for s, y in zip(scores.numpy(), labels.numpy().astype(bool)):
        diff = s[y][:, None] - s[~y][None, :]
        expected.append(((diff > 0) + 0.5 * (diff == 0)).mean())
    np.testing.assert_allclose(roc_auc(scores, labels), expected, rtol=1e-12)
    assert np.isnan(roc_auc(scores[:, :3], torch.ones(2, 3))).all()
