"""The outbox through a real Celery worker process (prefork, the configured broker) to the sandbox."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pytest_django.live_server_helper import LiveServer

from herald.telegram.models import OutboundMessage
from herald.telegram.services import outbox_enqueue
from tests.telegram.sandbox.helpers import SandboxBot, sandbox_api_base, sandbox_messages, sandbox_user
from tests.worker_process import WorkerProcess

pytestmark = pytest.mark.worker


def _outbox_worker(data_dir: Path, live_server: LiveServer, **extra_env: str) -> WorkerProcess:
    """A prefork worker with two children, as in production, reading the wake-ups the outbox enqueues
    (the shared broker, purged of earlier tests' wake-ups when it starts) and calling the live sandbox."""
    return WorkerProcess(
        data_dir,
        shared_broker=True,
        pool="prefork",
        concurrency=2,
        extra_env={"TELEGRAM_API_BASE": sandbox_api_base(live_server.url), **extra_env},
    )


@pytest.fixture
def celery_worker_process(live_server: LiveServer, tmp_path: Path) -> Iterator[WorkerProcess]:
    worker = _outbox_worker(tmp_path, live_server)
    worker.start()
    try:
        yield worker
    finally:
        worker.stop()


def _all_sent() -> bool:
    return not OutboundMessage.objects.exclude(status=OutboundMessage.Status.SENT).exists()


def test_a_real_worker_sends_every_queued_message_once_in_order(
    shop_bot: SandboxBot, celery_worker_process: WorkerProcess
) -> None:
    users = [sandbox_user(f"Reader {i}") for i in range(5)]
    for step in range(3):
        for user in users:
            outbox_enqueue(
                token=shop_bot.token, chat_id=user, method="sendMessage", params={"text": f"news {step}"}
            )
    celery_worker_process.wait_for(_all_sent, timeout=60, what="every queued message sent")
    for user in users:
        assert [m["text"] for m in sandbox_messages(user, shop_bot)] == ["news 0", "news 1", "news 2"]


def test_a_worker_killed_mid_run_is_taken_over_by_the_next_one_at_once(
    shop_bot: SandboxBot, live_server: LiveServer, tmp_path: Path
) -> None:
    users = [sandbox_user(f"Reader {i}") for i in range(24)]
    # A slow bot (8 messages/s) so the worker is surely mid-run when it dies.
    first = _outbox_worker(
        tmp_path / "first", live_server, TELEGRAM_PACING="true", TELEGRAM_LIMIT_PER_BOT="8"
    )
    first.start()
    try:
        for user in users:
            outbox_enqueue(token=shop_bot.token, chat_id=user, method="sendMessage", params={"text": "hello"})
        first.wait_for(
            lambda: (
                OutboundMessage.objects.filter(status=OutboundMessage.Status.SENT).count() >= 4
                and OutboundMessage.objects.filter(status=OutboundMessage.Status.SENDING).exists()
            ),
            timeout=30,
            what="the first worker in the middle of sending",
        )
    finally:
        # SIGKILL to the worker and its pool: no warm shutdown; in-flight work and wake-ups are lost.
        first.kill()
    assert not first.running
    assert OutboundMessage.objects.filter(status=OutboundMessage.Status.SENDING).exists()  # died mid-send
    second = _outbox_worker(tmp_path / "second", live_server)
    # Starting drops the wake-ups the first worker left in the broker. The rows the first worker was
    # sending name its dead processes: the second takes them back as it starts, long before the
    # sweeper's staleness cutoff (minutes; no sweeper runs here).
    second.start()
    try:
        second.wait_for(_all_sent, timeout=30, what="every message sent after the restart")
    finally:
        second.stop()
    counts = [len(sandbox_messages(user, shop_bot)) for user in users]
    assert min(counts) == 1  # nothing lost
    # A message in flight when the worker died may have reached Telegram already; at most those repeat.
    assert sum(counts) - len(users) <= 2
