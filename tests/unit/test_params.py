"""Parameter declarations, validation and dotted keys."""

import dataclasses

import pytest

from sim.params import (
    KEYS,
    ParamError,
    Params,
    default_params,
    diff,
    flatten,
    info,
    nest,
    parse_value,
    settings,
    suggest,
    with_overrides,
)


def test_every_default_lies_in_its_declared_range():
    for s in settings():
        if s.choices:
            assert s.default in s.choices, s.key
        elif s.type in ("int", "float"):
            assert s.lo <= s.default <= s.hi, s.key
        assert s.doc, f"{s.key} has no description"


def test_params_are_frozen_and_overrides_do_not_mutate():
    base = default_params()
    with pytest.raises(dataclasses.FrozenInstanceError):
        base.horizon_weeks = 10  # type: ignore[misc]
    variant = with_overrides(base, {"reviews.council.interval_weeks": 2.0})
    assert base.reviews.council.interval_weeks == 4.0
    assert variant.reviews.council.interval_weeks == 2.0
    assert variant.reviews.metric == base.reviews.metric
    assert hash(variant) != hash(base)


@pytest.mark.parametrize(
    ("key", "value", "fragment"),
    [
        ("reviews.council.interval_weeks", 0.1, "0.5 to 52 weeks"),
        ("horizon_weeks", 300, "13 to 260"),
        ("org.discovery_share", -0.1, "0 to 0.6"),
        ("customers.churn_alpha", float("nan"), "finite"),
    ],
)
def test_out_of_range_names_setting_value_and_range(key, value, fragment):
    with pytest.raises(ParamError) as err:
        with_overrides(default_params(), {key: value})
    msg = str(err.value)
    assert key in msg and fragment in msg
    assert repr(value) in msg or str(value) in msg
    # The same message can name the setting as a control does, in place of its key.
    assert err.value.message("The control") == "The control" + msg[len(key) :]


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("horizon_weeks", "52"),
        ("horizon_weeks", 52.5),
        ("reviews.metric.enabled", 1),
        ("incentives.product", "velocity"),
        ("org.discovery_share", True),
    ],
)
def test_wrong_types_and_choices_are_rejected(key, value):
    with pytest.raises(ParamError, match=key.replace(".", r"\.")):
        with_overrides(default_params(), {key: value})


def test_whole_floats_are_accepted_for_integers():
    assert with_overrides(default_params(), {"horizon_weeks": 52.0}).horizon_weeks == 52


@pytest.mark.parametrize(
    ("typo", "meant"),
    [
        ("reviews.councl.interval_weeks", "reviews.council.interval_weeks"),
        ("discovery_share", "org.discovery_share"),
        ("incentives.sale", "incentives.sales"),
        ("horizon_week", "horizon_weeks"),
    ],
)
def test_unknown_key_suggests_the_closest(typo, meant):
    assert suggest(typo) == meant
    with pytest.raises(ParamError, match=f"did you mean {meant}"):
        with_overrides(default_params(), {typo: 1})


def test_cross_setting_rules():
    with pytest.raises(ParamError, match=r"market\.shift_week"):
        with_overrides(
            default_params(),
            {"horizon_weeks": 26, "market.shift_enabled": True, "market.shift_week": 30},
        )
    with pytest.raises(ParamError, match="weight"):
        with_overrides(
            default_params(),
            {"work.weight_onboarding": 0.0, "work.weight_core": 0.0, "work.weight_growth": 0.0},
        )


def test_parse_value_turns_text_into_typed_values_without_evaluating():
    assert parse_value("reviews.metric.enabled", "off") is False
    assert parse_value("reviews.metric.enabled", "True") is True
    assert parse_value("horizon_weeks", "52") == 52
    assert parse_value("reviews.council.interval_weeks", "2.5") == 2.5
    assert parse_value("incentives.product", "local_metric") == "local_metric"
    for bad_key, bad in [
        ("horizon_weeks", "52.5"),
        ("horizon_weeks", "__import__('os')"),
        ("reviews.metric.enabled", "maybe"),
    ]:
        with pytest.raises(ParamError, match=bad_key):
            parse_value(bad_key, bad)


def test_flatten_diff_and_nest_round_trip():
    p = with_overrides(default_params(), {"decisions.rights": "centralised", "horizon_weeks": 52})
    assert diff(p) == {"horizon_weeks": 52, "decisions.rights": "centralised"}
    flat = flatten(p)
    assert set(flat) == set(KEYS)
    assert with_overrides(Params(), flat) == p
    assert nest({"a.b": 1, "a.c": 2, "d": 3}) == {"a": {"b": 1, "c": 2}, "d": 3}


def test_every_setting_has_a_rationale_and_no_stale_entries():
    from sim.rationale import RATIONALE

    assert set(RATIONALE) == set(KEYS)
    assert all(s.source for s in settings())


def test_a_settings_span_gives_its_unit_as_a_reader_would():
    assert info("reviews.council.interval_weeks").span == "0.5 to 52 weeks"
    assert info("org.wip_limit_per_team").span == "1 to 12 items"
    # A week number reads "week 1 to 259", not "1 to 259 week".
    assert info("market.shift_week").span == "week 1 to 259"
    assert info("incentives.sales").span == "one of shared_outcome, mixed, local_metric"


def test_a_share_may_be_written_as_a_percentage():
    assert parse_value("org.discovery_share", "10%") == pytest.approx(0.1)
    assert parse_value("org.discovery_share", "0.1") == 0.1
    # Not for a setting that is no share: "10%" of weeks means nothing.
    with pytest.raises(ParamError, match=r"is not a number: 0\.5 to 52 weeks"):
        parse_value("reviews.council.interval_weeks", "10%")
