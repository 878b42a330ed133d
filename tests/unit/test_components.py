"""Building blocks: Poisson inverse CDF, weekly streams, survival estimators, the event log."""

import numpy as np
import pytest
from scipy import stats

from sim.customers import _poisson_quantile
from sim.model import simulate
from sim.outcomes import SERIES_INDEX, deaths_by_age, retention_at, survival_by_age
from sim.streams import WeeklyStream, replication_seeds
from tests.helpers import params


@pytest.mark.parametrize("mean", [0.3, 4.0, 37.5, 150.0, 2222.0])
def test_poisson_quantile_is_the_exact_inverse_cdf(mean):
    for u in np.linspace(0.001, 0.999, 41):
        assert _poisson_quantile(float(u), mean) == int(stats.poisson.ppf(u, mean))
    assert _poisson_quantile(0.5, 0.0) == 0


def test_poisson_quantile_is_monotone_in_the_mean():
    for u in (0.05, 0.5, 0.95):
        counts = [_poisson_quantile(u, m) for m in np.linspace(50, 60, 21)]
        assert counts == sorted(counts)


def test_weekly_stream_does_not_depend_on_earlier_weeks():
    rep = replication_seeds(4, 1)[0]
    a, b = WeeklyStream(rep, "customers"), WeeklyStream(rep, "customers")
    a.at_week(2).random(10)
    b.at_week(2).random(500)  # week 2 used more draws in b
    assert np.array_equal(a.at_week(3).random(5), b.at_week(3).random(5))
    assert not np.array_equal(a.at_week(3).random(5), a.at_week(4).random(5))


def test_survival_estimators_on_a_hand_made_cohort_table():
    # Three weeks; cohort sizes 10, 20, 0. Deaths[c, w]: cohort 0 loses 2 at week 0 and 1 at week 2;
    # cohort 1 loses 5 at week 1.
    sizes = np.array([10, 20, 0])
    deaths = np.zeros((3, 3), dtype=int)
    deaths[0, 0], deaths[0, 2], deaths[1, 1] = 2, 1, 5
    at_age = deaths_by_age(deaths)
    assert at_age.tolist() == [[2, 0, 1], [5, 0, 0], [0, 0, 0]]
    s = survival_by_age(sizes, at_age)
    # age 0: at risk 30, died 7; age 1: at risk 8 (cohort 0 only), died 0; age 2: at risk 8, died 1
    assert s == pytest.approx([1.0, 23 / 30, 23 / 30, 23 / 30 * 7 / 8])
    assert retention_at(sizes, at_age, 1) == pytest.approx(23 / 30)
    assert retention_at(sizes, at_age, 3) == pytest.approx(7 / 10)
    assert np.isnan(retention_at(sizes, at_age, 4))


def test_event_log_records_reviews_shocks_and_reaims():
    p = params(
        {
            "horizon_weeks": 60,
            "market.shift_enabled": True,
            "market.shift_week": 20,
            "reviews.strategy.interval_weeks": 2.0,
            "incentives.product": "local_metric",
        }
    )
    rep = simulate(p, replication_seeds(1, 1)[0])
    kinds = [e[2] for e in rep.events]
    shift = next(e for e in rep.events if e[2] == "market_shift")
    assert shift[0] == 140.0 and shift[1] == 20
    assert "reaim" in kinds and "drift_onset" in kinds and "correction" in kinds
    reviews = [e for e in rep.events if e[2] == "review.council"]
    assert reviews and all(e[4] for e in reviews)
    assert any("detected Product" in e[4] for e in reviews)


def test_demand_shock_cuts_sign_ups_from_its_week():
    p = params(
        {
            "horizon_weeks": 50,
            "market.demand_shock_enabled": True,
            "market.demand_shock_week": 30,
            "market.demand_shock_depth": 0.8,
            "market.demand_shock_shifts_epoch": False,
        }
    )
    rep = simulate(p, replication_seeds(2, 1)[0])
    s = rep.series[SERIES_INDEX["signups"]]
    assert s[30:33].mean() < 0.35 * s[25:30].mean()


def test_meeting_overhead_equals_the_scheduled_load():
    p = params({"horizon_weeks": 104})
    rep = simulate(p, replication_seeds(3, 1)[0])
    rv, org = p.reviews, p.org
    expected = sum(
        r.attendees_per_team * (r.hours + rv.context_switch_hours) / r.interval_weeks
        for r in (rv.metric, rv.council, rv.strategy)
    ) / (org.team_size_people * org.hours_per_person_week)
    # Whole meetings fall in whole weeks, so the horizon average is within one meeting's share.
    assert rep.kpis["meeting_overhead_share"] == pytest.approx(expected, rel=0.05)
