"""The app in a real browser: charts drawn, a lever and Run, links restoring settings, downloads."""

from __future__ import annotations

import csv
import io
import re
import struct
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
from playwright.sync_api import expect

from app.compute import BAND_COLUMNS, KPI_COLUMNS
from app.figures import COMPARE_METRICS
from sim.report.charts import ALIGNMENT_HEIGHT, HEIGHT
from sim.scenarios import parse

from .helpers import (
    CHART,
    CHARTS_ON_SANDBOX,
    DRAWN_CHART,
    TILE,
    TIMEOUT_MS,
    choose,
    press_run,
    tile_value,
    tiles,
    wait_until_idle,
)

pytestmark = pytest.mark.e2e

# Enough replications to use the process pool, few enough to keep the tests quick.
QUERY = "?reps=12"


def _settled_plot_heights(page, charts: int) -> list[float]:
    """The plot-area heights of the charts on view, once two reads a moment apart agree (Vega
    sizes a chart to its container after the first draw)."""
    read = f"""() => [...document.querySelectorAll('{DRAWN_CHART}')]
        .filter(svg => svg.getBoundingClientRect().width > 0)
        .map(svg => svg.querySelector('path.background').getBBox().height)"""
    last = None
    for _ in range(40):
        now = page.evaluate(read)
        if len(now) == charts and now == last:
            return now
        last = now
        page.wait_for_timeout(250)
    raise AssertionError(f"the charts' plot areas did not settle: {last}")


def test_app_loads_with_charts_drawn(server_url, new_page):
    page = new_page()
    page.goto(server_url + "/" + QUERY)
    wait_until_idle(page)
    assert page.locator(DRAWN_CHART).count() == CHARTS_ON_SANDBOX
    shown = tiles(page)
    assert "52-week retention" in shown and shown["52-week retention"].endswith("%")
    # Every chart is an SVG with marks in it, not an empty frame.
    for svg in page.locator(DRAWN_CHART).all():
        assert svg.locator("path").count() > 0
    # Hovering a chart lights up the week under the pointer and shows every series' value there.
    plot = page.locator(DRAWN_CHART).first.locator("path.background").first
    plot.scroll_into_view_if_needed()
    box = plot.bounding_box()
    page.mouse.move(box["x"] + box["width"] * 0.3, box["y"] + box["height"] / 2)
    tooltip = page.locator("#vg-tooltip-element")
    expect(tooltip).to_be_visible(timeout=TIMEOUT_MS)
    expect(tooltip).to_contain_text("Customer age (weeks)")
    expect(tooltip).to_contain_text("%")
    lit = page.locator(f"{DRAWN_CHART} .hover_view_marks line:not([opacity='0'])")
    expect(lit).to_have_count(1)
    page.mouse.move(0, 0)
    page.get_by_role("tab", name="Delivery and governance").click()
    expect(page.locator(DRAWN_CHART)).to_have_count(5, timeout=TIMEOUT_MS)
    # Plot areas as drawn keep their declared heights, whatever their legends take.
    plots = _settled_plot_heights(page, charts=5)
    assert plots[0] == pytest.approx(ALIGNMENT_HEIGHT, abs=1)
    assert plots[1:] == pytest.approx([HEIGHT] * 4, abs=1)
    expect(page).to_have_url(re.compile(r"tab=delivery"))
    page.get_by_role("link", name="Compare").click()
    expect(page.get_by_role("heading", name="Compare scenarios")).to_be_visible()
    expect(page.locator(DRAWN_CHART)).to_have_count(8, timeout=TIMEOUT_MS)
    # Nor does the scenarios' legend on the Compare page.
    assert _settled_plot_heights(page, charts=8) == pytest.approx([HEIGHT] * 8, abs=1)


