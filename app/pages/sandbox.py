"""Sandbox: pick a scenario, change governance levers, run, and compare against a pinned baseline.

In presentation mode (a toggle, or ``present=1`` in the link) the controls give way to a large view
of the proposal against its baseline (:mod:`app.present`).

Run reruns the whole page. The sections that need no results are drawn before the run, so that only
the results are left to draw when it is done; while it goes, the last run's tiles and charts keep
their places, dimmed, under the progress bar.
"""

import functools
from collections.abc import Callable
from dataclasses import dataclass

import streamlit as st

from app import compute, controls, figures, present, session, views
from app.state import (
    DEFAULT_BAND,
    DEFAULT_TAB,
    TABS,
    Setup,
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
from sim.scenarios import MAX_TITLE, Scenario, load_preset, preset_names, to_toml

PRESENT_HELP = (
    "A clean, large view for a meeting: baseline against proposal, the three numbers that matter "
    "and a paragraph that explains them. It shows the last run: lever changes not yet run wait "
    "in the levers until you switch it off. The page's link opens it the same way (present=1)."
)


def presentation_toggle(container) -> None:
    """The presentation mode switch."""
    on = container.toggle("Presentation mode", key=controls.PRESENT_KEY, help=PRESENT_HELP)
    session.keep_present(on)


def draw_levers() -> None:
    """The preset picker and the levers (one form, applied by Run), on a full run of the page."""
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


def draw_scenario_file(scenario_toml: str, toml_name: str) -> None:
    """Under the levers: load a scenario file, or save the settings last run as one."""
    with st.sidebar:
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


def sync_link() -> None:
    """Keep the address bar on the link that restores this page."""
    query = encode_sandbox(session.sandbox_state())
    if st.query_params.to_dict() != query:
        st.query_params.from_dict(query)


def title_form(
    container, label: str, *, icon: str, help: str, field: str, field_help: str, key: str,
    placeholder: str, submit: tuple[str, str, Callable[[], None]],
) -> None:  # fmt: skip
    """A button opening a one-field form for a title; ``submit`` is the form button's label, key
    and callback (Enter submits it too, as the field says)."""
    text, submit_key, on_submit = submit
    with container.popover(label, icon=icon, help=help), st.form(f"{key}.form", border=False):
        st.text_input(field, key=key, placeholder=placeholder, max_chars=MAX_TITLE, help=field_help)
        st.form_submit_button(text, key=submit_key, on_click=on_submit, type="primary")


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


def scenario_file(setup: Setup, seed: int, reps: int, preset: Scenario | None) -> tuple[str, str]:
    """The settings last run (started from ``preset``) as a scenario file: its text and name."""
    toml_title = safe_title(setup.title) or "Custom scenario"  # a title the file's reader accepts
    # A saved file keeps a loaded file's description and notes, and a preset's while its settings
    # are unchanged (they would no longer describe modified ones).
    unchanged = preset is not None and setup.overrides == diff(preset.params)
    text = to_toml(
        setup.params,
        title=toml_title,
        seed=seed,
        replications=reps,
        **(setup.own_texts() or (preset_texts(preset) if unchanged else {})),
    )
    return text, views.file_name("", toml_title, "toml")  # "sales-led-drift-modified.toml"


def preset_texts(preset: Scenario | None) -> dict[str, str]:
    """The description and teaching notes of the preset the settings started from, if any."""
    if preset is None:
        return {}
    return {"description": preset.description, "teaching_notes": preset.teaching_notes}


def heading(setup: Setup, preset: Scenario | None) -> None:
    """The title, the description and notes that still describe the settings (started from
    ``preset``), and link warnings."""
    # Titles can come from an uploaded file: shown exactly as written, never as Markdown.
    st.title(views.plain(setup.title))
    # A loaded file's description and notes show as text, never as Markdown; a preset's are ours.
    texts = {k: views.plain_text(v) for k, v in setup.own_texts().items()} or preset_texts(preset)
    changed_here = present.changed_from_preset(setup)
    if changed_here and own_title(setup):
        # Settings with a title of their own (a link's, say, to a scenario file's settings) that
        # are no longer the preset's: its description and notes would describe another scenario.
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


def actions(setup: Setup, base_setup: Setup | None) -> None:
    """Pin, clear, rename, save for Compare, and presentation mode, in one row."""
    row = st.container(horizontal=True, vertical_alignment="center")
    row.button(
        "Pin as baseline",
        key="sb.pin",
        on_click=session.on_pin,
        icon=":material/push_pin:",
        help="Keep these settings as the baseline: later runs are compared with it on the same "
        "random numbers, and it is drawn in grey under them.",
    )
    row.button(
        "Clear baseline",
        key="sb.unpin",
        on_click=session.on_unpin,
        disabled=base_setup is None,
        icon=":material/close:",
        help="Stop comparing with the pinned baseline.",
    )
    title_form(
        row,
        "Rename",
        icon=":material/edit:",
        help="Title these settings: the title heads this page, presentation mode and the decision "
        "brief, and goes into the link, the scenario file and Compare.",
        field="Title",
        field_help="One line, up to 80 characters. Left empty, the settings take the title where "
        "they started gives them (the preset's, marked “(modified)” once they differ).",
        key=session.RENAME_KEY,
        placeholder=setup.title,
        submit=("Apply", "sb.rename_apply", session.on_rename),
    )
    title_form(
        row,
        "Save for Compare",
        icon=":material/bookmark_add:",
        help="Offer these settings on the Compare page, under a name of your choice (for this "
        "browser session).",
        field="Name",
        field_help="How the Compare page lists these settings. Left empty, they keep their title.",
        key=session.SAVE_NAME_KEY,
        placeholder=setup.title,
        submit=("Save", "sb.save", session.on_save),
    )
    presentation_toggle(row)
    if note := st.session_state.pop(session.SAVE_NOTE, None):
        st.toast(views.plain(note), icon=":material/bookmark_added:")
    if note := st.session_state.pop(session.RENAME_NOTE, None):
        st.toast(views.plain(note), icon=":material/edit:")


@dataclass(frozen=True)
class Shown:
    """The settings last run and the baseline they are compared with."""

    setup: Setup
    seed: int
    reps: int
    settings: str  # canonical (see app.state.canonical)
    base_setup: Setup | None
    base_settings: str | None  # None without a baseline, or when it cannot be re-run
    base_problem: str | None  # why the pinned baseline cannot be re-run, if it cannot


def shown_now() -> Shown:
    """The settings last run, with the pinned baseline re-run at their horizon."""
    setup, seed, reps = session.applied()
    base_setup = session.baseline()
    base_settings = base_problem = None
    if base_setup is not None:
        try:
            base_settings = canonical(
                with_horizon(base_setup.overrides, setup.params.horizon_weeks)
            )
        except ParamError as err:
            base_problem = (
                f"The baseline cannot be re-run at this run's horizon: {full_stop(err)} "
                "Clear it or pin a new one."
            )
    return Shown(
        setup, seed, reps, canonical(setup.overrides), base_setup, base_settings, base_problem
    )


def presentation(run: Shown) -> None:
    """Presentation mode: the proposal against its baseline, large (see :mod:`app.present`)."""
    st.html(present.PROJECTOR_CSS)
    top = st.container(horizontal=True, horizontal_alignment="right", vertical_alignment="center")
    presentation_toggle(top)
    views.link_warnings(st.session_state.get(session.URL_WARNINGS, []))
    if run.base_setup is None or run.base_settings is None:
        present.no_baseline(
            run.setup, run.settings, run.seed, run.reps, DEFAULT_BAND, run.base_problem
        )
    else:
        present.show(
            run.setup,
            run.base_setup,
            settings=run.settings,
            base_settings=run.base_settings,
            seed=run.seed,
            replications=run.reps,
            band=DEFAULT_BAND,
            actions=top,
        )
    sync_link()


def results(run: Shown, open_tab: str, metric: str, band: int, teams: bool) -> bool:
    """The run's KPI tiles, notes and open tab (running what the cache does not hold); returns
    False when the run failed (the error is shown)."""
    if run.base_problem:
        st.warning(views.plain(run.base_problem), icon=":material/warning:")
    elif run.base_setup is not None:
        st.caption(
            views.plain(
                f"{run.base_setup.title} — drawn in grey; re-run with this run's seed, "
                "replications and horizon, so both share their random numbers and the deltas are "
                "paired."
            )
        )
    setup, seed, reps, settings, base_settings = (
        run.setup, run.seed, run.reps, run.settings, run.base_settings
    )  # fmt: skip
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
                f"The run failed: {full_stop(err)} Your settings are kept; try again or change "
                "them."
            )
        )
        return False
    views.kpi_tiles(variant_view["kpi"], paired["kpis"] if paired else None)
    # What the tiles leave out: the headline KPIs all moved one way, and a measure without a tile
    # (active customers, LTV / CAC, activation) clearly moved the other.
    if paired and (other_side := tradeoffs(paired["kpis"], who="the variant")):
        st.info(views.plain(other_side), icon=":material/balance:")
    with_event = variant_view["replications_with_event_review"]
    if quiet := quiet_event_reviews(setup.params, with_event, reps):
        st.info(views.plain(quiet), icon=":material/notifications_off:")
    if idle := unused_changes(setup.params):
        st.info(views.plain(idle), icon=":material/block:")
    if paired and base_settings is not None and base_settings != settings:
        explain_change(
            paired["kpis"], base_settings, settings, seed, reps, setup.params.horizon_weeks
        )
    changed = diff(setup.params)
    st.caption(
        f"{count(reps, 'replication')} · seed {seed} · {setup.params.horizon_weeks} weeks · model "
        f"{MODEL_VERSION} · {count(len(changed), 'setting')} "
        f"{'differs' if len(changed) == 1 else 'differ'} from the defaults · run "
        f"{compute.run_id(settings, seed, reps)} · every KPI, and every chart's numbers, in Data "
        "tables"
    )

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
    return True


