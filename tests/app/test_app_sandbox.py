"""The Sandbox page under AppTest: levers, runs, baseline, links, uploads."""

from __future__ import annotations

import json
import re

import pandas as pd
import pyarrow as pa
import pytest
from streamlit.proto.Metric_pb2 import Metric

import sim.runner
import sim.scenarios
from app import compute, views
from sim.outcomes import KPIS
from sim.report.format import TILE_KPIS, series_label

from .helpers import assert_clean, deltas, open_app, texts, tiles
from .test_app_charts import reference_lines

TILE_LABELS = [KPIS[k].label for k in TILE_KPIS]


def displayed(table) -> pd.DataFrame:
    """A table's cells as the page shows them (a Styler's formatted text)."""
    display = table.proto.arrow_data.styler.display_values
    return pa.ipc.open_stream(display).read_all().to_pandas()


def test_default_page_shows_kpis_and_charts(app):
    at = app()
    assert_clean(at)
    assert not at.error
    assert texts(at.title)[0] == "Aligned baseline"
    shown = tiles(at)
    assert list(shown) == TILE_LABELS
    # Detection lag needs a drift to detect: in a short run few replications may have one.
    lag = KPIS["detection_lag_days"].label
    assert all(v and v != "n/a" for name, v in shown.items() if name != lag), shown
    if shown[lag] == "n/a":
        assert any(c.startswith(f"{lag}: only ") and "too few for a mean" in c
                   for c in texts(at.caption))  # fmt: skip
    # The Customers tab: retention by age, time-to-value, active customers, revenue.
    assert len(at.get("vega_lite_chart")) == 4
    # Every chart has a one-line text alternative under it.
    assert sum("band" in c for c in texts(at.caption)) >= 4
    # Delivery and governance: alignment, value, meeting overhead, lead time, metric shown.
    at.session_state["view.tab"] = "Delivery and governance"
    at.run()
    assert_clean(at)
    assert len(at.get("vega_lite_chart")) == 5
    assert at.query_params["tab"] == "delivery"


def test_the_weekly_charts_mark_the_habit_threshold_and_the_market_shift(app):
    at = app({"scenario": "pivot"})
    assert_clean(at)
    specs = {
        s["title"]["text"]: s for s in (json.loads(c.proto.spec) for c in at.get("vega_lite_chart"))
    }
    shift = {("x", 30): "Market shifts (week 30)"}
    assert reference_lines(specs["Median time-to-value by sign-up week"]) == {
        ("y", 14.0): "Habit threshold (14 days)",
        **shift,
    }
    assert reference_lines(specs["Active customers"]) == shift
    # Retention is by customer age, not by week: no week is marked on it.
    assert reference_lines(specs["Retention by customer age"]) == {}


def test_changing_a_lever_and_running_changes_the_kpis(app):
    at = app()
    before = tiles(at)
    at.selectbox(key="lever.incentives.product").set_value("local_metric")
    at.selectbox(key="lever.incentives.sales").set_value("local_metric")
    at.button(key="sb.run").click()
    at.run()
    assert_clean(at)
    after = tiles(at)
    assert after["Mean alignment"] != before["Mean alignment"]
    assert float(after["Mean alignment"]) < float(before["Mean alignment"])
    assert texts(at.title)[0] == "Aligned baseline (modified)"
    assert at.query_params["incentives.product"] == "local_metric"
    assert at.query_params["incentives.sales"] == "local_metric"


def test_run_updates_the_title_the_link_and_the_scenario_file_under_the_levers(app, monkeypatch):
    """The scenario file under the levers saves the settings last run, and the levers keep their
    values for the next Run."""
    offered = _offered_toml(monkeypatch)
    at = app()
    at.number_input(key="lever.reviews.council.interval_weeks").set_value(2.0)
    at.button(key="sb.run").click().run()
    assert_clean(at)
    assert [e.label for e in at.sidebar.expander][-1] == "Scenario file"
    assert texts(at.title)[0] == "Aligned baseline (modified)"
    assert at.query_params["reviews.council.interval_weeks"] == "2"
    saved = sim.scenarios.parse(offered[-1])
    assert saved.params.reviews.council.interval_weeks == 2.0
    assert at.number_input(key="lever.reviews.council.interval_weeks").value == 2.0


def test_a_run_after_a_refused_one_takes_its_message_away(app):
    """The message of a refused Run is in the levers' form: the next Run takes it away."""
    at = app()
    at.number_input(key="run.seed").set_value(-1)
    at.button(key="sb.run").click().run()
    assert [e for e in texts(at.sidebar.error) if e.startswith("Not run")]
    at.number_input(key="run.seed").set_value(3)
    at.button(key="sb.run").click().run()
    assert_clean(at)
    assert at.sidebar.number_input and not at.error
    assert at.query_params["seed"] == "3"


