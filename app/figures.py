"""The pages' figures: which charts, from which results, with which text alternative.

Each builder here takes the plain views from :mod:`app.compute` and returns a :class:`Figure`: the
arguments of a chart layout from :mod:`sim.report.charts`, the datasets it draws, and the sentence that says
what it shows. Layouts depend only on a chart's structure, so their Vega-Lite specs are built once and
reused (:func:`skeleton`); a run only computes its datasets. ``sandbox_figures`` and
``compare_figures`` keep a whole page's ready specs in the data cache, so a rerun that changes nothing
(or returns to something already shown) sends them as they are.
"""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

import altair as alt
import numpy as np
import pandas as pd
import pyarrow as pa
import streamlit as st
from altair.utils.schemapi import debug_mode

from app import compute
from sim.narrative import MIN_PAIRS, join_and
from sim.params import Params, default_params, with_overrides
from sim.report import charts
from sim.report.format import (
    AXIS_FORMAT,
    CURVE_VS_KPI,
    delta_range,
    describe_band,
    describe_difference,
    describe_retention,
    fmt_change,
    fmt_delta,
    fmt_value,
    series_label,
    series_unit,
    y_title,
)
from sim.runner import MODEL_VERSION

BASELINE = "Baseline"
VARIANT = "Variant"
THIS_RUN = "This run"  # the one series when no baseline is pinned: there is nothing to vary from
PROPOSAL = "Proposal"  # the variant, as presentation mode names it


@dataclass(frozen=True)
class Figure:
    """One chart — its layout's arguments and its datasets — and its text alternative.

    ``wide`` figures take a whole row.
    """

    key: str
    kind: str  # "band" or "alignment"
    layout: dict
    data: charts.Datasets
    text: str
    section: str
    wide: bool = False

    def chart(self) -> alt.LayerChart:
        """The complete Altair chart (layout and data)."""
        return charts.with_data(LAYOUTS[self.kind](**self.layout), self.data)

    def to_dict(self) -> dict:
        """The figure as plain data: a Vega-Lite spec with its datasets as Arrow bytes."""
        spec = json.loads(skeleton(self.kind, json.dumps(self.layout, sort_keys=True)))
        spec["datasets"] = {name: arrow_bytes(df) for name, df in self.data.items()}
        return {
            "key": self.key,
            "spec": spec,
            "text": self.text,
            "section": self.section,
            "wide": self.wide,
        }


ESCALATION_COLOR = "#f58518"


def alignment_layout(
    *, escalations: bool = False, replication: int = 1, **layout
) -> alt.LayerChart:
    """The alignment chart's layout, with escalations as a rug of ticks along the bottom.

    :func:`sim.report.charts.alignment_layout` marks reviews and shocks; here each week in which
    items were escalated to the council gets a tick (darker for more items), and the review
    legend names the replication the marks come from.
    """
    chart = charts.alignment_layout(**layout)
    layers = list(chart.layer)
    for i, layer in enumerate(layers):
        dash = layer.to_dict(validate=False).get("encoding", {}).get("strokeDash")
        if dash is not None:
            legend = {**dash.get("legend", {}), "title": f"Reviews (replication {replication})"}
            layers[i] = layer.encode(
                strokeDash=alt.StrokeDash(
                    "what:N", legend=alt.Legend(**legend), scale=alt.Scale(**dash["scale"])
                )
            )
    if escalations:
        rug = (
            alt.Chart(alt.NamedData("escalations"))
            .mark_tick(color=ESCALATION_COLOR, thickness=2, size=10, orient="vertical")
            .encode(
                x="week:Q",
                # At alignment 0, the chart's floor (a pixel position would fight autosizing).
                y=alt.datum(0),
                opacity=alt.Opacity(
                    "count:Q",
                    scale=alt.Scale(range=[0.3, 1.0]),
                    legend=alt.Legend(
                        title="Items escalated (ticks)",
                        orient="bottom",
                        symbolType="square",
                        symbolFillColor=ESCALATION_COLOR,
                        symbolStrokeColor=ESCALATION_COLOR,
                    ),
                ),
                tooltip=[
                    alt.Tooltip("week:Q", title="Week"),
                    alt.Tooltip("detail:N", title="Escalations"),
                ],
            )
        )
        # Before the hover rule, which stays on top to follow the pointer.
        layers.insert(len(layers) - 1, rug)
    chart.layer = layers
    return chart