def exports(run: Shown, band: int) -> list[compute.ExportRun]:
    """The runs the CSVs export (the baseline first, if pinned), from the cache."""
    runs = [("variant", run.setup.title, compute.view(run.settings, run.seed, run.reps, band))]
    if run.base_setup is not None and run.base_settings is not None:
        base = compute.view(run.base_settings, run.seed, run.reps, band)
        runs.insert(0, ("baseline", run.base_setup.title, base))
    return runs


def share_and_export(run: Shown, band: int, toml: tuple[str, str], query: dict[str, str]) -> None:
    """Downloads (brief, CSVs, scenario file) and the link (``query``) that restores this page:
    none of them needs the run's results before it is clicked."""

    st.subheader("Share and export")
    downloads = st.container(horizontal=True)
    if run.base_setup is not None and run.base_settings is not None:
        present.brief_button(
            downloads,
            variant=run.setup,
            base=run.base_setup,
            settings=run.settings,
            base_settings=run.base_settings,
            seed=run.seed,
            replications=run.reps,
            key="sb.download_brief",
        )
    # Built when clicked (from the cached results), not on every run.
    views.run_exports(
        downloads,
        downloads,
        functools.partial(exports, run, band),
        band,
        key="sb",
        stem="",
        who="run (variant, and baseline if pinned)",
    )
    downloads.download_button(
        "Settings (scenario TOML)",
        toml[0],
        file_name=toml[1],
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
            if run.setup.own_texts()
            else ":"
        ),
        downloads,
    )
    if run.base_setup is None:
        st.caption("Pin a baseline to download a decision brief of this run against it.")


