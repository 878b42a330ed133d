"""Sandbox: pick a scenario, change governance levers, run, and compare against a pinned baseline.

In presentation mode (a toggle, or ``present=1`` in the link) the controls give way to a large view
of the proposal against its baseline (:mod:`app.present`).
"""

from collections.abc import Callable

import streamlit as st

from app import compute, controls, figures, present, session, views
from app.state import (
    DEFAULT_BAND,
    DEFAULT_TAB,
    TABS,
    canonical,
    encode_sandbox,
    own_title,
    safe_title,
    with_horizon,
)
from sim.narrative import quiet_event_reviews, tradeoffs, unused_changes, why_kpi
from sim.outcomes import KPIS
from sim.params import ParamError, diff
from sim.report.format import count, full_stop, kpi_table
from sim.runner import MODEL_VERSION
from sim.scenarios import MAX_TITLE, load_preset, preset_names, to_toml

session.init_sandbox()
setup, seed, reps = session.applied()
toml_title = safe_title(setup.title) or "Custom scenario"  # a title the file's reader accepts
preset = load_preset(setup.preset) if setup.preset is not None else None
preset_texts = (
    {"description": preset.description, "teaching_notes": preset.teaching_notes} if preset else {}
)
# A saved file keeps a loaded file's description and notes, and a preset's while its settings are
# unchanged (they would no longer describe modified ones).
unchanged = preset is not None and setup.overrides == diff(preset.params)
scenario_toml = to_toml(
    setup.params,
    title=toml_title,
    seed=seed,
    replications=reps,
    **(setup.own_texts() or (preset_texts if unchanged else {})),
)
toml_name = views.file_name("", toml_title, "toml")  # "sales-led-drift-modified.toml"
base_setup = session.baseline()
presenting = bool(st.session_state.get(controls.PRESENT_KEY))
PRESENT_HELP = (
    "A clean, large view for a meeting: baseline against proposal, the three numbers that matter "
    "and a paragraph that explains them. It shows the last run: lever changes not yet run wait "
    "in the levers until you switch it off. The page's link opens it the same way (present=1)."
)


def draw_sidebar() -> None:
    """The preset picker, the levers (one form, applied by Run) and the scenario file."""
    presets = {n: load_preset(n) for n in preset_names()}  # each read once a run
    with st.sidebar:
        st.selectbox(
            "Preset scenario",
            list(presets),
            index=None,
            key=session.PRESET_KEY,
            format_func=lambda n: presets[n].title,
            placeholder="Custom settings",
            on_change=session.on_preset,
            help="Loads the preset's settings into the levers below and runs it.\n\n"
            + "\n".join(f"- **{p.title}**: {p.description}" for p in presets.values()),
        )
        if chosen := st.session_state.get(session.PRESET_KEY):
            st.caption(presets[chosen].description)
        controls.lever_form(session.on_run, st.session_state.get(session.RUN_ERROR))
        # Kept open while it has something to say (a file just loaded, or refused).
        file_news = bool(
            st.session_state.get(session.UPLOAD_ERROR) or st.session_state.get(session.UPLOAD_NOTE)
        )
        with st.expander("Scenario file", expanded=file_news, key="sb.file"):
            st.file_uploader(
                "Load settings from a scenario file (TOML, at most 64 KiB)",
                type=["toml"],
                key=session.UPLOAD_KEY,
                on_change=session.on_upload,
                help="A file saved from here or from the scenarios folder. It is checked before "
                "anything changes; a bad file leaves your settings as they are.",
            )
            if st.session_state.get(session.UPLOAD_ERROR):
                st.error(views.plain(st.session_state[session.UPLOAD_ERROR]))
            if st.session_state.get(session.UPLOAD_NOTE):
                st.success(views.plain(st.session_state[session.UPLOAD_NOTE]))
            st.download_button(
                "Download these settings (TOML)",
                scenario_toml,
                file_name=toml_name,
                mime="application/toml",
                key="sb.download_toml",
                on_click="ignore",
                icon=":material/download:",
                help="Only the settings that differ from the defaults, with a title and this "
                "run's seed and replications: load it here later, or run it from the command line, "
                "and get the same results.",
            )


