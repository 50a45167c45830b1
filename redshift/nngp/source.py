"""The ``nngp`` source: the architecture-vs-gradient-descent measurements on the digits (Bernstein & Yue 2021).

One sample = one independent draw: a random train/test subset of the task (data seed) and the
estimators' own randomness (estimator seed), both derived from the subject's seed and the draw index.
Settings (case-file key ``nngp:``; every one has a default):

    task: binary | parity | random      layers: L linear layers (paper's depth; hidden layers L - 1)
    activation: relu | any suite one    weight_scale: s, weights N(0, s^2 / fan_in) (default sqrt 2)
    kernel: nngp | identity             n_train, n_test: subset sizes
    method: posterior | ray | nero | rejection   (what test_error / train_error measure)
    label_scale: alpha (ray, nero)      posterior_method: rb | joint
    mc_samples: S (orthant estimate)    posterior_draws: prior draws for the posterior error
    width, networks: finite networks (nero, rejection, kernel_error)

Metrics (one value per draw): bound / estimate = PAC-Bayes bound (delta 0.01) with the analytic bound /
the MC estimate of ln 1/P(O_c); log_orthant, log_orthant_bound = those in nats; bound_gap = bound minus
estimate in nats; orthant_error = estimate minus the exact ln 1/P (identity kernel: n ln 2; NNGP:
scipy's Genz, n <= 20); test_error / train_error of the method's classifier on the held-out / training
points; estimate_slack = estimate minus test_error; kernel_error = max |sample covariance of ``networks``
suite networks - NNGP kernel| / mean diagonal on the training points; quadrature_error = the same for
the Gauss-Hermite kernel against the closed form. The NNGP kernel is divided by s^2 (output layer at unit
gain): the paper's unit-diagonal normalisation for sqrt(2) ReLU, which sets the scale of the label ray.
"""
import math
from dataclasses import dataclass

import numpy as np
import pytest
import torch

from redshift.core import FieldError, Settings
from redshift.networks import ACTIVATIONS
from redshift.nngp.data import POOL_SIZES, TASKS, MissingDigits, Split, draw_split
from redshift.nngp.finite import rejection_error, sample_covariance, sample_outputs, suite_network
from redshift.nngp.kernels import ANALYTIC, KERNEL_ACTIVATIONS, nngp_kernel
from redshift.nngp.orthant import (
    EXACT_MAX_N, log_inverse_orthant_bound, log_inverse_orthant_estimate, log_inverse_orthant_exact,
)
from redshift.nngp.pac_bayes import pac_bayes_bound
from redshift.nngp.posterior import label_ray_error, posterior_error
from redshift.nngp.simplenet import random_outputs, train_to_label_scale
from redshift.parse import Spec, setting
from redshift.seeding import derive_seed
from redshift.sources import SpecSource

METHODS = ("posterior", "ray", "nero", "rejection")
KERNELS = ("nngp", "identity")
POSTERIOR_METHODS = ("rb", "joint")
METRICS = ("bound", "estimate", "log_orthant", "log_orthant_bound", "bound_gap", "orthant_error",
           "test_error", "train_error", "estimate_slack", "kernel_error", "quadrature_error")
HELD_OUT_METRICS = ("test_error", "train_error", "estimate_slack")


