"""Runner: determinism serial and parallel, common random numbers, tidy results, comparisons."""

import gc
import pickle

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.report.format import p_better_text
from sim.runner import Results, _band_arrays, _tasks, compare, run_many, shared_pool
from tests.helpers import params


def _same(a, b):
    assert np.array_equal(a.series, b.series, equal_nan=True)
    assert np.array_equal(a.alignment, b.alignment)
    assert np.array_equal(a.retention, b.retention)
    assert np.array_equal(a.kpi_values, b.kpi_values, equal_nan=True)
    assert a.events == b.events


def test_same_seed_identical_serial_and_parallel():
    p = params({"horizon_weeks": 40, "incentives.product": "local_metric"})
    serial = run_many(p, replications=6, seed=42)
    again = run_many(p, replications=6, seed=42)
    parallel = run_many(p, replications=6, seed=42, workers=2)
    _same(serial, again)
    _same(serial, parallel)


def test_pool_workers_set_their_imported_objects_aside_from_the_collector():
    """A worker freezes what it imported (the collector skips it), and keeps collecting the rest."""
    pool = shared_pool(2)
    frozen = [pool.submit(gc.get_freeze_count) for _ in range(4)]
    enabled = [pool.submit(gc.isenabled) for _ in range(4)]
    assert min(f.result() for f in frozen) > 10_000
    assert all(e.result() for e in enabled)


def test_a_run_is_split_into_small_tasks_in_order():
    """Tasks of about four replications (at least four tasks a worker), covering every replication
    once, in order, and ending in single replications (two a worker): the last tasks of a run
    finish together on every worker."""
    tasks = _tasks(100, 2)
    assert [len(t) for t in tasks] == [4] * 24 + [1] * 4
    assert [i for t in tasks for i in t] == list(range(100))
    assert [len(t) for t in _tasks(8, 1)] == [2, 2, 2, 2]
    assert sorted(len(t) for t in _tasks(16, 1)) == [1, 1, 3, 3, 4, 4]
    assert len(_tasks(10_000, 8)) == 2_496 + 16
    assert [list(t) for t in _tasks(3, 2)] == [[0], [1], [2]]
    for n in range(1, 60):
        assert [i for t in _tasks(n, 3) for i in t] == list(range(n))


def test_different_seeds_differ():
    p = params({"horizon_weeks": 30})
    a = run_many(p, replications=3, seed=1)
    b = run_many(p, replications=3, seed=2)
    assert not np.array_equal(a.kpi_values, b.kpi_values, equal_nan=True)
    assert not np.array_equal(a.series[0], a.series[1], equal_nan=True)  # replications differ


def test_common_random_numbers_until_a_lever_acts():
    """A market shift at week 25 changes nothing before week 25: every stream stays aligned."""
    base = params({"horizon_weeks": 40})
    shifted = params({"horizon_weeks": 40, "market.shift_enabled": True, "market.shift_week": 25})
    a = run_many(base, replications=3, seed=5)
    b = run_many(shifted, replications=3, seed=5)
    assert np.array_equal(a.series[:, :, :24], b.series[:, :, :24], equal_nan=True)
    assert not np.array_equal(a.series[:, :, 26:], b.series[:, :, 26:], equal_nan=True)


def test_crn_keeps_sign_ups_coupled_when_the_rate_changes():
    """Sign-up counts come from the Poisson inverse CDF of one shared uniform per week, so a 5%
    higher rate gives never fewer sign-ups in a week, and mostly a few more."""
    lo = run_many(params({"horizon_weeks": 13, "customers.signups_per_week": 200.0}), 2, seed=3)
    hi = run_many(params({"horizon_weeks": 13, "customers.signups_per_week": 210.0}), 2, seed=3)
    d = hi.metric("signups")[:, 0] - lo.metric("signups")[:, 0]
    assert np.all(d >= 0) and np.all(d <= 25)


def test_tidy_tables_and_bands():
    res = run_many(params({"horizon_weeks": 20}), replications=4, seed=3)
    weekly = res.weekly()
    assert list(weekly.columns) == ["scenario", "replication", "week", "metric", "value"]
    assert len(weekly) == 4 * 20 * len(res.metric_names)
    one = weekly[(weekly.metric == "signups") & (weekly.replication == 2)].value.to_numpy()
    assert np.array_equal(one, res.metric("signups")[2])
    bands = res.bands(["active_customers", "alignment.Sales"], width=80)
    assert set(bands.metric) == {"active_customers", "alignment.Sales"}
    ok = bands.dropna()
    assert np.all(ok.lo <= ok.p50) and np.all(ok.p50 <= ok.hi)
    ret = res.retention_bands()
    assert ret.age_weeks.tolist() == list(range(21)) and ret["mean"].iloc[0] == 1.0
    summary = res.kpi_summary()
    assert summary["retention_52w"]["mean"] is None  # horizon too short
    assert summary["value_delivered"]["p05"] <= summary["value_delivered"]["p95"]
    log = res.event_log(0)
    assert {"review.metric", "review.council"} <= set(log.kind)
    assert res.manifest["overrides"] == {"horizon_weeks": 20}


