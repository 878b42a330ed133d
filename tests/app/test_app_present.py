"""Presentation mode, the event timeline and the decision brief on the Sandbox, under AppTest."""

from __future__ import annotations

import json
import re
from urllib.parse import parse_qs, urlsplit

import numpy as np
import pandas as pd
import pytest
from streamlit.proto.Metric_pb2 import Metric as MetricProto
from streamlit.testing.v1 import AppTest

from app import compute, controls, figures, present, views
from app.state import (
    SandboxState,
    auto_title,
    decode_sandbox,
    encode_sandbox,
    preset_setup,
)
from sim.outcomes import KPIS
from sim.runner import run_many
from sim.scenarios import load_preset

from .helpers import FAST_REPS, assert_clean, open_app, texts

THREE = [KPIS[k].label for k in ("retention_52w", "median_ttv_days", "value_delivered")]
PROPOSAL = {"scenario": "drifting-incentives", "base": "aligned-baseline"}


def assert_presenting(at: AppTest) -> None:
    """Presentation mode against a baseline: the three KPIs, the paragraph and why, no controls."""
    assert_clean(at)
    assert [m.label for m in at.metric] == THREE
    # Paired deltas against the baseline, with the sentences' minus sign, and arrows that point
    # the way each KPI moved.
    deltas = [m.proto.delta for m in at.metric]
    assert deltas[0].startswith("−") and deltas[1].startswith("+") and deltas[2].startswith("−")
    down, up = MetricProto.MetricDirection.DOWN, MetricProto.MetricDirection.UP
    assert [m.proto.direction for m in at.metric] == [down, up, down]
    # A tile's value, its change and the line under it use the same words for the unit.
    value = at.metric[2]
    assert value.value.endswith(" points") and value.proto.delta.endswith(" points"), value.value
    assert "pts" not in " ".join(m.value for m in at.markdown if m.value.startswith("##### "))
    heads = texts(at.subheader)
    assert heads[:3] == THREE
    paragraph = heads[3]
    assert paragraph.startswith("The proposal lowers 52-week retention")
    assert "paired runs" in paragraph
    # What moved the other way: drift brings more customers in, however short their stay.
    assert heads[4].startswith("On the other side of the ledger, it raises active customers")
    assert heads[5].startswith("Why: ") and "incentive" in heads[5]  # no anchor link on it
    assert at.header[0].value == "against Aligned baseline"
    # No clutter: no display options, no data tabs; the levers stay on the page, in the sidebar
    # the projector's style sheet hides (so edits not yet run are kept for the way back).
    assert not at.main.selectbox and not at.tabs and not at.get("select_slider")
    assert at.sidebar.selectbox and at.sidebar.button(key="sb.run")
    # Retention and value delivered to date, each beside its paired difference (the curves are
    # close together).
    specs = [json.loads(chart.proto.spec) for chart in at.get("vega_lite_chart")]
    assert len(specs) == 4
    assert len(at.columns) == 3 + 2 + 2  # the three tiles, then two rows of two charts
    assert specs[1]["title"]["text"] == "Retention: proposal − baseline (paired)"
    assert specs[2]["title"]["text"] == "Value delivered to date"
    assert specs[3]["title"]["text"] == ["Value delivered to date:", "proposal − baseline (paired)"]
    # Value is drawn as the headline compares it: built up over the horizon, ending at the tile.
    value = next(c for c in texts(at.caption) if c.startswith("Value delivered to date, by the "))
    base, proposal = (
        float(n.replace(",", ""))
        for n in re.search(
            r"week 103: ([\d,.]+) points for the baseline .*?and ([\d,.]+) points for the proposal ",
            value,
        ).groups()
    )
    assert proposal < base  # as the paragraph says: the proposal lowers value delivered
    tile = at.metric[2]
    assert tile.value == f"{proposal:,.0f} points", (tile.value, proposal)
    gap = next(c for c in texts(at.caption) if c.startswith("Value delivered to date at week 103"))
    change = tile.proto.delta
    want = f"Value delivered to date at week 103: {change} (90% band −"
    assert gap.startswith(want), (gap, change)
    assert gap.endswith("At the last week, this is the value tile's change.")
    difference = next(
        c for c in texts(at.caption) if c.startswith("Retention at 52 weeks of age: −")
    )
    assert " points (90% band −" in difference  # in the words of the tiles above it
    # Why it need not read as the tile does, with the tile's change beside it.
    tile = at.metric[0].proto.delta
    assert difference.endswith(
        f"The curve pools every cohort at each age; the tile's 52-week retention ({tile}) counts "
        "only the customers at least a year old, so the two differ a little."
    ), (difference, tile)
    for chart in at.get("vega_lite_chart"):  # text to read from across a room, a taller plot
        spec = json.loads(chart.proto.spec)
        for part in ("axis", "legend"):
            assert spec["config"][part]["labelFontSize"] == figures.PROJECTOR_TEXT_PX
        assert spec["title"]["fontSize"] == figures.PROJECTOR_TITLE_PX
        assert spec["height"] == figures.PROJECTOR_HEIGHT
    assert at.query_params["present"] == "1"
    # The tiles' numbers and the text under the charts a size up, by a fixed style sheet (after the
    # one every page has).
    assert [e.proto.body for e in at.get("html")] == [
        views.STEADY_CSS,
        controls.RUN_CSS,  # the sidebar's, hidden with it
        present.PROJECTOR_CSS,
    ]


