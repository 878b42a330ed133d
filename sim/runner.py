"""Monte Carlo replications, in one process or many, with tidy results.

``run_many(params, replications, seed, workers)`` runs replication ``i`` with the i-th child of
``SeedSequence(seed)``, whichever process runs it, so results are identical serial or parallel. Results
keep the raw arrays (replication x metric x week) and turn them into tidy tables on demand.

``compare(baseline, variant)`` pairs replication ``i`` of one with replication ``i`` of the other. With
the same seed both share every random number the changed levers do not touch (see ``sim.streams``), so
the paired differences isolate the levers' effect.
"""

from __future__ import annotations

import gc
import itertools
import math
import multiprocessing
import os
import pickle
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from sim import __version__
from sim.model import Event, EventLog, Replication, simulate
from sim.outcomes import KPI_NAMES, KPIS, SERIES_NAMES
from sim.params import Params, diff
from sim.streams import replication_seed, replication_seeds

if TYPE_CHECKING:
    from sim.executors import TaskExecutor

MODEL_VERSION = __version__
MAX_REPLICATIONS = 10_000
PERCENTILES = (5, 50, 95)

Progress = Callable[[int, int], None]


def _run_chunk(params: Params, seed: int, indices: Sequence[int]) -> list:
    """Worker entry point: run some replications of one parameter set (importable, no UI)."""
    return [simulate(params, replication_seed(seed, i)) for i in indices]


