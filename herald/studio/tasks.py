"""Celery entry points of the studio: thin, taking ids, safe to run twice."""

from __future__ import annotations

from typing import Any

from celery import shared_task

from herald.studio import delivery, writer


@shared_task(name="studio.post_generate", acks_late=True)
def studio_generate_task(session_pk: int, post_id: int, nonce: str, message_id: int | None) -> None:
    writer.post_generation_run(session_pk=session_pk, post_id=post_id, nonce=nonce, message_id=message_id)


@shared_task(name="studio.weekly_chart", bind=True, acks_late=True, max_retries=5)
def studio_weekly_chart_task(self: Any, studio_pk: int, chat_id: int, key: str) -> None:
    delivery.run_with_retry(self, delivery.weekly_chart_send, studio_pk=studio_pk, chat_id=chat_id, key=key)


@shared_task(name="studio.export", bind=True, acks_late=True, max_retries=5)
def studio_export_task(self: Any, studio_pk: int, chat_id: int, fmt: str, key: str) -> None:
    delivery.run_with_retry(
        self, delivery.export_send, studio_pk=studio_pk, chat_id=chat_id, fmt=fmt, key=key
    )
