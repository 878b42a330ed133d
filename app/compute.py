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

import contextlib
import contextvars
import hashlib
import math
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

import numpy as np
import pandas as pd
import streamlit as st

import sim.runner
from app.state import from_canonical
from sim.narrative import why_kpi, why_line
from sim.outcomes import KPI_NAMES, SERIES_NAMES
from sim.params import Params, diff
from sim.report.format import count
from sim.runner import MODEL_VERSION, Progress, Results, compare, cpu_count, make_pool

WORKERS = max(1, min(cpu_count(), 8))
POOL_MIN_REPLICATIONS = 10
CACHE_ENTRIES = 64  # runs kept: a class's six lessons outlast some thirty challenge attempts
CACHE_TTL_SECONDS = 4 * 3600  # a run warmed before a workshop is still there at its end
# The shortest time between two moves of a run's progress bar. Each move is a message the browser
# draws (on one machine, with the cores the run uses), and the moment a page rerun stops the run.
PROGRESS_EVERY_SECONDS = 0.6


@st.cache_resource(show_spinner=False)
def process_pool(workers: int = WORKERS) -> ProcessPoolExecutor:
    """The server's one process pool; its workers start and import the model right away."""
    pool = make_pool(workers)
    # Any function of sim.runner makes a worker import the whole model; do it before the first run.
    for _ in range(workers):
        pool.submit(cpu_count)
    return pool


class PoolQueue:
    """How many runs are using the server's pool, so that a new run can say it shares the pool.

    Every session shares the one pool. A Sandbox, Compare or Learn run hands the pool all its work
    at once, so a run started after it waits for it; an experiment hands over a few tasks at a time
    and shares the pool as it goes. Either way, in a class where everyone presses Run at once, each
    run takes longer for every other run on the pool.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.running = 0

    @contextlib.contextmanager
    def turn(self, on_pool: bool = True) -> Iterator[int]:
        """Hold a place while a run uses the pool; yields the number of runs already on it (0 for a
        run that does not use the pool)."""
        if not on_pool:
            yield 0
            return
        with self._lock:
            ahead = self.running
            self.running += 1
        try:
            yield ahead
        finally:
            with self._lock:
                self.running -= 1


POOL_QUEUE = PoolQueue()


def waiting_text(ahead: int) -> str:
    """What a progress bar adds when other runs were using the pool as this one started."""
    if ahead <= 0:
        return ""
    runs = "run" if ahead == 1 else "runs"
    return f" (sharing the simulation pool with {ahead} other {runs} on this server)"


def uses_pool(replications: int) -> bool:
    """Whether a Sandbox, Compare or Learn run of ``replications`` goes to the process pool."""
    return replications >= POOL_MIN_REPLICATIONS and WORKERS >= 2


def _run(params: Params, replications: int, seed: int, progress: Progress) -> Results:
    run_many = sim.runner.run_many  # looked up at call time, so tests can count the runs

    if not uses_pool(replications):
        return run_many(params, replications, seed, progress=progress)
    try:
        return run_many(params, replications, seed, executor=process_pool(), progress=progress)
    except BrokenProcessPool:
        # A worker died (out of memory, killed): start a fresh pool and run once more.
        process_pool.clear()
        return run_many(params, replications, seed, executor=process_pool(), progress=progress)


# What a run's progress bar names (Markdown-safe text), set by a page that runs several scenarios.
# Not part of the cache key: the same settings share one cached run whatever the page calls them.
_RUN_NAME: contextvars.ContextVar[str] = contextvars.ContextVar("run_name", default="")


@contextlib.contextmanager
def named_run(name: str) -> Iterator[None]:
    """Runs started inside this block name ``name`` in their progress bar (shown as Markdown)."""
    token = _RUN_NAME.set(name)
    try:
        yield
    finally:
        _RUN_NAME.reset(token)


def progress_text(replications: int, done: int | None = None) -> str:
    """A progress bar's text, naming the run when a page has named it."""
    name = _RUN_NAME.get()
    reps = count(replications, "replication")
    if done is not None:
        return f"Simulating{' ' + name if name else ''}: {done} of {reps} done"
    return f"Simulating {name + ': ' if name else ''}{reps}…"


