"""The engine of one replication: the organisation's state, its weekly processes and its records.

:func:`sim.model.simulate` builds a :class:`World` for one parameter set and one replication seed,
runs its SimPy processes for the horizon and returns a :class:`~sim.records.Replication` — weekly
series in preallocated arrays, cohort retention, KPIs and an event log. The model does no I/O and
reads no clock. This module is compiled when the project is set up (see :mod:`sim.compiled`).

Scheduling (SimPy clock in days; week ``w`` spans days [7w, 7w + 7)):

* continuous: opportunity arrivals per team, team WIP slots, reviews at their own phase and rhythm;
* at each week's end, in this order: market shocks, incentive drift, customers, recording.

Only event-triggered reviews read the customers during the run; without them, one weekly step
(:meth:`World.week_end`) does the drift, keeps the customers' inputs and records the week, and the
customers are worked out after the run (:meth:`CustomerBase.weeks`), with the same numbers.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import simpy

from sim.customers import CustomerBase
from sim.governance import Drift, Team, hold_review, incentive_drift, review
from sim.outcomes import (
    KPI_NAMES,
    SERIES_INDEX,
    SERIES_NAMES,
    deaths_by_age,
    retention_at,
    survival_by_age,
)
from sim.params import REVIEW_TYPES, Params
from sim.records import Event, EventLog, Replication
from sim.streams import WeeklyStream, stream
from sim.work import (
    PRUNED,
    REJECTED,
    RELEASED,
    STALE,
    TeamWork,
    WorkItem,
    opportunity_arrivals,
    team_slot,
)

_S = SERIES_INDEX
# How quickly the capacity teams plan with follows the meeting hours actually spent (per week).
_MEETING_SMOOTHING = 0.25


class World:
    """The state of one replication, and the bookkeeping the processes share."""

    def __init__(self, params: Params, rep: np.random.SeedSequence, record_items: bool = False):
        self.params = p = params
        self.env = simpy.Environment()
        self.weeks = weeks = p.horizon_weeks
        inc = p.incentives
        a_local = {
            "shared_outcome": inc.shared_outcome_alignment,
            "mixed": inc.mixed_alignment,
            "local_metric": inc.local_metric_alignment,
        }
        n = p.org.product_teams
        self.teams = [
            Team(
                i,
                f"Product {i + 1}",
                "product",
                a_local[inc.product],
                inc.initial_alignment,
                stream(rep, "drift", i),
            )
            for i in range(n)
        ]
        self.teams.append(
            Team(
                n,
                "Marketing",
                "marketing",
                a_local[inc.marketing],
                inc.initial_alignment,
                stream(rep, "drift", n),
            )
        )
        self.teams.append(
            Team(
                n + 1,
                "Sales",
                "sales",
                a_local[inc.sales],
                inc.initial_alignment,
                stream(rep, "drift", n + 1),
            )
        )

        w = p.work
        self.lifetime_days = w.opportunity_lifetime_weeks * 7.0
        self.estimate_noise = w.estimate_noise_sd / math.sqrt(
            1.0 + w.discovery_noise_reduction * p.org.discovery_share
        )
        self.council_noise = w.estimate_noise_sd * (1.0 - 0.5 * p.reviews.instrumentation_quality)
        total = w.weight_onboarding + w.weight_core + w.weight_growth
        self.kind_cutoffs = (
            w.weight_onboarding / total,
            (w.weight_onboarding + w.weight_core) / total,
        )
        focus = {"balanced": -1, "time_to_value": 0, "growth": 2}[w.strategy_focus]
        self.focus_bonus = [w.focus_bonus_z if k == focus else 0.0 for k in range(3)]
        share = max(p.product.old_epoch_value_share, 1e-3)
        self.foreign_epoch_z = math.log(share) / w.value_log_sd
        self.market_epoch = 0
        self.believed_epoch = 0

        self.capacity_hours = p.org.team_size_people * p.org.hours_per_person_week
        self.expected_meeting_share = min(
            1.0,
            sum(
                r.attendees_per_team * (r.hours + p.reviews.context_switch_hours) / r.interval_weeks
                for r in (p.reviews.metric, p.reviews.council, p.reviews.strategy)
                if r.enabled
            )
            / self.capacity_hours,
        )

        # Escalations are decided at councils and event-triggered reviews; without a council the
        # strategy review decides them; with neither, nobody can, so teams decide everything.
        rv = p.reviews
        self.deciders = ("council", "event") if rv.council.enabled else ("strategy", "event")
        deciding = rv.council.enabled or rv.strategy.enabled
        self.decision_rights = p.decisions.rights if deciding else "delegated"
        self.escalation_size = p.decisions.escalation_size_person_days
        self.product = [TeamWork(self, i, stream(rep, "arrivals", i)) for i in range(n)]
        self.decision_queue: list[WorkItem] = []
        pr = p.product
        self.stock = [
            pr.reference_onboarding_points,
            pr.reference_core_points,
            pr.reference_growth_points,
        ]
        self.customers = CustomerBase(
            p, weeks, WeeklyStream(rep, "customers"), WeeklyStream(rep, "churn_propensity")
        )

        # Weekly records as plain lists while running (cheap to write), arrays at the end.
        self.weekly = [[math.nan] * len(SERIES_NAMES) for _ in range(weeks)]
        self.align_rows: list[list[float]] = []
        # Per-week sums filled as events happen: released, lead time, value, decisions, decision
        # latency, meeting hours.
        self.ledger = [[0.0] * weeks for _ in range(6)]
        self.events: list[Event] = []
        self.detection_lags: list[float] = []
        self._escalated_week = 0
        # Each week's customer inputs (rate, median time-to-value, oversold share, core multiplier),
        # kept when no event review reads the customers' outcomes during the run.
        self._customer_inputs: list[tuple[float, float, float, float]] = []
        self.last_event_review = -math.inf
        self._keep = 1.0 - p.product.depreciation_per_week  # value stocks kept each week
        self.record_items = record_items
        self._rep = rep

    @property
    def counts(self) -> dict[str, int]:
        """Opportunities so far: arrived, released, gone stale, rejected, pruned, escalated."""
        rows = [t.state for t in self.product]

        def leaving(state: int) -> int:
            return sum(states.count(state) for states in rows)

        return {
            "arrived": sum(t.hi for t in self.product),
            "released": leaving(RELEASED),
            "stale": leaving(STALE),
            "rejected": leaving(REJECTED),
            "pruned": leaving(PRUNED),
            "escalated": sum(len(t.escalations) for t in self.product),
        }

    # -- bookkeeping used by the processes -----------------------------------------------------------
    def week_of(self, day: float) -> int:
        return min(int(day // 7.0), self.weeks - 1)

    def log(self, day: float, kind: str, team: str, detail: str, week: int | None = None) -> None:
        self.events.append((day, self.week_of(day) if week is None else week, kind, team, detail))

    def escalate(self, item: WorkItem) -> None:
        """An arriving opportunity the team may not start on its own waits for a decision."""
        self.decision_queue.append(item)
        self._escalated_week += 1

    def release(self, team: TeamWork, k: int, now: float) -> None:
        """Released work (row ``k`` of ``team``) adds its value, reduced if built for a past epoch,
        to the product."""
        team.state[k] = RELEASED
        team.released[k] = now
        value = team.value[k]
        if team.epoch[k] != self.market_epoch:
            value *= self.params.product.old_epoch_value_share
        self.stock[team.kind[k]] += value
        week = int(now // 7.0)  # World.week_of, inline: a release is the commonest event
        if week >= self.weeks:
            week = self.weeks - 1
        led = self.ledger
        led[0][week] += 1.0
        led[1][week] += now - team.time[k]
        led[2][week] += value

    def record_decision(self, item: WorkItem, now: float) -> None:
        week = self.week_of(now)
        self.ledger[3][week] += 1.0
        self.ledger[4][week] += now - item.escalated

    def add_meeting_hours(self, day: float, hours: float) -> None:
        self.ledger[5][self.week_of(day)] += hours

    def _move_epochs(self, now: float, market: int, believed: int) -> None:
        """Change the market's and the believed epoch at ``now``: opportunities that arrived before
        keep the epochs of their time; those still to arrive take the new ones."""
        for t in self.product:
            t.catch_up(now)
        self.market_epoch, self.believed_epoch = market, believed
        for t in self.product:
            t.retarget()

    def reaim(self, now: float) -> None:
        """The organisation notices the new market: old-epoch ideas leave the backlog."""
        epoch = self.market_epoch
        self._move_epochs(now, epoch, epoch)
        dropped = sum(t.drop_old_epochs(epoch) for t in self.product)
        for t in self.product:
            t.rerank()
        self.log(
            now, "reaim", "", f"re-aimed to market epoch {epoch}; {dropped} stale ideas dropped"
        )

    def shift_epoch(self, now: float, why: str) -> None:
        """The market's needs change: what was built for the old epoch is worth less."""
        self._move_epochs(now, self.market_epoch + 1, self.believed_epoch)
        share = self.params.product.old_epoch_value_share
        self.stock = [s * share for s in self.stock]
        self.log(now, "market_shift", "", why)

    # -- weekly processes ----------------------------------------------------------------------------
    def market(self, env: simpy.Environment) -> object:
        """Scheduled market events: an epoch shift (pivot) and a demand shock."""
        m = self.params.market
        plan = []
        if m.shift_enabled:
            plan.append((m.shift_week, "shift"))
        if m.demand_shock_enabled:
            plan.append((m.demand_shock_week, "demand"))
        for week, what in sorted(plan):
            yield env.timeout(week * 7.0 - env.now)
            if what == "shift":
                self.shift_epoch(env.now, "the market moved to a new epoch")
            else:
                self.log(
                    env.now,
                    "demand_shock",
                    "",
                    f"sign-ups fall {m.demand_shock_depth:.0%}, recovering over "
                    f"{m.demand_shock_recovery_weeks:g} weeks",
                )
                if m.demand_shock_shifts_epoch:
                    self.shift_epoch(env.now, "the demand shock changed what customers need")

    def demand_multiplier(self, week: int) -> float:
        m = self.params.market
        if not m.demand_shock_enabled or week < m.demand_shock_week:
            return 1.0
        recovered = (week - m.demand_shock_week) / m.demand_shock_recovery_weeks
        return 1.0 - m.demand_shock_depth * max(0.0, 1.0 - recovered)

    def _customer_inputs_at(self, week: int) -> tuple[float, float, float, float]:
        """The end of ``week``: value stocks wear out; returns the customers' inputs for the week
        (sign-up rate, median time-to-value, oversold share, core churn multiplier)."""
        p = self.params
        c = p.customers
        pr = p.product
        self.stock = [s * self._keep for s in self.stock]
        onboarding, core, growth = self.stock
        anchor = p.incentives.strategic_anchor
        marketing, sales = self.teams[-2], self.teams[-1]
        mis_sales = max(0.0, anchor - sales.alignment)
        mis_marketing = max(0.0, anchor - marketing.alignment)
        push = 1.0 + c.sales_push_gain * mis_sales + c.marketing_push_gain * mis_marketing
        pull = (max(growth, 0.01 * pr.reference_growth_points) / pr.reference_growth_points) ** (
            c.growth_pull_elasticity
        )
        rate = c.signups_per_week * self.demand_multiplier(week) * pull * push
        ttv_median = (
            c.ttv_median_days
            * (
                pr.reference_onboarding_points
                / max(onboarding, 0.01 * pr.reference_onboarding_points)
            )
            ** c.onboarding_ttv_elasticity
        )
        oversold = min(
            1.0,
            c.oversold_base_share
            + c.sales_oversold_gain * mis_sales
            + c.marketing_oversold_gain * mis_marketing,
        )
        core_mult = 1.0 + c.weak_core_churn_gain * max(0.0, 1.0 - core / pr.reference_core_points)
        return rate, ttv_median, oversold, core_mult

    def customer_week(self, env: simpy.Environment) -> object:
        """Weekly, for event-triggered reviews: a cohort signs up, everyone alive faces churn, and a
        review is called when activation or churn crosses its threshold."""
        ev = self.params.reviews.event
        ev_rng = stream(self._rep, "review.event")
        for week in range(self.weeks):
            yield env.timeout(7.0)
            rate, ttv_median, oversold, core_mult = self._customer_inputs_at(week)
            out = self.customers.week(week, rate, ttv_median, oversold, core_mult)
            self._record_customers(week, out, oversold)
            activation, churn_rate = out[1], out[5]
            if env.now - self.last_event_review >= ev.cooldown_weeks * 7.0:
                trigger = ""
                if activation == activation and activation < ev.activation_threshold:
                    trigger = f"activation {activation:.0%} below {ev.activation_threshold:.0%}"
                elif churn_rate > ev.churn_threshold:
                    trigger = f"churn {churn_rate:.1%} above {ev.churn_threshold:.1%}"
                if trigger:
                    self.last_event_review = env.now
                    hold_review(self, "event", ev, ev_rng, env.now, trigger=trigger)

    def week_end(self, env: simpy.Environment) -> object:
        """Weekly, when no event-triggered review reads the customers: drift, the customers' inputs
        (worked out after the run) and the records, in one step — the order and the numbers of the
        three weekly processes, without their events."""
        drift = Drift(self)
        inputs = self._customer_inputs
        for week in range(self.weeks):
            yield env.timeout(7.0)
            now = env.now
            drift.step(now, week)
            inputs.append(self._customer_inputs_at(week))
            self._record(week, now)

    def _record_customers(
        self, week: int, out: tuple[int, float, float, int, int, float], oversold: float
    ) -> None:
        signups, activation, ttv, churned, alive, churn_rate = out
        col = self.weekly[week]
        col[_S["signups"]] = signups
        col[_S["oversold_share"]] = oversold
        col[_S["activation_rate"]] = activation
        col[_S["median_ttv_days"]] = ttv
        col[_S["churned"]] = churned
        col[_S["active_customers"]] = alive
        col[_S["churn_rate"]] = churn_rate
        col[_S["revenue"]] = alive * self.params.customers.revenue_per_customer_week

    def _customers_after_run(self) -> None:
        """The customers' weeks, from the inputs ``customer_week`` kept while nothing needed them."""
        inputs = self._customer_inputs
        if inputs:
            outs = self.customers.weeks(*zip(*inputs, strict=True))
            for week, (out, (_, _, oversold, _)) in enumerate(zip(outs, inputs, strict=True)):
                self._record_customers(week, out, oversold)
            self._customer_inputs = []

    def recorder(self, env: simpy.Environment) -> object:
        """Weekly: write the organisation's state into the series arrays."""
        for week in range(self.weeks):
            yield env.timeout(7.0)
            self._record(week, env.now)

    def _record(self, week: int, now: float) -> None:
        """The end of ``week``: the organisation's state into the series arrays."""
        cap = self.capacity_hours
        for t in self.product:
            t.catch_up(now)
            t.expire(now)
        col = self.weekly[week]
        self.align_rows.append([team.alignment for team in self.teams])
        col[_S["backlog"]] = sum(t.waiting for t in self.product)
        col[_S["wip"]] = sum(len(t.active) for t in self.product)
        col[_S["decision_queue"]] = len(self.decision_queue)
        released, lead, value, decided, latency, hours = (row[week] for row in self.ledger)
        col[_S["throughput"]] = released
        col[_S["lead_time_days"]] = lead / released if released else math.nan
        col[_S["decision_latency_days"]] = latency / decided if decided else math.nan
        share = min(1.0, hours / cap)
        col[_S["meeting_overhead_share"]] = share
        col[_S["value_delivered"]] = value
        col[_S["stock_onboarding"]], col[_S["stock_core"]], col[_S["stock_growth"]] = self.stock
        for t in self.product:
            t.set_meeting_share(t.meeting_share + _MEETING_SMOOTHING * (share - t.meeting_share))
        if self._escalated_week:
            self.log(now, "escalation", "", f"{self._escalated_week} items escalated", week=week)
            self._escalated_week = 0

    # -- run -----------------------------------------------------------------------------------------
    def run(self) -> Replication:
        """Run the replication once. The world is spent afterwards: its processes are closed and its
        teams' work is let go (see :func:`_dismantle`)."""
        env = self.env
        p = self.params
        processes: list[tuple[Any, simpy.Process]] = []

        def start(generator: Any) -> simpy.Process:  # a process function's generator
            process = env.process(generator)
            processes.append((generator, process))
            return process

        for t in self.product:
            start(opportunity_arrivals(env, t))
            for _ in range(t.slots):
                start(team_slot(env, self, t))
        for kind in REVIEW_TYPES[:3]:
            rp = getattr(p.reviews, kind)
            if rp.enabled:
                start(review(env, self, kind, rp, stream(self._rep, f"review.{kind}")))
        start(self.market(env))
        if p.reviews.event.enabled:
            start(incentive_drift(env, self))
            start(self.customer_week(env))
            done = start(self.recorder(env))
        else:
            done = start(self.week_end(env))
        env.run(until=done)
        self._customers_after_run()
        result = self._result()
        _dismantle(self, processes)
        return result

    def _result(self) -> Replication:
        p = self.params
        weeks = self.weeks
        end = weeks * 7.0
        cust = self.customers
        at_age = deaths_by_age(cust.deaths)
        retention = survival_by_age(cust.sizes, at_age)
        signed = int(cust.sizes.sum())
        led = np.array(self.ledger)
        rows = np.array(self.align_rows)  # (weeks, teams)
        align = rows.T.copy()
        series = np.array(self.weekly).T.copy()  # (metrics, weeks)
        series[_S["alignment"]] = rows.mean(axis=1)
        released = led[0].sum()
        decided = led[3].sum()
        lags = list(self.detection_lags) + [end - t.onset for t in self.teams if t.onset >= 0.0]
        if weeks >= 52 and signed:
            ltv = p.customers.revenue_per_customer_week * float(retention[1:53].sum())
            cac = p.org.gtm_cost_per_week * weeks / signed
            ltv_to_cac = ltv / cac
        else:
            ltv_to_cac = math.nan
        meeting = np.minimum(led[5], self.capacity_hours).sum() / (self.capacity_hours * weeks)
        kpis = {
            "retention_52w": retention_at(cust.sizes, at_age, 52),
            "median_ttv_days": float(np.median(np.concatenate(cust.ttv))) if signed else math.nan,
            "activation_rate": float(cust.activated.sum() / signed) if signed else math.nan,
            "value_delivered": float(led[2].sum()),
            "mean_alignment": float(align.mean()),
            "meeting_overhead_share": float(meeting),
            "decision_latency_days": float(led[4].sum() / decided) if decided else 0.0,
            "lead_time_days": float(led[1].sum() / released) if released else math.nan,
            "detection_lag_days": float(np.mean(lags)) if lags else math.nan,
            "active_customers_end": float(cust.active),
            "ltv_to_cac": ltv_to_cac,
        }
        assert tuple(kpis) == KPI_NAMES
        counts = self.counts
        counts["waiting"] = sum(t.waiting for t in self.product)
        counts["active"] = sum(len(t.active) for t in self.product)
        counts["queued"] = len(self.decision_queue)
        items = None
        if self.record_items:
            arrived = sorted(row for t in self.product for row in t.item_rows())
            items = [(i, row[1], *row[2:6], row[0], *row[6:]) for i, row in enumerate(arrived, 1)]
        return Replication(
            series=series,
            alignment=align,
            team_names=tuple(t.name for t in self.teams),
            retention=retention,
            kpis=kpis,
            event_log=EventLog.pack(self.events),
            counts=counts,
            sim_events=_events_processed(self.env),
            items=items,
        )


def _dismantle(world: World, processes: list[tuple[Any, simpy.Process]]) -> None:
    """Break the reference cycles a finished run leaves, so that reference counting frees the world
    at once and the cyclic collector has next to nothing of it to trace: a process still waiting is
    called back by the event it waits on, its suspended generator holds the world, and the teams'
    work refers to the world that holds it (the world lets go of it)."""
    for generator, process in processes:
        if process.is_alive:
            process.target.callbacks = []
        generator.close()
    world.product = []


def _events_processed(env: simpy.Environment) -> int:
    """SimPy events scheduled in this environment (each one is processed once)."""
    counter = getattr(env, "_eid", None)
    return next(counter) if counter is not None else 0
