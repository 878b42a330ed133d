"""How paired comparisons and partly measured KPIs are put into words."""

import numpy as np
import pandas as pd

from sim.report.format import (
    MIN_PAIRS,
    delta_end,
    delta_range,
    describe_difference,
    fmt_delta,
    kpi_range,
    p_better_text,
    partial_note,
    too_few_pairs,
    value_range,
)


def row(p=0.8, pairs=100, ties=0, reps=100):
    return {"p_better": p, "pairs": pairs, "ties": ties, "replications": reps}


def test_p_better_says_how_many_replications_it_rests_on():
    assert p_better_text(row()) == "P(variant better) 80%"
    assert (
        p_better_text(row(p=0.2, pairs=5)) == "P(variant better) 20% (from 5 of 100 replications)"
    )
    assert p_better_text(row(pairs=5), counts=False) == "P(variant better) 80%"
    # A tile says how many pairs, its note the rest.
    assert p_better_text(row(pairs=1), counts=False, short=True) == "P(variant better) 80% (1 pair)"
    assert p_better_text(row(pairs=5, ties=5), counts=False, short=True) == (
        "the same in every pair (5 pairs)"
    )
    assert p_better_text(row(), counts=False, short=True) == "P(variant better) 80%"
    assert p_better_text(row(), subject="proposal") == "P(proposal better) 80%"
    assert p_better_text(row(), subject="") == "P(better) 80%"


def test_identical_pairs_give_no_probability():
    assert p_better_text(row(p=0.5, ties=100)) == "the same in every pair"
    assert p_better_text(row(p=0.5, pairs=3, ties=3)) == (
        "the same in every pair (from 3 of 100 replications)"
    )
    assert p_better_text(row(p=0.5, ties=99)) == "P(variant better) 50%"
    assert p_better_text(row(p=float("nan"))) == ""


def test_a_tile_says_when_its_value_comes_from_some_replications():
    summary = {"mean": 12.8, "n": 5, "of": 100}
    note = partial_note("detection_lag_days", summary)
    assert note is not None and note.startswith(
        "From 5 of 100 replications; in the others, no team"
    )
    assert partial_note("detection_lag_days", {"mean": 12.8, "n": 100, "of": 100}) is None
    # With a baseline, the pairs count.
    assert partial_note("detection_lag_days", summary, row(pairs=3)).startswith("From 3 of 100")
    both = {**row(pairs=5), "baseline_n": 5, "variant_n": 5}
    assert partial_note("detection_lag_days", summary, both).startswith("From 5 of 100")
    # Only the baseline lacks values: the tile's value rests on every replication, its change on
    # the pairs, and the note says so (it used to say "from 5 of 100" of the value too).
    drifting = {"mean": 30.6, "n": 100, "of": 100}
    note = partial_note(
        "detection_lag_days", drifting, {**row(pairs=5), "baseline_n": 5, "variant_n": 100}
    )
    assert note == (
        "The value is from all 100 replications; the change and P(better) only from the 5 in "
        "which both runs have one (the baseline has one in 5, this run in 100). Without one, "
        "no team drifted past the onset gap, so there was nothing to detect."
    )
    note = partial_note(
        "detection_lag_days", {"mean": 9.0, "n": 40, "of": 100},
        {**row(pairs=30), "baseline_n": 90, "variant_n": 40},
    )  # fmt: skip
    assert note.startswith("The value is from 40 of 100 replications; the change and P(better) ")
    assert partial_note("detection_lag_days", drifting, {**row(), "baseline_n": 100}) is None


def test_a_year_old_kpi_at_a_short_horizon_says_which_sign_ups_it_counts():
    from sim.report.format import few_cohorts_note

    assert "signed up in the first week;" in few_cohorts_note("retention_52w", 52)
    assert "the first 27 weeks" in few_cohorts_note("retention_52w", 78)
    assert few_cohorts_note("ltv_to_cac", 52) is None  # the pooled curve: every cohort counts
    assert few_cohorts_note("retention_52w", 103) is None  # a year of sign-ups
    assert few_cohorts_note("retention_52w", 40) is None  # no value at all: said elsewhere
    assert few_cohorts_note("value_delivered", 52) is None


def test_a_message_ends_in_one_full_stop():
    from sim.report.format import full_stop

    assert full_stop("did you mean incentives.sales?") == "did you mean incentives.sales?"
    assert full_stop("out of range: 1 to 12") == "out of range: 1 to 12."
    assert full_stop(ValueError("done. ")) == "done."


def test_a_change_from_too_few_pairs_is_not_shown_as_one():
    assert too_few_pairs(row(pairs=1)) == "1 pair: too few to compare"
    assert too_few_pairs(row(pairs=MIN_PAIRS - 1)) == f"{MIN_PAIRS - 1} pairs: too few to compare"
    assert too_few_pairs(row(pairs=MIN_PAIRS)) is None
    # A small run is judged as a gap is: three pairs are three pairs.
    assert too_few_pairs(row(pairs=3, reps=3)) == "3 pairs: too few to compare"
    assert too_few_pairs(row(pairs=MIN_PAIRS, reps=MIN_PAIRS)) is None
    # The same in every pair is no change, however few the pairs.
    assert too_few_pairs(row(p=0.5, pairs=2, ties=2, reps=2)) is None
    assert too_few_pairs({"p_better": 0.5}) is None


