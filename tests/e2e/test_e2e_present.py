"""Presentation mode on a projector-sized window, and the decision brief, in a real browser."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
from playwright.sync_api import Page, expect

from .conftest import ARTIFACTS
from .helpers import DRAWN_CHART, RUNNING, TILE, TIMEOUT_MS, wait_until_idle

pytestmark = pytest.mark.e2e

PROJECTOR = (1920, 1080)
QUERY = "?present=1&scenario=drifting-incentives&base=aligned-baseline&reps=12"
THREE = ("52-week retention", "Median time-to-value", "Value delivered")


def open_presentation(page: Page, server_url: str) -> None:
    """Open the presentation link and wait until its tiles, paragraph and charts are drawn."""
    page.goto(server_url + "/" + QUERY)
    expect(page.locator(TILE)).to_have_count(3, timeout=TIMEOUT_MS)
    expect(page.get_by_text(re.compile(r"^Why: "))).to_be_visible(timeout=TIMEOUT_MS)
    expect(page.locator(DRAWN_CHART)).to_have_count(4, timeout=TIMEOUT_MS)
    expect(page.locator(RUNNING)).to_have_count(0, timeout=TIMEOUT_MS)


def font_px(locator) -> float:
    return float(locator.evaluate("e => parseFloat(getComputedStyle(e).fontSize)"))


def test_a_present_link_on_a_projector_shows_three_large_tiles(server_url, new_page):
    page = new_page(PROJECTOR)
    open_presentation(page, server_url)
    # No clutter: the sidebar of levers is hidden, and there are no tabs of charts and tables.
    expect(page.locator('[data-testid="stSidebar"]')).to_be_hidden()
    expect(page.get_by_role("tab")).to_have_count(0)
    expect(page.get_by_role("button", name="Run", exact=True)).to_have_count(0)
    title = page.get_by_role("heading", level=1)
    expect(title).to_have_text("Drifting incentives")
    assert font_px(title) >= 40
    for label in THREE:
        heading = page.get_by_role("heading", name=label, exact=True)
        expect(heading).to_be_visible()
        assert font_px(heading) >= 22
    tiles = page.locator(TILE)
    for i in range(3):
        tile = tiles.nth(i)
        expect(tile).to_be_in_viewport()
        box = tile.bounding_box()
        assert box is not None and box["y"] + box["height"] <= PROJECTOR[1]
        value = tile.locator('[data-testid="stMetricValue"]')
        assert font_px(value) >= 48  # 36 px on the Sandbox
        delta = tile.locator('[data-testid="stMetricDelta"]')
        expect(delta).to_be_visible()
        assert font_px(delta) >= 20  # 14 px on the Sandbox
    # The charts' axis labels are read from across the room too (12 px on the Sandbox).
    for i in range(2):
        labels = page.locator(DRAWN_CHART).nth(i).locator(".role-axis-label text")
        assert labels.count() >= 10
        assert min(font_px(labels.nth(j)) for j in range(labels.count())) >= 16
    paragraph = page.get_by_role("heading", name=re.compile(r"^The proposal lowers"))
    expect(paragraph).to_be_visible()
    assert font_px(paragraph) >= 22
    assert "present=1" in page.url
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "presentation-1920x1080.png"))


def test_the_decision_brief_downloads_self_contained(server_url, new_page):
    page = new_page(PROJECTOR)
    open_presentation(page, server_url)
    with page.expect_download(timeout=TIMEOUT_MS) as info:
        page.get_by_role("button", name="Download decision brief").click()
    assert info.value.suggested_filename == "decision-brief-drifting-incentives.html"
    html = Path(info.value.path()).read_text(encoding="utf-8")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "decision_brief.html").write_text(html, encoding="utf-8")
    assert html.count("<svg") >= 4
    for label in (*THREE, "Mean alignment"):
        assert label in html
    assert "Drifting incentives" in html and "Aligned baseline" in html
    # Nothing is loaded from elsewhere: no scripts, no sources, no stylesheets.
    lower = html.lower()
    assert "<script" not in lower and "src=" not in lower and "<link" not in lower
    # The only reference is the link that restores the run.
    hrefs = re.findall(r'href="([^"]*)"', html)
    assert len(hrefs) == 1
    link = hrefs[0].replace("&amp;", "&")
    assert link.startswith(server_url + "/?")
    query = parse_qs(urlparse(link).query)
    assert query["scenario"] == ["drifting-incentives"]
    assert query["base"] == ["aligned-baseline"]
    assert query["reps"] == ["12"]
    assert "python -m sim brief aligned-baseline drifting-incentives --seed 1" in html

    # The link restores the run: the same KPIs on a fresh page.
    other = new_page()
    other.goto(link)
    expect(other.get_by_role("heading", level=1)).to_have_text("Drifting incentives")
    expect(other.locator(TILE)).to_have_count(6, timeout=TIMEOUT_MS)
    expect(other.get_by_text(re.compile(r"^Baseline: Aligned baseline"))).to_be_visible()


def test_switching_presentation_mode_on_and_off_keeps_every_setting(server_url, new_page):
    """On a 1366-pixel projector: switched on from the Sandbox, the sidebar goes and the tiles'
    numbers fit; switched off, the levers and display options are as they were (the browser used
    to bring them back at their defaults: the council at 0.5 weeks, the band at 50%), a lever
    edited but not yet run included: presentation mode shows the last run, and the edit waits."""
    page = new_page((1366, 768))
    page.goto(server_url + "/?scenario=drifting-incentives&base=aligned-baseline&reps=12&band=80")
    wait_until_idle(page, charts=5)  # the Customers tab, with the retention difference
    council = "Product council every (weeks)"
    assert page.get_by_role("spinbutton", name=council).input_value() == "4.0"
    drift = page.get_by_role("spinbutton", name="Drift rate (per week)")
    ran = drift.input_value()
    drift.fill("0.150")  # not run
    drift.press("Tab")
    before = _controls(page)
    assert before["Drift rate (per week)"] == "0.150" != ran
    page.get_by_text("Presentation mode", exact=True).click()
    expect(page.locator(TILE)).to_have_count(3, timeout=TIMEOUT_MS)
    expect(page.locator(DRAWN_CHART)).to_have_count(4, timeout=TIMEOUT_MS)
    expect(page.locator(RUNNING)).to_have_count(0, timeout=TIMEOUT_MS)
    expect(page.locator('[data-testid="stSidebar"]')).to_be_hidden()
    for value in page.locator('[data-testid="stMetricValue"] div').all():
        text = value.inner_text()
        assert value.evaluate("e => e.scrollWidth <= e.clientWidth"), f"{text!r} is cut short"
    assert page.locator('[data-testid="stMetricValue"]').nth(2).inner_text().endswith(" points")
    # The last run is what is presented: the edit has not changed the settings' title or link.
    expect(page.get_by_role("heading", level=1)).to_have_text("Drifting incentives")
    assert set(parse_qs(urlparse(page.url).query)) == {
        "scenario",
        "base",
        "reps",
        "band",
        "present",
    }
    page.screenshot(path=str(ARTIFACTS / "presentation-1366x768.png"))
    page.get_by_text("Presentation mode", exact=True).click()
    wait_until_idle(page, charts=5)  # the Customers tab, with the retention difference
    expect(page.locator('[data-testid="stSidebar"]')).to_be_visible()
    assert page.get_by_role("spinbutton", name=council).input_value() == "4.0"
    band = page.get_by_test_id("stMainBlockContainer").get_by_test_id("stSliderThumbValue")
    expect(band).to_have_text("80%")
    assert _controls(page) == before  # every number box, slider, toggle and choice; the edit too
    assert set(parse_qs(urlparse(page.url).query)) == {"scenario", "base", "reps", "band"}
    expect(page.get_by_role("heading", level=1)).to_have_text("Drifting incentives")  # not run


def _controls(page: Page) -> dict[str, str]:
    """What every lever, run setting and display option shows, by its label."""
    shown = {}
    for box in page.get_by_role("spinbutton").all():
        shown[box.get_attribute("aria-label") or "?"] = box.input_value()
    for slider in page.locator('[data-testid="stSlider"]').all():
        shown[slider.locator("label").first.inner_text()] = slider.get_by_test_id(
            "stSliderThumbValue"
        ).inner_text()
    for toggle in page.get_by_role("checkbox").all():
        shown[toggle.get_attribute("aria-label") or "?"] = str(toggle.is_checked())
    for choice in page.get_by_role("combobox").all():
        shown[choice.get_attribute("aria-label") or "?"] = choice.input_value()
    assert len(shown) >= 10, shown  # the levers are on the page
    return shown
