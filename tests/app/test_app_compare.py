"""The Compare page under AppTest."""

from __future__ import annotations

import html
import json

from streamlit.testing.v1 import AppTest

from app.state import preset_setup
from sim.outcomes import KPIS
from sim.params import default_params, with_overrides
from sim.report.charts import BASELINE_COLOR, VARIANT_COLOR
from sim.report.format import fmt_delta, is_missing, too_few_pairs
from sim.runner import compare, run_many

from .helpers import APP, FAST_REPS, assert_clean, texts


def open_compare(query: dict | None = None) -> AppTest:
    """A session opened on the Compare page with these query parameters (small runs)."""
    return open_compare_first({"reps": FAST_REPS, **(query or {})})


def open_compare_first(query: dict) -> AppTest:
    """A session whose link points at the Compare page from the start."""
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params.update(query)
    at.switch_page("app/pages/compare.py")
    return at.run()


def saved_then_compare() -> AppTest:
    """A session that changed a lever, ran, saved the settings and opened the Compare page."""
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params.update({"reps": FAST_REPS})
    at.run()
    at.number_input(key="lever.reviews.council.interval_weeks").set_value(2.0)
    at.button(key="sb.run").click().run()
    at.button(key="sb.save").click().run()
    return at.switch_page("app/pages/compare.py").run()


def kpi_columns(at: AppTest) -> list[str]:
    return list(at.dataframe[0].value.columns)


def test_compare_shows_two_presets_side_by_side():
    at = open_compare()
    assert_clean(at)
    assert at.title[0].value == "Compare scenarios"
    assert kpi_columns(at) == ["KPI", "Better when", "Aligned baseline", "Drifting incentives"]
    pairs = at.table[-1].value
    assert list(pairs.columns) == ["KPI", "Drifting incentives − Aligned baseline"]
    row = pairs.set_index("KPI").loc["Mean alignment"].iloc[0]
    assert row.startswith("−") and "P(better) 0%" in row
    # Each cell: the mean paired difference, its 90% interval of paired runs and P(better), and
    # "not clear" where that interval holds zero, as the engine's paired comparison gives them.
    base, variant = (
        with_overrides(default_params(), preset_setup(n).overrides)
        for n in ("aligned-baseline", "drifting-incentives")
    )
    table = compare(run_many(base, int(FAST_REPS), 1), run_many(variant, int(FAST_REPS), 1)).kpis()
    shown = pairs.set_index("KPI").iloc[:, 0]
    for _, c in table.iterrows():
        kpi = KPIS[c["kpi"]]
        cell = shown.loc[kpi.label]
        if is_missing(c["diff_mean"]):
            assert cell == "n/a"
            continue
        if too_few_pairs(c):
            assert cell == f"n/a ({too_few_pairs(c)})"
            continue
        lo, hi = fmt_delta(c["diff_p05"], kpi.unit), fmt_delta(c["diff_p95"], kpi.unit)
        mean = fmt_delta(c["diff_mean"], kpi.unit)
        # The interval says its unit once: "−3.2 points (−4.3 to −2.4 points)".
        interval = f"{lo.partition(' ')[0] if lo.partition(' ')[2] == hi.partition(' ')[2] else lo} to {hi}"
        assert cell.startswith(mean if lo == hi == mean else f"{mean} ({interval})"), cell
        holds_zero = c["diff_p05"] <= 0 <= c["diff_p95"]
        nothing = c["diff_p05"] == c["diff_p95"] == 0  # the same in every pair: not "unclear"
        assert cell.endswith(" · not clear") == (holds_zero and not nothing), cell
    # Retention by age plus seven weekly curves, every one overlaid.
    assert len(at.get("vega_lite_chart")) == 8
    # The reference in grey and the other in blue, as the Sandbox draws a baseline and a variant.
    spec = json.loads(at.get("vega_lite_chart")[0].proto.spec)
    scales = [layer["encoding"]["color"]["scale"] for layer in spec["layer"]
              if "scale" in layer.get("encoding", {}).get("color", {})]  # fmt: skip
    assert scales and all(
        dict(zip(c["domain"], c["range"], strict=True))
        == {"Aligned baseline": BASELINE_COLOR, "Drifting incentives": VARIANT_COLOR}
        for c in scales
    ), scales
    assert at.query_params["scenarios"] == "aligned-baseline,drifting-incentives"


def test_changing_the_selection_and_comparing_updates_the_table():
    at = open_compare()
    at.multiselect(key="cmp.names").set_value(["pivot", "demand-shock", "meeting-overload"])
    at.button(key="cmp.run").click().run()
    assert_clean(at)
    assert kpi_columns(at)[2:] == ["Pivot: the market moves", "Demand shock", "Meeting overload"]
    assert at.query_params["scenarios"] == "pivot,demand-shock,meeting-overload"