def cpu_count() -> int:
    """Cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not on Linux
        return os.cpu_count() or 1


def _worker_started() -> None:
    """A worker has imported the model: its modules' objects live as long as it does, so the cyclic
    garbage collector need not look at them again."""
    gc.collect()
    gc.freeze()


def make_pool(workers: int | None = None) -> ProcessPoolExecutor:
    """A process pool with the ``spawn`` start method (safe under Streamlit and threads)."""
    return ProcessPoolExecutor(
        max_workers=workers or cpu_count(),
        mp_context=multiprocessing.get_context("spawn"),
        initializer=_worker_started,
    )


_pools: dict[int, ProcessPoolExecutor] = {}


def shared_pool(workers: int) -> ProcessPoolExecutor:
    """One pool per worker count for this process, created on first use and then reused."""
    pool = _pools.get(workers)
    if pool is None:
        pool = _pools[workers] = make_pool(workers)
    return pool


def _chunks(n: int, pieces: int) -> list[range]:
    pieces = max(1, min(n, pieces))
    bounds = np.linspace(0, n, pieces + 1).astype(int)
    return [range(a, b) for a, b in itertools.pairwise(bounds.tolist()) if b > a]


# At most about this many replications a task (a run still gets at least 4 tasks a worker), for about
# a millisecond of overhead each; a run's last tasks are single replications (two a worker), so that
# the workers' last tasks end close together.
TASK_REPLICATIONS = 4


def _tasks(replications: int, workers: int) -> list[range]:
    """The replications of a run, in order, split into tasks for ``workers`` workers: at least 4
    tasks a worker when there are enough replications, each of at most about
    ``TASK_REPLICATIONS``, and the last ``2 * workers`` of one replication each."""
    tail = 2 * workers if replications >= 4 * workers * TASK_REPLICATIONS else 0
    bulk = replications - tail
    tasks = _chunks(bulk, max(4 * workers, math.ceil(bulk / TASK_REPLICATIONS))) if bulk else []
    return tasks + [range(i, i + 1) for i in range(bulk, replications)]


def iter_replications(
    params: Params,
    replications: int,
    seed: int,
    workers: int = 1,
    executor: Executor | TaskExecutor | None = None,
) -> Iterator[tuple[range, list[Replication]]]:
    """Yield (indices, replications) chunks in order as they finish.

    ``executor`` may be a ``concurrent.futures`` executor or a :class:`sim.executors.TaskExecutor`
    (local pool or Dask cluster); the chunks and their order are the same either way.
    """
    if executor is not None and hasattr(executor, "imap"):
        chunks = _tasks(replications, executor.workers)
        tasks = [(params, seed, list(c)) for c in chunks]
        yield from zip(chunks, executor.imap(_run_chunk, tasks), strict=True)
        return
    if workers <= 1 and executor is None:
        seeds = replication_seeds(seed, replications)
        for i in range(replications):
            yield range(i, i + 1), [simulate(params, seeds[i])]
        return
    pool = executor or shared_pool(workers)
    n_workers = getattr(pool, "_max_workers", workers) or workers
    chunks = _tasks(replications, n_workers)
    futures = [pool.submit(_run_chunk, params, seed, list(c)) for c in chunks]
    try:
        for chunk, fut in zip(chunks, futures, strict=True):
            yield chunk, fut.result()
    finally:
        # A run abandoned part-way (an error, or the app's page rerun) takes its queued chunks
        # off the shared pool, so they do not hold up the runs after it.
        for fut in futures:
            fut.cancel()


def run_many(
    params: Params,
    replications: int = 100,
    seed: int = 1,
    workers: int = 1,
    *,
    scenario: str = "custom",
    executor: Executor | TaskExecutor | None = None,
    progress: Progress | None = None,
) -> Results:
    """Run ``replications`` replications of ``params`` and collect the results.

    Args:
        params: validated parameters.
        replications: number of replications (1 to 10,000).
        seed: the run's seed; replication i uses the i-th child of ``SeedSequence(seed)``.
        workers: processes to use (1 runs in this process).
        scenario: a name carried into the results and the manifest.
        executor: an existing pool, or a :class:`sim.executors.TaskExecutor` (local processes or
            a Dask cluster), to run on (takes precedence over ``workers``).
        progress: called with (replications done, total) as chunks finish.
    """
    if not isinstance(replications, int) or not 1 <= replications <= MAX_REPLICATIONS:
        raise ValueError(
            f"replications = {replications!r} is out of range: an integer from 1 to "
            f"{MAX_REPLICATIONS}"
        )
    if not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed = {seed!r} is not allowed: a non-negative integer")
    reps: list[Replication] = []
    for _, chunk in iter_replications(params, replications, seed, workers, executor):
        reps.extend(chunk)
        if progress is not None:
            progress(len(reps), replications)
    return Results.from_replications(scenario, params, seed, reps)


@dataclass
class Results:
    """The replications of one scenario, as arrays, with tidy views."""

    scenario: str
    params: Params
    seed: int
    series: np.ndarray  # (replications, metrics, weeks)
    alignment: np.ndarray  # (replications, teams, weeks)
    team_names: tuple[str, ...]
    retention: np.ndarray  # (replications, weeks + 1)
    kpi_values: np.ndarray  # (replications, kpis)
    event_logs: list[EventLog] = field(repr=False)
    counts: list[dict[str, int]] = field(repr=False)
    sim_events: np.ndarray = field(repr=False)

    def __reduce__(self) -> tuple:
        """Pickled at protocol 5 whatever protocol is asked for: the app's cache pickles at
        protocol 4, which takes two to three times as long over the replications' event logs
        (about 8 ms against 3 ms for 100 replications, on the path from a run to its charts)."""
        return (_unpickled_results, (type(self), pickle.dumps(self.__dict__, protocol=5)))

    @classmethod
    def from_replications(
        cls, scenario: str, params: Params, seed: int, reps: list[Replication]
    ) -> Results:
        return cls(
            scenario=scenario,
            params=params,
            seed=seed,
            series=np.stack([r.series for r in reps]),
            alignment=np.stack([r.alignment for r in reps]),
            team_names=reps[0].team_names,
            retention=np.stack([r.retention for r in reps]),
            kpi_values=np.array([[r.kpis[k] for k in KPI_NAMES] for r in reps]),
            event_logs=[r.event_log for r in reps],
            counts=[r.counts for r in reps],
            sim_events=np.array([r.sim_events for r in reps]),
        )

    # -- basics --------------------------------------------------------------------------------------
    @property
    def replications(self) -> int:
        return self.series.shape[0]

    @property
    def weeks(self) -> int:
        return self.series.shape[2]

    @cached_property
    def manifest(self) -> dict:
        """What produced these results: enough to reproduce them exactly."""
        return {
            "scenario": self.scenario,
            "overrides": diff(self.params),
            "seed": self.seed,
            "replications": self.replications,
            "horizon_weeks": self.weeks,
            "model_version": MODEL_VERSION,
        }

    def metric(self, name: str) -> np.ndarray:
        """One weekly metric, replications x weeks (``alignment.<team>`` for one team)."""
        if name.startswith("alignment."):
            team = name.split(".", 1)[1]
            return self.alignment[:, self.team_names.index(team), :]
        return self.series[:, SERIES_NAMES.index(name), :]

    @property
    def metric_names(self) -> tuple[str, ...]:
        return SERIES_NAMES + tuple(f"alignment.{t}" for t in self.team_names)

    # -- tidy tables ---------------------------------------------------------------------------------
    def weekly(self) -> pd.DataFrame:
        """Tidy long table: scenario, replication, week, metric, value."""
        names = self.metric_names
        stacked = np.concatenate((self.series, self.alignment), axis=1)  # (R, M, W)
        r, m, w = stacked.shape
        return pd.DataFrame(
            {
                "scenario": self.scenario,
                "replication": np.repeat(np.arange(r), m * w),
                "week": np.tile(np.arange(w), r * m),
                "metric": np.tile(np.repeat(np.array(names, dtype=object), w), r),
                "value": stacked.reshape(-1),
            }
        )

    def kpis(self) -> pd.DataFrame:
        """One row per replication, one column per KPI."""
        df = pd.DataFrame(self.kpi_values, columns=list(KPI_NAMES))
        df.insert(0, "replication", np.arange(self.replications))
        df.insert(0, "scenario", self.scenario)
        return df

    def kpi_summary(self) -> dict[str, dict[str, float | None]]:
        """Each KPI's mean and 5th, 50th and 95th percentiles across the replications in which it
        has a value (None if it has none); ``n`` counts those replications, of ``of``."""
        out: dict[str, dict[str, float | None]] = {}
        for j, name in enumerate(KPI_NAMES):
            col = self.kpi_values[:, j]
            col = col[np.isfinite(col)]
            if col.size == 0:
                out[name] = {"mean": None, "p05": None, "p50": None, "p95": None, "n": 0}
                out[name]["of"] = self.replications
                continue
            p05, p50, p95 = np.percentile(col, PERCENTILES)
            out[name] = {
                "mean": float(col.mean()),
                "p05": float(p05),
                "p50": float(p50),
                "p95": float(p95),
                "n": int(col.size),
                "of": self.replications,
            }
        return out

    def bands(self, metrics: Sequence[str] | None = None, width: float = 90.0) -> pd.DataFrame:
        """Weekly mean and percentile band per metric: metric, week, mean, lo, p50, hi."""
        names = list(metrics or self.metric_names)
        stacked = np.stack([self.metric(name) for name in names], axis=1)  # (R, M, W)
        mean, lo, p50, hi = _band_arrays(stacked, 50.0 - width / 2.0, 50.0 + width / 2.0)
        m, w = mean.shape
        return pd.DataFrame(
            {
                "metric": np.repeat(np.array(names, dtype=object), w),
                "week": np.tile(np.arange(w), m),
                "mean": mean.reshape(-1),
                "lo": lo.reshape(-1),
                "p50": p50.reshape(-1),
                "hi": hi.reshape(-1),
            }
        )

    def retention_bands(self, width: float = 90.0) -> pd.DataFrame:
        """Cohort survival by customer age (weeks): age, mean, lo, p50, hi."""
        return _band_table(self.retention, width, "age_weeks")

    def to_date(self, name: str) -> np.ndarray:
        """A weekly metric summed from the first week through each week, replications x weeks:
        value delivered to date, say (its last week is the KPI of the same name)."""
        return np.cumsum(self.metric(name), axis=1)

    def to_date_bands(self, name: str, width: float = 90.0) -> pd.DataFrame:
        """:meth:`to_date`'s mean and band per week: week, mean, lo, p50, hi."""
        return _band_table(self.to_date(name), width, "week")

    @property
    def events(self) -> list[list[Event]]:
        """Each replication's events: reviews, escalations, corrections and shocks."""
        return [log.unpack() for log in self.event_logs]

    def event_log(self, replication: int | None = None) -> pd.DataFrame:
        """Reviews (with what they detected), escalations, corrections and shocks."""
        rows = []
        reps = range(self.replications) if replication is None else [replication]
        for r in reps:
            rows.extend((r, *e) for e in self.event_logs[r].unpack())
        return pd.DataFrame(rows, columns=["replication", "day", "week", "kind", "team", "detail"])

    def replications_with(self, kind: str) -> int:
        """How many replications logged an event of ``kind`` (``review.event``, say)."""
        return sum(log.has(kind) for log in self.event_logs)


