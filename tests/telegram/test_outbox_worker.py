"""The outbox through a real Celery worker process (prefork, embedded filesystem broker) to the sandbox."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone
from pytest_django.live_server_helper import LiveServer

from herald.telegram.models import OutboundMessage
from herald.telegram.services import outbox_enqueue, outbox_sweep
from tests.telegram.sandbox.helpers import SandboxBot, sandbox_api_base, sandbox_messages, sandbox_user

pytestmark = pytest.mark.worker


def _test_database_url() -> str:
    """This test's database for the worker process: the same SQLite file or PostgreSQL database."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    credentials = quote(db["USER"] or "") + (":" + quote(db["PASSWORD"]) if db["PASSWORD"] else "")
    return f"postgres://{credentials}@{db['HOST'] or 'localhost'}:{db['PORT'] or 5432}/{db['NAME']}"


def _start_worker(live_server: LiveServer, **extra_env: str) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "DATABASE_URL": _test_database_url(),
        "TELEGRAM_API_BASE": sandbox_api_base(live_server.url),
        "CELERY_TASK_ALWAYS_EAGER": "false",
        **extra_env,
    }
    celery = Path(sys.executable).with_name("celery")
    command = [str(celery), "-A", "config", "worker", "--pool", "prefork", "--concurrency", "2"]
    command += ["--loglevel", "WARNING", "--without-gossip", "--without-mingle", "--without-heartbeat"]
    command += ["--hostname", f"outbox-test-{os.getpid()}-{time.monotonic_ns()}@%h"]
    # Its own process group, so the worker and its pool children can be stopped together.
    return subprocess.Popen(command, env=env, cwd=settings.BASE_DIR, start_new_session=True)


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
    with contextlib.suppress(ProcessLookupError):  # pool children left behind by a killed worker
        os.killpg(proc.pid, signal.SIGKILL)


@pytest.fixture
def empty_queue() -> None:
    queue = Path(str(settings.CELERY_BROKER_TRANSPORT_OPTIONS["data_folder_in"]))
    for leftover in queue.glob("*"):
        leftover.unlink(missing_ok=True)


@pytest.fixture
def celery_worker_process(live_server: LiveServer, empty_queue: None) -> Iterator[subprocess.Popen[bytes]]:
    proc = _start_worker(live_server)
    try:
        yield proc
    finally:
        _stop(proc)


def _wait_until_all_sent(proc: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while OutboundMessage.objects.exclude(status=OutboundMessage.Status.SENT).exists():
        assert proc.poll() is None, "the worker exited"
        assert time.monotonic() < deadline, "the worker did not send everything in time"
        time.sleep(0.2)


def test_a_real_worker_sends_every_queued_message_once_in_order(
    shop_bot: SandboxBot, celery_worker_process: subprocess.Popen[bytes]
) -> None:
    users = [sandbox_user(f"Reader {i}") for i in range(5)]
    for step in range(3):
        for user in users:
            outbox_enqueue(
                token=shop_bot.token, chat_id=user, method="sendMessage", params={"text": f"news {step}"}
            )
    _wait_until_all_sent(celery_worker_process)
    for user in users:
        assert [m["text"] for m in sandbox_messages(user, shop_bot)] == ["news 0", "news 1", "news 2"]


def test_a_worker_killed_mid_run_loses_nothing_once_the_sweeper_runs(
    shop_bot: SandboxBot, live_server: LiveServer, empty_queue: None
) -> None:
    users = [sandbox_user(f"Reader {i}") for i in range(24)]
    # A slow bot (8 messages/s) so the worker is surely mid-run when it dies.
    slow = {"TELEGRAM_PACING": "true", "TELEGRAM_LIMIT_PER_BOT": "8"}
    first = _start_worker(live_server, **slow)
    try:
        for user in users:
            outbox_enqueue(token=shop_bot.token, chat_id=user, method="sendMessage", params={"text": "hello"})
        deadline = time.monotonic() + 30
        while OutboundMessage.objects.filter(status=OutboundMessage.Status.SENT).count() < 4:
            assert time.monotonic() < deadline, "the first worker sent nothing"
            time.sleep(0.05)
        # SIGKILL to the worker and its pool: no warm shutdown; in-flight work and wake-ups are lost.
        os.killpg(first.pid, signal.SIGKILL)
        first.wait(timeout=10)
    finally:
        _stop(first)
    assert OutboundMessage.objects.exclude(status=OutboundMessage.Status.SENT).exists()
    second = _start_worker(live_server)
    try:
        # The sweeper, run as beat would once the rows are stale (its clock moved forward instead of waiting).
        later = timezone.now() + dt.timedelta(seconds=settings.TELEGRAM_OUTBOX_STALE_SECONDS + 1)
        outbox_sweep(now=later)
        _wait_until_all_sent(second)
    finally:
        _stop(second)
    counts = [len(sandbox_messages(user, shop_bot)) for user in users]
    assert min(counts) == 1  # nothing lost
    # A message in flight when the worker died may have reached Telegram already; at most those repeat.
    assert sum(counts) - len(users) <= 2