def sync_link() -> dict[str, str]:
    """Keep the address bar on the link that restores this page; returns its query."""
    query = encode_sandbox(session.sandbox_state())
    if st.query_params.to_dict() != query:
        st.query_params.from_dict(query)
    return query


def title_form(
    container, label: str, *, icon: str, help: str, field: str, field_help: str, key: str,
    submit: tuple[str, str, Callable[[], None]],
) -> None:  # fmt: skip
    """A button opening a one-field form for a title; ``submit`` is the form button's label, key
    and callback (Enter submits it too, as the field says)."""
    text, submit_key, on_submit = submit
    with container.popover(label, icon=icon, help=help), st.form(f"{key}.form", border=False):
        st.text_input(field, key=key, placeholder=setup.title, max_chars=MAX_TITLE, help=field_help)
        st.form_submit_button(text, key=submit_key, on_click=on_submit, type="primary")


# Drawn in presentation mode too, where its style sheet hides it: the levers keep the edits not
# yet run (the browser holds them until Run), ready when the mode is switched off.
draw_sidebar()

WHY_FOR = "sb.why_for"  # the run whose "why" was asked for


def explain_change(
    comparison, base_settings: str, settings: str, seed: int, reps: int, horizon: int
) -> None:
    """On request, the sentence that splits the headline KPI's change among the settings that
    differ from the baseline (it runs each combination of them, so it waits for a click)."""
    kpi = why_kpi(horizon, comparison)
    run = [base_settings, settings, seed, reps]
    if st.session_state.get(WHY_FOR) != run:
        st.button(
            f"Why did {KPIS[kpi].label.lower()} change?",
            key="sb.why",
            icon=":material/account_tree:",
            on_click=lambda: st.session_state.__setitem__(WHY_FOR, run),
            help="Splits the change among the settings that differ from the baseline, by running "
            "them one combination at a time on the same random numbers: several times this run's "
            "simulations the first time, then from the cache.",
        )
        return
    text, caption = present.why_sentence(base_settings, settings, seed, reps, kpi, comparison)
    if text:
        st.markdown(f"**Why:** {views.plain(text)}")
    if caption:
        st.caption(views.plain(caption))


# -- the baseline, re-run at this run's horizon ------------------------------------------------------
settings = canonical(setup.overrides)
base_settings = None
base_problem = None
if base_setup is not None:
    try:
        base_settings = canonical(with_horizon(base_setup.overrides, setup.params.horizon_weeks))
    except ParamError as err:
        base_problem = (
            f"The baseline cannot be re-run at this run's horizon: {full_stop(err)} "
            "Clear it or pin a new one."
        )

# -- presentation mode -------------------------------------------------------------------------------
if presenting:
    st.html(present.PROJECTOR_CSS)
    top = st.container(horizontal=True, horizontal_alignment="right", vertical_alignment="center")
    session.keep_present(
        top.toggle("Presentation mode", key=controls.PRESENT_KEY, help=PRESENT_HELP)
    )
    views.link_warnings(st.session_state.get(session.URL_WARNINGS, []))
    if base_setup is None or base_settings is None:
        present.no_baseline(setup, settings, seed, reps, DEFAULT_BAND, base_problem)
    else:
        present.show(
            setup,
            base_setup,
            settings=settings,
            base_settings=base_settings,
            seed=seed,
            replications=reps,
            band=DEFAULT_BAND,
            actions=top,
        )
    sync_link()
    st.stop()

# -- heading ----------------------------------------------------------------------------------------
# Titles can come from an uploaded file: shown exactly as written, never as Markdown.
st.title(views.plain(setup.title))
# A loaded file's description and notes show as text, never as Markdown; a preset's are ours.
texts = {k: views.plain_text(v) for k, v in setup.own_texts().items()} or preset_texts
changed_here = present.changed_from_preset(setup)
if changed_here and own_title(setup):
    # Settings with a title of their own (a link's, say, to a scenario file's settings) that are no
    # longer the preset's: its description and notes would describe another scenario.
    texts = {}
