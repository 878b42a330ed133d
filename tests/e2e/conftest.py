"""Fixtures for the browser tests: one Streamlit server and one Chromium per test worker.

Each pytest-xdist worker starts its own server on a free port (so workers never share state), waits
until it answers, and stops it — with the simulation workers it started — at the end. Chromium is
Debian's (/usr/bin/chromium), driven by Playwright; it is never downloaded. Without it the tests
skip, except in CI (CI=true), where a missing browser is a failure.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from .helpers import TIMEOUT_MS
from .server import CHROMIUM, CHROMIUM_ARGS, ROOT, ServerError, streamlit_server

ARTIFACTS = ROOT / "test-artifacts" / "e2e"


def _require_chromium() -> None:
    if Path(CHROMIUM).exists():
        return
    reason = f"Debian Chromium is not installed at {CHROMIUM} (apt-get install chromium)"
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason}; browser tests must run in CI")
    pytest.skip(f"{reason}; browser tests skipped")


@pytest.fixture(scope="session")
def server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A Streamlit server of the app for this worker."""
    _require_chromium()
    log_path = tmp_path_factory.mktemp("streamlit") / "server.log"
    try:
        with streamlit_server(log_path) as url:
            yield url
    except ServerError as err:
        pytest.fail(str(err))


@pytest.fixture(scope="session")
def browser(server_url: str):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def new_page(browser, request: pytest.FixtureRequest):
    """Open fresh pages (each in its own browser context); screenshots are kept as artifacts."""
    contexts = []

    def make(viewport: tuple[int, int] = (1400, 1000)):
        context = browser.new_context(
            viewport={"width": viewport[0], "height": viewport[1]}, accept_downloads=True
        )
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        return context.new_page()

    yield make
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for i, context in enumerate(contexts):
        for j, page in enumerate(context.pages):
            name = f"{request.node.name}-{i}{j}.png".replace("/", "_")
            # A failed screenshot must never hide the test's own result.
            with contextlib.suppress(Exception):
                page.screenshot(path=str(ARTIFACTS / name))
        context.close()
