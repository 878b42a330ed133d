"""The governance levers and display options, each with the mechanism it drives.

Levers live in one form and take effect together when the user presses Run; display options sit
outside it and only redraw. Widget values live in ``session_state`` under ``lever.<setting>`` keys, set
from the applied settings before the widgets are drawn (a preset, an upload or a link writes them
there), so the form always shows what will be run.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd
import streamlit as st

from app import views
from app.state import (
    BAND_WIDTHS,
    MAX_APP_REPLICATIONS,
    MAX_SEED,
)
from sim.outcomes import SERIES
from sim.params import KEYS, ParamError, Params, diff, flatten, get, info
from sim.report.format import series_label

LEVER_PREFIX = "lever."
SEED_KEY = "run.seed"
REPS_KEY = "run.replications"
METRIC_KEY = "view.metric"
BAND_KEY = "view.band"
TEAMS_KEY = "view.teams"
TAB_KEY = "view.tab"
PRESENT_KEY = "view.present"

INCENTIVE_LABELS = {
    "shared_outcome": "Shared outcome",
    "mixed": "Mixed scorecard",
    "local_metric": "Local metric",
}
RIGHTS_LABELS = {
    "delegated": "Delegated (teams decide)",
    "guardrails": "Guardrails (large items escalate)",
    "centralised": "Centralised (everything escalates)",
}
FOCUS_LABELS = {
    "balanced": "Balanced",
    "time_to_value": "Time-to-value (onboarding first)",
    "growth": "Growth",
}
CHOICE_LABELS = {**INCENTIVE_LABELS, **RIGHTS_LABELS, **FOCUS_LABELS}


@dataclass(frozen=True)
class Lever:
    """One control: the setting it writes, its widget, and the mechanism it drives."""

    key: str
    label: str
    widget: str  # "choice", "toggle", "slider" or "number"
    mechanism: str
    step: float | None = None
    fmt: str | None = None

    @property
    def widget_key(self) -> str:
        return LEVER_PREFIX + self.key

    @property
    def help(self) -> str:
        s = info(self.key)
        unit = f" {s.unit}" if s.unit and not s.choices and s.type != "bool" else ""
        allowed = "" if s.type == "bool" else f" Allowed: {s.allowed}{unit}."
        return f"{self.mechanism}{allowed}"


def _a(kind: str) -> str:
    return f"{info(f'incentives.{kind}_alignment').default:g}"


_INCENTIVE = (
    "Each week the function's alignment moves toward its incentive's alignment "
    f"(shared outcome {_a('shared_outcome')}, mixed {_a('mixed')}, local metric "
    f"{_a('local_metric')}); at alignment a a team captures about a² of the value it could."
)

GROUPS: tuple[tuple[str, tuple[Lever, ...]], ...] = (
    (
        "Incentives",
        (
            Lever(
                "incentives.product",
                "Product teams are paid on",
                "choice",
                f"{_INCENTIVE} Product's local metric is delivery velocity: drifting teams pick "
                "work that is easy to ship rather than valuable.",
            ),
            Lever(
                "incentives.marketing",
                "Marketing is paid on",
                "choice",
                f"{_INCENTIVE} Marketing's local metric is campaign volume: drifting marketing "
                "brings more sign-ups, more of them oversold.",
            ),
            Lever(
                "incentives.sales",
                "Sales is paid on",
                "choice",
                f"{_INCENTIVE} Sales' local metric is bookings: drifting sales pushes sign-ups up "
                "and oversells; oversold customers take longer to reach value and churn more.",
            ),
            Lever(
                "incentives.drift_rate_per_week",
                "Drift rate (per week)",
                "number",
                "κ: the share of the gap between a team's alignment and its incentive's alignment "
                "closed each week. Faster drift leaves more to catch between reviews.",
                step=0.01,
                fmt="%.3f",
            ),
            Lever(
                "work.strategy_focus",
                "Strategy focus",
                "choice",
                "The kind of work the strategy favours: an aligned team moves ideas of that kind up "
                "its list (a drifting one less). 'Time-to-value' favours onboarding work, which "
                "shortens customers' time to first value and lifts activation.",
            ),
        ),
    ),
    (
        "Review rhythm",
        (
            Lever(
                "reviews.metric.enabled",
                "Metric review",
                "toggle",
                "A short review of the metrics, weekly unless the scenario sets another interval "
                "(twice a week in Meeting overload): costs its attendees' hours, notices drift with "
                "a low probability and closes a small share of a detected team's gap.",
            ),
            Lever(
                "reviews.council.interval_weeks",
                "Product council every (weeks)",
                "number",
                "The council decides escalated items, stops low-value work in progress and "
                "corrects the drift it notices (medium strength). Rarer councils let escalations "
                "wait and drift run; frequent ones eat build capacity.",
                step=0.5,
                fmt="%.1f",
            ),
            Lever(
                "reviews.strategy.interval_weeks",
                "Strategy review every (weeks)",
                "number",
                "Resets alignment strongly toward the strategic anchor, and is the only scheduled "
                "review that notices a market shift and re-aims the backlog. Each one costs many "
                "attendee-hours.",
                step=1.0,
                fmt="%.1f",
            ),
            Lever(
                "reviews.event.enabled",
                "Event-triggered reviews",
                "toggle",
                "An extra review when activation falls below, or churn rises above, its threshold: "
                "it corrects drift, decides escalations and can re-aim after a market shift.",
            ),
            Lever(
                "reviews.event.activation_threshold",
                "Trigger when activation falls below",
                "slider",
                "The week's activation rate (share of new customers reaching value within the "
                "habit threshold) below which an event-triggered review is held.",
                step=0.01,
                fmt="%.2f",
            ),
            Lever(
                "reviews.event.churn_threshold",
                "Trigger when weekly churn rises above",
                "number",
                "The week's churn among active customers above which an event-triggered review "
                "is held.",
                step=0.005,
                fmt="%.3f",
            ),
        ),
    ),
    (
        "Decisions and capacity",
        (
            Lever(
                "decisions.rights",
                "Decision rights",
                "choice",
                "Who may start work. Escalated items wait for the next council: lead time grows, "
                "but the council's filter protects value when teams drift.",
            ),
            Lever(
                "decisions.escalation_size_person_days",
                "Escalate items larger than (person-days)",
                "number",
                "Under guardrails, items larger than this wait for a council decision.",
                step=5.0,
                fmt="%.0f",
            ),
            Lever(
                "org.discovery_share",
                "Protected discovery time",
                "slider",
                "Share of each team's capacity kept for discovery: sharpens its estimates of "
                "value (noise ÷ √(1 + k·share)) but removes build capacity.",
                step=0.01,
                fmt="%.2f",
            ),
            Lever(
                "org.wip_limit_per_team",
                "WIP limit per team (items)",
                "slider",
                "Items a team builds at once; each slot gets an equal share of build capacity, so "
                "more WIP means more items in flight, each finishing later.",
                step=1,
            ),
            Lever(
                "reviews.instrumentation_quality",
                "Instrumentation quality",
                "slider",
                "How well the metrics show reality: scales every review's chance to notice drift "
                "(× (0.2 + 0.8 × quality)) and the council's value estimates.",
                step=0.05,
                fmt="%.2f",
            ),
        ),
    ),
    (
        "Market",
        (
            Lever(
                "market.shift_enabled",
                "Market shift (pivot)",
                "toggle",
                "At the shift week customers' needs move to a new epoch: what was built for the "
                "old market is worth a fraction until a review notices and re-aims the backlog.",
            ),
            Lever(
                "market.shift_week",
                "Shift at week",
                "number",
                "The week the market moves (must fall before the horizon).",
                step=1,
            ),
            Lever(
                "market.demand_shock_enabled",
                "Demand shock",
                "toggle",
                "At the shock week sign-ups collapse and recover linearly; by default the shock "
                "also changes what customers need.",
            ),
            Lever(
                "market.demand_shock_week",
                "Shock at week",
                "number",
                "The week sign-ups collapse (must fall before the horizon).",
                step=1,
            ),
        ),
    ),
)

HORIZON = Lever(
    "horizon_weeks",
    "Horizon (weeks)",
    "number",
    "Simulated weeks. 52-week retention needs at least 52.",
    step=1,
)
LEVERS: tuple[Lever, ...] = (*(lv for _, group in GROUPS for lv in group), HORIZON)

SEED_HELP = (
    "Replication i uses the i-th stream of this seed, so the same seed gives the same results. A "
    "pinned baseline is re-run on the same seed: both share every random number the changed levers "
    f"do not touch (common random numbers). A whole number from 0 to {MAX_SEED:,}."
)
REPS_HELP = (
    f"Independent runs of the model (1 to {MAX_APP_REPLICATIONS:,}). More replications narrow the "
    "uncertainty of the means and steady the percentile bands; the run takes proportionally longer."
)


def lever_values(params: Params) -> dict[str, Any]:
    """Every lever's value in ``params``, by widget key."""
    return {lv.widget_key: get(params, lv.key) for lv in LEVERS}


