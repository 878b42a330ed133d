"""With reviews off and alignment fixed, one team's work system is an M/M/c queue.

Checks Little's law (L = lambda W) — L from the model's own state counters sampled at every week's end,
lambda and W from the items' timestamps — and the mean wait against Erlang C.
The warm-up keeps the start-up transient out of the averages. Teams start the best-scored item, not
the oldest, so the mean wait is Erlang C's (any work-conserving order that ignores service times has
the same mean) but the tail is long: a wide end margin keeps the arrivals averaged over almost surely
finished, and any that are not count with their wait so far (a negligible downward bias).
"""

import numpy as np
import pytest

from sim.model import simulate
from sim.streams import replication_seeds
from sim.validation import mmc_wait
from tests.helpers import NO_REVIEWS, Z_LIMIT, mean_se, params

WARMUP_DAYS = 56.0
MARGIN_DAYS = 84.0


def mmc_params(c: int, lam_per_day: float, mu_per_day: float, team_size: int, weeks: int):
    """One team, WIP limit c, every slot building at 1/mu per item on average."""
    gross = team_size * 40.0 / 8.0 / 7.0  # person-days per day for the team
    size = gross / c / mu_per_day  # mean item size giving mean service time 1/mu
    return params(
        {
            **NO_REVIEWS,
            "horizon_weeks": weeks,
            "org.product_teams": 1,
            "org.team_size_people": team_size,
            "org.hours_per_person_week": 40.0,
            "org.wip_limit_per_team": c,
            "org.discovery_share": 0.0,
            "incentives.drift_rate_per_week": 0.0,
            "incentives.drift_noise_sd": 0.0,
            "decisions.rights": "delegated",
            "work.opportunities_per_team_week": lam_per_day * 7.0,
            "work.item_size_mean_person_days": size,
            "work.opportunity_lifetime_weeks": 520.0,
            "customers.signups_per_week": 10.0,
        }
    )


def queue_stats(p, reps: int, seed: int):
    """Per replication: (mean wait in queue, mean time in system, L, lambda_hat * W_hat)."""
    from sim.outcomes import SERIES_INDEX

    out = []
    end = p.horizon_weeks * 7.0
    for rep in replication_seeds(seed, reps):
        r = simulate(p, rep, record_items=True)
        items = np.array([(it[6], it[9], it[10]) for it in r.items])  # created, started, released
        created, started, released = items.T
        window = (created >= WARMUP_DAYS) & (created < end - MARGIN_DAYS)
        started = np.where(started >= 0, started, end)
        released = np.where(released >= 0, released, end)
        wq = (started - created)[window].mean()
        w = (released - created)[window].mean()
        # L: items in the system (waiting + in progress) at each week's end after the warm-up.
        weeks = slice(int(WARMUP_DAYS // 7), None)
        in_system = r.series[SERIES_INDEX["backlog"], weeks] + r.series[SERIES_INDEX["wip"], weeks]
        big_l = in_system.mean()
        lam_hat = window.sum() / (end - MARGIN_DAYS - WARMUP_DAYS)
        out.append((wq, w, big_l, lam_hat * w))
    return np.array(out)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("c", "lam", "mu", "team"),
    [
        (3, 2.0, 1.0, 7),  # published: Wq = 0.444444, W = 1.444444
        (10, 9.0, 1.0, 14),  # published: Wq = 0.668732
        (4, 2.6, 0.8, 8),  # not in the docs
    ],
)
def test_mmc_wait_matches_erlang_c_and_littles_law(c, lam, mu, team):
    p = mmc_params(c, lam, mu, team, weeks=130)
    stats = queue_stats(p, reps=20, seed=1000 + c)
    wq_exp, w_exp = mmc_wait(c, lam, mu)
    for col, exp, what in ((0, wq_exp, "Wq"), (1, w_exp, "W")):
        est, se = mean_se(stats[:, col])
        z = (est - exp) / se
        assert abs(z) < Z_LIMIT, (
            f"{what} = {est:.4f} ± {se:.4f} (SE), Erlang C {exp:.4f}, z = {z:.1f}"
        )
    # Little's law: the counters' L against lambda x W from the timestamps, paired per replication.
    gap, gap_se = mean_se(stats[:, 2] - stats[:, 3])
    assert abs(gap) / gap_se < Z_LIMIT, f"L - lambda W = {gap:.4f} ± {gap_se:.4f} (SE)"
    assert abs(gap) < 0.05 * lam * w_exp
    est, se = mean_se(stats[:, 2])
    assert abs(est - lam * w_exp) / se < Z_LIMIT, f"L = {est:.3f} ± {se:.3f} vs {lam * w_exp:.3f}"


def test_published_erlang_c_values():
    wq, w = mmc_wait(3, 2.0, 1.0)
    assert wq == pytest.approx(0.444444, abs=1e-6)
    assert w == pytest.approx(1.444444, abs=1e-6)
    assert mmc_wait(10, 9.0, 1.0)[0] == pytest.approx(0.668732, abs=1e-6)
    with pytest.raises(ValueError, match="lambda"):
        mmc_wait(2, 3.0, 1.0)
