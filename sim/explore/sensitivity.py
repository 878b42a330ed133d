"""Global sensitivity analysis with SALib: Morris screening and Sobol indices.

Which lever matters most, over the whole of the ranges a leader is willing to consider, not only near
today's settings? Two established methods answer it:

- **Morris** elementary effects (Morris 1991; Campolongo et al. 2007): ``r`` trajectories through a
  ``levels``-point grid, ``r (k + 1)`` evaluations for ``k`` levers. ``mu_star`` (the mean absolute
  effect of moving a lever across its range) ranks levers; ``sigma`` flags non-linearity and
  interactions. Cheap: a screening tool.
- **Sobol** variance-based indices with Saltelli's sampling scheme (Saltelli 2002, 2010): ``N (k + 2)``
  evaluations. ``S1`` is the share of the KPI's variance a lever explains alone, ``ST`` the share it
  is involved in, interactions included.

Each design point is the mean of ``replications`` replications, all on the same seed, so the design
sees the levers' effect and not the noise of different random numbers (common random numbers). The
confidence intervals are SALib's bootstrap intervals (95%). Integer settings are rounded when
simulated; the design itself is continuous.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from sim.executors import TaskExecutor
from sim.explore.evaluate import (
    Evaluator,
    ModelEvaluator,
    Progress,
    Runner,
    as_evaluator,
    check_budget,
    check_replications,
    sample_tasks,
)
from sim.explore.levers import (
    ExploreError,
    Lever,
    check_distinct,
    check_kpi,
    kpi_null_reason,
    require_ranges,
)
from sim.explore.stats import CONFIDENCE, Moments, clean
from sim.params import Params

METHODS = ("morris", "sobol")
DEFAULT_SAMPLES = {"morris": 10, "sobol": 64}
SAMPLE_LIMITS = {"morris": (2, 1000), "sobol": (4, 65536)}
BOOTSTRAP_RESAMPLES = 1000
MAX_SENSITIVITY_LEVERS = 20
_COLUMNS = {
    "morris": ("mu_star", "mu_star_conf", "mu", "sigma"),
    "sobol": ("S1", "S1_conf", "ST", "ST_conf"),
}


@dataclass
class SensitivityResult:
    """Sensitivity indices of each lever for each KPI.

    Attributes:
        method: ``morris`` or ``sobol``.
        levers: the levers analysed.
        kpis: the KPIs analysed.
        indices: per KPI, a dict of index name → array over levers (None if the KPI was undefined).
        reasons: per KPI left out, why.
        samples: Morris trajectories or Sobol base samples N.
        evaluations: design points evaluated.
        replications: replications averaged at each design point.
        manifest: what produced the result.
    """

    method: str
    levers: tuple[Lever, ...]
    kpis: tuple[str, ...]
    indices: dict[str, dict[str, np.ndarray] | None]
    reasons: dict[str, str]
    samples: int
    evaluations: int
    replications: int
    seed: int
    manifest: dict[str, Any] = field(default_factory=dict)

    @property
    def importance_name(self) -> str:
        """The index that ranks levers: ``mu_star`` (Morris) or ``ST`` (Sobol)."""
        return "mu_star" if self.method == "morris" else "ST"

    def ranked(self, kpi: str) -> pd.DataFrame:
        """One KPI's levers, most important first: the data of a ranked bar chart with intervals.

        Columns: rank, lever, importance, importance_conf (half-width of its 95% interval), then the
        method's indices (Morris: mu_star, mu_star_conf, mu, sigma; Sobol: S1, S1_conf, ST, ST_conf).
        """
        check_kpi(kpi, self.kpis)
        cols = _COLUMNS[self.method]
        found = self.indices.get(kpi)
        if found is None:
            return pd.DataFrame(columns=["rank", "lever", "importance", "importance_conf", *cols])
        name = self.importance_name
        df = pd.DataFrame(
            {
                "lever": [lv.key for lv in self.levers],
                "importance": found[name],
                "importance_conf": found[f"{name}_conf"],
                **{c: found[c] for c in cols},
            }
        )
        df = df.sort_values("importance", ascending=False, kind="stable").reset_index(drop=True)
        df.insert(0, "rank", np.arange(1, len(df) + 1))
        return df

    def table(self) -> pd.DataFrame:
        """Tidy: one row per KPI and lever (KPIs left out have no rows; see ``reasons``)."""
        frames = [
            self.ranked(k).assign(kpi=k) for k in self.kpis if self.indices.get(k) is not None
        ]
        cols = ["kpi", "rank", "lever", "importance", "importance_conf", *_COLUMNS[self.method]]
        if not frames:
            return pd.DataFrame(columns=cols)
        return pd.concat(frames, ignore_index=True)[cols]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: manifest and, per KPI, the levers ranked with their indices."""
        kpis: dict[str, Any] = {}
        for k in self.kpis:
            if self.indices.get(k) is None:
                kpis[k] = None
                continue
            kpis[k] = [
                {
                    key: (clean(v) if isinstance(v, float | np.floating) else v)
                    for key, v in row.items()
                }
                for row in self.ranked(k).to_dict("records")
            ]
            for row in kpis[k]:
                row["rank"] = int(row["rank"])
        out: dict[str, Any] = {
            "experiment": "sensitivity",
            "method": self.method,
            "manifest": self.manifest,
            "levers": [lv.to_dict() for lv in self.levers],
            "importance": self.importance_name,
            "confidence": CONFIDENCE,
            "kpis": kpis,
        }
        if self.reasons:
            out["null_reasons"] = self.reasons
        return out


