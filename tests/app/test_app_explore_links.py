"""Links to an Explore experiment: query parameters and back (pure), and opening one in the app."""

from __future__ import annotations

import json
import re

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
        ({"range1": "1," * 1001}, "range1", "0.5,1,2,4,8,16", "at most 2,000 characters"),
        ({"range1": "1:8\x07"}, "range1", "0.5,1,2,4,8,16", "without control characters"),
        ({"range1": "1:8\u200b"}, "range1", "0.5,1,2,4,8,16", "without control characters"),
        ({"base": "no-such-preset"}, "base", "council-only-drift", "a preset (aligned-baseline"),
        ({"variant": "pivot"}, "variant", None, "not an input of the sweep"),
    ],
)
def test_a_bad_value_is_named_with_what_is_allowed_and_its_input_keeps_its_default(
    query, name, expected, said
):
    link, warnings = decode_explore({"tool": "sweep", **query})
    assert len(warnings) == 1, warnings
    assert warnings[0].startswith(f"URL parameter {name}") and said in warnings[0]
    if expected is not None:
        assert (link.tool if name == "tool" else link.values[name]) == expected
    if name == "base":
        assert "Starting from council-only-drift instead" in warnings[0]


def test_anything_the_form_takes_a_link_takes():
    long_range = ",".join(f"{v / 100:.2f}" for v in range(1, 51))  # 50 values, 249 characters
    values = {
        **DEFAULTS["sweep"],
        "lever1": "org.discovery_share",
        "range1": long_range,
        "range2": "1:8\u00a0",  # a no-break space, as pasted from a document
    }
    link, warnings = decode_explore(encode_explore("sweep", values, {}))
    assert warnings == [] and link.values == values
    changes = {**DEFAULTS["attribution"], "changes": "reviews.council.interval_weeks=8\t"}
    link, warnings = decode_explore(encode_explore("attribution", changes, {}))
    assert warnings == [] and link.values == changes


@pytest.mark.parametrize(
    "name", ["base.foo", "base.Reviews.council.interval_weeks", "base.reviews"]
)
def test_a_spelled_out_setting_that_does_not_exist_is_named_and_ignored(name):
    link, warnings = decode_explore({"tool": "sweep", "base": "pivot", name: "1", "reps": "3"})
    assert len(warnings) == 1 and warnings[0].startswith(f"URL parameter {name}")
    assert warnings[0].endswith("it was ignored.") and "Params(" not in warnings[0]
    assert link.values["base"] == "pivot" and link.setups == {}  # nothing left to spell out
    assert link.values["reps"] == 3


def test_the_baseline_as_variant_has_no_settings_of_its_own():
    query = {"tool": "attribution", "variant": "baseline", "variant.org.discovery_share": "0.2"}
    link, warnings = decode_explore(query)
    assert link.values["variant"] == "" and link.setups == {}
    assert warnings == [
        "URL parameters variant.* were ignored: variant = baseline is the baseline itself, which "
        "has no settings of its own."
    ]


def test_an_unknown_name_is_ignored_with_the_closest_input():
    link, warnings = decode_explore({"tool": "sweep", "rep": "4", "colour": "red"})
    assert warnings[0] == (
        "URL parameter rep is not an input of the sweep (did you mean reps?); it was ignored."
    )
    assert "it takes tool, base, lever1" in warnings[1]
    assert link.values == DEFAULTS["sweep"]


def test_a_long_name_or_value_is_quoted_cut_short():
    _, warnings = decode_explore({"tool": "sweep", "x" * 5000: "1", "range1": "1," * 1500})
    assert all(len(w) < 400 for w in warnings), [len(w) for w in warnings]
    assert all(re.search(r"… \([\d,]+ characters\)", w) for w in warnings[:2]), warnings


def test_an_empty_title_is_no_title():
    link, warnings = decode_explore({"tool": "sweep", "base": "pivot", "base.title": ""})
    assert link.values["base"] == "pivot" and link.setups == {} and warnings == []