def test_a_lever_change_and_run_changes_a_kpi_and_a_new_page_restores_it(server_url, new_page):
    page = new_page()
    page.goto(server_url + "/" + QUERY)
    wait_until_idle(page)
    before = tile_value(page, "Mean alignment").inner_text()
    choose(page, "Product teams are paid on", "Local metric")
    choose(page, "Sales is paid on", "Local metric")
    press_run(page)
    expect(tile_value(page, "Mean alignment")).not_to_have_text(before, timeout=TIMEOUT_MS)
    wait_until_idle(page)
    assert float(tile_value(page, "Mean alignment").inner_text()) < float(before)
    expect(page).to_have_url(re.compile(r"incentives\.product=local_metric"))
    query = parse_qs(urlparse(page.url).query)
    assert query["incentives.product"] == ["local_metric"]
    assert query["incentives.sales"] == ["local_metric"]
    shown = tiles(page)
    # The link offered to copy is the page's address.
    page.get_by_role("button", name="Link to share").click()
    link = page.get_by_test_id("stCode").inner_text()
    assert link == page.url

    other = new_page()
    other.goto(link)
    wait_until_idle(other)
    assert tiles(other) == shown
    sales = other.get_by_role("combobox", name="Sales is paid on", exact=True)
    expect(sales).to_have_value("Local metric")
    assert other.get_by_role("heading", level=1).inner_text() == "Aligned baseline (modified)"


def test_the_last_runs_tiles_stay_in_place_while_a_lever_change_runs(server_url, new_page):
    """A lever change adds a line under the title ("Changed from ..."): the tiles and charts below
    keep their places, dimmed, under the progress bar, rather than some of them vanishing until the
    run is done."""
    page = new_page()
    page.goto(server_url + "/?reps=100&seed=61")  # enough replications to be seen running
    wait_until_idle(page)
    choose(page, "Product teams are paid on", "Local metric")
    page.get_by_role("button", name="Run", exact=True).click()
    expect(page.locator('[data-testid="stProgress"]')).to_be_visible(timeout=TIMEOUT_MS)
    assert page.locator(TILE).count() == 6
    assert page.locator(DRAWN_CHART).count() == CHARTS_ON_SANDBOX
    expect(page.get_by_text("Changed from Aligned baseline")).to_be_visible()
    wait_until_idle(page)
    expect(page.locator(TILE)).to_have_count(6)


def test_csv_downloads_have_the_expected_columns(server_url, new_page):
    """Each CSV, built when clicked, holds the pinned baseline's rows and the variant's."""
    page = new_page()
    page.goto(server_url + "/" + QUERY + "&incentives.marketing=mixed&base=aligned-baseline")
    wait_until_idle(page, charts=5)  # the Customers tab, with the retention difference
    for name, columns in (
        ("Weekly bands (CSV)", list(BAND_COLUMNS)),
        ("KPIs per replication (CSV)", list(KPI_COLUMNS)),
    ):
        with page.expect_download() as info:
            page.get_by_role("button", name=name).click()
        text = Path(info.value.path()).read_text(encoding="utf-8")
        rows = list(csv.reader(io.StringIO(text)))
        assert rows[0] == columns
        assert len(rows) > 12
        assert [r[:2] for r in (rows[1], rows[-1])] == [
            ["baseline", "Baseline: Aligned baseline"],
            ["variant", "Aligned baseline (modified)"],
        ]
    with page.expect_download() as info:
        page.get_by_role("button", name="Settings (scenario TOML)").click()
    # Named after the settings it holds, as the brief is, not "scenario.toml" for every file.
    assert info.value.suggested_filename == "aligned-baseline-modified.toml"
    toml = Path(info.value.path()).read_text(encoding="utf-8")
    assert 'marketing = "mixed"' in toml
    file = parse(toml)  # with the run it reproduces
    assert (file.seed, file.replications) == (1, 12)


def test_a_chart_downloads_as_an_image(server_url, new_page):
    """Each chart's toolbar saves it as a PNG image (for slides and reports)."""
    page = new_page()
    page.goto(server_url + "/" + QUERY)
    wait_until_idle(page)
    chart = page.locator(CHART).first
    chart.hover()
    with page.expect_download() as info:
        page.get_by_role("button", name="Download as PNG").first.click()
    data = Path(info.value.path()).read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])  # the IHDR chunk
    drawn = chart.locator("svg.marks").bounding_box()
    # The image is the drawn chart (titles and axes included), at least at its size on screen.
    assert width >= drawn["width"] - 1 and height >= drawn["height"] - 1
    assert height > HEIGHT


