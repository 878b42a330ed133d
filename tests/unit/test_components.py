"""Building blocks: Poisson inverse CDF, weekly streams, survival estimators, the event log."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from sim.customers import _poisson_quantile, _poisson_quantiles
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


@settings(max_examples=60, deadline=None)
@given(
    us=st.lists(st.floats(0.0, 1.0, exclude_max=True), min_size=1, max_size=40),
    means=st.lists(
        st.one_of(st.just(0.0), st.floats(-5.0, 0.0), st.floats(1e-9, 5000.0)),
        min_size=40,
        max_size=40,
    ),
)
def test_poisson_quantiles_at_once_equal_one_at_a_time(us, means):
    u = np.array(us)
    m = np.array(means[: u.size])
    got = _poisson_quantiles(u, m)
    assert got.tolist() == [_poisson_quantile(a, b) for a, b in zip(us, m.tolist(), strict=True)]


def test_poisson_quantiles_step_from_a_wrong_first_guess_as_one_at_a_time():
    """At the CDF's own values, and just either side, the first guess is often off by one and both
    loops step; each count is still the one the scalar function finds."""
    from scipy import special

    rng = np.random.default_rng(3)
    means = np.exp(rng.uniform(-3.0, 8.0, 3000))
    at = special.pdtr(np.floor(rng.uniform(0.0, 2.0, 3000) * means), means)
    keep = (at > 0.0) & (at < 1.0)
    u = np.concatenate([at[keep], np.nextafter(at[keep], 2.0), np.nextafter(at[keep], -1.0)])
    m = np.tile(means[keep], 3)
    u, m = u[u < 1.0], m[u < 1.0]  # a uniform draw is below one
    got = _poisson_quantiles(u, m)
    assert got.tolist() == [
        _poisson_quantile(a, b) for a, b in zip(u.tolist(), m.tolist(), strict=True)
    ]
    guess = np.ceil(special.pdtrik(u, m))
    assert (got < guess).any() and (got > guess).any()  # both loops stepped


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_poisson_quantiles_refuse_a_mean_that_is_not_finite(bad):
    with pytest.raises(ValueError, match="must be finite"):
        _poisson_quantiles(np.array([0.5, 0.5]), np.array([3.0, bad]))


def test_weekly_stream_draws_week_by_week_as_positioned_one_week_at_a_time():
    """The first uniforms of every week, and each week's block after it, are what positioning the
    stream at each week in turn draws."""
    rep = replication_seeds(9, 1)[0]
    stream, by_week = WeeklyStream(rep, "customers"), WeeklyStream(rep, "customers")
    rows = [3, 0, 150, 1, 0, 0, 40]
    first = stream.first_uniforms(len(rows))
    blocks = stream.blocks_after_first(rows, 3)
    for week, n in enumerate(rows):
        rng = by_week.at_week(week)
        assert first[week] == rng.random()
        assert np.array_equal(blocks[week], rng.random((n, 3)))
    # And the stream is back where ``at_week`` puts it afterwards.
    assert np.array_equal(stream.at_week(2).random(4), by_week.at_week(2).random(4))


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
