"""Attribution: a waterfall from baseline to variant through each lever's Shapley contribution,
and its table."""

from __future__ import annotations

import json
import textwrap

import altair as alt
import pandas as pd

from sim.outcomes import KPIS
from sim.report.charts import BASELINE_COLOR, VARIANT_COLOR
from sim.report.explore_charts.common import (
    BETTER_COLOR,
    HEIGHT,
    WATERFALL_HEIGHT,
    WORSE_COLOR,
    axis_format,
    capitalised,
    finish_chart,
    interval_text,
    kpi_title,
    kpi_unit,
    kpi_words,
)
from sim.report.format import fmt_delta, fmt_value, is_missing, true_minus

NO_CHANGE_COLOR = "#c9c9c9"


def _waterfall_data(steps: pd.DataFrame, kpi: str) -> tuple[pd.DataFrame, list[float] | None]:
    """Bars with text, and the y domain when the axis cannot start at zero (None: from zero)."""
    unit = kpi_unit(kpi)
    higher = KPIS[kpi].higher_is_better if kpi in KPIS else True
    data = steps.copy()
    data["what"] = [
        "Baseline"
        if kind == "baseline"
        else "Variant"
        if kind == "variant"
        else capitalised(str(label))
        for kind, label in zip(data["kind"], data["label"], strict=True)
    ]
    data["bar_lo"] = data["start"] + data["ci_lo"]
    data["bar_hi"] = data["start"] + data["ci_hi"]
    effect = []
    for kind, delta in zip(data["kind"], data["delta"], strict=True):
        if kind != "lever":
            effect.append(kind.capitalize())
        elif is_missing(delta) or delta == 0:
            effect.append("No change")
        else:
            effect.append("Better" if (delta > 0) == higher else "Worse")
    data["effect"] = effect
    data["delta_text"] = [
        fmt_value(d, unit) if kind != "lever" else fmt_delta(d, unit)
        for kind, d in zip(data["kind"], data["delta"], strict=True)
    ]
    data["ci_text"] = [
        interval_text(lo, hi, unit, delta=True) if kind == "lever" else "—"
        for kind, lo, hi in zip(data["kind"], data["ci_lo"], data["ci_hi"], strict=True)
    ]
    data["level_text"] = [fmt_value(e, unit) for e in data["end"]]
    # Start the level bars near the data when every level is far from zero, so the
    # contributions stay visible; the axis then does not start at zero (the title says so).
    levers = data["kind"] == "lever"
    ends = pd.concat(
        [
            data["end"],
            data.loc[levers, "start"],
            data.loc[levers, "bar_lo"],
            data.loc[levers, "bar_hi"],
        ]
    ).dropna()
    domain = None
    if not ends.empty:
        lo, hi = float(ends.min()), float(ends.max())
        pad = 0.25 * (hi - lo) if hi > lo else 0.05 * abs(hi)
        if lo > 0 and (hi - lo) < 0.5 * hi:
            domain = [max(0.0, lo - pad), hi + pad]
            data.loc[~levers, "start"] = domain[0]
        elif hi < 0 and (hi - lo) < 0.5 * abs(lo):
            domain = [lo - pad, min(0.0, hi + pad)]
            data.loc[~levers, "start"] = domain[1]
    return data, domain


