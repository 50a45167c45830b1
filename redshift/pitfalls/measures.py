"""Per-seed numbers of a pitfalls experiment (Shah et al. 2020 §3 Definition 2, §5, Theorem 1, App.
E.1): ``MEASURES[name](runs)`` returns one value per seed, [n]. Every randomised measure draws its
permutations from its own seed (derived from the run's evaluation seed and the measure's name), so
values do not depend on which measures are asked for, or in which order. Everything is batched over
the seeds (and the members of an ensemble): no Python loop over networks.

Complexity (``init_lz``, ``trained_lz``): the network's logit on a resolution x resolution grid over
the canonical plane of coordinate 0 (S) and coordinate 1 (the first S^c coordinate), each over
[-B, B], through the seed's first test point (its other canonical coordinates fixed), rotated into
the network's input basis; LZ76 of the median-binarised grid in raster order (redshift.metrics.lz,
Neural Redshift §3's measure). The same networks as every other measure, on their own input scale.

Adversarial perturbations (the authors' notebook 06, Shah et al. §5's "UAPs attack S"): untargeted
L2 PGD on every test point, radius 0.5 x range and step 0.05 x range for 20 steps (range: max - min
of the seed's training inputs), clipped to [min, max]; ``pgd_accuracy`` on the perturbed points,
``pgd_s_fraction`` the mean over points of |delta_S| / |delta| after un-rotating (the notebook's
"fraction of budget in the linear coordinate"), ``uap_s_fraction`` the same for the universal
(data-agnostic) SVD-UAP direction: the top right singular vector of the points' perturbations.

Ensembles (``ensemble: k``, App. E.1 and notebook 04's ``EnsembleAverage``): ``ensemble_accuracy`` of
the mean logit of the k members, ``member_accuracy`` the mean of their own accuracies,
``ensemble_gain`` the difference.
"""
from collections.abc import Callable

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from redshift.metrics import lz
from redshift.networks import forward
from redshift.pitfalls.evaluation import accuracy, randomized, roc_auc, swapped
from redshift.pitfalls.experiment import Runs
from redshift.seeding import derive_seed

PGD_RADIUS = 0.5  # x range (notebook 06: L2_PGD_Attack(0.5 * drange, 0.05 * drange, 20))
PGD_STEP = 0.05
PGD_STEPS = 20
ENSEMBLE_MEASURES = ("ensemble_accuracy", "member_accuracy", "ensemble_gain")


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


def probe_inputs(runs: Runs) -> Tensor:
    """[n, R^2, d]: the canonical (S, first S^c) plane through each seed's first test point, rotated."""
    test, r, b = runs.test, runs.resolution, runs.spec.block_width
    axis = torch.linspace(-b, b, r, dtype=torch.float64)
    rows, columns = torch.meshgrid(axis, axis, indexing="ij")
    z = test.canonical[:, :1].expand(-1, r * r, -1).clone()
    z[..., 0], z[..., 1] = rows.reshape(-1), columns.reshape(-1)
    return z @ test.rotation


def probe_lz(which: str) -> Callable[[Runs], np.ndarray]:
    """LZ of the initial or trained network's logit on the probe plane (module docstring)."""
    def measure(runs: Runs) -> np.ndarray:
        params = runs.initial if which == "initial" else runs.trained
        outputs = runs.logits(probe_inputs(runs), params).double()
        return lz(outputs.reshape(-1, runs.resolution, runs.resolution)).numpy()
    return measure


def _cached(runs: Runs, key: str, compute):
    if key not in runs.cache:
        runs.cache[key] = compute()
    return runs.cache[key]


