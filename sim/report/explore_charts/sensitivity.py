"""Sensitivity: levers ranked by Morris μ* or Sobol indices, with intervals, in words and as a table."""

from __future__ import annotations

import altair as alt
import pandas as pd

from sim.narrative import in_sentence
from sim.report.charts import VARIANT_COLOR
from sim.report.explore_charts.common import (
    SECOND_COLOR,
    UNIT_WORDS,
    finish_chart,
    kpi_unit,
    kpi_words,
    lever_title,
)
from sim.report.format import fmt_value, is_missing, range_text, true_minus

# The interval's line across a sensitivity bar: a dark slate that reads on the light bar and on
# either theme's background.
INTERVAL_COLOR = "#475569"


def _morris_scale(kpi: str) -> tuple[float, str, str]:
    """(multiplier, unit word, unit for formatting) of Morris effects of a KPI."""
    unit = kpi_unit(kpi)
    if unit.startswith("share"):
        return 100.0, "percentage points", "pp"
    return 1.0, UNIT_WORDS.get(unit, unit), unit


def _effect_text(value: float, unit: str) -> str:
    if is_missing(value):
        return "n/a"
    if unit == "pp":  # percentage points, written as every other change of a share is
        text = f"{value:.2f} points"
    elif unit == "share of variance":
        text = f"{value:.0%}"
    else:
        text = fmt_value(value, unit) if unit else f"{value:.3g}"
    return true_minus(text)  # a Sobol index below zero (sampling noise): "−6%"


def sensitivity_index_title(method: str, kpi: str) -> str:
    """The axis title of the ranking index, with its unit."""
    if method == "morris":
        _, word, _ = _morris_scale(kpi)
        suffix = f" ({word})" if word else ""
        return f"μ*: mean absolute effect on {kpi_words(kpi)}{suffix}"
    return f"Share of the variance of {kpi_words(kpi)}"


# μ* is the mean of the effects' sizes, μ the mean of the effects with their signs: when |μ| is
# at least this share of μ*, nearly every effect of raising the lever has the same sign.
ONE_WAY = 0.8


def morris_direction(mu: float, mu_star: float) -> str:
    """Which way a KPI moves as a lever is raised, from Morris μ and μ*: "rises", "falls", or
    "either way" when the effects have both signs (the lever's effect depends on where it is set
    and on the other levers), or "n/a"."""
    if is_missing(mu) or is_missing(mu_star) or mu_star <= 0:
        return "n/a"
    if abs(mu) < ONE_WAY * mu_star:
        return "either way"
    return "rises" if mu > 0 else "falls"


def _sensitivity_data(ranked: pd.DataFrame, method: str, kpi: str) -> pd.DataFrame:
    if method == "morris":
        scale, _, unit = _morris_scale(kpi)
        out = pd.DataFrame(
            {
                "lever": ranked["lever"].to_numpy(),
                "value": ranked["mu_star"].to_numpy(dtype=float) * scale,
                "conf": ranked["mu_star_conf"].to_numpy(dtype=float) * scale,
                "sigma": ranked["sigma"].to_numpy(dtype=float) * scale,
                "mu": ranked["mu"].to_numpy(dtype=float) * scale,
            }
        )
        out["direction"] = [
            morris_direction(mu, mu_star)
            for mu, mu_star in zip(out["mu"], out["value"], strict=True)
        ]
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
        range_text(_effect_text(lo, unit), _effect_text(hi, unit))
        for lo, hi in zip(out["lo"], out["hi"], strict=True)
    ]
    if method == "morris":
        out["extra_text"] = [_effect_text(v, unit) for v in out["sigma"]]
        out["direction_text"] = [
            _DIRECTION_WORDS[d].format(kpi=kpi_words(kpi)) for d in out["direction"]
        ]
    else:
        out["extra_text"] = [_effect_text(v, unit) for v in out["first"]]
    return out


