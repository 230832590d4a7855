"""Django's SQLite backend, with the threads of one process taking turns for the write lock.

SQLite has one writer at a time. A connection that finds the lock taken waits in SQLite's busy handler,
which sleeps in growing steps (up to 100 ms) and so leaves the lock idle between writers: with a dozen
threads writing, most of their time goes to those sleeps. Here a thread that starts a transaction
(``BEGIN IMMEDIATE``) first takes a lock shared by the process's threads, held until its commit or
rollback, so they queue and wake the moment it is free; only writers of other processes still meet
the busy handler. Writes outside ``atomic`` (single statements in autocommit) are not queued.
"""

from __future__ import annotations

import os
import threading
from typing import Any

from django.db.backends.sqlite3 import base
from django.db.utils import OperationalError

_locks: dict[str, threading.Lock] = {}
_locks_guard = threading.Lock()


def _writer_lock(name: str) -> threading.Lock:
    with _locks_guard:
        return _locks.setdefault(name, threading.Lock())


def _forget_after_fork() -> None:
    # a lock held by another thread of the parent at the fork would never be released in the child
    global _locks_guard
    _locks.clear()
    _locks_guard = threading.Lock()


os.register_at_fork(after_in_child=_forget_after_fork)


class DatabaseWrapper(base.DatabaseWrapper):
    _held: threading.Lock | None = None

    def _lock_timeout(self) -> float:
        return float(self.settings_dict.get("OPTIONS", {}).get("timeout", 5))

    def _start_transaction_under_autocommit(self) -> None:
        lock = _writer_lock(str(self.settings_dict["NAME"]))
        if not lock.acquire(timeout=self._lock_timeout()):
            raise OperationalError("database is locked (waited for this process's other writers)")
        try:
            super()._start_transaction_under_autocommit()  # type: ignore[misc]
        except BaseException:
            lock.release()
            raise
        self._held = lock

    def _release_writer_lock(self) -> None:
        lock, self._held = self._held, None
        if lock is not None:
            lock.release()

    def _commit(self) -> Any:
        result = super()._commit()  # type: ignore[misc]
        # after a failed commit the transaction is still open: the rollback that follows releases
        self._release_writer_lock()
        return result

    def _rollback(self) -> Any:
        try:
            return super()._rollback()  # type: ignore[misc]
        finally:
            self._release_writer_lock()

    def _close(self) -> Any:
        try:
            return super()._close()  # type: ignore[misc]
        finally:
            self._release_writer_lock()