def pgd_perturbations(runs: Runs) -> tuple[Tensor, Tensor]:
    """(perturbed test inputs [n, P, d], canonical perturbations [n, P, d]) of untargeted L2 PGD."""
    def compute():
        spec, params, test = runs.spec, runs.trained, runs.test
        dtype, device = params.out_bias.dtype, params.out_bias.device
        x = test.inputs.to(device, dtype)
        y = test.labels.to(device, dtype)
        low = runs.train.inputs.amin(dim=(1, 2)).to(device, dtype)[:, None, None]
        high = runs.train.inputs.amax(dim=(1, 2)).to(device, dtype)[:, None, None]
        radius, step = PGD_RADIUS * (high - low), PGD_STEP * (high - low)
        adversarial = x.clone()
        with torch.enable_grad():
            for _ in range(PGD_STEPS):
                adversarial.requires_grad_(True)
                loss = F.binary_cross_entropy_with_logits(forward(spec.network, params, adversarial), y, reduction="sum")
                (grad,) = torch.autograd.grad(loss, adversarial)
                with torch.no_grad():
                    norm = grad.norm(dim=-1, keepdim=True).clamp_min(1e-12)
                    delta = adversarial - x + step * grad / norm
                    delta = delta * torch.clamp(radius / delta.norm(dim=-1, keepdim=True).clamp_min(1e-12), max=1.0)
                    adversarial = torch.minimum(torch.maximum(x + delta, low), high)
        adversarial = adversarial.detach().cpu().to(torch.float64)
        return adversarial, (adversarial - test.inputs) @ test.rotation.transpose(-1, -2)
    return _cached(runs, "pgd", compute)


def _block_fraction(delta: Tensor, block: tuple[int, ...]) -> Tensor:
    """|delta_block| / |delta| over the last axis (NaN where delta = 0)."""
    total = delta.norm(dim=-1)
    part = delta[..., list(block)].norm(dim=-1)
    return torch.where(total > 0, part / total, torch.nan)


def pgd_accuracy(runs: Runs) -> np.ndarray:
    return accuracy(runs.logits(pgd_perturbations(runs)[0]), runs.test.labels)


def pgd_s_fraction(runs: Runs) -> np.ndarray:
    """Mean over test points of the share |delta_S| / |delta| of the un-rotated PGD perturbation."""
    return torch.nanmean(_block_fraction(pgd_perturbations(runs)[1], runs.test.simple), dim=1).numpy()


def uap_s_fraction(runs: Runs) -> np.ndarray:
    """|v_S| of the universal direction v: the top right singular vector of the un-rotated PGD
    perturbations [P, d] of each seed (SVD-UAP)."""
    _, _, vh = torch.linalg.svd(pgd_perturbations(runs)[1], full_matrices=False)
    return _block_fraction(vh[:, 0], runs.test.simple).numpy()


def _member_accuracies(runs: Runs) -> tuple[np.ndarray, np.ndarray]:
    """(ensemble accuracy [n], mean member accuracy [n]) on the test set."""
    def compute():
        logits = runs.member_logits(runs.test.inputs)
        labels = runs.test.labels
        n, k = logits.shape[:2]  # [n, k, P]: all members of all seeds in one call
        members = accuracy(logits.flatten(0, 1), labels.repeat_interleave(k, dim=0)).reshape(n, k)
        return accuracy(logits.mean(dim=1), labels), members.mean(axis=1)
    return _cached(runs, "ensemble", compute)


def ensemble_accuracy(runs: Runs) -> np.ndarray:
    return _member_accuracies(runs)[0]


def member_accuracy(runs: Runs) -> np.ndarray:
    return _member_accuracies(runs)[1]


def ensemble_gain(runs: Runs) -> np.ndarray:
    ensemble, members = _member_accuracies(runs)
    return ensemble - members


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
    "init_lz": probe_lz("initial"),
    "trained_lz": probe_lz("trained"),
    "pgd_accuracy": pgd_accuracy,
    "pgd_s_fraction": pgd_s_fraction,
    "uap_s_fraction": uap_s_fraction,
    "ensemble_accuracy": ensemble_accuracy,
    "member_accuracy": member_accuracy,
    "ensemble_gain": ensemble_gain,
}


def measure(runs: Runs, name: str) -> np.ndarray:
    """MEASURES[name](runs) as float64 [n], NaN for seeds whose trained network gives a non-finite
    test logit (diverged training is flagged, never counted)."""
    values = np.asarray(MEASURES[name](runs), dtype=np.float64)
    diverged = ~torch.isfinite(runs.logits(runs.test.inputs)).all(dim=1).numpy()
    values[diverged] = np.nan
    return values
