"""Customers, simulated per cohort with NumPy arrays and advanced by one weekly process.

Sign-ups each week are Poisson(base x demand x growth pull x go-to-market push). Each new customer gets

* a churn propensity theta ~ Beta(alpha, beta) (the shifted-beta-geometric model, Fader & Hardie 2007);
* a fit: oversold with a share that rises as sales and marketing drift toward their local metrics;
* a time-to-value ~ log-normal, whose median falls as the onboarding stock grows and rises when oversold;
* activation: time-to-value within the habit threshold.

Weekly churn probability is ``theta x multipliers`` (not activated, oversold, weak core value). Churn is
drawn with one uniform "churn threshold" U per customer: a customer leaves in the first week in which
its survival so far, ``prod (1 - p_t)``, falls below U. That is exactly a Bernoulli(p_t) draw each week
— with every multiplier at 1 a cohort's survival is the shifted-beta-geometric curve — but the random
number belongs to the customer, not to the week, so a baseline and a variant keep the same customers
churning unless a lever changes their hazard (common random numbers).

Only alive customers are kept in the working arrays; deaths are tallied into a cohort x week matrix, from
which the survival curves and retention KPIs are computed once, at the end.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import special

from sim.params import Params
from sim.streams import WeeklyStream


class CustomerBase:
    """All customers of one replication."""

    def __init__(self, params: Params, horizon: int, signups: WeeklyStream, theta: WeeklyStream):
        self.p = params.customers
        self.horizon = horizon
        self._signups = signups
        self._theta = theta
        # Working arrays of alive customers, in preallocated buffers: static weekly churn
        # probability (theta x multipliers), survival so far, churn threshold, cohort.
        size = max(64, int(2 * params.customers.signups_per_week * 4))
        self._hazard = np.empty(size)
        self._surv = np.empty(size)
        self._threshold = np.empty(size)
        self._cohort = np.empty(size, dtype=np.int32)
        self._scratch = np.empty(size)
        self.alive = 0  # filled length of the buffers
        self._max_hazard = 0.0  # an upper bound on every hazard in the buffers
        self.departed = 0  # departed customers still in the buffers
        self.sizes = np.zeros(horizon, dtype=np.int64)
        self.deaths = np.zeros((horizon, horizon), dtype=np.int64)  # [cohort, week]
        self.activated = np.zeros(horizon, dtype=np.int64)
        self.oversold = np.zeros(horizon, dtype=np.int64)
        self.ttv: list[np.ndarray] = []

    def _grow(self, need: int) -> None:
        size = max(need, 2 * self._hazard.size)
        for name in ("_hazard", "_surv", "_threshold", "_cohort", "_scratch"):
            old = getattr(self, name)
            new = np.empty(size, dtype=old.dtype)
            new[: self.alive] = old[: self.alive]
            setattr(self, name, new)

    def week(
        self,
        week: int,
        rate: float,
        ttv_median: float,
        oversold_share: float,
        core_multiplier: float,
    ) -> tuple[int, float, float, int, int, float]:
        """Sign up this week's cohort, then apply one week of churn to everyone alive.

        Returns:
            (sign-ups, activation rate, median time-to-value, churned, alive after churn,
            churn rate among those alive before churn).
        """
        p = self.p
        rng = self._signups.at_week(week)
        n = _poisson_quantile(rng.random(), rate)
        start = self.alive
        if n:
            u = rng.random((n, 3))
            oversold = u[:, 0] < oversold_share
            ttv = special.ndtri(u[:, 1])
            ttv *= p.ttv_log_sd
            np.exp(ttv, out=ttv)
            ttv *= ttv_median
            if p.oversold_ttv_multiplier != 1.0:
                np.multiply(ttv, p.oversold_ttv_multiplier, out=ttv, where=oversold)
            not_activated = ttv > p.habit_threshold_days
            theta = self._theta.at_week(week).beta(p.churn_alpha, p.churn_beta, n)
            if p.not_activated_churn_multiplier != 1.0:
                np.multiply(theta, p.not_activated_churn_multiplier, out=theta, where=not_activated)
            if p.oversold_churn_multiplier != 1.0:
                np.multiply(theta, p.oversold_churn_multiplier, out=theta, where=oversold)
            stop = start + n
            if stop > self._hazard.size:
                self._grow(stop)
            self._hazard[start:stop] = theta
            self._max_hazard = max(self._max_hazard, float(theta.max()))
            self._surv[start:stop] = 1.0
            self._threshold[start:stop] = u[:, 2]
            self._cohort[start:stop] = week
            self.alive = stop
            n_act = n - int(np.count_nonzero(not_activated))
            self.sizes[week] = n
            self.activated[week] = n_act
            self.oversold[week] = int(np.count_nonzero(oversold))
            self.ttv.append(ttv)
            activation = n_act / n
            half = n // 2
            part = np.partition(ttv, (half - 1, half) if n > 1 else half)
            median_ttv = float(part[half] if n % 2 else 0.5 * (part[half - 1] + part[half]))
        else:
            activation = math.nan
            median_ttv = math.nan
        before = self.alive
        alive_before = before - self.departed
        if alive_before == 0:
            return n, activation, median_ttv, 0, 0, 0.0
        hazard = self._hazard[:before]
        surv = self._surv[:before]
        # This week's survival factor, 1 - min(hazard x core multiplier, 1), in a scratch buffer.
        factor = self._scratch[:before]
        if core_multiplier == 1.0:
            np.subtract(1.0, hazard, out=factor)
        else:
            np.multiply(hazard, core_multiplier, out=factor)
            if self._max_hazard * core_multiplier >= 1.0:  # otherwise no one's hazard reaches 1
                np.minimum(factor, 1.0, out=factor)
            np.subtract(1.0, factor, out=factor)
        surv *= factor
        dead = (surv < self._threshold[:before]).nonzero()[0]
        churned = dead.size
        if churned:
            self.deaths[:, week] = np.bincount(self._cohort[dead], minlength=self.horizon)
            # The departed stay in the buffers, unable to churn again, until compaction.
            hazard[dead] = 0.0
            surv[dead] = np.inf
            self.departed += churned
            if self.departed > before // 4:
                self._compact()
        return n, activation, median_ttv, churned, alive_before - churned, churned / alive_before

    def _compact(self) -> None:
        """Drop departed customers from the working buffers."""
        n = self.alive
        keep = np.isfinite(self._surv[:n])
        alive = int(np.count_nonzero(keep))
        for buf in (self._hazard, self._surv, self._threshold, self._cohort):
            buf[:alive] = buf[:n][keep]
        self.alive = alive
        self.departed = 0

    @property
    def active(self) -> int:
        """Customers alive now."""
        return self.alive - self.departed


def _poisson_quantile(u: float, mean: float) -> int:
    """Inverse CDF of Poisson(mean) at u: monotone in ``mean``, so a variant's count stays coupled."""
    if mean <= 0.0:
        return 0
    k = math.ceil(special.pdtrik(u, mean))
    k = max(k, 0)
    # pdtrik solves the continuous relaxation; step to the exact integer quantile.
    while k > 0 and special.pdtr(k - 1, mean) >= u:
        k -= 1
    while special.pdtr(k, mean) < u:
        k += 1
    return int(k)