LAYOUTS = {"band": charts.band_layout, "alignment": alignment_layout}


@functools.lru_cache(maxsize=256)
def skeleton(kind: str, layout_json: str) -> str:
    """A layout's Vega-Lite spec (no data), built once per structure and reused for every run.

    The spec does not depend on the numbers, so the browser swaps new data into the charts it
    already shows instead of building them again. (Validation is left to the builders' tests.)
    """
    with debug_mode(False):
        spec = LAYOUTS[kind](**json.loads(layout_json)).to_dict(validate=False)
    spec.get("config", {}).pop("view", None)
    if not spec.get("config"):
        spec.pop("config", None)
    return json.dumps(spec)


def arrow_bytes(df: pd.DataFrame) -> bytes:
    """A frame as Arrow IPC stream bytes, the form Streamlit sends chart data in."""
    table = pa.Table.from_pandas(df)
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue().to_pybytes()


def frame(view: Mapping, metric: str) -> pd.DataFrame:
    """One metric's band (week, mean, lo, hi) from a run's view."""
    bands = view["bands"]
    return bands[bands["metric"] == metric][["week", "mean", "lo", "hi"]].reset_index(drop=True)


def _series(view: Mapping, base: Mapping | None, metric: str) -> dict[str, pd.DataFrame]:
    if base is None:
        return {THIS_RUN: frame(view, metric)}
    return {BASELINE: frame(base, metric), VARIANT: frame(view, metric)}


def _colors(has_base: bool) -> dict[str, str]:
    if has_base:
        return {BASELINE: charts.BASELINE_COLOR, VARIANT: charts.VARIANT_COLOR}
    return {THIS_RUN: charts.VARIANT_COLOR}


def _describe(frames: Mapping[str, pd.DataFrame], what: str, unit: str, width: int) -> str:
    """Each series' band in a sentence; with two (a run and its baseline), what they average over
    the horizon first, the comparison a headline makes (the last weeks alone can point the other
    way)."""
    parts = [
        describe_band(df, x="week", what=f"{what} ({name.lower()})", unit=unit, width=width)
        for name, df in frames.items()
    ]
    if len(frames) == 2:
        (a, fa), (b, fb) = frames.items()
        means = [fmt_value(float(f["mean"].mean()), unit) for f in (fa, fb)]
        parts.insert(
            0,
            f"{what}, averaged over the horizon: {means[0]} for {_named(a)} and {means[1]} for "
            f"{_named(b)}.",
        )
    return " ".join(parts)


# Said under the meeting-overhead chart when its band's upper edge jumps from week to week.
STAGGERED_REVIEWS = (
    "The band's upper edge jumps from week to week because reviews that meet every few weeks "
    "start in a random week of each replication: in any one week only some replications hold "
    "one, and the edge reaches their meeting load only in weeks where enough of them do."
)


# Said under the meeting-overhead chart when its band is flat and wide: a rectangle, not a curve.
STEADY_REVIEWS = (
    "The band is flat and wide because reviews that meet every few weeks start in a random week of "
    "each replication: every week some replications hold one and others do not, so the band spans "
    "a week without a review and a week with one; the line is the average load."
)


def flat_wide_band(frame: pd.DataFrame) -> bool:
    """Whether a weekly band keeps the same low and high edges nearly every week, far apart (the
    high edge at least twice the low): replications with and without a review that week."""
    lo, hi = (frame[c].to_numpy(dtype=float) for c in ("lo", "hi"))
    keep = np.isfinite(lo) & np.isfinite(hi)
    lo, hi = lo[keep], hi[keep]
    if lo.size < 10 or hi.max() <= 0:
        return False
    steady = np.mean((np.abs(lo - np.median(lo)) < 1e-9) & (np.abs(hi - np.median(hi)) < 1e-9))
    return bool(steady >= 0.9 and np.median(hi) >= 2 * max(np.median(lo), 1e-12))