@dataclass(frozen=True)
class NNGPSpec(Spec):
    task: str = setting("binary", choices=TASKS, doc="binary (0 vs 1), parity (even vs odd) or random labels")
    layers: int = setting(7, min=1, doc="L linear layers (hidden layers L - 1)")
    activation: str = setting("relu", choices=KERNEL_ACTIVATIONS, doc="the architecture's activation")
    weight_scale: float = setting(math.sqrt(2), min=0, min_open=True, doc="s: weights N(0, s^2 / fan_in)")
    kernel: str = setting("nngp", choices=KERNELS, doc="nngp, or identity (the chance baseline)")
    n_train: int = setting(50, min=2, doc="training points")
    n_test: int = setting(0, min=0, doc="held-out points")
    method: str = setting("posterior", choices=METHODS, doc="what test_error / train_error measure")
    label_scale: float = setting(1.0, min=0, min_open=True, doc="alpha of the label ray and Nero")
    posterior_method: str = setting("rb", choices=POSTERIOR_METHODS, doc="posterior error estimator")
    mc_samples: int = setting(100_000, min=1, doc="S of the orthant estimate")
    posterior_draws: int = setting(1_000_000, min=1, doc="prior draws of the posterior error")
    width: int = setting(1024, min=1, doc="finite networks' width (nero, rejection, kernel_error)")
    networks: int = setting(4000, min=1, doc="finite networks drawn (rejection, kernel_error)")

    def check(self) -> None:
        if self.n_train + self.n_test > POOL_SIZES[self.task]:
            raise FieldError("n_train", f"n_train + n_test = {self.n_train + self.n_test} exceeds the "
                                        f"{POOL_SIZES[self.task]} digits of task {self.task!r}")
        if self.method in ("nero", "rejection") and self.layers < 2:
            raise FieldError("layers", f"method {self.method!r} needs a hidden layer (layers >= 2), got {self.layers}")
        if self.method in ("nero", "rejection") and self.activation not in ACTIVATIONS:
            raise FieldError("activation", f"method {self.method!r} samples networks: activation must be one of "
                                           f"the suite's ({', '.join(ACTIVATIONS)}), got {self.activation!r}")
        if self.method in ("nero", "rejection") and self.kernel != "nngp":
            raise FieldError("kernel", f"method {self.method!r} samples networks: kernel must be nngp")

    def label(self) -> str:
        """e.g. ``nngp-binary-L7-relu-n100``, ``nngp-binary-L2-relu-n5-nero(a=1,w1024)``."""
        arch = "identity" if self.kernel == "identity" else self.activation
        parts = ["nngp", self.task, f"L{self.layers}", arch]
        if self.weight_scale != math.sqrt(2):
            parts.append(f"s{self.weight_scale:g}")
        parts.append(f"n{self.n_train}")
        if self.n_test != NNGPSpec.n_test:
            parts.append(f"t{self.n_test}")
        if self.mc_samples != NNGPSpec.mc_samples:
            parts.append(f"S{self.mc_samples:g}")
        finite = f"w{self.width}" + (f",N{self.networks}" if self.method == "rejection" else "")
        method = {"posterior": "" if self.posterior_method == "rb" and self.posterior_draws == NNGPSpec.posterior_draws
                  else f"posterior({self.posterior_method},{self.posterior_draws:g})",
                  "ray": f"ray(a={self.label_scale:g})",
                  "nero": f"nero(a={self.label_scale:g},{finite})",
                  "rejection": f"rejection({finite})"}[self.method]
        if self.method not in ("nero", "rejection") and (self.width, self.networks) != (NNGPSpec.width, NNGPSpec.networks):
            parts.append(f"finite(w{self.width},N{self.networks})")  # the suite networks of kernel_error
        return "-".join(parts + ([method] if method else []))


