"""Presentation mode and the decision brief: baseline against proposal, for a meeting.

Presentation mode is the Sandbox without its controls: large type, the three numbers that matter
(52-week retention, median time-to-value, value delivered) with their intervals, a plain-language
paragraph on the paired comparison (:func:`sim.narrative.headline`) and a "why" sentence that
attributes the difference to the changed settings (:func:`app.compute.why`), two charts, and the
decision brief to send afterwards. The brief is built only when its button is clicked.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping

import pandas as pd
import streamlit as st

from app import compute, controls, figures, session, views
from app.state import Setup, preset_setup, title_query
from sim.narrative import (
    HEADLINE_KPIS,
    caveat,
    fmt_change,
    fmt_level,
    headline,
    interval_end,
    tradeoffs,
    unit_once,
    why_line,
)
from sim.outcomes import KPIS
from sim.params import diff
from sim.report.brief import command_line
from sim.report.format import (
    count,
    full_stop,
    is_missing,
    null_reason,
    p_better_text,
    too_few_pairs,
)
from sim.report.links import app_link, base_params, default_preset, format_value, run_query
from sim.scenarios import ScenarioError

ALIGNED = "aligned-baseline"
BRIEF_HELP = (
    "One HTML file that opens offline: the summary, every KPI with its interval, the charts, the "
    "settings that differ, the assumptions, seed and model version, and a link that restores "
    "this run. Built when you click: a second or two once presentation mode has shown why the "
    "numbers moved; otherwise it first works that out, which takes longer the more settings "
    "changed (with three, at 100 replications, 15 to 30 seconds on two cores)."
)
BRIEF_WAITING_HELP = "Ready once the page has worked out why the numbers moved. " + BRIEF_HELP


def base_title(base: Setup) -> str:
    return base.title.removeprefix("Baseline: ")


# --------------------------------------------------------------------------------------------------
# Decision brief
# --------------------------------------------------------------------------------------------------


def brief_command(variant: Setup, base: Setup, seed: int, replications: int, weeks: int) -> str:
    """The command line that regenerates the brief (``python -m sim brief A B ...``).

    The proposal is its preset plus ``--set`` for every other difference; a baseline that is not
    exactly a preset is named ``baseline.toml`` (its settings file; the brief's link restores it
    exactly).
    """
    var_name = variant.preset or default_preset()
    changes = diff(variant.params, base_params(var_name))
    extra = [
        f"--set {key}={format_value(value)}"
        for key, value in sorted(changes.items())
        if key != "horizon_weeks"
    ]
    base_name = base.preset
    if base_name is not None:
        left = {k for k in diff(base.params, base_params(base_name)) if k != "horizon_weeks"}
        base_name = base_name if not left else None
    return command_line(base_name or "baseline.toml", var_name, seed, replications, weeks, extra)


def brief_link(app_url: str, variant: Setup, base: Setup, seed: int, replications: int) -> str:
    """The full link that restores the run (and its baseline) in the Sandbox."""
    query = run_query(
        variant.preset, variant.params, seed, replications, (base.preset, base.params)
    )
    return app_link(app_url, {**query, **title_query(variant)})


def brief_file_name(title: str) -> str:
    """The brief's file name, after the proposal: "decision-brief-drifting-incentives.html"."""
    return views.file_name("decision-brief", title, "html")


def brief_button(
    container,
    *,
    variant: Setup,
    base: Setup,
    settings: str,
    base_settings: str,
    seed: int,
    replications: int,
    key: str,
    waiting: bool = False,
) -> None:
    """The "Download decision brief" button; the brief is rendered only when it is clicked.

    ``waiting``: the run is about to be redrawn (presentation mode's why, on its way), so the button
    waits, disabled, for the redraw. A deferred download is registered anew on every run and the
    last run's is dropped when it ends: a click on this run's button while the redraw is under way
    would ask for a file that no longer exists, and nothing would download.
    """
    weeks = variant.params.horizon_weeks
    build = functools.partial(
        compute.brief_html,
        base_settings,
        settings,
        seed,
        replications,
        base_title=base_title(base),
        variant_title=variant.title,
        link=brief_link(st.context.url or "", variant, base, seed, replications)
        if st.context.url
        else None,
        command=brief_command(variant, base, seed, replications, weeks),
    )
    container.download_button(
        "Download decision brief",
        build,
        file_name=brief_file_name(variant.title),
        mime="text/html",
        key=key,
        on_click="ignore",
        icon=":material/description:",
        help=BRIEF_WAITING_HELP if waiting else BRIEF_HELP,
        disabled=waiting,
    )


def changed_from_preset(setup: Setup) -> str | None:
    """ "Changed from <preset>: …" for settings that started from a preset and no longer match it
    (under its title, "modified", the preset's description and notes; under a title of their own,
    none), else None."""
    if setup.preset is None or setup.own_texts():
        return None
    try:
        start = preset_setup(setup.preset)
    except ScenarioError:
        return None
    changes = controls.changes_text(start.params, setup.params)
    return f"Changed from {start.title}: {changes}." if changes else None


