"""Closed-form results the model is validated against (see ``tests/validation``).

* Shifted-beta-geometric retention (Fader & Hardie 2007): with churn propensity theta ~ Beta(a, b) and
  no other churn drivers, the share of a cohort alive after t periods is S(t) = B(a, b + t) / B(a, b),
  and the period-t retention rate is r_t = (b + t - 1) / (a + b + t - 1).
* Queueing: with reviews off and alignment fixed, one team's work system is an M/M/c queue. Little's
  law L = lambda W holds, and the mean wait is Erlang C: Wq = C(c, lambda/mu) / (c mu - lambda).
* Detection: reviews every T, each noticing drift with probability p, catch drift that begins at a
  uniformly random moment after T (1/p - 1/2) on average.
* Drifting goals (Sterman 2000): with no reviews, E[a_t] = a_local + (a_0 - a_local)(1 - kappa)^t.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import special


def sbg_survival(alpha: float, beta: float, t: np.ndarray | int) -> np.ndarray:
    """S(t) = B(alpha, beta + t) / B(alpha, beta)."""
    t = np.asarray(t, dtype=float)
    return np.exp(special.betaln(alpha, beta + t) - special.betaln(alpha, beta))


def sbg_retention_rate(alpha: float, beta: float, t: np.ndarray | int) -> np.ndarray:
    """r_t = S(t) / S(t - 1) = (beta + t - 1) / (alpha + beta + t - 1), for t >= 1."""
    t = np.asarray(t, dtype=float)
    return (beta + t - 1.0) / (alpha + beta + t - 1.0)


def erlang_c(c: int, offered: float) -> float:
    """Probability that an arrival waits in an M/M/c queue with offered load lambda/mu."""
    if offered >= c:
        return 1.0
    terms = sum(offered**k / math.factorial(k) for k in range(c))
    top = offered**c / math.factorial(c) * c / (c - offered)
    return top / (terms + top)


def mmc_wait(c: int, lam: float, mu: float) -> tuple[float, float]:
    """Mean wait in queue Wq and mean time in system W of an M/M/c queue."""
    if lam >= c * mu:
        raise ValueError(f"lambda = {lam} is not allowed: below c * mu = {c * mu} for stability")
    wq = erlang_c(c, lam / mu) / (c * mu - lam)
    return wq, wq + 1.0 / mu


def detection_delay(interval: float, p: float) -> float:
    """Mean delay from drift onset to detection: T (1/p - 1/2)."""
    return interval * (1.0 / p - 0.5)


def drifting_goal(a0: float, a_local: float, kappa: float, t: np.ndarray | int) -> np.ndarray:
    """E[a_t] under first-order adjustment toward a_local with no correction."""
    t = np.asarray(t, dtype=float)
    return a_local + (a0 - a_local) * (1.0 - kappa) ** t
