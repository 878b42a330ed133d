"""What opening and running a page costs the server: heavy libraries its first run does not need stay
unimported, and no full garbage collection follows each run."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# Everything the Sandbox page imports (its first run also builds the navigation, imported with it).
SANDBOX_IMPORTS = "app.compute, app.controls, app.figures, app.present, app.session, app.views"


@pytest.mark.parametrize("module", ["scipy.stats", "SALib", "distributed"])
def test_opening_the_sandbox_leaves_heavy_libraries_unimported(module):
    """scipy.stats alone took half a second of the first page; the sensitivity library and Dask
    load when they are used."""
    code = f"import sys, {SANDBOX_IMPORTS}; print({module!r} in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "False", f"opening the Sandbox imports {module}"


def test_the_server_skips_a_full_garbage_collection_after_each_page_run():
    """Streamlit's collection after every run walked every object the server's libraries hold
    (about 80 ms of each Run and display change, with the interpreter held); the project's own
    configuration, read by ``streamlit run`` from the project's folder, turns it off."""
    code = "from streamlit import config; print(config.get_option('runner.postScriptGC'))"
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "False"
