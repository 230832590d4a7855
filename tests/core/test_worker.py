"""A real `celery worker` process consumes core tasks from the configured broker and writes to the DB."""

from __future__ import annotations

import socket
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client

from herald.core.models import WorkerHeartbeat
from herald.core.tasks import worker_heartbeat
from tests.worker_process import WorkerProcess

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def worker(tmp_path: Path) -> Iterator[WorkerProcess]:
    process = WorkerProcess(tmp_path, extra_env={"HERALD_WORKER_METRICS_PORT": str(free_port())})
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

    # the worker serves its own task counters, for deployments where it runs without a web process
    port = worker.extra_env["HERALD_WORKER_METRICS_PORT"]
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        metrics = response.read().decode()
    assert (
        'herald_celery_tasks_total{outcome="success",task="herald.core.tasks.worker_heartbeat"} 1.0'
        in metrics
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


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


def test_tasks_enqueued_by_the_code_reach_a_real_worker(tmp_path: Path) -> None:
    worker = WorkerProcess(tmp_path, shared_broker=True)
    worker.start()
    try:
        worker_heartbeat.delay()  # the way beat and services enqueue: the configured broker, default queue
        worker.wait_for(
            WorkerHeartbeat.objects.filter(hostname=worker.nodename).exists,
            what="the heartbeat row of a task enqueued with .delay()",
        )
    finally:
        worker.stop()


def _pending_messages(worker: WorkerProcess) -> int:
    with worker.broker_connection() as conn:
        # not passive: Redis forgets a queue once it is empty, and declaring an existing queue is a no-op
        return int(conn.default_channel.queue_declare(queue=worker.queue).message_count)


@pytest.mark.skipif(
    settings.CELERY_BROKER_URL.startswith("filesystem://"),
    reason="the embedded filesystem broker deletes a message when a worker takes it, so a task whose "
    "worker is SIGKILLed is lost there (the outbox sweeper re-drives such sends); Redis keeps it",
)
def test_task_of_a_killed_worker_runs_again_after_restart(tmp_path: Path) -> None:
    first = _worker_with_slow_task(tmp_path / "first")
    marker = first.queue
    started = WorkerHeartbeat.objects.filter(hostname=f"{marker}:started")
    finished = WorkerHeartbeat.objects.filter(hostname=f"{marker}:finished")
    first.send("tests.core.slow_marked_task", marker, 4.0)
    first.start()
    try:
        first.wait_for(started.exists, what="the task starting on the first worker")
    finally:
        first.kill()
    assert not finished.exists()

    time.sleep(2.5)  # past the visibility timeout, so the next worker finds the task abandoned
    second = _worker_with_slow_task(tmp_path / "second", queue=first.queue)
    second.start()
    try:
        second.wait_for(finished.exists, timeout=25, what="the task finishing on the restarted worker")
    finally:
        second.stop()


def _worker_with_slow_task(data_dir: Path, *, queue: str | None = None) -> WorkerProcess:
    return WorkerProcess(
        data_dir,
        queue=queue,
        include=("tests.core.worker_tasks",),
        # Redis hands out an unacknowledged task again after this many seconds (an hour by default)
        extra_env={"CELERY_BROKER_VISIBILITY_TIMEOUT": "2"},
    )
