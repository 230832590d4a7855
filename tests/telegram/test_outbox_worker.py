"""The outbox through a real Celery worker process (prefork, embedded filesystem broker) to the sandbox."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection
from pytest_django.live_server_helper import LiveServer

from herald.telegram.models import OutboundMessage
from herald.telegram.services import outbox_enqueue
from tests.telegram.sandbox.helpers import SandboxBot, sandbox_api_base, sandbox_messages, sandbox_user

pytestmark = pytest.mark.worker


def _test_database_url() -> str:
    """This test's database for the worker process: the same SQLite file or PostgreSQL database."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    credentials = quote(db["USER"] or "") + (":" + quote(db["PASSWORD"]) if db["PASSWORD"] else "")
    return f"postgres://{credentials}@{db['HOST'] or 'localhost'}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.fixture
def celery_worker_process(live_server: LiveServer) -> Iterator[subprocess.Popen[bytes]]:
    queue = Path(str(settings.CELERY_BROKER_TRANSPORT_OPTIONS["data_folder_in"]))
    for leftover in queue.glob("*"):
        leftover.unlink(missing_ok=True)
    env = {
        **os.environ,
        "DATABASE_URL": _test_database_url(),
        "TELEGRAM_API_BASE": sandbox_api_base(live_server.url),
        "CELERY_TASK_ALWAYS_EAGER": "false",
    }
    celery = Path(sys.executable).with_name("celery")
    proc = subprocess.Popen(
        [
            str(celery),
            "-A",
            "config",
            "worker",
            "--pool",
            "prefork",
            "--concurrency",
            "2",
            "--loglevel",
            "WARNING",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "--hostname",
            f"outbox-test-{os.getpid()}@%h",
        ],
        env=env,
        cwd=settings.BASE_DIR,
    )
    try:
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def test_a_real_worker_sends_every_queued_message_once_in_order(
    shop_bot: SandboxBot, celery_worker_process: subprocess.Popen[bytes]
) -> None:
    users = [sandbox_user(f"Reader {i}") for i in range(5)]
    for step in range(3):
        for user in users:
            outbox_enqueue(
                token=shop_bot.token, chat_id=user, method="sendMessage", params={"text": f"news {step}"}
            )
    deadline = time.monotonic() + 60
    while OutboundMessage.objects.exclude(status=OutboundMessage.Status.SENT).exists():
        assert celery_worker_process.poll() is None, "the worker exited"
        assert time.monotonic() < deadline, "the worker did not send everything in time"
        time.sleep(0.2)
    for user in users:
        assert [m["text"] for m in sandbox_messages(user, shop_bot)] == ["news 0", "news 1", "news 2"]