def test_a_failed_run_says_so_keeps_the_settings_and_offers_no_downloads(app, monkeypatch):
    """A run that fails (the pool broke, say) shows why, without a traceback; the downloads,
    drawn before the run, go, and the address bar keeps naming the last run that worked."""
    at = app()
    assert "Share and export" in texts(at.subheader)
    link = dict(at.query_params)

    def broken(*args, **kwargs):
        raise RuntimeError("the process pool stopped")

    monkeypatch.setattr(compute, "view", broken)
    at.number_input(key="lever.reviews.council.interval_weeks").set_value(2.0)
    at.button(key="sb.run").click().run()
    assert not at.exception
    assert any(e.startswith("The run failed: the process pool stopped.") for e in texts(at.error))
    assert "Share and export" not in texts(at.subheader)
    # Only the scenario file under the levers is left to download (the settings, not results).
    assert [b.proto.label for b in at.get("download_button")] == ["Download these settings (TOML)"]
    assert dict(at.query_params) == link
    assert at.number_input(key="lever.reviews.council.interval_weeks").value == 2.0


def test_levers_wait_for_run(app):
    at = app()
    before = tiles(at)
    at.selectbox(key="lever.incentives.product").set_value("local_metric").run()
    assert tiles(at) == before
    assert "incentives.product" not in at.query_params


def test_pinning_a_baseline_shows_deltas_and_the_difference_chart(app):
    at = app()
    assert all(d == ("", "") for d in deltas(at).values())
    at.button(key="sb.pin").click().run()
    at.selectbox(key="lever.incentives.product").set_value("local_metric")
    at.selectbox(key="lever.incentives.marketing").set_value("local_metric")
    at.selectbox(key="lever.incentives.sales").set_value("local_metric")
    at.button(key="sb.run").click().run()
    assert_clean(at)
    d = deltas(at)
    delta, description = d["Mean alignment"]
    assert delta.startswith("−"), d
    assert description.startswith("P(variant better)")
    # Drifting incentives lose alignment in every paired replication.
    assert description == "P(variant better) 0%"
    assert at.query_params["base"] == "aligned-baseline"
    # What moved the other way, though it has no tile: drift brings more customers in.
    (other_side,) = texts(at.info)
    assert other_side.startswith(
        "On the other side of the ledger, the variant raises active customers at end from "
    ), other_side
    # The retention difference and the metric difference join the charts.
    assert len(at.get("vega_lite_chart")) == 5
    at.session_state["view.tab"] = "Delivery and governance"
    assert len(at.run().get("vega_lite_chart")) == 6
    at.session_state["view.tab"] = "Customers"
    at.run()
    at.button(key="sb.unpin").click().run()
    assert all(d == ("", "") for d in deltas(at).values())
    assert "base" not in at.query_params
    assert not at.info


def test_a_baseline_compared_over_too_few_replications_shows_no_change(app):
    """Three paired runs in which alignment fell gave "P(variant better) 0%" and a red arrow: the
    tiles, the headline of presentation mode and its lines now say the runs are too few."""
    at = app({"reps": "3", "base": "aligned-baseline", "incentives.sales": "local_metric"})
    assert_clean(at)
    # What sales' incentive does not reach is the same in every pair, which three pairs can say.
    d = deltas(at)
    assert d["Mean alignment"] == d["52-week retention"] == ("", ""), d
    same = [v for v in d.values() if v != ("", "")]
    assert same and all(v[0].startswith("±0") and v[1] == "the same in every pair" for v in same)
    assert (
        "No change against the baseline is shown (3 pairs: too few to compare); run at least "
        "5 replications to see one."
    ) in texts(at.caption)
    tile = next(m for m in at.metric if m.label == "Mean alignment")
    assert "No change against the baseline is shown (3 pairs: too few to compare)." in tile.help
    at.toggle(key="view.present").set_value(True).run()
    assert_clean(at)
    headline = next(t for t in texts(at.subheader) if t.startswith("The proposal"))
    assert headline.startswith("The proposal gives 52-week retention "), headline
    assert headline.endswith("; from 3 paired runs, too few to call a difference a change.")
    assert "90% interval" not in headline and "paired runs)" not in headline
    lines = [t for t in texts(at.markdown) if t.startswith("##### Baseline")]
    assert [t.endswith("no difference shown (3 pairs: too few to compare)") for t in lines] == [
        True,  # retention
        True,  # time-to-value
        False,  # value delivered: the same in every pair
    ], lines


def test_query_parameters_restore_settings(app):
    query = {
        "scenario": "pivot",
        "reviews.strategy.interval_weeks": "4",
        "incentives.sales": "local_metric",
        "seed": "7",
        "band": "80",
        "show": "churn_rate",
        "tab": "delivery",
    }
    at = app(query)
    assert_clean(at)
    assert not at.warning
    assert at.selectbox(key="sb.preset").value == "pivot"
    assert at.number_input(key="lever.reviews.strategy.interval_weeks").value == 4.0
    assert at.selectbox(key="lever.incentives.sales").value == "local_metric"
    assert at.toggle(key="lever.market.shift_enabled").value is True
    assert at.number_input(key="run.seed").value == 7
    assert at.select_slider(key="view.band").value == 80
    assert at.selectbox(key="view.metric").value == "churn_rate"
    assert at.session_state["view.tab"] == "Delivery and governance"
    assert any("seed 7" in c for c in texts(at.caption))
    # The page writes back exactly what it restored.
    assert dict(at.query_params) == {**query, "reps": "8"}

    # The same settings chosen by hand give the same KPIs.
    by_hand = app({"seed": "7"})
    by_hand.selectbox(key="sb.preset").set_value("pivot").run()
    by_hand.number_input(key="lever.reviews.strategy.interval_weeks").set_value(4.0)
    by_hand.selectbox(key="lever.incentives.sales").set_value("local_metric")
    by_hand.button(key="sb.run").click().run()
    assert tiles(by_hand) == tiles(at)


