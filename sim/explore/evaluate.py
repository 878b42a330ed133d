"""What an experiment evaluates, and how its work is cut into tasks and streamed back.

An :class:`Evaluator` turns settings into outputs: given a list of points (``{setting: value}``
overrides) and a range of replication indices, it returns an array ``points × replications ×
outputs``. :class:`ModelEvaluator` runs the simulation and returns only the KPI vector of each
replication — never its weekly series or event log — so the work that travels back from a worker is a
few hundred bytes per replication. :class:`FunctionEvaluator` wraps a plain vectorised function, so the
same experiment code can be checked against functions whose answers are known (e.g. the Ishigami
function for Sobol indices).

Replication ``i`` of every point uses the i-th child of ``SeedSequence(seed)`` — common random numbers
across points, and the same numbers :func:`sim.runner.run_many` uses — so differences between points
are paired and results do not depend on how the work is split.
"""

from __future__ import annotations

import itertools
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np

from sim import __version__
from sim.executors import TaskExecutor, make_executor
from sim.explore.levers import Lever, check_lever
from sim.model import simulate
from sim.outcomes import KPI_NAMES
from sim.params import ParamError, Params, diff, get, with_overrides
from sim.streams import replication_seed

Point = Mapping[str, Any]
Progress = Callable[[int, int], None]

#: Simulations per task: large enough that sending a task costs little next to running it, small
#: enough for smooth progress and quick cancellation (a 104-week replication takes ~35 ms).
TASK_SIMULATIONS = 8
#: Most simulations one experiment may ask for.
MAX_SIMULATIONS = 1_000_000
MAX_REPLICATIONS = 10_000


class Evaluator(ABC):
    """Maps points (setting overrides) and replication indices to output values."""

    #: Names of the outputs, in the order of the last axis of :meth:`evaluate`'s array.
    outputs: tuple[str, ...] = ()
    #: Evaluations per task (see :data:`TASK_SIMULATIONS`).
    task_size: int = TASK_SIMULATIONS
    #: Most evaluations one experiment may ask for (None: no limit).
    max_evaluations: int | None = None

    @abstractmethod
    def check_lever(self, lever: Lever) -> Lever:
        """Validate a lever; return it with canonical types."""

    @abstractmethod
    def check_point(self, point: Point) -> None:
        """Raise if a point is not a valid setting of the inputs."""

    @abstractmethod
    def value(self, key: str) -> Any:
        """The base value of one input."""

    @abstractmethod
    def evaluate(self, points: Sequence[Point], seed: int, start: int, stop: int) -> np.ndarray:
        """Outputs of replications ``start..stop-1`` of each point: ``(points, stop-start, outputs)``."""

    def describe(self) -> dict[str, Any]:
        """What is evaluated, for the manifest."""
        return {"evaluator": type(self).__name__}


class ModelEvaluator(Evaluator):
    """Runs the simulation model from a base scenario and returns each replication's KPI vector.

    Args:
        base: the scenario every point starts from.
        scenario: its name, for the manifest.
    """

    outputs = KPI_NAMES
    max_evaluations = MAX_SIMULATIONS

    def __init__(self, base: Params, scenario: str = "custom") -> None:
        self.base = base
        self.scenario = scenario

    def check_lever(self, lever: Lever) -> Lever:
        return check_lever(lever)

    def check_point(self, point: Point) -> None:
        try:
            with_overrides(self.base, point)
        except ParamError as err:
            if len(point) > 1:
                shown = ", ".join(f"{k}={v!r}" for k, v in point.items())
                raise ParamError(err.key, err.value, f"{err.allowed} (with {shown})") from None
            raise

    def value(self, key: str) -> Any:
        return get(self.base, key)

    def params(self, point: Point) -> Params:
        """The parameters of one point."""
        return with_overrides(self.base, point) if point else self.base

    def evaluate(self, points: Sequence[Point], seed: int, start: int, stop: int) -> np.ndarray:
        out = np.empty((len(points), stop - start, len(KPI_NAMES)))
        seeds = [replication_seed(seed, i) for i in range(start, stop)]
        for p, point in enumerate(points):
            params = self.params(point)
            for r, rep_seed in enumerate(seeds):
                kpis = simulate(params, rep_seed).kpis
                out[p, r] = [kpis[k] for k in KPI_NAMES]
        return out

    def describe(self) -> dict[str, Any]:
        return {
            "scenario": self.scenario,
            "overrides": diff(self.base),
            "horizon_weeks": self.base.horizon_weeks,
            "model_version": __version__,
        }


