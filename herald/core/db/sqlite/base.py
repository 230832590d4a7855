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
lock straight to each other left the webhook's writer polling for it most of the time.

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


def _first_writer_waiting(check: int) -> bool:
    try:
        fcntl.flock(check, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    fcntl.flock(check, fcntl.LOCK_UN)
    return False


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
        lock = _writer_lock(str(self.settings_dict["NAME"]))
        if not lock.acquire(timeout=self._lock_timeout()):
            raise OperationalError("database is locked (waited for this process's other writers)")
        try:
            if self.is_in_memory_db():
                self._begin(deadline=time.monotonic() + self._lock_timeout())
            else:
                self._begin_in_turn(str(self.settings_dict["NAME"]))
        except BaseException:
            lock.release()
            raise
        self._held = lock

    def _begin_in_turn(self, path: str) -> None:
        hold, check = _first_writers_files(path)
        deadline = time.monotonic() + self._lock_timeout()
        if not self.writes_first:
            self._begin(deadline=deadline, give_way=check)
            return
        fcntl.flock(hold, fcntl.LOCK_SH)
        try:
            self._begin(deadline=deadline)
        finally:
            fcntl.flock(hold, fcntl.LOCK_UN)

    def _begin(self, *, deadline: float, give_way: int | None = None) -> None:
        """Begin, asking for SQLite's lock every few ms until ``deadline``; with ``give_way`` (the descriptor
        to test for first writers with), not while a first writer waits, for up to ``_YIELD_AT_MOST``."""
        assert self.connection is not None  # Django opened it before starting a transaction
        mode = getattr(self, "transaction_mode", None)  # set by Django from OPTIONS
        begin = "BEGIN" if mode is None else f"BEGIN {mode}"
        busy_timeout_ms = int(self._lock_timeout() * 1000)
        pause = _FIRST_PAUSE
        gave_way_since: float | None = None
        with self.wrap_database_errors:
            self.connection.execute("PRAGMA busy_timeout = 0")
            try:
                while True:
                    if give_way is not None and _first_writer_waiting(give_way):
                        now = time.monotonic()
                        gave_way_since = now if gave_way_since is None else gave_way_since
                        if now - gave_way_since < _YIELD_AT_MOST and now + _YIELD_PAUSE < deadline:
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
