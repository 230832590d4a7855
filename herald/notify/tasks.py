"""Thin Celery entry point: send one delivery, retrying transient transport errors with backoff."""

from __future__ import annotations

import random
from typing import Any

from celery import shared_task

from herald.notify.services import delivery_send


@shared_task(bind=True, name="herald.notify.tasks.delivery_send_task", ignore_result=True, max_retries=8)
def delivery_send_task(self: Any, delivery_id: int) -> None:
    outcome = delivery_send(delivery_id=delivery_id)
    if outcome.retry:
        countdown = min(600.0, 5.0 * 2**self.request.retries) * random.uniform(0.8, 1.2)  # noqa: S311
        raise self.retry(countdown=countdown)
