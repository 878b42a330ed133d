"""CSV exports and cached runs, called directly (Streamlit's caches work without a server)."""

from __future__ import annotations

import io
import re
import threading
from concurrent.futures import Future, ThreadPoolExecutor

import numpy as np
import pandas as pd
import pytest

import sim.runner
from app import compute
from app.state import canonical, from_canonical
from sim.outcomes import KPI_NAMES, SERIES_NAMES
from sim.params import Params, with_overrides


def test_band_and_kpi_csvs_have_the_expected_columns():
    settings = canonical({"incentives.sales": "mixed"})
    runs = [("variant", "Sales on a mixed scorecard", compute.view(settings, 3, 4, 80))]
    bands = pd.read_csv(io.StringIO(compute.bands_csv(runs, 80)))
    assert list(bands.columns) == list(compute.BAND_COLUMNS)
    assert set(SERIES_NAMES) <= set(bands["metric"])
    assert "retention_by_age" in set(bands["metric"])
    assert (bands["band_percent"] == 80).all()
    kpis = pd.read_csv(io.StringIO(compute.kpis_csv(runs)))
    assert list(kpis.columns) == ["role", "scenario", "replication", *KPI_NAMES]
    assert list(kpis["replication"]) == [0, 1, 2, 3]
    assert (kpis["scenario"] == "Sales on a mixed scorecard").all()