if texts.get("description"):
    st.markdown(texts["description"])
if changed_here:
    # The description and notes are the preset's, or left out: say where the settings started.
    st.caption(views.plain(changed_here))
if texts.get("teaching_notes"):
    with st.expander("Teaching notes"):
        st.markdown(texts["teaching_notes"])
views.link_warnings(st.session_state.get(session.URL_WARNINGS, []))

actions = st.container(horizontal=True, vertical_alignment="center")
actions.button(
    "Pin as baseline",
    key="sb.pin",
    on_click=session.on_pin,
    icon=":material/push_pin:",
    help="Keep these settings as the baseline: later runs are compared with it on the same "
    "random numbers, and it is drawn in grey under them.",
)
actions.button(
    "Clear baseline",
    key="sb.unpin",
    on_click=session.on_unpin,
    disabled=base_setup is None,
    icon=":material/close:",
    help="Stop comparing with the pinned baseline.",
)
title_form(
    actions,
    "Rename",
    icon=":material/edit:",
    help="Title these settings: the title heads this page, presentation mode and the decision "
    "brief, and goes into the link, the scenario file and Compare.",
    field="Title",
    field_help="One line, up to 80 characters. Left empty, the settings take the title where "
    "they started gives them (the preset's, marked “(modified)” once they differ).",
    key=session.RENAME_KEY,
    submit=("Apply", "sb.rename_apply", session.on_rename),
)
title_form(
    actions,
    "Save for Compare",
    icon=":material/bookmark_add:",
    help="Offer these settings on the Compare page, under a name of your choice (for this "
    "browser session).",
    field="Name",
    field_help="How the Compare page lists these settings. Left empty, they keep their title.",
    key=session.SAVE_NAME_KEY,
    submit=("Save", "sb.save", session.on_save),
)
session.keep_present(
    actions.toggle("Presentation mode", key=controls.PRESENT_KEY, help=PRESENT_HELP)
)
if note := st.session_state.pop(session.SAVE_NOTE, None):
    st.toast(views.plain(note), icon=":material/bookmark_added:")
if note := st.session_state.pop(session.RENAME_NOTE, None):
    st.toast(views.plain(note), icon=":material/edit:")

open_tab = st.session_state.get(controls.TAB_KEY) or TABS[DEFAULT_TAB]
metric, band, teams = controls.display_options(
    metric_shown=open_tab in (TABS["delivery"], TABS["tables"]),
    teams_shown=open_tab == TABS["delivery"],
)
session.keep_display(metric, band, teams, open_tab)

# -- results ----------------------------------------------------------------------------------------
if base_problem:
    st.warning(views.plain(base_problem), icon=":material/warning:")
elif base_setup is not None:
    st.caption(
        views.plain(
            f"{base_setup.title} — drawn in grey; re-run with this run's seed, replications "
            "and horizon, so both share their random numbers and the deltas are paired."
        )
    )

try:
    variant_view = compute.view(settings, seed, reps, band)
    base_view = paired = None
    if base_settings is not None:
        base_view = compute.view(base_settings, seed, reps, band)
        paired = compute.paired(base_settings, settings, seed, reps, band)
    figure_specs = (
        figures.sandbox_figures(
            settings, base_settings, seed, reps, MODEL_VERSION, band, open_tab, metric, teams
        )
        if open_tab in (TABS["customers"], TABS["delivery"])
        else []
    )
except Exception as err:  # the page must never show a traceback
    st.error(
        views.plain(
            f"The run failed: {full_stop(err)} Your settings are kept; try again or change them."
        )
    )
    st.stop()
exports = [("variant", setup.title, variant_view)]
if base_view is not None and base_setup is not None:
    exports.insert(0, ("baseline", base_setup.title, base_view))

