"""Plain-language sentences about paired comparisons."""

import pandas as pd

from sim.narrative import (
    MIN_PAIRS,
    WHY_UNCLEAR,
    caveat,
    fmt_change,
    fmt_level,
    headline,
    is_clear,
    is_unclear,
    kpi_clause,
    quiet_event_reviews,
    tradeoffs,
    why_line,
    why_source,
)
from sim.params import Params, with_overrides


def _row(kpi, base, var, lo, hi, p):
    return {
        "kpi": kpi,
        "baseline": base,
        "variant": var,
        "diff_mean": var - base,
        "diff_p05": lo,
        "diff_p95": hi,
        "p_better": p,
    }


def test_clear_rise_names_levels_interval_and_odds():
    text = kpi_clause(_row("retention_52w", 0.41, 0.49, 0.05, 0.11, 0.97))
    assert text == (
        "raises 52-week retention from 41.0% to 49.0% (90% interval +5.0 to +11 points; "
        "better in 97% of paired runs)"
    )


def test_days_use_shortens_and_unclear_changes_are_called_so():
    assert kpi_clause(_row("median_ttv_days", 12.1, 9.8, -2.9, -1.6, 1.0)).startswith(
        "shortens median time-to-value from 12.1 days to 9.8 days (90% interval −2.9 to −1.6 days"
    )
    assert kpi_clause(_row("value_delivered", 4100, 4120, -50, 90, 0.6)).startswith(
        "leaves value delivered about where it was (from 4,100 points to 4,120 points; 90% "
    )
    assert kpi_clause(_row("meeting_overhead_share", 0.04, 0.04, 0.0, 0.0, 0.5)) == (
        "leaves meeting overhead unchanged at 4.0%"
    )
    assert kpi_clause(_row("retention_52w", float("nan"), 0.3, 0, 0, 0.5)) is None


def test_headline_joins_clauses():
    table = pd.DataFrame(
        [
            _row("retention_52w", 0.41, 0.49, 0.05, 0.11, 0.97),
            _row("median_ttv_days", 12.1, 9.8, -2.9, -1.6, 1.0),
            _row("value_delivered", 4120, 4460, 290, 390, 1.0),
        ]
    )
    text = headline(table)
    assert text.startswith("The proposal raises 52-week retention") and text.endswith(".")
    assert ", shortens median time-to-value" in text and " and raises value delivered" in text
    assert "cannot be compared" in headline(table, kpis=("ltv_to_cac",))


def test_formatting_helpers():
    assert (
        fmt_level(0.052, "share") == "5.2%" and fmt_level(4120.4, "value points") == "4,120 points"
    )
    assert fmt_change(-0.031, "share") == "−3.1 points" and fmt_change(2.5, "days") == "+2.5 days"
    assert "42 paired simulation runs of 104 weeks (seed 7)" in caveat(42, 104, 7)
    # One run is "1 paired simulation run", and no interval is promised from too few.
    assert caveat(1, 52, 3) == (
        "Based on 1 paired simulation run of 52 weeks (seed 3): too few to show a difference; run "
        "at least 5 replications."
    )


def test_a_why_sentence_is_hedged_when_the_change_it_explains_is_not_clear():
    text = "Most of the 244-point rise in value delivered comes from the strategy rhythm (+200)."
    unclear = _row("value_delivered", 3959, 4203, -91, 709, 0.8)  # the headline: "about where..."
    clear = _row("value_delivered", 3959, 4203, 40, 420, 0.98)
    assert not is_clear(unclear) and is_clear(clear)
    # The caution comes first, so "rise" is read as an average rise, not as the headline's verdict.
    assert why_line(text, unclear) == WHY_UNCLEAR + "m" + text[1:]
    assert why_line(text, unclear).startswith("Not a clear change (in some paired runs it goes ")
    # A sentence of its own shape reads on from the caution too.
    only = (
        "Sales' incentive is the only setting that differs, so the whole difference comes from it."
    )
    assert why_line(only, unclear).endswith(
        "what follows explains the average: sales' incentive is the only setting that differs, so "
        "the whole difference comes from it."
    )
    assert why_line(text, clear) == text
    assert why_line(text, None) == text
    same = _row("meeting_overhead_share", 0.04, 0.04, 0.0, 0.0, 0.5)  # said to be unchanged
    assert why_line(text, same) == text


