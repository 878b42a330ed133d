"""Explore at scale: sweeps, global sensitivity, attribution and optimisation over the model's levers.

Which lever matters, by how much, and why? Each experiment runs many scenarios on **common random
numbers** (every scenario uses replications ``0..n-1`` of the same seed), cuts the work into tasks,
runs them on an executor (:mod:`sim.executors`: local processes by default, a Dask cluster when a
scheduler is given) and folds the KPI vectors into running statistics as they stream back — memory
does not grow with the number of replications, and the same seed gives the same numbers on any
executor and any number of workers.

- :func:`sweep` — one or two levers over a grid; a line with a band or a heatmap of any KPI.
- :func:`sensitivity` — Morris screening or Sobol indices (SALib); a ranked bar chart with intervals.
- :func:`attribute` — Shapley attribution of a KPI difference to the levers that changed; a
  waterfall; :func:`explain` / :func:`sentence` say it in words.
- :func:`optimise` — successive halving over random or grid candidates, under constraints.

Every function takes ``executor``, ``progress(done, total)`` and a ``cancel`` ``threading.Event``.
"""

from sim.executors import Cancelled, make_executor
from sim.explore.attribution import Attribution, Why, attribute, explain, sentence, why
from sim.explore.evaluate import Evaluator, FunctionEvaluator, ModelEvaluator
from sim.explore.labels import lever_label
from sim.explore.levers import (
    Constraint,
    ExploreError,
    Lever,
    check_kpi,
    check_lever,
    parse_constraint,
    parse_lever,
)
from sim.explore.optimise import Optimisation, optimise
from sim.explore.sensitivity import SensitivityResult, sensitivity
from sim.explore.sweep import SweepResult, sweep

__all__ = [
    "Attribution",
    "Cancelled",
    "Constraint",
    "Evaluator",
    "ExploreError",
    "FunctionEvaluator",
    "Lever",
    "ModelEvaluator",
    "Optimisation",
    "SensitivityResult",
    "SweepResult",
    "Why",
    "attribute",
    "check_kpi",
    "check_lever",
    "explain",
    "lever_label",
    "make_executor",
    "optimise",
    "parse_constraint",
    "parse_lever",
    "sensitivity",
    "sentence",
    "sweep",
    "why",
]
