"""Settings said to have no effect (``sim.narrative.unused_settings``) are checked against the model:
changed, they leave a replication exactly as it was; where they are said to act, they move it."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sim.model import Replication, simulate
from sim.narrative import unused_changes, unused_settings
from sim.params import Params, get, info, with_overrides
from sim.scenarios import load_preset, preset_names
from sim.streams import replication_seeds

SHORT = {"horizon_weeks": 52, "market.shift_week": 20, "market.demand_shock_week": 20}
# Configurations that switch off each gate the rules know of (each on top of SHORT).
CONFIGURATIONS = {
    "defaults": {},
    "no reviews": {f"reviews.{k}.enabled": False for k in ("metric", "council", "strategy")},
    "metric review only": {"reviews.council.enabled": False, "reviews.strategy.enabled": False},
    "event reviews only": {
        **{f"reviews.{k}.enabled": False for k in ("metric", "council", "strategy")},
        "reviews.event.enabled": True,
    },
    "delegated": {"decisions.rights": "delegated"},
    "centralised, strategy decides": {
        "decisions.rights": "centralised",
        "reviews.council.enabled": False,
    },
    "shock that keeps needs": {
        "market.demand_shock_enabled": True,
        "market.demand_shock_shifts_epoch": False,
    },
    "mixed sales, growth focus, no discovery": {
        "incentives.sales": "mixed",
        "work.strategy_focus": "growth",
        "org.discovery_share": 0.0,
    },
}


def _other_value(params: Params, key: str):
    """A valid value of ``key`` other than its current one."""
    s = info(key)
    now = get(params, key)
    if s.type == "bool":
        return not now
    if s.choices:
        return next(c for c in s.choices if c != now)
    hi = s.hi if s.hi is not None else now + 1
    lo = s.lo if s.lo is not None else now - 1
    new = (now + hi) / 2 if now < hi else (lo + now) / 2
    return round(new) if s.type == "int" else new


def _same(a: Replication, b: Replication) -> bool:
    def kpis_equal(x: dict, y: dict) -> bool:
        return (
            all((math.isnan(x[k]) and math.isnan(y[k])) or x[k] == y[k] for k in x)
            and x.keys() == y.keys()
        )

    return (
        np.array_equal(a.series, b.series, equal_nan=True)
        and np.array_equal(a.alignment, b.alignment)
        and np.array_equal(a.retention, b.retention, equal_nan=True)
        and kpis_equal(a.kpis, b.kpis)
        and a.events == b.events
        and a.counts == b.counts
    )


def _cases() -> list[tuple[str, Params, str]]:
    cases = []
    for name, overrides in CONFIGURATIONS.items():
        p = with_overrides(Params(), {**SHORT, **overrides})
        cases += [(name, p, key) for key in unused_settings(p)]
    return cases


CASES = _cases()


@pytest.mark.parametrize(("config", "params", "key"), CASES, ids=[f"{c}:{k}" for c, _, k in CASES])
def test_a_setting_said_to_have_no_effect_leaves_the_replication_as_it_was(config, params, key):
    changed = with_overrides(params, {key: _other_value(params, key)})
    seed = replication_seeds(5, 1)[0]
    assert _same(simulate(params, seed), simulate(changed, seed)), (config, key)


# A setting said to be unused under one configuration, and a configuration in which it acts.
ACTING = [
    ("reviews.council.interval_weeks", {"reviews.council.enabled": False}, {}),
    ("reviews.event.churn_threshold", {}, {"reviews.event.enabled": True}),
    ("decisions.escalation_size_person_days", {"decisions.rights": "centralised"}, {}),
    ("reviews.reject_below_z", {"decisions.rights": "delegated"}, {}),
    ("market.demand_shock_depth", {}, {"market.demand_shock_enabled": True}),
    (
        "incentives.mixed_alignment",
        {"incentives.drift_rate_per_week": 0.5},
        {"incentives.drift_rate_per_week": 0.5, "incentives.sales": "mixed"},
    ),
]


@pytest.mark.parametrize(("key", "idle", "acting"), ACTING, ids=[a[0] for a in ACTING])
def test_the_same_setting_moves_the_replication_where_it_is_said_to_act(key, idle, acting):
    seed = replication_seeds(5, 1)[0]
    event = {"reviews.event.churn_threshold": 0.02}  # low enough to be crossed: reviews are called
    for overrides, said_unused in ((idle, True), (acting, False)):
        p = with_overrides(Params(), {**SHORT, **overrides})
        assert (key in unused_settings(p)) is said_unused
        new = {key: 0.01 if key in event else _other_value(p, key)}
        assert _same(simulate(p, seed), simulate(with_overrides(p, new), seed)) is said_unused


def test_every_rule_is_exercised_by_the_configurations():
    reasons = {why for _, p, key in CASES for why in [unused_settings(p)[key]]}
    assert {
        "the council is off",
        "event-triggered reviews are off",
        "event-triggered reviews meet when a trigger fires",
        "no review is held",
        "no council, strategy or event-triggered review is held",
        "with no council or strategy review, teams decide everything",
        "decision rights are delegated (nothing is escalated)",
        "decision rights are centralised (every item is escalated)",
        "the market never shifts",
        "there is no demand shock",
        "the market's needs never change",
        "no function is paid on a local metric",
        "the strategy's focus is balanced",
        "no discovery time is protected",
    } <= reasons


def test_the_presets_change_no_setting_that_cannot_act():
    for name in preset_names():
        assert unused_changes(load_preset(name).params) is None, name


def test_the_sentence_names_the_changed_unused_settings_grouped_by_why():
    assert unused_changes(Params()) is None  # unused settings at their defaults are not news
    p = with_overrides(
        Params(),
        {
            "reviews.council.enabled": False,
            "reviews.council.interval_weeks": 2.0,
            "reviews.council.hours": 2.0,
            "decisions.rights": "centralised",
            "decisions.escalation_size_person_days": 10.0,
            "reviews.event.churn_threshold": 0.1,
            "reviews.metric.hours": 2.0,  # held: it acts
        },
    )
    assert unused_changes(p) == (
        "Changed, but without effect in this run: the council interval and the council's length, "
        "as the council is off; the event-triggered review's churn trigger, as event-triggered "
        "reviews are off; the escalation threshold, as decision rights are centralised (every "
        "item is escalated)."
    )
