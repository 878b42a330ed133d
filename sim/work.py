"""Opportunities, team work and decision rights.

Each product team receives a Poisson stream of opportunities (work items). A team with a free WIP slot
pulls the waiting item with the best *decision score*

    score = a * (z_hat + focus bonus) + sqrt(1 - a^2) * eta

where ``a`` is the team's alignment, ``z_hat`` its noisy estimate of the item's standardised true value
and ``eta`` the item's local-metric appeal, independent of value. An aligned team (a near 1) builds what
customers value; a drifting one builds what its local metric rewards. Protected discovery time lowers
the noise of ``z_hat`` but takes build capacity away.

Decision rights decide which items a team may start on its own: under *guardrails* large items, under
*centralised* every item, wait in the decision queue until a council (or an event-triggered review)
approves or rejects them. Opportunities not started within their lifetime go stale.

Sizes are exponential and build time is size / slot capacity, so with reviews off and alignment fixed
the work system of one team is an M/M/c queue (c = WIP limit) — the basis of the queueing validation.
"""

from __future__ import annotations

import bisect
import heapq
import math
from collections import deque
from typing import TYPE_CHECKING

import numpy as np
import simpy

if TYPE_CHECKING:
    from sim.world import World

KINDS = ("onboarding", "core", "growth")

# Item states
WAITING, QUEUED, ACTIVE, RELEASED, STALE, REJECTED, PRUNED = range(7)

# How far alignment may move before a team re-ranks its backlog.
_RERANK_ALIGNMENT_STEP = 0.05
# Standard draws per opportunity: inter-arrival, size (exponential); z, eta, team noise, council noise
# (normal); kind, epoch tag (uniform). Drawn in blocks so that item k of a team always gets row k.
_BLOCK = 64
_SCORE_AHEAD = 256  # rows scored at a time as they arrive


class WorkItem:
    """An opportunity escalated to the decision queue; the rest of its record stays in its team's
    rows (see :class:`TeamWork`)."""

    __slots__ = (
        "council_score",
        "created",
        "decided",
        "epoch",
        "escalated",
        "id",
        "kind",
        "team",
        "z_council",
    )

    def __init__(
        self, id_: int, team: int, created: float, kind: int, epoch: int, z_council: float
    ) -> None:
        self.id = id_
        self.team = team
        self.created = created
        self.kind = kind
        self.epoch = epoch
        self.z_council = z_council
        self.escalated = created
        self.decided = -1.0
        self.council_score: float | None = None


