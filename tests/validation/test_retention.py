"""Cohort retention with neutral multipliers equals the shifted-beta-geometric curve (Fader & Hardie)."""

import numpy as np
import pytest

from sim.scenarios import load_preset
from sim.validation import sbg_retention_rate, sbg_survival
from tests.helpers import Z_LIMIT, mean_se, params

PUBLISHED = {
    (2.0, 3.0): [0.6, 0.4, 0.285714, 0.214286, 0.166667, 0.133333, 0.109091],
    (0.668, 3.806): [0.850693, 0.746882, 0.669817, 0.609951, 0.561869, 0.522252, 0.488945],
}


@pytest.mark.parametrize(("alpha", "beta"), list(PUBLISHED))
def test_closed_form_reproduces_published_values(alpha, beta):
    got = sbg_survival(alpha, beta, np.arange(1, 8))
    np.testing.assert_allclose(got, PUBLISHED[(alpha, beta)], atol=5e-7)
    # r_t = S(t) / S(t - 1)
    s = sbg_survival(alpha, beta, np.arange(0, 8))
    np.testing.assert_allclose(s[1:] / s[:-1], sbg_retention_rate(alpha, beta, np.arange(1, 8)))


# Published pairs plus pairs that appear nowhere in the docs.
CASES = [(2.0, 3.0), (0.668, 3.806), (1.37, 8.2), (0.45, 1.9), (5.5, 40.0)]


@pytest.mark.slow
@pytest.mark.parametrize(("alpha", "beta"), CASES)
def test_simulated_survival_matches_sbg(alpha, beta):
    base = load_preset("validation-neutral").params
    p = params(
        {
            "customers.churn_alpha": alpha,
            "customers.churn_beta": beta,
            "horizon_weeks": 26,
            "customers.signups_per_week": 300.0,
        },
        base=base,
    )
    from sim.runner import run_many

    res = run_many(p, replications=16, seed=20240 + int(alpha * 100))
    ages = np.arange(1, 13)
    expected = sbg_survival(alpha, beta, ages)
    for age, exp in zip(ages, expected, strict=True):
        est, se = mean_se(res.retention[:, age])
        z = (est - exp) / se
        assert abs(z) < Z_LIMIT, (
            f"S({age}) = {est:.5f} ± {se:.5f}, closed form {exp:.5f}, z = {z:.1f}"
        )


@pytest.mark.slow
def test_retention_52w_kpi_matches_sbg_at_52_weeks():
    alpha, beta = 0.83, 11.7  # not a published pair
    base = load_preset("validation-neutral").params
    p = params({"customers.churn_alpha": alpha, "customers.churn_beta": beta}, base=base)
    from sim.runner import run_many

    res = run_many(p, replications=12, seed=99)
    est, se = mean_se(res.kpi_values[:, 0])
    exp = float(sbg_survival(alpha, beta, 52))
    assert abs(est - exp) / se < Z_LIMIT, f"retention_52w {est:.4f} ± {se:.4f} vs {exp:.4f}"


def test_multipliers_break_the_sbg_curve():
    """The check has power: with the default churn multipliers survival falls below sBG."""
    from sim.runner import run_many

    p = params({"horizon_weeks": 26})
    res = run_many(p, replications=6, seed=5)
    c = p.customers
    expected = sbg_survival(c.churn_alpha, c.churn_beta, 8)
    est, se = mean_se(res.retention[:, 8])
    assert (expected - est) / se > 5
