"""Pure chart and table builders for experiments: sweeps, sensitivity, attribution, optimisation.

Frames from :mod:`sim.explore` in, Altair charts (and text tables) out — no Streamlit, so every chart
can be tested without a server and drawn anywhere:

* :func:`sweep_line_chart` — one lever: the mean of a KPI at each grid point with its 95% confidence
  band (a line over a numeric lever, dots with interval bars over listed values);
* :func:`sweep_heatmap` — two levers: a cell per grid point coloured by the KPI's mean, brighter where
  the KPI is better;
* :func:`sensitivity_chart` — levers ranked by Morris μ* or Sobol total index, with intervals;
* :func:`waterfall_chart` — baseline, each lever's Shapley contribution, variant;
* :func:`candidates_chart` — an optimisation's candidates, best first, with intervals and the starting
  point drawn as a reference line.

Every chart names its units on the axes, carries tooltips with formatted numbers, and uses mid-tone
colours that read on light and dark backgrounds (text colours are left to the theme, except labels
inside heatmap cells, which follow the cell's brightness). Each chart has a ``describe_*`` sentence for
readers who cannot see it, and a ``*_table`` of formatted text for the table view.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import altair as alt
import pandas as pd

from sim.explore.labels import lever_label
from sim.outcomes import KPIS
from sim.params import ParamError, info
from sim.report.charts import BASELINE_COLOR, VARIANT_COLOR
from sim.report.format import AXIS_FORMAT, fmt_delta, fmt_value, is_missing

HEIGHT = 320  # the whole chart: titles, legend and axes included
WATERFALL_HEIGHT = 400
BETTER_COLOR = "#54a24b"
WORSE_COLOR = "#e45756"
SECOND_COLOR = "#f58518"
STAGE_COLORS = ("#8c8c8c", "#b279a2", "#9d755d", "#4c78a8", "#72b7b2")
_SVG = {"embedOptions": {"renderer": "svg"}}

# Unit words for axis titles ("Value delivered (value points)").
_UNIT_WORDS = {
    "share": "%",
    "share per week": "% per week",
    "alignment": "0 to 1",
}


# --------------------------------------------------------------------------------------------------
# Names, units and values
# --------------------------------------------------------------------------------------------------


def kpi_unit(kpi: str) -> str:
    """A KPI's unit (empty for outputs that are not model KPIs)."""
    return KPIS[kpi].unit if kpi in KPIS else ""


def kpi_label(kpi: str) -> str:
    """A KPI's name for people."""
    return KPIS[kpi].label if kpi in KPIS else kpi


def kpi_title(kpi: str) -> str:
    """An axis title for a KPI with its unit, e.g. ``Value delivered (value points)``."""
    unit = kpi_unit(kpi)
    word = _UNIT_WORDS.get(unit, unit)
    return f"{kpi_label(kpi)} ({word})" if word else kpi_label(kpi)


def _capital(text: str) -> str:
    for article in ("the ", "a "):
        if text.startswith(article):
            text = text[len(article) :]
    return text[:1].upper() + text[1:]


def lever_title(key: str) -> str:
    """An axis title for a setting with its unit, e.g. ``Council interval (weeks)``."""
    name = _capital(lever_label(key))
    try:
        s = info(key)
    except ParamError:
        return name
    if s.type in ("int", "float") and s.unit:
        return f"{name} ({s.unit})"
    return name


def value_text(value: Any) -> str:
    """A setting's value for people: on/off, words for choices, compact numbers."""
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, str):
        return value.replace("_", " ")
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def axis_format(unit: str) -> str | None:
    """The d3 format of an axis in ``unit``."""
    return AXIS_FORMAT.get(unit)


def _interval(lo: float, hi: float, unit: str, delta: bool = False) -> str:
    if is_missing(lo) or is_missing(hi):
        return "n/a"
    fmt = fmt_delta if delta else fmt_value
    return f"{fmt(lo, unit)} to {fmt(hi, unit)}"


