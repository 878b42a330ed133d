"""The Explore page's results: each tool's last run, from the cache or run now with a Stop button,
drawn as a chart with its text alternative and numbers, a run caption and a CSV download.

The page (``app/pages/explore.py``) draws each tool's form and calls :func:`results` beside it.
Display options (the KPI shown) redraw from the cached results without simulating again.
"""

import functools
import json

import pandas as pd
import streamlit as st

from app import explore, session, views
from app.explore import RUNNING, TOOL_NAMES
from sim.executors import Cancelled
from sim.narrative import MIN_PAIRS, paired_runs
from sim.outcomes import KPI_NAMES, KPIS
from sim.params import get
from sim.report import explore_charts as ec
from sim.report.format import (
    count,
    delta_range,
    few_cohorts_note,
    fmt_delta,
    fmt_value,
    full_stop,
    is_missing,
    too_few_text,
)
from sim.runner import MODEL_VERSION

ss = st.session_state
PROMPTS = {
    "sweep": "Choose one or two levers and their ranges, then press **Run sweep**.",
    "sensitivity": "Choose levers with numeric ranges, then press **Run sensitivity**.",
    "attribution": "Choose a baseline and a variant, then press **Run attribution**.",
    "optimisation": "Choose levers, a KPI and constraints, then press **Run optimisation**.",
}


def csv_download(tool: str, label: str, table, file_name: str, help_text: str) -> None:
    """A tool's CSV download, built only when clicked."""
    views.csv_button(
        st,
        label,
        functools.partial(explore.csv_text, table),
        file_name,
        f"ex.{tool}.download",
        help_text,
    )


def k(tool: str, name: str) -> str:
    """The session key of one of a tool's inputs or states."""
    return f"ex.{tool}.{name}"


def kpi_name(kpi: str) -> str:
    """A KPI's label."""
    return KPIS[kpi].label if kpi in KPIS else kpi


def fetch(tool: str) -> dict | None:
    """The results of a tool's applied request: from the cache, or run now with a Stop button."""
    note = ss.get(k(tool, "note"))
    if note:
        st.info(note, icon=":material/stop_circle:")
    req = ss.get(k(tool, "applied"))
    if not req:
        if link_note := ss.get(k(tool, "link_note")):
            st.info(link_note, icon=":material/link:")
        elif not note:
            st.info(PROMPTS[tool], icon=":material/science:")
        return None
    if idle := req.get("idle"):
        st.warning(views.plain(idle), icon=":material/block:")
    fresh = req["spec"] != ss.get(k(tool, "done"))
    stop = st.empty()
    if fresh:
        stop.button(
            "Stop",
            key=k(tool, "stop"),
            icon=":material/stop_circle:",
            help="Stop this run: tasks not started are cancelled and the previous results stay.",
        )
        ss[RUNNING] = {
            "tool": tool,
            "spec": req["spec"],
            "done": 0,
            "total": int(req["simulations"]),
        }
    try:
        data = explore.results(req)
    except Cancelled:
        ss.pop(RUNNING, None)
        ss[k(tool, "applied")] = ss.get(k(tool, "good"))
        st.info("The run was cancelled; nothing from it was kept.", icon=":material/stop_circle:")
        return None
    except Exception as err:  # the page never shows a traceback
        ss.pop(RUNNING, None)
        ss[k(tool, "applied")] = ss.get(k(tool, "good"))
        st.error(
            views.plain(
                f"The {TOOL_NAMES[tool].lower()} failed: {full_stop(explore.app_message(err))} Your inputs "
                "are kept; try again or change them."
            ),
            icon=":material/error:",
        )
        return None
    finally:
        stop.empty()
    ss.pop(RUNNING, None)
    ss[k(tool, "done")] = req["spec"]
    ss[k(tool, "good")] = req
    return data


def run_caption(data: dict, what: str) -> None:
    m = data["manifest"]
    st.caption(
        f"{data['simulations']:,} simulations: {what} · seed {m['seed']} · "
        f"{m['horizon_weeks']} weeks · common random numbers · ran {data['executor']} · "
        f"model {MODEL_VERSION}"
    )
    if note := explore.sandbox_note(m, _sandbox_run()):
        st.caption(note)


