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

``redshift.claims.sources`` imports this module to register the source, so the framework's names
(SubjectError, DTYPES) are imported only when a method runs: no import cycle in any order.
"""
import math
from collections.abc import Mapping
from dataclasses import dataclass, fields

import numpy as np
import torch

from redshift.networks import ACTIVATIONS
from redshift.nngp.data import POOL_SIZES, TASKS, MissingDigits, Split, draw_split
from redshift.nngp.finite import rejection_error, sample_covariance, sample_outputs, suite_network
from redshift.nngp.kernels import ANALYTIC, KERNEL_ACTIVATIONS, nngp_kernel
from redshift.nngp.orthant import (
    log_inverse_orthant_bound, log_inverse_orthant_estimate, log_inverse_orthant_exact,
)
from redshift.nngp.pac_bayes import pac_bayes_bound
from redshift.nngp.posterior import label_ray_error, posterior_error
from redshift.nngp.simplenet import random_outputs, train_to_label_scale
from redshift.seeding import derive_seed

METHODS = ("posterior", "ray", "nero", "rejection")
KERNELS = ("nngp", "identity")
POSTERIOR_METHODS = ("rb", "joint")
METRICS = ("bound", "estimate", "log_orthant", "log_orthant_bound", "bound_gap", "orthant_error",
           "test_error", "train_error", "estimate_slack", "kernel_error", "quadrature_error")


@dataclass(frozen=True)
class NNGPSpec:
    task: str = "binary"
    layers: int = 7
    activation: str = "relu"
    weight_scale: float = math.sqrt(2)
    kernel: str = "nngp"
    n_train: int = 50
    n_test: int = 0
    method: str = "posterior"
    label_scale: float = 1.0
    posterior_method: str = "rb"
    mc_samples: int = 100_000
    posterior_draws: int = 1_000_000
    width: int = 1024
    networks: int = 4000


CHOICES = {"task": TASKS, "activation": KERNEL_ACTIVATIONS, "kernel": KERNELS, "method": METHODS,
           "posterior_method": POSTERIOR_METHODS}
MINIMUM = {"layers": 1, "n_train": 2, "n_test": 0, "mc_samples": 1, "posterior_draws": 1, "width": 1, "networks": 1}
POSITIVE = ("weight_scale", "label_scale")
FIELDS = tuple(f.name for f in fields(NNGPSpec))


def _parse_value(name: str, value):
    from redshift.claims.sources import SubjectError

    if name in CHOICES:
        if value not in CHOICES[name]:
            raise SubjectError(name, f"unknown value {value!r} (allowed: {', '.join(CHOICES[name])})")
        return value
    if name in MINIMUM:
        if isinstance(value, bool) or not isinstance(value, int) or value < MINIMUM[name]:
            raise SubjectError(name, f"expected an integer >= {MINIMUM[name]}, got {value!r}")
        return value
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
        hint = " (YAML reads 1e-3 as a string: write 1.0e-3)" if isinstance(value, str) else ""
        raise SubjectError(name, f"expected a positive number, got {value!r}{hint}")
    return float(value)


class NNGPSource:
    """NNGP kernels, orthant estimators, PAC-Bayes bounds, posterior and label-ray errors on the digits.

    Implements the ``redshift.claims.sources.Source`` interface; outputs are ``Draws``.
    """

    name = "nngp"
    settings_key = "nngp"
    metrics = METRICS

    def parse(self, mapping: Mapping, base: Mapping) -> NNGPSpec:
        from redshift.claims.sources import SubjectError

        merged = {**base, **mapping}
        for key in merged:
            if key not in FIELDS:
                raise SubjectError(key, f"unknown key (allowed: {', '.join(FIELDS)})")
        spec = NNGPSpec(**{k: _parse_value(k, v) for k, v in merged.items()})
        if spec.n_train + spec.n_test > POOL_SIZES[spec.task]:
            raise SubjectError("n_train", f"n_train + n_test = {spec.n_train + spec.n_test} exceeds the "
                                          f"{POOL_SIZES[spec.task]} digits of task {spec.task!r}")
        if spec.method in ("nero", "rejection") and spec.layers < 2:
            raise SubjectError("layers", f"method {spec.method!r} needs a hidden layer (layers >= 2), got {spec.layers}")
        if spec.method in ("nero", "rejection") and spec.activation not in ACTIVATIONS:
            raise SubjectError("activation", f"method {spec.method!r} samples networks: activation must be one of "
                                             f"the suite's ({', '.join(ACTIVATIONS)}), got {spec.activation!r}")
        if spec.method in ("nero", "rejection") and spec.kernel != "nngp":
            raise SubjectError("kernel", f"method {spec.method!r} samples networks: kernel must be nngp")
        return spec

    def label(self, spec: NNGPSpec) -> str:
        """e.g. ``nngp-binary-L7-relu-n100``, ``nngp-binary-L2-relu-n5-nero(a=1,w1024)``."""
        arch = "identity" if spec.kernel == "identity" else spec.activation
        parts = ["nngp", spec.task, f"L{spec.layers}", arch]
        if spec.weight_scale != math.sqrt(2):
            parts.append(f"s{spec.weight_scale:g}")
        parts.append(f"n{spec.n_train}")
        if spec.n_test != NNGPSpec.n_test:
            parts.append(f"t{spec.n_test}")
        if spec.mc_samples != NNGPSpec.mc_samples:
            parts.append(f"S{spec.mc_samples:g}")
        finite = f"w{spec.width}" + (f",N{spec.networks}" if spec.method == "rejection" else "")
        method = {"posterior": "" if spec.posterior_method == "rb" and spec.posterior_draws == NNGPSpec.posterior_draws
                  else f"posterior({spec.posterior_method},{spec.posterior_draws:g})",
                  "ray": f"ray(a={spec.label_scale:g})",
                  "nero": f"nero(a={spec.label_scale:g},{finite})",
                  "rejection": f"rejection({finite})"}[spec.method]
        return "-".join(parts + ([method] if method else []))

    def describe(self, settings) -> str:
        return f"digits {settings.dtype}"

    def sample(self, spec: NNGPSpec, n: int, seed: int, settings) -> "Draws":
        from redshift.claims.sources import DTYPES

        try:
            splits = [draw_split(spec.task, spec.n_train, spec.n_test, np.random.default_rng([seed, i, 0]))
                      for i in range(n)]
        except MissingDigits as exc:
            import pytest  # only a claims run gets here without scikit-learn
            pytest.skip(str(exc))
        return Draws(spec, seed, splits, DTYPES[settings.dtype])

    def measure(self, outputs: "Draws", metric: str) -> np.ndarray:
        return outputs.measure(metric)


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
            if s.activation not in ANALYTIC:
                raise ValueError(f"quadrature_error needs an activation with a closed-form kernel "
                                 f"({', '.join(ANALYTIC)}), got {s.activation!r}")
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
            if s.kernel != "nngp":
                raise ValueError(f"{metric} compares NNGP kernels: needs kernel nngp, got {s.kernel!r}")
            return self.kernel_error(i, metric == "quadrature_error")
        raise ValueError(f"unknown metric {metric!r}")

    def measure(self, metric: str) -> np.ndarray:
        if metric in ("test_error", "train_error", "estimate_slack") and self.spec.n_test == 0:
            raise ValueError(f"{metric} needs held-out points: set n_test >= 1")
        if metric == "test_error":
            return self.errors()[1]
        if metric == "train_error":
            if self.spec.method not in ("nero",):
                raise ValueError(f"train_error is measured for method nero only (the {self.spec.method} "
                                 f"classifier fits the training labels by construction)")
            return self.errors()[0]
        return np.array([self.value(i, metric) for i in range(len(self.splits))], float)