def test_a_baseline_in_the_link_is_restored(app):
    at = app({"incentives.product": "mixed", "base": "aligned-baseline"})
    assert_clean(at)
    assert at.session_state["sb.baseline"]["preset"] == "aligned-baseline"
    assert deltas(at)["Mean alignment"][1].startswith("P(variant better)")


@pytest.mark.parametrize(
    ("query", "named"),
    [
        ({"reviews.council.interval_weeks": "often"}, "reviews.council.interval_weeks"),
        ({"reviews.council.interval_weeks": "900"}, "reviews.council.interval_weeks"),
        ({"reviews.councl.interval_weeks": "2"}, "reviews.councl.interval_weeks"),
        ({"scenario": "no-such-preset"}, "scenario"),
        ({"scenario": "a" * 300}, "scenario"),  # longer than a file name may be
        ({"base": "b" * 300}, "base"),
        ({"seed": "-4"}, "seed"),
        ({"reps": "lots"}, "reps"),
        ({"band": "33"}, "band"),
        ({"show": "happiness"}, "show"),
        ({"tab": "everything"}, "tab"),
        ({"horizon_weeks": "20", "scenario": "pivot"}, "horizon_weeks"),
    ],
)
def test_a_bad_query_parameter_warns_and_the_page_works(app, query, named):
    at = app(query)
    assert_clean(at)
    warnings = texts(at.warning)
    assert any(named in w for w in warnings), warnings
    assert len(at.metric) == len(TILE_LABELS)
    assert len(at.get("vega_lite_chart")) >= 4
    # The bad value is not written back into the link.
    assert at.query_params.get(named) != query[named]


def test_bad_value_falls_back_to_its_default_and_keeps_the_rest(app):
    at = app({"reviews.council.interval_weeks": "often", "incentives.sales": "mixed"})
    assert at.number_input(key="lever.reviews.council.interval_weeks").value == 4.0
    assert at.selectbox(key="lever.incentives.sales").value == "mixed"
    assert "did you mean" in open_app({"incentives.slaes": "mixed"}).warning[0].value


def test_a_link_cannot_put_markup_in_the_page():
    at = open_app({"scenario": "[prize](http://example.com)", "show": "**big**"})
    assert_clean(at)
    raw = " ".join(w.value for w in at.warning)
    assert "[prize](" not in raw and "**big**" not in raw  # no link, no emphasis
    assert "http://" not in raw  # nor a bare address turned into a link
    shown = " ".join(texts(at.warning))
    assert "[prize](http://example.com)" in shown and "**big**" in shown  # quoted as written