def _band_reference(values: np.ndarray, lo_q: float, hi_q: float) -> np.ndarray:
    """Mean, lo, p50, hi of each column on its own: its non-NaN values (inf counts for the
    percentiles, not for the mean's count), NaN for a column with no finite value. (A sum down a
    column may round differently from one along it: means are compared within a sum's rounding.)"""
    out = np.full((4, values.shape[1]), np.nan)
    for j in range(values.shape[1]):
        col = values[:, j]
        finite = col[np.isfinite(col)]
        if finite.size == 0:
            continue
        kept = col[~np.isnan(col)]
        with np.errstate(invalid="ignore"):  # inf - inf between two infinite values: NaN
            out[0, j] = np.nansum(col) / finite.size
            out[1:, j] = np.percentile(kept, [lo_q, 50.0, hi_q])
    return out


@settings(max_examples=150, deadline=None)
@given(
    reps=st.integers(1, 12),
    weeks=st.integers(1, 9),
    missing=st.floats(0.0, 1.0),
    width=st.sampled_from([50.0, 80.0, 90.0, 95.0]),
    seed=st.integers(0, 2**32 - 1),
)
def test_bands_match_each_column_worked_out_alone(reps, weeks, missing, width, seed):
    """The vectorised bands (sorted once, each column interpolated among its own values) give,
    number for number, what each week's column gives alone, whatever is missing."""
    rng = np.random.default_rng(seed)
    values = rng.normal(size=(reps, weeks))
    values[rng.random(values.shape) < missing] = np.nan
    values[rng.random(values.shape) < missing / 10] = np.inf
    values[rng.random(values.shape) < missing / 20] = -np.inf
    mean, lo, p50, hi = _band_arrays(values, 50.0 - width / 2, 50.0 + width / 2)
    want = _band_reference(values, 50.0 - width / 2, 50.0 + width / 2)
    assert np.array_equal(np.stack([lo, p50, hi]), want[1:], equal_nan=True)
    # Summed in another order, a mean may differ by the rounding of a sum of ``reps`` terms:
    # ``reps * eps`` times the mean of their absolute values (a mean near zero has no relative bound).
    finite = np.isfinite(values)
    scale = np.abs(np.where(finite, values, 0.0)).sum(axis=0) / np.maximum(finite.sum(axis=0), 1)
    bound = reps * np.finfo(float).eps * scale
    with np.errstate(invalid="ignore"):  # inf - inf
        close = np.abs(mean - want[0]) <= bound
    same = (mean == want[0]) | (np.isnan(mean) & np.isnan(want[0]))
    assert np.all(close | same), (mean, want[0], bound)


def test_bands_table_of_every_metric_matches_each_metric_alone():
    res = run_many(params({"horizon_weeks": 20, "decisions.rights": "centralised"}), 5, seed=4)
    table = res.bands(width=80.0)
    assert list(table.columns) == ["metric", "week", "mean", "lo", "p50", "hi"]
    assert table.metric.tolist() == [m for m in res.metric_names for _ in range(20)]
    partial = 0
    for name in res.metric_names:
        rows = table[table.metric == name]
        assert rows.week.tolist() == list(range(20))
        want = _band_reference(res.metric(name), 10.0, 90.0)
        got = rows[["mean", "lo", "p50", "hi"]].to_numpy().T
        assert np.array_equal(got[1:], want[1:], equal_nan=True), name
        assert np.allclose(got[0], want[0], rtol=1e-13, atol=0.0, equal_nan=True), name
        partial += bool(np.isnan(res.metric(name)).any())
    assert partial  # some weeks had nothing to measure, so the NaN path ran


def test_compare_pairs_replications_and_rejects_mismatches():
    base = run_many(params({"horizon_weeks": 30}), replications=5, seed=8)
    var = run_many(params({"horizon_weeks": 30, "incentives.product": "local_metric"}), 5, seed=8)
    table = compare(base, var).kpis().set_index("kpi")
    al = table.loc["mean_alignment"]
    assert al.diff_mean < 0 and al.p_better == 0.0
    meet = table.loc["meeting_overhead_share"]
    assert meet.diff_mean == 0.0 and meet.p_better == 0.5  # identical: a tie counts half
    assert (meet.pairs, meet.ties, meet.replications) == (5, 5, 5)
    assert p_better_text(meet) == "the same in every pair"
    assert p_better_text(al) == "P(variant better) 0%"
    lag = table.loc["detection_lag_days"]
    for arm, res in (("baseline_n", base), ("variant_n", var)):
        assert lag[arm] == np.isfinite(res.kpis()["detection_lag_days"]).sum()
    assert lag.pairs <= min(lag.baseline_n, lag.variant_n)
    summary = var.kpi_summary()["detection_lag_days"]
    finite = np.isfinite(var.kpis()["detection_lag_days"]).sum()
    assert (summary["n"], summary["of"]) == (finite, 5)
    assert (
        lag.pairs
        == (
            np.isfinite(base.kpis()["detection_lag_days"])
            & np.isfinite(var.kpis()["detection_lag_days"])
        ).sum()
    )
    diff = compare(base, var).retention_difference()
    assert diff["mean"].iloc[0] == 0.0
    with pytest.raises(ValueError, match="seed"):
        compare(base, run_many(params({"horizon_weeks": 30}), replications=5, seed=9))


