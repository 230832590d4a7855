"""SQLite's one write lock: the webhook's writes (``writes_first``) go before a worker's.

Two processes are played by two connections that name the same database file by two paths (``db`` and
``./db``): each path has its own process-wide writer lock, as two processes would, and both meet at the
same file and the same first-writers file beside it.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from herald.core.db.sqlite.base import DatabaseWrapper, writes_first


def _connection(path: str) -> DatabaseWrapper:
    return DatabaseWrapper(
        {
            "ENGINE": "herald.core.db.sqlite",
            "NAME": path,
            "OPTIONS": {"timeout": 5, "transaction_mode": "IMMEDIATE"},
            "TIME_ZONE": None,
            "CONN_MAX_AGE": 0,
            "CONN_HEALTH_CHECKS": False,
            "AUTOCOMMIT": True,
            "ATOMIC_REQUESTS": False,
            "USER": "",
            "PASSWORD": "",
            "HOST": "",
            "PORT": "",
            "TEST": {},
        }
    )


def _insert(path: str, who: str, *, first: bool = False) -> None:
    connection = _connection(path)  # Django's connections belong to the thread that made them
    try:
        connection.ensure_connection()
        if first:
            with writes_first(connection):
                _write(connection, who)
        else:
            _write(connection, who)
    finally:
        connection.close()


def _write(connection: Any, who: str) -> None:
    # as transaction.atomic() begins: here the connection waits for SQLite's lock
    connection.set_autocommit(False, force_begin_transaction_with_broken_autocommit=True)
    try:
        with connection.cursor() as cursor:
            cursor.execute("INSERT INTO turns (who) VALUES (%s)", [who])
        connection.commit()
    finally:
        connection.set_autocommit(True)


@pytest.fixture
def database(tmp_path: Path, django_db_blocker: Any) -> Iterator[Path]:
    """A database of its own (not the test database): the connections here are the tests' own."""
    path = tmp_path / "db.sqlite3"
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA journal_mode = WAL")
        db.execute("CREATE TABLE turns (id INTEGER PRIMARY KEY, who TEXT)")
    with django_db_blocker.unblock():
        yield path


def test_a_waiting_webhook_write_goes_before_a_worker_write_that_waited_longer(database: Path) -> None:
    for _ in range(10):  # without the priority either writer may win a round: ten rounds leave 1 in 1,024
        blocker = sqlite3.connect(database, isolation_level=None)
        blocker.execute("BEGIN IMMEDIATE")  # a third writer holds the lock
        worker = threading.Thread(target=_insert, args=(str(database), "worker"))
        webhook = threading.Thread(
            target=_insert,
            args=(f"{database.parent}/./{database.name}", "webhook"),
            kwargs={"first": True},
        )
        worker.start()
        time.sleep(0.01)  # the worker has been asking for the lock for a while
        webhook.start()
        time.sleep(0.01)
        blocker.execute("COMMIT")
        blocker.close()
        worker.join(timeout=10)
        webhook.join(timeout=10)
    with sqlite3.connect(database) as db:
        order = [who for (who,) in db.execute("SELECT who FROM turns ORDER BY id")]
    assert order == ["webhook", "worker"] * 10


def test_a_write_the_webhook_queues_behind_goes_first_in_its_place(database: Path) -> None:
    """An admin's write in the web process holds the process's writer lock while it waits for SQLite's;
    the webhook's write queues behind it, so the admin's write goes before the worker's on its behalf."""
    web, worker_path = str(database), f"{database.parent}/./{database.name}"
    rounds = []
    for n in range(10):  # without it, the admin's and the worker's writes race: ten rounds leave 1 in 1,024
        blocker = sqlite3.connect(database, isolation_level=None)
        blocker.execute("BEGIN IMMEDIATE")
        admin = threading.Thread(target=_insert, args=(web, f"admin {n}"))
        worker = threading.Thread(target=_insert, args=(worker_path, f"worker {n}"))
        webhook = threading.Thread(target=_insert, args=(web, f"webhook {n}"), kwargs={"first": True})
        admin.start()
        worker.start()
        time.sleep(0.01)
        webhook.start()
        time.sleep(0.01)
        blocker.execute("COMMIT")
        blocker.close()
        for thread in (admin, worker, webhook):
            thread.join(timeout=10)
        with sqlite3.connect(database) as db:
            rows = [who for (who,) in db.execute("SELECT who FROM turns WHERE who LIKE ?", [f"% {n}"])]
        rounds.append(rows[0].split()[0])
        assert sorted(rows) == [f"admin {n}", f"webhook {n}", f"worker {n}"]
    assert rounds == ["admin"] * 10


def test_a_worker_write_gives_way_for_a_moment_only(database: Path) -> None:
    """A first writer that holds its turn for long (stuck) delays ordinary writers by at most 50 ms."""
    import fcntl

    stuck = open(f"{database}-first-writers", "a+")  # noqa: SIM115 - held across the write below
    try:
        fcntl.flock(stuck, fcntl.LOCK_SH)
        started = time.monotonic()
        _insert(str(database), "worker")
        waited = time.monotonic() - started
    finally:
        stuck.close()
    assert 0.04 <= waited < 1.0
    with sqlite3.connect(database) as db:
        assert [who for (who,) in db.execute("SELECT who FROM turns")] == ["worker"]
