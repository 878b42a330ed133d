"""Fixtures for the browser tests: one Streamlit server and one Chromium per test worker.

Each pytest-xdist worker starts its own server on a free port (so workers never share state), waits
until it answers, and stops it — with the simulation workers it started — at the end. Chromium is
Debian's (/usr/bin/chromium), driven by Playwright; it is never downloaded. Without it the tests
skip, except in CI (CI=true), where a missing browser is a failure.

Every page's screenshot is kept in ``test-artifacts/e2e``; when a test fails, so are its pages'
console messages and the server's log, for a failure that does not repeat.
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


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    """Keep each phase's report on the test, so fixtures can tell whether it failed."""
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


def _failed(request: pytest.FixtureRequest) -> bool:
    report = getattr(request.node, "report_call", None)
    return report is None or report.failed


@pytest.fixture(scope="session")
def server_log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where this worker's server writes its log."""
    return tmp_path_factory.mktemp("streamlit") / "server.log"


@pytest.fixture(scope="session")
def server_url(server_log: Path) -> Iterator[str]:
    """A Streamlit server of the app for this worker."""
    _require_chromium()
    try:
        with streamlit_server(server_log) as url:
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
def new_page(browser, server_log: Path, request: pytest.FixtureRequest):
    """Open fresh pages (each in its own browser context); screenshots are kept as artifacts, and
    after a failure the pages' console messages and the end of the server's log."""
    contexts = []
    console: list[str] = []
    log_start = server_log.stat().st_size if server_log.exists() else 0

    def make(viewport: tuple[int, int] = (1400, 1000)):
        context = browser.new_context(
            viewport={"width": viewport[0], "height": viewport[1]}, accept_downloads=True
        )
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        page = context.new_page()
        tag = f"page {len(contexts) - 1}"
        page.on("console", lambda msg: console.append(f"{tag} {msg.type}: {msg.text}"))
        page.on("pageerror", lambda err: console.append(f"{tag} pageerror: {err}"))
        return page

    yield make
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    stem = request.node.name.replace("/", "_")
    for i, context in enumerate(contexts):
        for j, page in enumerate(context.pages):
            # A failed screenshot must never hide the test's own result.
            with contextlib.suppress(Exception):
                page.screenshot(path=str(ARTIFACTS / f"{stem}-{i}{j}.png"))
        context.close()
    if _failed(request):
        (ARTIFACTS / f"{stem}-console.txt").write_text("\n".join(console) + "\n")
        with contextlib.suppress(OSError):
            log = server_log.read_bytes()
            mark = f"----- {request.node.nodeid} starts here -----\n".encode()
            (ARTIFACTS / f"{stem}-server.log").write_bytes(log[:log_start] + mark + log[log_start:])