def test_a_bad_link_warns_and_the_page_works(server_url, new_page):
    page = new_page()
    page.goto(server_url + "/" + QUERY + "&reviews.council.interval_weeks=often")
    wait_until_idle(page)
    alert = page.locator('[data-testid="stAlert"]').filter(has_text="interval_weeks")
    expect(alert).to_be_visible()
    assert "reviews.council.interval_weeks" not in page.url


# Text Streamlit's Markdown would turn into links, an image, symbols, emphasis, code or a list.
UPLOADED_TITLE = "Plan A -> B :streamlit: *now*"
UPLOADED_DESCRIPTION = "See http://example.com, [docs](x) or :red[this]: a <= b -- c ~= d"
UPLOADED_NOTES = "Ask first: `which` _curve_?\n\n    indented\n1) one\n2) two <b>bold</b>"


def test_an_uploaded_files_title_description_and_notes_show_as_text(server_url, new_page, tmp_path):
    path = tmp_path / "workshop.toml"
    path.write_text(
        f"[scenario]\ntitle = '{UPLOADED_TITLE}'\ndescription = '{UPLOADED_DESCRIPTION}'\n"
        f"teaching_notes = '''{UPLOADED_NOTES}'''\n",
        encoding="utf-8",
    )
    page = new_page()
    page.goto(server_url + "/" + QUERY)
    wait_until_idle(page)
    page.get_by_text("Scenario file", exact=True).click()
    page.locator('input[type="file"]').set_input_files(str(path))
    heading = page.get_by_role("heading", level=1)
    expect(heading).to_contain_text("*now*", timeout=TIMEOUT_MS)  # word joiners inside
    page.get_by_text("Teaching notes", exact=True).click()
    main = page.locator('[data-testid="stMain"]')
    description = main.locator('[data-testid="stMarkdownContainer"]').filter(has_text="See http")
    notes = main.locator('[data-testid="stExpanderDetails"] [data-testid="stMarkdownContainer"]')
    expect(notes).to_contain_text("two")

    def shown(locator) -> str:
        return locator.inner_text().replace("\u2060", "")

    assert shown(heading) == UPLOADED_TITLE
    assert shown(description) == UPLOADED_DESCRIPTION
    assert shown(notes) == "Ask first: `which` _curve_?\n\nindented\n1) one\n2) two <b>bold</b>"
    # Nothing became markup: no link (but the heading's own anchor), image, emphasis, code or list.
    markup = "a:not([href^='#']), img, em, strong, code, pre, ol, ul, b, span[style]"
    for element in (heading, description, notes):
        assert element.locator(markup).count() == 0
    # The file's section stays open to say it was loaded.
    sidebar = page.locator('[data-testid="stSidebar"]')
    expect(sidebar.get_by_text("from workshop.toml.")).to_be_visible()


# Text cut short by its box: a KPI tile's label, value or P(better), or a chart legend's label.
CUT_SHORT = """() => {
  const cut = [...document.querySelectorAll(
      '[data-testid="stMetric"] [data-testid="stMetricValue"] div,'
      + ' [data-testid="stMetric"] [data-testid="stMetricLabel"] p,'
      + ' [data-testid="stMetric"] [data-testid="stMetricDeltaDescription"]')]
    .filter(e => e.scrollWidth > e.clientWidth + 1).map(e => e.textContent);
  for (const svg of document.querySelectorAll('[data-testid="stVegaLiteChart"] svg.marks')) {
    const right = svg.getBoundingClientRect().right;
    for (const t of svg.querySelectorAll('.role-legend-label text')) {
      if (t.textContent.endsWith('…') || t.getBoundingClientRect().right > right + 1) {
        cut.push(t.textContent);
      }
    }
  }
  return cut;
}"""


