"""Shared helpers for the explore tests: short scenarios, known test functions."""

from __future__ import annotations

import numpy as np

from sim.params import Params, default_params, with_overrides

ALL_LOCAL = {
    "incentives.product": "local_metric",
    "incentives.marketing": "local_metric",
    "incentives.sales": "local_metric",
}


def short(overrides: dict | None = None, weeks: int = 26) -> Params:
    """Default parameters over a short horizon (fast replications)."""
    return with_overrides(default_params(), {"horizon_weeks": weeks, **(overrides or {})})


def ishigami(x: np.ndarray, a: float = 7.0, b: float = 0.1) -> np.ndarray:
    """The Ishigami function (Ishigami & Homma 1990), inputs uniform on [-pi, pi]."""
    return np.sin(x[:, 0]) + a * np.sin(x[:, 1]) ** 2 + b * x[:, 2] ** 4 * np.sin(x[:, 0])


def ishigami_indices(a: float = 7.0, b: float = 0.1) -> tuple[np.ndarray, np.ndarray]:
    """Closed-form first-order and total Sobol indices of the Ishigami function."""
    pi = np.pi
    v1 = 0.5 * (1 + b * pi**4 / 5) ** 2
    v2 = a**2 / 8
    v13 = b**2 * pi**8 / 18 - b**2 * pi**8 / 50
    v = v1 + v2 + v13
    s1 = np.array([v1, v2, 0.0]) / v
    st = np.array([v1 + v13, v2, v13]) / v
    return s1, st


def linear(x: np.ndarray) -> np.ndarray:
    """y = 3 x1 − 2 x2 + 0 x3: Morris effects are exactly the coefficients times the ranges."""
    return 3.0 * x[:, 0] - 2.0 * x[:, 1] + 0.0 * x[:, 2]


def interaction(x: np.ndarray) -> np.ndarray:
    """y = 2 a + b + 4 a b: Shapley values of the change (0, 0) → (1, 1) are 4 and 3."""
    return 2.0 * x[:, 0] + x[:, 1] + 4.0 * x[:, 0] * x[:, 1]


def peak(x: np.ndarray) -> np.ndarray:
    """Two outputs: y = −(x − 0.3)², peaked at 0.3, and g = x (for a constraint)."""
    return np.column_stack([-((x[:, 0] - 0.3) ** 2), x[:, 0]])
