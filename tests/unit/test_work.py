"""A team's opportunity rows and backlog, checked against plain re-computations."""

import math

import pytest

from sim.model import World
from sim.streams import replication_seeds, stream
from sim.work import WAITING
from tests.helpers import params

BLOCK = 64


def _world(overrides: dict | None = None) -> World:
    return World(params(overrides), replication_seeds(7, 1)[0])


def test_rows_follow_the_fixed_block_layout_one_draw_at_a_time():
    world = _world()
    team = world.product[1]
    w = world.params.work
    rng = stream(world._rep, "arrivals", 1)
    expected_time, t = [], 0.0
    expected = []
    while len(expected_time) < len(team.time):
        exps = rng.standard_exponential((2, BLOCK))
        z, eta, e1, e2 = rng.standard_normal((4, BLOCK))
        u_kind, _ = rng.random((2, BLOCK))
        for j in range(BLOCK):
            kind = sum(float(u_kind[j]) >= c for c in world.kind_cutoffs)
            t += float(exps[0, j]) * (7.0 / w.opportunities_per_team_week)
            expected_time.append(t)
            expected.append(
                (
                    float(exps[1, j]) * w.item_size_mean_person_days,
                    float(z[j]),
                    math.exp(math.log(w.value_median_points) + w.value_log_sd * float(z[j])),
                    float(z[j]) + world.council_noise * float(e2[j]),
                    float(eta[j]),
                    kind,
                    float(z[j]) + world.estimate_noise * float(e1[j]) + world.focus_bonus[kind],
                )
            )
    assert team.time == expected_time  # exactly: each arrival is the previous one plus its gap
    for k in (0, 1, 63, 64, len(team.time) - 1):
        row = team.row(k)
        size, z_k, value, z_council, eta_k, kind, z_team = expected[k]
        assert (row["size"], row["z"], row["z_council"], row["eta"]) == (
            size,
            z_k,
            z_council,
            eta_k,
        )
        assert (row["kind"], row["z_team"]) == (kind, z_team)
        assert row["value"] == pytest.approx(value, rel=1e-15)
        assert (team.size[k], team.value[k]) == (row["size"], row["value"])
    assert team.time[-1] > world.weeks * 7.0  # the rows cover the horizon


@pytest.mark.parametrize("rights", ["delegated", "guardrails"])
def test_pull_takes_waiting_items_best_score_first_and_retires_the_stale(rights):
    world = _world({"decisions.rights": rights})
    team = world.product[0]
    now = 80.0  # the first 3 of 11 weeks' opportunities are past their 8-week lifetime
    team.catch_up(now)
    escalated = {it.id for it in world.decision_queue}
    a = world.teams[0].alignment
    score = {
        k: a * team.row(k)["z_team"] + math.sqrt(1 - a * a) * team.row(k)["eta"]
        for k in range(team.hi)
        if k not in escalated
    }
    fresh = [k for k in score if now - team.time[k] <= team.lifetime]
    assert len(fresh) > 5
    assert (rights == "guardrails") == bool(escalated)
    assert team.waiting == len(score)

    pulled = []
    while (k := team.pull(now)) >= 0:
        pulled.append(k)
    assert pulled == sorted(fresh, key=lambda k: -score[k])
    assert team.waiting == 0
    stale = len(score) - len(fresh)
    assert world.counts["stale"] == stale > 0


def test_expire_retires_exactly_the_items_past_their_lifetime():
    world = _world({"decisions.rights": "delegated"})
    team = world.product[2]
    team.catch_up(100.0)
    team.expire(100.0)
    waiting = [k for k in range(team.hi) if team.state[k] == WAITING]
    assert waiting == [k for k in range(team.hi) if 100.0 - team.time[k] <= team.lifetime]
    assert team.waiting == len(waiting)
    assert world.counts["stale"] == team.hi - len(waiting)


def test_rerank_rescores_with_the_new_alignment():
    world = _world({"decisions.rights": "delegated"})
    team = world.product[0]
    team.catch_up(50.0)
    world.teams[0].alignment = 0.2
    team.rerank()
    a = 0.2
    rows = [(k, team.row(k)) for k in range(team.hi)]
    best = max(rows, key=lambda r: a * r[1]["z_team"] + math.sqrt(1 - a * a) * r[1]["eta"])[0]
    assert team.pull(50.0) == best
    row = team.row(best)
    assert -team._neg[best] == pytest.approx(a * row["z_team"] + math.sqrt(1 - a * a) * row["eta"])
