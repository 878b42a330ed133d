"""The Explore page under AppTest, its run machinery (progress, Stop, executors), and its charts.

Every run here is tiny (a few replications over 26 weeks), so it stays in the test process.
"""

from __future__ import annotations

import html
import json
import re
import threading
import warnings

import numpy as np
import pandas as pd
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from app import explore
from app.explore_results import ATTRIBUTION_UNCLEAR
from sim.executors import SCHEDULER_ENV, SerialExecutor
from sim.explore import ModelEvaluator, attribute, parse_lever, sweep
from sim.outcomes import KPIS
from sim.params import ParamError
from sim.report import explore_charts as ec
from sim.report.charts import BASELINE_COLOR, VARIANT_COLOR
from sim.scenarios import load_preset

from .helpers import APP, assert_clean, open_app, texts

TINY = {"reps": 2, "weeks": 26}
GRID = {"range1": "1:8"}  # an evenly spaced grid (the default sweep lists six values)


def open_explore() -> AppTest:
    """A session opened on the Explore page."""
    at = AppTest.from_file(APP, default_timeout=120)
    at.switch_page("app/pages/explore.py")
    return at.run()


def set_inputs(at: AppTest, tool: str, **values) -> None:
    """Set a tool's form inputs by name (number inputs, text, selections)."""
    for name, value in values.items():
        key = f"ex.{tool}.{name}"
        widget = at.get("number_input") + at.get("text_input") + at.get("text_area")
        widget += at.get("selectbox") + at.get("radio")
        matches = [w for w in widget if getattr(w, "key", None) == key]
        assert matches, f"no input {key}"
        matches[0].set_value(value)


def run_tool(at: AppTest, tool: str, **values) -> AppTest:
    """Open the tool's tab, set its inputs and press its Run button."""
    at.session_state["ex.tab"] = explore.TOOL_NAMES[tool]
    at.run()
    set_inputs(at, tool, **values)
    return at.button(key=f"ex.{tool}.run").click().run()


def charts(at: AppTest) -> list[dict]:
    return [json.loads(c.proto.spec) for c in at.get("vega_lite_chart")]


def marks(spec: dict) -> list[str]:
    return [layer["mark"]["type"] for layer in spec["layer"]]


def errors(at: AppTest) -> list[str]:
    return texts(at.error)


@pytest.fixture
def simulations(monkeypatch) -> list[int]:
    """Counts every replication simulated in this process (the page's tiny runs stay here)."""
    st.cache_data.clear()
    calls: list[int] = []
    real = ModelEvaluator.evaluate

    def counting(self, points, seed, start, stop):
        calls.append(len(points) * (stop - start))
        return real(self, points, seed, start, stop)

    monkeypatch.setattr(ModelEvaluator, "evaluate", counting)
    return calls


# --------------------------------------------------------------------------------------------------
# The page
# --------------------------------------------------------------------------------------------------


def test_page_opens_with_four_tools_and_nothing_run(simulations):
    at = open_explore()
    assert_clean(at)
    assert at.title[0].value.startswith("Explore")
    assert [t.label for t in at.tabs] == ["Sweep", "Sensitivity", "Attribution", "Optimisation"]
    assert any("press **Run sweep**" in i for i in texts(at.info))
    for tool in explore.TOOLS:
        assert at.button(key=f"ex.{tool}.run")
    assert not charts(at)
    assert sum(simulations) == 0


def test_the_sandbox_settings_are_the_starting_point_once_the_sandbox_was_opened(simulations):
    at = open_app({"scenario": "pivot"})  # the Sandbox runs the pivot preset first
    ran = sum(simulations)
    at.switch_page("app/pages/explore.py")
    at.run()
    assert_clean(at)
    base = at.selectbox(key="ex.sweep.base")
    assert base.value == "sandbox" and "sandbox" in base.options[-1].lower()
    at = run_tool(at, "sweep", points=2, reps=2, weeks=26, **GRID)
    # The pivot's shift falls after 26 weeks (named as the lever picker names it).
    assert "Shift at week (market.shift_week) = 30 is not allowed" in errors(at)[0]
    at = run_tool(at, "sweep", weeks=52)
    assert_clean(at)
    assert not errors(at) and len(charts(at)) == 1
    # The numbers differ from the Sandbox's tiles, and the results say why.
    reps = at.session_state["sb.applied"]["replications"]
    assert (
        f"The Sandbox's numbers come from 104 weeks and {reps} replications; this ran 52 weeks and 2 "
        "replications, so the same settings need not give the same numbers here."
    ) in texts(at.caption)
    spec = json.loads(at.session_state["ex.sweep.applied"]["spec"])
    assert spec["title"].startswith("Pivot") and spec["base"]["market.shift_enabled"] is True
    assert sum(simulations) - ran == 4


def test_a_result_says_where_it_ran_otherwise_than_the_sandbox():
    ran = {"horizon_weeks": 52, "seed": 1, "replications": 20, "experiment": "sweep"}
    assert explore.sandbox_note(ran, None) == ""  # the Sandbox has not run
    assert explore.sandbox_note(ran, (52, 1, 20)) == ""
    assert explore.sandbox_note(ran, (104, 1, 20)).startswith(
        "The Sandbox's numbers come from 104 weeks; this ran 52 weeks, so"
    )
    assert explore.sandbox_note(ran, (104, 3, 100)).startswith(
        "The Sandbox's numbers come from 104 weeks, seed 3 and 100 replications; this ran 52 "
        "weeks, seed 1 and 20 replications, so"
    )
    # An optimisation's rounds run more and more replications: only horizon and seed are compared.
    assert explore.sandbox_note({**ran, "experiment": "optimisation"}, (52, 1, 100)) == ""


def test_sweep_runs_with_a_chart_table_caption_and_csv(simulations):
    at = run_tool(open_explore(), "sweep", points=3, **GRID, **TINY)
    assert_clean(at)
    assert not errors(at)
    (spec,) = charts(at)
    assert marks(spec) == ["area", "line", "point"]
    assert spec["layer"][1]["encoding"]["x"]["title"] == "Council interval (weeks)"
    table = at.dataframe[0].value
    assert table.columns[0] == "Council interval (weeks)"
    assert list(table["Council interval (weeks)"]) == ["1", "4.5", "8"]
    caption = " ".join(texts(at.caption))
    assert "6 simulations: 3 grid points × 2 replications" in caption
    assert "in the app's own process" in caption
    assert sum(simulations) == 6
    assert at.get("download_button")


def test_two_levers_draw_a_heatmap(simulations):
    at = run_tool(
        open_explore(),
        "sweep",
        points=2,
        lever2="incentives.product",
        range2="shared_outcome,local_metric",
        **GRID,
        **TINY,
    )
    assert_clean(at)
    (spec,) = charts(at)
    assert marks(spec) == ["rect", "text"]
    assert spec["layer"][0]["encoding"]["color"]["field"] == "mean"
    assert len(at.dataframe[0].value) == 4
    assert sum(simulations) == 8


def test_changing_the_kpi_redraws_without_simulating(simulations):
    at = run_tool(open_explore(), "sweep", points=3, **GRID, **TINY)
    ran = sum(simulations)
    assert ran == 6
    before = charts(at)[0]["layer"][1]["encoding"]["y"]["title"]
    at.selectbox(key="ex.sweep.kpi").set_value("meeting_overhead_share").run()
    assert_clean(at)
    after = charts(at)[0]["layer"][1]["encoding"]["y"]["title"]
    assert (before, after) == ("Value delivered (value points)", "Meeting overhead (%)")
    at.selectbox(key="ex.sweep.kpi").set_value("retention_52w").run()
    assert any("no value here" in i for i in texts(at.info))  # 26 weeks: no 52-week retention
    assert sum(simulations) == ran


