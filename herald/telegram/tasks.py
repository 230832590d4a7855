"""Celery entry points of the gateway: thin, taking ids, safe to run twice."""

from __future__ import annotations

from typing import Any

from celery import shared_task
from celery.signals import worker_ready
from django.db import DatabaseError

from herald.telegram.services import outbox_drain, outbox_send, outbox_sweep, outbox_wake_due


@shared_task(
    acks_late=True,
    ignore_result=True,
    autoretry_for=(DatabaseError,),
    retry_backoff=2,
    retry_backoff_max=60,
    retry_jitter=True,
    max_retries=5,
)
def outbox_send_task(message_id: int) -> None:
    outbox_send(message_id=message_id)


@shared_task(ignore_result=True)
def outbox_sweep_task() -> int:
    return outbox_sweep()


@shared_task(
    acks_late=True,
    ignore_result=True,
    autoretry_for=(DatabaseError,),
    retry_backoff=2,
    retry_backoff_max=60,
    retry_jitter=True,
    max_retries=5,
)
def outbox_drain_task(bot_fingerprint: str) -> None:
    outbox_drain(bot_fingerprint=bot_fingerprint)


@shared_task(ignore_result=True)
def outbox_wake_due_task() -> int:
    return outbox_wake_due()


@worker_ready.connect(dispatch_uid="telegram-outbox-wake-on-start")
def _wake_due_on_start(**_: Any) -> None:
    outbox_wake_due_task.delay()
