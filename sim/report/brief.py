"""The decision brief: one self-contained HTML file to send after a meeting.

Baseline against proposal, from paired runs on common random numbers: a plain-language summary, every
KPI with its interval and P(better), charts embedded as SVG (rendered with vl-convert, so the file
needs no script and no network to open), the settings that differ, the model's main assumptions, and
what reproduces the run — seed, replications, horizon, model version, the command line and a link
that restores it in the app. Every piece of text is HTML-escaped; nothing in the file is loaded from
elsewhere.
"""

from __future__ import annotations

import datetime as _dt
import html
from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd
import vl_convert

from sim.narrative import caveat, fmt_change, fmt_level, headline, interval_end, tradeoffs
from sim.outcomes import KPIS, SERIES
from sim.params import Params, diff, flatten, info
from sim.report import charts
from sim.report.explore_charts.common import lever_title
from sim.report.format import (
    CURVE_VS_KPI,
    count,
    few_values,
    fmt_value,
    from_count,
    range_text,
    too_few_pairs,
    too_few_values,
    y_title,
)
from sim.runner import MODEL_VERSION, Results, compare

BASE_COLOR = charts.BASELINE_COLOR
VARIANT_COLOR = charts.VARIANT_COLOR

ASSUMPTIONS = (
    "Teams choose work by a score that weighs their estimate of customer value by their alignment and "
    "a local-metric appeal by the rest; alignment drifts toward what each function is paid on.",
    "Reviews cost the attendees' hours and notice drift with a probability that rises with "
    "instrumentation quality and drift size; a noticed team is pulled back toward the strategy.",
    "Released work builds value stocks that wear out; they set customers' time-to-value, activation, "
    "churn and sign-ups. Churn propensities follow the shifted-beta-geometric model.",
    "Both arms run on the same random numbers, so their differences are the changed settings' effect; "
    "intervals cover 90% of the paired replications.",
    'Settings not listed under "Settings that differ from the model\'s defaults" are at those '
    "defaults; every default, its range and rationale "
    "are in the model documentation (docs/MODEL.md).",
)


@dataclass(frozen=True)
class BriefChart:
    """One chart of the brief: title, SVG and its text alternative."""

    title: str
    svg: str
    text: str


BRIEF_CHART_WIDTH = 720  # the whole chart's
BRIEF_PLOT_HEIGHT = 300  # the plot area's: a printed page has room for taller plots than the app


def _svg(chart) -> str:
    """The chart as SVG, at the brief's size (vl-convert renders it without a browser)."""
    sized = chart.properties(width=BRIEF_CHART_WIDTH, height=BRIEF_PLOT_HEIGHT)
    return vl_convert.vegalite_to_svg(sized.to_dict())


def _pair(base: pd.DataFrame, variant: pd.DataFrame) -> dict[str, pd.DataFrame]:
    return {"Baseline": base, "Proposal": variant}