def test_a_year_old_kpi_at_a_short_horizon_says_which_sign_ups_it_counts(simulations):
    at = run_tool(open_explore(), "sweep", points=3, reps=1, weeks=53, **GRID)
    at.selectbox(key="ex.sweep.kpi").set_value("retention_52w").run()
    assert_clean(at)
    assert any("signed up in the first 2 weeks" in c for c in texts(at.caption)), texts(at.caption)


@pytest.mark.parametrize(
    ("lever", "text", "expected"),
    [
        ("reviews.council.interval_weeks", "8:1", "lo ≥ hi"),
        ("reviews.council.interval_weeks", "0:100", "is out of range"),
        ("reviews.council.interval_weeks", "", "is empty"),
        ("incentives.sales", "1:3", "a range needs a numeric setting"),
        # Choices as the page writes them, which it also takes typed.
        ("incentives.sales", "bribes,local_metric", "one of shared outcome, mixed, local metric"),
        ("incentives.sales", "0.5,1", "= '0.5,1' is not allowed: one of shared outcome, mixed, "),
        # Named as the picker names the setting, with the unit of its range.
        (
            "reviews.council.interval_weeks",
            "nan,1",
            "Product council every (weeks; reviews.council.interval_weeks) = 'nan,1' is not a "
            "finite number: 0.5 to 52 weeks.",
        ),
        ("reviews.council.interval_weeks", "a,b", "= 'a' is not a number: 0.5 to 52 weeks."),
        ("incentives.sales", "1:3", "Sales is paid on (incentives.sales) = '1:3' is not numeric"),
    ],
)
def test_bad_ranges_and_levers_are_refused_in_one_line(simulations, lever, text, expected):
    at = run_tool(open_explore(), "sweep", lever1=lever, range1=text, **TINY)
    assert_clean(at)
    (message,) = errors(at)
    assert message.startswith("Not run: ") and expected in message, message
    assert "\n" not in message and "Traceback" not in message
    assert not charts(at)
    assert sum(simulations) == 0


def test_grid_points_are_not_checked_when_no_range_takes_them(simulations):
    """Listed values are the points themselves, as the caption says: the box is not read."""
    at = run_tool(open_explore(), "sweep", points=1, range1="1,4", **TINY)
    assert_clean(at)
    assert not errors(at) and sum(simulations) == 2 * 2
    at = run_tool(at, "sweep", points=1, **GRID, **TINY)
    assert "Grid points (numeric levers) = 1 is out of range" in errors(at)[0]


@pytest.mark.parametrize(
    ("tool", "inputs", "expected"),
    [
        ("sweep", {"points": 500, **GRID}, "Grid points (numeric levers) = 500 is out of range"),
        ("sweep", {"reps": 0}, "Replications per point = 0 is out of range: a whole number from 1"),
        (
            "optimisation",
            {"candidates": 1},
            "Candidates = 1 is out of range: a whole number from 2",
        ),
        ("attribution", {"weeks": 9999}, "Horizon (weeks) = 9,999 is out of range"),
        ("sweep", {"seed": 99_999_999_999_999}, "Seed = 99,999,999,999,999 is out of range"),
        # Samples: the method's own range, within the app's (once both were named, differently).
        (
            "sensitivity",
            {"method": "sobol", "samples": 3, "lever3": ""},
            "Samples = 3 is out of range: a whole number from 4 to 4,096.",
        ),
        (
            "sensitivity",
            {"method": "morris", "samples": 2000, "lever3": ""},
            "Samples = 2,000 is out of range: a whole number from 2 to 1,000.",
        ),
    ],
)
def test_whole_numbers_out_of_range_are_named_with_their_range(simulations, tool, inputs, expected):
    """The number boxes take any number, so that Run can name the range (a bounded box keeps an
    out-of-range value in the browser, and Run seems to do nothing)."""
    at = run_tool(open_explore(), tool, **{**TINY, **inputs})
    assert_clean(at)
    (message,) = errors(at)
    assert message.startswith(f"Not run: {expected}"), message
    assert not charts(at) and sum(simulations) == 0


def test_a_refusal_quotes_the_input_as_text_not_markdown(simulations):
    typed = "![x](https://evil.example/t.png) [click me](https://evil.example)"
    at = run_tool(open_explore(), "sweep", range1=typed, **TINY)
    assert_clean(at)
    (message,) = (e.value for e in at.error)  # as sent to the page, before Markdown
    # Every markup character is a character reference: no image, no link.
    assert "![" not in message and "](" not in message and "&#91;click me&#93;" in message
    assert typed in errors(at)[0]  # and the reader sees what was typed
    assert sum(simulations) == 0


def test_an_unknown_lever_is_refused_with_a_suggestion(simulations, monkeypatch):
    # A key typed into the lever picker arrives as a new option; offer one so AppTest can pick it.
    real = explore.lever_keys
    monkeypatch.setattr(
        explore, "lever_keys", lambda numeric_only=False: [*real(numeric_only), "reviews.councl"]
    )
    at = run_tool(open_explore(), "sweep", lever1="reviews.councl", range1="1:8", **TINY)
    assert_clean(at)
    (message,) = errors(at)
    assert "reviews.councl = '1:8' is not a setting" in message
    assert "did you mean" in message
    assert sum(simulations) == 0


def test_a_refused_request_keeps_the_previous_results(simulations):
    at = run_tool(open_explore(), "sweep", points=3, **GRID, **TINY)
    set_inputs(at, "sweep", range1="9:2")
    at.button(key="ex.sweep.run").click().run()
    assert_clean(at)
    assert "lo ≥ hi" in errors(at)[0]
    assert len(charts(at)) == 1  # the last good results stay on the page
    assert sum(simulations) == 6


def test_sensitivity_morris_ranks_levers_with_intervals(simulations):
    at = run_tool(
        open_explore(), "sensitivity", lever3="", samples=2, reps=1, weeks=26
    )  # two levers: (2 + 1) × 2 design points × 1 replication
    assert_clean(at)
    (spec,) = charts(at)
    assert marks(spec) == ["bar", "rule"]
    assert "μ*" in spec["layer"][0]["encoding"]["x"]["title"]
    ranked = at.dataframe[0].value
    assert list(ranked["Rank"]) == [1, 2]
    assert set(ranked["Lever"]) == {
        "Council interval (weeks)",
        "Discovery time (share of capacity)",
    }
    assert "Morris screening, 6 design points × 1 replication ·" in " ".join(texts(at.caption))
    assert sum(simulations) == 6
    at.selectbox(key="ex.sensitivity.kpi").set_value("mean_alignment").run()
    assert "mean alignment" in charts(at)[0]["title"]["text"]
    assert sum(simulations) == 6


def test_sobol_needs_a_power_of_two_and_then_runs(simulations):
    at = run_tool(
        open_explore(), "sensitivity", method="sobol", lever3="", samples=6, reps=1, weeks=26
    )
    assert "Samples = 6 is not a power of two" in errors(at)[0]
    assert sum(simulations) == 0
    set_inputs(at, "sensitivity", samples=4)
    at.button(key="ex.sensitivity.run").click().run()
    assert_clean(at)
    assert not errors(at)
    (spec,) = charts(at)
    assert marks(spec) == ["bar", "rule", "tick"]
    assert sum(simulations) == 4 * 4  # N × (levers + 2)
    # Four base samples are far too few: the page says the indices are noise, not shares.
    assert any("Too few samples for these Sobol indices" in w for w in texts(at.warning))
    assert any("Raise Samples (Sobol's base samples N;" in w for w in texts(at.warning))
    assert any("ticks: the first-order index S1" in c for c in texts(at.caption))


