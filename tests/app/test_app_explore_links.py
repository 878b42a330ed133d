"""Links to an Explore experiment: query parameters and back (pure), and opening one in the app."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from streamlit.testing.v1 import AppTest

from app.explore_links import (
    CHOICES,
    DEFAULTS,
    INTEGERS,
    LINKED,
    TOOLS,
    decode_explore,
    encode_explore,
)
from app.state import Setup, preset_setup
from sim.params import ParamError

from .helpers import APP, assert_clean, open_app, texts
from .test_app_explore import charts, simulations  # noqa: F401  (a fixture)

# --------------------------------------------------------------------------------------------------
# Query parameters, without a server
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("tool", TOOLS)
def test_default_inputs_give_only_the_tool_and_read_back_as_defaults(tool):
    query = encode_explore(tool, DEFAULTS[tool], {})
    assert query == {"tool": tool}
    link, warnings = decode_explore(query)
    assert warnings == []
    assert link.tool == tool and link.values == DEFAULTS[tool] and link.setups == {}


def test_a_link_with_no_parameters_opens_nothing():
    assert decode_explore({}) == (None, [])


def test_changed_inputs_round_trip_including_cleared_levers_and_multi_line_text():
    values = {
        **DEFAULTS["optimisation"],
        "lever2": "",
        "range2": "",
        "lever3": "org.wip_limit_per_team",
        "range3": "1:6",
        "kpi": "retention_52w",
        "direction": "max",
        "constraints": "meeting_overhead_share<=10%\nmean_alignment>=0.6",
        "candidates": 30,
        "search": "grid",
        "reps": 12,
        "seed": 7,
        "weeks": 104,
    }
    query = encode_explore("optimisation", values, {})
    assert query["lever2"] == "" and query["weeks"] == "104" and "lever1" not in query
    link, warnings = decode_explore(query)
    assert warnings == []
    assert link.values == values


def test_the_attribution_variant_may_be_the_baseline_itself():
    values = {**DEFAULTS["attribution"], "variant": ""}
    query = encode_explore("attribution", values, {})
    assert query["variant"] == "baseline"
    link, _ = decode_explore(query)
    assert link.values["variant"] == ""


def test_settings_of_their_own_are_spelled_out_and_come_back_with_their_title():
    start = preset_setup("drifting-incentives")
    own = Setup(
        "drifting-incentives",
        "Proposal: fortnightly council",
        {**start.overrides, "reviews.council.interval_weeks": 2.0, "org.wip_limit_per_team": 4},
    )
    values = {**DEFAULTS["sweep"], "base": "sandbox", "lever1": "org.discovery_share"}
    query = encode_explore("sweep", values, {"sandbox": own})
    assert query["base"] == "drifting-incentives"
    assert query["base.reviews.council.interval_weeks"] == "2"
    assert query["base.org.wip_limit_per_team"] == "4"
    assert query["base.title"] == "Proposal: fortnightly council"
    link, warnings = decode_explore(query)
    assert warnings == []
    assert link.values["base"] == LINKED["base"]
    setup = link.setups[LINKED["base"]]
    assert setup.params == own.params and setup.title == own.title
    assert link.values["lever1"] == "org.discovery_share"


def test_settings_from_no_preset_read_back_as_custom():
    own = Setup(None, "Custom settings", {"incentives.sales": "local_metric"})
    values = {**DEFAULTS["attribution"], "variant": LINKED["variant"]}
    query = encode_explore("attribution", values, {LINKED["variant"]: own})
    assert query["variant"] == "custom" and "variant.title" not in query
    link, warnings = decode_explore(query)
    assert warnings == []
    assert link.setups[LINKED["variant"]].params == own.params
    assert link.values["base"] == DEFAULTS["attribution"]["base"]


@pytest.mark.parametrize(
    ("query", "name", "expected", "said"),
    [
        ({"tool": "sweeep"}, "tool", "sweep", "one of sweep, sensitivity"),
        ({"reps": "0"}, "reps", 8, "an integer from 1 to 1000"),
        ({"reps": "many"}, "reps", 8, "an integer from 1 to 1000"),
        ({"weeks": "5"}, "weeks", 52, "an integer from 13 to 260"),
        ({"points": "2.5"}, "points", 5, "an integer from 2 to"),
        ({"kpi": "happiness"}, "kpi", "value_delivered", "one of retention_52w"),
        ({"lever1": "reviews.counsil"}, "lever1", "reviews.council.interval_weeks", "a setting"),
        ({"lever1": ""}, "lever1", "reviews.council.interval_weeks", "a setting's key"),
        ({"range1": "1:8\nx"}, "range1", "0.5,1,2,4,8,16", "one line"),
        ({"range1": "1," * 150}, "range1", "0.5,1,2,4,8,16", "at most 200 characters"),
        ({"range1": "1:8\x07"}, "range1", "0.5,1,2,4,8,16", "printable text"),
        ({"base": "no-such-preset"}, "base", "council-only-drift", "no-such-preset"),
    ],
)
def test_a_bad_value_is_named_with_what_is_allowed_and_its_input_keeps_its_default(
    query, name, expected, said
):
    link, warnings = decode_explore({"tool": "sweep", **query})
    assert len(warnings) == 1, warnings
    assert warnings[0].startswith(f"URL parameter {name}") and said in warnings[0]
    assert (link.tool if name == "tool" else link.values[name]) == expected


def test_an_unknown_name_is_ignored_with_the_closest_input():
    link, warnings = decode_explore({"tool": "sweep", "rep": "4", "colour": "red"})
    assert warnings[0] == (
        "URL parameter rep is not an input of the sweep (did you mean reps?); it was ignored."
    )
    assert "it takes tool, base, lever1" in warnings[1]
    assert link.values == DEFAULTS["sweep"]


def test_an_input_of_another_tool_is_not_taken():
    link, warnings = decode_explore({"tool": "sweep", "method": "sobol", "variant": "pivot"})
    assert len(warnings) == 2 and "method is not an input of the sweep" in warnings[0]
    assert link.values == DEFAULTS["sweep"] and link.setups == {}


def test_a_bad_setting_of_a_spelled_out_base_is_named_and_the_rest_applied():
    query = {
        "tool": "sweep",
        "base": "aligned-baseline",
        "base.reviews.council.interval_weeks": "-3",
        "base.org.wip_limit_per_team": "4",
        "base.title": "=HYPERLINK(1)",
    }
    link, warnings = decode_explore(query)
    assert any(w.startswith("URL parameter base.reviews.council.interval_weeks") for w in warnings)
    assert any(w.startswith("URL parameter base.title") for w in warnings)
    setup = link.setups[LINKED["base"]]
    assert setup.params.org.wip_limit_per_team == 4
    assert setup.params.reviews.council.interval_weeks == (
        preset_setup("aligned-baseline").params.reviews.council.interval_weeks
    )
    assert setup.title == "Aligned baseline (modified)"


def test_decoding_never_raises_on_any_text():
    for text in ("", " ", "\x00", "1e999", "nan", "-1", "é" * 300, "=1+1", "[]"):
        for name in ("tool", *DEFAULTS["optimisation"], "base.org.wip_limit_per_team", "base"):
            try:
                decode_explore({"tool": "optimisation", name: text})
            except (ParamError, ValueError) as err:  # pragma: no cover - the failure is the test
                pytest.fail(f"{name}={text!r} raised {err!r}")


@st.composite
def sweep_inputs(draw) -> dict:
    values = dict(DEFAULTS["sweep"])
    for name in ("points", "reps", "seed", "weeks"):
        lo, hi = INTEGERS[name]
        values[name] = draw(st.integers(lo, hi))
    values["kpi"] = draw(st.sampled_from(CHOICES["kpi"]))
    values["range1"] = draw(
        st.text(st.characters(codec="utf-8", categories=("L", "N", "P", "Zs")), max_size=60)
    )
    return values


@settings(max_examples=60, deadline=None)
@given(sweep_inputs())
def test_any_valid_inputs_round_trip(values):
    link, warnings = decode_explore(encode_explore("sweep", values, {}))
    assert warnings == [] and link.values == values


# --------------------------------------------------------------------------------------------------
# Opening a link in the app
# --------------------------------------------------------------------------------------------------

TINY_SWEEP = {"tool": "sweep", "range1": "1:8", "points": "2", "reps": "2", "weeks": "26"}


def open_explore_link(query: dict[str, str]) -> AppTest:
    """A new session opened on the Explore page with these query parameters."""
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params.update(query)
    at.switch_page("app/pages/explore.py")
    return at.run()


def query_of(at: AppTest) -> dict[str, str]:
    return {key: at.query_params[key] for key in at.query_params}


def test_a_link_opens_its_tool_with_its_inputs_and_runs_it(simulations):  # noqa: F811
    query = {"tool": "optimisation", "range1": "1:8", "candidates": "3", "reps": "2", "weeks": "26"}
    at = open_explore_link(query)
    assert_clean(at)
    assert not at.warning
    assert at.session_state["ex.tab"] == "Optimisation"
    assert at.number_input(key="ex.optimisation.candidates").value == 3
    assert at.number_input(key="ex.optimisation.weeks").value == 26
    assert at.text_input(key="ex.optimisation.range1").value == "1:8"
    assert sum(simulations) > 0 and charts(at)
    assert query_of(at) == query
    links = [c.value for c in at.code if "tool=optimisation" in c.value]
    assert links and "candidates=3" in links[0]


def test_a_sweep_from_the_sandbox_opens_the_same_experiment_in_a_new_session(simulations):  # noqa: F811
    at = open_app({"scenario": "pivot", "reviews.council.interval_weeks": "3"})
    at.switch_page("app/pages/explore.py")
    at.run()
    at.session_state["ex.tab"] = "Sweep"
    at.run()
    for name, value in (("range1", "1:8"), ("points", 2), ("reps", 2)):
        widget = at.text_input if name == "range1" else at.number_input
        widget(key=f"ex.sweep.{name}").set_value(value)
    at.button(key="ex.sweep.run").click().run()
    assert_clean(at)
    spec = at.session_state["ex.sweep.applied"]["spec"]
    query = query_of(at)
    assert query["base"] == "pivot" and query["base.reviews.council.interval_weeks"] == "3"

    fresh = open_explore_link(query)
    assert_clean(fresh)
    assert not fresh.warning
    assert fresh.session_state["ex.sweep.applied"]["spec"] == spec
    assert fresh.selectbox(key="ex.sweep.base").value == LINKED["base"]
    assert "From the link: Pivot" in fresh.selectbox(key="ex.sweep.base").options[-1]
    assert json.loads(spec)["title"].startswith("Pivot")


def test_a_large_experiment_from_a_link_waits_for_its_run(simulations):  # noqa: F811
    at = open_explore_link({**TINY_SWEEP, "points": "25", "reps": "100"})
    assert_clean(at)
    assert sum(simulations) == 0 and not charts(at)
    assert any("runs 2,500 simulations" in i for i in texts(at.info))
    assert at.number_input(key="ex.sweep.reps").value == 100
    assert "ex.sweep.applied" not in at.session_state


def test_a_bad_link_warns_and_the_page_keeps_working(simulations):  # noqa: F811
    small = {"range1": "1:8", "points": "2", "weeks": "26"}
    at = open_explore_link({"tool": "sweep", "reps": "-4", "lever1": "nope", "zzz": "1", **small})
    assert_clean(at)
    warned = texts(at.warning)
    assert any("URL parameter reps" in w for w in warned)
    assert any("URL parameter lever1" in w for w in warned)
    assert any("URL parameter zzz" in w for w in warned)
    assert at.number_input(key="ex.sweep.reps").value == DEFAULTS["sweep"]["reps"]
    # The link's inputs (defaults where they were bad) ran; a Run of the user's drops the warnings.
    at.number_input(key="ex.sweep.reps").set_value(2)
    at.button(key="ex.sweep.run").click().run()
    assert_clean(at)
    assert not [w for w in texts(at.warning) if w.startswith("URL parameter")]
    assert charts(at)