def _finish(
    chart: alt.TopLevelMixin,
    title: str,
    description: str,
    height: int = HEIGHT,
    subtitle: str | None = None,
):
    """Common properties: title, accessible description, height, SVG rendering."""
    # The theme colours titles but not subtitles: a mid-grey reads on light and dark.
    extra = {"subtitle": subtitle, "subtitleColor": BASELINE_COLOR} if subtitle else {}
    return chart.properties(
        title=alt.TitleParams(title, anchor="start", fontSize=14, **extra),
        description=description or title,
        height=height,
        usermeta=_SVG,
    )


def _numeric(series: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series)


# --------------------------------------------------------------------------------------------------
# Sweeps
# --------------------------------------------------------------------------------------------------


def _sweep_data(frame: pd.DataFrame, levers: Sequence[str], kpi: str) -> pd.DataFrame:
    """Safe column names (``a``, ``b`` for the levers) and formatted text for a sweep's rows."""
    unit = kpi_unit(kpi)
    out = pd.DataFrame(
        {
            "mean": frame["mean"].to_numpy(dtype=float),
            "ci_lo": frame["ci_lo"].to_numpy(dtype=float),
            "ci_hi": frame["ci_hi"].to_numpy(dtype=float),
            "n": frame["n"].to_numpy(),
        }
    )
    for name, key in zip(("a", "b"), levers, strict=False):
        out[name] = frame[key].to_numpy()
        out[f"{name}_text"] = [value_text(v) for v in frame[key]]
    out["mean_text"] = [fmt_value(m, unit) for m in out["mean"]]
    out["ci_text"] = [
        _interval(lo, hi, unit) for lo, hi in zip(out["ci_lo"], out["ci_hi"], strict=True)
    ]
    return out


def sweep_line_chart(
    frame: pd.DataFrame, lever: str, kpi: str, *, description: str = "", height: int = HEIGHT
) -> alt.LayerChart:
    """A KPI's mean over one lever with its 95% confidence interval.

    Args:
        frame: one KPI's rows of a sweep (``SweepResult.frame``): the lever's column, ``n``,
            ``mean``, ``ci_lo``, ``ci_hi``.
        lever: the lever's setting key (its column).
        kpi: the KPI shown.
    """
    data = _sweep_data(frame, [lever], kpi)
    unit = kpi_unit(kpi)
    x_title = lever_title(lever)
    y_title = kpi_title(kpi)
    fmt = axis_format(unit)
    y_axis = alt.Axis(format=fmt) if fmt else alt.Axis()
    tooltip = [
        alt.Tooltip("a_text:N", title=x_title),
        alt.Tooltip("mean_text:N", title="Mean"),
        alt.Tooltip("ci_text:N", title="95% confidence interval"),
        alt.Tooltip("n:Q", title="Replications"),
    ]
    base = alt.Chart(data)
    if _numeric(frame[lever]):
        x = alt.X("a:Q", title=x_title, scale=alt.Scale(nice=False, zero=False))
        y_band = alt.Y("ci_lo:Q", title=y_title, axis=y_axis, scale=alt.Scale(zero=False))
        layers = [
            base.mark_area(opacity=0.22, color=VARIANT_COLOR).encode(x=x, y=y_band, y2="ci_hi:Q"),
            base.mark_line(color=VARIANT_COLOR, strokeWidth=2).encode(
                x=x, y=alt.Y("mean:Q", title=y_title, axis=y_axis)
            ),
            base.mark_point(color=VARIANT_COLOR, filled=True, size=60).encode(
                x=x, y="mean:Q", tooltip=tooltip
            ),
        ]
    else:
        order = list(dict.fromkeys(data["a_text"]))
        x = alt.X("a_text:N", title=x_title, sort=order, axis=alt.Axis(labelAngle=0))
        layers = [
            base.mark_rule(color=VARIANT_COLOR, strokeWidth=2).encode(
                x=x,
                y=alt.Y("ci_lo:Q", title=y_title, axis=y_axis, scale=alt.Scale(zero=False)),
                y2="ci_hi:Q",
                tooltip=tooltip,
            ),
            base.mark_point(color=VARIANT_COLOR, filled=True, size=90).encode(
                x=x, y=alt.Y("mean:Q", title=y_title, axis=y_axis), tooltip=tooltip
            ),
        ]
    title = f"{kpi_label(kpi)} by {lever_title(lever).split(' (')[0].lower()}"
    return _finish(alt.layer(*layers), title, description, height)