def test_display_options_do_not_rerun_the_model(app, monkeypatch):
    calls = []
    real = sim.runner.run_many

    def counting(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(sim.runner, "run_many", counting)
    at = app({"seed": "11"})
    first = len(calls)
    at.select_slider(key="view.band").set_value(50).run()
    # The weekly metric and per-team detail are drawn on the Delivery tab: greyed out elsewhere.
    assert at.selectbox(key="view.metric").disabled and at.toggle(key="view.teams").disabled
    at.session_state["view.tab"] = "Delivery and governance"
    at.run()
    assert not at.selectbox(key="view.metric").disabled
    at.selectbox(key="view.metric").set_value("backlog").run()
    at.toggle(key="view.teams").set_value(True).run()
    assert len(at.dataframe) == 0
    at.session_state["view.tab"] = "Data tables"
    at.run()
    assert_clean(at)
    assert len(at.dataframe) == 3  # every KPI, retention by age, weekly bands
    assert len(at.get("vega_lite_chart")) == 0
    assert list(at.dataframe[0].value["KPI"])[:2] == ["52-week retention", "Median time-to-value"]
    # Numbers as the charts give them: retention in percent, weekly values in their own units.
    retention = at.dataframe[1].value
    assert retention["mean"].iloc[0] == 100.0 and 0 < retention["mean"].iloc[-1] < 100
    weekly = at.dataframe[2].value.set_index(["metric", "week"])
    overhead = weekly.loc[("Share of product capacity spent in reviews", 10)]
    assert overhead["unit"] == "%" and 1.0 < overhead["mean"] < 20.0  # percent, not 0.04
    assert overhead["mean"] == round(overhead["mean"], 1)
    assert weekly.loc[("Opportunities waiting to be started", 10), "unit"] == "items"
    ttv = weekly.loc[("Median time-to-value of the week's cohort", 10)]
    assert ttv["unit"] == "days" and ttv["mean"] == round(ttv["mean"], 1)
    assert weekly["mean"].dtype.kind == "f"  # numbers, which sort as numbers
    # Each metric's numbers are shown to the same decimals ("0.850" beside "0.848", never "0.85").
    shown = displayed(at.dataframe[2]).set_index(["metric", "unit"])
    for unit, places in {"alignment (0 to 1)": 3, "%": 1, "days": 1}.items():
        cells = shown.xs(unit, level="unit")[["mean", "lo", "p50", "hi"]].stack()
        cells = cells[cells != ""]
        assert cells.str.fullmatch(rf"-?[\d,]+\.\d{{{places}}}").all(), (unit, cells.head())
    counts = shown.xs("items", level="unit")["mean"]
    assert counts.str.fullmatch(r"[\d,]+").all()
    assert len(calls) == first
    assert at.query_params["tab"] == "tables"
    assert at.query_params["band"] == "50"
    # A lever change does run the model again.
    at.number_input(key="lever.reviews.council.interval_weeks").set_value(2.0)
    at.button(key="sb.run").click().run()
    assert len(calls) == first + 1


def test_an_impossible_combination_is_refused_and_nothing_is_lost(app):
    at = app()
    before = tiles(at)
    at.toggle(key="lever.market.shift_enabled").set_value(True)
    at.number_input(key="lever.market.shift_week").set_value(100)
    at.number_input(key="lever.horizon_weeks").set_value(60)
    at.button(key="sb.run").click().run()
    assert_clean(at)
    errors = texts(at.error)
    # Named by its control's label, as the user sees it, not by the setting's key.
    assert any(e.startswith("Not run: Shift at week = 100 is not allowed") for e in errors), errors
    assert tiles(at) == before
    # The levers still show what the user typed, ready to fix.
    assert at.number_input(key="lever.horizon_weeks").value == 60


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        (
            "lever.reviews.council.interval_weeks",
            0.1,
            "Product council every (weeks) = 0.1 is out of range: a number from 0.5 to 52 weeks.",
        ),
        ("run.replications", 5000, "Replications = 5,000 is out of range: a whole number from 1"),
        ("run.seed", -1, "Seed = -1 is out of range: a whole number from 0 to 2,147,483,647."),
    ],
)
def test_a_number_out_of_range_is_named_with_its_range_and_nothing_runs(app, key, value, expected):
    """The number boxes take any number, so that Run can say what is wrong with it (a bounded box
    keeps an out-of-range value in the browser: Run then does nothing visible)."""
    at = app()
    before = (tiles(at), dict(at.query_params))
    at.number_input(key=key).set_value(value)
    at.button(key="sb.run").click().run()
    assert_clean(at)
    errors = texts(at.error)
    assert len(errors) == 1 and expected in errors[0].replace("\u2212", "-"), errors
    assert errors[0].endswith("The previous results are still shown.")
    assert (tiles(at), dict(at.query_params)) == before


def test_the_why_is_worked_out_on_request_and_splits_the_change(app, monkeypatch):
    calls = []
    real = compute.why
    monkeypatch.setattr(compute, "why", lambda *a, **k: calls.append(a) or real(*a, **k))
    at = app()
    assert "sb.why" not in [b.key for b in at.button]  # nothing to explain without a baseline
    at.button(key="sb.pin").click().run()
    at.selectbox(key="lever.incentives.product").set_value("local_metric")
    at.number_input(key="lever.reviews.council.interval_weeks").set_value(8.0)
    at.button(key="sb.run").click().run()
    assert_clean(at)
    # Retention falls clearly, so the headline KPI is explained; nothing runs before the click.
    assert at.button(key="sb.why").label == "Why did 52-week retention change?"
    assert calls == []
    at.button(key="sb.why").click().run()
    assert_clean(at)
    (why,) = [m for m in texts(at.markdown) if m.startswith("**Why:**")]
    assert "52-week retention" in why
    assert "product teams' incentive" in why and "the council interval" in why
    assert len(calls) == 1 and calls[0][4] == "retention_52w"
    # Another run asks again: the sentence belongs to the run it explains.
    at.number_input(key="lever.reviews.council.interval_weeks").set_value(4.0)
    at.button(key="sb.run").click().run()
    assert "sb.why" in [b.key for b in at.button]
    assert not [m for m in texts(at.markdown) if "**Why:**" in m]


def test_picking_a_preset_loads_and_runs_it(app):
    at = app()
    at.selectbox(key="sb.preset").set_value("meeting-overload").run()
    assert_clean(at)
    assert texts(at.title)[0] == "Meeting overload"
    assert at.number_input(key="lever.reviews.council.interval_weeks").value == 1.0
    assert at.query_params["scenario"] == "meeting-overload"


