"""The customer base: all weeks at once (after a run) gives what week after week (during it) gives."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.customers import CustomerBase
from sim.model import simulate
from sim.streams import WeeklyStream, replication_seeds
from tests.helpers import params

WEEKS = st.integers(1, 30)


def _base(p, horizon: int, seed: int) -> CustomerBase:
    rep = replication_seeds(seed, 1)[0]
    return CustomerBase(
        p, horizon, WeeklyStream(rep, "customers"), WeeklyStream(rep, "churn_propensity")
    )


def _same(a: tuple, b: tuple) -> bool:
    return all(
        type(x) is type(y) and (x == y or (math.isnan(x) and math.isnan(y)))
        for x, y in zip(a, b, strict=True)
    )


@st.composite
def _inputs(draw):
    horizon = draw(WEEKS)
    week = st.tuples(
        st.one_of(st.just(0.0), st.floats(0.0, 40.0)),  # sign-up rate
        st.floats(0.5, 60.0),  # median time-to-value
        st.floats(0.0, 1.0),  # oversold share
        st.one_of(st.just(1.0), st.floats(1.0, 4.0)),  # core multiplier
    )
    weeks = draw(st.lists(week, min_size=horizon, max_size=horizon))
    overrides = {
        # A low base rate makes small working buffers, which the drawn rates then outgrow.
        "customers.signups_per_week": draw(st.sampled_from([1.0, 150.0])),
        "customers.churn_alpha": draw(st.floats(0.2, 5.0)),
        "customers.churn_beta": draw(st.floats(0.5, 40.0)),
        # Large multipliers push hazards past 1, where the weekly factor is clipped.
        "customers.not_activated_churn_multiplier": draw(st.floats(1.0, 10.0)),
        "customers.oversold_churn_multiplier": draw(st.sampled_from([1.0, 2.5, 10.0])),
        "customers.oversold_ttv_multiplier": draw(st.sampled_from([1.0, 1.8])),
    }
    return horizon, weeks, overrides, draw(st.integers(0, 2**32 - 1))


@settings(max_examples=60, deadline=None)
@given(_inputs())
def test_all_weeks_at_once_equal_week_after_week(case):
    horizon, weeks, overrides, seed = case
    p = params(overrides)
    one, all_ = _base(p, horizon, seed), _base(p, horizon, seed)
    by_week = [one.week(w, *inputs) for w, inputs in enumerate(weeks)]
    at_once = all_.weeks(*zip(*weeks, strict=True))
    assert len(at_once) == horizon
    for a, b in zip(by_week, at_once, strict=True):
        assert _same(a, b), (a, b)
    for name in ("sizes", "deaths", "activated", "oversold"):
        assert np.array_equal(getattr(one, name), getattr(all_, name)), name
    assert one.active == all_.active
    ttv = [np.concatenate(c.ttv) if c.ttv else np.empty(0) for c in (one, all_)]
    assert np.array_equal(*ttv)


def test_all_weeks_at_once_only_from_the_start():
    base = _base(params(), 4, 1)
    base.week(0, 50.0, 10.0, 0.1, 1.0)
    with pytest.raises(RuntimeError, match="from the start"):
        base.weeks([50.0] * 4, [10.0] * 4, [0.1] * 4, [1.0] * 4)


def test_cohort_records_match_their_definitions():
    """Sign-ups, activation and churn reconcile: alive = signed up - churned, week by week."""
    p = params()
    base = _base(p, 40, 5)
    out = base.weeks([120.0] * 40, [12.0] * 40, [0.2] * 40, [1.0] * 20 + [1.6] * 20)
    signups = np.array([o[0] for o in out])
    churned = np.array([o[3] for o in out])
    alive = np.array([o[4] for o in out])
    assert np.array_equal(signups, base.sizes)
    assert np.array_equal(np.cumsum(signups) - np.cumsum(churned), alive)
    assert np.array_equal(base.deaths.sum(axis=0), churned)
    assert alive[-1] == base.active
    activation = np.array([o[1] for o in out])
    assert np.allclose(activation, base.activated / base.sizes)
    # Churn rises when the core multiplier does (the same customers face a higher hazard).
    rates = np.array([o[5] for o in out])
    assert rates[20:].mean() > rates[5:20].mean()


def test_a_run_gives_the_same_customers_whether_they_are_followed_during_it_or_after():
    """Event reviews read the customers' outcomes week by week, so with them on the customers are
    simulated during the run, by weekly processes of their own; with them off, after it, and one
    weekly step does the drift and the records. Event reviews that can never fire must leave every
    number as it is without them."""
    never = {
        "reviews.event.enabled": True,
        "reviews.event.activation_threshold": 0.0,
        "reviews.event.churn_threshold": 1.0,
    }
    for overrides in (
        {},
        {"market.demand_shock_enabled": True, "incentives.sales": "local_metric"},
    ):
        for rep in replication_seeds(8, 2):
            after = simulate(params({"horizon_weeks": 60, **overrides}), rep)
            during = simulate(params({"horizon_weeks": 60, **overrides, **never}), rep)
            assert np.array_equal(after.series, during.series, equal_nan=True)
            assert np.array_equal(after.retention, during.retention, equal_nan=True)
            # Every KPI the same, an undefined one (NaN) included.
            assert after.kpis.keys() == during.kpis.keys()
            assert _same(tuple(after.kpis.values()), tuple(during.kpis.values()))
            assert not any(e[2].startswith("review.event") for e in during.events)
