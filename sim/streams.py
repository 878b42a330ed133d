"""Named random-number streams for common random numbers.

A run's seed is split with ``SeedSequence(seed).spawn(replications)``; inside a replication every process
draws from its own named stream (``arrivals`` of team 2, ``drift`` of sales, ``customers`` of week 17 ...).
A baseline and a variant run with the same seed therefore share every draw that the changed lever does
not touch: changing the council's interval leaves every team's opportunity stream, every customer's
churn propensity and every drift wobble exactly as it was. That is what makes paired differences sharp.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

# Stream codes are part of the model's reproducibility contract: never renumber, only append.
STREAM_CODES = {
    "arrivals": 1,
    "drift": 2,
    "review.metric": 3,
    "review.council": 4,
    "review.strategy": 5,
    "review.event": 6,
    "customers": 7,
    "churn_propensity": 8,
    "market": 9,
}

# Distance between two weeks' positions in a week-indexed stream: far more draws than a week uses.
_WEEK_STRIDE = 1 << 64


def replication_seeds(seed: int, replications: int) -> list[np.random.SeedSequence]:
    """One independent SeedSequence per replication."""
    return np.random.SeedSequence(seed).spawn(replications)


def replication_seed(seed: int, index: int) -> np.random.SeedSequence:
    """Replication ``index``'s SeedSequence alone: equal to ``replication_seeds(seed, n)[index]``
    for any ``n`` above ``index``, without spawning the others."""
    return np.random.SeedSequence(seed, spawn_key=(index,))


def stream(rep: np.random.SeedSequence, name: str, index: int = 0) -> np.random.Generator:
    """The Generator of stream ``name`` (for team or item ``index``) in one replication."""
    key = (*rep.spawn_key, STREAM_CODES[name], index)
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(rep.entropy, spawn_key=key)))


class WeeklyStream:
    """A stream that restarts at a fixed position every week.

    Draws for week ``w`` do not depend on how many draws earlier weeks used, so a variant that signs up
    more customers in week 3 still gives week 4's customers the same random numbers as the baseline.
    """

    def __init__(self, rep: np.random.SeedSequence, name: str) -> None:
        self._bits = np.random.PCG64(
            np.random.SeedSequence(rep.entropy, spawn_key=(*rep.spawn_key, STREAM_CODES[name]))
        )
        self._start = self._bits.state
        self.rng = np.random.Generator(self._bits)

    def at_week(self, week: int) -> np.random.Generator:
        """The generator positioned at the start of ``week``."""
        self._bits.state = self._start
        self._bits.advance(week * _WEEK_STRIDE)
        return self.rng

    def first_uniforms(self, weeks: int) -> np.ndarray:
        """Each week's first uniform, weeks 0 to ``weeks - 1``: ``at_week(w).random()`` for each,
        stepping from one week's start to the next (a uniform takes one of PCG64's 64-bit outputs)."""
        bits, rng = self._bits, self.rng
        bits.state = self._start
        out = []
        for _ in range(weeks):
            out.append(rng.random())
            bits.advance(_WEEK_STRIDE - 1)
        return np.array(out)

    def blocks_after_first(self, rows: Sequence[int], width: int) -> list[np.ndarray]:
        """For each week ``w``, ``rows[w]`` rows of ``width`` uniforms drawn right after the week's
        first uniform: what ``at_week(w)``, ``random()``, ``random((rows[w], width))`` draw, with the
        generator moved on from week to week instead of set back to the stream's start."""
        bits, rng = self._bits, self.rng
        bits.state = self._start
        at = 0  # 64-bit outputs drawn since the stream's start (one per uniform)
        out = []
        for week, n in enumerate(rows):
            here = week * _WEEK_STRIDE + 1
            bits.advance(here - at)
            out.append(rng.random((n, width)))
            at = here + n * width
        return out