@st.cache_data(max_entries=CACHE_ENTRIES, ttl=CACHE_TTL_SECONDS, show_spinner=False)
def run_results(settings: str, seed: int, replications: int, model_version: str) -> Results:
    """The replications of one configuration (``settings`` is :func:`app.state.canonical`).

    A progress bar shows while the replications run and is removed when they are done.
    """
    params = from_canonical(settings)
    with POOL_QUEUE.turn(uses_pool(replications)) as ahead:
        bar = st.progress(0.0, text=progress_text(replications) + waiting_text(ahead))

        def report(done: int, total: int) -> None:
            bar.progress(done / total, text=progress_text(total, done))

        try:
            return _run(params, replications, seed, throttled(report, PROGRESS_EVERY_SECONDS))
        finally:
            bar.empty()


def throttled(
    report: Progress, every: float, clock: Callable[[], float] = time.monotonic
) -> Progress:
    """``report``, called at most once every ``every`` seconds (the first time ``every`` after the
    run starts) and not when the run is done, as its bar is removed then."""
    last = clock()

    def report_now_and_then(done: int, total: int) -> None:
        nonlocal last
        now = clock()
        if done < total and now - last >= every:
            last = now
            report(done, total)

    return report_now_and_then


def results(settings: str, seed: int, replications: int) -> Results:
    """Cached results for the current model version."""
    return run_results(settings, seed, replications, MODEL_VERSION)


def run_id(settings: str, seed: int, replications: int) -> str:
    """A short fingerprint of a run's inputs, shown with its results."""
    text = f"{settings}|{seed}|{replications}|{MODEL_VERSION}"
    return hashlib.sha1(text.encode()).hexdigest()[:8]


# The KPI that picks the replication whose events are shown (then the fallback when it is undefined).
REPRESENTATIVE_KPIS = ("retention_52w", "value_delivered")


def representative_replication(kpis: pd.DataFrame) -> dict:
    """The replication whose headline KPI is closest to the median across replications.

    Its events (reviews, escalations, shocks) tell a typical story rather than a lucky or unlucky
    one. The headline KPI is 52-week retention, or value delivered when retention is undefined
    (horizons under 52 weeks). Ties go to the lowest replication.

    Returns:
        ``replication`` (0-based), ``kpi``, that replication's ``value`` and the ``median``.
    """
    for kpi in REPRESENTATIVE_KPIS:
        values = kpis[kpi].to_numpy(dtype=float)
        finite = np.isfinite(values)
        if finite.any():
            median = float(np.median(values[finite]))
            distance = np.where(finite, np.abs(values - median), np.inf)
            row = int(np.argmin(distance))
            return {
                "replication": int(kpis["replication"].iloc[row]),
                "kpi": kpi,
                "value": float(values[row]),
                "median": median,
            }
    return {"replication": 0, "kpi": None, "value": math.nan, "median": math.nan}


