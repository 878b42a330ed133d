"""Optimisation: the best settings of chosen levers for a KPI, under constraints, with its uncertainty.

The method is **successive halving** (Jamieson & Talwalkar 2016; the inner loop of Hyperband, Li et
al. 2018): draw candidates (a Latin hypercube sample of the levers' ranges, or a grid), run every one
with a few replications, keep the best third (``eta = 3``), give the survivors three times as many
replications, and repeat until ``eta`` finalists remain. Noisy simulation makes this a good fit: weak
candidates are dropped cheaply, and replications go where the decision is close.

Every candidate runs the same replications on the same seed (common random numbers), so they are
compared on paired draws. The finalists and the baseline (the scenario as given) then run the full
number of replications together, so the winner comes with its uncertainty: its KPI's confidence
interval, its paired difference from the baseline and from the runner-up, and the share of paired
replications in which it beat each.

Constraints bound a KPI's mean (e.g. ``meeting_overhead_share <= 0.1``). A candidate that meets them
all ranks above any that does not; among those that do not, the smaller the relative violation the
better.
"""

from __future__ import annotations

import itertools
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
    joint_tasks,
    point_tasks,
)
from sim.explore.levers import (
    Constraint,
    ExploreError,
    Lever,
    check_distinct,
    check_kpi,
    higher_is_better,
    kpi_null_reason,
)
from sim.explore.stats import CONFIDENCE, Moments, clean
from sim.params import Params

SEARCHES = ("random", "grid")
ETA = 3
MIN_REPLICATIONS = 2
MAX_CANDIDATES = 1000


