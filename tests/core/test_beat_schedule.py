"""Celery beat's periodic tasks: each names a real task and lands in the database scheduler's tables."""

from __future__ import annotations

import pytest
from django.conf import settings
from django_celery_beat.models import PeriodicTask
from django_celery_beat.schedulers import DatabaseScheduler

from config.celery import app


def test_every_scheduled_task_exists() -> None:
    app.loader.import_default_modules()
    unknown = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()} - set(app.tasks)
    assert not unknown, f"beat schedules tasks that do not exist: {unknown}"


@pytest.mark.django_db(transaction=True)  # the scheduler closes its database connection
def test_beat_installs_the_schedule_in_the_database() -> None:
    DatabaseScheduler(app=app, lazy=False)
    installed = {
        task.name: (task.task, task.interval.every, task.interval.period)
        for task in PeriodicTask.objects.select_related("interval").exclude(interval=None)
    }
    assert installed["telegram.outbox_sweep"] == ("herald.telegram.tasks.outbox_sweep_task", 30, "seconds")
    assert installed["core.worker_heartbeat"] == ("herald.core.tasks.worker_heartbeat", 30, "seconds")