def why_later(at: AppTest) -> AppTest:
    """The page as it is once the why has been worked out: the first run into presentation mode
    leaves it to a fragment's timer, which AppTest does not run; the next run works it out."""
    assert not [h for h in texts(at.subheader) if h.startswith("Why: ")]
    assert "Working out why the numbers moved…" in texts(at.caption)
    return at.run()


def brief(at: AppTest):
    (button,) = [b for b in at.get("download_button") if b.proto.label == "Download decision brief"]
    return button


def test_the_brief_waits_for_the_redraw_that_brings_the_why():
    """The run that leaves the why to its fragment is redrawn once the why is ready; a click on its
    brief button in between would ask for a download that redraw has replaced, so it waits."""
    at = open_app({**PROPOSAL, "present": "1"})
    assert brief(at).proto.disabled
    assert brief(at).proto.help == present.BRIEF_WAITING_HELP
    at = why_later(at)
    assert not brief(at).proto.disabled and brief(at).proto.help == present.BRIEF_HELP
    at.run()  # the same run again: its why is known, nothing waits
    assert not brief(at).proto.disabled


def test_the_toggle_switches_presentation_mode_on_and_off():
    at = open_app(PROPOSAL)
    assert len(at.metric) == 6
    at.toggle(key="view.present").set_value(True).run()
    assert_presenting(why_later(at))
    at.toggle(key="view.present").set_value(False).run()
    assert_clean(at)
    assert len(at.metric) == 6
    for chart in at.get("vega_lite_chart"):  # the Sandbox's own charts keep their desk size
        spec = json.loads(chart.proto.spec)
        assert "labelFontSize" not in spec.get("config", {}).get("axis", {})
        assert spec["height"] < figures.PROJECTOR_HEIGHT
    # The Sandbox keeps its own type sizes: its only style sheet of its own keeps the Run button in
    # view.
    assert [e.proto.body for e in at.get("html")] == [views.STEADY_CSS, controls.RUN_CSS]
    assert at.sidebar.selectbox  # the levers are back, with the applied settings
    assert at.selectbox(key="lever.incentives.sales").value == "local_metric"
    assert "present" not in at.query_params


def test_display_options_survive_presenting_across_a_visit_to_another_page():
    """Presenting, then Compare and back, then presentation mode off: the display options are
    drawn as they were (they came back at their first option, and the next click applied that)."""
    shown = {"tab": "delivery", "show": "throughput", "teams": "1", "band": "50"}
    at = open_app({**PROPOSAL, **shown})
    at.toggle(key=controls.PRESENT_KEY).set_value(True).run()
    why_later(at)
    at.switch_page("app/pages/compare.py").run()
    at.switch_page("app/pages/sandbox.py").run()
    assert_presenting(at)
    at.toggle(key=controls.PRESENT_KEY).set_value(False).run()
    assert_clean(at)
    widgets = (
        at.selectbox(key=controls.METRIC_KEY),
        at.toggle(key=controls.TEAMS_KEY),
        at.select_slider(key=controls.BAND_KEY),
    )
    assert [w.value for w in widgets] == ["throughput", True, 50]
    # The browser draws a widget that was off the page at its default unless the page sends its
    # value again (AppTest reads the value from Session State either way).
    assert all(w.proto.set_value for w in widgets)
    at.run()  # the next interaction keeps them too
    assert at.selectbox(key=controls.METRIC_KEY).value == "throughput"
    assert {k: at.query_params[k] for k in shown} == shown