def test_cached_results_are_reused_and_reproducible(monkeypatch):
    calls = []
    real = sim.runner.run_many

    def counting(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(sim.runner, "run_many", counting)
    settings = canonical({"reviews.council.interval_weeks": 3.0})
    a = compute.results(settings, 9, 3)
    b = compute.results(settings, 9, 3)
    assert len(calls) == 1
    assert np.array_equal(a.kpi_values, b.kpi_values, equal_nan=True)
    fresh = real(from_canonical(settings), 3, 9)
    assert np.array_equal(a.kpi_values, fresh.kpi_values, equal_nan=True)
    compute.results(settings, 10, 3)
    assert len(calls) == 2
    assert compute.run_id(settings, 9, 3) != compute.run_id(settings, 10, 3)


def test_the_pool_queue_counts_runs_in_turn_across_threads():
    queue = compute.PoolQueue()
    n = 6
    barrier = threading.Barrier(n)
    seen: list[int] = []

    def one() -> None:
        with queue.turn() as ahead:
            seen.append(ahead)
            barrier.wait(timeout=10)  # every thread holds its turn at once

    threads = [threading.Thread(target=one) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(seen) == list(range(n))
    assert queue.running == 0
    with pytest.raises(RuntimeError), queue.turn():
        raise RuntimeError("a run that failed")
    assert queue.running == 0  # a failed run gives its place back
    with queue.turn(on_pool=False) as ahead:
        assert ahead == 0 and queue.running == 0


def record_progress(monkeypatch) -> list[str]:
    """Every text a progress bar of ``compute`` shows, in order (from ``st.progress`` and its
    bar's moves)."""
    shown: list[str] = []

    class Bar:
        def progress(self, value: float, text: str = "") -> None:
            shown.append(text)

        def empty(self) -> None:
            pass

    def progress(value: float, text: str = "") -> Bar:
        shown.append(text)
        return Bar()

    monkeypatch.setattr(compute.st, "progress", progress)
    return shown


def test_a_runs_progress_names_it_and_the_runs_ahead_of_it_on_the_pool(monkeypatch):
    shown = record_progress(monkeypatch)
    on_pool: list[int] = []
    real = sim.runner.run_many

    def run_many(params, replications, seed, executor=None, progress=None):
        on_pool.append(compute.POOL_QUEUE.running)
        return real(params, replications, seed, progress=progress)  # here, not on a pool

    monkeypatch.setattr(sim.runner, "run_many", run_many)
    monkeypatch.setattr(compute, "process_pool", lambda: None)
    monkeypatch.setattr(compute, "WORKERS", 2)
    monkeypatch.setattr(compute, "PROGRESS_EVERY_SECONDS", 0.0)  # every chunk moves the bar
    compute.run_results.clear()  # these runs must run, not come from the cache
    settings = canonical({"reviews.council.interval_weeks": 5.0})
    reps = compute.POOL_MIN_REPLICATIONS
    with compute.POOL_QUEUE.turn() as first, compute.POOL_QUEUE.turn() as second:
        assert (first, second) == (0, 1)
        compute.results(settings, 4242, reps)
    assert on_pool == [3]  # two others and this one
    assert shown[0] == (
        f"Simulating {reps} replications… (sharing the simulation pool with 2 other runs on this "
        "server)"
    )
    # The last chunk does not move the bar: it is removed as the run ends.
    assert shown[-1] == f"Simulating: {reps - 1} of {reps} replications done"
    assert compute.POOL_QUEUE.running == 0
    # A run too small for the pool stays in this process: it neither waits nor holds a place.
    shown.clear()
    on_pool.clear()
    with compute.POOL_QUEUE.turn():
        compute.results(settings, 4243, 3)
    assert on_pool == [1] and shown[0] == "Simulating 3 replications…"
    # A page that runs several scenarios names the one running; the cache key does not change.
    shown.clear()
    with compute.named_run("“Sales-led growth” (2 of 3)"):
        compute.results(settings, 4244, 3)
        compute.results(settings, 4243, 3)  # cached under its unnamed run: nothing shown
    assert shown[0] == "Simulating “Sales-led growth” (2 of 3): 3 replications…"
    assert shown[-1] == "Simulating “Sales-led growth” (2 of 3): 2 of 3 replications done"
    assert len(on_pool) == 2 and compute.progress_text(3) == "Simulating 3 replications…"
    assert compute.progress_text(1) == "Simulating 1 replication…"
    assert compute.progress_text(1, 0) == "Simulating: 0 of 1 replication done"
    assert (
        compute.waiting_text(1) == " (sharing the simulation pool with 1 other run on this server)"
    )


def test_a_progress_bar_moves_at_most_once_an_interval_and_not_at_the_end():
    now = [0.0]
    seen: list[int] = []
    report = compute.throttled(lambda done, total: seen.append(done), 0.4, clock=lambda: now[0])
    for done, at in ((4, 0.1), (8, 0.45), (12, 0.6), (16, 0.9), (20, 1.0), (24, 2.0), (28, 2.1)):
        now[0] = at
        report(done, 100)
    now[0] = 9.0
    report(100, 100)  # the run is done: its bar is about to go
    assert seen == [8, 16, 24]


@pytest.mark.parametrize("every", [0.0, 3600.0])
def test_the_explanations_bar_moves_at_most_once_an_interval(monkeypatch, every):
    shown = record_progress(monkeypatch)
    monkeypatch.setattr(compute, "WORKERS", 1)  # here, not on a pool
    monkeypatch.setattr(compute, "PROGRESS_EVERY_SECONDS", every)
    base = Params(horizon_weeks=26)
    variant = with_overrides(base, {"org.wip_limit_per_team": 2, "reviews.council.enabled": False})
    found = compute._attribute(base, variant, "value_delivered", 1, 10, "setting", None, 0)
    assert found["text"], found
    moves = [
        t
        for t in shown
        if re.fullmatch(r"Explaining the difference: \d+ of \d+ simulations done", t)
    ]
    assert shown[0].startswith("Explaining the difference: running each combination")
    if every:
        assert moves == []  # the run ended within the interval: the bar never moved
    else:
        assert len(moves) >= 2  # every report but the last (the bar goes then)


def test_an_abandoned_run_takes_its_queued_chunks_off_the_pool():
    """A run stopped part-way (the page reran) leaves nothing queued on the shared pool."""

    class Recording(ThreadPoolExecutor):
        def __init__(self) -> None:
            super().__init__(max_workers=1)
            self.futures: list[Future] = []

        def submit(self, *args, **kwargs) -> Future:
            self.futures.append(super().submit(*args, **kwargs))
            return self.futures[-1]

    with Recording() as pool:
        chunks = sim.runner.iter_replications(Params(), 8, 1, executor=pool)
        first, reps = next(chunks)
        assert list(first) == [0, 1] and len(reps) == 2
        chunks.close()  # as when the progress callback raises
        assert len(pool.futures) == 4
        assert pool.futures[-1].cancelled()  # queued behind the running chunk: dropped
