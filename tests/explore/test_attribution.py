"""Attribution: Shapley values add up exactly, match closed forms, and read as plain sentences."""

import math

import numpy as np
import pytest

from sim.executors import SerialExecutor
from sim.explore import FunctionEvaluator, attribute, explain, sentence, why
from sim.explore.attribution import shapley_matrix, subsets
from sim.explore.levers import ExploreError
from sim.outcomes import KPI_NAMES
from sim.params import ParamError, Params, with_overrides
from sim.runner import compare, run_many
from tests.explore.helpers import interaction, short

SERIAL = SerialExecutor()


def test_shapley_weights():
    w = shapley_matrix(3)
    # Each player's weights sum to 0 (a constant game gives 0) ...
    assert np.allclose(w.sum(axis=1), 0.0)
    # ... and together they give v(N) − v(∅): efficiency.
    assert np.allclose(w.sum(axis=0), np.eye(8)[7] - np.eye(8)[0])
    assert subsets(2) == [(), (0,), (1,), (0, 1)]


def test_closed_form_shapley_values_of_an_interaction():
    """y = 2a + b + 4ab, from (0, 0) to (1, 1): φ_a = 2 + 4/2 = 4, φ_b = 1 + 4/2 = 3."""
    ev = FunctionEvaluator(interaction, {"a": 0.0, "b": 0.0})
    result = attribute(ev, {"a": 1.0, "b": 1.0}, replications=2, executor=SERIAL)
    contributions = dict((p.name, c) for p, c in result.contributions("y"))
    assert contributions == {"a": pytest.approx(4.0), "b": pytest.approx(3.0)}
    assert result.difference("y") == pytest.approx(7.0)


def test_attributions_add_up_exactly_to_the_paired_difference():
    base = short({"horizon_weeks": 60})
    variant = with_overrides(
        base,
        {
            "incentives.sales": "local_metric",
            "incentives.product": "mixed",
            "reviews.council.interval_weeks": 8.0,
        },
    )
    result = attribute(base, variant, replications=3, seed=4, executor=SERIAL)
    assert [p.name for p in result.players] == [
        "incentives.product",
        "incentives.sales",
        "reviews.council.interval_weeks",
    ]
    assert result.manifest["scenarios_run"] == 8
    for kpi in KPI_NAMES:
        j = KPI_NAMES.index(kpi)
        total = result.total.values[j]
        if not math.isfinite(total):
            continue
        parts = sum(c for _, c in result.contributions(kpi))
        assert parts == pytest.approx(total, rel=1e-9, abs=1e-9 * max(1.0, abs(total))), kpi
    # The total is the paired difference of the two scenarios on the same replications.
    a = run_many(base, replications=3, seed=4)
    b = run_many(variant, replications=3, seed=4)
    table = compare(a, b).kpis().set_index("kpi")
    for kpi in ("value_delivered", "retention_52w", "activation_rate"):
        assert result.difference(kpi) == pytest.approx(table.loc[kpi, "diff_mean"], rel=1e-9)


def test_waterfall_chains_from_baseline_to_variant():
    base = short()
    variant = with_overrides(
        base, {"incentives.product": "local_metric", "org.discovery_share": 0.3}
    )
    result = attribute(base, variant, replications=2, seed=1, executor=SERIAL)
    w = result.waterfall("value_delivered")
    assert w.kind.tolist() == ["baseline", "lever", "lever", "variant"]
    assert w["end"].iloc[0] == pytest.approx(
        result.baseline.values[KPI_NAMES.index("value_delivered")]
    )
    assert w["end"].iloc[-1] == pytest.approx(
        result.variant.values[KPI_NAMES.index("value_delivered")]
    )
    levers = w[w.kind == "lever"]
    assert np.allclose(levers["start"].iloc[1:].to_numpy(), levers["end"].iloc[:-1].to_numpy())
    assert abs(levers.delta.iloc[0]) >= abs(levers.delta.iloc[1])  # largest first
    d = result.to_dict()
    k = d["kpis"]["value_delivered"]
    assert set(k) == {"baseline", "variant", "difference", "contributions", "explanation"}
    assert d["kpis"]["retention_52w"] is None and "retention_52w" in d["null_reasons"]
    table = result.table()
    assert list(table.columns) == [
        "kpi",
        "lever",
        "label",
        "contribution",
        "se",
        "ci_lo",
        "ci_hi",
        "share",
        "baseline",
        "variant",
    ]