UPLOAD_OK = b"""
[scenario]
title = "Uploaded council"

[settings.reviews.council]
interval_weeks = 2.0
"""


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"[settings\nbroken", "not valid TOML"),
        (b"[settings.reviews.councl]\ninterval_weeks = 2\n", "did you mean"),
        (b"[settings.reviews.council]\ninterval_weeks = 0.1\n", "reviews.council.interval_weeks"),
        (b"\xff\xfe not text", "UTF-8"),
        (b"# " + b"x" * 70_000, "at most"),
        (b"[scenario]\ntitle = '=HYPERLINK(1)'\n", "not starting with ="),
        (b"[settings]\na = " + b"[" * 5_000, "too deeply"),
        (b"[settings]\n" + b"a." * 3_000 + b"b = 1", "too deeply"),
        (b"[settings.org]\nproduct_teams = " + b"9" * 5_000, "number too long"),
        (b"[settings.org]\ndiscovery_share = " + b"9" * 400, "integer of 400 digits"),
    ],
)
def test_a_bad_upload_errors_cleanly(app, content, expected):
    at = app()
    before = tiles(at)
    at.file_uploader(key="sb.upload").upload("mine.toml", content, "application/toml").run()
    assert_clean(at)
    errors = texts(at.error)
    assert any(expected in e and "Nothing was changed" in e for e in errors), errors
    assert tiles(at) == before
    assert texts(at.title)[0] == "Aligned baseline"


def test_a_good_upload_applies_its_settings(app):
    at = app()
    at.file_uploader(key="sb.upload").upload("mine.toml", UPLOAD_OK, "application/toml").run()
    assert_clean(at)
    assert not at.error
    assert texts(at.title)[0] == "Uploaded council"
    assert at.number_input(key="lever.reviews.council.interval_weeks").value == 2.0
    assert at.query_params["reviews.council.interval_weeks"] == "2"


def test_the_settings_file_carries_the_run_and_loading_it_restores_the_run(app, monkeypatch):
    """The downloaded file holds this run's seed and replications; loading it elsewhere gives the
    same run (the same tiles), and a file without them keeps the page's own."""
    offered = _offered_toml(monkeypatch)
    at = app({"seed": "5", "reps": "6", "reviews.council.interval_weeks": "2"})
    assert_clean(at)
    file = offered[-1]
    saved = sim.scenarios.parse(file)
    assert (saved.seed, saved.replications) == (5, 6)
    shown = tiles(at)

    other = app()
    other.file_uploader(key="sb.upload").upload("run.toml", file.encode(), "application/toml").run()
    assert_clean(other)
    assert not other.error
    assert tiles(other) == shown
    assert other.number_input(key="run.seed").value == 5
    assert other.number_input(key="run.replications").value == 6
    assert texts(other.success) == [
        "Loaded “Aligned baseline (modified)” from run.toml, with its seed 5 and 6 replications."
    ]
    other.file_uploader(key="sb.upload").upload("mine.toml", UPLOAD_OK, "application/toml").run()
    assert other.number_input(key="run.seed").value == 5  # no [run]: the page's stay
    assert texts(other.success) == ["Loaded “Uploaded council” from mine.toml."]


def test_renaming_titles_the_page_its_link_its_file_and_presentation_mode(app, monkeypatch):
    offered = _offered_toml(monkeypatch)
    at = app({"scenario": "drifting-incentives", "base": "aligned-baseline"})
    before = tiles(at)
    at.text_input(key="sb.rename").input("  Q3 proposal:  pay on outcomes ")  # in a form
    at.button(key="sb.rename_apply").click().run()
    assert_clean(at)
    title = "Q3 proposal: pay on outcomes"
    assert texts(at.title)[0] == title
    assert texts(at.toast) == [f"These settings are now titled “{title}”."]
    assert tiles(at) == before  # the same settings: nothing re-run
    assert at.query_params["title"] == title
    assert sim.scenarios.parse(offered[-1]).title == title
    assert at.text_input(key="sb.rename").value == ""
    at.toggle(key="view.present").set_value(True).run()
    assert texts(at.title)[0] == title
    at.toggle(key="view.present").set_value(False).run()
    # A lever changed after: the title no longer describes the settings alone.
    at.selectbox(key="lever.incentives.sales").set_value("shared_outcome")
    at.button(key="sb.run").click().run()
    assert texts(at.title)[0] == title + " (modified)"
    # Nothing typed: back to the title where the settings started.
    at.button(key="sb.rename_apply").click().run()
    assert texts(at.title)[0] == "Drifting incentives (modified)"
    assert "title" not in at.query_params


def test_an_uploaded_title_shows_as_written(app):
    """A title from a file is text, not Markdown: no link, image or emphasis comes out of it, on
    the Sandbox, in the upload's message and in presentation mode."""
    title = "[prize](http://example.com) ![x](http://example.com/p.png) *big* <b>"
    content = UPLOAD_OK.replace(b'"Uploaded council"', f"'{title}'".encode())
    at = app()
    at.file_uploader(key="sb.upload").upload("mine.toml", content, "application/toml").run()
    assert_clean(at)
    assert not at.error

    def as_written(element) -> None:
        raw = element.value
        assert not any(c in raw for c in "[]()*<>!")  # every markup character is a reference
        assert "http://" not in raw  # and a bare address is broken

    as_written(at.title[0])
    assert texts(at.title)[0] == title
    as_written(at.success[0])
    assert f"Loaded “{title}”" in texts(at.success)[0]
    at.toggle(key="view.present").set_value(True).run()
    assert_clean(at)
    as_written(at.title[0])
    assert texts(at.title)[0] == title


UPLOAD_TEXTS = b'''
[scenario]
title = "Workshop: council rhythm"
description = "Compare a *fast* council with [the default](http://example.com)."
teaching_notes = """
Ask first: which curve moves?

    1. Retention
2. Time-to-value <b>now</b>"""

[settings.reviews.council]
interval_weeks = 2.0
'''