def sweep_heatmap(
    frame: pd.DataFrame,
    levers: Sequence[str],
    kpi: str,
    *,
    description: str = "",
    height: int | None = None,
) -> alt.LayerChart:
    """A KPI's mean over two levers: one cell per grid point, brighter where the KPI is better.

    Args:
        frame: one KPI's rows of a two-lever sweep: both levers' columns, ``n``, ``mean``,
            ``ci_lo``, ``ci_hi``. The first lever runs down the rows, the second across.
        levers: the two setting keys, in the sweep's order.
        kpi: the KPI shown.
    """
    if len(levers) != 2:
        raise ValueError("a heatmap needs two levers")
    data = _sweep_data(frame, levers, kpi)
    unit = kpi_unit(kpi)
    higher = KPIS[kpi].higher_is_better if kpi in KPIS else True
    # Label colour from the cell's brightness: viridis runs dark to light toward "better".
    finite = data["mean"].dropna()
    lo, hi = (finite.min(), finite.max()) if not finite.empty else (0.0, 1.0)
    span = (hi - lo) or 1.0
    position = (data["mean"] - lo) / span
    data["light_cell"] = (position if higher else 1 - position) > 0.55
    row_title, column_title = lever_title(levers[0]), lever_title(levers[1])
    x = alt.X(
        "b_text:N",
        title=column_title,
        sort=list(dict.fromkeys(data["b_text"])),
        axis=alt.Axis(labelAngle=0),
    )
    y = alt.Y("a_text:N", title=row_title, sort=list(dict.fromkeys(data["a_text"])))
    fmt = axis_format(unit)
    better = "brighter is better"
    legend = alt.Legend(title=[kpi_title(kpi), f"({better})"], format=fmt) if fmt else None
    legend = legend or alt.Legend(title=[kpi_title(kpi), f"({better})"])
    tooltip = [
        alt.Tooltip("a_text:N", title=row_title),
        alt.Tooltip("b_text:N", title=column_title),
        alt.Tooltip("mean_text:N", title="Mean"),
        alt.Tooltip("ci_text:N", title="95% confidence interval"),
        alt.Tooltip("n:Q", title="Replications"),
    ]
    base = alt.Chart(data).encode(x=x, y=y)
    cells = base.mark_rect(stroke="#8c8c8c", strokeWidth=0.5).encode(
        color=alt.Color(
            "mean:Q",
            scale=alt.Scale(scheme="viridis", reverse=not higher),
            legend=legend,
        ),
        tooltip=tooltip,
    )
    labels = base.mark_text(fontSize=11).encode(
        text="mean_text:N",
        color=alt.when(alt.datum.light_cell)
        .then(alt.value("#111111"))
        .otherwise(alt.value("#ffffff")),
        tooltip=tooltip,
    )
    rows = data["a_text"].nunique()
    title = f"{kpi_label(kpi)} by two levers"
    return _finish(
        alt.layer(cells, labels), title, description, height or max(240, 36 * rows + 150)
    )


def sweep_chart(
    frame: pd.DataFrame, levers: Sequence[str], kpi: str, *, description: str = ""
) -> alt.LayerChart:
    """A line with its band for one lever, a heatmap for two."""
    if len(levers) == 1:
        return sweep_line_chart(frame, levers[0], kpi, description=description)
    return sweep_heatmap(frame, levers, kpi, description=description)


def _where(row: Mapping, levers: Sequence[str]) -> str:
    return ", ".join(
        f"{lever_title(k).split(' (')[0].lower()} {value_text(row[k])}" for k in levers
    )


