"""Shared helpers for the model tests: paired runs and Monte Carlo tolerances."""

from __future__ import annotations

import os

import numpy as np

from sim.outcomes import KPI_NAMES
from sim.params import Params, default_params, with_overrides
from sim.runner import Results, run_many

# |z| beyond this fails a test. Several quantities are checked per test, so the bound is wider than a
# single two-sided 1% test; a true model passes with probability > 0.999 per quantity.
Z_LIMIT = 4.0

ALL_LOCAL = {
    "incentives.product": "local_metric",
    "incentives.marketing": "local_metric",
    "incentives.sales": "local_metric",
}
NO_REVIEWS = {
    "reviews.metric.enabled": False,
    "reviews.council.enabled": False,
    "reviews.strategy.enabled": False,
}


def params(overrides: dict | None = None, base: Params | None = None) -> Params:
    return with_overrides(base or default_params(), overrides or {})


# Shifts every test seed, to check that a test's verdict does not hinge on one seed.
SEED_OFFSET = int(os.environ.get("SIM_TEST_SEED_OFFSET", "0"))


def run(overrides: dict | None = None, n: int = 24, seed: int = 11, **kw) -> Results:
    return run_many(params(overrides), replications=n, seed=seed + SEED_OFFSET, **kw)


def kpi(results: Results, name: str) -> np.ndarray:
    return results.kpi_values[:, KPI_NAMES.index(name)]


def z_score(estimate: float, expected: float, se: float) -> float:
    return (estimate - expected) / max(se, 1e-12)


def mean_se(x: np.ndarray) -> tuple[float, float]:
    """Mean and its Monte Carlo standard error across independent replications."""
    x = np.asarray(x, dtype=float)
    x = x[np.isfinite(x)]
    return float(x.mean()), float(x.std(ddof=1) / np.sqrt(x.size))


def paired(variant: Results, baseline: Results, name: str) -> tuple[float, float]:
    """Mean paired difference (variant - baseline) of a KPI and its standard error."""
    return mean_se(kpi(variant, name) - kpi(baseline, name))


def assert_positive(diff: tuple[float, float], what: str) -> None:
    """The paired difference is positive beyond Monte Carlo noise (mean > 3 SE)."""
    mean, se = diff
    assert mean > 3.0 * se, f"{what}: paired difference {mean:.4g} ± {se:.2g} (SE) is not > 3 SE"