def test_an_uploaded_files_description_and_notes_show_as_written_and_are_saved(app, monkeypatch):
    """A file's description and teaching notes show under its title, as text (not Markdown), stay
    after a lever changes, and are written back into the scenario file the page offers."""
    offered = _offered_toml(monkeypatch)
    at = app()
    preset = sim.scenarios.load_preset("aligned-baseline")
    assert preset.description in [m.value for m in at.markdown]
    at.file_uploader(key="sb.upload").upload("w.toml", UPLOAD_TEXTS, "application/toml").run()
    assert_clean(at)
    assert not at.error
    file = sim.scenarios.parse(UPLOAD_TEXTS)

    def shown(at) -> tuple[list[str], list[str]]:
        notes = [e for e in at.expander if e.label == "Teaching notes"]
        assert len(notes) == 1
        for element in [*at.markdown, *notes[0].markdown]:
            if "council" in element.value or "curve" in element.value:
                assert not any(c in element.value for c in "[]()*<>")  # all references
                assert "http://" not in element.value
        return texts(at.markdown), texts(notes[0].markdown)

    markdown, notes = shown(at)
    assert file.description in markdown
    assert preset.description not in markdown
    # The link to share says where the texts travel: it carries the settings and the title.
    share = [c for c in texts(at.caption) if c.startswith("This page's address restores")]
    assert share == [
        "This page's address restores exactly these settings (and the pinned baseline); the "
        "scenario file's description and notes travel in the scenario TOML:"
    ]
    # Paragraphs and line breaks kept; the indented line is not read as code.
    assert notes == ["Ask first: which curve moves?\n\n1. Retention  \n2. Time-to-value <b>now</b>"]

    at.selectbox(key="lever.incentives.sales").set_value("local_metric")
    at.button(key="sb.run").click()
    at.run()
    assert_clean(at)
    assert texts(at.title)[0] == "Workshop: council rhythm (modified)"
    assert shown(at) == (markdown, notes)
    saved = sim.scenarios.parse(offered[-1])
    assert (saved.description, saved.teaching_notes) == (file.description, file.teaching_notes)
    assert saved.overrides == {
        "incentives.sales": "local_metric",
        "reviews.council.interval_weeks": 2.0,
    }


def _offered_toml(monkeypatch) -> list[str]:
    """Every scenario TOML the page builds for its downloads, in order."""
    offered: list[str] = []
    real_to_toml = sim.scenarios.to_toml

    def to_toml(*args, **kwargs):
        offered.append(real_to_toml(*args, **kwargs))
        return offered[-1]

    monkeypatch.setattr(sim.scenarios, "to_toml", to_toml)
    return offered


def test_a_files_texts_stay_with_it_and_are_never_invented(app, monkeypatch):
    """A preset's texts are saved only while its settings are unchanged; a file's texts leave with
    the file (a preset picked after it) and stay out of the pinned baseline and Compare."""
    offered = _offered_toml(monkeypatch)
    at = app()
    preset = sim.scenarios.load_preset("aligned-baseline")
    saved = sim.scenarios.parse(offered[-1])
    assert (saved.description, saved.teaching_notes) == (preset.description, preset.teaching_notes)
    at.selectbox(key="lever.incentives.sales").set_value("local_metric")
    at.button(key="sb.run").click()
    at.run()
    assert preset.description in [m.value for m in at.markdown]  # still shown, as the preset's
    saved = sim.scenarios.parse(offered[-1])
    assert (saved.description, saved.teaching_notes) == ("", "")

    # Notes without a description, and a description of blanks: nothing invented, nothing empty.
    content = UPLOAD_OK.replace(
        b"[settings", b"description = '   '\nteaching_notes = 'Ask.'\n[settings"
    )
    at.file_uploader(key="sb.upload").upload("n.toml", content, "application/toml").run()
    assert_clean(at)
    assert not at.error
    assert not [m for m in at.markdown if not m.value.strip()]
    assert preset.description not in [m.value for m in at.markdown]
    assert texts(next(e for e in at.expander if e.label == "Teaching notes").markdown) == ["Ask."]
    saved = sim.scenarios.parse(offered[-1])
    assert (saved.description.strip(), saved.teaching_notes) == ("", "Ask.")

    at.button(key="sb.pin").click().run()
    at.button(key="sb.save").click().run()
    assert "teaching_notes" not in at.session_state["sb.baseline"]
    assert all("teaching_notes" not in v for v in at.session_state["sb.saved"].values())

    at.selectbox(key="sb.preset").set_value("pivot").run()
    assert_clean(at)
    pivot = sim.scenarios.load_preset("pivot")
    assert pivot.description in [m.value for m in at.markdown]
    assert texts(next(e for e in at.expander if e.label == "Teaching notes").markdown) == [
        pivot.teaching_notes
    ]


def test_downloads_offer_bands_kpis_and_settings(app):
    at = app({"incentives.sales": "mixed"})
    labels = [b.proto.label for b in at.get("download_button")]
    assert "Weekly bands (CSV)" in labels
    assert "KPIs per replication (CSV)" in labels
    assert any("TOML" in label for label in labels)