def test_a_narrow_window_cuts_no_kpi_or_legend_short(server_url, new_page):
    page = new_page(viewport=(800, 1000))
    page.goto(server_url + "/" + QUERY + "&scenario=drifting-incentives&base=aligned-baseline")
    wait_until_idle(page, charts=CHARTS_ON_SANDBOX + 1)  # the paired difference too
    assert len(tiles(page)) == 6
    assert page.evaluate(CUT_SHORT) == []
    scenarios = "aligned-baseline,pivot,drifting-incentives,sales-led-drift"
    page.goto(f"{server_url}/compare{QUERY}&scenarios={scenarios}")
    wait_until_idle(page, charts=8)
    assert page.evaluate(CUT_SHORT) == []
    legend = page.locator(f"{DRAWN_CHART} .role-legend-label text").all_text_contents()
    assert legend[:4] == ["Aligned baseline", "Pivot: the market moves", "Drifting incentives",
                          "Sales-led drift"]  # fmt: skip
    # A lesson's reveal: four tiles, the last a paired interval ("-439 points to -276 points").
    page.goto(f"{server_url}/learn{QUERY}&lesson=2-cost-of-meetings")
    page.get_by_text("falls", exact=True).first.click()
    page.get_by_role("button", name="Commit").first.click()
    wait_until_idle(page, charts=1)
    expect(page.locator(TILE)).to_have_count(4)
    assert page.evaluate(CUT_SHORT) == []


def test_tiles_keep_one_size_and_the_kpi_table_fits_beside_the_sidebar(server_url, new_page):
    """Detection lag's tile, whose change rests on one pair and is not shown, was shorter and
    narrower than the others in its row; on a 1366-px laptop with the sidebar open the KPI table
    scrolled sideways, its last columns cut short ("Better wh", "20% (from 5 of 100 replicat")."""
    page = new_page(viewport=(1366, 900))
    page.goto(server_url + "/" + QUERY + "&base=aligned-baseline&incentives.sales=local_metric")
    wait_until_idle(page, charts=CHARTS_ON_SANDBOX + 1)  # the paired difference too
    expect(tile_value(page, "Detection lag")).to_be_visible()
    rows: dict[int, list[tuple[float, float]]] = {}
    for tile in page.locator(TILE).all():
        box = tile.bounding_box()
        rows.setdefault(round(box["y"]), []).append((box["width"], box["height"]))
    assert len(rows) == 2, rows
    for row in rows.values():
        widths, heights = zip(*row, strict=True)
        assert max(heights) - min(heights) < 1 and max(widths) - min(widths) < 1, rows
    # The paired difference's signed axis writes its zero tick "0", not "+0.0".
    ticks = page.locator(f"{DRAWN_CHART} .role-axis-label text").all_text_contents()
    assert "+0.0" not in ticks and "+0" not in ticks and "0" in ticks, ticks
    page.get_by_role("tab", name="Data tables").click()
    scroller = page.locator('[data-testid="stDataFrame"] .dvn-scroller').first
    expect(scroller).to_be_visible()
    page.wait_for_timeout(1000)  # the grid sizes its columns to their contents once drawn
    overflow = scroller.evaluate("e => e.scrollWidth - e.clientWidth")
    assert overflow <= 1, f"the KPI table scrolls sideways by {overflow} px"


def test_the_pages_ask_nothing_of_the_internet(server_url, new_page):
    """A classroom without internet gets the whole app: every request stays on the app's server
    (the page icon came from fonts.gstatic.com)."""
    page = new_page()
    host = urlparse(server_url).netloc
    away = []
    page.on(
        "request",
        lambda r: (
            away.append(r.url)
            if urlparse(r.url).scheme in ("http", "https") and urlparse(r.url).netloc != host
            else None
        ),
    )
    page.goto(server_url + "/" + QUERY)
    wait_until_idle(page)
    for path in ("/learn", "/compare", "/explore"):
        page.goto(server_url + path + QUERY)
        expect(page.get_by_role("heading", level=1)).to_be_visible(timeout=TIMEOUT_MS)
    assert away == []
    icon = page.locator('link[rel="shortcut icon"], link[rel="icon"]').first.get_attribute("href")
    assert icon and not urlparse(icon).netloc.endswith("gstatic.com"), icon


