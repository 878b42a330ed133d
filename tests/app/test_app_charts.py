"""Chart builders and number formats, without a server."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from sim.outcomes import KPIS
from sim.report import charts
from sim.report.format import (
    compare_kpi_table,
    count,
    describe_band,
    describe_difference,
    fmt_delta,
    fmt_value,
    kpi_table,
)


def band(n: int = 20, level: float = 0.5) -> pd.DataFrame:
    week = np.arange(n)
    return pd.DataFrame(
        {"week": week, "mean": level + 0 * week, "lo": level - 0.1, "hi": level + 0.1}
    )


def layers(spec: dict) -> list[dict]:
    return spec["layer"]


def test_band_chart_has_band_line_tooltip_and_units():
    chart = charts.band_chart(
        {"Variant": band()}, y_title="Share", unit="share", y_format=".0%", title="T"
    )
    spec = chart.to_dict()
    marks = [layer["mark"]["type"] for layer in layers(spec)]
    assert marks == ["area", "line", "rule"]
    area, line, hover = layers(spec)
    assert area["encoding"]["y"]["field"] == "lo" and area["encoding"]["y2"]["field"] == "hi"
    assert area["encoding"]["y"]["axis"]["format"] == ".0%"
    assert line["encoding"]["x"]["title"] == "Week"
    assert line["encoding"]["y"]["title"] == "Share"
    assert [t["title"] for t in hover["encoding"]["tooltip"]] == ["Week", "Variant"]
    assert spec["usermeta"]["embedOptions"]["renderer"] == "svg"


def test_baseline_is_grey_and_drawn_first():
    chart = charts.band_chart(
        {"Baseline": band(level=0.4), "Variant": band()},
        y_title="Share",
        unit="share",
        title="T",
        colors={"Baseline": charts.BASELINE_COLOR, "Variant": charts.VARIANT_COLOR},
    )
    spec = chart.to_dict()
    first = layers(spec)[0]
    scale = first["encoding"]["color"]["scale"]
    assert scale["domain"] == ["Baseline", "Variant"]
    assert scale["range"][0] == charts.BASELINE_COLOR
    datasets = spec["datasets"]
    assert datasets[first["data"]["name"]][0]["series"] == "Baseline"


def test_tooltip_text_has_units():
    chart = charts.band_chart({"Variant": band()}, y_title="Share", unit="share", title="T")
    spec = chart.to_dict()
    hover = layers(spec)[-1]
    row = spec["datasets"][hover["data"]["name"]][0]
    assert row["s0"] == "50.0% (40.0% to 60.0%)"


def test_difference_chart_signs_values_and_marks_zero():
    chart = charts.band_chart(
        {"Δ": band(level=0.02)}, y_title="Δ", unit="share", title="T", delta=True, zero_rule=True
    )
    spec = chart.to_dict()
    hover = layers(spec)[-1]
    assert spec["datasets"][hover["data"]["name"]][0]["s0"].startswith(
        "+2.0 points (−8.0 to +12 points)"
    )
    assert any(
        layer["mark"]["type"] == "rule" and "y" in layer["encoding"] for layer in layers(spec)
    )


def test_alignment_chart_marks_reviews_and_shocks():
    events = pd.DataFrame(
        {
            "replication": 0,
            "day": [28.0, 70.0, 210.0, 8.0],
            "week": [4, 10, 30, 1],
            "kind": ["review.council", "review.strategy", "market_shift", "review.metric"],
            "team": "",
            "detail": ["no drift detected", "detected Sales", "moved", "weekly"],
        }
    )
    frame = charts.events_frame(events)
    assert list(frame["what"]) == ["Product council", "Strategy review", "Market shift"]
    chart = charts.alignment_chart(
        {"Variant": band(40, 0.8)},
        team_frames={"Product 1": band(40, 0.7), "Sales": band(40, 0.6)},
        events=frame,
    )
    spec = chart.to_dict()
    marks = [layer["mark"]["type"] for layer in layers(spec)]
    assert marks.count("rule") == 3  # reviews, shocks, hover
    legends = [layer["encoding"]["color"] for layer in layers(spec) if "color" in layer["encoding"]]
    assert all(c["scale"]["domain"] == ["Variant", "Product 1", "Sales"] for c in legends)


def test_band_chart_needs_a_series():
    with pytest.raises(ValueError):
        charts.band_chart({}, y_title="y", unit="", title="t")


@pytest.mark.parametrize(
    ("value", "unit", "text"),
    [
        (0.3456, "share", "34.6%"),
        (12.34, "days", "12.3 days"),
        (4385.6, "value points", "4,386 points"),
        (0.8971, "alignment", "0.897"),
        (None, "share", "n/a"),
        (float("nan"), "days", "n/a"),
    ],
)
def test_values_carry_units(value, unit, text):
    assert fmt_value(value, unit) == text


def test_deltas_are_signed_and_shares_in_points():
    assert fmt_delta(-0.012, "share") == "−1.2 points"  # a minus sign, as sentences write
    assert fmt_delta(2.0, "days") == "+2.0 days"


@pytest.mark.parametrize(
    ("value", "unit", "text"),
    [
        (-0.00004, "share", "±0.0 points"),  # not "−0.0 points"
        (0.0, "value points", "±0 points"),
        (-0.4, "value points", "±0 points"),
        (-0.6, "value points", "−1 point"),
        (0.0004, "alignment", "±0.000"),
        (0.0006, "alignment", "+0.001"),
    ],
)
def test_a_delta_that_rounds_to_zero_has_no_sign(value, unit, text):
    assert fmt_delta(value, unit) == text


def test_text_alternatives_name_values_and_band():
    text = describe_band(band(), x="week", what="Activation", unit="share", width=90)
    assert "50.0% at week 0" in text and "90% band 40.0% to 60.0%" in text
    diff = describe_difference(band(level=0.15), x="week", what="Retention", unit="share", width=80)
    assert "band excludes zero" in diff
    flat = describe_difference(band(level=0.0), x="week", what="Retention", unit="share", width=80)
    assert "includes zero" in flat
    # Read where asked (retention's at 52 weeks, as its tile), else where the curve ends.
    by_age = pd.DataFrame(
        {"age_weeks": range(105), "mean": np.linspace(0, -0.02, 105), "lo": -0.03, "hi": 0.01}
    )
    at52 = describe_difference(by_age, x="age_weeks", what="Retention", unit="share", width=90,
                               x_word="age", at=52)  # fmt: skip
    # In the words of the tiles' changes and the headline, with a true minus sign.
    assert at52.startswith(
        "Retention at 52 weeks of age: −1.0 points (90% band −3.0 to +1.0 points)"
    )
    end = describe_difference(by_age.head(30), x="age_weeks", what="Retention", unit="share",
                              width=90, x_word="age", at=52)  # fmt: skip
    assert end.startswith("Retention at 29 weeks of age: ")


def test_kpi_table_explains_null_values():
    summary = {k: {"mean": 1.0, "p05": 0.5, "p50": 1.0, "p95": 1.5} for k in KPIS}
    summary["retention_52w"] = {"mean": None, "p05": None, "p50": None, "p95": None}
    table = kpi_table(summary).set_index("KPI")
    assert (
        "horizon is shorter than 52 weeks" in table.loc["52-week retention", "90% of replications"]
    )


def test_kpi_tables_say_when_a_value_comes_from_some_replications():
    """Detection lag from 6 of 100 replications: the tables say how many it rests on. From one, it
    read "81.4 days (81.4 days to 81.4 days)" beside values from all: too few for a mean, as the
    tiles say."""
    summary = {
        k: {"mean": 1.0, "p05": 0.5, "p50": 1.0, "p95": 1.5, "n": 100, "of": 100} for k in KPIS
    }
    some = {"mean": 81.4, "p05": 60.0, "p50": 80.0, "p95": 99.0, "n": 6, "of": 100}
    summary["detection_lag_days"] = some
    table = kpi_table(summary).set_index("KPI")
    assert table.loc["Detection lag", "90% of replications"] == (
        "60.0 to 99.0 days; from 6 of 100 replications"  # the unit once, for a narrow column
    )
    assert "from" not in table.loc["Lead time", "90% of replications"]
    one = {**summary, "detection_lag_days": {**some, "p05": 81.4, "p95": 81.4, "n": 1}}
    table = kpi_table(one).set_index("KPI")
    assert table.loc["Detection lag", "Mean"] == "n/a"
    assert table.loc["Detection lag", "90% of replications"] == (
        "only 1 of 100 replications has a value: too few for a mean"
    )
    both = compare_kpi_table(
        {"A": summary, "B": {**summary, "detection_lag_days": summary["lead_time_days"]}, "C": one}
    )
    both = both.set_index("KPI")
    assert (
        both.loc["Detection lag", "A"]
        == "81.4 days (60.0 to 99.0 days; from 6 of 100 replications)"
    )
    assert both.loc["Detection lag", "B"] == "1.0 days (0.5 to 1.5 days)"
    assert both.loc["Detection lag", "C"] == "n/a (only 1 of 100 replications has a value)"


def test_figure_specs_do_not_depend_on_the_data():
    from app.figures import weekly_figure

    def figure(level: float):
        return weekly_figure(
            {"Variant": band(level=level)}, "activation_rate", 90, key="k", title="T", section="S"
        )

    a, b = figure(0.4).to_dict(), figure(0.6).to_dict()
    assert a["spec"]["datasets"] != b["spec"]["datasets"]
    without_data = [{k: v for k, v in f["spec"].items() if k != "datasets"} for f in (a, b)]
    assert without_data[0] == without_data[1]
    assert set(a["spec"]["datasets"]) == {"s0", "hover"}
    assert all(isinstance(v, bytes) for v in a["spec"]["datasets"].values())
    assert a["text"] != b["text"]


def test_a_figure_is_a_complete_valid_chart():
    from app.figures import weekly_figure

    fig = weekly_figure(
        {"Baseline": band(level=0.3), "Variant": band()},
        "activation_rate",
        80,
        key="k",
        title="Activation",
        section="S",
    )
    spec = fig.chart().to_dict()  # validates against the Vega-Lite schema
    assert set(spec["datasets"]) == {"s0", "s1", "hover"}
    assert spec["datasets"]["s0"][0]["series"] == "Baseline"


def test_a_share_difference_is_drawn_in_points_and_a_long_title_wraps():
    from app.figures import difference_figure

    diff = band(level=0.015)  # +1.5 points of a share
    fig = difference_figure(diff, x="week", x_title="Week", what="Share of capacity spent in reviews",
                            unit="share", width=90, key="d", section="s")  # fmt: skip
    spec = fig.chart().to_dict()
    axes = [layer["encoding"]["y"] for layer in layers(spec) if "y" in layer.get("encoding", {})]
    assert any(a.get("title") == "Δ percentage points" for a in axes)
    assert {a["axis"]["format"] for a in axes if "axis" in a and "format" in a["axis"]} == {"+.1f"}
    # Signed ticks, but zero is "0": "+0.0" read as a change of nothing, up.
    assert {a["axis"].get("labelExpr") for a in axes if "axis" in a} == {
        "datum.value === 0 ? '0' : datum.label"
    }
    assert fig.data["s0"]["mean"].iloc[0] == pytest.approx(1.5)  # points, as the axis says
    assert (
        fig.data["hover"]["s0"].iloc[0] == "+1.5 points (−8.5 to +12 points)"
    )  # tooltips in points
    assert spec["title"]["text"] == [
        "Share of capacity spent in reviews:",
        "variant − baseline (paired)",
    ]
    assert spec["description"] == "Share of capacity spent in reviews: variant − baseline (paired)"
    short = difference_figure(diff, x="week", x_title="Week", what="Value delivered",
                              unit="value points", width=90, key="d", section="s")  # fmt: skip
    assert (
        short.chart().to_dict()["title"]["text"] == "Value delivered: variant − baseline (paired)"
    )
    assert short.data["s0"]["mean"].iloc[0] == pytest.approx(0.015)  # not a share: as it is


def test_a_difference_of_nothing_has_a_readable_axis():
    """A metric no lever reaches differs by zero in every week: with no span, the axis's default
    format wrote its one tick "0.000000"; every difference chart's ticks are signed numbers."""
    from app.figures import difference_figure

    zero = band(level=0.0).assign(lo=0.0, hi=0.0)
    fig = difference_figure(zero, x="week", x_title="Week", what="Backlog", unit="items",
                            width=90, key="d", section="s", pairs=1)  # fmt: skip
    spec = fig.chart().to_dict()
    axes = [layer["encoding"]["y"] for layer in layers(spec) if "y" in layer.get("encoding", {})]
    formats = {a["axis"].get("format") for a in axes if "axis" in a}
    assert formats == {"+,~g"}, formats
    assert fig.text == "Backlog at week 19: ±0 items, the same in the one pair."
    assert fig.data["hover"]["s0"].iloc[0] == "±0 items"  # not "±0 items (±0 to ±0 items)"


