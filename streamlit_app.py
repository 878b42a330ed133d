"""Product Leadership Sandbox — run a preset and watch retention and time-to-value with bands."""

import altair as alt
import streamlit as st

from sim.runner import run_many
from sim.scenarios import load_preset, preset_names

st.set_page_config(page_title="Product Leadership Sandbox", layout="wide")


@st.cache_data(max_entries=32, ttl=3600, show_spinner="Simulating...")
def _run(name: str, replications: int, seed: int):
    res = run_many(load_preset(name).params, replications=replications, seed=seed, scenario=name)
    return res.retention_bands(), res.bands(["median_ttv_days"]), res.kpi_summary()


st.title("Product Leadership Sandbox")
name = st.selectbox("Scenario", preset_names(), key="preset",
                    format_func=lambda n: load_preset(n).title)
st.caption(load_preset(name).description)
retention, ttv, kpis = _run(name, 30, 1)
c1, c2 = st.columns(2)
c1.metric("52-week retention", f"{kpis['retention_52w']['mean']:.1%}")
c2.metric("Median time-to-value", f"{kpis['median_ttv_days']['mean']:.1f} days")
band = alt.Chart(retention).mark_area(opacity=0.3).encode(
    x=alt.X("age_weeks:Q", title="Customer age (weeks)"),
    y=alt.Y("lo:Q", title="Share still active", axis=alt.Axis(format="%")), y2="hi:Q")
st.altair_chart(band + band.mark_line().encode(y="mean:Q"), use_container_width=True)
band = alt.Chart(ttv).mark_area(opacity=0.3).encode(
    x=alt.X("week:Q", title="Week"), y=alt.Y("lo:Q", title="Median time-to-value (days)"), y2="hi:Q")
st.altair_chart(band + band.mark_line().encode(y="mean:Q"), use_container_width=True)
