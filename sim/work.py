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

import heapq
import math
from collections import deque
from collections.abc import Iterator
from typing import TYPE_CHECKING

import numpy as np
import simpy

if TYPE_CHECKING:
    from sim.model import World

KINDS = ("onboarding", "core", "growth")

# Item states
WAITING, QUEUED, ACTIVE, RELEASED, STALE, REJECTED, PRUNED = range(7)

# How far alignment may move before a team re-ranks its backlog.
_RERANK_ALIGNMENT_STEP = 0.05
# Standard draws per opportunity: inter-arrival, size (exponential); z, eta, team noise, council noise
# (normal); kind, epoch tag (uniform). Drawn in blocks so that item k of a team always gets row k.
_BLOCK = 64


class WorkItem:
    """One opportunity, from arrival to release (or rejection)."""

    __slots__ = (
        "council_score",
        "created",
        "decided",
        "entered",
        "epoch",
        "escalated",
        "eta",
        "id",
        "kind",
        "process",
        "released",
        "size",
        "started",
        "state",
        "team",
        "value",
        "z",
        "z_council",
        "z_team",
    )

    def __init__(self, id_: int, team: int, created: float) -> None:
        self.id = id_
        self.team = team
        self.created = created
        self.escalated = -1.0
        self.decided = -1.0
        self.entered = -1.0
        self.started = -1.0
        self.released = -1.0
        self.council_score: float | None = None
        self.process: simpy.Process | None = None


class TeamWork:
    """A product team's backlog, WIP slots and build capacity."""

    def __init__(self, world: World, index: int, rng: np.random.Generator) -> None:
        p = world.params
        self.world = world
        self.index = index
        self.slots = p.org.wip_limit_per_team
        self.heap: list[tuple[float, int, WorkItem]] = []
        self.fifo: deque[WorkItem] = deque()  # entry order, for expiry
        self.waiting = 0
        self.active: dict[WorkItem, None] = {}  # insertion-ordered for determinism
        self.idle: list[simpy.Event] = []
        # The team ranks with the priorities it last set: weights on value and on the local metric.
        self.ranked_alignment = -1.0
        self._w_value = 0.0
        self._w_local = 0.0
        self._set_weights()
        # Person-days of build work per calendar day, before meetings and discovery.
        per_day = p.org.team_size_people * p.org.hours_per_person_week / 8.0 / 7.0
        self.gross_rate = per_day
        self.meeting_share = world.expected_meeting_share  # smoothed, updated weekly
        # Opportunity stream: the next arrival's time and draws (see ``catch_up``).
        self._rows = _opportunity_rows(world, rng)
        self.next_time = 0.0
        self._next_row: tuple = ()
        self._advance()
        self.alarm: simpy.Event | None = None

    # -- ranking -------------------------------------------------------------------------------------
    def _set_weights(self) -> None:
        a = self.world.teams[self.index].alignment
        self.ranked_alignment = a
        self._w_value = a
        self._w_local = math.sqrt(max(0.0, 1.0 - a * a))

    def score(self, item: WorkItem) -> float:
        """The team's decision score for an item (higher is started first)."""
        if item.council_score is not None:
            return item.council_score
        z = item.z_team
        if item.epoch != self.world.believed_epoch:
            z += self.world.foreign_epoch_z
        return self._w_value * z + self._w_local * item.eta

    def rerank(self) -> None:
        """Re-score every waiting item (after alignment moved or the organisation re-aimed)."""
        self._set_weights()
        self.heap = [(-self.score(it), it.id, it) for _, _, it in self.heap if it.state == WAITING]
        heapq.heapify(self.heap)

    def maybe_rerank(self) -> None:
        """Re-rank when priorities have shifted materially since the last ranking."""
        if abs(self.world.teams[self.index].alignment - self.ranked_alignment) > (
            _RERANK_ALIGNMENT_STEP
        ):
            self.rerank()

    # -- flow ----------------------------------------------------------------------------------------
    def add(self, item: WorkItem, now: float) -> None:
        """Make an item actionable: it may be pulled from now until it goes stale."""
        item.state = WAITING
        item.entered = now
        self.waiting += 1
        heapq.heappush(self.heap, (-self.score(item), item.id, item))
        self.fifo.append(item)
        if self.idle:
            self.idle.pop().succeed()

    # -- arrivals ----------------------------------------------------------------------------------
    def _advance(self) -> None:
        self._next_row = next(self._rows)
        self.next_time += self._next_row[0]

    def catch_up(self, now: float) -> None:
        """Take in every opportunity that has arrived by ``now``, each at its own arrival time."""
        world = self.world
        while self.next_time <= now:
            _, size, z, value, z_team, z_council, eta, kind, from_market = self._next_row
            item = WorkItem(next(world.item_ids), self.index, self.next_time)
            item.size = size
            item.z = z
            item.value = value
            item.z_team = z_team
            item.z_council = z_council
            item.eta = eta
            item.kind = kind
            # Before the organisation re-aims, most new ideas still come from its old picture.
            if from_market or world.believed_epoch == world.market_epoch:
                item.epoch = world.market_epoch
            else:
                item.epoch = world.believed_epoch
            world.arrive(item, self)
            self._advance()

    def pull(self, now: float) -> WorkItem | None:
        """Take the best-scored waiting item that has not gone stale."""
        self.catch_up(now)
        lifetime = self.world.lifetime_days
        heap = self.heap
        while heap:
            item = heapq.heappop(heap)[2]
            if item.state != WAITING:
                continue
            self.waiting -= 1
            if now - item.entered > lifetime:
                self.world.retire(item, STALE)
                continue
            return item
        return None

    def expire(self, now: float) -> None:
        """Retire items that went stale (entry order makes this a scan of the oldest only)."""
        lifetime = self.world.lifetime_days
        fifo = self.fifo
        while fifo and (fifo[0].state != WAITING or now - fifo[0].entered > lifetime):
            item = fifo.popleft()
            if item.state == WAITING:
                self.waiting -= 1
                self.world.retire(item, STALE)

    def drop_where(self, predicate) -> int:
        """Retire every waiting item for which ``predicate(item)`` holds; returns how many."""
        dropped = 0
        for _, _, item in self.heap:
            if item.state == WAITING and predicate(item):
                self.waiting -= 1
                self.world.retire(item, REJECTED)
                dropped += 1
        if dropped:
            self.rerank()
        return dropped

    def slot_rate(self) -> float:
        """Person-days per day one WIP slot builds, after discovery and meetings."""
        free = 1.0 - self.world.params.org.discovery_share - self.meeting_share
        return self.gross_rate * max(0.02, free) / self.slots


