"""Pure chart builders: tidy frames in, Altair charts out (no Streamlit, testable without a server).

Every chart draws a percentile band (the spread across replications) under its mean line, names its
units on the axes, and carries a hover rule whose tooltip lists every series at that week or age. A
pinned baseline is always grey and drawn first, so the variant sits on top of it.

Each chart comes in two halves that :func:`band_chart` and :func:`alignment_chart` put together:

* ``*_data`` — the named datasets the chart draws (plain DataFrames, cheap to compute);
* ``*_layout`` — the chart itself, reading those datasets by name. It depends only on the chart's
  structure (series names, colours, titles), never on the numbers, so the app builds it once and
  reuses it for every run with the same structure.

Colours are mid-tones that read on both light and dark backgrounds; text colours are left to the
theme.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import altair as alt
import pandas as pd

from sim.report.format import delta_range, fmt_delta, fmt_value, value_range

VARIANT_COLOR = "#3b82f6"
BASELINE_COLOR = "#8c8c8c"
SHOCK_COLOR = "#e45756"
PALETTE = ("#3b82f6", "#f58518", "#54a24b", "#e45756", "#b279a2", "#9d755d", "#4c78a8")
# Team lines: mid-tones distinct from the variant's blue and the baseline's grey.
TEAM_PALETTE = (
    "#f58518",
    "#54a24b",
    "#e45756",
    "#b279a2",
    "#eeca3b",
    "#72b7b2",
    "#ff9da6",
    "#9d755d",
    "#4c78a8",
    "#bab0ac",
    "#d67195",
    "#79706e",
)
# Plot-area heights in pixels; titles, axes and legends come on top.
HEIGHT = 200
ALIGNMENT_HEIGHT = 240

# Event kinds drawn on the alignment chart, with their legend names. Weekly metric reviews are left
# out: one a week would cover the chart.
EVENT_KINDS = {
    "review.council": "Product council",
    "review.strategy": "Strategy review",
    "review.event": "Event-triggered review",
    "reaim": "Backlog re-aimed",
}
SHOCK_KINDS = {"market_shift": "Market shift", "demand_shock": "Demand shock"}
DASHES = ([2, 3], [8, 3], [1, 1], [6, 2, 1, 2])

_SVG = {"embedOptions": {"renderer": "svg"}}

Datasets = dict[str, pd.DataFrame]


# --------------------------------------------------------------------------------------------------
# Data
# --------------------------------------------------------------------------------------------------


def _tooltip_frame(
    frames: Mapping[str, pd.DataFrame], x: str, unit: str, delta: bool
) -> pd.DataFrame:
    """One row per x with a formatted 'mean (lo to hi)' column ``s<i>`` per series."""

    def tooltip(mean: float, lo: float, hi: float) -> str:
        if pd.isna(mean):
            return "n/a"
        # "+2.0 points (−8.0 to +12 points)", as the sentences write a change; "4.0%" alone when
        # the band is that one value.
        text, span = (
            (fmt_delta(mean, unit), delta_range(lo, hi, unit))
            if delta
            else (fmt_value(mean, unit), value_range(lo, hi, unit))
        )
        return text if span == text else f"{text} ({span})"

    wide: pd.DataFrame | None = None
    for i, df in enumerate(frames.values()):
        text = [tooltip(*v) for v in zip(df["mean"], df["lo"], df["hi"], strict=True)]
        part = pd.DataFrame({x: df[x].to_numpy(), f"s{i}": text})
        wide = part if wide is None else wide.merge(part, on=x, how="outer")
    assert wide is not None
    return wide.sort_values(x).reset_index(drop=True)


def band_data(
    frames: Mapping[str, pd.DataFrame],
    *,
    x: str = "week",
    unit: str,
    delta: bool = False,
    zero_rule: bool = False,
) -> Datasets:
    """A band chart's datasets: ``s<i>`` per series, ``zero`` if drawn, and ``hover``."""
    if not frames:
        raise ValueError("a band chart needs at least one series")
    data = {
        f"s{i}": df[[x, "mean", "lo", "hi"]].assign(series=name).reset_index(drop=True)
        for i, (name, df) in enumerate(frames.items())
    }
    if zero_rule:
        data["zero"] = pd.DataFrame({"zero": [0.0]})
    data["hover"] = _tooltip_frame(frames, x, unit, delta)
    return data


