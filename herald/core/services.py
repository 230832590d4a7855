"""Writes owned by the core app: the worker heartbeat."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.utils import timezone

from herald.core.models import WorkerHeartbeat

# workers in containers get a new host name on every restart; forget the ones gone this long
WORKER_HEARTBEAT_RETENTION = timedelta(days=7)


def worker_heartbeat_record(*, hostname: str, seen_at: datetime | None = None) -> WorkerHeartbeat:
    """Marks ``hostname`` as alive (one row per worker, updated in place) and drops long-gone workers."""
    seen_at = seen_at or timezone.now()
    heartbeat, _ = WorkerHeartbeat.objects.update_or_create(hostname=hostname, defaults={"seen_at": seen_at})
    WorkerHeartbeat.objects.filter(seen_at__lt=seen_at - WORKER_HEARTBEAT_RETENTION).delete()
    return heartbeat