def comb(n: int = 52) -> pd.DataFrame:
    """A band whose upper edge reaches a review's load only in some weeks."""
    frame = band(n, level=0.04)
    frame["hi"] = np.where(np.arange(n) % 3 == 0, 0.2, 0.07)
    return frame


def test_a_band_edge_that_jumps_week_to_week_is_told_apart_from_a_trend():
    from app.figures import jumpy_edge

    assert jumpy_edge(comb())
    assert not jumpy_edge(band())  # flat
    trend = band(52)
    trend["hi"] = np.linspace(0.1, 0.3, 52)  # a steady rise spans the range but never jumps
    assert not jumpy_edge(trend)
    step = band(52)
    step["hi"] = np.where(np.arange(52) < 26, 0.1, 0.3)  # one jump, as at a shock
    assert not jumpy_edge(step)
    assert not jumpy_edge(comb(8))  # too few weeks to tell


def test_a_flat_wide_band_is_told_apart_from_a_comb_and_a_narrow_band():
    from app.figures import STAGGERED_REVIEWS, STEADY_REVIEWS, flat_wide_band, review_band_note

    block = band(52, level=0.2)
    block["lo"], block["hi"] = 0.154, 0.421  # weeks without and with a review, every week
    assert flat_wide_band(block) and not flat_wide_band(band(52))  # band(): 0.4 to 0.6
    assert review_band_note({"a": block}) == STEADY_REVIEWS  # one series: nothing to tell apart
    # With two, each note names the series it is about.
    comb_note = "the band's upper edge jumps" + STAGGERED_REVIEWS.removeprefix(
        "The band's upper edge jumps"
    )
    assert review_band_note({"Baseline": band(52), "Pivot": comb()}) == f"For “Pivot”: {comb_note}"
    both = review_band_note({"Baseline": block, "Variant": comb()})
    assert both == (f"For the variant: {comb_note} For the baseline: t{STEADY_REVIEWS[1:]}")
    assert review_band_note({"a": band(52)}) is None
    # Three or more names read as a list: 'For “A”, “B” and “C”', not 'For “A” and “B” and “C”'.
    three = review_band_note({"A": comb(), "B": comb(), "C": comb(), "D": band(52)})
    assert three == f"For “A”, “B” and “C”: {comb_note}"
    assert not flat_wide_band(block.head(8))  # too few weeks to tell