def events_frame(events: pd.DataFrame) -> pd.DataFrame:
    """The reviews and shocks of one replication worth marking on a chart: week, what, detail."""
    kinds = {**EVENT_KINDS, **SHOCK_KINDS}
    rows = events[events["kind"].isin(kinds)]
    return pd.DataFrame(
        {
            "week": rows["week"].to_numpy(),
            "what": [kinds[k] for k in rows["kind"]],
            "shock": rows["kind"].isin(SHOCK_KINDS).to_numpy(),
            "detail": rows["detail"].to_numpy(),
        }
    )


def alignment_data(
    mean_frames: Mapping[str, pd.DataFrame],
    *,
    team_frames: Mapping[str, pd.DataFrame] | None = None,
    events: pd.DataFrame | None = None,
) -> Datasets:
    """The alignment chart's datasets: mean bands, team lines, reviews, shocks, hover."""
    data = band_data(mean_frames, unit="alignment")
    if team_frames:
        data["teams"] = pd.concat(
            [df[["week", "mean"]].assign(series=name) for name, df in team_frames.items()],
            ignore_index=True,
        )
    if events is not None and not events.empty:
        reviews = events[~events["shock"]].drop(columns="shock")
        shocks = events[events["shock"]].drop(columns="shock")
        if not reviews.empty:
            data["reviews"] = reviews.reset_index(drop=True)
        if not shocks.empty:
            data["shocks"] = shocks.reset_index(drop=True)
    data["hover"] = _tooltip_frame(
        {**mean_frames, **(team_frames or {})}, "week", "alignment", False
    )
    return data


def records(df: pd.DataFrame) -> list[dict]:
    """A frame as JSON-ready records (NaN as null)."""
    return json.loads(df.to_json(orient="records"))


def with_data(chart: alt.TopLevelMixin, data: Datasets) -> alt.TopLevelMixin:
    """A layout with its datasets attached, ready to draw anywhere."""
    return chart.properties(datasets={name: records(df) for name, df in data.items()})


# --------------------------------------------------------------------------------------------------
# Layouts
# --------------------------------------------------------------------------------------------------


def _finish(
    chart: alt.LayerChart, title: str | list[str], description: str, height: int
) -> alt.LayerChart:
    """Common properties: title, accessible description, height, SVG rendering.

    Only the width is fitted (to the container, or to a width set later): ``height`` is the plot
    area's, so a chart with more legend entries (four scenarios, review marks) grows instead of
    squeezing its plot.
    """
    return chart.properties(
        title=alt.TitleParams(title, anchor="start", fontSize=14),
        description=description or (" ".join(title) if isinstance(title, list) else title),
        height=height,
        autosize=alt.AutoSizeParams(type="fit-x", contains="padding"),
        usermeta=_SVG,
    )


# Longest legend label, in pixels, before it is cut short (a scenario title may run to 80 characters).
LEGEND_LABEL_LIMIT = 480


def _color(colors: Mapping[str, str], legend: bool) -> alt.Color:
    """The series colours; the legend, above the plot, lists one series a line, so no entry runs
    off a narrow chart and a long scenario title is read in full."""
    return alt.Color(
        "series:N",
        scale=alt.Scale(domain=list(colors), range=list(colors.values())),
        legend=alt.Legend(
            title=None,
            orient="top",
            direction="vertical",
            rowPadding=1,
            symbolSize=60,
            symbolOpacity=1,
            labelLimit=LEGEND_LABEL_LIMIT,
        )
        if legend
        else None,
        sort=list(colors),
    )


def palette(series: Sequence[str], colors: Mapping[str, str] | None) -> dict[str, str]:
    given = dict(colors or {})
    return {name: given.get(name, PALETTE[i % len(PALETTE)]) for i, name in enumerate(series)}