def _sandbox_run() -> tuple[int, int, int] | None:
    """The Sandbox's horizon, seed and replications in this session, once it has been opened."""
    if session.APPLIED not in st.session_state:
        return None
    setup, seed, reps = session.applied()
    return setup.params.horizon_weeks, seed, reps


def _keep_kpi(tool: str) -> None:
    """Keep the KPI shown past the next visit to another tab or page (a widget's own state does
    not outlive a run it is not drawn in)."""
    ss[k(tool, "kpi_kept")] = ss[k(tool, "kpi")]


def kpi_picker(tool: str, kpis: list[str] | None = None) -> str:
    options = kpis or list(KPI_NAMES)
    if ss.get(k(tool, "kpi")) not in options:
        ss[k(tool, "kpi")] = options[0]
    return st.selectbox(
        "KPI shown",
        options,
        key=k(tool, "kpi"),
        on_change=_keep_kpi,
        args=(tool,),
        format_func=kpi_name,
        help="Every KPI was computed in the run: choosing another one redraws without "
        "simulating again.",
    )


def no_value(kpi: str, data: dict) -> bool:
    """Say why ``kpi`` has no value in these results (True), or what its value rests on when that
    is only part of the picture (False)."""
    reasons = data["reasons"]
    if kpi in reasons:
        st.info(f"{kpi_name(kpi)} has no value here: {reasons[kpi]}.", icon=":material/info:")
        return True
    # The horizon of every scenario, unless it is itself a lever (or a setting the attribution
    # changes): then scenarios differ in it and no single note applies.
    varied = {*data.get("levers", []), *(k for p in data.get("players", []) for k in p["changes"])}
    weeks = int(data["manifest"]["horizon_weeks"])
    if "horizon_weeks" not in varied and (note := few_cohorts_note(kpi, weeks)):
        st.caption(note)
    return False


def chart_with_numbers(
    name: str, chart, caption: str, table, numbers: str = "Numbers behind the chart"
) -> None:
    """A chart, its text alternative under it, and its numbers in a closed expander."""
    st.altair_chart(chart, key=f"ex.{name}.chart", width="stretch")
    st.caption(caption)
    with st.expander(numbers, expanded=False):
        st.dataframe(table, hide_index=True, key=f"ex.{name}.table")


def _kpi_rows(table: pd.DataFrame, kpi: str) -> pd.DataFrame:
    """One KPI's rows of a tidy results table, without the ``kpi`` column."""
    return table[table["kpi"] == kpi].drop(columns="kpi").reset_index(drop=True)


def sweep_results(data: dict) -> None:
    levers = data["levers"]
    kpi = kpi_picker("sweep")
    table = data["table"]
    if not no_value(kpi, data):
        frame = _kpi_rows(table, kpi)
        text = ec.describe_sweep(frame, levers, kpi, data.get("extremes", {}).get(kpi))
        chart_with_numbers(
            "sweep",
            ec.sweep_chart(frame, levers, kpi, description=text),
            text,
            ec.sweep_table(frame, levers, kpi),
        )
    m = data["manifest"]
    points = m["points"]
    run_caption(
        data,
        f"{points} grid points × {count(m['replications'], 'replication')} · 95% confidence intervals "
        "of the mean",
    )
    csv_download(
        "sweep",
        "Results, every KPI (CSV)",
        table,
        "sweep_results.csv",
        "Tidy: one row per grid point and KPI — the levers' values, kpi, n, mean, sd, se, "
        "ci_lo, ci_hi.",
    )


def sensitivity_results(data: dict) -> None:
    kpi = kpi_picker("sensitivity")
    method = data["method"]
    table = data["table"]
    if not no_value(kpi, data):
        ranked = _kpi_rows(table, kpi)
        text = ec.describe_sensitivity(ranked, method, kpi)
        if method == "sobol":
            if caution := ec.sobol_caution(ranked):
                st.warning(caution, icon=":material/warning:")
            st.caption(
                "Bars: the total index ST (the share of the variance a lever is involved in) with "
                "its 95% interval; ticks: the first-order index S1 (the lever alone)."
            )
        chart_with_numbers(
            "sensitivity",
            ec.sensitivity_chart(ranked, method, kpi, description=text),
            text,
            ec.sensitivity_table(ranked, method, kpi),
        )
    m = data["manifest"]
    name = "Morris screening" if method == "morris" else "Sobol indices"
    run_caption(
        data,
        f"{name}, {m['evaluations']} design points × {count(m['replications'], 'replication')} · 95% "
        "bootstrap intervals (SALib)",
    )
    csv_download(
        "sensitivity",
        "Indices, every KPI (CSV)",
        table,
        f"sensitivity_{method}.csv",
        "One row per KPI and lever: rank, importance, its interval and the method's indices.",
    )