def _unpickled_results(cls: type[Results], state: bytes) -> Results:
    """:meth:`Results.__reduce__`'s inverse (for pickles this program made itself)."""
    results = cls.__new__(cls)
    results.__dict__.update(pickle.loads(state))
    return results


def _band_arrays(
    values: np.ndarray, lo_q: float, hi_q: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Mean and percentiles across axis 0, ignoring NaN (weeks with nothing to measure).

    Every column (each position after axis 0) is worked out on its own, as if alone, number for
    number as ``np.percentile`` of its values that are not NaN gives them (linear interpolation),
    in one vectorised pass: the columns are sorted once (NaN last), and each column's two
    neighbouring order statistics are picked among its own count of values and interpolated with
    NumPy's own formula.
    """
    if not 0.0 <= lo_q <= 50.0 <= hi_q <= 100.0:  # np.percentile refuses them too
        raise ValueError(f"percentiles {lo_q} and {hi_q} must lie from 0 to 50 and 50 to 100")
    q = np.true_divide(np.array([lo_q, 50.0, hi_q]), 100)
    with np.errstate(all="ignore"):
        finite = np.isfinite(values)
        any_finite = finite.any(axis=0)
        safe = np.where(any_finite[None, ...], values, 0.0)
        count = finite.sum(axis=0)
        mean = np.where(count > 0, np.nansum(safe, axis=0) / np.maximum(count, 1), np.nan)
        ordered = np.sort(values, axis=0)
        last = np.count_nonzero(~np.isnan(ordered), axis=0) - 1  # a column's last value
        # np.percentile's virtual index, neighbours and weight (a quantile at or past the last
        # value takes the last value, with the weight NumPy gives it).
        virtual = last[None, ...] * q.reshape((q.size,) + (1,) * last.ndim)
        below = np.floor(virtual)
        at_end = virtual >= last[None, ...]
        gamma = virtual - np.where(at_end, -1.0, below)
        prev = np.where(at_end, last, below.astype(np.intp)).clip(min=0)
        after = np.where(at_end, last, below.astype(np.intp) + 1).clip(min=0)
        a = np.take_along_axis(ordered, prev, axis=0)
        b = np.take_along_axis(ordered, after, axis=0)
        # numpy.lib's _lerp: from the lower neighbour below a weight of one half, else from the
        # upper one.
        step = b - a
        bands = a + step * gamma
        np.subtract(b, step * (1 - gamma), out=bands, where=gamma >= 0.5)
    bands[:, ~any_finite] = np.nan
    lo, p50, hi = bands
    return mean, lo, p50, hi


def _band_table(values: np.ndarray, width: float, x: str) -> pd.DataFrame:
    """:func:`_band_arrays` of a replications x weeks (or ages) array at a central ``width``
    percent, as a table: ``x``, mean, lo, p50, hi."""
    mean, lo, p50, hi = _band_arrays(values, 50.0 - width / 2.0, 50.0 + width / 2.0)
    return pd.DataFrame({x: np.arange(mean.size), "mean": mean, "lo": lo, "p50": p50, "hi": hi})


@dataclass(frozen=True)
class Comparison:
    """Paired differences of a variant against a baseline run on the same random numbers."""

    baseline: Results
    variant: Results

    def kpis(self) -> pd.DataFrame:
        """Per KPI: baseline and variant means, the paired difference's mean and 90% interval,
        and P(variant better): the share of paired replications in which the variant did better
        (ties count half). ``pairs`` counts the replications in which both have a value (of
        ``replications``), ``ties`` those in which both are the same; ``baseline_n`` and
        ``variant_n`` count each run's replications with a value. The means, like the difference,
        are over the pairs."""
        rows = []
        reps = self.baseline.replications
        for j, name in enumerate(KPI_NAMES):
            b = self.baseline.kpi_values[:, j]
            v = self.variant.kpi_values[:, j]
            ok = np.isfinite(b) & np.isfinite(v)
            k = KPIS[name]
            counts = {
                "baseline_n": int(np.isfinite(b).sum()),
                "variant_n": int(np.isfinite(v).sum()),
            }
            if not ok.any():
                rows.append(
                    {
                        "kpi": name,
                        "label": k.label,
                        "unit": k.unit,
                        "higher_is_better": k.higher_is_better,
                        "baseline": math.nan,
                        "variant": math.nan,
                        "diff_mean": math.nan,
                        "diff_p05": math.nan,
                        "diff_p95": math.nan,
                        "p_better": math.nan,
                        "pairs": 0,
                        "ties": 0,
                        "replications": reps,
                        **counts,
                    }
                )
                continue
            d = v[ok] - b[ok]
            gain = d if k.higher_is_better else -d
            scale = max(abs(b[ok]).max(), abs(v[ok]).max(), 1e-12)
            tie = np.abs(d) <= 1e-12 * scale
            p_better = float(((gain > 0) & ~tie).mean() + 0.5 * tie.mean())
            p05, p95 = np.percentile(d, [5, 95])
            rows.append(
                {
                    "kpi": name,
                    "label": k.label,
                    "unit": k.unit,
                    "higher_is_better": k.higher_is_better,
                    "baseline": float(b[ok].mean()),
                    "variant": float(v[ok].mean()),
                    "diff_mean": float(d.mean()),
                    "diff_p05": float(p05),
                    "diff_p95": float(p95),
                    "p_better": p_better,
                    "pairs": int(ok.sum()),
                    "ties": int(tie.sum()),
                    "replications": reps,
                    **counts,
                }
            )
        return pd.DataFrame(rows)

    def metric_difference(
        self, name: str, width: float = 90.0, *, to_date: bool = False
    ) -> pd.DataFrame:
        """Weekly paired difference (variant - baseline) of one metric with its band; of its sum
        to date (:meth:`Results.to_date`) when ``to_date``."""
        of = Results.to_date if to_date else Results.metric
        return _band_table(of(self.variant, name) - of(self.baseline, name), width, "week")

    def average_difference(self, name: str, width: float = 90.0) -> dict[str, float]:
        """A weekly metric's paired difference averaged over the horizon (over the weeks with a
        value), across replications: ``mean`` and the central ``width`` percent, ``lo`` to ``hi``
        (NaN when no replication has a value). One week's band can hold zero while the curve
        sits on one side of it all along; the average over the horizon says so."""
        d = self.variant.metric(name) - self.baseline.metric(name)
        with np.errstate(all="ignore"):
            count = np.isfinite(d).sum(axis=1)
            per_rep = np.where(count > 0, np.nansum(d, axis=1) / np.maximum(count, 1), np.nan)
        per_rep = per_rep[np.isfinite(per_rep)]
        if per_rep.size == 0:
            return {"mean": math.nan, "lo": math.nan, "hi": math.nan}
        lo, hi = np.percentile(per_rep, [50.0 - width / 2.0, 50.0 + width / 2.0])
        return {"mean": float(per_rep.mean()), "lo": float(lo), "hi": float(hi)}

    def retention_difference(self, width: float = 90.0) -> pd.DataFrame:
        """Paired difference of cohort survival by age (variant - baseline) with its band."""
        return _band_table(self.variant.retention - self.baseline.retention, width, "age_weeks")


def compare(baseline: Results, variant: Results) -> Comparison:
    """Pair a variant with a baseline; both must share seed, replications and horizon."""
    for what in ("seed", "replications", "weeks"):
        if getattr(baseline, what) != getattr(variant, what):
            raise ValueError(
                f"{what} differs between baseline ({getattr(baseline, what)}) and variant "
                f"({getattr(variant, what)}): paired comparison needs them equal"
            )
    return Comparison(baseline, variant)
