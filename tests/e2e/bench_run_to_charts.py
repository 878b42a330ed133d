"""Time from pressing Run to updated charts, in a real browser (a benchmark, not a test).

    .venv/bin/python -m tests.e2e.bench_run_to_charts [--samples 7] [--replications 100] [--cpu]

Starts its own server, opens the Sandbox on the default preset and warms the process pool with one
run. Then, for each sample, it types a new seed and presses Run (uncached: the model runs), and
finally presses Run again on seeds already run (cached: results come from the cache).

The clock starts in the page at the Run button's click and stops at the animation frame that paints
the page once the caption shows the new run's fingerprint, no element is left from the last run
(Streamlit marks those stale until the script replaces them; the app shows no running status in its
header to wait for), and every chart's SVG shows new marks (the shapes of its paths differ from
before the click). The page is
checked when its DOM changes, not on every frame, so the timing adds no drawing of its own while the
simulation runs. Prints the median and every sample, in seconds.

With ``--cpu`` (Linux) it also prints, per sample, the CPU seconds each part used from the click
until the page was idle again: the Streamlit server's own process, its simulation workers, and
Chromium. On a machine of two cores these parts share the cores, so CPU used by the browser while
the model runs is time the workers wait.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
from pathlib import Path

from playwright.sync_api import Page

from app.compute import run_id
from app.state import canonical

from .server import app_page

CHARTS = 4  # the Customers tab, open by default
# An element the script has not replaced yet (the run is not done while one is left).
STALE = '[data-testid="stElementContainer"][data-stale="true"]'
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
    if (window.__t0 === undefined || document.querySelector('STALE')) {
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
""".replace("'STALE'", repr(STALE))


def _wait_idle(page: Page, run: str) -> None:
    page.wait_for_function(
        """([runId, charts]) =>
            [...document.querySelectorAll('[data-testid="stCaptionContainer"]')]
              .some(c => c.innerText.includes('run ' + runId))
            && !document.querySelector('STALE')
            && document.querySelectorAll('[data-testid="stVegaLiteChart"] svg.marks').length
               === charts""".replace("'STALE'", repr(STALE)),
        arg=[run, CHARTS],
        timeout=180_000,
        polling=POLL_MS,
    )
    page.wait_for_timeout(500)


def cpu_by_part(server_port: str) -> dict[str, float]:
    """CPU seconds used so far by the server on ``server_port``, its workers and Chromium (Linux)."""
    tick = os.sysconf("SC_CLK_TCK")
    procs = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmd = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:  # the process ended meanwhile
            continue
        # After the command: state, ppid, pgrp, ... utime and stime are the 12th and 13th.
        procs[int(entry.name)] = (cmd, int(fields[2]), (int(fields[11]) + int(fields[12])) / tick)
    parts = {"server": 0.0, "workers": 0.0, "chromium": 0.0}
    server = [pid for pid, (cmd, _, _) in procs.items() if f"--server.port {server_port}" in cmd]
    for pid, (cmd, group, seconds) in procs.items():
        if pid in server:
            parts["server"] += seconds
        elif server and group == server[0]:  # the server leads its own process group
            parts["workers"] += seconds
        elif "chromium" in cmd or "chrome" in cmd:
            parts["chromium"] += seconds
    return parts


def _press_run_with_seed(
    page: Page, seed: int, replications: int, cpu: list[dict] | None = None
) -> float:
    """Type ``seed``, press Run, and return the seconds until the charts are redrawn (and, with
    ``cpu``, append each part's CPU seconds from the click until the page is idle)."""
    expected = run_id(canonical({}), seed, replications)
    page.get_by_role("spinbutton", name="Seed").fill(str(seed))
    page.evaluate(ARM, [expected, CHARTS])
    port = page.url.split(":")[-1].split("/")[0]
    before = cpu_by_part(port) if cpu is not None else {}
    page.get_by_role("button", name="Run", exact=True).click()
    page.wait_for_function("window.__done !== undefined", timeout=180_000, polling=POLL_MS)
    seconds = page.evaluate("(window.__done - window.__t0) / 1000")
    _wait_idle(page, expected)
    if cpu is not None:
        after = cpu_by_part(port)
        cpu.append({k: round(after[k] - before[k], 2) for k in after})
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=7)
    parser.add_argument("--replications", type=int, default=100)
    parser.add_argument("--cpu", action="store_true", help="CPU seconds by part (Linux)")
    args = parser.parse_args()
    reps = args.replications
    cpu_uncached: list[dict] | None = [] if args.cpu else None
    cpu_cached: list[dict] | None = [] if args.cpu else None
    with app_page() as (url, page):
        page.goto(f"{url}/?reps={reps}" if reps != 100 else url)
        _wait_idle(page, run_id(canonical({}), 1, reps))
        page.get_by_text("Run settings", exact=True).click()
        seeds = list(range(2, 2 + args.samples))
        uncached = [_press_run_with_seed(page, s, reps, cpu_uncached) for s in seeds]
        # Seed 1 (run while warming up) first: the page still shows the last new seed's charts.
        cached = [_press_run_with_seed(page, s, reps, cpu_cached) for s in [1, *seeds[:-1]]]
    report = {
        "replications": reps,
        "uncached_median_s": round(statistics.median(uncached), 3),
        "cached_median_s": round(statistics.median(cached), 3),
        "uncached_samples_s": [round(x, 3) for x in uncached],
        "cached_samples_s": [round(x, 3) for x in cached],
    }
    for name, samples in (("uncached", cpu_uncached), ("cached", cpu_cached)):
        if samples:
            report[f"{name}_cpu_median_s"] = {
                part: round(statistics.median(s[part] for s in samples), 2) for part in samples[0]
            }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