def _hover_layer(names: Sequence[str], x: str, x_title: str) -> alt.Chart:
    """A column that lights up under the pointer, with every series' value at that x.

    Each x value gets a rule as wide as the step between two x values (x values are whole weeks or
    ages, one apart), invisible until the pointer is over it: the rules are the pointer's targets,
    so no Voronoi cells have to be computed and drawn to find the nearest x.
    """
    hover = alt.selection_point(
        name="hover", on="pointerover", fields=[x], empty=False, clear="pointerout"
    )
    tips = [alt.Tooltip(f"s{i}:N", title=name) for i, name in enumerate(names)]
    # The plot's width over the x domain's span: one step, at least 1 px; columns touch.
    column = alt.ExprRef(expr="max(1, width / max(1, span(domain('x'))))")
    return (
        alt.Chart(alt.NamedData("hover"))
        .mark_rule(color=BASELINE_COLOR, strokeWidth=column, clip=True)
        .encode(
            x=alt.X(f"{x}:Q"),
            opacity=alt.when(hover).then(alt.value(0.25)).otherwise(alt.value(0.0)),
            tooltip=[alt.Tooltip(f"{x}:Q", title=x_title), *tips],
        )
        .add_params(hover)
        # A fixed view name keeps the spec the same from run to run (Altair would number it).
        .properties(name="hover_view")
    )


def _band_layers(
    series: Sequence[str],
    *,
    x: str,
    x_title: str,
    y_title: str,
    y_format: str | None,
    colors: Mapping[str, str],
    bands: bool,
) -> list[alt.Chart]:
    """Per series (in order, so the first is drawn first): the band, then the mean line.

    ``colors`` is the colour scale shared by every layer of the chart, so it keeps one legend.
    """
    axis = alt.Axis(titleLimit=HEIGHT)
    if y_format:
        # Signed ticks, as changes are written, except zero: "0", not "+0.0".
        signed = {"labelExpr": ZERO_TICK} if y_format.startswith("+") else {}
        axis = alt.Axis(format=y_format, titleLimit=HEIGHT, **signed)
    x_enc = alt.X(f"{x}:Q", title=x_title, scale=alt.Scale(nice=False))
    legend = len(colors) > 1
    color = _color(colors, legend=legend)
    layers: list[alt.Chart] = []
    for i in range(len(series)):
        base = alt.Chart(alt.NamedData(f"s{i}")).encode(x=x_enc, color=color)
        if bands:
            band = base.mark_area(opacity=BAND_OPACITY).encode(
                y=alt.Y("lo:Q", title=y_title, axis=axis), y2="hi:Q"
            )
            layers.append(band.encode(opacity=picked(BAND_OPACITY, 0.04)) if legend else band)
        line = base.mark_line(strokeWidth=2).encode(y=alt.Y("mean:Q", title=y_title, axis=axis))
        if legend:
            line = line.encode(opacity=picked(1.0, 0.25))
            if i == 0:  # a fixed view name, as for the hover layer
                line = line.add_params(legend_pick()).properties(name="pick_view")
        layers.append(line)
    return layers


BAND_OPACITY = 0.22
ZERO_TICK = "datum.value === 0 ? '0' : datum.label"  # a signed axis's zero tick, unsigned
PICK = "pick"


def legend_pick() -> alt.Parameter:
    """Clicking a series in the legend picks it out, and the others fade, so four overlapping
    bands read: shift-click adds or drops one; a click on no mark (beside the legend) shows all.
    (A click inside the plot lands on the hover layer's columns, so it keeps the pick.)"""
    return alt.selection_point(name=PICK, fields=["series"], bind="legend")


def picked(on: float, off: float) -> alt.Opacity:
    """An opacity of ``on`` for the series picked in the legend (every series while none is),
    ``off`` for the others."""
    return alt.when(legend_pick()).then(alt.value(on)).otherwise(alt.value(off))