def attribution_results(data: dict, spec: dict) -> None:
    kpi = kpi_picker("attribution")
    table = data["table"]
    st.markdown(
        f"**{views.plain(spec['title'])}** (baseline) → **{views.plain(spec['variant_title'])}** "
        f"(variant), {count(len(data['players']), 'changed lever')}."
    )
    if not no_value(kpi, data):
        sentence = data["explanations"][kpi]
        unit = KPIS[kpi].unit
        total = table[(table["kpi"] == kpi) & (table["lever"] == "total")].iloc[0]
        reps = data["manifest"]["replications"]
        # Every pair the same (a KPI the changes do not reach): nothing to call, however few pairs.
        same = reps > 1 and total["contribution"] == 0.0 and total["ci_lo"] == total["ci_hi"]
        if reps < MIN_PAIRS and not same:  # as the Sandbox says it: what may be no difference
            sentence += (
                f" From {paired_runs(reps)}, too few to call a difference: run at least "
                f"{MIN_PAIRS} replications before reading much into the split."
            )
        elif total["ci_lo"] <= 0.0 <= total["ci_hi"] and total["ci_lo"] < total["ci_hi"]:
            sentence += ATTRIBUTION_UNCLEAR  # the difference it splits may be no difference
        ci = (
            f"95% CI {delta_range(total['ci_lo'], total['ci_hi'], unit)}"
            if pd.notna(total["ci_lo"]) and pd.notna(total["ci_hi"])
            else f"no interval from {paired_runs(reps)}"
        )
        st.info(sentence, icon=":material/lightbulb:")
        chart_with_numbers(
            "attribution",
            ec.waterfall_chart(data["waterfalls"][kpi], kpi, description=sentence),
            f"Baseline {fmt_value(total['baseline'], unit)} → variant "
            f"{fmt_value(total['variant'], unit)}: paired difference "
            f"{fmt_delta(total['contribution'], unit)} ({ci}). Before rounding, the "
            "contributions add up to the difference exactly.",
            ec.attribution_table(table, kpi),
        )
    with st.expander("What changed", expanded=False):
        rows = [
            {
                "Lever": player["label"],
                "Setting": key,
                "Baseline": ec.value_text(change["baseline"]),
                "Variant": ec.value_text(change["variant"]),
            }
            for player in data["players"]
            for key, change in player["changes"].items()
        ]
        st.dataframe(rows, hide_index=True, key="ex.attribution.changes")
    m = data["manifest"]
    run_caption(
        data,
        f"{m['scenarios_run']} scenarios (every subset of the changes) × "
        f"{count(m['replications'], 'paired replication')} · Shapley values with 95% confidence "
        "intervals",
    )
    csv_download(
        "attribution",
        "Contributions, every KPI (CSV)",
        table,
        "attribution.csv",
        "One row per KPI and lever, then the total: contribution, se, ci_lo, ci_hi, share.",
    )


# After an attribution's sentence when the difference it splits has a 95% interval spanning zero.
ATTRIBUTION_UNCLEAR = (
    " The difference itself is not clear (its 95% interval includes zero): this splits an "
    "average over paired runs, and more replications may change it."
)


def _p_text(p: float | None) -> str:
    return "n/a" if p is None or is_missing(p) else f"P(better) {p:.0%}"


def _odds(diff: dict) -> str:
    """P(better) of a paired difference, or that its pairs are too few to give one (as the
    Sandbox's tiles and the CLI's compare say it)."""
    return too_few_text(diff.get("n")) or _p_text(diff["p_better"])


