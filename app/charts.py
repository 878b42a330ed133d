"""Pure chart builders: tidy frames in, Altair charts out (no Streamlit, testable without a server).

Every chart draws a percentile band (the spread across replications) under its mean line, names its
units on the axes, and carries a hover rule whose tooltip lists every series at that week or age. A
pinned baseline is always grey and drawn first, so the variant sits on top of it.

Colours are mid-tones that read on both light and dark backgrounds; text colours are left to the
theme.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import altair as alt
import pandas as pd

from app.format import fmt_delta, fmt_value

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
HEIGHT = 300

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


def _finish(chart: alt.LayerChart, title: str, description: str, height: int) -> alt.LayerChart:
    """Common properties: title, accessible description, height, SVG rendering."""
    return chart.properties(
        title=alt.TitleParams(title, anchor="start", fontSize=14),
        description=description,
        height=height,
        usermeta=_SVG,
    )


def _color(colors: Mapping[str, str], legend: bool) -> alt.Color:
    return alt.Color(
        "series:N",
        scale=alt.Scale(domain=list(colors), range=list(colors.values())),
        legend=alt.Legend(title=None, orient="top", symbolOpacity=1) if legend else None,
        sort=list(colors),
    )


def _tooltip_frame(
    frames: Mapping[str, pd.DataFrame], x: str, unit: str, delta: bool
) -> tuple[pd.DataFrame, list[alt.Tooltip]]:
    """One row per x with a formatted 'mean (lo to hi)' column per series, for the hover tooltip."""
    fmt = fmt_delta if delta else fmt_value
    wide: pd.DataFrame | None = None
    tips: list[alt.Tooltip] = []
    for i, (name, df) in enumerate(frames.items()):
        col = f"s{i}"
        text = [
            "n/a" if pd.isna(m) else f"{fmt(m, unit)} ({fmt(lo, unit)} to {fmt(hi, unit)})"
            for m, lo, hi in zip(df["mean"], df["lo"], df["hi"], strict=True)
        ]
        part = pd.DataFrame({x: df[x].to_numpy(), col: text})
        wide = part if wide is None else wide.merge(part, on=x, how="outer")
        tips.append(alt.Tooltip(f"{col}:N", title=name))
    assert wide is not None
    return wide.sort_values(x), tips


def _hover(
    frames: Mapping[str, pd.DataFrame], x: str, x_title: str, unit: str, delta: bool
) -> alt.Chart:
    """A vertical rule that follows the pointer, with every series' value at that x."""
    wide, tips = _tooltip_frame(frames, x, unit, delta)
    nearest = alt.selection_point(
        name="hover", nearest=True, on="pointerover", fields=[x], empty=False, clear="pointerout"
    )
    return (
        alt.Chart(wide)
        .mark_rule(color=BASELINE_COLOR, strokeWidth=1)
        .encode(
            x=alt.X(f"{x}:Q"),
            opacity=alt.when(nearest).then(alt.value(0.6)).otherwise(alt.value(0.0)),
            tooltip=[alt.Tooltip(f"{x}:Q", title=x_title), *tips],
        )
        .add_params(nearest)
        # A fixed view name keeps the spec the same from run to run (Altair would number it).
        .properties(name="hover_view")
    )


def _band_layers(
    frames: Mapping[str, pd.DataFrame],
    *,
    x: str,
    x_title: str,
    y_title: str,
    y_format: str | None,
    colors: Mapping[str, str],
    bands: bool,
    legend_colors: Mapping[str, str] | None = None,
) -> list[alt.Chart]:
    """Per series (in order, so the first is drawn first): the band, then the mean line.

    ``legend_colors`` (default ``colors``) is the colour scale shared with any other layers, so a
    layered chart keeps a single legend.
    """
    axis = alt.Axis(format=y_format, titleLimit=HEIGHT) if y_format else alt.Axis(titleLimit=HEIGHT)
    x_enc = alt.X(f"{x}:Q", title=x_title, scale=alt.Scale(nice=False))
    shared = legend_colors or colors
    color = _color(shared, legend=len(shared) > 1)
    layers: list[alt.Chart] = []
    for name, df in frames.items():
        data = df[[x, "mean", "lo", "hi"]].assign(series=name)
        base = alt.Chart(data).encode(x=x_enc, color=color)
        if bands:
            layers.append(
                base.mark_area(opacity=0.22).encode(
                    y=alt.Y("lo:Q", title=y_title, axis=axis), y2="hi:Q"
                )
            )
        layers.append(
            base.mark_line(strokeWidth=2).encode(y=alt.Y("mean:Q", title=y_title, axis=axis))
        )
    return layers


def _palette(frames: Mapping[str, pd.DataFrame], colors: Mapping[str, str] | None) -> dict:
    given = dict(colors or {})
    return {name: given.get(name, PALETTE[i % len(PALETTE)]) for i, name in enumerate(frames)}


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
    if not frames:
        raise ValueError("band_chart needs at least one series")
    layers = _band_layers(
        frames,
        x=x,
        x_title=x_title,
        y_title=y_title,
        y_format=y_format,
        colors=_palette(frames, colors),
        bands=bands,
    )
    if zero_rule:
        layers.append(
            alt.Chart(pd.DataFrame({"zero": [0.0]}))
            .mark_rule(color=BASELINE_COLOR, strokeDash=[4, 3])
            .encode(y="zero:Q")
        )
    layers.append(_hover(frames, x, x_title, unit, delta))
    return _finish(alt.layer(*layers), title, description, height)


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