def describe_sweep(frame: pd.DataFrame, levers: Sequence[str], kpi: str) -> str:
    """One sentence: where the KPI is best and worst over the grid, with intervals."""
    unit = kpi_unit(kpi)
    rows = frame.dropna(subset=["mean"])
    label = kpi_label(kpi)
    if rows.empty:
        return f"{label}: no values at any grid point."
    hi = rows.loc[rows["mean"].idxmax()]
    lo = rows.loc[rows["mean"].idxmin()]
    return (
        f"{label} is highest at {_where(hi, levers)} ({fmt_value(hi['mean'], unit)}, 95% CI "
        f"{_interval(hi['ci_lo'], hi['ci_hi'], unit)}) and lowest at {_where(lo, levers)} "
        f"({fmt_value(lo['mean'], unit)}, 95% CI {_interval(lo['ci_lo'], lo['ci_hi'], unit)}); "
        f"{len(frame)} grid points."
    )


def sweep_table(frame: pd.DataFrame, levers: Sequence[str], kpi: str) -> pd.DataFrame:
    """One KPI's sweep as text: each lever's value, the mean, its 95% CI, replications."""
    unit = kpi_unit(kpi)
    out = pd.DataFrame({lever_title(k): [value_text(v) for v in frame[k]] for k in levers})
    out[f"Mean {kpi_label(kpi).lower()}"] = [fmt_value(m, unit) for m in frame["mean"]]
    out["95% confidence interval"] = [
        _interval(lo, hi, unit) for lo, hi in zip(frame["ci_lo"], frame["ci_hi"], strict=True)
    ]
    out["Replications"] = frame["n"].astype(int).to_numpy()
    return out


# --------------------------------------------------------------------------------------------------
# Sensitivity
# --------------------------------------------------------------------------------------------------


def _morris_scale(kpi: str) -> tuple[float, str, str]:
    """(multiplier, unit word, unit for formatting) of Morris effects of a KPI."""
    unit = kpi_unit(kpi)
    if unit.startswith("share"):
        return 100.0, "percentage points", "pp"
    return 1.0, _UNIT_WORDS.get(unit, unit), unit


def _effect_text(value: float, unit: str) -> str:
    if is_missing(value):
        return "n/a"
    if unit == "pp":
        return f"{value:.2f} pp"
    if unit == "share of variance":
        return f"{value:.0%}"
    return fmt_value(value, unit) if unit else f"{value:.3g}"


def sensitivity_index_title(method: str, kpi: str) -> str:
    """The axis title of the ranking index, with its unit."""
    if method == "morris":
        _, word, _ = _morris_scale(kpi)
        suffix = f" ({word})" if word else ""
        return f"μ*: mean absolute effect on {kpi_label(kpi).lower()}{suffix}"
    return f"Share of the variance of {kpi_label(kpi).lower()}"


def _sensitivity_data(ranked: pd.DataFrame, method: str, kpi: str) -> pd.DataFrame:
    if method == "morris":
        scale, _, unit = _morris_scale(kpi)
        out = pd.DataFrame(
            {
                "lever": ranked["lever"].to_numpy(),
                "value": ranked["mu_star"].to_numpy(dtype=float) * scale,
                "conf": ranked["mu_star_conf"].to_numpy(dtype=float) * scale,
                "sigma": ranked["sigma"].to_numpy(dtype=float) * scale,
            }
        )
    else:
        unit = "share of variance"
        out = pd.DataFrame(
            {
                "lever": ranked["lever"].to_numpy(),
                "value": ranked["ST"].to_numpy(dtype=float),
                "conf": ranked["ST_conf"].to_numpy(dtype=float),
                "first": ranked["S1"].to_numpy(dtype=float),
                "first_conf": ranked["S1_conf"].to_numpy(dtype=float),
            }
        )
    out["rank"] = ranked["rank"].to_numpy()
    out["name"] = [lever_title(k) for k in out["lever"]]
    out["lo"] = out["value"] - out["conf"]
    out["hi"] = out["value"] + out["conf"]
    out["value_text"] = [_effect_text(v, unit) for v in out["value"]]
    out["ci_text"] = [
        f"{_effect_text(lo, unit)} to {_effect_text(hi, unit)}"
        for lo, hi in zip(out["lo"], out["hi"], strict=True)
    ]
    if method == "morris":
        out["extra_text"] = [_effect_text(v, unit) for v in out["sigma"]]
    else:
        out["extra_text"] = [_effect_text(v, unit) for v in out["first"]]
    return out


