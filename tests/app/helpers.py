"""Opening the app under Streamlit's AppTest, with small, fast runs, and reading what it shows."""

from __future__ import annotations

import html
from collections.abc import Mapping
from pathlib import Path

from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[2]
APP = str(ROOT / "streamlit_app.py")
# Below the pool threshold, so each run stays in the test process and takes well under a second.
FAST_REPS = "8"


def open_app(query: Mapping[str, str] | None = None, timeout: float = 120) -> AppTest:
    """The app, opened with these query parameters (replications kept small unless given)."""
    at = AppTest.from_file(APP, default_timeout=timeout)
    at.query_params.update({"reps": FAST_REPS, **(query or {})})
    return at.run()


def tiles(at: AppTest) -> dict[str, str]:
    """KPI tiles: label → value text."""
    return {m.label: m.value for m in at.metric}


def deltas(at: AppTest) -> dict[str, tuple[str, str]]:
    """KPI tiles: label → (delta text, delta description)."""
    return {m.label: (m.proto.delta, m.proto.delta_description) for m in at.metric}


def texts(elements) -> list[str]:
    """The elements' text as a reader sees it (character references decoded, word joiners gone)."""
    return [html.unescape(e.value).replace("\u2060", "") for e in elements]


def assert_clean(at: AppTest) -> None:
    """No exception reached the page."""
    assert not at.exception, [e.value for e in at.exception]
