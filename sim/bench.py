"""Speed benchmark: ``python -m sim bench [--format json]``.

Every number is measured in the same run, so ratios (efficiency, scaling) are robust to a noisy shared
machine; single timings are medians of repeats.
"""

from __future__ import annotations

import statistics
import time
from typing import Any, TextIO

import simpy

from sim import runner
from sim.model import simulate
from sim.params import Params, with_overrides
from sim.streams import replication_seeds


def bare_events_per_s(events: int = 200_000) -> float:
    """Events per second of a bare SimPy timeout loop: the ceiling for any SimPy model here."""
    env = simpy.Environment()

    def loop(env: simpy.Environment):
        for _ in range(events):
            yield env.timeout(1.0)

    env.process(loop(env))
    start = time.perf_counter()
    env.run()
    return events / (time.perf_counter() - start)


def _time_reps(params: Params, n: int, seed: int = 7) -> tuple[list[float], int]:
    seeds = replication_seeds(seed, n)
    times, events = [], 0
    for s in seeds:
        start = time.perf_counter()
        rep = simulate(params, s)
        times.append(time.perf_counter() - start)
        events += rep.sim_events
    return times, events


def _paired_ratio(base: Params, doubled: Params, rounds: int) -> float:
    """Median time ratio doubled / base, measured interleaved."""
    ratios = []
    for r in range(rounds):
        tb, _ = _time_reps(base, 3, seed=100 + r)
        td, _ = _time_reps(doubled, 3, seed=100 + r)
        ratios.append(statistics.median(td) / statistics.median(tb))
    return statistics.median(ratios)


def run(quick: bool = False, progress: TextIO | None = None) -> dict[str, Any]:
    """Measure and return the benchmark numbers."""

    def note(msg: str) -> None:
        if progress is not None:
            progress.write(f"bench: {msg}\n")
            progress.flush()

    base = Params()
    n = 10 if quick else 40
    simulate(base, replication_seeds(0, 1)[0])  # warm caches and imports
    note("bare SimPy loop")
    bare = statistics.median(bare_events_per_s() for _ in range(3))
    note(f"{n} replications of the default scenario")
    times, events = _time_reps(base, n)
    total = sum(times)
    model_eps = events / total
    rep_ms = statistics.median(times) * 1000.0

    workers = runner.cpu_count()
    note(f"parallel: {workers} workers")
    start = time.perf_counter()
    pool = runner.make_pool(workers)
    runner.run_many(base, replications=workers, seed=1, executor=pool)  # start every worker
    startup = time.perf_counter() - start
    par_n = 40 if quick else 100
    walls = []
    for r in range(1 if quick else 3):
        start = time.perf_counter()
        runner.run_many(base, replications=par_n, seed=r, executor=pool)
        walls.append(time.perf_counter() - start)
    pool.shutdown()
    par_wall = statistics.median(walls)
    start = time.perf_counter()
    runner.run_many(base, replications=par_n, seed=0, workers=1)
    serial_wall = time.perf_counter() - start

    rounds = 2 if quick else 5
    note("scaling with horizon")
    horizon = _paired_ratio(
        with_overrides(base, {"horizon_weeks": 104}),
        with_overrides(base, {"horizon_weeks": 208}),
        rounds,
    )
    note("scaling with teams")
    teams = _paired_ratio(
        with_overrides(base, {"org.product_teams": 5}),
        with_overrides(base, {"org.product_teams": 10}),
        rounds,
    )
    return {
        "bare_events_per_s": round(bare),
        "model_events_per_s": round(model_eps),
        "efficiency": round(model_eps / bare, 3),
        "events_per_replication": round(events / n),
        "replication_ms": round(rep_ms, 2),
        "reps_per_s_serial": round(par_n / serial_wall, 1),
        "reps_per_s_parallel": round(par_n / par_wall, 1),
        "workers": workers,
        "parallel_speedup": round(serial_wall / par_wall, 2),
        f"wall_s_{par_n}_reps_parallel": round(par_wall, 3),
        "pool_startup_s": round(startup, 3),
        "scaling_horizon_x2": round(horizon, 3),
        "scaling_teams_x2": round(teams, 3),
    }
