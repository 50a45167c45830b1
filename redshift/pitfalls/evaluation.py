"""Feature-reliance evaluation (Shah et al. 2020, §3 Definition 2, Table 1; the authors'
``lms_utils.get_randomized_loader``): randomise a block of canonical coordinates over the test set
and see what the trained model loses.

- randomised: Z = X W^T; one permutation pi of the test points per dataset; Z[:, c] = Z[pi, c] for
  every c in the block (the block's joint marginal is kept, its link to y is cut); X' = Z W.
- swapped: each point's block is replaced by that of a uniformly drawn point of the OTHER class
  (a model that uses only S scores ~0 on S-swapped data, not 0.5).
Accuracy counts sign(logit) against the TRUE labels; AUC is the ROC AUC of the logit (the authors'
code; the paper's text says precision-recall).
"""
import numpy as np
import torch
from scipy import stats
from torch import Tensor

from redshift.pitfalls.datasets import Dataset


def _replace_block(data: Dataset, block: tuple[int, ...], source: Tensor) -> Tensor:
    """Inputs [n, P, d] whose canonical ``block`` coordinates are taken from points ``source`` [n, P]."""
    z = data.canonical
    donor = torch.gather(z, 1, source[..., None].expand_as(z))
    columns = torch.zeros(z.shape[-1], dtype=torch.bool)
    columns[list(block)] = True
    return torch.where(columns, donor, z) @ data.rotation


def randomized(data: Dataset, block: tuple[int, ...], generator: torch.Generator) -> Tensor:
    """Inputs with the canonical ``block`` jointly permuted over the points (one permutation per dataset)."""
    n, points = data.labels.shape
    permutation = torch.argsort(torch.rand(n, points, generator=generator, dtype=torch.float64), dim=1)
    return _replace_block(data, block, permutation)


def swapped(data: Dataset, block: tuple[int, ...], generator: torch.Generator) -> Tensor:
    """Inputs whose canonical ``block`` comes from a uniformly drawn point of the other class."""
    labels = data.labels.to(torch.bool)
    n, points = labels.shape
    by_class = torch.argsort(labels.to(torch.int8), dim=1, stable=True)  # negatives first, then positives
    negatives = (~labels).sum(dim=1, keepdim=True)
    others = torch.where(labels, negatives, points - negatives)
    if torch.any(others == 0):
        raise ValueError("swapped: a test set holds a single class; nothing to swap with")
    u = torch.rand(n, points, generator=generator, dtype=torch.float64)
    rank = torch.minimum((u * others).long(), others - 1) + torch.where(labels, 0, negatives)
    return _replace_block(data, block, torch.gather(by_class, 1, rank))


def accuracy(logits: Tensor, labels: Tensor) -> np.ndarray:
    """Fraction of points with (logit > 0) == label, per dataset: [n]."""
    return ((logits > 0) == labels.to(torch.bool)).double().mean(dim=1).cpu().numpy()


def roc_auc(logits: Tensor, labels: Tensor) -> np.ndarray:
    """ROC AUC of the logit per dataset (Mann-Whitney form, average ranks for ties); NaN for one class."""
    scores = logits.double().cpu().numpy()
    positive = labels.to(torch.bool).cpu().numpy()
    ranks = stats.rankdata(scores, axis=1)
    n_pos = positive.sum(axis=1)
    n_neg = positive.shape[1] - n_pos
    with np.errstate(invalid="ignore", divide="ignore"):
        return ((ranks * positive).sum(axis=1) - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)
