"""Page sections drawn with Streamlit: KPI tiles, the figures with their text alternatives, tables.

Each function draws one part of a page from plain data (views and figure specs fetched from the
cache), so the page scripts stay a list of calls.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from typing import Any
from urllib.parse import urlencode, urlsplit

import pandas as pd
import streamlit as st
from pandas.io.formats.style import Styler

from app.compute import EVENT_GROUPS, ExportRun, bands_csv, kpis_csv, timeline_table
from sim.narrative import MIN_PAIRS, is_unclear
from sim.outcomes import KPIS
from sim.report.format import (
    TILE_KPIS,
    count,
    delta_end,
    fmt_delta,
    fmt_value,
    is_missing,
    is_zero_text,
    kpi_range,
    kpi_value,
    null_reason,
    p_better_text,
    partial_note,
    series_label,
    series_unit,
    too_few_pairs,
    unit_once,
)

# Characters Markdown (and Streamlit's extensions of it) may read as markup, or as the start of a
# link ("http://", "www.").
_MARKDOWN_SPECIAL = frozenset("\\`*_{}[]()<>#+-.!|~$:^=&/@")


# Where Streamlit would still rewrite text after reading the references: a bare address becomes a
# link ("http:", "www", "@"), ":streamlit:" its logo, and " -> ", " <= ", " -- " ... arrows and
# symbols. An invisible word joiner after each such character breaks every one of these.
_BREAK_AFTER = re.compile(r"(?i)(https?:|ftp:|mailto:|www|@|:(?=streamlit:)|[-<>~=](?=[-<>=]))")
# A line that starts like a list item keeps its own line in :func:`plain_text`.
_LIST_ITEM = re.compile(r"([-*+\u2022]|\d{1,9}[.)])\s")


# While a page reruns, Streamlit fades the outputs it is replacing (opacity and borders, over a second,
# after half a second) and slides the progress bar. With no GPU every frame of those fades is drawn
# in software, on the cores the simulation runs on: a run of the Sandbox spent 0.2–0.3 s of the
# browser's CPU on them. Here the outputs still dim after the same half second, in one step, and
# the bar steps too. Fixed text, styles only.
TILE_ROW = "kpi_tiles"  # the key of each row of KPI tiles (a suffix numbers the rows)
STEADY_CSS = f"""<style>
[data-testid="stElementContainer"], [data-testid="stTabs"] [role="tablist"], [data-testid="stTab"],
[data-testid="stExpander"] details, [data-testid="stExpander"] summary,
[data-testid="stProgressBarTrack"] > div {{ transition-duration: 0s !important; }}
[class*="st-key-{TILE_ROW}"] > [data-testid="stElementContainer"] {{
  flex: 1 1 0; min-width: max-content; }}
