"""Properties that hold everywhere in the valid parameter space (Hypothesis).

Any valid settings: no exception, no NaN where a KPI is defined, retention in [0, 1] and non-increasing
with age, work conserved (arrived = released + in progress + waiting + rejected), meeting time within
capacity.
"""

import math

import numpy as np
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from sim.model import simulate
from sim.outcomes import KPI_NAMES, SERIES_INDEX
from sim.params import ParamError, default_params, with_overrides
from sim.params import settings as all_settings
from sim.streams import replication_seeds

# Settings drawn over their whole declared range, except those bounded for test speed.
_SPEED_CAPS = {
    "horizon_weeks": (13, 60),
    "org.product_teams": (1, 6),
    "work.opportunities_per_team_week": (0.05, 30.0),
    "customers.signups_per_week": (0.0, 800.0),
    "work.item_size_mean_person_days": (0.5, 200.0),
}
_FIXED = {"market.shift_week", "market.demand_shock_week"}  # drawn relative to the horizon below


def _value(info):
    if info.type == "bool":
        return st.booleans()
    if info.type == "str":
        return st.sampled_from(info.choices)
    lo, hi = _SPEED_CAPS.get(info.key, (info.lo, info.hi))
    if info.type == "int":
        return st.integers(int(lo), int(hi))
    return st.floats(lo, hi, allow_nan=False, allow_infinity=False)


KEYS = [s for s in all_settings() if s.key not in _FIXED]


@st.composite
def valid_overrides(draw):
    chosen = draw(
        st.lists(st.sampled_from(KEYS), min_size=0, max_size=12, unique_by=lambda s: s.key)
    )
    over = {s.key: draw(_value(s)) for s in chosen}
    horizon = over.setdefault("horizon_weeks", draw(st.integers(13, 60)))
    if draw(st.booleans()):
        over["market.shift_enabled"] = True
        over["market.shift_week"] = draw(st.integers(1, horizon - 1))
    if draw(st.booleans()):
        over["market.demand_shock_enabled"] = True
        over["market.demand_shock_week"] = draw(st.integers(1, horizon - 1))
    return over


def _nullable(name, rep, horizon):
    counts = rep.counts
    signed = rep.series[SERIES_INDEX["signups"]].sum()
    if name == "retention_52w":  # counted on the cohorts 52 weeks old by the end
        old_enough = horizon - 52 + 1
        return old_enough <= 0 or rep.series[SERIES_INDEX["signups"]][:old_enough].sum() == 0
    if name == "ltv_to_cac":
        return horizon < 52 or signed == 0
    if name in ("median_ttv_days", "activation_rate"):
        return signed == 0
    if name == "lead_time_days":
        return counts["released"] == 0
    return name == "detection_lag_days"  # null exactly when no drift episode happened


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(over=valid_overrides(), seed=st.integers(0, 2**32 - 1))
def test_any_valid_settings_give_sane_results(over, seed):
    try:
        p = with_overrides(default_params(), over)
    except ParamError as err:
        event(f"rejected by validation: {err.key}")
        return  # cross-setting rules (e.g. all kind weights 0) reject some draws: that is validation
    event("simulated")
    rep = simulate(p, replication_seeds(seed, 1)[0])
    horizon = p.horizon_weeks

    for name in KPI_NAMES:
        value = rep.kpis[name]
        if not _nullable(name, rep, horizon):
            assert math.isfinite(value), f"{name} is {value}"

    s = rep.retention
    assert np.all(np.isfinite(s)) and s[0] == 1.0
    assert np.all((s >= 0.0) & (s <= 1.0))
    assert np.all(np.diff(s) <= 1e-12), "retention rises with age"

    c = rep.counts
    assert c["arrived"] == (
        c["released"]
        + c["active"]
        + c["waiting"]
        + c["queued"]
        + c["stale"]
        + c["rejected"]
        + c["pruned"]
    ), c

    meeting = rep.series[SERIES_INDEX["meeting_overhead_share"]]
    assert np.all((meeting >= 0.0) & (meeting <= 1.0))
    assert 0.0 <= rep.kpis["meeting_overhead_share"] <= 1.0

    always = ("alignment", "backlog", "wip", "value_delivered", "signups", "active_customers")
    for name in always:
        assert np.all(np.isfinite(rep.series[SERIES_INDEX[name]])), name
    assert np.all((rep.alignment >= 0.0) & (rep.alignment <= 1.0))
    active = rep.series[SERIES_INDEX["active_customers"]]
    assert active[-1] == rep.kpis["active_customers_end"]