def test_attribution_explains_a_difference_with_a_waterfall(simulations):
    at = run_tool(open_explore(), "attribution", **TINY)
    assert_clean(at)
    sentence = [i for i in texts(at.info) if "value delivered" in i]
    assert sentence and "council interval" in sentence[0], texts(at.info)
    # Two paired replications: the split is given, with the Sandbox's caution about so few.
    assert sentence[0].endswith(
        " From 2 paired runs, too few to call a difference: run at least 5 replications before "
        "reading much into the split."
    )
    (spec,) = charts(at)
    assert marks(spec) == ["bar", "rule"]
    table = at.dataframe[0].value
    assert table["Lever"].iloc[-1] == "Total difference (variant − baseline)"
    assert set(table["Setting"].iloc[:-1]) == {"incentives.sales", "reviews.council.interval_weeks"}
    assert sum(simulations) == 4 * 2  # every subset of two changes × 2 replications
    at.selectbox(key="ex.attribution.kpi").set_value("mean_alignment").run()
    assert any("mean alignment" in i for i in texts(at.info))
    assert sum(simulations) == 8


def test_attribution_cautions_when_the_difference_it_splits_may_be_none(simulations):
    at = run_tool(open_explore(), "attribution", **{**TINY, "reps": 8})
    seen = set()
    for kpi in ("value_delivered", "mean_alignment", "lead_time_days", "meeting_overhead_share"):
        at.selectbox(key="ex.attribution.kpi").set_value(kpi).run()
        label = KPIS[kpi].label.lower()
        (said,) = [i for i in texts(at.info) if label in i.lower()]
        caption = next(c for c in texts(at.caption) if "paired difference" in c)
        lo, hi = re.search(r"95% CI ([−+])\S+ .*?to ([−+])\S+", caption).groups()
        spans_zero = lo == "−" and hi == "+"
        assert said.endswith(ATTRIBUTION_UNCLEAR) is spans_zero, (said, caption)
        seen.add(spans_zero)
    assert seen == {True, False}  # both cases met: clear (alignment) and not (value)


def test_attribution_of_a_kpi_the_changes_do_not_reach_says_no_more_than_that(simulations):
    """Revenue per customer moves no work: value delivered is the same in every pair. The page
    added "From 4 paired runs, too few to call a difference" about a difference of nothing."""
    changes = "customers.revenue_per_customer_week = 77\norg.gtm_cost_per_week = 9000"
    at = run_tool(open_explore(), "attribution", variant="", changes=changes, reps=4, weeks=52)
    assert_clean(at)

    def said(kpi: str) -> tuple[str, str]:
        at.selectbox(key="ex.attribution.kpi").set_value(kpi).run()
        label = KPIS[kpi].label.lower()
        (sentence,) = [i for i in texts(at.info) if label in i.lower()]
        caption = next(c for c in texts(at.caption) if "paired difference" in c)
        return sentence, caption

    sentence, caption = said("value_delivered")
    assert sentence == "Value delivered is unchanged (±0.0 points)."
    assert "paired difference ±0 points (95% CI ±0 points)" in caption
    assert caption.endswith("Before rounding, the contributions add up to the difference exactly.")
    # A KPI the changes do reach, from as few pairs, keeps the caution.
    sentence, _ = said("ltv_to_cac")
    assert sentence.endswith(
        " From 4 paired runs, too few to call a difference: run at least 5 "
        "replications before reading much into the split."
    )


def test_attribution_of_identical_scenarios_is_refused(simulations):
    at = run_tool(open_explore(), "attribution", variant="", changes="", **TINY)
    assert "does not differ from the baseline" in errors(at)[0]
    at = run_tool(open_explore(), "attribution", changes="reviews.council.every=8", **TINY)
    assert "did you mean Holding the council (reviews.council.enabled)?" in errors(at)[0]
    assert sum(simulations) == 0


def test_attribution_says_with_changes_only_when_a_change_changes_something():
    """A change to the value the variant already has left it as it was, yet it was titled "with
    changes"."""

    def heading(changes: str) -> str:
        at = run_tool(
            open_explore(), "attribution", variant="drifting-incentives", changes=changes, **TINY
        )
        return next(m for m in texts(at.markdown) if "(baseline) → " in m)

    own = f"incentives.sales = {load_preset('drifting-incentives').params.incentives.sales}"
    assert explore.parse_changes(own)  # a change as typed, equal to the variant's own value
    assert "Drifting incentives** " in heading(own)
    assert "Drifting incentives with changes** " in heading("reviews.council.interval_weeks=8")


def test_changed_settings_take_a_setting_by_its_name_too(simulations):
    """The changes box named settings only by key, which the page shows nowhere but in errors."""
    changes = "Sales is paid on = local_metric\nreviews.council.interval_weeks=8"
    assert explore.parse_changes(changes) == {
        "incentives.sales": "local_metric",
        "reviews.council.interval_weeks": 8.0,
    }
    at = run_tool(open_explore(), "attribution", changes="Pay of the moon = 1", **TINY)
    (message,) = errors(at)
    assert message == (
        "Not run: Pay of the moon = '1' is not a setting: the lever picker lists every setting "
        "by name."
    )
    assert "python -m sim" not in message and sum(simulations) == 0


@pytest.mark.parametrize(
    "line",
    [
        "Council interval=8",  # the example a refusal gives, as charts and tables title it
        "Council interval (weeks) = 8",
        "Product council every=8",  # the picker's name without its unit
        "product council every (weeks)=8",
        "The council interval (weeks)=8",  # as a lesson's sentence names it
    ],
)
def test_a_setting_is_known_by_every_name_the_pages_give_it(line):
    assert explore.parse_changes(line) == {"reviews.council.interval_weeks": 8.0}


def test_a_choice_is_known_by_the_words_the_sandbox_shows():
    assert explore.parse_changes("Sales is paid on=Local metric") == {
        "incentives.sales": "local_metric"
    }
    assert explore.lever_text("Sales is paid on", "Local metric, shared outcome") == (
        "incentives.sales=local_metric,shared_outcome"
    )
    # Words that name no choice are left as typed, for the check to refuse with the choices.
    changes = explore.parse_changes("Sales is paid on=Commission")
    assert changes == {"incentives.sales": "Commission"}
    with pytest.raises(ParamError, match="one of shared_outcome, mixed, local_metric"):
        explore.params_of(changes)


def test_optimisation_shows_the_winner_its_uncertainty_and_the_candidates(simulations):
    at = run_tool(open_explore(), "optimisation", candidates=4, **TINY)
    assert_clean(at)
    assert not errors(at)
    tiles = {m.label: m for m in at.metric}
    assert set(tiles) == {"Best mean", "Against the starting point", "Against the runner-up"}
    assert tiles["Best mean"].value.endswith("points")
    # Two paired replications give no odds, as the Sandbox's tiles and the CLI give none.
    for name in ("Against the starting point", "Against the runner-up"):
        assert tiles[name].proto.delta == "2 pairs: too few to compare", name
    assert "P(better)" not in " ".join(texts(at.caption))
    winner = at.dataframe[0].value
    assert list(winner["Lever or constraint"]) == [
        "Council interval (weeks)",
        "Council attendance (people)",
        "Meeting overhead ≤ 10.0%",
    ]
    candidates = at.dataframe[1].value
    assert list(candidates["Rank"]) == [1, 2, 3, 4]
    (spec,) = charts(at)
    assert marks(spec) == ["rule", "point", "rule"]
    assert sum(simulations) == 4 * 2 + (3 + 1) * 2  # first round, then finalists + start point


def test_a_bad_constraint_is_refused(simulations):
    at = run_tool(open_explore(), "optimisation", constraints="overhead<=10%", **TINY)
    (message,) = errors(at)
    assert "Constraint = 'overhead' is not a KPI" in message
    # KPIs by the names the page shows (the box takes them as well as keys).
    assert (
        "did you mean Meeting overhead? one of 52-week retention, Median time-to-value" in message
    )
    assert "meeting_overhead_share" not in message
    assert sum(simulations) == 0


