"""Sweeps: a KPI over one lever (line or dots with intervals) or two (heat map), in words and as a table."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import altair as alt
import numpy as np
import pandas as pd

from sim.narrative import in_sentence
from sim.outcomes import KPIS
from sim.report.charts import VARIANT_COLOR
from sim.report.explore_charts.common import (
    HEIGHT,
    axis_format,
    finish_chart,
    interval_text,
    kpi_label,
    kpi_title,
    kpi_unit,
    kpi_words,
    lever_title,
    numeric_column,
    value_text,
)
from sim.report.format import fmt_delta, fmt_value


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
        interval_text(lo, hi, unit) for lo, hi in zip(out["ci_lo"], out["ci_hi"], strict=True)
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
    fmt = axis_format(unit, _span(data))
    y_axis = alt.Axis(format=fmt) if fmt else alt.Axis()
    tooltip = [
        alt.Tooltip("a_text:N", title=x_title),
        alt.Tooltip("mean_text:N", title="Mean"),
        alt.Tooltip("ci_text:N", title="95% confidence interval"),
        alt.Tooltip("n:Q", title="Replications"),
    ]
    base = alt.Chart(data)
    if numeric_column(frame[lever]):
        x = _lever_x(data["a"], x_title)
        y_band = alt.Y("ci_lo:Q", title=y_title, axis=y_axis, scale=alt.Scale(zero=False))
        layers = [
            # The band's hover says what the points' does (not its raw ends as "ci_hi 0.4464").
            base.mark_area(opacity=0.22, color=VARIANT_COLOR).encode(
                x=x, y=y_band, y2="ci_hi:Q", tooltip=tooltip
            ),
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
    title = f"{kpi_label(kpi)} by {in_sentence(lever_title(lever).split(' (')[0])}"
    return finish_chart(alt.layer(*layers), title, description, height)


def _span(data: pd.DataFrame) -> float | None:
    """How far the chart's values reach, lowest interval end to highest (None without values)."""
    values = pd.concat([data["ci_lo"], data["ci_hi"], data["mean"]]).dropna()
    return float(values.max() - values.min()) if len(values) else None


MAX_TICKS = 12  # up to this many grid values, the axis labels each one
EDGE_PX = 10  # room between the plot's edges and the first and last grid points


def geometric(values: Sequence[float]) -> bool:
    """Whether grid values are spread evenly in ratio rather than in difference (0.5, 1, 2, 4, 8,
    say), so that a log axis spaces them better: all positive, at least three, spanning a ratio of
    8 or more, with steps more even on a log scale than on a linear one."""
    xs = np.unique(np.asarray(values, dtype=float))
    xs = xs[np.isfinite(xs)]
    if xs.size < 3 or xs[0] <= 0 or xs[-1] / xs[0] < 8:
        return False

    def unevenness(points: np.ndarray) -> float:
        gaps = np.diff(points)
        return float(gaps.std() / gaps.mean())

    return unevenness(np.log(xs)) < unevenness(xs)


def _lever_x(values: pd.Series, title: str) -> alt.X:
    """The x encoding of a numeric lever: a log scale for values spread in ratio (say so in the
    title), and a tick at each grid value when there are few."""
    grid = sorted(set(values.dropna().tolist()))
    # ",~f": "10,000,000" and "0.05", never "1e+7".
    axis = alt.Axis(values=grid, format=",~f") if len(grid) <= MAX_TICKS else alt.Axis(format=",~f")
    # Padded, so the first and last points are drawn whole rather than cut by the plot's edge.
    if geometric(grid):
        title = title[:-1] + ", log scale)" if title.endswith(")") else title + " (log scale)"
        scale = alt.Scale(type="log", nice=False, padding=EDGE_PX)
    else:
        scale = alt.Scale(nice=False, zero=False, padding=EDGE_PX)
    return alt.X("a:Q", title=title, scale=scale, axis=axis)


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
    fmt = axis_format(unit, float(hi - lo))  # the legend's, as an axis's
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
    return finish_chart(
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
        f"{in_sentence(lever_title(k).split(' (')[0])} {value_text(row[k])}" for k in levers
    )


