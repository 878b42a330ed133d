"""Sweeps: the model's patterns show up, results are tidy, replications match run_many exactly."""

import numpy as np
import pytest

from sim.executors import SerialExecutor
from sim.explore import FunctionEvaluator, Lever, parse_lever, sweep
from sim.outcomes import KPI_NAMES
from sim.params import ParamError
from sim.runner import run_many
from sim.streams import replication_seeds
from tests.explore.helpers import ALL_LOCAL, short
from tests.helpers import SEED_OFFSET, Z_LIMIT

SERIAL = SerialExecutor()


def _gap(result, kpi, a, b):
    """Mean difference point b − point a of a KPI and its (unpaired, conservative) standard error."""
    j = result.outputs.index(kpi)
    diff = result.stats.values[b, j] - result.stats.values[a, j]
    se = np.hypot(result.stats.se[a, j], result.stats.se[b, j])
    return diff, se


def test_under_drifting_incentives_reviews_deliver_more_value_than_none():
    """P2/P3 in a sweep: every function on its local metric, only the council can correct drift."""
    base = short(
        {**ALL_LOCAL, "reviews.metric.enabled": False, "reviews.strategy.enabled": False}, weeks=52
    )
    result = sweep(
        base,
        [parse_lever("reviews.council.enabled=false,true")],
        replications=8,
        seed=11 + SEED_OFFSET,
        executor=SERIAL,
    )
    assert [p["reviews.council.enabled"] for p in result.points] == [False, True]
    for kpi in ("value_delivered", "mean_alignment"):
        diff, se = _gap(result, kpi, 0, 1)
        assert diff > Z_LIMIT * se, f"{kpi}: {diff:.4g} ± {se:.2g}"


def test_lead_time_rises_under_centralised_decisions():
    """P6 in a sweep: every item waiting for the council lengthens lead time."""
    result = sweep(
        short(),
        [parse_lever("decisions.rights=delegated,guardrails,centralised")],
        replications=6,
        seed=11 + SEED_OFFSET,
        executor=SERIAL,
        kpis=["lead_time_days"],
    )
    diff, se = _gap(result, "lead_time_days", 0, 2)
    assert diff > Z_LIMIT * se, f"{diff:.4g} ± {se:.2g}"
    diff, se = _gap(result, "lead_time_days", 1, 2)
    assert diff > Z_LIMIT * se
    line = result.frame("lead_time_days")
    assert list(line.columns) == ["decisions.rights", "n", "mean", "sd", "se", "ci_lo", "ci_hi"]
    assert (line.ci_lo < line["mean"]).all() and (line["mean"] < line.ci_hi).all()


def test_points_use_the_same_replications_as_run_many():
    """Common random numbers: each point's replication i is run_many's replication i."""
    base = short()
    result = sweep(
        base, [parse_lever("org.discovery_share=0:0.3:2")], replications=3, seed=5, executor=SERIAL
    )
    from sim.params import with_overrides

    for p, point in enumerate(result.points):
        reps = run_many(with_overrides(base, point), replications=3, seed=5)
        finite = np.isfinite(reps.kpi_values).all(axis=0)
        expected_mean = reps.kpi_values[:, finite].mean(axis=0)
        assert np.allclose(result.stats.values[p][finite], expected_mean, rtol=1e-12)
        assert np.all(result.stats.count[p][~finite] < 3)  # undefined KPIs are left out
    # And the lean worker's seeds are the runner's seeds.
    from sim.streams import replication_seed

    seeds = replication_seeds(5, 40)
    for i in (0, 7, 39):
        assert (
            replication_seed(5, i).generate_state(4).tolist() == seeds[i].generate_state(4).tolist()
        )


def test_two_levers_make_a_heatmap_and_a_tidy_table():
    result = sweep(
        short(),
        [
            parse_lever("reviews.council.interval_weeks=2:8:3"),
            parse_lever("incentives.product=shared_outcome,local_metric"),
        ],
        replications=2,
        seed=3,
        executor=SERIAL,
    )
    assert len(result.points) == 6
    table = result.table()
    assert len(table) == 6 * len(KPI_NAMES)
    assert list(table.columns[:3]) == [
        "reviews.council.interval_weeks",
        "incentives.product",
        "kpi",
    ]
    m = result.matrix("value_delivered")
    assert m.shape == (3, 2)
    assert m.loc[2.0, "local_metric"] == pytest.approx(
        table.query(
            "kpi == 'value_delivered' and `reviews.council.interval_weeks` == 2.0 "
            "and `incentives.product` == 'local_metric'"
        )["mean"].iloc[0]
    )
    d = result.to_dict()
    assert d["experiment"] == "sweep" and len(d["points"]) == 6
    assert set(d["points"][0]) == {"settings", "kpis"}
    assert set(d["points"][0]["kpis"]["value_delivered"]) == {
        "n",
        "mean",
        "sd",
        "se",
        "ci_lo",
        "ci_hi",
    }
    # 52-week retention cannot be computed over 26 weeks: null, with the reason.
    assert d["points"][0]["kpis"]["retention_52w"]["mean"] is None
    assert "52 weeks" in d["null_reasons"]["retention_52w"]