def test_a_change_from_too_few_paired_runs_is_not_called_one():
    """Three pairs that all fell give "worse in 100% of paired runs" and an interval from the
    5th to the 95th percentile of three numbers: the sentences give the levels and say why no
    more."""
    fell = {**_row("retention_52w", 0.347, 0.331, -0.03, -0.01, 0.0), "pairs": 3}
    assert not is_clear(fell) and not is_unclear(fell)
    assert kpi_clause(fell) == (
        "gives 52-week retention 33.1% against 34.7% in 3 paired runs, too few to call it a change"
    )
    one = {**fell, "pairs": 1}
    assert kpi_clause(one).endswith("in 1 paired run, too few to call it a change")
    enough = {**fell, "pairs": MIN_PAIRS}
    assert is_clear(enough) and kpi_clause(enough).startswith("lowers 52-week retention")
    # Nothing changed in any pair: that is said however few they are.
    same = {**_row("meeting_overhead_share", 0.04, 0.04, 0.0, 0.0, 0.5), "pairs": 2}
    assert kpi_clause(same) == "leaves meeting overhead unchanged at 4.0%"
    # A headline of such clauses says it once; mixed with a judged change, each says it.
    ttv = {**_row("median_ttv_days", 10.2, 10.9, 0.2, 1.1, 0.0), "pairs": 3}
    value = {**_row("value_delivered", 4410, 4410, 0.0, 0.0, 0.5), "pairs": 3}
    assert headline(pd.DataFrame([fell, ttv, value])) == (
        "The proposal gives 52-week retention 33.1% against 34.7%, gives median time-to-value "
        "10.9 days against 10.2 days and leaves value delivered unchanged at 4,410 points; from "
        "3 paired runs, too few to call a difference a change."
    )
    judged = {**_row("value_delivered", 4100, 4460, 290, 390, 1.0), "pairs": 100}
    mixed = headline(pd.DataFrame([fell, judged]))
    assert "34.7% in 3 paired runs, too few to call it a change and raises value" in mixed
    assert mixed.endswith("better in 100% of paired runs).")
    # No trade-off and no "why" is read into them either.
    table = pd.DataFrame([fell, {**_row("activation_rate", 0.5, 0.6, 0.05, 0.15, 1.0), "pairs": 3}])
    assert tradeoffs(table) is None
    text = "Most of the fall in 52-week retention comes from sales' incentive."
    # The size of a "fall" from 3 pairs would put a number on a change no tile shows.
    assert why_line(text, fell) == (
        "Too few paired runs to explain a change (3 paired runs): run at least 5 replications to "
        "see what moved it."
    )


def test_a_tradeoff_names_what_clearly_moved_the_other_way():
    worse = [
        _row("retention_52w", 0.35, 0.31, -0.04, -0.03, 0.0),
        _row("median_ttv_days", 10.3, 11.9, 1.3, 1.7, 0.0),
        _row("value_delivered", 4411, 4069, -412, -267, 0.0),
    ]
    customers = _row("active_customers_end", 6606, 7015, 194, 533, 1.0)
    ratio = _row("ltv_to_cac", 3.66, 3.97, -0.1, 0.37, 0.8)  # not clear: not named
    activation = _row("activation_rate", 0.66, 0.62, -0.05, -0.03, 0.0)  # the same way: not named
    text = tradeoffs(pd.DataFrame([*worse, customers, ratio, activation]))
    assert text == (
        "On the other side of the ledger, it raises active customers at end from 6,606 customers "
        "to 7,015 customers (90% interval +194 to +533 customers; better in 100% of "
        "paired runs)."  # the unit said once
    )
    better = [
        _row("retention_52w", 0.31, 0.35, 0.03, 0.04, 1.0),
        _row("value_delivered", 4069, 4411, 267, 412, 1.0),
    ]
    fewer = _row("active_customers_end", 7015, 6606, -533, -194, 0.0)
    assert tradeoffs(pd.DataFrame([*better, fewer])).startswith(
        "It comes at a price: it lowers active customers at end"
    )
    mixed = [worse[0], better[1], customers]  # the headline itself is a trade-off: nothing to add
    assert tradeoffs(pd.DataFrame(mixed)) is None
    assert tradeoffs(pd.DataFrame([*worse, ratio, activation])) is None


