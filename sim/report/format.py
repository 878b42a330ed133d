"""Numbers with their units, and one-line text alternatives of the curves.

Every number the app shows goes through here, so a share always reads as a percentage, a difference
of shares as percentage points, days as days. The ``describe_*`` functions give each chart a sentence
that says what the curve shows, for readers who cannot see it.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from sim.narrative import (
    MIN_PAIRS,
    few_pairs,
    fmt_change,
    is_unclear,
    near_zero_end,
    paired_runs,
    unit_once,
)
from sim.outcomes import KPIS, NULL_REASONS, SERIES

# The KPIs shown as tiles, in order.
TILE_KPIS = (
    "retention_52w",
    "median_ttv_days",
    "value_delivered",
    "meeting_overhead_share",
    "mean_alignment",
    "detection_lag_days",
)

# Axis formats (d3-format) and titles by unit.
AXIS_FORMAT = {
    "share": ".0%",
    "share per week": ".1%",
    "$ per week": "$,.0f",
    "alignment": ".2f",
}


def is_missing(value: Any) -> bool:
    """True for None and NaN."""
    return value is None or (isinstance(value, float) and math.isnan(value))


def fmt_value(value: float | None, unit: str) -> str:
    """A value with its unit, compactly."""
    if is_missing(value):
        return "n/a"
    if unit in ("share", "share per week"):
        return f"{value:.1%}"
    if unit == "days":
        return f"{value:.1f} days"
    if unit == "alignment":
        return f"{value:.3f}"
    if unit == "ratio":
        return f"{value:.2f}"
    if unit in ("$ per week", "$"):
        return f"${value:,.0f}"
    if unit == "value points":  # as its change is written: "4,434 points", "−322 points"
        number = f"{value:,.0f}"
        return f"{number} {'point' if number == '1' else 'points'}"
    if unit == "customers":
        return f"{value:,.0f}"
    if abs(value) >= 100:
        return f"{value:,.0f} {unit}".strip()
    return f"{value:.3g} {unit}".strip()


def fmt_delta(value: float | None, unit: str) -> str:
    """A signed difference with its unit, as every sentence, tile, table and tooltip writes one:
    with a minus sign, a share's difference in points ("−1.6 points"), days and value points as
    the sentences say them (:func:`~sim.narrative.fmt_change`), customers as a count. One that
    rounds to nothing reads "±0.0 points", never "−0.0 points"."""
    if is_missing(value):
        return "n/a"
    if unit == "share per week":  # a weekly rate's difference is in points too
        unit = "share"
    if unit in ("share", "days", "value points"):
        return fmt_change(value, unit)
    text = _fmt_magnitude(abs(value), unit)
    if not any(c in "123456789" for c in text.split(" ")[0]):
        return "±" + text
    return ("+" if value >= 0 else "−") + text


def true_minus(text: str) -> str:
    """``text`` with each number's ASCII hyphen written as the minus sign every page writes:
    "−5 to 5", "−10%" (a hyphen inside a word, as in "person-days", stays)."""
    return _HYPHEN_MINUS.sub("\u2212", text)


_HYPHEN_MINUS = re.compile(r"(?<![\w.])-(?=\d)")


def value_range(lo: float | None, hi: float | None, unit: str) -> str:
    """Two values with the unit said once: "9.0 to 10.6 days", "31.6% to 34.5%"."""
    return range_text(fmt_value(lo, unit), fmt_value(hi, unit))


def delta_range(lo: float | None, hi: float | None, unit: str) -> str:
    """Two ends of a change's range with the unit said once: "−8.0 to +12 points"."""
    return range_text(fmt_delta(lo, unit), fmt_delta(hi, unit))


def delta_end(value: float | None, unit: str) -> str:
    """One end of a change's interval, as :func:`fmt_delta` writes a change (see
    :func:`near_zero_end`)."""
    return near_zero_end(fmt_delta(value, unit), value)  # "n/a" when missing, as written


def _fmt_magnitude(mag: float, unit: str) -> str:
    """A difference's size with its unit, unsigned, for the units sentences do not name."""
    if unit == "alignment":
        return f"{mag:.3f}"
    if unit == "ratio":
        return f"{mag:.2f}"
    if unit == "customers":  # a count, as its value is written ("7,099")
        return f"{mag:,.0f}"
    if unit.startswith("$"):  # "$1,234 per week"
        return f"${mag:,.0f} {unit[1:].strip()}".strip()
    number = f"{mag:,.0f}" if mag >= 1000 else f"{mag:.3g}"  # "1,234 items", not "1.23e+03"
    return f"{number} {unit}".strip()