def test_for_projector_restyles_a_copy_and_keeps_larger_settings():
    spec = {
        "title": {"text": "T", "fontSize": 14},
        "height": 200,
        "config": {"axis": {"grid": True}},
    }
    big = figures.for_projector(spec)
    assert big["config"]["axis"] == {
        "grid": True,
        "labelFontSize": figures.PROJECTOR_TEXT_PX,
        "titleFontSize": figures.PROJECTOR_TEXT_PX,
    }
    assert big["title"] == {"text": "T", "fontSize": figures.PROJECTOR_TITLE_PX}
    assert big["height"] == figures.PROJECTOR_HEIGHT
    assert spec["height"] == 200 and spec["config"] == {"axis": {"grid": True}}  # not changed
    assert figures.for_projector({**spec, "height": 500})["height"] == 500


def test_a_present_link_opens_presentation_mode():
    at = open_app({**PROPOSAL, "present": "1"})
    assert_presenting(why_later(at))
    assert not at.warning  # present is a display parameter, not a setting


def test_without_a_baseline_it_says_so_and_offers_the_aligned_one():
    at = open_app({"scenario": "drifting-incentives", "present": "1"})
    assert_clean(at)
    assert any("no baseline" in w for w in texts(at.warning))
    assert [m.label for m in at.metric] == THREE
    assert not any(m.proto.delta for m in at.metric)
    at.button(key="present.aligned").click().run()
    assert_presenting(why_later(at))
    assert at.query_params["base"] == "aligned-baseline"


def test_the_aligned_baseline_is_not_offered_against_itself():
    at = open_app({"present": "1"})  # the aligned baseline, unchanged
    assert_clean(at)
    warning = next(w for w in texts(at.warning) if "no baseline" in w)
    assert warning.endswith("(then change a lever and run).")
    assert at.button(key="present.aligned").disabled


def test_a_baseline_that_cannot_run_at_the_horizon_is_the_one_reason_given():
    at = open_app({"base": "pivot", "horizon_weeks": "26", "present": "1"})
    assert_clean(at)
    warnings = texts(at.warning)
    assert len(warnings) == 1 and "cannot be re-run at this run's horizon" in warnings[0]
    assert at.button(key="present.aligned")  # a baseline is still offered


def test_pinning_from_presentation_mode_returns_to_the_levers():
    at = open_app({"scenario": "drifting-incentives", "present": "1"})
    at.button(key="present.pin").click().run()
    assert_clean(at)
    assert len(at.metric) == 6 and at.sidebar.selectbox
    assert at.query_params["base"] == "drifting-incentives"


def test_present_is_encoded_only_when_on_and_read_back():
    state = SandboxState(variant=preset_setup("pivot"))
    assert "present" not in encode_sandbox(state)
    state.present = True
    query = encode_sandbox(state)
    assert query["present"] == "1"
    back, warnings = decode_sandbox(query)
    assert back.present and not warnings
    # Per-team detail, the other switch a link carries, is written the same way.
    state.teams = True
    assert encode_sandbox(state)["teams"] == "1"
    assert decode_sandbox(encode_sandbox(state))[0].teams
    off, warnings = decode_sandbox({"present": "0"})
    assert not off.present and not warnings
    bad, warnings = decode_sandbox({"present": "maybe"})
    assert not bad.present
    assert warnings == [
        "URL parameter present = 'maybe' is not allowed: 1 (on) or 0 (off), as the app's links "
        "write it. Using 0 (off)."
    ]


def timeline(at: AppTest) -> pd.DataFrame:
    """The event timeline table (the page's only table with these columns)."""
    (table,) = [d.value for d in at.dataframe if "what" in d.value.columns]
    return table


