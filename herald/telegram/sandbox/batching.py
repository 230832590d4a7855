"""One database thread for the sandbox's ASGI path, running concurrent calls in batches.

Each hop between the event loop and a worker thread costs a queue put, a thread wake-up and a loop
wake-up; each SQLite commit costs a WAL write. Calls that arrive together are run back to back on one
thread inside one transaction (every Bot API call keeps its own savepoint, so one call's failure does
not touch the others), and answered together once that transaction has committed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import threading
from collections.abc import Callable
from typing import Any

from django.db import connections, transaction

logger = logging.getLogger(__name__)

MAX_BATCH = 64


class _BatchBroken(Exception):
    """A call left the batch's transaction unusable; the batch runs again, one call at a time."""


class _Job:
    __slots__ = ("args", "error", "fn", "future", "loop", "result")

    def __init__(
        self, fn: Callable[..., Any], args: tuple[Any, ...], loop: asyncio.AbstractEventLoop
    ) -> None:
        self.fn = fn
        self.args = args
        self.loop = loop
        self.future: asyncio.Future[Any] = loop.create_future()
        self.result: Any = None
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self.result, self.error = self.fn(*self.args), None
        except Exception as error:  # handed to the awaiting request, which answers for it
            self.result, self.error = None, error

    def settle(self) -> None:
        if self.future.done():  # the client went away and the request was cancelled
            return
        if self.error is not None:
            self.future.set_exception(self.error)
        else:
            self.future.set_result(self.result)


def _settle_all(jobs: list[_Job]) -> None:
    for job in jobs:
        job.settle()


def _close_broken_connections() -> None:
    # Django closes broken connections at the end of its requests; this thread does it itself.
    for connection in connections.all(initialized_only=True):
        if connection.errors_occurred and not connection.is_usable():
            connection.close()


class BatchingWorker:
    """Runs submitted functions on one thread, batching those that queue up meanwhile."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._queue: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def submit(self, fn: Callable[..., Any], *args: Any) -> asyncio.Future[Any]:
        job = _Job(fn, args, asyncio.get_running_loop())
        self._queue.put(job)
        if self._thread is None or not self._thread.is_alive():
            self._start()
        return job.future

    def stop(self, timeout: float = 5.0) -> None:
        """Let the thread finish what is queued, close its database connections and end."""
        thread = self._thread
        if thread is not None and thread.is_alive():
            self._queue.put(None)
            thread.join(timeout)

    def _start(self) -> None:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._loop, name=self.name, daemon=True)
                self._thread.start()

    def _loop(self) -> None:
        stopping = False
        while not stopping:
            first = self._queue.get()
            if first is None:
                break
            jobs = [first]
            while len(jobs) < MAX_BATCH:
                try:
                    job = self._queue.get_nowait()
                except queue.Empty:
                    break
                if job is None:
                    stopping = True
                    break
                jobs.append(job)
            try:
                self._run_batch(jobs)
            except Exception as error:  # the thread must survive anything; every request gets an answer
                logger.exception("sandbox batch failed")
                for job in jobs:
                    job.result, job.error = None, error
            finally:
                _close_broken_connections()
            loops = {job.loop for job in jobs}
            for loop in loops:
                mine = [job for job in jobs if job.loop is loop]
                # RuntimeError: that event loop has closed (a test's, or a server shutting down)
                with contextlib.suppress(RuntimeError):
                    loop.call_soon_threadsafe(_settle_all, mine)
        connections.close_all()

    @staticmethod
    def _run_batch(jobs: list[_Job]) -> None:
        if len(jobs) == 1:
            jobs[0].run()
            return
        try:
            with transaction.atomic():
                for job in jobs:
                    job.run()
                if transaction.get_rollback():
                    raise _BatchBroken
        except Exception:
            # Nothing of the batch was committed: run each call again on its own.
            for job in jobs:
                with transaction.atomic():
                    job.run()
