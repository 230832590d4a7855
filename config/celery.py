"""The Celery application; tasks live in each app's `tasks.py` and are found by autodiscovery."""

from __future__ import annotations

import os

from celery import Celery
from celery.signals import worker_process_init, worker_ready
from kombu.transport import TRANSPORT_ALIASES

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
# the embedded broker: kombu's filesystem transport with whole-file writes (see herald/core/broker.py)
TRANSPORT_ALIASES["filesystem"] = "herald.core.broker:Transport"

app = Celery("herald")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_ready.connect
@worker_process_init.connect  # a child of the prefork pool
def _freeze_startup_objects(**kwargs: object) -> None:
    from herald.core.startup import freeze_startup_objects

    freeze_startup_objects()
