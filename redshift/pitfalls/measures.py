"""Per-seed numbers of a pitfalls experiment (notes §2.2, §2.5, Theorem 1): ``MEASURES[name](runs)``
returns one value per seed, [n]. Every randomised measure draws its permutations from its own seed
(derived from the run's evaluation seed and the measure's name), so values do not depend on which
measures are asked for, or in which order.
"""
from collections.abc import Callable

import numpy as np
import torch

from redshift.pitfalls.evaluation import accuracy, randomized, roc_auc, swapped
from redshift.pitfalls.experiment import Runs
from redshift.seeding import derive_seed


def _generator(runs: Runs, *keys) -> torch.Generator:
    return torch.Generator().manual_seed(derive_seed(runs.seed, *keys))


def _block(runs: Runs, which: str) -> tuple[int, ...]:
    return runs.test.simple if which == "s" else runs.test.complex


def standard(metric: Callable) -> Callable[[Runs], np.ndarray]:
    """``metric`` of the logits on the untouched test set."""
    return lambda runs: metric(runs.logits(runs.test.inputs), runs.test.labels)


def randomized_block(metric: Callable, which: str) -> Callable[[Runs], np.ndarray]:
    """``metric`` on the test set with block S (``which`` = 's') or S^c ('sc') jointly permuted."""
    def measure(runs: Runs) -> np.ndarray:
        inputs = randomized(runs.test, _block(runs, which), _generator(runs, "randomized", which))
        return metric(runs.logits(inputs), runs.test.labels)
    return measure


def swapped_block(which: str) -> Callable[[Runs], np.ndarray]:
    """Accuracy with block S or S^c taken from a point of the other class."""
    def measure(runs: Runs) -> np.ndarray:
        inputs = swapped(runs.test, _block(runs, which), _generator(runs, "swapped", which))
        return accuracy(runs.logits(inputs), runs.test.labels)
    return measure


def per_coordinate(which: str, reduce: Callable) -> Callable[[Runs], np.ndarray]:
    """Randomise one canonical coordinate of the block at a time; ``reduce`` over the coordinates
    (max over S: the most any simple coordinate keeps; min over S^c: the most any complex one costs)."""
    def measure(runs: Runs) -> np.ndarray:
        values = [accuracy(runs.logits(randomized(runs.test, (c,), _generator(runs, "coordinate", c))),
                           runs.test.labels) for c in _block(runs, which)]
        return reduce(np.stack(values), axis=0)
    return measure


def drop(first: Callable, second: Callable) -> Callable[[Runs], np.ndarray]:
    """first(runs) - second(runs), seed by seed."""
    return lambda runs: first(runs) - second(runs)


def train_accuracy(runs: Runs) -> np.ndarray:
    return accuracy(runs.logits(runs.train.inputs), runs.train.labels)


def lsn_weight_ratio(runs: Runs) -> np.ndarray:
    """Theorem 1: mean_j |w_0j| / mean_j |w_1j| of the first layer in canonical coordinates (rotation @ W:
    the linear coordinate's weights over the 3-slab's)."""
    weights = runs.test.rotation.to(runs.trained.weights[0]) @ runs.trained.weights[0]
    magnitude = weights.abs().mean(dim=-1)
    return (magnitude[:, 0] / magnitude[:, 1]).double().cpu().numpy()


test_accuracy = standard(accuracy)
s_randomized_accuracy = randomized_block(accuracy, "s")
sc_randomized_accuracy = randomized_block(accuracy, "sc")

MEASURES: dict[str, Callable[[Runs], np.ndarray]] = {
    "test_accuracy": test_accuracy,
    "train_accuracy": train_accuracy,
    "test_auc": standard(roc_auc),
    "s_randomized_accuracy": s_randomized_accuracy,
    "sc_randomized_accuracy": sc_randomized_accuracy,
    "s_randomized_auc": randomized_block(roc_auc, "s"),
    "sc_randomized_auc": randomized_block(roc_auc, "sc"),
    "sc_randomized_drop": drop(test_accuracy, sc_randomized_accuracy),  # test - S^c-randomised accuracy
    "s_swapped_accuracy": swapped_block("s"),
    "sc_swapped_accuracy": swapped_block("sc"),
    "s_coordinate_max_accuracy": per_coordinate("s", np.max),
    "sc_coordinate_min_accuracy": per_coordinate("sc", np.min),
    "lsn_weight_ratio": lsn_weight_ratio,
}


def measure(runs: Runs, name: str) -> np.ndarray:
    """MEASURES[name](runs) as float64 [n], NaN for seeds whose trained network gives a non-finite
    test logit (diverged training is flagged, never counted)."""
    values = np.asarray(MEASURES[name](runs), dtype=np.float64)
    diverged = ~torch.isfinite(runs.logits(runs.test.inputs)).all(dim=1).numpy()
    values[diverged] = np.nan
    return values