def test_the_timeline_lists_the_representative_replications_events():
    at = open_app({"scenario": "drifting-incentives", "tab": "timeline"})
    assert_clean(at)
    table = timeline(at)
    assert list(table.columns) == ["week", "what", "team", "detail"]
    assert {"Product council", "Items escalated", "Drift corrected"} <= set(table["what"])
    assert table["week"].is_monotonic_increasing
    reviews = table[table["what"] == "Product council"]
    assert reviews["detail"].str.contains("detected|no drift detected").all()
    # The replication whose 52-week retention is closest to the median, named on the page.
    kpis = run_many(load_preset("drifting-incentives").params, int(FAST_REPS), 1).kpis()
    retention = kpis["retention_52w"].to_numpy()
    typical = int(np.argmin(np.abs(retention - np.median(retention))))
    assert any(f"**Replication {typical + 1}**, a typical one" in m for m in texts(at.markdown))
    # Filter by kind.
    at.get("button_group")[0].set_value(["Reviews"]).run()
    assert_clean(at)
    only = timeline(at)
    assert 0 < len(only) < len(table)
    assert set(only["what"]) <= {"Metric review", "Product council", "Strategy review"}


def test_representative_replication_is_closest_to_the_median():
    kpis = pd.DataFrame(
        {
            "replication": [0, 1, 2, 3, 4],
            "retention_52w": [0.30, 0.36, 0.33, 0.31, 0.40],
            "value_delivered": [1.0, 2.0, 3.0, 4.0, 5.0],
        }
    )
    assert compute.representative_replication(kpis)["replication"] == 2
    kpis["retention_52w"] = np.nan  # a short horizon: value delivered decides
    picked = compute.representative_replication(kpis)
    assert picked["kpi"] == "value_delivered" and picked["replication"] == 2


def test_the_alignment_chart_marks_escalations_of_the_same_replication():
    res = run_many(load_preset("drifting-incentives").params, 3, 1)
    typical = {**compute.representative_replication(res.kpis()), "replication": 2}
    view = {
        "bands": res.bands(),
        "events": res.event_log(typical["replication"]),
        "representative": typical,
        "teams": list(res.team_names),
    }
    figure = figures.alignment_figure(view, None, 90, False)
    assert figure.layout["escalations"] and "escalations" in figure.data
    spec = figure.to_dict()["spec"]
    marks = [layer["mark"]["type"] for layer in spec["layer"]]
    assert "tick" in marks and marks[-1] == "rule"  # the hover rule stays on top
    legends = [
        layer["encoding"]["strokeDash"]["legend"]["title"]
        for layer in spec["layer"]
        if "strokeDash" in layer.get("encoding", {})
    ]
    assert legends == ["Reviews (replication 3)"]
    assert "items were escalated" in figure.text


def test_the_brief_button_appears_with_a_baseline():
    at = open_app({"scenario": "drifting-incentives"})
    assert not [b for b in at.get("download_button") if b.proto.label == "Download decision brief"]
    with_base = open_app(PROPOSAL)
    assert [b for b in with_base.get("download_button") if "decision brief" in b.proto.label]


@pytest.mark.parametrize(
    ("variant", "expected"),
    [
        (
            {"incentives.sales": "local_metric"},
            "python -m sim brief aligned-baseline aligned-baseline --seed 3 --replications 20 "
            "--weeks 104 --set incentives.sales=local_metric",
        ),
        ({}, "python -m sim brief aligned-baseline aligned-baseline --seed 3"),
    ],
)
def test_the_brief_command_regenerates_the_run(variant, expected):
    base = preset_setup("aligned-baseline")
    setup = preset_setup("aligned-baseline")
    overrides = {**setup.overrides, **variant}
    setup = type(setup)(setup.preset, setup.title, overrides)
    setup = type(setup)(setup.preset, auto_title(setup.preset, setup.params), overrides)
    command = present.brief_command(setup, base, 3, 20, 104)
    assert command.startswith(expected)
    link = present.brief_link("http://host:8501", setup, base, 3, 20)
    assert link.startswith("http://host:8501/?") and "seed=3" in link and "base=aligned" in link
    assert "title=" not in link  # the title such settings get anyway
    named = type(setup)(setup.preset, "Proposal X", setup.overrides)
    query = parse_qs(urlsplit(present.brief_link("http://host:8501", named, base, 3, 20)).query)
    assert query["title"] == ["Proposal X"]  # the brief's link opens under the brief's title