def test_the_example_a_refusal_gives_works_when_copied_from_the_page(simulations):
    at = run_tool(open_explore(), "optimisation", constraints="Meeting overhead <= abc", **TINY)
    (error,) = at.error
    # As the page draws it (and a copy takes it): "<=" holds an invisible word joiner, so that
    # Markdown does not turn it into an arrow.
    example = re.search(r"'(Meeting overhead <\u2060= 10%)'", html.unescape(error.value))
    assert example, error.value
    at = run_tool(at, "optimisation", constraints=example.group(1), candidates=4, **TINY)
    assert_clean(at)
    assert not errors(at) and sum(simulations) > 0
    winner = at.dataframe[0].value
    assert "Meeting overhead ≤ 10.0%" in list(winner["Lever or constraint"])


def test_a_stopped_run_keeps_the_previous_results(simulations):
    at = run_tool(open_explore(), "sweep", points=3, **GRID, **TINY)
    assert "seed 1 " in " ".join(texts(at.caption))
    # What an interrupted run leaves behind: a newer request applied and marked as running.
    good = at.session_state["ex.sweep.applied"]
    spec = json.loads(good["spec"])
    newer = {**good, "spec": json.dumps({**spec, "seed": 2}, sort_keys=True)}
    at.session_state["ex.sweep.applied"] = newer
    at.session_state[explore.RUNNING] = {
        "tool": "sweep",
        "spec": newer["spec"],
        "done": 4,
        "total": 6,
    }
    at.run()
    assert_clean(at)
    assert any("Stopped after 4 of 6 simulations" in i for i in texts(at.info))
    assert "seed 1 " in " ".join(texts(at.caption))  # the previous results, from the cache
    assert sum(simulations) == 6


def test_a_dask_scheduler_in_the_environment_is_used(simulations, monkeypatch):
    monkeypatch.setenv(SCHEDULER_ENV, "no-such-scheduler")
    at = run_tool(open_explore(), "sweep", points=2, **GRID, **TINY)
    assert_clean(at)
    (message,) = errors(at)
    assert message.startswith("The sweep failed: SIM_DASK_SCHEDULER = 'no-such-scheduler'")
    assert not charts(at)


@pytest.mark.slow
def test_a_sweep_runs_on_a_dask_cluster(monkeypatch):
    distributed = pytest.importorskip("distributed")
    st.cache_data.clear()
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Port 8787 is already in use")
        cluster = distributed.LocalCluster(
            processes=False,
            protocol="tcp://",
            host="127.0.0.1",
            n_workers=1,
            threads_per_worker=1,
            dashboard_address=None,
        )
    try:
        monkeypatch.setenv(SCHEDULER_ENV, cluster.scheduler_address)
        at = run_tool(open_explore(), "sweep", points=2, **GRID, **TINY)
        assert_clean(at)
        assert f"on the Dask cluster at {cluster.scheduler_address}" in " ".join(texts(at.caption))
        assert len(charts(at)) == 1
    finally:
        cluster.close()


# --------------------------------------------------------------------------------------------------
# Progress and cancel, without a server
# --------------------------------------------------------------------------------------------------


class Interrupt(BaseException):
    """Stands in for Streamlit's rerun exception, raised when the page is clicked during a run."""


class Bar:
    """A progress bar that records its updates and can raise on the n-th one."""

    def __init__(self, fail_at: int | None = None) -> None:
        self.updates: list[float] = []
        self.fail_at = fail_at

    def progress(self, value: float, text: str = "") -> None:
        self.updates.append(value)
        if self.fail_at is not None and len(self.updates) >= self.fail_at:
            raise Interrupt

    def empty(self) -> None:
        pass


def test_progress_moves_at_most_once_a_percent_and_a_rerun_sets_cancel():
    bar, cancel, interrupted = Bar(), threading.Event(), []
    report = explore.progress_callback(bar, "Sweep", cancel, interrupted)
    for done in range(0, 10_001, 5):
        report(done, 10_000)
    assert len(bar.updates) == 101 and bar.updates[-1] == 1.0
    bar = Bar(fail_at=2)
    report = explore.progress_callback(bar, "Sweep", cancel, interrupted)
    report(1, 4)
    assert not cancel.is_set()
    report(2, 4)  # the click: the exception is kept, not raised into the engine
    assert cancel.is_set() and isinstance(interrupted[0], Interrupt)
    report(3, 4)
    assert len(bar.updates) == 2


def test_a_click_during_a_run_cancels_the_engine_and_reruns_the_page(monkeypatch, simulations):
    bar = Bar(fail_at=2)
    monkeypatch.setattr(explore.st, "progress", lambda *a, **k: bar)
    monkeypatch.setattr(explore, "SERIAL_BELOW", 10**6)
    spec = {
        "title": "test",
        "base": {"horizon_weeks": 26},
        "levers": ["reviews.council.interval_weeks=1:8:8"],
        "replications": 8,
        "seed": 1,
    }
    with pytest.raises(Interrupt):
        explore._run("sweep", spec, 64)
    # The engine stopped at the next task: 2 of 8 points ran, not all 64 simulations.
    assert sum(simulations) == 16


def test_requests_are_checked_by_the_engine_before_anything_runs(simulations):
    spec = {
        "title": "t",
        "base": {"horizon_weeks": 26},
        "levers": ["reviews.council.interval_weeks=1:8:3"],
        "replications": 2,
        "seed": 1,
    }
    req = explore.request("sweep", spec)
    assert req["simulations"] == 6 and json.loads(req["spec"]) == spec
    with pytest.raises(ValueError, match="at most 20,000 from the app"):
        explore.request("sweep", {**spec, "replications": 10_000})
    with pytest.raises(ValueError, match="did you mean"):
        explore.lever_text("reviews.councl.interval_weeks", "1:8")
    assert explore.lever_text("org.wip_limit_per_team", "1:5", points=3) == (
        "org.wip_limit_per_team=1:5:3"
    )
    assert explore.parse_changes("# note\nincentives.sales = local_metric\n") == {
        "incentives.sales": "local_metric"
    }
    # A setting changed twice is refused, as a sweep's lever given twice is: not the last line wins.
    with pytest.raises(
        ParamError,
        match=r"sets this setting a second time: each setting once \(lines 1 and 2 set it\)",
    ):
        explore.parse_changes("incentives.sales=mixed\nincentives.sales=shared_outcome")
    # Invisible format characters pasted along with a value are dropped.
    assert explore.lever_text("org.wip_limit_per_team", "1:\u20605", points=3) == (
        "org.wip_limit_per_team=1:5:3"
    )
    assert explore.parse_changes("incentives.sales\u2060=\ufeffmixed") == {
        "incentives.sales": "mixed"
    }
    assert explore.parse_constraints("meeting_overhead_share<=10%") == [
        "meeting_overhead_share<=0.1"
    ]
    # A KPI may be written as the pages name it, in any case and spacing.
    assert explore.parse_constraints(
        "Meeting overhead <= 10%\nLTV / CAC>=3\nmedian  TIME-TO-VALUE < 14\n52-week retention>=30%"
    ) == [
        "meeting_overhead_share<=0.1",
        "ltv_to_cac>=3",
        "median_ttv_days<14",
        "retention_52w>=0.3",
    ]
    assert sum(simulations) == 0
    assert isinstance(explore._executor(6), SerialExecutor)


# --------------------------------------------------------------------------------------------------
# Chart builders, without a server
# --------------------------------------------------------------------------------------------------


def sweep_frame(
    key: str = "reviews.council.interval_weeks", values=(1.0, 4.5, 8.0)
) -> pd.DataFrame:
    means = np.linspace(100.0, 80.0, len(values))
    return pd.DataFrame(
        {key: list(values), "n": 8, "mean": means, "ci_lo": means - 5, "ci_hi": means + 5}
    )