def _event_layers(events: pd.DataFrame) -> list[alt.Chart]:
    """Review events as thin dashed rules, shocks as solid red rules, each with a tooltip."""
    if events.empty:
        return []
    tip = [
        alt.Tooltip("what:N", title="Event"),
        alt.Tooltip("week:Q", title="Week"),
        alt.Tooltip("detail:N", title="Detail"),
    ]
    layers = []
    reviews = events[~events["shock"]]
    present = set(reviews["what"])
    if not reviews.empty:
        layers.append(
            alt.Chart(reviews)
            .mark_rule(color=BASELINE_COLOR, opacity=0.55, strokeWidth=1)
            .encode(
                x="week:Q",
                strokeDash=alt.StrokeDash(
                    "what:N",
                    legend=alt.Legend(title="Reviews (replication 1)", orient="bottom"),
                    scale=alt.Scale(
                        domain=[k for k in EVENT_KINDS.values() if k in present],
                        range=[
                            d
                            for k, d in zip(EVENT_KINDS.values(), DASHES, strict=True)
                            if k in present
                        ],
                    ),
                ),
                tooltip=tip,
            )
        )
    shocks = events[events["shock"]]
    if not shocks.empty:
        layers.append(
            alt.Chart(shocks)
            .mark_rule(color=SHOCK_COLOR, strokeWidth=2.5)
            .encode(x="week:Q", tooltip=tip)
        )
    return layers


def alignment_chart(
    mean_frames: Mapping[str, pd.DataFrame],
    *,
    team_frames: Mapping[str, pd.DataFrame] | None = None,
    events: pd.DataFrame | None = None,
    colors: Mapping[str, str] | None = None,
    description: str = "",
    height: int = 340,
) -> alt.LayerChart:
    """Alignment by week: mean alignment band(s), optionally each team's mean, and review events.

    Args:
        mean_frames: series name → mean-alignment band frame (week, mean, lo, hi).
        team_frames: team name → that team's alignment band frame, drawn as thin lines.
        events: the frame from :func:`events_frame` (reviews and shocks of one replication).
    """
    title = (
        "Alignment per team, with reviews and shocks"
        if team_frames
        else "Mean alignment, with reviews and shocks"
    )
    mean_colors = _palette(mean_frames, colors)
    team_colors = {
        team: TEAM_PALETTE[i % len(TEAM_PALETTE)] for i, team in enumerate(team_frames or {})
    }
    legend = {**mean_colors, **team_colors}
    layers = _band_layers(
        mean_frames,
        x="week",
        x_title="Week",
        y_title="Alignment (0 to 1)",
        y_format=None,
        colors=mean_colors,
        bands=True,
        legend_colors=legend,
    )
    if team_frames:
        team_data = pd.concat(
            [df[["week", "mean"]].assign(series=name) for name, df in team_frames.items()],
            ignore_index=True,
        )
        layers.append(
            alt.Chart(team_data)
            .mark_line(strokeWidth=1.2, opacity=0.9)
            .encode(x="week:Q", y="mean:Q", detail="series:N", color=_color(legend, True))
        )
    if events is not None:
        layers.extend(_event_layers(events))
    layers.append(
        _hover({**mean_frames, **(team_frames or {})}, "week", "Week", "alignment", False)
    )
    return _finish(alt.layer(*layers), title, description, height)


def kpi_strip_chart(
    kpis: pd.DataFrame, kpi: str, *, label: str, unit: str, y_format: str | None = None
) -> alt.Chart:
    """Per-replication values of one KPI by scenario: a strip of dots with a tick at the mean."""
    data = kpis[["series", kpi]].rename(columns={kpi: "value"}).dropna()
    axis = alt.Axis(format=y_format) if y_format else alt.Axis()
    names = list(dict.fromkeys(data["series"]))
    color = alt.Color(
        "series:N",
        scale=alt.Scale(domain=names, range=[PALETTE[i % len(PALETTE)] for i in range(len(names))]),
        legend=None,
    )
    dots = (
        alt.Chart(data)
        .mark_circle(size=22, opacity=0.45)
        .encode(
            y=alt.Y("series:N", title=None, sort=names),
            x=alt.X("value:Q", title=f"{label} ({unit})", axis=axis, scale=alt.Scale(zero=False)),
            color=color,
            tooltip=[
                alt.Tooltip("series:N", title="Scenario"),
                alt.Tooltip("value:Q", title=label, format=y_format or ",.3g"),
            ],
        )
    )
    means = (
        alt.Chart(data)
        .mark_tick(thickness=3, size=22)
        .encode(y=alt.Y("series:N", sort=names), x="mean(value):Q", color=color)
    )
    return _finish(
        alt.layer(dots, means),
        f"{label}: every replication",
        f"{label} of each replication by scenario; the tick marks the mean.",
        40 * len(names) + 40,
    )


def series_names(frames: Sequence[str]) -> dict[str, str]:
    """Palette colours for named series in order."""
    return {name: PALETTE[i % len(PALETTE)] for i, name in enumerate(frames)}