def test_a_lever_edit_not_yet_run_survives_other_clicks(server_url, new_page):
    """The levers are applied together by Run: until then an edit stays in its box, whatever else
    reruns the page (a tab, the band)."""
    page = new_page()
    page.goto(server_url + "/" + QUERY)
    wait_until_idle(page)
    council = page.get_by_role("spinbutton", name="Product council every (weeks)")
    council.fill("2")
    page.get_by_role("tab", name="Delivery and governance").click()
    expect(page.get_by_role("tab", name="Delivery and governance", selected=True)).to_be_visible(
        timeout=TIMEOUT_MS
    )
    expect(page.locator('[data-testid="stStatusWidget"]')).to_have_count(0, timeout=TIMEOUT_MS)
    page.wait_for_timeout(500)
    assert council.input_value() == "2.0"


def test_enter_in_the_rename_field_retitles_the_page_and_its_link(server_url, new_page):
    """The title is typed in a form inside a popover: Enter submits it, as the field says."""
    page = new_page()
    page.goto(server_url + "/" + QUERY)
    wait_until_idle(page)
    tiles_before = tiles(page)
    page.get_by_role("button", name="Rename").click()
    field = page.get_by_label("Title", exact=True)
    field.fill("Q3 proposal: pay on outcomes")
    field.press("Enter")
    heading = page.get_by_role("heading", level=1)
    expect(heading).to_have_text("Q3 proposal: pay on outcomes", timeout=TIMEOUT_MS)
    wait_until_idle(page)
    assert parse_qs(urlparse(page.url).query)["title"] == ["Q3 proposal: pay on outcomes"]
    assert tiles(page) == tiles_before  # a title, not a new run


def test_on_a_laptop_screen_run_and_a_lever_error_stay_in_view(server_url, new_page):
    """At 1366 x 768 the lever form is about two screens long: Run stays at the foot of the
    sidebar as it scrolls, and an error about the levers shows above it, in view."""
    page = new_page(viewport=(1366, 768))
    page.goto(server_url + "/" + QUERY)
    wait_until_idle(page)
    run = page.get_by_role("button", name="Run", exact=True)

    def in_view(locator) -> bool:
        box = locator.bounding_box()
        return box is not None and box["y"] >= 0 and box["y"] + box["height"] <= 768

    assert in_view(run)
    council = page.get_by_role("spinbutton", name="Product council every (weeks)")
    council.fill("0.1")
    council.evaluate("e => e.closest('[data-testid=\"stSidebarContent\"]').scrollTo(0, 0)")
    assert in_view(run)
    press_run(page)
    error = page.get_by_text(re.compile(r"^Not run: Product council every \(weeks\) = 0\.1"))
    expect(error).to_be_visible(timeout=TIMEOUT_MS)
    page.get_by_role(
        "combobox", name="Product teams are paid on", exact=True
    ).scroll_into_view_if_needed()
    assert in_view(error) and in_view(run)
    page.mouse.move(700, 100)  # no tooltip in the screenshot kept as an artifact


def test_the_causal_diagram_fits_a_projector_screen_below_the_menu(server_url, new_page):
    """At 1280 x 720 the Learn page's diagram is seen whole, once scrolled to, under the menu."""
    page = new_page(viewport=(1280, 720))
    page.goto(server_url + "/learn")
    diagram = page.locator('[data-testid="stGraphVizChart"]')
    expect(diagram.locator("svg")).to_be_visible(timeout=TIMEOUT_MS)
    menu = page.locator('[data-testid="stHeader"]').bounding_box()
    box = diagram.bounding_box()
    assert menu is not None and box is not None
    assert box["height"] <= 720 - menu["height"], (box, menu)
    assert box["width"] >= 1000  # drawn across the page, not shrunk to make it fit
    diagram.scroll_into_view_if_needed()  # the screenshot kept as an artifact shows it whole