def test_line_chart_has_band_line_points_units_and_tooltips():
    spec = ec.sweep_line_chart(sweep_frame(), "reviews.council.interval_weeks", "value_delivered")
    spec = spec.to_dict()
    assert marks(spec) == ["area", "line", "point"]
    area, line, points = spec["layer"]
    assert (area["encoding"]["y"]["field"], area["encoding"]["y2"]["field"]) == ("ci_lo", "ci_hi")
    assert line["encoding"]["x"] == {
        "field": "a",
        "type": "quantitative",
        "title": "Council interval (weeks)",
        "scale": {"nice": False, "zero": False, "padding": 10},
        "axis": {"values": [1.0, 4.5, 8.0], "format": ",~f"},
    }
    assert line["encoding"]["y"]["title"] == "Value delivered (value points)"
    tips = {t["title"]: t["field"] for t in points["encoding"]["tooltip"]}
    assert tips["95% confidence interval"] == "ci_text"
    # The band says the same on hover: it gave its raw ends ("ci_hi 0.446391675341").
    assert area["encoding"]["tooltip"] == points["encoding"]["tooltip"]
    rows = next(iter(spec["datasets"].values()))
    assert rows[0]["mean_text"] == "100 points" and rows[0]["ci_text"] == "95 to 105 points"
    assert spec["usermeta"]["embedOptions"]["renderer"] == "svg"


def test_a_sweep_over_large_values_reads_them_without_exponents():
    """Sales and marketing cost from 1,000 to 10,000,000 read "1e+7" on the axis and "5e+06" in
    the numbers behind the chart."""
    frame = sweep_frame("org.gtm_cost_per_week", (1000.0, 5_000_500.0, 10_000_000.0))
    spec = ec.sweep_line_chart(frame, "org.gtm_cost_per_week", "value_delivered").to_dict()
    assert spec["layer"][1]["encoding"]["x"]["axis"]["format"] == ",~f"
    assert [r["a_text"] for r in next(iter(spec["datasets"].values()))] == [
        "1000", "5,000,500", "10,000,000"
    ]  # fmt: skip


def test_values_spread_in_ratio_get_a_log_axis_with_a_tick_each():
    values = (0.5, 1.0, 2.0, 4.0, 8.0, 16.0)
    frame = sweep_frame(values=values)
    spec = ec.sweep_line_chart(frame, "reviews.council.interval_weeks", "value_delivered")
    x = spec.to_dict()["layer"][1]["encoding"]["x"]
    assert x["scale"] == {"type": "log", "nice": False, "padding": 10}
    assert x["axis"]["values"] == list(values)
    assert x["title"] == "Council interval (weeks, log scale)"


@pytest.mark.parametrize(
    ("values", "log"),
    [
        ((0.5, 1, 2, 4, 8, 16), True),
        ((1, 2, 4, 8), True),
        ((1, 3.75, 6.5, 9.25, 12), False),  # evenly spaced: linear
        ((1, 2, 4), False),  # a ratio under 8
        ((0, 1, 2, 4, 8, 16), False),  # zero has no place on a log axis
        ((1, 16), False),  # two points
        ((1, 2, 3, 4, 5, 6, 7, 8, 9, 10), False),
    ],
)
def test_log_axis_only_for_positive_values_spread_in_ratio(values, log):
    assert ec.geometric(values) is log


def test_many_grid_values_keep_the_default_ticks():
    values = tuple(float(v) for v in range(1, 15))
    spec = ec.sweep_line_chart(
        sweep_frame("org.wip_limit_per_team", values), "org.wip_limit_per_team", "lead_time_days"
    )
    x = spec.to_dict()["layer"][1]["encoding"]["x"]
    assert "values" not in x.get("axis", {})


def test_listed_values_draw_dots_with_intervals_in_order():
    frame = sweep_frame("incentives.sales", ("shared_outcome", "mixed", "local_metric"))
    spec = ec.sweep_line_chart(frame, "incentives.sales", "retention_52w").to_dict()
    assert marks(spec) == ["rule", "point"]
    x = spec["layer"][1]["encoding"]["x"]
    assert x["field"] == "a_text" and x["sort"] == ["shared outcome", "mixed", "local metric"]
    y = spec["layer"][1]["encoding"]["y"]
    assert y["title"] == "52-week retention (%)" and y["axis"]["format"] == ".0%"


def test_heatmap_is_brighter_where_better_with_labels_and_units():
    grid = pd.DataFrame(
        {
            "reviews.council.interval_weeks": [1.0, 1.0, 8.0, 8.0],
            "incentives.product": ["shared_outcome", "local_metric"] * 2,
            "n": 4,
            "mean": [10.0, 20.0, 30.0, 40.0],
            "ci_lo": [9.0, 19.0, 29.0, 39.0],
            "ci_hi": [11.0, 21.0, 31.0, 41.0],
        }
    )
    levers = ["reviews.council.interval_weeks", "incentives.product"]
    spec = ec.sweep_heatmap(grid, levers, "lead_time_days").to_dict()
    cells, labels = spec["layer"]
    assert (cells["mark"]["type"], labels["mark"]["type"]) == ("rect", "text")
    color = cells["encoding"]["color"]
    assert color["scale"] == {"scheme": "viridis", "reverse": True}  # lower lead time is better
    assert color["legend"]["title"][0] == "Lead time (days)"
    assert cells["encoding"]["y"]["title"] == "Council interval (weeks)"
    assert cells["encoding"]["x"]["title"] == "Product teams' incentive"
    rows = next(iter(spec["datasets"].values()))
    light = {r["mean"]: r["light_cell"] for r in rows}
    assert light[10.0] and not light[40.0]  # the shortest lead time is the brightest cell
    spec = ec.sweep_heatmap(grid, levers, "value_delivered").to_dict()
    assert spec["layer"][0]["encoding"]["color"]["scale"]["reverse"] is False
    # Shares within a few points of each other keep a decimal, so legend labels differ.
    shares = grid.assign(mean=[0.312, 0.314, 0.315, 0.316], ci_lo=0.30, ci_hi=0.33)
    legend = ec.sweep_heatmap(shares, levers, "retention_52w").to_dict()["layer"][0]
    assert legend["encoding"]["color"]["legend"]["format"] == ".1%"
    wide = shares.assign(mean=[0.1, 0.2, 0.3, 0.4])
    legend = ec.sweep_heatmap(wide, levers, "retention_52w").to_dict()["layer"][0]
    assert legend["encoding"]["color"]["legend"]["format"] == ".0%"


def ranked(method: str) -> pd.DataFrame:
    base = {"rank": [1, 2], "lever": ["org.discovery_share", "reviews.council.interval_weeks"]}
    if method == "morris":
        return pd.DataFrame(
            {
                **base,
                "mu_star": [0.03, 0.01],
                "mu_star_conf": [0.01, 0.005],
                "mu": [-0.029, 0.002],
                "sigma": [0.02, 0.01],
            }
        )
    return pd.DataFrame(
        {**base, "S1": [0.5, 0.1], "S1_conf": [0.1, 0.1], "ST": [0.7, 0.2], "ST_conf": [0.1, 0.1]}
    )


