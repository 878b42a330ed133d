"""Incentives, drift and the governance rhythm.

Every team (product teams, marketing, sales) has an alignment ``a`` in [0, 1]: the correlation between
what it optimises and true customer value. Each week its incentive pulls it toward the alignment of the
metric it is paid on (the "drifting goals" structure):

    a <- a + kappa * (a_local - a) + noise

Reviews are the balancing loop. Each review type meets on its own rhythm (first meeting at a random
phase), costs the attendees' hours, and for each team notices drift with probability

    p = detection_probability * (0.2 + 0.8 * instrumentation_quality) * min(1, gap / visibility_gap)

where ``gap`` is how far the team sits below the strategic anchor. A noticed team is corrected: a share
``correction_strength`` of its gap is closed. The council also decides the escalation queue and prunes
low-value work in progress (the strategy review does so when no council is held); the strategy review
(and an event-triggered review) can notice that the market has moved to a new epoch and re-aim the
backlog.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import simpy

from sim.work import decide_queue, prune_wip

if TYPE_CHECKING:
    import numpy as np

    from sim.params import ReviewParams
    from sim.world import World


class Team:
    """A team's incentive and alignment, and the state of its current drift episode."""

    __slots__ = ("a_local", "alignment", "function", "index", "name", "onset", "rng")

    def __init__(
        self, index: int, name: str, function: str, a_local: float, alignment: float, rng
    ) -> None:
        self.index = index
        self.name = name
        self.function = function
        self.a_local = a_local
        self.alignment = alignment
        self.onset = -1.0  # day the current drift episode began; -1 when not drifting
        self.rng = rng


class Drift:
    """Each team's weekly wobbles (drawn at once: the same numbers as one draw a week) and the weekly
    step that moves every team's alignment toward its incentive's alignment."""

    def __init__(self, world: World) -> None:
        inc = world.params.incentives
        self.world = world
        self.kappa = inc.drift_rate_per_week
        self.sd = inc.drift_noise_sd
        self.anchor = inc.strategic_anchor
        self.onset_gap = world.params.reviews.drift_onset_gap
        self.wobbles = [
            team.rng.standard_normal(world.weeks).tolist() if self.sd > 0.0 else []
            for team in world.teams
        ]

    def step(self, now: float, week: int) -> None:
        """The end of ``week``: alignments move, drift episodes begin, backlogs are re-ranked."""
        world = self.world
        kappa, sd, anchor, onset_gap = self.kappa, self.sd, self.anchor, self.onset_gap
        for team, wobble in zip(world.teams, self.wobbles, strict=True):
            a = team.alignment + kappa * (team.a_local - team.alignment)
            if sd > 0.0:
                a += sd * wobble[week]
            team.alignment = min(1.0, max(0.0, a))
            if team.onset < 0.0 and anchor - team.alignment > onset_gap:
                team.onset = now
                world.log(now, "drift_onset", team.name, f"alignment {team.alignment:.2f}")
        for work in world.product:
            work.maybe_rerank()


def incentive_drift(env: simpy.Environment, world: World) -> object:
    """Weekly: each team's alignment moves toward its incentive's alignment."""
    drift = Drift(world)
    week = 0
    while True:
        yield env.timeout(7.0)
        drift.step(env.now, week)
        week += 1


def review(
    env: simpy.Environment, world: World, kind: str, rp: ReviewParams, rng: np.random.Generator
) -> object:
    """A scheduled review type: first meeting at a random phase, then every interval."""
    interval = rp.interval_weeks * 7.0
    yield env.timeout(rng.random() * interval)
    while True:
        hold_review(world, kind, rp, rng, env.now)
        yield env.timeout(interval)


def hold_review(
    world: World,
    kind: str,
    rp: ReviewParams,
    rng: np.random.Generator,
    now: float,
    trigger: str = "",
) -> None:
    """One meeting: its cost, the drift it notices and corrects, and its decisions."""
    params = world.params
    rv = params.reviews
    world.add_meeting_hours(now, rp.attendees_per_team * (rp.hours + rv.context_switch_hours))
    anchor = params.incentives.strategic_anchor
    sensitivity = rp.detection_probability * (0.2 + 0.8 * rv.instrumentation_quality)
    draws = rng.random(len(world.teams) + 1).tolist()
    detected = []
    for team, u in zip(world.teams, draws, strict=False):
        gap = anchor - team.alignment
        if gap <= 0.0:
            continue
        if u < sensitivity * min(1.0, gap / rv.drift_visibility_gap):
            team.alignment += rp.correction_strength * gap
            detected.append(team.name)
            if team.onset >= 0.0:
                world.detection_lags.append(now - team.onset)
                world.log(
                    now, "correction", team.name, f"drift caught after {now - team.onset:.0f} days"
                )
                team.onset = -1.0
            if team.index < len(world.product):
                world.product[team.index].rerank()
    notes = [("detected " + ", ".join(detected)) if detected else "no drift detected"]
    if kind in world.deciders:
        approved, rejected, stale = decide_queue(world, now, kind)
        if approved or rejected or stale:
            notes.append(f"decided {approved + rejected + stale} ({approved} approved)")
        pruned = prune_wip(world, now)
        if pruned:
            notes.append(f"pruned {pruned}")
    epoch_moved = world.believed_epoch != world.market_epoch
    if kind in ("strategy", "event") and epoch_moved and draws[-1] < sensitivity:
        world.reaim(now)
        notes.append("re-aimed to the new market")
    if trigger:
        notes.insert(0, trigger)
    world.log(now, f"review.{kind}", "", "; ".join(notes))