def kpi_value(name: str, summary: dict[str, float | None]) -> str:
    """A KPI's mean with its unit, or ``n/a`` (also when too few replications have a value)."""
    if too_few_values(summary):
        return "n/a"
    return fmt_value(summary.get("mean"), KPIS[name].unit)


def few_values(summary: Mapping) -> str:
    """ "only 2 of 100 replications have a value" ("1 … has")."""
    n, of = summary["n"], summary["of"]
    return f"only {n:,} of {of:,} replications {'has' if n == 1 else 'have'} a value"


def too_few_values(summary: Mapping) -> bool:
    """Whether a KPI has a value in only a few replications (fewer than ``MIN_PAIRS``, and not in
    all): too few for a mean to stand as the run's number (detection lag from 2 of 100 runs read
    140 days, one of them a drift never caught)."""
    n, of = summary.get("n"), summary.get("of")
    return _only_some(n, of) and n < MIN_PAIRS


def kpi_range(name: str, summary: dict[str, float | None]) -> str:
    """A KPI's 90% range across replications, in words."""
    unit = KPIS[name].unit
    if is_missing(summary.get("p05")):
        return ""
    lo, hi = fmt_value(summary["p05"], unit), fmt_value(summary["p95"], unit)
    if summary.get("n") == 1:  # one value has no spread to give a 90% of
        return f"{lo} in the one replication with a value"
    if lo == hi:  # not "between 5.2% and 5.2%"
        return f"{lo} in 90% of replications"
    return f"90% of replications between {unit_once(lo, hi)} and {hi}"


def null_reason(name: str) -> str:
    """Why a KPI can have no value."""
    return NULL_REASONS.get(name, "there was nothing to measure")


def full_stop(text: object) -> str:
    """``text`` as the end of a sentence: one full stop, unless it already ends in ., ? or !
    ("did you mean incentives.sales?" stays as it is)."""
    out = str(text).rstrip()
    return out if out.endswith((".", "?", "!")) else out + "."


def p_better_text(
    row: Mapping, subject: str = "variant", counts: bool = True, short: bool = False
) -> str:
    """P(variant better) of one KPI's paired comparison (a row of ``Comparison.kpis()``), saying
    (with ``counts``) when it rests on only some replications, and giving none when every pair
    is the same. ``short`` (for a tile, whose notes say the rest) gives just the number of pairs
    when that is not all of them."""
    p = row["p_better"]
    if is_missing(p):
        return ""
    some = from_some(row) if counts else _pairs(row) if short else ""
    if row.get("pairs") and row.get("ties") == row["pairs"]:
        return f"the same {same_in(row['pairs'])}{some}"
    name = f"P({subject} better)" if subject else "P(better)"
    return f"{name} {p:.0%}{some}"


def same_in(pairs: int | None) -> str:
    """Where a difference of nothing was seen: "in every pair", or "in the one pair" (not "every"
    of one)."""
    return "in the one pair" if pairs == 1 else "in every pair"


# Why the retention curve at 52 weeks and the 52-week retention KPI need not read the same.
CURVE_VS_KPI = (
    "The curve pools every cohort at each age; 52-week retention counts only the customers at "
    "least a year old, so at 52 weeks the two can differ a little."
)


def _only_some(n: int | None, of: int | None) -> bool:
    """Whether a count covers some, but not all, of ``of`` replications (none is said as n/a)."""
    return bool(n) and bool(of) and n < of


def from_count(n: int | None, of: int | None) -> str:
    """ "from 5 of 100 replications" when a value comes from only some of them, else ""."""
    return f"from {n:,} of {of:,} replications" if _only_some(n, of) else ""


def too_few_text(pairs: int | None) -> str | None:
    """ "3 pairs: too few to compare" for a difference of fewer than ``MIN_PAIRS`` pairs (at least
    one), else None: a row's ``pairs``, or an optimisation's ``n``."""
    if pairs is None or not 0 < pairs < MIN_PAIRS:
        return None
    return f"{int(pairs)} pair{'' if pairs == 1 else 's'}: too few to compare"


def too_few_pairs(row: Mapping) -> str | None:
    """For a tile: "3 pairs: too few to compare" when a change rests on fewer than ``MIN_PAIRS``
    pairs (a run of few replications, or a KPI with a value in only a few of them), where an arrow
    and "P(better) 100%" would read as a firm result. None when every pair is the same: that is
    no change, however few they are."""
    pairs = few_pairs(row)
    if not pairs or row.get("ties") == pairs:
        return None
    return too_few_text(pairs)