def sensitivity_chart(
    ranked: pd.DataFrame, method: str, kpi: str, *, description: str = "", height: int | None = None
) -> alt.LayerChart:
    """Levers ranked by importance for one KPI, as bars with 95% bootstrap intervals.

    Args:
        ranked: ``SensitivityResult.ranked(kpi)``: rank, lever, importance and the method's indices.
        method: ``morris`` (bars are μ*, the mean absolute effect of moving a lever across its
            range, in the KPI's unit) or ``sobol`` (bars are the total-order index ST, the share of
            the KPI's variance a lever is involved in; ticks mark the first-order index S1).
        kpi: the KPI analysed.
    """
    data = _sensitivity_data(ranked, method, kpi)
    x_title = sensitivity_index_title(method, kpi)
    order = list(data["name"])
    y = alt.Y("name:N", title=None, sort=order, axis=alt.Axis(labelLimit=260))
    fmt = ".0%" if method == "sobol" else None
    x_axis = alt.Axis(format=fmt) if fmt else alt.Axis()
    extra = "σ (spread of the effects)" if method == "morris" else "First-order S1 (alone)"
    tooltip = [
        alt.Tooltip("rank:Q", title="Rank"),
        alt.Tooltip("name:N", title="Lever"),
        alt.Tooltip("value_text:N", title="μ*" if method == "morris" else "Total ST"),
        alt.Tooltip("ci_text:N", title="95% bootstrap interval"),
        alt.Tooltip("extra_text:N", title=extra),
    ]
    base = alt.Chart(data).encode(y=y)
    layers = [
        base.mark_bar(color=VARIANT_COLOR, opacity=0.85, height={"band": 0.6}).encode(
            x=alt.X("value:Q", title=x_title, axis=x_axis), tooltip=tooltip
        ),
        base.mark_rule(color=BASELINE_COLOR, strokeWidth=2).encode(
            x="lo:Q", x2="hi:Q", tooltip=tooltip
        ),
    ]
    if method == "sobol":
        layers.append(
            base.mark_tick(color=SECOND_COLOR, thickness=3, size=18).encode(
                x=alt.X("first:Q"), tooltip=tooltip
            )
        )
    name = "μ*" if method == "morris" else "total Sobol index"
    title = f"Which lever matters most for {kpi_label(kpi).lower()} ({name})"
    return _finish(alt.layer(*layers), title, description, height or max(200, 44 * len(data) + 140))


def describe_sensitivity(ranked: pd.DataFrame, method: str, kpi: str) -> str:
    """One sentence ranking the levers with their indices and intervals."""
    if ranked.empty:
        return f"No ranking for {kpi_label(kpi).lower()}."
    data = _sensitivity_data(ranked, method, kpi)
    parts = [
        f"{name.split(' (')[0].lower()} {value} ({ci})"
        for name, value, ci in zip(data["name"], data["value_text"], data["ci_text"], strict=True)
    ]
    index = "μ*, the mean absolute effect," if method == "morris" else "total Sobol index"
    return f"Levers ranked by {index} on {kpi_label(kpi).lower()}: " + "; ".join(parts) + "."


def sensitivity_table(ranked: pd.DataFrame, method: str, kpi: str) -> pd.DataFrame:
    """One KPI's ranking as text."""
    data = _sensitivity_data(ranked, method, kpi)
    out = pd.DataFrame({"Rank": data["rank"].astype(int), "Lever": data["name"]})
    if method == "morris":
        out["μ* (mean absolute effect)"] = data["value_text"]
        out["95% interval of μ*"] = data["ci_text"]
        out["σ (spread of the effects)"] = data["extra_text"]
    else:
        out["Total index ST"] = data["value_text"]
        out["95% interval of ST"] = data["ci_text"]
        out["First-order index S1"] = data["extra_text"]
    return out


