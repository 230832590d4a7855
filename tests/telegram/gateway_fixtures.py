"""Fixtures for gateway tests: the gateway pointed at the sandbox on a live server, eager Celery, and a
recorder for the outbox signals (made visible by ``tests/telegram/conftest.py``)."""

from __future__ import annotations

import struct
import time
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from pytest_django.fixtures import Settings as SettingsWrapper
from pytest_django.live_server_helper import LiveServer

from config.celery import app as celery_app
from herald.telegram.models import OutboundMessage
from herald.telegram.signals import outbox_chat_migrated, outbox_message_failed, outbox_message_sent
from herald.telegram.tasks import outbox_send_task
from tests.telegram.sandbox.helpers import sandbox_api_base, sandbox_file_base


@pytest.fixture
def gateway(live_server: LiveServer, settings: SettingsWrapper) -> str:
    """The gateway talks to this test's live sandbox; pacing is off unless a test turns it on."""
    settings.TELEGRAM_API_BASE = sandbox_api_base(live_server.url)
    settings.TELEGRAM_FILE_BASE = sandbox_file_base(live_server.url)
    settings.TELEGRAM_PACING = False
    settings.RATE_LIMIT_BACKEND = "database"
    return live_server.url


@pytest.fixture
def eager_tasks() -> Iterator[None]:
    """Celery tasks run in the test as they are enqueued (countdowns are ignored, as eager Celery does)."""
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = previous


@dataclass
class OutboxEvents:
    sent: list[OutboundMessage] = field(default_factory=list)
    failed: list[tuple[OutboundMessage, bool]] = field(default_factory=list)
    migrated: list[tuple[str, str]] = field(default_factory=list)


@pytest.fixture
def outbox_events() -> Iterator[OutboxEvents]:
    events = OutboxEvents()

    def on_sent(message: OutboundMessage, **_: Any) -> None:
        events.sent.append(message)

    def on_failed(message: OutboundMessage, permanent: bool, **_: Any) -> None:
        events.failed.append((message, permanent))

    def on_migrated(old_chat_id: str, new_chat_id: str, **_: Any) -> None:
        events.migrated.append((old_chat_id, new_chat_id))

    outbox_message_sent.connect(on_sent, dispatch_uid="test-sent")
    outbox_message_failed.connect(on_failed, dispatch_uid="test-failed")
    outbox_chat_migrated.connect(on_migrated, dispatch_uid="test-migrated")
    yield events
    outbox_message_sent.disconnect(dispatch_uid="test-sent")
    outbox_message_failed.disconnect(dispatch_uid="test-failed")
    outbox_chat_migrated.disconnect(dispatch_uid="test-migrated")


def drain_outbox(*, timeout: float = 20.0) -> None:
    """Play the broker's part for wake-ups with a countdown: run the task for each row once it is due."""
    deadline = time.monotonic() + timeout
    while OutboundMessage.objects.filter(status__in=OutboundMessage.OPEN_STATUSES).exists():
        if time.monotonic() > deadline:
            raise AssertionError("outbox rows still open after the timeout")
        from django.utils import timezone

        due = OutboundMessage.objects.filter(
            status=OutboundMessage.Status.PENDING, next_attempt_at__lte=timezone.now()
        ).order_by("pk")
        for pk in due.values_list("pk", flat=True):
            outbox_send_task.apply(args=(pk,))
        time.sleep(0.05)


def tiny_png() -> bytes:
    """A valid 2x2 PNG, to upload media to the sandbox."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + b"\x00\x80\xff" * 2 for _ in range(2))
    header = struct.pack(">IIBBBBB", 2, 2, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )
