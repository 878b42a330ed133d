"""Plain-language sentences about a paired comparison, for presentation mode and decision briefs,
and about settings that cannot act in a run (:func:`unused_settings`).

"The proposal raises 52-week retention from 41% to 49% (90% interval +5 to +11 points; better in 97% of
paired runs), ..." Every number comes from the paired replications of a :class:`~sim.runner.Comparison`.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from typing import Any

from sim.outcomes import KPIS
from sim.params import REVIEW_TYPES, Params, diff, flatten

HEADLINE_KPIS = ("retention_52w", "median_ttv_days", "value_delivered")


def in_sentence(label: str) -> str:
    """A label inside a sentence: its first letter in lower case, unless it starts an initialism
    (WIP limit, LTV / CAC)."""
    first = label.split(" ", 1)[0]
    return label if first.isupper() and len(first) > 1 else label[:1].lower() + label[1:]


def fmt_level(value: float, unit: str) -> str:
    """A KPI's level in words-friendly form: 41.2%, 12.3 days, 4,120 points (shares to the same
    tenth of a point as the tiles, so a sentence and a tile never disagree)."""
    if unit == "share":
        return f"{value:.1%}"
    if unit == "days":
        return f"{value:.1f} days"
    if unit == "value points":
        return f"{value:,.0f} points"
    if unit == "customers":
        return f"{value:,.0f} customers"
    if unit == "alignment":
        return f"{value:.3f}"  # as the tiles: 0.674
    return f"{value:.2f}"


def fmt_change(value: float, unit: str) -> str:
    """A signed difference: +5 points (of a share), −1.6 days, +290 points. One that rounds to
    nothing is "±0.0 points", never "−0.0"."""
    mag = abs(value)
    if unit == "share":
        pts = mag * 100
        body = f"{pts:.1f} points" if pts < 10 else f"{pts:.0f} points"
    elif unit == "days":
        body = f"{mag:.1f} days"
    elif unit in ("value points", "customers"):
        number = f"{mag:,.0f}"
        word = "point" if unit == "value points" else "customer"
        body = f"{number} {word}{'' if number == '1' else 's'}"
    elif unit == "alignment":
        body = f"{mag:.3f}"  # a change of 0.001 is not "±0.00"
    else:
        body = f"{mag:.2f}"
    written = any(c in "123456789" for c in body)  # the magnitude as written is not zero
    sign = ("+" if value > 0 else "−") if written else "±"
    return sign + body


def near_zero_end(text: str, value: float | None) -> str:
    """An interval's end as written (``text``), or which side of zero it is on when it is not zero
    but rounds to nothing: "−0.5 to ±0.0 days" beside "better in 100% of paired runs" read as a
    contradiction."""
    if text.startswith("±") and value != 0.0 and not math.isnan(value):
        return "just below zero" if value < 0 else "just above zero"
    return text


def interval_end(value: float, unit: str) -> str:
    """One end of a change's interval, as :func:`fmt_change` writes a change (see
    :func:`near_zero_end`)."""
    return near_zero_end(fmt_change(value, unit), value)


def _interval(lo: float, hi: float, unit: str) -> str:
    """An interval with its unit said once: "−4.3 to −2.4 points", "+175 to +678 customers"."""
    a, b = interval_end(lo, unit), interval_end(hi, unit)
    return f"{unit_once(a, b)} to {b}"


def unit_once(first: str, second: str) -> str:
    """The first of two numbers as written, without its unit when the second says the same one
    ("−8.0" of "−8.0 points" before "+12 points")."""
    number, _, unit = first.partition(" ")
    return number if unit and unit == second.partition(" ")[2] else first


# Fewer paired runs than this are too few to call a change, or to give a 90% interval of them.
MIN_PAIRS = 5


def few_pairs(row: Mapping[str, Any] | None) -> int:
    """The number of paired runs a change rests on when they are too few to judge it by (from 1
    to ``MIN_PAIRS`` - 1), else 0. With 3 pairs, "better in 100% of paired runs" and a "90%
    interval" would read as a firm result."""
    pairs = None if row is None else row.get("pairs")
    if pairs is None or pairs != pairs:  # no count, or NaN
        return 0
    return int(pairs) if 0 < pairs < MIN_PAIRS else 0


def paired_runs(n: int, noun: str = "run") -> str:
    """ "1 paired run", "3 paired runs" (or of another ``noun``: "3 paired simulation runs")."""
    return f"{n:,} paired {noun}{'' if n == 1 else 's'}"