def _pairs(row: Mapping) -> str:
    """ " (5 pairs)" when a paired KPI has a value in only some replications."""
    pairs = row.get("pairs")
    if not _only_some(pairs, row.get("replications")):
        return ""
    return f" ({pairs:,} pair{'' if pairs == 1 else 's'})"


# KPIs measured on customers at least a year old: at a short horizon, only the first cohorts count.
# (LTV / CAC reads the pooled survival curve, which every cohort feeds.)
YEAR_OLD_KPIS = ("retention_52w",)
YEAR = 52


def few_cohorts_note(kpi: str, weeks: int) -> str | None:
    """For a KPI measured at 52 weeks of customer age: which sign-ups it rests on at a horizon too
    short for a year of them (None when there is no such caveat)."""
    cohorts = weeks - YEAR + 1  # sign-up weeks whose customers reach 52 weeks of age
    if kpi not in YEAR_OLD_KPIS or cohorts <= 0 or cohorts >= YEAR:
        return None
    first = "the first week" if cohorts == 1 else f"the first {cohorts} weeks"
    return (
        f"At a {weeks}-week horizon, {KPIS[kpi].label[0].lower()}{KPIS[kpi].label[1:]} counts only "
        f"customers who signed up in {first}; a horizon of {2 * YEAR - 1} weeks or more judges it "
        "on a year of sign-ups."
    )


def partial_note(name: str, summary: Mapping, row: Mapping | None = None) -> str | None:
    """For a tile: how many replications a KPI's value (from ``summary``) and its paired change
    (from ``row``) come from, when not all, and why the others have none.

    When the two runs have a value in different replications, the value and the change rest on
    different counts, and the note says which is which.
    """
    reason = null_reason(name)
    n, of = summary.get("n"), summary.get("of")
    if too_few_values(summary):
        return f"{few_values(summary).capitalize()}, too few for a mean; in the others, {reason}."
    if row is None or row.get("pairs") is None:
        if n is None or not of or n >= of:
            return None
        return f"From {n:,} of {of:,} replications; in the others, {reason}."
    pairs, of = row["pairs"], row.get("replications") or of
    if not of or pairs >= of:
        return None
    base_n, var_n = row.get("baseline_n"), row.get("variant_n")
    if base_n is None or var_n is None or base_n == var_n == pairs:
        return f"From {pairs:,} of {of:,} replications; in the others, {reason}."
    value = f"all {of:,}" if var_n >= of else f"{var_n:,} of {of:,}"
    return (
        f"The value is from {value} replications; the change and P(better) only from the {pairs:,} "
        f"in which both runs have one (the baseline has one in {base_n:,}, this run in "
        f"{var_n:,}). Without one, {reason}."
    )


def _of_pairs(row: Mapping) -> str:
    """ " (5 of 100 pairs)" when a paired KPI has a value in only some replications: a table's
    narrow column."""
    pairs, of = row.get("pairs"), row.get("replications")
    return f" ({int(pairs):,} of {int(of):,} pairs)" if _only_some(pairs, of) else ""


def from_some(row: Mapping) -> str:
    """ " (from 5 of 100 replications)" when a paired KPI has a value in only some of them."""
    some = from_count(row.get("pairs"), row.get("replications"))
    return f" ({some})" if some else ""


def series_unit(metric: str) -> str:
    """The unit of a weekly metric (per-team alignment included)."""
    if metric.startswith("alignment"):
        return "alignment"
    return SERIES[metric][1]


def series_label(metric: str) -> str:
    """A weekly metric's name for people."""
    if metric.startswith("alignment."):
        return "Alignment of " + metric.split(".", 1)[1]
    description = SERIES[metric][0]
    return description[:1].upper() + description[1:]


_Y_TITLES = {
    "share": "Share",
    "share per week": "Share per week",
    "alignment": "Alignment (0 to 1)",
    "meeting_overhead_share": "Share of team capacity",
}


def y_title(metric: str) -> str:
    """A short y-axis title for a weekly metric: its unit (the chart title says what it is)."""
    if metric in _Y_TITLES:
        return _Y_TITLES[metric]
    unit = series_unit(metric)
    title = _Y_TITLES.get(unit, unit)
    return title[:1].upper() + title[1:]


# --------------------------------------------------------------------------------------------------
# Text alternatives of the charts
# --------------------------------------------------------------------------------------------------


def _measured(df: pd.DataFrame) -> np.ndarray:
    """The positions of ``df``'s rows whose mean is not missing."""
    return np.flatnonzero(df["mean"].notna().to_numpy())


