"""One replication of the organisation: :func:`simulate`, and the model's public names.

:func:`simulate` builds a :class:`~sim.world.World` for one parameter set and one replication seed,
runs its SimPy processes for the horizon and returns a :class:`~sim.records.Replication` — weekly
series in preallocated arrays, cohort retention, KPIs and an event log. The model does no I/O and
reads no clock.

The engine itself (scheduling, processes, records) is :mod:`sim.world`.
"""

from __future__ import annotations

import contextlib
import gc
import threading
from collections.abc import Iterator

import numpy as np

from sim.params import Params
from sim.records import ITEM_COLUMNS, ITEM_STATES, Event, EventLog, Replication
from sim.work import ACTIVE, RELEASED
from sim.world import World

__all__ = [
    "ITEM_COLUMNS",
    "ITEM_STATES",
    "Event",
    "EventLog",
    "Replication",
    "World",
    "cyclic_gc_paused",
    "simulate",
]

assert ACTIVE == 2 and RELEASED == 3 and ITEM_STATES[ACTIVE] == "active"


def simulate(
    params: Params, rep: np.random.SeedSequence, record_items: bool = False
) -> Replication:
    """Run one replication of ``params`` with the replication's seed sequence."""
    with cyclic_gc_paused():
        return World(params, rep, record_items).run()


_gc_lock = threading.Lock()
_gc_pauses = 0  # replications running with the cyclic collector paused (threads of one process)
_gc_was_enabled = False


@contextlib.contextmanager
def cyclic_gc_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while a replication runs.

    A replication allocates tens of thousands of short-lived containers (events, heap entries, work
    items); the collector's passes over them, and over every long-lived object of the process, cost
    about a tenth of a replication's time. Memory is still freed by reference counting as the run
    goes, and a finished run breaks its own reference cycles (:func:`sim.world._dismantle`), so its world is
    freed at once too. Nested and concurrent runs in one process resume the collector when the last
    of them ends, and only if it was running before the first began.
    """
    global _gc_pauses, _gc_was_enabled
    with _gc_lock:
        if _gc_pauses == 0:
            _gc_was_enabled = gc.isenabled()
            gc.disable()
        _gc_pauses += 1
    try:
        yield
    finally:
        with _gc_lock:
            _gc_pauses -= 1
            if _gc_pauses == 0 and _gc_was_enabled:
                gc.enable()