# --------------------------------------------------------------------------------------------------
# Presentation mode
# --------------------------------------------------------------------------------------------------


def _interval_line(name: str, row: Mapping | None, base_summary: Mapping) -> str:
    unit = KPIS[name].unit
    base_mean = base_summary[name]["mean"]
    parts = []
    if not is_missing(base_mean):
        parts.append(f"Baseline {fmt_level(base_mean, unit)}")
    if row is not None and not is_missing(row["diff_mean"]) and (few := too_few_pairs(row)):
        parts.append(f"no difference shown ({few})")
    elif row is not None and not is_missing(row["diff_mean"]):
        lo, hi = interval_end(row["diff_p05"], unit), interval_end(row["diff_p95"], unit)
        if lo == hi:  # one number, not "±0 points to ±0 points", and so no interval to name
            parts.append(f"difference {lo}")
        else:
            parts.append(f"difference {unit_once(lo, hi)} to {hi} (90% interval)")
        # Here, in the line's larger type, rather than in small print in the tile.
        if better := p_better_text(row, subject="proposal", counts=False, short=True):
            parts.append(better)
    return " · ".join(parts)


# Presentation mode is read from across a room: the tiles' numbers and changes, and the text
# under the charts, a size up (a fixed style sheet; nothing in it comes from input). The numbers
# shrink with the window, down to 36 px, so "4,110 points" fits a tile at 1366 px. The sidebar is
# hidden, not left out: its levers stay on the page, so edits not yet run are still there when the
# mode is switched off. The sheet is on the page only while presentation mode is.
PROJECTOR_CSS = """<style>
[data-testid="stMetricValue"] { font-size: clamp(2.25rem, 3.2vw, 3.5rem); }
[data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"] { display: none; }
[data-testid="stMetricDelta"] { font-size: 1.4rem; }
[data-testid="stMetricDelta"] svg { width: 1.4rem; height: 1.4rem; }
[data-testid="stCaptionContainer"] { font-size: 1.05rem; }
</style>"""


def tiles(summary: Mapping, comparison: pd.DataFrame | None, base_summary: Mapping | None) -> None:
    """The three KPIs that matter, large: label, proposal's value, paired delta and interval."""
    by_kpi = comparison.set_index("kpi") if comparison is not None else None
    for col, name in zip(st.columns(len(HEADLINE_KPIS)), HEADLINE_KPIS, strict=True):
        k = KPIS[name]
        s = summary[name]
        with col:
            st.subheader(k.label, anchor=False)
            if is_missing(s["mean"]):
                st.metric(k.label, "n/a", label_visibility="collapsed", border=True)
                st.markdown(f"##### No value: {null_reason(name)}.")
                continue
            change: dict[str, str] = {}
            row = by_kpi.loc[name] if by_kpi is not None else None
            if row is not None and not is_missing(row["diff_mean"]) and not too_few_pairs(row):
                # With a minus sign, as the lines below write it.
                change = views.tile_delta(name, row, fmt_change(row["diff_mean"], k.unit))
            st.metric(
                k.label,
                fmt_level(s["mean"], k.unit),  # in the words of its change and the line below
                **change,
                label_visibility="collapsed",
                border=True,
                help=k.description + views.change_help(name, row),
            )
            if base_summary is not None:
                st.markdown(f"##### {views.plain(_interval_line(name, row, base_summary))}")
            else:
                st.markdown(
                    f"##### 90% of runs: {fmt_level(s['p05'], k.unit)} to "
                    f"{fmt_level(s['p95'], k.unit)}"
                )


def no_baseline(
    setup: Setup,
    settings: str,
    seed: int,
    replications: int,
    band: int,
    problem: str | None = None,
) -> None:
    """Presentation mode without a usable baseline: say why (none pinned, or ``problem``) and
    offer one."""
    st.title(views.plain(setup.title), anchor=False)
    aligned = setup.preset == ALIGNED and not diff(setup.params, base_params(ALIGNED))
    if problem:
        st.warning(views.plain(problem), icon=":material/warning:")
    else:
        st.warning(
            "There is no baseline to compare with, so there is no proposal to present yet. Pin "
            "these settings as the baseline (then change a lever and run)"
            + ("." if aligned else ", or compare them against the aligned baseline."),
            icon=":material/push_pin:",
        )
    offer = st.container(horizontal=True)
    offer.button(
        "Pin these settings and change a lever",
        key="present.pin",
        on_click=session.on_pin_and_edit,
        icon=":material/push_pin:",
        help="Pins the current settings as the baseline and leaves presentation mode, so the "
        "levers can be changed.",
    )
    offer.button(
        "Compare against the aligned baseline",
        key="present.aligned",
        on_click=session.on_pin_preset,
        args=(ALIGNED,),
        disabled=aligned,
        icon=":material/compare_arrows:",
        help="These settings are the aligned baseline."
        if aligned
        else "Pins the aligned baseline (every function on a shared outcome, the default rhythm).",
    )
    try:
        view = compute.view(settings, seed, replications, band)
    except Exception as err:  # the page must never show a traceback
        st.error(
            views.plain(
                f"The run failed: {full_stop(err)} Your settings are kept; try again or change them."
            )
        )
        return
    tiles(view["kpi"], None, None)
    st.caption(
        f"{count(replications, 'replication')} · seed {seed} · {setup.params.horizon_weeks} weeks"
    )