def test_sensitivity_chart_ranks_levers_with_intervals_and_units():
    spec = ec.sensitivity_chart(ranked("morris"), "morris", "retention_52w").to_dict()
    bars, rules = spec["layer"]
    assert (bars["mark"]["type"], rules["mark"]["type"]) == ("bar", "rule")
    # The interval's line reads across its bar: a light bar under a dark line, not grey on blue.
    assert bars["mark"]["opacity"] <= 0.5 and rules["mark"]["color"] != BASELINE_COLOR
    assert bars["encoding"]["x"]["title"] == (
        "μ*: mean absolute effect on 52-week retention (percentage points)"
    )
    assert bars["encoding"]["y"]["sort"] == [
        "Discovery time (share of capacity)",
        "Council interval (weeks)",
    ]
    rows = next(iter(spec["datasets"].values()))
    assert rows[0]["value"] == pytest.approx(3.0) and rows[0]["ci_text"] == "2.00 to 4.00 points"
    # Which way: discovery's effects are nearly all negative, the council's of both signs.
    assert [r["direction_text"] for r in rows] == [
        "52-week retention falls",
        "either way (effects of both signs)",
    ]
    table = ec.sensitivity_table(ranked("morris"), "morris", "retention_52w")
    assert list(table["As the lever is raised"]) == [r["direction_text"] for r in rows]
    sentence = ec.describe_sensitivity(ranked("morris"), "morris", "retention_52w")
    assert (
        "discovery time 3.00 points (2.00 to 4.00 points), raising it lowers 52-week retention"
        in (sentence)
    )
    assert (
        "council interval 1.00 points (0.50 to 1.50 points), with effects of both signs" in sentence
    )
    spec = ec.sensitivity_chart(ranked("sobol"), "sobol", "value_delivered").to_dict()
    assert marks(spec) == ["bar", "rule", "tick"]
    # An interval reaching below zero (sampling noise) is written with a true minus.
    noisy = ranked("sobol").assign(ST_conf=[0.1, 0.3])
    rows = next(
        iter(ec.sensitivity_chart(noisy, "sobol", "value_delivered").to_dict()["datasets"].values())
    )
    assert [r["ci_text"] for r in rows] == ["60% to 80%", "−10% to 50%"]
    assert spec["layer"][0]["encoding"]["x"]["axis"]["format"] == ".0%"
    assert spec["layer"][0]["encoding"]["x"]["title"] == "Share of the variance of value delivered"


def waterfall_steps(deltas: tuple[float, float], base: float) -> pd.DataFrame:
    end = base + sum(deltas)
    return pd.DataFrame(
        {
            "step": [0, 1, 2, 3],
            "name": ["baseline", "incentives.sales", "reviews.council.interval_weeks", "variant"],
            "label": ["baseline", "sales' incentive", "the council interval", "variant"],
            "kind": ["baseline", "lever", "lever", "variant"],
            "delta": [base, *deltas, end],
            "start": [0.0, base, base + deltas[0], 0.0],
            "end": [base, base + deltas[0], end, end],
            "ci_lo": [np.nan, deltas[0] - 1, deltas[1] - 1, np.nan],
            "ci_hi": [np.nan, deltas[0] + 1, deltas[1] + 1, np.nan],
        }
    )


def test_waterfall_colours_contributions_by_whether_they_help():
    spec = ec.waterfall_chart(waterfall_steps((-4.0, 2.0), 10.0), "value_delivered").to_dict()
    assert marks(spec) == ["bar", "rule"]
    bars = spec["layer"][0]
    assert (bars["encoding"]["y"]["field"], bars["encoding"]["y2"]["field"]) == ("start", "end")
    assert bars["encoding"]["y"]["title"] == "Value delivered (value points)"
    assert bars["encoding"]["x"]["sort"] == [
        "Baseline",
        "Sales' incentive",
        "Council interval",
        "Variant",
    ]
    scale = bars["encoding"]["color"]["scale"]
    colours = dict(zip(scale["domain"], scale["range"], strict=True))
    assert colours == {
        "Baseline": BASELINE_COLOR,
        "Better": ec.BETTER_COLOR,
        "Worse": ec.WORSE_COLOR,
        "Variant": VARIANT_COLOR,
    }
    rows = {r["what"]: r for r in next(iter(spec["datasets"].values()))}
    assert rows["Sales' incentive"]["effect"] == "Worse"
    assert rows["Sales' incentive"]["delta_text"] == "−4 points"
    # Lower is better for lead time: the same signs swap colours.
    spec = ec.waterfall_chart(waterfall_steps((-4.0, 2.0), 10.0), "lead_time_days").to_dict()
    rows = {r["what"]: r for r in next(iter(spec["datasets"].values()))}
    assert rows["Sales' incentive"]["effect"] == "Better"
    assert "subtitle" not in spec["title"]


def test_waterfall_far_from_zero_says_its_axis_does_not_start_at_zero():
    spec = ec.waterfall_chart(waterfall_steps((5.0, 3.0), 2000.0), "value_delivered").to_dict()
    scale = spec["layer"][0]["encoding"]["y"]["scale"]
    assert scale["zero"] is False and 1990 < scale["domain"][0] < 2000
    assert spec["title"]["subtitle"].startswith("The axis starts at 1,99")


def test_a_waterfall_over_a_few_points_of_a_share_labels_its_axis_in_tenths():
    steps = waterfall_steps((-0.006, -0.004), 0.345)
    steps[["ci_lo", "ci_hi"]] = steps[["ci_lo", "ci_hi"]] / 1000  # intervals of ±0.1 points
    axis = ec.waterfall_chart(steps, "retention_52w").to_dict()["layer"][0]["encoding"]["y"]
    assert axis["scale"]["zero"] is False and axis["axis"]["format"] == ".1%"
    wide = waterfall_steps((-0.2, 0.1), 0.5)  # tens of points: whole percents
    wide[["ci_lo", "ci_hi"]] = wide[["ci_lo", "ci_hi"]] / 100
    axis = ec.waterfall_chart(wide, "retention_52w").to_dict()["layer"][0]["encoding"]["y"]
    assert axis["axis"]["format"] == ".0%"


def test_every_waterfall_step_keeps_its_label_and_long_ones_wrap():
    """Vega hid the labels that did not fit side by side, leaving the largest bar unnamed."""
    steps = waterfall_steps((0.4, 0.1), 30.0)
    steps.loc[2, "label"] = "holding the event-triggered review"
    x = ec.waterfall_chart(steps, "value_delivered").to_dict()["layer"][0]["encoding"]["x"]
    axis = x["axis"]
    assert axis["labelOverlap"] is False and axis["labelAngle"] == 0
    lookup, fallback = axis["labelExpr"].split("[datum.label] || ")
    assert fallback == "datum.label"
    assert json.loads(lookup[1:-1]) == {
        "Holding the event-triggered review": ["Holding the", "event-triggered", "review"]
    }
    short = ec.waterfall_chart(waterfall_steps((0.4, 0.1), 30.0), "value_delivered").to_dict()
    assert "labelExpr" not in short["layer"][0]["encoding"]["x"]["axis"]  # nothing to wrap


@pytest.mark.parametrize(("spread", "fmt"), [(0.004, ".1%"), (0.3, ".0%")])
def test_a_sweep_over_a_few_points_of_a_share_labels_its_axis_in_tenths(spread, fmt):
    """Whole percents repeated down the axis (34%, 34%, 33%, 33%) over a flat retention sweep."""
    frame = sweep_frame()
    frame["mean"] = np.linspace(0.33, 0.33 + spread, len(frame))
    frame["ci_lo"], frame["ci_hi"] = frame["mean"] - 0.005, frame["mean"] + 0.005
    spec = ec.sweep_line_chart(frame, "reviews.council.interval_weeks", "retention_52w")
    assert spec.to_dict()["layer"][1]["encoding"]["y"]["axis"]["format"] == fmt