def is_clear(row: Mapping[str, Any]) -> bool:
    """Whether a paired change is clear, as the headline sentence judges it: the 90% interval of
    the paired differences leaves out zero (at least 95% of paired runs move the same way), from
    at least ``MIN_PAIRS`` of them."""
    if few_pairs(row):
        return False
    lo, hi = row["diff_p05"], row["diff_p95"]
    return bool(lo > 0 or hi < 0)


def is_unclear(row: Mapping[str, Any] | None) -> bool:
    """Whether a paired change is not clear: its 90% interval of paired runs holds zero (in some of
    them it goes the other way), not a change that is nothing in all of them, nor one from too few
    paired runs to judge (:func:`few_pairs`)."""
    if few_pairs(row):
        return False
    if row is None or row["diff_mean"] is None or math.isnan(row["diff_mean"]) or is_clear(row):
        return False
    return not _unchanged(row)


WHY_UNCLEAR = (
    "Not a clear change (in some paired runs it goes the other way); what follows explains the "
    "average: "
)
WHY_FEW = (
    "Too few paired runs to explain a change ({runs}): run at least {least} replications to see "
    "what moved it."
)


def why_line(text: str, row: Mapping[str, Any] | None) -> str:
    """A "why" sentence, led by a word of caution when the change it explains is not clear (the
    headline says the KPI is "about where it was"): it then explains an average, and says so before
    it speaks of a "rise" or a "fall". From too few paired runs (:func:`few_pairs`) there is no
    change to explain, and the sentence says only that."""
    if n := few_pairs(row):
        return WHY_FEW.format(runs=paired_runs(n), least=MIN_PAIRS)
    if row is None or is_clear(row) or not math.isfinite(row["diff_mean"]) or _unchanged(row):
        return text
    return WHY_UNCLEAR + text[:1].lower() + text[1:]


# The KPIs a "why" sentence may explain, in order of preference.
WHY_KPIS = ("retention_52w", "median_ttv_days", "value_delivered")


def why_kpi(horizon_weeks: int, comparison: Any = None) -> str:
    """The KPI the "why" sentence explains: the first of :data:`WHY_KPIS` that changed clearly in
    ``comparison`` (a ``Comparison.kpis()`` table; see :func:`is_clear`), else 52-week retention,
    or value delivered when the horizon is too short for retention."""
    candidates = [k for k in WHY_KPIS if k != "retention_52w" or horizon_weeks >= 52]
    if comparison is not None:
        rows = comparison.set_index("kpi")
        for kpi in candidates:
            row = rows.loc[kpi]
            if math.isfinite(row["diff_mean"]) and is_clear(row):
                return kpi
    return candidates[0] if horizon_weeks >= 52 else "value_delivered"


def why_source(
    replications: int, levers: int, per_combination: int, scaled: bool, by: str = "setting"
) -> str | None:
    """Where a "why" sentence's numbers come from, when its attribution ran on fewer replications
    than the run it explains (None when it ran on all of them, or did not run)."""
    if not per_combination or per_combination >= replications:
        return None
    what = "groups of settings" if by == "group" else "settings"
    text = (
        f"The “why” shares the difference out among the {levers} changed {what} (Shapley "
        f"attribution), from {per_combination} paired "
        f"replication{'' if per_combination == 1 else 's'} of each combination"
    )
    if scaled:
        return text + f"; their shares are applied to the difference over all {replications}."
    return text + (
        f"; the difference it splits is theirs, which differs from the one over all {replications}."
    )


def kpi_clause(row: Mapping[str, Any], few_note: bool = True) -> str | None:
    """One clause for one KPI row of ``Comparison.kpis()``; None when the KPI is undefined. A
    difference from too few paired runs (:func:`few_pairs`) gives both levels and says why no
    more, unless ``few_note`` is off (a sentence of several such clauses says it once)."""
    name = row["kpi"]
    if not _defined(row):
        return None
    kpi = KPIS[name]
    unit = kpi.unit
    label = in_sentence(kpi.label)
    base, var = fmt_level(row["baseline"], unit), fmt_level(row["variant"], unit)
    lo, hi = row["diff_p05"], row["diff_p95"]
    interval = _interval(lo, hi, unit)
    if _unchanged(row):
        return f"leaves {label} unchanged at {base}"
    if n := few_pairs(row):  # no interval and no odds from a handful of runs
        note = f" in {paired_runs(n)}, too few to call it a change" if few_note else ""
        return f"gives {label} {var} against {base}{note}"
    if not is_clear(row):
        return f"leaves {label} about where it was (from {base} to {var}; 90% interval {interval})"
    up = row["diff_mean"] > 0
    verb = {True: "raises", False: "lowers"}[up]
    if unit == "days":
        verb = "lengthens" if up else "shortens"
    better = row["p_better"]
    odds = (
        f"; better in {better:.0%} of paired runs"
        if better >= 0.5
        else (f"; worse in {1 - better:.0%} of paired runs")
    )
    return f"{verb} {label} from {base} to {var} (90% interval {interval}{odds})"


