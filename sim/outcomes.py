"""Outcome definitions: weekly series, KPIs and cohort retention.

The names here are the project's contract with the CLI, the app and the scenario library; never rename
one without changing every consumer.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

# Weekly series recorded for every replication (besides per-team alignment).
SERIES: dict[str, tuple[str, str]] = {
    "alignment": ("mean alignment of all teams", "alignment"),
    "backlog": ("opportunities waiting to be started", "items"),
    "wip": ("items being built", "items"),
    "decision_queue": ("items waiting for a council decision", "items"),
    "throughput": ("items released", "items per week"),
    "lead_time_days": ("mean arrival-to-release time of items released", "days"),
    "decision_latency_days": ("mean escalation-to-decision time of items decided", "days"),
    "meeting_overhead_share": ("share of product capacity spent in reviews", "share"),
    "value_delivered": ("customer value released", "value points per week"),
    "stock_onboarding": ("onboarding value stock", "value points"),
    "stock_core": ("core value stock", "value points"),
    "stock_growth": ("growth value stock", "value points"),
    "signups": ("new customers", "customers per week"),
    "oversold_share": ("share of new customers oversold", "share"),
    "active_customers": ("customers alive at the end of the week", "customers"),
    "churned": ("customers lost", "customers per week"),
    "churn_rate": ("share of alive customers lost", "share per week"),
    "revenue": ("revenue from active customers", "$ per week"),
    "median_ttv_days": ("median time-to-value of the week's cohort", "days"),
    "activation_rate": (
        "share of the week's cohort reaching value within the habit threshold",
        "share",
    ),
}
SERIES_NAMES = tuple(SERIES)
SERIES_INDEX = {name: i for i, name in enumerate(SERIES_NAMES)}


@dataclass(frozen=True)
class KPI:
    """One key performance indicator."""

    name: str
    label: str
    unit: str
    higher_is_better: bool
    description: str


KPIS: dict[str, KPI] = {
    k.name: k
    for k in (
        KPI(
            "retention_52w",
            "52-week retention",
            "share",
            True,
            "Share of customers alive at 52 weeks of age, among customers at least that old. "
            "The retention chart's curve pools, at each age, every cohort that reached it, so at "
            "52 weeks it can differ from this by a point or so.",
        ),
        KPI(
            "median_ttv_days",
            "Median time-to-value",
            "days",
            False,
            "Median time-to-value of every customer who signed up.",
        ),
        KPI(
            "activation_rate",
            "Activation rate",
            "share",
            True,
            "Share of sign-ups reaching value within the habit threshold.",
        ),
        KPI(
            "value_delivered",
            "Value delivered",
            "value points",
            True,
            "Customer value released over the horizon (past-epoch work at its reduced worth).",
        ),
        KPI(
            "mean_alignment",
            "Mean alignment",
            "alignment",
            True,
            "Alignment averaged over every team and week.",
        ),
        KPI(
            "meeting_overhead_share",
            "Meeting overhead",
            "share",
            False,
            "Share of product-team capacity spent in reviews.",
        ),
        KPI(
            "decision_latency_days",
            "Decision latency",
            "days",
            False,
            "Mean days an escalated item waited for its decision (0 when nothing escalated).",
        ),
        KPI(
            "lead_time_days",
            "Lead time",
            "days",
            False,
            "Mean days from an opportunity's arrival to its release.",
        ),
        KPI(
            "detection_lag_days",
            "Detection lag",
            "days",
            False,
            "Mean days from drift onset to the review that corrected it; drift still uncaught at "
            "the end counts until the end (a lower bound).",
        ),
        KPI(
            "active_customers_end",
            "Active customers at end",
            "customers",
            True,
            "Customers alive at the end of the horizon.",
        ),
        KPI(
            "ltv_to_cac",
            "LTV / CAC",
            "ratio",
            True,
            "First-year revenue per customer (from the retention curve) over acquisition cost.",
        ),
    )
}
KPI_NAMES = tuple(KPIS)

# Why a KPI can be null.
NULL_REASONS = {
    "retention_52w": "no customer reached 52 weeks of age (the horizon is shorter than 52 weeks, "
    "or no one signed up early enough)",
    "ltv_to_cac": "the horizon is shorter than 52 weeks, so first-year retention is not observed",
    "detection_lag_days": "no team drifted past the onset gap, so there was nothing to detect",
    "median_ttv_days": "no customer signed up",
    "activation_rate": "no customer signed up",
    "lead_time_days": "no item was released",
}


def deaths_by_age(deaths: np.ndarray) -> np.ndarray:
    """Re-index a [cohort, week] death matrix as [cohort, age] (age = week - cohort; 0 if unseen)."""
    horizon = deaths.shape[0]
    rows = np.arange(horizon)[:, None]
    cols = rows + np.arange(horizon)[None, :]
    seen = cols < horizon
    return np.where(seen, deaths[rows, np.minimum(cols, horizon - 1)], 0)


def survival_by_age(sizes: np.ndarray, at_age: np.ndarray) -> np.ndarray:
    """Product-limit (Kaplan-Meier) cohort survival S(age) for ages 0..W, pooling every cohort.

    Args:
        sizes: customers signed up per week, shape (W,).
        at_age: deaths by [cohort, age] (see :func:`deaths_by_age`), shape (W, W).

    Returns:
        S with S[0] = 1 and S[k] the estimated share alive after k weeks of churn (a customer's
        first churn draw is at the end of its sign-up week). Non-increasing and within [0, 1] by
        construction; it stays flat where a step has nobody at risk.
    """
    horizon = sizes.size
    before = np.cumsum(at_age, axis=1) - at_age  # deaths before each age
    alive_start = sizes[:, None] - before
    seen = (np.arange(horizon)[:, None] + np.arange(horizon)[None, :]) < horizon
    at_risk = np.where(seen, alive_start, 0).sum(axis=0)
    died = at_age.sum(axis=0)
    hazard = np.divide(died, at_risk, out=np.zeros(horizon), where=at_risk > 0)
    surv = np.empty(horizon + 1)
    surv[0] = 1.0
    surv[1:] = np.cumprod(1.0 - hazard)
    return surv


def retention_at(sizes: np.ndarray, at_age: np.ndarray, age: int) -> float:
    """Share alive after ``age`` weeks among customers of cohorts at least that old (direct count)."""
    horizon = sizes.size
    old_enough = horizon - age + 1  # cohorts 0..W-age have had ``age`` churn draws
    if old_enough <= 0 or age < 1:
        return math.nan
    signed = int(sizes[:old_enough].sum())
    if signed == 0:
        return math.nan
    lost = int(at_age[:old_enough, :age].sum())
    return (signed - lost) / signed