def test_candidates_chart_marks_the_start_and_keeps_finalists_readable():
    table = pd.DataFrame(
        {
            "rank": [1, 2, 3],
            "candidate": [2, 0, 1],
            "reviews.council.interval_weeks": [2.0, 6.0, 10.0],
            "stage": ["final", "final", "round 1"],
            "replications": [9, 9, 2],
            "mean": [100.0, 95.0, 90.0],
            "se": [1.0, 1.0, 30.0],
            "ci_lo": [98.0, 93.0, -300.0],
            "ci_hi": [102.0, 97.0, 480.0],
            "feasible": [True, True, False],
        }
    )
    spec = ec.candidates_chart(
        table, "value_delivered", ["reviews.council.interval_weeks"], baseline=92.0
    ).to_dict()
    assert marks(spec) == ["rule", "point", "rule"]
    domain = spec["layer"][0]["encoding"]["y"]["scale"]["domain"]
    assert domain[0] > 80 and domain[1] < 110  # the early round's wide interval is left out
    # Only finalists' intervals are drawn; the first and last candidates are drawn whole.
    assert spec["layer"][0]["transform"] == [{"filter": "(datum.stage === 'Final')"}]
    assert spec["layer"][0]["encoding"]["x"]["scale"]["domain"] == [0.5, 3.5]
    assert spec["layer"][0]["encoding"]["x"]["title"] == "Rank (1 = best)"
    assert spec["layer"][0]["encoding"]["y"]["title"] == "Value delivered (value points)"
    text = ec.candidates_table(table, "value_delivered", ["reviews.council.interval_weeks"])
    assert list(text["Meets constraints"]) == ["yes", "yes", "no"]


def test_tables_and_sentences_from_real_results():
    from sim.params import default_params, with_overrides

    base = with_overrides(default_params(), {"horizon_weeks": 26})
    levers = [parse_lever("reviews.council.interval_weeks=2,8")]
    result = sweep(base, levers, replications=2, executor=SerialExecutor())
    frame = result.frame("mean_alignment")
    text = ec.describe_sweep(frame, ["reviews.council.interval_weeks"], "mean_alignment")
    assert text.startswith("Mean alignment is highest at council interval ")
    variant = with_overrides(base, {"incentives.sales": "local_metric", "org.discovery_share": 0.2})
    att = attribute(base, variant, replications=2, executor=SerialExecutor())
    table = ec.attribution_table(att.table(), "value_delivered")
    assert table["Lever"].iloc[-1].startswith("Total difference")
    # A weekly council offsets part of product teams' drift: its share is negative.
    offset = with_overrides(
        base, {"incentives.product": "local_metric", "reviews.council.interval_weeks": 1}
    )
    att_offset = attribute(base, offset, replications=2, executor=SerialExecutor())
    shares = att_offset.table().query("kpi == 'value_delivered'")["share"].dropna()
    assert (shares < 0).any()
    written = set(
        ec.attribution_table(att_offset.table(), "value_delivered")["Share of the difference"]
    )
    assert {f"{s:.0%}".replace("-", "−") for s in shares} <= written and not any(
        w.startswith("-") for w in written
    )  # an offsetting part: "−10%", never an ASCII "-10%"
    steps = att.waterfall("value_delivered")
    assert steps["end"].iloc[-1] == pytest.approx(
        steps["end"].iloc[0] + att.difference("value_delivered")
    )
    ec.waterfall_chart(steps, "value_delivered").to_dict()  # validates against the schema


def test_a_lever_typed_by_its_shown_name_is_found_and_a_near_miss_named():
    assert explore.resolve_lever("Product teams are paid") == "incentives.product"
    assert explore.resolve_lever("PRODUCT TEAMS ARE PAID ON") == "incentives.product"
    assert explore.lever_text("Product teams are paid", "shared_outcome,local_metric") == (
        "incentives.product=shared_outcome,local_metric"
    )
    with pytest.raises(ParamError, match=r"did you mean Product teams are paid on \(incentives"):
        explore.lever_text("Product teems are paid", "shared_outcome,local_metric")
    # A word from the middle of one name finds it; one in several names lists them to pick from.
    assert explore.resolve_lever("Instrumentation") == "reviews.instrumentation_quality"
    for fragment in ("j", "k", "ship"):  # a letter, or the middle of a word, names nothing
        assert explore.resolve_lever(fragment) == fragment
    with pytest.raises(ParamError, match=r"names more than one setting: pick one of Metric "
                       r"review's length \(hours; reviews.metric.hours\), "):  # fmt: skip
        explore.lever_text("length", "1:3")


def test_the_lever_picker_names_every_setting_in_words():
    """No symbol, formula or code in what a leader picks from: it read "A_local of a local
    metric", "K in noise = sd / sqrt", "1 to 1e+07 $ per week" and "shared_outcome"; and each name
    as shown finds its setting again."""
    keys = explore.lever_keys(False)
    assert len(keys) > 80
    for key in keys:
        shown = explore.lever_name(key)
        assert not re.search(r"_|=|\*\*|\de[+-]\d|\bsqrt\b", shown), shown
        assert explore.resolve_lever(shown.split(" · ")[0]) == key, shown
    assert explore.lever_name("incentives.sales") == (
        "Sales is paid on · shared outcome, mixed, local metric"
    )
    # Numbers as the pages write them: a true minus, money with its sign, switches on and off.
    assert explore.lever_name("reviews.reject_below_z").endswith(" · −5 to 5 standard deviations")
    assert explore.lever_name("org.gtm_cost_per_week").endswith(" · $1 to $10,000,000 per week")
    assert explore.lever_name("reviews.event.enabled").endswith(" · on, off")
    assert explore.parse_changes("reviews.event.enabled = on") == {"reviews.event.enabled": True}


def test_a_sweep_sentence_says_when_the_grid_points_cannot_be_told_apart():
    frame = pd.DataFrame(
        {
            "reviews.council.interval_weeks": [1.0, 8.0],
            "n": 4,
            "mean": [0.80, 0.82],
            "ci_lo": [0.70, 0.81],
            "ci_hi": [0.90, 0.83],
        }
    )
    levers = ["reviews.council.interval_weeks"]
    said = ec.describe_sweep(frame, levers, "mean_alignment")
    # Unpaired intervals can overlap where a paired comparison still tells the points apart.
    assert "intervals overlap, so this ranking may be noise" in said and "paired" in said
    apart = frame.assign(ci_lo=[0.79, 0.815], ci_hi=[0.805, 0.825])
    assert "overlap" not in ec.describe_sweep(apart, levers, "mean_alignment")
    single = frame.assign(ci_lo=float("nan"), ci_hi=float("nan"))
    assert "no intervals" in ec.describe_sweep(single, levers, "mean_alignment")
    same = frame.assign(mean=0.8)
    assert ec.describe_sweep(same, levers, "mean_alignment").startswith(
        "Mean alignment is the same at every grid point (0.800)"
    )
    # An on/off lever's column holds NumPy's booleans: said as the axis says them, not "False".
    held = pd.DataFrame({"reviews.metric.enabled": np.array([False, True])}).join(frame.iloc[:, 1:])
    said = ec.describe_sweep(held, ["reviews.metric.enabled"], "mean_alignment")
    assert "holding the metric review on (" in said and "False" not in said, said
    # With the sweep's paired difference, the sentence says whether pairing tells them apart.
    paired = {"n": 4, "mean": 0.02, "ci_lo": 0.012, "ci_hi": 0.028, "share_higher": 1.0}
    told = ec.describe_sweep(frame, levers, "mean_alignment", paired)
    assert told.endswith(
        "Their intervals overlap, but paired over the same 4 replications, highest − lowest is "
        "+0.020 (95% CI +0.012 to +0.028), higher in 100% of them: pairing tells the two apart."
    ), told
    flipped = {**paired, "mean": -0.02, "ci_lo": -0.03, "ci_hi": -0.01, "share_higher": 0.0}
    assert ec.describe_sweep(frame, levers, "mean_alignment", flipped).endswith(
        "over the replications both have, the order is the other way round."
    )
    unclear = {**paired, "ci_lo": -0.004, "share_higher": 0.75}
    said = ec.describe_sweep(frame, levers, "mean_alignment", unclear)
    assert said.endswith("higher in 75% of them: even paired, this ranking may be noise; run more "
                         "replications.")  # fmt: skip
    assert "overlap" not in ec.describe_sweep(apart, levers, "mean_alignment", paired)
    # Picked from more than two points, the highest and lowest overstate their gap: a check on
    # another seed is asked for before the pairing's verdict is acted on.
    three = pd.concat([frame, frame.iloc[[0]].assign(mean=0.81)], ignore_index=True)
    said = ec.describe_sweep(three, levers, "mean_alignment", paired)
    assert said.endswith(
        "higher in 100% of them: pairing tells the two apart here, but they were picked as the "
        "highest and lowest of 3 points, which overstates their gap; confirm it on another seed "
        "before acting on it."
    ), said


