"""Celery entry points of the content app: thin, taking ids, safe to run twice."""

from __future__ import annotations

from typing import Any

from celery import shared_task
from celery.signals import worker_ready
from django.db import DatabaseError

from herald.content import services


@shared_task(
    name="content.post_publish",
    acks_late=True,
    ignore_result=True,
    autoretry_for=(DatabaseError,),
    retry_backoff=1,
    retry_backoff_max=30,
    retry_jitter=True,
    max_retries=5,
)
def post_publish_task(post_id: int) -> None:
    services.post_publish(post_id=post_id)


@shared_task(name="content.posts_due_sweep", ignore_result=True)
def posts_due_sweep_task(worker_started: bool = False) -> int:
    return services.posts_due_sweep(worker_started=worker_started)


@shared_task(name="content.posts_archive", ignore_result=True)
def posts_archive_task() -> int:
    return services.posts_archive()


@worker_ready.connect(dispatch_uid="content-sweep-on-start")
def _sweep_on_start(**_: Any) -> None:
    # A worker that died took the wake-ups it held (posts due at their exact time) with it: a fresh
    # worker looks at once instead of at the next minute's sweep.
    posts_due_sweep_task.delay(worker_started=True)
