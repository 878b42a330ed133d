"""The Explore page in a real browser: a sweep runs on the process pool and draws its chart; Stop
stops a long run and keeps the page working; the page's link opens the same experiment in a new
page."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from .helpers import DRAWN_CHART, TIMEOUT_MS

pytestmark = pytest.mark.e2e


def open_explore(page: Page, server_url: str) -> None:
    page.goto(server_url + "/explore")
    expect(page.get_by_role("button", name="Run sweep")).to_be_visible(timeout=TIMEOUT_MS)


def set_replications(page: Page, n: int) -> None:
    box = page.get_by_role("spinbutton", name="Replications per point").first
    box.fill(str(n))
    box.press("Tab")


def test_a_sweep_runs_and_draws_its_chart(server_url, new_page):
    page = new_page()
    open_explore(page, server_url)
    page.get_by_role("button", name="Run sweep").click()
    expect(page.locator(DRAWN_CHART)).to_have_count(1, timeout=TIMEOUT_MS)
    assert page.locator(DRAWN_CHART).locator("path").count() > 0
    caption = page.get_by_text("48 simulations: 6 grid points × 8 replications")
    expect(caption).to_contain_text("ran on the app's local process pool")
    page.get_by_role("combobox", name="KPI shown").click()
    page.get_by_role("option", name="Meeting overhead", exact=True).click()
    expect(page.get_by_text("Meeting overhead is highest at")).to_be_visible(timeout=TIMEOUT_MS)
    expect(page.locator(DRAWN_CHART)).to_have_count(1, timeout=TIMEOUT_MS)


def test_stop_ends_a_long_run_and_the_next_run_works(server_url, new_page):
    page = new_page()
    open_explore(page, server_url)
    set_replications(page, 400)  # 2,400 simulations: far longer than it takes to press Stop
    page.get_by_role("button", name="Run sweep").click()
    expect(page.get_by_text("simulations done")).to_be_visible(timeout=TIMEOUT_MS)
    page.get_by_role("button", name="Stop").click()
    expect(page.get_by_text("Stopped after")).to_contain_text("of 2,400 simulations")
    expect(page.get_by_role("button", name="Stop")).to_have_count(0)
    set_replications(page, 3)
    page.get_by_role("button", name="Run sweep").click()
    expect(page.locator(DRAWN_CHART)).to_have_count(1, timeout=TIMEOUT_MS)


def test_the_experiments_link_opens_the_same_sweep_in_a_new_page(server_url, new_page):
    page = new_page()
    page.goto(server_url + "/?scenario=pivot&reviews.council.interval_weeks=3&reps=8")
    expect(page.locator(DRAWN_CHART).first).to_be_visible(timeout=TIMEOUT_MS)
    page.get_by_role("link", name="Explore").click()
    set_replications(page, 3)
    page.get_by_role("button", name="Run sweep").click()
    expect(page.locator(DRAWN_CHART)).to_have_count(1, timeout=TIMEOUT_MS)
    page.get_by_role("button", name="Link to share").click()  # the link opens from a button
    link = page.locator('[data-testid="stCode"]').filter(has_text="tool=sweep").inner_text()
    assert "base=pivot" in link and "base.reviews.council.interval_weeks=3" in link
    assert "reps=3" in link and link.endswith(page.url.split("/explore", 1)[1])
    finding = page.get_by_text("Value delivered is highest at").inner_text()

    other = new_page()
    other.goto(link)
    expect(other.locator(DRAWN_CHART)).to_have_count(1, timeout=TIMEOUT_MS)
    expect(other.get_by_text("Value delivered is highest at")).to_have_text(finding)
    start = other.get_by_role("combobox", name="Start from")
    expect(start).to_have_value("From the link: Pivot: the market moves (modified)")
    assert other.locator('[data-testid="stException"]').count() == 0