def review_band_note(frames: Mapping[str, pd.DataFrame]) -> str | None:
    """What the meeting-overhead bands' shapes owe to reviews that meet every few weeks, if they
    need saying: a comb (:data:`STAGGERED_REVIEWS`), a flat block (:data:`STEADY_REVIEWS`), or
    both (a baseline and a run can draw one each). With several series, each note names the ones
    it is about."""
    notes = []
    for note, shaped in ((STAGGERED_REVIEWS, jumpy_edge), (STEADY_REVIEWS, flat_wide_band)):
        names = [name for name, f in frames.items() if shaped(f)]
        if names and len(frames) > 1:
            which = join_and([_named(n) for n in names])
            note = f"For {which}: {note[0].lower()}{note[1:]}"
        if names:
            notes.append(note)
    return " ".join(notes) or None


def _named(name: str) -> str:
    """A series' name inside a sentence: "the baseline" for the plain roles, else in quotes."""
    if name in (BASELINE, VARIANT, THIS_RUN, PROPOSAL):
        return "the " + name.lower()
    return f"“{name}”"


def jumpy_edge(frame: pd.DataFrame) -> bool:
    """Whether a weekly band's upper edge jumps across most of its range in at least one week in
    ten (a comb, not a trend)."""
    hi = frame["hi"].to_numpy(dtype=float)
    hi = hi[np.isfinite(hi)]
    if hi.size < 10:
        return False
    span = hi.max() - hi.min()
    return bool(span > 0 and np.mean(np.abs(np.diff(hi)) > span / 2) >= 0.1)


def run_params(runs: Sequence[Mapping]) -> list[Params]:
    """The settings of each run's view (from its manifest)."""
    return [with_overrides(default_params(), run["manifest"]["overrides"]) for run in runs]


def reference_rules(metric: str, params: Sequence[Params]) -> list[dict]:
    """Reference lines that every run of a weekly chart shares (``params``: the runs' settings,
    see :func:`run_params`): the habit threshold on median time-to-value, and the week the market
    shifts or demand collapses."""
    rules = []
    if metric == "median_ttv_days":
        days = {p.customers.habit_threshold_days for p in params}
        if len(days) == 1:
            (value,) = days
            label = f"Habit threshold ({value:g} days)"
            rules.append({"axis": "y", "value": value, "label": label})
    for on, week, what in MARKET_EVENTS:
        weeks = {getattr(p.market, week) if getattr(p.market, on) else None for p in params}
        if len(weeks) == 1 and (at := weeks.pop()) is not None:  # a valid week is in the horizon
            rules.append({"axis": "x", "value": at, "label": f"{what} (week {at})"})
    return rules


MARKET_EVENTS = (
    ("shift_enabled", "shift_week", "Market shifts"),
    ("demand_shock_enabled", "demand_shock_week", "Demand shock"),
)


def weekly_figure(
    frames: Mapping[str, pd.DataFrame],
    metric: str,
    width: int,
    *,
    key: str,
    title: str,
    section: str,
    colors: Mapping[str, str] | None = None,
    rules: Sequence[Mapping] = (),
) -> Figure:
    """One weekly metric, one band per series (meeting overhead says what its bands' shapes owe
    to reviews that meet every few weeks, when they need saying); ``rules`` are reference lines
    (see :func:`reference_rules`)."""
    unit = series_unit(metric)
    text = _describe(frames, series_label(metric), unit, width)
    if metric == "meeting_overhead_share" and (note := review_band_note(frames)):
        text += " " + note
    layout = {
        "series": list(frames),
        "y_title": y_title(metric),
        "y_format": AXIS_FORMAT.get(unit),
        "title": title,
        "colors": charts.palette(list(frames), colors),
    }
    if rules:
        layout["rules"] = list(rules)
    return Figure(key, "band", layout, charts.band_data(frames, unit=unit), text, section)


def retention_figure(
    frames: Mapping[str, pd.DataFrame],
    width: int,
    *,
    key: str,
    colors: Mapping[str, str] | None = None,
) -> Figure:
    text = " ".join(describe_retention(df, width, who=name) for name, df in frames.items())
    if any(df["age_weeks"].max() >= 52 for df in frames.values()):
        # Its 52-week point and the 52-week retention tile beside it need not read the same.
        text += " " + CURVE_VS_KPI
    layout = {
        "series": list(frames),
        "x": "age_weeks",
        "x_title": "Customer age (weeks)",
        "y_title": "Share still active",
        "y_format": ".0%",
        "title": "Retention by customer age",
        "colors": charts.palette(list(frames), colors),
    }
    data = charts.band_data(frames, x="age_weeks", unit="share")
    return Figure(key, "band", layout, data, text, "Customers")


