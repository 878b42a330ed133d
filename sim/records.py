"""What a replication leaves: its record (:class:`Replication`) and its packed event log.

Plain data, kept apart from the engine (:mod:`sim.world`) that fills them: they travel between
processes and into the app's cache as they are.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

Event = tuple[float, int, str, str, str]  # (day, week, kind, team, detail)

_SEP = "\x1f"  # the ASCII unit separator, which no event's text contains


@dataclass(frozen=True, eq=False)
class EventLog:
    """A replication's events, packed: days and weeks in arrays, and each event's kind, team and
    detail in turn in one string, apart by the ASCII unit separator. A run's hundreds of events then
    travel between processes, and into the app's cache, as three objects instead of a thousand."""

    days: np.ndarray
    weeks: np.ndarray
    text: str

    @classmethod
    def pack(cls, events: list[Event]) -> EventLog:
        """``events`` packed; refuses a text holding the separator."""
        text = _SEP.join([field for event in events for field in event[2:]])
        if events and text.count(_SEP) != 3 * len(events) - 1:
            raise ValueError("an event's text contains the unit separator")
        days = np.array([event[0] for event in events], dtype=float)
        return cls(days, np.array([event[1] for event in events], dtype=np.int64), text)

    def unpack(self) -> list[Event]:
        """The events as they were logged."""
        if not self.days.size:
            return []
        fields = self.text.split(_SEP)
        return list(
            zip(
                self.days.tolist(),
                self.weeks.tolist(),
                fields[0::3],
                fields[1::3],
                fields[2::3],
                strict=True,
            )
        )

    def has(self, kind: str) -> bool:
        """Whether an event of ``kind`` was logged."""
        # A text without it anywhere has no such kind (the usual case, and no split needed).
        text = self.text
        return bool(self.days.size) and kind in text and kind in text.split(_SEP)[0::3]


@dataclass
class Replication:
    """Everything one replication produced."""

    series: np.ndarray  # (len(SERIES_NAMES), weeks)
    alignment: np.ndarray  # (teams, weeks)
    team_names: tuple[str, ...]
    retention: np.ndarray  # (weeks + 1,) survival by customer age
    kpis: dict[str, float]
    event_log: EventLog  # packed (see ``events``)
    counts: dict[str, int]
    sim_events: int  # SimPy events processed
    items: list[tuple] | None = field(default=None)

    @property
    def events(self) -> list[Event]:
        """Reviews (with what they detected), escalations, corrections and shocks, in order."""
        return self.event_log.unpack()


# The columns of ``Replication.items`` (``simulate(..., record_items=True)``): one row per arrived
# opportunity, in order of arrival across teams (ties by team); ``id`` numbers the rows from 1.
ITEM_COLUMNS = (
    "id",
    "team",
    "kind",
    "epoch",
    "size",
    "value",
    "created",
    "escalated",
    "decided",
    "started",
    "released",
    "state",
)
ITEM_STATES = {
    0: "waiting",
    1: "queued",
    2: "active",
    3: "released",
    4: "stale",
    5: "rejected",
    6: "pruned",
}
