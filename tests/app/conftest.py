"""Fixtures for the app tests."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from streamlit.testing.v1 import AppTest

from .helpers import open_app


@pytest.fixture
def app() -> Callable[..., AppTest]:
    """Open the app with query parameters: ``app({"seed": "3"})``."""
    return open_app