def _row(df: pd.DataFrame, i: int, x: str) -> dict[str, Any]:
    """Row ``i`` of ``df``: its x, mean and band."""
    return {name: df[name].iat[i] for name in (x, "mean", "lo", "hi")}


def _point(df: pd.DataFrame, x: str, at: int | None = None) -> dict[str, Any] | None:
    """The row at ``x == at`` (the last, if ``at`` is None) among those with a mean."""
    rows = _measured(df)
    if at is not None:
        rows = rows[df[x].to_numpy()[rows] == at]
    if not rows.size:
        return None
    return _row(df, int(rows[-1] if at is None else rows[0]), x)


def describe_band(
    df: pd.DataFrame, *, x: str, what: str, unit: str, width: int, x_word: str = "week"
) -> str:
    """One sentence on a band: the start, the end with its band, and the extremes of the mean."""
    rows = _measured(df)
    if not rows.size:
        return f"{what}: no values (nothing to measure)."
    mean = df["mean"].to_numpy()[rows]
    first, last, lo_row, hi_row = (
        _row(df, int(rows[i]), x) for i in (0, -1, int(np.argmin(mean)), int(np.argmax(mean)))
    )
    return (
        f"{what}: {fmt_value(first['mean'], unit)} at {x_word} {int(first[x])}, "
        f"{fmt_value(last['mean'], unit)} at {x_word} {int(last[x])} "
        f"({width}% band {value_range(last['lo'], last['hi'], unit)}); "
        f"lowest {fmt_value(lo_row['mean'], unit)} ({x_word} {int(lo_row[x])}), "
        f"highest {fmt_value(hi_row['mean'], unit)} ({x_word} {int(hi_row[x])})."
    )


def describe_retention(df: pd.DataFrame, width: int, who: str = "Variant") -> str:
    """Retention at a few ages."""
    parts = []
    for age in (4, 13, 26, 52):
        row = _point(df, "age_weeks", age)
        if row is not None:
            parts.append(
                f"{fmt_value(row['mean'], 'share')} at {age} weeks "
                f"({value_range(row['lo'], row['hi'], 'share')})"
            )
    if not parts:
        return f"{who}: no retention values."
    return f"{who} cohort survival, mean ({width}% band): " + "; ".join(parts) + "."


def describe_difference(
    df: pd.DataFrame,
    *,
    x: str,
    what: str,
    unit: str,
    width: int,
    x_word: str = "week",
    at: int | None = None,
    pairs: int | None = None,
) -> str:
    """A paired difference at ``at`` (where it ends, if not given or not reached) and whether its
    band excludes zero there; from fewer than ``MIN_PAIRS`` paired runs (``pairs``), that they are
    too few to call a difference."""
    row = _point(df, x, at) if at is not None else None
    if row is None:
        row = _point(df, x)
    if row is None:
        return f"{what}: no paired values."
    lo, hi = row["lo"], row["hi"]
    # "At 52 weeks of age", as the tiles say "52-week retention"; "at week 30" for a week.
    where = f"{int(row[x])} weeks of age" if x_word == "age" else f"{x_word} {int(row[x])}"
    if lo == hi == 0.0:  # every pair the same: no band to read, and no "clear" to doubt
        return f"{what} at {where}: {fmt_delta(0.0, unit)}, the same {same_in(pairs)}."
    if pairs is not None and pairs < MIN_PAIRS:
        verdict = f"from {paired_runs(pairs)}, too few to call a difference"
    elif lo > 0 or hi < 0:
        verdict = "the band excludes zero"
    else:
        verdict = "the band includes zero (no clear difference)"
    return (
        f"{what} at {where}: {fmt_delta(row['mean'], unit)} "
        f"({width}% band {delta_range(lo, hi, unit)}); {verdict}."
    )


def count(n: int, noun: str) -> str:
    """``n`` and a regular noun, singular or plural: "1 setting", "3 settings"."""
    return f"{n:,} {noun}{'' if n == 1 else 's'}"


def is_zero_text(text: str) -> bool:
    """True when a formatted delta rounds to zero (its digits are all zeros)."""
    digits = [c for c in text if c.isdigit()]
    return bool(digits) and all(c == "0" for c in digits)


