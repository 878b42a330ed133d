"""Parameter sweeps: one or two levers over a grid, replications at every point on common random numbers.

Every grid point runs replications ``0..n-1`` with the same seed, so the points share every random
number their settings do not touch and the curve's shape is sharp even with few replications. Each
point's KPIs are folded into running statistics as the work streams in (:mod:`sim.explore.stats`).

A grid of up to ``MAX_PAIRED_POINTS`` points, run with at least ``MIN_PAIRED_REPLICATIONS``, also
keeps the paired difference of every two points, replication by replication
(:meth:`SweepResult.paired`): two points whose intervals overlap can still be told apart, since their
replications share their random numbers. Its tasks then hold whole replications of every point.

The result is tidy — one row per point and KPI with the mean, its standard error and 95% confidence
interval — ready for a line with a band (one lever) or a heatmap (two levers).
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from sim.executors import TaskExecutor
from sim.explore.evaluate import (
    Evaluator,
    Progress,
    Runner,
    as_evaluator,
    check_budget,
    check_replications,
    joint_tasks,
    point_tasks,
)
from sim.explore.levers import Lever, check_distinct, check_kpi
from sim.explore.stats import CONFIDENCE, Moments, clean
from sim.outcomes import NULL_REASONS
from sim.params import Params

MAX_SWEEP_LEVERS = 2
MAX_SWEEP_POINTS = 2500
#: Grids up to this size keep the paired difference of every two points (points² x KPIs statistics).
MAX_PAIRED_POINTS = 64
#: ... when run with at least this many replications: one task a replication then still gives the
#: workers eight tasks or more to share.
MIN_PAIRED_REPLICATIONS = 8


@dataclass
class SweepResult:
    """Each grid point's KPI statistics.

    Attributes:
        levers: the levers swept (one or two).
        grid: the values each lever visits.
        points: every grid point as ``{key: value}``, the first lever varying slowest.
        outputs: names of every output computed.
        kpis: the outputs reported (tables and JSON).
        stats: running statistics, shape (points, outputs).
        replications: replications per point.
        seed: the seed every point shares.
        manifest: what produced the result.
        pairs: point a − point b per replication, shape (points, points, outputs); None for a grid
            of more than ``MAX_PAIRED_POINTS`` points or fewer than ``MIN_PAIRED_REPLICATIONS``.
        higher: whether point a was higher than point b, per replication (its mean is the share).
    """

    levers: tuple[Lever, ...]
    grid: tuple[tuple[Any, ...], ...]
    points: list[dict[str, Any]]
    outputs: tuple[str, ...]
    kpis: tuple[str, ...]
    stats: Moments
    replications: int
    seed: int
    manifest: dict[str, Any] = field(default_factory=dict)
    pairs: Moments | None = field(default=None, repr=False)
    higher: Moments | None = field(default=None, repr=False)

    def paired(self, kpi: str, a: int, b: int) -> dict[str, float | None] | None:
        """Point ``a`` − point ``b`` over the replications in which both have ``kpi``: ``n``, mean,
        sd, se, 95% CI, and ``share_higher``, the share of them in which ``a`` is higher. None when
        the sweep kept no pairs (a large grid, or few replications)."""
        if self.pairs is None or self.higher is None:
            return None
        j = self._kpi_index(kpi)
        return {
            **self.pairs.summary((a, b, j)),
            "share_higher": clean(self.higher.values[a, b, j]),
        }

    def extremes(self, kpi: str) -> dict[str, float | None] | None:
        """The highest point − the lowest of ``kpi`` (each the first, in grid order, with its mean),
        paired as :meth:`paired` gives it, with their indices as ``highest`` and ``lowest``; None
        when no point has a value or the sweep kept no pairs."""
        means = self.stats.values[:, self._kpi_index(kpi)]
        if np.isnan(means).all():
            return None
        hi, lo = int(np.nanargmax(means)), int(np.nanargmin(means))
        paired = self.paired(kpi, hi, lo)
        return None if paired is None else {**paired, "highest": hi, "lowest": lo}

    def _kpi_index(self, kpi: str) -> int:
        return self.outputs.index(check_kpi(kpi, self.outputs))

    def table(self, kpis: Sequence[str] | None = None) -> pd.DataFrame:
        """Tidy: one row per point and KPI — lever columns, kpi, n, mean, sd, se, ci_lo, ci_hi."""
        names = list(kpis or self.kpis)
        lo, hi = self.stats.ci(CONFIDENCE)
        rows = []
        for p, point in enumerate(self.points):
            for name in names:
                j = self._kpi_index(name)
                rows.append(
                    {
                        **point,
                        "kpi": name,
                        "n": int(self.stats.count[p, j]),
                        "mean": self.stats.values[p, j],
                        "sd": self.stats.sd[p, j],
                        "se": self.stats.se[p, j],
                        "ci_lo": lo[p, j],
                        "ci_hi": hi[p, j],
                    }
                )
        columns = [lv.key for lv in self.levers] + [
            "kpi",
            "n",
            "mean",
            "sd",
            "se",
            "ci_lo",
            "ci_hi",
        ]
        return pd.DataFrame(rows, columns=columns)

    def frame(self, kpi: str) -> pd.DataFrame:
        """One KPI's rows: the data of a line with a band (one lever) or a heatmap (two levers)."""
        return self.table([kpi]).drop(columns="kpi")

    def matrix(self, kpi: str) -> pd.DataFrame:
        """Means of one KPI as a matrix: first lever down, second lever across (two levers only)."""
        if len(self.levers) != 2:
            raise ValueError("matrix() needs a sweep of two levers")
        a, b = (lv.key for lv in self.levers)
        return self.frame(kpi).pivot(index=a, columns=b, values="mean")

    def null_reasons(self) -> dict[str, str]:
        """KPIs that could not be computed at any point, with the reason."""
        out = {}
        for name in self.kpis:
            j = self.outputs.index(name)
            if not self.stats.count[:, j].any():
                out[name] = NULL_REASONS.get(name, "not defined for these settings")
        return out

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: manifest, levers and, per point, its settings and KPI statistics."""
        points = []
        for p, point in enumerate(self.points):
            kpis = {}
            for name in self.kpis:
                kpis[name] = self.stats.summary((p, self.outputs.index(name)))
            points.append({"settings": point, "kpis": kpis})
        out: dict[str, Any] = {
            "experiment": "sweep",
            "manifest": self.manifest,
            "levers": [
                {"key": lv.key, "values": list(values)}
                for lv, values in zip(self.levers, self.grid, strict=True)
            ],
            "kpis": list(self.kpis),
            "confidence": CONFIDENCE,
            "points": points,
        }
        extremes = {name: self.extremes(name) for name in self.kpis}
        if any(extremes.values()):
            out["extremes"] = extremes  # highest − lowest point, paired
        reasons = self.null_reasons()
        if reasons:
            out["null_reasons"] = reasons
        return out


def sweep(
    model: Params | Evaluator,
    levers: Sequence[Lever],
    *,
    replications: int = 20,
    seed: int = 1,
    kpis: Sequence[str] | None = None,
    scenario: str = "custom",
    executor: TaskExecutor | None = None,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
) -> SweepResult:
    """Run every point of a one- or two-lever grid with the same replications.

    Args:
        model: the base scenario (Params) or another evaluator.
        levers: one or two levers; numeric ranges visit ``points`` (default 5) evenly spaced values.
        replications: replications per point (1 to 10,000).
        seed: the seed every point shares (common random numbers).
        kpis: KPIs to report (default all; every KPI is computed anyway).
        scenario: the base scenario's name, for the manifest.
        executor: where to run (default every local core, or Dask if ``SIM_DASK_SCHEDULER`` is set).
        progress: called with (simulations done, total).
        cancel: set it to stop the run (raises :class:`sim.executors.Cancelled`).

    Raises:
        ParamError: a bad lever or a grid point that is not a valid scenario.
        ValueError: bad replications, seed, KPI or size.
    """
    evaluator = as_evaluator(model, scenario)
    check_replications(replications, seed)
    if not 1 <= len(levers) <= MAX_SWEEP_LEVERS:
        raise ValueError(
            f"a sweep takes 1 or {MAX_SWEEP_LEVERS} levers, not {len(levers)}: use sensitivity "
            f"analysis for more"
        )
    levers = tuple(evaluator.check_lever(lv) for lv in levers)
    check_distinct(levers)
    outputs = evaluator.outputs
    reported = tuple(dict.fromkeys(check_kpi(k, outputs) for k in (kpis or outputs)))
    grid = tuple(lv.grid() for lv in levers)
    points = [
        dict(zip((lv.key for lv in levers), combo, strict=True))
        for combo in itertools.product(*grid)
    ]
    if len(points) > MAX_SWEEP_POINTS:
        raise ValueError(
            f"the grid has {len(points)} points: at most {MAX_SWEEP_POINTS} allowed; use fewer "
            f"points per lever"
        )
    for point in points:
        evaluator.check_point(point)
    total = len(points) * replications
    check_budget(evaluator, total, "the sweep")
    n = len(points)
    stats = Moments((n, len(outputs)))
    pairs = higher = None
    if n <= MAX_PAIRED_POINTS and replications >= MIN_PAIRED_REPLICATIONS:
        # Every task holds whole replications of every point, so they can be paired as they come;
        # one replication a task or more, and eight tasks or more to share among workers.
        size = min(evaluator.task_size, max(n, -(-total // 8)))
        tasks = joint_tasks(n, 0, replications, size)
        pairs, higher = Moments((n, n, len(outputs))), Moments((n, n, len(outputs)))
    else:
        tasks = point_tasks(n, 0, replications, evaluator.task_size)
    with Runner(evaluator, seed, executor, progress, cancel, total) as runner:
        for task, values in runner.run(points, tasks):
            for k, p in enumerate(task.point_indices):
                stats.add(values[k], axis=0, at=p)
            if pairs is not None and higher is not None:
                block = np.asarray(values, dtype=float)  # (points, replications, outputs)
                d = block[:, None] - block[None, :]
                pairs.add(d, axis=2)
                higher.add(np.where(np.isnan(d), np.nan, d > 0), axis=2)
        executor_name = runner.executor_name
    manifest = {
        "experiment": "sweep",
        **evaluator.describe(),
        "levers": [lv.to_dict() for lv in levers],
        "seed": seed,
        "replications": replications,
        "points": len(points),
        "executor": executor_name,
    }
    return SweepResult(
        levers=levers,
        grid=grid,
        points=points,
        outputs=tuple(outputs),
        kpis=reported,
        stats=stats,
        replications=replications,
        seed=seed,
        manifest=manifest,
        pairs=pairs,
        higher=higher,
    )


__all__ = ["SweepResult", "sweep"]
