"""Tasks loaded only into test workers (``--include``): slow enough to kill a worker in the middle of one."""

from __future__ import annotations

import time

from celery import shared_task

from herald.core.services import worker_heartbeat_record


@shared_task(name="tests.core.slow_marked_task", ignore_result=True)
def slow_marked_task(marker: str, seconds: float) -> None:
    # rows named after the marker show how far each run got
    worker_heartbeat_record(hostname=f"{marker}:started")
    time.sleep(seconds)
    worker_heartbeat_record(hostname=f"{marker}:finished")
