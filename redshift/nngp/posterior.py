"""The NNGP posterior's average test error and the label ray (Bernstein & Yue 2021 §5; the public section_5.py).

Posterior = the prior f ~ N(0, K) restricted to the orthant O_c of functions that fit the training
labels c. Its average (Gibbs) test error is E_{f ~ posterior} mean_j 1[sign f(x_j) != y_j]. Instead of
the public code's ratio of two noisy orthant estimates, it is estimated by rejection at small n:

- Rao-Blackwellised (``rb``): draw f_b ~ N(0, K_bb) on the training points, keep the draws in O_c and
  average mean_j Phi(-y_j m_j(f_b) / s_j), with m = K_ab K_bb^-1 f_b and s^2 = diag(K_aa - K_ab K_bb^-1 K_ba),
  the exact test error of the conditional f_a | f_b. Consistent, and lower-variance than (b).
- joint (``joint``): draw (f_b, f_a) ~ N(0, K) jointly, keep the draws in O_c, count sign errors of f_a.
  With K = L L^T, f_b = L_bb z_b and f_a = L_ab z_b + L_aa z_a, so z_a is drawn for the kept draws only.

Both use the first ACCEPTED prior draws that fit (negative-binomial sampling: the kept draws are iid from
the posterior whatever the stopping count), or all that fit within ``draws``. The per-draw quantity is an
error in [0, 1], so the Monte Carlo standard error is at most 0.5 / sqrt(ACCEPTED) = 0.0035 (measured
0.0003-0.001: the conditional errors of posterior draws spread by 0.05-0.15).

Label ray: the noise-free NNGP conditional f_a | f_b = alpha c has mean alpha K_ab K_bb^-1 c and variance
s^2, so its expected test error is mean_j Phi(-alpha y_j m_j / s_j) with m = K_ab K_bb^-1 c (closed form;
-> 1/2 as alpha -> 0, -> the kernel-regression classifier's error as alpha -> infinity).
"""
import numpy as np
from scipy.special import ndtr

CHUNK = 50_000
ACCEPTED = 20_000  # posterior draws used (the first that fit the labels); see the module docstring
MIN_ACCEPTED = 1000  # fewer accepted draws than this: the estimate is NaN (P(O_c) too small for rejection)
VARIANCE_FLOOR = 1e-12


def _conditional(kernel: np.ndarray, n_train: int) -> tuple[np.ndarray, np.ndarray]:
    """(A = K_bb^-1 K_ba [n_train, n_test], s = conditional std of each test output [n_test])."""
    k_bb, k_ab = kernel[:n_train, :n_train], kernel[n_train:, :n_train]
    a = np.linalg.solve(k_bb, k_ab.T)
    variance = np.diag(kernel)[n_train:] - np.einsum("jb,bj->j", k_ab, a)
    return a, np.sqrt(np.maximum(variance, VARIANCE_FLOOR))


def _accepted(chol: np.ndarray, labels: np.ndarray, draws: int, rng: np.random.Generator) -> np.ndarray:
    """z [k, n] of the first k <= ACCEPTED of ``draws`` prior draws f = L z (L: n x n) that fit the labels."""
    kept, count = [], 0
    for start in range(0, draws, CHUNK):
        z = rng.standard_normal((min(CHUNK, draws - start), len(labels)))
        z = z[np.all((z @ chol.T) * labels > 0, axis=1)]
        kept.append(z[:ACCEPTED - count])
        count += len(kept[-1])
        if count == ACCEPTED:
            break
    return np.concatenate(kept)


def posterior_error(kernel: np.ndarray, y_train: np.ndarray, y_test: np.ndarray, draws: int,
                    rng: np.random.Generator, method: str = "rb") -> tuple[float, int]:
    """(average test error of the NNGP posterior, accepted draws); kernel over [train; test] points.

    NaN when fewer than MIN_ACCEPTED of the ``draws`` prior samples fit the labels.
    """
    if method not in ("rb", "joint"):
        raise ValueError(f"unknown posterior method {method!r} (allowed: rb, joint)")
    n = len(y_train)
    chol = np.linalg.cholesky(kernel if method == "joint" else kernel[:n, :n])
    z = _accepted(chol[:n, :n], y_train, draws, rng)
    if len(z) < MIN_ACCEPTED:
        return float("nan"), len(z)
    errors = 0.0
    if method == "rb":
        a, s = _conditional(kernel, n)
        for block in range(0, len(z), CHUNK):
            f = z[block:block + CHUNK] @ chol.T
            errors += ndtr(-(f @ a) * y_test / s).sum()
    else:
        for block in range(0, len(z), CHUNK):
            zb = z[block:block + CHUNK]
            f_test = zb @ chol[n:, :n].T + rng.standard_normal((len(zb), len(y_test))) @ chol[n:, n:].T
            errors += np.count_nonzero(f_test * y_test <= 0)
    return errors / (len(z) * len(y_test)), len(z)


def label_ray_error(kernel: np.ndarray, y_train: np.ndarray, y_test: np.ndarray, alpha: float) -> float:
    """Expected test error of f_a | f_b = alpha c: mean_j Phi(-alpha y_j m_j / s_j) (module docstring)."""
    a, s = _conditional(kernel, len(y_train))
    return float(np.mean(ndtr(-alpha * (y_train @ a) * y_test / s)))