def test_fewer_than_two_is_refused_and_the_comparison_stays():
    at = open_compare()
    before = kpi_columns(at)
    at.multiselect(key="cmp.names").set_value(["pivot"])
    at.button(key="cmp.run").click().run()
    assert_clean(at)
    assert any("at least two" in e for e in texts(at.error))
    assert kpi_columns(at) == before


def test_query_parameters_restore_the_comparison():
    at = open_compare_first(
        {"scenarios": "sales-led-drift,centralised-decisions", "reps": FAST_REPS, "seed": "5"}
    )
    assert_clean(at)
    assert at.multiselect(key="cmp.names").value == ["sales-led-drift", "centralised-decisions"]
    assert at.number_input(key="cmp.seed").value == 5
    assert kpi_columns(at)[2:] == ["Sales-led drift", "Centralised decisions"]


def test_bad_query_parameters_warn_and_the_page_works():
    query = {
        "scenarios": "pivot,nope," + "x" * 300,
        "reps": "many",
        "colour": "red",
    }
    at = open_compare_first(query)
    assert_clean(at)
    warnings = " ".join(texts(at.warning))
    for named in ("scenarios", "reps", "colour", "nope", "xxxxxxxx"):
        assert named in warnings, warnings
    assert len(kpi_columns(at)) == 4  # fell back to the two default presets
    assert len(at.get("vega_lite_chart")) == 8


def test_saved_sandbox_settings_can_be_compared():
    at = saved_then_compare()
    options = at.multiselect(key="cmp.names").options
    assert "Saved: Aligned baseline (modified)" in options
    assert "Sandbox: current settings" in options
    at.multiselect(key="cmp.names").set_value(
        ["aligned-baseline", "saved:Aligned baseline (modified)"]
    )
    at.button(key="cmp.run").click().run()
    assert_clean(at)
    assert kpi_columns(at)[2:] == ["Aligned baseline", "Saved: Aligned baseline (modified)"]


def test_the_link_restores_saved_settings_in_a_new_session():
    at = saved_then_compare()
    at.multiselect(key="cmp.names").set_value(["saved:Aligned baseline (modified)", "pivot"])
    at.button(key="cmp.run").click().run()
    query = {k: at.query_params[k] for k in at.query_params}
    assert query["scenarios"] == "aligned-baseline,pivot"
    assert query["s1.reviews.council.interval_weeks"] == "2"

    fresh = open_compare_first(query)
    assert_clean(fresh)
    assert not fresh.warning
    assert fresh.multiselect(key="cmp.names").value == [
        "saved:Aligned baseline (modified)",
        "pivot",
    ]
    assert fresh.dataframe[0].value.equals(at.dataframe[0].value)
    assert fresh.table[-1].value.equals(at.table[-1].value)  # the paired differences


def test_titles_from_a_link_show_as_plain_text():
    title = "[prize](http://example.com) **now**"
    at = open_compare_first(
        {"scenarios": "custom,pivot", "s1.title": title, "s1.org.wip_limit_per_team": "4"}
    )
    assert_clean(at)
    assert kpi_columns(at)[2] == "Saved: " + title
    raw = " ".join(c.value for c in at.caption)
    assert "[prize](" not in raw and "http://" not in raw and "**now**" not in raw
    assert any(title in t for t in texts(at.caption))
    # The settings table's headings are Markdown too: the title is escaped there.
    heading = list(at.table[0].value.columns)[1]
    assert "[prize](" not in heading and "http://" not in heading and "**now**" not in heading
    # And the paired differences' headings (the scenarios after the first) show it as written.
    at = open_compare_first(
        {"scenarios": "pivot,custom", "s2.title": title, "s2.org.wip_limit_per_team": "4"}
    )
    headings = " ".join(at.table[-1].value.columns)
    assert "[prize](" not in headings and "**now**" not in headings
    assert title in html.unescape(headings).replace("\u2060", "")


def test_saving_other_settings_under_a_taken_title_keeps_both():
    at = saved_then_compare().switch_page("app/pages/sandbox.py").run()
    at.button(key="sb.save").click().run()  # the same settings again: kept once
    assert list(at.session_state["sb.saved"]) == ["Aligned baseline (modified)"]
    at.number_input(key="lever.reviews.council.interval_weeks").set_value(8.0)
    at.button(key="sb.run").click().run()
    at.button(key="sb.save").click().run()
    assert_clean(at)
    saved = at.session_state["sb.saved"]
    assert list(saved) == ["Aligned baseline (modified)", "Aligned baseline (modified) (2)"]
    intervals = [s["overrides"]["reviews.council.interval_weeks"] for s in saved.values()]
    assert intervals == [2.0, 8.0]
    note = "Saved “Aligned baseline (modified) (2)” for the Compare page."
    assert texts(at.toast) == [note]