def test_the_meeting_overhead_chart_explains_its_jumping_edge_only_when_it_jumps():
    from app.figures import STAGGERED_REVIEWS

    from .helpers import open_app, texts

    def overhead_text(query: dict) -> str:
        at = open_app({"tab": "delivery", **query})
        return next(c for c in texts(at.caption) if c.startswith("Share of product capacity"))

    assert overhead_text({}).endswith(STAGGERED_REVIEWS)  # strategy reviews every 13 weeks
    weekly_only = {"reviews.strategy.enabled": "false", "reviews.council.interval_weeks": "1"}
    assert STAGGERED_REVIEWS not in overhead_text(weekly_only)


def test_the_kpi_table_shows_no_change_from_too_few_pairs():
    """As the tiles do: one pair's "−2.6 days, P(better) 100%" would read as a firm result."""
    summary = {
        k: {"mean": 1.0, "p05": 0.5, "p50": 1.0, "p95": 1.5, "n": 30, "of": 30} for k in KPIS
    }
    rows = []
    for kpi in KPIS:
        pairs = 1 if kpi == "detection_lag_days" else 6 if kpi == "lead_time_days" else 30
        rows.append(
            {"kpi": kpi, "baseline": 1.2, "variant": 1.0, "diff_mean": -0.2, "diff_p05": -0.3,
             "diff_p95": -0.1, "p_better": 1.0, "pairs": pairs, "replications": 30}
        )  # fmt: skip
    table = kpi_table(summary, pd.DataFrame(rows)).set_index("KPI")
    lag = table.loc["Detection lag"]
    assert (lag["Change"], lag["Change, 90% interval"]) == ("—", "—")
    assert lag["P(variant better)"] == "1 pair: too few"  # the column says what for
    lead = table.loc["Lead time"]  # six pairs are enough to show
    assert lead["Change"] == "−0.2 days" and lead["Change, 90% interval"] == "−0.3 to −0.1 days"
    # Short enough for the table to fit beside the sidebar at 1366 px (its column was cut short at
    # "20% (from 5 of 100 replicat"), with "Better when" beside the KPI, as on Compare.
    assert lead["P(variant better)"] == "100% (6 of 30 pairs)"
    assert table.loc["52-week retention", "P(variant better)"] == "100%"
    assert list(table.columns[:2]) == ["Better when", "Mean"]
    # The baseline's column is its own mean, "n/a" from too few values as its tiles say (one of
    # ten replications read "32.8 days"); without its summary, the mean over the pairs.
    base = {**summary, "detection_lag_days": {**summary["lead_time_days"], "n": 1, "mean": 32.8}}
    assert lag["Baseline"] == "1.2 days"
    table = kpi_table(summary, pd.DataFrame(rows), base).set_index("KPI")
    assert table.loc["Detection lag", "Baseline"] == "n/a"
    assert table.loc["Lead time", "Baseline"] == "1.0 days"  # its own mean, not the pairs'


