"""A real `celery worker` process consumes core tasks from the configured broker and writes to the DB."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from django.test import Client

from herald.core.models import WorkerHeartbeat
from tests.worker_process import WorkerProcess

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def worker(tmp_path: Path) -> Iterator[WorkerProcess]:
    process = WorkerProcess(tmp_path)
    process.start()
    yield process
    # stopped before pytest-django flushes the tables the worker has open
    process.stop()


def test_real_worker_records_heartbeat_that_health_reports(worker: WorkerProcess, client: Client) -> None:
    before = client.get("/health").json()["worker"]
    assert before == {"hostname": None, "last_seen": "never", "last_seen_seconds_ago": None, "stale": True}

    worker.send("herald.core.tasks.worker_heartbeat")

    worker.wait_for(
        lambda: WorkerHeartbeat.objects.filter(hostname=worker.nodename).exists(),
        what="the heartbeat row written by the worker",
    )
    after = client.get("/health")
    assert after.status_code == 200
    report = after.json()["worker"]
    assert report["hostname"] == worker.nodename
    assert report["stale"] is False
    assert report["last_seen_seconds_ago"] <= 5
    assert report["last_seen"] == f"{report['last_seen_seconds_ago']} s ago"


def test_tasks_queued_before_the_worker_starts_are_all_run(tmp_path: Path) -> None:
    worker = WorkerProcess(tmp_path)
    for _ in range(3):
        worker.send("herald.core.tasks.worker_heartbeat")
    first_seen = WorkerHeartbeat.objects.filter(hostname=worker.nodename)
    assert not first_seen.exists()

    worker.start()
    try:
        worker.wait_for(first_seen.exists, what="the heartbeat row")
        # the queue drains: no task stays behind in the broker
        worker.wait_for(lambda: not _pending_messages(worker), what="an empty queue")
    finally:
        worker.stop()
    assert WorkerHeartbeat.objects.filter(hostname=worker.nodename).count() == 1


def _pending_messages(worker: WorkerProcess) -> int:
    with worker.broker_connection() as conn:
        # not passive: Redis forgets a queue once it is empty, and declaring an existing queue is a no-op
        return int(conn.default_channel.queue_declare(queue=worker.queue).message_count)
