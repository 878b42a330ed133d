"""Page sections: KPI tiles, the outcome charts with their text alternatives, exports.

Each function draws one part of a page from plain data (views fetched from the cache), so the page
scripts stay a list of calls.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import pandas as pd
import streamlit as st

from app import charts
from app.format import (
    AXIS_FORMAT,
    TILE_KPIS,
    describe_band,
    describe_difference,
    describe_retention,
    fmt_delta,
    is_missing,
    is_zero_text,
    kpi_range,
    kpi_value,
    null_reason,
    p_better_text,
    series_label,
    series_unit,
    y_title,
)
from sim.outcomes import KPIS

BASELINE = "Baseline"
VARIANT = "Variant"


def kpi_tiles(summary: Mapping, comparison: pd.DataFrame | None = None) -> None:
    """The headline KPIs as tiles, with deltas and P(variant better) against a pinned baseline."""
    by_kpi = comparison.set_index("kpi") if comparison is not None else None
    per_row = 3
    cols = [c for _ in range(0, len(TILE_KPIS), per_row) for c in st.columns(per_row)]
    for col, name in zip(cols, TILE_KPIS, strict=True):
        k = KPIS[name]
        s = summary[name]
        with col:
            if is_missing(s["mean"]):
                reason = null_reason(name)
                st.metric(k.label, "n/a", help=f"{k.description} No value: {reason}.", border=True)
                st.caption(f"No value: {reason}.")
                continue
            delta: str | int | None = None
            description = None
            if by_kpi is not None and not is_missing(by_kpi.loc[name, "diff_mean"]):
                delta = fmt_delta(by_kpi.loc[name, "diff_mean"], k.unit)
                if is_zero_text(delta):
                    delta = 0
                description = p_better_text(by_kpi.loc[name, "p_better"])
            st.metric(
                k.label,
                kpi_value(name, s),
                delta=delta,
                delta_color="normal" if k.higher_is_better else "inverse",
                delta_description=description,
                help=f"{k.description} {kpi_range(name, s)}.",
                border=True,
            )


def _frame(view: Mapping, metric: str) -> pd.DataFrame:
    bands = view["bands"]
    return bands[bands["metric"] == metric][["week", "mean", "lo", "hi"]].reset_index(drop=True)


def _series(view: Mapping, base: Mapping | None, metric: str) -> dict[str, pd.DataFrame]:
    if base is None:
        return {VARIANT: _frame(view, metric)}
    return {BASELINE: _frame(base, metric), VARIANT: _frame(view, metric)}


def _colors(has_base: bool) -> dict[str, str]:
    if has_base:
        return {BASELINE: charts.BASELINE_COLOR, VARIANT: charts.VARIANT_COLOR}
    return {VARIANT: charts.VARIANT_COLOR}


def _show(chart, key: str, text: str) -> None:
    st.altair_chart(chart, key=key, width="stretch")
    st.caption(text)


def _describe(frames: Mapping[str, pd.DataFrame], what: str, unit: str, width: int) -> str:
    return " ".join(
        describe_band(df, x="week", what=f"{what} ({name.lower()})", unit=unit, width=width)
        for name, df in frames.items()
    )


def metric_chart(
    view: Mapping,
    base: Mapping | None,
    metric: str,
    width: int,
    *,
    key: str,
    title: str | None = None,
) -> None:
    """One weekly metric with its band (baseline in grey under it)."""
    unit = series_unit(metric)
    label = series_label(metric)
    frames = _series(view, base, metric)
    text = _describe(frames, label, unit, width)
    chart = charts.band_chart(
        frames,
        y_title=y_title(metric),
        unit=unit,
        y_format=AXIS_FORMAT.get(unit),
        title=title or label,
        description=text,
        colors=_colors(base is not None),
    )
    _show(chart, key, text)


def retention_chart(view: Mapping, base: Mapping | None, width: int) -> None:
    frames = {VARIANT: view["retention"]}
    if base is not None:
        frames = {BASELINE: base["retention"], **frames}
    text = " ".join(describe_retention(df, width, who=name) for name, df in frames.items())
    chart = charts.band_chart(
        frames,
        x="age_weeks",
        x_title="Customer age (weeks)",
        y_title="Share still active",
        unit="share",
        y_format=".0%",
        title="Retention by customer age",
        description=text,
        colors=_colors(base is not None),
    )
    _show(chart, "chart_retention", text)


def difference_chart(
    diff: pd.DataFrame, *, x: str, x_title: str, what: str, unit: str, width: int, key: str
) -> None:
    """Variant − baseline on common random numbers, with its band and a zero line."""
    x_word = "age" if x == "age_weeks" else "week"
    text = describe_difference(diff, x=x, what=what, unit=unit, width=width, x_word=x_word)
    y_unit = "percentage points" if unit.startswith("share") else unit
    y_format = "+.1%" if unit.startswith("share") else None
    chart = charts.band_chart(
        {"Variant − baseline": diff},
        x=x,
        x_title=x_title,
        y_title=f"Δ {y_unit}",
        unit=unit,
        y_format=y_format,
        title=f"{what}: variant − baseline (paired)",
        description=text,
        colors={"Variant − baseline": charts.VARIANT_COLOR},
        delta=True,
        zero_rule=True,
    )
    _show(chart, key, text)


def alignment_section(view: Mapping, base: Mapping | None, width: int, teams: bool) -> None:
    frames = _series(view, base, "alignment")
    team_frames = None
    if teams:
        team_frames = {t: _frame(view, f"alignment.{t}") for t in view["teams"]}
    events = charts.events_frame(view["events"])
    text = _describe(frames, "Mean alignment", "alignment", width)
    marked = events["what"].value_counts()
    if not marked.empty:
        text += (
            " Marked (replication 1): "
            + ", ".join(f"{n} × {what.lower()}" for what, n in marked.items())
            + "."
        )
    chart = charts.alignment_chart(
        frames,
        team_frames=team_frames,
        events=events,
        colors=_colors(base is not None),
        description=text,
    )
    _show(chart, "chart_alignment", text)


def _grid(parts: list[Callable[[], None]]) -> None:
    """Draw chart sections two to a row."""
    for i in range(0, len(parts), 2):
        cols = st.columns(2)
        for col, part in zip(cols, parts[i : i + 2], strict=False):
            with col:
                part()


def sandbox_charts(
    view: Mapping,
    base: Mapping | None,
    paired: Mapping | None,
    *,
    metric: str,
    width: int,
    teams: bool,
) -> None:
    """Every outcome chart of the Sandbox, two to a row."""

    def weekly(name: str, key: str, title: str) -> Callable[[], None]:
        return lambda: metric_chart(view, base, name, width, key=key, title=title)

    customers: list[Callable[[], None]] = [lambda: retention_chart(view, base, width)]
    if paired is not None:
        customers.append(
            lambda: difference_chart(
                paired["retention"],
                x="age_weeks",
                x_title="Customer age (weeks)",
                what="Retention",
                unit="share",
                width=width,
                key="chart_retention_diff",
            )
        )
    customers += [
        weekly("median_ttv_days", "chart_ttv", "Median time-to-value by sign-up week"),
        weekly("active_customers", "chart_active", "Active customers"),
        weekly("revenue", "chart_revenue", "Revenue"),
    ]
    delivery: list[Callable[[], None]] = [
        weekly("value_delivered", "chart_value", "Value delivered per week"),
        weekly("meeting_overhead_share", "chart_overhead", "Meeting overhead"),
        weekly("lead_time_days", "chart_lead_time", "Lead time of released items"),
        weekly(metric, "chart_metric", f"Metric shown: {series_label(metric)}"),
    ]
    if paired is not None:
        delivery.append(
            lambda: difference_chart(
                paired["metrics"][metric],
                x="week",
                x_title="Week",
                what=series_label(metric),
                unit=series_unit(metric),
                width=width,
                key="chart_metric_diff",
            )
        )
    st.subheader("Customers")
    _grid(customers)
    st.subheader("Delivery and governance")
    alignment_section(view, base, width, teams)
    _grid(delivery)


def chart_tables(view: Mapping, base: Mapping | None, metrics: list[str]) -> None:
    """The numbers behind the charts, as tables."""
    with st.expander("The charts' data as tables"):
        parts = [("variant", view)] + ([("baseline", base)] if base is not None else [])
        retention = pd.concat(
            [v["retention"].assign(run=role) for role, v in parts], ignore_index=True
        )
        weekly = pd.concat(
            [v["bands"][v["bands"]["metric"].isin(metrics)].assign(run=role) for role, v in parts],
            ignore_index=True,
        )
        st.markdown(
            "**Retention by customer age** (share still active; mean, band low, median, band high)"
        )
        st.dataframe(retention, key="table_retention", hide_index=True, height=220)
        st.markdown("**Weekly metrics** (every charted metric, by week)")
        st.dataframe(weekly, key="table_weekly", hide_index=True, height=260)


# --------------------------------------------------------------------------------------------------
# Compare page
# --------------------------------------------------------------------------------------------------

COMPARE_CHARTS = (
    ("active_customers", "Active customers"),
    ("median_ttv_days", "Median time-to-value by sign-up week"),
    ("value_delivered", "Value delivered per week"),
    ("alignment", "Mean alignment"),
    ("meeting_overhead_share", "Meeting overhead"),
    ("lead_time_days", "Lead time of released items"),
    ("revenue", "Revenue"),
)


def compare_kpi_table(summaries: Mapping[str, Mapping]) -> pd.DataFrame:
    """KPI rows, one column per scenario: mean and 90% range across replications."""
    rows = []
    for name, k in KPIS.items():
        row = {"KPI": k.label, "Better when": "higher" if k.higher_is_better else "lower"}
        for title, summary in summaries.items():
            s = summary[name]
            value = kpi_value(name, s)
            if not is_missing(s["p05"]):
                value += f" ({kpi_range_short(name, s)})"
            row[title] = value
        rows.append(row)
    return pd.DataFrame(rows)


def kpi_range_short(name: str, s: Mapping) -> str:
    from app.format import fmt_value

    unit = KPIS[name].unit
    return f"{fmt_value(s['p05'], unit)} to {fmt_value(s['p95'], unit)}"


def compare_pair_table(first: str, pairs: Mapping[str, pd.DataFrame | None]) -> pd.DataFrame:
    """KPI rows, one column per other scenario: paired difference against the first, P(better)."""
    rows = []
    for name, k in KPIS.items():
        row = {"KPI": k.label}
        for other, table in pairs.items():
            title = f"{other} − {first}"
            if table is None:
                row[title] = "n/a (different horizon)"
                continue
            c = table.set_index("kpi").loc[name]
            if is_missing(c["diff_mean"]):
                row[title] = "n/a"
                continue
            row[title] = f"{fmt_delta(c['diff_mean'], k.unit)} · P(better) {c['p_better']:.0%}"
        rows.append(row)
    return pd.DataFrame(rows)


def compare_charts(views_by_title: Mapping[str, Mapping], width: int) -> None:
    """Overlaid curves of every scenario, two to a row."""
    colors = charts.series_names(list(views_by_title))

    def retention() -> None:
        frames = {t: v["retention"] for t, v in views_by_title.items()}
        text = " ".join(describe_retention(df, width, who=t) for t, df in frames.items())
        chart = charts.band_chart(
            frames,
            x="age_weeks",
            x_title="Customer age (weeks)",
            y_title="Share still active",
            unit="share",
            y_format=".0%",
            title="Retention by customer age",
            description=text,
            colors=colors,
        )
        _show(chart, "cmp_chart_retention", text)

    def weekly(metric: str, title: str) -> Callable[[], None]:
        def draw() -> None:
            unit = series_unit(metric)
            frames = {t: _frame(v, metric) for t, v in views_by_title.items()}
            text = _describe(frames, series_label(metric), unit, width)
            chart = charts.band_chart(
                frames,
                y_title=y_title(metric),
                unit=unit,
                y_format=AXIS_FORMAT.get(unit),
                title=title,
                description=text,
                colors=colors,
            )
            _show(chart, f"cmp_chart_{metric}", text)

        return draw

    _grid([retention] + [weekly(m, t) for m, t in COMPARE_CHARTS])