def schedule(candidates: int, replications: int, eta: int = ETA) -> list[tuple[int, int]]:
    """Successive-halving rounds as (candidates, replications so far); the last is the final.

    Each round keeps the best ``1/eta`` (at least ``eta``) and multiplies replications by ``eta``;
    the final round runs ``replications`` on at most ``eta`` finalists.
    """
    sizes = [candidates]
    while sizes[-1] > eta:
        sizes.append(max(eta, sizes[-1] // eta))
    last = len(sizes) - 1
    reps = [
        min(replications, max(MIN_REPLICATIONS, math.ceil(replications / eta ** (last - s))))
        for s in range(last + 1)
    ]
    return list(zip(sizes, reps, strict=True))


def simulations(plan: Sequence[tuple[int, int]]) -> int:
    """Simulations a schedule runs (the final round adds the baseline)."""
    total, before = 0, 0
    for n, reps in plan[:-1]:
        total += n * (reps - before)
        before = reps
    n, reps = plan[-1]
    return total + (n + 1) * reps


def candidates_for(levers: Sequence[Lever], n: int, search: str, seed: int) -> list[dict[str, Any]]:
    """Candidate settings: a Latin hypercube sample (``random``) or a grid (``grid``), deduplicated."""
    if search == "grid":
        fixed = math.prod(len(lv.values) for lv in levers if not lv.is_range)
        ranges = [lv for lv in levers if lv.is_range]
        per = max(2, round((n / fixed) ** (1 / len(ranges)))) if ranges else 0
        grids = [lv.grid(per) for lv in levers]
        combos = itertools.product(*grids)
        rows = [dict(zip((lv.key for lv in levers), c, strict=True)) for c in combos]
    else:
        from scipy.stats import qmc  # here: importing scipy.stats takes half a second

        rng = np.random.default_rng(np.random.SeedSequence([seed, 3]))
        u = qmc.LatinHypercube(d=len(levers), rng=rng).random(n)
        rows = [
            {lv.key: _readable(lv, lv.at(x)) for lv, x in zip(levers, row, strict=True)}
            for row in u
        ]
    out: list[dict[str, Any]] = []
    seen: set[tuple] = set()
    for row in rows:
        key = tuple(row.values())
        if key not in seen:
            seen.add(key)
            out.append(row)
    return out


def _readable(lever: Lever, value: Any) -> Any:
    """A sampled float rounded to 3 significant figures (kept inside the range): settings a person
    can read and type again; other values unchanged."""
    if not lever.is_range or not isinstance(value, float) or value == 0.0:
        return value
    digits = 2 - math.floor(math.log10(abs(value)))
    return float(min(lever.hi, max(lever.lo, round(value, digits))))


@dataclass
class Optimisation:
    """The outcome of a successive-halving search.

    Attributes:
        kpi: the objective; ``maximise`` its direction.
        constraints: bounds on KPI means.
        levers: the levers searched; ``search`` how candidates were drawn.
        candidates: every candidate's settings.
        reached: per candidate, the last round it ran in (the final round is ``len(rounds) - 1``).
        stats: per candidate, KPI statistics over the replications it ran (finalists: the final
            round's), shape (candidates, outputs).
        finalists: indices of the finalists, best first; ``rank`` orders every candidate.
        baseline: KPI statistics of the scenario as given (final round).
        vs_baseline: paired differences finalist − baseline, shape (finalists, outputs).
        beats_baseline: share of paired replications each finalist's objective beat the baseline's.
        pairwise, beats: finalist-vs-finalist paired objective differences and shares beaten.
        rounds: (candidates, replications) per round.
        manifest: what produced the result.
    """

    kpi: str
    maximise: bool
    constraints: tuple[Constraint, ...]
    levers: tuple[Lever, ...]
    search: str
    outputs: tuple[str, ...]
    candidates: list[dict[str, Any]]
    reached: np.ndarray
    stats: Moments
    finalists: list[int]
    rank: list[int]
    baseline: Moments
    vs_baseline: Moments
    beats_baseline: Moments
    pairwise: Moments
    beats: Moments
    rounds: list[tuple[int, int]]
    seed: int
    manifest: dict[str, Any] = field(default_factory=dict)

    def _j(self, kpi: str) -> int:
        return self.outputs.index(kpi)

    def feasible(self, c: int) -> bool:
        """Whether candidate ``c``'s means meet every constraint."""
        return all(con.holds(self.stats.values[c, self._j(con.kpi)]) for con in self.constraints)

    @property
    def winner(self) -> int | None:
        """Index of the best candidate that meets the constraints (None if no finalist does)."""
        best = self.finalists[0]
        return best if self.feasible(best) else None

    def table(self) -> pd.DataFrame:
        """One row per candidate, best first.

        Columns: rank, candidate, the levers, stage (round reached; ``final`` for finalists),
        replications, mean, se, ci_lo, ci_hi (of the objective), feasible, then the mean of every
        constrained KPI (``<kpi>_mean``).
        """
        j = self._j(self.kpi)
        lo, hi = self.stats.ci(CONFIDENCE)
        final = len(self.rounds) - 1
        rows = []
        for r, c in enumerate(self.rank, start=1):
            row: dict[str, Any] = {"rank": r, "candidate": c, **self.candidates[c]}
            stage = int(self.reached[c])
            row["stage"] = "final" if stage == final else f"round {stage + 1}"
            row["replications"] = int(self.stats.count[c].max())
            row.update(
                mean=self.stats.values[c, j],
                se=self.stats.se[c, j],
                ci_lo=lo[c, j],
                ci_hi=hi[c, j],
                feasible=self.feasible(c),
            )
            for con in self.constraints:
                row[f"{con.kpi}_mean"] = self.stats.values[c, self._j(con.kpi)]
            rows.append(row)
        return pd.DataFrame(rows)

    def _finalist(self, f: int) -> dict[str, Any]:
        c = self.finalists[f]
        j = self._j(self.kpi)
        lo, hi = self.stats.ci(CONFIDENCE)
        return {
            "candidate": c,
            "settings": self.candidates[c],
            "feasible": self.feasible(c),
            "objective": self.stats.summary((c, j)),
            "constraints": [
                {
                    **con.to_dict(),
                    "mean": clean(self.stats.values[c, self._j(con.kpi)]),
                    "ci_lo": clean(lo[c, self._j(con.kpi)]),
                    "ci_hi": clean(hi[c, self._j(con.kpi)]),
                    "holds": con.holds(self.stats.values[c, self._j(con.kpi)]),
                }
                for con in self.constraints
            ],
            "vs_baseline": {
                **self.vs_baseline.summary((f, j)),
                "p_better": clean(self.beats_baseline.values[f]),
            },
        }

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: manifest, the winner with its uncertainty, finalists, rounds, candidates."""
        j = self._j(self.kpi)
        finalists = [self._finalist(f) for f in range(len(self.finalists))]
        winner = None
        if self.winner is not None:
            winner = dict(finalists[0])
            if len(self.finalists) > 1:
                winner["vs_runner_up"] = {
                    "candidate": self.finalists[1],
                    "settings": self.candidates[self.finalists[1]],
                    **self.pairwise.summary((0, 1)),
                    "p_better": clean(self.beats.values[0, 1]),
                }
        table = self.table()
        candidates = [
            {
                "rank": int(row["rank"]),
                "candidate": int(row["candidate"]),
                "settings": self.candidates[int(row["candidate"])],
                "stage": row["stage"],
                "replications": int(row["replications"]),
                "mean": clean(row["mean"]),
                "se": clean(row["se"]),
                "feasible": bool(row["feasible"]),
            }
            for row in table.to_dict("records")
        ]
        return {
            "experiment": "optimisation",
            "manifest": self.manifest,
            "kpi": self.kpi,
            "direction": "maximise" if self.maximise else "minimise",
            "constraints": [con.to_dict() for con in self.constraints],
            "levers": [lv.to_dict() for lv in self.levers],
            "confidence": CONFIDENCE,
            "winner": winner,
            "baseline": {"objective": self.baseline.summary(j)},
            "finalists": finalists,
            "rounds": [{"candidates": n, "replications": r} for n, r in self.rounds],
            "candidates": candidates,
        }


def _order(
    stats: Moments,
    members: Sequence[int],
    kpi_j: int,
    maximise: bool,
    constraints: Sequence[tuple[Constraint, int]],
) -> list[int]:
    """Members best first: feasible ones by objective, then the rest by violation, then objective."""

    def key(c: int) -> tuple:
        violation = sum(con.violation(stats.values[c, j]) for con, j in constraints)
        value = stats.values[c, kpi_j]
        score = value if maximise else -value
        score = score if math.isfinite(score) else -math.inf
        return (violation > 0, violation, -score, c)

    return sorted(members, key=key)


def optimise(
    model: Params | Evaluator,
    levers: Sequence[Lever],
    kpi: str,
    *,
    maximise: bool | None = None,
    constraints: Sequence[Constraint] = (),
    candidates: int = 27,
    search: str = "random",
    replications: int = 27,
    eta: int = ETA,
    seed: int = 1,
    scenario: str = "custom",
    executor: TaskExecutor | None = None,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
) -> Optimisation:
    """Search the levers' ranges for the settings that maximise (or minimise) a KPI's mean.

    Args:
        model: the base scenario (Params) or another evaluator.
        levers: numeric ranges and/or listed values.
        kpi: the objective.
        maximise: direction (default: the KPI's own — up for retention, down for lead time).
        constraints: bounds on KPI means every acceptable candidate must meet.
        candidates: how many candidates to draw (a grid rounds this to whole levels per lever).
        search: ``random`` (Latin hypercube) or ``grid``.
        replications: replications of the finalists and the baseline in the final round; earlier
            rounds use ``replications / eta^k``, at least 2.
        eta: the halving rate (keep 1/eta each round).
        seed: seeds the candidates and every replication (shared by all candidates).
        scenario: the base scenario's name, for the manifest.
        executor, progress, cancel: as for :func:`sim.explore.sweep.sweep`.

    Raises:
        ParamError: a bad lever, or a candidate that is not a valid scenario.
        ValueError: a bad KPI, search, size or replications.
    """
    evaluator = as_evaluator(model, scenario)
    check_replications(replications, seed)
    outputs = evaluator.outputs
    kpi = check_kpi(kpi, outputs)
    if search not in SEARCHES:
        raise ExploreError(f"--search = {search!r} is not allowed: one of {', '.join(SEARCHES)}")
    if replications < MIN_REPLICATIONS:
        raise ExploreError(
            f"--replications = {replications} is too few to optimise: at least "
            f"{MIN_REPLICATIONS}, so every candidate has an uncertainty"
        )
    if isinstance(eta, bool) or not isinstance(eta, int) or not 2 <= eta <= 10:
        raise ExploreError(f"--eta = {eta!r} is out of range: an integer from 2 to 10")
    if (
        isinstance(candidates, bool)
        or not isinstance(candidates, int)
        or not (2 <= candidates <= MAX_CANDIDATES)
    ):
        raise ExploreError(
            f"--candidates = {candidates!r} is out of range: an integer from 2 to {MAX_CANDIDATES}"
        )
    if not levers:
        raise ExploreError("optimisation needs at least one --lever")
    levers = tuple(evaluator.check_lever(lv) for lv in levers)
    check_distinct(levers)
    constraints = tuple(constraints)
    for con in constraints:
        check_kpi(con.kpi, outputs, flag="--constraint")
    maximise = higher_is_better(kpi) if maximise is None else bool(maximise)
    if isinstance(evaluator, ModelEvaluator):
        for name in (kpi, *(c.kpi for c in constraints)):
            why = kpi_null_reason(evaluator.base, name, levers)
            if why is not None:
                raise ExploreError(f"{name} cannot be optimised or constrained here: {why}")

    pool = candidates_for(levers, candidates, search, seed)
    if len(pool) > MAX_CANDIDATES:
        raise ExploreError(
            f"the grid has {len(pool)} candidates: at most {MAX_CANDIDATES} allowed; lower "
            f"--candidates or the levers' points"
        )
    if len(pool) < 2:
        raise ExploreError("the levers give fewer than two distinct candidates: widen the ranges")
    for point in pool:
        evaluator.check_point(point)
    plan = schedule(len(pool), replications, eta)
    total = simulations(plan)
    check_budget(evaluator, total, "the optimisation")

    n_out = len(outputs)
    kpi_j = outputs.index(kpi)
    cons = [(c, outputs.index(c.kpi)) for c in constraints]
    stats = Moments((len(pool), n_out))
    reached = np.zeros(len(pool), dtype=int)
    alive = list(range(len(pool)))
    eliminated: list[list[int]] = []
    with Runner(evaluator, seed, executor, progress, cancel, total) as runner:
        done = 0
        for stage, (_, reps) in enumerate(plan[:-1]):
            if reps > done:
                tasks = point_tasks(len(alive), done, reps, evaluator.task_size)
                points = [pool[c] for c in alive]
                for task, values in runner.run(points, tasks):
                    for k, p in enumerate(task.point_indices):
                        stats.add(values[k], axis=0, at=alive[p])
                done = reps
            reached[alive] = stage
            ordered = _order(stats, alive, kpi_j, maximise, cons)
            keep = plan[stage + 1][0]
            eliminated.append(ordered[keep:])
            alive = ordered[:keep]

        # Final round: finalists and the baseline together, so every comparison is paired.
        final_stage = len(plan) - 1
        reached[alive] = final_stage
        m = len(alive)
        points = [pool[c] for c in alive] + [{}]
        final = Moments((m + 1, n_out))
        vs_base = Moments((m, n_out))
        beats_base = Moments((m,))
        pairwise = Moments((m, m))
        beats = Moments((m, m))
        sign = 1.0 if maximise else -1.0
        tasks = joint_tasks(m + 1, 0, replications, evaluator.task_size)
        for _, values in runner.run(points, tasks):
            final.add(values, axis=1)
            vs_base.add(values[:m] - values[m][None], axis=1)
            y = values[:, :, kpi_j]  # (m + 1, reps)
            beats_base.add(_better(sign * (y[:m] - y[m][None])), axis=1)
            d = y[:m, None, :] - y[None, :m, :]  # (m, m, reps)
            pairwise.add(d, axis=2)
            beats.add(_better(sign * d), axis=2)
        executor_name = runner.executor_name

    for k, c in enumerate(alive):  # finalists report their final-round statistics
        stats.count[c], stats.mean[c], stats.m2[c] = final.count[k], final.mean[k], final.m2[k]
    baseline = Moments((n_out,))
    baseline.count, baseline.mean, baseline.m2 = final.count[m], final.mean[m], final.m2[m]
    order = _order(stats, alive, kpi_j, maximise, cons)
    perm = [alive.index(c) for c in order]
    rank = order + [c for group in reversed(eliminated) for c in group]

    manifest = {
        "experiment": "optimisation",
        **evaluator.describe(),
        "method": f"successive halving (eta={eta}) over {search} candidates",
        "kpi": kpi,
        "direction": "maximise" if maximise else "minimise",
        "constraints": [c.text for c in constraints],
        "levers": [lv.to_dict() for lv in levers],
        "candidates": len(pool),
        "seed": seed,
        "replications": replications,
        "simulations": total,
        "executor": executor_name,
    }
    return Optimisation(
        kpi=kpi,
        maximise=maximise,
        constraints=constraints,
        levers=levers,
        search=search,
        outputs=tuple(outputs),
        candidates=pool,
        reached=reached,
        stats=stats,
        finalists=order,
        rank=rank,
        baseline=baseline,
        vs_baseline=_take(vs_base, perm),
        beats_baseline=_take(beats_base, perm),
        pairwise=_take(_take(pairwise, perm), perm, axis=1),
        beats=_take(_take(beats, perm), perm, axis=1),
        rounds=plan,
        seed=seed,
        manifest=manifest,
    )


def _better(gain: np.ndarray) -> np.ndarray:
    """1 where a paired gain is positive, 0.5 for a tie, 0 otherwise; NaN where undefined."""
    scale = np.nanmax(np.abs(gain)) if np.isfinite(gain).any() else 1.0
    tie = np.abs(gain) <= 1e-12 * max(scale, 1e-12)
    out = np.where(tie, 0.5, (gain > 0).astype(float))
    return np.where(np.isfinite(gain), out, np.nan)


def _take(m: Moments, order: Sequence[int], axis: int = 0) -> Moments:
    """A copy of ``m`` with entries along ``axis`` in ``order``."""
    out = Moments(m.count.shape)
    out.count = np.take(m.count, order, axis=axis)
    out.mean = np.take(m.mean, order, axis=axis)
    out.m2 = np.take(m.m2, order, axis=axis)
    return out
