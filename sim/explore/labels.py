"""Plain-language names of settings, for sentences such as "the council interval contributes −0.7 points".

Settings are named by what a leader would call them. Keys without a hand-written name fall back to
their declaration's description ("Protected discovery time: ..." → "protected discovery time").
"""

from __future__ import annotations

import re

from sim.params import ParamError, info

_REVIEWS = {
    "metric": "metric review",
    "council": "council",
    "strategy": "strategy review",
    "event": "event-triggered review",
}
_REVIEW_FIELDS = {
    "enabled": "holding the {r}",
    "interval_weeks": "the {r} interval",
    "attendees_per_team": "{r} attendance",
    "hours": "the {r}'s length",
    "detection_probability": "the {r}'s detection",
    "correction_strength": "the {r}'s correction strength",
    "activation_threshold": "the {r}'s activation trigger",
    "churn_threshold": "the {r}'s churn trigger",
    "cooldown_weeks": "the {r}'s cooldown",
}
# Settings that switch something on or off: what turning them on, and off, is called.
_SWITCHES = {
    **{
        f"reviews.{r}.enabled": (f"holding the {name}", f"dropping the {name}")
        for r, name in _REVIEWS.items()
    },
    "market.shift_enabled": ("the market shift", "taking out the market shift"),
    "market.demand_shock_enabled": ("the demand shock", "taking out the demand shock"),
    "market.demand_shock_shifts_epoch": (
        "the demand shock's change of needs",
        "a demand shock that leaves needs as they were",
    ),
}
_NAMES = {
    "horizon_weeks": "the horizon",
    "incentives.product": "product teams' incentive",
    "incentives.marketing": "marketing's incentive",
    "incentives.sales": "sales' incentive",
    "incentives.drift_rate_per_week": "the drift rate",
    "reviews.instrumentation_quality": "instrumentation quality",
    "decisions.rights": "decision rights",
    "decisions.escalation_size_person_days": "the escalation threshold",
    "org.product_teams": "the number of product teams",
    "org.team_size_people": "team size",
    "org.discovery_share": "discovery time",
    "org.wip_limit_per_team": "the WIP limit",
    "work.strategy_focus": "the strategy's focus",
    # Settings whose declaration describes them by a formula or a symbol ("a_local of ...").
    "incentives.shared_outcome_alignment": "the alignment of a shared-outcome metric with value",
    "incentives.mixed_alignment": "the alignment of a mixed scorecard with value",
    "incentives.local_metric_alignment": "the alignment of a local metric with value",
    "work.discovery_noise_reduction": "how much discovery time cuts estimate noise",
    "customers.onboarding_ttv_elasticity": "the elasticity of time-to-value to the onboarding stock",
    "customers.growth_pull_elasticity": "the elasticity of sign-ups to the growth stock",
    "customers.weak_core_churn_gain": "the churn added by a weak core stock",
}
_GROUPS = {
    "incentives": "incentives",
    "reviews": "review settings",
    "decisions": "decision rights",
    "org": "the organisation's settings",
    "work": "the work settings",
    "product": "the product settings",
    "customers": "the customer settings",
    "market": "the market settings",
}


def lever_label(key: str, group: bool = False, to: object = None) -> str:
    """A short noun phrase for a setting (or, with ``group``, a section such as reviews.council).

    ``to`` is the value the setting changes to, where that changes the words: a review switched
    off is "dropping the strategy review", not "holding" it.
    """
    if key in _SWITCHES:
        on, off = _SWITCHES[key]
        return off if to is False else on
    if group:
        parts = key.split(".")
        if len(parts) == 2 and parts[0] == "reviews" and parts[1] in _REVIEWS:
            return f"the {_REVIEWS[parts[1]]} settings"
        return _GROUPS.get(key, f"the {key} settings")
    if key in _NAMES:
        return _NAMES[key]
    parts = key.split(".")
    if len(parts) == 3 and parts[0] == "reviews" and parts[1] in _REVIEWS:
        template = _REVIEW_FIELDS.get(parts[2])
        if template:
            return template.format(r=_REVIEWS[parts[1]])
    try:
        doc = info(key).doc
    except ParamError:
        return key
    phrase = re.split(r"[:.(;]", doc, maxsplit=1)[0].strip()
    if not phrase:
        return key
    phrase = phrase[0].lower() + phrase[1:]
    return phrase if phrase.startswith(("the ", "a ")) else f"the {phrase}"
