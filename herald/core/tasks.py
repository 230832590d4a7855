"""Core periodic tasks: the worker heartbeat that beat schedules every 30 s."""

from __future__ import annotations

import socket
from typing import Any

from celery import shared_task

from herald.core.services import worker_heartbeat_record


@shared_task(bind=True, name="herald.core.tasks.worker_heartbeat", ignore_result=True)
def worker_heartbeat(self: Any) -> None:
    # request.hostname is the worker's node name ("worker@host"); it is empty when run eagerly
    worker_heartbeat_record(hostname=self.request.hostname or socket.gethostname())