def test_the_open_tool_outlives_a_visit_to_another_page(simulations):
    at = open_explore()
    at.session_state["ex.tab"] = explore.TOOL_NAMES["optimisation"]
    at.run()
    at.switch_page("app/pages/sandbox.py").run()
    at.switch_page("app/pages/explore.py").run()
    assert_clean(at)
    assert at.session_state["ex.tab"] == explore.TOOL_NAMES["optimisation"]


def test_the_default_sweep_shows_the_cost_of_meetings_u(simulations):
    """Explore opens on the sweep lesson 2 and the instructor guide send a class to: the council's
    interval, from twice a week to four-monthly, with the council as the only check on drift.
    Value delivered peaks at a weekly or fortnightly council, above both ends (pattern P3)."""
    at = run_tool(open_explore(), "sweep")
    assert_clean(at)
    assert "48 simulations: 6 grid points × 8 replications" in " ".join(texts(at.caption))
    table = at.dataframe[0].value
    points = [float(text.removesuffix(" points").replace(",", "")) for text in table.iloc[:, 1]]
    values = dict(zip(table["Council interval (weeks)"], points, strict=True))
    assert list(values) == ["0.5", "1", "2", "4", "8", "16"]
    best = max(values, key=lambda t: values[t])
    assert best in ("1", "2")
    assert f"is highest at council interval {best}" in " ".join(texts(at.caption))


def test_starting_from_the_sandbox_takes_its_horizon_too():
    """Explore's numbers are to match the Sandbox's tiles when it starts from them: at the
    Sandbox's horizon, not the tools' own 52 weeks."""
    at = open_app({"horizon_weeks": "80"})
    at.switch_page("app/pages/explore.py")
    at.run()
    assert_clean(at)
    for tool in ("sweep", "sensitivity", "optimisation"):
        assert at.session_state[f"ex.{tool}.base"] == "sandbox"
        assert at.session_state[f"ex.{tool}.weeks"] == 80
    # The Sandbox shows the default baseline: nothing to explain, so attribution keeps its example
    # (a run refused as "the variant does not differ" would be a poor start).
    assert at.session_state["ex.attribution.variant"] == "sales-led-drift"
    assert at.session_state["ex.attribution.weeks"] == 52
    changed = open_app({"horizon_weeks": "80", "incentives.sales": "local_metric", "seed": "7"})
    changed.switch_page("app/pages/explore.py").run()
    # Settings that differ are explained against the default baseline (none is pinned).
    assert changed.session_state["ex.attribution.variant"] == "sandbox"
    assert changed.session_state["ex.attribution.base"] == "aligned-baseline"
    assert changed.session_state["ex.attribution.changes"] == ""
    assert changed.session_state["ex.attribution.weeks"] == 80
    for tool in ("sweep", "attribution"):  # the Sandbox's draws too, so its numbers recur
        assert changed.session_state[f"ex.{tool}.seed"] == 7
    fresh = open_explore()  # no Sandbox yet: a preset, at the tools' own horizon
    assert fresh.session_state["ex.sweep.base"] == "council-only-drift"
    assert fresh.session_state["ex.sweep.weeks"] == 52


def test_a_lever_that_changes_nothing_has_its_own_legend_colour():
    """ "No change" was drawn in the baseline's grey: two identical legend entries."""
    spec = ec.waterfall_chart(waterfall_steps((0.0, 2.0), 10.0), "value_delivered").to_dict()
    scale = spec["layer"][0]["encoding"]["color"]["scale"]
    assert {"Baseline", "No change"} <= set(scale["domain"])
    assert len(set(scale["range"])) == len(scale["range"])


@pytest.mark.parametrize(
    ("lever", "values"),
    [
        ("incentives.product", "shared_outcome,mixed,local_metric"),
        ("reviews.metric.enabled", "true,false"),
    ],
)
def test_a_lever_of_a_few_values_left_without_values_sweeps_them_all(lever, values):
    assert explore.lever_text(lever, "") == f"{lever}={values}"
    assert explore.lever_text(lever, "  ") == f"{lever}={values}"
    with pytest.raises(ParamError, match="is empty"):
        explore.lever_text("org.wip_limit_per_team", "")


def test_attribution_explains_the_sandbox_against_its_pinned_baseline(simulations):
    at = open_app({"scenario": "sales-led-drift", "base": "aligned-baseline"})
    at.switch_page("app/pages/explore.py").run()
    assert_clean(at)
    assert at.selectbox(key="ex.attribution.base").value == explore.PINNED
    assert at.selectbox(key="ex.attribution.variant").value == explore.SANDBOX
    assert at.text_area(key="ex.attribution.changes").value == ""
    assert (
        "Sandbox's pinned baseline: Aligned baseline"
        in at.selectbox(key="ex.attribution.base").options
    )
    at = run_tool(at, "attribution", reps=2)
    assert_clean(at)
    assert not errors(at)
    spec = json.loads(at.session_state["ex.attribution.applied"]["spec"])
    assert spec["variant"]["incentives.sales"] == "local_metric"
    assert "incentives.sales" not in spec["base"]
    said = "**Aligned baseline** (baseline) → **Sales-led drift** (variant), 1 changed lever."
    assert said in texts(at.markdown)


def test_a_sweeps_summary_pairs_its_highest_point_with_its_lowest():
    """The page's sweep sentence gets the paired difference of the points it names."""
    from sim.explore import FunctionEvaluator, Lever

    ev = FunctionEvaluator(lambda x: np.column_stack([(x[:, 0] - 0.5) ** 2, -x[:, 0]]),
                           {"x": 0.0}, outputs=("u", "down"))  # fmt: skip
    lever = Lever("x", lo=0.0, hi=1.0, points=5)
    result = sweep(ev, [lever], replications=8, executor=SerialExecutor())
    summary = explore._summary("sweep", result)
    # u is highest at both ends (the first one counts) and lowest in the middle; down falls.
    assert summary["extremes"]["u"] == {**result.paired("u", 0, 2), "highest": 0, "lowest": 2}
    assert summary["extremes"]["u"]["mean"] == pytest.approx(0.25)
    assert summary["extremes"]["down"]["mean"] == pytest.approx(1.0)
    assert summary["extremes"]["down"] == {**result.paired("down", 0, 4), "highest": 0, "lowest": 4}


def test_a_lever_that_cannot_act_from_the_start_is_named_with_why(simulations):
    # The default start holds the council only: the strategy review's interval cannot act...
    lever = {"lever1": "reviews.strategy.interval_weeks", "range1": "4:26"}
    at = run_tool(open_explore(), "sweep", points=2, **lever, **TINY)
    assert_clean(at)
    assert texts(at.warning) == [
        "From “Drift, with the council as the only check”, this lever cannot move any result, "
        "and will show no effect: the strategy review interval, as the strategy review is off."
    ]
    assert charts(at)  # the sweep still ran
    # ... unless the review is held at some of the sweep's points.
    held = {"lever2": "reviews.strategy.enabled", "range2": "true,false"}
    at = run_tool(at, "sweep", **held)
    assert_clean(at)
    assert not texts(at.warning)
