"""Executors: one interface for running independent tasks in this process, on local cores or on Dask.

Experiments (sweeps, sensitivity analysis, attribution, optimisation) split their work into tasks —
small blocks of simulations — and hand them to an executor. Whatever runs them, the executor gives the
results back **in task order**, so everything folded from them is identical bit for bit on one process,
a local process pool or a Dask cluster of any size: the tasks are fixed by the experiment, never by the
number of workers.

Three executors share the :class:`TaskExecutor` interface:

- :class:`SerialExecutor` runs each task in this process when its turn comes.
- :class:`PoolExecutor` runs tasks on a ``concurrent.futures`` pool: by default the process's cached
  ``spawn`` pool from :func:`sim.runner.shared_pool`, or a pool the caller already has (the app's).
- :class:`DaskExecutor` runs tasks on a Dask cluster through ``distributed``, given the scheduler's
  address (``tcp://HOST:PORT``) or a connected client.

:func:`make_executor` picks one: Dask when a scheduler address is given (or set in the environment
variable ``SIM_DASK_SCHEDULER``), else local processes on every core.

Memory stays flat however many tasks there are: at most ``window`` tasks are submitted but not yet
handed back, so the results waiting to be folded never outnumber the window. A run can be cancelled
with a ``threading.Event``: it is checked while waiting and between tasks; tasks not yet started are
cancelled (Dask futures are cancelled on the cluster) and :class:`Cancelled` is raised.
"""

from __future__ import annotations

import concurrent.futures as cf
import os
import re
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from typing import Any

SCHEDULER_ENV = "SIM_DASK_SCHEDULER"
CONNECT_TIMEOUT_S = 10.0
POLL_S = 0.1
_ADDRESS = re.compile(r"^(tcp|tls)://(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9_.\-]+):(\d{1,5})$")


class Cancelled(Exception):
    """A run was cancelled through its cancel token before it finished."""


class ExecutorError(ValueError):
    """An executor cannot be made: a bad scheduler address or one that cannot be reached."""


class TaskExecutor(ABC):
    """Runs independent tasks and yields their results in task order.

    Subclasses say how to submit one task, wait for the first of several to finish and cancel
    some; :meth:`imap` does the rest (bounded submission, ordering, cancellation).
    """

    #: Short name shown in manifests and benchmarks.
    name: str = "executor"

    @property
    @abstractmethod
    def workers(self) -> int:
        """Tasks that can run at the same time."""

    @abstractmethod
    def _submit(self, fn: Callable[..., Any], args: tuple) -> Any:
        """Start one task; return a handle with ``result()``."""

    @abstractmethod
    def _wait_first(self, handles: list[Any], timeout: float) -> list[Any]:
        """Handles among ``handles`` that are done, waiting up to ``timeout`` for at least one."""

    @abstractmethod
    def _cancel(self, handles: list[Any]) -> None:
        """Cancel tasks that have not finished (running ones may complete unseen)."""

    def _release(self, handle: Any) -> None:  # noqa: B027 - optional hook
        """Forget a handle whose result has been taken."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release what this executor owns (never a pool or client it was given)."""

    def __enter__(self) -> TaskExecutor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def default_window(self) -> int:
        """Tasks in flight or waiting to be handed back: enough to keep every worker busy."""
        return max(2, 4 * self.workers)

    def imap(
        self,
        fn: Callable[..., Any],
        tasks: Sequence[tuple],
        *,
        cancel: threading.Event | None = None,
        window: int | None = None,
    ) -> Iterator[Any]:
        """Yield ``fn(*task)`` for each task, in task order.

        Args:
            fn: an importable module-level function (it travels to worker processes by name).
            tasks: argument tuples, one per task.
            cancel: when set, outstanding tasks are cancelled and :class:`Cancelled` is raised.
            window: most tasks submitted but not yet yielded (default :meth:`default_window`).

        Raises:
            Cancelled: the cancel token was set.
            Exception: whatever a task raised.
        """
        limit = max(1, window or self.default_window())
        inflight: dict[Any, int] = {}
        finished: dict[int, Any] = {}
        next_submit = next_yield = 0
        try:
            while next_yield < len(tasks):
                if cancel is not None and cancel.is_set():
                    raise Cancelled("the run was cancelled")
                while next_submit < len(tasks) and next_submit - next_yield < limit:
                    inflight[self._submit(fn, tuple(tasks[next_submit]))] = next_submit
                    next_submit += 1
                if next_yield not in finished:
                    for handle in self._wait_first(list(inflight), POLL_S):
                        index = inflight.pop(handle)
                        finished[index] = handle.result()
                        self._release(handle)
                while next_yield in finished:
                    result = finished.pop(next_yield)
                    next_yield += 1
                    yield result
                    if cancel is not None and cancel.is_set() and next_yield < len(tasks):
                        raise Cancelled("the run was cancelled")
        finally:
            if inflight:
                self._cancel(list(inflight))


class _Deferred:
    """A task that runs in this process when it is waited for."""

    def __init__(self, fn: Callable[..., Any], args: tuple) -> None:
        self.fn, self.args = fn, args
        self.done = False
        self.value: Any = None

    def run(self) -> None:
        self.value = self.fn(*self.args)
        self.done = True

    def result(self) -> Any:
        return self.value