def page() -> None:
    """Everything but the levers, for the settings last run."""
    run = shown_now()
    preset = load_preset(run.setup.preset) if run.setup.preset is not None else None
    toml = scenario_file(run.setup, run.seed, run.reps, preset)
    # Drawn in presentation mode too, where its style sheet hides it with the levers.
    draw_scenario_file(*toml)
    if st.session_state.get(controls.PRESENT_KEY):
        presentation(run)
        return
    # The heading's parts come and go with the settings (a description, what changed, notes); in a
    # box of its own, they do not move what follows, so the last run's tiles and charts keep their
    # places, dimmed, until this run's replace them.
    with st.container():
        heading(run.setup, preset)
    actions(run.setup, run.base_setup)
    open_tab = st.session_state.get(controls.TAB_KEY) or TABS[DEFAULT_TAB]
    metric, band, teams = controls.display_options(
        metric_shown=open_tab in (TABS["delivery"], TABS["tables"]),
        teams_shown=open_tab == TABS["delivery"],
    )
    session.keep_display(metric, band, teams, open_tab)
    results_area = st.container()
    # Below the results, drawn first: it needs no results, so the browser draws it while the
    # replications run, and only the results are left to draw when they are done.
    share = st.empty()
    with share.container():
        share_and_export(run, band, toml, encode_sandbox(session.sandbox_state()))
    with results_area:
        ran = results(run, open_tab, metric, band, teams)
    if ran:
        sync_link()  # the address bar names a run only once it has run
    else:
        share.empty()


session.init_sandbox()
# Drawn in presentation mode too, where its style sheet hides them: the levers keep the edits not
# yet run (the browser holds them until Run), ready when the mode is switched off.
draw_levers()
page()
