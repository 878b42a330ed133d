"""Time from pressing Run to updated charts, in a real browser (a benchmark, not a test).

    .venv/bin/python -m tests.e2e.bench_run_to_charts [--samples 7] [--replications 100]

Starts its own server, opens the Sandbox on the default preset and warms the process pool with one
run. Then, for each sample, it types a new seed and presses Run (uncached: the model runs), and
finally presses Run again on seeds already run (cached: results come from the cache).

The clock starts in the page at the Run button's click and stops at the animation frame that paints
the page once the caption shows the new run's fingerprint, Streamlit reports the script finished, and
every chart's SVG shows new marks (the shapes of its paths differ from before the click). The page is
checked when its DOM changes, not on every frame, so the timing adds no drawing of its own while the
simulation runs. Prints the median and every sample, in seconds.
"""

from __future__ import annotations

import argparse
import json
import statistics

from playwright.sync_api import Page

from app.compute import run_id
from app.state import canonical

from .server import app_page

CHARTS = 4  # the Customers tab, open by default
POLL_MS = 100  # how often the script asks the page whether a run is done (not every frame)
ARM = """
([runId, charts]) => {
  const signature = (svg) => [...svg.querySelectorAll('path')]
    .map(p => p.getAttribute('d') || '').join('|');
  const svgs = () => [...document.querySelectorAll('[data-testid="stVegaLiteChart"] svg.marks')];
  const before = svgs().map(signature);
  window.__t0 = undefined;
  window.__done = undefined;
  const run = [...document.querySelectorAll('button')].find(b => b.innerText.trim() === 'Run');
  run.addEventListener('click', () => { window.__t0 = performance.now(); },
                       {capture: true, once: true});
  // Checked on DOM changes only (cheapest test first), not on every frame: a per-frame loop keeps
  // the browser drawing at 60 fps and takes CPU from the simulation it is timing.
  const drawn = () => {
    if (window.__t0 === undefined || document.querySelector('[data-testid="stStatusWidget"]')) {
      return false;
    }
    const caption = [...document.querySelectorAll('[data-testid="stCaptionContainer"]')]
      .some(c => c.textContent.includes('run ' + runId));
    if (!caption) return false;
    const now = svgs();
    return now.length === charts && now.every((svg, i) => signature(svg) !== before[i]);
  };
  const observer = new MutationObserver(() => {
    if (drawn()) {
      observer.disconnect();
      // The changes are in the page; the clock stops at the frame that paints them.
      requestAnimationFrame(() => { window.__done = performance.now(); });
    }
  });
  observer.observe(document.body,
                   {childList: true, subtree: true, attributes: true, characterData: true});
}
"""


def _wait_idle(page: Page, run: str) -> None:
    page.wait_for_function(
        """([runId, charts]) =>
            [...document.querySelectorAll('[data-testid="stCaptionContainer"]')]
              .some(c => c.innerText.includes('run ' + runId))
            && !document.querySelector('[data-testid="stStatusWidget"]')
            && document.querySelectorAll('[data-testid="stVegaLiteChart"] svg.marks').length
               === charts""",
        arg=[run, CHARTS],
        timeout=180_000,
        polling=POLL_MS,
    )
    page.wait_for_timeout(500)


def _press_run_with_seed(page: Page, seed: int, replications: int) -> float:
    """Type ``seed``, press Run, and return the seconds until the charts are redrawn."""
    expected = run_id(canonical({}), seed, replications)
    page.get_by_role("spinbutton", name="Seed").fill(str(seed))
    page.evaluate(ARM, [expected, CHARTS])
    page.get_by_role("button", name="Run", exact=True).click()
    page.wait_for_function("window.__done !== undefined", timeout=180_000, polling=POLL_MS)
    seconds = page.evaluate("(window.__done - window.__t0) / 1000")
    _wait_idle(page, expected)
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=7)
    parser.add_argument("--replications", type=int, default=100)
    args = parser.parse_args()
    reps = args.replications
    with app_page() as (url, page):
        page.goto(f"{url}/?reps={reps}" if reps != 100 else url)
        _wait_idle(page, run_id(canonical({}), 1, reps))
        page.get_by_text("Run settings", exact=True).click()
        seeds = list(range(2, 2 + args.samples))
        uncached = [_press_run_with_seed(page, s, reps) for s in seeds]
        # Seed 1 (run while warming up) first: the page still shows the last new seed's charts.
        cached = [_press_run_with_seed(page, s, reps) for s in [1, *seeds[:-1]]]
    report = {
        "replications": reps,
        "uncached_median_s": round(statistics.median(uncached), 3),
        "cached_median_s": round(statistics.median(cached), 3),
        "uncached_samples_s": [round(x, 3) for x in uncached],
        "cached_samples_s": [round(x, 3) for x in cached],
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