class SerialExecutor(TaskExecutor):
    """Runs every task in this process, one at a time, when its turn comes."""

    name = "serial"

    @property
    def workers(self) -> int:
        return 1

    def default_window(self) -> int:
        return 1

    def _submit(self, fn: Callable[..., Any], args: tuple) -> _Deferred:
        return _Deferred(fn, args)

    def _wait_first(self, handles: list[Any], timeout: float) -> list[Any]:
        first = handles[0]  # handles come in submission order
        first.run()
        return [first]

    def _cancel(self, handles: list[Any]) -> None:
        return None


class PoolExecutor(TaskExecutor):
    """Runs tasks on a ``concurrent.futures`` executor (a process pool).

    Args:
        workers: processes of the process's cached ``spawn`` pool (default: every core).
        pool: an existing executor to use instead (it is not shut down by :meth:`close`).
    """

    name = "local"

    def __init__(self, workers: int | None = None, pool: cf.Executor | None = None) -> None:
        from sim import runner

        if pool is None:
            n = runner.cpu_count() if workers is None else workers
            if n < 1:
                raise ExecutorError(f"workers = {n!r} is not allowed: an integer of 1 or more")
            pool = runner.shared_pool(n)
        self.pool = pool
        self._workers = int(getattr(pool, "_max_workers", None) or workers or runner.cpu_count())

    @property
    def workers(self) -> int:
        return self._workers

    def _submit(self, fn: Callable[..., Any], args: tuple) -> cf.Future:
        return self.pool.submit(fn, *args)

    def _wait_first(self, handles: list[Any], timeout: float) -> list[Any]:
        done, _ = cf.wait(handles, timeout=timeout, return_when=cf.FIRST_COMPLETED)
        return list(done)

    def _cancel(self, handles: list[Any]) -> None:
        for handle in handles:
            handle.cancel()


class DaskExecutor(TaskExecutor):
    """Runs tasks on a Dask cluster through ``distributed``.

    Args:
        address: the scheduler's address, ``tcp://HOST:PORT`` (or ``tls://``).
        client: a connected ``distributed.Client`` to use instead (not closed by :meth:`close`).
        timeout_s: how long to try to reach the scheduler.
        source: how the address was given, for error messages (``--scheduler`` or the variable).

    Raises:
        ExecutorError: the address is malformed or the scheduler cannot be reached.
    """

    name = "dask"

    def __init__(
        self,
        address: str | None = None,
        *,
        client: Any = None,
        timeout_s: float = CONNECT_TIMEOUT_S,
        source: str = "--scheduler",
    ) -> None:
        import distributed

        self._owns_client = client is None
        if client is None:
            address = check_address(address or "", source)
            try:
                client = distributed.Client(
                    address, timeout=timeout_s, set_as_default=False, direct_to_workers=False
                )
            except (OSError, TimeoutError) as err:
                raise ExecutorError(
                    f"{source} = {address!r} could not be reached within {timeout_s:g} s: a "
                    f"running Dask scheduler's address is needed ({err.__class__.__name__})"
                ) from None
        self.client = client
        self._finished = threading.Event()  # set by a done-callback whenever a task finishes

    @property
    def address(self) -> str:
        return self.client.scheduler.address

    @property
    def workers(self) -> int:
        threads = self.client.nthreads()
        return max(1, sum(threads.values()))

    def _submit(self, fn: Callable[..., Any], args: tuple) -> Any:
        future = self.client.submit(fn, *args, pure=False)
        future.add_done_callback(lambda _: self._finished.set())
        return future

    def _wait_first(self, handles: list[Any], timeout: float) -> list[Any]:
        self._finished.clear()  # cleared before looking, so no completion goes unnoticed
        done = [h for h in handles if h.done()]
        if done:
            return done
        self._finished.wait(timeout)
        return [h for h in handles if h.done()]

    def _cancel(self, handles: list[Any]) -> None:
        self.client.cancel(handles)

    def _release(self, handle: Any) -> None:
        handle.release()

    def close(self) -> None:
        if self._owns_client:
            self.client.close()


def check_address(address: str, source: str = "--scheduler") -> str:
    """Check a Dask scheduler address (``tcp://HOST:PORT``) and return it stripped.

    Raises:
        ExecutorError: naming where the address came from, the value and the expected form.
    """
    text = address.strip()
    match = _ADDRESS.match(text)
    if not match or not 1 <= int(match.group(3)) <= 65535:
        raise ExecutorError(
            f"{source} = {address!r} is not a scheduler address: tcp://HOST:PORT with a port from 1 "
            f"to 65535, e.g. tcp://10.0.0.5:8786"
        )
    return text


def make_executor(
    workers: int | None = None,
    scheduler: str | None = None,
    *,
    pool: cf.Executor | None = None,
) -> TaskExecutor:
    """The executor for a run.

    Args:
        workers: local processes (default every core; 1 runs in this process). Ignored on Dask.
        scheduler: a Dask scheduler address; when empty, ``SIM_DASK_SCHEDULER`` is read.
        pool: an existing local pool to run on (ignored when a scheduler is given).

    Returns:
        A :class:`DaskExecutor` when a scheduler address is known, else a :class:`PoolExecutor`,
        or a :class:`SerialExecutor` for one worker. Close it (or use it as a context manager).
    """
    source = "--scheduler"
    if not scheduler:
        scheduler = os.environ.get(SCHEDULER_ENV, "").strip() or None
        source = SCHEDULER_ENV
    if scheduler:
        return DaskExecutor(scheduler, source=source)
    if pool is not None:
        return PoolExecutor(pool=pool)
    if workers is not None and workers < 1:
        raise ExecutorError(f"workers = {workers!r} is not allowed: an integer of 1 or more")
    if workers == 1:
        return SerialExecutor()
    return PoolExecutor(workers)
