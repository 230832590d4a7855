"""Celery entry points of the bots app: thin, taking ids, safe to run twice."""

from __future__ import annotations

from celery import shared_task

from herald.bots import processing


@shared_task(name="bots.update_process", acks_late=True)
def bot_update_process_task(update_pk: int) -> None:
    processing.update_process(update_pk=update_pk)


@shared_task(name="bots.updates_process", acks_late=True)
def bot_updates_process_task(update_pks: list[int]) -> None:
    processing.updates_process(update_pks=update_pks)


@shared_task(name="bots.updates_sweep")
def bot_updates_sweep_task() -> int:
    return processing.updates_sweep()