class FunctionEvaluator(Evaluator):
    """A deterministic vectorised function of numeric inputs, evaluated through the same machinery.

    Args:
        fn: maps an array ``(points, inputs)`` to ``(points, outputs)``; importable (module level)
            if it is to run on worker processes.
        inputs: input names and their base values.
        outputs: output names.
    """

    task_size = 4096

    def __init__(
        self,
        fn: Callable[[np.ndarray], np.ndarray],
        inputs: Mapping[str, float],
        outputs: Sequence[str] = ("y",),
    ) -> None:
        self.fn = fn
        self.inputs = dict(inputs)
        self.outputs = tuple(outputs)

    def check_lever(self, lever: Lever) -> Lever:
        if lever.key not in self.inputs:
            raise ParamError(
                lever.key, lever.spec, "one of " + ", ".join(self.inputs), "is not an input"
            )
        if lever.is_range and not (
            lever.lo is not None and lever.hi is not None and lever.lo < lever.hi
        ):
            raise ParamError(lever.key, lever.spec, "a range lo:hi with lo below hi", "has lo ≥ hi")
        return lever

    def check_point(self, point: Point) -> None:
        for key in point:
            if key not in self.inputs:
                raise ParamError(
                    key, point[key], "one of " + ", ".join(self.inputs), "is not an input"
                )

    def value(self, key: str) -> Any:
        return self.inputs[key]

    def evaluate(self, points: Sequence[Point], seed: int, start: int, stop: int) -> np.ndarray:
        names = list(self.inputs)
        x = np.array([[float(p.get(k, self.inputs[k])) for k in names] for p in points])
        y = np.asarray(self.fn(x), dtype=float).reshape(len(points), len(self.outputs))
        return np.repeat(y[:, None, :], stop - start, axis=1)

    def describe(self) -> dict[str, Any]:
        return {"evaluator": getattr(self.fn, "__name__", "function"), "inputs": self.inputs}


def as_evaluator(model: Params | Evaluator, scenario: str = "custom") -> Evaluator:
    """An evaluator for ``model``: Params run the simulation; evaluators pass through."""
    if isinstance(model, Evaluator):
        return model
    if isinstance(model, Params):
        return ModelEvaluator(model, scenario)
    raise TypeError(f"model must be Params or an Evaluator, not {type(model).__name__}")


def evaluate_task(evaluator: Evaluator, points: Sequence[Point], seed: int, start: int, stop: int):
    """Worker entry point: one block of points × replications (module level, so it pickles)."""
    return evaluator.evaluate(points, seed, start, stop)


# --------------------------------------------------------------------------------------------------
# Tasks and the streaming driver
# --------------------------------------------------------------------------------------------------


def check_replications(replications: int, seed: int) -> None:
    """Raise ValueError naming the value unless both are allowed."""
    if (
        isinstance(replications, bool)
        or not isinstance(replications, int)
        or not (1 <= replications <= MAX_REPLICATIONS)
    ):
        raise ValueError(
            f"replications = {replications!r} is out of range: an integer from 1 to "
            f"{MAX_REPLICATIONS}"
        )
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**63:
        raise ValueError(f"seed = {seed!r} is out of range: an integer from 0 to 2^63 - 1")