def to_date_figure(
    frames: Mapping[str, pd.DataFrame],
    width: int,
    *,
    key: str,
    section: str,
    colors: Mapping[str, str] | None = None,
) -> Figure:
    """Value delivered to date, one band per series: a gap that builds up week by week shows where
    a weekly band, as wide as the weeks vary, hides it. Its last week is the value tile's number."""
    unit = "value points"
    ends = []
    for name, df in frames.items():
        rows = df.dropna(subset=["mean"])
        if rows.empty:
            ends.append(f"no values for {_named(name)}")
            continue
        end = rows.iloc[-1]
        ends.append(
            f"{fmt_value(float(end['mean']), unit)} for {_named(name)} ({width}% band "
            f"{fmt_value(float(end['lo']), unit)} to {fmt_value(float(end['hi']), unit)})"
        )
    weeks = max((len(df) for df in frames.values()), default=0)
    text = (
        f"Value delivered to date, by the end of week {weeks - 1}: {' and '.join(ends)}. "
        "Its last week is the value delivered over the horizon, the value tile's number."
    )
    layout = {
        "series": list(frames),
        "y_title": "Value points",
        "y_format": AXIS_FORMAT.get(unit),
        "title": VALUE_TO_DATE,
        "colors": charts.palette(list(frames), colors),
    }
    return Figure(key, "band", layout, charts.band_data(frames, unit=unit), text, section)


VALUE_TO_DATE = "Value delivered to date"


def difference_figure(
    diff: pd.DataFrame,
    *,
    x: str,
    x_title: str,
    what: str,
    unit: str,
    width: int,
    key: str,
    section: str,
    variant: str = "variant",
    kpi_change: float | None = None,
    average: Mapping[str, float] | None = None,
    pairs: int | None = None,
) -> Figure:
    """Variant − baseline on common random numbers, with its band and a zero line (``variant``
    names the run in the title: "proposal", say). ``kpi_change``, the 52-week retention KPI's
    paired change, is set beside retention's curve at 52 weeks when the page shows both.
    ``average`` (:meth:`Comparison.average_difference`) leads a weekly metric's text: one week's
    band can hold zero while the curve sits on one side of it all along. From fewer than
    ``MIN_PAIRS`` paired runs (``pairs``) the text calls no difference, as the tiles do."""
    few = pairs is not None and pairs < MIN_PAIRS
    if few:
        kpi_change = average = None
    x_word = "age" if x == "age_weeks" else "week"
    # Retention's difference is read at 52 weeks, as its tile is (the oldest ages rest on the
    # fewest customers).
    at = 52 if x == "age_weeks" else None
    text = describe_difference(
        diff, x=x, what=what, unit=unit, width=width, x_word=x_word, at=at, pairs=pairs
    )
    if average is not None and math.isfinite(average["mean"]):
        text = f"{describe_average(average, what, unit, width)} In the last week: {text}"
    if x == "age_weeks" and diff["age_weeks"].max() >= 52:  # the tile's age is on the curve
        if kpi_change is not None and math.isfinite(kpi_change):
            text += (
                f" The curve pools every cohort at each age; the tile's 52-week retention "
                f"({fmt_change(kpi_change, 'share')}) counts only the customers at least a year "
                "old, so the two differ a little."
            )
        else:
            text += " " + CURVE_VS_KPI
    share = unit.startswith("share")
    name = f"{variant.capitalize()} − baseline"
    title = f"{what}: {variant} − baseline (paired)"
    layout = {
        "series": [name],
        "x": x,
        "x_title": x_title,
        # A share's difference is drawn in percentage points, as the axis says (ticks "+1.5").
        "y_title": "Δ percentage points" if share else f"Δ {unit}",
        # Signed ticks; an explicit format also keeps a difference of zero throughout, whose axis
        # has no span, from reading "0.000000".
        "y_format": "+.1f" if share else "+,~g",
        # A long title takes two lines rather than being cut short on a half-width chart.
        "title": [f"{what}:", f"{variant} − baseline (paired)"] if len(title) > 48 else title,
        "colors": {name: charts.VARIANT_COLOR},
        "zero_rule": True,
    }
    data = charts.band_data({name: diff}, x=x, unit=unit, delta=True, zero_rule=True)
    if share:  # the tooltips, worked out above, already say "points"
        data["s0"][["mean", "lo", "hi"]] *= 100.0
    return Figure(key, "band", layout, data, text, section)


