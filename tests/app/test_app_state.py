"""Links and settings as plain data (no Streamlit needed)."""

from __future__ import annotations

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from app.state import (
    LEARN_REPLICATIONS,
    REPS_PARAM,
    LearnState,
    SandboxState,
    Setup,
    apply_values,
    canonical,
    decode_compare,
    decode_learn,
    decode_sandbox,
    default_preset,
    encode_compare,
    encode_learn,
    encode_sandbox,
    format_value,
    from_canonical,
    preset_setup,
    safe_title,
    with_horizon,
)
from sim.params import ParamError, default_params, diff, parse_value, settings
from sim.scenarios import parse, preset_names, title_ok, to_toml


@pytest.mark.parametrize("name", preset_names())
def test_every_preset_round_trips_through_a_link(name):
    state = SandboxState(variant=preset_setup(name), seed=3, replications=40, band=50)
    query = encode_sandbox(state)
    back, warnings = decode_sandbox(query)
    assert warnings == []
    assert back.variant.overrides == state.variant.overrides
    assert back.variant.preset == name
    assert (back.seed, back.replications, back.band) == (3, 40, 50)


def test_the_default_state_has_an_empty_link():
    assert encode_sandbox(SandboxState(variant=preset_setup(default_preset()))) == {}


def test_a_link_holds_only_what_differs_from_its_preset():
    setup = preset_setup("pivot")
    overrides = apply_values(setup.overrides, {"market.shift_week": 40})
    changed = Setup("pivot", setup.title + " (modified)", overrides)  # the title it gets anyway
    query = encode_sandbox(SandboxState(variant=changed))
    assert query == {"scenario": "pivot", "market.shift_week": "40"}


def test_a_title_of_its_own_travels_with_the_link():
    """An uploaded file's title (or any title the settings did not get from their preset) is in
    the link, so the page it opens is named as the one shared."""
    setup = preset_setup("pivot")
    named = Setup("pivot", "Proposal: fortnightly council", setup.overrides)
    query = encode_sandbox(SandboxState(variant=named))
    assert query == {"scenario": "pivot", "title": "Proposal: fortnightly council"}
    back, warnings = decode_sandbox(query)
    assert warnings == [] and back.variant.title == "Proposal: fortnightly council"
    assert back.variant.overrides == setup.overrides
    assert "title" not in encode_sandbox(SandboxState(variant=setup))
    # Settings with no preset open on the default one: their own title still comes back.
    for title in ("Custom settings", "My file"):
        custom = Setup(None, title, apply_values({}, {"horizon_weeks": 30}))
        back, warnings = decode_sandbox(encode_sandbox(SandboxState(variant=custom)))
        assert warnings == [] and back.variant.title == title
        assert back.variant.overrides == custom.overrides
    bad, warnings = decode_sandbox({"scenario": "pivot", "title": "=HYPERLINK(1)"})
    assert bad.variant.title == setup.title
    assert warnings and warnings[0].startswith("URL parameter title = '=HYPERLINK(1)'")


def test_a_modified_baseline_round_trips():
    base = Setup(None, "b", apply_values({}, {"incentives.sales": "local_metric"}))
    state = SandboxState(variant=preset_setup("pivot"), baseline=base)
    back, warnings = decode_sandbox(encode_sandbox(state))
    assert warnings == []
    assert back.baseline is not None
    assert back.baseline.overrides == base.overrides


@pytest.mark.parametrize("info", settings(), ids=lambda s: s.key)
def test_every_setting_value_reads_back_exactly(info):
    assert parse_value(info.key, format_value(info.default)) == info.default


def test_awkward_floats_read_back_exactly():
    for value in (0.1 + 0.2, 1e-7, 123456.789, 2.0):
        assert float(format_value(value)) == value


def test_bad_values_warn_by_name_and_fall_back():
    state, warnings = decode_sandbox(
        {"reviews.council.interval_weeks": "0", "incentives.sales": "mixed", "zzz": "1"}
    )
    assert state.variant.overrides == {"incentives.sales": "mixed"}
    assert any(w.startswith("URL parameter reviews.council.interval_weeks") for w in warnings)
    assert any("zzz" in w for w in warnings)
    assert len(warnings) == 2


def test_an_impossible_combination_applies_what_it_can():
    state, warnings = decode_sandbox({"market.shift_enabled": "true", "horizon_weeks": "20"})
    # shift_week 30 does not fit a 20-week horizon: one of the two is dropped, with a warning.
    assert len(warnings) == 1 and "market.shift_week" in warnings[0]
    state.variant.params  # still valid  # noqa: B018


