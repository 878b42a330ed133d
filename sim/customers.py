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

:meth:`CustomerBase.week` advances one week at a time, for runs in which event-triggered reviews read the
week's activation and churn; :meth:`CustomerBase.weeks` does every week at once after a run, from the
same draws, with the same results.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

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
        u, theta = self._draw(week, rate)
        oversold, ttv, not_activated, hazard = self._profiles(u, theta, oversold_share, ttv_median)
        n = theta.size
        self.sizes[week] = n
        self.oversold[week] = int(np.count_nonzero(oversold))
        self.activated[week] = n - int(np.count_nonzero(not_activated))
        if n:
            self.ttv.append(ttv)
            self._max_hazard = max(self._max_hazard, float(hazard.max()))
            self._admit(week, hazard, u[:, 2])
        activation = int(self.activated[week]) / n if n else math.nan
        median = float(_cohort_medians(ttv, np.array([n]))[0])
        return (n, activation, median, *self._churn(week, core_multiplier))

    def weeks(
        self,
        rates: Sequence[float],
        ttv_medians: Sequence[float],
        oversold_shares: Sequence[float],
        core_multipliers: Sequence[float],
    ) -> list[tuple[int, float, float, int, int, float]]:
        """Every week at once, from each week's inputs (as :meth:`week` gives them one by one).

        For when nothing needs the customers' outcomes while the organisation runs: the random
        numbers are drawn week by week as in :meth:`week`, then the customers' profiles and each
        cohort's records (size, activation, median time-to-value) are worked out for all cohorts in
        one go; only the churn goes week by week. The results are the same, number for number. Only
        for a customer base that has not run a week yet.
        """
        if self.alive or self.ttv:
            raise RuntimeError("CustomerBase.weeks runs every week from the start, once")
        draws = self._draw_all(rates)
        sizes = np.array([theta.size for _, theta in draws], dtype=np.int64)
        weeks = sizes.size
        u = np.concatenate([u for u, _ in draws])
        oversold, ttv, not_activated, hazard = self._profiles(
            u,
            np.concatenate([theta for _, theta in draws]),
            np.repeat(np.asarray(oversold_shares, dtype=float), sizes),
            np.repeat(np.asarray(ttv_medians, dtype=float), sizes),
        )
        # Each cohort's records, for all cohorts at once.
        cohort = np.repeat(np.arange(weeks), sizes)
        self.sizes[:weeks] = sizes
        self.oversold[:weeks] = np.bincount(cohort[oversold], minlength=weeks)
        self.activated[:weeks] = sizes - np.bincount(cohort[not_activated], minlength=weeks)
        if ttv.size:
            self.ttv.append(ttv)
        activation = np.divide(
            self.activated[:weeks], sizes, out=np.full(weeks, math.nan), where=sizes > 0
        ).tolist()
        medians = _cohort_medians(ttv, sizes).tolist()
        # A bound on every hazard of every cohort: the buffers will never hold a larger one.
        self._max_hazard = float(hazard.max(initial=0.0))
        # Then week by week: the week's cohort joins the buffers, and everyone alive faces churn.
        threshold = u[:, 2]
        out = []
        start = 0
        for week, n in enumerate(sizes.tolist()):
            if n:
                stop = start + n
                self._admit(week, hazard[start:stop], threshold[start:stop])
                start = stop
            churn = self._churn(week, core_multipliers[week])
            out.append((n, activation[week], medians[week], *churn))
        return out

    def _draw(self, week: int, rate: float) -> tuple[np.ndarray, np.ndarray]:
        """The week's random numbers: sign-ups ~ Poisson(rate) (by inversion), then per sign-up three
        uniforms (oversold, time-to-value, churn threshold) and a churn propensity theta."""
        p = self.p
        rng = self._signups.at_week(week)
        n = _poisson_quantile(rng.random(), rate)
        if not n:
            return _NO_UNIFORMS, _NO_THETA
        u = rng.random((n, 3))
        return u, self._theta.at_week(week).beta(p.churn_alpha, p.churn_beta, n)

    def _draw_all(self, rates: Sequence[float]) -> list[tuple[np.ndarray, np.ndarray]]:
        """:meth:`_draw` for every week, number for number, with the sign-up counts worked out
        together: each week's first uniform, then its customers' uniforms and propensities."""
        p = self.p
        counts = _poisson_quantiles(
            self._signups.first_uniforms(len(rates)), np.asarray(rates, dtype=float)
        ).tolist()
        blocks = self._signups.blocks_after_first(counts, 3)
        theta = self._theta
        return [
            (u, theta.at_week(week).beta(p.churn_alpha, p.churn_beta, n))
            if n
            else (_NO_UNIFORMS, _NO_THETA)
            for week, (n, u) in enumerate(zip(counts, blocks, strict=True))
        ]

    def _profiles(
        self,
        u: np.ndarray,
        theta: np.ndarray,
        oversold_share: float | np.ndarray,
        ttv_median: float | np.ndarray,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Each new customer's fit, time-to-value, activation and weekly churn hazard.

        Returns:
            (oversold, time-to-value in days, not activated, hazard); ``theta`` becomes the hazard.
        """
        p = self.p
        oversold = u[:, 0] < oversold_share
        ttv = special.ndtri(u[:, 1])
        ttv *= p.ttv_log_sd
        np.exp(ttv, out=ttv)
        ttv *= ttv_median
        if p.oversold_ttv_multiplier != 1.0:
            np.multiply(ttv, p.oversold_ttv_multiplier, out=ttv, where=oversold)
        not_activated = ttv > p.habit_threshold_days
        if p.not_activated_churn_multiplier != 1.0:
            np.multiply(theta, p.not_activated_churn_multiplier, out=theta, where=not_activated)
        if p.oversold_churn_multiplier != 1.0:
            np.multiply(theta, p.oversold_churn_multiplier, out=theta, where=oversold)
        return oversold, ttv, not_activated, theta

    def _admit(self, week: int, hazard: np.ndarray, threshold: np.ndarray) -> None:
        """Add a cohort to the working buffers (``_max_hazard`` must already bound its hazards)."""
        start = self.alive
        stop = start + hazard.size
        if stop > self._hazard.size:
            self._grow(stop)
        self._hazard[start:stop] = hazard
        self._surv[start:stop] = 1.0
        self._threshold[start:stop] = threshold
        self._cohort[start:stop] = week
        self.alive = stop

    def _churn(self, week: int, core_multiplier: float) -> tuple[int, int, float]:
        """One week of churn for everyone alive.

        Returns:
            (churned, alive after churn, churn rate among those alive before churn).
        """
        before = self.alive
        alive_before = before - self.departed
        if alive_before == 0:
            return 0, 0, 0.0
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
        return churned, alive_before - churned, churned / alive_before

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


_NO_UNIFORMS = np.empty((0, 3))
_NO_THETA = np.empty(0)


def _cohort_medians(values: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """The median of each cohort's values (the cohorts one after another in ``values``, ``sizes``
    long); NaN for an empty cohort.

    Each cohort is sorted in a row of its own, padded with NaN (which sorts last), so one sort serves
    every cohort; a median is the middle value, or the mean of the two middle values, as
    ``np.median`` of the cohort alone gives it.
    """
    count = sizes.size
    width = max(int(sizes.max(initial=0)), 1)
    grid = np.full((count, width), math.nan)
    # Cohort c's values go to the start of row c: their flat positions shift by c x width - start.
    shift = np.arange(count) * width - (np.cumsum(sizes) - sizes)
    grid.ravel()[np.arange(values.size) + np.repeat(shift, sizes)] = values
    grid.sort(axis=1)
    rows = np.arange(count)
    half = sizes // 2
    upper = grid[rows, half]
    lower = grid[rows, np.maximum(half - 1, 0)]
    return np.where(sizes % 2 == 1, upper, 0.5 * (lower + upper))


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


def _poisson_quantiles(u: np.ndarray, means: np.ndarray) -> np.ndarray:
    """:func:`_poisson_quantile` of each pair (``u[i]``, ``means[i]``), number for number, in one
    pass: the same first guesses and the same integer steps, for all pairs at once."""
    if not np.isfinite(means).all():  # as the scalar function, which cannot take them either
        raise ValueError(f"a Poisson mean must be finite, not {means[~np.isfinite(means)][0]}")
    k = np.zeros(u.size, dtype=np.int64)
    some = means > 0.0
    if not some.any():
        return k
    u, means = u[some], means[some]
    guess = np.maximum(np.ceil(special.pdtrik(u, means)).astype(np.int64), 0)
    while (down := (guess > 0) & (special.pdtr(guess - 1, means) >= u)).any():
        guess[down] -= 1
    while (up := special.pdtr(guess, means) < u).any():
        guess[up] += 1
    k[some] = guess
    return k