def describe_average(average: Mapping[str, float], what: str, unit: str, width: int) -> str:
    """A weekly metric's paired difference averaged over the horizon, and whether it is clear."""
    lo, hi = average["lo"], average["hi"]
    if lo == hi == 0.0:  # nothing moved in any pair: no band to doubt
        return f"{what}, averaged over the horizon: {fmt_delta(0.0, unit)}, the same in every pair."
    side = "above" if lo > 0 else "below" if hi < 0 else None
    tail = (50 + width / 2) if side else None
    verdict = (
        f"{side} zero in at least {tail:g}% of paired runs"
        if side
        else "no clear difference (some paired runs go the other way)"
    )
    return (
        f"{what}, averaged over the horizon: {fmt_delta(average['mean'], unit)} ({width}% "
        f"of paired runs {delta_range(lo, hi, unit)}); {verdict}."
    )


def escalations_frame(events: pd.DataFrame) -> pd.DataFrame:
    """Weeks with escalations in one replication's events: week, count, detail."""
    rows = events[events["kind"] == "escalation"]
    counts = rows["detail"].str.extract(r"^(\d+)")[0].astype(float).fillna(1.0)
    return pd.DataFrame(
        {
            "week": rows["week"].to_numpy(),
            "count": counts.to_numpy(),
            "detail": rows["detail"].to_numpy(),
        }
    )


def alignment_figure(view: Mapping, base: Mapping | None, width: int, teams: bool) -> Figure:
    frames = _series(view, base, "alignment")
    team_frames = {t: frame(view, f"alignment.{t}") for t in view["teams"]} if teams else None
    events = charts.events_frame(view["events"])
    escalations = escalations_frame(view["events"])
    replication = int(view.get("representative", {}).get("replication", 0)) + 1
    text = _describe(frames, "Mean alignment", "alignment", width)
    marked = events["what"].value_counts()
    if not marked.empty:
        counts = ", ".join(f"{n} × {what.lower()}" for what, n in marked.items())
        text += f" Marked (replication {replication}, a typical one): {counts}."
    if not escalations.empty:
        text += (
            f" Ticks along the bottom: the {len(escalations)} weeks in which items were escalated "
            f"to the council ({escalations['count'].sum():,.0f} items)."
        )
    if team_frames:
        ends = ", ".join(
            f"{t} {df['mean'].dropna().iloc[-1]:.2f}"
            for t, df in team_frames.items()
            if df["mean"].notna().any()
        )
        text += f" Team means at the end: {ends}."
    data = charts.alignment_data(frames, team_frames=team_frames, events=events)
    if not escalations.empty:
        data["escalations"] = escalations
    layout = {
        "series": list(frames),
        "teams": list(team_frames or {}),
        "kinds": charts.review_kinds(data),
        "shocks": "shocks" in data,
        "colors": _colors(base is not None),
        "escalations": "escalations" in data,
        "replication": replication,
    }
    return Figure("chart_alignment", "alignment", layout, data, text, DELIVERY, wide=True)


CUSTOMERS = "Customers"
DELIVERY = "Delivery and governance"


