"""The model's run wrapper: the cyclic garbage collector is paused during a replication only."""

from __future__ import annotations

import gc
import threading

import pytest

import sim.model as model
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