def run_settings_problem(
    seed: Any, replications: Any, most: int = MAX_APP_REPLICATIONS
) -> str | None:
    """Why the seed and replications typed cannot be run (None when they can)."""
    return views.whole_number_problem(
        "Replications", replications, 1, most
    ) or views.whole_number_problem("Seed", seed, 0, MAX_SEED)


def set_levers(params: Params, seed: int, replications: int) -> None:
    """Write the levers' widget values (call before the widgets are drawn, or in a callback)."""
    for key, value in lever_values(params).items():
        st.session_state[key] = value
    st.session_state[SEED_KEY] = seed
    st.session_state[REPS_KEY] = replications


def levers_missing() -> bool:
    """True when the lever widgets have no values (a new session, or back from another page)."""
    return any(lv.widget_key not in st.session_state for lv in LEVERS) or (
        SEED_KEY not in st.session_state or REPS_KEY not in st.session_state
    )


def read_levers() -> dict[str, Any]:
    """The levers' current widget values, by setting key."""
    return {lv.key: st.session_state[lv.widget_key] for lv in LEVERS}


def lever_for(key: str) -> Lever:
    """The Sandbox's lever for a setting, or a plain one built from the setting's description."""
    for lever in LEVERS:
        if lever.key == key:
            return lever
    s = info(key)
    if s.type == "bool":
        widget = "toggle"
    elif s.choices:
        widget = "choice"
    else:
        widget = "number"
    step = None if s.type != "float" else (0.01 if s.hi is not None and s.hi <= 1 else 0.5)
    fmt = None if s.type != "float" else ("%.2f" if step == 0.01 else "%.1f")
    from sim.explore.labels import lever_label  # the explore package is slow to import

    name = lever_label(key)
    label = name[:1].upper() + name[1:]
    if s.unit and widget == "number":
        label += f" ({s.unit})"
    return Lever(key, label, widget, s.doc, step=step, fmt=fmt)


