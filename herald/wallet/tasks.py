"""Thin Celery entry points: each takes ids, calls one service, and is safe to run twice."""

from __future__ import annotations

from typing import Any

from celery import shared_task

from herald.wallet import services


@shared_task(bind=True, name="herald.wallet.tasks.activation_run_task", ignore_result=True)
def activation_run_task(self: Any, transaction_id: str) -> None:
    """One attempt at the activation system; a transient failure schedules the next with backoff.
    The attempt count lives on the transaction row, so retries survive a lost message (the sweeper)."""
    outcome = services.activation_attempt(transaction_id=transaction_id)
    if outcome.retry_in is not None:
        activation_run_task.apply_async((transaction_id,), countdown=outcome.retry_in)


@shared_task(name="herald.wallet.tasks.activation_sweep_task", ignore_result=True)
def activation_sweep_task() -> int:
    return services.activation_sweep()


@shared_task(name="herald.wallet.tasks.partner_callback_deliver_task", ignore_result=True)
def partner_callback_deliver_task(callback_id: int) -> None:
    retry_in = services.partner_callback_deliver(callback_id=callback_id)
    if retry_in is not None:
        partner_callback_deliver_task.apply_async((callback_id,), countdown=retry_in)


@shared_task(name="herald.wallet.tasks.subscriptions_expiring_task", ignore_result=True)
def subscriptions_expiring_task() -> int:
    return services.subscriptions_expiring_process()