def test_bad_sweeps_are_rejected():
    base = short()
    three = [
        parse_lever(t)
        for t in ("org.discovery_share=0:0.2", "org.product_teams=2:4", "org.team_size_people=4:8")
    ]
    with pytest.raises(ValueError, match="1 or 2 levers"):
        sweep(base, three, replications=2, executor=SERIAL)
    with pytest.raises(ParamError, match="is not a setting"):
        sweep(base, [Lever("org.teams", lo=1, hi=3)], replications=2, executor=SERIAL)
    with pytest.raises(ParamError, match="a week before the horizon"):
        sweep(
            short({"market.shift_enabled": True}),
            [parse_lever("market.shift_week=10:60")],
            replications=2,
            executor=SERIAL,
        )
    with pytest.raises(ValueError, match="replications"):
        sweep(base, [parse_lever("org.discovery_share=0:0.2")], replications=0, executor=SERIAL)
    with pytest.raises(ValueError, match="is not a KPI"):
        sweep(
            base,
            [parse_lever("org.discovery_share=0:0.2")],
            replications=2,
            kpis=["value"],
            executor=SERIAL,
        )
    with pytest.raises(ParamError, match="sets this setting a second time: each setting once"):
        sweep(base, [parse_lever("org.discovery_share=0:0.2")] * 2, replications=2, executor=SERIAL)


def test_sweep_of_a_plain_function_goes_through_the_same_machinery():
    ev = FunctionEvaluator(lambda x: 2.0 * x, {"x": 0.0})
    result = sweep(ev, [Lever("x", lo=0.0, hi=1.0, points=3)], replications=2, executor=SERIAL)
    assert result.frame("y")["mean"].tolist() == [0.0, 1.0, 2.0]
    assert result.frame("y")["sd"].tolist() == [0.0, 0.0, 0.0]


def test_points_are_paired_replication_by_replication():
    """paired(a, b) is point a − point b over the same replications, as run_many's runs give it."""
    from sim.params import with_overrides

    base = short()
    lever = parse_lever("reviews.council.interval_weeks=1,4,12")
    result = sweep(base, [lever], replications=8, seed=7, executor=SERIAL)
    runs = [
        run_many(with_overrides(base, point), replications=8, seed=7).kpi_values
        for point in result.points
    ]
    j = KPI_NAMES.index("value_delivered")
    for a in range(3):
        for b in range(3):
            d = runs[a][:, j] - runs[b][:, j]
            got = result.paired("value_delivered", a, b)
            assert got["n"] == 8
            assert got["mean"] == pytest.approx(d.mean(), rel=1e-12, abs=1e-9)
            assert got["share_higher"] == pytest.approx(np.mean(d > 0))
            if a != b:
                assert got["sd"] == pytest.approx(d.std(ddof=1), rel=1e-9)
    # A point against itself differs by nothing, and never comes out higher.
    same = result.paired("value_delivered", 1, 1)
    assert same["mean"] == 0.0 and same["share_higher"] == 0.0
    # A KPI missing from a replication leaves that pair out.
    j = KPI_NAMES.index("detection_lag_days")
    both = np.isfinite(runs[0][:, j]) & np.isfinite(runs[2][:, j])
    assert result.paired("detection_lag_days", 0, 2)["n"] == int(both.sum())


def test_few_replications_or_a_large_grid_keep_statistics_only():
    from sim.explore.sweep import MAX_PAIRED_POINTS, MIN_PAIRED_REPLICATIONS

    ev = FunctionEvaluator(lambda x: 2.0 * x, {"x": 0.0})
    lever = Lever("x", lo=0.0, hi=1.0, points=MAX_PAIRED_POINTS + 1)
    result = sweep(ev, [lever], replications=MIN_PAIRED_REPLICATIONS, executor=SERIAL)
    assert result.paired("y", 0, 1) is None
    assert result.frame("y")["mean"].iloc[-1] == 2.0
    lever = Lever("x", lo=0.0, hi=1.0, points=MAX_PAIRED_POINTS)
    few = sweep(ev, [lever], replications=MIN_PAIRED_REPLICATIONS - 1, executor=SERIAL)
    assert few.paired("y", 0, 1) is None
    # Enough replications and one point fewer: the last point is 2 higher than the first, always.
    result = sweep(ev, [lever], replications=MIN_PAIRED_REPLICATIONS, executor=SERIAL)
    top = result.paired("y", MAX_PAIRED_POINTS - 1, 0)
    assert top["mean"] == 2.0 and top["sd"] == 0.0 and top["share_higher"] == 1.0


def test_extremes_pair_the_first_highest_point_with_the_first_lowest():
    ev = FunctionEvaluator(
        lambda x: np.column_stack([(x[:, 0] - 0.5) ** 2, np.full(len(x), np.nan)]),
        {"x": 0.0},
        outputs=("u", "none"),
    )
    result = sweep(ev, [Lever("x", lo=0.0, hi=1.0, points=5)], replications=8, executor=SERIAL)
    # u is highest at both ends (the first counts) and lowest in the middle.
    assert result.extremes("u") == {**result.paired("u", 0, 2), "highest": 0, "lowest": 2}
    assert result.extremes("u")["mean"] == pytest.approx(0.25)
    assert result.extremes("none") is None  # no point has a value
    assert result.to_dict()["extremes"] == {"u": result.extremes("u"), "none": None}
    few = sweep(ev, [Lever("x", lo=0.0, hi=1.0, points=5)], replications=2, executor=SERIAL)
    assert few.extremes("u") is None and "extremes" not in few.to_dict()  # no pairs kept
