"""Wake the worker for updates the webhook took: many updates per broker message, published off the request.

The ``InboundUpdate`` row is the truth; a wake-up only says "process these rows now". One that is lost
(the web process dies between the commit and the publish, a few milliseconds, or the broker drops it)
delays its updates until the sweeper (``bots.updates_sweep``, every minute) re-drives them: never lost.
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
import time

logger = logging.getLogger(__name__)

# How long the publisher waits for more updates to join a wake-up; replies start at most this much later.
WINDOW_SECONDS = 0.01
# Updates per wake-up: a worker thread processes one wake-up's updates in turn, several wake-ups in parallel.
MAX_BATCH = 50


class _Publisher:
    """Collects update ids from request threads; a background thread publishes them in batches."""

    def __init__(self) -> None:
        self._reset()
        os.register_at_fork(after_in_child=self._reset)
        atexit.register(self.flush)

    def _reset(self) -> None:
        self._cond = threading.Condition()
        self._pending: list[int] = []
        self._thread: threading.Thread | None = None
        self._publishing = threading.Lock()  # held while a batch is published

    def add(self, update_pk: int) -> None:
        with self._cond:
            self._pending.append(update_pk)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="bots-wakeups", daemon=True)
                self._thread.start()
            self._cond.notify()

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._pending:
                    self._cond.wait()
            time.sleep(WINDOW_SECONDS)  # let the updates of the next few milliseconds share this message
            self.flush()

    def flush(self) -> None:
        with self._publishing:  # so a flush returns only once nothing taken before it is left unpublished
            with self._cond:
                batch, self._pending = self._pending, []
            for start in range(0, len(batch), MAX_BATCH):
                _publish(batch[start : start + MAX_BATCH])


def _publish(update_pks: list[int]) -> None:
    from herald.bots.tasks import bot_updates_process_task

    try:
        bot_updates_process_task.delay(update_pks)
    except Exception:
        logger.exception("could not wake the worker for updates %s; the sweeper re-drives them", update_pks)


_publisher = _Publisher()


def publish_pending() -> None:
    """Publish the wake-ups this process is still collecting now, and wait for one being published."""
    _publisher.flush()


def update_received(update_pk: int) -> None:
    """Ask a worker to process this (committed) update soon."""
    from herald.bots.tasks import bot_updates_process_task

    if bot_updates_process_task.app.conf.task_always_eager:
        _publish([update_pk])  # tests and inline setups: process it now, in this thread
        return
    _publisher.add(update_pk)