def band_layout(
    series: Sequence[str],
    *,
    x: str = "week",
    x_title: str = "Week",
    y_title: str,
    title: str | list[str],
    description: str = "",
    y_format: str | None = None,
    colors: Mapping[str, str] | None = None,
    bands: bool = True,
    zero_rule: bool = False,
    rules: Sequence[Mapping[str, Any]] = (),
    height: int = HEIGHT,
) -> alt.LayerChart:
    """The layout of :func:`band_chart` for these series names (see there for the arguments).

    ``rules`` are reference lines, each ``{"axis": "x" or "y", "value": number, "label": text}``:
    a market shift's week, say, or the habit threshold on a time-to-value chart.
    """
    if not series:
        raise ValueError("a band chart needs at least one series")
    layers = _band_layers(
        series,
        x=x,
        x_title=x_title,
        y_title=y_title,
        y_format=y_format,
        colors=palette(series, colors),
        bands=bands,
    )
    if zero_rule:
        layers.append(
            alt.Chart(alt.NamedData("zero"))
            .mark_rule(color=BASELINE_COLOR, strokeDash=[4, 3])
            .encode(y="zero:Q")
        )
    layers.extend(_reference_layers(rules))
    layers.append(_hover_layer(series, x, x_title))
    return _finish(alt.layer(*layers), title, description, height)


def _reference_layers(rules: Sequence[Mapping[str, Any]]) -> list[alt.Chart]:
    """A dashed line and a small label per reference: a vertical line's label at the plot's top,
    a horizontal one's at its right end, above the line."""
    layers: list[alt.Chart] = []
    for rule in rules:
        at = alt.datum(rule["value"])
        base = alt.Chart(alt.Data(values=[{}]))  # one mark each, placed by the datum
        line = base.mark_rule(color=BASELINE_COLOR, strokeDash=[5, 3], strokeWidth=1.2)
        if rule["axis"] == "x":
            line = line.encode(x=at)
            label = base.mark_text(
                align="left", baseline="top", dx=4, dy=2, fontSize=11, color=BASELINE_COLOR
            ).encode(x=at, y=alt.value(0), text=alt.datum(rule["label"]))
        else:
            line = line.encode(y=at)
            label = base.mark_text(
                align="right", baseline="bottom", dx=-2, dy=-3, fontSize=11, color=BASELINE_COLOR
            ).encode(y=at, x=alt.value("width"), text=alt.datum(rule["label"]))
        layers += [line, label]
    return layers


def band_chart(
    frames: Mapping[str, pd.DataFrame],
    *,
    x: str = "week",
    x_title: str = "Week",
    y_title: str,
    unit: str,
    title: str,
    description: str = "",
    y_format: str | None = None,
    colors: Mapping[str, str] | None = None,
    bands: bool = True,
    delta: bool = False,
    zero_rule: bool = False,
    height: int = HEIGHT,
) -> alt.LayerChart:
    """Mean lines with percentile bands for one or more series (the first is drawn first).

    Args:
        frames: series name → frame with columns ``x``, ``mean``, ``lo``, ``hi``.
        x: the x column (``week`` or ``age_weeks``).
        x_title, y_title: axis titles, units included (keep the y title short).
        unit: the values' unit (for the tooltip's formatting).
        title, description: chart title and accessible description.
        y_format: d3 format of the y axis.
        colors: series name → colour; defaults to the palette in order.
        bands: draw the percentile bands.
        delta: values are differences (signed tooltip, percentage points for shares).
        zero_rule: draw a horizontal rule at zero.
    """
    data = band_data(frames, x=x, unit=unit, delta=delta, zero_rule=zero_rule)
    layout = band_layout(
        list(frames),
        x=x,
        x_title=x_title,
        y_title=y_title,
        title=title,
        description=description,
        y_format=y_format,
        colors=colors,
        bands=bands,
        zero_rule=zero_rule,
        height=height,
    )
    return with_data(layout, data)


def review_kinds(data: Datasets) -> list[str]:
    """The review kinds present in an alignment chart's datasets, in legend order."""
    if "reviews" not in data:
        return []
    present = set(data["reviews"]["what"])
    return [k for k in EVENT_KINDS.values() if k in present]