def kpi_table(
    summary: dict, comparison: pd.DataFrame | None = None, base_summary: dict | None = None
) -> pd.DataFrame:
    """Every KPI as formatted text: the mean and 90% range, and against a baseline if given.

    The baseline's column is its own mean (``base_summary``, "n/a" from too few values, as its
    tiles and the Compare page say) when given, else its mean over the pairs."""
    rows = []
    by_kpi = comparison.set_index("kpi") if comparison is not None else None
    for name, k in KPIS.items():
        s = summary[name]
        row = {
            "KPI": k.label,
            # Beside the KPI, as on the Compare page, where a narrow window still shows it.
            "Better when": "higher" if k.higher_is_better else "lower",
            "Mean": kpi_value(name, s),
            "90% of replications": (
                f"{few_values(s)}: too few for a mean"
                if too_few_values(s)
                else f"{kpi_range_short(name, s)}{_of_some(s)}"
                if not is_missing(s["p05"])
                else f"no value: {null_reason(name)}"
            ),
        }
        if by_kpi is not None:
            c = by_kpi.loc[name]
            # Short headings: with a baseline the table has eight columns to fit.
            row["Baseline"] = (
                kpi_value(name, base_summary[name])
                if base_summary is not None
                else fmt_value(c["baseline"], k.unit)
            )
            # The last column's words are its shortest, so the table fits beside a laptop's sidebar.
            if few := too_few_pairs(c):  # as in the tiles: no change and no P(better) from it
                few = few.removesuffix(" to compare")  # "1 pair: too few"
                row.update({"Change": "—", "Change, 90% interval": "—", "P(variant better)": few})
            else:
                row["Change"] = fmt_delta(c["diff_mean"], k.unit)
                row["Change, 90% interval"] = (
                    range_text(delta_end(c["diff_p05"], k.unit), delta_end(c["diff_p95"], k.unit))
                    if not is_missing(c["diff_p05"])
                    else "n/a"
                )
                row["P(variant better)"] = (
                    "n/a"
                    if is_missing(c["p_better"])
                    else p_better_text(c, counts=False)
                    .removeprefix("P(variant better) ")
                    .removeprefix("the ")  # "same in every pair"
                    + _of_pairs(c)
                )
        rows.append(row)
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------------------------------
# Compare page
# --------------------------------------------------------------------------------------------------


def compare_kpi_table(summaries: Mapping[str, Mapping]) -> pd.DataFrame:
    """KPI rows, one column per scenario: mean and 90% range across replications."""
    rows = []
    for name, k in KPIS.items():
        row = {"KPI": k.label, "Better when": "higher" if k.higher_is_better else "lower"}
        for title, summary in summaries.items():
            s = summary[name]
            value = kpi_value(name, s)
            if too_few_values(s):
                value += f" ({few_values(s)})"
            elif not is_missing(s["p05"]):
                value += f" ({kpi_range_short(name, s)}{_of_some(s)})"
            row[title] = value
        rows.append(row)
    return pd.DataFrame(rows)


def _of_some(s: Mapping) -> str:
    """ "; from 1 of 100 replications" when a KPI has a value in only some of them."""
    some = from_count(s.get("n"), s.get("of"))
    return f"; {some}" if some else ""


def kpi_range_short(name: str, s: Mapping) -> str:
    """A KPI's 90% range with its unit said once: "10.2 to 12.1 days"."""
    return value_range(s["p05"], s["p95"], KPIS[name].unit)


def range_text(low: str, high: str) -> str:
    """A range from its two ends as written, the unit said once when they share it; one value when
    the ends read the same ("4.0%", not "4.0% to 4.0%")."""
    if low == high:
        return high
    return f"{unit_once(low, high)} to {high}"


def compare_pair_table(first: str, pairs: Mapping[str, pd.DataFrame | None]) -> pd.DataFrame:
    """KPI rows, one column per other scenario: the paired difference against the first, with its
    90% interval of paired runs and P(better), and "not clear" when that interval holds zero (as
    the Sandbox's grey tiles say)."""
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
            few = too_few_pairs(c)
            if few:
                row[title] = f"n/a ({few})"
                continue
            lo, hi = delta_end(c["diff_p05"], k.unit), delta_end(c["diff_p95"], k.unit)
            mean = fmt_delta(c["diff_mean"], k.unit)
            parts = [mean if lo == hi == mean else f"{mean} ({range_text(lo, hi)})"]
            if better := p_better_text(c, subject=""):
                parts.append(better)
            if is_unclear(c):
                parts.append("not clear")
            row[title] = " · ".join(parts)
        rows.append(row)
    return pd.DataFrame(rows)


def null_notes(summaries: Mapping[str, Mapping]) -> list[str]:
    """Why each missing KPI value is missing, once per scenario and KPI."""
    notes = []
    for title, summary in summaries.items():
        for name, k in KPIS.items():
            if is_missing(summary[name]["mean"]):
                notes.append(f"{k.label} of {title}: {null_reason(name)}")
    return notes