def test_an_unchanged_kpi_gets_no_arrow_and_one_interval_end():
    """Sales drifting leaves value delivered exactly as it was: no green arrow for "±0 points",
    and the line under the tile gives the interval once."""
    at = open_app({"scenario": "sales-led-drift", "base": "aligned-baseline", "present": "1"})
    assert_clean(at)
    tiles = {m.label: m.proto for m in at.metric}
    value = tiles[KPIS["value_delivered"].label]
    # Said as the line under it says it, not as a bare "0"; grey and without an arrow.
    assert value.delta == "±0 points" and value.direction == MetricProto.MetricDirection.NONE
    assert value.color == MetricProto.MetricColor.GRAY
    retention = tiles[KPIS["retention_52w"].label]  # a KPI that moved keeps its arrow
    assert retention.direction == MetricProto.MetricDirection.DOWN
    # With the minus sign of the sentences (Streamlit would read it as a rise), in red.
    assert retention.delta.startswith("−") and retention.color == MetricProto.MetricColor.RED
    lines = [m.value for m in at.markdown if m.value.startswith("##### Baseline")]
    assert lines[2].endswith(views.plain("difference ±0 points · the same in every pair")), lines[2]
    # P(proposal better) is in these lines' larger type, not in small print in the tiles.
    assert lines[0].endswith(views.plain(" · P(proposal better) 0%")), lines[0]
    assert not any(t.delta_description for t in tiles.values())
    assert "to ±0" not in lines[2]


def test_the_why_explains_the_first_headline_kpi_that_clearly_changed():
    def table(**clear):
        rows = []
        for kpi in ("retention_52w", "median_ttv_days", "value_delivered", "activation_rate"):
            lo, hi = (0.1, 0.3) if clear.get(kpi) else (-0.1, 0.3)
            rows.append(
                {"kpi": kpi, "diff_mean": 0.1, "diff_p05": lo, "diff_p95": hi, "p_better": 0.7}
            )
        return pd.DataFrame(rows)

    assert compute.why_kpi(104, table(retention_52w=True, value_delivered=True)) == "retention_52w"
    assert (
        compute.why_kpi(104, table(value_delivered=True)) == "value_delivered"
    )  # retention unclear
    assert (
        compute.why_kpi(104, table(median_ttv_days=True, value_delivered=True)) == "median_ttv_days"
    )
    assert (
        compute.why_kpi(104, table(activation_rate=True)) == "retention_52w"
    )  # none clear: the default
    assert compute.why_kpi(104) == "retention_52w"
    # Too short a horizon for 52-week retention: never that one.
    assert compute.why_kpi(40, table(retention_52w=True)) == "value_delivered"
    assert compute.why_kpi(40, table(retention_52w=True, median_ttv_days=True)) == "median_ttv_days"


def test_presentation_mode_says_what_the_proposal_changed_from_its_preset():
    at = open_app({"incentives.sales": "local_metric", "base": "aligned-baseline", "present": "1"})
    assert_clean(at)
    assert at.title[0].value == views.plain("Aligned baseline (modified)")
    lines = [m.value for m in at.markdown if m.value.startswith("##### Changed from")]
    assert lines == [
        "##### "
        + views.plain(
            "Changed from Aligned baseline: Sales is paid on: Shared outcome → Local metric."
        )
    ]


def test_too_many_changed_settings_are_explained_in_groups():
    """Meeting overload changes 7 settings (over the 6 split one by one): the why splits the
    difference among the three reviews' settings instead of giving up."""
    at = why_later(
        open_app({"scenario": "meeting-overload", "base": "aligned-baseline", "present": "1"})
    )
    assert_clean(at)
    heads = texts(at.subheader)
    why = next(h for h in heads if h.startswith("Why: "))
    groups = ("the metric review settings", "the council settings", "the strategy review settings")
    assert sum(g in why.lower() for g in groups) >= 2, why  # split among the reviews' groups
    assert not any("No “why” sentence" in c for c in texts(at.caption))


@pytest.mark.parametrize(
    ("title", "name"),
    [
        ("Drifting incentives (modified)", "decision-brief-drifting-incentives-modified.html"),
        ("Équipe «A» — Q3", "decision-brief-equipe-a-q3.html"),
        ("=cmd|' /C calc'!A0", "decision-brief-cmd-c-calc-a0.html"),
        ("../../etc/passwd", "decision-brief-etc-passwd.html"),
        ("日本", "decision-brief.html"),
        ("x" * 200, f"decision-brief-{'x' * 60}.html"),
    ],
)
def test_the_briefs_file_is_named_after_the_proposal_in_plain_letters(title, name):
    assert present.brief_file_name(title) == name
    # A settings file the same way, with nothing before the title.
    toml = name.removeprefix("decision-brief-").removesuffix(".html")
    assert views.file_name("", title, "toml") == (
        "scenario.toml" if toml == "decision-brief" else f"{toml}.toml"
    )
