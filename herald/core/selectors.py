"""Reads owned by the core app: when a worker was last seen."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils import timezone

from herald.core.models import WorkerHeartbeat

# beat schedules the heartbeat every 30 s; three missed beats mean no worker is consuming tasks
WORKER_STALE_AFTER_SECONDS = 90


@dataclass(frozen=True)
class WorkerStatus:
    hostname: str | None
    last_seen_seconds_ago: int | None

    @property
    def stale(self) -> bool:
        return self.last_seen_seconds_ago is None or self.last_seen_seconds_ago > WORKER_STALE_AFTER_SECONDS


def worker_status_latest() -> WorkerStatus:
    """The most recently seen worker, or an empty status when no worker has ever run the heartbeat."""
    heartbeat = WorkerHeartbeat.objects.order_by("-seen_at").first()
    if heartbeat is None:
        return WorkerStatus(hostname=None, last_seen_seconds_ago=None)
    age = max(0, int((timezone.now() - heartbeat.seen_at).total_seconds()))
    return WorkerStatus(hostname=heartbeat.hostname, last_seen_seconds_ago=age)