def test_a_link_with_many_bad_parameters_shows_a_few_and_counts_the_rest(app):
    at = app({f"nonsense{i}": "1" for i in range(12)})
    assert_clean(at)
    warnings = texts(at.warning)
    assert len(warnings) == 6, warnings
    assert "7 more problems" in warnings[-1]
    assert len(at.metric) == len(TILE_LABELS)


def test_settings_changed_from_their_preset_say_what_changed():
    """The description and notes are the preset's; once a lever moves they no longer say what runs,
    so the page says what changed from the preset."""
    at = open_app({"incentives.sales": "local_metric", "reviews.council.interval_weeks": "2"})
    assert_clean(at)
    changed = [c for c in texts(at.caption) if c.startswith("Changed from")]
    assert changed == [
        "Changed from Aligned baseline: Sales is paid on: Shared outcome → Local metric; "
        "Product council every (weeks): 4 → 2."
    ]
    assert not [c for c in texts(open_app({}).caption) if c.startswith("Changed from")]
    preset = open_app({"scenario": "drifting-incentives"})  # a preset as it is: nothing changed
    assert not [c for c in texts(preset.caption) if c.startswith("Changed from")]


def test_a_link_with_a_title_opens_under_that_title():
    at = open_app({"scenario": "pivot", "incentives.sales": "local_metric", "title": "Proposal X"})
    assert_clean(at)
    assert not at.warning
    assert at.title[0].value == "Proposal X"
    assert at.query_params["title"] == "Proposal X"  # and keeps it in the page's address
    changed = [c for c in texts(at.caption) if c.startswith("Changed from")]
    assert changed and "Sales is paid on" in changed[0]  # what it changed from its preset
    # Under a title of its own (a scenario file's, shared), the preset's description and notes
    # would describe another scenario: only where the settings started is said.
    pivot = sim.scenarios.load_preset("pivot")
    shown = " ".join(texts(at.markdown))
    assert pivot.description[:40] not in shown
    assert "Teaching notes" not in [e.label for e in at.expander]
    # Under the preset's own title, "(modified)", they stay beside what changed.
    modified = open_app({"scenario": "pivot", "incentives.sales": "local_metric"})
    assert pivot.description[:40] in " ".join(texts(modified.markdown))
    assert "Teaching notes" in [e.label for e in modified.expander]


def test_a_title_of_its_own_stays_until_the_settings_change():
    """A link's (or file's) title is kept when Run only changes the seed, and marked
    "(modified)" once a lever moves; a preset's title comes back when its settings do."""
    at = open_app({"scenario": "pivot", "title": "Proposal X"})
    at.number_input(key="run.seed").set_value(7)
    at.button(key="sb.run").click().run()
    assert_clean(at)
    assert at.title[0].value == "Proposal X" and at.query_params["seed"] == "7"
    at.number_input(key="lever.reviews.council.interval_weeks").set_value(2.0)
    at.button(key="sb.run").click().run()
    assert at.title[0].value == views.plain("Proposal X (modified)")
    preset = open_app({"scenario": "pivot"})
    preset.number_input(key="lever.reviews.council.interval_weeks").set_value(2.0)
    preset.button(key="sb.run").click().run()
    assert preset.title[0].value == views.plain("Pivot: the market moves (modified)")
    preset.number_input(key="lever.reviews.council.interval_weeks").set_value(4.0)
    preset.button(key="sb.run").click().run()
    assert preset.title[0].value == views.plain("Pivot: the market moves")


def test_a_change_from_a_single_pair_gets_no_arrow():
    """Drift in sales: the baseline's detection lag exists in one replication of twelve, so the
    paired change rests on one pair and is not shown as a firm result."""
    at = open_app({"reps": "12", "incentives.sales": "local_metric", "base": "aligned-baseline"})
    assert_clean(at)
    lag = next(m for m in at.metric if m.label == KPIS["detection_lag_days"].label)
    assert lag.proto.delta == "" and lag.proto.delta_description == ""
    (note,) = [c for c in texts(at.caption) if c.startswith("Detection lag:")]
    assert note.startswith("Detection lag: no change is shown (1 pair: too few to compare).")
    retention = next(m for m in at.metric if m.label == KPIS["retention_52w"].label)
    assert retention.proto.delta.startswith("−")  # a change from every pair keeps its arrow


def test_a_weeks_variant_and_baseline_rows_sit_together_in_the_weekly_table():
    at = open_app({"scenario": "drifting-incentives", "base": "aligned-baseline", "tab": "tables"})
    assert_clean(at)
    weekly = at.dataframe[2].value
    assert list(weekly["run"].iloc[:4]) == ["variant", "baseline", "variant", "baseline"]
    assert list(weekly["week"].iloc[:4]) == [0, 0, 1, 1]
    # Metrics keep their order (the charts' order), each a block of weeks.
    blocks = list(dict.fromkeys(weekly["metric"]))
    assert blocks[0] == series_label(views.CHARTED_METRICS[0]) and len(blocks) == len(set(blocks))
    assert (
        weekly.groupby("metric", sort=False)["week"].apply(lambda w: w.is_monotonic_increasing)
    ).all()