def paired_tile(column, label: str, diff: dict | None, unit: str, other: str) -> None:
    """A tile with the winner's paired difference from ``other`` and P(better)."""
    if diff is None:
        column.metric(label, "n/a", help="Only one finalist.", border=True)
        return
    column.metric(
        label,
        fmt_delta(diff["mean"], unit),
        delta=_odds(diff),
        delta_color="off",
        delta_arrow="off",
        help=f"Paired difference winner − {other} over the same replications, and the share of "
        f"them in which the winner did better (none is given from fewer than {MIN_PAIRS}). 95% CI "
        f"{delta_range(diff['ci_lo'], diff['ci_hi'], unit)}.",
        border=True,
    )


def optimisation_results(data: dict, spec: dict) -> None:
    result = data["result"]
    kpi, levers = data["kpi"], data["levers"]
    unit = KPIS[kpi].unit
    direction = "maximised" if data["maximise"] else "minimised"
    constraints = ", ".join(
        ec.constraint_text(c["kpi"], c["op"], c["bound"]) for c in result["constraints"]
    )
    st.markdown(
        f"**{kpi_name(kpi)}**, {direction} · constraints: {views.plain(constraints or 'none')}"
    )
    winner = result["winner"]
    if winner is None:
        st.warning(
            "No finalist meets the constraints: loosen them or widen the levers' ranges. The "
            "candidates closest to meeting them are ranked first.",
            icon=":material/warning:",
        )
    else:
        objective, vs_base = winner["objective"], winner["vs_baseline"]
        runner_up = winner.get("vs_runner_up")
        interval = f"{fmt_value(objective['ci_lo'], unit)} to {fmt_value(objective['ci_hi'], unit)}"
        c1, c2, c3 = st.columns(3)
        c1.metric(
            "Best mean",
            fmt_value(objective["mean"], unit),
            help=f"95% CI {interval} over {count(objective['n'], 'replication')}.",
            border=True,
        )
        paired_tile(c2, "Against the starting point", vs_base, unit, "starting point")
        paired_tile(c3, "Against the runner-up", runner_up, unit, "runner-up")
        against = [
            f"{fmt_delta(vs_base['mean'], unit)} against the starting point ({_odds(vs_base)})"
        ]
        if runner_up:
            against.append(
                f"{fmt_delta(runner_up['mean'], unit)} against the runner-up ({_odds(runner_up)})"
            )
        st.caption(
            f"Best mean {fmt_value(objective['mean'], unit)} (95% CI {interval}); "
            + "; ".join(against)
            + "."
        )
        start = explore.params_of(spec["base"])
        st.dataframe(
            ec.winner_table(winner, {key: get(start, key) for key in levers}, levers),
            hide_index=True,
            key="ex.optimisation.winner",
        )
    table = data["table"]
    baseline = result["baseline"]["objective"]["mean"]
    text = ec.describe_candidates(table, kpi, levers)
    chart_with_numbers(
        "optimisation",
        ec.candidates_chart(table, kpi, levers, baseline=baseline, description=text),
        text,
        ec.candidates_table(table, kpi, levers, [c["kpi"] for c in result["constraints"]]),
        numbers="Every candidate, best first",
    )
    rounds = " → ".join(f"{r['candidates']} × {r['replications']}" for r in result["rounds"])
    run_caption(
        data,
        f"successive halving over {len(table)} candidates (candidates × replications per round: "
        f"{rounds}, plus the starting point) · 95% confidence intervals",
    )
    csv_download(
        "optimisation",
        "Candidates (CSV)",
        table,
        "optimisation_candidates.csv",
        "One row per candidate, best first: settings, round reached, replications, mean, "
        "se, ci_lo, ci_hi, feasible and every constrained KPI's mean.",
    )


def results(tool: str) -> None:
    data = fetch(tool)
    if data is None:
        return
    spec = json.loads(ss[k(tool, "applied")]["spec"])
    try:
        if tool == "sweep":
            sweep_results(data)
        elif tool == "sensitivity":
            sensitivity_results(data)
        elif tool == "attribution":
            attribution_results(data, spec)
        else:
            optimisation_results(data, spec)
    except Exception as err:  # the page never shows a traceback
        st.error(
            views.plain(f"The results cannot be shown: {full_stop(err)}"), icon=":material/error:"
        )