def test_the_curve_against_tile_sentence_only_where_the_curve_reaches_52_weeks():
    from app.figures import difference_figure
    from sim.report.format import CURVE_VS_KPI

    def text(ages: int) -> str:
        diff = pd.DataFrame(
            {"age_weeks": np.arange(ages), "mean": -0.01, "lo": -0.02, "hi": 0.0, "p50": -0.01}
        )
        kw = {"x_title": "Age", "what": "Retention", "unit": "share", "width": 90}
        return difference_figure(diff, x="age_weeks", key="k", section="s", **kw).text

    assert text(80).endswith(CURVE_VS_KPI)
    assert CURVE_VS_KPI not in text(40)  # no 52-week retention to compare with


def test_counts_take_the_plural_only_when_not_one():
    assert [count(n, "setting") for n in (0, 1, 2, 1500)] == [
        "0 settings",
        "1 setting",
        "2 settings",
        "1,500 settings",
    ]


def reference_lines(spec: dict) -> dict[tuple[str, float], str]:
    """A chart's reference lines: (axis, value) → the label drawn beside it."""
    found: dict[tuple[str, float], str] = {}
    layer = spec["layer"]
    for line, label in itertools.pairwise(layer):
        if line["mark"].get("type") == "rule" and line["mark"].get("strokeDash") == [5, 3]:
            axis = "x" if "x" in line["encoding"] else "y"
            found[(axis, line["encoding"][axis]["datum"])] = label["encoding"]["text"]["datum"]
    return found