def waterfall_chart(
    steps: pd.DataFrame, kpi: str, *, description: str = "", height: int = WATERFALL_HEIGHT
) -> alt.LayerChart:
    """Baseline, each lever's Shapley contribution (largest first), variant, for one KPI.

    Args:
        steps: ``Attribution.waterfall(kpi)``: step, name, label, kind (baseline, lever,
            variant), delta, start, end, ci_lo, ci_hi.
        kpi: the KPI attributed. Contributions that improve it are green, those that worsen it
            red; the baseline is grey and the variant blue. Each contribution carries its 95%
            confidence interval.
    """
    data, domain = _waterfall_data(steps, kpi)
    unit = kpi_unit(kpi)
    fmt = axis_format(unit, None if domain is None else domain[1] - domain[0])
    y_title = kpi_title(kpi)
    subtitle = None
    if domain is not None:
        start = domain[0] if domain[0] > 0 else domain[1]
        subtitle = f"The axis starts at {fmt_value(start, unit)}, not at zero."
    y_axis = alt.Axis(format=fmt, titleLimit=HEIGHT) if fmt else alt.Axis(titleLimit=HEIGHT)
    order = list(data["what"])
    x = alt.X("what:N", title=None, sort=order, axis=_step_axis(order))
    palette = {
        "Baseline": BASELINE_COLOR,
        "Better": BETTER_COLOR,
        "Worse": WORSE_COLOR,
        "No change": NO_CHANGE_COLOR,  # lighter than the baseline's bar, so the legend tells them apart
        "Variant": VARIANT_COLOR,
    }
    effects = [e for e in palette if e in set(data["effect"])]
    colors = [palette[e] for e in effects]
    tooltip = [
        alt.Tooltip("what:N", title="Step"),
        alt.Tooltip("delta_text:N", title="Value or contribution"),
        alt.Tooltip("ci_text:N", title="95% confidence interval"),
        alt.Tooltip("level_text:N", title="Running total"),
    ]
    base = alt.Chart(data).encode(x=x)
    scale = alt.Scale(domain=domain, zero=False) if domain else alt.Scale(zero=True)
    bars = base.mark_bar(opacity=0.9, width={"band": 0.6}).encode(
        y=alt.Y("start:Q", title=y_title, axis=y_axis, scale=scale),
        y2="end:Q",
        color=alt.Color(
            "effect:N",
            scale=alt.Scale(domain=effects, range=colors),
            legend=alt.Legend(title=None, orient="top"),
        ),
        tooltip=tooltip,
    )
    intervals = (
        base.transform_filter(alt.datum.kind == "lever")
        .mark_rule(color=BASELINE_COLOR, strokeWidth=1.5)
        .encode(y="bar_lo:Q", y2="bar_hi:Q", tooltip=tooltip)
    )
    title = f"Where the difference in {kpi_words(kpi)} comes from"
    return finish_chart(alt.layer(bars, intervals), title, description, height, subtitle)


WRAP_CHARS = 16  # a step's label wraps onto lines of about this many characters


def _step_axis(order: list[str]) -> alt.Axis:
    """The steps' axis: every label shown (a hidden one leaves a bar unnamed), long ones wrapped
    onto lines of their own words, or slanted when there are too many steps to sit side by side."""
    if len(order) > 6:
        return alt.Axis(labelAngle=-30, labelLimit=180, labelOverlap=False)
    lines = {
        label: textwrap.wrap(label, WRAP_CHARS, break_long_words=False) or [label]
        for label in order
    }
    wrapped = {label: parts for label, parts in lines.items() if len(parts) > 1}
    axis = {"labelAngle": 0, "labelLimit": 180, "labelOverlap": False}
    if wrapped:  # the lookup is data, written as JSON: a literal the expression reads as it is
        axis["labelExpr"] = f"({json.dumps(wrapped)})[datum.label] || datum.label"
    return alt.Axis(**axis)


def attribution_table(table: pd.DataFrame, kpi: str) -> pd.DataFrame:
    """One KPI's Shapley contributions as text, largest first, then the total."""
    unit = kpi_unit(kpi)
    rows = table[table["kpi"] == kpi]
    levers = rows[rows["lever"] != "total"]
    levers = levers.reindex(levers["contribution"].abs().sort_values(ascending=False).index)
    total = rows[rows["lever"] == "total"]
    out = []
    for r in [*levers.to_dict("records"), *total.to_dict("records")]:
        is_total = r["lever"] == "total"
        out.append(
            {
                "Lever": "Total difference (variant − baseline)"
                if is_total
                else capitalised(str(r["label"])),
                "Setting": "" if is_total else r["lever"],
                "Contribution": fmt_delta(r["contribution"], unit),
                "95% confidence interval": interval_text(r["ci_lo"], r["ci_hi"], unit, delta=True),
                "Share of the difference": (
                    "n/a" if is_missing(r["share"]) else true_minus(f"{r['share']:.0%}")
                ),  # a part that offsets the rest: "−10%", with the minus the pages write
            }
        )
    return pd.DataFrame(out)
