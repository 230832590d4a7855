"""Thin Celery entry point: send one delivery, retrying transient transport errors with backoff.

The attempt count lives on the delivery row, so the retry schedule survives a lost message.
"""

from __future__ import annotations

import random

from celery import shared_task

from herald.notify.services import deliveries_sweep, delivery_send


@shared_task(name="herald.notify.tasks.delivery_send_task", ignore_result=True)
def delivery_send_task(delivery_id: int) -> None:
    outcome = delivery_send(delivery_id=delivery_id)
    if outcome.retry:
        countdown = min(600.0, 5.0 * 2 ** max(outcome.attempts - 1, 0)) * random.uniform(0.8, 1.2)  # noqa: S311
        delivery_send_task.apply_async((delivery_id,), countdown=countdown)


@shared_task(name="herald.notify.tasks.deliveries_sweep_task", ignore_result=True)
def deliveries_sweep_task() -> int:
    return deliveries_sweep()
