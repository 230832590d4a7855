"""A real `celery -A config worker` process for integration tests, sharing the test database.

By default the worker gets its own data directory, so the embedded filesystem broker it reads is private
to the test, and consumes only its own queue, so it cannot take tasks meant for anyone else on a shared
broker; the test feeds it with ``send``. With ``shared_broker=True`` it reads the test process's broker and
its queues instead (purged first), so tasks the code under test enqueues (``.delay()``, ``on_commit``)
reach it as in production.

The worker runs in a process group of its own, so ``kill`` takes down a prefork pool's children with it
(as when a container dies) and ``stop`` leaves none behind.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

from django.conf import settings
from django.db import connection
from kombu import Connection

from config.celery import app as celery_app

REPO_ROOT = Path(__file__).resolve().parent.parent


def database_url_for_current_connection() -> str:
    """The URL of the database the test runs against (the test database, once pytest-django made it)."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        name = str(db["NAME"])
        if name == ":memory:" or name.startswith("file:"):
            raise RuntimeError("a worker process cannot share an in-memory SQLite test database")
        return f"sqlite:///{Path(name).resolve()}"
    if db["ENGINE"] == "django.db.backends.postgresql":
        user = quote(str(db.get("USER") or ""), safe="")
        password = quote(str(db.get("PASSWORD") or ""), safe="")
        credentials = f"{user}:{password}@" if password else (f"{user}@" if user else "")
        host = quote(str(db.get("HOST") or "localhost"), safe="")
        port = f":{db['PORT']}" if db.get("PORT") else ""
        return f"postgres://{credentials}{host}{port}/{quote(str(db['NAME']), safe='')}"
    raise RuntimeError(f"no worker test support for {db['ENGINE']}")


class WorkerProcess:
    """Starts, feeds and stops one worker; its log is kept in ``data_dir / "worker.log"``."""

    def __init__(
        self,
        data_dir: Path,
        *,
        extra_env: dict[str, str] | None = None,
        include: tuple[str, ...] = (),
        queue: str | None = None,
        shared_broker: bool = False,
        pool: str = "solo",
        concurrency: int = 1,
    ) -> None:
        self.data_dir = data_dir
        self.shared_broker = shared_broker
        name = f"test-{uuid.uuid4().hex[:12]}"
        # shared: every queue the code under test routes tasks to (the default one and the outbox's)
        self.queues = [q.name for q in celery_app.conf.task_queues] if shared_broker else [queue or name]
        self.queue = self.queues[0]
        self.nodename = f"{name}@localhost"
        self.log_path = data_dir / "worker.log"
        self.extra_env = extra_env or {}
        self.include = include  # extra task modules, e.g. test-only tasks
        # "solo" runs tasks in the worker process itself; "prefork" in child processes, as in production
        self.pool = pool
        self.concurrency = concurrency
        self.process: subprocess.Popen[bytes] | None = None

    # -- lifecycle -----------------------------------------------------------------------------------

    def start(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if self.shared_broker:
            # tasks left over from earlier tests must not run against this test's data
            with self.broker_connection() as conn:
                for queue in self.queues:
                    conn.default_channel.queue_purge(queue)
        env = {
            **os.environ,
            # the embedded broker lives under the data dir: the test's own one, or a private one
            "HERALD_DATA_DIR": str(settings.DATA_DIR if self.shared_broker else self.data_dir),
            "DATABASE_URL": database_url_for_current_connection(),
            # secrets at rest must decrypt the same way in the worker as in the test
            "HERALD_SECRET_KEY": settings.SECRET_KEY,
            "HERALD_FERNET_KEYS": ",".join(settings.FERNET_KEYS),
            "CELERY_TASK_ALWAYS_EAGER": "0",
            "PYTHONUNBUFFERED": "1",
            **self.extra_env,
        }
        env.pop("PROMETHEUS_MULTIPROC_DIR", None)
        command = [
            sys.executable, "-m", "celery", "-A", "config", "worker",
            "--pool", self.pool, "--concurrency", str(self.concurrency),
            "--queues", ",".join(self.queues), "--hostname", self.nodename,
            "--without-gossip", "--without-mingle", "--without-heartbeat", "--loglevel", "INFO",
        ]  # fmt: skip
        if self.include:
            command += ["--include", ",".join(self.include)]
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                command, cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill(self) -> None:
        """SIGKILL to the worker and its pool: it dies mid-task without acknowledging anything."""
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError):  # the group is gone already
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        """Warm shutdown (SIGTERM: tasks in flight finish), then SIGKILL if it takes over 20 s."""
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):  # killed below
                self.process.wait(timeout=20)
        self.kill()  # the worker if it hung, and any pool child a killed worker left behind

    # -- work ----------------------------------------------------------------------------------------

    def broker_connection(self) -> Connection:
        """A connection to the broker this worker reads (its private folder for the embedded broker)."""
        options = dict(getattr(settings, "CELERY_BROKER_TRANSPORT_OPTIONS", {}))
        if settings.CELERY_BROKER_URL.startswith("filesystem://") and not self.shared_broker:
            broker = self.data_dir / "broker"
            for sub in ("queue", "processed", "control"):
                (broker / sub).mkdir(parents=True, exist_ok=True)
            options.update(
                data_folder_in=str(broker / "queue"),
                data_folder_out=str(broker / "queue"),
                processed_folder=str(broker / "processed"),
                control_folder=str(broker / "control"),
            )
        return celery_app.connection_for_write(transport_options=options)

    def send(self, task_name: str, *args: Any, **kwargs: Any) -> str:
        with self.broker_connection() as conn:
            result = celery_app.send_task(
                task_name, args=args, kwargs=kwargs, queue=self.queue, connection=conn
            )
        return str(result.id)

    def wait_for(self, condition: Callable[[], bool], *, timeout: float = 20.0, what: str) -> None:
        """Polls ``condition`` until true; on timeout fails with the worker's log."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if condition():
                return
            if self.process is not None and self.process.poll() is not None:
                break
            time.sleep(0.1)
        raise AssertionError(f"{what}: not seen within {timeout:.0f} s. Worker log:\n{self.log()}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else "(no log)"