</style>"""


def steady_outputs() -> None:
    """The app's style sheet, on every page (see ``STEADY_CSS``): outputs being replaced dim
    without a fade, and the KPI tiles of a row share it equally (a tile never narrower than its
    text: a row too narrow for its tiles wraps)."""
    st.html(STEADY_CSS)


def plain(text: str) -> str:
    """``text`` as Markdown that shows as written: every character that could start markup is a
    numeric character reference and the patterns Streamlit rewrites (addresses, ``:streamlit:``,
    arrows) are broken by an invisible word joiner, so nothing in it becomes a link, an image,
    emphasis, a symbol or a directive."""
    text = _BREAK_AFTER.sub("\\1\u2060", text)
    return "".join(f"&#{ord(c)};" if c in _MARKDOWN_SPECIAL else c for c in text)


def plain_text(text: str) -> str:
    """Text of several lines, as a scenario file's description or notes, as Markdown that shows as
    text (see :func:`plain`).

    Lines are read as the presets' Markdown reads them: a blank line parts paragraphs, and the lines
    of a paragraph run on with a space between them, except that a line starting like a list item
    ("- ", "* ", "1. ", "2) ") starts a new line. Blanks around lines are dropped (Markdown would
    read an indented line as code).
    """
    paragraphs = []
    for par in re.split(r"\n(?:[ \t]*\n)+", text.strip()):
        lines: list[str] = []
        for line in (line.strip() for line in par.splitlines()):
            if line and lines and not _LIST_ITEM.match(line):
                lines[-1] += " " + line
            elif line:
                lines.append(line)
        paragraphs.append("  \n".join(plain(line) for line in lines))
    return "\n\n".join(paragraphs)


MAX_LINK_WARNINGS = 5  # then one line says how many more there are


def link_warnings(warnings: list[str]) -> None:
    """Warnings about a link's parameters; they quote the link, so they are shown as plain text.

    A link with many bad parameters gets the first few and a count of the rest, not a wall of boxes.
    """
    for warning in warnings[:MAX_LINK_WARNINGS]:
        st.warning(plain(warning), icon=":material/link_off:")
    more = len(warnings) - MAX_LINK_WARNINGS
    if more > 0:
        problem = "problem" if more == 1 else "problems"
        st.warning(
            f"The link has {more:,} more {problem}; each of those parameters is ignored or falls "
            "back to its default.",
            icon=":material/link_off:",
        )


def file_name(stem: str, title: str, suffix: str) -> str:
    """A download's name after what it holds: "decision-brief-drifting-incentives.html" (ASCII
    letters and digits only, so any system saves it as named); ``stem`` alone for an empty
    ``title``, ``title`` alone for an empty ``stem``."""
    plain = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode().lower()
    slug = re.sub(r"[^a-z0-9]+", "-", plain).strip("-")[:60].rstrip("-")
    name = "-".join(part for part in (stem, slug) if part) or "scenario"
    return f"{name}.{suffix}"


def tile_delta(name: str, row: Mapping, text: str) -> dict[str, str]:
    """A tile's change as ``st.metric`` arguments: its text as written (with a minus sign, or
    "±0.0 points" for one that rounds to nothing), an arrow that follows the change, and green when
    better, red when worse, grey when not clear (the headline then says the KPI is about where
    it was) or nothing. Streamlit would read the direction from an ASCII hyphen, and show a
    change of nothing as a bare "0"."""
    if is_zero_text(text):
        return {"delta": text, "delta_arrow": "off", "delta_color": "gray"}
    up = bool(row["diff_mean"] > 0)
    if is_unclear(row):
        color = "gray"
    else:
        color = "green" if up == KPIS[name].higher_is_better else "red"
    return {"delta": text, "delta_arrow": "up" if up else "down", "delta_color": color}


def change_help(name: str, row: Mapping | None) -> str:
    """The tile's paired change in its help: its 90% interval, and why it is grey if it is."""
    if row is None or is_missing(row["diff_mean"]):
        return ""
    if few := too_few_pairs(row):
        return f" No change against the baseline is shown ({few})."
    unit = KPIS[name].unit
    lo, hi = delta_end(row["diff_p05"], unit), delta_end(row["diff_p95"], unit)
    text = (
        f" Change against the baseline: {lo} in 90% of paired runs"
        if lo == hi
        else f" Change against the baseline: 90% of paired runs between {unit_once(lo, hi)} and {hi}"
    )
    if is_unclear(row):
        return text + ", so it is grey: in some paired runs it goes the other way."
    return text + "."