def test_order_of_combined_values_does_not_matter():
    state, warnings = decode_sandbox(
        {"horizon_weeks": "40", "market.shift_enabled": "true", "market.shift_week": "35"}
    )
    assert warnings == []
    assert state.variant.params.market.shift_week == 35


def test_canonical_is_stable_and_restores_params():
    a = {"incentives.sales": "mixed", "horizon_weeks": 52}
    b = {"horizon_weeks": 52, "incentives.sales": "mixed"}
    assert canonical(a) == canonical(b)
    assert diff(from_canonical(canonical(a))) == a


def test_with_horizon_validates():
    assert with_horizon({}, 52) == {"horizon_weeks": 52}
    assert with_horizon({"horizon_weeks": 52}, default_params().horizon_weeks) == {}
    with pytest.raises(ParamError, match=r"market\.shift_week"):
        with_horizon(preset_setup("pivot").overrides, 20)


def test_compare_links_round_trip_and_validate():
    query = encode_compare(["pivot", "demand-shock"], seed=2, replications=50)
    names, seed, reps, warnings = decode_compare(query, ["aligned-baseline"])
    assert (names, seed, reps, warnings) == (["pivot", "demand-shock"], 2, 50, [])
    names, _, _, warnings = decode_compare(
        {"scenarios": ",".join(preset_names())}, ["aligned-baseline"]
    )
    assert len(names) == 4 and any("at most 4" in w for w in warnings)
    # A name that is no preset is left out, and the warning says so (not "the default settings").
    names, _, _, warnings = decode_compare({"scenarios": "pivot,nope,demand-shock"}, ["pivot"])
    assert names == ["pivot", "demand-shock"]
    (warning,) = warnings
    assert "'nope' is not a preset" in warning
    assert warning.endswith("It is left out of the comparison.")
    # A preset named twice is compared once, and the warning says why one column is missing.
    names, _, _, warnings = decode_compare({"scenarios": "pivot,pivot,demand-shock"}, ["pivot"])
    assert names == ["pivot", "demand-shock"]
    assert warnings == ["URL parameter scenarios names pivot twice: it is compared once."]


def test_a_baseline_that_is_no_preset_says_none_is_pinned():
    back, warnings = decode_sandbox({"base": "nope", "base.org.wip_limit_per_team": "3"})
    assert back.baseline is None
    (warning,) = warnings
    assert "'nope' is not a preset" in warning
    assert warning.endswith("No baseline is pinned, and base.* were ignored.")
    _, (warning,) = decode_sandbox({"base": "nope"})
    assert warning.endswith("No baseline is pinned.")


def test_compare_links_carry_saved_and_custom_settings():
    modified = Setup(
        "pivot",
        "Pivot, faster council",
        apply_values(preset_setup("pivot").overrides, {"reviews.council.interval_weeks": 2.0}),
    )
    custom = Setup(None, "Custom settings", {"org.wip_limit_per_team": 5})
    query = encode_compare(["aligned-baseline", modified, custom], seed=3, replications=40)
    assert query["scenarios"] == "aligned-baseline,pivot,custom"
    assert query["s2.reviews.council.interval_weeks"] == "2"
    assert "s2.market.shift_enabled" not in query  # settings are relative to the preset
    assert query["s3.org.wip_limit_per_team"] == "5"
    scenarios, seed, reps, warnings = decode_compare(query, ["drifting-incentives"])
    assert (scenarios, seed, reps, warnings) == (["aligned-baseline", modified, custom], 3, 40, [])


def test_compare_links_with_bad_scenario_settings_warn_by_name():
    scenarios, _, _, warnings = decode_compare(
        {
            "scenarios": "pivot,custom",
            "s1.org.wip_limit_per_team": "99",
            "s2.org.team_size": "7",
            "s2.title": "=HYPERLINK(1)",
            "s5.org.wip_limit_per_team": "2",
        },
        ["aligned-baseline"],
    )
    text = " ".join(warnings)
    for named in ("s1.org.wip_limit_per_team", "s2.org.team_size", "s2.title", "s5.*"):
        assert named in text, text
    assert scenarios[0] == "pivot"  # its one setting was out of range: the preset as it is
    assert scenarios[1] == Setup(None, "Custom settings", {})


