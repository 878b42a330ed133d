"""Levers, KPIs and constraints: parsing, validation and the messages users see."""

import math

import pytest

from sim.explore.levers import (
    Constraint,
    ExploreError,
    Lever,
    check_kpi,
    check_lever,
    idle_levers,
    idle_note,
    kpi_null_reason,
    parse_constraint,
    parse_lever,
    require_ranges,
)
from sim.params import ParamError, Params, with_overrides
from tests.explore.helpers import short


def test_numeric_range_with_points_gives_an_even_grid():
    lever = parse_lever("reviews.council.interval_weeks=1:8:5")
    assert (lever.key, lever.lo, lever.hi, lever.points) == (
        "reviews.council.interval_weeks",
        1,
        8,
        5,
    )
    assert lever.grid() == (1.0, 2.75, 4.5, 6.25, 8.0)
    assert lever.spec == "1:8:5"


def test_integer_range_rounds_and_deduplicates():
    lever = parse_lever("org.product_teams=2:4:7")
    assert lever.integer
    assert lever.grid() == (2, 3, 4)
    assert lever.scale(0.5) == 3 and isinstance(lever.scale(0.5), int)


def test_listed_values_are_typed():
    assert parse_lever("incentives.product=shared_outcome,local_metric").values == (
        "shared_outcome",
        "local_metric",
    )
    assert parse_lever("reviews.event.enabled=false,true").values == (False, True)
    assert parse_lever("reviews.council.interval_weeks=1,2,4").values == (1.0, 2.0, 4.0)
    lever = parse_lever("decisions.rights=delegated,centralised")
    assert lever.at(0.0) == "delegated" and lever.at(0.99) == "centralised"


@pytest.mark.parametrize(
    ("text", "fragments"),
    [
        (
            "reviews.councl.interval_weeks=1:8",
            ["is not a setting", "reviews.council.interval_weeks"],
        ),
        ("reviews.council.interval_weeks=1-8", ["'1-8'", "is not a valid range", "0.5 to 52"]),
        ("reviews.council.interval_weeks=1:x", ["'1:x'", "is not a valid range"]),
        ("reviews.council.interval_weeks=8:1", ["'8:1'", "lo ≥ hi", "0.5 to 52 weeks"]),
        ("reviews.council.interval_weeks=4:4", ["lo ≥ hi"]),
        ("reviews.council.interval_weeks=0.1:8", ["'0.1:8'", "out of range", "0.5 to 52 weeks"]),
        ("reviews.council.interval_weeks=1:80", ["out of range"]),
        ("reviews.council.interval_weeks=1:8:1", ["2 to 50 grid points"]),
        ("org.product_teams=1.5:4", ["whole-number"]),
        ("incentives.product=0:1", ["is not numeric", "shared_outcome"]),
        ("incentives.product=shared_outcome,bogus", ["'shared_outcome,bogus'", "one of"]),
        ("incentives.product=mixed", ["is not a list of values", "two or more"]),
        ("incentives.product=mixed,mixed", ["twice"]),
        ("reviews.council.interval_weeks", ["--lever", "KEY=lo:hi"]),
        ("reviews.council.interval_weeks=0.2,4", ["out of range"]),
    ],
)
def test_bad_levers_are_rejected_with_the_setting_value_and_what_is_allowed(text, fragments):
    with pytest.raises(ParamError) as err:
        parse_lever(text)
    message = str(err.value)
    for fragment in fragments:
        assert fragment in message, message
    assert "\n" not in message


def test_check_lever_validates_levers_built_in_code():
    with pytest.raises(ParamError, match="lo ≥ hi"):
        check_lever(Lever("org.discovery_share", lo=0.5, hi=0.1))
    with pytest.raises(ParamError, match="out of range"):
        check_lever(Lever("org.discovery_share", lo=0.0, hi=0.9))
    with pytest.raises(ParamError, match="is not a setting"):
        check_lever(Lever("org.discovery", lo=0.0, hi=0.3))
    ok = check_lever(Lever("org.product_teams", lo=2, hi=6))
    assert ok.integer


def test_numeric_methods_reject_listed_values():
    with pytest.raises(ParamError, match="Sobol samples numeric ranges lo:hi only; this setting"):
        require_ranges([parse_lever("incentives.sales=mixed,local_metric")], "sobol")
    # A numeric setting's listed values: the range it could take instead, with its unit.
    with pytest.raises(ParamError) as err:
        require_ranges([parse_lever("reviews.council.interval_weeks=1,4")], "morris")
    assert err.value.message() == (
        "reviews.council.interval_weeks = '1,4' is not a numeric range: Morris samples a range "
        "lo:hi within 0.5 to 52 weeks, not listed values"
    )
    require_ranges([parse_lever("org.discovery_share=0:0.3")], "sobol")