def sandbox_figure_list(
    view: Mapping,
    base: Mapping | None,
    paired: Mapping | None,
    *,
    section: str,
    metric: str,
    width: int,
    teams: bool,
) -> list[Figure]:
    """The Sandbox figures of one section in page order (a baseline adds paired differences)."""
    colors = _colors(base is not None)

    params = run_params([view] if base is None else [base, view])
    # The paired runs behind a difference chart (every KPI row counts the run's replications).
    pairs = None if paired is None else int(paired["kpis"]["replications"].iloc[0])

    def weekly(name: str, key: str, title: str) -> Figure:
        frames = _series(view, base, name)
        rules = reference_rules(name, params)
        return weekly_figure(
            frames, name, width, key=key, title=title, section=section, colors=colors, rules=rules
        )

    def difference(
        frame: pd.DataFrame,
        x: str,
        what: str,
        unit: str,
        key: str,
        average: Mapping[str, float] | None = None,
    ) -> Figure:
        x_title = "Customer age (weeks)" if x == "age_weeks" else "Week"
        return difference_figure(
            frame,
            x=x,
            x_title=x_title,
            what=what,
            unit=unit,
            width=width,
            key=key,
            section=section,
            average=average,
            pairs=pairs,
        )

    if section == CUSTOMERS:
        retention = {THIS_RUN: view["retention"]}
        if base is not None:
            retention = {BASELINE: base["retention"], VARIANT: view["retention"]}
        figures = [retention_figure(retention, width, key="chart_retention", colors=colors)]
        if paired is not None:
            figures.append(
                difference(
                    paired["retention"], "age_weeks", "Retention", "share", "chart_retention_diff"
                )
            )
        return [
            *figures,
            weekly("median_ttv_days", "chart_ttv", "Median time-to-value by sign-up week"),
            weekly("active_customers", "chart_active", "Active customers"),
            weekly("revenue", "chart_revenue", "Revenue"),
        ]
    if section != DELIVERY:
        raise ValueError(f"no figures for section {section!r}")
    figures = [
        alignment_figure(view, base, width, teams),
        weekly("value_delivered", "chart_value", "Value delivered per week"),
        weekly("meeting_overhead_share", "chart_overhead", "Meeting overhead"),
        weekly("lead_time_days", "chart_lead_time", "Lead time of released items"),
        weekly(metric, "chart_metric", f"Metric shown: {series_label(metric)}"),
    ]
    if paired is not None:
        figures.append(
            difference(
                paired["metrics"][metric],
                "week",
                series_label(metric),
                series_unit(metric),
                "chart_metric_diff",
                paired["averages"][metric],
            )
        )
    return figures


@st.cache_data(max_entries=64, ttl=compute.CACHE_TTL_SECONDS, show_spinner=False)
def sandbox_figures(
    settings: str,
    base_settings: str | None,
    seed: int,
    replications: int,
    model_version: str,
    width: int,
    section: str,
    metric: str,
    teams: bool,
) -> list[dict]:
    """One section's figures as ready specs (cached by run, section and display options)."""
    view = compute.run_view(settings, seed, replications, model_version, width)
    base = paired = None
    if base_settings is not None:
        base = compute.run_view(base_settings, seed, replications, model_version, width)
        paired = compute.run_paired(
            base_settings, settings, seed, replications, model_version, width
        )
    figures = sandbox_figure_list(
        view, base, paired, section=section, metric=metric, width=width, teams=teams
    )
    return [f.to_dict() for f in figures]


COMPARE_METRICS = (
    ("active_customers", "Active customers"),
    ("median_ttv_days", "Median time-to-value by sign-up week"),
    ("value_delivered", "Value delivered per week"),
    ("alignment", "Mean alignment"),
    ("meeting_overhead_share", "Meeting overhead"),
    ("lead_time_days", "Lead time of released items"),
    ("revenue", "Revenue"),
)


@st.cache_data(max_entries=32, ttl=compute.CACHE_TTL_SECONDS, show_spinner=False)
def compare_figures(
    runs: tuple[tuple[str, str], ...], seed: int, replications: int, width: int
) -> list[dict]:
    """Overlaid curves of every (title, settings) run, as ready specs."""
    views = {
        title: compute.run_view(settings, seed, replications, MODEL_VERSION, width)
        for title, settings in runs
    }
    colors = charts.reference_colors(list(views))
    params = run_params(list(views.values()))
    figures = [
        retention_figure(
            {t: v["retention"] for t, v in views.items()},
            width,
            key="cmp_chart_retention",
            colors=colors,
        )
    ]
    figures += [
        weekly_figure(
            {t: frame(v, metric) for t, v in views.items()},
            metric,
            width,
            key=f"cmp_chart_{metric}",
            title=title,
            section="Curves",
            colors=colors,
            rules=reference_rules(metric, params),
        )
        for metric, title in COMPARE_METRICS
    ]
    return [f.to_dict() for f in figures]