def join_and(clauses: Sequence[str]) -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    if len(clauses) == 1:
        return clauses[0]
    return ", ".join(clauses[:-1]) + " and " + clauses[-1]


def headline(
    table: Any,
    kpis: Sequence[str] = HEADLINE_KPIS,
    subject: str = "The proposal",
) -> str:
    """A plain-language paragraph about the chosen KPIs of a ``Comparison.kpis()`` table."""
    by_kpi = {r["kpi"]: r for r in table.to_dict("records")}
    rows = [r for r in (by_kpi.get(k) for k in kpis) if r is not None]
    # When every difference rests on the same too few runs, that is said once, at the end.
    few = {few_pairs(r) for r in rows if _defined(r) and not _unchanged(r)}
    once = len(few) == 1 and 0 not in few
    clauses = [c for c in (kpi_clause(r, few_note=not once) for r in rows) if c]
    if not clauses:
        return f"{subject} cannot be compared on these measures over this horizon."
    if once:
        return (
            f"{subject} {join_and(clauses)}; from {paired_runs(few.pop())}, too few to call a "
            "difference a change."
        )
    return f"{subject} {join_and(clauses)}."


def _defined(row: Mapping[str, Any]) -> bool:
    """Whether a KPI row has both levels and their difference (else it gets no clause)."""
    return all(math.isfinite(row[k]) for k in ("baseline", "variant", "diff_mean"))


def _unchanged(row: Mapping[str, Any]) -> bool:
    """Whether every paired run gives the same value (said as "unchanged", however few)."""
    return row["diff_p05"] == row["diff_p95"] == 0.0


# Measures a trade-off sentence may name beyond the headline (the rest are means to these ends).
TRADEOFF_KPIS = ("activation_rate", "active_customers_end", "ltv_to_cac")


def _better(row: Mapping[str, Any]) -> bool:
    return (row["diff_mean"] > 0) == KPIS[row["kpi"]].higher_is_better


def tradeoffs(
    table: Any,
    kpis: Sequence[str] = HEADLINE_KPIS,
    others: Sequence[str] = TRADEOFF_KPIS,
    who: str = "it",
) -> str | None:
    """A sentence on what moves clearly the other way from the headline: when the headline KPIs
    that changed clearly all got worse (or all better), the other measures that clearly got
    better (or worse). None when there is no such trade-off to tell. ``who`` names the run that
    moved them ("the variant"; "it" after a sentence that named it)."""
    rows = {r["kpi"]: r for r in table.to_dict("records")}
    moved = [
        _better(rows[k])
        for k in kpis
        if k in rows and math.isfinite(rows[k]["diff_mean"]) and is_clear(rows[k])
    ]
    if not moved or (any(moved) and not all(moved)):
        return None
    worse = not moved[0]
    clauses = []
    for k in others:
        row = rows.get(k)
        if row is None or k in kpis or not math.isfinite(row["diff_mean"]) or not is_clear(row):
            continue
        if _better(row) == worse:
            clauses.append(kpi_clause(row))
    clauses = [c for c in clauses if c]
    if not clauses:
        return None
    lead = "On the other side of the ledger," if worse else "It comes at a price:"
    return f"{lead} {who} {join_and(clauses)}."


def caveat(replications: int, weeks: int, seed: int) -> str:
    """What the numbers rest on, in one sentence."""
    runs = paired_runs(replications, "simulation run")
    if replications < MIN_PAIRS:
        return (
            f"Based on {runs} of {weeks} weeks (seed {seed}): too few to show a difference; run "
            f"at least {MIN_PAIRS} replications."
        )
    return (
        f"Based on {runs} of {weeks} weeks (seed {seed}); intervals cover 90% of the paired "
        f"differences, and both arms share every random draw the changed settings do not touch."
    )


# Below this share of replications calling an event-triggered review, the lever hardly moves the means.
RARE_EVENT_REVIEWS = 0.25


def quiet_event_reviews(params: Params, called_in: int, replications: int) -> str | None:
    """Why event-triggered reviews that were on hardly changed the numbers: fewer than
    :data:`RARE_EVENT_REVIEWS` of the replications (``called_in`` of ``replications``) called one.
    None when they were off or called often enough."""
    ev = params.reviews.event
    if not ev.enabled or replications <= 0 or called_in >= RARE_EVENT_REVIEWS * replications:
        return None
    if called_in == 0:
        how_rare = "no replication called one: the week's activation never fell"
    else:
        how_rare = (
            f"only {called_in} of {replications} replications called one: elsewhere the week's "
            "activation never fell"
        )
    closer = "set thresholds nearer this run's usual weeks"
    if not params.market.demand_shock_enabled:
        closer = "turn on the market's demand shock, or " + closer
    return (
        f"Event-triggered reviews were on, but {how_rare} below {ev.activation_threshold:.0%} and "
        f"weekly churn never rose above {ev.churn_threshold:.1%}. They answer shocks: {closer}."
    )


