"""The decision brief: self-contained, complete, escaped, and its link restores the run."""

import dataclasses
import html
import math
import re
from urllib.parse import parse_qs, urlsplit

import numpy as np
import pytest

from app.state import decode_sandbox
from sim.cli import main
from sim.outcomes import KPI_NAMES, KPIS
from sim.params import info, with_overrides
from sim.report.brief import _kpi_rows, render
from sim.report.format import CURVE_VS_KPI
from sim.report.links import app_link, run_query
from sim.runner import compare, run_many
from sim.scenarios import load_preset

HORIZON = {"horizon_weeks": 60}


@pytest.fixture(scope="module")
def pair():
    base_p = with_overrides(load_preset("aligned-baseline").params, HORIZON)
    var_p = with_overrides(load_preset("sales-led-drift").params, HORIZON)
    base = run_many(base_p, replications=4, seed=3)
    var = run_many(var_p, replications=4, seed=3)
    query = run_query("sales-led-drift", var_p, 3, 4, baseline=("aligned-baseline", base_p))
    link = app_link("http://localhost:8501", query)
    page = render(
        base,
        var,
        base_title="Aligned <b>baseline</b>",
        variant_title="Sales & co",
        link=link,
        command="python -m sim brief a b",
    )
    return base, var, link, page


def test_brief_has_summary_kpis_charts_settings_and_reproduction(pair):
    page = pair[3]
    assert page.startswith("<!DOCTYPE html>")
    for k in KPIS.values():
        assert k.label.replace("&", "&amp;") in page
    assert page.count("<svg") == 6 and page.count("<figcaption>") == 6
    # Value is drawn to date, ending at the table's value delivered for each side.
    base, var = pair[0], pair[1]
    ends = [f"{r.kpi_summary()['value_delivered']['mean']:,.0f} points" for r in (base, var)]
    assert (
        f"Value delivered to date, by the end of week 59: {ends[0]} for the baseline and "
        f"{ends[1]} for the proposal"
    ) in page
    # Why the curve at 52 weeks need not read as the table's 52-week retention.
    assert html.escape(CURVE_VS_KPI) in page
    # Four paired runs are too few for an interval or odds: the sentence gives the levels only.
    lead = page.split('<p class="lead">')[1].split("</p>")[0]
    assert re.match(r"The proposal gives 52-week retention \d+\.\d% against \d+\.\d%", lead)
    assert lead.endswith("; from 4 paired runs, too few to call a difference a change.")
    assert "90% interval" not in lead
    # The setting that differs, by its description first, then the key a scenario file uses.
    sales = info("incentives.sales")
    # Each setting by name (which function, which review), what it means, then its key.
    assert (
        f"<td><strong>Sales&#x27; incentive</strong><br>{html.escape(sales.doc)}<br><small>"
        "<code>incentives.sales</code>"
    ) in page
    assert "Seed 3 · 4 paired replications · 60 weeks" in page
    assert "python -m sim brief a b" in page


def test_brief_references_nothing_on_the_network(pair):
    _, _, link, page = pair
    assert "<script" not in page.lower() and "<link" not in page.lower()
    # url(...) only for the SVG's own clip paths (a fragment of the page itself).
    assert "@import" not in page and re.findall(r"url\((?!#)", page) == []
    assert re.findall(r"\ssrc\s*=", page) == []
    hrefs = re.findall(r'href="([^"]*)"', page)
    assert hrefs == [
        link.replace("&", "&amp;")
    ]  # the only link is the anchor that restores the run
    # Every other http(s) string is an SVG namespace, not a resource.
    others = set(re.findall(r"https?://[^\s\"'<>]+", page)) - {link.replace("&", "&amp;")}
    assert others <= {"http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink"}


def test_brief_escapes_user_text(pair):
    page = pair[3]
    assert "Aligned &lt;b&gt;baseline&lt;/b&gt;" in page and "<b>baseline" not in page
    assert "Sales &amp; co" in page


def test_restore_link_decodes_to_the_same_runs(pair):
    base, var, link, _ = pair
    query = {k: v[-1] for k, v in parse_qs(urlsplit(link).query).items()}
    state, warnings = decode_sandbox(query)
    assert warnings == []
    assert state.variant.params == var.params and state.baseline.params == base.params
    assert (state.seed, state.replications) == (3, 4)


def test_cli_writes_a_brief_and_rejects_bad_output(tmp_path, capsys):
    out = tmp_path / "brief.html"
    code = main(
        [
            "brief",
            "aligned-baseline",
            "aligned-baseline",
            "-n",
            "3",
            "--weeks",
            "30",
            "--set",
            "reviews.council.interval_weeks=2",
            "--out",
            str(out),
            "--quiet",
        ]
    )
    assert code == 0
    page = out.read_text()
    assert "reviews.council.interval_weeks=2" in page and "Decision brief" in page
    assert main(["brief", "pivot", "pivot", "--out", str(tmp_path / "b.pdf")]) == 2
    assert main(["brief", "pivot", "pivot", "--app-url", "javascript:alert(1)"]) == 2
    err = capsys.readouterr().err
    assert "--out" in err and "--app-url" in err and "Traceback" not in err