def pair_figure(
    view: Mapping,
    base: Mapping,
    chart: str,
    width: int,
    *,
    names: tuple[str, str],
    key: str,
    section: str,
    title: str | None = None,
) -> Figure:
    """One chart of a run against its baseline (grey, drawn first): ``chart`` is "retention" or a
    weekly metric; ``names`` are the baseline's and the run's series names."""
    base_name, name = names
    colors = {base_name: charts.BASELINE_COLOR, name: charts.VARIANT_COLOR}
    if chart == "retention":
        figure = retention_figure(
            {base_name: base["retention"], name: view["retention"]}, width, key=key, colors=colors
        )
        return Figure(key, figure.kind, figure.layout, figure.data, figure.text, section)
    title = title or series_label(chart)
    return weekly_figure(
        {base_name: frame(base, chart), name: frame(view, chart)},
        chart,
        width,
        key=key,
        title=title,
        section=section,
        colors=colors,
        rules=reference_rules(chart, run_params([base, view])),
    )


# Presentation mode's charts are read from across a room: larger text and a taller plot.
PROJECTOR_TEXT_PX = 16
PROJECTOR_TITLE_PX = 20
PROJECTOR_HEIGHT = 300


def for_projector(spec: dict) -> dict:
    """A chart's spec restyled for a projector: axis, legend and title text a size up, plot taller."""
    config = dict(spec.get("config") or {})
    for part in ("axis", "legend"):
        config[part] = {
            **config.get(part, {}),
            "labelFontSize": PROJECTOR_TEXT_PX,
            "titleFontSize": PROJECTOR_TEXT_PX,
        }
    return {
        **spec,
        "config": config,
        "height": max(int(spec.get("height", 0)), PROJECTOR_HEIGHT),
        "title": {**spec["title"], "fontSize": PROJECTOR_TITLE_PX},
    }


@st.cache_data(max_entries=32, ttl=compute.CACHE_TTL_SECONDS, show_spinner=False)
def present_figures(
    settings: str, base_settings: str, seed: int, replications: int, model_version: str, width: int
) -> list[dict]:
    """Presentation mode's charts: retention by age with its paired difference (the two curves
    are often a point or two apart, hard to tell apart from across a room), and value delivered,
    baseline vs proposal."""
    view = compute.run_view(settings, seed, replications, model_version, width)
    base = compute.run_view(base_settings, seed, replications, model_version, width)
    paired = compute.run_paired(base_settings, settings, seed, replications, model_version, width)
    section = "Presentation"
    colors = {BASELINE: charts.BASELINE_COLOR, PROPOSAL: charts.VARIANT_COLOR}
    changes = paired["kpis"].set_index("kpi")["diff_mean"]
    # Each row: a KPI's curves, then their paired difference (the curves are close together, hard
    # to tell apart from across a room). Value is drawn to date: the tile's total builds up week by
    # week, where a weekly band, as wide as the weeks vary, hides the gap.
    figures = [
        pair_figure(
            view, base, "retention", width, names=(BASELINE, PROPOSAL),
            key="present_chart_retention", section=section,
        ),
        difference_figure(
            paired["retention"], x="age_weeks", x_title="Customer age (weeks)", what="Retention",
            unit="share", width=width, key="present_chart_retention_diff", section=section,
            variant="proposal", kpi_change=float(changes["retention_52w"]), pairs=replications,
        ),
        to_date_figure(
            {BASELINE: base["value_to_date"], PROPOSAL: view["value_to_date"]}, width,
            key="present_chart_value", section=section, colors=colors,
        ),
        difference_figure(
            paired["value_to_date"], x="week", x_title="Week", what=VALUE_TO_DATE,
            unit="value points", width=width, key="present_chart_value_diff", section=section,
            variant="proposal", pairs=replications,
        ),
    ]  # fmt: skip
    figures[-1] = replace(
        figures[-1], text=figures[-1].text + " At the last week, this is the value tile's change."
    )
    specs = [fig.to_dict() for fig in figures]
    return [{**spec, "spec": for_projector(spec["spec"])} for spec in specs]