def test_grouping_and_bad_input():
    base = short()
    variant = with_overrides(
        base,
        {
            "reviews.council.interval_weeks": 2.0,
            "reviews.council.hours": 6.0,
            "incentives.sales": "mixed",
        },
    )
    grouped = attribute(
        base, variant, replications=1, by="group", executor=SERIAL, kpis=["meeting_overhead_share"]
    )
    assert [p.name for p in grouped.players] == ["incentives.sales", "reviews.council"]
    assert [p.label for p in grouped.players] == ["sales' incentive", "the council settings"]
    assert set(grouped.players[1].changes) == {
        "reviews.council.interval_weeks",
        "reviews.council.hours",
    }
    with pytest.raises(ExploreError, match="does not differ"):
        attribute(base, base, replications=1, executor=SERIAL)
    with pytest.raises(ExploreError, match="--by"):
        attribute(base, variant, by="team", executor=SERIAL)
    many = {
        f"reviews.{r}.{f}": 7.0
        for r in ("metric", "council", "strategy")
        for f in ("hours", "attendees_per_team", "interval_weeks")
    }
    with pytest.raises(ExploreError, match=r"at most 8.*--by group"):
        attribute(base, many, replications=1, executor=SERIAL)
    with pytest.raises(ParamError, match="is not a setting"):
        attribute(base, {"reviews.councl.hours": 2.0}, executor=SERIAL)
    # A partial change that is invalid on its own: a shift week valid only with a longer horizon.
    shifted = short({"market.shift_enabled": True, "market.shift_week": 20})
    with pytest.raises(ParamError, match="group them"):
        attribute(shifted, {"horizon_weeks": 60, "market.shift_week": 40}, executor=SERIAL)


def test_sentences():
    s = sentence(
        "retention_52w", -0.031, [("sales' incentive", -0.024), ("the council interval", -0.007)]
    )
    assert s == (
        "Most of the 3.1-point fall in 52-week retention comes from sales' incentive "
        "(−2.4 points); the council interval contributes −0.7 points."
    )
    s = sentence(
        "lead_time_days", 0.5, [("the council interval", 1.0), ("product teams' incentive", -0.5)]
    )
    assert s == (
        "The 0.5-day rise in lead time comes from the council interval (+1.0 days); "
        "product teams' incentive offsets −0.5 days."
    )
    s = sentence(
        "value_delivered", -300.0, [("a", -100.0), ("b", -90.0), ("c", -60.0), ("d", -50.0)]
    )
    assert s.startswith(
        "The 300-point fall in value delivered is spread out; the largest part comes from a"
    )
    assert "the other 2 levers together −110 points" in s
    s = sentence("activation_rate", 0.02, [("x", -0.03), ("y", 0.05)])
    assert s == (
        "The 2.0-point rise in activation rate comes from y (+5.0 points); x offsets −3.0 points."
    )
    s = sentence("activation_rate", 0.01, [("x", -0.03), ("y", 0.04)])
    assert s.startswith("The 1.0-point rise in activation rate comes from y (+4.0 points)")
    s = sentence("activation_rate", -0.01, [("x", 0.02), ("y", -0.01), ("z", -0.02)])
    assert "X pulls activation rate the other way (+2.0 points)" in s
    assert sentence("value_delivered", 0.0001, [("a", 5.0), ("b", -5.0)]).startswith(
        "Value delivered is practically unchanged"
    )
    # Nothing to split reads as every change is written: "±0.0", never a bare "0.0"; "unchanged"
    # only when it is nothing at all.
    assert sentence("retention_52w", 0.0, [("a", 0.0)]) == (
        "52-week retention is unchanged (±0.0 points)."
    )
    assert sentence("retention_52w", 0.0001, [("a", 0.0001)]) == (
        "52-week retention is practically unchanged (±0.0 points)."
    )
    # Alignment to three places, as its tile gives it: 0.004 is not "+0.00".
    assert sentence("mean_alignment", 0.004, [("a", 0.004)]) == (
        "The 0.004 rise in mean alignment comes from a (+0.004)."
    )
    assert "cannot be computed" in sentence("retention_52w", math.nan, [])
    assert "\n" not in s
    # Half, as shown, is "half of", not "most of".
    s = sentence(
        "retention_52w",
        -0.032,
        [("sales' incentive", -0.016), ("product teams' incentive", -0.010), ("c", -0.006)],
    )
    assert s.startswith(
        "Half of the 3.2-point fall in 52-week retention comes from sales' incentive (−1.6 points)"
    ), s
    assert sentence("retention_52w", -0.032, [("a", -0.017), ("b", -0.015)]).startswith("Most ")
    # A part that rounds to more than the whole: never "most of", and the offset is owned up to.
    s = sentence("retention_52w", -0.0164, [("sales' incentive", -0.0168), ("b", 0.0004)])
    assert s == (
        "The 1.6-point fall in 52-week retention comes from sales' incentive (−1.7 points), "
        "slightly offset by the other lever."
    )
    # Others that changed nothing leave only a sum's rounding error: nothing to own up to.
    total = 291.0 - 1e-13  # a sum a hair below its one part
    s = sentence("value_delivered", total, [("a", 291.0), ("b", 0.0), ("c", 0.0)])
    assert s.startswith("The 291-point rise in value delivered comes from a") and "offset" not in s


