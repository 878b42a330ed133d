"""Sensitivity analysis: Sobol indices of the Ishigami function, Morris effects of a linear function,
and on the model a lever that cannot act gets an effect of exactly zero."""

import numpy as np
import pytest

from sim.executors import SerialExecutor
from sim.explore import FunctionEvaluator, Lever, parse_lever, sensitivity
from sim.explore.levers import ExploreError
from sim.params import ParamError
from sim.report.explore_charts.sensitivity import morris_direction, sensitivity_index_title
from tests.explore.helpers import ishigami, ishigami_indices, linear, short

SERIAL = SerialExecutor()
Z = 4.0  # |estimate − truth| beyond Z standard errors fails


def test_sobol_indices_of_the_ishigami_function_match_their_known_values():
    """Same code path as the model (design, tasks, executor, streaming, SALib), another evaluator."""
    ev = FunctionEvaluator(ishigami, {"x1": 0.0, "x2": 0.0, "x3": 0.0})
    levers = [Lever(k, lo=-np.pi, hi=np.pi) for k in ("x1", "x2", "x3")]
    result = sensitivity(
        ev, levers, method="sobol", samples=4096, replications=1, seed=7, executor=SERIAL
    )
    assert result.evaluations == 4096 * (3 + 2)
    s1_true, st_true = ishigami_indices()
    assert np.allclose(s1_true, [0.314, 0.442, 0.0], atol=5e-4)
    assert np.allclose(st_true, [0.558, 0.442, 0.244], atol=5e-4)
    found = result.indices["y"]
    for name, truth in (("S1", s1_true), ("ST", st_true)):
        se = found[f"{name}_conf"] / 1.96  # SALib's 95% bootstrap interval half-width
        assert np.all(se < 0.03), f"{name} too imprecise to test: {se}"
        z = np.abs(found[name] - truth) / se
        assert np.all(z < Z), f"{name}: {found[name]} vs {truth} (SE {se})"
    ranked = result.ranked("y")
    assert ranked.lever.tolist() == ["x1", "x2", "x3"]
    assert ranked["rank"].tolist() == [1, 2, 3]
    assert list(ranked.columns) == [
        "rank",
        "lever",
        "importance",
        "importance_conf",
        "S1",
        "S1_conf",
        "ST",
        "ST_conf",
    ]


def test_morris_effects_of_a_linear_function_are_its_slopes_times_the_ranges():
    ev = FunctionEvaluator(linear, {"a": 0.0, "b": 0.0, "c": 0.0})
    levers = [Lever("a", lo=0.0, hi=2.0), Lever("b", lo=-1.0, hi=1.0), Lever("c", lo=0.0, hi=5.0)]
    result = sensitivity(
        ev, levers, method="morris", samples=12, replications=1, seed=3, executor=SERIAL
    )
    found = result.indices["y"]
    assert np.allclose(found["mu_star"], [3.0 * 2.0, 2.0 * 2.0, 0.0], atol=1e-9)
    assert np.allclose(found["mu"], [6.0, -4.0, 0.0], atol=1e-9)
    assert np.allclose(found["sigma"], 0.0, atol=1e-9)
    ranked = result.ranked("y")
    assert ranked.lever.tolist() == ["a", "b", "c"]
    # Raising a raises y, raising b lowers it, c does nothing: the ranking says which way.
    directions = [morris_direction(m, s) for m, s in zip(ranked.mu, ranked.mu_star, strict=True)]
    assert directions == ["rises", "falls", "n/a"]


def test_a_morris_effect_of_both_signs_has_no_direction():
    assert morris_direction(0.1, 1.0) == "either way"
    assert morris_direction(-0.79, 1.0) == "either way"
    assert morris_direction(-0.8, 1.0) == "falls" and morris_direction(0.95, 1.0) == "rises"
    assert morris_direction(float("nan"), 1.0) == "n/a"