class TeamWork:
    """A product team's opportunities, backlog, WIP slots and build capacity.

    Opportunity ``k`` of the team is a row of per-team arrays (drawn up front, see
    :func:`_draw_block`): its state and timestamps stay in the rows from arrival to release. A
    :class:`WorkItem` is made only for an item escalated to the decision queue, which carries it
    across teams. The backlog is a heap of ``(-score, k)`` over the waiting items, so ties go to
    the earlier arrival.
    """

    def __init__(self, world: World, index: int, rng: np.random.Generator) -> None:
        p = world.params
        self.world = world
        self.index = index
        self.slots = p.org.wip_limit_per_team
        self.lifetime = world.lifetime_days
        self.heap: list[tuple[float, int]] = []
        # For expiry: the first row from arrival that may still be waiting, and the rows approved by
        # a council in order of approval.
        self._unexpired = 0
        self.approved: deque[int] = deque()
        self.waiting = 0
        # Rows being built, and the slot process building each (insertion-ordered for determinism).
        self.active: dict[int, simpy.Process] = {}
        self.idle: list[simpy.Event] = []
        # Person-days of build work per calendar day, before meetings and discovery.
        self.gross_rate = p.org.team_size_people * p.org.hours_per_person_week / 8.0 / 7.0
        self.set_meeting_share(world.expected_meeting_share)  # smoothed, updated weekly
        # Per-opportunity rows: lists for scalar access, arrays for re-scoring.
        self._rng = rng
        self.time: list[float] = []
        self.entered: list[float] = []
        self.started: list[float] = []  # -1 until pulled into a slot
        self.released: list[float] = []  # -1 until released
        self.size: list[float] = []
        self.value: list[float] = []
        self.z_council: list[float] = []  # the council's estimate of the standardised value
        self.state: list[int] = []
        self.epoch: list[int] = []
        self.kind: list[int] = []
        self._escalates: list[bool] = []
        self._neg: list[float] = []  # -score of every row, at the current ranking
        self._z = np.empty(0)  # standardised true value
        self._z_team = np.empty(0)
        self._eta = np.empty(0)
        self._from_market = np.empty(0, dtype=bool)
        self._epoch = np.empty(0, dtype=np.int64)
        self.hi = 0  # rows [0, hi) have arrived
        self._scored = 0  # rows [0, _scored) carry their -score at the current ranking
        self.escalations: dict[int, WorkItem] = {}  # rows escalated, by row
        self.council: dict[int, float] = {}  # -score set by a centralised council
        # The team ranks with the priorities it last set: weights on value and on the local metric.
        self.ranked_alignment = -1.0
        self._w_value = 0.0
        self._w_local = 0.0
        self._set_weights()
        self._draw_until(world.weeks * 7.0)
        self.alarm: simpy.Event | None = None

    # -- rows ----------------------------------------------------------------------------------------
    def _draw_until(self, day: float) -> None:
        """Draw rows until one arrives after ``day``."""
        while not self.time or self.time[-1] <= day:
            self._draw_rows(day)

    def _draw_rows(self, day: float) -> None:
        """Draw blocks of opportunities: as many as should reach past ``day`` (an estimate)."""
        world = self.world
        last = self.time[-1] if self.time else 0.0
        mean_gap = 7.0 / world.params.work.opportunities_per_team_week
        blocks = []
        reach = last
        while reach <= day:
            blocks.append(_draw_block(self._rng))
            reach += float(blocks[-1][0][0].sum()) * mean_gap
        exps, normals, uniforms = (np.concatenate(d, axis=1) for d in zip(*blocks, strict=True))
        rows = _opportunities(world, last, exps, normals, uniforms)
        start = len(self.time)
        n = rows["time"].size
        times = rows["time"].tolist()
        self.time.extend(times)
        self.entered.extend(times)
        self.started.extend([-1.0] * n)
        self.released.extend([-1.0] * n)
        self.size.extend(rows["size"].tolist())
        self.value.extend(rows["value"].tolist())
        self.z_council.extend(rows["z_council"].tolist())
        self.state.extend([WAITING] * n)
        self.epoch.extend([0] * n)
        self.kind.extend(rows["kind"].tolist())
        rights = world.decision_rights
        if rights == "centralised":
            self._escalates.extend([True] * n)
        elif rights == "guardrails":
            self._escalates.extend((rows["size"] > world.escalation_size).tolist())
        else:
            self._escalates.extend([False] * n)
        self._neg.extend([0.0] * n)
        self._z = np.concatenate((self._z, rows["z"]))
        self._z_team = np.concatenate((self._z_team, rows["z_team"]))
        self._eta = np.concatenate((self._eta, rows["eta"]))
        self._from_market = np.concatenate((self._from_market, rows["from_market"]))
        self._epoch = np.concatenate((self._epoch, np.zeros(n, dtype=np.int64)))
        self.retarget(start)

    @property
    def next_time(self) -> float:
        """When the next opportunity arrives."""
        return self.time[self.hi]

    def retarget(self, start: int | None = None) -> None:
        """Tag rows not yet arrived with the epoch they will carry (they are scored on arrival).

        Before the organisation re-aims, most new ideas still come from its old picture of the market;
        those that come straight from the market carry the market's epoch.
        """
        world = self.world
        start = self.hi if start is None else start
        if world.believed_epoch == world.market_epoch:
            self._epoch[start:] = world.market_epoch
        else:
            self._epoch[start:] = np.where(
                self._from_market[start:], world.market_epoch, world.believed_epoch
            )
        self.epoch[start:] = self._epoch[start:].tolist()
        self._scored = min(self._scored, start)

    def _score_through(self, stop: int, ahead: int = _SCORE_AHEAD) -> None:
        """Make sure rows before ``stop`` carry their -score at the current ranking.

        Rows are scored in runs of at least ``ahead`` as they arrive; a rerank re-scores only the
        rows that have arrived, as another may come before the rest do.
        """
        if stop > self._scored:
            end = min(len(self.time), max(stop, self._scored + ahead))
            world = self.world
            lo = self._scored
            z = self._z_team[lo:end]
            # Epochs start at 0 and only a market shift moves them (belief never runs ahead of the
            # market), so until one every row is aimed at the believed epoch.
            if world.market_epoch:
                foreign = self._epoch[lo:end] != world.believed_epoch
                if foreign.any():
                    z = np.where(foreign, z + world.foreign_epoch_z, z)
            score = self._w_value * z + self._w_local * self._eta[lo:end]
            self._neg[lo:end] = np.negative(score).tolist()
            self._scored = end

    def row(self, k: int) -> dict[str, float | int]:
        """Row ``k``'s opportunity as drawn."""
        return {
            "created": self.time[k],
            "size": self.size[k],
            "z": float(self._z[k]),
            "value": self.value[k],
            "z_team": float(self._z_team[k]),
            "z_council": self.z_council[k],
            "eta": float(self._eta[k]),
            "kind": self.kind[k],
            "epoch": self.epoch[k],
        }

    def _escalate(self, k: int) -> None:
        """Row ``k`` waits in the decision queue, as a work item."""
        self.state[k] = QUEUED
        item = WorkItem(k, self.index, self.time[k], self.kind[k], self.epoch[k], self.z_council[k])
        self.escalations[k] = item
        self.world.escalate(item)

    # -- ranking -------------------------------------------------------------------------------------
    def _set_weights(self) -> None:
        a = self.world.teams[self.index].alignment
        self.ranked_alignment = a
        self._w_value = a
        self._w_local = math.sqrt(max(0.0, 1.0 - a * a))

    def rerank(self) -> None:
        """Re-score the backlog and the items awaiting a decision (after alignment moved or the
        organisation re-aimed); rows still to arrive are scored when they do."""
        self._set_weights()
        state = self.state
        waiting = [k for _, k in self.heap if state[k] == WAITING]
        pending = [it.id for it in self.world.decision_queue if it.team == self.index]
        self._scored = min([self.hi, *waiting, *pending])
        self._score_through(self.hi, ahead=0)
        neg = self._neg
        council = self.council
        self.heap = [(council[k] if k in council else neg[k], k) for k in waiting]
        heapq.heapify(self.heap)

    def maybe_rerank(self) -> None:
        """Re-rank when priorities have shifted materially since the last ranking."""
        if abs(self.world.teams[self.index].alignment - self.ranked_alignment) > (
            _RERANK_ALIGNMENT_STEP
        ):
            self.rerank()

    # -- flow ----------------------------------------------------------------------------------------
    def catch_up(self, now: float) -> None:
        """Take in every opportunity that has arrived by ``now``, each at its own arrival time.

        An opportunity goes straight into the backlog, or — when decision rights say so — into the
        decision queue. Each one that enters the backlog wakes one idle slot.
        """
        time = self.time
        hi = self.hi
        if time[hi] > now:
            return
        if time[-1] <= now:
            self._draw_until(now)
            time = self.time
        new = bisect.bisect_right(time, now, hi)
        if new > self._scored:
            self._score_through(new)
        heap = self.heap
        neg = self._neg
        escalates = self._escalates
        push = heapq.heappush
        entered = 0
        for k in range(hi, new):
            if escalates[k]:
                self._escalate(k)
            else:
                push(heap, (neg[k], k))
                entered += 1
        self.hi = new
        self.waiting += entered
        idle = self.idle
        if idle:
            for _ in range(min(entered, len(idle))):
                idle.pop().succeed()

    def add_approved(self, item: WorkItem, now: float) -> None:
        """An item the council approved enters the backlog: it may be pulled until it goes stale."""
        k = item.id
        self.entered[k] = now
        self.state[k] = WAITING
        if item.council_score is not None:
            self.council[k] = -item.council_score
        self.waiting += 1
        heapq.heappush(self.heap, (self.council.get(k, self._neg[k]), k))
        self.approved.append(k)
        if self.idle:
            self.idle.pop().succeed()

    def retire(self, k: int, state: int) -> None:
        """Row ``k`` leaves the work for good: stale, rejected or pruned."""
        self.state[k] = state

    def pull(self, now: float) -> int:
        """Take the best-scored waiting item that has not gone stale: its row, or -1 if none."""
        if self.time[self.hi] <= now:
            self.catch_up(now)
        lifetime = self.lifetime
        heap = self.heap
        state = self.state
        entered = self.entered
        stale = 0
        chosen = -1
        while heap:
            k = heapq.heappop(heap)[1]
            if state[k] != WAITING:
                continue
            if now - entered[k] > lifetime:
                state[k] = STALE
                stale += 1
                continue
            state[k] = ACTIVE
            chosen = k
            break
        self.waiting -= stale + (chosen >= 0)
        return chosen

    def expire(self, now: float) -> None:
        """Retire items that went stale. Items enter the backlog in order of arrival (each at its
        arrival time) or of approval, so this is a scan of the oldest of each only."""
        lifetime = self.lifetime
        state = self.state
        stale = 0
        # Rows from arrival, not escalated: they entered at their arrival time.
        time = self.time
        escalates = self._escalates
        k = self._unexpired
        hi = self.hi
        while k < hi:
            if state[k] == WAITING and not escalates[k]:
                if now - time[k] <= lifetime:
                    break
                state[k] = STALE
                stale += 1
            k += 1
        self._unexpired = k
        # Rows the council approved: they entered at their approval.
        approved = self.approved
        entered = self.entered
        while approved:
            k = approved[0]
            if state[k] == WAITING:
                if now - entered[k] <= lifetime:
                    break
                state[k] = STALE
                stale += 1
            approved.popleft()
        self.waiting -= stale

    def drop_old_epochs(self, epoch: int) -> int:
        """Reject every waiting item not aimed at ``epoch``; returns how many (the caller re-ranks)."""
        dropped = 0
        state = self.state
        tags = self.epoch
        for _, k in self.heap:
            if state[k] == WAITING and tags[k] != epoch:
                self.waiting -= 1
                self.retire(k, REJECTED)
                dropped += 1
        return dropped

    def set_meeting_share(self, share: float) -> None:
        """The share of capacity the team plans to spend in meetings, and so its build rate."""
        self.meeting_share = share
        free = 1.0 - self.world.params.org.discovery_share - share
        # Person-days per day one WIP slot builds, after discovery and meetings.
        self.slot_rate = self.gross_rate * max(0.02, free) / self.slots

    def item_rows(self) -> list[tuple]:
        """Every opportunity that has arrived: (created, team, kind, epoch, size, value, escalated,
        decided, started, released, state)."""
        rows = []
        never = (-1.0, -1.0)  # escalated, decided: never happened
        for k in range(self.hi):
            it = self.escalations.get(k)
            row = (self.time[k], self.index, self.kind[k], self.epoch[k], self.size[k])
            decision = never if it is None else (it.escalated, it.decided)
            built = (self.started[k], self.released[k], self.state[k])
            rows.append((*row, self.value[k], *decision, *built))
        return rows


