"""Django's SQLite backend, with writers that take the write lock as soon as it is free.

SQLite has one writer at a time. A connection that finds the lock taken waits in SQLite's busy handler,
which sleeps in growing steps (up to 100 ms) and so leaves the lock idle between writers: with a dozen
threads writing, most of their time goes to those sleeps. Here a thread that starts a transaction
(``BEGIN IMMEDIATE``) first takes a lock shared by the process's threads, held until its commit or
rollback, so they queue and wake the moment it is free; and the one at the head of that queue asks
SQLite for the lock every few milliseconds (while another process holds it) instead of through the busy
handler. Writes outside ``atomic`` (single statements in autocommit) keep the busy handler.

Writes can go first (``writes_first``): the webhook's, which Telegram waits on, before a worker's. While
such a writer waits for SQLite's lock it holds a shared lock on a file beside the database; an ordinary
writer about to begin checks that file and, while somebody holds it, waits a moment (at most
``_YIELD_AT_MOST`` seconds, so it is never starved). Without this, a worker whose threads hand SQLite's
lock straight to each other left the webhook's writer polling for it most of the time. An ordinary writer
that a first writer of its own process queues behind (for the process's lock) goes first in its place:
otherwise the webhook waited for, say, an admin's write that was itself giving way to a worker (priority
inheritance; seen as stalls of 60-100 ms with every webhook request waiting).

WAL checkpoints (copying the log back into the database file, with an fsync) run in a thread of their own
every ``_CHECKPOINT_EVERY`` seconds instead of inside the commit that fills the log past 1,000 pages: there,
the committing thread holds the process's writer lock through the checkpoint, and every writer of the
process (a web process answering requests) stalls for its length.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from typing import Any

from django.db.backends.sqlite3 import base
from django.db.utils import OperationalError

# How often the head of the queue asks for a lock another process holds: soon, then every few ms.
_FIRST_PAUSE = 0.0005
_LONGEST_PAUSE = 0.004

_CHECKPOINT_EVERY = 1.0

# An ordinary writer gives way to writes that go first for at most this long, checking every _YIELD_PAUSE.
_YIELD_AT_MOST = 0.05
_YIELD_PAUSE = 0.0005

_locks: dict[str, threading.Lock] = {}
_locks_guard = threading.Lock()
_checkpointers: set[str] = set()
# per database file: how many of this process's first writers are queued for its writer lock
_first_queued: dict[str, int] = {}


def _writer_lock(name: str) -> threading.Lock:
    with _locks_guard:
        return _locks.setdefault(name, threading.Lock())


# per database file: (the descriptor a first writer holds shared while it waits, the one others test with);
# two opens, because flock locks belong to an open file and would not conflict within one
_first_files: dict[str, tuple[int, int]] = {}


def _first_writers_files(path: str) -> tuple[int, int]:
    with _locks_guard:
        if path not in _first_files:
            name = f"{path}-first-writers"
            flags = os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0)
            _first_files[path] = (os.open(name, flags, 0o600), os.open(name, flags, 0o600))
        return _first_files[path]


def _forget_after_fork() -> None:
    # a lock held by another thread of the parent at the fork would never be released in the child
    global _locks_guard
    _locks.clear()
    _locks_guard = threading.Lock()
    _checkpointers.clear()  # threads do not survive a fork
    _first_queued.clear()
    _first_files.clear()  # the child opens its own (an inherited open file shares the parent's locks)


@contextlib.contextmanager
def writes_first(connection: Any) -> Iterator[None]:
    """Transactions this thread begins on ``connection`` inside the block go before other processes'
    ordinary writes (see the module's docstring); a no-op on other databases."""
    previous = getattr(connection, "writes_first", False)
    connection.writes_first = True
    try:
        yield
    finally:
        connection.writes_first = previous


def _queue_first(path: str, change: int) -> None:
    with _locks_guard:
        _first_queued[path] = _first_queued.get(path, 0) + change


def _first_writer_waiting(check: int) -> bool:
    try:
        fcntl.flock(check, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    fcntl.flock(check, fcntl.LOCK_UN)
    return False


class _Turn:
    """When a writer of a database file may ask SQLite for the lock (see the module's docstring)."""

    def __init__(self, path: str, *, first: bool) -> None:
        self.path = path
        self.hold, self.check = _first_writers_files(path)
        self.first = False
        self.gave_way_since: float | None = None
        if first:
            self._go_first()

    def _go_first(self) -> None:
        fcntl.flock(self.hold, fcntl.LOCK_SH)
        self.first = True

    def may_begin(self) -> bool:
        if self.first:
            return True
        if _first_queued.get(self.path):  # a first writer of this process waits for us: go first for it
            self._go_first()
            return True
        if not _first_writer_waiting(self.check):
            return True
        now = time.monotonic()
        if self.gave_way_since is None:
            self.gave_way_since = now
        return now - self.gave_way_since >= _YIELD_AT_MOST

    def close(self) -> None:
        if self.first:
            fcntl.flock(self.hold, fcntl.LOCK_UN)
            self.first = False


def _checkpoint_forever(path: str) -> None:
    """Checkpoint the WAL of ``path`` now and then, without waiting for (or blocking) readers and writers."""
    while True:
        time.sleep(_CHECKPOINT_EVERY)
        try:
            # a fresh connection each time: the file may have been replaced (a test database recreated)
            with contextlib.closing(sqlite3.connect(f"file:{path}?mode=rw", uri=True, timeout=0)) as db:
                db.execute("PRAGMA wal_checkpoint(PASSIVE)")
        except sqlite3.Error:
            continue  # gone, or busy: the next round tries again


def _start_checkpointer(path: str) -> None:
    with _locks_guard:
        if path in _checkpointers:
            return
        _checkpointers.add(path)
    threading.Thread(target=_checkpoint_forever, args=(path,), name="sqlite-checkpoint", daemon=True).start()


os.register_at_fork(after_in_child=_forget_after_fork)


class DatabaseWrapper(base.DatabaseWrapper):
    _held: threading.Lock | None = None
    writes_first = False

    def get_new_connection(self, conn_params: Any) -> Any:
        connection = super().get_new_connection(conn_params)
        path = str(self.settings_dict["NAME"])
        if not self.is_in_memory_db():
            connection.execute("PRAGMA wal_autocheckpoint = 0")  # the checkpointer thread does it
            _start_checkpointer(path)
        return connection

    def _lock_timeout(self) -> float:
        return float(self.settings_dict.get("OPTIONS", {}).get("timeout", 5))

    def _start_transaction_under_autocommit(self) -> None:
        path = str(self.settings_dict["NAME"])
        lock = _writer_lock(path)
        if not self._acquire_writer_lock(lock, path):
            raise OperationalError("database is locked (waited for this process's other writers)")
        try:
            deadline = time.monotonic() + self._lock_timeout()
            if self.is_in_memory_db():
                self._begin(deadline=deadline)
            else:
                turn = _Turn(path, first=self.writes_first)
                try:
                    self._begin(deadline=deadline, turn=turn)
                finally:
                    turn.close()
        except BaseException:
            lock.release()
            raise
        self._held = lock

    def _acquire_writer_lock(self, lock: threading.Lock, path: str) -> bool:
        if not self.writes_first:
            return lock.acquire(timeout=self._lock_timeout())
        if lock.acquire(blocking=False):
            return True
        _queue_first(path, 1)  # the thread holding it goes first for us (see _Turn)
        try:
            return lock.acquire(timeout=self._lock_timeout())
        finally:
            _queue_first(path, -1)

    def _begin(self, *, deadline: float, turn: _Turn | None = None) -> None:
        """Begin, asking for SQLite's lock every few ms until ``deadline``, and with a ``turn`` only when it
        says so (checking every ``_YIELD_PAUSE``) or the deadline is near."""
        assert self.connection is not None  # Django opened it before starting a transaction
        mode = getattr(self, "transaction_mode", None)  # set by Django from OPTIONS
        begin = "BEGIN" if mode is None else f"BEGIN {mode}"
        busy_timeout_ms = int(self._lock_timeout() * 1000)
        pause = _FIRST_PAUSE
        with self.wrap_database_errors:
            self.connection.execute("PRAGMA busy_timeout = 0")
            try:
                while True:
                    waiting = turn is not None and not turn.may_begin()
                    if waiting and time.monotonic() + _YIELD_PAUSE < deadline:
                        time.sleep(_YIELD_PAUSE)
                        continue
                    try:
                        self.connection.execute(begin)
                        return
                    except sqlite3.OperationalError as exc:
                        if "locked" not in str(exc) or time.monotonic() + pause > deadline:
                            raise
                    time.sleep(pause)
                    pause = min(pause * 2, _LONGEST_PAUSE)
            finally:
                self.connection.execute(f"PRAGMA busy_timeout = {busy_timeout_ms}")

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