_DIRECTION_WORDS = {
    "rises": "{kpi} rises",
    "falls": "{kpi} falls",
    "either way": "either way (effects of both signs)",
    "n/a": "n/a",
}


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
    if method == "morris":
        tooltip.append(alt.Tooltip("direction_text:N", title="As the lever is raised"))
    base = alt.Chart(data).encode(y=y)
    layers = [
        # A light bar, so the interval's dark line reads across it (grey on blue was lost).
        base.mark_bar(color=VARIANT_COLOR, opacity=0.45, height={"band": 0.6}).encode(
            x=alt.X("value:Q", title=x_title, axis=x_axis), tooltip=tooltip
        ),
        base.mark_rule(color=INTERVAL_COLOR, strokeWidth=2.5).encode(
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
    title = f"Which lever matters most for {kpi_words(kpi)} ({name})"
    return finish_chart(
        alt.layer(*layers), title, description, height or max(200, 44 * len(data) + 140)
    )


# Beyond these, total Sobol indices are sampling noise rather than shares of variance.
SOBOL_SLACK = 0.05  # how far outside 0..1 an estimate may stray
SOBOL_WIDEST = 0.25  # the widest half-interval of a steady estimate


def sobol_caution(ranked: pd.DataFrame) -> str | None:
    """Why a Sobol ranking is not to be read as shares yet (too few samples), or None."""
    if ranked.empty:
        return None
    st_ = ranked["ST"].astype(float)
    conf = ranked["ST_conf"].astype(float)
    outside = ((st_ < -SOBOL_SLACK) | (st_ > 1 + SOBOL_SLACK)).any()
    wide = (conf > SOBOL_WIDEST).any()
    if not (outside or wide):
        return None
    what = (
        "a share above 100% or below 0"
        if outside
        else f"an interval wider than ±{SOBOL_WIDEST:.0%}"
    )
    return (
        f"Too few samples for these Sobol indices: {what} is sampling noise, not a share of the "
        "variance. Raise Samples (Sobol's base samples N; each adds levers + 2 design points) "
        "for steadier numbers, or screen the levers with Morris first."
    )


def describe_sensitivity(ranked: pd.DataFrame, method: str, kpi: str) -> str:
    """One sentence ranking the levers with their indices and intervals."""
    if ranked.empty:
        return f"No ranking for {kpi_words(kpi)}."
    data = _sensitivity_data(ranked, method, kpi)
    parts = [
        f"{in_sentence(name.split(' (')[0])} {value} ({ci})"
        for name, value, ci in zip(data["name"], data["value_text"], data["ci_text"], strict=True)
    ]
    if method == "morris":
        what = kpi_words(kpi)
        parts = [
            f"{part}, {_SENTENCE_DIRECTION[d].format(kpi=what)}"
            for part, d in zip(parts, data["direction"], strict=True)
        ]
    index = "μ*, the mean absolute effect," if method == "morris" else "total Sobol index"
    return f"Levers ranked by {index} on {kpi_words(kpi)}: " + "; ".join(parts) + "."


# How a lever's direction reads in the ranking's sentence, after the lever's effect.
_SENTENCE_DIRECTION = {
    "rises": "raising it raises {kpi}",
    "falls": "raising it lowers {kpi}",
    "either way": "with effects of both signs",
    "n/a": "direction n/a",
}


def sensitivity_table(ranked: pd.DataFrame, method: str, kpi: str) -> pd.DataFrame:
    """One KPI's ranking as text."""
    data = _sensitivity_data(ranked, method, kpi)
    out = pd.DataFrame({"Rank": data["rank"].astype(int), "Lever": data["name"]})
    if method == "morris":
        out["μ* (mean absolute effect)"] = data["value_text"]
        out["95% interval of μ*"] = data["ci_text"]
        out["σ (spread of the effects)"] = data["extra_text"]
        out["As the lever is raised"] = data["direction_text"]
    else:
        out["Total index ST"] = data["value_text"]
        out["95% interval of ST"] = data["ci_text"]
        out["First-order index S1"] = data["extra_text"]
    return out