def kpi_tiles(summary: Mapping, comparison: pd.DataFrame | None = None) -> None:
    """The headline KPIs as tiles, with deltas and P(variant better) against a pinned baseline.

    Tiles sit three to a row and wrap onto more rows when the page is too narrow for three (a
    narrow window, a sidebar open), so no number is cut short. What a tile cannot say in its
    value (no value, or a value from only some replications) follows the tiles as notes.
    """
    by_kpi = comparison.set_index("kpi") if comparison is not None else None
    per_row = 3
    notes = []
    small_run = None  # a change not shown, as the run has too few replications
    for start in range(0, len(TILE_KPIS), per_row):
        row_of_tiles = st.container(horizontal=True, key=f"{TILE_ROW}{start // per_row}")
        for name in TILE_KPIS[start : start + per_row]:
            k = KPIS[name]
            s = summary[name]
            if is_missing(s["mean"]):
                reason = null_reason(name)
                row_of_tiles.metric(
                    k.label,
                    "n/a",
                    help=f"{k.description} No value: {reason}.",
                    border=True,
                    height="stretch",
                )
                notes.append(f"{k.label}: no value, as {reason}.")
                continue
            change: dict[str, str] = {}
            description = None
            row = few = None
            if by_kpi is not None and not is_missing(by_kpi.loc[name, "diff_mean"]):
                row = by_kpi.loc[name]
                few = too_few_pairs(row)
                if not few:  # too few pairs: no arrow, and the note under the tiles says why
                    change = tile_delta(name, row, fmt_delta(row["diff_mean"], k.unit))
                    description = p_better_text(row, counts=False, short=True)
                    if description and is_unclear(row):  # grey, and said in words too
                        description += " · not clear"
            row_of_tiles.metric(
                k.label,
                kpi_value(name, s),
                **change,
                delta_description=description,
                help=f"{k.description} {kpi_range(name, s)}.{change_help(name, row)}",
                border=True,
                height="stretch",  # as tall as the row's tallest: a tile without a change is not shorter
            )
            if note := partial_note(name, s, row):
                if few:
                    note = f"No change is shown ({few}). {note}"
                notes.append(f"{k.label}: {note[0].lower()}{note[1:]}")
            elif few:
                small_run = few
    if small_run:  # every KPI's change rests on every replication, and they are few
        notes.append(
            f"No change against the baseline is shown ({small_run}); run at least "
            f"{count(MIN_PAIRS, 'replication')} to see one."
        )
    for note in notes:
        st.caption(note)


def show_figures(figures: list[dict], sections: bool = True) -> None:
    """Lay out figure specs two to a row (wide ones alone), each with its text alternative."""
    pending: list[dict] = []

    def flush() -> None:
        for i in range(0, len(pending), 2):
            cols = st.columns(2)
            for col, fig in zip(cols, pending[i : i + 2], strict=False):
                with col:
                    _show(fig)
        pending.clear()

    section = None
    for fig in figures:
        if sections and fig["section"] != section:
            flush()
            section = fig["section"]
            st.subheader(section)
        if fig["wide"]:
            flush()
            _show(fig)
        else:
            pending.append(fig)
    flush()


def _show(fig: dict) -> None:
    st.vega_lite_chart(fig["spec"], key=fig["key"], width="stretch")
    # The text alternative names scenarios, whose titles may come from a link: shown as written.
    st.caption(plain(fig["text"]))


CHARTED_METRICS = (
    "median_ttv_days",
    "active_customers",
    "revenue",
    "value_delivered",
    "alignment",
    "meeting_overhead_share",
    "lead_time_days",
)


_BAND_HEADINGS = {"mean": "Mean", "lo": "Band low", "p50": "Median", "hi": "Band high"}


def _band_columns(number_format: str | None = None) -> dict:
    """Headings of a band table's columns: its numbers in ``number_format`` (None: as a Styler
    formats them), and the run."""
    numbers = {
        name: st.column_config.NumberColumn(label, format=number_format)
        for name, label in _BAND_HEADINGS.items()
    }
    return {**numbers, "run": st.column_config.TextColumn("Run")}


# How a unit's numbers are shown in a table: (factor, decimals, the unit's name there).
_TABLE_UNITS = {
    "share": (100.0, 1, "%"),
    "share per week": (100.0, 1, "% per week"),
    "days": (1.0, 1, "days"),
    "alignment": (1.0, 3, "alignment (0 to 1)"),
    "ratio": (1.0, 2, "ratio"),
}