def test_why_sentence_attributes_the_difference_and_reaches_the_brief():
    from sim.explore import why

    base_p = with_overrides(load_preset("aligned-baseline").params, HORIZON)
    one = with_overrides(base_p, {"incentives.sales": "local_metric"})
    assert why(base_p, one, "value_delivered", replications=3, seed=1).text.startswith(
        "Sales' incentive is the only setting"
    )
    three = with_overrides(
        base_p,
        {
            "incentives.sales": "local_metric",
            "incentives.product": "local_metric",
            "reviews.council.interval_weeks": 8.0,
        },
    )
    found = why(base_p, three, "value_delivered", replications=3, seed=1)
    assert found.levers == 3 and found.replications == 3 and "value delivered" in found.text
    grouped = why(base_p, three, "value_delivered", replications=3, seed=1, by="group")
    assert grouped.levers == 2  # incentives together, the council alone
    assert why(base_p, base_p, "value_delivered", replications=3, seed=1).text is None
    # Too many settings to split one by one: related ones are split together.
    grouped_up = why(base_p, three, "value_delivered", replications=3, seed=1, max_levers=2)
    assert grouped_up.levers == 2 and grouped_up.by == "group"
    assert grouped_up.text == grouped.text
    many = why(base_p, three, "value_delivered", replications=3, seed=1, max_levers=1)
    assert many.text is None and "2 groups of settings changed" in many.reason
    assert "at most 1" in many.reason
    base = run_many(base_p, replications=3, seed=1)
    var = run_many(three, replications=3, seed=1)
    page = render(
        base, var, base_title="A", variant_title="B", link=None, command="c", why=found.text
    )
    assert "Why: " in page
    # Where its numbers come from, when the attribution ran on fewer replications than the brief.
    note = (
        "The “why” shares the difference out among the 3 changed settings (Shapley attribution), "
        "from 2 paired replications"
    )
    noted = render(
        base, var, base_title="A", variant_title="B", link=None, command="c", why=found.text,
        why_note=note,
    )  # fmt: skip
    assert note in noted and note not in page
    bare = render(
        base, var, base_title="A", variant_title="B", link=None, command="c", why_note=note
    )
    assert note not in bare  # no why, nothing to source


def test_a_brief_beyond_the_apps_limits_says_no_link_restores_it(tmp_path):
    out = tmp_path / "brief.html"
    args = ["brief", "aligned-baseline", "aligned-baseline", "-n", "2", "--weeks", "20"]
    args += ["--quiet", "--out", str(out)]
    assert main([*args, "--seed", str(3_000_000_000)]) == 0
    page = out.read_text()
    assert "No link restores this run in the app: its seed, 3,000,000,000, is beyond" in page
    assert "seed=3000000000" not in page  # no link that the app would refuse
    assert "--seed 3000000000" in page  # the command line reproduces it


def test_key_results_say_how_many_replications_a_partial_kpi_rests_on(pair):
    """Detection lag exists only where a team drifted: the table says how many replications each
    run's value, and the paired difference, come from."""
    base, var = pair[0], pair[1]
    j = KPI_NAMES.index("detection_lag_days")
    lags = base.kpi_values.copy()
    lags[:, j] = [5.0, math.nan, 7.0, math.nan]  # the baseline drifted in two of four
    assert np.isfinite(var.kpi_values[:, j]).all()
    rows = {r[0]: r for r in _kpi_rows(dataclasses.replace(base, kpi_values=lags), var)}
    _, baseline, proposal, difference, _ = rows["Detection lag"]
    # Two values are too few for a mean (as in the app's tiles and tables).
    assert baseline == "n/a (only 2 of 4 replications have a value)"
    assert "replications" not in proposal  # from all four
    assert difference == "2 pairs: too few to compare"  # as in the tiles: no change shown
    assert "replications" not in rows["52-week retention"][3]


def test_the_briefs_table_shows_no_change_from_too_few_pairs():
    from sim.report.format import MIN_PAIRS

    base = run_many(load_preset("aligned-baseline").params, replications=20, seed=1)
    var = run_many(load_preset("drifting-incentives").params, replications=20, seed=1)
    row = compare(base, var).kpis().set_index("kpi").loc["detection_lag_days"]
    assert 0 < row["pairs"] < MIN_PAIRS  # drift is caught in both runs of only a few pairs
    lag = next(r for r in _kpi_rows(base, var) if r[0] == "Detection lag")
    assert lag[3].endswith("too few to compare") and lag[4] == "—"


def test_the_briefs_head_names_proposal_and_baseline_without_nested_brackets(pair):
    base, var = pair[0], pair[1]
    page = render(
        base, var, base_title="Aligned baseline", variant_title="Drifting incentives (modified)",
        link=None, command="c",
    )  # fmt: skip
    assert "Proposal: Drifting incentives (modified) · baseline: Aligned baseline" in page
    assert "(modified) (" not in page
    assert re.search(
        r'<p class="lead">The proposal (lowers|raises|leaves|lengthens|shortens|gives)', page
    )


def test_the_briefs_ranges_read_as_the_apps_do():
    """Meeting overhead, the same in every replication, read "4.0% (4.0% to 4.0%)" and "+1.2 points
    (+1.2 points to +1.2 points)" in the brief, where the app writes one value and the unit once."""
    from sim.params import with_overrides

    b = with_overrides(load_preset("aligned-baseline").params, {"horizon_weeks": 52})
    v = with_overrides(
        load_preset("drifting-incentives").params,
        {"horizon_weeks": 52, "reviews.council.interval_weeks": 2},
    )
    rows = {r[0]: r for r in _kpi_rows(run_many(b, 12, 1), run_many(v, 12, 1))}
    _, base, proposal, change, _ = rows["Meeting overhead"]
    assert (base, proposal, change) == ("4.0% (4.0%)", "5.2% (5.2%)", "+1.2 points (+1.2 points)")
    days = rows["Median time-to-value"]
    assert re.fullmatch(r"\d+\.\d days \(\d+\.\d to \d+\.\d days\)", days[1]), days
    assert re.fullmatch(r"\+\d\.\d days \(\+\d\.\d to \+\d\.\d days\)", days[3]), days
