"""Shortcut learning on digits with a colour band, in the spirit of Colored-MNIST regression
(Neural Redshift §4.2, Fig. 9).

MNIST cannot be downloaded here, so the images are scikit-learn's 8x8 handwritten digits
(``sklearn.datasets.load_digits``: 1797 images, 16 grey levels, shipped inside the package; the
optional extra ``digits``). Each image (64 pixels scaled to [-1, 1]) is juxtaposed with a uniform
band of ``band_pixels`` pixels whose intensity encodes a class c: every band pixel is 2 c / 9 - 1
(the "colour", the spurious feature: one intensity instead of an RGB hue).

Training: the band class equals the digit, and the regression target is digit / 9 in [0, 1], so
both features predict the label perfectly. Test: the held-out images with a band class drawn
uniformly and independently of the digit; the prediction round(9 f(x)) (clipped to 0..9) is
scored against the digit (digit accuracy) and against the band class (colour accuracy). The
paper's two test sets (one randomising each factor) have this same distribution, so one set
scores both.

Complexity probe (for init_lz / trained_lz): the test set in random order would make any function's
binarised outputs look like noise, so the probe is a path: the piecewise-linear interpolation
through the first ``PATH_IMAGES`` test inputs, ``PATH_STEPS`` points per segment (480 points, fixed
order). A simple function crosses its median a few times along it, a complex one many times.
"""
from dataclasses import dataclass
from functools import lru_cache

import torch
from torch import Tensor

from redshift.parse import Spec, setting
from redshift.trained.datasets import TaskData

CLASSES = 10
IMAGE_PIXELS = 64
N_IMAGES = 1797
PATH_IMAGES = 17
PATH_STEPS = 30
EXTRA = "digits"  # pip install 'neural-redshift-bench[digits]'


class DigitsUnavailable(ImportError):
    """scikit-learn (the ``digits`` extra) is not installed."""


@dataclass(frozen=True)
class ShortcutTask(Spec):
    """8x8 digits + colour band; ``n_train`` images train, the other 1797 - n_train test."""

    n_train: int = setting(1000, min=10, max=N_IMAGES - 10, doc="training images (the rest test)")
    band_pixels: int = setting(8, min=1, max=4096, doc="pixels of the colour band")

    @property
    def input_dim(self) -> int:
        return IMAGE_PIXELS + self.band_pixels

    loss = "mse"
    accuracies = ("digit_accuracy", "colour_accuracy")

    def label(self) -> str:
        return f"digits_band{self.band_pixels}-train{self.n_train}"

    def draw(self, n: int, generator: torch.Generator) -> TaskData:
        """n random train / test splits of the images; test bands get independent uniform classes.

        Draw order: the split permutations [n, 1797], then the test band classes [n, 1797 - n_train].
        The probe is ``interpolation_path`` through the first test inputs.
        """
        pixels, digits = digit_images()
        order = torch.argsort(torch.rand(n, N_IMAGES, generator=generator, dtype=torch.float64), dim=-1)
        train, test = order[:, :self.n_train], order[:, self.n_train:]
        band = torch.randint(0, CLASSES, test.shape, generator=generator)
        test_x = with_band(pixels[test], band, self.band_pixels)
        return TaskData(train_x=with_band(pixels[train], digits[train], self.band_pixels),
                        train_y=digits[train].to(torch.float64) / (CLASSES - 1), train_labels=digits[train],
                        test_x=test_x, test_labels={"digit_accuracy": digits[test], "colour_accuracy": band},
                        probe_x=interpolation_path(test_x[:, :PATH_IMAGES], PATH_STEPS))

    @staticmethod
    def correct(outputs: Tensor, labels: Tensor) -> Tensor:
        return predicted_class(outputs) == labels


@lru_cache(maxsize=1)
def digit_images() -> tuple[Tensor, Tensor]:
    """sklearn's digits: pixels [1797, 64] scaled from 0..16 to [-1, 1] (float64) and classes [1797] (int64)."""
    try:
        from sklearn.datasets import load_digits
    except ImportError:
        raise DigitsUnavailable(f"the digits shortcut task needs scikit-learn: pip install "
                                f"'neural-redshift-bench[{EXTRA}]'") from None
    data = load_digits()
    pixels = torch.as_tensor(data.data, dtype=torch.float64) / 8.0 - 1.0
    return pixels, torch.as_tensor(data.target, dtype=torch.int64)


def with_band(pixels: Tensor, band_class: Tensor, band_pixels: int) -> Tensor:
    """Images [..., 64] with a band of ``band_pixels`` pixels of intensity 2 c / 9 - 1 appended: [..., 64 + band]."""
    band = (2.0 * band_class.to(pixels.dtype) / (CLASSES - 1) - 1.0)[..., None]
    return torch.cat([pixels, band.expand(*band.shape[:-1], band_pixels)], dim=-1)


def interpolation_path(anchors: Tensor, steps: int) -> Tensor:
    """Points (1 - t) a_k + t a_{k+1}, t = 0, 1/steps, ..., (steps-1)/steps, for consecutive anchors
    [..., K, d] -> [..., (K - 1) steps, d]."""
    t = torch.arange(steps, dtype=anchors.dtype) / steps
    start, end = anchors[..., :-1, None, :], anchors[..., 1:, None, :]
    path = start + t[:, None] * (end - start)
    return path.reshape(*anchors.shape[:-2], (anchors.shape[-2] - 1) * steps, anchors.shape[-1])


def predicted_class(outputs: Tensor) -> Tensor:
    """Regression output f ~ class / 9 -> class: round(9 f) clipped to 0..9."""
    return torch.clamp(torch.round((CLASSES - 1) * outputs), 0, CLASSES - 1).to(torch.int64)
