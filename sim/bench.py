"""Speed benchmark: ``python -m sim bench [--format json]``.

Every number is measured in the same run, so ratios (efficiency, scaling) are robust to a noisy shared
machine; single timings are medians of repeats.
"""

from __future__ import annotations

import os
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


# --------------------------------------------------------------------------------------------------
# Explore at scale: executors and memory (``python -m sim bench --explore``)
# --------------------------------------------------------------------------------------------------

EXPLORE_LEVER = "reviews.council.interval_weeks=2,8"
MEMORY_REPLICATIONS = 10_000
MEMORY_WEEKS = 52


def peak_rss_mib(pid: int | None = None) -> float:
    """Peak resident set size (VmHWM) of a process, in MiB (this process by default)."""
    path = f"/proc/{pid or 'self'}/status"
    try:
        with open(path, encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    import resource

    if pid is None:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    return float("nan")


def _worker_peak_rss_mib() -> float:
    """Run on a Dask worker: its own peak RSS."""
    return peak_rss_mib()


def _cluster(workers: int) -> Any:
    from distributed import LocalCluster

    return LocalCluster(
        n_workers=workers,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
        silence_logs=40,
    )


def _sweep_rate(executor: Any, replications: int, weeks: int, seed: int) -> float:
    """Replications per second of a two-point sweep (KPI vectors only) on an executor."""
    from sim.explore import parse_lever, sweep

    params = with_overrides(Params(), {"horizon_weeks": weeks})
    lever = [parse_lever(EXPLORE_LEVER)]
    start = time.perf_counter()
    sweep(params, lever, replications=replications // 2, seed=seed, executor=executor)
    return replications / (time.perf_counter() - start)


def memory_probe(kind: str, replications: int, weeks: int, workers: int) -> dict[str, Any]:
    """Run a sweep of ``replications`` replications in total and report peak memory (MiB).

    Meant to run in a fresh process (see :func:`run_explore`), so the driver's peak belongs to this
    sweep alone. Workers' peaks are read from ``/proc/<pid>/status`` (local pool) or measured on
    each Dask worker.
    """
    from distributed import Client

    from sim.executors import DaskExecutor, PoolExecutor
    from sim.explore import parse_lever, sweep

    params = with_overrides(Params(), {"horizon_weeks": weeks})
    lever = [parse_lever("reviews.council.interval_weeks=1:10:10")]
    before = peak_rss_mib()
    cluster = client = pool = None
    try:
        if kind == "dask":
            cluster = _cluster(workers)
            client = Client(cluster, set_as_default=False)
            executor: Any = DaskExecutor(client=client)
        else:
            pool = runner.make_pool(workers)
            executor = PoolExecutor(pool=pool)
        start = time.perf_counter()
        sweep(params, lever, replications=replications // 10, seed=1, executor=executor)
        wall = time.perf_counter() - start
        driver = peak_rss_mib()
        if client is not None:
            worker_peaks = list(client.run(_worker_peak_rss_mib).values())
        else:
            import psutil

            kids = psutil.Process().children(recursive=True)
            worker_peaks = [peak_rss_mib(k.pid) for k in kids]
    finally:
        if client is not None:
            client.close()
        if cluster is not None:
            cluster.close()
        if pool is not None:
            pool.shutdown()
    return {
        "executor": kind,
        "replications": replications,
        "horizon_weeks": weeks,
        "wall_s": round(wall, 1),
        "driver_peak_mib_before": round(before, 1),
        "driver_peak_mib": round(driver, 1),
        "worker_peak_mib": [round(x, 1) for x in worker_peaks],
        "total_peak_mib": round(driver + sum(worker_peaks), 1),
    }


def _probe_in_fresh_process(kind: str, replications: int, weeks: int, workers: int) -> dict:
    import json
    import subprocess
    import sys

    code = (
        "import json; from sim.bench import memory_probe; "
        f"print(json.dumps(memory_probe({kind!r}, {replications}, {weeks}, {workers})))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def run_explore(quick: bool = False, progress: TextIO | None = None) -> dict[str, Any]:
    """Experiment throughput serial, on the local pool and on a Dask LocalCluster; peak memory.

    Every rate comes from the same two-point sweep (workers return KPI vectors only). Scaling
    efficiency is the parallel rate over ``workers`` times the serial rate. Peak memory is measured
    in a fresh process running a sweep of 10,000 replications (2,000 with ``quick``).
    """
    from distributed import Client

    from sim.executors import DaskExecutor, PoolExecutor, SerialExecutor

    def note(msg: str) -> None:
        if progress is not None:
            progress.write(f"bench: {msg}\n")
            progress.flush()

    load_before = os.getloadavg()[0]
    workers = 2
    weeks = 104
    n = 40 if quick else 160
    repeats = 1 if quick else 3
    note(f"serial: {n} replications")
    serial = _sweep_rate(SerialExecutor(), n, weeks, seed=0)

    note(f"local pool: {workers} processes")
    pool = runner.make_pool(workers)
    local = PoolExecutor(pool=pool)
    _sweep_rate(local, 2 * workers, weeks, seed=99)  # start the workers
    local_rate = statistics.median(_sweep_rate(local, n, weeks, seed=r) for r in range(repeats))
    pool.shutdown()

    note(f"Dask LocalCluster: {workers} worker processes on loopback")
    start = time.perf_counter()
    cluster = _cluster(workers)
    client = Client(cluster, set_as_default=False)
    dask_startup = time.perf_counter() - start
    try:
        dask = DaskExecutor(client=client)
        _sweep_rate(dask, 2 * workers, weeks, seed=99)
        dask_rate = statistics.median(_sweep_rate(dask, n, weeks, seed=r) for r in range(repeats))
    finally:
        client.close()
        cluster.close()

    reps = 2_000 if quick else MEMORY_REPLICATIONS
    kinds = ("local",) if quick else ("local", "dask")
    memory = {}
    for kind in kinds:
        note(f"peak memory: {reps} replications ({MEMORY_WEEKS} weeks) on {kind}")
        memory[kind] = _probe_in_fresh_process(kind, reps, MEMORY_WEEKS, workers)
    return {
        "cores": runner.cpu_count(),
        "workers": workers,
        "horizon_weeks": weeks,
        "replications_per_rate": n,
        "reps_per_s_serial": round(serial, 1),
        "reps_per_s_local_pool": round(local_rate, 1),
        "reps_per_s_dask_local_cluster": round(dask_rate, 1),
        "scaling_efficiency_local_pool": round(local_rate / (workers * serial), 3),
        "scaling_efficiency_dask": round(dask_rate / (workers * serial), 3),
        "dask_cluster_startup_s": round(dask_startup, 2),
        "memory": memory,
        "memory_target_mib": 2048,
        # Other work on the machine slows every rate; the 1-minute load average says how much.
        "load_average_before": round(load_before, 2),
        "load_average_after": round(os.getloadavg()[0], 2),
    }