def _salib_seed(seed: int, purpose: int) -> int:
    """A non-zero 32-bit seed for SALib, derived from the run's seed (SALib ignores a seed of 0)."""
    return int(np.random.SeedSequence([seed, purpose]).generate_state(1)[0]) + 1


def design(
    method: str, levers: Sequence[Lever], samples: int, seed: int, levels: int = 4
) -> tuple[dict[str, Any], np.ndarray]:
    """The SALib problem and the design matrix (evaluations × levers) for a method."""
    problem = {
        "num_vars": len(levers),
        "names": [lv.key for lv in levers],
        "bounds": [[lv.lo, lv.hi] for lv in levers],
    }
    if method == "morris":
        from SALib.sample import morris as morris_sample

        x = morris_sample.sample(problem, samples, num_levels=levels, seed=_salib_seed(seed, 1))
    else:
        from SALib.sample import sobol as sobol_sample

        x = sobol_sample.sample(
            problem, samples, calc_second_order=False, scramble=True, seed=_salib_seed(seed, 1)
        )
    return problem, np.asarray(x, dtype=float)


def check_samples(method: str, samples: int) -> None:
    """Raise ExploreError unless ``samples`` suits the method."""
    lo, hi = SAMPLE_LIMITS[method]
    if isinstance(samples, bool) or not isinstance(samples, int) or not lo <= samples <= hi:
        what = "trajectories" if method == "morris" else "base samples N"
        raise ExploreError(
            f"--samples = {samples!r} is out of range: {what} for {method}, an integer from {lo} "
            f"to {hi}"
        )
    if method == "sobol" and samples & (samples - 1):
        raise ExploreError(
            f"--samples = {samples} is not a power of two: Sobol sampling needs N = 2^k (e.g. "
            f"{2 ** round(math.log2(samples))}) to keep its balance properties"
        )


