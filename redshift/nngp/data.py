"""The 8x8 digits as the offline stand-in for MNIST (Bernstein & Yue 2021 §4 use MNIST; the public util/data.py): preprocessing, tasks, data draws.

scikit-learn ships the digits (``sklearn.datasets.load_digits``, 1797 x 64, no download); it is the
optional extra ``digits``. Preprocessing mirrors the public code's ``normalize_data``: subtract the
scalar pixel mean, divide by the scalar pixel std, then rescale every image to Euclidean norm
sqrt(64), so that ||x||^2 / d = 1.
Tasks: ``binary`` = digits 0 vs 1 (0 -> -1, 1 -> +1); ``parity`` = odd +1 / even -1 (the paper's
"decimal digits"); ``random`` = parity pool with iid +-1 labels for train AND test points, drawn after
the subset is chosen.
"""
import functools
from dataclasses import dataclass

import numpy as np

TASKS = ("binary", "parity", "random")
POOL_SIZES = {"binary": 360, "parity": 1797, "random": 1797}  # images of load_digits per task (178 zeros, 182 ones)
MISSING_EXTRA = ("scikit-learn is not installed: the architecture-vs-GD claims need the 8x8 digits "
                 "(pip install 'neural-redshift-bench[digits]')")


class MissingDigits(ImportError):
    """scikit-learn (the ``digits`` extra) is not installed."""


@functools.lru_cache(maxsize=1)
def digits() -> tuple[np.ndarray, np.ndarray]:
    """(X [1797, 64] float64, rows of norm 8; digit labels [1797] int)."""
    try:
        from sklearn.datasets import load_digits
    except ImportError:
        raise MissingDigits(MISSING_EXTRA) from None
    data = load_digits()
    x = (data.data - data.data.mean()) / data.data.std()
    x *= np.sqrt(x.shape[1]) / np.linalg.norm(x, axis=1, keepdims=True)
    return x, data.target.astype(int)


@dataclass(frozen=True)
class Split:
    """One draw of a task: train inputs / labels in {-1, +1}, and disjoint held-out points."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray


def draw_split(task: str, n_train: int, n_test: int, rng: np.random.Generator) -> Split:
    """A random subset of the task's pool: first n_train of a permutation for training, the next n_test held out."""
    x, digit = digits()
    pool = np.flatnonzero(digit <= 1) if task == "binary" else np.arange(len(digit))
    if len(pool) != POOL_SIZES[task]:
        raise ValueError(f"scikit-learn's digits changed: task {task!r} has {len(pool)} images, "
                         f"POOL_SIZES says {POOL_SIZES[task]}")
    if n_train + n_test > len(pool):
        raise ValueError(f"n_train + n_test = {n_train + n_test} exceeds the {len(pool)} digits of task {task!r}")
    order = pool[rng.permutation(len(pool))[:n_train + n_test]]
    labels = (digit[order] % 2 * 2 - 1).astype(float)
    if task == "random":
        labels = rng.integers(0, 2, size=len(order)) * 2.0 - 1.0
    return Split(x[order[:n_train]], labels[:n_train], x[order[n_train:]], labels[n_train:])