def test_kpis_and_constraints():
    assert check_kpi("lead_time_days") == "lead_time_days"
    with pytest.raises(ExploreError, match="did you mean retention_52w"):
        check_kpi("retention")
    c = parse_constraint("meeting_overhead_share<=0.1")
    assert c == Constraint("meeting_overhead_share", "<=", 0.1)
    assert parse_constraint(" meeting_overhead_share <= 10% ").bound == pytest.approx(0.1)
    # A share's bound above 1 without "%" would never bind: most likely a percentage, so asked for.
    with pytest.raises(ExploreError) as err:
        parse_constraint("Meeting overhead <= 10")
    assert str(err.value) == (
        "--constraint = 'Meeting overhead <= 10' is out of range: Meeting overhead is a share from "
        "0 to 1, so write a percentage with its sign, e.g. 'Meeting overhead <= 10%', or a fraction"
    )
    assert parse_constraint("Meeting overhead <= 1").bound == 1.0
    assert parse_constraint("lead_time_days <= 10").bound == 10.0  # days are not a share
    assert c.holds(0.1) and not c.holds(0.11) and not c.holds(math.nan)
    assert c.violation(0.12) == pytest.approx(0.2)
    assert parse_constraint("activation_rate>0.5").holds(0.6)
    for bad in ("meeting_overhead_share=0.1", "meeting_overhead_share<=x", "<=0.1", ""):
        with pytest.raises(ExploreError, match="is not a constraint"):
            parse_constraint(bad)
    with pytest.raises(ExploreError, match="is not a KPI"):
        parse_constraint("meeting<=0.1")


def test_null_kpis_are_known_in_advance():
    assert kpi_null_reason(short(weeks=26), "retention_52w") is not None
    assert kpi_null_reason(short(weeks=60), "retention_52w") is None
    assert kpi_null_reason(short(weeks=60), "lead_time_days") is None
    lever = parse_lever("horizon_weeks=26:80")
    assert kpi_null_reason(short(weeks=60), "ltv_to_cac", [lever]) is not None


def test_a_constraint_bound_must_be_finite():
    with pytest.raises(ExploreError, match="'meeting_overhead_share<=1e999' has a bound too large"):
        parse_constraint("meeting_overhead_share<=1e999")


@pytest.mark.parametrize(
    "text",
    [
        "org.gtm_cost_per_week=1234567:2345678",
        "org.gtm_cost_per_week=1000001,1000002",
        "reviews.council.interval_weeks=1.0000001:1.0000004",
    ],
)
def test_a_lever_written_back_keeps_every_digit(text):
    lever = parse_lever(text)
    assert parse_lever(f"{lever.key}={lever.spec}") == lever
    assert lever.spec == text.split("=", 1)[1]


def test_a_constraint_written_back_keeps_every_digit():
    c = parse_constraint("active_customers_end>=1234567")
    assert c.text == "active_customers_end>=1234567"
    assert parse_constraint(c.text) == c
    assert parse_constraint("meeting_overhead_share<=0.1").text == "meeting_overhead_share<=0.1"


def test_a_lever_that_cannot_act_anywhere_on_the_grid_is_idle_with_why():
    council_off = with_overrides(Params(), {"reviews.council.enabled": False})
    interval = parse_lever("reviews.council.interval_weeks=1:8")
    assert idle_levers(council_off, [interval]) == {
        "reviews.council.interval_weeks": "the council is off"
    }
    # Held at some of the other lever's values, or at one end of its range, it can act.
    assert (
        idle_levers(council_off, [interval, parse_lever("reviews.council.enabled=true,false")])
        == {}
    )
    no_discovery = with_overrides(Params(), {"org.discovery_share": 0.0})
    reduction = parse_lever("work.discovery_noise_reduction=5:40")
    assert idle_levers(no_discovery, [reduction]) == {
        "work.discovery_noise_reduction": "no discovery time is protected"
    }
    assert idle_levers(no_discovery, [reduction, parse_lever("org.discovery_share=0:0.3")]) == {}
    assert idle_levers(Params(), [interval]) == {}
    note = idle_note(idle_levers(council_off, [interval]), "No council")
    assert note == (
        "From “No council”, this lever cannot move any result, and will show no effect: the "
        "council interval, as the council is off."
    )
    assert idle_note({}, "No council") is None
