"""The multi-dimensional simplicity-bias datasets (Shah et al. 2020, §3, §5, Theorem 1, App. E.1),
batched over n independent datasets, each followed by its own random orthogonal rotation.

Coordinate 0 is the simple feature S, coordinates 1..d-1 are S^c (every coordinate an independent
block given y ~ Bernoulli(1/2)):

- ``lms-k``        (k = 3, 5, 7): linear S, k-slabs S^c
- ``noisy-lms-k``: noisy linear S (fraction ``noise`` of points inside the margin), k-slabs S^c
- ``ms-5-7``:      a 5-slab S, 7-slabs S^c
- ``ms-k``:        k-slabs everywhere (the "S removed" learnability controls)
- ``noisy-ms-k``:  noisy k-slabs everywhere, each coordinate corrupted independently (fraction
                   ``noise`` of the points take a value of the other class): App. E.1's ensemble data,
                   where every coordinate alone is 1 - noise accurate
- ``lsn``:         Theorem 1's data: x_0 = 2y - 1 (linear), x_1 = y eps with eps = +-1 (3-slab: negatives
                   at 0, positives at +-1), x_2.. ~ N(0, 1)

Rotation (authors' code): W = Q of qr(randn(d, d)); the model sees X W (rows), the canonical
coordinates are X W W^T.
"""
from dataclasses import dataclass

import torch
from torch import Tensor

from redshift.pitfalls import blocks

SLAB_KS = tuple(blocks.SLAB_PROBABILITIES)
DATASETS = (*(f"lms-{k}" for k in SLAB_KS), *(f"noisy-lms-{k}" for k in SLAB_KS), "ms-5-7",
            *(f"ms-{k}" for k in SLAB_KS), *(f"noisy-ms-{k}" for k in SLAB_KS), "lsn")


@dataclass(frozen=True)
class Dataset:
    """n datasets of P points: ``inputs`` [n, P, d] (rotated), ``labels`` [n, P] in {0, 1},
    ``rotation`` [n, d, d] (inputs = canonical @ rotation), and the canonical coordinates of S and S^c."""

    inputs: Tensor
    labels: Tensor
    rotation: Tensor
    simple: tuple[int, ...]
    complex: tuple[int, ...]

    @property
    def canonical(self) -> Tensor:
        """The un-rotated coordinates X W^T, [n, P, d]."""
        return self.inputs @ self.rotation.transpose(-1, -2)

    def split(self, test: int) -> tuple["Dataset", "Dataset"]:
        """(train, test): the first ``test`` points are the test set, as in the authors' notebooks."""
        def part(index):
            return Dataset(self.inputs[:, index], self.labels[:, index], self.rotation, self.simple, self.complex)
        return part(slice(test, None)), part(slice(0, test))


def random_rotation(n: int, d: int, generator: torch.Generator) -> Tensor:
    """n random orthogonal d x d matrices, Q of the QR decomposition of a standard normal matrix."""
    q, _ = torch.linalg.qr(torch.randn(n, d, d, generator=generator, dtype=torch.float64))
    return q


def _block(name: str, labels: Tensor, generator: torch.Generator, noise: float, width: float,
           margin: float) -> Tensor:
    """One coordinate per trailing slot of ``labels``: 'linear', 'noisy', a slab count 'k' or 'noisy<k>'."""
    if name == "linear":
        return blocks.linear(labels, generator, width, margin)
    if name == "noisy":
        return blocks.noisy_linear(labels, generator, noise, width, margin)
    if name.startswith("noisy"):
        return blocks.noisy_slab(labels, generator, int(name[5:]), noise, width, margin)
    return blocks.slab(labels, generator, int(name), width, margin)


def _blocks_of(dataset: str) -> tuple[str, str]:
    """(S block, S^c block) of a named dataset (not lsn)."""
    parts = dataset.split("-")
    if parts[0] == "lms":
        return "linear", parts[1]
    if dataset.startswith("noisy-ms-"):
        return f"noisy{parts[2]}", f"noisy{parts[2]}"
    if parts[0] == "noisy":
        return "noisy", parts[2]
    if dataset == "ms-5-7":
        return "5", "7"
    return parts[1], parts[1]


def generate(dataset: str, n: int, points: int, d: int, seed: int, *, noise: float = 0.1, width: float = 1.0,
             margin: float = 0.1, rotate: bool = True) -> Dataset:
    """n independent datasets of ``points`` points in dimension d from one CPU generator.

    Draw order: labels [n, P]; coordinate 0; coordinates 1..d-1 (as [n, d-1, P]); the rotation.
    """
    if dataset not in DATASETS:
        raise ValueError(f"dataset: unknown value {dataset!r} (allowed: {', '.join(DATASETS)})")
    if d < 2 or points < 1 or n < 1:
        raise ValueError(f"need d >= 2 and at least one point and dataset, got d={d}, points={points}, n={n}")
    generator = torch.Generator().manual_seed(seed)
    labels = (torch.rand(n, points, generator=generator, dtype=torch.float64) < 0.5).to(torch.float64)
    sign = 2 * labels - 1
    if dataset == "lsn":
        epsilon = torch.where(torch.rand(n, points, generator=generator, dtype=torch.float64) < 0.5, -1.0, 1.0)
        noise_coordinates = torch.randn(n, d - 2, points, generator=generator, dtype=torch.float64)
        columns = [sign[:, None], (labels * epsilon)[:, None], noise_coordinates]
    else:
        simple, others = _blocks_of(dataset)
        columns = [_block(simple, labels, generator, noise, width, margin)[:, None],
                   _block(others, labels[:, None].expand(n, d - 1, points), generator, noise, width, margin)]
    canonical = torch.cat(columns, dim=1).transpose(1, 2)  # [n, P, d]
    rotation = random_rotation(n, d, generator) if rotate else torch.eye(d, dtype=torch.float64).expand(n, d, d)
    return Dataset(canonical @ rotation, labels, rotation.contiguous(), (0,), tuple(range(1, d)))