class NNGPSource(SpecSource):
    """NNGP kernels, orthant estimators, PAC-Bayes bounds, posterior and label-ray errors on the digits.

    Outputs are ``Draws``; every setting has a default.
    """

    name = "nngp"
    spec_type = NNGPSpec
    metrics = METRICS

    def cannot_measure(self, spec: NNGPSpec, metric: str) -> str | None:
        """The metrics a subject's settings cannot produce (checked when the case file is collected)."""
        if metric in HELD_OUT_METRICS and spec.n_test == 0:
            return f"{metric} needs held-out points: set n_test >= 1"
        if metric == "train_error" and spec.method != "nero":
            return (f"train_error is measured for method nero only (the {spec.method} classifier fits the "
                    f"training labels by construction)")
        if metric in ("kernel_error", "quadrature_error") and spec.kernel != "nngp":
            return f"{metric} compares NNGP kernels: needs kernel nngp, got {spec.kernel!r}"
        if metric == "quadrature_error" and spec.activation not in ANALYTIC:
            return (f"quadrature_error needs an activation with a closed-form kernel ({', '.join(ANALYTIC)}), "
                    f"got {spec.activation!r}")
        if metric == "orthant_error" and spec.kernel == "nngp" and spec.n_train > EXACT_MAX_N:
            return f"orthant_error with the NNGP kernel needs the exact orthant: n_train <= {EXACT_MAX_N}"
        return super().cannot_measure(spec, metric)

    def describe(self, settings: Settings) -> str:
        return f"digits {settings.dtype}"

    def sample(self, spec: NNGPSpec, n: int, seed: int, settings: Settings) -> "Draws":
        try:
            splits = [draw_split(spec.task, spec.n_train, spec.n_test, np.random.default_rng([seed, i, 0]))
                      for i in range(n)]
        except MissingDigits as exc:
            pytest.skip(str(exc))
        return Draws(spec, seed, splits, settings.torch_dtype)

    def measure(self, outputs: "Draws", metric: str) -> np.ndarray:
        return outputs.measure(metric)


SOURCE = NNGPSource()


SHARED: dict = {}  # (spec, seed, value, draw[, dtype]) -> float, for every Draws of the process (see Draws)