def test_a_scenario_picked_in_a_compare_legend_stands_out(server_url, new_page):
    """Four overlapping bands: clicking one scenario in a chart's legend fades the others' bands
    and lines; clicking beside the legend brings them all back."""
    page = new_page()
    names = "aligned-baseline,drifting-incentives,sales-led-drift,meeting-overload"
    page.goto(f"{server_url}/compare?scenarios={names}&reps=12")
    wait_until_idle(page, charts=1 + len(COMPARE_METRICS))
    chart = page.locator(CHART).nth(1)  # active customers
    chart.scroll_into_view_if_needed()
    opacities = f"""() => [...document.querySelectorAll('{DRAWN_CHART}')[1]
        .querySelectorAll('g.mark-area path, g.mark-line path')]
        .map(p => Number(p.getAttribute('opacity') ?? 1))"""
    every = page.evaluate(opacities)
    assert len(every) == 8 and every == [0.22, 1, 0.22, 1, 0.22, 1, 0.22, 1]
    labels = chart.locator("g.role-legend-label text")
    assert [labels.nth(i).text_content() for i in range(4)][2] == "Sales-led drift"
    labels.nth(2).click()
    page.wait_for_function(f"() => ({opacities})()[1] < 1")
    picked = page.evaluate(opacities)
    assert picked[4:6] == [0.22, 1]  # the third scenario's band and line
    assert all(o < 0.3 for i, o in enumerate(picked) if i not in (4, 5))
    labels.nth(0).click(modifiers=["Shift"])
    page.wait_for_function(f"() => ({opacities})()[1] === 1")
    assert page.evaluate(opacities)[:2] == [0.22, 1] and page.evaluate(opacities)[2:4] != [0.22, 1]
    box = chart.locator("svg.marks").bounding_box()
    page.mouse.click(box["x"] + box["width"] - 10, box["y"] + 30)  # beside the legend
    page.wait_for_function(f"() => ({opacities})().every((o, i) => o === (i % 2 ? 1 : 0.22))")
    assert page.locator('[data-testid="stException"]').count() == 0


# Every running transition that draws frames (a duration above zero), as "property on element",
# gathered every 50 ms from a click on; and whether any output was seen marked stale meanwhile.
WATCH_FADES = """() => {
  window.__fades = new Set();
  window.__staleSeen = false;
  window.__watch = setInterval(() => {
    if (document.querySelector('[data-stale="true"]')) window.__staleSeen = true;
    for (const a of document.getAnimations()) {
      if (a instanceof CSSTransition && a.effect.getTiming().duration > 0) {
        const near = a.effect.target.closest('[data-testid]');
        window.__fades.add(a.transitionProperty + ' on ' + (near ? near.dataset.testid : '?'));
      }
    }
  }, 50);
}"""
STOP_WATCHING = (
    "() => { clearInterval(window.__watch); return [[...window.__fades], window.__staleSeen]; }"
)


def test_outputs_being_replaced_dim_without_a_fade(server_url, new_page):
    """With no GPU the browser draws every frame of a fade on the cores the simulation runs on, so
    while a run goes nothing fades: the outputs it replaces dim in one step, as does the bar."""
    page = new_page()
    page.goto(server_url + "/" + QUERY)
    wait_until_idle(page)
    before = tile_value(page, "Mean alignment").inner_text()
    choose(page, "Product teams are paid on", "Local metric")
    page.evaluate(WATCH_FADES)
    press_run(page)
    expect(tile_value(page, "Mean alignment")).not_to_have_text(before, timeout=TIMEOUT_MS)
    wait_until_idle(page)
    fades, stale_seen = page.evaluate(STOP_WATCHING)
    assert stale_seen  # the watch covered the rerun
    assert fades == []
