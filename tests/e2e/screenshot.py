"""The README's screenshot of the real app (a script, not a test).

    .venv/bin/python -m tests.e2e.screenshot [docs/screenshot.png]

Starts its own server, pins the aligned baseline, switches to drifting incentives, runs it, and saves
the window: KPI tiles with deltas and P(variant better), and the paired retention difference.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from playwright.sync_api import expect

from app.compute import run_id
from app.state import canonical, preset_setup

from .helpers import TIMEOUT_MS, choose, press_run, wait_until_idle
from .server import ROOT, app_page


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", nargs="?", type=Path, default=ROOT / "docs" / "screenshot.png")
    args = parser.parse_args()
    with app_page(1440, 1500) as (url, page):
        page.goto(f"{url}/?scenario=aligned-baseline")
        wait_until_idle(page, charts=4)
        page.get_by_role("button", name="Pin as baseline").click()
        wait_until_idle(page, charts=5)  # the paired difference joins the Customers tab
        choose(page, "Preset scenario", "Drifting incentives")
        press_run(page)
        shown = run_id(canonical(preset_setup("drifting-incentives").overrides), 1, 100)
        expect(page.get_by_text(f"run {shown}")).to_be_visible(timeout=TIMEOUT_MS)
        wait_until_idle(page, charts=5)
        page.mouse.move(720, 1400)  # off the controls, so no help text is open
        page.wait_for_timeout(1500)  # let the charts settle to their container
        page.screenshot(path=str(args.out))
    print(args.out)


if __name__ == "__main__":
    main()