def test_a_weekly_chart_marks_the_habit_threshold_and_the_market_events_its_runs_share():
    from app.figures import reference_rules, run_params, weekly_figure

    def run(**overrides) -> dict:
        return {"manifest": {"overrides": overrides}}

    def rules_of(metric: str, runs: list[dict]) -> list[dict]:
        return reference_rules(metric, run_params(runs))

    shift = {"market.shift_enabled": True, "market.shift_week": 30}
    rules = rules_of("median_ttv_days", [run(), run(**shift)])
    assert rules == [{"axis": "y", "value": 14.0, "label": "Habit threshold (14 days)"}]
    rules = rules_of("value_delivered", [run(**shift), run(**shift)])
    assert rules == [{"axis": "x", "value": 30, "label": "Market shifts (week 30)"}]
    # Not shared: nothing drawn.
    later = run(**{**shift, "market.shift_week": 40})
    assert rules_of("value_delivered", [run(**shift), later]) == []
    shock = {"market.demand_shock_enabled": True, "market.demand_shock_week": 60}
    assert rules_of("revenue", [run(**shock), run(**shock)]) == [
        {"axis": "x", "value": 60, "label": "Demand shock (week 60)"}
    ]
    assert rules_of("revenue", [run(**shock), run()]) == []
    other = run(**{"customers.habit_threshold_days": 10.0})
    assert rules_of("median_ttv_days", [run(), other]) == []
    fig = weekly_figure(
        {"Baseline": band(), "Variant": band()},
        "median_ttv_days",
        90,
        key="k",
        title="T",
        section="S",
        rules=rules_of("median_ttv_days", [run(**shift)]),
    )
    spec = fig.chart().to_dict()  # validates against the Vega-Lite schema
    assert reference_lines(spec) == {
        ("y", 14.0): "Habit threshold (14 days)",
        ("x", 30): "Market shifts (week 30)",
    }