def _event_layers(kinds: Sequence[str], shocks: bool) -> list[alt.Chart]:
    """Review events as thin dashed rules, shocks as solid red rules, each with a tooltip."""
    tip = [
        alt.Tooltip("what:N", title="Event"),
        alt.Tooltip("week:Q", title="Week"),
        alt.Tooltip("detail:N", title="Detail"),
    ]
    dashes = dict(zip(EVENT_KINDS.values(), DASHES, strict=True))
    layers = []
    if kinds:
        layers.append(
            alt.Chart(alt.NamedData("reviews"))
            .mark_rule(color=BASELINE_COLOR, opacity=0.55, strokeWidth=1)
            .encode(
                x="week:Q",
                strokeDash=alt.StrokeDash(
                    "what:N",
                    legend=alt.Legend(title="Reviews (replication 1)", orient="bottom"),
                    scale=alt.Scale(domain=list(kinds), range=[dashes[k] for k in kinds]),
                ),
                tooltip=tip,
            )
        )
    if shocks:
        layers.append(
            alt.Chart(alt.NamedData("shocks"))
            .mark_rule(color=SHOCK_COLOR, strokeWidth=2.5)
            .encode(x="week:Q", tooltip=tip)
        )
    return layers


def alignment_layout(
    series: Sequence[str],
    *,
    teams: Sequence[str] = (),
    kinds: Sequence[str] = (),
    shocks: bool = False,
    colors: Mapping[str, str] | None = None,
    description: str = "",
    height: int = ALIGNMENT_HEIGHT,
) -> alt.LayerChart:
    """The layout of :func:`alignment_chart`: ``kinds`` are the review kinds to mark."""
    title = (
        "Alignment per team, with reviews and shocks"
        if teams
        else "Mean alignment, with reviews and shocks"
    )
    legend = {
        **palette(series, colors),
        **{team: TEAM_PALETTE[i % len(TEAM_PALETTE)] for i, team in enumerate(teams)},
    }
    layers = _band_layers(
        series,
        x="week",
        x_title="Week",
        y_title="Alignment (0 to 1)",
        y_format=None,
        colors=legend,
        bands=True,
    )
    if teams:
        layers.append(
            alt.Chart(alt.NamedData("teams"))
            .mark_line(strokeWidth=1.2, opacity=0.9)
            .encode(
                x="week:Q",
                y="mean:Q",
                detail="series:N",
                color=_color(legend, True),
                opacity=picked(0.9, 0.2),  # teams are in the legend: one can be picked out
            )
        )
    layers.extend(_event_layers(kinds, shocks))
    layers.append(_hover_layer([*series, *teams], "week", "Week"))
    return _finish(alt.layer(*layers), title, description, height)


def alignment_chart(
    mean_frames: Mapping[str, pd.DataFrame],
    *,
    team_frames: Mapping[str, pd.DataFrame] | None = None,
    events: pd.DataFrame | None = None,
    colors: Mapping[str, str] | None = None,
    description: str = "",
    height: int = ALIGNMENT_HEIGHT,
) -> alt.LayerChart:
    """Alignment by week: mean alignment band(s), optionally each team's mean, and review events.

    Args:
        mean_frames: series name → mean-alignment band frame (week, mean, lo, hi).
        team_frames: team name → that team's alignment band frame, drawn as thin lines.
        events: the frame from :func:`events_frame` (reviews and shocks of one replication).
    """
    data = alignment_data(mean_frames, team_frames=team_frames, events=events)
    layout = alignment_layout(
        list(mean_frames),
        teams=list(team_frames or {}),
        kinds=review_kinds(data),
        shocks="shocks" in data,
        colors=colors,
        description=description,
        height=height,
    )
    return with_data(layout, data)


def reference_colors(names: Sequence[str]) -> dict[str, str]:
    """Colours for scenarios compared with the first: the reference in the baseline's grey, as the
    Sandbox draws its baseline, the others in the palette from the variant's blue on."""
    return {name: BASELINE_COLOR if i == 0 else PALETTE[(i - 1) % len(PALETTE)]
            for i, name in enumerate(names)}  # fmt: skip