# --------------------------------------------------------------------------------------------------
# Attribution
# --------------------------------------------------------------------------------------------------


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
        else _capital(str(label))
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
        _interval(lo, hi, unit, delta=True) if kind == "lever" else "—"
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
    fmt = axis_format(unit)
    y_title = kpi_title(kpi)
    subtitle = None
    if domain is not None:
        start = domain[0] if domain[0] > 0 else domain[1]
        subtitle = f"The axis starts at {fmt_value(start, unit)}, not at zero."
    y_axis = alt.Axis(format=fmt, titleLimit=HEIGHT) if fmt else alt.Axis(titleLimit=HEIGHT)
    order = list(data["what"])
    angle = 0 if len(order) <= 5 else -30
    x = alt.X("what:N", title=None, sort=order, axis=alt.Axis(labelAngle=angle, labelLimit=180))
    palette = {
        "Baseline": BASELINE_COLOR,
        "Better": BETTER_COLOR,
        "Worse": WORSE_COLOR,
        "No change": BASELINE_COLOR,
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
    title = f"Where the difference in {kpi_label(kpi).lower()} comes from"
    return _finish(alt.layer(bars, intervals), title, description, height, subtitle)


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
                else _capital(str(r["label"])),
                "Setting": "" if is_total else r["lever"],
                "Contribution": fmt_delta(r["contribution"], unit),
                "95% confidence interval": _interval(r["ci_lo"], r["ci_hi"], unit, delta=True),
                "Share of the difference": "n/a" if is_missing(r["share"]) else f"{r['share']:.0%}",
            }
        )
    return pd.DataFrame(out)


# --------------------------------------------------------------------------------------------------
# Optimisation
# --------------------------------------------------------------------------------------------------


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
        _interval(lo, hi, unit) for lo, hi in zip(data["ci_lo"], data["ci_hi"], strict=True)
    ]
    # Early rounds run few replications, so their intervals are wide: the axis follows every
    # mean and the finalists' intervals, and longer interval bars are clipped at its edges.
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
    fmt = axis_format(unit)
    y_axis = alt.Axis(format=fmt) if fmt else alt.Axis()
    x = alt.X("rank:Q", title="Rank (1 = best)", scale=alt.Scale(nice=False, zero=False))
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
        base.mark_rule(strokeWidth=1.5, clip=True).encode(
            # Early rounds' intervals (few replications) are drawn faintly.
            opacity=alt.when(alt.datum.stage == "Final")
            .then(alt.value(1.0))
            .otherwise(alt.value(0.35)),
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
    title = f"Candidates ranked by {kpi_label(kpi).lower()} (dashed: the starting point)"
    return _finish(alt.layer(*layers), title, description, height)


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
    out[f"Mean {kpi_label(kpi).lower()}"] = [fmt_value(m, unit) for m in table["mean"]]
    out["95% confidence interval"] = [
        _interval(lo, hi, unit) for lo, hi in zip(table["ci_lo"], table["ci_hi"], strict=True)
    ]
    out["Meets constraints"] = ["yes" if f else "no" for f in table["feasible"]]
    for name in dict.fromkeys(constraints):
        column = f"{name}_mean"
        if column in table:
            out[f"Mean {kpi_label(name).lower()}"] = [
                fmt_value(v, kpi_unit(name)) for v in table[column]
            ]
    return out


def describe_candidates(table: pd.DataFrame, kpi: str, levers: Sequence[str]) -> str:
    """One sentence: the best candidate and how many were tried."""
    unit = kpi_unit(kpi)
    if table.empty:
        return "No candidates."
    best = table.iloc[0]
    return (
        f"{len(table)} candidates; the best, {_settings_text(best, levers)}, has a mean "
        f"{kpi_label(kpi).lower()} of {fmt_value(best['mean'], unit)} (95% CI "
        f"{_interval(best['ci_lo'], best['ci_hi'], unit)})."
    )
