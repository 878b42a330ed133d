"""What every experiment chart shares: names and units of KPIs and levers, value text, colours and
the common chart properties."""

from __future__ import annotations

import math
from typing import Any

import altair as alt
import numpy as np
import pandas as pd

from sim.explore.labels import lever_label
from sim.narrative import in_sentence
from sim.outcomes import KPIS
from sim.params import ParamError, info
from sim.report.charts import BASELINE_COLOR
from sim.report.format import (
    AXIS_FORMAT,
    delta_range,
    is_missing,
    value_range,
)

HEIGHT = 320  # the whole chart: titles, legend and axes included
WATERFALL_HEIGHT = 400
BETTER_COLOR = "#54a24b"
WORSE_COLOR = "#e45756"
SECOND_COLOR = "#f58518"
STAGE_COLORS = ("#8c8c8c", "#b279a2", "#9d755d", "#4c78a8", "#72b7b2")
_SVG = {"embedOptions": {"renderer": "svg"}}

# Unit words for axis titles ("Value delivered (value points)").
UNIT_WORDS = {
    "share": "%",
    "share per week": "% per week",
    "alignment": "0 to 1",
}


def kpi_unit(kpi: str) -> str:
    """A KPI's unit (empty for outputs that are not model KPIs)."""
    return KPIS[kpi].unit if kpi in KPIS else ""


def kpi_label(kpi: str) -> str:
    """A KPI's name for people."""
    return KPIS[kpi].label if kpi in KPIS else kpi


def kpi_words(kpi: str) -> str:
    """A KPI's name inside a sentence or a title (LTV / CAC keeps its capitals)."""
    return in_sentence(kpi_label(kpi))


def kpi_title(kpi: str) -> str:
    """An axis title for a KPI with its unit, e.g. ``Value delivered (value points)``."""
    unit = kpi_unit(kpi)
    word = UNIT_WORDS.get(unit, unit)
    return f"{kpi_label(kpi)} ({word})" if word else kpi_label(kpi)


def capitalised(text: str) -> str:
    for article in ("the ", "a "):
        if text.startswith(article):
            text = text[len(article) :]
    return text[:1].upper() + text[1:]


def lever_title(key: str) -> str:
    """An axis title for a setting with its unit, e.g. ``Council interval (weeks)``."""
    name = capitalised(lever_label(key))
    try:
        s = info(key)
    except ParamError:
        return name
    if s.type in ("int", "float") and s.unit:
        return f"{name} ({s.unit})"
    return name


def value_text(value: Any) -> str:
    """A setting's value for people: on/off, words for choices, compact numbers."""
    if isinstance(value, bool | np.bool_):  # a table's column gives NumPy's booleans
        return "on" if value else "off"
    if isinstance(value, str):
        return value.replace("_", " ")
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    if isinstance(value, float):
        return f"{value:,.0f}" if abs(value) >= 10_000 else f"{value:.4g}"  # not "5.001e+06"
    return str(value)


def axis_format(unit: str, span: float | None = None) -> str | None:
    """The d3 format of an axis in ``unit``; a share's axis spanning under 10 points (``span``,
    the data's highest minus lowest) gets a decimal: whole percents would repeat (34%, 34%, 33%)."""
    fmt = AXIS_FORMAT.get(unit)
    if fmt == ".0%" and span is not None and span < 0.1:
        return ".1%"
    return fmt


def interval_text(lo: float, hi: float, unit: str, delta: bool = False) -> str:
    if is_missing(lo) or is_missing(hi):
        return "n/a"
    return delta_range(lo, hi, unit) if delta else value_range(lo, hi, unit)


def finish_chart(
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


def numeric_column(series: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series)
