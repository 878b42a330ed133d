"""Settings shared by every test.

Property tests explore new examples on each local run. With ``CI=true`` they draw a fixed sequence
of examples instead (Hypothesis's ``derandomize``), so a check's verdict on a commit does not depend on
luck; failures found locally are kept in ``.hypothesis/`` and replayed until fixed.
"""

from __future__ import annotations

import os

from hypothesis import settings

settings.register_profile("ci", derandomize=True)
if os.environ.get("CI", "").lower() == "true":
    settings.load_profile("ci")
