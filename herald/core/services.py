"""Writes owned by the core app: the worker heartbeat."""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone

from herald.core.models import WorkerHeartbeat


def worker_heartbeat_record(*, hostname: str, seen_at: datetime | None = None) -> WorkerHeartbeat:
    """Marks ``hostname`` as alive now (one row per worker, updated in place so the table stays small)."""
    heartbeat, _ = WorkerHeartbeat.objects.update_or_create(
        hostname=hostname, defaults={"seen_at": seen_at or timezone.now()}
    )
    return heartbeat