def test_value_to_date_builds_up_to_the_kpi_and_its_paired_change():
    """Summed week by week, value delivered ends at its KPI, in each replication and paired."""
    base = run_many(params({"horizon_weeks": 30}), replications=6, seed=4)
    var = run_many(
        params({"horizon_weeks": 30, "incentives.product": "local_metric"}), replications=6, seed=4
    )
    to_date = var.to_date("value_delivered")
    assert to_date.shape == (6, 30) and np.all(np.diff(to_date, axis=1) >= 0)
    assert np.allclose(to_date[:, -1], var.kpis()["value_delivered"])
    bands = var.to_date_bands("value_delivered", width=80)
    assert bands.week.tolist() == list(range(30))
    assert np.all(bands.lo <= bands.p50) and np.all(bands.p50 <= bands.hi)
    assert np.isclose(bands["mean"].iloc[-1], var.kpi_summary()["value_delivered"]["mean"])
    pairs = compare(base, var)
    gap = pairs.metric_difference("value_delivered", width=90, to_date=True)
    kpi = pairs.kpis().set_index("kpi").loc["value_delivered"]
    assert gap["mean"].iloc[-1] == pytest.approx(kpi["diff_mean"])
    assert gap["lo"].iloc[-1] == pytest.approx(kpi["diff_p05"])
    assert gap["hi"].iloc[-1] == pytest.approx(kpi["diff_p95"])
    weekly = pairs.metric_difference("value_delivered")
    assert weekly["mean"].iloc[-1] != pytest.approx(gap["mean"].iloc[-1])
    # Averaged over the horizon, per replication, then across them: the last week over 30.
    average = pairs.average_difference("value_delivered", width=80)
    per_rep = (var.to_date("value_delivered") - base.to_date("value_delivered"))[:, -1] / 30
    assert average["mean"] == pytest.approx(per_rep.mean())
    assert (average["lo"], average["hi"]) == pytest.approx(tuple(np.percentile(per_rep, [10, 90])))
    # A metric with weeks that have no value averages over the weeks that do.
    lead = pairs.average_difference("lead_time_days")
    d = var.metric("lead_time_days") - base.metric("lead_time_days")
    assert lead["mean"] == pytest.approx(np.nanmean(d, axis=1).mean())


@pytest.mark.parametrize(("reps", "seed"), [(0, 1), (10_001, 1), (3, -1)])
def test_run_many_validates(reps, seed):
    with pytest.raises(ValueError):
        run_many(params(), replications=reps, seed=seed)


def test_results_count_the_replications_with_an_event_kind():
    # A churn threshold that some replications cross and others do not.
    event = {"reviews.event.enabled": True, "reviews.event.churn_threshold": 0.05}
    res = run_many(params(event), replications=6, seed=4)
    kinds = [{e[2] for e in events} for events in res.events]
    assert 0 < res.replications_with("review.event") == sum("review.event" in k for k in kinds) < 6
    assert res.replications_with("review.metric") == 6
    assert res.replications_with("no.such.kind") == 0
    log = res.event_log(2)
    assert list(log.itertuples(index=False, name=None)) == [(2, *e) for e in res.events[2]]


@pytest.mark.parametrize("protocol", [4, 5])
def test_results_come_back_whole_from_a_pickle_at_either_protocol(protocol):
    """The app's cache pickles results at protocol 4; they pickle through protocol 5 inside."""
    res = run_many(params({"horizon_weeks": 20}), replications=3, seed=8)
    manifest = res.manifest
    back = pickle.loads(pickle.dumps(res, protocol=protocol))
    assert type(back) is type(res) and back is not res
    _same(res, back)
    assert back.params == res.params and back.seed == res.seed and back.scenario == res.scenario
    assert back.counts == res.counts and back.team_names == res.team_names
    assert np.array_equal(back.sim_events, res.sim_events)
    assert back.manifest == manifest
    # A copy, not a view of the original's arrays.
    back.series[0, 0, 0] = -1.0
    assert res.series[0, 0, 0] != -1.0


@pytest.mark.parametrize(("lo", "hi"), [(-5.0, 95.0), (5.0, 105.0), (60.0, 95.0), (5.0, 40.0)])
def test_bands_refuse_percentiles_out_of_range(lo, hi):
    with pytest.raises(ValueError, match="must lie from 0 to 50 and 50 to 100"):
        _band_arrays(np.zeros((3, 4)), lo, hi)


class _Tagged(Results):
    """A subclass of the results, as a caller might make."""


def test_a_pickled_subclass_of_results_comes_back_as_itself():
    res = run_many(params({"horizon_weeks": 13}), replications=2, seed=3)
    tagged = _Tagged(**{f: getattr(res, f) for f in res.__dataclass_fields__})
    back = pickle.loads(pickle.dumps(tagged))
    assert type(back) is _Tagged
    _same(back, res)
