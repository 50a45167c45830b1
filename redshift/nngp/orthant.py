"""Orthant probability of the training labels under the NNGP prior (Bernstein & Yue 2021 §4; the public util/kernel.py), in nats: ln 1/P(O_c).

P(O_c) = P_{f ~ N(0, K)}[c_i f_i > 0 for all i], the marginal likelihood of the labels c in {-1, +1}^n.
With s^2 = det(K)^(1/n), M = s^2 K^-1 - I, u ~ |N(0, I_n)| (half-normal) and X(u) = -1/2 (c u)^T M (c u),
substituting f = s (c u) on the orthant gives exactly P(O_c) = 2^-n E_u[exp X(u)]. Then

    estimate  C_hat = n ln 2 + ln S - logsumexp_k X(u_k)              (consistent; exact when K = I)
    bound     C_bar = n / 5 + s^2 [(1/2 - 1/pi) tr K^-1 + c^T K^-1 c / pi] >= ln 1/P  (Jensen; repo formula_1)

as in the public code's ``complexity`` (formula_0, formula_1), here in float64 and chunked.
"""
import numpy as np
from scipy.special import logsumexp
from scipy.stats import multivariate_normal

CHUNK = 50_000  # half-normal draws per chunk
EXACT_MAX_N = 20  # scipy's Genz integration is used as the exact reference up to this n


def _cholesky(kernel: np.ndarray) -> np.ndarray:
    try:
        return np.linalg.cholesky(kernel)
    except np.linalg.LinAlgError:
        raise ValueError(f"kernel of size {len(kernel)} is not positive definite (duplicate inputs?)") from None


def _whitening(kernel: np.ndarray) -> tuple[np.ndarray, float]:
    """(L^-1 with K = L L^T, s^2 = det(K)^(1/n)) from the Cholesky factor."""
    chol = _cholesky(kernel)
    s2 = float(np.exp(2 * np.mean(np.log(np.diag(chol)))))
    return np.linalg.inv(chol), s2


def log_inverse_orthant_estimate(kernel: np.ndarray, labels: np.ndarray, samples: int,
                                 rng: np.random.Generator) -> float:
    """C_hat: half-normal importance-sampling estimate of ln 1/P(O_c) with ``samples`` draws (module docstring)."""
    n = len(labels)
    inv_chol, s2 = _whitening(kernel)
    logs = []
    for start in range(0, samples, CHUNK):
        v = np.abs(rng.standard_normal((min(CHUNK, samples - start), n))) * labels   # c * u
        white = v @ inv_chol.T                                                        # rows L^-1 (c u)
        logs.append(-0.5 * (s2 * np.einsum("ij,ij->i", white, white) - np.einsum("ij,ij->i", v, v)))
    return float(n * np.log(2) + np.log(samples) - logsumexp(np.concatenate(logs)))


def log_inverse_orthant_bound(kernel: np.ndarray, labels: np.ndarray) -> float:
    """C_bar = n/5 + s^2 [(1/2 - 1/pi) tr K^-1 + c^T K^-1 c / pi], an upper bound on ln 1/P(O_c)."""
    n = len(labels)
    inv_chol, s2 = _whitening(kernel)
    inverse = inv_chol.T @ inv_chol
    return float(n / 5 + s2 * ((0.5 - 1 / np.pi) * np.trace(inverse) + labels @ inverse @ labels / np.pi))


def log_inverse_orthant_exact(kernel: np.ndarray, labels: np.ndarray) -> float:
    """ln 1/P(O_c) by scipy's Genz integration of N(0, D K D) below 0, D = diag(c); n <= EXACT_MAX_N.

    Deterministic (the randomised lattice rule's seed is fixed); accurate to ~1e-4 relative.
    """
    n = len(labels)
    if n > EXACT_MAX_N:
        raise ValueError(f"exact orthant probability only for n <= {EXACT_MAX_N}, got n = {n}")
    cov = kernel * np.outer(labels, labels)
    p = multivariate_normal.cdf(np.zeros(n), mean=np.zeros(n), cov=cov, maxpts=50_000 * n, abseps=1e-12,
                                releps=1e-4, rng=np.random.default_rng(0))  # its lattice shifts: fixed, deterministic
    return float(-np.log(p))
