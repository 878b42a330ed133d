"""Running statistics that fold replications in as they arrive, in a fixed order.

Experiments never keep every replication: each block of KPI values is folded into a count, a mean and a
sum of squared deviations (Chan, Golub & LeVeque 1979's pairwise update), so memory does not grow with
the number of replications. Blocks are folded in task order, which the executors guarantee, so the
statistics are identical bit for bit whatever ran the work. Values that are NaN (a KPI that cannot be
computed in that replication, e.g. detection lag when no team drifted) are left out and counted apart.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from scipy import special

CONFIDENCE = 0.95


class Moments:
    """Count, mean and sum of squared deviations for an array of quantities, NaN-aware.

    Args:
        shape: the shape of one observation (e.g. ``(points, kpis)``).
    """

    def __init__(self, shape: tuple[int, ...]) -> None:
        self.count = np.zeros(shape)
        self.mean = np.zeros(shape)
        self.m2 = np.zeros(shape)

    def add(self, block: np.ndarray, axis: int = 0, at: Any = None) -> None:
        """Fold in a block of observations lying along ``axis``; NaN entries are skipped.

        Args:
            block: observations; without ``axis`` its shape is the observation shape (or that of
                the part selected by ``at``).
            axis: the axis along which observations lie.
            at: an index selecting the part of the statistics the block belongs to (e.g. one point).
        """
        x = np.moveaxis(np.asarray(block, dtype=float), axis, 0)
        sel = slice(None) if at is None else at
        count, mean, m2 = self.count[sel], self.mean[sel], self.m2[sel]
        if x.shape[1:] != np.shape(count):
            raise ValueError(f"block of shape {x.shape[1:]} does not match {np.shape(count)}")
        finite = np.isfinite(x)
        n_b = finite.sum(axis=0).astype(float)
        safe = np.where(finite, x, 0.0)
        with np.errstate(invalid="ignore", divide="ignore"):
            mean_b = np.where(n_b > 0, safe.sum(axis=0) / np.maximum(n_b, 1.0), 0.0)
            m2_b = np.where(finite, (safe - mean_b) ** 2, 0.0).sum(axis=0)
            n = count + n_b
            delta = mean_b - mean
            w = np.where(n > 0, n_b / np.maximum(n, 1.0), 0.0)
            self.mean[sel] = mean + delta * w
            self.m2[sel] = m2 + m2_b + delta**2 * count * w
        self.count[sel] = n

    @property
    def values(self) -> np.ndarray:
        """Means (NaN where nothing was observed)."""
        return np.where(self.count > 0, self.mean, np.nan)

    @property
    def sd(self) -> np.ndarray:
        """Sample standard deviations (NaN with fewer than two observations)."""
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(self.count > 1, np.sqrt(self.m2 / (self.count - 1)), np.nan)

    @property
    def se(self) -> np.ndarray:
        """Standard errors of the means."""
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(self.count > 1, self.sd / np.sqrt(self.count), np.nan)

    def ci(self, level: float = CONFIDENCE) -> tuple[np.ndarray, np.ndarray]:
        """Student-t confidence interval of the means: (lo, hi)."""
        half = self.half_width(level)
        return self.values - half, self.values + half

    def half_width(self, level: float = CONFIDENCE) -> np.ndarray:
        """Half-width of the confidence interval (0 when every observation was equal)."""
        dof = np.maximum(self.count - 1, 1)
        # Student's t quantile (what scipy.stats.t.ppf computes, without importing scipy.stats,
        # which would add half a second to opening the app).
        t = special.stdtrit(dof, 0.5 + level / 2.0)
        return np.where(self.count > 1, t * self.se, np.nan)

    def summary(self, index: Any, level: float = CONFIDENCE) -> dict[str, float | None]:
        """JSON-ready ``{n, mean, sd, se, ci_lo, ci_hi}`` of one entry (None where undefined)."""
        lo, hi = self.ci(level)
        return {
            "n": int(self.count[index]),
            "mean": clean(self.values[index]),
            "sd": clean(self.sd[index]),
            "se": clean(self.se[index]),
            "ci_lo": clean(lo[index]),
            "ci_hi": clean(hi[index]),
        }


def clean(x: Any) -> float | None:
    """A float for JSON: None for NaN or infinity."""
    if x is None:
        return None
    x = float(x)
    return x if math.isfinite(x) else None
