"""Compare: two to four presets or saved settings side by side, on the same random numbers."""

import pandas as pd
import streamlit as st

from app import compute, controls, figures, session, views
from app.state import (
    BAND_WIDTHS,
    MAX_COMPARE,
    canonical,
    encode_compare,
)
from sim.report.format import compare_kpi_table, compare_pair_table, count, null_notes

PICK_HELP = (
    "In a chart, click a scenario in the legend to pick it out; shift-click adds or drops one; "
    "click beside the legend to see them all again."
)

session.init_compare()
applied = st.session_state[session.CMP_APPLIED]
options = session.compare_options()

st.title("Compare scenarios")
st.markdown(
    "Two to four presets or saved settings, run on the same seed and number of replications so "
    "every scenario sees the same random numbers. Differences against the first are paired."
)
views.link_warnings(st.session_state.get(session.CMP_URL_WARNINGS, []))

with st.form("compare", border=True, enter_to_submit=False):
    st.multiselect(
        "Scenarios (the first is the reference)",
        options,
        key=session.CMP_NAMES_KEY,
        max_selections=MAX_COMPARE,
        format_func=session.option_label,
        help="Presets, the Sandbox's current settings and pinned baseline, and settings saved "
        "from the Sandbox with “Save for Compare”.",
    )
    c1, c2 = st.columns(2)
    # Unbounded boxes, checked on Compare: an out-of-range value gets an error naming the range.
    c1.number_input("Replications", step=10, key=session.CMP_REPS_KEY, help=controls.REPS_HELP)
    c2.number_input("Seed", step=1, key=session.CMP_SEED_KEY, help=controls.SEED_HELP)
    if st.session_state.get(session.CMP_ERROR):
        st.error(views.plain(st.session_state[session.CMP_ERROR]))
    st.form_submit_button(
        "Compare",
        type="primary",
        key="cmp.run",
        on_click=session.on_compare,
        help="Run every chosen scenario with this seed and number of replications.",
    )

band = st.columns([1, 2])[0].select_slider(
    "Band width",
    options=list(BAND_WIDTHS),
    key=session.CMP_BAND_KEY,
    format_func=lambda w: f"{w}%",
    help="The share of replications inside each shaded band (display only: no new run).",
)
st.session_state["cmp.display_band"] = band

seed, reps = int(applied["seed"]), int(applied["replications"])
chosen = []
for option in applied["names"]:
    setup = session.option_setup(option)
    if setup is None:
        label = session.option_label(option)
        st.warning(views.plain(f"{label} is no longer available in this session."))
        continue
    chosen.append((option, setup))

titles: list[str] = []
for option, _ in chosen:
    title = session.option_label(option)
    while title in titles:
        title += " (again)"
    titles.append(title)

if len(chosen) < 2:
    st.info("Pick at least two scenarios and press Compare.")
    st.stop()

try:
    settings = [canonical(setup.overrides) for _, setup in chosen]
    runs = tuple((f"scenario {i + 1}", title, settings[i]) for i, title in enumerate(titles))
    views_by_title = {}
    for i, (_, title, s) in enumerate(runs):
        # A run's progress bar names its scenario; a scenario already run comes from the cache.
        with compute.named_run(views.plain(f"“{title}” ({i + 1} of {len(runs)})")):
            views_by_title[title] = compute.view(s, seed, reps, band)
    horizons = [setup.params.horizon_weeks for _, setup in chosen]
    pairs = {
        t: (
            compute.paired(settings[0], s, seed, reps, band)["kpis"]
            if horizons[i] == horizons[0]
            else None
        )
        for i, (_, t, s) in enumerate(runs)
        if i > 0
    }
    curves = figures.compare_figures(tuple((t, s) for _, t, s in runs), seed, reps, band)
except Exception as err:  # the page must never show a traceback
    st.error(views.plain(f"The comparison failed: {err}"))
    st.stop()


def as_written(table: pd.DataFrame) -> pd.DataFrame:
    """A static table whose headings show as written: they are read as Markdown, and they hold
    the scenarios' titles, which come from files and links."""
    return table.rename(columns=views.plain)


st.subheader("Settings")
titled = [(t, setup.params) for t, (_, setup) in zip(titles, chosen, strict=True)]
changed = controls.settings_table(titled)
if changed.empty:
    st.caption("Every scenario uses the model's defaults.")
else:
    st.caption("The settings that differ from the model's defaults in any of these scenarios.")
    st.table(as_written(changed), hide_index=True, border="horizontal")

st.subheader("KPIs")
st.caption(f"Mean (90% of replications) · {count(reps, 'replication')} · seed {seed}")
st.dataframe(
    compare_kpi_table({t: v["kpi"] for t, v in views_by_title.items()}),
    hide_index=True,
    key="cmp_table_kpis",
    height="content",
    # Wide enough for the longest KPI name at 1366 px with four scenarios beside it.
    column_config={"KPI": st.column_config.TextColumn("KPI", pinned=True, width=200)},
)
missing = null_notes({t: v["kpi"] for t, v in views_by_title.items()})
if missing:
    st.caption(views.plain("n/a: " + "; ".join(missing) + "."))
st.caption(
    views.plain(
        f"Paired differences against {titles[0]} (same seed, same replications). Each cell: the "
        "mean paired difference (its 90% interval of paired runs) · P(better); “not clear” when "
        "that interval holds zero."
    )
)
# A static table: its cells wrap, where a data grid cut them short at 1366 px.
st.table(as_written(compare_pair_table(titles[0], pairs)), hide_index=True, border="horizontal")

st.subheader("Curves")
st.caption(PICK_HELP)
views.show_figures(curves, sections=False)

exports = [(role, title, views_by_title[title]) for role, title, _ in runs]
d1, d2 = st.columns(2)
views.run_exports(d1, d2, lambda: exports, band, key="cmp", stem="compare_", who="scenario")

# Presets by name; Sandbox and saved settings by their preset, title and settings.
query = encode_compare([o if ":" not in o else setup for o, setup in chosen], seed, reps)
if st.query_params.to_dict() != query:
    st.query_params.from_dict(query)
views.share_link(st.context.url or "", query, "Link to this comparison:")
