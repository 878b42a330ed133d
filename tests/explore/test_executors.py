"""Executors: the same seed gives the same numbers in-process, on a local pool and on a Dask cluster;
runs can be cancelled; submissions stay bounded; bad scheduler addresses are rejected clearly."""

import threading
import warnings

import numpy as np
import pytest

from sim.executors import (
    SCHEDULER_ENV,
    Cancelled,
    DaskExecutor,
    ExecutorError,
    PoolExecutor,
    SerialExecutor,
    TaskExecutor,
    check_address,
    make_executor,
)
from sim.explore import attribute, parse_lever, sweep
from sim.runner import run_many
from tests.explore.helpers import short

LEVERS = ["reviews.council.interval_weeks=2,8", "incentives.product=shared_outcome,local_metric"]


@pytest.fixture(scope="module")
def dask_client():
    """A two-worker Dask cluster on loopback (separate processes), closed after the module."""
    distributed = pytest.importorskip("distributed")
    with warnings.catch_warnings():
        # The scheduler's HTTP endpoint moves off port 8787 when another test's cluster holds it.
        warnings.filterwarnings("ignore", message="Port 8787 is already in use")
        cluster = distributed.LocalCluster(
            processes=True,
            n_workers=2,
            threads_per_worker=1,
            dashboard_address=None,
            host="127.0.0.1",
            silence_logs=50,
        )
    client = distributed.Client(cluster, set_as_default=False)
    try:
        yield client
    finally:
        client.close()
        cluster.close()


def _sweep(executor):
    return sweep(
        short(), [parse_lever(t) for t in LEVERS], replications=5, seed=17, executor=executor
    )


def _same(a, b):
    for what in ("count", "mean", "m2"):
        assert np.array_equal(getattr(a.stats, what), getattr(b.stats, what), equal_nan=True), what


@pytest.mark.slow
def test_serial_local_pool_and_dask_give_identical_results(dask_client):
    serial = _sweep(SerialExecutor())
    local = _sweep(PoolExecutor(2))
    dask = DaskExecutor(client=dask_client)
    assert dask.workers == 2
    on_dask = _sweep(dask)
    _same(serial, local)
    _same(serial, on_dask)
    assert serial.table().equals(on_dask.table())
    assert on_dask.manifest["executor"] == "dask" and local.manifest["executor"] == "local"
    # Attribution too (tasks hold every subset of a block of replications).
    variant = {"incentives.sales": "local_metric", "org.discovery_share": 0.2}
    a = attribute(short(), variant, replications=3, seed=2, executor=SerialExecutor())
    b = attribute(short(), variant, replications=3, seed=2, executor=dask)
    assert np.array_equal(a.shapley.mean, b.shapley.mean, equal_nan=True)
    # And plain runs: run_many accepts the executor interface.
    p = short({"incentives.product": "local_metric"})
    r1 = run_many(p, replications=4, seed=8)
    r2 = run_many(p, replications=4, seed=8, executor=dask)
    assert np.array_equal(r1.kpi_values, r2.kpi_values, equal_nan=True)
    assert np.array_equal(r1.series, r2.series, equal_nan=True)


@pytest.mark.slow
def test_cancelling_a_dask_run_cancels_its_futures(dask_client):
    dask = DaskExecutor(client=dask_client)
    cancel = threading.Event()
    seen = []

    def progress(done, total):
        seen.append(done)
        cancel.set()

    with pytest.raises(Cancelled):
        sweep(
            short(),
            [parse_lever("org.discovery_share=0:0.4:8")],
            replications=8,
            seed=1,
            executor=dask,
            progress=progress,
            cancel=cancel,
        )
    assert len(seen) == 1

    # Nothing of the run is left on the cluster once the cancellation has gone through.
    def idle(dask_scheduler):
        return sum(len(ws.processing) for ws in dask_scheduler.workers.values())

    import time

    for _ in range(100):
        if dask_client.run_on_scheduler(idle) == 0:
            break
        time.sleep(0.1)
    assert dask_client.run_on_scheduler(idle) == 0
    # The executor is still usable.
    assert _sweep(dask).stats.count.min() >= 0


@pytest.mark.slow
def test_cancelling_a_local_pool_run_leaves_the_pool_usable():
    pool = PoolExecutor(2)
    cancel = threading.Event()
    with pytest.raises(Cancelled):
        sweep(
            short(),
            [parse_lever("org.discovery_share=0:0.4:8")],
            replications=8,
            seed=1,
            executor=pool,
            progress=lambda done, total: cancel.set(),
            cancel=cancel,
        )
    again = sweep(
        short(), [parse_lever("org.discovery_share=0,0.2")], replications=2, seed=3, executor=pool
    )
    serial = sweep(
        short(),
        [parse_lever("org.discovery_share=0,0.2")],
        replications=2,
        seed=3,
        executor=SerialExecutor(),
    )
    _same(again, serial)


