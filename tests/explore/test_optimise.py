"""Optimisation: the successive-halving schedule, a known optimum under a constraint, and the model."""

import numpy as np
import pytest

from sim.executors import SerialExecutor
from sim.explore import FunctionEvaluator, Lever, optimise, parse_constraint, parse_lever
from sim.explore.levers import ExploreError
from sim.explore.optimise import candidates_for, schedule, simulations
from sim.params import ParamError
from tests.explore.helpers import peak, short

SERIAL = SerialExecutor()


def test_schedule_keeps_a_third_and_triples_replications():
    assert schedule(27, 27) == [(27, 3), (9, 9), (3, 27)]
    assert simulations(schedule(27, 27)) == 27 * 3 + 9 * 6 + 4 * 27
    assert schedule(100, 90) == [(100, 4), (33, 10), (11, 30), (3, 90)]
    assert schedule(3, 10) == [(3, 10)]
    assert schedule(10, 4) == [(10, 2), (3, 4)]  # never fewer than 2 replications


def test_candidates_random_and_grid():
    levers = [
        parse_lever("reviews.council.interval_weeks=1:12"),
        parse_lever("decisions.rights=delegated,centralised"),
    ]
    grid = candidates_for(levers, 12, "grid", seed=1)
    assert len(grid) == 12  # 6 intervals x 2 choices
    rnd = candidates_for(levers, 20, "random", seed=1)
    again = candidates_for(levers, 20, "random", seed=1)
    assert rnd == again and len(rnd) == 20
    weeks = [c["reviews.council.interval_weeks"] for c in rnd]
    assert all(1 <= w <= 12 for w in weeks)
    # Latin hypercube: exactly one candidate in each twentieth of the range.
    strata = np.floor((np.array(weeks) - 1) / 11 * 20).clip(0, 19)
    assert len(set(strata.tolist())) >= 18  # rounding to 3 significant figures may move a few
    assert {c["decisions.rights"] for c in rnd} == {"delegated", "centralised"}


def test_finds_the_best_feasible_candidate_of_a_known_function():
    """y = −(x − 0.3)² peaks at 0.3, but x ≤ 0.25 is required: on a 0.1 grid the answer is 0.2."""
    ev = FunctionEvaluator(peak, {"x": 0.0}, outputs=("y", "g"))
    result = optimise(
        ev,
        [Lever("x", lo=0.0, hi=1.0, points=11)],
        "y",
        constraints=[parse_constraint("g<=0.25", ("y", "g"))],
        search="grid",
        candidates=11,
        replications=9,
        executor=SERIAL,
    )
    assert result.maximise
    best = result.winner
    assert best is not None and result.candidates[best]["x"] == pytest.approx(0.2)
    table = result.table()
    assert table["rank"].tolist() == list(range(1, 12))
    assert table.iloc[0]["x"] == pytest.approx(0.2) and table.iloc[0]["feasible"]
    # The unconstrained optimum (0.3) is feasible-ranked below every feasible candidate.
    at_peak = table.iloc[(table["x"] - 0.3).abs().argmin()]
    assert not at_peak["feasible"] and at_peak["rank"] > 3
    d = result.to_dict()
    assert d["winner"]["settings"] == {"x": pytest.approx(0.2)}
    assert d["rounds"] == [
        {"candidates": 11, "replications": 3},
        {"candidates": 3, "replications": 9},
    ]


def test_no_feasible_candidate_means_no_winner():
    ev = FunctionEvaluator(peak, {"x": 0.0}, outputs=("y", "g"))
    result = optimise(
        ev,
        [Lever("x", lo=0.5, hi=1.0, points=3)],
        "y",
        constraints=[parse_constraint("g<=0.25", ("y", "g"))],
        search="grid",
        candidates=3,
        replications=2,
        executor=SERIAL,
    )
    assert result.winner is None and result.to_dict()["winner"] is None
    assert result.candidates[result.finalists[0]]["x"] == pytest.approx(0.5)  # least violation


def test_optimise_the_model_under_a_meeting_constraint():
    base = short({"incentives.product": "local_metric"}, weeks=26)
    result = optimise(
        base,
        [
            parse_lever("reviews.council.interval_weeks=0.5:12"),
            parse_lever("reviews.council.attendees_per_team=1:8"),
        ],
        "value_delivered",
        constraints=[parse_constraint("meeting_overhead_share<=0.06")],
        candidates=6,
        replications=4,
        seed=3,
        executor=SERIAL,
    )
    d = result.to_dict()
    assert d["direction"] == "maximise"
    assert [r["replications"] for r in d["rounds"]] == [2, 4]
    w = d["winner"]
    assert w is not None and w["feasible"]
    assert w["constraints"][0]["mean"] <= 0.06
    assert w["objective"]["n"] == 4 and w["vs_baseline"]["n"] == 4
    assert 0.0 <= w["vs_baseline"]["p_better"] <= 1.0
    assert w["vs_runner_up"]["mean"] >= 0 or not result.feasible(result.finalists[1])
    # Every candidate in the final round beats or matches every eliminated one in rank order.
    table = result.table()
    assert table.stage.iloc[:3].tolist() == ["final"] * 3
    assert set(table.columns) >= {
        "rank",
        "candidate",
        "stage",
        "replications",
        "mean",
        "se",
        "feasible",
        "meeting_overhead_share_mean",
    }
    # Lead time is minimised by default.
    assert not optimise(
        base,
        [parse_lever("decisions.rights=delegated,centralised")],
        "lead_time_days",
        candidates=2,
        replications=2,
        executor=SERIAL,
    ).maximise


def test_bad_optimisations_are_rejected():
    base = short()
    lever = [parse_lever("reviews.council.interval_weeks=1:8")]
    with pytest.raises(ValueError, match="is not a KPI"):
        optimise(base, lever, "value", executor=SERIAL)
    with pytest.raises(ExploreError, match="--search"):
        optimise(base, lever, "value_delivered", search="bayes", executor=SERIAL)
    with pytest.raises(ExploreError, match="too few"):
        optimise(base, lever, "value_delivered", replications=1, executor=SERIAL)
    with pytest.raises(ExploreError, match="--candidates"):
        optimise(base, lever, "value_delivered", candidates=1, executor=SERIAL)
    with pytest.raises(ExploreError, match="retention_52w"):
        optimise(base, lever, "retention_52w", executor=SERIAL)
    with pytest.raises(ParamError, match=r"did you mean reviews\.council\.interval_weeks"):
        optimise(
            base,
            [Lever("reviews.council.interval", lo=1, hi=8)],
            "value_delivered",
            executor=SERIAL,
        )