def brief_charts(base: Results, variant: Results) -> list[BriefChart]:
    """The brief's charts, baseline grey under the proposal, each with a sentence describing it."""
    colors = {"Baseline": BASE_COLOR, "Proposal": VARIANT_COLOR}
    out = []
    rb, rv = base.retention_bands(), variant.retention_bands()
    at52 = lambda df: df.loc[df.age_weeks == min(52, df.age_weeks.max()), "mean"].iloc[0]  # noqa: E731
    out.append(
        BriefChart(
            "Retention by customer age",
            _svg(
                charts.band_chart(
                    _pair(rb, rv),
                    x="age_weeks",
                    x_title="Customer age (weeks)",
                    y_title="Share still active",
                    unit="share",
                    title="Retention by customer age",
                    y_format="%",
                    colors=colors,
                )
            ),
            f"Share of customers still active by weeks since sign-up; at "
            f"{min(52, int(rb.age_weeks.max()))} weeks {fmt_level(at52(rb), 'share')} for the "
            f"baseline and {fmt_level(at52(rv), 'share')} for the proposal."
            + (f" {CURVE_VS_KPI}" if rb.age_weeks.max() >= 52 else ""),
        )
    )
    diff_frame = compare(base, variant).retention_difference()
    # Drawn in percentage points, as the app's difference charts are (ticks "+0.5").
    points = diff_frame.assign(**{c: diff_frame[c] * 100.0 for c in ("mean", "lo", "p50", "hi")})
    out.append(
        BriefChart(
            "Retention difference",
            _svg(
                charts.band_chart(
                    {"Proposal − baseline": points},
                    x="age_weeks",
                    x_title="Customer age (weeks)",
                    y_title="Δ percentage points",
                    unit="percentage points",
                    delta=True,
                    zero_rule=True,
                    title="Retention: proposal minus baseline (paired)",
                    y_format="+.1f",
                    colors={"Proposal − baseline": VARIANT_COLOR},
                )
            ),
            "Paired difference in retention by customer age with its 90% band; above zero the "
            "proposal keeps more customers.",
        )
    )
    # Value delivered to date: the gap builds up week by week (a weekly band, as wide as the weeks
    # vary, hides it), and its last week is the KPI's total.
    vb, vv = base.to_date_bands("value_delivered"), variant.to_date_bands("value_delivered")
    unit = "value points"
    out.append(
        BriefChart(
            "Value delivered to date",
            _svg(
                charts.band_chart(
                    _pair(vb, vv),
                    y_title="Value points",
                    unit=unit,
                    title="Value delivered to date",
                    colors=colors,
                    y_format=",.0f",
                )
            ),
            f"Value delivered to date, by the end of week {len(vb) - 1}: "
            f"{fmt_value(vb['mean'].iloc[-1], unit)} for the baseline and "
            f"{fmt_value(vv['mean'].iloc[-1], unit)} for the proposal, the value delivered over "
            "the horizon in the table above.",
        )
    )
    for metric, title, fmt in (
        ("median_ttv_days", "Median time-to-value of each week's sign-ups", None),
        ("alignment", "Mean alignment of all teams", None),
        ("active_customers", "Active customers", ",.0f"),
    ):
        unit = SERIES[metric][1]
        fb, fv = base.bands([metric]), variant.bands([metric])
        out.append(
            BriefChart(
                title,
                _svg(
                    charts.band_chart(
                        _pair(fb, fv),
                        y_title=y_title(metric),
                        unit=unit,
                        title=title,
                        colors=colors,
                        y_format=fmt,
                    )
                ),
                f"{title}: the baseline averages {fmt_value(fb['mean'].mean(), unit)} and the "
                f"proposal {fmt_value(fv['mean'].mean(), unit)} over the horizon.",
            )
        )
    return out


def _kpi_rows(base: Results, variant: Results) -> list[tuple[str, ...]]:
    table = compare(base, variant).kpis()
    sb, sv = base.kpi_summary(), variant.kpi_summary()
    rows = []
    for r in table.to_dict("records"):
        k = KPIS[r["kpi"]]

        if pd.isna(r["diff_mean"]):
            d, p = "n/a", "n/a"
        elif r["diff_p05"] == r["diff_p95"] == 0.0:
            d, p = "no change", "—"
        elif few := too_few_pairs(r):  # as in the app's tiles: no change, no P(better)
            d, p = few, "—"
        else:
            # As the app writes an interval: the unit once, one value when the ends read the same.
            ends = (interval_end(r["diff_p05"], k.unit), interval_end(r["diff_p95"], k.unit))
            d = f"{fmt_change(r['diff_mean'], k.unit)} ({range_text(*ends)})"
            p = f"{r['p_better']:.0%}"
            if some := from_count(r["pairs"], r["replications"]):
                d += f", {some}"
        rows.append((k.label, _level(sb[r["kpi"]], k.unit), _level(sv[r["kpi"]], k.unit), d, p))
    return rows


def _level(s: dict, unit: str) -> str:
    if s["mean"] is None:
        return "n/a"
    if too_few_values(s):  # as the app's tiles and tables
        return f"n/a ({few_values(s)})"
    ends = range_text(fmt_level(s["p05"], unit), fmt_level(s["p95"], unit))
    text = f"{fmt_level(s['mean'], unit)} ({ends})"
    if some := from_count(s.get("n"), s.get("of")):
        text += f", {some}"
    return text


def _settings_rows(base: Params, variant: Params) -> list[tuple[str, str, str, str, str]]:
    """Per changed setting: its key, its name (which review, which function), what it means, and
    its two values."""
    keys = sorted(set(diff(base)) | set(diff(variant)))
    fb, fv = flatten(base), flatten(variant)
    rows = []
    for key in keys:
        s = info(key)
        name = lever_title(key)
        rows.append((key, name, s.doc, _value(fb[key], s.unit), _value(fv[key], s.unit)))
    return rows


def _value(v, unit: str) -> str:
    if isinstance(v, bool):
        return "on" if v else "off"
    if isinstance(v, float):
        return f"{v:g} {unit}".strip()
    if isinstance(v, int):
        return f"{v} {unit}".strip()
    return str(v).replace("_", " ")