def test_settings_are_saved_under_the_name_typed_cleaned_as_a_title():
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params.update({"reps": FAST_REPS})
    at.run()
    at.number_input(key="lever.reviews.council.interval_weeks").set_value(2.0)
    at.button(key="sb.run").click().run()
    at.text_input(key="sb.save_name").input("  =Fortnightly   council ")  # in a form
    at.button(key="sb.save").click().run()
    assert_clean(at)
    saved = at.session_state["sb.saved"]
    # A formula start and runs of spaces go, as in any scenario title.
    assert list(saved) == ["Fortnightly council"]
    assert saved["Fortnightly council"]["overrides"] == {"reviews.council.interval_weeks": 2.0}
    assert texts(at.toast) == ["Saved “Fortnightly council” for the Compare page."]
    assert at.text_input(key="sb.save_name").value == ""  # ready for the next name
    # A name with nothing a title can keep falls back to the settings' title, and says so.
    at.text_input(key="sb.save_name").input("===")
    at.button(key="sb.save").click().run()
    assert list(at.session_state["sb.saved"]) == [
        "Fortnightly council",
        "Aligned baseline (modified)",
    ]
    assert "settings' own title was used" in texts(at.toast)[0]
    at.switch_page("app/pages/compare.py").run()
    options = at.multiselect(key="cmp.names").options
    assert any("Fortnightly council" in o for o in options)


def test_the_settings_each_scenario_changed_are_listed_side_by_side():
    at = open_compare()
    assert_clean(at)
    table = at.table[0].value.set_index("Setting")
    assert list(table.columns) == ["Aligned baseline", "Drifting incentives"]
    assert table.loc["Sales is paid on"].tolist() == ["Shared outcome", "Local metric"]
    assert "Product council every (weeks)" not in table.index  # the same in both, the default
    saved = saved_then_compare()
    saved.multiselect(key="cmp.names").set_value(["aligned-baseline", saved.multiselect(
        key="cmp.names").options[-1]])  # fmt: skip
    saved.button(key="cmp.run").click().run()
    assert_clean(saved)
    council = saved.table[0].value.set_index("Setting").loc["Product council every (weeks)"]
    assert council.tolist() == ["4", "2"]


def test_replications_out_of_range_are_named_and_the_comparison_kept():
    at = open_compare()
    before = [df.value.to_dict() for df in at.dataframe]
    at.number_input(key="cmp.reps").set_value(2000)
    at.button(key="cmp.run").click().run()
    assert_clean(at)
    assert texts(at.error) == [
        "Not compared: Replications = 2,000 is out of range: a whole number from 1 to 1,000. "
        "The previous comparison is shown."
    ]
    assert [df.value.to_dict() for df in at.dataframe] == before


def test_opened_from_the_sandbox_with_a_pinned_baseline_it_compares_that_with_the_variant():
    """A leader pins a baseline, changes a lever and runs, then opens Compare: the comparison
    starts from those two, on the Sandbox's seed and replications."""
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params.update({"reps": FAST_REPS, "seed": "7"})
    at.run()
    at.button(key="sb.pin").click().run()
    at.selectbox(key="lever.incentives.sales").set_value("local_metric")
    at.button(key="sb.run").click().run()
    at.switch_page("app/pages/compare.py").run()
    assert_clean(at)
    assert at.multiselect[0].value == ["sandbox:baseline", "sandbox:current"]
    assert kpi_columns(at) == [
        "KPI",
        "Better when",
        "Sandbox: pinned baseline",
        "Sandbox: current settings",
    ]
    assert f"{FAST_REPS} replications · seed 7" in " ".join(texts(at.caption))
    settings = at.table[0].value
    assert "Sales is paid on" in " ".join(settings.iloc[:, 0].astype(str))
    # The page's link carries both, so the comparison can be shared.
    assert at.query_params["s2.incentives.sales"] == "local_metric"
    assert "s1.incentives.sales" not in at.query_params


def test_opened_from_the_sandbox_without_a_change_it_starts_from_the_presets():
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params.update({"reps": FAST_REPS})
    at.run()
    at.button(key="sb.pin").click().run()
    at.switch_page("app/pages/compare.py").run()
    assert_clean(at)
    assert kpi_columns(at) == ["KPI", "Better when", "Aligned baseline", "Drifting incentives"]
