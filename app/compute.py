"""Cached runs on one reused process pool, and the views and exports built from them.

Results are cached with ``st.cache_data`` (bounded in entries and age) under plain, hashable keys: the
canonical JSON of the non-default settings, the seed, the number of replications and the model version.
Nothing here keeps results in ``session_state``: a page asks for the same key again and gets the cached
value. Derived views (bands at a chosen width, paired differences, CSV text) are cached on top, so a
display-only change never touches the model.

One process pool (``spawn`` start method) is created per server with ``st.cache_resource`` and shared by
every session and rerun; small runs stay in-process, where starting work on the pool costs more than it
saves.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

import pandas as pd
import streamlit as st

import sim.runner
from app.state import from_canonical
from sim.outcomes import KPI_NAMES, SERIES_NAMES
from sim.params import Params
from sim.runner import MODEL_VERSION, Progress, Results, compare, cpu_count, make_pool

WORKERS = max(1, min(cpu_count(), 8))
POOL_MIN_REPLICATIONS = 10
CACHE_ENTRIES = 32
CACHE_TTL_SECONDS = 3600


@st.cache_resource(show_spinner=False)
def process_pool(workers: int = WORKERS) -> ProcessPoolExecutor:
    """The server's one process pool; its workers start and import the model right away."""
    pool = make_pool(workers)
    # Any function of sim.runner makes a worker import the whole model; do it before the first run.
    for _ in range(workers):
        pool.submit(cpu_count)
    return pool


def _run(params: Params, replications: int, seed: int, progress: Progress) -> Results:
    run_many = sim.runner.run_many  # looked up at call time, so tests can count the runs

    if replications < POOL_MIN_REPLICATIONS or WORKERS < 2:
        return run_many(params, replications, seed, progress=progress)
    try:
        return run_many(params, replications, seed, executor=process_pool(), progress=progress)
    except BrokenProcessPool:
        # A worker died (out of memory, killed): start a fresh pool and run once more.
        process_pool.clear()
        return run_many(params, replications, seed, executor=process_pool(), progress=progress)


@st.cache_data(max_entries=CACHE_ENTRIES, ttl=CACHE_TTL_SECONDS, show_spinner=False)
def run_results(settings: str, seed: int, replications: int, model_version: str) -> Results:
    """The replications of one configuration (``settings`` is :func:`app.state.canonical`).

    A progress bar shows while the replications run and is removed when they are done.
    """
    params = from_canonical(settings)
    bar = st.progress(0.0, text=f"Simulating {replications} replications…")

    def report(done: int, total: int) -> None:
        bar.progress(done / total, text=f"Simulating: {done} of {total} replications done")

    try:
        return _run(params, replications, seed, report)
    finally:
        bar.empty()


def results(settings: str, seed: int, replications: int) -> Results:
    """Cached results for the current model version."""
    return run_results(settings, seed, replications, MODEL_VERSION)


def run_id(settings: str, seed: int, replications: int) -> str:
    """A short fingerprint of a run's inputs, shown with its results."""
    text = f"{settings}|{seed}|{replications}|{MODEL_VERSION}"
    return hashlib.sha1(text.encode()).hexdigest()[:8]


@st.cache_data(max_entries=2 * CACHE_ENTRIES, ttl=CACHE_TTL_SECONDS, show_spinner=False)
def run_view(settings: str, seed: int, replications: int, model_version: str, width: int) -> dict:
    """What the pages draw from one run: KPI summary, bands at ``width``, retention, events."""
    res = run_results(settings, seed, replications, model_version)
    return {
        "kpi": res.kpi_summary(),
        "bands": res.bands(width=float(width)),
        "retention": res.retention_bands(float(width)),
        "events": res.event_log(0),
        "teams": list(res.team_names),
        "kpis": res.kpis(),
        "manifest": res.manifest,
    }


def view(settings: str, seed: int, replications: int, width: int) -> dict:
    return run_view(settings, seed, replications, MODEL_VERSION, width)


@st.cache_data(max_entries=2 * CACHE_ENTRIES, ttl=CACHE_TTL_SECONDS, show_spinner=False)
def run_paired(
    base_settings: str,
    settings: str,
    seed: int,
    replications: int,
    model_version: str,
    width: int,
) -> dict:
    """Paired differences (variant − baseline) on common random numbers."""
    comparison = compare(
        run_results(base_settings, seed, replications, model_version),
        run_results(settings, seed, replications, model_version),
    )
    return {
        "kpis": comparison.kpis(),
        "retention": comparison.retention_difference(float(width)),
        "metrics": {m: comparison.metric_difference(m, float(width)) for m in SERIES_NAMES},
    }


def paired(base_settings: str, settings: str, seed: int, replications: int, width: int) -> dict:
    return run_paired(base_settings, settings, seed, replications, MODEL_VERSION, width)


# --------------------------------------------------------------------------------------------------
# Exports
# --------------------------------------------------------------------------------------------------

BAND_COLUMNS = ("role", "scenario", "metric", "week", "mean", "lo", "p50", "hi", "band_percent")
KPI_COLUMNS = ("role", "scenario", "replication", *KPI_NAMES)


# A run to export: (role, scenario title, the run's view from :func:`view`).
ExportRun = tuple[str, str, Mapping]


def bands_csv(runs: Sequence[ExportRun], width: int) -> str:
    """Weekly bands of every metric, plus retention by age, for each run.

    For ``metric == "retention_by_age"`` the ``week`` column holds the customers' age in weeks.
    Plain pandas (no Streamlit calls), so a download button can build it when clicked.
    """
    frames = []
    for role, title, v in runs:
        retention = v["retention"].rename(columns={"age_weeks": "week"})
        retention.insert(0, "metric", "retention_by_age")
        df = pd.concat([v["bands"], retention], ignore_index=True)
        df.insert(0, "scenario", title)
        df.insert(0, "role", role)
        df["band_percent"] = width
        frames.append(df)
    return pd.concat(frames, ignore_index=True)[list(BAND_COLUMNS)].to_csv(index=False)


def kpis_csv(runs: Sequence[ExportRun]) -> str:
    """Every KPI of every replication for each run (plain pandas, like :func:`bands_csv`)."""
    frames = []
    for role, title, v in runs:
        df = v["kpis"].drop(columns=["scenario"])
        df.insert(0, "scenario", title)
        df.insert(0, "role", role)
        frames.append(df)
    return pd.concat(frames, ignore_index=True)[list(KPI_COLUMNS)].to_csv(index=False)
