"""Realisable PAC-Bayes bound on the NNGP posterior's average test error (Bernstein & Yue 2021 §4; McAllester 1998).

With probability >= 1 - delta over an iid training sample of size n, the Gibbs error of the posterior
(the prior restricted to the functions that fit the n labels) is at most

    1 - exp(-(ln 1/P(O_c) + ln(2 n / delta)) / (n - 1)),

the public code's ``invert_bound((C + log(2n/delta)) / (n - 1))`` with C an estimate or bound of ln 1/P.
"""
import numpy as np

DELTA = 0.01


def pac_bayes_bound(log_inverse_orthant: float | np.ndarray, n: int, delta: float = DELTA) -> float | np.ndarray:
    """1 - exp(-(C + ln(2n/delta)) / (n - 1)) for C = ln 1/P(O_c) (or an upper bound on it)."""
    if n < 2:
        raise ValueError(f"the PAC-Bayes bound needs n >= 2 training points, got {n}")
    if not 0 < delta < 1:
        raise ValueError(f"delta must be in (0, 1), got {delta}")
    return 1 - np.exp(-(np.asarray(log_inverse_orthant) + np.log(2 * n / delta)) / (n - 1))
