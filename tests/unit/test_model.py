"""The model's run wrapper (the cyclic garbage collector is paused during a replication only) and its
event log, packed into one string between processes."""

from __future__ import annotations

import gc
import pickle
import threading

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import sim.model as model
from sim.model import EventLog, simulate
from sim.streams import replication_seeds
from tests.helpers import params


@pytest.fixture
def collector_state():
    """Leave the collector as the test found it."""
    was = gc.isenabled()
    yield
    if was:
        gc.enable()
    else:
        gc.disable()


@pytest.mark.parametrize("enabled", [True, False])
def test_a_replication_runs_with_the_collector_paused_and_restores_it(
    monkeypatch, collector_state, enabled
):
    seen = []
    run = model.World.run

    def spy(self):
        seen.append(gc.isenabled())
        return run(self)

    monkeypatch.setattr(model.World, "run", spy)
    gc.enable() if enabled else gc.disable()
    rep = model.simulate(params({"horizon_weeks": 13}), replication_seeds(1, 1)[0])
    assert seen == [False]
    assert gc.isenabled() is enabled
    assert rep.series.shape[1] == 13


def test_nested_pauses_resume_the_collector_only_when_the_last_ends(collector_state):
    gc.enable()
    with model.cyclic_gc_paused():
        with model.cyclic_gc_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()


def test_a_failing_replication_still_resumes_the_collector(monkeypatch, collector_state):
    def boom(self):
        raise RuntimeError("boom")

    monkeypatch.setattr(model.World, "run", boom)
    gc.enable()
    with pytest.raises(RuntimeError, match="boom"):
        model.simulate(params({"horizon_weeks": 13}), replication_seeds(1, 1)[0])
    assert gc.isenabled()


def test_overlapping_pauses_in_threads_resume_the_collector_once_both_end(collector_state):
    gc.enable()
    first_in, second_in, first_out = threading.Event(), threading.Event(), threading.Event()
    states = {}

    def first():
        with model.cyclic_gc_paused():
            first_in.set()
            second_in.wait(5)
        states["after first"] = gc.isenabled()
        first_out.set()

    def second():
        first_in.wait(5)
        with model.cyclic_gc_paused():
            second_in.set()
            first_out.wait(5)
            states["second, after first ended"] = gc.isenabled()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert states == {"after first": False, "second, after first ended": False}
    assert gc.isenabled()


def test_a_finished_replication_leaves_almost_nothing_for_the_collector(collector_state):
    """The world is freed by reference counting as the run ends: without its cycles broken, the
    collector would have thousands of its objects (processes, events, frames, items) to trace."""
    p = params({"reviews.event.enabled": True})  # every process type, with the customers weekly
    seeds = replication_seeds(3, 2)
    gc.collect()
    gc.disable()
    model.simulate(p, seeds[0])
    model.simulate(params(), seeds[1])
    left = gc.collect()
    assert left < 300, f"{left} objects of two finished replications needed the cyclic collector"


_TEXT = st.text(st.characters(blacklist_characters="\x1f", blacklist_categories=("Cs",)))
_EVENT = st.tuples(st.floats(allow_nan=False), st.integers(0, 10_000), _TEXT, _TEXT, _TEXT)


@settings(max_examples=200, deadline=None)
@given(st.lists(_EVENT, max_size=20))
def test_an_event_log_packs_and_unpacks_exactly(events):
    log = EventLog.pack(events)
    assert log.unpack() == events
    assert pickle.loads(pickle.dumps(log)).unpack() == events
    for kind in {e[2] for e in events} | {"absent"}:
        assert log.has(kind) == any(e[2] == kind for e in events)


def test_packing_refuses_an_event_text_with_the_separator():
    with pytest.raises(ValueError, match="separator"):
        EventLog.pack([(1.0, 0, "review.metric", "", "no drift\x1fdetected")])


def test_an_event_kind_is_found_only_as_a_kind():
    log = EventLog.pack(
        [(3.5, 0, "review.metric", "review.event", "review.event"), (9.0, 1, "escalation", "", "")]
    )
    assert log.has("escalation") and log.has("review.metric")
    assert not log.has("review.event")  # named only as a team and in the detail
    assert not log.has("review")
    assert not EventLog.pack([]).has("escalation")


def test_a_replications_events_survive_the_trip_between_processes():
    rep = simulate(params(), replication_seeds(3, 1)[0])
    back = pickle.loads(pickle.dumps(rep))
    assert back.events == rep.events and len(rep.events) > 50
    assert {e[2] for e in rep.events} >= {"review.metric", "review.council", "escalation"}
