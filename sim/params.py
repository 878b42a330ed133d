"""Validated, frozen model parameters.

Every setting the model reads lives here, declared once with its type, default, allowed range, unit
and a one-line description. The declarations drive validation, the CLI's ``params`` listing, scenario
files, URL query parameters and the model documentation, so a setting cannot be documented in one place
and behave differently in another.

Settings are addressed by dotted keys (``reviews.council.interval_weeks``). Variants are made with
:func:`with_overrides`, which validates every value and never mutates the original.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from sim.rationale import RATIONALE

INCENTIVES = ("shared_outcome", "mixed", "local_metric")
DECISION_RIGHTS = ("delegated", "guardrails", "centralised")
STRATEGY_FOCUS = ("balanced", "time_to_value", "growth")
REVIEW_TYPES = ("metric", "council", "strategy", "event")


class ParamError(ValueError):
    """A setting has an unknown key, a value of the wrong type or a value out of range.

    The message always names the setting, the value given and what is allowed.
    """

    def __init__(self, key: str, value: Any, allowed: str, problem: str = "is not allowed") -> None:
        self.key = key
        self.value = value
        self.allowed = allowed
        self.problem = problem
        super().__init__(self.message())

    def message(self, name: str | None = None) -> str:
        """The message, naming the setting ``name`` (a control's label, say) instead of its key."""
        return f"{name or self.key} = {shown(self.value)} {self.problem}: {self.allowed}"


def shown(value: Any, limit: int = 80) -> str:
    """``value`` as a message quotes it: its repr, cut short when long (an integer of thousands of
    digits cannot even be written out)."""
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 64:
        digits = int(math.log10(abs(value))) + 1
        digits -= 10 ** (digits - 1) > abs(value)  # log10 rounds up just below a power of ten
        return f"an integer of {digits:,} digits"
    text = repr(value)
    if len(text) > limit:
        return f"{text[: limit - 20]}… ({len(text):,} characters)"
    return text


def setting(
    default: Any,
    *,
    doc: str,
    unit: str = "",
    lo: float | None = None,
    hi: float | None = None,
    choices: tuple[str, ...] | None = None,
    source: str = "",
) -> Any:
    """Declare one setting: its default, allowed values, unit and description."""
    meta = {"doc": doc, "unit": unit, "lo": lo, "hi": hi, "choices": choices, "source": source}
    return field(default=default, metadata=meta)


def group(cls: type) -> Any:
    """Declare a nested group of settings whose defaults come from the group's own class."""
    return field(default_factory=cls, metadata={"group": True})


@dataclass(frozen=True, kw_only=True)
class _Group:
    """Base for every parameter group: validates each setting at construction."""

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            if f.metadata.get("group"):
                continue
            value = _coerce(f, getattr(self, f.name), f.name)
            object.__setattr__(self, f.name, value)


def _type_name(f: dataclasses.Field) -> str:
    return {"int": "integer", "float": "number", "bool": "true or false", "str": "text"}[_kind(f)]


def _kind(f: dataclasses.Field) -> str:
    t = f.type if isinstance(f.type, str) else f.type.__name__
    return t


def _allowed(f: dataclasses.Field) -> str:
    m = f.metadata
    if m.get("choices"):
        return "one of " + ", ".join(m["choices"])
    kind = _kind(f)
    if kind == "bool":
        return "true or false"
    unit = f" {m['unit']}" if m.get("unit") else ""
    what = "an integer" if kind == "int" else "a number"
    return f"{what} from {_fmt(m['lo'])} to {_fmt(m['hi'])}{unit}"


def _fmt(x: float | None) -> str:
    if x is None:
        return "?"
    if float(x).is_integer() and abs(x) >= 1000:  # "10,000,000", not "1e+07"
        return f"{x:,.0f}"
    return f"{x:g}"


def _coerce(f: dataclasses.Field, value: Any, key: str) -> Any:
    """Check one value against its declaration and return it in its canonical type."""
    kind = _kind(f)
    m = f.metadata
    if kind == "bool":
        if not isinstance(value, bool):
            raise ParamError(key, value, "true or false", "has the wrong type")
        return value
    if kind == "str":
        if not isinstance(value, str):
            raise ParamError(key, value, _allowed(f), "has the wrong type")
        if m.get("choices") and value not in m["choices"]:
            raise ParamError(key, value, _allowed(f))
        return value
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ParamError(key, value, _allowed(f), "has the wrong type")
    if kind == "int":
        if isinstance(value, float):
            if not value.is_integer():
                raise ParamError(key, value, _allowed(f), "is not a whole number")
            value = int(value)
    else:
        try:
            value = float(value)
        except OverflowError:  # an integer too large for a float
            raise ParamError(key, value, _allowed(f), "is out of range") from None
        if not math.isfinite(value):
            raise ParamError(key, value, _allowed(f), "is not a finite number")
    if (m["lo"] is not None and value < m["lo"]) or (m["hi"] is not None and value > m["hi"]):
        raise ParamError(key, value, _allowed(f), "is out of range")
    return value


# --------------------------------------------------------------------------------------------------
# Parameter groups
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class OrgParams(_Group):
    """The organisation: product teams, their capacity and how they split it."""

    product_teams: int = setting(5, lo=1, hi=12, unit="teams", doc="Number of product teams.")
    team_size_people: int = setting(
        7, lo=2, hi=15, unit="people", doc="Headcount of each product team."
    )
    hours_per_person_week: float = setting(
        40.0, lo=20, hi=60, unit="hours", doc="Working hours per person per week."
    )
    wip_limit_per_team: int = setting(
        3,
        lo=1,
        hi=12,
        unit="items",
        doc="Work items a team builds at once; each slot gets an equal share of build capacity.",
    )
    discovery_share: float = setting(
        0.10,
        lo=0.0,
        hi=0.6,
        unit="share of capacity",
        doc="Protected discovery time: sharpens value estimates, removes build capacity.",
    )
    gtm_cost_per_week: float = setting(
        30000.0,
        lo=1.0,
        hi=1e7,
        unit="$ per week",
        doc="Sales and marketing cost per week (the denominator of acquisition cost).",
    )


@dataclass(frozen=True, kw_only=True)
class IncentiveParams(_Group):
    """What each function is paid to optimise, and how fast that pulls its alignment."""

    product: str = setting(
        "shared_outcome",
        choices=INCENTIVES,
        doc="Product teams' incentive (local metric: delivery velocity).",
    )
    marketing: str = setting(
        "shared_outcome",
        choices=INCENTIVES,
        doc="Marketing's incentive (local metric: campaign volume).",
    )
    sales: str = setting(
        "shared_outcome", choices=INCENTIVES, doc="Sales' incentive (local metric: bookings)."
    )
    drift_rate_per_week: float = setting(
        0.06,
        lo=0.0,
        hi=1.0,
        unit="per week",
        doc="kappa: share of the gap to the incentive's alignment closed each week.",
        source="Sterman (2000) drifting-goals structure; first-order adjustment.",
    )
    drift_noise_sd: float = setting(
        0.015, lo=0.0, hi=0.2, unit="alignment", doc="Weekly random wobble of alignment."
    )
    initial_alignment: float = setting(
        0.85, lo=0.0, hi=1.0, unit="alignment", doc="Every team's alignment at week 0."
    )
    strategic_anchor: float = setting(
        0.9,
        lo=0.0,
        hi=1.0,
        unit="alignment",
        doc="Alignment the leadership's strategy asks for; reviews correct toward it.",
    )
    shared_outcome_alignment: float = setting(
        0.9,
        lo=0.0,
        hi=1.0,
        unit="alignment",
        doc="a_local of a shared outcome metric (e.g. retained, activated customers).",
        source="Baker (2002): alignment as the cosine between metric and value.",
    )
    mixed_alignment: float = setting(
        0.6, lo=0.0, hi=1.0, unit="alignment", doc="a_local of a mixed outcome/local scorecard."
    )
    local_metric_alignment: float = setting(
        0.3,
        lo=0.0,
        hi=1.0,
        unit="alignment",
        doc="a_local of a local metric (bookings, velocity, campaign volume).",
    )


@dataclass(frozen=True, kw_only=True)
class ReviewParams(_Group):
    """One review type: when it meets, what it costs, how well it sees drift, how hard it corrects."""

    enabled: bool = setting(True, doc="Whether this review is held.")
    interval_weeks: float = setting(
        4.0, lo=0.5, hi=52, unit="weeks", doc="Weeks between reviews (first one at a random phase)."
    )
    attendees_per_team: float = setting(
        2.0, lo=0.0, hi=15, unit="people", doc="People each team sends."
    )
    hours: float = setting(
        3.0, lo=0.0, hi=40, unit="hours", doc="Hours per attendee, preparation included."
    )
    detection_probability: float = setting(
        0.5,
        lo=0.0,
        hi=1.0,
        unit="probability",
        doc="Chance to notice a team's fully visible drift, at perfect instrumentation.",
    )
    correction_strength: float = setting(
        0.5,
        lo=0.0,
        hi=1.0,
        unit="share of gap",
        doc="Share of a detected team's gap to the strategic anchor that is closed.",
    )


def _review(**overrides: Any) -> Any:
    return field(default_factory=lambda: ReviewParams(**overrides), metadata={"group": True})


@dataclass(frozen=True, kw_only=True)
class EventReviewParams(ReviewParams):
    """The event-triggered review: held when a leading metric crosses its threshold."""

    activation_threshold: float = setting(
        0.45,
        lo=0.0,
        hi=1.0,
        unit="share",
        doc="Fires when the week's activation rate falls below this.",
    )
    churn_threshold: float = setting(
        0.08,
        lo=0.0,
        hi=1.0,
        unit="share per week",
        doc="Fires when the week's churn among active customers rises above this.",
    )
    cooldown_weeks: float = setting(
        4.0, lo=0.0, hi=52, unit="weeks", doc="Minimum weeks between two event-triggered reviews."
    )


@dataclass(frozen=True, kw_only=True)
class ReviewsParams(_Group):
    """The governance rhythm: four review types plus what lets them see drift."""

    metric: ReviewParams = _review(
        interval_weeks=1.0,
        attendees_per_team=2.0,
        hours=1.5,
        detection_probability=0.15,
        correction_strength=0.3,
    )
    council: ReviewParams = _review(
        interval_weeks=4.0,
        attendees_per_team=3.0,
        hours=4.0,
        detection_probability=0.5,
        correction_strength=0.5,
    )
    strategy: ReviewParams = _review(
        interval_weeks=13.0,
        attendees_per_team=4.0,
        hours=12.0,
        detection_probability=0.8,
        correction_strength=0.8,
    )
    event: EventReviewParams = field(
        default_factory=lambda: EventReviewParams(
            enabled=False,
            interval_weeks=1.0,
            attendees_per_team=2.0,
            hours=3.0,
            detection_probability=0.6,
            correction_strength=0.6,
        ),
        metadata={"group": True},
    )
    instrumentation_quality: float = setting(
        0.7,
        lo=0.0,
        hi=1.0,
        unit="quality",
        doc="How well the metrics show reality: scales detection and the council's estimates.",
    )
    drift_visibility_gap: float = setting(
        0.3,
        lo=0.01,
        hi=1.0,
        unit="alignment",
        doc="Drift at which a review sees it fully; smaller drift is proportionally harder to see.",
    )
    drift_onset_gap: float = setting(
        0.15,
        lo=0.01,
        hi=1.0,
        unit="alignment",
        doc="Gap below the anchor that counts as drift (starts the detection-lag clock).",
    )
    context_switch_hours: float = setting(
        0.5,
        lo=0.0,
        hi=8,
        unit="hours",
        doc="Focus lost per attendee per meeting, on top of its hours.",
    )
    reject_below_z: float = setting(
        -0.5,
        lo=-5,
        hi=5,
        unit="standard deviations",
        doc="Council rejects escalated items whose estimated value is below this.",
    )
    prune_below_z: float = setting(
        -1.0,
        lo=-5,
        hi=5,
        unit="standard deviations",
        doc="Council stops work in progress whose estimated value is below this.",
    )


@dataclass(frozen=True, kw_only=True)
class DecisionParams(_Group):
    """Decision rights: which work a team may start on its own."""

    rights: str = setting(
        "guardrails",
        choices=DECISION_RIGHTS,
        doc="delegated: teams decide; guardrails: large items escalate; centralised: all escalate.",
    )
    escalation_size_person_days: float = setting(
        30.0,
        lo=0.0,
        hi=1000,
        unit="person-days",
        doc="Under guardrails, items larger than this wait for a council decision.",
    )


@dataclass(frozen=True, kw_only=True)
class WorkParams(_Group):
    """The opportunity stream and how teams judge it."""

    opportunities_per_team_week: float = setting(
        6.0, lo=0.05, hi=200, unit="items per week", doc="Poisson arrival rate per team."
    )
    item_size_mean_person_days: float = setting(
        15.0, lo=0.5, hi=200, unit="person-days", doc="Mean of the exponential item size."
    )
    value_log_sd: float = setting(
        1.2, lo=0.05, hi=3.0, unit="log points", doc="sigma of the log-normal item value."
    )
    value_median_points: float = setting(
        1.0, lo=0.01, hi=1000, unit="value points", doc="Median true value of an item."
    )
    opportunity_lifetime_weeks: float = setting(
        8.0,
        lo=0.5,
        hi=520,
        unit="weeks",
        doc="An opportunity not started within this goes stale and leaves the backlog.",
    )
    estimate_noise_sd: float = setting(
        1.2,
        lo=0.0,
        hi=5.0,
        unit="standard deviations",
        doc="Noise of a team's value estimate without discovery time.",
    )
    discovery_noise_reduction: float = setting(
        25.0,
        lo=0.0,
        hi=200,
        unit="per share",
        doc="k in noise = sd / sqrt(1 + k * discovery_share).",
    )
    weight_onboarding: float = setting(
        0.3, lo=0.0, hi=1.0, unit="weight", doc="Relative frequency of onboarding items."
    )
    weight_core: float = setting(
        0.5, lo=0.0, hi=1.0, unit="weight", doc="Relative frequency of core-value items."
    )
    weight_growth: float = setting(
        0.2, lo=0.0, hi=1.0, unit="weight", doc="Relative frequency of growth items."
    )
    strategy_focus: str = setting(
        "balanced",
        choices=STRATEGY_FOCUS,
        doc="Kind of work the strategy favours; aligned teams follow it, drifting ones less.",
    )
    focus_bonus_z: float = setting(
        0.75,
        lo=0.0,
        hi=3.0,
        unit="standard deviations",
        doc="Score bonus of the focus kind for a fully aligned team.",
    )


@dataclass(frozen=True, kw_only=True)
class ProductParams(_Group):
    """Value stocks: what released work builds, and how fast it wears out."""

    depreciation_per_week: float = setting(
        0.03, lo=0.0, hi=0.5, unit="per week", doc="Share of each value stock lost each week."
    )
    reference_onboarding_points: float = setting(
        400.0,
        lo=0.1,
        hi=1e5,
        unit="value points",
        doc="Onboarding stock at which time-to-value is at its base median (also the start).",
    )
    reference_core_points: float = setting(
        650.0,
        lo=0.1,
        hi=1e5,
        unit="value points",
        doc="Core stock below which churn rises (also the start).",
    )
    reference_growth_points: float = setting(
        260.0,
        lo=0.1,
        hi=1e5,
        unit="value points",
        doc="Growth stock at which sign-ups are at their base rate (also the start).",
    )
    old_epoch_value_share: float = setting(
        0.3,
        lo=0.0,
        hi=1.0,
        unit="share",
        doc="What work and stock built for a past market epoch is still worth.",
    )


@dataclass(frozen=True, kw_only=True)
class CustomerParams(_Group):
    """Customers, simulated per cohort with NumPy arrays."""

    signups_per_week: float = setting(
        150.0, lo=0.0, hi=5000, unit="customers per week", doc="Base Poisson sign-up rate."
    )
    churn_alpha: float = setting(
        0.9,
        lo=0.05,
        hi=50,
        unit="",
        doc="alpha of the Beta churn-propensity distribution.",
        source="Fader & Hardie (2007) shifted-beta-geometric model.",
    )
    churn_beta: float = setting(
        30.0,
        lo=0.05,
        hi=500,
        unit="",
        doc="beta of the Beta churn-propensity distribution.",
        source="Fader & Hardie (2007) shifted-beta-geometric model.",
    )
    ttv_median_days: float = setting(
        10.0,
        lo=0.1,
        hi=365,
        unit="days",
        doc="Median time-to-value at the reference onboarding stock.",
    )
    ttv_log_sd: float = setting(
        0.6, lo=0.01, hi=3.0, unit="log days", doc="sigma of log time-to-value."
    )
    onboarding_ttv_elasticity: float = setting(
        0.8,
        lo=0.0,
        hi=5.0,
        unit="",
        doc="Median time-to-value scales as (reference / onboarding stock) ** elasticity.",
    )
    habit_threshold_days: float = setting(
        14.0,
        lo=0.5,
        hi=365,
        unit="days",
        doc="Customers who reach value within this form the habit (activate).",
    )
    oversold_ttv_multiplier: float = setting(
        1.8, lo=1.0, hi=10, unit="x", doc="Oversold customers take this much longer to value."
    )
    not_activated_churn_multiplier: float = setting(
        2.0, lo=1.0, hi=10, unit="x", doc="Churn multiplier of customers who never activated."
    )
    oversold_churn_multiplier: float = setting(
        1.6, lo=1.0, hi=10, unit="x", doc="Churn multiplier of oversold customers."
    )
    weak_core_churn_gain: float = setting(
        1.5,
        lo=0.0,
        hi=10,
        unit="",
        doc="Churn multiplier is 1 + gain * shortfall of the core stock below its reference.",
    )
    growth_pull_elasticity: float = setting(
        0.4,
        lo=0.0,
        hi=3.0,
        unit="",
        doc="Sign-ups scale as (growth stock / reference) ** elasticity.",
    )
    oversold_base_share: float = setting(
        0.05, lo=0.0, hi=1.0, unit="share", doc="Oversold share with fully aligned go-to-market."
    )
    sales_oversold_gain: float = setting(
        0.6,
        lo=0.0,
        hi=1.0,
        unit="share",
        doc="Oversold share added per unit of sales misalignment.",
    )
    marketing_oversold_gain: float = setting(
        0.2,
        lo=0.0,
        hi=1.0,
        unit="share",
        doc="Oversold share added per unit of marketing misalignment.",
    )
    sales_push_gain: float = setting(
        0.6, lo=0.0, hi=5.0, unit="", doc="Extra sign-ups per unit of sales misalignment."
    )
    marketing_push_gain: float = setting(
        0.3, lo=0.0, hi=5.0, unit="", doc="Extra sign-ups per unit of marketing misalignment."
    )
    revenue_per_customer_week: float = setting(
        25.0, lo=0.0, hi=1e5, unit="$ per week", doc="Revenue from each active customer."
    )


@dataclass(frozen=True, kw_only=True)
class MarketParams(_Group):
    """The market: epoch shifts (pivots) and demand shocks."""

    shift_enabled: bool = setting(False, doc="Whether the market's epoch shifts (a pivot).")
    shift_week: int = setting(
        30, lo=1, hi=259, unit="week", doc="Week the market's needs change to a new epoch."
    )
    signal_share: float = setting(
        0.3,
        lo=0.0,
        hi=1.0,
        unit="share",
        doc="Before re-aiming, share of new opportunities that come from the new market.",
    )
    demand_shock_enabled: bool = setting(False, doc="Whether sign-ups collapse at some week.")
    demand_shock_week: int = setting(40, lo=1, hi=259, unit="week", doc="Week sign-ups collapse.")
    demand_shock_depth: float = setting(
        0.6, lo=0.0, hi=1.0, unit="share", doc="Share of sign-ups lost at the shock."
    )
    demand_shock_recovery_weeks: float = setting(
        26.0, lo=1.0, hi=260, unit="weeks", doc="Weeks for sign-ups to recover linearly."
    )
    demand_shock_shifts_epoch: bool = setting(
        True, doc="Whether the demand shock also changes what customers need."
    )


@dataclass(frozen=True, kw_only=True)
class Params(_Group):
    """All settings of one scenario."""

    horizon_weeks: int = setting(104, lo=13, hi=260, unit="weeks", doc="Simulated weeks.")
    org: OrgParams = group(OrgParams)
    incentives: IncentiveParams = group(IncentiveParams)
    reviews: ReviewsParams = group(ReviewsParams)
    decisions: DecisionParams = group(DecisionParams)
    work: WorkParams = group(WorkParams)
    product: ProductParams = group(ProductParams)
    customers: CustomerParams = group(CustomerParams)
    market: MarketParams = group(MarketParams)

    def __post_init__(self) -> None:
        super().__post_init__()
        w = self.work
        if w.weight_onboarding + w.weight_core + w.weight_growth <= 0:
            raise ParamError(
                "work.weight_core",
                w.weight_core,
                "the three kind weights must not all be 0",
            )
        m = self.market
        for key, week, on in (
            ("market.shift_week", m.shift_week, m.shift_enabled),
            ("market.demand_shock_week", m.demand_shock_week, m.demand_shock_enabled),
        ):
            if on and week >= self.horizon_weeks:
                raise ParamError(
                    key, week, f"a week before the horizon (1 to {self.horizon_weeks - 1})"
                )


# --------------------------------------------------------------------------------------------------
# Dotted keys
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SettingInfo:
    """What the declaration says about one setting."""

    key: str
    type: str
    default: Any
    lo: float | None
    hi: float | None
    choices: tuple[str, ...] | None
    unit: str
    doc: str
    source: str

    @property
    def allowed(self) -> str:
        """The allowed values in words."""
        if self.choices:
            return "one of " + ", ".join(self.choices)
        if self.type == "bool":
            return "true or false"
        return f"{_fmt(self.lo)} to {_fmt(self.hi)}"

    @property
    def span(self) -> str:
        """The allowed values in words, with the unit of a number: "0.5 to 52 weeks"."""
        if self.unit == "week" and self.type in ("int", "float"):
            return f"week {self.allowed}"  # a week number: "week 1 to 259"
        unit = f" {self.unit}" if self.unit and self.type in ("int", "float") else ""
        return self.allowed + unit


def _walk(obj: Any, prefix: str = "") -> Iterator[tuple[str, dataclasses.Field, Any]]:
    for f in dataclasses.fields(obj):
        key = f"{prefix}{f.name}"
        value = getattr(obj, f.name)
        if f.metadata.get("group"):
            yield from _walk(value, key + ".")
        else:
            yield key, f, value


def settings(params: Params | None = None) -> list[SettingInfo]:
    """Every settable key, with its declaration; defaults taken from ``params`` if given."""
    base = params or Params()
    out = []
    for key, f, value in _walk(base):
        m = f.metadata
        out.append(
            SettingInfo(
                key=key,
                type=_kind(f),
                default=value,
                lo=m["lo"],
                hi=m["hi"],
                choices=m["choices"],
                unit=m["unit"],
                doc=m["doc"],
                source=RATIONALE.get(key, m["source"]),
            )
        )
    return out


_DEFAULTS = Params()
KEYS: tuple[str, ...] = tuple(s.key for s in settings(_DEFAULTS))
_INFO: dict[str, SettingInfo] = {s.key: s for s in settings(_DEFAULTS)}


def info(key: str, value: Any = "…") -> SettingInfo:
    """The declaration of one dotted key (raises ParamError with a suggestion if unknown)."""
    check_key(key, value)
    return _INFO[key]


def suggest(key: str) -> str | None:
    """The valid key closest to ``key``, if any is close enough."""
    exact_leaf = [k for k in KEYS if k.rsplit(".", 1)[-1] == key.rsplit(".", 1)[-1]]
    if len(exact_leaf) == 1:
        return exact_leaf[0]
    match = difflib.get_close_matches(key, KEYS, n=1, cutoff=0.6)
    if match:
        return match[0]
    leaves = {k.rsplit(".", 1)[-1]: k for k in KEYS}
    match = difflib.get_close_matches(key.rsplit(".", 1)[-1], list(leaves), n=1, cutoff=0.6)
    return leaves[match[0]] if match else None


def check_key(key: str, value: Any = "…") -> None:
    """Raise ParamError naming the closest valid key when ``key`` is not a setting."""
    if key in _INFO:
        return
    hint = suggest(key)
    allowed = f"did you mean {hint}?" if hint else "see `python -m sim params` for every key"
    raise ParamError(key, value, allowed, "is not a setting") from None


def get(params: Params, key: str) -> Any:
    """The value of one dotted key."""
    obj: Any = params
    for part in key.split("."):
        obj = getattr(obj, part)
    return obj


def flatten(params: Params) -> dict[str, Any]:
    """Every setting as ``{dotted key: value}``."""
    return {key: value for key, _, value in _walk(params)}


def diff(params: Params, base: Params | None = None) -> dict[str, Any]:
    """The settings in which ``params`` differs from ``base`` (the defaults if not given)."""
    ref = flatten(base or _DEFAULTS)
    return {k: v for k, v in flatten(params).items() if ref[k] != v}


def nest(flat: Mapping[str, Any]) -> dict[str, Any]:
    """``{"a.b": 1}`` → ``{"a": {"b": 1}}``."""
    out: dict[str, Any] = {}
    for key, value in flat.items():
        node = out
        *parents, leaf = key.split(".")
        for p in parents:
            node = node.setdefault(p, {})
        node[leaf] = value
    return out


def flatten_mapping(tree: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """``{"a": {"b": 1}}`` → ``{"a.b": 1}``; every resulting key is checked against the declarations."""
    out: dict[str, Any] = {}
    for name, value in tree.items():
        key = f"{prefix}{name}"
        if isinstance(value, Mapping) and key not in _INFO:
            inner = flatten_mapping(value, key + ".")
        else:
            check_key(key, value)
            inner = {key: value}
        for dotted, setting_value in inner.items():
            # A quoted dotted key and a table can name one setting twice: say so, keep neither.
            if dotted in out and out[dotted] != setting_value:
                raise ParamError(
                    dotted, setting_value, f"one value (it is also given as {shown(out[dotted])})",
                    "is given twice",
                )  # fmt: skip
            out[dotted] = setting_value
    return out


def with_overrides(params: Params, overrides: Mapping[str, Any]) -> Params:
    """A new Params with dotted-key overrides applied; every value validated.

    Raises:
        ParamError: for an unknown key (with the closest valid key), a wrong type or a value out
            of range.
    """
    for key, value in overrides.items():
        check_key(key, value)
    tree = nest(overrides)
    return _rebuild(params, tree, "")


def _rebuild(obj: Any, tree: Mapping[str, Any], prefix: str) -> Any:
    changes = {}
    by_name = {f.name: f for f in dataclasses.fields(obj)}
    for name, value in tree.items():
        f = by_name[name]
        key = f"{prefix}{name}"
        if f.metadata.get("group"):
            changes[name] = _rebuild(getattr(obj, name), value, key + ".")
        else:
            changes[name] = _coerce(f, value, key)
    try:
        return dataclasses.replace(obj, **changes)
    except ParamError as err:
        if prefix and not err.key.startswith(prefix):
            raise ParamError(prefix + err.key, err.value, err.allowed, "is not allowed") from None
        raise


def parse_value(key: str, text: str) -> Any:
    """Turn a command-line or URL string into a typed value for ``key`` (never evaluated as code)."""
    s = info(key, text)
    raw = text.strip()
    if s.type == "bool":
        low = raw.lower()
        if low in ("true", "1", "yes", "on"):
            return True
        if low in ("false", "0", "no", "off"):
            return False
        raise ParamError(key, text, "true or false", "has the wrong type")
    if s.type == "str":
        return raw.strip("\"'")
    percent = raw.endswith("%") and s.type == "float" and s.unit.startswith("share")
    try:
        # A share may be written as a percentage: "10%" is 0.1, as the app's controls show it.
        number = float(raw[:-1]) / 100.0 if percent else float(raw)
    except ValueError:
        raise ParamError(key, text, s.span, "is not a number") from None
    if s.type == "int":
        if not number.is_integer():
            raise ParamError(key, text, f"a whole number from {s.allowed}", "is not a whole number")
        return int(number)
    return number


def default_params() -> Params:
    """The model's defaults."""
    return _DEFAULTS