def render(
    base: Results,
    variant: Results,
    *,
    base_title: str,
    variant_title: str,
    link: str | None,
    command: str,
    no_link: str | None = None,
    why: str | None = None,
    why_note: str | None = None,
    created: _dt.date | None = None,
) -> str:
    """The brief as one HTML document (no scripts, no external resources).

    ``why`` is an optional sentence attributing the headline difference to the changed settings
    (:func:`sim.explore.why`), and ``why_note`` where its numbers come from when not from every
    replication (:func:`sim.narrative.why_source`). ``no_link`` says why there is no ``link``,
    when the app cannot restore the run.
    """
    e = html.escape
    table = compare(base, variant).kpis()
    summary = headline(table)  # "The proposal …": its title heads the page
    other_side = tradeoffs(table)
    note = caveat(base.replications, base.weeks, base.seed)
    created = created or _dt.date.today()
    kpi_rows = "".join(
        "<tr>" + "".join(f"<td>{e(c)}</td>" for c in row) + "</tr>"
        for row in _kpi_rows(base, variant)
    )
    settings = _settings_rows(base.params, variant.params)
    settings_rows = (
        "".join(
            f"<tr><td><strong>{e(name)}</strong><br>{e(doc)}<br><small><code>{e(k)}</code>"
            f"</small></td><td>{e(b)}</td><td>{e(v)}</td></tr>"
            for k, name, doc, b, v in settings
        )
        or '<tr><td colspan="3">Both use the model\'s defaults.</td></tr>'
    )
    figures = "".join(
        f'<figure><div class="chart" role="img" aria-label="{e(c.text)}">{c.svg}</div>'
        f"<figcaption>{e(c.text)}</figcaption></figure>"
        for c in brief_charts(base, variant)
    )
    assumptions = "".join(f"<li>{e(a)}</li>" for a in ASSUMPTIONS)
    if link:
        link_html = (
            f'<p>Restore this run in the app: <a href="{e(link, quote=True)}">{e(link)}</a></p>'
        )
    elif no_link:
        link_html = f"<p>No link restores this run in the app: {e(no_link)}. The command line "
        link_html += "below reproduces it.</p>"
    else:
        link_html = ""
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Decision brief: {e(variant_title)} vs {e(base_title)}</title>
<style>
body {{ font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2rem auto;
  max-width: 60rem; padding: 0 1rem; color: #1f2933; line-height: 1.5; }}
h1 {{ font-size: 1.8rem; margin-bottom: .2rem; }} h2 {{ margin-top: 2.2rem; font-size: 1.3rem; }}
.lead {{ font-size: 1.15rem; }} .muted {{ color: #52606d; font-size: .92rem; }}
table {{ border-collapse: collapse; width: 100%; font-size: .92rem; }}
th, td {{ border-bottom: 1px solid #d9e2ec; padding: .4rem .5rem; text-align: left;
  vertical-align: top; }}
th {{ background: #f0f4f8; }} figure {{ margin: 1.5rem 0; }}
figcaption {{ color: #52606d; font-size: .9rem; }} .chart svg {{ max-width: 100%; height: auto; }}
code {{ font-size: .85rem; }}
@media print {{ body {{ margin: 0; }} h2 {{ break-after: avoid; }} figure {{ break-inside: avoid; }} }}
</style></head>
<body>
<h1>Decision brief</h1>
<p class="muted">Proposal: {e(variant_title)} · baseline: {e(base_title)} ·
{e(created.isoformat())} · model {e(MODEL_VERSION)}</p>
<h2>Summary</h2>
<p class="lead">{e(summary)}</p>
{f'<p class="lead">{e(other_side)}</p>' if other_side else ""}
{f'<p class="lead">Why: {e(why)}</p>' if why else ""}
<p class="muted">{e(note)}{" " + e(why_note) if why and why_note else ""}</p>
<h2>Key results</h2>
<table><thead><tr><th>Measure</th><th>Baseline (90% range)</th><th>Proposal (90% range)</th>
<th>Difference (90% interval)</th><th>P(proposal better)</th></tr></thead>
<tbody>{kpi_rows}</tbody></table>
<h2>Charts</h2>
{figures}
<h2>Settings that differ from the model's defaults</h2>
<table><thead><tr><th>Setting</th><th>Baseline</th><th>Proposal</th></tr></thead>
<tbody>{settings_rows}</tbody></table>
<h2>Assumptions</h2>
<ul>{assumptions}</ul>
<h2>Reproduce</h2>
<p>Seed {base.seed} · {count(base.replications, "paired replication")} · {base.weeks} weeks ·
model version {e(MODEL_VERSION)}</p>
<p>Command line: <code>{e(command)}</code></p>
{link_html}
</body></html>
"""


def command_line(
    base_name: str, variant_name: str, seed: int, reps: int, weeks: int, extra: Sequence[str] = ()
) -> str:
    """The CLI command that regenerates a brief."""
    parts = [
        "python -m sim brief",
        base_name,
        variant_name,
        f"--seed {seed}",
        f"--replications {reps}",
        f"--weeks {weeks}",
        *extra,
    ]
    return " ".join(parts)