def test_explain_reads_an_attribution():
    ev = FunctionEvaluator(interaction, {"a": 0.0, "b": 0.0})
    result = attribute(ev, {"a": 1.0, "b": 1.0}, replications=1, executor=SERIAL)
    assert (
        explain(result, "y")
        == "Most of the 7.00 rise in y comes from a (+4.00); b contributes +3.00."
    )
    assert result.explain("y") == explain(result, "y")


def test_a_switch_is_named_by_the_way_it_was_turned():
    base = short(weeks=40)  # every review held
    variant = {"reviews.strategy.enabled": False, "market.shift_enabled": True}
    found = attribute(base, variant, replications=1, executor=SERIAL, kpis=["value_delivered"])
    labels = {p.name: p.label for p in found.players}
    assert labels == {
        "reviews.strategy.enabled": "dropping the strategy review",
        "market.shift_enabled": "the market shift",
    }
    back = attribute(
        with_overrides(base, variant),
        {"reviews.strategy.enabled": True},
        replications=1,
        executor=SERIAL,
        kpis=["value_delivered"],
    )
    assert [p.label for p in back.players] == ["holding the strategy review"]


def test_a_single_changed_setting_or_group_is_named_as_such():
    base = Params()
    one = with_overrides(base, {"incentives.sales": "local_metric"})
    text = why(base, one, "retention_52w", replications=10, seed=1, by="group").text
    assert text == (
        "Sales' incentive is the only setting that differs, so the whole difference comes from it."
    )
    two = with_overrides(
        base, {"reviews.council.interval_weeks": 2.0, "reviews.council.attendees_per_team": 5.0}
    )
    text = why(base, two, "retention_52w", replications=10, seed=1, by="group").text
    assert "is the only group of settings that differs" in text


def test_a_why_on_fewer_replications_splits_the_whole_runs_difference():
    """Two changed settings at 4 replications each (the budget allows 4 of 8), explaining a run of
    8: the sentence splits the 8-replication difference, in the 4-replication shares."""
    base = short({"horizon_weeks": 40})
    variant = with_overrides(
        base, {"incentives.sales": "local_metric", "org.wip_limit_per_team": 4}
    )
    kpi = "value_delivered"
    whole = compare(run_many(base, 8, seed=3), run_many(variant, 8, seed=3)).kpis()
    total = float(whole.set_index("kpi").loc[kpi, "diff_mean"])
    part = attribute(base, variant, replications=4, seed=3, kpis=(kpi,), executor=SERIAL)
    assert part.difference(kpi) != pytest.approx(total)  # the two runs' differences differ

    kw = {"replications": 8, "seed": 3, "max_simulations": 16, "min_replications": 2}
    found = why(base, variant, kpi, total=total, executor=SERIAL, **kw)
    assert found.replications == 4 and found.scaled
    factor = total / part.difference(kpi)
    expected = sentence(kpi, total, [(p.label, c * factor) for p, c in part.contributions(kpi)])
    assert found.text == expected
    assert found.text != explain(part, kpi)

    # Without the whole run's difference, or across a change of sign: the attribution's own.
    assert why(base, variant, kpi, executor=SERIAL, **kw).text == explain(part, kpi)
    flipped = why(base, variant, kpi, total=-total, executor=SERIAL, **kw)
    assert not flipped.scaled and flipped.text == explain(part, kpi)
    # Nor to a difference more than twice as large or small: shares of one say little of the other.
    for far in (2.2 * part.difference(kpi), 0.4 * part.difference(kpi)):
        kept = why(base, variant, kpi, total=far, executor=SERIAL, **kw)
        assert not kept.scaled and kept.text == explain(part, kpi)
    near = why(base, variant, kpi, total=1.9 * part.difference(kpi), executor=SERIAL, **kw)
    assert near.scaled
    # On all the replications there is nothing to scale.
    full = why(base, variant, kpi, total=total, executor=SERIAL, **{**kw, "replications": 4})
    assert not full.scaled and full.text == explain(part, kpi)