def show(
    setup: Setup,
    base: Setup,
    *,
    settings: str,
    base_settings: str,
    seed: int,
    replications: int,
    band: int,
    actions,
) -> None:
    """Presentation mode with a pinned baseline: the proposal against it."""
    try:
        view = compute.view(settings, seed, replications, band)
        base_view = compute.view(base_settings, seed, replications, band)
        paired = compute.paired(base_settings, settings, seed, replications, band)
        charts = figures.present_figures(
            settings, base_settings, seed, replications, compute.MODEL_VERSION, band
        )
    except Exception as err:  # the page must never show a traceback
        st.error(
            views.plain(
                f"The run failed: {full_stop(err)} Your settings are kept; try again or change them."
            )
        )
        return
    args = (setup, base_settings, settings, seed, replications, paired["kpis"])
    key = repr(args[1:5])
    ss = st.session_state
    deferred = ss.setdefault(WHY_DEFERRED, [])
    # The first time, the run ends without the why: what this run did not redraw (the Sandbox's
    # tiles and tabs, on leaving it) goes at once, instead of lingering greyed out while the why is
    # worked out. A fragment then works it out half a second later, and reruns the page.
    defer = key not in deferred
    brief_button(
        actions,
        variant=setup,
        base=base,
        settings=settings,
        base_settings=base_settings,
        seed=seed,
        replications=replications,
        key="present.brief",
        waiting=defer,
    )
    st.title(views.plain(setup.title), anchor=False)
    st.header(views.plain(f"against {base_title(base)}"), anchor=False)
    if changed_here := changed_from_preset(setup):
        st.markdown(f"##### {views.plain(changed_here)}")
    tiles(view["kpi"], paired["kpis"], base_view["kpi"])
    st.subheader(views.plain(headline(paired["kpis"])), anchor=False)
    if other_side := tradeoffs(paired["kpis"]):
        st.subheader(views.plain(other_side), anchor=False)
    # The "why" takes more simulations than the run itself (a first time, many seconds): its place
    # is kept while the charts are drawn below it, and it is filled in when it is ready.
    why_slot = st.container()
    st.caption(caveat(replications, setup.params.horizon_weeks, seed))
    views.show_figures(charts, sections=False)
    if defer:
        deferred[:] = [*deferred[-20:], key]
    ss[IN_FULL_RUN] = True
    try:
        with why_slot:
            st.fragment(_deferred_why, run_every=0.5 if defer else None)(defer, args)
    finally:  # a run cut short (by a click) must not leave the fragment waiting for ever
        ss[IN_FULL_RUN] = False


WHY_DEFERRED = "present.why_deferred"  # the runs whose why was once left to a fragment
IN_FULL_RUN = "present.in_full_run"  # False while a fragment reruns on its own


def _deferred_why(defer: bool, args: tuple) -> None:
    """The why, or — on the run that deferred it — a line saying it is on its way."""
    if defer and st.session_state.get(IN_FULL_RUN):
        st.caption("Working out why the numbers moved…")
        return
    _why(*args)
    if defer:  # the fragment's own rerun: redraw the page once, without the timer
        st.rerun(scope="app")


def _why(
    setup: Setup,
    base_settings: str,
    settings: str,
    seed: int,
    replications: int,
    comparison: pd.DataFrame,
) -> None:
    """The sentence that attributes the headline difference to the changed settings."""
    kpi = compute.why_kpi(setup.params.horizon_weeks, comparison)
    text, caption = why_sentence(base_settings, settings, seed, replications, kpi, comparison)
    if text:
        st.subheader(views.plain(f"Why: {text}"), anchor=False)
    if caption:
        st.caption(views.plain(caption))


def why_sentence(
    base_settings: str,
    settings: str,
    seed: int,
    replications: int,
    kpi: str,
    comparison: pd.DataFrame,
) -> tuple[str | None, str | None]:
    """The sentence that splits ``kpi``'s change among the changed settings (None when there is
    none), and a caption: where its numbers come from, or why there is no sentence."""
    try:
        reason = compute.why(
            base_settings, settings, seed, replications, kpi, comparison=comparison
        )
    except Exception as err:  # the explanation is extra: the page goes on without it
        reason = {"text": None, "reason": f"the difference could not be attributed: {err}"}
    if reason["text"]:
        return why_line(reason["text"], comparison.set_index("kpi").loc[kpi]), reason.get("note")
    return None, f"No “why” sentence: {full_stop(reason['reason'])}"