def test_an_interval_end_that_rounds_to_nothing_says_its_side_of_zero():
    """ "-0.5 days to ±0.0 days" beside "better in 100%" read as a contradiction (tables, tile help)."""
    assert delta_end(-0.02, "days") == "just below zero"
    assert delta_end(0.00004, "share") == "just above zero"
    assert delta_end(0.0, "days") == "±0.0 days"  # zero itself is written as zero
    assert delta_end(-0.6, "days") == "−0.6 days"
    assert delta_end(float("nan"), "days") == "n/a"


def test_a_difference_chart_calls_no_difference_from_too_few_pairs():
    """Its text says what the tiles say: a band from 3 pairs that leaves out zero is no result."""
    df = pd.DataFrame(
        {"week": [0, 1], "mean": [-0.01, -0.02], "lo": [-0.03, -0.021], "hi": [0.0, -0.019]}
    )
    args = {"x": "week", "what": "Retention", "unit": "share", "width": 90}
    assert describe_difference(df, **args).endswith("; the band excludes zero.")
    assert describe_difference(df, **args, pairs=MIN_PAIRS).endswith("; the band excludes zero.")
    few = describe_difference(df, **args, pairs=3)
    assert few.endswith("; from 3 paired runs, too few to call a difference.")
    assert describe_difference(df, **args, pairs=1).endswith(
        "from 1 paired run, too few to call a difference."
    )


def test_a_kpis_range_from_one_replication_claims_no_90_percent():
    one = {"n": 1, "of": 1, "p05": 0.32, "p95": 0.32}
    assert kpi_range("retention_52w", one) == "32.0% in the one replication with a value"
    many = {"n": 20, "of": 20, "p05": 0.30, "p95": 0.34}
    assert kpi_range("retention_52w", many) == "90% of replications between 30.0% and 34.0%"
    days = {"n": 20, "of": 20, "p05": 10.3, "p95": 11.9}  # the unit said once
    assert kpi_range("median_ttv_days", days) == "90% of replications between 10.3 and 11.9 days"


def test_a_difference_the_same_in_every_pair_says_so():
    """As the tile does, rather than "the band includes zero (no clear difference)"."""
    df = pd.DataFrame({"week": [0, 1], "mean": [0.0, 0.0], "lo": [0.0, 0.0], "hi": [0.0, 0.0]})
    said = describe_difference(df, x="week", what="Value delivered", unit="value points", width=90)
    assert said == "Value delivered at week 1: ±0 points, the same in every pair."
    # One pair is not "every pair".
    one = describe_difference(df, x="week", what="Value delivered", unit="value points", width=90,
                              pairs=1)  # fmt: skip
    assert one == "Value delivered at week 1: ±0 points, the same in the one pair."
    assert p_better_text(row(p=0.5, pairs=1, ties=1, reps=1)) == "the same in the one pair"


def test_changes_read_as_the_sentences_write_them():
    """Tiles, tables and tooltips write a change as the headline and the charts' text do: a minus
    sign, a share's change in points, money and counts without scientific notation."""
    assert fmt_delta(-0.016, "share") == "−1.6 points"
    assert fmt_delta(0.004, "share per week") == "+0.4 points"
    assert fmt_delta(-1.0, "value points") == "−1 point"
    assert fmt_delta(290.0, "value points") == "+290 points"
    assert fmt_delta(-1234.4, "$ per week") == "−$1,234 per week"
    assert fmt_delta(1500.0, "value points per week") == "+1,500 value points per week"
    assert fmt_delta(2.5, "items") == "+2.5 items"
    assert fmt_delta(-0.012, "alignment") == "−0.012"
    # A range says its unit once, when both ends share it.
    assert delta_range(-0.08, 0.115, "share") == "−8.0 to +12 points"
    assert delta_range(-1234.0, 50.0, "$ per week") == "−$1,234 to +$50 per week"
    assert delta_range(-0.001, 0.002, "alignment") == "−0.001 to +0.002"
    assert delta_range(-0.6, 2.0, "value points") == "−1 point to +2 points"
    assert delta_range(0.0, 0.0, "value points") == "±0 points"  # not "±0 to ±0 points"
    assert value_range(0.04, 0.0401, "share") == "4.0%"  # not "4.0% to 4.0%"
    assert value_range(10.3, 11.9, "days") == "10.3 to 11.9 days"


def test_retention_text_writes_its_bands_as_every_range_is_written():
    """Its bands read "85.0%–86.4%" where every other range says "to"."""
    from sim.report.format import describe_retention

    ages = np.arange(60)
    band = pd.DataFrame(
        {
            "age_weeks": ages,
            "mean": 0.9 ** (ages / 10),
            "lo": 0.85 ** (ages / 10),
            "hi": 0.95 ** (ages / 10),
        }
    )
    text = describe_retention(band, 90)
    assert text.startswith(
        "Variant cohort survival, mean (90% band): 95.9% at 4 weeks (93.7% to 98.0%);"
    )
    assert text.endswith("; 57.8% at 52 weeks (43.0% to 76.6%).") and "–" not in text
    # A band of one value is that value, as value_range gives it.
    band["lo"] = band["hi"] = band["mean"]
    assert "87.2% at 13 weeks (87.2%)" in describe_retention(band, 90, "Baseline")
    assert describe_retention(band.iloc[:0], 90) == "Variant: no retention values."


def test_a_numbers_hyphen_becomes_the_minus_the_pages_write():
    from sim.report.format import true_minus

    assert true_minus("-5 to 5 standard deviations") == "−5 to 5 standard deviations"
    assert true_minus("-10%") == "−10%" and true_minus("-0.5 to -0.1") == "−0.5 to −0.1"
    assert true_minus("0.5 to 200 person-days") == "0.5 to 200 person-days"  # a word's hyphen
    assert true_minus("1e-05") == "1e-05" and true_minus("10%") == "10%"