def check_budget(evaluator: Evaluator, evaluations: int, what: str) -> None:
    """Raise ValueError if an experiment asks for more evaluations than the evaluator allows."""
    limit = evaluator.max_evaluations
    if limit is not None and evaluations > limit:
        raise ValueError(
            f"{what} would run {evaluations:,} simulations: at most {limit:,} allowed; use fewer "
            f"points, samples or replications"
        )


def blocks(n: int, size: int) -> list[tuple[int, int]]:
    """Split ``range(n)`` into near-equal consecutive blocks of at most ``size``."""
    pieces = max(1, -(-n // max(1, size)))
    bounds = np.linspace(0, n, pieces + 1).round().astype(int).tolist()
    return [(a, b) for a, b in itertools.pairwise(bounds) if b > a]


class Task(tuple):
    """(point indices, first replication, stop replication) of one block of work."""

    __slots__ = ()

    @property
    def point_indices(self) -> Sequence[int]:
        return self[0]

    @property
    def start(self) -> int:
        return self[1]

    @property
    def stop(self) -> int:
        return self[2]

    @property
    def size(self) -> int:
        return len(self[0]) * (self[2] - self[1])


def point_tasks(n_points: int, start: int, stop: int, size: int) -> list[Task]:
    """Tasks covering each point separately, replications ``start..stop-1`` in blocks."""
    reps = blocks(stop - start, size)
    return [Task(([p], start + a, start + b)) for p in range(n_points) for a, b in reps]


def joint_tasks(n_points: int, start: int, stop: int, size: int) -> list[Task]:
    """Tasks covering every point together, so each task holds whole replications (for pairing)."""
    per = max(1, size // max(1, n_points))
    return [
        Task((list(range(n_points)), start + a, start + b)) for a, b in blocks(stop - start, per)
    ]


def sample_tasks(n_points: int, replications: int, size: int) -> list[Task]:
    """Tasks covering blocks of points, each with all replications (sensitivity designs)."""
    per = max(1, size // max(1, replications))
    return [Task((list(range(a, b)), 0, replications)) for a, b in blocks(n_points, per)]


class Runner:
    """Runs an experiment's tasks on an executor, streaming results back in task order.

    Args:
        evaluator: what to evaluate.
        seed: the seed every point shares.
        executor: where to run (default: every local core, or Dask if ``SIM_DASK_SCHEDULER`` is set).
        progress: called with (simulations done, total) as results arrive.
        cancel: a ``threading.Event``; when set the run stops with :class:`sim.executors.Cancelled`.
        total: simulations the whole experiment will run (for progress).
    """

    def __init__(
        self,
        evaluator: Evaluator,
        seed: int,
        executor: TaskExecutor | None,
        progress: Progress | None,
        cancel: threading.Event | None,
        total: int,
    ) -> None:
        self.evaluator = evaluator
        self.seed = seed
        self.executor = executor
        self.progress = progress
        self.cancel = cancel
        self.total = total
        self.done = 0
        self._owned = False
        self.executor_name = executor.name if executor is not None else None

    def __enter__(self) -> Runner:
        if self.executor is None:
            self.executor = make_executor()
            self._owned = True
        self.executor_name = self.executor.name
        return self

    def __exit__(self, *exc: object) -> None:
        if self._owned and self.executor is not None:
            self.executor.close()
            self.executor = None
            self._owned = False

    def run(
        self, points: Sequence[Point], tasks: Sequence[Task]
    ) -> Iterator[tuple[Task, np.ndarray]]:
        """Yield (task, values) in task order; values has shape (task points, task reps, outputs)."""
        if self.executor is None:
            raise RuntimeError("use the Runner as a context manager")
        args = [
            (self.evaluator, [points[i] for i in t.point_indices], self.seed, t.start, t.stop)
            for t in tasks
        ]
        results = self.executor.imap(evaluate_task, args, cancel=self.cancel)
        for task, values in zip(tasks, results, strict=True):
            self.done += task.size
            yield task, values
            if self.progress is not None:
                self.progress(self.done, self.total)