def draw_lever(lever: Lever, key: str | None = None) -> None:
    """Draw one lever's widget under ``key`` (default: the Sandbox's ``lever.<setting>`` key)."""
    _draw(lever, key)


def _draw(lever: Lever, key: str | None = None) -> None:
    s = info(lever.key)
    key = key or lever.widget_key
    if lever.widget == "choice":
        st.selectbox(
            lever.label,
            list(s.choices or ()),
            key=key,
            format_func=lambda c: CHOICE_LABELS.get(c, c),
            help=lever.help,
        )
    elif lever.widget == "toggle":
        st.toggle(lever.label, key=key, help=lever.help)
    elif lever.widget == "slider":
        st.slider(lever.label, key=key, help=lever.help, **_numeric(lever, s, 0.01))
    else:
        st.number_input(
            lever.label, key=key, help=lever.help, **_numeric(lever, s, 0.1, bounded=False)
        )


def _numeric(lever: Lever, s, float_step: float, bounded: bool = True) -> dict[str, Any]:
    """A numeric widget's step and format, in the setting's own type, and its bounds when
    ``bounded``.

    A number box is left unbounded: the browser would keep a value typed out of range to itself
    (a small red mark, and Run doing nothing), whereas the server's check names the setting, the
    value and the range it allows.
    """
    if s.type == "int":
        bounds = {"min_value": int(s.lo), "max_value": int(s.hi)}
        return {**(bounds if bounded else {}), "step": int(lever.step or 1)}
    bounds = {"min_value": float(s.lo), "max_value": float(s.hi)}
    return {
        **(bounds if bounded else {}),
        "step": float(lever.step or float_step),
        "format": lever.fmt or "%.2f",
    }


def setting_problem(err: ParamError) -> str:
    """A setting's error in the words of its control: the control's label in place of the key."""
    return err.message(lever_for(err.key).label) if err.key in KEYS else str(err)


# The Run button (and an error about the levers, above it) stays in view at the foot of the sidebar
# while the levers scroll: on a laptop the form is two screens long. The keyed container sits in a
# wrapper of its own size, so the wrapper is what sticks; it and the blocks around it take the
# sidebar's colour, so the levers scrolling under it do not show through. Fixed text, styles only.
RUN_AREA = "sandbox_run"
RUN_CSS = f"""<style>
:has(> .st-key-{RUN_AREA}) {{ position: sticky; bottom: 0; z-index: 3; padding: 0.5rem 0 1rem; }}
[data-testid="stSidebar"] :has(.st-key-{RUN_AREA}) {{ background-color: inherit; }}
.st-key-{RUN_AREA} button {{ box-shadow: 0 2px 10px rgba(0, 0, 0, 0.25); }}
</style>"""