@st.cache_data(max_entries=2 * CACHE_ENTRIES, ttl=CACHE_TTL_SECONDS, show_spinner=False)
def run_view(settings: str, seed: int, replications: int, model_version: str, width: int) -> dict:
    """What the pages draw from one run: KPI summary, bands at ``width``, retention, events.

    The events are those of the representative replication (:func:`representative_replication`).
    """
    res = run_results(settings, seed, replications, model_version)
    kpis = res.kpis()
    typical = representative_replication(kpis)
    return {
        "kpi": res.kpi_summary(),
        "bands": res.bands(width=float(width)),
        "retention": res.retention_bands(float(width)),
        "value_to_date": res.to_date_bands("value_delivered", float(width)),
        "events": res.event_log(typical["replication"]),
        # Replications that called an event-triggered review.
        "replications_with_event_review": res.replications_with("review.event"),
        "representative": typical,
        "teams": list(res.team_names),
        "kpis": kpis,
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
        "value_to_date": comparison.metric_difference(
            "value_delivered", float(width), to_date=True
        ),
        "averages": {m: comparison.average_difference(m, float(width)) for m in SERIES_NAMES},
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


# --------------------------------------------------------------------------------------------------
# Event timeline
# --------------------------------------------------------------------------------------------------

# Event kinds of the model's log → (group shown in the filter, what it was, in words).
EVENT_LABELS = {
    "review.metric": ("Reviews", "Metric review"),
    "review.council": ("Reviews", "Product council"),
    "review.strategy": ("Reviews", "Strategy review"),
    "review.event": ("Reviews", "Event-triggered review"),
    "decision.council": ("Decisions and escalations", "Council decisions"),
    "decision.event": ("Decisions and escalations", "Decisions at an event-triggered review"),
    "decision.strategy": ("Decisions and escalations", "Decisions at the strategy review"),
    "escalation": ("Decisions and escalations", "Items escalated"),
    "drift_onset": ("Drift and corrections", "Drift begins"),
    "correction": ("Drift and corrections", "Drift corrected"),
    "reaim": ("Market", "Backlog re-aimed"),
    "market_shift": ("Market", "Market shift"),
    "demand_shock": ("Market", "Demand shock"),
}
EVENT_GROUPS = ("Reviews", "Decisions and escalations", "Drift and corrections", "Market")
TIMELINE_COLUMNS = ("week", "what", "team", "detail", "kind")


def timeline_table(events: pd.DataFrame) -> pd.DataFrame:
    """One replication's event log in readable columns: week, what, team, detail (and its group).

    Organisation-wide events (reviews, escalations, shocks) read "all teams" under team.
    """
    if events.empty:
        return pd.DataFrame(columns=list(TIMELINE_COLUMNS))
    kinds = events["kind"].astype(str)
    labels = [EVENT_LABELS.get(k, ("Other", k.replace("_", " ").replace(".", ": "))) for k in kinds]
    team = events["team"].astype(str).replace({"": "all teams", "council": "the council"})
    table = pd.DataFrame(
        {
            "week": events["week"].astype(int).to_numpy(),
            "what": [what for _, what in labels],
            "team": team.to_numpy(),
            "detail": events["detail"].astype(str).to_numpy(),
            "kind": [group for group, _ in labels],
        }
    )
    # Weekly escalation counts are logged at the week's end: order by week, keeping the log's order.
    return table.sort_values("week", kind="stable").reset_index(drop=True)


# --------------------------------------------------------------------------------------------------
# Presentation: why the headline KPI moved
# --------------------------------------------------------------------------------------------------

MAX_WHY_LEVERS = 6
# Most simulations one explanation may run (2^levers scenarios × replications).
MAX_WHY_SIMULATIONS = 800
MIN_WHY_REPLICATIONS = 10


@st.cache_data(max_entries=CACHE_ENTRIES, ttl=CACHE_TTL_SECONDS, show_spinner=False)
def run_why(
    base_settings: str,
    settings: str,
    seed: int,
    replications: int,
    model_version: str,
    kpi: str,
    by: str = "setting",
    total: float | None = None,
) -> dict:
    """A sentence attributing ``kpi``'s paired difference to the settings (or groups) that changed.

    :func:`sim.explore.why`: Shapley attribution over at most :data:`MAX_WHY_LEVERS` changed
    settings, on the same seed, within :data:`MAX_WHY_SIMULATIONS`; with one changed setting the
    whole difference is its own and nothing extra runs.

    ``total``, the paired difference over all the replications (the headline's), is what the
    sentence splits when the attribution runs on fewer (see :func:`sim.explore.why`).

    Returns:
        ``text`` (None when there is no explanation), ``reason`` (why not), ``levers`` (how many
        settings changed), ``replications`` (per scenario, when an attribution ran) and
        ``note`` (where the sentence's numbers come from, when not from every replication).
    """
    base, variant = from_canonical(base_settings), from_canonical(settings)
    # With one changed setting the difference is its own: nothing runs, so no place is taken.
    with POOL_QUEUE.turn(WORKERS >= 2 and len(diff(variant, base)) > 1) as ahead:
        return _attribute(base, variant, kpi, seed, replications, by, total, ahead)


def _attribute(
    base: Params,
    variant: Params,
    kpi: str,
    seed: int,
    replications: int,
    by: str,
    total: float | None,
    ahead: int,
) -> dict:
    """:func:`run_why`'s attribution, with a progress bar that says how many runs share the pool."""
    from sim.executors import PoolExecutor, SerialExecutor
    from sim.explore import ExploreError
    from sim.explore import why as explain_why
    from sim.params import ParamError

    bar = st.progress(
        0.0,
        text="Explaining the difference: running each combination of changes…"
        + waiting_text(ahead),
    )

    def report(done: int, of: int) -> None:
        bar.progress(done / of, text=f"Explaining the difference: {done} of {of} simulations done")

    executor = PoolExecutor(pool=process_pool()) if WORKERS >= 2 else SerialExecutor()
    try:
        found = explain_why(
            base,
            variant,
            kpi,
            replications=replications,
            seed=seed,
            by=by,
            max_levers=MAX_WHY_LEVERS,
            max_simulations=MAX_WHY_SIMULATIONS,
            min_replications=MIN_WHY_REPLICATIONS,
            total=total,
            executor=executor,
            progress=throttled(report, PROGRESS_EVERY_SECONDS),
        )
    except (ExploreError, ParamError, ValueError) as err:
        return {
            "text": None,
            "reason": f"the difference could not be attributed: {err}",
            "levers": 0,
            "replications": 0,
            "note": None,
        }
    finally:
        bar.empty()
    return {
        "text": found.text,
        "reason": found.reason,
        "levers": found.levers,
        "replications": found.replications,
        "note": found.note(replications),
    }


def why(
    base_settings: str,
    settings: str,
    seed: int,
    replications: int,
    kpi: str,
    by: str = "setting",
    comparison: pd.DataFrame | None = None,
    total: float | None = None,
) -> dict:
    """:func:`run_why` for the current model; ``comparison`` (``Comparison.kpis()`` of the whole
    run), or ``total`` itself, gives the difference the sentence splits."""
    if comparison is not None:
        total = float(comparison.set_index("kpi").loc[kpi, "diff_mean"])
    return run_why(base_settings, settings, seed, replications, MODEL_VERSION, kpi, by, total)


# --------------------------------------------------------------------------------------------------
# Decision brief
# --------------------------------------------------------------------------------------------------


def brief_html(
    base_settings: str,
    settings: str,
    seed: int,
    replications: int,
    *,
    base_title: str,
    variant_title: str,
    link: str | None,
    command: str,
) -> str:
    """The decision brief (self-contained HTML) of the baseline against the proposal.

    The runs come from the cache (the page has just drawn them); the charts are rendered to SVG
    (a second or two) and the changed settings' shares of the difference are worked out (cached,
    but on first use one run per combination of changed settings), so the download button builds
    the brief only when clicked.
    """
    from sim.report.brief import render

    variant = results(settings, seed, replications)
    base = results(base_settings, seed, replications)
    table = compare(base, variant).kpis()
    kpi = why_kpi(variant.weeks, table)
    explanation = why(base_settings, settings, seed, replications, kpi, comparison=table)
    text = explanation["text"]
    return render(
        base,
        variant,
        base_title=base_title,
        variant_title=variant_title,
        link=link,
        command=command,
        why=why_line(text, table.set_index("kpi").loc[kpi]) if text else None,
        why_note=explanation["note"],
    )