def test_morris_on_the_model_gives_a_lever_that_cannot_act_exactly_zero_effect():
    """With event-triggered reviews off, their length changes nothing: on common random numbers
    every elementary effect is exactly 0, while discovery time moves value delivered."""
    levers = [parse_lever("reviews.event.hours=1:10"), parse_lever("org.discovery_share=0:0.4")]
    result = sensitivity(
        short(),
        levers,
        method="morris",
        samples=3,
        replications=2,
        seed=2,
        kpis=["value_delivered", "lead_time_days"],
        executor=SERIAL,
    )
    assert result.evaluations == 3 * (2 + 1)
    ranked = result.ranked("value_delivered")
    assert ranked.lever.tolist() == ["org.discovery_share", "reviews.event.hours"]
    dead = ranked.set_index("lever").loc["reviews.event.hours"]
    assert dead["mu_star"] == 0.0 and dead["sigma"] == 0.0
    assert ranked.set_index("lever").loc["org.discovery_share", "mu_star"] > 0
    d = result.to_dict()
    assert d["method"] == "morris" and d["importance"] == "mu_star"
    assert [row["lever"] for row in d["kpis"]["value_delivered"]] == ranked.lever.tolist()
    assert set(result.table().columns) >= {"kpi", "rank", "lever", "importance", "importance_conf"}


def test_undefined_kpis_are_left_out_with_a_reason():
    levers = [parse_lever("org.discovery_share=0:0.4")]
    result = sensitivity(
        short(), levers, method="morris", samples=2, replications=1, executor=SERIAL
    )
    assert result.indices["retention_52w"] is None
    assert "52 weeks" in result.reasons["retention_52w"]
    assert result.ranked("retention_52w").empty
    with pytest.raises(ExploreError, match="retention_52w"):
        sensitivity(short(), levers, kpis=["retention_52w"], samples=2, executor=SERIAL)


def test_bad_sensitivity_input_is_rejected():
    base = short()
    rng = [parse_lever("org.discovery_share=0:0.4")]
    with pytest.raises(ParamError, match="samples numeric ranges lo:hi only"):
        sensitivity(base, [parse_lever("incentives.sales=mixed,local_metric")], executor=SERIAL)
    with pytest.raises(ExploreError, match="power of two"):
        sensitivity(base, rng, method="sobol", samples=100, executor=SERIAL)
    with pytest.raises(ExploreError, match="is not a method"):
        sensitivity(base, rng, method="fast", executor=SERIAL)
    with pytest.raises(ExploreError, match="--samples"):
        sensitivity(base, rng, method="morris", samples=1, executor=SERIAL)
    with pytest.raises(ExploreError, match="even"):
        sensitivity(base, rng, method="morris", levels=3, executor=SERIAL)
    with pytest.raises(ValueError, match="at most 1,000,000"):
        sensitivity(base, rng, method="sobol", samples=65536, replications=100, executor=SERIAL)


def test_a_sobol_ranking_with_impossible_shares_or_wide_intervals_is_flagged():
    import pandas as pd

    from sim.report.explore_charts import sobol_caution

    steady = pd.DataFrame({"ST": [0.7, 0.2], "ST_conf": [0.05, 0.04]})
    assert sobol_caution(steady) is None
    over = pd.DataFrame({"ST": [1.03 + 0.1, 0.2], "ST_conf": [0.05, 0.04]})
    assert "a share above 100% or below 0" in sobol_caution(over)
    wide = pd.DataFrame({"ST": [0.6, 0.2], "ST_conf": [0.4, 0.04]})
    assert "an interval wider than ±25%" in sobol_caution(wide)


def test_a_kpi_named_in_a_title_keeps_an_initialisms_capitals():
    assert sensitivity_index_title("sobol", "ltv_to_cac") == "Share of the variance of LTV / CAC"
    assert sensitivity_index_title("sobol", "value_delivered").endswith("of value delivered")
