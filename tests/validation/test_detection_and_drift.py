"""Detection delay T (1/p - 1/2) and the drifting-goals trajectory of alignment."""

import numpy as np
import pytest

from sim.runner import run_many
from sim.validation import detection_delay, drifting_goal
from tests.helpers import ALL_LOCAL, NO_REVIEWS, Z_LIMIT, mean_se, params


def first_episode_lags(results) -> np.ndarray:
    """Per replication, the mean over teams of the first drift episode's onset-to-correction days."""
    log = results.event_log()
    out = []
    for _, rep in log.groupby("replication"):
        lags = []
        for _, team in rep[rep.team != ""].groupby("team"):
            onsets = team[team.kind == "drift_onset"].day
            fixes = team[team.kind == "correction"].day
            if onsets.empty:
                continue
            onset = onsets.iloc[0]
            after = fixes[fixes > onset]
            assert not after.empty, "drift never caught: horizon too short for this check"
            lags.append(after.iloc[0] - onset)
        out.append(np.mean(lags))
    return np.array(out)


@pytest.mark.slow
@pytest.mark.parametrize(("interval_weeks", "p"), [(4.0, 0.35), (2.5, 0.6), (6.0, 0.8)])
def test_mean_detection_delay(interval_weeks, p):
    """Drift starts at week 1 (kappa = 1 jumps alignment to the local metric's, fully visible);
    only the council meets, at a random phase, noticing each drifting team with probability p."""
    pr = params(
        {
            **ALL_LOCAL,
            **NO_REVIEWS,
            "reviews.council.enabled": True,
            "reviews.council.interval_weeks": interval_weeks,
            "reviews.council.detection_probability": p,
            "reviews.council.correction_strength": 1.0,
            "reviews.instrumentation_quality": 1.0,
            "incentives.drift_rate_per_week": 1.0,
            "incentives.drift_noise_sd": 0.0,
            "incentives.initial_alignment": 0.9,
            "incentives.strategic_anchor": 0.9,
            "horizon_weeks": 78,
            "customers.signups_per_week": 10.0,
        }
    )
    res = run_many(pr, replications=120, seed=int(interval_weeks * 100 + p * 10))
    lags = first_episode_lags(res)
    est, se = mean_se(lags)
    exp = detection_delay(interval_weeks * 7.0, p)
    assert abs(est - exp) / se < Z_LIMIT, f"delay {est:.2f} ± {se:.2f} days, closed form {exp:.2f}"


def test_detection_delay_reference():
    assert detection_delay(28.0, 0.5) == pytest.approx(42.0)
    assert detection_delay(7.0, 1.0) == pytest.approx(3.5)


@pytest.mark.slow
@pytest.mark.parametrize(("kappa", "a0", "local"), [(0.1, 0.9, 0.3), (0.035, 0.75, 0.45)])
def test_alignment_follows_drifting_goals_without_reviews(kappa, a0, local):
    sd = 0.02
    pr = params(
        {
            **ALL_LOCAL,
            **NO_REVIEWS,
            "incentives.drift_rate_per_week": kappa,
            "incentives.drift_noise_sd": sd,
            "incentives.initial_alignment": a0,
            "incentives.local_metric_alignment": local,
            "horizon_weeks": 60,
            "customers.signups_per_week": 10.0,
        }
    )
    res = run_many(pr, replications=40, seed=77)
    # Every team's alignment at the end of week w has had w + 1 weekly updates.
    weeks = np.arange(0, 60, 3)
    teams = res.alignment[:, :, weeks]  # (reps, teams, weeks)
    expected = drifting_goal(a0, local, kappa, weeks + 1)
    for j, w in enumerate(weeks):
        values = teams[:, :, j].ravel()  # teams are independent given the same settings
        est, se = mean_se(values)
        se = max(se, sd / 50)
        z = (est - expected[j]) / se
        assert abs(z) < Z_LIMIT, f"week {w}: {est:.4f} ± {se:.4f} vs {expected[j]:.4f}"
    # Converges to a_local (P2 without reviews): the last weeks sit at the local metric's alignment.
    tail, tail_se = mean_se(teams[:, :, -1].ravel())
    assert abs(tail - drifting_goal(a0, local, kappa, 60)) < 4 * tail_se + 1e-3
