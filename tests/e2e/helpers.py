"""Reading and driving the app's page in the browser."""

from __future__ import annotations

from playwright.sync_api import Page, expect

TIMEOUT_MS = 90_000
CHART = '[data-testid="stVegaLiteChart"]'
DRAWN_CHART = f"{CHART} svg.marks"
TILE = '[data-testid="stMetric"]'
RUNNING = '[data-testid="stStatusWidget"]'
STALE = '[data-testid="stElementContainer"][data-stale="true"]'
CHARTS_ON_SANDBOX = 4  # the Customers tab


def wait_until_idle(page: Page, charts: int = CHARTS_ON_SANDBOX) -> None:
    """Wait until the script has finished, no element is marked stale, and ``charts`` charts are
    drawn.

    Call it once the page shows that the rerun started (a new heading or tile, say): between a
    click and the server's first reply nothing is stale and no status shows. After that, a rerun
    may be under way before the status widget shows it; the elements it has not reached yet (a
    download button holding the previous settings, say) are marked stale until it does.
    """
    page.wait_for_selector(DRAWN_CHART, timeout=TIMEOUT_MS)
    expect(page.locator(RUNNING)).to_have_count(0, timeout=TIMEOUT_MS)
    expect(page.locator(STALE)).to_have_count(0, timeout=TIMEOUT_MS)
    expect(page.locator(DRAWN_CHART)).to_have_count(charts, timeout=TIMEOUT_MS)


def tiles(page: Page) -> dict[str, str]:
    """KPI tiles: label → value."""
    out = {}
    for tile in page.locator(TILE).all():
        label = tile.locator('[data-testid="stMetricLabel"]').inner_text().strip()
        out[label] = tile.locator('[data-testid="stMetricValue"]').inner_text().strip()
    return out


def tile_value(page: Page, label: str):
    return page.locator(TILE).filter(has_text=label).locator('[data-testid="stMetricValue"]')


def choose(page: Page, label: str, option: str) -> None:
    """Pick an option of a select box by its label."""
    page.get_by_role("combobox", name=label, exact=True).click()
    page.get_by_role("option", name=option, exact=True).click()
    expect(page.get_by_role("combobox", name=label, exact=True)).to_have_value(option)


def press_run(page: Page) -> None:
    page.get_by_role("button", name="Run", exact=True).click()