def test_cancel_before_start_and_between_tasks():
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(Cancelled):
        _sweep_serial(cancel)
    cancel = threading.Event()
    calls = []

    def progress(done, total):
        calls.append(done)
        if len(calls) == 2:
            cancel.set()

    with pytest.raises(Cancelled):
        _sweep_serial(cancel, progress)
    assert len(calls) == 2


def _sweep_serial(cancel, progress=None):
    # Four tasks (one replication of the four points each), so a cancel can come between two.
    return sweep(
        short(),
        [parse_lever("org.discovery_share=0:0.4:4")],
        replications=4,
        seed=1,
        executor=SerialExecutor(),
        cancel=cancel,
        progress=progress,
    )


class _Counting(SerialExecutor):
    """Records how many tasks were submitted but not yet handed back."""

    def __init__(self, window):
        self.window, self.outstanding, self.most = window, 0, 0

    def default_window(self):
        return self.window

    def _submit(self, fn, args):
        self.outstanding += 1
        self.most = max(self.most, self.outstanding)
        return super()._submit(fn, args)


def test_submissions_stay_within_the_window_and_results_come_in_order():
    ex = _Counting(window=3)
    out = []
    for value in ex.imap(_square, [(i,) for i in range(20)]):
        out.append(value)
        ex.outstanding -= 1
    assert out == [i * i for i in range(20)]
    assert ex.most == 3


def _square(x):
    return x * x


def test_worker_errors_reach_the_caller():
    with pytest.raises(ZeroDivisionError):
        list(SerialExecutor().imap(_inverse, [(1,), (0,)]))


def _inverse(x):
    return 1 / x


def test_make_executor_and_scheduler_addresses(monkeypatch):
    monkeypatch.delenv(SCHEDULER_ENV, raising=False)
    assert isinstance(make_executor(1), SerialExecutor)
    local = make_executor(2)
    assert isinstance(local, PoolExecutor) and local.workers == 2
    assert isinstance(local, TaskExecutor)
    for bad in ("foo", "127.0.0.1:8786", "tcp://host", "tcp://host:99999", "http://host:8786"):
        with pytest.raises(ExecutorError, match="is not a scheduler address"):
            check_address(bad)
    assert check_address(" tcp://10.0.0.5:8786 ") == "tcp://10.0.0.5:8786"
    for bad_workers in (0, -2):
        with pytest.raises(ExecutorError, match="workers"):
            make_executor(bad_workers)
        with pytest.raises(ExecutorError, match="workers"):
            PoolExecutor(bad_workers)
    monkeypatch.setenv(SCHEDULER_ENV, "not-an-address")
    with pytest.raises(ExecutorError, match=SCHEDULER_ENV):
        make_executor()


def test_unreachable_scheduler_is_a_clear_error():
    with pytest.raises(ExecutorError, match="could not be reached"):
        DaskExecutor("tcp://127.0.0.1:9", timeout_s=1.0)


@pytest.mark.slow
def test_scheduler_from_the_environment_runs_on_dask(dask_client, monkeypatch):
    monkeypatch.setenv(SCHEDULER_ENV, dask_client.scheduler.address)
    with make_executor() as ex:
        assert isinstance(ex, DaskExecutor)
        result = sweep(
            short(), [parse_lever("org.discovery_share=0,0.2")], replications=2, seed=3, executor=ex
        )
    assert result.manifest["executor"] == "dask"
    base = sweep(
        short(),
        [parse_lever("org.discovery_share=0,0.2")],
        replications=2,
        seed=3,
        executor=SerialExecutor(),
    )
    _same(base, result)
    # The cluster's own client is untouched by closing the executor.
    assert dask_client.status == "running"


def test_workers_send_back_kpi_vectors_only():
    """What travels back per replication is its KPI vector: ~100 bytes, not series or events."""
    import pickle

    from sim.explore.evaluate import ModelEvaluator, evaluate_task
    from sim.outcomes import KPI_NAMES

    values = evaluate_task(ModelEvaluator(short()), [{}, {"org.discovery_share": 0.2}], 4, 0, 3)
    assert values.shape == (2, 3, len(KPI_NAMES)) and values.dtype == np.float64
    assert len(pickle.dumps(values)) < 2 * 3 * len(KPI_NAMES) * 8 + 200