def _opportunity_rows(world: World, rng: np.random.Generator) -> Iterator[tuple]:
    """A team's opportunities, drawn in blocks with a fixed layout so that item k of a team gets the
    same random numbers in every variant: (gap in days, size, z, value, team estimate with the focus
    bonus, council estimate, local-metric appeal, kind, comes-from-the-new-market)."""
    p = world.params
    w = p.work
    mean_gap_days = 7.0 / w.opportunities_per_team_week
    log_median = math.log(w.value_median_points)
    cutoffs = np.array(world.kind_cutoffs)
    bonus = np.array(world.focus_bonus)
    while True:
        exps = rng.standard_exponential((2, _BLOCK))
        z, eta, e1, e2 = rng.standard_normal((4, _BLOCK))
        u_kind, u_tag = rng.random((2, _BLOCK))
        kind = np.searchsorted(cutoffs, u_kind, side="right")
        yield from zip(
            (exps[0] * mean_gap_days).tolist(),
            (exps[1] * w.item_size_mean_person_days).tolist(),
            z.tolist(),
            np.exp(log_median + w.value_log_sd * z).tolist(),
            (z + world.estimate_noise * e1 + bonus[kind]).tolist(),
            (z + world.council_noise * e2).tolist(),
            eta.tolist(),
            kind.tolist(),
            (u_tag < p.market.signal_share).tolist(),
            strict=True,
        )


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
    while True:
        item = team.pull(env.now)
        if item is None:
            wake = env.event()
            team.idle.append(wake)
            if team.alarm is not None and not team.alarm.triggered:
                team.alarm.succeed()  # arrivals now need to be events, to wake this slot
            yield wake
            continue
        item.state = ACTIVE
        item.started = env.now
        item.process = env.active_process
        team.active[item] = None
        try:
            yield env.timeout(item.size / team.slot_rate())
        except simpy.Interrupt:
            continue  # pruned by the council: the work done is lost
        team.active.pop(item, None)
        item.process = None
        world.release(item)


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
        if now - item.created > lifetime:
            world.retire(item, STALE)
            stale += 1
            continue
        z = item.z_council + world.focus_bonus[item.kind]
        if item.epoch != world.believed_epoch:
            z += world.foreign_epoch_z
        if z < threshold:
            world.retire(item, REJECTED)
            rejected += 1
            continue
        if centralised:
            item.council_score = z  # the council also sets the order of work
        world.product[item.team].add(item, now)
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
        for item in list(team.active):
            z = item.z_council + world.focus_bonus[item.kind]
            if item.epoch != world.believed_epoch:
                z += world.foreign_epoch_z
            if z < threshold and item.process is not None:
                team.active.pop(item, None)
                item.process.interrupt("pruned")
                item.process = None
                world.retire(item, PRUNED)
                pruned += 1
    return pruned