@pytest.mark.parametrize(
    ("query", "said"),
    [
        ({}, "· 0 settings differ from the defaults ·"),
        ({"scenario": "sales-led-drift"}, "· 1 setting differs from the defaults ·"),
        ({"scenario": "drifting-incentives"}, "· 3 settings differ from the defaults ·"),
    ],
)
def test_the_run_line_counts_the_changed_settings_in_words(query, said):
    at = open_app(query)
    assert_clean(at)
    assert any(said in c for c in texts(at.caption)), texts(at.caption)


def test_one_run_is_called_this_run_and_a_pair_baseline_and_variant():
    import json

    def legends(at) -> set[str]:
        names: set[str] = set()

        def walk(node) -> None:
            if isinstance(node, dict):
                color = node.get("color")
                scale = color.get("scale") if isinstance(color, dict) else None
                if isinstance(scale, dict) and isinstance(scale.get("domain"), list):
                    names.update(map(str, scale["domain"]))
                for value in node.values():
                    walk(value)
            elif isinstance(node, list):
                for value in node:
                    walk(value)

        for chart in at.get("vega_lite_chart"):
            walk(json.loads(chart.proto.spec))
        return names

    alone = open_app({})
    assert_clean(alone)
    assert "This run" in legends(alone) and "Variant" not in legends(alone)
    assert any("(this run)" in c for c in texts(alone.caption)), texts(alone.caption)
    paired = open_app({"scenario": "drifting-incentives", "base": "aligned-baseline"})
    assert {"Baseline", "Variant"} <= legends(paired) and "This run" not in legends(paired)


# Sales on a mixed scorecard and a council every two weeks, against sales-led drift: some changes
# clear, some not.
MIXED_SALES = {
    "scenario": "sales-led-drift",
    "incentives.sales": "mixed",
    "reviews.council.interval_weeks": "2",
    "base": "sales-led-drift",
    "reps": "30",
}


def test_a_change_that_is_not_clear_is_grey_and_says_so(app):
    """A tile's change is green or red only when its 90% interval of paired runs leaves out zero;
    otherwise it is grey, its line says "not clear" and its help gives the interval."""
    at = app(MIXED_SALES)
    assert_clean(at)
    grey = Metric.MetricColor.Value("GRAY")
    colours = {}
    for tile in at.metric:
        proto = tile.proto
        unclear = proto.delta_description.endswith(" · not clear")
        assert (proto.color == grey) is unclear, (tile.label, proto.color)
        assert proto.help.endswith(
            ", so it is grey: in some paired runs it goes the other way." if unclear else "."
        ), proto.help
        assert "Change against the baseline: " in proto.help
        colours[tile.label] = proto.color
    # Both kinds on this page: retention rises clearly (green); value delivered is unclear.
    assert colours["52-week retention"] == Metric.MetricColor.Value("GREEN")
    assert colours["Value delivered"] == grey


def test_a_weekly_difference_is_judged_over_the_horizon_before_its_last_week(app):
    """New customers sit about nine a week below the baseline all along, while the last week's
    band alone holds zero: the text leads with the average, which is clear."""
    at = app({**MIXED_SALES, "tab": "delivery", "show": "signups"})
    assert_clean(at)
    (text,) = [
        c for c in texts(at.caption) if c.startswith("New customers, averaged over the horizon: −")
    ]
    assert re.match(
        r"New customers, averaged over the horizon: −[\d.]+ customers per week \(90% of paired "
        r"runs −[\d.]+ to −[\d.]+ customers per week\); below zero in at "
        r"least 95% of paired runs\. In the last week: New customers at week 103: ",
        text,
    ), text


def test_event_reviews_that_few_replications_called_say_so_until_a_shock_calls_them():
    quiet = re.compile(
        r"Event-triggered reviews were on, but (only [12] of 8 replications|no replication) called one"
    )
    at = open_app({"reviews.event.enabled": "true"})  # at these thresholds, a rare call
    assert_clean(at)
    assert any(quiet.match(t) for t in texts(at.info)), texts(at.info)
    at = open_app({"reviews.event.enabled": "true", "market.demand_shock_enabled": "true"})
    assert_clean(at)
    assert len(at.metric) == 6  # the page ran; under the shock the reviews were called
    assert not any(quiet.match(t) for t in texts(at.info))


def test_changed_settings_that_cannot_act_are_named_with_why():
    idle = re.compile(r"Changed, but without effect in this run: ")
    at = open_app(
        {
            "reps": "4",
            "reviews.council.enabled": "false",
            "reviews.council.interval_weeks": "2",
            "decisions.rights": "delegated",
            "decisions.escalation_size_person_days": "10",
        }
    )
    assert_clean(at)
    (note,) = [t for t in texts(at.info) if idle.match(t)]
    assert note == (
        "Changed, but without effect in this run: the council interval, as the council is off; "
        "the escalation threshold, as decision rights are delegated (nothing is escalated)."
    )
    at = open_app({"reps": "4", "reviews.council.interval_weeks": "2"})  # the council is held
    assert_clean(at)
    assert len(at.metric) == 6
    assert not [t for t in texts(at.info) if idle.match(t)]