_REVIEWS_OFF = {
    "metric": "the metric review is off",
    "council": "the council is off",
    "strategy": "the strategy review is off",
    "event": "event-triggered reviews are off",
}
_PAID_ON = {
    "shared_outcome": "a shared outcome",
    "mixed": "a mixed scorecard",
    "local_metric": "a local metric",
}
_DEMAND_SHOCK = (
    "market.demand_shock_week",
    "market.demand_shock_depth",
    "market.demand_shock_recovery_weeks",
    "market.demand_shock_shifts_epoch",
)


def unused_settings(params: Params) -> dict[str, str]:
    """The settings that cannot change this configuration's numbers, each with why (a clause such
    as "the council is off"), in the order of the settings.

    A review's settings do nothing while it is not held; the escalation threshold only under
    guardrails; the market's shift and shock settings only when they happen; an incentive's
    alignment only when some function is paid on it. The tests check every claim against the
    model: changing a setting listed here leaves a replication exactly as it was.
    """
    rv, inc, market, rights = params.reviews, params.incentives, params.market, params.decisions
    why: dict[str, str] = {}

    def unused(keys: Sequence[str], reason: str) -> None:
        for key in keys:
            why.setdefault(key, reason)

    held = {kind: getattr(rv, kind).enabled for kind in REVIEW_TYPES}
    for kind, on in held.items():
        if not on:
            fields = (f.name for f in dataclasses.fields(getattr(rv, kind)))
            unused([f"reviews.{kind}.{f}" for f in fields if f != "enabled"], _REVIEWS_OFF[kind])
    if held["event"]:
        unused(
            ["reviews.event.interval_weeks"], "event-triggered reviews meet when a trigger fires"
        )
    if not any(held.values()):
        keys = ("instrumentation_quality", "drift_visibility_gap", "context_switch_hours")
        unused([f"reviews.{k}" for k in keys], "no review is held")
    if not (held["council"] or held["strategy"] or held["event"]):
        unused(["reviews.prune_below_z"], "no council, strategy or event-triggered review is held")
    if not (held["council"] or held["strategy"]):
        unused(
            ["decisions.rights", "decisions.escalation_size_person_days", "reviews.reject_below_z"],
            "with no council or strategy review, teams decide everything",
        )
    elif rights.rights == "delegated":
        nothing = "decision rights are delegated (nothing is escalated)"
        unused(["decisions.escalation_size_person_days", "reviews.reject_below_z"], nothing)
    elif rights.rights == "centralised":
        unused(
            ["decisions.escalation_size_person_days"],
            "decision rights are centralised (every item is escalated)",
        )
    if not market.shift_enabled:
        unused(["market.shift_week"], "the market never shifts")
    if not market.demand_shock_enabled:
        unused(_DEMAND_SHOCK, "there is no demand shock")
    if not (
        market.shift_enabled or (market.demand_shock_enabled and market.demand_shock_shifts_epoch)
    ):
        unused(
            ["market.signal_share", "product.old_epoch_value_share"],
            "the market's needs never change",
        )
    paid = {inc.product, inc.marketing, inc.sales}
    for incentive, words in _PAID_ON.items():
        if incentive not in paid:
            unused([f"incentives.{incentive}_alignment"], f"no function is paid on {words}")
    if params.work.strategy_focus == "balanced":
        unused(["work.focus_bonus_z"], "the strategy's focus is balanced")
    if params.org.discovery_share == 0.0:
        unused(["work.discovery_noise_reduction"], "no discovery time is protected")
    return {key: why[key] for key in flatten(params) if key in why}


def unused_changes(params: Params) -> str | None:
    """A sentence naming the settings that differ from the defaults but cannot change this run's
    numbers, grouped by why; None when every change can act."""
    from sim.explore.labels import lever_label  # here: the explore package imports this module

    why = unused_settings(params)
    by_reason: dict[str, list[str]] = {}
    for key in diff(params):
        if key in why:
            by_reason.setdefault(why[key], []).append(lever_label(key))
    if not by_reason:
        return None
    parts = [f"{join_and(labels)}, as {reason}" for reason, labels in by_reason.items()]
    return "Changed, but without effect in this run: " + "; ".join(parts) + "."