def test_an_average_difference_of_nothing_is_not_called_unclear():
    """A metric no lever reaches: its caption read "±0.0 days (90% of paired runs ±0.0 to ±0.0
    days); no clear difference (some paired runs go the other way)", when none did."""
    from app.figures import describe_average

    nothing = {"mean": 0.0, "lo": 0.0, "hi": 0.0}
    assert describe_average(nothing, "Lead time", "days", 90) == (
        "Lead time, averaged over the horizon: ±0.0 days, the same in every pair."
    )
    some = describe_average({"mean": 0.1, "lo": -0.2, "hi": 0.4}, "Lead time", "days", 90)
    assert some.endswith("(90% of paired runs −0.2 to +0.4 days); no clear difference (some "
                         "paired runs go the other way).")  # fmt: skip


def test_the_retention_chart_says_why_its_52_week_point_is_not_the_tile():
    """With no baseline pinned, the tile read 34.7% and the chart's text "35.0% at 52 weeks" with
    nothing to say why; only the difference chart of a pinned baseline explained it."""
    from app.figures import retention_figure
    from sim.report.format import CURVE_VS_KPI

    def ages(n: int) -> pd.DataFrame:
        return band(n, level=0.35).rename(columns={"week": "age_weeks"})

    year = retention_figure({"This run": ages(104)}, 90, key="r")
    assert year.text.endswith(" " + CURVE_VS_KPI)
    assert "35.0% at 52 weeks" in year.text
    short = retention_figure({"This run": ages(40)}, 90, key="r")  # no 52-week point to compare
    assert CURVE_VS_KPI not in short.text