def test_a_change_that_rounds_to_nothing_has_no_sign():
    assert fmt_change(-0.00004, "share") == "±0.0 points"  # not "−0.0 points"
    assert fmt_change(-0.0006, "share") == "−0.1 points"
    assert fmt_change(-0.04, "days") == "±0.0 days"
    assert fmt_change(0.4, "value points") == "±0 points"
    assert fmt_change(-3.0, "value points") == "−3 points"
    # Alignment to the tiles' three decimals: a small paired change is not written "±0.00".
    assert fmt_change(0.0012, "alignment") == "+0.001" and fmt_level(0.6743, "alignment") == "0.674"
    # An interval's end that rounds to nothing, beside a clear change, says its side of zero:
    # "−0.5 to ±0.0 days; better in 100% of paired runs" read as a contradiction.
    text = kpi_clause(_row("median_ttv_days", 12.1, 11.7, -0.5, -0.02, 1.0))
    assert "(90% interval −0.5 days to just below zero; better in 100% of paired runs)" in text
    text = kpi_clause(_row("retention_52w", 0.41, 0.42, 0.00003, 0.02, 1.0))
    assert "(90% interval just above zero to +2.0 points; better in 100%" in text


def test_a_why_on_fewer_replications_says_where_its_numbers_come_from():
    assert why_source(100, 5, 25, scaled=True) == (
        "The “why” shares the difference out among the 5 changed settings (Shapley attribution), "
        "from 25 paired replications of "
        "each combination; their shares are applied to the difference over all 100."
    )
    assert why_source(100, 5, 25, scaled=False).endswith(
        "of each combination; the difference it splits is theirs, which differs from the one "
        "over all 100."
    )
    assert why_source(100, 3, 50, scaled=True, by="group").startswith(
        "The “why” shares the difference out among the 3 changed groups of settings (Shapley "
        "attribution), from 50"
    )
    assert why_source(30, 3, 30, scaled=False) is None  # ran on every replication
    assert why_source(100, 1, 0, scaled=False) is None  # one setting: nothing ran


def test_event_reviews_that_few_replications_called_say_why_and_what_would_call_them():
    off = Params()
    on = with_overrides(off, {"reviews.event.enabled": True, "reviews.event.churn_threshold": 0.05})
    assert quiet_event_reviews(off, 0, 100) is None  # off: nothing to explain
    assert quiet_event_reviews(on, 25, 100) is None  # called in a quarter of them: often enough
    none = quiet_event_reviews(on, 0, 100)
    assert none.startswith("Event-triggered reviews were on, but no replication called one")
    few = quiet_event_reviews(on, 24, 100)
    assert few.startswith("Event-triggered reviews were on, but only 24 of 100 replications called")
    for text in (none, few):
        assert "activation never fell below 45% and weekly churn never rose above 5.0%" in text
        assert text.endswith(
            "They answer shocks: turn on the market's demand shock, or set thresholds nearer this "
            "run's usual weeks."
        )
    shocked = with_overrides(on, {"market.demand_shock_enabled": True})
    assert quiet_event_reviews(shocked, 0, 100).endswith(  # the shock is on already
        "They answer shocks: set thresholds nearer this run's usual weeks."
    )