views.kpi_tiles(variant_view["kpi"], paired["kpis"] if paired else None)
# What the tiles leave out: the headline KPIs all moved one way, and a measure without a tile (active
# customers, LTV / CAC, activation) clearly moved the other.
if paired and (other_side := tradeoffs(paired["kpis"], who="the variant")):
    st.info(views.plain(other_side), icon=":material/balance:")
if quiet := quiet_event_reviews(setup.params, variant_view["replications_with_event_review"], reps):
    st.info(views.plain(quiet), icon=":material/notifications_off:")
if idle := unused_changes(setup.params):
    st.info(views.plain(idle), icon=":material/block:")
if paired and base_settings is not None and base_settings != settings:
    explain_change(paired["kpis"], base_settings, settings, seed, reps, setup.params.horizon_weeks)
changed = diff(setup.params)
st.caption(
    f"{count(reps, 'replication')} · seed {seed} · {setup.params.horizon_weeks} weeks · model "
    f"{MODEL_VERSION} · {count(len(changed), 'setting')} "
    f"{'differs' if len(changed) == 1 else 'differ'} from the defaults · run "
    f"{compute.run_id(settings, seed, reps)} · every KPI, and every chart's numbers, in Data tables"
)

# Only the open tab is drawn: switching tabs reruns the page, and its figures come from the cache.
tabs = st.tabs(list(TABS.values()), key=controls.TAB_KEY, on_change="rerun")
for tab, label in zip(tabs, TABS.values(), strict=True):
    if not tab.open:
        continue
    with tab:
        if label == TABS["tables"]:
            st.markdown("**Every KPI** (mean and the range of 90% of replications)")
            st.dataframe(
                kpi_table(
                    variant_view["kpi"],
                    paired["kpis"] if paired else None,
                    base_view["kpi"] if base_view else None,
                ),
                hide_index=True,
                key="table_kpis",
                height="content",
                column_config={
                    # Wide enough for "Active customers at end"; the other columns fit their
                    # contents, and the table fits beside the sidebar at 1366 px.
                    "KPI": st.column_config.TextColumn("KPI", pinned=True, width=155),
                    # A short heading: its cells are one word ("higher", "lower").
                    "Better when": st.column_config.TextColumn(
                        "Better", help="Whether a higher or a lower value of the KPI is better."
                    ),
                    "Baseline": st.column_config.TextColumn(
                        "Baseline",
                        help="The baseline's mean over its replications (n/a from too few "
                        "values, as Compare shows it).",
                    ),
                    "Change": st.column_config.TextColumn(
                        "Change", help="Variant − baseline, the mean over paired replications."
                    ),
                },
            )
            views.chart_tables(variant_view, base_view, metric)
        elif label == TABS["timeline"]:
            views.timeline(variant_view)
        else:
            views.show_figures(figure_specs, sections=False)

# -- share and export -------------------------------------------------------------------------------
query = sync_link()

st.subheader("Share and export")
downloads = st.container(horizontal=True)
if base_setup is not None and base_settings is not None:
    present.brief_button(
        downloads,
        variant=setup,
        base=base_setup,
        settings=settings,
        base_settings=base_settings,
        seed=seed,
        replications=reps,
        key="sb.download_brief",
    )
# Built when clicked (from the cached results), not on every run.
views.run_exports(
    downloads,
    downloads,
    exports,
    band,
    key="sb",
    stem="",
    who="run (variant, and baseline if pinned)",
)
downloads.download_button(
    "Settings (scenario TOML)",
    scenario_toml,
    file_name=toml_name,
    mime="application/toml",
    key="sb.download_toml_main",
    on_click="ignore",
    icon=":material/download:",
    help="Only the settings that differ from the defaults, with a title and this run's seed "
    "and replications.",
)
views.share_link(
    st.context.url or "",
    query,
    "This page's address restores exactly these settings (and the pinned baseline)"
    + (
        "; the scenario file's description and notes travel in the scenario TOML:"
        if setup.own_texts()
        else ":"
    ),
    downloads,
)
if base_setup is None:
    st.caption("Pin a baseline to download a decision brief of this run against it.")