def _in_units(weekly: pd.DataFrame) -> Styler:
    """A tidy weekly-bands table with each metric's numbers as its chart gives them (shares in
    percent, days to a tenth) and its unit in a column of its own. The numbers stay numbers (they
    sort as numbers); each metric's are shown to the same decimals, "0.850" beside "0.848"."""
    out = weekly.copy()
    out["metric"] = weekly["metric"].map(series_label)
    units = weekly["metric"].map(series_unit)
    out.insert(2, "unit", units)
    columns = list(_BAND_HEADINGS)
    places: dict[int, pd.Index] = {}
    for unit in units.unique():
        rows = units == unit
        factor, decimals, name = _TABLE_UNITS.get(unit, (1.0, 2, unit))
        values = out.loc[rows, columns] * factor
        if values.abs().max().max() >= 100:
            decimals = 0
        out.loc[rows, columns] = values.round(decimals)
        out.loc[rows, "unit"] = name
        places[decimals] = places.get(decimals, pd.Index([])).append(out.index[rows])
    styler = out.style
    for decimals, index in places.items():
        styler = styler.format(f"{{:,.{decimals}f}}", subset=(index, columns), na_rep="")
    return styler


def chart_tables(view: Mapping, base: Mapping | None, metric: str) -> None:
    """The numbers behind the charts, as tables (``metric`` is the metric shown)."""
    metrics = [*CHARTED_METRICS, metric]
    parts = [("variant", view)] + ([("baseline", base)] if base is not None else [])
    retention = pd.concat([v["retention"].assign(run=role) for role, v in parts], ignore_index=True)
    retention[list(_BAND_HEADINGS)] *= 100.0  # shown as percentages, to one decimal
    weekly = pd.concat(
        [v["bands"][v["bands"]["metric"].isin(metrics)].assign(run=role) for role, v in parts],
        ignore_index=True,
    )
    # A week's variant and baseline rows side by side, rather than 1,500 rows apart.
    order = {m: i for i, m in enumerate(dict.fromkeys(metrics))}
    weekly = weekly.sort_values(
        ["metric", "week"],
        key=lambda col: col.map(order) if col.name == "metric" else col,
        kind="stable",
        ignore_index=True,
    )
    st.markdown("**Retention by customer age** (share still active, across replications)")
    st.dataframe(
        retention,
        key="table_retention",
        hide_index=True,
        height=220,
        column_config={
            "age_weeks": st.column_config.NumberColumn("Customer age (weeks)", format="%d"),
            **_band_columns("%.1f%%"),
        },
    )
    st.markdown("**Weekly metrics** (every charted metric, by week, in the units of its chart)")
    st.dataframe(
        _in_units(weekly),
        key="table_weekly",
        hide_index=True,
        height=260,
        column_config={
            "metric": st.column_config.TextColumn("Metric"),
            "week": st.column_config.NumberColumn("Week", format="%d"),
            "unit": st.column_config.TextColumn("Unit"),
            **_band_columns(),
        },
    )


TIMELINE_KEY = "sb.timeline_kinds"


def timeline(view: Mapping) -> None:
    """The event timeline of the run's representative replication, filterable by kind."""
    typical = view.get("representative", {})
    replication = int(typical.get("replication", 0))
    kpi = typical.get("kpi")
    if kpi is not None:
        unit = KPIS[kpi].unit
        st.markdown(
            f"**Replication {replication + 1}**, a typical one: its {KPIS[kpi].label.lower()} "
            f"({fmt_value(typical['value'], unit)}) is the closest to the median across "
            f"replications ({fmt_value(typical['median'], unit)}), so its events tell the story "
            "of an ordinary run rather than a lucky or unlucky one. The alignment chart marks the "
            "same replication's reviews, escalations and shocks."
        )
    if TIMELINE_KEY not in st.session_state:
        st.session_state[TIMELINE_KEY] = list(EVENT_GROUPS)
    kinds = st.pills(
        "Show",
        list(EVENT_GROUPS),
        selection_mode="multi",
        key=TIMELINE_KEY,
        help="Which kinds of event the table lists (display only: no new run).",
    )
    table = timeline_table(view["events"])
    shown = table[table["kind"].isin(kinds or [])]
    counts = table["kind"].value_counts()
    st.caption(
        f"{len(shown)} of {len(table)} events: "
        + ", ".join(f"{counts.get(g, 0)} {g.lower()}" for g in EVENT_GROUPS)
        + ". Reviews say what they detected; corrections say how long the drift ran."
    )
    st.dataframe(
        shown.drop(columns="kind"),
        hide_index=True,
        key="table_timeline",
        height=420,
        column_config={
            "week": st.column_config.NumberColumn("Week", format="%d", width="small"),
            "what": st.column_config.TextColumn("What", width="medium"),
            "team": st.column_config.TextColumn("Team", width="small"),
            "detail": st.column_config.TextColumn("Detail", width="large"),
        },
    )