def test_a_pinned_baselines_link_travels_without_its_prefix(simulations):  # noqa: F811
    """The Sandbox titles a pinned baseline "Baseline: Aligned baseline"; its link names the preset
    alone (the preset's own title needs no title=), and it reopens as "From the link: Aligned…"."""
    at = open_app({"scenario": "sales-led-drift", "base": "aligned-baseline"})
    at.switch_page("app/pages/explore.py").run()
    at.session_state["ex.tab"] = "Attribution"
    at.run()
    assert at.selectbox(key="ex.attribution.base").value == "sandbox-baseline"
    at.number_input(key="ex.attribution.reps").set_value(1)
    at.button(key="ex.attribution.run").click().run()
    assert_clean(at)
    query = query_of(at)
    assert query["base"] == "aligned-baseline" and "base.title" not in query
    assert query["variant"] == "sales-led-drift"


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
    for text in ("", " ", "\x00", "1e999", "nan", "-1", "é" * 300, "=1+1", "[]", "1:8\n2"):
        names = ("tool", *DEFAULTS["optimisation"], "base", "base.title", "base.x", "base.org")
        for name in (*names, "base.org.wip_limit_per_team", "base.reviews.council.enabled"):
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


def test_the_link_is_that_of_the_results_shown(simulations):  # noqa: F811
    at = open_explore_link(TINY_SWEEP)
    shown = query_of(at)
    assert shown == TINY_SWEEP and charts(at)
    # A refused Run leaves the results, and their link, as they were.
    at.text_input(key="ex.sweep.range1").set_value("1:999")
    at.button(key="ex.sweep.run").click().run()
    assert_clean(at)
    assert texts(at.error) and charts(at)
    assert query_of(at) == shown
    assert next(c.value for c in at.code if "tool=sweep" in c.value).endswith("weeks=26")


def test_the_link_keeps_the_sandbox_settings_it_ran_with(simulations):  # noqa: F811
    at = open_app({"scenario": "pivot", "reviews.council.attendees_per_team": "5"})
    at.switch_page("app/pages/explore.py").run()
    at.text_input(key="ex.sweep.range1").set_value("1:8")
    at.number_input(key="ex.sweep.points").set_value(2)
    at.number_input(key="ex.sweep.reps").set_value(1)
    at.button(key="ex.sweep.run").click().run()
    ran = query_of(at)
    assert ran["base"] == "pivot" and ran["base.reviews.council.attendees_per_team"] == "5"
    at.switch_page("app/pages/sandbox.py").run()
    at.selectbox(key="sb.preset").set_value("demand-shock").run()
    assert at.session_state["sb.applied"]["setup"]["preset"] == "demand-shock"
    at.switch_page("app/pages/explore.py").run()
    assert_clean(at)
    assert query_of(at) == ran  # the chart still shows the pivot's sweep


def test_a_first_visit_leaves_the_address_bare_until_something_runs(simulations):  # noqa: F811
    at = AppTest.from_file(APP, default_timeout=120)
    at.switch_page("app/pages/explore.py")
    at.run()
    assert query_of(at) == {} and sum(simulations) == 0
    assert not [c for c in at.code if "tool=" in c.value]


def test_the_kpi_shown_outlives_a_visit_to_another_tab_and_page(simulations):  # noqa: F811
    at = open_explore_link(TINY_SWEEP)
    at.selectbox(key="ex.sweep.kpi").set_value("lead_time_days").run()
    assert query_of(at)["kpi"] == "lead_time_days"
    at.session_state["ex.tab"] = "Attribution"
    at.run()
    at.session_state["ex.tab"] = "Sweep"
    at.run()
    assert at.selectbox(key="ex.sweep.kpi").value == "lead_time_days"
    at.switch_page("app/pages/sandbox.py").run()
    at.switch_page("app/pages/explore.py").run()
    assert_clean(at)
    assert at.selectbox(key="ex.sweep.kpi").value == "lead_time_days"
    assert query_of(at)["kpi"] == "lead_time_days"


def test_a_links_variant_is_offered_only_as_a_variant(simulations):  # noqa: F811
    query = {
        "tool": "attribution",
        "variant": "pivot",
        "variant.reviews.council.interval_weeks": "3",
        "reps": "1",
        "weeks": "40",
        "changes": "",
    }
    at = open_explore_link(query)
    assert_clean(at)
    label = "Variant from the link: Pivot: the market moves (modified)"
    assert at.selectbox(key="ex.attribution.variant").options[-1] == label
    assert at.selectbox(key="ex.attribution.variant").value == LINKED["variant"]
    for picker in ("ex.attribution.base", "ex.sweep.base", "ex.optimisation.base"):
        assert not [o for o in at.selectbox(key=picker).options if "from the link" in o]
