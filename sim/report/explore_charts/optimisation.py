"""Optimisation: the candidates tried, best first, with intervals; the winner and the constraints in words."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import altair as alt
import pandas as pd

from sim.report.charts import BASELINE_COLOR, VARIANT_COLOR
from sim.report.explore_charts.common import (
    HEIGHT,
    STAGE_COLORS,
    axis_format,
    finish_chart,
    interval_text,
    kpi_label,
    kpi_title,
    kpi_unit,
    kpi_words,
    lever_title,
    value_text,
)
from sim.report.format import fmt_value, is_missing


def _settings_text(row: Mapping, levers: Sequence[str]) -> str:
    return ", ".join(f"{lever_title(k).split(' (')[0]} {value_text(row[k])}" for k in levers)


def candidates_chart(
    table: pd.DataFrame,
    kpi: str,
    levers: Sequence[str],
    *,
    baseline: float | None = None,
    description: str = "",
    height: int = HEIGHT,
) -> alt.LayerChart:
    """An optimisation's candidates, best first: mean objective with its 95% interval.

    Args:
        table: ``Optimisation.table()``: rank, the levers, stage, replications, mean, ci_lo,
            ci_hi, feasible.
        kpi: the objective.
        levers: the levers searched (columns of ``table``).
        baseline: the starting point's mean objective, drawn as a dashed reference line.
    """
    unit = kpi_unit(kpi)
    data = pd.DataFrame(
        {
            "rank": table["rank"].astype(int).to_numpy(),
            "mean": table["mean"].to_numpy(dtype=float),
            "ci_lo": table["ci_lo"].to_numpy(dtype=float),
            "ci_hi": table["ci_hi"].to_numpy(dtype=float),
            "stage": ["Final" if s == "final" else str(s).capitalize() for s in table["stage"]],
            "meets": [
                "Meets constraints" if f else "Breaks a constraint" for f in table["feasible"]
            ],
            "replications": table["replications"].astype(int).to_numpy(),
        }
    )
    data["settings"] = [_settings_text(r, levers) for r in table.to_dict("records")]
    data["mean_text"] = [fmt_value(m, unit) for m in data["mean"]]
    data["ci_text"] = [
        interval_text(lo, hi, unit) for lo, hi in zip(data["ci_lo"], data["ci_hi"], strict=True)
    ]
    # Early rounds run few replications, so their intervals are wide: the axis follows every
    # mean and the finalists' intervals.
    final = data[data["stage"] == "Final"]
    values = pd.concat([data["mean"], final["ci_lo"], final["ci_hi"]])
    if baseline is not None and not is_missing(baseline):
        values = pd.concat([values, pd.Series([baseline])])
    values = values.dropna()
    domain = None
    if not values.empty:
        lo, hi = float(values.min()), float(values.max())
        pad = 0.08 * (hi - lo) if hi > lo else 0.05 * abs(hi) or 1.0
        domain = [lo - pad, hi + pad]
    y_scale = alt.Scale(zero=False, domain=domain) if domain else alt.Scale(zero=False)
    stages = sorted(set(data["stage"]), key=lambda s: (s != "Final", s))
    palette = [VARIANT_COLOR, *STAGE_COLORS][: len(stages)]
    fmt = axis_format(unit, None if domain is None else domain[1] - domain[0])
    y_axis = alt.Axis(format=fmt) if fmt else alt.Axis()
    # Half a rank of room at either end, so the first and last candidates are drawn whole.
    last = int(data["rank"].max()) if len(data) else 1
    x = alt.X(
        "rank:Q",
        title="Rank (1 = best)",
        scale=alt.Scale(nice=False, zero=False, domain=[0.5, last + 0.5]),
        axis=alt.Axis(tickMinStep=1, format="d"),
    )
    tooltip = [
        alt.Tooltip("rank:Q", title="Rank"),
        alt.Tooltip("settings:N", title="Settings"),
        alt.Tooltip("mean_text:N", title="Mean"),
        alt.Tooltip("ci_text:N", title="95% confidence interval"),
        alt.Tooltip("stage:N", title="Reached"),
        alt.Tooltip("replications:Q", title="Replications"),
        alt.Tooltip("meets:N", title="Constraints"),
    ]
    color = alt.Color(
        "stage:N", scale=alt.Scale(domain=stages, range=palette), legend=alt.Legend(title="Reached")
    )
    base = alt.Chart(data).encode(x=x, color=color)
    layers = [
        # Only the finalists' intervals are drawn: early rounds run few replications, and their
        # long intervals (in the tooltips) would cross the whole plot like grid lines.
        base.transform_filter(alt.datum.stage == "Final")
        .mark_rule(strokeWidth=1.5, clip=True)
        .encode(
            y=alt.Y("ci_lo:Q", title=kpi_title(kpi), axis=y_axis, scale=y_scale),
            y2="ci_hi:Q",
            tooltip=tooltip,
        ),
        base.mark_point(size=70, filled=True, clip=True).encode(
            y=alt.Y("mean:Q", title=kpi_title(kpi), axis=y_axis, scale=y_scale),
            shape=alt.Shape(
                "meets:N",
                scale=alt.Scale(
                    domain=["Meets constraints", "Breaks a constraint"], range=["circle", "cross"]
                ),
                legend=alt.Legend(
                    title=None, symbolFillColor=BASELINE_COLOR, symbolStrokeColor=BASELINE_COLOR
                ),
            ),
            tooltip=tooltip,
        ),
    ]
    if baseline is not None and not is_missing(baseline):
        ref = pd.DataFrame({"y": [baseline], "text": [fmt_value(baseline, unit)]})
        layers.append(
            alt.Chart(ref)
            .mark_rule(color=BASELINE_COLOR, strokeDash=[5, 4], strokeWidth=1.5)
            .encode(
                y="y:Q",
                tooltip=[alt.Tooltip("text:N", title="Starting point")],
            )
        )
    title = f"Candidates ranked by {kpi_words(kpi)} (dashed: the starting point)"
    return finish_chart(alt.layer(*layers), title, description, height)


def constraint_text(kpi: str, op: str, bound: float) -> str:
    """A constraint for people, e.g. ``Meeting overhead ≤ 10.0%``."""
    symbol = {"<=": "≤", ">=": "≥", "<": "<", ">": ">"}.get(op, op)
    return f"{kpi_label(kpi)} {symbol} {fmt_value(bound, kpi_unit(kpi))}"


def winner_table(
    winner: Mapping[str, Any], start: Mapping[str, Any], levers: Sequence[str]
) -> pd.DataFrame:
    """The best candidate's settings next to the starting point's, then its constraints.

    Args:
        winner: the ``winner`` of ``Optimisation.to_dict()``.
        start: the starting point's value of each lever.
        levers: the levers searched.
    """
    rows = [
        {
            "Lever or constraint": lever_title(key),
            "Starting point": value_text(start.get(key)),
            "Best": value_text(winner["settings"][key]),
        }
        for key in levers
    ]
    for c in winner.get("constraints", []):
        unit = kpi_unit(c["kpi"])
        rows.append(
            {
                "Lever or constraint": constraint_text(c["kpi"], c["op"], c["bound"]),
                "Starting point": "",
                "Best": f"{fmt_value(c['mean'], unit)} ({'met' if c['holds'] else 'not met'})",
            }
        )
    return pd.DataFrame(rows)


def candidates_table(
    table: pd.DataFrame, kpi: str, levers: Sequence[str], constraints: Sequence[str] = ()
) -> pd.DataFrame:
    """Every candidate as text, best first: settings, round reached, objective with its CI."""
    unit = kpi_unit(kpi)
    out = pd.DataFrame({"Rank": table["rank"].astype(int).to_numpy()})
    for key in levers:
        out[lever_title(key)] = [value_text(v) for v in table[key]]
    out["Reached"] = ["final" if s == "final" else s for s in table["stage"]]
    out["Replications"] = table["replications"].astype(int).to_numpy()
    out[f"Mean {kpi_words(kpi)}"] = [fmt_value(m, unit) for m in table["mean"]]
    out["95% confidence interval"] = [
        interval_text(lo, hi, unit) for lo, hi in zip(table["ci_lo"], table["ci_hi"], strict=True)
    ]
    out["Meets constraints"] = ["yes" if f else "no" for f in table["feasible"]]
    for name in dict.fromkeys(constraints):
        column = f"{name}_mean"
        if column in table:
            out[f"Mean {kpi_words(name)}"] = [fmt_value(v, kpi_unit(name)) for v in table[column]]
    return out


def describe_candidates(table: pd.DataFrame, kpi: str, levers: Sequence[str]) -> str:
    """One sentence: the best candidate and how many were tried."""
    unit = kpi_unit(kpi)
    if table.empty:
        return "No candidates."
    best = table.iloc[0]
    return (
        f"{len(table)} candidates; the best, {_settings_text(best, levers)}, has a mean "
        f"{kpi_words(kpi)} of {fmt_value(best['mean'], unit)} (95% CI "
        f"{interval_text(best['ci_lo'], best['ci_hi'], unit)})."
    )