class Draws:
    """The draws of one subject; metric values are computed on demand and shared between metrics.

    Draw i depends only on (spec, seed, i), not on how many draws are taken, so per-draw values are kept in
    the module-level SHARED: a claim that takes 16 draws of a subject reuses the 8 another claim measured,
    and the NNGP estimators (float64 numpy) are shared between claims whatever their dtype setting.
    """

    def __init__(self, spec: NNGPSpec, seed: int, splits: list[Split], dtype: torch.dtype):
        self.spec, self.seed, self.splits, self.dtype = spec, seed, splits, dtype
        self._cache: dict = {}

    def rng(self, i: int, purpose: str) -> np.random.Generator:
        return np.random.default_rng(derive_seed(self.seed, i, purpose))

    def _cached(self, key, compute):
        if key not in self._cache:
            self._cache[key] = compute()
        return self._cache[key]

    def _shared(self, key: tuple, compute) -> float:
        key = (self.spec, self.seed) + key
        if key not in SHARED:
            SHARED[key] = compute()
        return SHARED[key]

    def kernel(self, i: int) -> np.ndarray:
        """Kernel over [train; test] points of draw i (identity for kernel: identity)."""
        s, split = self.spec, self.splits[i]
        x = np.concatenate([split.x_train, split.x_test])
        if s.kernel == "identity":
            return np.eye(len(x))
        return self._cached(("kernel", i), lambda: nngp_kernel(x, s.activation, s.layers - 1, s.weight_scale)
                            / s.weight_scale**2)

    def train_kernel(self, i: int) -> np.ndarray:
        return self.kernel(i)[:self.spec.n_train, :self.spec.n_train]

    def log_orthant(self, i: int) -> float:
        return self._shared(("c_hat", i), lambda: log_inverse_orthant_estimate(
            self.train_kernel(i), self.splits[i].y_train, self.spec.mc_samples, self.rng(i, "orthant")))

    def log_orthant_bound(self, i: int) -> float:
        return self._shared(("c_bar", i), lambda: log_inverse_orthant_bound(self.train_kernel(i), self.splits[i].y_train))

    def errors(self) -> tuple[np.ndarray, np.ndarray]:
        """(train errors, test errors) over the draws for the subject's method."""
        return self._cached("errors", self._errors)

    def _errors(self) -> tuple[np.ndarray, np.ndarray]:
        s = self.spec
        n = len(self.splits)
        if s.method == "nero":
            stack = lambda name: torch.as_tensor(np.stack([getattr(sp, name) for sp in self.splits]), dtype=self.dtype)
            trained = train_to_label_scale(stack("x_train"), stack("y_train"), stack("x_test"), stack("y_test"),
                                           s.label_scale, s.layers, s.width,
                                           torch.Generator().manual_seed(derive_seed(self.seed, "nero")),
                                           s.activation, s.weight_scale)
            return trained.train_error.double().numpy(), trained.test_error.double().numpy()
        dtype = (self.dtype,) if s.method == "rejection" else ()  # the NNGP estimators do not use the dtype
        return np.zeros(n), np.array([self._shared(("test_error", i) + dtype, lambda: self._test_error(i))
                                      for i in range(n)])

    def _test_error(self, i: int) -> float:
        """Test error of draw i for the methods measured draw by draw (posterior, ray, rejection)."""
        s, sp = self.spec, self.splits[i]
        if s.method == "rejection":
            x = torch.as_tensor(np.concatenate([sp.x_train, sp.x_test]), dtype=self.dtype)
            outputs = random_outputs(x, s.networks, s.layers, s.width,
                                     torch.Generator().manual_seed(derive_seed(self.seed, i, "networks")),
                                     s.activation, s.weight_scale)
            return rejection_error(outputs.double().numpy(), sp.y_train, sp.y_test)[0]
        if s.method == "ray":
            return label_ray_error(self.kernel(i), sp.y_train, sp.y_test, s.label_scale)
        return posterior_error(self.kernel(i), sp.y_train, sp.y_test, s.posterior_draws, self.rng(i, "posterior"),
                               s.posterior_method)[0]

    def kernel_error(self, i: int, quadrature: bool) -> float:
        s, split = self.spec, self.splits[i]
        analytic = self.train_kernel(i)
        if quadrature:
            other = nngp_kernel(split.x_train, s.activation, s.layers - 1, s.weight_scale, quadrature=True) \
                / s.weight_scale**2
        else:
            spec = suite_network(s.activation, s.layers, s.width, s.weight_scale, split.x_train.shape[1])
            outputs = sample_outputs(spec, split.x_train, s.networks, derive_seed(self.seed, i, "networks"), self.dtype)
            other = sample_covariance(outputs) / s.weight_scale**2
        return float(np.max(np.abs(other - analytic)) / np.mean(np.diag(analytic)))

    def value(self, i: int, metric: str) -> float:
        s, split = self.spec, self.splits[i]
        if metric == "log_orthant":
            return self.log_orthant(i)
        if metric == "log_orthant_bound":
            return self.log_orthant_bound(i)
        if metric == "bound":
            return float(pac_bayes_bound(self.log_orthant_bound(i), s.n_train))
        if metric == "estimate":
            return float(pac_bayes_bound(self.log_orthant(i), s.n_train))
        if metric == "bound_gap":
            return self.log_orthant_bound(i) - self.log_orthant(i)
        if metric == "orthant_error":
            exact = s.n_train * math.log(2) if s.kernel == "identity" else \
                log_inverse_orthant_exact(self.train_kernel(i), split.y_train)
            return self.log_orthant(i) - exact
        if metric == "estimate_slack":
            return float(pac_bayes_bound(self.log_orthant(i), s.n_train)) - self.errors()[1][i]
        if metric in ("kernel_error", "quadrature_error"):
            return self.kernel_error(i, metric == "quadrature_error")
        raise ValueError(f"unknown metric {metric!r}")

    def measure(self, metric: str) -> np.ndarray:
        problem = SOURCE.cannot_measure(self.spec, metric)
        if problem:
            raise ValueError(problem)
        if metric in ("test_error", "train_error"):
            return self.errors()[metric == "test_error"]
        return np.array([self.value(i, metric) for i in range(len(self.splits))], float)