def csv_button(
    container, label: str, build: Callable[[], str], file_name: str, key: str, help_text: str
) -> None:
    """A CSV download whose content is built only when the button is clicked."""
    container.download_button(
        label,
        build,
        file_name=file_name,
        mime="text/csv",
        key=key,
        on_click="ignore",
        icon=":material/download:",
        help=help_text,
    )


def run_exports(
    container_bands,
    container_kpis,
    exports: Callable[[], Sequence[ExportRun]],
    band: int,
    *,
    key: str,
    stem: str,
    who: str,
) -> None:
    """The two exports of a page's runs: weekly bands and KPIs per replication (CSV), built from
    the runs ``exports`` gives when a button is clicked."""
    csv_button(
        container_bands,
        "Weekly bands (CSV)",
        lambda: bands_csv(exports(), band),
        f"{stem}weekly_bands.csv",
        f"{key}.download_bands",
        f"Mean, band and median of every weekly metric (and retention by age) per {who}.",
    )
    csv_button(
        container_kpis,
        "KPIs per replication (CSV)",
        lambda: kpis_csv(exports()),
        f"{stem}kpis_per_replication.csv",
        f"{key}.download_kpis",
        f"Every KPI of every replication, per {who}.",
    )


# --------------------------------------------------------------------------------------------------
# Links to share
# --------------------------------------------------------------------------------------------------

LOOPBACK_NOTE = (
    "This address names this computer (localhost), so it opens only here. To hand it out, start "
    "the app where others can reach it (with the option `--server.address 0.0.0.0`) "
    "and use this computer's network name or address in place of localhost."
)


def loopback_note(url: str) -> str | None:
    """A warning for a link that only opens on the computer that made it, else None."""
    try:
        host = urlsplit(url).hostname or ""
    except ValueError:
        return None
    loopback = host in ("localhost", "::1", "0.0.0.0") or host.startswith("127.")
    if loopback or host.endswith(".localhost"):
        return LOOPBACK_NOTE
    return None


SHARE_LABEL = "Link to share"


def share_link(url: str, query: Mapping[str, str], intro: str, container=None) -> None:
    """A link to copy and hand out (``url`` with ``query``), said to open only here when it does.

    It opens from a button (in ``container``, else where the page is): the browser draws a
    popover's content only when it opens, and the code block with its copy button costs a page's
    first load about 0.4 s of script in the browser (its syntax highlighter).
    """
    with (container or st).popover(SHARE_LABEL, icon=":material/link:"):
        st.caption(intro)
        # Wrapped, so a long link is read whole rather than scrolled.
        st.code(link_text(url, query), language=None, wrap_lines=True)
        if note := loopback_note(url):
            st.caption(note)


def link_text(url: str, query: Mapping[str, str]) -> str:
    """``url`` with ``query``: http://host:8501/?… rather than http://host:8501?…"""
    try:
        parts = urlsplit(url)
    except ValueError:
        parts = None
    if parts is not None and parts.netloc and not parts.path:
        url += "/"
    return url + ("?" + urlencode(query) if query else "")


def whole_number_problem(label: str, value: Any, lo: int, hi: int) -> str | None:
    """Why ``value`` typed in the number box ``label`` cannot be used (None when it can): a whole
    number from ``lo`` to ``hi`` is allowed."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return f"{label} = {value!r} is not allowed: a whole number from {lo:,} to {hi:,}."
    if not lo <= value <= hi or value != int(value):  # the range first: int(inf) raises
        # As typed: 99,999,999,999,999 rather than 1e+14 (a float of the box shows as g).
        typed = f"{int(value):,}" if abs(value) < 1e15 and value == int(value) else f"{value:,g}"
        return f"{label} = {typed} is out of range: a whole number from {lo:,} to {hi:,}."
    return None