def _draw_block(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The standard draws for one block of opportunities, in a fixed layout so that item k of a team
    gets the same random numbers in every variant: exponentials (gap, size), normals (z, local-metric
    appeal, team noise, council noise), uniforms (kind, comes-from-the-new-market)."""
    return (
        rng.standard_exponential((2, _BLOCK)),
        rng.standard_normal((4, _BLOCK)),
        rng.random((2, _BLOCK)),
    )


def _opportunities(
    world: World, last: float, exps: np.ndarray, normals: np.ndarray, uniforms: np.ndarray
) -> dict[str, np.ndarray]:
    """Opportunity rows from standard draws: arrival time (after ``last``), size, z, value, team
    estimate (with the focus bonus), council estimate, local-metric appeal, kind, and whether the idea
    comes straight from the market."""
    p = world.params
    w = p.work
    z, eta, e1, e2 = normals
    u_kind, u_tag = uniforms
    kind = np.searchsorted(np.array(world.kind_cutoffs), u_kind, side="right")
    gap = exps[0] * (7.0 / w.opportunities_per_team_week)
    return {
        # Arrival times accumulate one gap at a time, from the previous arrival.
        "time": np.cumsum(np.concatenate(([last], gap)))[1:],
        "size": exps[1] * w.item_size_mean_person_days,
        "z": z,
        "value": np.exp(math.log(w.value_median_points) + w.value_log_sd * z),
        "z_team": z + world.estimate_noise * e1 + np.array(world.focus_bonus)[kind],
        "z_council": z + world.council_noise * e2,
        "eta": eta,
        "kind": kind,
        "from_market": u_tag < p.market.signal_share,
    }


def opportunity_arrivals(env: simpy.Environment, team: TeamWork) -> object:
    """A team's Poisson stream of opportunities.

    While every WIP slot is busy nothing looks at the backlog until a slot pulls or a review decides,
    so arrivals are taken in then, each at its own arrival time (``TeamWork.catch_up``) — the same
    result without an event per arrival. While a slot is idle, each arrival is an event that can wake it.
    """
    while True:
        if team.idle:
            yield env.timeout(team.next_time - env.now)
            team.catch_up(team.next_time)
        else:
            team.alarm = env.event()
            yield team.alarm


def team_slot(env: simpy.Environment, world: World, team: TeamWork) -> object:
    """One WIP slot of a team: pull the best item, build it, release it; wait when idle."""
    process = env.active_process
    assert process is not None  # this generator runs as a process
    active = team.active
    started = team.started
    size = team.size
    while True:
        now = env.now
        k = team.pull(now)
        if k < 0:
            wake = env.event()
            team.idle.append(wake)
            if team.alarm is not None and not team.alarm.triggered:
                team.alarm.succeed()  # arrivals now need to be events, to wake this slot
            yield wake
            continue
        started[k] = now
        active[k] = process
        try:
            yield env.timeout(size[k] / team.slot_rate)
        except simpy.Interrupt:
            continue  # pruned by the council: the work done is lost
        del active[k]
        world.release(team, k, env.now)


def decide_queue(world: World, now: float, reviewer: str) -> tuple[int, int, int]:
    """A council (or event-triggered review) decides every escalated item.

    Returns:
        (approved, rejected, stale) counts.
    """
    approved = rejected = stale = 0
    p = world.params
    centralised = p.decisions.rights == "centralised"
    threshold = p.reviews.reject_below_z
    lifetime = world.lifetime_days
    for team in world.product:
        team.catch_up(now)
    queue = sorted(world.decision_queue, key=_created)  # in order of arrival
    world.decision_queue = []
    for item in queue:
        item.decided = now
        world.record_decision(item, now)
        team = world.product[item.team]
        if now - item.created > lifetime:
            team.retire(item.id, STALE)
            stale += 1
            continue
        z = item.z_council + world.focus_bonus[item.kind]
        if item.epoch != world.believed_epoch:
            z += world.foreign_epoch_z
        if z < threshold:
            team.retire(item.id, REJECTED)
            rejected += 1
            continue
        if centralised:
            item.council_score = z  # the council also sets the order of work
        team.add_approved(item, now)
        approved += 1
    if queue:
        world.log(
            now,
            f"decision.{reviewer}",
            "council",
            f"{approved} approved, {rejected} rejected" + (f", {stale} stale" if stale else ""),
        )
    return approved, rejected, stale


def _created(item: WorkItem) -> float:
    return item.created


def prune_wip(world: World, now: float) -> int:
    """The council stops work in progress whose value, as it sees it, is too low to finish."""
    threshold = world.params.reviews.prune_below_z
    pruned = 0
    for team in world.product:
        for k, process in list(team.active.items()):
            z = team.z_council[k] + world.focus_bonus[team.kind[k]]
            if team.epoch[k] != world.believed_epoch:
                z += world.foreign_epoch_z
            if z < threshold:
                del team.active[k]
                process.interrupt("pruned")
                team.retire(k, PRUNED)
                pruned += 1
    return pruned