def test_compare_links_read_back_whatever_titles_the_app_gives():
    uploaded = Setup(None, "q3_plan [draft] *v2*", {"org.product_teams": 7})
    long = Setup("pivot", "A" * 100, preset_setup("pivot").overrides)
    formula = Setup(None, "=-draft", {"org.product_teams": 6})
    query = encode_compare([uploaded, long, uploaded, formula], seed=1, replications=100)
    scenarios, _, _, warnings = decode_compare(query, ["aligned-baseline"])
    assert warnings == []
    assert scenarios == [
        uploaded,
        Setup("pivot", "A" * 80, long.overrides),
        uploaded,
        Setup(None, "draft", formula.overrides),
    ]


def test_compare_link_settings_for_an_empty_entry_warn():
    _, _, _, warnings = decode_compare(
        {"scenarios": ",pivot,demand-shock", "s1.title": "Lost"}, ["aligned-baseline"]
    )
    assert any("s1.*" in w and "empty" in w for w in warnings), warnings


@given(st.text(max_size=200))
@example("=\u00a0=cmd")  # a no-break space between formula starts
@example("\u2007@\u202f+x")
def test_a_made_safe_title_is_one_the_scenario_reader_accepts(title):
    safe = safe_title(title)
    if safe:
        assert title_ok(safe)
        assert parse(to_toml(default_params(), title=safe)).title == safe
    else:  # nothing but blanks, controls and formula starts: the caller uses a title of its own
        assert all(c.isspace() or not c.isprintable() or c in "=+-@" for c in title)


def test_a_long_modified_title_still_saves_as_a_scenario_file():
    title = "x" * 80 + " (modified)"
    assert parse(to_toml(default_params(), title=safe_title(title))).title == "x" * 80


def test_link_titles_keep_no_break_spaces_and_name_a_format_character():
    query = {"scenarios": "custom,custom", "s1.title": "Plan\u00a0B", "s2.title": "Plan \u202eB"}
    scenarios, _, _, warnings = decode_compare(query, ["aligned-baseline"])
    assert scenarios[0].title == "Plan\u00a0B"
    assert scenarios[1].title == "Custom settings"
    assert len(warnings) == 1
    assert "s2.title" in warnings[0] and "U+202E (RIGHT-TO-LEFT OVERRIDE)" in warnings[0]


@pytest.mark.parametrize(
    ("name", "hint"),
    [
        ("Seed", "did you mean seed?"),
        ("replications", "did you mean reps?"),
        ("incentives.slaes", "did you mean incentives.sales?"),
        ("colour", "the link takes scenario, seed, reps"),
    ],
)
def test_an_unknown_link_parameter_points_to_the_pages_own(name, hint):
    _, warnings = decode_sandbox({name: "3"})
    assert len(warnings) == 1 and name in warnings[0] and hint in warnings[0], warnings


def test_a_long_link_value_is_quoted_short_and_named_once():
    _, warnings = decode_sandbox({"incentives.product": "x" * 100_000})
    assert len(warnings) == 1 and len(warnings[0]) < 300, warnings
    assert warnings[0].count("incentives.product") == 1
    assert "(100,002 characters)" in warnings[0]


@pytest.mark.parametrize(
    ("text", "band", "warned"),
    [("80", 80, False), ("80.0", 80, False), ("100", 90, True), ("nan", 90, True)],
)
def test_a_link_band_is_one_of_the_widths_offered(text, band, warned):
    state, warnings = decode_sandbox({"band": text})
    assert state.band == band
    assert len(warnings) == warned
    assert all("one of 50, 80, 90, 95" in w for w in warnings)


def test_a_compare_link_position_is_a_few_ascii_digits():
    query = {
        "scenarios": "pivot,demand-shock",
        "s\u00b2.horizon_weeks": "26",
        "s\u0661.x": "1",
        "s" + "9" * 5_000 + ".horizon_weeks": "26",  # more digits than int() reads
    }
    scenarios, _, _, warnings = decode_compare(query, ["aligned-baseline"])
    assert scenarios == ["pivot", "demand-shock"]
    assert len(warnings) == 3 and "s\u00b2.horizon_weeks" in warnings[0], warnings


def test_lessons_run_thirty_replications_unless_the_link_says_otherwise():
    state, warnings = decode_learn({})
    assert state.replications == LEARN_REPLICATIONS == 30 and warnings == []
    assert REPS_PARAM not in encode_learn(state)
    assert encode_learn(LearnState(replications=100))[REPS_PARAM] == "100"
    assert decode_learn({REPS_PARAM: "100"})[0].replications == 100