def sensitivity(
    model: Params | Evaluator,
    levers: Sequence[Lever],
    *,
    method: str = "morris",
    kpis: Sequence[str] | None = None,
    samples: int | None = None,
    replications: int = 4,
    seed: int = 1,
    levels: int = 4,
    scenario: str = "custom",
    executor: TaskExecutor | None = None,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
) -> SensitivityResult:
    """Morris screening or Sobol indices of the KPIs over the levers' ranges.

    Args:
        model: the base scenario (Params) or another :class:`~sim.explore.evaluate.Evaluator`.
        levers: numeric ranges (``Lever(key, lo=..., hi=...)``); listed values are rejected.
        method: ``morris`` or ``sobol``.
        kpis: KPIs to analyse (default all the evaluator's outputs).
        samples: Morris trajectories (default 10) or Sobol base samples N, a power of two
            (default 64).
        replications: replications averaged at each design point (same seed at every point).
        seed: seeds the design, the bootstrap and the replications.
        levels: Morris grid levels (even, default 4).
        scenario: the base scenario's name, for the manifest.
        executor, progress, cancel: as for :func:`sim.explore.sweep.sweep`.

    Raises:
        ParamError: a bad lever (unknown, not numeric, bad range).
        ValueError: a bad method, KPI, sample count, replications or size.
    """
    from SALib.analyze import morris as morris_analyze
    from SALib.analyze import sobol as sobol_analyze

    if method not in METHODS:
        raise ExploreError(f"--method = {method!r} is not a method: one of {', '.join(METHODS)}")
    evaluator: Evaluator = as_evaluator(model, scenario)
    check_replications(replications, seed)
    samples = DEFAULT_SAMPLES[method] if samples is None else samples
    check_samples(method, samples)
    if isinstance(levels, bool) or not isinstance(levels, int) or levels < 2 or levels % 2:
        raise ExploreError(f"--levels = {levels!r} is not allowed: an even integer of 2 or more")
    if not 1 <= len(levers) <= MAX_SENSITIVITY_LEVERS:
        raise ExploreError(
            f"sensitivity analysis takes 1 to {MAX_SENSITIVITY_LEVERS} levers, not {len(levers)}"
        )
    require_ranges(levers, method)
    levers = tuple(evaluator.check_lever(lv) for lv in levers)
    check_distinct(levers)
    outputs = evaluator.outputs
    names = tuple(dict.fromkeys(check_kpi(k, outputs) for k in (kpis or outputs)))
    reasons: dict[str, str] = {}
    if isinstance(evaluator, ModelEvaluator):
        for k in names:
            why = kpi_null_reason(evaluator.base, k, levers)
            if why is not None:
                reasons[k] = why
        if kpis and reasons:  # the KPIs asked for by name cannot be computed: say so before running
            k, why = next(iter(reasons.items()))
            raise ExploreError(f"--kpi = {k!r} cannot be analysed here: {why}")

    per_sample = len(levers) + (1 if method == "morris" else 2)
    check_budget(evaluator, samples * per_sample * replications, f"{method} with {samples} samples")
    problem, x = design(method, levers, samples, seed, levels)
    points = [
        {lv.key: lv.scale((v - lv.lo) / (lv.hi - lv.lo)) for lv, v in zip(levers, row, strict=True)}
        for row in x
    ]
    for corner in _corners(levers):
        evaluator.check_point(corner)
    for point in points:
        evaluator.check_point(point)
    total = len(points) * replications

    means = Moments((len(points), len(outputs)))
    tasks = sample_tasks(len(points), replications, evaluator.task_size)
    with Runner(evaluator, seed, executor, progress, cancel, total) as runner:
        for task, values in runner.run(points, tasks):
            for k, p in enumerate(task.point_indices):
                means.add(values[k], axis=0, at=p)
        executor_name = runner.executor_name
    y_all = means.values

    indices: dict[str, dict[str, np.ndarray] | None] = {}
    for k in names:
        if k in reasons:
            indices[k] = None
            continue
        y = y_all[:, outputs.index(k)]
        if not np.all(np.isfinite(y)):
            bad = int((~np.isfinite(y)).sum())
            reasons[k] = (
                f"undefined at {bad} of {len(y)} design points (e.g. no team drifted, no customer "
                f"signed up), so its variance cannot be decomposed"
            )
            indices[k] = None
            continue
        if method == "morris":
            res = morris_analyze.analyze(
                problem,
                x,
                y,
                num_resamples=BOOTSTRAP_RESAMPLES,
                conf_level=CONFIDENCE,
                num_levels=levels,
                seed=_salib_seed(seed, 2),
            )
        else:
            res = sobol_analyze.analyze(
                problem,
                y,
                calc_second_order=False,
                num_resamples=BOOTSTRAP_RESAMPLES,
                conf_level=CONFIDENCE,
                seed=_salib_seed(seed, 2),
            )
        indices[k] = {c: np.asarray(res[c], dtype=float) for c in _COLUMNS[method]}

    manifest = {
        "experiment": "sensitivity",
        **evaluator.describe(),
        "method": method,
        "levers": [lv.to_dict() for lv in levers],
        "samples": samples,
        "levels": levels if method == "morris" else None,
        "evaluations": len(points),
        "seed": seed,
        "replications": replications,
        "executor": executor_name,
    }
    return SensitivityResult(
        method=method,
        levers=levers,
        kpis=names,
        indices=indices,
        reasons=reasons,
        samples=samples,
        evaluations=len(points),
        replications=replications,
        seed=seed,
        manifest=manifest,
    )


def _corners(levers: Sequence[Lever]) -> list[dict[str, Any]]:
    """The low and high ends of every lever together (invalid combinations show up here first)."""
    return [{lv.key: lv.scale(end) for lv in levers} for end in (0.0, 1.0)]