def lever_form(on_run: Callable[[], None], error: str | None = None) -> None:
    """The levers, grouped, in one form applied by its Run button."""
    st.html(RUN_CSS)
    with st.form("levers", border=False, enter_to_submit=False):
        for i, (title, levers) in enumerate(GROUPS):
            with st.expander(title, expanded=i < 2):
                for lever in levers:
                    _draw(lever)
        with st.expander("Run settings"):
            _draw(HORIZON)
            # Unbounded boxes, checked on Run (see ``_numeric``).
            st.number_input("Replications", step=10, key=REPS_KEY, help=REPS_HELP)
            st.number_input("Seed", step=1, key=SEED_KEY, help=SEED_HELP)
        run_area = st.container(key=RUN_AREA)
        if error:
            run_area.error(views.plain(error))
        run_area.form_submit_button(
            "Run",
            type="primary",
            key="sb.run",
            on_click=on_run,
            width="stretch",
            help="Apply every lever above together and run the replications (results already "
            "run with the same settings come straight from the cache).",
        )


def display_options(metric_shown: bool = True, teams_shown: bool = True) -> tuple[str, int, bool]:
    """Display-only options (they redraw from cached results, never re-simulate).

    The weekly metric and the per-team detail are drawn on the Delivery and governance tab (the
    metric's table also on Data tables): elsewhere they are greyed out, keeping their values.
    """
    row = st.container(horizontal=True, vertical_alignment="bottom")
    where = "Shown on the Delivery and governance tab."
    metric = row.selectbox(
        "Metric shown",
        list(SERIES),
        key=METRIC_KEY,
        format_func=lambda m: f"{series_label(m)} ({SERIES[m][1]})",
        disabled=not metric_shown,
        help="Which weekly metric the last chart shows (display only: no new run). " + where,
    )
    band = row.select_slider(
        "Band width",
        options=list(BAND_WIDTHS),
        key=BAND_KEY,
        format_func=lambda w: f"{w}%",
        help="The share of replications inside the shaded band around each mean line "
        "(display only: no new run).",
    )
    teams = row.toggle(
        "Per-team detail",
        key=TEAMS_KEY,
        disabled=not teams_shown,
        help="Draw each team's alignment on the alignment chart (display only: no new run). "
        + where,
    )
    return metric, int(band), bool(teams)


def choice_label(value: Any) -> str:
    return CHOICE_LABELS.get(value, str(value)) if isinstance(value, str) else str(value)


def value_text(value: Any) -> str:
    """A setting's value in words: on/off, a short number, or a choice's label."""
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, float):
        return f"{value:g}"
    return choice_label(value)


def settings_table(titled: Sequence[tuple[str, Params]]) -> pd.DataFrame:
    """The settings that differ from the defaults in any of several scenarios, in words: one row
    per setting (in the order of the model's settings), one column per scenario's title."""
    flat = [(title, flatten(params)) for title, params in titled]
    changed = set().union(*(diff(params) for _, params in titled))
    rows = [
        {"Setting": lever_for(key).label, **{title: value_text(f[key]) for title, f in flat}}
        for key in KEYS
        if key in changed
    ]
    return pd.DataFrame(rows, columns=["Setting", *(title for title, _ in titled)])


def change_text(key: str, before: Any, after: Any) -> str:
    """One changed setting in words: "Sales is paid on: Shared outcome → Local metric"."""
    return f"{lever_for(key).label}: {value_text(before)} → {value_text(after)}"


def changes_text(before: Params, after: Params, limit: int = 6) -> str:
    """The settings that differ between two parameter sets, in words (at most ``limit`` of them,
    then how many more); empty when none do."""
    old, new = flatten(before), flatten(after)
    keys = changed_levers(old, new)
    parts = [change_text(k, old[k], new[k]) for k in keys[:limit]]
    if len(keys) > limit:
        parts.append(f"and {len(keys) - limit} more")
    return "; ".join(parts)


def changed_levers(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[str]:
    """Setting keys whose values differ between two flattened settings."""
    return sorted(k for k in after if before.get(k) != after[k])