def describe_sweep(
    frame: pd.DataFrame,
    levers: Sequence[str],
    kpi: str,
    paired: Mapping[str, float | None] | None = None,
) -> str:
    """One sentence: where the KPI is best and worst over the grid, with intervals; ``paired`` is
    the highest point − the lowest over the same replications (:meth:`SweepResult.paired`), when
    the sweep kept pairs."""
    unit = kpi_unit(kpi)
    rows = frame.dropna(subset=["mean"])
    label = kpi_label(kpi)
    if rows.empty:
        return f"{label}: no values at any grid point."
    hi = rows.loc[rows["mean"].idxmax()]
    lo = rows.loc[rows["mean"].idxmin()]
    if hi["mean"] == lo["mean"]:
        return (
            f"{label} is the same at every grid point ({fmt_value(hi['mean'], unit)}): these "
            f"levers do not move it here; {len(frame)} grid points."
        )
    return (
        f"{label} is highest at {_where(hi, levers)} ({fmt_value(hi['mean'], unit)}, 95% CI "
        f"{interval_text(hi['ci_lo'], hi['ci_hi'], unit)}) and lowest at {_where(lo, levers)} "
        f"({fmt_value(lo['mean'], unit)}, 95% CI {interval_text(lo['ci_lo'], lo['ci_hi'], unit)}); "
        f"{len(frame)} grid points." + _overlap(hi, lo, unit, paired, len(rows))
    )


def _overlap(
    hi: pd.Series,
    lo: pd.Series,
    unit: str,
    paired: Mapping[str, float | None] | None,
    points: int = 2,
) -> str:
    """When the best and worst grid points' intervals overlap (or there are none, with one
    replication), whether the ranking may be noise: the paired difference says, when there is one.

    Of more than two points, the highest and lowest are picked for their means, noise included, so
    a paired interval that only just leaves out zero overstates the gap (the winner's curse): the
    sentence then asks for a check on another seed."""
    if pd.isna(hi["ci_lo"]) or pd.isna(lo["ci_hi"]):
        return " One replication gives no intervals, so this ranking may be noise: run more."
    if hi["ci_lo"] > lo["ci_hi"]:
        return ""
    if paired is None or paired.get("ci_lo") is None or paired.get("ci_hi") is None:
        return (
            " Their intervals overlap, so this ranking may be noise: run more replications, or "
            "compare the two points paired (one pinned as the baseline in the Sandbox), which "
            "tells closer points apart, since both run the same replications."
        )
    share = paired.get("share_higher")
    found = (
        f" Their intervals overlap, but paired over the same {paired['n']:,} replications, "
        f"highest − lowest is {fmt_delta(paired['mean'], unit)} (95% CI "
        f"{interval_text(paired['ci_lo'], paired['ci_hi'], unit, delta=True)})"
        + (f", higher in {share:.0%} of them" if share is not None else "")
    )
    if paired["ci_lo"] > 0:
        if points > 2:
            return found + (
                f": pairing tells the two apart here, but they were picked as the highest and "
                f"lowest of {points} points, which overstates their gap; confirm it on another "
                "seed before acting on it."
            )
        return found + ": pairing tells the two apart."
    if paired["ci_hi"] < 0:
        # A KPI missing from some replications: over the ones both points have, the order flips.
        return found + ": over the replications both have, the order is the other way round."
    return found + ": even paired, this ranking may be noise; run more replications."


def sweep_table(frame: pd.DataFrame, levers: Sequence[str], kpi: str) -> pd.DataFrame:
    """One KPI's sweep as text: each lever's value, the mean, its 95% CI, replications."""
    unit = kpi_unit(kpi)
    out = pd.DataFrame({lever_title(k): [value_text(v) for v in frame[k]] for k in levers})
    out[f"Mean {kpi_words(kpi)}"] = [fmt_value(m, unit) for m in frame["mean"]]
    out["95% confidence interval"] = [
        interval_text(lo, hi, unit) for lo, hi in zip(frame["ci_lo"], frame["ci_hi"], strict=True)
    ]
    out["Replications"] = frame["n"].astype(int).to_numpy()
    return out
